//! Test harness: a fresh database per test (SQLite file, or a new PostgreSQL database when
//! KAM_TEST_DATABASE_URL is set), the real router, and requests sent in-process.
use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use kam::app::{customers::accounts, customers::contacts, people::auth, App, Ctx, Settings};
use kam::db::Db;
use serde_json::Value;
use tower::ServiceExt;

pub struct TestApp {
    pub app: App,
    /// The database URL, for a second "process" on the same data.
    pub url: String,
    pub router: Router,
    _dir: Option<tempfile::TempDir>,
    _files: tempfile::TempDir,
}

/// A migrated PostgreSQL database to copy each test's from (`CREATE DATABASE … TEMPLATE`, a
/// file copy instead of running every migration per test), named by the migrations it holds and
/// made once by whichever test process gets there first (an advisory lock keeps the others
/// waiting); `.ci/run` drops it with the tests' databases.
async fn pg_template(admin_url: &str) -> String {
    let name = format!("kam_tpl_{}", migrations_hash("postgres"));
    let admin = Db::connect(admin_url).await.expect("connect to PostgreSQL admin database");
    let mut conn = admin.pool.acquire().await.expect("a connection");
    sqlx::query("SELECT pg_advisory_lock(724201)").execute(&mut *conn).await.expect("lock");
    let have = sqlx::query("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(name.clone())
        .fetch_optional(&mut *conn)
        .await
        .expect("look for the template");
    if have.is_none() {
        let building = format!("{name}_b");
        sqlx::query(&format!("DROP DATABASE IF EXISTS {building}")).execute(&mut *conn).await.expect("drop");
        sqlx::query(&format!("CREATE DATABASE {building}")).execute(&mut *conn).await.expect("create the template");
        let base = admin_url.rsplit_once('/').map(|(b, _)| b).unwrap_or(admin_url);
        let db = Db::connect(&format!("{base}/{building}")).await.expect("connect the template");
        db.migrate().await.expect("migrate the template");
        db.pool.close().await;
        sqlx::query(&format!("ALTER DATABASE {building} RENAME TO {name}"))
            .execute(&mut *conn)
            .await
            .expect("name the template");
    }
    sqlx::query("SELECT pg_advisory_unlock(724201)").execute(&mut *conn).await.expect("unlock");
    drop(conn);
    admin.pool.close().await;
    name
}

/// A hash of the migrations of `backend`: the name of its template database.
fn migrations_hash(backend: &str) -> String {
    use std::hash::{Hash, Hasher};
    let dir = format!("{}/migrations/{backend}", env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(dir).expect("the migrations").filter_map(|e| e.ok()).collect();
    files.sort_by_key(|e| e.file_name());
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for f in &files {
        f.file_name().hash(&mut h);
        std::fs::read(f.path()).expect("a migration").hash(&mut h);
    }
    format!("{:016x}", h.finish())
}

/// A migrated SQLite file to copy each test's from, in the system's temporary folder, named by
/// the migrations it holds; made by the first test process that needs it (a process that finds
/// another making it makes its own and the last rename wins: the same file either way).
async fn sqlite_template() -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("kam-test-template-{}.db", migrations_hash("sqlite")));
    if path.exists() {
        return path;
    }
    let building = path.with_extension(format!("{}.db", std::process::id()));
    let _ = std::fs::remove_file(&building);
    let db = Db::connect(&format!("sqlite://{}", building.display())).await.expect("open the template");
    db.migrate().await.expect("migrate the template");
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&db.pool).await.expect("checkpoint");
    db.pool.close().await;
    for side in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{side}", building.display()));
    }
    std::fs::rename(&building, &path).expect("name the template");
    path
}

