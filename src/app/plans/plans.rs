//! An account's plan of a year (issue 23 items 1, 2, 7): its row, the scoped read every part of
//! `plans` goes through, and its creation. Who sees the account reads its plan (the functions
//! that serve it — marketing, finance, logistics — read it, read-only); who edits accounts and
//! sees it edits it.
use serde::Serialize;
use sqlx::Row;

use crate::app::records::files::Storage;

use crate::app::customers::accounts;
use crate::app::records::attachments::{self, Attachment, FileHolder, FileIn};
use crate::app::records::audit;
use crate::app::{Caller, Ctx, Error, Result};
use crate::db::{ts, Db, RowLock, WriteTx};
use crate::domain::account_plan::{self as ap, Change, Phase, PlanBody};
use crate::domain::error::Errors;
use crate::domain::money;

/// A plan as stored.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanRow {
    pub id: i64,
    pub account_id: i64,
    pub account_name: String,
    pub year: i32,
    pub owner_id: Option<i64>,
    /// The account's tier when the plan was begun (its review cadence and reviewer).
    pub tier: Option<String>,
    pub phase: Phase,
    pub priorities: Option<String>,
    pub reviewer_id: Option<i64>,
    pub body: PlanBody,
    #[schema(format = DateTime)]
    pub submitted_at: Option<String>,
    #[schema(format = DateTime)]
    pub accepted_at: Option<String>,
    #[schema(format = Date)]
    pub revise_by: Option<String>,
    pub version: i64,
    pub updated_by: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// The columns [`row`] reads (plan `p`, account `a`).
pub const COLUMNS: &str = "p.id, p.account_id, a.name AS account_name, p.year, p.owner_id, p.tier, p.phase, \
     p.priorities, p.reviewer_id, p.body, p.submitted_at, p.accepted_at, p.revise_by, p.version, p.updated_by, \
     p.updated_at";

