//! Aggregation: how the submitted reviews of each application become its merit score.
//!
//! Every reviewer scores an application criterion by criterion, each score between zero and
//! the criterion's published points. For each application this module takes the mean of each
//! criterion over its reviews, adds those means up into the merit score (out of the rubric's
//! total, on the weights the solicitation published), and checks whether the reviewers
//! disagree enough that the panel should discuss the application before its score is used.
//!
//! All arithmetic is exact (`Decimal`). Means are the only figures that need rounding; they
//! are rounded once, to [`SCORE_DECIMAL_PLACES`] decimal places, half away from zero (the way
//! people round by hand: 7.00005 becomes 7.0001). Reviews are put in a fixed order
//! (application, then reviewer) before anything is computed, so the same reviews always give
//! the same result, whatever order they arrive in.

use std::fmt;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// Decimal places kept in every mean, merit score and calibrated figure.
pub const SCORE_DECIMAL_PLACES: u32 = 4;

/// Rounds a score to [`SCORE_DECIMAL_PLACES`] places, half away from zero (half-up for the
/// non-negative figures scoring deals in): 71.23445 becomes 71.2345, 71.23444 becomes 71.2344.
pub fn round_score(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(SCORE_DECIMAL_PLACES, RoundingStrategy::MidpointAwayFromZero)
}

/// What is wrong with a rubric, a review or a disagreement threshold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AggregateError {
    /// A rubric needs at least one criterion.
    #[error("the rubric has no criteria")]
    EmptyRubric,
    /// Every criterion must be worth some points.
    #[error("criterion {criterion} is worth {points} points; every criterion must be worth more than zero")]
    CriterionPointsNotPositive { criterion: usize, points: Decimal },
    /// The criteria's points add up to more than can be counted exactly.
    #[error("the rubric's points add up to more than can be counted exactly")]
    RubricTooLarge,
    /// A review names an application that is not in the competition.
    #[error(
        "a review by reviewer {reviewer} names application {application}, but there are only {applications} applications (numbered from 0)"
    )]
    UnknownApplication {
        application: usize,
        reviewer: usize,
        applications: usize,
    },
    /// A review names a reviewer who is not on the panel.
    #[error(
        "a review of application {application} names reviewer {reviewer}, but there are only {reviewers} reviewers (numbered from 0)"
    )]
    UnknownReviewer {
        application: usize,
        reviewer: usize,
        reviewers: usize,
    },
    /// A review does not give exactly one score per criterion.
    #[error(
        "reviewer {reviewer}'s review of application {application} has {found} scores, but the rubric has {expected} criteria"
    )]
    WrongScoreCount {
        application: usize,
        reviewer: usize,
        expected: usize,
        found: usize,
    },
    /// A score is below zero or above the criterion's points.
    #[error(
        "reviewer {reviewer} gave application {application} {score} on criterion {criterion}, which allows only 0 to {points} points"
    )]
    ScoreOutOfRange {
        application: usize,
        reviewer: usize,
        criterion: usize,
        score: Decimal,
        points: Decimal,
    },
    /// The same reviewer reviewed the same application twice; only one review may count.
    #[error("reviewer {reviewer} reviewed application {application} more than once")]
    DuplicateReview { application: usize, reviewer: usize },
    /// A disagreement threshold is a share of the points, above 0 and at most 1.
    #[error("a disagreement threshold must be a share above 0 and at most 1 (for example 0.2 for 20%), not {share}")]
    ThresholdOutOfRange { share: Decimal },
}

/// The solicitation's rubric: the points each criterion is worth, in the published order.
/// The criteria's points add up to the total a merit score is out of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rubric {
    points: Vec<Decimal>,
    total: Decimal,
}

impl Rubric {
    /// A rubric from each criterion's maximum points. Refuses an empty list and any criterion
    /// worth zero or less.
    pub fn new(points: Vec<Decimal>) -> Result<Self, AggregateError> {
        if points.is_empty() {
            return Err(AggregateError::EmptyRubric);
        }
        let mut total = Decimal::ZERO;
        for (criterion, &value) in points.iter().enumerate() {
            if value <= Decimal::ZERO {
                return Err(AggregateError::CriterionPointsNotPositive {
                    criterion,
                    points: value,
                });
            }
            total = total.checked_add(value).ok_or(AggregateError::RubricTooLarge)?;
        }
        Ok(Self { points, total })
    }

    /// Each criterion's maximum points, in the published order.
    pub fn points(&self) -> &[Decimal] {
        &self.points
    }

    /// How many criteria the rubric has.
    pub fn criteria(&self) -> usize {
        self.points.len()
    }

    /// The total a merit score is out of: the sum of the criteria's points.
    pub fn total(&self) -> Decimal {
        self.total
    }
}

/// One submitted review: the reviewer's score on each criterion, in the rubric's order.
/// Applications are numbered `0..applications` and reviewers `0..reviewers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub application: usize,
    pub reviewer: usize,
    pub scores: Vec<Decimal>,
}

