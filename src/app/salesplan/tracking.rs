//! The plan against actual, by month and region: the plan's revenue and profit targets beside
//! what was booked (won opportunities' booked amounts, by their booking date and the account's
//! region — as the quotas' figures count them) and the profit of the orders signed (the margin
//! of their lines over the catalogue's standard cost), with the attainment; both read from the
//! months' kept actuals (`funnel::months`). After the year, the
//! KA director records the appraisal: a rating and a text per region.
use std::collections::HashMap;

use chrono::Datelike;

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

use super::analysis::pct;
use super::plan::{self, may_draft, months, KIND};
use crate::app::funnel::months::{self, Key};
use crate::app::records::audit;
use crate::app::{Caller, Ctx, Error, Result};
use crate::db::{ts, Db};
use crate::domain::error::Errors;
use crate::domain::money::format_fen;
use crate::domain::text;

/// The appraisal's ratings.
pub const RATINGS: &[&str] = &["excellent", "good", "fair", "poor"];

/// Plan and actual of one cell (a region's month, a region's year, a month over all regions).
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct PlanCell {
    /// `YYYY-MM`, or empty for a year's total.
    pub month: String,
    pub plan_revenue: String,
    pub actual_revenue: String,
    pub plan_profit: String,
    pub actual_profit: String,
    /// actual ÷ plan revenue in percent ("87.5"), null without a plan.
    pub attainment_pct: Option<String>,
}

/// One region's year, month by month.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanRegionTrack {
    pub region: String,
    pub region_name: String,
    pub months: Vec<PlanCell>,
    pub total: PlanCell,
}

/// One region's year-end appraisal.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PlanAppraisal {
    pub region: String,
    #[serde(default)]
    pub region_name: String,
    /// `excellent`, `good`, `fair`, `poor`.
    pub rating: String,
    pub text: String,
}

/// The plan against actual of a year.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanTracking {
    pub year: i32,
    pub state: String,
    pub regions: Vec<PlanRegionTrack>,
    /// Every region, month by month.
    pub months: Vec<PlanCell>,
    pub total: PlanCell,
    pub appraisal: Vec<PlanAppraisal>,
    #[schema(format = DateTime)]
    pub appraised_at: Option<String>,
    /// The KA director may record the appraisal (the year is over).
    pub may_appraise: bool,
    /// The plan's version (to send with the appraisal).
    pub version: i64,
}

#[derive(Default, Clone, Copy)]
struct Sums {
    pr: i64,
    ar: i64,
    pp: i64,
    ap: i64,
}

impl Sums {
    fn add(&mut self, o: Sums) {
        self.pr += o.pr;
        self.ar += o.ar;
        self.pp += o.pp;
        self.ap += o.ap;
    }
    fn cell(self, month: String) -> PlanCell {
        PlanCell {
            month,
            plan_revenue: format_fen(self.pr),
            actual_revenue: format_fen(self.ar),
            plan_profit: format_fen(self.pp),
            actual_profit: format_fen(self.ap),
            attainment_pct: pct(self.ar, self.pr),
        }
    }
}

/// The year's plan against actual, for those who read plans (the plan approved or not).
pub async fn tracking(db: &Db, caller: &Caller, year: i32) -> Result<PlanTracking> {
    plan::check_read(caller, year)?;
    let mut conn = db.pool.acquire().await?;
    let r = plan::row_in(&mut conn, year).await?.ok_or(Error::NotFound)?;
    let regs = plan::regions(&mut conn).await?;
    let ms = months(year);
    // (region, month index) → actual revenue / profit, from the months' kept actuals.
    let mut actual: HashMap<(i64, usize), (i64, i64)> = HashMap::new();
    let (from, to) = (format!("{year:04}-01"), format!("{:04}-01", year + 1));
    for ((region, m), f) in months::by_month(&mut conn, Key::Region, &from, &to, None).await? {
        // Region 0: accounts without a region, in no region's row.
        let i = m.get(5..7).and_then(|x| x.parse::<usize>().ok()).filter(|x| (1..=12).contains(x) && region != 0);
        if let Some(i) = i {
            let a = actual.entry((region, i - 1)).or_default();
            a.0 += f.revenue;
            a.1 += f.profit;
        }
    }
    let mut regions = vec![];
    let mut per_month = [Sums::default(); 12];
    let mut total = Sums::default();
    for (id, code, name) in &regs {
        let t = r.body.targets.iter().find(|t| t.region_id == *id);
        let has_actual = actual.keys().any(|(rid, _)| rid == id);
        if t.is_none() && !has_actual {
            continue;
        }
        let mut cells = vec![];
        let mut rt = Sums::default();
        for (i, m) in ms.iter().enumerate() {
            let (ar, ap) = actual.get(&(*id, i)).copied().unwrap_or_default();
            let s = Sums {
                pr: t.and_then(|t| t.revenue.get(i).copied()).unwrap_or(0),
                pp: t.and_then(|t| t.profit.get(i).copied()).unwrap_or(0),
                ar,
                ap,
            };
            rt.add(s);
            per_month[i].add(s);
            cells.push(s.cell(m.clone()));
        }
        total.add(rt);
        regions.push(PlanRegionTrack {
            region: code.clone(),
            region_name: name.clone(),
            months: cells,
            total: rt.cell(String::new()),
        });
    }
    let mut appraisal: Vec<PlanAppraisal> =
        r.appraisal.as_deref().and_then(|a| serde_json::from_str(a).ok()).unwrap_or_default();
    for a in &mut appraisal {
        if let Some(reg) = regs.iter().find(|x| x.1 == a.region) {
            a.region_name = reg.2.clone();
        }
    }
    let appraised_at: Option<String> = sqlx::query("SELECT appraised_at FROM sales_plans WHERE id = $1")
        .bind(r.id)
        .fetch_one(&mut *conn)
        .await?
        .try_get("appraised_at")?;
    Ok(PlanTracking {
        year,
        may_appraise: may_draft(caller) && r.state == "approved" && caller.day().year() > year,
        version: r.version,
        state: r.state,
        regions,
        months: ms.iter().enumerate().map(|(i, m)| per_month[i].cell(m.clone())).collect(),
        total: total.cell(String::new()),
        appraisal,
        appraised_at,
    })
}

