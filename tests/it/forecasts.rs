//! The 4-week order forecast: prefilled from opportunities, submitted and kept, adjusted by the
//! manager apart, and scored against what was booked.
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{seed, Auth, TestApp, World, PASSWORD};

fn bearer(w: &World, user: &str) -> Auth {
    Auth::Bearer(w.tokens[user].clone())
}

fn monday(weeks_ahead: i64) -> String {
    let d = chrono::Utc::now().date_naive();
    kam::domain::quota::week_start(d)
        .checked_add_signed(chrono::Duration::days(7 * weeks_ahead))
        .expect("date")
        .to_string()
}

/// An opportunity of repA moved by the manager (override) to `stage`, expected on `close`.
async fn opp_at(t: &TestApp, w: &World, amount: &str, close: &str, stage: &str, extra: Value) -> Value {
    let body = json!({
        "account_id": w.account_x, "name": format!("{stage}-{close}-{amount}"), "amount": amount, "expected_close": close,
        "eval_need": "需求", "eval_budget": "预算", "eval_timeline": "时间", "eval_decision_makers": "决策人",
    });
    let r = t.call(Method::POST, "/api/v1/opportunities", &bearer(w, "repA"), Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let o = r.json();
    if let Some(d) = extra.get("booked_on").and_then(Value::as_str) {
        // Established before it was booked (booked_on may not come before the establishing).
        sqlx::query("UPDATE opportunities SET established_at = $1 WHERE id = $2")
            .bind(format!("{d}T08:00:00Z"))
            .bind(o["id"].as_i64().expect("id"))
            .execute(&t.db().pool)
            .await
            .expect("backdate");
    }
    let mut mv = json!({"stage": stage, "version": o["version"], "override_reason": "测试数据"});
    if let (Some(m), Some(e)) = (mv.as_object_mut(), extra.as_object()) {
        m.extend(e.clone());
    }
    let r = t
        .call(Method::POST, &format!("/api/v1/opportunities/{}/stage", o["id"]), &bearer(w, "manager"), Some(mv))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()
}

fn lines(values: &[(&str, &str)]) -> Value {
    json!({"lines": values.iter().enumerate().map(|(i, (c, b))| json!({"week": monday(i as i64), "commit": c, "best_case": b})).collect::<Vec<_>>()})
}

async fn mine(t: &TestApp, w: &World, who: &str, owner: &str) -> Value {
    let r = t.get(&format!("/api/v1/reports/forecast?owner={owner}"), &bearer(w, who)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()["items"][0].clone()
}

#[tokio::test]
async fn a_rep_submits_four_weeks_prefilled_from_the_funnel_and_the_manager_adjusts_apart() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    // Committed this week (counts as commit and best case); developed next week (best case).
    opp_at(&t, &w, "300000.00", &monday(0), "committed", json!({})).await;
    opp_at(&t, &w, "200000.00", &monday(1), "developed", json!({})).await;
    let f = mine(&t, &w, "repA", "repA").await;
    assert_eq!(f["prefill"][0], json!({"week": monday(0), "commit": "300000.00", "best_case": "300000.00"}));
    assert_eq!(f["prefill"][1], json!({"week": monday(1), "commit": "0.00", "best_case": "200000.00"}));
    assert_eq!(f["submitted"], Value::Null);

    let post = |who: &'static str, body: Value| {
        let (t, w) = (&t, &w);
        async move { t.call(Method::POST, "/api/v1/forecasts", &bearer(w, who), Some(body)).await }
    };
    // Three weeks only; a commit above its best case; money as a number: refused, nothing kept.
    let r = post("repA", lines(&[("1", "2"), ("1", "2"), ("1", "2")])).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = post("repA", lines(&[("300000", "200000"), ("0", "0"), ("0", "0"), ("0", "0")])).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("best_below_commit"), "{}", r.body);
    let r = post("repA", json!({"lines": [{"week": monday(0), "commit": 5, "best_case": "6"}]})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(mine(&t, &w, "repA", "repA").await["submitted"], Value::Null);
    // Submitted twice: both kept, the later one counts.
    let r = post("repA", lines(&[("250000", "300000"), ("0", "200000"), ("0", "0"), ("0", "0")])).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = post("repA", lines(&[("280000", "300000"), ("0", "200000"), ("0", "50000"), ("0", "0")])).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let f = mine(&t, &w, "manager", "repA").await;
    assert_eq!(f["submitted"]["lines"][0]["commit"], "280000.00");
    assert_eq!(f["submitted"]["lines"][2]["best_case"], "50000.00");
    use sqlx::Row;
    let kept: i64 =
        sqlx::query("SELECT COUNT(*) AS n FROM forecasts").fetch_one(&t.db().pool).await.expect("n").get("n");
    assert_eq!(kept, 2, "each submission is kept as a snapshot");
    // The manager adjusts repA's first week; repB may not; repA's own figures stay.
    let adj = json!({"owner": "repA", "week": monday(0), "commit": "200000", "best_case": "300000", "reason": "客户付款节奏"});
    let r = t.call(Method::POST, "/api/v1/forecasts/adjustments", &bearer(&w, "repB"), Some(adj.clone())).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = t.call(Method::POST, "/api/v1/forecasts/adjustments", &bearer(&w, "manager"), Some(adj)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let f = mine(&t, &w, "director", "repA").await;
    assert_eq!(f["adjustments"][0]["commit"], "200000.00");
    assert_eq!(f["adjustments"][0]["adjusted_by"], "manager");
    assert_eq!(f["submitted"]["lines"][0]["commit"], "280000.00", "the rep's own commit is unchanged");
    // repB does not see repA's forecast.
    let r = t.get("/api/v1/reports/forecast?owner=repA", &bearer(&w, "repB")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn accuracy_compares_last_weeks_commit_with_what_was_booked_that_week() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let last = monday(-1);
    // A forecast made last week committing 100,000 for last week, written as it would have been.
    use sqlx::Row;
    let uid: i64 =
        sqlx::query("SELECT id FROM users WHERE username = 'repA'").fetch_one(&t.db().pool).await.expect("u").get("id");
    let fid: i64 = sqlx::query(
        "INSERT INTO forecasts (user_id, week, submitted_at, submitted_by) VALUES ($1, $2, $3, 'repA') RETURNING id",
    )
    .bind(uid)
    .bind(last.clone())
    .bind(format!("{last}T09:00:00Z"))
    .fetch_one(&t.db().pool)
    .await
    .expect("forecast")
    .get("id");
    sqlx::query("INSERT INTO forecast_lines (forecast_id, target_week, commit_amount, best_amount) VALUES ($1, $2, 10000000, 15000000)")
        .bind(fid)
        .bind(last.clone())
        .execute(&t.db().pool)
        .await
        .expect("line");
    // 80,000 booked last week.
    opp_at(&t, &w, "90000.00", &last, "won", json!({"booked_amount": "80000.00", "booked_on": last})).await;
    let f = mine(&t, &w, "manager", "repA").await;
    let acc = f["accuracy"].as_array().expect("weeks").iter().find(|a| a["week"] == last).cloned().expect("last week");
    assert_eq!(acc["committed"], "100000.00");
    assert_eq!(acc["booked"], "80000.00");
    assert_eq!(acc["accuracy_pct"], 80);

    // The page: the rep's form, a refused value kept with the reason; the manager's team table.
    let (sid, csrf) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");
    let page = t.get("/forecast", &Auth::Session { cookie: sid.clone(), csrf: String::new() }).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&format!("name=\"commit_{}\"", monday(0))), "{}", page.body);
    assert!(page.body.contains("80%"));
    let mut form: Vec<(String, String)> = vec![("_csrf".into(), csrf.clone())];
    for k in 0..4 {
        let m = monday(k);
        form.push(("week".into(), m.clone()));
        form.push((format!("commit_{m}"), if k == 0 { "abc".into() } else { "0".into() }));
        form.push((format!("best_case_{m}"), "10".into()));
    }
    let refs: Vec<(&str, &str)> = form.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let r = t.ui_post("/forecast", &sid, &refs).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("id=\"forecast-errors\"") && r.body.contains("value=\"abc\""), "typed values are kept");
    let (msid, _) = t.ui_login("manager", PASSWORD, None).await.expect("sign in");
    let page = t.get("/forecast", &Auth::Session { cookie: msid, csrf: String::new() }).await;
    assert!(page.body.contains("data-owner=\"repA\""), "{}", page.body);
}

