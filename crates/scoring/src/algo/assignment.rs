//! Reviewer assignment: which reviewers read which applications, chosen as the cheapest plan
//! that keeps every rule.
//!
//! # The problem in grant terms
//!
//! Each application needs a number of reviewers (usually three) and belongs to some of the
//! solicitation's program areas. Each reviewer has areas of expertise and agreed to review at
//! least `min_load` and at most `max_load` applications. A reviewer never reviews an application
//! they declared a conflict of interest with. A program officer can change the plan by hand: a
//! pinned pair (application, reviewer) must stay in the plan, an excluded pair is removed and is
//! treated exactly like a conflict.
//!
//! The hard rules of a plan are: every application gets exactly the number of reviewers it
//! needs, all different; no conflicted or excluded pair is used; every pinned pair is used; and
//! every reviewer's load lies between their minimum and maximum.
//!
//! # What a plan costs
//!
//! Among the plans that keep the hard rules, [`solve`] returns one of the cheapest. The cost of a
//! plan has two integer parts (no floating point anywhere):
//!
//! - **expertise**: for each assigned pair, [`AssignmentWeights::uncovered_area`] times the number
//!   of the application's program areas that the reviewer's expertise does not cover;
//! - **balance**: for each reviewer, [`AssignmentWeights::load_balance`] times the square of their
//!   load. The `n`-th review a reviewer takes costs `(2n - 1) × load_balance`, so each extra review
//!   costs more than the one before and the cheapest plan spreads the work evenly.
//!
//! How the two trade off: giving a review to a reviewer whose load is `h` instead of one whose
//! load is `l` adds `2 × load_balance × (h - l)` of balance cost. So a reviewer who covers `d` more
//! of the application's areas is preferred while their load is less than
//! `d × uncovered_area / (2 × load_balance)` above the other reviewer's. With the defaults
//! (10 and 1) one more covered area is worth a gap of five reviews; raise `load_balance` for
//! flatter loads, raise `uncovered_area` for closer expertise matches.
//!
//! # How it is solved, and what "optimal" means
//!
//! The plan is a minimum-cost flow. Each application sends the reviews it still needs (after
//! pinned pairs) over arcs of capacity 1 to reviewers it has no conflict with, at the pair's
//! expertise cost; each reviewer passes reviews on to a sink over one arc of capacity 1 per
//! possible unit of load, the `n`-th costing `(2n - 1) × load_balance` (a convex cost, so the
//! cheapest load arcs fill first). Minimum loads are lower bounds, handled by the standard
//! transformation: each reviewer is a demand node for the reviews up to their minimum, and only
//! reviews above it go on through the priced load arcs to the sink. The flow is computed by
//! primal-dual successive shortest paths (Dijkstra with node prices, then a blocking flow along
//! all shortest paths at once), written here, on exact integer costs.
//!
//! Three steps keep 50,000 applications by 2,000 reviewers (100 million pairs) fast:
//!
//! 1. **Warm start.** Applications needing the same number of reviews in the same areas are
//!    interchangeable apart from conflicts, and so are reviewers with the same expertise and
//!    loads. The problem on these classes, ignoring conflicts, is small (a few hundred nodes when
//!    expertise comes in a few hundred combinations) and is solved exactly. Its flow, dealt out
//!    to individual applications and reviewers around conflicts, is a nearly complete plan, and
//!    its prices, given to each member of a class, are nearly optimal.
//! 2. **Candidates.** The exact solve starts on a sparse set of pairs: each application's
//!    dealt-out reviewers and a few members of the reviewer classes cheapest for it. A max flow
//!    checks that the candidates admit a plan; if not, the pairs crossing the blocking cut are
//!    added, and when the full problem has no such pair the cut itself is the explanation.
//! 3. **Pricing** (column generation). After the exact solve on the candidates, every pair left
//!    out is priced with the final node prices; pairs with a negative reduced cost are added and
//!    the solve continues from the current plan and prices. When no pair is left to add, the
//!    prices prove the plan optimal for the full problem.
//!
//! The proof: every residual arc of the full network (every conflict-free pair, every load arc)
//! has a non-negative reduced cost `cost + price(tail) - price(head)`, so no cycle of changes to
//! the plan can lower its cost, the classical optimality condition for a minimum-cost flow.
//! [`verify_optimal`] checks this (in the slightly more general form of
//! [`OptimalityCertificate`]) independently of the solver, against every pair of the problem,
//! grouping reviewers with the same expertise so that 100 million pairs take about 0.1 s; and
//! [`solve_with`] runs the same check before returning.
//!
//! So "optimal" means: no plan that keeps the hard rules has a lower total cost (expertise plus
//! balance). The unit tests check this claim against exhaustive enumeration of every plan on
//! 4,000 random problems of up to 4 applications and 4 reviewers (conflicts, exclusions, pins,
//! loads and weights drawn at random), each solved four ways: with and without the warm start,
//! on all pairs and on a deliberately tiny candidate set that makes the feasibility and pricing
//! loops do the work.
//!
//! When the rules cannot all be kept, the error says why in words a program officer can act on
//! (see [`AssignmentError`]). When a reviewer declares a conflict late,
//! [`reassign_after_conflict`] replaces them on that one application without touching anything
//! else.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// How many program areas a solicitation can have for assignment purposes (areas are the bits
/// of a `u64`).
pub const MAX_PROGRAM_AREAS: usize = 64;

/// The largest weight accepted for either cost part; larger weights could overflow the exact
/// integer arithmetic on big problems.
pub const MAX_WEIGHT: i64 = 1_000_000;

/// A set of a solicitation's program areas (by index, 0 to 63): the areas an application belongs
/// to, or the areas a reviewer has expertise in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ProgramAreas(u64);

impl ProgramAreas {
    /// No program area at all.
    pub const NONE: Self = Self(0);

    /// The set of the given area indices; an index of 64 or more is rejected.
    pub fn from_indices<I: IntoIterator<Item = usize>>(areas: I) -> Result<Self, AssignmentError> {
        let mut bits = 0u64;
        for area in areas {
            if area >= MAX_PROGRAM_AREAS {
                return Err(AssignmentError::AreaOutOfRange { area });
            }
            bits |= 1u64 << area;
        }
        Ok(Self(bits))
    }

    /// The set whose bit `i` says whether area `i` belongs to it.
    pub const fn from_bits(bits: u64) -> Self {
        Self(bits)
    }

    /// The bits of the set (bit `i` for area `i`).
    pub const fn bits(self) -> u64 {
        self.0
    }

    /// Whether area `area` is in the set.
    pub const fn contains(self, area: usize) -> bool {
        area < MAX_PROGRAM_AREAS && (self.0 >> area) & 1 == 1
    }

    /// How many areas the set holds.
    pub const fn len(self) -> u32 {
        self.0.count_ones()
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// How many of these (application) areas the given expertise does not cover.
    pub const fn uncovered_by(self, expertise: ProgramAreas) -> u32 {
        (self.0 & !expertise.0).count_ones()
    }
}

/// What one application needs from assignment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationNeeds {
    /// How many different reviewers must read it (usually 3).
    pub reviewers_needed: u32,
    /// The program areas it belongs to.
    pub areas: ProgramAreas,
}

/// What one reviewer brings: expertise and the range of reviews they agreed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewerCapacity {
    /// The program areas the reviewer has expertise in.
    pub expertise: ProgramAreas,
    /// The fewest applications the reviewer must be given.
    pub min_load: u32,
    /// The most applications the reviewer can be given.
    pub max_load: u32,
}

/// An (application, reviewer) pair, by their indices in the problem.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ReviewPair {
    /// Index into [`AssignmentProblem::applications`].
    pub application: usize,
    /// Index into [`AssignmentProblem::reviewers`].
    pub reviewer: usize,
}

impl ReviewPair {
    /// The pair of application `application` and reviewer `reviewer`.
    pub const fn new(application: usize, reviewer: usize) -> Self {
        Self { application, reviewer }
    }
}

/// The weights of the two cost parts; see the module documentation for how they trade off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentWeights {
    /// Cost of each program area of an application that an assigned reviewer does not cover.
    pub uncovered_area: i64,
    /// Weight of the balance cost `load²` of each reviewer.
    pub load_balance: i64,
}

impl Default for AssignmentWeights {
    /// 10 per uncovered area and 1 for balance: one more covered area is worth giving a
    /// reviewer up to five more reviews than another.
    fn default() -> Self {
        Self {
            uncovered_area: 10,
            load_balance: 1,
        }
    }
}

impl AssignmentWeights {
    /// The expertise cost of giving an application with `areas` to a reviewer with `expertise`.
    pub const fn expertise_cost(&self, areas: ProgramAreas, expertise: ProgramAreas) -> i64 {
        self.uncovered_area * areas.uncovered_by(expertise) as i64
    }

    /// The balance cost of a reviewer carrying `load` reviews: `load_balance × load²`.
    pub const fn balance_cost(&self, load: u32) -> i64 {
        self.load_balance * (load as i64) * (load as i64)
    }

    /// What the `n`-th review of a reviewer adds to the balance cost: `(2n - 1) × load_balance`.
    pub const fn marginal_balance_cost(&self, n: u32) -> i64 {
        self.load_balance * (2 * n as i64 - 1)
    }
}

/// Everything assignment needs to know: applications, reviewers, conflicts, the program
/// officer's manual changes and the cost weights.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentProblem {
    /// The applications, by index.
    pub applications: Vec<ApplicationNeeds>,
    /// The reviewers, by index.
    pub reviewers: Vec<ReviewerCapacity>,
    /// Declared conflicts of interest: these pairs are never assigned.
    pub conflicts: Vec<ReviewPair>,
    /// Pairs a program officer pinned: they always stay in the plan.
    pub pinned: Vec<ReviewPair>,
    /// Pairs a program officer removed: treated exactly like conflicts.
    pub excluded: Vec<ReviewPair>,
    /// The cost weights.
    pub weights: AssignmentWeights,
}

/// Tuning of the solver. None of it changes the result (always an optimal plan), only how fast
/// it is found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SolveOptions {
    /// How many candidate reviewers each application starts with at least when the problem is
    /// solved on a sparse candidate set (its reviewers in the warm start count among them); the
    /// pricing loop adds whatever else is needed.
    pub candidates_per_application: usize,
    /// Problems with at most this many (application, reviewer) pairs are solved on every pair
    /// at once, without candidates or pricing.
    pub full_graph_up_to: usize,
    /// Whether to start from the solution of the problem on classes of interchangeable
    /// applications and reviewers (see [`solve_with`]).
    pub warm_start: bool,
}

impl Default for SolveOptions {
    fn default() -> Self {
        Self {
            candidates_per_application: 10,
            full_graph_up_to: 2_000_000,
            warm_start: true,
        }
    }
}

/// The two parts of a plan's cost, so a page can explain it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostBreakdown {
    /// Sum over assigned pairs of `uncovered_area × uncovered areas`.
    pub expertise: i64,
    /// Sum over reviewers of `load_balance × load²`.
    pub balance: i64,
}

impl CostBreakdown {
    /// The total cost the solver minimises.
    pub const fn total(&self) -> i64 {
        self.expertise + self.balance
    }
}

/// A plan: who reviews what, each reviewer's load, and what the plan costs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    /// For each application (by index), its reviewers in increasing index order.
    pub reviewers: Vec<Vec<usize>>,
    /// For each reviewer (by index), how many applications they review.
    pub loads: Vec<u32>,
    /// The plan's cost, part by part.
    pub cost: CostBreakdown,
}

impl Assignment {
    /// Checks a plan against every hard rule of `problem` and works out loads and cost.
    ///
    /// `reviewers[a]` lists application `a`'s reviewers in any order.
    pub fn from_reviewers(
        problem: &AssignmentProblem,
        mut reviewers: Vec<Vec<usize>>,
    ) -> Result<Self, AssignmentError> {
        let rules = Rules::new(problem)?;
        let broken = |detail: String| Err(AssignmentError::BrokenRule { detail });
        if reviewers.len() != rules.n {
            return broken(format!(
                "the plan lists {} applications but there are {}",
                reviewers.len(),
                rules.n
            ));
        }
        let mut loads = vec![0u32; rules.m];
        let mut cost = CostBreakdown::default();
        let weights = problem.weights;
        for (a, list) in reviewers.iter_mut().enumerate() {
            list.sort_unstable();
            let needed = problem.applications[a].reviewers_needed as usize;
            if list.len() != needed {
                return broken(format!(
                    "application {a} has {} but needs {needed}",
                    count(list.len(), "reviewer", "reviewers")
                ));
            }
            if list.windows(2).any(|w| w[0] == w[1]) {
                return broken(format!("application {a} lists a reviewer twice"));
            }
            for &r in list.iter() {
                if r >= rules.m {
                    return Err(AssignmentError::UnknownReviewer {
                        reviewer: r,
                        count: rules.m,
                    });
                }
                if rules.conflicted[a].binary_search(&(r as u32)).is_ok() {
                    return broken(format!("reviewer {r} has a conflict with application {a}"));
                }
                if rules.removed[a].binary_search(&(r as u32)).is_ok() {
                    return broken(format!("reviewer {r} was removed from application {a}"));
                }
                loads[r] += 1;
                cost.expertise += weights.expertise_cost(problem.applications[a].areas, problem.reviewers[r].expertise);
            }
            for &r in &rules.pinned[a] {
                if list.binary_search(&(r as usize)).is_err() {
                    return broken(format!("reviewer {r} is pinned to application {a} but not in the plan"));
                }
            }
        }
        for (r, (&load, reviewer)) in loads.iter().zip(&problem.reviewers).enumerate() {
            if load < reviewer.min_load || load > reviewer.max_load {
                return broken(format!(
                    "reviewer {r} has {} but must have between {} and {}",
                    count(load as usize, "review", "reviews"),
                    reviewer.min_load,
                    reviewer.max_load
                ));
            }
            cost.balance += weights.balance_cost(load);
        }
        Ok(Self { reviewers, loads, cost })
    }
}

/// Node prices that prove a plan optimal (see [`verify_optimal`]).
///
/// Costs are multiplied by `scale`; the reduced cost of an arc from `u` to `v` is
/// `scale × cost + price(u) - price(v)`. The sink is the node every reviewer's load flows to.
/// For a reviewer whose load lies strictly between their minimum and their maximum,
/// `(sink_price - reviewer_price) / scale` lies between the balance cost of their last review
/// and that of their next one: what their time is worth to the plan at the margin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptimalityCertificate {
    /// The factor all costs are multiplied by; it must exceed the number of nodes
    /// (applications + reviewers + 1).
    pub scale: i64,
    /// One price per application.
    pub application_prices: Vec<i64>,
    /// One price per reviewer.
    pub reviewer_prices: Vec<i64>,
    /// The sink's price.
    pub sink_price: i64,
}

/// How the solve went, for logs and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SolveStats {
    /// Whether every (application, reviewer) pair was in the network from the start.
    pub full_graph: bool,
    /// Whether the solve started from the solution on classes of interchangeable applications
    /// and reviewers.
    pub warm_start: bool,
    /// How many (application, reviewer) pairs the network held at the end.
    pub candidate_pairs: usize,
    /// How many times a max-flow feasibility check ran on the candidates (1 when the first
    /// candidate set already had a plan).
    pub feasibility_rounds: u32,
    /// How many pricing rounds added pairs (0 when the first candidate set was already optimal).
    pub pricing_rounds: u32,
    /// How many pairs pricing and the feasibility check added to the first candidate set.
    pub pairs_added: usize,
}

