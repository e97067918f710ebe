//! The solicitation model. These are the types authors write and the public reads; the
//! database layout is in `entity`, and validation in `validate`.

use chrono::{DateTime, NaiveDate, Utc};
use granary_core::Money;
use granary_core::id::{DocumentId, OrganizationId, SolicitationId};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::Status;

macro_rules! vocabulary {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $slug:literal, $label:literal;)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $slug)] $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The value used in URLs, JSON and the database.
            pub fn slug(&self) -> &'static str {
                match self { $($name::$variant => $slug,)+ }
            }

            /// The plain-language name shown to people.
            pub fn label(&self) -> &'static str {
                match self { $($name::$variant => $label,)+ }
            }

            pub fn parse(s: &str) -> Option<$name> {
                let s = s.trim();
                Self::ALL.iter().copied().find(|v| v.slug() == s)
            }
        }
    };
}

vocabulary!(
    /// The four arms of the public-safety ecosystem a solicitation funds.
    ProgramArea {
        Prevention = "prevention", "Prevention";
        Intervention = "intervention", "Intervention";
        Accountability = "accountability", "Accountability";
        Rehabilitation = "rehabilitation", "Rehabilitation";
    }
);

vocabulary!(
    /// Focus tags that narrow a program area.
    FocusTag {
        CommunityViolenceIntervention = "community_violence_intervention", "Community violence intervention";
        Reentry = "reentry", "Reentry";
        VictimServices = "victim_services", "Victim services";
        Youth = "youth", "Youth";
        GunViolence = "gun_violence", "Gun violence";
        CrimeAnalysis = "crime_analysis", "Crime analysis";
        Technology = "technology", "Technology";
        CoResponder = "co_responder", "Co-responder and crisis response";
        TraumaRecovery = "trauma_recovery", "Trauma recovery";
        SubstanceUse = "substance_use", "Substance use";
        CommunityEngagement = "community_engagement", "Community engagement";
        CapacityBuilding = "capacity_building", "Capacity building";
    }
);

vocabulary!(
    /// Who may apply. The values are the CommonGrants protocol's applicant types, so they
    /// pass through the public API unchanged; `fiscally_sponsored_group` is Granary's own.
    ApplicantType {
        NonprofitWith501c3 = "non_profit_with_501c3", "Nonprofit with 501(c)(3) status";
        NonprofitWithout501c3 = "nonprofit_without_501c3", "Nonprofit without 501(c)(3) status";
        FiscallySponsoredGroup = "fiscally_sponsored_group", "Community group with a fiscal sponsor";
        GovernmentState = "government_state", "State government";
        GovernmentCounty = "government_county", "County government";
        GovernmentMunicipal = "government_municipal", "City or town government";
        GovernmentTribal = "government_tribal", "Federally recognized tribal government";
        OrganizationTribalOther = "organization_tribal_other", "Other tribal organization";
        HigherEducationPublic = "higher_education_public", "Public college or university";
        HigherEducationPrivate = "higher_education_private", "Private college or university";
        ForProfitSmallBusiness = "for_profit_small_business", "Small business";
    }
);

/// Who may apply, and what disqualifies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Eligibility {
    pub applicant_types: Vec<ApplicantType>,
    /// Applicants whose annual operating budget exceeds this are not eligible (small
    /// grassroots programs use it).
    pub max_annual_budget: Option<Money>,
    pub geography: Geography,
    /// Only intermediary organizations (which re-grant to grassroots groups) may apply.
    pub intermediary_only: bool,
    /// Further requirements, each one sentence, shown as a list.
    pub other_requirements: Vec<String>,
}

/// Where applicants must be or serve.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Geography {
    /// Two-letter state or territory codes; empty means nationwide.
    pub states: Vec<String>,
    /// Five-digit county FIPS codes; empty means any county in the states.
    pub county_fips: Vec<String>,
    /// A plain-language description ("the District of Columbia, Wards 7 and 8").
    pub description: String,
}

/// How much money, in what pieces, for how long.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Funding {
    pub total_available: Money,
    pub award_floor: Option<Money>,
    pub award_ceiling: Money,
    pub expected_awards: Option<u32>,
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
    /// Cost sharing, payment terms, pass-through requirements and the like.
    pub notes: String,
}

/// The key dates. Instants are UTC; `time_zone` is how they are shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeyDates {
    /// IANA time zone name; America/New_York unless the office says otherwise.
    pub time_zone: String,
    /// When applications may start (for a forecast, the expected opening).
    pub opens_at: Option<DateTime<Utc>>,
    /// The deadline: an application counts if received before this instant.
    pub closes_at: Option<DateTime<Utc>>,
    /// Information sessions, letters of intent, expected award date, ...
    pub other: Vec<OtherDate>,
}