/// The manager's 1×1 page for a rep: new, advanced, slipped and lost since last week, the
/// forecast against last week's, overdue next steps; nobody else's reps.
#[tokio::test]
async fn the_one_on_one_shows_what_moved_in_the_reps_pipeline_this_week() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let adv = opp_at(&t, &w, "100000.00", "2099-01-31", "contacted", json!({})).await;
    let lost =
        opp_at(&t, &w, "50000.00", "2099-01-31", "lost", json!({"lost_reason": "价格", "lost_to": "对手乙"})).await;
    // One whose expected date is pushed later, and one whose next step is overdue.
    let r = t
        .call(
            Method::PATCH,
            &format!("/api/v1/opportunities/{}", adv["id"]),
            &bearer(&w, "repA"),
            Some(json!({"version": adv["version"], "expected_close": "2099-03-31", "next_step": "回访", "next_step_due": "2020-01-01"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = t.get("/api/v1/reports/one-on-one?owner=repA", &bearer(&w, "manager")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let o = r.json();
    let ids = |k: &str| o[k].as_array().expect("list").iter().map(|c| c["opportunity_id"].clone()).collect::<Vec<_>>();
    assert_eq!(ids("new").len(), 2, "both were established this week");
    assert!(ids("advanced").contains(&adv["id"]), "{o}");
    assert_eq!(ids("lost"), vec![lost["id"].clone()]);
    let slip = o["slipped"]
        .as_array()
        .expect("slipped")
        .iter()
        .find(|c| c["opportunity_id"] == adv["id"])
        .cloned()
        .expect("slip");
    assert_eq!(slip["previous_expected_close"], "2099-01-31");
    assert_eq!(slip["expected_close"], "2099-03-31");
    assert_eq!(o["overdue_next_steps"][0]["id"], adv["id"]);
    // repB may not review repA; the page renders for the manager.
    let r = t.get("/api/v1/reports/one-on-one?owner=repA", &bearer(&w, "repB")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let (sid, _) = t.ui_login("manager", PASSWORD, None).await.expect("sign in");
    let page = t.get("/one-on-one/repA", &Auth::Session { cookie: sid, csrf: String::new() }).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("对手乙") || page.body.contains("价格"), "{}", page.body);
    assert!(page.body.contains("2099-01-31 → 2099-03-31"));
}
