//! The hand-over of open work (issue 25 item 8): when a person leaves, their planned visits,
//! open follow-ups, pending requests, this week's forecast, account-plan objectives and
//! actions, open OPL items and service-team places move with their accounts to the successor
//! in the same audited step, counted in the answer and on the page; nothing of it stays on the
//! leaver; a failure midway changes nothing.
use axum::http::{Method, StatusCode};
use chrono::{Datelike, Duration, Utc};
use serde_json::{json, Value};

use crate::common::{seed, Auth, TestApp, World, PASSWORD};

async fn uid(t: &TestApp, name: &str) -> i64 {
    sqlx::Row::try_get(
        &sqlx::query("SELECT id FROM users WHERE username = $1").bind(name).fetch_one(&t.db().pool).await.expect("u"),
        "id",
    )
    .expect("id")
}

async fn n(t: &TestApp, sql: &str, user: i64) -> i64 {
    sqlx::Row::try_get(&sqlx::query(sql).bind(user).fetch_one(&t.db().pool).await.expect(sql), "n").expect("n")
}

async fn exec(t: &TestApp, sql: &str, binds: &[Value]) {
    let mut q = sqlx::query(sql);
    for b in binds {
        q = match b {
            Value::Number(x) => q.bind(x.as_i64().expect("int")),
            Value::String(s) => q.bind(s.clone()),
            _ => q.bind(None::<String>),
        };
    }
    q.execute(&t.db().pool).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// The leaver repA's open work on account X: a planned visit next week, a done visit whose
/// follow-up is open, a pending request they applied for, this week's forecast and an
/// adjustment of next week, an account plan of this year with an objective and an action of
/// theirs, an open OPL item, a submitted service request and a service-team place. Done things
/// (a closed OPL item, a request decided) stay theirs.
async fn open_work(t: &TestApp, w: &World) -> i64 {
    let a = uid(t, "repA").await;
    let x = w.account_x;
    let now = Utc::now();
    let at = now.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
    let day = now.format("%Y-%m-%d").to_string();
    let next = (now + Duration::days(7)).format("%Y-%m-%dT02:00:00Z").to_string();
    let monday = {
        let d = now.with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
        d - Duration::days(d.weekday().num_days_from_monday() as i64)
    };
    let (week, next_week) = (monday.to_string(), (monday + Duration::days(7)).to_string());
    exec(
        t,
        "INSERT INTO activities (account_id, owner_id, kind, status, planned_at, local_day, week, objective, created_at, updated_at) \
         VALUES ($1, $2, 'visit', 'planned', $3, $4, $5, '技术交流', $6, $6)",
        &[json!(x), json!(a), json!(next), json!(day), json!(week), json!(at)],
    )
    .await;
    exec(
        t,
        "INSERT INTO activities (account_id, owner_id, kind, status, occurred_at, local_day, week, summary, effective, \
         follow_up_due, created_at, updated_at) VALUES ($1, $2, 'visit', 'done', $3, $4, $5, '拜访总经理', 1, $6, $3, $3)",
        &[json!(x), json!(a), json!(at), json!(day), json!(week), json!((monday + Duration::days(10)).to_string())],
    )
    .await;
    for state in ["pending", "approved"] {
        exec(
            t,
            "INSERT INTO approvals (flow, flow_version, subject_type, subject_id, subject_label, subject_owner_id, requested_by, \
             state, current_step, decisive, version, created_at, updated_at) \
             VALUES ('service_request', 1, 'service_request', 1, '服务申请', $1, $1, $2, 0, '{}', 1, $3, $3)",
            &[json!(a), json!(state), json!(at)],
        )
        .await;
    }
    exec(
        t,
        "INSERT INTO forecasts (user_id, week, submitted_at, submitted_by) VALUES ($1, $2, $3, 'repA')",
        &[json!(a), json!(week), json!(at)],
    )
    .await;
    exec(
        t,
        "INSERT INTO forecast_adjustments (user_id, target_week, commit_amount, best_amount, adjusted_by, adjusted_at) \
         VALUES ($1, $2, 100000, 200000, 'manager', $3)",
        &[json!(a), json!(next_week), json!(at)],
    )
    .await;
    let body = json!({"objectives": [{"key": "o1", "title": "份额提升到 40%", "owner": "repA"}],
        "actions": {"actions": [{"key": "a1", "title": "季度技术交流会", "kind": "project", "owner": "repA"},
                                {"key": "a2", "title": "高层拜访", "kind": "project", "owner": "manager"}]}});
    exec(
        t,
        "INSERT INTO account_plans (account_id, year, owner_id, phase, body, version, created_by, created_at, updated_by, updated_at) \
         VALUES ($1, $2, $3, 'drafting', $4, 1, 'repA', $5, 'repA', $5)",
        &[json!(x), json!(now.year() as i64), json!(a), json!(body.to_string()), json!(at)],
    )
    .await;
    for status in ["open", "closed"] {
        exec(
            t,
            "INSERT INTO opl_items (account_id, source, title, owner_id, status, created_by, created_at, updated_by, updated_at) \
             VALUES ($1, 'manual', '交货延迟', $2, $3, 'repA', $4, 'repA', $4)",
            &[json!(x), json!(a), json!(status), json!(at)],
        )
        .await;
    }
    exec(
        t,
        "INSERT INTO service_requests (account_id, applicant_id, applied_on, content, services, state, version, created_at, \
         updated_by, updated_at) VALUES ($1, $2, $3, '现场培训', '[]', 'submitted', 1, $4, 'repA', $4)",
        &[json!(x), json!(a), json!(day), json!(at)],
    )
    .await;
    exec(
        t,
        "INSERT INTO account_service_team (account_id, user_id, function, created_by, created_at) VALUES ($1, $2, 'sales_support', 'admin', $3)",
        &[json!(x), json!(a), json!(at)],
    )
    .await;
    a
}

/// What of the open work is still on `user`.
async fn left_on(t: &TestApp, user: i64) -> Vec<i64> {
    vec![
        n(t, "SELECT COUNT(*) AS n FROM activities WHERE owner_id = $1 AND status = 'planned'", user).await,
        n(
            t,
            "SELECT COUNT(*) AS n FROM activities WHERE COALESCE(follow_up_owner_id, owner_id) = $1 \
             AND follow_up_due IS NOT NULL AND followed_up_by IS NULL",
            user,
        )
        .await,
        n(t, "SELECT COUNT(*) AS n FROM approvals WHERE requested_by = $1 AND state = 'pending'", user).await,
        n(t, "SELECT COUNT(*) AS n FROM forecasts WHERE user_id = $1", user).await,
        n(t, "SELECT COUNT(*) AS n FROM forecast_adjustments WHERE user_id = $1", user).await,
        n(t, "SELECT COUNT(*) AS n FROM account_plans WHERE owner_id = $1", user).await,
        n(t, "SELECT COUNT(*) AS n FROM opl_items WHERE owner_id = $1 AND status <> 'closed'", user).await,
        n(t, "SELECT COUNT(*) AS n FROM service_requests WHERE applicant_id = $1", user).await,
        n(t, "SELECT COUNT(*) AS n FROM account_service_team WHERE user_id = $1", user).await,
    ]
}

#[tokio::test]
async fn a_leavers_open_work_moves_with_the_accounts_and_nothing_of_it_stays() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let a = open_work(&t, &w).await;
    let b = uid(&t, "repB").await;
    assert_eq!(left_on(&t, a).await, vec![1, 1, 1, 1, 1, 1, 1, 1, 1]);
    let admin = Auth::Bearer(w.tokens["admin"].clone());
    let r = t.call(Method::POST, "/api/v1/users/repA/handover", &admin, Some(json!({"to": "repB"}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let h = r.json();
    let counts: Vec<i64> = [
        "accounts",
        "planned_activities",
        "follow_ups",
        "requests",
        "forecasts",
        "plan_actions",
        "opl_items",
        "service_places",
    ]
    .iter()
    .map(|k| h[*k].as_i64().unwrap_or(-1))
    .collect();
    // A pending request and the open service request; the forecast and the adjustment; the
    // objective and the action.
    assert_eq!(counts, vec![1, 1, 1, 2, 2, 2, 1, 1], "{h}");
    assert_eq!(left_on(&t, a).await, vec![0; 9], "nothing open stays on the leaver");
    assert_eq!(left_on(&t, b).await, vec![1, 1, 1, 1, 1, 1, 1, 1, 1]);
    // The visit stays the leaver's record; its follow-up is the successor's.
    assert_eq!(n(&t, "SELECT COUNT(*) AS n FROM activities WHERE owner_id = $1 AND status = 'done'", a).await, 1);
    // Done things stay: the decided request and the closed OPL item.
    assert_eq!(n(&t, "SELECT COUNT(*) AS n FROM approvals WHERE requested_by = $1", a).await, 1);
    assert_eq!(n(&t, "SELECT COUNT(*) AS n FROM opl_items WHERE owner_id = $1", a).await, 1);
    // The plan names the successor where it named the leaver, as a new kept version.
    let plan = sqlx::query("SELECT body, version FROM account_plans").fetch_one(&t.db().pool).await.expect("plan");
    let body: Value =
        serde_json::from_str(&sqlx::Row::try_get::<String, _>(&plan, "body").expect("body")).expect("json");
    assert_eq!(body["objectives"][0]["owner"], "repB");
    assert_eq!(body["actions"]["actions"][0]["owner"], "repB");
    assert_eq!(body["actions"]["actions"][1]["owner"], "manager");
    assert_eq!(sqlx::Row::try_get::<i64, _>(&plan, "version").expect("v"), 2);
    assert_eq!(n(&t, "SELECT COUNT(*) AS n FROM account_plan_versions WHERE version = $1", 2).await, 1);
    // The successor's follow-up list has it.
    let fu = t.get("/api/v1/follow-ups", &Auth::Bearer(w.tokens["repB"].clone())).await;
    if fu.status == StatusCode::OK {
        assert!(fu.body.contains("北京星河精密制造有限公司"), "{}", fu.body);
    }
    // One audit row for the person with the counts.
    let audit = t.get("/api/v1/audit?entity=user&id=repA", &admin).await.json();
    let row =
        audit["items"].as_array().expect("items").iter().find(|i| i["what"] == "hand_over").cloned().expect("row");
    assert_eq!(row["after"]["opl_items"], 1, "{row}");
    assert_eq!(row["after"]["planned_activities"], 1, "{row}");
}

#[tokio::test]
async fn the_hand_over_page_counts_what_moved() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    open_work(&t, &w).await;
    let (sid, csrf) = t.ui_login("admin", PASSWORD, None).await.expect("login");
    let r = t.ui_post("/admin/users/repA/handover", &sid, &[("_csrf", &csrf), ("successor", "repB")]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body.contains("离职交接完成") && r.body.contains("开放问题项") && r.body.contains("计划中的拜访与活动"),
        "{}",
        r.body
    );
    assert!(r.body.contains("repA") && r.body.contains("repB"), "both named: {}", r.body);
}

#[tokio::test]
async fn a_failure_midway_changes_nothing() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let a = open_work(&t, &w).await;
    // The OPL items cannot be written: the step fails after the accounts, visits and requests.
    match t.db().backend {
        kam::db::Backend::Sqlite => {
            sqlx::query("CREATE TRIGGER no_opl BEFORE UPDATE ON opl_items BEGIN SELECT RAISE(ABORT, 'no'); END")
                .execute(&t.db().pool)
                .await
                .expect("trigger");
        }
        kam::db::Backend::Postgres => {
            sqlx::query(
                "CREATE FUNCTION no_opl() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no'; END $$",
            )
            .execute(&t.db().pool)
            .await
            .expect("function");
            sqlx::query("CREATE TRIGGER no_opl BEFORE UPDATE ON opl_items FOR EACH ROW EXECUTE FUNCTION no_opl()")
                .execute(&t.db().pool)
                .await
                .expect("trigger");
        }
    }
    let ctx = kam::app::Ctx::system();
    let admin = kam::app::Ctx {
        caller: kam::app::Caller { role: kam::domain::role::Role::Admin, ..ctx.caller.clone() },
        ..ctx.clone()
    };
    let r = kam::app::customers::handover::hand_over(t.db(), &admin, "repA", "repB").await;
    assert!(r.is_err(), "{r:?}");
    assert_eq!(left_on(&t, a).await, vec![1, 1, 1, 1, 1, 1, 1, 1, 1], "all still the leaver's");
    let owner = n(&t, "SELECT COUNT(*) AS n FROM accounts WHERE owner_id = $1", a).await;
    assert_eq!(owner, 1, "the account too");
    let audit = n(
        &t,
        "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'hand_over' AND actor_id = $1",
        uid(&t, "admin").await,
    )
    .await;
    assert_eq!(audit, 0, "no audit row either");
}
