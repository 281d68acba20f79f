//! Storage: one code path for SQLite and PostgreSQL through sqlx's `Any` driver. We keep to the
//! types both backends share (BIGINT, TEXT): money is integer fen, times are RFC 3339 UTC text
//! with fixed width (so they sort as text), booleans are 0/1. Backend-specific SQL lives only in
//! `migrations/{sqlite,postgres}` and in the few `Backend` branches of this module.
pub mod backup;
pub mod bulk;
pub mod codes;
pub mod copy;
pub mod replica;
pub mod sql;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
    /// SQLite allows one writer; taking this before `BEGIN` turns would-be SQLITE_BUSY upgrade
    /// deadlocks inside one process into a short queue. PostgreSQL needs no such lock.
    write_lock: Arc<tokio::sync::Mutex<()>>,
    /// The SQLite database file (none for PostgreSQL and in-memory databases).
    sqlite_path: Option<std::path::PathBuf>,
    /// A streaming replica for report and list reads (PostgreSQL, `KAM_DATABASE_READ_URL`).
    replica: Option<Arc<replica::Replica>>,
    /// PostgreSQL: how to open a connection of its own for `COPY` ([`WriteTx::stage_copies`]).
    pg_options: Option<Arc<sqlx::postgres::PgConnectOptions>>,
    /// Rows this process's committed transactions loaded by `COPY` (`/metrics`).
    copied: Arc<std::sync::atomic::AtomicU64>,
    /// Whether bulk loads go by `COPY` (the process's [`set_bulk_copy`], else on).
    copies: bool,
}

pub const DEFAULT_URL: &str = "sqlite://kam-data/kam.db";

/// How long a request waits for a pooled connection before it is told the database is
/// unavailable (503): with PostgreSQL stopped, new connections are refused and the wait ends
/// here instead of hanging (issue 19: an answer within 5 s).
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// SQLite's durability (`PRAGMA synchronous`): `full` (the default) syncs the WAL at every
/// commit, so an acknowledged write survives a power loss; `normal` syncs only at checkpoints
/// (a power loss may drop the last commits, a crash of the process never does) and is faster
/// (BENCHMARKS.md). Set once per process (`--sqlite-synchronous`, `KAM_SQLITE_SYNCHRONOUS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Synchronous {
    #[default]
    Full,
    Normal,
}

static SYNCHRONOUS: std::sync::OnceLock<Synchronous> = std::sync::OnceLock::new();

/// Chooses SQLite's durability for the databases this process opens from now on.
pub fn set_synchronous(s: Synchronous) {
    let _ = SYNCHRONOUS.set(s);
}

/// The process's choice, else `KAM_SQLITE_SYNCHRONOUS` (for programs that open a database
/// without the command line: the benchmarks), else full.
fn synchronous() -> Synchronous {
    *SYNCHRONOUS.get_or_init(|| match std::env::var("KAM_SQLITE_SYNCHRONOUS").as_deref() {
        Ok("normal") | Ok("NORMAL") => Synchronous::Normal,
        _ => Synchronous::Full,
    })
}

static BULK_COPY: std::sync::OnceLock<bool> = std::sync::OnceLock::new();

/// Whether bulk loads on PostgreSQL send their rows by `COPY` (`--bulk-copy`, `KAM_BULK_COPY`;
/// on by default): off, they go as multi-row `INSERT`s as on SQLite. Set once per process.
pub fn set_bulk_copy(on: bool) {
    let _ = BULK_COPY.set(on);
}

/// The process's choice, else `KAM_BULK_COPY` (for programs without the command line: the
/// benchmarks), else on.
fn bulk_copy() -> bool {
    *BULK_COPY.get_or_init(|| !matches!(std::env::var("KAM_BULK_COPY").as_deref(), Ok("off") | Ok("OFF")))
}

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static PG_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// A write transaction; holds the SQLite writer lock until it ends.
pub struct WriteTx {
    pub tx: Tx,
    _guard: Option<tokio::sync::OwnedMutexGuard<()>>,
    backend: Backend,
    /// Bulk rows go by `COPY` through this stage (PostgreSQL, see `db/copy.rs`).
    stage: Option<copy::Stage>,
    /// How to open the stage's connection: PostgreSQL with `COPY` on, else none.
    pg_options: Option<Arc<sqlx::postgres::PgConnectOptions>>,
    copied: Arc<std::sync::atomic::AtomicU64>,
}

