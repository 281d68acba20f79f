//! Uploaded spreadsheets between the steps of an import in the web UI: the file waits under the
//! data directory (`imports/`) while the user maps unknown headers or looks at a dry run, then
//! is imported from there; the report stays with the run so its errors can be downloaded.
//! A run belongs to the user who uploaded it: anybody else gets 404.
use crate::app::records::files::{Area, Backing, Storage};

use serde::Serialize;
use serde_json::json;
use sqlx::Row;

use crate::app::spreadsheets::import::{self, Kind, OnMatch, Options, Report, Source};
use crate::app::{records::audit, Caller, Ctx, Error, Result};
use crate::db::{now, Db};

/// Uploaded files are kept this long (seconds) when nobody finishes their import.
const KEEP_SECS: i64 = 24 * 3600;

#[derive(Debug, Clone, Serialize)]
pub struct ImportRun {
    pub id: i64,
    pub kind: Kind,
    pub file_name: String,
    /// `uploaded` (waiting for its mapping or first run), `checked` (dry run), `rejected`,
    /// `imported`.
    pub status: String,
    pub mapping: Vec<(String, String)>,
    pub on_match: String,
    pub report: Option<Report>,
    pub created_at: String,
    pub has_file: bool,
    /// The kept file's name under `imports/` (None once imported or swept).
    #[serde(skip)]
    stored: Option<String>,
}

impl ImportRun {
    /// The uploaded file, to read: an upload swept away or already imported is gone.
    async fn source(&self, db: &Db, store: &Storage) -> Result<Source> {
        let gone = || Error::invalid("file", "upload_expired");
        let key = self.stored.as_deref().ok_or_else(gone)?;
        let path = store.path(Area::Imports, key);
        if store.backing == Backing::Directory && path.exists() {
            return Source::file(&path).map_err(|_| gone());
        }
        let bytes = store.get(&mut *db.pool.acquire().await?, Area::Imports, key).await.map_err(|_| gone())?;
        Ok(Source::bytes(bytes))
    }
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<ImportRun> {
    let kind: String = r.try_get("kind")?;
    let mapping: Option<String> = r.try_get("mapping_json")?;
    let report: Option<String> = r.try_get("report_json")?;
    let stored: Option<String> = r.try_get("stored")?;
    Ok(ImportRun {
        id: r.try_get("id")?,
        kind: Kind::parse(&kind).unwrap_or(Kind::Accounts),
        file_name: r.try_get("file_name")?,
        status: r.try_get("status")?,
        mapping: mapping.and_then(|m| serde_json::from_str(&m).ok()).unwrap_or_default(),
        on_match: r.try_get("on_match")?,
        report: report.and_then(|m| serde_json::from_str(&m).ok()),
        created_at: r.try_get("created_at")?,
        has_file: stored.is_some(),
        stored,
    })
}

/// Keeps an uploaded file for its import. Old leftovers of anybody's unfinished imports are
/// removed on the way.
pub async fn upload(
    db: &Db,
    ctx: &Ctx,
    store: &Storage,
    kind: Kind,
    file_name: &str,
    bytes: &[u8],
) -> Result<ImportRun> {
    if !import::may_import(&ctx.caller) {
        return Err(Error::Forbidden);
    }
    if bytes.is_empty() {
        return Err(Error::invalid("file", "file_empty"));
    }
    sweep(db, store).await?;
    let stored = format!("{}.upload", random_name());
    store
        .put(&mut *db.pool.acquire().await?, Area::Imports, &stored, bytes)
        .await
        .map_err(|e| e.context(format!("storing an upload as {stored}")))?;
    let ts = now();
    let file_name: String = file_name.chars().take(200).collect();
    let recorded = async {
        let mut tx = db.begin().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO import_runs (user_id, kind, file_name, stored, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, 'uploaded', $5, $5) RETURNING id",
        )
        .bind(ctx.caller.user_id)
        .bind(kind.code())
        .bind(file_name.clone())
        .bind(stored.clone())
        .bind(ts)
        .fetch_one(tx.conn())
        .await?
        .try_get("id")?;
        let after = json!({"kind": kind.code(), "file_name": file_name, "size": bytes.len()});
        audit::record(&mut tx, ctx, "import_run", &id.to_string(), "upload", None, Some(&after)).await?;
        tx.commit().await?;
        Ok::<_, Error>(id)
    }
    .await;
    let id = match recorded {
        Ok(id) => id,
        Err(e) => {
            // No run names the file: it would never be swept.
            let _ = store.remove(&mut *db.pool.acquire().await?, Area::Imports, &stored).await;
            return Err(e);
        }
    };
    get(db, &ctx.caller, id).await
}

