//! The opportunity pages as a salesperson and their manager use them: establishing from the
//! account, the checklist, moving on the board and on the page, the funnel report.
use axum::http::StatusCode;

use crate::common::{seed, Auth, TestApp, PASSWORD};

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

#[tokio::test]
async fn a_rep_establishes_works_the_checklist_and_moves_an_opportunity_through_the_pages() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let x = w.account_x;
    let (sid, csrf) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");
    // The account page offers establishing; the form asks for the evaluation.
    let page = t.get(&format!("/accounts/{x}"), &session(&sid)).await;
    assert!(page.body.contains(&format!("/accounts/{x}/opportunities/new")), "establish link");
    let form = t.get_form(&format!("/accounts/{x}/opportunities/new"), &session(&sid)).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("name=\"eval_need\""), "the evaluation form is part of establishing");
    // Missing evaluation answers: the form comes back with what was typed and names the gap.
    let path = format!("/accounts/{x}/opportunities/new");
    let r = t
        .ui_post(
            &path,
            &sid,
            &[("_csrf", &csrf), ("name", "数据中心扩容"), ("amount", "1200000"), ("expected_close", "2027-03-31")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("数据中心扩容"), "what was typed is kept");
    assert!(r.body.contains("客户需求"), "the missing answer is named in Chinese");
    let r = t
        .ui_post(
            &path,
            &sid,
            &[
                ("_csrf", &csrf),
                ("name", "数据中心扩容"),
                ("amount", "1200000"),
                ("expected_close", "2027-03-31"),
                ("eval_need", "机房容量不足"),
                ("eval_budget", "已列入年度预算"),
                ("eval_timeline", "一季度决策"),
                ("eval_decision_makers", "信息中心主任"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let loc = r.headers.get("location").and_then(|v| v.to_str().ok()).expect("location").to_string();
    let id: i64 = loc.trim_start_matches("/opportunities/").split('?').next().and_then(|i| i.parse().ok()).expect("id");
    let page = t.get(&loc, &session(&sid)).await;
    assert!(page.body.contains("识别 10%"), "enters the funnel at identified");

    // Moving on with the criteria unmet: refused on the page, naming each unmet criterion.
    let v = version_in(&page.body);
    let r = t
        .ui_post(
            &format!("/opportunities/{id}/stage"),
            &sid,
            &[("_csrf", &csrf), ("version", &v), ("stage", "contacted")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"move-errors\""), "{}", r.body);
    assert!(r.body.contains("已预约首次拜访"), "each unmet criterion is named");
    // Check the four criteria of identified, then move from the board.
    let mut v = v;
    for item in ["key_people_identified", "org_structure_confirmed", "need_determined", "first_visit_booked"] {
        let r = t
            .ui_post(
                &format!("/opportunities/{id}/check"),
                &sid,
                &[("_csrf", &csrf), ("version", &v), ("item", item), ("checked", "1")],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        v = version_in(&t.get(&format!("/opportunities/{id}"), &session(&sid)).await.body);
    }
    let board = t.get("/opportunities?view=board", &session(&sid)).await;
    assert!(board.body.contains("data-stage=\"contacted\""), "a column per stage");
    assert!(board.body.contains(&format!("data-id=\"{id}\"")), "the card is on the board");
    let r = t
        .ui_post(
            &format!("/opportunities/{id}/stage"),
            &sid,
            &[("_csrf", &csrf), ("version", &v), ("stage", "contacted"), ("back", "/opportunities?view=board")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.headers.get("location").and_then(|v| v.to_str().ok()), Some("/opportunities?view=board"));
    let page = t.get(&format!("/opportunities/{id}"), &session(&sid)).await;
    assert!(page.body.contains("接触 25%"));
    // Each column's heading counts and sums the whole stage in scope.
    let board = t.get("/opportunities?view=board&stage=contacted", &session(&sid)).await;
    assert!(board.body.contains("(1 · ¥1,200,000.00)"), "{}", board.body);
    // Back without a reason is refused; with one it is kept in the history.
    let v = version_in(&page.body);
    let r = t
        .ui_post(
            &format!("/opportunities/{id}/stage"),
            &sid,
            &[("_csrf", &csrf), ("version", &v), ("stage", "identified")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = t
        .ui_post(
            &format!("/opportunities/{id}/stage"),
            &sid,
            &[("_csrf", &csrf), ("version", &v), ("stage", "identified"), ("reason", "客户预算冻结")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = t.get(&format!("/opportunities/{id}"), &session(&sid)).await;
    assert!(page.body.contains("客户预算冻结"), "the reason is in the history");

    // The list and the funnel report show it; repB (another rep) does not see it.
    let list = t.get("/opportunities", &session(&sid)).await;
    assert!(list.body.contains("数据中心扩容"));
    let funnel = t.get("/reports/funnel", &session(&sid)).await;
    assert_eq!(funnel.status, StatusCode::OK);
    assert!(funnel.body.contains("<svg"), "a chart drawn by the server");
    assert!(funnel.body.contains("120,000.00"), "{}", funnel.body);
    let (other, _) = t.ui_login("repB", PASSWORD, None).await.expect("sign in");
    assert_eq!(t.get(&format!("/opportunities/{id}"), &session(&other)).await.status, StatusCode::NOT_FOUND);
    assert!(!t.get("/opportunities", &session(&other)).await.body.contains("数据中心扩容"));
}
