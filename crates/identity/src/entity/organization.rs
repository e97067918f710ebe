//! The `organizations` table (created by the foundation migration), all of its columns.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organizations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: String,
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
    pub annual_budget_cents: Option<i64>,
    pub year_founded: Option<i32>,
    pub populations_served_json: String,
    pub lived_experience_led: bool,
    pub fiscal_sponsor_id: Option<Uuid>,
    pub website: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
