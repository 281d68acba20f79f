//! The receivables reports (issue 21 item 6): the aging by account, owner, team, branch and
//! region adds up to the same total and each cell's list holds exactly what the cell sums; the
//! DSO on a small known case; the collection forecast puts a promise on its week; an account's
//! statement as JSON, XLSX and a printable page; scope. Past due dates come from invoices dated
//! in the past: no clock is moved.
use axum::http::{Method, StatusCode};
use chrono::Datelike;
use serde_json::{json, Value};

use super::common::{download, seed, xlsx_rows, Auth, TestApp, World, PASSWORD};

fn bearer(w: &World, user: &str) -> Auth {
    Auth::Bearer(w.tokens[user].clone())
}

fn today() -> chrono::NaiveDate {
    chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive()
}

fn day(offset: i64) -> String {
    (today() + chrono::Duration::days(offset)).format("%Y-%m-%d").to_string()
}

fn fen(s: &Value) -> i64 {
    let s = s.as_str().unwrap_or_else(|| panic!("an amount: {s}"));
    let (neg, s) = match s.strip_prefix('-') {
        Some(x) => (true, x),
        None => (false, s),
    };
    let (y, f) = s.split_once('.').unwrap_or((s, "0"));
    let v = y.parse::<i64>().expect("yuan") * 100 + format!("{f:0<2}")[..2].parse::<i64>().expect("fen");
    if neg {
        -v
    } else {
        v
    }
}

