//! The home page per role (工作台, docs/DOMAIN.md#the-home-per-role): what a person starts the day
//! with, composed from the use cases that own each rule — the month's figures
//! (`funnel::quotas`), the visit progress, agenda and follow-ups (`visits::activities`),
//! requests waiting for a decision (`approvals`), overdue service standards
//! (`classification::classify_views`) — plus the home's own short lists: next steps due and
//! deals past their date, and for managers the team's exceptions. Every list is bounded
//! (`LIMIT`) and read on indexed columns; everything is scoped as everywhere.
use chrono::{Duration, Utc};
use serde::Serialize;
use sqlx::Row;

use crate::app::classification::classify_views::{self, Overdue};
use crate::app::customers::visibility::Probe;
use crate::app::funnel::quotas::{self, Figures};
use crate::app::visits::activities::{self, Progress};
use crate::app::{approvals, Caller, Result};
use crate::db::sql::Sql;
use crate::db::Db;
use crate::domain::activity as act;
use crate::domain::money::{format_fen, parse_fen};
use crate::domain::opportunity::Stage;
use crate::domain::role::Reach;

/// How many rows each list of the home shows (its page has the rest).
pub const LIST: usize = 8;

/// What the home shows: its parts depend on the caller's role (`view`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Home {
    /// `rep` (salespeople), `manager` (KA and branch managers: with the team's exceptions),
    /// `director` (everyone who sees all accounts: with one card per region), `admin` (nothing
    /// but the frame: the administrator has no business data).
    #[schema(value_type = String, pattern = "^(rep|manager|director|admin)$")]
    pub view: &'static str,
    /// The caller's today and tomorrow (their time zone).
    #[schema(format = Date)]
    pub today: String,
    #[schema(format = Date)]
    pub tomorrow: String,
    /// This month's figures: a salesperson's own, a manager's team's, a director's total; null
    /// for the administrator.
    pub figures: Option<Figures>,
    /// booked ÷ quota in percent ("45.20"); null without a quota.
    #[schema(pattern = r"^[0-9]+\.[0-9]{2}$")]
    pub completion: Option<String>,
    /// Effective visits (calls for inside sales) today and this week against the targets.
    pub visits: Option<Progress>,
    /// The caller's activities today and tomorrow, in time order.
    pub agenda: Vec<AgendaItem>,
    pub todos: Todos,
    /// The team's exceptions (managers only).
    pub exceptions: Option<Exceptions>,
    /// One card per region (directors only).
    pub regions: Vec<RegionCard>,
    /// Account plans' reviews due for the caller to decide (open, or opening within the lead
    /// days), soonest first.
    pub plan_reviews: Vec<crate::app::plans::reviews::PlanReviewDue>,
    /// Open points whose two-weekly review is due, for the caller as their lead (issue 24).
    pub opl_due: Vec<crate::app::voice::opl::OplItem>,
    /// The caller's own plans due: drafts to submit and revisions.
    pub plans_due: Vec<crate::app::plans::reviews::PlanDue>,
}

/// An activity on the agenda.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AgendaItem {
    pub id: i64,
    /// The owner's local day.
    #[schema(format = Date)]
    pub day: String,
    /// When it takes (or took) place.
    #[schema(format = DateTime)]
    pub at: Option<String>,
    #[schema(value_type = crate::domain::activity::Kind)]
    pub kind: String,
    pub status: crate::domain::activity::Status,
    pub account_id: i64,
    pub account_name: String,
    pub opportunity_id: Option<i64>,
    pub opportunity_name: Option<String>,
    pub objective: Option<String>,
}

/// An open opportunity in a list of the home.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Deal {
    pub id: i64,
    pub name: String,
    pub account_id: i64,
    pub account_name: String,
    /// The owner's username and name.
    pub owner: String,
    pub owner_name: String,
    pub stage: Stage,
    #[schema(value_type = String, pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub amount: String,
    #[schema(format = Date)]
    pub expected_close: String,
    pub next_step: Option<String>,
    #[schema(format = Date)]
    pub next_step_due: Option<String>,
}

/// A visit waiting for its follow-up contact.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FollowUpItem {
    pub activity_id: i64,
    pub account_id: i64,
    pub account_name: String,
    pub owner: String,
    pub owner_name: String,
    #[schema(format = Date)]
    pub visited_on: String,
    #[schema(format = Date)]
    pub due: String,
    pub overdue: bool,
}

