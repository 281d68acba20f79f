//! KPI performance contracts and team performance (issue 25 items 5–6): the weighted score with
//! and without the veto item; weights not summing to 100 % and a role without a template are
//! 422 naming the field, nothing saved; the coefficient's cap (1.0 ok, 1.01 refused); the
//! promotion flag after three closed years at 90 % and not after two; a rep cannot read another
//! rep's contract; the scorecard page and its XLSX show the numbers.
use axum::http::{Method, StatusCode};
use chrono::{Datelike, Utc};
use serde_json::{json, Value};

use crate::common::{download, fields, seed, xlsx_rows, Auth, TestApp, World, PASSWORD};

fn bearer(w: &World, user: &str) -> Auth {
    Auth::Bearer(w.tokens[user].clone())
}

fn year() -> i64 {
    Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive().year() as i64
}

async fn user_id(t: &TestApp, username: &str) -> i64 {
    sqlx::Row::try_get(
        &sqlx::query("SELECT id FROM users WHERE username = $1")
            .bind(username)
            .fetch_one(&t.db().pool)
            .await
            .expect("user"),
        "id",
    )
    .expect("id")
}

async fn org(t: &TestApp, code: &str) -> i64 {
    sqlx::Row::try_get(
        &sqlx::query("SELECT id FROM org_units WHERE code = $1").bind(code).fetch_one(&t.db().pool).await.expect("org"),
        "id",
    )
    .expect("id")
}

async fn count(t: &TestApp, table: &str) -> i64 {
    sqlx::Row::try_get(
        &sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}")).fetch_one(&t.db().pool).await.expect("count"),
        "n",
    )
    .expect("n")
}

fn ok(r: crate::common::Resp, status: StatusCode) -> Value {
    assert_eq!(r.status, status, "{}", r.body);
    r.json()
}

fn manual(key: &str, name: &str, weight: i64, target: &str) -> Value {
    json!({"key": key, "category": "management", "name": name, "measure": "manual", "kind": "percent", "unit": "%",
        "weight": weight, "target": target})
}

/// The KA director saves a rep template of manual indicators (so the test sets every actual).
async fn rep_template(t: &TestApp, w: &World, indicators: Value) {
    let director = bearer(w, "director");
    let cur = ok(t.get("/api/v1/kpi/templates", &director).await, StatusCode::OK);
    let mut templates = cur["templates"].as_array().expect("templates").clone();
    for tpl in templates.iter_mut() {
        if tpl["role"] == "ka_rep" {
            tpl["indicators"] = indicators.clone();
        }
    }
    let body = json!({"cap_pct": 120, "templates": templates, "version": cur["version"]});
    ok(t.call(Method::PUT, "/api/v1/kpi/templates", &director, Some(body)).await, StatusCode::OK);
}

async fn contract(t: &TestApp, who: &Auth, user: i64, year: i64, bonus: &str) -> Value {
    let body = json!({"user_id": user, "year": year, "bonus_base": bonus});
    ok(t.call(Method::POST, "/api/v1/kpi/contracts", who, Some(body)).await, StatusCode::CREATED)
}

async fn actual(t: &TestApp, who: &Auth, id: i64, indicator: &str, period: &str, value: &str) -> Value {
    let body = json!({"indicator": indicator, "period": period, "value": value, "version": 0});
    ok(t.call(Method::POST, &format!("/api/v1/kpi/contracts/{id}/actuals"), who, Some(body)).await, StatusCode::OK)
}

