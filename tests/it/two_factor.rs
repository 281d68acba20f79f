//! Two-factor sign-in (issue 26 item 2): a manager whose role requires it cannot use the
//! session before the code; enrolment with the QR code's secret and recovery codes; a code is
//! good once; a recovery code once; API tokens unaffected; the administrator's reset.
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use kam::app::people::two_factor::code_at;
use serde_json::json;

use crate::common::*;

/// Signs in through the form; answers the session cookie and where the browser is sent.
async fn sign_in(t: &TestApp, username: &str) -> (String, String) {
    let page = t.get("/login", &Auth::None).await;
    let pre = set_cookie(&page.headers, "kam_login_csrf").expect("login csrf cookie");
    let form = serde_urlencoded::to_string([
        ("_csrf", pre.as_str()),
        ("username", username),
        ("password", PASSWORD),
        ("next", "/accounts"),
    ])
    .expect("form");
    let req = Request::builder()
        .method(Method::POST)
        .uri("/login")
        .header(header::COOKIE, format!("kam_login_csrf={pre}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form))
        .expect("request");
    let res = t.send(req).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.body);
    let sid = set_cookie(&res.headers, "kam_session").expect("session cookie");
    let to = res.headers[header::LOCATION].to_str().expect("location").to_string();
    (sid, to)
}

fn between<'a>(s: &'a str, a: &str, b: &str) -> &'a str {
    s.split(a).nth(1).and_then(|r| r.split(b).next()).unwrap_or_else(|| panic!("{a} … {b} in {s}"))
}

fn now() -> u64 {
    chrono::Utc::now().timestamp() as u64
}

