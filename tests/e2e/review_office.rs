//! The program officer's review over the pages and the API: the review desk, the ranking
//! and funding line with a what-if weight, the sensitivity analysis, and a decision recorded,
//! refused while the solicitation is open, approved once it is closed, and released.

use axum::http::{Method, StatusCode};
use granary_core::Actor;
use granary_gateway::seed::{DEMO_REVIEW_SOLICITATION, seed_demo_review, seed_demo_users};
use granary_solicitations as sol;
use rust_decimal::Decimal;
use serde_json::Value;

use crate::access::send_with;
use crate::support::{Browser, Granary, Reply, signed_in, t0};

async fn json(b: &mut Browser<'_>, method: Method, uri: &str, body: &str) -> Reply {
    send_with(b, &method, uri, "application/json", body.as_bytes().to_vec()).await
}

fn dec(v: &Value) -> Decimal {
    v.as_str()
        .unwrap_or_else(|| panic!("a decimal string, got {v}"))
        .parse()
        .unwrap()
}

/// The demo's requests, by the city in each project title.
fn requested(label: &str) -> Decimal {
    let cities = [
        ("Baltimore", 1_200_000),
        ("Riverton", 1_450_000),
        ("Los Angeles", 1_500_000),
        ("Millbrook", 1_000_000),
        ("Seattle", 1_300_000),
        ("Cedar Falls", 1_050_000),
        ("Lakeside", 1_150_000),
        ("Harbor", 1_400_000),
    ];
    let (_, d) = cities
        .iter()
        .find(|(c, _)| label.contains(&format!("for {c} ")))
        .unwrap_or_else(|| panic!("a demo city in {label}"));
    Decimal::from(*d)
}

/// Checks a result's funding line by walking it again: in rank order, each application is
/// funded with its request when that fits in what is left, and skipped otherwise.
fn assert_rank_order_line(result: &Value, available: Decimal) {
    let apps = result["applications"].as_array().unwrap();
    let mut left = available;
    for (n, a) in apps.iter().enumerate() {
        assert_eq!(
            a["rank"].as_u64(),
            Some(n as u64 + 1),
            "ranks count from 1 without gaps"
        );
        let want = requested(a["label"].as_str().unwrap());
        let fits = want <= left;
        assert_eq!(a["funded"].as_bool(), Some(fits), "{}: {}", a["label"], a["reason"]);
        if fits {
            assert_eq!(dec(&a["amount"]), want);
            left -= want;
        }
    }
    assert_eq!(dec(&result["funds_left"]), left);
}

