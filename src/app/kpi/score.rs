//! The scores (issue 25 item 5): the actuals KAM computes — read in grouped queries over all
//! the people concerned at once, never one query per person, so the department's year stays
//! fast —, the manager's actuals for the rest, each indicator's score and the weighted total,
//! zero when the veto item is hit; scorecards for a person, a team and the department by
//! quarter and year, the team coefficient × bonus base beside each score, and the promotion
//! flag (three closed years running at 90 % or more).
//!
//! Figures (hundredths: fen, basis points, counts × 100):
//! - revenue: won opportunities' booked amounts by their booking day (as the quotas count);
//!   attainment against the person's monthly quotas of the period; growth against the same
//!   period a year before;
//! - profit: the signed orders' margin (lines over the catalogue's standard cost, as the sales
//!   plan's tracking counts it) by their signing day, and its growth; order count growth the
//!   same orders counted;
//! - receivables: what is open today (amount − paid − written off), and the share due more than
//!   90 days ago (KAM keeps no history of balances);
//! - satisfaction: the survey answers of the accounts they own in the period's quarters;
//! - effective visits: their done visits counted effective, by local day;
//! - plan milestones: of the year's account plans they own, the milestones due by the period's
//!   end that are done.
//!
//! A leader's contract (the KA director, a KA manager, a branch manager) counts the figures of
//! every person of their part of the org tree; a salesperson's their own.
use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::Datelike;
use serde::Serialize;
use sqlx::Row;

use super::templates::{self, Indicator};
use super::{format_dec, person_in, row_of, team_in, ContractRow, Period, ROW_SQL};
use crate::app::funnel::months::Key;
use crate::app::{Caller, Error, Result};
use crate::db::Db;
use crate::domain::account_plan::{ItemStatus, PlanBody};
use crate::domain::money::format_fen;
use crate::domain::role::Role;

/// Additive figures of one person (or summed over a team) for a period.
#[derive(Debug, Default, Clone, Copy)]
struct Figures {
    revenue: i64,
    revenue_ly: i64,
    quota: i64,
    has_quota: bool,
    profit: i64,
    profit_ly: i64,
    orders: i64,
    orders_ly: i64,
    recv_open: i64,
    recv_old: i64,
    sat_sum: i64,
    sat_n: i64,
    visits: i64,
    ms_due: i64,
    ms_done: i64,
}

impl Figures {
    fn add(&mut self, o: &Figures) {
        self.revenue += o.revenue;
        self.revenue_ly += o.revenue_ly;
        self.quota += o.quota;
        self.has_quota |= o.has_quota;
        self.profit += o.profit;
        self.profit_ly += o.profit_ly;
        self.orders += o.orders;
        self.orders_ly += o.orders_ly;
        self.recv_open += o.recv_open;
        self.recv_old += o.recv_old;
        self.sat_sum += o.sat_sum;
        self.sat_n += o.sat_n;
        self.visits += o.visits;
        self.ms_due += o.ms_due;
        self.ms_done += o.ms_done;
    }
}

fn ratio(a: i64, b: i64) -> i64 {
    ((a as i128) * 10000 / (b as i128)) as i64
}

fn growth(now: i64, before: i64) -> Option<i64> {
    (before > 0).then(|| ratio(now - before, before))
}

/// A computed measure's actual from the figures (`None`: no data to compute it from).
fn measured(m: &str, f: &Figures) -> Option<i64> {
    match m {
        "revenue" => Some(f.revenue),
        "revenue_attainment" => (f.has_quota && f.quota > 0).then(|| ratio(f.revenue, f.quota)),
        "revenue_growth" => growth(f.revenue, f.revenue_ly),
        "profit" => Some(f.profit),
        "profit_growth" => growth(f.profit, f.profit_ly),
        "order_count_growth" => growth(f.orders, f.orders_ly),
        "receivables_outstanding" => Some(f.recv_open),
        "receivables_over90" => Some(if f.recv_open > 0 { ratio(f.recv_old, f.recv_open) } else { 0 }),
        "satisfaction" => (f.sat_n > 0).then(|| f.sat_sum / f.sat_n),
        "effective_visits" => Some(f.visits * 100),
        "plan_milestones" => (f.ms_due > 0).then(|| ratio(f.ms_done, f.ms_due)),
        _ => None,
    }
}

