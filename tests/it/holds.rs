//! Holds and dunning (issue 21, DOMAIN.md §12.3): the receivables policy as a setting; an order
//! held by hand stops its sign-off until finance releases it; the dunning pass tells each
//! receivable's people once per level and, at the holding level, holds every order of the
//! account; the dunning letter lists what is past due. Past due dates come from invoices dated
//! in the past and from the pass's own clock — through the API, on whichever backend the suite
//! runs on.
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use super::common::{seed, Auth, TestApp, World};

fn bearer(w: &World, user: &str) -> Auth {
    Auth::Bearer(w.tokens[user].clone())
}

fn today() -> chrono::NaiveDate {
    chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive()
}

fn day(offset: i64) -> String {
    (today() + chrono::Duration::days(offset)).format("%Y-%m-%d").to_string()
}

/// A draft order of account X by the manager.
async fn draft(t: &TestApp, w: &World, amount: &str) -> Value {
    let body = json!({
        "account_id": w.account_x,
        "lines": [{"description": "测量系统", "unit": "套", "quantity": "1", "unit_price": amount}],
        "payment_terms": [{"kind": "on_delivery", "percent": "100", "due": "0 days after invoice"}]
    });
    let r = t.call(Method::POST, "/api/v1/orders", &bearer(w, "manager"), Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.json()
}

async fn submit(t: &TestApp, w: &World, o: &Value) -> (StatusCode, Value) {
    let cur = t.get(&format!("/api/v1/orders/{}", o["id"]), &bearer(w, "manager")).await.json();
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/orders/{}/submit", o["id"]),
            &bearer(w, "manager"),
            Some(json!({"version": cur["version"]})),
        )
        .await;
    let v = if r.body.is_empty() { Value::Null } else { r.json() };
    (r.status, v)
}

fn field_of(v: &Value) -> Vec<String> {
    v["error"]["details"]["fields"].as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default()
}

#[tokio::test]
async fn the_policy_is_a_setting_with_defaults_checked_and_versioned() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let p = t.get("/api/v1/settings/receivables", &bearer(&w, "repA")).await.json();
    assert_eq!(p["buckets"], json!([30, 60, 90]));
    assert_eq!(p["is_default"], true);
    let days: Vec<i64> = p["levels"].as_array().unwrap().iter().map(|l| l["days"].as_i64().unwrap()).collect();
    assert_eq!(days, vec![1, 15, 30, 60, 90]);
    assert_eq!(p["levels"][4]["action"], "hold");

    let body = json!({"buckets": [45, 90], "levels": [{"days": 1, "action": "remind"}, {"days": 10, "action": "hold"}], "version": 0});
    // A rep may not change it.
    let r = t.call(Method::PUT, "/api/v1/settings/receivables", &bearer(&w, "repA"), Some(body.clone())).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Bad bounds and levels are named, nothing saved.
    let bad = json!({"buckets": [60, 30], "levels": [{"days": 5, "action": "remind"}, {"days": 5, "action": "shout"}], "version": 0});
    let r = t.call(Method::PUT, "/api/v1/settings/receivables", &bearer(&w, "finance"), Some(bad)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let fields = field_of(&r.json());
    assert!(fields.contains(&"buckets".to_string()) && fields.contains(&"levels[1].action".to_string()), "{fields:?}");
    assert_eq!(t.get("/api/v1/settings/receivables", &bearer(&w, "finance")).await.json()["is_default"], true);
    // Finance saves; a second save over the old version is refused.
    let r = t.call(Method::PUT, "/api/v1/settings/receivables", &bearer(&w, "finance"), Some(body.clone())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["buckets"], json!([45, 90]));
    let r = t.call(Method::PUT, "/api/v1/settings/receivables", &bearer(&w, "finance"), Some(body)).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);

    // The worklist reads the company's levels: 12 days past due is now the holding level.
    let o = draft(&t, &w, "800.00").await;
    assert_eq!(submit(&t, &w, &o).await.0, StatusCode::OK);
    let inv = json!({"number": "INV-P1", "issued_on": day(-12), "amount": "800.00"});
    let r =
        t.call(Method::POST, &format!("/api/v1/orders/{}/invoices", o["id"]), &bearer(&w, "finance"), Some(inv)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let wl = t.get("/api/v1/collection", &bearer(&w, "finance")).await.json();
    assert_eq!(wl["items"][0]["level"], "hold", "{wl}");
}

