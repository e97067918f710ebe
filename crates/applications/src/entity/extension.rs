//! The `application_extensions` table: a later deadline granted to one organization for one
//! solicitation, with the reason on record.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "application_extensions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub solicitation_id: Uuid,
    pub organization_id: Uuid,
    pub until: DateTimeUtc,
    pub reason: String,
    pub granted_by: String,
    pub granted_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
