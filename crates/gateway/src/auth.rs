//! Who is asking, and whether they may. The `authenticate` layer puts the request's
//! `Principal` (from the session cookie or a Bearer API token) into the request; handlers take
//! an `Auth` and call `require` with the action they are about to perform, which asks the one
//! policy in `granary_core::policy`. A second layer refuses to let a successful response out
//! of a route that never asked the policy, so a route that forgets cannot leak anything.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::{FromRequestParts, Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use granary_core::policy::{Action, Decision, Principal, decide};

use crate::error::AppError;
use crate::state::AppState;

/// Set once a handler has asked the policy.
#[derive(Clone, Default)]
pub struct PolicyConsulted(Arc<AtomicBool>);

/// The principal and the policy, for a handler.
pub struct Auth {
    pub principal: Principal,
    /// The request's CSRF token, for forms.
    pub csrf: String,
    consulted: PolicyConsulted,
}

impl Auth {
    /// Refuses the request unless the policy allows the action: 401 when signing in would
    /// help, 403 with the reason otherwise.
    pub fn require(&self, action: &Action) -> Result<(), AppError> {
        self.consulted.0.store(true, Ordering::Relaxed);
        match decide(&self.principal, action) {
            Decision::Allow => Ok(()),
            Decision::SignInRequired => Err(AppError::sign_in_required()),
            Decision::Deny(reason) => Err(AppError::new(StatusCode::FORBIDDEN, reason)),
        }
    }

    /// Whether the action is allowed, for showing or hiding a control. Counts as asking.
    pub fn allows(&self, action: &Action) -> bool {
        self.consulted.0.store(true, Ordering::Relaxed);
        decide(&self.principal, action).is_allowed()
    }

    /// The signed-in user, if any.
    pub fn user(&self) -> Option<&granary_core::policy::UserPrincipal> {
        match &self.principal {
            Principal::User(u) => Some(u),
            Principal::Anonymous => None,
        }
    }

    /// What the page frame needs: the user's name and the CSRF token.
    pub fn chrome(&self) -> crate::views::Chrome {
        crate::views::Chrome {
            user_name: self.user().map(|u| u.name.clone()),
            csrf: self.csrf.clone(),
        }
    }
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let principal = parts
            .extensions
            .get::<Principal>()
            .cloned()
            .unwrap_or(Principal::Anonymous);
        let consulted = parts
            .extensions
            .get::<PolicyConsulted>()
            .cloned()
            .unwrap_or_default();
        let csrf = parts
            .extensions
            .get::<crate::csrf::CsrfToken>()
            .map(|t| t.0.clone())
            .unwrap_or_default();
        Ok(Auth {
            principal,
            csrf,
            consulted,
        })
    }
}

/// Resolves the principal of a request and checks afterwards that the policy was asked.
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let principal = match crate::session::principal_of(&state, req.headers()).await {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let consulted = PolicyConsulted::default();
    req.extensions_mut().insert(principal);
    req.extensions_mut().insert(consulted.clone());
    let resp = next.run(req).await;
    let status = resp.status();
    if (status.is_success() || status.is_redirection()) && !consulted.0.load(Ordering::Relaxed) {
        tracing::error!(
            status = status.as_u16(),
            "a route answered without asking the authorization policy"
        );
        return AppError::internal("route skipped the authorization policy").into_response();
    }
    resp
}
