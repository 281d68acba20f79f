//! Bad-debt write-offs and returns (issue 21): a write-off runs through `bad_debt_writeoff`
//! (the KA manager proposes, finance approves) and, approved, leaves aging and the statement;
//! rejected or overtaken by payments it changes nothing; more than is owed is 422 naming
//! `amount`; a rep may not propose, nor see another region's receivable; the approver's page
//! shows the subject whole. A return takes at most what was delivered, and a red-letter
//! invoice naming it reverses the receivable — on whichever backend the suite runs on.
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use super::common::{seed, Auth, TestApp, World, PASSWORD};

fn bearer(w: &World, user: &str) -> Auth {
    Auth::Bearer(w.tokens[user].clone())
}

fn day(offset: i64) -> String {
    (chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive() + chrono::Duration::days(offset))
        .format("%Y-%m-%d")
        .to_string()
}

/// An order of account X the manager signs at once: `qty` units at `price`, all due `days`
/// after the invoice.
async fn signed_order(t: &TestApp, w: &World, qty: &str, price: &str, days: i64) -> Value {
    let manager = bearer(w, "manager");
    let body = json!({
        "account_id": w.account_x,
        "lines": [{"description": "三坐标测量机", "unit": "台", "quantity": qty, "unit_price": price}],
        "payment_terms": [{"kind": "on_delivery", "percent": "100", "due": format!("{days} days after invoice")}]
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
    assert_eq!(r.json()["state"], "signed", "{}", r.body);
    r.json()
}

async fn invoice(t: &TestApp, w: &World, order: &Value, body: Value) -> (StatusCode, Value) {
    let r = t
        .call(Method::POST, &format!("/api/v1/orders/{}/invoices", order["id"]), &bearer(w, "finance"), Some(body))
        .await;
    let v = if r.body.is_empty() { Value::Null } else { r.json() };
    (r.status, v)
}

async fn money(t: &TestApp, w: &World, order: &Value) -> Value {
    let r = t.get(&format!("/api/v1/orders/{}/money", order["id"]), &bearer(w, "finance")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()
}

async fn aging_row(t: &TestApp, w: &World) -> Value {
    let a = t.get("/api/v1/reports/aging?by=account", &bearer(w, "finance")).await.json();
    a["rows"].as_array().and_then(|r| r.first().cloned()).unwrap_or(Value::Null)
}

async fn statement(t: &TestApp, w: &World) -> Value {
    t.get(&format!("/api/v1/accounts/{}/receivables", w.account_x), &bearer(w, "finance")).await.json()
}

async fn propose(t: &TestApp, who: &Auth, rid: &Value, amount: &str) -> (StatusCode, Value) {
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/receivables/{rid}/write-off"),
            who,
            Some(json!({"amount": amount, "reason": "客户已破产清算，无财产可供执行"})),
        )
        .await;
    let v = if r.body.is_empty() { Value::Null } else { r.json() };
    (r.status, v)
}

async fn decide(t: &TestApp, who: &Auth, aid: &Value, decision: &str) -> (StatusCode, Value) {
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/approvals/{aid}/decision"),
            who,
            Some(json!({"decision": decision, "comment": "核对无误"})),
        )
        .await;
    let v = if r.body.is_empty() { Value::Null } else { r.json() };
    (r.status, v)
}

/// An order invoiced `ago` days ago, all due on the invoice: its one open receivable.
async fn overdue(t: &TestApp, w: &World, number: &str, ago: i64) -> (Value, Value) {
    let o = signed_order(t, w, "1", "1000.00", 0).await;
    let (st, v) = invoice(t, w, &o, json!({"number": number, "issued_on": day(-ago), "amount": "1000.00"})).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let m = money(t, w, &o).await;
    let r = m["receivables"][0].clone();
    assert_eq!(r["state"], "open", "{m}");
    (o, r)
}

#[tokio::test]
async fn an_approved_writeoff_leaves_aging_and_the_statement() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (manager, finance) = (bearer(&w, "manager"), bearer(&w, "finance"));
    let (_, r) = overdue(&t, &w, "INV-W1", 40).await;
    assert_eq!(aging_row(&t, &w).await["buckets"], json!(["0.00", "1000.00", "0.00", "0.00"]));

    let (st, wo) = propose(&t, &manager, &r["id"], "400.00").await;
    assert_eq!(st, StatusCode::CREATED, "{wo}");
    assert_eq!((wo["state"].as_str(), wo["amount"].as_str()), (Some("pending"), Some("400.00")));
    // Pending, the amount is reserved: 600 is left to write off, not 700; nothing moved yet.
    let (st, v) = propose(&t, &manager, &r["id"], "600.01").await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"]["details"]["fields"]["amount"]["code"], "beyond_outstanding", "{v}");
    assert_eq!(statement(&t, &w).await["outstanding"], "1000.00");

    // The request waits for finance, with the subject whole on its page.
    let inbox = t.get("/api/v1/approvals", &finance).await.json();
    assert!(inbox.to_string().contains("bad_debt_writeoff"), "{inbox}");
    let (sid, _) = t.ui_login("finance", PASSWORD, None).await.expect("finance signs in");
    let page =
        t.get(&format!("/approvals/{}", wo["approval_id"]), &Auth::Session { cookie: sid, csrf: String::new() }).await;
    assert_eq!(page.status, StatusCode::OK);
    for shown in [
        "北京星河精密制造有限公司",
        wo["order_number"].as_str().unwrap_or("?"),
        "客户已破产清算",
        &day(-40),
        "400.00",
        "1,000.00",
    ] {
        assert!(page.body.contains(shown), "the request page shows {shown}");
    }
    assert!(page.body.contains("id=\"decision-form\""), "finance may decide");

    let (st, v) = decide(&t, &finance, &wo["approval_id"], "approve").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "approved");
    let s = statement(&t, &w).await;
    assert_eq!(s["outstanding"], "600.00", "{s}");
    assert_eq!(
        (s["receivables"][0]["written_off"].as_str(), s["receivables"][0]["state"].as_str()),
        (Some("400.00"), Some("open"))
    );
    assert_eq!(aging_row(&t, &w).await["buckets"], json!(["0.00", "600.00", "0.00", "0.00"]));

    // The rest, written off too: the receivable is written off and counts nowhere.
    let (st, wo2) = propose(&t, &manager, &r["id"], "600.00").await;
    assert_eq!(st, StatusCode::CREATED, "{wo2}");
    assert_eq!(decide(&t, &finance, &wo2["approval_id"], "approve").await.0, StatusCode::OK);
    let s = statement(&t, &w).await;
    assert_eq!(
        (s["outstanding"].as_str(), s["receivables"][0]["state"].as_str()),
        (Some("0.00"), Some("written_off")),
        "{s}"
    );
    assert_eq!(aging_row(&t, &w).await, Value::Null, "nothing left to age");
    // The account's statement (对账单) credits both write-offs: its balance is what is owed.
    let st = t.get(&format!("/api/v1/accounts/{}/statement?from={}", w.account_x, day(-60)), &finance).await.json();
    let entries: Vec<(&str, &str, &str)> = st["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| {
            (
                l["entry"].as_str().unwrap_or("?"),
                l["credit"].as_str().unwrap_or("?"),
                l["balance"].as_str().unwrap_or("?"),
            )
        })
        .collect();
    assert_eq!(
        entries,
        [("invoice", "0.00", "1000.00"), ("writeoff", "400.00", "600.00"), ("writeoff", "600.00", "0.00")],
        "{st}"
    );
    assert_eq!(
        (st["written_off"].as_str(), st["paid"].as_str(), st["closing_balance"].as_str()),
        (Some("1000.00"), Some("0.00"), Some("0.00")),
        "{st}"
    );
    // A period after the invoice: it opens on 1,000 owed; the printable statement says so.
    let st = t.get(&format!("/api/v1/accounts/{}/statement?from={}", w.account_x, day(-10)), &finance).await.json();
    assert_eq!(
        (st["opening_balance"].as_str(), st["lines"].as_array().map(Vec::len), st["closing_balance"].as_str()),
        (Some("1000.00"), Some(2), Some("0.00")),
        "{st}"
    );
    let (sid, _) = t.ui_login("finance", PASSWORD, None).await.expect("finance signs in");
    let print = t
        .get(
            &format!("/accounts/{}/statement/print?from={}", w.account_x, day(-60)),
            &Auth::Session { cookie: sid, csrf: String::new() },
        )
        .await;
    assert_eq!(print.status, StatusCode::OK, "{}", print.body);
    assert!(print.body.contains("坏账核销") && print.body.contains("id=\"written-off\""), "{}", print.body);
    let list = t.get(&format!("/api/v1/accounts/{}/write-offs", w.account_x), &manager).await.json();
    let states: Vec<&str> =
        list["items"].as_array().expect("items").iter().filter_map(|x| x["state"].as_str()).collect();
    assert_eq!(states, ["approved", "approved"]);
    let audits: i64 = sqlx::Row::try_get(
        &sqlx::query("SELECT COUNT(*) AS n FROM audit_log WHERE entity = 'receivable' AND action IN ('writeoff_request', 'writeoff')")
            .fetch_one(&t.db().pool)
            .await
            .expect("audit"),
        "n",
    )
    .expect("n");
    assert_eq!(audits, 4, "two requests, two write-offs audited");
}