/// An indicator's share of its weight in basis points of the weight (10000 = the target met),
/// capped at `cap_bp` and never below 0. Higher is better: actual ÷ target (a target of 0 or
/// less is met or not). Lower is better: target ÷ actual (an actual of 0 or less earns the cap).
pub fn achievement_bp(actual: i64, target: i64, lower_is_better: bool, cap_bp: i64) -> i64 {
    let r = if lower_is_better {
        if actual <= 0 {
            cap_bp
        } else if target <= 0 {
            0
        } else {
            ratio(target, actual)
        }
    } else if target <= 0 {
        if actual >= target {
            cap_bp
        } else {
            0
        }
    } else {
        ratio(actual, target)
    };
    r.clamp(0, cap_bp)
}

/// The period's target: a money or count target is the year's, a quarter a fourth of it; a
/// percent is the same in every period.
fn period_target(i: &Indicator, p: Period) -> i64 {
    let t = super::parse_dec(&i.target).unwrap_or(0);
    if p.quarter.is_some() && i.kind != "percent" {
        t / 4
    } else {
        t
    }
}

/// An indicator's line on the scorecard.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = KpiIndicatorScore)]
pub struct IndicatorScore {
    pub key: String,
    /// `financial`, `operating`, `management`.
    pub category: String,
    pub name: String,
    pub measure: String,
    /// `money`, `percent`, `count`.
    pub kind: String,
    pub unit: String,
    /// Whole percent.
    pub weight: i64,
    pub lower_is_better: bool,
    /// The period's target (a quarter's money or count target is a fourth of the year's).
    pub target: String,
    /// The actual, or null when there is no data (not yet entered).
    pub actual: Option<String>,
    /// `computed`, `manual` (entered by the manager) or `none`.
    pub source: String,
    /// Achievement in percent of the target, capped (`"95.00"`).
    pub achievement: String,
    /// The points it earns: achievement × weight, in percent of the whole score (`"14.25"`).
    pub points: String,
}

/// A person's scorecard of a period.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = KpiScorecard)]
pub struct Scorecard {
    pub contract_id: i64,
    pub user_id: i64,
    pub holder_name: String,
    pub role: String,
    pub team_id: i64,
    pub team_name: String,
    /// `2027` or `2027-Q1`.
    pub period: String,
    pub contract_state: String,
    pub indicators: Vec<IndicatorScore>,
    pub veto_name: String,
    /// The veto item is hit: recorded by the manager, or a bad debt of theirs written off in the
    /// period.
    pub veto_hit: bool,
    pub veto_reason: Option<String>,
    /// The points summed, before the veto (percent, `"92.50"`).
    pub weighted: String,
    /// The score: the weighted points, or 0 when the veto item is hit; a closed year's frozen
    /// score.
    pub score: String,
    #[serde(skip)]
    pub score_bp: i64,
    /// The year's bonus base (yuan).
    #[schema(value_type = crate::web::api::contract::Money)]
    pub bonus_base: String,
    /// The team coefficient of the period (else of the year; the nearest team up the org tree
    /// that has one), `"0.95"`; null when none is set.
    pub coefficient: Option<String>,
    /// The bonus base × the coefficient (yuan), null without a coefficient.
    #[schema(value_type = Option<crate::web::api::contract::Money>)]
    pub bonus: Option<String>,
    /// Three closed years running at 90 % or more.
    pub promotion: bool,
}

/// Who is a leader (their contract counts their part of the org tree).
fn leader(role: &str) -> bool {
    matches!(role, "ka_director" | "ka_manager" | "branch_manager" | "sales_dept_manager")
}

