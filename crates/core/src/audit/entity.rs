//! The `audit_log` table.

use sea_orm::entity::prelude::*;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    /// The order of appending, numbered by the database (on PostgreSQL a rolled-back append
    /// leaves a gap; on SQLite numbers are never reused).
    #[sea_orm(primary_key)]
    pub seq: i64,
    pub occurred_at: DateTimeUtc,
    /// Stable actor label (`user:<id>`, `cli:seed`, `system`).
    pub actor: String,
    /// The actor's name at the time, for people reading the log.
    pub actor_name: String,
    pub action: String,
    pub subject_type: String,
    pub subject_id: String,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    /// Position in the hash chain, from 1 without gaps; `None` until the chainer seals the
    /// entry (with `prev_hash` and `hash`, all three at once).
    pub chain_position: Option<i64>,
    pub prev_hash: Option<String>,
    pub hash: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
