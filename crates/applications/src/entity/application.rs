//! The `applications` table: one row per organization and solicitation. The draft's content
//! is JSON; the title and requested total are copied out for lists and exports.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "applications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub solicitation_id: Uuid,
    pub organization_id: Uuid,
    pub status: String,
    pub version: i32,
    pub project_title: String,
    pub total_request_cents: Option<i64>,
    pub content_json: String,
    pub current_submission_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub updated_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
