//! The eligibility pre-check anyone can run before writing an application: the questions a
//! solicitation's rules call for, and a verdict on the answers with every reason spelled out.
//! Pure logic; nothing is stored.
//!
//! Geography: when the solicitation lists counties, the county decides (it must be one of
//! them) and the state is asked as well; when it lists only states, the state must be one of
//! them. FIPS codes are not mapped to postal codes.

use granary_core::Money;
use granary_solicitations::{ApplicantType, Eligibility};
use serde::{Deserialize, Serialize};

use crate::budget::dollars;

/// Question keys, also the field names a form uses.
pub const APPLICANT_TYPE: &str = "applicant_type";
pub const ANNUAL_BUDGET: &str = "annual_budget";
pub const STATE: &str = "state";
pub const COUNTY_FIPS: &str = "county_fips";
pub const IS_INTERMEDIARY: &str = "is_intermediary";

/// The key of the question about `other_requirements[index]`: `requirements[0]`.
pub fn requirement_key(index: usize) -> String {
    format!("requirements[{index}]")
}

/// What an applicant says about itself for the pre-check. Every field optional: a question
/// not answered is reported as missing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EligibilityAnswers {
    pub applicant_type: Option<ApplicantType>,
    /// The organization's annual operating budget. A negative amount counts as not answered.
    pub annual_budget: Option<Money>,
    /// Two-letter state or territory code, compared case-insensitively after trimming.
    pub state: Option<String>,
    /// Five-digit county FIPS code.
    pub county_fips: Option<String>,
    pub is_intermediary: Option<bool>,
    /// One answer per `other_requirements` entry, by index ("I meet this requirement").
    pub requirements: Vec<Option<bool>>,
}

