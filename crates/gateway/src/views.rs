//! Page rendering. Templates are compiled into the binary from the workspace's `templates/`
//! folder and registered once, in strict mode, with HTML escaping (the default). No template
//! uses triple braces, and no helper disables escaping; a test checks both.

use axum::response::Html;
use handlebars::Handlebars;
use serde::Serialize;

use crate::error::AppError;

/// Every template, by name, with its source.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("layout", include_str!("../../../templates/layout.hbs")),
    ("home", include_str!("../../../templates/home.hbs")),
    ("solicitations", include_str!("../../../templates/solicitations.hbs")),
    ("solicitation", include_str!("../../../templates/solicitation.hbs")),
    (
        "solicitation_card",
        include_str!("../../../templates/solicitation_card.hbs"),
    ),
    ("error", include_str!("../../../templates/error.hbs")),
    ("sign_in", include_str!("../../../templates/sign_in.hbs")),
    ("sign_up", include_str!("../../../templates/sign_up.hbs")),
    (
        "forgot_password",
        include_str!("../../../templates/forgot_password.hbs"),
    ),
    ("reset_password", include_str!("../../../templates/reset_password.hbs")),
    ("notice", include_str!("../../../templates/notice.hbs")),
    ("account", include_str!("../../../templates/account.hbs")),
    ("token_created", include_str!("../../../templates/token_created.hbs")),
    ("org_profile", include_str!("../../../templates/org_profile.hbs")),
    ("org_edit", include_str!("../../../templates/org_edit.hbs")),
    ("org_invitation", include_str!("../../../templates/org_invitation.hbs")),
    ("audit", include_str!("../../../templates/audit.hbs")),
    ("manage_input", include_str!("../../../templates/manage_input.hbs")),
    ("manage_desk", include_str!("../../../templates/manage_desk.hbs")),
    ("manage_edit", include_str!("../../../templates/manage_edit.hbs")),
    ("apply_question", include_str!("../../../templates/apply_question.hbs")),
    ("apply_field", include_str!("../../../templates/apply_field.hbs")),
    (
        "apply_eligibility",
        include_str!("../../../templates/apply_eligibility.hbs"),
    ),
    ("apply_list", include_str!("../../../templates/apply_list.hbs")),
    ("apply_edit", include_str!("../../../templates/apply_edit.hbs")),
    ("apply_receipt", include_str!("../../../templates/apply_receipt.hbs")),
    ("apply_officer", include_str!("../../../templates/apply_officer.hbs")),
    ("review_desk", include_str!("../../../templates/review_desk.hbs")),
    ("review_ranking", include_str!("../../../templates/review_ranking.hbs")),
    (
        "review_decision",
        include_str!("../../../templates/review_decision.hbs"),
    ),
    ("review_list", include_str!("../../../templates/review_list.hbs")),
    ("review_form", include_str!("../../../templates/review_form.hbs")),
    ("outcome", include_str!("../../../templates/outcome.hbs")),
];

/// The stylesheet, served at `/static/granary.css`.
pub const STYLESHEET: &str = include_str!("../../../templates/static/granary.css");

/// The application editor's script (autosave, character counters), served at
/// `/static/application.js`. The pages work without it.
pub const APPLICATION_SCRIPT: &str = include_str!("../../../templates/static/application.js");

pub struct Views {
    hb: Handlebars<'static>,
}

/// What every page's frame shows: who is signed in, and the token forms must carry.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Chrome {
    pub user_name: Option<String>,
    pub csrf: String,
    /// Works for an office that issues solicitations (or administers the site): show "Manage".
    pub manages: bool,
    /// Works for an organization that applies: show "Applications".
    pub applies: bool,
    /// Belongs to an office that issues solicitations, so may review for it: show "Reviews".
    pub reviews: bool,
}

#[derive(Serialize)]
struct Page<'a, T: Serialize> {
    title: &'a str,
    nav: &'a str,
    user_name: Option<&'a str>,
    csrf: &'a str,
    manages: bool,
    applies: bool,
    reviews: bool,
    body: &'a T,
}

impl Views {
    pub fn new() -> Result<Views, handlebars::TemplateError> {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        hb.set_dev_mode(false);
        for (name, src) in TEMPLATES {
            hb.register_template_string(name, *src)?;
        }
        Ok(Views { hb })
    }

    /// Renders a page inside the layout. `nav` names the current section for the menu.
    pub fn page<T: Serialize>(
        &self,
        chrome: &Chrome,
        template: &str,
        title: &str,
        nav: &str,
        body: &T,
    ) -> Result<Html<String>, AppError> {
        let ctx = Page {
            title,
            nav,
            user_name: chrome.user_name.as_deref(),
            csrf: &chrome.csrf,
            manages: chrome.manages,
            applies: chrome.applies,
            reviews: chrome.reviews,
            body,
        };
        self.hb
            .render(template, &ctx)
            .map(Html)
            .map_err(|e| AppError::internal(format!("rendering {template}: {e}")))
    }

    /// Renders the error page; falls back to plain text if even that fails.
    pub fn error_page(&self, status: u16, heading: &str, message: &str, fields: &[granary_core::FieldError]) -> String {
        #[derive(Serialize)]
        struct E<'a> {
            status: u16,
            heading: &'a str,
            message: &'a str,
            fields: &'a [granary_core::FieldError],
            has_fields: bool,
        }
        let body = E {
            status,
            heading,
            message,
            fields,
            has_fields: !fields.is_empty(),
        };
        let ctx = Page {
            title: heading,
            nav: "",
            user_name: None,
            csrf: "",
            manages: false,
            applies: false,
            reviews: false,
            body: &body,
        };
        self.hb
            .render("error", &ctx)
            .unwrap_or_else(|_| format!("{status} {heading}: {message}"))
    }
}
