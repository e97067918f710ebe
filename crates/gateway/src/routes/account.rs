//! Accounts: sign up, verify the email address, sign in and out, reset a forgotten password,
//! and the account page with API tokens. Forms keep what was typed (never the password) and
//! name each field's problem; messages never reveal whether an account exists.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::Form;
use axum::extract::{ConnectInfo, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Duration;
use granary_core::error::message_for;
use granary_core::policy::{Action, Scope};
use granary_core::{FieldError, ValidationErrors};
use granary_identity::{self as identity, IdentityError, NewUser, Password, TokenPurpose};
use serde::{Deserialize, Serialize};

use crate::auth::Auth;
use crate::csrf::cookie;
use crate::error::{AppError, AppResult};
use crate::session::{SESSION_COOKIE, clear_session_cookie, session_cookie};
use crate::state::AppState;

/// The client's network address, for sign-in throttling.
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        Ok(ClientIp(ip))
    }
}

/// Only local paths are followed after signing in, never another site.
fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next
    } else {
        "/account"
    }
}

fn secure(state: &AppState) -> bool {
    state.public_url.starts_with("https://")
}

#[derive(Deserialize, Default)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
    #[serde(default)]
    notice: String,
}

#[derive(Serialize)]
struct SignInBody<'a> {
    next: &'a str,
    email: &'a str,
    error: Option<String>,
    notice: Option<&'static str>,
}

fn notice_text(key: &str) -> Option<&'static str> {
    match key {
        "password-changed" => Some("Your password was changed. Sign in with the new one."),
        "signed-out" => Some("You are signed out."),
        _ => None,
    }
}