/// What sort of answer a question takes, with what a form needs to offer it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum QuestionKind {
    /// Every applicant type, so that a type the solicitation does not accept can be picked and
    /// the answer explained.
    ApplicantType {
        options: Vec<ApplicantType>,
    },
    AnnualBudget {
        max: Money,
    },
    State {
        allowed: Vec<String>,
    },
    County {
        allowed: Vec<String>,
    },
    /// Yes or no.
    Intermediary,
    /// Yes or no, about `other_requirements[index]`.
    Requirement {
        index: usize,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EligibilityQuestion {
    /// `applicant_type`, `annual_budget`, `state`, `county_fips`, `is_intermediary`,
    /// `requirements[0]`, ...
    pub key: String,
    /// The question in plain language.
    pub prompt: String,
    /// What the question means and what the solicitation asks for.
    pub help: String,
    pub kind: QuestionKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Eligible,
    NotEligible,
    Incomplete,
}

/// Why an applicant is not eligible, tied to the question whose answer shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// The question key.
    pub question: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EligibilityResult {
    pub verdict: Verdict,
    /// Why not, one reason per failed rule, with the exact figures.
    pub reasons: Vec<Reason>,
    /// Keys of questions not answered, in question order.
    pub missing: Vec<String>,
}

fn normalize_state(s: &str) -> String {
    s.trim().to_uppercase()
}

fn allowed_states(e: &Eligibility) -> Vec<String> {
    e.geography.states.iter().map(|s| normalize_state(s)).collect()
}

fn allowed_counties(e: &Eligibility) -> Vec<String> {
    e.geography.county_fips.iter().map(|c| c.trim().to_string()).collect()
}

fn labels(types: &[ApplicantType]) -> String {
    types.iter().map(|t| t.label()).collect::<Vec<_>>().join(", ")
}

/// " (the District of Columbia, Wards 7 and 8)" when the solicitation describes its area.
fn area_note(e: &Eligibility) -> String {
    let d = e.geography.description.trim();
    if d.is_empty() { String::new() } else { format!(" ({d})") }
}

/// The questions a solicitation's eligibility rules call for, in order: applicant type,
/// annual budget, state, county, intermediary, then each further requirement. None when
/// anyone may apply.
pub fn questions(e: &Eligibility) -> Vec<EligibilityQuestion> {
    let mut out = Vec::new();
    if !e.applicant_types.is_empty() {
        out.push(EligibilityQuestion {
            key: APPLICANT_TYPE.to_string(),
            prompt: "What kind of organization is applying?".to_string(),
            help: format!(
                "This solicitation accepts applications from: {}.",
                labels(&e.applicant_types)
            ),
            kind: QuestionKind::ApplicantType {
                options: ApplicantType::ALL.to_vec(),
            },
        });
    }
    if let Some(max) = e.max_annual_budget {
        out.push(EligibilityQuestion {
            key: ANNUAL_BUDGET.to_string(),
            prompt: "What is your organization's annual operating budget?".to_string(),
            help: format!(
                "Your total spending in a year on everything you do, not only this project. This solicitation \
                 is for organizations whose annual budget is {} or less.",
                dollars(max)
            ),
            kind: QuestionKind::AnnualBudget { max },
        });
    }
    let states = allowed_states(e);
    let counties = allowed_counties(e);
    if !states.is_empty() {
        out.push(EligibilityQuestion {
            key: STATE.to_string(),
            prompt: "In which state or territory does your organization do this work?".to_string(),
            help: format!(
                "Use the two-letter code, such as DC or MD. This solicitation is for work in: {}{}.",
                states.join(", "),
                area_note(e)
            ),
            kind: QuestionKind::State { allowed: states },
        });
    }
    if !counties.is_empty() {
        out.push(EligibilityQuestion {
            key: COUNTY_FIPS.to_string(),
            prompt: "In which county does your organization do this work?".to_string(),
            help: format!(
                "Give the county's 5-digit FIPS code (the District of Columbia is 11001). This solicitation is \
                 for work in the counties {}{}.",
                counties.join(", "),
                area_note(e)
            ),
            kind: QuestionKind::County { allowed: counties },
        });
    }
    if e.intermediary_only {
        out.push(EligibilityQuestion {
            key: IS_INTERMEDIARY.to_string(),
            prompt: "Does your organization pass funding on to smaller grassroots groups as subgrants?".to_string(),
            help: "Only intermediary organizations may apply: ones that re-grant part of the award to smaller \
                   community groups and help them manage it."
                .to_string(),
            kind: QuestionKind::Intermediary,
        });
    }
    for (index, requirement) in e.other_requirements.iter().enumerate() {
        out.push(EligibilityQuestion {
            key: requirement_key(index),
            prompt: format!("Does your organization meet this requirement? “{}”", requirement.trim()),
            help: "Answer yes only if it is true of your organization today.".to_string(),
            kind: QuestionKind::Requirement { index },
        });
    }
    out
}

/// A text answer, trimmed, or None when blank.
fn answered(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Checks answers against the rules. `NotEligible` when any rule fails (even if others are
/// unanswered); `Incomplete` when none fails but some are unanswered; `Eligible` otherwise.
/// A budget exactly at the maximum is eligible. Answers to questions the solicitation does not
/// ask are ignored.
pub fn check(e: &Eligibility, a: &EligibilityAnswers) -> EligibilityResult {
    let mut reasons = Vec::new();
    let mut missing = Vec::new();
    let mut fail = |question: &str, message: String| {
        reasons.push(Reason {
            question: question.to_string(),
            message,
        })
    };

    if !e.applicant_types.is_empty() {
        match a.applicant_type {
            None => missing.push(APPLICANT_TYPE.to_string()),
            Some(t) if !e.applicant_types.contains(&t) => fail(
                APPLICANT_TYPE,
                format!(
                    "This solicitation accepts applications from: {}. You chose {}.",
                    labels(&e.applicant_types),
                    t.label()
                ),
            ),
            Some(_) => {}
        }
    }

    if let Some(max) = e.max_annual_budget {
        match a.annual_budget.filter(|b| !b.is_negative()) {
            None => missing.push(ANNUAL_BUDGET.to_string()),
            Some(b) if b > max => fail(
                ANNUAL_BUDGET,
                format!(
                    "Your annual budget of {} is above this solicitation's limit of {}.",
                    dollars(b),
                    dollars(max)
                ),
            ),
            Some(_) => {}
        }
    }

    let states = allowed_states(e);
    let counties = allowed_counties(e);
    if !states.is_empty() {
        match answered(&a.state) {
            None => missing.push(STATE.to_string()),
            // With a county list the county decides; the state is only asked.
            Some(s) if counties.is_empty() && !states.contains(&normalize_state(s)) => fail(
                STATE,
                format!(
                    "This solicitation is for work in: {}{}. You said {}.",
                    states.join(", "),
                    area_note(e),
                    normalize_state(s)
                ),
            ),
            Some(_) => {}
        }
    }
    if !counties.is_empty() {
        match answered(&a.county_fips) {
            None => missing.push(COUNTY_FIPS.to_string()),
            Some(c) if !counties.iter().any(|allowed| allowed == c) => {
                let hint = if c.len() == 5 && c.chars().all(|ch| ch.is_ascii_digit()) {
                    ""
                } else {
                    " County codes have 5 digits, such as 11001 for the District of Columbia."
                };
                fail(
                    COUNTY_FIPS,
                    format!(
                        "This solicitation is for work in the counties {}{}. You said {}.{hint}",
                        counties.join(", "),
                        area_note(e),
                        c
                    ),
                )
            }
            Some(_) => {}
        }
    }

    if e.intermediary_only {
        match a.is_intermediary {
            None => missing.push(IS_INTERMEDIARY.to_string()),
            Some(false) => fail(
                IS_INTERMEDIARY,
                "Only intermediary organizations, which pass funding on to smaller grassroots groups as \
                 subgrants, may apply to this solicitation. You said your organization does not."
                    .to_string(),
            ),
            Some(true) => {}
        }
    }

    for (index, requirement) in e.other_requirements.iter().enumerate() {
        match a.requirements.get(index).copied().flatten() {
            None => missing.push(requirement_key(index)),
            Some(false) => fail(
                &requirement_key(index),
                format!(
                    "This solicitation requires: “{}” You said your organization does not meet it.",
                    requirement.trim()
                ),
            ),
            Some(true) => {}
        }
    }

    let verdict = if !reasons.is_empty() {
        Verdict::NotEligible
    } else if !missing.is_empty() {
        Verdict::Incomplete
    } else {
        Verdict::Eligible
    };
    EligibilityResult {
        verdict,
        reasons,
        missing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use granary_solicitations::Geography;

    fn m(s: &str) -> Money {
        s.parse().unwrap()
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    /// A small-grants solicitation with every kind of rule.
    fn strict() -> Eligibility {
        Eligibility {
            applicant_types: vec![ApplicantType::NonprofitWith501c3, ApplicantType::FiscallySponsoredGroup],
            max_annual_budget: Some(m("1000000")),
            geography: Geography {
                states: strings(&["dc", " MD "]),
                county_fips: vec![],
                description: String::new(),
            },
            intermediary_only: true,
            other_requirements: strings(&[
                "Has served Wards 7 or 8 for at least two years.",
                "Is led by people with lived experience of the justice system.",
            ]),
        }
    }

    fn all_yes() -> EligibilityAnswers {
        EligibilityAnswers {
            applicant_type: Some(ApplicantType::FiscallySponsoredGroup),
            annual_budget: Some(m("250000")),
            state: Some("DC".to_string()),
            county_fips: None,
            is_intermediary: Some(true),
            requirements: vec![Some(true), Some(true)],
        }
    }

    fn keys(r: &EligibilityResult) -> Vec<&str> {
        r.reasons.iter().map(|r| r.question.as_str()).collect()
    }

    // --- questions --------------------------------------------------------------------------

    #[test]
    fn anyone_may_apply_means_no_questions_and_eligible() {
        let e = Eligibility::default();
        assert!(questions(&e).is_empty());
        let r = check(&e, &EligibilityAnswers::default());
        assert_eq!(r.verdict, Verdict::Eligible);
        assert!(r.reasons.is_empty() && r.missing.is_empty());
        // answers to questions not asked are ignored
        let r = check(
            &e,
            &EligibilityAnswers {
                applicant_type: Some(ApplicantType::ForProfitSmallBusiness),
                is_intermediary: Some(false),
                ..EligibilityAnswers::default()
            },
        );
        assert_eq!(r.verdict, Verdict::Eligible);
    }

    #[test]
    fn questions_follow_the_rules_in_order() {
        let q = questions(&strict());
        let ks: Vec<&str> = q.iter().map(|q| q.key.as_str()).collect();
        assert_eq!(
            ks,
            vec![
                "applicant_type",
                "annual_budget",
                "state",
                "is_intermediary",
                "requirements[0]",
                "requirements[1]"
            ]
        );
        assert_eq!(
            q[0].kind,
            QuestionKind::ApplicantType {
                options: ApplicantType::ALL.to_vec()
            }
        );
        assert_eq!(
            q[0].help,
            "This solicitation accepts applications from: Nonprofit with 501(c)(3) status, Community group with \
             a fiscal sponsor."
        );
        assert_eq!(q[1].kind, QuestionKind::AnnualBudget { max: m("1000000") });
        assert!(q[1].help.contains("$1,000,000.00 or less"));
        assert_eq!(
            q[2].kind,
            QuestionKind::State {
                allowed: strings(&["DC", "MD"])
            }
        );
        assert_eq!(q[3].kind, QuestionKind::Intermediary);
        assert_eq!(q[5].kind, QuestionKind::Requirement { index: 1 });
        assert!(
            q[5].prompt
                .contains("“Is led by people with lived experience of the justice system.”")
        );
        assert!(q.iter().all(|q| !q.prompt.is_empty() && !q.help.is_empty()));
    }

    #[test]
    fn counties_alone_ask_only_for_the_county() {
        let e = Eligibility {
            geography: Geography {
                states: vec![],
                county_fips: strings(&[" 11001 "]),
                description: "the District of Columbia".to_string(),
            },
            ..Eligibility::default()
        };
        let q = questions(&e);
        assert_eq!(q.len(), 1);
        assert_eq!(q[0].key, "county_fips");
        assert_eq!(
            q[0].kind,
            QuestionKind::County {
                allowed: strings(&["11001"])
            }
        );
        assert!(q[0].help.contains("11001 (the District of Columbia)"));
    }

    #[test]
    fn states_and_counties_ask_both() {
        let e = Eligibility {
            geography: Geography {
                states: strings(&["MD"]),
                county_fips: strings(&["24031", "24033"]),
                description: String::new(),
            },
            ..Eligibility::default()
        };
        let ks: Vec<String> = questions(&e).into_iter().map(|q| q.key).collect();
        assert_eq!(ks, strings(&["state", "county_fips"]));
    }

    #[test]
    fn questions_serialize_with_a_type_tag() {
        let json = serde_json::to_value(questions(&strict())).unwrap();
        assert_eq!(json[0]["kind"]["type"], "applicant_type");
        assert_eq!(json[0]["kind"]["options"][0], "non_profit_with_501c3");
        assert_eq!(json[1]["kind"]["type"], "annual_budget");
        assert_eq!(json[1]["kind"]["max"], "1000000.00");
        assert_eq!(json[3]["kind"]["type"], "intermediary");
        assert_eq!(json[4]["kind"]["type"], "requirement");
        assert_eq!(json[4]["kind"]["index"], 0);
        let r = serde_json::to_value(check(&strict(), &EligibilityAnswers::default())).unwrap();
        assert_eq!(r["verdict"], "incomplete");
    }

    #[test]
    fn answers_deserialize_from_a_partial_form() {
        let a: EligibilityAnswers =
            serde_json::from_str(r#"{"applicant_type":"fiscally_sponsored_group","annual_budget":"250000"}"#).unwrap();
        assert_eq!(a.applicant_type, Some(ApplicantType::FiscallySponsoredGroup));
        assert_eq!(a.annual_budget, Some(m("250000")));
        assert_eq!(a.state, None);
        assert!(a.requirements.is_empty());
    }

    // --- verdicts ---------------------------------------------------------------------------

    #[test]
    fn all_rules_met_is_eligible() {
        let r = check(&strict(), &all_yes());
        assert_eq!(r.verdict, Verdict::Eligible, "{r:?}");
        assert!(r.reasons.is_empty() && r.missing.is_empty());
    }

    #[test]
    fn nothing_answered_is_incomplete_and_lists_every_question() {
        let r = check(&strict(), &EligibilityAnswers::default());
        assert_eq!(r.verdict, Verdict::Incomplete);
        assert!(r.reasons.is_empty());
        let expected: Vec<String> = questions(&strict()).into_iter().map(|q| q.key).collect();
        assert_eq!(r.missing, expected);
    }

    #[test]
    fn a_failed_rule_is_not_eligible_even_with_questions_unanswered() {
        let a = EligibilityAnswers {
            applicant_type: Some(ApplicantType::ForProfitSmallBusiness),
            ..EligibilityAnswers::default()
        };
        let r = check(&strict(), &a);
        assert_eq!(r.verdict, Verdict::NotEligible);
        assert_eq!(keys(&r), vec!["applicant_type"]);
        assert_eq!(r.missing.len(), 5, "the unanswered ones are still listed: {r:?}");
    }

    #[test]
    fn wrong_applicant_type_names_the_accepted_ones() {
        let a = EligibilityAnswers {
            applicant_type: Some(ApplicantType::ForProfitSmallBusiness),
            ..all_yes()
        };
        let r = check(&strict(), &a);
        assert_eq!(r.verdict, Verdict::NotEligible);
        assert_eq!(
            r.reasons,
            vec![Reason {
                question: "applicant_type".to_string(),
                message: "This solicitation accepts applications from: Nonprofit with 501(c)(3) status, Community \
                          group with a fiscal sponsor. You chose Small business."
                    .to_string(),
            }]
        );
    }

    #[test]
    fn budget_exactly_at_the_limit_is_eligible_and_a_cent_over_is_not() {
        let at = EligibilityAnswers {
            annual_budget: Some(m("1000000")),
            ..all_yes()
        };
        assert_eq!(check(&strict(), &at).verdict, Verdict::Eligible);

        let over = EligibilityAnswers {
            annual_budget: Some(m("1000000.01")),
            ..all_yes()
        };
        let r = check(&strict(), &over);
        assert_eq!(r.verdict, Verdict::NotEligible);
        assert_eq!(
            r.reasons[0].message,
            "Your annual budget of $1,000,000.01 is above this solicitation's limit of $1,000,000.00."
        );

        let big = EligibilityAnswers {
            annual_budget: Some(m("2400000")),
            ..all_yes()
        };
        assert_eq!(
            check(&strict(), &big).reasons[0].message,
            "Your annual budget of $2,400,000.00 is above this solicitation's limit of $1,000,000.00."
        );
    }

    #[test]
    fn a_zero_budget_is_an_answer_and_a_negative_one_is_not() {
        let zero = EligibilityAnswers {
            annual_budget: Some(Money::ZERO),
            ..all_yes()
        };
        assert_eq!(check(&strict(), &zero).verdict, Verdict::Eligible);
        let negative = EligibilityAnswers {
            annual_budget: Some(m("-1")),
            ..all_yes()
        };
        let r = check(&strict(), &negative);
        assert_eq!(r.verdict, Verdict::Incomplete);
        assert_eq!(r.missing, strings(&["annual_budget"]));
    }

    #[test]
    fn states_compare_trimmed_and_case_insensitively() {
        for s in ["dc", " Md ", "DC"] {
            let a = EligibilityAnswers {
                state: Some(s.to_string()),
                ..all_yes()
            };
            assert_eq!(check(&strict(), &a).verdict, Verdict::Eligible, "{s}");
        }
        let blank = EligibilityAnswers {
            state: Some("  ".to_string()),
            ..all_yes()
        };
        let r = check(&strict(), &blank);
        assert_eq!(r.verdict, Verdict::Incomplete);
        assert_eq!(r.missing, strings(&["state"]));
    }

    #[test]
    fn a_state_outside_the_list_is_not_eligible() {
        let mut e = strict();
        e.geography.description = "the District of Columbia and Maryland".to_string();
        let a = EligibilityAnswers {
            state: Some(" va".to_string()),
            ..all_yes()
        };
        let r = check(&e, &a);
        assert_eq!(r.verdict, Verdict::NotEligible);
        assert_eq!(
            r.reasons,
            vec![Reason {
                question: "state".to_string(),
                message: "This solicitation is for work in: DC, MD (the District of Columbia and Maryland). You said \
                          VA."
                .to_string(),
            }]
        );
    }

    #[test]
    fn with_a_county_list_the_county_decides() {
        let e = Eligibility {
            geography: Geography {
                states: strings(&["DC", "MD"]),
                county_fips: strings(&["11001", "24033"]),
                description: String::new(),
            },
            ..Eligibility::default()
        };
        let answer = |state: Option<&str>, county: Option<&str>| EligibilityAnswers {
            state: state.map(str::to_string),
            county_fips: county.map(str::to_string),
            ..EligibilityAnswers::default()
        };
        assert_eq!(check(&e, &answer(Some("MD"), Some("24033"))).verdict, Verdict::Eligible);
        assert_eq!(
            check(&e, &answer(Some("dc"), Some(" 11001 "))).verdict,
            Verdict::Eligible
        );

        let r = check(&e, &answer(Some("MD"), Some("24031")));
        assert_eq!(r.verdict, Verdict::NotEligible);
        assert_eq!(
            r.reasons,
            vec![Reason {
                question: "county_fips".to_string(),
                message: "This solicitation is for work in the counties 11001, 24033. You said 24031.".to_string(),
            }]
        );

        // both questions are asked, so both must be answered
        let r = check(&e, &answer(None, Some("11001")));
        assert_eq!(r.verdict, Verdict::Incomplete);
        assert_eq!(r.missing, strings(&["state"]));
        let r = check(&e, &answer(Some("DC"), None));
        assert_eq!(r.verdict, Verdict::Incomplete);
        assert_eq!(r.missing, strings(&["county_fips"]));
    }

    #[test]
    fn a_malformed_county_code_is_explained() {
        let e = Eligibility {
            geography: Geography {
                states: vec![],
                county_fips: strings(&["11001"]),
                description: String::new(),
            },
            ..Eligibility::default()
        };
        let r = check(
            &e,
            &EligibilityAnswers {
                county_fips: Some("1101".to_string()),
                ..EligibilityAnswers::default()
            },
        );
        assert_eq!(r.verdict, Verdict::NotEligible);
        assert_eq!(
            r.reasons[0].message,
            "This solicitation is for work in the counties 11001. You said 1101. County codes have 5 digits, such \
             as 11001 for the District of Columbia."
        );
    }

    #[test]
    fn only_intermediaries_may_apply_when_so_limited() {
        let a = EligibilityAnswers {
            is_intermediary: Some(false),
            ..all_yes()
        };
        let r = check(&strict(), &a);
        assert_eq!(r.verdict, Verdict::NotEligible);
        assert_eq!(keys(&r), vec!["is_intermediary"]);
        assert!(r.reasons[0].message.starts_with("Only intermediary organizations"));

        let mut open = strict();
        open.intermediary_only = false;
        assert_eq!(check(&open, &a).verdict, Verdict::Eligible);
    }

    #[test]
    fn a_requirement_answered_no_is_quoted() {
        let a = EligibilityAnswers {
            requirements: vec![Some(true), Some(false)],
            ..all_yes()
        };
        let r = check(&strict(), &a);
        assert_eq!(r.verdict, Verdict::NotEligible);
        assert_eq!(
            r.reasons,
            vec![Reason {
                question: "requirements[1]".to_string(),
                message: "This solicitation requires: “Is led by people with lived experience of the justice \
                          system.” You said your organization does not meet it."
                    .to_string(),
            }]
        );
    }

    #[test]
    fn requirement_answers_missing_or_short_are_missing() {
        for requirements in [vec![], vec![Some(true)], vec![Some(true), None]] {
            let a = EligibilityAnswers {
                requirements,
                ..all_yes()
            };
            let r = check(&strict(), &a);
            assert_eq!(r.verdict, Verdict::Incomplete);
            assert!(r.missing.contains(&"requirements[1]".to_string()), "{r:?}");
        }
        // extra answers are ignored
        let a = EligibilityAnswers {
            requirements: vec![Some(true), Some(true), Some(false)],
            ..all_yes()
        };
        assert_eq!(check(&strict(), &a).verdict, Verdict::Eligible);
    }

    #[test]
    fn every_failed_rule_gives_its_own_reason() {
        let a = EligibilityAnswers {
            applicant_type: Some(ApplicantType::GovernmentState),
            annual_budget: Some(m("5000000")),
            state: Some("CA".to_string()),
            county_fips: None,
            is_intermediary: Some(false),
            requirements: vec![Some(false), None],
        };
        let r = check(&strict(), &a);
        assert_eq!(r.verdict, Verdict::NotEligible);
        assert_eq!(
            keys(&r),
            vec![
                "applicant_type",
                "annual_budget",
                "state",
                "is_intermediary",
                "requirements[0]"
            ]
        );
        assert_eq!(r.missing, strings(&["requirements[1]"]));
    }
}
