//! The `reviewer_pool` table: the reviewers of each solicitation, with their kind and expertise.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reviewer_pool")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub solicitation_id: Uuid,
    pub user_id: Uuid,
    pub kind: String,
    pub expertise_json: String,
    pub min_load: Option<i32>,
    pub max_load: Option<i32>,
    pub added_by: String,
    pub added_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
