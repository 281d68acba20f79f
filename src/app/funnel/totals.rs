//! The funnel's figures kept per account and stage (`opportunity_totals`) and per region and
//! stage (`opportunity_region_totals`), derived from the opportunities and kept in step with
//! them inside the transaction of every change that can move them: an opportunity established,
//! edited or moved; an account moved to another region, deleted or merged.
//!
//! An account's rows are recomputed from its opportunities (a handful of rows) rather than
//! adjusted by differences, so a missed case cannot leave a drift that later changes carry
//! along; the region rows move by the difference between the account's old and new rows.
//! On PostgreSQL the account row is locked first (`customers::derived::lock`), so two transactions changing one
//! account's opportunities recompute one after the other and the second sees the first.
use std::collections::BTreeMap;

use sqlx::Row;

use crate::app::Result;
use crate::db::sql::Sql;
use crate::db::WriteTx;

/// What an opportunity counts for in the totals: the booked amount once won, else its amount.
pub const COUNTED: &str = "CASE WHEN o.stage = 'won' THEN COALESCE(o.booked_amount, o.amount) ELSE o.amount END";

type Rows = BTreeMap<(i64, String), (i64, i64)>;

/// Recomputes one account's rows and moves its region's rows by the difference; answers
/// whether they moved. Called by `customers::derived`, which holds the account's lock.
pub async fn refresh(tx: &mut WriteTx, account_id: i64) -> Result<bool> {
    let mut old = Rows::new();
    for r in sqlx::query("SELECT stage, region_id, n, amount FROM opportunity_totals WHERE account_id = $1")
        .bind(account_id)
        .fetch_all(tx.conn())
        .await?
    {
        old.insert((r.try_get("region_id")?, r.try_get("stage")?), (r.try_get("n")?, r.try_get("amount")?));
    }
    let mut new = Rows::new();
    let sql = format!(
        "SELECT o.stage AS stage, COALESCE(a.region_id, 0) AS region_id, COUNT(*) AS n, \
         CAST(COALESCE(SUM({COUNTED}), 0) AS BIGINT) AS amount \
         FROM opportunities o JOIN accounts a ON a.id = o.account_id \
         WHERE o.account_id = $1 AND o.deleted_at IS NULL AND a.deleted_at IS NULL \
         GROUP BY o.stage, COALESCE(a.region_id, 0)"
    );
    for r in sqlx::query(&sql).bind(account_id).fetch_all(tx.conn()).await? {
        new.insert((r.try_get("region_id")?, r.try_get("stage")?), (r.try_get("n")?, r.try_get("amount")?));
    }
    if old == new {
        return Ok(false);
    }
    // The account's open pipeline.
    let open: i64 = new
        .iter()
        .filter(|((_, st), _)| crate::domain::opportunity::Stage::parse(st).is_ok_and(|s| s.is_open()))
        .map(|(_, (_, a))| *a)
        .sum();
    sqlx::query("UPDATE accounts SET pipeline_open = $1 WHERE id = $2 AND pipeline_open <> $1")
        .bind(open)
        .bind(account_id)
        .execute(tx.conn())
        .await?;
    // The account's rows anew and the region's differences, a statement each (they run inside
    // the write of a stage move or an edit, holding SQLite's one writer).
    sqlx::query("DELETE FROM opportunity_totals WHERE account_id = $1").bind(account_id).execute(tx.conn()).await?;
    if !new.is_empty() {
        let mut s = Sql::new("INSERT INTO opportunity_totals (account_id, stage, region_id, n, amount) VALUES ");
        for (i, ((region, stage), (n, amount))) in new.iter().enumerate() {
            s.push(if i == 0 { "(" } else { ", (" }).bind(account_id);
            s.push(", ").bind(stage.clone()).push(", ").bind(*region);
            s.push(", ").bind(*n).push(", ").bind(*amount).push(")");
        }
        s.query().execute(tx.conn()).await?;
    }
    let mut delta = Rows::new();
    for (k, (n, a)) in &old {
        let d = delta.entry(k.clone()).or_default();
        d.0 -= n;
        d.1 -= a;
    }
    for (k, (n, a)) in &new {
        let d = delta.entry(k.clone()).or_default();
        d.0 += n;
        d.1 += a;
    }
    let delta: Vec<_> = delta.into_iter().filter(|(_, d)| *d != (0, 0)).collect();
    if !delta.is_empty() {
        // One row per (region, stage): the keys of a map, so no row meets another's conflict.
        let mut s = Sql::new("INSERT INTO opportunity_region_totals (region_id, stage, n, amount) VALUES ");
        for (i, ((region, stage), (n, amount))) in delta.into_iter().enumerate() {
            s.push(if i == 0 { "(" } else { ", (" }).bind(region).push(", ").bind(stage);
            s.push(", ").bind(n).push(", ").bind(amount).push(")");
        }
        s.push(
            " ON CONFLICT (region_id, stage) DO UPDATE SET n = opportunity_region_totals.n + excluded.n, \
             amount = opportunity_region_totals.amount + excluded.amount",
        );
        s.query().execute(tx.conn()).await?;
    }
    Ok(true)
}

/// Recomputes both tables from the opportunities (after bulk loads: the demo, the dataset).
pub async fn rebuild_all(conn: &mut sqlx::AnyConnection) -> Result<()> {
    sqlx::query("DELETE FROM opportunity_totals").execute(&mut *conn).await?;
    sqlx::query("DELETE FROM opportunity_region_totals").execute(&mut *conn).await?;
    sqlx::query(&format!(
        "INSERT INTO opportunity_totals (account_id, stage, region_id, n, amount) \
         SELECT o.account_id, o.stage, COALESCE(a.region_id, 0), COUNT(*), CAST(COALESCE(SUM({COUNTED}), 0) AS BIGINT) \
         FROM opportunities o JOIN accounts a ON a.id = o.account_id \
         WHERE o.deleted_at IS NULL AND a.deleted_at IS NULL \
         GROUP BY o.account_id, o.stage, COALESCE(a.region_id, 0)"
    ))
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO opportunity_region_totals (region_id, stage, n, amount) \
         SELECT region_id, stage, CAST(SUM(n) AS BIGINT), CAST(SUM(amount) AS BIGINT) FROM opportunity_totals \
         GROUP BY region_id, stage",
    )
    .execute(&mut *conn)
    .await?;
    // The accounts' open pipeline follows in `classify::rebuild_all`, with their other figures.
    Ok(())
}
