//! The audit trail as a page: translated (record kinds, actions, field labels), names not
//! usernames, and filters by record, person and date, the same in the API.
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{Auth, TestApp};

async fn session(t: &TestApp, user: &str) -> Auth {
    let (cookie, csrf) = t.ui_login(user, "kam-demo", None).await.expect("sign in");
    Auth::Session { cookie, csrf }
}

/// The labels of the changed fields in the page's change lists (`<b>label</b>:`).
fn change_labels(page: &str) -> Vec<String> {
    page.split("<ul class=\"changes\">")
        .skip(1)
        .flat_map(|part| {
            let list = part.split("</ul>").next().unwrap_or("");
            list.split("<li><b>").skip(1).filter_map(|x| x.split("</b>").next().map(str::to_string)).collect::<Vec<_>>()
        })
        .collect()
}

fn is_code(label: &str) -> bool {
    !label.is_empty() && label.chars().all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit())
}

#[tokio::test]
async fn the_audit_page_is_translated_and_filters_by_record_person_and_date() {
    let t = TestApp::new().await;
    t.demo().await;
    let rep = Auth::Bearer(t.token("rep").await);

    // The rep edits an account, a contact and an opportunity, so the trail holds updates.
    let accounts = t.get("/api/v1/accounts?limit=1", &rep).await.json();
    let a = &accounts["items"][0];
    let id = a["id"].as_i64().expect("account");
    let r = t
        .call(
            Method::PATCH,
            &format!("/api/v1/accounts/{id}"),
            &rep,
            Some(json!({"version": a["version"], "notes": "审计测试", "website": "https://example.cn", "buying_power": "3000000.00"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let contacts = t.get(&format!("/api/v1/accounts/{id}/contacts"), &rep).await.json();
    if let Some(c) = contacts["items"].as_array().and_then(|v| v.first()) {
        let cid = c["id"].as_i64().expect("contact");
        let r = t
            .call(
                Method::PATCH,
                &format!("/api/v1/contacts/{cid}"),
                &rep,
                Some(json!({"version": c["version"], "department": "采购部", "attitude": "supporter"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    let opps = t.get("/api/v1/opportunities?owner=rep&open=1&limit=1", &rep).await.json();
    let o: &Value = &opps["items"][0];
    let oid = o["id"].as_i64().expect("opportunity");
    let r = t
        .call(
            Method::PATCH,
            &format!("/api/v1/opportunities/{oid}"),
            &rep,
            Some(json!({"version": o["version"], "next_step": "技术交流", "next_step_due": "2031-01-15", "amount": "1280000.00"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let admin = session(&t, "admin").await;
    // Every changed field is shown by its label, never by its code; record kinds are words.
    let page = t.get("/audit?actor=rep", &admin).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let labels = change_labels(&page.body);
    assert!(labels.len() >= 5, "the rep's updates list their changes: {labels:?}");
    let raw: Vec<&String> = labels.iter().filter(|l| is_code(l)).collect();
    assert!(raw.is_empty(), "field codes shown as labels: {raw:?}");
    assert!(page.body.contains(&format!("<a href=\"/accounts/{id}\">客户 #{id}</a>")), "account linked by kind");
    assert!(page.body.contains(&format!("<a href=\"/opportunities/{oid}\">商机 #{oid}</a>")));
    // Filtered by person: only the rep's acts, by name.
    assert!(page.body.contains("林涛"));
    let rows = page.body.matches("<tr><td><time").count();
    let rep_rows = page.body.matches("</time></td><td>林涛</td>").count();
    assert!(rows > 0 && rows == rep_rows, "{rows} rows, {rep_rows} by 林涛");

    // By record kind and id: only that record's rows.
    let page = t.get(&format!("/audit?entity=opportunity&id={oid}"), &admin).await;
    assert!(page.body.contains("商机 #"), "{}", page.body);
    assert!(!page.body.contains("客户 #"));

    // By date: a day in the future has nothing; today (in the reader's zone) has the edits.
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(2)).format("%Y-%m-%d").to_string();
    let page = t.get(&format!("/audit?actor=rep&from={tomorrow}"), &admin).await;
    assert!(page.body.contains("class=\"empty\""), "nothing after tomorrow");
    let page = t.get(&format!("/audit?actor=rep&to={tomorrow}&from=2020-01-01"), &admin).await;
    assert!(page.body.matches("</time></td><td>林涛</td>").count() > 0);
    // A range that ends before it starts is refused, naming the field, in Chinese.
    let page = t.get(&format!("/audit?from={tomorrow}&to=2020-01-01"), &admin).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("结束日期: 结束日期不能早于开始日期"), "{}", page.body);

    // The API takes the same filters.
    let admin_api = Auth::Bearer(t.token("admin").await);
    let h = t.get("/api/v1/audit?actor=rep&limit=500", &admin_api).await;
    assert_eq!(h.status, StatusCode::OK, "{}", h.body);
    let items = h.json()["items"].as_array().expect("items").clone();
    assert!(!items.is_empty() && items.iter().all(|e| e["who"] == "rep"));
    let h = t.get(&format!("/api/v1/audit?from={tomorrow}"), &admin_api).await;
    assert!(h.json()["items"].as_array().expect("items").is_empty());
    let bad = t.get("/api/v1/audit?from=2026-13-01", &admin_api).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert!(bad.body.contains("\"from\""), "{}", bad.body);
    // A rep filtering by another person still sees only their own acts.
    let mine = t.get("/api/v1/audit?actor=manager", &rep).await.json();
    assert!(mine["items"].as_array().expect("items").is_empty());
}
