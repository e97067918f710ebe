//! A complete application for any solicitation, made from its own rules: every eligibility
//! question answered so that it passes, every narrative question answered, one budget line
//! inside the award range. The demo seed uses it so program officers have something to look
//! at, and the tests and the deadline benchmark use it to make many valid applications.

use granary_core::Money;
use granary_solicitations::Solicitation;
use rust_decimal::Decimal;

use crate::budget::{BudgetCategory, BudgetLine, IndirectRate};
use crate::eligibility::{self, QuestionKind};
use crate::model::{ApplicationContent, ServiceArea};

/// A complete application to `s` titled `title`. It claims no priority consideration and
/// requests the award floor (or half the ceiling when there is no floor). Required
/// documents are not included: they are uploaded separately.
pub fn complete_content(s: &Solicitation, title: &str) -> ApplicationContent {
    let c = &s.content;
    let mut out = ApplicationContent {
        project_title: title.to_string(),
        project_abstract: format!("{title}: a neighborhood project answering {}.", c.number),
        program_areas: c.program_areas.iter().take(1).copied().collect(),
        populations_served: vec!["Young adults at highest risk of violence".to_string()],
        service_area: ServiceArea {
            states: c.eligibility.geography.states.iter().take(1).cloned().collect(),
            county_fips: c.eligibility.geography.county_fips.iter().take(1).cloned().collect(),
            description: "The neighborhoods named in the narrative.".to_string(),
        },
        ..Default::default()
    };
    if out.program_areas.is_empty() {
        out.program_areas.push(granary_solicitations::ProgramArea::Prevention);
    }
    for q in &c.questions {
        let answer: String = format!("Our answer to “{}”.", q.prompt)
            .chars()
            .take(q.max_chars as usize)
            .collect();
        out.answers.insert(q.key.clone(), answer);
    }
    let e = &c.eligibility;
    for q in eligibility::questions(e) {
        match q.kind {
            QuestionKind::ApplicantType { .. } => out.eligibility.applicant_type = e.applicant_types.first().copied(),
            QuestionKind::AnnualBudget { max } => {
                out.eligibility.annual_budget = Some(Money::from_cents(max.cents() / 2).unwrap_or(max));
            }
            QuestionKind::State { allowed } => out.eligibility.state = allowed.first().cloned(),
            QuestionKind::County { allowed } => out.eligibility.county_fips = allowed.first().cloned(),
            QuestionKind::Intermediary => out.eligibility.is_intermediary = Some(true),
            QuestionKind::Requirement { index } => {
                if out.eligibility.requirements.len() <= index {
                    out.eligibility.requirements.resize(index + 1, None);
                }
                out.eligibility.requirements[index] = Some(true);
            }
        }
    }
    let request = c
        .funding
        .award_floor
        .unwrap_or_else(|| Money::from_cents(c.funding.award_ceiling.cents() / 2).unwrap_or(c.funding.award_ceiling));
    out.budget.lines.push(BudgetLine {
        category: BudgetCategory::Personnel,
        description: "Outreach workers' wages".to_string(),
        quantity: Decimal::ONE,
        unit_cost: request,
        ..Default::default()
    });
    out.budget.indirect = IndirectRate::None;
    out.budget.justification = "Wages for the people who do the work.".to_string();
    out
}
