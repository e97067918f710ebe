//! The identity services against a real database (SQLite by default; PostgreSQL when
//! GRANARY_TEST_DATABASE_URL is set): accounts and sign-in, throttling, sessions, one-time
//! tokens, invitations, API tokens, organizations and members, the principal, the audit log
//! and the email outbox.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Mutex;

use chrono::{DateTime, Duration, TimeZone, Utc};
use granary_core::audit;
use granary_core::error::{Classify, ErrorKind};
use granary_core::id::{OrganizationId, UserId};
use granary_core::policy::{Membership, OrgKind, Principal, Role, Scope};
use granary_core::testing::TestDb;
use granary_core::{Actor, Money};
use granary_identity::*;
use sea_orm::{ConnectionTrait, DbBackend, Statement};

const PW: &str = "correct horse battery staple";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 15, 0, 0).unwrap()
}

fn admin() -> Actor {
    Actor::cli("test-admin")
}

fn ip(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, last))
}

async fn user(t: &TestDb, email: &str, name: &str) -> User {
    create_user(&t.db, &admin(), NewUser::parse(email, name, PW).unwrap(), t0())
        .await
        .unwrap()
}

fn community(name: &str) -> NewOrganization {
    NewOrganization {
        kind: OrgKind::CommunityOrganization,
        profile: OrganizationProfile {
            name: name.into(),
            ..Default::default()
        },
    }
}

/// Every value of one text column.
async fn column(t: &TestDb, sql: &str, col: &str) -> Vec<String> {
    t.db.query_all_raw(Statement::from_string(t.db.get_database_backend(), sql))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.try_get::<String>("", col).unwrap())
        .collect()
}

/// Before and after of every audit entry, as one text per entry.
async fn audit_texts(t: &TestDb) -> Vec<String> {
    let rows =
        t.db.query_all_raw(Statement::from_string(
            t.db.get_database_backend(),
            "SELECT action, before_json, after_json FROM audit_log ORDER BY seq",
        ))
        .await
        .unwrap();
    rows.into_iter()
        .map(|r| {
            let action: String = r.try_get("", "action").unwrap();
            let before: Option<String> = r.try_get("", "before_json").unwrap();
            let after: Option<String> = r.try_get("", "after_json").unwrap();
            format!("{action} {} {}", before.unwrap_or_default(), after.unwrap_or_default())
        })
        .collect()
}

async fn audit_actions(t: &TestDb) -> Vec<String> {
    column(t, "SELECT action FROM audit_log ORDER BY seq", "action").await
}

#[tokio::test]
async fn migrations_go_down_and_up_again() {
    use granary_migrations::MigratorTrait;
    let t = TestDb::empty().await;
    let schema = t.schema_connection().await;
    // Up to the identity migration (the second), then undo it alone.
    granary_migrations::Migrator::up(&schema, Some(2)).await.unwrap();
    granary_migrations::Migrator::down(&schema, Some(1)).await.unwrap();
    let left = column(
        &t,
        match t.db.get_database_backend() {
            DbBackend::Postgres => {
                "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'"
            }
            _ => "SELECT name FROM sqlite_master WHERE type = 'table'",
        },
        "name",
    )
    .await;
    assert!(left.contains(&"organizations".to_string()), "{left:?}");
    assert!(!left.contains(&"users".to_string()), "{left:?}");
    granary_migrations::Migrator::down(&schema, None).await.unwrap();
    granary_migrations::Migrator::up(&schema, None).await.unwrap();
    let u = user(&t, "ana@example.org", "Ana").await;
    assert_eq!(get_user(&t.db, u.id).await.unwrap(), u);
}