pub async fn fresh_db() -> (Db, String, Option<tempfile::TempDir>) {
    match std::env::var("KAM_TEST_DATABASE_URL") {
        Ok(admin_url) if admin_url.starts_with("postgres") => {
            let name = format!("kam_t_{}", &auth::random_token("")[..16]);
            let template = pg_template(&admin_url).await;
            let admin = Db::connect(&admin_url).await.expect("connect to PostgreSQL admin database");
            sqlx::query(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
                .execute(&admin.pool)
                .await
                .expect("create test database");
            admin.pool.close().await;
            let base = admin_url.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin_url);
            let url = format!("{base}/{name}");
            let db = Db::connect(&url).await.expect("connect test database");
            // Nothing left to apply: the template is migrated (this checks it is current).
            db.migrate().await.expect("migrate");
            (db, url, None)
        }
        _ => {
            let dir = tempfile::tempdir().expect("tempdir");
            let file = dir.path().join("kam.db");
            std::fs::copy(sqlite_template().await, &file).expect("copy the migrated template");
            let url = format!("sqlite://{}", file.display());
            let db = Db::connect(&url).await.expect("open sqlite");
            // Nothing left to apply: the template is migrated (this checks it is current).
            db.migrate().await.expect("migrate");
            (db, url, Some(dir))
        }
    }
}

impl TestApp {
    pub async fn new() -> TestApp {
        Self::with_settings(Settings::default()).await
    }

    pub async fn with_settings(settings: Settings) -> TestApp {
        let (db, url, dir) = fresh_db().await;
        let files = tempfile::tempdir().expect("data dir");
        let settings = Settings { data_dir: files.path().to_path_buf(), ..settings };
        let app = App { db, settings };
        let router = kam::web::router(app.clone());
        TestApp { app, url, router, _dir: dir, _files: files }
    }

    /// A test app on a database the test opened itself (a cluster of its own).
    pub fn with_db(db: Db, url: String, settings: Settings) -> TestApp {
        let files = tempfile::tempdir().expect("data dir");
        let settings = Settings { data_dir: files.path().to_path_buf(), ..settings };
        let app = App { db, settings };
        let router = kam::web::router(app.clone());
        TestApp { app, url, router, _dir: None, _files: files }
    }

    /// Another server process on the same database: its own pool, nothing shared in memory.
    pub async fn second_process(&self) -> Router {
        let db = Db::connect(&self.url).await.expect("second connection");
        kam::web::router(App { db, settings: self.app.settings.clone() })
    }

    /// The demo company loaded into this test's database (every user's password `kam-demo`).
    pub async fn demo(&self) {
        kam::generate::demo::load(self.db(), "kam-demo").await.expect("demo loads");
    }

    pub fn db(&self) -> &Db {
        &self.app.db
    }

    pub async fn token(&self, username: &str) -> String {
        auth::create_token(self.db(), &Ctx::system(), username, "test").await.expect("token").1
    }

    pub async fn call(&self, method: Method, path: &str, auth: &Auth, body: Option<Value>) -> Resp {
        let mut b = Request::builder().method(method.clone()).uri(path);
        match auth {
            Auth::None => {}
            Auth::Bearer(t) => b = b.header(header::AUTHORIZATION, format!("Bearer {t}")),
            Auth::Session { cookie, csrf } => {
                b = b.header(header::COOKIE, format!("kam_session={cookie}"));
                if method != Method::GET {
                    b = b.header("x-csrf-token", csrf.as_str());
                }
            }
        }
        let req = match body {
            Some(v) => b.header(header::CONTENT_TYPE, "application/json").body(Body::from(v.to_string())),
            None => b.body(Body::empty()),
        }
        .expect("request");
        self.send(req).await
    }

    /// Sends a request to the router; an API answer is checked against the OpenAPI contract.
    pub async fn send(&self, req: Request<Body>) -> Resp {
        let method = req.method().to_string();
        let uri = req.uri().to_string();
        let res = self.router.clone().oneshot(req).await.expect("router answers");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        let body = String::from_utf8_lossy(&bytes).into_owned();
        let ctype = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
        super::contract::check(&method, &uri, status.as_u16(), ctype, &body);
        Resp { status, headers, body }
    }

    pub async fn get(&self, path: &str, auth: &Auth) -> Resp {
        self.call(Method::GET, path, auth, None).await
    }

