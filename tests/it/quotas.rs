//! Quotas, booked, remaining and the V value; the salesperson's day.
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{seed, Auth, TestApp, World, PASSWORD};

fn bearer(w: &World, user: &str) -> Auth {
    Auth::Bearer(w.tokens[user].clone())
}

fn today() -> String {
    chrono::Utc::now().date_naive().format("%Y-%m-%d").to_string()
}

fn this_month() -> String {
    today()[..7].to_string()
}

async fn establish(t: &TestApp, w: &World, who: &str, name: &str, amount: &str, close: &str) -> Value {
    let body = json!({
        "account_id": w.account_x, "name": name, "amount": amount, "expected_close": close,
        "eval_need": "扩容", "eval_budget": "已批", "eval_timeline": "本月", "eval_decision_makers": "主任",
    });
    let r = t.call(Method::POST, "/api/v1/opportunities", &bearer(w, who), Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.json()
}

async fn set_quota(t: &TestApp, who: &Auth, body: Value) -> crate::common::Resp {
    t.call(Method::PUT, "/api/v1/quotas", who, Some(body)).await
}

fn person<'a>(report: &'a Value, username: &str) -> Option<&'a Value> {
    report["people"].as_array().expect("people").iter().find(|p| p["key"] == username)
}

#[tokio::test]
async fn the_v_value_divides_the_pipeline_left_in_the_month_by_the_quota_left() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let month = this_month();
    // Only a manager sets a rep's quota; a rep does not set their own.
    let r = set_quota(&t, &bearer(&w, "repA"), json!({"month": month, "owner": "repA", "amount": "1000000.00"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = set_quota(&t, &bearer(&w, "manager"), json!({"month": month, "owner": "repA", "amount": 1000000})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "money as a JSON number is refused: {}", r.body);
    let r = set_quota(&t, &bearer(&w, "manager"), json!({"month": "2026-13", "owner": "repA", "amount": "1"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r =
        set_quota(&t, &bearer(&w, "manager"), json!({"month": month, "owner": "repA", "amount": "1000000.00"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // Booked 400,000 this month (won, through the manager's override); 900,000 open and expected
    // today; 5,000,000 open but expected next year, outside the month.
    let won = establish(&t, &w, "repA", "一期", "450000.00", &today()).await;
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/opportunities/{}/stage", won["id"]),
            &bearer(&w, "manager"),
            Some(json!({"stage": "won", "version": won["version"], "override_reason": "合同已签，补录",
                "booked_amount": "400000.00", "booked_on": today()})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    establish(&t, &w, "repA", "二期", "900000.00", &today()).await;
    let next_year = format!("{}-06-30", today()[..4].parse::<i32>().expect("year") + 1);
    establish(&t, &w, "repA", "三期", "5000000.00", &next_year).await;
    let r = t.get("/api/v1/reports/v-value", &bearer(&w, "manager")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let rep = person(&r.json(), "repA").cloned().expect("repA in the manager's report");
    assert_eq!(rep["quota"], "1000000.00");
    assert_eq!(rep["booked"], "400000.00");
    assert_eq!(rep["remaining"], "600000.00");
    assert_eq!(rep["pipeline"], "900000.00", "only what is expected in the rest of the month");
    assert_eq!(rep["weighted_pipeline"], "90000.00", "900,000 at 10%");
    assert_eq!(rep["v_value"], "1.50", "900,000 ÷ 600,000");
    // The manager's team adds up repA (and repB, who has nothing).
    let team =
        r.json()["teams"].as_array().expect("teams").iter().find(|x| x["key"] == "manager").cloned().expect("team");
    assert_eq!(team["booked"], "400000.00");
    // repB sees only their own line; an unknown period is refused.
    let other = t.get("/api/v1/reports/v-value", &bearer(&w, "repB")).await.json();
    assert!(person(&other, "repA").is_none(), "{other}");
    assert!(person(&other, "repB").is_some());
    let r = t.get("/api/v1/reports/v-value?period=2026-Q9", &bearer(&w, "manager")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Lower the quota below what was booked: the quota is met, not divided.
    let r =
        set_quota(&t, &bearer(&w, "manager"), json!({"month": month, "owner": "repA", "amount": "300000.00"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["version"], 2);
    let r = t.get("/api/v1/reports/v-value", &bearer(&w, "repA")).await.json();
    assert_eq!(person(&r, "repA").expect("own line")["v_value"], "quota_met");
    // Both changes are in the audit trail.
    let admin = Auth::Bearer(t.token("admin").await);
    let a = t.get("/api/v1/audit?entity=quota", &admin).await.json();
    assert_eq!(a["items"].as_array().expect("items").len(), 2, "{a}");
}

#[tokio::test]
async fn quotas_import_from_a_spreadsheet_all_or_nothing() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let month = this_month();
    let good = format!("月份,用户名,指标\n{month},repA,800000\n{month},repB,700000.50\n");
    let bad = format!("{good}{month},nobody,100\n2026-13,repA,5\n");
    let post = |body: String| {
        let t = &t;
        let tok = w.tokens["director"].clone();
        async move {
            let req = axum::http::Request::builder()
                .method(Method::POST)
                .uri("/api/v1/quotas/import")
                .header("authorization", format!("Bearer {tok}"))
                .body(axum::body::Body::from(body))
                .expect("req");
            t.send(req).await
        }
    };
    let r = post(bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let errs = r.json()["errors"].clone();
    assert_eq!(errs[0]["row"], 4, "{errs}");
    assert_eq!(errs[0]["column"], "owner");
    assert_eq!(errs[1]["row"], 5);
    assert_eq!(errs[1]["column"], "month");
    let rep = t.get("/api/v1/reports/v-value", &bearer(&w, "director")).await.json();
    assert_eq!(person(&rep, "repA").expect("repA")["quota"], Value::Null, "nothing was written");
    let r = post(good).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["created"], 2);
    let rep = t.get("/api/v1/reports/v-value", &bearer(&w, "director")).await.json();
    assert_eq!(person(&rep, "repA").expect("repA")["quota"], "800000.00");
    assert_eq!(person(&rep, "repB").expect("repB")["quota"], "700000.50");
    let region = rep["regions"].as_array().expect("regions").iter().find(|x| x["key"] == "N").cloned().expect("N");
    assert_eq!(region["quota"], "1500000.50", "the region adds up its people");
    // A quota set for the region itself is the region's quota; a manager may not set one.
    let body = json!({"month": month, "org": "N", "amount": "2000000.00"});
    let r = set_quota(&t, &bearer(&w, "manager"), body.clone()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = set_quota(&t, &bearer(&w, "director"), body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let rep = t.get("/api/v1/reports/v-value", &bearer(&w, "director")).await.json();
    let region = rep["regions"].as_array().expect("regions").iter().find(|x| x["key"] == "N").cloned().expect("N");
    assert_eq!(region["quota"], "2000000.00");
}

#[tokio::test]
async fn a_reps_day_lists_next_steps_due_and_deals_past_their_date() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let late = establish(&t, &w, "repA", "逾期项目", "100000.00", "2020-01-31").await;
    let due = establish(&t, &w, "repA", "待跟进项目", "200000.00", "2099-12-31").await;
    let r = t
        .call(
            Method::PATCH,
            &format!("/api/v1/opportunities/{}", due["id"]),
            &bearer(&w, "repA"),
            Some(json!({"version": due["version"], "next_step": "发送报价", "next_step_due": today()})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let d = t.get("/api/v1/me/today", &bearer(&w, "repA")).await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.body);
    let d = d.json();
    assert_eq!(d["overdue_deals"][0]["id"], late["id"]);
    assert_eq!(d["overdue_deals"].as_array().expect("list").len(), 1);
    assert_eq!(d["next_steps_due"][0]["id"], due["id"]);
    // The pages: the rep's day, and the manager's report with the quota form.
    let (sid, _) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");
    let page = t.get("/today", &Auth::Session { cookie: sid, csrf: String::new() }).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("逾期项目") && page.body.contains("发送报价"), "{}", page.body);
    assert!(page.body.contains("未设指标"), "no quota is said in words");
    let (msid, mcsrf) = t.ui_login("manager", PASSWORD, None).await.expect("sign in");
    let month = this_month();
    let r = t
        .ui_post("/quotas", &msid, &[("_csrf", &mcsrf), ("month", &month), ("owner", "repA"), ("amount", "abc")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"quota-errors\""), "{}", r.body);
    let r = t
        .ui_post("/quotas", &msid, &[("_csrf", &mcsrf), ("month", &month), ("owner", "repA"), ("amount", "500000")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page =
        t.get(&format!("/reports/v-value?period={month}"), &Auth::Session { cookie: msid, csrf: String::new() }).await;
    assert!(page.body.contains("data-key=\"repA\""), "{}", page.body);
    assert!(page.body.contains("500,000.00"));
}
