//! Classifying key accounts (issue 7): the RAD class at the domain's boundaries, trailing sales
//! recomputed when a deal is won, the settings that move every account, tier scoring against a
//! hand-computed case, service standards, coverage (SOA) arithmetic, and who sees what.
use axum::http::{header, Method, StatusCode};
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use kam::app::{customers::accounts, Ctx};
use serde_json::{json, Value};

use crate::common::{fields, seed, Auth, Resp, TestApp, World};

fn bearer(w: &World, user: &str) -> Auth {
    Auth::Bearer(w.tokens[user].clone())
}

fn ok(r: Resp) -> Value {
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// Today as the users (Asia/Shanghai) see it: the service standards count days so.
fn local_today() -> NaiveDate {
    Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive()
}

fn ymd(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Four in the morning (UTC) `n` days ago, as RFC 3339: the same calendar day in UTC and in
/// Shanghai.
/// 04:00 UTC (noon in Beijing) of the users' day `n` days ago.
fn days_ago_at_4(n: i64) -> String {
    let d = local_today() - Duration::days(n);
    Utc.from_utc_datetime(&d.and_hms_opt(4, 0, 0).expect("time")).to_rfc3339()
}

fn error_code(r: &Resp, status: StatusCode) -> String {
    assert_eq!(r.status, status, "{}", r.body);
    r.json()["error"]["code"].as_str().unwrap_or_else(|| panic!("error code in {}", r.body)).to_string()
}

async fn id_by(t: &TestApp, sql: &str, key: &str) -> i64 {
    sqlx::Row::try_get(&sqlx::query(sql).bind(key.to_string()).fetch_one(&t.db().pool).await.expect("row"), "id")
        .expect("id")
}

async fn uid(t: &TestApp, username: &str) -> i64 {
    id_by(t, "SELECT id FROM users WHERE username = $1", username).await
}

async fn org_id(t: &TestApp, code: &str) -> i64 {
    id_by(t, "SELECT id FROM org_units WHERE code = $1", code).await
}

/// An account written as the loaders write it (the status can only move by a screening's
/// approval otherwise): in `region`/`branch`, owned by `owner`.
#[allow(clippy::too_many_arguments)]
async fn insert_account(
    t: &TestApp,
    name: &str,
    status: &str,
    region: &str,
    branch: &str,
    owner: Option<&str>,
    buying_power: Option<i64>,
    sales: Option<i64>,
) -> i64 {
    let owner_id = match owner {
        Some(u) => Some(uid(t, u).await),
        None => None,
    };
    let d = accounts::AccountData {
        name: name.into(),
        industry: "enterprise".into(),
        level: "L2".into(),
        status: status.into(),
        region_id: Some(org_id(t, region).await),
        branch_id: Some(org_id(t, branch).await),
        owner_id,
        buying_power,
        sales_12m_entered: sales,
        ..Default::default()
    };
    let mut tx = t.db().begin().await.expect("tx");
    let id = accounts::insert(&mut tx, &Ctx::system(), &d).await.expect("account");
    tx.commit().await.expect("commit");
    id
}

/// A new prospect created by `who` through the API (a salesperson owns what they create).
async fn prospect(t: &TestApp, who: &Auth, name: &str) -> i64 {
    let r = t.call(Method::POST, "/api/v1/accounts", who, Some(json!({"name": name, "industry": "other"}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.json()["id"].as_i64().expect("id")
}

async fn account(t: &TestApp, who: &Auth, id: i64) -> Value {
    ok(t.get(&format!("/api/v1/accounts/{id}"), who).await)
}

/// PATCHes an account at its current version.
async fn patch(t: &TestApp, who: &Auth, id: i64, change: Value) -> Resp {
    let mut body = change;
    body["version"] = account(t, who, id).await["version"].clone();
    t.call(Method::PATCH, &format!("/api/v1/accounts/{id}"), who, Some(body)).await
}

async fn patched(t: &TestApp, who: &Auth, id: i64, change: Value) -> Value {
    ok(patch(t, who, id, change).await)
}

async fn classification(t: &TestApp, who: &Auth, id: i64) -> Value {
    ok(t.get(&format!("/api/v1/accounts/{id}/classification"), who).await)
}

async fn establish(t: &TestApp, who: &Auth, account: i64, name: &str, amount: &str) -> Value {
    let body = json!({
        "account_id": account, "name": name, "amount": amount, "expected_close": ymd(today()),
        "eval_need": "扩容", "eval_budget": "已批", "eval_timeline": "本季度", "eval_decision_makers": "主任",
    });
    let r = t.call(Method::POST, "/api/v1/opportunities", who, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.json()
}

/// Moves past the exit criteria with the manager's override.
async fn force(t: &TestApp, who: &Auth, opp: &Value, body: Value) -> Value {
    let mut body = body;
    body["version"] = opp["version"].clone();
    body["override_reason"] = json!("已与客户确认");
    let r = t.call(Method::POST, &format!("/api/v1/opportunities/{}/stage", opp["id"]), who, Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()
}

async fn activity(t: &TestApp, who: &Auth, body: Value) -> Value {
    let r = t.call(Method::POST, "/api/v1/activities", who, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.json()
}

/// A done visit that solved a problem.
fn visit(account: i64, at: &str, purpose: Option<&str>) -> Value {
    json!({
        "account_id": account, "kind": "visit", "status": "done", "occurred_at": at,
        "outcome": "problem_solved", "problems": "设备校准偏差，现场重新标定", "purpose": purpose,
    })
}

fn phone(account: i64, at: &str, purpose: Option<&str>) -> Value {
    json!({"account_id": account, "kind": "phone", "status": "done", "occurred_at": at, "outcome": "none",
        "purpose": purpose})
}

fn ids(list: &Value) -> Vec<i64> {
    list.as_array().unwrap_or_else(|| panic!("a list: {list}")).iter().map(|b| b["id"].as_i64().expect("id")).collect()
}

fn cell<'a>(rad: &'a Value, class: &str) -> &'a Value {
    rad["cells"]
        .as_array()
        .expect("cells")
        .iter()
        .find(|c| c["rad_class"] == class)
        .unwrap_or_else(|| panic!("{class} in {rad}"))
}

fn standard<'a>(c: &'a Value, name: &str) -> &'a Value {
    c["service"]
        .as_array()
        .expect("service")
        .iter()
        .find(|s| s["standard"] == name)
        .unwrap_or_else(|| panic!("{name} in {c}"))
}

fn dimension<'a>(c: &'a Value, name: &str) -> &'a Value {
    c["breakdown"]
        .as_array()
        .expect("breakdown")
        .iter()
        .find(|s| s["dimension"] == name)
        .unwrap_or_else(|| panic!("{name} in {c}"))
}

fn history_len(c: &Value) -> usize {
    c["history"].as_array().expect("history").len()
}

// ---------------------------------------------------------------- 1. RAD at the boundaries

#[tokio::test]
async fn rad_class_follows_buying_power_and_sales_exactly_at_the_domain_boundaries() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = bearer(&w, "repA");
    let acc = prospect(&t, &rep, "北京恒远精工有限公司").await;
    let fresh = account(&t, &rep, acc).await;
    assert!(fresh["rad_class"].is_null(), "no buying power yet: unclassified: {fresh}");
    assert!(fresh["sow"].is_null(), "{fresh}");

    // (buying power, entered sales) → (class, SOW shown).
    for (bp, sales, class, sow, why) in [
        ("1000000.00", "500000.00", "D2", "50.00", "SOW exactly 50% is D; BP exactly 1,000,000 is column 2"),
        ("1000000.00", "500000.01", "R2", "50.00", "just above 50% is R (though it shows as 50.00)"),
        ("1000000.00", "100000.00", "D2", "10.00", "SOW exactly 10% is D"),
        ("1000000.00", "99999.99", "A2", "9.99", "just under 10% is A"),
        ("1000000.01", "99999.99", "A1", "9.99", "BP 1,000,000.01 is column 1"),
        ("1000000.01", "600000.00", "R1", "59.99", "R1"),
        ("500000.00", "50000.00", "D2", "10.00", "BP exactly 500,000 is column 2"),
        ("499999.99", "50000.00", "D3", "10.00", "BP just under 500,000 is column 3"),
        ("499999.99", "0", "A3", "0.00", "no sales: A"),
    ] {
        let v = patched(&t, &rep, acc, json!({"buying_power": bp, "sales_12m": sales})).await;
        assert_eq!(v["rad_class"], class, "{why}: {v}");
        assert_eq!(v["sow"], sow, "{why}: {v}");
        assert_eq!(v["buying_power"], format_money(bp), "{why}: {v}");
        assert_eq!(v["sales_12m_entered"], format_money(sales), "{why}: {v}");
        assert_eq!(v["sales_12m"], format_money(sales), "nothing won: the entered figure is the total: {v}");
        assert_eq!(v["sales_12m_source"], "entered", "{v}");
        assert_eq!(v["sales_12m_won"], "0.00", "{v}");
        // The classification page says the same.
        let c = classification(&t, &rep, acc).await;
        assert_eq!(c["rad_class"], class, "{why}: {c}");
        assert_eq!(c["sow"], sow, "{why}: {c}");
    }
    let c = classification(&t, &rep, acc).await;
    assert!(history_len(&c) >= 9, "each change is in the history: {c}");
    assert_eq!(c["history"][0]["rad_class"], "A3", "newest first: {c}");
    assert_eq!(c["history"][0]["buying_power"], "499999.99", "{c}");
    assert_eq!(c["history"][0]["by"], "repA", "{c}");

    // The buying power removed: unclassified again, never guessed; the RAD grid counts it apart.
    let v = patched(&t, &rep, acc, json!({"buying_power": null})).await;
    assert!(v["rad_class"].is_null(), "{v}");
    assert!(v["sow"].is_null(), "{v}");
    let rad = ok(t.get("/api/v1/reports/rad?owner=repA", &bearer(&w, "director")).await);
    assert_eq!(rad["unclassified"]["rad_class"], "unclassified", "{rad}");
    assert_eq!(rad["unclassified"]["accounts"], 1, "the new account: {rad}");
    assert_eq!(cell(&rad, "R1")["accounts"], 1, "account X (60% of 2,500,000): {rad}");
    assert_eq!(rad["total"]["accounts"], 2, "{rad}");

    // A negative buying power (or sales) is refused, named, and changes nothing.
    let before = account(&t, &rep, acc).await;
    let hist = history_len(&classification(&t, &rep, acc).await);
    let r = patch(&t, &rep, acc, json!({"buying_power": "-1.00", "sales_12m": "-5"})).await;
    let f = fields(&r);
    assert_eq!(f.get("buying_power").map(String::as_str), Some("negative"), "{}", r.body);
    assert_eq!(f.get("sales_12m").map(String::as_str), Some("negative"), "{}", r.body);
    let after = account(&t, &rep, acc).await;
    assert_eq!(after["version"], before["version"], "nothing written");
    assert_eq!(after["buying_power"], before["buying_power"]);
    assert_eq!(after["sales_12m"], before["sales_12m"]);
    assert_eq!(after["rad_class"], before["rad_class"]);
    assert_eq!(history_len(&classification(&t, &rep, acc).await), hist, "no history row for a refused change");
    // Money must be a string, like every amount.
    let r = patch(&t, &rep, acc, json!({"buying_power": 1000000})).await;
    assert!(fields(&r).contains_key("buying_power"), "{}", r.body);
}

/// "1000000" → "1000000.00", "0" → "0.00", as the API formats money.
fn format_money(s: &str) -> String {
    match s.split_once('.') {
        Some((i, f)) => format!("{i}.{f:0<2}"),
        None => format!("{s}.00"),
    }
}

// ---------------------------------------------------------------- 2. won deals

#[tokio::test]
async fn a_won_deal_adds_to_trailing_sales_and_moves_the_rad_class_with_history() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = bearer(&w, "repA");
    let acc = prospect(&t, &rep, "北京锐拓自动化有限公司").await;
    let v = patched(&t, &rep, acc, json!({"buying_power": "1000000.00", "sales_12m": "50000.00"})).await;
    assert_eq!(v["rad_class"], "A2", "5%: {v}");
    let hist = history_len(&classification(&t, &rep, acc).await);

    // An open deal is pipeline in the RAD grid, not sales.
    let opp = establish(&t, &rep, acc, "二期产线", "500000.00").await;
    let v = account(&t, &rep, acc).await;
    assert_eq!(v["sales_12m"], "50000.00", "an open deal is not sales: {v}");
    assert_eq!(v["rad_class"], "A2");
    let rad = ok(t.get("/api/v1/reports/rad", &rep).await);
    assert_eq!(cell(&rad, "A2")["pipeline"], "500000.00", "{rad}");
    assert_eq!(cell(&rad, "A2")["accounts"], 1, "{rad}");

    // Won at 460,000 booked today: 50,000 entered + 460,000 won = 510,000 of 1,000,000 → R2.
    force(
        &t,
        &bearer(&w, "manager"),
        &opp,
        json!({"stage": "won", "booked_amount": "460000.00", "booked_on": ymd(today())}),
    )
    .await;
    let v = account(&t, &rep, acc).await;
    assert_eq!(v["sales_12m_won"], "460000.00", "{v}");
    assert_eq!(v["sales_12m_entered"], "50000.00", "{v}");
    assert_eq!(v["sales_12m"], "510000.00", "entered + won: {v}");
    assert_eq!(v["sales_12m_source"], "both", "{v}");
    assert_eq!(v["sow"], "51.00", "{v}");
    assert_eq!(v["rad_class"], "R2", "{v}");
    let c = classification(&t, &rep, acc).await;
    assert_eq!(c["sales_12m"], "510000.00", "{c}");
    assert_eq!(c["sales_12m_won"], "460000.00", "{c}");
    assert_eq!(c["sales_12m_source"], "both", "{c}");
    assert_eq!(c["rad_class"], "R2", "{c}");
    assert!(history_len(&c) > hist, "the win is in the history: {c}");
    let h = &c["history"][0];
    assert_eq!(h["rad_class"], "R2", "{c}");
    assert_eq!(h["sales_12m"], "510000.00", "{c}");
    assert_eq!(h["sow"], "51.00", "{c}");
    assert_eq!(h["reason"], "opportunities", "{c}");
    assert!(c["history"].as_array().expect("h").iter().any(|h| h["rad_class"] == "A2"), "the earlier class stays: {c}");
    // The grid moved with it: sales now, no pipeline.
    let rad = ok(t.get("/api/v1/reports/rad", &rep).await);
    assert_eq!(cell(&rad, "A2")["accounts"], 0, "{rad}");
    assert_eq!(cell(&rad, "R2")["accounts"], 1, "{rad}");
    assert_eq!(cell(&rad, "R2")["sales_12m"], "510000.00", "{rad}");
    assert_eq!(cell(&rad, "R2")["pipeline"], "0.00", "{rad}");

    // The entered figure is edited as the entered part; the won part is kept.
    let v = patched(&t, &rep, acc, json!({"sales_12m": "60000.00"})).await;
    assert_eq!(v["sales_12m"], "520000.00", "{v}");
    // Without any entered figure the won deals are the whole: source "opportunities".
    let v = patched(&t, &rep, acc, json!({"sales_12m": null})).await;
    assert_eq!(v["sales_12m"], "460000.00", "{v}");
    assert_eq!(v["sales_12m_source"], "opportunities", "{v}");
    assert_eq!(v["rad_class"], "D2", "46%: {v}");
}

