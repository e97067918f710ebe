//! A solicitation's review settings and reviewer pool. Reviewers are members of the issuing
//! office (staff, or people invited with the reviewer role, such as community reviewers); the
//! pool says which of them review this solicitation, in what capacity, with what expertise
//! and how many applications each may take.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use granary_core::Actor;
use granary_core::ValidationErrors;
use granary_core::audit::{self, AuditEvent};
use granary_core::db::begin_write;
use granary_core::id::{OrganizationId, SolicitationId, UserId};
use granary_solicitations::{ProgramArea, Solicitation};
use rust_decimal::Decimal;
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
    TransactionSession, TransactionTrait,
};
use serde::{Deserialize, Serialize};

use crate::entity::{membership, pool_member, review, settings as settings_row, user};
use crate::error::{Result, ScoringError};
use crate::model::*;

pub(crate) fn to_json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| ScoringError::Corrupt(e.to_string()))
}

pub(crate) fn from_json<T: for<'de> Deserialize<'de>>(what: &str, s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| ScoringError::Corrupt(format!("{what}: {e}")))
}

/// The most reviewers an application can be given, and the most applications one reviewer can
/// take: far above any real program, low enough to catch a typing slip.
pub const MAX_REVIEWS_PER_APPLICATION: u32 = 10;
pub const MAX_LOAD: u32 = 10_000;

/// The review settings of a solicitation (the defaults until an officer saves some).
pub async fn settings<C: ConnectionTrait>(db: &C, solicitation: SolicitationId) -> Result<(ReviewSettings, i32)> {
    match settings_row::Entity::find_by_id(solicitation.as_uuid()).one(db).await? {
        Some(row) => Ok((from_json("review settings", &row.settings_json)?, row.version)),
        None => Ok((ReviewSettings::default(), 0)),
    }
}

/// Checks settings, naming each field that is wrong.
pub fn validate_settings(s: &ReviewSettings) -> std::result::Result<(), ValidationErrors> {
    let mut v = ValidationErrors::new();
    if s.reviews_per_application == 0 || s.reviews_per_application > MAX_REVIEWS_PER_APPLICATION {
        v.add(
            "reviews_per_application",
            format!("must be between 1 and {MAX_REVIEWS_PER_APPLICATION}"),
        );
    }
    if s.max_load == 0 || s.max_load > MAX_LOAD {
        v.add("max_load", format!("must be between 1 and {MAX_LOAD}"));
    }
    if s.min_load > s.max_load {
        v.add("min_load", "must not be more than the maximum load");
    }
    if s.disagreement_percent <= Decimal::ZERO || s.disagreement_percent > Decimal::ONE_HUNDRED {
        v.add("disagreement_percent", "must be more than 0 and at most 100");
    }
    if s.available_funds.is_some_and(|m| m.is_negative()) {
        v.add("available_funds", "must not be negative");
    }
    v.into_result()
}

/// Saves a solicitation's review settings. `expected_version` is the version the officer
/// started from (0 for the defaults); a stale save is refused.
pub async fn save_settings<C>(
    db: &C,
    actor: &Actor,
    solicitation: SolicitationId,
    new: ReviewSettings,
    expected_version: i32,
    now: DateTime<Utc>,
) -> Result<i32>
where
    C: ConnectionTrait + TransactionTrait,
{
    validate_settings(&new).map_err(ScoringError::Invalid)?;
    let txn = begin_write(db).await?;
    let existing = settings_row::Entity::find_by_id(solicitation.as_uuid())
        .lock_exclusive()
        .one(&txn)
        .await?;
    let current = existing.as_ref().map_or(0, |r| r.version);
    if current != expected_version {
        return Err(ScoringError::VersionConflict { current });
    }
    let (before, _) = settings(&txn, solicitation).await?;
    let json = to_json(&new)?;
    let version = current + 1;
    match existing {
        Some(row) => {
            let mut am = row.into_active_model();
            am.settings_json = Set(json);
            am.version = Set(version);
            am.updated_at = Set(now);
            am.updated_by = Set(actor.display_name());
            am.update(&txn).await?;
        }
        None => {
            settings_row::ActiveModel {
                solicitation_id: Set(solicitation.as_uuid()),
                settings_json: Set(json),
                version: Set(version),
                updated_at: Set(now),
                updated_by: Set(actor.display_name()),
            }
            .insert(&txn)
            .await?;
        }
    }
    audit::record(
        &txn,
        actor,
        AuditEvent::new("review_settings.saved", "solicitation", solicitation)
            .before(&before)
            .after(&new),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(version)
}

/// A member of the issuing office who could be put in the pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub person: PersonRef,
    /// Their role in the office: owner, staff or reviewer.
    pub role: String,
    pub in_pool: bool,
}

