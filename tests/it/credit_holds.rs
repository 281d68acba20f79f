//! Exposure and the credit check on orders (issue 22 item 3, DOMAIN.md §12.5): an order within
//! the account's limit passes; one that takes the exposure above it is held at submission (the
//! hold kept, the order a draft, no sign-off), the rep and the KA manager see "held for credit"
//! and no figures, finance releases it with a reason and the sign-off starts; a red account's
//! order is held whatever its amount and the director's rejection cancels it; the check at
//! sign-off and at delivery holds an order whose exposure grew. The grade and the limit are set
//! in the database: nothing else sets them yet.
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use super::common::{seed, Auth, TestApp, World};

fn bearer(w: &World, user: &str) -> Auth {
    Auth::Bearer(w.tokens[user].clone())
}

/// Sets the account's credit limit (yuan, as fen) and grade, as an approved credit change would.
async fn set_credit(t: &TestApp, account: i64, limit_fen: Option<i64>, grade: Option<&str>) {
    sqlx::query("UPDATE accounts SET credit_limit = $1, credit_grade = $2 WHERE id = $3")
        .bind(limit_fen)
        .bind(grade.map(str::to_string))
        .bind(account)
        .execute(&t.db().pool)
        .await
        .expect("credit set");
}

/// A draft order of account X by `who`, one line of `amount`.
async fn draft(t: &TestApp, who: &Auth, account: i64, amount: &str) -> Value {
    let body = json!({
        "account_id": account,
        "lines": [{"description": "三坐标测量机", "unit": "台", "quantity": "1", "unit_price": amount}],
        "payment_terms": [{"kind": "on_delivery", "percent": "100", "due": "30 days after invoice"}]
    });
    let r = t.call(Method::POST, "/api/v1/orders", who, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.json()
}

async fn order(t: &TestApp, who: &Auth, id: &Value) -> Value {
    let r = t.get(&format!("/api/v1/orders/{id}"), who).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()
}

async fn submit(t: &TestApp, who: &Auth, o: &Value) -> (StatusCode, Value) {
    let cur = order(t, who, &o["id"]).await;
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/orders/{}/submit", o["id"]),
            who,
            Some(json!({"version": cur["version"]})),
        )
        .await;
    (r.status, serde_json::from_str(&r.body).unwrap_or(Value::Null))
}