impl std::ops::Deref for WriteTx {
    type Target = Tx;
    fn deref(&self) -> &Tx {
        &self.tx
    }
}
impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Tx {
        &mut self.tx
    }
}
impl WriteTx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        let WriteTx { tx, _guard, stage, copied, .. } = self;
        tx.commit().await?;
        drop(_guard);
        if let Some(s) = &stage {
            copied.fetch_add(s.staged, std::sync::atomic::Ordering::Relaxed);
        }
        Self::finish_stage(stage).await;
        Ok(())
    }
    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        let WriteTx { tx, _guard, stage, .. } = self;
        tx.rollback().await?;
        drop(_guard);
        Self::finish_stage(stage).await;
        Ok(())
    }

    /// After the transaction ended: the load's staged rows are no longer needed (a failure here
    /// leaves them for the next load's sweep). A transaction dropped on an error has its stage
    /// dropped too, which deletes them on a task of its own.
    async fn finish_stage(stage: Option<copy::Stage>) {
        if let Some(stage) = stage {
            if let Err(e) = stage.finish().await {
                tracing::warn!("deleting staged rows: {e}");
            }
        }
    }

    /// From here on, bulk rows of this transaction ([`bulk::Inserter`]) travel by `COPY` on a
    /// PostgreSQL connection of its own (`db/copy.rs`); nothing on SQLite.
    pub async fn stage_copies(&mut self) -> Result<(), sqlx::Error> {
        if let (Some(opts), None) = (self.pg_options.as_ref(), self.stage.as_ref()) {
            self.stage = Some(copy::Stage::open(opts).await?);
        }
        Ok(())
    }

    /// After a large load into `table` (fixed text of the caller): PostgreSQL's statistics of
    /// it brought up to date inside the load's transaction (which counts its own new rows), so
    /// that the queries right after it — generic plans made now and kept — are not planned for
    /// the nearly empty table the statistics still describe. Nothing on SQLite, whose planner
    /// KAM steers with index hints instead.
    ///
    /// With a sample of 3,000 rows (statistics target 10) rather than the default 30,000: what
    /// the plans right after a load need is the table's size and each column's rough spread,
    /// not a fine histogram; PostgreSQL's autovacuum analyses the table again, in full, soon
    /// after the load commits (it changed far more than 10 % of the table).
    pub async fn analyze(&mut self, table: &'static str) -> Result<(), sqlx::Error> {
        if self.backend == Backend::Postgres {
            sqlx::query("SET LOCAL default_statistics_target = 10").execute(&mut *self.tx).await?;
            sqlx::query(&format!("ANALYZE {table}")).execute(&mut *self.tx).await?;
            sqlx::query("RESET default_statistics_target").execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    /// Whether bulk rows go by `COPY`.
    pub fn copies(&self) -> bool {
        self.stage.is_some()
    }

    pub(crate) fn stage_and_conn(&mut self) -> (Option<&mut copy::Stage>, &mut sqlx::AnyConnection) {
        (self.stage.as_mut(), &mut self.tx)
    }
    pub fn conn(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The clause that ends a `SELECT` of rows this transaction must hold until it commits:
    /// PostgreSQL's row lock of that strength; nothing on SQLite, which runs one writer at a
    /// time (the transaction holds the database's write lock).
    pub fn lock_clause(&self, lock: RowLock) -> &'static str {
        match (self.backend, lock) {
            (Backend::Sqlite, _) => "",
            (Backend::Postgres, RowLock::Update) => " FOR UPDATE",
            (Backend::Postgres, RowLock::NoKeyUpdate) => " FOR NO KEY UPDATE",
            (Backend::Postgres, RowLock::Share) => " FOR SHARE",
        }
    }

    /// Locks one row by id until the transaction ends (see [`WriteTx::lock_clause`]); no
    /// statement at all on SQLite. `table` is the calling module's fixed text, never input.
    pub async fn lock_row(&mut self, table: &'static str, id: i64, lock: RowLock) -> Result<(), sqlx::Error> {
        if self.backend == Backend::Postgres {
            sqlx::query(&format!("SELECT id FROM {table} WHERE id = $1{}", self.lock_clause(lock)))
                .bind(id)
                .fetch_optional(&mut *self.tx)
                .await?;
        }
        Ok(())
    }

    /// `table alias` as a `FROM` item, on SQLite with `INDEXED BY index` where its planner is
    /// known to pick a worse index (PostgreSQL plans without hints).
    pub fn indexed_by(&self, table_and_alias: &str, index: &str) -> String {
        match self.backend {
            Backend::Sqlite => format!("{table_and_alias} INDEXED BY {index}"),
            Backend::Postgres => table_and_alias.to_string(),
        }
    }

    /// Gives this connection a larger page cache for one big write (an import), or back the
    /// default: SQLite's default 2 MB spills a large transaction's pages to disk and reads them
    /// back. PostgreSQL needs nothing.
    pub async fn large_write_cache(&mut self, on: bool) -> Result<(), sqlx::Error> {
        if self.backend == Backend::Sqlite {
            let kib = if on { 65_536 } else { 2_000 };
            sqlx::query(&format!("PRAGMA cache_size = -{kib}")).execute(&mut *self.tx).await?;
        }
        Ok(())
    }
}

/// The strength of a row lock taken inside a write (PostgreSQL's; SQLite needs none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowLock {
    /// The row will be changed (a decision on an approval request).
    Update,
    /// The row will be changed but not its key; other writers may still reference it.
    NoKeyUpdate,
    /// The row must stay as it is (live) until this write commits.
    Share,
}