#[tokio::test]
async fn an_officer_ranks_tries_a_weight_studies_sensitivity_and_approves() {
    let g = Granary::demo().await;
    seed_demo_users(&g.db.db, t0()).await.unwrap();
    assert_eq!(seed_demo_review(&g.db.db, &g.store, t0()).await.unwrap(), 8);
    // Seeding again changes nothing.
    assert_eq!(seed_demo_review(&g.db.db, &g.store, t0()).await.unwrap(), 0);
    let s = sol::get_by_number(&g.db.db, DEMO_REVIEW_SOLICITATION).await.unwrap();
    let sid = s.id.to_string();
    let mut officer = signed_in(&g, "officer@demo.granary.test").await;

    // The desk: progress, the pool and the assignments.
    let r = officer.get(&format!("/manage/solicitations/{sid}/review")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let page = r.text();
    for text in [
        "Rosa Reviewer",
        "Pat Peer",
        "Camila Community",
        "Assign reviewers",
        "Reentry incubator for Harbor",
    ] {
        assert!(page.contains(text), "the desk shows {text}");
    }
    let o = json(
        &mut officer,
        Method::GET,
        &format!("/api/v1/solicitations/{sid}/review"),
        "",
    )
    .await;
    assert_eq!(o.status, StatusCode::OK, "{}", o.text());
    let o = o.json();
    assert_eq!(o["progress"]["applications"], 8);
    assert_eq!(o["progress"]["assignments"], 24, "three reviewers for each of eight");
    assert_eq!(o["progress"]["submitted"], 23, "one review is left for Rosa Reviewer");
    assert_eq!(o["progress"]["short"], 0);

    // A settings form with a word for a number is refused, keeping what was typed.
    let version = o["settings_version"].to_string();
    let r = officer
        .post_form(
            &format!("/manage/solicitations/{sid}/review/settings"),
            &[
                ("version", version.as_str()),
                ("reviews_per_application", "three"),
                ("min_load", "0"),
                ("max_load", "8"),
                ("disagreement_percent", "20"),
                ("calibration", "none"),
                ("funding_mode", "rank_order"),
                ("available_funds", "5000000"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("enter a whole number"));
    assert!(r.text().contains("value=\"three\""), "what was typed stays in the form");
    // A save from a page opened before someone else saved is refused, keeping what was typed.
    let r = officer
        .post_form(
            &format!("/manage/solicitations/{sid}/review/settings"),
            &[
                ("version", "0"),
                ("reviews_per_application", "3"),
                ("min_load", "0"),
                ("max_load", "11"),
                ("disagreement_percent", "20"),
                ("calibration", "none"),
                ("funding_mode", "rank_order"),
                ("available_funds", "5000000"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert!(r.text().contains("Someone saved these settings"));
    assert!(r.text().contains("value=\"11\""), "what was typed stays in the form");

    // The ranking with the declared weights: the funding line is rank order with skipping.
    let r = json(
        &mut officer,
        Method::GET,
        &format!("/api/v1/solicitations/{sid}/ranking"),
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let declared = r.json()["declared"].clone();
    assert_eq!(dec(&declared["available"]), Decimal::from(5_000_000));
    assert_rank_order_line(&declared, Decimal::from(5_000_000));
    // Bonus points: the final score is merit plus 5 for those meeting the consideration.
    for a in declared["applications"].as_array().unwrap() {
        let meets = a["priorities"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["key"] == "led_by_formerly_incarcerated" && p["met"] == true);
        let bonus = if meets { Decimal::from(5) } else { Decimal::ZERO };
        assert_eq!(dec(&a["final_score"]), dec(&a["merit"]) + bonus, "{}", a["label"]);
        assert!(
            a["steps"].as_array().unwrap()[0]
                .as_str()
                .unwrap()
                .starts_with("Reviewer 1: "),
            "explanations start from each reviewer's scores, anonymized"
        );
    }

    // What if the bonus were 20 points?
    let body = r#"{"mechanisms": {"led_by_formerly_incarcerated": {"type": "bonus_points", "points": "20"}}}"#;
    let r = json(
        &mut officer,
        Method::POST,
        &format!("/api/v1/solicitations/{sid}/ranking"),
        body,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let w = r.json();
    let changed = &w["changed"];
    assert_rank_order_line(changed, Decimal::from(5_000_000));
    let before: std::collections::BTreeMap<String, (Value, Value)> = declared["applications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["id"].as_str().unwrap().to_string(),
                (a["rank"].clone(), a["funded"].clone()),
            )
        })
        .collect();
    let mut differing = 0;
    for a in changed["applications"].as_array().unwrap() {
        let (rank, funded) = &before[a["id"].as_str().unwrap()];
        if *rank != a["rank"] || *funded != a["funded"] {
            differing += 1;
        }
    }
    assert_eq!(
        w["changes"].as_array().unwrap().len(),
        differing,
        "every difference is listed"
    );
    // Changing the kind of mechanism is not a what-if.
    let body = r#"{"mechanisms": {"led_by_formerly_incarcerated": {"type": "multiplier", "factor": "1.2"}}}"#;
    let r = json(
        &mut officer,
        Method::POST,
        &format!("/api/v1/solicitations/{sid}/ranking"),
        body,
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    // The page shows the same what-if.
    let r = officer
        .get(&format!(
            "/manage/solicitations/{sid}/ranking?w.led_by_formerly_incarcerated=20"
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.text().contains("Ranking with your weights"));
    assert!(r.text().contains("<svg"), "the sensitivity plot is drawn");

    // Sensitivity: the bonus weight's intervals cover 0 to 10, one holds the declared 5, and
    // switching the consideration off gives the what-if with it off.
    let r = json(
        &mut officer,
        Method::GET,
        &format!("/api/v1/solicitations/{sid}/sensitivity"),
        "",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let x = r.json();
    let study = &x["report"]["weights"][0];
    assert_eq!(study["consideration"], "led_by_formerly_incarcerated");
    let intervals = study["intervals"].as_array().unwrap();
    assert_eq!(dec(&intervals[0]["start"]), Decimal::ZERO);
    assert_eq!(dec(&intervals[intervals.len() - 1]["end"]), Decimal::from(10));
    assert_eq!(intervals.iter().filter(|i| i["contains_declared"] == true).count(), 1);
    let off = x["report"]["switched_off"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["consideration"] == "led_by_formerly_incarcerated")
        .unwrap()
        .clone();
    let body = r#"{"mechanisms": {"led_by_formerly_incarcerated": null}}"#;
    let r = json(
        &mut officer,
        Method::POST,
        &format!("/api/v1/solicitations/{sid}/ranking"),
        body,
    )
    .await;
    let w = r.json();
    let without = if w["changed"].is_null() {
        &w["declared"]
    } else {
        &w["changed"]
    };
    assert_eq!(off["funded_after"].as_u64(), without["funded"].as_u64());
    let mut losing: Vec<String> = w["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["funded_before"] == true && c["funded_after"] == false)
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    losing.sort();
    let mut listed: Vec<String> = off["losing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    listed.sort();
    assert_eq!(
        losing, listed,
        "switched off and the what-if agree on who loses funding"
    );

    // A reviewer does not see the office's ranking.
    let mut rosa = signed_in(&g, "reviewer@demo.granary.test").await;
    let r = rosa.get(&format!("/manage/solicitations/{sid}/ranking")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());

    // Record the decision with the 20-point what-if, from the page.
    let r = officer
        .post_form(
            &format!("/manage/solicitations/{sid}/decisions"),
            &[("w.led_by_formerly_incarcerated", "20")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let page = Browser::location(&r);
    let decision = page
        .split("/decisions/")
        .nth(1)
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let r = officer.get(&page).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.text().contains("identical result"),
        "the record recomputes identically"
    );
    let d = json(
        &mut officer,
        Method::GET,
        &format!("/api/v1/solicitations/{sid}/decisions/{decision}"),
        "",
    )
    .await
    .json();
    assert_eq!(d["verification"]["result_matches"], true);
    assert_eq!(
        d["config"]["mechanisms"]["led_by_formerly_incarcerated"]["points"],
        "20"
    );
    assert_eq!(
        d["result"]["funded"], changed["funded"],
        "the recorded result is the previewed one"
    );

    // Approval waits for the solicitation to close.
    let approve = format!("/manage/solicitations/{sid}/decisions/{decision}/approve");
    let r = officer.post_form(&approve, &[]).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.text().contains("approve a decision after it closes"));
    sol::transition(&g.db.db, &Actor::cli("test"), s.id, sol::Transition::Close, t0())
        .await
        .unwrap();
    // Closed, but an applicant with an extension may still submit: approval waits for it.
    let late = granary_applications::list_for_solicitation(&g.db.db, s.id)
        .await
        .unwrap()[0]
        .organization
        .id;
    let until = s.content.dates.closes_at.unwrap() + chrono::Duration::days(2);
    granary_applications::grant_extension(&g.db.db, &Actor::cli("test"), s.id, late, until, "Flooded office", t0())
        .await
        .unwrap();
    let r = officer.post_form(&approve, &[]).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(
        r.text().contains("an extension lets an applicant submit until"),
        "{}",
        r.text()
    );
    g.clock.set(until + chrono::Duration::minutes(1));
    // Two months later the session has expired: sign in again.
    let mut officer = signed_in(&g, "officer@demo.granary.test").await;
    let r = officer.post_form(&approve, &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert!(
        Browser::location(&r).contains("notice=approved"),
        "{}",
        Browser::location(&r)
    );
    let r = officer
        .post_form(
            &format!("/manage/solicitations/{sid}/decisions/{decision}/release"),
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert!(Browser::location(&r).contains("notice=released"));
    let d = json(
        &mut officer,
        Method::GET,
        &format!("/api/v1/solicitations/{sid}/decisions/{decision}"),
        "",
    )
    .await
    .json();
    assert_eq!(d["status"], "released");
    assert_eq!(d["verification"]["result_matches"], true);
    // Approving again is refused.
    let r = officer.post_form(&approve, &[]).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
}
