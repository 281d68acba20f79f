//! The sales-credit split (issue 25 item 7): a signed order credits the KA team (the org unit
//! of the account's KA manager) and the branch where the deal happened, by default 100 % each,
//! 60 % and 40 % once the KA director chooses so (orders signed before keep their split); the
//! region and HQ totals count each order once; a cancelled order credits nothing; the KA
//! department's virtual profit centre is the credited profit less the spending on its cost
//! centres; a share outside 0–100 % is 422 naming it and saves nothing; units outside the
//! caller's part of the tree are 404.
use axum::http::{Method, StatusCode};
use chrono::Utc;
use serde_json::{json, Value};

use crate::common::{download, fields, seed, xlsx_rows, Auth, TestApp, World, PASSWORD};

fn bearer(w: &World, user: &str) -> Auth {
    Auth::Bearer(w.tokens[user].clone())
}

async fn ok(r: crate::common::Resp, status: StatusCode) -> Value {
    assert_eq!(r.status, status, "{}", r.body);
    r.json()
}

async fn id_of(t: &TestApp, table: &str, key: &str, value: &str) -> i64 {
    sqlx::Row::try_get(
        &sqlx::query(&format!("SELECT id FROM {table} WHERE {key} = $1"))
            .bind(value.to_string())
            .fetch_one(&t.db().pool)
            .await
            .expect("row"),
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

/// This year and month as orders are dated (their signing instant, UTC).
fn year() -> i64 {
    Utc::now().format("%Y").to_string().parse().expect("year")
}

fn month() -> String {
    Utc::now().format("%Y-%m").to_string()
}

/// The world with a KA manager `kam` in region N who manages account X (branch BJ), and a
/// product whose standard cost is 60,000.00: an order of one at 113,000.00 (13 % tax) has a
/// margin of 40,000.00.
async fn world(t: &TestApp) -> (World, Auth) {
    let w = seed(t).await;
    let body = json!({"username": "kam", "role": "ka_manager", "org_unit": "N", "password": PASSWORD,
        "display_name": "华北大客户经理"});
    ok(t.call(Method::POST, "/api/v1/users", &bearer(&w, "admin"), Some(body)).await, StatusCode::CREATED).await;
    let kam = id_of(t, "users", "username", "kam").await;
    sqlx::query("UPDATE accounts SET ka_manager_id = $1 WHERE id = $2")
        .bind(kam)
        .bind(w.account_x)
        .execute(&t.db().pool)
        .await
        .expect("ka manager");
    let body = json!({"code": "CMM-500", "name": "三坐标测量机", "unit": "台", "list_price": "120000.00",
        "floor_price": "80000.00", "standard_cost": "60000.00"});
    ok(t.call(Method::POST, "/api/v1/products", &bearer(&w, "director"), Some(body)).await, StatusCode::CREATED).await;
    let kam_auth = Auth::Bearer(t.token("kam").await);
    (w, kam_auth)
}

/// A signed order on account X: the KA manager's own, within his authority (signed at once).
async fn signed_order(t: &TestApp, w: &World) -> Value {
    let manager = bearer(w, "manager");
    let body = json!({"account_id": w.account_x, "lines": [{"product_code": "CMM-500", "quantity": "1", "unit_price": "113000.00"}]});
    let o = ok(t.call(Method::POST, "/api/v1/orders", &manager, Some(body)).await, StatusCode::CREATED).await;
    let o = ok(
        t.call(
            Method::POST,
            &format!("/api/v1/orders/{}/submit", o["id"]),
            &manager,
            Some(json!({"version": o["version"]})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(o["state"], "signed", "{o}");
    o
}

fn unit<'a>(list: &'a Value, code: &str) -> &'a Value {
    list.as_array().expect("units").iter().find(|u| u["code"] == code).unwrap_or_else(|| panic!("{code} in {list}"))
}

fn cell<'a>(u: &'a Value, m: &str) -> &'a Value {
    u["months"].as_array().expect("months").iter().find(|c| c["month"] == m).expect("month")
}

async fn attainment(t: &TestApp, who: &Auth, extra: &str) -> Value {
    ok(t.get(&format!("/api/v1/attainment?year={}{extra}", year()), who).await, StatusCode::OK).await
}

#[tokio::test]
async fn the_split_credits_the_ka_team_and_the_branch_and_the_totals_count_each_order_once() {
    let t = TestApp::new().await;
    let (w, _) = world(&t).await;
    let director = bearer(&w, "director");
    // The branch's quota of the month: 226,000.00 revenue, 80,000.00 profit.
    let bj = id_of(&t, "org_units", "code", "BJ").await;
    sqlx::query(
        "INSERT INTO quotas (month, org_unit_id, amount, profit, version, created_at, updated_at) \
         VALUES ($1, $2, 22600000, 8000000, 1, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
    )
    .bind(month())
    .bind(bj)
    .execute(&t.db().pool)
    .await
    .expect("quota");

    // By default each side is credited the whole order.
    let split = ok(t.get("/api/v1/attainment/split", &director).await, StatusCode::OK).await;
    assert_eq!((split["team_share"].as_str(), split["branch_share"].as_str()), (Some("100.00"), Some("100.00")));
    assert_eq!(split["version"], 0);
    signed_order(&t, &w).await;
    let a = attainment(&t, &director, "").await;
    let team = unit(&a["teams"], "N");
    assert_eq!(
        (team["total"]["revenue"].as_str(), team["total"]["profit"].as_str()),
        (Some("113000.00"), Some("40000.00")),
        "{a}"
    );
    assert_eq!(team["side"], "ka_team");
    let branch = unit(&a["branches"], "BJ");
    assert_eq!(
        (branch["total"]["revenue"].as_str(), branch["total"]["profit"].as_str()),
        (Some("113000.00"), Some("40000.00"))
    );
    let m = cell(branch, &month());
    assert_eq!((m["quota_revenue"].as_str(), m["revenue_pct"].as_str()), (Some("226000.00"), Some("50.00")), "{m}");
    assert_eq!(m["profit_pct"], "50.00");
    // The region and headquarters count the order once, not the two credits added up.
    assert_eq!(unit(&a["regions"], "N")["total"]["revenue"], "113000.00");
    assert_eq!(
        (a["hq"]["total"]["revenue"].as_str(), a["hq"]["total"]["orders"].as_i64()),
        (Some("113000.00"), Some(1))
    );

    // 60 / 40 from now on: the order signed before keeps its split.
    let split = ok(
        t.call(
            Method::PUT,
            "/api/v1/attainment/split",
            &director,
            Some(json!({"team_share": "60", "branch_share": "40", "note": "按 60/40 计入", "version": 0})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (split["team_share"].as_str(), split["branch_share"].as_str(), split["version"].as_i64()),
        (Some("60.00"), Some("40.00"), Some(1))
    );
    assert_eq!(split["set_by_name"], "director");
    let second = signed_order(&t, &w).await;
    let a = attainment(&t, &director, "").await;
    let team = unit(&a["teams"], "N");
    // 113,000.00 + 60 % of 113,000.00; 40,000.00 + 60 % of 40,000.00.
    assert_eq!(
        (team["total"]["revenue"].as_str(), team["total"]["profit"].as_str()),
        (Some("180800.00"), Some("64000.00")),
        "{a}"
    );
    assert_eq!(team["share"], "60.00");
    let branch = unit(&a["branches"], "BJ");
    assert_eq!(
        (branch["total"]["revenue"].as_str(), branch["total"]["profit"].as_str()),
        (Some("158200.00"), Some("56000.00"))
    );
    assert_eq!(branch["share"], "40.00");
    assert_eq!(
        (a["hq"]["total"]["revenue"].as_str(), a["hq"]["total"]["orders"].as_i64()),
        (Some("226000.00"), Some(2))
    );
    assert_eq!(unit(&a["regions"], "N")["total"]["profit"], "80000.00");

    // A cancelled order credits nothing.
    let manager = bearer(&w, "manager");
    let o = ok(t.get(&format!("/api/v1/orders/{}", second["id"]), &manager).await, StatusCode::OK).await;
    ok(
        t.call(
            Method::POST,
            &format!("/api/v1/orders/{}/cancel", second["id"]),
            &manager,
            Some(json!({"version": o["version"], "reason": "客户取消"})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let a = attainment(&t, &director, "").await;
    assert_eq!(unit(&a["teams"], "N")["total"]["revenue"], "113000.00");
    assert_eq!(unit(&a["branches"], "BJ")["total"]["revenue"], "113000.00");
    assert_eq!(a["hq"]["total"]["orders"], 1);

    // The page shows both sides and the split; the download has a row per unit and month.
    let (sid, _) = t.ui_login("director", PASSWORD, None).await.expect("login");
    let page =
        t.get(&format!("/attainment?year={}", year()), &Auth::Session { cookie: sid, csrf: String::new() }).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("华北大区") && page.body.contains("北京分公司"), "{}", page.body);
    assert!(page.body.contains("113,000.00") || page.body.contains("113000.00"), "{}", page.body);
    let (status, _, bytes) = download(&t, &format!("/api/v1/attainment?year={}&format=xlsx", year()), &director).await;
    assert_eq!(status, StatusCode::OK);
    let rows = xlsx_rows(bytes, "attainment");
    assert!(rows.len() > 26, "{rows:?}");
}

#[tokio::test]
async fn a_share_outside_0_to_100_is_refused_naming_it_and_nothing_is_saved() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let director = bearer(&w, "director");
    let r = t
        .call(
            Method::PUT,
            "/api/v1/attainment/split",
            &director,
            Some(json!({"team_share": "120", "branch_share": "abc", "version": 0})),
        )
        .await;
    let f = fields(&r);
    assert_eq!(f.get("team_share").map(String::as_str), Some("percent_range"), "{f:?}");
    assert_eq!(f.get("branch_share").map(String::as_str), Some("percent_format"), "{f:?}");
    assert_eq!(count(&t, "credit_splits").await, 0);
    // Not the KA director's or the administrator's to set; a stale version is 409.
    let r = t
        .call(
            Method::PUT,
            "/api/v1/attainment/split",
            &bearer(&w, "repA"),
            Some(json!({"team_share": "50", "branch_share": "50", "version": 0})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let ok1 = t
        .call(
            Method::PUT,
            "/api/v1/attainment/split",
            &bearer(&w, "admin"),
            Some(json!({"team_share": "70", "branch_share": "30", "version": 0})),
        )
        .await;
    assert_eq!(ok1.status, StatusCode::OK, "{}", ok1.body);
    let r = t
        .call(
            Method::PUT,
            "/api/v1/attainment/split",
            &director,
            Some(json!({"team_share": "50", "branch_share": "50", "version": 0})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(count(&t, "credit_splits").await, 1);
    // The audit trail has the change.
    let n: i64 = sqlx::Row::try_get(
        &sqlx::query("SELECT COUNT(*) AS n FROM audit_log WHERE entity = 'credit_split'")
            .fetch_one(&t.db().pool)
            .await
            .expect("audit"),
        "n",
    )
    .expect("n");
    assert_eq!(n, 1);

    // The form keeps what was typed and names the field.
    let (sid, csrf) = t.ui_login("director", PASSWORD, None).await.expect("login");
    let form = t.get_form("/attainment/split", &Auth::Session { cookie: sid.clone(), csrf: String::new() }).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("70.00"), "{}", form.body);
    let r = t
        .ui_post(
            "/attainment/split",
            &sid,
            &[("_csrf", &csrf), ("team_share", "150"), ("branch_share", "40"), ("version", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("value=\"150\""), "{}", r.body);
    assert!(r.body.contains("大客户团队分成"), "{}", r.body);
    assert_eq!(count(&t, "credit_splits").await, 1);
    let r = t
        .ui_post(
            "/attainment/split",
            &sid,
            &[("_csrf", &csrf), ("team_share", "60"), ("branch_share", "40"), ("version", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(count(&t, "credit_splits").await, 2);
}

#[tokio::test]
async fn the_profit_centre_is_the_credited_profit_less_the_ka_departments_spending() {
    let t = TestApp::new().await;
    let (w, _) = world(&t).await;
    let director = bearer(&w, "director");
    signed_order(&t, &w).await;
    // Spent this month: 5,000.00 at headquarters (the KA department) and 3,000.00 in region N
    // (the KA team's unit) count; 7,000.00 in branch SH (no KA team) does not; one waiting for
    // its signature does not either.
    let day = Utc::now().format("%Y-%m-%d").to_string();
    let admin = id_of(&t, "users", "username", "director").await;
    for (code, amount, state) in
        [("HQ", 500000, "signed"), ("N", 300000, "approved"), ("SH", 700000, "signed"), ("HQ", 900000, "submitted")]
    {
        let cc = id_of(&t, "org_units", "code", code).await;
        let b: i64 = match sqlx::query("SELECT id FROM budgets WHERE org_unit_id = $1")
            .bind(cc)
            .fetch_optional(&t.db().pool)
            .await
            .expect("b")
        {
            Some(r) => sqlx::Row::try_get(&r, "id").expect("id"),
            None => sqlx::Row::try_get(
                &sqlx::query(
                    "INSERT INTO budgets (org_unit_id, year, state, drafted_by, created_at, updated_by, updated_at) \
                     VALUES ($1, $2, 'approved', $3, $4, 'director', $4) RETURNING id",
                )
                .bind(cc)
                .bind(year())
                .bind(admin)
                .bind(format!("{day}T00:00:00Z"))
                .fetch_one(&t.db().pool)
                .await
                .expect("budget"),
                "id",
            )
            .expect("id"),
        };
        sqlx::query(
            "INSERT INTO spending (budget_id, org_unit_id, category, spent_on, amount, purpose, state, in_budget, \
             recorded_by, created_at, updated_at) VALUES ($1, $2, 'travel', $3, $4, '差旅', $5, 1, $6, $7, $7)",
        )
        .bind(b)
        .bind(cc)
        .bind(day.clone())
        .bind(amount as i64)
        .bind(state)
        .bind(admin)
        .bind(format!("{day}T00:00:00Z"))
        .execute(&t.db().pool)
        .await
        .expect("spending");
    }
    let p =
        ok(t.get(&format!("/api/v1/attainment/profit-centre?year={}", year()), &director).await, StatusCode::OK).await;
    assert_eq!(
        (
            p["total"]["revenue"].as_str(),
            p["total"]["profit"].as_str(),
            p["total"]["costs"].as_str(),
            p["total"]["result"].as_str()
        ),
        (Some("113000.00"), Some("40000.00"), Some("8000.00"), Some("32000.00")),
        "{p}"
    );
    let m = cell(&p, &month());
    assert_eq!(m["result"], "32000.00");
    let codes: Vec<&str> =
        p["cost_centres"].as_array().expect("centres").iter().filter_map(|c| c["code"].as_str()).collect();
    assert!(codes.contains(&"HQ") && codes.contains(&"N") && !codes.contains(&"SH"), "{codes:?}");
    let (status, _, bytes) =
        download(&t, &format!("/api/v1/attainment/profit-centre?year={}&format=xlsx", year()), &director).await;
    assert_eq!(status, StatusCode::OK);
    let rows = xlsx_rows(bytes, "profit_centre");
    assert_eq!(rows.len(), 14, "a header, twelve months and the year: {rows:?}");
    // The page shows the result; the department's figures are not a branch manager's.
    let (sid, _) = t.ui_login("finance", PASSWORD, None).await.expect("login");
    let page = t
        .get(&format!("/attainment/profit-centre?year={}", year()), &Auth::Session { cookie: sid, csrf: String::new() })
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("32,000.00") || page.body.contains("32000.00"), "{}", page.body);
    let r = t.get(&format!("/api/v1/attainment/profit-centre?year={}", year()), &bearer(&w, "region")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
}

#[tokio::test]
async fn managers_see_the_units_of_their_part_of_the_tree_and_others_are_404() {
    let t = TestApp::new().await;
    let (w, kam) = world(&t).await;
    signed_order(&t, &w).await;
    // The KA manager of BJ sees the branch, not region N's KA team nor HQ's total.
    let manager = bearer(&w, "manager");
    let a = attainment(&t, &manager, "").await;
    assert_eq!(unit(&a["branches"], "BJ")["total"]["revenue"], "113000.00");
    assert!(a["teams"].as_array().expect("teams").is_empty(), "{a}");
    assert!(a["hq"].is_null(), "{a}");
    for code in ["N", "SH", "NOPE"] {
        let r = t.get(&format!("/api/v1/attainment?year={}&unit={code}", year()), &manager).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{code}: {}", r.body);
    }
    // The page offers the manager's own units only; another unit's page is not there.
    let (sid, _) = t.ui_login("manager", PASSWORD, None).await.expect("login");
    let me = Auth::Session { cookie: sid, csrf: String::new() };
    let page = t.get(&format!("/attainment?year={}", year()), &me).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("北京分公司") && !page.body.contains("上海分公司"), "{}", page.body);
    let page = t.get(&format!("/attainment?year={}&unit=SH", year()), &me).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    // Region N's KA manager and branch manager see the team, the branch and the region.
    for who in [kam, bearer(&w, "region")] {
        let a = attainment(&t, &who, "").await;
        assert_eq!(unit(&a["teams"], "N")["total"]["revenue"], "113000.00");
        assert_eq!(unit(&a["regions"], "N")["total"]["revenue"], "113000.00");
        let one = attainment(&t, &who, "&unit=BJ").await;
        assert_eq!(one["branches"].as_array().map(Vec::len), Some(1), "{one}");
        assert!(one["teams"].as_array().expect("teams").is_empty());
    }
    // The finance manager sees everything; a salesperson nothing.
    let a = attainment(&t, &bearer(&w, "finance"), "").await;
    assert_eq!(a["hq"]["total"]["revenue"], "113000.00");
    let r = t.get("/api/v1/attainment", &bearer(&w, "repA")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = t.get("/api/v1/attainment/split", &bearer(&w, "repA")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
}

#[tokio::test]
async fn the_demo_has_the_split_and_both_sides_and_the_profit_centre_show_numbers() {
    let t = TestApp::new().await;
    t.demo().await;
    let director = Auth::Bearer(t.token("director").await);
    let split = ok(t.get("/api/v1/attainment/split", &director).await, StatusCode::OK).await;
    assert_eq!((split["team_share"].as_str(), split["version"].as_i64()), (Some("100.00"), Some(1)), "{split}");
    let a = ok(t.get("/api/v1/attainment", &director).await, StatusCode::OK).await;
    let teams = a["teams"].as_array().expect("teams");
    assert!(teams.len() >= 4, "every region's KA team: {a}");
    assert!(teams.iter().all(|u| u["total"]["revenue"] != "0.00"), "{a}");
    assert!(a["branches"].as_array().is_some_and(|b| b.len() >= 4), "{a}");
    let p = ok(t.get("/api/v1/attainment/profit-centre", &director).await, StatusCode::OK).await;
    assert_ne!(p["total"]["profit"], "0.00", "{p}");
    assert_ne!(p["total"]["costs"], "0.00", "{p}");
}
