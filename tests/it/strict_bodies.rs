//! Strict bodies (issue 19, items 5 and 6): a body of the wrong shape, an unknown key, JSON
//! without its content type, a CSV with broken quoting, an over-long `?q=` or an unknown
//! `?sort=` is refused with an error that names the problem, and changes nothing; a PATCH that
//! changes nothing writes nothing; credit fields, values and names, never reach a rep.
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::{json, Value};

use crate::common::{fields, seed, Auth, Resp, TestApp, World, PASSWORD};

fn bearer(w: &World, user: &str) -> Auth {
    Auth::Bearer(w.tokens[user].clone())
}

fn one(r: &Resp) -> (String, String) {
    let f = fields(r);
    assert_eq!(f.len(), 1, "one field named: {}", r.body);
    f.into_iter().next().expect("a field")
}

async fn count(t: &TestApp, sql: &str) -> i64 {
    sqlx::Row::try_get(&sqlx::query(sql).fetch_one(&t.db().pool).await.expect("count"), "n").expect("n")
}

async fn audit_rows(t: &TestApp) -> i64 {
    count(t, "SELECT COUNT(*) AS n FROM audit_log").await
}

async fn unread(t: &TestApp, who: &Auth) -> Option<i64> {
    t.get("/api/v1/approvals/counts", who).await.json()["unread_notifications"].as_i64()
}

async fn tokens(t: &TestApp, who: &Auth) -> Option<usize> {
    t.get("/api/v1/me/tokens", who).await.json()["items"].as_array().map(Vec::len)
}

/// A raw request with a JSON text as body and the given content type (none when `None`).
async fn raw(
    t: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    ctype: Option<&str>,
    body: &str,
    lang: &str,
) -> Resp {
    let mut b = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::ACCEPT_LANGUAGE, lang);
    if let Some(c) = ctype {
        b = b.header(header::CONTENT_TYPE, c);
    }
    t.send(b.body(Body::from(body.to_string())).expect("request")).await
}

#[tokio::test]
async fn notification_channels_refuse_a_body_of_the_wrong_shape_and_keep_what_was_set() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let director = bearer(&w, "director");
    let set = json!({"email": "director@example.com", "notify_email": true});
    let r = t.call(Method::PUT, "/api/v1/me/channels", &director, Some(set)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let before = t.get("/api/v1/me/channels", &director).await.json();
    assert_eq!(before["notify_email"], true, "{before}");

    for (body, field, code) in [
        (json!([null, null]), "body", "expected_object"),
        (json!("hello"), "body", "expected_object"),
        (json!(null), "body", "expected_object"),
        (json!({"emial": "director@example.com", "notify_email": true}), "emial", "unknown_field"),
        (json!({"email": "director@example.com", "notify_email": "yes"}), "notify_email", "expected_boolean"),
    ] {
        let r = t.call(Method::PUT, "/api/v1/me/channels", &director, Some(body.clone())).await;
        assert_eq!(one(&r), (field.to_string(), code.to_string()), "{body}: {}", r.body);
        assert!(r.json()["error"]["message"].as_str().expect("message").contains(field), "{}", r.body);
        assert_eq!(t.get("/api/v1/me/channels", &director).await.json(), before, "{body} changed nothing");
    }
}

#[tokio::test]
async fn marking_notifications_read_with_a_bad_id_marks_none() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = bearer(&w, "repA");
    let uid: i64 = sqlx::Row::try_get(
        &sqlx::query("SELECT id FROM users WHERE username = 'repA'").fetch_one(&t.db().pool).await.expect("user"),
        "id",
    )
    .expect("id");
    let mut tx = t.db().begin().await.expect("tx");
    for n in 0..3 {
        kam::app::records::notify::send(&mut tx, &[uid], "approval_waiting", None, |_| {
            (format!("通知 {n}"), "正文".to_string())
        })
        .await
        .expect("notify");
    }
    tx.commit().await.expect("commit");
    assert_eq!(unread(&t, &rep).await, Some(3));

    for (body, field, code) in [
        (json!({"id": "abc"}), "id", "expected_integer"),
        (json!({"id": 1.5}), "id", "expected_integer"),
        (json!({"id": [1]}), "id", "expected_integer"),
        (json!({"ids": [1, 2]}), "ids", "unknown_field"),
        (json!([1]), "body", "expected_object"),
        (json!("all"), "body", "expected_object"),
    ] {
        let r = t.call(Method::POST, "/api/v1/notifications/read", &rep, Some(body.clone())).await;
        assert_eq!(one(&r), (field.to_string(), code.to_string()), "{body}: {}", r.body);
        assert_eq!(unread(&t, &rep).await, Some(3), "{body} marked nothing read");
    }
    // A well-formed body still works.
    let r = t.call(Method::POST, "/api/v1/notifications/read", &rep, Some(json!({}))).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(unread(&t, &rep).await, Some(0));
}

