//! The credit change request on the seed's clock (issue 22, 003 §三.五): a trigger is filed by
//! the account's KA manager within 2 days (unfiled, it escalates to the KA director); the
//! region's KA department verifies, HQ's KA director approves, and only that step may be
//! extended, by the marketing director, to at most 7 days and never past the trigger + 10 days;
//! a request about to pass the 10 days escalates at once. Approved, the grade applies with
//! history. A rep sees none of it, the KA managers no grade or limit. Time moves with the test
//! clock; the same on both backends.
use std::collections::BTreeMap;

use axum::http::{Method, StatusCode};
use chrono::{DateTime, Duration, Utc};
use kam::app::{approvals, clock, credit, Ctx};
use kam::domain::credit_change::CreditTriggerKind;
use serde_json::{json, Value};

use crate::common::{fields, seed, Auth, Resp, TestApp, World};

fn bearer(w: &World, user: &str) -> Auth {
    Auth::Bearer(w.tokens[user].clone())
}

fn ok(r: Resp) -> Value {
    assert!(r.status.is_success(), "{} {}", r.status, r.body);
    r.json()
}

fn refused(r: &Resp, status: StatusCode) -> String {
    assert_eq!(r.status, status, "{}", r.body);
    r.json()["error"]["code"].as_str().unwrap_or_default().to_string()
}

fn field_map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(f, c)| (f.to_string(), c.to_string())).collect()
}

fn at(v: &Value) -> DateTime<Utc> {
    let s = v.as_str().unwrap_or_else(|| panic!("a time, got {v}"));
    DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("{s}: {e}")).with_timezone(&Utc)
}

/// The stories here start from a black account (the World plants yellow).
async fn plant_black(t: &TestApp, account: i64) {
    sqlx::query("UPDATE accounts SET credit_grade = 'black' WHERE id = $1")
        .bind(account)
        .execute(&t.db().pool)
        .await
        .expect("black");
}

