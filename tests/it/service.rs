//! Serving key accounts (issue 24 items 1–3): the service team (who is told, who reads the
//! account's plans), a service request needs the KA manager's review and the KA director's
//! approval — and the marketing director's too when special payment terms are asked; a
//! service event held falls its return visit due a week later, the owner reminded once, and
//! the next contact with the account answers it; the evaluation goes through its own flow;
//! scope (another rep's account is 404) and bad input (422 naming the field, nothing saved).
use axum::http::{Method, StatusCode};
use chrono::{Duration, TimeZone, Utc};
use serde_json::{json, Value};

use crate::common::{fields, seed, Auth, Resp, TestApp, World};

fn bearer(w: &World, user: &str) -> Auth {
    Auth::Bearer(w.tokens[user].clone())
}

fn ok(r: Resp) -> Value {
    assert!(r.status == StatusCode::OK || r.status == StatusCode::CREATED, "{} {}", r.status, r.body);
    r.json()
}

async fn add_user(t: &TestApp, w: &World, username: &str, role: &str, org: &str) -> Auth {
    let body = json!({"username": username, "role": role, "org_unit": org, "password": "svc-pass-123",
        "display_name": format!("{username} 名")});
    let r = t.call(Method::POST, "/api/v1/users", &bearer(w, "admin"), Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    Auth::Bearer(t.token(username).await)
}

async fn count(t: &TestApp, sql: &str) -> i64 {
    sqlx::Row::try_get(&sqlx::query(sql).fetch_one(&t.db().pool).await.expect("row"), 0).expect("count")
}

async fn approval(t: &TestApp, who: &Auth, id: i64) -> Value {
    ok(t.get(&format!("/api/v1/approvals/{id}"), who).await)
}

async fn decide(t: &TestApp, who: &Auth, id: i64, decision: &str, comment: &str) -> Resp {
    t.call(
        Method::POST,
        &format!("/api/v1/approvals/{id}/decision"),
        who,
        Some(json!({"decision": decision, "comment": comment})),
    )
    .await
}

fn request_body(account: i64, services: &[&str]) -> Value {
    json!({"account_id": account, "content": "新产线试产期间的技术支持", "deeper_needs": "缩短换型时间",
        "needs_changes": "月需求增至 3 万件", "organisation": "客户生产部王工牵头", "services": services, "submit": true})
}

#[tokio::test]
async fn a_service_request_needs_the_ka_manager_and_the_director_and_special_terms_the_marketing_director() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let md = add_user(&t, &w, "md", "marketing_director", "HQ").await;
    let rep = bearer(&w, "repA");
    // Standard: the KA manager reviews, the director approves; the marketing director is not asked.
    let r = ok(t
        .call(Method::POST, "/api/v1/service-requests", &rep, Some(request_body(w.account_x, &["consulting"])))
        .await);
    assert_eq!(r["state"], "submitted", "{r}");
    assert_eq!(r["applicant"], "repA");
    let aid = r["approval_id"].as_i64().expect("approval");
    let a = approval(&t, &bearer(&w, "director"), aid).await;
    assert_eq!(a["flow"], "service_request", "{a}");
    // The director may not skip the KA manager.
    assert_eq!(decide(&t, &bearer(&w, "director"), aid, "approve", "同意").await.status, StatusCode::FORBIDDEN);
    ok(decide(&t, &bearer(&w, "manager"), aid, "approve", "客户需求真实，建议支持").await);
    let mid = ok(t.get(&format!("/api/v1/service-requests/{}", r["id"]), &rep).await);
    assert_eq!(mid["state"], "submitted", "one approval is not enough: {mid}");
    ok(decide(&t, &bearer(&w, "director"), aid, "approve", "同意，由技术部安排").await);
    let done = ok(t.get(&format!("/api/v1/service-requests/{}", r["id"]), &rep).await);
    assert_eq!(done["state"], "approved", "{done}");
    let opinions: Vec<&str> =
        done["opinions"].as_array().expect("opinions").iter().filter_map(|o| o["comment"].as_str()).collect();
    assert_eq!(opinions, ["客户需求真实，建议支持", "同意，由技术部安排"], "{done}");

    // Special payment terms: after both, the marketing director too.
    let r = ok(t
        .call(
            Method::POST,
            "/api/v1/service-requests",
            &rep,
            Some(request_body(w.account_x, &["special_payment_terms", "expedited_supply"])),
        )
        .await);
    assert_eq!(r["special_terms"], true);
    let aid = r["approval_id"].as_i64().expect("approval");
    ok(decide(&t, &bearer(&w, "manager"), aid, "approve", "同意").await);
    ok(decide(&t, &bearer(&w, "director"), aid, "approve", "同意").await);
    let mid = ok(t.get(&format!("/api/v1/service-requests/{}", r["id"]), &rep).await);
    assert_eq!(mid["state"], "submitted", "the marketing director is still to decide: {mid}");
    ok(decide(&t, &md, aid, "approve", "账期延长至 90 天可以接受").await);
    let done = ok(t.get(&format!("/api/v1/service-requests/{}", r["id"]), &rep).await);
    assert_eq!(done["state"], "approved", "{done}");

    // Returned by the KA manager: back to the applicant to change and submit again.
    let r =
        ok(t.call(Method::POST, "/api/v1/service-requests", &rep, Some(request_body(w.account_x, &["events"]))).await);
    let aid = r["approval_id"].as_i64().expect("approval");
    ok(decide(&t, &bearer(&w, "manager"), aid, "return", "请补充活动预算").await);
    let back = ok(t.get(&format!("/api/v1/service-requests/{}", r["id"]), &rep).await);
    assert_eq!((back["state"].as_str(), back["may_edit"].as_bool()), (Some("returned"), Some(true)), "{back}");
    let mut again = request_body(w.account_x, &["events", "consulting"]);
    again["version"] = back["version"].clone();
    let again = ok(t.call(Method::PUT, &format!("/api/v1/service-requests/{}", r["id"]), &rep, Some(again)).await);
    assert_eq!(again["state"], "submitted");
    assert_ne!(again["approval_id"], back["approval_id"]);
    let listed = ok(t.get(&format!("/api/v1/service-requests?account_id={}&state=approved", w.account_x), &rep).await);
    assert_eq!(listed["items"].as_array().expect("items").len(), 2, "{listed}");
}

