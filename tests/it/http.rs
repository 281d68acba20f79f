//! HTTP conventions: validation, languages, limits, duplicates, escaping, paging, OpenAPI,
//! health and metrics, the audit trail.
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::json;

use crate::common::{seed, Auth, TestApp, PASSWORD};

#[tokio::test]
async fn bad_input_names_each_field_in_the_callers_language_and_writes_nothing() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = Auth::Bearer(w.tokens["repA"].clone());
    let body = json!({"name": "", "industry": "shipping", "credit_code": "91350100M000100Y44", "buying_power": 12.5,
                      "owner": "repB", "status": "key_account", "colour": "red", "relationship": 3});
    let r = t.call(Method::POST, "/api/v1/accounts", &rep, Some(body.clone())).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let e = r.json();
    let f = &e["error"]["details"]["fields"];
    assert_eq!(f["owner"]["code"], "forbidden_field");
    assert_eq!(f["status"]["code"], "forbidden_field");
    assert_eq!(f["colour"]["code"], "unknown_field");
    assert!(e["error"]["message"].as_str().unwrap_or("").contains("您不能设置此字段"), "Chinese by default: {e}");
    let r = t
        .call(
            Method::POST,
            "/api/v1/accounts",
            &rep,
            Some(json!({"name": "某公司", "industry": "other", "version": 7})),
        )
        .await;
    assert_eq!(r.json()["error"]["details"]["fields"]["version"]["code"], "forbidden_field");
    let body = json!({"name": "", "industry": "shipping", "credit_code": "91350100M000100Y44", "buying_power": 12.5});
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/accounts")
        .header(header::AUTHORIZATION, format!("Bearer {}", w.tokens["repA"]))
        .header(header::ACCEPT_LANGUAGE, "en")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("req");
    let r = t.send(req).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let e = r.json();
    let f = &e["error"]["details"]["fields"];
    assert_eq!(f["name"]["code"], "required");
    assert_eq!(f["industry"]["code"], "invalid_choice");
    assert_eq!(f["credit_code"]["code"], "credit_code_check");
    assert_eq!(f["buying_power"]["code"], "money_must_be_string");
    assert_eq!(f["credit_code"]["message"], "has a wrong check character");
    let n = t.get("/api/v1/accounts/count", &rep).await.json()["count"].clone();
    assert_eq!(n, json!(1), "nothing was written");
}

