//! Negotiation rounds (商务谈判, seed 000; docs/DOMAIN.md M6): the record of each round on an
//! opportunity — when, who took part, our position and theirs, the concessions made, the next
//! step. A salesperson who needs authority beyond their own (a discount above their limit in
//! the `discount_exception` table) asks for it with the round: a `negotiation_escalation`
//! request goes to their manager, then the KA director, and the round's `outcome` follows it.
//!
//! Scope: a round is visible to whoever sees its opportunity; the opportunity's owner, team and
//! managers in scope record rounds.
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::app::approvals::{self, Closed, HookFuture, OutcomeHook, ScopeFuture, Subject, SubjectScope};
use crate::app::customers::visibility::Probe;
use crate::app::funnel::opportunities;
use crate::app::quotes::bids;
use crate::app::records::audit;
use crate::app::{Caller, Ctx, Error, Result};
use crate::db::sql::Sql;
use crate::db::{now, Db, WriteTx};
use crate::domain::approval::{Flow, State as ApprovalState};
use crate::domain::error::Errors;
use crate::domain::money::{format_bp, parse_bp};
use crate::domain::quote as q;
use crate::domain::text;

/// A round as given.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoundIn {
    /// The day of the round.
    #[serde(default)]
    #[schema(format = Date, value_type = String)]
    pub held_on: Option<String>,
    /// Who took part, both sides (required).
    #[serde(default)]
    #[schema(value_type = String)]
    pub participants: Option<String>,
    #[serde(default)]
    pub our_position: Option<String>,
    #[serde(default)]
    pub their_position: Option<String>,
    /// What either side conceded.
    #[serde(default)]
    pub concessions: Option<String>,
    #[serde(default)]
    pub next_step: Option<String>,
    /// The discount asked beyond the author's authority, in percent (`12.5`); with
    /// `escalation_reason` it starts a `negotiation_escalation` request.
    #[serde(default)]
    #[schema(pattern = r"^\d{1,3}(\.\d{1,2})?$")]
    pub asked_discount: Option<String>,
    /// Why the authority is needed (required with `asked_discount`).
    #[serde(default)]
    pub escalation_reason: Option<String>,
    /// The round's version, when revising it (required then; ignored when recording one).
    #[serde(default)]
    pub version: Option<i64>,
}

/// A negotiation round.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RoundView {
    pub id: i64,
    pub opportunity_id: i64,
    pub opportunity_name: String,
    pub account_id: i64,
    pub account_name: String,
    #[schema(format = Date)]
    pub held_on: String,
    pub participants: String,
    pub our_position: Option<String>,
    pub their_position: Option<String>,
    pub concessions: Option<String>,
    pub next_step: Option<String>,
    /// The discount asked beyond the author's authority (percent), when escalated.
    pub asked_discount: Option<String>,
    pub escalation_reason: Option<String>,
    /// The negotiation-escalation request.
    pub approval_id: Option<i64>,
    /// Where the escalation stands (null without one).
    pub outcome: Option<ApprovalState>,
    /// The decider's reason when rejected or returned.
    pub outcome_reason: Option<String>,
    /// Username of who recorded the round, and their name.
    pub created_by: String,
    pub created_by_name: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    pub version: i64,
}

const SELECT: &str =
    "SELECT n.*, COALESCE(u.display_name, n.created_by) AS created_by_display, o.name AS opportunity_name, \
     a.name AS account_name \
     FROM negotiation_rounds n JOIN opportunities o ON o.id = n.opportunity_id JOIN accounts a ON a.id = n.account_id \
     LEFT JOIN users u ON u.username = n.created_by";

fn view(r: &AnyRow) -> Result<RoundView> {
    Ok(RoundView {
        id: r.try_get("id")?,
        opportunity_id: r.try_get("opportunity_id")?,
        opportunity_name: r.try_get("opportunity_name")?,
        account_id: r.try_get("account_id")?,
        account_name: r.try_get("account_name")?,
        held_on: r.try_get("held_on")?,
        participants: r.try_get("participants")?,
        our_position: r.try_get("our_position")?,
        their_position: r.try_get("their_position")?,
        concessions: r.try_get("concessions")?,
        next_step: r.try_get("next_step")?,
        asked_discount: r.try_get::<Option<i64>, _>("asked_discount_bp")?.map(format_bp),
        escalation_reason: r.try_get("escalation_reason")?,
        approval_id: r.try_get("approval_id")?,
        outcome: r.try_get::<Option<String>, _>("outcome")?.and_then(|o| ApprovalState::parse(&o).ok()),
        outcome_reason: r.try_get("outcome_reason")?,
        created_by: r.try_get("created_by")?,
        created_by_name: r.try_get("created_by_display")?,
        created_at: r.try_get("created_at")?,
        version: r.try_get("version")?,
    })
}