#[tokio::test]
async fn email_addresses_are_unique_whatever_their_case() {
    let t = TestDb::new().await;
    let ana = user(&t, "  Ana.Lopez@Example.ORG ", "Ana López").await;
    assert_eq!(ana.email.as_str(), "ana.lopez@example.org");
    assert_eq!(ana.display_name, "Ana López");
    assert!(!ana.email_verified() && !ana.is_site_admin && !ana.is_disabled());

    let again = NewUser::parse("ANA.LOPEZ@example.org", "Other Ana", PW).unwrap();
    let err = create_user(&t.db, &admin(), again, t0()).await.unwrap_err();
    assert!(matches!(err, IdentityError::DuplicateEmail), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert_eq!(err.field_errors()[0].field, "email");

    let found = find_user_by_email(&t.db, &EmailAddress::parse("ANA.lopez@EXAMPLE.org").unwrap())
        .await
        .unwrap()
        .expect("found whatever the case");
    assert_eq!(found.id, ana.id);
    assert!(
        find_user_by_email(&t.db, &EmailAddress::parse("bo@example.org").unwrap())
            .await
            .unwrap()
            .is_none()
    );

    // The database itself refuses a second row for the address, and a mixed-case one.
    let backend = t.db.get_database_backend();
    for (email, accepted) in [
        ("ana.lopez@example.org", false),
        ("Zed@Example.org", false),
        ("zed@example.org", true),
    ] {
        let sql = format!(
            "INSERT INTO users (id, email, display_name, password_hash, is_site_admin, created_at, updated_at) \
             VALUES ('{}', '{email}', 'X', 'x', {}, '2026-11-23T15:00:00Z', '2026-11-23T15:00:00Z')",
            uuid::Uuid::now_v7(),
            if backend == DbBackend::Postgres { "false" } else { "0" },
        );
        let result = t.db.execute_unprepared(&sql).await;
        assert_eq!(result.is_ok(), accepted, "{email}: {result:?}");
    }

    // A sign-up form names every wrong field at once.
    let errors = NewUser::parse("nope", "  ", "short").unwrap_err();
    for field in ["email", "display_name", "password"] {
        assert!(errors.for_field(field).is_some(), "{field}: {errors}");
    }
}

#[tokio::test]
async fn passwords_are_stored_only_as_argon2id_hashes() {
    let t = TestDb::new().await;
    let a = user(&t, "ana@example.org", "Ana").await;
    let b = user(&t, "bo@example.org", "Bo").await;
    let hashes = column(&t, "SELECT password_hash FROM users ORDER BY email", "password_hash").await;
    assert_eq!(hashes.len(), 2);
    for h in &hashes {
        assert!(h.starts_with("$argon2id$v=19$"), "{h}");
        assert_ne!(h, PW);
        assert!(!h.contains(PW));
    }
    assert_ne!(hashes[0], hashes[1], "each hash has its own salt");
    // The User type carries no hash at all.
    let shown = format!("{a:?} {}", serde_json::to_string(&b).unwrap());
    assert!(!shown.contains("argon2") && !shown.contains(PW), "{shown}");
}

#[tokio::test]
async fn sign_in_failures_all_look_the_same() {
    let t = TestDb::new().await;
    let ana = user(&t, "ana@example.org", "Ana").await;
    let ok = authenticate(&t.db, " ANA@example.org ", PW, ip(1), t0()).await.unwrap();
    assert_eq!(ok.id, ana.id);

    let wrong = authenticate(&t.db, "ana@example.org", "not the password", ip(1), t0())
        .await
        .unwrap_err();
    let unknown = authenticate(&t.db, "nobody@example.org", PW, ip(1), t0())
        .await
        .unwrap_err();
    let malformed = authenticate(&t.db, "not an address", PW, ip(1), t0())
        .await
        .unwrap_err();
    set_disabled(&t.db, &admin(), ana.id, true, t0()).await.unwrap();
    let disabled = authenticate(&t.db, "ana@example.org", PW, ip(1), t0())
        .await
        .unwrap_err();
    for e in [&wrong, &unknown, &malformed, &disabled] {
        assert!(matches!(e, IdentityError::InvalidCredentials), "{e:?}");
        assert_eq!(e.to_string(), wrong.to_string());
        assert_eq!(e.kind(), ErrorKind::Forbidden);
    }
    set_disabled(&t.db, &admin(), ana.id, false, t0()).await.unwrap();
    authenticate(&t.db, "ana@example.org", PW, ip(1), t0()).await.unwrap();

    // Every attempt is recorded under the lower-cased address.
    let attempts = column(&t, "SELECT email FROM sign_in_attempts", "email").await;
    assert_eq!(attempts.len(), 6);
    assert_eq!(attempts.iter().filter(|e| *e == "ana@example.org").count(), 4);
}

#[tokio::test]
async fn five_failures_lock_an_account_for_fifteen_minutes() {
    let t = TestDb::new().await;
    let ana = user(&t, "ana@example.org", "Ana").await;
    user(&t, "bo@example.org", "Bo").await;
    for i in 0..5 {
        let e = authenticate(
            &t.db,
            "ana@example.org",
            "wrong guess 1234",
            ip(1),
            t0() + Duration::seconds(i),
        )
        .await
        .unwrap_err();
        assert!(matches!(e, IdentityError::InvalidCredentials), "try {i}: {e:?}");
    }
    // Locked, even with the right password, until the first failure is 15 minutes old.
    let now = t0() + Duration::seconds(10);
    match authenticate(&t.db, "ana@example.org", PW, ip(2), now).await {
        Err(e @ IdentityError::Throttled { .. }) => {
            let IdentityError::Throttled { retry_after_seconds } = e else {
                unreachable!()
            };
            assert_eq!(retry_after_seconds, 15 * 60 - 10);
            assert_eq!(e.kind(), ErrorKind::Conflict);
        }
        other => panic!("expected Throttled, got {other:?}"),
    }
    // Refused tries do not extend the lock; other accounts are not locked.
    let just_before = t0() + Duration::minutes(15) - Duration::seconds(1);
    assert!(matches!(
        authenticate(&t.db, "ana@example.org", PW, ip(2), just_before).await,
        Err(IdentityError::Throttled { retry_after_seconds: 1 })
    ));
    authenticate(&t.db, "bo@example.org", PW, ip(1), now).await.unwrap();

    // Once the first failure has aged out, the right password works again.
    let later = t0() + Duration::minutes(15);
    let ok = authenticate(&t.db, "ana@example.org", PW, ip(1), later).await.unwrap();
    assert_eq!(ok.id, ana.id);
    // The success did not erase the four failures still in the window: one more locks,
    // until the oldest of them (at t0 + 1s) is 15 minutes old.
    authenticate(&t.db, "ana@example.org", "wrong guess 1234", ip(1), later)
        .await
        .unwrap_err();
    let e = authenticate(&t.db, "ana@example.org", PW, ip(1), later)
        .await
        .unwrap_err();
    assert!(
        matches!(e, IdentityError::Throttled { retry_after_seconds: 1 }),
        "{e:?}"
    );
    authenticate(&t.db, "ana@example.org", PW, ip(1), later + Duration::seconds(1))
        .await
        .unwrap();
}

#[tokio::test]
async fn twenty_failures_lock_a_network_address() {
    let t = TestDb::new().await;
    user(&t, "ana@example.org", "Ana").await;
    // Someone tries many addresses from one network address, each only once.
    for i in 0..20 {
        let e = authenticate(
            &t.db,
            &format!("guess{i}@example.org"),
            "password123456",
            ip(66),
            t0() + Duration::seconds(i),
        )
        .await
        .unwrap_err();
        assert!(matches!(e, IdentityError::InvalidCredentials), "try {i}: {e:?}");
    }
    let now = t0() + Duration::minutes(1);
    let e = authenticate(&t.db, "ana@example.org", PW, ip(66), now)
        .await
        .unwrap_err();
    assert!(
        matches!(e, IdentityError::Throttled { retry_after_seconds } if retry_after_seconds == 14 * 60),
        "{e:?}"
    );
    // The account itself is fine from elsewhere, and the address recovers after the window.
    authenticate(&t.db, "ana@example.org", PW, ip(7), now).await.unwrap();
    authenticate(&t.db, "ana@example.org", PW, ip(66), t0() + Duration::minutes(16))
        .await
        .unwrap();
}

#[tokio::test]
async fn sessions_expire_when_idle_or_old_and_end_on_sign_out() {
    let t = TestDb::new().await;
    let ana = user(&t, "ana@example.org", "Ana").await;
    let (s, token) = create_session(&t.db, ana.id, Some(ip(1)), Some("Firefox"), t0())
        .await
        .unwrap();
    assert_eq!(token.len(), 43);
    assert_eq!(s.expires_at, t0() + Duration::days(30));
    assert_eq!(
        (s.ip.as_deref(), s.user_agent.as_deref()),
        (Some("192.0.2.1"), Some("Firefox"))
    );
    // Only the SHA-256 of the token is stored.
    let stored = column(&t, "SELECT token_hash FROM sessions", "token_hash").await;
    assert_eq!(stored, vec![token_hash(&token)]);
    assert!(!stored[0].contains(&token));

    let (seen, who) = session_user(&t.db, &token, t0() + Duration::seconds(30))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(who.id, ana.id);
    assert_eq!(seen.last_seen_at, t0(), "not written again within a minute");
    let (seen, _) = session_user(&t.db, &token, t0() + Duration::minutes(2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seen.last_seen_at, t0() + Duration::minutes(2));
    assert!(session_user(&t.db, "made-up-token", t0()).await.unwrap().is_none());

    // Idle for 7 days: over.
    let idle_end = t0() + Duration::minutes(2) + Duration::days(7);
    assert!(
        session_user(&t.db, &token, idle_end - Duration::seconds(1))
            .await
            .unwrap()
            .is_some()
    );
    let (s2, token2) = create_session(&t.db, ana.id, None, None, t0()).await.unwrap();
    assert!(
        session_user(&t.db, &token2, t0() + Duration::days(7))
            .await
            .unwrap()
            .is_none()
    );

    // Used every 6 days, a session still ends 30 days after it began.
    let (_, token3) = create_session(&t.db, ana.id, None, None, t0()).await.unwrap();
    for day in [6, 12, 18, 24] {
        assert!(
            session_user(&t.db, &token3, t0() + Duration::days(day))
                .await
                .unwrap()
                .is_some(),
            "day {day}"
        );
    }
    assert!(
        session_user(&t.db, &token3, t0() + Duration::days(29) + Duration::hours(23))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        session_user(&t.db, &token3, t0() + Duration::days(30))
            .await
            .unwrap()
            .is_none()
    );

    let active = sessions_of(&t.db, ana.id, t0() + Duration::days(1)).await.unwrap();
    assert!(active.iter().any(|x| x.id == s.id) && active.iter().any(|x| x.id == s2.id));

    // Signing out ends one session; a disabled account has none; signing out everywhere.
    assert!(end_session(&t.db, &token, t0()).await.unwrap());
    assert!(!end_session(&t.db, &token, t0()).await.unwrap());
    assert!(session_user(&t.db, &token, t0()).await.unwrap().is_none());
    let (_, token4) = create_session(&t.db, ana.id, None, None, t0()).await.unwrap();
    let ended = end_all_sessions(&t.db, &ana.actor(), ana.id, t0()).await.unwrap();
    assert_eq!(ended, 3);
    assert!(session_user(&t.db, &token4, t0()).await.unwrap().is_none());

    let (_, token5) = create_session(&t.db, ana.id, None, None, t0()).await.unwrap();
    set_disabled(&t.db, &admin(), ana.id, true, t0()).await.unwrap();
    assert!(session_user(&t.db, &token5, t0()).await.unwrap().is_none());
    assert!(matches!(
        create_session(&t.db, ana.id, None, None, t0()).await,
        Err(IdentityError::InvalidCredentials)
    ));
    let actions = audit_actions(&t).await;
    assert!(actions.contains(&"user.signed_in".to_string()));
    assert!(actions.contains(&"user.signed_out".to_string()));
    assert!(actions.contains(&"user.signed_out_everywhere".to_string()));
}

#[tokio::test]
async fn changing_the_password_ends_every_session() {
    let t = TestDb::new().await;
    let ana = user(&t, "ana@example.org", "Ana").await;
    let (_, phone) = create_session(&t.db, ana.id, None, Some("phone"), t0()).await.unwrap();
    let (_, laptop) = create_session(&t.db, ana.id, None, Some("laptop"), t0()).await.unwrap();
    let new_pw = Password::new("a brand new passphrase").unwrap();
    set_password(&t.db, &ana.actor(), ana.id, &new_pw, t0()).await.unwrap();
    for token in [&phone, &laptop] {
        assert!(session_user(&t.db, token, t0()).await.unwrap().is_none());
    }
    assert!(matches!(
        authenticate(&t.db, "ana@example.org", PW, ip(1), t0()).await,
        Err(IdentityError::InvalidCredentials)
    ));
    authenticate(&t.db, "ana@example.org", new_pw.expose(), ip(1), t0())
        .await
        .unwrap();
}

#[tokio::test]
async fn one_time_tokens_work_once_and_expire() {
    let t = TestDb::new().await;
    let ana = user(&t, "ana@example.org", "Ana").await;

    // Email verification: 48 hours, once.
    let verify = issue_token(&t.db, ana.id, TokenPurpose::VerifyEmail, t0())
        .await
        .unwrap();
    assert!(
        matches!(
            consume_token(&t.db, &verify, TokenPurpose::ResetPassword, t0()).await,
            Err(IdentityError::InvalidToken)
        ),
        "a token is only for its purpose"
    );
    let verified = verify_email_with_token(&t.db, &verify, t0() + Duration::hours(47))
        .await
        .unwrap();
    assert_eq!(verified.email_verified_at, Some(t0() + Duration::hours(47)));
    let again = consume_token(&t.db, &verify, TokenPurpose::VerifyEmail, t0() + Duration::hours(47))
        .await
        .unwrap_err();
    assert!(matches!(again, IdentityError::InvalidToken));
    assert_eq!(again.kind(), ErrorKind::Validation);
    assert_eq!(again.field_errors()[0].field, "token");

    let late = issue_token(&t.db, ana.id, TokenPurpose::VerifyEmail, t0())
        .await
        .unwrap();
    assert!(matches!(
        consume_token(&t.db, &late, TokenPurpose::VerifyEmail, t0() + Duration::hours(48)).await,
        Err(IdentityError::InvalidToken)
    ));

    // Password reset: 1 hour; a newer link replaces older unused ones.
    let first = issue_token(&t.db, ana.id, TokenPurpose::ResetPassword, t0())
        .await
        .unwrap();
    let second = issue_token(&t.db, ana.id, TokenPurpose::ResetPassword, t0() + Duration::minutes(5))
        .await
        .unwrap();
    assert!(matches!(
        consume_token(&t.db, &first, TokenPurpose::ResetPassword, t0() + Duration::minutes(6)).await,
        Err(IdentityError::InvalidToken)
    ));
    assert!(
        matches!(
            consume_token(
                &t.db,
                &second,
                TokenPurpose::ResetPassword,
                t0() + Duration::minutes(65)
            )
            .await,
            Err(IdentityError::InvalidToken)
        ),
        "expired after an hour"
    );
    let third = issue_token(&t.db, ana.id, TokenPurpose::ResetPassword, t0() + Duration::hours(2))
        .await
        .unwrap();
    let (_, session) = create_session(&t.db, ana.id, None, None, t0() + Duration::hours(2))
        .await
        .unwrap();
    let new_pw = Password::new("reset to this passphrase").unwrap();
    let at = t0() + Duration::hours(2) + Duration::minutes(10);
    reset_password_with_token(&t.db, &third, &new_pw, at).await.unwrap();
    assert!(session_user(&t.db, &session, at).await.unwrap().is_none());
    authenticate(&t.db, "ana@example.org", new_pw.expose(), ip(1), at)
        .await
        .unwrap();
    assert!(matches!(
        reset_password_with_token(&t.db, &third, &new_pw, at).await,
        Err(IdentityError::InvalidToken)
    ));
    // Consuming returns the user, once.
    let fourth = issue_token(&t.db, ana.id, TokenPurpose::ResetPassword, at)
        .await
        .unwrap();
    assert_eq!(
        consume_token(&t.db, &fourth, TokenPurpose::ResetPassword, at)
            .await
            .unwrap(),
        ana.id
    );
    assert!(
        consume_token(&t.db, &fourth, TokenPurpose::ResetPassword, at)
            .await
            .is_err()
    );
    // Only hashes are stored.
    let stored = column(&t, "SELECT token_hash FROM one_time_tokens", "token_hash").await;
    assert!(stored.contains(&token_hash(&verify)));
    assert!(!stored.iter().any(|h| h == &verify || h == &third));
}

#[tokio::test]
async fn invitations_are_for_one_address_once_within_a_week() {
    let t = TestDb::new().await;
    let owner = user(&t, "owner@example.org", "Olu Owner").await;
    let bo = user(&t, "bo@example.org", "Bo").await;
    let carol = user(&t, "carol@example.org", "Carol").await;
    let org = create_organization(
        &t.db,
        &owner.actor(),
        community("Southeast Youth Collective"),
        Some(owner.id),
        t0(),
    )
    .await
    .unwrap();

    let bo_email = EmailAddress::parse("Bo@Example.org").unwrap();
    // Only a person can invite.
    assert!(matches!(
        invite(&t.db, &admin(), org.id, &bo_email, Role::Staff, t0()).await,
        Err(IdentityError::Invalid(_))
    ));
    let (inv, token) = invite(&t.db, &owner.actor(), org.id, &bo_email, Role::Staff, t0())
        .await
        .unwrap();
    assert_eq!(inv.email.as_str(), "bo@example.org");
    assert_eq!(inv.expires_at, t0() + Duration::days(7));
    assert_eq!(inv.invited_by, owner.id);
    assert_eq!(
        pending_invitations(&t.db, org.id, t0()).await.unwrap(),
        vec![inv.clone()]
    );

    // Carol cannot use Bo's invitation.
    let e = accept_invitation(&t.db, &token, carol.id, t0()).await.unwrap_err();
    assert!(matches!(e, IdentityError::InvitationForAnotherEmail), "{e:?}");
    assert_eq!(e.kind(), ErrorKind::Forbidden);

    let m = accept_invitation(&t.db, &token, bo.id, t0() + Duration::days(1))
        .await
        .unwrap();
    assert_eq!((m.user_id, m.role), (bo.id, Role::Staff));
    assert!(
        matches!(
            accept_invitation(&t.db, &token, bo.id, t0() + Duration::days(1)).await,
            Err(IdentityError::InvalidToken)
        ),
        "single use"
    );
    assert!(pending_invitations(&t.db, org.id, t0()).await.unwrap().is_empty());
    assert!(matches!(
        invite(&t.db, &owner.actor(), org.id, &bo_email, Role::Owner, t0()).await,
        Err(IdentityError::AlreadyMember)
    ));

    // An invitation expires after 7 days.
    let carol_email = EmailAddress::parse("carol@example.org").unwrap();
    let (_, late) = invite(&t.db, &owner.actor(), org.id, &carol_email, Role::Reviewer, t0())
        .await
        .unwrap();
    assert!(matches!(
        accept_invitation(&t.db, &late, carol.id, t0() + Duration::days(7)).await,
        Err(IdentityError::InvalidToken)
    ));
    // Inviting again replaces the old link; a revoked invitation stops working.
    let (_, old) = invite(&t.db, &owner.actor(), org.id, &carol_email, Role::Reviewer, t0())
        .await
        .unwrap();
    let (newer, fresh) = invite(&t.db, &owner.actor(), org.id, &carol_email, Role::Reviewer, t0())
        .await
        .unwrap();
    assert!(matches!(
        accept_invitation(&t.db, &old, carol.id, t0()).await,
        Err(IdentityError::InvalidToken)
    ));
    revoke_invitation(&t.db, &owner.actor(), org.id, newer.id, t0())
        .await
        .unwrap();
    assert!(matches!(
        accept_invitation(&t.db, &fresh, carol.id, t0()).await,
        Err(IdentityError::InvalidToken)
    ));
    let (_, last) = invite(&t.db, &owner.actor(), org.id, &carol_email, Role::Reviewer, t0())
        .await
        .unwrap();
    let m = accept_invitation(&t.db, &last, carol.id, t0()).await.unwrap();
    assert_eq!(m.role, Role::Reviewer);

    let roster: Vec<(String, Role)> = members(&t.db, org.id)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.display_name, m.role))
        .collect();
    assert_eq!(
        roster,
        vec![
            ("Olu Owner".to_string(), Role::Owner),
            ("Bo".to_string(), Role::Staff),
            ("Carol".to_string(), Role::Reviewer)
        ]
    );
    let stored = column(&t, "SELECT token_hash FROM invitations", "token_hash").await;
    assert!(!stored.contains(&last) && stored.contains(&token_hash(&last)));
}