impl Db {
    /// [`WriteTx::indexed_by`] for a read outside a transaction.
    pub fn indexed_by(&self, table_and_alias: &str, index: &str) -> String {
        match self.backend {
            Backend::Sqlite => format!("{table_and_alias} INDEXED BY {index}"),
            Backend::Postgres => table_and_alias.to_string(),
        }
    }

    pub async fn connect(url: &str) -> anyhow::Result<Db> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            anyhow::bail!("KAM_DATABASE_URL must start with sqlite: or postgres://, got {url}");
        };
        let url = if backend == Backend::Sqlite { prepare_sqlite_url(url)? } else { url.to_string() };
        let opts = AnyConnectOptions::from_str(&url).context("database URL")?;
        let pool = AnyPoolOptions::new()
            .max_connections(pool_size(backend))
            .acquire_timeout(ACQUIRE_TIMEOUT)
            // Pinging a connection before every use doubled the round trips of a request.
            .test_before_acquire(false)
            // A connection whose transaction could not end (SQLite: a COMMIT or ROLLBACK that
            // failed on a full disk leaves the driver's transaction depth behind) is closed
            // instead of going back to the pool, where every later write would fail ("begin_with
            // at non-zero transaction depth") until a restart. A rollback queued by a dropped
            // transaction runs first (the ping), so only a stuck one is closed.
            .after_release(|conn, _| {
                Box::pin(async move {
                    use sqlx::Connection;
                    if conn.is_in_transaction() {
                        conn.ping().await?;
                    }
                    Ok(!conn.is_in_transaction())
                })
            })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Postgres {
                        // Our statements are prepared once per connection; planning the joined
                        // list query anew on every request cost more than running it (BENCHMARKS.md).
                        conn.execute("SET plan_cache_mode = force_generic_plan").await?;
                        // The data of a KAM database lives in memory or on SSD: a random page
                        // read costs about what a sequential one does. With the default (4) the
                        // generic plans hashed whole tables instead of following an index from a
                        // user's few rows (BENCHMARKS.md, "Opportunities on l3-60k").
                        conn.execute("SET random_page_cost = 1.1").await?;
                    }
                    if backend == Backend::Sqlite {
                        // WAL: readers never block the writer. synchronous=FULL (the default): a
                        // commit is synced before it is acknowledged, so it survives a power
                        // loss; NORMAL (a setting) leaves that to the checkpoint, and never
                        // corrupts the file either ([`Synchronous`], docs/ARCHITECTURE.md).
                        // wal_autocheckpoint=0: no commit copies the WAL back into the file
                        // on the committing request's time; the task started below does.
                        let sync = match synchronous() {
                            Synchronous::Full => "FULL",
                            Synchronous::Normal => "NORMAL",
                        };
                        conn.execute(
                            format!(
                                "PRAGMA journal_mode=WAL; PRAGMA synchronous={sync}; \
                                 PRAGMA foreign_keys=ON; PRAGMA busy_timeout=10000; \
                                 PRAGMA wal_autocheckpoint=0;"
                            )
                            .as_str(),
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(opts)
            .await
            .with_context(|| format!("cannot open database {}", redact(&url)))?;
        let sqlite_path = (backend == Backend::Sqlite)
            .then(|| url.trim_start_matches("sqlite://").split('?').next().unwrap_or_default().to_string())
            .filter(|p| p != ":memory:" && !p.is_empty())
            .map(std::path::PathBuf::from);
        let pg_options = match backend {
            Backend::Postgres => {
                Some(Arc::new(sqlx::postgres::PgConnectOptions::from_str(&url).context("database URL")?))
            }
            Backend::Sqlite => None,
        };
        let db = Db {
            pool,
            backend,
            write_lock: Arc::new(tokio::sync::Mutex::new(())),
            sqlite_path,
            replica: None,
            pg_options,
            copied: Arc::default(),
            copies: bulk_copy(),
        };
        if backend == Backend::Sqlite {
            db.spawn_checkpointer();
        }
        Ok(db)
    }

    /// SQLite: copies committed pages from the WAL back into the database file twice a second,
    /// off every request's path (a passive checkpoint waits for nobody and blocks nobody). By
    /// default SQLite does this inside the commit that fills the WAL past 1,000 pages, so one
    /// unlucky request (or the end of a large import: 0.3 s for 60,000 accounts) waited for it.
    /// The task ends when the last handle on this database is dropped; closing the pool
    /// checkpoints what is left.
    fn spawn_checkpointer(&self) {
        let alive = Arc::downgrade(&self.write_lock);
        let pool = self.pool.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(500));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if alive.upgrade().is_none() || pool.is_closed() {
                    break;
                }
                if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&pool).await {
                    if !pool.is_closed() {
                        tracing::warn!("WAL checkpoint: {e}");
                    }
                }
            }
        });
    }

    /// Sends report and list reads ([`Db::reads`]) to the streaming replica at `url` while it
    /// answers and lags at most `max_lag` (PostgreSQL only; `db/replica.rs`).
    pub async fn attach_replica(&mut self, url: &str, max_lag: Duration) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.backend == Backend::Postgres,
            "KAM_DATABASE_READ_URL needs PostgreSQL (KAM_DATABASE_URL is SQLite)"
        );
        anyhow::ensure!(
            url.starts_with("postgres://") || url.starts_with("postgresql://"),
            "KAM_DATABASE_READ_URL must start with postgres://, got {}",
            redact(url)
        );
        let r = Arc::new(replica::Replica::connect(url, max_lag, pool_size(Backend::Postgres)).await?);
        r.spawn_monitor(self.pool.clone(), Arc::downgrade(&self.write_lock));
        self.replica = Some(r);
        Ok(())
    }

    /// This handle's bulk loads go by `COPY` (`on`) or as multi-row statements, whatever the
    /// process's setting (tests compare the two).
    pub fn with_bulk_copy(mut self, on: bool) -> Db {
        self.copies = on;
        self
    }

    /// Rows this process's committed transactions loaded by `COPY` (PostgreSQL; `db/copy.rs`).
    pub fn rows_copied(&self) -> u64 {
        self.copied.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The replica, when one is attached.
    pub fn replica(&self) -> Option<&replica::Replica> {
        self.replica.as_deref()
    }

    /// The pool for a report or list read outside a write: the replica when one is attached,
    /// answers, lags within its bound, and this request is neither a write nor its user's read
    /// right after their own write; otherwise the primary.
    pub fn reads(&self) -> &AnyPool {
        use std::sync::atomic::Ordering::Relaxed;
        if let Some(r) = &self.replica {
            if r.usable() && !replica::primary_required() {
                r.served_replica.fetch_add(1, Relaxed);
                return &r.pool;
            }
            r.served_primary.fetch_add(1, Relaxed);
        }
        &self.pool
    }

    /// The migrations this binary knows: (version, description).
    pub fn known_migrations(&self) -> Vec<(i64, String)> {
        let m = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATOR,
            Backend::Postgres => &PG_MIGRATOR,
        };
        m.iter().map(|x| (x.version, x.description.to_string())).collect()
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        let m = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATOR,
            Backend::Postgres => &PG_MIGRATOR,
        };
        m.run(&self.pool).await.context("running migrations")?;
        self.backfill_pinyin().await.context("filling account names' pinyin")?;
        Ok(())
    }

    /// Spells in pinyin the names of accounts written before the pinyin columns existed
    /// (migrations 0018 and 0021; SQL cannot spell them): rows where `name_pinyin` or
    /// `name_sort` is NULL, with their visibility rows (which hold the sort key), 1,000 per
    /// transaction, so a restart after an interruption goes on where it stopped. Every write
    /// fills the columns itself, so after the first start this finds nothing (index probes).
    pub async fn backfill_pinyin(&self) -> Result<u64, sqlx::Error> {
        use sqlx::Row;
        let mut done = 0u64;
        loop {
            let mut tx = self.begin().await?;
            let rows = sqlx::query(
                "SELECT id, name FROM accounts WHERE id IN (SELECT id FROM accounts WHERE name_sort IS NULL \
                 UNION SELECT id FROM accounts WHERE name_pinyin IS NULL) ORDER BY id LIMIT 1000",
            )
            .fetch_all(tx.conn())
            .await?;
            if rows.is_empty() {
                tx.rollback().await?;
                return Ok(done);
            }
            for r in &rows {
                let (id, name): (i64, String) = (r.try_get("id")?, r.try_get("name")?);
                let key = crate::domain::pinyin::stored_sort_key(&name);
                sqlx::query("UPDATE accounts SET name_pinyin = $1, name_initials = $2, name_sort = $3 WHERE id = $4")
                    .bind(crate::domain::pinyin::full(&name))
                    .bind(crate::domain::pinyin::initials(&name))
                    .bind(&key)
                    .bind(id)
                    .execute(tx.conn())
                    .await?;
                sqlx::query("UPDATE account_visibility SET name = $1 WHERE account_id = $2")
                    .bind(&key)
                    .bind(id)
                    .execute(tx.conn())
                    .await?;
            }
            done += rows.len() as u64;
            tx.commit().await?;
        }
    }

    pub async fn begin(&self) -> Result<WriteTx, sqlx::Error> {
        let guard = match self.backend {
            Backend::Sqlite => Some(self.write_lock.clone().lock_owned().await),
            Backend::Postgres => None,
        };
        // SQLite: IMMEDIATE takes the database's write lock at the start. A deferred transaction
        // that read first could not write once a write outside it (a token's or session's
        // last-use time, on the pool) had committed meanwhile: SQLite refuses that upgrade
        // (SQLITE_BUSY_SNAPSHOT) without waiting. Holding the lock from the start, such small
        // writes wait for the transaction instead.
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(WriteTx {
            tx,
            _guard: guard,
            backend: self.backend,
            stage: None,
            pg_options: self.pg_options.clone().filter(|_| self.copies),
            copied: self.copied.clone(),
        })
    }

    pub async fn ping(&self) -> bool {
        let probe = sqlx::query("SELECT 1").execute(&self.pool);
        matches!(tokio::time::timeout(ACQUIRE_TIMEOUT + Duration::from_secs(1), probe).await, Ok(Ok(_)))
    }

    /// The SQLite file's folder (where the database, its WAL and the data live), to watch its
    /// free space; none for PostgreSQL (its server reports a full disk as an error).
    pub fn sqlite_dir(&self) -> Option<std::path::PathBuf> {
        self.sqlite_path.as_ref().and_then(|p| p.parent().map(|d| d.to_path_buf()))
    }

    /// A consistent copy while the server runs. SQLite: `VACUUM INTO` reads one snapshot.
    /// PostgreSQL: use `pg_dump` (one snapshot as well); we run it for the caller.
    pub async fn backup(&self, url: &str, file: &str) -> anyhow::Result<()> {
        match self.backend {
            Backend::Sqlite => {
                if std::path::Path::new(file).exists() {
                    anyhow::bail!("{file} exists already; choose a new file name");
                }
                sqlx::query("VACUUM INTO $1").bind(file).execute(&self.pool).await?;
                Ok(())
            }
            Backend::Postgres => {
                let status = std::process::Command::new("pg_dump")
                    .args(["--format=custom", "--file", file, url])
                    .status()
                    .context("running pg_dump (install the PostgreSQL client tools)")?;
                anyhow::ensure!(status.success(), "pg_dump failed with {status}");
                Ok(())
            }
        }
    }
}

