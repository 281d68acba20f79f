//! Sales progress and pipeline by region, the monthly order forecast, and every report as a
//! CSV/XLSX download — from the API and from the pages, in the caller's scope.
use axum::http::{header, Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{seed, Auth, TestApp, World, PASSWORD};

fn bearer(w: &World, user: &str) -> Auth {
    Auth::Bearer(w.tokens[user].clone())
}

fn session(sid: &str) -> Auth {
    Auth::Session { cookie: sid.to_string(), csrf: String::new() }
}

fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

/// The first day of the month `n` months from this one.
fn month_start(n: i32) -> chrono::NaiveDate {
    use chrono::Datelike;
    let t = today();
    let m0 = t.year() * 12 + t.month0() as i32 + n;
    chrono::NaiveDate::from_ymd_opt(m0.div_euclid(12), m0.rem_euclid(12) as u32 + 1, 1).expect("date")
}

async fn establish(t: &TestApp, who: &Auth, account: i64, name: &str, amount: &str, close: &str) -> Value {
    let body = json!({
        "account_id": account, "name": name, "amount": amount, "expected_close": close,
        "eval_need": "扩容", "eval_budget": "已批", "eval_timeline": "本季度", "eval_decision_makers": "主任",
    });
    let r = t.call(Method::POST, "/api/v1/opportunities", who, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.json()
}

/// Moves past the exit criteria with the owner's manager's (or the director's) override.
async fn force(t: &TestApp, who: &Auth, opp: &Value, body: Value) -> Value {
    let mut body = body;
    body["version"] = opp["version"].clone();
    body["override_reason"] = json!("已与客户确认");
    let r = t.call(Method::POST, &format!("/api/v1/opportunities/{}/stage", opp["id"]), who, Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()
}

fn region<'a>(report: &'a Value, code: &str) -> Option<&'a Value> {
    report["regions"].as_array().expect("regions").iter().find(|r| r["region"] == code)
}

fn stage<'a>(row: &'a Value, code: &str) -> &'a Value {
    row["stages"].as_array().expect("stages").iter().find(|s| s["stage"] == code).expect("stage")
}

