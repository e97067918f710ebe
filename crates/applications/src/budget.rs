//! An application's budget: lines in the federal cost categories (the SF-424A object classes),
//! their totals, modified total direct costs (MTDC) and the indirect costs the rate allows, and
//! the problems an applicant must fix before submitting. Pure arithmetic on exact decimals; no
//! database, no floating point.
//!
//! Rounding, in one place each:
//! - a line's amount is quantity × unit cost rounded to the cent, half away from zero (the
//!   usual rule for currency, the same as [`Money::round_from`]); every other sum is exact;
//! - the indirect cap is rate × MTDC rounded *down* to the cent, so it never exceeds the rule.

use std::collections::HashMap;

use granary_core::Money;
use granary_core::error::FieldError;
use granary_solicitations::Funding;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// The federal budget categories (SF-424A object classes) a line can be in. Indirect costs are
/// not a line category: they follow from [`IndirectRate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BudgetCategory {
    Personnel,
    FringeBenefits,
    Travel,
    Equipment,
    Supplies,
    Contractual,
    Subawards,
    Other,
}

impl BudgetCategory {
    /// Every category, in the order of the SF-424A form.
    pub const ALL: &'static [BudgetCategory] = &[
        BudgetCategory::Personnel,
        BudgetCategory::FringeBenefits,
        BudgetCategory::Travel,
        BudgetCategory::Equipment,
        BudgetCategory::Supplies,
        BudgetCategory::Contractual,
        BudgetCategory::Subawards,
        BudgetCategory::Other,
    ];

    /// The value used in URLs, JSON and the database (the same as serde's).
    pub fn slug(&self) -> &'static str {
        match self {
            BudgetCategory::Personnel => "personnel",
            BudgetCategory::FringeBenefits => "fringe_benefits",
            BudgetCategory::Travel => "travel",
            BudgetCategory::Equipment => "equipment",
            BudgetCategory::Supplies => "supplies",
            BudgetCategory::Contractual => "contractual",
            BudgetCategory::Subawards => "subawards",
            BudgetCategory::Other => "other",
        }
    }

    /// The plain-language name shown to people.
    pub fn label(&self) -> &'static str {
        match self {
            BudgetCategory::Personnel => "Personnel",
            BudgetCategory::FringeBenefits => "Fringe benefits",
            BudgetCategory::Travel => "Travel",
            BudgetCategory::Equipment => "Equipment",
            BudgetCategory::Supplies => "Supplies",
            BudgetCategory::Contractual => "Contractual",
            BudgetCategory::Subawards => "Subawards",
            BudgetCategory::Other => "Other",
        }
    }

    /// The category whose slug is `s` (surrounding spaces ignored).
    pub fn parse(s: &str) -> Option<BudgetCategory> {
        let s = s.trim();
        Self::ALL.iter().copied().find(|c| c.slug() == s)
    }
}

/// One line of a budget: so many units at so much each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BudgetLine {
    pub category: BudgetCategory,
    pub description: String,
    /// How many units (hours, months, trips, items, FTE fraction such as 0.5). At most 2
    /// decimal places.
    pub quantity: Decimal,
    pub unit_cost: Money,
    /// For subawards: who receives it. MTDC counts only the first $50,000 of each subaward
    /// (lines with the same recipient, compared trimmed and case-insensitively, are one
    /// subaward).
    pub recipient: String,
    /// Excluded from MTDC although not equipment or a subaward: rental costs, participant
    /// support, tuition remission, scholarships, patient care (2 CFR 200.1). The applicant
    /// ticks it.
    pub mtdc_excluded: bool,
}

impl Default for BudgetLine {
    fn default() -> Self {
        BudgetLine {
            category: BudgetCategory::Personnel,
            description: String::new(),
            quantity: Decimal::ONE,
            unit_cost: Money::ZERO,
            recipient: String::new(),
            mtdc_excluded: false,
        }
    }
}

impl BudgetLine {
    /// Quantity × unit cost, rounded to the cent half away from zero (0.5 × $0.01 = $0.01;
    /// 1.5 × $0.03 = $0.05). With a quantity of at most 2 decimals the exact product has at
    /// most 4, so this is the only rounding a line ever sees.
    pub fn amount(&self) -> Result<Money, BudgetError> {
        let exact = self
            .quantity
            .checked_mul(self.unit_cost.as_decimal())
            .ok_or(BudgetError::AmountTooLarge)?;
        Money::round_from(exact).map_err(|_| BudgetError::AmountTooLarge)
    }
}

/// Which indirect-cost rate an applicant claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum IndirectRate {
    /// No indirect costs.
    #[default]
    None,
    /// The de minimis rate: up to 15% of MTDC, for organizations without a negotiated rate.
    DeMinimis,
    /// A federally negotiated rate, in percent of MTDC (e.g. 22.5); its agreement must be
    /// uploaded.
    Negotiated { rate_percent: Decimal },
}

impl IndirectRate {
    /// The rate in percent of MTDC: 0, 15, or the negotiated rate as entered.
    pub fn percent(&self) -> Decimal {
        match self {
            IndirectRate::None => Decimal::ZERO,
            IndirectRate::DeMinimis => DE_MINIMIS_PERCENT,
            IndirectRate::Negotiated { rate_percent } => *rate_percent,
        }
    }
}

/// A budget as the applicant writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Budget {
    pub lines: Vec<BudgetLine>,
    pub indirect: IndirectRate,
    /// The indirect costs requested; None means "the most the rate allows" (the cap).
    pub indirect_requested: Option<Money>,
    /// A short narrative justifying the costs.
    pub justification: String,
}

/// The de minimis indirect rate, in percent of MTDC (2 CFR 200.414(f), 2024 revision).
pub const DE_MINIMIS_PERCENT: Decimal = Decimal::from_parts(15, 0, 0, false, 0);

/// Equipment means an item costing this much or more a unit (2 CFR 200.1, 2024 revision):
/// $10,000, in cents.
pub const EQUIPMENT_UNIT_THRESHOLD_CENTS: i64 = 1_000_000;

/// MTDC counts only this much of each subaward (2 CFR 200.1, 2024 revision): $50,000, in cents.
pub const SUBAWARD_MTDC_PORTION_CENTS: i64 = 5_000_000;

/// Equipment means an item costing this much or more a unit: $10,000.
pub fn equipment_unit_threshold() -> Money {
    Money::from_cents(EQUIPMENT_UNIT_THRESHOLD_CENTS).expect("$10,000 is a valid amount")
}

/// The part of each subaward MTDC counts: the first $50,000.
pub fn subaward_mtdc_portion() -> Money {
    Money::from_cents(SUBAWARD_MTDC_PORTION_CENTS).expect("$50,000 is a valid amount")
}

/// One category's total.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CategoryTotal {
    pub category: BudgetCategory,
    pub label: &'static str,
    pub total: Money,
}

/// A budget's totals, computed exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BudgetSummary {
    /// All eight categories in order, zeros included.
    pub categories: Vec<CategoryTotal>,
    pub direct_total: Money,
    /// Modified total direct costs: direct total minus equipment, minus each subaward's part
    /// beyond $50,000, minus lines marked `mtdc_excluded`.
    pub mtdc: Money,
    /// Each exclusion from the direct total to MTDC, in words with its amount ("Equipment",
    /// "Subaward to X beyond the first $50,000", "Excluded: <description>"), so a page can
    /// show the arithmetic. Their sum is `direct_total - mtdc`; none is zero or negative.
    pub mtdc_exclusions: Vec<(String, Money)>,
    /// 0, 15, or the negotiated rate.
    pub indirect_rate_percent: Decimal,
    /// The most indirect cost the rate allows: rate × MTDC, rounded DOWN to the cent (never
    /// above the rule), and never below zero.
    pub indirect_cap: Money,
    /// What is requested: `indirect_requested`, or the cap when that is None.
    pub indirect: Money,
    /// `direct_total + indirect`.
    pub total_request: Money,
}

