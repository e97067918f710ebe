//! Calibration: correcting for reviewers who score consistently higher or lower, or more or
//! less spread out, than their colleagues.
//!
//! Calibration is optional. It never replaces the raw merit score: every result carries the
//! raw merit, the calibrated merit and the difference, and every reviewer's correction, so a
//! program officer can see and explain each step. Two methods are offered.
//!
//! **Standardizing each reviewer** ([`standardize`]). Each reviewer's usual total and usual
//! spread are estimated from their own reviews, counting a few imaginary reviews at the pool's
//! average and spread (so a reviewer with one or two reviews is not judged on so little), and
//! each of their totals is moved to the same place on the pool's scale: a total one usual
//! spread above the reviewer's usual total becomes one pool spread above the pool average.
//!
//! **Estimating each reviewer's bias** ([`fit_reviewer_bias`]). Every total is modelled as the
//! application's merit plus the reviewer's bias; the biases are the ones that best explain all
//! the totals together, comparing reviewers on the applications they reviewed in common, with
//! a few imaginary unbiased reviews per reviewer holding each bias towards zero. Each bias is
//! then taken off that reviewer's totals.
//!
//! The estimates (averages, spreads, square roots, the least-squares fit) are statistics done
//! in binary floating point, always in the same order, so the same reviews always give the
//! same figures. Every estimate is then rounded to four decimal places, and applying it to the
//! totals is exact decimal arithmetic: anyone can redo the last steps by hand from the figures
//! shown. Rounding is half away from zero, as in [`aggregate`](super::aggregate).

use std::fmt::Write as _;

use rust_decimal::Decimal;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use serde::Serialize;

use super::aggregate::{ReviewSet, mean, round_score};

/// Why a calibration could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalibrationError {
    /// There is nothing to calibrate.
    #[error("there are no reviews to calibrate")]
    NoReviews,
    /// Standardizing counts zero or more imaginary reviews at the pool's average.
    #[error("the number of imaginary reviews at the pool's average must be zero or more, not {value}")]
    PseudoReviewsNegative { value: Decimal },
    /// The bias model needs some imaginary unbiased reviews to tell merit from bias.
    #[error("the number of imaginary unbiased reviews must be more than zero, not {value}")]
    PseudoReviewsNotPositive { value: Decimal },
    /// The bias model's fit did not settle within its step limit.
    #[error("the reviewer-bias fit did not settle within {iterations} steps")]
    DidNotConverge { iterations: usize },
    /// A figure came out too large or undefined to be shown as a decimal.
    #[error("a calibrated figure is too large to be represented")]
    NotRepresentable,
}

/// Settings for [`standardize`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StandardizationSettings {
    pseudo_reviews: Decimal,
}

impl StandardizationSettings {
    /// `pseudo_reviews` imaginary reviews at the pool's average and spread are counted with
    /// every reviewer's own reviews. Zero means each reviewer is judged on their reviews alone.
    pub fn new(pseudo_reviews: Decimal) -> Result<Self, CalibrationError> {
        if pseudo_reviews < Decimal::ZERO {
            return Err(CalibrationError::PseudoReviewsNegative { value: pseudo_reviews });
        }
        Ok(Self { pseudo_reviews })
    }

    /// How many imaginary reviews at the pool's average and spread are counted per reviewer.
    pub fn pseudo_reviews(&self) -> Decimal {
        self.pseudo_reviews
    }
}

impl Default for StandardizationSettings {
    /// Three imaginary reviews: a reviewer with three reviews of their own is judged half on
    /// them and half on the pool.
    fn default() -> Self {
        Self {
            pseudo_reviews: Decimal::from(3),
        }
    }
}

/// Settings for [`fit_reviewer_bias`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BiasModelSettings {
    pseudo_reviews: Decimal,
}

impl BiasModelSettings {
    /// `pseudo_reviews` imaginary reviews with no bias are counted with every reviewer's own,
    /// holding each bias towards zero. It must be more than zero: without it, merit and bias
    /// cannot be told apart (all merits up by one point and all biases down by one explain
    /// the totals equally well).
    pub fn new(pseudo_reviews: Decimal) -> Result<Self, CalibrationError> {
        if pseudo_reviews <= Decimal::ZERO {
            return Err(CalibrationError::PseudoReviewsNotPositive { value: pseudo_reviews });
        }
        Ok(Self { pseudo_reviews })
    }

    /// How many imaginary unbiased reviews are counted per reviewer.
    pub fn pseudo_reviews(&self) -> Decimal {
        self.pseudo_reviews
    }
}

impl Default for BiasModelSettings {
    /// Three imaginary unbiased reviews per reviewer.
    fn default() -> Self {
        Self {
            pseudo_reviews: Decimal::from(3),
        }
    }
}

/// One application's calibrated result, shown beside its raw merit. `merit` is `None` when
/// the application has no reviews (and so no merit score, raw or calibrated).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CalibratedApplication {
    pub application: usize,
    pub merit: Option<CalibratedMerit>,
}

/// Raw and calibrated merit side by side, and each review's part in the difference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CalibratedMerit {
    /// The merit score before calibration (the mean of the reviewers' totals).
    pub raw: Decimal,
    /// The merit score after calibration, between zero and the rubric's total.
    pub calibrated: Decimal,
    /// `calibrated - raw`.
    pub adjustment: Decimal,
    /// Each review's total before and after calibration, by reviewer.
    pub reviews: Vec<CalibratedReview>,
}

/// One reviewer's total for one application, before and after calibration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CalibratedReview {
    pub reviewer: usize,
    pub raw_total: Decimal,
    pub calibrated_total: Decimal,
}

/// The result of [`standardize`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Standardization {
    /// Imaginary reviews at the pool's average and spread counted per reviewer.
    pub pseudo_reviews: Decimal,
    /// The rubric's total; calibrated totals are kept between zero and this.
    pub total_points: Decimal,
    /// How many reviews the pool has.
    pub pool_reviews: usize,
    /// The average of all reviews' totals.
    pub pool_mean: Decimal,
    /// The spread (sample standard deviation) of all reviews' totals.
    pub pool_sd: Decimal,
    /// Every reviewer with at least one review, by reviewer.
    pub reviewers: Vec<ReviewerStandardization>,
    /// Every application, by application.
    pub applications: Vec<CalibratedApplication>,
}

/// How one reviewer's totals are standardized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ReviewerStandardization {
    pub reviewer: usize,
    pub review_count: usize,
    /// The average of the reviewer's own totals.
    pub raw_mean: Decimal,
    /// The spread (sample standard deviation) of the reviewer's own totals; `None` with a
    /// single review, which has no spread.
    pub raw_sd: Option<Decimal>,
    /// The reviewer's usual total: their own totals and the imaginary reviews at the pool's
    /// average, averaged together.
    pub shrunk_mean: Decimal,
    /// The reviewer's usual spread, likewise counting the imaginary reviews at the pool's
    /// spread. Zero only when there is no spread at all to go on; their totals then become
    /// the pool average.
    pub shrunk_sd: Decimal,
    /// `shrunk_mean - pool_mean`: how far above (positive) or below the pool the reviewer
    /// usually scores.
    pub offset_from_pool: Decimal,
}