/// The office's members, each marked whether already in this solicitation's pool.
pub async fn candidates<C: ConnectionTrait>(db: &C, s: &Solicitation) -> Result<Vec<Candidate>> {
    let members = membership::Entity::find()
        .filter(membership::Column::OrganizationId.eq(s.office.id.as_uuid()))
        .all(db)
        .await?;
    let people = people(db, members.iter().map(|m| m.user_id)).await?;
    let in_pool: std::collections::BTreeSet<uuid::Uuid> = pool_member::Entity::find()
        .filter(pool_member::Column::SolicitationId.eq(s.id.as_uuid()))
        .all(db)
        .await?
        .into_iter()
        .map(|p| p.user_id)
        .collect();
    let mut out: Vec<Candidate> = members
        .into_iter()
        .filter_map(|m| {
            people.get(&m.user_id).map(|p| Candidate {
                person: p.clone(),
                role: m.role,
                in_pool: in_pool.contains(&m.user_id),
            })
        })
        .collect();
    out.sort_by_key(|c| c.person.name.to_lowercase());
    Ok(out)
}

/// Names and emails of the given users.
pub(crate) async fn people<C: ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = uuid::Uuid>,
) -> Result<BTreeMap<uuid::Uuid, PersonRef>> {
    let ids: Vec<uuid::Uuid> = ids.into_iter().collect();
    let mut out = BTreeMap::new();
    for chunk in ids.chunks(500) {
        for u in user::Entity::find()
            .filter(user::Column::Id.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            out.insert(
                u.id,
                PersonRef {
                    id: UserId(u.id),
                    name: u.display_name,
                    email: u.email,
                },
            );
        }
    }
    Ok(out)
}

fn to_member(row: pool_member::Model, person: PersonRef) -> Result<PoolMember> {
    Ok(PoolMember {
        id: PoolMemberId(row.id),
        solicitation_id: SolicitationId(row.solicitation_id),
        reviewer: person,
        kind: ReviewerKind::parse(&row.kind).ok_or_else(|| ScoringError::Corrupt(format!("kind {:?}", row.kind)))?,
        expertise: from_json("expertise", &row.expertise_json)?,
        min_load: row.min_load.and_then(|v| u32::try_from(v).ok()),
        max_load: row.max_load.and_then(|v| u32::try_from(v).ok()),
        added_at: row.added_at,
    })
}

/// A solicitation's reviewer pool, by name.
pub async fn pool<C: ConnectionTrait>(db: &C, solicitation: SolicitationId) -> Result<Vec<PoolMember>> {
    let rows = pool_member::Entity::find()
        .filter(pool_member::Column::SolicitationId.eq(solicitation.as_uuid()))
        .order_by_asc(pool_member::Column::AddedAt)
        .all(db)
        .await?;
    let people = people(db, rows.iter().map(|r| r.user_id)).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let person = people
            .get(&r.user_id)
            .cloned()
            .ok_or_else(|| ScoringError::Corrupt(format!("reviewer {} is missing", r.user_id)))?;
        out.push(to_member(r, person)?);
    }
    out.sort_by_key(|m| m.reviewer.name.to_lowercase());
    Ok(out)
}

/// One user's place in a solicitation's pool, if they have one.
pub async fn pool_member_for<C: ConnectionTrait>(
    db: &C,
    solicitation: SolicitationId,
    reviewer: UserId,
) -> Result<Option<PoolMember>> {
    let Some(row) = pool_member::Entity::find()
        .filter(pool_member::Column::SolicitationId.eq(solicitation.as_uuid()))
        .filter(pool_member::Column::UserId.eq(reviewer.as_uuid()))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let person = people(db, [row.user_id])
        .await?
        .remove(&row.user_id)
        .ok_or_else(|| ScoringError::Corrupt(format!("reviewer {} is missing", row.user_id)))?;
    Ok(Some(to_member(row, person)?))
}

/// What an officer says about a reviewer in the pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolEntry {
    pub kind: ReviewerKind,
    #[serde(default)]
    pub expertise: Vec<ProgramArea>,
    #[serde(default)]
    pub min_load: Option<u32>,
    #[serde(default)]
    pub max_load: Option<u32>,
}

fn validate_entry(e: &PoolEntry) -> Result<()> {
    let mut v = ValidationErrors::new();
    if e.max_load.is_some_and(|m| m > MAX_LOAD) {
        v.add("max_load", format!("must be at most {MAX_LOAD}"));
    }
    if let (Some(min), Some(max)) = (e.min_load, e.max_load)
        && min > max
    {
        v.add("min_load", "must not be more than the maximum load");
    }
    v.into_result().map_err(ScoringError::Invalid)
}

async fn office_member<C: ConnectionTrait>(db: &C, office: OrganizationId, user: UserId) -> Result<bool> {
    Ok(membership::Entity::find()
        .filter(membership::Column::OrganizationId.eq(office.as_uuid()))
        .filter(membership::Column::UserId.eq(user.as_uuid()))
        .one(db)
        .await?
        .is_some())
}