/// Why a budget's totals cannot be computed: only amounts beyond what Granary represents (a
/// trillion dollars), which no real budget reaches.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum BudgetError {
    /// From [`BudgetLine::amount`], which does not know its position.
    #[error("a budget line comes to more than a trillion dollars")]
    AmountTooLarge,
    #[error("budget line {} comes to more than a trillion dollars", .line + 1)]
    LineTooLarge { line: usize },
    #[error("the budget's total comes to more than a trillion dollars")]
    TotalTooLarge,
    #[error("the indirect costs come to more than a trillion dollars")]
    IndirectTooLarge,
}

impl BudgetError {
    /// The error as a field problem a form can show next to the field that causes it.
    pub fn field_error(&self) -> FieldError {
        let field = match self {
            BudgetError::AmountTooLarge => "budget.lines".to_string(),
            BudgetError::LineTooLarge { line } => format!("budget.lines[{line}].unit_cost"),
            BudgetError::TotalTooLarge => "budget.total".to_string(),
            BudgetError::IndirectTooLarge => "budget.indirect".to_string(),
        };
        let message = match self {
            BudgetError::LineTooLarge { line } => format!(
                "Line {} comes to more than a trillion dollars; check the quantity and unit cost",
                line + 1
            ),
            other => format!("{}; check the amounts", capitalize_first(&other.to_string())),
        };
        FieldError { field, message }
    }
}

fn capitalize_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// An amount as people read it in a message, always with cents: `$12,000.00`, `-$5.25`.
pub fn dollars(m: Money) -> String {
    let s = m.display();
    if s.contains('.') { s } else { format!("{s}.00") }
}

/// A percentage as people read it: `15%`, `22.5%`.
pub fn percent(p: Decimal) -> String {
    format!("{}%", p.normalize())
}

/// An amount from whole cents held wide, or `err` when it is out of range.
fn money(cents: i128, err: BudgetError) -> Result<Money, BudgetError> {
    i64::try_from(cents)
        .ok()
        .and_then(|c| Money::from_cents(c).ok())
        .ok_or(err)
}

/// Totals, MTDC and the indirect cap, computed exactly.
///
/// MTDC: equipment lines (by category) are excluded whole; any other line marked
/// `mtdc_excluded` is excluded whole; the remaining Subawards lines are grouped by recipient
/// (trimmed, case-insensitive; lines with no recipient are grouped together, as one unnamed
/// subaward, which never allows more than naming them would) and each group's part beyond
/// $50,000 is excluded. A negative line (which [`problems`] reports) never adds to an
/// exclusion, so MTDC is never above the direct total.
pub fn summarize(budget: &Budget) -> Result<BudgetSummary, BudgetError> {
    // Work in whole cents held wide, so no sum of up-to-a-trillion amounts can overflow; each
    // result is checked back into Money's range.
    let mut amounts: Vec<i128> = Vec::with_capacity(budget.lines.len());
    for (i, line) in budget.lines.iter().enumerate() {
        let a = line.amount().map_err(|_| BudgetError::LineTooLarge { line: i })?;
        amounts.push(i128::from(a.cents()));
    }

    let mut categories = Vec::with_capacity(BudgetCategory::ALL.len());
    for &category in BudgetCategory::ALL {
        let total: i128 = budget
            .lines
            .iter()
            .zip(&amounts)
            .filter(|(l, _)| l.category == category)
            .map(|(_, a)| *a)
            .sum();
        categories.push(CategoryTotal {
            category,
            label: category.label(),
            total: money(total, BudgetError::TotalTooLarge)?,
        });
    }
    let direct: i128 = amounts.iter().sum();
    let direct_total = money(direct, BudgetError::TotalTooLarge)?;

    // Exclusions, each >= 0.
    let mut exclusions: Vec<(String, i128)> = Vec::new();
    let equipment: i128 = budget
        .lines
        .iter()
        .zip(&amounts)
        .filter(|(l, _)| l.category == BudgetCategory::Equipment)
        .map(|(_, a)| (*a).max(0))
        .sum();
    if equipment > 0 {
        exclusions.push(("Equipment".to_string(), equipment));
    }

    // Subawards by recipient, in order of first appearance.
    let mut groups: Vec<(String, i128)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (line, a) in budget.lines.iter().zip(&amounts) {
        if line.category != BudgetCategory::Subawards || line.mtdc_excluded {
            continue;
        }
        let name = line.recipient.trim();
        let key = name.to_lowercase();
        let slot = *index.entry(key).or_insert_with(|| {
            groups.push((name.to_string(), 0));
            groups.len() - 1
        });
        groups[slot].1 += *a;
    }
    for (name, total) in groups {
        let beyond = total - i128::from(SUBAWARD_MTDC_PORTION_CENTS);
        if beyond > 0 {
            let who = if name.is_empty() {
                "an unnamed recipient".to_string()
            } else {
                name
            };
            exclusions.push((format!("Subaward to {who} beyond the first $50,000"), beyond));
        }
    }

    for (line, a) in budget.lines.iter().zip(&amounts) {
        if line.mtdc_excluded && line.category != BudgetCategory::Equipment && *a > 0 {
            let what = line.description.trim();
            let what = if what.is_empty() { line.category.label() } else { what };
            exclusions.push((format!("Excluded: {what}"), *a));
        }
    }

    let excluded: i128 = exclusions.iter().map(|(_, a)| *a).sum();
    let mtdc = money(direct - excluded, BudgetError::TotalTooLarge)?;
    let mtdc_exclusions = exclusions
        .into_iter()
        .map(|(what, a)| Ok((what, money(a, BudgetError::TotalTooLarge)?)))
        .collect::<Result<Vec<_>, BudgetError>>()?;

    let rate = budget.indirect.percent();
    let indirect_cap = indirect_cap(rate, mtdc)?;
    let indirect = budget.indirect_requested.unwrap_or(indirect_cap);
    let total_request = money(direct + i128::from(indirect.cents()), BudgetError::TotalTooLarge)?;

    Ok(BudgetSummary {
        categories,
        direct_total,
        mtdc,
        mtdc_exclusions,
        indirect_rate_percent: rate,
        indirect_cap,
        indirect,
        total_request,
    })
}

/// rate % × MTDC, rounded down to the cent; zero when either is zero or negative.
fn indirect_cap(rate_percent: Decimal, mtdc: Money) -> Result<Money, BudgetError> {
    if rate_percent <= Decimal::ZERO || mtdc.as_decimal() <= Decimal::ZERO {
        return Ok(Money::ZERO);
    }
    // With a rate of at most 2 decimals and MTDC in cents, the product has at most 6 decimals
    // and is exact; the only rounding is the final one, down.
    let exact = mtdc
        .as_decimal()
        .checked_mul(rate_percent)
        .and_then(|d| d.checked_div(Decimal::ONE_HUNDRED))
        .ok_or(BudgetError::IndirectTooLarge)?;
    Money::from_decimal(exact.round_dp_with_strategy(2, RoundingStrategy::ToNegativeInfinity))
        .map_err(|_| BudgetError::IndirectTooLarge)
}

fn line_field(i: usize, name: &str) -> String {
    format!("budget.lines[{i}].{name}")
}