/// `AND col IN (…)` for a list of ids (integers only), or nothing for everyone.
fn only(col: &str, ids: &Option<Vec<i64>>) -> String {
    match ids {
        None => String::new(),
        Some(v) if v.is_empty() => " AND 1 = 0".into(),
        Some(v) => format!(" AND {col} IN ({})", v.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")),
    }
}

/// Per person: the figures of a period.
async fn figures(
    conn: &mut sqlx::AnyConnection,
    p: Period,
    owners: &Option<Vec<i64>>,
    today: chrono::NaiveDate,
    milestones: bool,
) -> Result<HashMap<i64, Figures>> {
    let mut out: HashMap<i64, Figures> = HashMap::new();
    // Booked revenue, signed profit and orders by owner, from the months' kept actuals.
    for (per, ly) in [(p, false), (p.last_year(), true)] {
        let (from, to) = per.month_range();
        let months =
            crate::app::funnel::months::by_month(&mut *conn, Key::Owner, &from, &to, owners.as_deref()).await?;
        for ((owner, _), m) in months {
            let f = out.entry(owner).or_default();
            if ly {
                f.revenue_ly += m.revenue;
                f.profit_ly += m.profit;
                f.orders_ly += m.orders;
            } else {
                f.revenue += m.revenue;
                f.profit += m.profit;
                f.orders += m.orders;
            }
        }
    }
    let (m_from, m_to) = p.month_range();
    let sql = format!(
        "SELECT user_id, CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS v FROM quotas WHERE user_id IS NOT NULL \
         AND month >= $1 AND month < $2{} GROUP BY user_id",
        only("user_id", owners)
    );
    for r in sqlx::query(&sql).bind(m_from).bind(m_to).fetch_all(&mut *conn).await? {
        let f = out.entry(r.try_get("user_id")?).or_default();
        f.quota += r.try_get::<i64, _>("v")?;
        f.has_quota = true;
    }
    // What is owed now: from the aging report's kept summary when it is today's and has the
    // 90-day bound, else from the open receivables themselves.
    let ids = owners.as_deref();
    match crate::app::orders::aging_summary::owed_by_owner(&mut *conn, today, 90, ids).await? {
        Some(owed) => {
            for (owner, (open, over)) in owed {
                let f = out.entry(owner).or_default();
                f.recv_open += open;
                f.recv_old += over;
            }
        }
        None => {
            let old = (today - chrono::Duration::days(90)).to_string();
            let sql = format!(
                "SELECT owner_id, CAST(COALESCE(SUM(amount - paid - written_off), 0) AS BIGINT) AS v, \
                 CAST(COALESCE(SUM(CASE WHEN due_on < $1 THEN amount - paid - written_off ELSE 0 END), 0) AS BIGINT) AS o \
                 FROM receivables WHERE state = 'open'{} GROUP BY owner_id",
                only("owner_id", owners)
            );
            for r in sqlx::query(&sql).bind(old).fetch_all(&mut *conn).await? {
                let f = out.entry(r.try_get("owner_id")?).or_default();
                f.recv_open += r.try_get::<i64, _>("v")?;
                f.recv_old += r.try_get::<i64, _>("o")?;
            }
        }
    }
    let qs = p.quarters().iter().map(|q| format!("'{q}'")).collect::<Vec<_>>().join(", ");
    let sql = format!(
        // Summed per account first: an account's quarters meet its owner once.
        "SELECT a.owner_id, CAST(COALESCE(SUM(x.s), 0) AS BIGINT) AS s, CAST(COALESCE(SUM(x.n), 0) AS BIGINT) AS n \
         FROM (SELECT r.account_id AS account_id, SUM(r.pct_sum) AS s, SUM(r.n_scores) AS n FROM survey_responses r \
         JOIN survey_campaigns c ON c.id = r.campaign_id WHERE c.quarter IN ({qs}) GROUP BY r.account_id) x \
         JOIN accounts a ON a.id = x.account_id WHERE a.owner_id IS NOT NULL{} GROUP BY a.owner_id",
        only("a.owner_id", owners)
    );
    for r in sqlx::query(&sql).fetch_all(&mut *conn).await? {
        let f = out.entry(r.try_get("owner_id")?).or_default();
        f.sat_sum += r.try_get::<i64, _>("s")?;
        f.sat_n += r.try_get::<i64, _>("n")?;
    }
    let (from, to) = p.range();
    let sql = format!(
        "SELECT owner_id, COUNT(*) AS n FROM activities WHERE deleted_at IS NULL AND status = 'done' AND effective = 1 \
         AND local_day >= $1 AND local_day < $2{} GROUP BY owner_id",
        only("owner_id", owners)
    );
    for r in sqlx::query(&sql).bind(from.to_string()).bind(to.to_string()).fetch_all(&mut *conn).await? {
        out.entry(r.try_get("owner_id")?).or_default().visits += r.try_get::<i64, _>("n")?;
    }
    if milestones {
        let sql = format!(
            "SELECT owner_id, body FROM account_plans WHERE year = $1 AND owner_id IS NOT NULL \
             AND body LIKE '%\"milestone\":true%'{}",
            only("owner_id", owners)
        );
        let end = to.to_string();
        for r in sqlx::query(&sql).bind(i64::from(p.year)).fetch_all(&mut *conn).await? {
            let body: PlanBody = serde_json::from_str(&r.try_get::<String, _>("body")?).unwrap_or_default();
            let f = out.entry(r.try_get("owner_id")?).or_default();
            for a in body.actions.actions.iter().filter(|a| a.milestone) {
                if a.due_on.as_deref().is_some_and(|d| d < end.as_str()) {
                    f.ms_due += 1;
                    if a.status == Some(ItemStatus::Done) {
                        f.ms_done += 1;
                    }
                }
            }
        }
    }
    Ok(out)
}

/// The people whose bad debt was written off in the period (approved write-offs).
async fn written_off(conn: &mut sqlx::AnyConnection, p: Period, owners: &Option<Vec<i64>>) -> Result<HashSet<i64>> {
    let (from, to) = p.range();
    let sql = format!(
        "SELECT DISTINCT r.owner_id FROM writeoffs w JOIN receivables r ON r.id = w.receivable_id \
         WHERE w.state = 'approved' AND w.closed_at >= $1 AND w.closed_at < $2{}",
        only("r.owner_id", owners)
    );
    sqlx::query(&sql)
        .bind(from.to_string())
        .bind(to.to_string())
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok(r.try_get("owner_id")?))
        .collect()
}

