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

// ---------------------------------------------------------------------------------------------
// Contacts, the mapping step, dry run and "import now", error reports, malformed files.

/// Posts a file to an import API path (with its query).
async fn import_to(t: &TestApp, token: &str, path_and_query: &str, bytes: Vec<u8>) -> crate::common::Resp {
    let req = Request::builder()
        .method(Method::POST)
        .uri(path_and_query)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .body(Body::from(bytes))
        .expect("req");
    t.send(req).await
}

/// Uploads a file through an import page, as the browser's multipart form does.
async fn ui_upload(
    t: &TestApp,
    sid: &str,
    path: &str,
    fields: &[(&str, &str)],
    file_name: &str,
    bytes: &[u8],
) -> crate::common::Resp {
    let b = "----kamimportui";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend(format!("--{b}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes());
    }
    body.extend(
        format!("--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: text/csv\r\n\r\n")
            .as_bytes(),
    );
    body.extend(bytes);
    body.extend(format!("\r\n--{b}--\r\n").as_bytes());
    let req = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::COOKIE, format!("kam_session={sid}"))
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={b}"))
        .body(Body::from(body))
        .expect("req");
    t.send(req).await
}

/// The run id in the `action="/imports/{id}"` of the form that holds `marker` (the first such form
/// when `marker` is empty).
fn run_id(page: &str, marker: &str) -> i64 {
    let upto = if marker.is_empty() { page.len() } else { page.find(marker).unwrap_or(0) };
    let head = &page[..upto];
    let at = if marker.is_empty() { head.find("action=\"/imports/") } else { head.rfind("action=\"/imports/") };
    at.and_then(|i| page[i + "action=\"/imports/".len()..].split('"').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no /imports/{{id}} form around {marker:?} in the page: {page}"))
}

fn query(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).expect("query")
}

async fn contacts_of(t: &TestApp, token: &str, account: i64) -> Vec<serde_json::Value> {
    let r = t.get(&format!("/api/v1/accounts/{account}/contacts"), &Auth::Bearer(token.to_string())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()["items"].as_array().expect("items").clone()
}

fn contact<'a>(list: &'a [serde_json::Value], name: &str) -> &'a serde_json::Value {
    list.iter().find(|c| c["name"] == name).unwrap_or_else(|| panic!("no contact {name} in {list:?}"))
}

