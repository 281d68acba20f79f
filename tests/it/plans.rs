//! Account plans (issue 23 items 1, 2, 7, 9): a key account's plan of a year begun pre-filled
//! (its people as the team, last year's plan carried), saved in versions compared field by
//! field, refused by field when bad, read-only for the functions that serve the account and
//! unseen outside scope, its page showing what KAM knows, its forecast as XLSX, an objective on
//! an opportunity done once it is won — through the API and the pages, on whichever backend the
//! suite runs on.
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use super::common::{download, fields, opportunity, seed, xlsx_rows, Auth, TestApp, World, PASSWORD};
use kam::app::Ctx;

fn bearer(w: &World, user: &str) -> Auth {
    Auth::Bearer(w.tokens[user].clone())
}

async fn session(t: &TestApp, user: &str) -> (Auth, String) {
    let (sid, csrf) = t.ui_login(user, PASSWORD, None).await.unwrap_or_else(|r| panic!("login {user}: {}", r.body));
    (Auth::Session { cookie: sid.clone(), csrf: csrf.clone() }, csrf)
}

async fn strategic(t: &TestApp, account: i64) {
    sqlx::query("UPDATE accounts SET tier = 'strategic', sow_bp = 3500 WHERE id = $1")
        .bind(account)
        .execute(&t.db().pool)
        .await
        .expect("tier");
}

