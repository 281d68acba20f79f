//! Budgets, spending and executive resource requests (issue 25 items 3–4): a cost centre's
//! budget is drafted, questioned in the 质询 round, returned, revised and approved by the sales
//! department manager; spending inside the line waits for the KA director's signature; an
//! out-of-budget dinner waits for the finance manager and then the sales department manager and
//! only then counts as spent; spending on a closed line is 422 naming the field and saves
//! nothing; budget against actual by month; an approved executive request is an executive
//! visit the service standards count.
use axum::http::{Method, StatusCode};
use chrono::{Datelike, Utc};
use serde_json::{json, Value};

use crate::common::{fields, seed, Auth, TestApp, World, PASSWORD};

fn bearer(w: &World, user: &str) -> Auth {
    Auth::Bearer(w.tokens[user].clone())
}

async fn add_user(t: &TestApp, w: &World, username: &str, role: &str) -> Auth {
    let body = json!({"username": username, "role": role, "org_unit": "HQ", "password": "budget-pass-123",
        "display_name": format!("{username} 名")});
    let r = t.call(Method::POST, "/api/v1/users", &bearer(w, "admin"), Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    Auth::Bearer(t.token(username).await)
}

async fn org(t: &TestApp, code: &str) -> i64 {
    sqlx::Row::try_get(
        &sqlx::query("SELECT id FROM org_units WHERE code = $1").bind(code).fetch_one(&t.db().pool).await.expect("org"),
        "id",
    )
    .expect("id")
}

async fn spending_count(t: &TestApp) -> i64 {
    sqlx::Row::try_get(
        &sqlx::query("SELECT COUNT(*) AS n FROM spending").fetch_one(&t.db().pool).await.expect("count"),
        "n",
    )
    .expect("n")
}

/// Today as the users (Asia/Shanghai) see it.
fn day() -> chrono::NaiveDate {
    Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive()
}

fn year() -> i64 {
    day().year() as i64
}

fn today() -> String {
    day().to_string()
}

async fn ok(r: crate::common::Resp, status: StatusCode) -> Value {
    assert_eq!(r.status, status, "{}", r.body);
    r.json()
}

async fn decide(t: &TestApp, who: &Auth, approval: i64, decision: &str, comment: Option<&str>) -> Value {
    let mut body = json!({"decision": decision});
    if let Some(c) = comment {
        body["comment"] = json!(c);
    }
    ok(t.call(Method::POST, &format!("/api/v1/approvals/{approval}/decision"), who, Some(body)).await, StatusCode::OK)
        .await
}

fn category<'a>(b: &'a Value, code: &str) -> &'a Value {
    b["categories"]
        .as_array()
        .expect("categories")
        .iter()
        .find(|c| c["category"] == code)
        .unwrap_or_else(|| panic!("{code} in {b}"))
}

