//! The aging report's kept summary (DOMAIN.md §12.1a; issue 21, Speed: HQ aging ≤ 50 ms at three
//! years' volume). Summing every open receivable into its aging column costs a second at HQ's
//! 114,000 open receivables; the report reads instead, per account and owner, what they still
//! owe in each column (`receivable_aging`, a few rows per account).
//!
//! The columns move with the day and with the company's bounds, so the table is stamped with
//! both (the setting `aging_summary`: `YYYY-MM-DD|30,60,90`). It is kept true three ways:
//! - every change to a receivable rewrites its account's rows in the same transaction
//!   ([`touch`]);
//! - the scheduler rebuilds it once the company's day has turned ([`daily`]);
//! - a report for a day or bounds the stamp does not match rebuilds it first ([`fresh`]), or,
//!   for a day before the stamp's (a caller in a time zone still on yesterday), is computed
//!   from the receivables themselves.
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sqlx::Row;

use crate::app::Result;
use crate::db::{now, Db, RowLock, WriteTx};

/// What a receivable still owes, in the receivables' own columns (`r.`).
pub(crate) const LEFT: &str = "r.amount - r.paid - r.written_off";

/// The setting that stamps the summary with its day and bounds.
const KEY: &str = "aging_summary";

/// The summary's columns: not yet due, then at most 8 bounds' 9 buckets.
pub const COLUMNS: usize = 10;

fn fmt_day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn stamp(today: NaiveDate, bounds: &[i64]) -> String {
    let b: Vec<String> = bounds.iter().map(i64::to_string).collect();
    format!("{}|{}", fmt_day(today), b.join(","))
}

fn stamp_day(stamp: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(stamp.split('|').next()?, "%Y-%m-%d").ok()
}

fn stamp_bounds(stamp: &str) -> Option<Vec<i64>> {
    let b = stamp.split('|').nth(1)?;
    b.split(',').map(|x| x.parse().ok()).collect()
}

/// The aging columns as sums over due dates: a day `d` past due is due on `today - d`, and the
/// due dates are ISO days, so each bucket is a range of text. `c0` is "not yet due"; there are
/// `bounds.len() + 2` of them.
pub(crate) fn aging_cols(today: NaiveDate, bounds: &[i64]) -> Vec<String> {
    let mut cols =
        vec![format!("CAST(SUM(CASE WHEN r.due_on >= '{}' THEN {LEFT} ELSE 0 END) AS BIGINT) AS c0", fmt_day(today))];
    let mut upper = today;
    for (i, b) in bounds.iter().enumerate() {
        let from = today - Duration::days(*b);
        cols.push(format!(
            "CAST(SUM(CASE WHEN r.due_on < '{}' AND r.due_on >= '{}' THEN {LEFT} ELSE 0 END) AS BIGINT) AS c{}",
            fmt_day(upper),
            fmt_day(from),
            i + 1
        ));
        upper = from;
    }
    cols.push(format!(
        "CAST(SUM(CASE WHEN r.due_on < '{}' THEN {LEFT} ELSE 0 END) AS BIGINT) AS c{}",
        fmt_day(upper),
        bounds.len() + 1
    ));
    cols
}

/// The same columns summed from the summary's rows (`r.`).
pub(crate) fn summary_cols(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("CAST(SUM(r.c{i}) AS BIGINT) AS c{i}")).collect()
}

/// `INSERT … SELECT` of the summary rows for the open receivables matching `filter` (a clause
/// over `r.`, starting with ` AND`), as of `today` under `bounds`.
fn insert_rows(today: NaiveDate, bounds: &[i64], filter: &str) -> String {
    let n = bounds.len() + 2;
    let names: Vec<String> = (0..n).map(|i| format!("c{i}")).collect();
    format!(
        "INSERT INTO receivable_aging (account_id, owner_id, {}, total) \
         SELECT r.account_id, r.owner_id, {}, CAST(SUM({LEFT}) AS BIGINT) FROM receivables r \
         WHERE r.state = 'open'{filter} GROUP BY r.account_id, r.owner_id",
        names.join(", "),
        aging_cols(today, bounds).join(", ")
    )
}