/// A checked set of reviews: every score is within its criterion's points, every review has
/// one score per criterion, and no reviewer reviewed the same application twice. Reviews are
/// held in a fixed order (application, then reviewer), whatever order they were given in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewSet {
    rubric: Rubric,
    applications: usize,
    reviewers: usize,
    entries: Vec<Entry>,
    /// Every review's scores, one after another, `rubric.criteria()` per review.
    scores: Vec<Decimal>,
    /// Application `a`'s reviews are `entries[starts[a]..starts[a + 1]]`.
    starts: Vec<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    application: usize,
    reviewer: usize,
    total: Decimal,
}

/// One review as held in a [`ReviewSet`], with its total (the sum of its scores).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScoredReview<'a> {
    pub application: usize,
    pub reviewer: usize,
    pub scores: &'a [Decimal],
    pub total: Decimal,
}

impl ReviewSet {
    /// Checks the reviews against the rubric and the numbers of applications and reviewers.
    /// The first problem found, in application-then-reviewer order, is returned and names the
    /// application, the reviewer and, for a bad score, the criterion.
    pub fn new(
        rubric: Rubric,
        applications: usize,
        reviewers: usize,
        mut reviews: Vec<Review>,
    ) -> Result<Self, AggregateError> {
        reviews.sort_unstable_by_key(|review| (review.application, review.reviewer));
        let criteria = rubric.criteria();
        let mut entries = Vec::with_capacity(reviews.len());
        let mut scores = Vec::with_capacity(reviews.len().saturating_mul(criteria));
        let mut starts = vec![0_usize; applications + 1];
        let mut previous = None;
        for review in &reviews {
            let (application, reviewer) = (review.application, review.reviewer);
            if application >= applications {
                return Err(AggregateError::UnknownApplication {
                    application,
                    reviewer,
                    applications,
                });
            }
            if reviewer >= reviewers {
                return Err(AggregateError::UnknownReviewer {
                    application,
                    reviewer,
                    reviewers,
                });
            }
            if previous == Some((application, reviewer)) {
                return Err(AggregateError::DuplicateReview { application, reviewer });
            }
            previous = Some((application, reviewer));
            if review.scores.len() != criteria {
                return Err(AggregateError::WrongScoreCount {
                    application,
                    reviewer,
                    expected: criteria,
                    found: review.scores.len(),
                });
            }
            let mut total = Decimal::ZERO;
            for (criterion, (&score, &points)) in review.scores.iter().zip(rubric.points()).enumerate() {
                if score < Decimal::ZERO || score > points {
                    return Err(AggregateError::ScoreOutOfRange {
                        application,
                        reviewer,
                        criterion,
                        score,
                        points,
                    });
                }
                // Bounded by the rubric's total, which was summed without overflow.
                total += score;
            }
            scores.extend_from_slice(&review.scores);
            entries.push(Entry {
                application,
                reviewer,
                total,
            });
            starts[application + 1] += 1;
        }
        for application in 0..applications {
            starts[application + 1] += starts[application];
        }
        Ok(Self {
            rubric,
            applications,
            reviewers,
            entries,
            scores,
            starts,
        })
    }

    /// The rubric the reviews were checked against.
    pub fn rubric(&self) -> &Rubric {
        &self.rubric
    }

    /// How many applications there are (numbered from 0), reviewed or not.
    pub fn applications(&self) -> usize {
        self.applications
    }

    /// How many reviewers there are (numbered from 0), whether they reviewed anything or not.
    pub fn reviewers(&self) -> usize {
        self.reviewers
    }

    /// How many reviews there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no reviews at all.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every review, by application and then by reviewer.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = ScoredReview<'_>> + '_ {
        (0..self.entries.len()).map(|index| self.review_at(index))
    }

    /// One application's reviews, by reviewer; none for an unknown application.
    pub fn reviews_of(&self, application: usize) -> impl ExactSizeIterator<Item = ScoredReview<'_>> + '_ {
        let range = match (self.starts.get(application), self.starts.get(application + 1)) {
            (Some(&start), Some(&end)) => start..end,
            _ => 0..0,
        };
        range.map(|index| self.review_at(index))
    }

    /// An application's merit score: the mean of its reviews' totals, which is the sum of its
    /// criterion means, rounded once with [`round_score`]. `None` if it has no reviews.
    pub fn merit(&self, application: usize) -> Option<Decimal> {
        mean(self.reviews_of(application).map(|review| review.total))
    }

    fn review_at(&self, index: usize) -> ScoredReview<'_> {
        let entry = self.entries[index];
        let width = self.rubric.criteria();
        ScoredReview {
            application: entry.application,
            reviewer: entry.reviewer,
            scores: &self.scores[index * width..(index + 1) * width],
            total: entry.total,
        }
    }
}

/// The exact mean of some figures, rounded once with [`round_score`]; `None` if there are none.
pub(crate) fn mean(values: impl Iterator<Item = Decimal>) -> Option<Decimal> {
    let (sum, count) = values.fold((Decimal::ZERO, 0_usize), |(sum, count), value| (sum + value, count + 1));
    (count > 0).then(|| round_score(sum / Decimal::from(count)))
}