/// The result of [`solve`]: the plan, the prices proving it optimal, and solve statistics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SolveReport {
    /// The optimal plan.
    pub assignment: Assignment,
    /// Prices that prove the plan optimal; check them with [`verify_optimal`].
    pub certificate: OptimalityCertificate,
    /// How the solve went.
    pub stats: SolveStats,
}

/// A late conflict handled: who left, who replaced them, and what it cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replacement {
    /// The application concerned.
    pub application: usize,
    /// The reviewer who declared the conflict and left the application.
    pub removed: usize,
    /// The reviewer who took their place.
    pub replacement: usize,
    /// How many of the application's areas the replacement does not cover.
    pub uncovered_areas: u32,
    /// The replacement's load after taking the application.
    pub replacement_load: u32,
    /// Total cost after the change minus total cost before it.
    pub cost_change: i64,
    /// Whether the reviewer who left is now below their minimum load (only a full re-solve,
    /// which may move other assignments, can fix that).
    pub removed_reviewer_below_minimum: bool,
}

/// Why a plan could not be made or checked.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum AssignmentError {
    /// A program area index outside 0..64.
    #[error("program area {area} is out of range: areas are numbered 0 to 63")]
    AreaOutOfRange {
        /// The rejected index.
        area: usize,
    },
    /// A pair names an application that does not exist.
    #[error("application {application} does not exist: there are {count} applications")]
    UnknownApplication {
        /// The index given.
        application: usize,
        /// How many applications there are.
        count: usize,
    },
    /// A pair names a reviewer that does not exist.
    #[error("reviewer {reviewer} does not exist: there are {count} reviewers")]
    UnknownReviewer {
        /// The index given.
        reviewer: usize,
        /// How many reviewers there are.
        count: usize,
    },
    /// A weight outside `0..=MAX_WEIGHT`.
    #[error("the {weight} weight must be between 0 and {}, not {value}", thousands(MAX_WEIGHT as u64))]
    WeightOutOfRange {
        /// Which weight.
        weight: &'static str,
        /// The value given.
        value: i64,
    },
    /// A reviewer whose minimum is above their maximum.
    #[error("reviewer {reviewer}'s minimum load of {min_load} is above their maximum load of {max_load}")]
    MinimumAboveMaximum {
        /// The reviewer.
        reviewer: usize,
        /// Their minimum load.
        min_load: u32,
        /// Their maximum load.
        max_load: u32,
    },
    /// A pinned pair that is also a declared conflict.
    #[error("reviewer {reviewer} is pinned to application {application} but has a conflict with it")]
    PinnedPairConflicted {
        /// The application.
        application: usize,
        /// The reviewer.
        reviewer: usize,
    },
    /// A pair both pinned and excluded.
    #[error("reviewer {reviewer} is both pinned to and removed from application {application}")]
    PinnedPairExcluded {
        /// The application.
        application: usize,
        /// The reviewer.
        reviewer: usize,
    },
    /// More pinned reviewers than an application needs.
    #[error("application {application} has {pinned} pinned reviewers but needs only {needed}")]
    TooManyPinned {
        /// The application.
        application: usize,
        /// How many reviewers are pinned to it.
        pinned: u32,
        /// How many it needs.
        needed: u32,
    },
    /// A reviewer pinned to more applications than their maximum.
    #[error("reviewer {reviewer} is pinned to {pinned} applications, more than their maximum load of {max_load}")]
    PinnedAboveMaximum {
        /// The reviewer.
        reviewer: usize,
        /// How many applications they are pinned to.
        pinned: u32,
        /// Their maximum load.
        max_load: u32,
    },
    /// An application that cannot find enough reviewers on its own.
    #[error(
        "application {application} has only {} without a conflict and with spare capacity; it needs {needed}",
        count(*.available as usize, "reviewer", "reviewers")
    )]
    TooFewReviewers {
        /// The application.
        application: usize,
        /// Reviewers who could take it (pinned ones included).
        available: u32,
        /// How many it needs.
        needed: u32,
    },
    /// Minimum loads that cannot all be met because too few reviews are needed.
    #[error(
        "the reviewers' minimum loads add up to {} but only {} reviews are needed",
        thousands(*.minimum), thousands(*.needed)
    )]
    MinimumLoadsAboveNeed {
        /// Sum of minimum loads (a reviewer pinned to more applications counts their pins).
        minimum: u64,
        /// Sum of reviewers needed over all applications.
        needed: u64,
    },
    /// Too little reviewer capacity overall.
    #[error(
        "the reviewers can take at most {} reviews in all but {} are needed",
        thousands(*.capacity), thousands(*.needed)
    )]
    NotEnoughCapacity {
        /// Sum of maximum loads.
        capacity: u64,
        /// Sum of reviewers needed over all applications.
        needed: u64,
    },
    /// A reviewer who cannot reach their minimum load.
    #[error(
        "reviewer {reviewer} must review at least {min_load} applications but only {} can go to them (no conflict, still needing reviewers)",
        thousands(*.available)
    )]
    ReviewerMinimumUnreachable {
        /// The reviewer.
        reviewer: usize,
        /// Their minimum load.
        min_load: u32,
        /// Applications they could still be given, pinned ones included.
        available: u64,
    },
    /// A group of applications whose conflict-free reviewers cannot cover them (Hall's
    /// condition fails).
    #[error("{}", describe_applications_short(.applications, *.reviews_needed, .reviewers, *.reviewer_room, *.other_pairs))]
    ApplicationsShortOfReviewers {
        /// The applications of the group.
        applications: Vec<usize>,
        /// Reviews they still need between them (after pinned pairs).
        reviews_needed: u64,
        /// Reviewers free of conflict with them whose whole spare capacity is counted.
        reviewers: Vec<usize>,
        /// Spare capacity of those reviewers in all.
        reviewer_room: u64,
        /// Conflict-free pairs with the remaining reviewers: each adds at most one review.
        other_pairs: u64,
    },
    /// A group of reviewers whose minimum loads cannot be met by the applications they are
    /// free to review.
    #[error("{}", describe_reviewers_short(.reviewers, *.minimum_needed, .applications, *.reviews_available, *.other_pairs))]
    ReviewersShortOfApplications {
        /// The reviewers of the group.
        reviewers: Vec<usize>,
        /// Reviews they still need to reach their minimum loads (after pinned pairs).
        minimum_needed: u64,
        /// Applications free of conflict with some of them that still need reviewers.
        applications: Vec<usize>,
        /// Reviews those applications still need in all.
        reviews_available: u64,
        /// Conflict-free pairs with the remaining applications: each adds at most one review.
        other_pairs: u64,
    },
    /// Numbers too large for exact integer arithmetic.
    #[error(
        "the problem is too large to solve exactly: {applications} applications, {reviewers} reviewers and these weights overflow 64-bit costs"
    )]
    ProblemTooLarge {
        /// How many applications.
        applications: usize,
        /// How many reviewers.
        reviewers: usize,
    },
    /// A plan that breaks a hard rule (from [`Assignment::from_reviewers`] or
    /// [`verify_optimal`]).
    #[error("the plan breaks a rule: {detail}")]
    BrokenRule {
        /// Which rule, in words.
        detail: String,
    },
    /// Prices that do not prove the plan optimal (from [`verify_optimal`]).
    #[error("the plan is not proved optimal: {detail}")]
    NotProvedOptimal {
        /// What failed, in words.
        detail: String,
    },
    /// The solver contradicted itself; this is a bug, never an answer about the problem.
    #[error("the assignment solver failed: {detail}")]
    SolverFault {
        /// What went wrong.
        detail: String,
    },
    /// A late conflict declared on a pair that is not in the plan.
    #[error("reviewer {reviewer} is not assigned to application {application}")]
    NotAssigned {
        /// The application.
        application: usize,
        /// The reviewer.
        reviewer: usize,
    },
    /// No reviewer can replace one who declared a late conflict.
    #[error(
        "no reviewer can replace reviewer {reviewer} on application {application}: of the {} others, {conflicted} have a conflict with it or were removed from it, {already_assigned} already review it and {at_maximum} are at their maximum load",
        thousands(*.conflicted as u64 + *.already_assigned as u64 + *.at_maximum as u64)
    )]
    NoReplacement {
        /// The application.
        application: usize,
        /// The reviewer who declared the conflict.
        reviewer: usize,
        /// Other reviewers with a conflict or removed from the application.
        conflicted: usize,
        /// Other reviewers already on the application.
        already_assigned: usize,
        /// Other reviewers at their maximum load.
        at_maximum: usize,
    },
}

/// Solves `problem` optimally with default tuning; see [`solve_with`].
pub fn solve(problem: &AssignmentProblem) -> Result<SolveReport, AssignmentError> {
    solve_with(problem, &SolveOptions::default())
}

/// Finds a cheapest plan that keeps every hard rule, or says why there is none.
///
/// See the module documentation for the method. The returned plan has been checked against
/// every pair of the problem as [`verify_optimal`] does. Problems whose applications and
/// reviewers do not fall into few classes (more than 4 million class pairs) skip the warm start
/// and are slower: about 28 s instead of 2 s at 50,000 applications by 2,000 reviewers.
pub fn solve_with(problem: &AssignmentProblem, options: &SolveOptions) -> Result<SolveReport, AssignmentError> {
    let rules = Rules::new(problem)?;
    let prep = Prepared::new(problem, &rules)?;
    let types = ReviewerTypes::new(&prep);
    let full_graph = (prep.n as u128) * (prep.m as u128) <= options.full_graph_up_to as u128;
    let per_app = options.candidates_per_application.max(1);
    let warm = if options.warm_start {
        warm_start(&prep, Classes::new(&prep))
    } else {
        None
    };
    let warm_used = warm.is_some();
    let (mut graph, warm_count) = match &warm {
        Some(warm) => warm_candidates(&prep, warm, full_graph, per_app),
        None if full_graph => (full_candidates(&prep), vec![0; prep.n]),
        None => (sparse_candidates(&prep, &types, per_app), vec![0; prep.n]),
    };
    let first_pairs: usize = graph.iter().map(Vec::len).sum();

    // A feasible flow on the candidates, adding pairs across any cut that blocks it.
    let mut feasibility_rounds = 0;
    loop {
        feasibility_rounds += 1;
        match feasible_flow(&prep, &graph, &warm_count) {
            Ok(()) => break,
            Err(reachable) => {
                let added = add_cut_crossing_pairs(&prep, &mut graph, &reachable);
                if added == 0 {
                    return Err(explain_cut(&prep, &reachable));
                }
            }
        }
    }

    // Start from the warm start's plan (the first `warm_count[a]` candidates of each
    // application) at the class prices, or from nothing at zero prices; route what is missing.
    let pair_flow: Vec<i32> = graph
        .iter()
        .zip(&warm_count)
        .flat_map(|(list, &w)| (0..list.len()).map(move |i| i32::from((i as u32) < w)))
        .collect();
    let mut model = FlowModel::new(&prep, &graph, pair_flow);
    let start_price = warm.map_or_else(|| vec![0; prep.nodes], |w| w.price);
    let mut solver = PrimalDual::new(model.residual(&prep), start_price, model.excess(&prep));
    solver.route()?;

    // Column generation: price every pair left out; add those that would lower the cost and
    // route again from the current plan and prices, until none is left.
    let mut pricing_rounds = 0;
    if !full_graph {
        loop {
            let violations = price_out(&prep, &types, &solver.price, &graph);
            if violations.is_empty() {
                break;
            }
            pricing_rounds += 1;
            model.read_flows(&solver.g);
            for &(a, r) in &violations {
                graph[a as usize].push(r);
                model.pairs.push((a, r));
                model.pair_flow.push(0);
            }
            let price = std::mem::take(&mut solver.price);
            solver = PrimalDual::new(model.residual(&prep), price, vec![0; prep.nodes]);
            solver.route()?;
        }
    }
    model.read_flows(&solver.g);

    let mut reviewers: Vec<Vec<usize>> = rules
        .pinned
        .iter()
        .map(|p| p.iter().map(|&r| r as usize).collect())
        .collect();
    for (&(a, r), &f) in model.pairs.iter().zip(&model.pair_flow) {
        if f > 0 {
            reviewers[a as usize].push(r as usize);
        }
    }
    let assignment = Assignment::from_reviewers(problem, reviewers)?;
    // The prices are exact in cost units; the certificate states them at the proof's scale.
    let too_large = || AssignmentError::ProblemTooLarge {
        applications: prep.n,
        reviewers: prep.m,
    };
    let price = solver
        .price
        .iter()
        .map(|&p| p.checked_mul(prep.scale).ok_or_else(too_large))
        .collect::<Result<Vec<i64>, _>>()?;
    let certificate = OptimalityCertificate {
        scale: prep.scale,
        application_prices: price[..prep.n].to_vec(),
        reviewer_prices: price[prep.n..prep.n + prep.m].to_vec(),
        sink_price: price[prep.sink],
    };
    check_certificate(&prep, &types, &assignment, &certificate)?;
    let candidate_pairs = graph.iter().map(Vec::len).sum();
    Ok(SolveReport {
        assignment,
        certificate,
        stats: SolveStats {
            warm_start: warm_used,
            full_graph,
            candidate_pairs,
            feasibility_rounds,
            pricing_rounds,
            pairs_added: candidate_pairs - first_pairs,
        },
    })
}

/// Checks that `assignment` keeps every hard rule of `problem` and that `certificate` proves
/// no plan is cheaper.
///
/// The proof: the plan is a flow in the network described in the module documentation (all
/// conflict-free pairs, unit load arcs up to each reviewer's reachable maximum). If every arc
/// the flow could still use has reduced cost at least `-1` (in costs multiplied by `scale`),
/// then any cycle of changes to the plan, which has at most as many arcs as the network has
/// nodes, costs more than `-scale` in scaled units, that is more than `-1`; costs are integers,
/// so no change lowers the cost. (The solver's own prices make every such reduced cost `0` or
/// more.)
/// Arcs are checked in groups of reviewers with the same expertise, sorted by price, so the
/// check is fast even for 100 million pairs.
pub fn verify_optimal(
    problem: &AssignmentProblem,
    assignment: &Assignment,
    certificate: &OptimalityCertificate,
) -> Result<(), AssignmentError> {
    let rules = Rules::new(problem)?;
    let prep = Prepared::new(problem, &rules)?;
    let types = ReviewerTypes::new(&prep);
    let recomputed = Assignment::from_reviewers(problem, assignment.reviewers.clone())?;
    if recomputed != *assignment {
        return Err(AssignmentError::BrokenRule {
            detail: "the loads or the cost do not match the reviewers listed".to_owned(),
        });
    }
    check_certificate(&prep, &types, assignment, certificate)
}

