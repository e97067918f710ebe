//! Organizations, their members and the audit log: an organization's profile and members
//! (members and administrators), editing the profile (owners), inviting, re-roling and
//! removing members (owners), accepting an invitation (the invited person), and the audit
//! views (administrators: everything; program officers: their office and its solicitations).

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use granary_core::audit::{self, AuditEntry, AuditQuery};
use granary_core::error::message_for;
use granary_core::id::{OrganizationId, UserId};
use granary_core::policy::{Action, OrgKind, Role};
use granary_core::time::{DEFAULT_TIME_ZONE, format_instant, instant_in_zone};
use granary_core::{FieldError, Money, ValidationErrors};
use granary_identity::{self as identity, EmailAddress, IdentityError, InvitationId, OrganizationProfile};
use serde::{Deserialize, Serialize};

use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::routes::account::{Notice, notice};
use crate::state::AppState;

/// Entries per audit page.
const AUDIT_PAGE_SIZE: u64 = 50;

fn parse_org(raw: &str) -> AppResult<OrganizationId> {
    raw.parse()
        .map_err(|_| AppError::not_found(format!("There is no organization {raw:?}.")))
}

fn when(at: DateTime<Utc>) -> String {
    format_instant(at, DEFAULT_TIME_ZONE)
}

// ---------------------------------------------------------------------------------------
// The organization page

#[derive(Deserialize, Default)]
pub struct NoticeQuery {
    #[serde(default)]
    notice: String,
}

fn notice_text(key: &str) -> Option<&'static str> {
    match key {
        "registered" => Some("Your organization is registered, and you are its owner. Invite your colleagues below."),
        "saved" => Some("The profile was saved."),
        "invited" => Some("The invitation was sent. Its link works for 7 days."),
        "revoked" => Some("The invitation was withdrawn; its link no longer works."),
        "role-changed" => Some("The member's role was changed."),
        "removed" => Some("The member was removed from the organization."),
        "joined" => Some("Welcome: you are now a member of this organization."),
        _ => None,
    }
}

#[derive(Serialize)]
struct MemberView {
    user_id: String,
    name: String,
    email: String,
    role: &'static str,
}

#[derive(Serialize)]
struct InvitationView {
    id: String,
    email: String,
    role: &'static str,
    expires: String,
}

/// The invitation form as typed, with its problems.
#[derive(Serialize, Default)]
struct InviteForm {
    email: String,
    role: String,
    email_error: Option<String>,
    role_error: Option<String>,
}

#[derive(Serialize)]
struct OrgBody {
    id: String,
    name: String,
    kind: &'static str,
    legal_name: Option<String>,
    address: Vec<String>,
    county_fips: Option<String>,
    annual_budget: Option<String>,
    year_founded: Option<i32>,
    populations_served: Vec<String>,
    lived_experience_led: bool,
    website: Option<String>,
    show_identifiers: bool,
    ein: Option<String>,
    uei: Option<String>,
    can_edit: bool,
    can_manage: bool,
    can_audit: bool,
    notice: Option<&'static str>,
    members: Vec<MemberView>,
    invitations: Vec<InvitationView>,
    invite: InviteForm,
}

