//! Orders (issue 21, first part): an order from an accepted quote copies its lines and terms;
//! the payment terms add up to 100 % and a due rule that does not parse is refused by field and
//! row; the sign-off (`order_signoff`) asks the KA manager, and above 500,000 元 the KA director
//! too, at the exact boundary; a signed order changed is signed off again as version 2; a
//! cancel needs a reason; a won opportunity books the sum of its signed orders; scope; the
//! customer's invoicing details — through the API, on whichever backend the suite runs on.
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use super::common::{assert_months_kept, fields, seed, Auth, TestApp, World};

fn bearer(w: &World, user: &str) -> Auth {
    Auth::Bearer(w.tokens[user].clone())
}

fn today() -> String {
    chrono::Utc::now().date_naive().format("%Y-%m-%d").to_string()
}

async fn count(t: &TestApp, table: &str) -> i64 {
    let r = sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}")).fetch_one(&t.db().pool).await.unwrap();
    sqlx::Row::try_get(&r, "n").unwrap()
}

/// An opportunity of account X owned by the rep.
async fn opportunity(t: &TestApp, w: &World, who: &Auth, name: &str) -> i64 {
    let body = json!({
        "account_id": w.account_x, "name": name, "amount": "100000.00", "expected_close": "2027-06-30",
        "eval_need": "扩产", "eval_budget": "已批", "eval_timeline": "二季度", "eval_decision_makers": "总经理"
    });
    let r = t.call(Method::POST, "/api/v1/opportunities", who, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.json()["id"].as_i64().expect("id")
}

/// Won by the director's override, booked at `booked`.
async fn win(t: &TestApp, w: &World, opp: i64, booked: &str) -> Value {
    let director = bearer(w, "director");
    let o = t.get(&format!("/api/v1/opportunities/{opp}"), &director).await.json();
    let body = json!({"stage": "won", "version": o["version"], "override_reason": "合同已签", "booked_amount": booked, "booked_on": today()});
    let r = t.call(Method::POST, &format!("/api/v1/opportunities/{opp}/stage"), &director, Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()
}

async fn act(t: &TestApp, who: &Auth, path: &str, v: &Value, action: &str, extra: Value) -> Value {
    let id = v["id"].as_i64().expect("id");
    let mut body = json!({"version": v["version"]});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    let r = t.call(Method::POST, &format!("/api/v1/{path}/{id}/{action}"), who, Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{action}: {}", r.body);
    r.json()
}

/// A quote the customer accepted: two lines (a 4 % discount, within a rep's 5 %) and terms.
async fn accepted_quote(t: &TestApp, w: &World, rep: &Auth, opp: i64) -> Value {
    let body = json!({
        "lines": [
            {"description": "三坐标测量机", "unit": "台", "quantity": "2", "list_price": "100000.00", "discount": "4"},
            {"description": "安装调试", "unit": "项", "quantity": "1", "unit_price": "8000.00"}
        ],
        "payment_terms": [
            {"kind": "advance", "percent": "30", "days": 0},
            {"kind": "on_delivery", "percent": "60", "days": 30},
            {"kind": "retention", "percent": "10", "days": 365}
        ],
        "delivery_terms": "合同签订后 30 天内交货"
    });
    let r = t.call(Method::POST, &format!("/api/v1/opportunities/{opp}/quotes"), rep, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let q = act(t, rep, "quotes", &r.json(), "submit", json!({})).await;
    assert_eq!(q["state"], "approved", "{q}");
    let q = act(t, rep, "quotes", &q, "send", json!({})).await;
    let _ = w;
    act(t, rep, "quotes", &q, "accept", json!({})).await
}

/// An order on account X with one free-text line of `amount` 元.
async fn order_of(t: &TestApp, w: &World, who: &Auth, amount: &str) -> Value {
    let body = json!({
        "account_id": w.account_x,
        "lines": [{"description": "测量系统", "unit": "套", "quantity": "1", "unit_price": amount}],
        "payment_terms": [{"kind": "advance", "percent": "100", "due": "15 days after invoice"}]
    });
    let r = t.call(Method::POST, "/api/v1/orders", who, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.json()
}

/// The request's steps as (role, state).
async fn steps(t: &TestApp, who: &Auth, approval: i64) -> Vec<(String, String)> {
    let r = t.get(&format!("/api/v1/approvals/{approval}"), who).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| (s["role"].as_str().unwrap_or("").to_string(), s["state"].as_str().unwrap_or("").to_string()))
        .collect()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

async fn decide(t: &TestApp, who: &Auth, approval: i64, decision: &str) {
    let body = json!({"decision": decision, "comment": "请核对交货期"});
    let r = t.call(Method::POST, &format!("/api/v1/approvals/{approval}/decision"), who, Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

async fn order(t: &TestApp, who: &Auth, id: &Value) -> Value {
    let r = t.get(&format!("/api/v1/orders/{id}"), who).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()
}

#[tokio::test]
async fn an_order_from_an_accepted_quote_copies_its_lines_and_terms() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (rep, director) = (bearer(&w, "repA"), bearer(&w, "director"));
    let opp = opportunity(&t, &w, &rep, "测量室扩建").await;
    // A quote not yet accepted makes no order.
    let draft = t
        .call(
            Method::POST,
            &format!("/api/v1/opportunities/{opp}/quotes"),
            &rep,
            Some(json!({"lines": [{"description": "x", "quantity": "1", "unit_price": "1.00"}]})),
        )
        .await
        .json();
    let r = t.call(Method::POST, &format!("/api/v1/quotes/{}/order", draft["id"]), &rep, Some(json!({}))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let q = accepted_quote(&t, &w, &rep, opp).await;
    let body = json!({"contract_no": "HT-2027-0031", "requested_delivery": "2027-03-31"});
    let r = t.call(Method::POST, &format!("/api/v1/quotes/{}/order", q["id"]), &rep, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let o = r.json();
    assert_eq!((o["state"].as_str(), o["current_version"].as_i64()), (Some("draft"), Some(1)), "{o}");
    assert!(o["number"].as_str().is_some_and(|n| n.starts_with("SO")), "{o}");
    assert_eq!((o["quote_id"].clone(), o["opportunity_id"].as_i64()), (q["id"].clone(), Some(opp)));
    let x = &o["latest"];
    // 2 × 96,000 + 8,000 = 200,000.00, as the accepted quote says.
    assert_eq!(x["total"], q["latest"]["total"]);
    assert_eq!(x["total"], "200000.00");
    let lines: Vec<(&str, &str, &str)> = x["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (l["description"].as_str().unwrap(), l["quantity"].as_str().unwrap(), l["unit_price"].as_str().unwrap())
        })
        .collect();
    assert_eq!(lines, [("三坐标测量机", "2", "96000.00"), ("安装调试", "1", "8000.00")]);
    let terms: Vec<(&str, &str, &str)> = x["payment_terms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["kind"].as_str().unwrap(), i["percent"].as_str().unwrap(), i["due"].as_str().unwrap()))
        .collect();
    assert_eq!(
        terms,
        [
            ("advance", "30.00", "0 days after order"),
            ("on_delivery", "60.00", "30 days after delivery"),
            ("retention", "10.00", "365 days after acceptance")
        ]
    );
    assert_eq!(x["payment_terms"][1]["amount"], "120000.00");
    assert_eq!(
        (x["contract_no"].as_str(), x["requested_delivery"].as_str()),
        (Some("HT-2027-0031"), Some("2027-03-31"))
    );
    assert!(x["notes"].as_str().is_some_and(|n| n.contains("30 天内交货")), "the quote's delivery terms kept: {x}");
    // The rep sees no cost or margin; the director does (free-text lines have no cost).
    assert!(x.get("margin").is_none() && x["lines"][0].get("margin").is_none(), "{x}");
    let seen = order(&t, &director, &o["id"]).await;
    assert_eq!(seen["latest"]["cost_complete"], false, "{seen}");
    assert!(seen["latest"]["margin"].is_string());
}

#[tokio::test]
async fn a_product_line_carries_its_margin_for_those_who_see_costs() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (rep, director) = (bearer(&w, "repA"), bearer(&w, "director"));
    let body = json!({"code": "CMM-500", "name": "三坐标测量机", "unit": "台", "list_price": "100000.00", "floor_price": "80000.00", "standard_cost": "60000.00"});
    let r = t.call(Method::POST, "/api/v1/products", &director, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let body = json!({"account_id": w.account_x, "lines": [{"product_code": "cmm-500", "quantity": "2", "unit_price": "113000.00"}]});
    let r = t.call(Method::POST, "/api/v1/orders", &rep, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let o = r.json();
    assert!(o["latest"]["lines"][0].get("cost").is_none(), "a rep sees no cost: {o}");
    let seen = order(&t, &director, &o["id"]).await;
    let line = &seen["latest"]["lines"][0];
    // 226,000 incl. 13 % tax = 200,000 without; cost 2 × 60,000: margin 80,000 (40 %).
    assert_eq!(
        (line["amount_excl"].as_str(), line["cost"].as_str(), line["margin"].as_str(), line["margin_percent"].as_str()),
        (Some("200000.00"), Some("120000.00"), Some("80000.00"), Some("40.00")),
        "{line}"
    );
    assert_eq!(seen["latest"]["cost_complete"], true);
}

#[tokio::test]
async fn installments_add_up_to_one_hundred_and_a_bad_due_rule_names_its_row() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = bearer(&w, "repA");
    let line = json!([{"description": "测量系统", "quantity": "1", "unit_price": "1000.00"}]);
    let cases = [
        (
            json!([{"kind": "advance", "percent": "30", "due": "0 days after order"}, {"kind": "on_delivery", "percent": "60", "due": "30 days after delivery"}]),
            "payment_terms",
            "installments_sum",
        ),
        (
            json!([{"kind": "advance", "percent": "30"}, {"kind": "on_delivery", "percent": "70", "due": "30 days after lunch"}]),
            "payment_terms[1].due",
            "due_rule_format",
        ),
        (
            json!([{"kind": "advance", "percent": "50", "due": "thirty days after invoice"}, {"kind": "retention", "percent": "50", "due": "开票后30天"}]),
            "payment_terms[0].due",
            "due_rule_format",
        ),
        (
            json!([{"kind": "advance", "percent": "100", "due": "800 days after order"}]),
            "payment_terms[0].due",
            "days_range",
        ),
        (json!([{"kind": "advance", "percent": "abc"}]), "payment_terms[0].percent", "bp_format"),
    ];
    for (terms, field, code) in cases {
        let body = json!({"account_id": w.account_x, "lines": line, "payment_terms": terms});
        let r = t.call(Method::POST, "/api/v1/orders", &rep, Some(body.clone())).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", r.body);
        let f = fields(&r);
        if field == "payment_terms[0].percent" {
            assert!(f.contains_key(field), "{body}: {f:?}");
        } else {
            assert_eq!(f.get(field).map(String::as_str), Some(code), "{body}: {f:?}");
        }
    }
    // Other bad input, by field; nothing saved.
    let cases = [
        (json!({"account_id": w.account_x, "lines": []}), "lines", "required"),
        (
            json!({"account_id": w.account_x, "lines": [{"description": "a", "quantity": "-1", "unit_price": "1.00"}]}),
            "lines[0].quantity",
            "quantity_positive",
        ),
        (
            json!({"account_id": w.account_x, "lines": line, "requested_delivery": "2027-02-30"}),
            "requested_delivery",
            "date_format",
        ),
        (json!({"lines": line}), "account_id", "required"),
    ];
    for (body, field, code) in cases {
        let r = t.call(Method::POST, "/api/v1/orders", &rep, Some(body.clone())).await;
        assert_eq!(fields(&r).get(field).map(String::as_str), Some(code), "{body}: {}", r.body);
    }
    assert_eq!(count(&t, "orders").await, 0, "nothing saved");
    // The Chinese form of a due rule is read and written back in its one form.
    let body = json!({"account_id": w.account_x, "lines": line, "payment_terms": [
        {"kind": "advance", "percent": "40", "due": "下单后"}, {"kind": "after_acceptance", "percent": "60", "due": "验收后 90 天"}]});
    let r = t.call(Method::POST, "/api/v1/orders", &rep, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let terms = &r.json()["latest"]["payment_terms"];
    assert_eq!(
        (terms[0]["due"].as_str(), terms[1]["due"].as_str()),
        (Some("0 days after order"), Some("90 days after acceptance"))
    );
    assert_eq!((terms[1]["due_days"].as_i64(), terms[1]["due_event"].as_str()), (Some(90), Some("acceptance")));
}

#[tokio::test]
async fn the_manager_signs_off_and_above_500000_yuan_the_director_too() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (rep, manager, director) = (bearer(&w, "repA"), bearer(&w, "manager"), bearer(&w, "director"));
    // Exactly at the threshold: the manager alone.
    let o = order_of(&t, &w, &rep, "500000.00").await;
    assert_eq!(o["director_threshold"], "500000.00");
    let o = act(&t, &rep, "orders", &o, "submit", json!({})).await;
    assert_eq!(o["state"], "pending", "{o}");
    let aid = o["latest"]["approval_id"].as_i64().expect("a request");
    let a = t.get(&format!("/api/v1/approvals/{aid}"), &manager).await.json();
    assert_eq!((a["flow"].as_str(), a["subject"]["type"].as_str()), (Some("order_signoff"), Some("order")), "{a}");
    assert_eq!(steps(&t, &director, aid).await, pairs(&[("ka_manager", "open"), ("ka_director", "skipped")]));
    decide(&t, &manager, aid, "approve").await;
    let o = order(&t, &rep, &o["id"]).await;
    assert_eq!((o["state"].as_str(), o["signed_version"].as_i64()), (Some("signed"), Some(1)), "{o}");
    assert_eq!(o["signed_total"], "500000.00");
    // One fen above: the manager, then the director.
    let o = order_of(&t, &w, &rep, "500000.01").await;
    let o = act(&t, &rep, "orders", &o, "submit", json!({})).await;
    let aid = o["latest"]["approval_id"].as_i64().expect("a request");
    assert_eq!(steps(&t, &director, aid).await, pairs(&[("ka_manager", "open"), ("ka_director", "waiting")]));
    decide(&t, &manager, aid, "approve").await;
    assert_eq!(order(&t, &rep, &o["id"]).await["state"], "pending", "the director has still to sign");
    decide(&t, &director, aid, "approve").await;
    let o = order(&t, &rep, &o["id"]).await;
    assert_eq!(o["state"], "signed", "{o}");
    // A KA manager's own order within the threshold is signed at once; above it the director.
    let mine = order_of(&t, &w, &manager, "300000.00").await;
    let mine = act(&t, &manager, "orders", &mine, "submit", json!({})).await;
    assert_eq!((mine["state"].as_str(), mine["latest"]["within_authority"].as_bool()), (Some("signed"), Some(true)));
    let big = order_of(&t, &w, &manager, "600000.00").await;
    let big = act(&t, &manager, "orders", &big, "submit", json!({})).await;
    let aid = big["latest"]["approval_id"].as_i64().expect("a request");
    assert_eq!(steps(&t, &director, aid).await, pairs(&[("ka_manager", "skipped"), ("ka_director", "open")]));
    // A returned request puts the order back to draft with the reason.
    let body = json!({"decision": "return", "comment": "交货期需与生产确认"});
    let r = t.call(Method::POST, &format!("/api/v1/approvals/{aid}/decision"), &director, Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let big = order(&t, &manager, &big["id"]).await;
    assert_eq!(
        (big["state"].as_str(), big["latest"]["returned_reason"].as_str()),
        (Some("draft"), Some("交货期需与生产确认"))
    );
}

#[tokio::test]
async fn a_signed_order_changed_is_signed_off_again_as_version_two() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (rep, manager) = (bearer(&w, "repA"), bearer(&w, "manager"));
    let o = order_of(&t, &w, &rep, "100000.00").await;
    let o = act(&t, &rep, "orders", &o, "submit", json!({})).await;
    decide(&t, &manager, o["latest"]["approval_id"].as_i64().unwrap(), "approve").await;
    let o = order(&t, &rep, &o["id"]).await;
    assert_eq!(o["state"], "signed");
    // Submitting a signed order is refused; changing it makes v2, pending again.
    let r = t
        .call(Method::POST, &format!("/api/v1/orders/{}/submit", o["id"]), &rep, Some(json!({"version": o["version"]})))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let body = json!({"version": o["version"], "lines": [{"description": "测量系统", "unit": "套", "quantity": "1", "unit_price": "120000.00"}]});
    let r = t.call(Method::PATCH, &format!("/api/v1/orders/{}", o["id"]), &rep, Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let o2 = r.json();
    assert_eq!((o2["current_version"].as_i64(), o2["state"].as_str()), (Some(2), Some("pending")), "{o2}");
    assert_eq!(
        (o2["signed_version"].as_i64(), o2["signed_total"].as_str()),
        (Some(1), Some("100000.00")),
        "v1 stays in force"
    );
    let aid2 = o2["latest"]["approval_id"].as_i64().expect("a new request");
    assert_ne!(Some(aid2), o["latest"]["approval_id"].as_i64());
    // A stale version is refused and changes nothing.
    let r = t
        .call(
            Method::PATCH,
            &format!("/api/v1/orders/{}", o["id"]),
            &rep,
            Some(json!({"version": o["version"], "notes": "x"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    decide(&t, &manager, aid2, "approve").await;
    let o2 = order(&t, &rep, &o["id"]).await;
    assert_eq!((o2["signed_version"].as_i64(), o2["signed_total"].as_str()), (Some(2), Some("120000.00")));
    let v1 = t.get(&format!("/api/v1/orders/{}?version_no=1", o["id"]), &rep).await.json();
    assert_eq!(v1["latest"]["state"], "superseded", "{v1}");
    let states: Vec<&str> = o2["versions"].as_array().unwrap().iter().map(|v| v["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["signed", "superseded"]);
    // The audit trail has the order's story.
    let trail = t.get(&format!("/api/v1/audit?entity=order&id={}", o["id"]), &rep).await.json();
    let actions: Vec<&str> = trail["items"].as_array().unwrap().iter().filter_map(|e| e["what"].as_str()).collect();
    for a in ["create", "submit", "signoff", "update"] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
}

#[tokio::test]
async fn cancelling_needs_a_reason_and_ends_the_order() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = bearer(&w, "repA");
    let o = order_of(&t, &w, &rep, "80000.00").await;
    let o = act(&t, &rep, "orders", &o, "submit", json!({})).await;
    let aid = o["latest"]["approval_id"].as_i64().unwrap();
    for body in [json!({"version": o["version"]}), json!({"version": o["version"], "reason": "  "})] {
        let r = t.call(Method::POST, &format!("/api/v1/orders/{}/cancel", o["id"]), &rep, Some(body)).await;
        assert_eq!(fields(&r).get("reason").map(String::as_str), Some("required"), "{}", r.body);
    }
    assert_eq!(order(&t, &rep, &o["id"]).await["state"], "pending", "a refused cancel changes nothing");
    let c = act(&t, &rep, "orders", &o, "cancel", json!({"reason": "客户取消采购计划"})).await;
    assert_eq!((c["state"].as_str(), c["cancel_reason"].as_str()), (Some("cancelled"), Some("客户取消采购计划")));
    assert_eq!(t.get(&format!("/api/v1/approvals/{aid}"), &rep).await.json()["state"], "cancelled");
    let r = t
        .call(
            Method::PATCH,
            &format!("/api/v1/orders/{}", o["id"]),
            &rep,
            Some(json!({"version": c["version"], "notes": "x"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let listed = t.get("/api/v1/orders?state=cancelled", &rep).await.json();
    assert_eq!(listed["items"][0]["id"], o["id"], "{listed}");
}

#[tokio::test]
async fn a_won_opportunity_books_the_sum_of_its_signed_orders() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (rep, manager) = (bearer(&w, "repA"), bearer(&w, "manager"));
    let opp = opportunity(&t, &w, &rep, "整线改造").await;
    let q = accepted_quote(&t, &w, &rep, opp).await;
    // An open opportunity takes no order of its own.
    let line = json!([{"description": "年度维保", "unit": "年", "quantity": "1", "unit_price": "30000.00"}]);
    let r =
        t.call(Method::POST, &format!("/api/v1/opportunities/{opp}/orders"), &rep, Some(json!({"lines": line}))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let won = win(&t, &w, opp, "250000.00").await;
    let booked_on = won["booked_on"].clone();
    let first = t.call(Method::POST, &format!("/api/v1/quotes/{}/order", q["id"]), &rep, Some(json!({}))).await.json();
    let second =
        t.call(Method::POST, &format!("/api/v1/opportunities/{opp}/orders"), &rep, Some(json!({"lines": line}))).await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.body);
    let second = second.json();
    let booked = |o: Value| (o["booked_amount"].as_str().map(str::to_string), o["booked_on"].clone());
    let opp_now = || async { t.get(&format!("/api/v1/opportunities/{opp}"), &rep).await.json() };
    // No signed order yet: the amount booked when won.
    assert_eq!(booked(opp_now().await), (Some("250000.00".into()), booked_on.clone()));
    let first = act(&t, &rep, "orders", &first, "submit", json!({})).await;
    decide(&t, &manager, first["latest"]["approval_id"].as_i64().unwrap(), "approve").await;
    assert_eq!(booked(opp_now().await), (Some("200000.00".into()), booked_on.clone()), "one signed order");
    assert_months_kept(t.db(), "one order signed").await;
    let second = act(&t, &rep, "orders", &second, "submit", json!({})).await;
    decide(&t, &manager, second["latest"]["approval_id"].as_i64().unwrap(), "approve").await;
    assert_eq!(booked(opp_now().await), (Some("230000.00".into()), booked_on.clone()), "the sum of both");
    assert_months_kept(t.db(), "both signed").await;
    let listed = t.get(&format!("/api/v1/opportunities/{opp}/orders"), &rep).await.json();
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(2), "{listed}");
    // Cancelled, an order no longer counts; none left: back to the amount it was won with.
    let second = order(&t, &rep, &second["id"]).await;
    act(&t, &rep, "orders", &second, "cancel", json!({"reason": "合并到首单"})).await;
    assert_eq!(booked(opp_now().await), (Some("200000.00".into()), booked_on.clone()));
    assert_months_kept(t.db(), "the second cancelled").await;
    let first = order(&t, &rep, &first["id"]).await;
    act(&t, &rep, "orders", &first, "cancel", json!({"reason": "客户改签"})).await;
    assert_eq!(booked(opp_now().await), (Some("250000.00".into()), booked_on));
    assert_months_kept(t.db(), "both cancelled").await;
    // What a reader sees: repA's scorecard this year has the booked revenue and no signed order.
    let n = sqlx::query("SELECT CAST(SUM(revenue) AS BIGINT) AS r, CAST(SUM(orders) AS BIGINT) AS n FROM sales_months")
        .fetch_one(&t.db().pool)
        .await
        .expect("months");
    assert_eq!(
        (sqlx::Row::try_get::<i64, _>(&n, "r").expect("r"), sqlx::Row::try_get::<i64, _>(&n, "n").expect("n")),
        (25_000_000, 0),
        "booked at the amount it was won with, no order counted"
    );
}

#[tokio::test]
async fn orders_are_seen_as_their_account_and_finance_sees_all() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (rep, other, finance, manager) =
        (bearer(&w, "repA"), bearer(&w, "repC"), bearer(&w, "finance"), bearer(&w, "manager"));
    let o = order_of(&t, &w, &rep, "50000.00").await;
    let id = o["id"].as_i64().unwrap();
    assert_eq!(t.get(&format!("/api/v1/orders/{id}"), &other).await.status, StatusCode::NOT_FOUND);
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/orders/{id}/cancel"),
            &other,
            Some(json!({"version": o["version"], "reason": "x"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = t
        .call(
            Method::POST,
            "/api/v1/orders",
            &other,
            Some(json!({"account_id": w.account_x, "lines": [{"description": "a", "quantity": "1", "unit_price": "1.00"}]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let theirs = t.get("/api/v1/orders", &other).await.json();
    assert_eq!(theirs["items"].as_array().map(Vec::len), Some(0), "{theirs}");
    // Finance reads every order but does not write them; the manager sees the team's.
    assert_eq!(t.get(&format!("/api/v1/orders/{id}"), &finance).await.status, StatusCode::OK);
    let all = t.get("/api/v1/orders", &finance).await.json();
    assert_eq!(all["items"][0]["id"], id, "{all}");
    let r = t
        .call(Method::POST, &format!("/api/v1/orders/{id}/submit"), &finance, Some(json!({"version": o["version"]})))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let mine = t.get("/api/v1/orders?owner=repA&state=draft", &manager).await.json();
    assert_eq!(mine["items"][0]["id"], id, "{mine}");
    // Filters: delivery before, sort, paging.
    for amount in ["1000.00", "2000.00", "3000.00"] {
        order_of(&t, &w, &rep, amount).await;
    }
    let page = t.get("/api/v1/orders?sort=total&limit=2", &rep).await.json();
    let totals: Vec<&str> = page["items"].as_array().unwrap().iter().map(|r| r["total"].as_str().unwrap()).collect();
    assert_eq!(totals, ["1000.00", "2000.00"]);
    let next = page["next_cursor"].as_str().expect("a next page");
    let page2 = t.get(&format!("/api/v1/orders?sort=total&limit=2&cursor={next}"), &rep).await.json();
    let totals: Vec<&str> = page2["items"].as_array().unwrap().iter().map(|r| r["total"].as_str().unwrap()).collect();
    assert_eq!(totals, ["3000.00", "50000.00"]);
    let none = t.get("/api/v1/orders?delivery_before=2027-01-01", &rep).await.json();
    assert_eq!(none["items"].as_array().map(Vec::len), Some(0), "no order asks for a delivery: {none}");
    let r = t.get("/api/v1/orders?delivery_before=someday", &rep).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
}

#[tokio::test]
async fn invoicing_details_are_checked_versioned_and_scoped() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (rep, other) = (bearer(&w, "repA"), bearer(&w, "repC"));
    let path = format!("/api/v1/accounts/{}/invoicing", w.account_x);
    let empty = t.get(&path, &rep).await.json();
    assert_eq!((empty["version"].as_i64(), empty["tax_number"].as_str()), (Some(0), Some("")), "{empty}");
    let cases = [
        (json!({"title": "天成", "tax_number": "12345"}), "tax_number", "tax_number_length"),
        (json!({"title": "天成", "tax_number": "91350100M000100Y44"}), "tax_number", "credit_code_check"),
        (json!({"title": "天成", "tax_number": "1101-0812345678"}), "tax_number", "tax_number_format"),
        (json!({"tax_number": "110108123456789"}), "title", "required"),
        (
            json!({"title": "天成", "tax_number": "110108123456789", "bank": "工行", "bank_account": "12"}),
            "bank_account",
            "bank_account_length",
        ),
        (
            json!({"title": "天成", "tax_number": "110108123456789", "bank_account": "6222020012345678"}),
            "bank",
            "required",
        ),
    ];
    for (body, field, code) in cases {
        let r = t.call(Method::PUT, &path, &rep, Some(body.clone())).await;
        assert_eq!(fields(&r).get(field).map(String::as_str), Some(code), "{body}: {}", r.body);
    }
    assert_eq!(count(&t, "account_invoicing").await, 0, "nothing saved");
    let body = json!({"version": 0, "title": "天成信息技术股份有限公司", "tax_number": "91350100m000100y43",
        "address": "北京市海淀区中关村大街 1 号", "phone": "010-62345678", "bank": "中国工商银行北京中关村支行", "bank_account": "0200 0045 0920 1234 567"});
    let r = t.call(Method::PUT, &path, &rep, Some(body.clone())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v = r.json();
    assert_eq!((v["version"].as_i64(), v["tax_number"].as_str()), (Some(1), Some("91350100M000100Y43")));
    assert_eq!(v["bank_account"], "0200004509201234567");
    // The same version again is stale; the current one saves.
    let r = t.call(Method::PUT, &path, &rep, Some(body.clone())).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let mut next = body.clone();
    next["version"] = json!(1);
    next["phone"] = json!("010-62345679");
    let r = t.call(Method::PUT, &path, &rep, Some(next)).await;
    assert_eq!((r.status, r.json()["version"].as_i64()), (StatusCode::OK, Some(2)), "{}", r.body);
    // Out of scope: not found, to read and to write.
    assert_eq!(t.get(&path, &other).await.status, StatusCode::NOT_FOUND);
    assert_eq!(t.call(Method::PUT, &path, &other, Some(body)).await.status, StatusCode::NOT_FOUND);
    let trail = t.get(&format!("/api/v1/audit?entity=account&id={}", w.account_x), &rep).await.json();
    let n = trail["items"].as_array().unwrap().iter().filter(|e| e["what"] == "invoicing").count();
    assert_eq!(n, 2, "{trail}");
}

#[tokio::test]
async fn the_dataset_books_each_won_opportunity_as_its_signed_order() {
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
    let signed = n("SELECT COUNT(*) AS n FROM orders WHERE state = 'signed' AND opportunity_id IS NOT NULL").await;
    let won = n("SELECT COUNT(*) AS n FROM opportunities WHERE stage = 'won' AND booked_amount > 0").await;
    assert_eq!(signed, won, "one signed order per won opportunity");
    assert_months_kept(&db, "the dataset loaded").await;
    assert!(n("SELECT COUNT(*) AS n FROM orders WHERE state = 'draft'").await > 0);
    assert!(n("SELECT COUNT(*) AS n FROM orders WHERE state = 'cancelled' AND cancel_reason IS NOT NULL").await > 0);
    let off = n("SELECT COUNT(*) AS n FROM opportunities o WHERE o.stage = 'won' AND o.booked_amount <> \
                 (SELECT SUM(d.signed_total) FROM orders d WHERE d.opportunity_id = o.id AND d.state = 'signed')")
    .await;
    assert_eq!(off, 0, "each booked amount is the sum of its signed orders");
    assert_eq!(
        n("SELECT COUNT(*) AS n FROM orders d WHERE d.total <> (SELECT SUM(l.amount) FROM order_lines l \
           JOIN order_versions v ON v.id = l.version_id WHERE v.order_id = d.id)")
        .await,
        0,
        "an order's total is the sum of its lines"
    );
    // A new order after the bulk-loaded ones (PostgreSQL's identity sequences were moved on).
    let r = sqlx::query("SELECT id, owner_id FROM accounts WHERE owner_id IS NOT NULL ORDER BY id LIMIT 1")
        .fetch_one(&db.pool)
        .await
        .expect("an owned account");
    let (account, owner): (i64, i64) = (sqlx::Row::get(&r, "id"), sqlx::Row::get(&r, "owner_id"));
    let caller = kam::app::people::auth::load_caller(&db, owner).await.expect("caller").expect("the owner");
    let ctx = kam::app::Ctx { caller, request_id: "test".into() };
    let inp: kam::app::orders::orders::OrderIn = serde_json::from_value(json!({
        "lines": [{"description": "备件", "quantity": "1", "unit_price": "100.00"}]
    }))
    .expect("input");
    let last = n("SELECT MAX(id) AS n FROM orders").await;
    let o = kam::app::orders::orders::create(&db, &ctx, kam::app::orders::orders::Origin::Account(account), &inp)
        .await
        .expect("a new order");
    assert!(o.id > last, "{} after {last}", o.id);
    // Orders on the accounts directly too, each signed one delivered or still to prepare.
    assert!(n("SELECT COUNT(*) AS n FROM orders WHERE opportunity_id IS NULL AND state = 'signed'").await > 0);
    assert_eq!(
        n("SELECT COUNT(*) AS n FROM orders d WHERE d.state = 'signed' AND NOT EXISTS \
           (SELECT 1 FROM order_fulfilment f WHERE f.order_id = d.id)")
        .await,
        0,
        "each signed order has its fulfilment row"
    );
    // A delivered order looks like one delivered through the app: its outbounds send every line,
    // and logistics moves the one still on the way.
    let logistics: i64 = sqlx::Row::get(
        &sqlx::query("SELECT id FROM users WHERE username = 'logistics'").fetch_one(&db.pool).await.expect("logistics"),
        "id",
    );
    let caller = kam::app::people::auth::load_caller(&db, logistics).await.expect("caller").expect("logistics");
    let wuliu = kam::app::Ctx { caller, request_id: "test".into() };
    let accepted = n("SELECT MIN(order_id) AS n FROM order_fulfilment WHERE accepted_on IS NOT NULL").await;
    let d = kam::app::orders::deliveries::of_order(&db, &wuliu.caller, accepted).await.expect("a delivery");
    assert!(d.delivered_in_full && d.accepted_on.is_some() && !d.may_prepare, "{d:?}");
    assert!(!d.outbounds.is_empty() && d.lines.iter().all(|l| l.accepted == l.ordered && l.left == "0"), "{d:?}");
    let on_the_way = n("SELECT MIN(id) AS n FROM outbounds WHERE state = 'shipped'").await;
    let o = kam::app::orders::deliveries::get(&db, &wuliu.caller, on_the_way).await.expect("an outbound");
    let inp = kam::app::orders::deliveries::DeliverIn { version: o.version, delivered_on: o.shipped_on.clone() };
    let v = kam::app::orders::deliveries::deliver(&db, &wuliu, on_the_way, &inp).await.expect("delivered");
    let d = kam::app::orders::deliveries::of_order(&db, &wuliu.caller, v.order_id).await.expect("a delivery");
    assert!(d.delivered_in_full && d.delivered_on.is_some(), "{d:?}");
}

#[tokio::test]
async fn a_merge_carries_the_duplicates_orders_and_invoicing_details() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (rep_a, rep_b, director, manager) =
        (bearer(&w, "repA"), bearer(&w, "repB"), bearer(&w, "director"), bearer(&w, "manager"));
    let body = json!({"name": "北京星河精密制造（分公司）", "industry": "enterprise", "region": "N", "branch": "BJ",
        "owner": "repB", "allow_duplicate_name": true});
    let r = t.call(Method::POST, "/api/v1/accounts", &director, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let d = r.json()["id"].as_i64().unwrap();
    let inv = json!({"title": "北京星河精密制造有限公司", "tax_number": "110108123456789"});
    let r = t.call(Method::PUT, &format!("/api/v1/accounts/{d}/invoicing"), &rep_b, Some(inv)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let body = json!({"account_id": d, "lines": [{"description": "备件", "quantity": "1", "unit_price": "100.00"}]});
    let o = t.call(Method::POST, "/api/v1/orders", &rep_b, Some(body)).await.json();
    assert_eq!(t.get(&format!("/api/v1/orders/{}", o["id"]), &rep_a).await.status, StatusCode::NOT_FOUND);
    let version = |id: i64| {
        let t = &t;
        let director = &director;
        async move { t.get(&format!("/api/v1/accounts/{id}"), director).await.json()["version"].clone() }
    };
    // Money and credit on the duplicate: a payment with nothing to clear (a credit balance) and
    // a credit evaluation.
    let finance = bearer(&w, "finance");
    let pay = json!({"account_id": d, "received_on": "2026-11-30", "amount": "250.00", "reference": "MERGE-PAY-1"});
    let r = t.call(Method::POST, "/api/v1/payments", &finance, Some(pay)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let director_id: i64 = sqlx::Row::try_get(
        &sqlx::query("SELECT id FROM users WHERE username = 'director'").fetch_one(&t.db().pool).await.unwrap(),
        "id",
    )
    .unwrap();
    sqlx::query(
        "INSERT INTO credit_evaluations (account_id, score, scale_max, items_json, info_json, evaluated_by, evaluated_on, \
         created_at) VALUES ($1, 64, 5, '[]', '{}', $2, '2026-11-01', '2026-11-01T00:00:00.000000Z')",
    )
    .bind(d)
    .bind(director_id)
    .execute(&t.db().pool)
    .await
    .unwrap();
    let body = json!({"duplicate_id": d, "version": version(w.account_x).await, "duplicate_version": version(d).await});
    let r = t.call(Method::POST, &format!("/api/v1/accounts/{}/merge", w.account_x), &manager, Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // The payment is the survivor's now, and so is the evaluation (seen by a credit role only).
    let money = t.get(&format!("/api/v1/accounts/{}/receivables", w.account_x), &finance).await;
    assert_eq!(money.status, StatusCode::OK, "{}", money.body);
    assert!(money.body.contains("MERGE-PAY-1"), "{}", money.body);
    let gone = t.get(&format!("/api/v1/accounts/{d}/receivables"), &finance).await;
    assert!(!gone.body.contains("MERGE-PAY-1"), "nothing stays on the merged account: {}", gone.body);
    let evals = t.get(&format!("/api/v1/accounts/{}/credit-evaluations", w.account_x), &director).await;
    assert_eq!(evals.status, StatusCode::OK, "{}", evals.body);
    assert!(evals.json()["items"].as_array().unwrap().iter().any(|e| e["score"] == 64), "{}", evals.body);
    // The merge's history counts the payment for everyone and the credit records only for
    // those who see credit.
    let h = t.get(&format!("/api/v1/audit?entity=account&id={}", w.account_x), &director).await.json();
    assert_eq!(h["items"][0]["after"]["merge"]["moved"]["payments"], 1, "{h}");
    assert_eq!(h["items"][0]["after"]["merge"]["credit_moved"]["credit_evaluations"], 1, "{h}");
    let h = t.get(&format!("/api/v1/audit?entity=account&id={}", w.account_x), &rep_a).await;
    assert!(h.body.contains("\"payments\":1") && !h.body.contains("credit_moved"), "{}", h.body);
    let moved = t.get(&format!("/api/v1/orders/{}", o["id"]), &rep_a).await;
    assert_eq!(moved.status, StatusCode::OK, "the survivor's holder sees the moved order: {}", moved.body);
    assert_eq!(moved.json()["account_id"], w.account_x);
    let inv = t.get(&format!("/api/v1/accounts/{}/invoicing", w.account_x), &rep_a).await.json();
    assert_eq!(inv["title"], "北京星河精密制造有限公司", "{inv}");
}

/// Issue 26: on PostgreSQL `kam dataset` sends its rows by `COPY` (a stage table per batch);
/// with `--bulk-copy off` by `unnest` arrays. Both load the same rows for a seed.
#[tokio::test]
async fn the_dataset_loads_the_same_rows_by_copy_and_by_statements() {
    use kam::generate::dataset::{generate_scaled, Scale};
    let small = Scale {
        regions: 1,
        branches_per_region: 2,
        aes: 2,
        srs: 2,
        accounts: 80,
        contacts_per_account: 2,
        opportunities: 300,
        activities: 800,
    };
    let (first, _u1, _d1) = super::common::fresh_db().await;
    if first.backend != kam::db::Backend::Postgres {
        return; // SQLite has one way only (multi-row statements), tested everywhere else.
    }
    let (second, _u2, _d2) = super::common::fresh_db().await;
    let by_copy = first.with_bulk_copy(true);
    let by_statements = second.with_bulk_copy(false);
    generate_scaled(&by_copy, "tiny", small, 11, "bench-pass").await.expect("a dataset by COPY");
    generate_scaled(&by_statements, "tiny", small, 11, "bench-pass").await.expect("a dataset by statements");
    // What each load wrote, table by table: the count and a digest of the columns that do not
    // depend on the moment of the load.
    let tables: &[(&str, &str)] = &[
        ("accounts", "id, name, credit_code, owner_id, buying_power, sales_12m, status, tier"),
        ("contacts", "id, account_id, name, title, phone"),
        ("account_access", "account_id, user_id, via"),
        ("account_visibility", "account_id, user_id"),
        ("opportunities", "id, account_id, name, amount, stage, owner_id"),
        ("activities", "id, account_id, owner_id, kind, status, outcome, summary"),
        ("orders", "id, account_id, state"),
        ("receivables", "id, order_id, position, kind"),
        ("audit_log", "entity, entity_id, action"),
    ];
    for (table, cols) in tables {
        let sql = format!(
            "SELECT COUNT(*) AS n, COALESCE(md5(string_agg(ROW({cols})::text, '|' ORDER BY ROW({cols})::text)), '') AS h \
             FROM {table}"
        );
        let digest = |db: kam::db::Db| {
            let sql = sql.clone();
            async move {
                let r = sqlx::query(&sql).fetch_one(&db.pool).await.expect("digest");
                (
                    sqlx::Row::try_get::<i64, _>(&r, "n").expect("n"),
                    sqlx::Row::try_get::<String, _>(&r, "h").expect("h"),
                )
            }
        };
        let (a, b) = (digest(by_copy.clone()).await, digest(by_statements.clone()).await);
        assert!(a.0 > 0, "{table} is empty");
        assert_eq!(a, b, "{table}: by COPY and by statements differ");
    }
    // Only the first went by COPY, and its stage tables are gone.
    assert!(by_copy.rows_copied() > 1_000, "{}", by_copy.rows_copied());
    assert_eq!(by_statements.rows_copied(), 0);
    let left: i64 = sqlx::Row::try_get(
        &sqlx::query("SELECT COUNT(*) AS n FROM pg_class WHERE relname ~ '^bulk_stage_l[0-9]+_[0-9]+$'")
            .fetch_one(&by_copy.pool)
            .await
            .expect("stage tables"),
        "n",
    )
    .expect("n");
    assert_eq!(left, 0);
}
