//! The reliability battery of issue 19 (RELIABILITY.md): bounded, repeatable checks of what KAM
//! promises, each against real `kam serve` processes over loopback.
//!
//! ```text
//! cargo build --bin kam --example battery
//! target/debug/examples/battery PART [--dir DIR] [--seed N] [--no-pg] [options]
//! ```
//! `.ci/reliability` runs every part, each under `timeout`, and prints their times. The parts:
//! - `crash`: three writers create accounts through the API; the server is killed with SIGKILL
//!   at a random moment; every acknowledged (2xx) write must be in the database, which must pass
//!   `PRAGMA integrity_check`, and the server must start again. `--cycles N` (20) on SQLite,
//!   `--pg-cycles N` (3) on a PostgreSQL cluster of the part's own.
//! - `disk`: the data directory is a small filesystem (`--data-dir`, mounted by the caller; the
//!   part refuses one larger than 256 MB). Filled up, a write answers 507 `storage_full` (API)
//!   or an HTML error page (UI), `/healthz` is not 200, a failed document upload leaves no
//!   `.part` file; once the filler is deleted, writes succeed again without a restart.
//! - `outage`: a PostgreSQL cluster of the part's own is stopped under a light load: every API
//!   request answers within 5 s with 503, `Retry-After` and `database_unavailable`; a page is an
//!   HTML error page; `/healthz` 503. Started again, requests succeed within a few seconds
//!   without restarting KAM, and every acknowledged write is there.
//! - `backup`: `kam backup` while three writers run, restored into a new database (SQLite: the
//!   file; PostgreSQL: `pg_restore`); every write acknowledged before the backup started is in
//!   it, and `kam serve` starts on it.
//! - `imports`: a salesperson posts an XLSX of 2,000,000 refused rows (0.75 MB) and one with a
//!   400 MB cell (0.4 MB); the server refuses both with a 4xx and its peak memory stays under
//!   300 MB (it is killed above 1.5 GB, so a regression cannot take the machine).
//! - `load`: 16 clients for `--seconds` (60) on SQLite and `--pg-seconds` (30) on PostgreSQL,
//!   each request one of ten kinds: reads as rep, manager and director (API and pages), writes
//!   (new accounts, edits of an account of the client's own, visits) as eight other reps, so the
//!   pages read do not grow with the writes: no error answer, and the server's memory at the end
//!   at most 1.25× what it was after a 10 s warm-up.
//!
//! PostgreSQL clusters are made under DIR with the binaries of `/usr/lib/postgresql/*/bin`, run as
//! the `postgres` user on a free port, and removed afterwards. Every `kam serve` started is
//! killed when its part ends; their process ids are listed in DIR/server.pids for the caller to
//! clean up after a timeout.
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use sqlx::{Connection, Row};

#[path = "shared/hostile.rs"]
mod hostile;

const PASSWORD: &str = "kam-demo";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
/// Where the process ids of started servers are appended (DIR/server.pids).
static PIDS: OnceLock<PathBuf> = OnceLock::new();

struct Opts {
    part: String,
    dir: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    cycles: usize,
    pg_cycles: usize,
    seconds: u64,
    pg_seconds: u64,
    seed: u64,
    pg: bool,
    /// The hostile files' sizes: refused rows, and the letters of the huge cell.
    rows: u64,
    bytes: u64,
}

const USAGE: &str = "usage: battery crash|disk|outage|backup|imports|load|files [--dir DIR] [--data-dir DIR] \
    [--cycles N] [--pg-cycles N] [--seconds S] [--pg-seconds S] [--seed N] [--no-pg] [--rows N] [--bytes N]";

fn opts() -> anyhow::Result<Opts> {
    let mut it = std::env::args().skip(1);
    let part = it.next().context(USAGE)?;
    ensure!(["crash", "disk", "outage", "backup", "imports", "load", "files"].contains(&part.as_str()), "{USAGE}");
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(1);
    let mut o = Opts {
        part,
        dir: None,
        data_dir: None,
        cycles: 20,
        pg_cycles: 3,
        seconds: 60,
        pg_seconds: 30,
        seed,
        pg: true,
        rows: 2_000_000,
        bytes: 400_000_000,
    };
    while let Some(k) = it.next() {
        let mut val = || it.next().with_context(|| format!("{k} needs a value"));
        match k.as_str() {
            "--dir" => o.dir = Some(val()?.into()),
            "--data-dir" => o.data_dir = Some(val()?.into()),
            "--cycles" => o.cycles = val()?.parse()?,
            "--pg-cycles" => o.pg_cycles = val()?.parse()?,
            "--seconds" => o.seconds = val()?.parse()?,
            "--pg-seconds" => o.pg_seconds = val()?.parse()?,
            "--seed" => o.seed = val()?.parse()?,
            "--no-pg" => o.pg = false,
            "--rows" => o.rows = val()?.parse()?,
            "--bytes" => o.bytes = val()?.parse()?,
            _ => bail!("{USAGE}"),
        }
    }
    Ok(o)
}

// One thread for the clients, as in `examples/load.rs`: the other core is the server's.
#[tokio::main(flavor = "current_thread")]
async fn main() {
    let o = match opts() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e:#}");
            std::process::exit(2);
        }
    };
    let tmp = tempfile::tempdir();
    let work = match (&o.dir, &tmp) {
        (Some(d), _) => d.clone(),
        (None, Ok(t)) => t.path().to_path_buf(),
        (None, Err(e)) => {
            eprintln!("no temporary directory: {e}");
            std::process::exit(2);
        }
    };
    let _ = std::fs::create_dir_all(&work);
    // PostgreSQL clusters live below it and run as `postgres`.
    let _ = open_to_all(&work);
    let _ = PIDS.set(work.join("server.pids"));
    println!("== {} (seed {}, work directory {})", o.part, o.seed, work.display());
    let t = Instant::now();
    let r = match o.part.as_str() {
        "crash" => crash(&o, &work).await,
        "disk" => disk(&o, &work).await,
        "outage" => outage(&work).await,
        "backup" => backup(&o, &work).await,
        "imports" => imports(&o, &work).await,
        "files" => hostile_files(&o, &work).map(|_| ()),
        _ => load(&o, &work).await,
    };
    match r {
        Ok(()) => println!("{}: passed in {:.1} s", o.part, t.elapsed().as_secs_f64()),
        Err(e) => {
            println!("{}: FAILED after {:.1} s: {e:#}", o.part, t.elapsed().as_secs_f64());
            server_log_tail(&work);
            std::process::exit(1);
        }
    }
}

fn open_to_all(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))
}

