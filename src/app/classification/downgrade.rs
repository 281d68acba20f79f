//! The key account's way down and back (issue 22; seed 003 §三; DOMAIN.md §7): the fulfilment
//! rate (履约率, rules in `domain::fulfilment`), the daily pass that downgrades a key account
//! whose rate fell below 75 %, the manual downgrade through the `ka_downgrade` flow (the KA
//! director decides), and the record of every change of an account's status
//! (`account_status_changes`) — screening's too, which moves statuses through [`set_status`].
//!
//! A downgrade (either way) happens in [`downgrade_in`]: the status becomes `downgraded` by a
//! conditional update (once, however many servers run the pass), the tier and its date end
//! with it (so do the tier's service standards), a status change and an audit row are written,
//! and the owner, the KA manager (the account's, else the owner's manager) and the KA
//! director(s) are told. Re-entry goes through screening again.
//!
//! The fulfilment figures are credit information: the history's figures, the account's
//! current figures and the numbers in the notification reach only those who see credit
//! (`Caller::sees_credit`); the others read that the rate fell below 75 %.
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sqlx::Row;

use crate::app::approvals::{self, Subject};
use crate::app::customers::accounts::{self, AccountRef, AccountView};
use crate::app::records::{audit, notify};
use crate::app::{Caller, Ctx, Error, Result};
use crate::db::{now, Db, WriteTx};
use crate::domain::approval::{Flow, State};
use crate::domain::error::Errors;
use crate::domain::fulfilment as ff;
pub use crate::domain::fulfilment::Fulfilment;
use crate::domain::role::Role;
use crate::domain::text;

/// The reason of a downgrade by the daily pass.
pub const REASON_FULFILMENT: &str = "fulfilment_below_75";
/// The reason of a downgrade through the `ka_downgrade` flow.
pub const REASON_MANUAL: &str = "manual";
/// A screening was submitted (the account becomes a candidate).
pub const REASON_SCREENING_SUBMITTED: &str = "screening_submitted";
/// A screening was approved (the account becomes a key account).
pub const REASON_SCREENING_APPROVED: &str = "screening_approved";

fn iso(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

// ---------------------------------------------------------------------------------------------
// The setting: the grace after a due date

const KEY: &str = "downgrade";

/// The fulfilment rule's setting in force.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DowngradeSettings {
    /// Days after a due date an installment may still be paid in full and count as on time
    /// (0–90; 0 by default — the seed gives no figure, so it is the company's choice).
    #[schema(minimum = 0, maximum = 90)]
    pub grace_days: i64,
    /// Whether this is the shipped default (the company never saved its own).
    pub is_default: bool,
    /// The setting's version (0: never saved); give it back to save.
    pub version: i64,
}

/// The setting as given.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DowngradeSettingsIn {
    #[schema(minimum = 0, maximum = 90)]
    pub grace_days: i64,
    /// The version read.
    pub version: i64,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    grace_days: i64,
}

/// The setting in force (the default until the company saves its own).
pub async fn settings_in(conn: &mut sqlx::AnyConnection) -> Result<DowngradeSettings> {
    let r = sqlx::query("SELECT value, version FROM settings WHERE key = $1").bind(KEY).fetch_optional(conn).await?;
    let default = DowngradeSettings { grace_days: ff::DEFAULT_GRACE_DAYS, is_default: true, version: 0 };
    Ok(match r {
        None => default,
        Some(r) => {
            let v: String = r.try_get("value")?;
            let version = r.try_get("version")?;
            match serde_json::from_str::<Stored>(&v) {
                Ok(s) if ff::check_grace(s.grace_days).is_ok() => {
                    DowngradeSettings { grace_days: s.grace_days, is_default: false, version }
                }
                _ => DowngradeSettings { version, ..default },
            }
        }
    })
}

pub async fn settings(db: &Db) -> Result<DowngradeSettings> {
    let mut conn = db.pool.acquire().await?;
    settings_in(&mut conn).await
}

/// Who may change the setting: the administrator and the KA director.
pub fn may_edit(role: Role) -> bool {
    role.is_admin() || role == Role::KaDirector
}

