//! The `reviews` table: each assignment of a reviewer to an application, and the review it becomes.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reviews")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub solicitation_id: Uuid,
    pub application_id: Uuid,
    pub reviewer_id: Uuid,
    pub status: String,
    pub pinned: bool,
    pub version: i32,
    pub scores_json: String,
    pub overall_comment: String,
    pub assigned_by: String,
    pub assigned_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub submitted_at: Option<DateTimeUtc>,
    pub reopened_by: Option<String>,
    pub reopened_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