#[tokio::test]
async fn operations_refuse_bodies_that_are_not_objects() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = bearer(&w, "repA");
    let before = tokens(&t, &rep).await;
    for body in [json!([]), json!(["x"]), json!("x"), json!(1), json!(true), json!(null)] {
        for path in ["/api/v1/visit-plans/submit", "/api/v1/me/tokens"] {
            let r = t.call(Method::POST, path, &rep, Some(body.clone())).await;
            assert_eq!(one(&r), ("body".to_string(), "expected_object".to_string()), "{path} {body}: {}", r.body);
        }
    }
    assert_eq!(tokens(&t, &rep).await, before, "no token was made");
    let plans: i64 = sqlx::Row::try_get(
        &sqlx::query("SELECT COUNT(*) AS n FROM visit_plans WHERE status = 'submitted'")
            .fetch_one(&t.db().pool)
            .await
            .expect("count"),
        "n",
    )
    .expect("n");
    assert_eq!(plans, 0, "no plan was submitted");
}

#[tokio::test]
async fn json_bodies_need_the_json_content_type() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let token = &w.tokens["repA"];
    let before = count(&t, "SELECT COUNT(*) AS n FROM api_tokens").await;
    let body = r#"{"name": "脚本"}"#;
    for (ctype, lang, says) in [
        (None, "zh-CN", "application/json"),
        (Some("text/plain"), "zh-CN", "application/json"),
        (Some("application/x-www-form-urlencoded"), "en", "application/json"),
        (Some("application/jsonx"), "en", "application/json"),
        (Some("application/json; charset=gbk"), "en", "application/json"),
    ] {
        let r = raw(&t, Method::POST, "/api/v1/me/tokens", token, ctype, body, lang).await;
        assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{ctype:?}: {}", r.body);
        let e = &r.json()["error"];
        assert_eq!(e["code"], "unsupported_media_type", "{}", r.body);
        let msg = e["message"].as_str().expect("message");
        assert!(msg.contains(says), "{msg}");
        if lang == "en" {
            assert!(msg.contains("Content-Type"), "in English: {msg}");
        } else {
            assert!(msg.contains("请求体"), "in Chinese: {msg}");
        }
    }
    assert_eq!(count(&t, "SELECT COUNT(*) AS n FROM api_tokens").await, before, "nothing was made");
    for ctype in [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON;charset=UTF-8",
        "application/merge-patch+json",
    ] {
        let r = raw(&t, Method::POST, "/api/v1/me/tokens", token, Some(ctype), body, "zh-CN").await;
        assert_eq!(r.status, StatusCode::CREATED, "{ctype}: {}", r.body);
    }
    assert_eq!(count(&t, "SELECT COUNT(*) AS n FROM api_tokens").await, before + 4);
    // A PATCH too (the typed bodies share one reader).
    let a = t.get(&format!("/api/v1/accounts/{}", w.account_x), &bearer(&w, "repA")).await.json();
    let patch = json!({"version": a["version"], "address": "北京市海淀区"}).to_string();
    let path = format!("/api/v1/accounts/{}", w.account_x);
    let r = raw(&t, Method::PATCH, &path, token, None, &patch, "zh-CN").await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{}", r.body);
    assert_eq!(t.get(&path, &bearer(&w, "repA")).await.json()["address"], a["address"], "unchanged");
}

