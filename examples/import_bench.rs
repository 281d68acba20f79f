//! Import benchmark: 60,000 accounts from a GBK CSV (as Excel on Chinese Windows saves it) and
//! from an XLSX, each into a fresh database holding the demo company; then 60,000 contacts (two
//! per account of 30,000 imported first, one in ten naming a manager) from a UTF-8 CSV.
//!
//! ```text
//! cargo run --release --example import_bench -- [--database-url URL] [--rows N] [--no-append]
//! ```
//! Without `--database-url` each import goes to a new SQLite file in a temporary folder. A
//! PostgreSQL URL names a server to administer (`postgres://postgres@127.0.0.1:5432/postgres`):
//! the benchmark drops and re-creates the database `kam_bench_import` there for each import.
//!
//! The files are written to disk first; the import then reads them as `kam import accounts FILE`
//! does (streamed from the file), as the KA director, all rows in one transaction. Reported: the
//! wall time of the import, and the peak resident memory during it above what the process held
//! before (Linux: the peak is reset through `/proc/self/clear_refs`), for the full file and for
//! a tenth of it — memory that does not grow with the file shows as two similar figures.
use std::time::Instant;

use anyhow::{bail, Context};
use sqlx::Row;

use kam::app::spreadsheets::import::{Kind, Options, Source};
use kam::app::Ctx;
use kam::db::{Backend, Db};

const BENCH_DB: &str = "kam_bench_import";

#[path = "shared/import_files.rs"]
mod import_files;
#[path = "shared/report.rs"]
mod report;
use import_files::{write_contacts_csv, write_csv_gbk, write_xlsx};

struct Args {
    url: Option<String>,
    rows: usize,
    no_append: bool,
}

fn args() -> anyhow::Result<Args> {
    let mut a = Args { url: None, rows: 60_000, no_append: false };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        match k.as_str() {
            "--database-url" => a.url = Some(it.next().context("--database-url needs a value")?),
            "--rows" => a.rows = it.next().context("--rows needs a value")?.parse().context("--rows: a number")?,
            "--no-append" => a.no_append = true,
            _ => bail!("usage: import_bench [--database-url URL] [--rows N] [--no-append]"),
        }
    }
    anyhow::ensure!(a.rows >= 10, "--rows must be at least 10");
    Ok(a)
}

fn with_database(url: &str, name: &str) -> anyhow::Result<String> {
    let scheme_end = url.find("://").context("a URL with ://")? + 3;
    let host_end = url[scheme_end..].find('/').map(|p| scheme_end + p).unwrap_or(url.len());
    Ok(format!("{}/{name}", &url[..host_end]))
}

/// A fresh database with the demo company in it.
async fn fresh(url: &Option<String>, dir: &std::path::Path, tag: &str, n: usize) -> anyhow::Result<Db> {
    let url = match url {
        None => format!("sqlite://{}", dir.join(format!("import-{tag}-{n}.db")).display()),
        Some(u) => {
            let admin = Db::connect(u).await.context("connecting to the PostgreSQL server")?;
            sqlx::query(&format!("DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")).execute(&admin.pool).await?;
            sqlx::query(&format!("CREATE DATABASE {BENCH_DB}")).execute(&admin.pool).await?;
            admin.pool.close().await;
            with_database(u, BENCH_DB)?
        }
    };
    let db = Db::connect(&url).await?;
    db.migrate().await?;
    kam::generate::demo::load(&db, "bench-pass").await?;
    Ok(db)
}

