//! The public pages: home, solicitation search, solicitation detail, attachment download.

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use granary_core::id::SolicitationId;
use granary_documents::DocumentKey;
use granary_solicitations::{self as sol, ApplicantType, ProgramArea, SearchQuery, Solicitation, SortOrder, Status};
use serde::Serialize;
use tokio_util::io::ReaderStream;

use granary_core::policy::{Action, Visibility};

use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::routes::search_params::SearchParams;
use crate::state::AppState;
use crate::view_models::{self, Card};

/// Reads a solicitation id from the path; anything that is not an id is simply not found.
pub fn parse_id(raw: &str) -> AppResult<SolicitationId> {
    raw.parse()
        .map_err(|_| AppError::not_found(format!("There is no solicitation {raw:?}.")))
}

/// A solicitation the caller may see: posted ones to everyone, drafts to the issuing office.
/// Anything else is "not found", so the existence of a draft is not revealed.
pub async fn visible_solicitation(state: &AppState, auth: &Auth, id: SolicitationId) -> AppResult<Solicitation> {
    let not_found = || AppError::not_found(format!("There is no solicitation {id}."));
    let s = match sol::get(&state.db, id).await {
        Ok(s) => s,
        Err(sol::SolicitationError::NotFound(_)) => return Err(not_found()),
        Err(e) => return Err(e.into()),
    };
    let visibility = if s.status.is_public() {
        Visibility::Public
    } else {
        Visibility::Draft
    };
    if auth.allows(&Action::ReadSolicitation {
        office: s.office.id,
        visibility,
    }) {
        Ok(s)
    } else {
        Err(not_found())
    }
}

#[derive(Serialize)]
struct Home {
    open: Vec<Card>,
    forecasted: Vec<Card>,
    open_count: u64,
    forecasted_count: u64,
    areas: Vec<view_models::Labelled>,
}

pub async fn home(auth: Auth, State(state): State<AppState>) -> AppResult<Html<String>> {
    auth.require(&Action::ReadPublic)?;
    let now = state.now();
    let q = |status| SearchQuery {
        statuses: vec![status],
        page_size: 4,
        ..Default::default()
    };
    let open = sol::search(&state.db, &q(Status::Open), now).await?;
    let forecasted = sol::search(&state.db, &q(Status::Forecasted), now).await?;
    let body = Home {
        open: open.items.iter().map(|s| view_models::card(s, now)).collect(),
        forecasted: forecasted.items.iter().map(|s| view_models::card(s, now)).collect(),
        open_count: open.total_items,
        forecasted_count: forecasted.total_items,
        areas: ProgramArea::ALL
            .iter()
            .map(|a| view_models::Labelled {
                slug: a.slug(),
                label: a.label(),
            })
            .collect(),
    };
    state.views.page(
        &auth.chrome(),
        "home",
        "Granary: grants for community safety",
        "home",
        &body,
    )
}

