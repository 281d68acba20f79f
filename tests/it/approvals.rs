//! Approvals: the key-account screening from form to key account through both steps, rejection
//! with its reason, a new version cancelling the old request, bad forms; one outcome for two
//! decisions at once; deadlines on the test's own clock (reminders, escalation exactly once,
//! the marketing director's extension); delegation; versioned flow definitions; notifications
//! in the app, by email (a local SMTP receiver) and by webhook (a local HTTP receiver), retries
//! and failures shown to the administrator; and two servers delivering each message once.
use std::collections::BTreeMap;

use axum::http::{Method, StatusCode};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use kam::app::approvals::{self, Subject};
use kam::app::{records::notify, App, Ctx, Settings};
use kam::db::Db;
use kam::domain::approval::Flow;
use serde_json::{json, Value};

use crate::common::{fields, seed, Auth, Resp, TestApp, World};
use crate::receivers;

fn bearer(w: &World, user: &str) -> Auth {
    Auth::Bearer(w.tokens[user].clone())
}

fn field_map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// The error code of a refusal with the given status.
fn refused(r: &Resp, status: StatusCode) -> String {
    assert_eq!(r.status, status, "{}", r.body);
    r.json()["error"]["code"].as_str().unwrap_or_else(|| panic!("error code in {}", r.body)).to_string()
}

fn ok(r: Resp) -> Value {
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()
}