fn codes(r: &crate::common::Resp) -> Vec<String> {
    r.json()["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["code"].as_str().unwrap_or("").to_string())
        .collect()
}

#[tokio::test]
async fn contacts_import_with_chinese_headers_links_managers_named_later_in_the_file() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (rep_a, rep_b) = (&w.tokens["repA"], &w.tokens["repB"]);
    let x = t.get(&format!("/api/v1/accounts/{}", w.account_x), &Auth::Bearer(rep_a.clone())).await.json();
    let name = x["name"].as_str().expect("name").to_string();
    let before = contacts_of(&t, rep_a, w.account_x).await.len();
    // 李明 reports to 张伟, who only comes on the next line; roles and attitudes as Chinese labels.
    let csv = format!(
        "客户名称,姓名,职务,直接上级,决策角色,态度,关系强度\n\
         {name},李明,采购经理,张伟,影响者,中立,3\n\
         {name},张伟,副总经理,,决策者,支持,4\n"
    );
    let r = import_to(&t, rep_a, "/api/v1/imports/contacts", csv.clone().into_bytes()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["created"], 2, "{}", r.body);
    assert_eq!(r.json()["committed"], true);
    let list = contacts_of(&t, rep_a, w.account_x).await;
    assert_eq!(list.len(), before + 2);
    let (li, zhang) = (contact(&list, "李明"), contact(&list, "张伟"));
    let zhang_id = zhang["id"].as_i64().expect("id");
    let li_id = li["id"].as_i64().expect("id");
    assert_eq!(li["reports_to"], zhang_id, "the manager named later in the file is linked");
    assert!(zhang["reports_to"].is_null());
    assert_eq!(zhang["decision_role"], "decision_maker");
    assert_eq!(zhang["attitude"], "supporter");
    assert_eq!(li["decision_role"], "influencer");
    assert_eq!(li["attitude"], "neutral");
    assert_eq!(li["title"], "采购经理");
    assert_eq!(li["relationship"], 3);
    assert_eq!(zhang["relationship"], 4);

    // repB cannot see repA's account: the row is refused exactly like one naming no account at all.
    let other = format!("客户名称,姓名\n{name},赵六\n不存在的客户有限公司,赵七\n");
    let r = import_to(&t, rep_b, "/api/v1/imports/contacts", other.into_bytes()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(codes(&r), ["unknown_account", "unknown_account"], "{}", r.body);
    let errs = r.json()["errors"].clone();
    assert_eq!(errs[0]["row"], 2);
    assert_eq!(errs[0]["column"], "account");
    assert!(errs[0]["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert_eq!(contacts_of(&t, rep_a, w.account_x).await.len(), before + 2, "nothing written");

    // The same file again: both people exist on the account, each row names the contact it hit.
    let r = import_to(&t, rep_a, "/api/v1/imports/contacts", csv.clone().into_bytes()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(codes(&r), [format!("contact_exists:{li_id}"), format!("contact_exists:{zhang_id}")], "{}", r.body);
    assert!(r.json()["errors"][0]["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert_eq!(contacts_of(&t, rep_a, w.account_x).await.len(), before + 2, "nothing written");

    // Told to update: the existing contacts take the file's values.
    let changed = csv.replace("采购经理", "采购总监");
    let r = import_to(&t, rep_a, "/api/v1/imports/contacts?on_match=update", changed.into_bytes()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["updated"], 2, "{}", r.body);
    assert_eq!(r.json()["created"], 0);
    let list = contacts_of(&t, rep_a, w.account_x).await;
    assert_eq!(list.len(), before + 2);
    assert_eq!(contact(&list, "李明")["title"], "采购总监");
    assert_eq!(contact(&list, "李明")["reports_to"], zhang_id);
}

#[tokio::test]
async fn an_unknown_name_header_can_be_mapped_through_the_api() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let tok = &w.tokens["director"];
    let before = count(&t, tok).await;
    let csv = "公司全称,行业,微信群,备用\n映射接口测试有限公司,企业,群1,x\n".as_bytes().to_vec();
    let r = import_to(&t, tok, "/api/v1/imports/accounts", csv.clone()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["error"]["details"]["fields"]["file"]["code"], "name_column_missing", "{}", r.body);
    assert_eq!(count(&t, tok).await, before);
    // A field that does not exist is refused before anything is read.
    let bad = query(&[("map", "公司全称:nonsense")]);
    let r = import_to(&t, tok, &format!("/api/v1/imports/accounts?{bad}"), csv.clone()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["error"]["details"]["fields"]["map"]["code"], "invalid_choice", "{}", r.body);
    let q = query(&[("map", "公司全称:name"), ("map", "微信群:")]);
    let r = import_to(&t, tok, &format!("/api/v1/imports/accounts?{q}"), csv).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["created"], 1, "{}", r.body);
    // A header nobody mapped is reported; one the caller chose to ignore is not "unknown".
    assert_eq!(r.json()["unknown_columns"], serde_json::json!(["备用"]), "{}", r.body);
    assert_eq!(count(&t, tok).await, before + 1);
    let found =
        t.get(&format!("/api/v1/accounts?{}", query(&[("q", "映射接口测试")])), &Auth::Bearer(tok.clone())).await;
    assert_eq!(found.json()["items"][0]["name"], "映射接口测试有限公司", "{}", found.body);
    assert_eq!(found.json()["items"][0]["industry"], "enterprise");
}

#[tokio::test]
async fn the_import_page_asks_how_to_map_unknown_headers() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let tok = &w.tokens["director"];
    let before = count(&t, tok).await;
    let (sid, csrf) = t.ui_login("director", crate::common::PASSWORD, None).await.expect("sign in");
    let file = "公司全称,微信群\n映射页面测试有限公司,群1\n";
    let r = ui_upload(&t, &sid, "/accounts/import", &[("_csrf", &csrf)], "客户.csv", file.as_bytes()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("id=\"import-mapping\""), "{}", r.body);
    assert!(r.body.contains("<select id=\"map_0\" name=\"map_0\"") && r.body.contains("name=\"map_1\""), "{}", r.body);
    assert!(r.body.contains("公司全称") && r.body.contains("客户.csv"));
    assert_eq!(count(&t, tok).await, before, "nothing is imported before the mapping is chosen");
    let id = run_id(&r.body, "");
    let run = format!("/imports/{id}");
    // The run page shows the same step again (a reload, or from the list of recent imports).
    let again = t.get(&run, &Auth::Session { cookie: sid.clone(), csrf: String::new() }).await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(again.body.contains("id=\"import-mapping\""), "{}", again.body);
    // Somebody else's upload does not exist for them.
    let (msid, _) = t.ui_login("manager", crate::common::PASSWORD, None).await.expect("manager signs in");
    let other = Auth::Session { cookie: msid, csrf: String::new() };
    assert_eq!(t.get(&run, &other).await.status, StatusCode::NOT_FOUND);
    assert_eq!(t.get(&format!("{run}/errors.csv"), &other).await.status, StatusCode::NOT_FOUND);
    let r = t
        .ui_post(
            &run,
            &sid,
            &[("_csrf", &csrf), ("col_0", "公司全称"), ("map_0", "name"), ("col_1", "微信群"), ("map_1", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("已导入 1 个客户"), "{}", r.body);
    assert_eq!(count(&t, tok).await, before + 1);
    let found =
        t.get(&format!("/api/v1/accounts?{}", query(&[("q", "映射页面测试")])), &Auth::Bearer(tok.clone())).await;
    assert_eq!(found.json()["items"][0]["name"], "映射页面测试有限公司", "{}", found.body);
}

#[tokio::test]
async fn a_dry_run_in_the_page_offers_import_now_once() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let tok = &w.tokens["director"];
    let before = count(&t, tok).await;
    let (sid, csrf) = t.ui_login("director", crate::common::PASSWORD, None).await.expect("sign in");
    let file = "名称,行业\n试运行导入测试有限公司,企业\n";
    let r =
        ui_upload(&t, &sid, "/accounts/import", &[("_csrf", &csrf), ("dry_run", "1")], "a.csv", file.as_bytes()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("id=\"import-now\""), "{}", r.body);
    assert!(r.body.contains("试运行") && r.body.contains("可导入 1 个客户"), "{}", r.body);
    assert_eq!(count(&t, tok).await, before, "a dry run writes nothing");
    let id = run_id(&r.body, "id=\"import-now\"");
    let r = t.ui_post(&format!("/imports/{id}"), &sid, &[("_csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("已导入 1 个客户"), "{}", r.body);
    assert!(!r.body.contains("id=\"import-now\""), "no second 'import now' once imported");
    assert_eq!(count(&t, tok).await, before + 1);
    // The button pressed twice (or the page resubmitted) does not import again.
    let r = t.ui_post(&format!("/imports/{id}"), &sid, &[("_csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(count(&t, tok).await, before + 1);
    // Without the form's CSRF token nothing runs.
    let other = "名称,行业\n另一个试运行测试有限公司,企业\n";
    let r =
        ui_upload(&t, &sid, "/accounts/import", &[("_csrf", &csrf), ("dry_run", "1")], "b.csv", other.as_bytes()).await;
    let id = run_id(&r.body, "id=\"import-now\"");
    let r = t.ui_post(&format!("/imports/{id}"), &sid, &[("_csrf", "wrong")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(count(&t, tok).await, before + 1);
}

#[tokio::test]
async fn the_error_report_downloads_in_the_users_language() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let tok = &w.tokens["director"];
    let before = count(&t, tok).await;
    let (sid, csrf) = t.ui_login("director", crate::common::PASSWORD, None).await.expect("sign in");
    let file = "名称,行业\n错误报告测试有限公司,航运\n";
    let r = ui_upload(&t, &sid, "/accounts/import", &[("_csrf", &csrf)], "a.csv", file.as_bytes()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(count(&t, tok).await, before);
    let start = r.body.find("/errors.csv").unwrap_or_else(|| panic!("no errors.csv link: {}", r.body));
    let link = &r.body[..start + "/errors.csv".len()];
    let link = &link[link.rfind("/imports/").expect("link")..];
    assert!(r.body.contains(&link.replace("errors.csv", "errors.xlsx")));
    let me = Auth::Session { cookie: sid.clone(), csrf: String::new() };
    let csv = t.get(link, &me).await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.body);
    assert!(csv.headers[header::CONTENT_DISPOSITION].to_str().expect("cd").starts_with("attachment"));
    assert!(csv.headers[header::CONTENT_TYPE].to_str().expect("ct").starts_with("text/csv"));
    assert!(csv.body.starts_with('\u{feff}'), "Excel needs the BOM to read UTF-8");
    let mut lines = csv.body.trim_start_matches('\u{feff}').lines();
    assert_eq!(lines.next(), Some("行,列,值,原因"), "{}", csv.body);
    assert_eq!(lines.next(), Some("2,行业,航运,不是有效的选项"), "{}", csv.body);
    let xlsx = t.get(&link.replace("errors.csv", "errors.xlsx"), &me).await;
    assert_eq!(xlsx.status, StatusCode::OK);
    assert!(xlsx.headers[header::CONTENT_DISPOSITION].to_str().expect("cd").starts_with("attachment"));
    assert!(xlsx.body.starts_with("PK"), "an XLSX file");
    let (msid, _) = t.ui_login("manager", crate::common::PASSWORD, None).await.expect("manager signs in");
    let other = Auth::Session { cookie: msid, csrf: String::new() };
    assert_eq!(t.get(link, &other).await.status, StatusCode::NOT_FOUND, "another user's report is not there");
}

#[tokio::test]
async fn csv_utf8_as_excel_saves_it_keeps_quoted_cells_whole() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let tok = &w.tokens["director"];
    // Excel's "CSV UTF-8": a BOM, CRLF between records, LF inside a cell, quotes doubled.
    let csv = "\u{feff}名称,行业,地址\r\n\
               \"Excel导出测试有限公司\",企业,\"北京市海淀区中关村大街1号, \n\"\"科技园\"\"B座\"\r\n\
               普通导出测试有限公司,企业,上海市\r\n";
    let r = import(&t, tok, csv.as_bytes().to_vec(), false).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["created"], 2, "{}", r.body);
    assert_eq!(r.json()["unknown_columns"], serde_json::json!([]), "the BOM is not part of the first header");
    let found =
        t.get(&format!("/api/v1/accounts?{}", query(&[("q", "Excel导出测试")])), &Auth::Bearer(tok.clone())).await;
    let id = found.json()["items"][0]["id"].as_i64().unwrap_or_else(|| panic!("not found: {}", found.body));
    let a = t.get(&format!("/api/v1/accounts/{id}"), &Auth::Bearer(tok.clone())).await.json();
    assert_eq!(a["name"], "Excel导出测试有限公司");
    assert_eq!(a["address"], "北京市海淀区中关村大街1号, \n\"科技园\"B座");
}

#[tokio::test]
async fn the_same_company_twice_in_a_file_names_the_earlier_row() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let tok = &w.tokens["director"];
    let before = count(&t, tok).await;
    let csv = "名称,行业\n重复行测试有限公司,企业\n另一家测试有限公司,企业\n重复行测试股份有限公司,企业\n";
    let r = import(&t, tok, csv.as_bytes().to_vec(), false).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let errs = r.json()["errors"].as_array().expect("errors").clone();
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0]["row"], 4);
    assert_eq!(errs[0]["column"], "name");
    assert_eq!(errs[0]["value"], "重复行测试股份有限公司");
    assert_eq!(errs[0]["code"], "duplicate_in_file:2");
    assert!(errs[0]["message"].as_str().is_some_and(|m| m.contains('2')), "{errs:?}");
    assert_eq!(r.json()["created"], 0);
    assert_eq!(count(&t, tok).await, before, "all or nothing");
}

#[tokio::test]
async fn malformed_files_are_refused_whole_with_a_reason() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let tok = &w.tokens["director"];
    let before = count(&t, tok).await;
    let file_code = |r: &crate::common::Resp| {
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        r.json()["error"]["details"]["fields"]["file"]["code"].as_str().unwrap_or_default().to_string()
    };
    // A valid workbook cut in half, as an interrupted download leaves it.
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "名称").expect("cell");
    for r in 1..200u32 {
        ws.write_string(r, 0, format!("截断测试{r}有限公司")).expect("cell");
    }
    let whole = wb.save_to_buffer().expect("xlsx");
    let half = whole[..whole.len() / 2].to_vec();
    assert_eq!(file_code(&import(&t, tok, half, false).await), "xlsx_unreadable");
    // The binary Excel 97–2003 format.
    let mut xls = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1".to_vec();
    xls.extend(std::iter::repeat_n(0u8, 4096));
    assert_eq!(file_code(&import(&t, tok, xls, false).await), "xls_not_supported");
    // Bytes that are neither UTF-8 nor GBK.
    let mut junk = b"name,industry\n".to_vec();
    for _ in 0..100 {
        junk.extend(b"\xFF\xFF\xFF,enterprise\n");
    }
    assert_eq!(file_code(&import(&t, tok, junk, false).await), "encoding_unknown");
    // An empty body.
    assert_eq!(file_code(&import(&t, tok, vec![], false).await), "file_empty");
    assert_eq!(count(&t, tok).await, before, "nothing of any of them is written");
    // A 10 MB name: refused as too long, and the report shows only its start.
    let mut big = b"name,industry\n".to_vec();
    big.extend(std::iter::repeat_n(b'A', 10 * 1024 * 1024));
    big.extend(b",enterprise\n\xE6\xAD\xA3\xE5\xB8\xB8\xE7\x9A\x84\xE5\x85\xAC\xE5\x8F\xB8,enterprise\n");
    let r = import(&t, tok, big, false).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", &r.body[..r.body.len().min(2000)]);
    assert!(r.body.len() < 10_000, "the report does not echo the whole cell ({} bytes)", r.body.len());
    let errs = r.json()["errors"].as_array().expect("errors").clone();
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0]["row"], 2);
    assert_eq!(errs[0]["column"], "name");
    assert_eq!(errs[0]["code"], "too_long");
    let shown = errs[0]["value"].as_str().expect("value");
    assert!(shown.starts_with("AAAA") && shown.chars().count() <= 201, "{} chars", shown.chars().count());
    assert_eq!(count(&t, tok).await, before);
}

#[tokio::test]
async fn xlsx_dates_and_numbers_arrive_as_a_person_typed_them() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let tok = &w.tokens["director"];
    // Accounts: amounts as number cells.
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in ["名称", "行业", "年度采购量(元)", "近12个月销售额(元)"].iter().enumerate() {
        ws.write_string(0, c as u16, *h).expect("cell");
    }
    ws.write_string(1, 0, "数字单元格测试有限公司").expect("cell");
    ws.write_string(1, 1, "企业").expect("cell");
    ws.write_number(1, 2, 1_200_000.0).expect("cell");
    ws.write_number(1, 3, 1234.5).expect("cell");
    let r = import(&t, tok, wb.save_to_buffer().expect("xlsx"), false).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let found =
        t.get(&format!("/api/v1/accounts?{}", query(&[("q", "数字单元格测试")])), &Auth::Bearer(tok.clone())).await;
    let a = &found.json()["items"][0];
    assert_eq!(a["buying_power"], "1200000.00", "{}", found.body);
    assert_eq!(a["sales_12m"], "1234.50", "{}", found.body);
    // Contacts: a birthday as a date cell, a mobile number and a relationship as number cells.
    let x = t.get(&format!("/api/v1/accounts/{}", w.account_x), &Auth::Bearer(tok.clone())).await.json();
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in ["客户名称", "姓名", "生日", "手机", "关系强度"].iter().enumerate() {
        ws.write_string(0, c as u16, *h).expect("cell");
    }
    ws.write_string(1, 0, x["name"].as_str().expect("name")).expect("cell");
    ws.write_string(1, 1, "陈静").expect("cell");
    let date = rust_xlsxwriter::ExcelDateTime::from_ymd(1985, 6, 15).expect("date");
    ws.write_date_with_format(1, 2, &date, &rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd")).expect("cell");
    ws.write_number(1, 3, 13_800_138_000.0).expect("cell");
    ws.write_number(1, 4, 4.0).expect("cell");
    let r = import_to(&t, tok, "/api/v1/imports/contacts", wb.save_to_buffer().expect("xlsx")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["created"], 1);
    let list = contacts_of(&t, tok, w.account_x).await;
    let c = contact(&list, "陈静");
    assert_eq!(c["birthday"], "1985-06-15");
    assert_eq!(c["phone"], "13800138000");
    assert_eq!(c["relationship"], 4);
}

#[tokio::test]
async fn a_repeat_far_down_a_long_file_is_reported_as_a_repeat_of_its_row() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let tok = &w.tokens["director"];
    let before = count(&t, tok).await;
    // More rows than one batch of the reader: the repeat comes in a later batch than its original.
    let mut csv = String::from("名称,行业\n跨批重复测试有限公司,企业\n");
    for i in 0..600 {
        csv.push_str(&format!("批量测试{i}号有限公司,企业\n"));
    }
    csv.push_str("跨批重复测试股份有限公司,企业\n");
    let r = import(&t, tok, csv.into_bytes(), false).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let errs = r.json()["errors"].as_array().expect("errors").clone();
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0]["row"], 603);
    // Not "matches an existing account #N": that account was only ever in this rolled-back file.
    assert_eq!(errs[0]["code"], "duplicate_in_file:2", "{errs:?}");
    assert_eq!(count(&t, tok).await, before, "all or nothing");
}

