//! Spending against a budget line (issue 25 item 3; seed 000 F-: control of spending inside and
//! outside the budget).
//!
//! A spending record names its cost centre, category, day, amount and what it was for (an
//! account optionally). The line is the cost centre's approved budget of that day's year, in
//! that category: a budget not approved (or none) or a year closed is refused, naming the field
//! (422, nothing saved). Inside what the line has left it waits for the KA director's signature
//! (`submitted` → `signed`); outside the budget (no such line) or beyond what is left it asks
//! the `budget_exception` flow — the finance manager, then the sales department manager — and
//! counts as spent only once approved. Committed: submitted and in approval; spent: signed and
//! approved.
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

use super::budgets::{self as bg, categories_of, cost_centre_in, placing};
use crate::app::approvals::{self, Closed, HookFuture, OutcomeHook, ScopeFuture, SubjectScope};
use crate::app::customers::accounts;
use crate::app::records::audit;
use crate::app::{Caller, Ctx, Error, Result};
use crate::db::sql::Sql;
use crate::db::{ts, Db, RowLock, WriteTx};
use crate::domain::approval::{Flow, State as ApprovalState};
use crate::domain::error::Errors;
use crate::domain::money::{format_fen, parse_fen};
use crate::domain::role::Role;
use crate::domain::text;

/// The approval subject's kind.
pub const KIND: &str = "spending";
pub const STATES: &[&str] = &["submitted", "signed", "in_approval", "approved", "rejected", "returned", "cancelled"];

/// A spending record as given.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SpendingIn {
    /// The cost centre (an org unit's id).
    #[serde(default)]
    pub cost_centre_id: Option<i64>,
    /// One of the company's categories.
    #[serde(default)]
    #[schema(value_type = String)]
    pub category: Option<String>,
    /// The day it was spent (not in the future; today when absent); its year picks the budget.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub spent_on: Option<String>,
    /// Yuan, a decimal string above 0.
    #[serde(default)]
    #[schema(value_type = String, pattern = r"^\d{1,15}(\.\d{1,2})?$")]
    pub amount: Option<String>,
    /// What it was for (1–500 characters).
    #[serde(default)]
    #[schema(value_type = String)]
    pub purpose: Option<String>,
    /// The account it was spent on, if any (one the caller sees).
    #[serde(default)]
    pub account_id: Option<i64>,
}

/// A spending record.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SpendingView {
    pub id: i64,
    pub budget_id: i64,
    pub cost_centre_id: i64,
    pub cost_centre_name: String,
    pub category: String,
    pub category_name: String,
    #[schema(format = Date)]
    pub spent_on: String,
    #[schema(value_type = crate::web::api::contract::Money)]
    pub amount: String,
    pub purpose: String,
    pub account_id: Option<i64>,
    pub account_name: Option<String>,
    /// `submitted` (to be signed), `signed`, `in_approval` (an out-of-budget request),
    /// `approved`, `rejected`, `returned`, `cancelled`.
    pub state: String,
    /// Inside the line's remainder when recorded (else a `budget_exception`).
    pub in_budget: bool,
    pub approval_id: Option<i64>,
    pub recorded_by_name: String,
    pub signed_by_name: Option<String>,
    #[schema(format = DateTime)]
    pub signed_at: Option<String>,
    pub version: i64,
    /// The caller may sign it now (the KA director; not their own).
    pub may_sign: bool,
    /// Returned or rejected, and the caller recorded it: they may record it again, revised (the
    /// form starts from this one; this one stays as decided).
    pub may_record_again: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// What narrows the list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub cost_centre_id: Option<i64>,
    pub year: Option<i64>,
    pub state: Option<String>,
}

/// Who records spending: those who see budgets and work for the company's sales.
fn may_record(caller: &Caller) -> bool {
    bg::may_see(caller) && caller.role != Role::FinanceManager
}

const SELECT: &str = "SELECT s.*, o.name AS cost_centre_name, o.path AS cc_path, a.name AS account_name, \
     r.display_name AS recorded_by_name, g.display_name AS signed_by_name FROM spending s \
     JOIN org_units o ON o.id = s.org_unit_id JOIN users r ON r.id = s.recorded_by \
     LEFT JOIN users g ON g.id = s.signed_by LEFT JOIN accounts a ON a.id = s.account_id";

