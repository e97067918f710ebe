//! The scoring model: what program officers configure and what reviewers write. The database
//! layout is in `entity`; the algorithms that turn reviews into decisions are in `algo`.

use chrono::{DateTime, Utc};
use granary_core::Money;
use granary_core::id::{ApplicationId, SolicitationId, UserId};
use granary_solicitations::ProgramArea;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

granary_core::typed_id!(
    /// One reviewer's assignment to one application, and the review it becomes.
    ReviewId
);
granary_core::typed_id!(
    /// A recorded ranking and funding-line decision for a solicitation.
    DecisionId
);
granary_core::typed_id!(
    /// A reviewer's place in a solicitation's pool.
    PoolMemberId
);
granary_core::typed_id!(
    /// A recorded conflict of interest between a reviewer and an application.
    ConflictId
);

macro_rules! slugs {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $slug:literal, $label:literal;)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vm])* #[serde(rename = $slug)] $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The value used in URLs, JSON and the database.
            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $slug,)+ }
            }

            /// The plain-language name shown to people.
            pub fn label(&self) -> &'static str {
                match self { $($name::$variant => $label,)+ }
            }

            pub fn parse(s: &str) -> Option<$name> {
                let s = s.trim();
                Self::ALL.iter().copied().find(|v| v.as_str() == s)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.label())
            }
        }
    };
}

slugs!(
    /// Where a reviewer comes from.
    ReviewerKind {
        /// A member of the office's own staff.
        Staff = "staff", "Staff reviewer";
        /// A practitioner or researcher from the field.
        Peer = "peer", "Peer reviewer";
        /// A community reviewer with lived experience of the issues the program addresses.
        Community = "community", "Community reviewer (lived experience)";
    }
);

slugs!(
    /// The nature of a conflict of interest.
    ConflictKind {
        Organizational = "organizational", "Organizational (works for, advises or sits on the board of the applicant)";
        Financial = "financial", "Financial (stands to gain or lose from the award)";
        Personal = "personal", "Personal (family member or close relationship)";
        Other = "other", "Other";
    }
);

slugs!(
    /// How a conflict of interest came to be recorded.
    ConflictSource {
        /// The reviewer declared it.
        Declared = "declared", "Declared by the reviewer";
        /// Granary found it: the reviewer belongs to the applicant or its fiscal sponsor.
        Detected = "detected", "Detected (member of the applicant or its fiscal sponsor)";
        /// A program officer recorded it.
        Officer = "officer", "Recorded by a program officer";
    }
);

slugs!(
    /// Where a review stands.
    ReviewStatus {
        /// Assigned; the reviewer has not saved anything yet.
        Assigned = "assigned", "Assigned";
        /// The reviewer has saved a draft.
        InProgress = "in_progress", "In progress";
        /// The reviewer submitted it; only a program officer can reopen it.
        Submitted = "submitted", "Submitted";
        /// The assignment was taken back (a conflict was declared, or an officer removed it).
        Released = "released", "Released";
    }
);

slugs!(
    /// How scores are calibrated before ranking. Raw scores are always shown beside.
    CalibrationMethod {
        /// No calibration: merit is the mean of the reviewers' criterion scores.
        None = "none", "None (raw scores)";
        /// Each reviewer's scores standardized against the pool, shrunk toward it when the
        /// reviewer has few reviews.
        Standardize = "standardize", "Per-reviewer standardization with shrinkage";
        /// A least-squares model of applicant merit plus reviewer bias.
        LeastSquares = "least_squares", "Least-squares applicant-plus-reviewer-bias model";
    }
);

slugs!(
    /// How the funding line picks the funded set.
    FundingMode {
        /// Walk the ranking; fund each application if its award fits in what is left,
        /// otherwise skip it and go on.
        RankOrder = "rank_order", "Rank order, skipping what does not fit";
        /// The set with the highest total final score that fits in the funds.
        Exact = "exact", "Exact: maximize the total score within the funds";
    }
);

/// A program officer's settings for reviewing one solicitation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReviewSettings {
    /// Reviewers per application (k).
    pub reviews_per_application: u32,
    /// Fewest applications each reviewer is given (unless a member has their own).
    pub min_load: u32,
    /// Most applications each reviewer is given (unless a member has their own).
    pub max_load: u32,
    /// Reviewers do not see who the applicant is (name, organization, documents that name it).
    pub blind: bool,
    /// Reviewers may read the other reviews of an application once they submitted their own.
    pub share_reviews_after_submitting: bool,
    /// Flag an application for discussion when its reviewers' totals differ by more than this
    /// percentage of the rubric's total points.
    pub disagreement_percent: Decimal,
    pub calibration: CalibrationMethod,
    pub funding_mode: FundingMode,
    /// The funds available for this solicitation's awards; the solicitation's estimated total
    /// funding when not set.
    pub available_funds: Option<Money>,
}

impl Default for ReviewSettings {
    fn default() -> Self {
        Self {
            reviews_per_application: 3,
            min_load: 0,
            max_load: 25,
            blind: false,
            share_reviews_after_submitting: false,
            disagreement_percent: Decimal::from(20),
            calibration: CalibrationMethod::None,
            funding_mode: FundingMode::RankOrder,
            available_funds: None,
        }
    }
}

/// A person as scoring shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRef {
    pub id: UserId,
    pub name: String,
    pub email: String,
}

/// A reviewer in a solicitation's pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolMember {
    pub id: PoolMemberId,
    pub solicitation_id: SolicitationId,
    pub reviewer: PersonRef,
    pub kind: ReviewerKind,
    pub expertise: Vec<ProgramArea>,
    /// This reviewer's own load limits, when they differ from the solicitation's.
    pub min_load: Option<u32>,
    pub max_load: Option<u32>,
    pub added_at: DateTime<Utc>,
}

/// A conflict of interest between a reviewer and an application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    pub id: ConflictId,
    pub solicitation_id: SolicitationId,
    pub application_id: ApplicationId,
    pub reviewer: UserId,
    pub source: ConflictSource,
    pub kind: ConflictKind,
    pub note: String,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

/// One criterion of a review: a score within the criterion's points, with strengths and
/// weaknesses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CriterionReview {
    pub score: Option<Decimal>,
    pub strengths: String,
    pub weaknesses: String,
}

/// What a reviewer writes, keyed by the rubric's criterion keys.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReviewContent {
    pub criteria: std::collections::BTreeMap<String, CriterionReview>,
    pub overall_comment: String,
}

/// An assignment and the review it becomes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub id: ReviewId,
    pub solicitation_id: SolicitationId,
    pub application_id: ApplicationId,
    pub reviewer: UserId,
    pub status: ReviewStatus,
    /// Set by a program officer by hand; automatic assignment keeps it.
    pub pinned: bool,
    pub version: i32,
    pub content: ReviewContent,
    pub assigned_by: String,
    pub assigned_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub reopened_by: Option<String>,
    pub reopened_at: Option<DateTime<Utc>>,
}

impl Review {
    /// Whether the assignment is live (not released).
    pub fn is_active(&self) -> bool {
        self.status != ReviewStatus::Released
    }
}
