//! Identity: who people are and what they belong to.
//!
//! User accounts (argon2id passwords, sign-in with throttling, email verification and
//! password reset by one-time links), organizations (program offices, intermediaries and
//! community organizations) and their members, invitations, browser sessions, personal API
//! tokens, the principal the authorization policy decides on, and outgoing email through an
//! outbox. Secrets (passwords, tokens) are never stored in clear, never logged and never put
//! in the audit log; every state change is audited in the transaction that makes it.
//!
//! Expired records are cleared by `purge_expired`.
//!
//! Every service function takes the database connection (`&C where C: ConnectionTrait +
//! TransactionTrait`), so calls compose in one transaction. Time is passed in as `now`.

mod entity;
pub mod error;
mod hashing;
pub mod ids;
mod secret;
pub mod values;

pub mod api_tokens;
pub mod housekeeping;
pub mod invitations;
pub mod mail;
pub mod memberships;
pub mod one_time_tokens;
pub mod organizations;
pub mod outbox;
pub mod principal;
pub mod sessions;
pub mod throttle;
pub mod users;

pub use api_tokens::{
    API_TOKEN_PREFIX, ApiToken, authenticate_api_token, create_api_token, list_api_tokens, revoke_api_token,
};
pub use error::IdentityError;
pub use housekeeping::{Purged, purge_expired};
pub use ids::{ApiTokenId, EmailId, InvitationId, SessionId};
pub use invitations::{
    INVITATION_LIFETIME, Invitation, accept_invitation, find_pending_invitation, invite, pending_invitations,
    revoke_invitation,
};
pub use mail::{FileSender, MailError, MailSender, Secret, SmtpSender, deliver_pending};
pub use memberships::{Member, OrgMembership, add_member, change_role, members, memberships_of, remove_member};
pub use one_time_tokens::{
    TokenPurpose, consume_token, issue_token, reset_password_with_token, verify_email_with_token,
};
pub use organizations::{
    Address, NewOrganization, Organization, OrganizationProfile, OrganizationQuery, Page, create_organization,
    get_organization, list_organizations, update_organization,
};
pub use outbox::{OutboxEmail, enqueue_email, get_email, mark_failed, mark_sent, pending_emails};
pub use principal::{load_principal, principal_of_user};
pub use secret::token_hash;
pub use sessions::{
    SESSION_IDLE_TIMEOUT, SESSION_LIFETIME, Session, create_session, end_all_sessions, end_session, session_user,
    sessions_of,
};
pub use users::{
    NewUser, User, authenticate, create_user, find_user_by_email, get_user, mark_email_verified, set_disabled,
    set_display_name, set_password, set_site_admin,
};
pub use values::{CountyFips, Ein, EmailAddress, InvalidValue, Password, StateCode, Uei};

use chrono::{DateTime, SubsecRound, Utc};

/// An instant as stored: whole microseconds, the finest both databases keep, so what is read
/// back equals what was written.
pub(crate) fn stamp(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}
