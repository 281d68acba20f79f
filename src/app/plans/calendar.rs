//! The planning year (issue 23 item 3, seed 004 phase 1): the year's calendar of drafting and
//! review dates with senior management's priorities and the guidelines (set by the KA director
//! and those above), each account's priorities and reviewer, the plan settings (the review
//! cadence by tier, the lead days, the report's tiers), and the planning calendar: every key
//! account of the year with its plan's phase and dates, late plans marked.
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::app::records::audit;
use crate::app::{Caller, Ctx, Error, Result};
use crate::db::sql::Sql;
use crate::db::{ts, Db, WriteTx};
use crate::domain::account_plan::{Cadence, Calendar, PlanSettings, TEXT_MAX};
use crate::domain::error::Errors;
use crate::domain::role::Role;
use crate::domain::text;

/// The settings key the plan settings are kept under.
pub const KEY: &str = "account_plans";

/// The plan settings in force (the defaults until the company saves its own).
pub async fn settings_of(conn: &mut sqlx::AnyConnection) -> Result<PlanSettings> {
    Ok(settings_in(conn).await?.0)
}

async fn settings_in(conn: &mut sqlx::AnyConnection) -> Result<(PlanSettings, bool, i64)> {
    let r = sqlx::query("SELECT value, version FROM settings WHERE key = $1").bind(KEY).fetch_optional(conn).await?;
    Ok(match r {
        None => (PlanSettings::default(), true, 0),
        Some(r) => {
            let v: String = r.try_get("value")?;
            let version: i64 = r.try_get("version")?;
            match serde_json::from_str::<PlanSettings>(&v).ok().filter(|s| s.validate().is_ok()) {
                Some(s) => (s, false, version),
                None => (PlanSettings::default(), true, version),
            }
        }
    })
}

/// The plan settings as the API shows them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanSettingsView {
    /// How often a strategic account's plan is reviewed.
    pub strategic: Cadence,
    pub a: Cadence,
    pub b: Cadence,
    pub c: Cadence,
    /// How many days before a review falls due its request is opened.
    pub lead_days: i64,
    /// The tiers the six-monthly progress report covers.
    pub report_tiers: Vec<String>,
    /// Whether these are the shipped defaults (issue 23's).
    pub is_default: bool,
    /// The setting's version (0: never saved); give it back to save.
    pub version: i64,
}

/// The plan settings as given (all of them) over the version read.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanSettingsIn {
    pub strategic: Cadence,
    pub a: Cadence,
    pub b: Cadence,
    pub c: Cadence,
    /// 0–60.
    pub lead_days: i64,
    /// Tiers among `strategic`, `A`, `B`, `C` (at least one).
    pub report_tiers: Vec<String>,
    pub version: i64,
}

fn settings_view((s, is_default, version): (PlanSettings, bool, i64)) -> PlanSettingsView {
    PlanSettingsView {
        strategic: s.strategic,
        a: s.a,
        b: s.b,
        c: s.c,
        lead_days: s.lead_days,
        report_tiers: s.report_tiers,
        is_default,
        version,
    }
}

/// Who sets the year's calendar, the accounts' priorities and the plan settings: the KA
/// director and those above.
pub fn may_plan(role: Role) -> bool {
    matches!(role, Role::KaDirector | Role::Gm | Role::MarketingDirector | Role::SalesDeptManager)
}

/// Who changes the plan settings: the administrator (who keeps settings) and the planners.
pub fn may_edit_settings(role: Role) -> bool {
    role.is_admin() || may_plan(role)
}

/// The plan settings; everyone reads them.
pub async fn load_settings(db: &Db) -> Result<PlanSettingsView> {
    let mut conn = db.pool.acquire().await?;
    Ok(settings_view(settings_in(&mut conn).await?))
}

