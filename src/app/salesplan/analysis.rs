//! The past year analysed from the data, shown beside the draft of the next year's plan
//! (read-only, computed): sales by region and by month — won opportunities' booked amounts,
//! as the quotas' figures count them — growth against the year before, each region's share,
//! the top accounts, won and lost counts, and the receivables still open from the year.
use std::collections::HashMap;

use serde::Serialize;
use sqlx::Row;

use super::plan::{self, months};
use crate::app::{Caller, Result};
use crate::db::Db;
use crate::domain::money::format_fen;

/// One region's sales of the year.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanRegionSales {
    pub region: String,
    pub region_name: String,
    pub revenue: String,
    pub revenue_before: String,
    /// Growth against the year before in percent ("12.5"), null without sales then.
    pub growth_pct: Option<String>,
    /// Share of the year's sales in percent.
    pub share_pct: Option<String>,
}

/// One month's sales.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanMonthSales {
    pub month: String,
    pub revenue: String,
}

/// One of the top accounts.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanAccountSales {
    pub account_id: i64,
    pub account_name: String,
    pub revenue: String,
    pub share_pct: Option<String>,
}

/// The analysed year.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanAnalysis {
    /// The year analysed (the plan's year − 1).
    pub year: i32,
    pub revenue: String,
    pub revenue_before: String,
    pub growth_pct: Option<String>,
    pub by_region: Vec<PlanRegionSales>,
    pub by_month: Vec<PlanMonthSales>,
    /// The ten accounts with the most sales.
    pub top_accounts: Vec<PlanAccountSales>,
    /// Opportunities won (booked in the year) and lost (expected in the year).
    pub won: i64,
    pub lost: i64,
    /// Receivables of the year's orders still open: their count and what remains to be paid.
    pub receivables_open: i64,
    pub receivables_open_amount: String,
}

/// `part ÷ whole` in percent with one decimal ("12.5"), none when `whole` is 0.
pub fn pct(part: i64, whole: i64) -> Option<String> {
    if whole == 0 {
        return None;
    }
    let tenths = crate::domain::money::div_round(part * 1000, whole);
    let sign = if tenths < 0 { "-" } else { "" };
    Some(format!("{sign}{}.{}", tenths.abs() / 10, tenths.abs() % 10))
}

async fn by_region(conn: &mut sqlx::AnyConnection, year: i32) -> Result<HashMap<Option<i64>, i64>> {
    let rows = sqlx::query(
        "SELECT a.region_id, CAST(COALESCE(SUM(o.booked_amount), 0) AS BIGINT) AS booked FROM opportunities o \
         JOIN accounts a ON a.id = o.account_id WHERE o.stage = 'won' AND o.deleted_at IS NULL \
         AND o.booked_on >= $1 AND o.booked_on < $2 GROUP BY a.region_id",
    )
    .bind(format!("{year:04}-01-01"))
    .bind(format!("{:04}-01-01", year + 1))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("region_id")?, r.try_get("booked")?))).collect()
}

/// The analysis of the year before `plan_year`, for those who read plans.
pub async fn analyse(db: &Db, caller: &Caller, plan_year: i32) -> Result<PlanAnalysis> {
    plan::check_read(caller, plan_year)?;
    let year = plan_year - 1;
    let mut conn = db.pool.acquire().await?;
    let regs = plan::regions(&mut conn).await?;
    let now = by_region(&mut conn, year).await?;
    let before = by_region(&mut conn, year - 1).await?;
    let total: i64 = now.values().sum();
    let total_before: i64 = before.values().sum();
    let by_region = regs
        .iter()
        .map(|(id, code, name)| {
            let (r, b) = (now.get(&Some(*id)).copied().unwrap_or(0), before.get(&Some(*id)).copied().unwrap_or(0));
            PlanRegionSales {
                region: code.clone(),
                region_name: name.clone(),
                revenue: format_fen(r),
                revenue_before: format_fen(b),
                growth_pct: pct(r - b, b),
                share_pct: pct(r, total),
            }
        })
        .collect();
    let rows = sqlx::query(
        "SELECT SUBSTR(booked_on, 1, 7) AS month, CAST(COALESCE(SUM(booked_amount), 0) AS BIGINT) AS booked \
         FROM opportunities WHERE stage = 'won' AND deleted_at IS NULL AND booked_on >= $1 AND booked_on < $2 \
         GROUP BY SUBSTR(booked_on, 1, 7)",
    )
    .bind(format!("{year:04}-01-01"))
    .bind(format!("{:04}-01-01", year + 1))
    .fetch_all(&mut *conn)
    .await?;
    let mut per_month: HashMap<String, i64> = HashMap::new();
    for r in rows {
        per_month.insert(r.try_get("month")?, r.try_get("booked")?);
    }
    let by_month = months(year)
        .into_iter()
        .map(|m| PlanMonthSales { revenue: format_fen(per_month.get(&m).copied().unwrap_or(0)), month: m })
        .collect();
    let rows = sqlx::query(
        "SELECT a.id, a.name, CAST(COALESCE(SUM(o.booked_amount), 0) AS BIGINT) AS booked FROM opportunities o \
         JOIN accounts a ON a.id = o.account_id WHERE o.stage = 'won' AND o.deleted_at IS NULL \
         AND o.booked_on >= $1 AND o.booked_on < $2 GROUP BY a.id, a.name ORDER BY booked DESC, a.id LIMIT 10",
    )
    .bind(format!("{year:04}-01-01"))
    .bind(format!("{:04}-01-01", year + 1))
    .fetch_all(&mut *conn)
    .await?;
    let mut top_accounts = vec![];
    for r in rows {
        let b: i64 = r.try_get("booked")?;
        top_accounts.push(PlanAccountSales {
            account_id: r.try_get("id")?,
            account_name: r.try_get("name")?,
            revenue: format_fen(b),
            share_pct: pct(b, total),
        });
    }
    let won: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM opportunities WHERE stage = 'won' AND deleted_at IS NULL \
         AND booked_on >= $1 AND booked_on < $2",
    )
    .bind(format!("{year:04}-01-01"))
    .bind(format!("{:04}-01-01", year + 1))
    .fetch_one(&mut *conn)
    .await?
    .try_get("n")?;
    let lost: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM opportunities WHERE stage = 'lost' AND deleted_at IS NULL \
         AND expected_close >= $1 AND expected_close < $2",
    )
    .bind(format!("{year:04}-01-01"))
    .bind(format!("{:04}-01-01", year + 1))
    .fetch_one(&mut *conn)
    .await?
    .try_get("n")?;
    let r = sqlx::query(
        "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(amount - paid - written_off), 0) AS BIGINT) AS open_amount \
         FROM receivables WHERE state = 'open' AND created_at < $1",
    )
    .bind(format!("{:04}-01-01", year + 1))
    .fetch_one(&mut *conn)
    .await?;
    Ok(PlanAnalysis {
        year,
        revenue: format_fen(total),
        revenue_before: format_fen(total_before),
        growth_pct: pct(total - total_before, total_before),
        by_region,
        by_month,
        top_accounts,
        won,
        lost,
        receivables_open: r.try_get("n")?,
        receivables_open_amount: format_fen(r.try_get("open_amount")?),
    })
}