/// The manager's actuals of these contracts in the year: (contract, indicator) → period → value.
async fn manual_actuals(
    conn: &mut sqlx::AnyConnection,
    year: i32,
    ids: &[i64],
) -> Result<HashMap<(i64, String), BTreeMap<String, i64>>> {
    let mut out: HashMap<(i64, String), BTreeMap<String, i64>> = HashMap::new();
    for chunk in ids.chunks(500) {
        let sql = format!(
            "SELECT contract_id, indicator, period, value FROM kpi_actuals WHERE contract_id IN ({}) AND period LIKE $1",
            chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
        );
        for r in sqlx::query(&sql).bind(format!("{year:04}%")).fetch_all(&mut *conn).await? {
            out.entry((r.try_get("contract_id")?, r.try_get("indicator")?))
                .or_default()
                .insert(r.try_get("period")?, r.try_get("value")?);
        }
    }
    Ok(out)
}

/// A manual indicator's actual for the period: the period's own entry; for the year without
/// one, the quarters entered (summed for money and counts, averaged for percents).
fn manual_value(entries: Option<&BTreeMap<String, i64>>, i: &Indicator, p: Period) -> Option<i64> {
    let e = entries?;
    if let Some(v) = e.get(&p.code()) {
        return Some(*v);
    }
    if p.quarter.is_some() {
        return None;
    }
    let qs: Vec<i64> = e.iter().filter(|(k, _)| k.contains("-Q")).map(|(_, v)| *v).collect();
    if qs.is_empty() {
        return None;
    }
    let sum: i64 = qs.iter().sum();
    Some(if i.kind == "percent" { sum / qs.len() as i64 } else { sum })
}

/// Coefficients of the year: (org unit's path, period) → basis points.
async fn coefficients(conn: &mut sqlx::AnyConnection, year: i32) -> Result<Vec<(String, String, i64)>> {
    sqlx::query(
        "SELECT o.path, k.period, k.coefficient_bp FROM kpi_coefficients k JOIN org_units o ON o.id = k.org_unit_id \
         WHERE k.period LIKE $1",
    )
    .bind(format!("{year:04}%"))
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| Ok((r.try_get("path")?, r.try_get("period")?, r.try_get("coefficient_bp")?)))
    .collect()
}

/// The coefficient of a team for a period: the period's, else the year's; the nearest team up
/// the org tree that has one.
fn coefficient_for(list: &[(String, String, i64)], team_path: &str, p: Period) -> Option<i64> {
    let year = Period::year(p.year).code();
    for code in [p.code(), year] {
        if let Some((_, _, c)) = list
            .iter()
            .filter(|(path, per, _)| *per == code && team_path.starts_with(path.as_str()))
            .max_by_key(|(path, _, _)| path.len())
        {
            return Some(*c);
        }
    }
    None
}