async fn row_scoped(conn: &mut sqlx::AnyConnection, caller: Option<&Caller>, id: i64) -> Result<AnyRow> {
    let mut s = Sql::new(SELECT);
    s.push(" WHERE n.id = ").bind(id);
    if let Some(c) = caller {
        opportunities::push_scope_as(&mut s, c, Probe::Row);
    }
    s.query().fetch_optional(&mut *conn).await?.ok_or(Error::NotFound)
}

/// A round in the caller's scope.
pub async fn get(db: &Db, caller: &Caller, id: i64) -> Result<RoundView> {
    let mut conn = db.pool.acquire().await?;
    view(&row_scoped(&mut conn, Some(caller), id).await?)
}

/// An opportunity's rounds, latest first (the opportunity in scope).
pub async fn of_opportunity(db: &Db, caller: &Caller, opportunity_id: i64) -> Result<Vec<RoundView>> {
    let mut s = Sql::new(SELECT);
    s.push(" WHERE n.opportunity_id = ").bind(opportunity_id);
    opportunities::push_scope_as(&mut s, caller, Probe::Row);
    s.push(" ORDER BY n.held_on DESC, n.id DESC LIMIT 200");
    s.query().fetch_all(&db.pool).await?.iter().map(view).collect()
}

/// The discount the caller may give without asking (basis points; the `discount_exception`
/// table).
pub async fn own_limit(db: &Db, caller: &Caller) -> Result<i64> {
    let mut conn = db.pool.acquire().await?;
    limit_of(&mut conn, caller).await
}

async fn limit_of(conn: &mut sqlx::AnyConnection, caller: &Caller) -> Result<i64> {
    let (_, d) = approvals::definition(conn, Flow::DiscountException).await?;
    let limits = if d.limits.is_empty() { q::default_limits() } else { d.limits };
    Ok(q::limit_of(&limits, caller.role))
}

/// What a round holds once checked.
struct Checked {
    held_on: String,
    participants: String,
    our_position: Option<String>,
    their_position: Option<String>,
    concessions: Option<String>,
    next_step: Option<String>,
    asked_bp: Option<i64>,
    escalation_reason: Option<String>,
}

fn check(inp: &RoundIn, own_limit: i64) -> Result<Checked> {
    let mut e = Errors::default();
    let held_on = match inp.held_on.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => {
            e.add("held_on", "required");
            String::new()
        }
        Some(v) => match chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d") {
            Ok(d) => d.format("%Y-%m-%d").to_string(),
            Err(_) => {
                e.add("held_on", "date_format");
                String::new()
            }
        },
    };
    let participants = match text::required(inp.participants.as_deref(), 500) {
        Ok(t) => t,
        Err(c) => {
            e.add("participants", c);
            String::new()
        }
    };
    let mut opt = |field: &str, v: &Option<String>| match text::optional(v.as_deref(), 2000) {
        Ok(t) => t,
        Err(c) => {
            e.add(field, c);
            None
        }
    };
    let our_position = opt("our_position", &inp.our_position);
    let their_position = opt("their_position", &inp.their_position);
    let concessions = opt("concessions", &inp.concessions);
    let next_step = opt("next_step", &inp.next_step);
    let escalation_reason = opt("escalation_reason", &inp.escalation_reason);
    let asked_bp = match inp.asked_discount.as_deref().map(|v| v.trim().trim_end_matches('%')).filter(|v| !v.is_empty())
    {
        None => None,
        Some(v) => match parse_bp(v) {
            Ok(bp) if bp <= 0 || bp > q::FULL_BP => {
                e.add("asked_discount", "discount_range");
                None
            }
            // Within one's own authority there is nothing to ask.
            Ok(bp) if bp <= own_limit => {
                e.add("asked_discount", "within_own_authority");
                None
            }
            Ok(bp) => Some(bp),
            Err(c) => {
                e.add("asked_discount", c);
                None
            }
        },
    };
    let asked_given = inp.asked_discount.as_deref().is_some_and(|v| !v.trim().is_empty());
    if asked_given
        && escalation_reason.is_none()
        && inp.escalation_reason.as_deref().is_none_or(|v| v.trim().is_empty())
    {
        e.add("escalation_reason", "required");
    }
    if !asked_given && escalation_reason.is_some() {
        e.add("asked_discount", "required");
    }
    e.finish()?;
    Ok(Checked {
        held_on,
        participants,
        our_position,
        their_position,
        concessions,
        next_step,
        asked_bp,
        escalation_reason,
    })
}

/// Records a round on an opportunity; with an asked discount, its escalation starts.
pub async fn create(db: &Db, ctx: &Ctx, opportunity_id: i64, inp: &RoundIn) -> Result<RoundView> {
    let mut tx = db.begin().await?;
    let v = create_in(&mut tx, ctx, opportunity_id, inp).await?;
    tx.commit().await?;
    Ok(v)
}

