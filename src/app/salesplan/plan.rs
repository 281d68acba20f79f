//! The plan of a year: one per year, drafted by the KA director only (targets by region and
//! month for revenue and profit, the resource plan, the action plan); submitted, it starts the
//! `annual_plan` flow, decided by the sales department manager — never by its drafter.
//! Returned, the director revises it as the next version and submits it again; approved, it
//! may be decomposed into quotas. Each submitted version is kept; the reviewers' opinions of
//! every round are shown on the plan. The approval's subject id is the plan's year.
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

use crate::app::approvals::{self, Closed, HookFuture, OutcomeHook, ScopeFuture, SubjectScope};
use crate::app::records::audit;
use crate::app::{Caller, Ctx, Error, Result};
use crate::db::{ts, Db, RowLock, WriteTx};
use crate::domain::approval::{Flow, State as ApprovalState};
use crate::domain::error::Errors;
use crate::domain::money::{format_fen, parse_fen};
use crate::domain::role::Role;
use crate::domain::text;

/// The approval subject's kind (its id is the plan's year).
pub const KIND: &str = "sales_plan";

/// A plan's states.
pub const STATES: &[&str] = &["draft", "in_review", "returned", "approved"];

/// The months of a year: `YYYY-01` … `YYYY-12`.
pub fn months(year: i32) -> Vec<String> {
    (1..=12).map(|m| format!("{year:04}-{m:02}")).collect()
}

/// Who reads the sales plan: the heads of the KA system, finance, and the managers of regions,
/// branches and teams.
pub fn may_read(caller: &Caller) -> bool {
    use Role::*;
    matches!(
        caller.role,
        KaDirector | SalesDeptManager | Gm | MarketingDirector | FinanceManager | BranchManager | KaManager
    )
}

/// Who drafts, revises, submits and decomposes the plan: the KA director only.
pub fn may_draft(caller: &Caller) -> bool {
    caller.role == Role::KaDirector
}

/// One region's targets as sent: 12 monthly amounts each for revenue and profit (decimal yuan).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegionTargetsIn {
    /// The region's org unit code.
    pub region: String,
    /// January to December.
    #[schema(min_items = 12, max_items = 12, value_type = Vec<String>)]
    pub revenue: Vec<String>,
    #[schema(min_items = 12, max_items = 12, value_type = Vec<String>)]
    pub profit: Vec<String>,
}

/// One action of the action plan as sent.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanActionIn {
    /// What is to be done (required, at most 500 characters).
    #[serde(default)]
    #[schema(value_type = String)]
    pub action: Option<String>,
    /// Who is responsible: a username.
    #[serde(default)]
    pub owner: Option<String>,
    /// By when (`YYYY-MM-DD`).
    #[serde(default)]
    #[schema(value_type = String, format = Date)]
    pub due: Option<String>,
}

/// The plan's body as the KA director drafts it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SalesPlanIn {
    /// Regions with targets (each region at most once).
    #[serde(default)]
    pub targets: Vec<RegionTargetsIn>,
    /// The resource plan: budget, people, organisation, systems (each at most 4000 characters).
    #[serde(default)]
    pub budget: Option<String>,
    #[serde(default)]
    pub people: Option<String>,
    #[serde(default)]
    pub organisation: Option<String>,
    #[serde(default)]
    pub systems: Option<String>,
    #[serde(default)]
    pub actions: Vec<PlanActionIn>,
    /// The version shown (required to change an existing plan; a stale one is 409).
    #[serde(default)]
    pub version: Option<i64>,
}

/// The plan's body as stored (fen, ids).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Body {
    pub targets: Vec<StoredTargets>,
    pub budget: Option<String>,
    pub people: Option<String>,
    pub organisation: Option<String>,
    pub systems: Option<String>,
    pub actions: Vec<StoredAction>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StoredTargets {
    pub region_id: i64,
    pub revenue: Vec<i64>,
    pub profit: Vec<i64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StoredAction {
    pub action: String,
    pub owner_id: Option<i64>,
    pub due: String,
}

/// One region's targets.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanRegionTargets {
    pub region: String,
    pub region_name: String,
    /// January to December, decimal yuan.
    pub revenue: Vec<String>,
    pub profit: Vec<String>,
    pub revenue_total: String,
    pub profit_total: String,
}