/// Saves the plan settings over the version read; every problem is named, nothing saved.
pub async fn save_settings(db: &Db, ctx: &Ctx, inp: &PlanSettingsIn) -> Result<PlanSettingsView> {
    if !may_edit_settings(ctx.caller.role) {
        return Err(Error::Forbidden);
    }
    let mut tiers: Vec<String> = vec![];
    for t in &inp.report_tiers {
        let t = t.trim().to_string();
        if !tiers.contains(&t) {
            tiers.push(t);
        }
    }
    let s = PlanSettings {
        strategic: inp.strategic,
        a: inp.a,
        b: inp.b,
        c: inp.c,
        lead_days: inp.lead_days,
        report_tiers: tiers,
    };
    s.validate()?;
    let value = serde_json::to_string(&s).map_err(anyhow::Error::from)?;
    let mut tx = db.begin().await?;
    let before = settings_in(tx.conn()).await?.0;
    if crate::app::records::settings::write(&mut tx, KEY, &value, inp.version, &ctx.caller.username).await? {
        audit::record(
            &mut tx,
            ctx,
            "settings",
            KEY,
            "update",
            Some(&serde_json::to_value(&before).map_err(anyhow::Error::from)?),
            Some(&serde_json::to_value(&s).map_err(anyhow::Error::from)?),
        )
        .await?;
    }
    let after = settings_in(tx.conn()).await?;
    tx.commit().await?;
    Ok(settings_view(after))
}

// ---- the year's calendar ----

/// A plan year's calendar, the default one until the KA director sets it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanCalendarView {
    pub year: i32,
    /// Phase 1, planning and preparation, starts.
    #[schema(format = Date)]
    pub prepare_from: String,
    /// Phase 2, drafting, starts.
    #[schema(format = Date)]
    pub draft_from: String,
    /// Drafts are due for review (8–12 weeks after drafting starts).
    #[schema(format = Date)]
    pub draft_due: String,
    /// The first review of every plan is due.
    #[schema(format = Date)]
    pub review_due: String,
    /// Phase 4, execution and monitoring, starts.
    #[schema(format = Date)]
    pub execute_from: String,
    /// Senior management's priorities and expectations for the year.
    pub priorities: Option<String>,
    /// The guidelines for drafting.
    pub guidelines: Option<String>,
    /// The year's phase today.
    pub phase: crate::domain::account_plan::Phase,
    /// Whether this is the default calendar (the year has none set).
    pub is_default: bool,
    /// The calendar's version (0: never set); give it back to save.
    pub version: i64,
    /// Who set it last, by name, and when.
    pub updated_by_name: Option<String>,
    #[schema(format = DateTime)]
    pub updated_at: Option<String>,
    /// Whether the caller may set it.
    pub may_edit: bool,
}

/// A plan year's calendar as given, over the version read (0 for a year not set yet).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanCalendarIn {
    #[schema(format = Date)]
    pub prepare_from: String,
    #[schema(format = Date)]
    pub draft_from: String,
    #[schema(format = Date)]
    pub draft_due: String,
    #[schema(format = Date)]
    pub review_due: String,
    #[schema(format = Date)]
    pub execute_from: String,
    /// At most 4000 characters.
    #[serde(default)]
    pub priorities: Option<String>,
    /// At most 4000 characters.
    #[serde(default)]
    pub guidelines: Option<String>,
    pub version: i64,
}

fn year_ok(year: i32) -> Result<()> {
    if (2000..=2100).contains(&year) {
        Ok(())
    } else {
        Err(Error::invalid("year", "out_of_range"))
    }
}

