//! The visit pages as a rep and their manager use them: the visit record form and the record,
//! the weekly plan, the manager's side-by-side plans and visit statistics, the calendar, the
//! account's activities and development record, and the statistics export.
use axum::http::StatusCode;
use chrono::{Datelike, Duration, Timelike, Utc};

use crate::common::{seed, Auth, Resp, TestApp, PASSWORD};

fn session(sid: &str) -> Auth {
    Auth::Session { cookie: sid.to_string(), csrf: String::new() }
}

fn version_in(page: &str) -> String {
    page.split("name=\"version\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("version in page")
        .to_string()
}

/// Where a post went, without the message it leaves for the page (`flash=…`).
fn location(r: &Resp) -> String {
    let to = r.headers.get("location").and_then(|v| v.to_str().ok()).expect("location");
    match to.split_once("?flash=") {
        Some((path, rest)) => format!("{path}{}", rest.find('#').map(|i| &rest[i..]).unwrap_or("")),
        None => to.to_string(),
    }
}

/// The id at the end of `/activities/{id}` (or an opportunity's path).
fn id_in(path: &str) -> i64 {
    path.rsplit('/').next().and_then(|s| s.split(['?', '#']).next()).and_then(|s| s.parse().ok()).expect("id")
}

/// The HTML of the element that opens with `start`, up to its `end` tag.
fn chunk<'a>(page: &'a str, start: &str, end: &str) -> &'a str {
    let i = page.find(start).unwrap_or_else(|| panic!("{start} not in page:\n{page}"));
    let rest = &page[i..];
    &rest[..rest.find(end).map(|j| j + end.len()).unwrap_or(rest.len())]
}

async fn count_activities(t: &TestApp) -> i64 {
    sqlx::Row::try_get(
        &sqlx::query("SELECT COUNT(*) AS n FROM activities").fetch_one(&t.db().pool).await.expect("count"),
        "n",
    )
    .expect("n")
}