/// Saves the grace over the version read (0–90 days, else 422 `grace_days`).
pub async fn save_settings(db: &Db, ctx: &Ctx, inp: &DowngradeSettingsIn) -> Result<DowngradeSettings> {
    if !may_edit(ctx.caller.role) {
        return Err(Error::Forbidden);
    }
    ff::check_grace(inp.grace_days).map_err(|c| Error::invalid("grace_days", c))?;
    let value = serde_json::to_string(&Stored { grace_days: inp.grace_days }).map_err(anyhow::Error::from)?;
    let mut tx = db.begin().await?;
    let before = settings_in(tx.conn()).await?;
    if crate::app::records::settings::write(&mut tx, KEY, &value, inp.version, &ctx.caller.username).await? {
        audit::record(
            &mut tx,
            ctx,
            "settings",
            KEY,
            "update",
            Some(&json!({"grace_days": before.grace_days})),
            Some(&json!({"grace_days": inp.grace_days})),
        )
        .await?;
    }
    let after = settings_in(tx.conn()).await?;
    tx.commit().await?;
    Ok(after)
}

// ---------------------------------------------------------------------------------------------
// The fulfilment rate

/// The SQL that says whether installment `r` was paid in full within `grace` days of its due
/// date (dates are `YYYY-MM-DD` text on both backends).
fn fulfilled_sql(postgres: bool, grace: i64) -> String {
    let grace = grace.clamp(0, ff::MAX_GRACE_DAYS);
    let deadline = match (grace, postgres) {
        (0, _) => "r.due_on".to_string(),
        (g, true) => format!("to_char(CAST(r.due_on AS date) + {g}, 'YYYY-MM-DD')"),
        (g, false) => format!("date(r.due_on, '+{g} days')"),
    };
    format!("(r.paid >= r.amount AND r.paid_in_full_on IS NOT NULL AND SUBSTR(r.paid_in_full_on, 1, 10) <= {deadline})")
}

/// The conditions of an installment counted as due (binds: $1 the window's open start, $2
/// today, $3 the last due date whose grace has ended).
fn due_sql(fulfilled: &str) -> String {
    format!("r.due_on > $1 AND r.due_on <= $2 AND r.amount > 0 AND ({fulfilled} OR r.due_on <= $3)")
}

fn is_postgres(conn: &sqlx::AnyConnection) -> bool {
    conn.backend_name().to_ascii_lowercase().contains("postgres")
}

/// An account's fulfilment record on `today` (the company's day): installments due in the
/// trailing 12 months and how many were paid in full on time (`domain::fulfilment`). No scope
/// check: the caller has one.
/// An account's fulfilment today (the caller's day) as (due, fulfilled), for the credit panel
/// of an account the caller has read (`seen`).
pub async fn fulfilment_of(db: &Db, caller: &Caller, seen: accounts::Seen) -> Result<(i64, i64)> {
    let mut conn = db.pool.acquire().await?;
    let f = fulfilment(&mut conn, seen.id(), caller.day()).await?;
    Ok((f.due, f.fulfilled))
}

pub async fn fulfilment(conn: &mut sqlx::AnyConnection, account_id: i64, today: NaiveDate) -> Result<Fulfilment> {
    let grace = settings_in(&mut *conn).await?.grace_days;
    let f = fulfilled_sql(is_postgres(conn), grace);
    let (from, to) = ff::window(today);
    let r = sqlx::query(&format!(
        "SELECT CAST(COUNT(*) AS BIGINT) AS due, CAST(COALESCE(SUM(CASE WHEN {f} THEN 1 ELSE 0 END), 0) AS BIGINT) AS fulfilled \
         FROM receivables r WHERE r.account_id = $4 AND {}",
        due_sql(&f)
    ))
    .bind(iso(from))
    .bind(iso(to))
    .bind(iso(ff::broken_by(today, grace)))
    .bind(account_id)
    .fetch_one(conn)
    .await?;
    Ok(Fulfilment { due: r.try_get("due")?, fulfilled: r.try_get("fulfilled")? })
}

