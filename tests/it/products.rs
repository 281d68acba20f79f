//! The product catalogue (产品目录): kept by the commercial manager and the HQ managers, read by
//! everyone but the administrator; the floor price and standard cost reach the commercial,
//! finance and director roles only (API, exports, history); imports take all rows or none.
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::{json, Value};

use crate::common::{download, fields, seed, Auth, Resp, TestApp, PASSWORD};

fn server() -> Value {
    json!({
        "code": "SRV-R750", "name": "机架式服务器 R750", "category": "服务器", "specification": "2×银牌4314 / 256GB",
        "unit": "台", "list_price": "128000.00", "floor_price": "106000.00", "standard_cost": "92000.00"
    })
}

async fn count(t: &TestApp, auth: &Auth) -> i64 {
    let r = t.get("/api/v1/products/count", auth).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()["count"].as_i64().expect("count")
}

async fn post_file(t: &TestApp, auth: &Auth, path: &str, bytes: Vec<u8>) -> Resp {
    let mut b =
        Request::builder().method(Method::POST).uri(path).header(header::CONTENT_TYPE, "application/octet-stream");
    if let Auth::Bearer(tok) = auth {
        b = b.header(header::AUTHORIZATION, format!("Bearer {tok}"));
    }
    t.send(b.body(Body::from(bytes)).expect("request")).await
}

fn xlsx_rows(bytes: Vec<u8>) -> Vec<Vec<calamine::Data>> {
    crate::common::xlsx_rows(bytes, "products")
}