    /// GETs a page as a browser would, following the redirect a create form answers first
    /// (to its own address with a one-time token, `_once`).
    pub async fn get_form(&self, path: &str, auth: &Auth) -> Resp {
        let r = self.get(path, auth).await;
        match r.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()) {
            Some(to) if r.status == StatusCode::SEE_OTHER && to.contains("_once=") => self.get(to, auth).await,
            _ => r,
        }
    }

    /// Signs in through the UI form, as a browser would; returns the session cookie and the
    /// CSRF token the pages carry.
    pub async fn ui_login(
        &self,
        username: &str,
        password: &str,
        old_session: Option<&str>,
    ) -> Result<(String, String), Resp> {
        let page = self.get("/login", &Auth::None).await;
        let pre = set_cookie(&page.headers, "kam_login_csrf").expect("login csrf cookie");
        let mut cookie = format!("kam_login_csrf={pre}");
        if let Some(o) = old_session {
            cookie.push_str(&format!("; kam_session={o}"));
        }
        let form = serde_urlencoded::to_string([
            ("_csrf", pre.as_str()),
            ("username", username),
            ("password", password),
            ("next", "/accounts"),
        ])
        .expect("form");
        let req = Request::builder()
            .method(Method::POST)
            .uri("/login")
            .header(header::COOKIE, cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form))
            .expect("request");
        let res = self.send(req).await;
        if res.status != StatusCode::SEE_OTHER {
            return Err(res);
        }
        let sid = set_cookie(&res.headers, "kam_session").expect("session cookie");
        let page = self.get("/profile", &Auth::Session { cookie: sid.clone(), csrf: String::new() }).await;
        let csrf = page
            .body
            .split("name=\"_csrf\" value=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("csrf in page")
            .to_string();
        Ok((sid, csrf))
    }

    /// Posts a UI form with the session cookie.
    pub async fn ui_post(&self, path: &str, sid: &str, fields: &[(&str, &str)]) -> Resp {
        let req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::COOKIE, format!("kam_session={sid}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(serde_urlencoded::to_string(fields).expect("form")))
            .expect("request");
        self.send(req).await
    }
}

/// An opportunity on `account` by `who`, its evaluation filled in (the form's four questions),
/// closing in 2099.
pub async fn opportunity(t: &TestApp, who: &Auth, account: i64, name: &str) -> i64 {
    let body = serde_json::json!({
        "account_id": account, "name": name, "amount": "900000.00", "expected_close": "2099-06-30",
        "eval_need": "扩产", "eval_budget": "已批", "eval_timeline": "二季度", "eval_decision_makers": "总经理"
    });
    let r = t.call(Method::POST, "/api/v1/opportunities", who, Some(body)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.json()["id"].as_i64().expect("id")
}

/// A download's status, headers and bytes (not checked against the contract as text).
pub async fn download(t: &TestApp, path: &str, auth: &Auth) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut b = Request::builder().uri(path);
    match auth {
        Auth::Bearer(tok) => b = b.header(header::AUTHORIZATION, format!("Bearer {tok}")),
        Auth::Session { cookie, .. } => b = b.header(header::COOKIE, format!("kam_session={cookie}")),
        Auth::None => {}
    }
    let res = t.router.clone().oneshot(b.body(Body::empty()).expect("request")).await.expect("answer");
    let (status, headers) = (res.status(), res.headers().clone());
    (status, headers, res.into_body().collect().await.expect("body").to_bytes().to_vec())
}

/// The rows of an XLSX's sheet.
pub fn xlsx_rows(bytes: Vec<u8>, sheet: &str) -> Vec<Vec<calamine::Data>> {
    use calamine::Reader;
    let mut wb = calamine::Xlsx::new(std::io::Cursor::new(bytes)).expect("a real XLSX");
    let range = wb.worksheet_range(sheet).unwrap_or_else(|e| panic!("the {sheet} sheet: {e}"));
    range.rows().map(|r| r.to_vec()).collect()
}

pub fn set_cookie(h: &HeaderMap, name: &str) -> Option<String> {
    h.get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, v)| *k == name && !v.is_empty())
        .map(|(_, v)| v.to_string())
}

#[derive(Clone, Debug)]
pub enum Auth {
    None,
    Bearer(String),
    Session { cookie: String, csrf: String },
}

#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// A small company for permission tests:
/// HQ → N (branches BJ, TJ), E (branch SH). manager leads repA and repB in BJ; repC sits in SH;
/// `region` is the branch manager of region N; `gone` is deactivated.
pub struct World {
    /// An API token per seeded user (`gone`'s was made before it was deactivated).
    pub tokens: std::collections::HashMap<&'static str, String>,
    pub account_x: i64,
    pub contact_x: i64,
    pub account_c: i64,
}

