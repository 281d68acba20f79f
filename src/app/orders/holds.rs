//! Holds (冻结; DOMAIN.md §12.5, issue 21). An order can be held with a reason (`general`), and
//! an account's orders are all held when one of its receivables climbs to the dunning level
//! that holds (`dunning`: 90 days past due by default, sooner with broken promises). While a
//! hold is active the orders it covers are not submitted for sign-off, prepared or shipped
//! (409 `order_held`); finance releases it with a reason. A general hold is placed by finance
//! or by a manager above the order's owner.
//!
//! A credit hold (`credit`, issue 22) is placed by the credit check (`credit_check`) and decided
//! by the finance manager or the KA director (`credit_decisions`), not released here; its figures
//! are shown only to callers who may see credit.
//!
//! The dunning pass ([`dun_pass`], from the scheduler) tells the people of each receivable once
//! per level reached — the owner of a reminder and of their call, the KA manager of theirs,
//! finance of its letter — and places the dunning hold.
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

use crate::app::customers::accounts;
use crate::app::orders::{collection, policy};
use crate::app::records::{audit, notify};
use crate::app::{Caller, Ctx, Error, Result};
use crate::db::sql::Sql;
use crate::db::{now, Db, RowLock};
use crate::domain::money::format_fen;
use crate::domain::receivable::{self as rc, DunAction};
use crate::domain::role::Role;
use crate::domain::text;

pub use crate::domain::receivable::HoldKind;
use crate::domain::receivable::{CreditCause, CreditFigures, CreditStage};

/// What the credit check saw when it held the order (only for callers who may see credit).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreditFiguresView {
    /// `over_limit`: the exposure with the order went above the limit; `grade`: the account is
    /// graded red or black.
    pub cause: CreditCause,
    /// The account's grade then (`green`, `yellow`, `red`, `black`).
    pub grade: Option<String>,
    /// The account's credit limit then.
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub limit: Option<String>,
    /// What the account's other orders still owed.
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub exposure_before: String,
    /// What this order adds (its total less what was paid or written off on it).
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub order_amount: String,
    /// The exposure with the order.
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub exposure: String,
}

