//! The CommonGrants protocol's opportunity routes (protocol 0.2–0.4 shapes, which are
//! stable): `GET /common-grants/opportunities`, `GET /common-grants/opportunities/{oppId}`
//! and `POST /common-grants/opportunities/search`. Money is `{amount, currency}` with a
//! decimal string; statuses are forecasted/open/closed, with archived sent as `custom`;
//! Granary's own fields (number, program areas, rubric, ...) travel in `customFields`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, NaiveTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use granary_core::Money;
use granary_solicitations::{
    self as sol, ApplicantType, Range, SearchQuery, Solicitation, SortField, SortOrder, Status,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::auth::Auth;
use crate::error::{AppError, AppResult};
use crate::routes::pages::visible_solicitation;
use crate::state::AppState;
use granary_core::policy::Action;

const DEFAULT_PAGE_SIZE: u64 = 100;

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct CgMoney {
    pub amount: String,
    pub currency: String,
}

impl From<Money> for CgMoney {
    fn from(m: Money) -> Self {
        CgMoney {
            amount: m.to_amount_string(),
            currency: "USD".into(),
        }
    }
}

fn utc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn single_date(name: &str, at: DateTime<Utc>, tz: Tz, description: &str) -> Value {
    let local = at.with_timezone(&tz);
    let mut e = json!({
        "name": name,
        "eventType": "singleDate",
        "date": local.format("%Y-%m-%d").to_string(),
        "time": local.format("%H:%M:%S").to_string(),
    });
    let description = if description.is_empty() {
        format!("Times are in {} ({})", tz.name(), local.format("%Z"))
    } else {
        format!("{description} Times are in {} ({}).", tz.name(), local.format("%Z"))
    };
    e["description"] = Value::String(description);
    e
}

/// A map key for an event name: "Online info session" becomes "onlineInfoSession".
fn camel_key(name: &str) -> String {
    let mut out = String::new();
    let words = name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty());
    for (i, word) in words.enumerate() {
        let lower = word.to_ascii_lowercase();
        let mut chars = lower.chars();
        match chars.next() {
            Some(f) if i > 0 => {
                out.push(f.to_ascii_uppercase());
                out.push_str(chars.as_str());
            }
            _ => out.push_str(&lower),
        }
    }
    if out.is_empty() { "event".to_string() } else { out }
}

fn custom_field(name: &str, field_type: &str, value: Value, description: &str) -> Value {
    json!({ "name": name, "fieldType": field_type, "value": value, "description": description })
}

fn applicant_type(t: ApplicantType) -> Value {
    match t {
        ApplicantType::FiscallySponsoredGroup => json!({
            "value": "custom",
            "customValue": t.slug(),
            "description": t.label(),
        }),
        other => json!({ "value": other.slug() }),
    }
}