pub async fn sign_in_page(
    auth: Auth,
    State(state): State<AppState>,
    Query(q): Query<NextQuery>,
) -> AppResult<Response> {
    auth.require(&Action::Authenticate)?;
    let body = SignInBody {
        next: safe_next(&q.next),
        email: "",
        error: None,
        notice: notice_text(&q.notice),
    };
    Ok(state
        .views
        .page(&auth.chrome(), "sign_in", "Sign in", "sign-in", &body)?
        .into_response())
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// Starts a session in a new cookie, ending the browser's previous session (so a session id
/// fixed before sign-in is worthless after it).
async fn start_session(
    state: &AppState,
    headers: &HeaderMap,
    user: granary_core::id::UserId,
    ip: IpAddr,
    to: &str,
) -> AppResult<Response> {
    let now = state.now();
    if let Some(old) = cookie(headers, SESSION_COOKIE) {
        identity::end_session(&state.db, &old, now).await?;
    }
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(300).collect::<String>());
    let (_, token) = identity::create_session(&state.db, user, Some(ip), agent.as_deref(), now).await?;
    let mut resp = Redirect::to(to).into_response();
    if let Some(c) = session_cookie(&token, secure(state)) {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(resp)
}

pub async fn sign_in(
    auth: Auth,
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(f): Form<SignInForm>,
) -> AppResult<Response> {
    auth.require(&Action::Authenticate)?;
    let next = safe_next(&f.next).to_string();
    let refuse = |status: StatusCode, error: String| -> AppResult<Response> {
        let body = SignInBody {
            next: &next,
            email: &f.email,
            error: Some(error),
            notice: None,
        };
        let html = state
            .views
            .page(&auth.chrome(), "sign_in", "Sign in", "sign-in", &body)?;
        Ok((status, html).into_response())
    };
    match identity::authenticate(&state.db, &f.email, &f.password, ip, state.now()).await {
        Ok(user) => start_session(&state, &headers, user.id, ip, &next).await,
        Err(IdentityError::InvalidCredentials) => refuse(
            StatusCode::UNAUTHORIZED,
            "That email address and password do not match an account. Check both and try again.".into(),
        ),
        Err(IdentityError::Throttled { retry_after_seconds }) => {
            let minutes = retry_after_seconds.div_ceil(60).max(1);
            let mut resp = refuse(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "Too many attempts. For your safety, wait {minutes} minutes before trying again, or reset your password."
                ),
            )?;
            if let Ok(v) = HeaderValue::from_str(&retry_after_seconds.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Ok(resp)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Serialize, Default)]
struct SignUpBody {
    display_name: String,
    email: String,
    errors: Vec<FieldError>,
    has_errors: bool,
    display_name_error: Option<String>,
    email_error: Option<String>,
    password_error: Option<String>,
}

impl SignUpBody {
    fn with_errors(display_name: &str, email: &str, errors: Vec<FieldError>) -> Self {
        SignUpBody {
            display_name: display_name.to_string(),
            email: email.to_string(),
            has_errors: !errors.is_empty(),
            display_name_error: message_for(&errors, "display_name").map(str::to_string),
            email_error: message_for(&errors, "email").map(str::to_string),
            password_error: message_for(&errors, "password").map(str::to_string),
            errors,
        }
    }
}

pub async fn sign_up_page(auth: Auth, State(state): State<AppState>) -> AppResult<Response> {
    auth.require(&Action::Authenticate)?;
    Ok(state
        .views
        .page(
            &auth.chrome(),
            "sign_up",
            "Create an account",
            "sign-in",
            &SignUpBody::default(),
        )?
        .into_response())
}

#[derive(Deserialize)]
pub struct SignUpForm {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

/// Queues an email and asks for it to be delivered now (a background loop retries failures).
pub async fn send_email(state: &AppState, to: &identity::EmailAddress, subject: &str, body: &str) -> AppResult<()> {
    identity::enqueue_email(&state.db, to, subject, body, state.now()).await?;
    wake_postman(state);
    Ok(())
}

/// Asks for queued email to be delivered now: the server's mail loop when there is one,
/// otherwise (in tests) a task of its own.
pub fn wake_postman(state: &AppState) {
    if let Some(postman) = &state.postman {
        postman.notify_one();
        return;
    }
    let (db, mailer, now) = (state.db.clone(), state.mailer.clone(), state.now());
    tokio::spawn(async move {
        if let Err(e) = identity::mail::deliver_pending(&db, mailer.as_ref(), now).await {
            tracing::warn!(error = %e, "delivering email failed; it stays queued");
        }
    });
}

async fn send_verification(state: &AppState, user: &identity::User) -> AppResult<()> {
    let token = identity::issue_token(&state.db, user.id, TokenPurpose::VerifyEmail, state.now()).await?;
    let link = format!("{}/verify-email?token={token}", state.public_url);
    let body = format!(
        "Hello {},\n\nWelcome to Granary. Please confirm your email address by opening this link:\n\n{link}\n\nThe link works for 48 hours. If you did not create an account, you can ignore this message.\n",
        user.display_name
    );
    send_email(state, &user.email, "Confirm your email address for Granary", &body).await
}

/// The page after signing up: the same whether or not the address already had an account,
/// so sign-up never reveals who is registered.
fn check_your_email(state: &AppState, auth: &Auth, email: &str) -> AppResult<Response> {
    let message = format!(
        "We sent a message to {email}. Open the link in it to confirm your address and finish signing in. The link works for 48 hours."
    );
    notice(
        state,
        auth,
        StatusCode::OK,
        &Notice {
            heading: "Check your email",
            message: &message,
            link_href: "/sign-in",
            link_text: "Back to sign in",
        },
    )
}

pub async fn sign_up(auth: Auth, State(state): State<AppState>, Form(f): Form<SignUpForm>) -> AppResult<Response> {
    auth.require(&Action::Authenticate)?;
    let page_with = |errors: Vec<FieldError>| -> AppResult<Response> {
        let body = SignUpBody::with_errors(&f.display_name, &f.email, errors);
        let html = state
            .views
            .page(&auth.chrome(), "sign_up", "Create an account", "sign-in", &body)?;
        Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
    };
    let new = match NewUser::parse(&f.email, &f.display_name, &f.password) {
        Ok(n) => n,
        Err(e) => return page_with(e.0),
    };
    let email = new.email.clone();
    match identity::create_user(&state.db, &granary_core::Actor::System, new, state.now()).await {
        Ok(user) => send_verification(&state, &user).await?,
        Err(IdentityError::DuplicateEmail) => {
            // Tell the address's owner, not the person at the keyboard.
            let body = format!(
                "Hello,\n\nSomeone tried to create a Granary account with this email address, which already has one. If it was you, sign in at {0}/sign-in or choose a new password at {0}/forgot-password.\n\nIf it was not you, you can ignore this message: nothing has changed.\n",
                state.public_url
            );
            send_email(&state, &email, "Your Granary account", &body).await?;
        }
        Err(IdentityError::Invalid(v)) => return page_with(v.0),
        Err(e) => return Err(e.into()),
    }
    check_your_email(&state, &auth, email.as_str())
}

pub async fn sign_out(auth: Auth, State(state): State<AppState>, headers: HeaderMap) -> AppResult<Response> {
    auth.require(&Action::Authenticate)?;
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        identity::end_session(&state.db, &token, state.now()).await?;
    }
    let mut resp = Redirect::to("/sign-in?notice=signed-out").into_response();
    resp.headers_mut()
        .append(header::SET_COOKIE, clear_session_cookie(secure(&state)));
    Ok(resp)
}

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[derive(Serialize)]
pub(crate) struct Notice<'a> {
    pub heading: &'a str,
    pub message: &'a str,
    pub link_href: &'a str,
    pub link_text: &'a str,
}

pub(crate) fn notice(state: &AppState, auth: &Auth, status: StatusCode, n: &Notice<'_>) -> AppResult<Response> {
    Ok((status, state.views.page(&auth.chrome(), "notice", n.heading, "", n)?).into_response())
}

/// Following the confirmation link proves the address, confirms it, and signs the browser in.
pub async fn verify_email(
    auth: Auth,
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Query(q): Query<TokenQuery>,
) -> AppResult<Response> {
    auth.require(&Action::Authenticate)?;
    match identity::verify_email_with_token(&state.db, &q.token, state.now()).await {
        Ok(user) => start_session(&state, &headers, user.id, ip, "/account?notice=confirmed").await,
        Err(IdentityError::InvalidToken) => notice(
            &state,
            &auth,
            StatusCode::BAD_REQUEST,
            &Notice {
                heading: "That link does not work",
                message: "The link is not valid any more: it may have been used already or be more than 48 hours old. Sign in to get a new one, or sign up again.",
                link_href: "/sign-in",
                link_text: "Sign in",
            },
        ),
        Err(e) => Err(e.into()),
    }
}

#[derive(Serialize)]
struct ForgotBody<'a> {
    sent: bool,
    email: &'a str,
    error: Option<&'a str>,
}

