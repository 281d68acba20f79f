//! Visit check-in (签到): a visit recorded with the browser's location (and a photo) is checked
//! in, shows ✓ in the list and its coordinates on its page; without a location it is saved
//! and not checked in; a bad latitude saves nothing; the photo is served to those who see the
//! visit and 404 to anyone else; the statistics count checked-in visits; the API round-trip.
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::json;

use crate::common::{fields, seed, Auth, Resp, TestApp, PASSWORD};

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

/// A multipart body: the text fields, then the file as `file_field` (when given).
fn multipart(fields: &[(&str, &str)], file_field: &str, file: Option<(&str, &[u8])>) -> (String, Vec<u8>) {
    let b = "----kamcheckinboundary";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend(format!("--{b}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes());
    }
    let (name, bytes) = file.unwrap_or(("", &[]));
    body.extend(
        format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"{file_field}\"; filename=\"{name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend(bytes);
    body.extend(format!("\r\n--{b}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={b}"), body)
}

/// Posts the visit form as the browser does when it carries the photo input.
async fn ui_post_multipart(t: &TestApp, path: &str, sid: &str, f: &[(&str, &str)], photo: Option<&[u8]>) -> Resp {
    let (ct, body) = multipart(f, "photo", photo.map(|p| ("现场.png", p)));
    let req = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::COOKIE, format!("kam_session={sid}"))
        .header(header::CONTENT_TYPE, ct)
        .body(Body::from(body))
        .expect("request");
    t.send(req).await
}

/// The one-time token of a new visit form for the account.
async fn once_token(t: &TestApp, sid: &str, account: i64) -> String {
    let form = t.get_form(&format!("/activities/new?account_id={account}"), &session(sid)).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains("id=\"check-in\""), "the form has the check-in block");
    assert!(form.body.contains("enctype=\"multipart/form-data\""), "posted as multipart for the photo");
    assert!(form.body.contains("capture=\"environment\""), "the photo input opens the camera");
    assert!(form.body.contains("/static/checkin.js"), "the script is loaded from a file");
    assert!(form.body.contains("id=\"check-in-noscript\""), "the no-script note");
    form.body.split("name=\"_once\" value=\"").nth(1).and_then(|s| s.split('"').next()).expect("once").to_string()
}

async fn count_activities(t: &TestApp) -> i64 {
    sqlx::Row::try_get(
        &sqlx::query("SELECT COUNT(*) AS n FROM activities").fetch_one(&t.db().pool).await.expect("count"),
        "n",
    )
    .expect("n")
}

fn id_of_location(r: &Resp) -> i64 {
    let to = r.headers.get("location").and_then(|v| v.to_str().ok()).expect("location");
    to.split('?').next().and_then(|p| p.rsplit('/').next()).and_then(|s| s.parse().ok()).expect("id")
}

