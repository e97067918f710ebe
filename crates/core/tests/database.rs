//! Core behaviour against a real database: migrations, exact money, and the audit chain.
//! Runs on SQLite by default and on PostgreSQL when GRANARY_TEST_DATABASE_URL is set.

use chrono::{TimeZone, Utc};
use granary_core::audit::{self, AuditEvent, ChainError};
use granary_core::testing::TestDb;
use granary_core::{Actor, Money};
use granary_migrations::MigratorTrait;
use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionSession, Value};

async fn org_with_budget(t: &TestDb, budget: Money) -> uuid::Uuid {
    let id = uuid::Uuid::now_v7();
    let now = Utc::now();
    let backend = t.db.get_database_backend();
    t.db.execute_raw(Statement::from_sql_and_values(
        backend,
        match backend {
            DbBackend::Postgres => "INSERT INTO organizations (id, kind, name, annual_budget_cents, created_at, updated_at) VALUES ($1, 'community_organization', $2, $3, $4, $4)",
            _ => "INSERT INTO organizations (id, kind, name, annual_budget_cents, created_at, updated_at) VALUES (?, 'community_organization', ?, ?, ?, ?)",
        },
        match backend {
            DbBackend::Postgres => vec![id.into(), format!("Org {id}").into(), budget.cents().into(), now.into()],
            _ => vec![id.into(), format!("Org {id}").into(), budget.cents().into(), now.into(), now.into()],
        },
    ))
    .await
    .expect("insert organization");
    id
}

#[tokio::test]
async fn money_round_trips_exactly() {
    let t = TestDb::new().await;
    let a: Money = "0.10".parse().unwrap();
    let b: Money = "0.20".parse().unwrap();
    org_with_budget(&t, a).await;
    org_with_budget(&t, b).await;
    let row =
        t.db.query_one_raw(Statement::from_string(
            t.db.get_database_backend(),
            "SELECT CAST(SUM(annual_budget_cents) AS BIGINT) AS total FROM organizations",
        ))
        .await
        .unwrap()
        .expect("one row");
    let total: i64 = row.try_get("", "total").unwrap();
    let sum = Money::from_cents(total).unwrap();
    assert_eq!(sum.to_amount_string(), "0.30", "on {}", t.backend());
    assert_eq!(sum, a + b);

    // A large amount with cents survives too.
    let big: Money = "987654321.99".parse().unwrap();
    let id = org_with_budget(&t, big).await;
    let backend = t.db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => "SELECT annual_budget_cents FROM organizations WHERE id = $1",
        _ => "SELECT annual_budget_cents FROM organizations WHERE id = ?",
    };
    let row =
        t.db.query_one_raw(Statement::from_sql_and_values(backend, sql, [Value::from(id)]))
            .await
            .unwrap()
            .unwrap();
    let cents: i64 = row.try_get("", "annual_budget_cents").unwrap();
    assert_eq!(Money::from_cents(cents).unwrap(), big);
}

#[tokio::test]
async fn migrations_go_up_down_and_up_again() {
    let t = TestDb::empty().await;
    let schema = t.schema_connection().await;
    granary_migrations::Migrator::up(&schema, None).await.unwrap();
    assert!(
        granary_migrations::Migrator::get_pending_migrations(&schema)
            .await
            .unwrap()
            .is_empty()
    );
    granary_migrations::Migrator::down(&schema, None).await.unwrap();
    granary_migrations::Migrator::up(&schema, None).await.unwrap();
    // Running again is a no-op.
    granary_migrations::Migrator::up(&schema, None).await.unwrap();
}

