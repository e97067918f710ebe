//! Invitations to join an organization. An owner invites an email address in a role; the
//! link in the email holds a token (only its SHA-256 is stored) that works once, for 7 days,
//! and only for an account with that address.

use chrono::{DateTime, Duration, Utc};
use granary_core::Actor;
use granary_core::audit::{self, AuditEvent};
use granary_core::db::begin_write;
use granary_core::id::{OrganizationId, UserId};
use granary_core::policy::Role;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, TransactionSession,
    TransactionTrait,
};
use serde::Serialize;

use crate::entity::{invitation, membership, user};
use crate::error::{IdentityError, Result};
use crate::ids::InvitationId;
use crate::memberships::{Member, insert_membership, lock_organization, member};
use crate::secret::{new_token, token_hash};
use crate::users::get_user;
use crate::{EmailAddress, stamp};

/// How long an invitation can be accepted.
pub const INVITATION_LIFETIME: Duration = Duration::days(7);

/// An invitation (never its token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Invitation {
    pub id: InvitationId,
    pub organization_id: OrganizationId,
    pub email: EmailAddress,
    pub role: Role,
    pub invited_by: UserId,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

fn to_invitation(m: invitation::Model) -> Result<Invitation> {
    Ok(Invitation {
        id: InvitationId(m.id),
        organization_id: OrganizationId(m.organization_id),
        email: EmailAddress::parse(&m.email).map_err(|e| IdentityError::Corrupt(format!("invitation email: {e}")))?,
        role: Role::parse(&m.role).ok_or_else(|| IdentityError::Corrupt(format!("invitation role {:?}", m.role)))?,
        invited_by: UserId(m.invited_by),
        expires_at: m.expires_at,
        accepted_at: m.accepted_at,
        created_at: m.created_at,
    })
}