/// When reviewers disagree enough that an application should be discussed before its score is
/// used. Each limit is a share of the points at stake: of the rubric's total for reviewers'
/// totals, and of each criterion's points for that criterion's scores. An application is
/// flagged when a spread (highest minus lowest) is *more* than the limit; a spread exactly at
/// the limit is not flagged. A limit left out is not checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DisagreementThresholds {
    total_spread_share: Option<Decimal>,
    criterion_spread_share: Option<Decimal>,
}

impl DisagreementThresholds {
    /// Limits as shares above 0 and at most 1: `0.2` flags an application when its reviewers'
    /// totals are more than 20% of the total points apart.
    pub fn new(
        total_spread_share: Option<Decimal>,
        criterion_spread_share: Option<Decimal>,
    ) -> Result<Self, AggregateError> {
        for share in [total_spread_share, criterion_spread_share].into_iter().flatten() {
            if share <= Decimal::ZERO || share > Decimal::ONE {
                return Err(AggregateError::ThresholdOutOfRange { share });
            }
        }
        Ok(Self {
            total_spread_share,
            criterion_spread_share,
        })
    }

    /// The largest spread of reviewers' totals, as a share of the total points, that is not
    /// flagged.
    pub fn total_spread_share(&self) -> Option<Decimal> {
        self.total_spread_share
    }

    /// The largest spread of scores on one criterion, as a share of that criterion's points,
    /// that is not flagged.
    pub fn criterion_spread_share(&self) -> Option<Decimal> {
        self.criterion_spread_share
    }
}

impl Default for DisagreementThresholds {
    /// Totals more than 20% of the total points apart, or scores on one criterion more than
    /// 50% of its points apart.
    fn default() -> Self {
        Self {
            total_spread_share: Some(Decimal::new(2, 1)),
            criterion_spread_share: Some(Decimal::new(5, 1)),
        }
    }
}

/// The merit scores of every application, in application order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Aggregation {
    /// What a merit score is out of: the rubric's total points.
    pub total_points: Decimal,
    /// The limits the disagreement flags were judged against.
    pub thresholds: DisagreementThresholds,
    /// One entry per application, `applications[a].application == a`.
    pub applications: Vec<ApplicationScore>,
}

impl Aggregation {
    /// The applications whose reviewers disagree beyond the thresholds, in application order.
    pub fn needing_discussion(&self) -> impl Iterator<Item = &ApplicationScore> + '_ {
        self.applications
            .iter()
            .filter(|application| application.needs_discussion())
    }
}

/// One application's result. `merit` is `None` when nobody has reviewed it yet: such an
/// application has no merit score at all, which is not the same as scoring zero.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApplicationScore {
    pub application: usize,
    pub merit: Option<MeritScore>,
}

impl ApplicationScore {
    /// How many reviews the application has.
    pub fn review_count(&self) -> usize {
        self.merit.as_ref().map_or(0, |merit| merit.review_count)
    }

    /// Whether the reviewers disagree beyond the thresholds.
    pub fn needs_discussion(&self) -> bool {
        self.merit
            .as_ref()
            .is_some_and(|merit| merit.disagreement.needs_discussion())
    }
}

/// A reviewed application's merit score and how it was reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MeritScore {
    /// The merit score, out of the rubric's total: the sum of the criterion means, computed
    /// exactly as the mean of the reviewers' totals and rounded once. Because each criterion
    /// mean shown is rounded on its own, the shown means may add up to a figure that differs
    /// from the merit score by at most 0.00005 per criterion.
    pub merit: Decimal,
    /// The mean score on each criterion over the reviews, rounded, in the rubric's order.
    pub criterion_means: Vec<Decimal>,
    /// How many reviews the means are over.
    pub review_count: usize,
    /// Each reviewer's total (the sum of their scores), by reviewer.
    pub reviewer_totals: Vec<ReviewerTotal>,
    /// How far apart the reviewers are, and whether that calls for discussion.
    pub disagreement: Disagreement,
}

/// One reviewer's total for one application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ReviewerTotal {
    pub reviewer: usize,
    pub total: Decimal,
}

/// One reviewer's score on one criterion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ReviewerScore {
    pub reviewer: usize,
    pub score: Decimal,
}

/// How far apart an application's reviewers are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Disagreement {
    /// The highest reviewer total minus the lowest (zero with a single review).
    pub total_spread: Decimal,
    /// For each criterion, the highest score minus the lowest.
    pub criterion_spreads: Vec<Decimal>,
    /// Why the application should be discussed; empty when the reviewers are close enough.
    pub reasons: Vec<DisagreementReason>,
}

impl Disagreement {
    /// Whether any spread is beyond its limit.
    pub fn needs_discussion(&self) -> bool {
        !self.reasons.is_empty()
    }
}