/// One month over all regions.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanMonthTotal {
    pub month: String,
    pub revenue: String,
    pub profit: String,
}

/// One action of the action plan.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanActionView {
    pub action: String,
    pub owner: Option<String>,
    pub owner_name: Option<String>,
    #[schema(format = Date)]
    pub due: String,
}

/// A reviewer's decision and opinion, of any round.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanOpinion {
    pub approval_id: i64,
    /// The plan's version the round reviewed.
    pub revision: Option<i64>,
    #[schema(value_type = crate::domain::role::Role)]
    pub role: String,
    /// The step's state: `open`, `approved`, `returned`, `rejected`, …
    pub state: String,
    pub decided_by_name: Option<String>,
    #[schema(format = DateTime)]
    pub decided_at: Option<String>,
    pub comment: Option<String>,
}

/// A submitted version of the plan.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlanVersionItem {
    pub revision: i64,
    pub submitted_by_name: Option<String>,
    #[schema(format = DateTime)]
    pub submitted_at: String,
    pub approval_id: Option<i64>,
    /// The review's state: `pending`, `approved`, `returned`, `rejected`, `cancelled`.
    pub outcome: Option<String>,
}

/// The plan of a year, whole.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SalesPlanView {
    pub year: i32,
    /// `draft`, `in_review`, `returned`, `approved`.
    pub state: String,
    /// The plan's version number (a returned plan revised is the next one).
    pub revision: i64,
    pub targets: Vec<PlanRegionTargets>,
    pub months: Vec<PlanMonthTotal>,
    pub revenue_total: String,
    pub profit_total: String,
    pub budget: Option<String>,
    pub people: Option<String>,
    pub organisation: Option<String>,
    pub systems: Option<String>,
    pub actions: Vec<PlanActionView>,
    pub approval_id: Option<i64>,
    #[schema(format = DateTime)]
    pub submitted_at: Option<String>,
    #[schema(format = DateTime)]
    pub approved_at: Option<String>,
    /// The reviewers' opinions, every round, oldest first.
    pub opinions: Vec<PlanOpinion>,
    pub versions: Vec<PlanVersionItem>,
    /// The approved plan has been decomposed into quotas.
    pub decomposed: bool,
    #[schema(format = DateTime)]
    pub decomposed_at: Option<String>,
    /// Optimistic lock of the row.
    pub version: i64,
    /// What the caller may do now.
    pub may_edit: bool,
    pub may_submit: bool,
    /// The caller may decide the open review step (the sales department manager).
    pub may_review: bool,
    pub may_decompose: bool,
    pub updated_by: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// A year in the list of plans.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SalesPlanItem {
    pub year: i32,
    pub state: String,
    pub revision: i64,
    pub revenue_total: String,
    pub profit_total: String,
    pub decomposed: bool,
}

/// The regions of the org tree: (id, code, name), by code.
pub async fn regions(conn: &mut sqlx::AnyConnection) -> Result<Vec<(i64, String, String)>> {
    let rows = sqlx::query("SELECT id, code, name FROM org_units WHERE kind = 'region' ORDER BY code")
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(|r| Ok((r.try_get("id")?, r.try_get("code")?, r.try_get("name")?))).collect()
}

pub(crate) struct Row_ {
    pub id: i64,
    pub year: i32,
    pub state: String,
    pub revision: i64,
    pub body: Body,
    pub approval_id: Option<i64>,
    pub submitted_at: Option<String>,
    pub approved_at: Option<String>,
    pub split: Option<String>,
    pub split_at: Option<String>,
    pub appraisal: Option<String>,
    pub version: i64,
    pub updated_by: String,
    pub updated_at: String,
}

