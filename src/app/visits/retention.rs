//! How long visits' check-in locations and photos are kept (个人信息保护法; issue 26,
//! DOMAIN.md §8): the company's setting (`check_in_retention`, in days; 365 by default — the
//! seeds give no figure, so it is the company's choice), and the daily pass that clears the
//! locations and deletes the photos older than that. The visit stays, and stays counted as
//! checked in (`checked_in`); its page says the location and photo were deleted at the end of
//! the period (`check_in_purged_at`). The location goes from the visit's earlier audit rows
//! too. A photo's bytes leave storage when no other visit still shows the same photo.
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

use crate::app::records::files::{Area, Storage};
use crate::app::records::{audit, settings as stored};
use crate::app::{Ctx, Error, Result};
use crate::db::{now, ts, Db};
use crate::domain::role::Role;

const KEY: &str = "check_in_retention";
const DAY_KEY: &str = "check_in_retention_day";
/// The shipped default: a year (the company's choice).
pub const DEFAULT_DAYS: i64 = 365;
pub const MIN_DAYS: i64 = 1;
pub const MAX_DAYS: i64 = 3650;

/// The retention period in force.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RetentionSettings {
    /// Days a visit's check-in location and photo are kept, counted from when each was taken
    /// (1–3650; 365 by default — the company's choice).
    #[schema(minimum = 1, maximum = 3650)]
    pub days: i64,
    /// Whether this is the shipped default (the company never saved its own).
    pub is_default: bool,
    /// The setting's version (0: never saved); give it back to save.
    pub version: i64,
}

/// The period as given.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetentionSettingsIn {
    #[schema(minimum = 1, maximum = 3650)]
    pub days: i64,
    /// The version read.
    pub version: i64,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    days: i64,
}

fn check_days(days: i64) -> Result<i64, &'static str> {
    if (MIN_DAYS..=MAX_DAYS).contains(&days) {
        Ok(days)
    } else {
        Err("retention_days_range")
    }
}

pub async fn settings_in(conn: &mut sqlx::AnyConnection) -> Result<RetentionSettings> {
    let r = sqlx::query("SELECT value, version FROM settings WHERE key = $1").bind(KEY).fetch_optional(conn).await?;
    let default = RetentionSettings { days: DEFAULT_DAYS, is_default: true, version: 0 };
    Ok(match r {
        None => default,
        Some(r) => {
            let v: String = r.try_get("value")?;
            let version = r.try_get("version")?;
            match serde_json::from_str::<Stored>(&v) {
                Ok(s) if check_days(s.days).is_ok() => RetentionSettings { days: s.days, is_default: false, version },
                _ => RetentionSettings { version, ..default },
            }
        }
    })
}

pub async fn settings(db: &Db) -> Result<RetentionSettings> {
    settings_in(&mut *db.pool.acquire().await?).await
}

/// Who may change the period: the administrator (a company setting).
pub fn may_edit(role: Role) -> bool {
    role.is_admin()
}

/// Saves the period over the version read (1–3650 days, else 422 `days`).
pub async fn save_settings(db: &Db, ctx: &Ctx, inp: &RetentionSettingsIn) -> Result<RetentionSettings> {
    if !may_edit(ctx.caller.role) {
        return Err(Error::Forbidden);
    }
    check_days(inp.days).map_err(|c| Error::invalid("days", c))?;
    let value = serde_json::to_string(&Stored { days: inp.days }).map_err(anyhow::Error::from)?;
    let mut tx = db.begin().await?;
    let before = settings_in(tx.conn()).await?;
    if stored::write(&mut tx, KEY, &value, inp.version, &ctx.caller.username).await? {
        audit::record(
            &mut tx,
            ctx,
            "settings",
            KEY,
            "update",
            Some(&json!({"days": before.days})),
            Some(&json!({"days": inp.days})),
        )
        .await?;
    }
    let after = settings_in(tx.conn()).await?;
    tx.commit().await?;
    Ok(after)
}

/// What one pass deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Purged {
    /// Visits whose check-in location was cleared.
    pub locations: u64,
    /// Visits whose photo was taken off.
    pub photos: u64,
    /// Photo files removed from storage (a photo shown by another visit still is kept).
    pub files_removed: usize,
}

/// Once a day (the first scheduler pass of the company's day, on whichever server claims it):
/// [`pass`].
pub async fn daily(db: &Db, store: &Storage, now_at: DateTime<Utc>) -> Result<Purged> {
    let today = crate::domain::activity::local_day(now_at, chrono_tz::Asia::Shanghai).format("%Y-%m-%d").to_string();
    let mut tx = db.begin().await?;
    let Some(last) = stored::claim_day(&mut tx, DAY_KEY, &today).await? else {
        return Ok(Purged::default());
    };
    tx.commit().await?;
    let done = pass(db, store, now_at).await;
    if done.is_err() {
        // The next scheduler pass tries again.
        stored::release_day(db, DAY_KEY, &last, &today).await;
    }
    done
}

