//! Key-account screening (大客户筛选, seed 003 §一.1; docs/DOMAIN.md#2-screening): the salesperson fills in the
//! criteria, needs analysis, resource assessment, fit, competitor analysis and the risk analysis
//! form (客户风险分析表, scored indicators with the weights of the flow's definition); submitting
//! makes the account a `candidate` and asks the KA director, then the sales department manager.
//! Approval makes it a `key_account`; rejection keeps it a candidate with the reason. Every
//! submitted version of the form is kept; a new version while one is being decided cancels that
//! request and asks again. A downgraded account is screened again the same way (re-entry);
//! every move of the status is recorded by `downgrade::set_status`.
use chrono::Utc;
use serde::Serialize;
use serde_json::{json, Map, Value};
use sqlx::Row;

use crate::app::approvals::{self, Subject};
use crate::app::classification::downgrade;
use crate::app::{records::audit, Caller, Ctx, Error, Result};
use crate::db::codes::JsonText;
use crate::db::{ts, Db, WriteTx};
use crate::domain::approval::{self as ap, Flow, State};
use crate::domain::error::Errors;
use crate::domain::text;

/// The form's text answers and their limits.
pub const TEXTS: &[(&str, usize)] = &[
    ("sales_amount", 1000),
    ("market_influence", 1000),
    ("loyalty", 1000),
    ("strategic_region", 1000),
    ("needs_analysis", 4000),
    ("resource_assessment", 4000),
    ("fit", 4000),
    ("competitor_analysis", 4000),
];

/// One submitted version of an account's screening.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct ScreeningView {
    pub id: i64,
    pub account_id: i64,
    /// 1 for the first submission; each new one adds one.
    pub version: i64,
    /// The form as submitted: the text answers, `risk` (each indicator's score) and
    /// `risk_weights` (the weights it was scored with).
    #[schema(value_type = Object)]
    #[sqlx(try_from = "JsonText<Value>")]
    pub form: Value,
    /// The risk analysis form's weighted total, 0–100.
    #[schema(minimum = 0, maximum = 100)]
    pub risk_score: i64,
    /// The approval request asked for this version.
    pub approval_id: Option<i64>,
    /// Username of who submitted it.
    pub submitted_by: String,
    #[schema(format = DateTime)]
    pub submitted_at: String,
}

/// Submits a screening of the account; answers with the stored version (and `approval_id`).
pub async fn submit(db: &Db, ctx: &Ctx, account_id: i64, body: &Value) -> Result<ScreeningView> {
    let caller = &ctx.caller;
    if !caller.role.edits_accounts() {
        return Err(Error::Forbidden);
    }
    let obj = body.as_object().ok_or_else(|| Error::invalid("body", "expected_object"))?;
    let now = Utc::now();
    let mut tx = db.begin().await?;
    // The account: seen by the caller (else 404), live, not a key account already.
    let mut s = crate::db::sql::Sql::new(
        "SELECT a.id, a.name, a.status, a.region_id, a.branch_id, a.owner_id FROM accounts a WHERE a.id = ",
    );
    s.bind(account_id);
    crate::app::customers::accounts::push_scope_one(&mut s, caller);
    let acc = s.query().fetch_optional(tx.conn()).await?.ok_or(Error::NotFound)?;
    let status: String = acc.try_get("status")?;
    let (_, def) = approvals::definition(tx.conn(), Flow::KaScreening).await?;
    let mut e = Errors::default();
    let mut form = Map::new();
    for (k, max) in TEXTS {
        let v = obj.get(*k).and_then(Value::as_str);
        if let Some(t) = e.take(k, text::required(v, *max)) {
            form.insert(k.to_string(), Value::String(t));
        }
    }
    let risk = obj.get("risk").and_then(Value::as_object);
    let mut scores = vec![];
    for (k, _) in &def.risk_weights {
        let field = format!("risk.{k}");
        match risk.and_then(|r| r.get(k)) {
            None | Some(Value::Null) => e.add(&field, "required"),
            Some(v) => match v.as_i64() {
                Some(n) if (1..=5).contains(&n) => scores.push((k.clone(), n)),
                _ => e.add(&field, "score_range"),
            },
        }
    }
    if let Some(r) = risk {
        for k in r.keys() {
            if !def.risk_weights.iter().any(|(x, _)| x == k) {
                e.add(&format!("risk.{k}"), "unknown_field");
            }
        }
    }
    for k in obj.keys() {
        if k != "risk" && !TEXTS.iter().any(|(x, _)| x == k) {
            e.add(k, "unknown_field");
        }
    }
    if status == "key_account" {
        e.add("status", "already_key_account");
    }
    e.finish()?;
    let total = ap::risk_total(&def.risk_weights, &scores).map_err(|(f, c)| Error::invalid(format!("risk.{f}"), c))?;
    form.insert("risk".into(), Value::Object(scores.iter().map(|(k, v)| (k.clone(), json!(v))).collect()));
    form.insert("risk_weights".into(), json!(def.risk_weights));
    let version: i64 = sqlx::query("SELECT COALESCE(MAX(version), 0) + 1 AS v FROM screenings WHERE account_id = $1")
        .bind(account_id)
        .fetch_one(tx.conn())
        .await?
        .try_get("v")?;
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
    let decisive = json!({"risk_score": total, "form_version": version});
    let payload = json!({"screening_version": version, "risk_score": total});
    // A request still being decided is cancelled and asked again with the new form.
    let approval_id =
        match approvals::subject_changed(&mut tx, ctx, Flow::KaScreening, &subject, &decisive, &payload, true, now)
            .await?
        {
            Some(id) => id,
            None => approvals::start(&mut tx, ctx, Flow::KaScreening, &subject, &decisive, &payload, now).await?,
        };
    if status != "candidate" {
        let why = downgrade::REASON_SCREENING_SUBMITTED;
        downgrade::set_status(&mut tx, ctx, account_id, &status, "candidate", why, Some(approval_id)).await?;
    }
    let id: i64 = sqlx::query(
        "INSERT INTO screenings (account_id, version, form, risk_score, approval_id, submitted_by, submitted_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(account_id)
    .bind(version)
    .bind(Value::Object(form.clone()).to_string())
    .bind(total)
    .bind(approval_id)
    .bind(caller.user_id)
    .bind(ts(now))
    .fetch_one(tx.conn())
    .await?
    .try_get("id")?;
    audit::record(
        &mut tx,
        ctx,
        "screening",
        &id.to_string(),
        "submit",
        None,
        Some(&json!({"account_id": account_id, "version": version, "risk_score": total, "approval_id": approval_id})),
    )
    .await?;
    tx.commit().await?;
    Ok(ScreeningView {
        id,
        account_id,
        version,
        form: Value::Object(form),
        risk_score: total,
        approval_id: Some(approval_id),
        submitted_by: caller.username.clone(),
        submitted_at: ts(now),
    })
}

// A closed screening request changes its account's status.
inventory::submit! {
    approvals::OutcomeHook { flow: Flow::KaScreening, run: on_closed }
}

fn on_closed<'a>(tx: &'a mut WriteTx, ctx: &'a Ctx, c: approvals::Closed<'a>) -> approvals::HookFuture<'a> {
    Box::pin(on_outcome(tx, ctx, c.subject_id, c.approval_id, c.state, c.reason))
}