/// The tracking as a table (CSV/XLSX): a row per region and month, then its total.
pub fn table(t: &PlanTracking) -> crate::app::spreadsheets::export::Table {
    let mut rows = vec![];
    for r in &t.regions {
        for c in r.months.iter().chain(std::iter::once(&r.total)) {
            rows.push(vec![
                r.region_name.clone(),
                c.month.clone(),
                c.plan_revenue.clone(),
                c.actual_revenue.clone(),
                c.plan_profit.clone(),
                c.actual_profit.clone(),
                c.attainment_pct.clone().unwrap_or_default(),
            ]);
        }
    }
    for c in t.months.iter().chain(std::iter::once(&t.total)) {
        rows.push(vec![
            String::new(),
            c.month.clone(),
            c.plan_revenue.clone(),
            c.actual_revenue.clone(),
            c.plan_profit.clone(),
            c.actual_profit.clone(),
            c.attainment_pct.clone().unwrap_or_default(),
        ]);
    }
    crate::app::spreadsheets::export::Table {
        keys: vec![
            "region",
            "month",
            "amount_plan_revenue",
            "amount_actual_revenue",
            "amount_plan_profit",
            "amount_actual_profit",
            "attainment_pct",
        ],
        rows,
    }
}

/// One region's appraisal as sent.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanAppraisalIn {
    pub region: String,
    /// `excellent`, `good`, `fair`, `poor`.
    #[serde(default)]
    pub rating: Option<String>,
    /// The appraisal (required; at most 4000 characters).
    #[serde(default)]
    pub text: Option<String>,
}

/// The year-end appraisal as sent.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanAppraisalsIn {
    pub regions: Vec<PlanAppraisalIn>,
    pub version: i64,
}

/// Records the year-end appraisal of an approved plan (the KA director, after the year:
/// before, 422 `year` year_not_over); it replaces the one recorded before.
pub async fn appraise(db: &Db, ctx: &Ctx, year: i32, inp: &PlanAppraisalsIn) -> Result<PlanTracking> {
    let caller = &ctx.caller;
    let mut tx = db.begin().await?;
    let r = plan::lock_in(&mut tx, caller, year, Some(inp.version)).await?;
    if !may_draft(caller) {
        return Err(Error::Forbidden);
    }
    if r.state != "approved" {
        return Err(Error::Conflict("sales_plan_not_approved"));
    }
    let mut e = Errors::default();
    if caller.day().year() <= year {
        e.add("year", "year_not_over");
    }
    let regs = plan::regions(tx.conn()).await?;
    let mut out = vec![];
    for (i, a) in inp.regions.iter().enumerate() {
        let code = a.region.trim();
        if !regs.iter().any(|x| x.1 == code) {
            e.add(&format!("regions[{i}].region"), "unknown_region");
            continue;
        }
        if inp.regions[..i].iter().any(|o| o.region.trim() == code) {
            e.add(&format!("regions.{code}.region"), "duplicate");
            continue;
        }
        let rating = match a.rating.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => {
                e.add(&format!("regions.{code}.rating"), "required");
                None
            }
            Some(x) if RATINGS.contains(&x) => Some(x.to_string()),
            Some(_) => {
                e.add(&format!("regions.{code}.rating"), "invalid_choice");
                None
            }
        };
        let text = e.take(&format!("regions.{code}.text"), text::required(a.text.as_deref(), 4000));
        if let (Some(rating), Some(text)) = (rating, text) {
            out.push(PlanAppraisal { region: code.to_string(), region_name: String::new(), rating, text });
        }
    }
    e.finish()?;
    let at = ts(crate::app::clock::now());
    sqlx::query(
        "UPDATE sales_plans SET appraisal = $1, appraised_at = $2, version = version + 1, updated_by = $3, \
         updated_at = $2 WHERE id = $4",
    )
    .bind(serde_json::to_string(&out).unwrap_or_else(|_| "[]".into()))
    .bind(at)
    .bind(caller.username.as_str())
    .bind(r.id)
    .execute(tx.conn())
    .await?;
    audit::record(
        &mut tx,
        ctx,
        KIND,
        &year.to_string(),
        "appraise",
        r.appraisal.as_deref().and_then(|a| serde_json::from_str(a).ok()).as_ref(),
        Some(&json!(out)),
    )
    .await?;
    tx.commit().await?;
    tracking(db, caller, year).await
}
