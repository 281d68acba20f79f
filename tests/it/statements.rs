//! The two imports finance needs (issue 21), each all rows or none: a bank statement whose lines
//! are proposed matches by reference and by amount and confirmed into payments (a zero
//! balance, a second confirmation refused), a bad row keeping nothing, only finance seeing
//! statements; and the opening balances from the ERP, which the aging report and the account's
//! statement then show — a bad row importing nothing.
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::{json, Value};

use super::common::{assert_months_kept, seed, Auth, Resp, TestApp, World};

fn bearer(w: &World, user: &str) -> Auth {
    Auth::Bearer(w.tokens[user].clone())
}

fn day(offset: i64) -> String {
    (chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive() + chrono::Duration::days(offset))
        .format("%Y-%m-%d")
        .to_string()
}

/// An order of account X the manager signs at once, the whole amount due on the day it is signed.
async fn signed_order(t: &TestApp, w: &World, amount: &str, contract_no: &str) -> Value {
    let manager = bearer(w, "manager");
    let body = json!({
        "account_id": w.account_x,
        "contract_no": contract_no,
        "lines": [{"description": "测量系统", "unit": "套", "quantity": "1", "unit_price": amount}],
        "payment_terms": [{"kind": "advance", "percent": "100", "due": "0 days after order"}]
    });
    let r = t.call(Method::POST, "/api/v1/orders", &manager, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let o = r.json();
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/orders/{}/submit", o["id"]),
            &manager,
            Some(json!({"version": o["version"]})),
        )
        .await;
    assert_eq!(r.json()["state"], "signed", "{}", r.body);
    r.json()
}

