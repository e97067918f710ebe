//! Authoring solicitations through the JSON API: create a draft for an office, replace a
//! draft, move it through its lifecycle, amend it once posted, and attach or remove files.
//! Only the issuing office's owners and staff (and administrators) may; a draft stays
//! invisible, as "not found", to everyone else.
//!
//! Bodies are read as bytes and the policy is asked before the JSON is parsed, so the answer
//! to a request does not depend on how well-formed it is; parse errors name the field's path.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::TryStreamExt;
use granary_core::db::begin_write;
use granary_core::document_record::{self, NewDocument};
use granary_core::id::{DocumentId, OrganizationId};
use granary_core::policy::Action;
use granary_core::{Actor, FieldError};
use granary_documents::{DocumentKey, format};
use granary_solicitations::{self as sol, SolicitationContent, Transition};
use sea_orm::TransactionSession;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::routes::api::detail_json;
use crate::routes::pages::{parse_id, visible_solicitation};
use crate::state::AppState;

/// Parses a JSON body, naming the path of the first wrong field.
pub fn parse_json<T: DeserializeOwned>(headers: &HeaderMap, body: &Bytes) -> AppResult<T> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    if !is_json {
        return Err(AppError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Send the body as application/json.",
        ));
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            AppError::bad_request(format!("The body is not valid JSON: {inner}"))
        } else {
            let field = if path == "." { "body".to_string() } else { path };
            AppError::invalid(
                StatusCode::UNPROCESSABLE_ENTITY,
                vec![FieldError {
                    field,
                    message: inner.to_string(),
                }],
            )
        }
    })
}

