//! Sign-in, sessions, CSRF, throttling, tokens, deactivation, credit secrecy, lost updates.
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use kam::app::Settings;
use serde_json::json;

use crate::common::{seed, set_cookie, Auth, TestApp, PASSWORD};
use crate::permissions::urlenc;

/// The planted credit values of account X: a grade, a limit and a score nobody else has.
const PLANTED: &[&str] = &["76543210.99", "987654", "credit_grade", "credit_limit", "credit_score"];

fn assert_no_credit(body: &str, what: &str) {
    for p in PLANTED {
        assert!(!body.contains(p), "{what} leaks {p}: {body}");
    }
}

#[tokio::test]
async fn planted_credit_never_reaches_a_rep() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = Auth::Bearer(w.tokens["repA"].clone());
    // Make history: the director edits X, so the audit trail holds the credit fields too.
    let dir = Auth::Bearer(w.tokens["director"].clone());
    let r = t
        .call(
            Method::PATCH,
            &format!("/api/v1/accounts/{}", w.account_x),
            &dir,
            Some(json!({"version": 1, "notes": "审计"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["credit_grade"], "yellow", "the director sees credit");
    assert_eq!(r.json()["credit_limit"], "76543210.99");

    let x = w.account_x;
    for path in [
        format!("/api/v1/accounts/{x}"),
        "/api/v1/accounts".to_string(),
        format!("/api/v1/accounts?q={}", urlenc("星河")),
        "/api/v1/accounts/export".to_string(),
        format!("/api/v1/audit?entity=account&id={x}"),
        "/api/v1/audit".to_string(),
    ] {
        let r = t.get(&path, &rep).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
        assert!(r.body.contains("星河") || path.contains("audit"), "{path} should show X to its owner");
        assert_no_credit(&r.body, &path);
    }
    let h = t.get(&format!("/api/v1/audit?entity=account&id={x}"), &rep).await.json();
    assert!(h["items"].as_array().is_some_and(|a| a.len() >= 2), "the rep sees X's history: {h}");
    // The rep's own edit answers without credit too.
    let r = t
        .call(Method::PATCH, &format!("/api/v1/accounts/{x}"), &rep, Some(json!({"version": 2, "tags": "重点"})))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_no_credit(&r.body, "PATCH answer");
    // And the pages.
    let (sid, _) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");
    let ui = Auth::Session { cookie: sid, csrf: String::new() };
    for path in [format!("/accounts/{x}"), "/accounts".into(), "/accounts/export.csv".into(), "/audit".into()] {
        let r = t.get(&path, &ui).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        for p in ["76,543,210.99", "76543210.99", "987654", "黄名单", "信用等级"] {
            assert!(!r.body.contains(p), "page {path} leaks {p}");
        }
    }
    // The director's page shows it.
    let (sid, _) = t.ui_login("director", PASSWORD, None).await.expect("sign in");
    let r = t.get(&format!("/accounts/{x}"), &Auth::Session { cookie: sid, csrf: String::new() }).await;
    assert!(r.body.contains("76,543,210.99") && r.body.contains("黄名单"));
}

#[tokio::test]
async fn stale_version_changes_nothing() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = Auth::Bearer(w.tokens["repA"].clone());
    let path = format!("/api/v1/accounts/{}", w.account_x);
    let r = t.call(Method::PATCH, &path, &rep, Some(json!({"version": 1, "short_name": "星河"}))).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["version"], 2);
    let r = t.call(Method::PATCH, &path, &rep, Some(json!({"version": 1, "short_name": "旧的"}))).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.json()["error"]["code"], "stale_version");
    let now = t.get(&path, &rep).await.json();
    assert_eq!(now["short_name"], "星河");
    assert_eq!(now["version"], 2);
    let r = t.call(Method::PATCH, &path, &rep, Some(json!({"short_name": "无版本"}))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.json()["error"]["details"]["fields"]["version"].is_object());
    // The UI form with a stale version keeps what the user typed.
    let (sid, csrf) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");
    let r = t
        .ui_post(
            &format!("/accounts/{}/edit", w.account_x),
            &sid,
            &[
                ("_csrf", &csrf),
                ("version", "1"),
                ("name", "北京星河精密制造有限公司"),
                ("industry", "enterprise"),
                ("level", "L1"),
                ("notes", "我写的内容"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("我写的内容"), "the typed text comes back");
    assert!(r.body.contains("已被他人修改"));
}

#[tokio::test]
async fn csrf_is_required_for_cookie_requests() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (sid, csrf) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");
    let path = format!("/api/v1/accounts/{}", w.account_x);
    // API with the cookie but without the header.
    let r = t
        .call(
            Method::PATCH,
            &path,
            &Auth::Session { cookie: sid.clone(), csrf: "wrong".into() },
            Some(json!({"version": 1, "tags": "x"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.json()["error"]["code"], "csrf_failed");
    // A UI form without the token.
    let r = t.ui_post(&format!("/accounts/{}/edit", w.account_x), &sid, &[("version", "1"), ("name", "篡改")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let a = t.get(&path, &Auth::Bearer(w.tokens["repA"].clone())).await.json();
    assert_eq!(a["version"], 1, "nothing changed");
    // With the token both work.
    let r = t
        .call(
            Method::PATCH,
            &path,
            &Auth::Session { cookie: sid.clone(), csrf: csrf.clone() },
            Some(json!({"version": 1, "tags": "x"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // Sign-in itself needs the double-submit token.
    let req = Request::builder()
        .method(Method::POST)
        .uri("/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("username=repA&password={PASSWORD}")))
        .expect("req");
    let r = t.send(req).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(set_cookie(&r.headers, "kam_session").is_none());
}

#[tokio::test]
async fn sign_in_rotates_the_session_and_sign_out_ends_it() {
    let t = TestApp::new().await;
    seed(&t).await;
    let (first, _) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");
    let (second, csrf2) = t.ui_login("repA", PASSWORD, Some(&first)).await.expect("sign in again");
    assert_ne!(first, second, "a new session id at sign-in");
    let old = Auth::Session { cookie: first, csrf: String::new() };
    assert_eq!(t.get("/api/v1/me", &old).await.status, StatusCode::UNAUTHORIZED, "the old id is dead");
    let new = Auth::Session { cookie: second.clone(), csrf: String::new() };
    assert_eq!(t.get("/api/v1/me", &new).await.status, StatusCode::OK);
    let page = t.get("/login", &Auth::None).await;
    assert!(page
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .all(|c| c.to_str().unwrap_or("").contains("HttpOnly") || c.to_str().unwrap_or("").starts_with("kam_lang")));
    let r = t.ui_post("/logout", &second, &[("_csrf", &csrf2)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(t.get("/api/v1/me", &new).await.status, StatusCode::UNAUTHORIZED, "signed out on the server");
}

#[tokio::test]
async fn idle_sessions_expire() {
    let t = TestApp::new().await;
    seed(&t).await;
    let (sid, _) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");
    let long_ago = kam::db::ts(chrono::Utc::now() - chrono::Duration::minutes(31));
    sqlx::query("UPDATE sessions SET last_seen_at = $1").bind(long_ago).execute(&t.db().pool).await.expect("age");
    let r = t.get("/accounts", &Auth::Session { cookie: sid, csrf: String::new() }).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "idle 31 minutes: back to sign-in");
    assert!(r.headers[header::LOCATION].to_str().unwrap_or("").starts_with("/login"));
}

#[tokio::test]
async fn failed_sign_ins_are_throttled_per_account() {
    let t = TestApp::with_settings(Settings { max_failed_logins_per_hour: 5, ..Settings::default() }).await;
    seed(&t).await;
    for _ in 0..5 {
        let r = t.ui_login("repA", "wrong-password", None).await.expect_err("wrong password");
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let r = t.ui_login("repA", PASSWORD, None).await.expect_err("throttled even with the right password");
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let retry: i64 = r.headers[header::RETRY_AFTER].to_str().expect("header").parse().expect("seconds");
    assert!((1..=3600).contains(&retry), "Retry-After {retry}");
    // Another account is not locked.
    t.ui_login("repB", PASSWORD, None).await.expect("repB signs in");
}

#[tokio::test]
async fn the_default_limit_is_one_hundred_failures() {
    let t = TestApp::new().await;
    seed(&t).await;
    assert_eq!(t.app.settings.max_failed_logins_per_hour, 100);
    let stamp = kam::db::now();
    for _ in 0..99 {
        sqlx::query("INSERT INTO login_failures (username, at) VALUES ('repA', $1)")
            .bind(stamp.clone())
            .execute(&t.db().pool)
            .await
            .expect("insert");
    }
    t.ui_login("repA", "wrong", None).await.expect_err("the 100th failure still answers 401");
    let r = t.ui_login("repA", PASSWORD, None).await.expect_err("the 101st attempt is refused");
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn revoked_tokens_and_deactivated_users_stop_at_once() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (sid, csrf) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");
    let ses = Auth::Session { cookie: sid.clone(), csrf: csrf.clone() };
    let r = t.call(Method::POST, "/api/v1/me/tokens", &ses, Some(json!({"name": "脚本"}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let tok = r.json()["token"].as_str().expect("token").to_string();
    let id = r.json()["id"].as_i64().expect("id");
    let bearer = Auth::Bearer(tok.clone());
    assert_eq!(t.get("/api/v1/accounts", &bearer).await.status, StatusCode::OK);
    let listed = t.get("/api/v1/me/tokens", &bearer).await.body;
    assert!(!listed.contains(&tok), "the secret is never shown again");
    let stored: String = sqlx::Row::try_get(
        &sqlx::query("SELECT token_hash FROM api_tokens WHERE id = $1")
            .bind(id)
            .fetch_one(&t.db().pool)
            .await
            .expect("row"),
        "token_hash",
    )
    .expect("hash");
    assert_ne!(stored, tok, "only a hash is stored");
    let r = t.call(Method::DELETE, &format!("/api/v1/me/tokens/{id}"), &ses, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(t.get("/api/v1/accounts", &bearer).await.status, StatusCode::UNAUTHORIZED);

    // Deactivation ends sessions and tokens.
    let other = Auth::Bearer(w.tokens["repA"].clone());
    assert_eq!(t.get("/api/v1/me", &other).await.status, StatusCode::OK);
    let admin = Auth::Bearer(w.tokens["admin"].clone());
    let r = t.call(Method::POST, "/api/v1/users/repA/deactivate", &admin, None).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "repA still holds an account");
    assert_eq!(r.json()["error"]["details"]["fields"]["successor"]["code"], "successor_required");
    assert_eq!(t.get("/api/v1/me", &other).await.status, StatusCode::OK, "nothing happened");
    let r = t.call(Method::POST, "/api/v1/users/repA/deactivate", &admin, Some(json!({"successor": "repB"}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["active"], false);
    assert_eq!(t.get("/api/v1/me", &other).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(t.get("/api/v1/me", &ses).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(t.get("/accounts", &ses).await.status, StatusCode::SEE_OTHER);
    t.ui_login("repA", PASSWORD, None).await.expect_err("cannot sign in");
    // Only an administrator deactivates.
    let r =
        t.call(Method::POST, "/api/v1/users/repB/deactivate", &Auth::Bearer(w.tokens["director"].clone()), None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn two_server_processes_act_as_one_system() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let other = t.second_process().await;
    let (sid, csrf) = t.ui_login("repA", PASSWORD, None).await.expect("sign in on the first");
    // The session made by one process works on the other, CSRF token included.
    let req = Request::builder()
        .method(Method::PATCH)
        .uri(format!("/api/v1/accounts/{}", w.account_x))
        .header(header::COOKIE, format!("kam_session={sid}"))
        .header("x-csrf-token", csrf.clone())
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({"version": 1, "tags": "跨进程"}).to_string()))
        .expect("req");
    let res = tower::ServiceExt::oneshot(other.clone(), req).await.expect("answer");
    assert_eq!(res.status(), StatusCode::OK);
    // Signing out on the first ends it on the second.
    t.ui_post("/logout", &sid, &[("_csrf", &csrf)]).await;
    let req = Request::builder()
        .uri("/api/v1/me")
        .header(header::COOKIE, format!("kam_session={sid}"))
        .body(Body::empty())
        .expect("req");
    let res = tower::ServiceExt::oneshot(other, req).await.expect("answer");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn only_an_administrator_resets_another_users_password() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let admin = Auth::Bearer(w.tokens["admin"].clone());
    let rep = Auth::Bearer(w.tokens["repA"].clone());
    let r = t.call(Method::POST, "/api/v1/users/repB/password", &rep, Some(json!({"password": "taken-over-1"}))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = t.call(Method::POST, "/api/v1/users/repB/password", &admin, Some(json!({"password": "short"}))).await;
    assert_eq!(r.json()["error"]["details"]["fields"]["password"]["code"], "password_too_short");
    let r =
        t.call(Method::POST, "/api/v1/users/repB/password", &admin, Some(json!({"password": "brand-new-pass"}))).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    t.ui_login("repB", PASSWORD, None).await.expect_err("the old password no longer works");
    t.ui_login("repB", "brand-new-pass", None).await.expect("the new one does");
}

#[tokio::test]
async fn a_leaving_rep_hands_everything_over_in_one_step() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let admin = Auth::Bearer(w.tokens["admin"].clone());
    let x = format!("/api/v1/accounts/{}", w.account_x);
    let before = t.get(&x, &Auth::Bearer(w.tokens["director"].clone())).await.json();
    let r = t
        .call(
            Method::POST,
            "/api/v1/users/repA/handover",
            &Auth::Bearer(w.tokens["manager"].clone()),
            Some(json!({"to": "repC"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "administrators only");
    let r = t.call(Method::POST, "/api/v1/users/repA/handover", &admin, Some(json!({"to": "repA"}))).await;
    assert_eq!(r.json()["error"]["details"]["fields"]["successor"]["code"], "successor_same");
    let r = t.call(Method::POST, "/api/v1/users/repA/handover", &admin, Some(json!({"to": "repC"}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["accounts"], 1);
    let after = t.get(&x, &Auth::Bearer(w.tokens["repC"].clone())).await;
    assert_eq!(after.status, StatusCode::OK, "the successor sees the account");
    assert_eq!(after.json()["owner"], "repC");
    assert_eq!(after.json()["version"], before["version"].as_i64().unwrap_or(0) + 1);
    assert_eq!(t.get(&x, &Auth::Bearer(w.tokens["repA"].clone())).await.status, StatusCode::NOT_FOUND);
    assert!(
        t.get("/api/v1/contacts", &Auth::Bearer(w.tokens["repC"].clone())).await.body.contains("王志远"),
        "contacts follow"
    );
    let h = t.get(&format!("/api/v1/audit?entity=account&id={}", w.account_x), &admin).await.json();
    assert_eq!(h["items"][0]["what"], "hand_over");
    assert_eq!(h["items"][0]["before"]["owner"], "repA");
    assert_eq!(h["items"][0]["after"]["owner"], "repC");
    // repA now holds nothing and can leave without a successor.
    let r = t.call(Method::POST, "/api/v1/users/repA/deactivate", &admin, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}
