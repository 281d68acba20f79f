//! The year's actuals kept by month (`sales_month_accounts` per account, `sales_months` per
//! month, region and owner): what was booked — won opportunities' booked amounts, by booking
//! month and the opportunity's owner — and what was signed — the margin of signed, not
//! cancelled orders over the catalogue's standard cost, and their count, by the month signed
//! (UTC) and the order's owner; each under the account's region. Plan-against-actual
//! (`salesplan::tracking`) and the KPI scorecards (`kpi::score`) add up these rows instead of
//! every won opportunity and signed order (docs/DOMAIN.md §16.9).
//!
//! Kept as the funnel's totals are (`funnel::totals`): inside the transaction of every change
//! that can move them, under the account's lock, an account's rows are recomputed from its
//! opportunities and orders (a few rows) and the month's rows move by the difference.
//! `customers::derived::refresh` calls [`refresh`] after an opportunity's change, an account
//! moved to another region, a hand-over and a merge; the orders' sign-off, cancellation and the
//! opening import call it through `derived::Change::Orders`.
use std::collections::BTreeMap;

use sqlx::Row;

use crate::app::Result;
use crate::db::sql::Sql;
use crate::db::WriteTx;

/// An account's or a month's figures: booked revenue, signed profit, orders signed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Figures {
    pub revenue: i64,
    pub profit: i64,
    pub orders: i64,
}

/// (month `YYYY-MM`, owner, region) → figures.
type Rows = BTreeMap<(String, i64, i64), Figures>;

/// The per-account rows' source: booked and signed, `{filter}` narrowing both to some accounts
/// (`o.account_id` is the account in either part).
fn source(filter: &str) -> String {
    format!(
        "SELECT s.account_id AS account_id, s.month AS month, s.owner_id AS owner_id, \
         COALESCE(a.region_id, 0) AS region_id, CAST(SUM(s.revenue) AS BIGINT) AS revenue, \
         CAST(SUM(s.profit) AS BIGINT) AS profit, CAST(SUM(s.n) AS BIGINT) AS orders FROM ( \
           SELECT o.account_id AS account_id, SUBSTR(o.booked_on, 1, 7) AS month, COALESCE(o.owner_id, 0) AS owner_id, \
                  o.booked_amount AS revenue, 0 AS profit, 0 AS n \
           FROM opportunities o WHERE o.stage = 'won' AND o.deleted_at IS NULL AND o.booked_on IS NOT NULL \
             AND o.booked_amount IS NOT NULL{filter} \
           UNION ALL \
           SELECT o.account_id, SUBSTR(o.signed_at, 1, 7), COALESCE(o.owner_id, 0), 0, v.total_excl - v.cost, 1 \
           FROM orders o JOIN order_versions v ON v.order_id = o.id AND v.version_no = o.signed_version \
           WHERE o.signed_version IS NOT NULL AND o.state <> 'cancelled' AND o.signed_at IS NOT NULL{filter} \
         ) s JOIN accounts a ON a.id = s.account_id \
         GROUP BY s.account_id, s.month, s.owner_id, COALESCE(a.region_id, 0)"
    )
}

fn figures(r: &sqlx::any::AnyRow) -> Result<Figures> {
    Ok(Figures { revenue: r.try_get("revenue")?, profit: r.try_get("profit")?, orders: r.try_get("orders")? })
}