/// A plan from a row of [`COLUMNS`].
pub fn row(r: &sqlx::any::AnyRow) -> Result<PlanRow> {
    let phase: String = r.try_get("phase")?;
    Ok(PlanRow {
        id: r.try_get("id")?,
        account_id: r.try_get("account_id")?,
        account_name: r.try_get("account_name")?,
        year: r.try_get::<i64, _>("year")? as i32,
        owner_id: r.try_get("owner_id")?,
        tier: r.try_get("tier")?,
        phase: Phase::parse(&phase).unwrap_or(Phase::Drafting),
        priorities: r.try_get("priorities")?,
        reviewer_id: r.try_get("reviewer_id")?,
        body: serde_json::from_str(&r.try_get::<String, _>("body")?).unwrap_or_default(),
        submitted_at: r.try_get("submitted_at")?,
        accepted_at: r.try_get("accepted_at")?,
        revise_by: r.try_get("revise_by")?,
        version: r.try_get("version")?,
        updated_by: r.try_get("updated_by")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// The plan `id` if the caller sees its account ("not found" otherwise).
pub async fn load_in(conn: &mut sqlx::AnyConnection, caller: &Caller, id: i64) -> Result<PlanRow> {
    let r = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM account_plans p JOIN accounts a ON a.id = p.account_id WHERE p.id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(Error::NotFound)?;
    let plan = row(&r)?;
    match accounts::ensure_visible_in(conn, caller, plan.account_id).await {
        // The account's service team reads its plans (issue 24), in scope or not.
        Err(Error::NotFound)
            if crate::app::service::team::is_member_in(conn, plan.account_id, caller.user_id).await? => {}
        other => other?,
    }
    Ok(plan)
}

/// [`load_in`] for a change: the account itself in the caller's scope (the service team's
/// reading does not reach changes).
pub async fn load_for_edit_in(conn: &mut sqlx::AnyConnection, caller: &Caller, id: i64) -> Result<PlanRow> {
    let plan = load_in(conn, caller, id).await?;
    accounts::ensure_visible_in(conn, caller, plan.account_id).await?;
    Ok(plan)
}

/// The id of the account's plan of `year`, if there is one (the caller has seen the account).
pub async fn id_of(conn: &mut sqlx::AnyConnection, account_id: i64, year: i32) -> Result<Option<i64>> {
    Ok(sqlx::query("SELECT id FROM account_plans WHERE account_id = $1 AND year = $2")
        .bind(account_id)
        .bind(year as i64)
        .fetch_optional(conn)
        .await?
        .map(|r| r.try_get("id"))
        .transpose()?)
}

/// Whether the caller may change the plans of accounts they see (read-only for everyone else:
/// the functions that serve the account).
pub fn edits(caller: &Caller) -> bool {
    caller.role.edits_accounts()
}

/// Begins the plan of `year` for a key account the caller sees (inside the caller's
/// transaction): owned by the account's owner, of the account's tier, in the phase the year's
/// calendar gives today (drafting when the year has none), with `body` as its first version.
/// A plan the account already has for the year is a conflict naming it.
pub async fn create_in(
    tx: &mut WriteTx,
    ctx: &Ctx,
    account_id: i64,
    year: i32,
    body: &PlanBody,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<i64> {
    let caller = &ctx.caller;
    accounts::ensure_visible_in(tx.conn(), caller, account_id).await?;
    if !edits(caller) {
        return Err(Error::Forbidden);
    }
    if !(2000..=2100).contains(&year) {
        return Err(Error::invalid("year", "out_of_range"));
    }
    let a = sqlx::query("SELECT status, tier, owner_id FROM accounts WHERE id = $1")
        .bind(account_id)
        .fetch_one(tx.conn())
        .await?;
    let status: String = a.try_get("status")?;
    if status != "key_account" {
        return Err(Error::invalid("account_id", "plan_needs_key_account"));
    }
    if let Some(existing) = id_of(tx.conn(), account_id, year).await? {
        return Err(Error::Duplicate { field: "year", existing_id: existing });
    }
    let tier: Option<String> = a.try_get("tier")?;
    let owner: Option<i64> = a.try_get("owner_id")?;
    let phase = match calendar_of(tx.conn(), year).await? {
        Some(c) if c.phase_on(now.date_naive()) == Phase::Preparation => Phase::Preparation,
        Some(_) => Phase::Drafting,
        None => Phase::Drafting,
    };
    let json = serde_json::to_string(body).map_err(anyhow::Error::from)?;
    let at = ts(now);
    let id: i64 = sqlx::query(
        "INSERT INTO account_plans (account_id, year, owner_id, tier, phase, body, version, created_by, created_at, \
         updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8, $7, $8) RETURNING id",
    )
    .bind(account_id)
    .bind(year as i64)
    .bind(owner)
    .bind(tier.clone())
    .bind(phase.code())
    .bind(json.clone())
    .bind(caller.username.as_str())
    .bind(at.clone())
    .fetch_one(tx.conn())
    .await?
    .try_get("id")?;
    sqlx::query(
        "INSERT INTO account_plan_versions (plan_id, version, body, saved_by, saved_at) VALUES ($1, 1, $2, $3, $4)",
    )
    .bind(id)
    .bind(json)
    .bind(caller.username.as_str())
    .bind(at)
    .execute(tx.conn())
    .await?;
    audit::record(
        tx,
        ctx,
        "account_plan",
        &id.to_string(),
        "create",
        None,
        Some(&serde_json::json!({"account_id": account_id, "year": year, "tier": tier, "phase": phase.code()})),
    )
    .await?;
    Ok(id)
}

/// The calendar of plan year `year`, when the KA director has set it.
pub async fn calendar_of(
    conn: &mut sqlx::AnyConnection,
    year: i32,
) -> Result<Option<crate::domain::account_plan::Calendar>> {
    let r = sqlx::query(
        "SELECT prepare_from, draft_from, draft_due, review_due, execute_from FROM plan_years WHERE year = $1",
    )
    .bind(year as i64)
    .fetch_optional(conn)
    .await?;
    let Some(r) = r else { return Ok(None) };
    Ok(Some(crate::domain::account_plan::Calendar {
        prepare_from: r.try_get("prepare_from")?,
        draft_from: r.try_get("draft_from")?,
        draft_due: r.try_get("draft_due")?,
        review_due: r.try_get("review_due")?,
        execute_from: r.try_get("execute_from")?,
    }))
}

/// What a new plan of `year` begins with: what last year's plan of the account said of the
/// customer, the competition and the team, its 5-year outline and forecast for the years still
/// ahead; without one, the account's people (owner, inside owner, KA manager, team) as the
/// team. The owner edits from there.
pub async fn initial_body(conn: &mut sqlx::AnyConnection, account_id: i64, year: i32) -> Result<PlanBody> {
    let last = sqlx::query("SELECT body FROM account_plans WHERE account_id = $1 AND year = $2")
        .bind(account_id)
        .bind((year - 1) as i64)
        .fetch_optional(&mut *conn)
        .await?;
    let horizon = year..year + crate::domain::account_plan::HORIZON_YEARS;
    if let Some(r) = last {
        let prev: PlanBody = serde_json::from_str(&r.try_get::<String, _>("body")?).unwrap_or_default();
        let mut b =
            PlanBody { customer: prev.customer, competition: prev.competition, team: prev.team, ..PlanBody::default() };
        b.performance.shares = prev.performance.shares;
        b.actions.outline = prev.actions.outline.into_iter().filter(|o| horizon.contains(&o.year)).collect();
        b.forecast = prev.forecast.into_iter().filter(|f| horizon.contains(&f.year)).collect();
        return Ok(b);
    }
    let people = sqlx::query(
        "SELECT u.username, x.via FROM account_access x JOIN users u ON u.id = x.user_id \
         WHERE x.account_id = $1 AND u.active = 1 ORDER BY x.via, u.username",
    )
    .bind(account_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut b = PlanBody::default();
    for r in people {
        let user: String = r.try_get("username")?;
        if b.team.iter().any(|m| m.user.as_deref() == Some(user.as_str())) {
            continue;
        }
        b.team.push(crate::domain::account_plan::Member {
            user: Some(user),
            name: None,
            role: r.try_get("via")?,
            responsibilities: None,
            resources: None,
            function_input: None,
            development: None,
        });
    }
    Ok(b)
}

// ---------------------------------------------------------------------------------------------
// The plan's use cases: begin, read with what KAM knows, save (versioned), compare, files.

/// The subject kind of a plan's files and audit rows.
pub const KIND: &str = "account_plan";

/// One point of the account's share-of-wallet history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = PlanSowPoint)]
pub struct SowPoint {
    #[schema(format = DateTime)]
    pub at: String,
    /// The share in percent ("35.00"), when known.
    pub sow: Option<String>,
    pub tier: Option<String>,
    pub rad_class: Option<String>,
    /// Why it changed (`recompute`, `manual`, …).
    pub reason: String,
}

/// An opportunity of the account, as the plan shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = PlanOppLine)]
pub struct OppLine {
    pub id: i64,
    pub name: String,
    pub stage: String,
    /// Yuan.
    pub amount: String,
    #[schema(format = Date)]
    pub expected_close: String,
    pub owner_name: String,
}

/// The account's orders and receivables in brief.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = PlanTrade)]
pub struct Trade {
    /// Orders signed in the plan's year and the year before, and their signed totals (yuan).
    pub orders_this_year: i64,
    pub signed_this_year: String,
    pub orders_last_year: i64,
    pub signed_last_year: String,
    /// Open receivables' outstanding sum, and the part past due (yuan).
    pub outstanding: String,
    pub overdue: String,
}

/// How last year's plan ended: its objectives measured at the end of its year.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = PlanLastPlan)]
pub struct LastPlan {
    pub id: i64,
    pub year: i32,
    pub objectives: Vec<super::progress::Measured>,
}

/// What KAM knows of the account, beside the owner's text (the plan's pre-filled parts).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = PlanFacts)]
pub struct Facts {
    pub name: String,
    pub industry: String,
    pub level: String,
    pub region_name: Option<String>,
    pub branch_name: Option<String>,
    pub owner_name: Option<String>,
    pub inside_owner_name: Option<String>,
    pub ka_manager_name: Option<String>,
    /// The account's tier now (`strategic`, `A`, `B`, `C`).
    pub tier: Option<String>,
    pub rad_class: Option<String>,
    /// Share of wallet in percent.
    pub sow: Option<String>,
    /// Yuan.
    pub buying_power: Option<String>,
    /// Trailing 12 months' sales, yuan.
    pub sales_12m: Option<String>,
    pub business_units: Option<String>,
    /// Credit grade and limit: only for callers who see credit.
    pub credit_grade: Option<String>,
    pub credit_limit: Option<String>,
    /// The contacts, their roles and our relationship (the relationship map).
    pub contacts: Vec<crate::app::customers::contacts::ContactView>,
    /// The share of wallet, tier and RAD class over time, oldest first.
    pub sow_history: Vec<SowPoint>,
    pub won: Vec<OppLine>,
    pub open: Vec<OppLine>,
    pub trade: Trade,
    pub last_plan: Option<LastPlan>,
}

/// A forecast year's totals (yuan).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = PlanYearTotal)]
pub struct YearTotal {
    pub year: i32,
    pub revenue: String,
    pub contribution: String,
    pub cost: String,
}

/// One saved version.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = PlanVersionRow)]
pub struct VersionRow {
    pub version: i64,
    pub saved_by: String,
    pub saved_by_name: String,
    #[schema(format = DateTime)]
    pub saved_at: String,
}

/// One saved version with its body.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = PlanVersionView)]
pub struct VersionView {
    pub plan_id: i64,
    pub version: i64,
    pub body: PlanBody,
    pub saved_by: String,
    pub saved_by_name: String,
    #[schema(format = DateTime)]
    pub saved_at: String,
}

/// A plan as read: the row, the account's facts, the objectives measured and the actions
/// tracked today, the forecast by year, its versions and files, and whether the caller edits it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanView {
    pub plan: PlanRow,
    pub owner_name: Option<String>,
    pub facts: Facts,
    pub objectives: Vec<super::progress::Measured>,
    pub actions: Vec<super::progress::Tracked>,
    pub forecast: Vec<YearTotal>,
    /// Whether the caller may change it (sales roles; marketing, finance and logistics read).
    pub editable: bool,
    /// Every saved version, newest first.
    pub versions: Vec<VersionRow>,
    /// Part 8's documents.
    pub attachments: Vec<crate::app::records::attachments::Attachment>,
}

/// A plan in an account's list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanItem {
    pub id: i64,
    pub account_id: i64,
    pub year: i32,
    pub tier: Option<String>,
    pub phase: Phase,
    pub owner_name: Option<String>,
    pub objectives: i64,
    pub version: i64,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

async fn user_name(conn: &mut sqlx::AnyConnection, id: Option<i64>) -> Result<Option<String>> {
    let Some(id) = id else { return Ok(None) };
    Ok(sqlx::query("SELECT COALESCE(display_name, username) AS n FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?
        .map(|r| r.try_get("n"))
        .transpose()?)
}

fn fen(r: &sqlx::any::AnyRow, col: &str) -> Result<i64> {
    Ok(r.try_get::<Option<i64>, _>(col)?.unwrap_or(0))
}

async fn trade(conn: &mut sqlx::AnyConnection, account_id: i64, year: i32, today: &str) -> Result<Trade> {
    let signed = |y: i32| {
        sqlx::query(
            "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(signed_total), 0) AS BIGINT) AS t FROM orders \
             WHERE account_id = $1 AND state <> 'cancelled' AND signed_at >= $2 AND signed_at < $3",
        )
        .bind(account_id)
        .bind(format!("{y}-01-01"))
        .bind(format!("{}-01-01", y + 1))
    };
    let this = signed(year).fetch_one(&mut *conn).await?;
    let last = signed(year - 1).fetch_one(&mut *conn).await?;
    let rec = sqlx::query(
        "SELECT CAST(COALESCE(SUM(amount - paid - written_off), 0) AS BIGINT) AS o, \
         CAST(COALESCE(SUM(CASE WHEN due_on < $2 THEN amount - paid - written_off ELSE 0 END), 0) AS BIGINT) AS d \
         FROM receivables WHERE account_id = $1 AND state = 'open'",
    )
    .bind(account_id)
    .bind(today)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Trade {
        orders_this_year: this.try_get("n")?,
        signed_this_year: money::format_fen(fen(&this, "t")?),
        orders_last_year: last.try_get("n")?,
        signed_last_year: money::format_fen(fen(&last, "t")?),
        outstanding: money::format_fen(fen(&rec, "o")?),
        overdue: money::format_fen(fen(&rec, "d")?),
    })
}

async fn sow_history(conn: &mut sqlx::AnyConnection, account_id: i64) -> Result<Vec<SowPoint>> {
    let rows = sqlx::query(
        "SELECT at, sow_bp, tier, rad_class, reason FROM account_class_history WHERE account_id = $1 \
         ORDER BY at DESC, id DESC LIMIT 200",
    )
    .bind(account_id)
    .fetch_all(conn)
    .await?;
    let mut out: Vec<SowPoint> = vec![];
    for r in rows.iter().rev() {
        let p = SowPoint {
            at: r.try_get("at")?,
            sow: r.try_get::<Option<i64>, _>("sow_bp")?.map(money::format_bp),
            tier: r.try_get("tier")?,
            rad_class: r.try_get("rad_class")?,
            reason: r.try_get("reason")?,
        };
        // Only the changes of what the plan shows.
        if out.last().is_some_and(|q| q.sow == p.sow && q.tier == p.tier && q.rad_class == p.rad_class) {
            continue;
        }
        out.push(p);
    }
    Ok(out)
}

async fn versions_in(conn: &mut sqlx::AnyConnection, id: i64) -> Result<Vec<VersionRow>> {
    let rows = sqlx::query(
        "SELECT v.version, v.saved_by, COALESCE(u.display_name, v.saved_by) AS n, v.saved_at \
         FROM account_plan_versions v LEFT JOIN users u ON u.username = v.saved_by WHERE v.plan_id = $1 \
         ORDER BY v.version DESC",
    )
    .bind(id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(VersionRow {
                version: r.try_get("version")?,
                saved_by: r.try_get("saved_by")?,
                saved_by_name: r.try_get("n")?,
                saved_at: r.try_get("saved_at")?,
            })
        })
        .collect()
}

/// Begins the account's plan of `year` (a key account the caller sees and edits), pre-filled
/// by [`initial_body`]; 409 (`Duplicate`) when the account has one for the year.
pub async fn create(db: &Db, ctx: &Ctx, account_id: i64, year: i32) -> Result<PlanView> {
    let mut tx = db.begin().await?;
    accounts::ensure_visible_in(tx.conn(), &ctx.caller, account_id).await?;
    if !edits(&ctx.caller) {
        return Err(Error::Forbidden);
    }
    tx.lock_row("accounts", account_id, RowLock::NoKeyUpdate).await?;
    let body = initial_body(tx.conn(), account_id, year).await?;
    let id = create_in(&mut tx, ctx, account_id, year, &body, crate::app::clock::now()).await?;
    tx.commit().await?;
    get(db, &ctx.caller, id).await
}

/// The plan with everything its page shows (404 when the caller does not see its account).
pub async fn get(db: &Db, caller: &Caller, id: i64) -> Result<PlanView> {
    let reader;
    let (plan, caller) = {
        let mut conn = db.pool.acquire().await?;
        let plan = load_in(&mut conn, caller, id).await?;
        match accounts::ensure_visible_in(&mut conn, caller, plan.account_id).await {
            Ok(()) => (plan, caller),
            // A member of the account's service team out of its scope reads the plan as the
            // functions that serve accounts do (read-only, no credit).
            Err(Error::NotFound) => {
                reader = Caller { role: crate::domain::role::Role::Marketing, ..caller.clone() };
                (plan, &reader)
            }
            Err(e) => return Err(e),
        }
    };
    let a = accounts::get(db, caller, plan.account_id).await?;
    let seen = a.seen();
    let contacts = crate::app::customers::contacts::of_account(db, caller, seen).await?;
    let opps = crate::app::funnel::opportunities::of_account(db, caller, seen).await?;
    let mut conn = db.pool.acquire().await?;
    let today = caller.day();
    let line = |o: &crate::app::funnel::opportunities::OpportunityView| OppLine {
        id: o.id,
        name: o.name.clone(),
        stage: o.stage.code().to_string(),
        amount: o.amount.clone(),
        expected_close: o.expected_close.clone(),
        owner_name: o.owner_name.clone(),
    };
    let won = opps.iter().filter(|o| o.stage.code() == "won").map(line).collect();
    let open = opps.iter().filter(|o| !matches!(o.stage.code(), "won" | "lost")).map(line).collect();
    let last_plan = match id_of(&mut conn, plan.account_id, plan.year - 1).await? {
        None => None,
        Some(last_id) => {
            let r =
                sqlx::query("SELECT body FROM account_plans WHERE id = $1").bind(last_id).fetch_one(&mut *conn).await?;
            let body: PlanBody = serde_json::from_str(&r.try_get::<String, _>("body")?).unwrap_or_default();
            let end = chrono::NaiveDate::from_ymd_opt(plan.year - 1, 12, 31).unwrap_or(today).min(today);
            let objectives =
                super::progress::measure(&mut conn, plan.account_id, plan.year - 1, &body.objectives, end).await?;
            Some(LastPlan { id: last_id, year: plan.year - 1, objectives })
        }
    };
    let credit = a.credit.clone();
    let facts = Facts {
        name: a.name.clone(),
        industry: a.industry.clone(),
        level: a.level.clone(),
        region_name: a.names.region.clone(),
        branch_name: a.names.branch.clone(),
        owner_name: a.names.owner.clone(),
        inside_owner_name: a.names.inside_owner.clone(),
        ka_manager_name: a.names.ka_manager.clone(),
        tier: a.tier.clone(),
        rad_class: a.rad_class.clone(),
        sow: a.sow.clone(),
        buying_power: a.buying_power.clone(),
        sales_12m: a.sales_12m.clone(),
        business_units: a.business_units.clone(),
        credit_grade: credit.as_ref().and_then(|c| c.credit_grade.clone()).filter(|_| caller.sees_credit()),
        credit_limit: credit.as_ref().and_then(|c| c.credit_limit.clone()).filter(|_| caller.sees_credit()),
        contacts,
        sow_history: sow_history(&mut conn, plan.account_id).await?,
        won,
        open,
        trade: trade(&mut conn, plan.account_id, plan.year, &today.to_string()).await?,
        last_plan,
    };
    let objectives =
        super::progress::measure(&mut conn, plan.account_id, plan.year, &plan.body.objectives, today).await?;
    let actions = super::progress::track(&mut conn, &plan.body.actions.actions, today).await?;
    let forecast = ap::forecast_by_year(plan.year, &plan.body.forecast)
        .into_iter()
        .map(|(year, r, c, k)| YearTotal {
            year,
            revenue: money::format_fen(r),
            contribution: money::format_fen(c),
            cost: money::format_fen(k),
        })
        .collect();
    let versions = versions_in(&mut conn, id).await?;
    let attachments = attachments::of(&mut conn, KIND, id)
        .await?
        .into_iter()
        .map(|f| attachments::Attachment { removable: edits(caller), ..f })
        .collect();
    let owner_name = user_name(&mut conn, plan.owner_id).await?;
    Ok(PlanView {
        owner_name,
        facts,
        objectives,
        actions,
        forecast,
        editable: edits(caller),
        versions,
        attachments,
        plan,
    })
}

/// The account's plan of `year` (404 when it has none or the caller does not see it).
pub async fn get_for(db: &Db, caller: &Caller, account_id: i64, year: i32) -> Result<PlanView> {
    let id = {
        let mut conn = db.pool.acquire().await?;
        accounts::ensure_visible_in(&mut conn, caller, account_id).await?;
        id_of(&mut conn, account_id, year).await?.ok_or(Error::NotFound)?
    };
    get(db, caller, id).await
}

/// The account's plans, newest year first.
pub async fn list_for_account(db: &Db, caller: &Caller, account_id: i64) -> Result<Vec<PlanItem>> {
    let mut conn = db.pool.acquire().await?;
    accounts::ensure_visible_in(&mut conn, caller, account_id).await?;
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS}, COALESCE(u.display_name, u.username) AS owner_name FROM account_plans p \
         JOIN accounts a ON a.id = p.account_id LEFT JOIN users u ON u.id = p.owner_id \
         WHERE p.account_id = $1 ORDER BY p.year DESC"
    ))
    .bind(account_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let p = row(r)?;
            Ok(PlanItem {
                id: p.id,
                account_id: p.account_id,
                year: p.year,
                tier: p.tier,
                phase: p.phase,
                owner_name: r.try_get("owner_name")?,
                objectives: p.body.objectives.len() as i64,
                version: p.version,
                updated_at: p.updated_at,
            })
        })
        .collect()
}