/// A request waiting for the caller's decision.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WaitingItem {
    pub id: i64,
    pub flow: crate::domain::approval::Flow,
    /// What it is about, as the request names it.
    pub label: String,
    pub requested_by_name: String,
    #[schema(format = DateTime)]
    pub due_at: Option<String>,
    pub overdue: bool,
}

/// The caller's own to-dos (the first [`LIST`] of each, and how many there are).
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Todos {
    /// Open opportunities of theirs whose next step is due (today or before).
    pub next_steps: Vec<Deal>,
    /// Their open opportunities past the expected order date.
    pub slipped_deals: Vec<Deal>,
    pub follow_ups: Vec<FollowUpItem>,
    pub follow_ups_total: i64,
    pub approvals: Vec<WaitingItem>,
    pub approvals_total: i64,
    /// Service standards overdue on the key accounts they own.
    pub service: Vec<Overdue>,
    pub service_total: i64,
    /// Deadlines (questions, submission) of their open bids within the next 7 days.
    pub bid_deadlines: Vec<crate::app::quotes::bids::BidDeadline>,
}

/// Someone on the team, by name.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Person {
    pub username: String,
    pub name: String,
}

/// Someone below the visit target this week.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BelowTarget {
    pub username: String,
    pub name: String,
    /// Effective visits (inside sales: calls) this week, and the week's target.
    pub count: i64,
    pub target: i64,
    /// Working days so far below the daily target.
    pub days_below_target: i64,
}

/// What a manager should look at in the team.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Exceptions {
    /// The Monday of the week whose plans are meant.
    #[schema(format = Date)]
    pub week: String,
    /// Salespeople whose weekly visit plan is not submitted.
    pub plans_missing: Vec<Person>,
    /// The team's follow-ups past their day.
    pub overdue_follow_ups: Vec<FollowUpItem>,
    /// The team's open opportunities past the expected order date.
    pub slipped_deals: Vec<Deal>,
    pub below_target: Vec<BelowTarget>,
}

/// A region's figures this month.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RegionCard {
    pub code: String,
    pub name: String,
    #[schema(value_type = Option<String>, pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub quota: Option<String>,
    #[schema(value_type = String, pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub booked: String,
    #[schema(pattern = r"^[0-9]+\.[0-9]{2}$")]
    pub completion: Option<String>,
    #[schema(value_type = String, pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub pipeline: String,
    #[schema(pattern = r"^([0-9]+\.[0-9]{2}|quota_met)$")]
    pub v_value: Option<String>,
}

/// booked ÷ quota in percent, two decimals; none without a (positive) quota.
fn completion(f: &Figures) -> Option<String> {
    let q = parse_fen(f.quota.as_deref()?).ok().filter(|q| *q > 0)?;
    let b = parse_fen(&f.booked).ok()?.max(0);
    let bp = crate::domain::quota::round_div(b as i128 * 10_000, q as i128) as i64;
    Some(format!("{}.{:02}", bp / 100, bp % 100))
}

/// Which home the caller gets.
fn view_of(caller: &Caller) -> &'static str {
    match caller.reach() {
        Reach::Nothing => "admin",
        Reach::All => "director",
        Reach::Reports | Reach::OrgSubtree if caller.role.manages_accounts() => "manager",
        _ => "rep",
    }
}