// ---------------------------------------------------------------- 3. settings

#[tokio::test]
async fn settings_are_checked_versioned_and_reclassify_every_account() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let director = bearer(&w, "director");
    let rep = bearer(&w, "repA");
    let s = ok(t.get("/api/v1/settings/classification", &director).await);
    assert_eq!(
        s["rad"],
        json!({"sow_r_above": "50.00", "sow_d_from": "10.00", "bp_1_above": "1000000.00", "bp_2_from": "500000.00",
            "version": 0}),
        "{s}"
    );
    assert_eq!(s["tiers"]["version"], 0, "{s}");
    assert_eq!(s["tiers"]["strategic"], "4.20", "{s}");
    assert_eq!(s["tiers"]["A"], "3.40", "{s}");
    assert_eq!(s["tiers"]["B"], "2.60", "{s}");
    assert_eq!(s["tiers"]["dimensions"].as_array().map(Vec::len), Some(5), "{s}");
    assert_eq!(s["service_standards"]["A"]["executive_visit_days"], 180, "{s}");
    assert_eq!(s["service_standards"]["C"]["executive_visit_days"], Value::Null, "{s}");

    // An account at 45% of 1,000,000: D2 under the shipped thresholds.
    let acc = prospect(&t, &rep, "北京中科测控有限公司").await;
    let v = patched(&t, &rep, acc, json!({"buying_power": "1000000.00", "sales_12m": "450000.00"})).await;
    assert_eq!(v["rad_class"], "D2", "{v}");

    let put = |who: Auth, part: &'static str, body: Value| {
        let t = &t;
        async move { t.call(Method::PUT, &format!("/api/v1/settings/classification/{part}"), &who, Some(body)).await }
    };
    let rad = |r: &str, d: &str, b1: &str, b2: &str, v: i64| json!({"sow_r_above": r, "sow_d_from": d, "bp_1_above": b1, "bp_2_from": b2, "version": v});
    // A salesperson may not change the method.
    let r = put(rep.clone(), "rad", rad("40.00", "10.00", "1000000.00", "500000.00", 0)).await;
    assert_eq!(error_code(&r, StatusCode::FORBIDDEN), "forbidden");
    // Overlapping thresholds are named.
    let r = put(director.clone(), "rad", rad("50.00", "60.00", "1000000.00", "500000.00", 0)).await;
    assert_eq!(fields(&r).get("sow_d_from").map(String::as_str), Some("thresholds_overlap"), "{}", r.body);
    let r = put(director.clone(), "rad", rad("50.00", "10.00", "400000.00", "500000.00", 0)).await;
    assert_eq!(fields(&r).get("bp_2_from").map(String::as_str), Some("thresholds_overlap"), "{}", r.body);
    let r = put(director.clone(), "rad", json!({"sow_r_above": "50.00", "sow_d_from": "10.00"})).await;
    assert!(fields(&r).contains_key("version"), "the version is required: {}", r.body);
    let s = ok(t.get("/api/v1/settings/classification", &director).await);
    assert_eq!(s["rad"]["version"], 0, "nothing saved: {s}");
    assert_eq!(account(&t, &rep, acc).await["rad_class"], "D2");

    // R from above 40%: the account becomes R2 in the same request.
    let r = ok(put(director.clone(), "rad", rad("40.00", "10.00", "1000000.00", "500000.00", 0)).await);
    assert_eq!(r["settings"]["rad"]["sow_r_above"], "40.00", "{r}");
    assert_eq!(r["settings"]["rad"]["version"], 1, "{r}");
    assert!(r["accounts_reclassified"].as_i64().expect("n") >= 1, "{r}");
    let v = account(&t, &rep, acc).await;
    assert_eq!(v["rad_class"], "R2", "{v}");
    let c = classification(&t, &rep, acc).await;
    assert_eq!(c["history"][0]["rad_class"], "R2", "{c}");
    assert_eq!(c["history"][0]["reason"], "settings_rad", "{c}");
    assert_eq!(c["history"][0]["by"], "director", "{c}");
    let rep_grid = ok(t.get("/api/v1/reports/rad", &rep).await);
    assert_eq!(rep_grid["thresholds"]["sow_r_above"], "40.00", "the grid shows the thresholds in force: {rep_grid}");
    // Saved at a version already replaced: 409, nothing changed.
    let r = put(director.clone(), "rad", rad("70.00", "10.00", "1000000.00", "500000.00", 0)).await;
    assert_eq!(error_code(&r, StatusCode::CONFLICT), "stale_version");
    assert_eq!(account(&t, &rep, acc).await["rad_class"], "R2");
    assert_eq!(ok(t.get("/api/v1/settings/classification", &rep).await)["rad"]["sow_r_above"], "40.00");
    // An unknown part is not there.
    let r = put(director.clone(), "nothing", json!({"version": 0})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);

    // Tiers: weights must add up to 100; bands may not leave a gap.
    let mut tiers = s["tiers"].clone();
    tiers["dimensions"][4]["weight"] = json!(15);
    let r = put(director.clone(), "tiers", tiers).await;
    assert_eq!(fields(&r).get("weights").map(String::as_str), Some("weights_sum"), "{}", r.body);
    let mut tiers = s["tiers"].clone();
    assert_eq!(tiers["dimensions"][0]["key"], "sales_amount");
    assert_eq!(tiers["dimensions"][0]["bands"][1]["to"], "2000000.00", "{tiers}");
    tiers["dimensions"][0]["bands"][1]["to"] = json!("1900000.00");
    let r = put(director.clone(), "tiers", tiers).await;
    assert_eq!(fields(&r).get("dimensions.sales_amount.bands").map(String::as_str), Some("bands_gap"), "{}", r.body);
    let mut tiers = s["tiers"].clone();
    tiers["A"] = json!("4.50");
    let r = put(director.clone(), "tiers", tiers).await;
    assert_eq!(fields(&r).get("tiers").map(String::as_str), Some("tier_thresholds_order"), "{}", r.body);
    let r = put(rep.clone(), "tiers", s["tiers"].clone()).await;
    assert_eq!(error_code(&r, StatusCode::FORBIDDEN), "forbidden");
    assert_eq!(ok(t.get("/api/v1/settings/classification", &director).await)["tiers"]["version"], 0);

    // Service standards: every interval 1–3650 days or none.
    let mut ss = s["service_standards"].clone();
    ss["strategic"]["working_contact_days"] = json!(0);
    let r = put(director.clone(), "service_standards", ss).await;
    assert_eq!(
        fields(&r).get("strategic.working_contact_days").map(String::as_str),
        Some("interval_range"),
        "{}",
        r.body
    );
    let mut ss = s["service_standards"].clone();
    ss["C"]["executive_visit_days"] = json!(365);
    let r = ok(put(director.clone(), "service_standards", ss).await);
    assert_eq!(r["settings"]["service_standards"]["C"]["executive_visit_days"], 365, "{r}");
    assert_eq!(r["settings"]["service_standards"]["version"], 1, "{r}");
}

