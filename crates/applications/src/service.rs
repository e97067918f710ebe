//! The application service: typed functions over a database connection, so a caller can
//! compose several in one transaction. Every state change writes and appends to the audit log
//! in the same transaction.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, SubsecRound, Utc};
use granary_core::audit::{self, AuditEvent};
use granary_core::db::begin_write;
use granary_core::document_record;
use granary_core::id::{ApplicationId, DocumentId, OrganizationId, SolicitationId, SubmissionId};
use granary_core::time::{Clock, format_instant};
use granary_core::{Actor, Money, ValidationErrors};
use granary_solicitations::{self as sol, Solicitation, Status};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
    TransactionSession, TransactionTrait,
};
use sha2::{Digest, Sha256};

use crate::budget;
use crate::completeness;
use crate::entity::{application, document, extension, organization, submission, version as saved_version};
use crate::error::{ApplicationError, Result};
use crate::model::*;

/// SHA-256 in lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A new tracking number such as `GRN-7K3M-Q9XP-2DWA`: 60 random bits in Crockford base 32
/// (no I, L, O or U, so it reads aloud and types without confusion).
pub fn tracking_number() -> String {
    let mut buf = [0u8; 8];
    getrandom::fill(&mut buf).expect("the operating system's random number generator works");
    let mut n = u64::from_le_bytes(buf);
    let mut out = String::from("GRN");
    for i in 0..12 {
        if i % 4 == 0 {
            out.push('-');
        }
        out.push(char::from(CROCKFORD[(n & 31) as usize]));
        n >>= 5;
    }
    out
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| ApplicationError::Corrupt(e.to_string()))
}

async fn organization_of<C: ConnectionTrait>(db: &C, id: uuid::Uuid) -> Result<ApplicantRef> {
    let org = organization::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| ApplicationError::Corrupt(format!("organization {id} is missing")))?;
    Ok(ApplicantRef {
        id: OrganizationId(org.id),
        name: org.name,
    })
}

fn to_model(row: application::Model, org: ApplicantRef) -> Result<Application> {
    let content: ApplicationContent = serde_json::from_str(&row.content_json)
        .map_err(|e| ApplicationError::Corrupt(format!("application {}: {e}", row.id)))?;
    Ok(Application {
        id: ApplicationId(row.id),
        solicitation_id: SolicitationId(row.solicitation_id),
        organization: org,
        status: ApplicationStatus::parse(&row.status)
            .ok_or_else(|| ApplicationError::Corrupt(format!("status {:?}", row.status)))?,
        version: row.version,
        content,
        current_submission: row.current_submission_id.map(SubmissionId),
        created_at: row.created_at,
        updated_at: row.updated_at,
        updated_by: row.updated_by,
    })
}

async fn load<C: ConnectionTrait>(db: &C, row: application::Model) -> Result<Application> {
    let org = organization_of(db, row.organization_id).await?;
    to_model(row, org)
}

/// Reads an application's row and locks it until the transaction ends (`FOR UPDATE` on
/// PostgreSQL; SQLite's IMMEDIATE transaction already holds the write lock).
async fn lock_row<C: ConnectionTrait>(db: &C, id: ApplicationId) -> Result<application::Model> {
    application::Entity::find_by_id(id.as_uuid())
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or_else(|| ApplicationError::NotFound(id.to_string()))
}

/// Locks an application's row as `lock_row` does, refusing unless its status lets the
/// applicant change it.
async fn lock_editable<C: ConnectionTrait>(db: &C, id: ApplicationId) -> Result<application::Model> {
    let row = lock_row(db, id).await?;
    let status = ApplicationStatus::parse(&row.status)
        .ok_or_else(|| ApplicationError::Corrupt(format!("status {:?}", row.status)))?;
    if !status.is_editable() {
        return Err(ApplicationError::NotEditable { status });
    }
    Ok(row)
}

/// An application by id.
pub async fn get<C: ConnectionTrait>(db: &C, id: ApplicationId) -> Result<Application> {
    let row = application::Entity::find_by_id(id.as_uuid())
        .one(db)
        .await?
        .ok_or_else(|| ApplicationError::NotFound(id.to_string()))?;
    load(db, row).await
}

/// The application an organization has for a solicitation, if any.
pub async fn find<C: ConnectionTrait>(
    db: &C,
    solicitation: SolicitationId,
    org: OrganizationId,
) -> Result<Option<Application>> {
    match application::Entity::find()
        .filter(application::Column::SolicitationId.eq(solicitation.as_uuid()))
        .filter(application::Column::OrganizationId.eq(org.as_uuid()))
        .one(db)
        .await?
    {
        Some(row) => Ok(Some(load(db, row).await?)),
        None => Ok(None),
    }
}

