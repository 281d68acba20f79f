//! The six-monthly progress report on the most important accounts (issue 23 item 6; seed 004
//! phase 4): for a half-year (`2027-H1`, `2027-H2`), every plan of that year of an account the
//! caller sees whose tier the company's settings put in the report (default: strategic and A) —
//! its objectives and their status, the milestones hit and missed in the half, the revenue
//! booked against the forecast, and the issues (what is slipping, the plan's points of
//! attention, the latest review's comment). Ordered by tier, then account name, with totals.
//!
//! Fast over a few thousand plans: the plans are read with one scoped query, and every figure
//! the objectives are measured by — the share of wallet, the revenue booked, the opportunities
//! to win — and the revenue booked in the half with one grouped query each, not one per plan.
use std::collections::HashMap;

use serde::Serialize;
use sqlx::Row;

use crate::app::customers::accounts::push_scope;
use crate::app::plans::plans::{self, PlanRow};
use crate::app::plans::progress::Measured;
use crate::app::spreadsheets::export::Table;
use crate::app::{Caller, Error, Result};
use crate::db::sql::Sql;
use crate::db::Db;
use crate::domain::account_plan::{self as ap, ItemStatus, Measure, Phase};
use crate::domain::error::Errors;
use crate::domain::money;

/// What narrows the report.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    /// A region's org unit code.
    pub region: Option<String>,
    /// One of the report's tiers.
    pub tier: Option<String>,
    /// The account owner's username.
    pub owner: Option<String>,
}

/// How many objectives stand where.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
#[schema(as = PlanStatusCounts)]
pub struct StatusCounts {
    pub done: i64,
    pub on_track: i64,
    pub at_risk: i64,
    pub missed: i64,
    /// Not started, or no status given.
    pub open: i64,
}

impl StatusCounts {
    fn add(&mut self, s: ItemStatus) {
        match s {
            ItemStatus::Done => self.done += 1,
            ItemStatus::OnTrack => self.on_track += 1,
            ItemStatus::AtRisk => self.at_risk += 1,
            ItemStatus::Missed => self.missed += 1,
            ItemStatus::Open => self.open += 1,
        }
    }

    fn sum(&mut self, o: &StatusCounts) {
        self.done += o.done;
        self.on_track += o.on_track;
        self.at_risk += o.at_risk;
        self.missed += o.missed;
        self.open += o.open;
    }
}

/// A milestone hit or missed in the half.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = PlanReportMilestone)]
pub struct Milestone {
    pub key: String,
    pub title: String,
    /// Username of who acts, and their name.
    pub owner: Option<String>,
    pub owner_name: Option<String>,
    #[schema(format = Date)]
    pub due_on: Option<String>,
    pub status: ItemStatus,
}

/// Something slipping as of the report's day: an objective or a milestone/action past due, or
/// due within a week and less than half done.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = PlanReportSlip)]
pub struct Slip {
    /// `objective` or `action`.
    pub kind: String,
    pub key: String,
    pub title: String,
    #[schema(format = Date)]
    pub due_on: Option<String>,
}

/// The plan's latest review, when one was decided.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = PlanReportReview)]
pub struct ReviewNote {
    /// The review's period (`2027`, `2027-Q2`).
    pub period: String,
    /// `accepted` or `returned` (or `open`/`scheduled` when not decided yet).
    pub state: String,
    pub reviewed_at: Option<String>,
    /// The reviewer's comment on the decision.
    pub comment: Option<String>,
}

/// The revenue booked against the forecast, yuan.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
#[schema(as = PlanReportFinancials)]
pub struct Financials {
    /// The plan's forecast revenue for its year (the forecast's rows of that year summed).
    #[schema(value_type = crate::web::api::contract::Money)]
    pub forecast_year: String,
    /// Half of the year's forecast (the forecast is by year).
    #[schema(value_type = crate::web::api::contract::Money)]
    pub forecast_half: String,
    /// Revenue booked in the half: the signed totals of the account's orders signed in it.
    #[schema(value_type = crate::web::api::contract::Money)]
    pub booked_half: String,
    /// Revenue booked from 1 January to the half's end.
    #[schema(value_type = crate::web::api::contract::Money)]
    pub booked_ytd: String,
    /// `booked_half − forecast_half` in yuan (negative: behind the forecast).
    #[schema(value_type = String, pattern = r"^-?[0-9]{1,15}(\.[0-9]{1,2})?$", example = "-380000.00")]
    pub gap: String,
}

