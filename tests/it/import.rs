//! Importing accounts from spreadsheets as Chinese offices make them.
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};

use crate::common::{seed, Auth, TestApp};

async fn import(t: &TestApp, token: &str, bytes: Vec<u8>, dry: bool) -> crate::common::Resp {
    let req = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/imports/accounts{}", if dry { "?dry_run=true" } else { "" }))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .body(Body::from(bytes))
        .expect("req");
    t.send(req).await
}

async fn count(t: &TestApp, token: &str) -> i64 {
    t.get("/api/v1/accounts/count", &Auth::Bearer(token.to_string())).await.json()["count"].as_i64().expect("count")
}

const CSV: &str = "客户名称,统一社会信用代码,行业,年度采购量(元),地址,微信群\r\n\
    南京金陵电子有限公司,91320100MA1NNNNN1X,企业,1200000.00,南京市鼓楼区中山路1号,群1\r\n\
    江苏省南京市财政局,,政府,800000,南京市玄武区,群2\r\n";

fn fix_code(csv: &str) -> String {
    // Give the first row a valid credit code built from its first 17 characters.
    let code = kam::domain::credit_code::CreditCode::complete("91320100MA1NNNNN1").expect("code");
    csv.replace("91320100MA1NNNNN1X", code.as_str())
}

#[tokio::test]
async fn gbk_csv_from_chinese_excel_imports_with_chinese_headers() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let tok = &w.tokens["director"];
    let before = count(&t, tok).await;
    let text = fix_code(CSV);
    let (gbk, _, _) = encoding_rs::GBK.encode(&text);
    let r = import(&t, tok, gbk.to_vec(), true).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["rows"], 2);
    assert_eq!(r.json()["unknown_columns"][0], "微信群", "unknown columns are reported");
    assert_eq!(count(&t, tok).await, before, "a dry run writes nothing");
    let r = import(&t, tok, gbk.to_vec(), false).await;
    assert_eq!(r.json()["created"], 2, "{}", r.body);
    assert_eq!(count(&t, tok).await, before + 2);
    let found = t.get("/api/v1/accounts?q=%E9%87%91%E9%99%B5", &Auth::Bearer(tok.clone())).await.json();
    assert_eq!(found["items"][0]["industry"], "enterprise");
    assert_eq!(found["items"][0]["buying_power"], "1200000.00");
    // The same file again: every row matches an existing account, nothing is written.
    let r = import(&t, tok, gbk.to_vec(), false).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.json()["errors"][0]["code"].as_str().unwrap_or("").starts_with("matches_existing"));
    assert_eq!(count(&t, tok).await, before + 2);
}

#[tokio::test]
async fn a_bad_row_rejects_the_file_with_a_per_row_report() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let tok = &w.tokens["director"];
    let before = count(&t, tok).await;
    let mut csv = String::from("\u{feff}name,credit_code,industry,buying_power\n");
    csv.push_str("好公司甲,,enterprise,100\n");
    csv.push_str("坏公司乙,91350100M000100Y44,shipping,12.345\n");
    let r = import(&t, tok, csv.into_bytes(), false).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let errs = r.json()["errors"].as_array().expect("errors").clone();
    let cols: Vec<&str> = errs.iter().filter_map(|e| e["column"].as_str()).collect();
    assert!(cols.contains(&"credit_code") && cols.contains(&"industry") && cols.contains(&"buying_power"), "{errs:?}");
    assert!(errs.iter().all(|e| e["row"] == 3));
    assert_eq!(errs.iter().find(|e| e["column"] == "credit_code").expect("cc")["value"], "91350100M000100Y44");
    assert!(errs.iter().all(|e| e["message"].as_str().is_some_and(|m| !m.is_empty())));
    assert_eq!(count(&t, tok).await, before, "all or nothing");
}