/// A signed order of `account` by `who` (signing at once), with one installment due `days`
/// after the invoice, invoiced in full on `issued`.
async fn invoiced(t: &TestApp, w: &World, who: &str, account: i64, amount: &str, days: i64, issued: &str) -> Value {
    let a = bearer(w, who);
    let body = json!({
        "account_id": account,
        "lines": [{"description": "测量系统", "unit": "套", "quantity": "1", "unit_price": amount}],
        "payment_terms": [{"kind": "on_delivery", "percent": "100", "due": format!("{days} days after invoice")}]
    });
    let r = t.call(Method::POST, "/api/v1/orders", &a, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let o = r.json();
    let r = t
        .call(Method::POST, &format!("/api/v1/orders/{}/submit", o["id"]), &a, Some(json!({"version": o["version"]})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["state"], "signed", "{}", r.body);
    let n = format!("INV-{}-{}", o["id"], issued);
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/orders/{}/invoices", o["id"]),
            &bearer(w, "finance"),
            Some(json!({"number": n, "issued_on": issued, "amount": amount})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.json()
}

/// Every row of a receivables list (all pages).
async fn all_rows(t: &TestApp, who: &Auth, query: &str) -> Vec<Value> {
    let mut out = vec![];
    let mut path = format!("/api/v1/receivables?{query}&limit=2");
    loop {
        let r = t.get(&path, who).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
        let p = r.json();
        out.extend(p["items"].as_array().expect("items").iter().cloned());
        match p["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/receivables?{query}&limit=2&cursor={c}"),
            None => break,
        }
    }
    out
}

/// The receivables of the account X (owner: the manager, in BJ under N) at 10, 45, 100 days
/// past due and one due in 20 days.
async fn spread(t: &TestApp, w: &World) {
    for (amount, ago) in [("1000.00", 10), ("2000.00", 45), ("4000.00", 100)] {
        invoiced(t, w, "manager", w.account_x, amount, 0, &day(-ago)).await;
    }
    invoiced(t, w, "manager", w.account_x, "8000.00", 20, &day(0)).await;
}

#[tokio::test]
async fn aging_by_team_branch_and_region_adds_up_and_each_cell_lists_what_it_sums() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    spread(&t, &w).await;
    // The director's order on account C: an owner at HQ, outside any team, branch or region.
    invoiced(&t, &w, "director", w.account_c, "300.00", 0, &day(-5)).await;
    let finance = bearer(&w, "finance");
    let by_account = t.get("/api/v1/reports/aging?by=account", &finance).await.json();
    assert_eq!(by_account["total"]["total"], "15300.00", "{by_account}");
    cells_list_what_they_sum(&t, &finance, &by_account).await;
    // Grouped through the org tree: the manager's receivables under N and BJ and in the
    // director's team; the director's own outside any region.
    let region = t.get("/api/v1/reports/aging?by=region", &finance).await.json();
    let keys: Vec<(&str, &str)> = region["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| (r["key"].as_str().unwrap_or("?"), r["total"].as_str().unwrap_or("?")))
        .collect();
    assert_eq!(keys, vec![("N", "15000.00"), ("", "300.00")], "{region}");
    let row = &region["rows"][0];
    assert_eq!(
        (row["not_due"].as_str(), row["buckets"].clone()),
        (Some("8000.00"), json!(["1000.00", "2000.00", "0.00", "4000.00"]))
    );
    let branch = t.get("/api/v1/reports/aging?by=branch", &finance).await.json();
    assert_eq!(branch["rows"][0]["key"], "BJ", "{branch}");
    let team = t.get("/api/v1/reports/aging?by=team", &finance).await.json();
    assert_eq!(team["rows"][0]["key"], "director", "{team}");
    // The list's own checks: a bad bucket or grouping names the field.
    let r = t.get("/api/v1/receivables?bucket=9", &finance).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = t.get("/api/v1/receivables?bucket=1&state=paid", &finance).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = t.get("/api/v1/reports/aging?by=planet", &finance).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let long = "x".repeat(101);
    for field in ["owner", "team", "org"] {
        let r = t.get(&format!("/api/v1/receivables?{field}={long}"), &finance).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {}", r.body);
        assert_eq!(r.json()["error"]["details"]["fields"][field]["code"], "too_long", "{}", r.body);
    }
    // Sorted: the largest outstanding first.
    let items = all_rows(&t, &finance, "state=open&sort=-outstanding").await;
    let amounts: Vec<i64> = items.iter().map(|r| fen(&r["outstanding"])).collect();
    assert_eq!(amounts, vec![800_000, 400_000, 200_000, 100_000, 30_000]);

    // The page: the cells are links to their lists; the list page and its exports.
    let (sid, _) = t.ui_login("finance", PASSWORD, None).await.expect("sign in");
    let session = Auth::Session { cookie: sid, csrf: String::new() };
    let page = t.get("/reports/aging?by=region", &session).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let body = page.body.replace("&#38;", "&").replace("&amp;", "&");
    assert!(body.contains("/receivables?state=open&bucket=4&org=N"), "the cell links its list: {}", page.body);
    assert!(page.body.contains("华北大区") && page.body.contains("id=\"dso\""), "{}", page.body);
    let list = t.get("/receivables?state=open&bucket=4&org=N", &session).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert!(list.body.contains("4,000.00") && !list.body.contains("2,000.00"), "{}", list.body);
    let (st, _, bytes) = download(&t, "/receivables/export.xlsx?state=open", &session).await;
    assert_eq!(st, StatusCode::OK);
    let rows = xlsx_rows(bytes, "receivables");
    assert_eq!(rows.len(), 6, "a header and five receivables: {rows:?}");
}

/// A payment of `amount` received today, allocated oldest first.
async fn pay(t: &TestApp, finance: &Auth, account: i64, amount: &str) {
    let body = json!({"account_id": account, "received_on": day(0), "amount": amount});
    let r = t.call(Method::POST, "/api/v1/payments", finance, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

/// Stamps the kept aging summary as of another day or other bounds (its rows unchanged).
async fn restamp(t: &TestApp, stamp: String) {
    sqlx::query("UPDATE settings SET value = $1 WHERE key = 'aging_summary'")
        .bind(stamp)
        .execute(&t.db().pool)
        .await
        .expect("stamp");
}

/// Makes every row of the kept summary wrong, as a missed change would.
async fn spoil(t: &TestApp) {
    sqlx::query("UPDATE receivable_aging SET c0 = c0 + 77, total = total + 77")
        .execute(&t.db().pool)
        .await
        .expect("spoil");
}

/// Each grouping adds up to the same total as `by_account`, and each cell of each row sums
/// exactly the receivables its list holds (the list reads the receivables themselves, the report
/// its kept summary).
async fn cells_list_what_they_sum(t: &TestApp, finance: &Auth, by_account: &Value) {
    for by in ["account", "owner", "team", "branch", "region"] {
        let r = t.get(&format!("/api/v1/reports/aging?by={by}"), finance).await;
        assert_eq!(r.status, StatusCode::OK, "{by}: {}", r.body);
        let a = r.json();
        assert_eq!(a["total"], by_account["total"], "{by}: {a}");
        let rows = a["rows"].as_array().expect("rows");
        assert_eq!(a["groups"].as_i64(), Some(rows.len() as i64), "{a}");
        let sum: i64 = rows.iter().map(|r| fen(&r["total"])).sum();
        assert_eq!(sum, fen(&by_account["total"]["total"]), "{by}: the groups add up to the total: {a}");
        for row in rows {
            let key = row["key"].as_str().expect("key");
            let narrow = match (by, key) {
                ("account", k) => format!("account_id={k}"),
                ("owner", k) => format!("owner={k}"),
                (kind, "") => format!("outside={kind}"),
                ("team", k) => format!("team={k}"),
                (_, k) => format!("org={k}"),
            };
            let cells: Vec<&Value> =
                std::iter::once(&row["not_due"]).chain(row["buckets"].as_array().expect("b")).collect();
            for (i, cell) in cells.iter().enumerate() {
                let items = all_rows(t, finance, &format!("{narrow}&bucket={i}")).await;
                let listed: i64 = items.iter().map(|r| fen(&r["outstanding"])).sum();
                assert_eq!(listed, fen(cell), "{by} {key} column {i}: {items:?}");
                assert!(items.iter().all(|r| r["state"] == "open"));
            }
            let items = all_rows(t, finance, &format!("{narrow}&state=open")).await;
            assert_eq!(items.iter().map(|r| fen(&r["outstanding"])).sum::<i64>(), fen(&row["total"]), "{by} {key}");
        }
    }
}

#[tokio::test]
async fn the_kept_aging_follows_invoices_payments_and_the_turn_of_the_day() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let finance = bearer(&w, "finance");
    // Read once before any receivable: the summary is built, empty, as of today.
    let empty = t.get("/api/v1/reports/aging?by=account", &finance).await.json();
    assert_eq!(empty["total"]["total"], "0.00", "{empty}");
    let stamp = || async {
        let r = sqlx::query("SELECT value FROM settings WHERE key = 'aging_summary'")
            .fetch_one(&t.db().pool)
            .await
            .expect("the summary's stamp");
        sqlx::Row::try_get::<String, _>(&r, "value").expect("value")
    };
    assert_eq!(stamp().await, format!("{}|30,60,90", day(0)));
    // Invoices after it: each change rewrote its account's rows.
    spread(&t, &w).await;
    invoiced(&t, &w, "director", w.account_c, "300.00", 0, &day(-5)).await;
    let a = t.get("/api/v1/reports/aging?by=account", &finance).await.json();
    assert_eq!(a["total"]["total"], "15300.00", "{a}");
    assert_eq!(a["total"]["buckets"], json!(["1300.00", "2000.00", "0.00", "4000.00"]), "{a}");
    assert_eq!(stamp().await, format!("{}|30,60,90", day(0)), "not rebuilt: kept");
    cells_list_what_they_sum(&t, &finance, &a).await;
    // A payment of 4,500: the oldest (4,000, >90 days) paid, 500 off the 45-day one.
    pay(&t, &finance, w.account_x, "4500.00").await;
    let a = t.get("/api/v1/reports/aging?by=account", &finance).await.json();
    assert_eq!(a["total"]["total"], "10800.00", "{a}");
    assert_eq!(a["total"]["buckets"], json!(["1300.00", "1500.00", "0.00", "0.00"]), "{a}");
    cells_list_what_they_sum(&t, &finance, &a).await;
    // The turn of the day: a summary stamped yesterday (its figures wrong by now) is rebuilt by
    // the first report of today.
    let yesterday = format!("{}|30,60,90", day(-1));
    restamp(&t, yesterday).await;
    spoil(&t).await;
    let again = t.get("/api/v1/reports/aging?by=account", &finance).await.json();
    assert_eq!(again["total"], a["total"], "rebuilt: {again}");
    assert_eq!(stamp().await, format!("{}|30,60,90", day(0)));
    // A summary already on tomorrow (a caller still on yesterday's date) is not used: the
    // report sums the receivables themselves.
    restamp(&t, format!("{}|30,60,90", day(1))).await;
    spoil(&t).await;
    let live = t.get("/api/v1/reports/aging?by=owner", &finance).await.json();
    assert_eq!(live["total"], a["total"], "read live: {live}");
    // New bounds: rebuilt under them.
    restamp(&t, format!("{}|30,60,90", day(0))).await;
    let p = t.get("/api/v1/settings/receivables", &finance).await.json();
    let r = t
        .call(
            Method::PUT,
            "/api/v1/settings/receivables",
            &finance,
            Some(json!({"buckets": [40, 120], "levels": p["levels"], "version": p["version"]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let b = t.get("/api/v1/reports/aging?by=region", &finance).await.json();
    assert_eq!(b["total"]["buckets"], json!(["1300.00", "1500.00", "0.00"]), "{b}");
    assert_eq!(stamp().await, format!("{}|40,120", day(0)));
    cells_list_what_they_sum(&t, &finance, &b).await;
}

#[tokio::test]
async fn dso_is_what_is_owed_over_what_was_invoiced_times_the_days() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let finance = bearer(&w, "finance");
    invoiced(&t, &w, "manager", w.account_x, "1000.00", 0, &day(-10)).await;
    invoiced(&t, &w, "manager", w.account_x, "2000.00", 0, &day(-20)).await;
    // Sold 3000 in the period; 1500 paid (to the oldest first): 1500 owed.
    pay(&t, &finance, w.account_x, "1500.00").await;
    let d = t.get("/api/v1/reports/dso", &finance).await.json();
    assert_eq!(
        (d["days"].as_i64(), d["outstanding"].as_str(), d["sales"].as_str()),
        (Some(90), Some("1500.00"), Some("3000.00")),
        "{d}"
    );
    assert_eq!(d["dso"], 45, "1500 ÷ 3000 × 90: {d}");
    let d = t.get("/api/v1/reports/dso?days=15", &finance).await.json();
    assert_eq!(
        (d["sales"].as_str(), d["dso"].as_i64()),
        (Some("1000.00"), Some(23)),
        "1500 ÷ 1000 × 15 = 22.5 → 23: {d}"
    );
    // Nothing sold in scope: no DSO.
    let d = t.get("/api/v1/reports/dso", &bearer(&w, "repC")).await.json();
    assert_eq!(d["dso"], Value::Null, "{d}");
    let r = t.get("/api/v1/reports/dso?days=0", &finance).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
}

#[tokio::test]
async fn the_forecast_counts_a_promise_on_its_week() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let manager = bearer(&w, "manager");
    // 500 due in 20 days; 2000 overdue, of which the customer promised 600 in 9 days.
    invoiced(&t, &w, "manager", w.account_x, "500.00", 20, &day(0)).await;
    invoiced(&t, &w, "manager", w.account_x, "2000.00", 0, &day(-40)).await;
    let late = all_rows(&t, &manager, "state=open&bucket=2").await;
    assert_eq!(late.len(), 1, "{late:?}");
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/receivables/{}/contacts", late[0]["id"]),
            &manager,
            Some(json!({"channel": "phone", "note": "财务确认下周付一部分", "promised_amount": "600.00", "promised_on": day(9)})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let f = t.get("/api/v1/reports/collection-forecast", &manager).await.json();
    let monday = today() - chrono::Duration::days(today().weekday().num_days_from_monday() as i64);
    let week = |offset: i64| ((today() + chrono::Duration::days(offset) - monday).num_days() / 7) as usize;
    assert_eq!(f["weeks"].as_array().map(Vec::len), Some(8), "{f}");
    assert_eq!(f["weeks"][0], monday.format("%Y-%m-%d").to_string());
    let mut want = vec![0i64; 8];
    want[week(20)] += 50_000;
    want[week(9)] += 60_000;
    let row = &f["rows"][0];
    assert_eq!(row["key"], "manager", "{f}");
    assert_eq!(row["overdue"], "1400.00", "what was not promised stays overdue: {f}");
    let got: Vec<i64> = row["weeks"].as_array().expect("weeks").iter().map(fen).collect();
    assert_eq!(got, want, "{f}");
    assert_eq!(f["total"]["total"], "2500.00");
    // The page draws the chart.
    let (sid, _) = t.ui_login("manager", PASSWORD, None).await.expect("sign in");
    let page = t.get("/reports/collection-forecast", &Auth::Session { cookie: sid, csrf: String::new() }).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("<svg") && page.body.contains("id=\"forecast-chart\"") && page.body.contains("1,400.00"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn the_statement_is_json_xlsx_and_a_printable_page_in_scope() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let finance = bearer(&w, "finance");
    invoiced(&t, &w, "manager", w.account_x, "1000.00", 0, &day(-100)).await;
    invoiced(&t, &w, "manager", w.account_x, "2500.00", 30, &day(-10)).await;
    let r = t
        .call(
            Method::POST,
            "/api/v1/payments",
            &finance,
            Some(
                json!({"account_id": w.account_x, "received_on": day(-5), "amount": "1200.00", "reference": "CMB-99"}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let path = format!("/api/v1/accounts/{}/statement?from={}&to={}", w.account_x, day(-30), day(0));
    let r = t.get(&path, &finance).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let s = r.json();
    // Opening: the invoice of 100 days ago; then an invoice and a payment.
    assert_eq!(
        (s["opening_balance"].as_str(), s["invoiced"].as_str(), s["paid"].as_str(), s["closing_balance"].as_str()),
        (Some("1000.00"), Some("2500.00"), Some("1200.00"), Some("2300.00")),
        "{s}"
    );
    let entries: Vec<(&str, &str)> = s["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| (l["entry"].as_str().unwrap_or(""), l["balance"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(entries, vec![("invoice", "3500.00"), ("payment", "2300.00")], "{s}");
    assert_eq!(s["outstanding"], "2300.00");
    // As XLSX: numbers as number cells, the entries labelled.
    let (st, h, bytes) = download(&t, &format!("{path}&format=xlsx"), &finance).await;
    assert_eq!(st, StatusCode::OK);
    assert!(h.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").contains("spreadsheet"), "{h:?}");
    let rows = xlsx_rows(bytes, "statement");
    assert_eq!(rows.len(), 5, "header, opening, two entries, closing: {rows:?}");
    assert_eq!(rows[4][6], calamine::Data::Float(2300.0), "{rows:?}");
    assert!(matches!(&rows[2][1], calamine::Data::String(s) if s == "发票" || s == "Invoice"), "{rows:?}");
    let r =
        t.get(&format!("/api/v1/accounts/{}/statement?from={}&to={}", w.account_x, day(0), day(-1)), &finance).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("\"to\""), "{}", r.body);

    // The printable page shows the account's name and balance; the page's XLSX opens.
    let (sid, _) = t.ui_login("finance", PASSWORD, None).await.expect("sign in");
    let session = Auth::Session { cookie: sid, csrf: String::new() };
    let page = t.get(&format!("/accounts/{}/statement/print?from={}", w.account_x, day(-30)), &session).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("北京星河精密制造有限公司")
            && page.body.contains("2,300.00")
            && page.body.contains("CMB-99"),
        "{}",
        page.body
    );
    let (st, _, bytes) = download(&t, &format!("/accounts/{}/statement/xlsx", w.account_x), &session).await;
    assert_eq!(st, StatusCode::OK);
    assert!(bytes.starts_with(b"PK"));
    let st = t.get(&format!("/accounts/{}/receivables", w.account_x), &session).await;
    assert!(st.body.contains("id=\"statement-print\""), "the statement page links its print");

    // Scope: the account's rep sees its rows; a rep of another region sees none and gets 404.
    let rep_a = all_rows(&t, &bearer(&w, "repA"), "sort=due").await;
    assert_eq!(rep_a.len(), 2);
    assert!(rep_a.iter().all(|r| r["account_id"] == w.account_x), "{rep_a:?}");
    let rep_c = bearer(&w, "repC");
    assert!(all_rows(&t, &rep_c, "state=open").await.is_empty());
    assert!(all_rows(&t, &rep_c, &format!("account_id={}", w.account_x)).await.is_empty());
    let r = t.get(&format!("/api/v1/accounts/{}/statement", w.account_x), &rep_c).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let (sid, _) = t.ui_login("repC", PASSWORD, None).await.expect("sign in");
    let page = t
        .get(&format!("/accounts/{}/statement/print", w.account_x), &Auth::Session { cookie: sid, csrf: String::new() })
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    let f = t.get("/api/v1/reports/collection-forecast", &rep_c).await.json();
    assert_eq!(f["total"]["total"], "0.00", "{f}");
}