pub const USERS: &[&str] = &["admin", "director", "finance", "region", "manager", "repA", "repB", "repC", "gone"];

pub const PASSWORD: &str = "correct-horse-1";

pub async fn seed(t: &TestApp) -> World {
    use kam::app::records::input::Input;
    let ctx = Ctx::system();
    let db = t.db();
    for (code, name, kind, parent) in [
        ("HQ", "总部", "hq", None),
        ("N", "华北大区", "region", Some("HQ")),
        ("E", "华东大区", "region", Some("HQ")),
        ("BJ", "北京分公司", "branch", Some("N")),
        ("TJ", "天津分公司", "branch", Some("N")),
        ("SH", "上海分公司", "branch", Some("E")),
    ] {
        let mut p = vec![("code", Some(code)), ("name", Some(name)), ("kind", Some(kind))];
        if let Some(pa) = parent {
            p.push(("parent", Some(pa)));
        }
        kam::app::people::org::create(db, &ctx, &Input::from_pairs(&p)).await.expect("org");
    }
    for (u, role, org, mgr, st) in [
        ("admin", "admin", "HQ", None, None),
        ("director", "ka_director", "HQ", None, None),
        ("finance", "finance_manager", "HQ", None, None),
        ("region", "branch_manager", "N", None, None),
        ("manager", "ka_manager", "BJ", Some("director"), None),
        ("repA", "ka_rep", "BJ", Some("manager"), Some("ae")),
        ("repB", "ka_rep", "BJ", Some("manager"), Some("ae")),
        ("repC", "ka_rep", "SH", None, Some("ae")),
        ("gone", "ka_rep", "BJ", Some("manager"), Some("ae")),
    ] {
        let mut p = vec![
            ("username", Some(u)),
            ("role", Some(role)),
            ("org_unit", Some(org)),
            ("password", Some(PASSWORD)),
            ("display_name", Some(u)),
        ];
        if let Some(m) = mgr {
            p.push(("manager", Some(m)));
        }
        if let Some(s) = st {
            p.push(("sales_type", Some(s)));
        }
        let admin_ctx = Ctx {
            caller: kam::app::Caller { role: kam::domain::role::Role::Admin, ..ctx.caller.clone() },
            ..ctx.clone()
        };
        kam::app::people::users::create(db, &admin_ctx, &Input::from_pairs(&p)).await.expect("user");
    }
    let uid = |name: &'static str| async move {
        sqlx::Row::try_get::<i64, _>(
            &sqlx::query("SELECT id FROM users WHERE username = $1")
                .bind(name)
                .fetch_one(&db.pool)
                .await
                .expect("user"),
            "id",
        )
        .expect("id")
    };
    let org = |code: &'static str| async move {
        sqlx::Row::try_get::<i64, _>(
            &sqlx::query("SELECT id FROM org_units WHERE code = $1").bind(code).fetch_one(&db.pool).await.expect("org"),
            "id",
        )
        .expect("id")
    };
    let mut tx = db.begin().await.expect("tx");
    let x = accounts::AccountData {
        name: "北京星河精密制造有限公司".into(),
        industry: "enterprise".into(),
        level: "L1".into(),
        status: "key_account".into(),
        region_id: Some(org("N").await),
        branch_id: Some(org("BJ").await),
        owner_id: Some(uid("repA").await),
        buying_power: Some(250_000_000),
        sales_12m_entered: Some(150_000_000),
        credit_grade: Some("yellow".into()),
        credit_limit: Some(7_654_321_099),
        credit_score: Some(987_654),
        ..Default::default()
    };
    let account_x = accounts::insert(&mut tx, &ctx, &x).await.expect("account x");
    let c = accounts::AccountData {
        name: "上海东方仪器有限公司".into(),
        industry: "enterprise".into(),
        level: "L2".into(),
        status: "prospect".into(),
        region_id: Some(org("E").await),
        branch_id: Some(org("SH").await),
        owner_id: Some(uid("repC").await),
        ..Default::default()
    };
    let account_c = accounts::insert(&mut tx, &ctx, &c).await.expect("account c");
    let contact_x = contacts::insert(
        &mut tx,
        &ctx,
        account_x,
        &contacts::ContactData { name: "王志远".into(), title: Some("总经理".into()), ..Default::default() },
    )
    .await
    .expect("contact");
    tx.commit().await.expect("commit");
    let mut tokens = std::collections::HashMap::new();
    for u in USERS {
        tokens.insert(*u, t.token(u).await);
    }
    kam::app::people::users::set_active(db, &ctx, "gone", false).await.expect("deactivate");
    World { tokens, account_x, contact_x, account_c }
}