impl From<CreditFigures> for CreditFiguresView {
    fn from(f: CreditFigures) -> Self {
        CreditFiguresView {
            cause: f.cause,
            grade: f.grade,
            limit: f.limit.map(format_fen),
            exposure_before: format_fen(f.others),
            order_amount: format_fen(f.order_amount),
            exposure: format_fen(f.exposure),
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HoldView {
    pub id: i64,
    pub account_id: i64,
    pub account_name: String,
    /// The order held; null: every order of the account (a dunning hold).
    pub order_id: Option<i64>,
    pub order_number: Option<String>,
    pub kind: HoldKind,
    pub reason: String,
    /// A dunning hold's cause.
    pub receivable_id: Option<i64>,
    pub placed_by: String,
    pub placed_by_name: String,
    pub placed_at: String,
    pub released_by: Option<String>,
    pub released_by_name: Option<String>,
    pub released_at: Option<String>,
    pub release_reason: Option<String>,
    pub active: bool,
    pub version: i64,
    /// A credit hold: where the check held the order (`submit`, `signoff`, `delivery`).
    pub credit_stage: Option<CreditStage>,
    /// A credit hold's decision: `released` or `rejected` (the order cancelled); null while
    /// active, and for other holds.
    pub decision: Option<String>,
    /// A credit hold's figures, for callers who may see credit only (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub credit: Option<CreditFiguresView>,
}

impl HoldView {
    pub fn is_credit(&self) -> bool {
        self.kind == HoldKind::Credit
    }

    /// The view as `caller` may see it: a credit hold's figures only for those who see credit.
    pub fn for_caller(mut self, caller: &Caller) -> HoldView {
        if !caller.sees_credit() {
            self.credit = None;
        }
        self
    }
}

const SELECT: &str = "SELECT h.*, a.name AS account_name, o.number AS order_number, \
     COALESCE(pu.display_name, h.placed_by) AS placed_by_name, ru.display_name AS released_by_name \
     FROM order_holds h JOIN accounts a ON a.id = h.account_id LEFT JOIN orders o ON o.id = h.order_id \
     LEFT JOIN users pu ON pu.username = h.placed_by LEFT JOIN users ru ON ru.username = h.released_by";

fn view(r: &sqlx::any::AnyRow) -> Result<HoldView> {
    let released_at: Option<String> = r.try_get("released_at")?;
    Ok(HoldView {
        id: r.try_get("id")?,
        account_id: r.try_get("account_id")?,
        account_name: r.try_get("account_name")?,
        order_id: r.try_get("order_id")?,
        order_number: r.try_get("order_number")?,
        kind: r.try_get("kind")?,
        reason: r.try_get("reason")?,
        receivable_id: r.try_get("receivable_id")?,
        placed_by: r.try_get("placed_by")?,
        placed_by_name: r.try_get("placed_by_name")?,
        placed_at: r.try_get("placed_at")?,
        released_by: r.try_get("released_by")?,
        released_by_name: r.try_get("released_by_name")?,
        active: released_at.is_none(),
        released_at,
        release_reason: r.try_get("release_reason")?,
        version: r.try_get("version")?,
        credit_stage: r.try_get("credit_stage")?,
        decision: r.try_get("decision")?,
        credit: r
            .try_get::<Option<String>, _>("credit_figures")?
            .and_then(|j| serde_json::from_str::<CreditFigures>(&j).ok())
            .map(CreditFiguresView::from),
    })
}

/// The active hold covering an order of `account_id` (`order_id` None: a new order), if any.
pub async fn active_in(
    conn: &mut sqlx::AnyConnection,
    account_id: i64,
    order_id: Option<i64>,
) -> Result<Option<HoldView>> {
    let mut s = Sql::new(SELECT);
    s.push(" WHERE h.released_at IS NULL AND h.account_id = ").bind(account_id);
    s.push(" AND (h.order_id IS NULL");
    if let Some(o) = order_id {
        s.push(" OR h.order_id = ").bind(o);
    }
    s.push(") ORDER BY h.id LIMIT 1");
    s.query().fetch_optional(conn).await?.as_ref().map(view).transpose()
}

/// Refuses (409 `order_held`) when an active hold covers the order.
pub async fn ensure_clear(conn: &mut sqlx::AnyConnection, account_id: i64, order_id: Option<i64>) -> Result<()> {
    match active_in(conn, account_id, order_id).await? {
        Some(_) => Err(Error::Conflict("order_held")),
        None => Ok(()),
    }
}

async fn order_account(conn: &mut sqlx::AnyConnection, caller: &Caller, order_id: i64) -> Result<(i64, i64, String)> {
    let r = sqlx::query("SELECT account_id, owner_id, state FROM orders WHERE id = $1")
        .bind(order_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(Error::NotFound)?;
    let account: i64 = r.try_get("account_id")?;
    accounts::ensure_visible_in(conn, caller, account).await?;
    Ok((account, r.try_get("owner_id")?, r.try_get("state")?))
}

/// The holds that cover an order (its own and its account's), newest first.
pub async fn of_order(db: &Db, caller: &Caller, order_id: i64) -> Result<Vec<HoldView>> {
    let mut conn = db.pool.acquire().await?;
    let (account, _, _) = order_account(&mut conn, caller, order_id).await?;
    let mut s = Sql::new(SELECT);
    s.push(" WHERE h.account_id = ").bind(account);
    s.push(" AND (h.order_id IS NULL OR h.order_id = ").bind(order_id);
    s.push(") ORDER BY h.id DESC");
    s.query().fetch_all(&mut *conn).await?.iter().map(|r| Ok(view(r)?.for_caller(caller))).collect()
}

/// An account's holds, newest first.
pub async fn of_account(db: &Db, caller: &Caller, account_id: i64) -> Result<Vec<HoldView>> {
    let mut conn = db.pool.acquire().await?;
    accounts::ensure_visible_in(&mut conn, caller, account_id).await?;
    let mut s = Sql::new(SELECT);
    s.push(" WHERE h.account_id = ").bind(account_id);
    s.push(" ORDER BY h.id DESC");
    s.query().fetch_all(&mut *conn).await?.iter().map(|r| Ok(view(r)?.for_caller(caller))).collect()
}

/// The holds in the caller's scope (`active`: only those not released), newest first, at most
/// 500.
pub async fn list(db: &Db, caller: &Caller, active: bool) -> Result<Vec<HoldView>> {
    let mut s = Sql::new(SELECT);
    s.push(" WHERE 1 = 1");
    if active {
        s.push(" AND h.released_at IS NULL");
    }
    accounts::push_scope(&mut s, caller);
    s.push(" ORDER BY h.id DESC LIMIT 500");
    s.query().fetch_all(&db.pool).await?.iter().map(|r| Ok(view(r)?.for_caller(caller))).collect()
}

/// A hold as given: why.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldIn {
    /// Why the order is held (required).
    #[serde(default)]
    #[schema(value_type = String)]
    pub reason: Option<String>,
}

/// A release as given: why, over the hold's version.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseIn {
    /// Why the hold ends (required).
    #[serde(default)]
    #[schema(value_type = String)]
    pub reason: Option<String>,
    /// The hold's version the caller saw.
    pub version: i64,
}

/// Whether the caller may release holds: finance and the administrator.
pub fn may_release(caller: &Caller) -> bool {
    caller.role == Role::FinanceManager || caller.role.is_admin()
}

/// Whether the caller may hold the order of `owner`: finance, the administrator, or a manager
/// above the owner.
pub async fn may_place(conn: &mut sqlx::AnyConnection, caller: &Caller, owner: i64) -> Result<bool> {
    Ok(may_release(caller)
        || (owner != caller.user_id && crate::app::people::team::manages_person(conn, caller, owner).await?))
}

/// Whether the caller may hold this order (it in scope).
pub async fn may_place_order(db: &Db, caller: &Caller, order_id: i64) -> Result<bool> {
    let mut conn = db.pool.acquire().await?;
    let (_, owner, _) = order_account(&mut conn, caller, order_id).await?;
    may_place(&mut conn, caller, owner).await
}

fn reason_of(v: Option<&str>) -> Result<String> {
    text::optional(v, 1000)
        .map_err(|c| Error::invalid("reason", c))?
        .ok_or_else(|| Error::invalid("reason", "required"))
}

/// A hold by id, as the caller may see it (its account in scope; 404 otherwise).
pub async fn get_in(conn: &mut sqlx::AnyConnection, caller: &Caller, hold_id: i64) -> Result<HoldView> {
    let mut s = Sql::new(SELECT);
    s.push(" WHERE h.id = ").bind(hold_id);
    let v = view(&s.query().fetch_optional(&mut *conn).await?.ok_or(Error::NotFound)?)?;
    accounts::ensure_visible_in(conn, caller, v.account_id).await?;
    Ok(v.for_caller(caller))
}

/// Whether an active credit hold covers the order (the order's page and API say so to everyone).
pub async fn held_for_credit(conn: &mut sqlx::AnyConnection, order_id: i64) -> Result<bool> {
    Ok(sqlx::query("SELECT id FROM order_holds WHERE order_id = $1 AND kind = 'credit' AND released_at IS NULL")
        .bind(order_id)
        .fetch_optional(conn)
        .await?
        .is_some())
}

/// Holds one order with a reason.
pub async fn place(db: &Db, ctx: &Ctx, order_id: i64, inp: &HoldIn) -> Result<HoldView> {
    let caller = &ctx.caller;
    let reason = reason_of(inp.reason.as_deref())?;
    let mut tx = db.begin().await?;
    let (account, owner, state) = order_account(tx.conn(), caller, order_id).await?;
    if !may_place(tx.conn(), caller, owner).await? {
        return Err(Error::Forbidden);
    }
    let lock = tx.lock_clause(RowLock::Update);
    sqlx::query(&format!("SELECT id FROM orders WHERE id = $1{lock}")).bind(order_id).fetch_one(tx.conn()).await?;
    if state == "cancelled" {
        return Err(Error::Conflict("order_cancelled"));
    }
    let already: Option<i64> =
        sqlx::query("SELECT id FROM order_holds WHERE order_id = $1 AND released_at IS NULL AND kind = 'general'")
            .bind(order_id)
            .fetch_optional(tx.conn())
            .await?
            .map(|r| r.try_get("id"))
            .transpose()?;
    if already.is_some() {
        return Err(Error::Conflict("order_held"));
    }
    let id: i64 = sqlx::query(
        "INSERT INTO order_holds (account_id, order_id, kind, reason, placed_by, placed_at) \
         VALUES ($1, $2, 'general', $3, $4, $5) RETURNING id",
    )
    .bind(account)
    .bind(order_id)
    .bind(reason.as_str())
    .bind(caller.username.as_str())
    .bind(now())
    .fetch_one(tx.conn())
    .await?
    .try_get("id")?;
    audit::record(
        &mut tx,
        ctx,
        "order",
        &order_id.to_string(),
        "hold",
        None,
        Some(&json!({"hold_id": id, "kind": "general", "reason": reason})),
    )
    .await?;
    let mut s = Sql::new(SELECT);
    s.push(" WHERE h.id = ").bind(id);
    let v = view(&s.query().fetch_one(tx.conn()).await?)?.for_caller(caller);
    tx.commit().await?;
    Ok(v)
}

/// Releases a hold (finance), with a reason.
pub async fn release(db: &Db, ctx: &Ctx, hold_id: i64, inp: &ReleaseIn) -> Result<HoldView> {
    let caller = &ctx.caller;
    let reason = reason_of(inp.reason.as_deref())?;
    let mut tx = db.begin().await?;
    let lock = tx.lock_clause(RowLock::Update);
    let r = sqlx::query(&format!("SELECT account_id, kind, version, released_at FROM order_holds WHERE id = $1{lock}"))
        .bind(hold_id)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(Error::NotFound)?;
    accounts::ensure_visible_in(tx.conn(), caller, r.try_get("account_id")?).await?;
    if !may_release(caller) {
        return Err(Error::Forbidden);
    }
    let version: i64 = r.try_get("version")?;
    if r.try_get::<Option<String>, _>("released_at")?.is_some() {
        return Err(Error::Conflict("hold_released"));
    }
    // A credit hold ends by a credit decision (release or reject), which also moves the order on.
    if r.try_get::<HoldKind, _>("kind")? == HoldKind::Credit {
        return Err(Error::Conflict("credit_decision_needed"));
    }
    if version != inp.version {
        return Err(Error::StaleVersion { current: version });
    }
    sqlx::query(
        "UPDATE order_holds SET released_by = $1, released_at = $2, release_reason = $3, version = version + 1 \
         WHERE id = $4",
    )
    .bind(caller.username.as_str())
    .bind(now())
    .bind(reason.as_str())
    .bind(hold_id)
    .execute(tx.conn())
    .await?;
    let mut s = Sql::new(SELECT);
    s.push(" WHERE h.id = ").bind(hold_id);
    let v = view(&s.query().fetch_one(tx.conn()).await?)?.for_caller(caller);
    let entity = match v.order_id {
        Some(o) => ("order", o.to_string()),
        None => ("account", v.account_id.to_string()),
    };
    audit::record(
        &mut tx,
        ctx,
        entity.0,
        &entity.1,
        "release_hold",
        Some(&json!({"hold_id": hold_id, "kind": v.kind, "reason": v.reason})),
        Some(&json!({"hold_id": hold_id, "release_reason": reason})),
    )
    .await?;
    tx.commit().await?;
    Ok(v)
}

/// At most this many receivables a pass looks at; the rest wait for the next pass.
const PASS_LIMIT: i64 = 500;

fn iso(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// The dunning pass at `now` (the company's day in Asia/Shanghai): tells each receivable's
/// people of the level it reached since the last pass and holds the account's orders at the
/// holding level. Gives the number of receivables whose level rose.
pub async fn dun_pass(db: &Db, now_at: DateTime<Utc>) -> Result<usize> {
    let today = crate::domain::activity::local_day(now_at, chrono_tz::Asia::Shanghai);
    let pol = policy::load(db).await?;
    let levels = pol.dun_levels();
    let mut ids: Vec<i64> = vec![];
    // By days: a receivable told of j levels whose days reach level j.
    for (j, l) in levels.iter().enumerate() {
        let cutoff = iso(today - chrono::Duration::days(l.days));
        let rows = sqlx::query(
            "SELECT id FROM receivables WHERE state = 'open' AND dun_notified = $1 AND due_on <= $2 ORDER BY due_on, id LIMIT $3",
        )
        .bind(j as i64)
        .bind(cutoff)
        .bind(PASS_LIMIT)
        .fetch_all(&db.pool)
        .await?;
        for r in rows {
            ids.push(r.try_get("id")?);
        }
    }
    // By promises: those whose promised day has passed, judged once.
    let promised = sqlx::query(
        "SELECT c.id, c.receivable_id FROM collection_contacts c JOIN receivables r ON r.id = c.receivable_id \
         WHERE c.judged = 0 AND c.promised_on IS NOT NULL AND c.promised_on < $1 AND r.state = 'open' \
         ORDER BY c.promised_on, c.id LIMIT $2",
    )
    .bind(iso(today))
    .bind(PASS_LIMIT)
    .fetch_all(&db.pool)
    .await?;
    let mut judged = vec![];
    for r in promised {
        judged.push(r.try_get::<i64, _>("id")?);
        ids.push(r.try_get("receivable_id")?);
    }
    ids.sort_unstable();
    ids.dedup();
    let mut raised = 0;
    let system = Ctx::system();
    for id in ids.into_iter().take(PASS_LIMIT as usize) {
        if one(db, &system, id, today, &levels).await? {
            raised += 1;
        }
    }
    if !judged.is_empty() {
        let list = judged.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
        sqlx::query(&format!("UPDATE collection_contacts SET judged = 1 WHERE id IN ({list})"))
            .execute(&db.pool)
            .await?;
    }
    Ok(raised)
}

/// One receivable of the pass, in its own transaction: whether its level rose.
async fn one(db: &Db, ctx: &Ctx, id: i64, today: NaiveDate, levels: &[rc::DunLevel]) -> Result<bool> {
    let mut tx = db.begin().await?;
    let lock = tx.lock_clause(RowLock::Update);
    let r = sqlx::query(&format!(
        "SELECT r.account_id, r.owner_id, r.due_on, r.state, r.dun_notified, r.amount, r.paid, r.written_off, \
         a.name AS account_name, o.number AS order_number FROM receivables r JOIN accounts a ON a.id = r.account_id \
         JOIN orders o ON o.id = r.order_id WHERE r.id = $1{lock}"
    ))
    .bind(id)
    .fetch_one(tx.conn())
    .await?;
    if r.try_get::<String, _>("state")? != "open" {
        return Ok(false);
    }
    let Some(due) = r.try_get::<Option<String>, _>("due_on")? else { return Ok(false) };
    let due = NaiveDate::parse_from_str(&due, "%Y-%m-%d").map_err(anyhow::Error::from)?;
    let days = rc::days_overdue(due, today);
    let contacts = collection::contacts_of(tx.conn(), &[id], today).await?;
    let broken = contacts.iter().filter(|c| c.kept == Some(false)).count() as i64;
    let Some(level) = rc::level_of(days, broken, levels) else { return Ok(false) };
    let told: i64 = r.try_get("dun_notified")?;
    if (level as i64) < told {
        return Ok(false);
    }
    sqlx::query("UPDATE receivables SET dun_notified = $1 WHERE id = $2")
        .bind(level as i64 + 1)
        .bind(id)
        .execute(tx.conn())
        .await?;
    let (account, owner): (i64, i64) = (r.try_get("account_id")?, r.try_get("owner_id")?);
    let action = levels[level].action;
    let manager: Option<i64> = sqlx::query("SELECT manager_id FROM users WHERE id = $1")
        .bind(owner)
        .fetch_optional(tx.conn())
        .await?
        .map(|r| r.try_get("manager_id"))
        .transpose()?
        .flatten();
    let finance: Vec<i64> = sqlx::query("SELECT id FROM users WHERE role = $1 AND active = 1")
        .bind(Role::FinanceManager.code())
        .fetch_all(tx.conn())
        .await?
        .iter()
        .map(|r| r.try_get("id"))
        .collect::<std::result::Result<_, _>>()?;
    let mut to = vec![owner];
    if matches!(action, DunAction::ManagerCalls | DunAction::Hold) {
        to.extend(manager);
    }
    if matches!(action, DunAction::FinanceLetter | DunAction::Hold) {
        to.extend(finance);
    }
    let (amount, paid, off): (i64, i64, i64) = (r.try_get("amount")?, r.try_get("paid")?, r.try_get("written_off")?);
    let owed = format_fen(amount - paid - off);
    let (name, number): (String, String) = (r.try_get("account_name")?, r.try_get("order_number")?);
    let mut held = false;
    if action == DunAction::Hold {
        let existing: Option<i64> = sqlx::query(
            "SELECT id FROM order_holds WHERE account_id = $1 AND order_id IS NULL AND kind = 'dunning' AND released_at IS NULL",
        )
        .bind(account)
        .fetch_optional(tx.conn())
        .await?
        .map(|r| r.try_get("id"))
        .transpose()?;
        if existing.is_none() {
            let reason = format!("{number} · {owed} · {days}");
            let hold: i64 = sqlx::query(
                "INSERT INTO order_holds (account_id, order_id, kind, reason, receivable_id, placed_by, placed_at) \
                 VALUES ($1, NULL, 'dunning', $2, $3, 'system', $4) RETURNING id",
            )
            .bind(account)
            .bind(reason)
            .bind(id)
            .bind(now())
            .fetch_one(tx.conn())
            .await?
            .try_get("id")?;
            audit::record(
                &mut tx,
                ctx,
                "account",
                &account.to_string(),
                "hold",
                None,
                Some(&json!({"hold_id": hold, "kind": "dunning", "receivable_id": id, "days_overdue": days})),
            )
            .await?;
            held = true;
        }
        // The holding level (90 days past due by default) is a credit trigger (issue 22); the
        // note names the order and the days, never a grade or limit.
        crate::app::credit::triggers::record(
            &mut tx,
            ctx,
            account,
            crate::domain::credit_change::CreditTriggerKind::Dunning90,
            None,
            &format!("{number} · {days}"),
            crate::app::clock::now(),
        )
        .await?;
    }
    audit::record(
        &mut tx,
        ctx,
        "receivable",
        &id.to_string(),
        "dunning_level",
        Some(&json!({"told": told})),
        Some(&json!({"level": action.code(), "days_overdue": days, "broken_promises": broken})),
    )
    .await?;
    let code = action.code();
    notify::send(&mut tx, &to, "dunning", None, |loc| {
        (
            rust_i18n::t!("notify.dunning.title", locale = loc, account = name, action = level_name(code, loc))
                .into_owned(),
            rust_i18n::t!(
                if held { "notify.dunning.body_held" } else { "notify.dunning.body" },
                locale = loc,
                order = number,
                owed = owed,
                days = days
            )
            .into_owned(),
        )
    })
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// A level's action in the reader's language.
pub fn level_name(code: &str, loc: &str) -> String {
    let key = format!("dun_level.{code}");
    rust_i18n::t!(&key, locale = loc).into_owned()
}
