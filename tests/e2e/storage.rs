//! The same gateway on an S3 store, the health check, and seeding.

use axum::http::StatusCode;
use granary_documents::{S3Settings, S3Store};
use sha2::{Digest, Sha256};

use crate::support::{Granary, t0};

#[tokio::test]
async fn attachments_round_trip_through_s3() {
    let g = Granary::demo_on_s3().await;
    assert_eq!(g.get("/healthz").await.status, StatusCode::OK);
    let id = g.id_of("O-OVC-2027-90003").await;
    let d = g.get(&format!("/api/v1/solicitations/{id}")).await.json();
    let att = &d["attachments"][0];
    let url = att["download_url"].as_str().unwrap().replace("http://granary.test", "");
    let r = g.get(&url).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(hex::encode(Sha256::digest(&r.body)), att["sha256"].as_str().unwrap());
    assert!(r.text().contains("Trauma Recovery Center"));
    assert!(g.store.describe().starts_with("s3 bucket granary-e2e"));
}

#[tokio::test]
async fn health_reports_an_unreachable_store() {
    let g = Granary::demo().await;
    let ok = g.get("/healthz").await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(
        ok.json(),
        serde_json::json!({"status": "ok", "database": "ok", "documents": "ok"})
    );

    // A gateway whose S3 store is down answers 503 and says which part failed.
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let down = S3Store::new(S3Settings {
        endpoint: Some(format!("http://{closed_port}")),
        region: "us-east-1".into(),
        bucket: "nowhere".into(),
        access_key_id: "a".into(),
        secret_access_key: "b".into(),
        force_path_style: true,
        max_size: 1024 * 1024,
        part_size: 0,
    })
    .unwrap();
    let state = granary_gateway::AppState {
        db: g.db.db.clone(),
        store: std::sync::Arc::new(down),
        views: std::sync::Arc::new(granary_gateway::views::Views::new().unwrap()),
        clock: std::sync::Arc::new(g.clock.clone()),
        public_url: "http://granary.test".into(),
        max_body_bytes: 1024,
        expose_policy_verdict: false,
        mailer: std::sync::Arc::new(granary_identity::FileSender::new(g.mail_dir.clone())),
        postman: None,
    };
    let resp = tower::ServiceExt::oneshot(
        granary_gateway::router(state),
        axum::http::Request::get("/healthz")
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap()
        .to_bytes();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["database"], "ok");
    assert_eq!(json["documents"], "unavailable");
}

#[tokio::test]
async fn seeding_twice_changes_nothing() {
    let g = Granary::demo().await;
    let entries = granary_core::audit::count(&g.db.db).await.unwrap();
    let again = granary_gateway::seed::seed_demo(&g.db.db, &g.store, t0())
        .await
        .unwrap();
    assert_eq!(again.created, 0);
    assert_eq!(again.skipped, 7);
    assert_eq!(
        granary_core::audit::count(&g.db.db).await.unwrap(),
        entries,
        "no new audit entries"
    );
    assert_eq!(
        g.get("/common-grants/opportunities").await.json()["paginationInfo"]["totalItems"],
        7
    );
    granary_core::audit::verify(&g.db.db)
        .await
        .expect("the seeded audit chain verifies");
}
