//! The JSON API under `/api/v1`: the same searches and reads as the pages, sharing their
//! domain calls.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use granary_solicitations::{self as sol, Amendment, Solicitation, Status};
use serde::Serialize;

use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::routes::pages::{parse_id, visible_solicitation};
use crate::routes::search_params::SearchParams;
use crate::state::AppState;
use granary_core::policy::Action;

/// A solicitation as the API shows it: the stored model, plus its status as of now.
#[derive(Serialize)]
pub struct ApiSolicitation<'a> {
    #[serde(flatten)]
    pub solicitation: &'a Solicitation,
    /// The status as of this response: an open solicitation past its deadline is closed.
    pub effective_status: Status,
    pub url: String,
}

#[derive(Serialize)]
pub struct ApiAttachment {
    pub id: uuid::Uuid,
    pub title: String,
    pub filename: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub download_url: String,
}

#[derive(Serialize)]
pub struct ApiDetail<'a> {
    #[serde(flatten)]
    pub base: ApiSolicitation<'a>,
    pub amendments: Vec<Amendment>,
    pub attachments: Vec<ApiAttachment>,
}

#[derive(Serialize)]
pub struct ApiPage<'a> {
    pub items: Vec<ApiSolicitation<'a>>,
    pub page: u64,
    pub page_size: u64,
    pub total_items: u64,
    pub total_pages: u64,
}

fn view<'a>(state: &AppState, s: &'a Solicitation) -> ApiSolicitation<'a> {
    ApiSolicitation {
        solicitation: s,
        effective_status: s.effective_status(state.now()),
        url: format!("{}/solicitations/{}", state.public_url, s.id),
    }
}

pub async fn list(
    auth: Auth,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> AppResult<Json<serde_json::Value>> {
    auth.require(&Action::ReadPublic)?;
    let params = SearchParams::from_query(raw.as_deref()).map_err(|f| AppError::invalid(StatusCode::BAD_REQUEST, f))?;
    let q = params
        .to_query(20)
        .map_err(|e| AppError::invalid(StatusCode::BAD_REQUEST, e.0))?;
    let page = sol::search(&state.db, &q, state.now()).await?;
    let body = ApiPage {
        items: page.items.iter().map(|s| view(&state, s)).collect(),
        page: page.page,
        page_size: page.page_size,
        total_items: page.total_items,
        total_pages: page.total_pages,
    };
    serde_json::to_value(&body)
        .map(Json)
        .map_err(|e| AppError::internal(e.to_string()))
}

pub async fn get(
    auth: Auth,
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> AppResult<Json<serde_json::Value>> {
    let id = parse_id(&raw)?;
    let s = visible_solicitation(&state, &auth, id).await?;
    Ok(Json(detail_json(&state, &s).await?))
}

/// A solicitation with its amendments and attachments, as the API shows one.
pub async fn detail_json(state: &AppState, s: &Solicitation) -> AppResult<serde_json::Value> {
    let id = s.id;
    let amendments = sol::amendments(&state.db, id).await?;
    let attachments = sol::attachments(&state.db, id)
        .await?
        .into_iter()
        .map(|a| ApiAttachment {
            download_url: format!("{}/solicitations/{}/attachments/{}", state.public_url, id, a.id),
            id: a.id,
            title: a.title,
            filename: a.filename,
            content_type: a.content_type,
            size_bytes: a.size_bytes,
            sha256: a.sha256,
        })
        .collect();
    let body = ApiDetail {
        base: view(state, s),
        amendments,
        attachments,
    };
    serde_json::to_value(&body).map_err(|e| AppError::internal(e.to_string()))
}
