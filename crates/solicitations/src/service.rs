//! The solicitation service: typed functions over a database connection, so a caller can
//! compose several in one transaction. Each state change validates, writes, and appends to
//! the audit log in the same transaction.

use chrono::{DateTime, SubsecRound, Utc};
use granary_core::audit::{self, AuditEvent};
use granary_core::db::begin_write;
use granary_core::document_record;
use granary_core::id::{DocumentId, OrganizationId, SolicitationId};
use granary_core::{Actor, Money};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
    TransactionSession, TransactionTrait,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::entity::{attachment, office, solicitation, version};
use crate::lifecycle::Transition;
use crate::model::*;
use crate::validate::validate;
use crate::{SolicitationError, Status};

type Result<T> = std::result::Result<T, SolicitationError>;

fn to_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".to_string())
}

fn from_json<T: DeserializeOwned>(field: &str, s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| SolicitationError::Corrupt(format!("{field}: {e}")))
}

fn cents(field: &str, c: i64) -> Result<Money> {
    Money::from_cents(c).map_err(|e| SolicitationError::Corrupt(format!("{field}: {e}")))
}

/// The lower-case text that the search matches against.
fn search_text(c: &SolicitationContent, office: &str) -> String {
    let mut parts: Vec<&str> = vec![&c.number, &c.title, &c.summary, office];
    parts.extend(c.program_areas.iter().map(|a| a.label()));
    parts.extend(c.focus_tags.iter().map(|t| t.label()));
    if let Some(al) = &c.assistance_listing {
        parts.push(al);
    }
    parts.join(" \u{1f} ").to_lowercase()
}

/// Writes the content into a row's columns.
fn fill(am: &mut solicitation::ActiveModel, c: &SolicitationContent, office_name: &str) {
    am.number = Set(c.number.trim().to_string());
    am.title = Set(c.title.trim().to_string());
    am.summary = Set(c.summary.trim().to_string());
    am.description = Set(c.description.clone());
    am.program_areas_json = Set(to_json(&c.program_areas));
    am.focus_tags_json = Set(to_json(&c.focus_tags));
    am.applicant_types_json = Set(to_json(&c.eligibility.applicant_types));
    am.eligibility_json = Set(to_json(&c.eligibility));
    am.total_funding_cents = Set(c.funding.total_available.cents());
    am.award_floor_cents = Set(c.funding.award_floor.map(|m| m.cents()));
    am.award_ceiling_cents = Set(c.funding.award_ceiling.cents());
    am.expected_awards = Set(c.funding.expected_awards.map(|n| i32::try_from(n).unwrap_or(i32::MAX)));
    am.period_start = Set(c.funding.period_start);
    am.period_end = Set(c.funding.period_end);
    am.funding_notes = Set(c.funding.notes.clone());
    am.time_zone = Set(c.dates.time_zone.trim().to_string());
    am.opens_at = Set(c.dates.opens_at.map(|t| t.trunc_subsecs(0)));
    am.closes_at = Set(c.dates.closes_at.map(|t| t.trunc_subsecs(0)));
    am.other_dates_json = Set(to_json(&c.dates.other));
    am.rubric_json = Set(to_json(&c.rubric));
    am.priorities_json = Set(to_json(&c.priority_considerations));
    am.required_documents_json = Set(to_json(&c.required_documents));
    am.questions_json = Set(to_json(&c.questions));
    am.assistance_listing = Set(c.assistance_listing.clone());
    am.contact_json = Set(to_json(&c.contact));
    am.search_text = Set(search_text(c, office_name));
}

