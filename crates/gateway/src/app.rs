//! The router: every route declared once in `routes()`, behind the layers that give each
//! request an id and a span, check CSRF, resolve who is asking, insist that the route asked
//! the authorization policy, bound the body, and render failures for people (HTML) or
//! programs (the CommonGrants error body).

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, post, put};
use http_body_util::BodyExt;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::error::{ErrorBody, RenderedError};
use crate::routes::{
    account, api, applications, apply, authoring, common_grants, health, manage, orgs, package, pages, review_office,
    reviewing,
};
use crate::state::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// One route: its method and path (as axum spells it), and the handler.
pub struct RouteDef {
    pub method: Method,
    pub path: &'static str,
    pub handler: MethodRouter<AppState>,
}

fn route(method: Method, path: &'static str, handler: MethodRouter<AppState>) -> RouteDef {
    RouteDef { method, path, handler }
}

/// Every route Granary serves. The route × role test walks this list, so a route cannot be
/// added without being tested against every role.
pub fn routes() -> Vec<RouteDef> {
    use Method as M;
    vec![
        route(M::GET, "/", get(pages::home)),
        route(M::GET, "/solicitations", get(pages::search_page)),
        route(M::GET, "/solicitations/{id}", get(pages::detail_page)),
        route(
            M::GET,
            "/solicitations/{id}/attachments/{attachment_id}",
            get(pages::download_attachment),
        ),
        route(M::GET, "/static/granary.css", get(pages::stylesheet)),
        route(M::GET, "/healthz", get(health::healthz)),
        route(M::GET, "/api/v1/solicitations", get(api::list)),
        route(M::GET, "/api/v1/solicitations/{id}", get(api::get)),
        route(M::GET, "/common-grants/opportunities", get(common_grants::list)),
        route(
            M::POST,
            "/common-grants/opportunities/search",
            post(common_grants::search),
        ),
        route(
            M::GET,
            "/common-grants/opportunities/{opp_id}",
            get(common_grants::read),
        ),
        route(M::GET, "/sign-in", get(account::sign_in_page)),
        route(M::POST, "/sign-in", post(account::sign_in)),
        route(M::GET, "/sign-up", get(account::sign_up_page)),
        route(M::POST, "/sign-up", post(account::sign_up)),
        route(M::POST, "/sign-out", post(account::sign_out)),
        route(M::GET, "/verify-email", get(account::verify_email)),
        route(M::GET, "/forgot-password", get(account::forgot_page)),
        route(M::POST, "/forgot-password", post(account::forgot)),
        route(M::GET, "/reset-password", get(account::reset_page)),
        route(M::POST, "/reset-password", post(account::reset)),
        route(M::GET, "/account", get(account::account_page)),
        route(M::POST, "/account/tokens", post(account::create_token)),
        route(M::POST, "/account/tokens/{id}/revoke", post(account::revoke_token)),
        // -- solicitation authoring (API) --
        route(M::POST, "/api/v1/solicitations", post(authoring::create)),
        route(M::PUT, "/api/v1/solicitations/{id}", put(authoring::update)),
        route(
            M::POST,
            "/api/v1/solicitations/{id}/transitions",
            post(authoring::transition),
        ),
        route(M::POST, "/api/v1/solicitations/{id}/amendments", post(authoring::amend)),
        // The store enforces the upload limit while the file streams in.
        route(
            M::POST,
            "/api/v1/solicitations/{id}/attachments",
            post(authoring::add_attachment).layer(DefaultBodyLimit::disable()),
        ),
        route(
            M::DELETE,
            "/api/v1/solicitations/{id}/attachments/{attachment_id}",
            delete(authoring::remove_attachment),
        ),
        // -- applications (API) --
        route(
            M::GET,
            "/api/v1/solicitations/{id}/eligibility",
            get(applications::eligibility_questions),
        ),
        route(
            M::POST,
            "/api/v1/solicitations/{id}/eligibility",
            post(applications::eligibility_check),
        ),
        route(
            M::POST,
            "/api/v1/solicitations/{id}/applications",
            post(applications::start),
        ),
        route(
            M::GET,
            "/api/v1/solicitations/{id}/applications",
            get(applications::list_for_solicitation),
        ),
        route(
            M::GET,
            "/api/v1/solicitations/{id}/applications.csv",
            get(applications::export_csv),
        ),
        route(
            M::POST,
            "/api/v1/solicitations/{id}/extensions",
            post(applications::grant_extension),
        ),
        route(M::GET, "/api/v1/applications", get(applications::mine)),
        route(M::GET, "/api/v1/applications/{id}", get(applications::get)),
        route(M::PUT, "/api/v1/applications/{id}", put(applications::save)),
        // The store enforces the upload limit while the file streams in.
        route(
            M::POST,
            "/api/v1/applications/{id}/documents",
            post(applications::upload).layer(DefaultBodyLimit::disable()),
        ),
        route(
            M::GET,
            "/api/v1/applications/{id}/documents/{attachment_id}",
            get(applications::download_document),
        ),
        route(
            M::DELETE,
            "/api/v1/applications/{id}/documents/{attachment_id}",
            delete(applications::remove_document),
        ),
        route(M::POST, "/api/v1/applications/{id}/submit", post(applications::submit)),
        route(
            M::POST,
            "/api/v1/applications/{id}/withdraw",
            post(applications::withdraw),
        ),
        route(M::GET, "/api/v1/receipts/{tracking}", get(applications::get_receipt)),
        route(M::GET, "/api/v1/applications/{id}/package", get(package::download)),
        // -- applications (pages) --
        route(M::GET, "/static/application.js", get(apply::script)),
        route(M::GET, "/solicitations/{id}/eligibility", get(apply::eligibility_page)),
        route(
            M::POST,
            "/solicitations/{id}/eligibility",
            post(apply::eligibility_check),
        ),
        route(M::POST, "/solicitations/{id}/apply", post(apply::start)),
        route(M::GET, "/applications", get(apply::my_applications)),
        route(M::GET, "/applications/{id}", get(apply::editor)),
        route(M::POST, "/applications/{id}", post(apply::save)),
        // The store enforces the upload limit while the file streams in.
        route(
            M::POST,
            "/applications/{id}/documents",
            post(apply::upload).layer(DefaultBodyLimit::disable()),
        ),
        route(
            M::POST,
            "/applications/{id}/documents/{attachment_id}/remove",
            post(apply::remove_document),
        ),
        route(M::POST, "/applications/{id}/submit", post(apply::submit)),
        route(M::POST, "/applications/{id}/withdraw", post(apply::withdraw)),
        route(M::GET, "/receipts/{tracking}", get(apply::receipt_page)),
        route(
            M::GET,
            "/manage/solicitations/{id}/applications",
            get(apply::officer_list),
        ),
        route(M::POST, "/manage/solicitations/{id}/extensions", post(apply::extension)),
        // -- review (program officers) --
        route(
            M::GET,
            "/api/v1/solicitations/{id}/review",
            get(review_office::api_overview),
        ),
        route(
            M::PUT,
            "/api/v1/solicitations/{id}/review/settings",
            put(review_office::api_save_settings),
        ),
        route(
            M::PUT,
            "/api/v1/solicitations/{id}/review/pool/{user}",
            put(review_office::api_set_pool_member),
        ),
        route(
            M::DELETE,
            "/api/v1/solicitations/{id}/review/pool/{user}",
            delete(review_office::api_remove_pool_member),
        ),
        route(
            M::POST,
            "/api/v1/solicitations/{id}/review/conflicts",
            post(review_office::api_record_conflict),
        ),
        route(
            M::POST,
            "/api/v1/solicitations/{id}/review/conflicts/detect",
            post(review_office::api_detect_conflicts),
        ),
        route(
            M::POST,
            "/api/v1/solicitations/{id}/review/assignments/run",
            post(review_office::api_run_assignment),
        ),
        route(
            M::POST,
            "/api/v1/solicitations/{id}/review/assignments",
            post(review_office::api_assign),
        ),
        route(
            M::DELETE,
            "/api/v1/solicitations/{id}/review/assignments/{review}",
            delete(review_office::api_unassign),
        ),
        route(
            M::POST,
            "/api/v1/solicitations/{id}/review/assignments/{review}/reopen",
            post(review_office::api_reopen),
        ),
        route(
            M::GET,
            "/api/v1/solicitations/{id}/ranking",
            get(review_office::api_ranking),
        ),
        route(
            M::POST,
            "/api/v1/solicitations/{id}/ranking",
            post(review_office::api_what_if),
        ),
        route(
            M::GET,
            "/api/v1/solicitations/{id}/sensitivity",
            get(review_office::api_sensitivity),
        ),
        route(
            M::GET,
            "/api/v1/solicitations/{id}/decisions",
            get(review_office::api_decisions),
        ),
        route(
            M::POST,
            "/api/v1/solicitations/{id}/decisions",
            post(review_office::api_create_decision),
        ),
        route(
            M::GET,
            "/api/v1/solicitations/{id}/decisions/{decision}",
            get(review_office::api_decision),
        ),
        route(
            M::POST,
            "/api/v1/solicitations/{id}/decisions/{decision}/approve",
            post(review_office::api_approve),
        ),
        route(
            M::POST,
            "/api/v1/solicitations/{id}/decisions/{decision}/release",
            post(review_office::api_release),
        ),
        route(M::GET, "/manage/solicitations/{id}/review", get(review_office::desk)),
        route(
            M::POST,
            "/manage/solicitations/{id}/review/settings",
            post(review_office::save_settings),
        ),
        route(
            M::POST,
            "/manage/solicitations/{id}/review/pool",
            post(review_office::set_pool_member),
        ),
        route(
            M::POST,
            "/manage/solicitations/{id}/review/pool/{user}/remove",
            post(review_office::remove_pool_member),
        ),
        route(
            M::POST,
            "/manage/solicitations/{id}/review/conflicts/detect",
            post(review_office::detect),
        ),
        route(
            M::POST,
            "/manage/solicitations/{id}/review/conflicts",
            post(review_office::record_conflict),
        ),
        route(
            M::POST,
            "/manage/solicitations/{id}/review/assign",
            post(review_office::run_assignment),
        ),
        route(
            M::POST,
            "/manage/solicitations/{id}/review/assignments",
            post(review_office::add_assignment),
        ),
        route(
            M::POST,
            "/manage/solicitations/{id}/review/assignments/{review}/remove",
            post(review_office::remove_assignment),
        ),
        route(
            M::POST,
            "/manage/solicitations/{id}/review/assignments/{review}/reopen",
            post(review_office::reopen),
        ),
        route(
            M::GET,
            "/manage/solicitations/{id}/ranking",
            get(review_office::ranking),
        ),
        route(
            M::POST,
            "/manage/solicitations/{id}/decisions",
            post(review_office::create_decision),
        ),
        route(
            M::GET,
            "/manage/solicitations/{id}/decisions/{decision}",
            get(review_office::decision_page),
        ),
        route(
            M::POST,
            "/manage/solicitations/{id}/decisions/{decision}/approve",
            post(review_office::approve),
        ),
        route(
            M::POST,
            "/manage/solicitations/{id}/decisions/{decision}/release",
            post(review_office::release),
        ),
        // -- reviewing (reviewers and applicants) --
        route(M::GET, "/reviews", get(reviewing::list_page)),
        route(M::GET, "/reviews/{id}", get(reviewing::review_page)),
        route(M::POST, "/reviews/{id}", post(reviewing::save_page)),
        route(M::POST, "/reviews/{id}/conflict", post(reviewing::conflict_page)),
        route(M::GET, "/applications/{id}/outcome", get(reviewing::outcome_page)),
        route(M::GET, "/api/v1/reviews", get(reviewing::api_list)),
        route(M::GET, "/api/v1/reviews/{id}", get(reviewing::api_get)),
        route(M::PUT, "/api/v1/reviews/{id}", put(reviewing::api_save)),
        route(M::POST, "/api/v1/reviews/{id}/submit", post(reviewing::api_submit)),
        route(M::POST, "/api/v1/reviews/{id}/conflict", post(reviewing::api_conflict)),
        route(M::GET, "/api/v1/applications/{id}/outcome", get(reviewing::api_outcome)),
        // -- solicitation authoring (pages) --
        route(M::GET, "/manage", get(manage::desk)),
        route(M::POST, "/manage/solicitations", post(manage::create)),
        route(M::GET, "/manage/solicitations/{id}", get(manage::edit_page)),
        route(M::POST, "/manage/solicitations/{id}", post(manage::save)),
        route(
            M::POST,
            "/manage/solicitations/{id}/transition",
            post(manage::transition),
        ),
        // The store enforces the upload limit while the file streams in.
        route(
            M::POST,
            "/manage/solicitations/{id}/attachments",
            post(manage::upload).layer(DefaultBodyLimit::disable()),
        ),
        route(
            M::POST,
            "/manage/solicitations/{id}/attachments/{attachment_id}/remove",
            post(manage::remove_attachment),
        ),
        // -- organizations, members and audit --
        route(M::GET, "/organizations/new", get(orgs::new_page)),
        route(M::POST, "/organizations", post(orgs::create)),
        route(M::GET, "/organizations/{org}", get(orgs::org_page)),
        route(M::POST, "/organizations/{org}", post(orgs::update)),
        route(M::GET, "/organizations/{org}/edit", get(orgs::edit_page)),
        route(M::POST, "/organizations/{org}/invitations", post(orgs::invite)),
        route(
            M::POST,
            "/organizations/{org}/invitations/{invitation}/revoke",
            post(orgs::revoke_invitation),
        ),
        route(
            M::POST,
            "/organizations/{org}/members/{user}/role",
            post(orgs::change_role),
        ),
        route(
            M::POST,
            "/organizations/{org}/members/{user}/remove",
            post(orgs::remove_member),
        ),
        route(M::GET, "/organizations/{org}/audit", get(orgs::org_audit_page)),
        route(M::GET, "/invitations/accept", get(orgs::accept_page)),
        route(M::POST, "/invitations/accept", post(orgs::accept)),
        route(M::GET, "/audit", get(orgs::audit_page)),
    ]
}