#[tokio::test]
async fn a_rejected_or_overtaken_writeoff_changes_nothing_and_scope_holds() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (manager, finance) = (bearer(&w, "manager"), bearer(&w, "finance"));
    let (_, r) = overdue(&t, &w, "INV-W2", 70).await;

    // A rep may not propose; another region's rep does not see the receivable.
    assert_eq!(propose(&t, &bearer(&w, "repA"), &r["id"], "100.00").await.0, StatusCode::FORBIDDEN);
    assert_eq!(propose(&t, &bearer(&w, "repC"), &r["id"], "100.00").await.0, StatusCode::NOT_FOUND);
    let r404 = t.get(&format!("/api/v1/receivables/{}/contacts", r["id"]), &bearer(&w, "repC")).await;
    assert_eq!(r404.status, StatusCode::NOT_FOUND);
    // More than is owed: 422 naming the amount, nothing saved.
    let (st, v) = propose(&t, &manager, &r["id"], "1000.01").await;
    assert_eq!(
        (st, v["error"]["details"]["fields"]["amount"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("beyond_outstanding"))
    );
    let before = (statement(&t, &w).await, aging_row(&t, &w).await);

    let (_, wo) = propose(&t, &manager, &r["id"], "300.00").await;
    // repC does not see the request either.
    assert_eq!(
        t.get(&format!("/api/v1/approvals/{}", wo["approval_id"]), &bearer(&w, "repC")).await.status,
        StatusCode::NOT_FOUND
    );
    let (st, v) = decide(&t, &finance, &wo["approval_id"], "reject").await;
    assert_eq!((st, v["state"].as_str()), (StatusCode::OK, Some("rejected")), "{v}");
    assert_eq!((statement(&t, &w).await, aging_row(&t, &w).await), before, "a rejection changes nothing");

    // Payments still come in while a request is pending; if they leave less owed than it
    // asks, its approval is refused and the request stays pending.
    let (_, wo) = propose(&t, &manager, &r["id"], "800.00").await;
    let pay = json!({"account_id": w.account_x, "received_on": day(0), "amount": "500.00"});
    assert_eq!(t.call(Method::POST, "/api/v1/payments", &finance, Some(pay)).await.status, StatusCode::CREATED);
    let (st, v) = decide(&t, &finance, &wo["approval_id"], "approve").await;
    assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("writeoff_beyond_outstanding")), "{v}");
    let s = statement(&t, &w).await;
    assert_eq!(
        (s["outstanding"].as_str(), s["receivables"][0]["written_off"].as_str()),
        (Some("500.00"), Some("0.00"))
    );
    let a = t.get(&format!("/api/v1/approvals/{}", wo["approval_id"]), &manager).await.json();
    assert_eq!(a["state"], "pending");
    let r = t.call(Method::POST, &format!("/api/v1/approvals/{}/withdraw", wo["approval_id"]), &manager, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let list = t.get(&format!("/api/v1/accounts/{}/write-offs", w.account_x), &manager).await.json();
    let states: Vec<&str> =
        list["items"].as_array().expect("items").iter().filter_map(|x| x["state"].as_str()).collect();
    assert_eq!(states, ["cancelled", "rejected"]);
}

