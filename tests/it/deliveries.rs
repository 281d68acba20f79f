//! Delivery (issue 21 item 2): outbounds against a signed order — partial deliveries, more
//! than is left refused by row with nothing saved, the steps prepared → shipped → delivered →
//! accepted with their versions and audit rows; the first delivery and the full acceptance as
//! the order's events, making installments fall due; the logistics worklist (late first, the
//! late filter, scope); the signed contract and the acceptance document as files; and the
//! order page and the `/logistics` page — through the API and the pages, on whichever backend
//! the suite runs on.
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::{json, Value};

use super::common::{fields, multipart, seed, Auth, Resp, TestApp, World, PASSWORD};

fn bearer(w: &World, user: &str) -> Auth {
    Auth::Bearer(w.tokens[user].clone())
}

fn day(offset: i64) -> String {
    (chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive() + chrono::Duration::days(offset))
        .format("%Y-%m-%d")
        .to_string()
}

/// A logistics manager at HQ (the seed has none), signed in with a token.
async fn logistics(t: &TestApp) -> Auth {
    use kam::app::records::input::Input;
    let ctx = kam::app::Ctx::system();
    let p = [
        ("username", Some("wuliu")),
        ("role", Some("logistics_manager")),
        ("org_unit", Some("HQ")),
        ("password", Some(PASSWORD)),
        ("display_name", Some("物流赵经理")),
    ];
    kam::app::people::users::create(t.db(), &ctx, &Input::from_pairs(&p)).await.expect("logistics user");
    Auth::Bearer(t.token("wuliu").await)
}

/// An order of `account` that `who` signs at once (within their authority): two lines —
/// 3 测量机 and 1 项 of installation — with `terms`, the delivery asked for on `requested`.
async fn signed_order(t: &TestApp, who: &Auth, account: i64, requested: Option<String>, terms: Value) -> Value {
    let body = json!({
        "account_id": account,
        "requested_delivery": requested,
        "lines": [
            {"description": "三坐标测量机", "unit": "台", "quantity": "3", "unit_price": "1000.00"},
            {"description": "安装调试服务", "unit": "项", "quantity": "1", "unit_price": "200.00"}
        ],
        "payment_terms": terms
    });
    let r = t.call(Method::POST, "/api/v1/orders", who, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let o = r.json();
    let r = t
        .call(Method::POST, &format!("/api/v1/orders/{}/submit", o["id"]), who, Some(json!({"version": o["version"]})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.json()["state"], "signed", "{}", r.body);
    r.json()
}

async fn prepare(t: &TestApp, who: &Auth, order: &Value, lines: Value) -> Resp {
    t.call(Method::POST, &format!("/api/v1/orders/{}/outbounds", order["id"]), who, Some(json!({"lines": lines}))).await
}

async fn step(t: &TestApp, who: &Auth, ob: &Value, what: &str, body: Value) -> Value {
    let mut body = body;
    body["version"] = ob["version"].clone();
    let r = t.call(Method::POST, &format!("/api/v1/outbounds/{}/{what}", ob["id"]), who, Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{what}: {}", r.body);
    r.json()
}

async fn delivery(t: &TestApp, who: &Auth, order: &Value) -> Value {
    let r = t.get(&format!("/api/v1/orders/{}/outbounds", order["id"]), who).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()
}

/// The order's receivables as (kind, state, due day).
async fn installments(t: &TestApp, who: &Auth, order: &Value) -> Vec<(String, String, Option<String>)> {
    let m = t.get(&format!("/api/v1/orders/{}/money", order["id"]), who).await.json();
    m["receivables"]
        .as_array()
        .expect("receivables")
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap_or("").to_string(),
                r["state"].as_str().unwrap_or("").to_string(),
                r["due_on"].as_str().map(str::to_string),
            )
        })
        .collect()
}

async fn count(t: &TestApp, sql: &str) -> i64 {
    sqlx::Row::try_get(&sqlx::query(sql).fetch_one(&t.db().pool).await.expect("count"), "n").expect("n")
}

