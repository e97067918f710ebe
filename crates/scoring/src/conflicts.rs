//! Conflicts of interest. A reviewer declares one (organizational, financial, personal or
//! other, with a note); Granary detects the plain ones (the reviewer belongs to the applicant
//! organization or to its fiscal sponsor or intermediary); a program officer may record one.
//! A conflicted reviewer is never assigned the application and never sees it; a conflict
//! declared after assignment releases the assignment (see `assign::declare_conflict`, which
//! also finds the replacement).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use granary_core::Actor;
use granary_core::audit::{self, AuditEvent};
use granary_core::id::{ApplicationId, SolicitationId, UserId};
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, TransactionTrait};
use serde::{Deserialize, Serialize};

use crate::entity::{conflict, membership, organization, pool_member};
use crate::error::{Result, ScoringError};
use crate::model::*;
use crate::subjects;

/// The longest note kept with a conflict.
pub const MAX_NOTE_CHARS: usize = 2_000;

pub(crate) fn to_conflict(row: conflict::Model) -> Result<Conflict> {
    Ok(Conflict {
        id: ConflictId(row.id),
        solicitation_id: SolicitationId(row.solicitation_id),
        application_id: ApplicationId(row.application_id),
        reviewer: UserId(row.user_id),
        source: ConflictSource::parse(&row.source)
            .ok_or_else(|| ScoringError::Corrupt(format!("conflict source {:?}", row.source)))?,
        kind: ConflictKind::parse(&row.kind)
            .ok_or_else(|| ScoringError::Corrupt(format!("conflict kind {:?}", row.kind)))?,
        note: row.note,
        recorded_by: row.recorded_by,
        recorded_at: row.recorded_at,
    })
}

/// Every conflict recorded for a solicitation, oldest first.
pub async fn conflicts<C: ConnectionTrait>(db: &C, solicitation: SolicitationId) -> Result<Vec<Conflict>> {
    conflict::Entity::find()
        .filter(conflict::Column::SolicitationId.eq(solicitation.as_uuid()))
        .order_by_asc(conflict::Column::RecordedAt)
        .all(db)
        .await?
        .into_iter()
        .map(to_conflict)
        .collect()
}

/// The set of conflicted (application, reviewer) pairs of a solicitation.
pub async fn conflicted_pairs<C: ConnectionTrait>(
    db: &C,
    solicitation: SolicitationId,
) -> Result<BTreeSet<(uuid::Uuid, uuid::Uuid)>> {
    Ok(conflict::Entity::find()
        .filter(conflict::Column::SolicitationId.eq(solicitation.as_uuid()))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.application_id, c.user_id))
        .collect())
}

/// Whether a reviewer has a recorded conflict with an application.
pub async fn is_conflicted<C: ConnectionTrait>(db: &C, application: ApplicationId, reviewer: UserId) -> Result<bool> {
    Ok(conflict::Entity::find()
        .filter(conflict::Column::ApplicationId.eq(application.as_uuid()))
        .filter(conflict::Column::UserId.eq(reviewer.as_uuid()))
        .one(db)
        .await?
        .is_some())
}

/// What a reviewer (or officer) says about a conflict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConflictDeclaration {
    pub kind: ConflictKind,
    #[serde(default)]
    pub note: String,
}