#[tokio::test]
async fn unknown_keys_are_refused_by_name() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = bearer(&w, "repA");
    for (method, path, body, key) in [
        (Method::POST, "/api/v1/me/tokens", json!({"name": "x", "nmae": "y"}), "nmae"),
        (Method::PUT, "/api/v1/me/time-zone", json!({"time_zone": "UTC", "tz": "UTC"}), "tz"),
        (Method::POST, "/api/v1/visit-plans/submit", json!({"note": "本周", "weak": "2026-11-30"}), "weak"),
        (Method::PUT, "/api/v1/me/money-unit", json!({"money_unit": "wan", "unit": "wan"}), "unit"),
    ] {
        let r = t.call(method, path, &rep, Some(body.clone())).await;
        assert_eq!(one(&r), (key.to_string(), "unknown_field".to_string()), "{path} {body}: {}", r.body);
        assert!(r.json()["error"]["message"].as_str().expect("message").contains(key), "{}", r.body);
    }
    let me = t.get("/api/v1/me", &rep).await.json();
    assert_eq!((me["time_zone"].as_str(), me["money_unit"].as_str()), (Some("Asia/Shanghai"), Some("yuan")), "{me}");
    // In English too.
    let r = raw(
        &t,
        Method::PUT,
        "/api/v1/me/time-zone",
        &w.tokens["repA"],
        Some("application/json"),
        r#"{"tz":"UTC"}"#,
        "en",
    )
    .await;
    assert_eq!(one(&r), ("tz".to_string(), "unknown_field".to_string()));
    assert!(r.json()["error"]["message"].as_str().expect("message").contains("not a known field"), "{}", r.body);
}

async fn import(t: &TestApp, token: &str, csv: &str) -> Resp {
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/imports/accounts")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "text/csv")
        .body(Body::from(csv.as_bytes().to_vec()))
        .expect("request");
    t.send(req).await
}

async fn account_names(t: &TestApp) -> Vec<String> {
    sqlx::query("SELECT name FROM accounts ORDER BY id")
        .fetch_all(&t.db().pool)
        .await
        .expect("names")
        .iter()
        .map(|r| sqlx::Row::try_get::<String, _>(r, "name").expect("name"))
        .collect()
}

#[tokio::test]
async fn a_csv_with_broken_quoting_is_refused_naming_row_and_column() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let token = &w.tokens["director"];
    let before = account_names(&t).await;
    for (csv, row, column, code) in [
        ("name,industry,level\n\"abc,enterprise,L3\n", 2, "name", "csv_unclosed_quote"),
        ("name,industry,level\nok,enterprise,L3\nfine,enterprise,\"L3\n", 3, "level", "csv_unclosed_quote"),
        ("name,industry,level\n\"abc\"def,enterprise,L3\n", 2, "name", "csv_text_after_quote"),
        ("名称,行业,级别\r\n好,enterprise,L3\r\n坏,\"enterprise\" ,L3\r\n", 3, "industry", "csv_text_after_quote"),
    ] {
        let r = import(&t, token, csv).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{csv:?}: {}", r.body);
        let v = r.json();
        assert_eq!(v["committed"], false, "{v}");
        let errors = v["errors"].as_array().expect("errors");
        assert_eq!(errors.len(), 1, "{v}");
        assert_eq!(
            (errors[0]["row"].as_i64(), errors[0]["column"].as_str()),
            (Some(row), Some(column)),
            "{csv:?}: {v}"
        );
        assert_eq!(errors[0]["code"], code, "{v}");
        assert!(errors[0]["message"].as_str().expect("message").contains("引号"), "{v}");
        assert_eq!(account_names(&t).await, before, "{csv:?} saved nothing");
    }
    // Quoting done right still reads: a comma and a doubled quote inside quotes, a line break.
    let r =
        import(&t, token, "name,industry,level\n\"甲, \"\"乙\"\"\",enterprise,L3\n\"丙\n丁\",enterprise,L2\n").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let after = account_names(&t).await;
    assert!(after.contains(&"甲, \"乙\"".to_string()), "{after:?}");
    assert_eq!(after.len(), before.len() + 2, "{after:?}");
}

#[tokio::test]
async fn every_list_limits_its_search_text() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let long = "长".repeat(201);
    let fine = "长".repeat(200);
    for who in ["repA", "director"] {
        for path in [
            "/api/v1/accounts",
            "/api/v1/accounts/count",
            "/api/v1/contacts",
            "/api/v1/contacts/count",
            "/api/v1/contacts/export",
            "/api/v1/opportunities",
            "/api/v1/opportunities/count",
            "/api/v1/pool",
            "/api/v1/users/search",
        ] {
            if path == "/api/v1/pool" && who == "director" {
                continue; // the pool is the salespeople's
            }
            let r = t.get(&format!("{path}?q={long}"), &bearer(&w, who)).await;
            assert_eq!(one(&r), ("q".to_string(), "too_long".to_string()), "{who} {path}: {}", r.body);
            let r = t.get(&format!("{path}?q={fine}"), &bearer(&w, who)).await;
            assert_eq!(r.status, StatusCode::OK, "{who} {path} with 200 characters: {}", r.body);
        }
    }
    // The activities' owner is a username: at most 100 characters, as documented.
    let r = t.get(&format!("/api/v1/activities?owner={}", "a".repeat(101)), &bearer(&w, "director")).await;
    assert_eq!(one(&r), ("owner".to_string(), "too_long".to_string()), "{}", r.body);
    // An empty value is absent, as the document says (allowEmptyValue).
    assert_eq!(t.get("/api/v1/contacts?q=&sort=", &bearer(&w, "repA")).await.status, StatusCode::OK);
}