fn view(r: &sqlx::any::AnyRow, caller: &Caller, cats: &[bg::BudgetCategory]) -> Result<SpendingView> {
    let category: String = r.try_get("category")?;
    let state: String = r.try_get("state")?;
    let recorded_by: i64 = r.try_get("recorded_by")?;
    Ok(SpendingView {
        id: r.try_get("id")?,
        budget_id: r.try_get("budget_id")?,
        cost_centre_id: r.try_get("org_unit_id")?,
        cost_centre_name: r.try_get("cost_centre_name")?,
        category_name: cats.iter().find(|c| c.code == category).map(|c| c.name.clone()).unwrap_or(category.clone()),
        category,
        spent_on: r.try_get("spent_on")?,
        amount: format_fen(r.try_get("amount")?),
        purpose: r.try_get("purpose")?,
        account_id: r.try_get("account_id")?,
        account_name: r.try_get("account_name")?,
        may_sign: state == "submitted" && caller.role == Role::KaDirector && recorded_by != caller.user_id,
        may_record_again: matches!(state.as_str(), "returned" | "rejected") && recorded_by == caller.user_id,
        state,
        in_budget: r.try_get::<i64, _>("in_budget")? == 1,
        approval_id: r.try_get("approval_id")?,
        recorded_by_name: r.try_get("recorded_by_name")?,
        signed_by_name: r.try_get("signed_by_name")?,
        signed_at: r.try_get("signed_at")?,
        version: r.try_get("version")?,
        created_at: r.try_get("created_at")?,
    })
}

