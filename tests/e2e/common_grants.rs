//! The CommonGrants protocol's opportunity routes.

use axum::http::StatusCode;

use crate::support::Granary;

fn check_opportunity(o: &serde_json::Value) {
    for key in ["id", "title", "status", "description", "createdAt", "lastModifiedAt"] {
        assert!(o.get(key).is_some(), "required field {key} missing in {o}");
    }
    let status = o["status"]["value"].as_str().unwrap();
    assert!(["forecasted", "open", "closed", "custom"].contains(&status));
    let total = &o["funding"]["totalAmountAvailable"];
    assert_eq!(total["currency"], "USD");
    let amount = total["amount"].as_str().expect("amount is a string");
    assert!(amount.chars().all(|c| c.is_ascii_digit() || c == '.'), "{amount}");
    let close = &o["keyDates"]["closeDate"];
    assert_eq!(close["eventType"], "singleDate");
    assert_eq!(close["date"].as_str().unwrap().len(), 10, "YYYY-MM-DD");
    assert_eq!(close["time"].as_str().unwrap().len(), 8, "HH:MM:SS");
    assert!(o["createdAt"].as_str().unwrap().ends_with('Z'));
    for (name, field) in o["customFields"].as_object().unwrap() {
        assert_eq!(field["name"], name.as_str());
        assert!(
            ["string", "number", "integer", "boolean", "object", "array"]
                .contains(&field["fieldType"].as_str().unwrap())
        );
        assert!(field.get("value").is_some());
    }
    // No nulls: absent optional fields are left out.
    assert!(!o.to_string().contains(":null,\"") || o["customFields"].to_string().contains("null"));
}

#[tokio::test]
async fn list_is_paginated_and_newest_first() {
    let g = Granary::demo().await;
    let r = g.get("/common-grants/opportunities").await;
    assert_eq!(r.status, StatusCode::OK);
    let body = r.json();
    assert_eq!(body["status"], 200);
    assert!(body["message"].is_string());
    let items = body["items"].as_array().unwrap();
    assert_eq!(items.len(), 7, "forecasted, open and closed opportunities");
    assert_eq!(
        body["paginationInfo"],
        serde_json::json!({"page": 1, "pageSize": 100, "totalItems": 7, "totalPages": 1})
    );
    items.iter().for_each(check_opportunity);
    let modified: Vec<&str> = items.iter().map(|o| o["lastModifiedAt"].as_str().unwrap()).collect();
    let mut sorted = modified.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(modified, sorted, "sorted by lastModifiedAt, newest first");

    let page = g.get("/common-grants/opportunities?page=2&pageSize=3").await.json();
    assert_eq!(
        page["paginationInfo"],
        serde_json::json!({"page": 2, "pageSize": 3, "totalItems": 7, "totalPages": 3})
    );
    assert_eq!(page["items"].as_array().unwrap().len(), 3);

    let bad = g.get("/common-grants/opportunities?pageSize=0").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let e = bad.json();
    assert_eq!(e["status"], 400);
    assert_eq!(e["errors"][0]["field"], "pageSize");
    let bad = g.get("/common-grants/opportunities?page=abc").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.json()["message"].as_str().unwrap().contains("page"));
}

