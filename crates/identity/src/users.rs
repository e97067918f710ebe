//! User accounts: creation, lookup, password sign-in with throttling, and account changes by
//! the user or an administrator. Passwords are hashed with argon2id off the async runtime.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use granary_core::audit::{self, AuditEvent};
use granary_core::db::begin_write;
use granary_core::id::UserId;
use granary_core::{Actor, ValidationErrors};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QuerySelect,
    TransactionSession, TransactionTrait,
};
use serde::Serialize;

use crate::entity::{one_time_token, session, user};
use crate::error::{IdentityError, Result};
use crate::{EmailAddress, Password, hashing, stamp, throttle};

/// A user account, without its password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: UserId,
    pub email: EmailAddress,
    pub display_name: String,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub is_site_admin: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub disabled_at: Option<DateTime<Utc>>,
}

impl User {
    pub fn is_disabled(&self) -> bool {
        self.disabled_at.is_some()
    }

    pub fn email_verified(&self) -> bool {
        self.email_verified_at.is_some()
    }

    /// The user as the actor of changes they make.
    pub fn actor(&self) -> Actor {
        Actor::User {
            id: self.id,
            name: self.display_name.clone(),
        }
    }
}

pub(crate) fn to_user(m: user::Model) -> Result<User> {
    let email =
        EmailAddress::parse(&m.email).map_err(|e| IdentityError::Corrupt(format!("user {} email: {e}", m.id)))?;
    Ok(User {
        id: UserId(m.id),
        email,
        display_name: m.display_name,
        email_verified_at: m.email_verified_at,
        is_site_admin: m.is_site_admin,
        created_at: m.created_at,
        updated_at: m.updated_at,
        disabled_at: m.disabled_at,
    })
}

/// What the audit log keeps about a user: never the password or its hash.
#[derive(Serialize)]
struct Summary<'a> {
    email: &'a EmailAddress,
    display_name: &'a str,
    email_verified: bool,
    is_site_admin: bool,
    disabled: bool,
}

fn summary(u: &User) -> Summary<'_> {
    Summary {
        email: &u.email,
        display_name: &u.display_name,
        email_verified: u.email_verified(),
        is_site_admin: u.is_site_admin,
        disabled: u.is_disabled(),
    }
}

/// What someone signing up gives.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: EmailAddress,
    pub display_name: String,
    pub password: Password,
}

impl NewUser {
    /// Parses a sign-up form, naming every field that is wrong (`email`, `display_name`,
    /// `password`).
    pub fn parse(email: &str, display_name: &str, password: &str) -> std::result::Result<NewUser, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let email = EmailAddress::parse(email).map_err(|e| errors.add("email", e.0)).ok();
        let display_name = check_display_name(display_name)
            .map_err(|m| errors.add("display_name", m))
            .ok();
        let password = Password::new(password).map_err(|e| errors.add("password", e.0)).ok();
        match (email, display_name, password) {
            (Some(email), Some(display_name), Some(password)) if errors.is_empty() => Ok(NewUser {
                email,
                display_name,
                password,
            }),
            _ => Err(errors),
        }
    }
}

/// A display name: trimmed, 1 to 200 characters, no control characters.
fn check_display_name(name: &str) -> std::result::Result<String, &'static str> {
    let name = name.trim();
    if name.is_empty() {
        return Err("enter the name to show to others");
    }
    if name.chars().count() > 200 {
        return Err("use at most 200 characters");
    }
    if name.chars().any(char::is_control) {
        return Err("use letters, digits, spaces and punctuation only");
    }
    Ok(name.to_string())
}

fn on_insert_error(e: sea_orm::DbErr) -> IdentityError {
    if matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) {
        IdentityError::DuplicateEmail
    } else {
        IdentityError::Database(e)
    }
}