/// Frozen yearly scores per person (closed contracts).
async fn final_scores(
    conn: &mut sqlx::AnyConnection,
    users: &Option<Vec<i64>>,
) -> Result<HashMap<i64, Vec<(i64, i64)>>> {
    let sql = format!(
        "SELECT user_id, year, final_score_bp FROM kpi_contracts c WHERE final_score_bp IS NOT NULL{} ORDER BY user_id, year",
        only("c.user_id", users)
    );
    let mut out: HashMap<i64, Vec<(i64, i64)>> = HashMap::new();
    for r in sqlx::query(&sql).fetch_all(&mut *conn).await? {
        out.entry(r.try_get("user_id")?).or_default().push((r.try_get("year")?, r.try_get("final_score_bp")?));
    }
    Ok(out)
}

/// The promotion threshold: 90 % in basis points, three years running.
pub const PROMOTION_BP: i64 = 9000;
pub const PROMOTION_YEARS: usize = 3;

/// The run of closed years at 90 % or more ending with the latest closed year, when it is
/// three years or longer (years in order).
pub fn promotion_run(years: &[(i64, i64)]) -> Option<Vec<(i64, i64)>> {
    let mut run: Vec<(i64, i64)> = vec![];
    for &(y, s) in years.iter().rev() {
        let follows = run.last().is_none_or(|&(ny, _)| ny == y + 1);
        if s >= PROMOTION_BP && follows {
            run.push((y, s));
        } else {
            break;
        }
    }
    run.reverse();
    (run.len() >= PROMOTION_YEARS).then_some(run)
}

