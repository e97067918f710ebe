//! Who belongs to which organization, in what role. An organization always keeps at least
//! one owner: removing or demoting the last one is refused. Changes lock the organization's
//! row, so two owners demoting each other at once take turns and the second is refused.

use chrono::{DateTime, Utc};
use granary_core::Actor;
use granary_core::audit::{self, AuditEvent};
use granary_core::db::begin_write;
use granary_core::id::{OrganizationId, UserId};
use granary_core::policy::{OrgKind, Role};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionSession, TransactionTrait,
};
use serde::Serialize;

use crate::EmailAddress;
use crate::entity::{membership, organization, user};
use crate::error::{IdentityError, Result};
use crate::organizations::{Organization, to_organization};
use crate::stamp;
use crate::users::{User, get_user, to_user};

/// A member of an organization, as its member list shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    pub user_id: UserId,
    pub display_name: String,
    pub email: EmailAddress,
    pub role: Role,
    pub since: DateTime<Utc>,
}

/// One organization a user belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrgMembership {
    pub organization_id: OrganizationId,
    pub organization_name: String,
    pub kind: OrgKind,
    pub role: Role,
    pub since: DateTime<Utc>,
}

fn role_of(s: &str) -> Result<Role> {
    Role::parse(s).ok_or_else(|| IdentityError::Corrupt(format!("membership role {s:?}")))
}

pub(crate) fn member(m: &membership::Model, u: &User) -> Result<Member> {
    Ok(Member {
        user_id: u.id,
        display_name: u.display_name.clone(),
        email: u.email.clone(),
        role: role_of(&m.role)?,
        since: m.created_at,
    })
}

/// Locks an organization's row for the rest of the transaction and returns it.
pub(crate) async fn lock_organization<C: ConnectionTrait>(db: &C, org: OrganizationId) -> Result<Organization> {
    organization::Entity::find_by_id(org.as_uuid())
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or_else(|| IdentityError::not_found("organization", org))
        .and_then(to_organization)
}

async fn find_membership<C: ConnectionTrait>(
    db: &C,
    org: OrganizationId,
    user: UserId,
) -> Result<Option<membership::Model>> {
    Ok(membership::Entity::find()
        .filter(membership::Column::OrganizationId.eq(org.as_uuid()))
        .filter(membership::Column::UserId.eq(user.as_uuid()))
        .one(db)
        .await?)
}

async fn owner_count<C: ConnectionTrait>(db: &C, org: OrganizationId) -> Result<u64> {
    Ok(membership::Entity::find()
        .filter(membership::Column::OrganizationId.eq(org.as_uuid()))
        .filter(membership::Column::Role.eq(Role::Owner.as_str()))
        .count(db)
        .await?)
}

/// Inserts a membership and audits it, inside the caller's transaction.
pub(crate) async fn insert_membership<C>(
    db: &C,
    actor: &Actor,
    org: &Organization,
    user: &User,
    role: Role,
    now: DateTime<Utc>,
) -> Result<Member>
where
    C: ConnectionTrait + TransactionTrait,
{
    let row = membership::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        user_id: Set(user.id.as_uuid()),
        organization_id: Set(org.id.as_uuid()),
        role: Set(role.as_str().to_string()),
        created_at: Set(stamp(now)),
    }
    .insert(db)
    .await
    .map_err(|e| {
        if matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) {
            IdentityError::AlreadyMember
        } else {
            IdentityError::Database(e)
        }
    })?;
    audit::record(
        db,
        actor,
        AuditEvent::new("organization.member_added", "organization", org.id)
            .after(&serde_json::json!({ "user": user.id, "email": user.email, "role": role })),
        stamp(now),
    )
    .await?;
    member(&row, user)
}

/// Adds a user to an organization in a role.
pub async fn add_member<C>(
    db: &C,
    actor: &Actor,
    org: OrganizationId,
    user: UserId,
    role: Role,
    now: DateTime<Utc>,
) -> Result<Member>
where
    C: ConnectionTrait + TransactionTrait,
{
    let txn = begin_write(db).await?;
    let o = lock_organization(&txn, org).await?;
    let u = get_user(&txn, user).await?;
    if find_membership(&txn, org, user).await?.is_some() {
        return Err(IdentityError::AlreadyMember);
    }
    let m = insert_membership(&txn, actor, &o, &u, role, now).await?;
    txn.commit().await?;
    Ok(m)
}

