//! Cross-site request forgery protection for every state-changing request, in one layer in
//! front of every route so no handler can forget it.
//!
//! A random token lives in an HttpOnly, SameSite=Strict cookie; every form carries the same
//! token in a hidden `csrf_token` field (a script sends it in `X-CSRF-Token`; a multipart
//! upload puts it in its action's query string). A POST, PUT, PATCH or DELETE whose `Origin`
//! names another site is refused. One that carries the session cookie, or is an HTML form
//! (so nobody can be signed in to someone else's account), is refused unless the tokens
//! match. Cookie-less JSON, such as API clients with Bearer tokens, has no ambient authority
//! for a forger to borrow, so it needs no token.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::AppError;
use crate::state::AppState;

pub const COOKIE: &str = "granary_csrf";
pub const FIELD: &str = "csrf_token";
pub const HEADER: &str = "x-csrf-token";

/// The request's CSRF token, for forms to embed.
#[derive(Clone, Debug)]
pub struct CsrfToken(pub String);

/// Reads one cookie's value from the request headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// A new random token (32 bytes, hex).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).unwrap_or_else(|_| {
        // The operating system's random source failing is not survivable for security.
        panic!("the system random number generator is unavailable")
    });
    hex::encode(bytes)
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn unsafe_method(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn refuse(message: &str) -> Response {
    AppError::new(StatusCode::FORBIDDEN, message).into_response()
}

/// Whether the Origin header, when present, is this site.
fn same_origin(headers: &HeaderMap, public_url: &str) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    if origin == public_url {
        return true;
    }
    // Also accept the Host the request was sent to (a gateway reached by another name).
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        == Some(host)
}

pub async fn protect(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let existing = cookie(req.headers(), COOKIE);
    let token = existing.clone().unwrap_or_else(new_token);
    if unsafe_method(req.method()) {
        if !same_origin(req.headers(), &state.public_url) {
            return refuse("This form was sent from another site, so it was refused.");
        }
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let is_form = content_type.starts_with("application/x-www-form-urlencoded")
            || content_type.starts_with("multipart/form-data");
        // Forgery abuses what a browser sends by itself: the session cookie. Requests that
        // carry one, and every HTML form (so nobody can be signed in to another account),
        // must prove they came from Granary's own pages. Cookie-less JSON (API clients, Bearer
        // tokens) has no ambient authority to abuse.
        let has_session = cookie(req.headers(), crate::session::SESSION_COOKIE).is_some();
        let bearer_only = !has_session && req.headers().contains_key(header::AUTHORIZATION);
        if (has_session || is_form) && !bearer_only {
            let Some(expected) = existing.as_deref() else {
                return refuse("Your session's security token is missing. Reload the page and try again.");
            };
            let header_token = req
                .headers()
                .get(HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let sent = match header_token {
                Some(t) => Some(t),
                None if content_type.starts_with("application/x-www-form-urlencoded") => {
                    let (parts, body) = req.into_parts();
                    let bytes = match to_bytes(body, state.max_body_bytes).await {
                        Ok(b) => b,
                        Err(_) => {
                            return AppError::new(StatusCode::PAYLOAD_TOO_LARGE, "The form is larger than allowed.")
                                .into_response();
                        }
                    };
                    let field = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
                        .ok()
                        .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == FIELD).map(|(_, v)| v));
                    req = Request::from_parts(parts, Body::from(bytes));
                    field
                }
                None => {
                    // Multipart uploads carry the token in the query string of the form's action.
                    req.uri().query().and_then(|q| {
                        serde_urlencoded::from_str::<Vec<(String, String)>>(q)
                            .ok()
                            .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == FIELD).map(|(_, v)| v))
                    })
                }
            };
            match sent {
                Some(s) if constant_time_eq(&s, expected) => {}
                _ => {
                    return refuse("This form's security token did not match. Reload the page and try again.");
                }
            }
        }
    }
    req.extensions_mut().insert(CsrfToken(token.clone()));
    let mut resp = next.run(req).await;
    if existing.is_none() {
        let secure = if state.public_url.starts_with("https://") {
            "; Secure"
        } else {
            ""
        };
        if let Ok(v) = HeaderValue::from_str(&format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict{secure}")) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cookies() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_static("a=1; granary_csrf=abc ; b=2"));
        assert_eq!(cookie(&h, COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&h, "missing"), None);
    }

    #[test]
    fn tokens_are_random_and_compare_exactly() {
        let a = new_token();
        assert_eq!(a.len(), 64);
        assert_ne!(a, new_token());
        assert!(constant_time_eq(&a, &a.clone()));
        assert!(!constant_time_eq(&a, &new_token()));
        assert!(!constant_time_eq("abc", "abcd"));
    }
}