/// A fulfilment record as shown: the counts, the rate and whether it is below the line.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FulfilmentFigures {
    pub due: i64,
    pub fulfilled: i64,
    /// Percent, two decimals ("66.67"); null with none due.
    #[schema(pattern = r"^[0-9]{1,3}\.[0-9]{2}$")]
    pub rate: Option<String>,
}

impl From<Fulfilment> for FulfilmentFigures {
    fn from(f: Fulfilment) -> Self {
        FulfilmentFigures { due: f.due, fulfilled: f.fulfilled, rate: f.rate_text() }
    }
}

impl FulfilmentFigures {
    pub fn below_line(&self) -> bool {
        Fulfilment { due: self.due, fulfilled: self.fulfilled }.below_line()
    }
}

// ---------------------------------------------------------------------------------------------
// Status changes

/// Moves the account's status from `from` to `to` (screening's moves: to `candidate` on a
/// submission, to `key_account` on approval), inside the caller's transaction: the tier
/// follows the status, an audit row and a status change are written.
pub async fn set_status(
    tx: &mut WriteTx,
    ctx: &Ctx,
    account_id: i64,
    from: &str,
    to: &str,
    reason: &str,
    approval_id: Option<i64>,
) -> Result<()> {
    sqlx::query("UPDATE accounts SET status = $1, version = version + 1, updated_at = $2 WHERE id = $3")
        .bind(to)
        .bind(now())
        .bind(account_id)
        .execute(tx.conn())
        .await?;
    after_move(tx, ctx, account_id, from, to, reason, None, None, approval_id).await
}

/// What follows every move of a status: the tier (a key account takes its tier at once; one
/// that is no longer one loses it and its date), the audit row and the status change.
#[allow(clippy::too_many_arguments)]
async fn after_move(
    tx: &mut WriteTx,
    ctx: &Ctx,
    account_id: i64,
    from: &str,
    to: &str,
    reason: &str,
    note: Option<&str>,
    figures: Option<&FulfilmentFigures>,
    approval_id: Option<i64>,
) -> Result<()> {
    let change = crate::app::customers::derived::Change::Status;
    crate::app::customers::derived::refresh(tx, account_id, &ctx.caller.username, change).await?;
    sqlx::query(
        "INSERT INTO account_status_changes (account_id, from_status, to_status, reason, note, figures, approval_id, \
         changed_by, changed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(account_id)
    .bind(from)
    .bind(to)
    .bind(reason)
    .bind(note.map(str::to_string))
    .bind(figures.map(|f| json!(f).to_string()))
    .bind(approval_id)
    .bind(ctx.caller.username.as_str())
    .bind(now())
    .execute(tx.conn())
    .await?;
    // The figures stay out of the audit row (credit information); the status change keeps them.
    let mut after = json!({"status": to, "reason": reason});
    if let Some(a) = approval_id {
        after["approval_id"] = json!(a);
    }
    audit::record(tx, ctx, "account", &account_id.to_string(), "status", Some(&json!({"status": from})), Some(&after))
        .await
}

/// Downgrades a key account (inside the caller's transaction): `reason` [`REASON_FULFILMENT`]
/// with the figures, or [`REASON_MANUAL`] with the requester's words and the request. Answers
/// whether it was downgraded now (false: it was no key account any more — another server's
/// pass, or an earlier decision, came first). The place a downgrade happens.
pub async fn downgrade_in(
    tx: &mut WriteTx,
    ctx: &Ctx,
    account_id: i64,
    reason: &str,
    note: Option<&str>,
    figures: Option<Fulfilment>,
    approval_id: Option<i64>,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE accounts SET status = 'downgraded', version = version + 1, updated_at = $1 \
         WHERE id = $2 AND status = 'key_account' AND deleted_at IS NULL",
    )
    .bind(now())
    .bind(account_id)
    .execute(tx.conn())
    .await?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    let figures = figures.map(FulfilmentFigures::from);
    after_move(tx, ctx, account_id, "key_account", "downgraded", reason, note, figures.as_ref(), approval_id).await?;
    // A manual request still waiting has nothing left to decide.
    approvals::cancel_pending(tx, ctx, Flow::KaDowngrade, "account", account_id, "decisive_changed", Utc::now())
        .await?;
    tell(tx, account_id, reason, note, figures.as_ref(), approval_id).await?;
    // A downgrade is a credit trigger (003 §三.五): the grade the figures now give is proposed.
    let pair = figures.as_ref().map(|f| (f.due, f.fulfilled));
    let proposed = crate::app::credit::grades::computed_grade(tx.conn(), account_id, pair).await?.map(|(g, _)| g);
    let why = note.unwrap_or(reason);
    crate::app::credit::triggers::record(
        tx,
        ctx,
        account_id,
        crate::domain::credit_change::CreditTriggerKind::Downgrade,
        proposed,
        why,
        crate::app::clock::now(),
    )
    .await?;
    Ok(true)
}

