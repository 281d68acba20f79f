//! Create once per form. A create form of the web UI carries a one-time token; the first post
//! that saves records (user, token → where the created record is shown) in the transaction of
//! the record itself, and a second post with the same token (the user pressed Back and
//! submitted again) creates nothing and answers with that place. A refused post records
//! nothing (its transaction rolls back), so the corrected form with the same token still
//! saves. Tokens are kept [`KEEP_HOURS`]; older ones are deleted as new ones are written.
use chrono::{Duration, Utc};
use sqlx::Row;

use crate::app::{Ctx, Result};
use crate::db::{ts, Db, WriteTx};

/// How long a form's token keeps its record.
pub const KEEP_HOURS: i64 = 24;

/// What a post with a token did.
#[derive(Debug)]
pub enum Once<T> {
    /// Saved now.
    Created(T),
    /// Saved by an earlier post of the same form: where that record is shown.
    Already(String),
}

/// The token a form posted, if it is one (1–128 letters, digits, `-` or `_`); anything else
/// counts as no token.
pub fn token(raw: Option<&str>) -> Option<&str> {
    raw.map(str::trim).filter(|t| {
        !t.is_empty() && t.len() <= 128 && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// Runs `create` in one transaction, once per (caller, `token`): the first time it saves and
/// records `target(&created)`; afterwards it answers [`Once::Already`] with that target and
/// writes nothing. Without a token it simply creates.
pub async fn create<T>(
    db: &Db,
    ctx: &Ctx,
    token: Option<&str>,
    target: impl FnOnce(&T) -> String,
    create: impl AsyncFnOnce(&mut WriteTx) -> Result<T>,
) -> Result<Once<T>> {
    let user = ctx.caller.user_id;
    let mut tx = db.begin().await?;
    if let Some(tok) = token {
        let now = Utc::now();
        sqlx::query("DELETE FROM form_tokens WHERE created_at < $1")
            .bind(ts(now - Duration::hours(KEEP_HOURS)))
            .execute(tx.conn())
            .await?;
        // Claimed first: a second post of the same form at the same moment waits here for the
        // first one's transaction (PostgreSQL; SQLite's writers take turns anyway).
        let claimed = sqlx::query(
            "INSERT INTO form_tokens (user_id, token, target, created_at) VALUES ($1, $2, '', $3) ON CONFLICT DO NOTHING",
        )
        .bind(user)
        .bind(tok)
        .bind(ts(now))
        .execute(tx.conn())
        .await?
        .rows_affected();
        if claimed == 0 {
            let target: String = sqlx::query("SELECT target FROM form_tokens WHERE user_id = $1 AND token = $2")
                .bind(user)
                .bind(tok)
                .fetch_one(tx.conn())
                .await?
                .try_get("target")?;
            tx.rollback().await?;
            return Ok(Once::Already(target));
        }
    }
    let created = create(&mut tx).await?;
    if let Some(tok) = token {
        sqlx::query("UPDATE form_tokens SET target = $1 WHERE user_id = $2 AND token = $3")
            .bind(target(&created))
            .bind(user)
            .bind(tok)
            .execute(tx.conn())
            .await?;
    }
    tx.commit().await?;
    Ok(Once::Created(created))
}