/// The applications of some organizations (a user's), newest first.
pub async fn of_organizations<C: ConnectionTrait>(db: &C, orgs: &[OrganizationId]) -> Result<Vec<Application>> {
    if orgs.is_empty() {
        return Ok(Vec::new());
    }
    let rows = application::Entity::find()
        .filter(application::Column::OrganizationId.is_in(orgs.iter().map(|o| o.as_uuid())))
        .order_by_desc(application::Column::UpdatedAt)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(load(db, row).await?);
    }
    Ok(out)
}

fn shown_deadline(s: &Solicitation, at: DateTime<Utc>) -> String {
    format_instant(at, s.time_zone())
}

fn late(s: &Solicitation, deadline: DateTime<Utc>) -> ApplicationError {
    ApplicationError::DeadlinePassed {
        deadline,
        shown: shown_deadline(s, deadline),
    }
}

/// Whether an organization may start, submit or withdraw an application to `s` at `now`,
/// given the extension granted to it (if any). An open solicitation takes them until its
/// deadline (received before it, not at it), or without end when it has none; after the
/// deadline, and once the office has closed it (even early), only an organization with an
/// extension still running gets in. Returns the extension when that is what lets it in.
pub fn check_deadline(s: &Solicitation, ext: Option<&Extension>, now: DateTime<Utc>) -> Result<Option<Extension>> {
    let by_extension = || match ext {
        Some(e) if now < e.until => Ok(Some(e.clone())),
        Some(e) => Err(late(s, e.until)),
        None => Err(ApplicationError::NotAccepting("it is closed".into())),
    };
    match (s.status, s.content.dates.closes_at) {
        (Status::Open, None) => Ok(None),
        (Status::Open, Some(c)) if now < c => Ok(None),
        (Status::Open | Status::Closed, Some(c)) => by_extension().map_err(|e| match e {
            ApplicationError::NotAccepting(_) if now >= c => late(s, c),
            ApplicationError::DeadlinePassed { deadline, .. } => late(s, deadline.max(c)),
            other => other,
        }),
        (Status::Closed, None) => by_extension(),
        (other, _) => Err(ApplicationError::NotAccepting(format!("it is {other}"))),
    }
}