/// Tells the owner, the KA manager (the account's, else the owner's manager) and the KA
/// director(s); the figures only to those who see credit.
async fn tell(
    tx: &mut WriteTx,
    account_id: i64,
    reason: &str,
    note: Option<&str>,
    figures: Option<&FulfilmentFigures>,
    approval_id: Option<i64>,
) -> Result<()> {
    let a = sqlx::query(
        "SELECT a.name, a.owner_id, COALESCE(a.ka_manager_id, o.manager_id) AS manager_id FROM accounts a \
         LEFT JOIN users o ON o.id = a.owner_id WHERE a.id = $1",
    )
    .bind(account_id)
    .fetch_one(tx.conn())
    .await?;
    let name: String = a.try_get("name")?;
    let mut to: Vec<i64> = vec![];
    to.extend(a.try_get::<Option<i64>, _>("owner_id")?);
    to.extend(a.try_get::<Option<i64>, _>("manager_id")?);
    for r in sqlx::query("SELECT id FROM users WHERE role = $1 AND active = 1 ORDER BY id")
        .bind(Role::KaDirector.code())
        .fetch_all(tx.conn())
        .await?
    {
        to.push(r.try_get("id")?);
    }
    to.sort_unstable();
    to.dedup();
    let (mut credit, mut plain) = (vec![], vec![]);
    for u in to {
        let role: Option<String> = sqlx::query("SELECT role FROM users WHERE id = $1")
            .bind(u)
            .fetch_optional(tx.conn())
            .await?
            .map(|r| r.try_get("role"))
            .transpose()?;
        match role.as_deref().map(Role::parse) {
            Some(Ok(r)) if r.sees_credit() => credit.push(u),
            _ => plain.push(u),
        }
    }
    let note = note.unwrap_or("").to_string();
    let id = approval_id.unwrap_or(0);
    let body = |loc: &str, with_figures: bool| -> String {
        match (reason, figures.filter(|_| with_figures)) {
            (REASON_MANUAL, _) => rust_i18n::t!("notify.downgrade.body_manual", locale = loc, id = id, reason = note),
            (_, Some(f)) => rust_i18n::t!(
                "notify.downgrade.body_figures",
                locale = loc,
                due = f.due,
                fulfilled = f.fulfilled,
                rate = f.rate.clone().unwrap_or_default()
            ),
            _ => rust_i18n::t!("notify.downgrade.body", locale = loc),
        }
        .into_owned()
    };
    let title = |loc: &str| rust_i18n::t!("notify.downgrade.title", locale = loc, account = name).into_owned();
    notify::send(tx, &credit, "downgrade", approval_id, |loc| (title(loc), body(loc, true))).await?;
    notify::send(tx, &plain, "downgrade", approval_id, |loc| (title(loc), body(loc, false))).await
}

// ---------------------------------------------------------------------------------------------
// The daily pass

/// Once a day (the first scheduler pass of the company's day, on whichever server claims it):
/// [`pass`]. Answers how many key accounts were downgraded.
pub async fn daily(db: &Db, now_at: DateTime<Utc>) -> Result<usize> {
    let today = iso(crate::domain::activity::local_day(now_at, chrono_tz::Asia::Shanghai));
    let mut tx = db.begin().await?;
    let Some(last) = crate::app::records::settings::claim_day(&mut tx, "downgrade_pass_day", &today).await? else {
        return Ok(0);
    };
    tx.commit().await?;
    let done = pass(db, now_at).await;
    if done.is_err() {
        // The next scheduler pass tries again.
        crate::app::records::settings::release_day(db, "downgrade_pass_day", &last, &today).await;
    }
    done
}

