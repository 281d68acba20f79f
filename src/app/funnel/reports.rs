//! Reports built on the funnel and the quotas: sales progress and pipeline by region
//! (各大区销售进度与商机分析), the monthly order forecast (每月订单预测), and each report as a
//! table for CSV/XLSX export. All of them in the caller's scope, by the same rules as the
//! pages they export.
use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use sqlx::Row;

use crate::app::funnel::forecasts::PersonForecast;
use crate::app::funnel::opportunities::{self as opps, Funnel};
use crate::app::funnel::quotas::{Figures, VReport};
use crate::app::spreadsheets::export::Table;
use crate::app::{Caller, Error, Result};
use crate::db::sql::Sql;
use crate::db::Db;
use crate::domain::money::format_fen;
use crate::domain::opportunity::{self as opp, Stage};

/// One stage of a region's pipeline.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StageFigures {
    #[schema(value_type = crate::domain::opportunity::Stage)]
    pub stage: &'static str,
    pub count: i64,
    #[schema(value_type = String, pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub amount: String,
}

/// A region's sales progress in the period (quota, booked, remaining, V value: the V-value
/// report's region line) and its funnel now.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RegionRow {
    /// The region's code; empty for accounts without a region.
    pub region: String,
    pub name: String,
    pub progress: Option<Figures>,
    pub stages: Vec<StageFigures>,
    /// Σ amount × probability over the open stages.
    #[schema(value_type = String, pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub weighted_pipeline: String,
}

/// Sales progress and pipeline by region (各大区销售进度与商机分析).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RegionsReport {
    /// The period: `YYYY-MM`, `YYYY-Qn` or `YYYY`.
    pub period: String,
    pub regions: Vec<RegionRow>,
}

type StageSums = BTreeMap<String, (i64, i64)>;

/// Sales progress and pipeline by region, in the caller's scope.
pub async fn regions(db: &Db, caller: &Caller, period: Option<&str>) -> Result<RegionsReport> {
    let v = crate::app::funnel::quotas::v_report(db, caller, period, None).await?;
    let funnel = opps::funnel_by_region(db, caller).await?;
    let mut names: BTreeMap<i64, (String, String)> = BTreeMap::new();
    for r in sqlx::query("SELECT id, code, name FROM org_units WHERE kind = 'region'").fetch_all(db.reads()).await? {
        names.insert(r.try_get("id")?, (r.try_get("code")?, r.try_get("name")?));
    }
    // Region code → (name, stage → (count, amount)).
    let mut by_region: BTreeMap<String, (String, StageSums)> = BTreeMap::new();
    for (region_id, stage, n, amount) in funnel {
        let (code, name) = names.get(&region_id).cloned().unwrap_or_default();
        by_region.entry(code).or_insert_with(|| (name, BTreeMap::new())).1.insert(stage, (n, amount));
    }
    for f in &v.regions {
        by_region.entry(f.key.clone()).or_insert_with(|| (f.name.clone(), BTreeMap::new()));
    }
    let regions = by_region
        .into_iter()
        .map(|(code, (name, st))| {
            let mut weighted = 0;
            let stages = Stage::ALL
                .iter()
                .map(|s| {
                    let (n, amount) = st.get(s.code()).copied().unwrap_or((0, 0));
                    if s.is_open() {
                        weighted += opp::weighted(amount, *s);
                    }
                    StageFigures { stage: s.code(), count: n, amount: format_fen(amount) }
                })
                .collect();
            RegionRow {
                progress: v.regions.iter().find(|f| f.key == code).cloned(),
                region: code,
                name,
                stages,
                weighted_pipeline: format_fen(weighted),
            }
        })
        // Accounts without a region last.
        .fold((vec![], vec![]), |(mut with, mut without), r: RegionRow| {
            if r.region.is_empty() {
                without.push(r);
            } else {
                with.push(r);
            }
            (with, without)
        });
    let (mut regions, rest) = regions;
    regions.extend(rest);
    Ok(RegionsReport { period: v.period, regions })
}

/// One month of the monthly order forecast.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MonthRow {
    /// `YYYY-MM`.
    #[schema(pattern = r"^[0-9]{4}-[0-9]{2}$")]
    pub month: String,
    /// Won with a booking date in the month.
    #[schema(value_type = String, pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub booked: String,
    /// Open opportunities expected to be ordered in the month (for past months: still open,
    /// so overdue).
    pub open_count: i64,
    #[schema(value_type = String, pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub pipeline: String,
    #[schema(value_type = String, pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub weighted_pipeline: String,
    /// The committed stage (90 %).
    #[schema(value_type = String, pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub commit: String,
    /// Developed and committed (75 % and up).
    #[schema(value_type = String, pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub best_case: String,
}