async fn begin(t: &TestApp, w: &World, who: &str, account: i64, year: i32) -> Value {
    let r = t
        .call(Method::POST, &format!("/api/v1/accounts/{account}/plans"), &bearer(w, who), Some(json!({"year": year})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.json()
}

async fn put(t: &TestApp, w: &World, who: &str, id: i64, body: Value, version: i64) -> (StatusCode, Value) {
    let r = t
        .call(
            Method::PUT,
            &format!("/api/v1/plans/{id}"),
            &bearer(w, who),
            Some(json!({"body": body, "version": version})),
        )
        .await;
    let v = if r.body.is_empty() { Value::Null } else { r.json() };
    (r.status, v)
}

fn objective(title: &str) -> Value {
    json!({"title": title, "owner": "repA", "measure": "share", "target": "40", "due_on": "2027-12-31"})
}

#[tokio::test]
async fn a_plan_begins_prefilled_once_a_year_and_only_for_a_key_account() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    strategic(&t, w.account_x).await;
    let v = begin(&t, &w, "repA", w.account_x, 2027).await;
    let id = v["plan"]["id"].as_i64().expect("id");
    assert_eq!(v["plan"]["version"], 1);
    assert_eq!(v["plan"]["tier"], "strategic");
    assert_eq!(v["editable"], true);
    // The account's people are the team; the facts are KAM's.
    let team: Vec<&str> =
        v["plan"]["body"]["team"].as_array().expect("team").iter().filter_map(|m| m["user"].as_str()).collect();
    assert!(team.contains(&"repA"), "{team:?}");
    assert_eq!(v["facts"]["tier"], "strategic");
    assert_eq!(v["facts"]["sow"], "35.00");
    assert!(v["facts"]["contacts"].as_array().expect("contacts").iter().any(|c| c["name"] == "王志远"), "{v}");
    assert_eq!(v["forecast"].as_array().expect("forecast").len(), 5);
    // Credit only for those who see it: the rep does not, the director does.
    assert!(v["facts"]["credit_grade"].is_null(), "{v}");
    let d = t.get(&format!("/api/v1/plans/{id}"), &bearer(&w, "director")).await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.body);
    assert_eq!(d.json()["facts"]["credit_grade"], "yellow");

    // One plan a year: the second is a conflict naming the first.
    let again = t
        .call(
            Method::POST,
            &format!("/api/v1/accounts/{}/plans", w.account_x),
            &bearer(&w, "repA"),
            Some(json!({"year": 2027})),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    // A prospect has no plan.
    let c = t
        .call(
            Method::POST,
            &format!("/api/v1/accounts/{}/plans", w.account_c),
            &bearer(&w, "repC"),
            Some(json!({"year": 2027})),
        )
        .await;
    assert_eq!(fields(&c).get("account_id").map(String::as_str), Some("plan_needs_key_account"));

    // Next year's plan carries this year's customer information and team.
    let (st, _) = put(
        &t,
        &w,
        "repA",
        id,
        json!({"customer": {"strategy": "扩大华北产能"}, "team": [{"user": "repB", "role": "技术支持"}]}),
        1,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let next = begin(&t, &w, "repA", w.account_x, 2028).await;
    assert_eq!(next["plan"]["body"]["customer"]["strategy"], "扩大华北产能");
    assert_eq!(next["plan"]["body"]["team"][0]["user"], "repB");
    assert_eq!(next["facts"]["last_plan"]["year"], 2027);
    let list = t.get(&format!("/api/v1/accounts/{}/plans", w.account_x), &bearer(&w, "repA")).await.json();
    let years: Vec<i64> =
        list["items"].as_array().expect("items").iter().map(|p| p["year"].as_i64().expect("year")).collect();
    assert_eq!(years, [2028, 2027]);

    // The page shows the pre-filled parts beside the owner's text.
    let (me, _) = session(&t, "repA").await;
    let page = t.get(&format!("/plans/{id}"), &me).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for want in
        ["王志远", "战略", "扩大华北产能", "plan-relmap", "id=\"plan-edit\"", "plan-sow", "/plans/", "/whitespace"]
    {
        assert!(page.body.contains(want), "{want} on the plan page");
    }
    let plans = t.get(&format!("/accounts/{}/plans", w.account_x), &me).await;
    assert_eq!(plans.status, StatusCode::OK);
    assert!(plans.body.contains(&format!("/plans/{id}")), "{}", plans.body);
    let print = t.get(&format!("/plans/{id}/print"), &me).await;
    assert_eq!(print.status, StatusCode::OK);
    assert!(print.body.contains("class=\"a4\"") && print.body.contains("王志远"));
}

#[tokio::test]
async fn saves_are_versions_compared_by_field_and_a_stale_save_is_refused() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let id = begin(&t, &w, "repA", w.account_x, 2027).await["plan"]["id"].as_i64().expect("id");
    let b1 = json!({"customer": {"strategy": "稳定"}, "objectives": [objective("份额提升")]});
    let (st, v) = put(&t, &w, "repA", id, b1.clone(), 1).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["plan"]["version"], 2);
    assert_eq!(v["objectives"][0]["owner_name"], "repA");
    let mut b2 = b1.clone();
    b2["objectives"][0]["target"] = json!("45");
    b2["objectives"][0]["key"] = json!("o1");
    let (st, _) = put(&t, &w, "repA", id, b2.clone(), 2).await;
    assert_eq!(st, StatusCode::OK);
    // A save over version 2 again is stale.
    let (st, e) = put(&t, &w, "repA", id, b1, 2).await;
    assert_eq!(st, StatusCode::CONFLICT, "{e}");

    let vs = t.get(&format!("/api/v1/plans/{id}/versions"), &bearer(&w, "repA")).await.json();
    let nums: Vec<i64> =
        vs["items"].as_array().expect("items").iter().map(|v| v["version"].as_i64().expect("v")).collect();
    assert_eq!(nums, [3, 2, 1]);
    let one = t.get(&format!("/api/v1/plans/{id}/versions/2"), &bearer(&w, "repA")).await.json();
    assert_eq!(one["body"]["objectives"][0]["target"], "40.00");
    let cmp = t.get(&format!("/api/v1/plans/{id}/compare?from=2&to=3"), &bearer(&w, "repA")).await.json();
    let paths: Vec<&str> = cmp["items"].as_array().expect("items").iter().filter_map(|c| c["path"].as_str()).collect();
    assert_eq!(paths, ["objectives[0].target"], "{cmp}");
    assert_eq!(cmp["items"][0]["before"], "40.00");
    assert_eq!(cmp["items"][0]["after"], "45.00");
    let cmp = t.get(&format!("/api/v1/plans/{id}/compare?from=1&to=3"), &bearer(&w, "repA")).await.json();
    let paths: Vec<&str> = cmp["items"].as_array().expect("items").iter().filter_map(|c| c["path"].as_str()).collect();
    assert!(paths.contains(&"customer.strategy") && paths.contains(&"objectives[0].title"), "{paths:?}");

    let (me, _) = session(&t, "repA").await;
    let page = t.get(&format!("/plans/{id}/compare?from=2&to=3"), &me).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("objectives[0].target") && page.body.contains("45.00"), "{}", page.body);
    let hist = t.get(&format!("/plans/{id}/versions"), &me).await;
    assert!(hist.body.contains("v3") && hist.body.contains("v1"));
}

