//! Benchmark on the `l3-60k` dataset: the read paths, and recording a visit.
//!
//! ```text
//! cargo run --release --example bench -- [--database-url URL] [--requests N]
//!     [--reuse] [--no-append] [--only TEXT]
//! ```
//! Without `--database-url` the data goes to an SQLite file in a temporary folder. A PostgreSQL
//! URL names a server and a database to connect to for administration
//! (`postgres://postgres@127.0.0.1:5432/postgres`): the benchmark drops and re-creates the
//! database `kam_bench` there and works in it.
//!
//! It generates the dataset (seed 42), then sends requests in-process through the router (no
//! sockets, so the numbers are the application's and the database's own), one at a time, and
//! reports p50/p95/p99 latencies per endpoint and user. The table is printed and appended to
//! BENCHMARKS.md with the date, the backend and the command.
//!
//! For experiments: `--reuse` keeps the database named by the URL as it is (no drop, no
//! generation; it must hold the dataset), `--no-append` leaves BENCHMARKS.md alone, and
//! `--only TEXT` measures only the rows whose "request user" contains TEXT.
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use sqlx::Row;
use tower::ServiceExt;

use kam::app::{people::auth, App, Ctx, Settings};
use kam::db::{Backend, Db};

const WARMUP: usize = 50;
static ONLY: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
const BENCH_DB: &str = "kam_bench";

struct Args {
    url: Option<String>,
    requests: usize,
    /// Keep an existing database and its data (no drop, no generation) — for experiments.
    reuse: bool,
    /// Print the table only; leave BENCHMARKS.md alone.
    no_append: bool,
    /// Measure only the rows whose request or user contains this text.
    only: Option<String>,
}

fn args() -> anyhow::Result<Args> {
    let mut a = Args { url: None, requests: 500, reuse: false, no_append: false, only: None };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        match k.as_str() {
            "--database-url" => a.url = Some(it.next().context("--database-url needs a value")?),
            "--requests" => {
                a.requests = it.next().context("--requests needs a value")?.parse().context("--requests: a number")?;
                anyhow::ensure!(a.requests > 0, "--requests must be positive");
            }
            "--reuse" => a.reuse = true,
            "--no-append" => a.no_append = true,
            "--only" => a.only = Some(it.next().context("--only needs a value")?),
            "-h" | "--help" => {
                println!("usage: bench [--database-url URL] [--requests N] [--reuse] [--no-append] [--only TEXT]");
                std::process::exit(0);
            }
            other => {
                bail!("unknown argument {other}; usage: bench [--database-url URL] [--requests N] [--reuse] [--no-append] [--only TEXT]")
            }
        }
    }
    Ok(a)
}

