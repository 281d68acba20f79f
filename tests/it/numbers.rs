//! Numbers as a Chinese business report reads them: amounts typed as `1,280,000` or `128万` in
//! forms and imports, the API's strict decimal strings, the display unit, XLSX exports a person
//! can add up.
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::json;

use crate::common::{fields, seed, Auth, TestApp, PASSWORD};

fn session(sid: &str) -> Auth {
    Auth::Session { cookie: sid.to_string(), csrf: String::new() }
}

fn location(r: &crate::common::Resp) -> String {
    r.headers.get("location").and_then(|v| v.to_str().ok()).expect("location").to_string()
}

fn id_in(loc: &str) -> i64 {
    let path = loc.split('?').next().unwrap_or(loc);
    path.trim_start_matches('/').split('/').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("id in {loc}"))
}

async fn bytes_of(t: &TestApp, path: &str, sid: &str) -> (axum::http::HeaderMap, Vec<u8>) {
    let req = Request::builder()
        .uri(path)
        .header(header::COOKIE, format!("kam_session={sid}"))
        .body(Body::empty())
        .expect("req");
    let res = tower::ServiceExt::oneshot(t.router.clone(), req).await.expect("res");
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    let headers = res.headers().clone();
    (headers, http_body_util::BodyExt::collect(res.into_body()).await.expect("body").to_bytes().to_vec())
}

