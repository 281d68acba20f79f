//! Account plans' reviews and the planning year (issue 23 items 3–5): reviews fall due on the
//! cadence of the account's tier and go to the reviewer its tier gives; the daily pass opens a
//! quarterly review only within the lead days; the checklist must be answered whole (and the
//! engine's own decide route refuses a plan's review); a returned plan is revised and asked
//! again; an accepted one goes into execution; the reviewer's due list; the year's calendar
//! (bad dates, who sets it), late plans and scope on the planning calendar; a slipping
//! milestone told to the owner and the KA manager once.
use axum::http::{Method, StatusCode};
use chrono::{DateTime, TimeZone, Utc};
use kam::app::Ctx;
use serde_json::{json, Value};

use crate::common::{fields, seed, Auth, Resp, TestApp, World};

fn bearer(w: &World, user: &str) -> Auth {
    Auth::Bearer(w.tokens[user].clone())
}

fn ok(r: Resp) -> Value {
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()
}

async fn add_user(t: &TestApp, w: &World, username: &str, role: &str, org: &str) -> Auth {
    let body = json!({"username": username, "role": role, "org_unit": org, "password": "plan-pass-123",
        "display_name": format!("{username} 名")});
    let r = t.call(Method::POST, "/api/v1/users", &bearer(w, "admin"), Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    Auth::Bearer(t.token(username).await)
}

async fn id_of(t: &TestApp, sql: &str, key: &str) -> i64 {
    sqlx::Row::try_get(&sqlx::query(sql).bind(key).fetch_one(&t.db().pool).await.expect("row"), "id").expect("id")
}

async fn ctx_of(t: &TestApp, username: &str) -> Ctx {
    let id = id_of(t, "SELECT id FROM users WHERE username = $1", username).await;
    let caller = kam::app::people::auth::load_caller(t.db(), id).await.expect("load").expect("active");
    Ctx { caller, request_id: "test".into() }
}

/// A key account of `tier` in region N (no branch: the region's head reviews B and C), owned by
/// `owner`.
async fn key_account(t: &TestApp, name: &str, tier: &str, owner: &str) -> i64 {
    let ctx = Ctx::system();
    let data = kam::app::customers::accounts::AccountData {
        name: name.into(),
        industry: "enterprise".into(),
        level: "L1".into(),
        status: "key_account".into(),
        tier: Some(tier.into()),
        region_id: Some(id_of(t, "SELECT id FROM org_units WHERE code = $1", "N").await),
        owner_id: Some(id_of(t, "SELECT id FROM users WHERE username = $1", owner).await),
        ..Default::default()
    };
    let mut tx = t.db().begin().await.expect("tx");
    let id = kam::app::customers::accounts::insert(&mut tx, &ctx, &data).await.expect("account");
    tx.commit().await.expect("commit");
    // The tier is the classification's: planted here.
    sqlx::query("UPDATE accounts SET tier = $1 WHERE id = $2")
        .bind(tier)
        .bind(id)
        .execute(&t.db().pool)
        .await
        .expect("tier");
    id
}

/// The plan of `year` the director begins for an account by setting its priorities.
async fn plan_of(t: &TestApp, account: i64, year: i32) -> i64 {
    let ctx = ctx_of(t, "director").await;
    kam::app::plans::calendar::set_account_priorities(t.db(), &ctx, account, year, Some("份额提升"), None)
        .await
        .expect("plan begun")
        .plan_id
}

const CAL_2030: &str = r#"{"prepare_from": "2029-09-01", "draft_from": "2029-10-01", "draft_due": "2029-12-10",
    "review_due": "2029-12-20", "execute_from": "2030-01-01", "priorities": "战略客户优先", "version": 0}"#;

async fn set_2030(t: &TestApp, w: &World) {
    let body: Value = serde_json::from_str(CAL_2030).expect("json");
    ok(t.call(Method::PUT, "/api/v1/plans/calendar/2030", &bearer(w, "director"), Some(body)).await);
}

fn checklist(answer: &str) -> Value {
    Value::Array(
        kam::domain::account_plan::CHECKLIST
            .iter()
            .map(|q| json!({"question": q, "answer": answer, "comment": format!("{q} 已审")}))
            .collect(),
    )
}

fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 2, 0, 0).single().expect("date")
}

async fn submit(t: &TestApp, who: &Auth, plan: i64) -> Value {
    ok(t.call(Method::POST, &format!("/api/v1/plans/{plan}/submit"), who, None).await)
}