#[tokio::test]
async fn api_tokens_are_shown_once_and_stop_when_revoked_or_expired() {
    let t = TestDb::new().await;
    let ana = user(&t, "ana@example.org", "Ana").await;
    let (tok, secret) = create_api_token(
        &t.db,
        &ana.actor(),
        ana.id,
        "reporting script",
        vec![Scope::Write, Scope::Read, Scope::Read],
        None,
        t0(),
    )
    .await
    .unwrap();
    assert!(secret.starts_with("gra_") && secret.len() == 44, "{secret}");
    assert!(
        secret[4..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    assert_eq!(tok.prefix, secret[..8]);
    assert_eq!(tok.scopes, vec![Scope::Read, Scope::Write]);
    let stored = column(&t, "SELECT token_hash FROM api_tokens", "token_hash").await;
    assert_eq!(stored, vec![token_hash(&secret)]);
    assert_ne!(stored[0], secret);

    let listed = list_api_tokens(&t.db, ana.id).await.unwrap();
    assert_eq!(listed, vec![tok.clone()]);
    let (used, who) = authenticate_api_token(&t.db, &secret, t0() + Duration::minutes(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((used.id, who.id), (tok.id, ana.id));
    assert_eq!(used.last_used_at, Some(t0() + Duration::minutes(1)));
    assert_eq!(
        list_api_tokens(&t.db, ana.id).await.unwrap()[0].last_used_at,
        Some(t0() + Duration::minutes(1))
    );
    let last = if secret.ends_with('x') { 'y' } else { 'x' };
    let altered = format!("{}{last}", &secret[..43]);
    for bad in ["", "gra_", "nope", &secret[..43], &altered] {
        assert!(
            authenticate_api_token(&t.db, bad, t0()).await.unwrap().is_none(),
            "{bad}"
        );
    }

    // Read-only, expiring in a day.
    let (ro, ro_secret) = create_api_token(
        &t.db,
        &ana.actor(),
        ana.id,
        "dashboard",
        vec![Scope::Read],
        Some(t0() + Duration::days(1)),
        t0(),
    )
    .await
    .unwrap();
    assert_eq!(ro.scopes, vec![Scope::Read]);
    assert!(authenticate_api_token(&t.db, &ro_secret, t0()).await.unwrap().is_some());
    assert!(
        authenticate_api_token(&t.db, &ro_secret, t0() + Duration::days(1))
            .await
            .unwrap()
            .is_none()
    );

    let revoked = revoke_api_token(&t.db, &ana.actor(), ana.id, tok.id, t0())
        .await
        .unwrap();
    assert_eq!(revoked.revoked_at, Some(t0()));
    assert!(authenticate_api_token(&t.db, &secret, t0()).await.unwrap().is_none());
    // Someone else's token id is not found for this user.
    let bo = user(&t, "bo@example.org", "Bo").await;
    assert!(matches!(
        revoke_api_token(&t.db, &bo.actor(), bo.id, ro.id, t0()).await,
        Err(IdentityError::NotFound { .. })
    ));
    set_disabled(&t.db, &admin(), ana.id, true, t0()).await.unwrap();
    assert!(authenticate_api_token(&t.db, &ro_secret, t0()).await.unwrap().is_none());

    // Bad requests name their fields.
    let e = create_api_token(&t.db, &bo.actor(), bo.id, " ", vec![], Some(t0()), t0())
        .await
        .unwrap_err();
    let IdentityError::Invalid(v) = e else {
        panic!("expected a validation error")
    };
    for field in ["name", "scopes", "expires_at"] {
        assert!(v.for_field(field).is_some(), "{field}: {v}");
    }
}

#[tokio::test]
async fn the_last_owner_cannot_leave_or_step_down() {
    let t = TestDb::new().await;
    let ana = user(&t, "ana@example.org", "Ana").await;
    let bo = user(&t, "bo@example.org", "Bo").await;
    let org = create_organization(&t.db, &ana.actor(), community("Ward 8 Mothers"), Some(ana.id), t0())
        .await
        .unwrap();
    let e = remove_member(&t.db, &ana.actor(), org.id, ana.id, t0())
        .await
        .unwrap_err();
    assert!(matches!(e, IdentityError::LastOwner));
    assert_eq!(e.kind(), ErrorKind::Conflict);
    assert!(matches!(
        change_role(&t.db, &ana.actor(), org.id, ana.id, Role::Staff, t0()).await,
        Err(IdentityError::LastOwner)
    ));

    add_member(&t.db, &ana.actor(), org.id, bo.id, Role::Staff, t0())
        .await
        .unwrap();
    assert!(matches!(
        add_member(&t.db, &ana.actor(), org.id, bo.id, Role::Reviewer, t0()).await,
        Err(IdentityError::AlreadyMember)
    ));
    change_role(&t.db, &ana.actor(), org.id, bo.id, Role::Owner, t0())
        .await
        .unwrap();
    let m = change_role(&t.db, &bo.actor(), org.id, ana.id, Role::Staff, t0())
        .await
        .unwrap();
    assert_eq!(m.role, Role::Staff);
    assert!(matches!(
        remove_member(&t.db, &bo.actor(), org.id, bo.id, t0()).await,
        Err(IdentityError::LastOwner)
    ));
    remove_member(&t.db, &bo.actor(), org.id, ana.id, t0()).await.unwrap();
    assert!(matches!(
        remove_member(&t.db, &bo.actor(), org.id, ana.id, t0()).await,
        Err(IdentityError::NotFound { .. })
    ));
    let left: Vec<UserId> = members(&t.db, org.id)
        .await
        .unwrap()
        .iter()
        .map(|m| m.user_id)
        .collect();
    assert_eq!(left, vec![bo.id]);
    assert!(memberships_of(&t.db, ana.id).await.unwrap().is_empty());
}

#[tokio::test]
async fn organization_fields_are_checked_and_named() {
    let t = TestDb::new().await;
    let ana = user(&t, "ana@example.org", "Ana").await;
    let mut bad = community("  ");
    bad.profile = OrganizationProfile {
        name: " ".into(),
        ein: Some("12-34".into()),
        uei: Some("0ABCDEFGHJKL".into()),
        county_fips: Some("1100".into()),
        year_founded: Some(1700),
        state: Some("ZZ".into()),
        postal_code: Some("2000".into()),
        annual_budget: Some(Money::from_cents(-1).unwrap()),
        website: Some("not a site".into()),
        fiscal_sponsor: Some(OrganizationId::new()),
        ..Default::default()
    };
    let e = create_organization(&t.db, &ana.actor(), bad, Some(ana.id), t0())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    let fields: Vec<&str> = e.field_errors().iter().map(|f| f.field.as_str()).collect();
    for field in [
        "name",
        "ein",
        "uei",
        "county_fips",
        "year_founded",
        "state",
        "postal_code",
        "annual_budget",
        "website",
        "fiscal_sponsor",
    ] {
        assert!(fields.contains(&field), "{field} missing from {fields:?}");
    }
    // Nothing was written.
    assert!(memberships_of(&t.db, ana.id).await.unwrap().is_empty());

    let mut future = community("Founded Next Year");
    future.profile.year_founded = Some(2027);
    let e = create_organization(&t.db, &ana.actor(), future, None, t0())
        .await
        .unwrap_err();
    assert!(e.field_errors().iter().any(|f| f.field == "year_founded"));

    let sponsor = create_organization(
        &t.db,
        &admin(),
        NewOrganization {
            kind: OrgKind::Intermediary,
            profile: OrganizationProfile {
                name: "DC Justice Fund".into(),
                ..Default::default()
            },
        },
        None,
        t0(),
    )
    .await
    .unwrap();
    let good = NewOrganization {
        kind: OrgKind::CommunityOrganization,
        profile: OrganizationProfile {
            name: "  Anacostia Peacemakers ".into(),
            legal_name: Some("Anacostia Peacemakers Coalition".into()),
            ein: Some("123456789".into()),
            uei: Some("j7m9hptgj1s9".into()),
            address_line1: Some("1800 Martin Luther King Jr Ave SE".into()),
            address_line2: Some("  ".into()),
            city: Some("Washington".into()),
            state: Some("dc".into()),
            postal_code: Some("200201234".into()),
            county_fips: Some("11001".into()),
            annual_budget: Some("85000.50".parse().unwrap()),
            year_founded: Some(2026),
            populations_served: vec!["Returning citizens".into(), " youth ".into(), "Youth".into(), "".into()],
            lived_experience_led: true,
            fiscal_sponsor: Some(sponsor.id),
            website: Some("anacostiapeacemakers.org".into()),
        },
    };
    let org = create_organization(&t.db, &ana.actor(), good.clone(), Some(ana.id), t0())
        .await
        .unwrap();
    assert_eq!(org.name, "Anacostia Peacemakers");
    assert_eq!(org.ein.as_ref().unwrap().as_str(), "12-3456789");
    assert_eq!(org.uei.as_ref().unwrap().as_str(), "J7M9HPTGJ1S9");
    assert_eq!(org.address.state.as_ref().unwrap().as_str(), "DC");
    assert_eq!(org.address.line2, None);
    assert_eq!(org.address.postal_code.as_deref(), Some("20020-1234"));
    assert_eq!(org.annual_budget.unwrap().to_amount_string(), "85000.50");
    assert_eq!(org.populations_served, vec!["Returning citizens", "youth"]);
    assert_eq!(org.website.as_deref(), Some("https://anacostiapeacemakers.org"));
    assert_eq!(org.fiscal_sponsor, Some(sponsor.id));
    assert_eq!(get_organization(&t.db, org.id).await.unwrap(), org);
    let mine = memberships_of(&t.db, ana.id).await.unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!((mine[0].organization_id, mine[0].role), (org.id, Role::Owner));

    // Same kind and name again is a conflict on the name.
    let e = create_organization(&t.db, &ana.actor(), good, None, t0())
        .await
        .unwrap_err();
    assert!(matches!(e, IdentityError::DuplicateOrganization(_)), "{e:?}");
    assert_eq!(e.field_errors()[0].field, "name");

    // Updating replaces the profile and keeps the kind.
    let mut profile = OrganizationProfile {
        name: "Anacostia Peacemakers".into(),
        annual_budget: Some(Money::from_dollars(120_000).unwrap()),
        ..Default::default()
    };
    profile.fiscal_sponsor = Some(org.id);
    let e = update_organization(&t.db, &ana.actor(), org.id, profile.clone(), t0())
        .await
        .unwrap_err();
    assert!(e.field_errors().iter().any(|f| f.field == "fiscal_sponsor"));
    profile.fiscal_sponsor = None;
    let updated = update_organization(&t.db, &ana.actor(), org.id, profile, t0() + Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(updated.kind, OrgKind::CommunityOrganization);
    assert_eq!(updated.ein, None);
    assert_eq!(updated.annual_budget, Some(Money::from_dollars(120_000).unwrap()));
    assert_eq!(updated.updated_at, t0() + Duration::hours(1));
    assert!(matches!(
        get_organization(&t.db, OrganizationId::new()).await,
        Err(IdentityError::NotFound { .. })
    ));

    // Listing by kind, a page at a time.
    for i in 0..3 {
        create_organization(&t.db, &admin(), community(&format!("Block Club {i}")), None, t0())
            .await
            .unwrap();
    }
    let page = list_organizations(
        &t.db,
        OrganizationQuery {
            kind: Some(OrgKind::CommunityOrganization),
            page: 2,
            page_size: 2,
        },
    )
    .await
    .unwrap();
    assert_eq!((page.total_items, page.total_pages), (4, 2));
    let names: Vec<&str> = page.items.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, vec!["Block Club 1", "Block Club 2"]);
    let all = list_organizations(&t.db, OrganizationQuery::default()).await.unwrap();
    assert_eq!(all.total_items, 5);
    assert_eq!(all.items[0].name, "Anacostia Peacemakers");
}

#[tokio::test]
async fn the_principal_carries_memberships_with_their_kinds() {
    let t = TestDb::new().await;
    let ana = user(&t, "ana@example.org", "Ana").await;
    let office = create_organization(
        &t.db,
        &admin(),
        NewOrganization {
            kind: OrgKind::ProgramOffice,
            profile: OrganizationProfile {
                name: "Office of Community Safety".into(),
                ..Default::default()
            },
        },
        Some(ana.id),
        t0(),
    )
    .await
    .unwrap();
    let group = create_organization(&t.db, &admin(), community("Corner Stewards"), None, t0())
        .await
        .unwrap();
    add_member(&t.db, &admin(), group.id, ana.id, Role::Reviewer, t0())
        .await
        .unwrap();

    let Principal::User(p) = load_principal(&t.db, ana.id, None).await.unwrap() else {
        panic!("a user principal")
    };
    assert_eq!((p.id, p.name.as_str()), (ana.id, "Ana"));
    assert!(!p.site_admin && !p.email_verified);
    assert_eq!(p.token_scopes, None);
    let mut ms = p.memberships.clone();
    ms.sort_by_key(|m| m.role != Role::Owner);
    assert_eq!(
        ms,
        vec![
            Membership {
                org: office.id,
                kind: OrgKind::ProgramOffice,
                role: Role::Owner
            },
            Membership {
                org: group.id,
                kind: OrgKind::CommunityOrganization,
                role: Role::Reviewer
            },
        ]
    );
    assert!(p.is_program_officer());

    mark_email_verified(&t.db, &admin(), ana.id, t0()).await.unwrap();
    set_site_admin(&t.db, &admin(), ana.id, true, t0()).await.unwrap();
    let Principal::User(p) = load_principal(&t.db, ana.id, Some(vec![Scope::Read])).await.unwrap() else {
        panic!("a user principal")
    };
    assert!(p.site_admin && p.email_verified);
    assert_eq!(p.token_scopes, Some(vec![Scope::Read]));
    // From the user a session or token lookup already read: the same principal.
    let read = get_user(&t.db, ana.id).await.unwrap();
    assert_eq!(
        principal_of_user(&t.db, &read, Some(vec![Scope::Read])).await.unwrap(),
        Principal::User(p)
    );

    set_disabled(&t.db, &admin(), ana.id, true, t0()).await.unwrap();
    assert!(matches!(
        load_principal(&t.db, ana.id, None).await,
        Err(IdentityError::InvalidCredentials)
    ));
    let read = get_user(&t.db, ana.id).await.unwrap();
    assert!(matches!(
        principal_of_user(&t.db, &read, None).await,
        Err(IdentityError::InvalidCredentials)
    ));
    assert!(matches!(
        load_principal(&t.db, UserId::new(), None).await,
        Err(IdentityError::NotFound { .. })
    ));
}

#[tokio::test]
async fn the_audit_log_never_holds_secrets_and_its_chain_holds() {
    let t = TestDb::new().await;
    let ana = user(&t, "ana@example.org", "Ana").await;
    let bo = user(&t, "bo@example.org", "Bo").await;
    let org = create_organization(&t.db, &ana.actor(), community("Kenilworth Watch"), Some(ana.id), t0())
        .await
        .unwrap();
    let (_, first_session) = create_session(&t.db, ana.id, Some(ip(1)), None, t0()).await.unwrap();
    let (_, api) = create_api_token(&t.db, &ana.actor(), ana.id, "cli", vec![Scope::Read], None, t0())
        .await
        .unwrap();
    let verify = issue_token(&t.db, ana.id, TokenPurpose::VerifyEmail, t0())
        .await
        .unwrap();
    verify_email_with_token(&t.db, &verify, t0()).await.unwrap();
    let reset = issue_token(&t.db, ana.id, TokenPurpose::ResetPassword, t0())
        .await
        .unwrap();
    let new_pw = Password::new("the second passphrase").unwrap();
    reset_password_with_token(&t.db, &reset, &new_pw, t0()).await.unwrap();
    let third_pw = Password::new("the third passphrase!").unwrap();
    set_password(&t.db, &ana.actor(), ana.id, &third_pw, t0())
        .await
        .unwrap();
    let (_, invitation) = invite(&t.db, &ana.actor(), org.id, &bo.email, Role::Staff, t0())
        .await
        .unwrap();
    accept_invitation(&t.db, &invitation, bo.id, t0()).await.unwrap();
    authenticate(&t.db, "ana@example.org", third_pw.expose(), ip(1), t0())
        .await
        .unwrap();
    enqueue_email(
        &t.db,
        &bo.email,
        "Your reset link",
        &format!("Open /reset/{reset}"),
        t0(),
    )
    .await
    .unwrap();
    let (_, session) = create_session(&t.db, ana.id, Some(ip(1)), None, t0()).await.unwrap();
    assert!(end_session(&t.db, &session, t0()).await.unwrap());

    let hashes = column(&t, "SELECT password_hash FROM users", "password_hash").await;
    let mut secrets: Vec<String> = vec![
        PW.into(),
        new_pw.expose().into(),
        third_pw.expose().into(),
        first_session.clone(),
        session.clone(),
        api.clone(),
        verify.clone(),
        reset.clone(),
        invitation.clone(),
        "argon2".into(),
    ];
    for s in [&first_session, &session, &api, &verify, &reset, &invitation] {
        secrets.push(token_hash(s));
    }
    secrets.extend(hashes);
    let texts = audit_texts(&t).await;
    assert!(texts.len() >= 15, "{texts:#?}");
    for text in &texts {
        for secret in &secrets {
            assert!(!text.contains(secret.as_str()), "audit entry leaks a secret: {text}");
        }
    }
    let actions = audit_actions(&t).await;
    for expected in [
        "user.created",
        "organization.created",
        "organization.member_added",
        "user.signed_in",
        "user.api_token_created",
        "user.token_issued",
        "user.token_used",
        "user.email_verified",
        "user.password_changed",
        "organization.member_invited",
        "organization.invitation_accepted",
        "email.queued",
        "user.signed_out",
    ] {
        assert!(
            actions.contains(&expected.to_string()),
            "{expected} missing: {actions:?}"
        );
    }
    let n = audit::verify(&t.db).await.unwrap();
    assert_eq!(n as usize, texts.len());
}

/// A sender that always fails, and counts.
struct Refusing(Mutex<u32>);

#[async_trait::async_trait]
impl MailSender for Refusing {
    async fn send(&self, _to: &str, _subject: &str, _body: &str) -> Result<(), MailError> {
        *self.0.lock().unwrap() += 1;
        Err(MailError::Smtp("451 try again later".into()))
    }
}

#[tokio::test]
async fn the_outbox_is_delivered_to_files_and_retried_when_sending_fails() {
    let t = TestDb::new().await;
    let to = EmailAddress::parse("ana@example.org").unwrap();
    let first = enqueue_email(
        &t.db,
        &to,
        "Verify your email",
        "Open https://g.example/verify/abc",
        t0(),
    )
    .await
    .unwrap();
    let second = enqueue_email(&t.db, &to, "Welcome, Señora", "Line one\nLine two", t0())
        .await
        .unwrap();
    assert!(matches!(
        enqueue_email(&t.db, &to, "two\nlines", "x", t0()).await,
        Err(IdentityError::Invalid(_))
    ));
    let pending = pending_emails(&t.db, 10, t0()).await.unwrap();
    assert_eq!(pending.iter().map(|e| e.id).collect::<Vec<_>>(), vec![first, second]);
    assert!(
        !format!("{:?}", pending[0]).contains("verify/abc"),
        "Debug hides the body"
    );

    // A failing server: the emails wait, with growing pauses.
    let refusing = Refusing(Mutex::new(0));
    assert_eq!(deliver_pending(&t.db, &refusing, t0()).await.unwrap(), 0);
    assert_eq!(*refusing.0.lock().unwrap(), 2);
    let failed = get_email(&t.db, first).await.unwrap();
    assert_eq!(failed.attempts, 1);
    assert_eq!(
        failed.last_error.as_deref(),
        Some("the mail server refused or failed: 451 try again later")
    );
    assert_eq!(failed.next_attempt_at, t0() + Duration::minutes(1));
    assert!(
        pending_emails(&t.db, 10, t0() + Duration::seconds(59))
            .await
            .unwrap()
            .is_empty()
    );
    deliver_pending(&t.db, &refusing, t0() + Duration::minutes(1))
        .await
        .unwrap();
    assert_eq!(
        get_email(&t.db, first).await.unwrap().next_attempt_at,
        t0() + Duration::minutes(3)
    );

    // The file sender writes one .eml per message and the outbox marks them sent.
    let dir = tempfile::tempdir().unwrap();
    let mail_dir = dir.path().join("mail");
    let sender = FileSender::new(&mail_dir);
    let later = t0() + Duration::minutes(3);
    assert_eq!(deliver_pending(&t.db, &sender, later).await.unwrap(), 2);
    let mut files: Vec<_> = std::fs::read_dir(&mail_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 2);
    let texts: Vec<String> = files.iter().map(|f| std::fs::read_to_string(f).unwrap()).collect();
    assert!(files.iter().all(|f| f.extension().unwrap() == "eml"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for f in &files {
            let mode = std::fs::metadata(f).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "only the owner may read {f:?}");
        }
    }
    let all = texts.join("\n");
    assert!(all.contains("To: ana@example.org\r\n"));
    assert!(all.contains("Subject: Verify your email\r\n"));
    assert!(all.contains("Open https://g.example/verify/abc"));
    assert!(all.contains("Line one\r\nLine two"));
    assert!(all.contains("Subject: =?utf-8?B?"), "non-ASCII subjects are encoded");
    let sent = get_email(&t.db, first).await.unwrap();
    assert_eq!((sent.sent_at, sent.attempts, sent.last_error), (Some(later), 3, None));
    assert!(
        pending_emails(&t.db, 10, later + Duration::days(1))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        deliver_pending(&t.db, &sender, later + Duration::days(1))
            .await
            .unwrap(),
        0
    );

    // After too many failures an email is given up on.
    let doomed = enqueue_email(&t.db, &to, "Doomed", "x", t0()).await.unwrap();
    for _ in 0..outbox::MAX_ATTEMPTS {
        mark_failed(&t.db, doomed, "550 no such mailbox", t0()).await.unwrap();
    }
    assert!(
        pending_emails(&t.db, 10, t0() + Duration::days(30))
            .await
            .unwrap()
            .is_empty()
    );
}

/// Serves one SMTP conversation on 127.0.0.1 and returns what the client sent as DATA.
async fn one_smtp_conversation(listener: tokio::net::TcpListener) -> String {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let (stream, _) = listener.accept().await.unwrap();
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    write.write_all(b"220 test.localhost ESMTP\r\n").await.unwrap();
    let mut data = String::new();
    let mut in_data = false;
    while let Some(line) = lines.next_line().await.unwrap() {
        if in_data {
            if line == "." {
                in_data = false;
                write.write_all(b"250 2.0.0 queued\r\n").await.unwrap();
            } else {
                data.push_str(&line);
                data.push('\n');
            }
            continue;
        }
        let verb = line.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-test.localhost\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n",
            "AUTH" => b"235 2.7.0 authenticated\r\n",
            "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 2.1.0 ok\r\n",
            "DATA" => {
                in_data = true;
                b"354 go ahead\r\n"
            }
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await.unwrap();
                break;
            }
            _ => b"502 not implemented\r\n",
        };
        write.write_all(reply).await.unwrap();
    }
    data
}

#[tokio::test]
async fn the_smtp_sender_hands_messages_to_a_server() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(one_smtp_conversation(listener));
    let sender = SmtpSender::new(
        "127.0.0.1",
        port,
        Some("granary".into()),
        Some(Secret::new("smtp-password")),
        "Granary <grants@example.org>",
        false,
    )
    .unwrap();
    assert!(!format!("{sender:?}").contains("smtp-password"));
    sender
        .send("ana@example.org", "Your invitation", "Open https://g.example/i/xyz")
        .await
        .unwrap();
    let data = server.await.unwrap();
    assert!(data.contains("Subject: Your invitation"), "{data}");
    assert!(data.contains("To: ana@example.org"), "{data}");
    assert!(data.contains("https://g.example/i/xyz"), "{data}");
    assert!(matches!(
        sender.send("ana@example.org", "two\r\nBcc: x@y.org", "x").await,
        Err(MailError::Message(_))
    ));
    assert!(matches!(
        SmtpSender::new("127.0.0.1", port, None, None, "not an address", false),
        Err(MailError::Address(_))
    ));
}

#[tokio::test]
async fn purging_clears_only_what_has_expired() {
    let t = TestDb::new().await;
    let ana = user(&t, "ana@example.org", "Ana").await;
    let org = create_organization(&t.db, &ana.actor(), community("Purge Test Org"), Some(ana.id), t0())
        .await
        .unwrap();
    let (_, stale) = create_session(&t.db, ana.id, None, None, t0()).await.unwrap();
    let (_, fresh) = create_session(&t.db, ana.id, None, None, t0() + Duration::days(6))
        .await
        .unwrap();
    let used = issue_token(&t.db, ana.id, TokenPurpose::VerifyEmail, t0())
        .await
        .unwrap();
    consume_token(&t.db, &used, TokenPurpose::VerifyEmail, t0())
        .await
        .unwrap();
    issue_token(&t.db, ana.id, TokenPurpose::ResetPassword, t0())
        .await
        .unwrap();
    let bo = EmailAddress::parse("bo@example.org").unwrap();
    invite(&t.db, &ana.actor(), org.id, &bo, Role::Staff, t0())
        .await
        .unwrap();
    authenticate(&t.db, "ana@example.org", "wrong password!!", ip(1), t0())
        .await
        .unwrap_err();
    enqueue_email(&t.db, &bo, "Hello", "x", t0()).await.unwrap();
    let mail_dir = tempfile::tempdir().unwrap();
    deliver_pending(&t.db, &FileSender::new(mail_dir.path()), t0())
        .await
        .unwrap();

    let purged = purge_expired(&t.db, t0() + Duration::days(8)).await.unwrap();
    assert_eq!(
        purged,
        Purged {
            sessions: 1,
            one_time_tokens: 2,
            invitations: 1,
            sign_in_attempts: 0,
            emails: 1,
        }
    );
    assert!(session_user(&t.db, &stale, t0()).await.unwrap().is_none());
    assert!(
        session_user(&t.db, &fresh, t0() + Duration::days(8))
            .await
            .unwrap()
            .is_some()
    );
    let later = purge_expired(&t.db, t0() + Duration::days(31)).await.unwrap();
    assert_eq!((later.sign_in_attempts, later.sessions), (1, 1));
    assert_eq!(
        purge_expired(&t.db, t0() + Duration::days(31)).await.unwrap().total(),
        0
    );
    assert!(audit_actions(&t).await.contains(&"identity.purged".to_string()));
    assert!(audit::verify(&t.db).await.is_ok());
}