#[tokio::test]
async fn read_returns_one_opportunity() {
    let g = Granary::demo().await;
    let id = g.id_of("O-BJA-2027-90004").await;
    let r = g.get(&format!("/common-grants/opportunities/{id}")).await;
    assert_eq!(r.status, StatusCode::OK);
    let body = r.json();
    let o = &body["data"];
    check_opportunity(o);
    assert_eq!(o["id"], id);
    assert_eq!(o["status"]["value"], "forecasted");
    assert_eq!(o["source"], format!("http://granary.test/solicitations/{id}"));
    assert_eq!(o["customFields"]["solicitationNumber"]["value"], "O-BJA-2027-90004");
    let types: Vec<&str> = o["acceptedApplicantTypes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["value"].as_str().unwrap())
        .collect();
    assert!(types.contains(&"government_county"), "{types:?}");

    let missing = g
        .get("/common-grants/opportunities/0190b7c4-6a1e-7c3e-9d6f-2b1a4c5d6e7f")
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let e = missing.json();
    assert_eq!(e["status"], 404);
    assert!(e["message"].is_string() && e["errors"].is_array());
}

#[tokio::test]
async fn search_filters_sorts_and_reports() {
    let g = Granary::demo().await;
    let body = r#"{
        "search": "victim",
        "filters": {
            "status": {"operator": "in", "value": ["open", "closed"]},
            "totalFundingAvailableRange": {"operator": "between", "value": {"min": {"amount": "1000000", "currency": "USD"}, "max": {"amount": "10000000", "currency": "USD"}}},
            "customFilters": {"agencyType": {"operator": "eq", "value": "federal"}}
        },
        "sorting": {"sortBy": "funding.totalAmountAvailable", "sortOrder": "asc"},
        "pagination": {"page": 1, "pageSize": 10}
    }"#;
    let r = g.post_json("/common-grants/opportunities/search", body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let b = r.json();
    let titles: Vec<&str> = b["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        vec![
            "Advancing Hospital-Based Victim Services",
            "Trauma Recovery Center Demonstration Project"
        ]
    );
    assert_eq!(
        b["sortInfo"],
        serde_json::json!({"sortBy": "funding.totalAmountAvailable", "sortOrder": "asc", "errors": []})
    );
    assert_eq!(
        b["filterInfo"]["errors"],
        serde_json::json!(["Unsupported filter: agencyType"])
    );
    assert_eq!(
        b["filterInfo"]["filters"]["status"]["value"],
        serde_json::json!(["open", "closed"])
    );
    assert_eq!(b["paginationInfo"]["totalItems"], 2);

    // notIn and an empty body.
    let r = g
        .post_json(
            "/common-grants/opportunities/search",
            r#"{"filters": {"status": {"operator": "notIn", "value": ["open"]}}}"#,
        )
        .await;
    let statuses: Vec<String> = r.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["status"]["value"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(statuses.len(), 3);
    assert!(statuses.iter().all(|s| s != "open"));
    assert_eq!(
        g.post_json("/common-grants/opportunities/search", "{}").await.json()["paginationInfo"]["totalItems"],
        7
    );

    // An unsupported custom sort falls back with a note, not an error.
    let r = g
        .post_json(
            "/common-grants/opportunities/search",
            r#"{"sorting": {"sortBy": "custom", "customSortBy": "popularity"}}"#,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["sortInfo"]["sortBy"], "lastModifiedAt");
}

#[tokio::test]
async fn search_refuses_bad_input_with_reasons() {
    let g = Granary::demo().await;
    let r = g.post_json("/common-grants/opportunities/search", "{not json").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["status"], 400);

    let r = g
        .post_json(
            "/common-grants/opportunities/search",
            r#"{"pagination": {"page": "one"}}"#,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let msg = r.json()["message"].as_str().unwrap().to_string();
    assert!(msg.contains("pagination.page"), "names the field: {msg}");

    let r = g
        .post_json(
            "/common-grants/opportunities/search",
            r#"{"filters": {"status": {"operator": "like", "value": ["open"]}}}"#,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["errors"][0]["field"], "filters.status.operator");

    let r = g
        .post_json(
            "/common-grants/opportunities/search",
            r#"{"sorting": {"sortBy": "popularity"}}"#,
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["errors"][0]["field"], "sorting.sortBy");

    let r = g.post_json(
        "/common-grants/opportunities/search",
        r#"{"filters": {"closeDateRange": {"operator": "between", "value": {"min": "soon", "max": "2027-01-01"}}}}"#,
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["errors"][0]["field"], "filters.closeDateRange.value.min");

    let r = g
        .send(
            axum::http::Request::post("/common-grants/opportunities/search")
                .header("content-type", "text/plain")
                .body(axum::body::Body::from("{}"))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(r.json()["status"], 415);

    // The test gateway accepts bodies up to 64 KiB.
    let huge = format!(r#"{{"search": "{}"}}"#, "x".repeat(100 * 1024));
    let r = g.post_json("/common-grants/opportunities/search", &huge).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.json()["status"], 413);
}

#[tokio::test]
async fn other_dates_are_keyed_by_name() {
    let g = Granary::demo().await;
    let id = g.id_of("NNPC-2027-MG-90006").await;
    let o = g.get(&format!("/common-grants/opportunities/{id}")).await.json()["data"].clone();
    let other = o["keyDates"]["otherDates"].as_object().unwrap();
    assert!(other.contains_key("openDate"), "{other:?}");
    assert!(other.contains_key("periodOfPerformance"));
    assert_eq!(other["periodOfPerformance"]["eventType"], "dateRange");
    let info = &other["onlineInfoSession"];
    assert_eq!(info["name"], "Online info session");
    assert_eq!(info["eventType"], "singleDate");
    assert_eq!(info["time"], "18:00:00");
}
