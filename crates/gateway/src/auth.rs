//! Who is asking, and whether they may. The `authenticate` layer puts the request's
//! `Principal` (from the session cookie or a Bearer API token) into the request; handlers take
//! an `Auth` and call `require` with the action they are about to perform, which asks the one
//! policy in `granary_core::policy`. A second layer refuses to let a successful response out
//! of a route that never asked the policy, so a route that forgets cannot leak anything.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use axum::extract::{FromRequestParts, Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use granary_core::policy::{Action, Decision, Principal, decide};
use granary_identity::EmailAddress;

use crate::error::AppError;
use crate::state::AppState;

/// What the policy said during one request: not asked yet, allowed, or refused (a refusal
/// outranks an allow, so a page that asked about several things reports the refusal).
#[derive(Clone, Default)]
pub struct PolicyConsulted(Arc<AtomicU8>);

const NOT_ASKED: u8 = 0;
const ALLOWED: u8 = 1;
const SIGN_IN: u8 = 2;
const REFUSED: u8 = 3;

/// The response header that says what the policy decided for the request. Sent only when
/// `AppState::expose_policy_verdict` is set (the route x role test does): in production it
/// would tell a stranger whether a hidden draft exists behind a 404.
pub const AUTHZ_HEADER: &str = "x-granary-authz";

impl PolicyConsulted {
    fn note(&self, d: &Decision) {
        let v = match d {
            Decision::Allow => ALLOWED,
            Decision::SignInRequired => SIGN_IN,
            Decision::Deny(_) => REFUSED,
        };
        self.0.fetch_max(v, Ordering::Relaxed);
    }
}

/// The principal and the policy, for a handler.
pub struct Auth {
    pub principal: Principal,
    /// The signed-in user's email address, read with the principal.
    pub email: Option<EmailAddress>,
    /// The request's CSRF token, for forms.
    pub csrf: String,
    consulted: PolicyConsulted,
}

/// The signed-in user's email address, as the request's extension.
#[derive(Clone)]
struct CallerEmail(EmailAddress);

impl Auth {
    /// Refuses the request unless the policy allows the action: 401 when signing in would
    /// help, 403 with the reason otherwise.
    pub fn require(&self, action: &Action) -> Result<(), AppError> {
        let decision = decide(&self.principal, action);
        self.consulted.note(&decision);
        match decision {
            Decision::Allow => Ok(()),
            Decision::SignInRequired => Err(AppError::sign_in_required()),
            Decision::Deny(reason) => Err(AppError::new(StatusCode::FORBIDDEN, reason)),
        }
    }

    /// Whether the action is allowed, for showing or hiding a control. Counts as asking.
    pub fn allows(&self, action: &Action) -> bool {
        let decision = decide(&self.principal, action);
        self.consulted.note(&decision);
        decision.is_allowed()
    }

    /// Whether the policy would allow an action, without recording the answer: for showing or
    /// hiding a control on a page the caller may read anyway, so that hiding an owner's button
    /// does not mark the page as refused.
    pub fn may(&self, action: &Action) -> bool {
        decide(&self.principal, action).is_allowed()
    }

    /// The signed-in user as the actor of a change, for the audit log.
    pub fn actor(&self) -> Result<granary_core::Actor, AppError> {
        self.user()
            .map(|u| granary_core::Actor::User {
                id: u.id,
                name: u.name.clone(),
            })
            .ok_or_else(AppError::sign_in_required)
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
        let user = self.user();
        crate::views::Chrome {
            user_name: user.map(|u| u.name.clone()),
            csrf: self.csrf.clone(),
            manages: user.is_some_and(|u| u.site_admin || u.is_program_officer()),
            applies: user.is_some_and(|u| {
                u.memberships
                    .iter()
                    .any(|m| m.kind != granary_core::policy::OrgKind::ProgramOffice && u.works_for(m.org))
            }),
            // Anyone in an office that issues solicitations may be put in a reviewer pool.
            reviews: user.is_some_and(|u| {
                u.memberships
                    .iter()
                    .any(|m| m.kind != granary_core::policy::OrgKind::CommunityOrganization)
            }),
        }
    }
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> Result<Self, Self::Rejection> {
        let principal = parts
            .extensions
            .get::<Principal>()
            .cloned()
            .unwrap_or(Principal::Anonymous);
        let consulted = parts.extensions.get::<PolicyConsulted>().cloned().unwrap_or_default();
        let csrf = parts
            .extensions
            .get::<crate::csrf::CsrfToken>()
            .map(|t| t.0.clone())
            .unwrap_or_default();
        let email = parts.extensions.get::<CallerEmail>().map(|e| e.0.clone());
        Ok(Auth {
            principal,
            email,
            csrf,
            consulted,
        })
    }
}

/// Resolves the principal of a request and checks afterwards that the policy was asked.
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let caller = match crate::session::principal_of(&state, req.headers()).await {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let consulted = PolicyConsulted::default();
    req.extensions_mut().insert(caller.principal);
    if let Some(email) = caller.email {
        req.extensions_mut().insert(CallerEmail(email));
    }
    req.extensions_mut().insert(consulted.clone());
    let mut resp = next.run(req).await;
    let status = resp.status();
    let verdict = consulted.0.load(Ordering::Relaxed);
    if (status.is_success() || status.is_redirection()) && verdict == NOT_ASKED {
        tracing::error!(
            status = status.as_u16(),
            "a route answered without asking the authorization policy"
        );
        return AppError::internal("route skipped the authorization policy").into_response();
    }
    if !state.expose_policy_verdict {
        return resp;
    }
    let word = match verdict {
        ALLOWED => "allowed",
        SIGN_IN => "sign-in",
        REFUSED => "refused",
        _ => "not-asked",
    };
    resp.headers_mut()
        .insert(AUTHZ_HEADER, axum::http::HeaderValue::from_static(word));
    resp
}
