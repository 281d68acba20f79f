//! Faults (issue 19): a full disk answers 507 `storage_full` and writing works again once
//! there is room, without a restart; a database that cannot be reached answers 503
//! `database_unavailable` with `Retry-After`, and pages say so in a page; a transaction that
//! could not end leaves no broken connection behind; SQLite commits are durable by default;
//! a region changed alone cannot keep another region's branch.
use axum::http::{header, Method, StatusCode};
use serde_json::json;

use crate::common::{Auth, TestApp};

const DEMO_PASSWORD: &str = "kam-demo";

fn is_sqlite(t: &TestApp) -> bool {
    t.url.starts_with("sqlite:")
}

/// Sets `PRAGMA max_page_count` on every connection of the pool (SQLite): with the current
/// page count, no write can grow the file: SQLite answers "database or disk is full".
async fn limit_pages(t: &TestApp, pages: Option<i64>) {
    let pool = &t.app.db.pool;
    let mut conns = vec![];
    for _ in 0..pool.options().get_max_connections() {
        conns.push(pool.acquire().await.expect("a connection"));
    }
    for c in conns.iter_mut() {
        let n = match pages {
            Some(n) => n,
            None => sqlx::Row::try_get::<i64, _>(
                &sqlx::query("PRAGMA page_count").fetch_one(&mut **c).await.expect("page count"),
                0,
            )
            .expect("page count"),
        };
        sqlx::query(&format!("PRAGMA max_page_count = {n}")).execute(&mut **c).await.expect("limit");
    }
}

