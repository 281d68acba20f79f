//! Imports whose work is bounded: hostile files small on disk (`kam::generate::hostile`) are
//! refused by a named limit, or stop at the limit of refused rows and say more errors were not
//! shown; nothing of them is written.
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use kam::generate::hostile;
use serde_json::Value;

use crate::common::{Auth, Resp, TestApp};

async fn post(t: &TestApp, token: &str, path: &str, lang: &str, bytes: Vec<u8>) -> Resp {
    let req = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::ACCEPT_LANGUAGE, lang)
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .body(Body::from(bytes))
        .expect("req");
    t.send(req).await
}

async fn import(t: &TestApp, token: &str, bytes: Vec<u8>) -> Resp {
    post(t, token, "/api/v1/imports/accounts", "zh-CN", bytes).await
}

async fn count(t: &TestApp, token: &str) -> i64 {
    t.get("/api/v1/accounts/count", &Auth::Bearer(token.to_string())).await.json()["count"].as_i64().expect("count")
}

/// The distinct rows a report lists.
fn rows_listed(r: &Value) -> usize {
    let errs = r["errors"].as_array().expect("errors");
    errs.iter().map(|e| e["row"].as_u64().expect("row")).collect::<std::collections::BTreeSet<_>>().len()
}

/// The code and message of a file refused whole.
fn file_refusal(r: &Resp) -> (String, String) {
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", &r.body[..r.body.len().min(2000)]);
    let j = r.json();
    let f = &j["error"]["details"]["fields"]["file"];
    (f["code"].as_str().unwrap_or_default().to_string(), j["error"]["message"].as_str().unwrap_or_default().to_string())
}