#[tokio::test]
async fn bad_plans_are_refused_by_field_and_nothing_is_saved() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let id = begin(&t, &w, "repA", w.account_x, 2027).await["plan"]["id"].as_i64().expect("id");
    let bad = json!({
        "objectives": [{"title": "无度量", "owner": null, "measure": null, "due_on": "2027-06-30"},
                       {"title": "有人", "owner": "nobody", "measure": "manual", "target": "x", "due_on": "2027-06-30"}],
        "actions": {"actions": [{"title": "里程碑", "kind": "project", "due_on": "2035-01-01", "milestone": true}]},
        "forecast": [{"year": 2040, "revenue": "1", "contribution": "1", "cost": "1"}]
    });
    let r = t
        .call(
            Method::PUT,
            &format!("/api/v1/plans/{id}"),
            &bearer(&w, "repA"),
            Some(json!({"body": bad, "version": 1})),
        )
        .await;
    let f = fields(&r);
    for (k, code) in [
        ("forecast[0].year", "year_outside_plan"),
        ("objectives[0].measure", "required"),
        ("objectives[0].owner", "required"),
        ("objectives[1].owner", "unknown_user"),
        ("actions.actions[0].due_on", "after_horizon"),
    ] {
        assert_eq!(f.get(k).map(String::as_str), Some(code), "{k} in {f:?}");
    }
    let v = t.get(&format!("/api/v1/plans/{id}"), &bearer(&w, "repA")).await.json();
    assert_eq!(v["plan"]["version"], 1);
    assert!(v["plan"]["body"]["objectives"].as_array().expect("objectives").is_empty());

    // The editor keeps what was typed and names the field.
    let (me, csrf) = session(&t, "repA").await;
    let Auth::Session { cookie, .. } = &me else { unreachable!() };
    let form = t.get(&format!("/plans/{id}/edit"), &me).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains("name=\"forecast[0].year\""));
    let r = t
        .ui_post(
            &format!("/plans/{id}/edit"),
            cookie,
            &[
                ("_csrf", &csrf),
                ("version", "1"),
                ("customer.strategy", "保持领先"),
                ("forecast[0].year", "2040"),
                ("forecast[0].revenue", "100"),
                ("forecast[0].contribution", "10"),
                ("forecast[0].cost", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("保持领先") && r.body.contains("value=\"2040\""), "{}", r.body);
    assert!(r.body.contains("不在本规划的五年之内"), "{}", r.body);
    // A stale form says so.
    let ok = t
        .ui_post(
            &format!("/plans/{id}/edit"),
            cookie,
            &[("_csrf", &csrf), ("version", "1"), ("customer.strategy", "A")],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    let stale = t
        .ui_post(
            &format!("/plans/{id}/edit"),
            cookie,
            &[("_csrf", &csrf), ("version", "1"), ("customer.strategy", "B")],
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);
    assert!(stale.body.contains("value=\"B\"") || stale.body.contains(">B</textarea>"), "{}", stale.body);
}

#[tokio::test]
async fn the_functions_read_the_plan_and_who_is_out_of_scope_does_not_see_it() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let admin = Ctx {
        caller: kam::app::Caller { role: kam::domain::role::Role::Admin, ..Ctx::system().caller },
        ..Ctx::system()
    };
    for (u, role) in [("mkt", "marketing"), ("logi", "logistics_manager")] {
        let p = kam::app::records::input::Input::from_pairs(&[
            ("username", Some(u)),
            ("role", Some(role)),
            ("org_unit", Some("HQ")),
            ("password", Some(PASSWORD)),
            ("display_name", Some(u)),
        ]);
        kam::app::people::users::create(t.db(), &admin, &p).await.expect("user");
    }
    let id = begin(&t, &w, "repA", w.account_x, 2027).await["plan"]["id"].as_i64().expect("id");
    for u in ["finance", "mkt", "logi"] {
        let (me, _) = session(&t, u).await;
        let v = t.get(&format!("/api/v1/plans/{id}"), &me).await;
        assert_eq!(v.status, StatusCode::OK, "{u}: {}", v.body);
        assert_eq!(v.json()["editable"], false, "{u}");
        let tok = t.token(u).await;
        let r = t
            .call(
                Method::PUT,
                &format!("/api/v1/plans/{id}"),
                &Auth::Bearer(tok),
                Some(json!({"body": {}, "version": 1})),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{u}: {}", r.body);
        let page = t.get(&format!("/plans/{id}"), &me).await;
        assert_eq!(page.status, StatusCode::OK, "{u}");
        assert!(!page.body.contains("id=\"plan-edit\"") && page.body.contains("plan-readonly"), "{u}");
        assert!(!page.body.contains("plan-upload"), "{u}");
    }
    // repC sits in another branch: neither the plan nor its page exists for them.
    assert_eq!(t.get(&format!("/api/v1/plans/{id}"), &bearer(&w, "repC")).await.status, StatusCode::NOT_FOUND);
    let (c, _) = session(&t, "repC").await;
    assert_eq!(t.get(&format!("/plans/{id}"), &c).await.status, StatusCode::NOT_FOUND);
    assert_eq!(t.get(&format!("/plans/{id}/edit"), &c).await.status, StatusCode::NOT_FOUND);
    let (st, _, _) = download(&t, &format!("/api/v1/plans/{id}/forecast.xlsx"), &bearer(&w, "repC")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_forecast_downloads_as_xlsx_with_its_numbers() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let id = begin(&t, &w, "repA", w.account_x, 2027).await["plan"]["id"].as_i64().expect("id");
    let body = json!({"forecast": [
        {"year": 2027, "region": "华北", "platform": "测量", "revenue": "1000000", "contribution": "200000.50", "cost": "30000"},
        {"year": 2027, "region": "华东", "platform": "测量", "revenue": "500000", "contribution": "100000", "cost": "10000"},
        {"year": 2029, "revenue": "2500000", "contribution": "600000", "cost": "50000"}
    ]});
    let (st, v) = put(&t, &w, "repA", id, body, 1).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["forecast"][0]["revenue"], "1500000.00");
    assert_eq!(v["forecast"][2]["year"], 2029);
    let (st, h, bytes) = download(&t, &format!("/api/v1/plans/{id}/forecast.xlsx"), &bearer(&w, "repA")).await;
    assert_eq!(st, StatusCode::OK);
    assert!(h[axum::http::header::CONTENT_TYPE].to_str().expect("type").contains("spreadsheetml"));
    let rows = xlsx_rows(bytes, "forecast");
    let num = |c: &calamine::Data| match c {
        calamine::Data::Float(f) => Some(*f),
        calamine::Data::Int(i) => Some(*i as f64),
        _ => None,
    };
    let hb = rows.iter().find(|r| r.get(1).map(|c| c.to_string()) == Some("华北".into())).expect("华北 row");
    assert_eq!(num(&hb[0]), Some(2027.0));
    assert_eq!(num(&hb[3]), Some(1_000_000.0));
    assert_eq!(num(&hb[4]), Some(200_000.5));
    let total =
        rows.iter().find(|r| num(&r[0]) == Some(2027.0) && r.get(1).map(|c| c.to_string()) == Some("合计".into()));
    assert_eq!(total.and_then(|r| num(&r[3])), Some(1_500_000.0), "{rows:?}");
    let (me, _) = session(&t, "repA").await;
    let (st, _, page_bytes) = download(&t, &format!("/plans/{id}/forecast.xlsx"), &me).await;
    assert_eq!(st, StatusCode::OK);
    assert!(!xlsx_rows(page_bytes, "forecast").is_empty());
}

#[tokio::test]
async fn an_objective_on_an_opportunity_is_done_once_the_opportunity_is_won() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let id = begin(&t, &w, "repA", w.account_x, 2027).await["plan"]["id"].as_i64().expect("id");
    let opp = opportunity(&t, &bearer(&w, "repA"), w.account_x, "二期产线").await;
    let other = opportunity(&t, &bearer(&w, "repC"), w.account_c, "别家").await;
    let o = |opp: i64| json!({"objectives": [{"title": "赢得二期", "owner": "repA", "measure": "opportunity_won", "opportunity_id": opp, "due_on": "2027-09-30"}]});
    let r = t
        .call(
            Method::PUT,
            &format!("/api/v1/plans/{id}"),
            &bearer(&w, "repA"),
            Some(json!({"body": o(other), "version": 1})),
        )
        .await;
    assert_eq!(fields(&r).get("objectives[0].opportunity_id").map(String::as_str), Some("not_of_account"));
    let (st, v) = put(&t, &w, "repA", id, o(opp), 1).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_ne!(v["objectives"][0]["status"], "done");
    sqlx::query("UPDATE opportunities SET stage = 'won' WHERE id = $1")
        .bind(opp)
        .execute(&t.db().pool)
        .await
        .expect("won");
    let v = t.get(&format!("/api/v1/plans/{id}"), &bearer(&w, "repA")).await.json();
    assert_eq!(v["objectives"][0]["status"], "done", "{v}");
    assert_eq!(v["objectives"][0]["percent"], 100);
    assert!(v["facts"]["won"].as_array().expect("won").iter().any(|o| o["id"] == opp));
}