/// Resident memory now and at its peak (kB), from /proc/self/status.
fn rss_kb() -> (u64, u64) {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |k: &str| {
        s.lines()
            .find(|l| l.starts_with(k))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

struct Run {
    format: &'static str,
    rows: usize,
    bytes: u64,
    secs: f64,
    peak_mb: f64,
}

async fn import_once(
    url: &Option<String>,
    dir: &std::path::Path,
    format: &'static str,
    n: usize,
) -> anyhow::Result<Run> {
    let path = dir.join(format!("accounts-{n}.{}", if format == "XLSX" { "xlsx" } else { "csv" }));
    if format == "XLSX" {
        write_xlsx(&path, n)?;
    } else {
        write_csv_gbk(&path, n)?;
    }
    let bytes = std::fs::metadata(&path)?.len();
    let db = fresh(url, dir, if format == "XLSX" { "xlsx" } else { "csv" }, n).await?;
    let director: i64 =
        sqlx::query("SELECT id FROM users WHERE username = 'director'").fetch_one(&db.pool).await?.try_get("id")?;
    let caller = kam::app::people::auth::load_caller(&db, director).await?.context("the demo KA director")?;
    let ctx = Ctx { caller, request_id: "import-bench".into() };
    let before: i64 = sqlx::query("SELECT COUNT(*) AS n FROM accounts").fetch_one(&db.pool).await?.try_get("n")?;
    reset_peak();
    let (base, _) = rss_kb();
    let t = Instant::now();
    let src = Source::file(&path)?;
    let r = kam::app::spreadsheets::import::run(&db, &ctx, Kind::Accounts, src, &Options::default()).await?;
    let secs = t.elapsed().as_secs_f64();
    let (_, peak) = rss_kb();
    anyhow::ensure!(
        r.committed && r.created == n && r.errors.is_empty(),
        "import of {n} rows: {} created, {} errors, first: {:?}",
        r.created,
        r.errors.len(),
        r.errors.first()
    );
    let after: i64 = sqlx::query("SELECT COUNT(*) AS n FROM accounts").fetch_one(&db.pool).await?.try_get("n")?;
    anyhow::ensure!(after - before == n as i64, "{} accounts more, expected {n}", after - before);
    db.pool.close().await;
    Ok(Run { format, rows: n, bytes, secs, peak_mb: peak.saturating_sub(base) as f64 / 1024.0 })
}

/// `n` contacts (two per account, one in ten naming a manager) imported from a UTF-8 CSV into
/// a fresh database holding the demo company and the first `n / 2` accounts of the accounts file
/// (imported first, untimed).
async fn contacts_once(url: &Option<String>, dir: &std::path::Path, n: usize) -> anyhow::Result<Run> {
    let accounts = dir.join(format!("accounts-for-contacts-{n}.csv"));
    write_csv_gbk(&accounts, n / 2)?;
    let path = dir.join(format!("contacts-{n}.csv"));
    write_contacts_csv(&path, n)?;
    let bytes = std::fs::metadata(&path)?.len();
    let db = fresh(url, dir, "contacts", n).await?;
    let director: i64 =
        sqlx::query("SELECT id FROM users WHERE username = 'director'").fetch_one(&db.pool).await?.try_get("id")?;
    let caller = kam::app::people::auth::load_caller(&db, director).await?.context("the demo KA director")?;
    let ctx = Ctx { caller, request_id: "import-bench".into() };
    let r =
        kam::app::spreadsheets::import::run(&db, &ctx, Kind::Accounts, Source::file(&accounts)?, &Options::default())
            .await?;
    anyhow::ensure!(r.committed, "the accounts for the contacts: {:?}", r.errors.first());
    let count = |db: &Db| {
        let pool = db.pool.clone();
        async move {
            let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM contacts").fetch_one(&pool).await?.try_get("n")?;
            Ok::<_, anyhow::Error>(n)
        }
    };
    let before = count(&db).await?;
    reset_peak();
    let (base, _) = rss_kb();
    let t = Instant::now();
    let r = kam::app::spreadsheets::import::run(&db, &ctx, Kind::Contacts, Source::file(&path)?, &Options::default())
        .await?;
    let secs = t.elapsed().as_secs_f64();
    let (_, peak) = rss_kb();
    anyhow::ensure!(
        r.committed && r.created == n && r.errors.is_empty(),
        "contact import of {n} rows: {} created, {} errors, first: {:?}",
        r.created,
        r.errors.len(),
        r.errors.first()
    );
    anyhow::ensure!(count(&db).await? - before == n as i64, "contacts missing after the import");
    db.pool.close().await;
    Ok(Run { format: "contacts CSV", rows: n, bytes, secs, peak_mb: peak.saturating_sub(base) as f64 / 1024.0 })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = args()?;
    let dir = tempfile::tempdir()?;
    let backend = match &a.url {
        None => Backend::Sqlite,
        Some(_) => Backend::Postgres,
    };
    let mut runs = vec![];
    for format in ["CSV (GBK)", "XLSX"] {
        for n in [a.rows / 10, a.rows] {
            let r = import_once(&a.url, dir.path(), format, n).await?;
            eprintln!("{format} {n} rows: {:.2} s, peak +{:.1} MB", r.secs, r.peak_mb);
            runs.push(r);
        }
    }
    for n in [a.rows / 10, a.rows] {
        let r = contacts_once(&a.url, dir.path(), n).await?;
        eprintln!("contacts {n} rows: {:.2} s, peak +{:.1} MB", r.secs, r.peak_mb);
        runs.push(r);
    }
    let target = |r: &Run| match (r.format, r.rows) {
        ("contacts CSV", _) => "",
        ("XLSX", 60_000) => "≤ 5 s",
        (_, 60_000) => "≤ 3 s",
        _ => "",
    };
    let mut table = String::from(
        "| file | rows | size | import wall time | rows/s | peak memory above start | target |\n|---|---:|---:|---:|---:|---:|---|\n",
    );
    for r in &runs {
        table.push_str(&format!(
            "| {} | {} | {:.1} MB | **{:.2} s** | {:.0} | {:.1} MB | {} |\n",
            r.format,
            r.rows,
            r.bytes as f64 / 1_048_576.0,
            r.secs,
            r.rows as f64 / r.secs,
            r.peak_mb,
            target(r)
        ));
    }
    let backend_name = match backend {
        Backend::Sqlite => "SQLite",
        Backend::Postgres => "PostgreSQL",
    };
    let command = report::command("import_bench");
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let date = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC");
    let section = format!(
        "\n## {date} — account and contact imports, {backend_name}\n\n\
         Command: `{command}`  \n\
         Machine: {cpus} CPUs; release build; each import into a fresh database holding the demo company, read \
         from the file as `kam import accounts FILE` does, one transaction, as the KA director.\n\n{table}"
    );
    report::publish(&section, !a.no_append)
}
