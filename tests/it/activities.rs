//! Visits and activities: the effective-visit rule, bad input and who may change a record, the
//! counts by the owner's own day and week, targets, follow-ups after visits to key accounts,
//! the development record, team statistics, the weekly visit plan, and contacts' attitudes.
use std::collections::BTreeMap;

use axum::http::{Method, StatusCode};
use chrono::{DateTime, Datelike, Duration, NaiveDate, SecondsFormat, Utc};
use serde_json::{json, Value};

use crate::common::{fields, seed, Auth, Resp, TestApp, World, PASSWORD};

fn bearer(w: &World, user: &str) -> Auth {
    Auth::Bearer(w.tokens[user].clone())
}

/// An instant as RFC 3339 in UTC, to the second.
fn rfc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn minutes_ago(m: i64) -> DateTime<Utc> {
    Utc::now() - Duration::minutes(m)
}

/// The local day of an instant for a user in Shanghai (everyone's zone unless they chose one).
fn shanghai_day(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&chrono_tz::Asia::Shanghai).date_naive()
}

fn monday(d: NaiveDate) -> NaiveDate {
    d - Duration::days(d.weekday().num_days_from_monday() as i64)
}

fn ymd(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn id_of(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("id in {v}"))
}

/// The code a 422 gives for one field.
fn field_code(r: &Resp, field: &str) -> String {
    fields(r).get(field).cloned().unwrap_or_else(|| panic!("{field} named in {}", r.body))
}

async fn post(t: &TestApp, who: &Auth, body: Value) -> Resp {
    t.call(Method::POST, "/api/v1/activities", who, Some(body)).await
}

async fn record(t: &TestApp, who: &Auth, body: Value) -> Value {
    let r = post(t, who, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.json()
}

async fn patch(t: &TestApp, who: &Auth, id: i64, body: Value) -> Resp {
    t.call(Method::PATCH, &format!("/api/v1/activities/{id}"), who, Some(body)).await
}

async fn patched(t: &TestApp, who: &Auth, id: i64, body: Value) -> Value {
    let r = patch(t, who, id, body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()
}

async fn delete(t: &TestApp, who: &Auth, id: i64) -> Resp {
    t.call(Method::DELETE, &format!("/api/v1/activities/{id}"), who, None).await
}

async fn fetch(t: &TestApp, who: &Auth, id: i64) -> Value {
    let r = t.get(&format!("/api/v1/activities/{id}"), who).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()
}

/// Ids of the activities a user's list shows (with an optional query).
async fn list_ids(t: &TestApp, who: &Auth, query: &str) -> Vec<i64> {
    let r = t.get(&format!("/api/v1/activities?limit=200&{query}"), who).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()["items"].as_array().expect("items").iter().map(id_of).collect()
}

/// Every activity there is (the director sees all).
async fn count_all(t: &TestApp, w: &World) -> usize {
    list_ids(t, &bearer(w, "director"), "").await.len()
}

/// Establishes an opportunity (立项 with the evaluation's four answers).
async fn establish(t: &TestApp, w: &World, who: &str, account: i64, name: &str) -> Value {
    let body = json!({
        "account_id": account, "name": name, "amount": "800000.00", "expected_close": "2031-06-30",
        "eval_need": "产线扩能", "eval_budget": "年度预算已批", "eval_timeline": "三季度下单",
        "eval_decision_makers": "总经理、采购部",
    });
    let r = t.call(Method::POST, "/api/v1/opportunities", &bearer(w, who), Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.json()
}

/// A done visit that solved a problem the record names: effective.
fn solved(account: i64, at: &str) -> Value {
    json!({
        "account_id": account, "kind": "visit", "status": "done", "occurred_at": at,
        "outcome": "problem_solved", "problems": "设备校准偏差，现场重新标定",
    })
}

/// A done phone call with nothing to show for it.
fn call(account: i64, at: &str) -> Value {
    json!({"account_id": account, "kind": "phone", "status": "done", "occurred_at": at, "outcome": "none"})
}

async fn stats(t: &TestApp, who: &Auth, week: &str) -> Value {
    let r = t.get(&format!("/api/v1/reports/visits?week={week}"), who).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()
}

fn person<'a>(s: &'a Value, username: &str) -> &'a Value {
    s["people"]
        .as_array()
        .expect("people")
        .iter()
        .find(|p| p["username"] == username)
        .unwrap_or_else(|| panic!("{username} in {s}"))
}

fn usernames(s: &Value) -> Vec<String> {
    s["people"].as_array().expect("people").iter().map(|p| p["username"].as_str().expect("u").to_string()).collect()
}

fn group<'a>(s: &'a Value, list: &str, key: &str) -> &'a Value {
    s[list].as_array().expect(list).iter().find(|g| g["key"] == key).unwrap_or_else(|| panic!("{key} in {list}: {s}"))
}

/// One count of each day of the week, Monday first.
fn per_day(p: &Value, key: &str) -> Vec<i64> {
    p["days"].as_array().expect("days").iter().map(|d| d[key].as_i64().expect("count")).collect()
}

async fn follow_ups(t: &TestApp, who: &Auth, query: &str) -> Vec<Value> {
    let r = t.get(&format!("/api/v1/follow-ups?{query}"), who).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()["items"].as_array().expect("items").clone()
}

fn follow_up_ids(items: &[Value]) -> Vec<i64> {
    items.iter().map(|f| f["activity_id"].as_i64().expect("activity_id")).collect()
}

/// Ids of the activities on each day of a calendar week, Monday first.
fn calendar_ids(cal: &Value) -> Vec<Vec<i64>> {
    cal["days"]
        .as_array()
        .expect("days")
        .iter()
        .map(|d| d["items"].as_array().expect("items").iter().map(id_of).collect())
        .collect()
}

async fn calendar(t: &TestApp, who: &Auth, query: &str) -> Value {
    let r = t.get(&format!("/api/v1/activities/calendar?{query}"), who).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()
}

async fn development(t: &TestApp, who: &Auth, account: i64) -> Value {
    let r = t.get(&format!("/api/v1/accounts/{account}/development"), who).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()
}

async fn put_targets(t: &TestApp, who: &Auth, sales_type: &str, body: Value) -> Resp {
    t.call(Method::PUT, &format!("/api/v1/activity-targets/{sales_type}"), who, Some(body)).await
}

async fn contact(t: &TestApp, who: &Auth, id: i64) -> Value {
    let r = t.get(&format!("/api/v1/contacts/{id}"), who).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()
}

/// The changes of attitude and relationship the account page lists under its relationship map.
async fn relmap_changes(t: &TestApp, session: &Auth, path: &str) -> String {
    let page = t.get(path, session).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let start = page.body.find("id=\"relmap-changes\"").expect("the changes section");
    let section = &page.body[start..];
    let end = section.find("</table>").or_else(|| section.find("</p>")).unwrap_or(section.len());
    section[..end].to_string()
}