#[tokio::test]
async fn a_full_disk_answers_507_in_the_users_language_and_writing_resumes_without_a_restart() {
    let t = TestApp::new().await;
    if !is_sqlite(&t) {
        // PostgreSQL's full disk is its server's; the reliability battery fills a real one.
        return;
    }
    t.demo().await;
    let rep = Auth::Bearer(t.token("rep").await);
    let (sid, csrf) = t.ui_login("rep", DEMO_PASSWORD, None).await.expect("sign in");
    // Both last-use times are due to be written again by the next request.
    let old = "2000-01-01T00:00:00.000000Z";
    sqlx::query("UPDATE sessions SET last_seen_at = $1").bind(old).execute(&t.app.db.pool).await.expect("age sessions");
    sqlx::query("UPDATE api_tokens SET last_used_at = NULL").execute(&t.app.db.pool).await.expect("age tokens");
    limit_pages(&t, None).await;
    let long = "长".repeat(120);
    let mut full = None;
    for i in 0..3000 {
        let r = t
            .call(
                Method::POST,
                "/api/v1/accounts",
                &rep,
                Some(json!({"name": format!("满盘测试{i}"), "industry": "enterprise", "address": long})),
            )
            .await;
        if r.status != StatusCode::CREATED {
            full = Some(r);
            break;
        }
    }
    let r = full.expect("the database filled up");
    assert_eq!(r.status, StatusCode::INSUFFICIENT_STORAGE, "{}", r.body);
    let body = r.json();
    assert_eq!(body["error"]["code"], "storage_full", "{body}");
    assert!(body["error"]["message"].as_str().unwrap_or_default().contains("存储空间已满"), "{body}");
    // A form says so in a page, not JSON.
    let page = t
        .ui_post(
            "/accounts/new",
            &sid,
            &[("_csrf", &csrf), ("name", "满盘表单"), ("industry", "enterprise"), ("address", &long)],
        )
        .await;
    assert_eq!(page.status, StatusCode::INSUFFICIENT_STORAGE, "{}", page.body);
    assert!(page.body.contains("<html") && page.body.contains("存储空间已满"), "{}", page.body);
    // Reading needs no room: the list and the page still answer (their sign-in's last use is
    // not written, and that is no reason to refuse them).
    sqlx::query("UPDATE sessions SET last_seen_at = $1").bind(old).execute(&t.app.db.pool).await.ok();
    sqlx::query("UPDATE api_tokens SET last_used_at = NULL").execute(&t.app.db.pool).await.ok();
    assert_eq!(t.get("/api/v1/accounts?limit=5", &rep).await.status, StatusCode::OK);
    let list = t.get("/accounts", &Auth::Session { cookie: sid.clone(), csrf: String::new() }).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    // Room again (as when space is freed): the next write succeeds on the same server.
    limit_pages(&t, Some(1_000_000_000)).await;
    let r = t
        .call(Method::POST, "/api/v1/accounts", &rep, Some(json!({"name": "满盘之后", "industry": "enterprise"})))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

#[tokio::test]
async fn a_transaction_that_could_not_end_leaves_no_broken_connection_behind() {
    // One connection, so the next write would get the one the failed transaction used.
    std::env::set_var("KAM_DB_CONNECTIONS", "1");
    let t = TestApp::new().await;
    t.demo().await;
    let director = Auth::Bearer(t.token("director").await);
    {
        // Ended behind the driver's back (as SQLite does itself when a COMMIT fails on a full
        // disk): the driver's rollback then fails and its transaction depth stays behind.
        let mut tx = t.app.db.begin().await.expect("begin");
        sqlx::query("ROLLBACK").execute(tx.conn()).await.expect("rollback behind the driver's back");
        drop(tx);
    }
    for i in 0..3 {
        let r = t
            .call(
                Method::POST,
                "/api/v1/accounts",
                &director,
                Some(json!({"name": format!("断开之后{i}"), "industry": "enterprise"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "write {i} after the failed transaction: {}", r.body);
    }
}

#[tokio::test]
async fn a_database_that_cannot_be_reached_answers_503_with_retry_after_and_pages_say_so() {
    let t = TestApp::new().await;
    t.demo().await;
    let rep = Auth::Bearer(t.token("rep").await);
    let (sid, _) = t.ui_login("rep", DEMO_PASSWORD, None).await.expect("sign in");
    t.app.db.pool.close().await;
    let r = t.get("/api/v1/accounts", &rep).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    assert_eq!(r.json()["error"]["code"], "database_unavailable", "{}", r.body);
    assert!(r.json()["error"]["message"].as_str().unwrap_or_default().contains("数据库暂时无法连接"), "{}", r.body);
    assert_eq!(r.headers.get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()), Some("5"));
    let r =
        t.call(Method::POST, "/api/v1/accounts", &rep, Some(json!({"name": "停库", "industry": "enterprise"}))).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    // A signed-in page answers with a page.
    let page = t.get("/accounts", &Auth::Session { cookie: sid, csrf: String::new() }).await;
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE, "{}", page.body);
    let ct = page.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(ct.starts_with("text/html"), "{ct}");
    assert!(page.body.contains("数据库暂时无法连接"), "{}", page.body);
    assert!(page.headers.contains_key(header::RETRY_AFTER));
    // The health check says the database is the problem.
    let h = t.get("/healthz", &Auth::None).await;
    assert_eq!(h.status, StatusCode::SERVICE_UNAVAILABLE, "{}", h.body);
    assert_eq!(h.json()["database"], "unavailable", "{}", h.body);
}

#[tokio::test]
async fn the_health_check_names_the_database_and_the_storage_when_all_is_well() {
    let t = TestApp::new().await;
    let h = t.get("/healthz", &Auth::None).await;
    assert_eq!(h.status, StatusCode::OK, "{}", h.body);
    let b = h.json();
    assert_eq!(
        (b["status"].as_str(), b["database"].as_str(), b["storage"].as_str()),
        (Some("ok"), Some("ok"), Some("ok"))
    );
    assert!(b["free_bytes"].as_u64().is_some_and(|f| f > 0), "{b}");
}

#[tokio::test]
async fn sqlite_commits_are_durable_against_power_loss_by_default() {
    let t = TestApp::new().await;
    if !is_sqlite(&t) {
        return;
    }
    // 2 = FULL: the WAL is synced at every commit.
    let n: i64 =
        sqlx::Row::try_get(&sqlx::query("PRAGMA synchronous").fetch_one(&t.app.db.pool).await.expect("pragma"), 0)
            .expect("value");
    assert_eq!(n, 2, "synchronous=FULL by default");
}

#[tokio::test]
async fn a_region_changed_alone_cannot_keep_another_regions_branch() {
    let t = TestApp::new().await;
    t.demo().await;
    let director = Auth::Bearer(t.token("director").await);
    let r = t
        .call(
            Method::POST,
            "/api/v1/accounts",
            &director,
            Some(json!({"name": "北方电网测试", "industry": "power", "branch": "BJ"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let a = r.json();
    let (id, version) = (a["id"].as_i64().expect("id"), a["version"].as_i64().expect("version"));
    assert_eq!(a["region"], "NORTH", "a branch implies its region: {a}");
    // The region alone: refused, naming the branch, nothing changed.
    let r = t
        .call(
            Method::PATCH,
            &format!("/api/v1/accounts/{id}"),
            &director,
            Some(json!({"version": version, "region": "EAST"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.json()["error"]["details"]["fields"]["branch"]["code"], "branch_not_in_region", "{}", r.body);
    let now = t.get(&format!("/api/v1/accounts/{id}"), &director).await.json();
    assert_eq!(
        (now["region"].as_str(), now["branch"].as_str(), now["version"].as_i64()),
        (Some("NORTH"), Some("BJ"), Some(version))
    );
    // With a branch of the new region (or none), it moves.
    let r = t
        .call(
            Method::PATCH,
            &format!("/api/v1/accounts/{id}"),
            &director,
            Some(json!({"version": version, "region": "EAST", "branch": null})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!((r.json()["region"].as_str(), r.json()["branch"].as_str()), (Some("EAST"), None));
}

#[tokio::test]
async fn contradicting_records_are_listed_for_the_administrator() {
    let t = TestApp::new().await;
    t.demo().await;
    let director = Auth::Bearer(t.token("director").await);
    let r = t
        .call(
            Method::POST,
            "/api/v1/accounts",
            &director,
            Some(json!({"name": "旧数据矛盾", "industry": "power", "branch": "BJ"})),
        )
        .await;
    let id = r.json()["id"].as_i64().expect("id");
    let admin = Auth::Bearer(t.token("admin").await);
    let before = t.get("/api/v1/admin/consistency", &admin).await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.body);
    assert_eq!(before.json()["total"], 0, "{}", before.body);
    // Data written before the rule (or by hand): region EAST with branch BJ of NORTH.
    sqlx::query("UPDATE accounts SET region_id = (SELECT id FROM org_units WHERE code = 'EAST') WHERE id = $1")
        .bind(id)
        .execute(&t.app.db.pool)
        .await
        .expect("contradict");
    let r = t.get("/api/v1/admin/consistency", &admin).await.json();
    assert_eq!(r["total"], 1, "{r}");
    assert_eq!(
        (r["items"][0]["id"].as_i64(), r["items"][0]["problem"].as_str()),
        (Some(id), Some("branch_not_in_region"))
    );
    assert!(r["items"][0]["name"].is_null(), "the administrator sees no business data: {r}");
    assert!(r["items"][0]["detail"].as_str().unwrap_or_default().contains("BJ"), "{r}");
    // The director sees the name; a rep may not list them.
    let r = t.get("/api/v1/admin/consistency", &director).await.json();
    assert_eq!(r["items"][0]["name"], "旧数据矛盾", "{r}");
    let rep = Auth::Bearer(t.token("rep").await);
    assert_eq!(t.get("/api/v1/admin/consistency", &rep).await.status, StatusCode::FORBIDDEN);
    // The page lists it.
    let (sid, _) = t.ui_login("admin", DEMO_PASSWORD, None).await.expect("sign in");
    let page = t.get("/admin/consistency", &Auth::Session { cookie: sid, csrf: String::new() }).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&format!("#{id}")) && page.body.contains("分公司不属于所在大区"), "{}", page.body);
}