/// The result of [`fit_reviewer_bias`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BiasModel {
    /// Imaginary unbiased reviews counted per reviewer.
    pub pseudo_reviews: Decimal,
    /// The rubric's total; calibrated merit is kept between zero and this.
    pub total_points: Decimal,
    /// How many refinement steps the fit took.
    pub iterations: usize,
    /// Every reviewer with at least one review, by reviewer.
    pub reviewers: Vec<ReviewerBias>,
    /// Every application, by application.
    pub applications: Vec<CalibratedApplication>,
}

/// One reviewer's estimated bias.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ReviewerBias {
    pub reviewer: usize,
    pub review_count: usize,
    /// The average of the reviewer's own totals.
    pub raw_mean: Decimal,
    /// How far the reviewer's totals sit, on average, above (positive) or below the model's
    /// merit for the applications they reviewed.
    pub average_gap: Decimal,
    /// The bias taken off each of their totals: the average gap, counting the imaginary
    /// unbiased reviews, `average_gap * review_count / (review_count + pseudo_reviews)`.
    pub bias: Decimal,
}

/// Standardizes each reviewer's totals against the pool, as described in the module
/// documentation. With `λ` imaginary reviews, for a reviewer with `n` reviews whose totals
/// have average `m` and sum of squared distances from `m` of `S`, and a pool of `N` totals
/// with average `μ` and sample variance `σ²`:
///
/// - usual total `m' = (n·m + λ·μ) / (n + λ)`;
/// - usual spread `s' = √((S + λ·σ²) / (n − 1 + λ))`, zero if `n − 1 + λ` is zero;
/// - each total `x` becomes `μ + σ · (x − m') / s'` (or `μ` when `s'` is zero), rounded and
///   kept between zero and the rubric's total;
/// - the calibrated merit is the mean of the application's calibrated totals, rounded.
///
/// `μ`, `σ`, `m'` and `s'` are rounded to four places before they are applied.
pub fn standardize(
    reviews: &ReviewSet,
    settings: &StandardizationSettings,
) -> Result<Standardization, CalibrationError> {
    if reviews.is_empty() {
        return Err(CalibrationError::NoReviews);
    }
    let layout = Layout::new(reviews)?;
    let estimates = estimate_standardization(&layout, reviews.reviewers(), to_f64(settings.pseudo_reviews)?);
    let pool_mean = to_score(estimates.pool_mean)?;
    let pool_sd = to_score(estimates.pool_sd)?;
    let total_points = reviews.rubric().total();

    let mut by_reviewer: Vec<Option<ReviewerStandardization>> = vec![None; reviews.reviewers()];
    let mut summaries = Vec::new();
    for (reviewer, estimate) in estimates.reviewers.iter().enumerate() {
        let Some(estimate) = estimate else { continue };
        let shrunk_mean = to_score(estimate.shrunk_mean)?;
        let summary = ReviewerStandardization {
            reviewer,
            review_count: estimate.count,
            raw_mean: to_score(estimate.mean)?,
            raw_sd: estimate.sd.map(to_score).transpose()?,
            shrunk_mean,
            shrunk_sd: to_score(estimate.shrunk_sd)?,
            offset_from_pool: shrunk_mean - pool_mean,
        };
        by_reviewer[reviewer] = Some(summary);
        summaries.push(summary);
    }

    let applications = calibrate_applications(reviews, |reviewer, raw_total| {
        let summary = by_reviewer[reviewer]
            .as_ref()
            .ok_or(CalibrationError::NotRepresentable)?;
        standardized_total(raw_total, pool_mean, pool_sd, summary, total_points)
    })?;
    Ok(Standardization {
        pseudo_reviews: settings.pseudo_reviews,
        total_points,
        pool_reviews: reviews.len(),
        pool_mean,
        pool_sd,
        reviewers: summaries,
        applications,
    })
}

/// `μ + σ · (x − m') / s'`, rounded and kept between zero and the rubric's total.
fn standardized_total(
    raw_total: Decimal,
    pool_mean: Decimal,
    pool_sd: Decimal,
    reviewer: &ReviewerStandardization,
    total_points: Decimal,
) -> Result<Decimal, CalibrationError> {
    let value = if reviewer.shrunk_sd.is_zero() {
        pool_mean
    } else {
        pool_sd
            .checked_mul(raw_total - reviewer.shrunk_mean)
            .and_then(|scaled| scaled.checked_div(reviewer.shrunk_sd))
            .and_then(|moved| moved.checked_add(pool_mean))
            .ok_or(CalibrationError::NotRepresentable)?
    };
    Ok(round_score(value).clamp(Decimal::ZERO, total_points))
}

impl Standardization {
    /// The standardization of one reviewer, if they reviewed anything.
    pub fn reviewer(&self, reviewer: usize) -> Option<&ReviewerStandardization> {
        find_reviewer(&self.reviewers, reviewer, |summary| summary.reviewer)
    }

    /// What one of the reviewer's totals becomes; `None` for a reviewer with no reviews.
    pub fn calibrated_total(&self, reviewer: usize, raw_total: Decimal) -> Option<Decimal> {
        let summary = self.reviewer(reviewer)?;
        standardized_total(raw_total, self.pool_mean, self.pool_sd, summary, self.total_points).ok()
    }

    /// A plain-words account of how a reviewer's totals are standardized.
    pub fn explain_reviewer(&self, reviewer: usize) -> Option<String> {
        let r = self.reviewer(reviewer)?;
        let (mu, sigma) = (self.pool_mean.normalize(), self.pool_sd.normalize());
        let mut text = format!(
            "Reviewer {} gave {} with totals averaging {}; all {} reviews average {} with a spread of {}. ",
            r.reviewer,
            reviews_phrase(r.review_count),
            r.raw_mean.normalize(),
            self.pool_reviews,
            mu,
            sigma,
        );
        let _ = write!(
            text,
            "Counting {} imaginary reviews at the pool's average and spread, their usual total is taken as {} \
             ({}) and their usual spread as {}. ",
            self.pseudo_reviews.normalize(),
            r.shrunk_mean.normalize(),
            relation_to_pool(r.offset_from_pool),
            r.shrunk_sd.normalize(),
        );
        if r.shrunk_sd.is_zero() {
            let _ = write!(
                text,
                "With no spread to go on, each of their totals becomes the pool average, {mu}."
            );
        } else {
            let _ = write!(
                text,
                "Each of their totals x becomes {mu} + {sigma} × (x − {}) ÷ {}, kept between 0 and {}.",
                r.shrunk_mean.normalize(),
                r.shrunk_sd.normalize(),
                self.total_points.normalize(),
            );
        }
        Some(text)
    }