async fn add_user(t: &TestApp, w: &World, username: &str, role: &str, org: &str, manager: Option<&str>) -> Auth {
    let mut body = json!({"username": username, "role": role, "org_unit": org, "password": "credit-pass-1"});
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

/// The people beyond the World: a KA manager placed on region N (the region's KA department),
/// the marketing director, and a general manager (the director's escalation).
struct People {
    rka: Auth,
    mkt: Auth,
    gm: Auth,
}

async fn people(t: &TestApp, w: &World) -> People {
    let gm = add_user(t, w, "gm", "gm", "HQ", None).await;
    let rka = add_user(t, w, "rka", "ka_manager", "N", Some("director")).await;
    let mkt = add_user(t, w, "mkt", "marketing_director", "HQ", None).await;
    People { rka, mkt, gm }
}

async fn propose(t: &TestApp, who: &Auth, account: i64, grade: Option<&str>) -> Resp {
    let mut body = json!({"account_id": account, "note": "近两个季度回款明显放缓，建议复核信用等级"});
    if let Some(g) = grade {
        body["proposed_grade"] = json!(g);
    }
    t.call(Method::POST, "/api/v1/credit/triggers", who, Some(body)).await
}

async fn file(t: &TestApp, who: &Auth, trigger: i64, body: Value) -> Resp {
    t.call(Method::POST, &format!("/api/v1/credit/triggers/{trigger}/filing"), who, Some(body)).await
}

fn reason() -> Value {
    json!({"reason": "客户近12个月履约率下降，申请调整信用等级"})
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

async fn extend(t: &TestApp, who: &Auth, id: i64, days: Value) -> Resp {
    t.call(Method::POST, &format!("/api/v1/approvals/{id}/extension"), who, Some(json!({"days": days}))).await
}

async fn waiting(t: &TestApp, who: &Auth) -> Vec<i64> {
    let v = ok(t.get("/api/v1/approvals?box=waiting", who).await);
    v["items"].as_array().expect("items").iter().map(|i| i["id"].as_i64().expect("id")).collect()
}

async fn to_file(t: &TestApp, who: &Auth) -> Vec<Value> {
    ok(t.get("/api/v1/credit/triggers", who).await)["items"].as_array().expect("items").clone()
}

async fn grade_of(t: &TestApp, account: i64) -> (Option<String>, Option<i64>) {
    let r = sqlx::query("SELECT credit_grade, credit_limit FROM accounts WHERE id = $1")
        .bind(account)
        .fetch_one(&t.db().pool)
        .await
        .expect("account");
    (sqlx::Row::try_get(&r, "credit_grade").expect("grade"), sqlx::Row::try_get(&r, "credit_limit").expect("limit"))
}

/// Runs the scheduler's approval pass at the test clock's now: (reminded, escalated).
async fn tick(t: &TestApp) -> (usize, usize) {
    approvals::tick(t.db(), clock::now()).await.expect("tick")
}

fn steps(v: &Value) -> Vec<(String, String, i64)> {
    v["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| {
            (
                s["role"].as_str().unwrap().to_string(),
                s["scope"].as_str().unwrap().to_string(),
                s["days"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn hq_extended_to_seven_days_closes_in_time_and_the_grade_applies_with_history() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    plant_black(&t, w.account_x).await;
    let p = people(&t, &w).await;
    let (director, manager, rep_a, region) =
        (bearer(&w, "director"), bearer(&w, "manager"), bearer(&w, "repA"), bearer(&w, "region"));

    // Who may propose: those who see credit, with a grade; a KA manager without one; no rep.
    assert_eq!(refused(&propose(&t, &rep_a, w.account_x, None).await, StatusCode::FORBIDDEN), "forbidden");
    assert_eq!(refused(&propose(&t, &manager, w.account_x, Some("yellow")).await, StatusCode::FORBIDDEN), "forbidden");
    assert_eq!(
        fields(&propose(&t, &director, w.account_x, Some("purple")).await),
        field_map(&[("proposed_grade", "invalid_choice")])
    );
    let tr = propose(&t, &director, w.account_x, Some("yellow")).await;
    assert_eq!(tr.status, StatusCode::CREATED, "{}", tr.body);
    let tr = tr.json();
    let trigger = tr["id"].as_i64().expect("id");
    let t0 = at(&tr["triggered_at"]);
    assert_eq!(at(&tr["file_by"]) - t0, Duration::days(2));
    assert_eq!(at(&tr["deadline_cap"]) - t0, Duration::days(10));
    // One live proposal per account.
    assert_eq!(refused(&propose(&t, &manager, w.account_x, None).await, StatusCode::CONFLICT), "trigger_exists");

    // The account's KA manager (here the owner's manager) has it to file, without the grade.
    let mine = to_file(&t, &manager).await;
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(mine[0]["id"], trigger);
    assert!(mine[0]["proposed_grade"].is_null(), "{}", mine[0]);
    assert!(to_file(&t, &director).await.is_empty(), "not escalated: not the director's to file");

    // Only the filer files; a grade only from those who see credit.
    assert_eq!(refused(&file(&t, &rep_a, trigger, reason()).await, StatusCode::FORBIDDEN), "forbidden");
    assert_eq!(refused(&file(&t, &p.rka, trigger, reason()).await, StatusCode::NOT_FOUND), "not_found");
    assert_eq!(
        refused(
            &file(&t, &manager, trigger, json!({"reason": "x", "proposed_grade": "red"})).await,
            StatusCode::FORBIDDEN
        ),
        "forbidden"
    );
    assert_eq!(
        fields(&file(&t, &manager, trigger, json!({"reason": " "})).await),
        field_map(&[("reason", "required")])
    );

    clock::shift_for_tests(Duration::hours(20));
    let c = file(&t, &manager, trigger, reason()).await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.body);
    let c = c.json();
    assert_eq!(c["filed_late"], false);
    assert!(c["credit"].is_null(), "the KA manager sees no grade: {c}");
    assert_eq!(c["credit_hidden"], true);
    assert_eq!(at(&c["deadline_cap"]) - t0, Duration::days(10));
    assert_eq!(refused(&file(&t, &manager, trigger, reason()).await, StatusCode::CONFLICT), "trigger_not_open");
    let change = c["id"].as_i64().expect("id");
    let aid = c["approval_id"].as_i64().expect("approval");

    // The seed's flow: the region's KA department, then HQ's KA director.
    let v = approval(&t, &manager, aid).await;
    assert_eq!(
        steps(&v),
        [("ka_manager".to_string(), "region_ka".to_string(), 3), ("ka_director".into(), "hq".into(), 3)],
        "{v}"
    );
    assert_eq!(waiting(&t, &p.rka).await, vec![aid], "a KA manager placed on the account's region verifies");
    assert!(waiting(&t, &region).await.is_empty(), "not the branch manager while the region has its KA manager");
    assert!(waiting(&t, &manager).await.is_empty(), "not the filer");
    // The director sees the request whole.
    let whole = ok(t.get(&format!("/api/v1/credit/changes/{change}"), &director).await);
    assert_eq!(whole["credit"]["from_grade"], "black", "{whole}");
    assert_eq!(whole["credit"]["to_grade"], "yellow", "{whole}");
    assert_eq!(whole["credit"]["from_limit"], "76543210.99", "{whole}");
    assert_eq!(whole["trigger"]["proposed_grade"], "yellow");
    let seen_by_rka = ok(t.get(&format!("/api/v1/credit/changes/{change}"), &p.rka).await);
    assert!(seen_by_rka["credit"].is_null() && seen_by_rka["trigger"]["proposed_grade"].is_null(), "{seen_by_rka}");

    // The verification step allows no extension.
    assert_eq!(approval(&t, &p.mkt, aid).await["can_extend"], false);
    assert_eq!(fields(&extend(&t, &p.mkt, aid, json!(5)).await), field_map(&[("days", "step_no_extension")]));
    assert!(approval(&t, &manager, aid).await["steps"][0]["extended_days"].is_null());

    clock::shift_for_tests(Duration::hours(4));
    ok(decide(&t, &p.rka, aid, "approve", Some("信息核实无误")).await);
    assert_eq!(waiting(&t, &director).await, vec![aid]);

    // HQ's step: the marketing director alone extends it, once, to at most 7 days.
    assert_eq!(approval(&t, &p.mkt, aid).await["can_extend"], true);
    assert_eq!(approval(&t, &director, aid).await["can_extend"], false);
    assert_eq!(refused(&extend(&t, &director, aid, json!(7)).await, StatusCode::FORBIDDEN), "forbidden");
    assert_eq!(refused(&extend(&t, &p.gm, aid, json!(7)).await, StatusCode::FORBIDDEN), "forbidden");
    assert_eq!(fields(&extend(&t, &p.mkt, aid, json!(8)).await), field_map(&[("days", "extension_range")]));
    assert_eq!(fields(&extend(&t, &p.mkt, aid, json!(3)).await), field_map(&[("days", "extension_range")]));
    assert!(approval(&t, &director, aid).await["steps"][1]["extended_days"].is_null(), "nothing changed");
    let v = ok(extend(&t, &p.mkt, aid, json!(7)).await);
    let hq = &v["steps"][1];
    assert_eq!(hq["extended_days"], 7, "{v}");
    assert_eq!(at(&hq["due_at"]) - at(&hq["opened_at"]), Duration::days(7), "within the cap: {v}");
    assert!(at(&hq["due_at"]) <= t0 + Duration::days(10));
    assert_eq!(refused(&extend(&t, &p.mkt, aid, json!(6)).await, StatusCode::CONFLICT), "already_extended");

    // Day 6: past the step's own 3 days, within its 7 — and more than a day from the cap.
    clock::shift_for_tests(Duration::days(5));
    assert_eq!(tick(&t).await.1, 0);
    assert!(approval(&t, &director, aid).await["steps"][1]["escalated_at"].is_null());

    // Day 7: the director approves; the grade applies, with history.
    clock::shift_for_tests(Duration::days(1));
    let v = ok(decide(&t, &director, aid, "approve", Some("同意调整为黄名单")).await);
    assert_eq!(v["state"], "approved", "{v}");
    assert!(at(&v["closed_at"]) - t0 < Duration::days(10), "{v}");
    assert_eq!(grade_of(&t, w.account_x).await, (Some("yellow".to_string()), Some(7_654_321_099)));
    let h = ok(t.get(&format!("/api/v1/credit/accounts/{}/grade-history", w.account_x), &director).await);
    let items = h["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{h}");
    assert_eq!((items[0]["from_grade"].as_str(), items[0]["to_grade"].as_str()), (Some("black"), Some("yellow")));
    assert_eq!(items[0]["approval_id"], aid);
    let whole = ok(t.get(&format!("/api/v1/credit/changes/{change}"), &director).await);
    assert_eq!(whole["state"], "approved");
    assert_eq!(whole["trigger"]["state"], "closed");
    // The audit of the account carries the change.
    let n: i64 = sqlx::Row::try_get(
        &sqlx::query("SELECT COUNT(*) AS n FROM audit_log WHERE entity = 'account' AND entity_id = $1 AND action = 'credit_change'")
            .bind(w.account_x.to_string())
            .fetch_one(&t.db().pool)
            .await
            .expect("audit"),
        "n",
    )
    .expect("n");
    assert_eq!(n, 1);
    // The rep reads the account's history: the change, without its grade or limit.
    let hist = ok(t.get(&format!("/api/v1/audit?entity=account&id={}", w.account_x), &rep_a).await);
    let e = hist["items"].as_array().expect("items").iter().find(|e| e["what"] == "credit_change").cloned();
    let e = e.unwrap_or_else(|| panic!("the change is in the account's history: {hist}"));
    for word in ["yellow", "black", "76543210"] {
        assert!(!e.to_string().contains(word), "{word} in {e}");
    }
    // Those who may not see credit: no history.
    assert_eq!(
        refused(
            &t.get(&format!("/api/v1/credit/accounts/{}/grade-history", w.account_x), &manager).await,
            StatusCode::FORBIDDEN
        ),
        "forbidden"
    );
}

#[tokio::test]
async fn earlier_steps_of_two_and_three_days_leave_hq_the_cap_and_it_escalates_before_day_ten() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let p = people(&t, &w).await;
    let (director, manager) = (bearer(&w, "director"), bearer(&w, "manager"));
    let tr = ok(propose(&t, &director, w.account_x, Some("red")).await);
    let (trigger, t0) = (tr["id"].as_i64().expect("id"), at(&tr["triggered_at"]));

    // Filed on the second day, verified on the fifth.
    clock::shift_for_tests(Duration::days(2) - Duration::minutes(30));
    let c = ok(file(&t, &manager, trigger, reason()).await);
    assert_eq!(c["filed_late"], false);
    let aid = c["approval_id"].as_i64().expect("approval");
    clock::shift_for_tests(Duration::days(3));
    ok(decide(&t, &p.rka, aid, "approve", None).await);

    // HQ asks 7 days: granted only up to the trigger + 10 days.
    let v = approval(&t, &director, aid).await;
    let opened = at(&v["steps"][1]["opened_at"]);
    assert_eq!(at(&v["steps"][1]["due_at"]) - opened, Duration::days(3));
    let v = ok(extend(&t, &p.mkt, aid, json!(7)).await);
    let hq = &v["steps"][1];
    assert_eq!(at(&hq["due_at"]), t0 + Duration::days(10), "capped: {v}");
    assert!(opened + Duration::days(7) > t0 + Duration::days(10));

    // Day 8½: past the step's own 3 days but extended, and more than a day from the cap.
    clock::shift_for_tests(Duration::days(3) + Duration::hours(12) + Duration::minutes(30));
    assert!(clock::now() - t0 < Duration::days(9));
    assert_eq!(tick(&t).await.1, 0);
    assert!(approval(&t, &director, aid).await["steps"][1]["escalated_at"].is_null());

    // Less than a day before the cap: it escalates at once, once — before day 10.
    clock::shift_for_tests(Duration::hours(12) + Duration::minutes(1));
    assert!(t0 + Duration::days(9) < clock::now() && clock::now() < t0 + Duration::days(10));
    assert_eq!(tick(&t).await.1, 1);
    assert_eq!(tick(&t).await.1, 0, "once");
    let v = approval(&t, &director, aid).await;
    let hq = &v["steps"][1];
    assert!(at(&hq["escalated_at"]) < t0 + Duration::days(10), "{v}");
    assert_eq!(hq["escalated_to"], "gm", "{v}");
    assert_eq!(approval(&t, &p.gm, aid).await["can_decide"], "escalation");
    // The escalation decides before the cap.
    let v = ok(decide(&t, &p.gm, aid, "approve", Some("同意")).await);
    assert_eq!(v["state"], "approved");
    assert_eq!(grade_of(&t, w.account_x).await.0.as_deref(), Some("red"));
}

#[tokio::test]
async fn a_step_that_opens_within_a_day_of_the_cap_escalates_when_it_opens() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let p = people(&t, &w).await;
    let (director, manager) = (bearer(&w, "director"), bearer(&w, "manager"));
    let tr = ok(propose(&t, &director, w.account_x, Some("green")).await);
    let trigger = tr["id"].as_i64().expect("id");
    let t0 = at(&tr["triggered_at"]);
    clock::shift_for_tests(Duration::days(1));
    let aid = ok(file(&t, &manager, trigger, reason()).await)["approval_id"].as_i64().expect("approval");
    // The verification step's own 3 days are not capped; it escalates past them, then is
    // decided late, on day 9½: HQ's step opens with half a day to the cap.
    clock::shift_for_tests(Duration::days(8) + Duration::hours(12));
    assert_eq!(tick(&t).await.1, 1, "verification past its 3 days");
    ok(decide(&t, &p.rka, aid, "approve", None).await);
    let v = approval(&t, &director, aid).await;
    let hq = &v["steps"][1];
    assert_eq!(at(&hq["due_at"]), t0 + Duration::days(10), "{v}");
    assert!(!hq["escalated_at"].is_null(), "escalated as it opened: {v}");
    assert_eq!(tick(&t).await.1, 0, "once");
    // Nothing to extend past the cap.
    assert_eq!(approval(&t, &p.mkt, aid).await["can_extend"], false);
}

#[tokio::test]
async fn an_unfiled_trigger_escalates_to_the_director_after_two_days() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let _p = people(&t, &w).await;
    let (director, manager) = (bearer(&w, "director"), bearer(&w, "manager"));
    // A trigger as the daily passes record it.
    let ctx = Ctx::system();
    let mut tx = t.db().begin().await.expect("tx");
    let id = credit::triggers::record(
        &mut tx,
        &ctx,
        w.account_x,
        CreditTriggerKind::Downgrade,
        None,
        "履约率低于 75%",
        clock::now(),
    )
    .await
    .expect("record")
    .expect("new");
    let again =
        credit::triggers::record(&mut tx, &ctx, w.account_x, CreditTriggerKind::Downgrade, None, "again", clock::now())
            .await
            .expect("record");
    assert_eq!(again, None, "one live trigger per account and kind");
    tx.commit().await.expect("commit");
    let told: Vec<Value> = ok(t.get("/api/v1/notifications", &manager).await)["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|n| n["kind"] == "credit_trigger")
        .cloned()
        .collect();
    assert_eq!(told.len(), 1, "the filer is told");

    clock::shift_for_tests(Duration::days(2) - Duration::minutes(1));
    assert_eq!(credit::triggers::escalate_unfiled(t.db(), clock::now()).await.expect("pass"), 0);
    assert!(to_file(&t, &director).await.is_empty());
    clock::shift_for_tests(Duration::minutes(2));
    assert_eq!(credit::triggers::escalate_unfiled(t.db(), clock::now()).await.expect("pass"), 1);
    assert_eq!(credit::triggers::escalate_unfiled(t.db(), clock::now()).await.expect("pass"), 0, "once");
    let mine = to_file(&t, &director).await;
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!((mine[0]["id"].as_i64(), mine[0]["escalated_to"].as_str()), (Some(id), Some("director")));
    assert_eq!(mine[0]["overdue"], true);
    let n: Vec<Value> = ok(t.get("/api/v1/notifications", &director).await)["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|n| n["kind"] == "credit_trigger_escalated")
        .cloned()
        .collect();
    assert_eq!(n.len(), 1, "{n:?}");
    let audited: i64 = sqlx::Row::try_get(
        &sqlx::query("SELECT COUNT(*) AS n FROM audit_log WHERE entity = 'credit_trigger' AND entity_id = $1 AND action = 'escalate'")
            .bind(id.to_string())
            .fetch_one(&t.db().pool)
            .await
            .expect("audit"),
        "n",
    )
    .expect("n");
    assert_eq!(audited, 1);

    // Filed late by the KA manager; a grade or limit only from those who see credit.
    let limit = json!({"reason": "逾期提交", "proposed_limit": "500000"});
    assert_eq!(refused(&file(&t, &manager, id, limit).await, StatusCode::FORBIDDEN), "forbidden");
    let c = file(&t, &manager, id, json!({"reason": "逾期提交：履约率低于 75%"})).await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.body);
    let c = c.json();
    assert_eq!(c["filed_late"], true);
    let whole = ok(t.get(&format!("/api/v1/credit/changes/{}", c["id"]), &director).await);
    // Filed without a grade, the request carries what the figures give (150万 a year: red).
    assert_eq!(whole["credit"]["to_grade"], "red", "{whole}");
    // Its cap stays the trigger's + 10 days.
    assert_eq!(at(&c["deadline_cap"]) - at(&c["trigger"]["triggered_at"]), Duration::days(10));
}

#[tokio::test]
async fn a_rep_sees_none_of_it_and_a_rejection_closes_the_trigger_with_its_reason() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    plant_black(&t, w.account_x).await;
    let p = people(&t, &w).await;
    let (director, manager, rep_a, region) =
        (bearer(&w, "director"), bearer(&w, "manager"), bearer(&w, "repA"), bearer(&w, "region"));
    // The region's KA manager is the account's KA manager: they file, the region's head verifies.
    sqlx::query("UPDATE accounts SET ka_manager_id = $1 WHERE id = $2")
        .bind(uid(&t, "rka").await)
        .bind(w.account_x)
        .execute(&t.db().pool)
        .await
        .expect("ka manager");
    let trigger = ok(propose(&t, &director, w.account_x, Some("yellow")).await)["id"].as_i64().expect("id");
    assert!(to_file(&t, &manager).await.is_empty(), "the account's own KA manager files, not the owner's manager");
    assert_eq!(refused(&file(&t, &manager, trigger, reason()).await, StatusCode::FORBIDDEN), "forbidden");
    let c = ok(file(&t, &p.rka, trigger, reason()).await);
    let (change, aid) = (c["id"].as_i64().expect("id"), c["approval_id"].as_i64().expect("approval"));
    assert_eq!(waiting(&t, &region).await, vec![aid], "the head of the region verifies");
    assert!(waiting(&t, &p.rka).await.is_empty());

    // A rep: nothing of it.
    assert_eq!(t.get(&format!("/api/v1/credit/changes/{change}"), &rep_a).await.status, StatusCode::NOT_FOUND);
    assert_eq!(t.get(&format!("/api/v1/approvals/{aid}"), &rep_a).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        refused(
            &t.get(&format!("/api/v1/credit/accounts/{}/triggers", w.account_x), &rep_a).await,
            StatusCode::FORBIDDEN
        ),
        "forbidden"
    );
    assert!(to_file(&t, &rep_a).await.is_empty());
    // The branch manager rejects at verification: closed with the reason, nothing changed.
    let v = ok(decide(&t, &region, aid, "reject", Some("回款已恢复正常，无需调整")).await);
    assert_eq!(v["state"], "rejected");
    assert_eq!(grade_of(&t, w.account_x).await, (Some("black".to_string()), Some(7_654_321_099)));
    let seen = ok(t.get(&format!("/api/v1/credit/changes/{change}"), &p.rka).await);
    let tr = &seen["trigger"];
    assert_eq!(tr["state"], "closed", "{seen}");
    assert_eq!(tr["outcome"], "rejected: 回款已恢复正常，无需调整");
    assert!(tr["proposed_grade"].is_null() && seen["credit"].is_null(), "no grade for a KA manager: {seen}");
    assert_eq!(seen["close_reason"], "回款已恢复正常，无需调整");
    let ts = ok(t.get(&format!("/api/v1/credit/accounts/{}/triggers", w.account_x), &director).await);
    assert_eq!(ts["items"][0]["proposed_grade"], "yellow", "{ts}");

    // Nothing of a grade or limit in any notification or history a rep or KA manager reads.
    for who in [&rep_a, &manager, &p.rka] {
        let n = t.get("/api/v1/notifications", who).await.body;
        for word in ["yellow", "black", "黄名单", "黑名单", "7654321", "76543210", "987654"] {
            assert!(!n.contains(word), "{word} in {n}");
        }
    }
    // The filer's own acts in the audit trail: the request, without the grade it proposed.
    let own = ok(t.get("/api/v1/audit", &p.rka).await);
    let filed = own["items"].as_array().expect("items").iter().find(|e| e["entity"] == "credit_change").cloned();
    let filed = filed.unwrap_or_else(|| panic!("the filing is audited: {own}"));
    assert!(filed["after"]["proposed_grade"].is_null() && filed["after"]["reason"].is_string(), "{filed}");
}

#[tokio::test]
async fn a_step_extension_beyond_its_days_or_on_an_unknown_role_is_refused_on_the_flow_form() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let admin = bearer(&w, "admin");
    let put = |body: Value| {
        let t = &t;
        let admin = admin.clone();
        async move { t.call(Method::PUT, "/api/v1/flows/credit_change", &admin, Some(body)).await }
    };
    let r = put(json!({"steps": [
        {"role": "ka_manager", "scope": "region_ka", "days": 3, "extension": {"role": "marketing_director", "max_days": 3}},
        {"role": "ka_director", "scope": "hq", "days": 3, "extension": {"role": "wizard", "max_days": 91}}
    ], "max_total_days": 10}))
    .await;
    assert_eq!(
        fields(&r),
        field_map(&[
            ("steps[0].extension.max_days", "extension_range"),
            ("steps[1].extension.role", "unknown_role"),
            ("steps[1].extension.max_days", "extension_range"),
        ])
    );
    let flows = ok(t.get("/api/v1/flows", &admin).await);
    let cc =
        flows["items"].as_array().expect("items").iter().find(|f| f["flow"] == "credit_change").expect("flow").clone();
    assert_eq!(cc["version"], 1, "nothing saved");
    assert_eq!(cc["definition"]["steps"][1]["extension"]["max_days"], 7, "{cc}");
    assert!(cc["definition"]["steps"][0].get("extension").is_none(), "{cc}");
    // A sound per-step extension saves.
    let v = ok(put(json!({"steps": [
        {"role": "ka_manager", "scope": "region_ka", "days": 2},
        {"role": "ka_director", "scope": "hq", "days": 3, "extension": {"role": "marketing_director", "max_days": 6}}
    ], "max_total_days": 10}))
    .await);
    assert_eq!(v["version"], 2, "{v}");
}

