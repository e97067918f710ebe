//! Public search over solicitations: text, program area, status, applicant type and closing
//! date, paginated and sorted. Drafts are never returned; an open solicitation whose deadline
//! has passed counts as closed.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, Order, PaginatorTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};

use crate::entity::{office, solicitation};
use crate::model::{ApplicantType, ProgramArea, Solicitation};
use crate::service::to_model;
use crate::{SolicitationError, Status};

/// The largest page a caller may ask for.
pub const MAX_PAGE_SIZE: u64 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortOrder {
    /// Open ones closing soonest first, then forecasts, then closed (the default).
    #[default]
    ClosingSoonest,
    /// Most recently posted first.
    Newest,
    /// Most funding available first.
    Funding,
    /// By title, A to Z.
    Title,
    /// By one field, in the given direction.
    Field { field: SortField, descending: bool },
}

/// Fields a search can be sorted by (the CommonGrants protocol's sort keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortField {
    LastModified,
    Created,
    Title,
    Status,
    CloseDate,
    AwardCeiling,
    AwardFloor,
    TotalFunding,
    ExpectedAwards,
}

/// A range filter: values between `min` and `max` inclusive, or (when `inside` is false)
/// values outside that range. Rows without a value never match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range<T> {
    pub min: T,
    pub max: T,
    pub inside: bool,
}

impl SortOrder {
    pub fn parse(s: &str) -> Option<SortOrder> {
        match s.trim() {
            "closing_soonest" | "" => Some(SortOrder::ClosingSoonest),
            "newest" => Some(SortOrder::Newest),
            "funding" => Some(SortOrder::Funding),
            "title" => Some(SortOrder::Title),
            _ => None,
        }
    }
}

/// What to look for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    /// Words that must all appear (in the number, title, summary, office or tags).
    pub text: Option<String>,
    pub program_area: Option<ProgramArea>,
    /// Public statuses to include; empty means forecasted and open.
    pub statuses: Vec<Status>,
    pub applicant_type: Option<ApplicantType>,
    /// Only solicitations closing on or before this date (in the solicitation's zone, taken
    /// as the end of that day in the default zone).
    pub closing_before: Option<NaiveDate>,
    pub close_range: Option<Range<DateTime<Utc>>>,
    pub total_range: Option<Range<granary_core::Money>>,
    pub floor_range: Option<Range<granary_core::Money>>,
    pub ceiling_range: Option<Range<granary_core::Money>>,
    pub sort: SortOrder,
    /// 1-based.
    pub page: u64,
    pub page_size: u64,
}

impl Default for SearchQuery {
    fn default() -> Self {
        SearchQuery {
            text: None,
            program_area: None,
            statuses: Vec::new(),
            applicant_type: None,
            closing_before: None,
            close_range: None,
            total_range: None,
            floor_range: None,
            ceiling_range: None,
            sort: SortOrder::default(),
            page: 1,
            page_size: 20,
        }
    }
}

/// One page of results.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub page: u64,
    pub page_size: u64,
    pub total_items: u64,
    pub total_pages: u64,
}

fn like_pattern(word: &str) -> LikeExpr {
    let escaped: String = word
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    LikeExpr::new(format!("%{escaped}%")).escape('\\')
}

fn range<V>(col: solicitation::Column, min: V, max: V, inside: bool) -> Condition
where
    V: Into<sea_orm::Value> + Clone,
{
    if inside {
        Condition::all().add(col.gte(min)).add(col.lte(max))
    } else {
        Condition::any().add(col.lt(min)).add(col.gt(max))
    }
}

fn end_of_day(d: NaiveDate, tz: Tz) -> DateTime<Utc> {
    granary_core::time::instant_in_zone(d, chrono::NaiveTime::from_hms_opt(23, 59, 59).unwrap_or_default(), tz)
}

