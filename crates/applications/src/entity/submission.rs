//! The `application_submissions` table: every submission ever made, with the exact snapshot
//! JSON that was received and its SHA-256. Rows are never changed except to record a
//! withdrawal.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "application_submissions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub application_id: Uuid,
    pub solicitation_id: Uuid,
    pub organization_id: Uuid,
    pub tracking_number: String,
    pub submitted_at: DateTimeUtc,
    pub submitted_by: String,
    pub snapshot_json: String,
    pub digest: String,
    pub extension_id: Option<Uuid>,
    pub withdrawn_at: Option<DateTimeUtc>,
    pub withdrawn_by: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