#[tokio::test]
async fn a_checked_in_visit_shows_its_mark_coordinates_and_photo_to_those_who_see_it() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let x = w.account_x.to_string();
    let (sid, csrf) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");

    // With a location and a photo: saved checked in.
    let once = once_token(&t, &sid, w.account_x).await;
    let r = ui_post_multipart(
        &t,
        "/activities",
        &sid,
        &[
            ("_csrf", &csrf),
            ("_once", &once),
            ("account_id", &x),
            ("kind", "visit"),
            ("status", "done"),
            ("objective", "现场确认设备需求"),
            ("outcome", "none"),
            ("check_in.latitude", "39.904211"),
            ("check_in.longitude", "116.407395"),
            ("check_in.accuracy_m", "17.4"),
            ("check_in.at", ""),
        ],
        Some(PNG),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let id = id_of_location(&r);
    let page = t.get(&format!("/activities/{id}"), &session(&sid)).await;
    assert!(page.body.contains("id=\"checked-in\""), "{}", page.body);
    assert!(page.body.contains("✓ 已签到"));
    assert!(page.body.contains("39.904211, 116.407395"), "coordinates on the page");
    assert!(page.body.contains("± 18 米"), "the accuracy rounded up");
    assert!(page.body.contains(&format!("src=\"/activities/{id}/photo\"")), "the photo shown");

    // The same form posted again saves nothing more.
    let n = count_activities(&t).await;
    let again = ui_post_multipart(
        &t,
        "/activities",
        &sid,
        &[
            ("_csrf", &csrf),
            ("_once", &once),
            ("account_id", &x),
            ("kind", "visit"),
            ("status", "done"),
            ("outcome", "none"),
            ("check_in.latitude", "39.904211"),
            ("check_in.longitude", "116.407395"),
        ],
        Some(PNG),
    )
    .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
    assert_eq!(count_activities(&t).await, n, "the one-time token holds through multipart");

    // Without a location (permission refused): saved, not checked in.
    let once = once_token(&t, &sid, w.account_x).await;
    let r = ui_post_multipart(
        &t,
        "/activities",
        &sid,
        &[
            ("_csrf", &csrf),
            ("_once", &once),
            ("account_id", &x),
            ("kind", "visit"),
            ("status", "done"),
            ("objective", "未允许定位的拜访"),
            ("outcome", "none"),
            ("check_in.latitude", ""),
            ("check_in.longitude", ""),
            ("check_in.accuracy_m", ""),
            ("check_in.at", ""),
        ],
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let plain = id_of_location(&r);
    let page = t.get(&format!("/activities/{plain}"), &session(&sid)).await;
    assert!(page.body.contains("id=\"not-checked-in\""), "{}", page.body);
    assert!(!page.body.contains("id=\"check-in-photo\""));

    // The list marks the checked-in one, and filters by it.
    let list = t.get("/activities", &session(&sid)).await;
    let row = |id: i64| {
        let i = list.body.find(&format!("<tr data-id=\"{id}\"")).expect("row");
        list.body[i..].split("</tr>").next().unwrap_or("").to_string()
    };
    assert!(row(id).contains("class=\"checked-mark\""), "✓ in the list");
    assert!(!row(plain).contains("class=\"checked-mark\""));
    let only = t.get("/activities?checked_in=1", &session(&sid)).await;
    assert!(only.body.contains(&format!("data-id=\"{id}\"")) && !only.body.contains(&format!("data-id=\"{plain}\"")));
    let not = t.get("/activities?checked_in=0", &session(&sid)).await;
    assert!(!not.body.contains(&format!("data-id=\"{id}\"")) && not.body.contains(&format!("data-id=\"{plain}\"")));

    // A bad latitude: refused naming the field, nothing saved (not even the photo's record).
    let n = count_activities(&t).await;
    let once = once_token(&t, &sid, w.account_x).await;
    let r = ui_post_multipart(
        &t,
        "/activities",
        &sid,
        &[
            ("_csrf", &csrf),
            ("_once", &once),
            ("account_id", &x),
            ("kind", "visit"),
            ("status", "done"),
            ("objective", "纬度错误"),
            ("outcome", "none"),
            ("check_in.latitude", "91.5"),
            ("check_in.longitude", "116.4"),
        ],
        Some(PNG),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("签到纬度"), "the field named in Chinese: {}", r.body);
    assert!(r.body.contains("id=\"e-check-in\""), "beside the check-in block");
    assert!(r.body.contains("纬度错误"), "what was typed comes back");
    assert_eq!(count_activities(&t).await, n, "nothing saved");

    // Not an image: refused naming the photo.
    let once = once_token(&t, &sid, w.account_x).await;
    let r = ui_post_multipart(
        &t,
        "/activities",
        &sid,
        &[("_csrf", &csrf), ("_once", &once), ("account_id", &x), ("kind", "visit"), ("status", "done")],
        Some(b"<html>not a photo</html>"),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("现场照片") && r.body.contains("不是图片"), "{}", r.body);
    assert_eq!(count_activities(&t).await, n, "nothing saved");

    // The photo: to the owner and their manager; 404 to another rep and to nobody signed in.
    let photo = t.get(&format!("/activities/{id}/photo"), &session(&sid)).await;
    assert_eq!(photo.status, StatusCode::OK);
    assert_eq!(photo.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()), Some("image/png"));
    assert!(photo
        .headers
        .get(header::CONTENT_SECURITY_POLICY)
        .is_some_and(|v| v.to_str().unwrap_or("").contains("sandbox")));
    let (msid, _) = t.ui_login("manager", PASSWORD, None).await.expect("manager");
    assert_eq!(t.get(&format!("/activities/{id}/photo"), &session(&msid)).await.status, StatusCode::OK);
    let mpage = t.get(&format!("/activities/{id}"), &session(&msid)).await;
    assert!(mpage.body.contains("39.904211, 116.407395"), "the manager sees the location");
    let (bsid, _) = t.ui_login("repB", PASSWORD, None).await.expect("repB");
    assert_eq!(t.get(&format!("/activities/{id}/photo"), &session(&bsid)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(t.get(&format!("/activities/{id}"), &session(&bsid)).await.status, StatusCode::NOT_FOUND);
    let api = t.get(&format!("/api/v1/activities/{id}/photo"), &Auth::Bearer(w.tokens["repB"].clone())).await;
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    let api = t.get(&format!("/api/v1/activities/{id}/photo"), &Auth::Bearer(w.tokens["manager"].clone())).await;
    assert_eq!(api.status, StatusCode::OK);
    // The visit without a photo has none to serve.
    assert_eq!(t.get(&format!("/activities/{plain}/photo"), &session(&sid)).await.status, StatusCode::NOT_FOUND);

    // The edit form offers no new check-in: the location is set once.
    let edit = t.get(&format!("/activities/{id}/edit"), &session(&sid)).await;
    assert!(!edit.body.contains("id=\"check-in\""), "no check-in on a correction");
}

#[tokio::test]
async fn the_api_round_trip_sets_the_check_in_once_and_the_photo_once() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = Auth::Bearer(w.tokens["repA"].clone());
    let manager = Auth::Bearer(w.tokens["manager"].clone());
    let at = (chrono::Utc::now() - chrono::Duration::minutes(5)).to_rfc3339();
    let r = t
        .call(
            Method::POST,
            "/api/v1/activities",
            &rep,
            Some(json!({"account_id": w.account_x, "kind": "visit", "status": "done", "summary": "现场演示",
                "check_in": {"latitude": 31.230416, "longitude": 121.473701, "accuracy_m": 12.2, "at": at}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let v = r.json();
    let id = v["id"].as_i64().expect("id");
    assert_eq!(v["checked_in"], true);
    assert_eq!(v["check_in"]["latitude"], 31.230416);
    assert_eq!(v["check_in"]["longitude"], 121.473701);
    assert_eq!(v["check_in"]["accuracy_m"], 13);
    assert_eq!(v["photo"], serde_json::Value::Null);

    // Changing the location afterwards is refused; other changes keep it.
    let r = t
        .call(
            Method::PATCH,
            &format!("/api/v1/activities/{id}"),
            &rep,
            Some(json!({"version": v["version"], "check_in": {"latitude": 30.0, "longitude": 120.0}})),
        )
        .await;
    assert_eq!(fields(&r).get("check_in").map(String::as_str), Some("check_in_once"));
    let r = t
        .call(
            Method::PATCH,
            &format!("/api/v1/activities/{id}"),
            &rep,
            Some(json!({"version": v["version"], "summary": "现场演示，客户满意"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["check_in"]["latitude"], 31.230416);

    // Out of range and of the wrong type: each field named.
    let r = t
        .call(
            Method::POST,
            "/api/v1/activities",
            &rep,
            Some(json!({"account_id": w.account_x, "kind": "visit",
                "check_in": {"latitude": -95, "longitude": 200, "accuracy_m": -1}})),
        )
        .await;
    let f = fields(&r);
    assert_eq!(f.get("check_in.latitude").map(String::as_str), Some("out_of_range"));
    assert_eq!(f.get("check_in.longitude").map(String::as_str), Some("out_of_range"));
    assert_eq!(f.get("check_in.accuracy_m").map(String::as_str), Some("out_of_range"));
    let r = t
        .call(
            Method::POST,
            "/api/v1/activities",
            &rep,
            Some(json!({"account_id": w.account_x, "kind": "visit", "check_in": {"latitude": "北纬", "longitude": 1, "altitude": 3}})),
        )
        .await;
    let f = fields(&r);
    assert_eq!(f.get("check_in.latitude").map(String::as_str), Some("expected_number"));
    assert_eq!(f.get("check_in.altitude").map(String::as_str), Some("unknown_field"));
    // A phone call cannot be checked in.
    let r = t
        .call(
            Method::POST,
            "/api/v1/activities",
            &rep,
            Some(json!({"account_id": w.account_x, "kind": "phone", "check_in": {"latitude": 1, "longitude": 1}})),
        )
        .await;
    assert_eq!(fields(&r).get("check_in").map(String::as_str), Some("check_in_not_visit"));

    // A planned visit completed with a check-in: allowed once, by the visitor.
    let planned_at = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let p = t
        .call(
            Method::POST,
            "/api/v1/activities",
            &rep,
            Some(json!({"account_id": w.account_x, "kind": "visit", "status": "planned", "planned_at": planned_at})),
        )
        .await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.body);
    let p = p.json();
    let pid = p["id"].as_i64().expect("id");
    let body = json!({"version": p["version"], "status": "done", "check_in": {"latitude": 39.9, "longitude": 116.4}});
    let r = t.call(Method::PATCH, &format!("/api/v1/activities/{pid}"), &manager, Some(body.clone())).await;
    assert_eq!(fields(&r).get("check_in").map(String::as_str), Some("check_in_not_owner"));
    let r = t.call(Method::PATCH, &format!("/api/v1/activities/{pid}"), &rep, Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["checked_in"], true);

    // The photo through its own endpoint: an image only, once, by the owner.
    let upload = |tok: &str, bytes: &'static [u8]| {
        let (ct, body) = multipart(&[], "photo", Some(("p.png", bytes)));
        Request::builder()
            .method(Method::POST)
            .uri(format!("/api/v1/activities/{id}/photo"))
            .header(header::AUTHORIZATION, format!("Bearer {tok}"))
            .header(header::CONTENT_TYPE, ct)
            .body(Body::from(body))
            .expect("req")
    };
    let r = t.send(upload(&w.tokens["repA"], b"%PDF-1.4 not an image")).await;
    assert_eq!(fields(&r).get("photo").map(String::as_str), Some("photo_not_image"));
    let r = t.send(upload(&w.tokens["manager"], PNG)).await;
    assert_eq!(fields(&r).get("photo").map(String::as_str), Some("check_in_not_owner"));
    let r = t.send(upload(&w.tokens["repB"], PNG)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = t.send(upload(&w.tokens["repA"], PNG)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["photo"]["content_type"], "image/png");
    assert_eq!(r.json()["photo"]["size"], PNG.len());
    let r = t.send(upload(&w.tokens["repA"], PNG)).await;
    assert_eq!(fields(&r).get("photo").map(String::as_str), Some("photo_once"));
    let got = t.get(&format!("/api/v1/activities/{id}/photo"), &rep).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()), Some("image/png"));

    // The list filters by it; the trail records the photo.
    let l = t.get("/api/v1/activities?checked_in=1", &rep).await.json();
    let ids: Vec<i64> = l["items"].as_array().expect("items").iter().filter_map(|v| v["id"].as_i64()).collect();
    assert!(ids.contains(&id) && ids.contains(&pid) && ids.len() == 2, "{ids:?}");
    let l = t.get("/api/v1/activities?checked_in=0", &rep).await.json();
    assert!(l["items"].as_array().expect("items").is_empty());
    let n: i64 = sqlx::Row::try_get(
        &sqlx::query("SELECT COUNT(*) AS n FROM audit_log WHERE entity = 'activity' AND action = 'photo'")
            .fetch_one(&t.db().pool)
            .await
            .expect("audit"),
        "n",
    )
    .expect("n");
    assert_eq!(n, 1, "one audit row for the photo");
}

#[tokio::test]
async fn the_statistics_count_checked_in_visits_per_person() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = Auth::Bearer(w.tokens["repA"].clone());
    for check_in in [Some(json!({"latitude": 39.9, "longitude": 116.4})), None, None] {
        let mut b = json!({"account_id": w.account_x, "kind": "visit", "status": "done"});
        if let Some(c) = check_in {
            b["check_in"] = c;
        }
        let r = t.call(Method::POST, "/api/v1/activities", &rep, Some(b)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    // A call is no visit: not in the share.
    let r = t
        .call(Method::POST, "/api/v1/activities", &rep, Some(json!({"account_id": w.account_x, "kind": "phone"})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

    let manager = Auth::Bearer(w.tokens["manager"].clone());
    let st = t.get("/api/v1/reports/visits", &manager).await;
    assert_eq!(st.status, StatusCode::OK, "{}", st.body);
    let st = st.json();
    let a = st["people"].as_array().expect("people").iter().find(|p| p["username"] == "repA").expect("repA").clone();
    assert_eq!(
        (a["visits"].as_i64(), a["checked_in"].as_i64(), a["checked_in_pct"].as_i64()),
        (Some(3), Some(1), Some(33))
    );
    let team = st["teams"].as_array().expect("teams").iter().find(|g| g["key"] == "manager").expect("team").clone();
    assert_eq!((team["visits"].as_i64(), team["checked_in"].as_i64()), (Some(3), Some(1)));

    // The page and its export show the same.
    let (msid, _) = t.ui_login("manager", PASSWORD, None).await.expect("manager");
    let page = t.get("/visits/stats", &session(&msid)).await;
    let i = page.body.find("data-user=\"repA\"").expect("repA row");
    let row = page.body[i..].split("</tr>").next().unwrap_or("");
    assert!(row.contains("checked_in=1"), "links to the checked-in visits: {row}");
    assert!(row.contains(">1</a>/<a") && row.contains(">3</a>") && row.contains("33%"), "{row}");
    let csv = t.get("/visits/stats/export?format=csv", &session(&msid)).await;
    assert_eq!(csv.status, StatusCode::OK);
    let mut lines = csv.body.lines();
    let head = lines.next().unwrap_or("");
    assert!(head.contains("签到数") && head.contains("签到率"), "{head}");
    let line = lines.find(|l| l.contains("repA")).expect("repA line");
    assert!(line.ends_with(",3,1,33"), "{line}");
}

#[tokio::test]
async fn the_demo_has_checked_in_visits_in_its_statistics() {
    let t = TestApp::new().await;
    t.demo().await;
    let pool = t.db().pool.clone();
    let n = |sql: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::Row::try_get::<i64, _>(&sqlx::query(sql).fetch_one(&pool).await.expect("count"), "n").expect("n")
        }
    };
    let checked = n("SELECT COUNT(*) AS n FROM activities WHERE checked_in = 1").await;
    let visits = n("SELECT COUNT(*) AS n FROM activities WHERE status = 'done' AND kind IN ('visit', 'meeting')").await;
    assert!(checked > 0 && checked < visits, "a share checked in: {checked} of {visits}");
    let off = n("SELECT COUNT(*) AS n FROM activities WHERE checked_in = 1 AND (check_in_lat_e6 IS NULL \
                 OR check_in_lat_e6 < 20000000 OR check_in_lat_e6 > 42000000 OR check_in_at IS NULL)")
    .await;
    assert_eq!(off, 0, "every check-in has a location in a Chinese city and a time");
    // The director's statistics of last week show the share.
    let (sid, _) = t.ui_login("director", "kam-demo", None).await.expect("director");
    let last_week = (chrono::Utc::now() - chrono::Duration::days(7)).format("%Y-%m-%d").to_string();
    let page = t.get(&format!("/visits/stats?week={last_week}"), &session(&sid)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("签到/面访") && page.body.contains("checked_in=1"), "the column with its links");
}