/// The solicitation, if the caller may see it and manage it.
pub(crate) async fn managed(state: &AppState, auth: &Auth, raw: &str) -> AppResult<sol::Solicitation> {
    let id = parse_id(raw)?;
    let s = visible_solicitation(state, auth, id).await?;
    auth.require(&Action::ManageSolicitation { office: s.office.id })?;
    Ok(s)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewDraft {
    office_id: OrganizationId,
    content: SolicitationContent,
}

pub async fn create(auth: Auth, State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> AppResult<Response> {
    if auth.user().is_none() {
        auth.require(&Action::CreateSolicitation {
            office: OrganizationId(uuid::Uuid::nil()),
        })?;
    }
    let draft: NewDraft = parse_json(&headers, &body)?;
    auth.require(&Action::CreateSolicitation {
        office: draft.office_id,
    })?;
    let s = sol::create_draft(&state.db, &auth.actor()?, draft.office_id, draft.content, state.now()).await?;
    let body = detail_json(&state, &s).await?;
    let mut resp = (StatusCode::CREATED, Json(body)).into_response();
    if let Ok(v) = header::HeaderValue::from_str(&format!("/api/v1/solicitations/{}", s.id)) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DraftUpdate {
    content: SolicitationContent,
}

pub async fn update(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Json<serde_json::Value>> {
    let s = managed(&state, &auth, &raw).await?;
    let u: DraftUpdate = parse_json(&headers, &body)?;
    let s = sol::update_draft(&state.db, &auth.actor()?, s.id, u.content, state.now()).await?;
    Ok(Json(detail_json(&state, &s).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransitionRequest {
    action: Transition,
}

pub async fn transition(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Json<serde_json::Value>> {
    let s = managed(&state, &auth, &raw).await?;
    let t: TransitionRequest = parse_json(&headers, &body)?;
    let s = sol::transition(&state.db, &auth.actor()?, s.id, t.action, state.now()).await?;
    Ok(Json(detail_json(&state, &s).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmendmentRequest {
    content: SolicitationContent,
    change_summary: String,
    /// The version the amendment was written against; a newer one gives 409.
    expected_version: Option<i32>,
}

pub async fn amend(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Json<serde_json::Value>> {
    let s = managed(&state, &auth, &raw).await?;
    let a: AmendmentRequest = parse_json(&headers, &body)?;
    let s = sol::amend(
        &state.db,
        &auth.actor()?,
        s.id,
        a.content,
        &a.change_summary,
        a.expected_version,
        state.now(),
    )
    .await?;
    Ok(Json(detail_json(&state, &s).await?))
}

/// Uploads an attachment: multipart with a `title` field and a `file` field (in that order).
/// The file streams into the document store; the store's size limit applies as it arrives.
pub async fn add_attachment(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    form: Multipart,
) -> AppResult<Response> {
    let s = managed(&state, &auth, &raw).await?;
    let att = store_attachment(&state, &auth.actor()?, &s, form).await?;
    let body = serde_json::json!({
        "id": att.id,
        "title": att.title,
        "filename": att.filename,
        "content_type": att.content_type,
        "size_bytes": att.size_bytes,
        "sha256": att.sha256,
        "download_url": format!("{}/solicitations/{}/attachments/{}", state.public_url, s.id, att.id),
    });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Reads a multipart upload (`title`, then `file`), streams the file into the document store
/// after recognising its format by content, and records it as an attachment of `s`. Nothing
/// half-done is left behind: a file that breaks off or cannot be recorded is deleted again.
/// The caller has already asked the policy.
pub async fn store_attachment(
    state: &AppState,
    who: &Actor,
    s: &sol::Solicitation,
    mut form: Multipart,
) -> AppResult<sol::Attachment> {
    let mut title: Option<String> = None;
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| AppError::bad_request(format!("The upload is not valid multipart data: {e}")))?
    {
        match field.name() {
            Some("title") => {
                title = Some(small_field(field, "title", 255).await?);
            }
            Some("file") => {
                let title = title.take().ok_or_else(|| {
                    AppError::invalid(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        vec![FieldError {
                            field: "title".into(),
                            message: "send the title before the file".into(),
                        }],
                    )
                })?;
                let prefix = format!("solicitations/{}", s.id);
                let (key, doc) = stream_into_store(state, who, &prefix, field, true).await?;
                let now = state.now();
                // Catalogued and attached together, so a file is never catalogued unattached.
                let recorded = async {
                    let txn = begin_write(&state.db).await?;
                    let id = doc.id;
                    document_record::insert(&txn, doc, now).await?;
                    let a = sol::add_attachment(&txn, who, s.id, id, &title, now).await?;
                    txn.commit().await?;
                    Ok::<_, AppError>(a)
                }
                .await;
                return match recorded {
                    Ok(a) => Ok(a),
                    Err(e) => {
                        // Nothing half-done: the stored file goes if it cannot be recorded.
                        let _ = state.store.delete(&key).await;
                        Err(e)
                    }
                };
            }
            _ => {}
        }
    }
    Err(AppError::invalid(
        StatusCode::UNPROCESSABLE_ENTITY,
        vec![FieldError {
            field: "file".into(),
            message: "choose a file to attach".into(),
        }],
    ))
}

pub async fn remove_attachment(
    auth: Auth,
    State(state): State<AppState>,
    Path((raw, attachment)): Path<(String, String)>,
) -> AppResult<StatusCode> {
    let s = managed(&state, &auth, &raw).await?;
    let attachment: uuid::Uuid = attachment
        .parse()
        .map_err(|_| AppError::not_found("There is no such attachment."))?;
    sol::remove_attachment(&state.db, &auth.actor()?, s.id, attachment, state.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Streams one multipart file field into the document store: the format is recognised from
/// the first bytes (not the name), the rest is pumped through a 64 KiB pipe so no more than
/// that is held at a time, and the store enforces the size limit as the bytes arrive. Returns
/// the key and the document's catalogue entry, which the caller inserts in the transaction
/// that attaches the document (and deletes the stored file if that fails). A file that breaks
/// off is deleted again. `allow_text` also takes plain UTF-8 text.
pub(crate) async fn stream_into_store(
    state: &AppState,
    who: &Actor,
    prefix: &str,
    field: axum::extract::multipart::Field<'_>,
    allow_text: bool,
) -> AppResult<(DocumentKey, NewDocument)> {
    let filename = document_record::safe_filename(field.file_name().unwrap_or("document"));
    let mut stream = field.map_err(std::io::Error::other);
    // Read enough to recognise the format, then stream the rest behind it.
    let mut head = Vec::new();
    while head.len() < format::SNIFF_BYTES {
        match stream
            .try_next()
            .await
            .map_err(|e| AppError::bad_request(format!("The upload did not finish: {e}")))?
        {
            Some(chunk) => head.extend_from_slice(&chunk),
            None => break,
        }
    }
    if head.is_empty() {
        return Err(AppError::invalid(
            StatusCode::UNPROCESSABLE_ENTITY,
            vec![FieldError {
                field: "file".into(),
                message: "the file is empty".into(),
            }],
        ));
    }
    let sniff_len = head.len().min(format::SNIFF_BYTES);
    let content_type = format::recognise(&head[..sniff_len], allow_text).ok_or_else(|| {
        AppError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            if allow_text {
                format!("Attach a {} or plain-text file.", format::DOCUMENT_FORMATS)
            } else {
                format!("Upload a {} file.", format::DOCUMENT_FORMATS)
            },
        )
    })?;
    let doc = DocumentId::new();
    let key = DocumentKey::parse(&format!("{prefix}/{doc}")).map_err(|e| AppError::internal(e.to_string()))?;
    let (mut tx, rx) = tokio::io::duplex(64 * 1024);
    let pump = async {
        use tokio::io::AsyncWriteExt;
        tx.write_all(&head).await?;
        drop(head);
        while let Some(chunk) = stream.try_next().await? {
            tx.write_all(&chunk).await?;
        }
        tx.shutdown().await
    };
    let (pumped, stored) = tokio::join!(pump, state.store.put(&key, Box::pin(rx), Some(content_type)));
    let meta = stored?;
    if let Err(e) = pumped {
        // The upload broke off: what the store holds is incomplete.
        let _ = state.store.delete(&key).await;
        return Err(AppError::bad_request(format!("The upload did not finish: {e}")));
    }
    let storage_key = key.as_str().to_string();
    Ok((
        key,
        NewDocument {
            id: doc,
            storage_key,
            filename,
            content_type: content_type.to_string(),
            size_bytes: meta.size,
            sha256: meta.sha256,
            uploaded_by: who.audit_label(),
        },
    ))
}

/// Reads a short text field of a multipart upload, refusing it as soon as it grows past
/// `max_chars` characters (at most four bytes each), so an upload route that streams large
/// files cannot be made to buffer a huge text field instead.
pub(crate) async fn small_field(
    mut field: axum::extract::multipart::Field<'_>,
    name: &str,
    max_chars: usize,
) -> AppResult<String> {
    let too_long = || {
        AppError::invalid(
            StatusCode::UNPROCESSABLE_ENTITY,
            vec![FieldError {
                field: name.into(),
                message: format!("must be at most {max_chars} characters"),
            }],
        )
    };
    let mut bytes = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| AppError::bad_request(format!("The upload did not finish: {e}")))?
    {
        bytes.extend_from_slice(&chunk);
        if bytes.len() > max_chars * 4 {
            return Err(too_long());
        }
    }
    let text = String::from_utf8(bytes).map_err(|_| AppError::bad_request(format!("{name} is not UTF-8 text")))?;
    if text.chars().count() > max_chars {
        return Err(too_long());
    }
    Ok(text)
}
