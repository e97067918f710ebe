//! The append-only audit log. Every state change in Granary appends one entry: who acted,
//! what they did, to which subject, when, and a summary of the subject before and after.
//! Each entry carries the SHA-256 of its own content and of the entry before it, so editing,
//! removing or reordering any entry breaks the chain and `verify` says where.

mod entity;

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement, TransactionSession, TransactionTrait,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

pub use entity::Model as AuditEntry;
pub use entity::{Column as AuditColumn, Entity as AuditLog};

use crate::Actor;
use crate::db::begin_write;

/// The previous-hash of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened, to be appended to the log.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub action: String,
    pub subject_type: String,
    pub subject_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

impl AuditEvent {
    /// An event about one subject, such as `("solicitation.opened", "solicitation", id)`.
    pub fn new(action: &str, subject_type: &str, subject_id: impl ToString) -> Self {
        Self {
            action: action.to_string(),
            subject_type: subject_type.to_string(),
            subject_id: subject_id.to_string(),
            before: None,
            after: None,
        }
    }

    pub fn before(mut self, summary: &impl Serialize) -> Self {
        self.before = serde_json::to_value(summary).ok();
        self
    }

    pub fn after(mut self, summary: &impl Serialize) -> Self {
        self.after = serde_json::to_value(summary).ok();
        self
    }
}

/// Appends an event to the log inside the caller's transaction (or its own, when given a
/// plain connection). Appends are serialized: on PostgreSQL by a transaction-scoped advisory
/// lock, on SQLite by the write lock that the IMMEDIATE transaction holds, so the chain
/// never forks.
pub async fn record<C>(db: &C, actor: &Actor, event: AuditEvent, at: DateTime<Utc>) -> Result<AuditEntry, DbErr>
where
    C: ConnectionTrait + TransactionTrait,
{
    let txn = begin_write(db).await?;
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock(727014201)",
        ))
        .await?;
    }
    let last = AuditLog::find()
        .order_by_desc(AuditColumn::Seq)
        .limit(1)
        .one(&txn)
        .await?;
    let (seq, prev_hash) = match last {
        Some(e) => (e.seq + 1, e.hash),
        None => (1, GENESIS_HASH.to_string()),
    };
    let mut entry = AuditEntry {
        seq,
        occurred_at: at.trunc_subsecs(6),
        actor: actor.audit_label(),
        actor_name: actor.display_name(),
        action: event.action,
        subject_type: event.subject_type,
        subject_id: event.subject_id,
        before_json: event.before.map(|v| v.to_string()),
        after_json: event.after.map(|v| v.to_string()),
        prev_hash,
        hash: String::new(),
    };
    entry.hash = entry_hash(&entry);
    let am = entity::ActiveModel {
        seq: Set(entry.seq),
        occurred_at: Set(entry.occurred_at),
        actor: Set(entry.actor.clone()),
        actor_name: Set(entry.actor_name.clone()),
        action: Set(entry.action.clone()),
        subject_type: Set(entry.subject_type.clone()),
        subject_id: Set(entry.subject_id.clone()),
        before_json: Set(entry.before_json.clone()),
        after_json: Set(entry.after_json.clone()),
        prev_hash: Set(entry.prev_hash.clone()),
        hash: Set(entry.hash.clone()),
    };
    AuditLog::insert(am).exec_without_returning(&txn).await?;
    txn.commit().await?;
    Ok(entry)
}

/// The SHA-256 of an entry's content and its predecessor's hash, in lowercase hex.
pub fn entry_hash(e: &AuditEntry) -> String {
    let mut h = Sha256::new();
    let at = e.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    for part in [
        e.seq.to_string().as_str(),
        at.as_str(),
        e.actor.as_str(),
        e.actor_name.as_str(),
        e.action.as_str(),
        e.subject_type.as_str(),
        e.subject_id.as_str(),
        e.before_json.as_deref().unwrap_or("\u{0}"),
        e.after_json.as_deref().unwrap_or("\u{0}"),
        e.prev_hash.as_str(),
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Where the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    #[error("audit entry {seq} was altered: its content no longer matches its hash")]
    Altered { seq: i64 },
    #[error("audit entry {seq} does not follow entry {expected_prev}: an entry was removed or reordered")]
    Broken { seq: i64, expected_prev: i64 },
    #[error("the audit log could not be read: {0}")]
    Unreadable(String),
}

/// Checks the whole chain, reading it in pages. Returns the number of entries checked.
pub async fn verify<C: ConnectionTrait>(db: &C) -> Result<u64, ChainError> {
    const PAGE: u64 = 1000;
    let mut prev_hash = GENESIS_HASH.to_string();
    let mut prev_seq = 0i64;
    let mut count = 0u64;
    loop {
        let page = AuditLog::find()
            .filter(AuditColumn::Seq.gt(prev_seq))
            .order_by_asc(AuditColumn::Seq)
            .limit(PAGE)
            .all(db)
            .await
            .map_err(|e| ChainError::Unreadable(e.to_string()))?;
        let n = page.len() as u64;
        for e in page {
            if e.seq != prev_seq + 1 || e.prev_hash != prev_hash {
                return Err(ChainError::Broken {
                    seq: e.seq,
                    expected_prev: prev_seq,
                });
            }
            if entry_hash(&e) != e.hash {
                return Err(ChainError::Altered { seq: e.seq });
            }
            prev_seq = e.seq;
            prev_hash = e.hash;
            count += 1;
        }
        if n < PAGE {
            return Ok(count);
        }
    }
}

/// A filter over the log, for the audit views.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub subject_type: Option<String>,
    pub subject_id: Option<String>,
    pub actor: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// When not empty, only entries about one of these subjects (of any type).
    pub subject_ids: Vec<String>,
    pub limit: u64,
    /// How many of the newest matching entries to skip, for paging.
    pub offset: u64,
}

/// Entries matching a filter, newest first.
pub async fn find<C: ConnectionTrait>(db: &C, q: &AuditQuery) -> Result<Vec<AuditEntry>, DbErr> {
    let mut sel = AuditLog::find();
    if let Some(t) = &q.subject_type {
        sel = sel.filter(AuditColumn::SubjectType.eq(t.as_str()));
    }
    if let Some(id) = &q.subject_id {
        sel = sel.filter(AuditColumn::SubjectId.eq(id.as_str()));
    }
    if !q.subject_ids.is_empty() {
        sel = sel.filter(AuditColumn::SubjectId.is_in(q.subject_ids.iter().map(String::as_str)));
    }
    if let Some(a) = &q.actor {
        sel = sel.filter(AuditColumn::Actor.eq(a.as_str()));
    }
    if let Some(s) = q.since {
        sel = sel.filter(AuditColumn::OccurredAt.gte(s));
    }
    if let Some(u) = q.until {
        sel = sel.filter(AuditColumn::OccurredAt.lt(u));
    }
    let limit = if q.limit == 0 { 100 } else { q.limit.min(1000) };
    sel.order_by_desc(AuditColumn::Seq)
        .offset(q.offset)
        .limit(limit)
        .all(db)
        .await
}

/// The number of entries in the log.
pub async fn count<C: ConnectionTrait>(db: &C) -> Result<i64, DbErr> {
    let max: Option<Option<i64>> = AuditLog::find()
        .select_only()
        .column_as(AuditColumn::Seq.max(), "m")
        .into_tuple()
        .one(db)
        .await?;
    Ok(max.flatten().unwrap_or(0))
}