/// The monthly order forecast (每月订单预测): two months back, this one and five ahead.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Monthly {
    pub months: Vec<MonthRow>,
}

fn add_months(d: NaiveDate, n: i32) -> NaiveDate {
    let m0 = d.year() * 12 + d.month0() as i32 + n;
    NaiveDate::from_ymd_opt(m0.div_euclid(12), m0.rem_euclid(12) as u32 + 1, 1).unwrap_or(d)
}

/// The monthly order forecast: the two months before this one and the next five after it,
/// in the caller's scope, optionally one person's (`owner`).
pub async fn monthly(db: &Db, caller: &Caller, owner: Option<&str>) -> Result<Monthly> {
    let today = chrono::Utc::now().date_naive();
    let this = NaiveDate::from_ymd_opt(today.year(), today.month(), 1).unwrap_or(today);
    let (first, end) = (add_months(this, -2), add_months(this, 6));
    let (from, to) = (first.format("%Y-%m-%d").to_string(), end.format("%Y-%m-%d").to_string());
    let owner_id = match owner.map(str::trim).filter(|v| !v.is_empty()) {
        None => None,
        Some(u) => Some(
            crate::app::customers::accounts::active_user_id(&mut *db.reads().acquire().await?, u)
                .await?
                .ok_or_else(|| Error::invalid("owner", "unknown_user"))?,
        ),
    };
    let mut open = Sql::new(
        "SELECT SUBSTR(o.expected_close, 1, 7) AS month, o.stage AS stage, COUNT(*) AS n, \
         CAST(COALESCE(SUM(o.amount), 0) AS BIGINT) AS amount FROM opportunities o \
         WHERE o.stage NOT IN ('won', 'lost') AND o.expected_close >= ",
    );
    open.bind(from.clone()).push(" AND o.expected_close < ").bind(to.clone());
    opps::push_scope_bare(&mut open, caller);
    if let Some(id) = owner_id {
        open.push(" AND o.owner_id = ").bind(id);
    }
    open.push(" GROUP BY SUBSTR(o.expected_close, 1, 7), o.stage");
    let mut booked = Sql::new(
        "SELECT SUBSTR(o.booked_on, 1, 7) AS month, CAST(COALESCE(SUM(o.booked_amount), 0) AS BIGINT) AS amount \
         FROM opportunities o WHERE o.stage = 'won' AND o.booked_on >= ",
    );
    booked.bind(from).push(" AND o.booked_on < ").bind(to);
    opps::push_scope_bare(&mut booked, caller);
    if let Some(id) = owner_id {
        booked.push(" AND o.owner_id = ").bind(id);
    }
    booked.push(" GROUP BY SUBSTR(o.booked_on, 1, 7)");
    let (open, booked) = tokio::try_join!(open.query().fetch_all(db.reads()), booked.query().fetch_all(db.reads()))?;
    let mut months = vec![];
    for i in 0..8 {
        let m = add_months(first, i).format("%Y-%m").to_string();
        let (mut n, mut pipeline, mut weighted, mut commit, mut best) = (0, 0, 0, 0, 0);
        for r in &open {
            if r.try_get::<String, _>("month")? != m {
                continue;
            }
            let st = Stage::parse(&r.try_get::<String, _>("stage")?).unwrap_or(Stage::Identified);
            let amount: i64 = r.try_get("amount")?;
            n += r.try_get::<i64, _>("n")?;
            pipeline += amount;
            weighted += opp::weighted(amount, st);
            if st == Stage::Committed {
                commit += amount;
            }
            if matches!(st, Stage::Committed | Stage::Developed) {
                best += amount;
            }
        }
        let mut b = 0;
        for r in &booked {
            if r.try_get::<String, _>("month")? == m {
                b = r.try_get("amount")?;
            }
        }
        months.push(MonthRow {
            month: m,
            booked: format_fen(b),
            open_count: n,
            pipeline: format_fen(pipeline),
            weighted_pipeline: format_fen(weighted),
            commit: format_fen(commit),
            best_case: format_fen(best),
        });
    }
    Ok(Monthly { months })
}

// ---- Tables for export (column keys are translated as `field.<key>` by the UI) ----

pub fn funnel_table(f: &Funnel) -> Table {
    Table {
        keys: vec!["stage", "probability", "count", "amount", "weighted"],
        rows: f
            .stages
            .iter()
            .map(|s| {
                vec![
                    s.stage.to_string(),
                    s.probability.to_string(),
                    s.count.to_string(),
                    s.amount.clone(),
                    s.weighted.clone(),
                ]
            })
            .collect(),
    }
}