#[tokio::test]
async fn audit_chain_verifies_and_detects_tampering() {
    let t = TestDb::new().await;
    let actor = Actor::cli("test");
    let at = Utc.with_ymd_and_hms(2026, 11, 23, 15, 0, 0).unwrap();
    for i in 0..5 {
        let e = audit::record(
            &t.db,
            &actor,
            AuditEvent::new("solicitation.amended", "solicitation", format!("s-{i}"))
                .before(&serde_json::json!({"version": i}))
                .after(&serde_json::json!({"version": i + 1})),
            at + chrono::Duration::seconds(i),
        )
        .await
        .unwrap();
        assert_eq!(e.seq, i + 1);
    }
    assert_eq!(audit::verify(&t.db).await, Ok(5));
    let found = audit::find(
        &t.db,
        &audit::AuditQuery {
            subject_id: Some("s-3".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].actor, "cli:test");
    assert_eq!(found[0].after_json.as_deref(), Some(r#"{"version":4}"#));

    // Someone edits entry 3 behind Granary's back.
    t.db.execute_unprepared(r#"UPDATE audit_log SET after_json = '{"version":99}' WHERE seq = 3"#)
        .await
        .unwrap();
    assert_eq!(audit::verify(&t.db).await, Err(ChainError::Altered { seq: 3 }));
    t.db.execute_unprepared(r#"UPDATE audit_log SET after_json = '{"version":3}' WHERE seq = 3"#)
        .await
        .unwrap();
    assert_eq!(audit::verify(&t.db).await, Ok(5));

    // Or removes an entry.
    t.db.execute_unprepared("DELETE FROM audit_log WHERE seq = 2")
        .await
        .unwrap();
    assert_eq!(
        audit::verify(&t.db).await,
        Err(ChainError::Broken {
            seq: 3,
            expected_prev: 1
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_keep_one_chain() {
    let t = TestDb::new().await;
    let mut tasks = Vec::new();
    for i in 0..40 {
        let db = t.db.clone();
        tasks.push(tokio::spawn(async move {
            audit::record(
                &db,
                &Actor::System,
                AuditEvent::new("test.concurrent", "test", i),
                Utc::now(),
            )
            .await
        }));
    }
    for task in tasks {
        task.await.unwrap().expect("every append succeeds");
    }
    assert_eq!(audit::verify(&t.db).await, Ok(40));
    assert_eq!(audit::count(&t.db).await.unwrap(), 40);
}

/// The positions the chain gives entries, by seq.
async fn positions(t: &TestDb) -> Vec<(i64, Option<i64>)> {
    use sea_orm::{EntityTrait, QueryOrder};
    audit::AuditLog::find()
        .order_by_asc(audit::AuditColumn::Seq)
        .all(&t.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.seq, e.chain_position))
        .collect()
}

#[tokio::test]
async fn appends_are_pending_until_the_chainer_seals_them() {
    let t = TestDb::new().await;
    for i in 0..3 {
        audit::record(
            &t.db,
            &Actor::System,
            AuditEvent::new("test.pending", "test", i),
            Utc::now(),
        )
        .await
        .unwrap();
    }
    // Appending chains nothing: the three entries wait, and the chain is empty.
    assert_eq!(positions(&t).await, vec![(1, None), (2, None), (3, None)]);
    assert_eq!(audit::verify_chained(&t.db).await, Ok(0));
    assert_eq!(audit::chain_pending(&t.db).await, Ok(3));
    assert_eq!(audit::chain_pending(&t.db).await, Ok(0), "nothing is sealed twice");
    assert_eq!(positions(&t).await, vec![(1, Some(1)), (2, Some(2)), (3, Some(3))]);
    assert_eq!(audit::verify_chained(&t.db).await, Ok(3));
    // verify seals what is pending before checking.
    audit::record(
        &t.db,
        &Actor::System,
        AuditEvent::new("test.pending", "test", 3),
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(audit::verify(&t.db).await, Ok(4));
    assert_eq!(positions(&t).await.last(), Some(&(4, Some(4))));
}

#[tokio::test]
async fn an_entry_committed_late_takes_the_next_place_in_the_chain() {
    let t = TestDb::new().await;
    if t.db.get_database_backend() == DbBackend::Sqlite {
        // SQLite lets one transaction write at a time, so entries always commit in seq order;
        // the interleaving below cannot happen there (the PostgreSQL run covers it).
        return;
    }
    let at = Utc::now();
    let slow = granary_core::db::begin_write(&t.db).await.unwrap();
    let a = audit::record(&slow, &Actor::System, AuditEvent::new("test.slow", "test", "a"), at)
        .await
        .unwrap();
    let b = audit::record(&t.db, &Actor::System, AuditEvent::new("test.fast", "test", "b"), at)
        .await
        .unwrap();
    assert!(a.seq < b.seq);
    // b committed first: the chainer seals it and cannot see a.
    assert_eq!(audit::chain_pending(&t.db).await, Ok(1));
    slow.commit().await.unwrap();
    // a commits later and is sealed next, after b: nothing committed is left out.
    assert_eq!(audit::chain_pending(&t.db).await, Ok(1));
    assert_eq!(positions(&t).await, vec![(a.seq, Some(2)), (b.seq, Some(1))]);
    // A rolled-back append leaves a gap in seq, which the chain does not mind.
    let doomed = granary_core::db::begin_write(&t.db).await.unwrap();
    audit::record(&doomed, &Actor::System, AuditEvent::new("test.doomed", "test", "c"), at)
        .await
        .unwrap();
    doomed.rollback().await.unwrap();
    let d = audit::record(&t.db, &Actor::System, AuditEvent::new("test.after", "test", "d"), at)
        .await
        .unwrap();
    assert_eq!(d.seq, b.seq + 2);
    assert_eq!(audit::verify(&t.db).await, Ok(3));
    // Swapping two entries' places breaks the chain.
    t.db.execute_unprepared(&format!(
        "UPDATE audit_log SET chain_position = 100 WHERE seq = {a};
         UPDATE audit_log SET chain_position = 2 WHERE seq = {b};
         UPDATE audit_log SET chain_position = 1 WHERE seq = {a};",
        a = a.seq,
        b = b.seq
    ))
    .await
    .unwrap();
    assert_eq!(
        audit::verify(&t.db).await,
        Err(ChainError::Broken {
            seq: a.seq,
            expected_prev: 0
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_transactions_and_chainers_keep_one_chain() {
    let t = TestDb::new().await;
    let writing = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let mut chainers = Vec::new();
    for _ in 0..2 {
        let (db, writing) = (t.db.clone(), writing.clone());
        chainers.push(tokio::spawn(async move {
            while writing.load(std::sync::atomic::Ordering::Relaxed) {
                audit::chain_pending(&db).await.expect("chaining succeeds");
                tokio::time::sleep(std::time::Duration::from_millis(3)).await;
            }
        }));
    }
    let mut writers = Vec::new();
    for w in 0..8 {
        let db = t.db.clone();
        writers.push(tokio::spawn(async move {
            let mut kept = 0u64;
            for i in 0..6 {
                let txn = granary_core::db::begin_write(&db).await.unwrap();
                for part in 0..2 {
                    audit::record(
                        &txn,
                        &Actor::System,
                        AuditEvent::new("test.concurrent", "test", format!("{w}-{i}-{part}")),
                        Utc::now(),
                    )
                    .await
                    .unwrap();
                    tokio::time::sleep(std::time::Duration::from_millis((w + i) % 3)).await;
                }
                if i % 3 == 2 {
                    txn.rollback().await.unwrap();
                } else {
                    txn.commit().await.unwrap();
                    kept += 2;
                }
            }
            kept
        }));
    }
    let mut committed = 0;
    for w in writers {
        committed += w.await.unwrap();
    }
    writing.store(false, std::sync::atomic::Ordering::Relaxed);
    for c in chainers {
        c.await.unwrap();
    }
    assert_eq!(committed, 64);
    assert_eq!(audit::verify(&t.db).await, Ok(committed));
    assert_eq!(audit::count(&t.db).await.unwrap(), committed as i64);
    let mut places: Vec<i64> = positions(&t).await.into_iter().map(|(_, p)| p.unwrap()).collect();
    places.sort_unstable();
    assert_eq!(places, (1..=committed as i64).collect::<Vec<_>>());
}

#[tokio::test]
async fn tampering_with_chained_entries_is_detected() {
    let t = TestDb::new().await;
    let at = Utc.with_ymd_and_hms(2026, 11, 23, 15, 0, 0).unwrap();
    for i in 0..6 {
        audit::record(
            &t.db,
            &Actor::cli("test"),
            AuditEvent::new("test.tamper", "test", format!("s-{i}")),
            at,
        )
        .await
        .unwrap();
    }
    assert_eq!(audit::verify(&t.db).await, Ok(6));

    // Swapping two entries' content: the first one changed no longer matches its hash.
    t.db.execute_unprepared(
        "UPDATE audit_log SET subject_id = 'x' WHERE seq = 2;
         UPDATE audit_log SET subject_id = 's-1' WHERE seq = 3;
         UPDATE audit_log SET subject_id = 's-2' WHERE seq = 2;",
    )
    .await
    .unwrap();
    assert_eq!(audit::verify(&t.db).await, Err(ChainError::Altered { seq: 2 }));
    t.db.execute_unprepared(
        "UPDATE audit_log SET subject_id = 'x' WHERE seq = 2;
         UPDATE audit_log SET subject_id = 's-2' WHERE seq = 3;
         UPDATE audit_log SET subject_id = 's-1' WHERE seq = 2;",
    )
    .await
    .unwrap();
    assert_eq!(audit::verify(&t.db).await, Ok(6));

    // Rewriting an entry's hash to match its new content breaks the link to the next one.
    let e3 = audit::find(
        &t.db,
        &audit::AuditQuery {
            subject_id: Some("s-2".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .remove(0);
    let mut forged = e3.clone();
    forged.actor_name = "someone else".into();
    let forged_hash = audit::entry_hash(&forged, e3.prev_hash.as_deref().unwrap());
    t.db.execute_unprepared(&format!(
        "UPDATE audit_log SET actor_name = 'someone else', hash = '{forged_hash}' WHERE seq = 3"
    ))
    .await
    .unwrap();
    assert_eq!(
        audit::verify(&t.db).await,
        Err(ChainError::Broken {
            seq: 4,
            expected_prev: 3
        })
    );
    t.db.execute_unprepared(&format!(
        "UPDATE audit_log SET actor_name = '{}', hash = '{}' WHERE seq = 3",
        e3.actor_name,
        e3.hash.as_deref().unwrap()
    ))
    .await
    .unwrap();
    assert_eq!(audit::verify(&t.db).await, Ok(6));

    // Taking an entry out of the chain (to have it sealed again elsewhere) leaves a hole.
    t.db.execute_unprepared("UPDATE audit_log SET chain_position = NULL, prev_hash = NULL, hash = NULL WHERE seq = 2")
        .await
        .unwrap();
    assert_eq!(
        audit::verify(&t.db).await,
        Err(ChainError::Broken {
            seq: 3,
            expected_prev: 1
        })
    );
}

#[tokio::test]
async fn a_log_chained_before_the_upgrade_still_verifies() {
    let t = TestDb::empty().await;
    let schema = t.schema_connection().await;
    let before = granary_migrations::Migrator::migrations()
        .iter()
        .position(|m| m.name() == "m20261123_000005_audit_appends")
        .expect("the migration that moved chaining off the request path");
    granary_migrations::Migrator::up(&schema, Some(before as u32))
        .await
        .unwrap();
    // Three entries as the earlier code appended them: numbered and chained on the spot.
    let backend = schema.get_database_backend();
    let at = Utc.with_ymd_and_hms(2026, 11, 1, 9, 30, 0).unwrap();
    let mut prev = audit::GENESIS_HASH.to_string();
    for seq in 1..=3i64 {
        let e = audit::AuditEntry {
            seq,
            occurred_at: at,
            actor: "cli:test".into(),
            actor_name: "test".into(),
            action: "test.before_upgrade".into(),
            subject_type: "test".into(),
            subject_id: format!("old-{seq}"),
            before_json: None,
            after_json: Some(format!(r#"{{"n":{seq}}}"#)),
            chain_position: None,
            prev_hash: None,
            hash: None,
        };
        let hash = audit::entry_hash(&e, &prev);
        let sql = match backend {
            DbBackend::Postgres => {
                "INSERT INTO audit_log (seq, occurred_at, actor, actor_name, action, subject_type, subject_id, before_json, after_json, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8, $9, $10)"
            }
            _ => {
                "INSERT INTO audit_log (seq, occurred_at, actor, actor_name, action, subject_type, subject_id, before_json, after_json, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?)"
            }
        };
        schema
            .execute_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [
                    Value::from(seq),
                    Value::from(at),
                    Value::from(e.actor.clone()),
                    Value::from(e.actor_name.clone()),
                    Value::from(e.action.clone()),
                    Value::from(e.subject_type.clone()),
                    Value::from(e.subject_id.clone()),
                    Value::from(e.after_json.clone()),
                    Value::from(prev.clone()),
                    Value::from(hash.clone()),
                ],
            ))
            .await
            .unwrap();
        prev = hash;
    }
    granary_migrations::Migrator::up(&schema, None).await.unwrap();
    let _ = schema.close().await;
    let db = granary_core::db::connect(&t.url, granary_core::db::PoolSize(2))
        .await
        .unwrap();
    assert_eq!(audit::verify_chained(&db).await, Ok(3), "the old chain is intact");
    let next = audit::record(
        &db,
        &Actor::System,
        AuditEvent::new("test.after_upgrade", "test", "new"),
        Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(next.seq, 4, "numbering continues after the old entries");
    assert_eq!(audit::verify(&db).await, Ok(4));
    let _ = db.close().await;
}

/// A pool on the test's SQLite file whose connections never wait for a lock: any collision
/// between writers fails at once with "database is locked" instead of sleeping it off.
async fn impatient_sqlite_pool(t: &TestDb) -> sea_orm::DatabaseConnection {
    let mut opts = sea_orm::ConnectOptions::new(t.url.clone());
    opts.max_connections(8).min_connections(8).sqlx_logging(false);
    opts.map_sqlx_sqlite_opts(|o| {
        o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
            .busy_timeout(std::time::Duration::ZERO)
            .foreign_keys(true)
    });
    sea_orm::Database::connect(opts).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_writers_in_one_process_take_turns_instead_of_colliding() {
    let t = TestDb::new().await;
    if t.db.get_database_backend() != DbBackend::Sqlite {
        return; // PostgreSQL writers do not queue: its row locks are enough.
    }
    let db = impatient_sqlite_pool(&t).await;
    let mut writers = Vec::new();
    for w in 0..16 {
        let db = db.clone();
        writers.push(tokio::spawn(async move {
            for i in 0..5 {
                let txn = granary_core::db::begin_write(&db).await?;
                audit::record(
                    &txn,
                    &Actor::System,
                    AuditEvent::new("test.turns", "test", format!("{w}-{i}")),
                    Utc::now(),
                )
                .await?;
                tokio::task::yield_now().await;
                audit::record(
                    &txn,
                    &Actor::System,
                    AuditEvent::new("test.turns", "test", format!("{w}-{i}+")),
                    Utc::now(),
                )
                .await?;
                txn.commit().await?;
                // A lone write statement takes its turn too.
                granary_core::db::execute_alone(
                    &db,
                    Statement::from_string(
                        DbBackend::Sqlite,
                        "UPDATE audit_log SET actor_name = actor_name WHERE seq = (SELECT MAX(seq) FROM audit_log)",
                    ),
                )
                .await?;
            }
            Ok::<_, sea_orm::DbErr>(())
        }));
    }
    for w in writers {
        w.await.unwrap().expect("no writer finds the database locked");
    }
    assert_eq!(audit::count(&db).await.unwrap(), 160);
    let _ = db.close().await;
}

#[tokio::test]
async fn a_write_transaction_inside_another_shares_its_turn_and_a_dropped_one_gives_it_back() {
    let t = TestDb::new().await;
    let limit = std::time::Duration::from_secs(10);
    let nested = async {
        let outer = granary_core::db::begin_write(&t.db).await?;
        audit::record(
            &outer,
            &Actor::System,
            AuditEvent::new("test.outer", "test", 1),
            Utc::now(),
        )
        .await?;
        // A service function handed the transaction begins again: a savepoint, no new turn.
        let inner = granary_core::db::begin_write(&outer).await?;
        audit::record(
            &inner,
            &Actor::System,
            AuditEvent::new("test.inner", "test", 2),
            Utc::now(),
        )
        .await?;
        inner.commit().await?;
        let undone = granary_core::db::begin_write(&outer).await?;
        audit::record(
            &undone,
            &Actor::System,
            AuditEvent::new("test.undone", "test", 3),
            Utc::now(),
        )
        .await?;
        undone.rollback().await?;
        outer.commit().await?;
        Ok::<_, sea_orm::DbErr>(())
    };
    tokio::time::timeout(limit, nested)
        .await
        .expect("a nested write transaction does not wait for its own turn")
        .unwrap();
    assert_eq!(audit::count(&t.db).await.unwrap(), 2);

    // A transaction dropped without commit rolls back and hands the turn on.
    let abandoned = async {
        let txn = granary_core::db::begin_write(&t.db).await?;
        audit::record(
            &txn,
            &Actor::System,
            AuditEvent::new("test.abandoned", "test", 4),
            Utc::now(),
        )
        .await?;
        drop(txn);
        let next = granary_core::db::begin_write(&t.db).await?;
        audit::record(
            &next,
            &Actor::System,
            AuditEvent::new("test.next", "test", 5),
            Utc::now(),
        )
        .await?;
        next.commit().await?;
        Ok::<_, sea_orm::DbErr>(())
    };
    tokio::time::timeout(limit, abandoned)
        .await
        .expect("the turn comes back when a transaction is dropped")
        .unwrap();
    let actions: Vec<String> = audit::find(&t.db, &Default::default())
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(actions, ["test.next", "test.inner", "test.outer"]);
}
