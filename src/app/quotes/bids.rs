//! Bid decisions (投标决策, seed 000 S-4; docs/DOMAIN.md M6). A bid belongs to an opportunity:
//! the tender's facts (issuer, number, the deadlines for questions and for submission, the bond
//! and the day it comes back, the documents asked for), the decision — bid or no bid, with its
//! reasons — and how the tender ended (won, lost to whom and at what price, abandoned).
//!
//! A decision to bid beyond the salesperson's authority — a price below a floor price, terms
//! outside policy, or a bond above the `bid_exception` flow's `bond_limit` — starts a
//! `bid_exception` request (the commercial manager, then the branch manager of the account's
//! branch, the region's head when it has none); the bid's `exception_state` follows the request
//! through an outcome hook. Within authority the decision stands at once. Changing a decisive
//! figure (the bond, the price, the exceptions declared) while a request is pending or approved
//! cancels it and asks again.
//!
//! Scope: a bid is visible to whoever sees its opportunity; its owner (the opportunity's owner
//! when it was made), the opportunity's team and managers in scope may change it.
use crate::app::records::files::Storage;

use chrono::{Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::app::approvals::{self, Closed, HookFuture, OutcomeHook, ScopeFuture, Subject, SubjectScope};
use crate::app::customers::visibility::Probe;
use crate::app::funnel::opportunities;
use crate::app::records::attachments::{self, Attachment, FileIn};
use crate::app::records::audit;
use crate::app::{clamp_limit, Caller, Ctx, Error, Page, Result};
use crate::db::sql::Sql;
use crate::db::{now, Db, RowLock, WriteTx};
use crate::domain::approval::{Flow, State as ApprovalState, DEFAULT_BOND_LIMIT};
use crate::domain::bid::{self as b, BidDecision, BidExceptionState, BidResult, Exceptions};
use crate::domain::error::Errors;
use crate::domain::money::{format_fen, parse_amount, parse_fen};
use crate::domain::text;

/// A bid's tender facts as given (create, edit). On an edit an absent field keeps its value
/// and an empty one clears it (the issuer and the submission deadline are required).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BidIn {
    /// The bid's version this edit starts from (required to edit).
    #[serde(default)]
    pub version: Option<i64>,
    /// Who issued the tender (招标单位), required.
    #[serde(default)]
    #[schema(example = "北京星河精密制造有限公司")]
    pub issuer: Option<String>,
    /// The tender's number (招标编号).
    #[serde(default)]
    pub tender_no: Option<String>,
    /// The deadline for questions (答疑截止), not after the submission deadline; `""` clears it.
    #[serde(default)]
    #[schema(pattern = r"^(\d{4}-\d{2}-\d{2})?$")]
    pub questions_due: Option<String>,
    /// The submission deadline (投标截止), required.
    #[serde(default)]
    #[schema(format = Date)]
    pub submission_due: Option<String>,
    /// The bid bond (投标保证金) in yuan; `""` clears it.
    #[serde(default)]
    #[schema(pattern = r"^(\d{1,15}(\.\d{1,2})?)?$")]
    pub bond_amount: Option<String>,
    /// The day the bond comes back, not before the submission deadline; `""` clears it.
    #[serde(default)]
    #[schema(pattern = r"^(\d{4}-\d{2}-\d{2})?$")]
    pub bond_return_on: Option<String>,
    /// The documents the tender asks for (标书文件), in words.
    #[serde(default)]
    pub documents: Option<String>,
}

/// The decision on the tender.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecideIn {
    /// The bid's version the caller saw.
    pub version: i64,
    /// `bid` or `no_bid`.
    #[schema(value_type = String, pattern = "^(bid|no_bid)$")]
    pub decision: String,
    /// Why (required).
    #[serde(default)]
    pub reasons: Option<String>,
    /// The price offered, in yuan (`""`: none).
    #[serde(default)]
    #[schema(pattern = r"^(\d{1,15}(\.\d{1,2})?)?$")]
    pub bid_price: Option<String>,
    /// The bid price is below a product's floor price.
    #[serde(default)]
    pub below_floor: bool,
    /// Payment, delivery or warranty terms outside the company's policy.
    #[serde(default)]
    pub terms_outside_policy: bool,
    /// What the exception is and why it is worth it (required with `below_floor` or
    /// `terms_outside_policy`).
    #[serde(default)]
    pub exception_note: Option<String>,
}

/// How the tender ended.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultIn {
    /// The bid's version the caller saw.
    pub version: i64,
    /// `won`, `lost` or `abandoned`.
    #[schema(value_type = String, pattern = "^(won|lost|abandoned)$")]
    pub result: String,
    /// Who won (required when lost).
    #[serde(default)]
    pub winner: Option<String>,
    /// The winning price, in yuan.
    #[serde(default)]
    #[schema(pattern = r"^\d{1,15}(\.\d{1,2})?$")]
    pub winning_price: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    /// With a lost tender: close the opportunity as lost too, to the winner, in the same step
    /// (its reason names the tender and the winning price).
    #[serde(default)]
    pub close_opportunity: bool,
}

/// A bid, whole.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BidView {
    pub id: i64,
    pub opportunity_id: i64,
    pub opportunity_name: String,
    pub account_id: i64,
    pub account_name: String,
    /// Username of the bid's owner (the opportunity's owner when it was made).
    pub owner: String,
    pub owner_name: String,
    pub issuer: String,
    pub tender_no: Option<String>,
    #[schema(format = Date)]
    pub questions_due: Option<String>,
    #[schema(format = Date)]
    pub submission_due: String,
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub bond_amount: Option<String>,
    #[schema(format = Date)]
    pub bond_return_on: Option<String>,
    pub documents: Option<String>,
    pub decision: BidDecision,
    pub decision_reasons: Option<String>,
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub bid_price: Option<String>,
    pub below_floor: bool,
    pub terms_outside_policy: bool,
    /// The bond was above the flow's limit when the decision was judged.
    pub bond_above_limit: bool,
    pub exception_note: Option<String>,
    /// `none` when the decision needs no exception.
    pub exception_state: BidExceptionState,
    /// The bid-exception request of the decision.
    pub approval_id: Option<i64>,
    /// Why the request was rejected or returned.
    pub exception_reason: Option<String>,
    /// Who decided, by name.
    pub decided_by_name: Option<String>,
    #[schema(format = DateTime)]
    pub decided_at: Option<String>,
    /// Null while the tender is open.
    pub result: Option<BidResult>,
    pub winner: Option<String>,
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub winning_price: Option<String>,
    pub result_note: Option<String>,
    pub result_by_name: Option<String>,
    #[schema(format = DateTime)]
    pub result_at: Option<String>,
    /// The row version for concurrent edits.
    pub version: i64,
    /// Username of who recorded the bid.
    pub created_by: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// A deadline of an open bid (the home and the calendar).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BidDeadline {
    pub bid_id: i64,
    /// `questions` or `submission`.
    #[schema(pattern = "^(questions|submission)$")]
    pub kind: &'static str,
    #[schema(format = Date)]
    pub day: String,
    pub issuer: String,
    pub tender_no: Option<String>,
    pub opportunity_id: i64,
    pub opportunity_name: String,
    pub account_name: String,
    pub owner: String,
    pub owner_name: String,
}