/// Applies a closed screening request to the account.
async fn on_outcome(
    tx: &mut WriteTx,
    ctx: &Ctx,
    account_id: i64,
    approval_id: i64,
    state: State,
    _reason: Option<&str>,
) -> Result<()> {
    let status: String = sqlx::query("SELECT status FROM accounts WHERE id = $1")
        .bind(account_id)
        .fetch_one(tx.conn())
        .await?
        .try_get("status")?;
    match state {
        State::Approved if status != "key_account" => {
            let why = downgrade::REASON_SCREENING_APPROVED;
            downgrade::set_status(tx, ctx, account_id, &status, "key_account", why, Some(approval_id)).await
        }
        // Rejected, returned or cancelled: it stays a candidate; the reason is on the request.
        _ => Ok(()),
    }
}

/// One indicator of the risk analysis form as submitted: score × weight, and the points it
/// adds to the total (out of 100).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RiskLine {
    pub indicator: String,
    /// 1 (poor) to 5 (good).
    pub score: i64,
    pub weight: i64,
    /// score × weight × 100 ÷ (5 × the sum of the weights), one decimal ("15.0").
    pub points: String,
    /// The previous version scored it differently.
    pub changed: bool,
}

/// A text answer of the form, and whether it differs from the previous version's.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Answer {
    pub key: String,
    pub text: String,
    pub changed: bool,
}

/// A screening as its approver reads it on the request page: the version the request asks
/// about, whole (criteria, analyses, the risk table), what changed since the previous version,
/// and the account's key facts (credit only for those who may see it).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ScreeningReview {
    pub screening: ScreeningView,
    /// The four screening criteria (sales amount, market influence, loyalty, strategic region).
    pub criteria: Vec<Answer>,
    /// The analyses (needs, resources, fit, competitors).
    pub analyses: Vec<Answer>,
    pub risk: Vec<RiskLine>,
    /// The version before this one, if any: what `changed` compares with.
    pub previous_version: Option<i64>,
    /// The account as the caller may see it; null when it is out of the caller's scope.
    pub account: Option<crate::app::customers::accounts::AccountView>,
    /// The account's open pipeline (sum of its open opportunities), when the account is shown.
    #[schema(value_type = Option<String>, pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub pipeline_open: Option<String>,
}

