//! The approval engine (docs/DOMAIN.md#6-approvals): one engine for every flow. A request follows the flow
//! definition's version it started with; each step is decided by a holder of the step's role
//! resolved against the subject (anyone with the role, its holders in the subject's region, or
//! the owner's manager), by their delegate while they are away, or — once the step is past its
//! deadline and escalated — by the manager it was escalated to.
//!
//! Rules: nobody decides their own request; a decision by someone without the step's authority
//! is refused; two decisions on one step give one outcome (the step is closed by a conditional
//! update under the request's row lock); a closed request takes no decision; changing the
//! subject's decisive fields cancels the request and asks again. Every change writes an audit
//! row and notifications in its transaction. The scheduler (`tick`) flags and escalates
//! overdue steps and sends reminders, each exactly once however many servers run it.
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::{json, Value};
use sqlx::any::AnyRow;
use sqlx::{FromRow, Row};

use crate::app::{records::audit, records::notify, Caller, Ctx, Error, Result};
use crate::db::sql::Sql;
use crate::db::{parse_ts, ts, Db, RowLock, WriteTx};
use crate::domain::approval::{self as ap, Decision, Definition, Figure, Flow, Scope, State};
use crate::domain::role::Reach;

/// What an approval is about.
#[derive(Debug, Clone)]
pub struct Subject {
    pub kind: &'static str,
    pub id: i64,
    pub label: String,
    pub region_id: Option<i64>,
    /// The subject's branch (steps of scope `branch`).
    pub branch_id: Option<i64>,
    pub owner_id: Option<i64>,
    /// The figure a conditional flow turns on (a quote's discount and its author's authority).
    pub figure: Option<Figure>,
    /// The subject's class for steps kept to some classes (an account plan's tier).
    pub class: Option<String>,
}

impl Subject {
    /// The subject of a versioned document of an account (a quote, an order): labelled by its
    /// number, its latest version and its account, in the account's region and branch, owned by
    /// its owner. `table` is the calling module's fixed text (with columns `number`,
    /// `current_version`, `owner_id`, `account_id`), never input.
    pub async fn of_versioned(
        tx: &mut WriteTx,
        kind: &'static str,
        table: &'static str,
        id: i64,
        figure: Option<Figure>,
    ) -> Result<Subject> {
        let r = sqlx::query(&format!(
            "SELECT d.number, d.current_version, d.owner_id, a.name AS account_name, a.region_id, a.branch_id \
             FROM {table} d JOIN accounts a ON a.id = d.account_id WHERE d.id = $1"
        ))
        .bind(id)
        .fetch_one(tx.conn())
        .await?;
        Ok(Subject {
            kind,
            id,
            label: format!(
                "{} v{} · {}",
                r.try_get::<String, _>("number")?,
                r.try_get::<i64, _>("current_version")?,
                r.try_get::<String, _>("account_name")?
            ),
            region_id: r.try_get("region_id")?,
            branch_id: r.try_get("branch_id")?,
            owner_id: r.try_get("owner_id")?,
            figure,
            class: None,
        })
    }
}

/// Who may see a request about a kind of subject beside those involved in it: each kind of
/// subject registers its own (`inventory::submit!`), answering whether the caller sees the
/// subject; the engine knows none of them. Accounts are the engine's own.
pub struct SubjectScope {
    pub kind: &'static str,
    pub sees: for<'a> fn(&'a mut sqlx::AnyConnection, &'a Caller, i64) -> ScopeFuture<'a>,
}

/// A subject's scoped read as a [`SubjectScope`] answers it: found is seen, not found is not
/// (any other error stays one).
pub fn seen<T>(read: Result<T>) -> Result<bool> {
    match read {
        Ok(_) => Ok(true),
        Err(Error::NotFound) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The subject of a request of `kind` (`subject_type`): its id, 404 when the request is of
/// another kind or gone. The subjects' `for_approval` read it before loading the subject as
/// the caller sees it.
pub async fn subject_of(conn: &mut sqlx::AnyConnection, approval_id: i64, kind: &str) -> Result<i64> {
    use sqlx::Row;
    Ok(sqlx::query("SELECT subject_id FROM approvals WHERE id = $1 AND subject_type = $2")
        .bind(approval_id)
        .bind(kind)
        .fetch_optional(conn)
        .await?
        .ok_or(Error::NotFound)?
        .try_get("subject_id")?)
}

/// The audit row of a subject whose request closed: from the state it waited in to the state
/// the outcome gave it, with the request and its reason.
pub async fn audit_closed(
    tx: &mut WriteTx,
    ctx: &Ctx,
    kind: &str,
    c: &Closed<'_>,
    waited_in: &str,
    state: &str,
) -> Result<()> {
    crate::app::records::audit::record(
        tx,
        ctx,
        kind,
        &c.subject_id.to_string(),
        "review_closed",
        Some(&serde_json::json!({"state": waited_in})),
        Some(&serde_json::json!({"state": state, "approval_id": c.approval_id, "reason": c.reason})),
    )
    .await
}

/// Whether the caller sees the account a subject belongs to: `account_sql` is the calling
/// module's fixed statement giving the subject's `account_id` from its id (`$1`), never input.
/// A subject that is gone is not seen.
pub async fn sees_account_of(
    conn: &mut sqlx::AnyConnection,
    caller: &Caller,
    account_sql: &'static str,
    id: i64,
) -> Result<bool> {
    let account: Option<i64> = sqlx::query(account_sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| r.try_get("account_id"))
        .transpose()?;
    let Some(account) = account else { return Ok(false) };
    seen(crate::app::customers::accounts::ensure_visible_in(conn, caller, account).await)
}

/// What a [`SubjectScope`] returns.
pub type ScopeFuture<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<bool>> + Send + 'a>>;

inventory::collect!(SubjectScope);

/// The current definition of a flow and its version (the built-in one is version 1 until the
/// administrator saves another).
pub async fn definition(conn: &mut sqlx::AnyConnection, flow: Flow) -> Result<(i64, Definition)> {
    let r =
        sqlx::query("SELECT version, definition FROM flow_definitions WHERE flow = $1 ORDER BY version DESC LIMIT 1")
            .bind(flow.code())
            .fetch_optional(conn)
            .await?;
    match r {
        None => Ok((1, ap::builtin(flow))),
        Some(r) => {
            let d: String = r.try_get("definition")?;
            Ok((
                r.try_get("version")?,
                serde_json::from_str(&d).map_err(|e| anyhow::anyhow!("stored flow {flow}: {e}"))?,
            ))
        }
    }
}

async fn definition_at(conn: &mut sqlx::AnyConnection, flow: Flow, version: i64) -> Result<Definition> {
    let r = sqlx::query("SELECT definition FROM flow_definitions WHERE flow = $1 AND version = $2")
        .bind(flow.code())
        .bind(version)
        .fetch_optional(conn)
        .await?;
    match r {
        None => Ok(ap::builtin(flow)),
        Some(r) => Ok(serde_json::from_str(&r.try_get::<String, _>("definition")?)
            .map_err(|e| anyhow::anyhow!("stored flow {flow}: {e}"))?),
    }
}

/// A flow's current definition.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FlowView {
    #[schema(value_type = Flow)]
    pub flow: &'static str,
    /// 1 for the built-in definition; each saved change adds one.
    pub version: i64,
    pub definition: Definition,
}

/// The subject of a request: `{"type": "account", "id": 12, "label": "…"}` (schema only; the
/// views carry it as JSON).
#[derive(Serialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ApprovalSubject {
    /// What kind of record: `account`, `opportunity`, `plan`, …
    #[serde(rename = "type")]
    kind: String,
    id: i64,
    /// The record's name when the request was made.
    label: String,
}