#[derive(Serialize)]
struct Choice {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

#[derive(Serialize)]
struct SearchPage {
    params: SearchParams,
    results: Vec<Card>,
    total_items: u64,
    page: u64,
    total_pages: u64,
    prev_url: String,
    next_url: String,
    areas: Vec<Choice>,
    statuses: Vec<Choice>,
    applicant_types: Vec<Choice>,
    sorts: Vec<Choice>,
    errors: Vec<granary_core::FieldError>,
    has_errors: bool,
    searched: bool,
}

fn choices<T: Copy>(
    all: &[T],
    slug: impl Fn(T) -> &'static str,
    label: impl Fn(T) -> &'static str,
    selected: impl Fn(&str) -> bool,
) -> Vec<Choice> {
    all.iter()
        .map(|v| Choice {
            value: slug(*v),
            label: label(*v),
            selected: selected(slug(*v)),
        })
        .collect()
}

pub async fn search_page(auth: Auth, State(state): State<AppState>, RawQuery(raw): RawQuery) -> AppResult<Response> {
    auth.require(&Action::ReadPublic)?;
    let now = state.now();
    let (params, mut errors) = match SearchParams::from_query(raw.as_deref()) {
        Ok(p) => (p, Vec::new()),
        Err(e) => (SearchParams::default(), e),
    };
    let mut page = sol::Page {
        items: Vec::new(),
        page: 1,
        page_size: 20,
        total_items: 0,
        total_pages: 0,
    };
    if errors.is_empty() {
        match params.to_query(20) {
            Ok(q) => page = sol::search(&state.db, &q, now).await?,
            Err(e) => errors = e.0,
        }
    }
    let status_selected = |v: &str| {
        if params.status.is_empty() {
            v == "open" || v == "forecasted"
        } else {
            params.status.iter().any(|s| s == v)
        }
    };
    let body = SearchPage {
        results: page.items.iter().map(|s| view_models::card(s, now)).collect(),
        total_items: page.total_items,
        page: page.page,
        total_pages: page.total_pages,
        prev_url: if page.page > 1 {
            format!("/solicitations?{}", params.with_page(page.page - 1))
        } else {
            String::new()
        },
        next_url: if page.page < page.total_pages {
            format!("/solicitations?{}", params.with_page(page.page + 1))
        } else {
            String::new()
        },
        areas: choices(ProgramArea::ALL, |a| a.slug(), |a| a.label(), |v| params.area == v),
        statuses: [("forecasted", "Forecasted"), ("open", "Open"), ("closed", "Closed")]
            .into_iter()
            .map(|(value, label)| Choice {
                value,
                label,
                selected: status_selected(value),
            })
            .collect(),
        applicant_types: choices(
            ApplicantType::ALL,
            |a| a.slug(),
            |a| a.label(),
            |v| params.applicant_type == v,
        ),
        sorts: [
            (SortOrder::ClosingSoonest, "closing_soonest", "Closing soonest"),
            (SortOrder::Newest, "newest", "Newest"),
            (SortOrder::Funding, "funding", "Most funding"),
            (SortOrder::Title, "title", "Title A–Z"),
        ]
        .into_iter()
        .map(|(_, value, label)| Choice {
            value,
            label,
            selected: params.sort == value,
        })
        .collect(),
        has_errors: !errors.is_empty(),
        errors,
        searched: raw.as_deref().is_some_and(|r| !r.is_empty()),
        params,
    };
    let status = if body.has_errors {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let html = state
        .views
        .page(&auth.chrome(), "solicitations", "Find funding", "solicitations", &body)?;
    Ok((status, html).into_response())
}

pub async fn detail_page(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> AppResult<Html<String>> {
    let id = parse_id(&raw)?;
    let s = visible_solicitation(&state, &auth, id).await?;
    let amendments = sol::amendments(&state.db, id).await?;
    let attachments = sol::attachments(&state.db, id).await?;
    let body = view_models::detail(&s, &amendments, &attachments, state.now());
    state
        .views
        .page(&auth.chrome(), "solicitation", &s.content.title, "solicitations", &body)
}

/// Streams an attachment from the document store; the body is never held whole in memory.
pub async fn download_attachment(
    auth: Auth,
    State(state): State<AppState>,
    Path((raw, attachment_id)): Path<(String, String)>,
) -> AppResult<Response> {
    let id = parse_id(&raw)?;
    visible_solicitation(&state, &auth, id).await?;
    let attachment_id: uuid::Uuid = attachment_id
        .parse()
        .map_err(|_| AppError::not_found("There is no such attachment."))?;
    let a = sol::attachment(&state.db, id, attachment_id).await?;
    let doc = granary_core::document_record::get(&state.db, a.document_id)
        .await?
        .ok_or_else(|| AppError::not_found("There is no such attachment."))?;
    stream_document(&state, &doc).await
}

/// Streams a catalogued document from the store as a download, with its recorded type, size
/// and SHA-256. The caller has already asked the policy.
pub(crate) async fn stream_document(
    state: &AppState,
    doc: &granary_core::document_record::Model,
) -> AppResult<Response> {
    let key = DocumentKey::parse(&doc.storage_key).map_err(|e| AppError::internal(e.to_string()))?;
    let (meta, reader) = state.store.get(&key).await?;
    let filename = granary_core::document_record::safe_filename(&doc.filename);
    let mut resp = Body::from_stream(ReaderStream::new(reader)).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&doc.content_type).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(meta.size));
    let ascii: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_ ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{ascii}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if let Ok(v) = HeaderValue::from_str(&format!("sha-256={}", doc.sha256)) {
        h.insert("x-granary-sha256", v);
    }
    Ok(resp)
}

pub async fn stylesheet(auth: Auth) -> AppResult<Response> {
    auth.require(&Action::ReadPublic)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        crate::views::STYLESHEET,
    )
        .into_response())
}

pub async fn not_found() -> AppError {
    AppError::not_found("There is no page at this address.")
}
