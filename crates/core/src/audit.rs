//! The append-only audit log. Every state change in Granary appends one entry: who acted,
//! what they did, to which subject, when, and a summary of the subject before and after.
//!
//! Entries are sealed into a hash chain: each chained entry carries its position in the chain,
//! the hash of the entry before it and the SHA-256 of its own content with that hash, so
//! editing, removing or reordering any chained entry breaks the chain and `verify` says where.
//!
//! Appending and chaining are separate steps, so that writers never wait for one another:
//!
//! - `record` appends an entry inside the caller's transaction with one `INSERT`. The
//!   database numbers it (`seq`, an identity column on PostgreSQL, `AUTOINCREMENT` on
//!   SQLite); nothing is read and no lock beyond the caller's own is taken.
//! - `chain_pending` seals the entries not yet chained. One chainer runs at a time (a
//!   transaction-scoped advisory lock on PostgreSQL, the write lock on SQLite). It continues
//!   from the last chained entry and gives each pending entry, in `seq` order, the next
//!   position. The gateway runs it in the background every few hundred milliseconds, and
//!   `verify` runs it first, so the audit page always shows a chain that covers everything
//!   committed when it was asked.
//!
//! Why a chain position rather than chaining in `seq` order: `seq` is handed out when a
//! transaction inserts, not when it commits. On PostgreSQL a transaction holding seq 10 can
//! commit after one holding seq 11 (and a rolled-back one leaves a gap for good), so no
//! chainer can tell whether a missing seq is still coming. Chaining in `seq` order would have
//! to wait for it (how long?) or skip it (and never seal it). Instead the chainer seals what
//! has committed, in `seq` order, and a late entry simply takes the next position when it
//! appears: nothing committed is ever left out, and no timing assumption is needed. (SQLite
//! serializes writers, so there positions always follow `seq`.) The chain covers an entry
//! from the moment it is chained; an entry is pending only between its commit and the next
//! chainer pass.