#[tokio::test]
async fn duplicate_credit_code_points_at_the_first_account() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = Auth::Bearer(w.tokens["repA"].clone());
    let r = t
        .call(
            Method::POST,
            "/api/v1/accounts",
            &rep,
            Some(json!({"name": "招商银行北京分行", "industry": "finance", "credit_code": "91110000802100433b",
        "buying_power": "1200000.00", "sales_12m": "100000"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let a = r.json();
    assert_eq!(a["credit_code"], "91110000802100433B", "stored upper-cased");
    assert_eq!(a["owner"], "repA", "a rep's new account is their own");
    assert_eq!(a["region"], "N");
    assert_eq!(a["rad_class"], "A1");
    assert_eq!(a["buying_power"], "1200000.00");
    let r = t
        .call(
            Method::POST,
            "/api/v1/accounts",
            &rep,
            Some(json!({"name": "另一个", "industry": "finance", "credit_code": "91110000802100433B"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let e = r.json();
    assert_eq!(e["error"]["code"], "duplicate");
    assert_eq!(e["error"]["details"]["existing_id"], a["id"]);
    assert_eq!(e["error"]["details"]["field"], "credit_code");
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let big = "客".repeat(400_000);
    let r = t
        .call(
            Method::POST,
            "/api/v1/accounts",
            &Auth::Bearer(w.tokens["repA"].clone()),
            Some(json!({"name": big, "industry": "other"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.json()["error"]["code"], "payload_too_large");
    let r = t
        .call(
            Method::POST,
            "/api/v1/accounts",
            &Auth::Bearer(w.tokens["repA"].clone()),
            Some(json!({"name": "客".repeat(201), "industry": "other"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "too long is refused, never cut");
}

#[tokio::test]
async fn text_is_stored_as_given_and_escaped_when_shown() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = Auth::Bearer(w.tokens["repA"].clone());
    let name = "<script>alert(1)</script>";
    let r = t.call(Method::POST, "/api/v1/accounts", &rep, Some(json!({"name": name, "industry": "other"}))).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let id = r.json()["id"].as_i64().expect("id");
    assert_eq!(t.get(&format!("/api/v1/accounts/{id}"), &rep).await.json()["name"], name);
    let (sid, _) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");
    let page = t.get(&format!("/accounts/{id}"), &Auth::Session { cookie: sid.clone(), csrf: String::new() }).await;
    assert!(!page.body.contains(name), "raw script tag in the page");
    assert!(page.body.contains("&#60;script&#62;") || page.body.contains("&lt;script&gt;"));
    let csp = page.headers[header::CONTENT_SECURITY_POLICY].to_str().expect("csp");
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline")
    );
    assert_eq!(page.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert!(page.headers.contains_key(header::REFERRER_POLICY));
    assert!(!page.body.contains("<script>") || !page.body.contains("<script>alert"), "no inline scripts");
}

#[tokio::test]
async fn lists_page_with_cursors_and_filter() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let dir = Auth::Bearer(w.tokens["director"].clone());
    for i in 0..7 {
        let r = t
            .call(
                Method::POST,
                "/api/v1/accounts",
                &dir,
                Some(json!({"name": format!("测试客户{i:02}"), "industry": "education", "region": "N"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let mut seen = vec![];
    let mut path = "/api/v1/accounts?industry=education&limit=3".to_string();
    loop {
        let p = t.get(&path, &dir).await.json();
        for a in p["items"].as_array().expect("items") {
            seen.push(a["name"].as_str().expect("name").to_string());
        }
        match p["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/accounts?industry=education&limit=3&cursor={c}"),
            None => break,
        }
    }
    let want: Vec<String> = (0..7).map(|i| format!("测试客户{i:02}")).collect();
    assert_eq!(seen, want, "every record once, in name order");
    let p = t.get("/api/v1/accounts?sort=-name&limit=2&industry=education", &dir).await.json();
    assert_eq!(p["items"][0]["name"], "测试客户06");
    let r = t.get("/api/v1/accounts?limit=501", &dir).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = t.get("/api/v1/accounts?status=vip", &dir).await;
    assert_eq!(r.json()["error"]["details"]["fields"]["status"]["code"], "invalid_choice");
    let n = t.get("/api/v1/accounts/count?industry=education", &dir).await.json();
    assert_eq!(n["count"], 7);
}

#[tokio::test]
async fn every_change_is_audited_with_before_and_after() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = Auth::Bearer(w.tokens["repA"].clone());
    let r = t
        .call(
            Method::PATCH,
            &format!("/api/v1/accounts/{}", w.account_x),
            &rep,
            Some(json!({"version": 1, "address": "北京市海淀区中关村大街1号"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let h = t.get(&format!("/api/v1/audit?entity=account&id={}", w.account_x), &rep).await.json();
    let top = &h["items"][0];
    assert_eq!(top["who"], "repA");
    assert_eq!(top["what"], "update");
    assert_eq!(top["before"]["address"], json!(null));
    assert_eq!(top["after"]["address"], "北京市海淀区中关村大街1号");
    assert!(top["at"].as_str().is_some_and(|s| s.ends_with('Z')), "UTC");
    assert!(top["request_id"].as_str().is_some_and(|s| !s.is_empty()));
    // Another rep cannot read that history.
    let r = t
        .get(&format!("/api/v1/audit?entity=account&id={}", w.account_x), &Auth::Bearer(w.tokens["repB"].clone()))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn openapi_documents_every_api_route() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let doc = t.get("/api/openapi.json", &Auth::None).await.json();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths");
    for must in [
        "/api/v1/accounts",
        "/api/v1/accounts/{id}",
        "/api/v1/accounts/{id}/contacts",
        "/api/v1/contacts/{id}",
        "/api/v1/org-units",
        "/api/v1/users",
        "/api/v1/audit",
        "/api/v1/me/tokens",
    ] {
        assert!(paths.contains_key(must), "{must} missing");
    }
    // Every documented operation exists: an unknown route would answer 404 with an empty body.
    let admin = Auth::Bearer(w.tokens["director"].clone());
    for (path, ops) in paths {
        for (m, _) in ops.as_object().expect("ops") {
            let p = path.replace("{id}", "999999").replace("{username}", "nobody").replace("{code}", "NONE");
            let method = Method::from_bytes(m.to_uppercase().as_bytes()).expect("method");
            let body = if m == "get" || m == "delete" { None } else { Some(json!({})) };
            let r = t.call(method, &p, &admin, body).await;
            assert!(
                !(r.status == StatusCode::NOT_FOUND && r.body.is_empty()) && r.status != StatusCode::METHOD_NOT_ALLOWED,
                "{m} {path} is documented but not routed ({})",
                r.status
            );
        }
    }
    // And the reverse: no API route is added outside the documenting registrar (every file of
    // the web layer outside `src/web/api`).
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).expect("src/web") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                if !p.ends_with("api") {
                    walk(&p, out);
                }
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut files = vec![];
    walk(std::path::Path::new("src/web"), &mut files);
    assert!(files.len() > 10, "the web layer's files are found: {files:?}");
    for f in files {
        let src = std::fs::read_to_string(&f).expect("source");
        assert!(!src.contains(".route(\"/api/v1"), "{} routes an API path around the OpenAPI registrar", f.display());
    }
}

/// Every operation describes its body (when it takes one) and at least one success answer
/// with a schema or a download; none is left as a bare object. Zero exceptions.
#[tokio::test]
async fn openapi_types_every_body_and_every_success_answer() {
    let t = TestApp::new().await;
    let doc = t.get("/api/openapi.json", &Auth::None).await.json();
    let mut missing = vec![];
    let mut ops = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (m, op) in item.as_object().expect("ops") {
            ops += 1;
            let responses = op["responses"].as_object().expect("responses");
            let ok: Vec<_> = responses.iter().filter(|(k, _)| k.starts_with('2')).collect();
            let described = ok.iter().any(|(k, r)| {
                k.as_str() == "204"
                    || r["content"].as_object().is_some_and(|c| c.values().all(|v| v["schema"].is_object()))
            });
            if !described {
                missing.push(format!("{m} {path}: no typed 2xx answer"));
            }
            if let Some(b) = op.get("requestBody") {
                let bare = b["content"]
                    .as_object()
                    .expect("content")
                    .values()
                    .any(|c| c["schema"] == json!({"type": "object"}));
                if bare {
                    missing.push(format!("{m} {path}: the body is an untyped object"));
                }
            }
            for p in op["parameters"].as_array().expect("parameters") {
                assert!(p["schema"].is_object(), "{m} {path}: parameter {} has no schema", p["name"]);
            }
        }
    }
    assert!(ops >= 100, "only {ops} operations");
    assert!(
        missing.is_empty(),
        "{} of {ops} operations without a typed contract:\n{}",
        missing.len(),
        missing.join("\n")
    );
    // The screening form can be read from the document: its fields, and which are required.
    let screening = &doc["paths"]["/api/v1/accounts/{id}/screenings"]["post"]["requestBody"]["content"]
        ["application/json"]["schema"];
    let name = screening["$ref"].as_str().expect("screening body is a named schema").rsplit('/').next().unwrap();
    let s = &doc["components"]["schemas"][name];
    assert!(s["properties"].as_object().is_some_and(|p| p.len() >= 3), "screening fields: {s}");
    assert!(s["required"].as_array().is_some_and(|r| !r.is_empty()), "screening required fields: {s}");
    // Every reference resolves.
    let text = doc.to_string();
    for r in text.split("\"#/components/schemas/").skip(1) {
        let name = r.split('"').next().unwrap_or("");
        assert!(doc["components"]["schemas"][name].is_object(), "a reference to the missing schema {name}");
    }
    // Both ways to authenticate, and the error object.
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    assert_eq!(doc["components"]["securitySchemes"]["csrf"]["name"], "X-CSRF-Token");
    assert!(doc["components"]["schemas"]["Error"]["properties"]["error"].is_object());
}

#[tokio::test]
async fn health_and_metrics() {
    let t = TestApp::new().await;
    let r = t.get("/healthz", &Auth::None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["status"], json!("ok"));
    let r = t.get("/metrics", &Auth::None).await;
    let m = &r.body;
    assert!(m.contains("kam_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"2xx\"} 1"), "{m}");
    assert!(
        m.contains(
            "kam_http_request_duration_seconds_bucket{route=\"/healthz\",method=\"GET\",status=\"2xx\",le=\"10\"} 1"
        ),
        "{m}"
    );
    assert!(m.contains("kam_database_up 1"), "{m}");
    assert!(
        m.contains("kam_db_connections{state=\"idle\"}") && m.contains("kam_db_connections{state=\"in_use\"}"),
        "{m}"
    );
    assert!(m.contains("kam_outbox_deliveries{state=\"pending\"} 0"), "{m}");
    assert!(m.contains("kam_outbox_deliveries{state=\"failed\"} 0"), "{m}");
    assert!(m.contains("kam_scheduler_last_run_duration_seconds"), "{m}");
    let r = t.get("/api/v1/accounts", &Auth::None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json()["error"]["code"], "unauthenticated");
    // Counted under its route template, not the path.
    t.get("/api/v1/accounts/12345", &Auth::None).await;
    let m = t.get("/metrics", &Auth::None).await.body;
    assert!(
        m.contains("kam_http_requests_total{route=\"/api/v1/accounts/{id}\",method=\"GET\",status=\"4xx\"} 1"),
        "{m}"
    );
}

#[tokio::test]
async fn english_ui_on_the_users_choice() {
    let t = TestApp::new().await;
    seed(&t).await;
    let (sid, csrf) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");
    let ses = Auth::Session { cookie: sid.clone(), csrf: String::new() };
    assert!(t.get("/accounts", &ses).await.body.contains("新建客户"));
    let r = t.ui_post("/profile/language", &sid, &[("_csrf", &csrf), ("locale", "en")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = t.get("/accounts", &ses).await.body;
    assert!(page.contains("New account") && page.contains("lang=\"en\""));
    let r = t.get("/api/v1/accounts/nope", &ses).await;
    assert_eq!(r.json()["error"]["message"], "Not found.");
}

#[tokio::test]
async fn contacts_form_a_buying_committee() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = Auth::Bearer(w.tokens["repA"].clone());
    let path = format!("/api/v1/accounts/{}/contacts", w.account_x);
    let r = t.call(Method::POST, &path, &rep, Some(json!({"name": "李娜", "title": "采购部主任", "reports_to": w.contact_x, "decision_role": "policy_maker",
        "attitude": "supporter", "relationship": 4, "birthday": "1978-05-06"}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let li = r.json();
    assert_eq!(li["reports_to"], w.contact_x);
    let r = t
        .call(
            Method::PATCH,
            &format!("/api/v1/contacts/{}", w.contact_x),
            &rep,
            Some(json!({"version": 1, "reports_to": li["id"]})),
        )
        .await;
    assert_eq!(r.json()["error"]["details"]["fields"]["reports_to"]["code"], "reports_to_cycle");
    let r = t
        .call(
            Method::POST,
            &path,
            &rep,
            Some(json!({"name": "赵", "relationship": 9, "attitude": "friend", "birthday": "1978-13-01"})),
        )
        .await;
    let f = r.json()["error"]["details"]["fields"].clone();
    assert_eq!(f["relationship"]["code"], "relationship_range");
    assert_eq!(f["attitude"]["code"], "invalid_choice");
    assert_eq!(f["birthday"]["code"], "date_format");
    let (sid, _) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");
    let page =
        t.get(&format!("/accounts/{}", w.account_x), &Auth::Session { cookie: sid, csrf: String::new() }).await.body;
    assert!(page.contains("李娜") && page.contains("tree depth-1"), "the org chart indents reports");
}

#[test]
fn templates_obey_the_content_security_policy() {
    for e in std::fs::read_dir("templates").expect("templates") {
        let p = e.expect("entry").path();
        let src = std::fs::read_to_string(&p).expect("read");
        assert!(!src.contains(" style="), "{} has an inline style, which the CSP blocks", p.display());
        assert!(!src.contains(" on") || !regex_like_handler(&src), "{} has an inline event handler", p.display());
        for tag in src.split("<script").skip(1) {
            assert!(tag.trim_start().starts_with("src="), "{} has an inline script", p.display());
        }
        assert!(!src.contains("javascript:"), "{} uses a javascript: URL", p.display());
    }
}

fn regex_like_handler(src: &str) -> bool {
    ["onclick=", "onsubmit=", "onload=", "onchange=", "oninput="].iter().any(|h| src.contains(h))
}

#[tokio::test]
async fn exports_in_both_formats_are_scoped_and_neutralised() {
    use calamine::Reader;
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = Auth::Bearer(w.tokens["repA"].clone());
    let r = t
        .call(
            Method::POST,
            "/api/v1/accounts",
            &rep,
            Some(json!({"name": "=HYPERLINK(\"http://x\")", "industry": "other"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let csv = t.get("/api/v1/accounts/export?format=csv", &rep).await;
    assert!(csv.body.contains("'=HYPERLINK"), "{}", csv.body);
    assert!(!csv.body.contains("上海东方仪器"), "repC's account is not exported");
    let x = t.get("/api/v1/accounts/export?format=xlsx", &rep).await;
    assert_eq!(x.status, StatusCode::OK);
    assert!(x.headers[header::CONTENT_DISPOSITION].to_str().expect("cd").contains("accounts.xlsx"));
    let bytes = {
        let req = Request::builder()
            .uri("/api/v1/accounts/export?format=xlsx")
            .header(header::AUTHORIZATION, format!("Bearer {}", w.tokens["repA"]))
            .body(Body::empty())
            .expect("req");
        let res = tower::ServiceExt::oneshot(t.router.clone(), req).await.expect("res");
        http_body_util::BodyExt::collect(res.into_body()).await.expect("body").to_bytes()
    };
    let mut wb = calamine::Xlsx::new(std::io::Cursor::new(bytes.to_vec())).expect("a real XLSX");
    let sheet = wb.worksheet_range("accounts").expect("sheet");
    let cells: Vec<String> = sheet.rows().flat_map(|r| r.iter().map(|c| c.to_string())).collect();
    assert!(cells.contains(&"name".to_string()));
    assert!(cells.contains(&"北京星河精密制造有限公司".to_string()));
    assert!(cells.iter().any(|c| c.starts_with("'=HYPERLINK")));
    assert!(!cells.iter().any(|c| c.contains("上海东方仪器") || c == "credit_grade"));
    let r = t.get("/api/v1/accounts/export?format=pdf", &rep).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // The UI export speaks the user's language.
    let (sid, _) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");
    let page = t.get("/accounts/export.csv", &Auth::Session { cookie: sid, csrf: String::new() }).await;
    assert!(page.body.contains("统一社会信用代码"));
}

#[tokio::test]
async fn every_page_renders_for_the_roles_that_use_it() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (admin, _) = t.ui_login("admin", PASSWORD, None).await.expect("admin");
    let admin = Auth::Session { cookie: admin, csrf: String::new() };
    for p in [
        "/admin/users",
        "/admin/users/new",
        "/admin/users/repA/edit",
        "/admin/users/repA/password",
        "/admin/users/repA/handover",
        "/admin/users/repA/deactivate",
        "/admin/org",
        "/admin/org/new",
        "/admin/org/N/edit",
        "/audit",
        "/profile",
    ] {
        let r = t.get(p, &admin).await;
        assert_eq!(r.status, StatusCode::OK, "{p}: {}", r.body);
        assert!(r.body.contains("</html>"), "{p} is a whole page");
    }
    assert!(
        t.get("/admin/users/repA/deactivate", &admin).await.body.contains("1 个客户"),
        "the page says what repA holds"
    );
    assert_eq!(t.get("/", &admin).await.headers[header::LOCATION], "/admin/users");
    let (dir, _) = t.ui_login("director", PASSWORD, None).await.expect("director");
    let dir = Auth::Session { cookie: dir, csrf: String::new() };
    let x = w.account_x;
    for p in [
        "/accounts".to_string(),
        "/accounts/new".into(),
        format!("/accounts/{x}"),
        format!("/accounts/{x}/edit"),
        format!("/accounts/{x}/delete"),
        format!("/accounts/{x}/contacts/new"),
        "/contacts".into(),
        format!("/contacts/{}", w.contact_x),
        format!("/contacts/{}/edit", w.contact_x),
        format!("/contacts/{}/delete", w.contact_x),
        "/accounts?sort=-buying_power&industry=enterprise&q=%E6%98%9F".into(),
        "/accounts/export.xlsx".into(),
    ] {
        let r = t.get_form(&p, &dir).await;
        assert_eq!(r.status, StatusCode::OK, "{p}: {}", r.body);
    }
    let (rep, _) = t.ui_login("repA", PASSWORD, None).await.expect("rep");
    let rep = Auth::Session { cookie: rep, csrf: String::new() };
    let r = t.get("/pool", &rep).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("客户资源库"));
    assert_eq!(t.get("/pool", &dir).await.status, StatusCode::FORBIDDEN, "the director has no pool");
    // Admin pages are not for others.
    assert_eq!(t.get("/admin/users", &dir).await.status, StatusCode::FORBIDDEN);
    // Unknown records are 404 pages, not errors.
    assert_eq!(t.get("/accounts/999999", &dir).await.status, StatusCode::NOT_FOUND);
    assert_eq!(t.get("/accounts/abc", &dir).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_relationship_map_shows_attitudes_gaps_and_changes() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = Auth::Bearer(w.tokens["repA"].clone());
    // The boss decides but we have no relationship: a gap. A supporter reports to him.
    let r = t
        .call(
            Method::PATCH,
            &format!("/api/v1/contacts/{}", w.contact_x),
            &rep,
            Some(json!({"version": 1, "decision_role": "decision_maker", "attitude": "opponent"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = t.call(Method::POST, &format!("/api/v1/accounts/{}/contacts", w.account_x), &rep,
        Some(json!({"name": "陈晓", "reports_to": w.contact_x, "decision_role": "influencer", "attitude": "supporter", "relationship": 4}))).await;
    assert_eq!(r.status, StatusCode::CREATED);
    let (sid, _) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");
    let ui = Auth::Session { cookie: sid, csrf: String::new() };
    let page = t.get(&format!("/accounts/{}", w.account_x), &ui).await.body;
    let svg = page.split("<svg").nth(1).expect("an SVG map");
    assert_eq!(svg.matches("class=\"person").count(), 2);
    assert!(svg.contains(&format!("class=\"person gap\" data-contact=\"{}\"", w.contact_x)), "the boss is a gap");
    assert!(svg.contains("#fee4e2") && svg.contains("#dcfae6"), "opponent red, supporter green");
    assert!(svg.contains("●●●●○"), "relationship strength as dots");
    assert!(svg.contains("<path"), "a reporting line");
    // We win him over; the map can show what changed since a date.
    let r = t
        .call(
            Method::PATCH,
            &format!("/api/v1/contacts/{}", w.contact_x),
            &rep,
            Some(json!({"version": 2, "attitude": "supporter", "relationship": 3})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let page = t.get(&format!("/accounts/{}?since={today}", w.account_x), &ui).await.body;
    let changes = page.split("id=\"relmap-changes\"").nth(1).expect("a change list");
    assert!(changes.contains("反对") && changes.contains("支持") && changes.contains("3/5"), "{changes}");
    assert!(!page.contains("class=\"person gap\""), "no gap any more");
    let r = t.get(&format!("/accounts/{}?since=yesterday", w.account_x), &ui).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_likely_duplicate_name_warns_with_a_link() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = Auth::Bearer(w.tokens["repA"].clone());
    // X is 北京星河精密制造有限公司; these are the same company written differently.
    for name in ["北京星河精密制造有限责任公司", "北京 星河精密制造股份有限公司", "北京星河精密制造（有限公司）"]
    {
        let r =
            t.call(Method::POST, "/api/v1/accounts", &rep, Some(json!({"name": name, "industry": "enterprise"}))).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{name}: {}", r.body);
        assert_eq!(r.json()["error"]["details"]["field"], "name");
        assert_eq!(r.json()["error"]["details"]["existing_id"], w.account_x);
    }
    let r = t
        .call(
            Method::POST,
            "/api/v1/accounts",
            &rep,
            Some(json!({"name": "北京星河精密仪器有限公司", "industry": "enterprise"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "a different company is fine");
    let r = t
        .call(
            Method::POST,
            "/api/v1/accounts",
            &rep,
            Some(
                json!({"name": "北京星河精密制造有限责任公司", "industry": "enterprise", "allow_duplicate_name": true}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "created when the user insists");
    // The UI shows the warning with a link and a box to tick.
    let (sid, csrf) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");
    let r = t
        .ui_post(
            "/accounts/new",
            &sid,
            &[("_csrf", &csrf), ("name", "北京星河精密制造股份有限公司"), ("industry", "enterprise"), ("level", "L3")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains(&format!("href=\"/accounts/{}\" id=\"duplicate-link\"", w.account_x)));
    assert!(r.body.contains("name=\"allow_duplicate_name\""));
    assert!(r.body.contains("北京星河精密制造股份有限公司"), "what was typed comes back");
    let r = t
        .ui_post(
            "/accounts/new",
            &sid,
            &[
                ("_csrf", &csrf),
                ("name", "北京星河精密制造股份有限公司"),
                ("industry", "enterprise"),
                ("level", "L3"),
                ("allow_duplicate_name", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
}

fn multipart(fields: &[(&str, &str)], file_name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let b = "----kamtestboundary";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend(format!("--{b}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes());
    }
    body.extend(format!("--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: text/html\r\n\r\n").as_bytes());
    body.extend(bytes);
    body.extend(format!("\r\n--{b}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={b}"), body)
}

#[tokio::test]
async fn documents_are_versioned_scoped_and_only_downloaded() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let send = |tok: &str,
                path: String,
                fields: Vec<(&'static str, &'static str)>,
                name: &'static str,
                bytes: &'static [u8]| {
        let (ct, body) = multipart(&fields, name, bytes);
        Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {tok}"))
            .header(header::CONTENT_TYPE, ct)
            .body(Body::from(body))
            .expect("req")
    };
    let path = format!("/api/v1/accounts/{}/documents", w.account_x);
    let evil: &'static [u8] = b"<html><script>alert(1)</script></html>";
    let r = t
        .send(send(
            &w.tokens["repA"],
            path.clone(),
            vec![("title", "需求说明"), ("doc_type", "proposal")],
            "需求.html",
            evil,
        ))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let d = r.json();
    assert_eq!(d["version"], 1);
    assert_eq!(d["content_type"], "text/html", "the type is sniffed from the bytes");
    let png: &'static [u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
    let r = t.send(send(&w.tokens["repA"], path.clone(), vec![("title", "需求说明")], "v2.png", png)).await;
    assert_eq!(r.json()["version"], 2, "the same title makes a new version");
    assert_eq!(r.json()["content_type"], "image/png");
    let id = d["id"].as_i64().expect("id");
    let r = t.get(&format!("/api/v1/documents/{id}/download"), &Auth::Bearer(w.tokens["manager"].clone())).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers[header::CONTENT_DISPOSITION].to_str().expect("cd").starts_with("attachment;"));
    assert_eq!(r.headers[header::CONTENT_TYPE], "application/octet-stream", "markup is never served as markup");
    assert_eq!(r.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert!(r.headers[header::CONTENT_SECURITY_POLICY].to_str().expect("csp").contains("sandbox"));
    assert_eq!(r.body.as_bytes(), evil, "the bytes come back unchanged");
    // Out of scope: 404, for the list and the file; a finance user may read but not upload.
    assert_eq!(
        t.get(&format!("/api/v1/documents/{id}/download"), &Auth::Bearer(w.tokens["repB"].clone())).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(t.get(&path, &Auth::Bearer(w.tokens["repC"].clone())).await.status, StatusCode::NOT_FOUND);
    let list = t.get(&path, &Auth::Bearer(w.tokens["finance"].clone())).await.json();
    assert_eq!(list["items"].as_array().map(|a| a.len()), Some(2));
    let r = t.send(send(&w.tokens["finance"], path.clone(), vec![], "x.txt", b"x")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = t.send(send(&w.tokens["repA"], path.clone(), vec![], "empty.txt", b"")).await;
    assert_eq!(r.json()["error"]["details"]["fields"]["file"]["code"], "file_empty");
    // The page lists them and links the download.
    let (sid, _) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");
    let page =
        t.get(&format!("/accounts/{}", w.account_x), &Auth::Session { cookie: sid, csrf: String::new() }).await.body;
    assert!(page.contains(&format!("/documents/{id}/download")) && page.contains("需求说明") && page.contains("v2"));
}

#[tokio::test]
async fn an_svg_document_is_only_ever_downloaded() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let path = format!("/api/v1/accounts/{}/documents", w.account_x);
    let svg: &[u8] = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
    let xml_svg: &[u8] =
        b"<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"><script>alert(1)</script></svg>";
    for (title, name, bytes) in [("图纸", "图纸.svg", svg), ("图纸二", "logo.svg", xml_svg)] {
        let (ct, body) = multipart(&[("title", title)], name, bytes);
        let req = Request::builder()
            .method(Method::POST)
            .uri(&path)
            .header(header::AUTHORIZATION, format!("Bearer {}", w.tokens["repA"]))
            .header(header::CONTENT_TYPE, ct)
            .body(Body::from(body))
            .expect("req");
        let r = t.send(req).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let id = r.json()["id"].as_i64().expect("id");
        let r = t.get(&format!("/api/v1/documents/{id}/download"), &Auth::Bearer(w.tokens["repA"].clone())).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        let cd = r.headers[header::CONTENT_DISPOSITION].to_str().expect("cd");
        assert!(cd.starts_with("attachment;") && cd.contains(".svg"), "{cd}");
        assert_eq!(r.headers[header::CONTENT_TYPE], "application/octet-stream", "{name}: never served as an image");
        assert_eq!(r.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert!(r.headers[header::CONTENT_SECURITY_POLICY].to_str().expect("csp").contains("sandbox"));
        assert_eq!(r.body.as_bytes(), bytes, "the bytes come back unchanged");
    }
}
