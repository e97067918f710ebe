//! The application model: what applicants write, the documents they attach, and what a
//! submission records.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use granary_core::id::{ApplicationId, DocumentId, OrganizationId, SolicitationId, SubmissionId};
use granary_solicitations::ProgramArea;
use serde::{Deserialize, Serialize};

use crate::budget::{Budget, BudgetSummary};
use crate::eligibility::EligibilityAnswers;

/// The longest project title, in characters.
pub const TITLE_MAX_CHARS: usize = 200;
/// The longest project abstract, in characters.
pub const ABSTRACT_MAX_CHARS: usize = 3000;
/// The longest text any one field of a draft may hold, in characters. Answers over their
/// question's own limit are kept (nothing typed is lost) and reported as a problem; this
/// bound only stops abuse.
pub const FIELD_HARD_MAX_CHARS: usize = 100_000;
/// The most "other" attachments one application may carry.
pub const MAX_OTHER_ATTACHMENTS: usize = 20;

/// Where an application's project works.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceArea {
    /// Two-letter state or territory codes.
    pub states: Vec<String>,
    /// Five-digit county FIPS codes.
    pub county_fips: Vec<String>,
    /// In the applicant's words ("Wards 7 and 8 of the District of Columbia").
    pub description: String,
}

/// The applicant's claim to meet one priority consideration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PriorityClaim {
    /// The applicant attests that it meets the consideration.
    pub claimed: bool,
    /// A short explanation, optional.
    pub explanation: String,
}

/// Everything an applicant writes in a draft.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApplicationContent {
    pub project_title: String,
    #[serde(rename = "abstract")]
    pub project_abstract: String,
    /// Answers to the solicitation's questions, by question key.
    pub answers: BTreeMap<String, String>,
    pub program_areas: Vec<ProgramArea>,
    /// The populations the project serves, in the applicant's words, one per entry.
    pub populations_served: Vec<String>,
    pub service_area: ServiceArea,
    /// Claims to the solicitation's priority considerations, by consideration key.
    pub priorities: BTreeMap<String, PriorityClaim>,
    /// The answers to the eligibility questions, kept with the application.
    pub eligibility: EligibilityAnswers,
    pub budget: Budget,
}

/// Where an application stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationStatus {
    /// Being written; not yet submitted.
    Draft,
    /// Received on time; the latest submission counts.
    Submitted,
    /// Withdrawn by the applicant; editable again and may be resubmitted before the deadline.
    Withdrawn,
}

impl ApplicationStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            ApplicationStatus::Draft => "draft",
            ApplicationStatus::Submitted => "submitted",
            ApplicationStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            ApplicationStatus::Draft,
            ApplicationStatus::Submitted,
            ApplicationStatus::Withdrawn,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }

    pub fn label(&self) -> &'static str {
        match self {
            ApplicationStatus::Draft => "Draft",
            ApplicationStatus::Submitted => "Submitted",
            ApplicationStatus::Withdrawn => "Withdrawn",
        }
    }

    /// Whether the applicant may change the draft.
    pub fn is_editable(&self) -> bool {
        matches!(self, ApplicationStatus::Draft | ApplicationStatus::Withdrawn)
    }
}

impl std::fmt::Display for ApplicationStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The organization an application is from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicantRef {
    pub id: OrganizationId,
    pub name: String,
}

/// An application as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Application {
    pub id: ApplicationId,
    pub solicitation_id: SolicitationId,
    pub organization: ApplicantRef,
    pub status: ApplicationStatus,
    /// Starts at 1; +1 with every save. A save names the version it started from.
    pub version: i32,
    pub content: ApplicationContent,
    pub current_submission: Option<SubmissionId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Who saved last.
    pub updated_by: String,
}

/// Which part of an application a document belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DocumentSlot {
    /// One of the solicitation's required (or optional) documents, by key.
    Required(String),
    /// Evidence for a priority consideration, by key.
    PriorityEvidence(String),
    /// The negotiated indirect cost rate agreement.
    IndirectRateAgreement,
    /// Any other attachment; an application may have several.
    Other,
}

