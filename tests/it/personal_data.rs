//! Personal information (个人信息保护法): a contact's data exported for them (JSON, audited, 404
//! out of scope), a contact erased (fields blanked, kept visits show "erased contact", no
//! erased value left in the audit trail, a rep may not), and check-in locations and photos
//! deleted after the company's retention period (an old one's bytes gone, a recent one kept).
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::{json, Value};

use crate::common::{download, fields, seed, Auth, TestApp, PASSWORD};

fn session(sid: &str) -> Auth {
    Auth::Session { cookie: sid.to_string(), csrf: String::new() }
}

/// A tiny PNG (1×1), a real image by its bytes.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0D, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00, 0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00,
    0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

/// The contact's personal details, as a rep fills them in.
async fn fill_in(t: &TestApp, rep: &Auth, id: i64) -> Value {
    let c = t.get(&format!("/api/v1/contacts/{id}"), rep).await.json();
    let r = t
        .call(
            Method::PATCH,
            &format!("/api/v1/contacts/{id}"),
            rep,
            Some(json!({"version": c["version"], "phone": "13912345678", "email": "wang.zhiyuan@example.cn",
                "birthday": "1975-03-08", "interests": "高尔夫、普洱茶", "department": "总经办", "attitude": "supporter"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()
}

/// A done visit to the account, the contact met there.
async fn visit_with(t: &TestApp, rep: &Auth, account: i64, contact: i64) -> i64 {
    let r = t
        .call(
            Method::POST,
            "/api/v1/activities",
            rep,
            Some(json!({"account_id": account, "kind": "visit", "status": "done", "summary": "方案交流",
                "contacts": [{"contact_id": contact, "attitude": "supporter"}]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.json()["id"].as_i64().expect("id")
}

async fn audit_texts(t: &TestApp) -> Vec<String> {
    sqlx::query("SELECT COALESCE(before_json, '') || ' ' || COALESCE(after_json, '') AS j FROM audit_log")
        .fetch_all(&t.db().pool)
        .await
        .expect("audit")
        .iter()
        .map(|r| sqlx::Row::try_get::<String, _>(r, "j").expect("j"))
        .collect()
}

async fn count(t: &TestApp, sql: &str) -> i64 {
    sqlx::Row::try_get(&sqlx::query(sql).fetch_one(&t.db().pool).await.expect("count"), "n").expect("n")
}

#[tokio::test]
async fn a_contacts_personal_data_is_exported_for_them_audited_and_hidden_out_of_scope() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = Auth::Bearer(w.tokens["repA"].clone());
    fill_in(&t, &rep, w.contact_x).await;
    let visit = visit_with(&t, &rep, w.account_x, w.contact_x).await;

    let r = t.get(&format!("/api/v1/contacts/{}/personal-data", w.contact_x), &rep).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let disposition = r.headers.get(header::CONTENT_DISPOSITION).and_then(|v| v.to_str().ok()).unwrap_or("");
    assert!(disposition.starts_with("attachment"), "a download: {disposition}");
    let d = r.json();
    assert_eq!(d["contact"]["name"], "王志远");
    assert_eq!(d["contact"]["phone"], "13912345678");
    assert_eq!(d["contact"]["email"], "wang.zhiyuan@example.cn");
    assert_eq!(d["contact"]["account_name"], "北京星河精密制造有限公司");
    let visits: Vec<i64> =
        d["activities"].as_array().expect("activities").iter().filter_map(|a| a["id"].as_i64()).collect();
    assert_eq!(visits, vec![visit]);
    assert_eq!(d["activities"][0]["attitude"], "supporter");
    assert!(d["changes"].as_array().expect("changes").len() >= 2, "the create and the update: {}", d["changes"]);
    assert_eq!(d["exported_by"], "repA");

    // The export is recorded (who, whose), without the data.
    let n = count(
        &t,
        &format!(
            "SELECT COUNT(*) AS n FROM audit_log WHERE entity = 'contact' AND entity_id = '{}' \
             AND action = 'personal_data_export' AND actor = 'repA'",
            w.contact_x
        ),
    )
    .await;
    assert_eq!(n, 1);

    // Out of scope: as if it did not exist; and an unknown one.
    let other = t
        .get(&format!("/api/v1/contacts/{}/personal-data", w.contact_x), &Auth::Bearer(w.tokens["repC"].clone()))
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND, "{}", other.body);
    let none = t.get("/api/v1/contacts/999999/personal-data", &rep).await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);

    // The contact's page offers the same file.
    let (sid, _) = t.ui_login("repA", PASSWORD, None).await.expect("login");
    let page = t.get(&format!("/contacts/{}", w.contact_x), &session(&sid)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"personal-data-export\""), "the export link");
    assert!(!page.body.contains("id=\"erase-contact\""), "a rep is not offered the erasure");
    let (status, headers, bytes) =
        download(&t, &format!("/contacts/{}/personal-data", w.contact_x), &session(&sid)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .starts_with("application/json"));
    let file: Value = serde_json::from_slice(&bytes).expect("JSON");
    assert_eq!(file["contact"]["interests"], "高尔夫、普洱茶");
    let (sid_c, _) = t.ui_login("repC", PASSWORD, None).await.expect("login");
    let (status, _, _) = download(&t, &format!("/contacts/{}/personal-data", w.contact_x), &session(&sid_c)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_erased_contact_is_blank_its_visits_stay_and_show_erased_contact_and_the_audit_keeps_nothing() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = Auth::Bearer(w.tokens["repA"].clone());
    let manager = Auth::Bearer(w.tokens["manager"].clone());
    let c = fill_in(&t, &rep, w.contact_x).await;
    let visit = visit_with(&t, &rep, w.account_x, w.contact_x).await;
    let today = chrono::Utc::now().date_naive();
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/accounts/{}/suggestions", w.account_x),
            &rep,
            Some(json!({"channel": "phone", "category": "service", "content": "希望增加季度回访",
                "contact_id": w.contact_x, "received_on": today.to_string(),
                "reply_due": (today + chrono::Duration::days(10)).to_string()})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let suggestion = r.json()["id"].as_i64().expect("id");
    // A visit whose notes name them in free text (a 10% literal and a colleague's name too).
    let r = t
        .call(
            Method::POST,
            "/api/v1/activities",
            &rep,
            Some(json!({"account_id": w.account_x, "kind": "visit", "status": "done",
                "summary": "与王志远面谈；王志远同意试点，折扣10%", "customer_views": "王志远关注交付周期",
                "next_steps": "请李主任安排"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let noted = r.json()["id"].as_i64().expect("id");
    let d = t.get(&format!("/api/v1/contacts/{}/personal-data", w.contact_x), &rep).await.json();
    assert_eq!(d["suggestions"][0]["id"], suggestion, "the export names their suggestion");
    let version =
        t.get(&format!("/api/v1/contacts/{}", w.contact_x), &rep).await.json()["version"].as_i64().expect("v");
    assert_eq!(version, c["version"].as_i64().expect("version"), "an export changes nothing");
    let erase = format!("/api/v1/contacts/{}/erase", w.contact_x);
    assert!(audit_texts(&t).await.iter().any(|j| j.contains("13912345678")), "the trail held the phone before");

    // A rep may not; out of scope is 404; a stale version 409.
    let r = t.call(Method::POST, &erase, &rep, Some(json!({"version": version}))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r =
        t.call(Method::POST, &erase, &Auth::Bearer(w.tokens["repC"].clone()), Some(json!({"version": version}))).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = t.call(Method::POST, &erase, &manager, Some(json!({"version": version - 1}))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let r = t.call(Method::POST, &erase, &manager, Some(json!({"version": "x"}))).await;
    assert!(fields(&r).contains_key("version"));

    let r = t.call(Method::POST, &erase, &manager, Some(json!({"version": version}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let e = r.json();
    assert!(e["erased_at"].is_string(), "{e}");
    assert_eq!(e["version"], version + 1);
    for f in ["phone", "email", "birthday", "interests", "department", "attitude", "title", "gender"] {
        assert!(e[f].is_null(), "{f} blanked: {e}");
    }
    assert_ne!(e["name"], "王志远");

    // The visit stays, naming an erased contact.
    let v = t.get(&format!("/api/v1/activities/{visit}"), &rep).await.json();
    assert_eq!(v["contacts"][0]["contact_id"], w.contact_x);
    assert_eq!(v["contacts"][0]["erased"], true);
    assert_ne!(v["contacts"][0]["name"], "王志远");
    let (sid, _) = t.ui_login("manager", PASSWORD, None).await.expect("login");
    let page = t.get(&format!("/activities/{visit}"), &session(&sid)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("已删除联系人"), "the visit shows the erased contact");
    assert!(!page.body.contains("王志远"));
    let page = t.get(&format!("/contacts/{}", w.contact_x), &session(&sid)).await;
    assert!(page.body.contains("id=\"contact-erased\"") && page.body.contains("已删除联系人"));
    assert!(!page.body.contains("王志远") && !page.body.contains("13912345678") && !page.body.contains("普洱茶"));
    let page = t.get(&format!("/accounts/{}", w.account_x), &session(&sid)).await;
    assert!(page.body.contains("已删除联系人") && !page.body.contains("王志远"));
    let page = t.get(&format!("/suggestions/{suggestion}"), &session(&sid)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("已删除联系人") && page.body.contains("希望增加季度回访"), "the suggestion stays");
    // Free text naming them keeps its words, without the name.
    let v = t.get(&format!("/api/v1/activities/{noted}"), &rep).await.json();
    assert_eq!(v["summary"], "与—面谈；—同意试点，折扣10%");
    assert_eq!(v["customer_views"], "—关注交付周期");
    assert_eq!(v["next_steps"], "请李主任安排");

    // No erased value anywhere in the audit trail, the erasure's own row included.
    for j in audit_texts(&t).await {
        for gone in ["王志远", "13912345678", "wang.zhiyuan", "1975-03-08", "普洱茶", "总经办"] {
            assert!(!j.contains(gone), "the trail still holds {gone}: {j}");
        }
    }
    let n = count(
        &t,
        &format!(
            "SELECT COUNT(*) AS n FROM audit_log WHERE entity = 'contact' AND entity_id = '{}' AND action = 'erase'",
            w.contact_x
        ),
    )
    .await;
    assert_eq!(n, 1);

    // Once: neither changed nor erased again.
    let r = t.call(Method::POST, &erase, &manager, Some(json!({"version": version + 1}))).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.json()["error"]["code"], "contact_erased");
    let r = t
        .call(
            Method::PATCH,
            &format!("/api/v1/contacts/{}", w.contact_x),
            &manager,
            Some(json!({"version": version + 1, "phone": "1"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn the_erase_button_asks_first_and_erases_from_the_page() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    fill_in(&t, &Auth::Bearer(w.tokens["repA"].clone()), w.contact_x).await;
    let (sid, csrf) = t.ui_login("manager", PASSWORD, None).await.expect("login");
    let page = t.get(&format!("/contacts/{}", w.contact_x), &session(&sid)).await;
    assert!(page.body.contains("id=\"erase-form\""), "the manager is offered the erasure");
    let form = page.body.split("id=\"erase-form\"").nth(1).and_then(|s| s.split('>').next()).expect("form tag");
    assert!(form.contains("data-confirm=\""), "it asks first: {form}");
    let version = page
        .body
        .split("id=\"erase-form\"")
        .nth(1)
        .and_then(|s| s.split("name=\"version\" value=\"").nth(1))
        .and_then(|s| s.split('"').next())
        .expect("version")
        .to_string();
    let r =
        t.ui_post(&format!("/contacts/{}/erase", w.contact_x), &sid, &[("_csrf", &csrf), ("version", &version)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = t.get(&format!("/contacts/{}", w.contact_x), &session(&sid)).await;
    assert!(page.body.contains("id=\"contact-erased\""));
    assert!(!page.body.contains("id=\"erase-form\""), "erased once");
    assert!(!page.body.contains("13912345678"));
}

/// Uploads a photo to a visit through the API.
async fn upload(t: &TestApp, token: &str, id: i64, bytes: &[u8]) -> Value {
    let b = "----kamprivacyboundary";
    let mut body = Vec::new();
    body.extend(
        format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"p.png\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend(bytes);
    body.extend(format!("\r\n--{b}--\r\n").as_bytes());
    let req = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/activities/{id}/photo"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={b}"))
        .body(Body::from(body))
        .expect("req");
    let r = t.send(req).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()
}

async fn checked_in_visit(t: &TestApp, rep: &Auth, account: i64, lat: f64) -> i64 {
    let at = (chrono::Utc::now() - chrono::Duration::minutes(5)).to_rfc3339();
    let r = t
        .call(
            Method::POST,
            "/api/v1/activities",
            rep,
            Some(json!({"account_id": account, "kind": "visit", "status": "done", "summary": "现场",
                "check_in": {"latitude": lat, "longitude": 116.4, "accuracy_m": 10, "at": at}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.json()["id"].as_i64().expect("id")
}

#[tokio::test]
async fn check_in_locations_and_photos_past_the_retention_period_are_deleted_and_recent_ones_kept() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = Auth::Bearer(w.tokens["repA"].clone());
    let admin = Auth::Bearer(w.tokens["admin"].clone());

    // The setting: a year by default, the company's to change (the administrator's).
    let s = t.get("/api/v1/settings/check-in-retention", &rep).await.json();
    assert_eq!(
        (s["days"].as_i64(), s["is_default"].as_bool(), s["version"].as_i64()),
        (Some(365), Some(true), Some(0))
    );
    let r =
        t.call(Method::PUT, "/api/v1/settings/check-in-retention", &rep, Some(json!({"days": 30, "version": 0}))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = t
        .call(Method::PUT, "/api/v1/settings/check-in-retention", &admin, Some(json!({"days": 0, "version": 0})))
        .await;
    assert_eq!(fields(&r).get("days").map(String::as_str), Some("retention_days_range"));
    let r = t
        .call(Method::PUT, "/api/v1/settings/check-in-retention", &admin, Some(json!({"days": 90, "version": 0})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["days"], 90);
    assert_eq!(r.json()["is_default"], false);

    // An old visit with its own photo, a recent one, and an old one showing the recent one's photo.
    let old = checked_in_visit(&t, &rep, w.account_x, 39.9).await;
    let recent = checked_in_visit(&t, &rep, w.account_x, 39.8).await;
    let old_shared = checked_in_visit(&t, &rep, w.account_x, 39.7).await;
    let own: Vec<u8> = [PNG, &[0u8]].concat();
    let old_sha = upload(&t, &w.tokens["repA"], old, &own).await["photo"]["sha256"].as_str().expect("sha").to_string();
    let recent_sha =
        upload(&t, &w.tokens["repA"], recent, PNG).await["photo"]["sha256"].as_str().expect("sha").to_string();
    upload(&t, &w.tokens["repA"], old_shared, PNG).await;
    let long_ago = (chrono::Utc::now() - chrono::Duration::days(91)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    for id in [old, old_shared] {
        sqlx::query("UPDATE activities SET check_in_at = $1, photo_at = $1 WHERE id = $2")
            .bind(long_ago.clone())
            .bind(id)
            .execute(&t.db().pool)
            .await
            .expect("age it");
    }
    let store = t.app.settings.files();
    let photos = |sha: &str| store.path(kam::app::records::files::Area::Photos, sha);
    assert!(photos(&old_sha).exists() && photos(&recent_sha).exists());

    // The daily pass (through the scheduler), once a day.
    t.app.scheduler_pass("test", chrono::Utc::now()).await.expect("pass");
    t.app.scheduler_pass("test", chrono::Utc::now()).await.expect("second pass");

    let v = t.get(&format!("/api/v1/activities/{old}"), &rep).await.json();
    assert!(v["check_in"].is_null() && v["photo"].is_null(), "{v}");
    assert!(v["check_in_purged_at"].is_string());
    assert_eq!(v["checked_in"], true, "still counted as checked in");
    assert_eq!(t.get(&format!("/api/v1/activities/{old}/photo"), &rep).await.status, StatusCode::NOT_FOUND);
    assert!(!photos(&old_sha).exists(), "the old photo's bytes are gone");
    let v = t.get(&format!("/api/v1/activities/{old_shared}"), &rep).await.json();
    assert!(v["check_in"].is_null() && v["photo"].is_null(), "{v}");
    let v = t.get(&format!("/api/v1/activities/{recent}"), &rep).await.json();
    assert_eq!(v["check_in"]["latitude"], 39.8);
    assert_eq!(v["photo"]["sha256"], recent_sha.as_str());
    assert!(v["check_in_purged_at"].is_null());
    assert!(photos(&recent_sha).exists(), "a photo a recent visit shows is kept");
    assert_eq!(t.get(&format!("/api/v1/activities/{recent}/photo"), &rep).await.status, StatusCode::OK);

    // One audit row with the counts.
    let r = sqlx::query("SELECT after_json FROM audit_log WHERE entity = 'check_in_retention' AND action = 'purge'")
        .fetch_all(&t.db().pool)
        .await
        .expect("audit");
    assert_eq!(r.len(), 1, "once a day");
    let a: Value =
        serde_json::from_str(&sqlx::Row::try_get::<String, _>(&r[0], "after_json").expect("j")).expect("json");
    assert_eq!((a["locations"].as_i64(), a["photos"].as_i64(), a["files"].as_i64()), (Some(2), Some(2), Some(1)));
    // The old visits' locations are gone from their history too; the recent one's stays.
    let located = |id: i64| {
        let pool = t.db().pool.clone();
        async move {
            sqlx::query(
                "SELECT COALESCE(after_json, '') AS j FROM audit_log WHERE entity = 'activity' AND entity_id = $1",
            )
            .bind(id.to_string())
            .fetch_all(&pool)
            .await
            .expect("audit")
            .iter()
            .any(|r| sqlx::Row::try_get::<String, _>(r, "j").expect("j").contains("\"latitude\""))
        }
    };
    assert!(!located(old).await && !located(old_shared).await && located(recent).await);

    // The visit's page says so; the recent one's shows where.
    let (sid, _) = t.ui_login("repA", PASSWORD, None).await.expect("login");
    let page = t.get(&format!("/activities/{old}"), &session(&sid)).await;
    assert!(page.body.contains("位置和照片已按保留期限删除"), "{}", page.body);
    assert!(page.body.contains("id=\"checked-in\""));
    let page = t.get(&format!("/activities/{recent}"), &session(&sid)).await;
    assert!(!page.body.contains("id=\"check-in-purged\"") && page.body.contains("data-field=\"check_in_location\""));

    // The settings page: the administrator edits it.
    let (asid, acsrf) = t.ui_login("admin", PASSWORD, None).await.expect("login");
    let page = t.get("/settings/check-in-retention", &session(&asid)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("签到位置和照片保留期限") && page.body.contains("value=\"90\""));
    let r =
        t.ui_post("/settings/check-in-retention", &asid, &[("_csrf", &acsrf), ("version", "1"), ("days", "180")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(t.get("/api/v1/settings/check-in-retention", &rep).await.json()["days"], 180);
}

#[tokio::test]
async fn with_files_in_the_database_an_expired_photo_leaves_the_table() {
    use kam::app::records::files::Backing;
    let t = TestApp::with_settings(kam::app::Settings { storage: Backing::Database, ..Default::default() }).await;
    let w = seed(&t).await;
    let rep = Auth::Bearer(w.tokens["repA"].clone());
    let old = checked_in_visit(&t, &rep, w.account_x, 39.9).await;
    let sha = upload(&t, &w.tokens["repA"], old, PNG).await["photo"]["sha256"].as_str().expect("sha").to_string();
    let stored = |sha: String| {
        let pool = t.db().pool.clone();
        async move {
            sqlx::query("SELECT 1 AS x FROM stored_files WHERE area = 'photos' AND key = $1")
                .bind(sha)
                .fetch_optional(&pool)
                .await
                .expect("stored")
                .is_some()
        }
    };
    assert!(stored(sha.clone()).await, "kept in the database");
    sqlx::query(
        "UPDATE activities SET check_in_at = '2020-01-01T00:00:00Z', photo_at = '2020-01-01T00:00:00Z' WHERE id = $1",
    )
    .bind(old)
    .execute(&t.db().pool)
    .await
    .expect("age it");
    let p = kam::app::visits::retention::pass(t.db(), &t.app.settings.files(), chrono::Utc::now()).await.expect("pass");
    assert_eq!((p.locations, p.photos, p.files_removed), (1, 1, 1));
    assert!(!stored(sha).await, "the bytes are gone from the database");
    assert_eq!(t.get(&format!("/api/v1/activities/{old}/photo"), &rep).await.status, StatusCode::NOT_FOUND);
}