async fn calendar_in(conn: &mut sqlx::AnyConnection, caller: &Caller, year: i32) -> Result<PlanCalendarView> {
    let r = sqlx::query(
        "SELECT y.*, COALESCE(u.display_name, u.username, y.updated_by) AS by_name FROM plan_years y \
         LEFT JOIN users u ON u.username = y.updated_by WHERE y.year = $1",
    )
    .bind(year as i64)
    .fetch_optional(conn)
    .await?;
    let today = caller.day();
    let may_edit = may_plan(caller.role);
    Ok(match r {
        None => {
            let c = Calendar::default_for(year);
            PlanCalendarView {
                year,
                phase: c.phase_on(today),
                prepare_from: c.prepare_from,
                draft_from: c.draft_from,
                draft_due: c.draft_due,
                review_due: c.review_due,
                execute_from: c.execute_from,
                priorities: None,
                guidelines: None,
                is_default: true,
                version: 0,
                updated_by_name: None,
                updated_at: None,
                may_edit,
            }
        }
        Some(r) => {
            let c = Calendar {
                prepare_from: r.try_get("prepare_from")?,
                draft_from: r.try_get("draft_from")?,
                draft_due: r.try_get("draft_due")?,
                review_due: r.try_get("review_due")?,
                execute_from: r.try_get("execute_from")?,
            };
            PlanCalendarView {
                year,
                phase: c.phase_on(today),
                prepare_from: c.prepare_from,
                draft_from: c.draft_from,
                draft_due: c.draft_due,
                review_due: c.review_due,
                execute_from: c.execute_from,
                priorities: r.try_get("priorities")?,
                guidelines: r.try_get("guidelines")?,
                is_default: false,
                version: r.try_get("version")?,
                updated_by_name: r.try_get("by_name")?,
                updated_at: r.try_get("updated_at")?,
                may_edit,
            }
        }
    })
}

/// The calendar of `year` (everyone who plans or drafts reads it).
pub async fn calendar(db: &Db, caller: &Caller, year: i32) -> Result<PlanCalendarView> {
    year_ok(year)?;
    let mut conn = db.pool.acquire().await?;
    calendar_in(&mut conn, caller, year).await
}

/// The calendar of `year` as the domain reads it: the one set, else the default.
pub async fn calendar_or_default(conn: &mut sqlx::AnyConnection, year: i32) -> Result<Calendar> {
    Ok(crate::app::plans::plans::calendar_of(conn, year).await?.unwrap_or_else(|| Calendar::default_for(year)))
}

/// Sets the calendar of `year` (the KA director and those above; anyone else 403): the dates in
/// order, drafting 8–12 weeks; every fault named by its field and nothing saved.
pub async fn set_calendar(db: &Db, ctx: &Ctx, year: i32, inp: &PlanCalendarIn) -> Result<PlanCalendarView> {
    let caller = &ctx.caller;
    if !may_plan(caller.role) {
        return Err(Error::Forbidden);
    }
    year_ok(year)?;
    let c = Calendar {
        prepare_from: inp.prepare_from.trim().to_string(),
        draft_from: inp.draft_from.trim().to_string(),
        draft_due: inp.draft_due.trim().to_string(),
        review_due: inp.review_due.trim().to_string(),
        execute_from: inp.execute_from.trim().to_string(),
    };
    let mut e = Errors::default();
    if let Err(Error::Invalid(fs)) = c.validate() {
        e.0.extend(fs);
    }
    let priorities = e.take("priorities", text::optional(inp.priorities.as_deref(), TEXT_MAX)).flatten();
    let guidelines = e.take("guidelines", text::optional(inp.guidelines.as_deref(), TEXT_MAX)).flatten();
    e.finish()?;
    let mut tx = db.begin().await?;
    let before = calendar_in(tx.conn(), caller, year).await?;
    if before.version != inp.version {
        return Err(Error::StaleVersion { current: before.version });
    }
    let at = ts(crate::app::clock::now());
    let n = if before.is_default {
        sqlx::query(
            "INSERT INTO plan_years (year, prepare_from, draft_from, draft_due, review_due, execute_from, priorities, \
             guidelines, version, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $10) \
             ON CONFLICT (year) DO NOTHING",
        )
        .bind(year as i64)
        .bind(c.prepare_from.clone())
        .bind(c.draft_from.clone())
        .bind(c.draft_due.clone())
        .bind(c.review_due.clone())
        .bind(c.execute_from.clone())
        .bind(priorities.clone())
        .bind(guidelines.clone())
        .bind(caller.username.as_str())
        .bind(at)
        .execute(tx.conn())
        .await?
    } else {
        sqlx::query(
            "UPDATE plan_years SET prepare_from = $1, draft_from = $2, draft_due = $3, review_due = $4, \
             execute_from = $5, priorities = $6, guidelines = $7, version = version + 1, updated_by = $8, \
             updated_at = $9 WHERE year = $10 AND version = $11",
        )
        .bind(c.prepare_from.clone())
        .bind(c.draft_from.clone())
        .bind(c.draft_due.clone())
        .bind(c.review_due.clone())
        .bind(c.execute_from.clone())
        .bind(priorities.clone())
        .bind(guidelines.clone())
        .bind(caller.username.as_str())
        .bind(at)
        .bind(year as i64)
        .bind(inp.version)
        .execute(tx.conn())
        .await?
    };
    if n.rows_affected() != 1 {
        return Err(Error::StaleVersion { current: inp.version });
    }
    let snap = |v: &PlanCalendarView| {
        serde_json::json!({"prepare_from": v.prepare_from, "draft_from": v.draft_from, "draft_due": v.draft_due,
            "review_due": v.review_due, "execute_from": v.execute_from, "priorities": v.priorities,
            "guidelines": v.guidelines})
    };
    let after = calendar_in(tx.conn(), caller, year).await?;
    audit::record(
        &mut tx,
        ctx,
        "plan_year",
        &year.to_string(),
        if before.is_default { "create" } else { "update" },
        (!before.is_default).then(|| snap(&before)).as_ref(),
        Some(&snap(&after)),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

// ---- an account's priorities and reviewer (phase 1) ----

/// Management's priorities for an account's plan and who reviews it, over the plan's version.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanPrioritiesIn {
    /// Senior management's priorities and expectations for this account (at most 4000
    /// characters; empty clears them).
    #[serde(default)]
    pub priorities: Option<String>,
    /// Username of who reviews the plan beside the reviewers its tier gives (empty: none named).
    #[serde(default)]
    pub reviewer: Option<String>,
    /// The plan's version read.
    pub version: i64,
}

/// A plan's priorities and named reviewer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanPrioritiesView {
    pub plan_id: i64,
    pub account_id: i64,
    pub year: i32,
    pub priorities: Option<String>,
    pub reviewer: Option<String>,
    pub reviewer_name: Option<String>,
    pub version: i64,
}