/// Creates the folder of an SQLite file and asks for the file to be created when missing.
fn prepare_sqlite_url(url: &str) -> anyhow::Result<String> {
    let rest = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path != ":memory:" {
        if let Some(dir) = std::path::Path::new(path).parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
            }
        }
    }
    let query = if query.contains("mode=") {
        query.to_string()
    } else if query.is_empty() {
        "mode=rwc".to_string()
    } else {
        format!("{query}&mode=rwc")
    };
    Ok(format!("sqlite://{path}?{query}"))
}

pub fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(a)) if a > s => format!("{}***{}", &url[..s + 3], &url[a..]),
        _ => url.to_string(),
    }
}

/// The current time as stored: RFC 3339, UTC, microseconds, `Z`.
pub fn now() -> String {
    ts(Utc::now())
}

pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub fn parse_ts(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc))
}

/// Is this error a unique-constraint violation (either backend)?
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            d.code().is_some_and(|c| c == "23505" || c == "2067" || c == "1555")
                || d.message().contains("UNIQUE constraint failed")
        }
        _ => false,
    }
}

/// Connections per server: `KAM_DB_CONNECTIONS`, else 8 on SQLite (readers in parallel, one
/// writer at a time) and 16 on PostgreSQL.
fn pool_size(backend: Backend) -> u32 {
    std::env::var("KAM_DB_CONNECTIONS")
        .ok()
        .and_then(|v| v.trim().parse::<u32>().ok())
        .filter(|n| (1..=256).contains(n))
        .unwrap_or(if backend == Backend::Sqlite { 8 } else { 16 })
}