#[tokio::test]
async fn the_same_person_twice_in_a_contacts_file_names_the_earlier_row() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let tok = &w.tokens["director"];
    let x = t.get(&format!("/api/v1/accounts/{}", w.account_x), &Auth::Bearer(tok.clone())).await.json();
    let name = x["name"].as_str().expect("name").to_string();
    let before = contacts_of(&t, tok, w.account_x).await.len();
    let csv = format!("客户名称,姓名,职务\n{name},刘洋,经理\n{name},刘洋,总监\n");
    let r = import_to(&t, tok, "/api/v1/imports/contacts", csv.clone().into_bytes()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(contacts_of(&t, tok, w.account_x).await.len(), before, "nothing written");
    // Not "the account already has this contact (#N)": #N existed only inside this refused file.
    assert_eq!(codes(&r), ["duplicate_in_file:2"], "{}", r.body);
    // Updating existing contacts does not make the file's second row overwrite its first.
    let r = import_to(&t, tok, "/api/v1/imports/contacts?on_match=update", csv.into_bytes()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(codes(&r), ["duplicate_in_file:2"], "{}", r.body);
    assert_eq!(contacts_of(&t, tok, w.account_x).await.len(), before, "nothing written");
}

#[tokio::test]
async fn import_now_pressed_twice_at_once_imports_once() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let tok = &w.tokens["director"];
    let before = count(&t, tok).await;
    let (sid, csrf) = t.ui_login("director", crate::common::PASSWORD, None).await.expect("sign in");
    let file = "名称,行业\n双击导入测试有限公司,企业\n双击导入测试二有限公司,企业\n";
    let r =
        ui_upload(&t, &sid, "/accounts/import", &[("_csrf", &csrf), ("dry_run", "1")], "a.csv", file.as_bytes()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let run = format!("/imports/{}", run_id(&r.body, "id=\"import-now\""));
    // A double click: two submissions of the same form in flight together.
    let form = [("_csrf", csrf.as_str())];
    let (a, b) = tokio::join!(t.ui_post(&run, &sid, &form), t.ui_post(&run, &sid, &form));
    assert_eq!(count(&t, tok).await, before + 2, "each row is imported once ({} and {})", a.status, b.status);
    let page = t.get(&run, &Auth::Session { cookie: sid.clone(), csrf: String::new() }).await;
    assert!(page.body.contains("已导入 2 个客户"), "the run stays imported: {}", page.body);
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "the second submission is told the file was imported already");
}

