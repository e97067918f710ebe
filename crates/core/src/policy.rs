//! The authorization policy: one function that answers "may this principal do this action".
//! Every route asks it; no route decides on its own. It is pure (no database, no HTTP): the
//! caller loads the principal (who is asking, with their memberships) and names the action
//! with the facts it depends on (which office issued the solicitation, its status, ...).

use serde::{Deserialize, Serialize};

use crate::id::{OrganizationId, UserId};

/// What kind of organization a membership is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    /// Publishes solicitations and makes awards (an office of OJP, a city agency, ...).
    ProgramOffice,
    /// Receives prime awards and re-grants them as microgrants; also applies.
    Intermediary,
    /// A community or grassroots organization that applies.
    CommunityOrganization,
}

impl OrgKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            OrgKind::ProgramOffice => "program_office",
            OrgKind::Intermediary => "intermediary",
            OrgKind::CommunityOrganization => "community_organization",
        }
    }

    pub fn parse(s: &str) -> Option<OrgKind> {
        [
            OrgKind::ProgramOffice,
            OrgKind::Intermediary,
            OrgKind::CommunityOrganization,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    /// The plain-language name shown to people.
    pub fn label(&self) -> &'static str {
        match self {
            OrgKind::ProgramOffice => "program office",
            OrgKind::Intermediary => "intermediary",
            OrgKind::CommunityOrganization => "community organization",
        }
    }

    /// Whether organizations of this kind issue solicitations.
    pub fn issues_solicitations(&self) -> bool {
        matches!(self, OrgKind::ProgramOffice | OrgKind::Intermediary)
    }
}

/// A member's role in an organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Manages the organization's profile and members, and does everything staff do.
    Owner,
    /// Works on the organization's solicitations or applications.
    Staff,
    /// Reviews applications for the organization's solicitations; sees nothing else of it.
    Reviewer,
}

impl Role {
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Staff => "staff",
            Role::Reviewer => "reviewer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        [Role::Owner, Role::Staff, Role::Reviewer]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

/// One membership of a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub org: OrganizationId,
    pub kind: OrgKind,
    pub role: Role,
}

/// What an API token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Read,
    Write,
}

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Anonymous,
    User(UserPrincipal),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserPrincipal {
    pub id: UserId,
    pub name: String,
    pub site_admin: bool,
    pub email_verified: bool,
    pub memberships: Vec<Membership>,
    /// Set when the request carries an API token rather than a session: its scopes.
    pub token_scopes: Option<Vec<Scope>>,
}

impl UserPrincipal {
    /// The user's role in an organization, if a member.
    pub fn role_in(&self, org: OrganizationId) -> Option<Role> {
        self.memberships.iter().find(|m| m.org == org).map(|m| m.role)
    }

    /// Owner or staff of the organization.
    pub fn works_for(&self, org: OrganizationId) -> bool {
        matches!(self.role_in(org), Some(Role::Owner | Role::Staff))
    }

    /// Owner or staff of any program office or intermediary.
    pub fn is_program_officer(&self) -> bool {
        self.memberships
            .iter()
            .any(|m| m.kind.issues_solicitations() && matches!(m.role, Role::Owner | Role::Staff))
    }
}

/// A solicitation's lifecycle state, as far as access depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// A draft: only the issuing office sees it.
    Draft,
    /// Forecasted, open, closed or archived: everyone sees it.
    Public,
}

