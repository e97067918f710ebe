//! Personal API tokens: `gra_` and 40 random URL-safe characters, shown once when made. The
//! database keeps the SHA-256 and the first 8 characters (so people can tell tokens apart).
//! A token carries scopes (read, write) that narrow what its user may do through it.

use chrono::{DateTime, Utc};
use granary_core::Actor;
use granary_core::audit::{self, AuditEvent};
use granary_core::db::{begin_write, execute_alone};
use granary_core::id::UserId;
use granary_core::policy::Scope;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QueryTrait,
    TransactionSession, TransactionTrait,
};
use serde::Serialize;

use crate::entity::{api_token, user};
use crate::error::{IdentityError, Result};
use crate::ids::ApiTokenId;
use crate::secret::{random_text, token_hash};
use crate::stamp;
use crate::users::{User, get_user, to_user};
use granary_core::ValidationErrors;

/// What every API token starts with, so it can be recognised (and found by secret scanners).
pub const API_TOKEN_PREFIX: &str = "gra_";
/// How many random characters follow the prefix.
const RANDOM_CHARS: usize = 40;
/// `last_used_at` is written at most this often.
const LAST_USED_GRANULARITY: chrono::Duration = chrono::Duration::minutes(1);

/// An API token (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    pub id: ApiTokenId,
    pub user_id: UserId,
    pub name: String,
    /// The first 8 characters of the token, such as `gra_Xy3k`.
    pub prefix: String,
    pub scopes: Vec<Scope>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl ApiToken {
    /// Not revoked and not expired.
    pub fn is_usable(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| now < e)
    }
}

fn scope_name(s: Scope) -> &'static str {
    match s {
        Scope::Read => "read",
        Scope::Write => "write",
    }
}

fn scopes_text(scopes: &[Scope]) -> String {
    scopes.iter().map(|s| scope_name(*s)).collect::<Vec<_>>().join(" ")
}

fn parse_scopes(text: &str) -> Result<Vec<Scope>> {
    text.split_whitespace()
        .map(|s| match s {
            "read" => Ok(Scope::Read),
            "write" => Ok(Scope::Write),
            other => Err(IdentityError::Corrupt(format!("API token scope {other:?}"))),
        })
        .collect()
}

fn to_api_token(m: api_token::Model) -> Result<ApiToken> {
    Ok(ApiToken {
        id: ApiTokenId(m.id),
        user_id: UserId(m.user_id),
        scopes: parse_scopes(&m.scopes)?,
        name: m.name,
        prefix: m.token_prefix,
        expires_at: m.expires_at,
        last_used_at: m.last_used_at,
        revoked_at: m.revoked_at,
        created_at: m.created_at,
    })
}

/// Makes an API token for a user. Returns it and its secret text, which is not stored and
/// cannot be shown again.
pub async fn create_api_token<C>(
    db: &C,
    actor: &Actor,
    user_id: UserId,
    name: &str,
    scopes: Vec<Scope>,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(ApiToken, String)>
where
    C: ConnectionTrait + TransactionTrait,
{
    let now = stamp(now);
    let mut errors = ValidationErrors::new();
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        errors.add(
            "name",
            "name the token in at most 100 characters, such as \"reporting script\"",
        );
    }
    let mut unique: Vec<Scope> = Vec::new();
    for s in [Scope::Read, Scope::Write] {
        if scopes.contains(&s) {
            unique.push(s);
        }
    }
    if unique.is_empty() {
        errors.add("scopes", "choose what the token may do: read, write, or both");
    }
    if let Some(e) = expires_at
        && e <= now
    {
        errors.add("expires_at", "choose a time in the future, or no expiry");
    }
    errors.into_result()?;

    let secret = format!("{API_TOKEN_PREFIX}{}", random_text(RANDOM_CHARS)?);
    let txn = begin_write(db).await?;
    get_user(&txn, user_id).await?;
    let id = ApiTokenId::new();
    let row = api_token::ActiveModel {
        id: Set(id.as_uuid()),
        user_id: Set(user_id.as_uuid()),
        name: Set(name.to_string()),
        token_hash: Set(token_hash(&secret)),
        token_prefix: Set(secret.chars().take(8).collect()),
        scopes: Set(scopes_text(&unique)),
        expires_at: Set(expires_at.map(stamp)),
        last_used_at: Set(None),
        revoked_at: Set(None),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let token = to_api_token(row)?;
    audit::record(
        &txn,
        actor,
        AuditEvent::new("user.api_token_created", "user", user_id).after(&serde_json::json!({
            "token": id, "name": token.name, "prefix": token.prefix,
            "scopes": token.scopes, "expires_at": token.expires_at,
        })),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok((token, secret))
}

/// A user's API tokens, newest first, including revoked and expired ones.
pub async fn list_api_tokens<C: ConnectionTrait>(db: &C, user_id: UserId) -> Result<Vec<ApiToken>> {
    api_token::Entity::find()
        .filter(api_token::Column::UserId.eq(user_id.as_uuid()))
        .order_by_desc(api_token::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(to_api_token)
        .collect()
}

/// Revokes one of a user's API tokens; it stops working at once. Revoking a revoked token
/// changes nothing.
pub async fn revoke_api_token<C>(
    db: &C,
    actor: &Actor,
    user_id: UserId,
    token_id: ApiTokenId,
    now: DateTime<Utc>,
) -> Result<ApiToken>
where
    C: ConnectionTrait + TransactionTrait,
{
    let now = stamp(now);
    let txn = begin_write(db).await?;
    let row = api_token::Entity::find_by_id(token_id.as_uuid())
        .filter(api_token::Column::UserId.eq(user_id.as_uuid()))
        .one(&txn)
        .await?
        .ok_or_else(|| IdentityError::not_found("API token", token_id))?;
    if row.revoked_at.is_some() {
        return to_api_token(row);
    }
    let mut am = row.into_active_model();
    am.revoked_at = Set(Some(now));
    let token = to_api_token(am.update(&txn).await?)?;
    audit::record(
        &txn,
        actor,
        AuditEvent::new("user.api_token_revoked", "user", user_id).after(&serde_json::json!({
            "token": token.id, "name": token.name, "prefix": token.prefix,
        })),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(token)
}

/// The token and user that an API request's bearer token names, when the token is usable and
/// the account is not disabled, in one query. Notes the use (at most once a minute).
pub async fn authenticate_api_token<C>(db: &C, secret: &str, now: DateTime<Utc>) -> Result<Option<(ApiToken, User)>>
where
    C: ConnectionTrait + TransactionTrait,
{
    let secret = secret.trim();
    if !secret.starts_with(API_TOKEN_PREFIX) || secret.len() != API_TOKEN_PREFIX.len() + RANDOM_CHARS {
        return Ok(None);
    }
    let found = api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(token_hash(secret)))
        .find_also_related(user::Entity)
        .one(db)
        .await?;
    let Some((row, Some(user_row))) = found else {
        return Ok(None);
    };
    let mut token = to_api_token(row)?;
    let user = to_user(user_row)?;
    if !token.is_usable(now) || user.is_disabled() {
        return Ok(None);
    }
    if token.last_used_at.is_none_or(|t| now - t >= LAST_USED_GRANULARITY) {
        let used = stamp(now);
        let note = api_token::Entity::update_many()
            .col_expr(api_token::Column::LastUsedAt, Expr::value(Some(used)))
            .filter(api_token::Column::Id.eq(token.id.as_uuid()))
            .build(db.get_database_backend());
        execute_alone(db, note).await?;
        token.last_used_at = Some(used);
    }
    Ok(Some((token, user)))
}