pub async fn flows(db: &Db) -> Result<Vec<FlowView>> {
    let mut conn = db.pool.acquire().await?;
    let mut out = vec![];
    for f in Flow::ALL {
        let (version, definition) = definition(&mut conn, *f).await?;
        out.push(FlowView { flow: f.code(), version, definition });
    }
    Ok(out)
}

/// Saves a new version of a flow (the administrator). Running requests keep theirs.
pub async fn set_definition(db: &Db, ctx: &Ctx, flow: &str, body: &Value) -> Result<FlowView> {
    set_definition_over(db, ctx, flow, body, None).await
}

/// [`set_definition`] over the version the editor started from (`expected`): another save in
/// between is a stale version, not silently overwritten.
pub async fn set_definition_over(
    db: &Db,
    ctx: &Ctx,
    flow: &str,
    body: &Value,
    expected: Option<i64>,
) -> Result<FlowView> {
    ctx.require_admin()?;
    let flow = Flow::parse(flow).map_err(|c| Error::invalid("flow", c))?;
    let d: Definition =
        serde_json::from_value(body.clone()).map_err(|_| Error::invalid("definition", "flow_malformed"))?;
    let why = ap::validate(flow, &d);
    if !why.is_empty() {
        let mut e = crate::domain::error::Errors::default();
        for (f, c) in why {
            e.add(&f, c);
        }
        e.finish()?;
    }
    let mut tx = db.begin().await?;
    let (current, before) = definition(tx.conn(), flow).await?;
    if expected.is_some_and(|v| v != current) {
        return Err(Error::StaleVersion { current });
    }
    let version = current + 1;
    sqlx::query(
        "INSERT INTO flow_definitions (flow, version, definition, created_by, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(flow.code())
    .bind(version)
    .bind(serde_json::to_string(&d).map_err(anyhow::Error::from)?)
    .bind(ctx.caller.username.as_str())
    .bind(ts(Utc::now()))
    .execute(tx.conn())
    .await?;
    audit::record(
        &mut tx,
        ctx,
        "flow",
        flow.code(),
        "update",
        Some(&json!({"version": current, "definition": before})),
        Some(&json!({"version": version, "definition": d})),
    )
    .await?;
    tx.commit().await?;
    Ok(FlowView { flow: flow.code(), version, definition: d })
}

/// One step of a request.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, FromRow)]
pub struct StepView {
    /// 0 for the first step.
    pub position: i64,
    /// The deciding role.
    pub role: crate::domain::role::Role,
    #[schema(value_type = crate::domain::approval::Scope)]
    pub scope: String,
    /// The step's deadline in days (before any extension).
    pub days: i64,
    /// `waiting`, `open`, `approved`, `rejected`, `returned`, `cancelled`.
    pub state: String,
    #[schema(format = DateTime)]
    pub opened_at: Option<String>,
    #[schema(format = DateTime)]
    pub due_at: Option<String>,
    /// The open step is past its deadline.
    #[sqlx(skip)]
    pub overdue: bool,
    /// Username of who decided.
    pub decided_by: Option<String>,
    /// Who decided, by name.
    pub decided_by_name: Option<String>,
    /// `self`, `delegate of <username>`, or `escalation`.
    pub decided_as: Option<String>,
    #[schema(format = DateTime)]
    pub decided_at: Option<String>,
    #[schema(value_type = Option<Decision>)]
    pub decision: Option<String>,
    pub comment: Option<String>,
    /// When the step passed its deadline and went to the deciders' manager.
    #[schema(format = DateTime)]
    pub escalated_at: Option<String>,
    /// Username of the manager the step was escalated to.
    pub escalated_to: Option<String>,
    /// The manager the step was escalated to, by name.
    pub escalated_to_name: Option<String>,
    /// The deadline in days after its one extension.
    pub extended_days: Option<i64>,
    /// The first position of the step's run of parallel steps (its own position when alone).
    pub run: i64,
    /// Decided alongside other steps of its run (each with its own deadline).
    #[sqlx(skip)]
    pub parallel: bool,
}

/// An approval request with every step.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApprovalView {
    pub id: i64,
    pub flow: Flow,
    /// The version of the flow's definition the request runs under.
    pub flow_version: i64,
    #[schema(value_type = ApprovalSubject)]
    pub subject: Value,
    /// Username of the requester.
    pub requested_by: String,
    /// The requester, by name.
    pub requested_by_name: String,
    pub state: State,
    /// The open step's position; null once closed.
    pub current_step: Option<i64>,
    pub steps: Vec<StepView>,
    /// The values the request was asked with; a change to them asks again.
    #[schema(value_type = Option<Object>)]
    pub decisive: Value,
    /// What the request is about (e.g. `screening_version`, `risk_score`); null when none.
    #[schema(value_type = Option<Object>)]
    pub payload: Value,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub closed_at: Option<String>,
    /// Whether the caller may decide the open step now, and as whom (`self`,
    /// `delegate of <username>`, `escalation`); null when they may not.
    pub can_decide: Option<String>,
    /// The position of the open step the caller may decide (of a run of parallel steps, the
    /// first that is theirs); send it back as the decision's `step`.
    pub decide_step: Option<i64>,
    /// The caller may extend the open step's deadline.
    pub can_extend: bool,
}

#[derive(FromRow)]
struct Row0 {
    id: i64,
    flow: Flow,
    flow_version: i64,
    subject_type: String,
    subject_id: i64,
    subject_label: String,
    region_id: Option<i64>,
    branch_id: Option<i64>,
    #[sqlx(rename = "subject_owner_id")]
    owner_id: Option<i64>,
    requested_by: i64,
    state: State,
    current_step: Option<i64>,
    decisive: String,
    payload: Option<String>,
    created_at: String,
    closed_at: Option<String>,
    /// No step's deadline passes this (credit changes: the trigger + 10 days).
    deadline_cap: Option<String>,
}

struct Step0 {
    id: i64,
    position: i64,
    role: String,
    scope: Scope,
    days: i64,
    state: String,
    due_at: Option<String>,
    escalated_to: Option<i64>,
    extended_days: Option<i64>,
    opened_at: Option<String>,
    /// The first position of the step's run of parallel steps (its own when alone).
    grp: i64,
}

impl Step0 {
    fn open(&self) -> bool {
        self.state == "open"
    }
}

async fn steps0(conn: &mut sqlx::AnyConnection, approval_id: i64) -> Result<Vec<Step0>> {
    sqlx::query("SELECT * FROM approval_steps WHERE approval_id = $1 ORDER BY position")
        .bind(approval_id)
        .fetch_all(conn)
        .await?
        .iter()
        .map(|r| {
            let position: i64 = r.try_get("position")?;
            Ok(Step0 {
                id: r.try_get("id")?,
                position,
                role: r.try_get("role")?,
                scope: Scope::parse(&r.try_get::<String, _>("scope")?).unwrap_or(Scope::Hq),
                days: r.try_get("days")?,
                state: r.try_get("state")?,
                due_at: r.try_get("due_at")?,
                escalated_to: r.try_get("escalated_to")?,
                extended_days: r.try_get("extended_days")?,
                opened_at: r.try_get("opened_at")?,
                grp: r.try_get::<Option<i64>, _>("grp")?.unwrap_or(position),
            })
        })
        .collect()
}

