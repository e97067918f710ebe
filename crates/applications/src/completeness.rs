//! The completeness check: every missing or invalid item of an application, each named by
//! the field a form can link to. Submission is refused while this list is not empty; the
//! draft page shows it at any time.

use granary_core::error::FieldError;
use granary_solicitations::{Establishment, Solicitation};

use crate::budget::{self, BudgetSummary, IndirectRate};
use crate::eligibility::{self, Verdict};
use crate::model::*;

fn problem(out: &mut Vec<FieldError>, field: impl Into<String>, message: impl Into<String>) {
    out.push(FieldError {
        field: field.into(),
        message: message.into(),
    });
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

fn too_long(out: &mut Vec<FieldError>, field: &str, what: &str, text: &str, max: usize) {
    let n = chars(text);
    if n > max {
        problem(
            out,
            field,
            format!(
                "{what} is {n} characters long; the limit is {max}. Shorten it by {}.",
                n - max
            ),
        );
    }
}

/// Every problem that stands between this application and submission, for callers that
/// already hold the solicitation and the application's documents; the budget is summed here.
pub fn check(
    app: &ApplicationContent,
    solicitation: &Solicitation,
    documents: &[ApplicationDocument],
) -> Vec<FieldError> {
    let summary = budget::summarize(&app.budget).ok();
    problems(app, solicitation, documents, summary.as_ref())
}

/// Every problem that stands between this application and submission, in the order the
/// application's page shows its sections. `summary` is the budget as computed (None when it
/// could not be, which is itself reported).
pub fn problems(
    app: &ApplicationContent,
    solicitation: &Solicitation,
    documents: &[ApplicationDocument],
    summary: Option<&BudgetSummary>,
) -> Vec<FieldError> {
    let mut out = Vec::new();
    let s = &solicitation.content;

    // Eligibility.
    let result = eligibility::check(&s.eligibility, &app.eligibility);
    match result.verdict {
        Verdict::Eligible => {}
        Verdict::NotEligible => {
            for r in result.reasons {
                problem(&mut out, format!("eligibility.{}", r.question), r.message);
            }
        }
        Verdict::Incomplete => {
            for key in result.missing {
                problem(
                    &mut out,
                    format!("eligibility.{key}"),
                    "answer this eligibility question",
                );
            }
        }
    }

    // The project.
    if app.project_title.trim().is_empty() {
        problem(&mut out, "project_title", "give the project a title");
    }
    too_long(
        &mut out,
        "project_title",
        "The title",
        &app.project_title,
        TITLE_MAX_CHARS,
    );
    if app.project_abstract.trim().is_empty() {
        problem(&mut out, "abstract", "write a short abstract of the project");
    }
    too_long(
        &mut out,
        "abstract",
        "The abstract",
        &app.project_abstract,
        ABSTRACT_MAX_CHARS,
    );
    if app.program_areas.is_empty() {
        problem(&mut out, "program_areas", "choose at least one program area");
    }
    for area in &app.program_areas {
        if !s.program_areas.is_empty() && !s.program_areas.contains(area) {
            problem(
                &mut out,
                "program_areas",
                format!("this solicitation does not fund {}", area.label()),
            );
        }
    }
    if app.populations_served.iter().all(|p| p.trim().is_empty()) {
        problem(
            &mut out,
            "populations_served",
            "say which populations the project serves",
        );
    }
    let area = &app.service_area;
    if area.states.is_empty() && area.county_fips.is_empty() && area.description.trim().is_empty() {
        problem(&mut out, "service_area", "say where the project works");
    }

    // The narrative questions.
    for q in &s.questions {
        let field = format!("answers.{}", q.key);
        let answer = app.answers.get(&q.key).map(String::as_str).unwrap_or("");
        if answer.trim().is_empty() {
            if q.required {
                problem(&mut out, field, format!("answer “{}”", q.prompt));
            }
            continue;
        }
        too_long(&mut out, &field, "This answer", answer, q.max_chars as usize);
    }

    // Priority considerations the applicant claims.
    for p in &s.priority_considerations {
        let claimed = app.priorities.get(&p.key).is_some_and(|c| c.claimed);
        if let (true, Establishment::Documented { document }) = (claimed, &p.established_by) {
            let slot = DocumentSlot::PriorityEvidence(p.key.clone());
            if !documents.iter().any(|d| d.slot == slot) {
                problem(
                    &mut out,
                    format!("documents.{}", slot.as_string()),
                    format!("upload {document} to claim “{}”, or withdraw the claim", p.name),
                );
            }
        }
    }

    // Required documents.
    for d in s.required_documents.iter().filter(|d| d.required) {
        let slot = DocumentSlot::Required(d.key.clone());
        if !documents.iter().any(|x| x.slot == slot) {
            problem(
                &mut out,
                format!("documents.{}", slot.as_string()),
                format!("upload the {}", d.name),
            );
        }
    }

    // The budget.
    match summary {
        Some(summary) => out.extend(budget::problems(&app.budget, summary, &s.funding)),
        None => problem(&mut out, "budget.total", "the budget's amounts are too large to add up"),
    }
    if matches!(app.budget.indirect, IndirectRate::Negotiated { .. })
        && !documents.iter().any(|d| d.slot == DocumentSlot::IndirectRateAgreement)
    {
        problem(
            &mut out,
            "documents.indirect_rate_agreement",
            "upload your negotiated indirect cost rate agreement, or use the de minimis rate",
        );
    }
    out
}