fn session(sid: &str) -> Auth {
    Auth::Session { cookie: sid.to_string(), csrf: String::new() }
}

#[tokio::test]
async fn the_pages_file_from_the_list_and_show_credit_only_to_those_who_see_it() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    plant_black(&t, w.account_x).await;
    let _p = people(&t, &w).await;
    let director = bearer(&w, "director");
    let trigger = ok(propose(&t, &director, w.account_x, Some("yellow")).await)["id"].as_i64().expect("id");

    // The KA manager's approvals page points to the list; the list files the request.
    let (mgr, csrf) = t.ui_login("manager", crate::common::PASSWORD, None).await.expect("manager signs in");
    let page = t.get("/approvals", &session(&mgr)).await;
    assert!(page.body.contains("id=\"credit-triggers-link\""), "{}", page.body);
    let list = t.get("/credit/triggers", &session(&mgr)).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert!(list.body.contains(&format!("id=\"t-{trigger}\"")) && list.body.contains("北京星河精密制造有限公司"));
    assert!(!list.body.contains("黄名单"), "no grade for the KA manager");
    let r = t.ui_post(&format!("/credit/triggers/{trigger}/filing"), &mgr, &[("_csrf", &csrf), ("reason", "")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = t
        .ui_post(
            &format!("/credit/triggers/{trigger}/filing"),
            &mgr,
            &[("_csrf", &csrf), ("reason", "回款放缓，申请调整")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let to = r.headers.get("location").and_then(|v| v.to_str().ok()).expect("location").to_string();
    let path = to.split('?').next().expect("path").to_string();
    assert!(path.starts_with("/approvals/"), "{to}");

    // The verifier reads the request without grades; the director with them.
    let (rka, _) = t.ui_login("rka", "credit-pass-1", None).await.expect("rka signs in");
    let page = t.get(&path, &session(&rka)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("信用信息仅主管及以上可见"), "{}", page.body);
    assert!(page.body.contains("回款放缓，申请调整"), "the reason");
    for word in ["黄名单", "黑名单", "76,543,210", "76543210", "987654"] {
        assert!(!page.body.contains(word), "{word} shown to a KA manager");
    }
    // The request printed (A4, the seed's 申请表): the same subject, the same hiding.
    assert!(page.body.contains(&format!("href=\"{path}/print\"")), "{}", page.body);
    let print = t.get(&format!("{path}/print"), &session(&rka)).await;
    assert_eq!(print.status, StatusCode::OK, "{}", print.body);
    assert!(
        print.body.contains("/static/print.css") && print.body.contains("大客户信用等级变更申请表"),
        "{}",
        print.body
    );
    assert!(print.body.contains("回款放缓，申请调整") && print.body.contains("信用信息仅主管及以上可见"));
    for word in ["黄名单", "黑名单", "76,543,210", "76543210", "987654"] {
        assert!(!print.body.contains(word), "{word} printed for a KA manager");
    }
    let (dir, _) = t.ui_login("director", crate::common::PASSWORD, None).await.expect("director signs in");
    let page = t.get(&path, &session(&dir)).await;
    assert!(page.body.contains("黄名单") && page.body.contains("黑名单"), "{}", page.body);
    assert!(!page.body.contains("信用信息仅主管及以上可见"));
    let print = t.get(&format!("{path}/print"), &session(&dir)).await;
    assert!(print.body.contains("黄名单") && print.body.contains("黑名单"), "{}", print.body);
    let (rep, _) = t.ui_login("repA", crate::common::PASSWORD, None).await.expect("rep signs in");
    assert_eq!(t.get(&format!("{path}/print"), &session(&rep)).await.status, StatusCode::NOT_FOUND);

    // The proposal form: grades for those who see credit; none for a KA manager; no rep.
    let form = t.get(&format!("/accounts/{}/credit-review", w.account_x), &session(&dir)).await;
    assert!(form.body.contains("name=\"proposed_grade\""), "{}", form.body);
    let form = t.get(&format!("/accounts/{}/credit-review", w.account_x), &session(&mgr)).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(!form.body.contains("name=\"proposed_grade\""));
    let r = t
        .ui_post(&format!("/accounts/{}/credit-review", w.account_x), &mgr, &[("_csrf", &csrf), ("note", "建议复核")])
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "one live proposal per account: {}", r.body);
    assert!(r.body.contains("已有一项未结束的同类信用调整触发") && r.body.contains("建议复核"), "{}", r.body);
    let (rep, _) = t.ui_login("repA", crate::common::PASSWORD, None).await.expect("rep signs in");
    assert_eq!(
        t.get(&format!("/accounts/{}/credit-review", w.account_x), &session(&rep)).await.status,
        StatusCode::FORBIDDEN
    );
}
