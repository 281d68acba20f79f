//! The quote pages as a salesperson and the deciders use them: the form (lines typed as a
//! Chinese office types them, a refusal that keeps what was typed, Back and submit again), the
//! quote page and its actions, the approval page showing the quote whole, the printed quote with
//! the total in Chinese capitals, the XLSX with numeric cells, and the flow form's thresholds.
use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::common::{seed, Auth, TestApp, World, PASSWORD};

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

async fn opportunity(t: &TestApp, w: &World) -> i64 {
    let body = json!({
        "account_id": w.account_x, "name": "测量中心扩建", "amount": "900000.00", "expected_close": "2027-06-30",
        "eval_need": "扩产", "eval_budget": "已批", "eval_timeline": "二季度", "eval_decision_makers": "总经理"
    });
    let r = t.call(Method::POST, "/api/v1/opportunities", &Auth::Bearer(w.tokens["repA"].clone()), Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.json()["id"].as_i64().expect("id")
}

/// One line's fields in the form's order (product, description, spec, unit, qty, list, price, discount).
fn row<'a>(
    p: &'a str,
    d: &'a str,
    u: &'a str,
    q: &'a str,
    list: &'a str,
    price: &'a str,
    disc: &'a str,
) -> Vec<(&'static str, &'a str)> {
    vec![
        ("l_product", p),
        ("l_desc", d),
        ("l_spec", ""),
        ("l_unit", u),
        ("l_qty", q),
        ("l_list", list),
        ("l_price", price),
        ("l_discount", disc),
    ]
}

