//! Organizations: program offices, intermediaries and community organizations. Registration
//! checks every field at once and names each wrong one; the person registering becomes the
//! first owner in the same transaction.

use chrono::{DateTime, Datelike, Utc};
use granary_core::audit::{self, AuditEvent};
use granary_core::db::begin_write;
use granary_core::id::{OrganizationId, UserId};
use granary_core::policy::{OrgKind, Role};
use granary_core::{Actor, Money, ValidationErrors};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionSession, TransactionTrait,
};
use serde::{Deserialize, Serialize};

use crate::entity::organization;
use crate::error::{IdentityError, Result};
use crate::memberships::insert_membership;
use crate::users::get_user;
use crate::{CountyFips, Ein, StateCode, Uei, stamp};

/// An organization's postal address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Address {
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub state: Option<StateCode>,
    pub postal_code: Option<String>,
}

/// An organization as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Organization {
    pub id: OrganizationId,
    pub kind: OrgKind,
    pub name: String,
    pub legal_name: Option<String>,
    pub ein: Option<Ein>,
    pub uei: Option<Uei>,
    pub address: Address,
    pub county_fips: Option<CountyFips>,
    pub annual_budget: Option<Money>,
    pub year_founded: Option<i32>,
    pub populations_served: Vec<String>,
    pub lived_experience_led: bool,
    pub fiscal_sponsor: Option<OrganizationId>,
    pub website: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The editable profile of an organization, as typed into a form: text fields are checked
/// and normalised when it is saved, and every wrong field is named (`name`, `legal_name`,
/// `ein`, `uei`, `address_line1`, `address_line2`, `city`, `state`, `postal_code`,
/// `county_fips`, `annual_budget`, `year_founded`, `populations_served`, `fiscal_sponsor`,
/// `website`). Empty text counts as not given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrganizationProfile {
    pub name: String,
    pub legal_name: Option<String>,
    pub ein: Option<String>,
    pub uei: Option<String>,
    pub address_line1: Option<String>,
    pub address_line2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub county_fips: Option<String>,
    pub annual_budget: Option<Money>,
    pub year_founded: Option<i32>,
    pub populations_served: Vec<String>,
    pub lived_experience_led: bool,
    pub fiscal_sponsor: Option<OrganizationId>,
    pub website: Option<String>,
}

/// A new organization: its kind and profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewOrganization {
    pub kind: OrgKind,
    #[serde(flatten)]
    pub profile: OrganizationProfile,
}

/// A page of organizations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub page: u64,
    pub page_size: u64,
    pub total_items: u64,
    pub total_pages: u64,
}

/// Which organizations to list: of one kind or all, by name, one page at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrganizationQuery {
    pub kind: Option<OrgKind>,
    /// From 1.
    pub page: u64,
    /// 1 to `MAX_PAGE_SIZE`.
    pub page_size: u64,
}

impl Default for OrganizationQuery {
    fn default() -> Self {
        OrganizationQuery {
            kind: None,
            page: 1,
            page_size: 25,
        }
    }
}

/// The largest page `list_organizations` returns.
pub const MAX_PAGE_SIZE: u64 = 100;

/// The profile after checking: every field typed and normalised.
struct Checked {
    name: String,
    legal_name: Option<String>,
    ein: Option<Ein>,
    uei: Option<Uei>,
    address: Address,
    county_fips: Option<CountyFips>,
    annual_budget: Option<Money>,
    year_founded: Option<i32>,
    populations_served: Vec<String>,
    lived_experience_led: bool,
    fiscal_sponsor: Option<OrganizationId>,
    website: Option<String>,
}