/// A solicitation as a CommonGrants `OpportunityBase`.
pub fn opportunity(s: &Solicitation, now: DateTime<Utc>, public_url: &str) -> Value {
    let c = &s.content;
    let tz = s.time_zone();
    let status = match s.effective_status(now) {
        Status::Forecasted => json!({ "value": "forecasted" }),
        Status::Open => json!({ "value": "open" }),
        Status::Closed => json!({ "value": "closed" }),
        other => json!({
            "value": "custom",
            "customValue": other.as_str(),
            "description": "No longer accepting applications and removed from current listings",
        }),
    };
    let mut funding = serde_json::Map::new();
    if !c.funding.notes.is_empty() {
        funding.insert("details".into(), json!(c.funding.notes));
    }
    funding.insert(
        "totalAmountAvailable".into(),
        json!(CgMoney::from(c.funding.total_available)),
    );
    if let Some(floor) = c.funding.award_floor {
        funding.insert("minAwardAmount".into(), json!(CgMoney::from(floor)));
    }
    funding.insert("maxAwardAmount".into(), json!(CgMoney::from(c.funding.award_ceiling)));
    if let Some(n) = c.funding.expected_awards {
        funding.insert("estimatedAwardCount".into(), json!(n));
    }
    let mut key_dates = serde_json::Map::new();
    if let Some(p) = s.posted_at {
        key_dates.insert("postDate".into(), single_date("Posted", p, tz, ""));
    }
    if let Some(close) = c.dates.closes_at {
        key_dates.insert(
            "closeDate".into(),
            single_date(
                "Application deadline",
                close,
                tz,
                "Applications must be received before this time.",
            ),
        );
    }
    let mut other = serde_json::Map::new();
    if let Some(open) = c.dates.opens_at {
        other.insert("openDate".into(), single_date("Applications open", open, tz, ""));
    }
    if let (Some(a), Some(b)) = (c.funding.period_start, c.funding.period_end) {
        other.insert(
            "periodOfPerformance".into(),
            json!({
                "name": "Period of performance",
                "eventType": "dateRange",
                "startDate": a.format("%Y-%m-%d").to_string(),
                "endDate": b.format("%Y-%m-%d").to_string(),
            }),
        );
    }
    for d in &c.dates.other {
        let mut key = camel_key(&d.name);
        while other.contains_key(&key) {
            key.push('_');
        }
        other.insert(key, single_date(&d.name, d.at, tz, &d.description));
    }
    if !other.is_empty() {
        key_dates.insert("otherDates".into(), Value::Object(other));
    }
    let mut custom = serde_json::Map::new();
    custom.insert(
        "solicitationNumber".into(),
        custom_field(
            "solicitationNumber",
            "string",
            json!(c.number),
            "The issuing office's number for this solicitation",
        ),
    );
    custom.insert(
        "issuingOffice".into(),
        custom_field(
            "issuingOffice",
            "string",
            json!(s.office.name),
            "The office that issued the solicitation",
        ),
    );
    custom.insert(
        "programAreas".into(),
        custom_field(
            "programAreas",
            "array",
            json!(c.program_areas),
            "Arms of the public-safety ecosystem: prevention, intervention, accountability, rehabilitation",
        ),
    );
    custom.insert(
        "focusTags".into(),
        custom_field(
            "focusTags",
            "array",
            json!(c.focus_tags),
            "Focus areas within the program areas",
        ),
    );
    if let Some(al) = &c.assistance_listing {
        custom.insert(
            "assistanceListing".into(),
            custom_field(
                "assistanceListing",
                "string",
                json!(al),
                "Assistance Listing number (formerly CFDA)",
            ),
        );
    }
    custom.insert(
        "eligibility".into(),
        custom_field(
            "eligibility",
            "object",
            json!(c.eligibility),
            "Who may apply: applicant types, budget limit, geography",
        ),
    );
    custom.insert(
        "rubric".into(),
        custom_field("rubric", "object", json!(c.rubric), "Scoring criteria and their points"),
    );
    custom.insert(
        "priorityConsiderations".into(),
        custom_field(
            "priorityConsiderations",
            "array",
            json!(c.priority_considerations),
            "Priority considerations, how each is established, and how it enters the outcome",
        ),
    );
    custom.insert(
        "amendmentVersion".into(),
        custom_field(
            "amendmentVersion",
            "integer",
            json!(s.version),
            "1 when first posted, plus one for each amendment",
        ),
    );
    let mut o = json!({
        "id": s.id.to_string(),
        "title": c.title,
        "status": status,
        "description": if c.description.is_empty() { c.summary.clone() } else { format!("{}\n\n{}", c.summary, c.description) },
        "funding": Value::Object(funding),
        "keyDates": Value::Object(key_dates),
        "acceptedApplicantTypes": c.eligibility.applicant_types.iter().map(|t| applicant_type(*t)).collect::<Vec<_>>(),
        "source": format!("{public_url}/solicitations/{}", s.id),
        "customFields": Value::Object(custom),
        "createdAt": utc(s.created_at),
        "lastModifiedAt": utc(s.updated_at),
    });
    if c.eligibility.applicant_types.is_empty()
        && let Some(obj) = o.as_object_mut()
    {
        obj.remove("acceptedApplicantTypes");
    }
    o
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    page: Option<u64>,
    #[serde(rename = "pageSize")]
    page_size: Option<u64>,
}

