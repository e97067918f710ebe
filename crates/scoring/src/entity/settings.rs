//! The `scoring_settings` table: one row of review settings (JSON) per solicitation, versioned.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "scoring_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub solicitation_id: Uuid,
    pub settings_json: String,
    pub version: i32,
    pub updated_at: DateTimeUtc,
    pub updated_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
