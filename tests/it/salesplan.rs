//! The annual KA sales plan (issue 25 items 1–2): the KA director drafts it, the sales
//! department manager returns it with an opinion, the director revises it (version 2) and it is
//! approved — the director never decides his own; a decomposition that does not add up is 422
//! naming the gap and saves nothing; a good one creates each rep's monthly quotas (revenue and
//! profit); a manual quota of that year is then refused; the tracking shows plan against actual.
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{download, opportunity, seed, xlsx_rows, Auth, TestApp, World, PASSWORD};

fn bearer(w: &World, user: &str) -> Auth {
    Auth::Bearer(w.tokens[user].clone())
}

async fn add_user(t: &TestApp, w: &World, username: &str, role: &str) -> Auth {
    let body = json!({"username": username, "role": role, "org_unit": "HQ", "password": PASSWORD,
        "display_name": format!("{username} 名")});
    let r = t.call(Method::POST, "/api/v1/users", &bearer(w, "admin"), Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    Auth::Bearer(t.token(username).await)
}

fn year() -> i32 {
    chrono::Utc::now().date_naive().format("%Y").to_string().parse().expect("year")
}

fn twelve(a: &str) -> Vec<String> {
    vec![a.to_string(); 12]
}

fn plan_body(y: i32, e_revenue: &str) -> Value {
    json!({"year": y, "targets": [
            {"region": "N", "revenue": twelve("1000.00"), "profit": twelve("200.00")},
            {"region": "E", "revenue": twelve(e_revenue), "profit": twelve("100.00")}],
        "budget": "差旅与招待 120 万元", "people": "华北新增两名大客户经理", "organisation": "设立华东大客户组",
        "systems": "上线 KAM 指标分解",
        "actions": [{"action": "华北大区重点客户年度拜访", "owner": "manager", "due": format!("{y}-03-31")}]})
}

async fn quota_rows(t: &TestApp, y: i32) -> i64 {
    sqlx::Row::try_get(
        &sqlx::query("SELECT COUNT(*) AS n FROM quotas WHERE month >= $1 AND month <= $2")
            .bind(format!("{y}-01"))
            .bind(format!("{y}-12"))
            .fetch_one(&t.db().pool)
            .await
            .expect("count"),
        "n",
    )
    .expect("n")
}

/// A split of the approved plan: N all to Beijing (repA 600, repB 400 a month; Tianjin has no
/// one), E to Shanghai (repC).
fn good_split(version: i64) -> Value {
    json!({"version": version, "regions": [
        {"region": "N", "teams": [
            {"team": "BJ", "revenue": twelve("1000.00"), "profit": twelve("200.00"), "people": [
                {"user": "repA", "revenue": twelve("600.00"), "profit": twelve("120.00")},
                {"user": "repB", "revenue": twelve("400.00"), "profit": twelve("80.00")}]},
            {"team": "TJ", "revenue": twelve("0"), "profit": twelve("0"), "people": []}]},
        {"region": "E", "teams": [
            {"team": "SH", "revenue": twelve("800.00"), "profit": twelve("100.00"), "people": [
                {"user": "repC", "revenue": twelve("800.00"), "profit": twelve("100.00")}]}]}]})
}

#[tokio::test]
async fn the_plan_is_returned_revised_approved_decomposed_into_quotas_and_tracked() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let sdm = add_user(&t, &w, "sdm", "sales_dept_manager").await;
    let director = bearer(&w, "director");
    let y = year();
    // Only the KA director drafts; a rep does not even read plans.
    let r = t.call(Method::POST, "/api/v1/sales-plans", &sdm, Some(plan_body(y, "500.00"))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = t.call(Method::GET, "/api/v1/sales-plans", &bearer(&w, "repA"), None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    // A bad month is named; nothing is saved.
    let mut bad = plan_body(y, "500.00");
    bad["targets"][0]["revenue"][2] = json!("12,5");
    let r = t.call(Method::POST, "/api/v1/sales-plans", &director, Some(bad)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let field = format!("targets.N.months.{y}-03.revenue");
    assert_eq!(r.json()["error"]["details"]["fields"][&field]["code"], "money_format", "{}", r.body);
    let r = t.call(Method::POST, "/api/v1/sales-plans", &director, Some(plan_body(y, "500.00"))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let v = r.json();
    assert_eq!(v["state"], "draft");
    assert_eq!(v["revision"], 1);
    assert_eq!(v["revenue_total"], "18000.00");
    assert_eq!(v["profit_total"], "3600.00");
    assert_eq!(v["actions"][0]["owner_name"], "manager");
    // Submitted: the sales department manager's step only; the director cannot decide it.
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/sales-plans/{y}/submit"),
            &director,
            Some(json!({"version": v["version"]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v = r.json();
    assert_eq!(v["state"], "in_review");
    let aid = v["approval_id"].as_i64().expect("approval");
    let r = t
        .call(Method::POST, &format!("/api/v1/sales-plans/{y}/review"), &director, Some(json!({"decision": "approve"})))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "the drafter never decides his own plan: {}", r.body);
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/approvals/{aid}/decision"),
            &director,
            Some(json!({"decision": "approve"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let a = t.call(Method::GET, &format!("/api/v1/approvals/{aid}"), &sdm, None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let steps = a.json()["steps"].as_array().cloned().expect("steps");
    assert_eq!(steps.len(), 1, "{}", a.body);
    assert_eq!(steps[0]["role"], "sales_dept_manager");
    // Returned with an opinion.
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/sales-plans/{y}/review"),
            &sdm,
            Some(json!({"decision": "return", "comment": "华东大区目标偏低，请按增长重新测算"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v = r.json();
    assert_eq!(v["state"], "returned");
    assert_eq!(v["opinions"][0]["comment"], "华东大区目标偏低，请按增长重新测算");
    assert_eq!(v["opinions"][0]["decided_by_name"], "sdm 名");
    assert_eq!(v["opinions"][0]["revision"], 1);
    // Revised: version 2, then submitted and approved.
    let mut body = plan_body(y, "800.00");
    body.as_object_mut().expect("object").remove("year");
    body["version"] = v["version"].clone();
    let r = t.call(Method::PUT, &format!("/api/v1/sales-plans/{y}"), &director, Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v = r.json();
    assert_eq!(v["revision"], 2);
    assert_eq!(v["state"], "draft");
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/sales-plans/{y}/submit"),
            &director,
            Some(json!({"version": v["version"]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = t
        .call(Method::POST, &format!("/api/v1/sales-plans/{y}/review"), &sdm, Some(json!({"decision": "approve"})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v = r.json();
    assert_eq!(v["state"], "approved");
    assert_eq!(v["revision"], 2);
    assert_eq!(v["versions"].as_array().map(Vec::len), Some(2), "{v}");
    assert_eq!(v["versions"][0]["outcome"], "returned");
    assert_eq!(v["versions"][1]["outcome"], "approved");
    assert_eq!(v["revenue_total"], "21600.00");
    // The approved plan cannot be edited any more.
    let mut body = plan_body(y, "900.00");
    body.as_object_mut().expect("object").remove("year");
    body["version"] = v["version"].clone();
    let r = t.call(Method::PUT, &format!("/api/v1/sales-plans/{y}"), &director, Some(body)).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);

    // Manual quotas of the year are refused from now on; next year's are not.
    let month = format!("{y}-06");
    let r = t
        .call(
            Method::PUT,
            "/api/v1/quotas",
            &director,
            Some(json!({"month": month, "owner": "repA", "amount": "5.00"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["error"]["details"]["fields"]["month"]["code"], "plan_locked");
    let r = t
        .call(
            Method::PUT,
            "/api/v1/quotas",
            &director,
            Some(json!({"month": format!("{}-06", y + 1), "owner": "repA", "amount": "5.00"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // The proposal adds up (Tianjin has no one: nothing for it).
    let r = t.call(Method::GET, &format!("/api/v1/sales-plans/{y}/split"), &director, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let p = r.json();
    assert_eq!(p["saved"], false);
    let version = p["version"].as_i64().expect("version");
    // One that does not add up: 422 naming the gap and the difference; nothing saved.
    let mut bad = good_split(version);
    bad["regions"][0]["teams"][0]["people"][0]["revenue"][2] = json!("601.00");
    bad["regions"][1]["teams"][0]["revenue"][4] = json!("700.00");
    bad["regions"][1]["teams"][0]["people"][0]["revenue"][4] = json!("700.00");
    let r = t.call(Method::PUT, &format!("/api/v1/sales-plans/{y}/split"), &director, Some(bad)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let fields = r.json()["error"]["details"]["fields"].clone();
    let team_gap = &fields[format!("regions.N.teams.BJ.months.{y}-03.revenue")];
    assert_eq!(team_gap["code"], "sum_mismatch", "{fields}");
    assert_eq!(team_gap["difference"], "1.00");
    assert!(team_gap["message"].as_str().unwrap_or("").contains("1.00"), "{team_gap}");
    let region_gap = &fields[format!("regions.E.months.{y}-05.revenue")];
    assert_eq!(region_gap["code"], "sum_mismatch", "{fields}");
    assert_eq!(region_gap["difference"], "-100.00");
    assert_eq!(fields.as_object().map(|o| o.len()), Some(2), "only the two gaps: {fields}");
    assert_eq!(quota_rows(&t, y).await, 0, "nothing saved");
    // A rep is not in another team; the director alone decomposes.
    let mut wrong = good_split(version);
    wrong["regions"][1]["teams"][0]["people"][0]["user"] = json!("repA");
    let r = t.call(Method::PUT, &format!("/api/v1/sales-plans/{y}/split"), &director, Some(wrong)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["error"]["details"]["fields"]["regions.E.teams.SH.people.repA.user"]["code"], "not_in_team");
    let r = t.call(Method::PUT, &format!("/api/v1/sales-plans/{y}/split"), &sdm, Some(good_split(version))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    // A good one: every rep's monthly quotas, with the profit beside them.
    let r = t.call(Method::PUT, &format!("/api/v1/sales-plans/{y}/split"), &director, Some(good_split(version))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["saved"], true);
    // 2 regions + 3 teams + 3 people, 12 months each.
    assert_eq!(quota_rows(&t, y).await, 8 * 12);
    let q = sqlx::query(
        "SELECT q.amount, q.profit FROM quotas q JOIN users u ON u.id = q.user_id WHERE u.username = 'repA' AND q.month = $1",
    )
    .bind(format!("{y}-03"))
    .fetch_one(&t.db().pool)
    .await
    .expect("repA's quota");
    assert_eq!(sqlx::Row::try_get::<i64, _>(&q, "amount").expect("amount"), 60_000);
    assert_eq!(sqlx::Row::try_get::<Option<i64>, _>(&q, "profit").expect("profit"), Some(12_000));
    // The V value reads them: repA's quota for the year is 12 × 600.
    let r = t.get(&format!("/api/v1/reports/v-value?period={y}"), &director).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let rep =
        r.json()["people"].as_array().expect("people").iter().find(|p| p["key"] == "repA").cloned().expect("repA");
    assert_eq!(rep["quota"], "7200.00");

    // Tracking: a deal won this month for account X (region N) shows against the plan.
    let today = chrono::Utc::now().date_naive();
    let opp = opportunity(&t, &bearer(&w, "repA"), w.account_x, "星河 年度扩容").await;
    let v = t.get(&format!("/api/v1/opportunities/{opp}"), &director).await.json()["version"].clone();
    let won = json!({"stage": "won", "override_reason": "合同已签", "booked_amount": "450.00",
        "booked_on": today.format("%Y-%m-%d").to_string(), "version": v});
    let r = t.call(Method::POST, &format!("/api/v1/opportunities/{opp}/stage"), &director, Some(won)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = t.get(&format!("/api/v1/sales-plans/{y}/tracking"), &director).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let tr = r.json();
    let n = tr["regions"].as_array().expect("regions").iter().find(|r| r["region"] == "N").cloned().expect("N");
    let this_month = today.format("%Y-%m").to_string();
    let cell =
        n["months"].as_array().expect("months").iter().find(|c| c["month"] == this_month).cloned().expect("month");
    assert_eq!(cell["plan_revenue"], "1000.00");
    assert_eq!(cell["actual_revenue"], "450.00");
    assert_eq!(cell["attainment_pct"], "45.0");
    assert_eq!(n["total"]["plan_revenue"], "12000.00");
    assert_eq!(tr["total"]["actual_revenue"], "450.00");
    let (status, headers, bytes) =
        download(&t, &format!("/api/v1/sales-plans/{y}/tracking?format=xlsx"), &director).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[axum::http::header::CONTENT_TYPE].to_str().unwrap_or("").contains("spreadsheet"));
    let rows = xlsx_rows(bytes, "sales_plan_tracking");
    assert!(rows.len() > 12, "{rows:?}");
    // The appraisal waits for the year's end.
    let r = t
        .call(
            Method::PUT,
            &format!("/api/v1/sales-plans/{y}/appraisal"),
            &director,
            Some(json!({"version": tr["version"], "regions": [{"region": "N", "rating": "good", "text": "完成良好"}]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["error"]["details"]["fields"]["year"]["code"], "year_not_over");
}

#[tokio::test]
async fn the_pages_draft_review_and_decompose_the_plan() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    add_user(&t, &w, "sdm", "sales_dept_manager").await;
    let y = year() + 1;
    let (dsid, dcsrf) = t.ui_login("director", PASSWORD, None).await.expect("director");
    let dauth = Auth::Session { cookie: dsid.clone(), csrf: String::new() };
    let r = t.get_form("/sales-plans", &dauth).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = t.get_form(&format!("/sales-plans/new?year={y}"), &dauth).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // A bad amount: the form again with the message beside the month, what was typed kept.
    let ys = y.to_string();
    let mut fields: Vec<(String, String)> = vec![("_csrf".into(), dcsrf.clone()), ("year".into(), ys.clone())];
    for m in 1..=12 {
        fields
            .push((format!("targets.N.months.{y}-{m:02}.revenue"), if m == 2 { "abc".into() } else { "1000".into() }));
        fields.push((format!("targets.N.months.{y}-{m:02}.profit"), "100".into()));
    }
    fields.push(("budget".into(), "差旅 50 万".into()));
    fields.push(("actions[0].action".into(), "华北重点客户拜访".into()));
    fields.push(("actions[0].owner".into(), "manager".into()));
    fields.push(("actions[0].due".into(), format!("{y}-04-30")));
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = t.ui_post("/sales-plans/new", &dsid, &refs).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("value=\"abc\""), "what was typed is kept");
    assert!(r.body.contains("field-error"));
    let feb = format!("targets.N.months.{y}-02.revenue");
    if let Some(f) = fields.iter_mut().find(|(k, _)| *k == feb) {
        f.1 = "1000".into();
    }
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = t.ui_post("/sales-plans/new", &dsid, &refs).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = t.get_form(&format!("/sales-plans/{y}"), &dauth).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("华北大区") && page.body.contains("华北重点客户拜访"), "{}", page.body);
    assert!(page.body.contains("id=\"submit-sales-plan\""));
    let version = sqlx::Row::try_get::<i64, _>(
        &sqlx::query("SELECT version FROM sales_plans WHERE year = $1")
            .bind(i64::from(y))
            .fetch_one(&t.db().pool)
            .await
            .expect("plan"),
        "version",
    )
    .expect("version");
    let r = t
        .ui_post(&format!("/sales-plans/{y}/submit"), &dsid, &[("_csrf", &dcsrf), ("version", &version.to_string())])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // The reviewer returns it from the plan's page; his opinion shows on the plan.
    let (ssid, scsrf) = t.ui_login("sdm", PASSWORD, None).await.expect("sdm");
    let sauth = Auth::Session { cookie: ssid.clone(), csrf: String::new() };
    let page = t.get_form(&format!("/sales-plans/{y}"), &sauth).await;
    assert!(page.body.contains("id=\"review-form\""), "{}", page.body);
    let r = t
        .ui_post(
            &format!("/sales-plans/{y}/review"),
            &ssid,
            &[("_csrf", &scsrf), ("decision", "return"), ("comment", "补充行动计划")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = t.get_form(&format!("/sales-plans/{y}"), &dauth).await;
    assert!(page.body.contains("补充行动计划") && page.body.contains("data-state=\"returned\""), "{}", page.body);
    // The request's page shows the plan whole.
    let aid = sqlx::Row::try_get::<i64, _>(
        &sqlx::query("SELECT approval_id FROM sales_plans WHERE year = $1")
            .bind(i64::from(y))
            .fetch_one(&t.db().pool)
            .await
            .expect("plan"),
        "approval_id",
    )
    .expect("approval");
    let page = t.get_form(&format!("/approvals/{aid}"), &sauth).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("差旅 50 万") && page.body.contains("华北大区"), "{}", page.body);
    // Revised (the form posts the whole body again) and approved from the page.
    let version = sqlx::Row::try_get::<i64, _>(
        &sqlx::query("SELECT version FROM sales_plans WHERE year = $1")
            .bind(i64::from(y))
            .fetch_one(&t.db().pool)
            .await
            .expect("plan"),
        "version",
    )
    .expect("version");
    let vs = version.to_string();
    let mut edit: Vec<(&str, &str)> = refs.iter().filter(|(k, _)| *k != "year").copied().collect();
    edit.push(("version", &vs));
    let r = t.ui_post(&format!("/sales-plans/{y}/edit"), &dsid, &edit).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let version = version + 1;
    let r = t
        .ui_post(&format!("/sales-plans/{y}/submit"), &dsid, &[("_csrf", &dcsrf), ("version", &version.to_string())])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = t.ui_post(&format!("/sales-plans/{y}/review"), &ssid, &[("_csrf", &scsrf), ("decision", "approve")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = t.get_form(&format!("/sales-plans/{y}"), &dauth).await;
    assert!(page.body.contains("data-state=\"approved\"") && page.body.contains("v2"), "{}", page.body);
    // The decomposition's form: the proposal adds up and saves; a change that does not is
    // refused with the difference beside the team's month.
    let form = t.get_form(&format!("/sales-plans/{y}/split"), &dauth).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains("id=\"split-proposed\""));
    let inputs: Vec<(String, String)> = form
        .body
        .split("<input name=\"")
        .skip(1)
        .filter_map(|s| {
            let name = s.split('"').next()?.to_string();
            let value = s.split("value=\"").nth(1)?.split('"').next()?.to_string();
            Some((name, value))
        })
        .collect();
    let version = form
        .body
        .split("name=\"version\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("version")
        .to_string();
    let mut post: Vec<(String, String)> = inputs.clone();
    let key = format!("regions.N.teams.BJ.people.repA.months.{y}-02.revenue");
    let i = post.iter().position(|(k, _)| *k == key).expect("repA's February");
    post[i].1 = "999999".into();
    let mut fs: Vec<(&str, &str)> = vec![("_csrf", &dcsrf), ("version", &version)];
    fs.extend(post.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let r = t.ui_post(&format!("/sales-plans/{y}/split"), &dsid, &fs).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("差额"), "{}", r.body);
    let mut fs: Vec<(&str, &str)> = vec![("_csrf", &dcsrf), ("version", &version)];
    fs.extend(inputs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let r = t.ui_post(&format!("/sales-plans/{y}/split"), &dsid, &fs).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(quota_rows(&t, y).await > 0);
    let page = t.get_form(&format!("/sales-plans/{y}/tracking"), &dauth).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("id=\"tracking-N\""), "{}", page.body);
}

/// `kam dataset` loads this year's plan approved, its decomposition as the year's quotas (the
/// people's months adding up to the plan's), an approved budget per cost centre, and spending
/// with out-of-budget dinners waiting for the finance manager.
#[tokio::test]
async fn the_dataset_has_this_years_plan_split_into_quotas_and_budgets_with_spending() {
    use kam::generate::dataset::{generate_scaled, Scale};
    let (db, _url, _dir) = crate::common::fresh_db().await;
    let small = Scale {
        regions: 2,
        branches_per_region: 2,
        aes: 4,
        srs: 4,
        accounts: 80,
        contacts_per_account: 2,
        opportunities: 300,
        activities: 500,
    };
    generate_scaled(&db, "tiny", small, 7, "bench-pass").await.expect("a tiny dataset");
    let year = chrono::Datelike::year(&chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive());
    let n = |sql: &'static str| {
        let db = db.clone();
        async move {
            let r = sqlx::query(sql).bind(year as i64).fetch_one(&db.pool).await.expect(sql);
            sqlx::Row::try_get::<i64, _>(&r, "n").expect("n")
        }
    };
    assert_eq!(n("SELECT COUNT(*) AS n FROM sales_plans WHERE year = $1 AND state = 'approved'").await, 1);
    // Every salesperson has twelve months from the plan; no manual quota is left in the year.
    assert_eq!(n("SELECT COUNT(DISTINCT user_id) AS n FROM quotas WHERE plan_year = $1").await, 8);
    assert_eq!(
        n("SELECT COUNT(*) AS n FROM quotas WHERE plan_year IS NULL AND month LIKE CAST($1 AS TEXT) || '-%'").await,
        0
    );
    // The people's quotas add up to the regions' (the plan's) quotas, month by month.
    let people = n(
        "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS n FROM quotas WHERE plan_year = $1 AND user_id IS NOT NULL",
    )
    .await;
    let regions = n("SELECT CAST(COALESCE(SUM(q.amount), 0) AS BIGINT) AS n FROM quotas q JOIN org_units o ON o.id = q.org_unit_id \
                     WHERE q.plan_year = $1 AND o.kind = 'region'")
        .await;
    assert!(people > 0);
    assert_eq!(people, regions);
    // One approved budget per cost centre (HQ, 2 regions, 4 branches).
    assert_eq!(n("SELECT COUNT(*) AS n FROM budgets WHERE year = $1 AND state = 'approved'").await, 7);
    // Each branch's travel and samples signed, a dinner to sign; the first branch's big dinner
    // waits for the finance manager.
    assert_eq!(n("SELECT COUNT(*) AS n FROM spending WHERE state = 'signed' AND $1 > 0").await, 8);
    assert_eq!(n("SELECT COUNT(*) AS n FROM spending WHERE state = 'submitted' AND $1 > 0").await, 4);
    assert_eq!(n("SELECT COUNT(*) AS n FROM spending WHERE state = 'in_approval' AND $1 > 0").await, 1);
    // A contract, acknowledged, for the KA director, the KA managers (2) and the reps (4).
    assert_eq!(n("SELECT COUNT(*) AS n FROM kpi_contracts WHERE year = $1 AND state = 'acknowledged'").await, 7);
}
