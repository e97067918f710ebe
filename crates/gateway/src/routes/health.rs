//! `GET /healthz`: 200 once the database and the document store both answer, 503 otherwise,
//! with which one failed.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::json;

use granary_core::policy::Action;

use crate::auth::Auth;
use crate::error::AppError;
use crate::state::AppState;

pub async fn healthz(
    auth: Auth,
    State(state): State<AppState>,
) -> Result<(StatusCode, Json<serde_json::Value>), AppError> {
    auth.require(&Action::ReadPublic)?;
    let db = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        state.db.execute_unprepared("SELECT 1"),
    )
    .await;
    let database = matches!(db, Ok(Ok(_)));
    let store = tokio::time::timeout(std::time::Duration::from_secs(5), state.store.check()).await;
    let documents = matches!(store, Ok(Ok(())));
    if !database {
        tracing::warn!("health check: database not reachable");
    }
    if !documents {
        tracing::warn!("health check: document store not reachable");
    }
    let ok = database && documents;
    let word = |b: bool| if b { "ok" } else { "unavailable" };
    Ok((
        if ok {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        },
        Json(json!({
            "status": if ok { "ok" } else { "unavailable" },
            "database": word(database),
            "documents": word(documents),
        })),
    ))
}
