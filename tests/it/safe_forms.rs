//! Safe forms: a create form posted twice (Back, then submit) creates one record; pages and API
//! answers are not stored by the browser; a message after each save; the password change.
use axum::http::{header, Method, StatusCode};
use serde_json::json;

use crate::common::{seed, Auth, Resp, TestApp, PASSWORD};

const ALREADY: &str = "此表单已提交，未重复创建";

fn session(sid: &str) -> Auth {
    Auth::Session { cookie: sid.to_string(), csrf: String::new() }
}

fn location(r: &Resp) -> String {
    r.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).expect("location").to_string()
}

/// The path of a location, without its query and fragment.
fn path_of(loc: &str) -> &str {
    loc.split(['?', '#']).next().unwrap_or(loc)
}

fn once_in(page: &str) -> String {
    page.split("name=\"_once\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("a one-time token in the form:\n{page}"))
        .to_string()
}

async fn count(t: &TestApp, table: &str) -> i64 {
    sqlx::Row::try_get(
        &sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table} WHERE deleted_at IS NULL"))
            .fetch_one(&t.db().pool)
            .await
            .expect("count"),
        "n",
    )
    .expect("n")
}

/// Opens a create form (its first answer redirects to its address with a token), posts it with
/// `fields` twice, and checks one record was created and the second post went to it, saying so.
/// Answers the created record's location.
async fn posted_twice(
    t: &TestApp,
    sid: &str,
    csrf: &str,
    (form, action): (&str, &str),
    table: &str,
    fields: &[(&str, &str)],
) -> String {
    let first = t.get(form, &session(sid)).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{form}: {}", first.body);
    let with_token = location(&first);
    assert!(with_token.starts_with(form) && with_token.contains("_once="), "{with_token}");
    let page = t.get(&with_token, &session(sid)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let once = once_in(&page.body);
    // Back shows the same form again with the same token (the address carries it).
    assert_eq!(once_in(&t.get(&with_token, &session(sid)).await.body), once);
    assert!(page.body.contains(&format!("method=\"post\" action=\"{action}\"")), "posts to {action}");
    let mut body: Vec<(&str, &str)> = vec![("_csrf", csrf), ("_once", &once)];
    body.extend_from_slice(fields);
    let before = count(t, table).await;
    let r = t.ui_post(action, sid, &body).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{form}: {}", r.body);
    let created = location(&r);
    assert!(created.contains("flash=saved"), "{created}");
    let shown = t.get_form(&created, &session(sid)).await;
    assert!(shown.body.contains("已保存"), "the saved message: {}", shown.body);
    assert_eq!(count(t, table).await, before + 1);
    // Back, and submit again: nothing new, and the first record with the message.
    let r = t.ui_post(action, sid, &body).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{form}: {}", r.body);
    let again = location(&r);
    assert!(again.contains("flash=once"), "{again}");
    assert_eq!(count(t, table).await, before + 1, "{form}: no second record");
    let shown = t.get_form(&again, &session(sid)).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    assert!(shown.body.contains(ALREADY), "{}", shown.body);
    again
}

#[tokio::test]
async fn a_create_form_posted_again_creates_nothing_and_goes_to_what_the_first_post_created() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let x = w.account_x;
    let xs = x.to_string();
    let (sid, csrf) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");

    let at = (chrono::Utc::now() - chrono::Duration::hours(2)).with_timezone(&chrono_tz::Asia::Shanghai);
    let at = at.format("%Y-%m-%dT%H:%M").to_string();
    let visit = posted_twice(
        &t,
        &sid,
        &csrf,
        (&format!("/activities/new?account_id={x}"), "/activities"),
        "activities",
        &[("account_id", &xs), ("kind", "visit"), ("status", "done"), ("occurred_at", &at), ("outcome", "none")],
    )
    .await;
    assert!(path_of(&visit).starts_with("/activities/"), "{visit}");

    // A visit added to the weekly plan (the plan page's own add form).
    let next_week = (chrono::Utc::now() + chrono::Duration::days(7)).with_timezone(&chrono_tz::Asia::Shanghai);
    let planned_at = next_week.format("%Y-%m-%dT10:00").to_string();
    let plan = posted_twice(
        &t,
        &sid,
        &csrf,
        ("/visit-plan", "/visit-plan/visits"),
        "activities",
        &[("account_id", &xs), ("planned_at", &planned_at), ("objective", "技术交流")],
    )
    .await;
    assert!(path_of(&plan) == "/visit-plan", "{plan}");

    let opp = posted_twice(
        &t,
        &sid,
        &csrf,
        (&format!("/accounts/{x}/opportunities/new"), &format!("/accounts/{x}/opportunities/new")),
        "opportunities",
        &[
            ("name", "产线升级"),
            ("amount", "500000"),
            ("expected_close", "2031-06-30"),
            ("eval_need", "产线老化"),
            ("eval_budget", "已立项"),
            ("eval_timeline", "二季度"),
            ("eval_decision_makers", "总经理"),
        ],
    )
    .await;
    assert!(path_of(&opp).starts_with("/opportunities/"), "{opp}");

    let account = posted_twice(
        &t,
        &sid,
        &csrf,
        ("/accounts/new", "/accounts/new"),
        "accounts",
        &[("name", "杭州新材料科技有限公司"), ("industry", "enterprise"), ("level", "L3")],
    )
    .await;
    assert!(path_of(&account).starts_with("/accounts/"), "{account}");

    let contact = posted_twice(
        &t,
        &sid,
        &csrf,
        (&format!("/accounts/{x}/contacts/new"), &format!("/accounts/{x}/contacts/new")),
        "contacts",
        &[("name", "李建国"), ("title", "采购经理")],
    )
    .await;
    assert!(path_of(&contact).starts_with("/contacts/"), "goes to the contact created first: {contact}");
}

