//! The catalog of stored documents: for each file in the document store, its key, the name it
//! was uploaded with, its type, size and SHA-256, who uploaded it and when. Solicitation
//! attachments and application documents refer to these rows; the bytes live in the store.

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, ConnectionTrait};
use serde::Serialize;

use crate::id::DocumentId;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "documents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub storage_key: String,
    pub filename: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub uploaded_by: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// A document that has been written to the store, to be catalogued.
#[derive(Debug, Clone)]
pub struct NewDocument {
    pub id: DocumentId,
    pub storage_key: String,
    pub filename: String,
    pub content_type: String,
    pub size_bytes: u64,
    pub sha256: String,
    pub uploaded_by: String,
}

/// Records a stored document.
pub async fn insert<C: ConnectionTrait>(db: &C, d: NewDocument, at: DateTime<Utc>) -> Result<Model, DbErr> {
    let am = ActiveModel {
        id: Set(d.id.as_uuid()),
        storage_key: Set(d.storage_key),
        filename: Set(d.filename),
        content_type: Set(d.content_type),
        size_bytes: Set(i64::try_from(d.size_bytes).unwrap_or(i64::MAX)),
        sha256: Set(d.sha256),
        uploaded_by: Set(d.uploaded_by),
        created_at: Set(at.trunc_subsecs(6)),
    };
    am.insert(db).await
}

/// A catalogued document by id.
pub async fn get<C: ConnectionTrait>(db: &C, id: DocumentId) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id.as_uuid()).one(db).await
}

/// A file name safe to offer in a download: the last path segment, printable characters only,
/// at most 150 characters, never empty.
pub fn safe_filename(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '<' | '>' | ':' | '|' | '?' | '*'))
        .take(150)
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.').to_string();
    if trimmed.is_empty() {
        "document".to_string()
    } else {
        trimmed
    }
}

#[cfg(test)]
mod tests {
    use super::safe_filename;

    #[test]
    fn filenames_are_tamed() {
        assert_eq!(safe_filename("../../etc/passwd"), "passwd");
        assert_eq!(safe_filename("C:\\Users\\x\\budget.xlsx"), "budget.xlsx");
        assert_eq!(safe_filename("a\"b<c>.pdf"), "abc.pdf");
        assert_eq!(safe_filename("   "), "document");
        assert_eq!(safe_filename(".hidden"), "hidden");
    }
}
