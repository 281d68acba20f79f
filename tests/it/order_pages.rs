//! The order pages as a salesperson and the deciders use them: the form from an account (lines
//! and terms typed, a refusal that keeps what was typed and names the row, Back and submit
//! again), the order page and its sign-off, the approval page showing the order whole, a
//! cancel with its reason, the list with its filters and its XLSX, the invoicing form, and
//! the order form prefilled from an accepted quote.
use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::common::{seed, Auth, TestApp, PASSWORD};

fn session(sid: &str) -> Auth {
    Auth::Session { cookie: sid.to_string(), csrf: String::new() }
}

fn value_of(page: &str, name: &str) -> String {
    page.split(&format!("name=\"{name}\" value=\""))
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("{name} in page"))
        .to_string()
}

fn location(r: &crate::common::Resp) -> String {
    r.headers.get("location").and_then(|v| v.to_str().ok()).expect("location").to_string()
}

/// One line's fields in the form's order (product, description, spec, unit, qty, list, price, discount).
fn row<'a>(d: &'a str, u: &'a str, q: &'a str, price: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("l_product", ""),
        ("l_desc", d),
        ("l_spec", ""),
        ("l_unit", u),
        ("l_qty", q),
        ("l_list", ""),
        ("l_price", price),
        ("l_discount", ""),
    ]
}