fn random_name() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Removes files of runs nobody finished within a day (the runs and their reports stay).
async fn sweep(db: &Db, store: &Storage) -> Result<()> {
    let cutoff = crate::db::ts(chrono::Utc::now() - chrono::Duration::seconds(KEEP_SECS));
    let rows = sqlx::query("SELECT id, stored FROM import_runs WHERE stored IS NOT NULL AND created_at < $1")
        .bind(cutoff)
        .fetch_all(&db.pool)
        .await?;
    for r in rows {
        let id: i64 = r.try_get("id")?;
        let stored: String = r.try_get("stored")?;
        let _ = store.remove(&mut *db.pool.acquire().await?, Area::Imports, &stored).await;
        sqlx::query("UPDATE import_runs SET stored = NULL WHERE id = $1").bind(id).execute(&db.pool).await?;
    }
    Ok(())
}

/// The caller's own run; anybody else's is 404.
pub async fn get(db: &Db, caller: &Caller, id: i64) -> Result<ImportRun> {
    let r = sqlx::query("SELECT * FROM import_runs WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(caller.user_id)
        .fetch_optional(&db.pool)
        .await?
        .ok_or(Error::NotFound)?;
    from_row(&r)
}

/// The caller's latest runs.
pub async fn recent(db: &Db, caller: &Caller, limit: i64) -> Result<Vec<ImportRun>> {
    let rows = sqlx::query("SELECT * FROM import_runs WHERE user_id = $1 ORDER BY id DESC LIMIT $2")
        .bind(caller.user_id)
        .bind(limit)
        .fetch_all(&db.pool)
        .await?;
    rows.iter().map(from_row).collect()
}

/// The header row of the run's file, and which headers need a mapping.
pub async fn headers(db: &Db, caller: &Caller, store: &Storage, id: i64) -> Result<(Vec<String>, Vec<String>)> {
    let run = get(db, caller, id).await?;
    let src = run.source(db, store).await?;
    let header = import::headers(src).await?;
    let (_, unknown) = import::columns(run.kind, &header, &run.mapping);
    Ok((header, unknown))
}

/// Imports (or checks) the run's file with the given mapping and options, and keeps the report.
pub async fn execute(db: &Db, ctx: &Ctx, store: &Storage, id: i64, opts: &Options) -> Result<(ImportRun, Report)> {
    let run = get(db, &ctx.caller, id).await?;
    if run.status == "imported" {
        return Err(Error::Conflict("import_done"));
    }
    // One run at a time per upload: the first request claims it, a second one (a double click,
    // another tab) gets 409. A claim older than an hour is a crashed run and may be taken over.
    let stale = crate::db::ts(chrono::Utc::now() - chrono::Duration::hours(1));
    let claimed = sqlx::query(
        "UPDATE import_runs SET status = 'running', updated_at = $1 WHERE id = $2 AND user_id = $3 \
         AND status <> 'imported' AND (status <> 'running' OR updated_at < $4)",
    )
    .bind(now())
    .bind(id)
    .bind(ctx.caller.user_id)
    .bind(stale)
    .execute(&db.pool)
    .await?
    .rows_affected();
    if claimed != 1 {
        // Somebody else's request has it, or has just finished it.
        let now_status = get(db, &ctx.caller, id).await?.status;
        return Err(Error::Conflict(if now_status == "imported" { "import_done" } else { "import_running" }));
    }
    let src = match run.source(db, store).await {
        Ok(s) => s,
        Err(e) => {
            release(db, id, &run.status).await?;
            return Err(e);
        }
    };
    let report = match import::run(db, ctx, run.kind, src, opts).await {
        Ok(r) => r,
        Err(e) => {
            release(db, id, &run.status).await?;
            return Err(e);
        }
    };
    let status = if report.committed {
        "imported"
    } else if report.refused() {
        "rejected"
    } else {
        "checked"
    };
    let on_match = match opts.on_match {
        OnMatch::Report => "report",
        OnMatch::Update => "update",
    };
    let mut tx = db.begin().await?;
    sqlx::query(
        "UPDATE import_runs SET status = $1, mapping_json = $2, on_match = $3, report_json = $4, updated_at = $5, \
         stored = CASE WHEN $1 = 'imported' THEN NULL ELSE stored END WHERE id = $6",
    )
    .bind(status)
    .bind(serde_json::to_string(&opts.mapping).unwrap_or_default())
    .bind(on_match)
    .bind(serde_json::to_string(&report).unwrap_or_default())
    .bind(now())
    .bind(id)
    .execute(tx.conn())
    .await?;
    let after = json!({
        "status": status, "rows": report.rows, "created": report.created, "updated": report.updated,
        "errors": report.errors.len(), "dry_run": opts.dry_run,
    });
    audit::record(&mut tx, ctx, "import_run", &id.to_string(), "run", None, Some(&after)).await?;
    tx.commit().await?;
    if let (true, Some(key)) = (status == "imported", run.stored.as_deref()) {
        let _ = store.remove(&mut *db.pool.acquire().await?, Area::Imports, key).await;
    }
    Ok((get(db, &ctx.caller, id).await?, report))
}

/// Gives a claimed run back in the state it had (its import failed as a whole).
async fn release(db: &Db, id: i64, status: &str) -> Result<()> {
    sqlx::query("UPDATE import_runs SET status = $1 WHERE id = $2 AND status = 'running'")
        .bind(status)
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}
