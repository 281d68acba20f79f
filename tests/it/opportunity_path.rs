//! The opportunity path (issue 18, item 7): the stage bar with its probabilities, the current
//! stage's exit criteria ticked in place, a move form per target asking only what that target
//! needs, and a move refused on the board that lets the user tick the missing criteria and
//! retry there.
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{seed, Auth, TestApp, World, PASSWORD};

fn session(sid: &str) -> Auth {
    Auth::Session { cookie: sid.to_string(), csrf: String::new() }
}

/// The value of the first hidden `name` input after `from` in `page`.
fn input_after(page: &str, from: &str, name: &str) -> String {
    let at = page.find(from).unwrap_or_else(|| panic!("{from} in page"));
    page[at..]
        .split(&format!("name=\"{name}\" value=\""))
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("{name} after {from}"))
        .to_string()
}

/// The names of the inputs of the form with `id`.
fn form_inputs(page: &str, id: &str) -> Vec<String> {
    let at = page.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("form {id} in page: {page}"));
    let form = &page[at..at + page[at..].find("</form>").expect("form end")];
    form.split("<input")
        .skip(1)
        .filter_map(|i| i.split("name=\"").nth(1)?.split('"').next().map(str::to_string))
        .collect()
}

async fn establish(t: &TestApp, w: &World, name: &str) -> i64 {
    let body = json!({
        "account_id": w.account_x, "name": name, "amount": "500000.00", "expected_close": "2031-06-30",
        "eval_need": "扩产", "eval_budget": "已批", "eval_timeline": "三季度", "eval_decision_makers": "总经理",
    });
    let r = t.call(Method::POST, "/api/v1/opportunities", &Auth::Bearer(w.tokens["repA"].clone()), Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.json()["id"].as_i64().expect("id")
}

const IDENTIFIED: [&str; 4] =
    ["key_people_identified", "org_structure_confirmed", "need_determined", "first_visit_booked"];

#[tokio::test]
async fn the_path_shows_the_stages_ticks_criteria_in_place_and_each_move_asks_only_what_it_needs() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let id = establish(&t, &w, "扩产测量项目").await;
    let (sid, csrf) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");
    let page = t.get(&format!("/opportunities/{id}"), &session(&sid)).await;
    assert_eq!(page.status, StatusCode::OK);
    // The stage bar: every stage with its probability, in funnel order, identified current.
    let path = &page.body[page.body.find("id=\"path\"").expect("the path")..];
    let path = &path[..path.find("</ol>").expect("path end")];
    let mut last = 0;
    for (name, p) in
        [("识别", 10), ("接触", 25), ("拿到资格", 50), ("发展", 75), ("承诺", 90), ("赢单", 100), ("丢单", 0)]
    {
        let label = format!("{name} {p}%");
        let at = path.find(&format!(">{label}</")).unwrap_or_else(|| panic!("{label} in the path: {path}"));
        assert!(at > last, "{label} in funnel order");
        last = at;
    }
    assert!(path.contains("class=\"step current\" data-stage=\"identified\" aria-current=\"step\""), "{path}");
    assert!(!path.contains("step done"), "nothing done yet");

    // The current stage's exit criteria, ticked in place (a post to the check route).
    for item in IDENTIFIED {
        assert!(page.body.contains(&format!("aria-checked=\"false\" data-tick=\"{item}\"")), "{item} unticked");
    }
    let v = input_after(&page.body, "id=\"exit\"", "version");
    let r = t
        .ui_post(
            &format!("/opportunities/{id}/check"),
            &sid,
            &[("_csrf", &csrf), ("version", &v), ("item", "need_determined"), ("checked", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = t.get(&format!("/opportunities/{id}"), &session(&sid)).await;
    assert!(page.body.contains("aria-checked=\"true\" data-tick=\"need_determined\""), "ticked in place");
    assert!(page.body.contains("aria-checked=\"false\" data-tick=\"first_visit_booked\""));

    // Each target's move form asks only what it needs.
    let ask = |to: &'static str| {
        let t = &t;
        let sid = sid.clone();
        async move {
            let p = t.get(&format!("/opportunities/{id}?move={to}"), &session(&sid)).await;
            assert_eq!(p.status, StatusCode::OK);
            let mut f = form_inputs(&p.body, "move-form");
            f.sort();
            f
        }
    };
    assert_eq!(ask("won").await, ["_csrf", "booked_amount", "booked_on", "stage", "version"]);
    assert_eq!(ask("lost").await, ["_csrf", "lost_reason", "lost_to", "stage", "version"]);
    assert_eq!(ask("contacted").await, ["_csrf", "stage", "version"], "nothing extra for a forward move");
    let won = t.get(&format!("/opportunities/{id}?move=won"), &session(&sid)).await.body;
    assert!(won.contains("成交金额"), "labelled in the user's language");
    // Without a target, the page offers one link per stage it may move to.
    assert!(page.body.contains(&format!("href=\"/opportunities/{id}?move=won#move\"")));

    // Tick the rest, move forward with the small form: identified is now done.
    for item in ["key_people_identified", "org_structure_confirmed", "first_visit_booked"] {
        let p = t.get(&format!("/opportunities/{id}"), &session(&sid)).await;
        let v = input_after(&p.body, "id=\"exit\"", "version");
        let r = t
            .ui_post(
                &format!("/opportunities/{id}/check"),
                &sid,
                &[("_csrf", &csrf), ("version", &v), ("item", item), ("checked", "1")],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    }
    let p = t.get(&format!("/opportunities/{id}?move=contacted"), &session(&sid)).await;
    let v = input_after(&p.body, "id=\"move-form\"", "version");
    let r = t
        .ui_post(
            &format!("/opportunities/{id}/stage"),
            &sid,
            &[("_csrf", &csrf), ("version", &v), ("stage", "contacted")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = t.get(&format!("/opportunities/{id}"), &session(&sid)).await;
    assert!(page.body.contains("class=\"step done\" data-stage=\"identified\""), "identified done");
    assert!(page.body.contains("class=\"step current\" data-stage=\"contacted\""), "contacted current");
    assert!(page.body.contains("data-tick=\"committee_identified\""), "the new stage's criteria to tick");
    // A lost move with nothing typed is refused on the page, naming what it needs.
    let v = input_after(&page.body, "id=\"exit\"", "version");
    let r = t
        .ui_post(&format!("/opportunities/{id}/stage"), &sid, &[("_csrf", &csrf), ("version", &v), ("stage", "lost")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"move-errors\""));
    let mut f = form_inputs(&r.body, "move-form");
    f.sort();
    assert_eq!(f, ["_csrf", "lost_reason", "lost_to", "stage", "version"], "the refused move's own form again");
}

#[tokio::test]
async fn a_move_refused_on_the_board_shows_the_missing_criteria_to_tick_and_retry_there() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let id = establish(&t, &w, "看板推进项目").await;
    let (sid, csrf) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");
    let back = "/opportunities?view=board&open=1";
    let board = t.get(back, &session(&sid)).await;
    let card = &board.body[board.body.find(&format!("data-id=\"{id}\"")).expect("the card")..];
    let v = input_after(card, "form", "version");
    let r = t
        .ui_post(
            &format!("/opportunities/{id}/stage"),
            &sid,
            &[("_csrf", &csrf), ("version", &v), ("stage", "contacted"), ("back", back)],
        )
        .await;
    // Refused, on the board itself: the missing criteria as checkboxes and a retry button.
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("class=\"board\""), "still the board");
    assert!(r.body.contains("id=\"refusal\""), "{}", r.body);
    for item in IDENTIFIED {
        assert!(r.body.contains(&format!("name=\"tick\" value=\"{item}\"")), "{item} to tick");
    }
    assert!(r.body.contains("已预约首次拜访"), "named in Chinese");
    assert!(r.body.contains("id=\"retry\""));
    // Ticking only two: refused again, now asking the other two.
    let v = input_after(&r.body, "id=\"refusal-form\"", "version");
    let r = t
        .ui_post(
            &format!("/opportunities/{id}/stage"),
            &sid,
            &[
                ("_csrf", &csrf),
                ("version", &v),
                ("stage", "contacted"),
                ("back", back),
                ("tick", IDENTIFIED[0]),
                ("tick", IDENTIFIED[1]),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!r.body.contains(&format!("name=\"tick\" value=\"{}\"", IDENTIFIED[0])), "ticked ones are done");
    assert!(r.body.contains(&format!("name=\"tick\" value=\"{}\"", IDENTIFIED[3])));
    // Ticking the rest and retrying moves it: back on the board, the card in its new column.
    let v = input_after(&r.body, "id=\"refusal-form\"", "version");
    let r = t
        .ui_post(
            &format!("/opportunities/{id}/stage"),
            &sid,
            &[
                ("_csrf", &csrf),
                ("version", &v),
                ("stage", "contacted"),
                ("back", back),
                ("tick", IDENTIFIED[2]),
                ("tick", IDENTIFIED[3]),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.headers.get("location").and_then(|v| v.to_str().ok()), Some(back));
    let board = t.get(back, &session(&sid)).await;
    let col = &board.body[board.body.find("data-stage=\"contacted\"").expect("contacted column")..];
    let col = &col[..col.find("</section>").expect("column end")];
    assert!(col.contains(&format!("data-id=\"{id}\"")), "the card is in the contacted column");
    let o: Value = t.get(&format!("/api/v1/opportunities/{id}"), &Auth::Bearer(w.tokens["repA"].clone())).await.json();
    assert_eq!(o["stage"], "contacted");
    // A refused loss asks its reason and the competitor there too.
    let r = t
        .ui_post(
            &format!("/opportunities/{id}/stage"),
            &sid,
            &[("_csrf", &csrf), ("version", &o["version"].to_string()), ("stage", "lost"), ("back", back)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut f = form_inputs(&r.body, "refusal-form");
    f.sort();
    assert_eq!(f, ["_csrf", "back", "lost_reason", "lost_to", "stage", "version"]);
}
