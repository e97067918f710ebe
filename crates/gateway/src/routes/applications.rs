//! Applications over the JSON API, and the pieces the application pages share with it:
//! loading an application under the policy, uploading a document into it, the receipt.
//!
//! Who may do what (all through `granary_core::policy::decide`): an applicant
//! organization's owners and staff start, edit, upload to, submit and withdraw its
//! applications; the issuing office's owners and staff read submitted applications, list and
//! export them and grant extensions. Anyone else gets "not found", so an application's
//! existence is not revealed.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use granary_applications::budget;
use granary_applications::eligibility::{self, EligibilityAnswers};
use granary_applications::{
    self as apps, Application, ApplicationContent, ApplicationDocument, ApplicationError, ApplicationStatus,
    DocumentSlot, Submission,
};
use granary_core::id::{ApplicationId, OrganizationId};
use granary_core::policy::{Action, OrgKind};
use granary_core::time::format_instant;
use granary_core::{Actor, FieldError};
use granary_solicitations::{self as sol, Solicitation};
use sea_orm::TransactionSession;
use serde::{Deserialize, Serialize};

use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::routes::authoring::{parse_json, small_field, stream_into_store};
use crate::routes::pages::{parse_id, stream_document, visible_solicitation};
use crate::state::AppState;

impl From<ApplicationError> for AppError {
    fn from(e: ApplicationError) -> Self {
        use granary_core::error::Classify;
        AppError::from_kind(e.kind(), e.to_string(), e.field_errors())
    }
}

/// What a caller wants to do with an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Read,
    Edit,
}

/// Reads an application by its id in the path; "not found" for a malformed or unknown id.
async fn application(state: &AppState, raw: &str) -> AppResult<Application> {
    let id: ApplicationId = raw.parse().map_err(|_| not_found())?;
    match apps::get(&state.db, id).await {
        Ok(a) => Ok(a),
        Err(ApplicationError::NotFound(_)) => Err(not_found()),
        Err(e) => Err(e.into()),
    }
}

fn not_found() -> AppError {
    AppError::not_found("There is no such application.")
}

/// Whether the caller may read an application of a solicitation.
fn may_read(auth: &Auth, app: &Application, s: &Solicitation, record: bool) -> bool {
    let action = Action::ReadApplication {
        org: app.organization.id,
        office: s.office.id,
        submitted: app.status == ApplicationStatus::Submitted,
    };
    if record {
        auth.allows(&action)
    } else {
        auth.may(&action)
    }
}

/// The answer to a caller the policy refused: sign in; or, to a member who may read but not
/// edit, why not; to everyone else, "not found", so that the application's existence is not
/// revealed.
fn refusal(auth: &Auth, app: &Application, s: &Solicitation, need: Need) -> AppError {
    if auth.user().is_none() {
        return AppError::sign_in_required();
    }
    if need == Need::Edit && may_read(auth, app, s, false) {
        return AppError::new(
            StatusCode::FORBIDDEN,
            "Only the applicant organization's owners and staff may change its application.",
        );
    }
    not_found()
}

/// Loads an application and its solicitation if the caller may read (or edit) it; "not
/// found" otherwise, so that its existence is not revealed.
pub async fn load(state: &AppState, auth: &Auth, raw: &str, need: Need) -> AppResult<(Application, Solicitation)> {
    let app = application(state, raw).await?;
    let s = sol::get(&state.db, app.solicitation_id).await?;
    let allowed = match need {
        Need::Edit => auth.allows(&Action::EditApplication {
            org: app.organization.id,
        }),
        Need::Read => may_read(auth, &app, &s, true),
    };
    if allowed {
        Ok((app, s))
    } else {
        Err(refusal(auth, &app, &s, need))
    }
}

/// Loads an application the caller may edit, as `load` with `Need::Edit` does, for a handler
/// that has no use for the solicitation: it is read only to word a refusal.
pub async fn load_editable(state: &AppState, auth: &Auth, raw: &str) -> AppResult<Application> {
    let app = application(state, raw).await?;
    if auth.allows(&Action::EditApplication {
        org: app.organization.id,
    }) {
        return Ok(app);
    }
    let s = sol::get(&state.db, app.solicitation_id).await?;
    Err(refusal(auth, &app, &s, Need::Edit))
}