impl Default for KeyDates {
    fn default() -> Self {
        KeyDates {
            time_zone: granary_core::time::DEFAULT_TIME_ZONE.name().to_string(),
            opens_at: None,
            closes_at: None,
            other: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtherDate {
    pub name: String,
    pub at: DateTime<Utc>,
    #[serde(default)]
    pub description: String,
}

/// The scoring rubric: criteria whose points add up to the published total.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rubric {
    pub total_points: u32,
    pub criteria: Vec<Criterion>,
}

impl Rubric {
    pub fn points_sum(&self) -> u64 {
        self.criteria.iter().map(|c| u64::from(c.points)).sum()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    /// Stable short name, unique within the rubric (`need`, `design`, `capacity`).
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub points: u32,
}

/// A priority consideration: a test an application meets or not, and how meeting it
/// changes the outcome after merit review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriorityConsideration {
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub established_by: Establishment,
    pub mechanism: Mechanism,
}

/// How an application is found to meet a priority consideration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum Establishment {
    /// The applicant attests to a statement.
    SelfAttested { statement: String },
    /// The applicant uploads a document that shows it.
    Documented { document: String },
    /// Derived from data, such as whether the service area is in a listed county.
    Derived { source: DerivedSource, values: Vec<String> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DerivedSource {
    /// The applicant's county FIPS code is in the list.
    CountyFips,
    /// The applicant's state is in the list.
    State,
    /// The applicant's annual budget is at most the amount given as the only value.
    AnnualBudgetAtMost,
}

/// How a met priority consideration enters the outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Mechanism {
    /// Points added to the merit score.
    BonusPoints { points: Decimal },
    /// The merit score multiplied by a factor (greater than 1).
    Multiplier { factor: Decimal },
    /// Among applications within `band` points of each other, those meeting it rank first.
    TieBreak { band: Decimal },
    /// At least this much of the funds goes to applications meeting it, if there are enough.
    SetAside { amount: Money },
    /// A separate pot of this size, ranked among the applications meeting it.
    SeparateFundingLine { amount: Money },
}

impl Mechanism {
    pub fn describe(&self) -> String {
        match self {
            Mechanism::BonusPoints { points } => {
                format!("{points} bonus points added to the merit score")
            }
            Mechanism::Multiplier { factor } => format!("merit score multiplied by {factor}"),
            Mechanism::TieBreak { band } => {
                format!("ranked first among applications within {band} points of each other")
            }
            Mechanism::SetAside { amount } => {
                format!("at least {amount} of the funds set aside for applications meeting it")
            }
            Mechanism::SeparateFundingLine { amount } => {
                format!("a separate funding line of {amount} for applications meeting it")
            }
        }
    }
}

/// A document every application must (or may) include.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequiredDocument {
    pub key: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "yes")]
    pub required: bool,
}

/// A narrative question applicants answer, with a character limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub key: String,
    pub prompt: String,
    #[serde(default)]
    pub guidance: String,
    pub max_chars: u32,
    #[serde(default = "yes")]
    pub required: bool,
}

fn yes() -> bool {
    true
}

/// Whom applicants may ask.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Contact {
    pub name: String,
    pub email: String,
    pub phone: String,
}

/// Everything an author writes in a solicitation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SolicitationContent {
    /// The office's number for it, such as `O-BJA-2027-00123`.
    pub number: String,
    pub title: String,
    /// One paragraph for lists and search results.
    pub summary: String,
    /// The full text (plain text; paragraphs separated by blank lines).
    pub description: String,
    pub program_areas: Vec<ProgramArea>,
    pub focus_tags: Vec<FocusTag>,
    pub eligibility: Eligibility,
    pub funding: Funding,
    pub dates: KeyDates,
    pub rubric: Rubric,
    pub priority_considerations: Vec<PriorityConsideration>,
    pub required_documents: Vec<RequiredDocument>,
    pub questions: Vec<Question>,
    /// Assistance Listing number (formerly CFDA), such as `16.812`.
    pub assistance_listing: Option<String>,
    pub contact: Contact,
}

/// The office that issued a solicitation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfficeRef {
    pub id: OrganizationId,
    pub name: String,
}

/// A solicitation as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Solicitation {
    pub id: SolicitationId,
    pub office: OfficeRef,
    pub status: Status,
    /// 0 while a draft; 1 when first posted; +1 for each amendment.
    pub version: i32,
    pub content: SolicitationContent,
    pub posted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Solicitation {
    /// The time zone its dates are shown in: the one it names, or the default when the name
    /// is not a known zone (validation refuses those before posting).
    pub fn time_zone(&self) -> chrono_tz::Tz {
        granary_core::time::parse_time_zone(&self.content.dates.time_zone)
            .unwrap_or(granary_core::time::DEFAULT_TIME_ZONE)
    }

    /// The status the public sees now: an open solicitation whose deadline has passed is
    /// closed even before the sweep records it.
    pub fn effective_status(&self, now: DateTime<Utc>) -> Status {
        match (self.status, self.content.dates.closes_at) {
            (Status::Open, Some(c)) if c <= now => Status::Closed,
            (s, _) => s,
        }
    }
}

/// One posted version of a solicitation: the original posting or an amendment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amendment {
    pub version: i32,
    pub change_summary: String,
    pub changed_fields: Vec<String>,
    pub actor: String,
    pub created_at: DateTime<Utc>,
}

/// A file attached to a solicitation (the full notice, templates, FAQs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub id: uuid::Uuid,
    pub document_id: DocumentId,
    pub title: String,
    pub filename: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub created_at: DateTime<Utc>,
}