    /// A plain-words account of how an application's calibrated merit was reached.
    pub fn explain_application(&self, application: usize) -> Option<String> {
        explain_application(
            &self.applications,
            application,
            "standardizing each reviewer",
            |review| {
                self.reviewer(review.reviewer).map(|r| {
                    format!(
                        "usual total {}, usual spread {}",
                        r.shrunk_mean.normalize(),
                        r.shrunk_sd.normalize()
                    )
                })
            },
        )
    }
}

/// Fits the reviewer-bias model described in the module documentation: with `λ` imaginary
/// unbiased reviews per reviewer, the merits `θ` and biases `b` are those that make
/// `Σ (x_ar − θ_a − b_r)² + λ · Σ b_r²` smallest over all reviews (application `a`, reviewer
/// `r`, total `x_ar`). At that point each bias is
/// `b_r = Σ_a (x_ar − θ_a) / (n_r + λ)` and each merit `θ_a = mean over its reviews of
/// (x_ar − b_r)`.
///
/// The fit is solved by conjugate gradients on the biases (with the merits written in terms
/// of them), starting from no bias, until no bias would move by more than 10⁻¹⁰ points, or
/// [`CalibrationError::DidNotConverge`] after 10,000 steps. Each bias is then rounded to four
/// places and taken off that reviewer's totals, exactly; the calibrated merit is the mean of
/// the application's corrected totals, rounded and kept between zero and the rubric's total.
pub fn fit_reviewer_bias(reviews: &ReviewSet, settings: &BiasModelSettings) -> Result<BiasModel, CalibrationError> {
    if reviews.is_empty() {
        return Err(CalibrationError::NoReviews);
    }
    let layout = Layout::new(reviews)?;
    let fit = solve_reviewer_biases(&layout, reviews.reviewers(), to_f64(settings.pseudo_reviews)?)?;
    let total_points = reviews.rubric().total();

    let mut biases: Vec<Decimal> = vec![Decimal::ZERO; reviews.reviewers()];
    let mut summaries = Vec::new();
    for (reviewer, estimate) in fit.reviewers.iter().enumerate() {
        let Some(estimate) = estimate else { continue };
        let bias = to_score(estimate.bias)?;
        biases[reviewer] = bias;
        summaries.push(ReviewerBias {
            reviewer,
            review_count: estimate.count,
            raw_mean: to_score(estimate.mean)?,
            average_gap: to_score(estimate.average_gap)?,
            bias,
        });
    }

    let mut applications = calibrate_applications(reviews, |reviewer, raw_total| Ok(raw_total - biases[reviewer]))?;
    // A corrected total may pass the rubric's bounds (a harsh reviewer's full marks); the
    // merit is held within them.
    for merit in applications
        .iter_mut()
        .filter_map(|application| application.merit.as_mut())
    {
        merit.calibrated = merit.calibrated.clamp(Decimal::ZERO, total_points);
        merit.adjustment = merit.calibrated - merit.raw;
    }
    Ok(BiasModel {
        pseudo_reviews: settings.pseudo_reviews,
        total_points,
        iterations: fit.iterations,
        reviewers: summaries,
        applications,
    })
}

impl BiasModel {
    /// The estimated bias of one reviewer, if they reviewed anything.
    pub fn reviewer(&self, reviewer: usize) -> Option<&ReviewerBias> {
        find_reviewer(&self.reviewers, reviewer, |summary| summary.reviewer)
    }

    /// A plain-words account of a reviewer's estimated bias.
    pub fn explain_reviewer(&self, reviewer: usize) -> Option<String> {
        let r = self.reviewer(reviewer)?;
        let gap = r.average_gap.abs().normalize();
        let direction = if r.average_gap < Decimal::ZERO {
            "below"
        } else {
            "above"
        };
        let mut text = format!(
            "Reviewer {} gave {} with totals averaging {}. On the applications they reviewed, their totals sit \
             on average {gap} points {direction} the merit the model finds for those applications. Counting {} \
             imaginary reviews with no bias, their bias is taken as {}",
            r.reviewer,
            reviews_phrase(r.review_count),
            r.raw_mean.normalize(),
            self.pseudo_reviews.normalize(),
            signed(r.bias),
        );
        let size = r.bias.abs().normalize();
        if r.bias < Decimal::ZERO {
            let _ = write!(text, ", so {size} points are added to each of their totals.");
        } else if r.bias > Decimal::ZERO {
            let _ = write!(text, ", so {size} points are taken off each of their totals.");
        } else {
            text.push_str(", so their totals are used as given.");
        }
        Some(text)
    }

    /// A plain-words account of how an application's calibrated merit was reached.
    pub fn explain_application(&self, application: usize) -> Option<String> {
        explain_application(
            &self.applications,
            application,
            "taking each reviewer's bias off",
            |review| {
                self.reviewer(review.reviewer)
                    .map(|r| format!("bias {}", signed(r.bias)))
            },
        )
    }
}

/// Applies a per-review calibration to every application and sets raw merit, calibrated merit
/// (the rounded mean of the calibrated totals) and the adjustment side by side.
fn calibrate_applications(
    reviews: &ReviewSet,
    mut calibrate: impl FnMut(usize, Decimal) -> Result<Decimal, CalibrationError>,
) -> Result<Vec<CalibratedApplication>, CalibrationError> {
    let mut applications = Vec::with_capacity(reviews.applications());
    for application in 0..reviews.applications() {
        let mut calibrated_reviews = Vec::with_capacity(reviews.reviews_of(application).len());
        for review in reviews.reviews_of(application) {
            calibrated_reviews.push(CalibratedReview {
                reviewer: review.reviewer,
                raw_total: review.total,
                calibrated_total: calibrate(review.reviewer, review.total)?,
            });
        }
        let merit = match (
            reviews.merit(application),
            mean(calibrated_reviews.iter().map(|review| review.calibrated_total)),
        ) {
            (Some(raw), Some(calibrated)) => Some(CalibratedMerit {
                raw,
                calibrated,
                adjustment: calibrated - raw,
                reviews: calibrated_reviews,
            }),
            _ => None,
        };
        applications.push(CalibratedApplication { application, merit });
    }
    Ok(applications)
}

fn explain_application(
    applications: &[CalibratedApplication],
    application: usize,
    method: &str,
    reviewer_note: impl Fn(&CalibratedReview) -> Option<String>,
) -> Option<String> {
    let entry = applications.get(application)?;
    let Some(merit) = &entry.merit else {
        return Some(format!(
            "Application {application} has no reviews, so it has no merit score to calibrate."
        ));
    };
    let mut text = format!(
        "Application {application}: raw merit {} (the mean of its reviewers' totals). Calibrated by {method}: ",
        merit.raw.normalize()
    );
    for (index, review) in merit.reviews.iter().enumerate() {
        if index > 0 {
            text.push_str("; ");
        }
        let _ = write!(
            text,
            "reviewer {}'s {} becomes {}",
            review.reviewer,
            review.raw_total.normalize(),
            review.calibrated_total.normalize()
        );
        if let Some(note) = reviewer_note(review) {
            let _ = write!(text, " ({note})");
        }
    }
    let _ = write!(
        text,
        ". The calibrated merit is the mean of these, {}, a change of {} from the raw merit.",
        merit.calibrated.normalize(),
        signed(merit.adjustment),
    );
    Some(text)
}