#[tokio::test]
async fn a_refused_create_form_keeps_its_token_so_the_corrected_post_saves_once() {
    let t = TestApp::new().await;
    let _w = seed(&t).await;
    let (sid, csrf) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");
    let page = t.get_form("/accounts/new", &session(&sid)).await;
    let once = once_in(&page.body);
    let before = count(&t, "accounts").await;
    // The name is missing: refused, and the form keeps the token.
    let r = t
        .ui_post(
            "/accounts/new",
            &sid,
            &[("_csrf", &csrf), ("_once", &once), ("industry", "enterprise"), ("level", "L3")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(once_in(&r.body), once, "the same token on the form again");
    let fixed = [
        ("_csrf", csrf.as_str()),
        ("_once", &once),
        ("name", "苏州精工机械有限公司"),
        ("industry", "enterprise"),
        ("level", "L3"),
    ];
    let r = t.ui_post("/accounts/new", &sid, &fixed).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let first = path_of(&location(&r)).to_string();
    let r = t.ui_post("/accounts/new", &sid, &fixed).await;
    assert_eq!(path_of(&location(&r)), first);
    assert!(location(&r).contains("flash=once"));
    assert_eq!(count(&t, "accounts").await, before + 1);
    // Another user with the same token (it is per user) creates their own.
    let (sid_b, csrf_b) = t.ui_login("repB", PASSWORD, None).await.expect("sign in");
    let r = t
        .ui_post(
            "/accounts/new",
            &sid_b,
            &[
                ("_csrf", &csrf_b),
                ("_once", &once),
                ("name", "无锡动力设备有限公司"),
                ("industry", "enterprise"),
                ("level", "L3"),
            ],
        )
        .await;
    assert!(location(&r).contains("flash=saved"), "{}", location(&r));
    assert_eq!(count(&t, "accounts").await, before + 2);
    // Tokens older than a day are forgotten as new ones are written.
    sqlx::query("UPDATE form_tokens SET created_at = '2000-01-01T00:00:00.000000Z'")
        .execute(&t.db().pool)
        .await
        .expect("age the tokens");
    let page = t.get_form("/accounts/new", &session(&sid)).await;
    let r = t
        .ui_post(
            "/accounts/new",
            &sid,
            &[
                ("_csrf", &csrf),
                ("_once", &once_in(&page.body)),
                ("name", "常州电气有限公司"),
                ("industry", "enterprise"),
                ("level", "L3"),
            ],
        )
        .await;
    assert!(location(&r).contains("flash=saved"));
    let n: i64 = sqlx::Row::try_get(
        &sqlx::query("SELECT COUNT(*) AS n FROM form_tokens").fetch_one(&t.db().pool).await.expect("n"),
        "n",
    )
    .expect("n");
    assert_eq!(n, 1, "only the fresh token is kept");
}

#[tokio::test]
async fn edits_and_deletes_say_they_were_done() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (sid, csrf) = t.ui_login("director", PASSWORD, None).await.expect("sign in");
    let c = w.contact_x;
    let page = t.get(&format!("/contacts/{c}/edit"), &session(&sid)).await;
    let v = page.body.split("name=\"version\" value=\"").nth(1).and_then(|s| s.split('"').next()).expect("version");
    let r = t
        .ui_post(
            &format!("/contacts/{c}/edit"),
            &sid,
            &[("_csrf", &csrf), ("version", v), ("name", "王志远"), ("title", "董事长")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let shown = t.get(&location(&r), &session(&sid)).await;
    assert!(shown.body.contains("class=\"flash\" role=\"status\">已保存。"), "{}", shown.body);
    let page = t.get(&format!("/contacts/{c}/delete"), &session(&sid)).await;
    let v = page.body.split("name=\"version\" value=\"").nth(1).and_then(|s| s.split('"').next()).expect("version");
    let r = t.ui_post(&format!("/contacts/{c}/delete"), &sid, &[("_csrf", &csrf), ("version", v)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let shown = t.get(&location(&r), &session(&sid)).await;
    assert!(shown.body.contains("已删除。"), "{}", shown.body);
    // A message code that is not one of ours shows nothing.
    let r = t.get("/accounts?flash=%3Cscript%3E", &session(&sid)).await;
    assert!(!r.body.contains("class=\"flash\""), "{}", r.body);
}

#[tokio::test]
async fn pages_and_api_answers_are_not_stored_but_static_assets_are() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (sid, csrf) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");
    let no_store = |r: &Resp| r.headers.get(header::CACHE_CONTROL).and_then(|v| v.to_str().ok()).map(str::to_string);
    for p in ["/accounts".to_string(), format!("/accounts/{}", w.account_x), "/profile".into()] {
        let r = t.get(&p, &session(&sid)).await;
        assert_eq!(r.status, StatusCode::OK, "{p}");
        assert_eq!(no_store(&r).as_deref(), Some("no-store"), "{p}");
    }
    let api = Auth::Bearer(w.tokens["repA"].clone());
    for p in
        ["/api/v1/accounts".to_string(), format!("/api/v1/accounts/{}", w.account_x), "/api/v1/accounts/999999".into()]
    {
        let r = t.get(&p, &api).await;
        assert_eq!(no_store(&r).as_deref(), Some("no-store"), "{p} ({})", r.status);
    }
    let r = t.get("/api/v1/accounts", &Auth::None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(no_store(&r).as_deref(), Some("no-store"));
    for p in ["/static/app.css", "/static/app.js"] {
        let r = t.get(p, &Auth::None).await;
        assert_eq!(r.status, StatusCode::OK);
        let cc = no_store(&r).unwrap_or_default();
        assert!(cc.contains("max-age") && !cc.contains("no-store"), "{p}: {cc}");
    }
    // Signed out, the account page (as Back would ask for it again) is the sign-in page.
    let r = t.ui_post("/logout", &sid, &[("_csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = t.get(&format!("/accounts/{}", w.account_x), &session(&sid)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(location(&r).starts_with("/login"));
}

/// A UI session's status on a signed-in page: 200, or 303 to the sign-in page once it ended.
async fn still_signed_in(t: &TestApp, sid: &str) -> bool {
    let r = t.get("/accounts", &session(sid)).await;
    match r.status {
        StatusCode::OK => true,
        StatusCode::SEE_OTHER => {
            assert!(location(&r).starts_with("/login"), "{}", location(&r));
            false
        }
        s => panic!("unexpected {s}"),
    }
}

#[tokio::test]
async fn changing_ones_password_asks_for_the_current_one_and_ends_the_other_sessions() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (sid, csrf) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");
    let (other, _) = t.ui_login("repA", PASSWORD, None).await.expect("another browser");
    let new = "a-new-password-1";
    // A wrong current password: refused beside that field; nothing changes.
    let r = t
        .ui_post(
            "/profile/password",
            &sid,
            &[("_csrf", &csrf), ("current_password", "not-my-password"), ("password", new), ("password_confirm", new)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("id=\"e-current_password\">当前密码不正确"), "{}", r.body);
    assert!(!r.body.contains("id=\"e-password_confirm\""));
    // The confirmation differs: refused beside it.
    let r = t
        .ui_post(
            "/profile/password",
            &sid,
            &[
                ("_csrf", &csrf),
                ("current_password", PASSWORD),
                ("password", new),
                ("password_confirm", "a-new-password-2"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("id=\"e-password_confirm\">两次输入的新密码不一致"), "{}", r.body);
    assert!(!r.body.contains("id=\"e-current_password\""));
    // Too short and no current password: both named at once.
    let r = t
        .ui_post("/profile/password", &sid, &[("_csrf", &csrf), ("password", "short"), ("password_confirm", "short")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("id=\"e-current_password\"") && r.body.contains("id=\"e-password\""), "{}", r.body);
    assert!(still_signed_in(&t, &other).await);
    t.ui_login("repA", PASSWORD, None).await.expect("the password is unchanged");

    let r = t
        .ui_post(
            "/profile/password",
            &sid,
            &[("_csrf", &csrf), ("current_password", PASSWORD), ("password", new), ("password_confirm", new)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = t.get(&location(&r), &session(&sid)).await;
    assert!(page.body.contains("密码已修改，您在其他设备上的登录已退出"), "{}", page.body);
    assert!(still_signed_in(&t, &sid).await, "this session stays");
    assert!(!still_signed_in(&t, &other).await, "the other one ended");
    t.ui_login("repA", PASSWORD, None).await.expect_err("the old password no longer works");
    let (again, _) = t.ui_login("repA", new, None).await.expect("the new one does");

    // The administrator's reset needs no current password and ends all of repA's sessions.
    let (admin, admin_csrf) = t.ui_login("admin", PASSWORD, None).await.expect("admin");
    let r = t
        .ui_post("/admin/users/repA/password", &admin, &[("_csrf", &admin_csrf), ("password", "reset-by-admin-1")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(!still_signed_in(&t, &sid).await);
    assert!(!still_signed_in(&t, &again).await);
    assert!(still_signed_in(&t, &admin).await);
    t.ui_login("repA", "reset-by-admin-1", None).await.expect("the reset password works");

    // The API: one's own password needs the current one; an administrator's reset does not.
    let rep = Auth::Bearer(w.tokens["repB"].clone());
    let path = "/api/v1/users/repB/password";
    let r = t.call(Method::POST, path, &rep, Some(json!({"password": "brand-new-pass"}))).await;
    assert_eq!(crate::common::fields(&r).get("current_password").map(String::as_str), Some("required"));
    let r = t
        .call(Method::POST, path, &rep, Some(json!({"password": "brand-new-pass", "current_password": "wrong-one-1"})))
        .await;
    assert_eq!(crate::common::fields(&r).get("current_password").map(String::as_str), Some("wrong_password"));
    let (b_session, _) = t.ui_login("repB", PASSWORD, None).await.expect("repB in a browser");
    let r = t
        .call(Method::POST, path, &rep, Some(json!({"password": "brand-new-pass", "current_password": PASSWORD})))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert!(!still_signed_in(&t, &b_session).await, "a token's change ends every session");
    let admin_api = Auth::Bearer(w.tokens["admin"].clone());
    let r = t.call(Method::POST, path, &admin_api, Some(json!({"password": "admin-set-pass-1"}))).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    t.ui_login("repB", "admin-set-pass-1", None).await.expect("set by the administrator");
}
