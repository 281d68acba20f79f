//! The six-monthly progress report (issue 23 item 6) and the whitespace grid (item 8), through
//! the API and the pages, on whichever backend the suite runs on: the report lists a strategic
//! account's plan for a half with its objectives' status, a milestone hit and one missed, the
//! revenue booked in the half against the forecast; a B account's plan is left out with the
//! default settings; a rep sees only their accounts' plans; a malformed half is 422; the XLSX
//! carries numbers; the printed form is A4. The whitespace grid: sold and pipeline from an
//! order and an open opportunity's quote, a competitor set by hand overriding it and saying by
//! whom, 422s by field, 404 out of scope, read-only for finance, a cell opening its
//! opportunity.
use axum::http::{Method, StatusCode};
use calamine::Data;
use kam::app::plans::plans;
use kam::app::Ctx;
use serde_json::{json, Value};

use super::common::{download, fields, seed, xlsx_rows, Auth, TestApp, World, PASSWORD};

fn bearer(w: &World, user: &str) -> Auth {
    Auth::Bearer(w.tokens[user].clone())
}

async fn exec(t: &TestApp, sql: &str, text: &str, id: i64) {
    sqlx::query(sql).bind(text).bind(id).execute(&t.db().pool).await.expect(sql);
}

/// The account's plan of `year` begun as the system would, its body then written as given.
async fn plan(t: &TestApp, account: i64, year: i32, body: Value) -> i64 {
    let mut tx = t.db().begin().await.expect("tx");
    let initial = plans::initial_body(tx.conn(), account, year).await.expect("initial body");
    // The KA director (who sees every account) begins it.
    let sys = Ctx::system();
    let ctx =
        Ctx { caller: kam::app::Caller { role: kam::domain::role::Role::KaDirector, ..sys.caller.clone() }, ..sys };
    let id = plans::create_in(&mut tx, &ctx, account, year, &initial, chrono::Utc::now()).await.expect("plan created");
    tx.commit().await.expect("commit");
    exec(t, "UPDATE account_plans SET body = $1 WHERE id = $2", &body.to_string(), id).await;
    id
}

/// A key account of `tier` owned by `owner` (account C of the seed is repC's, in region E).
async fn key_account(t: &TestApp, account: i64, tier: &str) {
    exec(t, "UPDATE accounts SET status = 'key_account', tier = $1 WHERE id = $2", tier, account).await;
}