#[derive(Debug, Clone, Copy, Default)]
struct Fen {
    forecast_year: i64,
    forecast_half: i64,
    booked_half: i64,
    booked_ytd: i64,
}

impl Fen {
    fn view(self) -> Financials {
        Financials {
            forecast_year: money::format_fen(self.forecast_year),
            forecast_half: money::format_fen(self.forecast_half),
            booked_half: money::format_fen(self.booked_half),
            booked_ytd: money::format_fen(self.booked_ytd),
            gap: money::format_fen(self.booked_half - self.forecast_half),
        }
    }
}

/// One plan in the report.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = PlanReportItem)]
pub struct ReportItem {
    pub plan_id: i64,
    pub account_id: i64,
    pub account_name: String,
    /// The account's tier.
    pub tier: Option<String>,
    /// The account's region (org unit code) and its name.
    pub region: Option<String>,
    pub region_name: Option<String>,
    /// The account's owner (username) and their name.
    pub owner: Option<String>,
    pub owner_name: Option<String>,
    pub phase: Phase,
    /// The objectives measured as of the report's day.
    pub objectives: Vec<Measured>,
    pub objective_counts: StatusCounts,
    /// Milestones done whose due date falls in the half.
    pub milestones_hit: Vec<Milestone>,
    /// Milestones not done that were due by the half's end (in it or before).
    pub milestones_missed: Vec<Milestone>,
    pub financials: Financials,
    /// Objectives and actions slipping as of the report's day.
    pub slipping: Vec<Slip>,
    /// The plan's points of attention in the relationship (part 2).
    pub attention: Option<String>,
    pub latest_review: Option<ReviewNote>,
}

/// The sums over the report's plans.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
#[schema(as = PlanReportTotals)]
pub struct Totals {
    pub plans: i64,
    pub objective_counts: StatusCounts,
    pub milestones_hit: i64,
    pub milestones_missed: i64,
    pub financials: Financials,
}

/// The six-monthly progress report.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = PlanReport)]
pub struct Report {
    /// The half-year, `2027-H1`.
    pub half: String,
    #[schema(format = Date)]
    pub from: String,
    #[schema(format = Date)]
    pub to: String,
    /// The day the objectives are measured on: the half's end, or today when earlier.
    #[schema(format = Date)]
    pub as_of: String,
    /// The tiers the report covers (the company's settings).
    pub tiers: Vec<String>,
    pub items: Vec<ReportItem>,
    pub totals: Totals,
}

impl Filter {
    fn check(&self, tiers: &[String]) -> Result<()> {
        let mut e = Errors::default();
        if let Some(t) = self.tier.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            if !tiers.iter().any(|x| x == t) {
                e.add("tier", "invalid_choice");
            }
        }
        for (f, v) in [("region", &self.region), ("owner", &self.owner)] {
            if v.as_ref().is_some_and(|v| v.chars().count() > 100) {
                e.add(f, "too_long");
            }
        }
        e.finish()
    }
}

/// The current half-year in the caller's time zone (`2026-H2`).
pub fn current_half(caller: &Caller) -> String {
    use chrono::Datelike;
    let d = caller.day();
    format!("{}-H{}", d.year(), if d.month() <= 6 { 1 } else { 2 })
}

fn day_after(d: chrono::NaiveDate) -> String {
    d.succ_opt().unwrap_or(d).format("%Y-%m-%d").to_string()
}