#[tokio::test]
async fn a_manager_with_two_factor_required_cannot_use_the_session_before_the_code() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let admin = Auth::Bearer(w.tokens["admin"].clone());
    let manager_token = Auth::Bearer(w.tokens["manager"].clone());
    // The company requires it of KA managers (none by default).
    let st = t.get("/api/v1/settings/two-factor", &admin).await.json();
    assert_eq!((st["roles"].clone(), st["is_default"].clone()), (json!([]), json!(true)));
    let r = t
        .call(Method::PUT, "/api/v1/settings/two-factor", &admin, Some(json!({"roles": ["nobody"], "version": 0})))
        .await;
    assert_eq!(r.json()["error"]["details"]["fields"]["roles"]["code"], "invalid_choice");
    let r = t
        .call(Method::PUT, "/api/v1/settings/two-factor", &manager_token, Some(json!({"roles": [], "version": 0})))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = t
        .call(Method::PUT, "/api/v1/settings/two-factor", &admin, Some(json!({"roles": ["ka_manager"], "version": 0})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // The password is right, but the session is good for nothing until enrolment.
    let (sid, to) = sign_in(&t, "manager").await;
    assert!(to.starts_with("/login/two-factor/enrol"), "{to}");
    let cookie = Auth::Session { cookie: sid.clone(), csrf: String::new() };
    assert_eq!(t.get("/api/v1/me", &cookie).await.status, StatusCode::UNAUTHORIZED);
    let home = t.get("/accounts", &cookie).await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    assert!(home.headers[header::LOCATION].to_str().expect("loc").starts_with("/login"));
    // The token the manager made earlier is its own credential: unaffected.
    assert_eq!(t.get("/api/v1/me", &manager_token).await.status, StatusCode::OK);

    let page = t.get(&to, &cookie).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<svg"), "the QR code is drawn");
    let secret = between(&page.body, "id=\"two-factor-secret\">", "<").to_string();
    let csrf = between(&page.body, "name=\"_csrf\" value=\"", "\"").to_string();
    let wrong = if code_at(&secret, now()).expect("code") == "000000" { "111111" } else { "000000" };
    let r =
        t.ui_post("/login/two-factor/enrol", &sid, &[("_csrf", &csrf), ("otp", wrong), ("next", "/accounts")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("验证码不正确"), "{}", r.body);
    assert_eq!(t.get("/api/v1/me", &cookie).await.status, StatusCode::UNAUTHORIZED, "still not usable");
    let code = code_at(&secret, now()).expect("code");
    let r =
        t.ui_post("/login/two-factor/enrol", &sid, &[("_csrf", &csrf), ("otp", &code), ("next", "/accounts")]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let codes: Vec<String> =
        r.body.split("<li><code>").skip(1).map(|s| s.split('<').next().unwrap_or("").to_string()).collect();
    assert_eq!(codes.len(), 10, "ten recovery codes, shown once");
    let me = t.get("/api/v1/me", &cookie).await;
    assert_eq!(me.status, StatusCode::OK, "usable after enrolment");
    let mine = t.get("/api/v1/me/two-factor", &cookie).await.json();
    assert_eq!((mine["enabled"].clone(), mine["required"].clone()), (json!(true), json!(true)));
    assert_eq!(mine["recovery_codes_left"], 10);

    // Next sign-in: the code is asked for; the one used at enrolment is not good again.
    let (sid, to) = sign_in(&t, "manager").await;
    assert!(to.starts_with("/login/two-factor?"), "{to}");
    let cookie = Auth::Session { cookie: sid.clone(), csrf: String::new() };
    assert_eq!(t.get("/api/v1/me", &cookie).await.status, StatusCode::UNAUTHORIZED);
    let page = t.get(&to, &cookie).await;
    let csrf = between(&page.body, "name=\"_csrf\" value=\"", "\"").to_string();
    let r = t.ui_post("/login/two-factor", &sid, &[("_csrf", &csrf), ("otp", &code), ("next", "/accounts")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "a code is good once");
    let next_code = code_at(&secret, now() + 30).expect("code");
    let r = t.ui_post("/login/two-factor", &sid, &[("_csrf", &csrf), ("otp", &next_code), ("next", "/accounts")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.headers[header::LOCATION], "/accounts");
    assert_eq!(t.get("/api/v1/me", &cookie).await.status, StatusCode::OK);

    // A recovery code signs in once.
    for (round, expect) in [(1, StatusCode::SEE_OTHER), (2, StatusCode::UNPROCESSABLE_ENTITY)] {
        let (sid, to) = sign_in(&t, "manager").await;
        let page = t.get(&to, &Auth::Session { cookie: sid.clone(), csrf: String::new() }).await;
        let csrf = between(&page.body, "name=\"_csrf\" value=\"", "\"").to_string();
        let r = t.ui_post("/login/two-factor", &sid, &[("_csrf", &csrf), ("otp", &codes[0]), ("next", "/")]).await;
        assert_eq!(r.status, expect, "recovery code, round {round}");
    }
    let mine = t.get("/api/v1/me/two-factor", &manager_token).await.json();
    assert_eq!(mine["recovery_codes_left"], 9);

    // Required for the role: it cannot be turned off; the administrator can clear it.
    let (sid, csrf) = {
        let (sid, to) = sign_in(&t, "manager").await;
        let page = t.get(&to, &Auth::Session { cookie: sid.clone(), csrf: String::new() }).await;
        let csrf = between(&page.body, "name=\"_csrf\" value=\"", "\"").to_string();
        let r = t.ui_post("/login/two-factor", &sid, &[("_csrf", &csrf), ("otp", &codes[1]), ("next", "/")]).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let page = t.get("/profile/two-factor", &Auth::Session { cookie: sid.clone(), csrf: String::new() }).await;
        assert!(page.body.contains("id=\"two-factor-status\""), "{}", page.body);
        assert!(!page.body.contains("id=\"two-factor-disable\""), "no turning off where required");
        (sid.clone(), between(&page.body, "name=\"_csrf\" value=\"", "\"").to_string())
    };
    let r = t.ui_post("/profile/two-factor/disable", &sid, &[("_csrf", &csrf), ("otp", "123456")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = t.call(Method::POST, "/api/v1/users/manager/two-factor/reset", &admin, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(
        t.get("/api/v1/me", &Auth::Session { cookie: sid, csrf: String::new() }).await.status,
        StatusCode::UNAUTHORIZED,
        "the reset ends the user's sessions"
    );
    let (_, to) = sign_in(&t, "manager").await;
    assert!(to.starts_with("/login/two-factor/enrol"), "required again from the start: {to}");

    // Others are not asked; the trail names the steps.
    let (_, to) = sign_in(&t, "repA").await;
    assert_eq!(to, "/accounts");
    let trail = t.get("/api/v1/audit?entity=user", &admin).await.body;
    assert!(trail.contains("two_factor_on") && trail.contains("two_factor_reset"), "{trail}");
}

#[tokio::test]
async fn a_user_sets_up_and_turns_off_two_factor_through_the_api() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = Auth::Bearer(w.tokens["repA"].clone());
    // Not confirmed yet: asked again, the same secret; its QR code and address name the user.
    let e = t.call(Method::POST, "/api/v1/me/two-factor/enrolment", &rep, None).await;
    assert_eq!(e.status, StatusCode::OK, "{}", e.body);
    let e = e.json();
    let secret = e["secret"].as_str().expect("secret").to_string();
    assert!(e["otpauth_url"].as_str().unwrap().starts_with("otpauth://totp/"), "{e}");
    assert!(e["otpauth_url"].as_str().unwrap().contains(&format!("secret={secret}")), "{e}");
    assert!(e["qr_svg"].as_str().unwrap().contains("<svg"), "{e}");
    let again = t.call(Method::POST, "/api/v1/me/two-factor/enrolment", &rep, None).await.json();
    assert_eq!(again["secret"], secret.as_str());
    assert_eq!(t.get("/api/v1/me/two-factor", &rep).await.json()["enabled"], false);

    // A wrong code names the field and turns nothing on; the right one gives ten recovery codes.
    let r = t.call(Method::POST, "/api/v1/me/two-factor/confirm", &rep, Some(json!({"otp": "000000x"}))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["error"]["details"]["fields"]["otp"]["code"], "two_factor_code_wrong");
    assert_eq!(t.get("/api/v1/me/two-factor", &rep).await.json()["enabled"], false);
    let first = code_at(&secret, now() - 30).unwrap();
    let r = t.call(Method::POST, "/api/v1/me/two-factor/confirm", &rep, Some(json!({"otp": first}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let codes = r.json()["recovery_codes"].as_array().expect("codes").clone();
    assert_eq!(codes.len(), 10);
    let mine = t.get("/api/v1/me/two-factor", &rep).await.json();
    assert_eq!((mine["enabled"].clone(), mine["recovery_codes_left"].clone()), (json!(true), json!(10)));
    // The token still works without a code; a second enrolment is refused while it is on.
    let r = t.call(Method::POST, "/api/v1/me/two-factor/enrolment", &rep, None).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(r.json()["error"]["code"], "two_factor_enabled");
    // The sign-in form now asks for the code.
    let (_, to) = sign_in(&t, "repA").await;
    assert!(to.starts_with("/login/two-factor?"), "{to}");

    // New recovery codes: the used code is refused, a fresh one replaces all ten.
    let r = t.call(Method::POST, "/api/v1/me/two-factor/recovery-codes", &rep, Some(json!({"otp": first}))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "a code is good once: {}", r.body);
    let r = t
        .call(
            Method::POST,
            "/api/v1/me/two-factor/recovery-codes",
            &rep,
            Some(json!({"otp": code_at(&secret, now()).unwrap()})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let renewed = r.json()["recovery_codes"].as_array().expect("codes").clone();
    assert_eq!(renewed.len(), 10);
    assert!(renewed.iter().all(|c| !codes.contains(c)), "the old codes end");

    // Off, after a current code: the password alone signs in again; the trail names each step.
    let r = t.call(Method::POST, "/api/v1/me/two-factor/disable", &rep, Some(json!({"otp": "111111"}))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = t
        .call(
            Method::POST,
            "/api/v1/me/two-factor/disable",
            &rep,
            Some(json!({"otp": code_at(&secret, now() + 30).unwrap()})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(t.get("/api/v1/me/two-factor", &rep).await.json()["enabled"], false);
    let (_, to) = sign_in(&t, "repA").await;
    assert_eq!(to, "/accounts");
    let admin = Auth::Bearer(w.tokens["admin"].clone());
    let trail = t.get("/api/v1/audit?entity=user", &admin).await.body;
    for action in ["two_factor_on", "recovery_codes_renewed", "two_factor_off"] {
        assert!(trail.contains(action), "{action}: {trail}");
    }
}
