//! The applications under review: those whose latest submission stands (submitted, not
//! withdrawn). Reviewers review the submitted snapshot, never the live draft.

use std::collections::BTreeMap;

use granary_applications::ReceivedSnapshot;
use granary_core::Money;
use granary_core::id::{ApplicationId, SolicitationId};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::entity::{application, organization, submission};
use crate::error::{Result, ScoringError};

/// An application under review, as the lists need it.
#[derive(Debug, Clone, PartialEq)]
pub struct Subject {
    pub id: uuid::Uuid,
    pub organization_id: uuid::Uuid,
    pub organization_name: String,
    pub project_title: String,
    pub request: Option<Money>,
    pub submission_id: uuid::Uuid,
}

/// The submitted applications of a solicitation, oldest first.
pub async fn submitted<C: ConnectionTrait>(db: &C, solicitation: SolicitationId) -> Result<Vec<Subject>> {
    let rows = application::Entity::find()
        .filter(application::Column::SolicitationId.eq(solicitation.as_uuid()))
        .filter(application::Column::Status.eq("submitted"))
        .order_by_asc(application::Column::Id)
        .all(db)
        .await?;
    let mut names = BTreeMap::new();
    let org_ids: Vec<uuid::Uuid> = rows.iter().map(|r| r.organization_id).collect();
    for chunk in org_ids.chunks(500) {
        for o in organization::Entity::find()
            .filter(organization::Column::Id.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            names.insert(o.id, o.name);
        }
    }
    rows.into_iter()
        .filter_map(|r| r.current_submission_id.map(|s| (r, s)))
        .map(|(r, submission_id)| {
            Ok(Subject {
                id: r.id,
                organization_name: names.get(&r.organization_id).cloned().unwrap_or_default(),
                organization_id: r.organization_id,
                project_title: r.project_title,
                request: r
                    .total_request_cents
                    .map(Money::from_cents)
                    .transpose()
                    .map_err(|e| ScoringError::Corrupt(format!("request of {}: {e}", r.id)))?,
                submission_id,
            })
        })
        .collect()
}

/// The snapshot of an application's standing submission.
pub async fn snapshot<C: ConnectionTrait>(db: &C, application: ApplicationId) -> Result<ReceivedSnapshot> {
    let app = application::Entity::find_by_id(application.as_uuid())
        .one(db)
        .await?
        .ok_or_else(|| ScoringError::NotFound(format!("application {application}")))?;
    let sub_id = app
        .current_submission_id
        .filter(|_| app.status == "submitted")
        .ok_or_else(|| ScoringError::Conflict("this application has no standing submission".to_string()))?;
    let sub = submission::Entity::find_by_id(sub_id)
        .one(db)
        .await?
        .ok_or_else(|| ScoringError::Corrupt(format!("submission {sub_id} is missing")))?;
    serde_json::from_str(&sub.snapshot_json)
        .map_err(|e| ScoringError::Corrupt(format!("snapshot of {application}: {e}")))
}

/// The snapshots of many applications, by application id.
pub async fn snapshots<C: ConnectionTrait>(
    db: &C,
    subjects: &[Subject],
) -> Result<BTreeMap<uuid::Uuid, ReceivedSnapshot>> {
    let mut out = BTreeMap::new();
    let ids: Vec<uuid::Uuid> = subjects.iter().map(|s| s.submission_id).collect();
    for chunk in ids.chunks(200) {
        for sub in submission::Entity::find()
            .filter(submission::Column::Id.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            let snap: ReceivedSnapshot = serde_json::from_str(&sub.snapshot_json)
                .map_err(|e| ScoringError::Corrupt(format!("snapshot of {}: {e}", sub.application_id)))?;
            out.insert(sub.application_id, snap);
        }
    }
    Ok(out)
}