#[tokio::test]
async fn editors_keep_the_catalogue_and_everyone_else_reads_it() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let director = Auth::Bearer(w.tokens["director"].clone());
    let finance = Auth::Bearer(w.tokens["finance"].clone());
    let rep = Auth::Bearer(w.tokens["repA"].clone());
    let admin = Auth::Bearer(w.tokens["admin"].clone());

    let r = t.call(Method::POST, "/api/v1/products", &director, Some(server())).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let p = r.json();
    let id = p["id"].as_i64().expect("id");
    assert_eq!(p["list_price"], "128000.00");
    assert_eq!(p["floor_price"], "106000.00");
    assert_eq!(p["tax_rate"], "13.00", "13 % VAT unless given");
    assert_eq!((p["active"].as_bool(), p["version"].as_i64()), (Some(true), Some(1)));

    // Everyone but the administrator reads it.
    let list = t.get("/api/v1/products?q=r750", &rep).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert_eq!(list.json()["items"][0]["code"], "SRV-R750");
    assert_eq!(t.get("/api/v1/products?q=jjsfwq", &rep).await.json()["items"][0]["id"], id, "by pinyin initials");
    assert_eq!(t.get(&format!("/api/v1/products/{id}"), &finance).await.status, StatusCode::OK);
    assert_eq!(t.get("/api/v1/products", &admin).await.status, StatusCode::FORBIDDEN);
    assert_eq!(t.get(&format!("/api/v1/products/{id}"), &admin).await.status, StatusCode::FORBIDDEN);
    assert_eq!(t.get("/api/v1/products/999999", &rep).await.status, StatusCode::NOT_FOUND);

    // Writes are the editors': a rep or the finance manager gets 403 and changes nothing.
    for who in [&rep, &finance] {
        let mut other = server();
        other["code"] = json!("OTHER-1");
        assert_eq!(t.call(Method::POST, "/api/v1/products", who, Some(other)).await.status, StatusCode::FORBIDDEN);
        let r = t
            .call(Method::PATCH, &format!("/api/v1/products/{id}"), who, Some(json!({"version": 1, "name": "改名"})))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    }
    assert_eq!(count(&t, &rep).await, 1);

    // An update over the version read; a stale version is 409 and changes nothing.
    let r = t
        .call(
            Method::PATCH,
            &format!("/api/v1/products/{id}"),
            &director,
            Some(json!({"version": 1, "list_price": "125000.00", "tax_rate": "9%", "category": null})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let p = r.json();
    assert_eq!((p["list_price"].as_str(), p["tax_rate"].as_str()), (Some("125000.00"), Some("9.00")));
    assert_eq!((p["category"].is_null(), p["version"].as_i64()), (true, Some(2)));
    let r = t
        .call(Method::PATCH, &format!("/api/v1/products/{id}"), &director, Some(json!({"version": 1, "name": "旧的"})))
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(r.json()["error"]["details"]["current_version"], 2);
    let now = t.get(&format!("/api/v1/products/{id}"), &rep).await.json();
    assert_eq!((now["name"].as_str(), now["version"].as_i64()), (Some("机架式服务器 R750"), Some(2)));

    // Deactivated, never deleted: the list filters on it.
    let r = t
        .call(Method::PATCH, &format!("/api/v1/products/{id}"), &director, Some(json!({"version": 2, "active": false})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["active"], false);
    assert_eq!(t.get("/api/v1/products?active=true", &rep).await.json()["items"], json!([]));
    assert_eq!(t.get("/api/v1/products?active=false", &rep).await.json()["items"][0]["id"], id);

    // The history names the acts: created, updated, deactivated.
    let h = t.get(&format!("/api/v1/audit?entity=product&id={id}"), &director).await;
    assert_eq!(h.status, StatusCode::OK, "{}", h.body);
    let whats: Vec<String> =
        h.json()["items"].as_array().expect("items").iter().map(|e| e["what"].as_str().unwrap_or("").into()).collect();
    assert_eq!(whats, ["deactivate", "update", "create"]);
}

#[tokio::test]
async fn floor_price_and_standard_cost_reach_only_commercial_finance_and_directors() {
    let t = TestApp::new().await;
    t.demo().await;
    let rep = Auth::Bearer(t.token("rep").await);
    let commercial = Auth::Bearer(t.token("commercial").await);
    let admin = Auth::Bearer(t.token("admin").await);

    let seen = t.get("/api/v1/products?limit=500", &commercial).await.json();
    let items = seen["items"].as_array().expect("items");
    assert!(items.len() >= 12, "the demo company's catalogue: {}", items.len());
    assert!(items.iter().all(|p| p["floor_price"].is_string() && p["standard_cost"].is_string()), "{seen}");
    let hidden = t.get("/api/v1/products?limit=500", &rep).await;
    assert!(!hidden.body.contains("floor_price") && !hidden.body.contains("standard_cost"), "{}", hidden.body);
    let one = items[0]["id"].as_i64().expect("id");
    let r = t.get(&format!("/api/v1/products/{one}"), &rep).await.json();
    assert!(r.get("floor_price").is_none() && r.get("standard_cost").is_none(), "{r}");
    // A rep cannot set them either.
    let r = t
        .call(
            Method::POST,
            "/api/v1/products",
            &rep,
            Some(json!({"code": "X", "name": "X", "unit": "台", "list_price": "1", "floor_price": "1"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Exports: the rep's have neither the columns nor the figures.
    let floor_of = |p: &Value| p["floor_price"].as_str().unwrap_or("").to_string();
    let a_floor = floor_of(&items[0]);
    let rep_csv = t.get("/api/v1/products/export?format=csv", &rep).await;
    assert_eq!(rep_csv.status, StatusCode::OK);
    let header = rep_csv.body.lines().next().expect("header").to_string();
    assert!(header.contains("产品编码") && header.contains("目录价(元)"), "{header}");
    assert!(!header.contains("底价") && !header.contains("标准成本"), "{header}");
    assert!(!rep_csv.body.contains(&format!(",{a_floor},")), "no floor price figure: {a_floor}");
    let com_csv = t.get("/api/v1/products/export?format=csv", &commercial).await;
    assert!(com_csv.body.lines().next().is_some_and(|h| h.contains("底价(元)") && h.contains("标准成本(元)")));
    assert!(com_csv.body.contains(&a_floor), "{a_floor} in the commercial manager's file");
    let (status, _, bytes) = download(&t, "/api/v1/products/export?format=xlsx", &rep).await;
    assert_eq!(status, StatusCode::OK);
    let head: Vec<String> = xlsx_rows(bytes)[0].iter().map(|c| c.to_string()).collect();
    assert!(!head.iter().any(|h| h.contains("底价") || h.contains("成本")), "{head:?}");

    // The history: the commercial manager's change shows its floor price to them, not to a rep
    // nor to the administrator.
    let p = &items[0];
    let r = t
        .call(
            Method::PATCH,
            &format!("/api/v1/products/{one}"),
            &commercial,
            Some(json!({"version": p["version"], "floor_price": "1.00", "standard_cost": "0.50"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let path = format!("/api/v1/audit?entity=product&id={one}");
    let mine = t.get(&path, &commercial).await;
    assert!(mine.body.contains("\"floor_price\":\"1.00\""), "{}", mine.body);
    for who in [&rep, &admin] {
        let h = t.get(&path, who).await;
        assert_eq!(h.status, StatusCode::OK, "{}", h.body);
        assert!(!h.json()["items"].as_array().expect("items").is_empty());
        assert!(!h.body.contains("floor_price") && !h.body.contains("standard_cost"), "{}", h.body);
    }
}

#[tokio::test]
async fn bad_input_is_refused_naming_the_field_and_nothing_is_saved() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let director = Auth::Bearer(w.tokens["director"].clone());
    let post = |body: Value| t.call(Method::POST, "/api/v1/products", &director, Some(body));
    let with = |k: &str, v: Value| {
        let mut b = server();
        b[k] = v;
        b
    };
    let cases = [
        (with("list_price", json!("-5")), "list_price", "negative"),
        (with("floor_price", json!("130000.00")), "floor_price", "floor_above_list"),
        (with("tax_rate", json!("101")), "tax_rate", "tax_rate_range"),
        (with("tax_rate", json!("0.13")), "tax_rate", "tax_rate_fraction"),
        (with("code", json!("")), "code", "required"),
        (with("code", json!("X".repeat(41))), "code", "too_long"),
        (with("unit", json!(" ")), "unit", "required"),
        (with("standard_cost", json!("-1")), "standard_cost", "negative"),
        (with("list_price", json!(128000)), "list_price", "money_must_be_string"),
    ];
    for (body, field, code) in cases {
        let r = post(body).await;
        let f = fields(&r);
        assert_eq!(f.get(field).map(String::as_str), Some(code), "{field}: {}", r.body);
    }
    // The message is in the caller's language, naming the field.
    let r = post(with("floor_price", json!("130000.00"))).await;
    assert!(r.json()["error"]["details"]["fields"]["floor_price"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("目录价")));
    assert_eq!(count(&t, &director).await, 0, "nothing saved");

    // A code in use, whatever its case, is a duplicate naming the code.
    assert_eq!(post(server()).await.status, StatusCode::CREATED);
    let r = post(with("code", json!("srv-r750"))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(
        (r.json()["error"]["code"].as_str(), r.json()["error"]["details"]["field"].as_str()),
        (Some("duplicate"), Some("code"))
    );
    assert_eq!(count(&t, &director).await, 1);

    // An update that breaks a rule changes nothing, not even the version.
    let id = t.get("/api/v1/products", &director).await.json()["items"][0]["id"].as_i64().expect("id");
    let r = t
        .call(
            Method::PATCH,
            &format!("/api/v1/products/{id}"),
            &director,
            Some(json!({"version": 1, "list_price": "100.00"})),
        )
        .await;
    assert_eq!(fields(&r).get("list_price").map(String::as_str), Some("list_below_floor"));
    let r = t
        .call(Method::PATCH, &format!("/api/v1/products/{id}"), &director, Some(json!({"version": 1, "colour": "red"})))
        .await;
    assert_eq!(fields(&r).get("colour").map(String::as_str), Some("unknown_field"));
    let p = t.get(&format!("/api/v1/products/{id}"), &director).await.json();
    assert_eq!((p["list_price"].as_str(), p["version"].as_i64()), (Some("128000.00"), Some(1)));
}

const GOOD_CSV: &str = "编码,名称,类别,规格,单位,目录价,底价,税率,标准成本,启用\r\n\
    NET-S6850,数据中心交换机 S6850,网络,48×25GE,台,\"56,000\",46500,13%,38000,是\r\n\
    SVC-MAINT,年度维保服务,IT服务,7×24,年,3.6万,29800,6,15000,是\r\n\
    PC-M730,商用台式机 M730,PC,,台,6200.00,,13,,否\r\n";

#[tokio::test]
async fn an_import_takes_all_rows_or_none_and_reports_each_refused_cell() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let director = Auth::Bearer(w.tokens["director"].clone());
    let rep = Auth::Bearer(w.tokens["repA"].clone());
    let path = "/api/v1/products/import";

    // One bad row (its floor price above its list price) and a repeated code: nothing is saved,
    // and the report names each row and column.
    let bad =
        format!("{GOOD_CSV}NB-X1,商用笔记本 X1,笔记本,,台,11800,12000,13,,是\r\nPC-M730,重复,PC,,台,1,,13,,是\r\n");
    let r = post_file(&t, &director, path, bad.into_bytes()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let v = r.json();
    assert_eq!(v["error"]["code"], "invalid_input");
    assert_eq!((v["committed"].as_bool(), v["created"].as_i64()), (Some(false), Some(0)));
    let errors = v["errors"].as_array().expect("errors");
    let got: Vec<(i64, &str, &str)> = errors
        .iter()
        .map(|e| (e["row"].as_i64().unwrap_or(0), e["column"].as_str().unwrap_or(""), e["code"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(got, [(5, "floor_price", "floor_above_list"), (6, "code", "duplicate_in_file:4")], "{v}");
    assert!(errors[0]["message"].as_str().is_some_and(|m| m.contains("目录价")), "{v}");
    assert_eq!(count(&t, &director).await, 0, "all rows or none");

    // A rep may not import.
    assert_eq!(post_file(&t, &rep, path, GOOD_CSV.as_bytes().to_vec()).await.status, StatusCode::FORBIDDEN);

    // A dry run checks and writes nothing; then the file imports whole, amounts as people write
    // them (`56,000`, `3.6万`), GBK as Excel on Chinese Windows saves it.
    let r = post_file(&t, &director, &format!("{path}?dry_run=true"), GOOD_CSV.as_bytes().to_vec()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!((r.json()["created"].as_i64(), r.json()["committed"].as_bool()), (Some(3), Some(false)));
    assert_eq!(count(&t, &director).await, 0);
    let (gbk, _, _) = encoding_rs::GB18030.encode(GOOD_CSV);
    let r = post_file(&t, &director, path, gbk.into_owned()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!((r.json()["created"].as_i64(), r.json()["committed"].as_bool()), (Some(3), Some(true)));
    let all = t.get("/api/v1/products?sort=code", &director).await.json();
    let by_code = |c: &str| all["items"].as_array().expect("items").iter().find(|p| p["code"] == c).cloned().expect(c);
    let maint = by_code("SVC-MAINT");
    assert_eq!((maint["list_price"].as_str(), maint["tax_rate"].as_str()), (Some("36000.00"), Some("6.00")));
    assert_eq!(by_code("NET-S6850")["list_price"], "56000.00");
    assert_eq!(by_code("PC-M730")["active"], false);

    // A row whose code exists updates that product (its filled cells only); others are added.
    let again = "code,list_price,name,unit\r\nnet-s6850,55000,,\r\nCLD-ECS,9600,云服务器资源包,年\r\n";
    let r = post_file(&t, &director, path, again.as_bytes().to_vec()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!((r.json()["created"].as_i64(), r.json()["updated"].as_i64()), (Some(1), Some(1)));
    let net = t.get("/api/v1/products?q=S6850", &director).await.json()["items"][0].clone();
    assert_eq!((net["list_price"].as_str(), net["name"].as_str()), (Some("55000.00"), Some("数据中心交换机 S6850")));
    assert_eq!(net["floor_price"], "46500.00", "an empty cell keeps what the product has");

    // A file without a code column is refused as a whole.
    let r = post_file(&t, &director, path, "名称,单位\r\n甲,台\r\n".as_bytes().to_vec()).await;
    assert_eq!(fields(&r).get("file").map(String::as_str), Some("product_code_column_missing"));
}

#[tokio::test]
async fn an_xlsx_export_has_number_cells_and_chinese_headers_and_imports_again() {
    use calamine::Data;
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let director = Auth::Bearer(w.tokens["director"].clone());
    // An XLSX as a person makes it: English headers, prices as number cells.
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in
        ["Code", "Name", "Unit", "List price", "Floor price", "Tax rate (%)", "Standard cost"].iter().enumerate()
    {
        ws.write_string(0, c as u16, *h).expect("header");
    }
    let rows =
        [("SRV-1", "服务器甲", 128_000.5, 106_000.0, 92_000.0), ("STO-1", "存储乙", 238_000.0, 196_000.0, 165_000.25)];
    for (r, (code, name, list, floor, cost)) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        ws.write_string(r, 0, *code).expect("cell");
        ws.write_string(r, 1, *name).expect("cell");
        ws.write_string(r, 2, "台").expect("cell");
        ws.write_number(r, 3, *list).expect("cell");
        ws.write_number(r, 4, *floor).expect("cell");
        ws.write_number(r, 5, 13.0).expect("cell");
        ws.write_number(r, 6, *cost).expect("cell");
    }
    let bytes = wb.save_to_buffer().expect("xlsx");
    let r = post_file(&t, &director, "/api/v1/products/import", bytes).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["created"], 2);

    let (status, h, bytes) = download(&t, "/api/v1/products/export?format=xlsx", &director).await;
    assert_eq!(status, StatusCode::OK);
    let today = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).format("%Y-%m-%d").to_string();
    let cd = h[header::CONTENT_DISPOSITION].to_str().expect("disposition");
    // 产品目录_<today>.xlsx, percent-encoded.
    assert!(cd.contains(&format!("filename*=UTF-8''%E4%BA%A7%E5%93%81%E7%9B%AE%E5%BD%95_{today}.xlsx")), "{cd}");
    let rows = xlsx_rows(bytes.clone());
    let head: Vec<String> = rows[0].iter().map(|c| c.to_string()).collect();
    let col = |h: &str| head.iter().position(|x| x == h).unwrap_or_else(|| panic!("{h} in {head:?}"));
    let (list, floor, tax, active) = (col("目录价(元)"), col("底价(元)"), col("税率(%)"), col("启用"));
    assert_eq!(&head[..2], ["产品编码", "产品名称"]);
    let srv = rows.iter().find(|r| r[0] == "SRV-1").expect("SRV-1");
    assert_eq!(srv[list], Data::Float(128_000.5), "a number cell in yuan");
    assert_eq!(srv[floor], Data::Float(106_000.0));
    assert_eq!(srv[tax], Data::Float(13.0));
    assert_eq!(srv[active].to_string(), "启用", "labelled in the reader's language");
    let sum: f64 = rows[1..].iter().map(|r| if let Data::Float(f) = r[list] { f } else { 0.0 }).sum();
    assert!((sum - 366_000.5).abs() < 0.001, "SUM-able: {sum}");

    // The export imports again as it is: nothing changes.
    let r = post_file(&t, &director, "/api/v1/products/import", bytes).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!((r.json()["created"].as_i64(), r.json()["updated"].as_i64()), (Some(0), Some(0)), "{}", r.body);
}

#[tokio::test]
async fn quotes_read_the_products_of_their_lines_with_every_price() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let director = Auth::Bearer(w.tokens["director"].clone());
    let a = t.call(Method::POST, "/api/v1/products", &director, Some(server())).await.json()["id"].as_i64().expect("a");
    let mut other = server();
    other["code"] = json!("SVC-1");
    other["tax_rate"] = json!("6");
    other["floor_price"] = Value::Null;
    let b = t.call(Method::POST, "/api/v1/products", &director, Some(other)).await.json()["id"].as_i64().expect("b");
    let mut conn = t.db().pool.acquire().await.expect("connection");
    let rows = kam::app::quotes::products::for_lines(&mut conn, &[b, a, b, 999_999]).await.expect("rows");
    assert_eq!(rows.iter().map(|r| r.id).collect::<Vec<_>>(), [a.min(b), a.max(b)], "each once, in id order");
    let srv = rows.iter().find(|r| r.id == a).expect("a");
    assert_eq!((srv.list_price, srv.floor_price, srv.standard_cost), (12_800_000, Some(10_600_000), Some(9_200_000)));
    assert_eq!((srv.tax_rate_bp, srv.active, srv.unit.as_str()), (1300, true, "台"));
    let svc = rows.iter().find(|r| r.id == b).expect("b");
    assert_eq!((svc.tax_rate_bp, svc.floor_price), (600, None));
    assert!(kam::app::quotes::products::for_lines(&mut conn, &[]).await.expect("none").is_empty());
}

// ---------------------------------------------------------------------------------------------
// Pages.

fn once_token(page: &str) -> String {
    page.split("name=\"_once\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a one-time token")
        .to_string()
}

#[tokio::test]
async fn the_catalogue_pages_list_create_edit_and_deactivate() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (sid, csrf) = t.ui_login("director", PASSWORD, None).await.expect("sign in");
    let me = Auth::Session { cookie: sid.clone(), csrf: csrf.clone() };

    // Empty at first, with the editor's actions.
    let list = t.get("/products", &me).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert!(list.body.contains("class=\"empty\"") && list.body.contains("href=\"/products/new\""), "{}", list.body);
    assert!(list.body.contains("href=\"/products\" aria-current=\"page\""), "the navigation marks 产品目录");

    // The form refuses a floor price above the list price, keeping what was typed.
    let form = t.get_form("/products/new", &me).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let once = once_token(&form.body);
    let mut typed = vec![
        ("_csrf", csrf.as_str()),
        ("_once", once.as_str()),
        ("code", "SRV-R750"),
        ("name", "机架式服务器 R750"),
        ("category", "服务器"),
        ("specification", ""),
        ("unit", "台"),
        ("list_price", "12.8万"),
        ("floor_price", "130,000"),
        ("tax_rate", "13"),
        ("standard_cost", "92000"),
        ("active", "true"),
    ];
    let r = t.ui_post("/products/new", &sid, &typed).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("底价不能高于目录价"), "the reason beside its field: {}", r.body);
    assert!(
        r.body.contains("value=\"130000.00\"") && r.body.contains("value=\"机架式服务器 R750\""),
        "what was typed stays"
    );
    assert_eq!(count(&t, &Auth::Bearer(w.tokens["director"].clone())).await, 0);
    typed[8] = ("floor_price", "106,000");
    let r = t.ui_post("/products/new", &sid, &typed).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let to = r.headers[header::LOCATION].to_str().expect("location").to_string();
    assert!(to.starts_with("/products/") && to.ends_with("flash=saved"), "{to}");
    // The same form posted again saves nothing new.
    let again = t.ui_post("/products/new", &sid, &typed).await;
    assert!(again.headers[header::LOCATION].to_str().is_ok_and(|l| l.contains("flash=once")));
    assert_eq!(count(&t, &Auth::Bearer(w.tokens["director"].clone())).await, 1);

    let page = t.get(&to, &me).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("128,000.00") && page.body.contains("106,000.00"), "{}", page.body);
    assert!(page.body.contains("已保存"), "the flash");
    let id: i64 = to.trim_start_matches("/products/").split('?').next().and_then(|s| s.parse().ok()).expect("id");

    // A code in use is refused beside the code field.
    let form = t.get_form("/products/new", &me).await;
    let once = once_token(&form.body);
    typed[1] = ("_once", once.as_str());
    typed[2] = ("code", "srv-r750");
    let r = t.ui_post("/products/new", &sid, &typed).await;
    assert!(r.body.contains("已有产品使用此编码"), "{}", r.body);

    // The list: right-aligned prices, filters, the count.
    let list = t.get("/products?q=R750&active=true", &me).await;
    assert!(list.body.contains("<td class=\"num\" data-field=\"list_price\">128,000.00</td>"), "{}", list.body);
    assert!(list.body.contains("共 1 个产品"));
    let none = t.get("/products?category=%E5%AD%98%E5%82%A8", &me).await;
    assert!(none.body.contains("class=\"empty\""));

    // Edit over a stale version: the form again with the conflict, nothing changed.
    let edit = t.get(&format!("/products/{id}/edit"), &me).await;
    assert_eq!(edit.status, StatusCode::OK);
    let fields = [
        ("_csrf", csrf.as_str()),
        ("version", "7"),
        ("code", "SRV-R750"),
        ("name", "新名称"),
        ("unit", "台"),
        ("list_price", "128000"),
        ("active", "true"),
    ];
    let r = t.ui_post(&format!("/products/{id}/edit"), &sid, &fields).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let mut fields = fields;
    fields[1] = ("version", "1");
    let r = t.ui_post(&format!("/products/{id}/edit"), &sid, &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    // Deactivated from its page; the list shows it struck through.
    let r = t
        .ui_post(&format!("/products/{id}/active"), &sid, &[("_csrf", &csrf), ("version", "2"), ("active", "false")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = t.get(&format!("/products/{id}"), &me).await;
    assert!(page.body.contains("id=\"activate\"") && page.body.contains("停用"), "{}", page.body);
    assert!(page.body.contains("<ul class=\"changes\">"), "the history lists the changes");
    let list = t.get("/products", &me).await;
    assert!(list.body.contains("class=\"inactive\""));

    // A rep reads the list without the confidential columns and may not open the form.
    let (rsid, _) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");
    let rep = Auth::Session { cookie: rsid, csrf: String::new() };
    let list = t.get("/products", &rep).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("新名称") && !list.body.contains("底价") && !list.body.contains("106,000.00"));
    assert!(!list.body.contains("href=\"/products/new\""));
    assert_eq!(t.get_form("/products/new", &rep).await.status, StatusCode::FORBIDDEN);
    assert_eq!(t.get("/products/import", &rep).await.status, StatusCode::FORBIDDEN);
    let page = t.get(&format!("/products/{id}"), &rep).await;
    assert!(!page.body.contains("106,000.00") && !page.body.contains("id=\"edit-product\""), "{}", page.body);
    // The administrator has no link to it, and no page.
    let (asid, _) = t.ui_login("admin", PASSWORD, None).await.expect("sign in");
    let admin = Auth::Session { cookie: asid, csrf: String::new() };
    assert!(!t.get("/audit", &admin).await.body.contains("href=\"/products\""));
    assert_eq!(t.get("/products", &admin).await.status, StatusCode::FORBIDDEN);
}

/// A multipart upload from a page (the file and the form's fields).
async fn ui_upload(t: &TestApp, sid: &str, fields: &[(&str, &str)], file: Option<&[u8]>) -> Resp {
    let b = "----kamproducts";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend(format!("--{b}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes());
    }
    if let Some(bytes) = file {
        body.extend(
            format!("--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"产品.csv\"\r\nContent-Type: text/csv\r\n\r\n")
                .as_bytes(),
        );
        body.extend(bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{b}--\r\n").as_bytes());
    let req = Request::builder()
        .method(Method::POST)
        .uri("/products/import")
        .header(header::COOKIE, format!("kam_session={sid}"))
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={b}"))
        .body(Body::from(body))
        .expect("request");
    t.send(req).await
}

#[tokio::test]
async fn the_import_page_checks_a_file_then_imports_it() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let director = Auth::Bearer(w.tokens["director"].clone());
    let (sid, csrf) = t.ui_login("director", PASSWORD, None).await.expect("sign in");
    let page = t.get("/products/import", &Auth::Session { cookie: sid.clone(), csrf: csrf.clone() }).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("enctype=\"multipart/form-data\""));

    // A refused row: the report on the page, nothing saved.
    let bad = format!("{GOOD_CSV}NB-X1,商用笔记本 X1,笔记本,,台,11800,12000,13,,是\r\n");
    let r = ui_upload(&t, &sid, &[("_csrf", &csrf)], Some(bad.as_bytes())).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("id=\"import-errors\"") && r.body.contains("<td>5</td><td>底价(元)</td>"), "{}", r.body);
    assert_eq!(count(&t, &director).await, 0);

    // A dry run: checked, nothing saved, and "import now" carries the file.
    let r = ui_upload(&t, &sid, &[("_csrf", &csrf), ("dry_run", "1")], Some(GOOD_CSV.as_bytes())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("将新增 3 个"), "{}", r.body);
    assert_eq!(count(&t, &director).await, 0);
    let carried = r
        .body
        .split("name=\"carried\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("carried")
        .to_string();
    let r = ui_upload(&t, &sid, &[("_csrf", &csrf), ("carried", &carried)], None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("新增 3 个"), "{}", r.body);
    assert_eq!(count(&t, &director).await, 3);
    // Without the page's token nothing is read.
    let r = ui_upload(&t, &sid, &[("_csrf", "wrong")], Some(GOOD_CSV.as_bytes())).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}
