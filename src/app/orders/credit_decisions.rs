//! The credit decision on an order the credit check held (信用冻结; DOMAIN.md §12.5, issue 22):
//! the finance manager or the KA director releases it or rejects it, with a reason, over the
//! hold's version. A release lets the order go on: held at its submission, its sign-off starts
//! now, in the name of the one who submitted it (their own authority counting as it would
//! have); held at sign-off or delivery, it may be delivered. A rejection cancels the order with
//! the decider's reason. Audited on the order; the order's owner is told.
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

use crate::app::customers::accounts;
use crate::app::orders::{holds, orders};
use crate::app::records::{audit, notify};
use crate::app::{Caller, Ctx, Error, Result};
use crate::db::{now, Db, RowLock};
use crate::domain::order::OrderState;
use crate::domain::receivable::CreditDecision;
use crate::domain::role::Role;
use crate::domain::text;

/// A credit decision as given.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditDecisionIn {
    /// `release`: the order goes on; `reject`: the order is cancelled with the reason.
    pub decision: CreditDecision,
    /// Why (required).
    #[serde(default)]
    #[schema(value_type = String)]
    pub reason: Option<String>,
    /// The hold's version the caller saw.
    pub version: i64,
}

/// A credit decision made: the hold as it ended and where the order stands.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreditDecisionView {
    pub hold: holds::HoldView,
    pub order_id: i64,
    /// `pending` or `signed` once a release started its sign-off; `cancelled` after a rejection.
    pub order_state: OrderState,
}

/// Who decides on credit holds: the finance manager and the KA director.
pub fn may_decide(caller: &Caller) -> bool {
    matches!(caller.role, Role::FinanceManager | Role::KaDirector)
}

/// Releases or rejects a credit hold. Refusals: a reason missing (422 `reason`); the hold out
/// of scope (404); the caller not a decider (403); the hold not a credit hold or not active —
/// the order is not held (422 `hold`); a stale version (409).
pub async fn decide(db: &Db, ctx: &Ctx, hold_id: i64, inp: &CreditDecisionIn) -> Result<CreditDecisionView> {
    let caller = &ctx.caller;
    let reason = text::optional(inp.reason.as_deref(), 1000)
        .map_err(|c| Error::invalid("reason", c))?
        .ok_or_else(|| Error::invalid("reason", "required"))?;
    // Who submitted the order (a release held at submission starts the sign-off in their name).
    let submitter = match sqlx::query(
        "SELECT u.id FROM order_holds h JOIN users u ON u.username = h.placed_by WHERE h.id = $1 AND h.kind = 'credit'",
    )
    .bind(hold_id)
    .fetch_optional(&db.pool)
    .await?
    {
        Some(r) => crate::app::people::auth::load_caller(db, r.try_get("id")?).await?,
        None => None,
    };
    let mut tx = db.begin().await?;
    let lock = tx.lock_clause(RowLock::Update);
    let r = sqlx::query(&format!(
        "SELECT account_id, order_id, kind, version, released_at FROM order_holds WHERE id = $1{lock}"
    ))
    .bind(hold_id)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(Error::NotFound)?;
    accounts::ensure_visible_in(tx.conn(), caller, r.try_get("account_id")?).await?;
    if !may_decide(caller) {
        return Err(Error::Forbidden);
    }
    let order_id: Option<i64> = r.try_get("order_id")?;
    let (Some(order_id), holds::HoldKind::Credit) = (order_id, r.try_get::<holds::HoldKind, _>("kind")?) else {
        return Err(Error::invalid("hold", "not_credit_hold"));
    };
    if r.try_get::<Option<String>, _>("released_at")?.is_some() {
        return Err(Error::invalid("hold", "not_held"));
    }
    let version: i64 = r.try_get("version")?;
    if version != inp.version {
        return Err(Error::StaleVersion { current: version });
    }
    let decided = match inp.decision {
        CreditDecision::Release => "released",
        CreditDecision::Reject => "rejected",
    };
    sqlx::query(
        "UPDATE order_holds SET released_by = $1, released_at = $2, release_reason = $3, decision = $4, \
         version = version + 1 WHERE id = $5",
    )
    .bind(caller.username.as_str())
    .bind(now())
    .bind(reason.as_str())
    .bind(decided)
    .bind(hold_id)
    .execute(tx.conn())
    .await?;
    let order_state = match inp.decision {
        CreditDecision::Release => {
            let lock = tx.lock_clause(RowLock::Update);
            sqlx::query(&format!("SELECT id FROM orders WHERE id = $1{lock}"))
                .bind(order_id)
                .fetch_one(tx.conn())
                .await?;
            let by = Ctx { caller: submitter.unwrap_or_else(|| caller.clone()), request_id: ctx.request_id.clone() };
            orders::submit_released(&mut tx, &by, order_id).await?
        }
        CreditDecision::Reject => orders::cancel_rejected(&mut tx, ctx, order_id, &reason).await?,
    };
    audit::record(
        &mut tx,
        ctx,
        "order",
        &order_id.to_string(),
        if inp.decision == CreditDecision::Release { "credit_release" } else { "credit_reject" },
        Some(&json!({"hold_id": hold_id, "kind": "credit"})),
        Some(&json!({"hold_id": hold_id, "decision": decided, "reason": reason, "order_state": order_state})),
    )
    .await?;
    let o =
        sqlx::query("SELECT number, owner_id FROM orders WHERE id = $1").bind(order_id).fetch_one(tx.conn()).await?;
    let (number, owner): (String, i64) = (o.try_get("number")?, o.try_get("owner_id")?);
    let key = format!("notify.credit_decision.{decided}");
    notify::send(&mut tx, &[owner], "credit_hold", None, |loc| {
        (
            rust_i18n::t!(&key, locale = loc, order = number).into_owned(),
            rust_i18n::t!("notify.credit_decision.body", locale = loc, reason = reason).into_owned(),
        )
    })
    .await?;
    let hold = holds::get_in(tx.conn(), caller, hold_id).await?;
    tx.commit().await?;
    Ok(CreditDecisionView { hold, order_id, order_state })
}