/// Scores contracts for a period (their year's contracts): the figures read in grouped queries
/// over everyone concerned.
pub(crate) async fn score_rows(
    conn: &mut sqlx::AnyConnection,
    rows: &[ContractRow],
    p: Period,
    cap_pct: i64,
) -> Result<Vec<Scorecard>> {
    if rows.is_empty() {
        return Ok(vec![]);
    }
    let cap_bp = cap_pct * 100;
    // Everyone's org path, for the leaders' parts of the tree.
    let people: Vec<(i64, String)> =
        sqlx::query("SELECT u.id, o.path FROM users u JOIN org_units o ON o.id = u.org_unit_id")
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("path")?)))
            .collect::<Result<_>>()?;
    let members_of = |c: &ContractRow| -> Vec<i64> {
        if leader(&c.role) {
            let path = people.iter().find(|(id, _)| *id == c.user_id).map(|(_, p)| p.as_str()).unwrap_or(&c.team_path);
            people.iter().filter(|(_, p)| p.starts_with(path)).map(|(id, _)| *id).collect()
        } else {
            vec![c.user_id]
        }
    };
    let members: Vec<Vec<i64>> = rows.iter().map(members_of).collect();
    let mut all: Vec<i64> = members.iter().flatten().copied().collect();
    all.sort_unstable();
    all.dedup();
    let owners = if all.len() > 300 { None } else { Some(all) };
    let today = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
    let milestones = rows.iter().any(|c| c.indicators.iter().any(|i| i.measure == "plan_milestones"));
    let figs = figures(conn, p, &owners, today, milestones).await?;
    let holders: Vec<i64> = rows.iter().map(|c| c.user_id).collect();
    let holder_filter = if holders.len() > 300 { None } else { Some(holders.clone()) };
    let vetoed = if rows.iter().any(|c| c.veto.measure == "writeoff") {
        written_off(conn, p, &holder_filter).await?
    } else {
        HashSet::new()
    };
    let ids: Vec<i64> = rows.iter().map(|c| c.id).collect();
    let manual = manual_actuals(conn, p.year, &ids).await?;
    let coefs = coefficients(conn, p.year).await?;
    let finals = final_scores(conn, &holder_filter).await?;
    let reasons: HashMap<i64, Option<String>> = {
        let mut m = HashMap::new();
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT id, veto_reason FROM kpi_contracts WHERE veto_hit = 1 AND id IN ({})",
                chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(", ")
            );
            for r in sqlx::query(&sql).fetch_all(&mut *conn).await? {
                m.insert(r.try_get("id")?, r.try_get("veto_reason")?);
            }
        }
        m
    };
    let mut out = vec![];
    for (c, mem) in rows.iter().zip(members.iter()) {
        let mut f = Figures::default();
        for m in mem {
            if let Some(x) = figs.get(m) {
                f.add(x);
            }
        }
        let mut weighted = 0i64;
        let mut lines = vec![];
        for i in &c.indicators {
            let target = period_target(i, p);
            let (actual, source) = if i.measure == "manual" {
                let v = manual_value(manual.get(&(c.id, i.key.clone())), i, p);
                (v, if v.is_some() { "manual" } else { "none" })
            } else {
                let v = measured(&i.measure, &f);
                (v, if v.is_some() { "computed" } else { "none" })
            };
            let ach = actual.map(|a| achievement_bp(a, target, i.lower_is_better, cap_bp)).unwrap_or(0);
            // Points in basis points of the whole score: achievement × weight ÷ 100.
            let points = ach * i.weight / 100;
            weighted += points;
            lines.push(IndicatorScore {
                key: i.key.clone(),
                category: i.category.clone(),
                name: i.name.clone(),
                measure: i.measure.clone(),
                kind: i.kind.clone(),
                unit: i.unit.clone(),
                weight: i.weight,
                lower_is_better: i.lower_is_better,
                target: format_dec(target),
                actual: actual.map(format_dec),
                source: source.into(),
                achievement: format_dec(ach),
                points: format_dec(points),
            });
        }
        let computed_veto = c.veto.measure == "writeoff" && vetoed.contains(&c.user_id);
        let veto_hit = c.veto_hit || computed_veto;
        let mut score = if veto_hit { 0 } else { weighted };
        if p.quarter.is_none() && i64::from(p.year) == c.year {
            if let Some(fs) = c.final_score_bp {
                score = fs;
            }
        }
        let coefficient = coefficient_for(&coefs, &c.team_path, p);
        let years = finals.get(&c.user_id).cloned().unwrap_or_default();
        out.push(Scorecard {
            contract_id: c.id,
            user_id: c.user_id,
            holder_name: c.holder_name.clone(),
            role: c.role.clone(),
            team_id: c.org_unit_id,
            team_name: c.team_name.clone(),
            period: p.code(),
            contract_state: c.state.clone(),
            indicators: lines,
            veto_name: c.veto.name.clone(),
            veto_hit,
            veto_reason: if c.veto_hit {
                reasons.get(&c.id).cloned().flatten()
            } else if computed_veto {
                Some("writeoff".into())
            } else {
                None
            },
            weighted: format_dec(weighted),
            score: format_dec(score),
            score_bp: score,
            bonus_base: format_fen(c.bonus_base),
            coefficient: coefficient.map(super::team::format_coefficient),
            bonus: coefficient.map(|k| format_fen(((c.bonus_base as i128 * k as i128 + 5000) / 10000) as i64)),
            promotion: promotion_run(&years).is_some(),
        });
    }
    Ok(out)
}

async fn rows_where(
    conn: &mut sqlx::AnyConnection,
    cond: &str,
    year: i64,
    arg: Option<i64>,
) -> Result<Vec<ContractRow>> {
    let sql = format!("{ROW_SQL} WHERE c.year = $1{cond} ORDER BY o.path, u.display_name, c.id");
    let mut q = sqlx::query(&sql).bind(year);
    if let Some(a) = arg {
        q = q.bind(a);
    }
    q.fetch_all(&mut *conn).await?.iter().map(row_of).collect()
}

/// A person's scorecard of a period (their contract of its year; 404 without one or outside
/// the caller's scope).
pub async fn person(db: &Db, caller: &Caller, user_id: i64, p: Period) -> Result<Scorecard> {
    let mut conn = db.pool.acquire().await?;
    person_in(&mut conn, caller, user_id).await?;
    let rows = rows_where(&mut conn, " AND c.user_id = $2", i64::from(p.year), Some(user_id)).await?;
    if rows.is_empty() {
        return Err(Error::NotFound);
    }
    let cap = templates::templates_of(&mut conn).await?.cap_pct;
    score_rows(&mut conn, &rows, p, cap).await?.into_iter().next().ok_or(Error::NotFound)
}