// ---------------------------------------------------------------- 4. tiers

#[tokio::test]
async fn a_key_accounts_tier_is_scored_from_five_banded_dimensions() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = bearer(&w, "repA");
    let acc = insert_account(&t, "北京瀚海智能装备有限公司", "key_account", "N", "BJ", Some("repA"), None, None).await;
    let v = account(&t, &rep, acc).await;
    assert!(v["tier"].is_null(), "no buying power: no share, no tier: {v}");
    let c = classification(&t, &rep, acc).await;
    let missing: Vec<&str> = c["missing"].as_array().expect("missing").iter().filter_map(Value::as_str).collect();
    assert_eq!(missing, vec!["supply_share", "profit_margin", "payment_terms", "sales_expense_ratio"], "{c}");

    // Sales 3,000,000 → band 3 × 30 = 90; share 60% → 5 × 25 = 125; margin 25% → 5 × 20 = 100;
    // terms 30 days → 4 × 15 = 60; expense 2% → 4 × 10 = 40. Total 4.15 → A (strategic from 4.20).
    let v = patched(
        &t,
        &rep,
        acc,
        json!({"buying_power": "5000000.00", "sales_12m": "3000000.00", "profit_margin": "25.00",
            "payment_terms_days": 30, "sales_expense_ratio": "2.00"}),
    )
    .await;
    assert_eq!(v["tier"], "A", "{v}");
    assert_eq!(v["tier_score"], "4.15", "{v}");
    assert!(v["tier_since"].is_string(), "{v}");
    assert_eq!(v["rad_class"], "R1", "{v}");
    assert_eq!(v["profit_margin"], "25.00", "{v}");
    assert_eq!(v["payment_terms_days"], 30, "{v}");
    assert_eq!(v["sales_expense_ratio"], "2.00", "{v}");
    let c = classification(&t, &rep, acc).await;
    assert_eq!(c["tier"], "A", "{c}");
    assert_eq!(c["tier_score"], "4.15", "{c}");
    assert_eq!(c["missing"], json!([]), "{c}");
    for (dim, value, band, weight, points) in [
        ("sales_amount", "3000000.00", 3, 30, 90),
        ("supply_share", "60.00", 5, 25, 125),
        ("profit_margin", "25.00", 5, 20, 100),
        ("payment_terms", "30", 4, 15, 60),
        ("sales_expense_ratio", "2.00", 4, 10, 40),
    ] {
        let d = dimension(&c, dim);
        assert_eq!(
            (d["value"].as_str(), d["band"].as_i64(), d["weight"].as_i64(), d["points"].as_i64()),
            (Some(value), Some(band), Some(weight), Some(points)),
            "{dim}: {c}"
        );
    }
    assert_eq!(c["history"][0]["tier"], "A", "{c}");
    assert_eq!(c["history"][0]["tier_score"], "4.15", "{c}");

    // 29 days of terms score 5: 4.30 → strategic.
    let v = patched(&t, &rep, acc, json!({"payment_terms_days": 29})).await;
    assert_eq!((v["tier"].as_str(), v["tier_score"].as_str()), (Some("strategic"), Some("4.30")), "{v}");
    // A missing input: no tier, and the page says which.
    let v = patched(&t, &rep, acc, json!({"profit_margin": null})).await;
    assert!(v["tier"].is_null(), "{v}");
    assert!(v["tier_score"].is_null(), "{v}");
    let c = classification(&t, &rep, acc).await;
    assert!(c["tier"].is_null(), "{c}");
    assert_eq!(c["missing"], json!(["profit_margin"]), "{c}");
    assert!(dimension(&c, "profit_margin")["band"].is_null(), "{c}");
    assert_eq!(dimension(&c, "payment_terms")["band"], 5, "{c}");
    assert_eq!(c["service"], json!([]), "no tier, no standards: {c}");
    // Bad inputs are named.
    let r =
        patch(&t, &rep, acc, json!({"payment_terms_days": 5000, "sales_expense_ratio": "-1.00", "profit_margin": "x"}))
            .await;
    let f = fields(&r);
    assert_eq!(f.get("payment_terms_days").map(String::as_str), Some("days_range"), "{}", r.body);
    assert_eq!(f.get("sales_expense_ratio").map(String::as_str), Some("negative"), "{}", r.body);
    assert!(f.contains_key("profit_margin"), "{}", r.body);

    // Tiers are for key accounts: a prospect with the same inputs shows the breakdown, no tier.
    let p = prospect(&t, &rep, "北京瀚海智能装备销售有限公司").await;
    let v = patched(
        &t,
        &rep,
        p,
        json!({"buying_power": "5000000.00", "sales_12m": "3000000.00", "profit_margin": "25.00",
            "payment_terms_days": 30, "sales_expense_ratio": "2.00"}),
    )
    .await;
    assert!(v["tier"].is_null(), "a prospect has no tier: {v}");
    assert_eq!(v["rad_class"], "R1", "but it has a RAD class: {v}");
    let c = classification(&t, &rep, p).await;
    assert!(c["tier"].is_null(), "{c}");
    assert_eq!(dimension(&c, "supply_share")["points"], 125, "{c}");
}