/// The screening an approval request asks about, for its reader. The caller must see the
/// request (else 404); a request that is not a screening is 404 too.
pub async fn for_approval(db: &Db, caller: &Caller, approval_id: i64) -> Result<ScreeningReview> {
    let a = approvals::get(db, caller, approval_id).await?;
    if a.flow != Flow::KaScreening {
        return Err(Error::NotFound);
    }
    let version = a.payload.get("screening_version").and_then(Value::as_i64).ok_or(Error::NotFound)?;
    let account_id = a.subject.get("id").and_then(Value::as_i64).ok_or(Error::NotFound)?;
    let rows: Vec<ScreeningView> = sqlx::query_as(
        "SELECT s.id, s.account_id, s.version, s.form, s.risk_score, s.approval_id, u.username AS submitted_by, \
         s.submitted_at FROM screenings s JOIN users u ON u.id = s.submitted_by \
         WHERE s.account_id = $1 AND s.version <= $2 ORDER BY s.version DESC LIMIT 2",
    )
    .bind(account_id)
    .bind(version)
    .fetch_all(&db.pool)
    .await?;
    let mut rows = rows.into_iter();
    let screening = rows.next().filter(|s| s.version == version).ok_or(Error::NotFound)?;
    let previous = rows.next();
    let text_of = |f: &Value, k: &str| f.get(k).and_then(Value::as_str).map(str::to_string);
    let answer = |k: &str| Answer {
        key: k.to_string(),
        text: text_of(&screening.form, k).unwrap_or_default(),
        changed: previous.as_ref().is_some_and(|p| text_of(&p.form, k) != text_of(&screening.form, k)),
    };
    let criteria = TEXTS[..4].iter().map(|(k, _)| answer(k)).collect();
    let analyses = TEXTS[4..].iter().map(|(k, _)| answer(k)).collect();
    let weights: Vec<(String, i64)> =
        serde_json::from_value(screening.form["risk_weights"].clone()).unwrap_or_default();
    let den: i64 = weights.iter().map(|(_, w)| *w).sum::<i64>() * 5;
    let score_of = |f: &Value, k: &str| f["risk"].get(k).and_then(Value::as_i64);
    let risk = weights
        .iter()
        .map(|(k, w)| {
            let score = score_of(&screening.form, k).unwrap_or(0);
            // Tenths of a point, rounded half up.
            let tenths = if den == 0 { 0 } else { (score * w * 1000 * 2 + den) / (den * 2) };
            RiskLine {
                indicator: k.clone(),
                score,
                weight: *w,
                points: format!("{}.{}", tenths / 10, tenths % 10),
                changed: previous.as_ref().is_some_and(|p| score_of(&p.form, k) != Some(score)),
            }
        })
        .collect();
    let (account, pipeline_open) = match crate::app::customers::accounts::get(db, caller, account_id).await {
        Ok(v) => {
            let open: i64 = sqlx::query("SELECT pipeline_open FROM accounts WHERE id = $1")
                .bind(account_id)
                .fetch_one(&db.pool)
                .await?
                .try_get("pipeline_open")?;
            (Some(v), Some(crate::domain::money::format_fen(open)))
        }
        Err(Error::NotFound) => (None, None),
        Err(e) => return Err(e),
    };
    Ok(ScreeningReview {
        previous_version: previous.as_ref().map(|p| p.version),
        screening,
        criteria,
        analyses,
        risk,
        account,
        pipeline_open,
    })
}

/// Every submitted version of the account's screening, newest first.
pub async fn list(
    db: &Db,
    caller: &Caller,
    account: impl Into<crate::app::customers::accounts::AccountRef>,
) -> Result<Vec<ScreeningView>> {
    let account_id = account.into().check(db, caller).await?;
    Ok(sqlx::query_as(
        "SELECT s.id, s.account_id, s.version, s.form, s.risk_score, s.approval_id, u.username AS submitted_by, \
         s.submitted_at FROM screenings s JOIN users u ON u.id = s.submitted_by WHERE s.account_id = $1 \
         ORDER BY s.version DESC",
    )
    .bind(account_id)
    .fetch_all(&db.pool)
    .await?)
}

/// A proposal from the candidate list (`candidates::propose`): the account becomes a candidate
/// and its owner is asked to complete the screening, whose submission asks for the decision.
/// `status`: the account's status, read by the caller in this transaction.
pub(crate) async fn propose(
    tx: &mut WriteTx,
    ctx: &Ctx,
    account_id: i64,
    status: &str,
    owner_id: Option<i64>,
    account_name: &str,
) -> Result<()> {
    if status != "candidate" {
        downgrade::set_status(tx, ctx, account_id, status, "candidate", "candidate_proposed", None).await?;
    }
    let by = ctx.caller.display_name.clone();
    crate::app::records::notify::send(
        tx,
        &owner_id.into_iter().collect::<Vec<_>>(),
        "candidate_proposed",
        None,
        |loc| {
            (
                rust_i18n::t!("notify.candidate.title", locale = loc, account = account_name).into_owned(),
                rust_i18n::t!("notify.candidate.body", locale = loc, by = by).into_owned(),
            )
        },
    )
    .await
}
