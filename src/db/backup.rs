//! Backups and restores (issue 26 item 8). A backup is one consistent copy: SQLite's
//! `VACUUM INTO` (one snapshot), PostgreSQL's `pg_dump --format=custom` (one snapshot too); the
//! uploaded files kept in the data directory go beside it (`FILE.files/`), those kept in the
//! database are inside it. `kam serve` can take them on a schedule and keep the newest few.
//! A restore checks the file first, puts it in place, brings it to this binary's migrations and
//! says what it holds, so the operator sees what came back.
use std::path::{Path, PathBuf};

use anyhow::{bail, ensure, Context};
use sqlx::Row;

use super::Db;

/// The tables a restore counts, to say what came back.
const COUNTED: [&str; 7] = ["users", "org_units", "accounts", "contacts", "opportunities", "orders", "activities"];

/// What a restored database holds.
#[derive(Debug)]
pub struct Restored {
    pub counts: Vec<(&'static str, i64)>,
    /// The newest audit row's time (UTC): the last change the backup saw.
    pub last_change: Option<String>,
    /// The newest migration the backup had applied, before this binary's ran.
    pub migration: i64,
    pub files: usize,
}

impl Restored {
    pub fn text(&self) -> String {
        let counts: Vec<String> = self.counts.iter().map(|(t, n)| format!("{t} {n}")).collect();
        format!(
            "restored: {}; last change recorded {}; backup at migration {}; {} uploaded file(s) restored to the data directory",
            counts.join(", "),
            self.last_change.as_deref().unwrap_or("never"),
            self.migration,
            self.files
        )
    }
}

/// The uploaded files' folder beside a backup file.
pub fn files_dir(file: &Path) -> PathBuf {
    let mut name = file.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".files");
    file.with_file_name(name)
}

fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<usize> {
    let mut n = 0;
    for area in ["documents", "photos"] {
        let Ok(rd) = std::fs::read_dir(from.join(area)) else { continue };
        std::fs::create_dir_all(to.join(area))?;
        for e in rd {
            let e = e?;
            let name = e.file_name();
            if name.to_string_lossy().starts_with('.') || !e.file_type()?.is_file() {
                continue;
            }
            let dest = to.join(area).join(&name);
            if !dest.exists() {
                std::fs::copy(e.path(), &dest)?;
            }
            n += 1;
        }
    }
    Ok(n)
}

impl Db {
    /// A backup with the uploaded files the data directory holds (when given) beside it.
    pub async fn backup_with_files(&self, url: &str, file: &Path, data_dir: Option<&Path>) -> anyhow::Result<usize> {
        let shown = file.display().to_string();
        self.backup(url, &shown).await?;
        match data_dir {
            Some(d) => copy_tree(d, &files_dir(file)).context("copying the uploaded files beside the backup"),
            None => Ok(0),
        }
    }
}