fn problem(field: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

/// Every problem with a budget, for the completeness check, as field errors named so a form
/// can anchor them: `budget.lines[3].unit_cost`, `budget.lines[3].quantity`,
/// `budget.lines[3].description`, `budget.lines[3].category`, `budget.lines[3].recipient`,
/// `budget.indirect`, `budget.indirect_requested`, `budget.total`, `budget.lines` (no lines).
/// `summary` is `summarize(budget)`. The negotiated-rate agreement is checked elsewhere. An
/// award ceiling of zero means the solicitation has none yet, and is not checked.
pub fn problems(budget: &Budget, summary: &BudgetSummary, funding: &Funding) -> Vec<FieldError> {
    let mut out = Vec::new();
    if budget.lines.is_empty() {
        out.push(problem(
            "budget.lines",
            "Your budget has no lines yet: add a line for each cost, such as staff time, supplies or travel",
        ));
    }
    let threshold = equipment_unit_threshold();
    for (i, line) in budget.lines.iter().enumerate() {
        let n = i + 1;
        if line.description.trim().is_empty() {
            out.push(problem(
                line_field(i, "description"),
                format!("Line {n} needs a description: say what it pays for"),
            ));
        }

        let q = line.quantity;
        let quantity_ok = if q <= Decimal::ZERO {
            out.push(problem(
                line_field(i, "quantity"),
                format!("Line {n}: the quantity must be more than 0 (it is {})", q.normalize()),
            ));
            false
        } else if q.normalize().scale() > 2 {
            out.push(problem(
                line_field(i, "quantity"),
                format!(
                    "Line {n}: the quantity can have at most 2 decimal places, such as 0.5 or 1.25 (it is {})",
                    q.normalize()
                ),
            ));
            false
        } else {
            true
        };

        let cost = line.unit_cost;
        let cost_ok = if cost.is_negative() {
            out.push(problem(
                line_field(i, "unit_cost"),
                format!("Line {n}: the unit cost cannot be negative (it is {})", dollars(cost)),
            ));
            false
        } else {
            true
        };

        if quantity_ok && cost_ok {
            match line.amount() {
                Ok(a) if a.is_zero() => out.push(problem(
                    line_field(i, "unit_cost"),
                    format!("Line {n} comes to $0.00: enter what one unit costs, or remove the line"),
                )),
                Ok(_) => {}
                Err(_) => out.push(BudgetError::LineTooLarge { line: i }.field_error()),
            }
        }

        if cost_ok {
            match line.category {
                BudgetCategory::Equipment if cost < threshold => out.push(problem(
                    line_field(i, "category"),
                    format!(
                        "Line {n}: {} a unit is less than {}; items under $10,000 a unit are supplies, not \
                         equipment. Choose Supplies for this line",
                        dollars(cost),
                        dollars(threshold)
                    ),
                )),
                BudgetCategory::Supplies if cost >= threshold => out.push(problem(
                    line_field(i, "category"),
                    format!(
                        "Line {n}: {} a unit is {} or more, so this item is equipment, not supplies. \
                         Choose Equipment for this line",
                        dollars(cost),
                        dollars(threshold)
                    ),
                )),
                _ => {}
            }
        }

        if line.category == BudgetCategory::Subawards && line.recipient.trim().is_empty() {
            out.push(problem(
                line_field(i, "recipient"),
                format!("Line {n} is a subaward: name the organization that receives it"),
            ));
        }
    }

    if let IndirectRate::Negotiated { rate_percent } = budget.indirect {
        let r = rate_percent;
        if r <= Decimal::ZERO {
            out.push(problem(
                "budget.indirect",
                format!(
                    "Your negotiated indirect rate must be more than 0% (it is {}). If you have no negotiated \
                     rate, choose the de minimis rate of 15% or no indirect costs",
                    percent(r)
                ),
            ));
        } else if r > Decimal::ONE_HUNDRED {
            out.push(problem(
                "budget.indirect",
                format!(
                    "A negotiated indirect rate of {} is more than 100%; enter the rate from your rate agreement",
                    percent(r)
                ),
            ));
        } else if r.normalize().scale() > 2 {
            out.push(problem(
                "budget.indirect",
                format!(
                    "Your negotiated indirect rate can have at most 2 decimal places, as in your rate agreement \
                     (it is {})",
                    percent(r)
                ),
            ));
        }
    }

    if let Some(requested) = budget.indirect_requested {
        if requested.is_negative() {
            out.push(problem(
                "budget.indirect_requested",
                format!("Indirect costs cannot be negative (you entered {})", dollars(requested)),
            ));
        } else if budget.indirect == IndirectRate::None {
            if !requested.is_zero() {
                out.push(problem(
                    "budget.indirect_requested",
                    format!(
                        "You asked for {} in indirect costs but chose no indirect rate. Choose the de minimis \
                         rate of 15% or your negotiated rate, or remove the indirect costs",
                        dollars(requested)
                    ),
                ));
            }
        } else if requested > summary.indirect_cap {
            out.push(problem(
                "budget.indirect_requested",
                format!(
                    "{} is more than your indirect rate allows: {} of your modified total direct costs of {} is {}",
                    dollars(requested),
                    percent(summary.indirect_rate_percent),
                    dollars(summary.mtdc),
                    dollars(summary.indirect_cap)
                ),
            ));
        }
    }

    let total = summary.total_request;
    let ceiling = funding.award_ceiling;
    if !ceiling.is_zero() && total > ceiling {
        out.push(problem(
            "budget.total",
            format!(
                "Your total request of {} is more than the award ceiling of {}",
                dollars(total),
                dollars(ceiling)
            ),
        ));
    }
    if let Some(floor) = funding.award_floor
        && !budget.lines.is_empty()
        && total < floor
    {
        out.push(problem(
            "budget.total",
            format!(
                "Your total request of {} is less than the smallest award this solicitation makes (the award \
                 floor) of {}",
                dollars(total),
                dollars(floor)
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn m(s: &str) -> Money {
        s.parse().unwrap()
    }

    fn line(category: BudgetCategory, description: &str, quantity: Decimal, unit_cost: &str) -> BudgetLine {
        BudgetLine {
            category,
            description: description.to_string(),
            quantity,
            unit_cost: m(unit_cost),
            ..BudgetLine::default()
        }
    }

    fn subaward(recipient: &str, amount: &str) -> BudgetLine {
        BudgetLine {
            recipient: recipient.to_string(),
            ..line(BudgetCategory::Subawards, "Subaward", dec!(1), amount)
        }
    }

    fn budget(lines: Vec<BudgetLine>, indirect: IndirectRate) -> Budget {
        Budget {
            lines,
            indirect,
            ..Budget::default()
        }
    }

    fn funding(ceiling: &str, floor: Option<&str>) -> Funding {
        Funding {
            total_available: m("1000000"),
            award_floor: floor.map(m),
            award_ceiling: m(ceiling),
            ..Funding::default()
        }
    }

    fn problems_of(b: &Budget, f: &Funding) -> Vec<FieldError> {
        problems(b, &summarize(b).unwrap(), f)
    }

    fn fields(p: &[FieldError]) -> Vec<&str> {
        p.iter().map(|e| e.field.as_str()).collect()
    }

    fn message<'a>(p: &'a [FieldError], field: &str) -> &'a str {
        granary_core::error::message_for(p, field).unwrap_or_else(|| panic!("no problem for {field} in {p:?}"))
    }

    /// A budget with no problems under a $250,000 ceiling.
    fn sound_budget() -> Budget {
        budget(
            vec![
                line(
                    BudgetCategory::Personnel,
                    "Outreach coordinator, half time",
                    dec!(0.5),
                    "52000",
                ),
                line(BudgetCategory::FringeBenefits, "Fringe at 25%", dec!(1), "6500"),
                line(BudgetCategory::Travel, "Site visits", dec!(12), "45.50"),
                line(BudgetCategory::Supplies, "Laptops", dec!(2), "1200"),
                line(BudgetCategory::Equipment, "Mobile outreach van", dec!(1), "48000"),
                subaward("Ward 8 Youth Collective", "60000"),
                BudgetLine {
                    mtdc_excluded: true,
                    ..line(BudgetCategory::Other, "Participant stipends", dec!(20), "250")
                },
            ],
            IndirectRate::DeMinimis,
        )
    }

    // --- categories -------------------------------------------------------------------------

    #[test]
    fn category_slugs_match_serde_and_parse_back() {
        assert_eq!(BudgetCategory::ALL.len(), 8);
        for &c in BudgetCategory::ALL {
            assert_eq!(serde_json::to_string(&c).unwrap(), format!("\"{}\"", c.slug()));
            assert_eq!(BudgetCategory::parse(c.slug()), Some(c));
            assert_eq!(BudgetCategory::parse(&format!(" {} ", c.slug())), Some(c));
            assert!(!c.label().is_empty());
        }
        assert_eq!(BudgetCategory::FringeBenefits.slug(), "fringe_benefits");
        assert_eq!(BudgetCategory::FringeBenefits.label(), "Fringe benefits");
        assert_eq!(BudgetCategory::parse("Fringe benefits"), None);
        assert_eq!(BudgetCategory::parse("indirect"), None);
        let mut sorted = BudgetCategory::ALL.to_vec();
        sorted.sort();
        assert_eq!(sorted, BudgetCategory::ALL, "ALL is in declaration (form) order");
    }

    // --- line amounts -----------------------------------------------------------------------

    #[test]
    fn a_new_line_is_one_unit_of_personnel() {
        let l = BudgetLine::default();
        assert_eq!(l.category, BudgetCategory::Personnel);
        assert_eq!(l.quantity, Decimal::ONE);
        assert_eq!(l.amount().unwrap(), Money::ZERO);
        let parsed: BudgetLine = serde_json::from_str("{}").unwrap();
        assert_eq!(parsed, l);
    }

    #[test]
    fn line_amount_is_quantity_times_unit_cost() {
        assert_eq!(
            line(BudgetCategory::Personnel, "x", dec!(0.5), "52000")
                .amount()
                .unwrap(),
            m("26000")
        );
        assert_eq!(
            line(BudgetCategory::Travel, "x", dec!(12), "45.50").amount().unwrap(),
            m("546")
        );
        assert_eq!(
            line(BudgetCategory::Travel, "x", dec!(3.25), "0.10").amount().unwrap(),
            m("0.33")
        ); // 0.325
    }

    #[test]
    fn line_amount_rounds_half_away_from_zero() {
        // 0.33 × 10.05 = 3.3165
        assert_eq!(
            line(BudgetCategory::Other, "x", dec!(0.33), "10.05").amount().unwrap(),
            m("3.32")
        );
        // 1.5 × 0.03 = 0.045: half away from zero gives 0.05 (half-even would give 0.04)
        assert_eq!(
            line(BudgetCategory::Other, "x", dec!(1.5), "0.03").amount().unwrap(),
            m("0.05")
        );
        // 0.5 × 0.01 = 0.005
        assert_eq!(
            line(BudgetCategory::Other, "x", dec!(0.5), "0.01").amount().unwrap(),
            m("0.01")
        );
        // 0.25 × 0.01 = 0.0025 rounds to zero
        assert_eq!(
            line(BudgetCategory::Other, "x", dec!(0.25), "0.01").amount().unwrap(),
            Money::ZERO
        );
        // and symmetrically below zero
        assert_eq!(
            line(BudgetCategory::Other, "x", dec!(-0.5), "0.01").amount().unwrap(),
            m("-0.01")
        );
        assert_eq!(
            line(BudgetCategory::Other, "x", dec!(1.5), "-0.03").amount().unwrap(),
            m("-0.05")
        );
    }

    #[test]
    fn line_amount_beyond_a_trillion_is_an_error_not_a_panic() {
        let l = line(BudgetCategory::Other, "x", dec!(1000), "999999999999");
        assert_eq!(l.amount(), Err(BudgetError::AmountTooLarge));
        let huge = line(BudgetCategory::Other, "x", Decimal::MAX, "999999999999");
        assert_eq!(huge.amount(), Err(BudgetError::AmountTooLarge));
        let b = budget(
            vec![line(BudgetCategory::Other, "ok", dec!(1), "1"), l],
            IndirectRate::None,
        );
        let err = summarize(&b).unwrap_err();
        assert_eq!(err, BudgetError::LineTooLarge { line: 1 });
        assert_eq!(err.field_error().field, "budget.lines[1].unit_cost");
        assert!(
            err.field_error()
                .message
                .starts_with("Line 2 comes to more than a trillion dollars")
        );
    }

    #[test]
    fn totals_beyond_a_trillion_are_an_error() {
        let big = line(BudgetCategory::Other, "x", dec!(1), "600000000000");
        let b = budget(vec![big.clone(), big], IndirectRate::None);
        assert_eq!(summarize(&b), Err(BudgetError::TotalTooLarge));
        assert_eq!(BudgetError::TotalTooLarge.field_error().field, "budget.total");

        let b = Budget {
            indirect_requested: Some(m("999999999999")),
            ..budget(
                vec![line(BudgetCategory::Other, "x", dec!(1), "999999999999")],
                IndirectRate::None,
            )
        };
        assert_eq!(summarize(&b), Err(BudgetError::TotalTooLarge));

        let b = budget(
            vec![line(BudgetCategory::Other, "x", dec!(1), "999999999999")],
            IndirectRate::Negotiated {
                rate_percent: dec!(1000000),
            },
        );
        assert_eq!(summarize(&b), Err(BudgetError::IndirectTooLarge));
        let fe = BudgetError::IndirectTooLarge.field_error();
        assert_eq!(fe.field, "budget.indirect");
        assert_eq!(
            fe.message,
            "The indirect costs come to more than a trillion dollars; check the amounts"
        );
    }

    // --- summary ----------------------------------------------------------------------------

    #[test]
    fn summary_of_a_typical_budget_by_hand() {
        let s = summarize(&sound_budget()).unwrap();
        // personnel 26,000; fringe 6,500; travel 546; supplies 2,400; equipment 48,000;
        // subawards 60,000; other 5,000
        let totals: Vec<(BudgetCategory, Money)> = s.categories.iter().map(|c| (c.category, c.total)).collect();
        assert_eq!(
            totals,
            vec![
                (BudgetCategory::Personnel, m("26000")),
                (BudgetCategory::FringeBenefits, m("6500")),
                (BudgetCategory::Travel, m("546")),
                (BudgetCategory::Equipment, m("48000")),
                (BudgetCategory::Supplies, m("2400")),
                (BudgetCategory::Contractual, Money::ZERO),
                (BudgetCategory::Subawards, m("60000")),
                (BudgetCategory::Other, m("5000")),
            ]
        );
        assert_eq!(s.categories[1].label, "Fringe benefits");
        assert_eq!(s.direct_total, m("148446"));
        // minus equipment 48,000, subaward beyond 50,000 (10,000), stipends 5,000
        assert_eq!(
            s.mtdc_exclusions,
            vec![
                ("Equipment".to_string(), m("48000")),
                (
                    "Subaward to Ward 8 Youth Collective beyond the first $50,000".to_string(),
                    m("10000")
                ),
                ("Excluded: Participant stipends".to_string(), m("5000")),
            ]
        );
        assert_eq!(s.mtdc, m("85446"));
        assert_eq!(s.indirect_rate_percent, dec!(15));
        // 15% of 85,446 = 12,816.90
        assert_eq!(s.indirect_cap, m("12816.90"));
        assert_eq!(s.indirect, m("12816.90"));
        assert_eq!(s.total_request, m("161262.90"));
        assert!(problems(&sound_budget(), &s, &funding("250000", Some("10000"))).is_empty());
    }

    #[test]
    fn an_empty_budget_sums_to_zero() {
        let s = summarize(&Budget::default()).unwrap();
        assert_eq!(s.categories.len(), 8);
        assert!(s.categories.iter().all(|c| c.total.is_zero()));
        assert_eq!(s.direct_total, Money::ZERO);
        assert_eq!(s.mtdc, Money::ZERO);
        assert!(s.mtdc_exclusions.is_empty());
        assert_eq!(s.indirect_rate_percent, Decimal::ZERO);
        assert_eq!(s.indirect_cap, Money::ZERO);
        assert_eq!(s.total_request, Money::ZERO);
    }

    #[test]
    fn indirect_cap_rounds_down_to_the_cent() {
        // 15% of 33,333.33 = 4,999.9995 -> 4,999.99 (half away from zero would give 5,000.00)
        let b = budget(
            vec![line(BudgetCategory::Personnel, "Staff", dec!(1), "33333.33")],
            IndirectRate::DeMinimis,
        );
        let s = summarize(&b).unwrap();
        assert_eq!(s.mtdc, m("33333.33"));
        assert_eq!(s.indirect_cap, m("4999.99"));
        assert_eq!(s.indirect, m("4999.99"));
        assert_eq!(s.total_request, m("38333.32"));
    }

    #[test]
    fn negotiated_rate_of_22_5_percent() {
        let rate = IndirectRate::Negotiated {
            rate_percent: dec!(22.5),
        };
        let s = summarize(&budget(
            vec![line(BudgetCategory::Personnel, "Staff", dec!(1), "100000")],
            rate.clone(),
        ))
        .unwrap();
        assert_eq!(s.indirect_rate_percent, dec!(22.5));
        assert_eq!(s.indirect_cap, m("22500"));
        // 22.5% of 12,345.67 = 2,777.775750 -> 2,777.77
        let s = summarize(&budget(
            vec![line(BudgetCategory::Personnel, "Staff", dec!(1), "12345.67")],
            rate,
        ))
        .unwrap();
        assert_eq!(s.indirect_cap, m("2777.77"));
        // 33.33% of 999.99 = 333.296667 -> 333.29
        let s = summarize(&budget(
            vec![line(BudgetCategory::Personnel, "Staff", dec!(1), "999.99")],
            IndirectRate::Negotiated {
                rate_percent: dec!(33.33),
            },
        ))
        .unwrap();
        assert_eq!(s.indirect_cap, m("333.29"));
    }

    #[test]
    fn no_indirect_rate_means_no_indirect_cap() {
        let s = summarize(&budget(
            vec![line(BudgetCategory::Personnel, "Staff", dec!(1), "1000")],
            IndirectRate::None,
        ))
        .unwrap();
        assert_eq!(s.indirect_rate_percent, Decimal::ZERO);
        assert_eq!(s.indirect_cap, Money::ZERO);
        assert_eq!(s.indirect, Money::ZERO);
        assert_eq!(s.total_request, m("1000"));
    }

    #[test]
    fn requested_indirect_below_the_cap_is_what_is_requested() {
        let b = Budget {
            indirect_requested: Some(m("100")),
            ..budget(
                vec![line(BudgetCategory::Personnel, "Staff", dec!(1), "10000")],
                IndirectRate::DeMinimis,
            )
        };
        let s = summarize(&b).unwrap();
        assert_eq!(s.indirect_cap, m("1500"));
        assert_eq!(s.indirect, m("100"));
        assert_eq!(s.total_request, m("10100"));
        assert!(problems(&b, &s, &funding("250000", None)).is_empty());
        // exactly the cap is allowed too
        let b = Budget {
            indirect_requested: Some(m("1500")),
            ..b
        };
        assert!(problems_of(&b, &funding("250000", None)).is_empty());
    }

    #[test]
    fn equipment_is_excluded_from_mtdc_in_one_sum() {
        let b = budget(
            vec![
                line(BudgetCategory::Personnel, "Staff", dec!(1), "20000"),
                line(BudgetCategory::Equipment, "Van", dec!(1), "40000"),
                line(BudgetCategory::Equipment, "Generators", dec!(2), "10000"),
            ],
            IndirectRate::DeMinimis,
        );
        let s = summarize(&b).unwrap();
        assert_eq!(s.direct_total, m("80000"));
        assert_eq!(s.mtdc_exclusions, vec![("Equipment".to_string(), m("60000"))]);
        assert_eq!(s.mtdc, m("20000"));
        assert_eq!(s.indirect_cap, m("3000"));
    }

    #[test]
    fn a_subaward_of_exactly_50_000_is_all_in_mtdc() {
        let s = summarize(&budget(vec![subaward("Acme Youth", "50000")], IndirectRate::DeMinimis)).unwrap();
        assert!(s.mtdc_exclusions.is_empty());
        assert_eq!(s.mtdc, m("50000"));
        assert_eq!(s.indirect_cap, m("7500"));
    }

    #[test]
    fn a_subaward_one_cent_over_50_000_excludes_that_cent() {
        let s = summarize(&budget(
            vec![subaward("Acme Youth", "50000.01")],
            IndirectRate::DeMinimis,
        ))
        .unwrap();
        assert_eq!(
            s.mtdc_exclusions,
            vec![("Subaward to Acme Youth beyond the first $50,000".to_string(), m("0.01"))]
        );
        assert_eq!(s.direct_total, m("50000.01"));
        assert_eq!(s.mtdc, m("50000"));
    }

    #[test]
    fn lines_to_the_same_recipient_in_any_case_are_one_subaward() {
        let s = summarize(&budget(
            vec![
                subaward("Acme Youth", "30000"),
                line(BudgetCategory::Personnel, "Staff", dec!(1), "1000"),
                subaward("  ACME youth ", "30000"),
            ],
            IndirectRate::DeMinimis,
        ))
        .unwrap();
        assert_eq!(s.direct_total, m("61000"));
        assert_eq!(
            s.mtdc_exclusions,
            vec![(
                "Subaward to Acme Youth beyond the first $50,000".to_string(),
                m("10000")
            )]
        );
        assert_eq!(s.mtdc, m("51000"));
    }

    #[test]
    fn different_recipients_each_get_their_first_50_000() {
        let s = summarize(&budget(
            vec![
                subaward("Acme Youth", "30000"),
                subaward("Anacostia Arts", "30000"),
                subaward("Ward 7 Mentors", "80000"),
            ],
            IndirectRate::DeMinimis,
        ))
        .unwrap();
        assert_eq!(s.direct_total, m("140000"));
        assert_eq!(
            s.mtdc_exclusions,
            vec![(
                "Subaward to Ward 7 Mentors beyond the first $50,000".to_string(),
                m("30000")
            )]
        );
        assert_eq!(s.mtdc, m("110000"));
    }

    #[test]
    fn subaward_lines_without_a_recipient_are_one_unnamed_subaward() {
        let s = summarize(&budget(
            vec![subaward("", "30000"), subaward("  ", "30000")],
            IndirectRate::DeMinimis,
        ))
        .unwrap();
        assert_eq!(
            s.mtdc_exclusions,
            vec![(
                "Subaward to an unnamed recipient beyond the first $50,000".to_string(),
                m("10000")
            )]
        );
        assert_eq!(s.mtdc, m("50000"));
    }

    #[test]
    fn contractual_lines_are_not_subawards() {
        let s = summarize(&budget(
            vec![BudgetLine {
                recipient: "Evaluator LLC".to_string(),
                ..line(BudgetCategory::Contractual, "Evaluation", dec!(1), "90000")
            }],
            IndirectRate::DeMinimis,
        ))
        .unwrap();
        assert!(s.mtdc_exclusions.is_empty());
        assert_eq!(s.mtdc, m("90000"));
    }

    #[test]
    fn lines_marked_excluded_leave_mtdc_whole() {
        let s = summarize(&budget(
            vec![
                line(BudgetCategory::Personnel, "Staff", dec!(1), "40000"),
                BudgetLine {
                    mtdc_excluded: true,
                    ..line(BudgetCategory::Other, "  Office rent ", dec!(12), "1500")
                },
                BudgetLine {
                    mtdc_excluded: true,
                    ..line(BudgetCategory::Other, "", dec!(1), "700")
                },
                // a marked subaward is excluded whole, not just beyond $50,000
                BudgetLine {
                    mtdc_excluded: true,
                    ..subaward("Acme Youth", "20000")
                },
                // equipment marked as excluded is counted once, as equipment
                BudgetLine {
                    mtdc_excluded: true,
                    ..line(BudgetCategory::Equipment, "Van", dec!(1), "30000")
                },
            ],
            IndirectRate::DeMinimis,
        ))
        .unwrap();
        assert_eq!(s.direct_total, m("108700"));
        assert_eq!(
            s.mtdc_exclusions,
            vec![
                ("Equipment".to_string(), m("30000")),
                ("Excluded: Office rent".to_string(), m("18000")),
                ("Excluded: Other".to_string(), m("700")),
                ("Excluded: Subaward".to_string(), m("20000")),
            ]
        );
        assert_eq!(s.mtdc, m("40000"));
        assert_eq!(s.indirect_cap, m("6000"));
    }

    #[test]
    fn negative_lines_never_raise_mtdc_above_the_direct_total() {
        let s = summarize(&budget(
            vec![
                line(BudgetCategory::Personnel, "Staff", dec!(1), "1000"),
                line(BudgetCategory::Equipment, "Refund", dec!(1), "-500"),
                BudgetLine {
                    mtdc_excluded: true,
                    ..line(BudgetCategory::Other, "Refund", dec!(1), "-200")
                },
            ],
            IndirectRate::DeMinimis,
        ))
        .unwrap();
        assert_eq!(s.direct_total, m("300"));
        assert!(s.mtdc_exclusions.is_empty());
        assert_eq!(s.mtdc, m("300"));

        let s = summarize(&budget(
            vec![line(BudgetCategory::Personnel, "Staff", dec!(1), "-1000")],
            IndirectRate::DeMinimis,
        ))
        .unwrap();
        assert_eq!(s.mtdc, m("-1000"));
        assert_eq!(s.indirect_cap, Money::ZERO, "the cap is never negative");
    }

    #[test]
    fn budget_json_round_trips_with_tagged_rates_and_string_amounts() {
        let b = Budget {
            indirect: IndirectRate::Negotiated {
                rate_percent: dec!(22.5),
            },
            indirect_requested: Some(m("1000.50")),
            justification: "Because.".to_string(),
            ..sound_budget()
        };
        let json = serde_json::to_value(&b).unwrap();
        assert_eq!(json["indirect"]["type"], "negotiated");
        assert_eq!(json["indirect"]["rate_percent"], "22.5");
        assert_eq!(json["indirect_requested"], "1000.50");
        assert_eq!(json["lines"][1]["category"], "fringe_benefits");
        assert_eq!(json["lines"][0]["unit_cost"], "52000.00");
        let back: Budget = serde_json::from_value(json).unwrap();
        assert_eq!(back, b);

        let de: Budget = serde_json::from_str(r#"{"indirect":{"type":"de_minimis"}}"#).unwrap();
        assert_eq!(de.indirect, IndirectRate::DeMinimis);
        assert_eq!(de.indirect_requested, None);
        let none: Budget = serde_json::from_str("{}").unwrap();
        assert_eq!(none, Budget::default());
        let partial: Budget =
            serde_json::from_str(r#"{"lines":[{"category":"travel","unit_cost":"12.5","quantity":"2"}]}"#).unwrap();
        assert_eq!(partial.lines[0].amount().unwrap(), m("25"));
    }

    #[test]
    fn summary_serializes_for_the_page() {
        let s = summarize(&sound_budget()).unwrap();
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["direct_total"], "148446.00");
        assert_eq!(json["categories"][0]["label"], "Personnel");
        assert_eq!(json["categories"][0]["category"], "personnel");
        assert_eq!(json["mtdc_exclusions"][0][0], "Equipment");
        assert_eq!(json["mtdc_exclusions"][0][1], "48000.00");
        assert_eq!(json["indirect_rate_percent"], "15");
    }

    #[test]
    fn amounts_in_messages_always_show_cents() {
        assert_eq!(dollars(m("12000")), "$12,000.00");
        assert_eq!(dollars(m("1234.5")), "$1,234.50");
        assert_eq!(dollars(m("-5")), "-$5.00");
        assert_eq!(dollars(Money::ZERO), "$0.00");
        assert_eq!(percent(dec!(22.50)), "22.5%");
        assert_eq!(percent(dec!(15)), "15%");
        assert_eq!(equipment_unit_threshold(), m("10000"));
        assert_eq!(subaward_mtdc_portion(), m("50000"));
        assert_eq!(DE_MINIMIS_PERCENT, dec!(15));
    }

    // --- problems ---------------------------------------------------------------------------

    #[test]
    fn a_budget_with_no_lines_says_so() {
        let p = problems_of(&Budget::default(), &funding("10000", Some("1000")));
        assert_eq!(fields(&p), vec!["budget.lines"], "no floor complaint on top: {p:?}");
        assert!(message(&p, "budget.lines").contains("no lines"));
    }

    #[test]
    fn each_line_problem_is_anchored_to_its_field() {
        let b = budget(
            vec![
                line(BudgetCategory::Personnel, "Fine", dec!(1), "100"),
                line(BudgetCategory::Personnel, "  ", dec!(1), "100"),
                line(BudgetCategory::Personnel, "Zero quantity", dec!(0), "100"),
                line(BudgetCategory::Personnel, "Negative quantity", dec!(-1), "100"),
                line(BudgetCategory::Personnel, "Thirds", dec!(0.333), "100"),
                line(BudgetCategory::Personnel, "Refund", dec!(1), "-5"),
                line(BudgetCategory::Personnel, "Free", dec!(2), "0"),
                line(BudgetCategory::Personnel, "Rounds to nothing", dec!(0.25), "0.01"),
                subaward(" ", "100"),
            ],
            IndirectRate::None,
        );
        let p = problems_of(&b, &funding("250000", None));
        assert_eq!(
            fields(&p),
            vec![
                "budget.lines[1].description",
                "budget.lines[2].quantity",
                "budget.lines[3].quantity",
                "budget.lines[4].quantity",
                "budget.lines[5].unit_cost",
                "budget.lines[6].unit_cost",
                "budget.lines[7].unit_cost",
                "budget.lines[8].recipient",
            ]
        );
        assert_eq!(
            message(&p, "budget.lines[1].description"),
            "Line 2 needs a description: say what it pays for"
        );
        assert_eq!(
            message(&p, "budget.lines[2].quantity"),
            "Line 3: the quantity must be more than 0 (it is 0)"
        );
        assert_eq!(
            message(&p, "budget.lines[3].quantity"),
            "Line 4: the quantity must be more than 0 (it is -1)"
        );
        assert_eq!(
            message(&p, "budget.lines[4].quantity"),
            "Line 5: the quantity can have at most 2 decimal places, such as 0.5 or 1.25 (it is 0.333)"
        );
        assert_eq!(
            message(&p, "budget.lines[5].unit_cost"),
            "Line 6: the unit cost cannot be negative (it is -$5.00)"
        );
        assert_eq!(
            message(&p, "budget.lines[6].unit_cost"),
            "Line 7 comes to $0.00: enter what one unit costs, or remove the line"
        );
        assert_eq!(
            message(&p, "budget.lines[8].recipient"),
            "Line 9 is a subaward: name the organization that receives it"
        );
    }

    #[test]
    fn quantities_with_trailing_zeros_are_two_decimals() {
        let b = budget(
            vec![line(BudgetCategory::Personnel, "Half time", dec!(0.5000), "100")],
            IndirectRate::None,
        );
        assert!(problems_of(&b, &funding("250000", None)).is_empty());
    }

    #[test]
    fn equipment_means_10_000_or_more_a_unit() {
        let f = funding("250000", None);
        let exactly = budget(
            vec![line(BudgetCategory::Equipment, "Van", dec!(1), "10000")],
            IndirectRate::None,
        );
        assert!(problems_of(&exactly, &f).is_empty());

        let under = budget(
            vec![line(BudgetCategory::Equipment, "Laptops", dec!(10), "9999.99")],
            IndirectRate::None,
        );
        let p = problems_of(&under, &f);
        assert_eq!(fields(&p), vec!["budget.lines[0].category"]);
        assert_eq!(
            p[0].message,
            "Line 1: $9,999.99 a unit is less than $10,000.00; items under $10,000 a unit are supplies, not \
             equipment. Choose Supplies for this line"
        );
    }

    #[test]
    fn supplies_of_10_000_or_more_a_unit_are_equipment() {
        let f = funding("250000", None);
        let under = budget(
            vec![line(BudgetCategory::Supplies, "Laptops", dec!(10), "9999.99")],
            IndirectRate::None,
        );
        assert!(problems_of(&under, &f).is_empty());

        let exactly = budget(
            vec![line(BudgetCategory::Supplies, "Server", dec!(1), "10000")],
            IndirectRate::None,
        );
        let p = problems_of(&exactly, &f);
        assert_eq!(fields(&p), vec!["budget.lines[0].category"]);
        assert_eq!(
            p[0].message,
            "Line 1: $10,000.00 a unit is $10,000.00 or more, so this item is equipment, not supplies. Choose \
             Equipment for this line"
        );
    }

    #[test]
    fn negotiated_rates_must_be_real_percentages() {
        let f = funding("250000", None);
        let with_rate = |r: Decimal| {
            budget(
                vec![line(BudgetCategory::Personnel, "Staff", dec!(1), "1000")],
                IndirectRate::Negotiated { rate_percent: r },
            )
        };
        assert!(problems_of(&with_rate(dec!(100)), &f).is_empty());
        assert!(problems_of(&with_rate(dec!(0.01)), &f).is_empty());
        assert!(problems_of(&with_rate(dec!(22.50)), &f).is_empty());

        let p = problems_of(&with_rate(dec!(0)), &f);
        assert_eq!(fields(&p), vec!["budget.indirect"]);
        assert!(
            p[0].message
                .starts_with("Your negotiated indirect rate must be more than 0% (it is 0%)")
        );

        let p = problems_of(&with_rate(dec!(-5)), &f);
        assert_eq!(fields(&p), vec!["budget.indirect"]);

        let p = problems_of(&with_rate(dec!(100.01)), &f);
        assert_eq!(fields(&p), vec!["budget.indirect"]);
        assert_eq!(
            p[0].message,
            "A negotiated indirect rate of 100.01% is more than 100%; enter the rate from your rate agreement"
        );

        let p = problems_of(&with_rate(dec!(22.555)), &f);
        assert_eq!(fields(&p), vec!["budget.indirect"]);
        assert!(p[0].message.contains("at most 2 decimal places"));
        assert!(p[0].message.contains("(it is 22.555%)"));
    }

    #[test]
    fn requested_indirect_above_the_cap_names_the_cap_rate_and_mtdc() {
        let b = Budget {
            indirect_requested: Some(m("5000")),
            ..budget(
                vec![line(BudgetCategory::Personnel, "Staff", dec!(1), "33333.33")],
                IndirectRate::DeMinimis,
            )
        };
        let p = problems_of(&b, &funding("250000", None));
        assert_eq!(fields(&p), vec!["budget.indirect_requested"]);
        assert_eq!(
            p[0].message,
            "$5,000.00 is more than your indirect rate allows: 15% of your modified total direct costs of \
             $33,333.33 is $4,999.99"
        );

        let b = Budget {
            indirect_requested: Some(m("2777.78")),
            ..budget(
                vec![line(BudgetCategory::Personnel, "Staff", dec!(1), "12345.67")],
                IndirectRate::Negotiated {
                    rate_percent: dec!(22.5),
                },
            )
        };
        let p = problems_of(&b, &funding("250000", None));
        assert_eq!(
            p[0].message,
            "$2,777.78 is more than your indirect rate allows: 22.5% of your modified total direct costs of \
             $12,345.67 is $2,777.77"
        );
    }

    #[test]
    fn requested_indirect_cannot_be_negative() {
        let b = Budget {
            indirect_requested: Some(m("-1")),
            ..budget(
                vec![line(BudgetCategory::Personnel, "Staff", dec!(1), "1000")],
                IndirectRate::DeMinimis,
            )
        };
        let p = problems_of(&b, &funding("250000", None));
        assert_eq!(fields(&p), vec!["budget.indirect_requested"]);
        assert_eq!(p[0].message, "Indirect costs cannot be negative (you entered -$1.00)");
    }

    #[test]
    fn indirect_costs_need_a_rate() {
        let base = budget(
            vec![line(BudgetCategory::Personnel, "Staff", dec!(1), "1000")],
            IndirectRate::None,
        );
        let zero = Budget {
            indirect_requested: Some(Money::ZERO),
            ..base.clone()
        };
        assert!(problems_of(&zero, &funding("250000", None)).is_empty());

        let some = Budget {
            indirect_requested: Some(m("150")),
            ..base
        };
        let s = summarize(&some).unwrap();
        assert_eq!(s.indirect, m("150"), "the summary shows what was asked for");
        let p = problems(&some, &s, &funding("250000", None));
        assert_eq!(fields(&p), vec!["budget.indirect_requested"]);
        assert_eq!(
            p[0].message,
            "You asked for $150.00 in indirect costs but chose no indirect rate. Choose the de minimis rate of 15% \
             or your negotiated rate, or remove the indirect costs"
        );
    }

    #[test]
    fn the_total_must_be_within_the_award_range() {
        let at = |amount: &str| {
            budget(
                vec![line(BudgetCategory::Personnel, "Staff", dec!(1), amount)],
                IndirectRate::None,
            )
        };
        let f = funding("10000", Some("5000"));
        assert!(problems_of(&at("10000"), &f).is_empty());
        assert!(problems_of(&at("5000"), &f).is_empty());

        let p = problems_of(&at("12000"), &f);
        assert_eq!(fields(&p), vec!["budget.total"]);
        assert_eq!(
            p[0].message,
            "Your total request of $12,000.00 is more than the award ceiling of $10,000.00"
        );

        let p = problems_of(&at("4999.99"), &f);
        assert_eq!(fields(&p), vec!["budget.total"]);
        assert_eq!(
            p[0].message,
            "Your total request of $4,999.99 is less than the smallest award this solicitation makes (the award \
             floor) of $5,000.00"
        );

        // indirect costs count toward the ceiling
        let with_indirect = budget(
            vec![line(BudgetCategory::Personnel, "Staff", dec!(1), "9000")],
            IndirectRate::DeMinimis,
        );
        let p = problems_of(&with_indirect, &f);
        assert_eq!(
            message(&p, "budget.total"),
            "Your total request of $10,350.00 is more than the award ceiling of $10,000.00"
        );

        // a solicitation without a ceiling yet is not checked against one
        assert!(problems_of(&at("12000"), &funding("0", None)).is_empty());
    }

    #[test]
    fn all_problems_are_gathered_at_once() {
        let b = Budget {
            indirect_requested: Some(m("999")),
            ..budget(
                vec![
                    line(BudgetCategory::Equipment, "", dec!(1), "500"),
                    subaward("", "20000"),
                ],
                IndirectRate::None,
            )
        };
        let p = problems_of(&b, &funding("10000", None));
        assert_eq!(
            fields(&p),
            vec![
                "budget.lines[0].description",
                "budget.lines[0].category",
                "budget.lines[1].recipient",
                "budget.indirect_requested",
                "budget.total",
            ]
        );
    }

    // --- properties -------------------------------------------------------------------------

    fn arb_category() -> impl Strategy<Value = BudgetCategory> {
        proptest::sample::select(BudgetCategory::ALL.to_vec())
    }

    fn arb_recipient() -> impl Strategy<Value = String> {
        proptest::sample::select(vec![
            "",
            "Acme Youth",
            "acme youth",
            " ACME YOUTH ",
            "Anacostia Arts",
            "Ward 7",
        ])
        .prop_map(str::to_string)
    }

    /// Lines as an applicant could write them: positive quantities of at most 2 decimals and
    /// non-negative unit costs up to $60,000 (so both thresholds are crossed).
    fn arb_line() -> impl Strategy<Value = BudgetLine> {
        (
            arb_category(),
            1i64..=100_000,
            0i64..=6_000_000,
            arb_recipient(),
            any::<bool>(),
        )
            .prop_map(
                |(category, q_hundredths, cost_cents, recipient, mtdc_excluded)| BudgetLine {
                    category,
                    description: "line".to_string(),
                    quantity: Decimal::new(q_hundredths, 2),
                    unit_cost: Money::from_cents(cost_cents).unwrap(),
                    recipient,
                    mtdc_excluded,
                },
            )
    }

    /// Lines with any sign, for invariants that must hold even on budgets with problems.
    fn arb_any_line() -> impl Strategy<Value = BudgetLine> {
        (arb_line(), -100_000i64..=100_000, -6_000_000i64..=6_000_000).prop_map(|(l, q, c)| BudgetLine {
            quantity: Decimal::new(q, 2),
            unit_cost: Money::from_cents(c).unwrap(),
            ..l
        })
    }

    /// Rates in hundredths of a percent, with the rate they stand for.
    fn arb_rate() -> impl Strategy<Value = IndirectRate> {
        prop_oneof![
            Just(IndirectRate::None),
            Just(IndirectRate::DeMinimis),
            (1i64..=10_000).prop_map(|h| IndirectRate::Negotiated {
                rate_percent: Decimal::new(h, 2)
            }),
        ]
    }

    fn arb_budget(lines: impl Strategy<Value = BudgetLine>) -> impl Strategy<Value = Budget> {
        (
            proptest::collection::vec(lines, 0..12),
            arb_rate(),
            proptest::option::of(0i64..=10_000_000),
        )
            .prop_map(|(lines, indirect, requested)| Budget {
                lines,
                indirect,
                indirect_requested: requested.map(|c| Money::from_cents(c).unwrap()),
                justification: String::new(),
            })
    }

    /// The rate in hundredths of a percent, as an integer.
    fn rate_hundredths(rate: Decimal) -> i128 {
        use rust_decimal::prelude::ToPrimitive;
        (rate * Decimal::ONE_HUNDRED).to_i128().unwrap()
    }

    fn check_sums(b: &Budget, s: &BudgetSummary) -> Result<(), TestCaseError> {
        let by_category: i64 = s.categories.iter().map(|c| c.total.cents()).sum();
        prop_assert_eq!(by_category, s.direct_total.cents());
        prop_assert_eq!(
            s.categories.iter().map(|c| c.category).collect::<Vec<_>>(),
            BudgetCategory::ALL.to_vec()
        );
        let lines: i64 = b.lines.iter().map(|l| l.amount().unwrap().cents()).sum();
        prop_assert_eq!(lines, s.direct_total.cents());
        prop_assert!(s.mtdc <= s.direct_total);
        let excluded: i64 = s.mtdc_exclusions.iter().map(|(_, a)| a.cents()).sum();
        prop_assert_eq!(s.direct_total.cents() - excluded, s.mtdc.cents());
        prop_assert!(s.mtdc_exclusions.iter().all(|(_, a)| a.cents() > 0));
        prop_assert_eq!(s.indirect, b.indirect_requested.unwrap_or(s.indirect_cap));
        prop_assert_eq!(s.total_request.cents(), s.direct_total.cents() + s.indirect.cents());
        prop_assert!(!s.indirect_cap.is_negative());
        Ok(())
    }

    proptest! {
        #[test]
        fn line_amount_matches_integer_arithmetic(q in -100_000i64..=100_000, c in -6_000_000i64..=6_000_000) {
            let l = BudgetLine {
                quantity: Decimal::new(q, 2),
                unit_cost: Money::from_cents(c).unwrap(),
                ..BudgetLine::default()
            };
            // q/100 units × c cents = q×c/100 cents; round half away from zero.
            let product = i128::from(q) * i128::from(c);
            let cents = if product >= 0 { (product + 50) / 100 } else { (product - 50) / 100 };
            prop_assert_eq!(i128::from(l.amount().unwrap().cents()), cents);
        }

        #[test]
        fn summary_invariants_hold(b in arb_budget(arb_line())) {
            let s = summarize(&b).unwrap();
            check_sums(&b, &s)?;
            prop_assert!(!s.mtdc.is_negative());
            // cap <= rate × mtdc < cap + 1 cent, checked in whole numbers:
            // rate × mtdc in cents = hundredths-of-a-percent × mtdc cents / 10,000.
            prop_assert_eq!(s.indirect_rate_percent, b.indirect.percent());
            let scaled = rate_hundredths(s.indirect_rate_percent) * i128::from(s.mtdc.cents());
            let cap = i128::from(s.indirect_cap.cents());
            prop_assert!(cap * 10_000 <= scaled, "cap {} above rate × mtdc", s.indirect_cap);
            prop_assert!((cap + 1) * 10_000 > scaled, "cap {} more than a cent below rate × mtdc", s.indirect_cap);
            if b.indirect == IndirectRate::None {
                prop_assert!(s.indirect_cap.is_zero());
            }
        }

        #[test]
        fn summary_invariants_hold_even_with_negative_lines(b in arb_budget(arb_any_line())) {
            let s = summarize(&b).unwrap();
            check_sums(&b, &s)?;
            // and problems never panics
            let _ = problems(&b, &s, &Funding::default());
        }

        #[test]
        fn mtdc_does_not_depend_on_line_order(b in arb_budget(arb_any_line())) {
            let s = summarize(&b).unwrap();
            let mut reversed = b.clone();
            reversed.lines.reverse();
            let r = summarize(&reversed).unwrap();
            prop_assert_eq!(s.direct_total, r.direct_total);
            prop_assert_eq!(s.mtdc, r.mtdc);
            prop_assert_eq!(s.indirect_cap, r.indirect_cap);
            prop_assert_eq!(s.categories, r.categories);
        }

        #[test]
        fn splitting_a_subaward_into_lines_does_not_change_mtdc(
            b in arb_budget(arb_line()),
            first in 0i64..=10_000_000,
            second in 0i64..=10_000_000,
        ) {
            let mut whole = b.clone();
            whole.lines.push(subaward("Acme Youth", &Money::from_cents(first + second).unwrap().to_amount_string()));
            let mut split = b;
            split.lines.push(subaward("Acme Youth", &Money::from_cents(first).unwrap().to_amount_string()));
            split.lines.push(subaward("acme YOUTH  ", &Money::from_cents(second).unwrap().to_amount_string()));
            let w = summarize(&whole).unwrap();
            let s = summarize(&split).unwrap();
            prop_assert_eq!(w.direct_total, s.direct_total);
            prop_assert_eq!(w.mtdc, s.mtdc);
        }

        #[test]
        fn a_sound_budget_within_the_cap_and_ceiling_has_no_indirect_or_total_problems(
            b in arb_budget(arb_line())
        ) {
            let s = summarize(&b).unwrap();
            let f = Funding { award_ceiling: s.total_request.max(Money::from_cents(1).unwrap()), ..Funding::default() };
            let p = problems(&b, &s, &f);
            prop_assert!(!p.iter().any(|e| e.field == "budget.total"), "{:?}", p);
            prop_assert!(!p.iter().any(|e| e.field == "budget.indirect"), "{:?}", p);
            let over_cap = b.indirect_requested.is_some_and(|r| r > s.indirect_cap);
            prop_assert_eq!(p.iter().any(|e| e.field == "budget.indirect_requested"), over_cap);
        }
    }
}
