//! Fulfilment and the key account's way down and back (issue 22): exactly 75 % keeps a key
//! account, below it the daily pass downgrades it once and tells its owner, its KA manager and
//! the KA director; none due is no rate; a part payment is not fulfilment; the manual downgrade
//! through `ka_downgrade`; re-screening a downgraded account; the status history and who sees
//! the figures — through the API and the pages, on whichever backend the suite runs on. Past due
//! dates come from invoices dated in the past: no clock is moved.
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

async fn id_of(t: &TestApp, sql: &str, key: &str) -> i64 {
    sqlx::Row::try_get(&sqlx::query(sql).bind(key).fetch_one(&t.db().pool).await.expect("row"), "id").expect("id")
}

/// A key account of repA's in Beijing, without any credit grade.
async fn key_account(t: &TestApp, name: &str) -> i64 {
    use kam::app::customers::accounts;
    let data = accounts::AccountData {
        name: name.into(),
        industry: "enterprise".into(),
        level: "L1".into(),
        status: "key_account".into(),
        region_id: Some(id_of(t, "SELECT id FROM org_units WHERE code = $1", "N").await),
        branch_id: Some(id_of(t, "SELECT id FROM org_units WHERE code = $1", "BJ").await),
        owner_id: Some(id_of(t, "SELECT id FROM users WHERE username = $1", "repA").await),
        ..Default::default()
    };
    let mut tx = t.db().begin().await.expect("tx");
    let id = accounts::insert(&mut tx, &kam::app::Ctx::system(), &data).await.expect("account");
    tx.commit().await.expect("commit");
    id
}

