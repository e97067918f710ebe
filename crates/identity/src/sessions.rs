//! Browser sessions. The cookie holds 32 random bytes as URL-safe text; the database holds
//! only their SHA-256. A session lasts at most 30 days, and ends sooner after 7 days unused.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use granary_core::Actor;
use granary_core::audit::{self, AuditEvent};
use granary_core::db::{begin_write, execute_alone};
use granary_core::id::UserId;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QueryTrait,
    TransactionSession, TransactionTrait,
};
use serde::Serialize;

use crate::entity::{session, user};
use crate::error::{IdentityError, Result};
use crate::ids::SessionId;
use crate::secret::{new_token, token_hash};
use crate::stamp;
use crate::users::{User, delete_sessions, get_user, to_user};

/// The longest a session lasts, however active.
pub const SESSION_LIFETIME: Duration = Duration::days(30);
/// A session unused for this long ends.
pub const SESSION_IDLE_TIMEOUT: Duration = Duration::days(7);
/// `last_seen_at` is written at most this often, to spare the database a write per request.
pub const LAST_SEEN_GRANULARITY: Duration = Duration::minutes(1);

/// A signed-in browser (never its token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Session {
    pub id: SessionId,
    pub user_id: UserId,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// The absolute expiry.
    pub expires_at: DateTime<Utc>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl Session {
    /// When the session ends if not used again.
    pub fn idle_expires_at(&self) -> DateTime<Utc> {
        (self.last_seen_at + SESSION_IDLE_TIMEOUT).min(self.expires_at)
    }

    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        now < self.idle_expires_at()
    }
}

fn to_session(m: session::Model) -> Session {
    Session {
        id: SessionId(m.id),
        user_id: UserId(m.user_id),
        created_at: m.created_at,
        last_seen_at: m.last_seen_at,
        expires_at: m.expires_at,
        ip: m.ip,
        user_agent: m.user_agent,
    }
}

/// Starts a session for a user who has just proved who they are. Returns the session and the
/// token for the cookie, which is not stored and cannot be shown again.
pub async fn create_session<C>(
    db: &C,
    user_id: UserId,
    ip: Option<IpAddr>,
    user_agent: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(Session, String)>
where
    C: ConnectionTrait + TransactionTrait,
{
    let now = stamp(now);
    let token = new_token()?;
    let txn = begin_write(db).await?;
    let user = get_user(&txn, user_id).await?;
    if user.is_disabled() {
        return Err(IdentityError::InvalidCredentials);
    }
    let row = session::ActiveModel {
        id: Set(SessionId::new().as_uuid()),
        token_hash: Set(token_hash(&token)),
        user_id: Set(user_id.as_uuid()),
        created_at: Set(now),
        last_seen_at: Set(now),
        expires_at: Set(now + SESSION_LIFETIME),
        ip: Set(ip.map(|a| a.to_string())),
        user_agent: Set(user_agent.map(|s| s.chars().take(500).collect())),
    }
    .insert(&txn)
    .await?;
    let s = to_session(row);
    audit::record(
        &txn,
        &user.actor(),
        AuditEvent::new("user.signed_in", "user", user_id)
            .after(&serde_json::json!({ "session": s.id, "ip": s.ip, "expires_at": s.expires_at })),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok((s, token))
}

/// The session a cookie's token names and its user, when the session is still active and
/// the account is not disabled. Notes the use (at most once a minute).
pub async fn session_user<C>(db: &C, token: &str, now: DateTime<Utc>) -> Result<Option<(Session, User)>>
where
    C: ConnectionTrait + TransactionTrait,
{
    let found = session::Entity::find()
        .filter(session::Column::TokenHash.eq(token_hash(token.trim())))
        .find_also_related(user::Entity)
        .one(db)
        .await?;
    let Some((row, Some(user_row))) = found else {
        return Ok(None);
    };
    let mut s = to_session(row);
    let user = to_user(user_row)?;
    if !s.is_active(now) || user.is_disabled() {
        return Ok(None);
    }
    if now - s.last_seen_at >= LAST_SEEN_GRANULARITY {
        let seen = stamp(now);
        let note = session::Entity::update_many()
            .col_expr(session::Column::LastSeenAt, Expr::value(seen))
            .filter(session::Column::Id.eq(s.id.as_uuid()))
            .build(db.get_database_backend());
        execute_alone(db, note).await?;
        s.last_seen_at = seen;
    }
    Ok(Some((s, user)))
}

/// Signs out the session a token names. Returns whether there was one.
pub async fn end_session<C>(db: &C, token: &str, now: DateTime<Utc>) -> Result<bool>
where
    C: ConnectionTrait + TransactionTrait,
{
    let txn = begin_write(db).await?;
    let found = session::Entity::find()
        .filter(session::Column::TokenHash.eq(token_hash(token.trim())))
        .find_also_related(user::Entity)
        .one(&txn)
        .await?;
    let Some((row, user_row)) = found else {
        return Ok(false);
    };
    session::Entity::delete_by_id(row.id).exec(&txn).await?;
    let actor = match user_row {
        Some(u) => to_user(u)?.actor(),
        None => Actor::System,
    };
    audit::record(
        &txn,
        &actor,
        AuditEvent::new("user.signed_out", "user", row.user_id).after(&serde_json::json!({ "session": row.id })),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(true)
}

/// Signs a user out everywhere. Returns how many sessions ended.
pub async fn end_all_sessions<C>(db: &C, actor: &Actor, user_id: UserId, now: DateTime<Utc>) -> Result<u64>
where
    C: ConnectionTrait + TransactionTrait,
{
    let txn = begin_write(db).await?;
    get_user(&txn, user_id).await?;
    let ended = delete_sessions(&txn, user_id).await?;
    audit::record(
        &txn,
        actor,
        AuditEvent::new("user.signed_out_everywhere", "user", user_id)
            .after(&serde_json::json!({ "sessions_ended": ended })),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(ended)
}

/// A user's active sessions, most recently used first (for "where you are signed in").
pub async fn sessions_of<C: ConnectionTrait>(db: &C, user_id: UserId, now: DateTime<Utc>) -> Result<Vec<Session>> {
    let rows = session::Entity::find()
        .filter(session::Column::UserId.eq(user_id.as_uuid()))
        .filter(session::Column::ExpiresAt.gt(now))
        .order_by_desc(session::Column::LastSeenAt)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(to_session).filter(|s| s.is_active(now)).collect())
}