/// Creates an account. The address must not be taken (compared without regard to case; the
/// unique index on the lower-cased address guards against two sign-ups racing).
pub async fn create_user<C>(db: &C, actor: &Actor, new: NewUser, now: DateTime<Utc>) -> Result<User>
where
    C: ConnectionTrait + TransactionTrait,
{
    let display_name = check_display_name(&new.display_name).map_err(|m| IdentityError::field("display_name", m))?;
    if find_user_by_email(db, &new.email).await?.is_some() {
        return Err(IdentityError::DuplicateEmail);
    }
    let password_hash = hashing::hash_password(&new.password).await?;
    let now = stamp(now);
    let txn = begin_write(db).await?;
    let row = user::ActiveModel {
        id: Set(UserId::new().as_uuid()),
        email: Set(new.email.as_str().to_string()),
        display_name: Set(display_name),
        password_hash: Set(password_hash),
        email_verified_at: Set(None),
        is_site_admin: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        disabled_at: Set(None),
    }
    .insert(&txn)
    .await
    .map_err(on_insert_error)?;
    let created = to_user(row)?;
    audit::record(
        &txn,
        actor,
        AuditEvent::new("user.created", "user", created.id).after(&summary(&created)),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(created)
}

/// A user by id.
pub async fn get_user<C: ConnectionTrait>(db: &C, id: UserId) -> Result<User> {
    user::Entity::find_by_id(id.as_uuid())
        .one(db)
        .await?
        .ok_or_else(|| IdentityError::not_found("user", id))
        .and_then(to_user)
}

/// The account with an email address, if any.
pub async fn find_user_by_email<C: ConnectionTrait>(db: &C, email: &EmailAddress) -> Result<Option<User>> {
    user::Entity::find()
        .filter(user::Column::Email.eq(email.as_str()))
        .one(db)
        .await?
        .map(to_user)
        .transpose()
}

/// Signs a user in with email and password.
///
/// Throttling is checked first (`Throttled`); then the password is verified off the runtime
/// (against a dummy hash when no account has the address, so the time taken reveals
/// nothing); the attempt is recorded; and an unknown address, a wrong password and a
/// disabled account all give the same `InvalidCredentials`.
pub async fn authenticate<C>(db: &C, email: &str, password: &str, ip: IpAddr, now: DateTime<Utc>) -> Result<User>
where
    C: ConnectionTrait + TransactionTrait,
{
    let typed = email.trim().to_lowercase();
    let key: String = typed.chars().take(EmailAddress::MAX_LEN).collect();
    let ip = ip.to_string();
    throttle::check(db, &key, &ip, now).await?;

    let found = match EmailAddress::parse(&typed) {
        Ok(address) => {
            user::Entity::find()
                .filter(user::Column::Email.eq(address.as_str()))
                .one(db)
                .await?
        }
        Err(_) => None,
    };
    let ok = match &found {
        Some(row) => hashing::verify_password(password, &row.password_hash).await?,
        None => {
            hashing::verify_against_dummy(password).await?;
            false
        }
    };
    let signed_in = match found {
        Some(row) if ok && row.disabled_at.is_none() => Some(to_user(row)?),
        _ => None,
    };
    throttle::record(db, &key, &ip, signed_in.is_some(), now).await?;
    signed_in.ok_or(IdentityError::InvalidCredentials)
}

async fn load_row<C: ConnectionTrait>(db: &C, id: UserId) -> Result<user::Model> {
    user::Entity::find_by_id(id.as_uuid())
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or_else(|| IdentityError::not_found("user", id))
}

/// Deletes every session of a user; returns how many there were.
pub(crate) async fn delete_sessions<C: ConnectionTrait>(db: &C, id: UserId) -> Result<u64> {
    Ok(session::Entity::delete_many()
        .filter(session::Column::UserId.eq(id.as_uuid()))
        .exec(db)
        .await?
        .rows_affected)
}

/// Changes a user's account row and audits the change, in one transaction.
async fn change<C, F>(db: &C, actor: &Actor, id: UserId, action: &str, now: DateTime<Utc>, edit: F) -> Result<User>
where
    C: ConnectionTrait + TransactionTrait,
    F: FnOnce(&mut user::ActiveModel, &User) -> bool,
{
    let now = stamp(now);
    let txn = begin_write(db).await?;
    let row = load_row(&txn, id).await?;
    let before = to_user(row.clone())?;
    let mut am = row.into_active_model();
    if !edit(&mut am, &before) {
        // Nothing to change.
        return Ok(before);
    }
    am.updated_at = Set(now);
    let after = to_user(am.update(&txn).await?)?;
    let mut ended = 0;
    if after.is_disabled() && !before.is_disabled() {
        ended = delete_sessions(&txn, id).await?;
    }
    audit::record(
        &txn,
        actor,
        AuditEvent::new(action, "user", id)
            .before(&summary(&before))
            .after(&serde_json::json!({ "user": summary(&after), "sessions_ended": ended })),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// Sets a new password. Every session of the user ends, and unused password-reset links stop
/// working.
pub async fn set_password<C>(db: &C, actor: &Actor, id: UserId, password: &Password, now: DateTime<Utc>) -> Result<()>
where
    C: ConnectionTrait + TransactionTrait,
{
    let password_hash = hashing::hash_password(password).await?;
    store_password_hash(db, actor, id, password_hash, now).await
}

/// Stores a new password hash, ends the user's sessions and drops unused reset tokens.
pub(crate) async fn store_password_hash<C>(
    db: &C,
    actor: &Actor,
    id: UserId,
    password_hash: String,
    now: DateTime<Utc>,
) -> Result<()>
where
    C: ConnectionTrait + TransactionTrait,
{
    let now = stamp(now);
    let txn = begin_write(db).await?;
    let row = load_row(&txn, id).await?;
    let mut am = row.into_active_model();
    am.password_hash = Set(password_hash);
    am.updated_at = Set(now);
    am.update(&txn).await?;
    let ended = delete_sessions(&txn, id).await?;
    one_time_token::Entity::delete_many()
        .filter(one_time_token::Column::UserId.eq(id.as_uuid()))
        .filter(one_time_token::Column::Purpose.eq(crate::TokenPurpose::ResetPassword.as_str()))
        .filter(one_time_token::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        actor,
        AuditEvent::new("user.password_changed", "user", id).after(&serde_json::json!({ "sessions_ended": ended })),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Marks the user's email address as verified (keeping the first time if already so).
pub async fn mark_email_verified<C>(db: &C, actor: &Actor, id: UserId, now: DateTime<Utc>) -> Result<User>
where
    C: ConnectionTrait + TransactionTrait,
{
    change(db, actor, id, "user.email_verified", now, |am, u| {
        if u.email_verified() {
            return false;
        }
        am.email_verified_at = Set(Some(stamp(now)));
        true
    })
    .await
}

/// Makes a user a site administrator, or no longer one.
pub async fn set_site_admin<C>(db: &C, actor: &Actor, id: UserId, admin: bool, now: DateTime<Utc>) -> Result<User>
where
    C: ConnectionTrait + TransactionTrait,
{
    let action = if admin {
        "user.made_site_admin"
    } else {
        "user.site_admin_removed"
    };
    change(db, actor, id, action, now, |am, u| {
        am.is_site_admin = Set(admin);
        u.is_site_admin != admin
    })
    .await
}

/// Disables an account (it can no longer sign in, and its sessions end) or enables it again.
pub async fn set_disabled<C>(db: &C, actor: &Actor, id: UserId, disabled: bool, now: DateTime<Utc>) -> Result<User>
where
    C: ConnectionTrait + TransactionTrait,
{
    let action = if disabled { "user.disabled" } else { "user.enabled" };
    change(db, actor, id, action, now, |am, u| {
        if u.is_disabled() == disabled {
            return false;
        }
        am.disabled_at = Set(disabled.then(|| stamp(now)));
        true
    })
    .await
}

/// Changes the name shown for a user.
pub async fn set_display_name<C>(
    db: &C,
    actor: &Actor,
    id: UserId,
    display_name: &str,
    now: DateTime<Utc>,
) -> Result<User>
where
    C: ConnectionTrait + TransactionTrait,
{
    let name = check_display_name(display_name).map_err(|m| IdentityError::field("display_name", m))?;
    change(db, actor, id, "user.renamed", now, |am, u| {
        let changed = u.display_name != name;
        am.display_name = Set(name);
        changed
    })
    .await
}