async fn approve(t: &TestApp, who: &Auth, approval: &Value) {
    let body = json!({"decision": "approve", "comment": "同意"});
    let r = t.call(Method::POST, &format!("/api/v1/approvals/{approval}/decision"), who, Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

async fn holds(t: &TestApp, who: &Auth, o: &Value) -> (String, Vec<Value>) {
    let r = t.get(&format!("/api/v1/orders/{}/holds", o["id"]), who).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let items = r.json()["items"].as_array().cloned().unwrap_or_default();
    (r.body, items)
}

async fn decide(t: &TestApp, who: &Auth, hold: &Value, decision: &str, reason: &str) -> (StatusCode, Value) {
    let body = json!({"decision": decision, "reason": reason, "version": hold["version"]});
    let r = t.call(Method::POST, &format!("/api/v1/holds/{}/credit-decision", hold["id"]), who, Some(body)).await;
    (r.status, serde_json::from_str(&r.body).unwrap_or(Value::Null))
}

fn field_of(v: &Value) -> Vec<String> {
    v["error"]["details"]["fields"].as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default()
}

#[tokio::test]
async fn an_order_over_the_limit_is_held_at_submission_and_released_with_a_reason() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (rep, manager, finance) = (bearer(&w, "repA"), bearer(&w, "manager"), bearer(&w, "finance"));
    // A limit of 10,000.00 元 (a planted figure no non-seer may see), graded green.
    set_credit(&t, w.account_x, Some(1_000_037), Some("green")).await;

    // Within the limit: it passes and its sign-off starts; signed, it is exposure.
    let first = draft(&t, &rep, w.account_x, "8000.00").await;
    let (st, v) = submit(&t, &rep, &first).await;
    assert_eq!(
        (st, v["state"].as_str(), v["held_for_credit"].as_bool()),
        (StatusCode::OK, Some("pending"), Some(false)),
        "{v}"
    );
    approve(&t, &manager, &v["latest"]["approval_id"]).await;
    assert_eq!(order(&t, &rep, &first["id"]).await["state"], "signed");

    // 8,000 + 3,000 is above 10,000.37: held at submission, the hold kept, no sign-off started.
    let second = draft(&t, &rep, w.account_x, "3000.00").await;
    let (st, v) = submit(&t, &rep, &second).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!((v["state"].as_str(), v["held_for_credit"].as_bool()), (Some("draft"), Some(true)), "{v}");
    assert!(v["latest"]["approval_id"].is_null(), "{v}");
    // Submitting again waits for the decision.
    let (st, v) = submit(&t, &rep, &second).await;
    assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("order_held")), "{v}");

    // The rep and the KA manager see it held for credit, never the figures.
    for who in [&rep, &manager] {
        let (body, items) = holds(&t, who, &second).await;
        assert_eq!((items[0]["kind"].as_str(), items[0]["active"].as_bool()), (Some("credit"), Some(true)), "{body}");
        assert_eq!(items[0]["credit_stage"], "submit");
        assert!(items[0].get("credit").is_none(), "{body}");
        for planted in ["10000.37", "1000037", "green", "exposure", "11000.00"] {
            assert!(!body.contains(planted), "{planted} in {body}");
        }
        let o = t.get(&format!("/api/v1/orders/{}", second["id"]), who).await.body;
        assert!(!o.contains("10000.37") && !o.contains("green"), "{o}");
        let trail = t.get(&format!("/api/v1/audit?entity=order&id={}", second["id"]), who).await;
        assert_eq!(trail.status, StatusCode::OK, "{}", trail.body);
        assert!(trail.body.contains("credit_hold"), "{}", trail.body);
        assert!(!trail.body.contains("10000.37") && !trail.body.contains("credit_figures"), "{}", trail.body);
    }
    // The rep's page says what to do, without the figures.
    let (body, items) = holds(&t, &finance, &second).await;
    let hold = items[0].clone();
    let f = &hold["credit"];
    assert_eq!(
        (
            f["cause"].as_str(),
            f["limit"].as_str(),
            f["exposure_before"].as_str(),
            f["order_amount"].as_str(),
            f["exposure"].as_str()
        ),
        (Some("over_limit"), Some("10000.37"), Some("8000.00"), Some("3000.00"), Some("11000.00")),
        "{body}"
    );
    // The director's history shows the figures.
    let trail = t.get(&format!("/api/v1/audit?entity=order&id={}", second["id"]), &bearer(&w, "director")).await.body;
    assert!(trail.contains("10000.37"), "{trail}");
    // Finance and the KA director were told; the rep too (without figures).
    let n = t.get("/api/v1/notifications", &finance).await.body;
    assert!(n.contains(second["number"].as_str().unwrap()), "{n}");
    let n = t.get("/api/v1/notifications", &rep).await.body;
    assert!(n.contains(second["number"].as_str().unwrap()) && !n.contains("10000.37"), "{n}");

    // The rep may not decide (403), another region's rep does not see it (404); the general
    // release does not end a credit hold.
    assert_eq!(decide(&t, &rep, &hold, "release", "我觉得可以").await.0, StatusCode::FORBIDDEN);
    assert_eq!(decide(&t, &manager, &hold, "release", "我觉得可以").await.0, StatusCode::FORBIDDEN);
    assert_eq!(decide(&t, &bearer(&w, "repC"), &hold, "release", "x").await.0, StatusCode::NOT_FOUND);
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/holds/{}/release", hold["id"]),
            &finance,
            Some(json!({"reason": "x", "version": hold["version"]})),
        )
        .await;
    assert_eq!((r.status, r.json()["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("credit_decision_needed")));
    // A reason is required; a stale version is refused; nothing changed.
    let (st, v) = decide(&t, &finance, &hold, "release", "  ").await;
    assert_eq!((st, field_of(&v)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["reason".to_string()]), "{v}");
    let stale = json!({"id": hold["id"], "version": hold["version"].as_i64().unwrap() + 7});
    assert_eq!(decide(&t, &finance, &stale, "release", "客户已预付").await.0, StatusCode::CONFLICT);
    assert_eq!(order(&t, &rep, &second["id"]).await["held_for_credit"], true);

    // Finance releases it with a reason: the sign-off starts in the rep's name.
    let (st, v) = decide(&t, &finance, &hold, "release", "客户已预付30%，同意放行").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!((v["order_state"].as_str(), v["hold"]["decision"].as_str()), (Some("pending"), Some("released")), "{v}");
    assert_eq!(v["hold"]["release_reason"], "客户已预付30%，同意放行");
    let o = order(&t, &rep, &second["id"]).await;
    assert_eq!((o["state"].as_str(), o["held_for_credit"].as_bool()), (Some("pending"), Some(false)), "{o}");
    let approval = t.get(&format!("/api/v1/approvals/{}", o["latest"]["approval_id"]), &rep).await.json();
    assert_eq!(approval["requested_by"], "repA", "{approval}");
    // Releasing it again: the order is not held (422 `hold`).
    let (_, items) = holds(&t, &finance, &second).await;
    let (st, v) = decide(&t, &finance, &items[0], "release", "再次放行").await;
    assert_eq!((st, field_of(&v)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["hold".to_string()]), "{v}");
    // The release covers the sign-off: the manager approves and it is signed, not held again.
    approve(&t, &manager, &o["latest"]["approval_id"]).await;
    let o = order(&t, &rep, &second["id"]).await;
    assert_eq!((o["state"].as_str(), o["held_for_credit"].as_bool()), (Some("signed"), Some(false)), "{o}");
    let trail = t.get(&format!("/api/v1/audit?entity=order&id={}", second["id"]), &rep).await.body;
    assert!(trail.contains("credit_release") && trail.contains("客户已预付30%"), "{trail}");
}

#[tokio::test]
async fn a_red_account_is_held_whatever_the_amount_and_a_rejection_cancels_the_order() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (manager, director, finance) = (bearer(&w, "manager"), bearer(&w, "director"), bearer(&w, "finance"));
    set_credit(&t, w.account_x, None, Some("red")).await;
    // The manager's own order would be signed at once; red, 1.00 元 is held.
    let o = draft(&t, &manager, w.account_x, "1.00").await;
    let (st, v) = submit(&t, &manager, &o).await;
    assert_eq!(
        (st, v["state"].as_str(), v["held_for_credit"].as_bool()),
        (StatusCode::OK, Some("draft"), Some(true)),
        "{v}"
    );
    let (body, items) = holds(&t, &manager, &o).await;
    assert!(!body.contains("\"red\"") && !body.contains("\"grade\""), "{body}");
    let (_, items_f) = holds(&t, &finance, &o).await;
    assert_eq!(
        (items_f[0]["credit"]["cause"].as_str(), items_f[0]["credit"]["grade"].as_str()),
        (Some("grade"), Some("red"))
    );
    // The director rejects it with a reason: the order is cancelled with it.
    let (st, v) = decide(&t, &director, &items[0], "reject", "红名单客户，须全额预付后再下单").await;
    assert_eq!((st, v["order_state"].as_str()), (StatusCode::OK, Some("cancelled")), "{v}");
    let after = order(&t, &manager, &o["id"]).await;
    assert_eq!(
        (after["state"].as_str(), after["cancel_reason"].as_str()),
        (Some("cancelled"), Some("红名单客户，须全额预付后再下单"))
    );
    assert_eq!(after["held_for_credit"], false);

    // A hold by hand is no credit hold: a credit decision on it names `hold`, nothing changed.
    set_credit(&t, w.account_x, None, Some("yellow")).await;
    let other = draft(&t, &manager, w.account_x, "2.00").await;
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/orders/{}/holds", other["id"]),
            &finance,
            Some(json!({"reason": "合同待确认"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let (st, v) = decide(&t, &finance, &r.json(), "release", "x").await;
    assert_eq!((st, field_of(&v)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["hold".to_string()]), "{v}");
    let (_, items) = holds(&t, &finance, &other).await;
    assert_eq!(items[0]["active"], true);
    // Cancelling the held order ends its hold with the cancellation's reason.
    let cur = order(&t, &manager, &other["id"]).await;
    let body = json!({"version": cur["version"], "reason": "客户取消采购"});
    let r = t.call(Method::POST, &format!("/api/v1/orders/{}/cancel", other["id"]), &manager, Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let (_, items) = holds(&t, &finance, &other).await;
    assert_eq!(
        (items[0]["active"].as_bool(), items[0]["release_reason"].as_str()),
        (Some(false), Some("客户取消采购"))
    );
    // A yellow account with no limit passes.
    let third = draft(&t, &manager, w.account_x, "900000.00").await;
    let (st, v) = submit(&t, &manager, &third).await;
    assert_eq!((st, v["held_for_credit"].as_bool()), (StatusCode::OK, Some(false)), "{v}");
    assert_ne!(v["state"], "draft", "{v}");
}

#[tokio::test]
async fn the_check_at_sign_off_and_at_delivery_holds_an_order_whose_exposure_grew() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (rep, manager, finance) = (bearer(&w, "repA"), bearer(&w, "manager"), bearer(&w, "finance"));
    set_credit(&t, w.account_x, Some(1_000_000), Some("green")).await;
    // Signed within the limit at once (the manager's own authority).
    let signed = draft(&t, &manager, w.account_x, "6000.00").await;
    let (_, v) = submit(&t, &manager, &signed).await;
    assert_eq!(v["state"], "signed", "{v}");
    // The rep's order passes at submission (pending orders are not exposure yet)...
    let pending = draft(&t, &rep, w.account_x, "3000.00").await;
    let (_, v) = submit(&t, &rep, &pending).await;
    assert_eq!((v["state"].as_str(), v["held_for_credit"].as_bool()), (Some("pending"), Some(false)), "{v}");
    // ...then the limit is lowered: approved, it is signed and held before delivery.
    set_credit(&t, w.account_x, Some(500_000), Some("green")).await;
    approve(&t, &manager, &v["latest"]["approval_id"]).await;
    let o = order(&t, &rep, &pending["id"]).await;
    assert_eq!((o["state"].as_str(), o["held_for_credit"].as_bool()), (Some("signed"), Some(true)), "{o}");
    let (_, items) = holds(&t, &finance, &pending).await;
    assert_eq!(
        (items[0]["credit_stage"].as_str(), items[0]["credit"]["exposure"].as_str()),
        (Some("signoff"), Some("9000.00"))
    );
    let lines = json!({"lines": [{"position": 0, "quantity": "1"}]});
    let r = t
        .call(Method::POST, &format!("/api/v1/orders/{}/outbounds", pending["id"]), &manager, Some(lines.clone()))
        .await;
    assert_eq!(
        (r.status, r.json()["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("order_held")),
        "{}",
        r.body
    );

    // The first order, signed before: its preparation checks again and holds it (the hold kept).
    let r = t
        .call(Method::POST, &format!("/api/v1/orders/{}/outbounds", signed["id"]), &manager, Some(lines.clone()))
        .await;
    assert_eq!(
        (r.status, r.json()["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("held_for_credit")),
        "{}",
        r.body
    );
    let (_, items) = holds(&t, &finance, &signed).await;
    assert_eq!(
        (items[0]["credit_stage"].as_str(), items[0]["active"].as_bool()),
        (Some("delivery"), Some(true)),
        "{items:?}"
    );
    assert_eq!(items[0]["credit"]["exposure"], "9000.00");
    // Finance releases it: delivery goes on (the release covers the same exposure).
    let (st, v) = decide(&t, &finance, &items[0], "release", "客户承诺月底前付清").await;
    assert_eq!((st, v["order_state"].as_str()), (StatusCode::OK, Some("signed")), "{v}");
    let r = t.call(Method::POST, &format!("/api/v1/orders/{}/outbounds", signed["id"]), &manager, Some(lines)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}