fn check_page(page: Option<u64>, page_size: Option<u64>) -> AppResult<(u64, u64)> {
    let mut fields = granary_core::ValidationErrors::new();
    let page = page.unwrap_or(1);
    let page_size = page_size.unwrap_or(DEFAULT_PAGE_SIZE);
    if page < 1 {
        fields.add("page", "must be at least 1");
    }
    if !(1..=100).contains(&page_size) {
        fields.add("pageSize", "must be between 1 and 100");
    }
    fields
        .into_result()
        .map_err(|e| AppError::invalid(StatusCode::BAD_REQUEST, e.0))?;
    Ok((page, page_size))
}

fn pagination(p: &sol::Page<Solicitation>) -> Value {
    json!({ "page": p.page, "pageSize": p.page_size, "totalItems": p.total_items, "totalPages": p.total_pages })
}

const PUBLIC: [Status; 3] = [Status::Forecasted, Status::Open, Status::Closed];

pub async fn list(auth: Auth, State(state): State<AppState>, Query(q): Query<ListQuery>) -> AppResult<Json<Value>> {
    auth.require(&Action::ReadPublic)?;
    let (page, page_size) = check_page(q.page, q.page_size)?;
    let now = state.now();
    let query = SearchQuery {
        statuses: PUBLIC.to_vec(),
        sort: SortOrder::Field {
            field: SortField::LastModified,
            descending: true,
        },
        page,
        page_size,
        ..Default::default()
    };
    let result = sol::search(&state.db, &query, now).await?;
    Ok(Json(json!({
        "status": 200,
        "message": "Opportunities fetched successfully",
        "items": result.items.iter().map(|s| opportunity(s, now, &state.public_url)).collect::<Vec<_>>(),
        "paginationInfo": pagination(&result),
    })))
}

pub async fn read(auth: Auth, State(state): State<AppState>, Path(opp_id): Path<String>) -> AppResult<Json<Value>> {
    let id = opp_id
        .parse()
        .map_err(|_| AppError::not_found(format!("No opportunity has the id {opp_id:?}")))?;
    let s = visible_solicitation(&state, &auth, id).await?;
    Ok(Json(json!({
        "status": 200,
        "message": "Opportunity fetched successfully",
        "data": opportunity(&s, state.now(), &state.public_url),
    })))
}

#[derive(Deserialize, Serialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct StringArrayFilter {
    operator: String,
    value: Vec<String>,
}

#[derive(Deserialize, Serialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct RangeFilter<T> {
    operator: String,
    value: MinMax<T>,
}

#[derive(Deserialize, Serialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct MinMax<T> {
    min: T,
    max: T,
}

#[derive(Deserialize, Serialize, Debug, Clone, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OppFilters {
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<StringArrayFilter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    close_date_range: Option<RangeFilter<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    total_funding_available_range: Option<RangeFilter<CgMoney>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    min_award_amount_range: Option<RangeFilter<CgMoney>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_award_amount_range: Option<RangeFilter<CgMoney>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    custom_filters: Option<BTreeMap<String, Value>>,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OppSorting {
    sort_by: String,
    sort_order: Option<String>,
    custom_sort_by: Option<String>,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Pagination {
    page: Option<u64>,
    page_size: Option<u64>,
}

#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct SearchBody {
    search: Option<String>,
    filters: Option<OppFilters>,
    sorting: Option<OppSorting>,
    pagination: Option<Pagination>,
}

fn inside(field: &str, operator: &str, errors: &mut granary_core::ValidationErrors) -> bool {
    match operator {
        "between" => true,
        "outside" => false,
        other => {
            errors.add(
                format!("filters.{field}.operator"),
                format!("{other:?} is not between or outside"),
            );
            true
        }
    }
}

