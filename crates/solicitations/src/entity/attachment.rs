//! The `solicitation_attachments` table: files attached to a solicitation. Removing one keeps
//! the row (with `removed_at`) so earlier versions can still name it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "solicitation_attachments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub solicitation_id: Uuid,
    pub document_id: Uuid,
    pub title: String,
    pub created_at: DateTimeUtc,
    pub removed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "granary_core::document_record::Entity",
        from = "Column::DocumentId",
        to = "granary_core::document_record::Column::Id"
    )]
    Document,
}

impl Related<granary_core::document_record::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Document.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
