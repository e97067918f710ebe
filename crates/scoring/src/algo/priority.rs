//! Whether an application meets a priority consideration, and why.
//!
//! A solicitation declares how each consideration is established (see
//! [`Establishment`]). The rules, exactly as applied:
//!
//! * **Self-attested**: met when the applicant attested to the statement; not met otherwise.
//! * **Documented**: met when the applicant attested to it *and* a document is in that
//!   consideration's evidence slot. When either is missing the finding says which.
//! * **Derived from data**: decided from the applicant organization's profile, never from a
//!   claim:
//!   * *county*: met when the organization's five-digit county FIPS code is one of the listed
//!     codes (spaces around codes are ignored);
//!   * *state*: met when the organization's two-letter state code is one of the listed codes
//!     (capital or small letters alike);
//!   * *annual budget at most*: met when the organization's annual budget is at most the one
//!     amount listed.
//!
//!   A fact missing from the profile means not met, and the finding says which fact to add.
//!
//! A program officer may override any finding with a note. The override decides, and the
//! explanation shows both the override with its note and the automatic finding it replaced.
//!
//! The caller gathers the facts (claims from the application, documents from its slots,
//! county, state and budget from the organization) into [`ApplicantFacts`]; nothing here reads
//! the database.

use std::collections::{BTreeMap, BTreeSet};

use granary_core::Money;
use granary_solicitations::model::{DerivedSource, Establishment, PriorityConsideration};
use serde::{Deserialize, Serialize};

/// The facts about one application that its priority determinations are made from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ApplicantFacts {
    /// Keys of the considerations the applicant attested to meeting.
    pub attested: BTreeSet<String>,
    /// Keys of the considerations whose evidence slot holds a document.
    pub evidence: BTreeSet<String>,
    /// The organization's five-digit county FIPS code, if on file.
    pub county_fips: Option<String>,
    /// The organization's two-letter state or territory code, if on file.
    pub state: Option<String>,
    /// The organization's annual operating budget, if on file.
    pub annual_budget: Option<Money>,
}

/// Met or not met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Met,
    NotMet,
}

impl Status {
    pub fn from_met(met: bool) -> Status {
        if met { Status::Met } else { Status::NotMet }
    }

    pub fn is_met(self) -> bool {
        self == Status::Met
    }

    /// "met" or "not met".
    pub fn label(self) -> &'static str {
        match self {
            Status::Met => "met",
            Status::NotMet => "not met",
        }
    }
}

/// The automatic finding: met or not, with the reason in one plain sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub status: Status,
    pub reason: String,
}

/// A program officer's decision that replaces the automatic finding. It always carries a
/// note saying why, which is shown to the applicant with the outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "OverrideRecord")]
pub struct Override {
    status: Status,
    note: String,
}

#[derive(Deserialize)]
struct OverrideRecord {
    status: Status,
    note: String,
}

impl TryFrom<OverrideRecord> for Override {
    type Error = PriorityError;
    fn try_from(r: OverrideRecord) -> Result<Self, Self::Error> {
        Override::new(r.status, r.note)
    }
}

impl Override {
    /// An override; refuses an empty note, since an override must say why.
    pub fn new(status: Status, note: impl Into<String>) -> Result<Self, PriorityError> {
        let note = note.into().trim().to_string();
        if note.is_empty() {
            return Err(PriorityError::EmptyOverrideNote);
        }
        Ok(Override { status, note })
    }

    pub fn status(&self) -> Status {
        self.status
    }

    pub fn note(&self) -> &str {
        &self.note
    }
}

/// Why a determination could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PriorityError {
    #[error("an override needs a note saying why")]
    EmptyOverrideNote,
    #[error(
        "priority consideration “{consideration}” must list exactly one budget amount, such as 500000 (found {found:?})"
    )]
    BadBudgetLimit { consideration: String, found: Vec<String> },
    #[error("an override was given for “{key}”, which is not a priority consideration of this solicitation")]
    UnknownOverride { key: String },
}

/// The determination for one application and one consideration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Determination {
    /// The consideration's key.
    pub consideration: String,
    /// What the rules found on their own.
    pub finding: Finding,
    /// A program officer's override, which wins when present.
    pub officer_override: Option<Override>,
}

impl Determination {
    /// The status that counts: the override's when there is one, else the finding's.
    pub fn status(&self) -> Status {
        self.officer_override.as_ref().map_or(self.finding.status, |o| o.status)
    }

    pub fn is_met(&self) -> bool {
        self.status().is_met()
    }