/// Builds the whole application.
pub fn router(state: AppState) -> Router {
    let mut r = Router::new();
    for def in routes() {
        r = r.route(def.path, def.handler);
    }
    with_layers(r.fallback(pages::not_found), state)
}

/// Puts the layers every route runs behind around a set of routes.
pub fn with_layers(routes: Router<AppState>, state: AppState) -> Router {
    let body_limit = state.max_body_bytes;
    routes
        .layer(DefaultBodyLimit::max(body_limit))
        // A bug in a handler becomes a 500 with a reference, not a dropped connection.
        .layer(CatchPanicLayer::custom(|_| {
            crate::error::AppError::internal("a request handler panicked").into_response()
        }))
        .layer(middleware::from_fn_with_state(state.clone(), crate::auth::authenticate))
        .layer(middleware::from_fn_with_state(state.clone(), crate::csrf::protect))
        // Outside the CSRF and sign-in layers, so their refusals are rendered too.
        .layer(middleware::from_fn_with_state(state.clone(), render_errors))
        .layer(middleware::from_fn(security_headers))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let id = req
                .extensions()
                .get::<RequestId>()
                .and_then(|r| r.header_value().to_str().ok())
                .unwrap_or("-")
                .to_string();
            // The path only: query strings can carry search text people typed.
            tracing::info_span!("request", id = %id, method = %req.method(), path = %req.uri().path())
        }))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
}