/// The six-monthly progress report for `half` over the plans the caller sees (422 `half` when
/// it is not `YYYY-H1`/`YYYY-H2`).
pub async fn report(db: &Db, caller: &Caller, half: &str, f: &Filter) -> Result<Report> {
    use chrono::Datelike;
    let (year, from, to) = ap::half_year(half).map_err(|c| Error::invalid("half", c))?;
    let mut conn = db.pool.acquire().await?;
    let settings = crate::app::plans::calendar::settings_of(&mut conn).await?;
    let tiers: Vec<String> = crate::domain::classify::TIERS
        .iter()
        .filter(|t| settings.report_tiers.iter().any(|r| r == *t))
        .map(|t| t.to_string())
        .collect();
    f.check(&tiers)?;
    let as_of = caller.day().min(to);
    let year_from = format!("{year}-01-01");
    let upto = day_after(to);

    // The plans, in one scoped read.
    let mut s = Sql::new(&format!(
        "SELECT {cols}, a.tier AS account_tier, a.sow_bp AS account_sow_bp, r.code AS region_code, \
         r.name AS region_name, u.username AS owner_username, COALESCE(u.display_name, u.username) AS owner_display \
         FROM account_plans p JOIN accounts a ON a.id = p.account_id \
         LEFT JOIN org_units r ON r.id = a.region_id LEFT JOIN users u ON u.id = a.owner_id WHERE p.year = ",
        cols = plans::COLUMNS
    ));
    s.bind(year as i64);
    push_scope(&mut s, caller);
    match f.tier.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => {
            s.push(" AND a.tier = ").bind(t.to_string());
        }
        None => {
            s.push(" AND a.tier IN (").bind_texts(&tiers).push(")");
        }
    }
    if let Some(r) = f.region.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        s.push(" AND a.region_id = (SELECT id FROM org_units WHERE code = ").bind(r.to_string()).push(")");
    }
    if let Some(o) = f.owner.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        s.push(" AND a.owner_id = (SELECT id FROM users WHERE username = ").bind(o.to_string()).push(")");
    }
    s.push(" ORDER BY a.name_sort, a.name, p.id");
    let rows = s.query().fetch_all(&mut *conn).await?;
    struct Read {
        plan: PlanRow,
        tier: Option<String>,
        sow_bp: Option<i64>,
        region: Option<String>,
        region_name: Option<String>,
        owner: Option<String>,
        owner_name: Option<String>,
    }
    let mut read = Vec::with_capacity(rows.len());
    for r in &rows {
        read.push(Read {
            plan: plans::row(r)?,
            tier: r.try_get("account_tier")?,
            sow_bp: r.try_get("account_sow_bp")?,
            region: r.try_get("region_code")?,
            region_name: r.try_get("region_name")?,
            owner: r.try_get("owner_username")?,
            owner_name: r.try_get("owner_display")?,
        });
    }
    let rank = |t: &Option<String>| {
        crate::domain::classify::TIERS.iter().position(|x| Some(*x) == t.as_deref()).unwrap_or(usize::MAX)
    };
    read.sort_by_key(|x| rank(&x.tier));

    // The revenue booked by account: in the half, and from 1 January to the half's end (what
    // a revenue objective is measured by as of the report's day is the year so far).
    let mut booked: HashMap<i64, (i64, i64, i64)> = HashMap::new();
    if !read.is_empty() {
        let mut b = Sql::new("SELECT o.account_id, CAST(SUM(CASE WHEN o.signed_at >= ");
        b.bind(from.format("%Y-%m-%d").to_string());
        b.push(" THEN o.signed_total ELSE 0 END) AS BIGINT) AS half_total, CAST(SUM(o.signed_total) AS BIGINT) AS ytd_total, ");
        b.push("CAST(SUM(CASE WHEN o.signed_at < ").bind(day_after(as_of));
        b.push(
            " THEN o.signed_total ELSE 0 END) AS BIGINT) AS as_of_total FROM orders o WHERE o.state <> 'cancelled' \
            AND o.signed_total IS NOT NULL AND o.signed_at >= ",
        );
        b.bind(year_from.clone());
        b.push(" AND o.signed_at < ").bind(upto.clone());
        b.push(" AND o.account_id IN (SELECT account_id FROM account_plans WHERE year = ").bind(year as i64).push(")");
        b.push(" GROUP BY o.account_id");
        for r in b.query().fetch_all(&mut *conn).await? {
            let id: i64 = r.try_get("account_id")?;
            let n = |c: &str| r.try_get::<Option<i64>, _>(c).map(|v| v.unwrap_or(0));
            booked.insert(id, (n("half_total")?, n("ytd_total")?, n("as_of_total")?));
        }
    }

    // The opportunities objectives are about, in one read.
    let opp_ids: Vec<i64> = {
        let mut v: Vec<i64> = read
            .iter()
            .flat_map(|x| x.plan.body.objectives.iter())
            .filter(|o| o.measure == Some(Measure::OpportunityWon))
            .filter_map(|o| o.opportunity_id)
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let mut opps: HashMap<i64, (i64, String, i64)> = HashMap::new();
    for chunk in opp_ids.chunks(500) {
        let mut q = Sql::new("SELECT id, account_id, stage, probability FROM opportunities WHERE id IN (");
        q.bind_list(chunk).push(")");
        for r in q.query().fetch_all(&mut *conn).await? {
            opps.insert(r.try_get("id")?, (r.try_get("account_id")?, r.try_get("stage")?, r.try_get("probability")?));
        }
    }

    // People by name.
    let mut names: HashMap<String, String> = HashMap::new();
    for r in
        sqlx::query("SELECT username, COALESCE(display_name, username) AS n FROM users").fetch_all(&mut *conn).await?
    {
        names.insert(r.try_get("username")?, r.try_get("n")?);
    }

    // The latest decided review of each plan of the year, with the decision's comment.
    let mut reviews: HashMap<i64, ReviewNote> = HashMap::new();
    if !read.is_empty() {
        let rows = sqlx::query(
            "SELECT r.plan_id, r.period, r.state, r.reviewed_at, \
             (SELECT s.comment FROM approval_steps s WHERE s.approval_id = r.approval_id AND s.decided_at IS NOT NULL \
              AND s.comment IS NOT NULL ORDER BY s.decided_at DESC, s.position DESC LIMIT 1) AS comment \
             FROM account_plan_reviews r JOIN account_plans p ON p.id = r.plan_id \
             WHERE p.year = $1 AND r.reviewed_at IS NOT NULL ORDER BY r.plan_id, r.reviewed_at, r.id",
        )
        .bind(year as i64)
        .fetch_all(&mut *conn)
        .await?;
        for r in rows {
            reviews.insert(
                r.try_get("plan_id")?,
                ReviewNote {
                    period: r.try_get("period")?,
                    state: r.try_get("state")?,
                    reviewed_at: r.try_get("reviewed_at")?,
                    comment: r.try_get("comment")?,
                },
            );
        }
    }
    drop(conn);

    let mut totals = Totals::default();
    let mut sum = Fen::default();
    let mut items = Vec::with_capacity(read.len());
    for x in read {
        let p = x.plan;
        let (b_half, b_ytd, b_as_of) = booked.get(&p.account_id).copied().unwrap_or_default();
        let objectives = measure(&p, x.sow_bp, b_as_of, &opps, &names, as_of);
        let mut counts = StatusCounts::default();
        for o in &objectives {
            counts.add(o.status);
        }
        let (mut hit, mut missed) = (vec![], vec![]);
        let mut slipping: Vec<Slip> = objectives
            .iter()
            .filter(|o| o.slipping)
            .map(|o| Slip {
                kind: "objective".into(),
                key: o.key.clone(),
                title: o.title.clone(),
                due_on: o.due_on.clone(),
            })
            .collect();
        for a in &p.body.actions.actions {
            let due = a.due_on.as_deref().and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
            let percent = if a.status == Some(ItemStatus::Done) { 100 } else { a.percent.unwrap_or(0) };
            let slips = ap::slipping(a.due_on.as_deref(), a.status, Some(percent), as_of);
            if slips {
                slipping.push(Slip {
                    kind: "action".into(),
                    key: a.key.clone(),
                    title: a.title.clone(),
                    due_on: a.due_on.clone(),
                });
            }
            if !a.milestone {
                continue;
            }
            let status = match a.status {
                Some(s @ (ItemStatus::Done | ItemStatus::Missed)) => s,
                _ if slips => ItemStatus::AtRisk,
                Some(s) => s,
                None => ItemStatus::Open,
            };
            let m = || Milestone {
                key: a.key.clone(),
                title: a.title.clone(),
                owner: a.owner.clone(),
                owner_name: a.owner.as_ref().map(|u| names.get(u).cloned().unwrap_or_else(|| u.clone())),
                due_on: a.due_on.clone(),
                status,
            };
            match (status, due) {
                (ItemStatus::Done, Some(d)) if d >= from && d <= to => hit.push(m()),
                (ItemStatus::Done, _) => {}
                (_, Some(d)) if d <= to && (d < as_of || status == ItemStatus::Missed || as_of >= to) => {
                    missed.push(m())
                }
                _ => {}
            }
        }
        let forecast_year = ap::forecast_by_year(p.year, &p.body.forecast)
            .into_iter()
            .find(|f| f.0 == p.year)
            .map(|f| f.1)
            .unwrap_or(0);
        let fen = Fen { forecast_year, forecast_half: forecast_year / 2, booked_half: b_half, booked_ytd: b_ytd };
        sum.forecast_year += fen.forecast_year;
        sum.forecast_half += fen.forecast_half;
        sum.booked_half += fen.booked_half;
        sum.booked_ytd += fen.booked_ytd;
        totals.plans += 1;
        totals.objective_counts.sum(&counts);
        totals.milestones_hit += hit.len() as i64;
        totals.milestones_missed += missed.len() as i64;
        items.push(ReportItem {
            plan_id: p.id,
            account_id: p.account_id,
            account_name: p.account_name,
            tier: x.tier,
            region: x.region,
            region_name: x.region_name,
            owner: x.owner,
            owner_name: x.owner_name,
            phase: p.phase,
            objectives,
            objective_counts: counts,
            milestones_hit: hit,
            milestones_missed: missed,
            financials: fen.view(),
            slipping,
            attention: p.body.performance.attention.clone(),
            latest_review: reviews.remove(&p.id),
        });
    }
    totals.financials = sum.view();
    Ok(Report {
        half: format!("{year}-H{}", if from.month() == 1 { 1 } else { 2 }),
        from: from.format("%Y-%m-%d").to_string(),
        to: to.format("%Y-%m-%d").to_string(),
        as_of: as_of.format("%Y-%m-%d").to_string(),
        tiers,
        items,
        totals,
    })
}

