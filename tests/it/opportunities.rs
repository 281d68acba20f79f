//! Opportunities and the funnel: establishing one, moving it by the funnel's rules, the
//! funnel report now and on a past date, and who sees what.
use std::collections::{BTreeMap, BTreeSet};

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{fields, seed, Auth, Resp, TestApp, World};

fn bearer(w: &World, user: &str) -> Auth {
    Auth::Bearer(w.tokens[user].clone())
}

fn today() -> String {
    chrono::Utc::now().date_naive().format("%Y-%m-%d").to_string()
}

/// Tomorrow where the caller is (Asia/Shanghai): a won date that is still in the future for them.
fn tomorrow() -> String {
    let local = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
    (local + chrono::Duration::days(1)).format("%Y-%m-%d").to_string()
}

/// A complete establishing form (立项 with the evaluation's four required answers).
fn form(account: i64, name: &str, amount: &str) -> Value {
    json!({
        "account_id": account,
        "name": name,
        "amount": amount,
        "expected_close": "2031-06-30",
        "eval_need": "产线扩能，需要高精度测量设备",
        "eval_budget": "年度预算已批",
        "eval_timeline": "三季度下单",
        "eval_decision_makers": "总经理王志远、采购部",
    })
}

async fn establish_as(t: &TestApp, who: &Auth, body: Value) -> Value {
    let r = t.call(Method::POST, "/api/v1/opportunities", who, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.json()
}

async fn establish(t: &TestApp, w: &World, who: &str, name: &str, amount: &str) -> Value {
    establish_as(t, &bearer(w, who), form(w.account_x, name, amount)).await
}

/// The record as the director (who sees everything) reads it.
async fn record(t: &TestApp, w: &World, id: i64) -> Value {
    let r = t.get(&format!("/api/v1/opportunities/{id}"), &bearer(w, "director")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()
}

fn id_of(v: &Value) -> i64 {
    v["id"].as_i64().expect("id")
}

fn version_of(v: &Value) -> i64 {
    v["version"].as_i64().expect("version")
}

/// The checklist items of one stage, as the record lists them.
fn items_of(rec: &Value, stage: &str) -> Vec<String> {
    rec["checklist"]
        .as_array()
        .expect("checklist")
        .iter()
        .filter(|c| c["stage"] == stage)
        .map(|c| c["item"].as_str().expect("item").to_string())
        .collect()
}

fn checked_items(rec: &Value) -> Vec<String> {
    rec["checklist"]
        .as_array()
        .expect("checklist")
        .iter()
        .filter(|c| c["checked"] == true)
        .map(|c| c["item"].as_str().expect("item").to_string())
        .collect()
}

async fn check(t: &TestApp, who: &Auth, id: i64, item: &str, checked: bool, version: i64) -> Resp {
    t.call(
        Method::POST,
        &format!("/api/v1/opportunities/{id}/checklist"),
        who,
        Some(json!({"item": item, "checked": checked, "version": version})),
    )
    .await
}

/// Ticks every exit criterion of `stage`, one by one as a user would; returns the record.
async fn check_stage(t: &TestApp, who: &Auth, rec: Value, stage: &str) -> Value {
    let id = id_of(&rec);
    let mut rec = rec;
    for item in items_of(&rec, stage) {
        let r = check(t, who, id, &item, true, version_of(&rec)).await;
        assert_eq!(r.status, StatusCode::OK, "{item}: {}", r.body);
        let next = r.json();
        assert_eq!(version_of(&next), version_of(&rec) + 1, "a check is a change of the record");
        rec = next;
    }
    rec
}

async fn move_stage(t: &TestApp, who: &Auth, id: i64, body: Value) -> Resp {
    t.call(Method::POST, &format!("/api/v1/opportunities/{id}/stage"), who, Some(body)).await
}

async fn history(t: &TestApp, w: &World, id: i64) -> Vec<Value> {
    let r = t.get(&format!("/api/v1/opportunities/{id}/history"), &bearer(w, "director")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()["items"].as_array().expect("items").clone()
}

async fn list_ids(t: &TestApp, who: &Auth, query: &str) -> Vec<i64> {
    let r = t.get(&format!("/api/v1/opportunities?{query}"), who).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()["items"].as_array().expect("items").iter().map(id_of).collect()
}

async fn count(t: &TestApp, who: &Auth) -> i64 {
    let r = t.get("/api/v1/opportunities/count", who).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()["count"].as_i64().expect("count")
}

async fn funnel(t: &TestApp, who: &Auth, query: &str) -> Value {
    let r = t.get(&format!("/api/v1/reports/funnel?{query}"), who).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()
}

/// One stage of the funnel report: (count, amount, weighted).
fn stage_row(f: &Value, stage: &str) -> (i64, String, String) {
    let s = f["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .find(|s| s["stage"] == stage)
        .unwrap_or_else(|| panic!("{stage} in {f}"));
    (
        s["count"].as_i64().expect("count"),
        s["amount"].as_str().expect("amount").to_string(),
        s["weighted"].as_str().expect("weighted").to_string(),
    )
}

fn row(n: i64, amount: &str, weighted: &str) -> (i64, String, String) {
    (n, amount.to_string(), weighted.to_string())
}

async fn audit_actions(t: &TestApp, who: &Auth, id: i64) -> Resp {
    t.get(&format!("/api/v1/audit?entity=opportunity&id={id}"), who).await
}

#[tokio::test]
async fn establishing_asks_for_the_evaluation_and_the_opportunity_is_seen_by_whoever_sees_its_account() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep_a = bearer(&w, "repA");

    // Each unanswered evaluation question is named; nothing is created.
    let mut body = form(w.account_x, "三坐标测量机扩产项目", "1200000.00");
    for k in ["eval_need", "eval_budget", "eval_timeline", "eval_decision_makers"] {
        body.as_object_mut().expect("object").remove(k);
    }
    body["eval_budget"] = json!("  ");
    let r = t.call(Method::POST, "/api/v1/opportunities", &rep_a, Some(body)).await;
    let expected: BTreeMap<String, String> = ["eval_budget", "eval_decision_makers", "eval_need", "eval_timeline"]
        .iter()
        .map(|k| (k.to_string(), "required".to_string()))
        .collect();
    assert_eq!(fields(&r), expected);

    // Money as a JSON number is refused: it must be the decimal string a person typed.
    let mut body = form(w.account_x, "三坐标测量机扩产项目", "1200000.00");
    body["amount"] = json!(1200000);
    let r = t.call(Method::POST, "/api/v1/opportunities", &rep_a, Some(body)).await;
    assert_eq!(fields(&r).get("amount").map(String::as_str), Some("money_must_be_string"), "{}", r.body);

    // A rep does not hand an opportunity to someone else.
    let mut body = form(w.account_x, "三坐标测量机扩产项目", "1200000.00");
    body["owner"] = json!("repB");
    let r = t.call(Method::POST, "/api/v1/opportunities", &rep_a, Some(body)).await;
    assert_eq!(fields(&r).get("owner").map(String::as_str), Some("forbidden_field"), "{}", r.body);

    // Nor establishes one on an account they cannot see (repC's, in Shanghai).
    let r = t.call(Method::POST, "/api/v1/opportunities", &rep_a, Some(form(w.account_c, "不可见", "1.00"))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert_eq!(count(&t, &bearer(&w, "director")).await, 0, "nothing was created by the refused attempts");

    // Established: it enters the funnel at identified, 10 %, owned by the rep.
    let o = establish(&t, &w, "repA", "三坐标测量机扩产项目", "1200000.00").await;
    let id = id_of(&o);
    assert_eq!(o["account_id"], w.account_x);
    assert_eq!(o["account_name"], "北京星河精密制造有限公司");
    assert_eq!(o["name"], "三坐标测量机扩产项目");
    assert_eq!(o["amount"], "1200000.00");
    assert_eq!(o["currency"], "CNY");
    assert_eq!(o["expected_close"], "2031-06-30");
    assert_eq!(o["stage"], "identified");
    assert_eq!(o["probability"], 10);
    assert_eq!(o["weighted"], "120000.00");
    assert_eq!(o["owner"], "repA");
    assert_eq!(o["version"], 1);
    let checklist = o["checklist"].as_array().expect("checklist");
    assert_eq!(checklist.len(), 18, "the exit criteria of the five open stages: {o}");
    assert!(checklist.iter().all(|c| c["checked"] == false && c["checked_by"].is_null()));
    assert_eq!(items_of(&o, "identified").len(), 4);
    assert_eq!(items_of(&o, "committed").len(), 3);
    let h = history(&t, &w, id).await;
    assert_eq!(h.len(), 1, "establishing is the first line of its history");
    assert_eq!(h[0]["stage"], "identified");
    assert!(h[0]["from_stage"].is_null());
    assert_eq!(h[0]["actor"], "repA");
    assert_eq!(h[0]["amount"], "1200000.00");

    // Seen by whoever sees account X (the rep, their manager, the region, the director) …
    for who in ["repA", "manager", "region", "director", "finance"] {
        let r = t.get(&format!("/api/v1/opportunities/{id}"), &bearer(&w, who)).await;
        assert_eq!(r.status, StatusCode::OK, "{who}: {}", r.body);
        assert_eq!(list_ids(&t, &bearer(&w, who), "").await, vec![id], "{who}");
        assert_eq!(count(&t, &bearer(&w, who)).await, 1, "{who}");
    }
    // … and by nobody else: not found, not listed, not counted.
    for who in ["repB", "repC"] {
        let me = bearer(&w, who);
        for path in [format!("/api/v1/opportunities/{id}"), format!("/api/v1/opportunities/{id}/history")] {
            let r = t.get(&path, &me).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{who} {path}: {}", r.body);
        }
        let r =
            move_stage(&t, &me, id, json!({"stage": "lost", "version": 1, "lost_reason": "x", "lost_to": "y"})).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{who}: {}", r.body);
        assert!(list_ids(&t, &me, "").await.is_empty(), "{who}");
        assert_eq!(count(&t, &me).await, 0, "{who}");
    }
    assert_eq!(record(&t, &w, id).await["stage"], "identified", "the refused move changed nothing");

    // A manager may establish one for a rep of theirs: the owner sees that opportunity, and
    // a team member sees it too, though neither sees the account.
    let mut body = form(w.account_x, "检测中心二期", "300000.00");
    body["owner"] = json!("repB");
    body["team"] = json!("repC, repB");
    let o2 = establish_as(&t, &bearer(&w, "manager"), body).await;
    let id2 = id_of(&o2);
    assert_eq!(o2["owner"], "repB");
    assert_eq!(o2["team"], json!(["repC"]), "the owner is not also on the team");
    for who in ["repB", "repC"] {
        let me = bearer(&w, who);
        let r = t.get(&format!("/api/v1/opportunities/{id2}"), &me).await;
        assert_eq!(r.status, StatusCode::OK, "{who}: {}", r.body);
        assert_eq!(list_ids(&t, &me, "").await, vec![id2], "{who} sees only that one");
        assert_eq!(count(&t, &me).await, 1, "{who}");
        let r = t.get(&format!("/api/v1/accounts/{}", w.account_x), &me).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{who} still does not see the account");
    }
    assert_eq!(count(&t, &bearer(&w, "director")).await, 2);
}

#[tokio::test]
async fn moving_forward_needs_the_exit_criteria_unless_the_owners_manager_overrides_with_a_reason() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (rep_a, manager) = (bearer(&w, "repA"), bearer(&w, "manager"));
    let o = establish(&t, &w, "repA", "精密测量实验室", "800000.00").await;
    let id = id_of(&o);
    let identified = items_of(&o, "identified");
    let contacted = items_of(&o, "contacted");

    // Forward with nothing checked: the stage and every unmet criterion are named.
    let r = move_stage(&t, &rep_a, id, json!({"stage": "contacted", "version": 1})).await;
    let f = fields(&r);
    assert_eq!(f.get("stage").map(String::as_str), Some("exit_criteria_unmet"), "{}", r.body);
    let unmet: BTreeSet<&String> = f.keys().filter(|k| *k != "stage").collect();
    assert_eq!(unmet, identified.iter().collect::<BTreeSet<_>>(), "{}", r.body);
    assert!(f.iter().filter(|(k, _)| *k != "stage").all(|(_, c)| c == "exit_criterion_unmet"), "{f:?}");
    // A jump needs the criteria of every stage it leaves.
    let r = move_stage(&t, &rep_a, id, json!({"stage": "qualified", "version": 1})).await;
    let f = fields(&r);
    let unmet: BTreeSet<&String> = f.keys().filter(|k| *k != "stage").collect();
    assert_eq!(unmet, identified.iter().chain(&contacted).collect::<BTreeSet<_>>(), "{}", r.body);
    let now = record(&t, &w, id).await;
    assert_eq!((now["stage"].clone(), now["version"].clone()), (json!("identified"), json!(1)));

    // An item that is no criterion is refused by name.
    let r = check(&t, &rep_a, id, "lunch_booked", true, 1).await;
    assert_eq!(fields(&r).get("item").map(String::as_str), Some("invalid_choice"));

    // All but one checked: still refused, naming just that one.
    let mut rec = o.clone();
    for item in &identified[..3] {
        let r = check(&t, &rep_a, id, item, true, version_of(&rec)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        rec = r.json();
    }
    let by = rec["checklist"].as_array().expect("checklist").iter().find(|c| c["item"] == identified[0]).expect("item");
    assert_eq!(by["checked"], true);
    assert_eq!(by["checked_by"], "repA");
    assert!(by["checked_at"].as_str().is_some_and(|s| s.starts_with(&today())), "{by}");
    let r = move_stage(&t, &rep_a, id, json!({"stage": "contacted", "version": version_of(&rec)})).await;
    let f = fields(&r);
    assert_eq!(f.keys().filter(|k| *k != "stage").collect::<Vec<_>>(), vec![&identified[3]], "{}", r.body);

    // All checked: the move goes through and the probability follows the stage.
    let r = check(&t, &rep_a, id, &identified[3], true, version_of(&rec)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let rec = r.json();
    let r = move_stage(&t, &rep_a, id, json!({"stage": "contacted", "version": version_of(&rec)})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let rec = r.json();
    assert_eq!(rec["stage"], "contacted");
    assert_eq!(rec["probability"], 25);
    assert_eq!(rec["weighted"], "200000.00");
    assert_eq!(rec["version"], 6, "establish 1, four checks, one move");

    // The owner cannot wave the criteria through themselves.
    let v = version_of(&rec);
    let r = move_stage(&t, &rep_a, id, json!({"stage": "qualified", "version": v, "override_reason": "客户说没问题"}))
        .await;
    assert_eq!(fields(&r).get("override_reason").map(String::as_str), Some("override_needs_manager"), "{}", r.body);
    assert_eq!(record(&t, &w, id).await["stage"], "contacted");

    // Their manager can, with a reason that the history keeps.
    let r = move_stage(
        &t,
        &manager,
        id,
        json!({"stage": "qualified", "version": v, "override_reason": "客户高层已口头确认需求与预算"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let rec = r.json();
    assert_eq!(rec["stage"], "qualified");
    assert_eq!(rec["probability"], 50);
    assert_eq!(rec["weighted"], "400000.00");
    assert!(
        contacted.iter().all(|c| !checked_items(&rec).contains(c)),
        "the override does not pretend the criteria were met"
    );
    let h = history(&t, &w, id).await;
    assert_eq!(h.len(), 3, "{h:?}");
    assert_eq!(h[1]["from_stage"], "identified");
    assert_eq!(h[1]["stage"], "contacted");
    assert_eq!(h[1]["override"], false);
    assert_eq!(h[1]["actor"], "repA");
    assert_eq!(h[2]["from_stage"], "contacted");
    assert_eq!(h[2]["stage"], "qualified");
    assert_eq!(h[2]["override"], true);
    assert_eq!(h[2]["actor"], "manager");
    assert_eq!(h[2]["reason"], "客户高层已口头确认需求与预算");

    // Back up the funnel needs a reason; with one, the probability drops again.
    let v = version_of(&rec);
    let r = move_stage(&t, &rep_a, id, json!({"stage": "contacted", "version": v})).await;
    assert_eq!(fields(&r).get("reason").map(String::as_str), Some("required"), "{}", r.body);
    let r = move_stage(&t, &rep_a, id, json!({"stage": "contacted", "version": v, "reason": "   "})).await;
    assert_eq!(fields(&r).get("reason").map(String::as_str), Some("required"), "a blank reason is no reason");
    assert_eq!(record(&t, &w, id).await["stage"], "qualified");
    let r = move_stage(&t, &rep_a, id, json!({"stage": "contacted", "version": v, "reason": "客户预算冻结"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let rec = r.json();
    assert_eq!(rec["stage"], "contacted");
    assert_eq!(rec["probability"], 25);
    let h = history(&t, &w, id).await;
    let last = h.last().expect("row");
    assert_eq!((last["from_stage"].clone(), last["stage"].clone()), (json!("qualified"), json!("contacted")));
    assert_eq!(last["reason"], "客户预算冻结");
    assert_eq!(last["override"], false);

    // Moving to the stage it is at is not a move.
    let r = move_stage(&t, &rep_a, id, json!({"stage": "contacted", "version": version_of(&rec)})).await;
    assert_eq!(fields(&r).get("stage").map(String::as_str), Some("same_stage"), "{}", r.body);
}

#[tokio::test]
async fn won_and_lost_ask_for_what_happened_and_only_open_stages_count_in_the_weighted_pipeline() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (rep_a, director) = (bearer(&w, "repA"), bearer(&w, "director"));
    let win = establish(&t, &w, "repA", "整线改造", "1000000.00").await;
    let lose = establish(&t, &w, "repA", "备件年框", "300000.00").await;
    let early = establish(&t, &w, "repA", "新厂区测量室", "50000.01").await;
    let later = establish(&t, &w, "repA", "二号车间", "200000.00").await;

    // Bring `win` to committed (director's override) and `later` to contacted (criteria met).
    let r = move_stage(
        &t,
        &director,
        id_of(&win),
        json!({"stage": "committed", "version": 1, "override_reason": "战略客户，总监批准"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let win = r.json();
    assert_eq!(win["probability"], 90);
    let later = check_stage(&t, &rep_a, later, "identified").await;
    let r = move_stage(&t, &rep_a, id_of(&later), json!({"stage": "contacted", "version": version_of(&later)})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // Won asks for the booked amount and date, and the committed stage's criteria.
    let id = id_of(&win);
    let v = version_of(&win);
    let r = move_stage(&t, &rep_a, id, json!({"stage": "won", "version": v})).await;
    let f = fields(&r);
    assert_eq!(f.get("booked_amount").map(String::as_str), Some("required"), "{}", r.body);
    assert_eq!(f.get("booked_on").map(String::as_str), Some("required"));
    assert_eq!(f.get("stage").map(String::as_str), Some("exit_criteria_unmet"));
    for item in items_of(&win, "committed") {
        assert_eq!(f.get(&item).map(String::as_str), Some("exit_criterion_unmet"), "{item}");
    }
    let win = check_stage(&t, &rep_a, win, "committed").await;
    let v = version_of(&win);
    let won =
        |amount: Value, on: String| json!({"stage": "won", "version": v, "booked_amount": amount, "booked_on": on});
    let r = move_stage(&t, &rep_a, id, won(json!("980000.00"), tomorrow())).await;
    assert_eq!(fields(&r), BTreeMap::from([("booked_on".to_string(), "date_in_future".to_string())]));
    let r = move_stage(&t, &rep_a, id, won(json!("980000.00"), "2020-01-01".to_string())).await;
    assert_eq!(
        fields(&r).get("booked_on").map(String::as_str),
        Some("date_before_established"),
        "booked before it was established: dates in the wrong order"
    );
    let r = move_stage(&t, &rep_a, id, won(json!(980000), today())).await;
    assert_eq!(fields(&r).get("booked_amount").map(String::as_str), Some("money_must_be_string"));
    let r = move_stage(&t, &rep_a, id, won(json!("98万"), today())).await;
    assert_eq!(fields(&r).get("booked_amount").map(String::as_str), Some("money_format"));
    assert_eq!(record(&t, &w, id).await["stage"], "committed", "refused wins change nothing");
    let r = move_stage(&t, &rep_a, id, won(json!("980000.00"), today())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let done = r.json();
    assert_eq!(done["stage"], "won");
    assert_eq!(done["probability"], 100);
    assert_eq!(done["booked_amount"], "980000.00");
    assert_eq!(done["booked_on"], today());

    // Lost asks for the reason and who won it.
    let id = id_of(&lose);
    let r = move_stage(&t, &rep_a, id, json!({"stage": "lost", "version": 1})).await;
    assert_eq!(
        fields(&r),
        BTreeMap::from([
            ("lost_reason".to_string(), "required".to_string()),
            ("lost_to".to_string(), "required".to_string())
        ])
    );
    let r = move_stage(&t, &rep_a, id, json!({"stage": "lost", "version": 1, "lost_reason": "价格高出 15%"})).await;
    assert_eq!(fields(&r), BTreeMap::from([("lost_to".to_string(), "required".to_string())]));
    let r = move_stage(
        &t,
        &rep_a,
        id,
        json!({"stage": "lost", "version": 1, "lost_reason": "价格高出 15%", "lost_to": "海克斯康"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let gone = r.json();
    assert_eq!(gone["stage"], "lost");
    assert_eq!(gone["probability"], 0);
    assert_eq!(gone["weighted"], "0.00");
    assert_eq!(gone["lost_reason"], "价格高出 15%");
    assert_eq!(gone["lost_to"], "海克斯康");
    let h = history(&t, &w, id).await;
    assert_eq!(h.last().expect("row")["reason"], "价格高出 15%");

    // Only the open ones are listed as open.
    let mut open = list_ids(&t, &rep_a, "open=true").await;
    open.sort();
    assert_eq!(open, vec![id_of(&early), id_of(&later)]);

    // The funnel: identified 50 000.01 × 10 % = 5 000.001 → 5 000.00 (down to the fen);
    // contacted 200 000 × 25 % = 50 000.00; won and lost weigh nothing in the pipeline.
    let f = funnel(&t, &rep_a, "").await;
    assert_eq!(stage_row(&f, "identified"), row(1, "50000.01", "5000.00"), "{f}");
    assert_eq!(stage_row(&f, "contacted"), row(1, "200000.00", "50000.00"));
    for s in ["qualified", "developed", "committed"] {
        assert_eq!(stage_row(&f, s), row(0, "0.00", "0.00"), "{s}");
    }
    assert_eq!(stage_row(&f, "won").0, 1);
    assert_eq!(stage_row(&f, "lost"), row(1, "300000.00", "0.00"));
    let probabilities: Vec<(String, i64)> = f["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .map(|s| (s["stage"].as_str().unwrap_or("").to_string(), s["probability"].as_i64().unwrap_or(-1)))
        .collect();
    assert_eq!(
        probabilities,
        [
            ("identified", 10),
            ("contacted", 25),
            ("qualified", 50),
            ("developed", 75),
            ("committed", 90),
            ("won", 100),
            ("lost", 0)
        ]
        .iter()
        .map(|(s, p)| (s.to_string(), *p))
        .collect::<Vec<_>>()
    );
    assert_eq!(f["weighted_pipeline"], "55000.00", "{f}");

    // Scoped: the director sees the same; repB, who sees none of them, an empty funnel.
    assert_eq!(funnel(&t, &director, "").await, f);
    assert_eq!(funnel(&t, &director, "owner=repA").await, f);
    let empty = funnel(&t, &director, "owner=repB").await;
    assert_eq!(empty["weighted_pipeline"], "0.00");
    let b = funnel(&t, &bearer(&w, "repB"), "").await;
    assert_eq!(b["weighted_pipeline"], "0.00");
    assert!(b["stages"].as_array().expect("stages").iter().all(|s| s["count"] == 0), "{b}");
}

#[tokio::test]
async fn the_funnel_on_a_past_date_shows_the_stages_as_they_stood() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (rep_a, manager) = (bearer(&w, "repA"), bearer(&w, "manager"));
    let one = establish(&t, &w, "repA", "一期", "100000.00").await;
    let two = establish(&t, &w, "repA", "二期", "400000.00").await;
    // Both were established on 1 March 2024.
    sqlx::query("UPDATE opportunity_history SET at = '2024-03-01T09:00:00.000000Z'")
        .execute(&t.db().pool)
        .await
        .expect("backdate");
    // On 10 March the manager moved the first on to contacted.
    let r = move_stage(
        &t,
        &manager,
        id_of(&one),
        json!({"stage": "contacted", "version": 1, "override_reason": "首访已完成"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    sqlx::query("UPDATE opportunity_history SET at = '2024-03-10T15:30:00.000000Z' WHERE opportunity_id = $1 AND stage = 'contacted'")
        .bind(id_of(&one))
        .execute(&t.db().pool)
        .await
        .expect("backdate");
    // Today the second grows to 500 000 and a third is established.
    let r = t
        .call(
            Method::PATCH,
            &format!("/api/v1/opportunities/{}", id_of(&two)),
            &rep_a,
            Some(json!({"amount": "500000.00", "version": 1})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    establish(&t, &w, "repA", "三期", "20000.00").await;

    let before = funnel(&t, &rep_a, "as_of=2024-02-29").await;
    assert_eq!(before["as_of"], "2024-02-29");
    assert!(before["stages"].as_array().expect("stages").iter().all(|s| s["count"] == 0), "{before}");
    assert_eq!(before["weighted_pipeline"], "0.00");

    let f = funnel(&t, &rep_a, "as_of=2024-03-05").await;
    assert_eq!(stage_row(&f, "identified"), row(2, "500000.00", "50000.00"), "{f}");
    assert_eq!(stage_row(&f, "contacted"), row(0, "0.00", "0.00"));
    assert_eq!(f["weighted_pipeline"], "50000.00");

    // The day of the move counts to its end.
    let f = funnel(&t, &rep_a, "as_of=2024-03-10").await;
    assert_eq!(stage_row(&f, "identified"), row(1, "400000.00", "40000.00"), "{f}");
    assert_eq!(stage_row(&f, "contacted"), row(1, "100000.00", "25000.00"));
    assert_eq!(f["weighted_pipeline"], "65000.00");

    let f = funnel(&t, &rep_a, &format!("as_of={}", today())).await;
    assert_eq!(stage_row(&f, "identified"), row(2, "520000.00", "52000.00"), "{f}");
    assert_eq!(stage_row(&f, "contacted"), row(1, "100000.00", "25000.00"));
    assert_eq!(f["weighted_pipeline"], "77000.00");
    let now = funnel(&t, &rep_a, "").await;
    assert_eq!(now["stages"], f["stages"], "today's funnel as of today is the funnel now");
    assert!(now["as_of"].is_null());

    // Others' past funnels are scoped like the present one.
    let b = funnel(&t, &bearer(&w, "repB"), "as_of=2024-03-10").await;
    assert!(b["stages"].as_array().expect("stages").iter().all(|s| s["count"] == 0), "{b}");
    assert_eq!(funnel(&t, &manager, "as_of=2024-03-10&owner=repA").await["weighted_pipeline"], "65000.00");

    let r = t.get("/api/v1/reports/funnel?as_of=2024-13-01", &rep_a).await;
    assert_eq!(fields(&r).get("as_of").map(String::as_str), Some("date_format"), "{}", r.body);
}

#[tokio::test]
async fn a_won_opportunity_counts_the_same_in_the_funnel_now_and_as_of_today() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let director = bearer(&w, "director");
    let o = establish(&t, &w, "repA", "整线改造", "1000000.00").await;
    let r = move_stage(
        &t,
        &director,
        id_of(&o),
        json!({
            "stage": "won", "version": 1, "override_reason": "合同已签，补录",
            "booked_amount": "980000.00", "booked_on": today(),
        }),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["booked_amount"], "980000.00");
    let now = funnel(&t, &director, "").await;
    let as_of = funnel(&t, &director, &format!("as_of={}", today())).await;
    assert_eq!(stage_row(&now, "won").0, 1);
    assert_eq!(
        stage_row(&now, "won"),
        stage_row(&as_of, "won"),
        "the same day's funnel shows one won amount, now: {now}, as of today: {as_of}"
    );
}

#[tokio::test]
async fn a_stale_version_changes_nothing_and_lists_page_through_each_record_once() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (rep_a, manager, director) = (bearer(&w, "repA"), bearer(&w, "manager"), bearer(&w, "director"));
    let o = establish(&t, &w, "repA", "实验室升级", "600000.00").await;
    let id = id_of(&o);
    let items = items_of(&o, "identified");
    let r = check(&t, &rep_a, id, &items[0], true, 1).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["version"], 2);

    // Another user still holds version 1: every write is refused and nothing changes.
    let stale = |r: &Resp| {
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        let v = r.json();
        assert_eq!(v["error"]["code"], "stale_version");
        assert_eq!(v["error"]["details"]["current_version"], 2);
    };
    stale(&check(&t, &manager, id, &items[1], true, 1).await);
    stale(&check(&t, &manager, id, &items[0], false, 1).await);
    stale(&move_stage(&t, &manager, id, json!({"stage": "contacted", "version": 1, "override_reason": "急"})).await);
    stale(
        &move_stage(&t, &manager, id, json!({"stage": "lost", "version": 1, "lost_reason": "a", "lost_to": "b"})).await,
    );
    stale(
        &t.call(
            Method::PATCH,
            &format!("/api/v1/opportunities/{id}"),
            &manager,
            Some(json!({"name": "改名", "amount": "1.00", "version": 1})),
        )
        .await,
    );
    let now = record(&t, &w, id).await;
    assert_eq!(now["version"], 2);
    assert_eq!(now["stage"], "identified");
    assert_eq!(now["name"], "实验室升级");
    assert_eq!(now["amount"], "600000.00");
    assert_eq!(checked_items(&now), vec![items[0].clone()]);
    assert_eq!(history(&t, &w, id).await.len(), 1);

    // At the current version the change goes through and the history keeps the new amount.
    let r = t
        .call(
            Method::PATCH,
            &format!("/api/v1/opportunities/{id}"),
            &manager,
            Some(json!({"amount": "650000.00", "version": 2})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["version"], 3);
    assert_eq!(r.json()["weighted"], "65000.00");
    let h = history(&t, &w, id).await;
    assert_eq!(h.len(), 2);
    assert_eq!((h[1]["stage"].clone(), h[1]["amount"].clone()), (json!("identified"), json!("650000.00")));
    // The stage is moved by the funnel's rules, never set by an edit.
    let r = t
        .call(
            Method::PATCH,
            &format!("/api/v1/opportunities/{id}"),
            &rep_a,
            Some(json!({"stage": "won", "probability": 100, "version": 3})),
        )
        .await;
    let f = fields(&r);
    assert_eq!(f.get("stage").map(String::as_str), Some("forbidden_field"), "{}", r.body);
    assert_eq!(f.get("probability").map(String::as_str), Some("forbidden_field"));
    assert_eq!(record(&t, &w, id).await["stage"], "identified");

    // Ten more, two of them with the same amount, some owned by repB.
    let mut all = vec![(id, 65_000_000i64, "repA")];
    for (i, (amount, owner)) in [
        ("120000.00", "repA"),
        ("90000.00", "repB"),
        ("90000.00", "repA"),
        ("5000.50", "repB"),
        ("700000.00", "repA"),
        ("300000.00", "repB"),
        ("300000.00", "repB"),
        ("1.00", "repA"),
        ("45000.00", "repA"),
        ("2500000.00", "repB"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut body = form(w.account_x, &format!("项目{i}"), amount);
        body["owner"] = json!(owner);
        let o = establish_as(&t, &manager, body).await;
        let fen = kam::domain::money::parse_fen(amount).expect("amount");
        all.push((id_of(&o), fen, owner));
    }
    // Two of repB's are moved on to contacted.
    for (i, (oid, _, _)) in all.iter().filter(|(_, _, o)| *o == "repB").take(2).enumerate() {
        let r = move_stage(
            &t,
            &manager,
            *oid,
            json!({"stage": "contacted", "version": 1, "override_reason": format!("第{i}次拜访已完成")}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    let contacted_b: Vec<i64> = all.iter().filter(|(_, _, o)| *o == "repB").take(2).map(|(i, _, _)| *i).collect();

    // By amount, largest first, three at a time: each record exactly once, in order.
    let mut seen: Vec<(i64, i64)> = vec![];
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut path = "/api/v1/opportunities?sort=amount&limit=3".to_string();
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={}", urlencoding(c)));
        }
        let r = t.get(&path, &director).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let page = r.json();
        let items = page["items"].as_array().expect("items");
        assert!(items.len() <= 3);
        for it in items {
            let fen = kam::domain::money::parse_fen(it["amount"].as_str().expect("amount")).expect("amount");
            seen.push((id_of(it), fen));
        }
        pages += 1;
        assert!(pages <= 10, "paging ends");
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(pages, 4, "11 records, 3 a page");
    let ids: BTreeSet<i64> = seen.iter().map(|(i, _)| *i).collect();
    assert_eq!(ids.len(), seen.len(), "no record twice: {seen:?}");
    assert_eq!(ids, all.iter().map(|(i, _, _)| *i).collect::<BTreeSet<_>>(), "every record once");
    assert!(seen.windows(2).all(|p| p[0].1 >= p[1].1), "largest amount first: {seen:?}");

    // Filters: by stage and owner together, by owner, by account, by name.
    let mut got = list_ids(&t, &director, "stage=contacted&owner=repB").await;
    got.sort();
    assert_eq!(got, contacted_b);
    assert!(list_ids(&t, &director, "stage=contacted&owner=repA").await.is_empty());
    assert_eq!(list_ids(&t, &director, "owner=repB&limit=100").await.len(), 5);
    assert_eq!(list_ids(&t, &director, "stage=identified&limit=100").await.len(), 9);
    assert_eq!(list_ids(&t, &director, &format!("account_id={}&limit=100", w.account_c)).await.len(), 0);
    assert_eq!(list_ids(&t, &director, &format!("account_id={}&limit=100", w.account_x)).await.len(), 11);
    assert_eq!(list_ids(&t, &director, "q=%E5%AE%9E%E9%AA%8C%E5%AE%A4").await, vec![id], "q=实验室");
    // repB sees only their own, whatever the filter asks for.
    assert_eq!(list_ids(&t, &bearer(&w, "repB"), "owner=repA").await, Vec::<i64>::new());
    assert_eq!(count(&t, &bearer(&w, "repB")).await, 5);
    let r = t.get("/api/v1/opportunities?stage=negotiating", &director).await;
    assert_eq!(fields(&r).get("stage").map(String::as_str), Some("invalid_choice"), "{}", r.body);
    let r = t.get("/api/v1/opportunities?sort=probability", &director).await;
    assert_eq!(fields(&r).get("sort").map(String::as_str), Some("invalid_choice"), "{}", r.body);
}

/// Percent-encodes a cursor for a query string.
fn urlencoding(s: &str) -> String {
    serde_urlencoded::to_string([("c", s)]).expect("encode").trim_start_matches("c=").to_string()
}

#[tokio::test]
async fn every_change_to_an_opportunity_leaves_an_audit_row() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (rep_a, manager, admin) = (bearer(&w, "repA"), bearer(&w, "manager"), bearer(&w, "admin"));
    let o = establish(&t, &w, "repA", "审计测试", "100000.00").await;
    let id = id_of(&o);
    let item = items_of(&o, "identified")[0].clone();
    let r = check(&t, &rep_a, id, &item, true, 1).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = check(&t, &rep_a, id, &item, false, 2).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(checked_items(&r.json()).is_empty());
    let r =
        move_stage(&t, &manager, id, json!({"stage": "contacted", "version": 3, "override_reason": "已拜访"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = move_stage(&t, &rep_a, id, json!({"stage": "identified", "version": 4, "reason": "联系人离职"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = t
        .call(
            Method::PATCH,
            &format!("/api/v1/opportunities/{id}"),
            &rep_a,
            Some(json!({"amount": "150000.00", "version": 5})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // Refused attempts leave no row.
    let r = move_stage(&t, &rep_a, id, json!({"stage": "contacted", "version": 6})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = move_stage(&t, &rep_a, id, json!({"stage": "contacted", "version": 1, "override_reason": "x"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);

    let r = audit_actions(&t, &admin, id).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let a = r.json();
    let rows = a["items"].as_array().expect("items");
    let got: Vec<(String, String)> = rows
        .iter()
        .map(|e| (e["what"].as_str().unwrap_or("").to_string(), e["who"].as_str().unwrap_or("").to_string()))
        .collect();
    let expected: Vec<(String, String)> = [
        ("update", "repA"),
        ("stage", "repA"),
        ("stage_override", "manager"),
        ("uncheck", "repA"),
        ("check", "repA"),
        ("create", "repA"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(got, expected, "newest first: {a}");
    assert!(rows.iter().all(|e| e["entity"] == "opportunity" && e["entity_id"] == id.to_string().as_str()));
    // Each row says what changed.
    assert_eq!(rows[0]["before"]["amount"], "100000.00");
    assert_eq!(rows[0]["after"]["amount"], "150000.00");
    assert!(rows[0]["changed"].as_array().expect("changed").contains(&json!("amount")), "{}", rows[0]);
    assert_eq!(
        (rows[1]["before"]["stage"].clone(), rows[1]["after"]["stage"].clone()),
        (json!("contacted"), json!("identified"))
    );
    assert_eq!(
        (rows[2]["before"]["stage"].clone(), rows[2]["after"]["stage"].clone()),
        (json!("identified"), json!("contacted"))
    );
    assert_eq!(rows[3]["after"]["item"], item.as_str());
    assert_eq!(rows[4]["after"]["item"], item.as_str());
    assert_eq!(rows[5]["after"]["name"], "审计测试");
    assert_eq!(rows[5]["after"]["stage"], "identified");
}

#[tokio::test]
async fn those_who_see_an_opportunity_can_read_its_audit_trail_and_nobody_else() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let o = establish(&t, &w, "repA", "审计可见性", "100000.00").await;
    let id = id_of(&o);
    for who in ["repB", "repC"] {
        let r = audit_actions(&t, &bearer(&w, who), id).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{who}: {}", r.body);
    }
    // The audit trail's rule: a record in the caller's scope, named, shows its history.
    for who in ["repA", "manager", "director"] {
        let r = audit_actions(&t, &bearer(&w, who), id).await;
        assert_eq!(r.status, StatusCode::OK, "{who} sees the opportunity and so its history: {}", r.body);
        let a = r.json();
        assert_eq!(a["items"][0]["what"], "create", "{who}: {a}");
    }
}

#[tokio::test]
async fn merging_a_duplicate_account_brings_its_opportunities_along() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (director, manager, rep_b) = (bearer(&w, "director"), bearer(&w, "manager"), bearer(&w, "repB"));
    // The same company typed in again by another office, held by repB.
    let body = json!({
        "name": "北京星河精密制造（有限公司）",
        "industry": "enterprise",
        "region": "N",
        "branch": "BJ",
        "owner": "repB",
        "allow_duplicate_name": true,
    });
    let r = t.call(Method::POST, "/api/v1/accounts", &director, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let d = id_of(&r.json());
    let on_dup = establish_as(&t, &rep_b, form(d, "重复客户上的商机", "250000.00")).await;
    let on_x = establish(&t, &w, "repA", "原客户上的商机", "100000.00").await;
    let (od, ox) = (id_of(&on_dup), id_of(&on_x));
    let funnel_before = funnel(&t, &director, "").await;

    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/accounts/{}/merge", w.account_x),
            &manager,
            Some(json!({"duplicate_id": d})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // The opportunity now sits on the survivor, with its stage, amount and owner as they were.
    let moved = record(&t, &w, od).await;
    assert_eq!(moved["account_id"], w.account_x);
    assert_eq!(moved["account_name"], "北京星河精密制造有限公司");
    assert_eq!(moved["stage"], "identified");
    assert_eq!(moved["amount"], "250000.00");
    assert_eq!(moved["owner"], "repB");
    assert_eq!(
        version_of(&moved),
        version_of(&on_dup) + 1,
        "moving it to the survivor is a change: a form opened before the merge gets 409"
    );
    let mut on_survivor = list_ids(&t, &director, &format!("account_id={}", w.account_x)).await;
    on_survivor.sort();
    assert_eq!(on_survivor, vec![od.min(ox), od.max(ox)]);
    assert!(list_ids(&t, &director, &format!("account_id={d}")).await.is_empty());
    // repB, who held the duplicate, still works on it, and now also sees repA's on the survivor.
    let r = t.get(&format!("/api/v1/opportunities/{od}"), &rep_b).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(count(&t, &rep_b).await, 2);
    let v = version_of(&moved);
    let r =
        move_stage(&t, &rep_b, od, json!({"stage": "lost", "version": v, "lost_reason": "重复立项", "lost_to": "无"}))
            .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // The funnel counts the same opportunities as before, nothing lost or doubled.
    let mut after = funnel_before.clone();
    for s in after["stages"].as_array_mut().expect("stages") {
        if s["stage"] == "identified" {
            s["count"] = json!(1);
            s["amount"] = json!("100000.00");
            s["weighted"] = json!("10000.00");
        }
        if s["stage"] == "lost" {
            s["count"] = json!(1);
            s["amount"] = json!("250000.00");
        }
    }
    after["weighted_pipeline"] = json!("10000.00");
    // One open opportunity left in identified (the other lost).
    after["stage_age"][0]["count"] = json!(1);
    assert_eq!(stage_row(&funnel_before, "identified"), row(2, "350000.00", "35000.00"));
    assert_eq!(funnel(&t, &director, "").await, after);

    // The merge says what it moved, and the opportunity's own history says where it went.
    let admin = bearer(&w, "admin");
    let h = t.get(&format!("/api/v1/audit?entity=account&id={}", w.account_x), &admin).await.json();
    let merge = h["items"].as_array().expect("items").iter().find(|e| e["what"] == "merge").expect("merge row");
    assert_eq!(merge["after"]["merge"]["moved"]["opportunities"], 1, "{merge}");
    let r = audit_actions(&t, &admin, od).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let a = r.json();
    let mv = a["items"].as_array().expect("items").iter().find(|e| e["what"] == "move");
    let mv = mv.unwrap_or_else(|| panic!("a move row in the opportunity's audit trail: {a}"));
    assert_eq!(mv["after"]["account_id"], w.account_x);
    assert_eq!(mv["after"]["from_account_id"], d);
}

/// A team member works on an opportunity but does not take it over; a hand-over gives the
/// leaver's open opportunities to the successor and leaves the closed ones with who closed them.
#[tokio::test]
async fn only_a_manager_or_a_hand_over_changes_who_owns_an_opportunity() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let mut body = form(w.account_x, "测量设备二期", "500000.00");
    body["team"] = json!("repB");
    let o = establish_as(&t, &bearer(&w, "repA"), body).await;
    let id = id_of(&o);
    assert_eq!(o["team"], json!(["repB"]));
    // repB on the team may edit, but not make themselves the owner.
    let r = t
        .call(
            Method::PATCH,
            &format!("/api/v1/opportunities/{id}"),
            &bearer(&w, "repB"),
            Some(json!({"owner": "repB", "version": version_of(&o)})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(fields(&r).get("owner").map(String::as_str), Some("forbidden_field"));
    let r = t
        .call(
            Method::PATCH,
            &format!("/api/v1/opportunities/{id}"),
            &bearer(&w, "repB"),
            Some(json!({"next_step": "安排技术交流", "version": version_of(&o)})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // A second, lost opportunity stays with repA after the hand-over.
    let lost = establish(&t, &w, "repA", "旧产线改造", "100000.00").await;
    let r = move_stage(
        &t,
        &bearer(&w, "manager"),
        id_of(&lost),
        json!({"stage": "lost", "version": version_of(&lost), "lost_reason": "预算取消", "lost_to": "竞争对手甲"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let admin = Auth::Bearer(t.token("admin").await);
    let r = t.call(Method::POST, "/api/v1/users/repA/handover", &admin, Some(json!({"to": "repC"}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["opportunities"], 1, "{}", r.body);
    assert_eq!(record(&t, &w, id).await["owner"], "repC");
    assert_eq!(record(&t, &w, id_of(&lost)).await["owner"], "repA", "a closed one keeps who closed it");
    assert!(list_ids(&t, &bearer(&w, "repC"), "").await.contains(&id), "the successor sees what they now own");
}

/// Every page of a caller's list in the default order (by expected close date), following the
/// cursor two at a time: (id, expected_close).
async fn pages_by_date(t: &TestApp, who: &Auth) -> Vec<(i64, String)> {
    let mut out = vec![];
    let mut cursor: Option<String> = None;
    loop {
        let q = match &cursor {
            Some(c) => format!(
                "limit=2&cursor={}",
                percent_encoding::utf8_percent_encode(c, percent_encoding::NON_ALPHANUMERIC)
            ),
            None => "limit=2".to_string(),
        };
        let r = t.get(&format!("/api/v1/opportunities?{q}"), who).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let v = r.json();
        for o in v["items"].as_array().expect("items") {
            out.push((id_of(o), o["expected_close"].as_str().expect("date").to_string()));
        }
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return out,
        }
        assert!(out.len() < 100, "the cursor ends");
    }
}

/// A rep's list in its default order is read from `opportunity_visibility`; after each change
/// that moves who sees what, its rows are exactly those the rule derives from the sources
/// (`visibility::rebuild_all`), and the rep's pages hold exactly what the general scope (any
/// other sort) shows, in date order.
#[tokio::test]
async fn a_reps_list_by_date_holds_exactly_what_the_scope_rule_gives_after_each_change() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let snapshot = |db: kam::db::Db| async move {
        sqlx::query("SELECT user_id, expected_close, opportunity_id FROM opportunity_visibility ORDER BY 1, 2, 3")
            .fetch_all(&db.pool)
            .await
            .expect("rows")
            .iter()
            .map(|r| {
                use sqlx::Row;
                (r.get::<i64, _>(0), r.get::<String, _>(1), r.get::<i64, _>(2))
            })
            .collect::<Vec<_>>()
    };
    let check = |stage: &'static str| {
        let (t, w) = (&t, &w);
        async move {
            let kept = snapshot(t.app.db.clone()).await;
            let mut tx = t.app.db.begin().await.expect("tx");
            kam::app::customers::visibility::rebuild_all(tx.conn()).await.expect("rebuild");
            tx.commit().await.expect("commit");
            assert_eq!(kept, snapshot(t.app.db.clone()).await, "{stage}: the rows are the rule's");
            for rep in ["repA", "repB", "repC"] {
                let pages = pages_by_date(t, &bearer(w, rep)).await;
                let mut sorted = pages.clone();
                sorted.sort_by(|a, b| (&a.1, a.0).cmp(&(&b.1, b.0)));
                assert_eq!(pages, sorted, "{stage}: {rep}'s pages are in date order");
                let mut by_date: Vec<i64> = pages.iter().map(|p| p.0).collect();
                let mut general = list_ids(t, &bearer(w, rep), "sort=name&limit=200").await;
                by_date.sort_unstable();
                general.sort_unstable();
                assert_eq!(by_date, general, "{stage}: {rep} sees the same opportunities in either order");
            }
        }
    };
    // repA's own, on the account repA holds, with dates out of order.
    let mut ids = vec![];
    for (name, date) in [("一期", "2031-06-30"), ("二期", "2030-01-15"), ("三期", "2032-03-01"), ("四期", "2030-01-15")]
    {
        let mut body = form(w.account_x, name, "100000.00");
        body["expected_close"] = json!(date);
        ids.push(establish_as(&t, &bearer(&w, "repA"), body).await);
    }
    // repB works on one as a team member (repB does not see the account itself).
    let mut body = form(w.account_x, "五期", "100000.00");
    body["team"] = json!("repB");
    let teamed = establish_as(&t, &bearer(&w, "repA"), body).await;
    check("established").await;
    assert_eq!(pages_by_date(&t, &bearer(&w, "repB")).await.len(), 1, "repB sees the one whose team they are on");
    assert_eq!(pages_by_date(&t, &bearer(&w, "repA")).await.len(), 5);
    // A new date moves the opportunity in the order.
    let first = &ids[0];
    let r = t
        .call(
            Method::PATCH,
            &format!("/api/v1/opportunities/{}", id_of(first)),
            &bearer(&w, "repA"),
            Some(json!({"expected_close": "2029-12-31", "version": version_of(first)})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    check("date changed").await;
    assert_eq!(pages_by_date(&t, &bearer(&w, "repA")).await[0].0, id_of(first), "the earliest date comes first");
    // Off the team: repB no longer sees it.
    let r = t
        .call(
            Method::PATCH,
            &format!("/api/v1/opportunities/{}", id_of(&teamed)),
            &bearer(&w, "manager"),
            Some(json!({"team": "", "version": version_of(&record(&t, &w, id_of(&teamed)).await)})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    check("team changed").await;
    assert!(pages_by_date(&t, &bearer(&w, "repB")).await.is_empty(), "off the team, out of sight");
    // The account changes hands: repC sees its opportunities (repA still owns them).
    let acc = t.get(&format!("/api/v1/accounts/{}", w.account_x), &bearer(&w, "director")).await.json();
    let r = t
        .call(
            Method::PATCH,
            &format!("/api/v1/accounts/{}", w.account_x),
            &bearer(&w, "director"),
            Some(json!({"owner": "repC", "version": acc["version"]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    check("account reassigned").await;
    assert_eq!(pages_by_date(&t, &bearer(&w, "repC")).await.len(), 5, "the new owner sees its opportunities");
    // A hand-over moves the open ones repA still owns to repB.
    let admin = Auth::Bearer(t.token("admin").await);
    let r = t.call(Method::POST, "/api/v1/users/repA/handover", &admin, Some(json!({"to": "repB"}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    check("handed over").await;
    assert_eq!(pages_by_date(&t, &bearer(&w, "repB")).await.len(), 5, "repB now owns them");
}

/// A list filtered by owner (read from the owner's index) keeps the caller's scope, the open
/// filter and the order by last update.
#[tokio::test]
async fn a_list_by_owner_keeps_the_scope_and_the_order_by_last_update() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let first = establish(&t, &w, "repA", "甲项目", "100.00").await;
    let second = establish(&t, &w, "repA", "乙项目", "200.00").await;
    let hidden = establish_as(&t, &bearer(&w, "repC"), form(w.account_c, "上海项目", "300.00")).await;
    // Touch the first so that it is the most recently updated.
    let r = check(&t, &bearer(&w, "repA"), id_of(&first), &items_of(&first, "identified")[0], true, version_of(&first))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let q = "owner=repA&open=1&sort=updated&limit=50";
    assert_eq!(list_ids(&t, &bearer(&w, "repA"), q).await, vec![id_of(&first), id_of(&second)]);
    assert_eq!(list_ids(&t, &bearer(&w, "director"), q).await, vec![id_of(&first), id_of(&second)]);
    // repA cannot see repC's account: filtering by repC shows nothing, the director sees it.
    assert!(list_ids(&t, &bearer(&w, "repA"), "owner=repC&sort=updated").await.is_empty());
    assert!(list_ids(&t, &bearer(&w, "repA"), "owner=repC").await.is_empty());
    assert_eq!(list_ids(&t, &bearer(&w, "director"), "owner=repC").await, vec![id_of(&hidden)]);
    // Pages by cursor in the same order, each record once.
    let r = t.get(&format!("/api/v1/opportunities?{}", q.replace("limit=50", "limit=1")), &bearer(&w, "repA")).await;
    let page: Value = r.json();
    assert_eq!(page["items"][0]["id"], id_of(&first));
    let cursor = page["next_cursor"].as_str().expect("cursor").to_string();
    let next =
        list_ids(&t, &bearer(&w, "repA"), &format!("{}&cursor={cursor}", q.replace("limit=50", "limit=1"))).await;
    assert_eq!(next, vec![id_of(&second)]);
    // An unknown owner lists nothing.
    assert!(list_ids(&t, &bearer(&w, "director"), "owner=nobody").await.is_empty());
}

#[tokio::test]
async fn a_deal_is_booked_on_the_callers_own_day_not_utcs() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let director = bearer(&w, "director");
    let o = establish(&t, &w, "repA", "本地日期", "100000.00").await;
    // The caller's day in China: from 16:00 UTC it is already tomorrow there.
    let local = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
    let tomorrow = (local + chrono::Duration::days(1)).format("%Y-%m-%d").to_string();
    let body = |v: &Value, on: &str| json!({"stage": "won", "version": version_of(v), "override_reason": "合同已签", "booked_amount": "100000.00", "booked_on": on});
    let r = move_stage(&t, &director, id_of(&o), body(&o, &tomorrow)).await;
    assert_eq!(fields(&r).get("booked_on").map(String::as_str), Some("date_in_future"), "{}", r.body);
    let r = move_stage(&t, &director, id_of(&o), body(&o, &local.format("%Y-%m-%d").to_string())).await;
    assert_eq!(r.status, StatusCode::OK, "today in the caller's time zone: {}", r.body);
}