/// Whether the caller wants JSON rather than a page.
fn wants_json(path: &str, accept: Option<&HeaderValue>) -> bool {
    if path.starts_with("/api/") || path.starts_with("/common-grants") || path == "/healthz" {
        return true;
    }
    accept
        .and_then(|a| a.to_str().ok())
        .is_some_and(|a| a.contains("application/json") && !a.contains("text/html"))
}

fn heading(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "That request could not be understood",
        401 => "Please sign in",
        403 => "You do not have access to this",
        404 => "Not found",
        405 => "That action is not allowed here",
        409 => "That conflicts with the current state",
        413 => "That is too large",
        415 => "That kind of content is not accepted here",
        422 => "Some fields need attention",
        429 => "Too many attempts",
        503 => "Temporarily unavailable",
        _ if status.is_server_error() => "Something went wrong",
        _ => "That did not work",
    }
}

/// Renders failed responses for their audience.
async fn render_errors(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let path_and_query = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let json = wants_json(&path, req.headers().get(header::ACCEPT));
    let request_id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let resp = next.run(req).await;
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    if status == StatusCode::UNAUTHORIZED && !json && parts.extensions.get::<RenderedError>().is_some() {
        // People are sent to sign in, and brought back afterwards. (A page that answers 401
        // itself, such as a failed sign-in, is left as it is.)
        let next = serde_urlencoded::to_string([("next", path_and_query.as_str())]).unwrap_or_default();
        return axum::response::Redirect::to(&format!("/sign-in?{next}")).into_response();
    }
    let rendered = match parts.extensions.get::<RenderedError>() {
        Some(r) => r.clone(),
        None => {
            // A framework rejection (bad JSON, bad query, body too large, wrong method):
            // keep its explanation, which names the field and the reason.
            let is_text = parts
                .headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_none_or(|ct| ct.starts_with("text/plain"));
            if !is_text {
                return Response::from_parts(parts, body);
            }
            let bytes = match http_body_util::Limited::new(body, 16 * 1024).collect().await {
                Ok(c) => c.to_bytes(),
                Err(_) => Default::default(),
            };
            let text = String::from_utf8_lossy(&bytes).trim().to_string();
            let message = if text.is_empty() {
                heading(status).to_string()
            } else {
                text
            };
            RenderedError {
                status,
                message,
                fields: Vec::new(),
            }
        }
    };
    let mut message = rendered.message.clone();
    if status.is_server_error() && !request_id.is_empty() {
        message = format!("{message} (reference {request_id})");
    }
    let mut out = if json {
        let errors: Vec<serde_json::Value> = if rendered.fields.is_empty() {
            vec![serde_json::Value::String(message.clone())]
        } else {
            rendered
                .fields
                .iter()
                .map(|f| serde_json::json!({ "field": f.field, "message": f.message }))
                .collect()
        };
        let body = ErrorBody {
            status: status.as_u16(),
            message: &message,
            errors,
        };
        (status, axum::Json(body)).into_response()
    } else {
        let html = state
            .views
            .error_page(status.as_u16(), heading(status), &message, &rendered.fields);
        (status, axum::response::Html(html)).into_response()
    };
    if status == StatusCode::UNAUTHORIZED {
        out.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"granary\""),
        );
    }
    // Keep headers such as Allow (405) and Retry-After (429) from the original response.
    for (name, value) in parts.headers.iter() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out
}

/// Headers every response carries.
async fn security_headers(req: Request<Body>, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
        ),
    );
    resp
}