/// The field codes of a 422 (asserting it is one): field → code.
pub fn fields(r: &Resp) -> std::collections::BTreeMap<String, String> {
    assert_eq!(r.status, axum::http::StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let v = r.json();
    assert_eq!(v["error"]["code"], "invalid_input", "{v}");
    v["error"]["details"]["fields"]
        .as_object()
        .unwrap_or_else(|| panic!("fields in details: {v}"))
        .iter()
        .map(|(k, f)| (k.clone(), f["code"].as_str().unwrap_or("").to_string()))
        .collect()
}

/// A multipart body: the text fields, then `file` (name and bytes); (content type, body).
pub fn multipart(fields: &[(&str, &str)], name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let b = "----kamtestboundary";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend(format!("--{b}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes());
    }
    body.extend(
        format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend(bytes);
    body.extend(format!("\r\n--{b}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={b}"), body)
}

/// The months' kept actuals (`sales_months`) against the records: every won opportunity's booked
/// amount under its booking month and owner, every signed, not cancelled order's margin and
/// count under its signing month and owner, each in its account's region. Panics naming `step`
/// and the differing rows.
pub async fn assert_months_kept(db: &Db, step: &str) {
    use sqlx::Row;
    type Key = (String, i64, i64);
    let pool = &db.pool;
    let mut want: std::collections::BTreeMap<Key, (i64, i64, i64)> = Default::default();
    for r in sqlx::query(
        "SELECT o.booked_on, COALESCE(o.owner_id, 0) AS owner_id, COALESCE(a.region_id, 0) AS region_id, o.booked_amount \
         FROM opportunities o JOIN accounts a ON a.id = o.account_id \
         WHERE o.stage = 'won' AND o.deleted_at IS NULL AND o.booked_on IS NOT NULL AND o.booked_amount IS NOT NULL",
    )
    .fetch_all(pool)
    .await
    .expect("won")
    {
        let day: String = r.try_get("booked_on").expect("booked_on");
        let k = (day[..7].to_string(), r.try_get("owner_id").expect("owner"), r.try_get("region_id").expect("region"));
        want.entry(k).or_default().0 += r.try_get::<i64, _>("booked_amount").expect("amount");
    }
    for r in sqlx::query(
        "SELECT o.signed_at, o.owner_id, COALESCE(a.region_id, 0) AS region_id, v.total_excl, v.cost \
         FROM orders o JOIN order_versions v ON v.order_id = o.id AND v.version_no = o.signed_version \
         JOIN accounts a ON a.id = o.account_id WHERE o.state <> 'cancelled' AND o.signed_at IS NOT NULL",
    )
    .fetch_all(pool)
    .await
    .expect("signed")
    {
        let at: String = r.try_get("signed_at").expect("signed_at");
        let k = (at[..7].to_string(), r.try_get("owner_id").expect("owner"), r.try_get("region_id").expect("region"));
        let e = want.entry(k).or_default();
        e.1 += r.try_get::<i64, _>("total_excl").expect("total") - r.try_get::<i64, _>("cost").expect("cost");
        e.2 += 1;
    }
    let mut kept: std::collections::BTreeMap<Key, (i64, i64, i64)> = Default::default();
    for r in sqlx::query("SELECT month, owner_id, region_id, revenue, profit, orders FROM sales_months")
        .fetch_all(pool)
        .await
        .expect("kept")
    {
        let v = (r.try_get("revenue").expect("r"), r.try_get("profit").expect("p"), r.try_get("orders").expect("n"));
        if v != (0, 0, 0) {
            kept.insert(
                (r.try_get("month").expect("m"), r.try_get("owner_id").expect("o"), r.try_get("region_id").expect("g")),
                v,
            );
        }
    }
    assert_eq!(kept, want, "{step}: the months' kept actuals (month, owner, region) → (revenue, profit, orders)");
}