#[tokio::test]
async fn every_list_refuses_an_unknown_sort() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (rep, director) = (bearer(&w, "repA"), bearer(&w, "director"));
    let x = w.account_x;
    for path in [
        "/api/v1/accounts".to_string(),
        "/api/v1/contacts".to_string(),
        format!("/api/v1/accounts/{x}/contacts"),
        "/api/v1/activities".to_string(),
        format!("/api/v1/audit?entity=account&id={x}"),
        "/api/v1/opportunities".to_string(),
        "/api/v1/users".to_string(),
        "/api/v1/org-units".to_string(),
        "/api/v1/pool".to_string(),
        "/api/v1/notifications".to_string(),
    ] {
        let sep = if path.contains('?') { '&' } else { '?' };
        let r = t.get(&format!("{path}{sep}sort=nonsense"), &rep).await;
        assert_eq!(one(&r), ("sort".to_string(), "invalid_choice".to_string()), "{path}: {}", r.body);
        let r = t.get(&path, &rep).await;
        assert_eq!(r.status, StatusCode::OK, "{path} without sort: {}", r.body);
    }
    // The orders a list offers still work.
    assert_eq!(t.get("/api/v1/accounts?sort=-updated_at", &director).await.status, StatusCode::OK);
    assert_eq!(t.get("/api/v1/opportunities?sort=amount", &director).await.status, StatusCode::OK);
}

/// A record read, PATCHed with `body` (its version added), and read again: the answer is the
/// record as it was, its version and the audit trail untouched.
async fn patch_changes_nothing(t: &TestApp, who: &Auth, path: &str, body: Value) {
    let before = t.get(path, who).await;
    assert_eq!(before.status, StatusCode::OK, "{path}: {}", before.body);
    let before = before.json();
    let rows = audit_rows(t).await;
    let mut body = body;
    body["version"] = before["version"].clone();
    let r = t.call(Method::PATCH, path, who, Some(body.clone())).await;
    assert_eq!(r.status, StatusCode::OK, "{path} {body}: {}", r.body);
    assert_eq!(r.json()["version"], before["version"], "{path} {body}: no new version");
    assert_eq!(r.json()["updated_at"], before["updated_at"], "{path} {body}");
    assert_eq!(t.get(path, who).await.json(), before, "{path} {body}: the record is as it was");
    assert_eq!(audit_rows(t).await, rows, "{path} {body}: no audit row");
    // A stale version is still a conflict, even when nothing would change.
    body["version"] = json!(before["version"].as_i64().expect("version") - 1);
    if before["version"].as_i64() > Some(1) {
        let r = t.call(Method::PATCH, path, who, Some(body)).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{path}: {}", r.body);
    }
}