/// Imports work out who sees each new account in memory; the rows must be exactly those the
/// SQL rule (`visibility::rebuild_all`) derives. Regions and branches may be named by code or
/// by name.
#[tokio::test]
async fn imported_accounts_are_seen_by_exactly_whom_the_visibility_rule_says() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let tok = &w.tokens["director"];
    let csv = "客户名称,行业,大区,分公司,客户经理,内部销售\n\
        可见性甲有限公司,企业,N,BJ,repA,\n\
        可见性乙有限公司,金融,华东大区,上海分公司,repC,\n\
        可见性丙有限公司,电力,N,TJ,,\n\
        可见性丁有限公司,政府,,,repB,\n";
    let r = import(&t, tok, csv.as_bytes().to_vec(), false).await;
    assert_eq!(r.json()["created"], 4, "{}", r.body);
    let snapshot = |db: kam::db::Db| async move {
        let rows = sqlx::query("SELECT user_id, account_id, name FROM account_visibility ORDER BY user_id, account_id")
            .fetch_all(&db.pool)
            .await
            .expect("rows");
        rows.iter()
            .map(|r| {
                use sqlx::Row;
                (
                    r.try_get::<i64, _>("user_id").expect("u"),
                    r.try_get::<i64, _>("account_id").expect("a"),
                    r.try_get::<String, _>("name").expect("n"),
                )
            })
            .collect::<Vec<_>>()
    };
    let bulk = snapshot(t.app.db.clone()).await;
    let mut tx = t.app.db.begin().await.expect("tx");
    kam::app::customers::visibility::rebuild_all(tx.conn()).await.expect("rebuild");
    tx.commit().await.expect("commit");
    let rule = snapshot(t.app.db.clone()).await;
    assert_eq!(bulk, rule);
    // And the people of the seed see what they should: repA the BJ account, the branch
    // manager of region N both N accounts, repC only the SH one.
    let names = |who: &'static str| {
        let tok = w.tokens[who].clone();
        let t = &t;
        async move {
            t.get("/api/v1/accounts?q=%E5%8F%AF%E8%A7%81%E6%80%A7&limit=50", &Auth::Bearer(tok)).await.json()["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|a| a["name"].as_str().expect("name").to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(names("repA").await, vec!["可见性甲有限公司"]);
    assert_eq!(names("repC").await, vec!["可见性乙有限公司"]);
    let mut region = names("region").await;
    region.sort();
    assert_eq!(region, vec!["可见性丙有限公司", "可见性甲有限公司"]);
}

/// Both lists lead to their import for those who may import, and only for them.
#[tokio::test]
async fn the_lists_link_their_import_for_those_who_may_import() {
    let t = TestApp::new().await;
    seed(&t).await;
    for (user, sees) in [("repA", true), ("finance", false)] {
        let (sid, _) = t.ui_login(user, crate::common::PASSWORD, None).await.expect("sign in");
        let auth = Auth::Session { cookie: sid, csrf: String::new() };
        let contacts = t.get("/contacts", &auth).await.body;
        assert_eq!(contacts.contains("href=\"/contacts/import\""), sees, "{user} on /contacts");
        let accounts = t.get("/accounts", &auth).await.body;
        assert_eq!(accounts.contains("href=\"/accounts/import\""), sees, "{user} on /accounts");
        let page = t.get("/contacts/import", &auth).await;
        assert_eq!(page.status == StatusCode::OK, sees, "{user} opens the contacts import");
    }
}

/// The names of the indexes on the tables a large import writes.
async fn index_names(db: &kam::db::Db) -> Vec<String> {
    use sqlx::Row;
    let sql = match db.backend {
        kam::db::Backend::Sqlite => {
            "SELECT name AS n FROM sqlite_master WHERE type = 'index' \
             AND tbl_name IN ('accounts', 'account_visibility', 'account_access', 'audit_log') ORDER BY name"
        }
        kam::db::Backend::Postgres => {
            "SELECT indexname::text AS n FROM pg_indexes \
             WHERE tablename IN ('accounts', 'account_visibility', 'account_access', 'audit_log') ORDER BY indexname"
        }
    };
    sqlx::query(sql).fetch_all(&db.pool).await.expect("indexes").iter().map(|r| r.get::<String, _>("n")).collect()
}

/// An import large against what the database holds sets its name indexes aside while it writes
/// (SQLite) and builds them again: afterwards every index is there and lookups by name work;
/// a large import that fails leaves every index as it was. Each account's audit row shows it as
/// the API does, with its own id.
#[tokio::test]
async fn a_large_import_leaves_every_index_in_place_and_an_exact_audit_trail() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let tok = &w.tokens["director"];
    let before_idx = index_names(t.db()).await;
    assert!(before_idx.iter().any(|n| n == "accounts_name"), "{before_idx:?}");
    let before = count(&t, tok).await;
    let mut csv = String::from("客户名称,行业,大区,客户经理\n");
    for i in 0..5_100 {
        csv.push_str(&format!("大批导入{i}号有限公司,企业,N,repA\n"));
    }
    // First with a bad last row: nothing is written, the indexes are as they were.
    let bad = format!("{csv}大批导入末行有限公司,不存在的行业,N,repA\n");
    let r = import(&t, tok, bad.into_bytes(), false).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["errors"][0]["row"], 5_102);
    assert_eq!(count(&t, tok).await, before);
    assert_eq!(index_names(t.db()).await, before_idx);

    let r = import(&t, tok, csv.into_bytes(), false).await;
    assert_eq!(r.json()["created"], 5_100, "{}", r.body);
    assert_eq!(index_names(t.db()).await, before_idx, "every index is back");
    assert_eq!(count(&t, tok).await, before + 5_100);
    // Found by name (through the rebuilt index) and seen by the owner's list.
    let found =
        t.get("/api/v1/accounts?q=%E5%A4%A7%E6%89%B9%E5%AF%BC%E5%85%A54999%E5%8F%B7", &Auth::Bearer(tok.clone())).await;
    let item = found.json()["items"][0].clone();
    assert_eq!(item["name"], "大批导入4999号有限公司", "{}", found.body);
    let rep = t.get("/api/v1/accounts/count", &Auth::Bearer(w.tokens["repA"].clone())).await.json();
    assert!(rep["count"].as_i64().expect("count") >= 5_100, "{rep}");
    // The audit row of that account: the account as the API shows it, its own id included.
    let id = item["id"].as_i64().expect("id");
    let shown = t.get(&format!("/api/v1/accounts/{id}"), &Auth::Bearer(tok.clone())).await.json();
    use sqlx::Row;
    let after: String = sqlx::query(
        "SELECT after_json FROM audit_log WHERE entity = 'account' AND entity_id = $1 AND action = 'create'",
    )
    .bind(id.to_string())
    .fetch_one(&t.db().pool)
    .await
    .expect("audit row")
    .get("after_json");
    let after: serde_json::Value = serde_json::from_str(&after).expect("json");
    for k in ["id", "name", "owner", "region", "industry", "created_at", "version"] {
        assert_eq!(after[k], shown[k], "{k}: audit {after} vs API {shown}");
    }
}