pub async fn forgot_page(auth: Auth, State(state): State<AppState>) -> AppResult<Response> {
    auth.require(&Action::Authenticate)?;
    let body = ForgotBody {
        sent: false,
        email: "",
        error: None,
    };
    Ok(state
        .views
        .page(
            &auth.chrome(),
            "forgot_password",
            "Reset your password",
            "sign-in",
            &body,
        )?
        .into_response())
}

#[derive(Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    email: String,
}

pub async fn forgot(auth: Auth, State(state): State<AppState>, Form(f): Form<EmailForm>) -> AppResult<Response> {
    auth.require(&Action::Authenticate)?;
    let Ok(email) = identity::EmailAddress::parse(&f.email) else {
        let body = ForgotBody {
            sent: false,
            email: &f.email,
            error: Some("Enter an email address such as name@example.org."),
        };
        let html = state.views.page(
            &auth.chrome(),
            "forgot_password",
            "Reset your password",
            "sign-in",
            &body,
        )?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
    };
    // The same answer whether or not the account exists.
    if let Some(user) = identity::find_user_by_email(&state.db, &email).await?
        && !user.is_disabled()
    {
        let token = identity::issue_token(&state.db, user.id, TokenPurpose::ResetPassword, state.now()).await?;
        let link = format!("{}/reset-password?token={token}", state.public_url);
        let body = format!(
            "Hello {},\n\nSomeone asked to reset the password of your Granary account. To choose a new password, open this link:\n\n{link}\n\nThe link works for one hour. If it was not you, ignore this message: your password has not changed.\n",
            user.display_name
        );
        send_email(&state, &user.email, "Reset your Granary password", &body).await?;
    }
    let body = ForgotBody {
        sent: true,
        email: "",
        error: None,
    };
    Ok(state
        .views
        .page(
            &auth.chrome(),
            "forgot_password",
            "Reset your password",
            "sign-in",
            &body,
        )?
        .into_response())
}