pub async fn create_in(tx: &mut WriteTx, ctx: &Ctx, opportunity_id: i64, inp: &RoundIn) -> Result<RoundView> {
    let caller = &ctx.caller;
    let o = bids::writable(tx.conn(), caller, opportunity_id).await?;
    let limit = limit_of(tx.conn(), caller).await?;
    let c = check(inp, limit)?;
    if o.closed {
        return Err(Error::Conflict("opportunity_closed"));
    }
    let at = now();
    let id: i64 = sqlx::query(
        "INSERT INTO negotiation_rounds (opportunity_id, account_id, held_on, participants, our_position, their_position, \
         concessions, next_step, asked_discount_bp, escalation_reason, version, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $12, $12) RETURNING id",
    )
    .bind(o.id)
    .bind(o.account_id)
    .bind(c.held_on.clone())
    .bind(c.participants)
    .bind(c.our_position)
    .bind(c.their_position)
    .bind(c.concessions)
    .bind(c.next_step)
    .bind(c.asked_bp)
    .bind(c.escalation_reason.clone())
    .bind(caller.username.as_str())
    .bind(at)
    .fetch_one(tx.conn())
    .await?
    .try_get("id")?;
    if let Some(bp) = c.asked_bp {
        escalate(tx, ctx, &o, id, &c.held_on, bp, limit, c.escalation_reason.as_deref()).await?;
    }
    let v = view(&row_scoped(tx.conn(), None, id).await?)?;
    audit::record(tx, ctx, "negotiation_round", &id.to_string(), "create", None, Some(&audit_json(&v))).await?;
    Ok(v)
}

/// Starts a round's `negotiation_escalation` request and marks the round pending. The
/// salesperson asking is the subject's owner: their manager decides first.
#[allow(clippy::too_many_arguments)]
async fn escalate(
    tx: &mut WriteTx,
    ctx: &Ctx,
    o: &bids::OppFacts,
    id: i64,
    held_on: &str,
    bp: i64,
    limit: i64,
    reason: Option<&str>,
) -> Result<i64> {
    let subject = Subject {
        kind: "negotiation",
        id,
        label: format!("{} · {} · {}", o.name, o.account_name, held_on),
        region_id: o.region_id,
        branch_id: o.branch_id,
        owner_id: Some(ctx.caller.user_id),
        figure: None,
        class: None,
    };
    let decisive = json!({"asked_discount_bp": bp});
    let payload = json!({
        "asked_discount": format_bp(bp), "own_limit": format_bp(limit),
        "reason": reason, "opportunity_id": o.id,
    });
    let aid = approvals::start(tx, ctx, Flow::NegotiationEscalation, &subject, &decisive, &payload, Utc::now()).await?;
    sqlx::query(
        "UPDATE negotiation_rounds SET asked_discount_bp = $1, escalation_reason = $2, approval_id = $3, \
         outcome = 'pending', outcome_reason = NULL WHERE id = $4",
    )
    .bind(bp)
    .bind(reason.map(str::to_string))
    .bind(aid)
    .bind(id)
    .execute(tx.conn())
    .await?;
    Ok(aid)
}

fn audit_json(v: &RoundView) -> serde_json::Value {
    json!({
        "opportunity_id": v.opportunity_id, "held_on": v.held_on, "participants": v.participants,
        "our_position": v.our_position, "their_position": v.their_position, "concessions": v.concessions,
        "next_step": v.next_step, "asked_discount": v.asked_discount, "escalation_reason": v.escalation_reason,
        "approval_id": v.approval_id,
    })
}