pub(crate) async fn row_in(conn: &mut sqlx::AnyConnection, year: i32) -> Result<Option<Row_>> {
    let r = sqlx::query(
        "SELECT id, year, state, revision, body, approval_id, submitted_at, approved_at, split, split_at, appraisal, \
         version, updated_by, updated_at FROM sales_plans WHERE year = $1",
    )
    .bind(i64::from(year))
    .fetch_optional(&mut *conn)
    .await?;
    let Some(r) = r else { return Ok(None) };
    let body: String = r.try_get("body")?;
    Ok(Some(Row_ {
        id: r.try_get("id")?,
        year: r.try_get::<i64, _>("year")? as i32,
        state: r.try_get("state")?,
        revision: r.try_get("revision")?,
        body: serde_json::from_str(&body).map_err(|e| anyhow::anyhow!("sales plan body: {e}"))?,
        approval_id: r.try_get("approval_id")?,
        submitted_at: r.try_get("submitted_at")?,
        approved_at: r.try_get("approved_at")?,
        split: r.try_get("split")?,
        split_at: r.try_get("split_at")?,
        appraisal: r.try_get("appraisal")?,
        version: r.try_get("version")?,
        updated_by: r.try_get("updated_by")?,
        updated_at: r.try_get("updated_at")?,
    }))
}

/// Whether `year` has an approved plan (its quotas then change only through the plan).
pub async fn approved_in(conn: &mut sqlx::AnyConnection, year: i32) -> Result<bool> {
    Ok(sqlx::query("SELECT 1 AS one FROM sales_plans WHERE year = $1 AND state = 'approved'")
        .bind(i64::from(year))
        .fetch_optional(&mut *conn)
        .await?
        .is_some())
}

fn sum(v: &[i64]) -> i64 {
    v.iter().sum()
}

