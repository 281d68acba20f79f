//! The figures an account plan's objectives are measured by (issue 23 item 5): an objective
//! linked to a figure KAM keeps updates itself on every read — the account's share of wallet,
//! the revenue booked (signed orders) in the plan's year, an opportunity won — and one measured
//! by hand shows what its owner entered. Milestones and objectives past due, or due within a
//! week and less than half done, are slipping.
use serde::Serialize;
use sqlx::Row;

use crate::app::Result;
use crate::domain::account_plan::{self as ap, Action, ItemStatus, Measure, Objective};
use crate::domain::money;

/// An objective with the figure that measures it, as of now.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Measured {
    pub key: String,
    pub title: String,
    /// Username of its owner.
    pub owner: Option<String>,
    pub owner_name: Option<String>,
    pub measure: Option<Measure>,
    /// The target as stored (percent, yuan or text).
    pub target: Option<String>,
    /// The figure reached: the share in percent, the revenue in yuan, `won`/`lost`/the
    /// opportunity's stage, or what the owner entered.
    pub current: Option<String>,
    /// Progress in percent (0–100): computed for figures KAM keeps, as entered otherwise.
    pub percent: i64,
    /// Its status: `done` once a figure reaches its target, `missed` when the opportunity was
    /// lost, `at_risk` when slipping, else as entered (`open` when none).
    pub status: ItemStatus,
    #[schema(format = Date)]
    pub due_on: Option<String>,
    pub slipping: bool,
    /// The opportunity it is about (`opportunity_won`).
    pub opportunity_id: Option<i64>,
}

/// A tracked action or milestone, as of now.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Tracked {
    pub key: String,
    pub title: String,
    pub kind: ap::ActionKind,
    pub owner: Option<String>,
    pub owner_name: Option<String>,
    #[schema(format = Date)]
    pub due_on: Option<String>,
    pub milestone: bool,
    pub percent: i64,
    pub status: ItemStatus,
    pub slipping: bool,
}

async fn name_of(conn: &mut sqlx::AnyConnection, user: Option<&str>) -> Result<Option<String>> {
    let Some(u) = user else { return Ok(None) };
    Ok(sqlx::query("SELECT COALESCE(display_name, username) AS n FROM users WHERE username = $1")
        .bind(u)
        .fetch_optional(conn)
        .await?
        .map(|r| r.try_get("n"))
        .transpose()?)
}

/// The revenue booked with the account in `year`: the signed totals of its orders signed that
/// year, in fen.
pub async fn booked(conn: &mut sqlx::AnyConnection, account_id: i64, year: i32) -> Result<i64> {
    let r = sqlx::query(
        "SELECT CAST(COALESCE(SUM(signed_total), 0) AS BIGINT) AS t FROM orders WHERE account_id = $1 AND state <> 'cancelled' \
         AND signed_at >= $2 AND signed_at < $3",
    )
    .bind(account_id)
    .bind(format!("{year}-01-01"))
    .bind(format!("{}-01-01", year + 1))
    .fetch_one(conn)
    .await?;
    Ok(r.try_get::<Option<i64>, _>("t")?.unwrap_or(0))
}

fn pct(reached: i64, target: i64) -> i64 {
    if target <= 0 {
        return 0;
    }
    (reached.saturating_mul(100) / target).clamp(0, 100)
}

fn status_of(given: Option<ItemStatus>, slipping: bool) -> ItemStatus {
    match given {
        Some(s @ (ItemStatus::Done | ItemStatus::Missed)) => s,
        _ if slipping => ItemStatus::AtRisk,
        Some(s) => s,
        None => ItemStatus::Open,
    }
}