async fn user_id_of(conn: &mut sqlx::AnyConnection, username: &str) -> Result<Option<i64>> {
    Ok(sqlx::query("SELECT id FROM users WHERE username = $1 AND active = 1")
        .bind(username)
        .fetch_optional(conn)
        .await?
        .map(|r| r.try_get("id"))
        .transpose()?)
}

async fn priorities_in(
    tx: &mut WriteTx,
    ctx: &Ctx,
    plan_id: i64,
    inp: &PlanPrioritiesIn,
) -> Result<PlanPrioritiesView> {
    let caller = &ctx.caller;
    let plan = crate::app::plans::plans::load_for_edit_in(tx.conn(), caller, plan_id).await?;
    if !may_plan(caller.role) {
        return Err(Error::Forbidden);
    }
    let mut e = Errors::default();
    let priorities = e.take("priorities", text::optional(inp.priorities.as_deref(), TEXT_MAX)).flatten();
    let reviewer_name = inp.reviewer.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let mut reviewer = None;
    if let Some(u) = reviewer_name {
        match user_id_of(tx.conn(), u).await? {
            Some(id) => reviewer = Some(id),
            None => e.add("reviewer", "unknown_user"),
        }
    }
    e.finish()?;
    if plan.version != inp.version {
        return Err(Error::StaleVersion { current: plan.version });
    }
    let at = ts(crate::app::clock::now());
    sqlx::query(
        "UPDATE account_plans SET priorities = $1, reviewer_id = $2, updated_by = $3, updated_at = $4 \
         WHERE id = $5 AND version = $6",
    )
    .bind(priorities.clone())
    .bind(reviewer)
    .bind(caller.username.as_str())
    .bind(at)
    .bind(plan_id)
    .bind(inp.version)
    .execute(tx.conn())
    .await?;
    audit::record(
        tx,
        ctx,
        "account_plan",
        &plan_id.to_string(),
        "priorities",
        Some(&serde_json::json!({"priorities": plan.priorities, "reviewer_id": plan.reviewer_id})),
        Some(&serde_json::json!({"priorities": priorities, "reviewer_id": reviewer})),
    )
    .await?;
    let name: Option<String> = match reviewer {
        None => None,
        Some(id) => sqlx::query("SELECT COALESCE(display_name, username) AS n FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(tx.conn())
            .await?
            .map(|r| r.try_get("n"))
            .transpose()?,
    };
    Ok(PlanPrioritiesView {
        plan_id,
        account_id: plan.account_id,
        year: plan.year,
        priorities,
        reviewer: reviewer_name.map(str::to_string),
        reviewer_name: name,
        version: plan.version,
    })
}

/// Sets a plan's priorities and named reviewer (the KA director and those above, on plans of
/// accounts they see).
pub async fn set_priorities(db: &Db, ctx: &Ctx, plan_id: i64, inp: &PlanPrioritiesIn) -> Result<PlanPrioritiesView> {
    let mut tx = db.begin().await?;
    let v = priorities_in(&mut tx, ctx, plan_id, inp).await?;
    tx.commit().await?;
    Ok(v)
}

/// Sets the priorities of a key account's plan of `year`, beginning the plan (as
/// `plans::initial_body` gives it) when the account has none yet.
pub async fn set_account_priorities(
    db: &Db,
    ctx: &Ctx,
    account_id: i64,
    year: i32,
    priorities: Option<&str>,
    reviewer: Option<&str>,
) -> Result<PlanPrioritiesView> {
    if !may_plan(ctx.caller.role) {
        return Err(Error::Forbidden);
    }
    year_ok(year)?;
    let mut tx = db.begin().await?;
    crate::app::customers::accounts::ensure_visible_in(tx.conn(), &ctx.caller, account_id).await?;
    let plan_id = match crate::app::plans::plans::id_of(tx.conn(), account_id, year).await? {
        Some(id) => id,
        None => {
            let body = crate::app::plans::plans::initial_body(tx.conn(), account_id, year).await?;
            crate::app::plans::plans::create_in(&mut tx, ctx, account_id, year, &body, crate::app::clock::now()).await?
        }
    };
    let version: i64 = sqlx::query("SELECT version FROM account_plans WHERE id = $1")
        .bind(plan_id)
        .fetch_one(tx.conn())
        .await?
        .try_get("version")?;
    let inp = PlanPrioritiesIn {
        priorities: priorities.map(str::to_string),
        reviewer: reviewer.map(str::to_string),
        version,
    };
    let v = priorities_in(&mut tx, ctx, plan_id, &inp).await?;
    tx.commit().await?;
    Ok(v)
}

// ---- the planning calendar ----

/// Why a plan is late.
pub const LATE_REASONS: [&str; 4] = ["not_started", "draft_late", "revision_late", "review_late"];

/// One key account of the year on the planning calendar.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanCalendarRow {
    pub account_id: i64,
    pub account_name: String,
    /// The account's plan of the year (null: not started).
    pub plan_id: Option<i64>,
    /// The plan's phase (null: not started).
    pub phase: Option<crate::domain::account_plan::Phase>,
    /// The plan's tier (the account's when not started).
    pub tier: Option<String>,
    /// The region's org unit code and name.
    pub region: Option<String>,
    pub region_name: Option<String>,
    /// The plan's owner (the account's when not started): username and name.
    pub owner: Option<String>,
    pub owner_name: Option<String>,
    /// When the draft is due: the year's date, or the date a returned review asks the revision by.
    #[schema(format = Date)]
    pub draft_due: String,
    /// When the plan's first review is due (the year's date).
    #[schema(format = Date)]
    pub review_due: String,
    #[schema(format = DateTime)]
    pub submitted_at: Option<String>,
    #[schema(format = DateTime)]
    pub accepted_at: Option<String>,
    /// The next review not closed: its period, due date and state (`scheduled`, `open`, `returned`).
    pub next_review_period: Option<String>,
    #[schema(format = Date)]
    pub next_review_due: Option<String>,
    pub next_review_state: Option<String>,
    /// Who reviews: the reviewer named by the director (username and name), else the role the
    /// plan's tier gives (`gm`, `marketing_director`, `branch_manager` by default).
    pub reviewer: Option<String>,
    pub reviewer_name: Option<String>,
    pub reviewer_role: Option<String>,
    /// Whether the plan is late, and why (`not_started`, `draft_late`, `revision_late`, `review_late`).
    pub late: bool,
    pub late_reason: Option<String>,
    /// Management's priorities for this account (phase 1).
    pub priorities: Option<String>,
}