/// SQLite: no commit copies the WAL back into the database file (a large import's commit would
/// otherwise wait for it); the server's own background task does, soon after.
#[tokio::test]
async fn committed_writes_reach_the_sqlite_file_without_a_commit_waiting_for_it() {
    let t = TestApp::new().await;
    if t.db().backend != kam::db::Backend::Sqlite {
        return;
    }
    let w = seed(&t).await;
    use sqlx::Row;
    let auto: i64 = sqlx::query("PRAGMA wal_autocheckpoint").fetch_one(&t.db().pool).await.expect("pragma").get(0);
    assert_eq!(auto, 0, "commits leave the WAL alone");
    let file = t.url.trim_start_matches("sqlite://").to_string();
    let size = || std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    let start = size();
    let mut csv = String::from("客户名称,行业\n");
    for i in 0..1_500 {
        csv.push_str(&format!("检查点{i}号有限公司,企业\n"));
    }
    let r = import(&t, &w.tokens["director"], csv.into_bytes(), false).await;
    assert_eq!(r.json()["created"], 1_500, "{}", r.body);
    // Liveness, not speed: the pages arrive in the file within a generous while.
    let mut grown = false;
    for _ in 0..100 {
        if size() > start {
            grown = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(grown, "the database file still holds {start} bytes: nothing checkpointed the WAL");
}

/// The rows this process committed by `COPY`, from `/metrics` (PostgreSQL; None elsewhere).
async fn rows_copied(t: &TestApp) -> Option<u64> {
    let m = t.get("/metrics", &Auth::None).await.body;
    m.lines().find_map(|l| l.strip_prefix("kam_bulk_rows_copied_total ")).map(|v| v.trim().parse().expect("a count"))
}

/// Stage tables and running loads left (PostgreSQL): none once a load has ended.
async fn staged_rows(t: &TestApp) -> i64 {
    use sqlx::Row;
    sqlx::query(
        "SELECT (SELECT COUNT(*) FROM pg_class WHERE relname ~ '^bulk_stage_l[0-9]+_[0-9]+$') \
         + (SELECT COUNT(*) FROM bulk_stage_loads) AS n",
    )
    .fetch_one(&t.db().pool)
    .await
    .expect("count")
    .get("n")
}

/// Issue 26: on PostgreSQL the account and contact imports send their rows by `COPY` (on a
/// connection of their own) and still commit all or nothing; every character arrives as typed,
/// also those that mean something to CSV, to array literals and to SQL.
#[tokio::test]
async fn imports_travel_by_copy_on_postgresql_all_or_nothing_and_keep_every_character() {
    use sqlx::Row;
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let tok = &w.tokens["director"];
    let pg = t.db().backend == kam::db::Backend::Postgres;
    let copied0 = rows_copied(&t).await;
    assert_eq!(copied0.is_some(), pg, "the metric is PostgreSQL's");
    let odd = "引号\"双\" 反斜杠\\ {花括号}, 逗号";
    let address = "第一行\n第二行\t制表 'single' NULL";
    let csv = format!(
        "客户名称,行业,大区,客户经理,地址\n\
         \"{}有限公司\",企业,N,repA,\"{}\"\n\
         NULL,企业,N,repA,\n\
         普通有限公司,政府,N,repA,\\N\n",
        odd.replace('"', "\"\""),
        address
    );
    let before = count(&t, tok).await;
    // A bad last row: nothing arrives, nothing stays staged.
    let bad = format!("{csv}末行有限公司,不存在的行业,N,repA,\n");
    let r = import(&t, tok, bad.into_bytes(), false).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(count(&t, tok).await, before, "all or nothing");
    if pg {
        assert_eq!(staged_rows(&t).await, 0, "a refused import leaves no staged rows");
        assert_eq!(rows_copied(&t).await, copied0, "nothing committed by COPY");
    }

    let r = import(&t, tok, csv.into_bytes(), false).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["created"], 3, "{}", r.body);
    let list = t.get("/api/v1/accounts?limit=200", &Auth::Bearer(tok.clone())).await.json();
    let items = list["items"].as_array().expect("items").clone();
    let find = |name: &str| -> i64 {
        items.iter().find(|a| a["name"] == name).unwrap_or_else(|| panic!("no account {name:?}"))["id"]
            .as_i64()
            .expect("id")
    };
    let odd_id = find(&format!("{odd}有限公司"));
    let shown = t.get(&format!("/api/v1/accounts/{odd_id}"), &Auth::Bearer(tok.clone())).await.json();
    assert_eq!(shown["address"], address, "{shown}");
    let null_id = find("NULL");
    let shown = t.get(&format!("/api/v1/accounts/{null_id}"), &Auth::Bearer(tok.clone())).await.json();
    assert!(shown["address"].is_null(), "an empty cell is no address: {shown}");
    let plain = t.get(&format!("/api/v1/accounts/{}", find("普通有限公司")), &Auth::Bearer(tok.clone())).await.json();
    assert_eq!(plain["address"], "\\N", "a backslash-N is text, not COPY's null");
    if pg {
        let copied = rows_copied(&t).await.expect("metric");
        // Three accounts, their audit rows, access and visibility rows.
        assert!(copied >= copied0.expect("metric") + 6, "{copied0:?} → {copied}");
        assert_eq!(staged_rows(&t).await, 0, "the staged rows are deleted after the commit");
    }

    // Contacts onto those accounts, a manager named later in the file, odd characters again.
    let copied1 = rows_copied(&t).await;
    let csv = format!(
        "客户名称,姓名,职务,直接上级,兴趣爱好\n\
         \"{}有限公司\",李明,\"{}\",张伟,\"{}\"\n\
         \"{}有限公司\",张伟,副总经理,,\n\
         NULL,王五,NULL,,\n",
        odd.replace('"', "\"\""),
        odd.replace('"', "\"\""),
        address,
        odd.replace('"', "\"\""),
    );
    let r = import_to(&t, tok, "/api/v1/imports/contacts", csv.into_bytes()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["created"], 3, "{}", r.body);
    let list = contacts_of(&t, tok, odd_id).await;
    let (li, zhang) = (contact(&list, "李明"), contact(&list, "张伟"));
    assert_eq!(li["title"], odd);
    assert_eq!(li["interests"], address);
    assert_eq!(li["reports_to"], zhang["id"], "the manager named later in the file is linked");
    let wang = contacts_of(&t, tok, null_id).await;
    assert_eq!(contact(&wang, "王五")["title"], "NULL", "the text NULL stays text");
    // Each new contact has its audit row, the contact as the API shows it.
    let li_id = li["id"].as_i64().expect("id");
    let after: String = sqlx::query(
        "SELECT after_json FROM audit_log WHERE entity = 'contact' AND entity_id = $1 AND action = 'create'",
    )
    .bind(li_id.to_string())
    .fetch_one(&t.db().pool)
    .await
    .expect("audit row")
    .get("after_json");
    let after: serde_json::Value = serde_json::from_str(&after).expect("json");
    assert_eq!(after["title"], odd, "{after}");
    assert_eq!(after["account_id"], odd_id);
    if pg {
        let copied = rows_copied(&t).await.expect("metric");
        assert!(
            copied >= copied1.expect("metric") + 6,
            "contacts and their audit rows by COPY: {copied1:?} → {copied}"
        );
        assert_eq!(staged_rows(&t).await, 0);
    }
}