async fn view_in(conn: &mut sqlx::AnyConnection, caller: &Caller, r: Row_) -> Result<SalesPlanView> {
    let regs = regions(conn).await?;
    let ms = months(r.year);
    let mut targets = vec![];
    let mut mrev = vec![0i64; 12];
    let mut mpro = vec![0i64; 12];
    for t in &r.body.targets {
        let (code, name) = regs
            .iter()
            .find(|x| x.0 == t.region_id)
            .map(|x| (x.1.clone(), x.2.clone()))
            .unwrap_or_else(|| (t.region_id.to_string(), t.region_id.to_string()));
        for i in 0..12 {
            mrev[i] += t.revenue.get(i).copied().unwrap_or(0);
            mpro[i] += t.profit.get(i).copied().unwrap_or(0);
        }
        targets.push(PlanRegionTargets {
            region: code,
            region_name: name,
            revenue: t.revenue.iter().copied().map(format_fen).collect(),
            profit: t.profit.iter().copied().map(format_fen).collect(),
            revenue_total: format_fen(sum(&t.revenue)),
            profit_total: format_fen(sum(&t.profit)),
        });
    }
    let mut actions = vec![];
    for a in &r.body.actions {
        let (owner, owner_name) = match a.owner_id {
            Some(id) => {
                let u = sqlx::query("SELECT username, display_name FROM users WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await?;
                match u {
                    Some(u) => (Some(u.try_get("username")?), Some(u.try_get("display_name")?)),
                    None => (None, None),
                }
            }
            None => (None, None),
        };
        actions.push(PlanActionView { action: a.action.clone(), owner, owner_name, due: a.due.clone() });
    }
    let steps = sqlx::query(
        "SELECT a.id AS approval_id, st.role, st.state, st.decided_at, st.comment, u.display_name AS decided_by_name, \
         v.revision FROM approvals a JOIN approval_steps st ON st.approval_id = a.id \
         LEFT JOIN users u ON u.id = st.decided_by LEFT JOIN sales_plan_versions v ON v.approval_id = a.id \
         WHERE a.subject_type = $1 AND a.subject_id = $2 AND st.state <> 'skipped' ORDER BY a.id, st.position",
    )
    .bind(KIND)
    .bind(i64::from(r.year))
    .fetch_all(&mut *conn)
    .await?;
    let mut opinions = vec![];
    let mut may_review = false;
    for s in &steps {
        let role: String = s.try_get("role")?;
        let state: String = s.try_get("state")?;
        if state == "open" && role == caller.role.code() {
            may_review = true;
        }
        if state == "waiting" {
            continue;
        }
        opinions.push(PlanOpinion {
            approval_id: s.try_get("approval_id")?,
            revision: s.try_get("revision")?,
            role,
            state,
            decided_by_name: s.try_get("decided_by_name")?,
            decided_at: s.try_get("decided_at")?,
            comment: s.try_get("comment")?,
        });
    }
    let vs = sqlx::query(
        "SELECT v.revision, v.submitted_at, v.approval_id, a.state AS outcome, u.display_name \
         FROM sales_plan_versions v LEFT JOIN approvals a ON a.id = v.approval_id \
         LEFT JOIN users u ON u.username = v.submitted_by WHERE v.plan_id = $1 ORDER BY v.revision",
    )
    .bind(r.id)
    .fetch_all(&mut *conn)
    .await?;
    let mut versions = vec![];
    for v in &vs {
        versions.push(PlanVersionItem {
            revision: v.try_get("revision")?,
            submitted_by_name: v.try_get("display_name")?,
            submitted_at: v.try_get("submitted_at")?,
            approval_id: v.try_get("approval_id")?,
            outcome: v.try_get("outcome")?,
        });
    }
    let draft = may_draft(caller);
    let open = matches!(r.state.as_str(), "draft" | "returned");
    Ok(SalesPlanView {
        year: r.year,
        revision: r.revision,
        months: ms
            .iter()
            .enumerate()
            .map(|(i, m)| PlanMonthTotal {
                month: m.clone(),
                revenue: format_fen(mrev[i]),
                profit: format_fen(mpro[i]),
            })
            .collect(),
        revenue_total: format_fen(sum(&mrev)),
        profit_total: format_fen(sum(&mpro)),
        targets,
        budget: r.body.budget,
        people: r.body.people,
        organisation: r.body.organisation,
        systems: r.body.systems,
        actions,
        approval_id: r.approval_id,
        submitted_at: r.submitted_at,
        approved_at: r.approved_at,
        opinions,
        versions,
        decomposed: r.split.is_some(),
        decomposed_at: r.split_at,
        version: r.version,
        may_edit: draft && open,
        may_submit: draft && open,
        may_review: may_review && r.state == "in_review",
        may_decompose: draft && r.state == "approved",
        state: r.state,
        updated_by: r.updated_by,
        updated_at: r.updated_at,
    })
}

/// Checks the caller may read plans and that `year` is a plausible one.
pub fn check_read(caller: &Caller, year: i32) -> Result<()> {
    if !(2000..=2100).contains(&year) {
        return Err(Error::NotFound);
    }
    if !may_read(caller) {
        return Err(Error::Forbidden);
    }
    Ok(())
}

pub(crate) async fn load_in(conn: &mut sqlx::AnyConnection, caller: &Caller, year: i32) -> Result<SalesPlanView> {
    check_read(caller, year)?;
    let r = row_in(conn, year).await?.ok_or(Error::NotFound)?;
    view_in(conn, caller, r).await
}

/// The plan of `year`.
pub async fn get(db: &Db, caller: &Caller, year: i32) -> Result<SalesPlanView> {
    let mut conn = db.pool.acquire().await?;
    load_in(&mut conn, caller, year).await
}

/// Every year's plan, latest first.
pub async fn list(db: &Db, caller: &Caller) -> Result<Vec<SalesPlanItem>> {
    if !may_read(caller) {
        return Err(Error::Forbidden);
    }
    let mut conn = db.pool.acquire().await?;
    let rows = sqlx::query("SELECT year, state, revision, body, split FROM sales_plans ORDER BY year DESC")
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| {
            let body: Body = serde_json::from_str(&r.try_get::<String, _>("body")?).unwrap_or_default();
            let rev: i64 = body.targets.iter().map(|t| sum(&t.revenue)).sum();
            let pro: i64 = body.targets.iter().map(|t| sum(&t.profit)).sum();
            Ok(SalesPlanItem {
                year: r.try_get::<i64, _>("year")? as i32,
                state: r.try_get("state")?,
                revision: r.try_get("revision")?,
                revenue_total: format_fen(rev),
                profit_total: format_fen(pro),
                decomposed: r.try_get::<Option<String>, _>("split")?.is_some(),
            })
        })
        .collect()
}