#[tokio::test]
async fn a_rep_enters_an_order_on_an_account_and_the_manager_signs_it_off() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (sid, csrf) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");
    let account = t.get(&format!("/accounts/{}", w.account_x), &session(&sid)).await;
    assert!(account.body.contains(&format!("/accounts/{}/orders/new", w.account_x)), "the account offers an order");
    assert!(account.body.contains("开票信息"), "and its invoicing details");
    let path = format!("/accounts/{}/orders/new", w.account_x);
    let form = t.get_form(&path, &session(&sid)).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let once = value_of(&form.body, "_once");
    let mut fields: Vec<(&str, &str)> =
        vec![("_csrf", &csrf), ("_once", &once), ("contract_no", "HT-2027-0088"), ("requested_delivery", "2027-05-31")];
    fields.extend(row("三坐标测量机", "台", "1", "1,280,000"));
    fields.extend(row("测头系统", "套", "2", "44,000"));
    fields.extend(row("", "", "", ""));
    fields.extend([
        ("t_kind", "advance"),
        ("t_percent", "30"),
        ("t_due", "0 days after order"),
        ("t_kind", "on_delivery"),
        ("t_percent", "70"),
        ("t_due", "30 days after lunch"),
    ]);
    // A due rule that does not parse: the form comes back with everything typed, the row named.
    let r = t.ui_post(&path, &sid, &fields).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("第 2 期") && r.body.contains("到期规则"), "the refused row is named: {}", r.body);
    assert!(r.body.contains("1,280,000") && r.body.contains("测头系统") && r.body.contains("30 days after lunch"));
    assert!(r.body.contains("HT-2027-0088"), "the header typed is kept");
    if let Some(d) = fields.iter_mut().find(|(k, v)| *k == "t_due" && v.contains("lunch")) {
        d.1 = "开票后30天";
    }
    let r = t.ui_post(&path, &sid, &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let to = location(&r);
    assert!(to.starts_with("/orders/"), "{to}");
    let again = t.ui_post(&path, &sid, &fields).await;
    assert!(location(&again).contains("flash=once"), "Back and save again saves once: {}", location(&again));
    let id: i64 = to.trim_start_matches("/orders/").split('?').next().unwrap().parse().unwrap();
    let show = t.get(&format!("/orders/{id}"), &session(&sid)).await;
    assert_eq!(show.status, StatusCode::OK);
    // 1,280,000 + 2 × 44,000 = 1,368,000.00: above 500,000 元, the director signs too.
    assert!(show.body.contains("1,368,000.00"), "{}", show.body);
    assert!(show.body.contains("人民币壹佰叁拾陆万捌仟元整"));
    assert!(show.body.contains("开票后 30 天"), "the due rule in words: {}", show.body);
    assert!(show.body.contains("data-state=\"draft\""));
    let version = value_of(&show.body, "version");
    let r = t
        .ui_post(&format!("/orders/{id}/act"), &sid, &[("_csrf", &csrf), ("version", &version), ("action", "submit")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let show = t.get(&format!("/orders/{id}"), &session(&sid)).await;
    assert!(show.body.contains("data-state=\"pending\""), "{}", show.body);
    // The manager reads the order whole on the request page and signs it off.
    let approval: i64 = sqlx::Row::try_get(
        &sqlx::query("SELECT approval_id FROM order_versions WHERE order_id = $1")
            .bind(id)
            .fetch_one(&t.db().pool)
            .await
            .unwrap(),
        "approval_id",
    )
    .unwrap();
    let (msid, mcsrf) = t.ui_login("manager", PASSWORD, None).await.expect("manager signs in");
    let a = t.get(&format!("/approvals/{approval}"), &session(&msid)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(a.body.contains("订货单签核"), "{}", a.body);
    assert!(
        a.body.contains("测头系统") && a.body.contains("HT-2027-0088") && a.body.contains("打开订货单"),
        "{}",
        a.body
    );
    let r = t
        .ui_post(
            &format!("/approvals/{approval}/decision"),
            &msid,
            &[("_csrf", &mcsrf), ("decision", "approve"), ("comment", "")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let show = t.get(&format!("/orders/{id}"), &session(&sid)).await;
    assert!(show.body.contains("data-state=\"pending\""), "the director has still to sign: {}", show.body);
    // Cancel asks for a reason on the page.
    let show = t.get(&format!("/orders/{id}"), &session(&sid)).await;
    let version = value_of(&show.body, "version");
    let r = t
        .ui_post(&format!("/orders/{id}/act"), &sid, &[("_csrf", &csrf), ("version", &version), ("action", "cancel")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("原因") && r.body.contains("必填"), "{}", r.body);
    let r = t
        .ui_post(
            &format!("/orders/{id}/act"),
            &sid,
            &[("_csrf", &csrf), ("version", &version), ("action", "cancel"), ("reason", "客户取消")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let show = t.get(&format!("/orders/{id}"), &session(&sid)).await;
    assert!(show.body.contains("data-state=\"cancelled\"") && show.body.contains("客户取消"), "{}", show.body);
}

#[tokio::test]
async fn the_list_filters_and_exports_and_the_invoicing_form_redisplays_its_errors() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = Auth::Bearer(w.tokens["repA"].clone());
    for (amount, delivery) in [("1000.00", "2027-01-31"), ("2000.00", "2027-06-30")] {
        let body = json!({"account_id": w.account_x, "contract_no": format!("HT-{amount}"), "requested_delivery": delivery,
            "lines": [{"description": "备件", "quantity": "1", "unit_price": amount}]});
        let r = t.call(Method::POST, "/api/v1/orders", &rep, Some(body)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let (sid, csrf) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");
    let list = t.get("/orders", &session(&sid)).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert!(list.body.contains("HT-1000.00") && list.body.contains("HT-2000.00"), "{}", list.body);
    assert!(list.body.contains("href=\"/orders\""), "the navigation has the orders");
    let early = t.get("/orders?delivery_before=2027-03-01&state=draft", &session(&sid)).await;
    assert!(early.body.contains("HT-1000.00") && !early.body.contains("HT-2000.00"), "{}", early.body);
    let account = t.get(&format!("/accounts/{}", w.account_x), &session(&sid)).await;
    let link = format!("/orders?account_id={}", w.account_x);
    assert!(account.body.contains(&link), "the account's orders open in the list");
    let of_account = t.get(&link, &session(&sid)).await;
    assert!(of_account.body.contains("HT-1000.00") && of_account.body.contains("name=\"account_id\""));
    let other = t.get(&format!("/orders?account_id={}", w.account_c), &session(&sid)).await;
    assert!(!other.body.contains("HT-1000.00"), "another account's list: {}", other.body);
    let x = t.get("/orders/export.xlsx?sort=-total", &session(&sid)).await;
    assert_eq!(x.status, StatusCode::OK);
    assert!(
        x.headers.get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|c| c.contains("spreadsheetml")),
        "{:?}",
        x.headers
    );
    // The invoicing form: a bad tax number comes back with what was typed.
    let path = format!("/accounts/{}/invoicing", w.account_x);
    let form = t.get(&path, &session(&sid)).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let version = value_of(&form.body, "version");
    let typed = [
        ("_csrf", csrf.as_str()),
        ("version", version.as_str()),
        ("invoice_title", "天成信息技术股份有限公司"),
        ("tax_number", "12345"),
        ("address", "北京市海淀区中关村大街 1 号"),
        ("phone", "010-62345678"),
        ("bank", "中国工商银行"),
        ("bank_account", "6222020012345678"),
    ];
    let r = t.ui_post(&path, &sid, &typed).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("纳税人识别号") && r.body.contains("中关村大街"), "{}", r.body);
    let mut good = typed;
    good[3].1 = "110108123456789";
    let r = t.ui_post(&path, &sid, &good).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let account = t.get(&format!("/accounts/{}", w.account_x), &session(&sid)).await;
    assert!(account.body.contains("110108123456789") && account.body.contains("6222020012345678"), "{}", account.body);
    // English too.
    let en = t.get("/orders", &session(&sid)).await;
    assert!(en.body.contains("订货单"));
}

#[tokio::test]
async fn an_accepted_quote_offers_an_order_prefilled_with_its_lines() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = Auth::Bearer(w.tokens["repA"].clone());
    let body = json!({
        "account_id": w.account_x, "name": "测量中心扩建", "amount": "900000.00", "expected_close": "2027-06-30",
        "eval_need": "扩产", "eval_budget": "已批", "eval_timeline": "二季度", "eval_decision_makers": "总经理"
    });
    let opp = t.call(Method::POST, "/api/v1/opportunities", &rep, Some(body)).await.json()["id"].as_i64().unwrap();
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/opportunities/{opp}/quotes"),
            &rep,
            Some(json!({"lines": [{"description": "三坐标测量机", "unit": "台", "quantity": "1", "unit_price": "86000.00"}],
                "payment_terms": [{"kind": "advance", "percent": "100", "days": 10}]})),
        )
        .await;
    let mut q = r.json();
    for a in ["submit", "send", "accept"] {
        let r = t
            .call(
                Method::POST,
                &format!("/api/v1/quotes/{}/{a}", q["id"]),
                &rep,
                Some(json!({"version": q["version"]})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{a}: {}", r.body);
        q = r.json();
    }
    let (sid, csrf) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");
    let page = t.get(&format!("/quotes/{}", q["id"]), &session(&sid)).await;
    let path = format!("/quotes/{}/orders/new", q["id"]);
    assert!(page.body.contains(&path), "an accepted quote offers an order");
    let form = t.get_form(&path, &session(&sid)).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains("三坐标测量机") && form.body.contains("86000.00"), "{}", form.body);
    assert!(form.body.contains("10 days after order"), "the quote's terms as due rules: {}", form.body);
    let once = value_of(&form.body, "_once");
    let mut fields: Vec<(&str, &str)> = vec![("_csrf", &csrf), ("_once", &once), ("contract_no", "HT-9")];
    fields.extend(row("三坐标测量机", "台", "1", "86000.00"));
    fields.extend([("t_kind", "advance"), ("t_percent", "100"), ("t_due", "10 days after order")]);
    let r = t.ui_post(&path, &sid, &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let show = t.get(&location(&r), &session(&sid)).await;
    assert!(show.body.contains(q["number"].as_str().unwrap()), "the order names its quote: {}", show.body);
}

#[tokio::test]
async fn the_administrator_sets_the_directors_threshold_in_yuan() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (sid, csrf) = t.ui_login("admin", PASSWORD, None).await.expect("admin signs in");
    let page = t.get("/admin/flows", &session(&sid)).await;
    assert_eq!(page.status, StatusCode::OK);
    let form = page.body.split("id=\"flow-form-order_signoff\"").nth(1).expect("the order sign-off's form");
    assert!(form.contains("name=\"above_1\" value=\"500000.00\""), "the director's threshold in 元");
    let version = form.split("name=\"version\" value=\"").nth(1).and_then(|s| s.split('"').next()).expect("version");
    let fields = [
        ("_csrf", csrf.as_str()),
        ("version", version),
        ("mode", "form"),
        ("role_0", "ka_manager"),
        ("scope_0", "owner_manager"),
        ("days_0", "2"),
        ("above_0", "0"),
        ("role_1", "ka_director"),
        ("scope_1", "hq"),
        ("days_1", "2"),
        ("above_1", "100万"),
    ];
    let r = t.ui_post("/admin/flows/order_signoff", &sid, &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // A 600,000 元 order is now the manager's alone.
    let rep = Auth::Bearer(w.tokens["repA"].clone());
    let body = json!({"account_id": w.account_x, "lines": [{"description": "测量系统", "quantity": "1", "unit_price": "600000.00"}]});
    let o = t.call(Method::POST, "/api/v1/orders", &rep, Some(body)).await.json();
    assert_eq!(o["director_threshold"], "1000000.00", "{o}");
    let r = t
        .call(Method::POST, &format!("/api/v1/orders/{}/submit", o["id"]), &rep, Some(json!({"version": o["version"]})))
        .await;
    let aid = r.json()["latest"]["approval_id"].as_i64().expect("a request");
    let a = t.get(&format!("/api/v1/approvals/{aid}"), &Auth::Bearer(w.tokens["director"].clone())).await.json();
    let states: Vec<&str> = a["steps"].as_array().unwrap().iter().map(|s| s["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["open", "skipped"], "{a}");
}