/// The key accounts whose fulfilment is below the line on `today`, with their figures: one
/// aggregate over the installments due in the window, joined to the key accounts.
pub async fn below_line(db: &Db, today: NaiveDate) -> Result<Vec<(i64, Fulfilment)>> {
    let grace = settings(db).await?.grace_days;
    let f = fulfilled_sql(db.backend == crate::db::Backend::Postgres, grace);
    let (from, to) = ff::window(today);
    let kept = format!("SUM(CASE WHEN {f} THEN 1 ELSE 0 END)");
    let rows = sqlx::query(&format!(
        "SELECT r.account_id, CAST(COUNT(*) AS BIGINT) AS due, CAST({kept} AS BIGINT) AS fulfilled \
         FROM receivables r JOIN accounts a ON a.id = r.account_id \
         WHERE a.status = 'key_account' AND a.deleted_at IS NULL AND {} \
         GROUP BY r.account_id HAVING {kept} * 100 < {} * COUNT(*) ORDER BY r.account_id",
        due_sql(&f),
        ff::LINE_PERCENT
    ))
    .bind(iso(from))
    .bind(iso(to))
    .bind(iso(ff::broken_by(today, grace)))
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((r.try_get("account_id")?, Fulfilment { due: r.try_get("due")?, fulfilled: r.try_get("fulfilled")? }))
        })
        .collect()
}

/// Downgrades every key account whose fulfilment fell below 75 % on the company's day of
/// `now_at`, each in its own transaction, each once (a conditional update: a second pass, or
/// another server's, finds it downgraded already). Answers how many were downgraded.
pub async fn pass(db: &Db, now_at: DateTime<Utc>) -> Result<usize> {
    let today = crate::domain::activity::local_day(now_at, chrono_tz::Asia::Shanghai);
    let ctx = Ctx { caller: Ctx::system().caller, request_id: "scheduler".into() };
    let mut n = 0;
    for (id, f) in below_line(db, today).await? {
        if !f.below_line() {
            continue;
        }
        let mut tx = db.begin().await?;
        if downgrade_in(&mut tx, &ctx, id, REASON_FULFILMENT, None, Some(f), None).await? {
            n += 1;
        }
        tx.commit().await?;
    }
    Ok(n)
}

// ---------------------------------------------------------------------------------------------
// The manual downgrade (人工降级)

/// A manual downgrade as asked.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DowngradeIn {
    /// Why the account should no longer be a key account (required, up to 1000 characters).
    #[serde(default)]
    #[schema(value_type = String)]
    pub reason: Option<String>,
}

/// The request a manual downgrade started.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DowngradeRequestView {
    /// The `ka_downgrade` request (`/api/v1/approvals/{id}`).
    pub approval_id: i64,
    pub account_id: i64,
    pub reason: String,
}

/// Whether the caller's role may ask for a manual downgrade: a KA manager or above.
pub fn may_request(role: Role) -> bool {
    role.manages_accounts()
}

/// The account's `ka_downgrade` request still waiting, if any.
async fn pending_request(conn: &mut sqlx::AnyConnection, account_id: i64) -> Result<Option<i64>> {
    Ok(sqlx::query(
        "SELECT id FROM approvals WHERE flow = $1 AND subject_type = 'account' AND subject_id = $2 AND state = 'pending' \
         ORDER BY id LIMIT 1",
    )
    .bind(Flow::KaDowngrade.code())
    .bind(account_id)
    .fetch_optional(conn)
    .await?
    .map(|r| r.try_get("id"))
    .transpose()?)
}