/// Creates a user through the administrator's API; answers with their token.
async fn add_user(t: &TestApp, w: &World, username: &str, role: &str, org: &str, manager: Option<&str>) -> Auth {
    let mut body = json!({"username": username, "role": role, "org_unit": org, "password": "approvals-pass-1"});
    if let Some(m) = manager {
        body["manager"] = json!(m);
    }
    let r = t.call(Method::POST, "/api/v1/users", &bearer(w, "admin"), Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    Auth::Bearer(t.token(username).await)
}

async fn uid(t: &TestApp, username: &str) -> i64 {
    sqlx::Row::try_get(
        &sqlx::query("SELECT id FROM users WHERE username = $1")
            .bind(username)
            .fetch_one(&t.db().pool)
            .await
            .expect("user"),
        "id",
    )
    .expect("id")
}

async fn org_id(t: &TestApp, code: &str) -> i64 {
    sqlx::Row::try_get(
        &sqlx::query("SELECT id FROM org_units WHERE code = $1").bind(code).fetch_one(&t.db().pool).await.expect("org"),
        "id",
    )
    .expect("id")
}

async fn ctx_of(t: &TestApp, username: &str) -> Ctx {
    let caller =
        kam::app::people::auth::load_caller(t.db(), uid(t, username).await).await.expect("load").expect("active");
    Ctx { caller, request_id: "test".into() }
}

/// A new prospect account, created by `who` (a salesperson owns what they create).
async fn prospect(t: &TestApp, who: &Auth, name: &str) -> i64 {
    let r = t.call(Method::POST, "/api/v1/accounts", who, Some(json!({"name": name, "industry": "other"}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let v = r.json();
    assert_eq!(v["status"], "prospect", "{v}");
    v["id"].as_i64().expect("id")
}

const RISK: [&str; 5] =
    ["competitive_advantage", "customer_need", "competitor_strength", "payment_ability", "relationship"];

/// A complete screening form with the five risk scores in the order of `RISK`.
fn form(scores: [i64; 5]) -> Value {
    let risk: serde_json::Map<String, Value> =
        RISK.iter().zip(scores).map(|(k, s)| (k.to_string(), json!(s))).collect();
    json!({
        "sales_amount": "年采购额约 3000 万元",
        "market_influence": "行业前三，示范效应强",
        "loyalty": "合作五年，复购稳定",
        "strategic_region": "华北重点区域",
        "needs_analysis": "产线扩建，需要整体方案",
        "resource_assessment": "可投入两名技术支持",
        "fit": "产品线完全匹配",
        "competitor_analysis": "主要竞争对手为 A 公司，价格低 5%",
        "risk": risk,
    })
}

async fn submit(t: &TestApp, who: &Auth, account: i64, body: Value) -> Resp {
    t.call(Method::POST, &format!("/api/v1/accounts/{account}/screenings"), who, Some(body)).await
}

/// Submits a complete form; answers with the stored screening.
async fn screen(t: &TestApp, who: &Auth, account: i64, scores: [i64; 5]) -> Value {
    let r = submit(t, who, account, form(scores)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.json()
}

fn approval_id(screening: &Value) -> i64 {
    screening["approval_id"].as_i64().unwrap_or_else(|| panic!("approval_id in {screening}"))
}

async fn approval(t: &TestApp, who: &Auth, id: i64) -> Value {
    ok(t.get(&format!("/api/v1/approvals/{id}"), who).await)
}

async fn decide(t: &TestApp, who: &Auth, id: i64, decision: &str, comment: Option<&str>) -> Resp {
    let mut body = json!({"decision": decision});
    if let Some(c) = comment {
        body["comment"] = json!(c);
    }
    t.call(Method::POST, &format!("/api/v1/approvals/{id}/decision"), who, Some(body)).await
}

/// A decision on the step the decider was shown (its position), as the request page sends it.
async fn decide_at(t: &TestApp, who: &Auth, id: i64, step: i64, decision: &str, comment: Option<&str>) -> Resp {
    let mut body = json!({"decision": decision, "step": step});
    if let Some(c) = comment {
        body["comment"] = json!(c);
    }
    t.call(Method::POST, &format!("/api/v1/approvals/{id}/decision"), who, Some(body)).await
}

async fn account(t: &TestApp, who: &Auth, id: i64) -> Value {
    ok(t.get(&format!("/api/v1/accounts/{id}"), who).await)
}

async fn status_of(t: &TestApp, who: &Auth, id: i64) -> String {
    account(t, who, id).await["status"].as_str().expect("status").to_string()
}

async fn counts(t: &TestApp, who: &Auth) -> Value {
    ok(t.get("/api/v1/approvals/counts", who).await)
}

async fn inbox(t: &TestApp, who: &Auth, which: &str) -> Vec<i64> {
    let v = ok(t.get(&format!("/api/v1/approvals?box={which}"), who).await);
    v["items"].as_array().expect("items").iter().map(|i| i["id"].as_i64().expect("id")).collect()
}

async fn notifications(t: &TestApp, who: &Auth) -> Vec<Value> {
    ok(t.get("/api/v1/notifications", who).await)["items"].as_array().expect("items").clone()
}

/// The caller's notifications of one kind about one request.
async fn told(t: &TestApp, who: &Auth, kind: &str, id: i64) -> Vec<Value> {
    notifications(t, who).await.into_iter().filter(|n| n["kind"] == kind && n["approval_id"] == id).collect()
}

async fn deliveries(t: &TestApp, w: &World, state: &str) -> Vec<Value> {
    let v = ok(t.get(&format!("/api/v1/admin/deliveries?state={state}"), &bearer(w, "admin")).await);
    v["items"].as_array().expect("items").clone()
}

fn at(v: &Value) -> DateTime<Utc> {
    let s = v.as_str().unwrap_or_else(|| panic!("a time, got {v}"));
    DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("{s}: {e}")).with_timezone(&Utc)
}

fn ymd(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

#[tokio::test]
async fn a_screening_goes_through_both_steps_and_makes_a_key_account() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (rep_a, rep_b, director) = (bearer(&w, "repA"), bearer(&w, "repB"), bearer(&w, "director"));
    let sdm = add_user(&t, &w, "sdm", "sales_dept_manager", "HQ", None).await;
    let started = Utc::now();

    // A key account already is not screened again.
    let r = submit(&t, &rep_a, w.account_x, form([3; 5])).await;
    assert_eq!(fields(&r).get("status").map(String::as_str), Some("already_key_account"));

    let acc = prospect(&t, &rep_a, "北京云帆数控设备有限公司").await;
    let s = screen(&t, &rep_a, acc, [5, 4, 3, 4, 2]).await;
    // 25·5 + 25·4 + 20·3 + 15·4 + 15·2 = 375 of 500 → 75.
    assert_eq!(s["risk_score"], 75, "{s}");
    assert_eq!(s["version"], 1);
    assert_eq!(s["submitted_by"], "repA");
    let id = approval_id(&s);
    assert_eq!(status_of(&t, &rep_a, acc).await, "candidate");

    // The director's inbox has it; repA sees it among their own.
    let c = counts(&t, &director).await;
    assert_eq!((c["waiting"].as_i64(), c["mine_pending"].as_i64()), (Some(1), Some(0)), "{c}");
    assert_eq!(inbox(&t, &director, "waiting").await, vec![id]);
    let c = counts(&t, &rep_a).await;
    assert_eq!((c["waiting"].as_i64(), c["mine_pending"].as_i64()), (Some(0), Some(1)), "{c}");
    assert_eq!(inbox(&t, &rep_a, "mine").await, vec![id]);
    assert_eq!(counts(&t, &sdm).await["waiting"], 0, "step 2 is not open yet");

    let a = approval(&t, &rep_a, id).await;
    assert_eq!(
        (a["flow"].as_str(), a["state"].as_str(), a["flow_version"].as_i64()),
        (Some("ka_screening"), Some("pending"), Some(1))
    );
    assert_eq!(a["requested_by"], "repA");
    assert_eq!(a["payload"]["risk_score"], 75, "{a}");
    let steps = a["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 2, "{a}");
    assert_eq!((steps[0]["role"].as_str(), steps[0]["state"].as_str()), (Some("ka_director"), Some("open")));
    assert_eq!((steps[1]["role"].as_str(), steps[1]["state"].as_str()), (Some("sales_dept_manager"), Some("waiting")));
    assert_eq!(at(&steps[0]["due_at"]) - at(&steps[0]["opened_at"]), Duration::days(3));
    assert!(a["can_decide"].is_null(), "{a}");

    // The requester cannot decide their own request; someone without authority cannot either,
    // nor the second step's holder before it opens.
    assert_eq!(refused(&decide(&t, &rep_a, id, "approve", None).await, StatusCode::FORBIDDEN), "forbidden");
    let r = decide(&t, &rep_b, id, "approve", None).await;
    assert!(matches!(r.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND), "{} {}", r.status, r.body);
    assert_eq!(refused(&decide(&t, &sdm, id, "approve", None).await, StatusCode::FORBIDDEN), "forbidden");
    assert_eq!(approval(&t, &rep_a, id).await["steps"][0]["state"], "open", "nothing was decided");

    // The director approves: the second step opens for the sales department manager.
    assert_eq!(approval(&t, &director, id).await["can_decide"], "self");
    let a = ok(decide(&t, &director, id, "approve", Some("客户潜力大，同意")).await);
    assert_eq!((a["state"].as_str(), a["current_step"].as_i64()), (Some("pending"), Some(1)), "{a}");
    assert_eq!(a["steps"][1]["state"], "open");
    assert_eq!(counts(&t, &director).await["waiting"], 0);
    assert_eq!(counts(&t, &sdm).await["waiting"], 1);
    assert_eq!(inbox(&t, &sdm, "waiting").await, vec![id]);
    assert_eq!(status_of(&t, &rep_a, acc).await, "candidate", "one approval of two is not enough");

    let a = ok(decide(&t, &sdm, id, "approve", None).await);
    assert_eq!(a["state"], "approved", "{a}");
    assert!(a["closed_at"].is_string(), "{a}");
    assert_eq!(status_of(&t, &rep_a, acc).await, "key_account");
    assert_eq!(counts(&t, &rep_a).await["mine_pending"], 0);
    assert_eq!(counts(&t, &sdm).await["waiting"], 0);

    // The request page: each step, who decided, as whom, when, and the comment.
    let a = approval(&t, &rep_a, id).await;
    let steps = a["steps"].as_array().expect("steps");
    let done = Utc::now();
    for (s, who, comment) in [(&steps[0], "director", json!("客户潜力大，同意")), (&steps[1], "sdm", Value::Null)]
    {
        assert_eq!(s["state"], "approved", "{s}");
        assert_eq!(s["decision"], "approve", "{s}");
        assert_eq!(s["decided_by"], who, "{s}");
        assert_eq!(s["decided_as"], "self", "{s}");
        assert_eq!(s["comment"], comment, "{s}");
        let when = at(&s["decided_at"]);
        assert!(started <= when && when <= done, "{s}");
    }

    // A closed request takes no decision, nor a withdrawal.
    assert_eq!(refused(&decide(&t, &director, id, "approve", None).await, StatusCode::CONFLICT), "approval_closed");
    assert_eq!(refused(&decide(&t, &sdm, id, "reject", Some("晚了")).await, StatusCode::CONFLICT), "approval_closed");
    let r = t.call(Method::POST, &format!("/api/v1/approvals/{id}/withdraw"), &rep_a, None).await;
    assert_eq!(refused(&r, StatusCode::CONFLICT), "approval_closed");

    // The screening itself is kept with its form.
    let list = ok(t.get(&format!("/api/v1/accounts/{acc}/screenings"), &rep_a).await);
    let items = list["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{list}");
    assert_eq!((items[0]["version"].as_i64(), items[0]["risk_score"].as_i64()), (Some(1), Some(75)));
    assert_eq!(items[0]["approval_id"], id);
    assert_eq!(items[0]["form"]["fit"], "产品线完全匹配");
    assert_eq!(items[0]["form"]["risk"]["customer_need"], 4);
}

/// The account's status moves only through the screening flow: an edit that changes it is
/// refused with the reason (an edit that repeats it changes nothing and is accepted).
#[tokio::test]
async fn an_edit_cannot_change_the_status_and_says_why() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep_a = bearer(&w, "repA");
    add_user(&t, &w, "sdm", "sales_dept_manager", "HQ", None).await;
    let acc = prospect(&t, &rep_a, "北京云帆数控设备有限公司").await;
    screen(&t, &rep_a, acc, [3, 3, 3, 3, 3]).await;
    let patch = |body: Value| {
        let t = &t;
        let rep_a = rep_a.clone();
        async move { t.call(Method::PATCH, &format!("/api/v1/accounts/{acc}"), &rep_a, Some(body)).await }
    };
    let v = account(&t, &rep_a, acc).await["version"].clone();
    let r = patch(json!({"version": v, "status": "key_account"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(status_of(&t, &rep_a, acc).await, "candidate");
    assert_eq!(fields(&r), field_map(&[("status", "status_by_flow")]));
    let r = patch(json!({"version": v, "status": "candidate", "notes": "状态不变"})).await;
    assert_eq!(r.status, StatusCode::OK, "repeating the status is no change: {}", r.body);
}

#[tokio::test]
async fn a_rejected_screening_stays_a_candidate_with_the_reason() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (rep_a, director) = (bearer(&w, "repA"), bearer(&w, "director"));
    let sdm = add_user(&t, &w, "sdm", "sales_dept_manager", "HQ", None).await;
    let acc = prospect(&t, &rep_a, "天津海港物流有限公司").await;
    let s = screen(&t, &rep_a, acc, [2, 2, 2, 2, 2]).await;
    assert_eq!(s["risk_score"], 40, "{s}");
    let id = approval_id(&s);

    // Rejecting or returning needs a reason; a decision must be one of the three.
    assert_eq!(fields(&decide(&t, &director, id, "reject", None).await), field_map(&[("comment", "required")]));
    assert_eq!(fields(&decide(&t, &director, id, "reject", Some("   ")).await), field_map(&[("comment", "required")]));
    assert_eq!(fields(&decide(&t, &director, id, "return", None).await), field_map(&[("comment", "required")]));
    assert_eq!(fields(&decide(&t, &director, id, "maybe", None).await), field_map(&[("decision", "invalid_choice")]));
    let a = approval(&t, &rep_a, id).await;
    assert_eq!((a["state"].as_str(), a["steps"][0]["state"].as_str()), (Some("pending"), Some("open")), "{a}");

    let a = ok(decide(&t, &director, id, "reject", Some("付款能力不足，暂不列为大客户")).await);
    assert_eq!(a["state"], "rejected", "{a}");
    assert_eq!(a["steps"][0]["decision"], "reject");
    assert_eq!(a["steps"][0]["comment"], "付款能力不足，暂不列为大客户");
    assert_eq!(a["steps"][0]["decided_by"], "director");
    assert_eq!(a["steps"][1]["state"], "cancelled", "the second step never opens");
    assert_eq!(status_of(&t, &rep_a, acc).await, "candidate");
    // The requester is told, with the reason.
    let n = told(&t, &rep_a, "approval_closed", id).await;
    assert_eq!(n.len(), 1, "{n:?}");
    let body = n[0]["body"].as_str().expect("body");
    assert!(body.contains("已驳回") && body.contains("付款能力不足"), "{body}");
    assert_eq!(counts(&t, &sdm).await["waiting"], 0);

    // Closed: no more decisions.
    assert_eq!(refused(&decide(&t, &director, id, "approve", None).await, StatusCode::CONFLICT), "approval_closed");
    assert_eq!(
        refused(&decide(&t, &director, id, "reject", Some("再次驳回")).await, StatusCode::CONFLICT),
        "approval_closed"
    );

    // A new screening asks again; the rejected request stays as it was.
    let s2 = screen(&t, &rep_a, acc, [3, 3, 3, 3, 3]).await;
    let id2 = approval_id(&s2);
    assert_ne!(id2, id);
    assert_eq!(s2["version"], 2);
    assert_eq!(approval(&t, &rep_a, id).await["state"], "rejected");
    // The requester may withdraw it (nobody else), once.
    let withdraw = |who: Auth| {
        let t = &t;
        async move { t.call(Method::POST, &format!("/api/v1/approvals/{id2}/withdraw"), &who, None).await }
    };
    assert_eq!(refused(&withdraw(director.clone()).await, StatusCode::FORBIDDEN), "forbidden");
    let a = ok(withdraw(rep_a.clone()).await);
    assert_eq!(a["state"], "cancelled", "{a}");
    assert_eq!(refused(&withdraw(rep_a.clone()).await, StatusCode::CONFLICT), "approval_closed");
    assert_eq!(counts(&t, &director).await["waiting"], 0);
    assert_eq!(status_of(&t, &rep_a, acc).await, "candidate");
}

#[tokio::test]
async fn a_new_version_while_pending_cancels_the_old_request_and_asks_again() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (rep_a, director) = (bearer(&w, "repA"), bearer(&w, "director"));
    let sdm = add_user(&t, &w, "sdm", "sales_dept_manager", "HQ", None).await;
    let acc = prospect(&t, &rep_a, "北京长城医疗器械有限公司").await;
    let s1 = screen(&t, &rep_a, acc, [3, 3, 3, 3, 3]).await;
    assert_eq!(s1["risk_score"], 60);
    let id1 = approval_id(&s1);
    // Half way: the director has approved, the sales department manager not yet.
    ok(decide(&t, &director, id1, "approve", Some("同意")).await);
    assert_eq!(counts(&t, &sdm).await["waiting"], 1);

    // Version 2 of the form: the old request is cancelled and the flow starts over.
    let s2 = screen(&t, &rep_a, acc, [4, 4, 4, 4, 5]).await;
    // 25·4 + 25·4 + 20·4 + 15·4 + 15·5 = 415 of 500 → 83.
    assert_eq!((s2["version"].as_i64(), s2["risk_score"].as_i64()), (Some(2), Some(83)), "{s2}");
    let id2 = approval_id(&s2);
    assert_ne!(id1, id2);

    let old = approval(&t, &rep_a, id1).await;
    assert_eq!(old["state"], "cancelled", "{old}");
    assert!(old["closed_at"].is_string());
    assert_eq!(old["steps"][0]["decided_by"], "director", "what was decided stays on record");
    assert_eq!(old["steps"][1]["state"], "cancelled");
    let new = approval(&t, &rep_a, id2).await;
    assert_eq!(new["state"], "pending", "{new}");
    assert_eq!(new["steps"][0]["state"], "open", "asked again from the first step");
    assert_eq!(new["payload"]["screening_version"], 2);
    assert_eq!(new["payload"]["risk_score"], 83);
    assert_eq!(inbox(&t, &director, "waiting").await, vec![id2]);
    assert_eq!(counts(&t, &sdm).await["waiting"], 0);
    assert_eq!(counts(&t, &rep_a).await["mine_pending"], 1);
    assert_eq!(refused(&decide(&t, &sdm, id1, "approve", None).await, StatusCode::CONFLICT), "approval_closed");
    assert_eq!(status_of(&t, &rep_a, acc).await, "candidate");

    // The requester is told that the old request was cancelled.
    let n = told(&t, &rep_a, "approval_closed", id1).await;
    assert_eq!(n.len(), 1, "{n:?}");
    assert!(n[0]["body"].as_str().expect("body").contains("已取消"), "{}", n[0]);
    // And the director hears of the new one.
    assert_eq!(told(&t, &director, "approval_waiting", id2).await.len(), 1);

    // Every version is kept, newest first, each with its own request.
    let list = ok(t.get(&format!("/api/v1/accounts/{acc}/screenings"), &rep_a).await);
    let got: Vec<(i64, i64, i64)> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            (i["version"].as_i64().unwrap(), i["risk_score"].as_i64().unwrap(), i["approval_id"].as_i64().unwrap())
        })
        .collect();
    assert_eq!(got, vec![(2, 83, id2), (1, 60, id1)]);

    // The new request goes through as usual.
    ok(decide(&t, &director, id2, "approve", None).await);
    ok(decide(&t, &sdm, id2, "approve", None).await);
    assert_eq!(status_of(&t, &rep_a, acc).await, "key_account");
}

/// A request cancelled because the form changed, or withdrawn: the requester's notification
/// says why in their language, not with an internal code.
#[tokio::test]
async fn the_requester_is_told_in_words_why_a_request_was_cancelled() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep_a = bearer(&w, "repA");
    add_user(&t, &w, "sdm", "sales_dept_manager", "HQ", None).await;
    let acc = prospect(&t, &rep_a, "北京长城医疗器械有限公司").await;
    let id1 = approval_id(&screen(&t, &rep_a, acc, [3, 3, 3, 3, 3]).await);
    let id2 = approval_id(&screen(&t, &rep_a, acc, [4, 4, 4, 4, 4]).await);
    ok(t.call(Method::POST, &format!("/api/v1/approvals/{id2}/withdraw"), &rep_a, None).await);
    for id in [id1, id2] {
        let n = told(&t, &rep_a, "approval_closed", id).await;
        assert_eq!(n.len(), 1, "{n:?}");
        let body = n[0]["body"].as_str().expect("body");
        assert!(body.contains("已取消"), "{body}");
        assert!(
            !body.contains("decisive_changed") && !body.contains("withdrawn"),
            "the reason is shown as an untranslated code: {body}"
        );
    }
}

#[tokio::test]
async fn a_malformed_screening_names_each_field_and_writes_nothing() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (rep_a, director) = (bearer(&w, "repA"), bearer(&w, "director"));
    add_user(&t, &w, "sdm", "sales_dept_manager", "HQ", None).await;
    let acc = prospect(&t, &rep_a, "上海浦江电子有限公司").await;

    let mut body = form([3; 5]);
    let o = body.as_object_mut().expect("object");
    o.remove("fit");
    o.remove("competitor_analysis");
    o.insert("loyalty".into(), json!(""));
    o.insert("sales_amount".into(), json!("多".repeat(1001)));
    o.insert("colour".into(), json!("blue"));
    o.insert(
        "risk".into(),
        json!({"competitive_advantage": 3, "customer_need": 6, "payment_ability": 0, "relationship": "high", "luck": 5}),
    );
    let r = submit(&t, &rep_a, acc, body).await;
    let f = fields(&r);
    for (k, code) in [
        ("fit", Some("required")),
        ("competitor_analysis", Some("required")),
        ("loyalty", Some("required")),
        ("sales_amount", None),
        ("colour", Some("unknown_field")),
        ("risk.customer_need", Some("score_range")),
        ("risk.payment_ability", Some("score_range")),
        ("risk.relationship", Some("score_range")),
        ("risk.competitor_strength", Some("required")),
        ("risk.luck", Some("unknown_field")),
    ] {
        let got = f.get(k).unwrap_or_else(|| panic!("{k} named in {f:?}"));
        if let Some(c) = code {
            assert_eq!(got, c, "{k}: {f:?}");
        }
    }
    assert!(!f.contains_key("risk.competitive_advantage"), "a good score is not named: {f:?}");
    assert!(!f.contains_key("market_influence"), "{f:?}");

    // No risk form at all: each indicator is named.
    let mut body = form([3; 5]);
    body.as_object_mut().expect("object").remove("risk");
    let f = fields(&submit(&t, &rep_a, acc, body).await);
    for k in RISK {
        assert_eq!(f.get(&format!("risk.{k}")).map(String::as_str), Some("required"), "{f:?}");
    }

    // Nothing was written: no version, no request, no notification, the status unchanged.
    let list = ok(t.get(&format!("/api/v1/accounts/{acc}/screenings"), &rep_a).await);
    assert_eq!(list["items"], json!([]), "{list}");
    assert_eq!(status_of(&t, &rep_a, acc).await, "prospect");
    assert!(inbox(&t, &rep_a, "mine").await.is_empty());
    assert_eq!(counts(&t, &director).await["waiting"], 0);
    assert!(notifications(&t, &director).await.is_empty());

    // Someone who does not see the account gets 404; a support role may not submit.
    assert_eq!(submit(&t, &bearer(&w, "repC"), acc, form([3; 5])).await.status, StatusCode::NOT_FOUND);
    assert_eq!(submit(&t, &bearer(&w, "finance"), acc, form([3; 5])).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_deciders_approving_one_step_at_once_give_one_outcome() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep_a = bearer(&w, "repA");
    let d1 = bearer(&w, "director");
    let d2 = add_user(&t, &w, "director2", "ka_director", "HQ", None).await;
    add_user(&t, &w, "sdm", "sales_dept_manager", "HQ", None).await;
    let acc = prospect(&t, &rep_a, "北京金桥自动化有限公司").await;
    let id = approval_id(&screen(&t, &rep_a, acc, [4, 4, 4, 4, 4]).await);
    assert_eq!(approval(&t, &d2, id).await["can_decide"], "self");

    let (a, b) = tokio::join!(
        decide_at(&t, &d1, id, 0, "approve", Some("同意")),
        decide_at(&t, &d2, id, 0, "approve", Some("同意"))
    );

    // One outcome: the first step has one decider, the second is still open and undecided.
    let v = approval(&t, &rep_a, id).await;
    let first = &v["steps"][0];
    assert_eq!(first["state"], "approved", "{v}");
    let winner = first["decided_by"].as_str().expect("decided_by").to_string();
    assert!(winner == "director" || winner == "director2", "{v}");
    assert_eq!(v["steps"][1]["state"], "open", "{v}");
    assert!(v["steps"][1]["decided_by"].is_null(), "{v}");
    assert_eq!(v["state"], "pending");

    // Exactly one 200 (the winner's) and one 409 for the decision that came second.
    let (won, lost) = if winner == "director" { (a, b) } else { (b, a) };
    assert_eq!(won.status, StatusCode::OK, "{}", won.body);
    assert_eq!(
        lost.status,
        StatusCode::CONFLICT,
        "the second decision on the same step should be a conflict, got {}: {}",
        lost.status,
        lost.body
    );
}

/// The same, with a flow whose two steps both belong to the KA director: a double click on
/// "approve" is one decision on the step the director saw, not an approval of both steps.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_double_click_does_not_decide_two_steps() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (admin, rep_a, director) = (bearer(&w, "admin"), bearer(&w, "repA"), bearer(&w, "director"));
    let flows = ok(t.get("/api/v1/flows", &admin).await);
    let weights = flows["items"].as_array().expect("items").iter().find(|f| f["flow"] == "ka_screening").expect("flow")
        ["definition"]["risk_weights"]
        .clone();
    let two_looks = json!({"steps": [{"role": "ka_director", "scope": "hq", "days": 3}, {"role": "ka_director", "scope": "hq", "days": 3}],
                           "risk_weights": weights});
    ok(t.call(Method::PUT, "/api/v1/flows/ka_screening", &admin, Some(two_looks)).await);
    let acc = prospect(&t, &rep_a, "北京金桥自动化有限公司").await;
    let id = approval_id(&screen(&t, &rep_a, acc, [4, 4, 4, 4, 4]).await);

    let (a, b) = tokio::join!(
        decide_at(&t, &director, id, 0, "approve", None),
        decide_at(&t, &director, id, 0, "approve", None)
    );
    let mut got = [a.status.as_u16(), b.status.as_u16()];
    got.sort_unstable();
    let v = approval(&t, &rep_a, id).await;
    assert_eq!(v["steps"][1]["state"], "open", "the second step is still to be decided: {v}");
    assert_eq!(v["state"], "pending", "{v}");
    assert_eq!(status_of(&t, &rep_a, acc).await, "candidate");
    assert_eq!(got, [200, 409], "{} / {}", a.body, b.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overdue_step_is_escalated_once_and_the_target_may_decide() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (rep_a, director) = (bearer(&w, "repA"), bearer(&w, "director"));
    let gm = add_user(&t, &w, "gm", "gm", "HQ", None).await;
    add_user(&t, &w, "sdm", "sales_dept_manager", "HQ", None).await;
    let now = Utc::now();
    let acc = prospect(&t, &rep_a, "天津渤海化工有限公司").await;
    let id = approval_id(&screen(&t, &rep_a, acc, [3, 4, 3, 4, 3]).await);

    // Not due yet: nothing happens.
    assert_eq!(approvals::tick(t.db(), now).await.expect("tick"), (0, 0));
    assert_eq!(approvals::tick(t.db(), now + Duration::days(1)).await.expect("tick"), (0, 0));

    // Day 4: the 3-day step is overdue in the director's inbox.
    let t4 = now + Duration::days(4);
    let director_caller = ctx_of(&t, "director").await.caller;
    let items = approvals::waiting_for(t.db(), &director_caller, t4).await.expect("inbox");
    assert_eq!(items.len(), 1);
    assert!(items[0].overdue, "{:?}", items[0]);

    // Two schedulers at once (two connections, as two servers): escalated once.
    let other = Db::connect(&t.url).await.expect("second connection");
    let (a, b) = tokio::join!(approvals::tick(t.db(), t4), approvals::tick(&other, t4));
    let (a, b) = (a.expect("tick"), b.expect("tick"));
    assert_eq!(a.1 + b.1, 1, "escalated once: {a:?} {b:?}");
    assert_eq!(a.0 + b.0, 0, "no reminder after the deadline");
    assert_eq!(approvals::tick(t.db(), t4).await.expect("tick"), (0, 0));
    assert_eq!(approvals::tick(&other, t4 + Duration::hours(5)).await.expect("tick"), (0, 0));

    // The director has no manager: the step goes to the general manager.
    let v = approval(&t, &rep_a, id).await;
    let s0 = &v["steps"][0];
    assert_eq!((s0["state"].as_str(), s0["escalated_to"].as_str()), (Some("open"), Some("gm")), "{v}");
    assert!((at(&s0["escalated_at"]) - t4).abs() < Duration::milliseconds(1), "escalated at day 4: {v}");
    for who in [&director, &gm, &rep_a] {
        let n = told(&t, who, "approval_escalated", id).await;
        assert_eq!(n.len(), 1, "one escalation notice each: {n:?}");
        assert!(n[0]["title"].as_str().expect("title").starts_with("已超期并升级"), "{}", n[0]);
    }
    assert_eq!(inbox(&t, &gm, "waiting").await, vec![id]);
    assert_eq!(approval(&t, &gm, id).await["can_decide"], "escalation");

    // The general manager decides as the escalation target.
    let v = ok(decide(&t, &gm, id, "approve", Some("超期，由总经理批准")).await);
    assert_eq!(v["steps"][0]["decided_by"], "gm", "{v}");
    assert_eq!(v["steps"][0]["decided_as"], "escalation", "{v}");
    assert_eq!(v["steps"][1]["state"], "open");
    assert_eq!(counts(&t, &director).await["waiting"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reminder_goes_out_once_within_a_day_of_the_deadline() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (rep_a, director) = (bearer(&w, "repA"), bearer(&w, "director"));
    add_user(&t, &w, "sdm", "sales_dept_manager", "HQ", None).await;
    let now = Utc::now();
    let acc = prospect(&t, &rep_a, "北京华源能源有限公司").await;
    let id = approval_id(&screen(&t, &rep_a, acc, [3, 3, 3, 3, 3]).await);

    // Two days before the deadline: no reminder yet.
    assert_eq!(approvals::tick(t.db(), now + Duration::hours(30)).await.expect("tick"), (0, 0));
    assert!(told(&t, &director, "approval_reminder", id).await.is_empty());

    // Within the last day: one reminder, however many schedulers run.
    let soon = now + Duration::hours(60);
    let other = Db::connect(&t.url).await.expect("second connection");
    let (a, b) = tokio::join!(approvals::tick(t.db(), soon), approvals::tick(&other, soon));
    let (a, b) = (a.expect("tick"), b.expect("tick"));
    assert_eq!((a.0 + b.0, a.1 + b.1), (1, 0), "{a:?} {b:?}");
    assert_eq!(approvals::tick(t.db(), soon + Duration::hours(2)).await.expect("tick"), (0, 0));
    let n = told(&t, &director, "approval_reminder", id).await;
    assert_eq!(n.len(), 1, "{n:?}");
    assert!(n[0]["title"].as_str().expect("title").starts_with("即将到期"), "{}", n[0]);
    assert!(told(&t, &rep_a, "approval_reminder", id).await.is_empty(), "the requester is not reminded");

    // A reminder does not stand in for the escalation after the deadline.
    assert_eq!(approvals::tick(t.db(), now + Duration::days(4)).await.expect("tick"), (0, 1));
}

#[tokio::test]
async fn the_marketing_director_extends_the_hq_step_of_a_credit_change_once() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (rep_a, director, manager) = (bearer(&w, "repA"), bearer(&w, "director"), bearer(&w, "manager"));
    let region = bearer(&w, "region");
    let mkt = add_user(&t, &w, "mkt", "marketing_director", "HQ", None).await;
    let now = Utc::now();
    let subject = Subject {
        kind: "account",
        id: w.account_x,
        label: "北京星河精密制造有限公司".into(),
        region_id: Some(org_id(&t, "N").await),
        branch_id: None,
        owner_id: Some(uid(&t, "repA").await),
        figure: None,
        class: None,
    };
    let ctx = ctx_of(&t, "manager").await;
    let mut tx = t.db().begin().await.expect("tx");
    let id = approvals::start(
        &mut tx,
        &ctx,
        Flow::CreditChange,
        &subject,
        &json!({"credit_grade": "gray"}),
        &json!({"from": "black", "to": "gray"}),
        now,
    )
    .await
    .expect("start");
    tx.commit().await.expect("commit");

    let v = approval(&t, &manager, id).await;
    let plan: Vec<(String, i64)> = v["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| (s["role"].as_str().unwrap().to_string(), s["days"].as_i64().unwrap()))
        .collect();
    assert_eq!(plan, [("ka_manager".to_string(), 3), ("ka_director".into(), 3)], "{v}");
    // No KA manager is placed on region N: the head of the region verifies.
    assert_eq!(inbox(&t, &region, "waiting").await, vec![id], "the region's head verifies");
    assert_eq!(approval(&t, &mkt, id).await["can_extend"], false, "the verification step allows none");

    let extend = |who: Auth, days: Value| {
        let t = &t;
        async move {
            t.call(Method::POST, &format!("/api/v1/approvals/{id}/extension"), &who, Some(json!({"days": days}))).await
        }
    };
    assert_eq!(fields(&extend(mkt.clone(), json!(5)).await), field_map(&[("days", "step_no_extension")]));
    ok(decide(&t, &region, id, "approve", None).await);
    assert_eq!(approval(&t, &mkt, id).await["can_extend"], true);
    assert_eq!(approval(&t, &director, id).await["can_extend"], false);
    // Another role may not; beyond 7 days or not beyond the step's own 3 is refused.
    assert_eq!(refused(&extend(director.clone(), json!(7)).await, StatusCode::FORBIDDEN), "forbidden");
    assert_eq!(refused(&extend(rep_a.clone(), json!(7)).await, StatusCode::FORBIDDEN), "forbidden");
    assert_eq!(fields(&extend(mkt.clone(), json!(8)).await), field_map(&[("days", "extension_range")]));
    assert_eq!(fields(&extend(mkt.clone(), json!(3)).await), field_map(&[("days", "extension_range")]));
    assert_eq!(fields(&extend(mkt.clone(), json!("seven")).await), field_map(&[("days", "expected_integer")]));
    assert!(approval(&t, &manager, id).await["steps"][1]["extended_days"].is_null());

    let v = ok(extend(mkt.clone(), json!(7)).await);
    let s1 = &v["steps"][1];
    assert_eq!(s1["extended_days"], 7, "{v}");
    assert_eq!(at(&s1["due_at"]) - at(&s1["opened_at"]), Duration::days(7), "{v}");
    assert_eq!(v["can_extend"], false);
    // Once only.
    assert_eq!(refused(&extend(mkt.clone(), json!(7)).await, StatusCode::CONFLICT), "already_extended");
    assert_eq!(refused(&extend(mkt.clone(), json!(6)).await, StatusCode::CONFLICT), "already_extended");

    // Day 5 would have been past the 3-day deadline; with the extension nothing escalates.
    assert_eq!(approvals::tick(t.db(), now + Duration::days(5)).await.expect("tick"), (0, 0));
    let v = approval(&t, &manager, id).await;
    assert!(v["steps"][1]["escalated_at"].is_null(), "{v}");
    assert_eq!(v["steps"][1]["state"], "open");
    // Past the extended deadline it escalates.
    assert_eq!(approvals::tick(t.db(), now + Duration::days(8)).await.expect("tick"), (0, 1));
    let v = ok(decide(&t, &director, id, "approve", None).await);
    assert_eq!(v["state"], "approved", "{v}");
}

#[tokio::test]
async fn a_delegate_decides_while_the_delegation_runs() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (rep_a, director, manager) = (bearer(&w, "repA"), bearer(&w, "director"), bearer(&w, "manager"));
    add_user(&t, &w, "sdm", "sales_dept_manager", "HQ", None).await;
    let acc = prospect(&t, &rep_a, "北京远望光电有限公司").await;
    let id = approval_id(&screen(&t, &rep_a, acc, [4, 3, 4, 3, 4]).await);
    let today = Utc::now().date_naive();
    let delegate = |who: Auth, body: Value| {
        let t = &t;
        async move { t.call(Method::POST, "/api/v1/delegations", &who, Some(body)).await }
    };

    // Bad delegations.
    let d = |del: &str, s: NaiveDate, e: NaiveDate| json!({"delegate": del, "starts_on": ymd(s), "ends_on": ymd(e)});
    assert_eq!(
        fields(&delegate(director.clone(), d("manager", today, today - Duration::days(1))).await),
        field_map(&[("ends_on", "end_before_start")])
    );
    assert_eq!(
        fields(&delegate(director.clone(), d("director", today, today)).await),
        field_map(&[("delegate", "delegate_self")])
    );
    assert_eq!(
        fields(&delegate(director.clone(), d("nobody", today, today)).await),
        field_map(&[("delegate", "unknown_user")])
    );
    assert_eq!(
        fields(&delegate(director.clone(), d("gone", today, today)).await),
        field_map(&[("delegate", "unknown_user")])
    );
    let r =
        delegate(director.clone(), json!({"delegate": "manager", "starts_on": "2024/01/01", "ends_on": ymd(today)}))
            .await;
    assert_eq!(fields(&r), field_map(&[("starts_on", "date_format")]));

    // A delegation that ended yesterday gives nothing.
    let r = delegate(director.clone(), d("manager", today - Duration::days(5), today - Duration::days(1))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert!(approval(&t, &manager, id).await["can_decide"].is_null());
    assert_eq!(counts(&t, &manager).await["waiting"], 0);
    assert_eq!(refused(&decide(&t, &manager, id, "approve", None).await, StatusCode::FORBIDDEN), "forbidden");
    assert_eq!(approval(&t, &rep_a, id).await["steps"][0]["state"], "open");

    // One for today: the manager decides as the director's delegate.
    let r = delegate(director.clone(), d("manager", today, today)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    // The director sees what they gave: today's, running; not the one that ended yesterday.
    let given = ok(t.get("/api/v1/delegations", &director).await)["items"].as_array().expect("items").clone();
    assert_eq!(given.len(), 1, "{given:?}");
    assert_eq!((given[0]["delegate"].as_str(), given[0]["active"].as_bool()), (Some("manager"), Some(true)));
    assert_eq!(given[0]["ends_on"], ymd(today).as_str());
    assert!(ok(t.get("/api/v1/delegations", &manager).await)["items"].as_array().expect("items").is_empty());
    assert_eq!(counts(&t, &manager).await["waiting"], 1);
    assert_eq!(inbox(&t, &manager, "waiting").await, vec![id]);
    assert_eq!(approval(&t, &manager, id).await["can_decide"], "delegate of director");
    let v = ok(decide(&t, &manager, id, "approve", Some("代总监审批")).await);
    assert_eq!(v["steps"][0]["decided_by"], "manager", "{v}");
    assert_eq!(v["steps"][0]["decided_as"], "delegate of director", "{v}");
    // The delegation covers the director's steps only, not the sales department manager's.
    assert_eq!(refused(&decide(&t, &manager, id, "approve", None).await, StatusCode::FORBIDDEN), "forbidden");
}

#[tokio::test]
async fn flow_definitions_are_checked_and_versioned_and_running_requests_keep_theirs() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (admin, rep_a, director) = (bearer(&w, "admin"), bearer(&w, "repA"), bearer(&w, "director"));
    let sdm = add_user(&t, &w, "sdm", "sales_dept_manager", "HQ", None).await;
    let flows = ok(t.get("/api/v1/flows", &director).await);
    let screening_flow = flows["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|f| f["flow"] == "ka_screening")
        .expect("ka_screening")
        .clone();
    assert_eq!(screening_flow["version"], 1);
    let weights = screening_flow["definition"]["risk_weights"].clone();
    assert_eq!(weights.as_array().map(Vec::len), Some(5), "{screening_flow}");

    // A request started under version 1.
    let acc1 = prospect(&t, &rep_a, "北京先锋智能装备有限公司").await;
    let id1 = approval_id(&screen(&t, &rep_a, acc1, [3, 3, 3, 3, 3]).await);

    let put = |who: Auth, flow: &'static str, body: Value| {
        let t = &t;
        async move { t.call(Method::PUT, &format!("/api/v1/flows/{flow}"), &who, Some(body)).await }
    };
    let one_step = json!({"steps": [{"role": "ka_director", "scope": "hq", "days": 5}], "risk_weights": weights});
    // Not an administrator.
    assert_eq!(
        refused(&put(director.clone(), "ka_screening", one_step.clone()).await, StatusCode::FORBIDDEN),
        "forbidden"
    );
    // Malformed, each reason by field.
    assert_eq!(
        fields(&put(admin.clone(), "ka_screening", json!({"steps": []})).await),
        field_map(&[("steps", "flow_no_steps")])
    );
    let r = put(
        admin.clone(),
        "ka_screening",
        json!({"steps": [
            {"role": "pope", "scope": "hq", "days": 3},
            {"role": "ka_director", "scope": "galaxy", "days": -2},
            {"role": "gm", "scope": "hq", "days": 91},
        ]}),
    )
    .await;
    assert_eq!(
        fields(&r),
        field_map(&[
            ("steps[0].role", "unknown_role"),
            ("steps[1].scope", "invalid_choice"),
            ("steps[1].days", "step_days_range"),
            ("steps[2].days", "step_days_range"),
        ])
    );
    let r = put(
        admin.clone(),
        "credit_change",
        json!({"steps": [{"role": "ka_manager", "scope": "owner_manager", "days": 6}, {"role": "ka_director", "scope": "hq", "days": 6}],
               "extension": {"role": "wizard", "max_days": 0}, "max_total_days": 10}),
    )
    .await;
    assert_eq!(
        fields(&r),
        field_map(&[
            ("extension.role", "unknown_role"),
            ("extension.max_days", "step_days_range"),
            ("max_total_days", "steps_exceed_total"),
        ])
    );
    assert_eq!(
        fields(&put(admin.clone(), "ka_screening", json!({"steps": "all"})).await),
        field_map(&[("definition", "flow_malformed")])
    );
    assert_eq!(
        fields(&put(admin.clone(), "coffee_break", one_step.clone()).await),
        field_map(&[("flow", "invalid_choice")])
    );
    let versions = ok(t.get("/api/v1/flows", &director).await);
    assert!(
        versions["items"].as_array().expect("items").iter().all(|f| f["version"] == 1),
        "nothing refused was saved: {versions}"
    );

    // A sound definition is version 2.
    let v = ok(put(admin.clone(), "ka_screening", one_step.clone()).await);
    assert_eq!((v["flow"].as_str(), v["version"].as_i64()), (Some("ka_screening"), Some(2)), "{v}");
    let flows = ok(t.get("/api/v1/flows", &rep_a).await);
    let f =
        flows["items"].as_array().expect("items").iter().find(|f| f["flow"] == "ka_screening").expect("flow").clone();
    assert_eq!(f["version"], 2);
    assert_eq!(f["definition"]["steps"].as_array().map(Vec::len), Some(1), "{f}");

    // New requests follow version 2: one step of 5 days.
    let acc2 = prospect(&t, &rep_a, "北京先锋精工有限公司").await;
    let id2 = approval_id(&screen(&t, &rep_a, acc2, [3, 3, 3, 3, 3]).await);
    let v2 = approval(&t, &rep_a, id2).await;
    assert_eq!(v2["flow_version"], 2);
    assert_eq!(v2["steps"].as_array().map(Vec::len), Some(1), "{v2}");
    assert_eq!(v2["steps"][0]["days"], 5);
    ok(decide(&t, &director, id2, "approve", None).await);
    assert_eq!(status_of(&t, &rep_a, acc2).await, "key_account", "one step was enough under version 2");

    // The request of version 1 keeps its two steps.
    let v1 = approval(&t, &rep_a, id1).await;
    assert_eq!(v1["flow_version"], 1);
    assert_eq!(v1["steps"].as_array().map(Vec::len), Some(2), "{v1}");
    assert_eq!(v1["steps"][0]["days"], 3);
    let v1 = ok(decide(&t, &director, id1, "approve", None).await);
    assert_eq!((v1["state"].as_str(), v1["steps"][1]["state"].as_str()), (Some("pending"), Some("open")), "{v1}");
    assert_eq!(status_of(&t, &rep_a, acc1).await, "candidate");
    ok(decide(&t, &sdm, id1, "approve", None).await);
    assert_eq!(status_of(&t, &rep_a, acc1).await, "key_account");
}

#[tokio::test]
async fn deciders_and_the_requester_are_notified_in_the_app() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (rep_a, director) = (bearer(&w, "repA"), bearer(&w, "director"));
    let sdm = add_user(&t, &w, "sdm", "sales_dept_manager", "HQ", None).await;
    let name = "北京正阳机电有限公司";
    let acc = prospect(&t, &rep_a, name).await;
    let id = approval_id(&screen(&t, &rep_a, acc, [3, 3, 3, 3, 3]).await);

    let n = notifications(&t, &director).await;
    assert_eq!(n.len(), 1, "{n:?}");
    assert_eq!((n[0]["kind"].as_str(), n[0]["approval_id"].as_i64()), (Some("approval_waiting"), Some(id)));
    assert_eq!(n[0]["title"], format!("待您审批：大客户确认 · {name}"));
    assert!(n[0]["body"].as_str().expect("body").contains(&format!("#{id}")), "{}", n[0]);
    assert_eq!(n[0]["read"], false);
    let c = counts(&t, &director).await;
    assert_eq!((c["waiting"].as_i64(), c["unread_notifications"].as_i64()), (Some(1), Some(1)), "{c}");
    assert!(notifications(&t, &sdm).await.is_empty(), "the second step is not open yet");
    assert_eq!(counts(&t, &rep_a).await["unread_notifications"], 0);

    // Marking read: one, only one's own.
    let nid = n[0]["id"].as_i64().expect("id");
    let r = t.call(Method::POST, "/api/v1/notifications/read", &rep_a, Some(json!({"id": nid}))).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(counts(&t, &director).await["unread_notifications"], 1, "repA cannot mark the director's");
    let r = t.call(Method::POST, "/api/v1/notifications/read", &director, Some(json!({"id": nid}))).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(counts(&t, &director).await["unread_notifications"], 0);
    assert_eq!(ok(t.get("/api/v1/notifications?unread=1", &director).await)["items"], json!([]));
    assert_eq!(notifications(&t, &director).await[0]["read"], true);

    // The next decider is told when their step opens; the requester when it is decided.
    ok(decide(&t, &director, id, "approve", None).await);
    assert_eq!(told(&t, &sdm, "approval_waiting", id).await.len(), 1);
    assert_eq!(counts(&t, &sdm).await["unread_notifications"], 1);
    assert!(told(&t, &rep_a, "approval_closed", id).await.is_empty(), "not decided yet");
    ok(decide(&t, &sdm, id, "approve", Some("同意列为大客户")).await);
    let n = told(&t, &rep_a, "approval_closed", id).await;
    assert_eq!(n.len(), 1, "{n:?}");
    assert_eq!(n[0]["title"], format!("审批结果：大客户确认 · {name}"));
    assert!(n[0]["body"].as_str().expect("body").contains("已批准"), "{}", n[0]);
    assert_eq!(counts(&t, &rep_a).await["unread_notifications"], 1);
    // All read at once.
    let r = t.call(Method::POST, "/api/v1/notifications/read", &rep_a, Some(json!({}))).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(counts(&t, &rep_a).await["unread_notifications"], 0);
}

#[tokio::test]
async fn the_director_gets_an_email_through_smtp() {
    let smtp = receivers::smtp().await;
    let base = Settings::default();
    let settings =
        Settings { channels: notify::Channels { smtp_url: Some(smtp.url()), ..base.channels.clone() }, ..base };
    let t = TestApp::with_settings(settings).await;
    let w = seed(&t).await;
    let (rep_a, director) = (bearer(&w, "repA"), bearer(&w, "director"));
    add_user(&t, &w, "sdm", "sales_dept_manager", "HQ", None).await;

    // Channels are checked.
    let put = |body: Value| {
        let t = &t;
        let director = director.clone();
        async move { t.call(Method::PUT, "/api/v1/me/channels", &director, Some(body)).await }
    };
    assert_eq!(fields(&put(json!({"notify_email": true})).await), field_map(&[("email", "required")]));
    assert_eq!(fields(&put(json!({"email": "not an address"})).await), field_map(&[("email", "email_format")]));
    let v = ok(put(json!({"email": "director@example.com", "notify_email": true})).await);
    assert_eq!((v["email"].as_str(), v["notify_email"].as_bool()), (Some("director@example.com"), Some(true)), "{v}");
    assert_eq!(ok(t.get("/api/v1/me/channels", &director).await)["notify_email"], true);

    let name = "北京华夏通信设备有限公司";
    let acc = prospect(&t, &rep_a, name).await;
    let id = approval_id(&screen(&t, &rep_a, acc, [3, 3, 3, 3, 3]).await);
    assert!(smtp.mails().is_empty(), "nothing leaves before the scheduler runs");
    let (_, _, sent) = t.app.scheduler_pass("w1", Utc::now()).await.expect("pass");
    assert_eq!(sent, 1);
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1, "{mails:?}");
    let m = &mails[0];
    assert_eq!(m.to, vec!["director@example.com".to_string()]);
    assert_eq!(m.from, "kam@localhost");
    assert_eq!(m.header("Subject").as_deref(), Some(format!("待您审批：大客户确认 · {name}").as_str()), "{}", m.data);
    let body = m.body();
    assert!(body.contains(&format!("审批 #{id}")), "{body}");
    assert!(body.contains(&format!("http://127.0.0.1:8080/approvals/{id}")), "{body}");

    // Sent once: another pass sends nothing; the administrator sees it sent.
    assert_eq!(t.app.scheduler_pass("w1", Utc::now()).await.expect("pass").2, 0);
    assert_eq!(smtp.mails().len(), 1);
    let sent = deliveries(&t, &w, "sent").await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(
        (sent[0]["channel"].as_str(), sent[0]["target"].as_str()),
        (Some("email"), Some("director@example.com"))
    );
    assert_eq!(sent[0]["attempts"], 1);
    assert!(deliveries(&t, &w, "pending").await.is_empty());
}

#[tokio::test]
async fn a_webhook_gets_one_json_post_per_notification() {
    let hook = receivers::webhook().await;
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (rep_a, director) = (bearer(&w, "repA"), bearer(&w, "director"));
    add_user(&t, &w, "sdm", "sales_dept_manager", "HQ", None).await;
    let r = t
        .call(
            Method::PUT,
            "/api/v1/me/channels",
            &director,
            Some(json!({"webhook_url": "ftp://x", "notify_webhook": true})),
        )
        .await;
    assert_eq!(fields(&r), field_map(&[("webhook_url", "url_format")]));
    ok(t.call(
        Method::PUT,
        "/api/v1/me/channels",
        &director,
        Some(json!({"webhook_url": hook.url, "notify_webhook": true})),
    )
    .await);

    let name = "天津滨海新材料有限公司";
    let acc = prospect(&t, &rep_a, name).await;
    let id = approval_id(&screen(&t, &rep_a, acc, [3, 3, 3, 3, 3]).await);
    assert_eq!(t.app.scheduler_pass("w1", Utc::now()).await.expect("pass").2, 1);
    assert_eq!(t.app.scheduler_pass("w1", Utc::now()).await.expect("pass").2, 0);
    let posts = hook.posts();
    assert_eq!(posts.len(), 1, "{posts:?}");
    let p = &posts[0];
    let title = format!("待您审批：大客户确认 · {name}");
    let link = format!("http://127.0.0.1:8080/approvals/{id}");
    assert_eq!(p["approval_id"], id, "{p}");
    assert_eq!(p["msgtype"], "text");
    assert_eq!(p["kind"], "approval_waiting");
    assert_eq!(p["user"], "director");
    assert_eq!(p["title"], title);
    assert_eq!(p["url"], link);
    let content = p["text"]["content"].as_str().expect("content");
    assert!(content.starts_with(&title) && content.contains(&link), "{content}");
    assert!(p["body"].as_str().expect("body").contains(&format!("#{id}")), "{p}");
}

#[tokio::test]
async fn a_failing_webhook_is_retried_shown_to_the_admin_and_fails_after_eight_attempts() {
    let hook = receivers::webhook().await;
    hook.answer(StatusCode::INTERNAL_SERVER_ERROR);
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (rep_a, director, admin) = (bearer(&w, "repA"), bearer(&w, "director"), bearer(&w, "admin"));
    add_user(&t, &w, "sdm", "sales_dept_manager", "HQ", None).await;
    ok(t.call(
        Method::PUT,
        "/api/v1/me/channels",
        &director,
        Some(json!({"webhook_url": hook.url, "notify_webhook": true})),
    )
    .await);
    let acc = prospect(&t, &rep_a, "上海申江仪表有限公司").await;
    approval_id(&screen(&t, &rep_a, acc, [3, 3, 3, 3, 3]).await);

    let now = Utc::now();
    assert_eq!(t.app.scheduler_pass("w1", now).await.expect("pass").2, 0);
    assert_eq!(hook.posts().len(), 1);
    let pending = deliveries(&t, &w, "pending").await;
    assert_eq!(pending.len(), 1, "{pending:?}");
    let d = &pending[0];
    assert_eq!((d["channel"].as_str(), d["attempts"].as_i64()), (Some("webhook"), Some(1)), "{d}");
    assert!(d["last_error"].as_str().expect("last_error").contains("500"), "{d}");
    assert!(at(&d["next_attempt_at"]) > now, "retried later: {d}");
    let did = d["id"].as_i64().expect("id");
    // Not again before its time.
    t.app.scheduler_pass("w1", now).await.expect("pass");
    assert_eq!(hook.posts().len(), 1, "backoff");
    // Others do not see deliveries.
    assert_eq!(refused(&t.get("/api/v1/admin/deliveries", &director).await, StatusCode::FORBIDDEN), "forbidden");

    for k in 1..=7 {
        // Backoff doubles from one minute: 3 hours apart is always past the next attempt.
        t.app.scheduler_pass("w1", now + Duration::hours(3 * k)).await.expect("pass");
        let all = deliveries(&t, &w, "").await;
        assert_eq!(all[0]["attempts"], k + 1, "{all:?}");
        assert_eq!(all[0]["state"], if k < 7 { "pending" } else { "failed" }, "{all:?}");
    }
    assert_eq!(hook.posts().len(), 8);
    let failed = deliveries(&t, &w, "failed").await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["id"], did);
    // Failed stays failed.
    t.app.scheduler_pass("w1", now + Duration::hours(30)).await.expect("pass");
    assert_eq!(hook.posts().len(), 8);

    // The administrator puts it back in line (only they, only a failed one).
    let retry = |who: Auth| {
        let t = &t;
        async move { t.call(Method::POST, &format!("/api/v1/admin/deliveries/{did}/retry"), &who, None).await }
    };
    assert_eq!(refused(&retry(director.clone()).await, StatusCode::FORBIDDEN), "forbidden");
    assert_eq!(retry(admin.clone()).await.status, StatusCode::NO_CONTENT);
    let pending = deliveries(&t, &w, "pending").await;
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0]["attempts"], 0);
    assert_eq!(refused(&retry(admin.clone()).await, StatusCode::NOT_FOUND), "not_found");
    hook.answer(StatusCode::OK);
    assert_eq!(t.app.scheduler_pass("w1", Utc::now()).await.expect("pass").2, 1);
    assert_eq!(hook.posts().len(), 9);
    let sent = deliveries(&t, &w, "sent").await;
    assert_eq!((sent.len(), sent[0]["id"].as_i64()), (1, Some(did)), "{sent:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_deliver_each_notification_exactly_once() {
    let hook = receivers::webhook().await;
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep_a = bearer(&w, "repA");
    let gm = add_user(&t, &w, "gm", "gm", "HQ", None).await;
    add_user(&t, &w, "sdm", "sales_dept_manager", "HQ", None).await;
    for who in [bearer(&w, "director"), rep_a.clone(), gm.clone()] {
        ok(t.call(
            Method::PUT,
            "/api/v1/me/channels",
            &who,
            Some(json!({"webhook_url": hook.url, "notify_webhook": true})),
        )
        .await);
    }
    let mut ids = vec![];
    for name in ["北京东升机械有限公司", "北京西山科技有限公司", "北京南苑制药有限公司"] {
        let acc = prospect(&t, &rep_a, name).await;
        ids.push(approval_id(&screen(&t, &rep_a, acc, [3, 3, 3, 3, 3]).await));
    }

    // Two servers on one database, nothing shared in memory; day 4: every first step is late.
    let one = t.app.clone();
    let two = App { db: Db::connect(&t.url).await.expect("second server"), settings: t.app.settings.clone() };
    let t4 = Utc::now() + Duration::days(4);
    let (mut escalated, mut sent) = (0, 0);
    for _ in 0..4 {
        let (a, b) = (one.clone(), two.clone());
        let ja = tokio::spawn(async move { a.scheduler_pass("w1", t4).await });
        let jb = tokio::spawn(async move { b.scheduler_pass("w2", t4).await });
        for r in [ja.await.expect("join"), jb.await.expect("join")] {
            let (_, e, s) = r.expect("pass");
            escalated += e;
            sent += s;
        }
    }
    // Each request: the director is told it waits, then the director, the general manager and
    // the requester that it was escalated.
    assert_eq!(escalated, 3);
    let posts = hook.posts();
    let mut seen: BTreeMap<(String, String, i64), usize> = BTreeMap::new();
    for p in &posts {
        let key = (
            p["user"].as_str().unwrap().to_string(),
            p["kind"].as_str().unwrap().to_string(),
            p["approval_id"].as_i64().unwrap(),
        );
        *seen.entry(key).or_default() += 1;
    }
    let mut want = BTreeMap::new();
    for id in &ids {
        want.insert(("director".to_string(), "approval_waiting".to_string(), *id), 1);
        for u in ["director", "gm", "repA"] {
            want.insert((u.to_string(), "approval_escalated".to_string(), *id), 1);
        }
    }
    assert_eq!(seen, want, "each notification exactly once");
    assert_eq!(sent, 12);
    assert_eq!(deliveries(&t, &w, "sent").await.len(), 12);
    assert!(deliveries(&t, &w, "pending").await.is_empty());
}

