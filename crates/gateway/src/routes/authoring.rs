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
use granary_core::document_record::{self, NewDocument};
use granary_core::id::{DocumentId, OrganizationId};
use granary_core::policy::Action;
use granary_core::{Actor, FieldError};
use granary_documents::DocumentKey;
use granary_solicitations::{self as sol, SolicitationContent, Transition};
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

/// What a file's first bytes say it is. Attachments are documents people download, so only
/// common document and image formats are taken, recognised by content, not by name.
fn sniff(head: &[u8], filename: &str) -> Option<&'static str> {
    let lower = filename.to_ascii_lowercase();
    if head.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if head.starts_with(b"\xFF\xD8\xFF") {
        Some("image/jpeg")
    } else if head.starts_with(b"PK\x03\x04") {
        // Office documents are zip files; the name tells which kind.
        if lower.ends_with(".docx") {
            Some("application/vnd.openxmlformats-officedocument.wordprocessingml.document")
        } else if lower.ends_with(".xlsx") {
            Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        } else if lower.ends_with(".odt") {
            Some("application/vnd.oasis.opendocument.text")
        } else {
            None
        }
    } else if !head.is_empty() && !head.contains(&0) && std::str::from_utf8(head).is_ok() {
        Some("text/plain; charset=utf-8")
    } else {
        None
    }
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
                let bytes = field.bytes().await.map_err(|e| AppError::bad_request(e.to_string()))?;
                if bytes.len() > 1024 {
                    return Err(AppError::invalid(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        vec![FieldError {
                            field: "title".into(),
                            message: "must be at most 255 characters".into(),
                        }],
                    ));
                }
                title = Some(String::from_utf8_lossy(&bytes).into_owned());
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
                let filename = document_record::safe_filename(field.file_name().unwrap_or("attachment"));
                let mut stream = field.map_err(std::io::Error::other);
                // Read enough to recognise the format, then stream the rest behind it.
                let mut head = Vec::new();
                while head.len() < 512 {
                    match stream
                        .try_next()
                        .await
                        .map_err(|e| AppError::bad_request(e.to_string()))?
                    {
                        Some(chunk) => head.extend_from_slice(&chunk),
                        None => break,
                    }
                }
                let sniff_len = head.len().min(512);
                let content_type = sniff(&head[..sniff_len], &filename).ok_or_else(|| {
                    AppError::new(
                        StatusCode::UNSUPPORTED_MEDIA_TYPE,
                        "Attach a PDF, Word (.docx), Excel (.xlsx), OpenDocument (.odt), PNG, JPEG or plain-text file.",
                    )
                })?;
                let doc = DocumentId::new();
                let key = DocumentKey::parse(&format!("solicitations/{}/{doc}", s.id))
                    .map_err(|e| AppError::internal(e.to_string()))?;
                // The store reads from one end of a small pipe while this task pumps the upload
                // into the other, so at most the pipe's 64 KiB is held at a time.
                let (mut tx, rx) = tokio::io::duplex(64 * 1024);
                let pump = async {
                    use tokio::io::AsyncWriteExt;
                    tx.write_all(&head).await?;
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
                let now = state.now();
                let recorded = async {
                    document_record::insert(
                        &state.db,
                        NewDocument {
                            id: doc,
                            storage_key: key.as_str().to_string(),
                            filename,
                            content_type: content_type.to_string(),
                            size_bytes: meta.size,
                            sha256: meta.sha256,
                            uploaded_by: who.audit_label(),
                        },
                        now,
                    )
                    .await?;
                    sol::add_attachment(&state.db, who, s.id, doc, &title, now)
                        .await
                        .map_err(AppError::from)
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

#[cfg(test)]
mod tests {
    use super::sniff;

    #[test]
    fn formats_are_recognised_by_content() {
        assert_eq!(sniff(b"%PDF-1.7\n", "x.bin"), Some("application/pdf"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n....", "x"), Some("image/png"));
        assert_eq!(
            sniff(b"PK\x03\x04....", "budget.XLSX").map(|s| s.contains("spreadsheet")),
            Some(true)
        );
        assert_eq!(sniff(b"PK\x03\x04....", "archive.zip"), None);
        assert_eq!(
            sniff(b"MZ\x90\x00\x03", "notes.pdf"),
            None,
            "a program named .pdf is refused"
        );
        assert_eq!(sniff(b"Plain notes", "notes.txt"), Some("text/plain; charset=utf-8"));
    }
}