/// Clears the check-in locations taken, and takes off the photos uploaded, before the period
/// (counted back from `now_at`), in one transaction with one audit row of the counts; then
/// removes from storage the photos no visit shows any more.
pub async fn pass(db: &Db, store: &Storage, now_at: DateTime<Utc>) -> Result<Purged> {
    let days = settings(db).await?.days;
    let cutoff = ts(now_at - Duration::days(days));
    let at = now();
    let mut tx = db.begin().await?;
    let shas: Vec<String> =
        sqlx::query("SELECT DISTINCT photo_sha256 FROM activities WHERE photo_sha256 IS NOT NULL AND photo_at < $1")
            .bind(cutoff.clone())
            .fetch_all(tx.conn())
            .await?
            .iter()
            .map(|r| r.try_get("photo_sha256"))
            .collect::<Result<_, _>>()?;
    let located: Vec<i64> =
        sqlx::query("SELECT id FROM activities WHERE check_in_lat_e6 IS NOT NULL AND check_in_at < $1 ORDER BY id")
            .bind(cutoff.clone())
            .fetch_all(tx.conn())
            .await?
            .iter()
            .map(|r| r.try_get("id"))
            .collect::<Result<_, _>>()?;
    let locations = sqlx::query(
        "UPDATE activities SET check_in_lat_e6 = NULL, check_in_lon_e6 = NULL, check_in_accuracy_m = NULL, \
         check_in_purged_at = $1 WHERE check_in_lat_e6 IS NOT NULL AND check_in_at < $2",
    )
    .bind(at.clone())
    .bind(cutoff.clone())
    .execute(tx.conn())
    .await?
    .rows_affected();
    let photos = sqlx::query(
        "UPDATE activities SET photo_sha256 = NULL, photo_type = NULL, photo_size = NULL, photo_at = NULL, \
         check_in_purged_at = $1 WHERE photo_sha256 IS NOT NULL AND photo_at < $2",
    )
    .bind(at.clone())
    .bind(cutoff.clone())
    .execute(tx.conn())
    .await?
    .rows_affected();
    if locations == 0 && photos == 0 {
        return Ok(Purged::default());
    }
    // The locations in the visits' earlier audit rows go too.
    for id in &located {
        let rows = sqlx::query(
            "SELECT id, before_json, after_json FROM audit_log WHERE entity = 'activity' AND entity_id = $1 \
             AND (before_json LIKE '%\"check_in\":{%' OR after_json LIKE '%\"check_in\":{%')",
        )
        .bind(id.to_string())
        .fetch_all(tx.conn())
        .await?;
        for r in rows {
            let blank = |col: &str| -> Result<Option<String>> {
                let t: Option<String> = r.try_get(col)?;
                Ok(t.map(|t| match serde_json::from_str::<serde_json::Value>(&t) {
                    Ok(mut v) => {
                        if let Some(c) = v.get_mut("check_in") {
                            *c = serde_json::Value::Null;
                        }
                        v.to_string()
                    }
                    Err(_) => t,
                }))
            };
            sqlx::query("UPDATE audit_log SET before_json = $1, after_json = $2 WHERE id = $3")
                .bind(blank("before_json")?)
                .bind(blank("after_json")?)
                .bind(r.try_get::<i64, _>("id")?)
                .execute(tx.conn())
                .await?;
        }
    }
    // Photos another (more recent) visit still shows stay in storage.
    let mut gone = vec![];
    for sha in shas {
        let used = sqlx::query("SELECT 1 AS x FROM activities WHERE photo_sha256 = $1 LIMIT 1")
            .bind(sha.clone())
            .fetch_optional(tx.conn())
            .await?;
        if used.is_none() {
            gone.push(sha);
        }
    }
    audit::record(
        &mut tx,
        &Ctx::system(),
        "check_in_retention",
        &at[..10],
        "purge",
        None,
        Some(&json!({"days": days, "before": cutoff, "locations": locations, "photos": photos, "files": gone.len()})),
    )
    .await?;
    tx.commit().await?;
    // The bytes after the commit: a failed commit leaves every photo its file.
    let mut files_removed = 0;
    let mut conn = db.pool.acquire().await?;
    for sha in &gone {
        // A visit given the same photo since (its upload found the bytes there) keeps them.
        let shown = sqlx::query("SELECT 1 AS x FROM activities WHERE photo_sha256 = $1 LIMIT 1")
            .bind(sha.clone())
            .fetch_optional(&mut *conn)
            .await?;
        if shown.is_some() {
            continue;
        }
        match store.remove(&mut conn, Area::Photos, sha).await {
            Ok(()) => files_removed += 1,
            Err(e) => tracing::warn!(error = %e, sha = %sha, "removing an expired visit photo failed"),
        }
    }
    Ok(Purged { locations, photos, files_removed })
}