#[tokio::test]
async fn a_held_order_waits_for_finance_to_release_it() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let o = draft(&t, &w, "1200.00").await;
    let path = format!("/api/v1/orders/{}/holds", o["id"]);
    // The owner's own hold is not theirs to place; a reason is required.
    let r = t.call(Method::POST, &path, &bearer(&w, "repA"), Some(json!({"reason": "x"}))).await;
    assert!(matches!(r.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND), "{}", r.status);
    let r = t.call(Method::POST, &path, &bearer(&w, "director"), Some(json!({"reason": " "}))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_of(&r.json()), vec!["reason"]);
    // The director (above the order's owner) holds it.
    let r = t.call(Method::POST, &path, &bearer(&w, "director"), Some(json!({"reason": "合同条款待法务确认"}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let hold = r.json();
    assert_eq!((hold["kind"].as_str(), hold["active"].as_bool()), (Some("general"), Some(true)));
    // Submitting it is refused, and the order still is a draft.
    let (st, v) = submit(&t, &w, &o).await;
    assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("order_held")), "{v}");
    let cur = t.get(&format!("/api/v1/orders/{}", o["id"]), &bearer(&w, "manager")).await.json();
    assert_eq!(cur["state"], "draft");
    // Another region's rep does not see the order's holds.
    assert_eq!(t.get(&path, &bearer(&w, "repC")).await.status, StatusCode::NOT_FOUND);
    // Only finance releases, with a reason, over the version read.
    let rel = format!("/api/v1/holds/{}/release", hold["id"]);
    let r = t.call(Method::POST, &rel, &bearer(&w, "director"), Some(json!({"reason": "ok", "version": 1}))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r =
        t.call(Method::POST, &rel, &bearer(&w, "finance"), Some(json!({"reason": "法务已确认", "version": 1}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!((r.json()["active"].as_bool(), r.json()["released_by"].as_str()), (Some(false), Some("finance")));
    let r = t.call(Method::POST, &rel, &bearer(&w, "finance"), Some(json!({"reason": "again", "version": 2}))).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    // Released: it is signed.
    let (st, v) = submit(&t, &w, &o).await;
    assert_eq!((st, v["state"].as_str()), (StatusCode::OK, Some("signed")), "{v}");
    // The hold's history stays on the order, and both steps are audited.
    let hs = t.get(&path, &bearer(&w, "manager")).await.json();
    assert_eq!(hs["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(hs["items"][0]["release_reason"], "法务已确认");
}

#[tokio::test]
async fn the_dunning_pass_climbs_once_per_level_and_holds_the_account_at_the_last() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let finance = bearer(&w, "finance");
    let o = draft(&t, &w, "5000.00").await;
    assert_eq!(submit(&t, &w, &o).await.0, StatusCode::OK);
    // Invoiced today and due at once: not yet past due.
    let inv = json!({"number": "INV-D1", "issued_on": day(0), "amount": "5000.00"});
    let r = t.call(Method::POST, &format!("/api/v1/orders/{}/invoices", o["id"]), &finance, Some(inv)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let unread = |who: &'static str| {
        let t = &t;
        let w = &w;
        async move {
            let n = t.get("/api/v1/notifications", &bearer(w, who)).await.json();
            n["items"].as_array().unwrap().iter().filter(|i| i["kind"] == "dunning").count()
        }
    };
    let at = |days: i64| chrono::Utc::now() + chrono::Duration::days(days);
    let db = t.db();
    assert_eq!(kam::app::orders::holds::dun_pass(db, at(0)).await.unwrap(), 0);
    // A day late: the owner is reminded, once however often the pass runs.
    assert_eq!(kam::app::orders::holds::dun_pass(db, at(1)).await.unwrap(), 1);
    assert_eq!(kam::app::orders::holds::dun_pass(db, at(1)).await.unwrap(), 0);
    assert_eq!(unread("manager").await, 1);
    assert_eq!(unread("finance").await, 0);
    // 60 days: finance's letter — finance is told.
    assert_eq!(kam::app::orders::holds::dun_pass(db, at(60)).await.unwrap(), 1);
    assert_eq!(unread("finance").await, 1);
    // Nothing held yet: a new order of the account is signed.
    let o2 = draft(&t, &w, "100.00").await;
    let o3 = draft(&t, &w, "100.00").await;
    assert_eq!(submit(&t, &w, &o2).await.0, StatusCode::OK);
    // 90 days: every order of the account is held.
    assert_eq!(kam::app::orders::holds::dun_pass(db, at(90)).await.unwrap(), 1);
    assert_eq!(kam::app::orders::holds::dun_pass(db, at(91)).await.unwrap(), 0);
    let hs = t.get(&format!("/api/v1/accounts/{}/holds", w.account_x), &finance).await.json();
    let items = hs["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{hs}");
    assert_eq!((items[0]["kind"].as_str(), items[0]["order_id"].is_null()), (Some("dunning"), true));
    let (st, v) = submit(&t, &w, &o3).await;
    assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("order_held")), "{v}");
    assert_eq!(unread("director").await, 1, "the owner's manager is told of the hold");
    // The held list shows it to finance, not to another region's rep.
    let list = t.get("/api/v1/holds", &finance).await.json();
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
    let other = t.get("/api/v1/holds", &bearer(&w, "repC")).await.json();
    assert_eq!(other["items"].as_array().map(Vec::len), Some(0));
    // Finance releases; the pass does not hold again for the same level.
    let rel = format!("/api/v1/holds/{}/release", items[0]["id"]);
    let r = t
        .call(Method::POST, &rel, &finance, Some(json!({"reason": "客户承诺本周付清", "version": items[0]["version"]})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(kam::app::orders::holds::dun_pass(db, at(95)).await.unwrap(), 0);
    assert_eq!(submit(&t, &w, &o3).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_broken_promise_raises_the_level_the_pass_tells_of() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let finance = bearer(&w, "finance");
    let o = draft(&t, &w, "3000.00").await;
    assert_eq!(submit(&t, &w, &o).await.0, StatusCode::OK);
    let inv = json!({"number": "INV-B1", "issued_on": day(-3), "amount": "3000.00"});
    t.call(Method::POST, &format!("/api/v1/orders/{}/invoices", o["id"]), &finance, Some(inv)).await;
    let at = |days: i64| chrono::Utc::now() + chrono::Duration::days(days);
    // Three days late: the reminder.
    assert_eq!(kam::app::orders::holds::dun_pass(t.db(), at(0)).await.unwrap(), 1);
    let wl = t.get("/api/v1/collection", &finance).await.json();
    let rid = wl["items"][0]["receivable"]["id"].as_i64().unwrap();
    let c = json!({"note": "客户答应明天付", "promised_amount": "3000.00", "promised_on": day(1)});
    let r = t.call(Method::POST, &format!("/api/v1/receivables/{rid}/contacts"), &bearer(&w, "manager"), Some(c)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    // Before the promised day nothing moves; two days on the promise is broken: one level up.
    assert_eq!(kam::app::orders::holds::dun_pass(t.db(), at(1)).await.unwrap(), 0);
    assert_eq!(kam::app::orders::holds::dun_pass(t.db(), at(2)).await.unwrap(), 1);
    let n = t.get("/api/v1/notifications", &bearer(&w, "manager")).await.json();
    let titles: Vec<&str> = n["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "dunning")
        .filter_map(|i| i["title"].as_str())
        .collect();
    assert_eq!(titles.len(), 2, "{titles:?}");
    assert!(titles[0].contains("电话") || titles[0].contains("calls"), "{titles:?}");
}
