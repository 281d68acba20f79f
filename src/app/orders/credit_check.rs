//! Exposure and the credit check on orders (信用冻结; DOMAIN.md §12.5, issue 22).
//!
//! **Exposure** is what the account owes and will owe on what it has ordered: the orders signed
//! and not cancelled, each less what was invoiced and paid on it. Every signed order's terms are
//! its receivables (§12.1), so exposure is one sum over the account's receivables not yet paid
//! or written off — those `scheduled` (the part not yet invoiced or due) and those `open` (what
//! is invoiced or due and unpaid) — each counted once, from one covering index. Orders still
//! in draft or pending sign-off are not yet exposure; the one being checked is added.
//!
//! **The check** runs when an order is submitted for sign-off, when its sign-off is approved,
//! and when an outbound of it is prepared or shipped. An order of an account graded red or black
//! is held whatever its amount; an account with a credit limit holds the order when the exposure
//! with it goes above the limit (equal passes). Accounts with no limit and a green, yellow or no
//! grade pass. A held order gets an active hold of kind `credit` with the figures the check saw
//! (shown only to those who may see credit), and the finance managers and KA directors are told
//! it waits for their decision; the order's owner is told it is held and what helps. A release
//! (`credit_decisions`) covers later checks of the same order while the exposure stays at most
//! what the decider saw and the grade has not turned red or black since.
use serde_json::json;
use sqlx::Row;

use crate::app::records::{audit, notify};
use crate::app::{Ctx, Result};
use crate::db::{now, WriteTx};
use crate::domain::money::format_fen;
use crate::domain::receivable::{credit_cause, release_covers, CreditCause, CreditFigures, CreditStage};
use crate::domain::role::Role;

/// The reason a credit hold carries for everyone (its figures stay on the hold, for those who
/// may see credit).
pub const CREDIT_REASON: &str =
    "信用冻结：等待财务经理或大客户总监的信用决定 / held for credit: waiting for a credit decision";

/// What the check finds for one order: why it would hold it (None: it passes) and the figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub account_id: i64,
    pub cause: Option<CreditCause>,
    pub figures: CreditFigures,
}

/// An account's exposure in fen, leaving out the order `except` (if any): what its receivables
/// not yet paid or written off still owe.
pub async fn exposure(conn: &mut sqlx::AnyConnection, account_id: i64, except: Option<i64>) -> Result<i64> {
    Ok(sqlx::query(
        "SELECT CAST(COALESCE(SUM(amount - paid - written_off), 0) AS BIGINT) AS owed FROM receivables \
         WHERE account_id = $1 AND state IN ('scheduled', 'open') AND order_id <> $2",
    )
    .bind(account_id)
    .bind(except.unwrap_or(0))
    .fetch_one(conn)
    .await?
    .try_get("owed")?)
}

/// The credit check of an order at `stage`, read only (one statement): at submission the
/// latest version's total counts, at sign-off and delivery the total in force; less what was
/// paid or written off on the order, added to what the account's other orders owe.
pub async fn evaluate(conn: &mut sqlx::AnyConnection, order_id: i64, stage: CreditStage) -> Result<Verdict> {
    let r = sqlx::query(
        "SELECT o.account_id, o.total, o.signed_total, a.credit_limit, a.credit_grade, \
         (SELECT CAST(COALESCE(SUM(r.amount - r.paid - r.written_off), 0) AS BIGINT) FROM receivables r \
          WHERE r.account_id = o.account_id AND r.state IN ('scheduled', 'open') AND r.order_id <> o.id) AS others, \
         (SELECT CAST(COALESCE(SUM(r.paid + r.written_off), 0) AS BIGINT) FROM receivables r \
          WHERE r.order_id = o.id) AS settled \
         FROM orders o JOIN accounts a ON a.id = o.account_id WHERE o.id = $1",
    )
    .bind(order_id)
    .fetch_one(&mut *conn)
    .await?;
    let total: i64 = match stage {
        CreditStage::Submit => r.try_get("total")?,
        CreditStage::Signoff | CreditStage::Delivery => {
            r.try_get::<Option<i64>, _>("signed_total")?.unwrap_or(r.try_get("total")?)
        }
    };
    let (others, settled): (i64, i64) = (r.try_get("others")?, r.try_get("settled")?);
    let order_amount = (total - settled).max(0);
    let exposure = others + order_amount;
    let limit: Option<i64> = r.try_get("credit_limit")?;
    let grade: Option<String> = r.try_get("credit_grade")?;
    let cause = credit_cause(limit, grade.as_deref(), exposure);
    Ok(Verdict {
        account_id: r.try_get("account_id")?,
        cause,
        figures: CreditFigures {
            cause: cause.unwrap_or(CreditCause::OverLimit),
            grade,
            limit,
            others,
            order_amount,
            exposure,
        },
    })
}

