//! The JSON API under /api/v1.

use axum::http::StatusCode;

use crate::support::Granary;

#[tokio::test]
async fn lists_searches_and_reads() {
    let g = Granary::demo().await;
    let r = g.get("/api/v1/solicitations").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.content_type, "application/json");
    let body = r.json();
    assert_eq!(body["total_items"], 5);
    assert_eq!(body["items"].as_array().unwrap().len(), 5);
    let first = &body["items"][0];
    assert_eq!(first["effective_status"], "open");
    assert!(
        first["content"]["funding"]["total_available"].is_string(),
        "money is a decimal string"
    );

    let q = g.get("/api/v1/solicitations?q=microgrants&status=open").await.json();
    assert_eq!(q["total_items"], 1);
    assert_eq!(q["items"][0]["content"]["number"], "NNPC-2027-MG-90006");
    assert_eq!(q["items"][0]["content"]["funding"]["award_floor"], "5000.00");

    let id = g.id_of("O-BJA-2027-90001").await;
    let d = g.get(&format!("/api/v1/solicitations/{id}")).await.json();
    assert_eq!(d["version"], 2);
    assert_eq!(d["amendments"].as_array().unwrap().len(), 2);
    assert_eq!(d["amendments"][1]["version"], 2);
    assert_eq!(d["attachments"].as_array().unwrap().len(), 1);
    assert_eq!(d["url"], format!("http://granary.test/solicitations/{id}"));
}

#[tokio::test]
async fn bad_parameters_name_the_field() {
    let g = Granary::demo().await;
    let r = g.get("/api/v1/solicitations?page_size=500&status=pending").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let body = r.json();
    assert_eq!(body["status"], 400);
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["status", "page_size"]);

    let r = g.get("/api/v1/solicitations/12345").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json()["status"], 404);

    let r = g.get("/api/v1/nothing-here").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.content_type, "application/json",
        "API paths answer in JSON even when not found"
    );
}

#[tokio::test]
async fn wrong_method_is_refused_clearly() {
    let g = Granary::demo().await;
    let r = g
        .send(
            axum::http::Request::delete("/api/v1/solicitations")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.json()["status"], 405);
    assert!(r.headers.contains_key("allow"));
}