/// The planning calendar's filter.
#[derive(Debug, Default, Clone)]
pub struct PlanCalendarFilter {
    /// A phase, or `not_started`.
    pub phase: Option<String>,
    pub tier: Option<String>,
    /// A region's org unit code.
    pub region: Option<String>,
    /// Only late plans.
    pub late: bool,
    /// Matches the account's name.
    pub q: Option<String>,
    /// `name` (default), `next_review`, `phase`, `tier`, `owner`; `-` before for descending.
    pub sort: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

const SORTS: &[(&str, &str)] = &[
    ("name", "x.name_sort"),
    ("next_review", "x.next_key"),
    ("phase", "x.phase_key"),
    ("tier", "x.tier_key"),
    ("owner", "x.owner_key"),
];

fn sort_of(s: Option<&str>) -> Result<(&'static str, &'static str, bool)> {
    let raw = s.map(str::trim).filter(|s| !s.is_empty()).unwrap_or("name");
    let (desc, key) = match raw.strip_prefix('-') {
        Some(k) => (true, k),
        None => (false, raw),
    };
    SORTS
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(k, e)| (*k, *e, desc))
        .ok_or_else(|| Error::invalid("sort", "invalid_choice"))
}

impl PlanCalendarFilter {
    fn check(&self) -> Result<()> {
        let mut e = Errors::default();
        if let Some(p) = self.phase.as_deref().filter(|p| *p != "not_started") {
            e.take("phase", crate::domain::account_plan::Phase::parse(p));
        }
        if let Some(t) = &self.tier {
            if !crate::domain::classify::TIERS.contains(&t.as_str()) {
                e.add("tier", "invalid_choice");
            }
        }
        e.take("q", text::search(self.q.as_deref()));
        if self.region.as_ref().is_some_and(|v| v.chars().count() > 100) {
            e.add("region", "too_long");
        }
        if let Err(Error::Invalid(fs)) = sort_of(self.sort.as_deref()) {
            e.0.extend(fs);
        }
        e.finish()
    }
}