/// The organizations the caller may apply for: community organizations and intermediaries
/// where they are an owner or staff.
pub fn applicant_orgs(auth: &Auth) -> Vec<OrganizationId> {
    auth.user()
        .map(|u| {
            u.memberships
                .iter()
                .filter(|m| m.kind != OrgKind::ProgramOffice)
                .filter(|m| auth.may(&Action::EditApplication { org: m.org }))
                .map(|m| m.org)
                .collect()
        })
        .unwrap_or_default()
}

/// A solicitation's deadline as its applicants read it.
pub fn local_time(s: &Solicitation, at: DateTime<Utc>) -> String {
    format_instant(at, s.time_zone())
}

#[derive(Serialize)]
pub struct ApiDocument {
    #[serde(flatten)]
    pub document: ApplicationDocument,
    pub download_url: String,
}

fn api_document(state: &AppState, app: ApplicationId, d: ApplicationDocument) -> ApiDocument {
    ApiDocument {
        download_url: format!("{}/api/v1/applications/{app}/documents/{}", state.public_url, d.id),
        document: d,
    }
}

#[derive(Serialize)]
pub struct ApiReceipt {
    pub tracking_number: String,
    pub application_id: ApplicationId,
    pub solicitation_number: String,
    pub solicitation_title: String,
    pub organization: String,
    pub submitted_at: DateTime<Utc>,
    pub submitted_at_local: String,
    pub submitted_by: String,
    pub digest: String,
    pub digest_verified: bool,
    pub on_time_by_extension_until: Option<DateTime<Utc>>,
    pub documents: Vec<ReceiptDocument>,
    pub withdrawn_at: Option<DateTime<Utc>>,
    pub receipt_url: String,
}

#[derive(Serialize)]
pub struct ReceiptDocument {
    pub title: String,
    pub filename: String,
    pub size_bytes: i64,
    pub sha256: String,
}

/// The receipt of one submission, from its stored snapshot.
pub fn receipt(state: &AppState, s: &Solicitation, sub: &Submission) -> AppResult<ApiReceipt> {
    let snap = sub
        .snapshot()
        .map_err(|e| AppError::internal(format!("snapshot of {}: {e}", sub.tracking_number)))?;
    Ok(ApiReceipt {
        tracking_number: sub.tracking_number.clone(),
        application_id: sub.application_id,
        solicitation_number: snap.solicitation.number,
        solicitation_title: snap.solicitation.title,
        organization: snap.organization.name,
        submitted_at: sub.submitted_at,
        submitted_at_local: local_time(s, sub.submitted_at),
        submitted_by: sub.submitted_by.clone(),
        digest: sub.digest.clone(),
        digest_verified: sub.digest_matches(),
        on_time_by_extension_until: snap.extension_until,
        documents: snap
            .documents
            .into_iter()
            .map(|d| ReceiptDocument {
                title: d.title,
                filename: d.filename,
                size_bytes: d.size_bytes,
                sha256: d.sha256,
            })
            .collect(),
        withdrawn_at: sub.withdrawn_at,
        receipt_url: format!("{}/receipts/{}", state.public_url, sub.tracking_number),
    })
}