fn money(field: &str, m: &CgMoney, errors: &mut granary_core::ValidationErrors) -> Money {
    if m.currency != "USD" {
        errors.add(format!("filters.{field}.currency"), "Granary's amounts are in USD");
    }
    m.amount.parse::<Money>().unwrap_or_else(|e| {
        errors.add(format!("filters.{field}.amount"), format!("{:?} {e}", m.amount));
        Money::ZERO
    })
}

fn date_bound(field: &str, s: &str, end: bool, errors: &mut granary_core::ValidationErrors) -> DateTime<Utc> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return t.with_timezone(&Utc);
    }
    match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        Ok(d) => {
            let t = if end {
                NaiveTime::from_hms_opt(23, 59, 59).unwrap_or_default()
            } else {
                NaiveTime::MIN
            };
            d.and_time(t).and_utc()
        }
        Err(_) => {
            errors.add(
                format!("filters.{field}"),
                format!("{s:?} is not a date (YYYY-MM-DD) or date-time"),
            );
            Utc::now()
        }
    }
}

pub async fn search(auth: Auth, State(state): State<AppState>, Json(body): Json<SearchBody>) -> AppResult<Json<Value>> {
    auth.require(&Action::ReadPublic)?;
    let now = state.now();
    let (page, page_size) = check_page(
        body.pagination.as_ref().and_then(|p| p.page),
        body.pagination.as_ref().and_then(|p| p.page_size),
    )?;
    let mut errors = granary_core::ValidationErrors::new();
    let mut filter_notes: Vec<String> = Vec::new();
    let mut sort_notes: Vec<String> = Vec::new();
    let mut q = SearchQuery {
        statuses: PUBLIC.to_vec(),
        page,
        page_size,
        ..Default::default()
    };
    if let Some(text) = body.search.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        if text.chars().count() > 200 {
            errors.add("search", "must be at most 200 characters");
        }
        q.text = Some(text.to_string());
    }
    let filters = body.filters.clone().unwrap_or_default();
    if let Some(f) = &filters.status {
        let mut named = Vec::new();
        for v in &f.value {
            match v.as_str() {
                "forecasted" => named.push(Status::Forecasted),
                "open" => named.push(Status::Open),
                "closed" => named.push(Status::Closed),
                "custom" => {}
                other => errors.add(
                    "filters.status.value",
                    format!("{other:?} is not forecasted, open, closed or custom"),
                ),
            }
        }
        q.statuses = match f.operator.as_str() {
            "in" => named,
            "notIn" | "not_in" => PUBLIC.iter().copied().filter(|s| !named.contains(s)).collect(),
            other => {
                errors.add("filters.status.operator", format!("{other:?} is not in or notIn"));
                Vec::new()
            }
        };
        if q.statuses.is_empty() && errors.is_empty() {
            // Nothing can match; say so with an empty page rather than a default search.
            return Ok(Json(search_response(
                &sol::Page {
                    items: vec![],
                    page,
                    page_size,
                    total_items: 0,
                    total_pages: 0,
                },
                &filters,
                "lastModifiedAt",
                "desc",
                sort_notes,
                filter_notes,
                now,
                &state,
            )));
        }
    }
    if let Some(f) = &filters.close_date_range {
        let inside = inside("closeDateRange", &f.operator, &mut errors);
        let min = date_bound("closeDateRange.value.min", &f.value.min, false, &mut errors);
        let max = date_bound("closeDateRange.value.max", &f.value.max, true, &mut errors);
        q.close_range = Some(Range { min, max, inside });
    }
    for (name, f, slot) in [
        (
            "totalFundingAvailableRange",
            &filters.total_funding_available_range,
            &mut q.total_range,
        ),
        (
            "minAwardAmountRange",
            &filters.min_award_amount_range,
            &mut q.floor_range,
        ),
        (
            "maxAwardAmountRange",
            &filters.max_award_amount_range,
            &mut q.ceiling_range,
        ),
    ] {
        if let Some(f) = f {
            let inside = inside(name, &f.operator, &mut errors);
            let min = money(&format!("{name}.value.min"), &f.value.min, &mut errors);
            let max = money(&format!("{name}.value.max"), &f.value.max, &mut errors);
            *slot = Some(Range { min, max, inside });
        }
    }
    if let Some(custom) = &filters.custom_filters {
        for (name, f) in custom {
            let value = f.get("value").and_then(Value::as_str);
            match name.as_str() {
                "programArea" => match value.and_then(sol::ProgramArea::parse) {
                    Some(a) => q.program_area = Some(a),
                    None => filter_notes.push(
                        "programArea needs a value of prevention, intervention, accountability or rehabilitation"
                            .into(),
                    ),
                },
                "applicantType" => match value.and_then(ApplicantType::parse) {
                    Some(t) => q.applicant_type = Some(t),
                    None => filter_notes.push("applicantType needs a value naming an applicant type".into()),
                },
                other => filter_notes.push(format!("Unsupported filter: {other}")),
            }
        }
    }
    let (mut sort_by, mut sort_order) = ("lastModifiedAt".to_string(), "desc".to_string());
    q.sort = SortOrder::Field {
        field: SortField::LastModified,
        descending: true,
    };
    if let Some(s) = &body.sorting {
        let descending = match s.sort_order.as_deref() {
            None | Some("desc") => true,
            Some("asc") => false,
            Some(other) => {
                errors.add("sorting.sortOrder", format!("{other:?} is not asc or desc"));
                true
            }
        };
        let field = match s.sort_by.as_str() {
            "lastModifiedAt" => Some(SortField::LastModified),
            "createdAt" => Some(SortField::Created),
            "title" => Some(SortField::Title),
            "status.value" => Some(SortField::Status),
            "keyDates.closeDate" => Some(SortField::CloseDate),
            "funding.maxAwardAmount" => Some(SortField::AwardCeiling),
            "funding.minAwardAmount" => Some(SortField::AwardFloor),
            "funding.totalAmountAvailable" => Some(SortField::TotalFunding),
            "funding.estimatedAwardCount" => Some(SortField::ExpectedAwards),
            "custom" => {
                sort_notes.push(format!(
                    "Unsupported custom sort: {}; sorted by lastModifiedAt",
                    s.custom_sort_by.as_deref().unwrap_or("(none given)")
                ));
                None
            }
            other => {
                errors.add("sorting.sortBy", format!("{other:?} is not a sort key of the protocol"));
                None
            }
        };
        if let Some(field) = field {
            q.sort = SortOrder::Field { field, descending };
            sort_by = s.sort_by.clone();
        }
        sort_order = if descending { "desc".into() } else { "asc".into() };
        if field.is_none() {
            q.sort = SortOrder::Field {
                field: SortField::LastModified,
                descending,
            };
        }
    }
    errors
        .into_result()
        .map_err(|e| AppError::invalid(StatusCode::BAD_REQUEST, e.0))?;
    let result = sol::search(&state.db, &q, now).await?;
    Ok(Json(search_response(
        &result,
        &filters,
        &sort_by,
        &sort_order,
        sort_notes,
        filter_notes,
        now,
        &state,
    )))
}

#[allow(clippy::too_many_arguments)]
fn search_response(
    result: &sol::Page<Solicitation>,
    filters: &OppFilters,
    sort_by: &str,
    sort_order: &str,
    sort_notes: Vec<String>,
    filter_notes: Vec<String>,
    now: DateTime<Utc>,
    state: &AppState,
) -> Value {
    json!({
        "status": 200,
        "message": "Opportunities searched successfully",
        "items": result.items.iter().map(|s| opportunity(s, now, &state.public_url)).collect::<Vec<_>>(),
        "paginationInfo": pagination(result),
        "sortInfo": { "sortBy": sort_by, "sortOrder": sort_order, "errors": sort_notes },
        "filterInfo": { "filters": filters, "errors": filter_notes },
    })
}