async fn active_user(conn: &mut sqlx::AnyConnection, username: &str) -> Result<bool> {
    Ok(sqlx::query("SELECT id FROM users WHERE username = $1 AND active = 1")
        .bind(username)
        .fetch_optional(conn)
        .await?
        .is_some())
}

/// Saves the plan over the version read: checked whole (422 naming each field, nothing saved),
/// the people named active users, an objective's opportunity one of the account's; the new
/// version is kept whole and audited with the fields it changed.
pub async fn save(db: &Db, ctx: &Ctx, id: i64, body: &PlanBody, version: i64) -> Result<PlanView> {
    let caller = &ctx.caller;
    let mut tx = db.begin().await?;
    let plan = load_for_edit_in(tx.conn(), caller, id).await?;
    if !edits(caller) {
        return Err(Error::Forbidden);
    }
    tx.lock_row("account_plans", id, RowLock::NoKeyUpdate).await?;
    let mut body = body.clone();
    let mut e = Errors::default();
    if let Err(err) = ap::validate(plan.year, &mut body) {
        match err {
            Error::Invalid(fs) => e.0.extend(fs),
            other => return Err(other),
        }
    }
    let failed = |e: &Errors, f: &str| e.0.iter().any(|x| x.field == f);
    for (i, o) in body.objectives.iter().enumerate() {
        if let Some(u) = o.owner.as_deref() {
            let f = format!("objectives[{i}].owner");
            if !failed(&e, &f) && !active_user(tx.conn(), u).await? {
                e.add(&f, "unknown_user");
            }
        }
        if let Some(opp) = o.opportunity_id {
            let ok =
                sqlx::query("SELECT id FROM opportunities WHERE id = $1 AND account_id = $2 AND deleted_at IS NULL")
                    .bind(opp)
                    .bind(plan.account_id)
                    .fetch_optional(tx.conn())
                    .await?
                    .is_some();
            if !ok {
                e.add(&format!("objectives[{i}].opportunity_id"), "not_of_account");
            }
        }
    }
    for (i, a) in body.actions.actions.iter().enumerate() {
        if let Some(u) = a.owner.as_deref() {
            let f = format!("actions.actions[{i}].owner");
            if !failed(&e, &f) && !active_user(tx.conn(), u).await? {
                e.add(&f, "unknown_user");
            }
        }
    }
    for (i, m) in body.team.iter().enumerate() {
        if let Some(u) = m.user.as_deref() {
            let f = format!("team[{i}].user");
            if !failed(&e, &f) && !active_user(tx.conn(), u).await? {
                e.add(&f, "unknown_user");
            }
        }
    }
    e.finish()?;
    if version != plan.version {
        return Err(Error::StaleVersion { current: plan.version });
    }
    let changes = ap::compare(&plan.body, &body);
    let json = serde_json::to_string(&body).map_err(anyhow::Error::from)?;
    let at = ts(crate::app::clock::now());
    let n = sqlx::query(
        "UPDATE account_plans SET body = $1, version = version + 1, updated_by = $2, updated_at = $3 \
         WHERE id = $4 AND version = $5",
    )
    .bind(json.clone())
    .bind(caller.username.as_str())
    .bind(at.clone())
    .bind(id)
    .bind(version)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if n == 0 {
        return Err(Error::StaleVersion { current: plan.version });
    }
    sqlx::query(
        "INSERT INTO account_plan_versions (plan_id, version, body, saved_by, saved_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(version + 1)
    .bind(json)
    .bind(caller.username.as_str())
    .bind(at)
    .execute(tx.conn())
    .await?;
    let paths: Vec<&str> = changes.iter().map(|c| c.path.as_str()).take(200).collect();
    audit::record(
        &mut tx,
        ctx,
        KIND,
        &id.to_string(),
        "update",
        Some(&serde_json::json!({"version": version})),
        Some(&serde_json::json!({"version": version + 1, "changed": paths})),
    )
    .await?;
    tx.commit().await?;
    get(db, caller, id).await
}

/// The plan's saved versions, newest first.
pub async fn versions(db: &Db, caller: &Caller, id: i64) -> Result<Vec<VersionRow>> {
    let mut conn = db.pool.acquire().await?;
    load_in(&mut conn, caller, id).await?;
    versions_in(&mut conn, id).await
}

/// One saved version of the plan, whole.
pub async fn version(db: &Db, caller: &Caller, id: i64, v: i64) -> Result<VersionView> {
    let mut conn = db.pool.acquire().await?;
    load_in(&mut conn, caller, id).await?;
    let r = sqlx::query(
        "SELECT v.version, v.body, v.saved_by, COALESCE(u.display_name, v.saved_by) AS n, v.saved_at \
         FROM account_plan_versions v LEFT JOIN users u ON u.username = v.saved_by \
         WHERE v.plan_id = $1 AND v.version = $2",
    )
    .bind(id)
    .bind(v)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(Error::NotFound)?;
    Ok(VersionView {
        plan_id: id,
        version: r.try_get("version")?,
        body: serde_json::from_str(&r.try_get::<String, _>("body")?).unwrap_or_default(),
        saved_by: r.try_get("saved_by")?,
        saved_by_name: r.try_get("n")?,
        saved_at: r.try_get("saved_at")?,
    })
}

/// What changed from version `from` to version `to`, field by field in the parts' order.
pub async fn compare(db: &Db, caller: &Caller, id: i64, from: i64, to: i64) -> Result<Vec<Change>> {
    let a = version(db, caller, id, from).await?;
    let b = version(db, caller, id, to).await?;
    Ok(ap::compare(&a.body, &b.body))
}

/// The 5-year financial forecast as an XLSX workbook: the rows as entered (year, region,
/// platform, revenue, contribution, cost in yuan as numbers) and the totals by year.
/// `labels`: the sheet's name and the headers (year, region, platform, revenue, contribution,
/// cost, total), in the reader's language.
pub async fn forecast_xlsx(db: &Db, caller: &Caller, id: i64, labels: &[String; 8]) -> Result<(PlanRow, Vec<u8>)> {
    let plan = {
        let mut conn = db.pool.acquire().await?;
        load_in(&mut conn, caller, id).await?
    };
    let bytes = forecast_book(&plan, labels).map_err(|e| Error::Internal(anyhow::Error::from(e)))?;
    Ok((plan, bytes))
}

fn forecast_book(plan: &PlanRow, labels: &[String; 8]) -> std::result::Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("forecast")?;
    let bold = Format::new().set_bold();
    let money_fmt = Format::new().set_num_format("#,##0.00");
    ws.write_string_with_format(0, 0, format!("{} · {} · {}", labels[0], plan.account_name, plan.year), &bold)?;
    for (c, h) in labels[1..7].iter().enumerate() {
        ws.write_string_with_format(2, c as u16, h, &bold)?;
        ws.set_column_width(c as u16, if c < 3 { 12 } else { 16 })?;
    }
    let yuan = |s: &str| money::parse_fen(s).map(|f| f as f64 / 100.0).unwrap_or(0.0);
    let mut row = 3u32;
    let mut rows: Vec<&ap::ForecastRow> = plan.body.forecast.iter().collect();
    rows.sort_by_key(|r| r.year);
    for r in rows {
        ws.write_number(row, 0, r.year as f64)?;
        ws.write_string(row, 1, crate::app::spreadsheets::export::neutralise(r.region.as_deref().unwrap_or("")))?;
        ws.write_string(row, 2, crate::app::spreadsheets::export::neutralise(r.platform.as_deref().unwrap_or("")))?;
        ws.write_number_with_format(row, 3, yuan(&r.revenue), &money_fmt)?;
        ws.write_number_with_format(row, 4, yuan(&r.contribution), &money_fmt)?;
        ws.write_number_with_format(row, 5, yuan(&r.cost), &money_fmt)?;
        row += 1;
    }
    row += 1;
    for (y, r, c, k) in ap::forecast_by_year(plan.year, &plan.body.forecast) {
        ws.write_number_with_format(row, 0, y as f64, &bold)?;
        ws.write_string_with_format(row, 1, &labels[7], &bold)?;
        ws.write_number_with_format(row, 3, r as f64 / 100.0, &money_fmt)?;
        ws.write_number_with_format(row, 4, c as f64 / 100.0, &money_fmt)?;
        ws.write_number_with_format(row, 5, k as f64 / 100.0, &money_fmt)?;
        row += 1;
    }
    wb.save_to_buffer()
}