#[tokio::test]
async fn a_patch_that_changes_nothing_writes_nothing() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (rep, director, admin) = (bearer(&w, "repA"), bearer(&w, "director"), bearer(&w, "admin"));
    let x = w.account_x;
    let a = t.get(&format!("/api/v1/accounts/{x}"), &rep).await.json();
    let acc = format!("/api/v1/accounts/{x}");
    patch_changes_nothing(&t, &rep, &acc, json!({"status": a["status"]})).await;
    patch_changes_nothing(&t, &rep, &acc, json!({"name": a["name"], "industry": a["industry"], "branch": "BJ"})).await;
    patch_changes_nothing(&t, &director, &acc, json!({"owner": "repA", "level": a["level"]})).await;
    patch_changes_nothing(&t, &rep, &acc, json!({})).await;

    let contact = format!("/api/v1/contacts/{}", w.contact_x);
    patch_changes_nothing(&t, &rep, &contact, json!({"title": "总经理", "name": "王志远"})).await;

    let body = json!({
        "account_id": x, "name": "三坐标测量机扩产项目", "amount": "1200000.00", "expected_close": "2031-06-30",
        "eval_need": "产线扩能", "eval_budget": "年度预算已批", "eval_timeline": "三季度下单", "eval_decision_makers": "总经理",
    });
    let r = t.call(Method::POST, "/api/v1/opportunities", &rep, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let opp = format!("/api/v1/opportunities/{}", r.json()["id"]);
    patch_changes_nothing(&t, &rep, &opp, json!({"name": "三坐标测量机扩产项目", "amount": "1200000"})).await;

    let body = json!({"account_id": x, "kind": "phone", "status": "done", "occurred_at": "2026-11-20T02:00:00Z", "outcome": "none", "summary": "电话沟通"});
    let r = t.call(Method::POST, "/api/v1/activities", &rep, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let act = format!("/api/v1/activities/{}", r.json()["id"]);
    patch_changes_nothing(&t, &rep, &act, json!({"summary": "电话沟通", "kind": "phone"})).await;

    patch_changes_nothing(
        &t,
        &admin,
        "/api/v1/users/repA",
        json!({"role": "ka_rep", "org_unit": "BJ", "manager": "manager"}),
    )
    .await;
    patch_changes_nothing(&t, &admin, "/api/v1/org-units/BJ", json!({"name": "北京分公司"})).await;

    // A real change still counts once.
    let rows = audit_rows(&t).await;
    let v = t.get(&acc, &rep).await.json()["version"].clone();
    let r = t.call(Method::PATCH, &acc, &rep, Some(json!({"version": v, "address": "北京市海淀区"}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["version"], json!(v.as_i64().expect("v") + 1));
    assert_eq!(audit_rows(&t).await, rows + 1);
}

#[tokio::test]
async fn credit_names_never_reach_a_rep_after_a_merge() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    // A second record of X's company held by repB, without credit information; X (with credit
    // grade, limit and score) is merged into it, so the survivor takes X's credit fields.
    let body = json!({"name": "北京星河精密制造（集团）", "industry": "enterprise", "region": "N", "branch": "BJ", "owner": "repB"});
    let r = t.call(Method::POST, "/api/v1/accounts", &bearer(&w, "director"), Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let d = r.json()["id"].as_i64().expect("id");
    let (manager_sid, _) = t.ui_login("manager", PASSWORD, None).await.expect("sign in");
    let manager_ui = Auth::Session { cookie: manager_sid, csrf: String::new() };
    let preview = t.get(&format!("/accounts/{d}/merge?duplicate_id={}", w.account_x), &manager_ui).await;
    assert_eq!(preview.status, StatusCode::OK);
    for hidden in ["credit_grade", "credit_limit", "credit_score", "信用等级", "信用额度", "信用评分"] {
        assert!(!preview.body.contains(hidden), "the merge page hides {hidden} from a manager");
    }
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/accounts/{d}/merge"),
            &bearer(&w, "manager"),
            Some(json!({"duplicate_id": w.account_x})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(!r.body.contains("credit_grade") && !r.body.contains("credit_score"), "{}", r.body);

    // The director sees what was filled, credit included.
    let h = t.get(&format!("/api/v1/audit?entity=account&id={d}"), &bearer(&w, "director")).await;
    assert_eq!(h.status, StatusCode::OK, "{}", h.body);
    let top = &h.json()["items"][0];
    assert_eq!(top["what"], "merge", "{top}");
    let filled = top["after"]["merge"]["filled"].as_array().expect("filled").clone();
    assert!(filled.contains(&json!("credit_grade")), "{top}");
    assert!(h.body.contains("credit_limit") && h.body.contains("credit_score"));

    // Neither rep nor manager sees a credit field's value or name, in either record's history.
    for who in ["repB", "repA", "manager"] {
        for id in [d, w.account_x] {
            let h = t.get(&format!("/api/v1/audit?entity=account&id={id}"), &bearer(&w, who)).await;
            assert_eq!(h.status, StatusCode::OK, "{who} {id}: {}", h.body);
            assert!(!h.body.contains("credit_grade"), "{who} {id}: {}", h.body);
            assert!(!h.body.contains("credit_limit"), "{who} {id}: {}", h.body);
            assert!(!h.body.contains("credit_score"), "{who} {id}: {}", h.body);
            assert!(!h.body.contains("yellow") && !h.body.contains("98765"), "{who} {id}: {}", h.body);
        }
        let h = t.get(&format!("/api/v1/audit?entity=account&id={d}"), &bearer(&w, who)).await.json();
        let filled = h["items"][0]["after"]["merge"]["filled"].as_array().expect("filled").clone();
        assert!(filled.contains(&json!("buying_power")), "{who}: other fields stay named: {h}");
        // The account's page (its history) and the audit page say the same.
        let (sid, _) = t.ui_login(who, PASSWORD, None).await.expect("sign in");
        let ui = Auth::Session { cookie: sid, csrf: String::new() };
        for page in [format!("/accounts/{d}"), format!("/audit?entity=account&id={d}")] {
            let p = t.get(&page, &ui).await;
            assert_eq!(p.status, StatusCode::OK, "{who} {page}");
            for hidden in
                ["credit_grade", "credit_limit", "credit_score", "信用等级", "信用额度", "信用评分", "yellow", "98765"]
            {
                assert!(!p.body.contains(hidden), "{who} {page} shows {hidden}");
            }
        }
    }
    // The director's page names them.
    let (sid, _) = t.ui_login("director", PASSWORD, None).await.expect("sign in");
    let p = t.get(&format!("/accounts/{d}"), &Auth::Session { cookie: sid, csrf: String::new() }).await;
    assert!(p.body.contains("信用等级"), "the director sees credit on the page");
}

/// Every operation that takes a JSON body, called as a director and as an administrator with
/// its documented example plus a key no schema names: none accepts it, and each refusal that
/// reads the body names the key.
#[tokio::test]
async fn every_operation_refuses_a_key_its_body_does_not_name() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let doc = t.get("/api/openapi.json", &Auth::None).await.json();
    let body = json!({
        "account_id": w.account_x, "name": "三坐标测量机扩产项目", "amount": "1200000.00", "expected_close": "2031-06-30",
        "eval_need": "产线扩能", "eval_budget": "年度预算已批", "eval_timeline": "三季度下单", "eval_decision_makers": "总经理",
    });
    let r = t.call(Method::POST, "/api/v1/opportunities", &bearer(&w, "director"), Some(body)).await;
    let opp = r.json()["id"].as_i64().expect("opportunity");
    let act = json!({"account_id": w.account_x, "kind": "phone", "status": "done", "occurred_at": "2026-11-20T02:00:00Z", "outcome": "none"});
    let r = t.call(Method::POST, "/api/v1/activities", &bearer(&w, "director"), Some(act)).await;
    let act = r.json()["id"].as_i64().expect("activity");
    let mut named = 0;
    let mut refusals = vec![];
    for (path, ops) in doc["paths"].as_object().expect("paths") {
        for (m, op) in ops.as_object().expect("ops") {
            let Some(content) = op["requestBody"]["content"].get("application/json") else { continue };
            let id = if path.starts_with("/api/v1/contacts") {
                w.contact_x
            } else if path.starts_with("/api/v1/opportunities") {
                opp
            } else if path.starts_with("/api/v1/activities") {
                act
            } else {
                w.account_x
            };
            let p = path
                .replace("{id}", &id.to_string())
                .replace("{username}", "repB")
                .replace("{code}", "BJ")
                .replace("{flow}", "ka_screening")
                .replace("{part}", "rad")
                .replace("{sales_type}", "ae");
            let mut body = content.get("example").cloned().unwrap_or_else(|| json!({}));
            body["zz_not_a_field"] = json!(1);
            for who in ["director", "admin"] {
                let method = Method::from_bytes(m.to_uppercase().as_bytes()).expect("method");
                let r = t.call(method, &p, &bearer(&w, who), Some(body.clone())).await;
                assert!(!r.status.is_success(), "{who}: {m} {path} accepted an unknown key: {}", r.body);
                if r.status == StatusCode::UNPROCESSABLE_ENTITY {
                    let f = fields(&r);
                    assert_eq!(
                        f.get("zz_not_a_field").map(String::as_str),
                        Some("unknown_field"),
                        "{who}: {m} {path} names the key: {}",
                        r.body
                    );
                    named += 1;
                } else {
                    refusals.push(format!("{who} {m} {path}: {}", r.status));
                }
            }
        }
    }
    assert!(named > 40, "most operations read the body ({named}); others refused first: {refusals:?}");
}