async fn deliver(t: &TestApp, w: &World, order: &Value, qty: &str) {
    let manager = bearer(w, "manager");
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/orders/{}/outbounds", order["id"]),
            &manager,
            Some(json!({"lines": [{"position": 0, "quantity": qty}]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let mut ob = r.json();
    for (what, body) in
        [("ship", json!({"carrier": "顺丰速运", "shipped_on": day(0)})), ("deliver", json!({"delivered_on": day(0)}))]
    {
        let mut body = body;
        body["version"] = ob["version"].clone();
        let r = t.call(Method::POST, &format!("/api/v1/outbounds/{}/{what}", ob["id"]), &manager, Some(body)).await;
        assert_eq!(r.status, StatusCode::OK, "{what}: {}", r.body);
        ob = r.json();
    }
}

async fn give_back(t: &TestApp, w: &World, order: &Value, qty: &str) -> (StatusCode, Value) {
    let body = json!({"lines": [{"position": 0, "quantity": qty}], "reason": "外壳运输损坏", "returned_on": day(0)});
    let r = t
        .call(Method::POST, &format!("/api/v1/orders/{}/returns", order["id"]), &bearer(w, "manager"), Some(body))
        .await;
    let v = if r.body.is_empty() { Value::Null } else { r.json() };
    (r.status, v)
}

#[tokio::test]
async fn a_return_takes_at_most_what_was_delivered_and_a_red_letter_invoice_reverses_the_receivable() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let o = signed_order(&t, &w, "2", "500.00", 30).await;
    deliver(&t, &w, &o, "2").await;
    let (_, inv) = invoice(&t, &w, &o, json!({"number": "INV-R1", "issued_on": day(0), "amount": "1000.00"})).await;

    // More than was delivered: 422 naming the line, nothing saved.
    let (st, v) = give_back(&t, &w, &o, "3").await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"]["details"]["fields"]["lines[0].quantity"]["code"], "beyond_delivered", "{v}");
    let (st, ret) = give_back(&t, &w, &o, "1").await;
    assert_eq!(st, StatusCode::CREATED, "{ret}");
    // Invoiced in full: the whole value waits for a red-letter invoice.
    assert_eq!(
        (ret["value"].as_str(), ret["reduced"].as_str(), ret["to_credit"].as_str()),
        (Some("500.00"), Some("0.00"), Some("500.00"))
    );
    let (st, v) = give_back(&t, &w, &o, "1.001").await;
    assert_eq!(
        (st, fields_of(&v).as_deref()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("beyond_delivered")),
        "one left to return"
    );
    let d = t.get(&format!("/api/v1/orders/{}/outbounds", o["id"]), &bearer(&w, "manager")).await.json();
    assert_eq!(d["lines"][0]["delivered"], "1", "the returned unit is no longer delivered: {d}");
    let list = t.get(&format!("/api/v1/orders/{}/returns", o["id"]), &bearer(&w, "finance")).await.json();
    assert_eq!(list["items"][0]["number"], ret["number"]);
    assert_eq!(list["lines"][0]["returnable"], "1");

    // The red-letter invoice naming the return: at most what it has to credit.
    let red = |amount: &str| json!({"number": format!("RED-{amount}"), "issued_on": day(0), "amount": amount, "reverses_id": inv["id"], "return_id": ret["id"]});
    let (st, v) = invoice(&t, &w, &o, red("500.01")).await;
    assert_eq!(
        (st, v["error"]["details"]["fields"]["amount"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("beyond_return_credit"))
    );
    let (st, v) = invoice(&t, &w, &o, red("500.00")).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let m = money(&t, &w, &o).await;
    assert_eq!(
        (
            m["receivables"][0]["amount"].as_str(),
            m["receivables"][0]["outstanding"].as_str(),
            m["left_to_invoice"].as_str()
        ),
        (Some("500.00"), Some("500.00"), Some("0.00")),
        "{m}"
    );
    assert_eq!(statement(&t, &w).await["outstanding"], "500.00");
    let got = t.get(&format!("/api/v1/returns/{}", ret["id"]), &bearer(&w, "finance")).await.json();
    assert_eq!((got["credited"].as_str(), got["left_to_credit"].as_str()), (Some("500.00"), Some("0.00")));

    // Returned before any invoice: the value comes off the scheduled receivable at once.
    let o2 = signed_order(&t, &w, "2", "500.00", 30).await;
    deliver(&t, &w, &o2, "2").await;
    let (st, ret2) = give_back(&t, &w, &o2, "1").await;
    assert_eq!(
        (st, ret2["reduced"].as_str(), ret2["to_credit"].as_str()),
        (StatusCode::CREATED, Some("500.00"), Some("0.00"))
    );
    let m = money(&t, &w, &o2).await;
    assert_eq!(
        (m["receivables"][0]["amount"].as_str(), m["left_to_invoice"].as_str()),
        (Some("500.00"), Some("500.00")),
        "{m}"
    );
    // A rep of another region sees none of it.
    assert_eq!(
        t.get(&format!("/api/v1/orders/{}/returns", o2["id"]), &bearer(&w, "repC")).await.status,
        StatusCode::NOT_FOUND
    );
}

fn fields_of(v: &Value) -> Option<String> {
    v["error"]["details"]["fields"]["lines[0].quantity"]["code"].as_str().map(str::to_string)
}

fn session(sid: &str) -> Auth {
    Auth::Session { cookie: sid.to_string(), csrf: String::new() }
}

#[tokio::test]
async fn the_statement_offers_the_writeoff_form_and_the_order_page_the_return_form() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (_, r) = overdue(&t, &w, "INV-P1", 20).await;
    let (sid, csrf) = t.ui_login("manager", PASSWORD, None).await.expect("manager signs in");
    let statement = format!("/accounts/{}/receivables", w.account_x);
    let page = t.get(&statement, &session(&sid)).await;
    assert!(page.body.contains("id=\"writeoff-form\"") && page.body.contains("data-confirm="), "{}", page.body);
    let rid = r["id"].to_string();
    let post = |amount: &'static str| {
        let (rid, csrf, sid, t) = (rid.clone(), csrf.clone(), sid.clone(), &t);
        let path = format!("/accounts/{}/write-offs", w.account_x);
        async move {
            t.ui_post(
                &path,
                &sid,
                &[
                    ("_csrf", csrf.as_str()),
                    ("receivable_id", rid.as_str()),
                    ("wo_amount", amount),
                    ("wo_reason", "客户破产"),
                ],
            )
            .await
        }
    };
    let bad = post("1,000.01").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body.contains("超过这笔应收款的未收金额") && bad.body.contains("1,000.01"),
        "named and kept: {}",
        bad.body
    );
    let ok = post("300").await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let to = ok.headers.get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    assert!(to.starts_with("/approvals/"), "{to}");
    let page = t.get(&statement, &session(&sid)).await;
    assert!(
        page.body.contains("id=\"writeoff-list\"") && page.body.contains("审批中"),
        "the pending write-off is listed"
    );
    // A rep is offered no write-off.
    let (rep, _) = t.ui_login("repA", PASSWORD, None).await.expect("rep signs in");
    assert!(!t.get(&statement, &session(&rep)).await.body.contains("id=\"writeoff-form\""));

    // The order page's return section: the form, a quantity beyond what was delivered named by its row.
    let o = signed_order(&t, &w, "2", "500.00", 30).await;
    deliver(&t, &w, &o, "2").await;
    let order = format!("/orders/{}", o["id"]);
    let page = t.get(&order, &session(&sid)).await;
    assert!(page.body.contains("id=\"return-form\""), "{}", page.body);
    let path = format!("{order}/returns");
    let today = day(0);
    let fields = |q: &'static str| {
        vec![
            ("_csrf", csrf.clone()),
            ("r_0", q.to_string()),
            ("returned_on", today.clone()),
            ("return_reason", "外壳破损".to_string()),
        ]
    };
    let as_refs = |f: &Vec<(&'static str, String)>| f.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>();
    let f = as_refs(&fields("3"));
    let bad = t.ui_post(&path, &sid, &f.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>()).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("第 1 行") && bad.body.contains("超过已到货未退的数量"), "{}", bad.body);
    let f = as_refs(&fields("1"));
    let ok = t.ui_post(&path, &sid, &f.iter().map(|(k, v)| (*k, v.as_str())).collect::<Vec<_>>()).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let page = t.get(&order, &session(&sid)).await;
    assert!(page.body.contains("外壳破损") && page.body.contains("TH"), "the return is shown");
}