/// One spread beyond its limit, naming the reviewers at either end. When several reviewers
/// share the highest or lowest figure, the one with the lowest number is named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum DisagreementReason {
    /// The reviewers' totals are further apart than the limit allows.
    TotalSpread {
        lowest: ReviewerTotal,
        highest: ReviewerTotal,
        spread: Decimal,
        allowed: Decimal,
    },
    /// The reviewers' scores on one criterion are further apart than the limit allows.
    CriterionSpread {
        criterion: usize,
        points: Decimal,
        lowest: ReviewerScore,
        highest: ReviewerScore,
        spread: Decimal,
        allowed: Decimal,
    },
}

impl fmt::Display for DisagreementReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TotalSpread {
                lowest,
                highest,
                spread,
                allowed,
            } => write!(
                f,
                "The reviewers' totals range from {} (reviewer {}) to {} (reviewer {}), {} points apart; \
                 more than {} points apart calls for discussion.",
                lowest.total.normalize(),
                lowest.reviewer,
                highest.total.normalize(),
                highest.reviewer,
                spread.normalize(),
                allowed.normalize(),
            ),
            Self::CriterionSpread {
                criterion,
                points,
                lowest,
                highest,
                spread,
                allowed,
            } => write!(
                f,
                "On criterion {criterion} (worth {} points) the scores range from {} (reviewer {}) to {} \
                 (reviewer {}), {} points apart; more than {} points apart calls for discussion.",
                points.normalize(),
                lowest.score.normalize(),
                lowest.reviewer,
                highest.score.normalize(),
                highest.reviewer,
                spread.normalize(),
                allowed.normalize(),
            ),
        }
    }
}

/// Computes every application's merit score and disagreement from checked reviews.
pub fn aggregate(reviews: &ReviewSet, thresholds: &DisagreementThresholds) -> Aggregation {
    let rubric = reviews.rubric();
    let total_allowed = thresholds.total_spread_share.map(|share| share * rubric.total());
    let criterion_allowed: Vec<Option<Decimal>> = rubric
        .points()
        .iter()
        .map(|&points| thresholds.criterion_spread_share.map(|share| share * points))
        .collect();
    let applications = (0..reviews.applications())
        .map(|application| ApplicationScore {
            application,
            merit: score_application(reviews, application, total_allowed, &criterion_allowed),
        })
        .collect();
    Aggregation {
        total_points: rubric.total(),
        thresholds: *thresholds,
        applications,
    }
}