/// Changes a member's role. Demoting the last owner is refused.
pub async fn change_role<C>(
    db: &C,
    actor: &Actor,
    org: OrganizationId,
    user: UserId,
    role: Role,
    now: DateTime<Utc>,
) -> Result<Member>
where
    C: ConnectionTrait + TransactionTrait,
{
    let txn = begin_write(db).await?;
    lock_organization(&txn, org).await?;
    let row = find_membership(&txn, org, user)
        .await?
        .ok_or_else(|| IdentityError::not_found("member", user))?;
    let before = role_of(&row.role)?;
    let u = get_user(&txn, user).await?;
    if before == role {
        return member(&row, &u);
    }
    if before == Role::Owner && owner_count(&txn, org).await? <= 1 {
        return Err(IdentityError::LastOwner);
    }
    let mut am = row.into_active_model();
    am.role = Set(role.as_str().to_string());
    let row = am.update(&txn).await?;
    audit::record(
        &txn,
        actor,
        AuditEvent::new("organization.member_role_changed", "organization", org)
            .before(&serde_json::json!({ "user": user, "role": before }))
            .after(&serde_json::json!({ "user": user, "role": role })),
        stamp(now),
    )
    .await?;
    txn.commit().await?;
    member(&row, &u)
}

/// Removes a member. Removing the last owner is refused.
pub async fn remove_member<C>(
    db: &C,
    actor: &Actor,
    org: OrganizationId,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<()>
where
    C: ConnectionTrait + TransactionTrait,
{
    let txn = begin_write(db).await?;
    lock_organization(&txn, org).await?;
    let row = find_membership(&txn, org, user)
        .await?
        .ok_or_else(|| IdentityError::not_found("member", user))?;
    let role = role_of(&row.role)?;
    if role == Role::Owner && owner_count(&txn, org).await? <= 1 {
        return Err(IdentityError::LastOwner);
    }
    membership::Entity::delete_by_id(row.id).exec(&txn).await?;
    audit::record(
        &txn,
        actor,
        AuditEvent::new("organization.member_removed", "organization", org)
            .before(&serde_json::json!({ "user": user, "role": role })),
        stamp(now),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// An organization's members, owners first, then by name.
pub async fn members<C: ConnectionTrait>(db: &C, org: OrganizationId) -> Result<Vec<Member>> {
    let rows = membership::Entity::find()
        .filter(membership::Column::OrganizationId.eq(org.as_uuid()))
        .find_also_related(user::Entity)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for (m, u) in rows {
        let Some(u) = u else { continue };
        out.push(member(&m, &to_user(u)?)?);
    }
    let rank = |r: Role| match r {
        Role::Owner => 0,
        Role::Staff => 1,
        Role::Reviewer => 2,
    };
    out.sort_by(|a, b| {
        rank(a.role)
            .cmp(&rank(b.role))
            .then_with(|| a.display_name.to_lowercase().cmp(&b.display_name.to_lowercase()))
    });
    Ok(out)
}

/// The organizations a user belongs to, by name.
pub async fn memberships_of<C: ConnectionTrait>(db: &C, user: UserId) -> Result<Vec<OrgMembership>> {
    let rows = membership::Entity::find()
        .filter(membership::Column::UserId.eq(user.as_uuid()))
        .find_also_related(organization::Entity)
        .order_by_asc(organization::Column::Name)
        .all(db)
        .await?;
    rows.into_iter()
        .filter_map(|(m, o)| o.map(|o| (m, o)))
        .map(|(m, o)| {
            Ok(OrgMembership {
                organization_id: OrganizationId(o.id),
                kind: OrgKind::parse(&o.kind)
                    .ok_or_else(|| IdentityError::Corrupt(format!("organization kind {:?}", o.kind)))?,
                organization_name: o.name,
                role: role_of(&m.role)?,
                since: m.created_at,
            })
        })
        .collect()
}