/// The home of the caller.
pub async fn home(db: &Db, caller: &Caller) -> Result<Home> {
    let tz = act::parse_tz(&caller.time_zone).unwrap_or(chrono_tz::Asia::Shanghai);
    let today_d = act::local_day(Utc::now(), tz);
    let (today, tomorrow) = (day(today_d), day(today_d + Duration::days(1)));
    let view = view_of(caller);
    let mut home = Home {
        view,
        today: today.clone(),
        tomorrow: tomorrow.clone(),
        figures: None,
        completion: None,
        visits: None,
        agenda: vec![],
        todos: Todos::default(),
        exceptions: None,
        regions: vec![],
        plan_reviews: vec![],
        opl_due: vec![],
        plans_due: vec![],
    };
    if view == "admin" {
        return Ok(home);
    }
    // The figures: a director's are the total of what they see, with one card per region.
    let figures = if view == "director" {
        let r = quotas::v_report(db, caller, None, None).await?;
        home.regions = r
            .regions
            .into_iter()
            .map(|g| RegionCard {
                completion: completion(&g),
                code: g.key,
                name: g.name,
                quota: g.quota,
                booked: g.booked,
                pipeline: g.pipeline,
                v_value: g.v_value,
            })
            .collect();
        r.total
    } else {
        quotas::own_figures(db, caller).await?
    };
    home.completion = completion(&figures);
    home.figures = Some(figures);
    let (visits, agenda, todos) =
        tokio::try_join!(activities::progress(db, caller), agenda(db, caller, today_d), todos(db, caller, &today))?;
    home.visits = Some(visits);
    home.agenda = agenda;
    home.todos = todos;
    if view == "manager" {
        home.exceptions = Some(exceptions(db, caller, &today).await?);
    }
    let now = crate::app::clock::now();
    home.plan_reviews = crate::app::plans::reviews::due_for(db, caller, now).await?;
    home.plans_due = crate::app::plans::reviews::owner_due(db, caller, now).await?;
    home.opl_due = crate::app::voice::opl::reviews_due(db, caller).await?;
    Ok(home)
}