/// Starts the organization's application to a solicitation, or returns the one it already
/// has (`false` when it existed). The solicitation must be taking applications.
pub async fn start<C>(
    db: &C,
    actor: &Actor,
    solicitation: SolicitationId,
    org: OrganizationId,
    now: DateTime<Utc>,
) -> Result<(Application, bool)>
where
    C: ConnectionTrait + TransactionTrait,
{
    if let Some(existing) = find(db, solicitation, org).await? {
        return Ok((existing, false));
    }
    let s = sol::get(db, solicitation).await?;
    if s.office.id == org {
        return Err(ApplicationError::field(
            "organization_id",
            "an organization cannot apply to its own solicitation",
        ));
    }
    let ext = extension_for(db, solicitation, org).await?;
    check_deadline(&s, ext.as_ref(), now)?;
    let applicant = organization_of(db, org.as_uuid())
        .await
        .map_err(|_| ApplicationError::field("organization_id", "no such organization"))?;
    let content = ApplicationContent {
        program_areas: if s.content.program_areas.len() == 1 {
            s.content.program_areas.clone()
        } else {
            Vec::new()
        },
        ..Default::default()
    };
    let id = ApplicationId::new();
    let now = now.trunc_subsecs(6);
    let txn = begin_write(db).await?;
    // Another member may have started it a moment ago.
    if let Some(existing) = find(&txn, solicitation, org).await? {
        return Ok((existing, false));
    }
    let row = application::ActiveModel {
        id: Set(id.as_uuid()),
        solicitation_id: Set(solicitation.as_uuid()),
        organization_id: Set(org.as_uuid()),
        status: Set(ApplicationStatus::Draft.as_str().to_string()),
        version: Set(1),
        project_title: Set(String::new()),
        total_request_cents: Set(None),
        content_json: Set(to_json(&content)?),
        current_submission_id: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        updated_by: Set(actor.display_name()),
    }
    .insert(&txn)
    .await?;
    keep_version(&txn, id, 1, &row.content_json, actor, now).await?;
    audit::record(
        &txn,
        actor,
        AuditEvent::new("application.started", "application", id).after(&serde_json::json!({
            "solicitation": s.content.number,
            "organization": applicant.name,
        })),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok((to_model(row, applicant)?, true))
}

fn clean_list(v: &[String], upper: bool) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in v {
        let t = s.trim();
        let t = if upper { t.to_uppercase() } else { t.to_string() };
        if !t.is_empty() && !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

/// Tidies what a form or client sent (trims lists, drops empty entries) and refuses only
/// what no application could hold; everything else is kept and reported by the
/// completeness check, so nothing typed is lost.
fn normalize(mut c: ApplicationContent) -> Result<ApplicationContent> {
    let mut errors = ValidationErrors::new();
    let mut bound = |field: String, text: &str| {
        if text.chars().count() > FIELD_HARD_MAX_CHARS {
            errors.add(field, format!("is longer than {FIELD_HARD_MAX_CHARS} characters"));
        }
    };
    bound("project_title".into(), &c.project_title);
    bound("abstract".into(), &c.project_abstract);
    bound("budget.justification".into(), &c.budget.justification);
    bound("service_area.description".into(), &c.service_area.description);
    for (k, v) in &c.answers {
        bound(format!("answers.{k}"), v);
    }
    for (k, v) in &c.priorities {
        bound(format!("priorities.{k}.explanation"), &v.explanation);
    }
    for (i, l) in c.budget.lines.iter().enumerate() {
        bound(format!("budget.lines[{i}].description"), &l.description);
        bound(format!("budget.lines[{i}].recipient"), &l.recipient);
    }
    if c.answers.len() > 200 {
        errors.add("answers", "too many answers");
    }
    if c.budget.lines.len() > 500 {
        errors.add("budget.lines", "a budget may have at most 500 lines");
    }
    if c.populations_served.len() > 100 {
        errors.add("populations_served", "list at most 100 populations");
    }
    if c.service_area.county_fips.len() > 500 || c.service_area.states.len() > 60 {
        errors.add("service_area", "too many places listed");
    }
    errors.into_result().map_err(ApplicationError::Invalid)?;
    c.populations_served = clean_list(&c.populations_served, false);
    c.service_area.states = clean_list(&c.service_area.states, true);
    c.service_area.county_fips = clean_list(&c.service_area.county_fips, false);
    let mut areas = Vec::new();
    for a in c.program_areas {
        if !areas.contains(&a) {
            areas.push(a);
        }
    }
    c.program_areas = areas;
    Ok(c)
}

/// How many recent versions of a draft are kept for merging.
pub const VERSIONS_KEPT: i32 = 100;

/// Keeps a saved version's content, and forgets those older than the last `VERSIONS_KEPT`.
async fn keep_version<C: ConnectionTrait>(
    db: &C,
    id: ApplicationId,
    version: i32,
    content_json: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<()> {
    saved_version::Entity::insert(saved_version::ActiveModel {
        application_id: Set(id.as_uuid()),
        version: Set(version),
        content_json: Set(content_json.to_string()),
        saved_by: Set(actor.display_name()),
        saved_at: Set(now),
    })
    .exec_without_returning(db)
    .await?;
    saved_version::Entity::delete_many()
        .filter(saved_version::Column::ApplicationId.eq(id.as_uuid()))
        .filter(saved_version::Column::Version.lte(version - VERSIONS_KEPT))
        .exec(db)
        .await?;
    Ok(())
}

/// The content a draft had at one of its recent versions, if still kept.
pub async fn content_at<C: ConnectionTrait>(
    db: &C,
    id: ApplicationId,
    version: i32,
) -> Result<Option<ApplicationContent>> {
    match saved_version::Entity::find_by_id((id.as_uuid(), version))
        .one(db)
        .await?
    {
        Some(v) => Ok(Some(serde_json::from_str(&v.content_json).map_err(|e| {
            ApplicationError::Corrupt(format!("version {version} of application {id}: {e}"))
        })?)),
        None => Ok(None),
    }
}

/// The top-level parts of the content that differ, for the audit log and the merge view.
pub fn changed_parts(before: &ApplicationContent, after: &ApplicationContent) -> Vec<String> {
    let (Ok(serde_json::Value::Object(a)), Ok(serde_json::Value::Object(b))) =
        (serde_json::to_value(before), serde_json::to_value(after))
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (k, v) in &b {
        match (k.as_str(), v, a.get(k)) {
            ("answers" | "priorities", serde_json::Value::Object(new), Some(serde_json::Value::Object(old))) => {
                let keys: std::collections::BTreeSet<&String> = new.keys().chain(old.keys()).collect();
                for key in keys {
                    if new.get(key) != old.get(key) {
                        out.push(format!("{k}.{key}"));
                    }
                }
            }
            (_, v, old) if Some(v) != old => out.push(k.clone()),
            _ => {}
        }
    }
    out
}

/// Saves a draft. `expected_version` is the version the editor started from: if someone
/// saved since, nothing is written and the error carries the current application.
pub async fn save<C>(
    db: &C,
    actor: &Actor,
    id: ApplicationId,
    expected_version: i32,
    content: ApplicationContent,
    now: DateTime<Utc>,
) -> Result<Application>
where
    C: ConnectionTrait + TransactionTrait,
{
    let content = normalize(content)?;
    let now = now.trunc_subsecs(6);
    let txn = begin_write(db).await?;
    let row = lock_row(&txn, id).await?;
    let current = load(&txn, row.clone()).await?;
    if !current.status.is_editable() {
        return Err(ApplicationError::NotEditable { status: current.status });
    }
    if current.version != expected_version {
        let base = content_at(&txn, id, expected_version).await?.map(Box::new);
        return Err(ApplicationError::VersionConflict {
            current: Box::new(current),
            base,
        });
    }
    let changed = changed_parts(&current.content, &content);
    if changed.is_empty() {
        return Ok(current);
    }
    let total = budget::summarize(&content.budget).ok().map(|s| s.total_request.cents());
    let version = current.version + 1;
    let mut am = row.into_active_model();
    am.version = Set(version);
    am.project_title = Set(content.project_title.trim().chars().take(400).collect());
    am.total_request_cents = Set(total);
    am.content_json = Set(to_json(&content)?);
    am.updated_at = Set(now);
    am.updated_by = Set(actor.display_name());
    let row = am.update(&txn).await?;
    keep_version(&txn, id, version, &row.content_json, actor, now).await?;
    audit::record(
        &txn,
        actor,
        AuditEvent::new("application.saved", "application", id)
            .after(&serde_json::json!({ "version": version, "changed": changed })),
        now,
    )
    .await?;
    txn.commit().await?;
    to_model(row, current.organization)
}

fn to_document(link: document::Model, doc: document_record::Model) -> Result<ApplicationDocument> {
    Ok(ApplicationDocument {
        id: link.id,
        slot: DocumentSlot::parse(&link.slot)
            .ok_or_else(|| ApplicationError::Corrupt(format!("document slot {:?}", link.slot)))?,
        document_id: DocumentId(doc.id),
        title: link.title,
        filename: doc.filename,
        content_type: doc.content_type,
        size_bytes: doc.size_bytes,
        sha256: doc.sha256,
        added_by: link.added_by,
        created_at: link.created_at,
    })
}

/// The documents an application holds now (not those replaced or removed).
pub async fn documents<C: ConnectionTrait>(db: &C, id: ApplicationId) -> Result<Vec<ApplicationDocument>> {
    let rows = document::Entity::find()
        .filter(document::Column::ApplicationId.eq(id.as_uuid()))
        .filter(document::Column::ReplacedAt.is_null())
        .find_also_related(document_record::Entity)
        .order_by_asc(document::Column::CreatedAt)
        .all(db)
        .await?;
    rows.into_iter()
        .map(|(link, doc)| {
            let doc = doc.ok_or_else(|| ApplicationError::Corrupt(format!("document of {} is missing", link.id)))?;
            to_document(link, doc)
        })
        .collect()
}

/// One document of an application, current or not (an old submission may name it).
pub async fn document<C: ConnectionTrait>(
    db: &C,
    app: ApplicationId,
    attachment: uuid::Uuid,
) -> Result<ApplicationDocument> {
    let (link, doc) = document::Entity::find_by_id(attachment)
        .filter(document::Column::ApplicationId.eq(app.as_uuid()))
        .find_also_related(document_record::Entity)
        .one(db)
        .await?
        .ok_or_else(|| ApplicationError::DocumentNotFound(attachment.to_string()))?;
    let doc = doc.ok_or_else(|| ApplicationError::Corrupt(format!("document of {} is missing", link.id)))?;
    to_document(link, doc)
}

/// Whether a slot is one this solicitation has.
fn check_slot(s: &Solicitation, slot: &DocumentSlot) -> Result<()> {
    let ok = match slot {
        DocumentSlot::Required(k) => s.content.required_documents.iter().any(|d| &d.key == k),
        DocumentSlot::PriorityEvidence(k) => s.content.priority_considerations.iter().any(|p| &p.key == k),
        DocumentSlot::IndirectRateAgreement | DocumentSlot::Other => true,
    };
    if ok {
        Ok(())
    } else {
        Err(ApplicationError::field(
            "slot",
            "this solicitation asks for no such document",
        ))
    }
}

/// Records a stored document as part of an application. In a slot that holds one document,
/// it replaces the one there (which is kept, marked replaced, for earlier submissions).
pub async fn attach_document<C>(
    db: &C,
    actor: &Actor,
    id: ApplicationId,
    slot: DocumentSlot,
    document_id: DocumentId,
    title: &str,
    now: DateTime<Utc>,
) -> Result<ApplicationDocument>
where
    C: ConnectionTrait + TransactionTrait,
{
    let now = now.trunc_subsecs(6);
    let title = title.trim();
    if title.chars().count() > 255 {
        return Err(ApplicationError::field("title", "must be at most 255 characters"));
    }
    let txn = begin_write(db).await?;
    let row = lock_editable(&txn, id).await?;
    let s = sol::get(&txn, SolicitationId(row.solicitation_id)).await?;
    check_slot(&s, &slot)?;
    let current = documents(&txn, id).await?;
    let mut replaced = None;
    if slot.holds_one() {
        if let Some(old) = current.iter().find(|d| d.slot == slot) {
            let mut am = document::Entity::find_by_id(old.id)
                .one(&txn)
                .await?
                .ok_or_else(|| ApplicationError::DocumentNotFound(old.id.to_string()))?
                .into_active_model();
            am.replaced_at = Set(Some(now));
            am.update(&txn).await?;
            replaced = Some(old.filename.clone());
        }
    } else if current.iter().filter(|d| d.slot == slot).count() >= MAX_OTHER_ATTACHMENTS {
        return Err(ApplicationError::field(
            "file",
            format!("an application may carry at most {MAX_OTHER_ATTACHMENTS} other attachments"),
        ));
    }
    let doc = document_record::get(&txn, document_id)
        .await?
        .ok_or_else(|| ApplicationError::DocumentNotFound(document_id.to_string()))?;
    let title = if title.is_empty() {
        doc.filename.clone()
    } else {
        title.to_string()
    };
    let link = document::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        application_id: Set(id.as_uuid()),
        slot: Set(slot.as_string()),
        document_id: Set(document_id.as_uuid()),
        title: Set(title),
        added_by: Set(actor.display_name()),
        created_at: Set(now),
        replaced_at: Set(None),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        actor,
        AuditEvent::new("application.document_added", "application", id).after(&serde_json::json!({
            "slot": slot.as_string(),
            "filename": doc.filename,
            "sha256": doc.sha256,
            "size_bytes": doc.size_bytes,
            "replaced": replaced,
        })),
        now,
    )
    .await?;
    txn.commit().await?;
    to_document(link, doc)
}

/// Takes a document off a draft (the row is kept, marked replaced).
pub async fn remove_document<C>(
    db: &C,
    actor: &Actor,
    id: ApplicationId,
    attachment: uuid::Uuid,
    now: DateTime<Utc>,
) -> Result<()>
where
    C: ConnectionTrait + TransactionTrait,
{
    let now = now.trunc_subsecs(6);
    let txn = begin_write(db).await?;
    lock_editable(&txn, id).await?;
    let link = document::Entity::find_by_id(attachment)
        .filter(document::Column::ApplicationId.eq(id.as_uuid()))
        .filter(document::Column::ReplacedAt.is_null())
        .one(&txn)
        .await?
        .ok_or_else(|| ApplicationError::DocumentNotFound(attachment.to_string()))?;
    let slot = link.slot.clone();
    let mut am = link.into_active_model();
    am.replaced_at = Set(Some(now));
    am.update(&txn).await?;
    audit::record(
        &txn,
        actor,
        AuditEvent::new("application.document_removed", "application", id)
            .after(&serde_json::json!({ "slot": slot, "attachment": attachment })),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// What still stands between an application and submission.
pub async fn problems<C: ConnectionTrait>(db: &C, app: &Application) -> Result<Vec<granary_core::FieldError>> {
    let s = sol::get(db, app.solicitation_id).await?;
    let docs = documents(db, app.id).await?;
    Ok(completeness::check(&app.content, &s, &docs))
}

fn to_submission(row: submission::Model) -> Submission {
    Submission {
        id: SubmissionId(row.id),
        application_id: ApplicationId(row.application_id),
        solicitation_id: SolicitationId(row.solicitation_id),
        organization_id: OrganizationId(row.organization_id),
        tracking_number: row.tracking_number,
        submitted_at: row.submitted_at,
        submitted_by: row.submitted_by,
        digest: row.digest,
        snapshot_json: row.snapshot_json,
        extension_id: row.extension_id,
        withdrawn_at: row.withdrawn_at,
        withdrawn_by: row.withdrawn_by,
    }
}

/// Submits an application. Inside one write transaction, with the application locked: the
/// deadline is checked against the clock's time read there (the server's time of receipt),
/// then completeness; then the snapshot with its digest and a tracking number are stored and
/// the application becomes submitted. Nothing is written when any check fails.
pub async fn submit<C>(db: &C, actor: &Actor, id: ApplicationId, clock: &dyn Clock) -> Result<Submission>
where
    C: ConnectionTrait + TransactionTrait,
{
    let txn = begin_write(db).await?;
    let row = lock_row(&txn, id).await?;
    let app = load(&txn, row.clone()).await?;
    if !app.status.is_editable() {
        return Err(ApplicationError::WrongStatus {
            status: app.status,
            action: "submitted again; withdraw it first to change and resubmit it",
        });
    }
    let s = sol::get(&txn, app.solicitation_id).await?;
    let ext = extension_for(&txn, app.solicitation_id, app.organization.id).await?;
    // The time of receipt: read now, inside the transaction, after the lock is held.
    let now = clock.now().trunc_subsecs(6);
    let used_extension = check_deadline(&s, ext.as_ref(), now)?;
    let docs = documents(&txn, id).await?;
    let summary = budget::summarize(&app.content.budget).ok();
    let problems = completeness::problems(&app.content, &s, &docs, summary.as_ref());
    let Some(summary) = summary.filter(|_| problems.is_empty()) else {
        return Err(ApplicationError::Incomplete(ValidationErrors(problems)));
    };
    let tracking = tracking_number();
    let snapshot = Snapshot {
        format: SNAPSHOT_FORMAT.to_string(),
        tracking_number: tracking.clone(),
        application_id: app.id,
        solicitation: SnapshotSolicitation {
            id: s.id,
            number: s.content.number.clone(),
            title: s.content.title.clone(),
            version: s.version,
            closes_at: s.content.dates.closes_at,
            time_zone: s.content.dates.time_zone.clone(),
        },
        organization: app.organization.clone(),
        submitted_at: now,
        submitted_by: actor.display_name(),
        version: app.version,
        content: app.content.clone(),
        budget: summary,
        documents: docs,
        extension_until: used_extension.as_ref().map(|e| e.until),
    };
    let snapshot_json = to_json(&snapshot)?;
    let digest = sha256_hex(snapshot_json.as_bytes());
    let sub_id = SubmissionId::new();
    let sub = submission::ActiveModel {
        id: Set(sub_id.as_uuid()),
        application_id: Set(app.id.as_uuid()),
        solicitation_id: Set(s.id.as_uuid()),
        organization_id: Set(app.organization.id.as_uuid()),
        tracking_number: Set(tracking.clone()),
        submitted_at: Set(now),
        submitted_by: Set(actor.display_name()),
        snapshot_json: Set(snapshot_json),
        digest: Set(digest.clone()),
        extension_id: Set(used_extension.as_ref().map(|e| e.id)),
        withdrawn_at: Set(None),
        withdrawn_by: Set(None),
    };
    let sub = submission::Entity::insert(sub).exec_with_returning(&txn).await?;
    let mut am = row.into_active_model();
    am.status = Set(ApplicationStatus::Submitted.as_str().to_string());
    am.current_submission_id = Set(Some(sub_id.as_uuid()));
    am.updated_at = Set(now);
    am.updated_by = Set(actor.display_name());
    am.update(&txn).await?;
    audit::record(
        &txn,
        actor,
        AuditEvent::new("application.submitted", "application", id).after(&serde_json::json!({
            "tracking_number": tracking,
            "digest": digest,
            "version": app.version,
            "extension_until": used_extension.as_ref().map(|e| e.until),
        })),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(to_submission(sub))
}

/// Withdraws a submitted application before the deadline. The submission is kept, marked
/// withdrawn; the application can be changed and submitted again while time remains.
pub async fn withdraw<C>(db: &C, actor: &Actor, id: ApplicationId, clock: &dyn Clock) -> Result<Submission>
where
    C: ConnectionTrait + TransactionTrait,
{
    let txn = begin_write(db).await?;
    let row = lock_row(&txn, id).await?;
    let app = load(&txn, row.clone()).await?;
    if app.status != ApplicationStatus::Submitted {
        return Err(ApplicationError::WrongStatus {
            status: app.status,
            action: "withdrawn",
        });
    }
    let s = sol::get(&txn, app.solicitation_id).await?;
    let ext = extension_for(&txn, app.solicitation_id, app.organization.id).await?;
    let now = clock.now().trunc_subsecs(6);
    check_deadline(&s, ext.as_ref(), now)?;
    let sub_id = row
        .current_submission_id
        .ok_or_else(|| ApplicationError::Corrupt(format!("submitted application {id} has no submission")))?;
    let sub = submission::Entity::find_by_id(sub_id)
        .one(&txn)
        .await?
        .ok_or_else(|| ApplicationError::SubmissionNotFound(sub_id.to_string()))?;
    let tracking = sub.tracking_number.clone();
    let mut sam = sub.into_active_model();
    sam.withdrawn_at = Set(Some(now));
    sam.withdrawn_by = Set(Some(actor.display_name()));
    let sub = sam.update(&txn).await?;
    let mut am = row.into_active_model();
    am.status = Set(ApplicationStatus::Withdrawn.as_str().to_string());
    am.updated_at = Set(now);
    am.updated_by = Set(actor.display_name());
    am.update(&txn).await?;
    audit::record(
        &txn,
        actor,
        AuditEvent::new("application.withdrawn", "application", id)
            .after(&serde_json::json!({ "tracking_number": tracking })),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(to_submission(sub))
}

/// Every submission of an application, newest first.
pub async fn submissions<C: ConnectionTrait>(db: &C, id: ApplicationId) -> Result<Vec<Submission>> {
    Ok(submission::Entity::find()
        .filter(submission::Column::ApplicationId.eq(id.as_uuid()))
        .order_by_desc(submission::Column::SubmittedAt)
        .all(db)
        .await?
        .into_iter()
        .map(to_submission)
        .collect())
}

/// A submission by its tracking number.
pub async fn submission_by_tracking<C: ConnectionTrait>(db: &C, tracking: &str) -> Result<Submission> {
    let tracking = tracking.trim().to_ascii_uppercase();
    submission::Entity::find()
        .filter(submission::Column::TrackingNumber.eq(tracking.as_str()))
        .one(db)
        .await?
        .map(to_submission)
        .ok_or(ApplicationError::SubmissionNotFound(tracking))
}

/// A submission by id.
pub async fn submission<C: ConnectionTrait>(db: &C, id: SubmissionId) -> Result<Submission> {
    submission::Entity::find_by_id(id.as_uuid())
        .one(db)
        .await?
        .map(to_submission)
        .ok_or_else(|| ApplicationError::SubmissionNotFound(id.to_string()))
}

fn to_extension(row: extension::Model) -> Extension {
    Extension {
        id: row.id,
        solicitation_id: SolicitationId(row.solicitation_id),
        organization_id: OrganizationId(row.organization_id),
        until: row.until,
        reason: row.reason,
        granted_by: row.granted_by,
        granted_at: row.granted_at,
    }
}

/// The extension granted to an organization for a solicitation, if any.
pub async fn extension_for<C: ConnectionTrait>(
    db: &C,
    solicitation: SolicitationId,
    org: OrganizationId,
) -> Result<Option<Extension>> {
    Ok(extension::Entity::find()
        .filter(extension::Column::SolicitationId.eq(solicitation.as_uuid()))
        .filter(extension::Column::OrganizationId.eq(org.as_uuid()))
        .one(db)
        .await?
        .map(to_extension))
}

/// The extensions granted for a solicitation.
pub async fn extensions<C: ConnectionTrait>(db: &C, solicitation: SolicitationId) -> Result<Vec<Extension>> {
    Ok(extension::Entity::find()
        .filter(extension::Column::SolicitationId.eq(solicitation.as_uuid()))
        .order_by_asc(extension::Column::GrantedAt)
        .all(db)
        .await?
        .into_iter()
        .map(to_extension)
        .collect())
}

/// How far past the solicitation's deadline an extension may run.
pub const MAX_EXTENSION_DAYS: i64 = 60;

/// Grants one organization a later deadline (a technical-issue waiver), with the reason on
/// record. Granting again replaces the earlier extension; both grants are in the audit log.
pub async fn grant_extension<C>(
    db: &C,
    actor: &Actor,
    solicitation: SolicitationId,
    org: OrganizationId,
    until: DateTime<Utc>,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Extension>
where
    C: ConnectionTrait + TransactionTrait,
{
    let now = now.trunc_subsecs(6);
    let until = until.trunc_subsecs(0);
    let reason = reason.trim();
    let s = sol::get(db, solicitation).await?;
    let mut errors = ValidationErrors::new();
    if reason.is_empty() {
        errors.add("reason", "say why the extension is granted (it is kept on record)");
    } else if reason.chars().count() > 4000 {
        errors.add("reason", "must be at most 4,000 characters");
    }
    if until <= now {
        errors.add("until", "the new deadline must be in the future");
    }
    if let Some(c) = s.content.dates.closes_at
        && until <= c
    {
        errors.add(
            "until",
            format!(
                "the new deadline must be after the solicitation's own, {}",
                shown_deadline(&s, c)
            ),
        );
    }
    if !matches!(s.status, Status::Open | Status::Closed) {
        errors.add(
            "solicitation",
            format!("a {} solicitation takes no applications", s.status),
        );
    }
    if let Some(c) = s.content.dates.closes_at
        && until > c + chrono::Duration::days(MAX_EXTENSION_DAYS)
    {
        errors.add(
            "until",
            format!("an extension may run at most {MAX_EXTENSION_DAYS} days past the deadline"),
        );
    }
    let applicant = organization::Entity::find_by_id(org.as_uuid()).one(db).await?;
    match &applicant {
        None => errors.add("organization_id", "no such organization"),
        Some(o) if o.id == s.office.id.as_uuid() || o.kind == "program_office" => errors.add(
            "organization_id",
            "only an applicant organization can be granted an extension",
        ),
        Some(_) => {}
    }
    errors.into_result().map_err(ApplicationError::Invalid)?;
    let applicant = organization_of(db, org.as_uuid()).await?;
    let txn = begin_write(db).await?;
    let existing = extension::Entity::find()
        .filter(extension::Column::SolicitationId.eq(solicitation.as_uuid()))
        .filter(extension::Column::OrganizationId.eq(org.as_uuid()))
        .lock_exclusive()
        .one(&txn)
        .await?;
    let before = existing.as_ref().map(|e| e.until);
    let row = match existing {
        Some(e) => {
            let mut am = e.into_active_model();
            am.until = Set(until);
            am.reason = Set(reason.to_string());
            am.granted_by = Set(actor.display_name());
            am.granted_at = Set(now);
            am.update(&txn).await?
        }
        None => {
            extension::ActiveModel {
                id: Set(uuid::Uuid::now_v7()),
                solicitation_id: Set(solicitation.as_uuid()),
                organization_id: Set(org.as_uuid()),
                until: Set(until),
                reason: Set(reason.to_string()),
                granted_by: Set(actor.display_name()),
                granted_at: Set(now),
            }
            .insert(&txn)
            .await?
        }
    };
    audit::record(
        &txn,
        actor,
        AuditEvent::new("application.extension_granted", "solicitation", solicitation)
            .before(&serde_json::json!({ "until": before }))
            .after(&serde_json::json!({
                "organization": applicant.name,
                "organization_id": org,
                "until": until,
                "reason": reason,
            })),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(to_extension(row))
}

/// The applications to a solicitation, for its program officers: every organization's
/// status, title, request and latest submission. Drafts are listed by count only: their
/// content is the applicant's until submitted.
pub async fn list_for_solicitation<C: ConnectionTrait>(
    db: &C,
    solicitation: SolicitationId,
) -> Result<Vec<ApplicationSummary>> {
    let rows = application::Entity::find()
        .filter(application::Column::SolicitationId.eq(solicitation.as_uuid()))
        .order_by_asc(application::Column::CreatedAt)
        .all(db)
        .await?;
    let subs = submission::Entity::find()
        .filter(submission::Column::SolicitationId.eq(solicitation.as_uuid()))
        .order_by_asc(submission::Column::SubmittedAt)
        .all(db)
        .await?;
    let exts: HashMap<uuid::Uuid, DateTime<Utc>> = extensions(db, solicitation)
        .await?
        .into_iter()
        .map(|e| (e.organization_id.as_uuid(), e.until))
        .collect();
    let mut by_app: HashMap<uuid::Uuid, Vec<&submission::Model>> = HashMap::new();
    for s in &subs {
        by_app.entry(s.application_id).or_default().push(s);
    }
    let org_ids: Vec<uuid::Uuid> = rows.iter().map(|r| r.organization_id).collect();
    let orgs: BTreeMap<uuid::Uuid, String> = if org_ids.is_empty() {
        BTreeMap::new()
    } else {
        organization::Entity::find()
            .filter(organization::Column::Id.is_in(org_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|o| (o.id, o.name))
            .collect()
    };
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let status = ApplicationStatus::parse(&r.status)
            .ok_or_else(|| ApplicationError::Corrupt(format!("status {:?}", r.status)))?;
        let mine = by_app.get(&r.id).map(Vec::as_slice).unwrap_or(&[]);
        let latest = mine.last();
        let submitted = status == ApplicationStatus::Submitted;
        out.push(ApplicationSummary {
            id: ApplicationId(r.id),
            organization: ApplicantRef {
                id: OrganizationId(r.organization_id),
                name: orgs.get(&r.organization_id).cloned().unwrap_or_default(),
            },
            status,
            project_title: if submitted {
                r.project_title.clone()
            } else {
                String::new()
            },
            total_request: if submitted {
                r.total_request_cents.and_then(|c| Money::from_cents(c).ok())
            } else {
                None
            },
            tracking_number: latest.filter(|_| submitted).map(|s| s.tracking_number.clone()),
            submitted_at: latest.filter(|_| submitted).map(|s| s.submitted_at),
            submissions: u32::try_from(mine.len()).unwrap_or(u32::MAX),
            extension_until: exts.get(&r.organization_id).copied(),
            updated_at: r.updated_at,
        });
    }
    Ok(out)
}