/// Reads a row (and its office) back into the model.
pub(crate) fn to_model(m: solicitation::Model, office: Option<office::Model>) -> Result<Solicitation> {
    let status =
        Status::parse(&m.status).ok_or_else(|| SolicitationError::Corrupt(format!("status {:?}", m.status)))?;
    let content = SolicitationContent {
        number: m.number,
        title: m.title,
        summary: m.summary,
        description: m.description,
        program_areas: from_json("program_areas", &m.program_areas_json)?,
        focus_tags: from_json("focus_tags", &m.focus_tags_json)?,
        eligibility: from_json("eligibility", &m.eligibility_json)?,
        funding: Funding {
            total_available: cents("total_funding", m.total_funding_cents)?,
            award_floor: m.award_floor_cents.map(|c| cents("award_floor", c)).transpose()?,
            award_ceiling: cents("award_ceiling", m.award_ceiling_cents)?,
            expected_awards: m.expected_awards.map(|n| u32::try_from(n).unwrap_or(0)),
            period_start: m.period_start,
            period_end: m.period_end,
            notes: m.funding_notes,
        },
        dates: KeyDates {
            time_zone: m.time_zone,
            opens_at: m.opens_at,
            closes_at: m.closes_at,
            other: from_json("other_dates", &m.other_dates_json)?,
        },
        rubric: from_json("rubric", &m.rubric_json)?,
        priority_considerations: from_json("priority_considerations", &m.priorities_json)?,
        required_documents: from_json("required_documents", &m.required_documents_json)?,
        questions: from_json("questions", &m.questions_json)?,
        assistance_listing: m.assistance_listing,
        contact: from_json("contact", &m.contact_json)?,
    };
    let office = office
        .map(|o| OfficeRef {
            id: OrganizationId(o.id),
            name: o.name,
        })
        .unwrap_or(OfficeRef {
            id: OrganizationId(m.issuing_office_id),
            name: String::new(),
        });
    Ok(Solicitation {
        id: SolicitationId(m.id),
        office,
        status,
        version: m.version,
        content,
        posted_at: m.posted_at,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

/// A compact before/after summary for the audit log.
#[derive(Serialize)]
struct AuditSummary<'a> {
    number: &'a str,
    title: &'a str,
    status: Status,
    version: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    closes_at: Option<DateTime<Utc>>,
    total_available: Money,
}

fn summary(s: &Solicitation) -> AuditSummary<'_> {
    AuditSummary {
        number: &s.content.number,
        title: &s.content.title,
        status: s.status,
        version: s.version,
        closes_at: s.content.dates.closes_at,
        total_available: s.content.funding.total_available,
    }
}

/// The names of the top-level content fields that differ.
pub fn changed_fields(before: &SolicitationContent, after: &SolicitationContent) -> Vec<String> {
    let a = serde_json::to_value(before).unwrap_or_default();
    let b = serde_json::to_value(after).unwrap_or_default();
    match (a, b) {
        (serde_json::Value::Object(a), serde_json::Value::Object(b)) => b
            .iter()
            .filter(|(k, v)| a.get(k.as_str()) != Some(v))
            .map(|(k, _)| k.clone())
            .collect(),
        _ => Vec::new(),
    }
}

async fn load_office<C: ConnectionTrait>(db: &C, id: OrganizationId) -> Result<office::Model> {
    office::Entity::find_by_id(id.as_uuid())
        .filter(office::Column::Kind.is_in(["program_office", "intermediary"]))
        .one(db)
        .await?
        .ok_or_else(|| SolicitationError::OfficeNotFound(id.to_string()))
}

/// Reads a solicitation's row and locks it until the transaction ends, so concurrent changes
/// to the same solicitation (two officers, two gateways' deadline sweeps) take turns. On
/// PostgreSQL this is `FOR UPDATE`; on SQLite the IMMEDIATE transaction already holds the
/// database's write lock.
async fn lock_row<C: ConnectionTrait>(db: &C, id: SolicitationId) -> Result<solicitation::Model> {
    solicitation::Entity::find_by_id(id.as_uuid())
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or_else(|| SolicitationError::NotFound(id.to_string()))
}

/// A solicitation by id, any status.
pub async fn get<C: ConnectionTrait>(db: &C, id: SolicitationId) -> Result<Solicitation> {
    let (row, office) = solicitation::Entity::find_by_id(id.as_uuid())
        .find_also_related(office::Entity)
        .one(db)
        .await?
        .ok_or_else(|| SolicitationError::NotFound(id.to_string()))?;
    to_model(row, office)
}

/// A solicitation by its number, any status.
pub async fn get_by_number<C: ConnectionTrait>(db: &C, number: &str) -> Result<Solicitation> {
    let (row, office) = solicitation::Entity::find()
        .filter(solicitation::Column::Number.eq(number.trim()))
        .find_also_related(office::Entity)
        .one(db)
        .await?
        .ok_or_else(|| SolicitationError::NotFound(number.to_string()))?;
    to_model(row, office)
}

async fn number_taken<C: ConnectionTrait>(db: &C, number: &str, except: Option<SolicitationId>) -> Result<bool> {
    let mut q = solicitation::Entity::find().filter(solicitation::Column::Number.eq(number.trim()));
    if let Some(id) = except {
        q = q.filter(solicitation::Column::Id.ne(id.as_uuid()));
    }
    Ok(q.one(db).await?.is_some())
}

/// Maps a unique-index violation on the number to a clear error.
fn on_write_error(number: &str) -> impl Fn(sea_orm::DbErr) -> SolicitationError + '_ {
    move |e| {
        if matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) {
            SolicitationError::DuplicateNumber(number.to_string())
        } else {
            SolicitationError::Database(e)
        }
    }
}

