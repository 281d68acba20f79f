//! Candidates by rule and the development of target accounts (issue 22 items 7 and 9): the
//! identification criteria as a company setting, the candidate list with the criteria each
//! account meets, proposing one (it becomes a candidate, its owner is asked to screen it), the
//! development plan (versioned, with history), follow-ups after visits to prospects, and the
//! development record showing the plan — through the API, on whichever backend the suite runs on.
use axum::http::{Method, StatusCode};
use chrono::{Duration, Utc};
use serde_json::{json, Value};
use sqlx::Row;

use super::common::{download, fields, seed, xlsx_rows, Auth, TestApp, World};
use kam::app::customers::accounts;
use kam::app::Ctx;

fn bearer(w: &World, user: &str) -> Auth {
    Auth::Bearer(w.tokens[user].clone())
}

async fn id_of(t: &TestApp, table: &str, col: &str, v: &str) -> i64 {
    sqlx::query(&format!("SELECT id FROM {table} WHERE {col} = $1"))
        .bind(v)
        .fetch_one(&t.db().pool)
        .await
        .expect("row")
        .try_get("id")
        .expect("id")
}

/// A prospect owned by repA in the given region and branch.
async fn prospect(t: &TestApp, name: &str, industry: &str, region: &str, branch: &str, buying_power_fen: i64) -> i64 {
    let ctx = Ctx::system();
    let mut tx = t.db().begin().await.expect("tx");
    let d = accounts::AccountData {
        name: name.into(),
        industry: industry.into(),
        level: "L2".into(),
        status: "prospect".into(),
        region_id: Some(id_of(t, "org_units", "code", region).await),
        branch_id: Some(id_of(t, "org_units", "code", branch).await),
        owner_id: Some(id_of(t, "users", "username", "repA").await),
        buying_power: Some(buying_power_fen),
        ..Default::default()
    };
    let id = accounts::insert(&mut tx, &ctx, &d).await.expect("account");
    tx.commit().await.expect("commit");
    id
}

async fn criteria(t: &TestApp, w: &World, who: &str, body: Value) -> (StatusCode, Value) {
    let r = t.call(Method::PUT, "/api/v1/settings/candidate-criteria", &bearer(w, who), Some(body)).await;
    let v = if r.body.is_empty() { Value::Null } else { r.json() };
    (r.status, v)
}

fn ids(page: &Value) -> Vec<i64> {
    page["items"].as_array().expect("items").iter().map(|i| i["account_id"].as_i64().expect("id")).collect()
}

#[tokio::test]
async fn the_criteria_are_a_setting_with_defaults_validated_and_versioned() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let c = t.get("/api/v1/settings/candidate-criteria", &bearer(&w, "repA")).await.json();
    assert_eq!(c["is_default"], true, "{c}");
    assert_eq!(c["version"], 0);
    assert_eq!(c["min_buying_power"], "5000000.00");
    assert_eq!(c["required"], 2);
    assert_eq!(c["used"], json!(["buying_power", "sales_12m", "market_influence", "loyalty"]));

    // Bad input names each field and changes nothing.
    let bad = json!({"min_buying_power": "-5", "min_sales_12m": "12.345", "industries": ["power", "mining", "power"],
        "regions": ["NOWHERE"], "min_market_influence": 6, "min_loyalty": 0, "required": 9, "version": 0});
    let r = t.call(Method::PUT, "/api/v1/settings/candidate-criteria", &bearer(&w, "director"), Some(bad)).await;
    let f = fields(&r);
    for k in [
        "min_buying_power",
        "min_sales_12m",
        "industries[1]",
        "industries[2]",
        "regions[0]",
        "min_market_influence",
        "min_loyalty",
        "required",
    ] {
        assert!(f.contains_key(k), "{k} in {f:?}");
    }
    let none = json!({"industries": [], "regions": [], "required": 1, "version": 0});
    let (st, v) = criteria(&t, &w, "director", none).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"]["details"]["fields"]["required"]["code"], "criteria_none");
    assert_eq!(t.get("/api/v1/settings/candidate-criteria", &bearer(&w, "admin")).await.json()["version"], 0);

    // A rep may not change them; the director may, over the version read.
    let good = json!({"min_buying_power": "3000000", "industries": ["power"], "regions": ["N"],
        "required": 2, "version": 0});
    let (st, _) = criteria(&t, &w, "repA", good.clone()).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, v) = criteria(&t, &w, "director", good.clone()).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["version"], 1);
    assert_eq!(v["is_default"], false);
    assert_eq!(v["min_buying_power"], "3000000.00");
    assert_eq!(v["min_sales_12m"], Value::Null);
    assert_eq!(v["used"], json!(["buying_power", "industry", "region"]));
    let (st, _) = criteria(&t, &w, "director", good).await;
    assert_eq!(st, StatusCode::CONFLICT, "a stale version");
    let n: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM audit_log WHERE entity = 'settings' AND entity_id = 'candidate_criteria'",
    )
    .fetch_one(&t.db().pool)
    .await
    .expect("audit")
    .try_get("n")
    .expect("n");
    assert_eq!(n, 1, "audited once");
}