/// The next-review subquery's text: `due state period` of the plan's earliest review not closed.
const NEXT_REVIEW: &str = "(SELECT r.due_on || ' ' || r.state || ' ' || r.period FROM account_plan_reviews r \
     WHERE r.plan_id = p.id AND r.state IN ('scheduled', 'open', 'returned') ORDER BY r.due_on, r.id LIMIT 1)";

/// A page of the planning calendar of `year`: every key account the caller sees (and every
/// account with a plan of the year), with its plan's phase and dates; late plans marked. One
/// statement for the page.
pub async fn rows(
    db: &Db,
    caller: &Caller,
    year: i32,
    f: &PlanCalendarFilter,
) -> Result<crate::app::Page<PlanCalendarRow>> {
    year_ok(year)?;
    f.check()?;
    let limit = crate::app::clamp_limit(f.limit)?;
    let (key, expr, desc) = sort_of(f.sort.as_deref())?;
    let mut conn = db.pool.acquire().await?;
    let cal = calendar_or_default(&mut conn, year).await?;
    let today = caller.today();
    let (_, def) = crate::app::approvals::definition(&mut conn, crate::domain::approval::Flow::AccountPlan).await?;
    let y = year as i64;
    let mut s = Sql::new(&format!(
        "SELECT * FROM (SELECT a.id AS account_id, a.name, COALESCE(a.name_sort, a.name) AS name_sort, p.id AS plan_id, p.phase, \
         COALESCE(p.tier, a.tier) AS tier, g.code AS region_code, g.name AS region_name, o.username AS owner_username, \
         COALESCE(o.display_name, o.username) AS owner_name, v.username AS reviewer_username, \
         COALESCE(v.display_name, v.username) AS reviewer_name, p.submitted_at, p.accepted_at, p.revise_by, \
         p.priorities, {NEXT_REVIEW} AS next_review, COALESCE({NEXT_REVIEW}, '9999') AS next_key, \
         CASE p.phase WHEN 'preparation' THEN 1 WHEN 'drafting' THEN 2 WHEN 'review' THEN 3 WHEN 'execution' THEN 4 \
         ELSE 0 END AS phase_key, COALESCE(p.tier, a.tier, 'Z') AS tier_key, \
         COALESCE(o.display_name, o.username, '') AS owner_key \
         FROM (SELECT id FROM accounts WHERE status = 'key_account' UNION SELECT account_id FROM account_plans \
         WHERE year = "
    ));
    s.bind(y);
    s.push(") k JOIN accounts a ON a.id = k.id LEFT JOIN account_plans p ON p.account_id = a.id AND p.year = ").bind(y);
    s.push(
        " LEFT JOIN users o ON o.id = COALESCE(p.owner_id, a.owner_id) LEFT JOIN users v ON v.id = p.reviewer_id \
         LEFT JOIN org_units g ON g.id = a.region_id WHERE 1=1",
    );
    crate::app::customers::accounts::push_scope(&mut s, caller);
    if let Some(q) = text::search(f.q.as_deref()).ok().flatten() {
        s.push(" AND a.name_norm LIKE ").bind(text::like_pattern(q)).push(" ESCAPE '\\'");
    }
    if let Some(r) = f.region.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        s.push(" AND a.region_id = (SELECT id FROM org_units WHERE code = ").bind(r.to_string()).push(")");
    }
    s.push(") x WHERE 1=1");
    match f.phase.as_deref() {
        Some("not_started") => {
            s.push(" AND x.plan_id IS NULL");
        }
        Some(p) => {
            s.push(" AND x.phase = ").bind(p.to_string());
        }
        None => {}
    }
    if let Some(t) = &f.tier {
        s.push(" AND x.tier = ").bind(t.clone());
    }
    if f.late {
        s.push(" AND ((x.plan_id IS NULL AND ").bind(today.clone()).push(" > ").bind(cal.draft_from.clone());
        s.push(") OR (x.phase IN ('preparation', 'drafting') AND ((x.revise_by IS NULL AND ")
            .bind(today.clone())
            .push(" > ")
            .bind(cal.draft_due.clone());
        s.push(") OR x.revise_by < ").bind(today.clone()).push(")) OR x.next_key < ").bind(today.clone()).push(")");
    }
    if let Some(c) = &f.cursor {
        crate::app::push_after(&mut s, c, expr, "x.account_id", key != "phase", desc)?;
    }
    let dir = if desc { "DESC" } else { "ASC" };
    s.push(&format!(" ORDER BY {expr} {dir}, x.account_id {dir} LIMIT ")).bind(limit + 1);
    let found = s.query().fetch_all(&mut *conn).await?;
    let mut items = Vec::with_capacity(found.len().min(limit as usize));
    let mut last = serde_json::Value::Null;
    for r in found.iter().take(limit as usize) {
        let phase: Option<String> = r.try_get("phase")?;
        let phase = phase.and_then(|p| crate::domain::account_plan::Phase::parse(&p).ok());
        let tier: Option<String> = r.try_get("tier")?;
        let revise_by: Option<String> = r.try_get("revise_by")?;
        let next: Option<String> = r.try_get("next_review")?;
        let mut parts = next.as_deref().unwrap_or("").splitn(3, ' ').map(str::to_string);
        let (next_due, next_state, next_period) = match next {
            Some(_) => (parts.next(), parts.next(), parts.next()),
            None => (None, None, None),
        };
        let plan_id: Option<i64> = r.try_get("plan_id")?;
        use crate::domain::account_plan::Phase;
        let late_reason = if plan_id.is_none() {
            (today > cal.draft_from).then_some("not_started")
        } else if matches!(phase, Some(Phase::Preparation | Phase::Drafting)) {
            match &revise_by {
                Some(d) => (today > *d).then_some("revision_late"),
                None => (today > cal.draft_due).then_some("draft_late"),
            }
        } else {
            None
        }
        .or_else(|| next_due.as_ref().filter(|d| today > **d).map(|_| "review_late"));
        let reviewer_role = def
            .steps
            .iter()
            .find(|st| st.applies_to(None, Some(tier.as_deref().unwrap_or("C"))))
            .map(|st| st.role.clone());
        let v = PlanCalendarRow {
            account_id: r.try_get("account_id")?,
            account_name: r.try_get("name")?,
            plan_id,
            phase,
            tier,
            region: r.try_get("region_code")?,
            region_name: r.try_get("region_name")?,
            owner: r.try_get("owner_username")?,
            owner_name: r.try_get("owner_name")?,
            draft_due: revise_by.clone().unwrap_or_else(|| cal.draft_due.clone()),
            review_due: cal.review_due.clone(),
            submitted_at: r.try_get("submitted_at")?,
            accepted_at: r.try_get("accepted_at")?,
            next_review_period: next_period,
            next_review_due: next_due,
            next_review_state: next_state,
            reviewer: r.try_get("reviewer_username")?,
            reviewer_name: r.try_get("reviewer_name")?,
            reviewer_role,
            late: late_reason.is_some(),
            late_reason: late_reason.map(str::to_string),
            priorities: r.try_get("priorities")?,
        };
        last = match key {
            "name" => serde_json::Value::from(r.try_get::<Option<String>, _>("name_sort")?.unwrap_or_default()),
            "next_review" => serde_json::Value::from(r.try_get::<String, _>("next_key")?),
            "phase" => serde_json::Value::from(r.try_get::<i64, _>("phase_key")?),
            "tier" => serde_json::Value::from(r.try_get::<String, _>("tier_key")?),
            _ => serde_json::Value::from(r.try_get::<String, _>("owner_key")?),
        };
        items.push(v);
    }
    let next_cursor = if found.len() as i64 > limit {
        items.last().map(|v| crate::app::encode_cursor(last.clone(), v.account_id))
    } else {
        None
    };
    Ok(crate::app::Page { items, next_cursor })
}