/// One installment of 1,000.00 due on `due` days from today (an order the manager signs, paid
/// in full on its invoice, invoiced that day), paid `paid` (amount, days from today) if given.
/// Answers the receivable's id.
async fn installment(t: &TestApp, w: &World, acc: i64, due: i64, paid: Option<(&str, i64)>) -> i64 {
    let (manager, finance) = (bearer(w, "manager"), bearer(w, "finance"));
    let body = json!({
        "account_id": acc,
        "lines": [{"description": "测量系统", "unit": "套", "quantity": "1", "unit_price": "1000.00"}],
        "payment_terms": [{"kind": "on_delivery", "percent": "100", "due": "0 days after invoice"}]
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
    let number = format!("D-{}-{}", o["id"], due);
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/orders/{}/invoices", o["id"]),
            &finance,
            Some(json!({"number": number, "issued_on": day(due), "amount": "1000.00"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let m = t.get(&format!("/api/v1/orders/{}/money", o["id"]), &finance).await.json();
    let rec = &m["receivables"][0];
    assert_eq!(rec["due_on"], json!(day(due)), "{m}");
    let rid = rec["id"].as_i64().expect("receivable");
    if let Some((amount, on)) = paid {
        let body = json!({"account_id": acc, "received_on": day(on), "amount": amount,
            "allocations": [{"receivable_id": rid, "amount": amount}]});
        let r = t.call(Method::POST, "/api/v1/payments", &finance, Some(body)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    rid
}

async fn status_of(t: &TestApp, w: &World, acc: i64) -> Value {
    let r = t.get(&format!("/api/v1/accounts/{acc}"), &bearer(w, "director")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()
}

async fn fulfilment(t: &TestApp, acc: i64) -> (i64, i64) {
    let mut conn = t.db().pool.acquire().await.expect("conn");
    let f = kam::app::classification::downgrade::fulfilment(&mut conn, acc, today()).await.expect("fulfilment");
    (f.due, f.fulfilled)
}

/// Who was told of a downgrade (usernames, sorted), and their notifications' bodies.
async fn told(t: &TestApp, acc_name: &str) -> Vec<(String, String)> {
    let rows = sqlx::query(
        "SELECT u.username, n.body FROM notifications n JOIN users u ON u.id = n.user_id \
         WHERE n.kind = 'downgrade' AND n.title LIKE $1 ORDER BY u.username",
    )
    .bind(format!("%{acc_name}%"))
    .fetch_all(&t.db().pool)
    .await
    .expect("notifications");
    rows.iter()
        .map(|r| (sqlx::Row::try_get(r, "username").expect("u"), sqlx::Row::try_get(r, "body").expect("b")))
        .collect()
}

async fn history(t: &TestApp, who: &Auth, acc: i64) -> Value {
    let r = t.get(&format!("/api/v1/accounts/{acc}/status-history"), who).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()
}

#[tokio::test]
async fn exactly_75_percent_keeps_a_key_account_and_below_it_is_downgraded_once_and_three_are_told() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    // 3 of 4 paid in full on time: 75.00 %, kept. The fourth is unpaid.
    let kept = key_account(&t, "北京恒准精密有限公司").await;
    for (due, paid) in [(-40, Some(("1000.00", -40))), (-30, Some(("1000.00", -31))), (-20, Some(("1000.00", -20)))] {
        installment(&t, &w, kept, due, paid).await;
    }
    installment(&t, &w, kept, -10, None).await;
    // 2 of 3: the third partly paid on time (a part payment is no fulfilment): 66.67 %.
    let down = key_account(&t, "北京远拓测控有限公司").await;
    installment(&t, &w, down, -40, Some(("1000.00", -40))).await;
    installment(&t, &w, down, -30, Some(("1000.00", -35))).await;
    installment(&t, &w, down, -20, Some(("999.99", -20))).await;
    // Paid a day late, and due in the future: none of them fulfilled, one due.
    let late = key_account(&t, "北京迟付仪器有限公司").await;
    installment(&t, &w, late, -15, Some(("1000.00", -14))).await;
    installment(&t, &w, late, 30, None).await;
    // Nothing due yet: no rate, never downgraded for it.
    let fresh = key_account(&t, "北京新锐传感有限公司").await;
    installment(&t, &w, fresh, 20, None).await;
    installment(&t, &w, fresh, 0, None).await;

    assert_eq!(fulfilment(&t, kept).await, (4, 3));
    assert_eq!(fulfilment(&t, down).await, (3, 2));
    assert_eq!(fulfilment(&t, late).await, (1, 0));
    assert_eq!(fulfilment(&t, fresh).await, (0, 0), "due today and unpaid is not broken yet");

    let n = kam::app::classification::downgrade::daily(t.db(), chrono::Utc::now()).await.expect("pass");
    assert_eq!(n, 2, "the 66.67 % and the 0 % accounts");
    let again = kam::app::classification::downgrade::daily(t.db(), chrono::Utc::now()).await.expect("pass");
    assert_eq!(again, 0, "once a day");
    let forced = kam::app::classification::downgrade::pass(t.db(), chrono::Utc::now()).await.expect("pass");
    assert_eq!(forced, 0, "a second pass on the same day finds them downgraded already");

    assert_eq!(status_of(&t, &w, kept).await["status"], "key_account");
    assert_eq!(status_of(&t, &w, fresh).await["status"], "key_account");
    let v = status_of(&t, &w, down).await;
    assert_eq!((v["status"].as_str(), v["tier"].as_str()), (Some("downgraded"), None), "{v}");
    assert_eq!(status_of(&t, &w, late).await["status"], "downgraded");

    // Told once each: the owner, the KA manager (the owner's manager) and the KA director; the
    // figures only to the director, who sees credit.
    let who = told(&t, "北京远拓测控有限公司").await;
    let names: Vec<&str> = who.iter().map(|(u, _)| u.as_str()).collect();
    assert_eq!(names, ["director", "manager", "repA"], "{who:?}");
    for (u, body) in &who {
        assert_eq!(body.contains("66.67"), u == "director", "{u}: {body}");
        assert!(body.contains("75"), "{u}: {body}");
    }
    assert!(told(&t, "北京恒准精密有限公司").await.is_empty());

    // The history: the change with its figures for the director; none for the rep.
    let h = history(&t, &bearer(&w, "director"), down).await;
    let c = &h["items"][0];
    assert_eq!((c["from_status"].as_str(), c["to_status"].as_str()), (Some("key_account"), Some("downgraded")), "{h}");
    assert_eq!(c["reason"], "fulfilment_below_75", "{h}");
    assert_eq!(c["changed_by"], "system", "{h}");
    assert_eq!(c["figures"], json!({"due": 3, "fulfilled": 2, "rate": "66.67"}), "{h}");
    assert_eq!(h["fulfilment"]["rate"], "66.67", "{h}");
    assert_eq!(h["items"].as_array().map(Vec::len), Some(1), "{h}");
    let h = history(&t, &bearer(&w, "repA"), down).await;
    assert!(h["items"][0]["figures"].is_null() && h["fulfilment"].is_null(), "a rep sees no figures: {h}");
    assert_eq!(h["items"][0]["reason"], "fulfilment_below_75", "{h}");
    let r = t.get(&format!("/api/v1/accounts/{down}/status-history"), &bearer(&w, "repC")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "out of scope: {}", r.body);

    // The account page says why: with the figures for the director, without them for the rep.
    let (sid, _) = t.ui_login("director", super::common::PASSWORD, None).await.expect("login");
    let page = t.get(&format!("/accounts/{down}"), &Auth::Session { cookie: sid, csrf: String::new() }).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("降为普通客户：12 个月内到期 3 期，按时付清 2 期（66.67%），低于 75%"), "{}", page.body);
    let (sid, _) = t.ui_login("repA", super::common::PASSWORD, None).await.expect("login");
    let page = t.get(&format!("/accounts/{down}"), &Auth::Session { cookie: sid, csrf: String::new() }).await;
    assert!(page.body.contains("降为普通客户：近 12 个月的履约率低于 75%"), "{}", page.body);
    assert!(!page.body.contains("66.67"), "no figures for a rep");
}

#[tokio::test]
async fn the_grace_is_the_companys_choice_and_moves_the_deadline() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let acc = key_account(&t, "北京宽限电子有限公司").await;
    installment(&t, &w, acc, -20, Some(("1000.00", -17))).await;
    assert_eq!(fulfilment(&t, acc).await, (1, 0), "three days late without a grace");
    let r = t.get("/api/v1/settings/downgrade", &bearer(&w, "repA")).await;
    assert_eq!(r.json(), json!({"grace_days": 0, "is_default": true, "version": 0}));
    let put = |who: &'static str, body: Value| {
        let (t, a) = (&t, bearer(&w, who));
        async move { t.call(Method::PUT, "/api/v1/settings/downgrade", &a, Some(body)).await }
    };
    let r = put("repA", json!({"grace_days": 5, "version": 0})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = put("director", json!({"grace_days": 91, "version": 0})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["error"]["details"]["fields"]["grace_days"]["code"], "grace_range", "{}", r.body);
    let r = put("director", json!({"grace_days": 5, "version": 0})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json(), json!({"grace_days": 5, "is_default": false, "version": 1}));
    assert_eq!(fulfilment(&t, acc).await, (1, 1), "within a grace of five days");
    let r = put("director", json!({"grace_days": 3, "version": 0})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "a stale version: {}", r.body);
    let n = kam::app::classification::downgrade::daily(t.db(), chrono::Utc::now()).await.expect("pass");
    assert_eq!(n, 0);
}

async fn decide(t: &TestApp, who: &Auth, id: i64, decision: &str, comment: &str) {
    let body = json!({"decision": decision, "comment": comment});
    let r = t.call(Method::POST, &format!("/api/v1/approvals/{id}/decision"), who, Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

async fn ask(t: &TestApp, who: &Auth, acc: i64, reason: Option<&str>) -> super::common::Resp {
    let body = match reason {
        Some(r) => json!({"reason": r}),
        None => json!({}),
    };
    t.call(Method::POST, &format!("/api/v1/accounts/{acc}/downgrade"), who, Some(body)).await
}

#[tokio::test]
async fn a_manual_downgrade_is_decided_by_the_ka_director_and_the_account_is_screened_back() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (manager, director, rep) = (bearer(&w, "manager"), bearer(&w, "director"), bearer(&w, "repA"));
    let acc = key_account(&t, "北京华测检测有限公司").await;
    installment(&t, &w, acc, -30, Some(("1000.00", -30))).await;

    let r = ask(&t, &rep, acc, Some("不再合作")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "a rep may not ask: {}", r.body);
    let r = ask(&t, &manager, acc, None).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["error"]["details"]["fields"]["reason"]["code"], "required", "{}", r.body);
    let r = ask(&t, &bearer(&w, "repC"), acc, Some("x")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);

    // Asked, then rejected: it stays a key account.
    let r = ask(&t, &manager, acc, Some("客户战略调整，连续两个季度无新订单")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let first = r.json()["approval_id"].as_i64().expect("approval");
    let r = ask(&t, &manager, acc, Some("再次申请")).await;
    assert_eq!((r.status, r.json()["error"]["code"].clone()), (StatusCode::CONFLICT, json!("downgrade_pending")));
    let r = t.get(&format!("/api/v1/approvals/{first}/downgrade"), &director).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v = r.json();
    assert_eq!(v["reason"], "客户战略调整，连续两个季度无新订单", "{v}");
    assert_eq!(v["status_at_request"], "key_account", "{v}");
    assert_eq!(v["account"]["id"], json!(acc), "{v}");
    assert_eq!(v["fulfilment"], json!({"due": 1, "fulfilled": 1, "rate": "100.00"}), "{v}");
    let v = t.get(&format!("/api/v1/approvals/{first}/downgrade"), &manager).await.json();
    assert!(v["fulfilment"].is_null(), "the KA manager does not see credit: {v}");
    let (sid, _) = t.ui_login("director", super::common::PASSWORD, None).await.expect("login");
    let session = Auth::Session { cookie: sid, csrf: String::new() };
    let page = t.get(&format!("/approvals/{first}"), &session).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("客户战略调整，连续两个季度无新订单") && page.body.contains("大客户降级"),
        "{}",
        page.body
    );
    decide(&t, &director, first, "reject", "继续观察一个季度").await;
    assert_eq!(status_of(&t, &w, acc).await["status"], "key_account");
    assert!(history(&t, &director, acc).await["items"].as_array().expect("items").is_empty());

    // Asked again and approved: downgraded, three told, the change recorded with the request.
    let r = ask(&t, &manager, acc, Some("客户已转向竞争对手")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let second = r.json()["approval_id"].as_i64().expect("approval");
    decide(&t, &director, second, "approve", "同意").await;
    let v = status_of(&t, &w, acc).await;
    assert_eq!((v["status"].as_str(), v["tier"].as_str()), (Some("downgraded"), None), "{v}");
    let names: Vec<String> = told(&t, "北京华测检测有限公司").await.into_iter().map(|(u, _)| u).collect();
    assert_eq!(names, ["director", "manager", "repA"]);
    let h = history(&t, &director, acc).await;
    let c = &h["items"][0];
    assert_eq!((c["reason"].as_str(), c["note"].as_str()), (Some("manual"), Some("客户已转向竞争对手")), "{h}");
    assert_eq!((c["approval_id"].as_i64(), c["changed_by"].as_str()), (Some(second), Some("director")), "{h}");
    let r = ask(&t, &manager, acc, Some("再降一次")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["error"]["details"]["fields"]["status"]["code"], "not_key_account", "{}", r.body);
    let page = t.get(&format!("/accounts/{acc}"), &session).await;
    assert!(page.body.contains("经审批人工降为普通客户：客户已转向竞争对手"), "{}", page.body);

    // Re-entry goes through screening: the rep screens it again; both steps approve.
    let r = t
        .call(Method::POST, "/api/v1/users", &bearer(&w, "admin"), Some(json!({"username": "sdm", "role": "sales_dept_manager", "org_unit": "HQ", "password": "downgrade-pass-1"})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let sdm = Auth::Bearer(t.token("sdm").await);
    let risk: serde_json::Map<String, Value> =
        ["competitive_advantage", "customer_need", "competitor_strength", "payment_ability", "relationship"]
            .iter()
            .map(|k| (k.to_string(), json!(4)))
            .collect();
    let form = json!({
        "sales_amount": "年采购额约 3000 万元", "market_influence": "行业前三", "loyalty": "合作五年",
        "strategic_region": "华北重点区域", "needs_analysis": "产线扩建", "resource_assessment": "两名技术支持",
        "fit": "产品线匹配", "competitor_analysis": "A 公司价格低 5%", "risk": risk,
    });
    let r = t.call(Method::POST, &format!("/api/v1/accounts/{acc}/screenings"), &rep, Some(form)).await;
    assert_eq!(r.status, StatusCode::CREATED, "a downgraded account is screened again: {}", r.body);
    let screening = r.json()["approval_id"].as_i64().expect("approval");
    assert_eq!(status_of(&t, &w, acc).await["status"], "candidate");
    decide(&t, &director, screening, "approve", "同意").await;
    decide(&t, &sdm, screening, "approve", "同意").await;
    assert_eq!(status_of(&t, &w, acc).await["status"], "key_account");

    // The history shows each change, newest first.
    let h = history(&t, &rep, acc).await;
    let steps: Vec<(String, String, String)> = h["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|c| (c["from_status"].to_string(), c["to_status"].to_string(), c["reason"].to_string()))
        .collect();
    let q = |s: &str| format!("\"{s}\"");
    assert_eq!(
        steps,
        [
            (q("candidate"), q("key_account"), q("screening_approved")),
            (q("downgraded"), q("candidate"), q("screening_submitted")),
            (q("key_account"), q("downgraded"), q("manual")),
        ],
        "{h}"
    );
    assert_eq!(h["items"][0]["approval_id"].as_i64(), Some(screening), "{h}");
}