/// Creates a draft solicitation for an office.
pub async fn create_draft<C>(
    db: &C,
    actor: &Actor,
    office_id: OrganizationId,
    content: SolicitationContent,
    now: DateTime<Utc>,
) -> Result<Solicitation>
where
    C: ConnectionTrait + TransactionTrait,
{
    validate(&content, Status::Draft, now)?;
    let txn = begin_write(db).await?;
    let office = load_office(&txn, office_id).await?;
    if number_taken(&txn, &content.number, None).await? {
        return Err(SolicitationError::DuplicateNumber(content.number.trim().to_string()));
    }
    let id = SolicitationId::new();
    let now = now.trunc_subsecs(6);
    let mut am = solicitation::ActiveModel {
        id: Set(id.as_uuid()),
        issuing_office_id: Set(office.id),
        status: Set(Status::Draft.as_str().to_string()),
        version: Set(0),
        posted_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    fill(&mut am, &content, &office.name);
    let row = am.insert(&txn).await.map_err(on_write_error(&content.number))?;
    let created = to_model(row, Some(office))?;
    audit::record(
        &txn,
        actor,
        AuditEvent::new("solicitation.created", "solicitation", id).after(&summary(&created)),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(created)
}

/// Replaces a draft's content. Only drafts can be edited freely; posted solicitations are
/// changed by `amend`.
pub async fn update_draft<C>(
    db: &C,
    actor: &Actor,
    id: SolicitationId,
    content: SolicitationContent,
    now: DateTime<Utc>,
) -> Result<Solicitation>
where
    C: ConnectionTrait + TransactionTrait,
{
    validate(&content, Status::Draft, now)?;
    let txn = begin_write(db).await?;
    let row = lock_row(&txn, id).await?;
    let before = get(&txn, id).await?;
    if before.status != Status::Draft {
        return Err(SolicitationError::NotEditable {
            status: before.status,
            action: "edited as a draft; amend it instead",
        });
    }
    if number_taken(&txn, &content.number, Some(id)).await? {
        return Err(SolicitationError::DuplicateNumber(content.number.trim().to_string()));
    }
    let changed = changed_fields(&before.content, &content);
    let mut am = row.into_active_model();
    fill(&mut am, &content, &before.office.name);
    am.updated_at = Set(now.trunc_subsecs(6));
    let row = am.update(&txn).await.map_err(on_write_error(&content.number))?;
    let after = to_model(row, None).map(|mut s| {
        s.office = before.office.clone();
        s
    })?;
    audit::record(
        &txn,
        actor,
        AuditEvent::new("solicitation.draft_saved", "solicitation", id)
            .before(&summary(&before))
            .after(&serde_json::json!({ "summary": summary(&after), "changed_fields": changed })),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

async fn write_version<C: ConnectionTrait>(
    db: &C,
    s: &Solicitation,
    change_summary: &str,
    changed: &[String],
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<()> {
    let snapshot = serde_json::json!({ "content": s.content, "changed_fields": changed });
    version::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        solicitation_id: Set(s.id.as_uuid()),
        version: Set(s.version),
        change_summary: Set(change_summary.to_string()),
        snapshot_json: Set(snapshot.to_string()),
        actor: Set(actor.display_name()),
        created_at: Set(now.trunc_subsecs(6)),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Moves a solicitation along its lifecycle, validating the content for the new state.
/// First posting (forecast or open from draft) records version 1.
pub async fn transition<C>(
    db: &C,
    actor: &Actor,
    id: SolicitationId,
    step: Transition,
    now: DateTime<Utc>,
) -> Result<Solicitation>
where
    C: ConnectionTrait + TransactionTrait,
{
    let txn = begin_write(db).await?;
    let row = lock_row(&txn, id).await?;
    let before = get(&txn, id).await?;
    let to = step.apply(before.status)?;
    if matches!(to, Status::Forecasted | Status::Open) {
        validate(&before.content, to, now)?;
    }
    let first_posting = before.status == Status::Draft;
    let mut am = row.into_active_model();
    am.status = Set(to.as_str().to_string());
    am.updated_at = Set(now.trunc_subsecs(6));
    if first_posting {
        am.version = Set(1);
        am.posted_at = Set(Some(now.trunc_subsecs(6)));
    }
    if to == Status::Open && before.content.dates.opens_at.is_none_or(|o| o > now) {
        // Opening now: the opening date is today, whatever the forecast said.
        am.opens_at = Set(Some(now.trunc_subsecs(0)));
    }
    let row = am.update(&txn).await?;
    let mut after = to_model(row, None)?;
    after.office = before.office.clone();
    if first_posting {
        let what = if to == Status::Forecasted {
            "Posted as a forecast"
        } else {
            "Posted and opened"
        };
        write_version(&txn, &after, what, &[], actor, now).await?;
    }
    audit::record(
        &txn,
        actor,
        AuditEvent::new(step.audit_action(), "solicitation", id)
            .before(&summary(&before))
            .after(&summary(&after)),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// Amends a posted (forecasted or open) solicitation: the new content is validated for its
/// state, the version goes up by one, and the change summary and changed fields are kept.
/// `expected_version`, when given, guards against two officers amending at once.
pub async fn amend<C>(
    db: &C,
    actor: &Actor,
    id: SolicitationId,
    content: SolicitationContent,
    change_summary: &str,
    expected_version: Option<i32>,
    now: DateTime<Utc>,
) -> Result<Solicitation>
where
    C: ConnectionTrait + TransactionTrait,
{
    let change_summary = change_summary.trim();
    if change_summary.chars().count() < 5 {
        return Err(SolicitationError::field(
            "change_summary",
            "say what the amendment changes (at least 5 characters)",
        ));
    }
    if change_summary.chars().count() > 2_000 {
        return Err(SolicitationError::field(
            "change_summary",
            "must be at most 2000 characters",
        ));
    }
    let txn = begin_write(db).await?;
    let row = lock_row(&txn, id).await?;
    let before = get(&txn, id).await?;
    if !before.status.is_posted() {
        return Err(SolicitationError::NotEditable {
            status: before.status,
            action: "amended",
        });
    }
    if let Some(v) = expected_version
        && v != before.version
    {
        return Err(SolicitationError::StaleVersion {
            id,
            current: before.version,
        });
    }
    validate(&content, before.status, now)?;
    if number_taken(&txn, &content.number, Some(id)).await? {
        return Err(SolicitationError::DuplicateNumber(content.number.trim().to_string()));
    }
    let changed = changed_fields(&before.content, &content);
    if changed.is_empty() {
        return Err(SolicitationError::field("content", "the amendment changes nothing"));
    }
    let mut am = row.into_active_model();
    fill(&mut am, &content, &before.office.name);
    am.version = Set(before.version + 1);
    am.updated_at = Set(now.trunc_subsecs(6));
    let row = am.update(&txn).await.map_err(on_write_error(&content.number))?;
    let mut after = to_model(row, None)?;
    after.office = before.office.clone();
    write_version(&txn, &after, change_summary, &changed, actor, now).await?;
    audit::record(
        &txn,
        actor,
        AuditEvent::new("solicitation.amended", "solicitation", id)
            .before(&summary(&before))
            .after(&serde_json::json!({
                "summary": summary(&after),
                "change_summary": change_summary,
                "changed_fields": changed,
            })),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// The posted versions of a solicitation, oldest first.
pub async fn amendments<C: ConnectionTrait>(db: &C, id: SolicitationId) -> Result<Vec<Amendment>> {
    let rows = version::Entity::find()
        .filter(version::Column::SolicitationId.eq(id.as_uuid()))
        .order_by_asc(version::Column::Version)
        .all(db)
        .await?;
    rows.into_iter()
        .map(|r| {
            let snap: serde_json::Value = from_json("snapshot", &r.snapshot_json)?;
            let changed_fields = snap
                .get("changed_fields")
                .and_then(|v| serde_json::from_value(v.clone()).ok())
                .unwrap_or_default();
            Ok(Amendment {
                version: r.version,
                change_summary: r.change_summary,
                changed_fields,
                actor: r.actor,
                created_at: r.created_at,
            })
        })
        .collect()
}

/// The content of one posted version.
pub async fn version_content<C: ConnectionTrait>(db: &C, id: SolicitationId, v: i32) -> Result<SolicitationContent> {
    let row = version::Entity::find()
        .filter(version::Column::SolicitationId.eq(id.as_uuid()))
        .filter(version::Column::Version.eq(v))
        .one(db)
        .await?
        .ok_or_else(|| SolicitationError::NotFound(format!("{id} version {v}")))?;
    let snap: serde_json::Value = from_json("snapshot", &row.snapshot_json)?;
    serde_json::from_value(snap.get("content").cloned().unwrap_or_default())
        .map_err(|e| SolicitationError::Corrupt(format!("snapshot content: {e}")))
}

/// Closes every open solicitation whose deadline has passed. Returns how many were closed.
pub async fn close_overdue<C>(db: &C, now: DateTime<Utc>) -> Result<usize>
where
    C: ConnectionTrait + TransactionTrait,
{
    let due = solicitation::Entity::find()
        .filter(solicitation::Column::Status.eq(Status::Open.as_str()))
        .filter(solicitation::Column::ClosesAt.lte(now))
        .all(db)
        .await?;
    let mut closed = 0;
    for row in due {
        match transition(db, &Actor::System, SolicitationId(row.id), Transition::Close, now).await {
            Ok(_) => closed += 1,
            // Someone else closed it meanwhile.
            Err(SolicitationError::IllegalTransition { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(closed)
}

/// Attaches a catalogued document to a solicitation that is not archived.
pub async fn add_attachment<C>(
    db: &C,
    actor: &Actor,
    id: SolicitationId,
    document: DocumentId,
    title: &str,
    now: DateTime<Utc>,
) -> Result<Attachment>
where
    C: ConnectionTrait + TransactionTrait,
{
    let title = title.trim();
    if title.is_empty() || title.chars().count() > 255 {
        return Err(SolicitationError::field(
            "title",
            "give the attachment a title of at most 255 characters",
        ));
    }
    let txn = begin_write(db).await?;
    let s = get(&txn, id).await?;
    if s.status == Status::Archived {
        return Err(SolicitationError::NotEditable {
            status: s.status,
            action: "given attachments",
        });
    }
    let doc = document_record::get(&txn, document)
        .await?
        .ok_or_else(|| SolicitationError::field("document", "no such document"))?;
    let row = attachment::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        solicitation_id: Set(id.as_uuid()),
        document_id: Set(doc.id),
        title: Set(title.to_string()),
        created_at: Set(now.trunc_subsecs(6)),
        removed_at: Set(None),
    }
    .insert(&txn)
    .await?;
    let att = to_attachment(row, doc);
    audit::record(
        &txn,
        actor,
        AuditEvent::new("solicitation.attachment_added", "solicitation", id).after(&serde_json::json!({
            "attachment": att.id, "title": att.title, "filename": att.filename, "sha256": att.sha256, "size_bytes": att.size_bytes,
        })),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(att)
}

/// Removes an attachment from the list (the document itself is kept for earlier versions).
pub async fn remove_attachment<C>(
    db: &C,
    actor: &Actor,
    id: SolicitationId,
    attachment_id: uuid::Uuid,
    now: DateTime<Utc>,
) -> Result<()>
where
    C: ConnectionTrait + TransactionTrait,
{
    let txn = begin_write(db).await?;
    let row = attachment::Entity::find_by_id(attachment_id)
        .filter(attachment::Column::SolicitationId.eq(id.as_uuid()))
        .filter(attachment::Column::RemovedAt.is_null())
        .one(&txn)
        .await?
        .ok_or_else(|| SolicitationError::AttachmentNotFound(attachment_id.to_string()))?;
    let title = row.title.clone();
    let mut am = row.into_active_model();
    am.removed_at = Set(Some(now.trunc_subsecs(6)));
    am.update(&txn).await?;
    audit::record(
        &txn,
        actor,
        AuditEvent::new("solicitation.attachment_removed", "solicitation", id)
            .before(&serde_json::json!({ "attachment": attachment_id, "title": title })),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

fn to_attachment(a: attachment::Model, d: document_record::Model) -> Attachment {
    Attachment {
        id: a.id,
        document_id: DocumentId(d.id),
        title: a.title,
        filename: d.filename,
        content_type: d.content_type,
        size_bytes: d.size_bytes,
        sha256: d.sha256,
        created_at: a.created_at,
    }
}

/// The current attachments of a solicitation, in the order they were added.
pub async fn attachments<C: ConnectionTrait>(db: &C, id: SolicitationId) -> Result<Vec<Attachment>> {
    let rows = attachment::Entity::find()
        .filter(attachment::Column::SolicitationId.eq(id.as_uuid()))
        .filter(attachment::Column::RemovedAt.is_null())
        .order_by_asc(attachment::Column::CreatedAt)
        .find_also_related(document_record::Entity)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(a, d)| d.map(|d| to_attachment(a, d)))
        .collect())
}

/// One current attachment of a solicitation.
pub async fn attachment<C: ConnectionTrait>(
    db: &C,
    id: SolicitationId,
    attachment_id: uuid::Uuid,
) -> Result<Attachment> {
    attachments(db, id)
        .await?
        .into_iter()
        .find(|a| a.id == attachment_id)
        .ok_or_else(|| SolicitationError::AttachmentNotFound(attachment_id.to_string()))
}

/// The ids of every solicitation an office issued, in any state.
pub async fn ids_issued_by<C: ConnectionTrait>(db: &C, office: OrganizationId) -> Result<Vec<SolicitationId>> {
    let rows = solicitation::Entity::find()
        .filter(solicitation::Column::IssuingOfficeId.eq(office.as_uuid()))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|r| SolicitationId(r.id)).collect())
}

/// A program office (or intermediary) that issues solicitations.
pub async fn ensure_office<C>(db: &C, actor: &Actor, name: &str, kind: &str, now: DateTime<Utc>) -> Result<OfficeRef>
where
    C: ConnectionTrait + TransactionTrait,
{
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 300 {
        return Err(SolicitationError::field(
            "name",
            "an office needs a name of at most 300 characters",
        ));
    }
    if !matches!(kind, "program_office" | "intermediary") {
        return Err(SolicitationError::field(
            "kind",
            "must be program_office or intermediary",
        ));
    }
    let txn = begin_write(db).await?;
    if let Some(o) = office::Entity::find()
        .filter(office::Column::Name.eq(name))
        .filter(office::Column::Kind.eq(kind))
        .one(&txn)
        .await?
    {
        return Ok(OfficeRef {
            id: OrganizationId(o.id),
            name: o.name,
        });
    }
    let id = OrganizationId::new();
    let now = now.trunc_subsecs(6);
    office::ActiveModel {
        id: Set(id.as_uuid()),
        kind: Set(kind.to_string()),
        name: Set(name.to_string()),
        city: Set(None),
        state: Set(None),
        website: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        actor,
        AuditEvent::new("organization.created", "organization", id)
            .after(&serde_json::json!({"name": name, "kind": kind})),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(OfficeRef {
        id,
        name: name.to_string(),
    })
}