/// Handles a conflict that `reviewer` declared late on `application`, which they were assigned:
/// removes them and gives the application the best replacement, keeping every other
/// assignment as it is.
///
/// With everything else fixed, the total cost changes by the replacement's expertise cost plus
/// the balance cost of their next review, so the replacement is the reviewer who minimises that
/// sum among those without a conflict (declared, removed, or this one), not already on the
/// application and below their maximum load; ties go to the lower load, then the lower index.
/// That choice is optimal given the current loads. Record the conflict in the problem's
/// `conflicts` too, so a later full re-solve honours it.
pub fn reassign_after_conflict(
    problem: &AssignmentProblem,
    assignment: &mut Assignment,
    application: usize,
    reviewer: usize,
) -> Result<Replacement, AssignmentError> {
    let n = problem.applications.len();
    let m = problem.reviewers.len();
    if application >= n || application >= assignment.reviewers.len() {
        return Err(AssignmentError::UnknownApplication { application, count: n });
    }
    if reviewer >= m || reviewer >= assignment.loads.len() {
        return Err(AssignmentError::UnknownReviewer { reviewer, count: m });
    }
    let current = &assignment.reviewers[application];
    let Some(position) = current.iter().position(|&r| r == reviewer) else {
        return Err(AssignmentError::NotAssigned { application, reviewer });
    };
    let mut blocked = vec![false; m];
    for pair in problem.conflicts.iter().chain(&problem.excluded) {
        if pair.application == application && pair.reviewer < m {
            blocked[pair.reviewer] = true;
        }
    }
    let weights = problem.weights;
    let areas = problem.applications[application].areas;
    let (mut conflicted, mut already_assigned, mut at_maximum) = (0, 0, 0);
    let mut best: Option<(i64, u32, usize)> = None;
    for (r, capacity) in problem.reviewers.iter().enumerate() {
        if r == reviewer {
            continue;
        }
        if blocked[r] {
            conflicted += 1;
        } else if current.contains(&r) {
            already_assigned += 1;
        } else if assignment.loads[r] >= capacity.max_load {
            at_maximum += 1;
        } else {
            let load = assignment.loads[r];
            let cost = weights.expertise_cost(areas, capacity.expertise) + weights.marginal_balance_cost(load + 1);
            let key = (cost, load, r);
            if best.is_none_or(|b| key < b) {
                best = Some(key);
            }
        }
    }
    let Some((_, _, replacement)) = best else {
        return Err(AssignmentError::NoReplacement {
            application,
            reviewer,
            conflicted,
            already_assigned,
            at_maximum,
        });
    };
    let expertise_out = weights.expertise_cost(areas, problem.reviewers[reviewer].expertise);
    let expertise_in = weights.expertise_cost(areas, problem.reviewers[replacement].expertise);
    let load_out = assignment.loads[reviewer];
    let load_in = assignment.loads[replacement];
    let balance_change = weights.marginal_balance_cost(load_in + 1) - weights.marginal_balance_cost(load_out);
    let list = &mut assignment.reviewers[application];
    list[position] = replacement;
    list.sort_unstable();
    assignment.loads[reviewer] -= 1;
    assignment.loads[replacement] += 1;
    assignment.cost.expertise += expertise_in - expertise_out;
    assignment.cost.balance += balance_change;
    Ok(Replacement {
        application,
        removed: reviewer,
        replacement,
        uncovered_areas: areas.uncovered_by(problem.reviewers[replacement].expertise),
        replacement_load: load_in + 1,
        cost_change: expertise_in - expertise_out + balance_change,
        removed_reviewer_below_minimum: load_out - 1 < problem.reviewers[reviewer].min_load,
    })
}

// ---------------------------------------------------------------------------------------------
// Messages.

fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{} {many}", thousands(n as u64))
    }
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// "3, 7 and 9", or "3, 7, ... and 40 more" for long lists.
fn id_list(ids: &[usize]) -> String {
    const SHOWN: usize = 8;
    let mut out = String::new();
    let shown = ids.len().min(SHOWN);
    for (i, id) in ids[..shown].iter().enumerate() {
        if i > 0 {
            out.push_str(if i + 1 == shown && ids.len() == shown {
                " and "
            } else {
                ", "
            });
        }
        let _ = write!(out, "{id}");
    }
    if ids.len() > shown {
        let _ = write!(out, " and {} more", thousands((ids.len() - shown) as u64));
    }
    out
}

fn describe_applications_short(
    applications: &[usize],
    needed: u64,
    reviewers: &[usize],
    room: u64,
    other_pairs: u64,
) -> String {
    let mut s = if applications.len() == 1 {
        format!(
            "application {} needs {} more",
            applications[0],
            count(needed as usize, "review", "reviews")
        )
    } else {
        format!(
            "applications {} need {} more reviews between them",
            id_list(applications),
            thousands(needed)
        )
    };
    let _ = write!(
        s,
        ", but the reviewers free of conflicts with them can give only {}: ",
        thousands(room + other_pairs)
    );
    if reviewers.is_empty() {
        s.push_str("no reviewer has spare capacity for them");
    } else {
        let _ = write!(
            s,
            "{} {} {} room for only {} more in all",
            if reviewers.len() == 1 { "reviewer" } else { "reviewers" },
            id_list(reviewers),
            if reviewers.len() == 1 { "has" } else { "have" },
            thousands(room)
        );
    }
    if other_pairs > 0 {
        let _ = write!(
            s,
            ", and the other reviewers can add at most {} (one per conflict-free pair)",
            thousands(other_pairs)
        );
    }
    s
}

fn describe_reviewers_short(
    reviewers: &[usize],
    minimum: u64,
    applications: &[usize],
    available: u64,
    other_pairs: u64,
) -> String {
    let mut s = format!(
        "{} {} must take at least {} more to reach their minimum loads, but only {} can reach them: ",
        if reviewers.len() == 1 { "reviewer" } else { "reviewers" },
        id_list(reviewers),
        count(minimum as usize, "review", "reviews"),
        thousands(available + other_pairs)
    );
    if applications.is_empty() {
        s.push_str("no application they are free to review still needs reviewers");
    } else {
        let _ = write!(
            s,
            "the applications they are free to review ({}) need only {} more in all",
            id_list(applications),
            thousands(available)
        );
    }
    if other_pairs > 0 {
        let _ = write!(
            s,
            ", and the other applications can add at most {} (one per conflict-free pair)",
            thousands(other_pairs)
        );
    }
    s
}

// ---------------------------------------------------------------------------------------------
// The rules of the problem, checked and indexed.

/// The pairs of the problem, validated and indexed by application.
struct Rules {
    n: usize,
    m: usize,
    /// Per application: reviewers with a declared conflict, sorted.
    conflicted: Vec<Vec<u32>>,
    /// Per application: reviewers removed by hand, sorted.
    removed: Vec<Vec<u32>>,
    /// Per application: pinned reviewers, sorted.
    pinned: Vec<Vec<u32>>,
}

impl Rules {
    fn new(problem: &AssignmentProblem) -> Result<Self, AssignmentError> {
        let n = problem.applications.len();
        let m = problem.reviewers.len();
        let weights = problem.weights;
        for (weight, value) in [
            ("uncovered area", weights.uncovered_area),
            ("load balance", weights.load_balance),
        ] {
            if !(0..=MAX_WEIGHT).contains(&value) {
                return Err(AssignmentError::WeightOutOfRange { weight, value });
            }
        }
        for (reviewer, r) in problem.reviewers.iter().enumerate() {
            if r.min_load > r.max_load {
                return Err(AssignmentError::MinimumAboveMaximum {
                    reviewer,
                    min_load: r.min_load,
                    max_load: r.max_load,
                });
            }
        }
        let index = |pairs: &[ReviewPair]| -> Result<Vec<Vec<u32>>, AssignmentError> {
            let mut by_app = vec![Vec::new(); n];
            for pair in pairs {
                if pair.application >= n {
                    return Err(AssignmentError::UnknownApplication {
                        application: pair.application,
                        count: n,
                    });
                }
                if pair.reviewer >= m {
                    return Err(AssignmentError::UnknownReviewer {
                        reviewer: pair.reviewer,
                        count: m,
                    });
                }
                by_app[pair.application].push(pair.reviewer as u32);
            }
            for list in &mut by_app {
                list.sort_unstable();
                list.dedup();
            }
            Ok(by_app)
        };
        Ok(Self {
            n,
            m,
            conflicted: index(&problem.conflicts)?,
            removed: index(&problem.excluded)?,
            pinned: index(&problem.pinned)?,
        })
    }
}

/// The flow model's numbers: what each application still needs, what each reviewer must and
/// can take, and the cost scale.
struct Prepared<'p> {
    problem: &'p AssignmentProblem,
    n: usize,
    m: usize,
    /// Node count: applications, reviewers, sink.
    nodes: usize,
    sink: usize,
    /// Per application: reviewers the flow may not add (conflicted, removed or pinned), sorted.
    blocked: Vec<Vec<u32>>,
    /// Per reviewer: applications pinned to them.
    pinned_load: Vec<u32>,
    /// Per application: reviews the flow must still place.
    open: Vec<u32>,
    /// Per reviewer: the load they reach in any plan, `max(min_load, pinned)`.
    base: Vec<u32>,
    /// Per reviewer: the highest load they can reach, `min(max_load, pinned + applications
    /// they could still be given)`.
    top: Vec<u32>,
    /// Reviews the flow places in all.
    total_open: u64,
    /// Every cost is multiplied by this, which exceeds the node count.
    scale: i64,
}

impl<'p> Prepared<'p> {
    fn new(problem: &'p AssignmentProblem, rules: &'p Rules) -> Result<Self, AssignmentError> {
        let (n, m) = (rules.n, rules.m);
        for a in 0..n {
            for &r in &rules.pinned[a] {
                if rules.conflicted[a].binary_search(&r).is_ok() {
                    return Err(AssignmentError::PinnedPairConflicted {
                        application: a,
                        reviewer: r as usize,
                    });
                }
                if rules.removed[a].binary_search(&r).is_ok() {
                    return Err(AssignmentError::PinnedPairExcluded {
                        application: a,
                        reviewer: r as usize,
                    });
                }
            }
        }
        let mut pinned_load = vec![0u32; m];
        for (a, list) in rules.pinned.iter().enumerate() {
            let needed = problem.applications[a].reviewers_needed;
            if list.len() as u32 > needed {
                return Err(AssignmentError::TooManyPinned {
                    application: a,
                    pinned: list.len() as u32,
                    needed,
                });
            }
            for &r in list {
                pinned_load[r as usize] += 1;
            }
        }
        for (r, reviewer) in problem.reviewers.iter().enumerate() {
            if pinned_load[r] > reviewer.max_load {
                return Err(AssignmentError::PinnedAboveMaximum {
                    reviewer: r,
                    pinned: pinned_load[r],
                    max_load: reviewer.max_load,
                });
            }
        }
        let blocked: Vec<Vec<u32>> = (0..n)
            .map(|a| {
                let mut list: Vec<u32> = rules.conflicted[a]
                    .iter()
                    .chain(&rules.removed[a])
                    .chain(&rules.pinned[a])
                    .copied()
                    .collect();
                list.sort_unstable();
                list.dedup();
                list
            })
            .collect();
        // Each application on its own.
        let spare: Vec<bool> = problem
            .reviewers
            .iter()
            .zip(&pinned_load)
            .map(|(r, &p)| r.max_load > p)
            .collect();
        let spare_count = spare.iter().filter(|&&s| s).count() as u32;
        for (a, app) in problem.applications.iter().enumerate() {
            let blocked_spare = blocked[a].iter().filter(|&&r| spare[r as usize]).count() as u32;
            // Pinned reviewers are blocked for the flow but count as available.
            let available = spare_count - blocked_spare + rules.pinned[a].len() as u32;
            if available < app.reviewers_needed {
                return Err(AssignmentError::TooFewReviewers {
                    application: a,
                    available,
                    needed: app.reviewers_needed,
                });
            }
        }
        // Totals.
        let needed: u64 = problem.applications.iter().map(|a| u64::from(a.reviewers_needed)).sum();
        let base: Vec<u32> = problem
            .reviewers
            .iter()
            .zip(&pinned_load)
            .map(|(r, &p)| r.min_load.max(p))
            .collect();
        let minimum: u64 = base.iter().map(|&b| u64::from(b)).sum();
        if minimum > needed {
            return Err(AssignmentError::MinimumLoadsAboveNeed { minimum, needed });
        }
        let capacity: u64 = problem.reviewers.iter().map(|r| u64::from(r.max_load)).sum();
        if capacity < needed {
            return Err(AssignmentError::NotEnoughCapacity { capacity, needed });
        }
        // Each reviewer on their own.
        let open: Vec<u32> = problem
            .applications
            .iter()
            .zip(&rules.pinned)
            .map(|(a, p)| a.reviewers_needed - p.len() as u32)
            .collect();
        let open_apps = open.iter().filter(|&&o| o > 0).count() as u64;
        let mut blocked_open = vec![0u64; m];
        for (a, list) in blocked.iter().enumerate() {
            if open[a] > 0 {
                for &r in list {
                    blocked_open[r as usize] += 1;
                }
            }
        }
        let mut top = vec![0u32; m];
        for (r, reviewer) in problem.reviewers.iter().enumerate() {
            let reachable = u64::from(pinned_load[r]) + open_apps - blocked_open[r];
            top[r] = reachable.min(u64::from(reviewer.max_load)) as u32;
            if top[r] < base[r] {
                return Err(AssignmentError::ReviewerMinimumUnreachable {
                    reviewer: r,
                    min_load: reviewer.min_load,
                    available: reachable,
                });
            }
        }
        let total_open: u64 = open.iter().map(|&o| u64::from(o)).sum();
        let nodes = n + m + 1;
        let scale = nodes as i64 + 1;
        // Exactness guard: final prices, in cost units, are at most the cost of a longest path
        // (nodes × largest arc cost), and the certificate multiplies them by `scale`.
        let largest_top = top.iter().copied().max().unwrap_or(0);
        let weights = problem.weights;
        let largest_cost = i128::from(weights.uncovered_area) * MAX_PROGRAM_AREAS as i128
            + i128::from(weights.load_balance) * (2 * i128::from(largest_top) + 1);
        if (nodes as i128) * i128::from(scale) * largest_cost * 256 > i128::from(i64::MAX)
            || total_open > i32::MAX as u64
        {
            return Err(AssignmentError::ProblemTooLarge {
                applications: n,
                reviewers: m,
            });
        }
        Ok(Self {
            problem,
            n,
            m,
            nodes,
            sink: n + m,
            blocked,
            pinned_load,
            open,
            base,
            top,
            total_open,
            scale,
        })
    }

    /// Whether the flow may still give reviewer `r` another application.
    fn has_room(&self, r: usize) -> bool {
        self.top[r] > self.pinned_load[r]
    }

    fn is_blocked(&self, a: usize, r: u32) -> bool {
        self.blocked[a].binary_search(&r).is_ok()
    }

    /// The expertise cost of application areas `areas` with reviewer expertise `expertise`.
    fn pair_cost(&self, areas: u64, expertise: u64) -> i64 {
        self.problem.weights.uncovered_area * i64::from((areas & !expertise).count_ones())
    }

    fn areas(&self, a: usize) -> u64 {
        self.problem.applications[a].areas.bits()
    }

    fn expertise(&self, r: usize) -> u64 {
        self.problem.reviewers[r].expertise.bits()
    }

    /// The balance cost of a reviewer's `n`-th review.
    fn unit_cost(&self, n: u32) -> i64 {
        self.problem.weights.marginal_balance_cost(n)
    }

    /// Reviews reviewer `r` must receive from the flow to reach their minimum.
    fn demand(&self, r: usize) -> u32 {
        self.base[r] - self.pinned_load[r]
    }
}

/// Reviewers with spare room grouped by identical expertise: interchangeable apart from
/// conflicts, which makes pricing fast.
struct ReviewerTypes {
    masks: Vec<u64>,
    members: Vec<Vec<u32>>,
}