/// Part 8, the plan's documents (the shared attachments store): whoever sees the plan reads
/// them; whoever edits it adds and removes them.
#[derive(Debug, Clone, Copy)]
pub struct Appendix;

impl FileHolder for Appendix {
    fn kind(self) -> &'static str {
        KIND
    }

    async fn seen(self, conn: &mut sqlx::AnyConnection, caller: &Caller, id: i64) -> Result<()> {
        load_in(conn, caller, id).await.map(|_| ())
    }

    async fn list(self, db: &Db, caller: &Caller, id: i64) -> Result<Vec<Attachment>> {
        let mut conn = db.pool.acquire().await?;
        load_in(&mut conn, caller, id).await?;
        Ok(attachments::of(&mut conn, KIND, id)
            .await?
            .into_iter()
            .map(|f| Attachment { removable: edits(caller), ..f })
            .collect())
    }

    async fn attach(self, db: &Db, ctx: &Ctx, store: &Storage, id: i64, f: &FileIn<'_>) -> Result<Attachment> {
        let mut tx = db.begin().await?;
        let plan = load_for_edit_in(tx.conn(), &ctx.caller, id).await?;
        if !edits(&ctx.caller) {
            return Err(Error::Forbidden);
        }
        tx.lock_row("account_plans", id, RowLock::NoKeyUpdate).await?;
        let a = attachments::add_in(&mut tx, ctx, store, KIND, id, Some(plan.version), f).await?;
        tx.commit().await?;
        Ok(Attachment { removable: true, ..a })
    }

    async fn detach(self, db: &Db, ctx: &Ctx, id: i64, file_id: i64) -> Result<()> {
        let mut tx = db.begin().await?;
        load_for_edit_in(tx.conn(), &ctx.caller, id).await?;
        if !edits(&ctx.caller) {
            return Err(Error::Forbidden);
        }
        tx.lock_row("account_plans", id, RowLock::NoKeyUpdate).await?;
        attachments::remove_in(&mut tx, ctx, KIND, id, file_id).await?;
        tx.commit().await?;
        Ok(())
    }
}