/// Asks for a manual downgrade of a key account, with a reason: the account in scope (else
/// 404), the caller a KA manager or above (else 403), the account a key account (else 422
/// `status`), a reason (else 422 `reason`), no request of the kind already waiting (else 409
/// `downgrade_pending`). Starts the `ka_downgrade` request.
pub async fn request(db: &Db, ctx: &Ctx, account_id: i64, inp: &DowngradeIn) -> Result<DowngradeRequestView> {
    let caller = &ctx.caller;
    let mut e = Errors::default();
    let reason = e.take("reason", text::required(inp.reason.as_deref(), 1000));
    let mut tx = db.begin().await?;
    let mut s = crate::db::sql::Sql::new(
        "SELECT a.id, a.name, a.status, a.tier, a.region_id, a.branch_id, a.owner_id FROM accounts a WHERE a.id = ",
    );
    s.bind(account_id);
    accounts::push_scope_one(&mut s, caller);
    let acc = s.query().fetch_optional(tx.conn()).await?.ok_or(Error::NotFound)?;
    if !may_request(caller.role) {
        return Err(Error::Forbidden);
    }
    let status: String = acc.try_get("status")?;
    if status != "key_account" {
        e.add("status", "not_key_account");
    }
    e.finish()?;
    let reason = reason.unwrap_or_default();
    if pending_request(tx.conn(), account_id).await?.is_some() {
        return Err(Error::Conflict("downgrade_pending"));
    }
    let tier: Option<String> = acc.try_get("tier")?;
    let subject = Subject {
        kind: "account",
        id: account_id,
        label: acc.try_get("name")?,
        region_id: acc.try_get("region_id")?,
        branch_id: acc.try_get("branch_id")?,
        owner_id: acc.try_get("owner_id")?,
        figure: None,
        class: None,
    };
    let decisive = json!({"reason": reason});
    let payload = json!({"reason": reason, "tier": tier, "status": status});
    let aid = approvals::start(&mut tx, ctx, Flow::KaDowngrade, &subject, &decisive, &payload, Utc::now()).await?;
    audit::record(
        &mut tx,
        ctx,
        "account",
        &account_id.to_string(),
        "downgrade_request",
        None,
        Some(&json!({"approval_id": aid, "reason": reason})),
    )
    .await?;
    tx.commit().await?;
    Ok(DowngradeRequestView { approval_id: aid, account_id, reason })
}

// A closed `ka_downgrade` request: approved, the account is downgraded; otherwise it stays.
inventory::submit! {
    approvals::OutcomeHook { flow: Flow::KaDowngrade, run: on_closed }
}

fn on_closed<'a>(tx: &'a mut WriteTx, ctx: &'a Ctx, c: approvals::Closed<'a>) -> approvals::HookFuture<'a> {
    Box::pin(async move {
        if c.state != State::Approved {
            return Ok(());
        }
        let payload: Option<String> = sqlx::query("SELECT payload FROM approvals WHERE id = $1")
            .bind(c.approval_id)
            .fetch_one(tx.conn())
            .await?
            .try_get("payload")?;
        let payload: Value = payload.as_deref().and_then(|p| serde_json::from_str(p).ok()).unwrap_or(Value::Null);
        let note = payload.get("reason").and_then(Value::as_str).map(str::to_string);
        let today = crate::domain::activity::local_day(crate::app::clock::now(), chrono_tz::Asia::Shanghai);
        let figures = fulfilment(tx.conn(), c.subject_id, today).await?;
        downgrade_in(tx, ctx, c.subject_id, REASON_MANUAL, note.as_deref(), Some(figures), Some(c.approval_id)).await?;
        Ok(())
    })
}

/// What the request page shows of a manual downgrade: the reason, the account as the request
/// found it (status, tier) and as the caller may see it now, and the fulfilment figures (those
/// who see credit only).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DowngradeReview {
    pub approval_id: i64,
    pub reason: String,
    /// The status and tier when the request was made.
    #[schema(value_type = crate::domain::account::Status)]
    pub status_at_request: String,
    #[schema(value_type = Option<crate::domain::account::Tier>)]
    pub tier_at_request: Option<String>,
    /// The account as the caller may see it; null when it is out of the caller's scope.
    pub account: Option<AccountView>,
    /// The fulfilment record today; null for those who do not see credit.
    pub fulfilment: Option<FulfilmentFigures>,
}

