//! Satisfaction surveys (issue 24 item 5): a one-time link answers once (410 the second time and
//! after it expired, nothing recorded), bad scores and departments not asked are 422 naming the
//! field, a low score raises an open point the KA manager reviews two weeks later, the
//! provider's XLSX is imported all or none, and scores are seen as their accounts.
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::json;

use super::common::{seed, Auth, Resp, TestApp, World};

fn bearer(w: &World, user: &str) -> Auth {
    Auth::Bearer(w.tokens[user].clone())
}

async fn campaign(t: &TestApp, w: &World) -> i64 {
    let r = t
        .call(Method::POST, "/api/v1/surveys/campaigns", &bearer(w, "director"), Some(json!({"quarter": "2026-Q4"})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.json()["id"].as_i64().unwrap()
}

fn good(except: &[(&str, i64)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> =
        [("overall", 8), ("quality", 4), ("delivery", 4), ("responsiveness", 5), ("technical", 4), ("commercial", 4)]
            .iter()
            .map(|(k, s)| {
                let s = except.iter().find(|(e, _)| e == k).map(|(_, x)| *x).unwrap_or(*s);
                (format!("score_{k}"), s.to_string())
            })
            .collect();
    v.push(("comment".into(), String::new()));
    v
}

async fn post_form(t: &TestApp, path: &str, fields: &[(String, String)]) -> Resp {
    let body = serde_urlencoded::to_string(fields).unwrap();
    t.send(
        Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

async fn opl_count(t: &TestApp) -> i64 {
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM opl_items WHERE source = 'survey'")
        .fetch_one(&t.db().pool)
        .await
        .unwrap()
}

async fn responses(t: &TestApp) -> i64 {
    sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM survey_responses").fetch_one(&t.db().pool).await.unwrap()
}

async fn link(t: &TestApp, w: &World, c: i64, dept: &str) -> String {
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/surveys/campaigns/{c}/links"),
            &bearer(w, "repA"),
            Some(json!({"account_id": w.account_x, "department": dept})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.json()["path"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_survey_link_answers_once_and_a_low_score_raises_an_open_point_reviewed_two_weeks_later() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let c = campaign(&t, &w).await;
    let path = link(&t, &w, c, "logistics").await;
    // Only the hash is stored.
    let token = path.trim_start_matches("/s/");
    let stored: i64 = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM survey_links WHERE token_hash = $1")
        .bind(token)
        .fetch_one(&t.db().pool)
        .await
        .unwrap();
    assert_eq!(stored, 0);
    // The page needs no sign-in and shows only the questions.
    let page = t.get(&path, &Auth::None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("score_delivery") && !page.body.contains("<nav"), "{}", page.body);
    // A score outside its scale: 422 naming it, nothing recorded, the link still unused.
    let r = post_form(&t, &path, &good(&[("delivery", 7)])).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("survey-errors"));
    assert_eq!(responses(&t).await, 0);
    let r = post_form(&t, &path, &good(&[("overall", 11)])).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // A low delivery score: recorded, an open point raised for the KA manager.
    let r = post_form(&t, &path, &good(&[("delivery", 1)])).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(responses(&t).await, 1);
    assert_eq!(opl_count(&t).await, 1);
    // The second time: 410, nothing recorded.
    let r = post_form(&t, &path, &good(&[])).await;
    assert_eq!(r.status, StatusCode::GONE);
    assert_eq!(t.get(&path, &Auth::None).await.status, StatusCode::GONE);
    assert_eq!(responses(&t).await, 1);
    // The KA manager reviews it two weeks later.
    let due = t.get("/api/v1/opl/reviews-due", &bearer(&w, "manager")).await.json();
    assert_eq!(due["items"].as_array().unwrap().len(), 0);
    kam::app::clock::shift_for_tests(chrono::Duration::days(14));
    let due = t.get("/api/v1/opl/reviews-due", &bearer(&w, "manager")).await.json();
    let item = &due["items"][0];
    assert_eq!(item["source"], "survey", "{due}");
    let id = item["id"].as_i64().unwrap();
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/opl/{id}/reviews"),
            &bearer(&w, "manager"),
            Some(json!({"progress": "已更换物流商", "status": "closed", "version": item["version"]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["item"]["status"], "closed");
    // The scores show it.
    let s = t.get(&format!("/api/v1/surveys/campaigns/{c}/scores"), &bearer(&w, "director")).await.json();
    assert_eq!(s["responses"], 1);
    assert_eq!(s["low_items"], 1);
    let d = s["by_question"].as_array().unwrap().iter().find(|q| q["key"] == "delivery").unwrap().clone();
    assert_eq!(d["avg"], 1.0);
}

#[tokio::test]
async fn an_expired_link_answers_410_and_records_nothing() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let c = campaign(&t, &w).await;
    let path = link(&t, &w, c, "quality").await;
    kam::app::clock::shift_for_tests(chrono::Duration::days(15));
    let r = post_form(&t, &path, &good(&[])).await;
    assert_eq!(r.status, StatusCode::GONE);
    assert_eq!(responses(&t).await, 0);
    assert_eq!(t.get("/s/not-a-token", &Auth::None).await.status, StatusCode::GONE);
}

#[tokio::test]
async fn staff_entry_refuses_bad_scores_and_departments_not_asked() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let c = campaign(&t, &w).await;
    let scores = |d: i64| {
        json!([{"question": "overall", "score": 9}, {"question": "quality", "score": 5}, {"question": "delivery", "score": d},
            {"question": "responsiveness", "score": 5}, {"question": "technical", "score": 5}, {"question": "commercial", "score": 5}])
    };
    let path = format!("/api/v1/surveys/campaigns/{c}/responses");
    let r = t
        .call(
            Method::POST,
            &path,
            &bearer(&w, "repA"),
            Some(json!({"account_id": w.account_x, "department": "sales", "scores": scores(4)})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.json()["error"]["details"]["fields"].get("department").is_some(), "{}", r.body);
    let r = t
        .call(
            Method::POST,
            &path,
            &bearer(&w, "repA"),
            Some(json!({"account_id": w.account_x, "department": "quality", "scores": scores(6)})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.json()["error"]["details"]["fields"].get("scores.delivery").is_some(), "{}", r.body);
    assert_eq!(responses(&t).await, 0);
    // A good answer with a problem stated in the comment raises an open point.
    let r = t
        .call(
            Method::POST,
            &path,
            &bearer(&w, "repA"),
            Some(json!({"account_id": w.account_x, "department": "quality", "scores": scores(5), "comment": "上批次有质量问题"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(opl_count(&t).await, 1);
    // Twice for one department: a conflict naming it.
    let r = t
        .call(
            Method::POST,
            &path,
            &bearer(&w, "repA"),
            Some(json!({"account_id": w.account_x, "department": "quality", "scores": scores(5)})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    // Scope: repB does not see account X.
    let r = t
        .call(
            Method::POST,
            &path,
            &bearer(&w, "repB"),
            Some(json!({"account_id": w.account_x, "department": "logistics", "scores": scores(5)})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let s = t.get(&format!("/api/v1/surveys/campaigns/{c}/scores"), &bearer(&w, "repB")).await.json();
    assert_eq!(s["responses"], 0);
    let tr = t.get("/api/v1/surveys/trend?quarters=8", &bearer(&w, "director")).await.json();
    assert_eq!(tr["items"][0]["quarter"], "2026-Q4", "{tr}");
}

fn workbook(rows: &[Vec<&str>]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            ws.write_string(r as u32, c as u16, *v).unwrap();
        }
    }
    wb.save_to_buffer().unwrap()
}

#[tokio::test]
async fn the_providers_workbook_is_imported_all_or_none() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let c = campaign(&t, &w).await;
    let x = w.account_x.to_string();
    let head = vec![
        "account",
        "department",
        "respondent",
        "overall",
        "quality",
        "delivery",
        "responsiveness",
        "technical",
        "commercial",
        "comment",
    ];
    let bad = workbook(&[
        head.clone(),
        vec![&x, "purchasing", "李", "9", "5", "5", "5", "5", "5", ""],
        vec![&x, "logistics", "王", "9", "5", "9", "5", "5", "5", ""],
        vec![&x, "sales", "赵", "9", "5", "5", "5", "5", "5", ""],
    ]);
    let send = |bytes: Vec<u8>| {
        let token = w.tokens["director"].clone();
        let t = &t;
        async move {
            t.send(
                Request::builder()
                    .method(Method::POST)
                    .uri(format!("/api/v1/surveys/campaigns/{c}/import"))
                    .header(header::AUTHORIZATION, format!("Bearer {token}"))
                    .header(header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
                    .body(Body::from(bytes))
                    .unwrap(),
            )
            .await
        }
    };
    let r = send(bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let v = r.json();
    assert_eq!(v["committed"], false);
    assert_eq!(v["error"]["code"], "invalid_input", "{v}");
    let errs = v["errors"].as_array().unwrap();
    assert!(errs.iter().any(|e| e["row"] == 3 && e["column"] == "delivery"), "{v}");
    assert!(errs.iter().any(|e| e["row"] == 4 && e["column"] == "department"), "{v}");
    assert_eq!(responses(&t).await, 0, "nothing recorded");
    let ok = workbook(&[
        head,
        vec![&x, "purchasing", "李", "9", "5", "5", "5", "5", "5", ""],
        vec![&x, "logistics", "王", "6", "4", "2", "3", "4", "4", "到货延误"],
    ]);
    let r = send(ok).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["created"], 2);
    assert_eq!(responses(&t).await, 2);
    assert_eq!(opl_count(&t).await, 1);
}