/// The users holding a step's authority in their own right.
async fn candidates(conn: &mut sqlx::AnyConnection, a: &Row0, step: &Step0) -> Result<Vec<i64>> {
    let rows = match step.scope {
        Scope::Hq => {
            sqlx::query("SELECT id FROM users WHERE role = $1 AND active = 1 ORDER BY id")
                .bind(step.role.as_str())
                .fetch_all(&mut *conn)
                .await?
        }
        Scope::Region => match a.region_id {
            None => {
                sqlx::query("SELECT id FROM users WHERE role = $1 AND active = 1 ORDER BY id")
                    .bind(step.role.as_str())
                    .fetch_all(&mut *conn)
                    .await?
            }
            Some(region) => {
                sqlx::query(
                    "SELECT u.id FROM users u JOIN org_units o ON o.id = u.org_unit_id \
                     WHERE u.role = $1 AND u.active = 1 \
                     AND (SELECT r.path FROM org_units r WHERE r.id = $2) LIKE o.path || '%' ORDER BY u.id",
                )
                .bind(step.role.as_str())
                .bind(region)
                .fetch_all(&mut *conn)
                .await?
            }
        },
        Scope::OwnerManager => {
            sqlx::query("SELECT m.id FROM users o JOIN users m ON m.id = o.manager_id WHERE o.id = $1 AND m.active = 1")
                .bind(a.owner_id)
                .fetch_all(&mut *conn)
                .await?
        }
        // The region's own department: the holders placed on the subject's region unit other
        // than the requester; when there is none, the head of the region (its branch manager);
        // anyone holding the role when the subject has no region.
        Scope::RegionKa => match a.region_id {
            Some(unit) => {
                let own = sqlx::query(
                    "SELECT id FROM users WHERE role = $1 AND active = 1 AND org_unit_id = $2 AND id <> $3 ORDER BY id",
                )
                .bind(step.role.as_str())
                .bind(unit)
                .bind(a.requested_by)
                .fetch_all(&mut *conn)
                .await?;
                if own.is_empty() {
                    sqlx::query(
                        "SELECT id FROM users WHERE role = 'branch_manager' AND active = 1 AND org_unit_id = $1 ORDER BY id",
                    )
                    .bind(unit)
                    .fetch_all(&mut *conn)
                    .await?
                } else {
                    own
                }
            }
            None => {
                sqlx::query("SELECT id FROM users WHERE role = $1 AND active = 1 ORDER BY id")
                    .bind(step.role.as_str())
                    .fetch_all(&mut *conn)
                    .await?
            }
        },
        // The holders placed on the subject's branch; on its region when it has none; anyone
        // holding the role when it has neither.
        Scope::Branch => match a.branch_id.or(a.region_id) {
            Some(unit) => {
                sqlx::query("SELECT id FROM users WHERE role = $1 AND active = 1 AND org_unit_id = $2 ORDER BY id")
                    .bind(step.role.as_str())
                    .bind(unit)
                    .fetch_all(&mut *conn)
                    .await?
            }
            None => {
                sqlx::query("SELECT id FROM users WHERE role = $1 AND active = 1 ORDER BY id")
                    .bind(step.role.as_str())
                    .fetch_all(&mut *conn)
                    .await?
            }
        },
    };
    rows.iter().map(|r| Ok(r.try_get("id")?)).collect()
}

/// Whether `user` may decide the open step, and as whom.
async fn authority(
    conn: &mut sqlx::AnyConnection,
    a: &Row0,
    step: &Step0,
    user: i64,
    now: DateTime<Utc>,
) -> Result<Option<String>> {
    if user == a.requested_by || step.state != "open" {
        return Ok(None);
    }
    let c = candidates(conn, a, step).await?;
    if c.contains(&user) {
        return Ok(Some("self".into()));
    }
    if step.escalated_to == Some(user) {
        return Ok(Some("escalation".into()));
    }
    let today = now.date_naive().format("%Y-%m-%d").to_string();
    for holder in c.iter().chain(step.escalated_to.iter()) {
        let r = sqlx::query(
            "SELECT u.username FROM delegations d JOIN users u ON u.id = d.user_id WHERE d.user_id = $1 \
             AND d.delegate_id = $2 AND d.starts_on <= $3 AND d.ends_on >= $3",
        )
        .bind(*holder)
        .bind(user)
        .bind(today.clone())
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(r) = r {
            return Ok(Some(format!("delegate of {}", r.try_get::<String, _>("username")?)));
        }
    }
    Ok(None)
}