async fn load_in(conn: &mut sqlx::AnyConnection, caller: &Caller, id: i64) -> Result<SpendingView> {
    let r = sqlx::query(&format!("{SELECT} WHERE s.id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(Error::NotFound)?;
    cost_centre_in(conn, caller, r.try_get("org_unit_id")?).await?;
    let cats = categories_of(conn).await?.categories;
    view(&r, caller, &cats)
}

pub async fn get(db: &Db, caller: &Caller, id: i64) -> Result<SpendingView> {
    let mut conn = db.pool.acquire().await?;
    load_in(&mut conn, caller, id).await
}

/// The spending the caller sees (their cost centres), latest first (at most 500).
pub async fn list(db: &Db, caller: &Caller, f: &Filter) -> Result<Vec<SpendingView>> {
    if f.year.is_some_and(|y| !(2000..=2100).contains(&y)) {
        return Err(Error::invalid("year", "year_range"));
    }
    let mut conn = db.pool.acquire().await?;
    let ccs = bg::cost_centres_of(&mut conn, caller).await?;
    let cats = categories_of(&mut conn).await?.categories;
    let mut s = Sql::new(SELECT);
    s.push(" WHERE 1 = 1");
    if let Some(c) = f.cost_centre_id {
        s.push(" AND s.org_unit_id = ").bind(c);
    }
    if let Some(y) = f.year {
        s.push(" AND s.spent_on >= ")
            .bind(format!("{y:04}-01-01"))
            .push(" AND s.spent_on <= ")
            .bind(format!("{y:04}-12-31"));
    }
    if let Some(st) = f.state.as_deref().filter(|s| !s.is_empty()) {
        if !STATES.contains(&st) {
            return Err(Error::invalid("state", "invalid_choice"));
        }
        s.push(" AND s.state = ").bind(st.to_string());
    }
    s.push(" ORDER BY s.spent_on DESC, s.id DESC LIMIT 500");
    let rows = s.query().fetch_all(&mut *conn).await?;
    let mut out = vec![];
    for r in rows {
        let cc: i64 = r.try_get("org_unit_id")?;
        if ccs.iter().any(|c| c.id == cc) {
            out.push(view(&r, caller, &cats)?);
        }
    }
    Ok(out)
}

/// Records spending: inside the line's remainder it waits for the KA director's signature;
/// outside the budget or beyond the line it starts a `budget_exception` request.
pub async fn create(db: &Db, ctx: &Ctx, inp: &SpendingIn) -> Result<SpendingView> {
    let caller = &ctx.caller;
    let now = crate::app::clock::now();
    let mut tx = db.begin().await?;
    if !may_record(caller) {
        return Err(Error::Forbidden);
    }
    let cats = categories_of(tx.conn()).await?.categories;
    let mut e = Errors::default();
    let cc = match inp.cost_centre_id {
        None => {
            e.add("cost_centre_id", "required");
            None
        }
        Some(id) => match cost_centre_in(tx.conn(), caller, id).await {
            Ok(c) => Some(c),
            Err(Error::NotFound) => {
                e.add("cost_centre_id", "unknown_cost_centre");
                None
            }
            Err(x) => return Err(x),
        },
    };
    let category = match inp.category.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        None => {
            e.add("category", "required");
            None
        }
        Some(c) if cats.iter().any(|x| x.code == c) => Some(c.to_string()),
        Some(_) => {
            e.add("category", "invalid_choice");
            None
        }
    };
    let today = caller.day();
    let spent_on = match inp.spent_on.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        None => Some(today),
        Some(d) => match NaiveDate::parse_from_str(d, "%Y-%m-%d") {
            Ok(d) if d > today => {
                e.add("spent_on", "date_in_future");
                None
            }
            Ok(d) => Some(d),
            Err(_) => {
                e.add("spent_on", "date_format");
                None
            }
        },
    };
    let amount = match inp.amount.as_deref() {
        None => {
            e.add("amount", "required");
            None
        }
        Some(a) => match parse_fen(a) {
            Ok(0) => {
                e.add("amount", "must_be_positive");
                None
            }
            Ok(n) => Some(n),
            Err(c) => {
                e.add("amount", c);
                None
            }
        },
    };
    let purpose = e.take("purpose", text::required(inp.purpose.as_deref(), 500));
    if let Some(a) = inp.account_id {
        match accounts::ensure_visible_in(tx.conn(), caller, a).await {
            Ok(()) => {}
            Err(Error::NotFound) => e.add("account_id", "unknown_account"),
            Err(x) => return Err(x),
        }
    }
    e.finish()?;
    let (Some(cc), Some(category), Some(spent_on), Some(amount), Some(purpose)) =
        (cc, category, spent_on, amount, purpose)
    else {
        return Err(Error::invalid("body", "required"));
    };
    let year = chrono::Datelike::year(&spent_on) as i64;
    // The line: the cost centre's budget of the year, approved and not closed.
    let lock = tx.lock_clause(RowLock::Update);
    let b = sqlx::query(&format!("SELECT id, state FROM budgets WHERE org_unit_id = $1 AND year = $2{lock}"))
        .bind(cc.id)
        .bind(year)
        .fetch_optional(tx.conn())
        .await?;
    let budget_id = match b {
        None => return Err(Error::invalid("cost_centre_id", "budget_not_approved")),
        Some(b) => {
            let state: String = b.try_get("state")?;
            match state.as_str() {
                "approved" => b.try_get::<i64, _>("id")?,
                "closed" => return Err(Error::invalid("spent_on", "budget_year_closed")),
                _ => return Err(Error::invalid("cost_centre_id", "budget_not_approved")),
            }
        }
    };
    let line: i64 = bg::lines_of(tx.conn(), budget_id).await?.iter().filter(|l| l.0 == category).map(|l| l.2).sum();
    let (committed, spent) = bg::used_of(tx.conn(), budget_id).await?.get(&category).copied().unwrap_or_default();
    let left = line - committed - spent;
    let in_budget = line > 0 && amount <= left;
    let at = ts(now);
    let id: i64 = sqlx::query(
        "INSERT INTO spending (budget_id, org_unit_id, category, spent_on, amount, purpose, account_id, state, in_budget, \
         recorded_by, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $11) RETURNING id",
    )
    .bind(budget_id)
    .bind(cc.id)
    .bind(category.clone())
    .bind(spent_on.to_string())
    .bind(amount)
    .bind(purpose.clone())
    .bind(inp.account_id)
    .bind(if in_budget { "submitted" } else { "in_approval" })
    .bind(in_budget as i64)
    .bind(caller.user_id)
    .bind(at.clone())
    .fetch_one(tx.conn())
    .await?
    .try_get("id")?;
    let mut approval_id = None;
    if !in_budget {
        let (region_id, branch_id) = placing(&cc);
        let subject = approvals::Subject {
            kind: KIND,
            id,
            label: format!("{} · {} · ¥{}", cc.name, purpose.chars().take(30).collect::<String>(), format_fen(amount)),
            region_id,
            branch_id,
            owner_id: Some(caller.user_id),
            figure: None,
            class: None,
        };
        let payload = json!({"amount": format_fen(amount), "category": category, "line": format_fen(line), "left": format_fen(left)});
        let aid =
            approvals::start(&mut tx, ctx, Flow::BudgetException, &subject, &json!({"amount": amount}), &payload, now)
                .await?;
        sqlx::query("UPDATE spending SET approval_id = $1 WHERE id = $2").bind(aid).bind(id).execute(tx.conn()).await?;
        approval_id = Some(aid);
    }
    audit::record(
        &mut tx,
        ctx,
        KIND,
        &id.to_string(),
        "create",
        None,
        Some(&json!({"cost_centre_id": cc.id, "category": category, "spent_on": spent_on.to_string(),
            "amount": format_fen(amount), "purpose": purpose, "in_budget": in_budget, "approval_id": approval_id})),
    )
    .await?;
    let v = load_in(tx.conn(), caller, id).await?;
    tx.commit().await?;
    Ok(v)
}