/// The errors and warnings the servers logged (they share DIR/server.log).
fn server_log_tail(work: &Path) {
    let log = std::fs::read_to_string(work.join("server.log")).unwrap_or_default();
    let lines: Vec<&str> =
        log.lines().filter(|l| l.contains("ERROR") || l.contains("WARN") || l.contains("panicked")).collect();
    if !lines.is_empty() {
        println!("-- the server's last errors and warnings ({}):", work.join("server.log").display());
        for l in &lines[lines.len().saturating_sub(15)..] {
            println!("   {}", &l[..l.len().min(400)]);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Processes: the `kam` binary, servers, PostgreSQL clusters.

/// The `kam` binary built beside this example (`target/<profile>/kam`).
fn kam_bin() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let dir = exe.parent().and_then(|p| p.parent()).context("no target directory")?;
    let bin = dir.join("kam");
    ensure!(bin.exists(), "{} is missing: build it with `cargo build --bin kam --example battery`", bin.display());
    Ok(bin)
}

fn kam(url: &str) -> anyhow::Result<Command> {
    let mut c = Command::new(kam_bin()?);
    c.env("KAM_DATABASE_URL", url).env("RUST_LOG", "warn").env("NO_COLOR", "1");
    Ok(c)
}

fn run(mut c: Command, what: &str) -> anyhow::Result<String> {
    let out = c.stdin(Stdio::null()).output().with_context(|| what.to_string())?;
    ensure!(
        out.status.success(),
        "{what} failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(18_480)
}

/// Loads the demo company (password `kam-demo`) into the database; on SQLite, folds the WAL
/// into the file afterwards, so a server starts from one file.
async fn demo(url: &str) -> anyhow::Result<()> {
    let t = Instant::now();
    let mut c = kam(url)?;
    c.args(["demo", "--password", PASSWORD]);
    run(c, "kam demo")?;
    if url.starts_with("sqlite:") {
        let mut db = connect(url).await?;
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&mut db).await?;
        db.close().await?;
    }
    println!("   demo company loaded in {:.1} s", t.elapsed().as_secs_f64());
    Ok(())
}

/// A fresh SQLite database holding the demo company at DIR/kam.db: its URL.
async fn sqlite_demo(dir: &Path) -> anyhow::Result<String> {
    std::fs::create_dir_all(dir)?;
    let url = format!("sqlite://{}", dir.join("kam.db").display());
    demo(&url).await?;
    Ok(url)
}

fn token(url: &str, user: &str) -> anyhow::Result<Auth> {
    let mut c = kam(url)?;
    c.args(["token", "create", user]);
    Ok(Auth::Bearer(run(c, "kam token create")?))
}

/// A running `kam serve`, killed when dropped.
struct Server {
    child: Child,
    base: String,
    port: u16,
}

impl Server {
    /// Starts `kam serve` on a free port with the data directory `data` and waits until
    /// `/healthz` answers 200 (at most 90 s). Its log goes to WORK/server.log.
    fn start(url: &str, data: &Path, work: &Path) -> anyhow::Result<Server> {
        let port = free_port();
        let log = std::fs::OpenOptions::new().create(true).append(true).open(work.join("server.log"))?;
        let mut c = kam(url)?;
        c.args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"])
            .arg(data)
            .env("KAM_SCHEDULER_SECS", "3600")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        let child = c.spawn().context("starting kam serve")?;
        if let Some(p) = PIDS.get() {
            use std::io::Write;
            if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(p) {
                let _ = writeln!(f, "{}", child.id());
            }
        }
        let mut s = Server { child, base: format!("http://127.0.0.1:{port}"), port };
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if let Ok(Some(st)) = s.child.try_wait() {
                bail!("kam serve exited: {st}");
            }
            if health(port) == Some(200) {
                return Ok(s);
            }
            ensure!(Instant::now() < deadline, "kam serve did not answer /healthz 200 within 90 s");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGKILL, and waits for the process to be gone.
    fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// A field of /proc/PID/status in MB (VmRSS: resident now; VmHWM: the peak).
    fn mem_mb(&self, field: &str) -> f64 {
        proc_mb(self.pid(), field)
    }

    /// Resets the peak (VmHWM) to the current resident size.
    fn reset_peak(&self) {
        let _ = std::fs::write(format!("/proc/{}/clear_refs", self.pid()), "5");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

fn proc_mb(pid: u32, field: &str) -> f64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// The status of `GET /healthz`, by a plain HTTP/1.1 request (no runtime needed).
fn health(port: u16) -> Option<u16> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").ok()?;
    let mut buf = [0u8; 12];
    s.read_exact(&mut buf).ok()?;
    std::str::from_utf8(&buf[9..12]).ok()?.parse().ok()
}

/// A PostgreSQL cluster of the part's own: initdb'd as `postgres` under DIR/data, trust
/// authentication, on a free port of 127.0.0.1; stopped and removed when dropped.
struct Pg {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
}

impl Pg {
    fn create(dir: &Path) -> anyhow::Result<Pg> {
        let t = Instant::now();
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .context("PostgreSQL binaries in /usr/lib/postgresql/*/bin")?
            .filter_map(|e| e.ok())
            .filter_map(|e| Some((e.file_name().to_str()?.parse::<u32>().ok()?, e.path().join("bin"))))
            .max()
            .map(|(_, p)| p)
            .context("no /usr/lib/postgresql/VERSION/bin")?;
        std::fs::create_dir_all(dir)?;
        open_to_all(dir)?;
        let st = Command::new("chown").args(["postgres:postgres"]).arg(dir).status()?;
        ensure!(st.success(), "chown postgres {}", dir.display());
        let pg = Pg { dir: dir.to_path_buf(), bin, port: free_port() };
        let mut c = pg.as_postgres("initdb");
        c.arg("-D").arg(pg.dir.join("data")).args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-locale"]);
        c.arg("--no-sync").stdout(Stdio::null());
        run(c, "initdb")?;
        let st = pg.start_command().status()?;
        ensure!(st.success(), "pg_ctl start: see {}", pg.dir.join("server.log").display());
        println!("   PostgreSQL cluster of its own on port {} ready in {:.1} s", pg.port, t.elapsed().as_secs_f64());
        Ok(pg)
    }

    fn as_postgres(&self, program: &str) -> Command {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(self.bin.join(program)).stdin(Stdio::null()).current_dir(&self.dir);
        c
    }

    fn start_command(&self) -> Command {
        let mut c = self.as_postgres("pg_ctl");
        c.arg("-D").arg(self.dir.join("data")).arg("-l").arg(self.dir.join("server.log")).args([
            "-w",
            "-o",
            &format!("-p {} -k /tmp -c listen_addresses=127.0.0.1", self.port),
            "start",
        ]);
        c.stdout(Stdio::null());
        c
    }

    fn stop_command(&self, mode: &str) -> Command {
        let mut c = self.as_postgres("pg_ctl");
        c.arg("-D").arg(self.dir.join("data")).args(["-w", "-m", mode, "stop"]).stdout(Stdio::null());
        c
    }

    fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    fn psql(&self, sql: &str) -> anyhow::Result<()> {
        let mut c = Command::new(self.bin.join("psql"));
        c.arg(self.url("postgres")).args(["-qc", sql]).stdout(Stdio::null());
        run(c, sql).map(|_| ())
    }

    /// A new, empty database: its URL.
    fn create_db(&self, name: &str) -> anyhow::Result<String> {
        self.psql(&format!("CREATE DATABASE {name}"))?;
        Ok(self.url(name))
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        let _ = self.stop_command("immediate").stderr(Stdio::null()).status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs a command on a blocking thread, so the clients' tasks go on meanwhile.
async fn status_of(mut c: Command) -> anyhow::Result<()> {
    let st = tokio::task::spawn_blocking(move || c.status()).await??;
    ensure!(st.success(), "exit status {st}");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The database, read directly.

async fn connect(url: &str) -> anyhow::Result<sqlx::AnyConnection> {
    sqlx::any::install_default_drivers();
    let url = if url.starts_with("sqlite:") && !url.contains('?') { format!("{url}?mode=rw") } else { url.to_string() };
    Ok(sqlx::AnyConnection::connect(&url).await?)
}

/// Accounts whose name starts with `prefix`: id → name.
async fn stored(url: &str, prefix: &str) -> anyhow::Result<HashMap<i64, String>> {
    let mut db = connect(url).await?;
    let rows = sqlx::query("SELECT id, name FROM accounts WHERE name LIKE $1")
        .bind(format!("{prefix}%"))
        .fetch_all(&mut db)
        .await?;
    db.close().await?;
    rows.iter().map(|r| Ok((r.try_get::<i64, _>("id")?, r.try_get::<String, _>("name")?))).collect()
}

/// The acknowledged writes missing from the database: none, or the first few.
async fn missing(url: &str, prefix: &str, acked: &[(i64, String)]) -> anyhow::Result<Vec<(i64, String)>> {
    let have = stored(url, prefix).await?;
    Ok(acked.iter().filter(|(id, name)| have.get(id) != Some(name)).take(5).cloned().collect())
}

async fn integrity(url: &str) -> anyhow::Result<String> {
    let mut db = connect(url).await?;
    let rows = sqlx::query("PRAGMA integrity_check").fetch_all(&mut db).await?;
    db.close().await?;
    Ok(rows.iter().filter_map(|r| r.try_get::<String, _>(0).ok()).collect::<Vec<_>>().join("; "))
}

// ---------------------------------------------------------------------------------------------
// HTTP.

#[derive(Clone)]
enum Auth {
    Bearer(String),
    Cookie(String),
}

fn client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(64)
        .timeout(Duration::from_secs(30))
        .build()?)
}

fn req(c: &reqwest::Client, m: reqwest::Method, url: String, a: &Auth) -> reqwest::RequestBuilder {
    let r = c.request(m, url);
    match a {
        Auth::Bearer(t) => r.bearer_auth(t),
        Auth::Cookie(k) => r.header("Cookie", k.clone()),
    }
}

/// What the server answered: status, content type, `Retry-After`, the body's first 64 KB, the
/// body's whole length, and how long it took.
#[derive(Clone, Debug)]
struct Answer {
    status: u16,
    ctype: String,
    retry_after: Option<String>,
    location: String,
    body: String,
    len: usize,
    ms: f64,
}

impl Answer {
    fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
    /// The API error's `code`, if the body is one.
    fn code(&self) -> String {
        serde_json::from_str::<Value>(&self.body)
            .ok()
            .and_then(|v| v["error"]["code"].as_str().map(str::to_string))
            .unwrap_or_default()
    }
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
    fn html(&self) -> bool {
        self.ctype.starts_with("text/html")
    }
    fn brief(&self) -> String {
        let b: String = self.body.chars().take(200).collect();
        format!("{} {} in {:.0} ms: {}", self.status, self.ctype, self.ms, b.replace('\n', " "))
    }
}

async fn send(r: reqwest::RequestBuilder) -> Result<Answer, String> {
    let t = Instant::now();
    let why = |e: reqwest::Error| {
        if e.is_timeout() {
            format!("no answer within the client's timeout ({:.0} s)", t.elapsed().as_secs_f64())
        } else {
            format!("{e}")
        }
    };
    let mut res = r.send().await.map_err(why)?;
    let h = |k: reqwest::header::HeaderName| res.headers().get(k).and_then(|v| v.to_str().ok()).map(str::to_string);
    let (ctype, retry_after, location) = (
        h(reqwest::header::CONTENT_TYPE).unwrap_or_default(),
        h(reqwest::header::RETRY_AFTER),
        h(reqwest::header::LOCATION).unwrap_or_default(),
    );
    let status = res.status().as_u16();
    let mut body = Vec::new();
    let mut len = 0;
    // Kept up to 64 KB; the rest is counted only (an error report may be large).
    while let Some(chunk) = res.chunk().await.map_err(why)? {
        len += chunk.len();
        if body.len() < 65_536 {
            body.extend_from_slice(&chunk[..chunk.len().min(65_536 - body.len())]);
        }
    }
    let body = String::from_utf8_lossy(&body).into_owned();
    Ok(Answer { status, ctype, retry_after, location, body, len, ms: t.elapsed().as_secs_f64() * 1000.0 })
}

/// Signs in through the form: the session cookie.
async fn login(c: &reqwest::Client, base: &str, user: &str) -> anyhow::Result<Auth> {
    let page = c.get(format!("{base}/login")).send().await?;
    let cookies: Vec<String> = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_string))
        .collect();
    let html = page.text().await?;
    let csrf = hidden(&html, "_csrf").context("the sign-in form's CSRF token")?;
    let res = c
        .post(format!("{base}/login"))
        .header("Cookie", cookies.join("; "))
        .form(&[("_csrf", csrf.as_str()), ("username", user), ("password", PASSWORD)])
        .send()
        .await?;
    let session = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("kam_session="))
        .and_then(|v| v.split(';').next())
        .context("no session cookie after signing in")?
        .to_string();
    Ok(Auth::Cookie(session))
}

/// The value of a form's hidden input.
fn hidden(html: &str, name: &str) -> Option<String> {
    let v = html.split(&format!("name=\"{name}\" value=\"")).nth(1)?.split('"').next()?;
    Some(v.to_string())
}

/// The new-account form of a signed-in user: its `_csrf` and `_once` fields.
async fn account_form(c: &reqwest::Client, base: &str, who: &Auth) -> anyhow::Result<(String, String)> {
    let mut path = "/accounts/new".to_string();
    for _ in 0..3 {
        let a = send(req(c, reqwest::Method::GET, format!("{base}{path}"), who)).await.map_err(anyhow::Error::msg)?;
        if a.status == 200 {
            let csrf = hidden(&a.body, "_csrf").context("the form's _csrf")?;
            return Ok((csrf, hidden(&a.body, "_once").unwrap_or_default()));
        }
        ensure!((300..400).contains(&a.status) && !a.location.is_empty(), "the new-account form: {}", a.brief());
        path = a.location.clone();
    }
    bail!("the new-account form redirected too often")
}

/// `POST /api/v1/accounts` as `who`, with an industry and the given (unique) name.
fn create_account(c: &reqwest::Client, base: &str, who: &Auth, name: &str) -> reqwest::RequestBuilder {
    req(c, reqwest::Method::POST, format!("{base}/api/v1/accounts"), who)
        .json(&json!({"name": name, "industry": "enterprise"}))
}

/// Writers that create accounts named `PREFIX-wK-NNNNNN` until told to stop or the server stops
/// answering; every acknowledged (2xx) write is kept with its id. Any other answer is a failure.
struct Writers {
    acked: Arc<Mutex<Vec<(i64, String)>>>,
    refused: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Writers {
    fn start(c: &reqwest::Client, base: &str, who: &[Auth], prefix: &str) -> Writers {
        let w = Writers { acked: Arc::default(), refused: Arc::default(), stop: Arc::default(), tasks: vec![] };
        let mut tasks = vec![];
        for (k, auth) in who.iter().enumerate() {
            let (c, base, auth, prefix) = (c.clone(), base.to_string(), auth.clone(), prefix.to_string());
            let (acked, refused, stop) = (w.acked.clone(), w.refused.clone(), w.stop.clone());
            tasks.push(tokio::spawn(async move {
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    let name = format!("{prefix}-w{k}-{i:06}");
                    i += 1;
                    match send(create_account(&c, &base, &auth, &name)).await {
                        Ok(a) if a.ok() => match a.json()["id"].as_i64() {
                            Some(id) => acked.lock().unwrap_or_else(|e| e.into_inner()).push((id, name)),
                            None => refused.lock().unwrap_or_else(|e| e.into_inner()).push(a.brief()),
                        },
                        Ok(a) => refused.lock().unwrap_or_else(|e| e.into_inner()).push(a.brief()),
                        Err(_) => break,
                    }
                }
            }));
        }
        Writers { tasks, ..w }
    }

    fn acked(&self) -> Vec<(i64, String)> {
        self.acked.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    async fn finish(mut self) -> (Vec<(i64, String)>, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        for t in std::mem::take(&mut self.tasks) {
            let _ = t.await;
        }
        let refused = self.refused.lock().unwrap_or_else(|e| e.into_inner()).clone();
        (self.acked(), refused)
    }
}

fn run_id(rng: &mut impl Rng) -> String {
    format!("可靠性{:05}", rng.gen_range(0..100_000))
}

/// Collects the failed checks of a part, so that one run reports all of them.
#[derive(Default)]
struct Checks(Vec<String>);

impl Checks {
    fn check(&mut self, ok: bool, what: impl std::fmt::Display) {
        println!("   {} {what}", if ok { "ok  " } else { "FAIL" });
        if !ok {
            self.0.push(what.to_string());
        }
    }
    fn done(self) -> anyhow::Result<()> {
        ensure!(self.0.is_empty(), "{} check(s) failed:\n  - {}", self.0.len(), self.0.join("\n  - "));
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// 1. kill -9 under concurrent writers.

async fn crash(o: &Opts, work: &Path) -> anyhow::Result<()> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(o.seed);
    let url = sqlite_demo(&work.join("sqlite")).await?;
    crash_cycles("SQLite", &url, &work.join("sqlite"), work, o.cycles, &mut rng).await?;
    if o.pg && o.pg_cycles > 0 {
        let pg = Pg::create(&work.join("pg-crash"))?;
        let url = pg.create_db("kam")?;
        demo(&url).await?;
        std::fs::create_dir_all(work.join("pg-data"))?;
        crash_cycles("PostgreSQL", &url, &work.join("pg-data"), work, o.pg_cycles, &mut rng).await?;
    }
    Ok(())
}

async fn crash_cycles(
    name: &str,
    url: &str,
    data: &Path,
    work: &Path,
    cycles: usize,
    rng: &mut impl Rng,
) -> anyhow::Result<()> {
    let sqlite = url.starts_with("sqlite:");
    let who = [token(url, "rep")?, token(url, "rep2")?, token(url, "rep3")?];
    let director = token(url, "director")?;
    let c = client()?;
    let prefix = run_id(rng);
    let mut acked: Vec<(i64, String)> = vec![];
    let t = Instant::now();
    for cycle in 0..cycles {
        let mut server = Server::start(url, data, work)?;
        let writers = Writers::start(&c, &server.base, &who, &format!("{prefix}-c{cycle:03}"));
        let after = Duration::from_millis(rng.gen_range(300..1_500));
        tokio::time::sleep(after).await;
        server.kill9();
        let (mine, refused) = writers.finish().await;
        ensure!(refused.is_empty(), "{name}, cycle {cycle}: writes refused before the kill: {refused:?}");
        acked.extend(mine.iter().cloned());
        let lost = missing(url, &prefix, &acked).await?;
        ensure!(
            lost.is_empty(),
            "{name}, cycle {cycle}: acknowledged writes missing after kill -9 (of {}): {lost:?}",
            acked.len()
        );
        let check = if sqlite { integrity(url).await? } else { "ok".into() };
        ensure!(check == "ok", "{name}, cycle {cycle}: PRAGMA integrity_check: {check}");
        println!(
            "   {name} cycle {:>2}: killed after {:>4} ms, {:>4} writes acknowledged ({} in all), all there{}",
            cycle + 1,
            after.as_millis(),
            mine.len(),
            acked.len(),
            if sqlite { ", integrity_check ok" } else { "" }
        );
    }
    // The server starts on what the last kill left, and answers with the last write.
    let server = Server::start(url, data, work)?;
    if let Some((id, n)) = acked.last() {
        let a = send(req(&c, reqwest::Method::GET, format!("{}/api/v1/accounts/{id}", server.base), &director))
            .await
            .map_err(anyhow::Error::msg)?;
        ensure!(a.ok() && a.json()["name"] == json!(n), "{name}: the last acknowledged account: {}", a.brief());
    }
    drop(server);
    println!(
        "   {name}: {cycles} kill -9 cycles in {:.1} s, {} acknowledged writes, none lost",
        t.elapsed().as_secs_f64(),
        acked.len()
    );
    ensure!(!acked.is_empty(), "{name}: no write was acknowledged at all");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// 2. A full disk.

async fn disk(o: &Opts, work: &Path) -> anyhow::Result<()> {
    let data = o.data_dir.clone().context("--data-dir: the mount point of a small filesystem made for the test")?;
    // Never fill a real disk: the filesystem must be small.
    let df = run(
        {
            let mut c = Command::new("df");
            c.args(["-B1", "--output=size"]).arg(&data);
            c
        },
        "df",
    )?;
    let size: u64 = df.lines().last().unwrap_or("").trim().parse().context("df's size")?;
    ensure!(
        size <= 256 << 20,
        "{} is on a filesystem of {size} bytes; the disk part needs a small one",
        data.display()
    );
    println!("   data directory {} on a filesystem of {} MB", data.display(), size >> 20);
    let url = sqlite_demo(&data).await?;
    let rep = token(&url, "rep")?;
    let server = Server::start(&url, &data, work)?;
    let c = client()?;
    let base = server.base.clone();
    let page = login(&c, &base, "rep").await?;
    let (csrf, once) = account_form(&c, &base, &page).await?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(o.seed);
    let prefix = run_id(&mut rng);
    let first = send(create_account(&c, &base, &rep, &format!("{prefix}-doc"))).await.map_err(anyhow::Error::msg)?;
    let account =
        first.json()["id"].as_i64().with_context(|| format!("an account for the upload: {}", first.brief()))?;
    let mut checks = Checks::default();

    // Fill the filesystem: a filler file until the kernel refuses, then API writes until the
    // database cannot grow either.
    let filler = data.join("filler");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&filler)?;
        let chunk = vec![0x5a_u8; 1 << 20];
        for size in [1 << 20, 4096, 512] {
            while f.write_all(&chunk[..size]).and_then(|_| f.flush()).is_ok() {}
        }
        let _ = f.sync_all();
    }
    println!("   filler file: {:.1} MB", std::fs::metadata(&filler)?.len() as f64 / 1048576.0);
    let t = Instant::now();
    let mut written = 0;
    let refused = loop {
        let a = send(create_account(&c, &base, &rep, &format!("{prefix}-{written:06}")))
            .await
            .map_err(anyhow::Error::msg)?;
        if !a.ok() {
            break a;
        }
        written += 1;
        ensure!(t.elapsed() < Duration::from_secs(30), "{written} writes in 30 s and the disk still not full");
    };
    println!("   {written} more accounts written before the disk was full");
    checks.check(
        refused.status == 507 && refused.code() == "storage_full",
        format!("API write on a full disk: 507 storage_full (got {})", refused.brief()),
    );
    let again = send(create_account(&c, &base, &rep, &format!("{prefix}-again"))).await.map_err(anyhow::Error::msg)?;
    checks.check(
        again.status == 507 && again.code() == "storage_full",
        format!("the next API write: 507 storage_full (got {})", again.brief()),
    );
    let ui_form = |name: String| {
        req(&c, reqwest::Method::POST, format!("{base}/accounts/new"), &page).form(&[
            ("_csrf", csrf.clone()),
            ("_once", once.clone()),
            ("name", name),
            ("industry", "enterprise".to_string()),
        ])
    };
    let ui = send(ui_form(format!("{prefix}-ui"))).await.map_err(anyhow::Error::msg)?;
    checks
        .check(ui.status == 507 && ui.html(), format!("UI form on a full disk: a 507 HTML page (got {})", ui.brief()));
    let doc = send(upload(&c, &base, &rep, account, &mut rng)).await.map_err(anyhow::Error::msg)?;
    checks.check(
        doc.status == 507 && doc.code() == "storage_full",
        format!("document upload on a full disk: 507 storage_full (got {})", doc.brief()),
    );
    let parts = part_files(&data);
    checks.check(parts.is_empty(), format!("no .part file left in the data directory (found {parts:?})"));
    let h = send(c.get(format!("{base}/healthz"))).await.map_err(anyhow::Error::msg)?;
    checks.check(h.status != 200, format!("/healthz reports the full disk (got {})", h.brief()));

    // Space comes back: writes succeed again, without a restart.
    std::fs::remove_file(&filler)?;
    let freed = Instant::now();
    let mut tries = 0;
    let mut last = None;
    while freed.elapsed() < Duration::from_secs(10) {
        tries += 1;
        let a = send(create_account(&c, &base, &rep, &format!("{prefix}-back-{tries}")))
            .await
            .map_err(anyhow::Error::msg)?;
        let ok = a.ok();
        last = Some(a);
        if ok {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let back = freed.elapsed();
    let last = last.context("no write after freeing space")?;
    checks.check(
        last.ok() && back <= Duration::from_secs(5),
        format!(
            "an API write succeeds after space is freed, within 5 s (attempt {tries}, {:.2} s: {})",
            back.as_secs_f64(),
            last.brief()
        ),
    );
    let ui = send(ui_form(format!("{prefix}-ui"))).await.map_err(anyhow::Error::msg)?;
    checks.check(ui.status == 303, format!("the UI form saves again: 303 (got {})", ui.brief()));
    let doc = send(upload(&c, &base, &rep, account, &mut rng)).await.map_err(anyhow::Error::msg)?;
    checks.check(doc.status == 201, format!("a document uploads again: 201 (got {})", doc.brief()));
    let mut healthy = None;
    while freed.elapsed() < Duration::from_secs(10) {
        if let Ok(h) = send(c.get(format!("{base}/healthz"))).await {
            if h.status == 200 {
                healthy = Some(freed.elapsed());
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    checks.check(
        healthy.is_some_and(|d| d <= Duration::from_secs(5)),
        format!("/healthz 200 again within 5 s of freeing space ({healthy:.2?})"),
    );
    let mut server = server;
    checks.check(server.alive(), format!("the same server process ({}) throughout, never restarted", server.pid()));
    checks.done()
}

/// A document upload of 256 KB of random bytes (multipart, written by hand).
fn upload(c: &reqwest::Client, base: &str, who: &Auth, account: i64, rng: &mut impl Rng) -> reqwest::RequestBuilder {
    let boundary = "kam-battery-5f1c2d";
    let mut bytes = vec![0u8; 256 * 1024];
    rng.fill(&mut bytes[..]);
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n满盘测试\r\n--{boundary}\r\n\
         Content-Disposition: form-data; name=\"file\"; filename=\"fill.bin\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend(bytes);
    body.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
    req(c, reqwest::Method::POST, format!("{base}/api/v1/accounts/{account}/documents"), who)
        .header("Content-Type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
}

/// Files named `*.part` under `dir`.
fn part_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "part") {
                found.push(p);
            }
        }
    }
    found
}

// ---------------------------------------------------------------------------------------------
// 3. PostgreSQL stopped and started under load.

struct Logged {
    start: Instant,
    what: &'static str,
    answer: Result<Answer, String>,
}

/// A 503 as an outage must answer: `Retry-After` and `database_unavailable`, within 5 s.
fn unavailable(a: &Answer) -> bool {
    a.status == 503 && a.retry_after.is_some() && a.code() == "database_unavailable" && a.ms <= 5_000.0
}

async fn outage(work: &Path) -> anyhow::Result<()> {
    let pg = Pg::create(&work.join("pg-outage"))?;
    let url = pg.create_db("kam")?;
    demo(&url).await?;
    let rep = token(&url, "rep")?;
    let data = work.join("data");
    std::fs::create_dir_all(&data)?;
    let mut server = Server::start(&url, &data, work)?;
    let c = client()?;
    let base = server.base.clone();
    let page = login(&c, &base, "rep").await?;
    let prefix = run_id(&mut rand::thread_rng());
    let mut checks = Checks::default();

    // The load: two writers and a reader, every request logged.
    let log: Arc<Mutex<Vec<Logged>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let acked: Arc<Mutex<Vec<(i64, String)>>> = Arc::default();
    let mut tasks = vec![];
    for k in 0..3 {
        let (c, base, rep, prefix) = (c.clone(), base.clone(), rep.clone(), prefix.clone());
        let (log, stop, acked) = (log.clone(), stop.clone(), acked.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let start = Instant::now();
                let (what, answer) = if k < 2 {
                    let name = format!("{prefix}-w{k}-{i:06}");
                    let a = send(create_account(&c, &base, &rep, &name).timeout(Duration::from_secs(15))).await;
                    if let Some(id) = a.as_ref().ok().filter(|a| a.ok()).and_then(|a| a.json()["id"].as_i64()) {
                        acked.lock().unwrap_or_else(|e| e.into_inner()).push((id, name));
                    }
                    ("write", a)
                } else {
                    let r = req(&c, reqwest::Method::GET, format!("{base}/api/v1/accounts?limit=20"), &rep);
                    ("read", send(r.timeout(Duration::from_secs(15))).await)
                };
                let failed = answer.as_ref().map(|a| !a.ok()).unwrap_or(true);
                log.lock().unwrap_or_else(|e| e.into_inner()).push(Logged { start, what, answer });
                i += 1;
                // A light load: pauses between requests, longer while refused.
                tokio::time::sleep(Duration::from_millis(if failed { 100 } else { 10 })).await;
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let stopping = Instant::now();
    status_of(pg.stop_command("fast")).await.context("pg_ctl stop")?;
    let stopped = Instant::now();
    println!("   PostgreSQL stopped (pg_ctl stop -m fast, {:.2} s)", (stopped - stopping).as_secs_f64());
    tokio::time::sleep(Duration::from_secs(1)).await;
    let h = send(c.get(format!("{base}/healthz"))).await.map_err(anyhow::Error::msg)?;
    checks.check(h.status == 503, format!("/healthz during the outage: 503 (got {})", h.brief()));
    let ui =
        send(req(&c, reqwest::Method::GET, format!("{base}/accounts"), &page)).await.map_err(anyhow::Error::msg)?;
    checks.check(
        ui.status == 503 && ui.html() && ui.ms <= 5_000.0,
        format!("a signed-in page during the outage: a 503 HTML page within 5 s (got {})", ui.brief()),
    );
    let api =
        send(req(&c, reqwest::Method::GET, format!("{base}/api/v1/home"), &rep)).await.map_err(anyhow::Error::msg)?;
    checks.check(
        unavailable(&api),
        format!("GET /api/v1/home during the outage: 503 database_unavailable with Retry-After (got {api:?})"),
    );
    tokio::time::sleep_until((stopped + Duration::from_secs(8)).into()).await;
    let starting = Instant::now();
    status_of(pg.start_command()).await.context("pg_ctl start")?;
    let started = Instant::now();
    println!("   PostgreSQL started again (pg_ctl start -w, {:.2} s)", (started - starting).as_secs_f64());
    let mut recovered = None;
    while started.elapsed() < Duration::from_secs(20) {
        let r = req(&c, reqwest::Method::GET, format!("{base}/api/v1/accounts?limit=5"), &rep);
        if send(r).await.is_ok_and(|a| a.ok()) {
            recovered = Some(Instant::now());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let recovery = recovered.map(|r| r - started);
    checks.check(
        recovery.is_some_and(|d| d <= Duration::from_secs(5)),
        format!("requests succeed again within 5 s of PostgreSQL's start ({recovery:.2?})"),
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    let h = send(c.get(format!("{base}/healthz"))).await.map_err(anyhow::Error::msg)?;
    checks.check(h.status == 200, format!("/healthz after the outage: 200 (got {})", h.brief()));
    let ui =
        send(req(&c, reqwest::Method::GET, format!("{base}/accounts"), &page)).await.map_err(anyhow::Error::msg)?;
    checks.check(ui.status == 200, format!("the page after the outage: 200 (got {})", ui.brief()));

    // Every request of the load, by when it was sent.
    let settled = recovered.unwrap_or(started) + Duration::from_secs(1);
    let log = std::mem::take(&mut *log.lock().unwrap_or_else(|e| e.into_inner()));
    let (mut before, mut during, mut after, mut slowest) = (0, 0, 0, 0.0_f64);
    let mut bad = vec![];
    for l in &log {
        let a = match &l.answer {
            Ok(a) => a,
            Err(e) => {
                bad.push(format!("{}: no answer: {e}", l.what));
                continue;
            }
        };
        let answered = l.start + Duration::from_secs_f64(a.ms / 1000.0);
        let fine = if l.start < stopped {
            // Sent before PostgreSQL was down: served, or refused as an outage.
            before += 1;
            a.ok() || unavailable(a)
        } else if l.start < starting {
            // Sent while it was down: refused as an outage (or served once it was back), in 5 s.
            during += 1;
            slowest = slowest.max(a.ms);
            unavailable(a) || (a.ok() && answered >= starting && a.ms <= 5_000.0)
        } else if l.start < settled {
            after += 1;
            a.ok() || unavailable(a)
        } else {
            after += 1;
            a.ok()
        };
        if !fine {
            let at = l.start.saturating_duration_since(stopping).as_secs_f64();
            bad.push(format!("a {} sent {at:.1} s after the stop began: {}", l.what, a.brief()));
        }
    }
    println!(
        "   the load: {before} requests before the stop, {during} during the outage (slowest answer {slowest:.0} ms), {after} after"
    );
    checks.check(
        bad.is_empty(),
        format!(
            "every request during the outage answered 503 database_unavailable with Retry-After within 5 s, all others 2xx ({} did not{})",
            bad.len(),
            bad.first().map(|b| format!("; the first: {b}")).unwrap_or_default()
        ),
    );
    checks.check(during > 0, format!("requests were sent during the outage ({during})"));
    let acked = acked.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let lost = missing(&url, &prefix, &acked).await?;
    checks.check(lost.is_empty(), format!("all {} acknowledged writes are there (missing: {lost:?})", acked.len()));
    checks.check(server.alive(), format!("the same server process ({}) throughout, never restarted", server.pid()));
    drop(server);
    checks.done()
}

// ---------------------------------------------------------------------------------------------
// 4. A backup under load, restored.

async fn backup(o: &Opts, work: &Path) -> anyhow::Result<()> {
    let mut checks = Checks::default();
    let mut rng = rand::rngs::StdRng::seed_from_u64(o.seed);
    {
        let url = sqlite_demo(&work.join("sqlite")).await?;
        let file = work.join("backup.db");
        let restored = work.join("restored");
        std::fs::create_dir_all(&restored)?;
        // `kam restore`: the file checked, put in place, migrated; what it holds printed.
        let restore = |file: &Path| -> anyhow::Result<String> {
            let url = format!("sqlite://{}", restored.join("kam.db").display());
            let mut c = kam(&url)?;
            c.arg("restore").arg(file).arg("--data-dir").arg(restored.join("data"));
            let said = run(c, "kam restore")?;
            ensure!(said.contains("restored: users"), "kam restore said: {said}");
            Ok(url)
        };
        backup_under_load("SQLite", &url, work, &file, &restored, restore, &mut rng, &mut checks).await?;
    }
    if o.pg {
        let pg = Pg::create(&work.join("pg-backup"))?;
        let url = pg.create_db("kam")?;
        demo(&url).await?;
        let file = work.join("backup.dump");
        let data = work.join("pg-data");
        std::fs::create_dir_all(&data)?;
        let restore = |file: &Path| -> anyhow::Result<String> {
            let url = pg.create_db("kam_restored")?;
            let mut c = kam(&url)?;
            c.arg("restore").arg(file).arg("--data-dir").arg(data.join("restored"));
            let said = run(c, "kam restore")?;
            ensure!(said.contains("restored: users"), "kam restore said: {said}");
            Ok(url)
        };
        backup_under_load("PostgreSQL", &url, work, &file, &data, restore, &mut rng, &mut checks).await?;
    }
    checks.done()
}

#[allow(clippy::too_many_arguments)]
async fn backup_under_load(
    name: &str,
    url: &str,
    work: &Path,
    file: &Path,
    data: &Path,
    restore: impl Fn(&Path) -> anyhow::Result<String>,
    rng: &mut impl Rng,
    checks: &mut Checks,
) -> anyhow::Result<()> {
    let who = [token(url, "rep")?, token(url, "rep2")?, token(url, "rep3")?];
    let server = Server::start(url, data, work)?;
    let c = client()?;
    let prefix = run_id(rng);
    let writers = Writers::start(&c, &server.base, &who, &prefix);
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let before = writers.acked();
    let t = Instant::now();
    let mut cmd = kam(url)?;
    cmd.arg("backup").arg(file).stdout(Stdio::null());
    status_of(cmd).await.context("kam backup")?;
    let took = t.elapsed();
    let during = writers.acked().len() - before.len();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (all, refused) = writers.finish().await;
    drop(server);
    ensure!(refused.is_empty(), "{name}: writes refused during the backup: {refused:?}");
    let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    println!(
        "   {name}: `kam backup` took {:.2} s ({:.1} MB) while {during} writes were acknowledged; {} before it, {} in all",
        took.as_secs_f64(),
        size as f64 / 1048576.0,
        before.len(),
        all.len()
    );
    let t = Instant::now();
    let restored = restore(file)?;
    let restore_took = t.elapsed();
    if restored.starts_with("sqlite:") {
        let check = integrity(&restored).await?;
        checks.check(check == "ok", format!("{name}: the restored copy passes integrity_check ({check})"));
    }
    let lost = missing(&restored, &prefix, &before).await?;
    checks.check(
        lost.is_empty() && !before.is_empty(),
        format!(
            "{name}: all {} writes acknowledged before the backup started are in the restored copy (missing: {lost:?})",
            before.len()
        ),
    );
    let t = Instant::now();
    let server = Server::start(&restored, data, work);
    checks.check(
        server.is_ok(),
        format!(
            "{name}: restored in {:.2} s; `kam serve` answers /healthz on it ({:.2} s{})",
            restore_took.as_secs_f64(),
            t.elapsed().as_secs_f64(),
            server.as_ref().err().map(|e| format!(": {e:#}")).unwrap_or_default()
        ),
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// 5. Oversized imports.

/// The hostile files, written into DIR: what they are, their file names and bytes.
fn hostile_files(o: &Opts, work: &Path) -> anyhow::Result<Vec<(String, &'static str, Vec<u8>)>> {
    let t = Instant::now();
    let (rows, mb) = (o.rows, o.bytes as f64 / 1e6);
    // 2000000 as 2,000,000.
    let digits = rows.to_string();
    let rows_text: String = digits
        .chars()
        .enumerate()
        .flat_map(|(i, c)| (i > 0 && (digits.len() - i) % 3 == 0).then_some(',').into_iter().chain([c]))
        .collect();
    let files = vec![
        (format!("{rows_text} refused rows"), "many-bad-rows.xlsx", hostile::xlsx_many_bad_rows(rows)),
        (
            format!("a shared string of {mb:.0} MB"),
            "huge-shared-string.xlsx",
            hostile::xlsx_one_huge_shared_string(o.bytes),
        ),
        (format!("an inline cell of {mb:.0} MB"), "huge-inline-cell.xlsx", hostile::xlsx_one_huge_cell(o.bytes)),
    ];
    for (what, file, bytes) in &files {
        std::fs::write(work.join(file), bytes)?;
        println!(
            "   {what}: {}, {:.2} MB (unpacked {:.0} MB)",
            work.join(file).display(),
            bytes.len() as f64 / 1048576.0,
            hostile::unpacked_size(bytes) as f64 / 1048576.0
        );
    }
    println!("   files made in {:.2} s", t.elapsed().as_secs_f64());
    Ok(files)
}

async fn imports(o: &Opts, work: &Path) -> anyhow::Result<()> {
    let url = sqlite_demo(&work.join("sqlite")).await?;
    let rep = token(&url, "rep")?;
    let data = work.join("sqlite");
    let mut server = Server::start(&url, &data, work)?;
    let c = client()?;
    let mut checks = Checks::default();
    for (what, _, bytes) in hostile_files(o, work)? {
        println!("   {what}:");
        server.reset_peak();
        let before = server.mem_mb("VmRSS:");
        let watch = Watchdog::start(server.pid(), 1_500.0);
        let r = req(&c, reqwest::Method::POST, format!("{}/api/v1/imports/accounts", server.base), &rep)
            .header("Content-Type", XLSX)
            .timeout(Duration::from_secs(30))
            .body(bytes);
        let a = send(r).await;
        let killed = watch.stop();
        let peak = server.mem_mb("VmHWM:").max(killed.1);
        match &a {
            Ok(a) => {
                println!("     answer: {} in {:.2} s, {} bytes", a.status, a.ms / 1000.0, a.len);
                checks.check((400..500).contains(&a.status), format!("{what}: refused with a 4xx (got {})", a.brief()));
                checks.check(a.len <= 5 << 20, format!("{what}: an answer under 5 MB ({} bytes)", a.len));
            }
            Err(e) => checks.check(false, format!("{what}: an answer (got none: {e})")),
        }
        checks.check(
            peak <= 300.0 && !killed.0,
            format!(
                "{what}: server memory under 300 MB (peak {peak:.0} MB, {before:.0} MB before{})",
                if killed.0 { "; killed at 1.5 GB" } else { "" }
            ),
        );
        if killed.0 {
            // Killed by the watchdog: already counted above.
        } else if !server.alive() {
            checks.check(false, format!("{what}: the server is still running"));
        } else {
            checks.check(health(server.port) == Some(200), format!("{what}: /healthz 200 afterwards"));
        }
        if killed.0 || a.is_err() || !server.alive() {
            // The next file gets a server of its own, not one still busy with (or dead of) this one.
            server.kill9();
            server = Server::start(&url, &data, work)?;
        }
    }
    checks.done()
}

/// Samples a process's resident memory every 20 ms; kills it (SIGKILL) above `kill_mb`.
struct Watchdog {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<(bool, f64)>,
}

impl Watchdog {
    fn start(pid: u32, kill_mb: f64) -> Watchdog {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut peak = 0.0_f64;
            while !s.load(Ordering::Relaxed) {
                let rss = proc_mb(pid, "VmRSS:");
                peak = peak.max(rss);
                if rss > kill_mb {
                    let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
                    return (true, peak);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            (false, peak)
        });
        Watchdog { stop, thread }
    }

    /// Whether it killed the process, and the highest resident memory it saw (MB).
    fn stop(self) -> (bool, f64) {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or((false, 0.0))
    }
}

// ---------------------------------------------------------------------------------------------
// 6. Load: 16 clients, no error, memory not growing.

async fn load(o: &Opts, work: &Path) -> anyhow::Result<()> {
    let mut checks = Checks::default();
    let url = sqlite_demo(&work.join("sqlite")).await?;
    load_one("SQLite", &url, &work.join("sqlite"), work, o.seconds, &mut checks).await?;
    if o.pg {
        let pg = Pg::create(&work.join("pg-load"))?;
        let url = pg.create_db("kam")?;
        demo(&url).await?;
        let data = work.join("pg-data");
        std::fs::create_dir_all(&data)?;
        load_one("PostgreSQL", &url, &data, work, o.pg_seconds, &mut checks).await?;
    }
    checks.done()
}

const CLIENTS: usize = 16;
/// The requests of the load, in the order of its `match`.
const KINDS: [&str; 10] = [
    "accounts API",
    "home API",
    "opportunities API",
    "funnel API",
    "account API",
    "account page",
    "manager's home page",
    "opportunities page",
    "new account or edit",
    "new visit",
];
const WARM_UP: Duration = Duration::from_secs(10);

async fn load_one(
    name: &str,
    url: &str,
    data: &Path,
    work: &Path,
    secs: u64,
    checks: &mut Checks,
) -> anyhow::Result<()> {
    let tokens: HashMap<&str, Auth> =
        [("rep", token(url, "rep")?), ("manager", token(url, "manager")?), ("director", token(url, "director")?)]
            .into_iter()
            .collect();
    let server = Server::start(url, data, work)?;
    let c = client()?;
    let base = server.base.clone();
    let pages: HashMap<&str, Auth> =
        [("rep", login(&c, &base, "rep").await?), ("manager", login(&c, &base, "manager").await?)]
            .into_iter()
            .collect();
    let list = send(req(&c, reqwest::Method::GET, format!("{base}/api/v1/accounts?limit=100"), &tokens["rep"]))
        .await
        .map_err(anyhow::Error::msg)?;
    let accounts: Vec<i64> = list.json()["items"]
        .as_array()
        .map(|v| v.iter().filter_map(|a| a["id"].as_i64()).collect())
        .unwrap_or_default();
    ensure!(!accounts.is_empty(), "{name}: the rep sees no account: {}", list.brief());
    let prefix = run_id(&mut rand::thread_rng());
    // The writers: eight reps other than the one whose pages are read (so that the reads do not
    // grow with the writes), two clients each. Each client edits an account of its own (taking
    // the version from each answer) and records visits on its rep's accounts.
    let mut writers = vec![];
    for k in 0..CLIENTS {
        let user = format!("rep{}", k % 8 + 2);
        let who = token(url, &user)?;
        let own =
            send(create_account(&c, &base, &who, &format!("{prefix}-own-{k:02}"))).await.map_err(anyhow::Error::msg)?;
        let (id, version) = (own.json()["id"].as_i64(), own.json()["version"].as_i64());
        let (Some(id), Some(version)) = (id, version) else { bail!("{name}: {user}'s account: {}", own.brief()) };
        let list = send(req(&c, reqwest::Method::GET, format!("{base}/api/v1/accounts?limit=50"), &who))
            .await
            .map_err(anyhow::Error::msg)?;
        let theirs: Vec<i64> = list.json()["items"]
            .as_array()
            .map(|v| v.iter().filter_map(|a| a["id"].as_i64()).collect())
            .unwrap_or_default();
        writers.push((who, id, version, theirs));
    }
    let (tokens, pages, accounts) = (Arc::new(tokens), Arc::new(pages), Arc::new(accounts));
    let done = Arc::new(AtomicUsize::new(0));
    let errors: Arc<Mutex<Vec<String>>> = Arc::default();
    // Every answer: (kind, seconds since the start when it came, ms).
    let latencies: Arc<Mutex<Vec<(usize, f64, f64)>>> = Arc::default();
    let t0 = Instant::now();
    let end = t0 + Duration::from_secs(secs);
    let mut tasks = vec![];
    for k in 0..CLIENTS {
        let (c, base, tokens, pages, accounts, prefix) =
            (c.clone(), base.clone(), tokens.clone(), pages.clone(), accounts.clone(), prefix.clone());
        let (done, errors, latencies) = (done.clone(), errors.clone(), latencies.clone());
        let (writer, own, mut version, theirs) = writers[k].clone();
        tasks.push(tokio::spawn(async move {
            let mut i = 0usize;
            let mut ms = vec![];
            while Instant::now() < end {
                let acc = accounts[(k * 31 + i) % accounts.len()];
                let get = |path: String, who: &Auth| req(&c, reqwest::Method::GET, format!("{base}{path}"), who);
                let kind = (k * 7 + i) % 10;
                let r = match kind {
                    0 => get("/api/v1/accounts?limit=50".into(), &tokens["rep"]),
                    1 => get("/api/v1/home".into(), &tokens["rep"]),
                    2 => get("/api/v1/opportunities?limit=50".into(), &tokens["manager"]),
                    3 => get("/api/v1/reports/funnel".into(), &tokens["director"]),
                    4 => get(format!("/api/v1/accounts/{acc}"), &tokens["rep"]),
                    5 => get(format!("/accounts/{acc}"), &pages["rep"]),
                    6 => get("/".into(), &pages["manager"]),
                    7 => get("/opportunities".into(), &pages["rep"]),
                    8 if i % 20 < 10 => create_account(&c, &base, &writer, &format!("{prefix}-k{k:02}-{i:07}")),
                    8 => req(&c, reqwest::Method::PATCH, format!("{base}/api/v1/accounts/{own}"), &writer)
                        .json(&json!({"version": version, "notes": format!("负载测试 {k}-{i}")})),
                    _ => req(&c, reqwest::Method::POST, format!("{base}/api/v1/activities"), &writer).json(&json!({
                        "account_id": theirs[(k * 13 + i) % theirs.len().max(1)], "kind": "visit", "status": "done",
                        "summary": format!("负载拜访 {k}-{i}"), "outcome": "problem_solved",
                        "problems": format!("现场问题 {k}-{i} 已解决"), "customer_attitude": "warm",
                    })),
                };
                match send(r).await {
                    Ok(a) if a.ok() => {
                        done.fetch_add(1, Ordering::Relaxed);
                        ms.push((kind, t0.elapsed().as_secs_f64(), a.ms));
                        if kind == 8 {
                            if let Some(v) =
                                a.json()["id"].as_i64().filter(|id| *id == own).and(a.json()["version"].as_i64())
                            {
                                version = v;
                            }
                        }
                    }
                    Ok(a) => errors.lock().unwrap_or_else(|e| e.into_inner()).push(a.brief()),
                    Err(e) => errors.lock().unwrap_or_else(|e| e.into_inner()).push(format!("no answer: {e}")),
                }
                i += 1;
            }
            latencies.lock().unwrap_or_else(|e| e.into_inner()).extend(ms);
        }));
    }
    tokio::time::sleep_until((t0 + WARM_UP).into()).await;
    let warm = server.mem_mb("VmRSS:");
    let warm_done = done.load(Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    let elapsed = t0.elapsed().as_secs_f64();
    let last = server.mem_mb("VmRSS:");
    let peak = server.mem_mb("VmHWM:");
    let answers = std::mem::take(&mut *latencies.lock().unwrap_or_else(|e| e.into_inner()));
    let mut lat: Vec<f64> = answers.iter().map(|a| a.2).collect();
    lat.sort_by(|a, b| a.total_cmp(b));
    let p = |q: f64| lat.get(((lat.len().max(1) - 1) as f64 * q).round() as usize).copied().unwrap_or(0.0);
    let n = done.load(Ordering::Relaxed);
    let errors = std::mem::take(&mut *errors.lock().unwrap_or_else(|e| e.into_inner()));
    println!(
        "   {name}: {CLIENTS} clients for {secs} s: {n} answers ({:.0}/s; {warm_done} in the warm-up), p50 {:.1} ms, p99 {:.0} ms, {} errors",
        n as f64 / elapsed,
        p(0.5),
        p(0.99),
        errors.len()
    );
    // Answers per 10 s, and each kind's median in the first and the last 10 s.
    let windows: Vec<String> = (0..secs.div_ceil(10))
        .map(|w| answers.iter().filter(|a| a.1 >= (w * 10) as f64 && a.1 < ((w + 1) * 10) as f64).count().to_string())
        .collect();
    println!("   {name}: answers per 10 s: {}", windows.join(", "));
    let median = |kind: usize, from: f64, to: f64| {
        let mut v: Vec<f64> = answers.iter().filter(|a| a.0 == kind && a.1 >= from && a.1 < to).map(|a| a.2).collect();
        v.sort_by(|a, b| a.total_cmp(b));
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    };
    let kinds: Vec<String> = KINDS
        .iter()
        .enumerate()
        .map(|(k, what)| {
            format!("{what} {:.0}→{:.0}", median(k, 0.0, 10.0), median(k, secs as f64 - 10.0, secs as f64))
        })
        .collect();
    println!("   {name}: p50 ms, first 10 s → last 10 s: {}", kinds.join(", "));
    println!(
        "   {name}: server memory {warm:.0} MB after the {} s warm-up, {last:.0} MB at the end (×{:.2}), peak {peak:.0} MB",
        WARM_UP.as_secs(),
        last / warm.max(1.0)
    );
    checks.check(
        errors.is_empty(),
        format!(
            "{name}: no error answers ({}{})",
            errors.len(),
            errors.first().map(|e| format!("; the first: {e}")).unwrap_or_default()
        ),
    );
    checks.check(
        last <= warm * 1.25,
        format!("{name}: memory at the end ≤ 1.25 × after the warm-up ({last:.0} MB against {warm:.0} MB)"),
    );
    Ok(())
}