/// An application as the API shows it: the draft with its version, the computed budget,
/// documents, what is missing, and every submission.
pub async fn application_json(state: &AppState, app: &Application, s: &Solicitation) -> AppResult<serde_json::Value> {
    let docs = apps::documents(&state.db, app.id).await?;
    let problems = apps::completeness::check(&app.content, s, &docs);
    let subs = apps::submissions(&state.db, app.id).await?;
    let ext = apps::extension_for(&state.db, s.id, app.organization.id).await?;
    let budget = match budget::summarize(&app.content.budget) {
        Ok(b) => serde_json::to_value(b).unwrap_or_default(),
        Err(e) => serde_json::json!({ "error": e.to_string() }),
    };
    let receipts: Vec<ApiReceipt> = subs.iter().map(|x| receipt(state, s, x)).collect::<AppResult<_>>()?;
    Ok(serde_json::json!({
        "id": app.id,
        "status": app.status,
        "version": app.version,
        "solicitation": {
            "id": s.id,
            "number": s.content.number,
            "title": s.content.title,
            "closes_at": s.content.dates.closes_at,
            "closes_at_local": s.content.dates.closes_at.map(|c| local_time(s, c)),
        },
        "organization": app.organization,
        "content": app.content,
        "budget": budget,
        "documents": docs.into_iter().map(|d| api_document(state, app.id, d)).collect::<Vec<_>>(),
        "problems": problems,
        "ready_to_submit": problems.is_empty(),
        "extension": ext,
        "submissions": receipts,
        "updated_at": app.updated_at,
        "updated_by": app.updated_by,
        "url": format!("{}/applications/{}", state.public_url, app.id),
    }))
}

// -- eligibility --

pub async fn eligibility_questions(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> AppResult<Json<serde_json::Value>> {
    let s = visible_solicitation(&state, &auth, parse_id(&raw)?).await?;
    Ok(Json(serde_json::json!({
        "solicitation": s.id,
        "questions": eligibility::questions(&s.content.eligibility),
    })))
}

pub async fn eligibility_check(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Json<eligibility::EligibilityResult>> {
    let s = visible_solicitation(&state, &auth, parse_id(&raw)?).await?;
    let answers: EligibilityAnswers = parse_json(&headers, &body)?;
    Ok(Json(eligibility::check(&s.content.eligibility, &answers)))
}

// -- applicants --

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartBody {
    pub organization_id: OrganizationId,
}

/// Starts (or finds) the organization's application to a solicitation: 201 when new, 200
/// when it already had one.
pub async fn start(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let s = visible_solicitation(&state, &auth, parse_id(&raw)?).await?;
    let b: StartBody = parse_json(&headers, &body)?;
    auth.require(&Action::EditApplication { org: b.organization_id })?;
    let (app, created) = apps::start(&state.db, &auth.actor()?, s.id, b.organization_id, state.now()).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(application_json(&state, &app, &s).await?)).into_response())
}

/// The applications of the organizations the caller works for.
pub async fn mine(auth: Auth, State(state): State<AppState>) -> AppResult<Json<serde_json::Value>> {
    auth.require(&Action::ManageOwnAccount)?;
    let orgs = applicant_orgs(&auth);
    let list = apps::of_organizations(&state.db, &orgs).await?;
    let items: Vec<serde_json::Value> = list
        .iter()
        .map(|a| {
            serde_json::json!({
                "id": a.id,
                "solicitation_id": a.solicitation_id,
                "organization": a.organization,
                "status": a.status,
                "version": a.version,
                "project_title": a.content.project_title,
                "updated_at": a.updated_at,
                "url": format!("{}/api/v1/applications/{}", state.public_url, a.id),
            })
        })
        .collect();
    Ok(Json(serde_json::json!({ "items": items })))
}