impl ReviewerTypes {
    fn new(prep: &Prepared<'_>) -> Self {
        let mut index: HashMap<u64, usize> = HashMap::new();
        let mut masks = Vec::new();
        let mut members: Vec<Vec<u32>> = Vec::new();
        for r in 0..prep.m {
            if !prep.has_room(r) {
                continue;
            }
            let mask = prep.expertise(r);
            let t = *index.entry(mask).or_insert_with(|| {
                masks.push(mask);
                members.push(Vec::new());
                masks.len() - 1
            });
            members[t].push(r as u32);
        }
        Self { masks, members }
    }

    /// Each type's members sorted by decreasing price, with the type's mask.
    fn by_price(&self, prep: &Prepared<'_>, price: &[i64]) -> Vec<(u64, Vec<(i64, u32)>)> {
        self.masks
            .iter()
            .zip(&self.members)
            .map(|(&mask, members)| {
                let mut list: Vec<(i64, u32)> = members.iter().map(|&r| (price[prep.n + r as usize], r)).collect();
                list.sort_unstable_by_key(|&(p, r)| (Reverse(p), r));
                (mask, list)
            })
            .collect()
    }
}

/// Calls `visit(a, r, reduced_cost)` for every conflict-free pair with room whose reduced cost
/// (costs times `scale`) is below `-tolerance`: the pairs that could improve the plan, plus
/// pairs already carrying a review. Exact for any prices and scale (128-bit arithmetic).
fn for_each_negative_pair(
    prep: &Prepared<'_>,
    types: &ReviewerTypes,
    price: &[i64],
    scale: i64,
    tolerance: i64,
    mut visit: impl FnMut(usize, u32, i128),
) {
    let sorted = types.by_price(prep, price);
    for (a, &pa) in price[..prep.n].iter().enumerate() {
        if prep.open[a] == 0 {
            continue;
        }
        let areas = prep.areas(a);
        let pa = i128::from(pa);
        for (mask, list) in &sorted {
            let cost = i128::from(prep.pair_cost(areas, *mask)) * i128::from(scale) + pa;
            // Reduced cost cost - p(r) < -tolerance  <=>  p(r) > cost + tolerance.
            let threshold = cost + i128::from(tolerance);
            for &(pr, r) in list {
                if i128::from(pr) <= threshold {
                    break;
                }
                if !prep.is_blocked(a, r) {
                    visit(a, r, cost - i128::from(pr));
                }
            }
        }
    }
}