fn pct(reached: i64, target: i64) -> i64 {
    if target <= 0 {
        return 0;
    }
    (reached.saturating_mul(100) / target).clamp(0, 100)
}

/// The plan's objectives measured as of `as_of` from figures read for all plans at once — the
/// rules of `progress::measure` (which reads them per plan): the share of wallet, the revenue
/// booked in the plan year so far, the opportunity's stage; by hand otherwise.
fn measure(
    p: &PlanRow,
    sow_bp: Option<i64>,
    booked_so_far: i64,
    opps: &HashMap<i64, (i64, String, i64)>,
    names: &HashMap<String, String>,
    as_of: chrono::NaiveDate,
) -> Vec<Measured> {
    p.body
        .objectives
        .iter()
        .map(|o| {
            let (mut current, mut percent, mut status) = (o.actual.clone(), o.percent.unwrap_or(0), o.status);
            match o.measure {
                Some(Measure::Share) => {
                    let target = o.target.as_deref().and_then(|t| money::parse_bp(t).ok()).unwrap_or(0);
                    if let Some(bp) = sow_bp {
                        current = Some(money::format_bp(bp));
                        percent = pct(bp, target);
                        if bp >= target && target > 0 {
                            status = Some(ItemStatus::Done);
                        }
                    }
                }
                Some(Measure::Revenue) => {
                    let target = o.target.as_deref().and_then(|t| money::parse_fen(t).ok()).unwrap_or(0);
                    current = Some(money::format_fen(booked_so_far));
                    percent = pct(booked_so_far, target);
                    if booked_so_far >= target && target > 0 {
                        status = Some(ItemStatus::Done);
                    }
                }
                Some(Measure::OpportunityWon) => {
                    if let Some((_, stage, probability)) =
                        o.opportunity_id.and_then(|id| opps.get(&id)).filter(|(acc, _, _)| *acc == p.account_id)
                    {
                        percent = match stage.as_str() {
                            "won" => 100,
                            "lost" => 0,
                            _ => (*probability).clamp(0, 100),
                        };
                        status = match stage.as_str() {
                            "won" => Some(ItemStatus::Done),
                            "lost" => Some(ItemStatus::Missed),
                            _ => status,
                        };
                        current = Some(stage.clone());
                    }
                }
                Some(Measure::Manual) | None => {}
            }
            let slipping = ap::slipping(o.due_on.as_deref(), status, Some(percent), as_of);
            let status = match status {
                Some(s @ (ItemStatus::Done | ItemStatus::Missed)) => s,
                _ if slipping => ItemStatus::AtRisk,
                Some(s) => s,
                None => ItemStatus::Open,
            };
            Measured {
                key: o.key.clone(),
                title: o.title.clone(),
                owner: o.owner.clone(),
                owner_name: o.owner.as_ref().map(|u| names.get(u).cloned().unwrap_or_else(|| u.clone())),
                measure: o.measure,
                target: o.target.clone(),
                current,
                percent,
                status,
                due_on: o.due_on.clone(),
                slipping,
                opportunity_id: o.opportunity_id,
            }
        })
        .collect()
}