fn find_reviewer<T>(summaries: &[T], reviewer: usize, key: impl Fn(&T) -> usize) -> Option<&T> {
    summaries
        .binary_search_by_key(&reviewer, key)
        .ok()
        .map(|index| &summaries[index])
}

fn reviews_phrase(count: usize) -> String {
    if count == 1 {
        "1 review".to_owned()
    } else {
        format!("{count} reviews")
    }
}

fn relation_to_pool(offset: Decimal) -> String {
    let size = offset.abs().normalize();
    match offset.cmp(&Decimal::ZERO) {
        std::cmp::Ordering::Less => format!("{size} points below the pool"),
        std::cmp::Ordering::Greater => format!("{size} points above the pool"),
        std::cmp::Ordering::Equal => "the same as the pool".to_owned(),
    }
}

fn signed(value: Decimal) -> String {
    if value > Decimal::ZERO {
        format!("+{}", value.normalize())
    } else {
        value.normalize().to_string()
    }
}

fn to_f64(value: Decimal) -> Result<f64, CalibrationError> {
    value.to_f64().ok_or(CalibrationError::NotRepresentable)
}

/// A floating-point estimate as a score: rounded to four places, half away from zero.
fn to_score(value: f64) -> Result<Decimal, CalibrationError> {
    Decimal::from_f64(value)
        .map(round_score)
        .ok_or(CalibrationError::NotRepresentable)
}

/// The reviews as the estimates need them: application `a`'s reviews are positions
/// `starts[a]..starts[a + 1]`, by reviewer.
struct Layout {
    starts: Vec<usize>,
    reviewer: Vec<usize>,
    total: Vec<f64>,
}

impl Layout {
    fn new(reviews: &ReviewSet) -> Result<Self, CalibrationError> {
        let mut starts = Vec::with_capacity(reviews.applications() + 1);
        starts.push(0);
        for application in 0..reviews.applications() {
            starts.push(starts[application] + reviews.reviews_of(application).len());
        }
        let reviewer = reviews.iter().map(|review| review.reviewer).collect();
        let total = reviews
            .iter()
            .map(|review| to_f64(review.total))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            starts,
            reviewer,
            total,
        })
    }

    fn applications(&self) -> usize {
        self.starts.len() - 1
    }

    /// The positions of one application's reviews.
    fn range(&self, application: usize) -> std::ops::Range<usize> {
        self.starts[application]..self.starts[application + 1]
    }
}

struct StandardizationEstimates {
    pool_mean: f64,
    pool_sd: f64,
    reviewers: Vec<Option<ReviewerEstimate>>,
}

struct ReviewerEstimate {
    count: usize,
    mean: f64,
    sd: Option<f64>,
    shrunk_mean: f64,
    shrunk_sd: f64,
}

#[allow(
    clippy::float_arithmetic,
    reason = "averages, spreads and square roots are statistics; results are rounded to Decimal"
)]
fn estimate_standardization(layout: &Layout, reviewers: usize, lambda: f64) -> StandardizationEstimates {
    let pool_count = layout.total.len() as f64;
    let pool_mean = layout.total.iter().sum::<f64>() / pool_count;
    let pool_squares: f64 = layout.total.iter().map(|x| (x - pool_mean) * (x - pool_mean)).sum();
    let pool_variance = if layout.total.len() > 1 {
        pool_squares / (pool_count - 1.0)
    } else {
        0.0
    };

    let mut count = vec![0_usize; reviewers];
    let mut sum = vec![0.0_f64; reviewers];
    for (&reviewer, &x) in layout.reviewer.iter().zip(&layout.total) {
        count[reviewer] += 1;
        sum[reviewer] += x;
    }
    let means: Vec<f64> = count
        .iter()
        .zip(&sum)
        .map(|(&n, &s)| if n > 0 { s / n as f64 } else { 0.0 })
        .collect();
    let mut squares = vec![0.0_f64; reviewers];
    for (&reviewer, &x) in layout.reviewer.iter().zip(&layout.total) {
        let deviation = x - means[reviewer];
        squares[reviewer] += deviation * deviation;
    }

    let estimates = (0..reviewers)
        .map(|reviewer| {
            let n = count[reviewer];
            if n == 0 {
                return None;
            }
            let (n_f, mean, ss) = (n as f64, means[reviewer], squares[reviewer]);
            let weight = n_f - 1.0 + lambda;
            let shrunk_variance = if weight > 0.0 {
                (ss + lambda * pool_variance) / weight
            } else {
                0.0
            };
            Some(ReviewerEstimate {
                count: n,
                mean,
                sd: (n > 1).then(|| (ss / (n_f - 1.0)).sqrt()),
                shrunk_mean: (n_f * mean + lambda * pool_mean) / (n_f + lambda),
                shrunk_sd: shrunk_variance.max(0.0).sqrt(),
            })
        })
        .collect();
    StandardizationEstimates {
        pool_mean,
        pool_sd: pool_variance.sqrt(),
        reviewers: estimates,
    }
}

struct BiasFit {
    iterations: usize,
    reviewers: Vec<Option<BiasEstimate>>,
}

struct BiasEstimate {
    count: usize,
    mean: f64,
    average_gap: f64,
    bias: f64,
}

/// The most conjugate-gradient steps the bias fit may take.
const MAX_BIAS_ITERATIONS: usize = 10_000;
/// The fit stops when no bias would move by more than this many points.
const BIAS_TOLERANCE: f64 = 1e-10;

