//! The `scoring_decisions` table: recorded decisions with their configuration, inputs, hashes, seed and result.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "scoring_decisions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub solicitation_id: Uuid,
    pub status: String,
    pub config_json: String,
    pub inputs_json: String,
    pub inputs_hash: String,
    pub seed: String,
    pub result_json: String,
    pub result_hash: String,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub approved_by: Option<String>,
    pub approved_at: Option<DateTimeUtc>,
    pub released_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