/// A team's or the department's scorecard: every member's score and the average.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = KpiTeamScorecard)]
pub struct TeamScorecard {
    /// The team (null for the department: every KA contract of the year).
    pub team_id: Option<i64>,
    pub team_name: String,
    pub period: String,
    pub people: Vec<Scorecard>,
    /// The members' scores averaged (percent), null without members.
    pub average: Option<String>,
    /// How many scored 90 % or more.
    pub at_or_above_90: i64,
    /// How many have the veto item hit.
    pub vetoed: i64,
}

fn summarise(team_id: Option<i64>, team_name: String, p: Period, people: Vec<Scorecard>) -> TeamScorecard {
    let n = people.len() as i64;
    let sum: i64 = people.iter().map(|s| s.score_bp).sum();
    TeamScorecard {
        team_id,
        team_name,
        period: p.code(),
        average: (n > 0).then(|| format_dec(sum / n)),
        at_or_above_90: people.iter().filter(|s| s.score_bp >= PROMOTION_BP).count() as i64,
        vetoed: people.iter().filter(|s| s.veto_hit).count() as i64,
        people,
    }
}

/// A team's scorecard: the contracts of the people of its part of the org tree.
pub async fn team(db: &Db, caller: &Caller, team_id: i64, p: Period) -> Result<TeamScorecard> {
    let mut conn = db.pool.acquire().await?;
    let t = team_in(&mut conn, caller, team_id).await?;
    let rows: Vec<ContractRow> = rows_where(&mut conn, "", i64::from(p.year), None)
        .await?
        .into_iter()
        .filter(|c| c.team_path.starts_with(&t.path))
        .collect();
    let cap = templates::templates_of(&mut conn).await?.cap_pct;
    let people = score_rows(&mut conn, &rows, p, cap).await?;
    Ok(summarise(Some(t.id), t.name, p, people))
}

/// The department's scorecard (the KA director, the sales department manager, the general
/// manager): every contract of the year.
pub async fn department(db: &Db, caller: &Caller, p: Period, name: String) -> Result<TeamScorecard> {
    if !super::sees_all(caller.role) {
        return Err(Error::NotFound);
    }
    let mut conn = db.pool.acquire().await?;
    let rows = rows_where(&mut conn, "", i64::from(p.year), None).await?;
    let cap = templates::templates_of(&mut conn).await?.cap_pct;
    let people = score_rows(&mut conn, &rows, p, cap).await?;
    Ok(summarise(None, name, p, people))
}

/// A person flagged for promotion.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = KpiPromotion)]
pub struct Promotion {
    pub user_id: i64,
    pub name: String,
    pub role: String,
    pub team_name: String,
    /// The closed years running at 90 % or more, with their scores (percent).
    pub years: Vec<PromotionYear>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = KpiPromotionYear)]
pub struct PromotionYear {
    pub year: i64,
    pub score: String,
}

/// The people the caller sees who are flagged for promotion.
pub async fn promotions(db: &Db, caller: &Caller) -> Result<Vec<Promotion>> {
    if !super::may_see(caller) {
        return Err(Error::Forbidden);
    }
    let mut conn = db.pool.acquire().await?;
    let finals = final_scores(&mut conn, &None).await?;
    let mut out = vec![];
    let mut ids: Vec<&i64> = finals.keys().collect();
    ids.sort();
    for id in ids {
        let Some(run) = promotion_run(&finals[id]) else { continue };
        let Some(p) = super::person_of(&mut conn, *id).await? else { continue };
        if !super::sees_person(caller, &p) {
            continue;
        }
        out.push(Promotion {
            user_id: p.id,
            name: p.display_name,
            role: p.role.code().to_string(),
            team_name: p.org_name,
            years: run.into_iter().map(|(y, s)| PromotionYear { year: y, score: format_dec(s) }).collect(),
        });
    }
    Ok(out)
}

/// This year for the caller.
pub fn this_year(caller: &Caller) -> i32 {
    caller.day().year()
}

/// Whether the caller reads the department's scorecard.
pub fn sees_department(caller: &Caller) -> bool {
    super::sees_all(caller.role) && caller.role != Role::Admin
}
