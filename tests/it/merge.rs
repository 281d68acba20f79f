//! Merging duplicate accounts: what moves, who may, and what the pages show.
use axum::http::{header, Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{seed, Auth, TestApp, World, PASSWORD};

fn bearer(w: &World, user: &str) -> Auth {
    Auth::Bearer(w.tokens[user].clone())
}

fn credit_code() -> String {
    kam::domain::credit_code::CreditCode::complete("91110108MA01XH001").expect("code").as_str().to_string()
}

/// The duplicate of account X as a second office typed it: the same company under a
/// differently written name, held by repB, with a credit code, an address and a contact.
async fn duplicate_of_x(t: &TestApp, w: &World) -> i64 {
    let body = json!({
        "name": "北京星河精密制造（有限公司）",
        "industry": "enterprise",
        "region": "N",
        "branch": "BJ",
        "owner": "repB",
        "credit_code": credit_code(),
        "address": "北京市海淀区中关村大街1号",
        "allow_duplicate_name": true,
    });
    let r = t.call(Method::POST, "/api/v1/accounts", &bearer(w, "director"), Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.json()["id"].as_i64().expect("id");
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/accounts/{id}/contacts"),
            &bearer(w, "repB"),
            Some(json!({"name": "李娜"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    id
}

async fn upload(t: &TestApp, w: &World, account: i64, title: &str, file: &str) {
    let caller =
        kam::app::people::auth::token_caller(&t.app, &w.tokens["director"]).await.expect("caller").expect("known");
    let ctx = kam::app::Ctx { caller, request_id: "test".into() };
    let u = kam::app::customers::documents::Upload {
        title: Some(title),
        doc_type: None,
        file_name: file,
        bytes: file.as_bytes(),
    };
    kam::app::customers::documents::upload(t.db(), &ctx, &t.app.settings.files(), account, &u).await.expect("upload");
}

async fn version(t: &TestApp, w: &World, id: i64) -> i64 {
    let r = t.get(&format!("/api/v1/accounts/{id}"), &bearer(w, "director")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.json()["version"].as_i64().expect("version")
}

async fn merge(t: &TestApp, who: &Auth, survivor: i64, body: Value) -> crate::common::Resp {
    t.call(Method::POST, &format!("/api/v1/accounts/{survivor}/merge"), who, Some(body)).await
}

async fn contact_names(t: &TestApp, w: &World, id: i64) -> Vec<String> {
    let r = t.get(&format!("/api/v1/accounts/{id}/contacts"), &bearer(w, "director")).await.json();
    let mut names: Vec<String> =
        r["items"].as_array().expect("items").iter().filter_map(|c| c["name"].as_str().map(str::to_string)).collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_manager_merges_a_duplicate_and_everything_follows() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (x, d) = (w.account_x, duplicate_of_x(&t, &w).await);
    upload(&t, &w, x, "需求说明", "x-v1.txt").await;
    upload(&t, &w, d, "需求说明", "d-v1.txt").await;
    upload(&t, &w, d, "需求说明", "d-v2.txt").await;
    upload(&t, &w, d, "报价单", "quote.txt").await;
    let (vx, vd) = (version(&t, &w, x).await, version(&t, &w, d).await);
    // repA holds X, repB holds D; a rep does not see the other's account.
    assert_eq!(t.get(&format!("/api/v1/accounts/{x}"), &bearer(&w, "repB")).await.status, StatusCode::NOT_FOUND);

    let r =
        merge(&t, &bearer(&w, "manager"), x, json!({"duplicate_id": d, "version": vx, "duplicate_version": vd})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let a = r.json();
    assert_eq!(a["id"], x);
    assert_eq!(a["name"], "北京星河精密制造有限公司", "the survivor keeps its own name");
    assert_eq!(a["credit_code"], credit_code(), "an empty field takes the duplicate's value");
    assert_eq!(a["address"], "北京市海淀区中关村大街1号");
    assert_eq!(a["owner"], "repA", "a field the survivor has is kept");
    assert_eq!(a["version"], vx + 1);

    assert_eq!(contact_names(&t, &w, x).await, vec!["李娜".to_string(), "王志远".to_string()]);
    let docs = t.get(&format!("/api/v1/accounts/{x}/documents"), &bearer(&w, "director")).await.json();
    let mut docs: Vec<(String, i64, String)> = docs["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|d| {
            (
                d["title"].as_str().unwrap_or("").to_string(),
                d["version"].as_i64().unwrap_or(0),
                d["file_name"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    docs.sort();
    assert_eq!(
        docs,
        vec![
            ("报价单".to_string(), 1, "quote.txt".to_string()),
            ("需求说明".to_string(), 1, "x-v1.txt".to_string()),
            ("需求说明".to_string(), 2, "d-v1.txt".to_string()),
            ("需求说明".to_string(), 3, "d-v2.txt".to_string()),
        ],
        "moved versions of a title the survivor has follow its own"
    );

    // The duplicate is gone everywhere, for everyone.
    for who in ["manager", "director", "repB"] {
        let r = t.get(&format!("/api/v1/accounts/{d}"), &bearer(&w, who)).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{who}: {}", r.body);
    }
    let found = t.get("/api/v1/accounts?q=%E6%98%9F%E6%B2%B3", &bearer(&w, "director")).await.json();
    let ids: Vec<i64> = found["items"].as_array().expect("items").iter().filter_map(|a| a["id"].as_i64()).collect();
    assert_eq!(ids, vec![x]);
    assert_eq!(
        t.get(&format!("/api/v1/accounts/{d}/contacts"), &bearer(&w, "director")).await.status,
        StatusCode::NOT_FOUND
    );

    // repB, who held the duplicate, is on the survivor's team and still sees the contacts.
    let team = t.get(&format!("/api/v1/accounts/{x}/team"), &bearer(&w, "manager")).await.json();
    assert_eq!(team["items"][0]["username"], "repB", "{team}");
    assert_eq!(t.get(&format!("/api/v1/accounts/{x}"), &bearer(&w, "repB")).await.status, StatusCode::OK);

    // Both histories show the merge.
    let h = t.get(&format!("/api/v1/audit?entity=account&id={x}"), &bearer(&w, "manager")).await;
    assert_eq!(h.status, StatusCode::OK, "{}", h.body);
    let top = &h.json()["items"][0];
    assert_eq!(top["what"], "merge");
    assert_eq!(top["who"], "manager");
    assert_eq!(top["after"]["merge"]["duplicate_id"], d);
    assert_eq!(
        top["after"]["merge"]["moved"],
        json!({"activities": 0, "bids": 0, "contacts": 1, "documents": 3, "negotiation_rounds": 0, "opportunities": 0, "orders": 0, "quotes": 0})
    );
    assert_eq!(top["after"]["merge"]["team_joined"], json!(["repB"]));
    assert!(top["changed"].as_array().expect("changed").contains(&json!("credit_code")), "{top}");
    let h = t.get(&format!("/api/v1/audit?entity=account&id={d}"), &bearer(&w, "manager")).await;
    assert_eq!(h.status, StatusCode::OK, "the merged account's history stays readable: {}", h.body);
    let top = &h.json()["items"][0];
    assert_eq!(top["what"], "merged");
    assert_eq!(top["after"]["merged_into"], x);
    // The moved contact's own history says where it went.
    let survivors = t.get(&format!("/api/v1/accounts/{x}/contacts"), &bearer(&w, "director")).await.json();
    let li = survivors["items"].as_array().expect("items").iter().find(|c| c["name"] == "李娜").expect("moved")["id"]
        .as_i64()
        .expect("id");
    let h = t.get(&format!("/api/v1/audit?entity=contact&id={li}"), &bearer(&w, "manager")).await.json();
    let moved = &h["items"][0];
    assert_eq!(moved["what"], "move", "{h}");
    assert_eq!(moved["after"]["account_id"], x);
    assert_eq!(moved["after"]["from_account_id"], d);
    assert_eq!(top["before"]["credit_code"], credit_code());
    // Someone who cannot see the survivor cannot read the merged account's history either.
    let h = t.get(&format!("/api/v1/audit?entity=account&id={d}"), &bearer(&w, "repC")).await;
    assert_eq!(h.status, StatusCode::NOT_FOUND);

    // Merging it again names the field.
    let r = merge(&t, &bearer(&w, "manager"), x, json!({"duplicate_id": d})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["error"]["details"]["fields"]["duplicate_id"]["code"], "already_merged");
}

#[tokio::test]
async fn only_managers_merge_accounts_they_can_see_at_the_version_they_saw() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (x, d) = (w.account_x, duplicate_of_x(&t, &w).await);
    let (vx, vd) = (version(&t, &w, x).await, version(&t, &w, d).await);
    let unchanged = |label: &'static str| {
        let (t, w) = (&t, &w);
        async move {
            assert_eq!(version(t, w, x).await, vx, "{label}: the survivor is untouched");
            assert_eq!(version(t, w, d).await, vd, "{label}: the duplicate is untouched");
            assert_eq!(contact_names(t, w, x).await, vec!["王志远".to_string()], "{label}");
            assert_eq!(contact_names(t, w, d).await, vec!["李娜".to_string()], "{label}");
        }
    };

    // A rep may not merge, even two accounts of their own.
    let r = t
        .call(
            Method::POST,
            "/api/v1/accounts",
            &bearer(&w, "repA"),
            Some(json!({"name": "甲方测试公司", "industry": "other"})),
        )
        .await;
    let own = r.json()["id"].as_i64().expect("id");
    let r = merge(&t, &bearer(&w, "repA"), x, json!({"duplicate_id": own})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(t.get(&format!("/api/v1/accounts/{own}"), &bearer(&w, "repA")).await.status, StatusCode::OK);

    // Out of the manager's scope (account C sits in Shanghai): not found, either way round.
    let c = w.account_c;
    let r = merge(&t, &bearer(&w, "manager"), x, json!({"duplicate_id": c})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    let r = merge(&t, &bearer(&w, "manager"), c, json!({"duplicate_id": x})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    assert_eq!(t.get(&format!("/api/v1/accounts/{c}"), &bearer(&w, "director")).await.status, StatusCode::OK);
    unchanged("out of scope").await;

    // Stale versions: 409 and nothing moves.
    let r =
        merge(&t, &bearer(&w, "manager"), x, json!({"duplicate_id": d, "version": vx - 1, "duplicate_version": vd}))
            .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert_eq!(r.json()["error"]["code"], "stale_version");
    assert_eq!(r.json()["error"]["details"]["current_version"], vx);
    let r =
        merge(&t, &bearer(&w, "manager"), x, json!({"duplicate_id": d, "version": vx, "duplicate_version": vd + 1}))
            .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    unchanged("stale").await;

    // An account with itself, a missing or malformed duplicate: 422 naming the field.
    for (body, field, code) in [
        (json!({"duplicate_id": x}), "duplicate_id", "merge_same_account"),
        (json!({}), "duplicate_id", "required"),
        (json!({"duplicate_id": "two"}), "duplicate_id", "expected_integer"),
        (json!({"duplicate_id": d, "version": "1"}), "version", "expected_integer"),
    ] {
        let r = merge(&t, &bearer(&w, "manager"), x, body.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", r.body);
        assert_eq!(r.json()["error"]["details"]["fields"][field]["code"], code, "{body}");
    }
    unchanged("invalid").await;

    // A deleted account is named too, for those who saw it.
    let r = t.call(Method::DELETE, &format!("/api/v1/accounts/{own}"), &bearer(&w, "director"), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = merge(&t, &bearer(&w, "manager"), x, json!({"duplicate_id": own})).await;
    assert_eq!(r.json()["error"]["details"]["fields"]["duplicate_id"]["code"], "account_deleted", "{}", r.body);
    unchanged("deleted").await;
}

fn page_value(body: &str, name: &str) -> String {
    body.split(&format!("name=\"{name}\" value=\""))
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("{name} in page"))
        .to_string()
}

#[tokio::test]
async fn the_merge_pages_pick_compare_and_confirm() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    let (x, d) = (w.account_x, duplicate_of_x(&t, &w).await);
    let (sid, csrf) = t.ui_login("manager", PASSWORD, None).await.expect("sign in");
    let me = Auth::Session { cookie: sid.clone(), csrf: csrf.clone() };

    let page = t.get(&format!("/accounts/{x}"), &me).await;
    assert!(page.body.contains(&format!("href=\"/accounts/{x}/merge\"")), "managers see the merge link");
    assert!(page.body.contains("合并重复客户"));
    let (rep_sid, _) = t.ui_login("repA", PASSWORD, None).await.expect("sign in");
    let rep = Auth::Session { cookie: rep_sid, csrf: String::new() };
    assert!(!t.get(&format!("/accounts/{x}"), &rep).await.body.contains("/merge\""), "a rep does not");
    assert_eq!(t.get(&format!("/accounts/{x}/merge"), &rep).await.status, StatusCode::FORBIDDEN);

    // Step 1: the likely duplicates (same normalized name), and a box for any number.
    let page = t.get(&format!("/accounts/{x}/merge"), &me).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(&format!("/accounts/{x}/merge?duplicate_id={d}")), "D is offered");
    assert!(page.body.contains("名称相同"));
    assert!(!page.body.contains("上海东方仪器"), "accounts out of scope are not offered");

    // Step 2: side by side, with what will move; the form carries the versions seen.
    let page = t.get(&format!("/accounts/{x}/merge?duplicate_id={d}"), &me).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("id=\"merge-compare\"") && page.body.contains(&credit_code()));
    assert!(page.body.contains("1 个联系人转到保留的客户"), "{}", page.body);
    assert!(page.body.contains("repB (repB)"), "the duplicate's owner joins the team");
    assert!(page.body.contains("data-confirm=\""));
    let (v, dv) = (page_value(&page.body, "version"), page_value(&page.body, "duplicate_version"));

    // A wrong pick is explained in the user's language.
    let r =
        t.ui_post(&format!("/accounts/{x}/merge"), &sid, &[("_csrf", &csrf), ("duplicate_id", &x.to_string())]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("不能与自身合并"), "{}", r.body);
    let r = t.get(&format!("/accounts/{x}/merge?duplicate_id={}", w.account_c), &me).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.contains("id=\"merge-errors\""));
    let r = t
        .ui_post(
            &format!("/accounts/{x}/merge"),
            &sid,
            &[("_csrf", &csrf), ("duplicate_id", &d.to_string()), ("version", "0"), ("duplicate_version", &dv)],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "a stale form is shown again with the current versions");
    assert_eq!(page_value(&r.body, "version"), v);

    // Confirm: the survivor opens with a notice and the duplicate's contact.
    let r = t
        .ui_post(
            &format!("/accounts/{x}/merge"),
            &sid,
            &[("_csrf", &csrf), ("duplicate_id", &d.to_string()), ("version", &v), ("duplicate_version", &dv)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let to = r.headers[header::LOCATION].to_str().expect("location").to_string();
    assert_eq!(to, format!("/accounts/{x}?merged={d}"));
    let page = t.get(&to, &me).await;
    assert!(page.body.contains(&format!("客户 #{d} 已合并到本客户")), "{}", page.body);
    assert!(page.body.contains("李娜"));
    assert!(page.body.contains("并入重复客户"), "the history shows the merge");
    assert!(
        page.body.contains(&format!("#{d} 北京星河精密制造（有限公司）; 1 个联系人转到保留的客户")),
        "{}",
        page.body
    );

    // An old link to the duplicate leads to the survivor; for someone who cannot see it, 404.
    let r = t.get(&format!("/accounts/{d}"), &me).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.headers[header::LOCATION], format!("/accounts/{x}?merged={d}").as_str());
    let (c_sid, _) = t.ui_login("repC", PASSWORD, None).await.expect("sign in");
    let r = t.get(&format!("/accounts/{d}"), &Auth::Session { cookie: c_sid, csrf: String::new() }).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

/// A contact added to the duplicate while the merge runs ends up on the survivor: the merge
/// waits for the adding transaction (PostgreSQL: the account row is held `FOR SHARE`; SQLite:
/// one writer at a time) and then moves what it added. Added after the merge, it is refused.
#[tokio::test]
async fn a_contact_added_while_the_merge_runs_follows_the_merge() {
    let t = TestApp::new().await;
    let w = seed(&t).await;
    // Without a credit code: clearing it is what would otherwise make PostgreSQL's update of
    // the duplicate wait on a foreign key's lock by accident.
    let body = json!({
        "name": "北京星河精密制造（有限公司）",
        "industry": "enterprise",
        "region": "N",
        "branch": "BJ",
        "owner": "repB",
        "allow_duplicate_name": true,
    });
    let r = t.call(Method::POST, "/api/v1/accounts", &bearer(&w, "director"), Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let (x, d) = (w.account_x, r.json()["id"].as_i64().expect("id"));
    let caller = |who: &'static str| {
        let (t, tok) = (&t, w.tokens[who].clone());
        async move {
            let c = kam::app::people::auth::token_caller(&t.app, &tok).await.expect("caller").expect("known");
            kam::app::Ctx { caller: c, request_id: "test".into() }
        }
    };
    let (rep, manager) = (caller("repB").await, caller("manager").await);
    let mut adding = t.db().begin().await.expect("tx");
    let input = kam::app::records::input::Input::from_pairs(&[("name", Some("王芳"))]);
    kam::app::customers::contacts::create_in(&mut adding, &rep, d, &input).await.expect("contact");
    let db = t.db().clone();
    let merging = tokio::spawn(async move { kam::app::customers::merge::merge(&db, &manager, x, d, None, None).await });
    // Let the merge start and reach the point where it waits for the open transaction.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!merging.is_finished(), "the merge waits for the transaction adding to its duplicate");
    adding.commit().await.expect("commit");
    merging.await.expect("join").expect("merge");
    let names = contact_names(&t, &w, x).await;
    assert!(names.contains(&"王芳".to_string()), "moved to the survivor: {names:?}");
    use sqlx::Row;
    let left: i64 = sqlx::query("SELECT COUNT(*) AS n FROM contacts WHERE account_id = $1")
        .bind(d)
        .fetch_one(&t.db().pool)
        .await
        .expect("count")
        .get("n");
    assert_eq!(left, 0, "nothing stays on the merged account");
    let mut late = t.db().begin().await.expect("tx");
    let input = kam::app::records::input::Input::from_pairs(&[("name", Some("赵磊"))]);
    let err = kam::app::customers::contacts::create_in(&mut late, &rep, d, &input).await.expect_err("merged away");
    assert!(matches!(err, kam::app::Error::NotFound), "{err:?}");
}