#[tokio::test]
async fn tier_weights_and_thresholds_from_the_settings_retier_key_accounts() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = bearer(&w, "repA");
    let director = bearer(&w, "director");
    let acc = insert_account(&t, "北京云图数控有限公司", "key_account", "N", "BJ", Some("repA"), None, None).await;
    let v = patched(
        &t,
        &rep,
        acc,
        json!({"buying_power": "5000000.00", "sales_12m": "3000000.00", "profit_margin": "25.00",
            "payment_terms_days": 30, "sales_expense_ratio": "2.00"}),
    )
    .await;
    assert_eq!(v["tier"], "A", "{v}");
    // Strategic from 4.10 instead of 4.20: 4.15 is strategic.
    let s = ok(t.get("/api/v1/settings/classification", &director).await);
    let mut tiers = s["tiers"].clone();
    tiers["strategic"] = json!("4.10");
    let r = ok(t.call(Method::PUT, "/api/v1/settings/classification/tiers", &director, Some(tiers)).await);
    assert_eq!(r["settings"]["tiers"]["strategic"], "4.10", "{r}");
    assert!(r["accounts_reclassified"].as_i64().expect("n") >= 1, "{r}");
    let v = account(&t, &rep, acc).await;
    assert_eq!((v["tier"].as_str(), v["tier_score"].as_str()), (Some("strategic"), Some("4.15")), "{v}");
    // Weights moved from sales to share (sales 20, share 35): 3×20 + 5×35 + 100 + 60 + 40 = 4.35.
    let mut tiers = r["settings"]["tiers"].clone();
    tiers["dimensions"][0]["weight"] = json!(20);
    tiers["dimensions"][1]["weight"] = json!(35);
    let r = ok(t.call(Method::PUT, "/api/v1/settings/classification/tiers", &director, Some(tiers)).await);
    assert_eq!(r["settings"]["tiers"]["version"], 2, "{r}");
    let v = account(&t, &rep, acc).await;
    assert_eq!(v["tier_score"], "4.35", "{v}");
    let c = classification(&t, &rep, acc).await;
    assert_eq!(dimension(&c, "supply_share")["points"], 175, "{c}");
    assert_eq!(c["history"][0]["reason"], "settings_tiers", "{c}");
}