#[derive(Serialize)]
struct ResetBody<'a> {
    token: &'a str,
    error: Option<String>,
}

pub async fn reset_page(auth: Auth, State(state): State<AppState>, Query(q): Query<TokenQuery>) -> AppResult<Response> {
    auth.require(&Action::Authenticate)?;
    let body = ResetBody {
        token: &q.token,
        error: None,
    };
    Ok(state
        .views
        .page(
            &auth.chrome(),
            "reset_password",
            "Choose a new password",
            "sign-in",
            &body,
        )?
        .into_response())
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
}

pub async fn reset(auth: Auth, State(state): State<AppState>, Form(f): Form<ResetForm>) -> AppResult<Response> {
    auth.require(&Action::Authenticate)?;
    let again = |status: StatusCode, error: String| -> AppResult<Response> {
        let body = ResetBody {
            token: &f.token,
            error: Some(error),
        };
        let html = state.views.page(
            &auth.chrome(),
            "reset_password",
            "Choose a new password",
            "sign-in",
            &body,
        )?;
        Ok((status, html).into_response())
    };
    let password = match Password::new(&f.password) {
        Ok(p) => p,
        Err(e) => return again(StatusCode::UNPROCESSABLE_ENTITY, format!("The password {}.", e.0)),
    };
    match identity::reset_password_with_token(&state.db, &f.token, &password, state.now()).await {
        Ok(_) => {
            let mut resp = Redirect::to("/sign-in?notice=password-changed").into_response();
            resp.headers_mut()
                .append(header::SET_COOKIE, clear_session_cookie(secure(&state)));
            Ok(resp)
        }
        Err(IdentityError::InvalidToken) => again(
            StatusCode::BAD_REQUEST,
            "This link is not valid any more: it may have been used or be more than an hour old. Ask for a new one."
                .into(),
        ),
        Err(e) => Err(e.into()),
    }
}

#[derive(Serialize)]
struct MembershipView {
    org_id: String,
    org_name: String,
    kind: &'static str,
    role: &'static str,
}

#[derive(Serialize)]
struct TokenView {
    id: String,
    name: String,
    prefix: String,
    scopes: String,
    expires: String,
    last_used: String,
    active: bool,
}

#[derive(Serialize)]
struct AccountBody {
    display_name: String,
    email: String,
    email_verified: bool,
    site_admin: bool,
    notice: Option<&'static str>,
    memberships: Vec<MembershipView>,
    tokens: Vec<TokenView>,
}

