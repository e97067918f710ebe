//! The columns of `organizations` scoring reads: the applicant's fiscal sponsor, county, state and budget (for detected conflicts and derived priorities).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organizations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub state: Option<String>,
    pub county_fips: Option<String>,
    pub annual_budget_cents: Option<i64>,
    pub fiscal_sponsor_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