#[tokio::test]
async fn bad_input_names_the_field_and_saves_nothing_and_another_reps_account_is_not_found() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = bearer(&w, "repA");
    let before = count(&t, "SELECT COUNT(*) FROM service_requests").await;
    let r = t
        .call(
            Method::POST,
            "/api/v1/service-requests",
            &rep,
            Some(json!({"account_id": w.account_x, "content": " ", "services": ["free_lunch"]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let f = fields(&r);
    assert_eq!(f.get("content").map(String::as_str), Some("required"), "{f:?}");
    assert_eq!(f.get("services").map(String::as_str), Some("invalid_choice"), "{f:?}");
    assert_eq!(count(&t, "SELECT COUNT(*) FROM service_requests").await, before);
    // An event whose invited contact is not the account's, and an evaluation scored 6.
    let r = t
        .call(
            Method::POST,
            "/api/v1/service-events",
            &rep,
            Some(json!({"account_id": w.account_x, "kind": "technical_seminar", "title": "交流会",
                "starts_at": "2026-12-01T14:00", "invited": [999_999]})),
        )
        .await;
    assert_eq!(fields(&r).get("invited[0]").map(String::as_str), Some("contact_not_of_account"), "{}", r.body);
    let r = t
        .call(
            Method::PUT,
            &format!("/api/v1/accounts/{}/service-team", w.account_x),
            &rep,
            Some(json!({"members": [{"username": "nobody", "function": "sales_support"}, {"username": "repB", "function": "chef"}],
                "version": 0})),
        )
        .await;
    let f = fields(&r);
    assert_eq!(f.get("members[0].username").map(String::as_str), Some("unknown_user"), "{f:?}");
    assert_eq!(f.get("members[1].function").map(String::as_str), Some("invalid_choice"), "{f:?}");
    assert_eq!(count(&t, "SELECT COUNT(*) FROM service_events").await, 0);
    assert_eq!(count(&t, "SELECT COUNT(*) FROM account_service_team").await, 0);

    // repC's account: another rep's, out of repA's scope.
    let c = w.account_c;
    sqlx::query("UPDATE accounts SET status = 'key_account' WHERE id = $1")
        .bind(c)
        .execute(&t.db().pool)
        .await
        .expect("ka");
    let repc = bearer(&w, "repC");
    let mut draft = request_body(c, &["consulting"]);
    draft["submit"] = json!(false);
    let req = ok(t.call(Method::POST, "/api/v1/service-requests", &repc, Some(draft)).await);
    assert_eq!(req["state"], "draft");
    let r = t.get(&format!("/api/v1/service-requests/{}", req["id"]), &rep).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = t.call(Method::POST, "/api/v1/service-requests", &rep, Some(request_body(c, &["consulting"]))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = t.get(&format!("/api/v1/accounts/{c}/service-team"), &rep).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let listed = ok(t.get("/api/v1/service-requests", &rep).await);
    assert!(listed["items"].as_array().expect("items").is_empty(), "{listed}");
    let ev = ok(t
        .call(
            Method::POST,
            "/api/v1/service-events",
            &repc,
            Some(json!({"account_id": c, "kind": "other", "title": "拜访答谢", "starts_at": "2026-12-01T14:00"})),
        )
        .await);
    assert_eq!(t.get(&format!("/api/v1/service-events/{}", ev["id"]), &rep).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_return_visit_falls_due_a_week_after_the_event_and_the_next_contact_answers_it() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = bearer(&w, "repA");
    let rep_b = bearer(&w, "repB");
    // The team: repB supports sales and is told of the account's events.
    let team = ok(t
        .call(
            Method::PUT,
            &format!("/api/v1/accounts/{}/service-team", w.account_x),
            &rep,
            Some(json!({"members": [{"username": "repB", "function": "sales_support", "responsibilities": "交期跟进"},
                {"username": "finance", "function": "finance_support"}], "version": 0})),
        )
        .await);
    assert_eq!(team["members"].as_array().expect("members").len(), 2, "{team}");
    assert_eq!(team["version"], 1, "{team}");
    // Another save over the version first read: 409, the team as it was.
    let r = t
        .call(
            Method::PUT,
            &format!("/api/v1/accounts/{}/service-team", w.account_x),
            &bearer(&w, "manager"),
            Some(json!({"members": [], "version": 0})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let read = ok(t.get(&format!("/api/v1/accounts/{}/service-team", w.account_x), &rep).await);
    assert_eq!(read["members"].as_array().expect("members").len(), 2, "{read}");
    assert_eq!(read["version"], 1);
    let told = |u: &'static str| {
        let db = t.db().pool.clone();
        async move {
            sqlx::Row::try_get::<i64, _>(
                &sqlx::query(
                    "SELECT COUNT(*) FROM notifications n JOIN users u ON u.id = n.user_id \
                     WHERE u.username = $1 AND n.kind = 'service_event_planned'",
                )
                .bind(u)
                .fetch_one(&db)
                .await
                .expect("row"),
                0,
            )
            .expect("count")
        }
    };
    // Held three days ago (Shanghai 14:00).
    let day = (Utc::now() - Duration::days(3)).with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
    let starts = format!("{day}T14:00");
    let ev = ok(t
        .call(
            Method::POST,
            "/api/v1/service-events",
            &rep,
            Some(json!({"account_id": w.account_x, "kind": "technical_seminar", "title": "新品技术交流会",
                "starts_at": starts, "place": "客户会议室", "invited": [w.contact_x]})),
        )
        .await);
    assert_eq!(ev["state"], "planned");
    assert_eq!((told("repB").await, told("finance").await, told("repA").await), (1, 1, 0));
    let id = ev["id"].as_i64().expect("id");
    // A future event cannot be recorded as held.
    let future = ok(t
        .call(
            Method::POST,
            "/api/v1/service-events",
            &rep,
            Some(json!({"account_id": w.account_x, "kind": "other", "title": "答谢会",
                "starts_at": (Utc::now() + Duration::days(5)).to_rfc3339()})),
        )
        .await);
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/service-events/{}/held", future["id"]),
            &rep,
            Some(json!({"version": future["version"]})),
        )
        .await;
    assert_eq!(fields(&r).get("starts_at").map(String::as_str), Some("held_in_future"), "{}", r.body);

    let held = ok(t
        .call(
            Method::POST,
            &format!("/api/v1/service-events/{id}/held"),
            &rep,
            Some(json!({"attended": [w.contact_x], "version": ev["version"]})),
        )
        .await);
    let due = day + Duration::days(7);
    assert_eq!(held["return_due_on"], due.to_string(), "{held}");
    assert_eq!(held["return_state"], "due");
    assert_eq!(held["attended"][0]["id"], w.contact_x);

    // Not reminded before its day; on its day once, to the owner; not again.
    let noon = |d: chrono::NaiveDate| {
        chrono_tz::Asia::Shanghai
            .from_local_datetime(&d.and_hms_opt(12, 0, 0).expect("noon"))
            .single()
            .expect("time")
            .with_timezone(&Utc)
    };
    let remind = kam::app::service::events::remind_return_visits;
    assert_eq!(remind(t.db(), noon(due - Duration::days(1))).await.expect("pass"), 0);
    assert_eq!(remind(t.db(), noon(due)).await.expect("pass"), 1);
    assert_eq!(remind(t.db(), noon(due + Duration::days(1))).await.expect("pass"), 0);
    assert_eq!(
        count(
            &t,
            "SELECT COUNT(*) FROM notifications n JOIN users u ON u.id = n.user_id \
             WHERE u.username = 'repA' AND n.kind = 'service_return_visit'"
        )
        .await,
        1
    );

    // A contact before the event does not answer it; the next one after does.
    let before = format!("{}T09:00", day - Duration::days(1));
    ok(t.call(
        Method::POST,
        "/api/v1/activities",
        &rep,
        Some(json!({"account_id": w.account_x, "kind": "phone",
        "status": "done", "occurred_at": before, "outcome": "none"})),
    )
    .await);
    let still = ok(t.get(&format!("/api/v1/service-events/{id}"), &rep).await);
    assert_eq!(still["return_state"], "due", "{still}");
    let listed = ok(t.get("/api/v1/service-events?return_state=due", &rep).await);
    assert_eq!(listed["items"].as_array().expect("items").len(), 1, "{listed}");
    let after = format!("{}T10:00", day + Duration::days(2));
    let visit = ok(t
        .call(
            Method::POST,
            "/api/v1/activities",
            &rep,
            Some(json!({"account_id": w.account_x, "kind": "phone",
        "status": "done", "occurred_at": after, "outcome": "none"})),
        )
        .await);
    let answered = ok(t.get(&format!("/api/v1/service-events/{id}"), &rep).await);
    assert_eq!(answered["return_state"], "answered", "{answered}");
    assert_eq!(answered["return_activity_id"], visit["id"]);
    let listed = ok(t.get("/api/v1/service-events?return_state=due", &rep).await);
    assert!(listed["items"].as_array().expect("items").is_empty(), "{listed}");

    // The evaluation: written by the service staff (repB, of the team), reviewed by the KA
    // manager, approved by the director; a score of 6 is refused first.
    let r = t
        .call(
            Method::PUT,
            &format!("/api/v1/service-events/{id}/evaluation"),
            &rep_b,
            Some(json!({"done": "介绍新品", "problems": ["交期偏长"], "score": 6, "version": 0})),
        )
        .await;
    assert_eq!(fields(&r).get("score").map(String::as_str), Some("score_range"), "{}", r.body);
    assert_eq!(count(&t, "SELECT COUNT(*) FROM service_evaluations").await, 0);
    let ev = ok(t
        .call(
            Method::PUT,
            &format!("/api/v1/service-events/{id}/evaluation"),
            &rep_b,
            Some(json!({"done": "介绍新品并现场演示", "reaction": "兴趣浓厚", "problems": ["交期偏长", "", "需要英文资料"],
                "score": 4, "suggestions": "两周内送样", "version": 0, "submit": true})),
        )
        .await);
    let e = &ev["evaluation"];
    assert_eq!(e["problems"], json!(["交期偏长", "需要英文资料"]), "{ev}");
    assert_eq!(e["state"], "submitted");
    let aid = e["approval_id"].as_i64().expect("approval");
    assert_eq!(approval(&t, &bearer(&w, "manager"), aid).await["flow"], "service_evaluation");
    ok(decide(&t, &bearer(&w, "manager"), aid, "approve", "评估属实").await);
    ok(decide(&t, &bearer(&w, "director"), aid, "approve", "同意").await);
    let ev = ok(t.get(&format!("/api/v1/service-events/{id}"), &rep).await);
    assert_eq!(ev["evaluation"]["state"], "approved", "{ev}");
    assert_eq!(ev["evaluation"]["opinions"][0]["comment"], "评估属实");
    // Approved, each problem it raised is an open point of the account.
    let raised = t.get("/api/v1/opl?source=service_evaluation", &bearer(&w, "director")).await.json();
    let titles: Vec<&str> =
        raised["items"].as_array().expect("items").iter().filter_map(|i| i["title"].as_str()).collect();
    assert_eq!(titles.len(), 2, "{raised}");
    assert!(titles.contains(&"交期偏长") && titles.contains(&"需要英文资料"), "{titles:?}");
}

#[tokio::test]
async fn the_service_team_reads_the_accounts_plan_out_of_its_own_scope() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let ctx = {
        let id: i64 = sqlx::Row::try_get(
            &sqlx::query("SELECT id FROM users WHERE username = 'director'").fetch_one(&t.db().pool).await.expect("u"),
            "id",
        )
        .expect("id");
        kam::app::Ctx {
            caller: kam::app::people::auth::load_caller(t.db(), id).await.expect("load").expect("active"),
            request_id: "test".into(),
        }
    };
    let plan =
        kam::app::plans::calendar::set_account_priorities(t.db(), &ctx, w.account_x, 2030, Some("份额提升"), None)
            .await
            .expect("plan")
            .plan_id;
    let rep_c = bearer(&w, "repC");
    assert_eq!(t.get(&format!("/api/v1/plans/{plan}"), &rep_c).await.status, StatusCode::NOT_FOUND);
    ok(t.call(
        Method::PUT,
        &format!("/api/v1/accounts/{}/service-team", w.account_x),
        &bearer(&w, "repA"),
        Some(json!({"members": [{"username": "repC", "function": "after_sales_support"}], "version": 0})),
    )
    .await);
    let p = ok(t.get(&format!("/api/v1/plans/{plan}"), &rep_c).await);
    assert_eq!(p["plan"]["id"], plan, "{p}");
    assert_eq!(p["editable"], false);
    // Reading only: a save is still out of scope.
    let r = t
        .call(
            Method::PUT,
            &format!("/api/v1/plans/{plan}"),
            &rep_c,
            Some(json!({"body": p["plan"]["body"], "version": p["plan"]["version"]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
}

#[tokio::test]
async fn the_pages_show_the_team_the_request_whole_its_form_and_the_approval() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (sid, csrf) = t.ui_login("repA", crate::common::PASSWORD, None).await.unwrap_or_else(|r| panic!("{}", r.body));
    let page = |path: String| {
        let auth = Auth::Session { cookie: sid.clone(), csrf: String::new() };
        let t = &t;
        async move {
            let r = t.get_form(&path, &auth).await;
            assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
            r.body
        }
    };
    let form = page(format!("/accounts/{}/service-team", w.account_x)).await;
    assert!(form.contains("service-team-form"));
    // An unknown member: the form again with what was typed and the field named; nothing saved.
    let path = format!("/accounts/{}/service-team", w.account_x);
    let r = t
        .ui_post(
            &path,
            &sid,
            &[
                ("_csrf", &csrf),
                ("version", "0"),
                ("username_0", "nobody"),
                ("function_0", "sales_support"),
                ("responsibilities_0", "交期跟进"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("交期跟进") && r.body.contains("role=\"alert\""), "{}", r.body);
    assert_eq!(count(&t, "SELECT COUNT(*) FROM account_service_team").await, 0);
    let r = t
        .ui_post(
            &path,
            &sid,
            &[
                ("_csrf", &csrf),
                ("version", "0"),
                ("username_0", "repB"),
                ("function_0", "sales_support"),
                ("responsibilities_0", "交期跟进"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // A second save over the same version read (another tab): refused, what was typed kept.
    let r = t
        .ui_post(
            &path,
            &sid,
            &[
                ("_csrf", &csrf),
                ("version", "0"),
                ("username_0", "repC"),
                ("function_0", "training_support"),
                ("responsibilities_0", "产品培训"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("产品培训") && r.body.contains("role=\"alert\""), "{}", r.body);
    assert_eq!(count(&t, "SELECT COUNT(*) FROM account_service_team").await, 1);
    let account = page(format!("/accounts/{}", w.account_x)).await;
    assert!(account.contains("id=\"service-team\"") && account.contains("交期跟进"), "the account shows its team");

    let rep = bearer(&w, "repA");
    let r = ok(t
        .call(Method::POST, "/api/v1/service-requests", &rep, Some(request_body(w.account_x, &["consulting"])))
        .await);
    let (id, aid) = (r["id"].as_i64().expect("id"), r["approval_id"].as_i64().expect("approval"));
    let show = page(format!("/service-requests/{id}")).await;
    assert!(show.contains("缩短换型时间") && show.contains("客户生产部王工牵头"), "the request whole");
    let print = page(format!("/service-requests/{id}/print")).await;
    assert!(print.contains("大客户服务与支持申请表") && print.contains("☑"), "the A4 form");
    let list = page(format!("/service-requests?account_id={}&state=submitted", w.account_x)).await;
    assert!(list.contains(&format!("/service-requests/{id}\"")), "the list filters by account and state");
    let approval = page(format!("/approvals/{aid}")).await;
    assert!(
        approval.contains("新产线试产期间的技术支持") && approval.contains("缩短换型时间"),
        "the approval page shows the request"
    );
}