async fn product(t: &TestApp, w: &World, code: &str, category: &str) {
    let body = json!({"code": code, "name": format!("产品 {code}"), "unit": "台", "list_price": "100000.00", "category": category});
    let r = t.call(Method::POST, "/api/v1/products", &bearer(w, "director"), Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

/// A signed order of account X (the KA manager's own, within their authority: signed at
/// once) of one line of `product` at `amount`, signed on `signed_at`.
async fn signed_order(t: &TestApp, w: &World, product: &str, amount: &str, signed_at: &str) -> i64 {
    let manager = bearer(w, "manager");
    let body = json!({
        "account_id": w.account_x,
        "lines": [{"product_code": product, "quantity": "1", "unit_price": amount}],
        "payment_terms": [{"kind": "advance", "percent": "100", "due": "15 days after invoice"}]
    });
    let r = t.call(Method::POST, "/api/v1/orders", &manager, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let o = r.json();
    let id = o["id"].as_i64().expect("id");
    let r = t
        .call(Method::POST, &format!("/api/v1/orders/{id}/submit"), &manager, Some(json!({"version": o["version"]})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["state"], "signed", "{}", r.body);
    exec(t, "UPDATE orders SET signed_at = $1 WHERE id = $2", signed_at, id).await;
    id
}

fn strategic_body() -> Value {
    json!({
        "performance": {"attention": "采购总监换人，需重建关系"},
        "objectives": [
            {"key": "rev", "title": "全年订货十万", "owner": "repA", "measure": "revenue", "target": "100000.00", "due_on": "2025-12-31"},
            {"key": "share", "title": "进入二期项目短名单", "owner": "repA", "measure": "manual", "status": "on_track", "percent": 60, "due_on": "2025-12-31"},
            {"key": "late", "title": "完成技术交流会", "owner": "repB", "measure": "manual", "status": "open", "percent": 10, "due_on": "2025-05-31"}
        ],
        "actions": {"actions": [
            {"key": "m-hit", "title": "样机验收", "kind": "project", "owner": "repA", "due_on": "2025-03-31", "milestone": true, "status": "done"},
            {"key": "m-miss", "title": "签订框架协议", "kind": "project", "owner": "repA", "due_on": "2025-06-15", "milestone": true, "status": "on_track", "percent": 30},
            {"key": "m-later", "title": "二期招标", "kind": "project", "owner": "repA", "due_on": "2025-10-31", "milestone": true}
        ]},
        "forecast": [
            {"year": 2025, "revenue": "1000000.00", "contribution": "200000.00", "cost": "50000.00"},
            {"year": 2026, "revenue": "1500000.00", "contribution": "300000.00", "cost": "60000.00"}
        ]
    })
}

fn titles(v: &Value) -> Vec<String> {
    v.as_array().expect("list").iter().map(|m| m["title"].as_str().unwrap_or("").to_string()).collect()
}

#[tokio::test]
async fn the_report_shows_a_strategic_plans_half_and_leaves_out_b_and_other_reps_accounts() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    key_account(&t, w.account_x, "strategic").await;
    key_account(&t, w.account_c, "A").await;
    product(&t, &w, "CMM-500", "测量设备").await;
    // Booked in H1 (120,000) and in H2 (50,000: not in the half, nor the year to its end).
    signed_order(&t, &w, "CMM-500", "120000.00", "2025-03-15T02:00:00Z").await;
    signed_order(&t, &w, "CMM-500", "50000.00", "2025-08-01T02:00:00Z").await;
    let x_plan = plan(&t, w.account_x, 2025, strategic_body()).await;
    let c_plan = plan(&t, w.account_c, 2025, json!({})).await;
    // A B account of repA's with a plan: not in the report by default.
    let b = {
        let mut tx = t.db().begin().await.unwrap();
        let data = kam::app::customers::accounts::AccountData {
            name: "天津远航机械有限公司".into(),
            industry: "enterprise".into(),
            level: "L2".into(),
            status: "key_account".into(),
            owner_id: Some(
                sqlx::Row::try_get(
                    &sqlx::query("SELECT id FROM users WHERE username = 'repA'").fetch_one(&t.db().pool).await.unwrap(),
                    "id",
                )
                .unwrap(),
            ),
            ..Default::default()
        };
        let id = kam::app::customers::accounts::insert(&mut tx, &Ctx::system(), &data).await.unwrap();
        tx.commit().await.unwrap();
        id
    };
    key_account(&t, b, "B").await;
    plan(&t, b, 2025, json!({})).await;

    let director = bearer(&w, "director");
    let r = t.get("/api/v1/plans/report?half=2025-H1", &director).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let rep = r.json();
    assert_eq!(
        (rep["from"].as_str(), rep["to"].as_str(), rep["as_of"].as_str()),
        (Some("2025-01-01"), Some("2025-06-30"), Some("2025-06-30"))
    );
    assert_eq!(rep["tiers"], json!(["strategic", "A"]));
    let plans_listed: Vec<i64> =
        rep["items"].as_array().unwrap().iter().map(|i| i["plan_id"].as_i64().unwrap()).collect();
    assert_eq!(plans_listed, [x_plan, c_plan], "strategic first, then A; the B account's plan left out: {rep}");
    let x = &rep["items"][0];
    assert_eq!((x["tier"].as_str(), x["owner_name"].as_str()), (Some("strategic"), Some("repA")));
    // Objectives as of the half's end: the revenue one done by the 120,000 booked, the manual
    // one on track, the one past due at risk.
    let status: Vec<(&str, &str)> = x["objectives"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["key"].as_str().unwrap(), o["status"].as_str().unwrap()))
        .collect();
    assert_eq!(status, [("rev", "done"), ("share", "on_track"), ("late", "at_risk")], "{x}");
    assert_eq!(x["objectives"][0]["current"], "120000.00");
    assert_eq!(x["objective_counts"], json!({"done": 1, "on_track": 1, "at_risk": 1, "missed": 0, "open": 0}));
    assert_eq!(titles(&x["milestones_hit"]), ["样机验收"]);
    assert_eq!(titles(&x["milestones_missed"]), ["签订框架协议"]);
    let f = &x["financials"];
    assert_eq!(
        (
            f["forecast_year"].as_str(),
            f["forecast_half"].as_str(),
            f["booked_half"].as_str(),
            f["booked_ytd"].as_str(),
            f["gap"].as_str()
        ),
        (Some("1000000.00"), Some("500000.00"), Some("120000.00"), Some("120000.00"), Some("-380000.00")),
        "{f}"
    );
    let slipping = titles(&x["slipping"]);
    assert!(
        slipping.contains(&"完成技术交流会".to_string()) && slipping.contains(&"签订框架协议".to_string()),
        "{slipping:?}"
    );
    assert_eq!(x["attention"], "采购总监换人，需重建关系");
    assert_eq!(rep["totals"]["plans"], 2);
    assert_eq!(rep["totals"]["financials"]["booked_half"], "120000.00");
    assert_eq!(rep["totals"]["milestones_hit"], 1);
    // In H2 the order of August is in the half, the year to date is both.
    let h2 = t.get("/api/v1/plans/report?half=2025-H2", &director).await.json();
    assert_eq!(h2["items"][0]["financials"]["booked_half"], "50000.00");
    assert_eq!(h2["items"][0]["financials"]["booked_ytd"], "170000.00");
    // Filters: a tier, a region.
    let only_a = t.get("/api/v1/plans/report?half=2025-H1&tier=A", &director).await.json();
    assert_eq!(only_a["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(only_a["items"][0]["plan_id"], c_plan);
    let east = t.get("/api/v1/plans/report?half=2025-H1&region=E", &director).await.json();
    assert_eq!(east["items"].as_array().map(Vec::len), Some(1));

    // A rep sees only their accounts' plans.
    let mine = t.get("/api/v1/plans/report?half=2025-H1", &bearer(&w, "repA")).await.json();
    let ids: Vec<i64> = mine["items"].as_array().unwrap().iter().map(|i| i["plan_id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [x_plan]);
    let theirs = t.get("/api/v1/plans/report?half=2025-H1", &bearer(&w, "repC")).await.json();
    let ids: Vec<i64> = theirs["items"].as_array().unwrap().iter().map(|i| i["plan_id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [c_plan]);

    // A malformed half, or a tier the report does not cover, is named.
    for bad in ["2025-H3", "2025", "H1-2025", "25-H1"] {
        let r = t.get(&format!("/api/v1/plans/report?half={bad}"), &director).await;
        assert_eq!(fields(&r).get("half").map(String::as_str), Some("half_year_format"), "{bad}");
    }
    let r = t.get("/api/v1/plans/report?half=2025-H1&tier=B", &director).await;
    assert_eq!(fields(&r).get("tier").map(String::as_str), Some("invalid_choice"));

    // The XLSX through the API: a row per plan, then the totals; amounts and counts as numbers.
    let (status, headers, bytes) = download(&t, "/api/v1/plans/report?half=2025-H1&format=xlsx", &director).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers["content-type"].to_str().unwrap().contains("spreadsheetml"));
    let rows = xlsx_rows(bytes, "plan_report");
    let col = |k: &str| {
        rows[0].iter().position(|h| matches!(h, Data::String(s) if s == k)).unwrap_or_else(|| panic!("column {k}"))
    };
    assert_eq!(rows.len(), 4, "headers, two plans, totals");
    assert_eq!(rows[1][col("account")], Data::String("北京星河精密制造有限公司".into()));
    assert_eq!(rows[1][col("amount_booked_half")], Data::Float(120000.0));
    assert_eq!(rows[1][col("amount_gap")], Data::Float(-380000.0));
    assert_eq!(rows[1][col("count_milestones_missed")], Data::Float(1.0));
    assert_eq!(rows[3][col("amount_forecast_half")], Data::Float(500000.0));

    // The pages: the report with links to the plans, its XLSX labelled, the A4 print.
    let (sid, _) = t.ui_login("director", PASSWORD, None).await.expect("sign in");
    let ui = Auth::Session { cookie: sid, csrf: String::new() };
    let page = t.get("/plans/report?half=2025-H1", &ui).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains(&format!("href=\"/plans/{x_plan}\"")) && page.body.contains("样机验收"),
        "{}",
        page.body
    );
    assert!(page.body.contains("半年预测收入（年度预测的一半）"));
    let empty = t.get("/plans/report?half=2024-H1", &ui).await;
    assert!(empty.body.contains("id=\"report-empty\""), "{}", empty.body);
    assert_eq!(t.get("/plans/report?half=2025-H9", &ui).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _, bytes) = download(&t, "/plans/report.xlsx?half=2025-H1", &ui).await;
    assert_eq!(status, StatusCode::OK);
    let rows = xlsx_rows(bytes, "plan_report");
    assert!(rows[0].iter().any(|h| matches!(h, Data::String(s) if s == "本半年实际订货")), "{:?}", rows[0]);
    let print = t.get("/plans/report/print?half=2025-H1", &ui).await;
    assert_eq!(print.status, StatusCode::OK);
    assert!(print.body.contains("<body class=\"a4\">") && print.body.contains("/static/print.css"));
    assert!(print.body.contains("北京星河精密制造有限公司") && print.body.contains("签订框架协议"));
}

/// The cell of `line` in the row of `bu`.
fn cell<'a>(g: &'a Value, bu: &str, line: &str) -> &'a Value {
    g["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["business_unit"] == bu)
        .and_then(|r| r["cells"].as_array().unwrap().iter().find(|c| c["product_line"] == line))
        .unwrap_or_else(|| panic!("cell {bu} × {line}: {g}"))
}

#[tokio::test]
async fn whitespace_comes_from_orders_and_quotes_and_a_hand_set_cell_overrides_it() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let x = w.account_x;
    let (rep, finance) = (bearer(&w, "repA"), bearer(&w, "finance"));
    for (code, cat) in [("CMM-500", "测量设备"), ("SW-1", "软件"), ("SV-1", "服务")] {
        product(&t, &w, code, cat).await;
    }
    let grid = format!("/api/v1/accounts/{x}/whitespace");
    // No business units named: one row, the whole account.
    let g = t.get(&grid, &rep).await.json();
    assert_eq!((g["whole_account"].as_bool(), g["rows"].as_array().map(Vec::len)), (Some(true), Some(1)), "{g}");
    assert_eq!(cell(&g, "整体", "测量设备")["state"], "open");

    exec(&t, "UPDATE accounts SET business_units = $1 WHERE id = $2", "乘用车事业部，商用车事业部\n", x).await;
    signed_order(&t, &w, "CMM-500", "120000.00", "2025-03-15T02:00:00Z").await;
    let opp = super::common::opportunity(&t, &rep, x, "软件升级").await;
    let body = json!({"lines": [{"product_code": "SW-1", "quantity": "1", "unit_price": "90000.00"}]});
    let r = t.call(Method::POST, &format!("/api/v1/opportunities/{opp}/quotes"), &rep, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

    let g = t.get(&grid, &rep).await.json();
    assert_eq!(g["whole_account"], false);
    let mut lines: Vec<String> =
        g["product_lines"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    lines.sort();
    let mut expected = vec!["服务".to_string(), "测量设备".to_string(), "软件".to_string()];
    expected.sort();
    assert_eq!(lines, expected);
    for bu in ["乘用车事业部", "商用车事业部"] {
        assert_eq!(cell(&g, bu, "测量设备")["state"], "sold", "every row: {g}");
        assert_eq!(cell(&g, bu, "软件")["state"], "pipeline");
        assert_eq!(cell(&g, bu, "服务")["state"], "open");
    }
    assert_eq!(g["editable"], true);

    // A competitor set by hand overrides the data and says by whom; the other row keeps it.
    let cells = format!("/api/v1/accounts/{x}/whitespace/cells");
    let body = json!({"business_unit": "乘用车事业部", "product_line": "测量设备", "state": "competitor", "note": "海克斯康已供货"});
    let r = t.call(Method::PUT, &cells, &rep, Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let g = r.json();
    let c = cell(&g, "乘用车事业部", "测量设备");
    assert_eq!(
        (
            c["state"].as_str(),
            c["data_state"].as_str(),
            c["by_hand"].as_bool(),
            c["set_by"].as_str(),
            c["set_by_name"].as_str()
        ),
        (Some("competitor"), Some("sold"), Some(true), Some("repA"), Some("repA")),
        "{c}"
    );
    assert_eq!(c["note"], "海克斯康已供货");
    assert_eq!(cell(&g, "商用车事业部", "测量设备")["state"], "sold");
    let audited: i64 = sqlx::Row::try_get(
        &sqlx::query("SELECT COUNT(*) AS n FROM audit_log WHERE entity = 'whitespace_cell' AND action = 'update'")
            .fetch_one(&t.db().pool)
            .await
            .unwrap(),
        "n",
    )
    .unwrap();
    assert_eq!(audited, 1);

    // Bad input is named by field, nothing saved.
    let body = json!({"business_unit": "不存在的事业部", "product_line": "飞机", "state": "won", "note": null});
    let f = fields(&t.call(Method::PUT, &cells, &rep, Some(body)).await);
    assert_eq!(
        (
            f.get("business_unit").map(String::as_str),
            f.get("product_line").map(String::as_str),
            f.get("state").map(String::as_str)
        ),
        (Some("not_a_business_unit"), Some("unknown_product_line"), Some("invalid_choice")),
        "{f:?}"
    );
    // Out of scope: 404; finance reads but may not set.
    assert_eq!(t.get(&grid, &bearer(&w, "repC")).await.status, StatusCode::NOT_FOUND);
    let body = json!({"business_unit": "乘用车事业部", "product_line": "服务", "state": "open"});
    assert_eq!(
        t.call(Method::PUT, &cells, &bearer(&w, "repC"), Some(body.clone())).await.status,
        StatusCode::NOT_FOUND
    );
    let seen = t.get(&grid, &finance).await;
    assert_eq!(seen.status, StatusCode::OK);
    assert_eq!(seen.json()["editable"], false);
    assert_eq!(t.call(Method::PUT, &cells, &finance, Some(body)).await.status, StatusCode::FORBIDDEN);

    // The cell opens its opportunity; the sold one its order.
    let r = t.get(&format!("/api/v1/accounts/{x}/whitespace/cell?bu=商用车事业部&line=软件"), &rep).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let d = r.json();
    assert_eq!(d["opportunities"].as_array().map(Vec::len), Some(1), "{d}");
    assert_eq!(d["opportunities"][0]["id"], opp);
    assert_eq!(d["cell"]["state"], "pipeline");
    let d = t.get(&format!("/api/v1/accounts/{x}/whitespace/cell?bu=乘用车事业部&line=测量设备"), &rep).await.json();
    assert_eq!(d["orders"].as_array().map(Vec::len), Some(1), "{d}");
    let r = t.get(&format!("/api/v1/accounts/{x}/whitespace/cell?bu=x&line=软件"), &rep).await;
    assert_eq!(fields(&r).get("business_unit").map(String::as_str), Some("not_a_business_unit"));

    // Cleared, the cell is the data's again.
    let body = json!({"business_unit": "乘用车事业部", "product_line": "测量设备", "state": null});
    let g = t.call(Method::PUT, &cells, &rep, Some(body)).await.json();
    let c = cell(&g, "乘用车事业部", "测量设备");
    assert_eq!((c["state"].as_str(), c["by_hand"].as_bool()), (Some("sold"), Some(false)), "{c}");

    // The pages: the grid with its legend and links, the cell page with the opportunity, the
    // form setting a cell.
    let (sid, csrf) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");
    let ui = Auth::Session { cookie: sid.clone(), csrf: String::new() };
    let page = t.get(&format!("/accounts/{x}/whitespace"), &ui).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("id=\"whitespace-legend\"") && page.body.contains("ws-cell ws-sold"), "{}", page.body);
    assert!(page.body.contains("适用于每一个业务单元"));
    assert!(page.body.contains(&format!("/accounts/{x}/whitespace/cell?bu=")));
    let cell_page = t.get(&format!("/accounts/{x}/whitespace/cell?bu=%E5%95%86%E7%94%A8%E8%BD%A6%E4%BA%8B%E4%B8%9A%E9%83%A8&line=%E8%BD%AF%E4%BB%B6"), &ui).await;
    assert_eq!(cell_page.status, StatusCode::OK, "{}", cell_page.body);
    assert!(cell_page.body.contains(&format!("href=\"/opportunities/{opp}\"")), "{}", cell_page.body);
    let r = t
        .ui_post(
            &format!("/accounts/{x}/whitespace/cell"),
            &sid,
            &[("_csrf", &csrf), ("bu", "商用车事业部"), ("line", "服务"), ("state", "competitor"), ("note", "西门子")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let g = t.get(&grid, &rep).await.json();
    assert_eq!(cell(&g, "商用车事业部", "服务")["state"], "competitor");
    let r = t
        .ui_post(
            &format!("/accounts/{x}/whitespace/cell"),
            &sid,
            &[("_csrf", &csrf), ("bu", "商用车事业部"), ("line", "服务"), ("state", "bogus")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"action-errors\""), "{}", r.body);
}
