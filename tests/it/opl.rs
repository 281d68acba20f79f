//! The open-points list (issue 24 item 6): an item raised by hand is led by the account's KA
//! manager and told to them, falls due for review two weeks later, the review records progress
//! and sets the next one; scope as the account; the monthly report counts it.
use axum::http::{Method, StatusCode};
use serde_json::json;

use super::common::{seed, Auth, TestApp, World};

fn bearer(w: &World, user: &str) -> Auth {
    Auth::Bearer(w.tokens[user].clone())
}

#[tokio::test]
async fn an_open_point_is_led_by_the_ka_manager_and_reviewed_every_two_weeks() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let r = t
        .call(
            Method::POST,
            "/api/v1/opl",
            &bearer(&w, "repA"),
            Some(json!({"account_id": w.account_x, "title": "到货包装破损"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let v = r.json();
    let id = v["item"]["id"].as_i64().unwrap();
    assert_eq!(v["item"]["owner"], "manager", "the owner's manager leads it when the account has no KA manager");
    assert_eq!(v["item"]["status"], "open");
    // Told.
    let n: i64 = sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM notifications n JOIN users u ON u.id = n.user_id WHERE u.username = 'manager' AND n.kind = 'opl_raised'",
    )
    .fetch_one(&t.db().pool)
    .await
    .unwrap();
    assert_eq!(n, 1);
    // Not due yet.
    let due = t.get("/api/v1/opl/reviews-due", &bearer(&w, "manager")).await.json();
    assert_eq!(due["items"].as_array().unwrap().len(), 0);
    // Two weeks later it is.
    kam::app::clock::shift_for_tests(chrono::Duration::days(15));
    let due = t.get("/api/v1/opl/reviews-due", &bearer(&w, "manager")).await.json();
    assert_eq!(due["items"][0]["id"], id, "{due}");
    // A rep who does not lead it may not review it.
    let body = json!({"progress": "已联系物流商", "status": "in_progress", "version": 1});
    let r = t.call(Method::POST, &format!("/api/v1/opl/{id}/reviews"), &bearer(&w, "repA"), Some(body.clone())).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Bad input names the field; nothing saved.
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/opl/{id}/reviews"),
            &bearer(&w, "manager"),
            Some(json!({"progress": "", "status": "done", "version": 1})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let f = &r.json()["error"]["details"]["fields"];
    assert!(f.get("progress").is_some() && f.get("status").is_some(), "{f}");
    let r =
        t.call(Method::POST, &format!("/api/v1/opl/{id}/reviews"), &bearer(&w, "manager"), Some(body.clone())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v = r.json();
    assert_eq!(v["item"]["status"], "in_progress");
    assert_eq!(v["reviews"].as_array().unwrap().len(), 1);
    let next = v["item"]["next_review_on"].as_str().unwrap().to_string();
    let today = kam::domain::activity::local_day(kam::app::clock::now(), chrono_tz::Asia::Shanghai);
    assert_eq!(next, (today + chrono::Duration::days(14)).to_string());
    // A stale version is a conflict.
    let r = t.call(Method::POST, &format!("/api/v1/opl/{id}/reviews"), &bearer(&w, "manager"), Some(body)).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    // No longer due; due again two weeks on.
    let due = t.get("/api/v1/opl/reviews-due", &bearer(&w, "manager")).await.json();
    assert_eq!(due["items"].as_array().unwrap().len(), 0);
    // Audited.
    let n: i64 =
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM audit_log WHERE entity = 'opl_item' AND entity_id = $1")
            .bind(id.to_string())
            .fetch_one(&t.db().pool)
            .await
            .unwrap();
    assert_eq!(n, 2);
    // The report counts it opened.
    let rep = t.get("/api/v1/opl/report", &bearer(&w, "director")).await;
    assert_eq!(rep.status, StatusCode::OK, "{}", rep.body);
    let rep = rep.json();
    let opened: i64 = rep["months"].as_array().unwrap().iter().map(|m| m["opened"].as_i64().unwrap()).sum();
    assert_eq!(opened, 1, "{rep}");
    assert_eq!(rep["open_total"], 1);
}

#[tokio::test]
async fn open_points_are_seen_as_their_account() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let r = t
        .call(
            Method::POST,
            "/api/v1/opl",
            &bearer(&w, "repA"),
            Some(json!({"account_id": w.account_x, "title": "质量投诉"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.json()["item"]["id"].as_i64().unwrap();
    // repB does not see account X: not in the list, 404 on the item, cannot raise one on it.
    let l = t.get("/api/v1/opl", &bearer(&w, "repB")).await.json();
    assert_eq!(l["total"], 0, "{l}");
    assert_eq!(t.get(&format!("/api/v1/opl/{id}"), &bearer(&w, "repB")).await.status, StatusCode::NOT_FOUND);
    let r = t
        .call(Method::POST, "/api/v1/opl", &bearer(&w, "repB"), Some(json!({"account_id": w.account_x, "title": "x"})))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // The director sees it; filters apply.
    let l = t.get("/api/v1/opl?status=open&source=manual", &bearer(&w, "director")).await.json();
    assert_eq!(l["total"], 1);
    let l = t.get("/api/v1/opl?source=survey", &bearer(&w, "director")).await.json();
    assert_eq!(l["total"], 0);
    let r = t.get("/api/v1/opl?status=bogus", &bearer(&w, "director")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // A title is required.
    let r = t
        .call(Method::POST, "/api/v1/opl", &bearer(&w, "repA"), Some(json!({"account_id": w.account_x, "title": " "})))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.json()["error"]["details"]["fields"].get("title").is_some());
}
