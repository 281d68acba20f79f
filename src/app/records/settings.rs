//! The company's settings (`settings`: one row per key, a JSON value and its version), written
//! by one rule: over the version the editor read, so a save in between is never overwritten.
use crate::app::{Error, Result};
use crate::db::{now, Db, WriteTx};

/// Stores `value` under `key` over `version` (0: never saved, so the first save inserts
/// version 1; later saves add one where the version still matches). Another save since the
/// editor read it is [`Error::StaleVersion`]. The value stored already is no change: nothing
/// is written and the answer is `false` (the caller writes no audit row either).
pub async fn write(tx: &mut WriteTx, key: &str, value: &str, version: i64, by: &str) -> Result<bool> {
    if version > 0 {
        let same = sqlx::query("SELECT 1 AS x FROM settings WHERE key = $1 AND version = $2 AND value = $3")
            .bind(key)
            .bind(version)
            .bind(value)
            .fetch_optional(tx.conn())
            .await?;
        if same.is_some() {
            return Ok(false);
        }
    }
    let done = if version == 0 {
        sqlx::query(
            "INSERT INTO settings (key, value, version, updated_at, updated_by) VALUES ($1, $2, 1, $3, $4) \
             ON CONFLICT (key) DO NOTHING",
        )
        .bind(key)
        .bind(value)
        .bind(now())
        .bind(by)
        .execute(tx.conn())
        .await?
    } else {
        sqlx::query(
            "UPDATE settings SET value = $1, version = version + 1, updated_at = $2, updated_by = $3 \
             WHERE key = $4 AND version = $5",
        )
        .bind(value)
        .bind(now())
        .bind(by)
        .bind(key)
        .bind(version)
        .execute(tx.conn())
        .await?
    };
    if done.rows_affected() != 1 {
        return Err(Error::StaleVersion { current: version });
    }
    Ok(true)
}

/// Claims `day` for a once-a-day job whose last day is kept under `key` (created empty the
/// first time): answers the day it last ran (empty when never) when this caller claimed it, and
/// `None` when the job ran that day already or another server claimed it first. The claim is
/// part of `tx`: it holds only if that commits.
pub async fn claim_day(tx: &mut WriteTx, key: &str, day: &str) -> Result<Option<String>> {
    sqlx::query(
        "INSERT INTO settings (key, value, version, updated_at, updated_by) VALUES ($1, '', 1, $2, 'system') \
         ON CONFLICT (key) DO NOTHING",
    )
    .bind(key)
    .bind(now())
    .execute(tx.conn())
    .await?;
    let last: String = sqlx::Row::try_get(
        &sqlx::query("SELECT value FROM settings WHERE key = $1").bind(key).fetch_one(tx.conn()).await?,
        "value",
    )?;
    if last == day {
        return Ok(None);
    }
    let claimed = sqlx::query("UPDATE settings SET value = $1, updated_at = $2 WHERE key = $3 AND value = $4")
        .bind(day)
        .bind(now())
        .bind(key)
        .bind(last.as_str())
        .execute(tx.conn())
        .await?;
    Ok((claimed.rows_affected() == 1).then_some(last))
}

/// Gives back a day (or period) claimed with [`claim_day`] whose job failed: `key` goes back to
/// `last` (what the claim answered) if it still holds `day`, so the next scheduler pass tries
/// again. Best effort: when even this fails the job waits for the next day.
pub async fn release_day(db: &Db, key: &str, last: &str, day: &str) {
    let released = sqlx::query("UPDATE settings SET value = $1 WHERE key = $2 AND value = $3")
        .bind(last)
        .bind(key)
        .bind(day)
        .execute(&db.pool)
        .await;
    if let Err(e) = released {
        tracing::warn!(key, error = %e, "a failed daily job's claim could not be given back");
    }
}
