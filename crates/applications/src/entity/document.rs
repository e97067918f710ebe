//! The `application_documents` table: which stored document fills which slot of an
//! application. A replaced or removed document keeps its row, with `replaced_at`, because an
//! earlier submission may name it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "application_documents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub application_id: Uuid,
    pub slot: String,
    pub document_id: Uuid,
    pub title: String,
    pub added_by: String,
    pub created_at: DateTimeUtc,
    pub replaced_at: Option<DateTimeUtc>,
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
