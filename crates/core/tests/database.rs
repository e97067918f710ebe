//! Core behaviour against a real database: migrations, exact money, and the audit chain.
//! Runs on SQLite by default and on PostgreSQL when GRANARY_TEST_DATABASE_URL is set.

use chrono::{TimeZone, Utc};
use granary_core::audit::{self, AuditEvent, ChainError};
use granary_core::testing::TestDb;
use granary_core::{Actor, Money};
use granary_migrations::MigratorTrait;
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

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