async fn counts(db: &Db) -> anyhow::Result<(Vec<(&'static str, i64)>, Option<String>)> {
    let mut out = Vec::new();
    for t in COUNTED {
        let n: i64 = sqlx::query(&format!("SELECT COUNT(*) AS n FROM {t}")).fetch_one(&db.pool).await?.try_get("n")?;
        out.push((t, n));
    }
    let last: Option<String> =
        sqlx::query("SELECT MAX(at) AS t FROM audit_log").fetch_one(&db.pool).await?.try_get("t")?;
    Ok((out, last))
}

async fn latest_migration(db: &Db) -> anyhow::Result<i64> {
    Ok(sqlx::query("SELECT COALESCE(MAX(version), 0) AS v FROM _sqlx_migrations WHERE success")
        .fetch_one(&db.pool)
        .await
        .context("the backup has no migrations table: is it a KAM backup?")?
        .try_get("v")?)
}

/// Restores `file` into the database at `url`: refuses a database that holds users unless
/// `force`, and (SQLite) one a server has open. Checks the file first (SQLite: integrity_check
/// and the migrations table; PostgreSQL: `pg_restore --list`), restores it in one step
/// (SQLite: a copy renamed over the file; PostgreSQL: `pg_restore --clean --single-transaction`),
/// applies this binary's migrations, copies back the uploaded files kept beside it into
/// `data_dir`, and says what it holds.
pub async fn restore(url: &str, file: &Path, data_dir: &Path, force: bool) -> anyhow::Result<Restored> {
    ensure!(file.is_file(), "{} is not a file", file.display());
    let pg = url.starts_with("postgres://") || url.starts_with("postgresql://");
    let migration = if pg { restore_pg(url, file, force).await? } else { restore_sqlite(url, file, force).await? };
    let db = Db::connect(url).await?;
    db.migrate().await.context("bringing the restored database to this version's migrations")?;
    let (counts, last_change) = counts(&db).await?;
    db.pool.close().await;
    let extra = files_dir(file);
    let files = if extra.is_dir() { copy_tree(&extra, data_dir)? } else { 0 };
    Ok(Restored { counts, last_change, migration, files })
}

async fn holds_users(db: &Db) -> bool {
    match sqlx::query("SELECT COUNT(*) AS n FROM users").fetch_one(&db.pool).await {
        Ok(r) => r.try_get::<i64, _>("n").unwrap_or(0) > 0,
        Err(_) => false,
    }
}

async fn restore_sqlite(url: &str, file: &Path, force: bool) -> anyhow::Result<i64> {
    let target = PathBuf::from(
        url.trim_start_matches("sqlite://").trim_start_matches("sqlite:").split('?').next().unwrap_or(""),
    );
    ensure!(!target.as_os_str().is_empty() && target != Path::new(":memory:"), "restore into a database file");
    // The backup, copied beside the target first (so the check cannot touch the file given):
    // whole, and KAM's.
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let part = target.with_extension("restoring");
    std::fs::copy(file, &part).with_context(|| format!("copying the backup to {}", part.display()))?;
    let checked = async {
        let backup = Db::connect(&format!("sqlite://{}", part.display())).await.context("opening the backup")?;
        let check: String = sqlx::query("PRAGMA integrity_check")
            .fetch_one(&backup.pool)
            .await
            .context("reading the backup: is it an SQLite file?")?
            .try_get(0)?;
        ensure!(check == "ok", "the backup fails SQLite's integrity check: {check}");
        let migration = latest_migration(&backup).await?;
        let known = backup.known_migrations().last().map(|m| m.0).unwrap_or(0);
        ensure!(migration <= known, "the backup is from a newer KAM (migration {migration}; this one knows {known})");
        backup.pool.close().await;
        Ok(migration)
    }
    .await;
    let migration = match checked {
        Ok(m) => m,
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            return Err(e);
        }
    };
    if target.exists() {
        let db = Db::connect(url).await?;
        let busy = sqlx::query("BEGIN EXCLUSIVE").execute(&db.pool).await.is_err();
        let _ = sqlx::query("ROLLBACK").execute(&db.pool).await;
        let used = holds_users(&db).await;
        db.pool.close().await;
        if busy || (used && !force) {
            let _ = std::fs::remove_file(&part);
        }
        ensure!(!busy, "{} is in use: stop `kam serve` first", target.display());
        if used && !force {
            bail!("{} holds data; give --force to replace it with the backup", target.display());
        }
    }
    std::fs::File::open(&part)?.sync_all()?;
    for side in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{side}", target.display()));
    }
    std::fs::rename(&part, &target)?;
    Ok(migration)
}

fn pg_tool(name: &str) -> PathBuf {
    // Debian keeps the versioned tools beside each other; the newest one reads every older dump.
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    dirs.sort_by_key(|d| d.file_name().and_then(|n| n.to_str()).and_then(|n| n.parse::<u32>().ok()).unwrap_or(0));
    dirs.into_iter().rev().map(|d| d.join("bin").join(name)).find(|p| p.exists()).unwrap_or_else(|| PathBuf::from(name))
}

async fn restore_pg(url: &str, file: &Path, force: bool) -> anyhow::Result<i64> {
    let list = std::process::Command::new(pg_tool("pg_restore"))
        .arg("--list")
        .arg(file)
        .output()
        .context("running pg_restore (install the PostgreSQL client tools)")?;
    ensure!(
        list.status.success(),
        "{} is not a pg_dump archive: {}",
        file.display(),
        String::from_utf8_lossy(&list.stderr).trim()
    );
    ensure!(
        String::from_utf8_lossy(&list.stdout).contains("_sqlx_migrations"),
        "{} holds no KAM database (no migrations table)",
        file.display()
    );
    let db = Db::connect(url).await?;
    let used = holds_users(&db).await;
    db.pool.close().await;
    if used && !force {
        bail!("the database holds data; give --force to replace it with the backup");
    }
    let out = std::process::Command::new(pg_tool("pg_restore"))
        .args(["--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error", "-d", url])
        .arg(file)
        .output()
        .context("running pg_restore")?;
    ensure!(
        out.status.success(),
        "pg_restore failed (nothing was changed): {}",
        String::from_utf8_lossy(&out.stderr).trim()
    );
    let db = Db::connect(url).await?;
    let m = latest_migration(&db).await?;
    db.pool.close().await;
    Ok(m)
}
