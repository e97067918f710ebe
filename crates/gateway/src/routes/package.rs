//! One submitted application as a single download for the program office: a zip holding the
//! snapshot exactly as received (`application.json`, whose SHA-256 is the receipt's digest),
//! a plain-text receipt, and every document. The zip is written as it is sent: documents
//! stream from the store through a 64 KiB pipe, stored uncompressed (they are compressed
//! formats already), so memory stays flat whatever their size.

use std::io::Write;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use granary_applications as apps;
use granary_core::document_record;
use granary_documents::DocumentKey;
use tokio_util::io::{ReaderStream, SyncIoBridge};
use zip::write::SimpleFileOptions;

use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::routes::applications::{Need, load, local_time, receipt};
use crate::state::AppState;

/// At most this many packages are written at once: each holds a blocking thread while the
/// client downloads it.
static WRITERS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

/// Text for one line of the receipt: no line breaks or other control characters.
fn one_line(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// A name safe inside a zip: plain characters, no folders.
fn entry_name(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(120)
        .collect()
}

pub async fn download(auth: Auth, State(state): State<AppState>, Path(raw): Path<String>) -> AppResult<Response> {
    let (app, s) = load(&state, &auth, &raw, Need::Read).await?;
    let not_submitted = || AppError::not_found("This application has no submission to download.");
    let sub_id = app.current_submission.ok_or_else(not_submitted)?;
    let sub = apps::submission(&state.db, sub_id).await?;
    let r = receipt(&state, &s, &sub)?;
    let snapshot = sub
        .snapshot()
        .map_err(|e| AppError::internal(format!("snapshot of {}: {e}", sub.tracking_number)))?;
    // Where each document's bytes are.
    let mut files = Vec::new();
    for (i, d) in snapshot.documents.iter().enumerate() {
        let doc = document_record::get(&state.db, d.document_id)
            .await?
            .ok_or_else(|| AppError::internal(format!("document {} is not catalogued", d.document_id)))?;
        let key = DocumentKey::parse(&doc.storage_key).map_err(|e| AppError::internal(e.to_string()))?;
        let name = format!(
            "documents/{:02}-{}-{}",
            i + 1,
            entry_name(&d.slot.as_string()),
            entry_name(&d.filename)
        );
        // Check every document is there before the response starts: a missing one afterwards
        // could only cut the download off.
        state.store.head(&key).await?;
        files.push((name, key));
    }
    let mut text = format!(
        "Granary receipt\r\n\r\nTracking number: {}\r\nSolicitation: {} {}\r\nOrganization: {}\r\nReceived: {} ({})\r\nSubmitted by: {}\r\nSHA-256 of application.json: {}\r\n",
        r.tracking_number,
        r.solicitation_number,
        one_line(&r.solicitation_title),
        one_line(&r.organization),
        r.submitted_at_local,
        r.submitted_at.to_rfc3339(),
        one_line(&r.submitted_by),
        r.digest,
    );
    if let Some(until) = r.on_time_by_extension_until {
        text.push_str(&format!(
            "On time under an extension until {}\r\n",
            local_time(&s, until)
        ));
    }
    if let Some(w) = r.withdrawn_at {
        text.push_str(&format!("Withdrawn: {}\r\n", local_time(&s, w)));
    }
    text.push_str("\r\nDocuments (SHA-256, bytes, name):\r\n");
    for d in &r.documents {
        text.push_str(&format!(
            "{}  {}  {}\r\n",
            d.sha256,
            d.size_bytes,
            one_line(&d.filename)
        ));
    }

    let permit = WRITERS.try_acquire().map_err(|_| {
        AppError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "Several packages are being prepared right now; please try again in a minute.",
        )
    })?;
    let (reader, writer) = tokio::io::duplex(64 * 1024);
    let store = state.store.clone();
    let handle = tokio::runtime::Handle::current();
    let tracking = sub.tracking_number.clone();
    let snapshot_json = sub.snapshot_json;
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let result = (|| -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
            let out = SyncIoBridge::new_with_handle(writer, handle.clone());
            let mut zip = zip::ZipWriter::new_stream(out);
            let opts = SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Stored)
                .large_file(true);
            zip.start_file("application.json", opts)?;
            zip.write_all(snapshot_json.as_bytes())?;
            zip.start_file("receipt.txt", opts)?;
            zip.write_all(text.as_bytes())?;
            for (name, key) in files {
                let (_, body) = handle.block_on(store.get(&key))?;
                zip.start_file(name, opts)?;
                let mut body = SyncIoBridge::new_with_handle(body, handle.clone());
                std::io::copy(&mut body, &mut zip)?;
            }
            zip.finish()?;
            Ok(())
        })();
        if let Err(e) = result {
            // The response has started: the client sees a cut-off download.
            tracing::error!(tracking_number = %tracking, error = %e, "writing an application package failed");
        }
    });
    let mut resp = Body::from_stream(ReaderStream::new(reader)).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/zip"));
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{}.zip\"",
        entry_name(&sub.tracking_number)
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}