fn day(d: chrono::NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// Today's and tomorrow's activities of the caller (their local days), in time order.
pub async fn agenda(db: &Db, caller: &Caller, today: chrono::NaiveDate) -> Result<Vec<AgendaItem>> {
    Ok(activities::own_on_days(db, caller, &[today, today + Duration::days(1)], 50)
        .await?
        .into_iter()
        .map(|v| AgendaItem {
            at: v.occurred_at.clone().or_else(|| v.planned_at.clone()),
            id: v.id,
            day: v.local_day,
            kind: v.kind,
            status: v.status,
            account_id: v.account_id,
            account_name: v.account_name,
            opportunity_id: v.opportunity_id,
            opportunity_name: v.opportunity_name,
            objective: v.objective,
        })
        .collect())
}

/// The open stages, as SQL literals (fixed text of the domain, never input).
fn open_stages() -> String {
    Stage::ALL
        .iter()
        .filter(|s| !matches!(s, Stage::Won | Stage::Lost))
        .map(|s| format!("'{}'", s.code()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// How many candidates the first pass of [`deals`] takes.
const CANDIDATES: usize = 8 * LIST;

/// Open opportunities of the given owners, in the caller's scope, that `cond` picks, the first
/// [`LIST`] in `order`. Two passes: the owners' index (owner, stage, expected date) alone gives
/// the first candidates in order; the scope is then probed for those only. Should fewer than
/// [`LIST`] of a full set of candidates be in scope, the scope is probed for all of them (the
/// same answer, slower: a manager's team may hold thousands of slipped deals).
async fn deals(db: &Db, caller: &Caller, owners: &[i64], cond: &str, today: &str, order: &str) -> Result<Vec<Deal>> {
    if owners.is_empty() {
        return Ok(vec![]);
    }
    let stages = open_stages();
    let mut c = Sql::new("SELECT o.id FROM opportunities o WHERE o.owner_id IN (");
    c.bind_list(owners).push(&format!(") AND o.stage IN ({stages}) AND "));
    c.push(cond).bind(today.to_string());
    c.push(&format!(" AND o.deleted_at IS NULL ORDER BY {order}, o.id LIMIT {CANDIDATES}"));
    let candidates: Vec<i64> =
        c.query().fetch_all(&db.pool).await?.iter().map(|r| r.try_get("id")).collect::<Result<_, _>>()?;
    if candidates.is_empty() {
        return Ok(vec![]);
    }
    let read = |among: Option<&[i64]>| {
        let mut s = Sql::new(
            "SELECT o.id, o.name, o.account_id, a.name AS account_name, u.username, u.display_name, o.stage, o.amount, \
             o.expected_close, o.next_step, o.next_step_due FROM opportunities o \
             JOIN accounts a ON a.id = o.account_id JOIN users u ON u.id = o.owner_id WHERE o.owner_id IN (",
        );
        s.bind_list(owners).push(&format!(") AND o.stage IN ({stages}) AND "));
        s.push(cond).bind(today.to_string());
        if let Some(ids) = among {
            s.push(" AND o.id IN (").bind_list(ids).push(")");
        }
        crate::app::funnel::opportunities::push_scope_as(&mut s, caller, Probe::Row);
        s.push(&format!(" ORDER BY {order}, o.id LIMIT {LIST}"));
        s
    };
    let mut rows = read(Some(&candidates)).query().fetch_all(&db.pool).await?;
    if rows.len() < LIST && candidates.len() == CANDIDATES {
        rows = read(None).query().fetch_all(&db.pool).await?;
    }
    rows.iter()
        .map(|r| {
            Ok(Deal {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                account_id: r.try_get("account_id")?,
                account_name: r.try_get("account_name")?,
                owner: r.try_get("username")?,
                owner_name: r.try_get("display_name")?,
                stage: Stage::parse(&r.try_get::<String, _>("stage")?).unwrap_or(Stage::Identified),
                amount: format_fen(r.try_get("amount")?),
                expected_close: r.try_get("expected_close")?,
                next_step: r.try_get("next_step")?,
                next_step_due: r.try_get("next_step_due")?,
            })
        })
        .collect()
}

/// The caller's open opportunities whose next step is due (today or before), the first
/// [`LIST`] by due day (one of the home's own lists).
pub async fn next_steps(db: &Db, caller: &Caller, today: &str) -> Result<Vec<Deal>> {
    deals(db, caller, &[caller.user_id], "o.next_step_due <= ", today, "o.next_step_due").await
}

/// Open opportunities of `owners` past their expected order date, the first [`LIST`] by that
/// date (the home's own list: the caller's, or for a manager the team's).
pub async fn slipped_deals(db: &Db, caller: &Caller, owners: &[i64], today: &str) -> Result<Vec<Deal>> {
    deals(db, caller, owners, "o.expected_close < ", today, "o.expected_close").await
}

async fn todos(db: &Db, caller: &Caller, today: &str) -> Result<Todos> {
    let me = [caller.user_id];
    let scope = classify_views::Scope { org: None, owner: Some(caller.username.clone()) };
    let (next_steps, slipped_deals, follow_ups, waiting, service, bid_deadlines) = tokio::try_join!(
        next_steps(db, caller, today),
        slipped_deals(db, caller, &me, today),
        activities::follow_ups(db, caller, None),
        approvals::waiting_for(db, caller, Utc::now()),
        classify_views::service(db, caller, &scope, None, None),
        bid_deadlines(db, caller, today),
    )?;
    Ok(Todos {
        next_steps,
        slipped_deals,
        follow_ups_total: follow_ups.len() as i64,
        follow_ups: follow_ups
            .into_iter()
            .take(LIST)
            .map(|f| FollowUpItem {
                activity_id: f.activity_id,
                account_id: f.account_id,
                account_name: f.account_name,
                owner: f.owner,
                owner_name: caller.display_name.clone(),
                visited_on: f.visited_on,
                due: f.due,
                overdue: f.overdue,
            })
            .collect(),
        approvals_total: waiting.len() as i64,
        approvals: waiting
            .into_iter()
            .take(LIST)
            .map(|w| WaitingItem {
                id: w.id,
                flow: w.flow,
                label: w.subject["label"].as_str().unwrap_or_default().to_string(),
                requested_by_name: w.requested_by_name,
                due_at: w.due_at,
                overdue: w.overdue,
            })
            .collect(),
        service_total: service.overdue.len() as i64,
        service: service.overdue.into_iter().take(LIST).collect(),
        bid_deadlines,
    })
}

/// How many days ahead the home lists the caller's tender deadlines.
pub const BID_DAYS: i64 = 7;

/// The deadlines of the caller's own open bids from today to [`BID_DAYS`] days ahead.
async fn bid_deadlines(db: &Db, caller: &Caller, today: &str) -> Result<Vec<crate::app::quotes::bids::BidDeadline>> {
    let until = chrono::NaiveDate::parse_from_str(today, "%Y-%m-%d")
        .map(|d| day(d + Duration::days(BID_DAYS)))
        .unwrap_or_else(|_| today.to_string());
    crate::app::quotes::bids::deadlines(db, caller, Some(&caller.username), today, &until, LIST as i64).await
}

/// The team's exceptions: everyone whose figures the manager sees, but themselves.
async fn exceptions(db: &Db, caller: &Caller, today: &str) -> Result<Exceptions> {
    let stats = activities::stats(db, caller, None).await?;
    let team: Vec<(String, String, i64)> = {
        let mut conn = db.pool.acquire().await?;
        crate::app::people::team::people_in_scope(&mut conn, caller).await?
    };
    let ids: Vec<i64> = team.iter().filter(|p| p.2 != caller.user_id).map(|p| p.2).collect();
    let sellers: Vec<&activities::PersonWeek> =
        stats.people.iter().filter(|p| p.username != caller.username && p.sales_type.is_some()).collect();
    let seller_ids: Vec<i64> = team.iter().filter(|p| sellers.iter().any(|s| s.username == p.0)).map(|p| p.2).collect();
    let mut submitted: Vec<String> = vec![];
    if !seller_ids.is_empty() {
        let mut s = Sql::new(
            "SELECT u.username FROM visit_plans p JOIN users u ON u.id = p.owner_id WHERE p.status = 'submitted' AND p.week = ",
        );
        s.bind(stats.week.clone()).push(" AND p.owner_id IN (").bind_list(&seller_ids).push(")");
        for r in s.query().fetch_all(&db.pool).await? {
            submitted.push(r.try_get("username")?);
        }
    }
    let plans_missing = sellers
        .iter()
        .filter(|p| !submitted.contains(&p.username))
        .map(|p| Person { username: p.username.clone(), name: p.name.clone() })
        .collect();
    let below_target = sellers
        .iter()
        .filter(|p| p.days_below_target > 0)
        .map(|p| {
            let inside = p.sales_type.as_deref() == Some("sr");
            BelowTarget {
                username: p.username.clone(),
                name: p.name.clone(),
                count: if inside { p.calls } else { p.effective },
                target: if inside { p.targets.daily_calls * 5 } else { p.targets.weekly_effective },
                days_below_target: p.days_below_target,
            }
        })
        .collect();
    let (overdue_follow_ups, slipped_deals) =
        tokio::try_join!(team_follow_ups(db, caller, &ids, today), slipped_deals(db, caller, &ids, today),)?;
    Ok(Exceptions { week: stats.week, plans_missing, overdue_follow_ups, slipped_deals, below_target })
}

/// The team's follow-ups past their day (on the follow-up index: owner, day due), oldest first.
pub async fn team_follow_ups(db: &Db, caller: &Caller, owners: &[i64], today: &str) -> Result<Vec<FollowUpItem>> {
    if owners.is_empty() {
        return Ok(vec![]);
    }
    let mut s = Sql::new(
        "SELECT v.id, v.account_id, a.name AS account_name, u.username, u.display_name, v.local_day, v.follow_up_due \
         FROM activities v JOIN accounts a ON a.id = v.account_id \
         JOIN users u ON u.id = COALESCE(v.follow_up_owner_id, v.owner_id) WHERE (v.owner_id IN (",
    );
    s.bind_list(owners).push(") AND v.follow_up_owner_id IS NULL OR v.follow_up_owner_id IN (");
    s.bind_list(owners).push(")) AND v.follow_up_due IS NOT NULL AND v.followed_up_by IS NULL AND v.follow_up_due < ");
    s.bind(today.to_string()).push(" AND v.deleted_at IS NULL AND a.deleted_at IS NULL AND ");
    crate::app::customers::visibility::push_sees(&mut s, caller.user_id, "v.account_id", Probe::Row);
    s.push(&format!(" ORDER BY v.follow_up_due, v.id LIMIT {LIST}"));
    s.query()
        .fetch_all(&db.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(FollowUpItem {
                activity_id: r.try_get("id")?,
                account_id: r.try_get("account_id")?,
                account_name: r.try_get("account_name")?,
                owner: r.try_get("username")?,
                owner_name: r.try_get("display_name")?,
                visited_on: r.try_get("local_day")?,
                due: r.try_get("follow_up_due")?,
                overdue: true,
            })
        })
        .collect()
}

/// The people who report to the caller directly (managers and above; for the navigation's
/// 我的团队), by name.
pub async fn direct_reports(db: &Db, caller: &Caller) -> Result<Vec<Person>> {
    if !caller.role.manages_accounts() {
        return Ok(vec![]);
    }
    sqlx::query(
        "SELECT username, display_name FROM users WHERE manager_id = $1 AND active = 1 ORDER BY display_name, username LIMIT 50",
    )
    .bind(caller.user_id)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| Ok(Person { username: r.try_get("username")?, name: r.try_get("display_name")? }))
    .collect()
}