/// Trimmed text, or `None` when blank.
fn given(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn text(errors: &mut ValidationErrors, field: &str, value: &Option<String>, max: usize) -> Option<String> {
    let v = given(value)?;
    if v.chars().count() > max {
        errors.add(field, format!("use at most {max} characters"));
        return None;
    }
    if v.chars().any(char::is_control) {
        errors.add(field, "use a single line of text");
        return None;
    }
    Some(v.to_string())
}

fn parsed<T>(
    errors: &mut ValidationErrors,
    field: &str,
    value: &Option<String>,
    parse: impl Fn(&str) -> std::result::Result<T, crate::InvalidValue>,
) -> Option<T> {
    let v = given(value)?;
    parse(v).map_err(|e| errors.add(field, e.0)).ok()
}

/// A US ZIP code: `NNNNN` or `NNNNN-NNNN` (nine digits are given the dash).
fn postal_code(s: &str) -> std::result::Result<String, crate::InvalidValue> {
    let digits: String = s.chars().filter(|c| *c != '-' && *c != ' ').collect();
    let dashes_ok = s.chars().filter(|c| *c == '-').count() <= 1;
    if dashes_ok && digits.bytes().all(|b| b.is_ascii_digit()) {
        match digits.len() {
            5 => return Ok(digits),
            9 => return Ok(format!("{}-{}", &digits[..5], &digits[5..])),
            _ => {}
        }
    }
    Err(crate::InvalidValue(
        "a ZIP code is five digits, or five and four, like 20001 or 20001-1234".into(),
    ))
}

/// A web address; `example.org` is taken as `https://example.org`.
fn website(s: &str) -> std::result::Result<String, crate::InvalidValue> {
    let bad = || crate::InvalidValue("enter a web address like https://example.org".into());
    let url = if s.starts_with("http://") || s.starts_with("https://") {
        s.to_string()
    } else if s.contains("://") {
        return Err(bad());
    } else {
        format!("https://{s}")
    };
    if url.chars().count() > 500 {
        return Err(crate::InvalidValue("use at most 500 characters".into()));
    }
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or_default();
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host = host.split(':').next().unwrap_or_default();
    if url.chars().any(|c| c.is_whitespace() || c.is_control())
        || !host.contains('.')
        || host.starts_with('.')
        || host.ends_with('.')
    {
        return Err(bad());
    }
    Ok(url)
}

/// Checks a profile, gathering every problem.
fn check(p: &OrganizationProfile, now: DateTime<Utc>) -> std::result::Result<Checked, ValidationErrors> {
    let mut e = ValidationErrors::new();
    let name = p.name.trim();
    if name.is_empty() {
        e.add("name", "enter the organization's name");
    } else if name.chars().count() > 300 {
        e.add("name", "use at most 300 characters");
    } else if name.chars().any(char::is_control) {
        e.add("name", "use a single line of text");
    }
    let legal_name = text(&mut e, "legal_name", &p.legal_name, 300);
    let ein = parsed(&mut e, "ein", &p.ein, Ein::parse);
    let uei = parsed(&mut e, "uei", &p.uei, Uei::parse);
    let address = Address {
        line1: text(&mut e, "address_line1", &p.address_line1, 300),
        line2: text(&mut e, "address_line2", &p.address_line2, 300),
        city: text(&mut e, "city", &p.city, 120),
        state: parsed(&mut e, "state", &p.state, StateCode::parse),
        postal_code: parsed(&mut e, "postal_code", &p.postal_code, postal_code),
    };
    let county_fips = parsed(&mut e, "county_fips", &p.county_fips, CountyFips::parse);
    if p.annual_budget.is_some_and(|b| b.is_negative()) {
        e.add("annual_budget", "a budget cannot be negative");
    }
    let this_year = now.year();
    if let Some(y) = p.year_founded
        && !(1800..=this_year).contains(&y)
    {
        e.add("year_founded", format!("enter a year between 1800 and {this_year}"));
    }
    let mut populations: Vec<String> = Vec::new();
    for item in &p.populations_served {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        if item.chars().count() > 100 || item.chars().any(char::is_control) {
            e.add(
                "populations_served",
                "describe each population in one line of at most 100 characters",
            );
            break;
        }
        if !populations.iter().any(|p| p.eq_ignore_ascii_case(item)) {
            populations.push(item.to_string());
        }
    }
    if populations.len() > 20 {
        e.add("populations_served", "list at most 20 populations");
    }
    let website = parsed(&mut e, "website", &p.website, website);
    e.into_result()?;
    Ok(Checked {
        name: name.to_string(),
        legal_name,
        ein,
        uei,
        address,
        county_fips,
        annual_budget: p.annual_budget,
        year_founded: p.year_founded,
        populations_served: populations,
        lived_experience_led: p.lived_experience_led,
        fiscal_sponsor: p.fiscal_sponsor,
        website,
    })
}

/// Checks the profile and the fiscal sponsor together, so every problem is reported at once.
async fn check_all<C: ConnectionTrait>(
    db: &C,
    p: &OrganizationProfile,
    this: Option<OrganizationId>,
    now: DateTime<Utc>,
) -> Result<Checked> {
    let mut sponsor_error = None;
    if let Some(sponsor) = p.fiscal_sponsor {
        if Some(sponsor) == this {
            sponsor_error = Some("an organization cannot be its own fiscal sponsor");
        } else {
            match organization::Entity::find_by_id(sponsor.as_uuid()).one(db).await? {
                None => sponsor_error = Some("no such organization"),
                Some(s) if this.is_some_and(|t| s.fiscal_sponsor_id == Some(t.as_uuid())) => {
                    sponsor_error = Some("that organization is fiscally sponsored by this one")
                }
                Some(_) => {}
            }
        }
    }
    match (check(p, now), sponsor_error) {
        (Ok(c), None) => Ok(c),
        (Ok(_), Some(m)) => Err(IdentityError::field("fiscal_sponsor", m)),
        (Err(mut e), Some(m)) => {
            e.add("fiscal_sponsor", m);
            Err(IdentityError::Invalid(e))
        }
        (Err(e), None) => Err(IdentityError::Invalid(e)),
    }
}

fn fill(am: &mut organization::ActiveModel, c: Checked) {
    am.name = Set(c.name);
    am.legal_name = Set(c.legal_name);
    am.ein = Set(c.ein.map(|v| v.to_string()));
    am.uei = Set(c.uei.map(|v| v.to_string()));
    am.address_line1 = Set(c.address.line1);
    am.address_line2 = Set(c.address.line2);
    am.city = Set(c.address.city);
    am.state = Set(c.address.state.map(|v| v.to_string()));
    am.postal_code = Set(c.address.postal_code);
    am.county_fips = Set(c.county_fips.map(|v| v.to_string()));
    am.annual_budget_cents = Set(c.annual_budget.map(|m| m.cents()));
    am.year_founded = Set(c.year_founded);
    am.populations_served_json = Set(serde_json::to_string(&c.populations_served).unwrap_or_else(|_| "[]".into()));
    am.lived_experience_led = Set(c.lived_experience_led);
    am.fiscal_sponsor_id = Set(c.fiscal_sponsor.map(|o| o.as_uuid()));
    am.website = Set(c.website);
}

pub(crate) fn to_organization(m: organization::Model) -> Result<Organization> {
    let corrupt =
        |field: &str, e: &dyn std::fmt::Display| IdentityError::Corrupt(format!("organization {} {field}: {e}", m.id));
    let kind = OrgKind::parse(&m.kind).ok_or_else(|| corrupt("kind", &m.kind))?;
    let ein = m
        .ein
        .as_deref()
        .map(Ein::parse)
        .transpose()
        .map_err(|e| corrupt("ein", &e))?;
    let uei = m
        .uei
        .as_deref()
        .map(Uei::parse)
        .transpose()
        .map_err(|e| corrupt("uei", &e))?;
    let state = m
        .state
        .as_deref()
        .map(StateCode::parse)
        .transpose()
        .map_err(|e| corrupt("state", &e))?;
    let county_fips = m
        .county_fips
        .as_deref()
        .map(CountyFips::parse)
        .transpose()
        .map_err(|e| corrupt("county_fips", &e))?;
    let annual_budget = m
        .annual_budget_cents
        .map(Money::from_cents)
        .transpose()
        .map_err(|e| corrupt("annual_budget", &e))?;
    let populations_served: Vec<String> =
        serde_json::from_str(&m.populations_served_json).map_err(|e| corrupt("populations_served", &e))?;
    Ok(Organization {
        id: OrganizationId(m.id),
        kind,
        name: m.name,
        legal_name: m.legal_name,
        ein,
        uei,
        address: Address {
            line1: m.address_line1,
            line2: m.address_line2,
            city: m.city,
            state,
            postal_code: m.postal_code,
        },
        county_fips,
        annual_budget,
        year_founded: m.year_founded,
        populations_served,
        lived_experience_led: m.lived_experience_led,
        fiscal_sponsor: m.fiscal_sponsor_id.map(OrganizationId),
        website: m.website,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

fn on_write_error(name: &str) -> impl Fn(sea_orm::DbErr) -> IdentityError + '_ {
    move |e| {
        if matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) {
            IdentityError::DuplicateOrganization(name.to_string())
        } else {
            IdentityError::Database(e)
        }
    }
}

async fn name_taken<C: ConnectionTrait>(
    db: &C,
    kind: OrgKind,
    name: &str,
    except: Option<OrganizationId>,
) -> Result<bool> {
    let mut q = organization::Entity::find()
        .filter(organization::Column::Kind.eq(kind.as_str()))
        .filter(organization::Column::Name.eq(name));
    if let Some(id) = except {
        q = q.filter(organization::Column::Id.ne(id.as_uuid()));
    }
    Ok(q.one(db).await?.is_some())
}

/// Registers an organization. When `owner` is given, that user becomes its first owner in the
/// same transaction.
pub async fn create_organization<C>(
    db: &C,
    actor: &Actor,
    new: NewOrganization,
    owner: Option<UserId>,
    now: DateTime<Utc>,
) -> Result<Organization>
where
    C: ConnectionTrait + TransactionTrait,
{
    let now = stamp(now);
    let txn = begin_write(db).await?;
    let checked = check_all(&txn, &new.profile, None, now).await?;
    if name_taken(&txn, new.kind, &checked.name, None).await? {
        return Err(IdentityError::DuplicateOrganization(checked.name));
    }
    let name = checked.name.clone();
    let id = OrganizationId::new();
    let mut am = organization::ActiveModel {
        id: Set(id.as_uuid()),
        kind: Set(new.kind.as_str().to_string()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    fill(&mut am, checked);
    let row = am.insert(&txn).await.map_err(on_write_error(&name))?;
    let created = to_organization(row)?;
    audit::record(
        &txn,
        actor,
        AuditEvent::new("organization.created", "organization", id).after(&created),
        now,
    )
    .await?;
    if let Some(owner) = owner {
        let user = get_user(&txn, owner).await?;
        insert_membership(&txn, actor, &created, &user, Role::Owner, now).await?;
    }
    txn.commit().await?;
    Ok(created)
}

/// Replaces an organization's profile (its kind stays).
pub async fn update_organization<C>(
    db: &C,
    actor: &Actor,
    id: OrganizationId,
    profile: OrganizationProfile,
    now: DateTime<Utc>,
) -> Result<Organization>
where
    C: ConnectionTrait + TransactionTrait,
{
    let now = stamp(now);
    let txn = begin_write(db).await?;
    let row = organization::Entity::find_by_id(id.as_uuid())
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or_else(|| IdentityError::not_found("organization", id))?;
    let before = to_organization(row.clone())?;
    let checked = check_all(&txn, &profile, Some(id), now).await?;
    if name_taken(&txn, before.kind, &checked.name, Some(id)).await? {
        return Err(IdentityError::DuplicateOrganization(checked.name));
    }
    let name = checked.name.clone();
    let mut am = row.into_active_model();
    fill(&mut am, checked);
    am.updated_at = Set(now);
    let after = to_organization(am.update(&txn).await.map_err(on_write_error(&name))?)?;
    audit::record(
        &txn,
        actor,
        AuditEvent::new("organization.updated", "organization", id)
            .before(&before)
            .after(&after),
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// An organization by id.
pub async fn get_organization<C: ConnectionTrait>(db: &C, id: OrganizationId) -> Result<Organization> {
    organization::Entity::find_by_id(id.as_uuid())
        .one(db)
        .await?
        .ok_or_else(|| IdentityError::not_found("organization", id))
        .and_then(to_organization)
}

/// Organizations by name, optionally of one kind, one page at a time.
pub async fn list_organizations<C: ConnectionTrait>(db: &C, q: OrganizationQuery) -> Result<Page<Organization>> {
    let page = q.page.max(1);
    let page_size = q.page_size.clamp(1, MAX_PAGE_SIZE);
    let mut sel = organization::Entity::find();
    if let Some(kind) = q.kind {
        sel = sel.filter(organization::Column::Kind.eq(kind.as_str()));
    }
    let paginator = sel
        .order_by_asc(organization::Column::Name)
        .order_by_asc(organization::Column::Id)
        .paginate(db, page_size);
    let counts = paginator.num_items_and_pages().await?;
    let rows = paginator.fetch_page(page - 1).await?;
    Ok(Page {
        items: rows.into_iter().map(to_organization).collect::<Result<_>>()?,
        page,
        page_size,
        total_items: counts.number_of_items,
        total_pages: counts.number_of_pages,
    })
}

#[cfg(test)]
mod tests {
    use super::{postal_code, website};

    #[test]
    fn zip_codes() {
        assert_eq!(postal_code("20001").unwrap(), "20001");
        assert_eq!(postal_code("20001-1234").unwrap(), "20001-1234");
        assert_eq!(postal_code("200011234").unwrap(), "20001-1234");
        for bad in ["2000", "2000a", "20001-123", "20-001-1234", "200011234567"] {
            assert!(postal_code(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn web_addresses() {
        assert_eq!(website("example.org").unwrap(), "https://example.org");
        assert_eq!(
            website("http://example.org/about?x=1").unwrap(),
            "http://example.org/about?x=1"
        );
        for bad in [
            "not a site",
            "localhost",
            "ftp://example.org",
            "https://.example.org",
            "https://example.org/a b",
        ] {
            assert!(website(bad).is_err(), "{bad}");
        }
    }
}
