//! Reviews: what an assigned reviewer writes against the rubric. A reviewer saves drafts
//! (each save names its version, so two tabs never overwrite each other silently), submits
//! when every criterion is scored, and can change nothing after that unless a program
//! officer reopens the review. A reviewer with a conflict never sees the application.

use chrono::{DateTime, Utc};
use granary_core::Actor;
use granary_core::ValidationErrors;
use granary_core::audit::{self, AuditEvent};
use granary_core::db::begin_write;
use granary_core::id::{ApplicationId, SolicitationId, UserId};
use granary_solicitations::Rubric;
use rust_decimal::Decimal;
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
    TransactionSession, TransactionTrait,
};

use crate::conflicts;
use crate::entity::review;
use crate::error::{Result, ScoringError};
use crate::model::*;
use crate::pool::{from_json, to_json};

/// The longest strengths, weaknesses or overall comment a reviewer can write.
pub const MAX_COMMENT_CHARS: usize = 10_000;
/// Scores are kept to two decimal places (7.5 or 7.25, not 7.125).
pub const SCORE_DECIMALS: u32 = 2;

pub(crate) fn to_review(row: review::Model) -> Result<Review> {
    Ok(Review {
        id: ReviewId(row.id),
        solicitation_id: SolicitationId(row.solicitation_id),
        application_id: ApplicationId(row.application_id),
        reviewer: UserId(row.reviewer_id),
        status: ReviewStatus::parse(&row.status)
            .ok_or_else(|| ScoringError::Corrupt(format!("review status {:?}", row.status)))?,
        pinned: row.pinned,
        version: row.version,
        content: ReviewContent {
            criteria: from_json("review scores", &row.scores_json)?,
            overall_comment: row.overall_comment,
        },
        assigned_by: row.assigned_by,
        assigned_at: row.assigned_at,
        updated_at: row.updated_at,
        submitted_at: row.submitted_at,
        reopened_by: row.reopened_by,
        reopened_at: row.reopened_at,
    })
}

/// A review by id.
pub async fn get<C: ConnectionTrait>(db: &C, id: ReviewId) -> Result<Review> {
    review::Entity::find_by_id(id.as_uuid())
        .one(db)
        .await?
        .ok_or_else(|| ScoringError::NotFound(format!("review {id}")))
        .and_then(to_review)
}

/// A reviewer's live assignments across all solicitations, oldest first.
pub async fn assignments_of<C: ConnectionTrait>(db: &C, reviewer: UserId) -> Result<Vec<Review>> {
    review::Entity::find()
        .filter(review::Column::ReviewerId.eq(reviewer.as_uuid()))
        .filter(review::Column::Status.ne(ReviewStatus::Released.as_str()))
        .order_by_asc(review::Column::AssignedAt)
        .all(db)
        .await?
        .into_iter()
        .map(to_review)
        .collect()
}