/// The active credit hold of an order, if any.
pub async fn active_hold(conn: &mut sqlx::AnyConnection, order_id: i64) -> Result<Option<i64>> {
    sqlx::query("SELECT id FROM order_holds WHERE order_id = $1 AND kind = 'credit' AND released_at IS NULL")
        .bind(order_id)
        .fetch_optional(conn)
        .await?
        .map(|r| r.try_get("id").map_err(Into::into))
        .transpose()
}

/// The credit check of an order at `stage` in the caller's transaction (the order's row locked
/// by the caller). When it fails and no earlier release covers it, the order gets an active
/// credit hold (one at a time), audited, and the deciders and the owner are told. Gives the
/// active credit hold's id when the order is held for credit (now or already), None when it
/// passes.
pub async fn check(tx: &mut WriteTx, ctx: &Ctx, order_id: i64, stage: CreditStage) -> Result<Option<i64>> {
    if let Some(id) = active_hold(tx.conn(), order_id).await? {
        return Ok(Some(id));
    }
    let v = evaluate(tx.conn(), order_id, stage).await?;
    let Some(cause) = v.cause else { return Ok(None) };
    let released: Option<String> = sqlx::query(
        "SELECT credit_figures FROM order_holds WHERE order_id = $1 AND kind = 'credit' AND decision = 'released' \
         ORDER BY id DESC LIMIT 1",
    )
    .bind(order_id)
    .fetch_optional(tx.conn())
    .await?
    .map(|r| r.try_get("credit_figures"))
    .transpose()?
    .flatten();
    if let Some(f) = released.and_then(|j| serde_json::from_str::<CreditFigures>(&j).ok()) {
        if release_covers(f.exposure, f.cause, v.figures.exposure, cause) {
            return Ok(None);
        }
    }
    let figures = serde_json::to_string(&v.figures).map_err(anyhow::Error::from)?;
    let id: i64 = sqlx::query(
        "INSERT INTO order_holds (account_id, order_id, kind, reason, placed_by, placed_at, credit_stage, credit_figures) \
         VALUES ($1, $2, 'credit', $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(v.account_id)
    .bind(order_id)
    .bind(CREDIT_REASON)
    .bind(ctx.caller.username.as_str())
    .bind(now())
    .bind(stage.code())
    .bind(figures)
    .fetch_one(tx.conn())
    .await?
    .try_get("id")?;
    // The figures sit under `credit_figures` (audit::CREDIT_FIELDS): history hides them from
    // those who may not see credit.
    audit::record(
        tx,
        ctx,
        "order",
        &order_id.to_string(),
        "credit_hold",
        None,
        Some(&json!({"hold_id": id, "kind": "credit", "credit_stage": stage.code(), "credit_figures": {
            "cause": cause.code(), "credit_grade": v.figures.grade, "credit_limit": v.figures.limit.map(format_fen),
            "exposure": format_fen(v.figures.exposure), "order_amount": format_fen(v.figures.order_amount)
        }})),
    )
    .await?;
    tell(tx, order_id, stage).await?;
    Ok(Some(id))
}

/// Tells the finance managers and KA directors that a credit hold waits for their decision, and
/// the order's owner that the order is held and what helps (no figures to anyone).
async fn tell(tx: &mut WriteTx, order_id: i64, stage: CreditStage) -> Result<()> {
    let r = sqlx::query(
        "SELECT o.number, o.owner_id, a.name FROM orders o JOIN accounts a ON a.id = o.account_id WHERE o.id = $1",
    )
    .bind(order_id)
    .fetch_one(tx.conn())
    .await?;
    let (number, owner, account): (String, i64, String) =
        (r.try_get("number")?, r.try_get("owner_id")?, r.try_get("name")?);
    let deciders: Vec<i64> = sqlx::query("SELECT id FROM users WHERE role IN ($1, $2) AND active = 1 ORDER BY id")
        .bind(Role::FinanceManager.code())
        .bind(Role::KaDirector.code())
        .fetch_all(tx.conn())
        .await?
        .iter()
        .map(|r| r.try_get("id"))
        .collect::<std::result::Result<_, _>>()?;
    let stage_key = format!("credit_hold.stage.{}", stage.code());
    notify::send(tx, &deciders, "credit_hold", None, |loc| {
        (
            rust_i18n::t!("notify.credit_hold.title", locale = loc, account = account, order = number).into_owned(),
            rust_i18n::t!(
                "notify.credit_hold.body",
                locale = loc,
                order = number,
                stage = rust_i18n::t!(&stage_key, locale = loc)
            )
            .into_owned(),
        )
    })
    .await?;
    let others: Vec<i64> = vec![owner].into_iter().filter(|o| !deciders.contains(o)).collect();
    notify::send(tx, &others, "credit_hold", None, |loc| {
        (
            rust_i18n::t!("notify.credit_hold.owner_title", locale = loc, account = account, order = number)
                .into_owned(),
            rust_i18n::t!("credit_hold.what_to_do", locale = loc).into_owned(),
        )
    })
    .await
}