// ---------------------------------------------------------------------------------------------
// Reading

const SELECT: &str = "SELECT b.*, o.name AS opportunity_name, a.name AS account_name, u.username AS owner_username, \
     u.display_name AS owner_display, du.display_name AS decided_by_display, ru.display_name AS result_by_display, \
     a.region_id AS account_region_id, a.branch_id AS account_branch_id \
     FROM bids b JOIN opportunities o ON o.id = b.opportunity_id JOIN accounts a ON a.id = b.account_id \
     JOIN users u ON u.id = b.owner_id LEFT JOIN users du ON du.username = b.decided_by \
     LEFT JOIN users ru ON ru.username = b.result_by";

fn money_of(r: &AnyRow, col: &str) -> Result<Option<String>> {
    Ok(r.try_get::<Option<i64>, _>(col)?.map(format_fen))
}

fn view(r: &AnyRow) -> Result<BidView> {
    Ok(BidView {
        id: r.try_get("id")?,
        opportunity_id: r.try_get("opportunity_id")?,
        opportunity_name: r.try_get("opportunity_name")?,
        account_id: r.try_get("account_id")?,
        account_name: r.try_get("account_name")?,
        owner: r.try_get("owner_username")?,
        owner_name: r.try_get("owner_display")?,
        issuer: r.try_get("issuer")?,
        tender_no: r.try_get("tender_no")?,
        questions_due: r.try_get("questions_due")?,
        submission_due: r.try_get("submission_due")?,
        bond_amount: money_of(r, "bond_amount")?,
        bond_return_on: r.try_get("bond_return_on")?,
        documents: r.try_get("documents")?,
        decision: r.try_get("decision")?,
        decision_reasons: r.try_get("decision_reasons")?,
        bid_price: money_of(r, "bid_price")?,
        below_floor: r.try_get::<i64, _>("below_floor")? == 1,
        terms_outside_policy: r.try_get::<i64, _>("terms_outside_policy")? == 1,
        bond_above_limit: r.try_get::<i64, _>("bond_above_limit")? == 1,
        exception_note: r.try_get("exception_note")?,
        exception_state: r.try_get("exception_state")?,
        approval_id: r.try_get("approval_id")?,
        exception_reason: r.try_get("exception_reason")?,
        decided_by_name: r
            .try_get::<Option<String>, _>("decided_by_display")?
            .or(r.try_get::<Option<String>, _>("decided_by")?),
        decided_at: r.try_get("decided_at")?,
        result: r.try_get("result")?,
        winner: r.try_get("winner")?,
        winning_price: money_of(r, "winning_price")?,
        result_note: r.try_get("result_note")?,
        result_by_name: r
            .try_get::<Option<String>, _>("result_by_display")?
            .or(r.try_get::<Option<String>, _>("result_by")?),
        result_at: r.try_get("result_at")?,
        version: r.try_get("version")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// The bid's row (joined), in the caller's scope when one is given; else not found.
async fn row_scoped(conn: &mut sqlx::AnyConnection, caller: Option<&Caller>, id: i64) -> Result<AnyRow> {
    let mut s = Sql::new(SELECT);
    s.push(" WHERE b.id = ").bind(id);
    if let Some(c) = caller {
        opportunities::push_scope_as(&mut s, c, Probe::Row);
    }
    s.query().fetch_optional(&mut *conn).await?.ok_or(Error::NotFound)
}

/// A bid in the caller's scope.
pub async fn get(db: &Db, caller: &Caller, id: i64) -> Result<BidView> {
    let mut conn = db.pool.acquire().await?;
    view(&row_scoped(&mut conn, Some(caller), id).await?)
}

/// The bid a bid-exception request asks about. The caller was shown the request
/// (`approvals::get`), so the bid is read without the opportunity's scope: a decider sees what
/// they decide on.
pub async fn for_approval(db: &Db, approval_id: i64) -> Result<BidView> {
    let mut conn = db.pool.acquire().await?;
    let id = crate::app::approvals::subject_of(&mut conn, approval_id, "bid").await?;
    view(&row_scoped(&mut conn, None, id).await?)
}

/// The bond above which a decision to bid is beyond a salesperson's authority (fen): the
/// current `bid_exception` definition's `bond_limit`, the shipped default when it has none.
pub async fn bond_limit(conn: &mut sqlx::AnyConnection) -> Result<i64> {
    let (_, d) = approvals::definition(conn, Flow::BidException).await?;
    let limit = d.bond_limit.as_deref().and_then(|l| parse_fen(l).ok());
    Ok(limit.unwrap_or_else(|| parse_fen(DEFAULT_BOND_LIMIT).unwrap_or(50_000_000)))
}

/// [`bond_limit`] as a decimal string (the pages say it).
pub async fn bond_limit_text(db: &Db) -> Result<String> {
    let mut conn = db.pool.acquire().await?;
    Ok(format_fen(bond_limit(&mut conn).await?))
}

/// A list's filter.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub opportunity_id: Option<i64>,
    pub account_id: Option<i64>,
    /// Username of the bid's owner.
    pub owner: Option<String>,
    pub decision: Option<String>,
    pub result: Option<String>,
    /// Some(true): open bids (no result yet); Some(false): ended ones.
    pub open: Option<bool>,
    /// Open bids (not declined) whose submission deadline falls within this many days (today
    /// included).
    pub due_within: Option<i64>,
    /// Issuer, tender number, account or opportunity name.
    pub q: Option<String>,
    /// `-updated` (default), `submission_due`, `-submission_due`.
    pub sort: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

pub const SORTS: &[&str] = &["-updated", "submission_due", "-submission_due"];

fn sort_key(sort: Option<&str>) -> Result<(&'static str, bool)> {
    // (column, descending); both columns are text.
    Ok(match sort.unwrap_or("-updated") {
        "-updated" => ("b.updated_at", true),
        "submission_due" => ("b.submission_due", false),
        "-submission_due" => ("b.submission_due", true),
        _ => return Err(Error::invalid("sort", "invalid_choice")),
    })
}

fn day_after(today: &str, days: i64) -> String {
    chrono::NaiveDate::parse_from_str(today, "%Y-%m-%d")
        .map(|d| (d + Duration::days(days)).format("%Y-%m-%d").to_string())
        .unwrap_or_else(|_| today.to_string())
}

/// The list's rows (at most `limit`) in the filter's order and the caller's scope, and the
/// sort column.
async fn select(db: &Db, caller: &Caller, f: &Filter, today: &str, limit: i64) -> Result<(Vec<AnyRow>, &'static str)> {
    let (col, desc) = sort_key(f.sort.as_deref())?;
    let mut s = Sql::new(SELECT);
    s.push(" WHERE 1 = 1");
    let owner = f.owner.as_deref().map(str::trim).filter(|o| !o.is_empty());
    if let Some(owner) = owner {
        s.push(" AND b.owner_id = (SELECT id FROM users WHERE username = ").bind(owner.to_string()).push(")");
    }
    if let Some(o) = f.opportunity_id {
        s.push(" AND b.opportunity_id = ").bind(o);
    }
    if let Some(a) = f.account_id {
        s.push(" AND b.account_id = ").bind(a);
    }
    let probe =
        if owner.is_some() || f.opportunity_id.is_some() || f.account_id.is_some() { Probe::Row } else { Probe::Set };
    opportunities::push_scope_as(&mut s, caller, probe);
    if let Some(d) = f.decision.as_deref().filter(|d| !d.trim().is_empty()) {
        let d = BidDecision::parse(d).map_err(|c| Error::invalid("decision", c))?;
        s.push(" AND b.decision = ").bind(d.code());
    }
    if let Some(r) = f.result.as_deref().filter(|r| !r.trim().is_empty()) {
        let r = BidResult::parse(r).map_err(|c| Error::invalid("result", c))?;
        s.push(" AND b.result = ").bind(r.code());
    }
    match f.open {
        Some(true) => {
            s.push(" AND b.result IS NULL");
        }
        Some(false) => {
            s.push(" AND b.result IS NOT NULL");
        }
        None => {}
    }
    if let Some(days) = f.due_within {
        if !(0..=3650).contains(&days) {
            return Err(Error::invalid("due_within", "days_range"));
        }
        s.push(" AND b.result IS NULL AND b.decision <> 'no_bid' AND b.submission_due >= ").bind(today.to_string());
        s.push(" AND b.submission_due <= ").bind(day_after(today, days));
    }
    if let Some(qs) = text::search(f.q.as_deref()).map_err(|c| Error::invalid("q", c))? {
        let pat = text::like_pattern(qs);
        s.push(" AND (b.issuer LIKE ").bind(pat.clone()).push(" OR b.tender_no LIKE ").bind(pat.clone());
        s.push(" OR a.name LIKE ").bind(pat.clone()).push(" OR o.name LIKE ").bind(pat).push(")");
    }
    if let Some(c) = f.cursor.as_deref().filter(|c| !c.is_empty()) {
        crate::app::push_after(&mut s, c, col, "b.id", true, desc)?;
    }
    let dir = if desc { "DESC" } else { "ASC" };
    s.push(&format!(" ORDER BY {col} {dir}, b.id {dir} LIMIT ")).bind(limit);
    Ok((s.query().fetch_all(&db.pool).await?, col))
}

/// Bids in the caller's scope (scoped as their opportunity), a page at a time.
pub async fn list(db: &Db, caller: &Caller, f: &Filter, today: &str) -> Result<Page<BidView>> {
    let limit = clamp_limit(f.limit)?;
    let (rows, col) = select(db, caller, f, today, limit + 1).await?;
    let items = rows.iter().take(limit as usize).map(view).collect::<Result<Vec<_>>>()?;
    let next_cursor = match rows.get(limit as usize - 1).filter(|_| rows.len() as i64 > limit) {
        Some(r) => {
            let k: String = r.try_get(if col == "b.submission_due" { "submission_due" } else { "updated_at" })?;
            Some(crate::app::encode_cursor(json!(k), r.try_get("id")?))
        }
        None => None,
    };
    Ok(Page { items, next_cursor })
}

/// Every bid the filter finds in scope (from its cursor, at most
/// [`quotes::EXPORT_MAX`](crate::app::quotes::quotes::EXPORT_MAX)), for an export.
pub async fn export(db: &Db, caller: &Caller, f: &Filter, today: &str) -> Result<Vec<BidView>> {
    let (rows, _) = select(db, caller, f, today, crate::app::quotes::quotes::EXPORT_MAX).await?;
    rows.iter().map(view).collect()
}

/// The bids as a table to export: the tender, the decision and the result, amounts as numbers.
pub fn table(rows: &[BidView]) -> crate::app::spreadsheets::export::Table {
    let keys = vec![
        "issuer",
        "tender_no",
        "account_name",
        "opportunity_name",
        "owner_name",
        "questions_due",
        "submission_due",
        "bond_amount",
        "bond_return_on",
        "bid_decision",
        "bid_price",
        "bid_exception_state",
        "bid_result",
        "winner",
        "winning_price",
        "updated_at",
    ];
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    let rows = rows
        .iter()
        .map(|b| {
            vec![
                b.issuer.clone(),
                o(&b.tender_no),
                b.account_name.clone(),
                b.opportunity_name.clone(),
                b.owner_name.clone(),
                o(&b.questions_due),
                b.submission_due.clone(),
                o(&b.bond_amount),
                o(&b.bond_return_on),
                b.decision.code().to_string(),
                o(&b.bid_price),
                b.exception_state.code().to_string(),
                b.result.map(|r| r.code().to_string()).unwrap_or_default(),
                o(&b.winner),
                o(&b.winning_price),
                b.updated_at.clone(),
            ]
        })
        .collect();
    crate::app::spreadsheets::export::Table { keys, rows }
}

/// An opportunity's bids, newest first (the opportunity in scope).
pub async fn of_opportunity(db: &Db, caller: &Caller, opportunity_id: i64) -> Result<Vec<BidView>> {
    let mut s = Sql::new(SELECT);
    s.push(" WHERE b.opportunity_id = ").bind(opportunity_id);
    opportunities::push_scope_as(&mut s, caller, Probe::Row);
    s.push(" ORDER BY b.id DESC LIMIT 200");
    s.query().fetch_all(&db.pool).await?.iter().map(view).collect()
}

/// The deadlines (questions, submission) between `from` and `to` (days, both included) of
/// open bids in the caller's scope that were not declined — of one owner (username) or of
/// everyone the caller sees — by day. At most `limit`.
pub async fn deadlines(
    db: &Db,
    caller: &Caller,
    owner: Option<&str>,
    from: &str,
    to: &str,
    limit: i64,
) -> Result<Vec<BidDeadline>> {
    let mut s = Sql::new(SELECT);
    s.push(" WHERE b.result IS NULL AND b.decision <> 'no_bid'");
    let owner = owner.map(str::trim).filter(|o| !o.is_empty());
    if let Some(o) = owner {
        s.push(" AND b.owner_id = (SELECT id FROM users WHERE username = ").bind(o.to_string()).push(")");
    }
    s.push(" AND ((b.submission_due >= ").bind(from.to_string()).push(" AND b.submission_due <= ").bind(to.to_string());
    s.push(") OR (b.questions_due >= ").bind(from.to_string()).push(" AND b.questions_due <= ").bind(to.to_string());
    s.push("))");
    opportunities::push_scope_as(&mut s, caller, if owner.is_some() { Probe::Row } else { Probe::Set });
    s.push(" ORDER BY b.submission_due, b.id LIMIT ").bind(limit);
    let mut out = vec![];
    for r in s.query().fetch_all(&db.pool).await? {
        let v = view(&r)?;
        let mut add = |kind: &'static str, day: &str| {
            if (from..=to).contains(&day) {
                out.push(BidDeadline {
                    bid_id: v.id,
                    kind,
                    day: day.to_string(),
                    issuer: v.issuer.clone(),
                    tender_no: v.tender_no.clone(),
                    opportunity_id: v.opportunity_id,
                    opportunity_name: v.opportunity_name.clone(),
                    account_name: v.account_name.clone(),
                    owner: v.owner.clone(),
                    owner_name: v.owner_name.clone(),
                });
            }
        };
        if let Some(q) = &v.questions_due {
            add("questions", q);
        }
        add("submission", &v.submission_due);
    }
    out.sort_by(|a, b| (&a.day, a.kind != "questions", a.bid_id).cmp(&(&b.day, b.kind != "questions", b.bid_id)));
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Who may write

/// The opportunity a bid or a negotiation round is written on, as the writer sees it.
pub(crate) struct OppFacts {
    pub id: i64,
    pub name: String,
    pub owner_id: i64,
    pub account_id: i64,
    pub account_name: String,
    pub region_id: Option<i64>,
    pub branch_id: Option<i64>,
    pub closed: bool,
}

/// Whether the caller may write the bids and negotiation rounds of this opportunity: its
/// owner, its team, or a manager who sees it (an opportunity out of scope is not found).
pub(crate) async fn writable(conn: &mut sqlx::AnyConnection, caller: &Caller, opportunity_id: i64) -> Result<OppFacts> {
    let mut s = Sql::new(
        "SELECT o.id, o.name, o.owner_id, o.account_id, o.stage, a.name AS account_name, a.region_id, a.branch_id \
         FROM opportunities o JOIN accounts a ON a.id = o.account_id WHERE o.id = ",
    );
    s.bind(opportunity_id);
    opportunities::push_scope_as(&mut s, caller, Probe::Row);
    let r = s.query().fetch_optional(&mut *conn).await?.ok_or(Error::NotFound)?;
    let owner: i64 = r.try_get("owner_id")?;
    let on_team = sqlx::query("SELECT 1 AS x FROM opportunity_team WHERE opportunity_id = $1 AND user_id = $2")
        .bind(opportunity_id)
        .bind(caller.user_id)
        .fetch_optional(&mut *conn)
        .await?
        .is_some();
    if owner != caller.user_id && !on_team && !caller.role.manages_accounts() {
        return Err(Error::Forbidden);
    }
    let stage: String = r.try_get("stage")?;
    Ok(OppFacts {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        owner_id: owner,
        account_id: r.try_get("account_id")?,
        account_name: r.try_get("account_name")?,
        region_id: r.try_get("region_id")?,
        branch_id: r.try_get("branch_id")?,
        closed: stage == "won" || stage == "lost",
    })
}

/// Whether the caller may write this opportunity's bids and negotiation rounds.
pub async fn may_write(db: &Db, caller: &Caller, opportunity_id: i64) -> Result<bool> {
    let mut conn = db.pool.acquire().await?;
    match writable(&mut conn, caller, opportunity_id).await {
        Ok(_) => Ok(true),
        Err(Error::Forbidden | Error::NotFound) => Ok(false),
        Err(e) => Err(e),
    }
}

// ---------------------------------------------------------------------------------------------
// Writing

/// Reads a money field as the API gives it (a decimal string) or as a form gives it
/// (`1,280,000`, `50万`); a negative amount is refused as such.
fn money(e: &mut Errors, field: &str, v: Option<&str>) -> Option<i64> {
    let v = v.map(str::trim).filter(|v| !v.is_empty())?;
    if v.starts_with('-') {
        e.add(field, "negative");
        return None;
    }
    match parse_fen(v).or_else(|_| parse_amount(v)) {
        Ok(x) => Some(x),
        Err(c) => {
            e.add(field, c);
            None
        }
    }
}

fn date(e: &mut Errors, field: &str, v: &str) -> Option<String> {
    match chrono::NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d") {
        Ok(d) => Some(d.format("%Y-%m-%d").to_string()),
        Err(_) => {
            e.add(field, "date_format");
            None
        }
    }
}

/// The tender's facts as stored.
#[derive(Debug, Clone, Default, PartialEq)]
struct Facts {
    issuer: String,
    tender_no: Option<String>,
    questions_due: Option<String>,
    submission_due: String,
    bond_amount: Option<i64>,
    bond_return_on: Option<String>,
    documents: Option<String>,
}

fn facts_of(r: &AnyRow) -> Result<Facts> {
    Ok(Facts {
        issuer: r.try_get("issuer")?,
        tender_no: r.try_get("tender_no")?,
        questions_due: r.try_get("questions_due")?,
        submission_due: r.try_get("submission_due")?,
        bond_amount: r.try_get("bond_amount")?,
        bond_return_on: r.try_get("bond_return_on")?,
        documents: r.try_get("documents")?,
    })
}

/// Checks the input over `base` (the stored facts, or empty ones for a new bid); every refusal
/// names its field, all at once.
fn prepare(inp: &BidIn, base: Facts) -> Result<Facts> {
    let mut e = Errors::default();
    let mut f = base;
    if let Some(v) = &inp.issuer {
        match text::required(Some(v), 200) {
            Ok(t) => f.issuer = t,
            Err(c) => e.add("issuer", c),
        }
    } else if f.issuer.is_empty() {
        e.add("issuer", "required");
    }
    let opt = |e: &mut Errors, field: &str, v: &Option<String>, max: usize, into: &mut Option<String>| {
        if let Some(v) = v {
            match text::optional(Some(v), max) {
                Ok(t) => *into = t,
                Err(c) => e.add(field, c),
            }
        }
    };
    opt(&mut e, "tender_no", &inp.tender_no, 100, &mut f.tender_no);
    opt(&mut e, "documents", &inp.documents, 4000, &mut f.documents);
    let mut dates_ok = true;
    if let Some(v) = &inp.submission_due {
        if v.trim().is_empty() {
            e.add("submission_due", "required");
            dates_ok = false;
        } else {
            match date(&mut e, "submission_due", v) {
                Some(d) => f.submission_due = d,
                None => dates_ok = false,
            }
        }
    } else if f.submission_due.is_empty() {
        e.add("submission_due", "required");
        dates_ok = false;
    }
    for (field, v, into) in [
        ("questions_due", &inp.questions_due, &mut f.questions_due),
        ("bond_return_on", &inp.bond_return_on, &mut f.bond_return_on),
    ] {
        if let Some(v) = v {
            if v.trim().is_empty() {
                *into = None;
            } else {
                match date(&mut e, field, v) {
                    Some(d) => *into = Some(d),
                    None => dates_ok = false,
                }
            }
        }
    }
    if let Some(v) = &inp.bond_amount {
        f.bond_amount = if v.trim().is_empty() { None } else { money(&mut e, "bond_amount", Some(v)) };
    }
    if dates_ok {
        for (field, code) in b::check_dates(f.questions_due.as_deref(), &f.submission_due, f.bond_return_on.as_deref())
        {
            e.add(field, code);
        }
    }
    e.finish()?;
    Ok(f)
}

/// The bid as the audit trail keeps it.
fn audit_json(v: &BidView) -> Value {
    json!({
        "issuer": v.issuer, "tender_no": v.tender_no, "questions_due": v.questions_due,
        "submission_due": v.submission_due, "bond_amount": v.bond_amount, "bond_return_on": v.bond_return_on,
        "documents": v.documents, "decision": v.decision, "decision_reasons": v.decision_reasons,
        "bid_price": v.bid_price, "below_floor": v.below_floor, "terms_outside_policy": v.terms_outside_policy,
        "bond_above_limit": v.bond_above_limit, "exception_state": v.exception_state, "approval_id": v.approval_id,
        "result": v.result, "winner": v.winner, "winning_price": v.winning_price, "result_note": v.result_note,
    })
}

/// Records a bid on an opportunity (undecided).
pub async fn create(db: &Db, ctx: &Ctx, opportunity_id: i64, inp: &BidIn) -> Result<BidView> {
    let mut tx = db.begin().await?;
    let v = create_in(&mut tx, ctx, opportunity_id, inp).await?;
    tx.commit().await?;
    Ok(v)
}

pub async fn create_in(tx: &mut WriteTx, ctx: &Ctx, opportunity_id: i64, inp: &BidIn) -> Result<BidView> {
    let o = writable(tx.conn(), &ctx.caller, opportunity_id).await?;
    let f = prepare(inp, Facts::default())?;
    if o.closed {
        return Err(Error::Conflict("opportunity_closed"));
    }
    let at = now();
    let id: i64 = sqlx::query(
        "INSERT INTO bids (opportunity_id, account_id, owner_id, issuer, tender_no, questions_due, submission_due, \
         bond_amount, bond_return_on, documents, decision, version, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending', 1, $11, $12, $12) RETURNING id",
    )
    .bind(o.id)
    .bind(o.account_id)
    .bind(o.owner_id)
    .bind(f.issuer)
    .bind(f.tender_no)
    .bind(f.questions_due)
    .bind(f.submission_due)
    .bind(f.bond_amount)
    .bind(f.bond_return_on)
    .bind(f.documents)
    .bind(ctx.caller.username.as_str())
    .bind(at)
    .fetch_one(tx.conn())
    .await?
    .try_get("id")?;
    let v = view(&row_scoped(tx.conn(), None, id).await?)?;
    audit::record(tx, ctx, "bid", &id.to_string(), "create", None, Some(&audit_json(&v))).await?;
    Ok(v)
}

/// Locks the bid's row for a change and checks the caller may make it; the row as it is
/// under the lock.
async fn lock(tx: &mut WriteTx, caller: &Caller, id: i64) -> Result<AnyRow> {
    let r = row_scoped(tx.conn(), Some(caller), id).await?;
    let lock = tx.lock_clause(RowLock::Update);
    sqlx::query(&format!("SELECT id FROM bids WHERE id = $1{lock}")).bind(id).fetch_one(tx.conn()).await?;
    writable(tx.conn(), caller, r.try_get("opportunity_id")?).await?;
    row_scoped(tx.conn(), None, id).await
}

fn check_version(r: &AnyRow, given: Option<i64>) -> Result<()> {
    let current: i64 = r.try_get("version")?;
    match given {
        None => Err(Error::invalid("version", "required")),
        Some(v) if v != current => Err(Error::StaleVersion { current }),
        Some(_) => Ok(()),
    }
}

fn check_open(r: &AnyRow) -> Result<()> {
    if r.try_get::<Option<BidResult>, _>("result")?.is_some() {
        return Err(Error::Conflict("bid_closed"));
    }
    Ok(())
}

/// What a decision to bid is judged on.
#[derive(Debug, Clone, PartialEq)]
struct Terms {
    bid_price: Option<i64>,
    bond_amount: Option<i64>,
    below_floor: bool,
    terms_outside_policy: bool,
}

impl Terms {
    fn of(r: &AnyRow) -> Result<Terms> {
        Ok(Terms {
            bid_price: r.try_get("bid_price")?,
            bond_amount: r.try_get("bond_amount")?,
            below_floor: r.try_get::<i64, _>("below_floor")? == 1,
            terms_outside_policy: r.try_get::<i64, _>("terms_outside_policy")? == 1,
        })
    }

    fn decisive(&self, x: Exceptions) -> Value {
        json!({
            "decision": "bid",
            "bid_price": self.bid_price.map(format_fen),
            "bond_amount": self.bond_amount.map(format_fen),
            "below_floor": x.below_floor,
            "terms_outside_policy": x.terms_outside_policy,
            "bond_above_limit": x.bond_above_limit,
        })
    }
}

/// Where a decision to bid on `terms` stands, given the bid as it was (`old`): within
/// authority it stands (`none`); beyond it, a request asked earlier on the same terms and
/// still pending or approved stands; otherwise a pending request is cancelled and a new one
/// asked. Returns the exception state, the request and whether the bond was above the limit.
async fn judge(
    tx: &mut WriteTx,
    ctx: &Ctx,
    subject: &Subject,
    old: &AnyRow,
    terms: &Terms,
    note: Option<&str>,
) -> Result<(BidExceptionState, Option<i64>, bool)> {
    let id = subject.id;
    let limit = bond_limit(tx.conn()).await?;
    let x = Exceptions::of(terms.below_floor, terms.terms_outside_policy, terms.bond_amount, limit);
    if !x.any() {
        approvals::cancel_pending(tx, ctx, Flow::BidException, "bid", id, "decisive_changed", Utc::now()).await?;
        return Ok((BidExceptionState::None, None, false));
    }
    let old_decision: BidDecision = old.try_get("decision")?;
    let old_state: BidExceptionState = old.try_get("exception_state")?;
    let old_terms = Terms::of(old)?;
    let old_above = old.try_get::<i64, _>("bond_above_limit")? == 1;
    if old_decision == BidDecision::Bid
        && matches!(old_state, BidExceptionState::Pending | BidExceptionState::Approved)
        && old_terms == *terms
        && old_above == x.bond_above_limit
    {
        return Ok((old_state, old.try_get("approval_id")?, x.bond_above_limit));
    }
    approvals::cancel_pending(tx, ctx, Flow::BidException, "bid", id, "decisive_changed", Utc::now()).await?;
    let payload = json!({
        "bond_amount": terms.bond_amount.map(format_fen),
        "bond_limit": format_fen(limit),
        "bid_price": terms.bid_price.map(format_fen),
        "below_floor": x.below_floor,
        "terms_outside_policy": x.terms_outside_policy,
        "bond_above_limit": x.bond_above_limit,
        "note": note,
    });
    let aid = approvals::start(tx, ctx, Flow::BidException, subject, &terms.decisive(x), &payload, Utc::now()).await?;
    Ok((BidExceptionState::Pending, Some(aid), x.bond_above_limit))
}

/// The approval subject of a bid (its joined row).
fn subject_of(r: &AnyRow) -> Result<Subject> {
    let issuer: String = r.try_get("issuer")?;
    let tender_no: Option<String> = r.try_get("tender_no")?;
    let account: String = r.try_get("account_name")?;
    let label = match tender_no {
        Some(n) => format!("{issuer} {n} · {account}"),
        None => format!("{issuer} · {account}"),
    };
    Ok(Subject {
        kind: "bid",
        id: r.try_get("id")?,
        label,
        region_id: r.try_get("account_region_id")?,
        branch_id: r.try_get("account_branch_id")?,
        owner_id: r.try_get("owner_id")?,
        figure: None,
        class: None,
    })
}

/// Edits the tender's facts. A decided bid whose bond changes is judged again.
pub async fn update(db: &Db, ctx: &Ctx, id: i64, inp: &BidIn) -> Result<BidView> {
    let mut tx = db.begin().await?;
    let r = lock(&mut tx, &ctx.caller, id).await?;
    check_version(&r, inp.version)?;
    let f = prepare(inp, facts_of(&r)?)?;
    check_open(&r)?;
    let before = view(&r)?;
    let at = now();
    sqlx::query(
        "UPDATE bids SET issuer = $1, tender_no = $2, questions_due = $3, submission_due = $4, bond_amount = $5, \
         bond_return_on = $6, documents = $7, version = version + 1, updated_at = $8 WHERE id = $9",
    )
    .bind(f.issuer.clone())
    .bind(f.tender_no.clone())
    .bind(f.questions_due.clone())
    .bind(f.submission_due.clone())
    .bind(f.bond_amount)
    .bind(f.bond_return_on.clone())
    .bind(f.documents.clone())
    .bind(at.clone())
    .bind(id)
    .execute(tx.conn())
    .await?;
    if before.decision == BidDecision::Bid {
        let terms = Terms { bond_amount: f.bond_amount, ..Terms::of(&r)? };
        let note: Option<String> = r.try_get("exception_note")?;
        // The request is labelled as the bid reads after the edit.
        let subject = subject_of(&row_scoped(tx.conn(), None, id).await?)?;
        let (state, aid, above) = judge(&mut tx, ctx, &subject, &r, &terms, note.as_deref()).await?;
        if (state, aid, above) != (before.exception_state, before.approval_id, before.bond_above_limit) {
            set_exception(&mut tx, id, state, aid, above, true, &at).await?;
        }
    }
    let after = view(&row_scoped(tx.conn(), None, id).await?)?;
    audit::record(
        &mut tx,
        ctx,
        "bid",
        &id.to_string(),
        "update",
        Some(&audit_json(&before)),
        Some(&audit_json(&after)),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Sets where the decision's exception stands; `clear_reason`: a new state, so the reason of
/// an earlier rejection or return no longer applies.
async fn set_exception(
    tx: &mut WriteTx,
    id: i64,
    state: BidExceptionState,
    aid: Option<i64>,
    above: bool,
    clear_reason: bool,
    at: &str,
) -> Result<()> {
    let clear = if clear_reason { ", exception_reason = NULL" } else { "" };
    sqlx::query(&format!(
        "UPDATE bids SET exception_state = $1, approval_id = $2, bond_above_limit = $3{clear}, updated_at = $4 WHERE id = $5"
    ))
    .bind(state.code())
    .bind(aid)
    .bind(above as i64)
    .bind(at.to_string())
    .bind(id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Decides the tender: no bid (with its reasons), or bid — at once within authority, else a
/// `bid_exception` request the bid waits for.
pub async fn decide(db: &Db, ctx: &Ctx, id: i64, d: &DecideIn) -> Result<BidView> {
    let mut e = Errors::default();
    let decision = match BidDecision::parse(&d.decision) {
        Ok(BidDecision::Pending) | Err(_) => {
            e.add("decision", "invalid_choice");
            None
        }
        Ok(x) => Some(x),
    };
    let reasons = match text::required(d.reasons.as_deref(), 2000) {
        Ok(t) => Some(t),
        Err(c) => {
            e.add("reasons", c);
            None
        }
    };
    let bid_price = money(&mut e, "bid_price", d.bid_price.as_deref());
    let note = match text::optional(d.exception_note.as_deref(), 2000) {
        Ok(t) => t,
        Err(c) => {
            e.add("exception_note", c);
            None
        }
    };
    if decision == Some(BidDecision::Bid) && (d.below_floor || d.terms_outside_policy) && note.is_none() {
        e.add("exception_note", "required");
    }
    e.finish()?;
    let decision = decision.unwrap_or(BidDecision::NoBid);
    let mut tx = db.begin().await?;
    let r = lock(&mut tx, &ctx.caller, id).await?;
    check_version(&r, Some(d.version))?;
    check_open(&r)?;
    let before = view(&r)?;
    let at = now();
    let bid = decision == BidDecision::Bid;
    let terms = Terms {
        bid_price: if bid { bid_price } else { None },
        bond_amount: r.try_get("bond_amount")?,
        below_floor: bid && d.below_floor,
        terms_outside_policy: bid && d.terms_outside_policy,
    };
    let (state, aid, above) = if bid {
        judge(&mut tx, ctx, &subject_of(&r)?, &r, &terms, note.as_deref()).await?
    } else {
        // Declined: a pending request has nothing left to decide.
        approvals::cancel_pending(&mut tx, ctx, Flow::BidException, "bid", id, "withdrawn", Utc::now()).await?;
        (BidExceptionState::None, None, false)
    };
    sqlx::query(
        "UPDATE bids SET decision = $1, decision_reasons = $2, bid_price = $3, below_floor = $4, \
         terms_outside_policy = $5, exception_note = $6, decided_by = $7, decided_at = $8, version = version + 1, \
         updated_at = $8 WHERE id = $9",
    )
    .bind(decision.code())
    .bind(reasons)
    .bind(terms.bid_price)
    .bind(terms.below_floor as i64)
    .bind(terms.terms_outside_policy as i64)
    .bind(if bid { note } else { None })
    .bind(ctx.caller.username.as_str())
    .bind(at.clone())
    .bind(id)
    .execute(tx.conn())
    .await?;
    let kept = state == before.exception_state && aid == before.approval_id;
    set_exception(&mut tx, id, state, aid, above, !kept, &at).await?;
    let after = view(&row_scoped(tx.conn(), None, id).await?)?;
    audit::record(
        &mut tx,
        ctx,
        "bid",
        &id.to_string(),
        "decide",
        Some(&audit_json(&before)),
        Some(&audit_json(&after)),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

// ---------------------------------------------------------------------------------------------
// The tender's documents (招标文件, 投标文件, 保证金凭证…)

/// A bid's files, oldest first (the bid in scope); removable while the tender is open.
pub(crate) async fn files(conn: &mut sqlx::AnyConnection, caller: &Caller, id: i64) -> Result<Vec<Attachment>> {
    let r = row_scoped(conn, Some(caller), id).await?;
    let open = check_open(&r).is_ok();
    let mut files = attachments::of(conn, "bid", id).await?;
    for a in &mut files {
        a.removable = open;
    }
    Ok(files)
}

/// The bid's row in the caller's scope (a file's read asks no more).
pub(crate) async fn seen(conn: &mut sqlx::AnyConnection, caller: &Caller, id: i64) -> Result<()> {
    row_scoped(conn, Some(caller), id).await.map(|_| ())
}

/// Adds a document to a bid; whoever may write the bid may, at any time (the signed contract
/// or the bond's return slip comes after the result).
pub async fn attach(db: &Db, ctx: &Ctx, store: &Storage, id: i64, f: &FileIn<'_>) -> Result<Attachment> {
    let mut tx = db.begin().await?;
    lock(&mut tx, &ctx.caller, id).await?;
    let a = attachments::add_in(&mut tx, ctx, store, "bid", id, None, f).await?;
    tx.commit().await?;
    Ok(Attachment { removable: true, ..a })
}

/// Removes a document from a bid while the tender is open (after the result the file stays
/// with the record).
pub async fn detach(db: &Db, ctx: &Ctx, id: i64, file_id: i64) -> Result<()> {
    let mut tx = db.begin().await?;
    let r = lock(&mut tx, &ctx.caller, id).await?;
    attachments::one(tx.conn(), "bid", id, file_id).await?;
    if check_open(&r).is_err() {
        return Err(Error::Conflict("attachment_fixed"));
    }
    attachments::remove_in(&mut tx, ctx, "bid", id, file_id).await?;
    tx.commit().await?;
    Ok(())
}

/// Records how the tender ended: won or lost (a decision to bid that stands; lost names the
/// winner), or abandoned (any time; a pending request is withdrawn).
pub async fn record_result(db: &Db, ctx: &Ctx, id: i64, inp: &ResultIn) -> Result<BidView> {
    let mut e = Errors::default();
    let result = match BidResult::parse(&inp.result) {
        Ok(x) => Some(x),
        Err(c) => {
            e.add("result", c);
            None
        }
    };
    let winner = match text::optional(inp.winner.as_deref(), 200) {
        Ok(t) => t,
        Err(c) => {
            e.add("winner", c);
            None
        }
    };
    let note = match text::optional(inp.note.as_deref(), 2000) {
        Ok(t) => t,
        Err(c) => {
            e.add("note", c);
            None
        }
    };
    let price = money(&mut e, "winning_price", inp.winning_price.as_deref());
    if let Some((f, c)) = result.and_then(|r| b::check_result(r, winner.as_deref())) {
        e.add(f, c);
    }
    e.finish()?;
    let result = result.unwrap_or(BidResult::Abandoned);
    let mut tx = db.begin().await?;
    let r = lock(&mut tx, &ctx.caller, id).await?;
    check_version(&r, Some(inp.version))?;
    check_open(&r)?;
    let before = view(&r)?;
    if result != BidResult::Abandoned {
        if before.decision != BidDecision::Bid {
            return Err(Error::Conflict("bid_not_decided"));
        }
        if !before.exception_state.stands() {
            return Err(Error::Conflict("bid_exception_open"));
        }
    } else {
        approvals::cancel_pending(&mut tx, ctx, Flow::BidException, "bid", id, "withdrawn", Utc::now()).await?;
    }
    let at = now();
    sqlx::query(
        "UPDATE bids SET result = $1, winner = $2, winning_price = $3, result_note = $4, result_by = $5, \
         result_at = $6, version = version + 1, updated_at = $6 WHERE id = $7",
    )
    .bind(result.code())
    .bind(if result == BidResult::Abandoned { None } else { winner })
    .bind(price)
    .bind(note)
    .bind(ctx.caller.username.as_str())
    .bind(at)
    .bind(id)
    .execute(tx.conn())
    .await?;
    let after = view(&row_scoped(tx.conn(), None, id).await?)?;
    if inp.close_opportunity {
        if result != BidResult::Lost {
            return Err(Error::invalid("close_opportunity", "only_when_lost"));
        }
        close_lost(&mut tx, ctx, &after).await?;
    }
    audit::record(
        &mut tx,
        ctx,
        "bid",
        &id.to_string(),
        "result",
        Some(&audit_json(&before)),
        Some(&audit_json(&after)),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Closes a lost tender's opportunity as lost, to the winner; its reason names the tender and
/// the winning price. An opportunity already won or lost is left as it is.
async fn close_lost(tx: &mut WriteTx, ctx: &Ctx, b: &BidView) -> Result<()> {
    let r = sqlx::query("SELECT stage, version FROM opportunities WHERE id = $1")
        .bind(b.opportunity_id)
        .fetch_one(tx.conn())
        .await?;
    let stage: String = r.try_get("stage")?;
    if matches!(stage.as_str(), "won" | "lost") {
        return Ok(());
    }
    let tender = b.tender_no.as_deref().map(|n| format!("{} {n}", b.issuer)).unwrap_or_else(|| b.issuer.clone());
    let price = b.winning_price.as_deref().map(|p| format!("，中标价 {p} 元")).unwrap_or_default();
    let mut reason = format!("投标失利：{tender}{price}");
    if let Some(n) = &b.result_note {
        reason = format!("{reason}；{n}");
    }
    let m = opportunities::StageMove {
        stage: "lost".into(),
        version: Some(r.try_get("version")?),
        reason: None,
        override_reason: None,
        booked_amount: None,
        booked_on: None,
        lost_reason: Some(reason.chars().take(1000).collect()),
        lost_to: b.winner.clone(),
    };
    opportunities::move_stage_in(tx, ctx, b.opportunity_id, &m).await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The approval engine's side

/// A bid-exception request closed: the bid it was asked for follows it (approved, rejected or
/// returned with the decider's reason, cancelled). A request the bid no longer waits for (it
/// was asked again) changes nothing.
fn on_closed<'a>(tx: &'a mut WriteTx, ctx: &'a Ctx, c: Closed<'a>) -> HookFuture<'a> {
    Box::pin(async move {
        let state = match c.state {
            ApprovalState::Approved => BidExceptionState::Approved,
            ApprovalState::Rejected => BidExceptionState::Rejected,
            ApprovalState::Returned => BidExceptionState::Returned,
            ApprovalState::Cancelled => BidExceptionState::Cancelled,
            ApprovalState::Pending => return Ok(()),
        };
        let reason = match state {
            BidExceptionState::Rejected | BidExceptionState::Returned => c.reason.map(str::to_string),
            _ => None,
        };
        let n = sqlx::query(
            "UPDATE bids SET exception_state = $1, exception_reason = $2, version = version + 1, updated_at = $3 \
             WHERE id = $4 AND approval_id = $5 AND exception_state = 'pending'",
        )
        .bind(state.code())
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
                "bid",
                &c.subject_id.to_string(),
                "exception",
                Some(&json!({"exception_state": "pending"})),
                Some(&json!({"exception_state": state, "reason": reason, "approval_id": c.approval_id})),
            )
            .await?;
        }
        Ok(())
    })
}

inventory::submit! { OutcomeHook { flow: Flow::BidException, run: on_closed } }

/// Whoever sees a bid's opportunity sees its requests.
fn sees_bid<'a>(conn: &'a mut sqlx::AnyConnection, caller: &'a Caller, id: i64) -> ScopeFuture<'a> {
    Box::pin(async move { approvals::seen(row_scoped(conn, Some(caller), id).await) })
}

inventory::submit! { SubjectScope { kind: "bid", sees: sees_bid } }