#[tokio::test]
async fn xlsx_from_a_spreadsheet_writer_imports() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in ["名称", "行业", "级别", "大区"].iter().enumerate() {
        ws.write_string(0, c as u16, *h).expect("cell");
    }
    for (r, row) in
        [["浙江之江数据有限公司", "企业", "L2", "E"], ["上海市教育考试院", "教育", "L3", "E"]].iter().enumerate()
    {
        for (c, v) in row.iter().enumerate() {
            ws.write_string(r as u32 + 1, c as u16, *v).expect("cell");
        }
    }
    let bytes = wb.save_to_buffer().expect("xlsx");
    let r = import(&t, &w.tokens["director"], bytes, false).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["created"], 2);
    let a = t.get("/api/v1/accounts?q=%E4%B9%8B%E6%B1%9F", &Auth::Bearer(w.tokens["director"].clone())).await.json();
    assert_eq!(a["items"][0]["level"], "L2");
    assert_eq!(a["items"][0]["region"], "E");
    // A truncated XLSX is refused whole.
    let r = import(&t, &w.tokens["director"], b"PK\x03\x04broken".to_vec(), false).await;
    assert_eq!(r.json()["error"]["details"]["fields"]["file"]["code"], "xlsx_unreadable");
    // A rep's import lands in the rep's own scope.
    let r = import(&t, &w.tokens["repA"], "名称,行业\n北京新客户有限公司,企业\n".as_bytes().to_vec(), false).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let mine = t.get("/api/v1/accounts", &Auth::Bearer(w.tokens["repA"].clone())).await.body;
    assert!(mine.contains("北京新客户有限公司"));
}

#[tokio::test]
async fn the_import_page_reports_bad_rows_in_the_users_language() {
    let t = TestApp::new().await;
    seed(&t).await;
    let (sid, csrf) = t.ui_login("director", crate::common::PASSWORD, None).await.expect("sign in");
    let page = t.get("/accounts/import", &Auth::Session { cookie: sid.clone(), csrf: String::new() }).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("data-progress=\"import-progress\"") && page.body.contains("<progress"));
    let post = |fields: Vec<(&'static str, String)>, file: &'static str| {
        let b = "----kamimport";
        let mut body = Vec::new();
        for (k, v) in &fields {
            body.extend(format!("--{b}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes());
        }
        body.extend(format!("--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\n{file}\r\n--{b}--\r\n").as_bytes());
        Request::builder()
            .method(Method::POST)
            .uri("/accounts/import")
            .header(header::COOKIE, format!("kam_session={sid}"))
            .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={b}"))
            .body(Body::from(body))
            .expect("req")
    };
    let r = t.send(post(vec![("_csrf", csrf.clone())], "名称,行业\n导入测试有限公司,航运\n")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("不是有效的选项") && r.body.contains("航运") && r.body.contains("未导入任何数据"),
        "{}",
        r.body
    );
    let r = t.send(post(vec![("_csrf", "wrong".into())], "名称,行业\n导入测试有限公司,企业\n")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "the CSRF token is checked");
    let r = t.send(post(vec![("_csrf", csrf.clone())], "名称,行业\n导入测试有限公司,企业\n")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("已导入 1 个客户"));
}

#[tokio::test]
async fn a_matching_row_can_update_the_existing_account() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let tok = &w.tokens["director"];
    let before = count(&t, tok).await;
    // X is 北京星河精密制造有限公司; the file writes it with another suffix and a new address.
    let csv = "名称,地址,行业\n北京星河精密制造股份有限公司,北京市朝阳区新地址8号,\n全新客户有限公司,上海市,企业\n";
    let send = |q: &'static str| {
        Request::builder()
            .method(Method::POST)
            .uri(format!("/api/v1/imports/accounts{q}"))
            .header(header::AUTHORIZATION, format!("Bearer {tok}"))
            .body(Body::from(csv.as_bytes().to_vec()))
            .expect("req")
    };
    let r = t.send(send("")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "reported by default");
    let r = t.send(send("?on_match=update")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["updated"], 1);
    assert_eq!(r.json()["created"], 1);
    assert_eq!(count(&t, tok).await, before + 1);
    let x = t.get(&format!("/api/v1/accounts/{}", w.account_x), &Auth::Bearer(tok.clone())).await.json();
    assert_eq!(x["address"], "北京市朝阳区新地址8号");
    assert_eq!(x["industry"], "enterprise", "an empty cell leaves the value as it was");
    assert_eq!(x["name"], "北京星河精密制造股份有限公司");
    let r = t.send(send("?on_match=merge")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}