/// Replaces the database name of a PostgreSQL URL (keeping any `?options`).
fn with_database(url: &str, name: &str) -> anyhow::Result<String> {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").context("a URL with ://")? + 3;
    let host_end = base[scheme_end..].find('/').map(|p| scheme_end + p).unwrap_or(base.len());
    let mut out = format!("{}/{name}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    Ok(out)
}

fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(a)) if a > s => {
            let userinfo = &url[s + 3..a];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[a..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

struct Measure {
    what: String,
    user: String,
    samples: Vec<Duration>,
    bytes: usize,
    target_ms: Option<f64>,
}

impl Measure {
    fn pct(&self, p: f64) -> f64 {
        let mut s = self.samples.clone();
        s.sort();
        let i = ((s.len() as f64 * p).ceil() as usize).clamp(1, s.len()) - 1;
        s[i].as_secs_f64() * 1000.0
    }
    fn mean(&self) -> f64 {
        self.samples.iter().map(Duration::as_secs_f64).sum::<f64>() * 1000.0 / self.samples.len() as f64
    }
}

async fn send(router: &axum::Router, req: Request<Body>) -> anyhow::Result<usize> {
    let (method, uri) = (req.method().clone(), req.uri().to_string());
    let res = router.clone().oneshot(req).await.expect("the router is infallible");
    let status = res.status();
    let body = res.into_body().collect().await.context("reading the body")?.to_bytes();
    // 200, or 201 for a write that creates.
    if status != StatusCode::OK && status != StatusCode::CREATED {
        bail!("{method} {uri} answered {status}: {}", String::from_utf8_lossy(&body[..body.len().min(300)]));
    }
    Ok(body.len())
}

/// Runs `n` timed requests after the warm-up; `make(i)` builds the i-th request.
async fn measure(
    router: &axum::Router,
    what: &str,
    user: &str,
    n: usize,
    target_ms: Option<f64>,
    make: impl Fn(usize) -> Request<Body>,
) -> anyhow::Result<Option<Measure>> {
    if let Some(Some(only)) = ONLY.get() {
        if !format!("{what} {user}").contains(only.as_str()) {
            return Ok(None);
        }
    }
    for i in 0..WARMUP {
        send(router, make(i)).await?;
    }
    let mut samples = Vec::with_capacity(n);
    let mut bytes = 0;
    for i in 0..n {
        let req = make(WARMUP + i);
        let t = Instant::now();
        bytes += send(router, req).await?;
        samples.push(t.elapsed());
    }
    let m = Measure { what: what.to_string(), user: user.to_string(), samples, bytes: bytes / n, target_ms };
    eprintln!("  {:<40} {:<9} p50 {:>7.2} ms  p95 {:>7.2} ms", m.what, m.user, m.pct(0.5), m.pct(0.95));
    Ok(Some(m))
}

/// As [`measure`], for a use case called directly (no HTTP): `call` is run `n` times after the
/// warm-up.
async fn measure_call<T, F, Fut>(
    what: &str,
    user: &str,
    n: usize,
    target_ms: Option<f64>,
    call: F,
) -> anyhow::Result<Option<Measure>>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, kam::domain::DomainError>>,
{
    if let Some(Some(only)) = ONLY.get() {
        if !format!("{what} {user}").contains(only.as_str()) {
            return Ok(None);
        }
    }
    for _ in 0..WARMUP {
        call().await?;
    }
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        call().await?;
        samples.push(t.elapsed());
    }
    let m = Measure { what: what.to_string(), user: user.to_string(), samples, bytes: 0, target_ms };
    eprintln!("  {:<40} {:<9} p50 {:>7.2} ms  p95 {:>7.2} ms", m.what, m.user, m.pct(0.5), m.pct(0.95));
    Ok(Some(m))
}

fn get(uri: &str, auth: &Auth) -> Request<Body> {
    let b = Request::builder().method("GET").uri(uri);
    let b = match auth {
        Auth::Bearer(t) => b.header(header::AUTHORIZATION, format!("Bearer {t}")),
        Auth::Session(s) => b.header(header::COOKIE, format!("{}={s}", kam::web::auth::SESSION_COOKIE)),
    };
    b.body(Body::empty()).expect("a valid request")
}

/// A JSON POST through the API (token auth).
fn post(uri: &str, auth: &Auth, body: serde_json::Value) -> Request<Body> {
    let b = Request::builder().method("POST").uri(uri).header(header::CONTENT_TYPE, "application/json");
    let b = match auth {
        Auth::Bearer(t) => b.header(header::AUTHORIZATION, format!("Bearer {t}")),
        Auth::Session(s) => b.header(header::COOKIE, format!("{}={s}", kam::web::auth::SESSION_COOKIE)),
    };
    b.body(Body::from(body.to_string())).expect("a valid request")
}

enum Auth {
    Bearer(String),
    Session(String),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = args()?;
    ONLY.set(a.only.clone()).ok();
    let _tmp; // keeps the temporary SQLite folder until the end
    let url = match &a.url {
        None => {
            let dir = tempfile::tempdir()?;
            let url = format!("sqlite://{}", dir.path().join("bench.db").display());
            _tmp = dir;
            url
        }
        Some(u) if a.reuse => u.clone(),
        Some(u) if u.starts_with("postgres://") || u.starts_with("postgresql://") => {
            let admin = Db::connect(u).await.context("connecting to the PostgreSQL server")?;
            sqlx::query(&format!("DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")).execute(&admin.pool).await?;
            sqlx::query(&format!("CREATE DATABASE {BENCH_DB}")).execute(&admin.pool).await?;
            admin.pool.close().await;
            with_database(u, BENCH_DB)?
        }
        Some(u) => u.clone(),
    };
    let db = Db::connect(&url).await?;
    db.migrate().await?;
    let backend = match db.backend {
        Backend::Sqlite => "SQLite",
        Backend::Postgres => "PostgreSQL",
    };
    let server_version: String = match db.backend {
        Backend::Sqlite => sqlx::query("SELECT sqlite_version() AS v").fetch_one(&db.pool).await?.try_get("v")?,
        Backend::Postgres => sqlx::query("SHOW server_version").fetch_one(&db.pool).await?.try_get(0)?,
    };
    eprintln!("{backend} {server_version} at {}", redact(&url));

    let t = Instant::now();
    let (summary, gen_secs) = if a.reuse {
        let n = |t: &'static str| {
            let db = db.clone();
            async move {
                let r = sqlx::query(&format!("SELECT COUNT(*) AS n FROM {t}")).fetch_one(&db.pool).await?;
                anyhow::Ok(r.try_get::<i64, _>("n")? as usize)
            }
        };
        let s = kam::generate::dataset::Summary {
            org_units: n("org_units").await?,
            users: n("users").await?,
            accounts: n("accounts").await?,
            contacts: n("contacts").await?,
            opportunities: n("opportunities").await?,
            activities: n("activities").await?,
            quotas: n("quotas").await?,
        };
        anyhow::ensure!(s.accounts > 0, "--reuse needs a database with the dataset in it");
        (s, f64::NAN)
    } else {
        let s = kam::generate::dataset::generate(&db, "l3-60k", 42, "bench-pass").await?;
        (s, t.elapsed().as_secs_f64())
    };
    let access_rows: i64 =
        sqlx::query("SELECT COUNT(*) AS n FROM account_access").fetch_one(&db.pool).await?.try_get("n")?;
    eprintln!(
        "l3-60k generated in {gen_secs:.1} s: {} org units, {} users, {} accounts, {} contacts, {access_rows} access rows, \
         {} opportunities, {} activities, {} quotas",
        summary.org_units,
        summary.users,
        summary.accounts,
        summary.contacts,
        summary.opportunities,
        summary.activities,
        summary.quotas
    );

    let app = App { db: db.clone(), settings: Settings::default() };
    let router = kam::web::router(app.clone());
    let sys = Ctx::system();
    let mut tokens = Vec::new();
    for user in ["sr001", "ae001", "kam01", "director", "region01", "finance"] {
        let (_, secret) =
            auth::create_token(&db, &sys, user, "bench").await.map_err(|e| anyhow::anyhow!("token for {user}: {e}"))?;
        tokens.push((user, Auth::Bearer(secret)));
    }
    let session =
        auth::login(&app, "sr001", "bench-pass", None, "bench").await.map_err(|e| anyhow::anyhow!("login: {e}"))?;
    let cookie = Auth::Session(session.id);

    // Accounts the SR owns (as inside owner), and search terms taken from real names.
    let sr_accounts: Vec<i64> = sqlx::query(
        "SELECT x.account_id FROM account_access x JOIN users u ON u.id = x.user_id \
         WHERE u.username = 'sr001' ORDER BY x.account_id LIMIT 100",
    )
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| r.try_get::<i64, _>("account_id"))
    .collect::<Result<_, _>>()?;
    anyhow::ensure!(!sr_accounts.is_empty(), "sr001 owns no account");
    let terms: Vec<String> = sqlx::query("SELECT short_name FROM accounts WHERE id % 3001 = 7 ORDER BY id")
        .fetch_all(&db.pool)
        .await?
        .iter()
        .filter_map(|r| r.try_get::<Option<String>, _>("short_name").ok().flatten())
        .collect();
    anyhow::ensure!(!terms.is_empty(), "no search terms");
    // Sanity: the page and the API really show the SR's account (not a sign-in page).
    let name: String = sqlx::query("SELECT name FROM accounts WHERE id = $1")
        .bind(sr_accounts[0])
        .fetch_one(&db.pool)
        .await?
        .try_get("name")?;
    for req in [
        get(&format!("/accounts/{}", sr_accounts[0]), &cookie),
        get(&format!("/api/v1/accounts/{}", sr_accounts[0]), &tokens[0].1),
    ] {
        let uri = req.uri().to_string();
        let res = router.clone().oneshot(req).await.expect("the router is infallible");
        let body = res.into_body().collect().await?.to_bytes();
        anyhow::ensure!(String::from_utf8_lossy(&body).contains(&name), "GET {uri} does not show {name}");
    }
    let enc = |s: &str| percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string();

    let n = a.requests;
    let mut rows = Vec::new();
    eprintln!("measuring ({WARMUP} warm-up + {n} requests each, one at a time):");
    for (user, auth) in &tokens {
        rows.extend(
            measure(&router, "GET /api/v1/accounts (scoped list)", user, n, Some(3.0), |_| {
                get("/api/v1/accounts", auth)
            })
            .await?,
        );
    }
    let director = &tokens[3].1;
    rows.extend(
        measure(&router, "GET /api/v1/accounts?q=… (search)", "director", n, None, |i| {
            get(&format!("/api/v1/accounts?q={}", enc(&terms[i % terms.len()])), director)
        })
        .await?,
    );
    rows.extend(
        measure(&router, "GET /accounts/{id} (account page)", "sr001", n, Some(5.0), |i| {
            get(&format!("/accounts/{}", sr_accounts[i % sr_accounts.len()]), &cookie)
        })
        .await?,
    );
    let sr = &tokens[0].1;
    rows.extend(
        measure(&router, "GET /api/v1/accounts/{id}", "sr001", n, None, |i| {
            get(&format!("/api/v1/accounts/{}", sr_accounts[i % sr_accounts.len()]), sr)
        })
        .await?,
    );

    // The funnel (W3): a region director (region01, branch manager of region R01) and HQ.
    for (user, auth) in [("region01", &tokens[4].1), ("director", &tokens[3].1)] {
        rows.extend(
            measure(&router, "GET /api/v1/reports/funnel", user, n, Some(15.0), |_| {
                get("/api/v1/reports/funnel", auth)
            })
            .await?,
        );
    }
    // Classification and coverage (issue 7): the RAD grid and the coverage report for all of
    // HQ (60,000 accounts), and for a region director; the service standards overdue for HQ.
    for (user, auth) in [("director", &tokens[3].1), ("region01", &tokens[4].1)] {
        let hq = user == "director";
        rows.extend(
            measure(&router, "GET /api/v1/reports/rad", user, n, hq.then_some(20.0), |_| {
                get("/api/v1/reports/rad", auth)
            })
            .await?,
        );
        rows.extend(
            measure(&router, "GET /api/v1/reports/coverage", user, n, hq.then_some(30.0), |_| {
                get("/api/v1/reports/coverage", auth)
            })
            .await?,
        );
    }
    rows.extend(
        measure(&router, "GET /api/v1/reports/service-standards", "director", n, None, |_| {
            get("/api/v1/reports/service-standards", &tokens[3].1)
        })
        .await?,
    );
    // One rep's kanban: the board page (seven columns of up to 50 cards, and the count).
    let ae_session =
        auth::login(&app, "ae001", "bench-pass", None, "bench").await.map_err(|e| anyhow::anyhow!("login: {e}"))?;
    let ae_cookie = Auth::Session(ae_session.id);
    rows.extend(
        measure(&router, "GET /opportunities?view=board (kanban)", "ae001", n, Some(10.0), |_| {
            get("/opportunities?view=board", &ae_cookie)
        })
        .await?,
    );

    // Visits (issue 5), on the last full week: a KA manager's weekly statistics of their team
    // (kam01: the outside and inside sales of region R01), and HQ's for information; one rep's
    // week calendar; recording a done visit (a write through the same router, a new body each
    // time, on the rep's own accounts).
    let last_week = {
        use kam::domain::activity::{local_day, monday};
        let today = local_day(chrono::Utc::now(), chrono_tz::Asia::Shanghai);
        (monday(today) - chrono::Duration::days(7)).format("%Y-%m-%d").to_string()
    };
    let ae_week: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM activities v JOIN users u ON u.id = v.owner_id WHERE u.username = 'ae001' AND v.week = $1",
    )
    .bind(last_week.clone())
    .fetch_one(&db.pool)
    .await?
    .try_get("n")?;
    anyhow::ensure!(summary.activities == 0 || ae_week > 0, "ae001 has no activity in the week of {last_week}");
    for (user, auth) in [("kam01", &tokens[2].1), ("director", &tokens[3].1)] {
        let target = (user == "kam01").then_some(20.0);
        rows.extend(
            measure(&router, "GET /api/v1/reports/visits?week=…", user, n, target, |_| {
                get(&format!("/api/v1/reports/visits?week={last_week}"), auth)
            })
            .await?,
        );
    }
    let ae = &tokens[1].1;
    rows.extend(
        measure(&router, "GET /api/v1/activities/calendar?week=…", "ae001", n, Some(5.0), |_| {
            get(&format!("/api/v1/activities/calendar?week={last_week}"), ae)
        })
        .await?,
    );
    // The list a salesperson works from (issue 18): an inside salesperson's own open
    // opportunities, most recently updated first (sr001 sees about 1,500), beside the same
    // list without the filter and the order.
    let sr = &tokens[0].1;
    rows.extend(
        measure(
            &router,
            "GET /api/v1/opportunities?owner=…&open=1&sort=updated&limit=50",
            "sr001",
            n,
            Some(3.0),
            |_| get("/api/v1/opportunities?owner=sr001&open=1&sort=updated&limit=50", sr),
        )
        .await?,
    );
    rows.extend(
        measure(&router, "GET /api/v1/opportunities?limit=50", "sr001", n, Some(3.0), |_| {
            get("/api/v1/opportunities?limit=50", sr)
        })
        .await?,
    );
    // The home per role (工作台): a rep's figures, agenda and to-dos; a KA manager's with the
    // team's exceptions; HQ's with one card per region.
    for (user, auth) in
        [("ae001", &tokens[1].1), ("sr001", &tokens[0].1), ("kam01", &tokens[2].1), ("director", &tokens[3].1)]
    {
        rows.extend(measure(&router, "GET /api/v1/home", user, n, None, |_| get("/api/v1/home", auth)).await?);
    }
    // The home's own lists (issue 18: each ≤ 3 ms p50), read by the use case itself: the
    // agenda, the next steps due and the slipped deals of a salesperson; a KA manager's team
    // follow-ups and slipped deals.
    for user in ["ae001", "sr001", "kam01"] {
        let id: i64 = sqlx::query("SELECT id FROM users WHERE username = $1")
            .bind(user)
            .fetch_one(&db.pool)
            .await?
            .try_get("id")?;
        let caller = kam::app::people::auth::load_caller(&db, id).await?.expect("the user exists");
        let today_d = kam::domain::activity::local_day(chrono::Utc::now(), chrono_tz::Asia::Shanghai);
        let today = today_d.format("%Y-%m-%d").to_string();
        use kam::app::home;
        if user == "kam01" {
            let team: Vec<i64> = sqlx::query("SELECT id FROM users WHERE manager_id = $1")
                .bind(id)
                .fetch_all(&db.pool)
                .await?
                .iter()
                .map(|r| r.try_get::<i64, _>("id"))
                .collect::<Result<_, _>>()?;
            rows.extend(
                measure_call("home: the team's overdue follow-ups", user, n, Some(3.0), || {
                    home::team_follow_ups(&db, &caller, &team, &today)
                })
                .await?,
            );
            rows.extend(
                measure_call("home: the team's slipped deals", user, n, Some(3.0), || {
                    home::slipped_deals(&db, &caller, &team, &today)
                })
                .await?,
            );
            continue;
        }
        rows.extend(
            measure_call("home: agenda (today and tomorrow)", user, n, Some(3.0), || {
                home::agenda(&db, &caller, today_d)
            })
            .await?,
        );
        rows.extend(
            measure_call("home: next steps due", user, n, Some(3.0), || home::next_steps(&db, &caller, &today)).await?,
        );
        let me = [caller.user_id];
        rows.extend(
            measure_call("home: slipped deals", user, n, Some(3.0), || home::slipped_deals(&db, &caller, &me, &today))
                .await?,
        );
    }
    let ae_accounts: Vec<i64> = sqlx::query(
        "SELECT x.account_id FROM account_access x JOIN users u ON u.id = x.user_id \
         WHERE u.username = 'ae001' AND x.via = 'owner' ORDER BY x.account_id",
    )
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| r.try_get::<i64, _>("account_id"))
    .collect::<Result<_, _>>()?;
    anyhow::ensure!(!ae_accounts.is_empty(), "ae001 owns no account");
    rows.extend(
        measure(&router, "POST /api/v1/activities (a done visit)", "ae001", n, Some(5.0), |i| {
            post(
                "/api/v1/activities",
                ae,
                serde_json::json!({
                    "account_id": ae_accounts[i % ae_accounts.len()],
                    "kind": "visit",
                    "status": "done",
                    "place": "客户会议室",
                    "objective": "技术交流",
                    "summary": format!("基准测试拜访 #{i}"),
                    "outcome": "problem_solved",
                    "problems": format!("现场问题 #{i} 已解决"),
                    "customer_attitude": "warm",
                }),
            )
        })
        .await?,
    );

    // Quotes (issue 20): saving a 200-line quote (a draft of ae001's revised in place, so each
    // save replaces its 200 lines), an opportunity's quotes, and a KA manager's team's quotes.
    let opp: i64 = sqlx::query(
        "SELECT o.id FROM opportunities o JOIN users u ON u.id = o.owner_id WHERE u.username = 'ae001' \
         AND o.stage NOT IN ('won', 'lost') AND EXISTS (SELECT 1 FROM quotes q WHERE q.opportunity_id = o.id) ORDER BY o.id LIMIT 1",
    )
    .fetch_one(&db.pool)
    .await
    .context("an open opportunity of ae001 with a quote")?
    .try_get("id")?;
    let products: Vec<i64> = sqlx::query("SELECT id FROM products WHERE active = 1 ORDER BY id LIMIT 150")
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|r| r.try_get::<i64, _>("id"))
        .collect::<Result<_, _>>()?;
    let lines = |i: usize| -> Vec<serde_json::Value> {
        (0..200)
            .map(|j| match products.get(j) {
                Some(p) if j < 150 => serde_json::json!({"product_id": p, "quantity": format!("{}", 1 + (i + j) % 5), "discount": "3"}),
                _ => serde_json::json!({"description": format!("安装调试服务 {j}"), "unit": "项", "quantity": "1", "unit_price": format!("{}.00", 1000 + i + j)}),
            })
            .collect()
    };
    let created = kam::app::quotes::quotes::create(
        &db,
        &kam::app::Ctx {
            caller: kam::app::people::auth::load_caller(
                &db,
                sqlx::query("SELECT id FROM users WHERE username = 'ae001'")
                    .fetch_one(&db.pool)
                    .await?
                    .try_get("id")?,
            )
            .await?
            .expect("ae001"),
            request_id: "bench".into(),
        },
        opp,
        &serde_json::from_value(serde_json::json!({"lines": lines(0)}))?,
    )
    .await?;
    let (qid, v0) = (created.id, created.version);
    rows.extend(
        measure(&router, "PATCH /api/v1/quotes/{id} (a 200-line draft)", "ae001", n, Some(30.0), |i| {
            let mut r = post(
                &format!("/api/v1/quotes/{qid}"),
                ae,
                serde_json::json!({"version": v0 + i as i64, "lines": lines(i + 1)}),
            );
            *r.method_mut() = axum::http::Method::PATCH;
            r
        })
        .await?,
    );
    rows.extend(
        measure(&router, "GET /api/v1/opportunities/{id}/quotes", "ae001", n, Some(5.0), |_| {
            get(&format!("/api/v1/opportunities/{opp}/quotes"), ae)
        })
        .await?,
    );
    let kam = &tokens[2].1;
    rows.extend(
        measure(&router, "GET /api/v1/quotes?limit=50 (the team's)", "kam01", n, Some(10.0), |_| {
            get("/api/v1/quotes?limit=50", kam)
        })
        .await?,
    );

    // Receivables (issue 21): HQ's aging, a rep's collection worklist, an account's statement,
    // recording a payment with its allocation (finance).
    let director = &tokens[3].1;
    let finance = &tokens[5].1;
    rows.extend(
        measure(&router, "GET /api/v1/reports/aging (HQ)", "director", n, Some(50.0), |_| {
            get("/api/v1/reports/aging", director)
        })
        .await?,
    );
    // The salesperson with the most overdue receivables, with a token of their own.
    let r = sqlx::query(
        "SELECT u.username, COUNT(*) AS n FROM receivables r JOIN users u ON u.id = r.owner_id \
         WHERE r.state = 'open' AND r.due_on < '2026-12-01' GROUP BY u.username ORDER BY n DESC, u.username LIMIT 1",
    )
    .fetch_one(&db.pool)
    .await
    .context("a salesperson with overdue receivables")?;
    let (collector, busy): (String, i64) = (r.try_get("username")?, r.try_get("n")?);
    let (_, secret) = auth::create_token(&db, &sys, &collector, "bench").await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let collector_auth = Auth::Bearer(secret);
    eprintln!("  the collection worklist of {collector}: {busy} overdue receivables");
    rows.extend(
        measure(&router, "GET /api/v1/collection (a rep's worklist)", &collector, n, Some(10.0), |_| {
            get("/api/v1/collection", &collector_auth)
        })
        .await?,
    );
    let busiest: i64 = sqlx::query(
        "SELECT account_id FROM receivables GROUP BY account_id ORDER BY COUNT(*) DESC, account_id LIMIT 1",
    )
    .fetch_one(&db.pool)
    .await
    .context("an account with receivables")?
    .try_get("account_id")?;
    rows.extend(
        measure(&router, "GET /api/v1/accounts/{id}/receivables (statement)", "finance", n, Some(20.0), |_| {
            get(&format!("/api/v1/accounts/{busiest}/receivables"), finance)
        })
        .await?,
    );
    rows.extend(
        measure(&router, "GET /api/v1/accounts/{id}/statement (three years)", "finance", n, Some(20.0), |_| {
            get(&format!("/api/v1/accounts/{busiest}/statement?from=2023-12-01&to=2026-12-01"), finance)
        })
        .await?,
    );
    let owing: i64 =
        sqlx::query("SELECT account_id FROM receivables WHERE state = 'open' ORDER BY amount - paid DESC, id LIMIT 1")
            .fetch_one(&db.pool)
            .await
            .context("an account that owes")?
            .try_get("account_id")?;
    rows.extend(
        measure(&router, "POST /api/v1/payments (allocated oldest first)", "finance", n, Some(5.0), |i| {
            post(
                "/api/v1/payments",
                finance,
                serde_json::json!({"account_id": owing, "received_on": "2026-12-01", "amount": "10.00", "reference": format!("BENCH-{i}")}),
            )
        })
        .await?,
    );

    // Credit (issue 22): the credit check of an order at sign-off, on the account owing on the
    // most receivables (its exposure sums them all); then the daily downgrade pass over every key
    // account, each run timed alone (the first downgrades what is below the line, the next find
    // it done).
    // The account that owes on the most receivables (scheduled or open): its exposure is the
    // largest sum the check makes.
    let exposed: i64 = sqlx::query(
        "SELECT account_id FROM receivables WHERE state IN ('scheduled', 'open') GROUP BY account_id \
         ORDER BY COUNT(*) DESC, account_id LIMIT 1",
    )
    .fetch_one(&db.pool)
    .await
    .context("an account that owes")?
    .try_get("account_id")?;
    let check_order: i64 = sqlx::query("SELECT id FROM orders WHERE account_id = $1 ORDER BY id DESC LIMIT 1")
        .bind(exposed)
        .fetch_one(&db.pool)
        .await
        .context("an order of the account that owes on the most receivables")?
        .try_get("id")?;
    rows.extend(
        measure_call("credit check at sign-off (the most receivables owed)", "finance", n, Some(5.0), || {
            let db = db.clone();
            async move {
                let mut conn = db.pool.acquire().await?;
                kam::app::orders::credit_check::evaluate(
                    &mut conn,
                    check_order,
                    kam::domain::receivable::CreditStage::Signoff,
                )
                .await
            }
        })
        .await?,
    );
    let pass_label = "the daily downgrade pass (every key account)";
    if ONLY.get().and_then(|o| o.as_deref()).is_none_or(|only| format!("{pass_label} system").contains(only)) {
        let mut samples = vec![];
        let mut downgraded = vec![];
        for _ in 0..3 {
            let t = Instant::now();
            let k = kam::app::classification::downgrade::pass(&db, chrono::Utc::now())
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            samples.push(t.elapsed());
            downgraded.push(k);
        }
        let m = Measure {
            what: format!("{pass_label}: 3 runs, downgrading {downgraded:?}"),
            user: "system".into(),
            samples,
            bytes: 0,
            target_ms: Some(10_000.0),
        };
        eprintln!("  {:<40} p50 {:>9.2} ms  max {:>9.2} ms", m.what, m.pct(0.5), m.pct(1.0));
        rows.push(m);
    }

    // Account plans (issue 23): the planning calendar of HQ over every key account of the
    // year (a page of 50, first page; ≤ 30 ms), the plan page of a strategic account with its
    // pre-filled parts (≤ 20 ms), the six-monthly report of HQ over the strategic and A plans.
    let plan: Option<(i64, i64)> = sqlx::query(
        "SELECT p.id, p.year FROM account_plans p JOIN accounts a ON a.id = p.account_id \
         WHERE p.tier = 'strategic' ORDER BY (SELECT COUNT(*) FROM contacts c WHERE c.account_id = a.id) DESC, p.id LIMIT 1",
    )
    .fetch_optional(&db.pool)
    .await?
    .map(|r| Ok::<_, sqlx::Error>((r.try_get("id")?, r.try_get("year")?)))
    .transpose()?;
    if let Some((plan_id, year)) = plan {
        // The pages as the director reads them: rendered HTML, through the router.
        let session = auth::login(&app, "director", "bench-pass", None, "bench")
            .await
            .map_err(|e| anyhow::anyhow!("login: {e}"))?;
        let director = Auth::Session(session.id);
        rows.extend(
            measure(&router, "GET /plans/calendar (HQ, every key account)", "director", n, Some(30.0), |_| {
                get(&format!("/plans/calendar?year={year}"), &director)
            })
            .await?,
        );
        rows.extend(
            measure(&router, "GET /plans/{id} (strategic, pre-filled)", "director", n, Some(20.0), |_| {
                get(&format!("/plans/{plan_id}"), &director)
            })
            .await?,
        );
        rows.extend(
            measure(&router, "GET /plans/report (six-monthly, HQ)", "director", n, None, |_| {
                get(&format!("/plans/report?half={year}-H1"), &director)
            })
            .await?,
        );
    }

    // Satisfaction surveys and open points (issue 24): the satisfaction trend of all of HQ over
    // eight quarters (≤ 30 ms) as the API answers it, and the quarter's report page that draws it
    // beside the quarter's scores; the open points due for review of the KA manager who has the
    // most (≤ 10 ms), as the API answers and as the page lists them.
    let quarter: Option<i64> = sqlx::query("SELECT id FROM survey_campaigns ORDER BY quarter DESC LIMIT 1")
        .fetch_optional(&db.pool)
        .await?
        .map(|r| r.try_get("id"))
        .transpose()?;
    if let Some(campaign) = quarter {
        let session = auth::login(&app, "director", "bench-pass", None, "bench")
            .await
            .map_err(|e| anyhow::anyhow!("login: {e}"))?;
        let director_page = Auth::Session(session.id);
        let director = tokens.iter().find(|(u, _)| *u == "director").map(|(_, a)| a).context("director's token")?;
        rows.extend(
            measure(&router, "GET /api/v1/surveys/trend?quarters=8 (HQ)", "director", n, Some(30.0), |_| {
                get("/api/v1/surveys/trend?quarters=8", director)
            })
            .await?,
        );
        rows.extend(
            measure(
                &router,
                "GET /surveys/{id} (the quarter's report with the 8-quarter trend, HQ)",
                "director",
                n,
                None,
                |_| get(&format!("/surveys/{campaign}"), &director_page),
            )
            .await?,
        );
        let today = kam::domain::activity::local_day(chrono::Utc::now(), chrono_tz::Asia::Shanghai).to_string();
        let r = sqlx::query(
            "SELECT u.username, COUNT(*) AS n FROM opl_items i JOIN users u ON u.id = i.owner_id \
             WHERE i.status <> 'closed' AND i.next_review_on <= $1 GROUP BY u.username ORDER BY n DESC, u.username LIMIT 1",
        )
        .bind(today.as_str())
        .fetch_one(&db.pool)
        .await
        .context("a KA manager with open points due")?;
        let (lead, due): (String, i64) = (r.try_get("username")?, r.try_get("n")?);
        let (_, secret) = auth::create_token(&db, &sys, &lead, "bench").await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let lead_api = Auth::Bearer(secret);
        let session =
            auth::login(&app, &lead, "bench-pass", None, "bench").await.map_err(|e| anyhow::anyhow!("login: {e}"))?;
        let lead_page = Auth::Session(session.id);
        eprintln!("  the open points due for review of {lead}: {due}");
        rows.extend(
            measure(&router, "GET /api/v1/opl/reviews-due (a KA manager's review list)", &lead, n, Some(10.0), |_| {
                get("/api/v1/opl/reviews-due", &lead_api)
            })
            .await?,
        );
        rows.extend(
            measure(&router, "GET /opl/reviews (a KA manager's review list, page)", &lead, n, Some(10.0), |_| {
                get("/opl/reviews", &lead_page)
            })
            .await?,
        );
    }

    // The management year (issue 25): this year's plan against actual by region (≤ 30 ms), as the
    // API answers it and as the page draws it; and generating the year's quotas for every
    // salesperson from the plan (≤ 5 s): the KA director's save of the decomposition through the
    // API, which replaces the year's quotas (one warm-up, then 5 saves: each takes seconds).
    let year = chrono::Datelike::year(&kam::domain::activity::local_day(chrono::Utc::now(), chrono_tz::Asia::Shanghai));
    let planned: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM sales_plans WHERE year = $1 AND state = 'approved' AND split IS NOT NULL",
    )
    .bind(i64::from(year))
    .fetch_one(&db.pool)
    .await?
    .try_get("n")?;
    if planned == 1 {
        let director = tokens.iter().find(|(u, _)| *u == "director").map(|(_, a)| a).context("director's token")?;
        let session = auth::login(&app, "director", "bench-pass", None, "bench")
            .await
            .map_err(|e| anyhow::anyhow!("login: {e}"))?;
        let director_page = Auth::Session(session.id);
        rows.extend(
            measure(
                &router,
                "GET /api/v1/sales-plans/{year}/tracking (plan vs actual by region)",
                "director",
                n,
                Some(30.0),
                |_| get(&format!("/api/v1/sales-plans/{year}/tracking"), director),
            )
            .await?,
        );
        rows.extend(
            measure(
                &router,
                "GET /sales-plans/{year}/tracking (plan vs actual by region, page)",
                "director",
                n,
                None,
                |_| get(&format!("/sales-plans/{year}/tracking"), &director_page),
            )
            .await?,
        );
        // The KA department's scorecard for the year (≤ 100 ms): every contract, its figures
        // computed from the data.
        rows.extend(
            measure(
                &router,
                "GET /api/v1/kpi/scorecards/department?period={year} (all contracts)",
                "director",
                n,
                Some(100.0),
                |_| get(&format!("/api/v1/kpi/scorecards/department?period={year}"), director),
            )
            .await?,
        );
        rows.extend(
            measure(&router, "GET /kpi?period={year} (the department's scorecard, page)", "director", n, None, |_| {
                get(&format!("/kpi?period={year}"), &director_page)
            })
            .await?,
        );
        let what = "PUT /api/v1/sales-plans/{year}/split (the year's quotas for every salesperson)";
        if ONLY.get().and_then(|o| o.as_deref()).is_none_or(|only| format!("{what} director").contains(only)) {
            let id: i64 = sqlx::query("SELECT id FROM users WHERE username = 'director'")
                .fetch_one(&db.pool)
                .await?
                .try_get("id")?;
            let caller = auth::load_caller(&db, id).await?.context("the director")?;
            let view = kam::app::salesplan::split::get(&db, &caller, year).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let people: usize = view.regions.iter().flat_map(|r| &r.teams).map(|t| t.people.len()).sum();
            let mut split = view.as_input();
            let mut samples = vec![];
            for i in 0..6 {
                split.version = sqlx::query("SELECT version FROM sales_plans WHERE year = $1")
                    .bind(i64::from(year))
                    .fetch_one(&db.pool)
                    .await?
                    .try_get("version")?;
                let req = Request::builder()
                    .method("PUT")
                    .uri(format!("/api/v1/sales-plans/{year}/split"))
                    .header(header::CONTENT_TYPE, "application/json")
                    .header(
                        header::AUTHORIZATION,
                        match director {
                            Auth::Bearer(t) => format!("Bearer {t}"),
                            Auth::Session(_) => bail!("the director's token"),
                        },
                    )
                    .body(Body::from(serde_json::to_string(&split)?))?;
                let t = Instant::now();
                send(&router, req).await?;
                if i > 0 {
                    samples.push(t.elapsed());
                }
            }
            let m = Measure { what: what.into(), user: "director".into(), samples, bytes: 0, target_ms: Some(5000.0) };
            eprintln!("  {what} ({people} people) p50 {:.0} ms", m.pct(0.5));
            rows.push(m);
        }
    }

    // The report.
    let mut table = String::new();
    table.push_str("| request | user | p50 ms | p95 ms | p99 ms | mean ms | body KiB | target p50 |\n");
    table.push_str("|---|---|---:|---:|---:|---:|---:|---|\n");
    for m in &rows {
        let p50 = m.pct(0.5);
        let target = match m.target_ms {
            Some(t) if p50 <= t => format!("≤ {t} ms ✅"),
            Some(t) => format!("≤ {t} ms ❌"),
            None => "—".into(),
        };
        table.push_str(&format!(
            "| `{}` | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.1} | {} |\n",
            m.what,
            m.user,
            p50,
            m.pct(0.95),
            m.pct(0.99),
            m.mean(),
            m.bytes as f64 / 1024.0,
            target
        ));
    }
    let command = {
        let mut c = "cargo run --release --example bench --".to_string();
        let mut it = std::env::args().skip(1);
        while let Some(x) = it.next() {
            c.push(' ');
            if x == "--database-url" {
                c.push_str(&x);
                if let Some(u) = it.next() {
                    c.push(' ');
                    c.push_str(&redact(&u));
                }
            } else {
                c.push_str(&x);
            }
        }
        c
    };
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let date = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC");
    // The code measured: the commit, and which files differed from it (a build from a working tree).
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let code = match git(&["rev-parse", "--short", "HEAD"]) {
        Some(head) => {
            let changed = git(&["diff", "--name-only", "HEAD", "--", "src", "migrations", "templates"])
                .unwrap_or_default()
                .lines()
                .collect::<Vec<_>>()
                .join(", ");
            if changed.is_empty() {
                format!("commit {head}")
            } else {
                format!("commit {head} with uncommitted changes to {changed}")
            }
        }
        None => "unknown (no git)".to_string(),
    };
    let section = format!(
        "\n## {date} — {backend} {server_version}\n\n\
         Command: `{command}`  \n\
         Code: {code}.  \n\
         Machine: {cpus} CPUs; release build; requests in-process through the router (no sockets), one at a time, \
         {WARMUP} warm-up + {n} measured per row.  \n\
         Dataset `l3-60k` seed 42: {} org units, {} users, {} accounts, {} contacts, {access_rows} access rows, \
         {} opportunities, {} activities; generated in **{gen_secs:.1} s**.\n\n{table}",
        summary.org_units, summary.users, summary.accounts, summary.contacts, summary.opportunities, summary.activities
    );
    println!("{section}");
    if a.no_append {
        return Ok(());
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("BENCHMARKS.md");
    let mut text = std::fs::read_to_string(&path).unwrap_or_default();
    if text.is_empty() {
        text.push_str(BENCHMARKS_HEAD);
    }
    text.push_str(&section);
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    eprintln!("appended to {}", path.display());
    Ok(())
}

const BENCHMARKS_HEAD: &str = "# Benchmarks\n\n\
Read-path latency on the `l3-60k` dataset, measured by `examples/bench.rs` (each run appends a \
section below). Targets: scoped account list API p50 ≤ 3 ms, account page p50 ≤ 5 ms, a manager's \
weekly visit statistics p50 ≤ 20 ms, a week calendar and recording a visit p50 ≤ 5 ms, on both backends.\n";