/// Something a principal wants to do, with the facts the decision needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Public pages and reads: home, search, posted solicitations, CommonGrants.
    ReadPublic,
    /// Read one solicitation.
    ReadSolicitation {
        office: OrganizationId,
        visibility: Visibility,
    },
    /// Create a draft solicitation for an office.
    CreateSolicitation { office: OrganizationId },
    /// Edit a draft, move it through its lifecycle, amend it, attach or remove files.
    ManageSolicitation { office: OrganizationId },
    /// Read an organization's profile and members.
    ReadOrganization { org: OrganizationId },
    /// Edit an organization's profile.
    EditOrganization { org: OrganizationId },
    /// Invite, change and remove an organization's members.
    ManageMembers { org: OrganizationId },
    /// Register a new organization (the signed-in user becomes its owner).
    CreateOrganization { kind: OrgKind },
    /// Read the audit log: all of it, or the entries about one organization's things.
    ReadAudit { org: Option<OrganizationId> },
    /// Start, edit, attach documents to, submit or withdraw an application of an applicant
    /// organization (a community organization or an intermediary).
    EditApplication { org: OrganizationId },
    /// Read one application: its organization's members always; the issuing office's owners
    /// and staff once it has been submitted.
    ReadApplication {
        org: OrganizationId,
        office: OrganizationId,
        submitted: bool,
    },
    /// List, export and download the applications to an office's solicitation.
    ReadApplications { office: OrganizationId },
    /// Grant one applicant a later deadline for an office's solicitation.
    GrantExtension { office: OrganizationId },
    /// See an office's review of a solicitation: pool, conflicts, assignment, progress,
    /// scores, ranking, funding line and sensitivity.
    ReadReview { office: OrganizationId },
    /// Run an office's review: settings, pool, conflicts, assignment, reopening reviews,
    /// decisions and their approval and release.
    ManageReview { office: OrganizationId },
    /// Review for an office: see one's assignments, declare conflicts, score. Any member of the
    /// office may be put in a solicitation's pool; the scoring service lets a person open only
    /// the reviews assigned to them, never one they are conflicted with.
    Review { office: OrganizationId },
    /// Manage users and site settings.
    Administer,
    /// Manage one's own account: profile, password, API tokens, sessions.
    ManageOwnAccount,
    /// Sign up, sign in, verify an email address, reset a forgotten password: open to anyone.
    Authenticate,
}

impl Action {
    /// Whether the action changes anything (read-scoped API tokens may not).
    pub fn is_write(&self) -> bool {
        !matches!(
            self,
            Action::ReadPublic
                | Action::ReadSolicitation { .. }
                | Action::ReadOrganization { .. }
                | Action::ReadAudit { .. }
                | Action::ReadApplication { .. }
                | Action::ReadApplications { .. }
                | Action::ReadReview { .. }
        )
    }
}

/// The policy's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Not signed in and the action needs someone who is.
    SignInRequired,
    /// Signed in but not allowed, with the reason shown to the user.
    Deny(&'static str),
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow)
    }
}