/// The body as sent, checked: each region known and given once, twelve monthly amounts each
/// for revenue and profit (field `targets.<region>.months.<YYYY-MM>.<revenue|profit>`), the
/// texts within bounds, each action with its text, a known owner and a date.
async fn parse(conn: &mut sqlx::AnyConnection, year: i32, inp: &SalesPlanIn) -> Result<Body> {
    let mut e = Errors::default();
    let regs = regions(conn).await?;
    let ms = months(year);
    let mut targets = vec![];
    for (i, t) in inp.targets.iter().enumerate() {
        let Some(reg) = regs.iter().find(|r| r.1 == t.region.trim()) else {
            e.add(&format!("targets[{i}].region"), "unknown_region");
            continue;
        };
        if inp.targets[..i].iter().any(|o| o.region.trim() == reg.1) {
            e.add(&format!("targets.{}.region", reg.1), "duplicate");
            continue;
        }
        let mut amounts = |kind: &str, v: &[String]| -> Vec<i64> {
            if v.len() != 12 {
                e.add(&format!("targets.{}.{kind}", reg.1), "twelve_months");
                return vec![0; 12];
            }
            v.iter()
                .zip(&ms)
                .map(|(a, m)| {
                    let f = format!("targets.{}.months.{m}.{kind}", reg.1);
                    match parse_fen(a.trim()) {
                        Ok(x) if x < 0 && kind == "revenue" => {
                            e.add(&f, "negative_amount");
                            0
                        }
                        Ok(x) => x,
                        Err(c) => {
                            e.add(&f, c);
                            0
                        }
                    }
                })
                .collect()
        };
        let revenue = amounts("revenue", &t.revenue);
        let profit = amounts("profit", &t.profit);
        targets.push(StoredTargets { region_id: reg.0, revenue, profit });
    }
    let budget = e.take("budget", text::optional(inp.budget.as_deref(), 4000)).flatten();
    let people = e.take("people", text::optional(inp.people.as_deref(), 4000)).flatten();
    let organisation = e.take("organisation", text::optional(inp.organisation.as_deref(), 4000)).flatten();
    let systems = e.take("systems", text::optional(inp.systems.as_deref(), 4000)).flatten();
    if inp.actions.len() > 100 {
        e.add("actions", "too_many");
    }
    let mut actions = vec![];
    for (i, a) in inp.actions.iter().enumerate() {
        let action = e.take(&format!("actions[{i}].action"), text::required(a.action.as_deref(), 500));
        let owner_id = match a.owner.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(u) => {
                let id = crate::app::customers::accounts::active_user_id(conn, u).await?;
                if id.is_none() {
                    e.add(&format!("actions[{i}].owner"), "unknown_user");
                }
                id
            }
        };
        let due = match a.due.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => {
                e.add(&format!("actions[{i}].due"), "required");
                None
            }
            Some(d) => match chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d") {
                Ok(d) => Some(d.to_string()),
                Err(_) => {
                    e.add(&format!("actions[{i}].due"), "date_format");
                    None
                }
            },
        };
        if let (Some(action), Some(due)) = (action, due) {
            actions.push(StoredAction { action, owner_id, due });
        }
    }
    e.finish()?;
    Ok(Body { targets, budget, people, organisation, systems, actions })
}

fn body_json(b: &Body) -> String {
    serde_json::to_string(b).unwrap_or_else(|_| "{}".into())
}

/// Drafts the plan of `year` (the KA director; one plan per year: a second is 409).
pub async fn create(db: &Db, ctx: &Ctx, year: i32, inp: &SalesPlanIn) -> Result<SalesPlanView> {
    let caller = &ctx.caller;
    if !(2000..=2100).contains(&year) {
        return Err(Error::invalid("year", "year_range"));
    }
    if !may_draft(caller) {
        return Err(Error::Forbidden);
    }
    let mut tx = db.begin().await?;
    if row_in(tx.conn(), year).await?.is_some() {
        return Err(Error::Conflict("sales_plan_exists"));
    }
    let body = parse(tx.conn(), year, inp).await?;
    let at = ts(crate::app::clock::now());
    sqlx::query(
        "INSERT INTO sales_plans (year, state, revision, body, version, created_by, created_at, updated_by, updated_at) \
         VALUES ($1, 'draft', 1, $2, 1, $3, $4, $3, $4)",
    )
    .bind(i64::from(year))
    .bind(body_json(&body))
    .bind(caller.username.as_str())
    .bind(at)
    .execute(tx.conn())
    .await?;
    audit::record(
        &mut tx,
        ctx,
        KIND,
        &year.to_string(),
        "create",
        None,
        Some(&json!({"year": year, "revision": 1, "body": body})),
    )
    .await?;
    let v = load_in(tx.conn(), caller, year).await?;
    tx.commit().await?;
    Ok(v)
}