/// Every review of an application, released ones included, oldest first.
pub async fn of_application<C: ConnectionTrait>(db: &C, application: ApplicationId) -> Result<Vec<Review>> {
    review::Entity::find()
        .filter(review::Column::ApplicationId.eq(application.as_uuid()))
        .order_by_asc(review::Column::AssignedAt)
        .order_by_asc(review::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(to_review)
        .collect()
}

/// Every review of a solicitation, released ones included.
pub async fn of_solicitation<C: ConnectionTrait>(db: &C, solicitation: SolicitationId) -> Result<Vec<Review>> {
    review::Entity::find()
        .filter(review::Column::SolicitationId.eq(solicitation.as_uuid()))
        .order_by_asc(review::Column::ApplicationId)
        .order_by_asc(review::Column::AssignedAt)
        .order_by_asc(review::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(to_review)
        .collect()
}

/// Opens a review for its own reviewer: it must be theirs, live, and not conflicted.
pub async fn open_for_reviewer<C: ConnectionTrait>(db: &C, id: ReviewId, reviewer: UserId) -> Result<Review> {
    let r = get(db, id).await?;
    if r.reviewer != reviewer || r.status == ReviewStatus::Released {
        // Someone else's review, or one taken back: as if it did not exist.
        return Err(ScoringError::NotFound(format!("review {id}")));
    }
    if conflicts::is_conflicted(db, r.application_id, reviewer).await? {
        return Err(ScoringError::Conflicted);
    }
    Ok(r)
}

/// Checks a review against the rubric. With `complete`, every criterion must be scored.
pub fn validate(content: &ReviewContent, rubric: &Rubric, complete: bool) -> std::result::Result<(), ValidationErrors> {
    let mut v = ValidationErrors::new();
    for key in content.criteria.keys() {
        if !rubric.criteria.iter().any(|c| &c.key == key) {
            v.add(
                format!("criteria.{key}"),
                "is not a criterion of this solicitation's rubric",
            );
        }
    }
    for c in &rubric.criteria {
        let field = format!("criteria.{}.score", c.key);
        let entry = content.criteria.get(&c.key);
        match entry.and_then(|e| e.score) {
            None if complete => v.add(field.as_str(), format!("score {} (0 to {} points)", c.name, c.points)),
            None => {}
            Some(s) if s < Decimal::ZERO || s > Decimal::from(c.points) => {
                v.add(&field, format!("must be between 0 and {} points", c.points));
            }
            Some(s) if s.normalize().scale() > SCORE_DECIMALS => {
                v.add(&field, "use at most two decimal places");
            }
            Some(_) => {}
        }
        if let Some(e) = entry {
            for (name, text) in [("strengths", &e.strengths), ("weaknesses", &e.weaknesses)] {
                if text.chars().count() > MAX_COMMENT_CHARS {
                    v.add(
                        format!("criteria.{}.{name}", c.key),
                        format!("must be at most {MAX_COMMENT_CHARS} characters"),
                    );
                }
            }
        }
    }
    if content.overall_comment.chars().count() > MAX_COMMENT_CHARS {
        v.add(
            "overall_comment",
            format!("must be at most {MAX_COMMENT_CHARS} characters"),
        );
    }
    v.into_result()
}

async fn lock_own<C: ConnectionTrait>(db: &C, id: ReviewId, reviewer: UserId) -> Result<review::Model> {
    let row = review::Entity::find_by_id(id.as_uuid())
        .lock_exclusive()
        .one(db)
        .await?
        .filter(|r| r.reviewer_id == reviewer.as_uuid() && r.status != ReviewStatus::Released.as_str())
        .ok_or_else(|| ScoringError::NotFound(format!("review {id}")))?;
    if conflicts::is_conflicted(db, ApplicationId(row.application_id), reviewer).await? {
        return Err(ScoringError::Conflicted);
    }
    if row.status == ReviewStatus::Submitted.as_str() {
        return Err(ScoringError::Conflict(
            "this review was submitted; ask the program officer to reopen it to change it".to_string(),
        ));
    }
    Ok(row)
}

/// Saves a reviewer's draft. `expected_version` is the version they opened.
#[allow(clippy::too_many_arguments)]
pub async fn save<C>(
    db: &C,
    actor: &Actor,
    reviewer: UserId,
    id: ReviewId,
    content: ReviewContent,
    expected_version: i32,
    rubric: &Rubric,
    now: DateTime<Utc>,
) -> Result<Review>
where
    C: ConnectionTrait + TransactionTrait,
{
    validate(&content, rubric, false).map_err(ScoringError::Invalid)?;
    let txn = begin_write(db).await?;
    let row = lock_own(&txn, id, reviewer).await?;
    if row.version != expected_version {
        return Err(ScoringError::VersionConflict { current: row.version });
    }
    let mut am = row.into_active_model();
    am.scores_json = Set(to_json(&content.criteria)?);
    am.overall_comment = Set(content.overall_comment.clone());
    am.status = Set(ReviewStatus::InProgress.as_str().to_string());
    am.version = Set(expected_version + 1);
    am.updated_at = Set(now);
    let row = am.update(&txn).await?;
    audit::record(
        &txn,
        actor,
        AuditEvent::new("review.saved", "review", id).after(&serde_json::json!({ "version": row.version })),
        now,
    )
    .await?;
    txn.commit().await?;
    to_review(row)
}

/// Submits a review: every criterion scored within its points. Saves `content` first when
/// given (so a form's last edits and the submission are one step).
#[allow(clippy::too_many_arguments)]
pub async fn submit<C>(
    db: &C,
    actor: &Actor,
    reviewer: UserId,
    id: ReviewId,
    content: Option<ReviewContent>,
    expected_version: i32,
    rubric: &Rubric,
    now: DateTime<Utc>,
) -> Result<Review>
where
    C: ConnectionTrait + TransactionTrait,
{
    let txn = begin_write(db).await?;
    let row = lock_own(&txn, id, reviewer).await?;
    if row.version != expected_version {
        return Err(ScoringError::VersionConflict { current: row.version });
    }
    let content = match content {
        Some(c) => c,
        None => to_review(row.clone())?.content,
    };
    validate(&content, rubric, true).map_err(ScoringError::Invalid)?;
    let total: Decimal = content.criteria.values().filter_map(|c| c.score).sum();
    let mut am = row.into_active_model();
    am.scores_json = Set(to_json(&content.criteria)?);
    am.overall_comment = Set(content.overall_comment.clone());
    am.status = Set(ReviewStatus::Submitted.as_str().to_string());
    am.version = Set(expected_version + 1);
    am.updated_at = Set(now);
    am.submitted_at = Set(Some(now));
    let row = am.update(&txn).await?;
    audit::record(
        &txn,
        actor,
        AuditEvent::new("review.submitted", "review", id).after(&serde_json::json!({
            "application": row.application_id,
            "total": total,
        })),
        now,
    )
    .await?;
    txn.commit().await?;
    to_review(row)
}

/// A program officer reopens a submitted review so its reviewer can change it. The reason is
/// kept in the audit log.
pub async fn reopen<C>(db: &C, actor: &Actor, id: ReviewId, reason: &str, now: DateTime<Utc>) -> Result<Review>
where
    C: ConnectionTrait + TransactionTrait,
{
    if reason.trim().is_empty() {
        return Err(ScoringError::field("reason", "say why the review is reopened"));
    }
    let txn = begin_write(db).await?;
    let row = review::Entity::find_by_id(id.as_uuid())
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or_else(|| ScoringError::NotFound(format!("review {id}")))?;
    if row.status != ReviewStatus::Submitted.as_str() {
        return Err(ScoringError::Conflict(
            "only a submitted review can be reopened".to_string(),
        ));
    }
    let version = row.version + 1;
    let mut am = row.into_active_model();
    am.status = Set(ReviewStatus::InProgress.as_str().to_string());
    am.version = Set(version);
    am.updated_at = Set(now);
    am.submitted_at = Set(None);
    am.reopened_by = Set(Some(actor.display_name()));
    am.reopened_at = Set(Some(now));
    let row = am.update(&txn).await?;
    audit::record(
        &txn,
        actor,
        AuditEvent::new("review.reopened", "review", id).after(&serde_json::json!({ "reason": reason.trim() })),
        now,
    )
    .await?;
    txn.commit().await?;
    to_review(row)
}

/// The other submitted reviews of the same application a reviewer may read: only when the
/// solicitation shares reviews, and only once the reviewer has submitted their own.
pub async fn others_visible_to<C: ConnectionTrait>(
    db: &C,
    own: &Review,
    settings: &ReviewSettings,
) -> Result<Vec<Review>> {
    if !settings.share_reviews_after_submitting || own.status != ReviewStatus::Submitted {
        return Ok(Vec::new());
    }
    Ok(of_application(db, own.application_id)
        .await?
        .into_iter()
        .filter(|r| r.id != own.id && r.status == ReviewStatus::Submitted)
        .collect())
}