fn terms() -> Value {
    json!([
        {"kind": "advance", "percent": "20", "due": "0 days after order"},
        {"kind": "on_delivery", "percent": "50", "due": "30 days after delivery"},
        {"kind": "after_acceptance", "percent": "30", "due": "0 days after acceptance"}
    ])
}

#[tokio::test]
async fn partial_deliveries_move_step_by_step_and_their_events_make_installments_fall_due() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (manager, finance) = (bearer(&w, "manager"), bearer(&w, "finance"));
    let wuliu = logistics(&t).await;
    let o = signed_order(&t, &manager, w.account_x, Some(day(-5)), terms()).await;
    let owed = |v: Vec<(String, String, Option<String>)>| {
        v.into_iter().map(|(k, s, d)| format!("{k} {s} {}", d.unwrap_or_default())).collect::<Vec<_>>()
    };
    assert_eq!(
        owed(installments(&t, &manager, &o).await),
        vec![format!("advance open {}", day(0)), "on_delivery scheduled ".into(), "after_acceptance scheduled ".into()]
    );

    // More than ordered, by row; nothing to send; an unknown line: 422, nothing saved.
    let r =
        prepare(&t, &wuliu, &o, json!([{"position": 0, "quantity": "2"}, {"position": 1, "quantity": "1.5"}])).await;
    assert_eq!(fields(&r).get("lines[1].quantity").map(String::as_str), Some("beyond_left_to_deliver"), "{}", r.body);
    let r = prepare(&t, &wuliu, &o, json!([{"position": 0, "quantity": "0"}])).await;
    assert_eq!(fields(&r).get("lines").map(String::as_str), Some("nothing_to_deliver"));
    let r = prepare(&t, &wuliu, &o, json!([{"position": 5, "quantity": "1"}, {"position": 0, "quantity": "-1"}])).await;
    let f = fields(&r);
    assert!(f.contains_key("lines[1].quantity"), "{f:?}");
    assert_eq!(count(&t, "SELECT COUNT(*) AS n FROM outbounds").await, 0, "nothing saved");
    // Finance reads but does not deliver; another region's rep does not find the order.
    assert_eq!(
        prepare(&t, &finance, &o, json!([{"position": 0, "quantity": "1"}])).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        prepare(&t, &bearer(&w, "repC"), &o, json!([{"position": 0, "quantity": "1"}])).await.status,
        StatusCode::NOT_FOUND
    );

    // A partial delivery: 2 of the 3 machines. What is on an outbound counts at once.
    let r = prepare(&t, &wuliu, &o, json!([{"position": 0, "quantity": "2"}])).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let ob = r.json();
    assert!(ob["number"].as_str().is_some_and(|n| n.starts_with("CK")), "{ob}");
    assert_eq!((ob["state"].as_str(), ob["lines"][0]["quantity"].as_str()), (Some("prepared"), Some("2")));
    let r = prepare(&t, &manager, &o, json!([{"position": 0, "quantity": "2"}])).await;
    assert_eq!(fields(&r).get("lines[0].quantity").map(String::as_str), Some("beyond_left_to_deliver"));
    let dv = delivery(&t, &finance, &o).await;
    assert_eq!((dv["lines"][0]["outbound"].as_str(), dv["lines"][0]["left"].as_str()), (Some("2"), Some("1")), "{dv}");
    assert_eq!(dv["days_late"], 5, "asked for five days ago, not delivered: {dv}");

    // Ship: the carrier is required; a stale version is a conflict.
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/outbounds/{}/ship", ob["id"]),
            &wuliu,
            Some(json!({"version": ob["version"], "shipped_on": day(-4)})),
        )
        .await;
    assert_eq!(fields(&r).get("carrier").map(String::as_str), Some("required"));
    let shipped =
        step(&t, &wuliu, &ob, "ship", json!({"carrier": "顺丰速运", "waybill": "SF1402938471", "shipped_on": day(-4)}))
            .await;
    assert_eq!((shipped["state"].as_str(), shipped["waybill"].as_str()), (Some("shipped"), Some("SF1402938471")));
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/outbounds/{}/deliver", ob["id"]),
            &wuliu,
            Some(json!({"version": ob["version"], "delivered_on": day(-3)})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "the version it was shipped over: {}", r.body);
    // Delivered before it shipped: refused naming the day.
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/outbounds/{}/deliver", ob["id"]),
            &wuliu,
            Some(json!({"version": shipped["version"], "delivered_on": day(-5)})),
        )
        .await;
    assert_eq!(fields(&r).get("delivered_on").map(String::as_str), Some("before_shipped"));
    // Accepting what was not delivered is a conflict.
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/outbounds/{}/accept", ob["id"]),
            &wuliu,
            Some(json!({"version": shipped["version"], "accepted_on": day(-3)})),
        )
        .await;
    assert_eq!((r.status, r.json()["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("outbound_state")));

    // The first delivery, three days ago, is the order's delivery event: "30 days after delivery" falls due.
    let delivered = step(&t, &wuliu, &shipped, "deliver", json!({"delivered_on": day(-3)})).await;
    assert_eq!(delivered["state"], "delivered");
    assert_eq!(
        owed(installments(&t, &manager, &o).await),
        vec![
            format!("advance open {}", day(0)),
            format!("on_delivery open {}", day(27)),
            "after_acceptance scheduled ".into()
        ]
    );
    // Accepted in part: the order is not accepted in full, its acceptance installment waits.
    let accepted =
        step(&t, &manager, &delivered, "accept", json!({"accepted_on": day(-2), "note": "外观与精度合格"})).await;
    assert_eq!(
        (accepted["state"].as_str(), accepted["accepted_on"].as_str()),
        (Some("accepted"), Some(day(-2).as_str()))
    );
    let dv = delivery(&t, &manager, &o).await;
    assert_eq!((dv["delivered_on"].as_str(), dv["accepted_on"].as_str()), (Some(day(-3).as_str()), None), "{dv}");
    assert_eq!(installments(&t, &manager, &o).await[2].1, "scheduled");

    // The rest: a second outbound, cancelled once, then prepared again and taken to the end.
    let r = prepare(&t, &wuliu, &o, json!([{"position": 0, "quantity": "1"}, {"position": 1, "quantity": "1"}])).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/outbounds/{}/cancel", r.json()["id"]),
            &wuliu,
            Some(json!({"version": 1})),
        )
        .await;
    assert_eq!(fields(&r).get("reason").map(String::as_str), Some("required"));
    let second = prepare(&t, &wuliu, &o, json!([{"position": 0, "quantity": "1"}])).await;
    assert_eq!(second.status, StatusCode::UNPROCESSABLE_ENTITY, "the first of the two is still prepared");
    let pending = delivery(&t, &wuliu, &o).await["outbounds"][0].clone();
    let cancelled = step(&t, &wuliu, &pending, "cancel", json!({"reason": "客户要求合并发货"})).await;
    assert_eq!(cancelled["state"], "cancelled");
    let r = prepare(&t, &wuliu, &o, json!([{"position": 0, "quantity": "1"}, {"position": 1, "quantity": "1"}])).await;
    assert_eq!(r.status, StatusCode::CREATED, "cancelled quantities are free again: {}", r.body);
    let ob2 = r.json();
    let ob2 = step(&t, &wuliu, &ob2, "ship", json!({"carrier": "德邦物流", "shipped_on": day(-1)})).await;
    let ob2 = step(&t, &wuliu, &ob2, "deliver", json!({"delivered_on": day(-1)})).await;
    let ob2 = step(&t, &wuliu, &ob2, "accept", json!({"accepted_on": day(0)})).await;
    assert_eq!(ob2["state"], "accepted");
    // Every line delivered and accepted: the acceptance event is today, the delivery day stays.
    let dv = delivery(&t, &finance, &o).await;
    assert_eq!(
        (
            dv["delivered_on"].as_str(),
            dv["accepted_on"].as_str(),
            dv["delivered_in_full"].as_bool(),
            dv["days_late"].as_i64()
        ),
        (Some(day(-3).as_str()), Some(day(0).as_str()), Some(true), None),
        "{dv}"
    );
    assert_eq!(dv["may_prepare"], false);
    assert_eq!(
        owed(installments(&t, &manager, &o).await),
        vec![
            format!("advance open {}", day(0)),
            format!("on_delivery open {}", day(27)),
            format!("after_acceptance open {}", day(0))
        ]
    );
    // Each step audited on the order.
    let n = count(
        &t,
        &format!(
            "SELECT COUNT(*) AS n FROM audit_log WHERE entity = 'order' AND entity_id = '{}' AND action IN ('outbound', 'shipped', 'delivered', 'accepted', 'outbound_cancel')",
            o["id"]
        ),
    )
    .await;
    assert_eq!(n, 3 + 2 + 2 + 2 + 1, "three outbounds, two of each step, one cancel");

    // A cancelled order takes no new outbound.
    let c = signed_order(&t, &manager, w.account_x, None, json!([])).await;
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/orders/{}/cancel", c["id"]),
            &manager,
            Some(json!({"version": c["version"], "reason": "客户取消"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = prepare(&t, &wuliu, &c, json!([{"position": 0, "quantity": "1"}])).await;
    assert_eq!((r.status, r.json()["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("order_cancelled")));
}

#[tokio::test]
async fn a_re_signed_order_finds_its_delivery_day_and_counts_against_the_new_version() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let manager = bearer(&w, "manager");
    let o = signed_order(&t, &manager, w.account_x, None, terms()).await;
    let ob = prepare(&t, &manager, &o, json!([{"position": 0, "quantity": "3"}, {"position": 1, "quantity": "1"}]))
        .await
        .json();
    let ob = step(&t, &manager, &ob, "ship", json!({"carrier": "自提", "shipped_on": day(-2)})).await;
    let ob = step(&t, &manager, &ob, "deliver", json!({"delivered_on": day(-2)})).await;
    step(&t, &manager, &ob, "accept", json!({"accepted_on": day(-1)})).await;
    assert_eq!(installments(&t, &manager, &o).await[2].2.as_deref(), Some(day(-1).as_str()));
    // Version 2 orders a fourth machine: signed at once, the installments are planned again —
    // the delivery day is found, the acceptance waits for the fourth machine.
    let cur = t.get(&format!("/api/v1/orders/{}", o["id"]), &manager).await.json();
    let body = json!({"version": cur["version"], "lines": [
        {"description": "三坐标测量机", "unit": "台", "quantity": "4", "unit_price": "1000.00"},
        {"description": "安装调试服务", "unit": "项", "quantity": "1", "unit_price": "200.00"}
    ]});
    let r = t.call(Method::PATCH, &format!("/api/v1/orders/{}", o["id"]), &manager, Some(body)).await;
    assert_eq!((r.status, r.json()["signed_version"].as_i64()), (StatusCode::OK, Some(2)), "{}", r.body);
    let owed = installments(&t, &manager, &o).await;
    assert_eq!(owed[1], ("on_delivery".into(), "open".into(), Some(day(28))), "{owed:?}");
    assert_eq!(owed[2].1, "scheduled", "{owed:?}");
    let dv = delivery(&t, &manager, &o).await;
    assert_eq!((dv["lines"][0]["left"].as_str(), dv["accepted_on"].as_str()), (Some("1"), None), "{dv}");
    let wl = t.get("/api/v1/logistics/worklist", &manager).await.json();
    assert!(
        wl["items"].as_array().expect("items").iter().any(|i| i["order_id"] == o["id"]),
        "back on the worklist: {wl}"
    );
}

#[tokio::test]
async fn the_logistics_worklist_puts_the_late_first_and_follows_scope() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (manager, director, finance) = (bearer(&w, "manager"), bearer(&w, "director"), bearer(&w, "finance"));
    let wuliu = logistics(&t).await;
    let later = signed_order(&t, &manager, w.account_x, Some(day(20)), json!([])).await;
    let undated = signed_order(&t, &manager, w.account_x, None, json!([])).await;
    let late = signed_order(&t, &manager, w.account_x, Some(day(-10)), json!([])).await;
    let east = signed_order(&t, &director, w.account_c, Some(day(3)), json!([])).await;
    // Delivered in full: off the list.
    let done = signed_order(&t, &manager, w.account_x, Some(day(-30)), json!([])).await;
    let ob = prepare(&t, &wuliu, &done, json!([{"position": 0, "quantity": "3"}, {"position": 1, "quantity": "1"}]))
        .await
        .json();
    let ob = step(&t, &wuliu, &ob, "ship", json!({"carrier": "顺丰速运", "shipped_on": day(-2)})).await;
    step(&t, &wuliu, &ob, "deliver", json!({"delivered_on": day(-1)})).await;
    // Partly on its way.
    prepare(&t, &wuliu, &late, json!([{"position": 1, "quantity": "1"}])).await;

    let ids =
        |v: &Value| v["items"].as_array().expect("items").iter().map(|i| i["order_id"].clone()).collect::<Vec<_>>();
    for who in [&wuliu, &finance, &director] {
        let wl = t.get("/api/v1/logistics/worklist", who).await;
        assert_eq!(wl.status, StatusCode::OK, "{}", wl.body);
        let wl = wl.json();
        assert_eq!(
            ids(&wl),
            vec![late["id"].clone(), east["id"].clone(), later["id"].clone(), undated["id"].clone()],
            "{wl}"
        );
        assert_eq!(wl["late"], 1);
    }
    let wl = t.get("/api/v1/logistics/worklist", &wuliu).await.json();
    let first = &wl["items"][0];
    assert_eq!(
        (
            first["days_late"].as_i64(),
            first["lines_to_prepare"].as_i64(),
            first["lines_undelivered"].as_i64(),
            first["outbounds_open"].as_i64()
        ),
        (Some(10), Some(1), Some(2), Some(1)),
        "{wl}"
    );
    assert!(wl["items"][1]["days_late"].is_null());
    // Filters: late only; one account.
    assert_eq!(ids(&t.get("/api/v1/logistics/worklist?late=true", &wuliu).await.json()), vec![late["id"].clone()]);
    assert_eq!(
        ids(&t.get(&format!("/api/v1/logistics/worklist?account_id={}", w.account_c), &wuliu).await.json()),
        vec![east["id"].clone()]
    );
    // Salespeople see their accounts' orders only.
    assert_eq!(ids(&t.get("/api/v1/logistics/worklist", &bearer(&w, "repC")).await.json()), vec![east["id"].clone()]);
    assert_eq!(ids(&t.get("/api/v1/logistics/worklist", &bearer(&w, "repA")).await.json()).len(), 3);
    assert_eq!(ids(&t.get("/api/v1/logistics/worklist", &bearer(&w, "repB")).await.json()).len(), 0);
    // Out of scope is not found.
    let repc = bearer(&w, "repC");
    assert_eq!(t.get(&format!("/api/v1/orders/{}/outbounds", late["id"]), &repc).await.status, StatusCode::NOT_FOUND);
    assert_eq!(t.get(&format!("/api/v1/outbounds/{}", ob["id"]), &repc).await.status, StatusCode::NOT_FOUND);
    assert_eq!(t.get(&format!("/api/v1/outbounds/{}", ob["id"]), &bearer(&w, "repA")).await.status, StatusCode::OK);
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/outbounds/{}/accept", ob["id"]),
            &repc,
            Some(json!({"version": 3, "accepted_on": day(0)})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

/// The start of a PDF: sniffed as application/pdf.
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n";

async fn upload(t: &TestApp, who: &Auth, path: &str, name: &str, bytes: &[u8]) -> Resp {
    let (ct, body) = multipart(&[("note", "签字合同")], name, bytes);
    let mut b = Request::builder().method(Method::POST).uri(path).header(header::CONTENT_TYPE, ct);
    if let Auth::Bearer(tok) = who {
        b = b.header(header::AUTHORIZATION, format!("Bearer {tok}"));
    }
    t.send(b.body(Body::from(body)).expect("request")).await
}

async fn ui_upload(t: &TestApp, sid: &str, path: &str, fields: &[(&str, &str)], name: &str, bytes: &[u8]) -> Resp {
    let (ct, body) = multipart(fields, name, bytes);
    let req = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::COOKIE, format!("kam_session={sid}"))
        .header(header::CONTENT_TYPE, ct)
        .body(Body::from(body))
        .expect("request");
    t.send(req).await
}

#[tokio::test]
async fn the_signed_contract_and_the_acceptance_document_are_the_records_files() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (manager, finance, rep) = (bearer(&w, "manager"), bearer(&w, "finance"), bearer(&w, "repA"));
    let wuliu = logistics(&t).await;
    let o = signed_order(&t, &manager, w.account_x, None, json!([])).await;
    let base = format!("/api/v1/orders/{}/attachments", o["id"]);
    // The signed contract: the order's writers upload it; finance and logistics do not.
    let r = upload(&t, &rep, &base, "合同HT-2027-0031.pdf", PDF).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let file = r.json();
    assert_eq!((file["content_type"].as_str(), file["note"].as_str()), (Some("application/pdf"), Some("签字合同")));
    assert_eq!(upload(&t, &finance, &base, "x.pdf", PDF).await.status, StatusCode::FORBIDDEN);
    assert_eq!(upload(&t, &wuliu, &base, "x.pdf", PDF).await.status, StatusCode::FORBIDDEN);
    let r = upload(&t, &rep, &base, "空.pdf", b"").await;
    assert_eq!(fields(&r).get("file").map(String::as_str), Some("file_empty"));
    // Downloaded by whoever sees the order, as sent, always as an attachment.
    let d = t.get(&format!("{base}/{}", file["id"]), &finance).await;
    assert_eq!((d.status, d.body.as_bytes()), (StatusCode::OK, PDF));
    let disp = d.headers.get(header::CONTENT_DISPOSITION).and_then(|v| v.to_str().ok()).unwrap_or("");
    assert!(disp.starts_with("attachment;"), "{disp}");
    let list = t.get(&base, &wuliu).await.json();
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1), "{list}");
    let repc = bearer(&w, "repC");
    assert_eq!(t.get(&format!("{base}/{}", file["id"]), &repc).await.status, StatusCode::NOT_FOUND);
    assert_eq!(upload(&t, &repc, &base, "x.pdf", PDF).await.status, StatusCode::NOT_FOUND);

    // The acceptance document on an outbound: kept once the outbound is accepted.
    let ob = prepare(&t, &wuliu, &o, json!([{"position": 0, "quantity": "3"}])).await.json();
    let ob = step(&t, &wuliu, &ob, "ship", json!({"carrier": "顺丰速运", "shipped_on": day(0)})).await;
    let ob = step(&t, &wuliu, &ob, "deliver", json!({"delivered_on": day(0)})).await;
    let obase = format!("/api/v1/outbounds/{}/attachments", ob["id"]);
    let r = upload(&t, &wuliu, &obase, "验收单.pdf", PDF).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let doc = r.json();
    step(&t, &wuliu, &ob, "accept", json!({"accepted_on": day(0)})).await;
    let got = t.get(&format!("/api/v1/outbounds/{}", ob["id"]), &manager).await.json();
    assert_eq!(
        (got["files"][0]["file_name"].as_str(), got["files"][0]["removable"].as_bool()),
        (Some("验收单.pdf"), Some(false)),
        "{got}"
    );
    let r = t.call(Method::DELETE, &format!("{obase}/{}", doc["id"]), &wuliu, None).await;
    assert_eq!((r.status, r.json()["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("attachment_fixed")));
    assert_eq!(t.get(&format!("{obase}/{}", doc["id"]), &repc).await.status, StatusCode::NOT_FOUND);
    assert_eq!(t.get(&format!("{obase}/{}", doc["id"]), &rep).await.body.as_bytes(), PDF);
}

#[tokio::test]
async fn the_order_page_delivers_and_the_logistics_page_shows_the_late_orders() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let manager = bearer(&w, "manager");
    logistics(&t).await;
    let o = signed_order(&t, &manager, w.account_x, Some(day(-7)), terms()).await;
    let id = o["id"].as_i64().expect("id");
    let (sid, csrf) = t.ui_login("wuliu", PASSWORD, None).await.expect("sign in");
    let session = Auth::Session { cookie: sid.clone(), csrf: String::new() };
    // The worklist: the order, 7 days late, and the navigation's entry.
    let page = t.get("/logistics", &session).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains(o["number"].as_str().expect("number")) && page.body.contains("逾期交货 7 天"),
        "{}",
        page.body
    );
    assert!(page.body.contains("id=\"nav-logistics\""));
    let page = t.get("/logistics?late=1", &session).await;
    assert!(page.body.contains(o["number"].as_str().expect("number")));

    let show = format!("/orders/{id}");
    let page = t.get(&show, &session).await;
    assert!(page.body.contains("id=\"outbound-form\"") && page.body.contains("逾期交货 7 天"), "{}", page.body);
    // Too many of line 1: the page again, naming the row, what was typed kept.
    let path = format!("/orders/{id}/outbounds");
    let r = t.ui_post(&path, &sid, &[("_csrf", &csrf), ("q_0", "4"), ("q_1", "")]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains("第 1 行") && r.body.contains("超过待出库数量") && r.body.contains("value=\"4\""),
        "{}",
        r.body
    );
    let r = t.ui_post(&path, &sid, &[("_csrf", &csrf), ("q_0", "2"), ("q_1", ""), ("note", "第一批")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let dv = delivery(&t, &manager, &o).await;
    let ob = dv["outbounds"][0].clone();
    let act = format!("/outbounds/{}/act", ob["id"]);
    let r = t
        .ui_post(
            &act,
            &sid,
            &[
                ("_csrf", &csrf),
                ("version", "1"),
                ("action", "ship"),
                ("carrier", "顺丰速运"),
                ("shipped_on", &day(-1)),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = t
        .ui_post(&act, &sid, &[("_csrf", &csrf), ("version", "2"), ("action", "deliver"), ("delivered_on", &day(1))])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "a day to come: {}", r.body);
    let r = t
        .ui_post(&act, &sid, &[("_csrf", &csrf), ("version", "2"), ("action", "deliver"), ("delivered_on", &day(0))])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // Accepted with the document in one form.
    let r = ui_upload(
        &t,
        &sid,
        &format!("/outbounds/{}/accept", ob["id"]),
        &[("_csrf", &csrf), ("version", "3"), ("accepted_on", &day(0)), ("note", "验收合格")],
        "验收单-第一批.pdf",
        PDF,
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = t.get(&show, &session).await;
    assert!(
        page.body.contains("已验收") && page.body.contains("验收单-第一批.pdf") && page.body.contains("验收合格"),
        "{}",
        page.body
    );
    // Still one machine and the installation to go: still late.
    assert!(page.body.contains("逾期交货 7 天"));
    // The outbound's own address leads to its place on the order's page.
    let r = t.get(&format!("/outbounds/{}", ob["id"]), &session).await;
    assert_eq!(r.headers[header::LOCATION], format!("/orders/{id}#outbound-{}", ob["id"]).as_str());
    // The order's writers upload the signed contract on the page; finance sees it, no form.
    let (msid, mcsrf) = t.ui_login("manager", PASSWORD, None).await.expect("sign in");
    let r = ui_upload(
        &t,
        &msid,
        &format!("/orders/{id}/attachments"),
        &[("_csrf", &mcsrf), ("note", "签字合同")],
        "签字合同.pdf",
        PDF,
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let (fsid, _) = t.ui_login("finance", PASSWORD, None).await.expect("sign in");
    let page = t.get(&show, &Auth::Session { cookie: fsid, csrf: String::new() }).await;
    assert!(page.body.contains("签字合同.pdf") && !page.body.contains("id=\"outbound-form\""), "{}", page.body);
}

#[tokio::test]
async fn the_demo_has_a_partial_an_accepted_and_a_late_delivery() {
    let t = TestApp::new().await;
    t.demo().await;
    let wuliu = Auth::Bearer(t.token("logistics").await);
    let wl = t.get("/api/v1/logistics/worklist", &wuliu).await.json();
    let items = wl["items"].as_array().expect("items");
    assert!(items.iter().any(|i| i["days_late"].as_i64().is_some_and(|d| d > 0)), "a late order: {wl}");
    assert!(items.iter().any(|i| i["delivered_on"].is_string()), "a partly delivered order: {wl}");
    let accepted = count(&t, "SELECT COUNT(*) AS n FROM order_fulfilment WHERE accepted_on IS NOT NULL").await;
    assert!(accepted >= 1, "an order delivered and accepted");
}