/// The manual downgrade a request asks about (the request seen by the caller, else 404; a
/// request of another flow is 404 too).
pub async fn for_approval(db: &Db, caller: &Caller, approval_id: i64) -> Result<DowngradeReview> {
    let a = approvals::get(db, caller, approval_id).await?;
    if a.flow != Flow::KaDowngrade {
        return Err(Error::NotFound);
    }
    let account_id = a.subject.get("id").and_then(Value::as_i64).ok_or(Error::NotFound)?;
    let text_of = |k: &str| a.payload.get(k).and_then(Value::as_str).map(str::to_string);
    let account = match accounts::get(db, caller, account_id).await {
        Ok(v) => Some(v),
        Err(Error::NotFound) => None,
        Err(e) => return Err(e),
    };
    let fulfilment = if caller.sees_credit() && account.is_some() {
        let mut conn = db.pool.acquire().await?;
        Some(fulfilment(&mut conn, account_id, caller.day()).await?.into())
    } else {
        None
    };
    Ok(DowngradeReview {
        approval_id,
        reason: text_of("reason").unwrap_or_default(),
        status_at_request: text_of("status").unwrap_or_else(|| "key_account".into()),
        tier_at_request: text_of("tier"),
        account,
        fulfilment,
    })
}

// ---------------------------------------------------------------------------------------------
// The history

/// One change of an account's status.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatusChangeView {
    pub id: i64,
    pub account_id: i64,
    #[schema(value_type = crate::domain::account::Status)]
    pub from_status: String,
    #[schema(value_type = crate::domain::account::Status)]
    pub to_status: String,
    /// `screening_submitted`, `screening_approved`, `fulfilment_below_75` or `manual`.
    pub reason: String,
    /// A manual downgrade's reason as its requester gave it.
    pub note: Option<String>,
    /// The fulfilment record the change was made on; null for those who do not see credit
    /// (and for screening's changes).
    pub figures: Option<FulfilmentFigures>,
    /// The approval request that made the change, if one did.
    pub approval_id: Option<i64>,
    /// Username of who made it (`system`: the daily pass), and their name.
    pub changed_by: String,
    pub changed_by_name: String,
    #[schema(format = DateTime)]
    pub changed_at: String,
}

/// An account's status history, newest first, with what the caller may see beside it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StatusHistory {
    pub items: Vec<StatusChangeView>,
    /// The account's fulfilment record today (null for those who do not see credit).
    pub fulfilment: Option<FulfilmentFigures>,
    /// The grace after a due date in force (days).
    pub grace_days: i64,
    /// The manual downgrade request still waiting, if any.
    pub pending_request: Option<i64>,
}

/// The account's status changes, newest first (the account in scope, else 404).
pub async fn history(db: &Db, caller: &Caller, account: impl Into<AccountRef>) -> Result<StatusHistory> {
    let account_id = account.into().check(db, caller).await?;
    let mut conn = db.pool.acquire().await?;
    let credit = caller.sees_credit();
    let rows = sqlx::query(
        "SELECT c.*, COALESCE(u.display_name, c.changed_by) AS changer FROM account_status_changes c \
         LEFT JOIN users u ON u.username = c.changed_by WHERE c.account_id = $1 ORDER BY c.id DESC LIMIT 200",
    )
    .bind(account_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut items = vec![];
    for r in &rows {
        let figures: Option<String> = r.try_get("figures")?;
        items.push(StatusChangeView {
            id: r.try_get("id")?,
            account_id,
            from_status: r.try_get("from_status")?,
            to_status: r.try_get("to_status")?,
            reason: r.try_get("reason")?,
            note: r.try_get("note")?,
            figures: figures.filter(|_| credit).and_then(|f| serde_json::from_str(&f).ok()),
            approval_id: r.try_get("approval_id")?,
            changed_by: r.try_get("changed_by")?,
            changed_by_name: r.try_get("changer")?,
            changed_at: r.try_get("changed_at")?,
        });
    }
    let fulfilment = if credit { Some(fulfilment(&mut conn, account_id, caller.day()).await?.into()) } else { None };
    let grace_days = settings_in(&mut conn).await?.grace_days;
    let pending_request = pending_request(&mut conn, account_id).await?;
    Ok(StatusHistory { items, fulfilment, grace_days, pending_request })
}