/// The planning calendar of `year` as a table to download (every row the filter gives, at
/// most 10,000).
pub async fn export(db: &Db, caller: &Caller, year: i32, f: &PlanCalendarFilter) -> Result<Vec<PlanCalendarRow>> {
    let mut all = vec![];
    let mut f = PlanCalendarFilter { cursor: None, limit: Some(crate::app::MAX_LIMIT), ..f.clone() };
    loop {
        let page = rows(db, caller, year, &f).await?;
        all.extend(page.items);
        match page.next_cursor {
            Some(c) if all.len() < 10_000 => f.cursor = Some(c),
            _ => break,
        }
    }
    Ok(all)
}

/// The planning calendar's rows as a table to download.
pub fn table(rows: &[PlanCalendarRow]) -> crate::app::spreadsheets::export::Table {
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    crate::app::spreadsheets::export::Table {
        keys: vec![
            "account_id",
            "account",
            "tier",
            "region",
            "phase",
            "owner",
            "draft_due",
            "review_due",
            "next_review_period",
            "next_review_due",
            "next_review_state",
            "reviewer",
            "late",
            "late_reason",
        ],
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    r.account_id.to_string(),
                    r.account_name.clone(),
                    o(&r.tier),
                    o(&r.region_name),
                    r.phase.map(|p| p.code().to_string()).unwrap_or_else(|| "not_started".into()),
                    o(&r.owner_name),
                    r.draft_due.clone(),
                    r.review_due.clone(),
                    o(&r.next_review_period),
                    o(&r.next_review_due),
                    o(&r.next_review_state),
                    r.reviewer_name.clone().or_else(|| r.reviewer_role.clone()).unwrap_or_default(),
                    if r.late { "yes".into() } else { "no".into() },
                    o(&r.late_reason),
                ]
            })
            .collect(),
    }
}