async fn render_org(
    state: &AppState,
    auth: &Auth,
    org: OrganizationId,
    status: StatusCode,
    notice: Option<&'static str>,
    invite: InviteForm,
) -> AppResult<Response> {
    let o = identity::get_organization(&state.db, org).await?;
    let can_manage = auth.may(&Action::ManageMembers { org });
    let members = identity::members(&state.db, org)
        .await?
        .into_iter()
        .map(|m| MemberView {
            user_id: m.user_id.to_string(),
            name: m.display_name,
            email: m.email.as_str().to_string(),
            role: m.role.as_str(),
        })
        .collect();
    let invitations = if can_manage {
        identity::pending_invitations(&state.db, org, state.now())
            .await?
            .into_iter()
            .map(|i| InvitationView {
                id: i.id.to_string(),
                email: i.email.as_str().to_string(),
                role: i.role.as_str(),
                expires: when(i.expires_at),
            })
            .collect()
    } else {
        Vec::new()
    };
    let a = &o.address;
    let city_line = [
        a.city.clone(),
        a.state.as_ref().map(|s| s.to_string()),
        a.postal_code.clone(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    let address = [a.line1.clone(), a.line2.clone(), Some(city_line)]
        .into_iter()
        .flatten()
        .filter(|l| !l.trim().is_empty())
        .collect();
    let show_identifiers = auth.user().is_some_and(|u| u.role_in(org).is_some());
    let body = OrgBody {
        id: o.id.to_string(),
        kind: o.kind.label(),
        legal_name: o.legal_name,
        address,
        county_fips: o.county_fips.map(|c| c.to_string()),
        annual_budget: o.annual_budget.map(|m| m.to_string()),
        year_founded: o.year_founded,
        populations_served: o.populations_served,
        lived_experience_led: o.lived_experience_led,
        website: o.website,
        show_identifiers,
        ein: if show_identifiers {
            o.ein.map(|e| e.to_string())
        } else {
            None
        },
        uei: if show_identifiers {
            o.uei.map(|u| u.to_string())
        } else {
            None
        },
        can_edit: auth.may(&Action::EditOrganization { org }),
        can_manage,
        can_audit: auth.may(&Action::ReadAudit { org: Some(org) }),
        notice,
        members,
        invitations,
        invite,
        name: o.name.clone(),
    };
    let html = state
        .views
        .page(&auth.chrome(), "org_profile", &o.name, "account", &body)?;
    Ok((status, html).into_response())
}

/// `GET /organizations/{org}`: the profile and the members.
pub async fn org_page(
    auth: Auth,
    State(state): State<AppState>,
    Path(org): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Response> {
    let org = parse_org(&org)?;
    auth.require(&Action::ReadOrganization { org })?;
    render_org(
        &state,
        &auth,
        org,
        StatusCode::OK,
        notice_text(&q.notice),
        InviteForm {
            role: "staff".into(),
            ..Default::default()
        },
    )
    .await
}

// ---------------------------------------------------------------------------------------
// Editing the profile

/// The profile form, as typed.
#[derive(Deserialize, Default, Clone)]
pub struct ProfileForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    legal_name: String,
    #[serde(default)]
    ein: String,
    #[serde(default)]
    uei: String,
    #[serde(default)]
    address_line1: String,
    #[serde(default)]
    address_line2: String,
    #[serde(default)]
    city: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    postal_code: String,
    #[serde(default)]
    county_fips: String,
    #[serde(default)]
    annual_budget: String,
    #[serde(default)]
    year_founded: String,
    #[serde(default)]
    populations_served: String,
    #[serde(default)]
    lived_experience_led: Option<String>,
    #[serde(default)]
    website: String,
}

impl ProfileForm {
    fn from_org(o: &identity::Organization) -> Self {
        let a = &o.address;
        ProfileForm {
            name: o.name.clone(),
            legal_name: o.legal_name.clone().unwrap_or_default(),
            ein: o.ein.as_ref().map(|v| v.to_string()).unwrap_or_default(),
            uei: o.uei.as_ref().map(|v| v.to_string()).unwrap_or_default(),
            address_line1: a.line1.clone().unwrap_or_default(),
            address_line2: a.line2.clone().unwrap_or_default(),
            city: a.city.clone().unwrap_or_default(),
            state: a.state.as_ref().map(|v| v.to_string()).unwrap_or_default(),
            postal_code: a.postal_code.clone().unwrap_or_default(),
            county_fips: o.county_fips.as_ref().map(|v| v.to_string()).unwrap_or_default(),
            annual_budget: o.annual_budget.map(|m| m.to_string()).unwrap_or_default(),
            year_founded: o.year_founded.map(|y| y.to_string()).unwrap_or_default(),
            populations_served: o.populations_served.join("\n"),
            lived_experience_led: o.lived_experience_led.then(|| "yes".to_string()),
            website: o.website.clone().unwrap_or_default(),
        }
    }

    /// The profile to save, or the fields the gateway itself could not read.
    fn to_profile(&self, sponsor: Option<OrganizationId>) -> Result<OrganizationProfile, ValidationErrors> {
        let opt = |s: &str| Some(s.to_string()).filter(|s| !s.trim().is_empty());
        let mut errors = ValidationErrors::new();
        let annual_budget = match self.annual_budget.trim() {
            "" => None,
            s => match s.parse::<Money>() {
                Ok(m) => Some(m),
                Err(_) => {
                    errors.add(
                        "annual_budget",
                        "enter an amount in dollars, like 125000 or $125,000.50",
                    );
                    None
                }
            },
        };
        let year_founded = match self.year_founded.trim() {
            "" => None,
            s => match s.parse::<i32>() {
                Ok(y) => Some(y),
                Err(_) => {
                    errors.add("year_founded", "enter a year of four digits, like 2015");
                    None
                }
            },
        };
        errors.into_result()?;
        Ok(OrganizationProfile {
            name: self.name.clone(),
            legal_name: opt(&self.legal_name),
            ein: opt(&self.ein),
            uei: opt(&self.uei),
            address_line1: opt(&self.address_line1),
            address_line2: opt(&self.address_line2),
            city: opt(&self.city),
            state: opt(&self.state),
            postal_code: opt(&self.postal_code),
            county_fips: opt(&self.county_fips),
            annual_budget,
            year_founded,
            populations_served: self.populations_served.lines().map(str::to_string).collect(),
            lived_experience_led: self.lived_experience_led.as_deref().is_some_and(|v| !v.is_empty()),
            fiscal_sponsor: sponsor,
            website: opt(&self.website),
        })
    }
}

#[derive(Serialize)]
struct FieldView {
    name: &'static str,
    label: &'static str,
    hint: Option<&'static str>,
    value: String,
    textarea: bool,
    checkbox: bool,
    checked: bool,
    error: Option<String>,
    describedby: Option<String>,
}

#[derive(Serialize)]
struct KindChoice {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

#[derive(Serialize)]
struct EditBody {
    heading: String,
    intro: Option<&'static str>,
    action: String,
    submit: &'static str,
    back_href: String,
    back_text: &'static str,
    /// Offered when registering a new organization.
    kinds: Vec<KindChoice>,
    kind_error: Option<String>,
    errors: Vec<FieldError>,
    has_errors: bool,
    fields: Vec<FieldView>,
}

fn edit_body(o: &identity::Organization, f: &ProfileForm, errors: Vec<FieldError>) -> EditBody {
    let mut b = profile_body(f, errors);
    b.heading = format!("Edit the profile of {}", o.name);
    b.action = format!("/organizations/{}", o.id);
    b.back_href = format!("/organizations/{}", o.id);
    b
}

/// The profile form for registering a new organization.
fn new_org_body(f: &ProfileForm, kind: &str, errors: Vec<FieldError>) -> EditBody {
    let mut b = profile_body(f, errors);
    b.heading = "Register your organization".into();
    b.intro = Some(
        "Tell funders about your organization. Only the name is required now; the rest helps check eligibility. You can apply without an EIN or UEI: we will explain how to get a UEI (it is free) before any award.",
    );
    b.action = "/organizations".into();
    b.submit = "Register the organization";
    b.back_href = "/account".into();
    b.back_text = "Back to your account";
    b.kind_error = message_for(&b.errors, "kind").map(str::to_string);
    b.kinds = [
        (
            "community_organization",
            "A community or grassroots organization (we apply for funding)",
        ),
        (
            "intermediary",
            "An intermediary (we re-grant funds to community organizations)",
        ),
    ]
    .into_iter()
    .map(|(value, label)| KindChoice {
        value,
        label,
        selected: kind == value,
    })
    .collect();
    b
}

fn profile_body(f: &ProfileForm, errors: Vec<FieldError>) -> EditBody {
    let fv = |name: &'static str, label: &'static str, hint: Option<&'static str>, value: &str| {
        let error = message_for(&errors, name).map(str::to_string);
        let describedby = [
            hint.map(|_| format!("{name}-hint")),
            error.as_ref().map(|_| format!("{name}-error")),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
        FieldView {
            name,
            label,
            hint,
            value: value.to_string(),
            textarea: name == "populations_served",
            checkbox: false,
            checked: false,
            error,
            describedby: Some(describedby).filter(|d| !d.is_empty()),
        }
    };
    let mut fields = vec![
        fv("name", "Name", None, &f.name),
        fv(
            "legal_name",
            "Legal name",
            Some("If different from the name people know."),
            &f.legal_name,
        ),
        fv(
            "ein",
            "EIN (Employer Identification Number)",
            Some("Nine digits, like 12-3456789."),
            &f.ein,
        ),
        fv(
            "uei",
            "UEI (Unique Entity ID from SAM.gov)",
            Some("Twelve letters and digits."),
            &f.uei,
        ),
        fv("address_line1", "Address", None, &f.address_line1),
        fv("address_line2", "Address, second line", None, &f.address_line2),
        fv("city", "City", None, &f.city),
        fv("state", "State", Some("Two letters, like DC."), &f.state),
        fv("postal_code", "ZIP code", None, &f.postal_code),
        fv(
            "county_fips",
            "County FIPS code",
            Some("Five digits, like 11001."),
            &f.county_fips,
        ),
        fv("annual_budget", "Annual budget (dollars)", None, &f.annual_budget),
        fv("year_founded", "Year founded", None, &f.year_founded),
        fv(
            "populations_served",
            "Populations served",
            Some("One per line."),
            &f.populations_served,
        ),
        fv("website", "Website", None, &f.website),
    ];
    let mut lived = fv(
        "lived_experience_led",
        "Led by people with lived experience of the harm it works on",
        None,
        "yes",
    );
    lived.checkbox = true;
    lived.checked = f.lived_experience_led.as_deref().is_some_and(|v| !v.is_empty());
    fields.push(lived);
    EditBody {
        heading: String::new(),
        intro: None,
        action: String::new(),
        submit: "Save profile",
        back_href: String::new(),
        back_text: "Back to the organization",
        kinds: Vec::new(),
        kind_error: None,
        has_errors: !errors.is_empty(),
        errors,
        fields,
    }
}

#[derive(Deserialize, Default)]
pub struct NewOrgForm {
    #[serde(default)]
    kind: String,
    #[serde(flatten)]
    profile: ProfileForm,
}

/// `GET /organizations/new`: the form to register an organization.
pub async fn new_page(auth: Auth, State(state): State<AppState>) -> AppResult<Response> {
    auth.require(&Action::CreateOrganization {
        kind: OrgKind::CommunityOrganization,
    })?;
    let body = new_org_body(&ProfileForm::default(), "community_organization", Vec::new());
    Ok(state
        .views
        .page(
            &auth.chrome(),
            "org_edit",
            "Register your organization",
            "account",
            &body,
        )?
        .into_response())
}

/// `POST /organizations`: registers an organization; the person registering it becomes its
/// first owner.
pub async fn create(auth: Auth, State(state): State<AppState>, Form(f): Form<NewOrgForm>) -> AppResult<Response> {
    let kind = OrgKind::parse(&f.kind);
    auth.require(&Action::CreateOrganization {
        kind: kind.unwrap_or(OrgKind::CommunityOrganization),
    })?;
    let actor = auth.actor()?;
    let me = auth.user().ok_or_else(AppError::sign_in_required)?.id;
    let again = |errors: Vec<FieldError>| -> AppResult<Response> {
        let body = new_org_body(&f.profile, &f.kind, errors);
        let html = state.views.page(
            &auth.chrome(),
            "org_edit",
            "Register your organization",
            "account",
            &body,
        )?;
        Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
    };
    let Some(kind) = kind else {
        return again(vec![FieldError {
            field: "kind".into(),
            message: "choose what kind of organization it is".into(),
        }]);
    };
    let profile = match f.profile.to_profile(None) {
        Ok(p) => p,
        Err(e) => return again(e.0),
    };
    let new = identity::NewOrganization { kind, profile };
    match identity::create_organization(&state.db, &actor, new, Some(me), state.now()).await {
        Ok(o) => Ok(Redirect::to(&format!("/organizations/{}?notice=registered", o.id)).into_response()),
        Err(IdentityError::Invalid(v)) => again(v.0),
        Err(IdentityError::DuplicateOrganization(_)) => again(vec![FieldError {
            field: "name".into(),
            message: "an organization of this kind already has this name; if it is yours, ask its owner to invite you"
                .into(),
        }]),
        Err(e) => Err(e.into()),
    }
}

/// `GET /organizations/{org}/edit`: the profile form.
pub async fn edit_page(auth: Auth, State(state): State<AppState>, Path(org): Path<String>) -> AppResult<Response> {
    let org = parse_org(&org)?;
    auth.require(&Action::EditOrganization { org })?;
    let o = identity::get_organization(&state.db, org).await?;
    let body = edit_body(&o, &ProfileForm::from_org(&o), Vec::new());
    Ok(state
        .views
        .page(&auth.chrome(), "org_edit", "Edit the profile", "account", &body)?
        .into_response())
}

/// `POST /organizations/{org}`: saves the profile.
pub async fn update(
    auth: Auth,
    State(state): State<AppState>,
    Path(org): Path<String>,
    Form(f): Form<ProfileForm>,
) -> AppResult<Response> {
    let org = parse_org(&org)?;
    auth.require(&Action::EditOrganization { org })?;
    let actor = auth.actor()?;
    let o = identity::get_organization(&state.db, org).await?;
    let again = |errors: Vec<FieldError>| -> AppResult<Response> {
        let body = edit_body(&o, &f, errors);
        let html = state
            .views
            .page(&auth.chrome(), "org_edit", "Edit the profile", "account", &body)?;
        Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
    };
    let profile = match f.to_profile(o.fiscal_sponsor) {
        Ok(p) => p,
        Err(e) => return again(e.0),
    };
    match identity::update_organization(&state.db, &actor, org, profile, state.now()).await {
        Ok(_) => Ok(Redirect::to(&format!("/organizations/{org}?notice=saved")).into_response()),
        Err(IdentityError::Invalid(v)) => again(v.0),
        Err(IdentityError::DuplicateOrganization(_)) => again(vec![FieldError {
            field: "name".into(),
            message: "another organization of this kind already has this name".into(),
        }]),
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------
// Members and invitations

#[derive(Deserialize)]
pub struct InviteFormInput {
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

/// `POST /organizations/{org}/invitations`: invites an email address and emails the link.
pub async fn invite(
    auth: Auth,
    State(state): State<AppState>,
    Path(org): Path<String>,
    Form(f): Form<InviteFormInput>,
) -> AppResult<Response> {
    let org = parse_org(&org)?;
    auth.require(&Action::ManageMembers { org })?;
    let actor = auth.actor()?;
    let mut typed = InviteForm {
        email: f.email.clone(),
        role: f.role.clone(),
        ..Default::default()
    };
    let email = EmailAddress::parse(&f.email);
    let role = Role::parse(f.role.trim());
    if let Err(e) = &email {
        typed.email_error = Some(format!("Enter an email address such as name@example.org ({})", e.0));
    }
    if role.is_none() {
        typed.role_error = Some("Choose owner, staff or reviewer.".into());
    }
    let (Ok(email), Some(role)) = (email, role) else {
        return render_org(&state, &auth, org, StatusCode::UNPROCESSABLE_ENTITY, None, typed).await;
    };
    let (inv, token) = match identity::invite(&state.db, &actor, org, &email, role, state.now()).await {
        Ok(x) => x,
        Err(IdentityError::AlreadyMember) => {
            typed.email_error = Some("This person is already a member of the organization.".into());
            return render_org(&state, &auth, org, StatusCode::CONFLICT, None, typed).await;
        }
        Err(e) => return Err(e.into()),
    };
    let o = identity::get_organization(&state.db, org).await?;
    let link = format!("{}/invitations/accept?token={token}", state.public_url);
    let body = format!(
        "Hello,\n\n{} invited you to join {} on Granary as {}.\n\nTo accept, sign in (or create an account) with this email address, {}, and open this link:\n\n{link}\n\nThe link works for 7 days. If you did not expect this invitation, you can ignore this message.\n",
        actor.display_name(),
        o.name,
        inv.role.as_str(),
        inv.email.as_str(),
    );
    crate::routes::account::send_email(
        &state,
        &inv.email,
        &format!("You are invited to join {} on Granary", o.name),
        &body,
    )
    .await?;
    Ok(Redirect::to(&format!("/organizations/{org}?notice=invited")).into_response())
}

/// `POST /organizations/{org}/invitations/{invitation}/revoke`.
pub async fn revoke_invitation(
    auth: Auth,
    State(state): State<AppState>,
    Path((org, invitation)): Path<(String, String)>,
) -> AppResult<Response> {
    let org = parse_org(&org)?;
    auth.require(&Action::ManageMembers { org })?;
    let actor = auth.actor()?;
    let id: InvitationId = invitation
        .parse()
        .map_err(|_| AppError::not_found("There is no such invitation."))?;
    identity::revoke_invitation(&state.db, &actor, org, id, state.now()).await?;
    Ok(Redirect::to(&format!("/organizations/{org}?notice=revoked")).into_response())
}

fn parse_user(raw: &str) -> AppResult<UserId> {
    raw.parse().map_err(|_| AppError::not_found("There is no such member."))
}

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
}

/// `POST /organizations/{org}/members/{user}/role`.
pub async fn change_role(
    auth: Auth,
    State(state): State<AppState>,
    Path((org, user)): Path<(String, String)>,
    Form(f): Form<RoleForm>,
) -> AppResult<Response> {
    let org = parse_org(&org)?;
    auth.require(&Action::ManageMembers { org })?;
    let actor = auth.actor()?;
    let user = parse_user(&user)?;
    let Some(role) = Role::parse(f.role.trim()) else {
        return Err(AppError::invalid(
            StatusCode::UNPROCESSABLE_ENTITY,
            vec![FieldError {
                field: "role".into(),
                message: "choose owner, staff or reviewer".into(),
            }],
        ));
    };
    identity::change_role(&state.db, &actor, org, user, role, state.now()).await?;
    Ok(Redirect::to(&format!("/organizations/{org}?notice=role-changed")).into_response())
}

/// `POST /organizations/{org}/members/{user}/remove`.
pub async fn remove_member(
    auth: Auth,
    State(state): State<AppState>,
    Path((org, user)): Path<(String, String)>,
) -> AppResult<Response> {
    let org = parse_org(&org)?;
    auth.require(&Action::ManageMembers { org })?;
    let actor = auth.actor()?;
    let user = parse_user(&user)?;
    identity::remove_member(&state.db, &actor, org, user, state.now()).await?;
    Ok(Redirect::to(&format!("/organizations/{org}?notice=removed")).into_response())
}

// ---------------------------------------------------------------------------------------
// Accepting an invitation

#[derive(Deserialize, Default)]
pub struct AcceptQuery {
    #[serde(default)]
    token: String,
}

#[derive(Serialize)]
struct AcceptBody {
    token: String,
    org_name: String,
    role: String,
    invited_email: String,
    expires: String,
    for_you: bool,
    error: Option<String>,
}

fn invalid_link(state: &AppState, auth: &Auth) -> AppResult<Response> {
    notice(
        state,
        auth,
        StatusCode::BAD_REQUEST,
        &Notice {
            heading: "That invitation link does not work",
            message: "The link is not valid any more: it may have been used, withdrawn, or be more than 7 days old. Ask the organization's owner for a new invitation.",
            link_href: "/account",
            link_text: "Go to your account",
        },
    )
}

async fn render_accept(
    state: &AppState,
    auth: &Auth,
    token: &str,
    status: StatusCode,
    error: Option<String>,
) -> AppResult<Response> {
    let me = auth.user().ok_or_else(AppError::sign_in_required)?;
    let Some(inv) = identity::find_pending_invitation(&state.db, token, state.now()).await? else {
        return invalid_link(state, auth);
    };
    let user = identity::get_user(&state.db, me.id).await?;
    let org = identity::get_organization(&state.db, inv.organization_id).await?;
    let for_you = user.email == inv.email;
    let error = error.or_else(|| {
        (!for_you).then(|| {
            format!(
                "This invitation was sent to {}, but you are signed in as {}. Sign out and sign in (or create an account) with the invited address to accept it.",
                inv.email.as_str(),
                user.email.as_str()
            )
        })
    });
    let body = AcceptBody {
        token: token.trim().to_string(),
        org_name: org.name,
        role: inv.role.as_str().to_string(),
        invited_email: inv.email.as_str().to_string(),
        expires: when(inv.expires_at),
        for_you,
        error,
    };
    let html = state.views.page(
        &auth.chrome(),
        "org_invitation",
        "Join an organization",
        "account",
        &body,
    )?;
    Ok((status, html).into_response())
}

/// `GET /invitations/accept?token=`: shows the invitation to the signed-in person.
pub async fn accept_page(
    auth: Auth,
    State(state): State<AppState>,
    Query(q): Query<AcceptQuery>,
) -> AppResult<Response> {
    auth.require(&Action::ManageOwnAccount)?;
    render_accept(&state, &auth, &q.token, StatusCode::OK, None).await
}

/// `POST /invitations/accept`: joins the organization.
pub async fn accept(auth: Auth, State(state): State<AppState>, Form(f): Form<AcceptQuery>) -> AppResult<Response> {
    auth.require(&Action::ManageOwnAccount)?;
    let me = auth.user().ok_or_else(AppError::sign_in_required)?;
    let org = identity::find_pending_invitation(&state.db, &f.token, state.now())
        .await?
        .map(|i| i.organization_id);
    match identity::accept_invitation(&state.db, &f.token, me.id, state.now()).await {
        Ok(_) => {
            let to = match org {
                Some(org) => format!("/organizations/{org}?notice=joined"),
                None => "/account".to_string(),
            };
            Ok(Redirect::to(&to).into_response())
        }
        Err(IdentityError::InvalidToken) => invalid_link(&state, &auth),
        Err(IdentityError::InvitationForAnotherEmail) => {
            render_accept(&state, &auth, &f.token, StatusCode::FORBIDDEN, None).await
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------
// The audit log

/// The audit filters, as typed in the query string.
#[derive(Deserialize, Default, Clone, Serialize)]
pub struct AuditParams {
    #[serde(default)]
    subject_type: String,
    #[serde(default)]
    subject_id: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    page: String,
}

fn bad_filter(field: &str, message: &str) -> AppError {
    AppError::invalid(
        StatusCode::BAD_REQUEST,
        vec![FieldError {
            field: field.into(),
            message: message.into(),
        }],
    )
}

fn parse_day(field: &str, s: &str) -> AppResult<Option<NaiveDate>> {
    match s.trim() {
        "" => Ok(None),
        d => NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| bad_filter(field, "enter a date as YYYY-MM-DD, like 2026-11-23")),
    }
}

/// The filters as a query over the log (without the subject scope), and the page number.
async fn audit_query(state: &AppState, p: &AuditParams) -> AppResult<(AuditQuery, u64)> {
    let midnight = |d: NaiveDate| instant_in_zone(d, NaiveTime::MIN, DEFAULT_TIME_ZONE);
    let since = parse_day("since", &p.since)?;
    let until = parse_day("until", &p.until)?;
    if let (Some(s), Some(u)) = (since, until)
        && u < s
    {
        return Err(bad_filter("until", "the end date is before the start date"));
    }
    let page = match p.page.trim() {
        "" => 1,
        s => s
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=100_000).contains(n))
            .ok_or_else(|| bad_filter("page", "the page is a number from 1"))?,
    };
    let actor = match p.actor.trim() {
        "" => None,
        a if a.contains('@') => {
            let email = EmailAddress::parse(a).map_err(|_| {
                bad_filter(
                    "actor",
                    "enter an email address or an actor label such as user:…, cli:seed or system",
                )
            })?;
            match identity::find_user_by_email(&state.db, &email).await? {
                Some(u) => Some(format!("user:{}", u.id)),
                None => return Err(bad_filter("actor", "no account uses this email address")),
            }
        }
        a => Some(a.to_string()),
    };
    let text = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let q = AuditQuery {
        subject_type: text(&p.subject_type),
        subject_id: text(&p.subject_id),
        actor,
        since: since.map(midnight),
        until: until.map(|d| midnight(d + Duration::days(1))),
        limit: AUDIT_PAGE_SIZE + 1,
        offset: (page - 1) * AUDIT_PAGE_SIZE,
        ..Default::default()
    };
    Ok((q, page))
}

#[derive(Serialize)]
struct EntryView {
    seq: i64,
    time: String,
    actor_name: String,
    actor: String,
    action: String,
    subject_type: String,
    subject_id: String,
    before: Option<String>,
    after: Option<String>,
}

fn pretty(json: &Option<String>) -> Option<String> {
    json.as_deref().map(|j| {
        serde_json::from_str::<serde_json::Value>(j)
            .ok()
            .and_then(|v| serde_json::to_string_pretty(&v).ok())
            .unwrap_or_else(|| j.to_string())
    })
}

fn entry_view(e: AuditEntry) -> EntryView {
    EntryView {
        seq: e.seq,
        time: when(e.occurred_at),
        before: pretty(&e.before_json),
        after: pretty(&e.after_json),
        actor_name: e.actor_name,
        actor: e.actor,
        action: e.action,
        subject_type: e.subject_type,
        subject_id: e.subject_id,
    }
}

#[derive(Serialize)]
struct AuditBody {
    heading: String,
    intro: String,
    form_action: String,
    show_subject_filters: bool,
    filters: AuditParams,
    chain: Option<String>,
    chain_ok: bool,
    entries: Vec<EntryView>,
    page: u64,
    prev_href: Option<String>,
    next_href: Option<String>,
}

fn page_href(base: &str, p: &AuditParams, page: u64) -> String {
    let mut p = p.clone();
    p.page = page.to_string();
    let pairs: Vec<(&str, &str)> = [
        ("subject_type", p.subject_type.as_str()),
        ("subject_id", p.subject_id.as_str()),
        ("actor", p.actor.as_str()),
        ("since", p.since.as_str()),
        ("until", p.until.as_str()),
        ("page", p.page.as_str()),
    ]
    .into_iter()
    .filter(|(_, v)| !v.is_empty())
    .collect();
    format!("{base}?{}", serde_urlencoded::to_string(pairs).unwrap_or_default())
}

#[allow(clippy::too_many_arguments)]
fn audit_body(
    heading: String,
    intro: String,
    base: &str,
    show_subject_filters: bool,
    p: AuditParams,
    chain: Option<(String, bool)>,
    mut entries: Vec<AuditEntry>,
    page: u64,
) -> AuditBody {
    let has_next = entries.len() as u64 > AUDIT_PAGE_SIZE;
    entries.truncate(AUDIT_PAGE_SIZE as usize);
    let (chain, chain_ok) = match chain {
        Some((c, ok)) => (Some(c), ok),
        None => (None, false),
    };
    AuditBody {
        heading,
        intro,
        form_action: base.to_string(),
        show_subject_filters,
        prev_href: (page > 1).then(|| page_href(base, &p, page - 1)),
        next_href: has_next.then(|| page_href(base, &p, page + 1)),
        filters: p,
        chain,
        chain_ok,
        entries: entries.into_iter().map(entry_view).collect(),
        page,
    }
}

/// `GET /audit`: the whole log, for administrators.
pub async fn audit_page(
    auth: Auth,
    State(state): State<AppState>,
    Query(p): Query<HashMap<String, String>>,
) -> AppResult<Response> {
    auth.require(&Action::ReadAudit { org: None })?;
    let p = params(p);
    let (q, page) = audit_query(&state, &p).await?;
    let entries = audit::find(&state.db, &q).await?;
    let chain = match audit::verify(&state.db).await {
        Ok(n) => (format!("Hash chain verified: {n} entries"), true),
        Err(e) => (format!("Hash chain NOT verified: {e}"), false),
    };
    let body = audit_body(
        "Audit log".into(),
        "Every change made in Granary, newest first.".into(),
        "/audit",
        true,
        p,
        Some(chain),
        entries,
        page,
    );
    Ok(state
        .views
        .page(&auth.chrome(), "audit", "Audit log", "account", &body)?
        .into_response())
}

/// Reads the filters leniently: unknown keys are ignored, repeated ones take the last value.
fn params(map: HashMap<String, String>) -> AuditParams {
    let get = |k: &str| map.get(k).cloned().unwrap_or_default();
    AuditParams {
        subject_type: get("subject_type"),
        subject_id: get("subject_id"),
        actor: get("actor"),
        since: get("since"),
        until: get("until"),
        page: get("page"),
    }
}

/// `GET /organizations/{org}/audit`: the entries about an office and its solicitations.
pub async fn org_audit_page(
    auth: Auth,
    State(state): State<AppState>,
    Path(org): Path<String>,
    Query(p): Query<HashMap<String, String>>,
) -> AppResult<Response> {
    let org = parse_org(&org)?;
    auth.require(&Action::ReadAudit { org: Some(org) })?;
    let o = identity::get_organization(&state.db, org).await?;
    let mut p = params(p);
    p.subject_type.clear();
    p.subject_id.clear();
    let (mut q, page) = audit_query(&state, &p).await?;
    q.subject_ids = granary_solicitations::ids_issued_by(&state.db, org)
        .await?
        .iter()
        .map(|id| id.to_string())
        .collect();
    q.subject_ids.push(org.to_string());
    let entries = audit::find(&state.db, &q).await?;
    let base = format!("/organizations/{org}/audit");
    let body = audit_body(
        format!("Audit log: {}", o.name),
        "Changes to this organization and to the solicitations it issued, newest first.".into(),
        &base,
        false,
        p,
        None,
        entries,
        page,
    );
    Ok(state
        .views
        .page(&auth.chrome(), "audit", "Audit log", "account", &body)?
        .into_response())
}