    /// The explanation in plain words, for the applicant and the program officer.
    pub fn explain(&self, consideration_name: &str) -> String {
        match &self.officer_override {
            None => format!(
                "“{consideration_name}”: {}. {}",
                self.finding.status.label(),
                self.finding.reason
            ),
            Some(o) => format!(
                "“{consideration_name}”: {}, as decided by a program officer: {} (The automatic finding was {}: {})",
                o.status.label(),
                o.note,
                self.finding.status.label(),
                self.finding.reason
            ),
        }
    }
}

/// Decides one consideration for one application. `officer_override`, when given, wins.
pub fn determine(
    consideration: &PriorityConsideration,
    facts: &ApplicantFacts,
    officer_override: Option<Override>,
) -> Result<Determination, PriorityError> {
    let key = consideration.key.as_str();
    let finding = match &consideration.established_by {
        Establishment::SelfAttested { statement } => {
            if facts.attested.contains(key) {
                Finding {
                    status: Status::Met,
                    reason: format!("The applicant attested: “{statement}”."),
                }
            } else {
                Finding {
                    status: Status::NotMet,
                    reason: format!("The applicant did not attest: “{statement}”."),
                }
            }
        }
        Establishment::Documented { document } => {
            let attested = facts.attested.contains(key);
            let uploaded = facts.evidence.contains(key);
            let (status, reason) = match (attested, uploaded) {
                (true, true) => (
                    Status::Met,
                    format!("The applicant attested to it and uploaded {document}."),
                ),
                (true, false) => (
                    Status::NotMet,
                    format!("The applicant attested to it, but {document} was not uploaded."),
                ),
                (false, true) => (
                    Status::NotMet,
                    format!("The applicant uploaded {document} but did not attest to it."),
                ),
                (false, false) => (
                    Status::NotMet,
                    format!("The applicant did not attest to it and did not upload {document}."),
                ),
            };
            Finding { status, reason }
        }
        Establishment::Derived { source, values } => derive(key, *source, values, facts)?,
    };
    Ok(Determination {
        consideration: key.to_string(),
        finding,
        officer_override,
    })
}

fn derive(
    key: &str,
    source: DerivedSource,
    values: &[String],
    facts: &ApplicantFacts,
) -> Result<Finding, PriorityError> {
    // "is one of the 3 listed counties", "is not the listed county", ...
    let membership = |met: bool, one: &str, many: &str| match (met, values.len()) {
        (true, 1) => format!("is the listed {one}"),
        (false, 1) => format!("is not the listed {one}"),
        (true, n) => format!("is one of the {n} listed {many}"),
        (false, n) => format!("is not among the {n} listed {many}"),
    };
    Ok(match source {
        DerivedSource::CountyFips => match facts.county_fips.as_deref().map(str::trim) {
            None | Some("") => Finding {
                status: Status::NotMet,
                reason:
                    "The organization's county is not on file; add its county (FIPS code) to the organization profile."
                        .to_string(),
            },
            Some(code) => {
                let met = values.iter().any(|v| v.trim() == code);
                Finding {
                    status: Status::from_met(met),
                    reason: format!(
                        "The organization's county (FIPS {code}) {}.",
                        membership(met, "county", "counties")
                    ),
                }
            }
        },
        DerivedSource::State => match facts.state.as_deref().map(str::trim) {
            None | Some("") => Finding {
                status: Status::NotMet,
                reason: "The organization's state is not on file; add it to the organization profile.".to_string(),
            },
            Some(state) => {
                let met = values.iter().any(|v| v.trim().eq_ignore_ascii_case(state));
                let state = state.to_ascii_uppercase();
                Finding {
                    status: Status::from_met(met),
                    reason: format!(
                        "The organization's state ({state}) {}.",
                        membership(met, "state", "states")
                    ),
                }
            }
        },
        DerivedSource::AnnualBudgetAtMost => {
            let limit = match values {
                [one] => one.parse::<Money>().ok(),
                _ => None,
            };
            let Some(limit) = limit else {
                return Err(PriorityError::BadBudgetLimit {
                    consideration: key.to_string(),
                    found: values.to_vec(),
                });
            };
            match facts.annual_budget {
                None => Finding {
                    status: Status::NotMet,
                    reason: "The organization's annual budget is not on file; add it to the organization profile."
                        .to_string(),
                },
                Some(budget) if budget <= limit => Finding {
                    status: Status::Met,
                    reason: format!("The organization's annual budget of {budget} is at most {limit}."),
                },
                Some(budget) => Finding {
                    status: Status::NotMet,
                    reason: format!("The organization's annual budget of {budget} is above {limit}."),
                },
            }
        }
    })
}