pub async fn account_page(
    auth: Auth,
    State(state): State<AppState>,
    Query(q): Query<NextQuery>,
) -> AppResult<Response> {
    auth.require(&Action::ManageOwnAccount)?;
    let Some(me) = auth.user() else {
        return Err(AppError::sign_in_required());
    };
    let user = identity::get_user(&state.db, me.id).await?;
    let tz = granary_core::time::DEFAULT_TIME_ZONE;
    let mut memberships = Vec::new();
    for m in &me.memberships {
        let org = identity::get_organization(&state.db, m.org).await?;
        memberships.push(MembershipView {
            org_id: org.id.to_string(),
            org_name: org.name,
            kind: m.kind.label(),
            role: m.role.as_str(),
        });
    }
    let tokens = identity::list_api_tokens(&state.db, me.id)
        .await?
        .into_iter()
        .map(|t| TokenView {
            id: t.id.to_string(),
            active: t.revoked_at.is_none() && t.expires_at.is_none_or(|e| e > state.now()),
            name: t.name,
            prefix: t.prefix,
            scopes: t
                .scopes
                .iter()
                .map(|s| if *s == Scope::Write { "read, write" } else { "read" })
                .max()
                .unwrap_or("read")
                .to_string(),
            expires: t
                .expires_at
                .map(|e| granary_core::time::format_date(e, tz))
                .unwrap_or_else(|| "never".into()),
            last_used: t
                .last_used_at
                .map(|e| granary_core::time::format_date(e, tz))
                .unwrap_or_else(|| "never".into()),
        })
        .collect();
    let body = AccountBody {
        display_name: user.display_name.clone(),
        email: user.email.as_str().to_string(),
        email_verified: user.email_verified(),
        site_admin: user.is_site_admin,
        notice: match q.notice.as_str() {
            "confirmed" => Some("Welcome to Granary. Your email address is confirmed and you are signed in."),
            "revoked" => Some("The token was revoked; programs using it can no longer sign in with it."),
            _ => None,
        },
        memberships,
        tokens,
    };
    Ok(state
        .views
        .page(&auth.chrome(), "account", "Your account", "account", &body)?
        .into_response())
}

#[derive(Deserialize)]
pub struct NewTokenForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    expires_in_days: String,
}

#[derive(Serialize)]
struct TokenCreated {
    name: String,
    token: String,
}

pub async fn create_token(
    auth: Auth,
    State(state): State<AppState>,
    Form(f): Form<NewTokenForm>,
) -> AppResult<Response> {
    auth.require(&Action::ManageOwnAccount)?;
    let Some(me) = auth.user() else {
        return Err(AppError::sign_in_required());
    };
    let mut errors = ValidationErrors::new();
    let name = f.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        errors.add("name", "give the token a name of at most 100 characters");
    }
    let scopes = match f.scope.as_str() {
        "read" | "" => vec![Scope::Read],
        "write" => vec![Scope::Read, Scope::Write],
        _ => {
            errors.add("scope", "choose read or write");
            vec![]
        }
    };
    let days = match f.expires_in_days.trim() {
        "" => 90,
        d => d
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=365).contains(n))
            .unwrap_or_else(|| {
                errors.add("expires_in_days", "choose between 1 and 365 days");
                90
            }),
    };
    errors
        .into_result()
        .map_err(|e| AppError::invalid(StatusCode::UNPROCESSABLE_ENTITY, e.0))?;
    let actor = auth.actor()?;
    let now = state.now();
    let (_, token) = identity::create_api_token(
        &state.db,
        &actor,
        me.id,
        name,
        scopes,
        Some(now + Duration::days(days)),
        now,
    )
    .await?;
    let body = TokenCreated {
        name: name.to_string(),
        token,
    };
    let mut resp = state
        .views
        .page(&auth.chrome(), "token_created", "Your new API token", "account", &body)?
        .into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

pub async fn revoke_token(auth: Auth, State(state): State<AppState>, Path(id): Path<String>) -> AppResult<Response> {
    auth.require(&Action::ManageOwnAccount)?;
    let Some(me) = auth.user() else {
        return Err(AppError::sign_in_required());
    };
    let token_id = id.parse().map_err(|_| AppError::not_found("There is no such token."))?;
    let actor = auth.actor()?;
    identity::revoke_api_token(&state.db, &actor, me.id, token_id, state.now()).await?;
    Ok(Redirect::to("/account?notice=revoked").into_response())
}
