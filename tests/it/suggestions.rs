//! Customer suggestions (issue 24, seed 003 §一.3): a reply date before the suggestion was
//! received is refused; the report asks the departments concerned, who give their opinions in
//! parallel — the suggestion waits until every one has, the late one escalates on its own, and
//! a department not asked is refused; then the marketing director and the general manager; it
//! is carried out and answered; a late reply is flagged once; another rep's account is 404.
use axum::http::{Method, StatusCode};
use chrono::{Duration, Utc};
use kam::app::approvals;
use serde_json::{json, Value};

use crate::common::{fields, seed, Auth, TestApp, World, PASSWORD};

fn bearer(w: &World, user: &str) -> Auth {
    Auth::Bearer(w.tokens[user].clone())
}

async fn add_user(t: &TestApp, w: &World, username: &str, role: &str) -> Auth {
    let body = json!({"username": username, "role": role, "org_unit": "HQ", "password": "sugg-pass-123",
        "display_name": format!("{username} 名")});
    let r = t.call(Method::POST, "/api/v1/users", &bearer(w, "admin"), Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    Auth::Bearer(t.token(username).await)
}

fn day(n: i64) -> String {
    (Utc::now() + Duration::days(n)).date_naive().to_string()
}

async fn count(t: &TestApp) -> i64 {
    sqlx::Row::try_get(
        &sqlx::query("SELECT COUNT(*) AS n FROM suggestions").fetch_one(&t.db().pool).await.expect("count"),
        "n",
    )
    .expect("n")
}

/// The opinions' states by role.
fn opinions(v: &Value) -> Vec<(String, String, bool)> {
    v["opinions"]
        .as_array()
        .expect("opinions")
        .iter()
        .map(|o| {
            (
                o["role"].as_str().unwrap_or_default().to_string(),
                o["state"].as_str().unwrap_or_default().to_string(),
                o["escalated"].as_bool().unwrap_or_default(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_suggestion_waits_for_every_department_and_the_late_one_escalates() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let logistics = add_user(&t, &w, "logistics", "logistics_manager").await;
    let marketing = add_user(&t, &w, "mkt", "marketing_director").await;
    let gm = add_user(&t, &w, "boss", "gm").await;
    let rep = bearer(&w, "repA");
    let path = format!("/api/v1/accounts/{}/suggestions", w.account_x);

    // A reply promised before the suggestion was received: 422 naming it, nothing saved.
    let bad = json!({"channel": "phone", "category": "delivery", "content": "希望缩短备件交货周期",
        "received_on": day(-2), "reply_due": day(-3)});
    let r = t.call(Method::POST, &path, &rep, Some(bad)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(fields(&r).get("reply_due").map(String::as_str), Some("before_received"), "{}", r.body);
    assert_eq!(count(&t).await, 0, "nothing saved");

    let good = json!({"channel": "phone", "category": "delivery", "content": "希望缩短备件交货周期",
        "thanks": "已电话致谢", "received_on": day(-2), "reply_due": day(20)});
    let r = t.call(Method::POST, &path, &rep, Some(good)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let v = r.json();
    let id = v["id"].as_i64().expect("id");
    assert_eq!(v["state"], "received");

    // A department the flow does not ask: refused by field.
    let report = |deps: Value, version: i64| json!({"cause": "备件库存离客户较远", "feasibility": "可在华北仓增设备件库存", "departments": deps, "version": version});
    let r = t
        .call(Method::POST, &format!("/api/v1/suggestions/{id}/submit"), &rep, Some(report(json!([{"role": "gm"}]), 1)))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(fields(&r).get("departments[0].role").map(String::as_str), Some("not_asked"), "{}", r.body);

    let deps = json!([{"role": "logistics_manager", "days": 2}, {"role": "finance_manager", "days": 5}]);
    let r = t.call(Method::POST, &format!("/api/v1/suggestions/{id}/submit"), &rep, Some(report(deps, 1))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v = r.json();
    assert_eq!(v["state"], "in_review");
    let approval = v["approval_id"].as_i64().expect("a request");

    // The KA department manager reviews first; the departments are not asked yet.
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/suggestions/{id}/opinion"),
            &Auth::Bearer(w.tokens["finance"].clone()),
            Some(json!({"opinion": "同意"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(fields(&r).get("department").map(String::as_str), Some("not_asked"));
    let decide = |who: &Auth, body: Value| {
        let path = format!("/api/v1/approvals/{approval}/decision");
        let who = who.clone();
        let t = &t;
        async move { t.call(Method::POST, &path, &who, Some(body)).await }
    };
    let r = decide(&bearer(&w, "director"), json!({"decision": "approve", "comment": "请物流、财务会签"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // Both departments now, in parallel, each with its own deadline.
    let v = t.get(&format!("/api/v1/suggestions/{id}"), &rep).await.json();
    assert_eq!(
        opinions(&v),
        [("logistics_manager".into(), "open".into(), false), ("finance_manager".into(), "open".into(), false)]
    );
    let due: Vec<String> = v["opinions"].as_array().expect("o").iter().map(|o| o["due_at"].to_string()).collect();
    assert_ne!(due[0], due[1], "each its own deadline: {due:?}");
    // Someone not asked: the marketing director (asked later, not as a department), a rep.
    for who in [&marketing, &bearer(&w, "repB")] {
        let r = t
            .call(Method::POST, &format!("/api/v1/suggestions/{id}/opinion"), who, Some(json!({"opinion": "同意"})))
            .await;
        assert!(
            matches!(r.status, StatusCode::UNPROCESSABLE_ENTITY | StatusCode::NOT_FOUND),
            "not asked: {} {}",
            r.status,
            r.body
        );
    }
    let v = t.get(&format!("/api/v1/suggestions/{id}"), &rep).await.json();
    assert!(opinions(&v).iter().all(|o| o.1 == "open"), "nothing changed: {:?}", opinions(&v));

    // Finance agrees; the suggestion still waits for logistics.
    let finance = Auth::Bearer(w.tokens["finance"].clone());
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/suggestions/{id}/opinion"),
            &finance,
            Some(json!({"opinion": "费用可在年度服务预算内列支"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v = r.json();
    assert_eq!(v["state"], "in_review");
    assert_eq!(
        opinions(&v),
        [("logistics_manager".into(), "open".into(), false), ("finance_manager".into(), "approved".into(), false)]
    );
    let a = t.get(&format!("/api/v1/approvals/{approval}"), &bearer(&w, "director")).await.json();
    let open: Vec<&str> = a["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter(|s| s["state"] == "open")
        .filter_map(|s| s["role"].as_str())
        .collect();
    assert_eq!(open, ["logistics_manager"], "the marketing director waits for logistics");

    // Three days on, logistics (2 days) is late and escalates; finance decided, nothing to do.
    let (_, escalated) = approvals::tick(t.db(), Utc::now() + Duration::days(3)).await.expect("tick");
    assert_eq!(escalated, 1, "only the late department escalates");
    let v = t.get(&format!("/api/v1/suggestions/{id}"), &rep).await.json();
    assert_eq!(
        opinions(&v),
        [("logistics_manager".into(), "open".into(), true), ("finance_manager".into(), "approved".into(), false)]
    );

    // Logistics agrees: on to the marketing director, then the general manager.
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/suggestions/{id}/opinion"),
            &logistics,
            Some(json!({"opinion": "华北仓两周内可备货"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = decide(&marketing, json!({"decision": "approve", "comment": "同意"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v = t.get(&format!("/api/v1/suggestions/{id}"), &rep).await.json();
    assert_eq!(v["state"], "in_review", "the general manager still to approve");
    let r = decide(&gm, json!({"decision": "approve"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v = t.get(&format!("/api/v1/suggestions/{id}"), &rep).await.json();
    assert_eq!(v["state"], "approved");
    // Approved, it is an open point of the account until carried out, due by the promised reply.
    let raised = t.get("/api/v1/opl?source=suggestion", &bearer(&w, "director")).await.json();
    let items = raised["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{raised}");
    assert_eq!(items[0]["title"], "希望缩短备件交货周期");
    assert_eq!(items[0]["due_on"], json!(day(20)));

    // Carried out and answered with the customer's feedback.
    let version = v["version"].as_i64().expect("version");
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/suggestions/{id}/execution"),
            &rep,
            Some(json!({"execution": "华北仓已增设备件库存", "version": version})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let version = r.json()["version"].as_i64().expect("version");
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/suggestions/{id}/reply"),
            &rep,
            Some(json!({"reply": "已在华北仓增设备件库存", "feedback_score": 9, "version": version})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(fields(&r).get("feedback_score").map(String::as_str), Some("score_range"));
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/suggestions/{id}/reply"),
            &rep,
            Some(json!({"reply": "已在华北仓增设备件库存", "feedback_score": 5, "feedback": "很满意", "version": version})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["state"], "replied");
}

#[tokio::test]
async fn a_late_reply_is_flagged_once_and_another_reps_account_is_out_of_scope() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = bearer(&w, "repA");
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/accounts/{}/suggestions", w.account_x),
            &rep,
            Some(json!({"channel": "email", "category": "service", "content": "希望增加季度回访",
                "received_on": day(-10), "reply_due": day(-1)})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let v = r.json();
    let id = v["id"].as_i64().expect("id");
    assert_eq!(v["reply_overdue"], true);

    let now = Utc::now();
    assert_eq!(kam::app::suggestions::suggestions::daily(t.db(), now).await.expect("daily"), 1);
    assert_eq!(kam::app::suggestions::suggestions::daily(t.db(), now).await.expect("daily"), 0, "once");
    let told: i64 = sqlx::Row::try_get(
        &sqlx::query(
            "SELECT COUNT(*) AS n FROM notifications n JOIN users u ON u.id = n.user_id \
             WHERE n.kind = 'suggestion_reply_overdue' AND u.username = 'director'",
        )
        .fetch_one(&t.db().pool)
        .await
        .expect("count"),
        "n",
    )
    .expect("n");
    assert_eq!(told, 1, "the KA department manager is told");

    let overdue = t.get("/api/v1/suggestions?overdue=true", &rep).await.json();
    assert_eq!(overdue["items"].as_array().expect("items").len(), 1);

    // Another rep's: 404, and not listed.
    let other = bearer(&w, "repC");
    assert_eq!(t.get(&format!("/api/v1/suggestions/{id}"), &other).await.status, StatusCode::NOT_FOUND);
    let listed = t.get("/api/v1/suggestions", &other).await.json();
    assert!(listed["items"].as_array().expect("items").is_empty());
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/accounts/{}/suggestions", w.account_x),
            &other,
            Some(json!({"channel": "email", "category": "service", "content": "x", "reply_due": day(5)})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);

    // The pages: the list and the suggestion, and the account shows it.
    let (sid, csrf) = t.ui_login("repA", PASSWORD, None).await.unwrap_or_else(|r| panic!("login: {}", r.body));
    let ui = Auth::Session { cookie: sid, csrf };
    let page = t.get(&format!("/suggestions/{id}"), &ui).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("希望增加季度回访") && page.body.contains("答复逾期"), "the page shows it late");
    let account = t.get(&format!("/accounts/{}", w.account_x), &ui).await;
    assert!(account.body.contains(&format!("/suggestions/{id}")), "the account lists its suggestion");
}