pub async fn get(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> AppResult<Json<serde_json::Value>> {
    let (app, s) = load(&state, &auth, &raw, Need::Read).await?;
    Ok(Json(application_json(&state, &app, &s).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SaveBody {
    /// The version the edit started from.
    pub version: i32,
    pub content: ApplicationContent,
}

/// The three-way merge of a save that started from an old version: the parts only one side
/// changed come from that side; where both did, yours is kept and listed as a conflict.
/// Without the base (too old to be kept) every differing part is a conflict.
pub fn merge_with(
    base: Option<&ApplicationContent>,
    current: &Application,
    yours: &ApplicationContent,
) -> granary_applications::merge::Merged {
    match base {
        Some(b) => granary_applications::merge::merge(b, &current.content, yours),
        None => granary_applications::merge::Merged {
            content: yours.clone(),
            conflicts: apps::changed_parts(&current.content, yours),
        },
    }
}

/// The 409 answer to a save that started from an old version: what is there now, the merge
/// of both, and the parts both changed, so the client can show them and let the person
/// decide. Nothing was saved.
pub fn conflict_response(
    state: &AppState,
    current: &Application,
    base: Option<&ApplicationContent>,
    yours: &ApplicationContent,
    mine_version: i32,
) -> Response {
    let merged = merge_with(base, current, yours);
    let body = serde_json::json!({
        "status": 409,
        "message": format!(
            "{} saved this application (version {}) after you opened version {mine_version}. Nothing of yours was saved; compare and save again.",
            current.updated_by, current.version
        ),
        "errors": [],
        "current": {
            "version": current.version,
            "updated_by": current.updated_by,
            "updated_at": current.updated_at,
            "content": current.content,
        },
        "merged": merged.content,
        "conflicts": merged.conflicts,
        "url": format!("{}/applications/{}", state.public_url, current.id),
    });
    (StatusCode::CONFLICT, Json(body)).into_response()
}

/// Saves a draft: `{"version": n, "content": {...}}`. 409 with the current draft when someone
/// saved since version n.
pub async fn save(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let (app, s) = load(&state, &auth, &raw, Need::Edit).await?;
    let b: SaveBody = parse_json(&headers, &body)?;
    match apps::save(
        &state.db,
        &auth.actor()?,
        app.id,
        b.version,
        b.content.clone(),
        state.now(),
    )
    .await
    {
        Ok(saved) => Ok(Json(application_json(&state, &saved, &s).await?).into_response()),
        Err(ApplicationError::VersionConflict { current, base }) => Ok(conflict_response(
            &state,
            &current,
            base.as_deref(),
            &b.content,
            b.version,
        )),
        Err(e) => Err(e.into()),
    }
}

/// Reads a multipart upload into an application: `slot` and `title` fields, then `file`.
/// The file streams into the document store (its format recognised by content, its size
/// bounded as it arrives) and then fills the slot, replacing what was there.
pub async fn receive_document(
    state: &AppState,
    who: &Actor,
    app: &Application,
    mut form: Multipart,
) -> AppResult<ApplicationDocument> {
    if !app.status.is_editable() {
        return Err(ApplicationError::NotEditable { status: app.status }.into());
    }
    let mut slot: Option<DocumentSlot> = None;
    let mut title = String::new();
    let bad = |field: &str, message: &str| {
        AppError::invalid(
            StatusCode::UNPROCESSABLE_ENTITY,
            vec![FieldError {
                field: field.into(),
                message: message.into(),
            }],
        )
    };
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| AppError::bad_request(format!("The upload is not valid multipart data: {e}")))?
    {
        match field.name() {
            Some("slot") => {
                let text = small_field(field, "slot", 120).await?;
                slot = Some(
                    DocumentSlot::parse(&text).ok_or_else(|| bad("slot", "not a document this application takes"))?,
                );
            }
            Some("title") => {
                title = small_field(field, "title", 255).await?;
            }
            Some("file") => {
                let slot = slot
                    .take()
                    .ok_or_else(|| bad("slot", "send the slot before the file"))?;
                let prefix = format!("applications/{}", app.id);
                let (key, doc) = stream_into_store(state, who, &prefix, field, false).await?;
                let now = state.now();
                // Catalogued and attached in one transaction (one commit, and never a
                // catalogued file that is not attached).
                let attached = async {
                    let txn = granary_core::db::begin_write(&state.db).await?;
                    let id = doc.id;
                    granary_core::document_record::insert(&txn, doc, now).await?;
                    let d = apps::attach_document(&txn, who, app.id, slot, id, &title, now).await?;
                    txn.commit().await?;
                    Ok::<_, AppError>(d)
                }
                .await;
                return match attached {
                    Ok(d) => Ok(d),
                    Err(e) => {
                        // Nothing half-done: the stored file goes if it cannot be attached.
                        let _ = state.store.delete(&key).await;
                        Err(e)
                    }
                };
            }
            _ => {}
        }
    }
    Err(bad("file", "choose a file to upload"))
}

pub async fn upload(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    form: Multipart,
) -> AppResult<Response> {
    let app = load_editable(&state, &auth, &raw).await?;
    let d = receive_document(&state, &auth.actor()?, &app, form).await?;
    Ok((StatusCode::CREATED, Json(api_document(&state, app.id, d))).into_response())
}

fn parse_attachment(raw: &str) -> AppResult<uuid::Uuid> {
    raw.parse()
        .map_err(|_| AppError::not_found("There is no such document on this application."))
}

pub async fn remove_document(
    auth: Auth,
    State(state): State<AppState>,
    Path((raw, attachment)): Path<(String, String)>,
) -> AppResult<StatusCode> {
    let app = load_editable(&state, &auth, &raw).await?;
    apps::remove_document(
        &state.db,
        &auth.actor()?,
        app.id,
        parse_attachment(&attachment)?,
        state.now(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Downloads one of an application's documents (also one replaced since, which an earlier
/// submission may name).
pub async fn download_document(
    auth: Auth,
    State(state): State<AppState>,
    Path((raw, attachment)): Path<(String, String)>,
) -> AppResult<Response> {
    let (app, _) = load(&state, &auth, &raw, Need::Read).await?;
    let d = apps::document(&state.db, app.id, parse_attachment(&attachment)?).await?;
    let doc = granary_core::document_record::get(&state.db, d.document_id)
        .await?
        .ok_or_else(|| AppError::not_found("There is no such document on this application."))?;
    stream_document(&state, &doc).await
}

/// The receipt email's subject and text.
fn receipt_email(r: &ApiReceipt, name: &str) -> (String, String) {
    let docs: Vec<String> = r
        .documents
        .iter()
        .map(|d| format!("  - {} ({} bytes, SHA-256 {})", d.filename, d.size_bytes, d.sha256))
        .collect();
    let body = format!(
        "Hello {name},\n\nGranary received {org}'s application to {number}, {title}.\n\nTracking number: {tn}\nReceived: {at}\nSubmitted by: {by}\nSnapshot SHA-256: {digest}\n\nDocuments:\n{docs}\n\nKeep this message: the tracking number and the SHA-256 identify exactly what was received. The receipt is also at {url}\n",
        org = r.organization,
        number = r.solicitation_number,
        title = r.solicitation_title,
        tn = r.tracking_number,
        at = r.submitted_at_local,
        by = r.submitted_by,
        digest = r.digest,
        docs = if docs.is_empty() {
            "  (none)".to_string()
        } else {
            docs.join("\n")
        },
        url = r.receipt_url,
    );
    (format!("Application received: {}", r.tracking_number), body)
}

/// Submits an application and queues the receipt email to the person submitting, in one
/// transaction: a submission that is received always has its receipt on the way. Queueing
/// the email cannot fail the submission (it is logged; the receipt page is the record).
pub async fn submit_with_receipt(
    state: &AppState,
    auth: &Auth,
    s: &Solicitation,
    app: ApplicationId,
) -> Result<Submission, ApplicationError> {
    let actor = auth.actor().map_err(|e| ApplicationError::Corrupt(e.message))?;
    // The address and name read with the principal at the start of this request.
    let recipient = auth
        .user()
        .zip(auth.email.as_ref())
        .map(|(u, email)| (u.name.as_str(), email));
    let txn = granary_core::db::begin_write(&state.db).await?;
    let sub = apps::submit(&txn, &actor, app, state.clock.as_ref()).await?;
    if let Some((name, email)) = recipient {
        let queued = match receipt(state, s, &sub) {
            Ok(r) => {
                let (subject, body) = receipt_email(&r, name);
                granary_identity::enqueue_email(&txn, email, &subject, &body, state.now())
                    .await
                    .map_err(|e| e.to_string())
            }
            Err(e) => Err(e.message),
        };
        if let Err(e) = queued {
            tracing::warn!(error = %e, tracking_number = %sub.tracking_number, "queueing the receipt email failed");
        }
    }
    txn.commit().await?;
    if recipient.is_some() {
        crate::routes::account::wake_postman(state);
    }
    Ok(sub)
}

/// Submits: 201 with the receipt; 422 listing every missing item; 409 when late.
pub async fn submit(auth: Auth, State(state): State<AppState>, Path(raw): Path<String>) -> AppResult<Response> {
    let (app, s) = load(&state, &auth, &raw, Need::Edit).await?;
    let sub = submit_with_receipt(&state, &auth, &s, app.id).await?;
    Ok((StatusCode::CREATED, Json(receipt(&state, &s, &sub)?)).into_response())
}

pub async fn withdraw(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> AppResult<Json<ApiReceipt>> {
    let (app, s) = load(&state, &auth, &raw, Need::Edit).await?;
    let sub = apps::withdraw(&state.db, &auth.actor()?, app.id, state.clock.as_ref()).await?;
    Ok(Json(receipt(&state, &s, &sub)?))
}

/// A submission's receipt by tracking number, for the applicant and the issuing office.
pub async fn load_receipt(state: &AppState, auth: &Auth, tracking: &str) -> AppResult<(Solicitation, Submission)> {
    let not_found = || AppError::not_found("There is no receipt with that tracking number.");
    let sub = match apps::submission_by_tracking(&state.db, tracking).await {
        Ok(s) => s,
        Err(ApplicationError::SubmissionNotFound(_)) => return Err(not_found()),
        Err(e) => return Err(e.into()),
    };
    let s = sol::get(&state.db, sub.solicitation_id).await?;
    let allowed = auth.allows(&Action::ReadApplication {
        org: sub.organization_id,
        office: s.office.id,
        submitted: sub.withdrawn_at.is_none(),
    });
    if !allowed {
        return Err(if auth.user().is_none() {
            AppError::sign_in_required()
        } else {
            not_found()
        });
    }
    Ok((s, sub))
}

pub async fn get_receipt(
    auth: Auth,
    State(state): State<AppState>,
    Path(tracking): Path<String>,
) -> AppResult<Json<ApiReceipt>> {
    let (s, sub) = load_receipt(&state, &auth, &tracking).await?;
    Ok(Json(receipt(&state, &s, &sub)?))
}

// -- program officers --

/// A solicitation the caller reads applications of.
pub async fn officer_solicitation(state: &AppState, auth: &Auth, raw: &str) -> AppResult<Solicitation> {
    let s = visible_solicitation(state, auth, parse_id(raw)?).await?;
    auth.require(&Action::ReadApplications { office: s.office.id })?;
    Ok(s)
}

pub async fn list_for_solicitation(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> AppResult<Json<serde_json::Value>> {
    let s = officer_solicitation(&state, &auth, &raw).await?;
    let rows = apps::list_for_solicitation(&state.db, s.id).await?;
    let count = |st: ApplicationStatus| rows.iter().filter(|r| r.status == st).count();
    Ok(Json(serde_json::json!({
        "solicitation": { "id": s.id, "number": s.content.number, "title": s.content.title },
        "counts": {
            "total": rows.len(),
            "draft": count(ApplicationStatus::Draft),
            "submitted": count(ApplicationStatus::Submitted),
            "withdrawn": count(ApplicationStatus::Withdrawn),
        },
        "items": rows,
    })))
}

pub async fn export_csv(auth: Auth, State(state): State<AppState>, Path(raw): Path<String>) -> AppResult<Response> {
    let s = officer_solicitation(&state, &auth, &raw).await?;
    let rows = apps::list_for_solicitation(&state.db, s.id).await?;
    let body = apps::csv::export(&rows, s.time_zone());
    let name: String = s
        .content
        .number
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' })
        .collect();
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}-applications.csv\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtensionBody {
    pub organization_id: OrganizationId,
    pub until: DateTime<Utc>,
    pub reason: String,
}

pub async fn grant_extension(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Response> {
    let s = visible_solicitation(&state, &auth, parse_id(&raw)?).await?;
    auth.require(&Action::GrantExtension { office: s.office.id })?;
    let b: ExtensionBody = parse_json(&headers, &body)?;
    let ext = apps::grant_extension(
        &state.db,
        &auth.actor()?,
        s.id,
        b.organization_id,
        b.until,
        &b.reason,
        state.now(),
    )
    .await?;
    let mut v = serde_json::to_value(&ext).unwrap_or_default();
    v["until_local"] = serde_json::Value::String(local_time(&s, ext.until));
    Ok((StatusCode::CREATED, Json(v)).into_response())
}
