//! Satisfaction surveys (issue 24 item 5): a one-time link answers once (410 the second time and
//! after it expired, nothing recorded), bad scores and departments not asked are 422 naming the
//! field, a low score raises an open point the KA manager reviews two weeks later, the
//! provider's XLSX is imported all or none, and scores are seen as their accounts.
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::json;

use super::common::{multipart, seed, Auth, Resp, TestApp, World};

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
    // The trend's quarter is the quarter's scores: the same overall, every score counted.
    let all = t.get(&format!("/api/v1/surveys/campaigns/{c}/scores"), &bearer(&w, "director")).await.json();
    assert_eq!(tr["items"][0]["overall"], all["overall"], "{tr} {all}");
    let scored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM survey_scores").fetch_one(&t.db().pool).await.unwrap();
    assert_eq!(tr["items"][0]["n"], scored, "{tr}");
    // As the account: repB sees none of it, the KA manager's own rep all of it.
    let tb = t.get("/api/v1/surveys/trend?quarters=8", &bearer(&w, "repB")).await.json();
    assert_eq!(tb["items"][0]["n"], 0, "{tb}");
    let ta = t.get("/api/v1/surveys/trend?quarters=8", &bearer(&w, "repA")).await.json();
    assert_eq!(ta["items"][0]["overall"], all["overall"], "{ta}");
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

async fn settings_version(t: &TestApp) -> i64 {
    sqlx::query_scalar::<_, i64>("SELECT COALESCE(MAX(version), 0) FROM settings WHERE key = 'survey'")
        .fetch_one(&t.db().pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_pages_set_the_questionnaire_enter_answers_and_import_the_workbook() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (sid, csrf) =
        t.ui_login("director", crate::common::PASSWORD, None).await.unwrap_or_else(|r| panic!("{}", r.body));
    let auth = Auth::Session { cookie: sid.clone(), csrf: String::new() };
    // The questionnaire: a refused save names the field, keeps what was typed and saves nothing.
    let page = t.get_form("/surveys/settings", &auth).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("准时交付") && page.body.contains("survey-settings-form"), "the shipped questions");
    let before = settings_version(&t).await;
    let fields = |link_days: &str, version: &str, extra_key: &str| -> Vec<(String, String)> {
        let mut f: Vec<(String, String)> = vec![
            ("_csrf".into(), csrf.clone()),
            ("version".into(), version.into()),
            ("link_days".into(), link_days.into()),
            ("low_1_5".into(), "2".into()),
            ("low_0_10".into(), "4".into()),
            ("problem_words".into(), "问题\n投诉".into()),
        ];
        for (i, (k, zh, en, sc)) in [
            ("overall", "总体满意度", "Overall", "0-10"),
            ("delivery", "准时交付", "On-time delivery", "1-5"),
            (extra_key, "培训效果", "Training", "1-5"),
        ]
        .iter()
        .enumerate()
        {
            f.push((format!("key_{i}"), k.to_string()));
            f.push((format!("label_zh_{i}"), zh.to_string()));
            f.push((format!("label_en_{i}"), en.to_string()));
            f.push((format!("scale_{i}"), sc.to_string()));
        }
        f
    };
    let as_refs = |f: &Vec<(String, String)>| f.iter().map(|(k, v)| (k.clone(), v.clone())).collect::<Vec<_>>();
    let post = |f: Vec<(String, String)>| {
        let sid = sid.clone();
        let t = &t;
        async move {
            let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            t.ui_post("/surveys/settings", &sid, &pairs).await
        }
    };
    let r = post(as_refs(&fields("200", &before.to_string(), "Bad Key"))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("一次性链接有效天数") && r.body.contains("第 3 题"), "the fields named: {}", r.body);
    assert!(r.body.contains("培训效果") && r.body.contains("value=\"200\""), "what was typed is kept");
    assert_eq!(settings_version(&t).await, before, "nothing saved");
    let r = post(as_refs(&fields("21", &before.to_string(), "training"))).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = t.get_form("/surveys/settings", &auth).await;
    assert!(page.body.contains("培训效果") && page.body.contains("value=\"21\""), "saved");
    // Another save over the version first read (another tab): 409, what was typed kept.
    let r = post(as_refs(&fields("30", &before.to_string(), "training"))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("value=\"30\""), "{}", r.body);

    // The quarter asks the questionnaire as set.
    let c = campaign(&t, &w).await;
    let answers = format!("/surveys/{c}/answers");
    let page = t.get_form(&answers, &auth).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("培训效果") && page.body.contains("survey-import"), "{}", page.body);
    // The template to fill: the header row of this quarter's questions.
    let (status, _, bytes) = crate::common::download(&t, &format!("/surveys/{c}/import-template.xlsx"), &auth).await;
    assert_eq!(status, StatusCode::OK);
    let head: Vec<String> =
        crate::common::xlsx_rows(bytes.clone(), "2026-Q4")[0].iter().map(|c| c.to_string()).collect();
    assert_eq!(head, ["account", "department", "respondent", "overall", "delivery", "training", "comment"]);
    let codes = crate::common::xlsx_rows(bytes, "说明");
    assert!(codes.iter().any(|r| r[0] == "logistics" && r[1] == "物流"), "{codes:?}");
    let x = w.account_x.to_string();
    let mut entry = vec![
        ("_csrf", csrf.as_str()),
        ("account_id", x.as_str()),
        ("department", "logistics"),
        ("respondent", "王主管"),
        ("score_overall", "7"),
        ("score_delivery", "2"),
        ("comment", "到货延误两次"),
    ];
    // A question left unanswered: named by its label, nothing recorded.
    let r = t.ui_post(&answers, &sid, &entry).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("培训效果: ") && r.body.contains("到货延误两次"), "{}", r.body);
    assert_eq!(responses(&t).await, 0);
    entry.push(("score_training", "4"));
    let r = t.ui_post(&answers, &sid, &entry).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(responses(&t).await, 1);
    assert!(opl_count(&t).await >= 1, "the low delivery score raised an open point");
    // The same department again: refused, naming the department.
    let r = t.ui_post(&answers, &sid, &entry).await;
    assert!(r.status.is_client_error(), "{}", r.body);
    assert!(r.body.contains("本季度已有答卷"), "{}", r.body);

    // The provider's workbook: a refused row lists its reason, nothing kept; then all rows.
    let head = vec!["account", "department", "respondent", "overall", "delivery", "training", "comment"];
    let upload = |bytes: Vec<u8>| {
        let (ct, body) = multipart(&[("_csrf", &csrf)], "survey.xlsx", &bytes);
        let req = Request::builder()
            .method(Method::POST)
            .uri(format!("/surveys/{c}/import"))
            .header(header::COOKIE, format!("kam_session={sid}"))
            .header(header::CONTENT_TYPE, ct)
            .body(Body::from(body))
            .unwrap();
        let t = &t;
        async move { t.send(req).await }
    };
    let bad = workbook(&[head.clone(), vec![&x, "quality", "李", "9", "7", "5", ""]]);
    let r = upload(bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("id=\"import-errors\"") && r.body.contains("准时交付"), "{}", r.body);
    assert_eq!(responses(&t).await, 1, "nothing imported");
    let ok = workbook(&[
        head,
        vec![&x, "quality", "李", "9", "5", "5", ""],
        vec![&x, "purchasing", "赵", "8", "4", "4", ""],
    ]);
    let r = upload(ok).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("已导入 2 份答卷"), "{}", r.body);
    assert_eq!(responses(&t).await, 3);
}
