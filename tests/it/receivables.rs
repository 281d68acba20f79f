//! From invoice to cash (issue 21): a signed order's terms become receivables; invoices (not
//! beyond what is left, a red-letter one reversing), payments allocated oldest first or by hand
//! with the rest kept as credit; the aging buckets at their boundaries (30/31, 60/61, 90/91
//! days); who may record and who may see — through the API, on whichever backend the suite runs
//! on. Past due dates come from invoices dated in the past: no clock is moved.
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use super::common::{seed, Auth, TestApp, World};

fn bearer(w: &World, user: &str) -> Auth {
    Auth::Bearer(w.tokens[user].clone())
}

fn day(offset: i64) -> String {
    (chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive() + chrono::Duration::days(offset))
        .format("%Y-%m-%d")
        .to_string()
}

/// An order of account X the manager signs at once (within their authority), with `terms`.
async fn signed_order(t: &TestApp, w: &World, amount: &str, terms: Value) -> Value {
    let manager = bearer(w, "manager");
    let body = json!({
        "account_id": w.account_x,
        "lines": [{"description": "测量系统", "unit": "套", "quantity": "1", "unit_price": amount}],
        "payment_terms": terms
    });
    let r = t.call(Method::POST, "/api/v1/orders", &manager, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let o = r.json();
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/orders/{}/submit", o["id"]),
            &manager,
            Some(json!({"version": o["version"]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["state"], "signed", "{}", r.body);
    r.json()
}

async fn invoice(t: &TestApp, who: &Auth, order: &Value, body: Value) -> (StatusCode, Value) {
    let r = t.call(Method::POST, &format!("/api/v1/orders/{}/invoices", order["id"]), who, Some(body)).await;
    let v = if r.body.is_empty() { Value::Null } else { r.json() };
    (r.status, v)
}

async fn money(t: &TestApp, who: &Auth, order: &Value) -> Value {
    let r = t.get(&format!("/api/v1/orders/{}/money", order["id"]), who).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()
}

#[tokio::test]
async fn aging_buckets_hold_at_their_boundaries() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let finance = bearer(&w, "finance");
    let terms = json!([{"kind": "on_delivery", "percent": "100", "due": "0 days after invoice"}]);
    // Due 30, 31, 60, 61, 90, 91 days ago, and one due in 15 days.
    for (n, ago) in [30, 31, 60, 61, 90, 91].into_iter().enumerate() {
        let o = signed_order(&t, &w, "1000.00", terms.clone()).await;
        let (st, v) = invoice(
            &t,
            &finance,
            &o,
            json!({"number": format!("INV-{n}"), "issued_on": day(-ago), "amount": "1000.00"}),
        )
        .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
    }
    let later = json!([{"kind": "on_delivery", "percent": "100", "due": "15 days after invoice"}]);
    let o = signed_order(&t, &w, "1000.00", later).await;
    invoice(&t, &finance, &o, json!({"number": "INV-later", "issued_on": day(0), "amount": "1000.00"})).await;

    let r = t.get("/api/v1/reports/aging?by=account", &finance).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let a = r.json();
    assert_eq!(a["buckets"], json!(["0–30", "31–60", "61–90", ">90"]));
    let row = &a["rows"][0];
    assert_eq!(row["key"], w.account_x.to_string());
    assert_eq!(row["not_due"], "1000.00", "{a}");
    // 30 → 0–30; 31 and 60 → 31–60; 61 and 90 → 61–90; 91 → over 90.
    assert_eq!(row["buckets"], json!(["1000.00", "2000.00", "2000.00", "1000.00"]), "{a}");
    assert_eq!((row["total"].as_str(), a["total"]["total"].as_str()), (Some("7000.00"), Some("7000.00")));
    // By owner: the manager's orders, under the manager's name.
    let by_owner = t.get("/api/v1/reports/aging?by=owner", &finance).await.json();
    assert_eq!(by_owner["rows"][0]["key"], "manager", "{by_owner}");
    // Another region's rep sees none of it.
    let other = t.get("/api/v1/reports/aging", &bearer(&w, "repC")).await.json();
    assert_eq!(other["rows"].as_array().map(Vec::len), Some(0), "{other}");
    assert_eq!(other["total"]["total"], "0.00");
}

#[tokio::test]
async fn invoices_payments_and_allocation_reach_a_zero_balance_with_the_rest_as_credit() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (finance, rep) = (bearer(&w, "finance"), bearer(&w, "repA"));
    let terms = json!([
        {"kind": "advance", "percent": "30", "due": "0 days after order"},
        {"kind": "on_delivery", "percent": "70", "due": "30 days after invoice"}
    ]);
    let o = signed_order(&t, &w, "1000.00", terms).await;
    // Signed: the advance is due today, the rest waits for the invoice.
    let m = money(&t, &rep, &o).await;
    let states: Vec<(&str, &str, Option<&str>)> = m["receivables"]
        .as_array()
        .expect("receivables")
        .iter()
        .map(|r| (r["amount"].as_str().unwrap_or(""), r["state"].as_str().unwrap_or(""), r["due_on"].as_str()))
        .collect();
    let today = day(0);
    assert_eq!(states, vec![("300.00", "open", Some(today.as_str())), ("700.00", "scheduled", None)], "{m}");

    // Only finance records invoices; bad input names the field and saves nothing.
    let (st, _) = invoice(&t, &rep, &o, json!({"number": "X1", "issued_on": day(0), "amount": "100.00"})).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, v) = invoice(&t, &finance, &o, json!({"number": "X1", "issued_on": day(-40), "amount": "1000.01"})).await;
    assert_eq!(
        (st, v["error"]["details"]["fields"]["amount"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("beyond_left_to_invoice")),
        "{v}"
    );
    let (st, v) = invoice(&t, &finance, &o, json!({"number": "X1", "issued_on": "2027-02-30", "amount": "-5"})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let f = &v["error"]["details"]["fields"];
    assert!(f["issued_on"].is_object() && f["amount"].is_object(), "{v}");
    // Two invoices: 600 forty days ago, then 400.
    let (st, first) =
        invoice(&t, &finance, &o, json!({"number": "04418821", "issued_on": day(-40), "amount": "600.00"})).await;
    assert_eq!(st, StatusCode::CREATED, "{first}");
    let (st, v) =
        invoice(&t, &finance, &o, json!({"number": "04418821", "issued_on": day(-1), "amount": "400.00"})).await;
    assert_eq!(
        (st, v["error"]["details"]["fields"]["number"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invoice_number_taken"))
    );
    let (st, _) =
        invoice(&t, &finance, &o, json!({"number": "04418822", "issued_on": day(-1), "amount": "400.00"})).await;
    assert_eq!(st, StatusCode::CREATED);
    let m = money(&t, &rep, &o).await;
    assert_eq!((m["invoiced"].as_str(), m["left_to_invoice"].as_str()), (Some("1000.00"), Some("0.00")));
    // The first invoice made the 70 % fall due 30 days after it: 10 days overdue.
    let rest = &m["receivables"][1];
    assert_eq!(
        (rest["state"].as_str(), rest["due_on"].as_str(), rest["days_overdue"].as_i64()),
        (Some("open"), Some(day(-10).as_str()), Some(10)),
        "{m}"
    );

    // A payment of 500: the oldest due first (the 70 %, due 10 days ago).
    let pay = |body: Value| {
        let (t, finance) = (&t, &finance);
        async move { t.call(Method::POST, "/api/v1/payments", finance, Some(body)).await }
    };
    let r =
        pay(json!({"account_id": w.account_x, "received_on": day(0), "amount": "500.00", "reference": "CMB-1"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let p = r.json();
    assert_eq!(
        p["allocations"],
        json!([{"receivable_id": rest["id"], "order_number": o["number"], "amount": "500.00"}]),
        "{p}"
    );
    // By hand beyond what a receivable owes: refused by row, nothing saved.
    let r = pay(json!({"account_id": w.account_x, "received_on": day(0), "amount": "600.00", "allocations": [{"receivable_id": rest["id"], "amount": "200.01"}]})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["error"]["details"]["fields"]["allocations[0].amount"]["code"], "beyond_outstanding");
    // 600 more: 200 closes the 70 %, 300 the advance, 100 is the customer's credit.
    let r = pay(json!({"account_id": w.account_x, "received_on": day(0), "amount": "600.00", "method": "acceptance"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.json()["unallocated"], "100.00");
    let acc = t.get(&format!("/api/v1/accounts/{}/receivables", w.account_x), &rep).await.json();
    assert_eq!((acc["outstanding"].as_str(), acc["credit_balance"].as_str()), (Some("0.00"), Some("100.00")), "{acc}");
    assert!(
        acc["receivables"]
            .as_array()
            .expect("rows")
            .iter()
            .all(|r| r["state"] == "paid" && r["paid_in_full_on"] == today.as_str()),
        "{acc}"
    );
    assert_eq!(acc["payments"].as_array().map(Vec::len), Some(2));
    // A red-letter invoice reverses 200 of the first: 200 left to invoice again.
    let (st, red) = invoice(
        &t,
        &finance,
        &o,
        json!({"number": "04418823", "issued_on": day(0), "amount": "200.00", "reverses_id": first["id"]}),
    )
    .await;
    assert_eq!((st, red["amount"].as_str()), (StatusCode::CREATED, Some("-200.00")), "{red}");
    let (st, v) = invoice(
        &t,
        &finance,
        &o,
        json!({"number": "04418824", "issued_on": day(0), "amount": "400.01", "reverses_id": first["id"]}),
    )
    .await;
    assert_eq!(
        (st, v["error"]["details"]["fields"]["amount"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("beyond_invoice"))
    );
    assert_eq!(money(&t, &rep, &o).await["left_to_invoice"], "200.00");

    // Scope: another region's rep finds none of it.
    let other = bearer(&w, "repC");
    assert_eq!(t.get(&format!("/api/v1/orders/{}/money", o["id"]), &other).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        t.get(&format!("/api/v1/accounts/{}/receivables", w.account_x), &other).await.status,
        StatusCode::NOT_FOUND
    );
    // Each act audited.
    let n: i64 = sqlx::Row::try_get(
        &sqlx::query("SELECT COUNT(*) AS n FROM audit_log WHERE action IN ('invoice', 'payment')")
            .fetch_one(&t.db().pool)
            .await
            .expect("n"),
        "n",
    )
    .expect("n");
    assert_eq!(n, 5, "three invoices and two payments");
}

#[tokio::test]
async fn finance_invoices_and_collects_from_the_pages() {
    use crate::common::PASSWORD;
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let terms = json!([{"kind": "on_delivery", "percent": "100", "due": "30 days after invoice"}]);
    let o = signed_order(&t, &w, "480000.00", terms).await;
    let id = o["id"].as_i64().expect("id");
    let (sid, csrf) = t.ui_login("finance", PASSWORD, None).await.expect("sign in");
    let session = Auth::Session { cookie: sid.clone(), csrf: String::new() };
    let page = t.get(&format!("/orders/{id}"), &session).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"invoice-form\"") && page.body.contains("id=\"receivable-list\""), "{}", page.body);
    // A refusal comes back on the order's page naming the field.
    let r = t
        .ui_post(
            &format!("/orders/{id}/invoices"),
            &sid,
            &[("_csrf", &csrf), ("number", "A-1"), ("issued_on", &day(-45)), ("amount", "480,000.01")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("超过待开票金额"), "{}", r.body);
    // Typed as an office types it: 48万.
    let r = t
        .ui_post(
            &format!("/orders/{id}/invoices"),
            &sid,
            &[("_csrf", &csrf), ("number", "A-1"), ("issued_on", &day(-45)), ("amount", "48万")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = t.get(&format!("/orders/{id}"), &session).await;
    assert!(page.body.contains("逾期 15 天"), "the receivable is 15 days overdue: {}", page.body);
    // The statement takes the payment; the aging report shows what is left.
    let r = t
        .ui_post(
            &format!("/accounts/{}/receivables", w.account_x),
            &sid,
            &[
                ("_csrf", &csrf),
                ("received_on", &day(0)),
                ("amount", "30万"),
                ("method", "transfer"),
                ("reference", "CMB-7"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let st = t.get(&format!("/accounts/{}/receivables", w.account_x), &session).await;
    assert!(st.body.contains("180,000.00") && st.body.contains("CMB-7"), "{}", st.body);
    let bad = t
        .ui_post(
            &format!("/accounts/{}/receivables", w.account_x),
            &sid,
            &[("_csrf", &csrf), ("received_on", &day(0)), ("amount", "")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    let aging = t.get("/reports/aging", &session).await;
    assert_eq!(aging.status, StatusCode::OK);
    assert!(aging.body.contains("id=\"aging\"") && aging.body.contains("180,000.00"), "{}", aging.body);
    // A rep sees the statement but no payment form.
    let (rep, _) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");
    let st = t
        .get(&format!("/accounts/{}/receivables", w.account_x), &Auth::Session { cookie: rep, csrf: String::new() })
        .await;
    assert_eq!(st.status, StatusCode::OK);
    assert!(!st.body.contains("id=\"payment-form\""), "only finance records payments");
}

#[tokio::test]
async fn the_demo_has_receivables_in_every_bucket() {
    let t = TestApp::new().await;
    t.demo().await;
    let finance = Auth::Bearer(t.token("finance").await);
    let a = t.get("/api/v1/reports/aging", &finance).await.json();
    let total = &a["total"];
    for (i, b) in total["buckets"].as_array().expect("buckets").iter().enumerate() {
        let fen: f64 = b.as_str().and_then(|s| s.parse().ok()).unwrap_or(0.0);
        assert!(fen > 0.0, "bucket {i} holds an amount: {a}");
    }
    let notdue: f64 = total["not_due"].as_str().and_then(|s| s.parse().ok()).unwrap_or(0.0);
    assert!(notdue > 0.0, "{a}");
}

#[tokio::test]
async fn a_cancelled_order_is_owed_no_more_but_what_was_paid_stays() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (finance, manager) = (bearer(&w, "finance"), bearer(&w, "manager"));
    let terms = json!([
        {"kind": "advance", "percent": "30", "due": "0 days after order"},
        {"kind": "on_delivery", "percent": "70", "due": "30 days after invoice"}
    ]);
    let o = signed_order(&t, &w, "1000.00", terms).await;
    let r = t
        .call(
            Method::POST,
            "/api/v1/payments",
            &finance,
            Some(json!({"account_id": w.account_x, "received_on": day(0), "amount": "100.00"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let o = t.get(&format!("/api/v1/orders/{}", o["id"]), &manager).await.json();
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/orders/{}/cancel", o["id"]),
            &manager,
            Some(json!({"version": o["version"], "reason": "客户取消"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let m = money(&t, &manager, &o).await;
    let left: Vec<(&str, &str)> = m["receivables"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| (r["amount"].as_str().unwrap_or(""), r["paid"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(left, vec![("300.00", "100.00")], "the part-paid advance stays, the rest goes: {m}");
    let (st, v) = invoice(&t, &finance, &o, json!({"number": "C-1", "issued_on": day(0), "amount": "10.00"})).await;
    assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("order_not_signed")), "{v}");
}

#[tokio::test]
async fn the_collection_worklist_climbs_with_days_and_broken_promises() {
    use crate::common::PASSWORD;
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (finance, manager, rep) = (bearer(&w, "finance"), bearer(&w, "manager"), bearer(&w, "repA"));
    let terms = json!([{"kind": "on_delivery", "percent": "100", "due": "0 days after invoice"}]);
    let o = signed_order(&t, &w, "1000.00", terms).await;
    invoice(&t, &finance, &o, json!({"number": "W-1", "issued_on": day(-20), "amount": "1000.00"})).await;
    // 20 days past due: the owner calls.
    let wl = t.get("/api/v1/collection?owner=manager", &manager).await.json();
    let item = &wl["items"][0];
    assert_eq!((item["level"].as_str(), item["broken_promises"].as_i64()), (Some("owner_calls"), Some(0)), "{wl}");
    let rid = item["receivable"]["id"].as_i64().expect("receivable");
    let path = format!("/api/v1/receivables/{rid}/contacts");
    // Bad input names the field; a rep who neither owns nor manages it may not log.
    let r = t.call(Method::POST, &path, &manager, Some(json!({"note": "财务答复", "contacted_on": day(-5), "promised_amount": "400.00", "promised_on": day(-6)}))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.json()["error"]["details"]["fields"]["promised_on"].is_object());
    let r = t
        .call(
            Method::POST,
            &path,
            &manager,
            Some(json!({"note": "财务答复", "promised_amount": "1000.01", "promised_on": day(3)})),
        )
        .await;
    assert_eq!(r.json()["error"]["details"]["fields"]["promised_amount"]["code"], "beyond_outstanding");
    let r = t.call(Method::POST, &path, &rep, Some(json!({"note": "x"}))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    // A promise of 400 by two days ago, not kept: broken, one level up — the KA manager calls.
    let r = t
        .call(Method::POST, &path, &manager, Some(json!({"channel": "phone", "note": "财务刘经理答应先付 400", "contacted_on": day(-5), "promised_amount": "400.00", "promised_on": day(-2)})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!((r.json()["level"].as_str(), r.json()["kept"].as_bool()), (Some("owner_calls"), Some(false)));
    let wl = t.get("/api/v1/collection?owner=manager", &manager).await.json();
    let item = &wl["items"][0];
    assert_eq!((item["level"].as_str(), item["broken_promises"].as_i64()), (Some("manager_calls"), Some(1)), "{wl}");
    assert_eq!(item["last_contact"]["note"], "财务刘经理答应先付 400");
    // Finance logs too; a promise whose day has not come is not judged yet.
    let r = t
        .call(
            Method::POST,
            &path,
            &finance,
            Some(json!({"note": "再次确认", "promised_amount": "300.00", "promised_on": day(5)})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert!(r.json()["kept"].is_null(), "not yet judged");
    // Someone outside the chain may not read another's list.
    let r = t.get("/api/v1/collection?owner=manager", &bearer(&w, "repC")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let contacts = t.get(&path, &manager).await.json();
    assert_eq!(contacts["items"].as_array().map(Vec::len), Some(2));
    // The page lists it at its level, with the log form.
    let (sid, csrf) = t.ui_login("manager", PASSWORD, None).await.expect("sign in");
    let page = t.get("/collection?owner=manager", &Auth::Session { cookie: sid.clone(), csrf: String::new() }).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("经理电话催收") && page.body.contains("违约 1 次"), "{}", page.body);
    let r = t
        .ui_post(
            &format!("/receivables/{rid}/contacts"),
            &sid,
            &[("_csrf", &csrf), ("owner", "manager"), ("note", ""), ("channel", "phone")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "a contact needs what was said");
    let r = t
        .ui_post(
            &format!("/receivables/{rid}/contacts"),
            &sid,
            &[("_csrf", &csrf), ("owner", "manager"), ("note", "上门拜访财务"), ("channel", "visit")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
}

#[tokio::test]
async fn the_dataset_keeps_each_signed_orders_money_consistent() {
    use kam::generate::dataset::{generate_scaled, Scale};
    let (db, _url, _dir) = super::common::fresh_db().await;
    let small = Scale {
        regions: 1,
        branches_per_region: 2,
        aes: 2,
        srs: 2,
        accounts: 60,
        contacts_per_account: 2,
        opportunities: 300,
        activities: 500,
    };
    generate_scaled(&db, "tiny", small, 11, "bench-pass").await.expect("a tiny dataset");
    let n = |sql: &'static str| {
        let db = db.clone();
        async move {
            let r = sqlx::query(sql).fetch_one(&db.pool).await.expect(sql);
            sqlx::Row::try_get::<i64, _>(&r, "n").expect("n")
        }
    };
    let signed = n("SELECT COUNT(*) AS n FROM orders WHERE state = 'signed'").await;
    assert!(signed > 0);
    assert_eq!(n("SELECT COUNT(*) AS n FROM receivables").await, signed * 3, "three installments an order");
    assert_eq!(
        n("SELECT COUNT(*) AS n FROM orders d WHERE d.state = 'signed' AND d.signed_total <> \
           (SELECT SUM(r.amount) FROM receivables r WHERE r.order_id = d.id)")
        .await,
        0,
        "the installments add up to the order"
    );
    assert_eq!(
        n("SELECT COUNT(*) AS n FROM receivables r WHERE r.paid <> \
           (SELECT COALESCE(SUM(l.amount), 0) FROM allocations l WHERE l.receivable_id = r.id)")
        .await,
        0,
        "what is paid is what the allocations say"
    );
    assert!(n("SELECT COUNT(*) AS n FROM receivables WHERE state = 'open'").await > 0, "some are still owed");
    assert!(n("SELECT COUNT(*) AS n FROM payments").await > 0);
    assert_eq!(
        n("SELECT COUNT(*) AS n FROM payments p WHERE p.amount - p.unallocated <> \
           (SELECT COALESCE(SUM(l.amount), 0) FROM allocations l WHERE l.payment_id = p.id) \
           OR p.account_id <> (SELECT MIN(r.account_id) FROM allocations l JOIN receivables r ON r.id = l.receivable_id \
           WHERE l.payment_id = p.id)")
        .await,
        0,
        "each payment is allocated to its account's receivables, as much as it brought"
    );
    assert_eq!(
        n("SELECT COUNT(*) AS n FROM receivables WHERE (state = 'paid') <> (paid = amount AND paid_in_full_on IS NOT NULL) \
           OR (state = 'scheduled' AND (paid <> 0 OR due_on IS NOT NULL)) OR paid > amount \
           OR (state = 'paid' AND paid_in_full_on <> (SELECT MAX(p.received_on) FROM allocations l \
           JOIN payments p ON p.id = l.payment_id WHERE l.receivable_id = receivables.id))")
        .await,
        0,
        "a receivable is paid when its allocations cover it, on the day of the last"
    );
    assert!(
        n("SELECT COUNT(*) AS n FROM receivables r WHERE r.kind <> 'on_delivery' AND \
           (SELECT COUNT(*) FROM allocations l WHERE l.receivable_id = r.id) = 2")
        .await
            > 0,
        "some installments are paid in two payments"
    );
    assert!(
        n("SELECT COUNT(*) AS n FROM receivables WHERE state = 'open' AND paid > 0").await > 0,
        "some are partly paid"
    );
    assert_eq!(
        n("SELECT COUNT(*) AS n FROM order_holds h WHERE h.kind <> 'dunning' OR h.placed_by <> 'system' OR NOT EXISTS \
           (SELECT 1 FROM receivables r WHERE r.id = h.receivable_id AND r.account_id = h.account_id \
           AND r.state = 'open' AND r.dun_notified = 5)")
        .await,
        0,
        "each dunning hold stands on an open receivable told of every level"
    );
    assert_eq!(
        n("SELECT COUNT(*) AS n FROM receivables WHERE state <> 'open' AND dun_notified <> 0").await,
        0,
        "only open receivables are dunned"
    );
    // New rows after the load take fresh ids (PostgreSQL's sequences moved past the data).
    let id: i64 = sqlx::Row::try_get(
        &sqlx::query(
            "INSERT INTO payments (account_id, received_on, amount, method, unallocated, created_by, created_at) \
             SELECT account_id, '2026-01-01', 1, 'cash', 1, 'x', 'x' FROM payments ORDER BY id LIMIT 1 RETURNING id",
        )
        .fetch_one(&db.pool)
        .await
        .expect("a new payment"),
        "id",
    )
    .expect("id");
    assert!(id > n("SELECT COUNT(*) AS n FROM payments").await - 1);
}