/// Decides every consideration of a solicitation for one application, in the order they are
/// declared. `overrides` holds program officers' overrides by consideration key; an override
/// for a key the solicitation does not declare is refused rather than ignored.
pub fn determine_all(
    considerations: &[PriorityConsideration],
    facts: &ApplicantFacts,
    overrides: &BTreeMap<String, Override>,
) -> Result<Vec<Determination>, PriorityError> {
    if let Some(key) = overrides.keys().find(|k| !considerations.iter().any(|c| &c.key == *k)) {
        return Err(PriorityError::UnknownOverride { key: key.clone() });
    }
    considerations
        .iter()
        .map(|c| determine(c, facts, overrides.get(&c.key).cloned()))
        .collect()
}

/// The keys of the considerations that count as met, ready for
/// [`Candidate::meets`](super::ranking::Candidate::meets).
pub fn met_keys(determinations: &[Determination]) -> BTreeSet<String> {
    determinations
        .iter()
        .filter(|d| d.is_met())
        .map(|d| d.consideration.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use granary_solicitations::model::Mechanism;
    use rust_decimal_macros::dec;

    fn consideration(key: &str, established_by: Establishment) -> PriorityConsideration {
        PriorityConsideration {
            key: key.to_string(),
            name: key.to_string(),
            description: String::new(),
            established_by,
            mechanism: Mechanism::BonusPoints { points: dec!(5) },
        }
    }

    fn keys(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn self_attested_is_met_only_when_attested() {
        let c = consideration(
            "led",
            Establishment::SelfAttested {
                statement: "We are led by people with lived experience".into(),
            },
        );
        let yes = ApplicantFacts {
            attested: keys(&["led"]),
            ..Default::default()
        };
        let d = determine(&c, &yes, None).unwrap();
        assert_eq!(d.status(), Status::Met);
        assert_eq!(
            d.finding.reason,
            "The applicant attested: “We are led by people with lived experience”."
        );
        // Attesting to a different consideration does not count, and neither does evidence.
        let no = ApplicantFacts {
            attested: keys(&["other"]),
            evidence: keys(&["led"]),
            ..Default::default()
        };
        let d = determine(&c, &no, None).unwrap();
        assert_eq!(d.status(), Status::NotMet);
        assert!(d.finding.reason.starts_with("The applicant did not attest"));
    }

    #[test]
    fn documented_needs_attestation_and_document_and_says_which_is_missing() {
        let c = consideration(
            "cbo",
            Establishment::Documented {
                document: "a letter from the fiscal sponsor".into(),
            },
        );
        let case = |attested: bool, uploaded: bool| {
            let facts = ApplicantFacts {
                attested: if attested { keys(&["cbo"]) } else { keys(&[]) },
                evidence: if uploaded { keys(&["cbo"]) } else { keys(&[]) },
                ..Default::default()
            };
            determine(&c, &facts, None).unwrap()
        };
        let both = case(true, true);
        assert!(both.is_met());
        assert_eq!(
            both.finding.reason,
            "The applicant attested to it and uploaded a letter from the fiscal sponsor."
        );
        let no_doc = case(true, false);
        assert!(!no_doc.is_met());
        assert_eq!(
            no_doc.finding.reason,
            "The applicant attested to it, but a letter from the fiscal sponsor was not uploaded."
        );
        let no_attest = case(false, true);
        assert!(!no_attest.is_met());
        assert_eq!(
            no_attest.finding.reason,
            "The applicant uploaded a letter from the fiscal sponsor but did not attest to it."
        );
        let neither = case(false, false);
        assert!(!neither.is_met());
        assert!(
            neither
                .finding
                .reason
                .contains("did not attest to it and did not upload")
        );
    }

    #[test]
    fn derived_from_county_state_and_budget() {
        let county = consideration(
            "wards",
            Establishment::Derived {
                source: DerivedSource::CountyFips,
                values: vec!["11001".into(), " 24033 ".into()],
            },
        );
        let state = consideration(
            "dmv",
            Establishment::Derived {
                source: DerivedSource::State,
                values: vec!["DC".into(), "MD".into()],
            },
        );
        let small = consideration(
            "small",
            Establishment::Derived {
                source: DerivedSource::AnnualBudgetAtMost,
                values: vec!["500000".into()],
            },
        );
        let org = |fips: Option<&str>, st: Option<&str>, budget: Option<i64>| ApplicantFacts {
            // Attestation plays no part in a derived consideration.
            attested: keys(&["wards", "dmv", "small"]),
            county_fips: fips.map(str::to_string),
            state: st.map(str::to_string),
            annual_budget: budget.map(|d| Money::from_dollars(d).unwrap()),
            ..Default::default()
        };
        let inside = org(Some("24033"), Some("md"), Some(500_000));
        let d = determine(&county, &inside, None).unwrap();
        assert!(d.is_met());
        assert_eq!(
            d.finding.reason,
            "The organization's county (FIPS 24033) is one of the 2 listed counties."
        );
        let d = determine(&state, &inside, None).unwrap();
        assert!(d.is_met(), "state codes compare without regard to case");
        assert_eq!(
            d.finding.reason,
            "The organization's state (MD) is one of the 2 listed states."
        );
        let d = determine(&small, &inside, None).unwrap();
        assert!(d.is_met(), "a budget equal to the limit is at most the limit");
        assert_eq!(
            d.finding.reason,
            "The organization's annual budget of $500,000 is at most $500,000."
        );

        let outside = org(Some("51059"), Some("VA"), Some(500_001));
        let d = determine(&county, &outside, None).unwrap();
        assert!(!d.is_met());
        assert_eq!(
            d.finding.reason,
            "The organization's county (FIPS 51059) is not among the 2 listed counties."
        );
        assert!(!determine(&state, &outside, None).unwrap().is_met());
        let d = determine(&small, &outside, None).unwrap();
        assert!(!d.is_met());
        assert_eq!(
            d.finding.reason,
            "The organization's annual budget of $500,001 is above $500,000."
        );

        let unknown = org(None, Some(" "), None);
        for c in [&county, &state, &small] {
            let d = determine(c, &unknown, None).unwrap();
            assert!(!d.is_met());
            assert!(d.finding.reason.contains("not on file"), "{}", d.finding.reason);
        }

        let broken = consideration(
            "broken",
            Establishment::Derived {
                source: DerivedSource::AnnualBudgetAtMost,
                values: vec!["lots".into()],
            },
        );
        assert!(matches!(
            determine(&broken, &inside, None),
            Err(PriorityError::BadBudgetLimit { .. })
        ));
    }

    #[test]
    fn an_override_wins_and_is_shown_with_the_finding() {
        let c = consideration(
            "cbo",
            Establishment::Documented {
                document: "a letter".into(),
            },
        );
        let facts = ApplicantFacts {
            attested: keys(&["cbo"]),
            ..Default::default()
        };
        assert_eq!(Override::new(Status::Met, "  "), Err(PriorityError::EmptyOverrideNote));
        let o = Override::new(
            Status::Met,
            "The letter arrived by mail on 3 March; scanned copy in the file.",
        )
        .unwrap();
        let d = determine(&c, &facts, Some(o.clone())).unwrap();
        assert_eq!(d.finding.status, Status::NotMet);
        assert_eq!(d.status(), Status::Met);
        assert_eq!(
            d.explain("Community-based organization"),
            "“Community-based organization”: met, as decided by a program officer: The letter arrived by mail on 3 March; scanned copy in the file. (The automatic finding was not met: The applicant attested to it, but a letter was not uploaded.)"
        );
        // An override can also take a consideration away.
        let both = ApplicantFacts {
            attested: keys(&["cbo"]),
            evidence: keys(&["cbo"]),
            ..Default::default()
        };
        let away = Override::new(Status::NotMet, "The letter is from another organization.").unwrap();
        let d = determine(&c, &both, Some(away)).unwrap();
        assert!(d.finding.status.is_met());
        assert!(!d.is_met());

        // determine_all applies overrides by key and refuses unknown keys.
        let mut overrides = BTreeMap::new();
        overrides.insert("cbo".to_string(), o);
        let all = determine_all(std::slice::from_ref(&c), &facts, &overrides).unwrap();
        assert_eq!(met_keys(&all), keys(&["cbo"]));
        overrides.insert("nope".to_string(), Override::new(Status::Met, "x").unwrap());
        assert_eq!(
            determine_all(&[c], &facts, &overrides),
            Err(PriorityError::UnknownOverride { key: "nope".into() })
        );

        // A stored override without a note is refused when read back.
        let bad = serde_json::json!({"status": "met", "note": ""});
        assert!(serde_json::from_value::<Override>(bad).is_err());
    }
}
