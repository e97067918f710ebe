//! One-time tokens for links sent by email: verifying an address (valid 48 hours) and
//! resetting a password (valid 1 hour; asking again makes earlier unused reset links stop
//! working). Each token works once. Only its SHA-256 is stored.

use chrono::{DateTime, Duration, Utc};
use granary_core::Actor;
use granary_core::audit::{self, AuditEvent};
use granary_core::db::begin_write;
use granary_core::id::UserId;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionSession, TransactionTrait,
};
use serde::{Deserialize, Serialize};

use crate::entity::one_time_token;
use crate::error::{IdentityError, Result};
use crate::secret::{new_token, token_hash};
use crate::users::{User, get_user};
use crate::{Password, hashing, stamp};

/// What a one-time token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenPurpose {
    VerifyEmail,
    ResetPassword,
}

impl TokenPurpose {
    pub fn as_str(&self) -> &'static str {
        match self {
            TokenPurpose::VerifyEmail => "verify_email",
            TokenPurpose::ResetPassword => "reset_password",
        }
    }

    /// How long a token for this purpose stays valid.
    pub fn lifetime(&self) -> Duration {
        match self {
            TokenPurpose::VerifyEmail => Duration::hours(48),
            TokenPurpose::ResetPassword => Duration::hours(1),
        }
    }
}

/// Issues a token for a user and returns its text, to be put in a link and emailed. It is
/// not stored and cannot be shown again.
pub async fn issue_token<C>(db: &C, user_id: UserId, purpose: TokenPurpose, now: DateTime<Utc>) -> Result<String>
where
    C: ConnectionTrait + TransactionTrait,
{
    let now = stamp(now);
    let token = new_token()?;
    let txn = begin_write(db).await?;
    get_user(&txn, user_id).await?;
    let mut replaced = 0;
    if purpose == TokenPurpose::ResetPassword {
        replaced = one_time_token::Entity::delete_many()
            .filter(one_time_token::Column::UserId.eq(user_id.as_uuid()))
            .filter(one_time_token::Column::Purpose.eq(purpose.as_str()))
            .filter(one_time_token::Column::UsedAt.is_null())
            .exec(&txn)
            .await?
            .rows_affected;
    }
    let expires_at = now + purpose.lifetime();
    let id = uuid::Uuid::now_v7();
    one_time_token::ActiveModel {
        id: Set(id),
        user_id: Set(user_id.as_uuid()),
        purpose: Set(purpose.as_str().to_string()),
        token_hash: Set(token_hash(&token)),
        expires_at: Set(expires_at),
        used_at: Set(None),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        &Actor::System,
        AuditEvent::new("user.token_issued", "user", user_id).after(&serde_json::json!({
            "token": id, "purpose": purpose, "expires_at": expires_at, "replaced_unused": replaced,
        })),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(token)
}

/// Uses a token: it must exist, be for this purpose, be unused and unexpired, and belong to
/// an account that is not disabled. Afterwards it never works again.
pub async fn consume_token<C>(db: &C, token: &str, purpose: TokenPurpose, now: DateTime<Utc>) -> Result<UserId>
where
    C: ConnectionTrait + TransactionTrait,
{
    let txn = begin_write(db).await?;
    let user = consume_in(&txn, token, purpose, now).await?;
    txn.commit().await?;
    Ok(user.id)
}

async fn consume_in<C>(txn: &C, token: &str, purpose: TokenPurpose, now: DateTime<Utc>) -> Result<User>
where
    C: ConnectionTrait + TransactionTrait,
{
    let now = stamp(now);
    let row = one_time_token::Entity::find()
        .filter(one_time_token::Column::TokenHash.eq(token_hash(token.trim())))
        .filter(one_time_token::Column::Purpose.eq(purpose.as_str()))
        .one(txn)
        .await?
        .ok_or(IdentityError::InvalidToken)?;
    if row.used_at.is_some() || row.expires_at <= now {
        return Err(IdentityError::InvalidToken);
    }
    let user = get_user(txn, UserId(row.user_id)).await?;
    if user.is_disabled() {
        return Err(IdentityError::InvalidToken);
    }
    // Only one of two concurrent uses wins.
    let used = one_time_token::Entity::update_many()
        .col_expr(one_time_token::Column::UsedAt, Expr::value(Some(now)))
        .filter(one_time_token::Column::Id.eq(row.id))
        .filter(one_time_token::Column::UsedAt.is_null())
        .exec(txn)
        .await?;
    if used.rows_affected != 1 {
        return Err(IdentityError::InvalidToken);
    }
    audit::record(
        txn,
        &user.actor(),
        AuditEvent::new("user.token_used", "user", user.id)
            .after(&serde_json::json!({ "token": row.id, "purpose": purpose })),
        now,
    )
    .await?;
    Ok(user)
}

/// Follows an email-verification link: uses the token and marks the address verified, in one
/// transaction.
pub async fn verify_email_with_token<C>(db: &C, token: &str, now: DateTime<Utc>) -> Result<User>
where
    C: ConnectionTrait + TransactionTrait,
{
    let txn = begin_write(db).await?;
    let user = consume_in(&txn, token, TokenPurpose::VerifyEmail, now).await?;
    let user = crate::users::mark_email_verified(&txn, &user.actor(), user.id, now).await?;
    txn.commit().await?;
    Ok(user)
}

/// Follows a password-reset link: uses the token and sets the new password, in one
/// transaction; every session of the user ends. A reset link also proves the address, so an
/// unverified one becomes verified.
pub async fn reset_password_with_token<C>(db: &C, token: &str, password: &Password, now: DateTime<Utc>) -> Result<User>
where
    C: ConnectionTrait + TransactionTrait,
{
    // Hash before taking the write lock: it is the slow part.
    let password_hash = hashing::hash_password(password).await?;
    let txn = begin_write(db).await?;
    let user = consume_in(&txn, token, TokenPurpose::ResetPassword, now).await?;
    let actor = user.actor();
    crate::users::store_password_hash(&txn, &actor, user.id, password_hash, now).await?;
    let user = crate::users::mark_email_verified(&txn, &actor, user.id, now).await?;
    txn.commit().await?;
    Ok(user)
}