/// Uploads a file as a multipart form (`file`), as the page does.
async fn upload(t: &TestApp, who: &Auth, path: &str, name: &str, bytes: &[u8]) -> Resp {
    let b = "----kamstatementboundary";
    let mut body = Vec::new();
    body.extend(
        format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
             Content-Type: text/csv\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend(bytes);
    body.extend(format!("\r\n--{b}--\r\n").as_bytes());
    let mut req = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={b}"));
    if let Auth::Bearer(tok) = who {
        req = req.header(header::AUTHORIZATION, format!("Bearer {tok}"));
    }
    t.send(req.body(Body::from(body)).expect("request")).await
}

async fn account_money(t: &TestApp, who: &Auth, account: i64) -> Value {
    t.get(&format!("/api/v1/accounts/{account}/receivables"), who).await.json()
}

fn gbk(s: &str) -> Vec<u8> {
    encoding_rs::GB18030.encode(s).0.into_owned()
}

#[tokio::test]
async fn statement_lines_match_by_reference_and_amount_and_confirm_to_a_zero_balance() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (finance, rep) = (bearer(&w, "finance"), bearer(&w, "repA"));
    let a = signed_order(&t, &w, "1000.00", "HT-2027-001").await;
    let b = signed_order(&t, &w, "500.00", "HT-2027-002").await;
    // A GBK file with the bank's Chinese headers: the reference names order A's contract, the
    // second line pays exactly what order B owes, the third matches nothing.
    let csv = format!(
        "日期,付款人,金额,摘要\r\n{},北京星河精密制造有限公司,\"1,000.00\",货款HT-2027-001\r\n{},星河精密,500,转账\r\n{},某某公司,123.45,往来款\r\n",
        day(-1),
        day(0),
        day(0)
    );
    // Not finance: refused, nothing kept.
    let r = upload(&t, &rep, "/api/v1/bank-statements", "对账单.csv", &gbk(&csv)).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = upload(&t, &finance, "/api/v1/bank-statements", "对账单.csv", &gbk(&csv)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let s = r.json();
    let sid = s["statement"]["id"].as_i64().expect("id");
    assert_eq!((s["statement"]["line_count"].as_i64(), s["statement"]["total"].as_str()), (Some(3), Some("1623.45")));
    let lines = s["lines"].as_array().expect("lines");
    type Shown<'a> = (&'a str, Option<&'a str>, Option<&'a str>, Option<&'a str>);
    let shown: Vec<Shown> = lines
        .iter()
        .map(|l| {
            (
                l["state"].as_str().unwrap_or(""),
                l["match_by"].as_str(),
                l["account_name"].as_str(),
                l["receivables"][0]["order_number"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        shown,
        vec![
            ("proposed", Some("reference"), Some("北京星河精密制造有限公司"), a["number"].as_str()),
            ("proposed", Some("amount"), Some("北京星河精密制造有限公司"), b["number"].as_str()),
            ("unmatched", None, None, None),
        ],
        "{s}"
    );
    assert_eq!((lines[0]["row"].as_i64(), lines[0]["received_on"].as_str()), (Some(2), Some(day(-1).as_str())));

    // A rep sees no statement at all.
    assert_eq!(t.get("/api/v1/bank-statements", &rep).await.status, StatusCode::FORBIDDEN);
    assert_eq!(t.get(&format!("/api/v1/bank-statements/{sid}"), &rep).await.status, StatusCode::FORBIDDEN);
    let path = |i: usize, what: &str| format!("/api/v1/bank-statements/{sid}/lines/{}/{what}", lines[i]["id"]);
    let r = t.call(Method::POST, &path(0, "confirm"), &rep, Some(json!({}))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // A receivable that is not one the account still owes on: 422 naming it, nothing recorded.
    let r = t.call(Method::POST, &path(0, "confirm"), &finance, Some(json!({"receivable_id": 999_999}))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["error"]["details"]["fields"]["receivable_id"]["code"], "receivable_not_open");
    // Finance confirms the first: a payment allocated to order A.
    let r = t.call(Method::POST, &path(0, "confirm"), &finance, Some(json!({}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let l = r.json();
    assert_eq!(l["state"], "confirmed");
    assert!(l["payment_id"].is_i64(), "{l}");
    // Twice: 409, no second payment.
    let r = t.call(Method::POST, &path(0, "confirm"), &finance, Some(json!({}))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let m = account_money(&t, &rep, w.account_x).await;
    assert_eq!(m["outstanding"], "500.00", "{m}");
    assert_eq!(m["payments"].as_array().map(Vec::len), Some(1));
    assert_eq!(m["payments"][0]["allocations"][0]["order_number"], a["number"]);
    assert_eq!(m["payments"][0]["reference"], "货款HT-2027-001");

    // The rest as proposed (the second line): a zero balance.
    let r = t.call(Method::POST, &format!("/api/v1/bank-statements/{sid}/confirm"), &finance, None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let s = r.json();
    assert_eq!((s["statement"]["confirmed"].as_i64(), s["statement"]["unmatched"].as_i64()), (Some(2), Some(1)), "{s}");
    let m = account_money(&t, &rep, w.account_x).await;
    assert_eq!((m["outstanding"].as_str(), m["credit_balance"].as_str()), (Some("0.00"), Some("0.00")), "{m}");
    assert!(m["receivables"].as_array().expect("rows").iter().all(|r| r["state"] == "paid"), "{m}");

    // The unmatched line: ignored with a reason (none: 422), then neither confirmed nor ignored again.
    let r = t.call(Method::POST, &path(2, "ignore"), &finance, Some(json!({"reason": " "}))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["error"]["details"]["fields"]["reason"]["code"], "required");
    let r = t.call(Method::POST, &path(2, "ignore"), &finance, Some(json!({"reason": "内部调拨"}))).await;
    assert_eq!((r.status, r.json()["state"].as_str()), (StatusCode::OK, Some("ignored")), "{}", r.body);
    let r = t.call(Method::POST, &path(2, "confirm"), &finance, Some(json!({"account_id": w.account_x}))).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    // The list, and the audit trail of the statement.
    let list = t.get("/api/v1/bank-statements", &finance).await.json();
    assert_eq!(list["items"][0]["ignored"], 1, "{list}");
    let audits: i64 = sqlx::Row::try_get(
        &sqlx::query("SELECT COUNT(*) AS n FROM audit_log WHERE entity = 'bank_statement' AND entity_id = $1")
            .bind(sid.to_string())
            .fetch_one(&t.db().pool)
            .await
            .expect("audit"),
        "n",
    )
    .expect("n");
    assert_eq!(audits, 4, "import, two confirmations, one ignored");
}

#[tokio::test]
async fn a_bad_statement_row_keeps_nothing_and_names_the_row() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let finance = bearer(&w, "finance");
    let csv = format!(
        "date,payer,amount,reference\n{},A公司,100.00,R1\n{},B公司,,R2\n2027-02-30,C公司,abc,R3\n{},D公司,-5,R4\n",
        day(0),
        day(0),
        day(0)
    );
    let r = upload(&t, &finance, "/api/v1/bank-statements", "s.csv", csv.as_bytes()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let v = r.json();
    let errors: Vec<(i64, &str, &str)> = v["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| (e["row"].as_i64().unwrap_or(0), e["column"].as_str().unwrap_or(""), e["code"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        errors,
        vec![
            (3, "amount", "required"),
            (4, "date", "date_format"),
            (4, "amount", "money_format"),
            (5, "amount", "amount_not_positive")
        ],
        "{v}"
    );
    assert_eq!(v["error"]["code"], "invalid_input");
    let list = t.get("/api/v1/bank-statements", &finance).await.json();
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0), "{list}");
    // A dry run of a good file keeps nothing either.
    let good = format!("date,amount\n{},100.00\n", day(0));
    let r = upload(&t, &finance, "/api/v1/bank-statements?dry_run=true", "s.csv", good.as_bytes()).await;
    assert_eq!((r.status, r.json()["dry_run"].as_bool()), (StatusCode::OK, Some(true)), "{}", r.body);
    let list = t.get("/api/v1/bank-statements", &finance).await.json();
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0), "{list}");
}

#[tokio::test]
async fn opening_balances_show_in_aging_and_the_statement_and_a_bad_row_imports_nothing() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (finance, rep, admin) = (bearer(&w, "finance"), bearer(&w, "repA"), bearer(&w, "admin"));
    let header = "客户,合同号,订单日期,金额,到期日,未收金额,负责人,备注\n";
    let good = format!(
        "{header}北京星河精密制造有限公司,ERP-001,{},10000.00,{},4000.00,repA,一期\n北京星河精密制造有限公司,ERP-002,{},2000,{},2000,,\n",
        day(-100),
        day(-40),
        day(-10),
        day(20)
    );
    // A rep may not; a bad row (an unknown account, a repeated contract number, owed above the
    // amount, an unknown owner) imports nothing.
    let r = upload(&t, &rep, "/api/v1/imports/opening-balances", "期初.csv", good.as_bytes()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let bad = format!(
        "{}不存在的公司,ERP-003,{},100,{},100,repA,\n北京星河精密制造有限公司,ERP-001,{},100,{},200,nobody,\n",
        good,
        day(-5),
        day(5),
        day(-5),
        day(5)
    );
    let r = upload(&t, &finance, "/api/v1/imports/opening-balances", "期初.csv", gbk(&bad).as_slice()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let v = r.json();
    let errors: Vec<(i64, &str, &str)> = v["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| (e["row"].as_i64().unwrap_or(0), e["column"].as_str().unwrap_or(""), e["code"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        errors,
        vec![
            (4, "account", "account_unknown"),
            (5, "contract_no", "duplicate_in_file:2"),
            (5, "owed", "owed_above_amount"),
            (5, "owner", "owner_unknown")
        ],
        "{v}"
    );
    let aging = t.get("/api/v1/reports/aging", &finance).await.json();
    assert_eq!(aging["total"]["total"], "0.00", "{aging}");

    // The administrator imports the good file.
    let r = upload(&t, &admin, "/api/v1/imports/opening-balances", "期初.csv", good.as_bytes()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!((r.json()["created"].as_i64(), r.json()["committed"].as_bool()), (Some(2), Some(true)));
    assert_months_kept(t.db(), "opening balances imported").await;
    // Again: the contract numbers are taken.
    let r = upload(&t, &admin, "/api/v1/imports/opening-balances", "期初.csv", good.as_bytes()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json()["errors"][0]["code"], "contract_no_taken", "{}", r.body);

    // Aging: 4000 forty days overdue (31–60), 2000 not yet due.
    let aging = t.get("/api/v1/reports/aging", &finance).await.json();
    let row = &aging["rows"][0];
    assert_eq!(row["key"], w.account_x.to_string(), "{aging}");
    assert_eq!((row["not_due"].as_str(), row["total"].as_str()), (Some("2000.00"), Some("6000.00")), "{aging}");
    assert_eq!(row["buckets"], json!(["0.00", "4000.00", "0.00", "0.00"]), "{aging}");
    // The account's statement, as the rep sees it: what was paid so far, what is owed.
    let m = t.get(&format!("/api/v1/accounts/{}/receivables", w.account_x), &rep).await.json();
    assert_eq!(m["outstanding"], "6000.00", "{m}");
    let recs: Vec<(&str, &str, &str, &str)> = m["receivables"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            (
                r["amount"].as_str().unwrap_or(""),
                r["paid"].as_str().unwrap_or(""),
                r["outstanding"].as_str().unwrap_or(""),
                r["owner"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(recs, vec![("10000.00", "6000.00", "4000.00", "repA"), ("2000.00", "0.00", "2000.00", "repA")], "{m}");
    // The orders are signed, with their contract numbers, and audited as imported.
    let orders = t.get("/api/v1/orders", &rep).await.json();
    let o = orders["items"].as_array().expect("items").iter().find(|o| o["contract_no"] == "ERP-001").cloned();
    assert_eq!(o.map(|o| o["state"].clone()), Some(json!("signed")), "{orders}");
    let n: i64 = sqlx::Row::try_get(
        &sqlx::query("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'import_opening'")
            .fetch_one(&t.db().pool)
            .await
            .expect("audit"),
        "n",
    )
    .expect("n");
    assert_eq!(n, 2);
    // The collection worklist has the overdue one.
    let wl = t.get("/api/v1/collection", &rep).await.json();
    assert!(wl.to_string().contains("4000.00"), "{wl}");
}