/// The KA director signs spending inside the budget: submitted → signed (never their own).
pub async fn sign(db: &Db, ctx: &Ctx, id: i64, version: i64) -> Result<SpendingView> {
    let caller = &ctx.caller;
    let mut tx = db.begin().await?;
    let lock = tx.lock_clause(RowLock::Update);
    sqlx::query(&format!("SELECT id FROM spending WHERE id = $1{lock}")).bind(id).fetch_optional(tx.conn()).await?;
    let v = load_in(tx.conn(), caller, id).await?;
    if v.version != version {
        return Err(Error::StaleVersion { current: v.version });
    }
    if v.state != "submitted" {
        return Err(Error::Conflict("spending_not_submitted"));
    }
    if !v.may_sign {
        return Err(Error::Forbidden);
    }
    let at = ts(crate::app::clock::now());
    sqlx::query(
        "UPDATE spending SET state = 'signed', signed_by = $1, signed_at = $2, version = version + 1, updated_at = $2 WHERE id = $3",
    )
    .bind(caller.user_id)
    .bind(at)
    .bind(id)
    .execute(tx.conn())
    .await?;
    audit::record(
        &mut tx,
        ctx,
        KIND,
        &id.to_string(),
        "sign",
        Some(&json!({"state": "submitted"})),
        Some(&json!({"state": "signed"})),
    )
    .await?;
    let out = load_in(tx.conn(), caller, id).await?;
    tx.commit().await?;
    Ok(out)
}

/// The spending a `budget_exception` request is about (404 when the caller does not see it).
pub async fn for_approval(db: &Db, caller: &Caller, approval_id: i64) -> Result<(SpendingView, bg::BudgetView)> {
    let mut conn = db.pool.acquire().await?;
    let id = approvals::subject_of(&mut conn, approval_id, KIND).await?;
    let s = load_in(&mut conn, caller, id).await?;
    let b = bg::load_in(&mut conn, caller, s.budget_id).await?;
    Ok((s, b))
}

/// The exception closed: approved → approved (spent); rejected, returned, cancelled as such
/// (none of them counts).
fn on_closed<'a>(tx: &'a mut WriteTx, ctx: &'a Ctx, c: Closed<'a>) -> HookFuture<'a> {
    Box::pin(async move {
        let state = match c.state {
            ApprovalState::Approved => "approved",
            ApprovalState::Rejected => "rejected",
            ApprovalState::Returned => "returned",
            _ => "cancelled",
        };
        let n = sqlx::query(
            "UPDATE spending SET state = $1, version = version + 1, updated_at = $2 \
             WHERE id = $3 AND approval_id = $4 AND state = 'in_approval'",
        )
        .bind(state)
        .bind(ts(crate::app::clock::now()))
        .bind(c.subject_id)
        .bind(c.approval_id)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if n == 1 {
            audit::record(
                tx,
                ctx,
                KIND,
                &c.subject_id.to_string(),
                "exception_closed",
                Some(&json!({"state": "in_approval"})),
                Some(&json!({"state": state, "approval_id": c.approval_id, "reason": c.reason})),
            )
            .await?;
        }
        Ok(())
    })
}

inventory::submit! { OutcomeHook { flow: Flow::BudgetException, run: on_closed } }

fn sees_spending<'a>(conn: &'a mut sqlx::AnyConnection, caller: &'a Caller, id: i64) -> ScopeFuture<'a> {
    Box::pin(async move { approvals::seen(load_in(conn, caller, id).await) })
}

inventory::submit! { SubjectScope { kind: KIND, sees: sees_spending } }