/// The one authorization policy.
pub fn decide(p: &Principal, a: &Action) -> Decision {
    use Decision::*;
    if matches!(a, Action::ReadPublic | Action::Authenticate) {
        return Allow;
    }
    if let (
        Principal::Anonymous,
        Action::ReadSolicitation {
            visibility: Visibility::Public,
            ..
        },
    ) = (p, a)
    {
        return Allow;
    }
    let Principal::User(u) = p else {
        return SignInRequired;
    };
    if let Some(scopes) = &u.token_scopes
        && a.is_write()
        && !scopes.contains(&Scope::Write)
    {
        return Deny("this API token may only read");
    }
    if u.site_admin {
        return Allow;
    }
    match a {
        Action::ReadPublic | Action::Authenticate => Allow,
        Action::ReadSolicitation {
            visibility: Visibility::Public,
            ..
        } => Allow,
        Action::ReadSolicitation {
            office,
            visibility: Visibility::Draft,
        } => {
            if u.works_for(*office) {
                Allow
            } else {
                Deny("drafts are visible only to the issuing office")
            }
        }
        Action::CreateSolicitation { office }
        | Action::ManageSolicitation { office }
        | Action::ReadApplications { office }
        | Action::GrantExtension { office }
        | Action::ReadReview { office }
        | Action::ManageReview { office } => {
            let issues = u
                .memberships
                .iter()
                .any(|m| m.org == *office && m.kind.issues_solicitations());
            if issues && u.works_for(*office) {
                Allow
            } else {
                Deny("only the issuing office's owners and staff may do this")
            }
        }
        Action::ReadOrganization { org } => {
            if u.role_in(*org).is_some() {
                Allow
            } else {
                Deny("only the organization's members may see this")
            }
        }
        Action::EditOrganization { org } | Action::ManageMembers { org } => {
            if u.role_in(*org) == Some(Role::Owner) {
                Allow
            } else {
                Deny("only the organization's owners may do this")
            }
        }
        Action::CreateOrganization { kind } => match kind {
            OrgKind::CommunityOrganization | OrgKind::Intermediary if u.email_verified => Allow,
            OrgKind::CommunityOrganization | OrgKind::Intermediary => {
                Deny("verify your email address before registering an organization")
            }
            OrgKind::ProgramOffice => Deny("program offices are set up by an administrator"),
        },
        Action::ReadAudit { org: Some(org) } => {
            if u.works_for(*org) && u.is_program_officer() {
                Allow
            } else {
                Deny("only program officers may read the audit log")
            }
        }
        Action::EditApplication { org } => {
            let applies = u
                .memberships
                .iter()
                .any(|m| m.org == *org && m.kind != OrgKind::ProgramOffice);
            if applies && u.works_for(*org) {
                Allow
            } else {
                Deny("only the applicant organization's owners and staff may do this")
            }
        }
        Action::ReadApplication { org, office, submitted } => {
            if u.works_for(*org) || (*submitted && u.works_for(*office) && u.is_program_officer()) {
                Allow
            } else {
                Deny("only the applicant organization and, once it is submitted, the issuing office may see this")
            }
        }
        Action::Review { office } => {
            if u.role_in(*office).is_some() {
                Allow
            } else {
                Deny("only the office's reviewers may do this")
            }
        }
        Action::ReadAudit { org: None } | Action::Administer => Deny("only administrators may do this"),
        Action::ManageOwnAccount => Allow,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(memberships: Vec<Membership>) -> UserPrincipal {
        UserPrincipal {
            id: UserId::new(),
            name: "Test".into(),
            site_admin: false,
            email_verified: true,
            memberships,
            token_scopes: None,
        }
    }

    #[test]
    fn anonymous_reads_only_public_things() {
        let office = OrganizationId::new();
        let p = Principal::Anonymous;
        assert_eq!(decide(&p, &Action::ReadPublic), Decision::Allow);
        assert_eq!(decide(&p, &Action::Authenticate), Decision::Allow);
        assert_eq!(
            decide(
                &p,
                &Action::ReadSolicitation {
                    office,
                    visibility: Visibility::Public
                }
            ),
            Decision::Allow
        );
        for a in [
            Action::ReadSolicitation {
                office,
                visibility: Visibility::Draft,
            },
            Action::CreateSolicitation { office },
            Action::ManageSolicitation { office },
            Action::ManageOwnAccount,
            Action::Administer,
        ] {
            assert_eq!(decide(&p, &a), Decision::SignInRequired, "{a:?}");
        }
    }

    #[test]
    fn only_the_issuing_office_authors() {
        let office = OrganizationId::new();
        let other = OrganizationId::new();
        let officer = Principal::User(user(vec![Membership {
            org: office,
            kind: OrgKind::ProgramOffice,
            role: Role::Staff,
        }]));
        let elsewhere = Principal::User(user(vec![Membership {
            org: other,
            kind: OrgKind::ProgramOffice,
            role: Role::Owner,
        }]));
        let reviewer = Principal::User(user(vec![Membership {
            org: office,
            kind: OrgKind::ProgramOffice,
            role: Role::Reviewer,
        }]));
        let a = Action::ManageSolicitation { office };
        assert!(decide(&officer, &a).is_allowed());
        assert!(!decide(&elsewhere, &a).is_allowed());
        assert!(!decide(&reviewer, &a).is_allowed());
        let draft = Action::ReadSolicitation {
            office,
            visibility: Visibility::Draft,
        };
        assert!(decide(&officer, &draft).is_allowed());
        assert!(!decide(&elsewhere, &draft).is_allowed());
    }

    #[test]
    fn a_community_organization_cannot_issue_solicitations() {
        let org = OrganizationId::new();
        let p = Principal::User(user(vec![Membership {
            org,
            kind: OrgKind::CommunityOrganization,
            role: Role::Owner,
        }]));
        assert!(!decide(&p, &Action::CreateSolicitation { office: org }).is_allowed());
        assert!(decide(&p, &Action::EditOrganization { org }).is_allowed());
    }

    #[test]
    fn read_tokens_cannot_write() {
        let office = OrganizationId::new();
        let mut u = user(vec![Membership {
            org: office,
            kind: OrgKind::ProgramOffice,
            role: Role::Owner,
        }]);
        u.token_scopes = Some(vec![Scope::Read]);
        let p = Principal::User(u.clone());
        assert_eq!(
            decide(&p, &Action::ManageSolicitation { office }),
            Decision::Deny("this API token may only read")
        );
        assert!(
            decide(
                &p,
                &Action::ReadSolicitation {
                    office,
                    visibility: Visibility::Draft
                }
            )
            .is_allowed()
        );
        u.token_scopes = Some(vec![Scope::Read, Scope::Write]);
        assert!(decide(&Principal::User(u), &Action::ManageSolicitation { office }).is_allowed());
    }

    #[test]
    fn owners_manage_members_and_admins_do_everything() {
        let org = OrganizationId::new();
        let staff = Principal::User(user(vec![Membership {
            org,
            kind: OrgKind::Intermediary,
            role: Role::Staff,
        }]));
        assert!(!decide(&staff, &Action::ManageMembers { org }).is_allowed());
        assert!(decide(&staff, &Action::ReadOrganization { org }).is_allowed());
        let mut admin = user(vec![]);
        admin.site_admin = true;
        let admin = Principal::User(admin);
        assert!(decide(&admin, &Action::ManageMembers { org }).is_allowed());
        assert!(decide(&admin, &Action::ReadAudit { org: None }).is_allowed());
        assert!(!decide(&staff, &Action::ReadAudit { org: None }).is_allowed());
    }

    #[test]
    fn applicants_edit_their_applications_and_offices_read_them_once_submitted() {
        let group = OrganizationId::new();
        let office = OrganizationId::new();
        let applicant = Principal::User(user(vec![Membership {
            org: group,
            kind: OrgKind::CommunityOrganization,
            role: Role::Staff,
        }]));
        let officer = Principal::User(user(vec![Membership {
            org: office,
            kind: OrgKind::ProgramOffice,
            role: Role::Staff,
        }]));
        let office_reviewer = Principal::User(user(vec![Membership {
            org: office,
            kind: OrgKind::ProgramOffice,
            role: Role::Reviewer,
        }]));
        let edit = Action::EditApplication { org: group };
        assert!(decide(&applicant, &edit).is_allowed());
        assert!(!decide(&officer, &edit).is_allowed());
        // A program office does not apply, even to another office.
        assert!(!decide(&officer, &Action::EditApplication { org: office }).is_allowed());
        let draft = Action::ReadApplication {
            org: group,
            office,
            submitted: false,
        };
        let submitted = Action::ReadApplication {
            org: group,
            office,
            submitted: true,
        };
        assert!(decide(&applicant, &draft).is_allowed());
        assert!(!decide(&officer, &draft).is_allowed());
        assert!(decide(&officer, &submitted).is_allowed());
        assert!(!decide(&office_reviewer, &submitted).is_allowed());
        assert!(decide(&officer, &Action::ReadApplications { office }).is_allowed());
        assert!(!decide(&applicant, &Action::GrantExtension { office }).is_allowed());
    }

    #[test]
    fn unverified_users_cannot_register_organizations() {
        let mut u = user(vec![]);
        u.email_verified = false;
        let a = Action::CreateOrganization {
            kind: OrgKind::CommunityOrganization,
        };
        assert!(!decide(&Principal::User(u.clone()), &a).is_allowed());
        u.email_verified = true;
        assert!(decide(&Principal::User(u.clone()), &a).is_allowed());
        assert!(
            !decide(
                &Principal::User(u),
                &Action::CreateOrganization {
                    kind: OrgKind::ProgramOffice
                }
            )
            .is_allowed()
        );
    }
    #[test]
    fn an_office_runs_its_review_and_its_reviewers_only_review() {
        let office = OrganizationId::new();
        let other = OrganizationId::new();
        let member = |org, role| Membership {
            org,
            kind: OrgKind::ProgramOffice,
            role,
        };
        let officer = Principal::User(user(vec![member(office, Role::Staff)]));
        let reviewer = Principal::User(user(vec![member(office, Role::Reviewer)]));
        let elsewhere = Principal::User(user(vec![member(other, Role::Owner)]));
        let manage = Action::ManageReview { office };
        let read = Action::ReadReview { office };
        let review = Action::Review { office };
        assert!(decide(&officer, &manage).is_allowed());
        assert!(decide(&officer, &read).is_allowed());
        assert!(decide(&officer, &review).is_allowed());
        assert!(!decide(&reviewer, &manage).is_allowed());
        assert!(!decide(&reviewer, &read).is_allowed());
        assert!(decide(&reviewer, &review).is_allowed());
        for a in [&manage, &read, &review] {
            assert!(!decide(&elsewhere, a).is_allowed(), "{a:?}");
        }
        let mut read_only = user(vec![member(office, Role::Staff)]);
        read_only.token_scopes = Some(vec![Scope::Read]);
        let read_only = Principal::User(read_only);
        assert!(decide(&read_only, &read).is_allowed());
        assert!(!decide(&read_only, &manage).is_allowed());
        assert!(!decide(&read_only, &review).is_allowed());
    }
}