#[tokio::test]
async fn two_million_bad_rows_stop_at_a_thousand_and_say_more_errors_are_not_shown() {
    let t = TestApp::new().await;
    t.demo().await;
    let rep = t.token("rep").await;
    let before = count(&t, &rep).await;
    let file = hostile::xlsx_many_bad_rows(2_000_000);
    assert!(file.len() < 1_000_000, "small on disk: {} bytes", file.len());
    let r = import(&t, &rep, file.clone()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", &r.body[..r.body.len().min(2000)]);
    let j = r.json();
    assert_eq!(j["errors_truncated"], true);
    assert_eq!(rows_listed(&j), 1_000, "the report stops at the limit");
    assert!(r.body.len() < 1_000_000, "a report of {} bytes", r.body.len());
    let first = &j["errors"][0];
    assert_eq!((first["row"].as_u64(), first["column"].as_str()), (Some(2), Some("industry")), "{first}");
    assert_eq!(first["value"], hostile::BAD_INDUSTRY);
    let rows = j["rows"].as_u64().expect("rows");
    assert!(rows < 100_000, "the import stopped reading: {rows} rows read");
    let message = j["error"]["message"].as_str().expect("message");
    assert!(message.contains("只列出前 1000 行的错误，更多错误未显示"), "{message}");
    assert_eq!(count(&t, &rep).await, before, "nothing written");
    // In English too.
    let r = post(&t, &rep, "/api/v1/imports/accounts", "en", hostile::xlsx_many_bad_rows(5_000)).await;
    let message = r.json()["error"]["message"].as_str().expect("message").to_string();
    assert!(message.contains("Only the first 1000 refused rows are listed; more errors are not shown"), "{message}");
}

#[tokio::test]
async fn one_cell_of_400_mb_is_refused_by_the_size_of_the_shared_strings_before_it_is_read() {
    let t = TestApp::new().await;
    t.demo().await;
    let rep = t.token("rep").await;
    let before = count(&t, &rep).await;
    let file = hostile::xlsx_one_huge_cell(400 << 20);
    assert!(file.len() < 1_000_000, "small on disk: {} bytes", file.len());
    let (code, message) = file_refusal(&import(&t, &rep, file.clone()).await);
    assert_eq!(code, "xlsx_strings_too_large");
    assert!(message.contains("100 MB") && message.contains("32767"), "names the limits: {message}");
    let r = post(&t, &rep, "/api/v1/imports/accounts", "en", file).await;
    let (_, message) = file_refusal(&r);
    assert!(message.contains("larger than 100 MB uncompressed"), "{message}");
    // The same cell inside the worksheet: refused as a cell over 16 MB once that much is read.
    let (code, message) = file_refusal(&import(&t, &rep, hostile::xlsx_huge_inline_cell(400 << 20)).await);
    assert_eq!(code, "xlsx_cell_too_large");
    assert!(message.contains("16 MB"), "{message}");
    // Zip headers that say the strings are 4 KB: reading stops there, and the file is unreadable.
    let (code, _) = file_refusal(&import(&t, &rep, hostile::xlsx_lying_sizes(400 << 20)).await);
    assert_eq!(code, "xlsx_unreadable");
    assert_eq!(count(&t, &rep).await, before, "nothing written");
}

#[tokio::test]
async fn the_limit_of_refused_rows_is_a_setting_and_holds_for_csv_contacts_and_quotas() {
    let settings = kam::app::Settings { import_max_errors: 10, ..kam::app::Settings::default() };
    let t = TestApp::with_settings(settings).await;
    t.demo().await;
    let rep = t.token("rep").await;
    let r = import(&t, &rep, hostile::csv_many_bad_rows(50_000)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", &r.body[..r.body.len().min(2000)]);
    let j = r.json();
    assert_eq!((rows_listed(&j), j["errors_truncated"].as_bool()), (10, Some(true)));
    assert!(j["error"]["message"].as_str().unwrap_or_default().contains("只列出前 10 行的错误"));
    // Fewer refused rows than the limit: all listed, nothing truncated.
    let r = import(&t, &rep, hostile::csv_many_bad_rows(3)).await;
    let j = r.json();
    assert_eq!((rows_listed(&j), j["errors_truncated"].as_bool()), (3, Some(false)));
    // Contacts of accounts that do not exist.
    let mut csv = String::from("客户,姓名\n");
    for i in 0..40 {
        csv.push_str(&format!("不存在的客户{i},张{i}\n"));
    }
    let r = post(&t, &rep, "/api/v1/imports/contacts", "zh-CN", csv.into_bytes()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let j = r.json();
    assert_eq!((rows_listed(&j), j["errors_truncated"].as_bool()), (10, Some(true)), "{j}");
    // Quotas with a month that is none.
    let director = t.token("director").await;
    let mut csv = String::from("月份,用户名,指标\n");
    for _ in 0..40 {
        csv.push_str("2026-13,rep,100\n");
    }
    let r = post(&t, &director, "/api/v1/quotas/import", "zh-CN", csv.into_bytes()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let j = r.json();
    assert_eq!((rows_listed(&j), j["errors_truncated"].as_bool()), (10, Some(true)), "{j}");
}

#[tokio::test]
async fn the_import_page_says_more_errors_were_not_shown_and_so_does_the_report_download() {
    let t = TestApp::new().await;
    t.demo().await;
    let (sid, csrf) = t.ui_login("rep", "kam-demo", None).await.expect("sign in");
    let b = "----kambounded";
    let mut body = format!("--{b}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{csrf}\r\n").into_bytes();
    body.extend(
        format!("--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"坏.xlsx\"\r\nContent-Type: application/octet-stream\r\n\r\n")
            .as_bytes(),
    );
    body.extend(hostile::xlsx_many_bad_rows(20_000));
    body.extend(format!("\r\n--{b}--\r\n").as_bytes());
    let req = Request::builder()
        .method(Method::POST)
        .uri("/accounts/import")
        .header(header::COOKIE, format!("kam_session={sid}"))
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={b}"))
        .body(Body::from(body))
        .expect("req");
    let r = t.send(req).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"import-more-errors\""), "{}", &r.body[..r.body.len().min(3000)]);
    assert!(r.body.contains("只列出前 1000 行的错误，更多错误未显示"));
    assert!(r.body.len() < 2_000_000, "a page of {} bytes", r.body.len());
    let at = r.body.rfind("/errors.csv").expect("the report's download link");
    let link = &r.body[r.body[..at].rfind("/imports/").expect("link")..at + "/errors.csv".len()];
    let csv = t.get(link, &Auth::Session { cookie: sid, csrf: String::new() }).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.body.lines().count(), 1 + 1_000 + 1, "header, the rows listed, and the note");
    assert!(
        csv.body.trim_end().ends_with("导入在此停止，文件其余部分未检查。"),
        "{}",
        &csv.body[csv.body.len() - 300..]
    );
}

#[tokio::test]
async fn rows_and_records_past_their_limits_refuse_the_file_naming_the_limit() {
    let t = TestApp::new().await;
    t.demo().await;
    let rep = t.token("rep").await;
    let before = count(&t, &rep).await;
    // 1,001 columns.
    let header: Vec<String> =
        std::iter::once("名称".to_string()).chain((1..=1_000).map(|i| format!("列{i}"))).collect();
    let mut csv = header.join(",") + "\n";
    csv.push_str(&vec!["x"; 1_001].join(","));
    csv.push('\n');
    let (code, message) = file_refusal(&import(&t, &rep, csv.into_bytes()).await);
    assert_eq!(code, "too_many_columns");
    assert!(message.contains("1000 列"), "{message}");
    // A CSV record of 17 MB: refused once 16 MB of it were read.
    let (code, message) = file_refusal(&import(&t, &rep, hostile::csv_one_huge_cell(17 << 20)).await);
    assert_eq!(code, "record_too_large");
    assert!(message.contains("16 MB"), "{message}");
    // Cells of 30,000 characters in 40 columns: more than 1 MB of text in one row.
    let mut csv = String::from("名称");
    for i in 0..40 {
        csv.push_str(&format!(",列{i}"));
    }
    csv.push_str("\n甲公司");
    for _ in 0..40 {
        csv.push(',');
        csv.push_str(&"x".repeat(30_000));
    }
    csv.push('\n');
    let (code, message) = file_refusal(&import(&t, &rep, csv.into_bytes()).await);
    assert_eq!(code, "row_too_large");
    assert!(message.contains("1 MB"), "{message}");
    assert_eq!(count(&t, &rep).await, before, "nothing written");
}