/// Solves for the biases. Writing each merit in terms of the biases
/// (`θ_a = x̄_a − mean of b_r over a's reviewers`) leaves, for each reviewer `r`,
/// `(n_r + λ)·b_r − Σ_a (1/k_a)·Σ_{s reviews a} b_s = Σ_a (x_ar − x̄_a)`: a symmetric
/// positive definite system (because `λ > 0`), solved by conjugate gradients with the
/// diagonal as preconditioner. Every sum runs in the reviews' fixed order.
#[allow(
    clippy::float_arithmetic,
    reason = "least-squares fit is statistics; results are rounded to Decimal"
)]
fn solve_reviewer_biases(layout: &Layout, reviewers: usize, lambda: f64) -> Result<BiasFit, CalibrationError> {
    let applications = layout.applications();
    // Per application: 1/k_a (zero when unreviewed) and the mean total x̄_a.
    let (inverse_count, application_mean): (Vec<f64>, Vec<f64>) = (0..applications)
        .map(|application| {
            let range = layout.range(application);
            if range.is_empty() {
                return (0.0, 0.0);
            }
            let inverse = 1.0 / range.len() as f64;
            (inverse, layout.total[range].iter().sum::<f64>() * inverse)
        })
        .unzip();
    let mut count = vec![0_usize; reviewers];
    let mut rhs = vec![0.0_f64; reviewers];
    let mut diagonal = vec![lambda; reviewers];
    for (application, (&inverse, &mean)) in inverse_count.iter().zip(&application_mean).enumerate() {
        let range = layout.range(application);
        for (&reviewer, &x) in layout.reviewer[range.clone()].iter().zip(&layout.total[range]) {
            count[reviewer] += 1;
            rhs[reviewer] += x - mean;
            diagonal[reviewer] += 1.0 - inverse;
        }
    }
    let own: Vec<f64> = count.iter().map(|&n| n as f64 + lambda).collect();
    let apply = |direction: &[f64], out: &mut [f64]| {
        for ((out, &own), &d) in out.iter_mut().zip(&own).zip(direction) {
            *out = own * d;
        }
        for (application, &inverse) in inverse_count.iter().enumerate() {
            let shared_by = &layout.reviewer[layout.range(application)];
            let shared = shared_by.iter().map(|&r| direction[r]).sum::<f64>() * inverse;
            for &reviewer in shared_by {
                out[reviewer] -= shared;
            }
        }
    };
    let settled = |residual: &[f64]| {
        residual
            .iter()
            .zip(&diagonal)
            .all(|(r, d)| (r / d).abs() <= BIAS_TOLERANCE)
    };
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();

    let mut bias = vec![0.0_f64; reviewers];
    let mut residual = rhs;
    let mut iterations = 0;
    if !settled(&residual) {
        let mut preconditioned: Vec<f64> = residual.iter().zip(&diagonal).map(|(r, d)| r / d).collect();
        let mut direction = preconditioned.clone();
        let mut product = vec![0.0_f64; reviewers];
        let mut rho = dot(&residual, &preconditioned);
        loop {
            if iterations == MAX_BIAS_ITERATIONS {
                return Err(CalibrationError::DidNotConverge { iterations });
            }
            iterations += 1;
            apply(&direction, &mut product);
            let curvature = dot(&direction, &product);
            if curvature <= 0.0 || !curvature.is_finite() {
                return Err(CalibrationError::DidNotConverge { iterations });
            }
            let step = rho / curvature;
            for (((b, r), &p), &q) in bias.iter_mut().zip(residual.iter_mut()).zip(&direction).zip(&product) {
                *b += step * p;
                *r -= step * q;
            }
            if settled(&residual) {
                break;
            }
            for ((z, &r), &d) in preconditioned.iter_mut().zip(&residual).zip(&diagonal) {
                *z = r / d;
            }
            let next_rho = dot(&residual, &preconditioned);
            let ratio = next_rho / rho;
            rho = next_rho;
            for (p, &z) in direction.iter_mut().zip(&preconditioned) {
                *p = z + ratio * *p;
            }
        }
    }

    let mut sum = vec![0.0_f64; reviewers];
    let mut gap = vec![0.0_f64; reviewers];
    for (application, (&inverse, &mean)) in inverse_count.iter().zip(&application_mean).enumerate() {
        let range = layout.range(application);
        let reviewed_by = &layout.reviewer[range.clone()];
        let theta = mean - reviewed_by.iter().map(|&r| bias[r]).sum::<f64>() * inverse;
        for (&reviewer, &x) in reviewed_by.iter().zip(&layout.total[range]) {
            sum[reviewer] += x;
            gap[reviewer] += x - theta;
        }
    }
    let estimates = (0..reviewers)
        .map(|reviewer| {
            let n = count[reviewer];
            (n > 0).then(|| BiasEstimate {
                count: n,
                mean: sum[reviewer] / n as f64,
                average_gap: gap[reviewer] / n as f64,
                bias: bias[reviewer],
            })
        })
        .collect();
    Ok(BiasFit {
        iterations,
        reviewers: estimates,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algo::aggregate::tests::{arbitrary_panel, shuffle};
    use crate::algo::aggregate::{Review, Rubric};
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    /// Reviews on a one-criterion, 100-point rubric, given as (application, reviewer, total).
    fn panel(applications: usize, reviewers: usize, totals: &[(usize, usize, Decimal)]) -> ReviewSet {
        ReviewSet::new(
            Rubric::new(vec![dec!(100)]).unwrap(),
            applications,
            reviewers,
            reviews_of(totals),
        )
        .unwrap()
    }

    fn reviews_of(totals: &[(usize, usize, Decimal)]) -> Vec<Review> {
        totals
            .iter()
            .map(|&(application, reviewer, total)| Review {
                application,
                reviewer,
                scores: vec![total],
            })
            .collect()
    }

    fn calibrated(applications: &[CalibratedApplication]) -> Vec<Decimal> {
        applications
            .iter()
            .map(|a| a.merit.as_ref().unwrap().calibrated)
            .collect()
    }

    /// Application indices from highest to lowest figure.
    fn ranking(figures: &[Decimal]) -> Vec<usize> {
        let mut order: Vec<usize> = (0..figures.len()).collect();
        order.sort_by(|&a, &b| figures[b].cmp(&figures[a]));
        order
    }

    /// Reviewer 0 gives applications 0, 1, 2 totals of 70, 80, 90; reviewer 1 gives them 60,
    /// 70, 80, ten points less each.
    fn two_reviewer_pool() -> ReviewSet {
        panel(
            3,
            2,
            &[
                (0, 0, dec!(70)),
                (1, 0, dec!(80)),
                (2, 0, dec!(90)),
                (0, 1, dec!(60)),
                (1, 1, dec!(70)),
                (2, 1, dec!(80)),
            ],
        )
    }

    #[test]
    fn standardization_of_a_small_pool_worked_by_hand() {
        let result = standardize(&two_reviewer_pool(), &StandardizationSettings::default()).unwrap();
        // Pool: 70, 80, 90, 60, 70, 80. Mean 450 / 6 = 75. Squared distances from 75:
        // 25 + 25 + 225 + 225 + 25 + 25 = 550; sample variance 550 / 5 = 110;
        // spread √110 = 10.48808.. -> 10.4881.
        assert_eq!(result.pool_reviews, 6);
        assert_eq!(result.pool_mean, dec!(75));
        assert_eq!(result.pool_sd, dec!(10.4881));
        // Reviewer 0: n = 3, mean 80, squared distances 100 + 0 + 100 = 200 (sample spread
        // √(200/2) = 10). With λ = 3: usual total (3·80 + 3·75) / 6 = 77.5; usual spread
        // √((200 + 3·110) / (3 − 1 + 3)) = √106 = 10.29563.. -> 10.2956.
        // Reviewer 1 likewise: mean 70, usual total (210 + 225) / 6 = 72.5, spread √106.
        let r0 = result.reviewer(0).unwrap();
        assert_eq!(
            *r0,
            ReviewerStandardization {
                reviewer: 0,
                review_count: 3,
                raw_mean: dec!(80),
                raw_sd: Some(dec!(10)),
                shrunk_mean: dec!(77.5),
                shrunk_sd: dec!(10.2956),
                offset_from_pool: dec!(2.5),
            }
        );
        let r1 = result.reviewer(1).unwrap();
        assert_eq!(
            (r1.shrunk_mean, r1.shrunk_sd, r1.offset_from_pool),
            (dec!(72.5), dec!(10.2956), dec!(-2.5))
        );
        // Each total x of reviewer 0 becomes 75 + 10.4881 × (x − 77.5) / 10.2956:
        //   70 -> 75 − 78.66075 / 10.2956 = 75 − 7.64023 = 67.35977 -> 67.3598
        //   80 -> 75 + 26.22025 / 10.2956 = 75 + 2.54674 = 77.54674 -> 77.5467
        //   90 -> 75 + 131.10125 / 10.2956 = 75 + 12.73372 = 87.73372 -> 87.7337
        // and of reviewer 1, 75 + 10.4881 × (x − 72.5) / 10.2956:
        //   60 -> 75 − 12.73372 = 62.26628 -> 62.2663
        //   70 -> 75 − 2.54674 = 72.45326 -> 72.4533
        //   80 -> 75 + 7.64023 = 82.64023 -> 82.6402
        // Calibrated merits: (67.3598 + 62.2663) / 2 = 64.81305 -> 64.8131 (half away from
        // zero), (77.5467 + 72.4533) / 2 = 75, (87.7337 + 82.6402) / 2 = 85.18695 -> 85.1870.
        let app0 = result.applications[0].merit.as_ref().unwrap();
        assert_eq!(
            app0.reviews,
            vec![
                CalibratedReview {
                    reviewer: 0,
                    raw_total: dec!(70),
                    calibrated_total: dec!(67.3598)
                },
                CalibratedReview {
                    reviewer: 1,
                    raw_total: dec!(60),
                    calibrated_total: dec!(62.2663)
                },
            ]
        );
        assert_eq!(
            (app0.raw, app0.calibrated, app0.adjustment),
            (dec!(65), dec!(64.8131), dec!(-0.1869))
        );
        assert_eq!(
            calibrated(&result.applications),
            vec![dec!(64.8131), dec!(75), dec!(85.1870)]
        );
        let app2 = result.applications[2].merit.as_ref().unwrap();
        assert_eq!(
            app2.reviews.iter().map(|r| r.calibrated_total).collect::<Vec<_>>(),
            vec![dec!(87.7337), dec!(82.6402)]
        );
        assert_eq!(result.calibrated_total(1, dec!(70)), Some(dec!(72.4533)));
        assert_eq!(result.calibrated_total(5, dec!(70)), None);
    }

    /// Reviewers 0 and 1 review applications 0 and 1 (80 and 90, 85 and 95); reviewer 2 gives
    /// a single 50, to application 2.
    fn one_review_reviewer_pool() -> ReviewSet {
        panel(
            3,
            3,
            &[
                (0, 0, dec!(80)),
                (1, 0, dec!(90)),
                (0, 1, dec!(85)),
                (1, 1, dec!(95)),
                (2, 2, dec!(50)),
            ],
        )
    }

    #[test]
    fn shrinkage_pulls_a_one_review_reviewer_towards_the_pool() {
        // Pool: mean 400 / 5 = 80; squared distances 0 + 100 + 25 + 225 + 900 = 1250, variance
        // 1250 / 4 = 312.5, spread 17.6777. Reviewer 2, one review of 50, λ = 3: usual total
        // (50 + 3·80) / 4 = 72.5; usual spread √((0 + 3·312.5) / (1 − 1 + 3)) = the pool's.
        // Their 50 becomes 80 + 17.6777 × (50 − 72.5) / 17.6777 = 57.5: three quarters of
        // their distance below the pool is kept, as one review is weak evidence of harshness.
        let shrunk = standardize(&one_review_reviewer_pool(), &StandardizationSettings::default()).unwrap();
        assert_eq!(shrunk.pool_mean, dec!(80));
        assert_eq!(shrunk.pool_sd, dec!(17.6777));
        let lone = shrunk.reviewer(2).unwrap();
        assert_eq!((lone.raw_mean, lone.raw_sd), (dec!(50), None));
        assert_eq!(
            (lone.shrunk_mean, lone.shrunk_sd, lone.offset_from_pool),
            (dec!(72.5), dec!(17.6777), dec!(-7.5))
        );
        let app2 = shrunk.applications[2].merit.as_ref().unwrap();
        assert_eq!(
            (app2.raw, app2.calibrated, app2.adjustment),
            (dec!(50), dec!(57.5), dec!(7.5))
        );

        // With no imaginary reviews the single 50 is taken as the reviewer's usual total and
        // there is no spread to go on, so it is moved all the way to the pool average, 80.
        let unshrunk = standardize(
            &one_review_reviewer_pool(),
            &StandardizationSettings::new(dec!(0)).unwrap(),
        )
        .unwrap();
        let lone = unshrunk.reviewer(2).unwrap();
        assert_eq!((lone.shrunk_mean, lone.shrunk_sd), (dec!(50), dec!(0)));
        assert_eq!(unshrunk.applications[2].merit.as_ref().unwrap().calibrated, dec!(80));
    }

    #[test]
    fn a_reviewer_with_no_spread_gives_the_pool_average() {
        // Without imaginary reviews, reviewer 1's two totals of 60 have no spread: dividing by
        // it is impossible, and they say nothing about which application is better, so both
        // become the pool average, (90 + 70 + 60 + 60) / 4 = 70.
        let reviews = panel(
            2,
            2,
            &[(0, 0, dec!(90)), (1, 0, dec!(70)), (0, 1, dec!(60)), (1, 1, dec!(60))],
        );
        let result = standardize(&reviews, &StandardizationSettings::new(dec!(0)).unwrap()).unwrap();
        assert_eq!(result.pool_mean, dec!(70));
        assert_eq!(result.reviewer(1).unwrap().shrunk_sd, dec!(0));
        for application in &result.applications {
            let merit = application.merit.as_ref().unwrap();
            assert_eq!(merit.reviews[1].calibrated_total, dec!(70));
        }
        assert!(
            result
                .explain_reviewer(1)
                .unwrap()
                .ends_with("each of their totals becomes the pool average, 70.")
        );
    }

    /// Twelve applications whose true merit falls 3 points at a time from 90 (application 0)
    /// to 57 (application 11). Each is reviewed by two of the fair reviewers 0, 1 and 2, and a
    /// third: reviewer 3 for the even-numbered applications, a third fair reviewer for the odd.
    /// Fair reviewers give the true merit; reviewer 3 gives 10 points less. An even-numbered
    /// application's raw merit is pulled down 10/3 points, below the next one's.
    fn harsh_reviewer_pool(totals_for_first: Option<Decimal>) -> Vec<Review> {
        let mut totals = Vec::new();
        for application in 0..12_usize {
            let merit = Decimal::from(90 - 3 * application);
            let third = if application % 2 == 0 { 3 } else { (application + 2) % 3 };
            for reviewer in [application % 3, (application + 1) % 3, third] {
                let total = match totals_for_first {
                    Some(total) if application == 0 => total,
                    _ if reviewer == 3 => merit - dec!(10),
                    _ => merit,
                };
                totals.push((application, reviewer, total));
            }
        }
        reviews_of(&totals)
    }

    fn harsh_panel(totals_for_first: Option<Decimal>) -> ReviewSet {
        ReviewSet::new(
            Rubric::new(vec![dec!(100)]).unwrap(),
            12,
            4,
            harsh_reviewer_pool(totals_for_first),
        )
        .unwrap()
    }

    #[test]
    fn a_reviewer_ten_points_harsher_is_corrected_by_both_methods() {
        let reviews = harsh_panel(None);
        let raw: Vec<Decimal> = (0..12).map(|a| reviews.merit(a).unwrap()).collect();
        let true_order: Vec<usize> = (0..12).collect();
        // Raw: 90 -> (90 + 90 + 80) / 3 = 86.6667 falls below application 1's 87.
        assert_eq!(raw[0], dec!(86.6667));
        assert_eq!(raw[1], dec!(87));
        assert_eq!(ranking(&raw), vec![1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10]);

        let standardized = standardize(&reviews, &StandardizationSettings::default()).unwrap();
        assert_eq!(ranking(&calibrated(&standardized.applications)), true_order);
        assert!(standardized.reviewer(3).unwrap().offset_from_pool < dec!(-4));

        // Reviewer-bias fit, λ = 3. The fixed point is b = +1.6 for each fair reviewer and
        // b = −4.8 for reviewer 3, as checking both conditions by hand shows:
        // - merits: even application a: (m + m + (m − 10) − 1.6 − 1.6 + 4.8) / 3 = m − 2.8;
        //   odd: (3m − 3·1.6) / 3 = m − 1.6.
        // - reviewer 3 reviews the 6 even applications, each (m − 10) − (m − 2.8) = −7.2:
        //   b = 6·(−7.2) / (6 + 3) = −4.8.
        // - reviewer 0 reviews 4 even applications (gap +2.8) and 6 odd ones (gap +1.6):
        //   b = (11.2 + 9.6) / (10 + 3) = 1.6; reviewers 1 and 2 likewise.
        let model = fit_reviewer_bias(&reviews, &BiasModelSettings::default()).unwrap();
        let biases: Vec<(usize, usize, Decimal)> = model
            .reviewers
            .iter()
            .map(|r| (r.reviewer, r.review_count, r.bias))
            .collect();
        assert_eq!(
            biases,
            vec![
                (0, 10, dec!(1.6)),
                (1, 10, dec!(1.6)),
                (2, 10, dec!(1.6)),
                (3, 6, dec!(-4.8))
            ]
        );
        let reviewer3 = model.reviewer(3).unwrap();
        // Reviewer 3's totals: 80, 74, 68, 62, 56, 50, averaging 65.
        assert_eq!((reviewer3.raw_mean, reviewer3.average_gap), (dec!(65), dec!(-7.2)));
        let expected: Vec<Decimal> = (0..12)
            .map(|a| Decimal::from(90 - 3 * a) - if a % 2 == 0 { dec!(2.8) } else { dec!(1.6) })
            .collect();
        assert_eq!(calibrated(&model.applications), expected);
        assert_eq!(ranking(&expected), true_order);
        let app0 = model.applications[0].merit.as_ref().unwrap();
        assert_eq!(
            app0.reviews.iter().map(|r| r.calibrated_total).collect::<Vec<_>>(),
            vec![dec!(88.4), dec!(88.4), dec!(84.8)]
        );
        assert_eq!(app0.adjustment, dec!(87.2) - dec!(86.6667));
    }

    #[test]
    fn bias_correction_above_full_marks_is_held_at_the_total() {
        // All three reviewers give application 0 full marks; with reviewer 3's negative bias
        // taken off, their corrected totals average more than 100, so the merit is held at 100.
        let model = fit_reviewer_bias(&harsh_panel(Some(dec!(100))), &BiasModelSettings::default()).unwrap();
        let app0 = model.applications[0].merit.as_ref().unwrap();
        let corrected: Decimal = app0.reviews.iter().map(|r| r.calibrated_total).sum();
        assert!(corrected / dec!(3) > dec!(100));
        assert_eq!(
            (app0.raw, app0.calibrated, app0.adjustment),
            (dec!(100), dec!(100), dec!(0))
        );
    }

    #[test]
    fn a_heavy_hold_towards_no_bias_leaves_raw_merit_unchanged() {
        let settings = BiasModelSettings::new(dec!(1000000000)).unwrap();
        let model = fit_reviewer_bias(&harsh_panel(None), &settings).unwrap();
        for application in &model.applications {
            let merit = application.merit.as_ref().unwrap();
            assert_eq!(merit.calibrated, merit.raw);
            assert_eq!(merit.adjustment, dec!(0));
        }
        assert!(model.reviewers.iter().all(|r| r.bias.is_zero()));
    }

    #[test]
    fn unreviewed_applications_and_idle_reviewers_are_left_out() {
        let reviews = panel(
            3,
            4,
            &[(0, 0, dec!(60)), (0, 1, dec!(70)), (2, 0, dec!(80)), (2, 1, dec!(75))],
        );
        let standardized = standardize(&reviews, &StandardizationSettings::default()).unwrap();
        let model = fit_reviewer_bias(&reviews, &BiasModelSettings::default()).unwrap();
        assert_eq!(
            standardized.applications[1],
            CalibratedApplication {
                application: 1,
                merit: None
            }
        );
        assert_eq!(
            model.applications[1],
            CalibratedApplication {
                application: 1,
                merit: None
            }
        );
        assert_eq!(
            standardized.reviewers.iter().map(|r| r.reviewer).collect::<Vec<_>>(),
            vec![0, 1]
        );
        assert_eq!(
            model.reviewers.iter().map(|r| r.reviewer).collect::<Vec<_>>(),
            vec![0, 1]
        );
        assert!(standardized.reviewer(3).is_none());
        assert_eq!(
            standardized.explain_application(1).unwrap(),
            "Application 1 has no reviews, so it has no merit score to calibrate."
        );
    }

    #[test]
    fn settings_and_empty_pools_are_refused() {
        assert_eq!(
            StandardizationSettings::new(dec!(-1)),
            Err(CalibrationError::PseudoReviewsNegative { value: dec!(-1) })
        );
        assert_eq!(
            BiasModelSettings::new(dec!(0)),
            Err(CalibrationError::PseudoReviewsNotPositive { value: dec!(0) })
        );
        let empty = panel(2, 2, &[]);
        assert_eq!(
            standardize(&empty, &StandardizationSettings::default()),
            Err(CalibrationError::NoReviews)
        );
        assert_eq!(
            fit_reviewer_bias(&empty, &BiasModelSettings::default()),
            Err(CalibrationError::NoReviews)
        );
    }

    #[test]
    fn explanations_give_every_figure_used() {
        let result = standardize(&two_reviewer_pool(), &StandardizationSettings::default()).unwrap();
        assert_eq!(
            result.explain_reviewer(1).unwrap(),
            "Reviewer 1 gave 3 reviews with totals averaging 70; all 6 reviews average 75 with a spread of 10.4881. \
             Counting 3 imaginary reviews at the pool's average and spread, their usual total is taken as 72.5 \
             (2.5 points below the pool) and their usual spread as 10.2956. Each of their totals x becomes \
             75 + 10.4881 × (x − 72.5) ÷ 10.2956, kept between 0 and 100."
        );
        assert_eq!(
            result.explain_application(0).unwrap(),
            "Application 0: raw merit 65 (the mean of its reviewers' totals). Calibrated by standardizing each \
             reviewer: reviewer 0's 70 becomes 67.3598 (usual total 77.5, usual spread 10.2956); reviewer 1's 60 \
             becomes 62.2663 (usual total 72.5, usual spread 10.2956). The calibrated merit is the mean of these, \
             64.8131, a change of -0.1869 from the raw merit."
        );
        let model = fit_reviewer_bias(&harsh_panel(None), &BiasModelSettings::default()).unwrap();
        assert_eq!(
            model.explain_reviewer(3).unwrap(),
            "Reviewer 3 gave 6 reviews with totals averaging 65. On the applications they reviewed, their totals \
             sit on average 7.2 points below the merit the model finds for those applications. Counting 3 \
             imaginary reviews with no bias, their bias is taken as -4.8, so 4.8 points are added to each of \
             their totals."
        );
        assert_eq!(
            model.explain_application(0).unwrap(),
            "Application 0: raw merit 86.6667 (the mean of its reviewers' totals). Calibrated by taking each \
             reviewer's bias off: reviewer 0's 90 becomes 88.4 (bias +1.6); reviewer 1's 90 becomes 88.4 \
             (bias +1.6); reviewer 3's 80 becomes 84.8 (bias -4.8). The calibrated merit is the mean of these, \
             87.2, a change of +0.5333 from the raw merit."
        );
    }

    #[test]
    fn the_order_reviews_arrive_in_does_not_change_calibration() {
        let rubric = Rubric::new(vec![dec!(100)]).unwrap();
        let forward = ReviewSet::new(rubric.clone(), 12, 4, harsh_reviewer_pool(None)).unwrap();
        let mut reversed = harsh_reviewer_pool(None);
        reversed.reverse();
        let backward = ReviewSet::new(rubric, 12, 4, reversed).unwrap();
        assert_eq!(
            standardize(&forward, &StandardizationSettings::default()),
            standardize(&backward, &StandardizationSettings::default())
        );
        assert_eq!(
            fit_reviewer_bias(&forward, &BiasModelSettings::default()),
            fit_reviewer_bias(&backward, &BiasModelSettings::default())
        );
    }

    proptest! {
        #[test]
        fn calibrated_merit_stays_within_the_rubric_and_order_does_not_matter(
            (points, applications, reviewers, reviews) in arbitrary_panel(),
            seed in any::<u64>(),
            lambda in 0_u32..=6,
        ) {
            let rubric = Rubric::new(points).unwrap();
            let total = rubric.total();
            let set = ReviewSet::new(rubric.clone(), applications, reviewers, reviews.clone()).unwrap();
            let shuffled = ReviewSet::new(rubric, applications, reviewers, shuffle(reviews, seed)).unwrap();
            let lambda = Decimal::from(lambda);
            let standardization = StandardizationSettings::new(lambda).unwrap();
            let standardized = standardize(&set, &standardization);
            prop_assert_eq!(&standardized, &standardize(&shuffled, &standardization));
            let Ok(standardized) = standardized else {
                prop_assert!(set.is_empty());
                return Ok(());
            };
            let bias = BiasModelSettings::new(lambda + dec!(0.5)).unwrap();
            let model = fit_reviewer_bias(&set, &bias).unwrap();
            prop_assert_eq!(&model, &fit_reviewer_bias(&shuffled, &bias).unwrap());
            for applications in [&standardized.applications, &model.applications] {
                for application in applications {
                    prop_assert_eq!(application.merit.is_some(), set.merit(application.application).is_some());
                    if let Some(merit) = &application.merit {
                        prop_assert!(merit.calibrated >= Decimal::ZERO && merit.calibrated <= total);
                        prop_assert_eq!(merit.adjustment, merit.calibrated - merit.raw);
                    }
                }
            }
            for application in &standardized.applications {
                for review in application.merit.iter().flat_map(|m| &m.reviews) {
                    prop_assert!(review.calibrated_total >= Decimal::ZERO && review.calibrated_total <= total);
                }
            }
        }

        #[test]
        fn shifting_every_score_moves_every_merit_by_the_shift_and_leaves_biases_alone(
            cells in prop::collection::vec((any::<bool>(), 500_u32..=800), 30),
            shift in 0_u32..=300,
            lambda in 1_u32..=6,
        ) {
            // Six applications, five reviewers, totals of 500 to 800 on a 2000-point rubric:
            // a bias is never more than the 300-point range of the totals, so neither the shift
            // nor the corrections reach the rubric's bounds.
            let shift = Decimal::from(shift);
            let build = |extra: Decimal| {
                let reviews = cells
                    .iter()
                    .enumerate()
                    .filter(|(_, (present, _))| *present)
                    .map(|(cell, &(_, total))| Review {
                        application: cell / 5,
                        reviewer: cell % 5,
                        scores: vec![Decimal::from(total) + extra],
                    })
                    .collect();
                ReviewSet::new(Rubric::new(vec![dec!(2000)]).unwrap(), 6, 5, reviews).unwrap()
            };
            let settings = BiasModelSettings::new(Decimal::from(lambda)).unwrap();
            let Ok(before) = fit_reviewer_bias(&build(Decimal::ZERO), &settings) else {
                prop_assert!(cells.iter().all(|(present, _)| !present));
                return Ok(());
            };
            let after = fit_reviewer_bias(&build(shift), &settings).unwrap();
            // The fit is in floating point: a bias may round to the neighbouring ten-thousandth.
            for (b, a) in before.reviewers.iter().zip(&after.reviewers) {
                prop_assert!((a.bias - b.bias).abs() <= dec!(0.0001));
            }
            for (b, a) in before.applications.iter().zip(&after.applications) {
                if let (Some(b), Some(a)) = (&b.merit, &a.merit) {
                    prop_assert!((a.calibrated - (b.calibrated + shift)).abs() <= dec!(0.0002));
                }
            }
        }
    }
}