#[tokio::test]
async fn a_rep_quotes_from_the_form_and_the_printed_quote_says_the_total_in_capitals() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let opp = opportunity(&t, &w).await;
    let (sid, csrf) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");
    let page = t.get(&format!("/opportunities/{opp}"), &session(&sid)).await;
    assert!(page.body.contains(&format!("/opportunities/{opp}/quotes/new")), "the opportunity offers a quote");
    let form = t.get_form(&format!("/opportunities/{opp}/quotes/new"), &session(&sid)).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let once = value_of(&form.body, "_once");
    let path = format!("/opportunities/{opp}/quotes/new");
    let mut fields: Vec<(&str, &str)> =
        vec![("_csrf", &csrf), ("_once", &once), ("title", "测量中心扩建报价"), ("valid_until", "2099-12-31")];
    // 1,280,000 typed with separators and 12 % off the second line; a blank row is ignored.
    fields.extend(row("", "三坐标测量机", "台", "1", "", "1,280,000", ""));
    fields.extend(row("", "测头系统", "套", "2", "50,000", "", "12"));
    fields.extend(row("", "", "", "", "", "", ""));
    fields.extend([
        ("t_kind", "advance"),
        ("t_percent", "30"),
        ("t_days", "0"),
        ("t_kind", "on_delivery"),
        ("t_percent", "70"),
        ("t_days", "30"),
    ]);
    // A bad quantity first: the form comes back with every row as typed and the row named.
    let mut bad = fields.clone();
    if let Some(q) = bad.iter_mut().find(|(k, v)| *k == "l_qty" && *v == "2") {
        q.1 = "-2";
    }
    let r = t.ui_post(&path, &sid, &bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("第 2 行"), "the refused row is named: {}", r.body);
    assert!(r.body.contains("1,280,000") && r.body.contains("测头系统"), "what was typed is kept");
    let r = t.ui_post(&path, &sid, &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let to = location(&r);
    assert!(to.starts_with("/quotes/"), "{to}");
    // Back and submit again: nothing new, and it says so.
    let again = t.ui_post(&path, &sid, &fields).await;
    assert!(location(&again).contains("flash=once"), "{}", location(&again));
    let n: i64 = sqlx::Row::try_get(
        &sqlx::query("SELECT COUNT(*) AS n FROM quotes").fetch_one(&t.db().pool).await.unwrap(),
        "n",
    )
    .unwrap();
    assert_eq!(n, 1, "the same form posted twice saves once");
    let id: i64 = to.trim_start_matches("/quotes/").split('?').next().unwrap().parse().unwrap();
    let show = t.get(&format!("/quotes/{id}"), &session(&sid)).await;
    assert_eq!(show.status, StatusCode::OK);
    // 1,280,000 + 2 × 44,000 = 1,368,000.00.
    assert!(show.body.contains("1,368,000.00"), "{}", show.body);
    assert!(show.body.contains("人民币壹佰叁拾陆万捌仟元整"), "the total in capitals");
    // Submit: 12 % on a line is beyond a rep's 5 %: it waits for approval.
    let version = value_of(&show.body, "version");
    let r = t
        .ui_post(&format!("/quotes/{id}/act"), &sid, &[("_csrf", &csrf), ("version", &version), ("action", "submit")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let show = t.get(&format!("/quotes/{id}"), &session(&sid)).await;
    assert!(show.body.contains("data-state=\"pending\""), "{}", show.body);
    // Sending before approval is refused on the page, in words.
    let version = value_of(&show.body, "version");
    let r = t
        .ui_post(&format!("/quotes/{id}/act"), &sid, &[("_csrf", &csrf), ("version", &version), ("action", "send")])
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(r.body.contains("只有已批准"), "{}", r.body);
    // The manager reads the quote whole on the request page.
    let approval: i64 = sqlx::Row::try_get(
        &sqlx::query("SELECT approval_id FROM quote_versions WHERE quote_id = $1")
            .bind(id)
            .fetch_one(&t.db().pool)
            .await
            .unwrap(),
        "approval_id",
    )
    .unwrap();
    let (msid, _) = t.ui_login("manager", PASSWORD, None).await.expect("manager signs in");
    let a = t.get(&format!("/approvals/{approval}"), &session(&msid)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(a.body.contains("测头系统") && a.body.contains("12.00%") && a.body.contains("5.00%"), "{}", a.body);
    assert!(a.body.contains("不适用"), "the commercial manager's step shows as not needed: {}", a.body);
    assert!(
        a.body.contains(&format!("href=\"/quotes/{id}\" id=\"facts-link\">打开报价")),
        "the facts link opens the quote"
    );
    // The printed quote and the spreadsheet.
    let print = t.get(&format!("/quotes/{id}/print"), &session(&sid)).await;
    assert_eq!(print.status, StatusCode::OK);
    assert!(print.body.contains("商务报价单") && print.body.contains("人民币壹佰叁拾陆万捌仟元整"), "{}", print.body);
    assert!(print.body.contains("/static/print.css"));
    let x = t.get(&format!("/quotes/{id}/xlsx"), &session(&sid)).await;
    assert_eq!(x.status, StatusCode::OK);
    let ctype = x.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    assert!(ctype.contains("spreadsheetml"), "{ctype}");
}

#[tokio::test]
async fn the_quote_spreadsheet_holds_numbers_that_add_up() {
    use calamine::{Data, Reader, Xlsx};
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let opp = opportunity(&t, &w).await;
    let rep = Auth::Bearer(w.tokens["repA"].clone());
    let body = json!({"lines": [
        {"description": "测量机", "unit": "台", "quantity": "2", "unit_price": "440000.00"},
        {"description": "安装", "unit": "项", "quantity": "1", "unit_price": "18000.00"}
    ]});
    let r = t.call(Method::POST, &format!("/api/v1/opportunities/{opp}/quotes"), &rep, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.json()["id"].as_i64().unwrap();
    let (sid, _) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");
    let req = axum::http::Request::builder()
        .uri(format!("/quotes/{id}/xlsx"))
        .header("cookie", format!("kam_session={sid}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let res = tower::ServiceExt::oneshot(t.router.clone(), req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let disposition = res.headers().get("content-disposition").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    assert!(disposition.contains("filename*=UTF-8''"), "{disposition}");
    let bytes = http_body_util::BodyExt::collect(res.into_body()).await.unwrap().to_bytes();
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).expect("an XLSX");
    let sheet = book.worksheet_range_at(0).expect("a sheet").expect("readable");
    let amounts: Vec<f64> = sheet
        .rows()
        .filter(|r| matches!(r.first(), Some(Data::Float(_))))
        .filter_map(|r| match r.get(8) {
            Some(Data::Float(f)) => Some(*f),
            _ => None,
        })
        .collect();
    assert_eq!(amounts, vec![880000.0, 18000.0], "line amounts as numbers");
    let total = sheet.rows().find_map(|r| match (r.get(7), r.get(8)) {
        (Some(Data::String(s)), Some(Data::Float(f))) if s == "含税合计" => Some(*f),
        _ => None,
    });
    assert_eq!(total, Some(898000.0), "the total is a number that equals the sum");
}

#[tokio::test]
async fn the_flow_form_edits_thresholds_and_discount_limits() {
    let t = TestApp::new().await;
    seed(&t).await;
    let (sid, csrf) = t.ui_login("admin", PASSWORD, None).await.expect("admin signs in");
    let page = t.get("/admin/flows", &session(&sid)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("name=\"above_0\" value=\"5.00\""), "the manager's step shows its threshold");
    assert!(page.body.contains("折扣权限"), "the discount authority is on the form");
    let version = page
        .body
        .split("id=\"flow-form-discount_exception\"")
        .nth(1)
        .and_then(|s| s.split("name=\"version\" value=\"").nth(1))
        .and_then(|s| s.split('"').next())
        .expect("version")
        .to_string();
    // Raise the manager's level to 8 % and the rep's limit to 8 %; a threshold of 120 % is refused.
    let mut fields = vec![("_csrf", csrf.as_str()), ("version", version.as_str()), ("mode", "form")];
    let steps = [
        ("ka_manager", "owner_manager", "1", "8"),
        ("ka_director", "hq", "2", "10"),
        ("commercial_manager", "hq", "2", "15"),
    ];
    let names: Vec<(String, String, String, String)> = (0..3)
        .map(|i| (format!("role_{i}"), format!("scope_{i}"), format!("days_{i}"), format!("above_{i}")))
        .collect();
    for (i, (r, s, d, a)) in steps.iter().enumerate() {
        fields.extend([
            (names[i].0.as_str(), *r),
            (names[i].1.as_str(), *s),
            (names[i].2.as_str(), *d),
            (names[i].3.as_str(), *a),
        ]);
    }
    let limits = [
        ("ka_rep", "8"),
        ("inside_sales", "5"),
        ("ka_manager", "10"),
        ("branch_manager", "10"),
        ("ka_director", "15"),
        ("commercial_manager", "100"),
    ];
    let lnames: Vec<(String, String)> =
        (0..limits.len()).map(|i| (format!("limit_role_{i}"), format!("limit_{i}"))).collect();
    for (i, (r, v)) in limits.iter().enumerate() {
        fields.extend([(lnames[i].0.as_str(), *r), (lnames[i].1.as_str(), *v)]);
    }
    let mut bad = fields.clone();
    if let Some(f) = bad.iter_mut().find(|(k, _)| *k == "above_1") {
        f.1 = "120";
    }
    let r = t.ui_post("/admin/flows/discount_exception", &sid, &bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = t.ui_post("/admin/flows/discount_exception", &sid, &fields).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let flows = t.get("/api/v1/flows", &Auth::Bearer(t.token("admin").await)).await.json();
    let d = flows["items"]
        .as_array()
        .or(flows.as_array())
        .unwrap()
        .iter()
        .find(|f| f["flow"] == "discount_exception")
        .cloned()
        .unwrap();
    assert_eq!(d["definition"]["steps"][0]["above"], 800, "{d}");
    assert!(d["definition"]["limits"].as_array().unwrap().contains(&json!(["ka_rep", 800])), "{d}");
}