mod entity;

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{
    ActiveValue::NotSet, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement, TransactionSession, TransactionTrait, Value,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

pub use entity::Model as AuditEntry;
pub use entity::{Column as AuditColumn, Entity as AuditLog};

use crate::Actor;
use crate::db::begin_write;

/// The previous-hash of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The PostgreSQL advisory lock that lets one chainer run at a time.
const CHAINER_LOCK: i64 = 727_014_201;

/// How many pending entries one chainer transaction seals (four bound values each).
const CHAIN_BATCH: u64 = 500;

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

/// Appends an event to the log inside the caller's transaction (or on its own, when given a
/// plain connection): one `INSERT`, so it commits or rolls back with the change it describes.
/// The entry is pending until `chain_pending` seals it into the hash chain.
pub async fn record<C>(db: &C, actor: &Actor, event: AuditEvent, at: DateTime<Utc>) -> Result<AuditEntry, DbErr>
where
    C: ConnectionTrait,
{
    let mut entry = AuditEntry {
        seq: 0,
        occurred_at: at.trunc_subsecs(6),
        actor: actor.audit_label(),
        actor_name: actor.display_name(),
        action: event.action,
        subject_type: event.subject_type,
        subject_id: event.subject_id,
        before_json: event.before.map(|v| v.to_string()),
        after_json: event.after.map(|v| v.to_string()),
        chain_position: None,
        prev_hash: None,
        hash: None,
    };
    let am = entity::ActiveModel {
        seq: NotSet,
        occurred_at: Set(entry.occurred_at),
        actor: Set(entry.actor.clone()),
        actor_name: Set(entry.actor_name.clone()),
        action: Set(entry.action.clone()),
        subject_type: Set(entry.subject_type.clone()),
        subject_id: Set(entry.subject_id.clone()),
        before_json: Set(entry.before_json.clone()),
        after_json: Set(entry.after_json.clone()),
        chain_position: Set(None),
        prev_hash: Set(None),
        hash: Set(None),
    };
    entry.seq = AuditLog::insert(am).exec(db).await?.last_insert_id;
    Ok(entry)
}

/// The SHA-256 of an entry's content and its predecessor's hash, in lowercase hex. (The same
/// function sealed entries before chaining moved off the request path, so older logs verify.)
pub fn entry_hash(e: &AuditEntry, prev_hash: &str) -> String {
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
        prev_hash,
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Seals every committed entry that is not chained yet, continuing the chain from its last
/// entry, and returns how many it sealed. Safe to call from several places and processes at
/// once: chainers take turns, and each seals only what the one before left.
pub async fn chain_pending<C>(db: &C) -> Result<u64, DbErr>
where
    C: ConnectionTrait + TransactionTrait,
{
    let mut sealed = 0;
    loop {
        // A cheap look first, without any lock: most calls find nothing to do.
        let pending: Option<i64> = AuditLog::find()
            .select_only()
            .column(AuditColumn::Seq)
            .filter(AuditColumn::ChainPosition.is_null())
            .limit(1)
            .into_tuple()
            .one(db)
            .await?;
        if pending.is_none() {
            return Ok(sealed);
        }
        let n = chain_batch(db).await?;
        sealed += n;
        if n < CHAIN_BATCH {
            return Ok(sealed);
        }
    }
}

/// One chainer transaction: takes the chainer's turn, reads the chain's last entry and up to
/// `CHAIN_BATCH` pending entries in `seq` order, and seals them with one `UPDATE`.
async fn chain_batch<C>(db: &C) -> Result<u64, DbErr>
where
    C: ConnectionTrait + TransactionTrait,
{
    let txn = begin_write(db).await?;
    let backend = txn.get_database_backend();
    if backend == DbBackend::Postgres {
        // Read committed: every statement after this one sees what earlier chainers committed.
        txn.execute_raw(Statement::from_sql_and_values(
            backend,
            "SELECT pg_advisory_xact_lock($1)",
            [Value::from(CHAINER_LOCK)],
        ))
        .await?;
    }
    let last: Option<(i64, Option<String>)> = AuditLog::find()
        .select_only()
        .column(AuditColumn::ChainPosition)
        .column(AuditColumn::Hash)
        .filter(AuditColumn::ChainPosition.is_not_null())
        .order_by_desc(AuditColumn::ChainPosition)
        .limit(1)
        .into_tuple()
        .one(&txn)
        .await?;
    let (mut position, mut prev_hash) = match last {
        Some((p, Some(h))) => (p, h),
        Some((p, None)) => {
            return Err(DbErr::Custom(format!(
                "audit chain position {p} has no hash; run `granary audit verify`"
            )));
        }
        None => (0, GENESIS_HASH.to_string()),
    };
    let pending = AuditLog::find()
        .filter(AuditColumn::ChainPosition.is_null())
        .order_by_asc(AuditColumn::Seq)
        .limit(CHAIN_BATCH)
        .all(&txn)
        .await?;
    if pending.is_empty() {
        txn.commit().await?;
        return Ok(0);
    }
    let mut values = Vec::with_capacity(pending.len() * 4);
    for e in &pending {
        position += 1;
        let hash = entry_hash(e, &prev_hash);
        values.push(Value::from(e.seq));
        values.push(Value::from(position));
        values.push(Value::from(std::mem::replace(&mut prev_hash, hash.clone())));
        values.push(Value::from(hash));
    }
    let rows = (0..pending.len())
        .map(|i| match backend {
            DbBackend::Postgres => format!(
                "(${}::bigint, ${}::bigint, ${}, ${})",
                4 * i + 1,
                4 * i + 2,
                4 * i + 3,
                4 * i + 4
            ),
            _ => "(?, ?, ?, ?)".to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "WITH sealed (seq, chain_position, prev_hash, hash) AS (VALUES {rows}) \
         UPDATE audit_log SET chain_position = sealed.chain_position, prev_hash = sealed.prev_hash, hash = sealed.hash \
         FROM sealed WHERE audit_log.seq = sealed.seq AND audit_log.chain_position IS NULL"
    );
    let done = txn
        .execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?
        .rows_affected();
    if done != pending.len() as u64 {
        // Another chainer got there first: seal nothing rather than fork the chain.
        txn.rollback().await?;
        return Err(DbErr::Custom(format!(
            "the audit chainer sealed {done} of {} entries; another chainer ran at the same time",
            pending.len()
        )));
    }
    txn.commit().await?;
    Ok(done)
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

/// Seals the pending entries (`chain_pending`), then checks the whole chain, reading it in
/// pages. Returns the number of chained entries checked: every entry committed before the
/// call.
pub async fn verify<C>(db: &C) -> Result<u64, ChainError>
where
    C: ConnectionTrait + TransactionTrait,
{
    chain_pending(db)
        .await
        .map_err(|e| ChainError::Unreadable(e.to_string()))?;
    verify_chained(db).await
}

/// Checks the chained entries only, in chain order, without sealing anything. Returns how
/// many it checked.
pub async fn verify_chained<C: ConnectionTrait>(db: &C) -> Result<u64, ChainError> {
    const PAGE: u64 = 1000;
    let mut prev_hash = GENESIS_HASH.to_string();
    let mut prev_position = 0i64;
    let mut prev_seq = 0i64;
    let mut count = 0u64;
    loop {
        let page = AuditLog::find()
            .filter(AuditColumn::ChainPosition.gt(prev_position))
            .order_by_asc(AuditColumn::ChainPosition)
            .limit(PAGE)
            .all(db)
            .await
            .map_err(|e| ChainError::Unreadable(e.to_string()))?;
        let n = page.len() as u64;
        for e in page {
            let position = e.chain_position.unwrap_or_default();
            if position != prev_position + 1 || e.prev_hash.as_deref() != Some(prev_hash.as_str()) {
                return Err(ChainError::Broken {
                    seq: e.seq,
                    expected_prev: prev_seq,
                });
            }
            let hash = entry_hash(&e, &prev_hash);
            if e.hash.as_deref() != Some(hash.as_str()) {
                return Err(ChainError::Altered { seq: e.seq });
            }
            prev_position = position;
            prev_seq = e.seq;
            prev_hash = hash;
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

/// The number of entries in the log, chained or not.
pub async fn count<C: ConnectionTrait>(db: &C) -> Result<i64, DbErr> {
    let n: Option<i64> = AuditLog::find()
        .select_only()
        .column_as(AuditColumn::Seq.count(), "n")
        .into_tuple()
        .one(db)
        .await?;
    Ok(n.unwrap_or(0))
}