/// Who is told a step is waiting: its holders, and whoever stands in for them today.
async fn deciders_to_tell(
    conn: &mut sqlx::AnyConnection,
    a: &Row0,
    step: &Step0,
    now: DateTime<Utc>,
) -> Result<Vec<i64>> {
    let mut out: Vec<i64> = candidates(conn, a, step).await?.into_iter().filter(|u| *u != a.requested_by).collect();
    out.extend(step.escalated_to);
    let today = now.date_naive().format("%Y-%m-%d").to_string();
    let mut s = Sql::new("SELECT delegate_id FROM delegations WHERE starts_on <= ");
    s.bind(today.clone())
        .push(" AND ends_on >= ")
        .bind(today)
        .push(" AND user_id IN (")
        .bind_list(&out.clone())
        .push(")");
    for r in s.query().fetch_all(&mut *conn).await? {
        out.push(r.try_get("delegate_id")?);
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// A closing reason in words: the engine's own reasons translated, a decider's comment as given.
fn reason_text(reason: &str, locale: &str) -> String {
    match reason {
        "decisive_changed" | "withdrawn" => {
            let key = format!("approval_reason.{reason}");
            rust_i18n::t!(&key, locale = locale).into_owned()
        }
        other => other.to_string(),
    }
}

fn flow_name(flow: &str, locale: &str) -> String {
    let key = format!("flow.{flow}");
    rust_i18n::t!(&key, locale = locale).into_owned()
}

/// The request's deadline cap, if it has one.
fn cap_of(a: &Row0) -> Option<DateTime<Utc>> {
    a.deadline_cap.as_deref().and_then(parse_ts)
}

/// Whether a request with a deadline cap is about to pass it: less than a day left.
fn near_cap(a: &Row0, now: DateTime<Utc>) -> bool {
    cap_of(a).is_some_and(|c| c - now < Duration::days(1))
}

/// Opens step `position` of the request — with the rest of its run of parallel steps still
/// waiting — and tells each step's deciders. A step's deadline is capped at the request's cap;
/// a step that opens with less than a day left to the cap is escalated at once.
async fn open_step(tx: &mut WriteTx, a: &Row0, position: i64, now: DateTime<Utc>) -> Result<()> {
    let steps = steps0(tx.conn(), a.id).await?;
    let first = steps.iter().find(|s| s.position == position).ok_or_else(|| anyhow::anyhow!("no step {position}"))?;
    let run: Vec<&Step0> =
        steps.iter().filter(|s| s.position == position || (s.grp == first.grp && s.state == "waiting")).collect();
    sqlx::query("UPDATE approvals SET current_step = $1, updated_at = $2 WHERE id = $3")
        .bind(position)
        .bind(ts(now))
        .bind(a.id)
        .execute(tx.conn())
        .await?;
    for step in run {
        let mut due = now + Duration::days(step.days);
        if let Some(cap) = cap_of(a) {
            due = due.min(cap);
        }
        sqlx::query("UPDATE approval_steps SET state = 'open', opened_at = $1, due_at = $2 WHERE id = $3")
            .bind(ts(now))
            .bind(ts(due))
            .bind(step.id)
            .execute(tx.conn())
            .await?;
        let to = deciders_to_tell(tx.conn(), a, step, now).await?;
        let (flow, label, id) = (a.flow.code(), a.subject_label.clone(), a.id);
        let due_day = due.format("%Y-%m-%d").to_string();
        notify::send(tx, &to, "approval_waiting", Some(id), |loc| {
            (
                rust_i18n::t!("notify.waiting.title", locale = loc, flow = flow_name(flow, loc), subject = label)
                    .into_owned(),
                rust_i18n::t!("notify.waiting.body", locale = loc, id = id, due = due_day).into_owned(),
            )
        })
        .await?;
        if near_cap(a, now) {
            let fresh = steps0(tx.conn(), a.id).await?;
            if let Some(st) = fresh.iter().find(|s| s.id == step.id) {
                escalate(tx, a, st, now).await?;
            }
        }
    }
    Ok(())
}

/// Starts a request for `subject` (inside the caller's transaction). `decisive`: the subject's
/// fields whose change cancels the request and asks again.
pub async fn start(
    tx: &mut WriteTx,
    ctx: &Ctx,
    flow: Flow,
    subject: &Subject,
    decisive: &Value,
    payload: &Value,
    now: DateTime<Utc>,
) -> Result<i64> {
    start_capped(tx, ctx, flow, subject, decisive, payload, None, now).await
}

/// [`start`] with a deadline cap: no step's deadline, extended or not, passes `cap`, and once
/// less than a day is left to it the open step escalates at once (the scheduler's [`tick`],
/// or when the step opens).
#[allow(clippy::too_many_arguments)]
pub async fn start_capped(
    tx: &mut WriteTx,
    ctx: &Ctx,
    flow: Flow,
    subject: &Subject,
    decisive: &Value,
    payload: &Value,
    cap: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<i64> {
    start_in(tx, ctx, flow, subject, &[], decisive, payload, cap, now).await
}

/// [`start`] for a flow with `pick` steps: those whose role is among `picks` apply, each with
/// the deadline given for it (a suggestion's departments concerned, each giving its opinion
/// in parallel by its own deadline). A role picked that the flow has no `pick` step for is
/// refused (422 `picks`).
#[allow(clippy::too_many_arguments)]
pub async fn start_picked(
    tx: &mut WriteTx,
    ctx: &Ctx,
    flow: Flow,
    subject: &Subject,
    picks: &[ap::Pick],
    decisive: &Value,
    payload: &Value,
    now: DateTime<Utc>,
) -> Result<i64> {
    start_in(tx, ctx, flow, subject, picks, decisive, payload, None, now).await
}

#[allow(clippy::too_many_arguments)]
async fn start_in(
    tx: &mut WriteTx,
    ctx: &Ctx,
    flow: Flow,
    subject: &Subject,
    picks: &[ap::Pick],
    decisive: &Value,
    payload: &Value,
    cap: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<i64> {
    let (version, d) = definition(tx.conn(), flow).await?;
    for (i, p) in picks.iter().enumerate() {
        if !d.steps.iter().any(|s| s.pick && s.role == p.role) {
            return Err(Error::invalid(format!("picks[{i}].role"), "not_asked"));
        }
        if p.days.is_some_and(|n| !(1..=ap::MAX_DAYS).contains(&n)) {
            return Err(Error::invalid(format!("picks[{i}].days"), "step_days_range"));
        }
    }
    let id: i64 = sqlx::query(
        "INSERT INTO approvals (flow, flow_version, subject_type, subject_id, subject_label, region_id, subject_owner_id, \
         requested_by, state, current_step, decisive, payload, version, created_at, updated_at, branch_id, deadline_cap) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', 0, $9, $10, 1, $11, $11, $12, $13) RETURNING id",
    )
    .bind(flow.code())
    .bind(version)
    .bind(subject.kind)
    .bind(subject.id)
    .bind(subject.label.clone())
    .bind(subject.region_id)
    .bind(subject.owner_id)
    .bind(ctx.caller.user_id)
    .bind(decisive.to_string())
    .bind(payload.to_string())
    .bind(ts(now))
    .bind(subject.branch_id)
    .bind(cap.map(ts))
    .fetch_one(tx.conn())
    .await?
    .try_get("id")?;
    // A conditional step the subject's figure does not reach is kept, marked skipped, so the
    // request shows the whole chain and why it stops where it does.
    let class = subject.class.as_deref();
    if !d.steps.iter().any(|s| s.applies_picked(subject.figure, class, picks)) {
        return Err(Error::invalid("flow", "no_step_applies"));
    }
    let groups = ap::groups(&d.steps);
    for (i, s) in d.steps.iter().enumerate() {
        let state = if s.applies_picked(subject.figure, class, picks) { "waiting" } else { "skipped" };
        let days = match s.pick {
            true => picks.iter().find(|p| p.role == s.role).and_then(|p| p.days).unwrap_or(s.days),
            false => s.days,
        };
        sqlx::query(
            "INSERT INTO approval_steps (approval_id, position, role, scope, days, state, grp) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(i as i64)
        .bind(s.role.as_str())
        .bind(s.scope.as_str())
        .bind(days)
        .bind(state)
        .bind(groups[i])
        .execute(tx.conn())
        .await?;
    }
    let a = load0(tx.conn(), id).await?;
    // Every step must have someone to decide it, else the request could never end.
    let steps = steps0(tx.conn(), id).await?;
    for s in steps.iter().filter(|s| s.state == "waiting") {
        let c = candidates(tx.conn(), &a, s).await?;
        if c.iter().all(|u| *u == ctx.caller.user_id) {
            return Err(Error::invalid("flow", "no_decider"));
        }
    }
    let first = steps.iter().find(|s| s.state == "waiting").map(|s| s.position).unwrap_or(0);
    open_step(tx, &a, first, now).await?;
    audit::record(
        tx,
        ctx,
        "approval",
        &id.to_string(),
        "create",
        None,
        Some(&json!({"flow": flow.code(), "flow_version": version, "subject": subject.kind, "subject_id": subject.id, "decisive": decisive, "figure": subject.figure.map(|f| f.value)})),
    )
    .await?;
    Ok(id)
}

async fn load0(conn: &mut sqlx::AnyConnection, id: i64) -> Result<Row0> {
    sqlx::query_as("SELECT * FROM approvals WHERE id = $1").bind(id).fetch_optional(conn).await?.ok_or(Error::NotFound)
}

/// Locks the request for a decision (PostgreSQL: its row; SQLite runs one writer at a time).
async fn load_locked(tx: &mut WriteTx, id: i64) -> Result<Row0> {
    let lock = tx.lock_clause(RowLock::Update);
    sqlx::query_as(&format!("SELECT * FROM approvals WHERE id = $1{lock}"))
        .bind(id)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(Error::NotFound)
}

/// Whether the caller may see the request: they asked for it, decide or decided a step of it,
/// or see its subject.
async fn may_see(conn: &mut sqlx::AnyConnection, caller: &Caller, a: &Row0, now: DateTime<Utc>) -> Result<bool> {
    if a.requested_by == caller.user_id {
        return Ok(true);
    }
    let involved: Option<AnyRow> = sqlx::query(
        "SELECT id FROM approval_steps WHERE approval_id = $1 AND (decided_by = $2 OR escalated_to = $2) LIMIT 1",
    )
    .bind(a.id)
    .bind(caller.user_id)
    .fetch_optional(&mut *conn)
    .await?;
    if involved.is_some() {
        return Ok(true);
    }
    for s in steps0(conn, a.id).await? {
        if s.state == "open" && authority(conn, a, &s, caller.user_id, now).await?.is_some() {
            return Ok(true);
        }
        if candidates(conn, a, &s).await?.contains(&caller.user_id) {
            return Ok(true);
        }
    }
    for scope in inventory::iter::<SubjectScope> {
        if scope.kind == a.subject_type {
            return (scope.sees)(conn, caller, a.subject_id).await;
        }
    }
    if a.subject_type == "account" {
        return Ok(match caller.reach() {
            Reach::All => true,
            Reach::Nothing => false,
            _ => {
                let mut s = Sql::new("SELECT a.id FROM accounts a WHERE a.id = ");
                s.bind(a.subject_id);
                crate::app::customers::accounts::push_scope_one(&mut s, caller);
                s.query().fetch_optional(&mut *conn).await?.is_some()
            }
        });
    }
    Ok(false)
}

async fn username(conn: &mut sqlx::AnyConnection, id: Option<i64>) -> Result<Option<String>> {
    let Some(id) = id else { return Ok(None) };
    Ok(sqlx::query("SELECT username FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?
        .map(|r| r.try_get("username"))
        .transpose()?)
}

/// A user's name as people read it (the username when none is stored).
async fn display_name(conn: &mut sqlx::AnyConnection, id: i64) -> Result<String> {
    Ok(sqlx::query("SELECT COALESCE(display_name, username) AS n FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?
        .map(|r| r.try_get("n"))
        .transpose()?
        .unwrap_or_default())
}

async fn view(conn: &mut sqlx::AnyConnection, caller: &Caller, a: &Row0, now: DateTime<Utc>) -> Result<ApprovalView> {
    let mut can_decide = None;
    let mut can_extend = false;
    let def = definition_at(conn, a.flow, a.flow_version).await?;
    let mut steps: Vec<StepView> = sqlx::query_as(
        "SELECT s.position, s.role, s.scope, s.days, s.state, s.opened_at, s.due_at, d.username AS decided_by, \
         d.display_name AS decided_by_name, s.decided_as, s.decided_at, s.decision, s.comment, s.escalated_at, \
         e.username AS escalated_to, e.display_name AS escalated_to_name, s.extended_days, \
         COALESCE(s.grp, s.position) AS run FROM approval_steps s LEFT JOIN users d ON d.id = s.decided_by LEFT JOIN users e ON e.id = s.escalated_to \
         WHERE s.approval_id = $1 ORDER BY s.position",
    )
    .bind(a.id)
    .fetch_all(&mut *conn)
    .await?;
    let runs: Vec<i64> = steps.iter().map(|s| s.run).collect();
    for s in &mut steps {
        s.overdue = s.state == "open" && notify::is_past(s.due_at.as_deref(), now);
        s.parallel = runs.iter().filter(|r| **r == s.run).count() > 1;
    }
    let mut decide_step = None;
    if a.state == State::Pending {
        let open: Vec<Step0> = steps0(conn, a.id).await?.into_iter().filter(Step0::open).collect();
        // The first open step the caller may decide (a run of parallel steps has several).
        for s in &open {
            if let Some(w) = authority(conn, a, s, caller.user_id, now).await? {
                can_decide = Some(w);
                decide_step = Some(s.position);
                break;
            }
        }
        if let Some(s) = open.iter().find(|s| Some(s.position) == decide_step).or(open.first()) {
            can_extend = s.extended_days.is_none()
                && def
                    .extension_of(s.position as usize)
                    .is_some_and(|e| e.role == caller.role.code() && e.max_days > s.days)
                && cap_of(a).is_none_or(|c| s.due_at.as_deref().and_then(parse_ts).is_none_or(|d| d < c));
        }
    }
    Ok(ApprovalView {
        id: a.id,
        flow: a.flow,
        flow_version: a.flow_version,
        subject: json!({"type": a.subject_type, "id": a.subject_id, "label": a.subject_label}),
        requested_by: username(conn, Some(a.requested_by)).await?.unwrap_or_default(),
        requested_by_name: display_name(conn, a.requested_by).await?,
        state: a.state,
        current_step: a.current_step,
        steps,
        decisive: serde_json::from_str(&a.decisive).unwrap_or(Value::Null),
        payload: a.payload.as_deref().and_then(|p| serde_json::from_str(p).ok()).unwrap_or(Value::Null),
        created_at: a.created_at.clone(),
        closed_at: a.closed_at.clone(),
        can_decide,
        decide_step,
        can_extend,
    })
}

pub async fn get(db: &Db, caller: &Caller, id: i64) -> Result<ApprovalView> {
    let mut conn = db.pool.acquire().await?;
    let a = load0(&mut conn, id).await?;
    let now = crate::app::clock::now();
    if !may_see(&mut conn, caller, &a, now).await? {
        return Err(Error::NotFound);
    }
    view(&mut conn, caller, &a, now).await
}

/// A request that just closed, as its subject's hook sees it.
pub struct Closed<'a> {
    pub subject_id: i64,
    pub approval_id: i64,
    /// Approved, rejected, withdrawn or cancelled.
    pub state: State,
    pub reason: Option<&'a str>,
}

/// What a kind of subject does when its request closes, inside the closing transaction.
/// Each subject registers its own with `inventory::submit!` (screenings: the account's
/// status); the engine knows none of them.
pub struct OutcomeHook {
    pub flow: Flow,
    pub run: for<'a> fn(&'a mut WriteTx, &'a Ctx, Closed<'a>) -> HookFuture<'a>,
}

/// What an [`OutcomeHook`] returns: its work inside the closing transaction.
pub type HookFuture<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + Send + 'a>>;

inventory::collect!(OutcomeHook);

/// Closes the request (approved, rejected, returned, cancelled) and applies the outcome to
/// its subject.
async fn close(
    tx: &mut WriteTx,
    ctx: &Ctx,
    a: &Row0,
    state: State,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "UPDATE approvals SET state = $1, closed_at = $2, updated_at = $2, version = version + 1 WHERE id = $3",
    )
    .bind(state.code())
    .bind(ts(now))
    .bind(a.id)
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "UPDATE approval_steps SET state = 'cancelled' WHERE approval_id = $1 AND state IN ('waiting', 'open')",
    )
    .bind(a.id)
    .execute(tx.conn())
    .await?;
    for hook in inventory::iter::<OutcomeHook> {
        if hook.flow == a.flow {
            (hook.run)(tx, ctx, Closed { subject_id: a.subject_id, approval_id: a.id, state, reason }).await?;
        }
    }
    let (flow, label, id, st) = (a.flow.code(), a.subject_label.clone(), a.id, state.code());
    let why = reason.unwrap_or("").to_string();
    notify::send(tx, &[a.requested_by], "approval_closed", Some(id), |loc| {
        let state_key = format!("approval_state.{st}");
        let state_name = rust_i18n::t!(&state_key, locale = loc).into_owned();
        (
            rust_i18n::t!("notify.closed.title", locale = loc, flow = flow_name(flow, loc), subject = label)
                .into_owned(),
            rust_i18n::t!(
                "notify.closed.body",
                locale = loc,
                id = id,
                state = state_name,
                reason = reason_text(&why, loc)
            )
            .into_owned(),
        )
    })
    .await
}

/// Decides the open step: approve (on to the next step, or approved), reject (rejected) or
/// return for changes (returned), with a comment (required unless approving).
pub async fn decide(
    db: &Db,
    ctx: &Ctx,
    id: i64,
    decision: &str,
    comment: Option<&str>,
    now: DateTime<Utc>,
) -> Result<ApprovalView> {
    decide_step(db, ctx, id, None, decision, comment, now).await
}

/// [`decide`] for the step the caller was shown (`step`, its position): when another decision
/// has moved the request on meanwhile — a second decider, a double click — it answers 409
/// instead of deciding the next step.
pub async fn decide_step(
    db: &Db,
    ctx: &Ctx,
    id: i64,
    step: Option<i64>,
    decision: &str,
    comment: Option<&str>,
    now: DateTime<Utc>,
) -> Result<ApprovalView> {
    let mut tx = db.begin().await?;
    let v = decide_step_in(&mut tx, ctx, id, step, decision, comment, now).await?;
    tx.commit().await?;
    Ok(v)
}

/// [`decide_step`] inside the caller's transaction (a subject that stores its form with the
/// decision: an account plan's review stores its checklist first). A request whose subject
/// decides through its own form — an `account_plan` review — is refused (422 `checklist`)
/// while that form is not stored.
pub async fn decide_step_in(
    tx: &mut WriteTx,
    ctx: &Ctx,
    id: i64,
    step: Option<i64>,
    decision: &str,
    comment: Option<&str>,
    now: DateTime<Utc>,
) -> Result<ApprovalView> {
    let caller = &ctx.caller;
    let decision = Decision::parse(decision).map_err(|c| Error::invalid("decision", c))?;
    let comment = crate::domain::text::optional(comment, 2000).map_err(|c| Error::invalid("comment", c))?;
    if decision != Decision::Approve && comment.is_none() {
        return Err(Error::invalid("comment", "required"));
    }
    let a = load_locked(tx, id).await?;
    if !may_see(tx.conn(), caller, &a, now).await? {
        return Err(Error::NotFound);
    }
    if a.state != State::Pending {
        return Err(Error::Conflict("approval_closed"));
    }
    if a.requested_by == caller.user_id {
        return Err(Error::Forbidden);
    }
    let steps = steps0(tx.conn(), id).await?;
    if !steps.iter().any(Step0::open) {
        return Err(Error::Conflict("approval_closed"));
    }
    // The step the caller was shown; else the first open step (of a run of parallel steps)
    // they may decide.
    let (step, as_whom) = match step {
        Some(p) => {
            let Some(open) = steps.iter().find(|s| s.open() && s.position == p) else {
                return Err(Error::Conflict("step_decided"));
            };
            let Some(as_whom) = authority(tx.conn(), &a, open, caller.user_id, now).await? else {
                return Err(Error::Forbidden);
            };
            (open, as_whom)
        }
        None => {
            let mut found = None;
            for s in steps.iter().filter(|s| s.open()) {
                if let Some(w) = authority(tx.conn(), &a, s, caller.user_id, now).await? {
                    found = Some((s, w));
                    break;
                }
            }
            found.ok_or(Error::Forbidden)?
        }
    };
    if a.flow == Flow::AccountPlan {
        let answered =
            sqlx::query("SELECT id FROM account_plan_reviews WHERE approval_id = $1 AND checklist IS NOT NULL")
                .bind(id)
                .fetch_optional(tx.conn())
                .await?;
        if answered.is_none() {
            return Err(Error::invalid("checklist", "required"));
        }
    }
    let step_state = match decision {
        Decision::Approve => "approved",
        Decision::Reject => "rejected",
        Decision::Return => "returned",
    };
    let n = sqlx::query(
        "UPDATE approval_steps SET state = $1, decided_by = $2, decided_as = $3, decided_at = $4, decision = $5, comment = $6 \
         WHERE id = $7 AND state = 'open'",
    )
    .bind(step_state)
    .bind(caller.user_id)
    .bind(as_whom.clone())
    .bind(ts(now))
    .bind(decision.code())
    .bind(comment.clone())
    .bind(step.id)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if n != 1 {
        return Err(Error::Conflict("step_decided"));
    }
    audit::record(
        tx,
        ctx,
        "approval",
        &id.to_string(),
        decision.code(),
        None,
        Some(&json!({"step": step.position, "role": step.role, "as": as_whom, "comment": comment})),
    )
    .await?;
    match decision {
        // Approved: once every step of its run is, on to the next waiting step.
        Decision::Approve if steps.iter().any(|s| s.open() && s.id != step.id) => {}
        Decision::Approve => match steps.iter().find(|s| s.position > step.position && s.state == "waiting") {
            Some(next) => open_step(tx, &a, next.position, now).await?,
            None => close(tx, ctx, &a, State::Approved, comment.as_deref(), now).await?,
        },
        Decision::Reject => close(tx, ctx, &a, State::Rejected, comment.as_deref(), now).await?,
        Decision::Return => close(tx, ctx, &a, State::Returned, comment.as_deref(), now).await?,
    }
    let after = load0(tx.conn(), id).await?;
    view(tx.conn(), caller, &after, now).await
}

/// The requester withdraws a pending request.
pub async fn withdraw(db: &Db, ctx: &Ctx, id: i64, now: DateTime<Utc>) -> Result<ApprovalView> {
    let mut tx = db.begin().await?;
    let a = load_locked(&mut tx, id).await?;
    if !may_see(tx.conn(), &ctx.caller, &a, now).await? {
        return Err(Error::NotFound);
    }
    if a.requested_by != ctx.caller.user_id {
        return Err(Error::Forbidden);
    }
    if a.state != State::Pending {
        return Err(Error::Conflict("approval_closed"));
    }
    close(&mut tx, ctx, &a, State::Cancelled, Some("withdrawn"), now).await?;
    audit::record(&mut tx, ctx, "approval", &id.to_string(), "withdraw", None, None).await?;
    let after = load0(tx.conn(), id).await?;
    let v = view(tx.conn(), &ctx.caller, &after, now).await?;
    tx.commit().await?;
    Ok(v)
}

/// Extends the open step's deadline once, by the role the step's extension names (the flow's,
/// for older definitions), to at most its maximum and never past the request's deadline cap
/// (an extension asked beyond the cap is granted up to it). A step that allows none, or days
/// beyond the maximum: 422 `days`.
pub async fn extend(db: &Db, ctx: &Ctx, id: i64, days: i64, now: DateTime<Utc>) -> Result<ApprovalView> {
    let mut tx = db.begin().await?;
    let a = load_locked(&mut tx, id).await?;
    if !may_see(tx.conn(), &ctx.caller, &a, now).await? {
        return Err(Error::NotFound);
    }
    if a.state != State::Pending {
        return Err(Error::Conflict("approval_closed"));
    }
    let def = definition_at(tx.conn(), a.flow, a.flow_version).await?;
    let steps = steps0(tx.conn(), id).await?;
    let Some(step) = steps.iter().find(|s| s.state == "open") else { return Err(Error::Conflict("approval_closed")) };
    let Some(ext) = def.extension_of(step.position as usize).cloned() else {
        let code =
            if def.steps.iter().any(|s| s.extension.is_some()) { "step_no_extension" } else { "flow_no_extension" };
        return Err(Error::invalid("days", code));
    };
    if ext.role != ctx.caller.role.code() {
        return Err(Error::Forbidden);
    }
    if step.extended_days.is_some() {
        return Err(Error::Conflict("already_extended"));
    }
    if days <= step.days || days > ext.max_days {
        return Err(Error::invalid("days", "extension_range"));
    }
    let opened = step.opened_at.as_deref().and_then(parse_ts).unwrap_or(now);
    let mut due = opened + Duration::days(days);
    let capped = cap_of(&a).is_some_and(|c| c < due);
    if let Some(c) = cap_of(&a) {
        due = due.min(c);
    }
    sqlx::query(
        "UPDATE approval_steps SET extended_by = $1, extended_days = $2, due_at = $3, escalated_at = NULL, escalated_to = NULL, \
         reminded_at = NULL WHERE id = $4 AND state = 'open' AND extended_days IS NULL",
    )
    .bind(ctx.caller.user_id)
    .bind(days)
    .bind(ts(due))
    .bind(step.id)
    .execute(tx.conn())
    .await?;
    audit::record(
        &mut tx,
        ctx,
        "approval",
        &id.to_string(),
        "extend",
        Some(&json!({"step": step.position, "due_at": step.due_at})),
        Some(&json!({"step": step.position, "days": days, "due_at": ts(due), "capped": capped})),
    )
    .await?;
    // Granted up to a cap less than a day away: the step escalates now, as the tick would.
    if near_cap(&a, now) {
        if let Some(step) = steps0(tx.conn(), id).await?.iter().find(|s| s.state == "open") {
            escalate(&mut tx, &a, step, now).await?;
        }
    }
    let after = load0(tx.conn(), id).await?;
    let v = view(tx.conn(), &ctx.caller, &after, now).await?;
    tx.commit().await?;
    Ok(v)
}

/// The subject's decisive fields changed: its pending or approved requests of `flow` that were
/// asked with other values are cancelled, and (when `again`) asked again with the new ones.
/// Returns the new request's id.
#[allow(clippy::too_many_arguments)]
pub async fn subject_changed(
    tx: &mut WriteTx,
    ctx: &Ctx,
    flow: Flow,
    subject: &Subject,
    decisive: &Value,
    payload: &Value,
    again: bool,
    now: DateTime<Utc>,
) -> Result<Option<i64>> {
    let rows = sqlx::query(
        "SELECT id FROM approvals WHERE subject_type = $1 AND subject_id = $2 AND flow = $3 AND state IN ('pending', 'approved') \
         ORDER BY id",
    )
    .bind(subject.kind)
    .bind(subject.id)
    .bind(flow.code())
    .fetch_all(tx.conn())
    .await?;
    let mut changed = false;
    for r in rows {
        let a = load_locked(tx, r.try_get("id")?).await?;
        let before: Value = serde_json::from_str(&a.decisive).unwrap_or(Value::Null);
        if &before == decisive {
            continue;
        }
        changed = true;
        close(tx, ctx, &a, State::Cancelled, Some("decisive_changed"), now).await?;
        audit::record(
            tx,
            ctx,
            "approval",
            &a.id.to_string(),
            "cancel",
            Some(&json!({"decisive": before})),
            Some(&json!({"decisive": decisive})),
        )
        .await?;
    }
    if changed && again {
        return Ok(Some(start(tx, ctx, flow, subject, decisive, payload, now).await?));
    }
    Ok(None)
}

/// Cancels the subject's pending requests of `flow` (the subject was revised, lost or expired,
/// so they have nothing left to decide); `reason` is the engine's own (`decisive_changed`,
/// `withdrawn`). Approved requests stand.
#[allow(clippy::too_many_arguments)]
pub async fn cancel_pending(
    tx: &mut WriteTx,
    ctx: &Ctx,
    flow: Flow,
    kind: &str,
    subject_id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<usize> {
    let rows = sqlx::query(
        "SELECT id FROM approvals WHERE subject_type = $1 AND subject_id = $2 AND flow = $3 AND state = 'pending' ORDER BY id",
    )
    .bind(kind)
    .bind(subject_id)
    .bind(flow.code())
    .fetch_all(tx.conn())
    .await?;
    for r in &rows {
        let a = load_locked(tx, r.try_get("id")?).await?;
        if a.state != State::Pending {
            continue;
        }
        close(tx, ctx, &a, State::Cancelled, Some(reason), now).await?;
        audit::record(tx, ctx, "approval", &a.id.to_string(), "cancel", None, Some(&json!({"reason": reason}))).await?;
    }
    Ok(rows.len())
}

/// One row of an inbox.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InboxItem {
    pub id: i64,
    pub flow: Flow,
    #[schema(value_type = ApprovalSubject)]
    pub subject: Value,
    /// Username of the requester.
    pub requested_by: String,
    /// The requester, by name.
    pub requested_by_name: String,
    pub state: State,
    /// The open step's role.
    #[schema(value_type = Option<crate::domain::role::Role>)]
    pub step_role: Option<String>,
    /// The open step's deadline.
    #[schema(format = DateTime)]
    pub due_at: Option<String>,
    pub overdue: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
}

async fn item(conn: &mut sqlx::AnyConnection, a: &Row0, now: DateTime<Utc>) -> Result<InboxItem> {
    let open = steps0(conn, a.id).await?.into_iter().find(|s| s.state == "open");
    Ok(InboxItem {
        id: a.id,
        flow: a.flow,
        subject: json!({"type": a.subject_type, "id": a.subject_id, "label": a.subject_label}),
        requested_by: username(conn, Some(a.requested_by)).await?.unwrap_or_default(),
        requested_by_name: display_name(conn, a.requested_by).await?,
        state: a.state,
        step_role: open.as_ref().map(|s| s.role.clone()),
        overdue: open.as_ref().is_some_and(|s| notify::is_past(s.due_at.as_deref(), now)),
        due_at: open.and_then(|s| s.due_at),
        created_at: a.created_at.clone(),
    })
}

/// Requests waiting for the caller's decision now. The database narrows them to requests whose
/// open step names the caller's role (in scope), their reports' subjects, an escalation to
/// them, or any when they stand in for someone today; [`authority`] then decides each.
pub async fn waiting_for(db: &Db, caller: &Caller, now: DateTime<Utc>) -> Result<Vec<InboxItem>> {
    let mut conn = db.pool.acquire().await?;
    let today = now.date_naive().format("%Y-%m-%d").to_string();
    let mut s = Sql::new(
        "SELECT a.* FROM approvals a JOIN approval_steps s ON s.approval_id = a.id AND s.state = 'open' \
         WHERE a.state = 'pending' AND a.requested_by <> ",
    );
    let me = caller.user_id;
    s.bind(me).push(" AND (s.escalated_to = ").bind(me);
    s.push(" OR (s.scope = 'hq' AND s.role = ").bind(caller.role.code()).push(")");
    s.push(" OR (s.scope = 'region' AND s.role = ").bind(caller.role.code());
    s.push(" AND (a.region_id IS NULL OR (SELECT r.path FROM org_units r WHERE r.id = a.region_id) LIKE ");
    s.bind(format!("{}%", caller.org_path)).push("))");
    s.push(" OR (s.scope = 'owner_manager' AND a.subject_owner_id IN (SELECT id FROM users WHERE manager_id = ")
        .bind(me);
    s.push("))");
    s.push(" OR (s.scope = 'region_ka' AND a.region_id = ").bind(caller.org_unit_id).push(")");
    s.push(" OR (s.scope = 'branch' AND s.role = ").bind(caller.role.code());
    s.push(" AND (a.branch_id = ").bind(caller.org_unit_id);
    s.push(" OR (a.branch_id IS NULL AND (a.region_id IS NULL OR a.region_id = ").bind(caller.org_unit_id);
    s.push("))))");
    s.push(" OR EXISTS (SELECT 1 FROM delegations d WHERE d.delegate_id = ").bind(me);
    s.push(" AND d.starts_on <= ").bind(today.clone()).push(" AND d.ends_on >= ").bind(today).push("))");
    s.push(" ORDER BY a.id LIMIT 1000");
    let rows = s.query().try_map(|r| Row0::from_row(&r)).fetch_all(&mut *conn).await?;
    let mut out = vec![];
    let mut seen = std::collections::HashSet::new();
    for a in rows {
        if !seen.insert(a.id) {
            continue;
        }
        for st in steps0(&mut conn, a.id).await?.into_iter().filter(Step0::open) {
            if authority(&mut conn, &a, &st, caller.user_id, now).await?.is_some() {
                out.push(item(&mut conn, &a, now).await?);
                break;
            }
        }
    }
    Ok(out)
}

/// Requests the caller started, newest first.
pub async fn started_by(db: &Db, caller: &Caller, now: DateTime<Utc>) -> Result<Vec<InboxItem>> {
    let mut conn = db.pool.acquire().await?;
    let rows: Vec<Row0> = sqlx::query_as("SELECT * FROM approvals WHERE requested_by = $1 ORDER BY id DESC LIMIT 500")
        .bind(caller.user_id)
        .fetch_all(&mut *conn)
        .await?;
    let mut out = vec![];
    for a in rows {
        out.push(item(&mut conn, &a, now).await?);
    }
    Ok(out)
}

/// Counts for the navigation: waiting for me, and my own still pending.
pub async fn counts(db: &Db, caller: &Caller) -> Result<(i64, i64)> {
    let now = Utc::now();
    let waiting = waiting_for(db, caller, now).await?.len() as i64;
    let mine: i64 = sqlx::query("SELECT COUNT(*) AS n FROM approvals WHERE requested_by = $1 AND state = 'pending'")
        .bind(caller.user_id)
        .fetch_one(&db.pool)
        .await?
        .try_get("n")?;
    Ok((waiting, mine))
}

/// A delegation: `delegate` decides for the caller from `starts_on` to `ends_on`.
pub async fn delegate(db: &Db, ctx: &Ctx, delegate: &str, starts_on: &str, ends_on: &str) -> Result<()> {
    let mut e = crate::domain::error::Errors::default();
    let parse = |v: &str| chrono::NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").map_err(|_| "date_format");
    let s = e.take("starts_on", parse(starts_on));
    let t = e.take("ends_on", parse(ends_on));
    if let (Some(s), Some(t)) = (s, t) {
        if t < s {
            e.add("ends_on", "end_before_start");
        } else if (t - s).num_days() > 180 {
            e.add("ends_on", "too_long");
        }
    }
    e.finish()?;
    let mut tx = db.begin().await?;
    let id = crate::app::customers::accounts::active_user_id(tx.conn(), delegate)
        .await?
        .ok_or_else(|| Error::invalid("delegate", "unknown_user"))?;
    if id == ctx.caller.user_id {
        return Err(Error::invalid("delegate", "delegate_self"));
    }
    sqlx::query(
        "INSERT INTO delegations (user_id, delegate_id, starts_on, ends_on, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(ctx.caller.user_id)
    .bind(id)
    .bind(starts_on.trim())
    .bind(ends_on.trim())
    .bind(ts(Utc::now()))
    .execute(tx.conn())
    .await?;
    audit::record(
        &mut tx,
        ctx,
        "delegation",
        &ctx.caller.username,
        "create",
        None,
        Some(&json!({"delegate": delegate, "starts_on": starts_on, "ends_on": ends_on})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A delegation the caller gave, running or still to come.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, FromRow)]
pub struct DelegationView {
    /// Username of who decides for the caller.
    pub delegate: String,
    /// Their display name.
    pub delegate_name: String,
    #[schema(format = Date)]
    pub starts_on: String,
    #[schema(format = Date)]
    pub ends_on: String,
    /// Running today.
    #[sqlx(skip)]
    pub active: bool,
}

/// The caller's delegations that have not ended, soonest first.
pub async fn delegations(db: &Db, caller: &Caller, now: DateTime<Utc>) -> Result<Vec<DelegationView>> {
    let today = now.date_naive().format("%Y-%m-%d").to_string();
    let mut rows: Vec<DelegationView> = sqlx::query_as(
        "SELECT u.username AS delegate, u.display_name AS delegate_name, d.starts_on, d.ends_on \
         FROM delegations d JOIN users u ON u.id = d.delegate_id \
         WHERE d.user_id = $1 AND d.ends_on >= $2 ORDER BY d.starts_on, d.id",
    )
    .bind(caller.user_id)
    .bind(today.clone())
    .fetch_all(&db.pool)
    .await?;
    for d in &mut rows {
        d.active = d.starts_on <= today;
    }
    Ok(rows)
}

/// The scheduler's pass: reminders for steps due within a day, and escalation of steps past
/// their deadline — or of requests less than a day from their deadline cap — to the deciders'
/// manager. Each is claimed by a conditional update, so it
/// happens once however many servers run this. Returns (reminded, escalated).
pub async fn tick(db: &Db, now: DateTime<Utc>) -> Result<(usize, usize)> {
    let mut reminded = 0;
    let soon = ts(now + Duration::days(1));
    let soon_cap = soon.clone();
    let rows = sqlx::query(
        "SELECT s.id, s.approval_id FROM approval_steps s WHERE s.state = 'open' AND s.reminded_at IS NULL \
         AND s.escalated_at IS NULL AND s.due_at <= $1 AND s.due_at > $2",
    )
    .bind(soon)
    .bind(ts(now))
    .fetch_all(&db.pool)
    .await?;
    for r in rows {
        let (sid, aid): (i64, i64) = (r.try_get("id")?, r.try_get("approval_id")?);
        let mut tx = db.begin().await?;
        let n = sqlx::query(
            "UPDATE approval_steps SET reminded_at = $1 WHERE id = $2 AND state = 'open' AND reminded_at IS NULL",
        )
        .bind(ts(now))
        .bind(sid)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if n == 1 {
            let a = load0(tx.conn(), aid).await?;
            let steps = steps0(tx.conn(), aid).await?;
            if let Some(step) = steps.iter().find(|s| s.id == sid) {
                let to = deciders_to_tell(tx.conn(), &a, step, now).await?;
                let (flow, label, due) =
                    (a.flow.code(), a.subject_label.clone(), step.due_at.clone().unwrap_or_default());
                notify::send(&mut tx, &to, "approval_reminder", Some(aid), |loc| {
                    (
                        rust_i18n::t!(
                            "notify.reminder.title",
                            locale = loc,
                            flow = flow_name(flow, loc),
                            subject = label
                        )
                        .into_owned(),
                        rust_i18n::t!("notify.reminder.body", locale = loc, id = aid, due = due).into_owned(),
                    )
                })
                .await?;
                reminded += 1;
            }
        }
        tx.commit().await?;
    }
    let mut escalated = 0;
    // Past its deadline, or its request less than a day from its deadline cap.
    let rows = sqlx::query(
        "SELECT s.id, s.approval_id FROM approval_steps s JOIN approvals a ON a.id = s.approval_id \
         WHERE s.state = 'open' AND s.escalated_at IS NULL AND (s.due_at < $1 OR a.deadline_cap < $2)",
    )
    .bind(ts(now))
    .bind(soon_cap)
    .fetch_all(&db.pool)
    .await?;
    for r in rows {
        let (sid, aid): (i64, i64) = (r.try_get("id")?, r.try_get("approval_id")?);
        let mut tx = db.begin().await?;
        let a = load0(tx.conn(), aid).await?;
        let steps = steps0(tx.conn(), aid).await?;
        let Some(step) = steps.iter().find(|s| s.id == sid) else { continue };
        if escalate(&mut tx, &a, step, now).await? {
            escalated += 1;
        }
        tx.commit().await?;
    }
    Ok((reminded, escalated))
}

/// Escalates an open step to the deciders' manager (the first holder's who has one, else a
/// general manager), once: audited, its holders, the manager and the requester told. Returns
/// whether this call escalated it.
async fn escalate(tx: &mut WriteTx, a: &Row0, step: &Step0, now: DateTime<Utc>) -> Result<bool> {
    let system = Ctx::system();
    let (sid, aid) = (step.id, a.id);
    let holders = candidates(tx.conn(), a, step).await?;
    let mut target = None;
    for h in &holders {
        let m: Option<i64> = sqlx::query("SELECT manager_id FROM users WHERE id = $1")
            .bind(*h)
            .fetch_one(tx.conn())
            .await?
            .try_get("manager_id")?;
        if let Some(m) = m.filter(|m| *m != a.requested_by) {
            target = Some(m);
            break;
        }
    }
    if target.is_none() {
        target = sqlx::query("SELECT id FROM users WHERE role = 'gm' AND active = 1 AND id <> $1 ORDER BY id LIMIT 1")
            .bind(a.requested_by)
            .fetch_optional(tx.conn())
            .await?
            .map(|r| r.try_get("id"))
            .transpose()?;
    }
    let n = sqlx::query(
        "UPDATE approval_steps SET escalated_at = $1, escalated_to = $2 WHERE id = $3 AND state = 'open' AND escalated_at IS NULL",
    )
    .bind(ts(now))
    .bind(target)
    .bind(sid)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if n != 1 {
        return Ok(false);
    }
    let target_name = username(tx.conn(), target).await?;
    let near = near_cap(a, now);
    audit::record(
        tx,
        &system,
        "approval",
        &aid.to_string(),
        "escalate",
        None,
        Some(&json!({"step": step.position, "to": target_name, "due_at": step.due_at, "deadline_cap": a.deadline_cap, "near_cap": near})),
    )
    .await?;
    let mut to = holders.clone();
    to.extend(target);
    to.push(a.requested_by);
    let (flow, label) = (a.flow.code(), a.subject_label.clone());
    let who = target_name.unwrap_or_default();
    notify::send(tx, &to, "approval_escalated", Some(aid), |loc| {
        (
            rust_i18n::t!("notify.escalated.title", locale = loc, flow = flow_name(flow, loc), subject = label)
                .into_owned(),
            rust_i18n::t!("notify.escalated.body", locale = loc, id = aid, to = who).into_owned(),
        )
    })
    .await?;
    Ok(true)
}