/// Locks the plan row and checks the version shown.
pub(crate) async fn lock_in(tx: &mut WriteTx, caller: &Caller, year: i32, version: Option<i64>) -> Result<Row_> {
    check_read(caller, year)?;
    let lock = tx.lock_clause(RowLock::Update);
    sqlx::query(&format!("SELECT id FROM sales_plans WHERE year = $1{lock}"))
        .bind(i64::from(year))
        .fetch_optional(tx.conn())
        .await?;
    let r = row_in(tx.conn(), year).await?.ok_or(Error::NotFound)?;
    if let Some(v) = version {
        if v != r.version {
            return Err(Error::StaleVersion { current: r.version });
        }
    }
    Ok(r)
}

/// Revises the draft (or the returned plan: its next version).
pub async fn update(db: &Db, ctx: &Ctx, year: i32, inp: &SalesPlanIn) -> Result<SalesPlanView> {
    let caller = &ctx.caller;
    let mut tx = db.begin().await?;
    let Some(version) = inp.version else {
        return Err(Error::invalid("version", "required"));
    };
    let r = lock_in(&mut tx, caller, year, Some(version)).await?;
    if !may_draft(caller) {
        return Err(Error::Forbidden);
    }
    if !matches!(r.state.as_str(), "draft" | "returned") {
        return Err(Error::Conflict("sales_plan_not_open"));
    }
    let body = parse(tx.conn(), year, inp).await?;
    let revision = if r.state == "returned" { r.revision + 1 } else { r.revision };
    sqlx::query(
        "UPDATE sales_plans SET body = $1, state = 'draft', revision = $2, version = version + 1, updated_by = $3, \
         updated_at = $4 WHERE id = $5",
    )
    .bind(body_json(&body))
    .bind(revision)
    .bind(caller.username.as_str())
    .bind(ts(crate::app::clock::now()))
    .bind(r.id)
    .execute(tx.conn())
    .await?;
    audit::record(
        &mut tx,
        ctx,
        KIND,
        &year.to_string(),
        "update",
        Some(&json!({"state": r.state, "revision": r.revision, "body": r.body})),
        Some(&json!({"state": "draft", "revision": revision, "body": body})),
    )
    .await?;
    let v = load_in(tx.conn(), caller, year).await?;
    tx.commit().await?;
    Ok(v)
}

/// The version shown (a change meanwhile is 409).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanVersionIn {
    pub version: i64,
}

/// Submits the plan for review: the `annual_plan` flow starts, the submitted version is kept.
/// A plan without targets is 422 `targets` required. A returned plan submitted again without
/// changes is its next version all the same.
pub async fn submit(db: &Db, ctx: &Ctx, year: i32, inp: &PlanVersionIn) -> Result<SalesPlanView> {
    let caller = &ctx.caller;
    let now = crate::app::clock::now();
    let mut tx = db.begin().await?;
    let r = lock_in(&mut tx, caller, year, Some(inp.version)).await?;
    if !may_draft(caller) {
        return Err(Error::Forbidden);
    }
    if !matches!(r.state.as_str(), "draft" | "returned") {
        return Err(Error::Conflict("sales_plan_not_open"));
    }
    if r.body.targets.is_empty() {
        return Err(Error::invalid("targets", "required"));
    }
    let revision = if r.state == "returned" { r.revision + 1 } else { r.revision };
    let subject = approvals::Subject {
        kind: KIND,
        id: i64::from(year),
        label: format!("{year} · v{revision}"),
        region_id: None,
        branch_id: None,
        owner_id: Some(caller.user_id),
        figure: None,
        class: None,
    };
    let payload = json!({"year": year, "revision": revision});
    let aid = approvals::start(&mut tx, ctx, Flow::AnnualPlan, &subject, &json!({}), &payload, now).await?;
    sqlx::query(
        "INSERT INTO sales_plan_versions (plan_id, revision, body, approval_id, submitted_by, submitted_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(r.id)
    .bind(revision)
    .bind(body_json(&r.body))
    .bind(aid)
    .bind(caller.username.as_str())
    .bind(ts(now))
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "UPDATE sales_plans SET state = 'in_review', revision = $1, approval_id = $2, submitted_at = $3, \
         version = version + 1, updated_by = $4, updated_at = $3 WHERE id = $5",
    )
    .bind(revision)
    .bind(aid)
    .bind(ts(now))
    .bind(caller.username.as_str())
    .bind(r.id)
    .execute(tx.conn())
    .await?;
    audit::record(
        &mut tx,
        ctx,
        KIND,
        &year.to_string(),
        "submit",
        Some(&json!({"state": r.state, "revision": r.revision})),
        Some(&json!({"state": "in_review", "revision": revision, "approval_id": aid})),
    )
    .await?;
    let v = load_in(tx.conn(), caller, year).await?;
    tx.commit().await?;
    Ok(v)
}