#[tokio::test]
async fn amounts_typed_as_people_write_them_in_forms_read_back_exact_through_the_api() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = Auth::Bearer(w.tokens["repA"].clone());
    let (sid, csrf) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");
    let r = t
        .ui_post(
            "/accounts/new",
            &sid,
            &[
                ("_csrf", &csrf),
                ("name", "南京紫金数控有限公司"),
                ("industry", "education"),
                ("level", "L2"),
                ("buying_power", "1,280,000"),
                ("sales_12m", "￥ １２.５万"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let id = id_in(&location(&r));
    let a = t.get(&format!("/api/v1/accounts/{id}"), &rep).await.json();
    assert_eq!(a["buying_power"], "1280000.00", "{a}");
    assert_eq!(a["sales_12m_entered"], "125000.00", "{a}");
    // An edit in 万.
    let v = a["version"].as_i64().expect("version").to_string();
    let r = t
        .ui_post(
            &format!("/accounts/{id}/edit"),
            &sid,
            &[
                ("_csrf", &csrf),
                ("version", &v),
                ("name", "南京紫金数控有限公司"),
                ("industry", "education"),
                ("level", "L2"),
                ("buying_power", "128万"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(t.get(&format!("/api/v1/accounts/{id}"), &rep).await.json()["buying_power"], "1280000.00");
    // What cannot be read exactly comes back on the form, the field named in Chinese.
    let r = t
        .ui_post(
            "/accounts/new",
            &sid,
            &[("_csrf", &csrf), ("name", "南京紫金精工有限公司"), ("industry", "education"), ("buying_power", "12万8")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("年度采购量(元): 金额格式不正确"), "{}", r.body);
    assert!(r.body.contains("12万8"), "what was typed is kept");

    // The opportunity form: ¥ and 亿, then a stage move's booked amount with separators.
    let path = format!("/accounts/{id}/opportunities/new");
    let r = t
        .ui_post(
            &path,
            &sid,
            &[
                ("_csrf", &csrf),
                ("name", "数控系统升级"),
                ("amount", "¥1.2亿"),
                ("expected_close", "2031-03-31"),
                ("eval_need", "产线升级"),
                ("eval_budget", "已列入预算"),
                ("eval_timeline", "三季度"),
                ("eval_decision_makers", "总经理"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let opp = id_in(&location(&r));
    let o = t.get(&format!("/api/v1/opportunities/{opp}"), &rep).await.json();
    assert_eq!(o["amount"], "120000000.00", "{o}");
    let r = t
        .ui_post(
            &format!("/opportunities/{opp}/edit"),
            &sid,
            &[
                ("_csrf", &csrf),
                ("version", &o["version"].as_i64().expect("version").to_string()),
                ("name", "数控系统升级"),
                ("amount", "1,280,000.50"),
                ("expected_close", "2031-03-31"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(t.get(&format!("/api/v1/opportunities/{opp}"), &rep).await.json()["amount"], "1280000.50");
}

#[tokio::test]
async fn the_api_keeps_its_strict_decimal_strings() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = Auth::Bearer(w.tokens["repA"].clone());
    let r = t
        .call(
            Method::POST,
            "/api/v1/accounts",
            &rep,
            Some(json!({"name": "南京紫金数控有限公司", "industry": "education", "buying_power": "128万"})),
        )
        .await;
    assert_eq!(fields(&r).get("buying_power").map(String::as_str), Some("money_format"), "{}", r.body);
    let r = t
        .call(
            Method::POST,
            "/api/v1/opportunities",
            &rep,
            Some(json!({
                "account_id": w.account_x, "name": "数控系统升级", "amount": "1,280,000",
                "expected_close": "2031-03-31", "eval_need": "产线升级", "eval_budget": "已列入预算",
                "eval_timeline": "三季度", "eval_decision_makers": "总经理",
            })),
        )
        .await;
    assert_eq!(fields(&r).get("amount").map(String::as_str), Some("money_format"), "{}", r.body);
}

async fn import(t: &TestApp, token: &str, bytes: Vec<u8>) -> crate::common::Resp {
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/imports/accounts")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .body(Body::from(bytes))
        .expect("req");
    t.send(req).await
}

#[tokio::test]
async fn an_import_reads_amounts_as_a_chinese_spreadsheet_writes_them() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let tok = &w.tokens["director"];
    let d = Auth::Bearer(tok.clone());
    let bad =
        "客户名称,行业,年度采购量(元),近12个月销售额(元)\r\n甲公司,企业,\"1,280,000\",128万\r\n乙公司,企业,12万8,\r\n";
    let r = import(&t, tok, bad.as_bytes().to_vec()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let errs = r.json()["errors"].as_array().expect("errors").clone();
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!((errs[0]["row"].as_i64(), errs[0]["column"].as_str()), (Some(3), Some("buying_power")), "{errs:?}");
    assert_eq!(errs[0]["value"], "12万8");
    let csv = "客户名称,行业,年度采购量(元),近12个月销售额(元)\r\n\
        甲公司,企业,\"1,280,000\",128万\r\n\
        乙公司,企业,￥1.2亿,\"１２８.５万\"\r\n\
        丙公司,企业,\" ¥ 1,280,000.50 \",1280000.5\r\n";
    let r = import(&t, tok, csv.as_bytes().to_vec()).await;
    assert_eq!(r.json()["created"], 3, "{}", r.body);
    for (q, bp, sales) in [
        ("甲公司", "1280000.00", "1280000.00"),
        ("乙公司", "120000000.00", "1285000.00"),
        ("丙公司", "1280000.50", "1280000.50"),
    ] {
        let found = t.get(&format!("/api/v1/accounts?q={}", urlencode(q)), &d).await.json();
        assert_eq!(found["items"][0]["buying_power"], bp, "{q}: {found}");
        assert_eq!(found["items"][0]["sales_12m_entered"], sales, "{q}: {found}");
    }
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("q", s)]).expect("q").trim_start_matches("q=").to_string()
}

#[tokio::test]
async fn an_xlsx_export_adds_up_and_reads_in_the_users_language() {
    use calamine::{Data, Reader};
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = Auth::Bearer(w.tokens["repA"].clone());
    let r = t
        .call(
            Method::POST,
            "/api/v1/accounts",
            &rep,
            Some(json!({"name": "南京紫金数控有限公司", "industry": "education", "buying_power": "1280000.50"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let (sid, _) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");
    let (h, bytes) = bytes_of(&t, "/accounts/export.xlsx", &sid).await;
    let today = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).format("%Y-%m-%d").to_string();
    let cd = h[header::CONTENT_DISPOSITION].to_str().expect("cd");
    assert!(cd.contains(&format!("filename=\"accounts_{today}.xlsx\"")), "{cd}");
    assert!(
        cd.contains(&format!("filename*=UTF-8''%E5%AE%A2%E6%88%B7%E5%88%97%E8%A1%A8_{today}.xlsx")),
        "客户列表: {cd}"
    );
    let mut wb = calamine::Xlsx::new(std::io::Cursor::new(bytes)).expect("a real XLSX");
    let sheet = wb.worksheet_range("accounts").expect("sheet");
    let rows: Vec<Vec<Data>> = sheet.rows().map(|r| r.to_vec()).collect();
    let head: Vec<String> = rows[0].iter().map(|c| c.to_string()).collect();
    let col = |h: &str| head.iter().position(|x| x == h).unwrap_or_else(|| panic!("{h} in {head:?}"));
    assert!(!head.iter().any(|h| h == "版本" || h == "version"), "no internal columns: {head:?}");
    let (bp, industry, region, owner, name) =
        (col("年度采购量(元)"), col("行业"), col("大区"), col("客户经理(AE)"), col("名称"));
    let mut sum = 0.0;
    for r in &rows[1..] {
        match &r[bp] {
            Data::Float(f) => sum += f,
            Data::Empty => {}
            other => panic!("an amount is a number cell, not {other:?}"),
        }
        assert!(matches!(r[0], Data::Float(_) | Data::Int(_)), "ids are numbers: {:?}", r[0]);
    }
    assert!((sum - (1_280_000.50 + 2_500_000.00)).abs() < 0.001, "SUM-able: {sum}");
    let x = rows.iter().find(|r| r[name] == "北京星河精密制造有限公司").expect("account X");
    assert_eq!(x[industry].to_string(), "企业");
    assert_eq!(x[region].to_string(), "华北大区", "region by name, not N");
    assert_eq!(x[owner].to_string(), "repA");
    let n = rows.iter().find(|r| r[name] == "南京紫金数控有限公司").expect("the new account");
    assert_eq!(n[industry].to_string(), "教育", "codes as labels");
    // The CSV and the API keep codes and decimal strings.
    let csv = t.get("/accounts/export.csv", &session(&sid)).await;
    assert!(csv.body.contains(",education,") && csv.body.contains("1280000.50"), "{}", csv.body);
    let api = t.get("/api/v1/accounts/export?format=csv", &rep).await;
    assert!(api.body.lines().next().expect("header").contains("version"), "{}", api.body);
    // A report too: counts and amounts are numbers.
    let (_, bytes) = bytes_of(&t, "/reports/funnel/export?format=xlsx", &sid).await;
    let mut wb = calamine::Xlsx::new(std::io::Cursor::new(bytes)).expect("a real XLSX");
    let sheet = wb.worksheet_range("funnel").expect("sheet");
    assert!(sheet.rows().skip(1).all(|r| matches!(r[2], Data::Float(_)) && matches!(r[3], Data::Float(_))));
}

#[tokio::test]
async fn a_user_reads_amounts_in_wan_and_the_board_in_compact_figures() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (sid, csrf) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");
    let list = t.get("/accounts", &session(&sid)).await;
    assert!(list.body.contains("2,500,000.00"), "元 by default");
    assert!(!list.body.contains("id=\"unit-note\""));
    let r = t.ui_post("/profile/money-unit", &sid, &[("_csrf", &csrf), ("money_unit", "wan")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let list = t.get("/accounts", &session(&sid)).await;
    assert!(list.body.contains(">250.00<"), "万元: {}", list.body);
    assert!(list.body.contains("金额单位：万元"));
    let page = t.get(&format!("/accounts/{}", w.account_x), &session(&sid)).await;
    assert!(page.body.contains("250.00"), "the account page too");
    let r = t.ui_post("/profile/money-unit", &sid, &[("_csrf", &csrf), ("money_unit", "gold")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "an unknown unit is refused");
    // The board's cards in compact figures.
    let rep = Auth::Bearer(w.tokens["repA"].clone());
    let r = t
        .call(
            Method::POST,
            "/api/v1/opportunities",
            &rep,
            Some(json!({
                "account_id": w.account_x, "name": "数控系统升级", "amount": "1285000.00",
                "expected_close": "2031-03-31", "eval_need": "产线升级", "eval_budget": "已列入预算",
                "eval_timeline": "三季度", "eval_decision_makers": "总经理",
            })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let board = t.get("/opportunities?view=board", &session(&sid)).await;
    assert!(board.body.contains(">¥128.5万<"), "{}", board.body);
}