fn score_application(
    reviews: &ReviewSet,
    application: usize,
    total_allowed: Option<Decimal>,
    criterion_allowed: &[Option<Decimal>],
) -> Option<MeritScore> {
    let mut application_reviews = reviews.reviews_of(application);
    let first = application_reviews.next()?;
    let mut criterion_sums = first.scores.to_vec();
    let first_scores = first.scores.iter().map(|&score| ReviewerScore {
        reviewer: first.reviewer,
        score,
    });
    let mut criterion_lowest: Vec<ReviewerScore> = first_scores.clone().collect();
    let mut criterion_highest: Vec<ReviewerScore> = first_scores.collect();
    let first_total = ReviewerTotal {
        reviewer: first.reviewer,
        total: first.total,
    };
    let (mut lowest, mut highest) = (first_total, first_total);
    let mut total_sum = first.total;
    let mut reviewer_totals = Vec::with_capacity(application_reviews.len() + 1);
    reviewer_totals.push(first_total);

    // Reviews come by reviewer, and only a strictly lower or higher figure replaces the one
    // held, so ties name the lowest-numbered reviewer.
    for review in application_reviews {
        let reviewer = review.reviewer;
        for (criterion, &score) in review.scores.iter().enumerate() {
            criterion_sums[criterion] += score;
            if score < criterion_lowest[criterion].score {
                criterion_lowest[criterion] = ReviewerScore { reviewer, score };
            }
            if score > criterion_highest[criterion].score {
                criterion_highest[criterion] = ReviewerScore { reviewer, score };
            }
        }
        let this = ReviewerTotal {
            reviewer,
            total: review.total,
        };
        if this.total < lowest.total {
            lowest = this;
        }
        if this.total > highest.total {
            highest = this;
        }
        total_sum += review.total;
        reviewer_totals.push(this);
    }

    let review_count = reviewer_totals.len();
    let count = Decimal::from(review_count);
    let total_spread = highest.total - lowest.total;
    let mut reasons = Vec::new();
    if let Some(allowed) = total_allowed
        && total_spread > allowed
    {
        reasons.push(DisagreementReason::TotalSpread {
            lowest,
            highest,
            spread: total_spread,
            allowed,
        });
    }
    let points = reviews.rubric().points();
    let mut criterion_spreads = Vec::with_capacity(points.len());
    for criterion in 0..points.len() {
        let (low, high) = (criterion_lowest[criterion], criterion_highest[criterion]);
        let spread = high.score - low.score;
        criterion_spreads.push(spread);
        if let Some(allowed) = criterion_allowed[criterion]
            && spread > allowed
        {
            reasons.push(DisagreementReason::CriterionSpread {
                criterion,
                points: points[criterion],
                lowest: low,
                highest: high,
                spread,
                allowed,
            });
        }
    }

    Some(MeritScore {
        merit: round_score(total_sum / count),
        criterion_means: criterion_sums.into_iter().map(|sum| round_score(sum / count)).collect(),
        review_count,
        reviewer_totals,
        disagreement: Disagreement {
            total_spread,
            criterion_spreads,
            reasons,
        },
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    /// A 3-criterion rubric worth 50 + 30 + 20 = 100 points.
    fn rubric() -> Rubric {
        Rubric::new(vec![dec!(50), dec!(30), dec!(20)]).unwrap()
    }

    fn review(application: usize, reviewer: usize, scores: &[Decimal]) -> Review {
        Review {
            application,
            reviewer,
            scores: scores.to_vec(),
        }
    }

    fn set(applications: usize, reviewers: usize, reviews: Vec<Review>) -> Result<ReviewSet, AggregateError> {
        ReviewSet::new(rubric(), applications, reviewers, reviews)
    }

    #[test]
    fn criterion_means_and_merit_on_a_three_criterion_rubric() {
        let reviews = set(
            2,
            3,
            vec![
                review(0, 0, &[dec!(40), dec!(20), dec!(15)]),
                review(0, 1, &[dec!(45), dec!(25), dec!(10)]),
                review(0, 2, &[dec!(35), dec!(27.5), dec!(20)]),
                review(1, 1, &[dec!(30), dec!(10), dec!(5)]),
            ],
        )
        .unwrap();
        let result = aggregate(&reviews, &DisagreementThresholds::default());
        assert_eq!(result.total_points, dec!(100));

        let first = result.applications[0].merit.as_ref().unwrap();
        // Criterion means: (40+45+35)/3 = 40, (20+25+27.5)/3 = 24.1666.. -> 24.1667,
        // (15+10+20)/3 = 15. Totals 75, 80, 82.5; merit (75+80+82.5)/3 = 79.1666.. -> 79.1667.
        assert_eq!(first.criterion_means, vec![dec!(40), dec!(24.1667), dec!(15)]);
        assert_eq!(first.merit, dec!(79.1667));
        assert_eq!(first.review_count, 3);
        assert_eq!(
            first.reviewer_totals,
            vec![
                ReviewerTotal {
                    reviewer: 0,
                    total: dec!(75)
                },
                ReviewerTotal {
                    reviewer: 1,
                    total: dec!(80)
                },
                ReviewerTotal {
                    reviewer: 2,
                    total: dec!(82.5)
                },
            ]
        );
        // Spreads: totals 82.5 - 75 = 7.5; criteria 45-35 = 10, 27.5-20 = 7.5, 20-10 = 10.
        assert_eq!(first.disagreement.total_spread, dec!(7.5));
        assert_eq!(
            first.disagreement.criterion_spreads,
            vec![dec!(10), dec!(7.5), dec!(10)]
        );
        assert!(!first.disagreement.needs_discussion());

        let second = result.applications[1].merit.as_ref().unwrap();
        assert_eq!(second.criterion_means, vec![dec!(30), dec!(10), dec!(5)]);
        assert_eq!(second.merit, dec!(45));
        assert_eq!(second.review_count, 1);
        assert_eq!(reviews.merit(0), Some(dec!(79.1667)));
    }

    #[test]
    fn means_round_half_away_from_zero_to_four_places() {
        assert_eq!(round_score(dec!(71.23445)), dec!(71.2345));
        assert_eq!(round_score(dec!(71.23444)), dec!(71.2344));
        assert_eq!(round_score(dec!(0.00005)), dec!(0.0001));
        // Half away from zero, not to even: 2.00015 -> 2.0002 and 2.00025 -> 2.0003.
        assert_eq!(round_score(dec!(2.00015)), dec!(2.0002));
        assert_eq!(round_score(dec!(2.00025)), dec!(2.0003));

        // Totals 10.0001 and 10.0002: the exact mean 10.00015 rounds up to 10.0002.
        let reviews = set(
            1,
            2,
            vec![
                review(0, 0, &[dec!(10.0001), dec!(0), dec!(0)]),
                review(0, 1, &[dec!(10.0002), dec!(0), dec!(0)]),
            ],
        )
        .unwrap();
        let merit = aggregate(&reviews, &DisagreementThresholds::default()).applications[0]
            .merit
            .clone()
            .unwrap();
        assert_eq!(merit.merit, dec!(10.0002));
        assert_eq!(merit.criterion_means[0], dec!(10.0002));
    }

    #[test]
    fn merit_is_rounded_once_not_summed_from_rounded_means() {
        // Three reviews of 1, 0, 0 / 0, 1, 0 / 0, 0, 1: each criterion mean is 1/3 -> 0.3333,
        // which add to 0.9999, but every reviewer's total is 1 and so is the merit score. Two
        // applications with the same totals must tie, however the points fall on criteria.
        let reviews = set(
            2,
            3,
            vec![
                review(0, 0, &[dec!(1), dec!(0), dec!(0)]),
                review(0, 1, &[dec!(0), dec!(1), dec!(0)]),
                review(0, 2, &[dec!(0), dec!(0), dec!(1)]),
                review(1, 0, &[dec!(1), dec!(0), dec!(0)]),
                review(1, 1, &[dec!(1), dec!(0), dec!(0)]),
                review(1, 2, &[dec!(1), dec!(0), dec!(0)]),
            ],
        )
        .unwrap();
        let result = aggregate(&reviews, &DisagreementThresholds::default());
        let spread = result.applications[0].merit.as_ref().unwrap();
        let stacked = result.applications[1].merit.as_ref().unwrap();
        assert_eq!(spread.criterion_means, vec![dec!(0.3333), dec!(0.3333), dec!(0.3333)]);
        assert_eq!(spread.merit, dec!(1));
        assert_eq!(stacked.merit, spread.merit);
    }

    #[test]
    fn an_application_without_reviews_has_no_merit_score() {
        let reviews = set(3, 2, vec![review(1, 0, &[dec!(0), dec!(0), dec!(0)])]).unwrap();
        let result = aggregate(&reviews, &DisagreementThresholds::default());
        assert_eq!(result.applications.len(), 3);
        assert_eq!(
            result.applications[0],
            ApplicationScore {
                application: 0,
                merit: None
            }
        );
        assert_eq!(result.applications[0].review_count(), 0);
        assert_eq!(result.applications[2].merit, None);
        // Scored zero is a score: it is reported, not confused with "not reviewed".
        assert_eq!(result.applications[1].merit.as_ref().map(|m| m.merit), Some(dec!(0)));
        assert_eq!(reviews.merit(0), None);
        assert_eq!(reviews.merit(7), None);
    }

    #[test]
    fn validation_names_the_application_reviewer_and_criterion() {
        assert_eq!(Rubric::new(vec![]), Err(AggregateError::EmptyRubric));
        assert_eq!(
            Rubric::new(vec![dec!(10), dec!(0)]),
            Err(AggregateError::CriterionPointsNotPositive {
                criterion: 1,
                points: dec!(0)
            })
        );
        assert_eq!(
            set(2, 2, vec![review(0, 1, &[dec!(10), dec!(10)])]),
            Err(AggregateError::WrongScoreCount {
                application: 0,
                reviewer: 1,
                expected: 3,
                found: 2
            })
        );
        assert_eq!(
            set(2, 2, vec![review(1, 0, &[dec!(10), dec!(30.5), dec!(0)])]),
            Err(AggregateError::ScoreOutOfRange {
                application: 1,
                reviewer: 0,
                criterion: 1,
                score: dec!(30.5),
                points: dec!(30),
            })
        );
        assert_eq!(
            set(2, 2, vec![review(1, 1, &[dec!(10), dec!(3), dec!(-0.5)])]),
            Err(AggregateError::ScoreOutOfRange {
                application: 1,
                reviewer: 1,
                criterion: 2,
                score: dec!(-0.5),
                points: dec!(20),
            })
        );
        // Scores exactly at 0 and at the criterion's points are fine.
        assert!(set(1, 1, vec![review(0, 0, &[dec!(50), dec!(0), dec!(20)])]).is_ok());
        assert_eq!(
            set(
                2,
                3,
                vec![
                    review(1, 2, &[dec!(1), dec!(1), dec!(1)]),
                    review(0, 2, &[dec!(1), dec!(1), dec!(1)]),
                    review(1, 2, &[dec!(2), dec!(2), dec!(2)]),
                ]
            ),
            Err(AggregateError::DuplicateReview {
                application: 1,
                reviewer: 2
            })
        );
        assert_eq!(
            set(2, 2, vec![review(2, 0, &[dec!(1), dec!(1), dec!(1)])]),
            Err(AggregateError::UnknownApplication {
                application: 2,
                reviewer: 0,
                applications: 2
            })
        );
        assert_eq!(
            set(2, 2, vec![review(0, 5, &[dec!(1), dec!(1), dec!(1)])]),
            Err(AggregateError::UnknownReviewer {
                application: 0,
                reviewer: 5,
                reviewers: 2
            })
        );
        assert_eq!(
            DisagreementThresholds::new(Some(dec!(0)), None),
            Err(AggregateError::ThresholdOutOfRange { share: dec!(0) })
        );
        assert_eq!(
            DisagreementThresholds::new(None, Some(dec!(1.5))),
            Err(AggregateError::ThresholdOutOfRange { share: dec!(1.5) })
        );
        let message = AggregateError::ScoreOutOfRange {
            application: 4,
            reviewer: 2,
            criterion: 1,
            score: dec!(31),
            points: dec!(30),
        }
        .to_string();
        assert_eq!(
            message,
            "reviewer 2 gave application 4 31 on criterion 1, which allows only 0 to 30 points"
        );
    }

    /// Application 0: totals 20 points apart (exactly 20% of 100), criterion 0 scores 25 apart
    /// (exactly 50% of 50): nothing is flagged. Application 1: the same but 20.5 and 25.5 apart.
    fn threshold_reviews() -> ReviewSet {
        set(
            2,
            3,
            vec![
                review(0, 0, &[dec!(20), dec!(15), dec!(10)]),
                review(0, 1, &[dec!(45), dec!(10), dec!(10)]),
                review(0, 2, &[dec!(30), dec!(15), dec!(10)]),
                review(1, 0, &[dec!(20), dec!(15), dec!(10)]),
                review(1, 1, &[dec!(45.5), dec!(10), dec!(10)]),
                review(1, 2, &[dec!(30), dec!(15), dec!(10)]),
            ],
        )
        .unwrap()
    }

    #[test]
    fn disagreement_exactly_at_the_limits_is_not_flagged() {
        let result = aggregate(&threshold_reviews(), &DisagreementThresholds::default());
        let at_limit = result.applications[0].merit.as_ref().unwrap();
        // Totals 45, 65, 55: spread 20, the limit is 20% of 100 = 20.
        assert_eq!(at_limit.disagreement.total_spread, dec!(20));
        // Criterion 0: 20, 45, 30: spread 25, the limit is 50% of 50 = 25.
        assert_eq!(at_limit.disagreement.criterion_spreads[0], dec!(25));
        assert!(at_limit.disagreement.reasons.is_empty());
        assert!(!result.applications[0].needs_discussion());
    }

    #[test]
    fn disagreement_beyond_the_limits_is_flagged_with_the_reason() {
        let result = aggregate(&threshold_reviews(), &DisagreementThresholds::default());
        let flagged: Vec<usize> = result.needing_discussion().map(|a| a.application).collect();
        assert_eq!(flagged, vec![1]);
        let reasons = &result.applications[1].merit.as_ref().unwrap().disagreement.reasons;
        assert_eq!(
            reasons,
            &vec![
                DisagreementReason::TotalSpread {
                    lowest: ReviewerTotal {
                        reviewer: 0,
                        total: dec!(45)
                    },
                    highest: ReviewerTotal {
                        reviewer: 1,
                        total: dec!(65.5)
                    },
                    spread: dec!(20.5),
                    allowed: dec!(20),
                },
                DisagreementReason::CriterionSpread {
                    criterion: 0,
                    points: dec!(50),
                    lowest: ReviewerScore {
                        reviewer: 0,
                        score: dec!(20)
                    },
                    highest: ReviewerScore {
                        reviewer: 1,
                        score: dec!(45.5)
                    },
                    spread: dec!(25.5),
                    allowed: dec!(25),
                },
            ]
        );
        assert_eq!(
            reasons[0].to_string(),
            "The reviewers' totals range from 45 (reviewer 0) to 65.5 (reviewer 1), 20.5 points apart; \
             more than 20 points apart calls for discussion."
        );
        assert_eq!(
            reasons[1].to_string(),
            "On criterion 0 (worth 50 points) the scores range from 20 (reviewer 0) to 45.5 (reviewer 1), \
             25.5 points apart; more than 25 points apart calls for discussion."
        );
    }

    #[test]
    fn each_limit_is_checked_on_its_own_and_can_be_switched_off() {
        let reviews = threshold_reviews();
        let totals_only = DisagreementThresholds::new(Some(dec!(0.2)), None).unwrap();
        let reasons = aggregate(&reviews, &totals_only).applications[1]
            .merit
            .clone()
            .unwrap()
            .disagreement
            .reasons;
        assert!(matches!(reasons.as_slice(), [DisagreementReason::TotalSpread { .. }]));

        // Stricter criterion limit: 40% of criterion 0's 50 points is 20, so application 0's
        // 25-point spread on criterion 0 is flagged, while its 5-point spreads on criterion 1
        // (limit 12) are not.
        let strict = DisagreementThresholds::new(None, Some(dec!(0.4))).unwrap();
        let result = aggregate(&reviews, &strict);
        let reasons = &result.applications[0].merit.as_ref().unwrap().disagreement.reasons;
        assert_eq!(reasons.len(), 1);
        assert!(
            matches!(reasons[0], DisagreementReason::CriterionSpread { criterion: 0, allowed, .. } if allowed == dec!(20))
        );

        let none = DisagreementThresholds::new(None, None).unwrap();
        assert_eq!(aggregate(&reviews, &none).needing_discussion().count(), 0);
    }

    #[test]
    fn ties_at_either_end_name_the_lowest_numbered_reviewer() {
        let reviews = set(
            1,
            4,
            vec![
                review(0, 3, &[dec!(50), dec!(30), dec!(20)]),
                review(0, 2, &[dec!(0), dec!(0), dec!(0)]),
                review(0, 1, &[dec!(50), dec!(30), dec!(20)]),
                review(0, 0, &[dec!(0), dec!(0), dec!(0)]),
            ],
        )
        .unwrap();
        let result = aggregate(&reviews, &DisagreementThresholds::default());
        let reasons = &result.applications[0].merit.as_ref().unwrap().disagreement.reasons;
        assert_eq!(
            reasons[0],
            DisagreementReason::TotalSpread {
                lowest: ReviewerTotal {
                    reviewer: 0,
                    total: dec!(0)
                },
                highest: ReviewerTotal {
                    reviewer: 1,
                    total: dec!(100)
                },
                spread: dec!(100),
                allowed: dec!(20),
            }
        );
        assert_eq!(reasons.len(), 4);
    }

    #[test]
    fn the_order_reviews_arrive_in_does_not_change_the_result() {
        let reviews = vec![
            review(2, 1, &[dec!(12.5), dec!(30), dec!(0)]),
            review(0, 0, &[dec!(40), dec!(20), dec!(15)]),
            review(1, 2, &[dec!(3), dec!(7), dec!(19)]),
            review(0, 2, &[dec!(35), dec!(27.5), dec!(20)]),
            review(2, 0, &[dec!(50), dec!(1), dec!(1)]),
            review(0, 1, &[dec!(45), dec!(25), dec!(10)]),
        ];
        let mut reversed = reviews.clone();
        reversed.reverse();
        let forward = aggregate(&set(3, 3, reviews).unwrap(), &DisagreementThresholds::default());
        let backward = aggregate(&set(3, 3, reversed).unwrap(), &DisagreementThresholds::default());
        assert_eq!(forward, backward);
    }

    /// A rubric of 1 to 4 criteria, each worth 1 to 40 points; each application-reviewer pair
    /// has a review or not, with half-point scores within each criterion's points.
    pub(crate) fn arbitrary_panel() -> impl Strategy<Value = (Vec<Decimal>, usize, usize, Vec<Review>)> {
        (prop::collection::vec(1_u32..=40, 1..=4), 1_usize..=6, 1_usize..=5).prop_flat_map(
            |(points, applications, reviewers)| {
                let criteria = points.len();
                let pairs = prop::collection::vec(
                    (any::<bool>(), prop::collection::vec(0_u32..=80, criteria)),
                    applications * reviewers,
                );
                (Just(points), Just(applications), Just(reviewers), pairs).prop_map(
                    |(points, applications, reviewers, pairs)| {
                        let reviews = pairs
                            .into_iter()
                            .enumerate()
                            .filter(|(_, (present, _))| *present)
                            .map(|(pair, (_, halves))| Review {
                                application: pair / reviewers,
                                reviewer: pair % reviewers,
                                scores: halves
                                    .iter()
                                    .zip(&points)
                                    .map(|(&h, &p)| Decimal::new(i64::from(h % (2 * p + 1)) * 5, 1))
                                    .collect(),
                            })
                            .collect();
                        (
                            points.into_iter().map(Decimal::from).collect(),
                            applications,
                            reviewers,
                            reviews,
                        )
                    },
                )
            },
        )
    }

    /// The reviews in an order fixed by `seed` (a seeded Fisher-Yates shuffle).
    pub(crate) fn shuffle(mut reviews: Vec<Review>, seed: u64) -> Vec<Review> {
        let mut state = seed;
        for i in (1..reviews.len()).rev() {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let j = usize::try_from((state >> 33) % (i as u64 + 1)).unwrap();
            reviews.swap(i, j);
        }
        reviews
    }

    proptest! {
        #[test]
        fn merit_is_the_sum_of_the_criterion_means_within_rounding(
            (points, applications, reviewers, reviews) in arbitrary_panel()
        ) {
            let rubric = Rubric::new(points).unwrap();
            let total = rubric.total();
            let criteria = Decimal::from(rubric.criteria());
            let set = ReviewSet::new(rubric, applications, reviewers, reviews.clone()).unwrap();
            let result = aggregate(&set, &DisagreementThresholds::default());
            for score in &result.applications {
                let mine: Vec<&Review> = reviews.iter().filter(|r| r.application == score.application).collect();
                prop_assert_eq!(score.review_count(), mine.len());
                let Some(merit) = &score.merit else {
                    prop_assert!(mine.is_empty());
                    continue;
                };
                // The exact sum of the criterion means (sum of all scores over the count),
                // rounded once, is the merit score.
                let all_scores: Decimal = mine.iter().flat_map(|r| r.scores.iter()).copied().sum();
                let count = Decimal::from(mine.len());
                prop_assert_eq!(merit.merit, round_score(all_scores / count));
                let shown: Decimal = merit.criterion_means.iter().copied().sum();
                prop_assert!((merit.merit - shown).abs() <= dec!(0.00005) * criteria);
                prop_assert!(merit.merit >= Decimal::ZERO && merit.merit <= total);
                let spread_flagged = merit.disagreement.reasons.iter()
                    .any(|r| matches!(r, DisagreementReason::TotalSpread { .. }));
                prop_assert_eq!(spread_flagged, merit.disagreement.total_spread > dec!(0.2) * total);
            }
        }

        #[test]
        fn any_review_order_gives_the_same_result(
            (points, applications, reviewers, reviews) in arbitrary_panel(),
            seed in any::<u64>(),
        ) {
            let rubric = Rubric::new(points).unwrap();
            let shuffled = shuffle(reviews.clone(), seed);
            let a = aggregate(&ReviewSet::new(rubric.clone(), applications, reviewers, reviews).unwrap(), &DisagreementThresholds::default());
            let b = aggregate(&ReviewSet::new(rubric, applications, reviewers, shuffled).unwrap(), &DisagreementThresholds::default());
            prop_assert_eq!(a, b);
        }
    }
}
