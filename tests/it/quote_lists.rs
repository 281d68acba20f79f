//! The lists of quotes and bids as files (issue 20): the export holds every row the filters
//! find in the caller's scope (not just the page), headers and states in the reader's
//! language, totals as number cells; the list pages link to it with their filters; a bad
//! filter names the field; the list's cursor pages without repeating a row.
use axum::http::{header, Method, StatusCode};
use calamine::Data;
use serde_json::{json, Value};

use crate::common::{download, opportunity, seed, xlsx_rows, Auth, TestApp, World, PASSWORD};

fn bearer(w: &World, user: &str) -> Auth {
    Auth::Bearer(w.tokens[user].clone())
}

/// A quote titled `title`, one line of 10,000.00 元 at `discount` percent off.
async fn quote(t: &TestApp, who: &Auth, opp: i64, title: &str, discount: &str) -> Value {
    let body = json!({"title": title, "valid_until": "2099-12-31", "lines": [
        {"description": "测量机", "unit": "台", "quantity": "1", "list_price": "10000.00", "discount": discount}
    ]});
    let r = t.call(Method::POST, &format!("/api/v1/opportunities/{opp}/quotes"), who, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.json()
}

fn text(c: &Data) -> String {
    c.to_string()
}

#[tokio::test]
async fn the_quote_export_holds_every_row_the_filters_find_in_scope() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = bearer(&w, "repA");
    let opp = opportunity(&t, &rep, w.account_x, "测量中心扩建").await;
    for i in 0..3 {
        quote(&t, &rep, opp, &format!("报价{i}"), "3").await;
    }
    // One approved (within a rep's 5 %), the others drafts.
    let q = quote(&t, &rep, opp, "已批报价", "4").await;
    let r = t
        .call(Method::POST, &format!("/api/v1/quotes/{}/submit", q["id"]), &rep, Some(json!({"version": q["version"]})))
        .await;
    assert_eq!(r.json()["state"], "approved", "{}", r.body);

    // The page holds 2, the export all 4: it is the list, not the page.
    let page = t.get("/api/v1/quotes?limit=2", &rep).await.json();
    assert_eq!(page["items"].as_array().map(Vec::len), Some(2));
    let cursor = page["next_cursor"].as_str().expect("a next page").to_string();
    let next = t.get(&format!("/api/v1/quotes?limit=2&cursor={cursor}"), &rep).await.json();
    let mut ids: Vec<i64> = page["items"]
        .as_array()
        .into_iter()
        .chain(next["items"].as_array())
        .flatten()
        .filter_map(|q| q["id"].as_i64())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 4, "two pages, no row twice");
    let r = t.get("/api/v1/quotes?cursor=not-a-cursor", &rep).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);

    let (status, h, bytes) = download(&t, "/api/v1/quotes/export?format=xlsx", &rep).await;
    assert_eq!(status, StatusCode::OK);
    let disp = h.get(header::CONTENT_DISPOSITION).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    assert!(disp.contains(".xlsx"), "{disp}");
    let rows = xlsx_rows(bytes, "quotes");
    let head: Vec<String> = rows[0].iter().map(text).collect();
    assert_eq!(head[..3], ["报价单号".to_string(), "报价标题".into(), "客户名称".into()], "{head:?}");
    assert_eq!(rows.len(), 5, "a header and every quote: {rows:?}");
    let col = |name: &str| head.iter().position(|h| h == name).unwrap_or_else(|| panic!("{name} in {head:?}"));
    let approved = rows.iter().find(|r| text(&r[1]) == "已批报价").expect("the approved quote");
    assert_eq!(text(&approved[col("报价状态")]), "已批准", "the state's label");
    assert_eq!(approved[col("含税合计")], Data::Float(9600.0), "the total as a number cell");

    // The filters hold: only the approved one; CSV keeps codes and decimal strings.
    let (status, _, bytes) = download(&t, "/api/v1/quotes/export?format=csv&state=approved", &rep).await;
    assert_eq!(status, StatusCode::OK);
    let csv = String::from_utf8(bytes).expect("utf-8");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[1].contains("已批报价") && lines[1].contains("approved") && lines[1].contains("9600.00"), "{csv}");

    // Another team's rep exports nothing of it.
    let (_, _, bytes) = download(&t, "/api/v1/quotes/export?format=csv", &bearer(&w, "repC")).await;
    assert_eq!(String::from_utf8(bytes).expect("utf-8").lines().count(), 1, "only the header");
    // A bad filter names it.
    let r = t.get("/api/v1/quotes/export?format=csv&discount_over=abc", &rep).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
}

#[tokio::test]
async fn the_list_pages_link_their_exports_with_the_filters() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = bearer(&w, "repA");
    let opp = opportunity(&t, &rep, w.account_x, "测量中心扩建").await;
    quote(&t, &rep, opp, "星河测量报价", "3").await;
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/opportunities/{opp}/bids"),
            &rep,
            Some(json!({"issuer": "北京星河精密制造有限公司", "submission_due": "2099-03-15", "bond_amount": "20000.00"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let (sid, _) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");
    let session = Auth::Session { cookie: sid, csrf: String::new() };

    let page = t.get("/quotes?state=draft", &session).await;
    assert!(page.body.contains("href=\"/quotes/export.xlsx?") && page.body.contains("state=draft"), "{}", page.body);
    let (status, h, bytes) = download(&t, "/quotes/export.xlsx?state=draft", &session).await;
    assert_eq!(status, StatusCode::OK);
    assert!(h
        .get(header::CONTENT_DISPOSITION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .contains("filename*=UTF-8''"));
    let rows = xlsx_rows(bytes, "quotes");
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(text(&rows[1][1]), "星河测量报价");
    let (_, _, bytes) = download(&t, "/quotes/export.csv?state=sent", &session).await;
    assert_eq!(String::from_utf8(bytes).expect("utf-8").lines().count(), 1, "no sent quote: only the header");

    let page = t.get("/bids?open=open", &session).await;
    assert!(page.body.contains("href=\"/bids/export.csv?") && page.body.contains("open=open"), "{}", page.body);
    let (status, _, bytes) = download(&t, "/bids/export.xlsx?open=open", &session).await;
    assert_eq!(status, StatusCode::OK);
    let rows = xlsx_rows(bytes, "bids");
    let head: Vec<String> = rows[0].iter().map(text).collect();
    let col = |name: &str| head.iter().position(|h| h == name).unwrap_or_else(|| panic!("{name} in {head:?}"));
    assert_eq!(text(&rows[1][col("招标单位")]), "北京星河精密制造有限公司");
    assert_eq!(rows[1][col("投标保证金")], Data::Float(20000.0), "the bond as a number cell");
    assert_eq!(text(&rows[1][col("投标决策")]), "未决策", "the decision's label");
    let (_, _, bytes) = download(&t, "/api/v1/bids/export?format=csv&open=false", &rep).await;
    assert_eq!(String::from_utf8(bytes).expect("utf-8").lines().count(), 1, "no ended bid");
}