async fn new_account(t: &TestApp, who: &Auth, name: &str) -> i64 {
    let r = t.call(Method::POST, "/api/v1/accounts", who, Some(json!({"name": name, "industry": "other"}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    id_of(&r.json())
}

#[tokio::test]
async fn an_effective_visit_is_done_face_to_face_and_found_advanced_or_solved_something_the_record_backs() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = bearer(&w, "repA");
    let opp = establish(&t, &w, "repA", w.account_x, "三坐标测量机扩产项目").await;
    let oid = id_of(&opp);

    // A visit that found an opportunity, linked: effective.
    let found = record(
        &t,
        &rep,
        json!({"account_id": w.account_x, "kind": "visit", "status": "done", "occurred_at": "2026-11-20T02:00:00Z",
            "outcome": "opportunity_found", "opportunity_id": oid, "summary": "客户确认扩产需求"}),
    )
    .await;
    assert_eq!(found["effective"], true, "{found}");
    assert_eq!(found["status"], "done");
    assert_eq!(found["owner"], "repA");
    assert_eq!(found["opportunity_id"], oid);
    assert_eq!(found["opportunity_name"], "三坐标测量机扩产项目");
    assert_eq!(found["account_id"], w.account_x);
    assert_eq!(found["local_day"], "2026-11-20");
    assert_eq!(found["week"], "2026-11-16");
    assert_eq!(found["version"], 1);
    assert!(found["occurred_at"].as_str().expect("occurred_at").starts_with("2026-11-20T02:00:00"), "{found}");

    // The same outcome by phone is a contact, not an effective visit.
    let phone = record(
        &t,
        &rep,
        json!({"account_id": w.account_x, "kind": "phone", "status": "done", "occurred_at": "2026-11-20T03:00:00Z",
            "outcome": "opportunity_found", "opportunity_id": oid}),
    )
    .await;
    assert_eq!(phone["effective"], false, "{phone}");

    // A meeting counts as face to face.
    let meeting = record(
        &t,
        &rep,
        json!({"account_id": w.account_x, "kind": "meeting", "status": "done", "occurred_at": "2026-11-20T05:00:00Z",
            "outcome": "opportunity_advanced", "opportunity_id": oid}),
    )
    .await;
    assert_eq!(meeting["effective"], true, "{meeting}");

    // Solving a problem the record names.
    let problem = record(&t, &rep, solved(w.account_x, "2026-11-20T06:00:00Z")).await;
    assert_eq!(problem["effective"], true, "{problem}");
    assert_eq!(problem["problems"], "设备校准偏差，现场重新标定");

    // A visit nothing came of.
    let nothing = record(
        &t,
        &rep,
        json!({"account_id": w.account_x, "kind": "visit", "status": "done", "occurred_at": "2026-11-20T07:00:00Z",
            "outcome": "none", "opportunity_id": oid, "problems": "无"}),
    )
    .await;
    assert_eq!(nothing["effective"], false, "{nothing}");

    // Claims the record does not back are refused by field, and nothing is written.
    let before = count_all(&t, &w).await;
    let r = post(
        &t,
        &rep,
        json!({"account_id": w.account_x, "kind": "visit", "status": "done", "occurred_at": "2026-11-20T08:00:00Z",
            "outcome": "opportunity_found"}),
    )
    .await;
    assert_eq!(field_code(&r, "opportunity_id"), "outcome_needs_opportunity");
    let r = post(
        &t,
        &rep,
        json!({"account_id": w.account_x, "kind": "visit", "status": "done", "occurred_at": "2026-11-20T08:00:00Z",
            "outcome": "opportunity_advanced", "opportunity_id": null}),
    )
    .await;
    assert_eq!(field_code(&r, "opportunity_id"), "outcome_needs_opportunity");
    let mut no_problem = solved(w.account_x, "2026-11-20T08:00:00Z");
    no_problem.as_object_mut().expect("object").remove("problems");
    let r = post(&t, &rep, no_problem).await;
    assert_eq!(field_code(&r, "problems"), "outcome_needs_problem");
    let mut blank_problem = solved(w.account_x, "2026-11-20T08:00:00Z");
    blank_problem["problems"] = json!("   ");
    let r = post(&t, &rep, blank_problem).await;
    assert_eq!(field_code(&r, "problems"), "outcome_needs_problem", "whitespace names no problem");
    assert_eq!(count_all(&t, &w).await, before, "nothing written");

    // Planned is not yet effective, whatever it hopes for; a plan needs its time.
    let planned_at = rfc(Utc::now() + Duration::days(7));
    let plan = record(
        &t,
        &rep,
        json!({"account_id": w.account_x, "kind": "visit", "status": "planned", "planned_at": planned_at,
            "outcome": "opportunity_advanced", "opportunity_id": oid, "objective": "技术交流"}),
    )
    .await;
    assert_eq!(plan["effective"], false, "{plan}");
    assert_eq!(plan["status"], "planned");
    assert_eq!(plan["occurred_at"], Value::Null);
    let r = post(&t, &rep, json!({"account_id": w.account_x, "kind": "visit", "status": "planned"})).await;
    assert_eq!(field_code(&r, "planned_at"), "required");

    // Completing it without a time would record it at its planned time, still ahead.
    let r = patch(&t, &rep, id_of(&plan), json!({"version": 1, "status": "done"})).await;
    assert_eq!(field_code(&r, "occurred_at"), "done_in_future");
    // Completed now, with what it advanced: effective.
    let done_at = minutes_ago(1);
    let done = patched(
        &t,
        &rep,
        id_of(&plan),
        json!({"version": 1, "status": "done", "occurred_at": rfc(done_at), "summary": "样机演示完成"}),
    )
    .await;
    assert_eq!(done["effective"], true, "{done}");
    assert_eq!(done["status"], "done");
    assert_eq!(done["version"], 2);
    assert_eq!(done["local_day"], ymd(shanghai_day(done_at)));
    assert_eq!(fetch(&t, &rep, id_of(&plan)).await["effective"], true);

    let mut effective = list_ids(&t, &rep, "effective=1").await;
    effective.sort();
    assert_eq!(effective, vec![id_of(&found), id_of(&meeting), id_of(&problem), id_of(&plan)]);

    // A record cannot lose what backs its outcome; changed to a call it stops counting.
    let r = patch(&t, &rep, id_of(&problem), json!({"version": 1, "problems": ""})).await;
    assert_eq!(field_code(&r, "problems"), "outcome_needs_problem");
    let r = patch(&t, &rep, id_of(&found), json!({"version": 1, "opportunity_id": null})).await;
    assert_eq!(field_code(&r, "opportunity_id"), "outcome_needs_opportunity");
    let m = patched(&t, &rep, id_of(&meeting), json!({"version": 1, "kind": "phone"})).await;
    assert_eq!(m["effective"], false, "{m}");
    assert_eq!(list_ids(&t, &rep, "effective=1").await.len(), 3);
    assert_eq!(list_ids(&t, &rep, "effective=0").await.len(), 3, "the phone call, the visit of nothing, the meeting");
}

#[tokio::test]
async fn bad_input_is_refused_by_field_and_only_the_owner_or_their_manager_changes_a_record() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = bearer(&w, "repA");
    let before = count_all(&t, &w).await;

    // Done, but in the future.
    let r = post(&t, &rep, solved(w.account_x, &rfc(Utc::now() + Duration::hours(2)))).await;
    assert_eq!(field_code(&r, "occurred_at"), "done_in_future");
    // Ending before (or when) it starts, or lasting more than a day.
    for end in ["2026-11-20T01:00:00Z", "2026-11-20T02:00:00Z"] {
        let mut b = solved(w.account_x, "2026-11-20T02:00:00Z");
        b["ends_at"] = json!(end);
        let r = post(&t, &rep, b).await;
        assert_eq!(field_code(&r, "ends_at"), "end_before_start", "{end}");
    }
    let mut b = solved(w.account_x, "2026-11-20T02:00:00Z");
    b["ends_at"] = json!("2026-11-21T03:00:00Z");
    assert_eq!(field_code(&post(&t, &rep, b).await, "ends_at"), "too_long");
    // Not a time at all.
    let r = post(&t, &rep, solved(w.account_x, "next tuesday")).await;
    assert_eq!(field_code(&r, "occurred_at"), "time_format");
    // Unknown kind, status, outcome, attitude.
    let mut b = solved(w.account_x, "2026-11-20T02:00:00Z");
    b["kind"] = json!("fax");
    b["customer_attitude"] = json!("hostile");
    let f = fields(&post(&t, &rep, b).await);
    assert_eq!(f.get("kind").map(String::as_str), Some("invalid_choice"), "{f:?}");
    assert_eq!(f.get("customer_attitude").map(String::as_str), Some("invalid_choice"), "{f:?}");
    let mut b = solved(w.account_x, "2026-11-20T02:00:00Z");
    b["status"] = json!("cancelled");
    assert_eq!(field_code(&post(&t, &rep, b).await, "status"), "invalid_choice");
    // Fields that are not the record's, or are the system's.
    let mut b = solved(w.account_x, "2026-11-20T02:00:00Z");
    b["mood"] = json!("good");
    b["effective"] = json!(true);
    b["follow_up_due"] = json!("2026-11-27");
    let f = fields(&post(&t, &rep, b).await);
    assert_eq!(f.get("mood").map(String::as_str), Some("unknown_field"), "{f:?}");
    assert_eq!(f.get("effective").map(String::as_str), Some("forbidden_field"), "{f:?}");
    assert_eq!(f.get("follow_up_due").map(String::as_str), Some("forbidden_field"), "{f:?}");
    let mut b = solved(w.account_x, "2026-11-20T02:00:00Z");
    b["version"] = json!(1);
    assert_eq!(field_code(&post(&t, &rep, b).await, "version"), "forbidden_field");
    let r = post(&t, &rep, json!({"kind": "visit", "status": "done"})).await;
    assert_eq!(field_code(&r, "account_id"), "required");

    // A contact of another account, or an attitude that is not one.
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/accounts/{}/contacts", w.account_c),
            &bearer(&w, "repC"),
            Some(json!({"name": "李明"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let contact_c = id_of(&r.json());
    let mut b = solved(w.account_x, "2026-11-20T02:00:00Z");
    b["contacts"] = json!([{"contact_id": contact_c, "attitude": "supporter"}]);
    assert_eq!(field_code(&post(&t, &rep, b).await, "contacts"), "contact_other_account");
    let mut b = solved(w.account_x, "2026-11-20T02:00:00Z");
    b["contacts"] = json!([{"contact_id": w.contact_x, "attitude": "enemy"}]);
    assert_eq!(field_code(&post(&t, &rep, b).await, "contacts"), "invalid_choice");
    let mut b = solved(w.account_x, "2026-11-20T02:00:00Z");
    b["contacts"] = json!([{"contact_id": w.contact_x}, {"contact_id": w.contact_x}]);
    assert_eq!(field_code(&post(&t, &rep, b).await, "contacts"), "duplicate_contact");
    let mut b = solved(w.account_x, "2026-11-20T02:00:00Z");
    b["contacts"] = json!("王志远");
    assert_eq!(field_code(&post(&t, &rep, b).await, "contacts"), "expected_contact_list");

    // An opportunity the rep may not see (repC's, on account_c).
    let opp_c = establish(&t, &w, "repC", w.account_c, "上海东方仪器改造").await;
    let r = post(
        &t,
        &rep,
        json!({"account_id": w.account_x, "kind": "visit", "status": "done", "occurred_at": "2026-11-20T02:00:00Z",
            "outcome": "opportunity_found", "opportunity_id": id_of(&opp_c)}),
    )
    .await;
    assert!(
        r.status == StatusCode::NOT_FOUND
            || (r.status == StatusCode::UNPROCESSABLE_ENTITY && fields(&r).contains_key("opportunity_id")),
        "{} {}",
        r.status,
        r.body
    );
    // repC's own opportunity linked to a visit of another account.
    let acc_c2 = new_account(&t, &bearer(&w, "repC"), "上海浦江检测有限公司").await;
    let mut b = solved(acc_c2, "2026-11-20T02:00:00Z");
    b["opportunity_id"] = json!(id_of(&opp_c));
    assert_eq!(field_code(&post(&t, &bearer(&w, "repC"), b).await, "opportunity_id"), "opportunity_other_account");
    // An account the rep does not see, or that does not exist.
    let r = post(&t, &rep, solved(w.account_c, "2026-11-20T02:00:00Z")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = post(&t, &rep, solved(999_999, "2026-11-20T02:00:00Z")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert_eq!(count_all(&t, &w).await, before, "nothing written by any refused request");

    // Changes need the version they were based on.
    let v = record(&t, &rep, solved(w.account_x, "2026-11-20T02:00:00Z")).await;
    let id = id_of(&v);
    let r = patch(&t, &rep, id, json!({"summary": "补充纪要"})).await;
    assert_eq!(field_code(&r, "version"), "required");
    let v2 = patched(&t, &rep, id, json!({"version": 1, "summary": "补充纪要"})).await;
    assert_eq!(v2["version"], 2);
    assert_eq!(v2["summary"], "补充纪要");
    let r = patch(&t, &rep, id, json!({"version": 1, "summary": "过期的修改"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(fetch(&t, &rep, id).await["summary"], "补充纪要", "the stale change was not applied");
    let r = patch(&t, &rep, id, json!({"version": 2, "account_id": w.account_c})).await;
    assert_eq!(field_code(&r, "account_id"), "forbidden_field");
    let r = patch(&t, &rep, id, json!({"version": 2, "owner": "repB"})).await;
    assert_eq!(field_code(&r, "owner"), "forbidden_field");

    // repB does not see repA's account: the record does not exist for them.
    let rep_b = bearer(&w, "repB");
    let r = t.get(&format!("/api/v1/activities/{id}"), &rep_b).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = patch(&t, &rep_b, id, json!({"version": 2, "summary": "repB 的修改"})).await;
    assert!(matches!(r.status, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN), "{} {}", r.status, r.body);
    // On the account team repB sees it, but it is still repA's record.
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/accounts/{}/team", w.account_x),
            &bearer(&w, "manager"),
            Some(json!({"username": "repB"})),
        )
        .await;
    assert!(r.status.is_success(), "{} {}", r.status, r.body);
    assert_eq!(fetch(&t, &rep_b, id).await["owner"], "repA");
    let r = patch(&t, &rep_b, id, json!({"version": 2, "summary": "repB 的修改"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = delete(&t, &rep_b, id).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    // repC in another region sees nothing of it.
    let r = patch(&t, &bearer(&w, "repC"), id, json!({"version": 2, "summary": "repC 的修改"})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert_eq!(fetch(&t, &rep, id).await["summary"], "补充纪要");
    assert_eq!(fetch(&t, &rep, id).await["version"], 2);

    // repA's manager may correct it; it stays repA's.
    let v3 =
        patched(&t, &bearer(&w, "manager"), id, json!({"version": 2, "next_steps": "经理：下周带技术支持回访"})).await;
    assert_eq!(v3["owner"], "repA");
    assert_eq!(v3["version"], 3);
    assert_eq!(v3["next_steps"], "经理：下周带技术支持回访");
    assert_eq!(v3["effective"], true);

    // Deleting with a stale version is refused; then it leaves every list.
    let r = t.call(Method::DELETE, &format!("/api/v1/activities/{id}?version=2"), &rep, None).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let r = t.call(Method::DELETE, &format!("/api/v1/activities/{id}?version=3"), &rep, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = t.get(&format!("/api/v1/activities/{id}"), &rep).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert_eq!(count_all(&t, &w).await, before);
}

#[tokio::test]
async fn daily_and_weekly_counts_follow_the_owners_own_day_and_week() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep_a = bearer(&w, "repA");
    let rep_b = bearer(&w, "repB");
    let manager = bearer(&w, "manager");

    // repB works from New York; a zone that does not exist is refused.
    let r = t.call(Method::PUT, "/api/v1/me/time-zone", &rep_b, Some(json!({"time_zone": "Mars/Olympus"}))).await;
    assert_eq!(field_code(&r, "time_zone"), "unknown_time_zone");
    let r = t.call(Method::PUT, "/api/v1/me/time-zone", &rep_b, Some(json!({"time_zone": "America/New_York"}))).await;
    assert!(r.status.is_success(), "{} {}", r.status, r.body);
    let acc_b = new_account(&t, &rep_b, "天津华研检测技术有限公司").await;

    // The same instant, Sunday 17:30 UTC: Monday 01:30 in Shanghai (a new week), still Sunday
    // 12:30 in New York (the week before).
    let a = record(&t, &rep_a, solved(w.account_x, "2026-11-22T17:30:00Z")).await;
    assert_eq!((a["local_day"].as_str(), a["week"].as_str()), (Some("2026-11-23"), Some("2026-11-23")), "{a}");
    let b = record(&t, &rep_b, solved(acc_b, "2026-11-22T17:30:00Z")).await;
    assert_eq!((b["local_day"].as_str(), b["week"].as_str()), (Some("2026-11-22"), Some("2026-11-16")), "{b}");
    // A local time without an offset is the owner's: Friday 21:30 in New York.
    let c = record(&t, &rep_b, call(acc_b, "2026-11-20T21:30")).await;
    assert!(c["occurred_at"].as_str().expect("occurred_at").starts_with("2026-11-21T02:30:00"), "{c}");
    assert_eq!(c["local_day"], "2026-11-20");
    // …and repA's local time is Shanghai's.
    let d = record(&t, &rep_a, call(w.account_x, "2026-11-20T08:15")).await;
    assert!(d["occurred_at"].as_str().expect("occurred_at").starts_with("2026-11-20T00:15:00"), "{d}");
    assert_eq!(d["local_day"], "2026-11-20");

    // The calendar puts each on its owner's day.
    let cal = calendar(&t, &manager, "owner=repB&week=2026-11-16").await;
    assert_eq!(cal["owner"], "repB");
    assert_eq!(cal["week"], "2026-11-16");
    assert_eq!(cal["days"][6]["day"], "2026-11-22");
    assert_eq!(calendar_ids(&cal), vec![vec![], vec![], vec![], vec![], vec![id_of(&c)], vec![], vec![id_of(&b)]]);
    let cal = calendar(&t, &manager, "team=1&week=2026-11-23").await;
    assert_eq!(cal["owner"], Value::Null);
    assert_eq!(calendar_ids(&cal), vec![vec![id_of(&a)], vec![], vec![], vec![], vec![], vec![], vec![]]);
    let cal = calendar(&t, &manager, "team=1&week=2026-11-16").await;
    assert_eq!(calendar_ids(&cal)[4], vec![id_of(&d), id_of(&c)], "Friday: repA's morning, then repB's evening");
    assert_eq!(calendar_ids(&cal)[6], vec![id_of(&b)]);
    let cal = calendar(&t, &rep_a, "week=2026-11-23").await;
    assert_eq!(cal["owner"], "repA");
    assert_eq!(calendar_ids(&cal)[0], vec![id_of(&a)]);
    // Nobody else's calendar for a rep, nor one outside the manager's people.
    let r = t.get("/api/v1/activities/calendar?owner=repB&week=2026-11-16", &rep_a).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = t.get("/api/v1/activities/calendar?owner=repC&week=2026-11-16", &manager).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);

    // The manager correcting repB's record gives the time in repB's zone, not his own:
    // Saturday 20:00 in New York.
    let c2 = patched(&t, &manager, id_of(&c), json!({"version": 1, "occurred_at": "2026-11-21T20:00"})).await;
    assert!(c2["occurred_at"].as_str().expect("occurred_at").starts_with("2026-11-22T01:00:00"), "{c2}");
    assert_eq!((c2["local_day"].as_str(), c2["week"].as_str()), (Some("2026-11-21"), Some("2026-11-16")));
    let cal = calendar(&t, &manager, "owner=repB&week=2026-11-16").await;
    assert_eq!(calendar_ids(&cal), vec![vec![], vec![], vec![], vec![], vec![], vec![id_of(&c)], vec![id_of(&b)]]);

    // The administrator sets repC's zone: repC's records follow it.
    let admin = bearer(&w, "admin");
    let u = t.get("/api/v1/users/repC", &admin).await;
    assert_eq!(u.status, StatusCode::OK, "{}", u.body);
    let r = t
        .call(
            Method::PATCH,
            "/api/v1/users/repC",
            &admin,
            Some(json!({"version": u.json()["version"], "time_zone": "America/New_York"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["time_zone"], "America/New_York");
    let r =
        t.call(Method::PATCH, "/api/v1/users/repA", &manager, Some(json!({"version": 1, "time_zone": "UTC"}))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let cv = record(&t, &bearer(&w, "repC"), solved(w.account_c, "2026-11-22T17:30:00Z")).await;
    assert_eq!((cv["local_day"].as_str(), cv["week"].as_str()), (Some("2026-11-22"), Some("2026-11-16")));
    // The manager's statistics count each on its owner's day (repC is not his).
    let s = stats(&t, &manager, "2026-11-16").await;
    assert_eq!(s["week"], "2026-11-16");
    assert_eq!(s["days"][0], "2026-11-16");
    assert_eq!(s["days"][6], "2026-11-22");
    assert_eq!(usernames(&s), vec!["manager", "repA", "repB"]);
    let pb = person(&s, "repB");
    assert_eq!(per_day(pb, "effective"), vec![0, 0, 0, 0, 0, 0, 1]);
    assert_eq!(per_day(pb, "calls"), vec![0, 0, 0, 0, 0, 1, 0], "the call the manager moved to Saturday");
    assert_eq!(per_day(pb, "done"), vec![0, 0, 0, 0, 0, 1, 1]);
    assert_eq!((pb["effective"].as_i64(), pb["calls"].as_i64(), pb["done"].as_i64()), (Some(1), Some(1), Some(2)));
    let pa = person(&s, "repA");
    assert_eq!(per_day(pa, "effective"), vec![0; 7]);
    assert_eq!(per_day(pa, "calls"), vec![0, 0, 0, 0, 1, 0, 0]);
    let team = group(&s, "teams", "manager");
    assert_eq!(per_day(team, "effective"), vec![0, 0, 0, 0, 0, 0, 1]);
    assert_eq!(per_day(team, "calls"), vec![0, 0, 0, 0, 1, 1, 0]);
    let s = stats(&t, &manager, "2026-11-23").await;
    assert_eq!(per_day(person(&s, "repA"), "effective"), vec![1, 0, 0, 0, 0, 0, 0]);
    assert_eq!(person(&s, "repA")["effective"], 1);
    assert_eq!(per_day(person(&s, "repB"), "done"), vec![0; 7]);
    // Any day names its week.
    assert_eq!(stats(&t, &manager, "2026-11-25").await["week"], "2026-11-23");
    let r = t.get("/api/v1/reports/visits?week=2026-13-01", &manager).await;
    assert_eq!(field_code(&r, "week"), "date_format");
}

#[tokio::test]
async fn targets_decide_whether_an_outside_sales_week_is_met_and_only_the_heads_set_them() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = bearer(&w, "repA");
    let admin = bearer(&w, "admin");
    let targets = |r: Resp| -> BTreeMap<String, Value> {
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.json()["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| (i["sales_type"].as_str().expect("sales_type").to_string(), i["targets"].clone()))
            .collect()
    };

    // The defaults: 12 effective visits a week, 3 a day; 40 calls a day; follow up in 7 days.
    let defaults = json!({"weekly_effective": 12, "daily_effective": 3, "daily_calls": 40, "follow_up_days": 7});
    let by = targets(t.get("/api/v1/activity-targets", &rep).await);
    assert_eq!(by["ae"], defaults);
    assert_eq!(by["sr"], defaults);

    // A rep, a team manager or finance does not set targets.
    for who in ["repA", "manager", "finance"] {
        let r = put_targets(&t, &bearer(&w, who), "ae", json!({"weekly_effective": 8})).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{who}: {}", r.body);
    }
    // A daily target above the weekly is refused, as are numbers out of range and unknown keys.
    let r = put_targets(&t, &admin, "ae", json!({"daily_effective": 13})).await;
    assert_eq!(field_code(&r, "daily_effective"), "daily_above_weekly");
    let r = put_targets(&t, &admin, "ae", json!({"weekly_effective": 2, "daily_effective": 3})).await;
    assert_eq!(field_code(&r, "daily_effective"), "daily_above_weekly");
    let r = put_targets(&t, &admin, "sr", json!({"daily_calls": 0})).await;
    assert_eq!(field_code(&r, "daily_calls"), "out_of_range");
    let r = put_targets(&t, &admin, "ae", json!({"weekly": 5})).await;
    assert_eq!(field_code(&r, "weekly"), "unknown_field");
    let r = put_targets(&t, &admin, "xx", json!({"weekly_effective": 5})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let by = targets(t.get("/api/v1/activity-targets", &rep).await);
    assert_eq!((&by["ae"], &by["sr"]), (&defaults, &defaults), "nothing changed");

    // repA's week of 2026-11-16 (local times, Shanghai): 3 effective on Monday and Tuesday, 1
    // on Wednesday (and a visit of nothing), a call on Thursday, nothing on Friday, 1 on
    // Saturday.
    let plan: &[(&str, usize)] = &[
        ("2026-11-16", 3),
        ("2026-11-17", 3),
        ("2026-11-18", 1),
        ("2026-11-19", 0),
        ("2026-11-20", 0),
        ("2026-11-21", 1),
    ];
    for (day, n) in plan {
        for i in 0..*n {
            record(&t, &rep, solved(w.account_x, &format!("{day}T{:02}:00", 9 + i))).await;
        }
    }
    record(
        &t,
        &rep,
        json!({"account_id": w.account_x, "kind": "visit", "status": "done", "occurred_at": "2026-11-18T15:00",
            "outcome": "none"}),
    )
    .await;
    record(&t, &rep, call(w.account_x, "2026-11-19T10:00")).await;

    let s = stats(&t, &bearer(&w, "manager"), "2026-11-16").await;
    let p = person(&s, "repA");
    assert_eq!(p["sales_type"], "ae");
    assert_eq!(per_day(p, "effective"), vec![3, 3, 1, 0, 0, 1, 0]);
    assert_eq!(p["effective"], 8);
    assert_eq!(p["done"], 10);
    assert_eq!(p["calls"], 1);
    assert_eq!(p["met"], false, "8 of 12");
    assert_eq!(p["days_below_target"], 3, "Wednesday, Thursday and Friday below 3; the weekend does not count");
    assert_eq!(person(&s, "repB")["met"], false);
    assert_eq!(person(&s, "repB")["days_below_target"], 5);
    assert_eq!(group(&s, "teams", "manager")["target_effective"], 24, "12 each for repA and repB");

    // The administrator lowers them: the same week is met, fewer days fall short.
    let r = put_targets(&t, &admin, "ae", json!({"weekly_effective": 8, "daily_effective": 1})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["weekly_effective"], 8);
    let s = stats(&t, &bearer(&w, "manager"), "2026-11-16").await;
    let p = person(&s, "repA");
    assert_eq!(p["met"], true, "{p}");
    assert_eq!(p["days_below_target"], 2, "Thursday and Friday");
    assert_eq!(p["targets"]["weekly_effective"], 8);
    assert_eq!(p["targets"]["daily_effective"], 1);
    assert_eq!(group(&s, "teams", "manager")["target_effective"], 16);
    // The director raises the weekly target by one: not met any more; the rest stays.
    let r = put_targets(&t, &bearer(&w, "director"), "ae", json!({"weekly_effective": 9})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let s = stats(&t, &rep, "2026-11-16").await;
    assert_eq!(usernames(&s), vec!["repA"]);
    assert_eq!(person(&s, "repA")["met"], false);
    assert_eq!(person(&s, "repA")["targets"]["daily_effective"], 1);
    // Now a daily target of 10 is above the weekly 9.
    let r = put_targets(&t, &admin, "ae", json!({"daily_effective": 10})).await;
    assert_eq!(field_code(&r, "daily_effective"), "daily_above_weekly");
    let by = targets(t.get("/api/v1/activity-targets", &rep).await);
    assert_eq!(by["ae"], json!({"weekly_effective": 9, "daily_effective": 1, "daily_calls": 40, "follow_up_days": 7}));
    assert_eq!(by["sr"], defaults);

    // The rep's own progress today and this week.
    let now = minutes_ago(1);
    record(&t, &rep, solved(w.account_x, &rfc(now))).await;
    let r = t.get("/api/v1/me/visits", &rep).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let p = r.json()["progress"].clone();
    assert_eq!(p["today"]["day"], ymd(shanghai_day(now)));
    assert_eq!(p["today"]["effective"], 1, "{p}");
    assert_eq!(p["week"], ymd(monday(shanghai_day(now))));
    assert_eq!(p["week_effective"], 1);
    assert_eq!(p["targets"]["weekly_effective"], 9);
    let r = t.get("/api/v1/me/today", &rep).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["visits"]["today"]["effective"], 1, "{}", r.body);
}

#[tokio::test]
async fn a_visit_to_a_key_account_asks_for_a_follow_up_within_seven_days_until_a_later_contact() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = bearer(&w, "repA");

    // Ten days ago, a visit to the key account: a follow-up was due three days ago.
    let v1_at = Utc::now() - Duration::days(10);
    let v1 = record(&t, &rep, solved(w.account_x, &rfc(v1_at))).await;
    let due1 = ymd(shanghai_day(v1_at) + Duration::days(7));
    assert_eq!(v1["follow_up_due"], due1.as_str(), "{v1}");
    let f = follow_ups(&t, &rep, "").await;
    assert_eq!(follow_up_ids(&f), vec![id_of(&v1)]);
    assert_eq!(f[0]["due"], due1.as_str());
    assert_eq!(f[0]["visited_on"], ymd(shanghai_day(v1_at)));
    assert_eq!(f[0]["overdue"], true);
    assert_eq!(f[0]["account_id"], w.account_x);
    assert_eq!(f[0]["owner"], "repA");

    // Calls and plans ask for no follow-up; a visit to a prospect (a target account under
    // development) asks for one as a key account's does (issue 22).
    let p0 = record(&t, &rep, call(w.account_x, &rfc(Utc::now() - Duration::days(12)))).await;
    assert_eq!(p0["follow_up_due"], Value::Null);
    let planned = record(
        &t,
        &rep,
        json!({"account_id": w.account_x, "kind": "visit", "status": "planned", "planned_at": rfc(Utc::now() + Duration::days(2))}),
    )
    .await;
    assert_eq!(planned["follow_up_due"], Value::Null);
    let rep_c = bearer(&w, "repC");
    let c_at = Utc::now() - Duration::days(10);
    let c = record(&t, &rep_c, solved(w.account_c, &rfc(c_at))).await;
    assert_eq!(c["follow_up_due"], ymd(shanghai_day(c_at) + Duration::days(7)), "account_c is a prospect");
    assert_eq!(follow_up_ids(&follow_ups(&t, &rep_c, "").await), vec![id_of(&c)]);
    // An earlier call and a plan do not answer the visit.
    assert_eq!(follow_up_ids(&follow_ups(&t, &rep, "").await), vec![id_of(&v1)]);

    // Whoever follows repA sees it; repB does not.
    let f = follow_ups(&t, &bearer(&w, "manager"), "owner=repA").await;
    assert_eq!(follow_up_ids(&f), vec![id_of(&v1)]);
    let r = t.get("/api/v1/follow-ups?owner=repA", &bearer(&w, "repB")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = t.get("/api/v1/me/today", &rep).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(follow_up_ids(r.json()["follow_ups"].as_array().expect("follow_ups")), vec![id_of(&v1)]);
    let r = t.get("/api/v1/me/visits", &rep).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(follow_up_ids(r.json()["follow_ups"].as_array().expect("follow_ups")), vec![id_of(&v1)]);

    // A phone call the day after answers it.
    let p1 = record(&t, &rep, call(w.account_x, &rfc(v1_at + Duration::days(1)))).await;
    assert!(follow_ups(&t, &rep, "").await.is_empty());
    assert_eq!(fetch(&t, &rep, id_of(&v1)).await["followed_up_by"], id_of(&p1));
    // Deleting the call opens it again.
    let r = delete(&t, &rep, id_of(&p1)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let f = follow_ups(&t, &rep, "").await;
    assert_eq!(follow_up_ids(&f), vec![id_of(&v1)]);
    assert_eq!(f[0]["overdue"], true);
    assert_eq!(fetch(&t, &rep, id_of(&v1)).await["followed_up_by"], Value::Null);

    // A visit today answers the old one and asks for its own follow-up in a week.
    let v2_at = minutes_ago(30);
    let v2 = record(&t, &rep, solved(w.account_x, &rfc(v2_at))).await;
    let due2 = ymd(shanghai_day(v2_at) + Duration::days(7));
    assert_eq!(v2["follow_up_due"], due2.as_str());
    let f = follow_ups(&t, &rep, "").await;
    assert_eq!(follow_up_ids(&f), vec![id_of(&v2)]);
    assert_eq!(f[0]["due"], due2.as_str());
    assert_eq!(f[0]["overdue"], false);

    // Completing the planned visit (done a minute ago) answers today's.
    let done = patched(
        &t,
        &rep,
        id_of(&planned),
        json!({"version": 1, "status": "done", "occurred_at": rfc(minutes_ago(1)), "outcome": "none"}),
    )
    .await;
    assert_eq!(fetch(&t, &rep, id_of(&v2)).await["followed_up_by"], id_of(&done));
    let f = follow_ups(&t, &rep, "").await;
    assert_eq!(follow_up_ids(&f), vec![id_of(&done)], "the completed visit asks for its own follow-up");

    // The manager's 1×1 with repA carries them, and repA's week of visits.
    let r = t.get("/api/v1/reports/one-on-one?owner=repA", &bearer(&w, "manager")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let one = r.json();
    assert_eq!(follow_up_ids(one["follow_ups"].as_array().expect("follow_ups")), vec![id_of(&done)]);
    assert_eq!(one["visits"]["username"], "repA", "{one}");
    let same_week = monday(shanghai_day(v2_at)) == monday(shanghai_day(Utc::now()));
    assert_eq!(one["visits"]["effective"], i64::from(same_week), "the visit half an hour ago: {one}");
}

#[tokio::test]
async fn a_visit_recorded_after_the_call_that_followed_it_up_is_not_waiting_for_a_follow_up() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = bearer(&w, "repA");
    // The call two days ago is recorded first; the visit five days ago is written up late.
    let p = record(&t, &rep, call(w.account_x, &rfc(Utc::now() - Duration::days(2)))).await;
    let v = record(&t, &rep, solved(w.account_x, &rfc(Utc::now() - Duration::days(5)))).await;
    assert!(
        follow_ups(&t, &rep, "").await.is_empty(),
        "the call after the visit already followed it up: {:?}",
        follow_ups(&t, &rep, "").await
    );
    assert_eq!(fetch(&t, &rep, id_of(&v)).await["followed_up_by"], id_of(&p));
}

#[tokio::test]
async fn deleting_one_of_two_later_contacts_leaves_the_visit_followed_up() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = bearer(&w, "repA");
    let v = record(&t, &rep, solved(w.account_x, &rfc(Utc::now() - Duration::days(5)))).await;
    let p1 = record(&t, &rep, call(w.account_x, &rfc(Utc::now() - Duration::days(4)))).await;
    record(&t, &rep, call(w.account_x, &rfc(Utc::now() - Duration::days(3)))).await;
    assert!(follow_ups(&t, &rep, "").await.is_empty());
    // The first call was entered by mistake; the second one still followed the visit up.
    let r = delete(&t, &rep, id_of(&p1)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let f = follow_ups(&t, &rep, "").await;
    assert!(f.is_empty(), "visit {} was followed up by the remaining call: {f:?}", id_of(&v));
}

#[tokio::test]
async fn the_development_record_sums_the_accounts_contacts_and_ends_with_the_result() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = bearer(&w, "repA");

    let d = development(&t, &rep, w.account_x).await;
    assert_eq!(d["result"], "not_started", "{d}");
    assert_eq!(d["contacts"], 0);
    assert_eq!(d["first_contact"], Value::Null);

    let opp = establish(&t, &w, "repA", w.account_x, "三坐标测量机扩产项目").await;
    // 90 minutes on site, cold; 20 minutes on the phone, normal; a two-hour meeting, warm, that
    // found the opportunity (local times, Shanghai).
    let mut v = solved(w.account_x, "2026-11-10T10:00");
    v["ends_at"] = json!("2026-11-10T11:30");
    v["customer_attitude"] = json!("cold");
    record(&t, &rep, v).await;
    let mut p = call(w.account_x, "2026-11-12T14:00");
    p["ends_at"] = json!("2026-11-12T14:20");
    p["customer_attitude"] = json!("normal");
    record(&t, &rep, p).await;
    record(
        &t,
        &rep,
        json!({"account_id": w.account_x, "kind": "meeting", "status": "done", "occurred_at": "2026-11-18T09:00",
            "ends_at": "2026-11-18T11:00", "outcome": "opportunity_found", "opportunity_id": id_of(&opp),
            "customer_attitude": "warm"}),
    )
    .await;
    // Neither a plan, nor a deleted record, nor another account's visit counts.
    let planned_at = Utc::now() + Duration::days(3);
    record(
        &t,
        &rep,
        json!({"account_id": w.account_x, "kind": "visit", "status": "planned", "planned_at": rfc(planned_at),
            "ends_at": rfc(planned_at + Duration::hours(3)), "customer_attitude": "warm"}),
    )
    .await;
    let mut gone = call(w.account_x, "2026-11-19T10:00");
    gone["ends_at"] = json!("2026-11-19T12:00");
    gone["customer_attitude"] = json!("cold");
    let gone = record(&t, &rep, gone).await;
    let r = delete(&t, &rep, id_of(&gone)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let mut other = solved(w.account_c, "2026-11-08T10:00");
    other["ends_at"] = json!("2026-11-08T18:00");
    record(&t, &bearer(&w, "repC"), other).await;

    let d = development(&t, &rep, w.account_x).await;
    assert_eq!(d["account_id"], w.account_x);
    assert_eq!(d["contacts"], 3, "{d}");
    assert_eq!(d["visits"], 2, "the visit and the meeting");
    assert_eq!(d["effective"], 2);
    assert_eq!(d["total_minutes"], 230, "90 + 20 + 120");
    assert_eq!(d["first_contact"], "2026-11-10");
    assert_eq!(d["last_contact"], "2026-11-18");
    assert_eq!(d["days"], 8);
    assert_eq!(d["attitudes"], json!([["2026-11-10", "cold"], ["2026-11-12", "normal"], ["2026-11-18", "warm"]]));
    assert_eq!(d["result"], "in_progress");
    assert_eq!(d["reason"], Value::Null);
    // The manager reads the same; repC does not see the account.
    assert_eq!(development(&t, &bearer(&w, "manager"), w.account_x).await, d);
    let r = t.get(&format!("/api/v1/accounts/{}/development", w.account_x), &bearer(&w, "repC")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);

    // Won (the manager books it through an override): the record ends with the order.
    let today = Utc::now().date_naive().format("%Y-%m-%d").to_string();
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/opportunities/{}/stage", id_of(&opp)),
            &bearer(&w, "manager"),
            Some(json!({"stage": "won", "version": opp["version"], "override_reason": "合同已签，补录",
                "booked_amount": "780000.00", "booked_on": today})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let d = development(&t, &rep, w.account_x).await;
    assert_eq!(d["result"], "won", "{d}");
    assert_eq!(d["reason"], "三坐标测量机扩产项目");
    assert_eq!(d["contacts"], 3);
}

#[tokio::test]
async fn visit_statistics_show_each_manager_their_own_people() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep_b = bearer(&w, "repB");
    let acc_b = new_account(&t, &rep_b, "天津华研检测技术有限公司").await;
    record(&t, &bearer(&w, "repA"), solved(w.account_x, "2026-11-17T10:00")).await;
    record(&t, &bearer(&w, "repA"), solved(w.account_x, "2026-11-18T10:00")).await;
    record(&t, &rep_b, call(acc_b, "2026-11-18T11:00")).await;
    record(&t, &bearer(&w, "repC"), solved(w.account_c, "2026-11-19T10:00")).await;
    let week = "2026-11-16";

    // The manager: himself, repA and repB; their team adds up; repC is not his.
    let s = stats(&t, &bearer(&w, "manager"), week).await;
    assert_eq!(usernames(&s), vec!["manager", "repA", "repB"]);
    assert_eq!(person(&s, "repA")["effective"], 2);
    assert_eq!(person(&s, "repB")["calls"], 1);
    let team = group(&s, "teams", "manager");
    assert_eq!(team["people"], 2);
    assert_eq!(team["effective"], 2);
    assert_eq!(team["calls"], 1);
    assert_eq!(team["done"], 3);
    assert_eq!(per_day(team, "done"), vec![0, 1, 2, 0, 0, 0, 0]);
    assert_eq!(s["regions"].as_array().expect("regions").len(), 1, "{}", s["regions"]);
    assert_eq!(group(&s, "regions", "N")["effective"], 2);

    // A rep: only themselves.
    let s = stats(&t, &bearer(&w, "repA"), week).await;
    assert_eq!(usernames(&s), vec!["repA"]);
    assert!(s["teams"].as_array().expect("teams").is_empty(), "{}", s["teams"]);

    // The director: everyone in sales (not the administrator, finance, nor the deactivated).
    let s = stats(&t, &bearer(&w, "director"), week).await;
    assert_eq!(usernames(&s), vec!["director", "manager", "region", "repA", "repB", "repC"]);
    assert_eq!(person(&s, "repC")["effective"], 1);
    assert_eq!(group(&s, "regions", "E")["effective"], 1);
    assert_eq!(group(&s, "regions", "N")["effective"], 2);
    assert_eq!(group(&s, "teams", "director")["done"], 3, "manager, repA and repB are below the director");

    // The region manager of N: the people of region N.
    let s = stats(&t, &bearer(&w, "region"), week).await;
    assert_eq!(usernames(&s), vec!["manager", "region", "repA", "repB"]);
    assert_eq!(group(&s, "regions", "N")["done"], 3);

    // The export: a header and one row per person.
    let r = t.get(&format!("/api/v1/reports/visits?week={week}&format=csv"), &bearer(&w, "manager")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").starts_with("text/csv"),
        "{:?}",
        r.headers
    );
    let text = r.body.trim_start_matches('\u{feff}');
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert_eq!(
        lines[0],
        "week,owner,name,sales_type,mon,tue,wed,thu,fri,sat,sun,effective,calls,done,planned,planned_done,target_weekly,met,\
         visits,checked_in,checked_in_pct"
    );
    assert_eq!(lines[2], "2026-11-16,repA,repA,ae,0,1,1,0,0,0,0,2,0,2,0,0,12,0,2,0,0");
    assert!(lines[1].starts_with("2026-11-16,manager,"), "{}", lines[1]);
    assert!(lines[3].starts_with("2026-11-16,repB,"), "{}", lines[3]);
    let r = t.get(&format!("/api/v1/reports/visits?week={week}&format=xlsx"), &bearer(&w, "manager")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.as_bytes().starts_with(b"PK"), "an XLSX is a zip");
}

#[tokio::test]
async fn the_weekly_visit_plan_is_submitted_and_the_manager_follows_it() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = bearer(&w, "repA");
    let manager = bearer(&w, "manager");
    let this_monday = monday(shanghai_day(Utc::now()));
    let next = this_monday + Duration::days(7);
    let next_week = ymd(next);

    // Two visits planned for next week, in local time.
    let tue = format!("{}T10:00", ymd(next + Duration::days(1)));
    let thu = format!("{}T14:30", ymd(next + Duration::days(3)));
    let mut ids = vec![];
    for (at, objective) in [(&tue, "技术交流"), (&thu, "商务谈判")] {
        let v = record(
            &t,
            &rep,
            json!({"account_id": w.account_x, "kind": "visit", "status": "planned", "planned_at": at,
                "objective": objective, "place": "客户总部"}),
        )
        .await;
        assert_eq!(v["status"], "planned");
        assert_eq!(v["week"], next_week.as_str(), "{v}");
        assert_eq!(v["effective"], false);
        ids.push(id_of(&v));
    }
    let r = t.get(&format!("/api/v1/visit-plans?week={next_week}"), &rep).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let p = r.json();
    assert_eq!(p["status"], "draft");
    assert_eq!(p["owner"], "repA");
    assert_eq!(p["planned"], 2);
    assert_eq!(p["visits"].as_array().expect("visits").iter().map(id_of).collect::<Vec<_>>(), ids);
    assert!(p["visits"][0]["planned_at"]
        .as_str()
        .expect("planned_at")
        .starts_with(&format!("{}T02:00:00", ymd(next + Duration::days(1)))));

    // Submitted, with a note.
    let r = t
        .call(
            Method::POST,
            "/api/v1/visit-plans/submit",
            &rep,
            Some(json!({"week": next_week, "note": "重点推进扩产项目"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let p = r.json();
    assert_eq!(p["status"], "submitted", "{p}");
    assert_eq!(p["planned"], 2);
    assert_eq!(p["note"], "重点推进扩产项目");
    assert!(p["submitted_at"].is_string());
    // A week with nothing planned is not a plan.
    let empty = ymd(next + Duration::days(7));
    let r = t.call(Method::POST, "/api/v1/visit-plans/submit", &rep, Some(json!({"week": empty}))).await;
    assert_eq!(field_code(&r, "week"), "plan_empty");
    let r = t.call(Method::POST, "/api/v1/visit-plans/submit", &rep, Some(json!({"week": "someday"}))).await;
    assert_eq!(field_code(&r, "week"), "date_format");

    // The manager's weekly view: repA's plan submitted, two planned, none done; repB has none.
    let r = t.get(&format!("/api/v1/visit-plans/team?week={next_week}"), &manager).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let items = r.json()["items"].as_array().expect("items").clone();
    let owners: Vec<&str> = items.iter().map(|p| p["owner"].as_str().expect("owner")).collect();
    assert_eq!(owners, vec!["repA", "repB"]);
    assert_eq!(
        (items[0]["status"].as_str(), items[0]["planned"].as_i64(), items[0]["done"].as_i64()),
        (Some("submitted"), Some(2), Some(0))
    );
    assert_eq!((items[1]["status"].as_str(), items[1]["planned"].as_i64()), (Some("draft"), Some(0)));
    let r = t.get(&format!("/api/v1/visit-plans?owner=repA&week={next_week}"), &manager).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["planned"], 2);
    let r = t.get(&format!("/api/v1/visit-plans?owner=repA&week={next_week}"), &bearer(&w, "repB")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);

    // This week's plan: two visits, one of which (planned a few minutes ago) is now done.
    let soon = minutes_ago(3);
    let week_now = ymd(monday(shanghai_day(soon)));
    let later = format!("{}T16:00", ymd(monday(shanghai_day(soon)) + Duration::days(6)));
    let mut now_ids = vec![];
    for at in [rfc(soon), later] {
        let v = record(
            &t,
            &rep,
            json!({"account_id": w.account_x, "kind": "visit", "status": "planned", "planned_at": at, "objective": "回访"}),
        )
        .await;
        assert_eq!(v["week"], week_now.as_str());
        now_ids.push(id_of(&v));
    }
    let plan_of = |items: &[Value]| items.iter().find(|p| p["owner"] == "repA").cloned().expect("repA's plan");
    let r = t.get(&format!("/api/v1/visit-plans/team?week={week_now}"), &manager).await;
    let p = plan_of(r.json()["items"].as_array().expect("items"));
    assert_eq!((p["planned"].as_i64(), p["done"].as_i64()), (Some(2), Some(0)));
    let done = patched(
        &t,
        &rep,
        now_ids[0],
        json!({"version": 1, "status": "done", "outcome": "problem_solved", "problems": "安装调试问题已解决"}),
    )
    .await;
    assert_eq!(done["status"], "done");
    assert_eq!(done["effective"], true);
    let r = t.get(&format!("/api/v1/visit-plans/team?week={week_now}"), &manager).await;
    let p = plan_of(r.json()["items"].as_array().expect("items"));
    assert_eq!(
        (p["planned"].as_i64(), p["done"].as_i64(), p["effective"].as_i64()),
        (Some(2), Some(1), Some(1)),
        "{p}"
    );
    // Next week's plan is as it was.
    let r = t.get(&format!("/api/v1/visit-plans/team?week={next_week}"), &manager).await;
    let p = plan_of(r.json()["items"].as_array().expect("items"));
    assert_eq!((p["planned"].as_i64(), p["done"].as_i64()), (Some(2), Some(0)));
    // The statistics count the week's planned visits and those done.
    let s = stats(&t, &manager, &week_now).await;
    let pa = person(&s, "repA");
    assert_eq!((pa["planned"].as_i64(), pa["planned_done"].as_i64()), (Some(2), Some(1)), "{pa}");
}

#[tokio::test]
async fn an_attitude_noted_on_a_visit_changes_the_contact_and_shows_in_the_relationship_map() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = bearer(&w, "repA");
    let before = contact(&t, &rep, w.contact_x).await;
    assert_eq!(before["attitude"], Value::Null, "{before}");

    let mut b = solved(w.account_x, &rfc(minutes_ago(60)));
    b["contacts"] = json!([{"contact_id": w.contact_x, "attitude": "opponent"}]);
    let v = record(&t, &rep, b).await;
    assert_eq!(
        v["contacts"],
        json!([{"contact_id": w.contact_x, "name": "王志远", "erased": false, "attitude": "opponent"}])
    );
    assert_eq!(fetch(&t, &rep, id_of(&v)).await["contacts"], v["contacts"]);
    let after = contact(&t, &rep, w.contact_x).await;
    assert_eq!(after["attitude"], "opponent");
    assert!(after["version"].as_i64() > before["version"].as_i64());

    // The account page's relationship map lists the change since yesterday.
    let (sid, _) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");
    let session = Auth::Session { cookie: sid, csrf: String::new() };
    let since = ymd(Utc::now().date_naive() - Duration::days(1));
    let path = format!("/accounts/{}?since={since}", w.account_x);
    let section = relmap_changes(&t, &session, &path).await;
    assert_eq!(section.matches("<del>").count(), 1, "{section}");
    assert!(section.contains("王志远"), "{section}");
    assert!(section.contains("反对") || section.contains("Opponent"), "{section}");

    // The same attitude noted again is no change; a new one is.
    let mut b = solved(w.account_x, &rfc(minutes_ago(30)));
    b["contacts"] = json!([{"contact_id": w.contact_x, "attitude": "opponent"}]);
    record(&t, &rep, b).await;
    assert_eq!(relmap_changes(&t, &session, &path).await.matches("<del>").count(), 1);
    let v2 = patched(
        &t,
        &rep,
        id_of(&v),
        json!({"version": 1, "contacts": [{"contact_id": w.contact_x, "attitude": "supporter"}]}),
    )
    .await;
    assert_eq!(v2["contacts"][0]["attitude"], "supporter");
    assert_eq!(contact(&t, &rep, w.contact_x).await["attitude"], "supporter");
    let section = relmap_changes(&t, &session, &path).await;
    assert_eq!(section.matches("<del>").count(), 2, "{section}");
    assert!(section.contains("支持") || section.contains("Supporter"), "{section}");
    // A contact met without an attitude leaves it alone.
    let mut b = solved(w.account_x, &rfc(minutes_ago(10)));
    b["contacts"] = json!([{"contact_id": w.contact_x}]);
    let v3 = record(&t, &rep, b).await;
    assert_eq!(v3["contacts"][0]["attitude"], Value::Null);
    assert_eq!(contact(&t, &rep, w.contact_x).await["attitude"], "supporter");
}

/// A visit planned for next week and done early (today) still belongs to next week's plan, where
/// it shows as done; its effective visit counts today, in this week's statistics.
#[tokio::test]
async fn a_planned_visit_done_early_stays_in_the_plan_of_its_week_and_counts_on_the_day_it_happened() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = bearer(&w, "repA");
    let this_monday = monday(shanghai_day(Utc::now()));
    let next = this_monday + Duration::days(7);
    let mut ids = vec![];
    for day in [1, 3] {
        let v = record(
            &t,
            &rep,
            json!({"account_id": w.account_x, "kind": "visit", "status": "planned",
                "planned_at": format!("{}T10:00", ymd(next + Duration::days(day))), "objective": "方案交流"}),
        )
        .await;
        ids.push(id_of(&v));
    }
    let opp = establish(&t, &w, "repA", w.account_x, "提前签约").await;
    let planned = fetch(&t, &rep, ids[0]).await;
    let done = patched(
        &t,
        &rep,
        ids[0],
        json!({"version": planned["version"], "status": "done", "occurred_at": rfc(minutes_ago(30)),
            "outcome": "opportunity_advanced", "opportunity_id": id_of(&opp)}),
    )
    .await;
    assert_eq!(done["effective"], true);
    assert_eq!(done["week"], ymd(this_monday).as_str(), "it happened this week");
    let r = t.get(&format!("/api/v1/visit-plans?week={}", ymd(next)), &rep).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let p = r.json();
    assert_eq!(
        (p["planned"].as_i64(), p["done"].as_i64(), p["effective"].as_i64()),
        (Some(2), Some(1), Some(1)),
        "{p}"
    );
    let next_stats = stats(&t, &rep, &ymd(next)).await;
    let me = person(&next_stats, "repA");
    assert_eq!((me["planned"].as_i64(), me["planned_done"].as_i64()), (Some(2), Some(1)), "{me}");
    assert_eq!(me["effective"], 0, "nothing happened next week yet");
    let this_stats = stats(&t, &rep, &ymd(this_monday)).await;
    let me = person(&this_stats, "repA");
    assert_eq!(me["effective"], 1, "the visit counts in the week it happened: {me}");
    assert_eq!(me["planned"], 0, "it was planned for next week, not this one");
}

/// A follow-up that falls due is pushed to the visitor once: in the app (and on their channels),
/// not again on the next pass, and not at all once a later contact answered it.
#[tokio::test]
async fn the_visitor_is_reminded_once_when_a_follow_up_falls_due() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = bearer(&w, "repA");
    let told = |t: &'static str| move |n: &Value| n["kind"] == t;
    let notes = |who: Auth| {
        let t = &t;
        async move {
            let r = t.get("/api/v1/notifications", &who).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.body);
            r.json()["items"].as_array().expect("items").clone()
        }
    };
    // Two visits to the key account: eight days ago (due yesterday) and two days ago (due in five).
    let old = record(
        &t,
        &rep,
        json!({"account_id": w.account_x, "kind": "visit", "status": "done", "occurred_at": rfc(minutes_ago(8 * 24 * 60)),
            "outcome": "none"}),
    )
    .await;
    assert!(old["follow_up_due"].is_string(), "{old}");
    // Nothing is due before the day: a pass at the visit's time tells nobody.
    let (reminded, _, _) = t.app.scheduler_pass("w1", minutes_ago(8 * 24 * 60 - 5)).await.expect("pass");
    assert_eq!(reminded, 0);
    let (reminded, _, _) = t.app.scheduler_pass("w1", Utc::now()).await.expect("pass");
    assert_eq!(reminded, 1, "the overdue follow-up");
    let mine: Vec<Value> = notes(rep.clone()).await.into_iter().filter(told("follow_up_due")).collect();
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert!(mine[0]["title"].as_str().expect("title").contains("请跟进"), "{mine:?}");
    // Once only, however many passes (and servers) run.
    let (reminded, _, _) = t.app.scheduler_pass("w2", Utc::now()).await.expect("pass");
    assert_eq!(reminded, 0);
    assert_eq!(notes(rep.clone()).await.into_iter().filter(told("follow_up_due")).count(), 1);
    // A visit whose follow-up was answered before it fell due is never pushed.
    record(
        &t,
        &rep,
        json!({"account_id": w.account_x, "kind": "visit", "status": "done", "occurred_at": rfc(minutes_ago(2 * 24 * 60)),
            "outcome": "none"}),
    )
    .await;
    record(&t, &rep, call(w.account_x, &rfc(minutes_ago(60)))).await;
    let (reminded, _, _) = t.app.scheduler_pass("w1", Utc::now() + Duration::days(6)).await.expect("pass");
    assert_eq!(reminded, 0, "the call answered it");
    // Someone else is not told about repA's visits.
    assert_eq!(notes(bearer(&w, "repB")).await.into_iter().filter(told("follow_up_due")).count(), 0);
}

/// 10:00 in Shanghai on a day, as RFC 3339 in UTC, plus some minutes.
fn shanghai_at(d: NaiveDate, minutes: i64) -> String {
    let local = d.and_hms_opt(10, 0, 0).expect("time") + Duration::minutes(minutes);
    rfc(local.and_local_timezone(chrono_tz::Asia::Shanghai).single().expect("local").with_timezone(&Utc))
}

async fn answered_by(t: &TestApp, who: &Auth, id: i64) -> Value {
    fetch(t, who, id).await["followed_up_by"].clone()
}

#[tokio::test]
async fn a_contact_answers_only_visits_before_it_when_records_are_back_dated() {
    // The reported bug: "a visit dated 12-01 was taken as the follow-up of a 12-02 visit, which
    // still shows as waiting".
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = bearer(&w, "repA");
    let day1 = shanghai_day(Utc::now()) - Duration::days(20);
    let day2 = day1 + Duration::days(1);
    let v2 = record(&t, &rep, solved(w.account_x, &shanghai_at(day2, 0))).await;
    // The visit of the day before, written up late: it does not answer the later one; the later
    // one answers it.
    let v1 = record(&t, &rep, solved(w.account_x, &shanghai_at(day1, 0))).await;
    assert_eq!(answered_by(&t, &rep, id_of(&v2)).await, Value::Null);
    assert_eq!(answered_by(&t, &rep, id_of(&v1)).await, id_of(&v2));
    assert_eq!(follow_up_ids(&follow_ups(&t, &rep, "").await), vec![id_of(&v2)]);

    // A call recorded today answers the day-2 visit; moved back to day 1 (before the day-2
    // visit, after the day-1 one) it answers the day-1 visit only, and the day-2 one waits again.
    let c = record(&t, &rep, call(w.account_x, &rfc(minutes_ago(5)))).await;
    assert_eq!(answered_by(&t, &rep, id_of(&v2)).await, id_of(&c));
    assert!(follow_ups(&t, &rep, "").await.is_empty());
    patched(&t, &rep, id_of(&c), json!({"version": 1, "occurred_at": shanghai_at(day1, 60)})).await;
    assert_eq!(answered_by(&t, &rep, id_of(&v2)).await, Value::Null, "the call is before the day-2 visit now");
    assert_eq!(answered_by(&t, &rep, id_of(&v1)).await, id_of(&c), "the call is the first contact after day 1");
    assert_eq!(follow_up_ids(&follow_ups(&t, &rep, "").await), vec![id_of(&v2)]);
    // Moved before both visits: it answers neither.
    patched(&t, &rep, id_of(&c), json!({"version": 2, "occurred_at": shanghai_at(day1, -60)})).await;
    assert_eq!(answered_by(&t, &rep, id_of(&v1)).await, id_of(&v2));
    assert_eq!(answered_by(&t, &rep, id_of(&v2)).await, Value::Null);

    // The day-2 visit moved before day 1: the day-1 visit answers it, and the day-1 visit waits.
    let day0 = day1 - Duration::days(1);
    patched(&t, &rep, id_of(&v2), json!({"version": 1, "occurred_at": shanghai_at(day0, 0)})).await;
    assert_eq!(answered_by(&t, &rep, id_of(&v2)).await, id_of(&c), "the call at 09:00 of day 1 is first after day 0");
    assert_eq!(answered_by(&t, &rep, id_of(&v1)).await, Value::Null);
    assert_eq!(follow_up_ids(&follow_ups(&t, &rep, "").await), vec![id_of(&v1)]);
    let f = fetch(&t, &rep, id_of(&v2)).await;
    assert_eq!(f["follow_up_due"], ymd(day0 + Duration::days(7)), "the due day follows the visit's day");

    // Deleting the call: the day-0 visit is answered by the next contact after it, the day-1 visit.
    let r = delete(&t, &rep, id_of(&c)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(answered_by(&t, &rep, id_of(&v2)).await, id_of(&v1));
    assert_eq!(follow_up_ids(&follow_ups(&t, &rep, "").await), vec![id_of(&v1)]);
    // Deleting the day-1 visit: nothing after the day-0 visit answers it.
    let r = delete(&t, &rep, id_of(&v1)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(answered_by(&t, &rep, id_of(&v2)).await, Value::Null);
    assert_eq!(follow_up_ids(&follow_ups(&t, &rep, "").await), vec![id_of(&v2)]);
}

#[tokio::test]
async fn on_one_day_only_a_later_contact_answers_a_visit_and_an_answered_visit_leaves_the_list_at_once() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = bearer(&w, "repA");
    let day = shanghai_day(Utc::now()) - Duration::days(3);
    let visit = record(&t, &rep, solved(w.account_x, &shanghai_at(day, 0))).await;
    // A call the same morning, before the visit, and one at the same minute: neither answers it.
    let before = record(&t, &rep, call(w.account_x, &shanghai_at(day, -90))).await;
    let _same = record(&t, &rep, call(w.account_x, &shanghai_at(day, 0))).await;
    assert_eq!(answered_by(&t, &rep, id_of(&visit)).await, Value::Null);
    assert_eq!(follow_up_ids(&follow_ups(&t, &rep, "").await), vec![id_of(&visit)]);
    // The afternoon's call answers it: it leaves the list, on the 1×1 and today's page too.
    let after = record(&t, &rep, call(w.account_x, &shanghai_at(day, 300))).await;
    assert_eq!(answered_by(&t, &rep, id_of(&visit)).await, id_of(&after));
    assert!(follow_ups(&t, &rep, "").await.is_empty());
    let r = t.get("/api/v1/me/today", &rep).await;
    assert!(r.json()["follow_ups"].as_array().expect("follow_ups").is_empty(), "{}", r.body);
    let r = t.get("/api/v1/reports/one-on-one?owner=repA", &bearer(&w, "manager")).await;
    assert!(r.json()["follow_ups"].as_array().expect("follow_ups").is_empty(), "{}", r.body);
    // An earlier call moved to noon answers it instead (the first contact after it).
    patched(&t, &rep, id_of(&before), json!({"version": 1, "occurred_at": shanghai_at(day, 120)})).await;
    assert_eq!(answered_by(&t, &rep, id_of(&visit)).await, id_of(&before));
    // The visit moved to the evening: none of them answers it any more.
    patched(&t, &rep, id_of(&visit), json!({"version": 1, "occurred_at": shanghai_at(day, 540)})).await;
    assert_eq!(answered_by(&t, &rep, id_of(&visit)).await, Value::Null);
    assert_eq!(follow_up_ids(&follow_ups(&t, &rep, "").await), vec![id_of(&visit)]);
    // A later call answers it; deleted, it answers nothing again.
    let late = record(&t, &rep, call(w.account_x, &shanghai_at(day, 600))).await;
    assert_eq!(answered_by(&t, &rep, id_of(&visit)).await, id_of(&late));
    let r = delete(&t, &rep, id_of(&late)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(answered_by(&t, &rep, id_of(&visit)).await, Value::Null);
}