const FIGURE_KEYS: [&str; 7] = ["quota", "booked", "remaining", "pipeline", "weighted_pipeline", "v_value", "name"];

fn figure_cells(f: &Figures) -> Vec<String> {
    vec![
        f.quota.clone().unwrap_or_default(),
        f.booked.clone(),
        f.remaining.clone().unwrap_or_default(),
        f.pipeline.clone(),
        f.weighted_pipeline.clone(),
        f.v_value.clone().unwrap_or_default(),
    ]
}

pub fn v_value_table(r: &VReport) -> Table {
    let mut keys = vec!["period", "kind", "key", "name"];
    keys.extend_from_slice(&FIGURE_KEYS[..6]);
    let mut rows = vec![];
    for f in r.people.iter().chain(&r.teams).chain(&r.regions).chain(std::iter::once(&r.total)) {
        let mut row = vec![r.period.clone(), f.kind.to_string(), f.key.clone(), f.name.clone()];
        row.extend(figure_cells(f));
        rows.push(row);
    }
    Table { keys, rows }
}

/// Column keys for a stage's count and amount in the regions export.
const STAGE_KEYS: [(&str, &str); 7] = [
    ("count_identified", "amount_identified"),
    ("count_contacted", "amount_contacted"),
    ("count_qualified", "amount_qualified"),
    ("count_developed", "amount_developed"),
    ("count_committed", "amount_committed"),
    ("count_won", "amount_won"),
    ("count_lost", "amount_lost"),
];

pub fn regions_table(r: &RegionsReport) -> Table {
    let mut keys = vec!["period", "region", "name"];
    keys.extend_from_slice(&FIGURE_KEYS[..6]);
    for (c, a) in STAGE_KEYS {
        keys.push(c);
        keys.push(a);
    }
    keys.push("weighted");
    let rows = r
        .regions
        .iter()
        .map(|g| {
            let mut row = vec![r.period.clone(), g.region.clone(), g.name.clone()];
            match &g.progress {
                Some(f) => row.extend(figure_cells(f)),
                None => row.extend(std::iter::repeat_n(String::new(), 6)),
            }
            for s in &g.stages {
                row.push(s.count.to_string());
                row.push(s.amount.clone());
            }
            row.push(g.weighted_pipeline.clone());
            row
        })
        .collect();
    Table { keys, rows }
}

pub fn monthly_table(m: &Monthly) -> Table {
    Table {
        keys: vec!["month", "booked", "open_count", "pipeline", "weighted_pipeline", "commit", "best_case"],
        rows: m
            .months
            .iter()
            .map(|r| {
                vec![
                    r.month.clone(),
                    r.booked.clone(),
                    r.open_count.to_string(),
                    r.pipeline.clone(),
                    r.weighted_pipeline.clone(),
                    r.commit.clone(),
                    r.best_case.clone(),
                ]
            })
            .collect(),
    }
}

/// The forecast report: a row per person and week of the current four — the prefill from the
/// opportunities, the person's latest submission and the manager's adjustment.
pub fn forecast_table(people: &[PersonForecast]) -> Table {
    let keys = vec![
        "owner",
        "name",
        "week",
        "prefill_commit",
        "prefill_best_case",
        "commit",
        "best_case",
        "adjusted_commit",
        "adjusted_best_case",
    ];
    let mut rows = vec![];
    for p in people {
        for w in &p.prefill {
            let sub = p.submitted.as_ref().and_then(|s| s.lines.iter().find(|l| l.week == w.week));
            let adj = p.adjustments.iter().find(|a| a.week == w.week);
            rows.push(vec![
                p.owner.clone(),
                p.name.clone(),
                w.week.clone(),
                w.commit.clone(),
                w.best_case.clone(),
                sub.map(|l| l.commit.clone()).unwrap_or_default(),
                sub.map(|l| l.best_case.clone()).unwrap_or_default(),
                adj.map(|a| a.commit.clone()).unwrap_or_default(),
                adj.map(|a| a.best_case.clone()).unwrap_or_default(),
            ]);
        }
    }
    Table { keys, rows }
}

/// Days an opportunity must have been in its stage to count as `older` in the stage age.
pub const STAGE_AGE_DAYS: i64 = 30;

