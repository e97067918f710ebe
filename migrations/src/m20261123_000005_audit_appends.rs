//! The audit log takes appends without a global lock: the database numbers entries (`seq`
//! becomes an identity column on PostgreSQL and an `AUTOINCREMENT` key on SQLite), and the
//! hash chain is sealed afterwards by a chainer, which gives each entry its place in the
//! chain (`chain_position`) and its `prev_hash` and `hash`. Until then those three are empty,
//! together (a check says so). Entries chained before this migration keep their hashes, with
//! `chain_position = seq`, so an existing log still verifies.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The columns both shapes share, in order.
const SHARED: &str = "occurred_at, actor, actor_name, action, subject_type, subject_id, before_json, after_json";

const INDEXES: &str = "
CREATE INDEX ix_audit_log_subject ON audit_log (subject_id);
CREATE INDEX ix_audit_log_actor ON audit_log (actor);
CREATE INDEX ix_audit_log_occurred_at ON audit_log (occurred_at);
";

/// The pending entries, for the chainer.
const PENDING_INDEX: &str = "CREATE INDEX ix_audit_log_pending ON audit_log (seq) WHERE chain_position IS NULL";

const CHAINED_TOGETHER: &str = "(chain_position IS NULL AND prev_hash IS NULL AND hash IS NULL) \
     OR (chain_position IS NOT NULL AND prev_hash IS NOT NULL AND hash IS NOT NULL)";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        match db.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(&format!(
                    "ALTER TABLE audit_log ALTER COLUMN seq ADD GENERATED ALWAYS AS IDENTITY;
                     SELECT setval(pg_get_serial_sequence('audit_log', 'seq'), COALESCE(MAX(seq), 0) + 1, false) FROM audit_log;
                     ALTER TABLE audit_log ADD COLUMN chain_position bigint NULL;
                     UPDATE audit_log SET chain_position = seq;
                     ALTER TABLE audit_log
                         ALTER COLUMN prev_hash DROP NOT NULL,
                         ALTER COLUMN hash DROP NOT NULL,
                         ADD CONSTRAINT audit_log_chain_position_key UNIQUE (chain_position),
                         ADD CONSTRAINT audit_log_chained_together CHECK ({CHAINED_TOGETHER});
                     {PENDING_INDEX};"
                ))
                .await?;
            }
            _ => {
                // SQLite changes a key only by rebuilding the table.
                db.execute_unprepared(&format!(
                    "CREATE TABLE audit_log_new (
                         seq integer NOT NULL PRIMARY KEY AUTOINCREMENT,
                         occurred_at timestamp_with_timezone_text NOT NULL,
                         actor varchar(200) NOT NULL,
                         actor_name varchar(300) NOT NULL,
                         action varchar(100) NOT NULL,
                         subject_type varchar(60) NOT NULL,
                         subject_id varchar(100) NOT NULL,
                         before_json text NULL,
                         after_json text NULL,
                         chain_position bigint NULL UNIQUE,
                         prev_hash varchar(64) NULL UNIQUE,
                         hash varchar(64) NULL UNIQUE,
                         CHECK ({CHAINED_TOGETHER})
                     );
                     INSERT INTO audit_log_new (seq, {SHARED}, chain_position, prev_hash, hash)
                         SELECT seq, {SHARED}, seq, prev_hash, hash FROM audit_log ORDER BY seq;
                     DROP TABLE audit_log;
                     ALTER TABLE audit_log_new RENAME TO audit_log;
                     {INDEXES}
                     {PENDING_INDEX};"
                ))
                .await?;
            }
        }
        Ok(())
    }

    /// Back to the shape where appends chain themselves. Fails while entries are pending:
    /// run `granary audit verify` (which chains them) first. Entries chained out of `seq`
    /// order, or after a rolled-back `seq`, will not verify under the older code.
    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        match db.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "DROP INDEX ix_audit_log_pending;
                     ALTER TABLE audit_log
                         DROP CONSTRAINT audit_log_chained_together,
                         DROP COLUMN chain_position,
                         ALTER COLUMN prev_hash SET NOT NULL,
                         ALTER COLUMN hash SET NOT NULL,
                         ALTER COLUMN seq DROP IDENTITY;",
                )
                .await?;
            }
            _ => {
                db.execute_unprepared(&format!(
                    "CREATE TABLE audit_log_old (
                         seq integer NOT NULL PRIMARY KEY,
                         occurred_at timestamp_with_timezone_text NOT NULL,
                         actor varchar(200) NOT NULL,
                         actor_name varchar(300) NOT NULL,
                         action varchar(100) NOT NULL,
                         subject_type varchar(60) NOT NULL,
                         subject_id varchar(100) NOT NULL,
                         before_json text NULL,
                         after_json text NULL,
                         prev_hash varchar(64) NOT NULL UNIQUE,
                         hash varchar(64) NOT NULL UNIQUE
                     );
                     INSERT INTO audit_log_old (seq, {SHARED}, prev_hash, hash)
                         SELECT seq, {SHARED}, prev_hash, hash FROM audit_log ORDER BY seq;
                     DROP TABLE audit_log;
                     ALTER TABLE audit_log_old RENAME TO audit_log;
                     {INDEXES}"
                ))
                .await?;
            }
        }
        Ok(())
    }
}