fn check_certificate(
    prep: &Prepared<'_>,
    types: &ReviewerTypes,
    assignment: &Assignment,
    certificate: &OptimalityCertificate,
) -> Result<(), AssignmentError> {
    let fail = |detail: String| Err(AssignmentError::NotProvedOptimal { detail });
    if certificate.scale <= prep.nodes as i64 {
        return fail(format!(
            "the price scale {} does not exceed the {} nodes of the network",
            certificate.scale, prep.nodes
        ));
    }
    if certificate.application_prices.len() != prep.n || certificate.reviewer_prices.len() != prep.m {
        return fail("there must be one price per application and per reviewer".to_owned());
    }
    let mut price = Vec::with_capacity(prep.nodes);
    price.extend_from_slice(&certificate.application_prices);
    price.extend_from_slice(&certificate.reviewer_prices);
    price.push(certificate.sink_price);
    let scale = certificate.scale;
    let scaled = |cost: i64| i128::from(cost) * i128::from(scale);
    let sink_price = i128::from(certificate.sink_price);
    // Load arcs: the next unused unit and the last used unit of each reviewer.
    for r in 0..prep.m {
        if !prep.has_room(r) {
            continue;
        }
        let load = assignment.loads[r];
        let pr = i128::from(price[prep.n + r]);
        if load < prep.top[r] {
            let reduced = scaled(prep.unit_cost(load + 1)) + pr - sink_price;
            if reduced < -1 {
                return fail(format!(
                    "reviewer {r} could take review {} more cheaply (reduced cost {reduced})",
                    load + 1
                ));
            }
        }
        if load > prep.base[r] {
            let reduced = scaled(prep.unit_cost(load)) + pr - sink_price;
            if reduced > 1 {
                return fail(format!(
                    "reviewer {r} would be cheaper without review {load} (reduced cost {reduced})"
                ));
            }
        }
    }
    // Assigned pairs (other than pinned ones) may be undone: reduced cost at most 1.
    for (a, list) in assignment.reviewers.iter().enumerate() {
        for &r in list {
            if prep.is_blocked(a, r as u32) {
                continue;
            }
            let reduced = scaled(prep.pair_cost(prep.areas(a), prep.expertise(r))) + i128::from(price[a])
                - i128::from(price[prep.n + r]);
            if reduced > 1 {
                return fail(format!(
                    "removing reviewer {r} from application {a} would lower the cost (reduced cost {reduced})"
                ));
            }
        }
    }
    // Every other conflict-free pair: reduced cost at least -1.
    let mut bad = None;
    for_each_negative_pair(prep, types, &price, scale, 1, |a, r, reduced| {
        if bad.is_none() && assignment.reviewers[a].binary_search(&(r as usize)).is_err() {
            bad = Some((a, r, reduced));
        }
    });
    if let Some((a, r, reduced)) = bad {
        return fail(format!(
            "giving application {a} to reviewer {r} would lower the cost (reduced cost {reduced})"
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Candidate pairs.

/// Every conflict-free pair whose reviewer has room, for applications that need reviewers.
fn full_candidates(prep: &Prepared<'_>) -> Vec<Vec<u32>> {
    (0..prep.n)
        .map(|a| {
            if prep.open[a] == 0 {
                return Vec::new();
            }
            (0..prep.m as u32)
                .filter(|&r| prep.has_room(r as usize) && !prep.is_blocked(a, r))
                .collect()
        })
        .collect()
}

fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// For each application its `per_app` cheapest reviewers, taking tied reviewers round-robin
/// over expertise groups from a rotating start so ties spread over all reviewers; then each
/// reviewer short of candidates gets the applications that suit them best.
fn sparse_candidates(prep: &Prepared<'_>, types: &ReviewerTypes, per_app: usize) -> Vec<Vec<u32>> {
    let mut graph: Vec<Vec<u32>> = vec![Vec::new(); prep.n];
    let mut levels: Vec<Vec<usize>> = vec![Vec::new(); MAX_PROGRAM_AREAS + 1];
    for (a, list) in graph.iter_mut().enumerate() {
        if prep.open[a] == 0 {
            continue;
        }
        let want = per_app.max(prep.open[a] as usize);
        let areas = prep.areas(a);
        for level in &mut levels {
            level.clear();
        }
        for (t, &mask) in types.masks.iter().enumerate() {
            levels[(areas & !mask).count_ones() as usize].push(t);
        }
        let h = mix(a as u64);
        'levels: for level in &levels {
            if level.is_empty() {
                continue;
            }
            let q = level.len();
            let first = (h % q as u64) as usize;
            let longest = level.iter().map(|&t| types.members[t].len()).max().unwrap_or(0);
            for round in 0..longest {
                for i in 0..q {
                    let members = &types.members[level[(first + i) % q]];
                    if round >= members.len() {
                        continue;
                    }
                    let offset = ((h >> 32) % members.len() as u64) as usize;
                    let r = members[(offset + round) % members.len()];
                    if !prep.is_blocked(a, r) {
                        list.push(r);
                        if list.len() >= want {
                            break 'levels;
                        }
                    }
                }
            }
        }
    }
    // Reviewers with few candidates: give them the applications they suit best.
    let mut in_degree = vec![0usize; prep.m];
    for list in &graph {
        for &r in list {
            in_degree[r as usize] += 1;
        }
    }
    let mut by_level: Vec<Vec<u32>> = vec![Vec::new(); MAX_PROGRAM_AREAS + 1];
    for (r, degree) in in_degree.iter_mut().enumerate() {
        if !prep.has_room(r) {
            continue;
        }
        // Enough candidates to reach the minimum load with some choice to spare.
        let target = (prep.demand(r) as usize + per_app).min((prep.top[r] - prep.pinned_load[r]) as usize * 2);
        if *degree >= target {
            continue;
        }
        for level in &mut by_level {
            level.clear();
        }
        let expertise = prep.expertise(r);
        for a in 0..prep.n {
            if prep.open[a] > 0 && !prep.is_blocked(a, r as u32) && !graph[a].contains(&(r as u32)) {
                by_level[(prep.areas(a) & !expertise).count_ones() as usize].push(a as u32);
            }
        }
        let h = mix(r as u64 + (1 << 40));
        'fill: for level in &by_level {
            let len = level.len();
            let first = if len == 0 { 0 } else { (h % len as u64) as usize };
            for i in 0..len {
                let a = level[(first + i) % len] as usize;
                graph[a].push(r as u32);
                *degree += 1;
                if *degree >= target {
                    break 'fill;
                }
            }
        }
    }
    graph
}

/// Pairs outside the graph whose reduced cost (in cost units, at exact prices) is negative, at
/// most a few per application, the most negative first.
fn price_out(prep: &Prepared<'_>, types: &ReviewerTypes, price: &[i64], graph: &[Vec<u32>]) -> Vec<(u32, u32)> {
    let mut found: Vec<(u32, i128, u32)> = Vec::new();
    for_each_negative_pair(prep, types, price, 1, 0, |a, r, reduced| {
        if !graph[a].contains(&r) {
            found.push((a as u32, reduced, r));
        }
    });
    found.sort_unstable();
    let mut out = Vec::with_capacity(found.len());
    let mut taken = 0;
    for (i, &(a, _, r)) in found.iter().enumerate() {
        if i == 0 || found[i - 1].0 != a {
            taken = 0;
        }
        if taken < 2 * prep.open[a as usize] as usize + 2 {
            out.push((a, r));
            taken += 1;
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Warm start: the problem solved on classes of interchangeable applications and reviewers.

/// No class: an application that needs no more reviews, or a reviewer without room.
const NO_CLASS: u32 = u32::MAX;

/// The class problem is skipped when it would have more class pairs than this.
const MAX_CLASS_PAIRS: usize = 4_000_000;

/// Applications that still need the same number of reviews in the same program areas, and
/// reviewers with room who have the same expertise, pinned load and load range: members of a
/// class are interchangeable apart from conflicts.
struct Classes {
    app_of: Vec<u32>,
    apps: Vec<Vec<u32>>,
    app_areas: Vec<u64>,
    app_open: Vec<u32>,
    rev_of: Vec<u32>,
    revs: Vec<Vec<u32>>,
    rev_expertise: Vec<u64>,
    /// (pinned load, base load, top load) of each reviewer class.
    rev_loads: Vec<(u32, u32, u32)>,
}

impl Classes {
    fn new(prep: &Prepared<'_>) -> Self {
        let mut classes = Self {
            app_of: Vec::with_capacity(prep.n),
            apps: Vec::new(),
            app_areas: Vec::new(),
            app_open: Vec::new(),
            rev_of: Vec::with_capacity(prep.m),
            revs: Vec::new(),
            rev_expertise: Vec::new(),
            rev_loads: Vec::new(),
        };
        let mut index: HashMap<(u64, u32), u32> = HashMap::new();
        for a in 0..prep.n {
            if prep.open[a] == 0 {
                classes.app_of.push(NO_CLASS);
                continue;
            }
            let key = (prep.areas(a), prep.open[a]);
            let g = *index.entry(key).or_insert_with(|| {
                classes.apps.push(Vec::new());
                classes.app_areas.push(key.0);
                classes.app_open.push(key.1);
                classes.apps.len() as u32 - 1
            });
            classes.apps[g as usize].push(a as u32);
            classes.app_of.push(g);
        }
        let mut index: HashMap<(u64, u32, u32, u32), u32> = HashMap::new();
        for r in 0..prep.m {
            if !prep.has_room(r) {
                classes.rev_of.push(NO_CLASS);
                continue;
            }
            let loads = (prep.pinned_load[r], prep.base[r], prep.top[r]);
            let key = (prep.expertise(r), loads.0, loads.1, loads.2);
            let t = *index.entry(key).or_insert_with(|| {
                classes.revs.push(Vec::new());
                classes.rev_expertise.push(key.0);
                classes.rev_loads.push(loads);
                classes.revs.len() as u32 - 1
            });
            classes.revs[t as usize].push(r as u32);
            classes.rev_of.push(t);
        }
        classes
    }
}

/// What the class solution gives the exact solve.
struct WarmStart {
    /// Node prices lifted from the class solution: each node gets its class's price.
    price: Vec<i64>,
    /// Per application, the reviewers the class solution leads to (conflicts respected; where
    /// conflicts got in the way an application may have fewer than it needs).
    assigned: Vec<Vec<u32>>,
    /// Per application, its reviewer classes by increasing reduced cost (none for applications
    /// without a class).
    preference: Vec<Vec<u32>>,
    classes: Classes,
}

/// Solves the problem on classes, ignoring conflicts: a relaxation with at most a few hundred
/// nodes when expertise comes in a few hundred combinations. Its optimal prices, given to every
/// member of a class, are close to optimal for the real problem (they differ only where
/// conflicts get in the way), and its flow, dealt out to individual applications and reviewers,
/// is a nearly complete plan.
/// `None` when the class problem is too large or has no plan (then neither has the real one,
/// and the cold path explains why).
fn warm_start(prep: &Prepared<'_>, classes: Classes) -> Option<WarmStart> {
    let (gn, tn) = (classes.apps.len(), classes.revs.len());
    if gn == 0 || tn == 0 || gn.saturating_mul(tn) > MAX_CLASS_PAIRS {
        return None;
    }
    let nodes = gn + tn + 1;
    let sink = gn + tn;
    let size = |t: usize| classes.revs[t].len() as u32;
    let mut edges = Vec::with_capacity(gn * tn + tn * 8);
    for g in 0..gn {
        for t in 0..tn {
            edges.push(EdgeSpec {
                tail: g as u32,
                head: (gn + t) as u32,
                // No application can take more reviews from a class than it has members.
                cap: (classes.apps[g].len() as u32 * classes.app_open[g].min(size(t))) as i32,
                cost: prep.pair_cost(classes.app_areas[g], classes.rev_expertise[t]),
                flow: 0,
            });
        }
    }
    let mut excess = vec![0i64; nodes];
    for (g, supply) in excess[..gn].iter_mut().enumerate() {
        *supply = i64::from(classes.app_open[g]) * classes.apps[g].len() as i64;
    }
    let mut demand_total = 0i64;
    for t in 0..tn {
        let (pinned, base, top) = classes.rev_loads[t];
        // Spread evenly, the class's n-th review above base costs like a member's
        // ceil(n / size)-th: one arc of capacity `size` per load level.
        for level in base + 1..=top {
            edges.push(EdgeSpec {
                tail: (gn + t) as u32,
                head: sink as u32,
                cap: size(t) as i32,
                cost: prep.unit_cost(level),
                flow: 0,
            });
        }
        let demand = i64::from(size(t) * (base - pinned));
        excess[gn + t] = -demand;
        demand_total += demand;
    }
    excess[sink] = demand_total - prep.total_open as i64;
    let (residual, arc) = Residual::build(nodes, &edges);
    let mut solver = PrimalDual::new(residual, vec![0; nodes], excess);
    if !solver.run() {
        return None;
    }
    let class_price = &solver.price;
    let mut price = vec![0i64; prep.nodes];
    for (a, &g) in classes.app_of.iter().enumerate() {
        if g != NO_CLASS {
            price[a] = class_price[g as usize];
        }
    }
    for (r, &t) in classes.rev_of.iter().enumerate() {
        if t != NO_CLASS {
            price[prep.n + r] = class_price[gn + t as usize];
        }
    }
    price[prep.sink] = class_price[sink];
    let preference = (0..gn)
        .map(|g| {
            let mut order: Vec<u32> = (0..tn as u32).collect();
            order.sort_by_key(|&t| {
                let t = t as usize;
                (edges[g * tn + t].cost + class_price[g] - class_price[gn + t], t)
            });
            order
        })
        .collect();
    let flows: Vec<i32> = (0..gn * tn).map(|i| solver.g.flow(arc[i])).collect();
    let assigned = deal_out(prep, &classes, &flows);
    Some(WarmStart {
        price,
        assigned,
        preference,
        classes,
    })
}

/// Deals the class flow out to individual applications and reviewers: each application class
/// deals its reviews round-robin over its applications, so no application gets more from a
/// reviewer class than it has members; each reviewer class hands its reviews out in turn to
/// members below their even share, skipping conflicts and repeats.
fn deal_out(prep: &Prepared<'_>, classes: &Classes, flows: &[i32]) -> Vec<Vec<u32>> {
    let tn = classes.revs.len();
    let mut share = vec![0u32; prep.m];
    for (t, members) in classes.revs.iter().enumerate() {
        let total: u32 = (0..classes.apps.len()).map(|g| flows[g * tn + t] as u32).sum();
        let s = members.len() as u32;
        for (i, &r) in members.iter().enumerate() {
            share[r as usize] = total / s + u32::from((i as u32) < total % s);
        }
    }
    let mut load = vec![0u32; prep.m];
    let mut next = vec![0usize; tn];
    let mut assigned: Vec<Vec<u32>> = vec![Vec::new(); prep.n];
    for (g, apps) in classes.apps.iter().enumerate() {
        let mut ends: Vec<(u64, usize)> = Vec::new();
        let mut end = 0u64;
        for t in 0..tn {
            let f = flows[g * tn + t];
            if f > 0 {
                end += f as u64;
                ends.push((end, t));
            }
        }
        let count = apps.len() as u64;
        for (j, &a) in apps.iter().enumerate() {
            let a = a as usize;
            for i in 0..u64::from(classes.app_open[g]) {
                let position = j as u64 + i * count;
                let k = ends.partition_point(|&(e, _)| e <= position);
                let Some(&(_, t)) = ends.get(k) else { continue };
                let members = &classes.revs[t];
                let s = members.len();
                let fits = |r: u32, strict: bool, load: &[u32], list: &[u32]| {
                    let ri = r as usize;
                    let limit = if strict {
                        share[ri]
                    } else {
                        prep.top[ri] - prep.pinned_load[ri]
                    };
                    load[ri] < limit && !prep.is_blocked(a, r) && !list.contains(&r)
                };
                let mut chosen = None;
                for strict in [true, false] {
                    for step in 0..s {
                        let k = (next[t] + step) % s;
                        if fits(members[k], strict, &load, &assigned[a]) {
                            chosen = Some(k);
                            break;
                        }
                    }
                    if chosen.is_some() {
                        break;
                    }
                }
                if let Some(k) = chosen {
                    let r = members[k];
                    next[t] = (k + 1) % s;
                    load[r as usize] += 1;
                    assigned[a].push(r);
                }
            }
        }
    }
    assigned
}

/// Candidates from the warm start: each application's dealt-out reviewers first, then members
/// of its cheapest reviewer classes (by reduced cost at the class prices), from a rotating
/// start, up to `per_app` in all; or every conflict-free pair when `full` is set.
fn warm_candidates(prep: &Prepared<'_>, warm: &WarmStart, full: bool, per_app: usize) -> (Vec<Vec<u32>>, Vec<u32>) {
    let mut graph = warm.assigned.clone();
    let warm_count: Vec<u32> = graph.iter().map(|l| l.len() as u32).collect();
    for (a, list) in graph.iter_mut().enumerate() {
        let g = warm.classes.app_of[a];
        if g == NO_CLASS {
            continue;
        }
        if full {
            let own = list.clone();
            list.extend(
                (0..prep.m as u32)
                    .filter(|&r| prep.has_room(r as usize) && !prep.is_blocked(a, r) && !own.contains(&r)),
            );
            continue;
        }
        let want = per_app.max(list.len() + 1);
        let h = mix(a as u64);
        'classes: for &t in &warm.preference[g as usize] {
            let members = &warm.classes.revs[t as usize];
            let s = members.len();
            let first = (h % s as u64) as usize;
            for i in 0..s {
                let r = members[(first + i) % s];
                if !prep.is_blocked(a, r) && !list.contains(&r) {
                    list.push(r);
                    if list.len() >= want {
                        break 'classes;
                    }
                }
            }
        }
    }
    (graph, warm_count)
}

// ---------------------------------------------------------------------------------------------
// Feasibility: a max flow on the candidates.

/// An arc list entry for building a residual network.
struct EdgeSpec {
    tail: u32,
    head: u32,
    cap: i32,
    cost: i64,
    flow: i32,
}

/// Whether the candidate pairs admit a plan, by max flow; when not, the set of nodes reachable
/// from the source in the final residual network (a minimum cut). The first `warm[a]`
/// candidates of application `a` start with one review each, which saves most of the work.
fn feasible_flow(prep: &Prepared<'_>, graph: &[Vec<u32>], warm: &[u32]) -> Result<(), Vec<bool>> {
    let source = prep.nodes;
    let target = prep.nodes + 1;
    let n = prep.n as u32;
    let demand_total: u64 = (0..prep.m).map(|r| u64::from(prep.demand(r))).sum();
    let sink_cap = prep.total_open - demand_total;
    // The starting flow: reviews above a reviewer's minimum go on to the sink, which can take
    // only what the minimums leave, so drop starting reviews that would overflow it.
    let mut start: Vec<i32> = Vec::new();
    let mut inflow = vec![0u32; prep.m];
    for (list, &w) in graph.iter().zip(warm) {
        for (i, &r) in list.iter().enumerate() {
            let f = i32::from((i as u32) < w);
            start.push(f);
            inflow[r as usize] += f as u32;
        }
    }
    let mut above: Vec<u32> = (0..prep.m).map(|r| inflow[r].saturating_sub(prep.demand(r))).collect();
    let mut overflow = above
        .iter()
        .map(|&x| u64::from(x))
        .sum::<u64>()
        .saturating_sub(sink_cap);
    let mut edges = Vec::new();
    let mut out = vec![0u32; prep.n];
    let mut i = 0;
    for (a, list) in graph.iter().enumerate() {
        for &r in list {
            let ri = r as usize;
            if start[i] == 1 && overflow > 0 && above[ri] > 0 {
                start[i] = 0;
                above[ri] -= 1;
                inflow[ri] -= 1;
                overflow -= 1;
            }
            out[a] += start[i] as u32;
            edges.push(EdgeSpec {
                tail: a as u32,
                head: n + r,
                cap: 1,
                cost: 0,
                flow: start[i],
            });
            i += 1;
        }
    }
    for (r, &above) in above.iter().enumerate() {
        let cap = prep.top[r].max(prep.base[r]) - prep.base[r];
        edges.push(EdgeSpec {
            tail: n + r as u32,
            head: prep.sink as u32,
            cap: cap as i32,
            cost: 0,
            flow: above as i32,
        });
    }
    let mut placed = 0u64;
    for (a, &open) in prep.open.iter().enumerate() {
        if open > 0 {
            placed += u64::from(out[a]);
            edges.push(EdgeSpec {
                tail: source as u32,
                head: a as u32,
                cap: open as i32,
                cost: 0,
                flow: out[a] as i32,
            });
        }
    }
    for (r, &inflow) in inflow.iter().enumerate() {
        let d = prep.demand(r);
        if d > 0 {
            let flow = inflow.min(d);
            edges.push(EdgeSpec {
                tail: n + r as u32,
                head: target as u32,
                cap: d as i32,
                cost: 0,
                flow: flow as i32,
            });
        }
    }
    let to_sink: u64 = above.iter().map(|&x| u64::from(x)).sum();
    edges.push(EdgeSpec {
        tail: prep.sink as u32,
        head: target as u32,
        cap: sink_cap as i32,
        cost: 0,
        flow: to_sink as i32,
    });
    let (mut g, _) = Residual::build(prep.nodes + 2, &edges);
    let (flow, reachable) = g.max_flow(source, target);
    if placed + flow as u64 != prep.total_open {
        return Err(reachable);
    }
    Ok(())
}

/// Adds the conflict-free pairs missing from the graph that cross the cut (application
/// reachable, reviewer not), the cheapest first and at most a few per application. Returns how
/// many were added.
fn add_cut_crossing_pairs(prep: &Prepared<'_>, graph: &mut [Vec<u32>], reachable: &[bool]) -> usize {
    let mut added = 0;
    for (a, list) in graph.iter_mut().enumerate() {
        if !reachable[a] || prep.open[a] == 0 {
            continue;
        }
        let areas = prep.areas(a);
        let mut crossing: Vec<(u32, u32)> = (0..prep.m as u32)
            .filter(|&r| {
                !reachable[prep.n + r as usize]
                    && prep.has_room(r as usize)
                    && !prep.is_blocked(a, r)
                    && !list.contains(&r)
            })
            .map(|r| ((areas & !prep.expertise(r as usize)).count_ones(), r))
            .collect();
        crossing.sort_unstable();
        crossing.truncate(4 * prep.open[a] as usize + 4);
        added += crossing.len();
        list.extend(crossing.iter().map(|&(_, r)| r));
    }
    added
}

/// Turns a minimum cut of the full conflict-free network into a reason.
fn explain_cut(prep: &Prepared<'_>, reachable: &[bool]) -> AssignmentError {
    let app_in = |a: usize| reachable[a];
    let rev_in = |r: usize| reachable[prep.n + r];
    if !reachable[prep.sink] {
        // Applications in the cut can only be served by reviewers in the cut and by one review
        // per conflict-free pair with anyone else.
        let applications: Vec<usize> = (0..prep.n).filter(|&a| app_in(a) && prep.open[a] > 0).collect();
        let reviewers: Vec<usize> = (0..prep.m).filter(|&r| rev_in(r) && prep.has_room(r)).collect();
        AssignmentError::ApplicationsShortOfReviewers {
            reviews_needed: applications.iter().map(|&a| u64::from(prep.open[a])).sum(),
            reviewer_room: reviewers
                .iter()
                .map(|&r| u64::from(prep.top[r] - prep.pinned_load[r]))
                .sum(),
            other_pairs: crossing_pairs(prep, reachable),
            applications,
            reviewers,
        }
    } else {
        // Reviewers outside the cut need their minimums from applications outside it, plus one
        // review per conflict-free pair with applications inside.
        let reviewers: Vec<usize> = (0..prep.m).filter(|&r| !rev_in(r) && prep.demand(r) > 0).collect();
        let outside: Vec<usize> = (0..prep.m).filter(|&r| !rev_in(r)).collect();
        let applications: Vec<usize> = (0..prep.n)
            .filter(|&a| {
                !app_in(a)
                    && prep.open[a] > 0
                    && outside
                        .iter()
                        .any(|&r| prep.has_room(r) && !prep.is_blocked(a, r as u32))
            })
            .collect();
        AssignmentError::ReviewersShortOfApplications {
            minimum_needed: reviewers.iter().map(|&r| u64::from(prep.demand(r))).sum(),
            reviews_available: applications.iter().map(|&a| u64::from(prep.open[a])).sum(),
            other_pairs: crossing_pairs(prep, reachable),
            reviewers,
            applications,
        }
    }
}

/// Conflict-free pairs (with room) from an application inside the cut to a reviewer outside
/// it: each can carry one review across.
fn crossing_pairs(prep: &Prepared<'_>, reachable: &[bool]) -> u64 {
    let mut pairs = 0u64;
    for a in (0..prep.n).filter(|&a| reachable[a] && prep.open[a] > 0) {
        for r in 0..prep.m {
            if !reachable[prep.n + r] && prep.has_room(r) && !prep.is_blocked(a, r as u32) {
                pairs += 1;
            }
        }
    }
    pairs
}

// ---------------------------------------------------------------------------------------------
// The flow model.

/// The assignment network's arcs and their flows, kept across pricing rounds.
struct FlowModel {
    /// Candidate pairs (application, reviewer) and the flow on each (0 or 1).
    pairs: Vec<(u32, u32)>,
    pair_flow: Vec<i32>,
    /// Per reviewer, the index of their first unit load arc in `unit_flow`.
    unit_start: Vec<usize>,
    /// Flow on each unit load arc (reviewer `r`'s arcs are loads `base + 1 ..= top`).
    unit_flow: Vec<i32>,
    /// Arc index of each pair, then of each unit, in the residual network last built.
    edge_arc: Vec<u32>,
}

impl FlowModel {
    /// The model with the given flow on each pair; each reviewer passes reviews above their
    /// minimum on to the sink over their cheapest load arcs.
    fn new(prep: &Prepared<'_>, graph: &[Vec<u32>], pair_flow: Vec<i32>) -> Self {
        let pairs: Vec<(u32, u32)> = graph
            .iter()
            .enumerate()
            .flat_map(|(a, list)| list.iter().map(move |&r| (a as u32, r)))
            .collect();
        let mut inflow = vec![0u32; prep.m];
        for (&(_, r), &f) in pairs.iter().zip(&pair_flow) {
            inflow[r as usize] += f as u32;
        }
        let mut unit_start = Vec::with_capacity(prep.m + 1);
        let mut unit_flow = Vec::new();
        for (r, &inflow) in inflow.iter().enumerate() {
            unit_start.push(unit_flow.len());
            let above = inflow.saturating_sub(prep.demand(r));
            for i in 0..prep.top[r].max(prep.base[r]) - prep.base[r] {
                unit_flow.push(i32::from(i < above));
            }
        }
        unit_start.push(unit_flow.len());
        Self {
            pairs,
            pair_flow,
            unit_start,
            unit_flow,
            edge_arc: Vec::new(),
        }
    }

    fn residual(&mut self, prep: &Prepared<'_>) -> Residual {
        let n = prep.n as u32;
        let mut edges = Vec::with_capacity(self.pairs.len() + self.unit_flow.len() + prep.n);
        for (&(a, r), &flow) in self.pairs.iter().zip(&self.pair_flow) {
            edges.push(EdgeSpec {
                tail: a,
                head: n + r,
                cap: 1,
                cost: prep.pair_cost(prep.areas(a as usize), prep.expertise(r as usize)),
                flow,
            });
        }
        for r in 0..prep.m {
            for (i, &flow) in self.unit_flow[self.unit_start[r]..self.unit_start[r + 1]]
                .iter()
                .enumerate()
            {
                edges.push(EdgeSpec {
                    tail: n + r as u32,
                    head: prep.sink as u32,
                    cap: 1,
                    cost: prep.unit_cost(prep.base[r] + 1 + i as u32),
                    flow,
                });
            }
        }
        let (g, edge_arc) = Residual::build(prep.nodes, &edges);
        self.edge_arc = edge_arc;
        g
    }

    /// Supply plus inflow minus outflow at each node: positive where reviews still have to be
    /// placed, negative where a reviewer is short of their minimum or the sink of its share.
    fn excess(&self, prep: &Prepared<'_>) -> Vec<i64> {
        let mut excess = vec![0i64; prep.nodes];
        let mut demand_total = 0i64;
        for (supply, &open) in excess.iter_mut().zip(&prep.open) {
            *supply = i64::from(open);
        }
        for r in 0..prep.m {
            excess[prep.n + r] = -i64::from(prep.demand(r));
            demand_total += i64::from(prep.demand(r));
        }
        excess[prep.sink] = demand_total - prep.total_open as i64;
        for (&(a, r), &f) in self.pairs.iter().zip(&self.pair_flow) {
            excess[a as usize] -= i64::from(f);
            excess[prep.n + r as usize] += i64::from(f);
        }
        for r in 0..prep.m {
            let used: i64 = self.unit_flow[self.unit_start[r]..self.unit_start[r + 1]]
                .iter()
                .map(|&f| i64::from(f))
                .sum();
            excess[prep.n + r] -= used;
            excess[prep.sink] += used;
        }
        excess
    }

    fn read_flows(&mut self, g: &Residual) {
        let pairs = self.pairs.len();
        for (i, f) in self.pair_flow.iter_mut().enumerate() {
            *f = g.flow(self.edge_arc[i]);
        }
        for (i, f) in self.unit_flow.iter_mut().enumerate() {
            *f = g.flow(self.edge_arc[pairs + i]);
        }
    }
}

/// A residual network in compressed form: the arcs leaving node `v` are
/// `start[v]..start[v + 1]`; arc `a` and arc `rev[a]` are the two directions of one edge.
struct Residual {
    start: Vec<u32>,
    to: Vec<u32>,
    rev: Vec<u32>,
    rcap: Vec<i32>,
    cost: Vec<i64>,
}

impl Residual {
    /// Builds the network; returns it with the forward arc of each edge.
    fn build(nodes: usize, edges: &[EdgeSpec]) -> (Self, Vec<u32>) {
        let mut start = vec![0u32; nodes + 1];
        for e in edges {
            start[e.tail as usize + 1] += 1;
            start[e.head as usize + 1] += 1;
        }
        for v in 0..nodes {
            start[v + 1] += start[v];
        }
        let arcs = start[nodes] as usize;
        let mut position: Vec<u32> = start[..nodes].to_vec();
        let mut to = vec![0u32; arcs];
        let mut rev = vec![0u32; arcs];
        let mut rcap = vec![0i32; arcs];
        let mut cost = vec![0i64; arcs];
        let mut edge_arc = Vec::with_capacity(edges.len());
        for e in edges {
            let f = position[e.tail as usize];
            position[e.tail as usize] += 1;
            let b = position[e.head as usize];
            position[e.head as usize] += 1;
            let (fi, bi) = (f as usize, b as usize);
            to[fi] = e.head;
            to[bi] = e.tail;
            rev[fi] = b;
            rev[bi] = f;
            rcap[fi] = e.cap - e.flow;
            rcap[bi] = e.flow;
            cost[fi] = e.cost;
            cost[bi] = -e.cost;
            edge_arc.push(f);
        }
        (
            Self {
                start,
                to,
                rev,
                rcap,
                cost,
            },
            edge_arc,
        )
    }

    fn nodes(&self) -> usize {
        self.start.len() - 1
    }

    /// The flow on the edge whose forward arc is `arc`.
    fn flow(&self, arc: u32) -> i32 {
        self.rcap[self.rev[arc as usize] as usize]
    }

    /// Dinic's maximum flow from `s` to `t`; returns its value and the nodes reachable from `s`
    /// in the final residual network.
    fn max_flow(&mut self, s: usize, t: usize) -> (i64, Vec<bool>) {
        let n = self.nodes();
        let mut level = vec![u32::MAX; n];
        let mut next = vec![0u32; n];
        let mut queue: Vec<u32> = Vec::with_capacity(n);
        let mut path: Vec<u32> = Vec::new();
        let mut total = 0i64;
        loop {
            level.fill(u32::MAX);
            level[s] = 0;
            queue.clear();
            queue.push(s as u32);
            let mut head = 0;
            while head < queue.len() {
                let v = queue[head] as usize;
                head += 1;
                for a in self.start[v] as usize..self.start[v + 1] as usize {
                    let w = self.to[a] as usize;
                    if self.rcap[a] > 0 && level[w] == u32::MAX {
                        level[w] = level[v] + 1;
                        queue.push(w as u32);
                    }
                }
            }
            if level[t] == u32::MAX {
                return (total, level.iter().map(|&l| l != u32::MAX).collect());
            }
            next.copy_from_slice(&self.start[..n]);
            path.clear();
            let mut v = s;
            loop {
                if v == t {
                    let pushed = path.iter().map(|&a| self.rcap[a as usize]).min().unwrap_or(0);
                    for &a in &path {
                        self.rcap[a as usize] -= pushed;
                        self.rcap[self.rev[a as usize] as usize] += pushed;
                    }
                    total += i64::from(pushed);
                    let keep = path.iter().position(|&a| self.rcap[a as usize] == 0).unwrap_or(0);
                    path.truncate(keep);
                    v = path.last().map_or(s, |&a| self.to[a as usize] as usize);
                    continue;
                }
                let end = self.start[v + 1];
                let mut advanced = false;
                while next[v] < end {
                    let a = next[v] as usize;
                    let w = self.to[a] as usize;
                    if self.rcap[a] > 0 && level[w] == level[v] + 1 {
                        path.push(a as u32);
                        v = w;
                        advanced = true;
                        break;
                    }
                    next[v] += 1;
                }
                if !advanced {
                    if v == s {
                        break;
                    }
                    level[v] = u32::MAX;
                    let a = path.pop().unwrap_or(0) as usize;
                    v = self.to[self.rev[a] as usize] as usize;
                    next[v] += 1;
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Minimum-cost flow: primal-dual successive shortest paths.

/// Primal-dual successive shortest paths on a residual network with integer costs, from any
/// pseudo-flow whose residual arcs all have non-negative reduced cost `cost + price(u) -
/// price(v)`. Each phase finds, by Dijkstra from every node with excess, the distance `D` to the
/// nearest node with a deficit, raises every price by its distance (capped at `D`), which keeps
/// all reduced costs non-negative and makes every shortest path's arcs zero, and then sends a
/// blocking flow from excesses to deficits along zero arcs (Dinic's method). When no excess is
/// left, the flow meets every supply and demand and the prices prove it cheapest: no residual
/// cycle can have negative cost when every arc's reduced cost is non-negative.
struct PrimalDual {
    g: Residual,
    price: Vec<i64>,
    excess: Vec<i64>,
    dist: Vec<i64>,
    settled: Vec<bool>,
    heap: BinaryHeap<Reverse<(i64, u32)>>,
    level: Vec<u32>,
    next: Vec<u32>,
    queue: Vec<u32>,
    path: Vec<u32>,
}

impl PrimalDual {
    fn new(g: Residual, price: Vec<i64>, excess: Vec<i64>) -> Self {
        let n = g.nodes();
        Self {
            g,
            price,
            excess,
            dist: vec![0; n],
            settled: vec![false; n],
            heap: BinaryHeap::new(),
            level: vec![0; n],
            next: vec![0; n],
            queue: Vec::with_capacity(n),
            path: Vec::new(),
        }
    }

    fn reduced(&self, v: usize, a: usize) -> i64 {
        self.g.cost[a] + self.price[v] - self.price[self.g.to[a] as usize]
    }

    /// Saturates every residual arc with negative reduced cost (moving the imbalance into
    /// excesses and deficits), so that the prices are valid for the pseudo-flow.
    fn saturate_negative_arcs(&mut self) {
        for v in 0..self.g.nodes() {
            for a in self.g.start[v] as usize..self.g.start[v + 1] as usize {
                let r = self.g.rcap[a];
                if r > 0 && self.reduced(v, a) < 0 {
                    let w = self.g.to[a] as usize;
                    self.g.rcap[a] = 0;
                    self.g.rcap[self.g.rev[a] as usize] += r;
                    self.excess[v] -= i64::from(r);
                    self.excess[w] += i64::from(r);
                }
            }
        }
    }

    /// Makes the prices valid for the current pseudo-flow, routes every excess to a deficit at
    /// least cost, and lowers the prices. Only called on networks known to have a feasible flow.
    fn route(&mut self) -> Result<(), AssignmentError> {
        self.saturate_negative_arcs();
        if self.run() {
            self.lower_prices();
            Ok(())
        } else {
            Err(AssignmentError::SolverFault {
                detail: "a network with a plan seemed to have none".to_owned(),
            })
        }
    }

    /// Replaces the prices by the smallest non-negative prices valid for the current flow:
    /// `price(u) = max(0, max over residual arcs (u, v) of price(v) - cost(u, v))`. Among all
    /// prices that prove the flow cheapest, these keep reviewers' prices as low as possible,
    /// which is what pricing a missing (application, reviewer) pair asks for; with many equal
    /// costs, other valid prices would flag pairs whose only fault is a tie.
    ///
    /// Computed by one Dijkstra over reduced costs (all non-negative) on reversed arcs, each node
    /// starting at its current price: `key(u)` is the least `dist(u, w) + price(w)` over nodes
    /// `w` reachable from `u`, and the new price is `price(u) - key(u)`.
    fn lower_prices(&mut self) {
        let n = self.g.nodes();
        self.heap.clear();
        self.settled.fill(false);
        for v in 0..n {
            self.dist[v] = self.price[v];
            self.heap.push(Reverse((self.price[v], v as u32)));
        }
        while let Some(Reverse((d, v))) = self.heap.pop() {
            let v = v as usize;
            if self.settled[v] || d != self.dist[v] {
                continue;
            }
            self.settled[v] = true;
            for a in self.g.start[v] as usize..self.g.start[v + 1] as usize {
                let u = self.g.to[a] as usize;
                let b = self.g.rev[a] as usize;
                if self.settled[u] || self.g.rcap[b] <= 0 {
                    continue;
                }
                let nd = d + self.reduced(u, b);
                if nd < self.dist[u] {
                    self.dist[u] = nd;
                    self.heap.push(Reverse((nd, u as u32)));
                }
            }
        }
        for v in 0..n {
            self.price[v] -= self.dist[v];
        }
    }

    /// Routes every excess to a deficit at least cost. False when some excess cannot reach any
    /// deficit (the network has no feasible flow).
    fn run(&mut self) -> bool {
        while self.excess.iter().any(|&e| e > 0) {
            if !self.shortest_paths() {
                return false;
            }
            self.blocking_flow();
        }
        true
    }

    /// Dijkstra from all excesses up to the nearest deficit, then the price update.
    fn shortest_paths(&mut self) -> bool {
        let n = self.g.nodes();
        self.dist.fill(i64::MAX);
        self.settled.fill(false);
        self.heap.clear();
        for v in 0..n {
            if self.excess[v] > 0 {
                self.dist[v] = 0;
                self.heap.push(Reverse((0, v as u32)));
            }
        }
        let mut nearest = None;
        while let Some(Reverse((d, v))) = self.heap.pop() {
            let v = v as usize;
            if self.settled[v] || d != self.dist[v] {
                continue;
            }
            if self.excess[v] < 0 {
                nearest = Some(d);
                break;
            }
            self.settled[v] = true;
            for a in self.g.start[v] as usize..self.g.start[v + 1] as usize {
                if self.g.rcap[a] <= 0 {
                    continue;
                }
                let w = self.g.to[a] as usize;
                if self.settled[w] {
                    continue;
                }
                let nd = d + self.reduced(v, a);
                if nd < self.dist[w] {
                    self.dist[w] = nd;
                    self.heap.push(Reverse((nd, w as u32)));
                }
            }
        }
        let Some(limit) = nearest else { return false };
        for v in 0..n {
            self.price[v] += if self.settled[v] { self.dist[v] } else { limit };
        }
        true
    }

    /// Dinic's blocking flows from excesses to deficits over arcs of zero reduced cost, until
    /// no deficit can be reached that way.
    fn blocking_flow(&mut self) {
        let n = self.g.nodes();
        loop {
            // Levels from all excesses over admissible arcs.
            self.level.fill(u32::MAX);
            self.queue.clear();
            for v in 0..n {
                if self.excess[v] > 0 {
                    self.level[v] = 0;
                    self.queue.push(v as u32);
                }
            }
            let mut head = 0;
            let mut reached = false;
            while head < self.queue.len() {
                let v = self.queue[head] as usize;
                head += 1;
                if self.excess[v] < 0 {
                    reached = true;
                    continue;
                }
                for a in self.g.start[v] as usize..self.g.start[v + 1] as usize {
                    let w = self.g.to[a] as usize;
                    if self.g.rcap[a] > 0 && self.level[w] == u32::MAX && self.reduced(v, a) == 0 {
                        self.level[w] = self.level[v] + 1;
                        self.queue.push(w as u32);
                    }
                }
            }
            if !reached {
                return;
            }
            self.next.copy_from_slice(&self.g.start[..n]);
            for s in 0..n {
                while self.excess[s] > 0 && self.level[s] == 0 && self.augment_from(s) {}
            }
        }
    }

    /// Finds one admissible path of increasing level from `s` to a deficit and pushes along
    /// it. False when none is left from `s`.
    fn augment_from(&mut self, s: usize) -> bool {
        self.path.clear();
        let mut v = s;
        loop {
            if self.excess[v] < 0 {
                let mut amount = self.excess[s].min(-self.excess[v]);
                for &a in &self.path {
                    amount = amount.min(i64::from(self.g.rcap[a as usize]));
                }
                for &a in &self.path {
                    self.g.rcap[a as usize] -= amount as i32;
                    self.g.rcap[self.g.rev[a as usize] as usize] += amount as i32;
                }
                self.excess[s] -= amount;
                self.excess[v] += amount;
                return true;
            }
            let end = self.g.start[v + 1];
            let mut advanced = false;
            while self.next[v] < end {
                let a = self.next[v] as usize;
                let w = self.g.to[a] as usize;
                if self.g.rcap[a] > 0 && self.level[w] == self.level[v] + 1 && self.reduced(v, a) == 0 {
                    self.path.push(a as u32);
                    v = w;
                    advanced = true;
                    break;
                }
                self.next[v] += 1;
            }
            if !advanced {
                // A dead end: never visit it again in this round.
                self.level[v] = u32::MAX;
                let Some(a) = self.path.pop() else { return false };
                v = self.g.to[self.g.rev[a as usize] as usize] as usize;
                self.next[v] += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small seeded generator (SplitMix64), so every random case can be replayed.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            mix(self.0)
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }

        fn chance(&mut self, percent: u64) -> bool {
            self.below(100) < percent
        }
    }

    fn app(needed: u32, areas: &[usize]) -> ApplicationNeeds {
        ApplicationNeeds {
            reviewers_needed: needed,
            areas: ProgramAreas::from_indices(areas.iter().copied()).unwrap(),
        }
    }

    fn reviewer(expertise: &[usize], min_load: u32, max_load: u32) -> ReviewerCapacity {
        ReviewerCapacity {
            expertise: ProgramAreas::from_indices(expertise.iter().copied()).unwrap(),
            min_load,
            max_load,
        }
    }

    fn pairs(list: &[(usize, usize)]) -> Vec<ReviewPair> {
        list.iter().map(|&(a, r)| ReviewPair::new(a, r)).collect()
    }

    fn problem(applications: Vec<ApplicationNeeds>, reviewers: Vec<ReviewerCapacity>) -> AssignmentProblem {
        AssignmentProblem {
            applications,
            reviewers,
            ..AssignmentProblem::default()
        }
    }

    /// The cost of a plan, computed from scratch.
    fn plain_cost(p: &AssignmentProblem, reviewers: &[Vec<usize>]) -> i64 {
        let mut loads = vec![0i64; p.reviewers.len()];
        let mut cost = 0;
        for (a, list) in reviewers.iter().enumerate() {
            for &r in list {
                loads[r] += 1;
                let uncovered = (p.applications[a].areas.bits() & !p.reviewers[r].expertise.bits()).count_ones();
                cost += p.weights.uncovered_area * i64::from(uncovered);
            }
        }
        cost + loads.iter().map(|&l| p.weights.load_balance * l * l).sum::<i64>()
    }

    fn is_blocked(p: &AssignmentProblem, a: usize, r: usize) -> bool {
        let pair = ReviewPair::new(a, r);
        p.conflicts.contains(&pair) || p.excluded.contains(&pair)
    }

    /// Checks every hard rule without using the module's own checker.
    fn assert_keeps_rules(p: &AssignmentProblem, plan: &Assignment) {
        let mut loads = vec![0u32; p.reviewers.len()];
        for (a, list) in plan.reviewers.iter().enumerate() {
            assert_eq!(
                list.len(),
                p.applications[a].reviewers_needed as usize,
                "application {a}"
            );
            for (i, &r) in list.iter().enumerate() {
                assert!(!list[..i].contains(&r), "reviewer {r} twice on application {a}");
                assert!(!is_blocked(p, a, r), "conflicted or removed pair ({a}, {r}) assigned");
                loads[r] += 1;
            }
        }
        for pin in &p.pinned {
            assert!(
                plan.reviewers[pin.application].contains(&pin.reviewer),
                "pin {pin:?} lost"
            );
        }
        for (r, capacity) in p.reviewers.iter().enumerate() {
            assert!(
                loads[r] >= capacity.min_load && loads[r] <= capacity.max_load,
                "reviewer {r}"
            );
        }
        assert_eq!(loads, plan.loads);
        assert_eq!(plan.cost.total(), plain_cost(p, &plan.reviewers));
    }

    /// The cheapest cost over every plan that keeps the hard rules, by exhaustive enumeration
    /// (each application tries every set of reviewers of the right size).
    fn brute_force(p: &AssignmentProblem) -> Option<i64> {
        let n = p.applications.len();
        let m = p.reviewers.len();
        let choices: Vec<Vec<u32>> = (0..n)
            .map(|a| {
                (0u32..1 << m)
                    .filter(|&set| {
                        set.count_ones() == p.applications[a].reviewers_needed
                            && (0..m).all(|r| set >> r & 1 == 0 || !is_blocked(p, a, r))
                            && p.pinned
                                .iter()
                                .all(|pin| pin.application != a || set >> pin.reviewer & 1 == 1)
                    })
                    .collect()
            })
            .collect();
        fn go(
            p: &AssignmentProblem,
            choices: &[Vec<u32>],
            a: usize,
            plan: &mut Vec<Vec<usize>>,
            best: &mut Option<i64>,
        ) {
            if a == choices.len() {
                let mut loads = vec![0u32; p.reviewers.len()];
                for list in plan.iter() {
                    for &r in list {
                        loads[r] += 1;
                    }
                }
                let keeps_loads = p
                    .reviewers
                    .iter()
                    .zip(&loads)
                    .all(|(c, &l)| l >= c.min_load && l <= c.max_load);
                if keeps_loads {
                    let cost = plain_cost(p, plan);
                    if best.is_none_or(|b| cost < b) {
                        *best = Some(cost);
                    }
                }
                return;
            }
            for &set in &choices[a] {
                plan.push((0..p.reviewers.len()).filter(|&r| set >> r & 1 == 1).collect());
                go(p, choices, a + 1, plan, best);
                plan.pop();
            }
        }
        let mut best = None;
        go(p, &choices, 0, &mut Vec::new(), &mut best);
        best
    }

    fn random_pairs(rng: &mut Rng, n: usize, m: usize, percent: u64) -> Vec<ReviewPair> {
        let mut out = Vec::new();
        for a in 0..n {
            for r in 0..m {
                if rng.chance(percent) {
                    out.push(ReviewPair::new(a, r));
                }
            }
        }
        out
    }

    /// Up to 4 applications (needing 0 to 2 reviewers) and 4 reviewers, 3 program areas,
    /// random loads, conflicts, exclusions, pins and weights.
    fn random_small(rng: &mut Rng) -> AssignmentProblem {
        let n = 1 + rng.below(4) as usize;
        let m = 1 + rng.below(4) as usize;
        let most = m.min(2) as u64;
        let applications = (0..n)
            .map(|_| ApplicationNeeds {
                reviewers_needed: if rng.chance(15) { 0 } else { 1 + rng.below(most) as u32 },
                areas: ProgramAreas::from_bits(rng.below(8)),
            })
            .collect();
        let reviewers = (0..m)
            .map(|_| {
                let min_load = if rng.chance(50) { 0 } else { rng.below(3) as u32 };
                ReviewerCapacity {
                    expertise: ProgramAreas::from_bits(rng.below(8)),
                    min_load,
                    max_load: min_load + rng.below(4) as u32,
                }
            })
            .collect();
        AssignmentProblem {
            applications,
            reviewers,
            conflicts: random_pairs(rng, n, m, 20),
            excluded: random_pairs(rng, n, m, 8),
            pinned: random_pairs(rng, n, m, 8),
            weights: AssignmentWeights {
                uncovered_area: rng.below(21) as i64,
                load_balance: rng.below(6) as i64,
            },
        }
    }

    fn is_infeasibility(e: &AssignmentError) -> bool {
        !matches!(
            e,
            AssignmentError::BrokenRule { .. }
                | AssignmentError::NotProvedOptimal { .. }
                | AssignmentError::SolverFault { .. }
                | AssignmentError::ProblemTooLarge { .. }
        )
    }

    /// The four ways of solving: with and without the warm start, on all pairs and on one
    /// candidate per application.
    fn every_way() -> [SolveOptions; 4] {
        let full = SolveOptions::default();
        let sparse = SolveOptions {
            candidates_per_application: 1,
            full_graph_up_to: 0,
            warm_start: true,
        };
        [
            full,
            SolveOptions {
                warm_start: false,
                ..full
            },
            sparse,
            SolveOptions {
                warm_start: false,
                ..sparse
            },
        ]
    }

    /// Solves 4,000 random small problems every way and compares with exhaustive enumeration:
    /// same feasibility, same optimal cost, every rule kept, certificate accepted.
    #[test]
    fn solver_matches_brute_force_on_random_small_problems() {
        let mut rng = Rng(1);
        let (mut feasible, mut infeasible) = (0, 0);
        let mut repaired = [0; 4];
        for case in 0..4_000 {
            let p = random_small(&mut rng);
            let expected = brute_force(&p);
            for (way, options) in every_way().iter().enumerate() {
                match (solve_with(&p, options), expected) {
                    (Ok(report), Some(best)) => {
                        assert_keeps_rules(&p, &report.assignment);
                        assert_eq!(report.assignment.cost.total(), best, "case {case} way {way}: {p:?}");
                        verify_optimal(&p, &report.assignment, &report.certificate).unwrap();
                        if report.stats.pairs_added > 0 {
                            repaired[way] += 1;
                        }
                    }
                    (Err(e), None) => {
                        assert!(is_infeasibility(&e), "case {case} way {way}: {e}");
                        assert!(!e.to_string().is_empty());
                    }
                    (Ok(report), None) => {
                        panic!(
                            "case {case} way {way}: solver found {:?} but no plan exists: {p:?}",
                            report.assignment
                        )
                    }
                    (Err(e), Some(best)) => {
                        panic!("case {case} way {way}: solver says \"{e}\" but a plan costing {best} exists: {p:?}")
                    }
                }
            }
            if expected.is_some() {
                feasible += 1;
            } else {
                infeasible += 1;
            }
        }
        assert!(
            feasible > 1_000 && infeasible > 600,
            "{feasible} feasible, {infeasible} not"
        );
        // On one candidate per application the feasibility and pricing loops had work to do
        // (less of it after the warm start).
        assert!(
            repaired[2] > 20 && repaired[3] > 100,
            "pairs added in {repaired:?} solves"
        );
    }

    /// Medium problems: 40 applications, 12 reviewers, solved on every pair from scratch and on
    /// one candidate per application with and without the warm start: the costs agree.
    #[test]
    fn sparse_and_full_solves_agree_on_medium_problems() {
        let mut rng = Rng(3);
        let cold = SolveOptions {
            warm_start: false,
            ..SolveOptions::default()
        };
        let sparse = SolveOptions {
            candidates_per_application: 1,
            full_graph_up_to: 0,
            warm_start: true,
        };
        let sparse_cold = SolveOptions {
            warm_start: false,
            ..sparse
        };
        let (mut solved, mut priced) = (0, 0);
        for case in 0..150 {
            let n = 40;
            let m = 12;
            let applications = (0..n)
                .map(|_| ApplicationNeeds {
                    reviewers_needed: 1 + rng.below(3) as u32,
                    areas: ProgramAreas::from_bits(1 + rng.below(15)),
                })
                .collect();
            let reviewers = (0..m)
                .map(|_| {
                    let min_load = rng.below(5) as u32;
                    ReviewerCapacity {
                        expertise: ProgramAreas::from_bits(1 + rng.below(15)),
                        min_load,
                        max_load: min_load + 2 + rng.below(12) as u32,
                    }
                })
                .collect();
            let p = AssignmentProblem {
                applications,
                reviewers,
                conflicts: random_pairs(&mut rng, n, m, 10),
                excluded: random_pairs(&mut rng, n, m, 2),
                pinned: random_pairs(&mut rng, n, m, 1),
                weights: AssignmentWeights {
                    uncovered_area: rng.below(30) as i64,
                    load_balance: rng.below(4) as i64,
                },
            };
            let full = solve_with(&p, &cold);
            for options in [sparse, sparse_cold] {
                match (&full, solve_with(&p, &options)) {
                    (Ok(full), Ok(cg)) => {
                        assert!(full.stats.full_graph && !cg.stats.full_graph);
                        assert_keeps_rules(&p, &cg.assignment);
                        assert_eq!(full.assignment.cost.total(), cg.assignment.cost.total(), "case {case}");
                        solved += 1;
                        if cg.stats.pricing_rounds > 0 {
                            priced += 1;
                        }
                    }
                    (Err(a), Err(b)) => assert!(is_infeasibility(a) && is_infeasibility(&b)),
                    (full, cg) => panic!("case {case}: full {full:?} but sparse {cg:?}"),
                }
            }
        }
        assert!(solved > 50, "only {solved} feasible cases");
        assert!(priced > 25, "pricing added pairs in only {priced} cases");
    }

    #[test]
    fn conflicts_are_never_assigned() {
        // Reviewer 0 covers everything and is idle, but conflicts with applications 0 and 1.
        let mut p = problem(
            vec![app(1, &[0]), app(1, &[0]), app(1, &[0])],
            vec![reviewer(&[0], 0, 3), reviewer(&[], 0, 3), reviewer(&[], 0, 3)],
        );
        p.conflicts = pairs(&[(0, 0), (1, 0)]);
        let plan = solve(&p).unwrap().assignment;
        assert_keeps_rules(&p, &plan);
        assert_eq!(plan.reviewers[2], vec![0]);
        assert!(!plan.reviewers[0].contains(&0) && !plan.reviewers[1].contains(&0));
    }

    #[test]
    fn minimum_and_maximum_loads_are_respected() {
        // Balance alone would give 2, 2, 2; reviewer 0 must take 4 and reviewer 2 at most 0.
        let p = problem(
            vec![app(1, &[]); 6],
            vec![reviewer(&[], 4, 6), reviewer(&[], 0, 6), reviewer(&[], 0, 0)],
        );
        let plan = solve(&p).unwrap().assignment;
        assert_keeps_rules(&p, &plan);
        assert_eq!(plan.loads, vec![4, 2, 0]);
        // The maximum caps an expert everyone would prefer.
        let p = problem(
            vec![app(1, &[0, 1]); 5],
            vec![reviewer(&[0, 1], 0, 2), reviewer(&[], 0, 5)],
        );
        let plan = solve(&p).unwrap().assignment;
        assert_eq!(plan.loads, vec![2, 3]);
    }

    #[test]
    fn pinned_pairs_stay_even_when_costly() {
        // Reviewer 1 covers nothing, yet is pinned to application 0.
        let mut p = problem(
            vec![app(1, &[0, 1]), app(1, &[0, 1])],
            vec![reviewer(&[0, 1], 0, 2), reviewer(&[], 0, 2)],
        );
        let free = solve(&p).unwrap();
        assert_eq!(free.assignment.reviewers, vec![vec![0], vec![0]]);
        p.pinned = pairs(&[(0, 1)]);
        let report = solve(&p).unwrap();
        assert_keeps_rules(&p, &report.assignment);
        assert_eq!(report.assignment.reviewers, vec![vec![1], vec![0]]);
        assert!(report.assignment.cost.total() > free.assignment.cost.total());
        // A pinned pair counts towards the reviewer's minimum and maximum.
        p.reviewers[1].max_load = 1;
        p.applications.push(app(1, &[]));
        let plan = solve(&p).unwrap().assignment;
        assert_eq!(plan.loads[1], 1);
    }

    #[test]
    fn excluded_pairs_are_treated_like_conflicts() {
        let mut p = problem(
            vec![app(2, &[0]), app(1, &[0])],
            vec![reviewer(&[0], 0, 2), reviewer(&[], 0, 2), reviewer(&[], 0, 2)],
        );
        p.excluded = pairs(&[(0, 0)]);
        let plan = solve(&p).unwrap().assignment;
        assert_keeps_rules(&p, &plan);
        assert_eq!(plan.reviewers[0], vec![1, 2]);
        assert_eq!(plan.reviewers[1], vec![0]);
        // Excluding the last possible reviewer makes the plan impossible, with the reason.
        p.excluded = pairs(&[(0, 0), (0, 1)]);
        assert_eq!(
            solve(&p).unwrap_err().to_string(),
            "application 0 has only 1 reviewer without a conflict and with spare capacity; it needs 2"
        );
    }

    #[test]
    fn six_applications_needing_two_spread_three_each_over_four_reviewers() {
        let p = problem(vec![app(2, &[]); 6], vec![reviewer(&[], 0, 6); 4]);
        let report = solve(&p).unwrap();
        assert_keeps_rules(&p, &report.assignment);
        assert_eq!(report.assignment.loads, vec![3, 3, 3, 3]);
        assert_eq!(
            report.assignment.cost,
            CostBreakdown {
                expertise: 0,
                balance: 36
            }
        );
    }

    #[test]
    fn reviewer_covering_the_areas_is_preferred() {
        // Two applications in different areas, two reviewers each expert in one of them.
        let p = problem(
            vec![app(1, &[1]), app(1, &[0])],
            vec![reviewer(&[0], 0, 2), reviewer(&[1], 0, 2)],
        );
        let report = solve(&p).unwrap();
        assert_eq!(report.assignment.reviewers, vec![vec![1], vec![0]]);
        assert_eq!(
            report.assignment.cost,
            CostBreakdown {
                expertise: 0,
                balance: 2
            }
        );
        // A reviewer covering two of three areas beats one covering one.
        let p = problem(
            vec![app(1, &[0, 1, 2])],
            vec![reviewer(&[0], 0, 1), reviewer(&[0, 2], 0, 1), reviewer(&[], 0, 1)],
        );
        assert_eq!(solve(&p).unwrap().assignment.reviewers, vec![vec![1]]);
    }

    #[test]
    fn expertise_gives_way_to_balance_at_the_documented_load_gap() {
        // 21 applications in area 0; reviewer 0 covers it, reviewer 1 does not. With the
        // defaults one covered area is worth a load gap of 5, so the expert stops at 13 to 8.
        let p = problem(
            vec![app(1, &[0]); 21],
            vec![reviewer(&[0], 0, 21), reviewer(&[], 0, 21)],
        );
        let report = solve(&p).unwrap();
        assert_eq!(report.assignment.loads, vec![13, 8]);
        assert_eq!(
            report.assignment.cost,
            CostBreakdown {
                expertise: 80,
                balance: 233
            }
        );
        // Doubling the balance weight halves the gap the expertise is worth.
        let mut p = p;
        p.weights.load_balance = 2;
        let report = solve(&p).unwrap();
        let gap = report.assignment.loads[0] as i64 - report.assignment.loads[1] as i64;
        assert!((2..=3).contains(&gap), "{:?}", report.assignment.loads);
    }

    #[test]
    fn too_few_reviewers_is_explained() {
        let mut p = problem(
            vec![app(1, &[]); 17].into_iter().chain([app(3, &[])]).collect(),
            vec![reviewer(&[], 0, 30); 4],
        );
        p.conflicts = pairs(&[(17, 1), (17, 3)]);
        let e = solve(&p).unwrap_err();
        assert_eq!(
            e,
            AssignmentError::TooFewReviewers {
                application: 17,
                available: 2,
                needed: 3
            }
        );
        assert_eq!(
            e.to_string(),
            "application 17 has only 2 reviewers without a conflict and with spare capacity; it needs 3"
        );
        // A reviewer whose pinned applications fill their maximum has no spare capacity.
        p.conflicts = pairs(&[(17, 1)]);
        p.reviewers[3].max_load = 1;
        p.pinned = pairs(&[(0, 3)]);
        assert_eq!(
            solve(&p).unwrap_err(),
            AssignmentError::TooFewReviewers {
                application: 17,
                available: 2,
                needed: 3
            }
        );
    }

    #[test]
    fn minimum_loads_above_need_is_explained() {
        let p = problem(vec![app(3, &[]); 3_000], vec![reviewer(&[], 91, 200); 100]);
        let e = solve(&p).unwrap_err();
        assert_eq!(
            e,
            AssignmentError::MinimumLoadsAboveNeed {
                minimum: 9_100,
                needed: 9_000
            }
        );
        assert_eq!(
            e.to_string(),
            "the reviewers' minimum loads add up to 9,100 but only 9,000 reviews are needed"
        );
    }

    #[test]
    fn capacity_below_need_is_explained() {
        let p = problem(vec![app(3, &[]); 10], vec![reviewer(&[], 0, 7); 4]);
        assert_eq!(
            solve(&p).unwrap_err().to_string(),
            "the reviewers can take at most 28 reviews in all but 30 are needed"
        );
    }

    #[test]
    fn reviewer_minimum_unreachable_is_explained() {
        let mut p = problem(vec![app(1, &[]); 5], vec![reviewer(&[], 4, 5), reviewer(&[], 0, 5)]);
        p.conflicts = pairs(&[(0, 0), (1, 0)]);
        let e = solve(&p).unwrap_err();
        assert_eq!(
            e,
            AssignmentError::ReviewerMinimumUnreachable {
                reviewer: 0,
                min_load: 4,
                available: 3
            }
        );
        assert_eq!(
            e.to_string(),
            "reviewer 0 must review at least 4 applications but only 3 can go to them (no conflict, still needing reviewers)"
        );
    }

    #[test]
    fn applications_sharing_too_few_reviewers_are_explained() {
        // Applications 0 and 1 need 4 reviews but may only use reviewers 0 and 1, who can
        // take one each; each application on its own still sees two reviewers.
        let mut p = problem(
            vec![app(2, &[]), app(2, &[]), app(2, &[])],
            vec![
                reviewer(&[], 0, 1),
                reviewer(&[], 0, 1),
                reviewer(&[], 0, 5),
                reviewer(&[], 0, 5),
            ],
        );
        p.conflicts = pairs(&[(0, 2), (0, 3), (1, 2), (1, 3)]);
        let e = solve(&p).unwrap_err();
        assert_eq!(
            e,
            AssignmentError::ApplicationsShortOfReviewers {
                applications: vec![0, 1],
                reviews_needed: 4,
                reviewers: vec![0, 1],
                reviewer_room: 2,
                other_pairs: 0,
            }
        );
        assert_eq!(
            e.to_string(),
            "applications 0 and 1 need 4 more reviews between them, but the reviewers free of conflicts with them can give only 2: reviewers 0 and 1 have room for only 2 more in all"
        );
        // The same answer when solving on sparse candidates.
        for warm_start in [true, false] {
            let sparse = SolveOptions {
                candidates_per_application: 1,
                full_graph_up_to: 0,
                warm_start,
            };
            assert_eq!(solve_with(&p, &sparse).unwrap_err(), e);
        }
    }

    #[test]
    fn reviewers_short_of_applications_are_explained() {
        // Reviewers 0 and 1 must take two each, but may only review applications 0 and 1.
        let mut p = problem(
            vec![app(1, &[]); 6],
            vec![reviewer(&[], 2, 2), reviewer(&[], 2, 2), reviewer(&[], 0, 10)],
        );
        p.conflicts = pairs(&[(2, 0), (3, 0), (4, 0), (5, 0), (2, 1), (3, 1), (4, 1), (5, 1)]);
        let e = solve(&p).unwrap_err();
        assert_eq!(
            e,
            AssignmentError::ReviewersShortOfApplications {
                reviewers: vec![0, 1],
                minimum_needed: 4,
                applications: vec![0, 1],
                reviews_available: 2,
                other_pairs: 0,
            }
        );
        assert_eq!(
            e.to_string(),
            "reviewers 0 and 1 must take at least 4 reviews more to reach their minimum loads, but only 2 can reach them: the applications they are free to review (0 and 1) need only 2 more in all"
        );
    }

    #[test]
    fn bad_input_is_rejected_with_the_reason() {
        let base = problem(vec![app(1, &[]); 2], vec![reviewer(&[], 0, 2); 2]);
        let mut p = base.clone();
        p.pinned = pairs(&[(0, 1)]);
        p.conflicts = pairs(&[(0, 1)]);
        assert_eq!(
            solve(&p).unwrap_err(),
            AssignmentError::PinnedPairConflicted {
                application: 0,
                reviewer: 1
            }
        );
        let mut p = base.clone();
        p.pinned = pairs(&[(0, 1)]);
        p.excluded = pairs(&[(0, 1)]);
        assert_eq!(
            solve(&p).unwrap_err(),
            AssignmentError::PinnedPairExcluded {
                application: 0,
                reviewer: 1
            }
        );
        let mut p = base.clone();
        p.pinned = pairs(&[(0, 0), (0, 1)]);
        assert_eq!(
            solve(&p).unwrap_err().to_string(),
            "application 0 has 2 pinned reviewers but needs only 1"
        );
        let mut p = base.clone();
        p.pinned = pairs(&[(0, 0), (1, 0)]);
        p.reviewers[0].max_load = 1;
        assert_eq!(
            solve(&p).unwrap_err(),
            AssignmentError::PinnedAboveMaximum {
                reviewer: 0,
                pinned: 2,
                max_load: 1
            }
        );
        let mut p = base.clone();
        p.conflicts = pairs(&[(2, 0)]);
        assert_eq!(
            solve(&p).unwrap_err(),
            AssignmentError::UnknownApplication {
                application: 2,
                count: 2
            }
        );
        let mut p = base.clone();
        p.excluded = pairs(&[(0, 5)]);
        assert_eq!(
            solve(&p).unwrap_err(),
            AssignmentError::UnknownReviewer { reviewer: 5, count: 2 }
        );
        let mut p = base.clone();
        p.reviewers[1].min_load = 3;
        assert_eq!(
            solve(&p).unwrap_err().to_string(),
            "reviewer 1's minimum load of 3 is above their maximum load of 2"
        );
        let mut p = base;
        p.weights.load_balance = -1;
        assert_eq!(
            solve(&p).unwrap_err().to_string(),
            "the load balance weight must be between 0 and 1,000,000, not -1"
        );
        assert_eq!(
            ProgramAreas::from_indices([3, 64]).unwrap_err(),
            AssignmentError::AreaOutOfRange { area: 64 }
        );
    }

    #[test]
    fn no_reviews_needed_gives_an_empty_plan() {
        let p = problem(vec![app(0, &[]); 3], vec![reviewer(&[], 0, 2); 2]);
        let report = solve(&p).unwrap();
        assert_eq!(report.assignment.reviewers, vec![Vec::<usize>::new(); 3]);
        assert_eq!(report.assignment.cost.total(), 0);
    }

    #[test]
    fn certificate_rejects_a_worse_plan() {
        let p = problem(
            vec![app(1, &[0]), app(1, &[1])],
            vec![reviewer(&[0], 0, 2), reviewer(&[1], 0, 2)],
        );
        let report = solve(&p).unwrap();
        verify_optimal(&p, &report.assignment, &report.certificate).unwrap();
        // Swapping the reviewers keeps every rule but costs more: the prices expose it.
        let worse = Assignment::from_reviewers(&p, vec![vec![1], vec![0]]).unwrap();
        assert!(worse.cost.total() > report.assignment.cost.total());
        assert!(matches!(
            verify_optimal(&p, &worse, &report.certificate),
            Err(AssignmentError::NotProvedOptimal { .. })
        ));
        // So does a scale too small for the proof, or a plan whose figures were altered.
        let mut small = report.certificate.clone();
        small.scale = 5;
        assert!(verify_optimal(&p, &report.assignment, &small).is_err());
        let mut altered = report.assignment.clone();
        altered.cost.balance -= 1;
        assert!(matches!(
            verify_optimal(&p, &altered, &report.certificate),
            Err(AssignmentError::BrokenRule { .. })
        ));
    }

    #[test]
    fn late_conflict_takes_the_best_replacement() {
        // Application 0 (area 0) has reviewer 0; reviewer 1 also covers area 0 but already has
        // two reviews, reviewer 2 covers nothing and is idle.
        let p = problem(
            vec![app(1, &[0]), app(1, &[0]), app(1, &[0])],
            vec![reviewer(&[0], 0, 3), reviewer(&[0], 0, 3), reviewer(&[], 0, 3)],
        );
        let mut plan = Assignment::from_reviewers(&p, vec![vec![0], vec![1], vec![1]]).unwrap();
        let before = plan.clone();
        let change = reassign_after_conflict(&p, &mut plan, 0, 0).unwrap();
        // Reviewer 1: 0 expertise + 5 for a third review; reviewer 2: 10 + 1.
        assert_eq!(change.replacement, 1);
        assert_eq!(change.replacement_load, 3);
        assert_eq!(change.uncovered_areas, 0);
        assert_eq!(change.cost_change, 5 - 1);
        assert!(!change.removed_reviewer_below_minimum);
        assert_eq!(plan.reviewers, vec![vec![1], vec![1], vec![1]]);
        assert_eq!(plan.loads, vec![0, 3, 0]);
        assert_eq!(plan.cost.total(), before.cost.total() + change.cost_change);
        assert_eq!(plan.cost.total(), plain_cost(&p, &plan.reviewers));
        // Every other application kept its reviewers.
        assert_eq!(plan.reviewers[1..], before.reviewers[1..]);
    }

    #[test]
    fn late_conflict_flags_a_reviewer_left_below_minimum() {
        let p = problem(vec![app(1, &[]); 2], vec![reviewer(&[], 1, 2), reviewer(&[], 0, 2)]);
        let mut plan = solve(&p).unwrap().assignment;
        let a = plan.reviewers.iter().position(|l| l == &vec![0]).unwrap();
        let change = reassign_after_conflict(&p, &mut plan, a, 0).unwrap();
        assert_eq!(change.replacement, 1);
        assert!(change.removed_reviewer_below_minimum);
    }

    #[test]
    fn late_conflict_without_replacement_says_why() {
        let mut p = problem(
            vec![app(2, &[]), app(1, &[])],
            vec![
                reviewer(&[], 0, 2),
                reviewer(&[], 0, 2),
                reviewer(&[], 0, 1),
                reviewer(&[], 0, 2),
            ],
        );
        p.conflicts = pairs(&[(0, 3)]);
        let mut plan = Assignment::from_reviewers(&p, vec![vec![0, 1], vec![2]]).unwrap();
        let e = reassign_after_conflict(&p, &mut plan, 0, 0).unwrap_err();
        assert_eq!(
            e,
            AssignmentError::NoReplacement {
                application: 0,
                reviewer: 0,
                conflicted: 1,
                already_assigned: 1,
                at_maximum: 1,
            }
        );
        assert_eq!(
            e.to_string(),
            "no reviewer can replace reviewer 0 on application 0: of the 3 others, 1 have a conflict with it or were removed from it, 1 already review it and 1 are at their maximum load"
        );
        // Nothing changed.
        assert_eq!(plan.reviewers, vec![vec![0, 1], vec![2]]);
        assert_eq!(
            reassign_after_conflict(&p, &mut plan, 1, 0).unwrap_err(),
            AssignmentError::NotAssigned {
                application: 1,
                reviewer: 0
            }
        );
    }

    /// On random solved problems, the replacement gives the lowest total cost of all plans
    /// that differ only in that one seat.
    #[test]
    fn late_conflict_replacement_is_best_among_single_changes() {
        let mut rng = Rng(4);
        let mut checked = 0;
        for _ in 0..2_000 {
            let mut p = random_small(&mut rng);
            p.pinned.clear();
            let Ok(report) = solve(&p) else { continue };
            let plan = report.assignment;
            let seats: Vec<(usize, usize)> = plan
                .reviewers
                .iter()
                .enumerate()
                .flat_map(|(a, l)| l.iter().map(move |&r| (a, r)))
                .collect();
            if seats.is_empty() {
                continue;
            }
            let (a, gone) = seats[rng.below(seats.len() as u64) as usize];
            let mut best: Option<i64> = None;
            for r in 0..p.reviewers.len() {
                if r == gone
                    || is_blocked(&p, a, r)
                    || plan.reviewers[a].contains(&r)
                    || plan.loads[r] >= p.reviewers[r].max_load
                {
                    continue;
                }
                let mut other = plan.reviewers.clone();
                other[a].retain(|&x| x != gone);
                other[a].push(r);
                let cost = plain_cost(&p, &other);
                best = Some(best.map_or(cost, |b| b.min(cost)));
            }
            let mut changed = plan.clone();
            match (reassign_after_conflict(&p, &mut changed, a, gone), best) {
                (Ok(change), Some(best)) => {
                    assert_eq!(changed.cost.total(), best);
                    assert_eq!(plain_cost(&p, &changed.reviewers), best);
                    assert_eq!(changed.cost.total() - plan.cost.total(), change.cost_change);
                    checked += 1;
                }
                (Err(AssignmentError::NoReplacement { .. }), None) => {}
                (got, best) => panic!("{got:?} but best single change {best:?}"),
            }
        }
        assert!(checked > 100, "only {checked} reassignments checked");
    }

    #[test]
    fn numbers_and_lists_read_naturally() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(9_100), "9,100");
        assert_eq!(thousands(12_345_678), "12,345,678");
        assert_eq!(id_list(&[4]), "4");
        assert_eq!(id_list(&[4, 9]), "4 and 9");
        assert_eq!(id_list(&[1, 2, 3]), "1, 2 and 3");
        assert_eq!(
            id_list(&(0..20).collect::<Vec<_>>()),
            "0, 1, 2, 3, 4, 5, 6, 7 and 12 more"
        );
    }
}
