//! Bids (投标决策) and negotiation rounds (商务谈判), issue 20 items 2 and 5: the tender's facts
//! and their versions, bad input, a decision within authority, bid exceptions reaching the
//! commercial manager and then the branch manager of the account's branch (the region's head
//! without one), negotiation escalations (the manager, then the KA director), scope, the audit
//! trail, the home's deadlines and the pages — on whichever backend the suite runs on.
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use super::common::{fields, seed, Auth, TestApp, World, PASSWORD};

fn bearer(w: &World, user: &str) -> Auth {
    Auth::Bearer(w.tokens[user].clone())
}

fn session(sid: &str) -> Auth {
    Auth::Session { cookie: sid.to_string(), csrf: String::new() }
}

async fn add_user(t: &TestApp, w: &World, username: &str, role: &str, org: &str) -> Auth {
    let body = json!({"username": username, "role": role, "org_unit": org, "password": "bids-pass-1", "display_name": username});
    let r = t.call(Method::POST, "/api/v1/users", &bearer(w, "admin"), Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    Auth::Bearer(t.token(username).await)
}

/// An open opportunity of `account` owned by `who`.
async fn opportunity(t: &TestApp, who: &Auth, account: i64, name: &str) -> i64 {
    let body = json!({
        "account_id": account, "name": name, "amount": "1000000.00", "expected_close": "2099-06-30",
        "eval_need": "扩产", "eval_budget": "已批", "eval_timeline": "二季度", "eval_decision_makers": "总经理"
    });
    let r = t.call(Method::POST, "/api/v1/opportunities", who, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.json()["id"].as_i64().expect("id")
}

fn tender(bond: &str) -> Value {
    json!({
        "issuer": "北京星河精密制造有限公司", "tender_no": "XH-2099-018", "questions_due": "2099-03-05",
        "submission_due": "2099-03-15", "bond_amount": bond, "bond_return_on": "2099-04-15",
        "documents": "营业执照副本、技术方案"
    })
}

async fn create(t: &TestApp, who: &Auth, opp: i64, body: Value) -> Value {
    let r = t.call(Method::POST, &format!("/api/v1/opportunities/{opp}/bids"), who, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.json()
}

async fn post(t: &TestApp, who: &Auth, path: &str, body: Value) -> (StatusCode, Value) {
    let r = t.call(Method::POST, path, who, Some(body)).await;
    let v = if r.body.is_empty() { Value::Null } else { r.json() };
    (r.status, v)
}

async fn decide(t: &TestApp, who: &Auth, bid: &Value, extra: Value) -> Value {
    let mut body = json!({"version": bid["version"], "decision": "bid", "reasons": "技术指标匹配，客户关系稳固"});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    let (st, v) = post(t, who, &format!("/api/v1/bids/{}/decide", bid["id"]), body).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v
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

async fn approve(t: &TestApp, who: &Auth, approval: i64) {
    let body = json!({"decision": "approve", "comment": "同意"});
    let (st, v) = post(t, who, &format!("/api/v1/approvals/{approval}/decision"), body).await;
    assert_eq!(st, StatusCode::OK, "{v}");
}

/// The ids in a list answer.
fn ids(v: &Value) -> Vec<i64> {
    v["items"].as_array().expect("items").iter().filter_map(|r| r["id"].as_i64()).collect()
}

async fn count(t: &TestApp, table: &str) -> i64 {
    sqlx::Row::try_get(
        &sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}")).fetch_one(&t.db().pool).await.expect("count"),
        "n",
    )
    .expect("n")
}

fn day(n: i64) -> String {
    (chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive() + chrono::Duration::days(n))
        .format("%Y-%m-%d")
        .to_string()
}

#[tokio::test]
async fn a_tender_is_recorded_edited_and_a_stale_version_changes_nothing() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = bearer(&w, "repA");
    let opp = opportunity(&t, &rep, w.account_x, "扩产项目").await;
    let b = create(&t, &rep, opp, tender("80000")).await;
    assert_eq!(
        (b["decision"].as_str(), b["exception_state"].as_str(), b["bond_amount"].as_str()),
        (Some("pending"), Some("none"), Some("80000.00")),
        "{b}"
    );
    assert_eq!((b["owner"].as_str(), b["owner_name"].as_str()), (Some("repA"), Some("repA")));
    assert!(b["result"].is_null());
    let id = b["id"].as_i64().expect("id");
    let path = format!("/api/v1/bids/{id}");
    let r = t
        .call(
            Method::PATCH,
            &path,
            &rep,
            Some(json!({"version": b["version"], "bond_amount": "90,000", "tender_no": "", "documents": "技术方案"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let e = r.json();
    assert_eq!(e["bond_amount"], "90000.00", "a form's amount is read as typed: {e}");
    assert!(e["tender_no"].is_null(), "an empty field clears it: {e}");
    assert_eq!(e["issuer"], b["issuer"], "an absent field keeps its value");
    assert_eq!(e["version"].as_i64(), b["version"].as_i64().map(|v| v + 1));
    // The version read before the edit is stale now: 409, and nothing changes.
    let r = t.call(Method::PATCH, &path, &rep, Some(json!({"version": b["version"], "issuer": "别人"}))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let now = t.get(&path, &rep).await.json();
    assert_eq!((now["issuer"].clone(), now["version"].clone()), (e["issuer"].clone(), e["version"].clone()));
    // Without a version an edit is refused, naming it.
    let r = t.call(Method::PATCH, &path, &rep, Some(json!({"issuer": "别人"}))).await;
    assert_eq!(fields(&r).get("version").map(String::as_str), Some("required"));
    // The opportunity's list has it.
    let list = t.get(&format!("/api/v1/opportunities/{opp}/bids"), &rep).await.json();
    assert_eq!(ids(&list), vec![id]);
    // Every change is in the trail, readable by whoever sees the bid.
    let trail = t.get(&format!("/api/v1/audit?entity=bid&id={id}"), &rep).await;
    assert_eq!(trail.status, StatusCode::OK, "{}", trail.body);
    let actions: Vec<String> = trail.json()["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["what"].as_str().map(str::to_string))
        .collect();
    assert!(actions.contains(&"create".to_string()) && actions.contains(&"update".to_string()), "{actions:?}");
}

#[tokio::test]
async fn bad_input_names_the_field_and_saves_nothing() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = bearer(&w, "repA");
    let opp = opportunity(&t, &rep, w.account_x, "校验").await;
    let path = format!("/api/v1/opportunities/{opp}/bids");
    let with = |k: &str, v: Value| {
        let mut b = tender("1000");
        b[k] = v;
        b
    };
    let cases = [
        (with("submission_due", json!("2099-03-01")), "submission_due", "submission_before_questions"),
        (with("bond_amount", json!("-10.00")), "bond_amount", "negative"),
        (with("bond_return_on", json!("2099-03-14")), "bond_return_on", "bond_return_before_submission"),
        (with("issuer", json!("  ")), "issuer", "required"),
        (with("submission_due", json!("2099-02-30")), "submission_due", "date_format"),
        (with("bond_amount", json!("12.345")), "bond_amount", "money_format"),
        (json!({"issuer": "某单位"}), "submission_due", "required"),
    ];
    for (body, field, code) in cases {
        let r = t.call(Method::POST, &path, &rep, Some(body.clone())).await;
        let f = fields(&r);
        assert_eq!(f.get(field).map(String::as_str), Some(code), "{body}: {f:?}");
    }
    // Every refusal at once.
    let r = t
        .call(Method::POST, &path, &rep, Some(json!({"submission_due": "x", "bond_amount": "-1", "issuer": ""})))
        .await;
    let f = fields(&r);
    assert_eq!(f.len(), 3, "{f:?}");
    let r = t
        .call(Method::POST, &path, &rep, Some(json!({"issuer": "a", "submission_due": "2099-01-01", "colour": 1})))
        .await;
    assert_eq!(fields(&r).get("colour").map(String::as_str), Some("unknown_field"));
    assert_eq!(count(&t, "bids").await, 0, "nothing saved");

    // The decision and the result refuse bad input without changing the bid.
    let b = create(&t, &rep, opp, tender("1000")).await;
    let dpath = format!("/api/v1/bids/{}/decide", b["id"]);
    let decisions = [
        (json!({"version": b["version"], "decision": "bid"}), "reasons", "required"),
        (json!({"version": b["version"], "decision": "maybe", "reasons": "x"}), "decision", "invalid_choice"),
        (json!({"version": b["version"], "decision": "pending", "reasons": "x"}), "decision", "invalid_choice"),
        (
            json!({"version": b["version"], "decision": "bid", "reasons": "x", "below_floor": true}),
            "exception_note",
            "required",
        ),
        (
            json!({"version": b["version"], "decision": "bid", "reasons": "x", "bid_price": "-5"}),
            "bid_price",
            "negative",
        ),
    ];
    for (body, field, code) in decisions {
        let r = t.call(Method::POST, &dpath, &rep, Some(body.clone())).await;
        assert_eq!(fields(&r).get(field).map(String::as_str), Some(code), "{body}");
    }
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/bids/{}/result", b["id"]),
            &rep,
            Some(json!({"version": b["version"], "result": "lost", "winning_price": "1.00"})),
        )
        .await;
    assert_eq!(fields(&r).get("winner").map(String::as_str), Some("required"), "lost needs the winner");
    let now = t.get(&format!("/api/v1/bids/{}", b["id"]), &rep).await.json();
    assert_eq!(
        (now["version"].clone(), now["decision"].clone(), now["result"].clone()),
        (b["version"].clone(), json!("pending"), Value::Null),
        "nothing saved: {now}"
    );
    assert_eq!(count(&t, "approvals").await, 0);

    // A negotiation round: the day and the participants are required; an escalation needs its
    // reason and must ask beyond the author's own 5 %.
    let npath = format!("/api/v1/opportunities/{opp}/negotiations");
    let round = |extra: Value| {
        let mut b = json!({"held_on": "2099-02-20", "participants": "刘经理；林涛"});
        if let (Some(o), Some(e)) = (b.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        b
    };
    let rounds = [
        (round(json!({"held_on": ""})), "held_on", "required"),
        (round(json!({"participants": " "})), "participants", "required"),
        (round(json!({"asked_discount": "12"})), "escalation_reason", "required"),
        (round(json!({"escalation_reason": "竞品价低"})), "asked_discount", "required"),
        (round(json!({"asked_discount": "3", "escalation_reason": "x"})), "asked_discount", "within_own_authority"),
        (round(json!({"asked_discount": "120", "escalation_reason": "x"})), "asked_discount", "discount_range"),
    ];
    for (body, field, code) in rounds {
        let r = t.call(Method::POST, &npath, &rep, Some(body.clone())).await;
        assert_eq!(fields(&r).get(field).map(String::as_str), Some(code), "{body}");
    }
    assert_eq!(count(&t, "negotiation_rounds").await, 0, "no round saved");
    assert_eq!(count(&t, "approvals").await, 0, "no request started");
}

#[tokio::test]
async fn a_bid_within_authority_stands_at_once_and_its_result_closes_it() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = bearer(&w, "repA");
    let opp = opportunity(&t, &rep, w.account_x, "权限内").await;
    // A bond exactly at the limit (500,000.00 元) is within authority.
    let b = create(&t, &rep, opp, tender("500000.00")).await;
    // Won before deciding to bid: refused.
    let (st, v) =
        post(&t, &rep, &format!("/api/v1/bids/{}/result", b["id"]), json!({"version": b["version"], "result": "won"}))
            .await;
    assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("bid_not_decided")), "{v}");
    let d = decide(&t, &rep, &b, json!({"bid_price": "960000.00"})).await;
    assert_eq!(
        (d["decision"].as_str(), d["exception_state"].as_str(), d["bond_above_limit"].as_bool()),
        (Some("bid"), Some("none"), Some(false)),
        "{d}"
    );
    assert!(d["approval_id"].is_null(), "no request: {d}");
    assert_eq!((d["bid_price"].as_str(), d["decided_by_name"].as_str()), (Some("960000.00"), Some("repA")));
    assert_eq!(count(&t, "approvals").await, 0);
    let (st, r) = post(
        &t,
        &rep,
        &format!("/api/v1/bids/{}/result", d["id"]),
        json!({"version": d["version"], "result": "won", "winning_price": "960000.00", "note": "技术分第一"}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{r}");
    assert_eq!((r["result"].as_str(), r["winning_price"].as_str()), (Some("won"), Some("960000.00")));
    // An ended tender changes no more.
    let (st, v) = post(
        &t,
        &rep,
        &format!("/api/v1/bids/{}/decide", d["id"]),
        json!({"version": r["version"], "decision": "no_bid", "reasons": "x"}),
    )
    .await;
    assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("bid_closed")), "{v}");
    // Declining another tender needs no one either; it leaves the deadlines' lists.
    let b2 = create(&t, &rep, opp, json!({"issuer": "某研究所", "submission_due": day(3)})).await;
    let home = t.get("/api/v1/home", &rep).await.json();
    let due: Vec<i64> = home["todos"]["bid_deadlines"]
        .as_array()
        .expect("deadlines")
        .iter()
        .filter_map(|d| d["bid_id"].as_i64())
        .collect();
    assert_eq!(due, vec![b2["id"].as_i64().expect("id")], "the home lists the week's deadline: {home}");
    let n = decide(&t, &rep, &b2, json!({"decision": "no_bid", "reasons": "资质不符"})).await;
    assert_eq!((n["decision"].as_str(), n["exception_state"].as_str()), (Some("no_bid"), Some("none")));
    let home = t.get("/api/v1/home", &rep).await.json();
    assert_eq!(home["todos"]["bid_deadlines"].as_array().map(Vec::len), Some(0), "{home}");
}

#[tokio::test]
async fn a_bond_above_the_limit_asks_the_commercial_manager_then_the_branch_manager_of_the_branch() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let commercial = add_user(&t, &w, "commercial", "commercial_manager", "HQ").await;
    let bj = add_user(&t, &w, "bjboss", "branch_manager", "BJ").await;
    let (rep, region) = (bearer(&w, "repA"), bearer(&w, "region"));
    let opp = opportunity(&t, &rep, w.account_x, "大额保证金").await;
    let b = create(&t, &rep, opp, tender("800000.00")).await;
    let d = decide(&t, &rep, &b, json!({"bid_price": "4860000.00"})).await;
    assert_eq!(
        (d["exception_state"].as_str(), d["bond_above_limit"].as_bool(), d["decision"].as_str()),
        (Some("pending"), Some(true), Some("bid")),
        "{d}"
    );
    let aid = d["approval_id"].as_i64().expect("a bid_exception request");
    let a = t.get(&format!("/api/v1/approvals/{aid}"), &commercial).await.json();
    assert_eq!((a["flow"].as_str(), a["subject"]["type"].as_str()), (Some("bid_exception"), Some("bid")), "{a}");
    assert_eq!(a["payload"]["bond_limit"], "500000.00");
    assert_eq!(
        steps(&t, &commercial, aid).await,
        pairs(&[("commercial_manager", "open"), ("branch_manager", "waiting")])
    );
    // The commercial manager's inbox has it; the result waits for the request.
    let inbox = t.get("/api/v1/approvals", &commercial).await.json();
    assert_eq!(ids(&inbox), vec![aid], "{inbox}");
    let (st, v) =
        post(&t, &rep, &format!("/api/v1/bids/{}/result", d["id"]), json!({"version": d["version"], "result": "won"}))
            .await;
    assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("bid_exception_open")), "{v}");
    approve(&t, &commercial, aid).await;
    assert_eq!(steps(&t, &bj, aid).await, pairs(&[("commercial_manager", "approved"), ("branch_manager", "open")]));
    // The region's head is not the branch's manager: not theirs to decide.
    let (st, _) = post(
        &t,
        &region,
        &format!("/api/v1/approvals/{aid}/decision"),
        json!({"decision": "approve", "comment": "同意"}),
    )
    .await;
    assert!(st == StatusCode::FORBIDDEN || st == StatusCode::NOT_FOUND, "{st}");
    let mid = t.get(&format!("/api/v1/bids/{}", d["id"]), &rep).await.json();
    assert_eq!(mid["exception_state"], "pending", "{mid}");
    approve(&t, &bj, aid).await;
    let done = t.get(&format!("/api/v1/bids/{}", d["id"]), &rep).await.json();
    assert_eq!(done["exception_state"], "approved", "{done}");
    assert_eq!(t.get(&format!("/api/v1/approvals/{aid}"), &rep).await.json()["state"], "approved");
    // A changed bond asks again: the approved request stays history, a new one waits.
    let r = t
        .call(
            Method::PATCH,
            &format!("/api/v1/bids/{}", d["id"]),
            &rep,
            Some(json!({"version": done["version"], "bond_amount": "900000.00"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let again = r.json();
    assert_eq!(again["exception_state"], "pending", "{again}");
    let aid2 = again["approval_id"].as_i64().expect("asked again");
    assert_ne!(aid2, aid);
    // Lowered within the limit, the decision stands at once and the new request is cancelled.
    let r = t
        .call(
            Method::PATCH,
            &format!("/api/v1/bids/{}", d["id"]),
            &rep,
            Some(json!({"version": again["version"], "bond_amount": "300000.00"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let lowered = r.json();
    assert_eq!(
        (lowered["exception_state"].as_str(), lowered["approval_id"].as_i64()),
        (Some("none"), None),
        "{lowered}"
    );
    assert_eq!(t.get(&format!("/api/v1/approvals/{aid2}"), &rep).await.json()["state"], "cancelled");
    let (st, lost) = post(
        &t,
        &rep,
        &format!("/api/v1/bids/{}/result", d["id"]),
        json!({"version": lowered["version"], "result": "lost", "winner": "海克斯康", "winning_price": "4500000.00"}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{lost}");
    assert_eq!((lost["result"].as_str(), lost["winner"].as_str()), (Some("lost"), Some("海克斯康")));
}

#[tokio::test]
async fn an_account_without_a_branch_reaches_the_regions_head_and_a_rejection_is_recorded() {
    use kam::app::customers::accounts;
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let commercial = add_user(&t, &w, "commercial", "commercial_manager", "HQ").await;
    let bj = add_user(&t, &w, "bjboss", "branch_manager", "BJ").await;
    let (rep, region) = (bearer(&w, "repA"), bearer(&w, "region"));
    let db = t.db();
    let id_of = |sql: &'static str| async move {
        sqlx::Row::try_get::<i64, _>(&sqlx::query(sql).fetch_one(&db.pool).await.expect("row"), "id").expect("id")
    };
    let n = id_of("SELECT id FROM org_units WHERE code = 'N'").await;
    let owner = id_of("SELECT id FROM users WHERE username = 'repA'").await;
    let ctx = kam::app::Ctx::system();
    let mut tx = db.begin().await.expect("tx");
    let data = accounts::AccountData {
        name: "华北电力设计院".into(),
        industry: "power".into(),
        level: "L2".into(),
        status: "key_account".into(),
        region_id: Some(n),
        branch_id: None,
        owner_id: Some(owner),
        ..Default::default()
    };
    let account = accounts::insert(&mut tx, &ctx, &data).await.expect("account without a branch");
    tx.commit().await.expect("commit");
    let opp = opportunity(&t, &rep, account, "设计院扩容").await;
    let b = create(&t, &rep, opp, tender("1000.00")).await;
    let d = decide(
        &t,
        &rep,
        &b,
        json!({"terms_outside_policy": true, "exception_note": "验收后付款 90%", "below_floor": true}),
    )
    .await;
    assert_eq!((d["exception_state"].as_str(), d["bond_above_limit"].as_bool()), (Some("pending"), Some(false)));
    let aid = d["approval_id"].as_i64().expect("request");
    approve(&t, &commercial, aid).await;
    // The Beijing branch's manager has nothing to do with this account.
    let (st, _) =
        post(&t, &bj, &format!("/api/v1/approvals/{aid}/decision"), json!({"decision": "approve", "comment": "x"}))
            .await;
    assert!(st == StatusCode::FORBIDDEN || st == StatusCode::NOT_FOUND, "{st}");
    let waiting = t.get("/api/v1/approvals", &region).await.json();
    assert_eq!(ids(&waiting), vec![aid], "the region's head decides: {waiting}");
    let (st, v) = post(
        &t,
        &region,
        &format!("/api/v1/approvals/{aid}/decision"),
        json!({"decision": "reject", "comment": "付款条件风险过高"}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let after = t.get(&format!("/api/v1/bids/{}", d["id"]), &rep).await.json();
    assert_eq!(
        (after["exception_state"].as_str(), after["exception_reason"].as_str()),
        (Some("rejected"), Some("付款条件风险过高")),
        "{after}"
    );
    // Decided again within authority, it stands and the reason is gone.
    let again = decide(&t, &rep, &after, json!({"reasons": "按标准条款投标"})).await;
    assert_eq!((again["exception_state"].as_str(), again["exception_reason"].as_str()), (Some("none"), None));
}

#[tokio::test]
async fn a_negotiation_escalation_reaches_the_manager_then_the_director() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (rep, manager, director) = (bearer(&w, "repA"), bearer(&w, "manager"), bearer(&w, "director"));
    let opp = opportunity(&t, &rep, w.account_x, "谈判").await;
    let path = format!("/api/v1/opportunities/{opp}/negotiations");
    let (st, plain) = post(
        &t,
        &rep,
        &path,
        json!({"held_on": "2099-02-10", "participants": "刘经理；林涛", "our_position": "总价 96 万", "their_position": "88 万", "concessions": "维保延长一年", "next_step": "下周报价"}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{plain}");
    assert!(plain["outcome"].is_null() && plain["approval_id"].is_null(), "no escalation: {plain}");
    let (st, r) = post(
        &t,
        &rep,
        &path,
        json!({"held_on": "2099-02-20", "participants": "刘经理；林涛", "asked_discount": "12", "escalation_reason": "竞品报价低 10%"}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    assert_eq!((r["outcome"].as_str(), r["asked_discount"].as_str()), (Some("pending"), Some("12.00")), "{r}");
    let aid = r["approval_id"].as_i64().expect("request");
    let a = t.get(&format!("/api/v1/approvals/{aid}"), &manager).await.json();
    assert_eq!(a["flow"], "negotiation_escalation");
    assert_eq!(steps(&t, &manager, aid).await, pairs(&[("ka_manager", "open"), ("ka_director", "waiting")]));
    approve(&t, &manager, aid).await;
    assert_eq!(steps(&t, &director, aid).await, pairs(&[("ka_manager", "approved"), ("ka_director", "open")]));
    let list = t.get(&path, &rep).await.json();
    assert_eq!(list["items"][0]["outcome"], "pending", "still waiting for the director: {list}");
    approve(&t, &director, aid).await;
    let list = t.get(&path, &rep).await.json();
    let rounds = list["items"].as_array().expect("items");
    assert_eq!(rounds.len(), 2);
    assert_eq!((rounds[0]["id"].clone(), rounds[0]["outcome"].as_str()), (r["id"].clone(), Some("approved")), "{list}");
    // Returned by the manager: the round says so, with the reason.
    let (_, r2) = post(
        &t,
        &rep,
        &path,
        json!({"held_on": "2099-03-01", "participants": "王总；林涛", "asked_discount": "18", "escalation_reason": "最后一轮"}),
    )
    .await;
    let aid2 = r2["approval_id"].as_i64().expect("request");
    let (st, v) = post(
        &t,
        &manager,
        &format!("/api/v1/approvals/{aid2}/decision"),
        json!({"decision": "return", "comment": "先争取付款条件"}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let list = t.get(&path, &rep).await.json();
    let back =
        list["items"].as_array().expect("items").iter().find(|x| x["id"] == r2["id"]).expect("the round").clone();
    assert_eq!((back["outcome"].as_str(), back["outcome_reason"].as_str()), (Some("returned"), Some("先争取付款条件")));
    let trail = t.get(&format!("/api/v1/audit?entity=negotiation_round&id={}", r2["id"]), &rep).await.json();
    let actions: Vec<&str> =
        trail["items"].as_array().expect("items").iter().filter_map(|e| e["what"].as_str()).collect();
    assert!(actions.contains(&"create") && actions.contains(&"outcome"), "{actions:?}");
}

#[tokio::test]
async fn bids_and_rounds_are_scoped_as_their_opportunity() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (rep, other, manager) = (bearer(&w, "repA"), bearer(&w, "repC"), bearer(&w, "manager"));
    let opp = opportunity(&t, &rep, w.account_x, "范围").await;
    let b = create(&t, &rep, opp, json!({"issuer": "星河", "submission_due": day(2), "questions_due": day(1)})).await;
    let id = b["id"].as_i64().expect("id");
    assert_eq!(t.get(&format!("/api/v1/bids/{id}"), &other).await.status, StatusCode::NOT_FOUND);
    assert_eq!(t.get(&format!("/api/v1/opportunities/{opp}/bids"), &other).await.status, StatusCode::NOT_FOUND);
    assert_eq!(t.get(&format!("/api/v1/opportunities/{opp}/negotiations"), &other).await.status, StatusCode::NOT_FOUND);
    for (m, p, body) in [
        (Method::PATCH, format!("/api/v1/bids/{id}"), json!({"version": b["version"], "issuer": "x"})),
        (
            Method::POST,
            format!("/api/v1/bids/{id}/decide"),
            json!({"version": b["version"], "decision": "no_bid", "reasons": "x"}),
        ),
        (Method::POST, format!("/api/v1/bids/{id}/result"), json!({"version": b["version"], "result": "abandoned"})),
        (
            Method::POST,
            format!("/api/v1/opportunities/{opp}/bids"),
            json!({"issuer": "x", "submission_due": "2099-01-01"}),
        ),
        (
            Method::POST,
            format!("/api/v1/opportunities/{opp}/negotiations"),
            json!({"held_on": "2099-01-01", "participants": "x"}),
        ),
    ] {
        let r = t.call(m.clone(), &p, &other, Some(body)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{m} {p}: {}", r.body);
    }
    let theirs = t.get("/api/v1/bids", &other).await.json();
    assert!(ids(&theirs).is_empty(), "{theirs}");
    assert!(ids(&t.get("/api/v1/bids?due_within=7", &other).await.json()).is_empty());
    // The rep's manager sees it in the team's list; the filters narrow it.
    for q in ["", "?owner=repA", "?decision=pending", "?open=true", "?due_within=7", "?sort=submission_due", "?q=星河"]
    {
        let r = t.get(&format!("/api/v1/bids{q}"), &manager).await.json();
        assert_eq!(ids(&r), vec![id], "{q}: {r}");
    }
    for q in ["?decision=bid", "?result=won", "?open=false", "?due_within=1", "?owner=repB"] {
        let r = t.get(&format!("/api/v1/bids{q}"), &manager).await.json();
        assert!(ids(&r).is_empty(), "{q}: {r}");
    }
    let r = t.get("/api/v1/bids?due_within=-1", &manager).await;
    assert_eq!(fields(&r).get("due_within").map(String::as_str), Some("days_range"));
    // Paging: two pages of one.
    create(&t, &rep, opp, json!({"issuer": "第二家", "submission_due": "2099-05-01"})).await;
    let p1 = t.get("/api/v1/bids?limit=1&sort=submission_due", &manager).await.json();
    assert_eq!(ids(&p1), vec![id]);
    let cursor = p1["next_cursor"].as_str().expect("a next page").to_string();
    let p2 = t.get(&format!("/api/v1/bids?limit=1&sort=submission_due&cursor={cursor}"), &manager).await.json();
    assert_eq!(p2["items"][0]["issuer"], "第二家", "{p2}");
    assert!(p2["next_cursor"].is_null());
    // The trail of a bid out of scope is not the other rep's to read.
    let trail = t.get(&format!("/api/v1/audit?entity=bid&id={id}"), &other).await;
    assert_ne!(trail.status, StatusCode::OK, "{}", trail.body);
}

#[tokio::test]
async fn the_bid_pages_work_for_the_owner() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = bearer(&w, "repA");
    let commercial = add_user(&t, &w, "commercial", "commercial_manager", "HQ").await;
    add_user(&t, &w, "bjboss", "branch_manager", "BJ").await;
    let opp = opportunity(&t, &rep, w.account_x, "页面测试").await;
    let (sid, csrf) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");
    let s = session(&sid);
    let list = t.get("/bids", &s).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("id=\"bids-empty\""), "the empty state");
    let page = t.get(&format!("/opportunities/{opp}"), &s).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&format!("/opportunities/{opp}/bids/new")), "the tender link");
    assert!(page.body.contains("id=\"round-form\""), "the round form");
    // The tender form: a refusal keeps what was typed and names the field; then it saves.
    let form = t.get_form(&format!("/opportunities/{opp}/bids/new"), &s).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let once = form.body.split("name=\"_once\" value=\"").nth(1).and_then(|x| x.split('"').next()).expect("token");
    let path = format!("/opportunities/{opp}/bids/new");
    let (sub, q) = (day(5), day(2));
    let mut fields_ = vec![
        ("_csrf", csrf.as_str()),
        ("_once", once),
        ("issuer", "北京星河精密制造有限公司"),
        ("tender_no", "XH-01"),
        ("questions_due", sub.as_str()),
        ("submission_due", q.as_str()),
        ("bond_amount", "80万"),
    ];
    let r = t.ui_post(&path, &sid, &fields_).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("XH-01") && r.body.contains("投标截止日"), "kept and named");
    fields_[4] = ("questions_due", q.as_str());
    fields_[5] = ("submission_due", sub.as_str());
    let r = t.ui_post(&path, &sid, &fields_).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let loc = r.headers.get("location").and_then(|v| v.to_str().ok()).expect("location").to_string();
    let id: i64 = loc.trim_start_matches("/bids/").split('?').next().and_then(|i| i.parse().ok()).expect("id");
    // Posted twice, it saves once.
    let r = t.ui_post(&path, &sid, &fields_).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(count(&t, "bids").await, 1);
    let show = t.get(&format!("/bids/{id}"), &s).await;
    assert_eq!(show.status, StatusCode::OK);
    assert!(show.body.contains("800,000.00"), "the bond in 元");
    assert!(show.body.contains("id=\"decide-form\""), "the decision form");
    let version = show.body.split("name=\"version\" value=\"").nth(1).and_then(|x| x.split('"').next()).expect("v");
    // Deciding without reasons: the page again, 422, naming them.
    let r = t
        .ui_post(&format!("/bids/{id}/decide"), &sid, &[("_csrf", &csrf), ("version", version), ("decision", "bid")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("决策理由"), "names the field");
    let r = t
        .ui_post(
            &format!("/bids/{id}/decide"),
            &sid,
            &[("_csrf", &csrf), ("version", version), ("decision", "bid"), ("reasons", "技术领先")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let show = t.get(&format!("/bids/{id}"), &s).await;
    assert!(show.body.contains("特殊审批中"), "the bond above the limit waits: {}", show.body);
    assert!(show.body.contains("id=\"approval-link\""));
    // The home and the calendar show the deadlines; the edit form opens.
    let home = t.get("/", &s).await;
    assert!(home.body.contains(&format!("/bids/{id}")), "the home's deadline");
    let cal = t.get("/calendar", &s).await;
    assert_eq!(cal.status, StatusCode::OK);
    // The calendar shows a week: the deadlines fall in this one or the next.
    let next = t.get(&format!("/calendar?week={sub}"), &s).await;
    assert!(
        cal.body.contains(&format!("data-bid=\"{id}\"")) || next.body.contains(&format!("data-bid=\"{id}\"")),
        "the calendar shows the deadline"
    );
    assert_eq!(t.get(&format!("/bids/{id}/edit"), &s).await.status, StatusCode::OK);
    // The commercial manager's approval page shows the bid whole.
    let aid = t.get(&format!("/api/v1/bids/{id}"), &rep).await.json()["approval_id"].as_i64().expect("request");
    let inbox = t.get("/api/v1/approvals", &commercial).await.json();
    assert_eq!(ids(&inbox), vec![aid]);
    let (csid, _) = t.ui_login("commercial", "bids-pass-1", None).await.expect("sign in");
    let ap = t.get(&format!("/approvals/{aid}"), &session(&csid)).await;
    assert_eq!(ap.status, StatusCode::OK);
    assert!(ap.body.contains("保证金超出限额") && ap.body.contains(&format!("/bids/{id}")), "the bid panel");
    // A round from the opportunity's page, with an escalation, lands at the round.
    let page = t.get(&format!("/opportunities/{opp}"), &s).await;
    let once = page.body.split("name=\"_once\" value=\"").nth(1).and_then(|x| x.split('"').next()).expect("token");
    let r = t
        .ui_post(
            &format!("/opportunities/{opp}/negotiations/new"),
            &sid,
            &[
                ("_csrf", &csrf),
                ("_once", once),
                ("held_on", &day(0)),
                ("participants", "刘经理；林涛"),
                ("our_position", "总价 96 万"),
                ("asked_discount", "12"),
                ("escalation_reason", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "the reason is required");
    assert!(r.body.contains("总价 96 万"), "kept");
    let r = t
        .ui_post(
            &format!("/opportunities/{opp}/negotiations/new"),
            &sid,
            &[
                ("_csrf", &csrf),
                ("_once", once),
                ("held_on", &day(0)),
                ("participants", "刘经理；林涛"),
                ("asked_discount", "12"),
                ("escalation_reason", "竞品报价低"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let loc = r.headers.get("location").and_then(|v| v.to_str().ok()).expect("location").to_string();
    assert!(loc.starts_with(&format!("/opportunities/{opp}?flash=saved#round-")), "{loc}");
    let page = t.get(&format!("/opportunities/{opp}"), &s).await;
    assert!(page.body.contains("竞品报价低") && page.body.contains("审批中"), "the round and its escalation");
    let list = t.get("/bids?open=open&sort=submission_due", &s).await;
    assert!(list.body.contains(&format!("/bids/{id}")));
}

#[tokio::test]
async fn a_round_is_revised_and_a_changed_ask_asks_again() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (rep, manager, other) = (bearer(&w, "repA"), bearer(&w, "manager"), bearer(&w, "repC"));
    let opp = opportunity(&t, &rep, w.account_x, "谈判修改").await;
    let (st, r) = post(
        &t,
        &rep,
        &format!("/api/v1/opportunities/{opp}/negotiations"),
        json!({"held_on": "2099-02-20", "participants": "刘经理；林涛", "their_position": "88 万", "asked_discount": "12", "escalation_reason": "竞品报价低 10%"}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{r}");
    let id = r["id"].as_i64().expect("id");
    let first = r["approval_id"].as_i64().expect("request");
    let path = format!("/api/v1/negotiations/{id}");
    let patch = |body: Value| {
        let (t, rep, path) = (&t, &rep, path.clone());
        async move { t.call(Method::PATCH, &path, rep, Some(body)).await }
    };
    // Without its version, or with an old one: refused, nothing changed.
    let r0 = patch(json!({"held_on": "2099-02-20", "participants": "刘经理；林涛"})).await;
    assert_eq!(r0.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r0.body);
    let r0 = patch(json!({"version": 99, "held_on": "2099-02-20", "participants": "刘经理；林涛"})).await;
    assert_eq!(r0.status, StatusCode::CONFLICT, "{}", r0.body);
    // A bad day names the field.
    let r0 = patch(json!({"version": r["version"], "held_on": "2099-13-01", "participants": "刘经理；林涛", "asked_discount": "12", "escalation_reason": "竞品报价低 10%"})).await;
    assert_eq!(r0.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r0.body);
    assert!(r0.body.contains("held_on"), "{}", r0.body);

    // The record corrected, the ask as it was: the same request waits on.
    let r1 = patch(json!({"version": r["version"], "held_on": "2099-02-20", "participants": "刘经理、王工；林涛", "their_position": "要求 86 万", "asked_discount": "12", "escalation_reason": "竞品报价低 10%"})).await;
    assert_eq!(r1.status, StatusCode::OK, "{}", r1.body);
    let v1 = r1.json();
    assert_eq!(
        (v1["their_position"].as_str(), v1["approval_id"].as_i64(), v1["outcome"].as_str()),
        (Some("要求 86 万"), Some(first), Some("pending")),
        "{v1}"
    );

    // Another discount: the first request is withdrawn, a new one waits for the manager.
    let r2 = patch(json!({"version": v1["version"], "held_on": "2099-02-20", "participants": "刘经理、王工；林涛", "asked_discount": "13", "escalation_reason": "竞品再降价"})).await;
    assert_eq!(r2.status, StatusCode::OK, "{}", r2.body);
    let v2 = r2.json();
    let second = v2["approval_id"].as_i64().expect("a new request");
    assert_ne!(second, first);
    assert_eq!((v2["asked_discount"].as_str(), v2["outcome"].as_str()), (Some("13.00"), Some("pending")), "{v2}");
    let old = t.get(&format!("/api/v1/approvals/{first}"), &manager).await.json();
    assert_eq!(old["state"], "cancelled", "{old}");
    assert_eq!(steps(&t, &manager, second).await, pairs(&[("ka_manager", "open"), ("ka_director", "waiting")]));

    // The request's page shows the round whole.
    let (sid, _) = t.ui_login("manager", PASSWORD, None).await.expect("sign in");
    let page = t.get(&format!("/approvals/{second}"), &session(&sid)).await;
    assert_eq!(page.status, StatusCode::OK);
    for text in ["谈判记录与权限申请", "刘经理、王工；林涛", "13.00%", "竞品再降价", "打开谈判记录"]
    {
        assert!(page.body.contains(text), "{text} on the request's page");
    }

    // No ask any more: the request is withdrawn and the round asks nothing.
    let r3 =
        patch(json!({"version": v2["version"], "held_on": "2099-02-20", "participants": "刘经理、王工；林涛"})).await;
    assert_eq!(r3.status, StatusCode::OK, "{}", r3.body);
    let v3 = r3.json();
    assert!(v3["approval_id"].is_null() && v3["outcome"].is_null() && v3["asked_discount"].is_null(), "{v3}");
    assert_eq!(t.get(&format!("/api/v1/approvals/{second}"), &manager).await.json()["state"], "cancelled");

    // Out of scope: not found.
    let r4 = t
        .call(
            Method::PATCH,
            &path,
            &other,
            Some(json!({"version": v3["version"], "held_on": "2099-02-20", "participants": "x"})),
        )
        .await;
    assert_eq!(r4.status, StatusCode::NOT_FOUND, "{}", r4.body);

    // The page's form: the round's values, a refusal kept, then saved back to the round.
    let (sid, csrf) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");
    let opp_page = t.get(&format!("/opportunities/{opp}"), &session(&sid)).await;
    assert!(opp_page.body.contains(&format!("/negotiations/{id}/edit")), "each round offers its edit");
    let form = t.get(&format!("/negotiations/{id}/edit"), &session(&sid)).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains("刘经理、王工；林涛"), "{}", form.body);
    let version = v3["version"].to_string();
    let bad = t
        .ui_post(
            &format!("/negotiations/{id}/edit"),
            &sid,
            &[("_csrf", &csrf), ("version", &version), ("held_on", ""), ("participants", "刘经理")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert!(bad.body.contains("刘经理"), "what was typed is kept");
    let ok = t
        .ui_post(
            &format!("/negotiations/{id}/edit"),
            &sid,
            &[
                ("_csrf", &csrf),
                ("version", &version),
                ("held_on", "2099-02-21"),
                ("participants", "刘经理；林涛、张工"),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let to = ok.headers.get("location").and_then(|v| v.to_str().ok()).unwrap_or("");
    assert!(to.starts_with(&format!("/opportunities/{opp}")) && to.ends_with(&format!("#round-{id}")), "{to}");
    let got = t.get(&path, &rep).await.json();
    assert_eq!(
        (got["held_on"].as_str(), got["participants"].as_str()),
        (Some("2099-02-21"), Some("刘经理；林涛、张工"))
    );
    let n: i64 = sqlx::Row::try_get(
        &sqlx::query("SELECT COUNT(*) AS n FROM audit_log WHERE entity = 'negotiation_round' AND action = 'update'")
            .fetch_one(&t.db().pool)
            .await
            .expect("count"),
        "n",
    )
    .expect("n");
    assert_eq!(n, 4, "each revision audited");
}

#[tokio::test]
async fn a_lost_tender_closes_its_opportunity_when_asked() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = bearer(&w, "repA");
    let opp = opportunity(&t, &rep, w.account_x, "落标").await;
    let b = create(&t, &rep, opp, tender("20000.00")).await;
    let d = decide(&t, &rep, &b, json!({"bid_price": "960000.00"})).await;
    let path = format!("/api/v1/bids/{}/result", d["id"]);
    // Won and "close as lost" contradict each other: refused naming the field, nothing saved.
    let (st, v) =
        post(&t, &rep, &path, json!({"version": d["version"], "result": "won", "close_opportunity": true})).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"]["details"]["fields"]["close_opportunity"]["code"], "only_when_lost", "{v}");
    assert!(t.get(&format!("/api/v1/bids/{}", d["id"]), &rep).await.json()["result"].is_null(), "nothing saved");
    let (st, v) = post(
        &t,
        &rep,
        &path,
        json!({"version": d["version"], "result": "lost", "winner": "华东精机", "winning_price": "905000.00", "close_opportunity": true}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let o = t.get(&format!("/api/v1/opportunities/{opp}"), &rep).await.json();
    assert_eq!((o["stage"].as_str(), o["lost_to"].as_str()), (Some("lost"), Some("华东精机")), "{o}");
    let reason = o["lost_reason"].as_str().unwrap_or("");
    assert!(reason.contains("XH-2099-018") && reason.contains("905000.00"), "{reason}");
    // Without the box the opportunity stays open.
    let opp2 = opportunity(&t, &rep, w.account_x, "落标二").await;
    let b2 = create(&t, &rep, opp2, tender("20000.00")).await;
    let d2 = decide(&t, &rep, &b2, json!({"bid_price": "960000.00"})).await;
    let (st, _) = post(
        &t,
        &rep,
        &format!("/api/v1/bids/{}/result", d2["id"]),
        json!({"version": d2["version"], "result": "lost", "winner": "华东精机"}),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let o2 = t.get(&format!("/api/v1/opportunities/{opp2}"), &rep).await.json();
    assert_ne!(o2["stage"], "lost", "{o2}");
}