/// The role of the open step of a request.
async fn open_role(t: &TestApp, w: &World, approval: i64) -> String {
    let v = ok(t.get(&format!("/api/v1/approvals/{approval}"), &bearer(w, "director")).await);
    v["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["state"] == "open")
        .map(|s| s["role"].as_str().unwrap_or_default().to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn reviews_fall_due_on_the_cadence_of_the_tier_with_the_reviewer_it_gives() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let gm = add_user(&t, &w, "gm", "gm", "HQ").await;
    let mkt = add_user(&t, &w, "mkt", "marketing_director", "HQ").await;
    set_2030(&t, &w).await;
    let rep = bearer(&w, "repA");
    let mut plans = vec![];
    for (tier, name) in [("strategic", "战略甲"), ("A", "A 类乙"), ("B", "B 类丙"), ("C", "C 类丁")] {
        let account = key_account(&t, name, tier, "repA").await;
        plans.push((tier, plan_of(&t, account, 2030).await));
    }
    let mut first_reviews = vec![];
    for (tier, plan) in &plans {
        let v = submit(&t, &rep, *plan).await;
        assert_eq!(v["phase"], "review", "{v}");
        let got: Vec<String> = v["reviews"]
            .as_array()
            .expect("reviews")
            .iter()
            .map(|r| {
                format!(
                    "{}@{}:{}",
                    r["period"].as_str().unwrap(),
                    r["due_on"].as_str().unwrap(),
                    r["state"].as_str().unwrap()
                )
            })
            .collect();
        let want: Vec<&str> = match *tier {
            "strategic" => vec![
                "2030@2029-12-20:open",
                "2030-Q1@2030-03-31:scheduled",
                "2030-Q2@2030-06-30:scheduled",
                "2030-Q3@2030-09-30:scheduled",
                "2030-Q4@2030-12-31:scheduled",
            ],
            _ => vec!["2030@2029-12-20:open"],
        };
        assert_eq!(got, want, "{tier}");
        let cadence = match *tier {
            "strategic" => "quarterly",
            "A" => "yearly",
            _ => "collective",
        };
        assert_eq!(v["cadence"], cadence);
        let review = v["reviews"][0].clone();
        let approval = review["approval_id"].as_i64().expect("asked");
        let role = match *tier {
            "strategic" => "gm",
            "A" => "marketing_director",
            _ => "branch_manager",
        };
        assert_eq!(open_role(&t, &w, approval).await, role, "{tier}");
        first_reviews.push((*tier, *plan, review["id"].as_i64().expect("id")));
    }
    // Each reviewer finds theirs among the reviews due, and only theirs.
    let due = |who: Auth| {
        let t = &t;
        async move {
            let v = ok(t.get("/api/v1/plan-reviews/due", &who).await);
            v["items"].as_array().expect("items").iter().map(|i| i["review_id"].as_i64().unwrap()).collect::<Vec<_>>()
        }
    };
    assert_eq!(due(gm.clone()).await, vec![first_reviews[0].2]);
    assert_eq!(due(mkt.clone()).await, vec![first_reviews[1].2]);
    assert_eq!(due(bearer(&w, "region")).await, vec![first_reviews[2].2, first_reviews[3].2]);
    assert!(due(rep.clone()).await.is_empty());
    // Someone else may not decide the strategic plan's review.
    let (_, strategic_plan, strategic_review) = first_reviews[0];
    let decide = json!({"checklist": checklist("yes"), "outcome": "accepted", "actions": [], "comment": "通过"});
    let r = t
        .call(Method::POST, &format!("/api/v1/plan-reviews/{strategic_review}/decide"), &mkt, Some(decide.clone()))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let v =
        ok(t.call(Method::POST, &format!("/api/v1/plan-reviews/{strategic_review}/decide"), &gm, Some(decide)).await);
    assert_eq!(v["state"], "accepted");
    assert_eq!(v["reviewed_by"], "gm");
    assert_eq!(v["checklist"].as_array().map(Vec::len), Some(7));
    let p = ok(t.get(&format!("/api/v1/plans/{strategic_plan}/reviews"), &rep).await);
    assert_eq!(p["phase"], "execution");
    assert!(p["accepted_at"].is_string());
    // The first quarterly review opens only within the lead days (14) of 31 March.
    let opened = kam::app::plans::reviews::daily(t.db(), at(2030, 3, 1)).await.expect("pass");
    assert_eq!(opened.0, 0);
    let p = ok(t.get(&format!("/api/v1/plans/{strategic_plan}/reviews"), &rep).await);
    assert_eq!(p["reviews"][1]["state"], "scheduled");
    let opened = kam::app::plans::reviews::daily(t.db(), at(2030, 3, 20)).await.expect("pass");
    assert_eq!(opened.0, 1);
    // The same day again: nothing more.
    assert_eq!(kam::app::plans::reviews::daily(t.db(), at(2030, 3, 20)).await.expect("pass").0, 0);
    let p = ok(t.get(&format!("/api/v1/plans/{strategic_plan}/reviews"), &rep).await);
    assert_eq!(p["reviews"][1]["state"], "open");
    assert_eq!(p["reviews"][2]["state"], "scheduled");
    let q1 = p["reviews"][1]["approval_id"].as_i64().expect("asked");
    assert_eq!(open_role(&t, &w, q1).await, "gm");
}

#[tokio::test]
async fn a_review_needs_its_checklist_and_a_returned_plan_is_revised_and_asked_again() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    set_2030(&t, &w).await;
    let rep = bearer(&w, "repA");
    let head = bearer(&w, "region");
    let account = key_account(&t, "B 类客户", "B", "repA").await;
    let plan = plan_of(&t, account, 2030).await;
    let v = submit(&t, &rep, plan).await;
    let review = v["reviews"][0]["id"].as_i64().expect("review");
    let approval = v["reviews"][0]["approval_id"].as_i64().expect("asked");
    // Submitting twice: the plan is no longer drafting.
    let r = t.call(Method::POST, &format!("/api/v1/plans/{plan}/submit"), &rep, None).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    // The engine's own route refuses: the checklist is the review's form.
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/approvals/{approval}/decision"),
            &head,
            Some(json!({"decision": "approve"})),
        )
        .await;
    assert!(fields(&r).contains_key("checklist"), "{}", r.body);
    // A question left out, revising without a date: each named, nothing saved.
    let mut answers = checklist("partly");
    answers.as_array_mut().unwrap().retain(|a| a["question"] != "return");
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/plan-reviews/{review}/decide"),
            &head,
            Some(json!({"checklist": answers, "outcome": "revise", "comment": "需修改"})),
        )
        .await;
    let f = fields(&r);
    assert!(f.contains_key("checklist.return"), "{f:?}");
    assert!(f.contains_key("revise_by"), "{f:?}");
    let v = ok(t.get(&format!("/api/v1/plan-reviews/{review}"), &head).await);
    assert_eq!(v["state"], "open");
    assert!(v["checklist"].as_array().unwrap().is_empty());
    assert!(v["can_decide"].is_i64(), "{v}");
    // The reviewer's due list shows it; overdue once its date has passed.
    let caller = ctx_of(&t, "region").await.caller;
    let due = kam::app::plans::reviews::due_for(t.db(), &caller, at(2029, 12, 1)).await.expect("due");
    assert_eq!(due.len(), 1);
    assert!(!due[0].overdue);
    let due = kam::app::plans::reviews::due_for(t.db(), &caller, at(2029, 12, 21)).await.expect("due");
    assert!(due[0].overdue);
    // Sent back to revise by a date.
    let revise_by = (Utc::now().date_naive() + chrono::Duration::days(20)).to_string();
    let v = ok(t
        .call(
            Method::POST,
            &format!("/api/v1/plan-reviews/{review}/decide"),
            &head,
            Some(json!({"checklist": checklist("no"), "outcome": "revise", "revise_by": revise_by,
                "actions": [{"text": "补充竞争评估", "owner": "repA", "due_on": revise_by}], "comment": "目标与资源不匹配"})),
        )
        .await);
    assert_eq!(v["state"], "returned");
    assert_eq!(v["comment"], "目标与资源不匹配");
    assert_eq!(v["actions"][0]["text"], "补充竞争评估");
    let p = ok(t.get(&format!("/api/v1/plans/{plan}/reviews"), &rep).await);
    assert_eq!(p["phase"], "drafting");
    assert_eq!(p["revise_by"], revise_by);
    assert_eq!(p["may_submit"], true);
    let a = ok(t.get(&format!("/api/v1/approvals/{approval}"), &rep).await);
    assert_eq!(a["state"], "returned");
    // The owner's plans due: the revision.
    let owned = ok(t.get("/api/v1/plan-reviews/owned", &rep).await);
    assert_eq!(owned["items"][0]["plan_id"], plan);
    assert_eq!(owned["items"][0]["revising"], true);
    // Resubmitted: the same review asked again in a new request.
    let v = submit(&t, &rep, plan).await;
    assert_eq!(v["phase"], "review");
    assert_eq!(v["reviews"].as_array().map(Vec::len), Some(1));
    assert_eq!(v["reviews"][0]["state"], "open");
    let again = v["reviews"][0]["approval_id"].as_i64().expect("asked again");
    assert_ne!(again, approval);
    let v = ok(t
        .call(
            Method::POST,
            &format!("/api/v1/plan-reviews/{review}/decide"),
            &head,
            Some(json!({"checklist": checklist("yes"), "outcome": "accepted"})),
        )
        .await);
    assert_eq!(v["state"], "accepted");
    let p = ok(t.get(&format!("/api/v1/plans/{plan}/reviews"), &rep).await);
    assert_eq!(p["phase"], "execution");
    assert!(p["revise_by"].is_null());
    // Nothing left to decide.
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/plan-reviews/{review}/decide"),
            &head,
            Some(json!({"checklist": checklist("yes"), "outcome": "accepted"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
}

#[tokio::test]
async fn the_planning_calendar_shows_each_key_account_in_scope_with_late_plans_marked() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let director = bearer(&w, "director");
    let rep = bearer(&w, "repA");
    // Bad dates: drafting of 3 weeks names draft_due; nothing saved.
    let mut body: Value = serde_json::from_str(CAL_2030).expect("json");
    body["draft_due"] = json!("2029-10-20");
    body["review_due"] = json!("2029-10-01");
    let f = fields(&t.call(Method::PUT, "/api/v1/plans/calendar/2030", &director, Some(body.clone())).await);
    assert_eq!(f.get("draft_due").map(String::as_str), Some("drafting_weeks"), "{f:?}");
    assert!(f.contains_key("review_due"), "{f:?}");
    let v = ok(t.get("/api/v1/plans/calendar/2030", &rep).await);
    assert_eq!(v["is_default"], true);
    assert_eq!(v["draft_due"], "2029-12-10");
    // Only the KA director and those above set it.
    let r =
        t.call(Method::PUT, "/api/v1/plans/calendar/2030", &rep, Some(serde_json::from_str(CAL_2030).unwrap())).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    set_2030(&t, &w).await;
    let v = ok(t.get("/api/v1/plans/calendar/2030", &rep).await);
    assert_eq!(v["is_default"], false);
    assert_eq!(v["version"], 1);
    assert_eq!(v["review_due"], "2029-12-20");
    let r = t
        .call(Method::PUT, "/api/v1/plans/calendar/2030", &director, Some(serde_json::from_str(CAL_2030).unwrap()))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    // 2025 (the default calendar, long past): a plan still drafting is late, an account
    // without one is late too.
    let other = key_account(&t, "华东战略客户", "strategic", "repC").await;
    let plan = plan_of(&t, w.account_x, 2025).await;
    let v = ok(t.get("/api/v1/plans/calendar?year=2025", &director).await);
    let rows = v["items"].as_array().expect("items");
    assert_eq!(rows.len(), 2, "{v}");
    let x = rows.iter().find(|r| r["account_id"] == w.account_x).expect("x");
    assert_eq!(x["plan_id"], plan);
    assert_eq!(x["phase"], "drafting");
    assert_eq!(x["late"], true);
    assert_eq!(x["late_reason"], "draft_late");
    assert_eq!(x["owner"], "repA");
    assert_eq!(x["priorities"], "份额提升");
    let o = rows.iter().find(|r| r["account_id"] == other).expect("other");
    assert!(o["phase"].is_null());
    assert_eq!(o["late_reason"], "not_started");
    assert_eq!(o["reviewer_role"], "gm");
    // 2030: nothing late yet.
    let v = ok(t.get("/api/v1/plans/calendar?year=2030&late=true", &director).await);
    assert!(v["items"].as_array().unwrap().is_empty(), "{v}");
    let v = ok(t.get("/api/v1/plans/calendar?year=2025&phase=not_started", &director).await);
    assert_eq!(v["items"].as_array().map(Vec::len), Some(1));
    // A rep sees only their accounts' rows, and may not set an account's priorities.
    let v = ok(t.get("/api/v1/plans/calendar?year=2025", &rep).await);
    let ids: Vec<i64> = v["items"].as_array().unwrap().iter().map(|r| r["account_id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![w.account_x]);
    let r = t
        .call(
            Method::PUT,
            &format!("/api/v1/plans/{plan}/priorities"),
            &rep,
            Some(json!({"priorities": "x", "version": 1})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = t
        .call(
            Method::PUT,
            &format!("/api/v1/plans/{plan}/priorities"),
            &bearer(&w, "repC"),
            Some(json!({"priorities": "x", "version": 1})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let v = ok(t
        .call(
            Method::PUT,
            &format!("/api/v1/plans/{plan}/priorities"),
            &director,
            Some(json!({"priorities": "提升份额至 40%", "reviewer": "region", "version": 1})),
        )
        .await);
    assert_eq!(v["reviewer_name"], "region");
    let r = t
        .call(
            Method::PUT,
            &format!("/api/v1/plans/{plan}/priorities"),
            &director,
            Some(json!({"priorities": "x", "reviewer": "nobody", "version": 1})),
        )
        .await;
    assert!(fields(&r).contains_key("reviewer"));
    // The plan settings: the planners and the administrator change them.
    let s = ok(t.get("/api/v1/settings/plans", &rep).await);
    assert_eq!(s["lead_days"], 14);
    assert_eq!(s["is_default"], true);
    let mut body = json!({"strategic": "quarterly", "a": "yearly", "b": "collective", "c": "collective",
        "lead_days": 99, "report_tiers": ["strategic", "A"], "version": 0});
    let r = t.call(Method::PUT, "/api/v1/settings/plans", &rep, Some(body.clone())).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(fields(&t.call(Method::PUT, "/api/v1/settings/plans", &director, Some(body.clone())).await)
        .contains_key("lead_days"));
    body["lead_days"] = json!(30);
    let s = ok(t.call(Method::PUT, "/api/v1/settings/plans", &bearer(&w, "admin"), Some(body)).await);
    assert_eq!(s["lead_days"], 30);
    assert_eq!(s["version"], 1);
}

#[tokio::test]
async fn a_slipping_milestone_is_told_to_the_owner_and_the_ka_manager_once() {
    use kam::domain::account_plan::{Action, ActionKind, ActionPlan, PlanBody};
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let manager = id_of(&t, "SELECT id FROM users WHERE username = $1", "manager").await;
    sqlx::query("UPDATE accounts SET ka_manager_id = $1 WHERE id = $2")
        .bind(manager)
        .bind(w.account_x)
        .execute(&t.db().pool)
        .await
        .expect("ka manager");
    let plan = plan_of(&t, w.account_x, 2030).await;
    let body = PlanBody {
        actions: ActionPlan {
            actions: vec![
                Action {
                    key: "a1".into(),
                    title: "样机验证完成".into(),
                    kind: ActionKind::Project,
                    project: None,
                    owner: Some("repA".into()),
                    due_on: Some("2030-05-31".into()),
                    milestone: true,
                    budget: None,
                    status: None,
                    percent: Some(20),
                },
                Action {
                    key: "a2".into(),
                    title: "已完成的里程碑".into(),
                    kind: ActionKind::Project,
                    project: None,
                    owner: None,
                    due_on: Some("2030-05-01".into()),
                    milestone: true,
                    budget: None,
                    status: Some(kam::domain::account_plan::ItemStatus::Done),
                    percent: Some(100),
                },
            ],
            ..ActionPlan::default()
        },
        ..PlanBody::default()
    };
    sqlx::query("UPDATE account_plans SET body = $1, phase = 'execution' WHERE id = $2")
        .bind(serde_json::to_string(&body).unwrap())
        .bind(plan)
        .execute(&t.db().pool)
        .await
        .expect("body");
    let count = || async {
        sqlx::Row::try_get::<i64, _>(
            &sqlx::query("SELECT COUNT(*) AS n FROM notifications WHERE kind = 'plan_slipping'")
                .fetch_one(&t.db().pool)
                .await
                .expect("count"),
            "n",
        )
        .expect("n")
    };
    // A month ahead: not slipping.
    assert_eq!(kam::app::plans::reviews::daily(t.db(), at(2030, 4, 30)).await.expect("pass").1, 0);
    // A week before, 20 % done: slipping — told to the owner and the KA manager.
    assert_eq!(kam::app::plans::reviews::daily(t.db(), at(2030, 5, 26)).await.expect("pass").1, 1);
    assert_eq!(count().await, 2);
    let to: Vec<String> = sqlx::query(
        "SELECT u.username FROM notifications n JOIN users u ON u.id = n.user_id WHERE n.kind = 'plan_slipping' ORDER BY u.username",
    )
    .fetch_all(&t.db().pool)
    .await
    .expect("to")
    .iter()
    .map(|r| sqlx::Row::try_get(r, "username").expect("u"))
    .collect();
    assert_eq!(to, vec!["manager", "repA"]);
    // The next days: told once.
    assert_eq!(kam::app::plans::reviews::daily(t.db(), at(2030, 5, 27)).await.expect("pass").1, 0);
    assert_eq!(kam::app::plans::reviews::daily(t.db(), at(2030, 6, 2)).await.expect("pass").1, 0);
    assert_eq!(count().await, 2);
    let n = ok(t.get("/api/v1/notifications", &bearer(&w, "repA")).await);
    assert!(n.to_string().contains("样机验证完成"), "{n}");
}