/// Revises a round (its version given): what was said and agreed is corrected in place. A
/// changed ask — another discount, another reason, or none — withdraws a pending escalation and,
/// when there is still an ask, starts a new one (the deciders decide on what is asked now); an
/// unchanged ask keeps its request and its outcome.
pub async fn update(db: &Db, ctx: &Ctx, id: i64, inp: &RoundIn) -> Result<RoundView> {
    let caller = &ctx.caller;
    let mut tx = db.begin().await?;
    let r = row_scoped(tx.conn(), Some(caller), id).await?;
    let lock = tx.lock_clause(crate::db::RowLock::Update);
    sqlx::query(&format!("SELECT id FROM negotiation_rounds WHERE id = $1{lock}"))
        .bind(id)
        .fetch_one(tx.conn())
        .await?;
    let o = bids::writable(tx.conn(), caller, r.try_get("opportunity_id")?).await?;
    // Read again under the lock: a change that committed meanwhile is seen.
    let before = view(&row_scoped(tx.conn(), None, id).await?)?;
    match inp.version {
        None => return Err(Error::invalid("version", "required")),
        Some(v) if v != before.version => return Err(Error::StaleVersion { current: before.version }),
        Some(_) => {}
    }
    let old_bp: Option<i64> = before.asked_discount.as_deref().and_then(|d| parse_bp(d).ok());
    let typed_bp = inp.asked_discount.as_deref().map(|v| v.trim().trim_end_matches('%')).and_then(|v| parse_bp(v).ok());
    // An ask kept as it was is not judged again against the editor's own authority.
    let limit = limit_of(tx.conn(), caller).await?;
    let c = check(inp, if typed_bp.is_some() && typed_bp == old_bp { 0 } else { limit })?;
    if o.closed {
        return Err(Error::Conflict("opportunity_closed"));
    }
    sqlx::query(
        "UPDATE negotiation_rounds SET held_on = $1, participants = $2, our_position = $3, their_position = $4, \
         concessions = $5, next_step = $6, version = version + 1, updated_at = $7 WHERE id = $8",
    )
    .bind(c.held_on.clone())
    .bind(c.participants.clone())
    .bind(c.our_position.clone())
    .bind(c.their_position.clone())
    .bind(c.concessions.clone())
    .bind(c.next_step.clone())
    .bind(now())
    .bind(id)
    .execute(tx.conn())
    .await?;
    let ask_changed = (c.asked_bp, c.escalation_reason.as_deref()) != (old_bp, before.escalation_reason.as_deref());
    if ask_changed {
        if before.outcome == Some(ApprovalState::Pending) {
            approvals::cancel_pending(
                &mut tx,
                ctx,
                Flow::NegotiationEscalation,
                "negotiation",
                id,
                "decisive_changed",
                Utc::now(),
            )
            .await?;
        }
        match c.asked_bp {
            Some(bp) => {
                escalate(&mut tx, ctx, &o, id, &c.held_on, bp, limit, c.escalation_reason.as_deref()).await?;
            }
            None => {
                sqlx::query(
                    "UPDATE negotiation_rounds SET asked_discount_bp = NULL, escalation_reason = NULL, \
                     approval_id = NULL, outcome = NULL, outcome_reason = NULL WHERE id = $1",
                )
                .bind(id)
                .execute(tx.conn())
                .await?;
            }
        }
    }
    let after = view(&row_scoped(tx.conn(), None, id).await?)?;
    audit::record(
        &mut tx,
        ctx,
        "negotiation_round",
        &id.to_string(),
        "update",
        Some(&audit_json(&before)),
        Some(&audit_json(&after)),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// The round a negotiation-escalation request asks about. The caller was shown the request
/// (`approvals::get`), so the round is read without the opportunity's scope: a decider sees
/// what they decide on.
pub async fn for_approval(db: &Db, approval_id: i64) -> Result<RoundView> {
    let mut conn = db.pool.acquire().await?;
    let id = crate::app::approvals::subject_of(&mut conn, approval_id, "negotiation").await?;
    view(&row_scoped(&mut conn, None, id).await?)
}

// ---------------------------------------------------------------------------------------------
// The approval engine's side

/// A negotiation escalation closed: the round records how (and the decider's reason when it
/// was rejected or returned).
fn on_closed<'a>(tx: &'a mut WriteTx, ctx: &'a Ctx, c: Closed<'a>) -> HookFuture<'a> {
    Box::pin(async move {
        let reason = match c.state {
            ApprovalState::Rejected | ApprovalState::Returned => c.reason.map(str::to_string),
            _ => None,
        };
        let n = sqlx::query(
            "UPDATE negotiation_rounds SET outcome = $1, outcome_reason = $2, version = version + 1, updated_at = $3 \
             WHERE id = $4 AND approval_id = $5 AND outcome = 'pending'",
        )
        .bind(c.state.code())
        .bind(reason.clone())
        .bind(now())
        .bind(c.subject_id)
        .bind(c.approval_id)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if n > 0 {
            audit::record(
                tx,
                ctx,
                "negotiation_round",
                &c.subject_id.to_string(),
                "outcome",
                Some(&json!({"escalation_outcome": "pending"})),
                Some(&json!({"escalation_outcome": c.state, "reason": reason, "approval_id": c.approval_id})),
            )
            .await?;
        }
        Ok(())
    })
}

inventory::submit! { OutcomeHook { flow: Flow::NegotiationEscalation, run: on_closed } }

/// Whoever sees a round's opportunity sees its escalation.
fn sees_round<'a>(conn: &'a mut sqlx::AnyConnection, caller: &'a Caller, id: i64) -> ScopeFuture<'a> {
    Box::pin(async move { approvals::seen(row_scoped(conn, Some(caller), id).await) })
}

inventory::submit! { SubjectScope { kind: "negotiation", sees: sees_round } }