impl DocumentSlot {
    /// The stored form: `required:<key>`, `priority:<key>`, `indirect_rate_agreement`, `other`.
    pub fn as_string(&self) -> String {
        match self {
            DocumentSlot::Required(k) => format!("required:{k}"),
            DocumentSlot::PriorityEvidence(k) => format!("priority:{k}"),
            DocumentSlot::IndirectRateAgreement => "indirect_rate_agreement".into(),
            DocumentSlot::Other => "other".into(),
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let key_ok = |k: &str| {
            !k.is_empty() && k.len() <= 100 && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        };
        match s {
            "indirect_rate_agreement" => Some(DocumentSlot::IndirectRateAgreement),
            "other" => Some(DocumentSlot::Other),
            _ => {
                if let Some(k) = s.strip_prefix("required:") {
                    key_ok(k).then(|| DocumentSlot::Required(k.to_string()))
                } else if let Some(k) = s.strip_prefix("priority:") {
                    key_ok(k).then(|| DocumentSlot::PriorityEvidence(k.to_string()))
                } else {
                    None
                }
            }
        }
    }

    /// Whether a new document replaces the one already in this slot.
    pub fn holds_one(&self) -> bool {
        !matches!(self, DocumentSlot::Other)
    }
}

impl Serialize for DocumentSlot {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.as_string())
    }
}

impl<'de> Deserialize<'de> for DocumentSlot {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        DocumentSlot::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("not a document slot: {s:?}")))
    }
}

/// A document attached to an application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationDocument {
    /// The attachment's own id (the link between application and document).
    pub id: uuid::Uuid,
    pub slot: DocumentSlot,
    pub document_id: DocumentId,
    pub title: String,
    pub filename: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub added_by: String,
    pub created_at: DateTime<Utc>,
}

/// What an application looked like when it was submitted: the content, the computed
/// budget, and each document's checksum. Stored as JSON exactly as digested; read back as a
/// [`ReceivedSnapshot`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    /// `granary.application-snapshot.v1`.
    pub format: String,
    pub tracking_number: String,
    pub application_id: ApplicationId,
    pub solicitation: SnapshotSolicitation,
    pub organization: ApplicantRef,
    pub submitted_at: DateTime<Utc>,
    pub submitted_by: String,
    /// The draft version that was submitted.
    pub version: i32,
    pub content: ApplicationContent,
    pub budget: BudgetSummary,
    pub documents: Vec<ApplicationDocument>,
    /// Set when the submission came in under an extension.
    pub extension_until: Option<DateTime<Utc>>,
}

/// A stored snapshot read back. The budget summary is kept as the JSON it was stored as.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ReceivedSnapshot {
    pub format: String,
    pub tracking_number: String,
    pub application_id: ApplicationId,
    pub solicitation: SnapshotSolicitation,
    pub organization: ApplicantRef,
    pub submitted_at: DateTime<Utc>,
    pub submitted_by: String,
    pub version: i32,
    pub content: ApplicationContent,
    pub budget: serde_json::Value,
    pub documents: Vec<ApplicationDocument>,
    pub extension_until: Option<DateTime<Utc>>,
}

/// The solicitation a snapshot answers, at the version then posted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotSolicitation {
    pub id: SolicitationId,
    pub number: String,
    pub title: String,
    pub version: i32,
    pub closes_at: Option<DateTime<Utc>>,
    pub time_zone: String,
}

pub const SNAPSHOT_FORMAT: &str = "granary.application-snapshot.v1";

/// One submission: the receipt's facts and the snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Submission {
    pub id: SubmissionId,
    pub application_id: ApplicationId,
    pub solicitation_id: SolicitationId,
    pub organization_id: OrganizationId,
    pub tracking_number: String,
    pub submitted_at: DateTime<Utc>,
    pub submitted_by: String,
    /// SHA-256 of `snapshot_json`, lowercase hex.
    pub digest: String,
    /// The snapshot exactly as stored and digested.
    #[serde(skip)]
    pub snapshot_json: String,
    pub extension_id: Option<uuid::Uuid>,
    pub withdrawn_at: Option<DateTime<Utc>>,
    pub withdrawn_by: Option<String>,
}

impl Submission {
    /// The snapshot, parsed.
    pub fn snapshot(&self) -> Result<ReceivedSnapshot, serde_json::Error> {
        serde_json::from_str(&self.snapshot_json)
    }

    /// Whether the stored snapshot still matches its digest.
    pub fn digest_matches(&self) -> bool {
        crate::service::sha256_hex(self.snapshot_json.as_bytes()) == self.digest
    }
}

/// A later deadline for one organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Extension {
    pub id: uuid::Uuid,
    pub solicitation_id: SolicitationId,
    pub organization_id: OrganizationId,
    pub until: DateTime<Utc>,
    pub reason: String,
    pub granted_by: String,
    pub granted_at: DateTime<Utc>,
}

/// One row of a program officer's list of applications.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApplicationSummary {
    pub id: ApplicationId,
    pub organization: ApplicantRef,
    pub status: ApplicationStatus,
    pub project_title: String,
    pub total_request: Option<granary_core::Money>,
    pub tracking_number: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub submissions: u32,
    pub extension_until: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}