/// The reviewer's decision from the plan's page.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanReviewIn {
    /// `approve` or `return` (with a comment).
    pub decision: String,
    /// The opinion (required to return; at most 2000 characters).
    #[serde(default)]
    pub comment: Option<String>,
}

/// Decides the plan's open review step (the engine checks the caller holds it: the drafter,
/// the KA director, never does — 403).
pub async fn review(db: &Db, ctx: &Ctx, year: i32, inp: &PlanReviewIn) -> Result<SalesPlanView> {
    let caller = &ctx.caller;
    let now = crate::app::clock::now();
    let mut tx = db.begin().await?;
    let r = lock_in(&mut tx, caller, year, None).await?;
    let Some(aid) = r.approval_id.filter(|_| r.state == "in_review") else {
        return Err(Error::Conflict("sales_plan_not_in_review"));
    };
    approvals::decide_step_in(&mut tx, ctx, aid, None, &inp.decision, inp.comment.as_deref(), now).await?;
    let v = load_in(tx.conn(), caller, year).await?;
    tx.commit().await?;
    Ok(v)
}

/// The plan a request of the `annual_plan` flow is about.
pub async fn for_approval(db: &Db, caller: &Caller, approval_id: i64) -> Result<SalesPlanView> {
    let mut conn = db.pool.acquire().await?;
    let year = crate::app::approvals::subject_of(&mut conn, approval_id, KIND).await?;
    load_in(&mut conn, caller, year as i32).await
}

/// The request closed: approved → approved; returned or rejected → returned (the director
/// revises it); withdrawn or cancelled → draft.
fn on_closed<'a>(tx: &'a mut WriteTx, ctx: &'a Ctx, c: Closed<'a>) -> HookFuture<'a> {
    Box::pin(async move {
        let state = match c.state {
            ApprovalState::Approved => "approved",
            ApprovalState::Rejected | ApprovalState::Returned => "returned",
            _ => "draft",
        };
        let at = ts(crate::app::clock::now());
        let n = sqlx::query(
            "UPDATE sales_plans SET state = $1, approved_at = COALESCE($2, approved_at), version = version + 1, \
             updated_at = $3 WHERE year = $4 AND approval_id = $5 AND state = 'in_review'",
        )
        .bind(state)
        .bind((state == "approved").then(|| at.clone()))
        .bind(at.clone())
        .bind(c.subject_id)
        .bind(c.approval_id)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if n == 1 {
            crate::app::approvals::audit_closed(tx, ctx, KIND, &c, "in_review", state).await?;
        }
        Ok(())
    })
}

inventory::submit! { OutcomeHook { flow: Flow::AnnualPlan, run: on_closed } }

fn sees_plan<'a>(_conn: &'a mut sqlx::AnyConnection, caller: &'a Caller, _id: i64) -> ScopeFuture<'a> {
    Box::pin(async move { Ok(may_read(caller)) })
}

inventory::submit! { SubjectScope { kind: KIND, sees: sees_plan } }
