//! Resolving the principal of a request: a session cookie for people, a Bearer API token for
//! programs. A request with neither is anonymous. A Bearer token that is wrong, expired or
//! revoked is refused outright (a program should learn its token is bad, not silently see
//! less); an expired session cookie just means signed out.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use granary_core::policy::Principal;
use granary_identity::EmailAddress;

use crate::csrf::cookie;
use crate::error::AppError;
use crate::state::AppState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "granary_session";

/// Who is asking: the principal the policy judges and, for a signed-in user, their account's
/// email address (where a receipt sent on their behalf goes).
pub struct Caller {
    pub principal: Principal,
    pub email: Option<EmailAddress>,
}

impl Caller {
    fn anonymous() -> Caller {
        Caller {
            principal: Principal::Anonymous,
            email: None,
        }
    }
}

/// Resolves the request's caller in two queries: the session or token with its user, then
/// the user's memberships.
pub async fn principal_of(state: &AppState, headers: &HeaderMap) -> Result<Caller, AppError> {
    let now = state.now();
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                AppError::new(
                    StatusCode::UNAUTHORIZED,
                    "Send an API token as: Authorization: Bearer <token>",
                )
            })?;
        let Some((tok, user)) = granary_identity::authenticate_api_token(&state.db, token, now).await? else {
            return Err(AppError::new(
                StatusCode::UNAUTHORIZED,
                "The API token is not valid, has expired, or was revoked.",
            ));
        };
        return Ok(Caller {
            principal: granary_identity::principal_of_user(&state.db, &user, Some(tok.scopes)).await?,
            email: Some(user.email),
        });
    }
    if let Some(token) = cookie(headers, SESSION_COOKIE)
        && let Some((_, user)) = granary_identity::session_user(&state.db, &token, now).await?
    {
        return Ok(Caller {
            principal: granary_identity::principal_of_user(&state.db, &user, None).await?,
            email: Some(user.email),
        });
    }
    Ok(Caller::anonymous())
}

/// The Set-Cookie value that signs a browser in.
pub fn session_cookie(token: &str, secure: bool) -> Option<HeaderValue> {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        30 * 24 * 3600
    ))
    .ok()
}

/// The Set-Cookie value that signs a browser out.
pub fn clear_session_cookie(secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"
    ))
    .unwrap_or(HeaderValue::from_static("granary_session=; Path=/; Max-Age=0"))
}