#[tokio::test]
async fn the_builtin_templates_follow_the_three_samples_and_bad_weights_or_roles_are_refused() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let director = bearer(&w, "director");
    let cur = ok(t.get("/api/v1/kpi/templates", &director).await, StatusCode::OK);
    assert_eq!(cur["saved"], false);
    assert_eq!(cur["cap_pct"], 120);
    let roles: Vec<&str> =
        cur["templates"].as_array().expect("t").iter().map(|t| t["role"].as_str().unwrap_or("")).collect();
    assert_eq!(roles, ["ka_director", "ka_manager", "ka_rep"]);
    for tpl in cur["templates"].as_array().expect("t") {
        let sum: i64 = tpl["indicators"].as_array().expect("i").iter().map(|i| i["weight"].as_i64().unwrap_or(0)).sum();
        assert_eq!(sum, 100, "{}", tpl["title"]);
    }
    // Weights of 90 %: 422 naming the template's indicators, nothing saved.
    let mut templates = cur["templates"].as_array().expect("t").clone();
    templates[2]["indicators"][0]["weight"] = json!(5);
    let body = json!({"cap_pct": 120, "templates": templates, "version": 0});
    let r = t.call(Method::PUT, "/api/v1/kpi/templates", &director, Some(body)).await;
    assert_eq!(fields(&r).get("templates[2].indicators").map(String::as_str), Some("weights_not_100"), "{}", r.body);
    assert_eq!(ok(t.get("/api/v1/kpi/templates", &director).await, StatusCode::OK)["saved"], false);
    // A rep cannot change them.
    let r = t
        .call(
            Method::PUT,
            "/api/v1/kpi/templates",
            &bearer(&w, "repA"),
            Some(json!({"cap_pct": 120, "templates": [], "version": 0})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);

    // A contract's weights not summing to 100: 422 `indicators`.
    let rep_a = user_id(&t, "repA").await;
    let mut inds = cur["templates"][2]["indicators"].clone();
    inds[0]["weight"] = json!(20);
    let body = json!({"user_id": rep_a, "year": year(), "indicators": inds});
    let r = t.call(Method::POST, "/api/v1/kpi/contracts", &director, Some(body)).await;
    assert_eq!(fields(&r).get("indicators").map(String::as_str), Some("weights_not_100"));
    // Inside sales has no template: 422 `user_id` no_template, nothing saved.
    let r = t
        .call(
            Method::POST,
            "/api/v1/users",
            &bearer(&w, "admin"),
            Some(json!({"username": "inside1", "role": "inside_sales",
            "org_unit": "BJ", "password": "kpi-pass-1234", "display_name": "内勤一号", "manager": "manager"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let inside = user_id(&t, "inside1").await;
    let r = t
        .call(Method::POST, "/api/v1/kpi/contracts", &director, Some(json!({"user_id": inside, "year": year()})))
        .await;
    assert_eq!(fields(&r).get("user_id").map(String::as_str), Some("no_template"));
    assert_eq!(count(&t, "kpi_contracts").await, 0);
    // A rep issues no contract (their own or anyone's).
    let r = t
        .call(
            Method::POST,
            "/api/v1/kpi/contracts",
            &bearer(&w, "repA"),
            Some(json!({"user_id": rep_a, "year": year()})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    // The template's contract: issued by the rep's manager, the rep's title and every indicator.
    let c = contract(&t, &bearer(&w, "manager"), rep_a, year(), "50000.00").await;
    assert_eq!(c["title"], "大客户销售代表业绩合同");
    assert_eq!(c["issuer_name"], "manager");
    assert_eq!(c["indicators"].as_array().map(Vec::len), Some(10));
    let r =
        t.call(Method::POST, "/api/v1/kpi/contracts", &director, Some(json!({"user_id": rep_a, "year": year()}))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
}

#[tokio::test]
async fn the_weighted_score_is_capped_and_zero_when_the_veto_item_is_hit() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    rep_template(
        &t,
        &w,
        json!([manual("quality", "服务质量", 60, "100.00"), manual("ledger", "台账吻合度", 40, "80.00")]),
    )
    .await;
    let manager = bearer(&w, "manager");
    let rep = bearer(&w, "repA");
    let rep_a = user_id(&t, "repA").await;
    let y = year();
    let c = contract(&t, &manager, rep_a, y, "50000.00").await;
    let id = c["id"].as_i64().expect("id");
    assert_eq!(c["state"], "issued");
    // Both sign: who and when.
    let c = ok(
        t.call(
            Method::POST,
            &format!("/api/v1/kpi/contracts/{id}/acknowledge"),
            &rep,
            Some(json!({"version": c["version"]})),
        )
        .await,
        StatusCode::OK,
    );
    assert!(c["holder_ack_at"].is_string());
    assert_eq!(c["state"], "issued");
    let c = ok(
        t.call(
            Method::POST,
            &format!("/api/v1/kpi/contracts/{id}/acknowledge"),
            &manager,
            Some(json!({"version": c["version"]})),
        )
        .await,
        StatusCode::OK,
    );
    assert_eq!(c["state"], "acknowledged");
    assert_eq!(c["issuer_ack_name"], "manager");
    // The rep enters no actual; a computed indicator takes none.
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/kpi/contracts/{id}/actuals"),
            &rep,
            Some(json!({"indicator": "quality", "period": y.to_string(), "value": "90", "version": 0})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    // 90 of 100 at 60 % → 54.00; 100 of 80 is 125 %, capped at 120 % × 40 % → 48.00; 102.00.
    actual(&t, &manager, id, "quality", &y.to_string(), "90.00").await;
    actual(&t, &manager, id, "ledger", &y.to_string(), "100.00").await;
    let card = ok(t.get(&format!("/api/v1/kpi/scorecards/people/{rep_a}?period={y}"), &rep).await, StatusCode::OK);
    let line =
        |k: &str| card["indicators"].as_array().expect("i").iter().find(|i| i["key"] == k).cloned().expect("line");
    assert_eq!(line("quality")["achievement"], "90.00");
    assert_eq!(line("quality")["points"], "54.00");
    assert_eq!(line("ledger")["achievement"], "120.00");
    assert_eq!(line("ledger")["points"], "48.00");
    assert_eq!(card["weighted"], "102.00");
    assert_eq!(card["score"], "102.00");
    assert_eq!(card["veto_hit"], false);
    // A quarter without its own actuals: nothing entered, nothing earned.
    let q = ok(t.get(&format!("/api/v1/kpi/scorecards/people/{rep_a}?period={y}-Q1"), &rep).await, StatusCode::OK);
    assert_eq!(q["score"], "0.00");
    // The veto item hit (a reason is required): the score is zero, the points stay shown.
    let v = ok(t.get(&format!("/api/v1/kpi/contracts/{id}"), &manager).await, StatusCode::OK);
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/kpi/contracts/{id}/veto"),
            &manager,
            Some(json!({"hit": true, "version": v["version"]})),
        )
        .await;
    assert_eq!(fields(&r).get("reason").map(String::as_str), Some("required"));
    ok(
        t.call(
            Method::POST,
            &format!("/api/v1/kpi/contracts/{id}/veto"),
            &manager,
            Some(json!({"hit": true, "reason": "重大客户投诉", "version": v["version"]})),
        )
        .await,
        StatusCode::OK,
    );
    let card = ok(t.get(&format!("/api/v1/kpi/scorecards/people/{rep_a}?period={y}"), &rep).await, StatusCode::OK);
    assert_eq!(card["veto_hit"], true);
    assert_eq!(card["veto_reason"], "重大客户投诉");
    assert_eq!(card["weighted"], "102.00");
    assert_eq!(card["score"], "0.00");
    // A stale version is 409.
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/kpi/contracts/{id}/veto"),
            &manager,
            Some(json!({"hit": false, "version": v["version"]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    // The team's and the department's scorecards list the rep with the same score.
    let bj = org(&t, "BJ").await;
    let team = ok(t.get(&format!("/api/v1/kpi/scorecards/teams/{bj}?period={y}"), &manager).await, StatusCode::OK);
    assert_eq!(team["people"][0]["holder_name"], "repA");
    assert_eq!(team["vetoed"], 1);
    let dept = ok(
        t.get(&format!("/api/v1/kpi/scorecards/department?period={y}"), &bearer(&w, "director")).await,
        StatusCode::OK,
    );
    assert_eq!(dept["people"].as_array().map(Vec::len), Some(1));
    let r = t.get(&format!("/api/v1/kpi/scorecards/department?period={y}"), &manager).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_coefficient_is_at_most_one_and_multiplies_the_bonus_base() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let director = bearer(&w, "director");
    let rep_a = user_id(&t, "repA").await;
    let y = year();
    contract(&t, &bearer(&w, "manager"), rep_a, y, "50000.00").await;
    let bj = org(&t, "BJ").await;
    let set = |c: &str, v: i64| json!({"org_unit_id": bj, "period": y.to_string(), "coefficient": c, "version": v});
    let k = ok(t.call(Method::PUT, "/api/v1/kpi/coefficients", &director, Some(set("1.0", 0))).await, StatusCode::OK);
    assert_eq!(k["coefficient"], "1.0");
    let card = ok(
        t.get(&format!("/api/v1/kpi/scorecards/people/{rep_a}?period={y}"), &bearer(&w, "repA")).await,
        StatusCode::OK,
    );
    assert_eq!(card["coefficient"], "1.0");
    assert_eq!(card["bonus"], "50000.00");
    // 1.01: 422 naming the coefficient, nothing saved.
    let r = t
        .call(Method::PUT, "/api/v1/kpi/coefficients", &director, Some(set("1.01", k["version"].as_i64().unwrap_or(0))))
        .await;
    assert_eq!(fields(&r).get("coefficient").map(String::as_str), Some("coefficient_above_one"));
    let list = ok(t.get(&format!("/api/v1/kpi/coefficients?year={y}"), &director).await, StatusCode::OK);
    assert_eq!(list["items"][0]["coefficient"], "1.0");
    assert_eq!(list["items"][0]["version"], 1);
    // 0.9 for the first quarter: the quarter's scorecard takes it, the year keeps 1.0.
    let q = json!({"org_unit_id": bj, "period": format!("{y}-Q1"), "coefficient": "0.9", "version": 0});
    ok(t.call(Method::PUT, "/api/v1/kpi/coefficients", &director, Some(q)).await, StatusCode::OK);
    let card =
        ok(t.get(&format!("/api/v1/kpi/scorecards/people/{rep_a}?period={y}-Q1"), &director).await, StatusCode::OK);
    assert_eq!(card["coefficient"], "0.9");
    assert_eq!(card["bonus"], "45000.00");
    // A rep sets none.
    let r = t.call(Method::PUT, "/api/v1/kpi/coefficients", &bearer(&w, "repA"), Some(set("0.5", 1))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // The quarter's evaluation by the team's manager, and an award.
    let e = json!({"org_unit_id": bj, "period": format!("{y}-Q1"), "targets_met": "完成季度目标的96%", "met_pct": "96.00",
        "next_targets": "新签三家重点客户", "next_revenue": "3000000.00", "version": 0});
    let ev =
        ok(t.call(Method::POST, "/api/v1/kpi/team-evaluations", &bearer(&w, "manager"), Some(e)).await, StatusCode::OK);
    assert_eq!(ev["met_pct"], "96.00");
    assert_eq!(ev["recorded_by_name"], "manager");
    let a = json!({"kind": "best_team", "period": y.to_string(), "org_unit_id": bj, "title": "年度最佳团队"});
    let aw = ok(t.call(Method::POST, "/api/v1/kpi/awards", &director, Some(a)).await, StatusCode::CREATED);
    assert_eq!(aw["team_name"], "北京分公司");
    let a = json!({"kind": "quarterly", "period": y.to_string(), "user_id": rep_a, "title": "季度销售之星"});
    let r = t.call(Method::POST, "/api/v1/kpi/awards", &director, Some(a)).await;
    assert_eq!(fields(&r).get("period").map(String::as_str), Some("quarter_format"));
}

#[tokio::test]
async fn three_closed_years_at_ninety_percent_flag_a_promotion_and_two_do_not() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    rep_template(&t, &w, json!([manual("quality", "服务质量", 100, "100.00")])).await;
    let manager = bearer(&w, "manager");
    let rep_a = user_id(&t, "repA").await;
    let y = year();
    let mut ids = vec![];
    for yr in [y - 3, y - 2, y - 1] {
        let c = contract(&t, &manager, rep_a, yr, "40000.00").await;
        let id = c["id"].as_i64().expect("id");
        actual(&t, &manager, id, "quality", &yr.to_string(), "90.00").await;
        ids.push(id);
    }
    contract(&t, &manager, rep_a, y, "40000.00").await;
    let close = |id: i64| {
        let t = &t;
        let manager = &manager;
        async move {
            let v = ok(t.get(&format!("/api/v1/kpi/contracts/{id}"), manager).await, StatusCode::OK);
            ok(
                t.call(
                    Method::POST,
                    &format!("/api/v1/kpi/contracts/{id}/close"),
                    manager,
                    Some(json!({"version": v["version"]})),
                )
                .await,
                StatusCode::OK,
            )
        }
    };
    let c = close(ids[0]).await;
    assert_eq!(c["final_score"], "90.00");
    assert_eq!(c["state"], "closed");
    close(ids[1]).await;
    // Two years at 90 % are not enough.
    let p = ok(t.get("/api/v1/kpi/promotions", &manager).await, StatusCode::OK);
    assert_eq!(p["items"].as_array().map(Vec::len), Some(0), "{p}");
    let card = ok(t.get(&format!("/api/v1/kpi/scorecards/people/{rep_a}?period={y}"), &manager).await, StatusCode::OK);
    assert_eq!(card["promotion"], false);
    close(ids[2]).await;
    let p = ok(t.get("/api/v1/kpi/promotions", &manager).await, StatusCode::OK);
    assert_eq!(p["items"][0]["name"], "repA", "{p}");
    assert_eq!(p["items"][0]["years"].as_array().map(Vec::len), Some(3));
    let card = ok(t.get(&format!("/api/v1/kpi/scorecards/people/{rep_a}?period={y}"), &manager).await, StatusCode::OK);
    assert_eq!(card["promotion"], true);
    // This year's contract is not closed before the year ends.
    let this = ok(t.get(&format!("/api/v1/kpi/contracts?year={y}"), &manager).await, StatusCode::OK);
    let id = this["items"][0]["id"].as_i64().expect("id");
    let v = ok(t.get(&format!("/api/v1/kpi/contracts/{id}"), &manager).await, StatusCode::OK);
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/kpi/contracts/{id}/close"),
            &manager,
            Some(json!({"version": v["version"]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    // A closed contract changes no more.
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/kpi/contracts/{}/actuals", ids[0]),
            &manager,
            Some(json!({"indicator": "quality", "period": (y - 3).to_string(), "value": "50", "version": 1})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
}

#[tokio::test]
async fn a_rep_reads_only_their_own_contract() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep_a = user_id(&t, "repA").await;
    let c = contract(&t, &bearer(&w, "manager"), rep_a, year(), "0").await;
    let id = c["id"].as_i64().expect("id");
    let rep_b = bearer(&w, "repB");
    assert_eq!(t.get(&format!("/api/v1/kpi/contracts/{id}"), &rep_b).await.status, StatusCode::NOT_FOUND);
    assert_eq!(t.get(&format!("/api/v1/kpi/scorecards/people/{rep_a}"), &rep_b).await.status, StatusCode::NOT_FOUND);
    let list = ok(t.get("/api/v1/kpi/contracts", &rep_b).await, StatusCode::OK);
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0));
    assert_eq!(t.get(&format!("/api/v1/kpi/contracts/{id}"), &bearer(&w, "repA")).await.status, StatusCode::OK);
    // The rep in another region's team neither.
    assert_eq!(t.get(&format!("/api/v1/kpi/contracts/{id}"), &bearer(&w, "repC")).await.status, StatusCode::NOT_FOUND);
    let page = t.ui_login("repB", PASSWORD, None).await.expect("login");
    let auth = Auth::Session { cookie: page.0, csrf: String::new() };
    assert_eq!(t.get(&format!("/kpi/contracts/{id}"), &auth).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_scorecard_page_and_its_xlsx_show_the_numbers() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    rep_template(
        &t,
        &w,
        json!([manual("quality", "服务质量", 60, "100.00"), manual("ledger", "台账吻合度", 40, "80.00")]),
    )
    .await;
    let manager = bearer(&w, "manager");
    let rep_a = user_id(&t, "repA").await;
    let y = year();
    let c = contract(&t, &manager, rep_a, y, "50000.00").await;
    let id = c["id"].as_i64().expect("id");
    actual(&t, &manager, id, "quality", &y.to_string(), "90.00").await;
    actual(&t, &manager, id, "ledger", &y.to_string(), "100.00").await;
    let (sid, _) = t.ui_login("manager", PASSWORD, None).await.expect("login");
    let auth = Auth::Session { cookie: sid, csrf: String::new() };
    let page = t.get_form(&format!("/kpi/people/{rep_a}?period={y}"), &auth).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("repA"));
    assert!(page.body.contains("102.00"), "the weighted score");
    assert!(page.body.contains("54.00") && page.body.contains("48.00"), "each indicator's points");
    let print = t.get_form(&format!("/kpi/contracts/{id}/print"), &auth).await;
    assert_eq!(print.status, StatusCode::OK, "{}", print.body);
    assert!(print.body.contains("受约人") && print.body.contains("发约人"), "the signature lines");
    let bj = org(&t, "BJ").await;
    let (status, _, bytes) = download(&t, &format!("/kpi?period={y}&team={bj}&format=xlsx"), &auth).await;
    assert_eq!(status, StatusCode::OK);
    let rows = xlsx_rows(bytes, "kpi_scorecard");
    let text: Vec<String> = rows.iter().flatten().map(|c| c.to_string()).collect();
    assert!(text.iter().any(|c| c == "102.00" || c == "102"), "{text:?}");
    assert!(text.iter().any(|c| c == "repA"), "{text:?}");
    let (status, _, bytes) =
        download(&t, &format!("/api/v1/kpi/scorecards/export?period={y}&org_unit_id={bj}&format=xlsx"), &manager).await;
    assert_eq!(status, StatusCode::OK);
    assert!(xlsx_rows(bytes, "kpi_scorecard").len() >= 4);
}

/// The computed indicators read what was booked and signed (the months' kept actuals) and what
/// is owed (the aging report's kept summary when it is today's, else the receivables): a deal
/// won and an order signed show on the rep's scorecard, and the receivables read the same
/// before and after the aging report has built its summary.
#[tokio::test]
async fn computed_indicators_show_the_booked_the_signed_and_the_owed_whichever_way_they_are_read() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let ind = |key: &str, measure: &str, kind: &str, unit: &str, weight: i64, target: &str| {
        json!({"key": key, "category": "financial", "name": key, "measure": measure, "kind": kind, "unit": unit,
            "weight": weight, "target": target})
    };
    rep_template(
        &t,
        &w,
        json!([
            ind("sales", "revenue", "money", "元", 40, "100000.00"),
            ind("margin", "profit", "money", "元", 20, "10000.00"),
            ind("owed", "receivables_outstanding", "money", "元", 20, "50000.00"),
            ind("old", "receivables_over90", "percent", "%", 20, "10.00"),
        ]),
    )
    .await;
    let (manager, director, rep) = (bearer(&w, "manager"), bearer(&w, "director"), bearer(&w, "repA"));
    let rep_a = user_id(&t, "repA").await;
    let y = year();
    contract(&t, &manager, rep_a, y, "50000.00").await;
    let today = Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive();

    // A deal won at 45,000 today; an order of 11,300 (tax included) signed by the manager.
    let opp = crate::common::opportunity(&t, &rep, w.account_x, "测量中心扩建").await;
    let v = t.get(&format!("/api/v1/opportunities/{opp}"), &director).await.json()["version"].clone();
    let won = json!({"stage": "won", "override_reason": "合同已签", "booked_amount": "45000.00",
        "booked_on": today.format("%Y-%m-%d").to_string(), "version": v});
    ok(t.call(Method::POST, &format!("/api/v1/opportunities/{opp}/stage"), &director, Some(won)).await, StatusCode::OK);
    let body = json!({"account_id": w.account_x,
        "lines": [{"description": "测量系统", "unit": "套", "quantity": "1", "unit_price": "11300.00"}],
        "payment_terms": [{"kind": "advance", "percent": "100", "due": "15 days after invoice"}]});
    let o = ok(t.call(Method::POST, "/api/v1/orders", &rep, Some(body)).await, StatusCode::CREATED);
    let o = ok(
        t.call(
            Method::POST,
            &format!("/api/v1/orders/{}/submit", o["id"]),
            &rep,
            Some(json!({"version": o["version"]})),
        )
        .await,
        StatusCode::OK,
    );
    let aid = o["latest"]["approval_id"].as_i64().expect("a sign-off request");
    let body = json!({"decision": "approve", "comment": "同意"});
    ok(t.call(Method::POST, &format!("/api/v1/approvals/{aid}/decision"), &manager, Some(body)).await, StatusCode::OK);
    let margin: i64 = sqlx::Row::try_get(
        &sqlx::query(
            "SELECT v.total_excl - v.cost AS m FROM orders o JOIN order_versions v ON v.order_id = o.id \
             AND v.version_no = o.signed_version WHERE o.id = $1",
        )
        .bind(o["id"].as_i64())
        .fetch_one(&t.db().pool)
        .await
        .expect("signed"),
        "m",
    )
    .expect("m");
    assert!(margin > 0, "a signed order's margin");
    // The order was invoiced long ago: its installment fell due 200 days ago, 3,300 still owed.
    sqlx::query(
        "UPDATE receivables SET state = 'open', due_on = $1, event_on = $1, paid = amount - 330000 WHERE order_id = $2",
    )
    .bind((today - chrono::Duration::days(200)).format("%Y-%m-%d").to_string())
    .bind(o["id"].as_i64())
    .execute(&t.db().pool)
    .await
    .expect("due long ago");

    let lines = |card: &Value| -> Vec<(String, Option<String>)> {
        card["indicators"]
            .as_array()
            .expect("indicators")
            .iter()
            .map(|i| (i["key"].as_str().unwrap_or("").to_string(), i["actual"].as_str().map(str::to_string)))
            .collect()
    };
    let want = vec![
        ("sales".to_string(), Some("45000.00".to_string())),
        ("margin".to_string(), Some(kam::domain::money::format_fen(margin))),
        ("owed".to_string(), Some("3300.00".to_string())),
        ("old".to_string(), Some("100.00".to_string())),
    ];
    let path = format!("/api/v1/kpi/scorecards/people/{rep_a}?period={y}");
    let before = ok(t.get(&path, &manager).await, StatusCode::OK);
    assert_eq!(lines(&before), want, "read from the receivables: {before}");
    // The aging report builds its summary for today; the scorecard then reads it, the same.
    ok(t.get("/api/v1/reports/aging", &bearer(&w, "finance")).await, StatusCode::OK);
    let stamp: String = sqlx::Row::try_get(
        &sqlx::query("SELECT value FROM settings WHERE key = 'aging_summary'")
            .fetch_one(&t.db().pool)
            .await
            .expect("stamp"),
        "value",
    )
    .expect("value");
    assert!(stamp.starts_with(&today.format("%Y-%m-%d").to_string()) && stamp.contains("90"), "{stamp}");
    let after = ok(t.get(&path, &manager).await, StatusCode::OK);
    assert_eq!(lines(&after), want, "read from the aging summary: {after}");
    assert_eq!(after["score"], before["score"]);
}

/// The templates page adds and removes indicators: a ticked「移除」and a named blank row are saved
/// together; a new row that leaves the weights off 100 % is refused on the page, naming why,
/// with what was typed kept and nothing saved.
#[tokio::test]
async fn the_templates_page_adds_and_removes_indicators() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let director = bearer(&w, "director");
    let cur = ok(t.get("/api/v1/kpi/templates", &director).await, StatusCode::OK);
    let rep_tpl = |v: &Value| {
        v["templates"].as_array().expect("templates").iter().find(|x| x["role"] == "ka_rep").cloned().expect("rep")
    };
    let first = rep_tpl(&cur)["indicators"][0].clone();
    let (key, weight) = (first["key"].as_str().expect("key").to_string(), first["weight"].as_i64().expect("weight"));
    let n = rep_tpl(&cur)["indicators"].as_array().map(Vec::len).expect("n");
    let (sid, csrf) = t.ui_login("director", PASSWORD, None).await.expect("login");
    let page = t.get_form("/kpi/templates", &Auth::Session { cookie: sid.clone(), csrf: csrf.clone() }).await;
    assert!(
        page.body.contains("id=\"new_ka_rep_name\"") && page.body.contains(&format!("remove_ka_rep_{key}")),
        "the page offers both"
    );

    // Too much weight: refused on the page, the row kept as typed, nothing saved.
    let version = cur["version"].to_string();
    let too_much = [
        ("_csrf", csrf.as_str()),
        ("version", version.as_str()),
        ("cap_pct", "120"),
        ("new_ka_rep_category", "management"),
        ("new_ka_rep_name", "拜访报告及时率"),
        ("new_ka_rep_measure", "manual"),
        ("new_ka_rep_kind", "percent"),
        ("new_ka_rep_weight", "5"),
        ("new_ka_rep_target", "95"),
        ("new_ka_rep_unit", "%"),
    ];
    let r = t.ui_post("/kpi/templates", &sid, &too_much).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("各指标权重合计须为100%"), "why: {}", r.body);
    assert!(r.body.contains("value=\"拜访报告及时率\""), "what was typed is kept");
    let same = ok(t.get("/api/v1/kpi/templates", &director).await, StatusCode::OK);
    assert_eq!(same["version"], cur["version"], "nothing saved");

    // Removing the first indicator and adding one of its weight: saved.
    let remove = format!("remove_ka_rep_{key}");
    let weight = weight.to_string();
    let mut good: Vec<(&str, &str)> = too_much.to_vec();
    good.retain(|(k, _)| *k != "new_ka_rep_weight");
    good.push(("new_ka_rep_weight", weight.as_str()));
    good.push((remove.as_str(), "1"));
    let r = t.ui_post("/kpi/templates", &sid, &good).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let after = ok(t.get("/api/v1/kpi/templates", &director).await, StatusCode::OK);
    let list = rep_tpl(&after)["indicators"].as_array().expect("indicators").clone();
    assert_eq!(list.len(), n, "one out, one in");
    assert!(list.iter().all(|i| i["key"] != key.as_str()), "{list:?}");
    let added = list.iter().find(|i| i["name"] == "拜访报告及时率").expect("the new indicator");
    assert_eq!(
        (added["key"].as_str(), added["measure"].as_str(), added["kind"].as_str(), added["target"].as_str()),
        (Some("custom_1"), Some("manual"), Some("percent"), Some("95.00")),
        "{added}"
    );
    assert_eq!(list.iter().map(|i| i["weight"].as_i64().unwrap_or(0)).sum::<i64>(), 100);
}