/// Invites an email address to an organization. The actor must be a signed-in user (they
/// are recorded as the inviter). Inviting the same address again replaces the earlier
/// pending invitation, whose link stops working. Returns the invitation and the token for
/// the link, which is not stored and cannot be shown again.
pub async fn invite<C>(
    db: &C,
    actor: &Actor,
    org: OrganizationId,
    email: &EmailAddress,
    role: Role,
    now: DateTime<Utc>,
) -> Result<(Invitation, String)>
where
    C: ConnectionTrait + TransactionTrait,
{
    let Actor::User { id: inviter, .. } = actor else {
        return Err(IdentityError::field(
            "invited_by",
            "only a signed-in person can send an invitation",
        ));
    };
    let now = stamp(now);
    let token = new_token()?;
    let txn = begin_write(db).await?;
    lock_organization(&txn, org).await?;
    get_user(&txn, *inviter).await?;
    let already = membership::Entity::find()
        .filter(membership::Column::OrganizationId.eq(org.as_uuid()))
        .find_also_related(user::Entity)
        .filter(user::Column::Email.eq(email.as_str()))
        .one(&txn)
        .await?;
    if already.is_some() {
        return Err(IdentityError::AlreadyMember);
    }
    let replaced = invitation::Entity::delete_many()
        .filter(invitation::Column::OrganizationId.eq(org.as_uuid()))
        .filter(invitation::Column::Email.eq(email.as_str()))
        .filter(invitation::Column::AcceptedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected;
    let id = InvitationId::new();
    let row = invitation::ActiveModel {
        id: Set(id.as_uuid()),
        organization_id: Set(org.as_uuid()),
        email: Set(email.as_str().to_string()),
        role: Set(role.as_str().to_string()),
        token_hash: Set(token_hash(&token)),
        invited_by: Set(inviter.as_uuid()),
        expires_at: Set(now + INVITATION_LIFETIME),
        accepted_at: Set(None),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let inv = to_invitation(row)?;
    audit::record(
        &txn,
        actor,
        AuditEvent::new("organization.member_invited", "organization", org).after(&serde_json::json!({
            "invitation": id, "email": inv.email, "role": role,
            "expires_at": inv.expires_at, "replaced_pending": replaced,
        })),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok((inv, token))
}

/// Accepts an invitation for a signed-in user whose email address is the invited one. The
/// token works once and for 7 days. A user who is already a member keeps their role.
pub async fn accept_invitation<C>(db: &C, token: &str, user_id: UserId, now: DateTime<Utc>) -> Result<Member>
where
    C: ConnectionTrait + TransactionTrait,
{
    let now = stamp(now);
    let txn = begin_write(db).await?;
    let row = invitation::Entity::find()
        .filter(invitation::Column::TokenHash.eq(token_hash(token.trim())))
        .one(&txn)
        .await?
        .ok_or(IdentityError::InvalidToken)?;
    if row.accepted_at.is_some() || row.expires_at <= now {
        return Err(IdentityError::InvalidToken);
    }
    let inv = to_invitation(row)?;
    let user = get_user(&txn, user_id).await?;
    if user.is_disabled() {
        return Err(IdentityError::InvalidCredentials);
    }
    if user.email != inv.email {
        return Err(IdentityError::InvitationForAnotherEmail);
    }
    let org = lock_organization(&txn, inv.organization_id).await?;
    // Only one of two concurrent acceptances wins.
    let accepted = invitation::Entity::update_many()
        .col_expr(invitation::Column::AcceptedAt, Expr::value(Some(now)))
        .filter(invitation::Column::Id.eq(inv.id.as_uuid()))
        .filter(invitation::Column::AcceptedAt.is_null())
        .exec(&txn)
        .await?;
    if accepted.rows_affected != 1 {
        return Err(IdentityError::InvalidToken);
    }
    let actor = user.actor();
    audit::record(
        &txn,
        &actor,
        AuditEvent::new("organization.invitation_accepted", "organization", org.id)
            .after(&serde_json::json!({ "invitation": inv.id, "user": user.id, "role": inv.role })),
        now,
    )
    .await?;
    let existing = membership::Entity::find()
        .filter(membership::Column::OrganizationId.eq(org.id.as_uuid()))
        .filter(membership::Column::UserId.eq(user.id.as_uuid()))
        .one(&txn)
        .await?;
    let m = match existing {
        Some(m) => member(&m, &user)?,
        None => insert_membership(&txn, &actor, &org, &user, inv.role, now).await?,
    };
    txn.commit().await?;
    Ok(m)
}

/// An organization's invitations not yet accepted nor expired, newest first.
pub async fn pending_invitations<C: ConnectionTrait>(
    db: &C,
    org: OrganizationId,
    now: DateTime<Utc>,
) -> Result<Vec<Invitation>> {
    invitation::Entity::find()
        .filter(invitation::Column::OrganizationId.eq(org.as_uuid()))
        .filter(invitation::Column::AcceptedAt.is_null())
        .filter(invitation::Column::ExpiresAt.gt(now))
        .order_by_desc(invitation::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(to_invitation)
        .collect()
}

/// The pending (not accepted, not expired) invitation a link's token belongs to, to show
/// before accepting it.
pub async fn find_pending_invitation<C: ConnectionTrait>(
    db: &C,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<Invitation>> {
    let token = token.trim();
    if token.is_empty() {
        return Ok(None);
    }
    invitation::Entity::find()
        .filter(invitation::Column::TokenHash.eq(token_hash(token)))
        .filter(invitation::Column::AcceptedAt.is_null())
        .filter(invitation::Column::ExpiresAt.gt(now))
        .one(db)
        .await?
        .map(to_invitation)
        .transpose()
}

/// Withdraws a pending invitation; its link stops working.
pub async fn revoke_invitation<C>(
    db: &C,
    actor: &Actor,
    org: OrganizationId,
    id: InvitationId,
    now: DateTime<Utc>,
) -> Result<()>
where
    C: ConnectionTrait + TransactionTrait,
{
    let txn = begin_write(db).await?;
    let row = invitation::Entity::find_by_id(id.as_uuid())
        .filter(invitation::Column::OrganizationId.eq(org.as_uuid()))
        .filter(invitation::Column::AcceptedAt.is_null())
        .one(&txn)
        .await?
        .ok_or_else(|| IdentityError::not_found("pending invitation", id))?;
    invitation::Entity::delete_by_id(row.id).exec(&txn).await?;
    audit::record(
        &txn,
        actor,
        AuditEvent::new("organization.invitation_revoked", "organization", org)
            .before(&serde_json::json!({ "invitation": id, "email": row.email, "role": row.role })),
        stamp(now),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