/// Runs a search. Statuses other than forecasted, open and closed are ignored: drafts and
/// archived solicitations are not public search results.
pub async fn search<C: ConnectionTrait>(
    db: &C,
    q: &SearchQuery,
    now: DateTime<Utc>,
) -> Result<Page<Solicitation>, SolicitationError> {
    use solicitation::Column as Col;
    let page_size = q.page_size.clamp(1, MAX_PAGE_SIZE);
    let page = Ord::max(q.page, 1);

    let mut wanted: Vec<Status> = q
        .statuses
        .iter()
        .copied()
        .filter(|s| matches!(s, Status::Forecasted | Status::Open | Status::Closed))
        .collect();
    if wanted.is_empty() {
        wanted = vec![Status::Forecasted, Status::Open];
    }
    let mut status_cond = Condition::any();
    for s in &wanted {
        status_cond = match s {
            Status::Forecasted => status_cond.add(Col::Status.eq("forecasted")),
            Status::Open => status_cond.add(Condition::all().add(Col::Status.eq("open")).add(Col::ClosesAt.gt(now))),
            Status::Closed => status_cond
                .add(Col::Status.eq("closed"))
                .add(Condition::all().add(Col::Status.eq("open")).add(Col::ClosesAt.lte(now))),
            _ => status_cond,
        };
    }
    let mut cond = Condition::all().add(status_cond);
    if let Some(text) = &q.text {
        for word in text.split_whitespace().take(10) {
            let w = word.to_lowercase();
            cond = cond.add(Expr::col((solicitation::Entity, Col::SearchText)).like(like_pattern(&w)));
        }
    }
    if let Some(area) = q.program_area {
        cond = cond.add(
            Expr::col((solicitation::Entity, Col::ProgramAreasJson))
                .like(like_pattern(&format!("\"{}\"", area.slug()))),
        );
    }
    if let Some(t) = q.applicant_type {
        cond = cond.add(
            Expr::col((solicitation::Entity, Col::ApplicantTypesJson)).like(like_pattern(&format!("\"{}\"", t.slug()))),
        );
    }
    let tz = granary_core::time::DEFAULT_TIME_ZONE;
    if let Some(d) = q.closing_before {
        cond = cond.add(Col::ClosesAt.lte(end_of_day(d, tz)));
    }
    if let Some(r) = q.close_range {
        cond = cond.add(range(Col::ClosesAt, r.min, r.max, r.inside));
    }
    for (col, r) in [
        (Col::TotalFundingCents, q.total_range),
        (Col::AwardFloorCents, q.floor_range),
        (Col::AwardCeilingCents, q.ceiling_range),
    ] {
        if let Some(r) = r {
            cond = cond.add(range(col, r.min.cents(), r.max.cents(), r.inside));
        }
    }

    let mut sel = solicitation::Entity::find()
        .filter(cond)
        .find_also_related(office::Entity);
    sel = match q.sort {
        SortOrder::ClosingSoonest => sel
            // Open first, then forecasted, then closed; within each, the nearest deadline.
            .order_by(
                Expr::Case(Box::new(
                    Expr::case(
                        Condition::all().add(Col::Status.eq("open")).add(Col::ClosesAt.gt(now)),
                        0,
                    )
                    .case(Col::Status.eq("forecasted"), 1)
                    .finally(2),
                )),
                Order::Asc,
            )
            .order_by(Expr::col((solicitation::Entity, Col::ClosesAt)).is_null(), Order::Asc)
            .order_by_asc(Col::ClosesAt),
        SortOrder::Newest => sel.order_by_desc(Col::PostedAt),
        SortOrder::Funding => sel.order_by_desc(Col::TotalFundingCents),
        SortOrder::Title => sel.order_by_asc(Col::Title),
        SortOrder::Field { field, descending } => {
            let col = match field {
                SortField::LastModified => Col::UpdatedAt,
                SortField::Created => Col::CreatedAt,
                SortField::Title => Col::Title,
                SortField::Status => Col::Status,
                SortField::CloseDate => Col::ClosesAt,
                SortField::AwardCeiling => Col::AwardCeilingCents,
                SortField::AwardFloor => Col::AwardFloorCents,
                SortField::TotalFunding => Col::TotalFundingCents,
                SortField::ExpectedAwards => Col::ExpectedAwards,
            };
            // Rows without a value sort last either way.
            sel.order_by(Expr::col((solicitation::Entity, col)).is_null(), Order::Asc)
                .order_by(col, if descending { Order::Desc } else { Order::Asc })
        }
    };
    sel = sel.order_by_asc(Col::Id);

    let paginator = sel.paginate(db, page_size);
    let counts = paginator.num_items_and_pages().await?;
    let rows = paginator.fetch_page(page - 1).await?;
    let items = rows
        .into_iter()
        .map(|(s, o)| to_model(s, o))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page {
        items,
        page,
        page_size,
        total_items: counts.number_of_items,
        total_pages: counts.number_of_pages,
    })
}
