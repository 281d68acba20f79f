//! Quotes (issue 20): discount authority at each band's boundary, the conditional steps of
//! `discount_exception`, the floor price, versions, the funnel's `quote_approved`, bad input
//! and scope — through the API, on whichever backend the suite runs on.
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

use super::common::{fields, seed, Auth, TestApp, World};

fn bearer(w: &World, user: &str) -> Auth {
    Auth::Bearer(w.tokens[user].clone())
}

async fn add_user(t: &TestApp, w: &World, username: &str, role: &str, org: &str, manager: Option<&str>) -> Auth {
    let mut body = json!({"username": username, "role": role, "org_unit": org, "password": "quotes-pass-1", "display_name": username});
    if let Some(m) = manager {
        body["manager"] = json!(m);
    }
    let r = t.call(Method::POST, "/api/v1/users", &bearer(w, "admin"), Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    Auth::Bearer(t.token(username).await)
}

/// An opportunity of account X owned by `who`.
async fn opportunity(t: &TestApp, w: &World, who: &Auth, name: &str) -> i64 {
    let body = json!({
        "account_id": w.account_x, "name": name, "amount": "100000.00", "expected_close": "2027-06-30",
        "eval_need": "扩产", "eval_budget": "已批", "eval_timeline": "二季度", "eval_decision_makers": "总经理"
    });
    let r = t.call(Method::POST, "/api/v1/opportunities", who, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.json()["id"].as_i64().expect("id")
}

/// A free-text line at list price 10,000.00 元 with `discount` percent off.
fn line(discount: &str) -> Value {
    json!({"description": "测量机", "unit": "台", "quantity": "1", "list_price": "10000.00", "discount": discount})
}

async fn create(t: &TestApp, who: &Auth, opp: i64, lines: Value) -> Value {
    let r =
        t.call(Method::POST, &format!("/api/v1/opportunities/{opp}/quotes"), who, Some(json!({"lines": lines}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.json()
}

async fn act(t: &TestApp, who: &Auth, q: &Value, action: &str, extra: Value) -> Value {
    let id = q["id"].as_i64().expect("id");
    let mut body = json!({"version": q["version"]});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    let r = t.call(Method::POST, &format!("/api/v1/quotes/{id}/{action}"), who, Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{action}: {}", r.body);
    r.json()
}

/// The request's steps as (role, state).
async fn steps(t: &TestApp, who: &Auth, approval: i64) -> Vec<(String, String)> {
    let r = t.get(&format!("/api/v1/approvals/{approval}"), who).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| (s["role"].as_str().unwrap_or("").to_string(), s["state"].as_str().unwrap_or("").to_string()))
        .collect()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

async fn decide(t: &TestApp, who: &Auth, approval: i64, decision: &str) {
    let body = json!({"decision": decision, "comment": "价格需再议"});
    let r = t.call(Method::POST, &format!("/api/v1/approvals/{approval}/decision"), who, Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

#[tokio::test]
async fn each_authority_band_holds_at_its_boundary() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    add_user(&t, &w, "commercial", "commercial_manager", "HQ", None).await;
    let rep = bearer(&w, "repA");
    let director = bearer(&w, "director");
    let opp = opportunity(&t, &w, &rep, "测量机采购").await;
    // (discount, who must decide, in order; the other steps skipped). A rep may give 5 %.
    let cases: [(&str, &[&str]); 7] = [
        ("5", &[]),
        ("5.01", &["ka_manager"]),
        ("10", &["ka_manager"]),
        ("10.01", &["ka_manager", "ka_director"]),
        ("15", &["ka_manager", "ka_director"]),
        ("15.01", &["ka_manager", "ka_director", "commercial_manager"]),
        ("12", &["ka_manager", "ka_director"]),
    ];
    for (d, deciders) in cases {
        let q = create(&t, &rep, opp, json!([line(d)])).await;
        assert_eq!(q["state"], "draft");
        assert_eq!(q["latest"]["discount"], format!("{:.2}", d.parse::<f64>().expect("number")), "{q}");
        let q = act(&t, &rep, &q, "submit", json!({})).await;
        if deciders.is_empty() {
            assert_eq!(q["state"], "approved", "{d}% is within a rep's 5%: {q}");
            assert_eq!(q["latest"]["within_authority"], true);
            assert!(q["latest"]["approval_id"].is_null());
            continue;
        }
        assert_eq!(q["state"], "pending", "{d}%: {q}");
        let aid = q["latest"]["approval_id"].as_i64().expect("a request");
        let s = steps(&t, &director, aid).await;
        let asked: Vec<&str> = s.iter().filter(|(_, st)| st != "skipped").map(|(r, _)| r.as_str()).collect();
        assert_eq!(asked, deciders, "{d}%: {s:?}");
        assert_eq!(s[0].1, "open", "{d}%: the first step that applies opens: {s:?}");
    }
    // A KA manager (10 %) quoting 12 % skips the level of their own authority.
    let manager = bearer(&w, "manager");
    let q = create(&t, &manager, opp, json!([line("12")])).await;
    let q = act(&t, &manager, &q, "submit", json!({})).await;
    let s = steps(&t, &director, q["latest"]["approval_id"].as_i64().expect("request")).await;
    assert_eq!(
        s,
        vec![
            ("ka_manager".to_string(), "skipped".to_string()),
            ("ka_director".to_string(), "open".to_string()),
            ("commercial_manager".to_string(), "skipped".to_string())
        ]
    );
    let _ = pairs(&[]);
}

#[tokio::test]
async fn a_twelve_percent_quote_climbs_to_the_director_and_a_changed_price_asks_again() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let commercial = add_user(&t, &w, "commercial", "commercial_manager", "HQ", None).await;
    let (rep, manager, director) = (bearer(&w, "repA"), bearer(&w, "manager"), bearer(&w, "director"));
    let opp = opportunity(&t, &w, &rep, "扩产项目").await;
    let lines = json!([
        {"description": "三坐标测量机", "unit": "台", "quantity": "2", "list_price": "500000.00", "discount": "12"},
        {"description": "测头", "unit": "套", "quantity": "4", "list_price": "25000.00", "unit_price": "22000.00"},
        {"description": "安装调试", "unit": "项", "quantity": "1", "unit_price": "18000.00"}
    ]);
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/opportunities/{opp}/quotes"),
            &rep,
            Some(json!({
                "lines": lines, "contact_id": w.contact_x, "valid_until": "2099-12-31",
                "payment_terms": [{"kind": "advance", "percent": "30", "days": 0}, {"kind": "on_delivery", "percent": "60", "days": 30}, {"kind": "after_acceptance", "percent": "10", "days": 30}]
            })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let q = r.json();
    let x = &q["latest"];
    // 2 × 440,000 + 4 × 22,000 + 18,000 = 986,000.00; tax-exclusive 986,000 ÷ 1.13 per line.
    assert_eq!(x["total"], "986000.00", "{x}");
    assert_eq!(x["lines"][0]["unit_price"], "440000.00");
    assert_eq!(x["lines"][1]["discount"], "12.00");
    assert_eq!(x["contact_name"], "王志远");
    assert_eq!(x["total_in_words"], "玖拾捌万陆仟元整");
    let tax_total: i64 =
        ["total_excl", "tax"].iter().map(|k| (x[*k].as_str().unwrap().replace('.', "")).parse::<i64>().unwrap()).sum();
    assert_eq!(tax_total, 98_600_000, "tax-exclusive and tax add up to the total");
    assert_eq!(x["payment_terms"][1]["amount"], "591600.00");
    let q = act(&t, &rep, &q, "submit", json!({})).await;
    assert_eq!(q["state"], "pending");
    let aid = q["latest"]["approval_id"].as_i64().expect("request");
    // The commercial manager is not asked; the manager is, then the director.
    let inbox = t.get("/api/v1/approvals", &commercial).await.json();
    assert_eq!(inbox["items"].as_array().map(Vec::len), Some(0), "{inbox}");
    decide(&t, &manager, aid, "approve").await;
    assert_eq!(t.get(&format!("/api/v1/quotes/{}", q["id"]), &rep).await.json()["state"], "pending");
    decide(&t, &director, aid, "approve").await;
    let q = t.get(&format!("/api/v1/quotes/{}", q["id"]), &rep).await.json();
    assert_eq!(q["state"], "approved", "{q}");
    // A price changed after approval: version 2, waiting again; version 1 stays approved history.
    let id = q["id"].as_i64().unwrap();
    let mut changed = lines.clone();
    changed[2]["unit_price"] = json!("17000.00");
    let r = t
        .call(
            Method::PATCH,
            &format!("/api/v1/quotes/{id}"),
            &rep,
            Some(json!({"version": q["version"], "lines": changed})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let q2 = r.json();
    assert_eq!((q2["current_version"].as_i64(), q2["state"].as_str()), (Some(2), Some("pending")), "{q2}");
    let aid2 = q2["latest"]["approval_id"].as_i64().expect("a new request");
    assert_ne!(aid2, aid);
    let v1 = t.get(&format!("/api/v1/quotes/{id}?version_no=1"), &rep).await.json();
    assert_eq!(v1["latest"]["state"], "superseded");
    assert_eq!(t.get(&format!("/api/v1/approvals/{aid}"), &rep).await.json()["state"], "approved");
    // Not sendable while pending.
    let r =
        t.call(Method::POST, &format!("/api/v1/quotes/{id}/send"), &rep, Some(json!({"version": q2["version"]}))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    decide(&t, &manager, aid2, "approve").await;
    decide(&t, &director, aid2, "approve").await;
    let q2 = t.get(&format!("/api/v1/quotes/{id}"), &rep).await.json();
    let sent = act(&t, &rep, &q2, "send", json!({})).await;
    assert_eq!((sent["state"].as_str(), sent["sent_version"].as_i64()), (Some("sent"), Some(2)));
    let accepted = act(&t, &rep, &sent, "accept", json!({"update_amount": true})).await;
    assert_eq!(accepted["state"], "accepted");
    let o = t.get(&format!("/api/v1/opportunities/{opp}"), &rep).await.json();
    let ticked =
        o["checklist"].as_array().unwrap().iter().any(|c| c["item"] == "quote_approved" && c["checked"] == true);
    assert!(ticked, "the customer's acceptance ticks quote_approved: {o}");
    assert_eq!(o["amount"], "985000.00", "the amount follows the accepted quote");
    // An accepted quote is closed.
    let r = t
        .call(
            Method::PATCH,
            &format!("/api/v1/quotes/{id}"),
            &rep,
            Some(json!({"version": accepted["version"], "notes": "x"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
}

#[tokio::test]
async fn a_returned_request_puts_the_version_back_to_draft_with_the_reason() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (rep, manager) = (bearer(&w, "repA"), bearer(&w, "manager"));
    let opp = opportunity(&t, &w, &rep, "退回测试").await;
    let q = create(&t, &rep, opp, json!([line("8")])).await;
    let q = act(&t, &rep, &q, "submit", json!({})).await;
    let aid = q["latest"]["approval_id"].as_i64().unwrap();
    let body = json!({"decision": "return", "comment": "折扣过大，请重新报价"});
    let r = t.call(Method::POST, &format!("/api/v1/approvals/{aid}/decision"), &manager, Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let q = t.get(&format!("/api/v1/quotes/{}", q["id"]), &rep).await.json();
    assert_eq!(q["state"], "draft");
    assert_eq!(q["latest"]["returned_reason"], "折扣过大，请重新报价");
    // The draft is edited in place (still version 1) and, within authority now, approved at once.
    let r = t
        .call(
            Method::PATCH,
            &format!("/api/v1/quotes/{}", q["id"]),
            &rep,
            Some(json!({"version": q["version"], "lines": [line("5")]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let q = r.json();
    assert_eq!(q["current_version"], 1);
    let q = act(&t, &rep, &q, "submit", json!({})).await;
    assert_eq!(q["state"], "approved");
}

#[tokio::test]
async fn bad_input_names_the_field_and_saves_nothing() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let rep = bearer(&w, "repA");
    let opp = opportunity(&t, &w, &rep, "校验").await;
    let path = format!("/api/v1/opportunities/{opp}/quotes");
    let cases = [
        (
            json!({"lines": [{"description": "a", "quantity": "-1", "unit_price": "10.00"}]}),
            "lines[0].quantity",
            "quantity_positive",
        ),
        (
            json!({"lines": [{"description": "a", "quantity": "1", "unit_price": "-10.00"}]}),
            "lines[0].unit_price",
            "price_negative",
        ),
        (
            json!({"lines": [{"description": "a", "quantity": "1", "list_price": "10.00", "discount": "101"}]}),
            "lines[0].discount",
            "discount_range",
        ),
        (
            json!({"lines": [{"description": "a", "quantity": "2", "unit_price": "10.00", "amount": "25.00"}]}),
            "lines[0].amount",
            "amount_mismatch",
        ),
        (
            json!({"quote_date": "2027-03-01", "valid_until": "2027-02-01", "lines": [{"description": "a", "quantity": "1", "unit_price": "10.00"}]}),
            "valid_until",
            "valid_until_before_quote_date",
        ),
        (
            json!({"lines": [{"description": "a", "quantity": "1", "unit_price": "10.00"}], "payment_terms": [{"kind": "advance", "percent": "30", "days": 0}]}),
            "payment_terms",
            "installments_sum",
        ),
        (json!({"lines": []}), "lines", "required"),
    ];
    for (body, field, code) in cases {
        let r = t.call(Method::POST, &path, &rep, Some(body.clone())).await;
        let f = fields(&r);
        assert_eq!(f.get(field).map(String::as_str), Some(code), "{body}: {f:?}");
    }
    let n: i64 = sqlx::Row::try_get(
        &sqlx::query("SELECT COUNT(*) AS n FROM quotes").fetch_one(&t.db().pool).await.unwrap(),
        "n",
    )
    .unwrap();
    assert_eq!(n, 0, "nothing saved");
    // An unknown key inside a line is refused too.
    let r = t
        .call(
            Method::POST,
            &path,
            &rep,
            Some(json!({"lines": [{"description": "a", "quantity": "1", "unit_price": "1.00", "colour": "red"}]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
}

#[tokio::test]
async fn quotes_are_scoped_as_their_opportunity() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (rep, other, manager) = (bearer(&w, "repA"), bearer(&w, "repC"), bearer(&w, "manager"));
    let opp = opportunity(&t, &w, &rep, "范围").await;
    let q = create(&t, &rep, opp, json!([line("3")])).await;
    let id = q["id"].as_i64().unwrap();
    assert_eq!(t.get(&format!("/api/v1/quotes/{id}"), &other).await.status, StatusCode::NOT_FOUND);
    assert_eq!(t.get(&format!("/api/v1/opportunities/{opp}/quotes"), &other).await.status, StatusCode::NOT_FOUND);
    let r = t
        .call(Method::POST, &format!("/api/v1/opportunities/{opp}/quotes"), &other, Some(json!({"lines": [line("1")]})))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/quotes/{id}/lose"),
            &other,
            Some(json!({"version": q["version"], "reason": "x"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let theirs = t.get("/api/v1/quotes", &other).await.json();
    assert_eq!(theirs["items"].as_array().map(Vec::len), Some(0), "{theirs}");
    // The rep's manager sees it in the team's list; filters narrow it.
    let mine = t.get("/api/v1/quotes?discount_over=2", &manager).await.json();
    assert_eq!(mine["items"][0]["id"], id, "{mine}");
    let none = t.get("/api/v1/quotes?discount_over=3", &manager).await.json();
    assert_eq!(none["items"].as_array().map(Vec::len), Some(0), "{none}");
    let drafts = t.get("/api/v1/quotes?state=draft&owner=repA", &manager).await.json();
    assert_eq!(drafts["items"].as_array().map(Vec::len), Some(1), "{drafts}");
    // A second quote becomes the opportunity's current one.
    let q2 = create(&t, &rep, opp, json!([line("2")])).await;
    let list = t.get(&format!("/api/v1/opportunities/{opp}/quotes"), &rep).await.json();
    let current: Vec<i64> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["is_current"] == true)
        .filter_map(|r| r["id"].as_i64())
        .collect();
    assert_eq!(current, vec![q2["id"].as_i64().unwrap()]);
    let lost = act(&t, &rep, &q, "lose", json!({"reason": "客户预算取消"})).await;
    assert_eq!((lost["state"].as_str(), lost["lost_reason"].as_str()), (Some("lost"), Some("客户预算取消")));
}

#[tokio::test]
async fn a_price_below_the_floor_reaches_the_commercial_manager_and_an_inactive_product_is_refused() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let commercial = add_user(&t, &w, "commercial", "commercial_manager", "HQ", None).await;
    let (rep, director) = (bearer(&w, "repA"), bearer(&w, "director"));
    let body = json!({"code": "CMM-500", "name": "三坐标测量机", "unit": "台", "list_price": "100000.00", "floor_price": "98000.00", "standard_cost": "60000.00"});
    let r = t.call(Method::POST, "/api/v1/products", &commercial, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let product = r.json();
    let opp = opportunity(&t, &w, &rep, "底价").await;
    // 3 % off is within a rep's 5 %, but 97,000 is below the 98,000 floor: up to the commercial manager.
    let q = create(&t, &rep, opp, json!([{"product_code": "cmm-500", "quantity": "1", "discount": "3"}])).await;
    let line = &q["latest"]["lines"][0];
    assert_eq!((line["unit_price"].as_str(), line["below_floor"].as_bool()), (Some("97000.00"), Some(true)), "{line}");
    assert!(
        line.get("floor_price").is_none() && q["latest"].get("margin").is_none(),
        "a rep sees no floor price or margin: {q}"
    );
    let q = act(&t, &rep, &q, "submit", json!({})).await;
    assert_eq!(q["state"], "pending");
    let aid = q["latest"]["approval_id"].as_i64().unwrap();
    let s = steps(&t, &director, aid).await;
    assert!(s.iter().all(|(_, st)| st != "skipped"), "a floor breach climbs the whole chain: {s:?}");
    assert_eq!(s.last().map(|(r, _)| r.as_str()), Some("commercial_manager"));
    // The commercial manager sees the floor price and the margin.
    let seen = t.get(&format!("/api/v1/quotes/{}", q["id"]), &commercial).await.json();
    assert_eq!(seen["latest"]["lines"][0]["floor_price"], "98000.00", "{seen}");
    assert!(seen["latest"]["margin"].is_string());
    // At the floor it is within authority.
    let q2 =
        create(&t, &rep, opp, json!([{"product_id": product["id"], "quantity": "1", "unit_price": "98000.00"}])).await;
    assert_eq!(act(&t, &rep, &q2, "submit", json!({})).await["state"], "approved");
    // A deactivated product is refused by name.
    let r = t
        .call(
            Method::PATCH,
            &format!("/api/v1/products/{}", product["id"]),
            &commercial,
            Some(json!({"version": product["version"], "active": false})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/opportunities/{opp}/quotes"),
            &rep,
            Some(json!({"lines": [{"product_id": product["id"], "quantity": "1"}]})),
        )
        .await;
    assert_eq!(fields(&r).get("lines[0].product").map(String::as_str), Some("product_inactive"));
}