/// The BJ branch's budget of this year: travel 12,000.00 for the year, entertainment 5,000.00
/// in this month; drafted by the KA director, questioned by the finance manager, returned by
/// the sales department manager, revised (entertainment 6,000.00) and approved.
async fn approved_budget(t: &TestApp, w: &World, sdm: &Auth) -> (i64, i64) {
    let director = bearer(w, "director");
    let finance = bearer(w, "finance");
    let bj = org(t, "BJ").await;
    let month = day().month() as i64;
    let body = json!({"cost_centre_id": bj, "year": year(), "lines": [
        {"category": "travel", "month": 0, "amount": "12000.00"},
        {"category": "entertainment", "month": month, "amount": "5000.00"}]});
    let b = ok(t.call(Method::POST, "/api/v1/budgets", &director, Some(body)).await, StatusCode::CREATED).await;
    let id = b["id"].as_i64().expect("id");
    assert_eq!((b["state"].as_str(), b["total"].as_str()), (Some("draft"), Some("17000.00")), "{b}");

    // A line of a category the company does not have: named, nothing changed.
    let bad = json!({"lines": [{"category": "yachts", "month": 0, "amount": "1.00"}], "version": b["version"]});
    let r = t.call(Method::PUT, &format!("/api/v1/budgets/{id}"), &director, Some(bad)).await;
    assert_eq!(fields(&r).get("lines[0].category").map(String::as_str), Some("invalid_choice"), "{}", r.body);

    let b = ok(
        t.call(
            Method::POST,
            &format!("/api/v1/budgets/{id}/submit"),
            &director,
            Some(json!({"version": b["version"]})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(b["state"], "in_review");
    let first = b["approval_id"].as_i64().expect("request");

    // The 质询 round: the finance manager asks, the drafter answers; the drafter does not ask.
    let r = t
        .call(Method::POST, &format!("/api/v1/budgets/{id}/questions"), &director, Some(json!({"question": "自问"})))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let b = ok(
        t.call(
            Method::POST,
            &format!("/api/v1/budgets/{id}/questions"),
            &finance,
            Some(json!({"question": "招待费依据是什么？"})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let q = b["questions"][0]["id"].as_i64().expect("question");
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/budgets/{id}/questions/{q}/answer"),
            &finance,
            Some(json!({"answer": "x"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "only the drafter answers: {}", r.body);
    let b = ok(
        t.call(
            Method::POST,
            &format!("/api/v1/budgets/{id}/questions/{q}/answer"),
            &director,
            Some(json!({"answer": "新增两家重点客户"})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(b["questions"][0]["answer"], "新增两家重点客户", "{b}");
    assert_eq!(b["questions"][0]["asked_by_name"], "finance", "{b}");

    // Only the sales department manager decides; they return it; it is revised and approved.
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/approvals/{first}/decision"),
            &finance,
            Some(json!({"decision": "approve"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    decide(t, sdm, first, "return", Some("招待费再细化")).await;
    let b = ok(t.get(&format!("/api/v1/budgets/{id}"), &director).await, StatusCode::OK).await;
    assert_eq!(b["state"], "returned", "{b}");
    let lines = json!([{"category": "travel", "month": 0, "amount": "12000.00"},
        {"category": "entertainment", "month": month, "amount": "6000.00"}]);
    let b = ok(
        t.call(
            Method::PUT,
            &format!("/api/v1/budgets/{id}"),
            &director,
            Some(json!({"lines": lines, "version": b["version"]})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let b = ok(
        t.call(
            Method::POST,
            &format!("/api/v1/budgets/{id}/submit"),
            &director,
            Some(json!({"version": b["version"]})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(b["revision"], 2, "{b}");
    let second = b["approval_id"].as_i64().expect("request");
    decide(t, sdm, second, "approve", None).await;
    let b = ok(t.get(&format!("/api/v1/budgets/{id}"), &director).await, StatusCode::OK).await;
    assert_eq!((b["state"].as_str(), b["total"].as_str()), (Some("approved"), Some("18000.00")), "{b}");
    let revs: Vec<(i64, String)> = b["revisions"]
        .as_array()
        .expect("revisions")
        .iter()
        .map(|r| (r["revision"].as_i64().unwrap_or(0), r["total"].as_str().unwrap_or("").to_string()))
        .collect();
    assert_eq!(revs, [(2, "18000.00".to_string()), (1, "17000.00".to_string())], "{b}");
    (id, bj)
}

#[tokio::test]
async fn spending_inside_the_line_is_signed_and_outside_it_waits_for_finance_and_the_sales_dept_manager() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let sdm = add_user(&t, &w, "sdm", "sales_dept_manager").await;
    let (budget, bj) = approved_budget(&t, &w, &sdm).await;
    let rep = bearer(&w, "repA");
    let director = bearer(&w, "director");
    let finance = bearer(&w, "finance");

    // Inside the line: waits for the KA director's signature, committed until signed.
    let s = ok(
        t.call(
            Method::POST,
            "/api/v1/spending",
            &rep,
            Some(json!({"cost_centre_id": bj, "category": "travel", "spent_on": today(), "amount": "2000.00",
                "purpose": "北京—天津客户拜访差旅", "account_id": w.account_x})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!((s["state"].as_str(), s["in_budget"].as_bool()), (Some("submitted"), Some(true)), "{s}");
    let sid = s["id"].as_i64().expect("id");
    let b = ok(t.get(&format!("/api/v1/budgets/{budget}"), &rep).await, StatusCode::OK).await;
    assert_eq!(
        (category(&b, "travel")["committed"].as_str(), category(&b, "travel")["spent"].as_str()),
        (Some("2000.00"), Some("0.00"))
    );
    // A rep does not sign.
    let r = t
        .call(Method::POST, &format!("/api/v1/spending/{sid}/sign"), &rep, Some(json!({"version": s["version"]})))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let s = ok(
        t.call(
            Method::POST,
            &format!("/api/v1/spending/{sid}/sign"),
            &director,
            Some(json!({"version": s["version"]})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!((s["state"].as_str(), s["signed_by_name"].as_str()), (Some("signed"), Some("director")), "{s}");
    let b = ok(t.get(&format!("/api/v1/budgets/{budget}"), &rep).await, StatusCode::OK).await;
    let tr = category(&b, "travel");
    assert_eq!(
        (tr["committed"].as_str(), tr["spent"].as_str(), tr["remaining"].as_str()),
        (Some("0.00"), Some("2000.00"), Some("10000.00")),
        "{b}"
    );

    // A dinner beyond the entertainment line (6,000.00): an exception — the finance manager,
    // then the sales department manager; committed, not spent, until both approve.
    let d = ok(
        t.call(
            Method::POST,
            "/api/v1/spending",
            &rep,
            Some(json!({"cost_centre_id": bj, "category": "entertainment", "spent_on": today(), "amount": "6500.00",
                "purpose": "宴请星河精密采购总监"})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!((d["state"].as_str(), d["in_budget"].as_bool()), (Some("in_approval"), Some(false)), "{d}");
    let did = d["id"].as_i64().expect("id");
    let approval = d["approval_id"].as_i64().expect("request");
    let a = ok(t.get(&format!("/api/v1/approvals/{approval}"), &finance).await, StatusCode::OK).await;
    assert_eq!(a["flow"], "budget_exception", "{a}");
    // The KA director is not one of its steps; the sales dept manager waits for finance.
    for who in [&director, &sdm] {
        let r = t
            .call(
                Method::POST,
                &format!("/api/v1/approvals/{approval}/decision"),
                who,
                Some(json!({"decision": "approve"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    }
    decide(&t, &finance, approval, "approve", None).await;
    let d = ok(t.get(&format!("/api/v1/spending/{did}"), &rep).await, StatusCode::OK).await;
    assert_eq!(d["state"], "in_approval", "still waiting for the sales dept manager: {d}");
    let b = ok(t.get(&format!("/api/v1/budgets/{budget}"), &rep).await, StatusCode::OK).await;
    let en = category(&b, "entertainment");
    assert_eq!((en["committed"].as_str(), en["spent"].as_str()), (Some("6500.00"), Some("0.00")), "{b}");
    decide(&t, &sdm, approval, "approve", None).await;
    let d = ok(t.get(&format!("/api/v1/spending/{did}"), &rep).await, StatusCode::OK).await;
    assert_eq!(d["state"], "approved", "{d}");
    let b = ok(t.get(&format!("/api/v1/budgets/{budget}"), &rep).await, StatusCode::OK).await;
    let en = category(&b, "entertainment");
    assert_eq!(
        (en["committed"].as_str(), en["spent"].as_str(), en["remaining"].as_str()),
        (Some("0.00"), Some("6500.00"), Some("-500.00")),
        "{b}"
    );

    // A category without a line is outside the budget: an exception too.
    let x = ok(
        t.call(
            Method::POST,
            "/api/v1/spending",
            &rep,
            Some(json!({"cost_centre_id": bj, "category": "samples", "spent_on": today(), "amount": "300.00", "purpose": "样品"})),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(x["state"], "in_approval", "{x}");

    // Budget against actual: this month holds the entertainment line and 1/12 of travel.
    let month = day().month() as usize;
    let a = ok(
        t.get(&format!("/api/v1/budgets/actual?year={}&cost_centre_id={bj}", year()), &director).await,
        StatusCode::OK,
    )
    .await;
    let c = &a["centres"][0];
    let m = &c["months"][month - 1];
    assert_eq!(
        (m["budget"].as_str(), m["committed"].as_str(), m["spent"].as_str(), m["remaining"].as_str()),
        (Some("7000.00"), Some("300.00"), Some("8500.00"), Some("-1800.00")),
        "{a}"
    );
    assert_eq!(
        (c["year"]["budget"].as_str(), c["year"]["spent"].as_str(), c["year"]["remaining"].as_str()),
        (Some("18000.00"), Some("8500.00"), Some("9200.00")),
        "{a}"
    );
    let r = t.get(&format!("/api/v1/budgets/actual/export?year={}&format=xlsx", year()), &director).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // The year closed: spending on it is 422 naming the day, nothing saved.
    let b = ok(t.get(&format!("/api/v1/budgets/{budget}"), &director).await, StatusCode::OK).await;
    ok(
        t.call(
            Method::POST,
            &format!("/api/v1/budgets/{budget}/close"),
            &director,
            Some(json!({"version": b["version"]})),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let before = spending_count(&t).await;
    let r = t
        .call(
            Method::POST,
            "/api/v1/spending",
            &rep,
            Some(json!({"cost_centre_id": bj, "category": "travel", "spent_on": today(), "amount": "10.00", "purpose": "出租车"})),
        )
        .await;
    assert_eq!(fields(&r).get("spent_on").map(String::as_str), Some("budget_year_closed"), "{}", r.body);
    assert_eq!(spending_count(&t).await, before, "nothing saved");
}

#[tokio::test]
async fn spending_on_a_budget_not_approved_is_refused_naming_the_field() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = bearer(&w, "repA");
    let director = bearer(&w, "director");
    let bj = org(&t, "BJ").await;
    let body = |bj: i64| json!({"cost_centre_id": bj, "category": "travel", "spent_on": today(), "amount": "100.00", "purpose": "差旅"});
    // No budget at all, then a draft: the line is closed.
    let r = t.call(Method::POST, "/api/v1/spending", &rep, Some(body(bj))).await;
    assert_eq!(fields(&r).get("cost_centre_id").map(String::as_str), Some("budget_not_approved"), "{}", r.body);
    let b = json!({"cost_centre_id": bj, "year": year(), "lines": [{"category": "travel", "month": 0, "amount": "1000.00"}]});
    ok(t.call(Method::POST, "/api/v1/budgets", &director, Some(b)).await, StatusCode::CREATED).await;
    let r = t.call(Method::POST, "/api/v1/spending", &rep, Some(body(bj))).await;
    assert_eq!(fields(&r).get("cost_centre_id").map(String::as_str), Some("budget_not_approved"), "{}", r.body);
    assert_eq!(spending_count(&t).await, 0, "nothing saved");
    // Another part of the tree is not the rep's (SH); a cost centre not seen is named.
    let sh = org(&t, "SH").await;
    let r = t.call(Method::POST, "/api/v1/spending", &rep, Some(body(sh))).await;
    assert_eq!(fields(&r).get("cost_centre_id").map(String::as_str), Some("unknown_cost_centre"), "{}", r.body);
    // And the rep does not see the SH budgets.
    let list = ok(t.get(&format!("/api/v1/budgets?year={}", year()), &rep).await, StatusCode::OK).await;
    let names: Vec<&str> =
        list["items"].as_array().expect("items").iter().filter_map(|i| i["cost_centre"]["code"].as_str()).collect();
    assert_eq!(names, ["BJ"], "{list}");
}

#[tokio::test]
async fn an_approved_executive_request_is_an_executive_visit_the_service_standards_count() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    add_user(&t, &w, "boss", "gm").await;
    let rep = bearer(&w, "repA");
    let director = bearer(&w, "director");
    let acc = w.account_x;
    // Give the key account its tier (A: an executive visit every 180 days).
    let a = ok(t.get(&format!("/api/v1/accounts/{acc}"), &rep).await, StatusCode::OK).await;
    let patch = json!({"buying_power": "5000000.00", "sales_12m": "3000000.00", "profit_margin": "25.00",
        "payment_terms_days": 30, "sales_expense_ratio": "2.00", "version": a["version"]});
    let a =
        ok(t.call(Method::PATCH, &format!("/api/v1/accounts/{acc}"), &rep, Some(patch)).await, StatusCode::OK).await;
    assert_eq!(a["tier"], "A", "{a}");
    let service = |c: &Value| -> Value {
        c["service"]
            .as_array()
            .expect("service")
            .iter()
            .find(|s| s["standard"] == "executive_visit")
            .cloned()
            .expect("ev")
    };
    let c = ok(t.get(&format!("/api/v1/accounts/{acc}/classification"), &rep).await, StatusCode::OK).await;
    assert!(service(&c)["last"].is_null(), "{c}");

    let execs = ok(t.get("/api/v1/exec-requests/executives", &rep).await, StatusCode::OK).await;
    let boss = execs["items"].as_array().expect("items").iter().find(|e| e["display_name"] == "boss 名").expect("gm")
        ["id"]
        .as_i64()
        .expect("id");
    // The KA director is not an executive one may ask.
    let director_id: i64 = sqlx::Row::try_get(
        &sqlx::query("SELECT id FROM users WHERE username = 'director'").fetch_one(&t.db().pool).await.expect("u"),
        "id",
    )
    .expect("id");
    let req = |exec: i64| {
        json!({"account_id": acc, "executive_id": exec, "purpose": "拜访客户总经理，推动年度框架协议",
            "expected_result": "年内签订框架协议", "visit_on": today()})
    };
    let r = t.call(Method::POST, "/api/v1/exec-requests", &rep, Some(req(director_id))).await;
    assert_eq!(fields(&r).get("executive_id").map(String::as_str), Some("not_an_executive"), "{}", r.body);
    // Another rep's account: 404.
    let r = t.call(Method::POST, "/api/v1/exec-requests", &bearer(&w, "repC"), Some(req(boss))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);

    let x = ok(t.call(Method::POST, "/api/v1/exec-requests", &rep, Some(req(boss))).await, StatusCode::CREATED).await;
    assert_eq!((x["state"].as_str(), x["executive_name"].as_str()), (Some("in_approval"), Some("boss 名")), "{x}");
    let id = x["id"].as_i64().expect("id");
    let r = t.get(&format!("/api/v1/exec-requests/{id}"), &bearer(&w, "repC")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let approval = x["approval_id"].as_i64().expect("request");
    let a = ok(t.get(&format!("/api/v1/approvals/{approval}"), &director).await, StatusCode::OK).await;
    assert_eq!(a["flow"], "exec_resource", "{a}");
    // Not counted while it waits.
    let c = ok(t.get(&format!("/api/v1/accounts/{acc}/classification"), &rep).await, StatusCode::OK).await;
    assert!(service(&c)["last"].is_null(), "{c}");

    decide(&t, &director, approval, "approve", None).await;
    let x = ok(t.get(&format!("/api/v1/exec-requests/{id}"), &rep).await, StatusCode::OK).await;
    assert_eq!(x["state"], "approved", "{x}");
    let visit = x["activity_id"].as_i64().expect("the visit");
    let v = ok(t.get(&format!("/api/v1/activities/{visit}"), &rep).await, StatusCode::OK).await;
    assert_eq!(
        (v["kind"].as_str(), v["status"].as_str(), v["purpose"].as_str(), v["account_id"].as_i64()),
        (Some("visit"), Some("done"), Some("executive_visit"), Some(acc)),
        "{v}"
    );
    assert_eq!(v["owner"], "repA", "{v}");
    let c = ok(t.get(&format!("/api/v1/accounts/{acc}/classification"), &rep).await, StatusCode::OK).await;
    let ev = service(&c);
    assert_eq!(ev["last"], today(), "{c}");
    assert_eq!(ev["overdue"], false, "{c}");
}

#[tokio::test]
async fn the_budget_pages_show_the_year_the_budget_and_its_spending() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let sdm = add_user(&t, &w, "sdm", "sales_dept_manager").await;
    let (budget, _bj) = approved_budget(&t, &w, &sdm).await;
    let (sid, _csrf) = t.ui_login("director", PASSWORD, None).await.expect("login");
    let auth = Auth::Session { cookie: sid, csrf: String::new() };
    let r = t.get_form(&format!("/budgets?year={}", year()), &auth).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("北京分公司"), "{}", r.body);
    let r = t.get_form(&format!("/budgets/{budget}"), &auth).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("招待费依据是什么？") && r.body.contains("新增两家重点客户"), "the Q&A: {}", r.body);
    assert!(r.body.contains("18,000.00"), "{}", r.body);

    // The spending form as a rep: a refusal names the field and keeps what was typed; an
    // out-of-budget dinner goes to its request.
    let (sid, csrf) = t.ui_login("repA", PASSWORD, None).await.expect("login");
    let bj = org(&t, "BJ").await.to_string();
    let before = spending_count(&t).await;
    let r = t
        .ui_post(
            "/spending/new",
            &sid,
            &[
                ("_csrf", &csrf),
                ("cost_centre_id", &bj),
                ("category", ""),
                ("spent_on", &today()),
                ("amount", "800"),
                ("purpose", "宴请客户"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("field-error") && r.body.contains("宴请客户"), "{}", r.body);
    assert_eq!(spending_count(&t).await, before, "nothing saved");
    let r = t
        .ui_post(
            "/spending/new",
            &sid,
            &[
                ("_csrf", &csrf),
                ("cost_centre_id", &bj),
                ("category", "entertainment"),
                ("spent_on", &today()),
                ("amount", "9000"),
                ("purpose", "宴请客户"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let to = r.headers.get(axum::http::header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    assert!(to.starts_with("/approvals/"), "the exception's request: {to}");
    let rep = Auth::Session { cookie: sid, csrf: String::new() };
    let r = t.get_form(&format!("/spending?year={}", year()), &rep).await;
    assert!(r.body.contains("预算外"), "{}", r.body);
    // The finance manager returns it: the rep records it again, revised, from a form that starts
    // from the returned one (which stays as decided).
    let aid: i64 =
        to.trim_start_matches("/approvals/").split(['?', '#']).next().and_then(|x| x.parse().ok()).expect("id");
    let body = json!({"decision": "return", "comment": "请附菜单与参加人员名单"});
    let r =
        t.call(Method::POST, &format!("/api/v1/approvals/{aid}/decision"), &bearer(&w, "finance"), Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = t.get_form(&format!("/spending?year={}&state=returned", year()), &rep).await;
    let id = r
        .body
        .split("/spending/new?from=")
        .nth(1)
        .and_then(|x| x.split('"').next())
        .expect("a link to record it again");
    let form = t.get_form(&format!("/spending/new?from={id}"), &rep).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains("value=\"9000.00\"") && form.body.contains(">宴请客户</textarea>"), "{}", form.body);
    let other = t
        .get_form(
            &format!("/spending/new?from={id}"),
            &Auth::Session { cookie: t.ui_login("repC", PASSWORD, None).await.expect("login").0, csrf: String::new() },
        )
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND, "another rep does not see it");
    // The executive request form offers the executives by name.
    let r = t.get_form(&format!("/accounts/{}/exec-requests/new", w.account_x), &rep).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // Spending for an account is recorded from its page: the form names the account, never an
    // id to type; another rep's account is not named (nor tied) at all.
    let r = t.get_form(&format!("/accounts/{}", w.account_x), &rep).await;
    assert!(r.body.contains(&format!("/spending/new?account={}", w.account_x)), "{}", r.body);
    let r = t.get_form(&format!("/spending/new?account={}", w.account_x), &rep).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("北京星河精密制造有限公司"), "the account by name: {}", r.body);
    assert!(!r.body.contains(r#"name="account_id" value="" "#) && !r.body.contains("inputmode=\"numeric\""));
    let r = t.get_form(&format!("/spending/new?account={}", w.account_c), &rep).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(!r.body.contains("上海东方仪器有限公司") && !r.body.contains(r#"name="account_id""#), "{}", r.body);
    let r = t
        .ui_post(
            "/spending/new",
            &sid_of(&rep),
            &[
                ("_csrf", &csrf),
                ("cost_centre_id", &bj),
                ("category", "travel"),
                ("spent_on", &today()),
                ("amount", "300"),
                ("purpose", "拜访星河精密"),
                ("account_id", &w.account_x.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = t.get_form(&format!("/spending?year={}", year()), &rep).await;
    assert!(r.body.contains("拜访星河精密") && r.body.contains("北京星河精密制造有限公司"), "{}", r.body);
}

fn sid_of(a: &Auth) -> String {
    match a {
        Auth::Session { cookie, .. } => cookie.clone(),
        _ => String::new(),
    }
}

/// The spending categories are kept on a page as well as through the API: the finance manager
/// adds one; a refused row is named by its row and field and nothing is saved; a rep reads them
/// only.
#[tokio::test]
async fn the_finance_manager_keeps_the_spending_categories_on_their_page() {
    let t = TestApp::new().await;
    let _w = seed(&t).await;
    let (sid, csrf) = t.ui_login("finance", PASSWORD, None).await.expect("login");
    let finance = Auth::Session { cookie: sid.clone(), csrf: String::new() };
    let r = t.get_form("/budgets/categories", &finance).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("业务招待费") && r.body.contains("save-categories"), "{}", r.body);
    let builtin = ["travel", "entertainment", "events", "samples", "bids", "others"];
    let mut fields: Vec<(String, String)> = vec![("_csrf".into(), csrf.clone()), ("version".into(), "0".into())];
    let names = ["差旅费", "业务招待费", "市场活动费", "样品费", "投标费", "其他"];
    for (i, (c, n)) in builtin.iter().zip(names).enumerate() {
        fields.push((format!("code_{i}"), c.to_string()));
        fields.push((format!("name_{i}"), n.to_string()));
    }
    // A bad code on the seventh row: refused, named, nothing saved, what was typed kept.
    fields.push(("code_6".into(), "Training!".into()));
    fields.push(("name_6".into(), "培训费".into()));
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = t.ui_post("/budgets/categories", &sid, &pairs).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("第 7 行 · 类别代码"), "the row and field named: {}", r.body);
    assert!(r.body.contains("Training!") && r.body.contains("培训费"), "kept: {}", r.body);
    let saved: i64 = sqlx::Row::try_get(
        &sqlx::query("SELECT COUNT(*) AS n FROM settings WHERE key = 'budget_categories'")
            .fetch_one(&t.db().pool)
            .await
            .expect("count"),
        "n",
    )
    .expect("n");
    assert_eq!(saved, 0, "nothing saved");
    // Corrected, it is saved: the new category is offered on the spending form.
    let fields: Vec<(String, String)> =
        fields.into_iter().map(|(k, v)| if v == "Training!" { (k, "training".into()) } else { (k, v) }).collect();
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = t.ui_post("/budgets/categories", &sid, &pairs).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let (rsid, _) = t.ui_login("repA", PASSWORD, None).await.expect("login");
    let rep = Auth::Session { cookie: rsid, csrf: String::new() };
    let r = t.get_form("/spending/new", &rep).await;
    assert!(r.body.contains(r#"value="training""#) && r.body.contains("培训费"), "{}", r.body);
    // The rep reads the categories, with nothing to save.
    let r = t.get_form("/budgets/categories", &rep).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("培训费") && !r.body.contains("save-categories"), "{}", r.body);
    // The same version again is stale: 409, nothing changed.
    let r = t.ui_post("/budgets/categories", &sid, &pairs).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
}