/// The plan's objectives (of the account, for `year`) measured as of `today`.
pub async fn measure(
    conn: &mut sqlx::AnyConnection,
    account_id: i64,
    year: i32,
    objectives: &[Objective],
    today: chrono::NaiveDate,
) -> Result<Vec<Measured>> {
    let mut share: Option<Option<i64>> = None;
    let mut revenue: Option<i64> = None;
    let mut out = Vec::with_capacity(objectives.len());
    for o in objectives {
        let (mut current, mut percent, mut status) = (o.actual.clone(), o.percent.unwrap_or(0), o.status);
        match o.measure {
            Some(Measure::Share) => {
                if share.is_none() {
                    let r = sqlx::query("SELECT sow_bp FROM accounts WHERE id = $1")
                        .bind(account_id)
                        .fetch_optional(&mut *conn)
                        .await?;
                    share = Some(r.map(|r| r.try_get::<Option<i64>, _>("sow_bp")).transpose()?.flatten());
                }
                let target = o.target.as_deref().and_then(|t| money::parse_bp(t).ok()).unwrap_or(0);
                if let Some(Some(bp)) = share {
                    current = Some(money::format_bp(bp));
                    percent = pct(bp, target);
                    if bp >= target && target > 0 {
                        status = Some(ItemStatus::Done);
                    }
                }
            }
            Some(Measure::Revenue) => {
                let got = match revenue {
                    Some(v) => v,
                    None => {
                        let v = booked(&mut *conn, account_id, year).await?;
                        revenue = Some(v);
                        v
                    }
                };
                let target = o.target.as_deref().and_then(|t| money::parse_fen(t).ok()).unwrap_or(0);
                current = Some(money::format_fen(got));
                percent = pct(got, target);
                if got >= target && target > 0 {
                    status = Some(ItemStatus::Done);
                }
            }
            Some(Measure::OpportunityWon) => {
                let r = match o.opportunity_id {
                    Some(id) => {
                        sqlx::query("SELECT stage, probability FROM opportunities WHERE id = $1 AND account_id = $2")
                            .bind(id)
                            .bind(account_id)
                            .fetch_optional(&mut *conn)
                            .await?
                    }
                    None => None,
                };
                if let Some(r) = r {
                    let stage: String = r.try_get("stage")?;
                    percent = match stage.as_str() {
                        "won" => 100,
                        "lost" => 0,
                        _ => r.try_get::<i64, _>("probability")?.clamp(0, 100),
                    };
                    status = match stage.as_str() {
                        "won" => Some(ItemStatus::Done),
                        "lost" => Some(ItemStatus::Missed),
                        _ => status,
                    };
                    current = Some(stage);
                }
            }
            Some(Measure::Manual) | None => {}
        }
        let slipping = ap::slipping(o.due_on.as_deref(), status, Some(percent), today);
        out.push(Measured {
            key: o.key.clone(),
            title: o.title.clone(),
            owner: o.owner.clone(),
            owner_name: name_of(&mut *conn, o.owner.as_deref()).await?,
            measure: o.measure,
            target: o.target.clone(),
            current,
            percent,
            status: status_of(status, slipping),
            due_on: o.due_on.clone(),
            slipping,
            opportunity_id: o.opportunity_id,
        });
    }
    Ok(out)
}

/// The plan's actions as tracked on `today`.
pub async fn track(
    conn: &mut sqlx::AnyConnection,
    actions: &[Action],
    today: chrono::NaiveDate,
) -> Result<Vec<Tracked>> {
    let mut out = Vec::with_capacity(actions.len());
    for a in actions {
        let percent = if a.status == Some(ItemStatus::Done) { 100 } else { a.percent.unwrap_or(0) };
        let slipping = ap::slipping(a.due_on.as_deref(), a.status, Some(percent), today);
        out.push(Tracked {
            key: a.key.clone(),
            title: a.title.clone(),
            kind: a.kind,
            owner: a.owner.clone(),
            owner_name: name_of(&mut *conn, a.owner.as_deref()).await?,
            due_on: a.due_on.clone(),
            milestone: a.milestone,
            percent,
            status: status_of(a.status, slipping),
            slipping,
        });
    }
    Ok(out)
}