/// A failing endpoint with two servers: each due delivery is attempted once per pass — the
/// backoff holds and the attempts count what was tried.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_attempt_a_failing_delivery_once_per_pass() {
    let hook = receivers::webhook().await;
    hook.answer(StatusCode::INTERNAL_SERVER_ERROR);
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (rep_a, director) = (bearer(&w, "repA"), bearer(&w, "director"));
    add_user(&t, &w, "sdm", "sales_dept_manager", "HQ", None).await;
    ok(t.call(
        Method::PUT,
        "/api/v1/me/channels",
        &director,
        Some(json!({"webhook_url": hook.url, "notify_webhook": true})),
    )
    .await);
    const N: usize = 24;
    for i in 0..N {
        let body =
            json!({"name": format!("华北第{i}精密机械有限公司"), "industry": "other", "allow_duplicate_name": true});
        let r = t.call(Method::POST, "/api/v1/accounts", &rep_a, Some(body)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        screen(&t, &rep_a, r.json()["id"].as_i64().expect("id"), [3, 3, 3, 3, 3]).await;
    }
    let two = App { db: Db::connect(&t.url).await.expect("second server"), settings: t.app.settings.clone() };
    let now = Utc::now();
    let (a, b) = (t.app.clone(), two.clone());
    let ja = tokio::spawn(async move { a.scheduler_pass("w1", now).await });
    let jb = tokio::spawn(async move { b.scheduler_pass("w2", now).await });
    ja.await.expect("join").expect("pass");
    jb.await.expect("join").expect("pass");

    let pending = deliveries(&t, &w, "pending").await;
    assert_eq!(pending.len(), N);
    let twice: Vec<i64> =
        pending.iter().filter(|d| d["attempts"] != 1).map(|d| d["id"].as_i64().expect("id")).collect();
    assert_eq!(hook.posts().len(), N, "one attempt per delivery in one pass; tried again at once: {twice:?}");
    assert!(twice.is_empty(), "attempts other than 1: {twice:?}");
}