async fn ensure_stamp_row(tx: &mut WriteTx) -> Result<()> {
    sqlx::query(
        "INSERT INTO settings (key, value, version, updated_at, updated_by) VALUES ($1, '', 1, $2, 'system') \
         ON CONFLICT (key) DO NOTHING",
    )
    .bind(KEY)
    .bind(now())
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Rewrites the summary rows of one account after a change to its receivables, in the change's
/// transaction. Nothing when the summary was never built (the first report builds it).
pub(crate) async fn touch(tx: &mut WriteTx, account_id: i64) -> Result<()> {
    let lock = tx.lock_clause(RowLock::Share);
    let row = sqlx::query(&format!("SELECT value FROM settings WHERE key = $1{lock}"))
        .bind(KEY)
        .fetch_optional(tx.conn())
        .await?;
    let Some(st) = row.map(|r| r.try_get::<String, _>("value")).transpose()? else { return Ok(()) };
    let (Some(day), Some(bounds)) = (stamp_day(&st), stamp_bounds(&st)) else { return Ok(()) };
    sqlx::query("DELETE FROM receivable_aging WHERE account_id = $1").bind(account_id).execute(tx.conn()).await?;
    sqlx::query(&insert_rows(day, &bounds, " AND r.account_id = $1")).bind(account_id).execute(tx.conn()).await?;
    Ok(())
}

/// Per owner, what their open receivables still owe and how much of it is due more than `days`
/// days ago, as of `today` — from the summary when it is stamped with `today` and `days` is one
/// of its bounds (the columns beyond that bound), `None` otherwise (read the receivables).
/// `owners` narrows to some owners.
pub(crate) async fn owed_by_owner(
    conn: &mut sqlx::AnyConnection,
    today: NaiveDate,
    days: i64,
    owners: Option<&[i64]>,
) -> Result<Option<std::collections::HashMap<i64, (i64, i64)>>> {
    let st: Option<String> = sqlx::query("SELECT value FROM settings WHERE key = $1")
        .bind(KEY)
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| r.try_get("value"))
        .transpose()?;
    let Some(st) = st else { return Ok(None) };
    let (Some(day), Some(bounds)) = (stamp_day(&st), stamp_bounds(&st)) else { return Ok(None) };
    let Some(at) = bounds.iter().position(|b| *b == days).filter(|_| day == today) else { return Ok(None) };
    // c0 is not yet due, c(i+1) ends at bound i: beyond bound `at` are c(at+2) … c(n+1).
    let over: Vec<String> = (at + 2..bounds.len() + 2).map(|i| format!("r.c{i}")).collect();
    let mut s = crate::db::sql::Sql::new(&format!(
        "SELECT r.owner_id, CAST(SUM(r.total) AS BIGINT) AS total, CAST(SUM({}) AS BIGINT) AS over \
         FROM receivable_aging r",
        over.join(" + ")
    ));
    if let Some(ids) = owners {
        s.push(" WHERE r.owner_id IN (").bind_list(ids).push(")");
    }
    s.push(" GROUP BY r.owner_id");
    let mut out = std::collections::HashMap::new();
    for r in s.query().fetch_all(&mut *conn).await? {
        out.insert(r.try_get("owner_id")?, (r.try_get("total")?, r.try_get("over")?));
    }
    Ok(Some(out))
}

/// [`touch`] for the account of an order.
pub(crate) async fn touch_order(tx: &mut WriteTx, order_id: i64) -> Result<()> {
    let account = account_of(tx, order_id).await?;
    touch(tx, account).await
}

/// The account of an order (here, below the modules that use it: `orders` imports this one).
pub(crate) async fn account_of(tx: &mut WriteTx, order_id: i64) -> Result<i64> {
    let r = sqlx::query("SELECT account_id FROM orders WHERE id = $1").bind(order_id).fetch_one(tx.conn()).await?;
    Ok(r.try_get("account_id")?)
}

/// Rebuilds the whole summary as of `today` under `bounds`, unless it already is (another
/// process may have just done it).
pub async fn rebuild(db: &Db, today: NaiveDate, bounds: &[i64]) -> Result<()> {
    let want = stamp(today, bounds);
    let mut tx = db.begin().await?;
    ensure_stamp_row(&mut tx).await?;
    let lock = tx.lock_clause(RowLock::Update);
    let cur: String = sqlx::query(&format!("SELECT value FROM settings WHERE key = $1{lock}"))
        .bind(KEY)
        .fetch_one(tx.conn())
        .await?
        .try_get("value")?;
    if cur == want {
        return Ok(());
    }
    sqlx::query("DELETE FROM receivable_aging").execute(tx.conn()).await?;
    sqlx::query(&insert_rows(today, bounds, "")).execute(tx.conn()).await?;
    sqlx::query("UPDATE settings SET value = $1, updated_at = $2 WHERE key = $3")
        .bind(want)
        .bind(now())
        .bind(KEY)
        .execute(tx.conn())
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Whether the report for `today` under `bounds` can read the summary: yes when its stamp
/// matches, or after rebuilding it when the stamp is older or its bounds differ; no for a day
/// before the stamp's (read the receivables themselves).
pub async fn fresh(db: &Db, today: NaiveDate, bounds: &[i64]) -> Result<bool> {
    let cur: Option<String> = sqlx::query("SELECT value FROM settings WHERE key = $1")
        .bind(KEY)
        .fetch_optional(&db.pool)
        .await?
        .map(|r| r.try_get("value"))
        .transpose()?;
    if cur.as_deref() == Some(stamp(today, bounds).as_str()) {
        return Ok(true);
    }
    if cur.as_deref().and_then(stamp_day).is_some_and(|d| d > today) {
        return Ok(false);
    }
    rebuild(db, today, bounds).await?;
    Ok(true)
}

/// The scheduler's part: once the company's day (Asia/Shanghai) has turned, or the bounds
/// changed, the summary is rebuilt before anyone asks for the report.
pub async fn daily(db: &Db, now_at: DateTime<Utc>) -> Result<()> {
    let today = crate::domain::activity::local_day(now_at, chrono_tz::Asia::Shanghai);
    let bounds = crate::app::orders::policy::load(db).await?.bounds();
    fresh(db, today, &bounds).await.map(|_| ())
}