#[tokio::test]
async fn an_account_approved_as_key_account_gets_its_tier_at_once() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = bearer(&w, "repA");
    let director = bearer(&w, "director");
    let r = t
        .call(
            Method::POST,
            "/api/v1/users",
            &bearer(&w, "admin"),
            Some(json!({"username": "sdm", "role": "sales_dept_manager", "org_unit": "HQ", "password": "classify-pass-1"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let sdm = Auth::Bearer(t.token("sdm").await);
    let acc = prospect(&t, &rep, "北京星途传感科技有限公司").await;
    // Every input of the tier is there while it is a prospect (4.15 → A once a key account).
    let v = patched(
        &t,
        &rep,
        acc,
        json!({"buying_power": "5000000.00", "sales_12m": "3000000.00", "profit_margin": "25.00",
            "payment_terms_days": 30, "sales_expense_ratio": "2.00"}),
    )
    .await;
    assert!(v["tier"].is_null(), "{v}");
    let risk: serde_json::Map<String, Value> =
        ["competitive_advantage", "customer_need", "competitor_strength", "payment_ability", "relationship"]
            .iter()
            .map(|k| (k.to_string(), json!(4)))
            .collect();
    let form = json!({
        "sales_amount": "年采购额约 3000 万元", "market_influence": "行业前三", "loyalty": "合作五年",
        "strategic_region": "华北重点区域", "needs_analysis": "产线扩建", "resource_assessment": "两名技术支持",
        "fit": "完全匹配", "competitor_analysis": "A 公司价格低 5%", "risk": risk,
    });
    let r = t.call(Method::POST, &format!("/api/v1/accounts/{acc}/screenings"), &rep, Some(form)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let approval = r.json()["approval_id"].as_i64().expect("approval_id");
    for who in [&director, &sdm] {
        let r = t
            .call(
                Method::POST,
                &format!("/api/v1/approvals/{approval}/decision"),
                who,
                Some(json!({"decision": "approve"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    let v = account(&t, &rep, acc).await;
    assert_eq!(v["status"], "key_account", "{v}");
    assert_eq!(v["tier"], "A", "the tier is there as soon as the account is a key account: {v}");
    assert_eq!(v["tier_score"], "4.15", "{v}");
    assert!(v["tier_since"].is_string(), "{v}");
    let svc = ok(t.get("/api/v1/reports/service-standards", &rep).await);
    assert_eq!(svc["accounts"], 1, "the new key account is owed its tier's service: {svc}");
}

// ---------------------------------------------------------------- 5. service standards

#[tokio::test]
async fn service_standards_show_when_each_was_last_met_and_what_is_overdue() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = bearer(&w, "repA");
    let acc = insert_account(&t, "北京博远光电有限公司", "key_account", "N", "BJ", Some("repA"), None, None).await;
    let v = patched(
        &t,
        &rep,
        acc,
        json!({"buying_power": "5000000.00", "sales_12m": "3000000.00", "profit_margin": "25.00",
            "payment_terms_days": 30, "sales_expense_ratio": "2.00"}),
    )
    .await;
    assert_eq!(v["tier"], "A", "{v}");
    // Tier A: an executive visit every 180 days, a working contact every 14, a technical exchange every 90.
    let c = classification(&t, &rep, acc).await;
    let since = local_today();
    for (st, every) in [("executive_visit", 180), ("working_contact", 14), ("technical_exchange", 90)] {
        let s = standard(&c, st);
        assert_eq!(s["every_days"], every, "{c}");
        assert!(s["last"].is_null(), "{c}");
        assert_eq!(s["due"], ymd(since + Duration::days(every)), "never met: due from the tier's start: {c}");
        assert_eq!(s["overdue"], false, "{c}");
    }

    // An invalid purpose is named.
    let r = t.call(Method::POST, "/api/v1/activities", &rep, Some(visit(acc, &days_ago_at_4(20), Some("lunch")))).await;
    assert_eq!(fields(&r).get("purpose").map(String::as_str), Some("invalid_choice"), "{}", r.body);
    assert_eq!(classification(&t, &rep, acc).await["service"], c["service"], "nothing recorded");

    // An executive visit 20 days ago.
    let a = activity(&t, &rep, visit(acc, &days_ago_at_4(20), Some("executive_visit"))).await;
    assert_eq!(a["purpose"], "executive_visit", "{a}");
    let visited = local_today() - Duration::days(20);
    let c = classification(&t, &rep, acc).await;
    let ev = standard(&c, "executive_visit");
    assert_eq!(ev["last"], ymd(visited), "{c}");
    assert_eq!(ev["due"], ymd(visited + Duration::days(180)), "{c}");
    assert_eq!(ev["overdue"], false, "{c}");
    // Any done contact is a working contact: it was due 14 days after the visit, 6 days ago.
    let wc = standard(&c, "working_contact");
    assert_eq!(wc["last"], ymd(visited), "{c}");
    assert_eq!(wc["due"], ymd(visited + Duration::days(14)), "{c}");
    assert_eq!(wc["overdue"], true, "{c}");
    assert_eq!(wc["days_overdue"], 6, "{c}");
    assert!(standard(&c, "technical_exchange")["last"].is_null(), "{c}");

    // The tier was taken 100 days ago: the technical exchange never held is 10 days overdue.
    let long_ago = local_today() - Duration::days(100);
    sqlx::query("UPDATE accounts SET tier_since = $1 WHERE id = $2")
        .bind(kam::db::ts(Utc.from_utc_datetime(&long_ago.and_hms_opt(3, 0, 0).expect("t"))))
        .bind(acc)
        .execute(&t.db().pool)
        .await
        .expect("move tier_since");
    let c = classification(&t, &rep, acc).await;
    let te = standard(&c, "technical_exchange");
    assert_eq!(te["due"], ymd(long_ago + Duration::days(90)), "{c}");
    assert_eq!((te["overdue"].as_bool(), te["days_overdue"].as_i64()), (Some(true), Some(10)), "{c}");

    let report = |q: &'static str| {
        let t = &t;
        let rep = rep.clone();
        async move { t.get(&format!("/api/v1/reports/service-standards{q}"), &rep).await }
    };
    let svc = ok(report("").await);
    assert_eq!(svc["accounts"], 1, "account X has no tier (inputs missing): {svc}");
    assert_eq!(svc["overdue_counts"]["working_contact"], 1, "{svc}");
    assert_eq!(svc["overdue_counts"]["technical_exchange"], 1, "{svc}");
    assert_eq!(svc["overdue_counts"]["executive_visit"], 0, "{svc}");
    let overdue = svc["overdue"].as_array().expect("overdue");
    assert_eq!(overdue.len(), 2, "{svc}");
    assert_eq!(overdue[0]["standard"], "technical_exchange", "most overdue first: {svc}");
    assert_eq!(overdue[0]["days_overdue"], 10, "{svc}");
    assert!(overdue[0]["last"].is_null(), "{svc}");
    assert_eq!(overdue[1]["standard"], "working_contact", "{svc}");
    assert_eq!(overdue[1]["last"], ymd(visited), "{svc}");
    for o in overdue {
        assert_eq!(o["account_id"], acc, "{svc}");
        assert_eq!(o["owner"], "repA", "{svc}");
        assert_eq!(o["tier"], "A", "{svc}");
    }
    let only = ok(report("?standard=technical_exchange").await);
    assert_eq!(only["overdue"].as_array().map(Vec::len), Some(1), "{only}");
    assert_eq!(ok(report("?tier=strategic").await)["accounts"], 0);
    assert!(fields(&report("?tier=Z").await).contains_key("tier"));
    assert!(fields(&report("?standard=lunch").await).contains_key("standard"));
    // Someone else's: repC sees no overdue standard of repA's account.
    let other = ok(t.get("/api/v1/reports/service-standards", &bearer(&w, "repC")).await);
    assert_eq!(other["accounts"], 0, "{other}");
    assert_eq!(other["overdue"], json!([]), "{other}");

    // A phone call marked as an executive visit is a working contact, not an executive visit; a
    // technical exchange by phone counts as one.
    activity(&t, &rep, phone(acc, &days_ago_at_4(2), Some("executive_visit"))).await;
    activity(&t, &rep, phone(acc, &days_ago_at_4(1), Some("technical_exchange"))).await;
    let c = classification(&t, &rep, acc).await;
    assert_eq!(standard(&c, "executive_visit")["last"], ymd(visited), "{c}");
    assert_eq!(standard(&c, "working_contact")["last"], ymd(local_today() - Duration::days(1)), "{c}");
    assert_eq!(standard(&c, "working_contact")["overdue"], false, "{c}");
    assert_eq!(standard(&c, "technical_exchange")["last"], ymd(local_today() - Duration::days(1)), "{c}");
    let svc = ok(report("").await);
    assert_eq!(svc["overdue"], json!([]), "all met: {svc}");
    // A planned activity is not a contact; the CSV lists the overdue.
    let r = t.get("/api/v1/reports/service-standards?format=csv", &rep).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.headers[header::CONTENT_TYPE].to_str().expect("type").starts_with("text/csv"));
    assert!(r.body.trim_start_matches('\u{feff}').starts_with("owner,name,account,tier,standard"), "{}", r.body);
}

// ---------------------------------------------------------------- 6. coverage

#[tokio::test]
async fn coverage_counts_soa_unowned_untouched_and_activated_for_a_period() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let director = bearer(&w, "director");
    let ctx = Ctx::system();
    for (code, name, kind, parent) in [("W", "西南大区", "region", "HQ"), ("CD", "成都分公司", "branch", "W")]
    {
        kam::app::people::org::create(
            t.db(),
            &ctx,
            &kam::app::records::input::Input::from_pairs(&[
                ("code", Some(code)),
                ("name", Some(name)),
                ("kind", Some(kind)),
                ("parent", Some(parent)),
            ]),
        )
        .await
        .expect("org");
    }
    let y = |v: i64| Some(v * 100);
    let a1 = insert_account(&t, "成都甲精密有限公司", "key_account", "W", "CD", Some("repA"), y(1_000_000), y(200_000))
        .await;
    let a2 = insert_account(&t, "成都乙电子有限公司", "prospect", "W", "CD", Some("repB"), y(3_000_000), None).await;
    let a3 = insert_account(&t, "成都丙材料有限公司", "prospect", "W", "CD", None, None, y(100_000)).await;
    // This month: repA calls on a1. Forty days ago (another month): repB visited a2.
    let now = Utc::now().to_rfc3339();
    let act = activity(&t, &bearer(&w, "repA"), phone(a1, &now, None)).await;
    activity(&t, &bearer(&w, "repB"), phone(a2, &days_ago_at_4(40), None)).await;
    // a1's first deal this month activates it.
    establish(&t, &bearer(&w, "repA"), a1, "成都一期", "300000.00").await;

    let cov = ok(t.get("/api/v1/reports/coverage?org=W", &director).await);
    assert_eq!(cov["period"], today().format("%Y-%m").to_string(), "this month by default: {cov}");
    let total = &cov["total"];
    assert_eq!(total["accounts"], 3, "{cov}");
    assert_eq!(total["covered"], 1, "{cov}");
    assert_eq!(total["soa"], "33.33", "1 of 3: {cov}");
    assert_eq!(total["owned"], 2, "{cov}");
    assert_eq!(total["untouched"], 1, "{cov}");
    assert_eq!(total["unowned"], 1, "{cov}");
    assert_eq!(total["activated"], 1, "{cov}");
    assert_eq!(total["buying_power"], "4000000.00", "{cov}");
    assert_eq!(total["sales_12m"], "200000.00", "sales without buying power stay out: {cov}");
    assert_eq!(total["sow"], "5.00", "200,000 of 4,000,000: {cov}");
    assert_eq!(ids(&cov["unowned"]), vec![a3], "{cov}");
    assert_eq!(ids(&cov["untouched"]), vec![a2], "{cov}");
    assert_eq!(ids(&cov["activated"]), vec![a1], "{cov}");
    let row = |list: &str, key: &str| {
        cov[list]
            .as_array()
            .expect(list)
            .iter()
            .find(|r| r["key"] == key)
            .cloned()
            .unwrap_or_else(|| panic!("{key} in {list}: {cov}"))
    };
    let a = row("people", "repA");
    assert_eq!((a["accounts"].as_i64(), a["covered"].as_i64(), a["soa"].as_str()), (Some(1), Some(1), Some("100.00")));
    let b = row("people", "repB");
    assert_eq!((b["accounts"].as_i64(), b["covered"].as_i64(), b["soa"].as_str()), (Some(1), Some(0), Some("0.00")));
    let team = row("teams", "manager");
    assert_eq!(
        (team["accounts"].as_i64(), team["covered"].as_i64(), team["soa"].as_str()),
        (Some(2), Some(1), Some("50.00"))
    );
    let region = row("regions", "W");
    assert_eq!((region["accounts"].as_i64(), region["soa"].as_str()), (Some(3), Some("33.33")), "{cov}");

    // The month forty days ago: repB's visit covered a2 then; a1 was untouched.
    let past = (today() - Duration::days(40)).format("%Y-%m").to_string();
    let cov = ok(t.get(&format!("/api/v1/reports/coverage?org=W&period={past}"), &director).await);
    assert_eq!(cov["total"]["covered"], 1, "{cov}");
    assert_eq!(cov["total"]["soa"], "33.33", "{cov}");
    assert_eq!(ids(&cov["untouched"]), vec![a1], "{cov}");
    assert_eq!(cov["total"]["activated"], 0, "{cov}");
    // Long ago: nothing covered.
    let cov = ok(t.get("/api/v1/reports/coverage?org=W&period=2020-01", &director).await);
    assert_eq!(cov["period"], "2020-01", "{cov}");
    assert_eq!(cov["from"], "2020-01-01", "{cov}");
    assert_eq!(cov["to"], "2020-01-31", "{cov}");
    assert_eq!(cov["total"]["accounts"], 3, "{cov}");
    assert_eq!(cov["total"]["covered"], 0, "{cov}");
    assert_eq!(cov["total"]["soa"], "0.00", "{cov}");
    let mut untouched = ids(&cov["untouched"]);
    untouched.sort();
    assert_eq!(untouched, vec![a1, a2], "{cov}");
    let r = t.get("/api/v1/reports/coverage?period=bad", &director).await;
    assert!(fields(&r).contains_key("period"), "{}", r.body);
    // A region with no accounts: SOA is not a number.
    let cov = ok(t.get("/api/v1/reports/coverage?org=TJ", &director).await);
    assert_eq!(cov["total"]["accounts"], 0, "{cov}");
    assert!(cov["total"]["soa"].is_null(), "{cov}");

    // Deleting the activity uncovers a1 this month.
    let r = t
        .call(
            Method::DELETE,
            &format!("/api/v1/activities/{}?version={}", act["id"], act["version"]),
            &bearer(&w, "repA"),
            None,
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    let cov = ok(t.get("/api/v1/reports/coverage?org=W", &director).await);
    assert_eq!(cov["total"]["covered"], 0, "{cov}");
    assert_eq!(cov["total"]["untouched"], 2, "{cov}");
}

// ---------------------------------------------------------------- 7. scope and downloads

#[tokio::test]
async fn reports_keep_to_the_callers_scope_name_bad_filters_and_download() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    // Account X: 1,500,000 of 2,500,000 = 60% → R1 (repA's); account C: no buying power (repC's).
    let director = ok(t.get("/api/v1/reports/rad", &bearer(&w, "director")).await);
    assert_eq!(director["total"]["accounts"], 2, "{director}");
    assert_eq!(cell(&director, "R1")["accounts"], 1, "{director}");
    assert_eq!(cell(&director, "R1")["buying_power"], "2500000.00", "{director}");
    assert_eq!(cell(&director, "R1")["sales_12m"], "1500000.00", "{director}");
    assert_eq!(director["unclassified"]["accounts"], 1, "{director}");
    let cells: Vec<&str> =
        director["cells"].as_array().expect("cells").iter().filter_map(|c| c["rad_class"].as_str()).collect();
    assert_eq!(cells, vec!["R1", "R2", "R3", "D1", "D2", "D3", "A1", "A2", "A3"]);

    let rep_a = ok(t.get("/api/v1/reports/rad", &bearer(&w, "repA")).await);
    assert_eq!(rep_a["total"]["accounts"], 1, "only repA's own: {rep_a}");
    assert_eq!(cell(&rep_a, "R1")["accounts"], 1, "{rep_a}");
    assert_eq!(rep_a["unclassified"]["accounts"], 0, "{rep_a}");
    let p = rep_a["portfolios"].as_array().expect("portfolios");
    assert_eq!(p.len(), 1, "{rep_a}");
    assert_eq!(
        (p[0]["owner"].as_str(), p[0]["r"].as_i64(), p[0]["r_focus"].as_str()),
        (Some("repA"), Some(1), Some("below"))
    );
    let rep_c = ok(t.get("/api/v1/reports/rad", &bearer(&w, "repC")).await);
    assert_eq!(rep_c["total"]["accounts"], 1, "{rep_c}");
    assert_eq!(rep_c["unclassified"]["accounts"], 1, "{rep_c}");
    assert_eq!(cell(&rep_c, "R1")["accounts"], 0, "account X is not repC's: {rep_c}");
    // Asking for someone else's org does not widen the scope.
    let r = ok(t.get("/api/v1/reports/rad?org=N", &bearer(&w, "repC")).await);
    assert_eq!(r["total"]["accounts"], 0, "{r}");
    let r = ok(t.get("/api/v1/reports/rad?owner=repA", &bearer(&w, "repC")).await);
    assert_eq!(r["total"]["accounts"], 0, "{r}");

    let cov = ok(t.get("/api/v1/reports/coverage", &bearer(&w, "repA")).await);
    assert_eq!(cov["total"]["accounts"], 1, "{cov}");
    let cov = ok(t.get("/api/v1/reports/coverage", &bearer(&w, "director")).await);
    assert_eq!(cov["total"]["accounts"], 2, "{cov}");
    // One account's classification is "not found" outside the caller's scope.
    let r = t.get(&format!("/api/v1/accounts/{}/classification", w.account_x), &bearer(&w, "repC")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let c = classification(&t, &bearer(&w, "repA"), w.account_x).await;
    assert_eq!(c["rad_class"], "R1", "{c}");
    assert_eq!(c["sales_12m_source"], "entered", "{c}");

    // Unknown org units and people are named.
    for path in [
        "/api/v1/reports/rad?org=UNKNOWN",
        "/api/v1/reports/coverage?org=UNKNOWN",
        "/api/v1/reports/service-standards?org=UNKNOWN",
    ] {
        let r = t.get(path, &bearer(&w, "director")).await;
        assert_eq!(fields(&r).get("org").map(String::as_str), Some("unknown_org_unit"), "{path}: {}", r.body);
    }
    let r = t.get("/api/v1/reports/rad?owner=nobody", &bearer(&w, "director")).await;
    assert!(fields(&r).contains_key("owner"), "{}", r.body);

    // Downloads.
    let r = t.get("/api/v1/reports/rad?format=csv", &bearer(&w, "repA")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.headers[header::CONTENT_TYPE].to_str().expect("type").starts_with("text/csv"), "{:?}", r.headers);
    let body = r.body.trim_start_matches('\u{feff}');
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines[0], "rad_class,accounts,buying_power,sales_12m,pipeline", "{body}");
    assert!(lines.contains(&"R1,1,2500000.00,1500000.00,0.00"), "{body}");
    let r = t.get("/api/v1/reports/coverage?format=csv", &bearer(&w, "repA")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.headers[header::CONTENT_TYPE].to_str().expect("type").starts_with("text/csv"));
    assert!(
        r.body.trim_start_matches('\u{feff}').starts_with("period,kind,key,name,accounts,covered,soa"),
        "{}",
        r.body
    );
    for path in [
        "/api/v1/reports/rad?format=xlsx",
        "/api/v1/reports/coverage?format=xlsx",
        "/api/v1/reports/service-standards?format=xlsx",
    ] {
        let r = t.get(path, &bearer(&w, "director")).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
        assert!(r.headers[header::CONTENT_TYPE].to_str().expect("type").contains("spreadsheetml"), "{path}");
        assert!(r.body.starts_with("PK"), "{path}: an XLSX (zip) file");
    }
    let r = t.get("/api/v1/reports/rad?format=pdf", &bearer(&w, "director")).await;
    assert!(fields(&r).contains_key("format"), "{}", r.body);
}

/// A won deal counts while it was booked within the trailing twelve months. When its booking
/// leaves the window, the scheduler's daily pass (once a day, however many servers run it)
/// takes it out of the account's sales, moves the class back and writes the history.
#[tokio::test]
async fn a_won_deal_leaves_the_trailing_sales_when_its_booking_is_a_year_old() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = bearer(&w, "repA");
    let acc = prospect(&t, &rep, "北京恒远数控设备有限公司").await;
    patched(&t, &rep, acc, json!({"buying_power": "1000000.00"})).await;
    let opp = establish(&t, &rep, acc, "数控改造", "600000.00").await;
    force(
        &t,
        &bearer(&w, "manager"),
        &opp,
        json!({"stage": "won", "booked_amount": "600000.00", "booked_on": ymd(today())}),
    )
    .await;
    let v = account(&t, &rep, acc).await;
    assert_eq!((v["sales_12m"].as_str(), v["rad_class"].as_str()), (Some("600000.00"), Some("R2")), "{v}");

    // A year and a few days on: the booking is older than the trailing twelve months.
    sqlx::query("UPDATE opportunities SET booked_on = $1 WHERE id = $2")
        .bind(ymd(today() - Duration::days(370)))
        .bind(opp["id"].as_i64().expect("id"))
        .execute(&t.db().pool)
        .await
        .expect("back-date the booking");
    let v = account(&t, &rep, acc).await;
    assert_eq!(v["sales_12m"], "600000.00", "nothing recomputes before the daily pass: {v}");
    // Two servers' passes on the same day: the first recomputes, the second finds it done.
    for _ in 0..2 {
        t.app.scheduler_pass("w1", Utc::now()).await.expect("pass");
    }
    let v = account(&t, &rep, acc).await;
    assert_eq!(v["sales_12m_won"], "0.00", "{v}");
    assert_eq!(v["sales_12m"], serde_json::Value::Null, "no sales left: {v}");
    assert_eq!(v["rad_class"], "A2", "0% of 1,000,000: {v}");
    let c = classification(&t, &rep, acc).await;
    assert_eq!(c["history"][0]["reason"], "sales_window", "{c}");
    assert_eq!(c["history"][0]["rad_class"], "A2", "{c}");
    let window_rows =
        c["history"].as_array().expect("history").iter().filter(|h| h["reason"] == "sales_window").count();
    assert_eq!(window_rows, 1, "recomputed once: {c}");
}