/// The funnel page's and report's figures: the funnel by stage ([`opps::funnel`]), the
/// conversion between stages (from the history, up to `as_of` when given) and the age of the
/// open opportunities in their stage (now only), all in the caller's scope with the same
/// `org` and `owner` filter.
pub async fn funnel_report(db: &Db, caller: &Caller, q: &opps::FunnelQuery) -> Result<Funnel> {
    let mut f = opps::funnel(db, caller, q).await?;
    let org = opps::org_filter(db, q.org.as_deref()).await?;
    let owner = q.owner.as_deref().map(str::trim).filter(|v| !v.is_empty());
    let filters = |s: &mut Sql| {
        opps::push_scope_bare(s, caller);
        opps::push_org(s, org);
        if let Some(o) = owner {
            s.push(" AND o.owner_id = (SELECT id FROM users WHERE username = ").bind(o).push(")");
        }
    };
    // Each opportunity's furthest stage (its history's highest rank; lost has none), counted.
    let rank = Stage::ALL
        .iter()
        .filter_map(|s| s.rank().map(|r| format!(" WHEN '{}' THEN {r}", s.code())))
        .collect::<String>();
    let mut conv = Sql::new(&format!(
        "SELECT furthest, COUNT(*) AS n FROM (SELECT o.id AS id, MAX(CASE h.stage{rank} ELSE 0 END) AS furthest \
         FROM opportunities o JOIN opportunity_history h ON h.opportunity_id = o.id WHERE 1 = 1"
    ));
    if let Some(d) = &f.as_of {
        conv.push(" AND h.at <= ").bind(format!("{d}T23:59:59.999999Z"));
    }
    filters(&mut conv);
    conv.push(" GROUP BY o.id) x GROUP BY furthest");
    let mut by_rank = [0i64; 6];
    for r in conv.query().fetch_all(db.reads()).await? {
        let k: i64 = r.try_get("furthest")?;
        if let Some(slot) = by_rank.get_mut(k.clamp(0, 5) as usize) {
            *slot += r.try_get::<i64, _>("n")?;
        }
    }
    let reached = |rank: usize| by_rank[rank..].iter().sum::<i64>();
    let path: Vec<Stage> = Stage::ALL.iter().copied().filter(|s| s.rank().is_some()).collect();
    f.conversion = path
        .windows(2)
        .map(|w| {
            let (from, to) = (w[0], w[1]);
            let (n, m) = (reached(from.rank().unwrap_or(0)), reached(to.rank().unwrap_or(0)));
            opps::Conversion { from, to, reached: n, advanced: m, rate: tenths(m * 1000, n) }
        })
        .collect();
    if f.as_of.is_none() {
        let mut age = Sql::new(&format!(
            "SELECT o.stage AS stage, COALESCE({}, o.created_at) AS entered FROM opportunities o \
             WHERE o.stage NOT IN ('won', 'lost')",
            opps::ENTERED_STAGE
        ));
        filters(&mut age);
        let now = chrono::Utc::now();
        let mut days: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        for r in age.query().fetch_all(db.reads()).await? {
            let entered: String = r.try_get("entered")?;
            let d = chrono::DateTime::parse_from_rfc3339(&entered)
                .map(|t| (now - t.with_timezone(&chrono::Utc)).num_days().max(0))
                .unwrap_or(0);
            days.entry(r.try_get("stage")?).or_default().push(d);
        }
        f.stage_age = opp::OPEN
            .iter()
            .map(|st| {
                let mut v = days.remove(st.code()).unwrap_or_default();
                v.sort_unstable();
                let n = v.len() as i64;
                let median = match v.len() {
                    0 => None,
                    l if l % 2 == 1 => tenths(v[l / 2] * 10, 1),
                    l => tenths((v[l / 2 - 1] + v[l / 2]) * 10, 2),
                };
                opps::StageAge {
                    stage: *st,
                    count: n,
                    average_days: tenths(v.iter().sum::<i64>() * 10, n),
                    median_days: median,
                    older: v.iter().filter(|d| **d > STAGE_AGE_DAYS).count() as i64,
                    older_than_days: STAGE_AGE_DAYS,
                }
            })
            .collect();
    }
    Ok(f)
}

/// `tenths / n` as a decimal with one place, rounded half up (None when `n` is 0).
fn tenths(tenths: i64, n: i64) -> Option<String> {
    if n == 0 {
        return None;
    }
    let v = (tenths * 2 + n) / (2 * n);
    Some(format!("{}.{}", v / 10, v % 10))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_step_across_year_ends_both_ways() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        assert_eq!(add_months(d, -2).to_string(), "2026-09-01");
        assert_eq!(add_months(d, 2).to_string(), "2027-01-01");
        assert_eq!(add_months(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(), -1).to_string(), "2025-12-01");
        assert_eq!(add_months(d, 14).to_string(), "2028-01-01");
    }
}