/// The report as a table (a row per plan, then the totals under `total_label`): counts as
/// counts and amounts as amounts, so a spreadsheet adds them up.
pub fn table(r: &Report, total_label: &str) -> Table {
    let keys = vec![
        "id",
        "account",
        "tier",
        "region",
        "owner",
        "plan_phase",
        "count_done",
        "count_on_track",
        "count_at_risk",
        "count_missed",
        "count_open",
        "count_milestones_hit",
        "count_milestones_missed",
        "amount_forecast_year",
        "amount_forecast_half",
        "amount_booked_half",
        "amount_booked_ytd",
        "amount_gap",
        "plan_issues",
    ];
    let mut rows = Vec::with_capacity(r.items.len() + 1);
    let counts = |c: &StatusCounts| {
        [c.done, c.on_track, c.at_risk, c.missed, c.open].into_iter().map(|n| n.to_string()).collect::<Vec<_>>()
    };
    let money = |f: &Financials| {
        vec![
            f.forecast_year.clone(),
            f.forecast_half.clone(),
            f.booked_half.clone(),
            f.booked_ytd.clone(),
            f.gap.clone(),
        ]
    };
    for i in &r.items {
        let mut row = vec![
            i.plan_id.to_string(),
            i.account_name.clone(),
            i.tier.clone().unwrap_or_default(),
            i.region.clone().unwrap_or_default(),
            i.owner.clone().unwrap_or_default(),
            i.phase.code().to_string(),
        ];
        row.extend(counts(&i.objective_counts));
        row.push(i.milestones_hit.len().to_string());
        row.push(i.milestones_missed.len().to_string());
        row.extend(money(&i.financials));
        let mut issues: Vec<String> = i.slipping.iter().map(|s| s.title.clone()).collect();
        issues.extend(i.attention.clone());
        issues.extend(i.latest_review.as_ref().and_then(|v| v.comment.clone()));
        row.push(issues.join("；"));
        rows.push(row);
    }
    let t = &r.totals;
    let mut row =
        vec![String::new(), total_label.to_string(), String::new(), String::new(), String::new(), String::new()];
    row.extend(counts(&t.objective_counts));
    row.push(t.milestones_hit.to_string());
    row.push(t.milestones_missed.to_string());
    row.extend(money(&t.financials));
    row.push(String::new());
    rows.push(row);
    Table { keys, rows }
}