/// Recomputes one account's rows and moves the months' rows by the difference; answers whether
/// they moved. The caller holds the account's lock (`customers::derived`).
pub async fn refresh(tx: &mut WriteTx, account_id: i64) -> Result<bool> {
    let mut old = Rows::new();
    for r in sqlx::query(
        "SELECT month, owner_id, region_id, revenue, profit, orders FROM sales_month_accounts WHERE account_id = $1",
    )
    .bind(account_id)
    .fetch_all(tx.conn())
    .await?
    {
        old.insert((r.try_get("month")?, r.try_get("owner_id")?, r.try_get("region_id")?), figures(&r)?);
    }
    let mut new = Rows::new();
    for r in sqlx::query(&source(" AND o.account_id = $1")).bind(account_id).fetch_all(tx.conn()).await? {
        new.insert((r.try_get("month")?, r.try_get("owner_id")?, r.try_get("region_id")?), figures(&r)?);
    }
    if old == new {
        return Ok(false);
    }
    sqlx::query("DELETE FROM sales_month_accounts WHERE account_id = $1").bind(account_id).execute(tx.conn()).await?;
    // A statement per few hundred rows (an account's years of months stay far below that).
    let rows: Vec<_> = new.iter().collect();
    for chunk in rows.chunks(200) {
        let mut s = Sql::new(
            "INSERT INTO sales_month_accounts (account_id, month, owner_id, region_id, revenue, profit, orders) VALUES ",
        );
        for (i, ((month, owner, region), f)) in chunk.iter().enumerate() {
            s.push(if i == 0 { "(" } else { ", (" }).bind(account_id);
            s.push(", ").bind(month.clone()).push(", ").bind(*owner).push(", ").bind(*region);
            s.push(", ").bind(f.revenue).push(", ").bind(f.profit).push(", ").bind(f.orders).push(")");
        }
        s.query().execute(tx.conn()).await?;
    }
    let mut delta = Rows::new();
    for (k, f) in &old {
        let d = delta.entry(k.clone()).or_default();
        d.revenue -= f.revenue;
        d.profit -= f.profit;
        d.orders -= f.orders;
    }
    for (k, f) in &new {
        let d = delta.entry(k.clone()).or_default();
        d.revenue += f.revenue;
        d.profit += f.profit;
        d.orders += f.orders;
    }
    let delta: Vec<_> = delta.into_iter().filter(|(_, d)| *d != Figures::default()).collect();
    for chunk in delta.chunks(200) {
        // One row per (month, region, owner): a map's keys, so no row meets another's conflict.
        let mut s = Sql::new("INSERT INTO sales_months (month, region_id, owner_id, revenue, profit, orders) VALUES ");
        for (i, ((month, owner, region), d)) in chunk.iter().enumerate() {
            s.push(if i == 0 { "(" } else { ", (" }).bind(month.clone());
            s.push(", ").bind(*region).push(", ").bind(*owner);
            s.push(", ").bind(d.revenue).push(", ").bind(d.profit).push(", ").bind(d.orders).push(")");
        }
        s.push(
            " ON CONFLICT (month, region_id, owner_id) DO UPDATE SET revenue = sales_months.revenue + excluded.revenue, \
             profit = sales_months.profit + excluded.profit, orders = sales_months.orders + excluded.orders",
        );
        s.query().execute(tx.conn()).await?;
    }
    Ok(true)
}

/// Recomputes both tables from the opportunities and orders (after bulk loads: the demo, the
/// dataset).
pub async fn rebuild_all(conn: &mut sqlx::AnyConnection) -> Result<()> {
    sqlx::query("DELETE FROM sales_month_accounts").execute(&mut *conn).await?;
    sqlx::query("DELETE FROM sales_months").execute(&mut *conn).await?;
    sqlx::query(&format!(
        "INSERT INTO sales_month_accounts (account_id, month, owner_id, region_id, revenue, profit, orders) {}",
        source("")
    ))
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO sales_months (month, region_id, owner_id, revenue, profit, orders) \
         SELECT month, region_id, owner_id, CAST(SUM(revenue) AS BIGINT), CAST(SUM(profit) AS BIGINT), \
         CAST(SUM(orders) AS BIGINT) FROM sales_month_accounts GROUP BY month, region_id, owner_id",
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The months `[from, to)` (`YYYY-MM`), summed by `key` — `region_id` or `owner_id` — and month:
/// (key, month) → figures. `owners` narrows to some owners.
pub async fn by_month(
    conn: &mut sqlx::AnyConnection,
    key: Key,
    from: &str,
    to: &str,
    owners: Option<&[i64]>,
) -> Result<BTreeMap<(i64, String), Figures>> {
    let col = match key {
        Key::Region => "region_id",
        Key::Owner => "owner_id",
    };
    let mut s = Sql::new(&format!(
        "SELECT {col} AS k, month, CAST(SUM(revenue) AS BIGINT) AS revenue, CAST(SUM(profit) AS BIGINT) AS profit, \
         CAST(SUM(orders) AS BIGINT) AS orders FROM sales_months WHERE month >= "
    ));
    s.bind(from.to_string()).push(" AND month < ").bind(to.to_string());
    if let Some(ids) = owners {
        if ids.is_empty() {
            return Ok(BTreeMap::new());
        }
        s.push(" AND owner_id IN (").bind_list(ids).push(")");
    }
    s.push(&format!(" GROUP BY {col}, month"));
    let mut out = BTreeMap::new();
    for r in s.query().fetch_all(&mut *conn).await? {
        out.insert((r.try_get("k")?, r.try_get("month")?), figures(&r)?);
    }
    Ok(out)
}

/// What [`by_month`] sums by.
#[derive(Debug, Clone, Copy)]
pub enum Key {
    Region,
    Owner,
}