/// Records a conflict unless one is already recorded for the pair; returns it either way.
/// Runs inside the caller's transaction.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn record<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    solicitation: SolicitationId,
    application: ApplicationId,
    reviewer: UserId,
    source: ConflictSource,
    declaration: &ConflictDeclaration,
    now: DateTime<Utc>,
) -> Result<Conflict> {
    if declaration.note.chars().count() > MAX_NOTE_CHARS {
        return Err(ScoringError::field(
            "note",
            format!("must be at most {MAX_NOTE_CHARS} characters"),
        ));
    }
    if declaration.kind == ConflictKind::Other && declaration.note.trim().is_empty() {
        return Err(ScoringError::field(
            "note",
            "say what the conflict is when its kind is \"other\"",
        ));
    }
    if let Some(existing) = conflict::Entity::find()
        .filter(conflict::Column::ApplicationId.eq(application.as_uuid()))
        .filter(conflict::Column::UserId.eq(reviewer.as_uuid()))
        .one(db)
        .await?
    {
        return to_conflict(existing);
    }
    let row = conflict::ActiveModel {
        id: Set(ConflictId::new().as_uuid()),
        solicitation_id: Set(solicitation.as_uuid()),
        application_id: Set(application.as_uuid()),
        user_id: Set(reviewer.as_uuid()),
        source: Set(source.as_str().to_string()),
        kind: Set(declaration.kind.as_str().to_string()),
        note: Set(declaration.note.trim().to_string()),
        recorded_by: Set(actor.display_name()),
        recorded_at: Set(now),
    }
    .insert(db)
    .await?;
    audit::record(
        db,
        actor,
        AuditEvent::new("conflict.recorded", "application", application).after(&serde_json::json!({
            "reviewer": reviewer,
            "source": source,
            "kind": declaration.kind,
        })),
        now,
    )
    .await?;
    to_conflict(row)
}

/// Finds the conflicts Granary can see for itself: a pool reviewer who is a member of an
/// applicant organization, or of its fiscal sponsor (the intermediary it applies through).
/// Records the ones not yet recorded and returns how many were new. Runs inside the caller's
/// transaction (assignment runs it first).
pub async fn detect<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    actor: &Actor,
    solicitation: SolicitationId,
    now: DateTime<Utc>,
) -> Result<usize> {
    let apps = subjects::submitted(db, solicitation).await?;
    if apps.is_empty() {
        return Ok(0);
    }
    let reviewers: BTreeSet<uuid::Uuid> = pool_member::Entity::find()
        .filter(pool_member::Column::SolicitationId.eq(solicitation.as_uuid()))
        .all(db)
        .await?
        .into_iter()
        .map(|p| p.user_id)
        .collect();
    if reviewers.is_empty() {
        return Ok(0);
    }
    // Each applicant organization's fiscal sponsor.
    let org_ids: BTreeSet<uuid::Uuid> = apps.iter().map(|a| a.organization_id).collect();
    let mut sponsor: BTreeMap<uuid::Uuid, uuid::Uuid> = BTreeMap::new();
    for chunk in org_ids.iter().copied().collect::<Vec<_>>().chunks(500) {
        for o in organization::Entity::find()
            .filter(organization::Column::Id.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            if let Some(s) = o.fiscal_sponsor_id {
                sponsor.insert(o.id, s);
            }
        }
    }
    // Which organizations each pool reviewer belongs to.
    let mut belongs: BTreeMap<uuid::Uuid, BTreeSet<uuid::Uuid>> = BTreeMap::new();
    for chunk in reviewers.iter().copied().collect::<Vec<_>>().chunks(500) {
        for m in membership::Entity::find()
            .filter(membership::Column::UserId.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            belongs.entry(m.user_id).or_default().insert(m.organization_id);
        }
    }
    let known = conflicted_pairs(db, solicitation).await?;
    let mut new = 0;
    for app in &apps {
        for (reviewer, orgs) in &belongs {
            let via = if orgs.contains(&app.organization_id) {
                Some("a member of the applicant organization")
            } else if sponsor.get(&app.organization_id).is_some_and(|s| orgs.contains(s)) {
                Some("a member of the applicant's fiscal sponsor")
            } else {
                None
            };
            let Some(via) = via else { continue };
            if known.contains(&(app.id, *reviewer)) {
                continue;
            }
            record(
                db,
                actor,
                solicitation,
                ApplicationId(app.id),
                UserId(*reviewer),
                ConflictSource::Detected,
                &ConflictDeclaration {
                    kind: ConflictKind::Organizational,
                    note: format!("The reviewer is {via}."),
                },
                now,
            )
            .await?;
            new += 1;
        }
    }
    Ok(new)
}
