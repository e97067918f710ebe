//! The search parameters shared by the `/solicitations` page and `/api/v1/solicitations`:
//! read leniently from the query string as text, then checked field by field so a mistake
//! comes back naming the parameter and the reason.

use chrono::NaiveDate;
use granary_core::{FieldError, ValidationErrors};
use granary_solicitations::{ApplicantType, ProgramArea, SearchQuery, SortOrder, Status};
use serde::Serialize;

/// The raw parameters as typed, kept so a form can show them again.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SearchParams {
    pub q: String,
    pub area: String,
    pub status: Vec<String>,
    pub applicant_type: String,
    pub closing_before: String,
    pub sort: String,
    pub page: String,
    pub page_size: String,
}

const KNOWN: &[&str] = &[
    "q",
    "area",
    "status",
    "applicant_type",
    "closing_before",
    "sort",
    "page",
    "page_size",
];

impl SearchParams {
    /// Reads a query string. Repeated `status` parameters, or one with commas, select several.
    pub fn from_query(raw: Option<&str>) -> Result<SearchParams, Vec<FieldError>> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.unwrap_or("")).map_err(|e| {
            vec![FieldError {
                field: "query".into(),
                message: format!("is not a valid query string: {e}"),
            }]
        })?;
        let mut p = SearchParams::default();
        let mut unknown = Vec::new();
        for (k, v) in pairs {
            let v = v.trim().to_string();
            match k.as_str() {
                "q" => p.q = v,
                "area" => p.area = v,
                "status" => p
                    .status
                    .extend(v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty())),
                "applicant_type" => p.applicant_type = v,
                "closing_before" => p.closing_before = v,
                "sort" => p.sort = v,
                "page" => p.page = v,
                "page_size" => p.page_size = v,
                other => unknown.push(other.to_string()),
            }
        }
        if !unknown.is_empty() {
            return Err(unknown
                .into_iter()
                .map(|u| FieldError {
                    field: u,
                    message: format!("is not a search parameter (use {})", KNOWN.join(", ")),
                })
                .collect());
        }
        Ok(p)
    }

    /// Checks every parameter and builds the domain query.
    pub fn to_query(&self, default_page_size: u64) -> Result<SearchQuery, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let mut q = SearchQuery {
            page_size: default_page_size,
            ..Default::default()
        };
        if self.q.chars().count() > 200 {
            e.add("q", "must be at most 200 characters");
        } else if !self.q.is_empty() {
            q.text = Some(self.q.clone());
        }
        if !self.area.is_empty() {
            match ProgramArea::parse(&self.area) {
                Some(a) => q.program_area = Some(a),
                None => e.add(
                    "area",
                    format!("must be one of {}", slugs(ProgramArea::ALL.iter().map(|a| a.slug()))),
                ),
            }
        }
        for s in &self.status {
            match Status::parse(s).filter(|s| matches!(s, Status::Forecasted | Status::Open | Status::Closed)) {
                Some(st) => q.statuses.push(st),
                None => e.add("status", format!("{s:?} is not one of forecasted, open, closed")),
            }
        }
        if !self.applicant_type.is_empty() {
            match ApplicantType::parse(&self.applicant_type) {
                Some(t) => q.applicant_type = Some(t),
                None => e.add(
                    "applicant_type",
                    format!("must be one of {}", slugs(ApplicantType::ALL.iter().map(|a| a.slug()))),
                ),
            }
        }
        if !self.closing_before.is_empty() {
            match NaiveDate::parse_from_str(&self.closing_before, "%Y-%m-%d") {
                Ok(d) => q.closing_before = Some(d),
                Err(_) => e.add("closing_before", "must be a date written YYYY-MM-DD"),
            }
        }
        match SortOrder::parse(&self.sort) {
            Some(s) => q.sort = s,
            None => e.add("sort", "must be one of closing_soonest, newest, funding, title"),
        }
        if !self.page.is_empty() {
            match self.page.parse::<u64>() {
                Ok(n) if (1..=100_000).contains(&n) => q.page = n,
                _ => e.add("page", "must be a whole number from 1"),
            }
        }
        if !self.page_size.is_empty() {
            match self.page_size.parse::<u64>() {
                Ok(n) if (1..=granary_solicitations::search::MAX_PAGE_SIZE).contains(&n) => q.page_size = n,
                _ => e.add("page_size", "must be a whole number from 1 to 100"),
            }
        }
        e.into_result().map(|_| q)
    }

    /// The query string for another page of the same search.
    pub fn with_page(&self, page: u64) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        for (k, v) in [
            ("q", &self.q),
            ("area", &self.area),
            ("applicant_type", &self.applicant_type),
            ("closing_before", &self.closing_before),
            ("sort", &self.sort),
            ("page_size", &self.page_size),
        ] {
            if !v.is_empty() {
                pairs.push((k, v.clone()));
            }
        }
        for s in &self.status {
            pairs.push(("status", s.clone()));
        }
        pairs.push(("page", page.to_string()));
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }
}

fn slugs<'a>(it: impl Iterator<Item = &'a str>) -> String {
    it.collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_checks_parameters() {
        let p = SearchParams::from_query(Some("q=reentry&status=open,forecasted&area=rehabilitation&page=2")).unwrap();
        let q = p.to_query(20).unwrap();
        assert_eq!(q.text.as_deref(), Some("reentry"));
        assert_eq!(q.statuses, vec![Status::Open, Status::Forecasted]);
        assert_eq!(q.program_area, Some(ProgramArea::Rehabilitation));
        assert_eq!(q.page, 2);
    }

    #[test]
    fn mistakes_name_the_parameter() {
        let p = SearchParams::from_query(Some("closing_before=tomorrow&page=0&status=draft")).unwrap();
        let e = p.to_query(20).unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, vec!["status", "closing_before", "page"]);
        let e = SearchParams::from_query(Some("colour=blue")).unwrap_err();
        assert_eq!(e[0].field, "colour");
    }

    #[test]
    fn next_page_keeps_the_filters() {
        let p = SearchParams::from_query(Some("q=youth+mentoring&status=open")).unwrap();
        assert_eq!(p.with_page(3), "q=youth+mentoring&status=open&page=3");
    }
}