#[tokio::test]
async fn the_director_sees_prospects_meeting_the_criteria_and_proposing_one_makes_it_a_candidate() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (st, v) = criteria(
        &t,
        &w,
        "director",
        json!({"min_buying_power": "5000000", "industries": ["power"], "regions": ["N"], "required": 2, "version": 0}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    // Meets all three; meets two (power, 600万, but in the east); meets one; deleted.
    let big = prospect(&t, "华北电网物资有限公司", "power", "N", "BJ", 600_000_000).await;
    let east = prospect(&t, "华东电力设备有限公司", "power", "E", "SH", 800_000_000).await;
    let small = prospect(&t, "天津小型机械厂", "enterprise", "N", "TJ", 100_000_000).await;
    let gone = prospect(&t, "已删除电力公司", "power", "N", "BJ", 900_000_000).await;
    sqlx::query("UPDATE accounts SET deleted_at = '2026-01-01T00:00:00Z' WHERE id = $1")
        .bind(gone)
        .execute(&t.db().pool)
        .await
        .expect("delete");

    let director = bearer(&w, "director");
    let page = t.get("/api/v1/candidates", &director).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let page = page.json();
    assert_eq!(
        ids(&page),
        vec![east, big],
        "the largest buying power first; not {small}, the key account or the deleted"
    );
    assert_eq!(page["items"][0]["criteria_met"], json!(["buying_power", "industry"]));
    assert_eq!(page["items"][1]["criteria_met"], json!(["buying_power", "industry", "region"]));
    assert_eq!(page["items"][1]["region_name"], "华北大区");
    assert_eq!(page["items"][1]["owner_name"], "repA");
    // Filters, sort and paging.
    assert_eq!(ids(&t.get("/api/v1/candidates?org=BJ", &director).await.json()), vec![big]);
    // A code longer than any (100 characters) is refused by name, for the list and the export.
    for path in ["/api/v1/candidates", "/api/v1/candidates/export"] {
        let r = t.get(&format!("{path}?org={}", "0".repeat(101)), &director).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {}", r.body);
        assert_eq!(r.json()["error"]["details"]["fields"]["org"]["code"], "too_long", "{}", r.body);
    }
    let mut by_name = ids(&t.get("/api/v1/candidates?sort=name", &director).await.json());
    by_name.sort();
    assert_eq!(by_name, vec![big, east]);
    let p1 = t.get("/api/v1/candidates?limit=1", &director).await.json();
    assert_eq!(ids(&p1), vec![east]);
    let cursor = p1["next_cursor"].as_str().expect("a next page");
    let p2 = t.get(&format!("/api/v1/candidates?limit=1&cursor={cursor}"), &director).await.json();
    assert_eq!(ids(&p2), vec![big]);
    assert_eq!(p2["next_cursor"], Value::Null);
    // The export.
    let (st, _, bytes) = download(&t, "/api/v1/candidates/export?format=xlsx", &director).await;
    assert_eq!(st, StatusCode::OK);
    let rows = xlsx_rows(bytes, "candidates");
    assert_eq!(rows.len(), 3, "a header and two candidates");
    // Only those who decide screenings.
    for who in ["repA", "manager", "region", "finance"] {
        let r = t.get("/api/v1/candidates", &bearer(&w, who)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{who}: {}", r.body);
    }

    // Proposing one that does not meet the criteria is refused, nothing changed.
    let r = t.call(Method::POST, &format!("/api/v1/candidates/{small}/propose"), &director, Some(json!({}))).await;
    assert_eq!(fields(&r).get("account_id").map(String::as_str), Some("criteria_not_met"));
    let r = t.call(Method::POST, &format!("/api/v1/candidates/{gone}/propose"), &director, Some(json!({}))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r =
        t.call(Method::POST, &format!("/api/v1/candidates/{big}/propose"), &bearer(&w, "repA"), Some(json!({}))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);

    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/candidates/{big}/propose"),
            &director,
            Some(json!({"note": "电力行业标杆"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let p = r.json();
    assert_eq!(p["status"], "candidate");
    assert_eq!(p["criteria_met"], json!(["buying_power", "industry", "region"]));
    let acc = t.get(&format!("/api/v1/accounts/{big}"), &bearer(&w, "repA")).await.json();
    assert_eq!(acc["status"], "candidate", "{acc}");
    assert_eq!(ids(&t.get("/api/v1/candidates", &director).await.json()), vec![east], "no longer a prospect");
    // The owner is asked to complete the screening; the proposal is audited.
    let notes = t.get("/api/v1/notifications", &bearer(&w, "repA")).await.json();
    let asked = notes["items"].as_array().expect("items").iter().any(|n| n["kind"] == "candidate_proposed");
    assert!(asked, "{notes}");
    let n: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM audit_log WHERE entity = 'account' AND entity_id = $1 AND action = 'propose_candidate'",
    )
    .bind(big.to_string())
    .fetch_one(&t.db().pool)
    .await
    .expect("audit")
    .try_get("n")
    .expect("n");
    assert_eq!(n, 1);
    // No screening is submitted for the owner: completing it is the owner's.
    let s = t.get(&format!("/api/v1/accounts/{big}/screenings"), &bearer(&w, "repA")).await.json();
    assert_eq!(s["items"], json!([]), "{s}");
}

fn plan(version: i64) -> Value {
    json!({
        "dev_value": "年采购量约 8000 万元，可带动区域内地市公司",
        "advantages": "本地化服务团队，48 小时到场",
        "method": "邀请参加产品推广会，随后上门拜访设备部",
        "competitors": [{"name": "华测仪器", "position": "现有供应商，份额约 60%"}],
        "steps": [{"step": "寄送推广会邀请函", "owner": "repA", "due_on": "2027-03-01", "done": false}],
        "market_influence": 5, "loyalty": 4, "version": version
    })
}

#[tokio::test]
async fn the_development_plan_is_saved_versioned_with_history_and_shown_on_the_development_record() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let acc = w.account_c; // a prospect of repC
    let rep = bearer(&w, "repC");
    let path = format!("/api/v1/accounts/{acc}/development-plan");
    let empty = t.get(&path, &rep).await.json();
    assert_eq!(empty["plan"], Value::Null, "{empty}");
    assert_eq!(empty["version"], 0);
    assert_eq!(empty["editable"], true);

    // Too long, bad rows: 422 naming the fields, never cut, nothing saved.
    let mut bad = plan(0);
    bad["advantages"] = json!("优".repeat(4001));
    bad["competitors"] = json!([{"name": "", "position": "x"}]);
    bad["steps"] = json!([{"step": "拜访", "owner": "nobody", "due_on": "2027-02-30"}]);
    bad["loyalty"] = json!(6);
    let f = fields(&t.call(Method::PUT, &path, &rep, Some(bad)).await);
    assert_eq!(f.get("advantages").map(String::as_str), Some("too_long"), "{f:?}");
    assert_eq!(f.get("competitors[0].name").map(String::as_str), Some("required"));
    assert_eq!(f.get("steps[0].owner").map(String::as_str), Some("unknown_user"));
    assert_eq!(f.get("steps[0].due_on").map(String::as_str), Some("date_format"));
    assert_eq!(f.get("loyalty").map(String::as_str), Some("score_range"));
    assert_eq!(t.get(&path, &rep).await.json()["version"], 0);

    // Someone who does not see the account: 404.
    let r = t.call(Method::PUT, &path, &bearer(&w, "repA"), Some(plan(0))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);

    let r = t.call(Method::PUT, &path, &rep, Some(plan(0))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v = r.json();
    assert_eq!(v["version"], 1);
    assert_eq!(v["plan"]["steps"][0]["owner_name"], "repA");
    assert_eq!(v["plan"]["competitors"][0]["name"], "华测仪器");
    let mut second = plan(1);
    second["steps"][0]["done"] = json!(true);
    second["method"] = json!("产品推广会后由大区经理上门拜访");
    let v = t.call(Method::PUT, &path, &rep, Some(second)).await.json();
    assert_eq!(v["version"], 2, "{v}");
    assert_eq!(v["plan"]["steps"][0]["done"], true);
    // A stale save: 409, nothing changed.
    let r = t.call(Method::PUT, &path, &rep, Some(plan(1))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let v = t.get(&path, &bearer(&w, "director")).await.json();
    assert_eq!(v["version"], 2);
    let history: Vec<i64> =
        v["history"].as_array().expect("history").iter().map(|h| h["version"].as_i64().expect("v")).collect();
    assert_eq!(history, vec![2, 1]);
    assert_eq!(v["history"][1]["plan"]["method"], "邀请参加产品推广会，随后上门拜访设备部");
    assert_eq!(v["history"][0]["saved_by"], "repC");
    let n: i64 =
        sqlx::query("SELECT COUNT(*) AS n FROM audit_log WHERE entity = 'development_plan' AND entity_id = $1")
            .bind(acc.to_string())
            .fetch_one(&t.db().pool)
            .await
            .expect("audit")
            .try_get("n")
            .expect("n");
    assert_eq!(n, 2);

    // The development record shows the plan beside the activities.
    let d = t.get(&format!("/api/v1/accounts/{acc}/development"), &rep).await.json();
    assert_eq!(d["plan"]["method"], "产品推广会后由大区经理上门拜访", "{d}");
    assert_eq!(d["plan"]["competitors"][0]["position"], "现有供应商，份额约 60%");
    // And on the account page.
    let (cookie, csrf) = t.ui_login("repC", super::common::PASSWORD, None).await.expect("login");
    let session = Auth::Session { cookie, csrf };
    let page = t.get(&format!("/accounts/{acc}"), &session).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"development-plan\""), "the plan's section");
    assert!(page.body.contains("产品推广会后由大区经理上门拜访"));
    // The plan printed (A4): its texts, competitors and steps; none for who cannot see the account.
    let form = t.get(&format!("/accounts/{acc}/development-plan"), &session).await;
    assert!(form.body.contains(&format!("href=\"/accounts/{acc}/development-plan/print\"")), "{}", form.body);
    let print = t.get(&format!("/accounts/{acc}/development-plan/print"), &session).await;
    assert_eq!(print.status, StatusCode::OK, "{}", print.body);
    assert!(print.body.contains("/static/print.css") && print.body.contains("大客户开发方案"), "{}", print.body);
    assert!(print.body.contains("产品推广会后由大区经理上门拜访") && print.body.contains("现有供应商，份额约 60%"));
    let (cookie, csrf) = t.ui_login("repA", super::common::PASSWORD, None).await.expect("login");
    let other = Auth::Session { cookie, csrf };
    let hidden = t.get(&format!("/accounts/{acc}/development-plan/print"), &other).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);

    // The plan's assessment counts for the criteria: influence 5 and loyalty 4 meet the
    // defaults' two (the prospect has no buying power or sales).
    let list = t.get("/api/v1/candidates", &bearer(&w, "director")).await.json();
    assert_eq!(ids(&list), vec![acc], "{list}");
    assert_eq!(list["items"][0]["criteria_met"], json!(["market_influence", "loyalty"]));

    // A key account takes no plan.
    let r = t
        .call(
            Method::PUT,
            &format!("/api/v1/accounts/{}/development-plan", w.account_x),
            &bearer(&w, "repA"),
            Some(plan(0)),
        )
        .await;
    assert_eq!(fields(&r).get("status").map(String::as_str), Some("plan_not_target"));
}

#[tokio::test]
async fn a_visit_to_a_prospect_asks_for_a_follow_up_within_seven_days() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = bearer(&w, "repC");
    let at = Utc::now() - Duration::days(2);
    let body = json!({
        "account_id": w.account_c, "kind": "visit", "status": "done",
        "occurred_at": at.to_rfc3339(), "outcome": "problem_solved", "problems": "设备校准偏差，现场重新标定"
    });
    let r = t.call(Method::POST, "/api/v1/activities", &rep, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let v = r.json();
    let day = at.with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
    assert_eq!(v["follow_up_due"], (day + Duration::days(7)).format("%Y-%m-%d").to_string(), "{v}");
    let f = t.get("/api/v1/follow-ups", &rep).await.json();
    assert_eq!(f["items"][0]["account_id"], w.account_c, "{f}");
}