#[tokio::test]
async fn a_rep_records_plans_and_completes_visits_and_the_manager_sees_them_counted() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (x, contact) = (w.account_x, w.contact_x);
    let (sid, csrf) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");

    // The users' zone (the default): the current minute, today, and this week's Monday.
    let sh = chrono_tz::Asia::Shanghai;
    let now = Utc::now().with_timezone(&sh);
    let now = now - Duration::seconds(now.second() as i64);
    let at = now.format("%Y-%m-%dT%H:%M").to_string();
    let today = now.date_naive();
    let monday = (today - Duration::days(today.weekday().num_days_from_monday() as i64)).format("%Y-%m-%d").to_string();
    let today = today.format("%Y-%m-%d").to_string();

    // An opportunity on the account, established through its form.
    let r = t
        .ui_post(
            &format!("/accounts/{x}/opportunities/new"),
            &sid,
            &[
                ("_csrf", &csrf),
                ("name", "精密仪器升级"),
                ("amount", "800000"),
                ("expected_close", "2027-06-30"),
                ("eval_need", "产线老化"),
                ("eval_budget", "已立项"),
                ("eval_timeline", "二季度"),
                ("eval_decision_makers", "总经理"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let opp = id_in(&location(&r));

    // The form lists the account's contacts and opportunities, and links establishing one.
    let form = t.get_form(&format!("/activities/new?account_id={x}"), &session(&sid)).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains("目标客户拜访记录表"));
    assert!(form.body.contains(&format!("name=\"contact\" value=\"{contact}\"")), "contacts as checkboxes");
    assert!(form.body.contains(&format!("name=\"attitude_{contact}\"")), "an attitude per contact");
    assert!(form.body.contains(&format!("<option value=\"{opp}\"")), "the account's opportunities");
    assert!(form.body.contains(&format!("/accounts/{x}/opportunities/new")), "establish link");
    assert!(form.body.contains("type=\"datetime-local\""));
    // Without an account the form first asks for one.
    let pick = t.get("/activities/new", &session(&sid)).await;
    assert!(pick.body.contains("id=\"pick-account\""), "{}", pick.body);

    // A done visit in the future: the form comes back in Chinese with what was typed, nothing written.
    let before = count_activities(&t).await;
    let later = (now + Duration::days(2)).format("%Y-%m-%dT%H:%M").to_string();
    let xs = x.to_string();
    let r = t
        .ui_post(
            "/activities",
            &sid,
            &[
                ("_csrf", &csrf),
                ("account_id", &xs),
                ("kind", "visit"),
                ("status", "done"),
                ("occurred_at", &later),
                ("objective", "未来的拜访目的"),
                ("outcome", "none"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("已完成的拜访时间不能晚于现在"), "the field error in Chinese: {}", r.body);
    assert!(r.body.contains("id=\"e-occurred_at\""), "beside its field");
    assert!(r.body.contains("未来的拜访目的"), "what was typed is kept");
    assert!(r.body.contains(&later), "the time typed is kept");
    assert_eq!(count_activities(&t).await, before, "nothing written");

    // Claiming an opportunity found without linking it is refused and explained.
    let r = t
        .ui_post(
            "/activities",
            &sid,
            &[
                ("_csrf", &csrf),
                ("account_id", &xs),
                ("kind", "visit"),
                ("status", "done"),
                ("outcome", "opportunity_found"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("发现或推进了商机，请关联该商机"), "{}", r.body);

    // A face-to-face visit that found the opportunity, with the contact met: effective.
    let opps = opp.to_string();
    let cs = contact.to_string();
    let att = format!("attitude_{contact}");
    let r = t
        .ui_post(
            "/activities",
            &sid,
            &[
                ("_csrf", &csrf),
                ("account_id", &xs),
                ("kind", "visit"),
                ("status", "done"),
                ("occurred_at", &at),
                ("place", "客户总部"),
                ("objective", "介绍升级方案"),
                ("outcome", "opportunity_found"),
                ("opportunity_id", &opps),
                ("customer_attitude", "warm"),
                ("contact", &cs),
                (&att, "supporter"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let first = location(&r);
    let first_id = id_in(&first);
    let page = t.get(&first, &session(&sid)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(chunk(&page.body, "<p id=\"effective\"", "</p>").contains("有效拜访"), "{}", page.body);
    assert!(page.body.contains("class=\"verdict yes\""));
    assert!(page.body.contains("王志远"), "the contact met");
    assert!(page.body.contains("支持"), "with the attitude noted");
    assert!(page.body.contains("精密仪器升级"), "the opportunity linked");
    assert!(page.body.contains("id=\"follow-up\""), "a key account asks for a follow-up");

    // A phone call is a contact, not an effective visit, and the record says why.
    let r = t
        .ui_post(
            "/activities",
            &sid,
            &[
                ("_csrf", &csrf),
                ("account_id", &xs),
                ("kind", "phone"),
                ("status", "done"),
                ("occurred_at", &at),
                ("outcome", "none"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let call = location(&r);
    let page = t.get(&call, &session(&sid)).await;
    assert!(page.body.contains("不是有效拜访"));
    let why = chunk(&page.body, "<ul id=\"why-not\"", "</ul>");
    assert!(why.contains("不是面对面拜访"), "{why}");
    assert!(why.contains("没有成果"), "{why}");
    // A stale edit is refused with a clear message; the delete asks first.
    let v = version_in(&t.get(&format!("{call}/edit"), &session(&sid)).await.body);
    let r =
        t.ui_post(&format!("{call}/edit"), &sid, &[("_csrf", &csrf), ("version", &v), ("summary", "确认了需求")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = t.ui_post(&format!("{call}/edit"), &sid, &[("_csrf", &csrf), ("version", &v), ("summary", "旧版本")]).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("该记录已被他人修改"), "{}", r.body);
    assert!(r.body.contains("旧版本"), "what was typed is kept");
    let confirm = t.get(&format!("{call}/delete"), &session(&sid)).await;
    assert!(confirm.body.contains(&format!("action=\"{call}/delete\"")), "{}", confirm.body);
    let v = version_in(&confirm.body);
    let r = t.ui_post(&format!("{call}/delete"), &sid, &[("_csrf", &csrf), ("version", &v)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(t.get(&call, &session(&sid)).await.status, StatusCode::NOT_FOUND);

    // The weekly plan: an empty plan cannot be submitted; a planned visit is added, then it is.
    let plan = t.get_form(&format!("/visit-plan?week={monday}"), &session(&sid)).await;
    assert_eq!(plan.status, StatusCode::OK, "{}", plan.body);
    assert!(plan.body.contains("每周工作计划表"));
    assert!(plan.body.contains("本周还没有计划的拜访"), "the empty state");
    let r = t.ui_post("/visit-plan/submit", &sid, &[("_csrf", &csrf), ("week", &monday), ("note", "")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("本周计划还没有拜访"), "{}", r.body);
    let r = t
        .ui_post(
            "/visit-plan/visits",
            &sid,
            &[("_csrf", &csrf), ("week", &monday), ("account_id", &xs), ("objective", "回访")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "a planned visit needs its time");
    assert!(r.body.contains("id=\"pe-planned_at\""), "{}", r.body);
    let r = t
        .ui_post(
            "/visit-plan/visits",
            &sid,
            &[
                ("_csrf", &csrf),
                ("week", &monday),
                ("account_id", &xs),
                ("planned_at", &at),
                ("objective", "演示升级样机"),
                ("place", "客户二号厂房"),
                ("materials", "样机、报价单"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(location(&r).starts_with(&format!("/visit-plan?week={monday}")), "{}", location(&r));
    let plan = t.get_form(&format!("/visit-plan?week={monday}"), &session(&sid)).await;
    let table = chunk(&plan.body, "<table class=\"list\" id=\"plan-table\"", "</table>");
    assert!(table.contains("演示升级样机") && table.contains("客户二号厂房") && table.contains("样机、报价单"));
    let planned_id: i64 = chunk(table, "<tr data-id=\"", ">")
        .trim_start_matches("<tr data-id=\"")
        .trim_end_matches("\">")
        .parse()
        .expect("planned id");
    let r = t
        .ui_post("/visit-plan/submit", &sid, &[("_csrf", &csrf), ("week", &monday), ("note", "重点推进星河升级")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let plan = t.get_form(&format!("/visit-plan?week={monday}"), &session(&sid)).await;
    assert!(plan.body.contains("data-status=\"submitted\""), "{}", plan.body);
    assert!(plan.body.contains("已提交") && plan.body.contains("重点推进星河升级"));

    // Completing the planned visit: it solved a problem, named, so it is effective.
    let page = t.get(&format!("/activities/{planned_id}"), &session(&sid)).await;
    assert!(page.body.contains("尚未完成"), "a planned visit is not effective yet");
    let form = t.get(&format!("/activities/{planned_id}/edit?done=1"), &session(&sid)).await;
    assert_eq!(form.status, StatusCode::OK);
    let v = version_in(&form.body);
    let r = t
        .ui_post(
            &format!("/activities/{planned_id}/edit"),
            &sid,
            &[
                ("_csrf", &csrf),
                ("version", &v),
                ("kind", "visit"),
                ("status", "done"),
                ("occurred_at", &at),
                ("outcome", "problem_solved"),
                ("problems", "样机调试报错，现场解决"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = t.get(&format!("/activities/{planned_id}"), &session(&sid)).await;
    assert!(page.body.contains("class=\"verdict yes\""), "{}", page.body);

    // The calendar shows both on today's column.
    let cal = t.get(&format!("/calendar?week={monday}"), &session(&sid)).await;
    assert_eq!(cal.status, StatusCode::OK, "{}", cal.body);
    let day = chunk(&cal.body, &format!("data-day=\"{today}\""), "</section>");
    assert!(day.contains(&format!("href=\"/activities/{planned_id}\"")), "{day}");
    assert!(day.contains(&format!("href=\"/activities/{first_id}\"")), "{day}");

    // The account page: the activities and the development record.
    let acc = t.get(&format!("/accounts/{x}"), &session(&sid)).await;
    let list = chunk(&acc.body, "id=\"account-activities\"", "</table>");
    assert!(list.contains(&format!("data-id=\"{first_id}\"")) && list.contains(&format!("data-id=\"{planned_id}\"")));
    assert!(acc.body.contains(&format!("/activities/new?account_id={x}")), "记录拜访 link");
    let dev = chunk(&acc.body, "id=\"development-record\"", "</dl>");
    assert!(dev.contains("data-field=\"effective\">2<"), "{dev}");
    assert!(dev.contains(&format!("data-field=\"first_contact\">{today}<")), "{dev}");
    assert!(dev.contains("进行中"), "{dev}");
    assert!(acc.body.contains("大客户开发记录表"));

    // The list filters by effective.
    let list = t.get("/activities?effective=1", &session(&sid)).await;
    assert!(
        list.body.contains(&format!("data-id=\"{first_id}\""))
            && list.body.contains(&format!("data-id=\"{planned_id}\""))
    );
    let list = t.get("/activities?effective=0&kind=phone", &session(&sid)).await;
    assert!(list.body.contains("id=\"no-activities\""), "the deleted call is gone: {}", list.body);
    // The daily page carries the progress.
    let day_page = t.get("/today", &session(&sid)).await;
    assert!(chunk(&day_page.body, "id=\"effective-week\"", "</dd>").contains("2 / 12"), "{}", day_page.body);

    // The manager: the team's plans side by side, and the statistics count it.
    let (msid, _) = t.ui_login("manager", PASSWORD, None).await.expect("sign in");
    let team = t.get(&format!("/visit-plans/team?week={monday}"), &session(&msid)).await;
    assert_eq!(team.status, StatusCode::OK, "{}", team.body);
    let row = chunk(&team.body, "<tr data-user=\"repA\"", "</tr>");
    assert!(row.contains("已提交"), "{row}");
    assert!(row.contains("class=\"num planned\">1<") && row.contains("class=\"num done\">1<"), "{row}");
    assert!(row.contains("class=\"num effective\">1<"), "{row}");
    assert!(team.body.contains("演示升级样机"), "the visits side by side");
    let stats = t.get(&format!("/visits/stats?week={monday}"), &session(&msid)).await;
    assert_eq!(stats.status, StatusCode::OK, "{}", stats.body);
    let row = chunk(&stats.body, "<tr data-user=\"repA\"", "</tr>");
    assert!(row.contains("class=\"num total\">2<"), "{row}");
    assert!(row.contains("未达标"), "2 of 12: the week's target not met: {row}");
    assert!(row.contains("below"), "working days below 3 are marked: {row}");
    assert!(stats.body.contains("<svg"), "a chart drawn by the server");
    let cal = t.get(&format!("/calendar?team=1&week={monday}"), &session(&msid)).await;
    assert!(cal.body.contains(&format!("href=\"/activities/{planned_id}\"")), "the team calendar");
    let review = t.get("/one-on-one/repA", &session(&msid)).await;
    assert!(review.body.contains("id=\"visits-week\""), "{}", review.body);

    // The export downloads a spreadsheet.
    let x = t.get(&format!("/visits/stats/export?format=xlsx&week={monday}"), &session(&msid)).await;
    assert_eq!(x.status, StatusCode::OK);
    assert!(x.body.starts_with("PK"), "an XLSX (zip) file");
    assert!(x.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").contains("spreadsheetml"));
    let csv = t.get(&format!("/visits/stats/export?format=csv&week={monday}"), &session(&msid)).await;
    assert!(csv.body.contains("有效拜访") && csv.body.contains("周一"), "headers in Chinese: {}", csv.body);
}