/// Region N holds account_x (repA's), region E account_c (repC's).
async fn two_regions(t: &TestApp, w: &World) {
    let month = today().format("%Y-%m").to_string();
    let close = today().format("%Y-%m-%d").to_string();
    let r = t
        .call(
            Method::PUT,
            "/api/v1/quotas",
            &bearer(w, "director"),
            Some(json!({"month": month, "org": "N", "amount": "2000000.00"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let a = establish(t, &bearer(w, "repA"), w.account_x, "北区一期", "500000.00", &close).await;
    establish(t, &bearer(w, "repA"), w.account_x, "北区二期", "300000.00", &close).await;
    establish(t, &bearer(w, "repC"), w.account_c, "东区一期", "700000.00", &close).await;
    force(t, &bearer(w, "manager"), &a, json!({"stage": "won", "booked_amount": "450000.00", "booked_on": close}))
        .await;
}

#[tokio::test]
async fn sales_progress_by_region_shows_each_regions_quota_booked_and_pipeline_in_scope() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    two_regions(&t, &w).await;
    let r = t.get("/api/v1/reports/regions", &bearer(&w, "director")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let rep = r.json();
    let n = region(&rep, "N").expect("region N");
    assert_eq!(n["name"], "华北大区");
    assert_eq!(n["progress"]["quota"], "2000000.00", "the region's own quota");
    assert_eq!(n["progress"]["booked"], "450000.00", "won at the booked amount");
    assert_eq!(n["progress"]["remaining"], "1550000.00");
    assert_eq!(stage(n, "identified")["count"], 1);
    assert_eq!(stage(n, "identified")["amount"], "300000.00");
    assert_eq!(stage(n, "won")["count"], 1);
    assert_eq!(stage(n, "won")["amount"], "450000.00");
    assert_eq!(n["weighted_pipeline"], "30000.00", "300,000 at 10%; won is not pipeline");
    let e = region(&rep, "E").expect("region E");
    assert_eq!(stage(e, "identified")["amount"], "700000.00");
    // repA sees region N's accounts they hold, not region E's.
    let r = t.get("/api/v1/reports/regions", &bearer(&w, "repA")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let mine = r.json();
    assert_eq!(stage(region(&mine, "N").expect("N"), "identified")["count"], 1);
    assert!(
        region(&mine, "E").is_none_or(|e| stage(e, "identified")["count"] == 0),
        "another region's pipeline stays out of a rep's report: {mine}"
    );
    // The page shows the same, with a chart.
    let (sid, _) = t.ui_login("director", PASSWORD, None).await.expect("sign in");
    let page = t.get("/reports/regions", &session(&sid)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("data-region=\"N\"") && page.body.contains("华北大区"), "{}", page.body);
    assert!(page.body.contains("<svg"), "a server-drawn chart");
    assert!(page.body.contains("450,000.00") || page.body.contains("450000.00"), "booked shown");
    let bad = t.get("/api/v1/reports/regions?period=2026-13", &bearer(&w, "director")).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("period"), "{}", bad.body);
}

#[tokio::test]
async fn the_monthly_forecast_puts_each_open_deal_in_its_expected_month() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let this = month_start(0);
    let next = month_start(1);
    let ra = bearer(&w, "repA");
    let won = establish(&t, &ra, w.account_x, "本月签", "100000.00", &today().format("%Y-%m-%d").to_string()).await;
    force(
        &t,
        &bearer(&w, "manager"),
        &won,
        json!({"stage": "won", "booked_amount": "90000.00", "booked_on": today().format("%Y-%m-%d").to_string()}),
    )
    .await;
    let c = establish(&t, &ra, w.account_x, "下月承诺", "200000.00", &next.format("%Y-%m-15").to_string()).await;
    force(&t, &bearer(&w, "manager"), &c, json!({"stage": "committed"})).await;
    establish(&t, &ra, w.account_x, "下月发现", "1000000.00", &next.format("%Y-%m-20").to_string()).await;
    // Far beyond the eight months: not in the report.
    establish(&t, &ra, w.account_x, "两年后", "9000000.00", &month_start(24).format("%Y-%m-01").to_string()).await;
    let r = t.get("/api/v1/reports/monthly", &ra).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let months = r.json()["months"].as_array().expect("months").clone();
    assert_eq!(months.len(), 8, "two months back, this one, five ahead");
    assert_eq!(months[0]["month"], month_start(-2).format("%Y-%m").to_string());
    let m = |d: chrono::NaiveDate| {
        months.iter().find(|x| x["month"] == d.format("%Y-%m").to_string()).cloned().expect("month")
    };
    assert_eq!(m(this)["booked"], "90000.00");
    assert_eq!(m(this)["open_count"], 0);
    let n = m(next);
    assert_eq!(n["open_count"], 2);
    assert_eq!(n["pipeline"], "1200000.00");
    assert_eq!(n["weighted_pipeline"], "280000.00", "200,000 × 90% + 1,000,000 × 10%");
    assert_eq!(n["commit"], "200000.00");
    assert_eq!(n["best_case"], "200000.00");
    let total: i64 = months.iter().map(|x| x["open_count"].as_i64().expect("n")).sum();
    assert_eq!(total, 2, "the deal two years out is outside the report");
    // One person's: repB has nothing; an unknown person is a named error.
    let r = t.get("/api/v1/reports/monthly?owner=repB", &bearer(&w, "manager")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.json()["months"]
        .as_array()
        .expect("months")
        .iter()
        .all(|x| x["open_count"] == 0 && x["booked"] == "0.00"));
    let r = t.get("/api/v1/reports/monthly?owner=nobody", &bearer(&w, "manager")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("owner"));
    // repC sees none of repA's deals.
    let r = t.get("/api/v1/reports/monthly", &bearer(&w, "repC")).await;
    assert!(r.json()["months"].as_array().expect("months").iter().all(|x| x["open_count"] == 0), "{}", r.body);
    let (sid, _) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");
    let page = t.get("/reports/monthly", &session(&sid)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&format!("data-month=\"{}\"", next.format("%Y-%m"))), "{}", page.body);
    assert!(page.body.contains("<svg"));
}

#[tokio::test]
async fn every_report_downloads_as_csv_and_xlsx_with_the_pages_figures() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    two_regions(&t, &w).await;
    let d = bearer(&w, "director");
    // API: field codes as headers.
    let r = t.get("/api/v1/reports/funnel?format=csv", &d).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.headers[header::CONTENT_TYPE].to_str().expect("type").starts_with("text/csv"));
    let lines: Vec<&str> = r.body.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines[0], "stage,probability,count,amount,weighted");
    assert!(lines.contains(&"identified,10,2,1000000.00,100000.00"), "{lines:?}");
    assert!(lines.contains(&"won,100,1,450000.00,450000.00"), "{lines:?}");
    for path in [
        "/api/v1/reports/funnel?format=xlsx&org=N",
        "/api/v1/reports/v-value?format=xlsx",
        "/api/v1/reports/forecast?format=xlsx",
        "/api/v1/reports/regions?format=xlsx",
        "/api/v1/reports/monthly?format=xlsx",
    ] {
        let r = t.get(path, &d).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
        assert!(r.headers[header::CONTENT_TYPE].to_str().expect("type").contains("spreadsheetml"), "{path}");
        assert!(r.body.starts_with("PK"), "{path}: an XLSX (zip) file");
    }
    let r = t.get("/api/v1/reports/regions?format=csv", &d).await;
    let body = r.body.trim_start_matches('\u{feff}');
    assert!(body.lines().next().expect("header").starts_with("period,region,name,quota,booked,remaining"), "{body}");
    assert!(body.lines().any(|l| l.contains(",N,华北大区,2000000.00,450000.00,1550000.00")), "{body}");
    let r = t.get("/api/v1/reports/funnel?format=pdf", &d).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("format"), "{}", r.body);
    // The pages: headers in the user's language, the same scope as the page.
    let (sid, _) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");
    let funnel = t.get("/reports/funnel", &session(&sid)).await;
    assert!(funnel.body.contains("/reports/funnel/export?format=xlsx"), "the page offers the download");
    let r = t.get("/reports/funnel/export?format=csv", &session(&sid)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let body = r.body.trim_start_matches('\u{feff}');
    assert!(body.lines().next().expect("header").contains("阶段"), "Chinese headers: {body}");
    assert!(body.lines().any(|l| l.starts_with("识别 10%,10,1,300000.00")), "repA's own only: {body}");
    for report in ["v-value", "forecast", "regions", "monthly"] {
        let r = t.get(&format!("/reports/{report}/export?format=xlsx"), &session(&sid)).await;
        assert_eq!(r.status, StatusCode::OK, "{report}: {}", r.body);
        assert!(r.body.starts_with("PK"), "{report}");
    }
    let r = t.get("/reports/nothing/export?format=csv", &session(&sid)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}