/// Puts a member of the issuing office in the pool, or updates their entry.
pub async fn set_pool_member<C>(
    db: &C,
    actor: &Actor,
    s: &Solicitation,
    reviewer: UserId,
    entry: PoolEntry,
    now: DateTime<Utc>,
) -> Result<PoolMember>
where
    C: ConnectionTrait + TransactionTrait,
{
    validate_entry(&entry)?;
    let txn = begin_write(db).await?;
    if !office_member(&txn, s.office.id, reviewer).await? {
        return Err(ScoringError::field(
            "reviewer",
            format!(
                "is not a member of {}; invite them to the office (as a reviewer) first",
                s.office.name
            ),
        ));
    }
    let mut expertise = entry.expertise.clone();
    expertise.sort();
    expertise.dedup();
    let existing = pool_member::Entity::find()
        .filter(pool_member::Column::SolicitationId.eq(s.id.as_uuid()))
        .filter(pool_member::Column::UserId.eq(reviewer.as_uuid()))
        .one(&txn)
        .await?;
    let load = |v: Option<u32>| v.map(|n| i32::try_from(n).unwrap_or(i32::MAX));
    let (row, action) = match existing {
        Some(row) => {
            let mut am = row.into_active_model();
            am.kind = Set(entry.kind.as_str().to_string());
            am.expertise_json = Set(to_json(&expertise)?);
            am.min_load = Set(load(entry.min_load));
            am.max_load = Set(load(entry.max_load));
            (am.update(&txn).await?, "reviewer_pool.updated")
        }
        None => (
            pool_member::ActiveModel {
                id: Set(PoolMemberId::new().as_uuid()),
                solicitation_id: Set(s.id.as_uuid()),
                user_id: Set(reviewer.as_uuid()),
                kind: Set(entry.kind.as_str().to_string()),
                expertise_json: Set(to_json(&expertise)?),
                min_load: Set(load(entry.min_load)),
                max_load: Set(load(entry.max_load)),
                added_by: Set(actor.display_name()),
                added_at: Set(now),
            }
            .insert(&txn)
            .await?,
            "reviewer_pool.added",
        ),
    };
    audit::record(
        &txn,
        actor,
        AuditEvent::new(action, "solicitation", s.id).after(&serde_json::json!({
            "reviewer": reviewer,
            "kind": entry.kind,
            "expertise": expertise,
            "min_load": entry.min_load,
            "max_load": entry.max_load,
        })),
        now,
    )
    .await?;
    let person = people(&txn, [row.user_id])
        .await?
        .remove(&row.user_id)
        .ok_or_else(|| ScoringError::NotFound(format!("user {reviewer}")))?;
    txn.commit().await?;
    to_member(row, person)
}

/// Takes a reviewer out of the pool. Their unsubmitted assignments are released (the rows
/// stay as history); a reviewer who has submitted reviews stays, so the scores keep a
/// reviewer behind them.
pub async fn remove_pool_member<C>(
    db: &C,
    actor: &Actor,
    solicitation: SolicitationId,
    reviewer: UserId,
    now: DateTime<Utc>,
) -> Result<u64>
where
    C: ConnectionTrait + TransactionTrait,
{
    let txn = begin_write(db).await?;
    let row = pool_member::Entity::find()
        .filter(pool_member::Column::SolicitationId.eq(solicitation.as_uuid()))
        .filter(pool_member::Column::UserId.eq(reviewer.as_uuid()))
        .one(&txn)
        .await?
        .ok_or_else(|| ScoringError::NotFound(format!("reviewer {reviewer} in this pool")))?;
    // Locked, so a submission racing with this either lands first (and is refused below)
    // or waits and then finds its assignment released.
    let theirs = review::Entity::find()
        .filter(review::Column::SolicitationId.eq(solicitation.as_uuid()))
        .filter(review::Column::ReviewerId.eq(reviewer.as_uuid()))
        .lock_exclusive()
        .all(&txn)
        .await?;
    if theirs.iter().any(|r| r.status == ReviewStatus::Submitted.as_str()) {
        return Err(ScoringError::Conflict(
            "this reviewer has submitted reviews; they stay in the pool so their scores keep a reviewer".to_string(),
        ));
    }
    let mut released = 0;
    for r in theirs
        .into_iter()
        .filter(|r| r.status != ReviewStatus::Released.as_str())
    {
        let version = r.version + 1;
        let mut am = r.into_active_model();
        am.status = Set(ReviewStatus::Released.as_str().to_string());
        am.version = Set(version);
        am.updated_at = Set(now);
        am.update(&txn).await?;
        released += 1;
    }
    pool_member::Entity::delete_by_id(row.id).exec(&txn).await?;
    audit::record(
        &txn,
        actor,
        AuditEvent::new("reviewer_pool.removed", "solicitation", solicitation)
            .before(&serde_json::json!({ "reviewer": reviewer, "released_assignments": released })),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(released)
}
