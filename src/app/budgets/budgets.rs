//! Cost centres and their yearly budgets (issue 25 item 3; seed 000 F-1 … F-9).
//!
//! A cost centre is an org unit: the KA department (HQ), each region, each branch. A budget is
//! kept per cost centre and year, in lines of a category (the company's list, a setting) and a
//! month (1–12) or the whole year (0). It is drafted (the KA director for any cost centre, a
//! branch manager for those of their part of the tree), questioned in the 质询 round (questions
//! by whoever reviews, each answered by the drafter), submitted to the sales department manager
//! through the `budget_plan` flow (each submission keeps its lines as a revision), revised when
//! returned, approved, and closed at the year's end (no more spending on it).
//!
//! Who sees budgets: the directors, the finance manager and the general manager every one; the
//! branch managers and salespeople those of their own part of the org tree.
use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

use crate::app::approvals::{self, Closed, HookFuture, OutcomeHook, ScopeFuture, SubjectScope};
use crate::app::records::{audit, settings};
use crate::app::{Caller, Ctx, Error, Result};
use crate::db::{ts, Db, RowLock, WriteTx};
use crate::domain::approval::{Flow, State as ApprovalState};
use crate::domain::error::Errors;
use crate::domain::money::{format_fen, parse_fen};
use crate::domain::role::Role;
use crate::domain::text;

/// The approval subject's kind.
pub const KIND: &str = "budget";
/// The settings key of the company's spending categories.
pub const CATEGORIES_KEY: &str = "budget_categories";
/// A budget's states.
pub const STATES: &[&str] = &["draft", "in_review", "returned", "rejected", "approved", "closed"];

// ---------------------------------------------------------------- who

/// Sees every cost centre.
fn sees_all(role: Role) -> bool {
    matches!(
        role,
        Role::Gm | Role::MarketingDirector | Role::SalesDeptManager | Role::KaDirector | Role::FinanceManager
    )
}

/// Sees the cost centres of their own part of the org tree.
fn sees_own_part(role: Role) -> bool {
    matches!(role, Role::BranchManager | Role::KaManager | Role::KaRep | Role::InsideSales)
}

/// Whether the caller may see budgets at all.
pub fn may_see(caller: &Caller) -> bool {
    sees_all(caller.role) || sees_own_part(caller.role)
}

/// Who keeps the company's list of categories.
pub fn may_set_categories(caller: &Caller) -> bool {
    matches!(caller.role, Role::Admin | Role::FinanceManager | Role::SalesDeptManager)
}

/// Who asks questions in the 质询 round (never on their own draft).
fn reviews(role: Role) -> bool {
    matches!(
        role,
        Role::SalesDeptManager | Role::FinanceManager | Role::Gm | Role::MarketingDirector | Role::KaDirector
    )
}

/// Who drafts a cost centre's budget: the KA director any; a branch manager those of their part.
fn may_draft(caller: &Caller, cc_path: &str) -> bool {
    caller.role == Role::KaDirector || (caller.role == Role::BranchManager && cc_path.starts_with(&caller.org_path))
}

// ---------------------------------------------------------------- categories

/// A spending category of the company's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetCategory {
    /// Lowercase letters and `_`, 1–30 characters.
    #[schema(pattern = "^[a-z][a-z_]{0,29}$")]
    pub code: String,
    /// The company's name for it (1–40 characters).
    pub name: String,
}

/// The built-in list (seed 000 F-: travel, entertainment, events, samples, bids, others).
pub fn default_categories() -> Vec<BudgetCategory> {
    [
        ("travel", "差旅费"),
        ("entertainment", "业务招待费"),
        ("events", "市场活动费"),
        ("samples", "样品费"),
        ("bids", "投标费"),
        ("others", "其他费用"),
    ]
    .iter()
    .map(|(c, n)| BudgetCategory { code: (*c).into(), name: (*n).into() })
    .collect()
}

/// The company's categories and the setting's version (0: the built-in list, never saved).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CategoriesView {
    pub categories: Vec<BudgetCategory>,
    pub version: i64,
    /// The list is the company's choice; false while it is the built-in one.
    pub saved: bool,
}

/// A new list of categories, over the version read.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoriesIn {
    #[schema(min_items = 1, max_items = 20)]
    pub categories: Vec<BudgetCategory>,
    pub version: i64,
}

pub async fn categories_of(conn: &mut sqlx::AnyConnection) -> Result<CategoriesView> {
    let r = sqlx::query("SELECT value, version FROM settings WHERE key = $1")
        .bind(CATEGORIES_KEY)
        .fetch_optional(&mut *conn)
        .await?;
    match r {
        None => Ok(CategoriesView { categories: default_categories(), version: 0, saved: false }),
        Some(r) => {
            let v: String = r.try_get("value")?;
            Ok(CategoriesView {
                categories: serde_json::from_str(&v).map_err(|e| anyhow::anyhow!("stored budget categories: {e}"))?,
                version: r.try_get("version")?,
                saved: true,
            })
        }
    }
}

pub async fn categories(db: &Db) -> Result<CategoriesView> {
    let mut conn = db.pool.acquire().await?;
    categories_of(&mut conn).await
}

/// Saves the company's categories: 1–20, codes unique and well formed, each named.
pub async fn set_categories(db: &Db, ctx: &Ctx, inp: &CategoriesIn) -> Result<CategoriesView> {
    if !may_set_categories(&ctx.caller) {
        return Err(Error::Forbidden);
    }
    let mut e = Errors::default();
    if inp.categories.is_empty() || inp.categories.len() > 20 {
        e.add("categories", "categories_count");
    }
    for (i, c) in inp.categories.iter().enumerate() {
        let ok = c.code.len() <= 30
            && c.code.starts_with(|ch: char| ch.is_ascii_lowercase())
            && c.code.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_');
        if !ok {
            e.add(&format!("categories[{i}].code"), "code_format");
        } else if inp.categories[..i].iter().any(|d| d.code == c.code) {
            e.add(&format!("categories[{i}].code"), "duplicate");
        }
        if let Err(code) = text::required(Some(&c.name), 40) {
            e.add(&format!("categories[{i}].name"), code);
        }
    }
    e.finish()?;
    let list: Vec<BudgetCategory> = inp
        .categories
        .iter()
        .map(|c| BudgetCategory { code: c.code.clone(), name: c.name.trim().to_string() })
        .collect();
    let mut tx = db.begin().await?;
    let before = categories_of(tx.conn()).await?;
    let value = serde_json::to_string(&list).map_err(|e| anyhow::anyhow!("{e}"))?;
    if settings::write(&mut tx, CATEGORIES_KEY, &value, inp.version, &ctx.caller.username).await? {
        audit::record(
            &mut tx,
            ctx,
            "settings",
            CATEGORIES_KEY,
            "update",
            Some(&json!({"categories": before.categories})),
            Some(&json!({"categories": list})),
        )
        .await?;
    }
    let out = categories_of(tx.conn()).await?;
    tx.commit().await?;
    Ok(out)
}

fn category_name(list: &[BudgetCategory], code: &str) -> String {
    list.iter().find(|c| c.code == code).map(|c| c.name.clone()).unwrap_or_else(|| code.to_string())
}

// ---------------------------------------------------------------- cost centres

/// A cost centre: an org unit (the KA department at HQ, a region, a branch).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CostCentre {
    /// The org unit's id.
    pub id: i64,
    pub code: String,
    pub name: String,
    /// `hq`, `region` or `branch`.
    pub kind: String,
    #[serde(skip)]
    pub path: String,
    #[serde(skip)]
    pub parent_id: Option<i64>,
}

fn visible(caller: &Caller, path: &str) -> bool {
    sees_all(caller.role) || (sees_own_part(caller.role) && path.starts_with(&caller.org_path))
}

/// The cost centres the caller sees, in the tree's order.
pub async fn cost_centres_of(conn: &mut sqlx::AnyConnection, caller: &Caller) -> Result<Vec<CostCentre>> {
    if !may_see(caller) {
        return Err(Error::Forbidden);
    }
    let rows = sqlx::query("SELECT id, code, name, kind, path, parent_id FROM org_units ORDER BY path")
        .fetch_all(&mut *conn)
        .await?;
    let mut out = vec![];
    for r in rows {
        let path: String = r.try_get("path")?;
        if visible(caller, &path) {
            out.push(CostCentre {
                id: r.try_get("id")?,
                code: r.try_get("code")?,
                name: r.try_get("name")?,
                kind: r.try_get("kind")?,
                path,
                parent_id: r.try_get("parent_id")?,
            });
        }
    }
    Ok(out)
}

/// One cost centre the caller sees (404 otherwise).
pub async fn cost_centre_in(conn: &mut sqlx::AnyConnection, caller: &Caller, id: i64) -> Result<CostCentre> {
    cost_centres_of(conn, caller).await?.into_iter().find(|c| c.id == id).ok_or(Error::NotFound)
}

/// Where a cost centre lies for the approval engine: its region and branch.
pub(crate) fn placing(cc: &CostCentre) -> (Option<i64>, Option<i64>) {
    match cc.kind.as_str() {
        "region" => (Some(cc.id), None),
        "branch" => (cc.parent_id, Some(cc.id)),
        _ => (None, None),
    }
}

/// The cost centres × the year: each one's budget, if any, with its state and total.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CentreYear {
    pub cost_centre: CostCentre,
    pub year: i32,
    pub budget_id: Option<i64>,
    pub state: Option<String>,
    #[schema(value_type = Option<crate::web::api::contract::Money>)]
    pub total: Option<String>,
    pub revision: Option<i64>,
    /// The caller may draft this cost centre's budget (none yet).
    pub may_draft: bool,
}

pub async fn overview(db: &Db, caller: &Caller, year: i32) -> Result<Vec<CentreYear>> {
    let mut conn = db.pool.acquire().await?;
    let ccs = cost_centres_of(&mut conn, caller).await?;
    let rows = sqlx::query(
        "SELECT b.id, b.org_unit_id, b.state, b.revision, \
         CAST(COALESCE((SELECT SUM(l.amount) FROM budget_lines l WHERE l.budget_id = b.id), 0) AS BIGINT) AS total \
         FROM budgets b WHERE b.year = $1",
    )
    .bind(year as i64)
    .fetch_all(&mut *conn)
    .await?;
    let mut by_cc: HashMap<i64, (i64, String, i64, i64)> = HashMap::new();
    for r in rows {
        by_cc.insert(
            r.try_get("org_unit_id")?,
            (r.try_get("id")?, r.try_get("state")?, r.try_get("revision")?, r.try_get("total")?),
        );
    }
    Ok(ccs
        .into_iter()
        .map(|cc| {
            let b = by_cc.get(&cc.id);
            CentreYear {
                may_draft: b.is_none() && may_draft(caller, &cc.path),
                year,
                budget_id: b.map(|b| b.0),
                state: b.map(|b| b.1.clone()),
                revision: b.map(|b| b.2),
                total: b.map(|b| format_fen(b.3)),
                cost_centre: cc,
            }
        })
        .collect())
}

// ---------------------------------------------------------------- a budget

/// A line as given.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetLineIn {
    /// One of the company's categories.
    pub category: String,
    /// 1–12, or 0 for the whole year.
    #[schema(minimum = 0, maximum = 12)]
    pub month: i64,
    /// Yuan, a decimal string (`"12000.00"`).
    #[schema(pattern = r"^\d{1,15}(\.\d{1,2})?$")]
    pub amount: String,
}

/// A new budget: a cost centre's year, drafted.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetIn {
    /// The cost centre (an org unit's id).
    pub cost_centre_id: i64,
    #[schema(minimum = 2000, maximum = 2100)]
    pub year: i64,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    #[schema(max_items = 400)]
    pub lines: Vec<BudgetLineIn>,
}

/// A draft's lines (all of them, replacing the earlier ones) over the version shown.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetLinesIn {
    #[serde(default)]
    pub note: Option<String>,
    #[schema(max_items = 400)]
    pub lines: Vec<BudgetLineIn>,
    pub version: i64,
}

/// The version shown (a change meanwhile is 409).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetVersionIn {
    pub version: i64,
}

/// A question of the 质询 round.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetQuestionIn {
    /// 1–2000 characters.
    #[serde(default)]
    #[schema(value_type = String)]
    pub question: Option<String>,
}

/// The drafter's answer to a question.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetAnswerIn {
    /// 1–2000 characters.
    #[serde(default)]
    #[schema(value_type = String)]
    pub answer: Option<String>,
}

/// A budget line.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BudgetLineView {
    pub category: String,
    pub category_name: String,
    /// 1–12, or 0 for the whole year.
    pub month: i64,
    #[schema(value_type = crate::web::api::contract::Money)]
    pub amount: String,
}

/// A category's line of the year: its budget, what is committed and spent, what remains.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BudgetCategoryFigures {
    pub category: String,
    pub category_name: String,
    #[schema(value_type = crate::web::api::contract::Money)]
    pub budget: String,
    #[schema(value_type = crate::web::api::contract::Money)]
    pub committed: String,
    #[schema(value_type = crate::web::api::contract::Money)]
    pub spent: String,
    /// Budget − committed − spent (negative when overspent).
    #[schema(value_type = String, pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub remaining: String,
}

/// A question of the 质询 round and its answer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BudgetQuestionView {
    pub id: i64,
    /// The revision it was asked of.
    pub revision: i64,
    pub question: String,
    pub asked_by_name: String,
    #[schema(format = DateTime)]
    pub asked_at: String,
    pub answer: Option<String>,
    pub answered_by_name: Option<String>,
    #[schema(format = DateTime)]
    pub answered_at: Option<String>,
}

/// A submitted revision of the budget.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BudgetRevisionView {
    pub revision: i64,
    #[schema(value_type = crate::web::api::contract::Money)]
    pub total: String,
    pub lines: Vec<BudgetLineView>,
    pub approval_id: Option<i64>,
    pub submitted_by_name: String,
    #[schema(format = DateTime)]
    pub submitted_at: String,
}

/// A budget, whole.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BudgetView {
    pub id: i64,
    pub cost_centre_id: i64,
    pub cost_centre_name: String,
    /// `hq`, `region` or `branch`.
    pub cost_centre_kind: String,
    pub year: i64,
    /// `draft`, `in_review`, `returned`, `rejected`, `approved`, `closed`.
    pub state: String,
    /// The revision being drafted or last submitted.
    pub revision: i64,
    pub approval_id: Option<i64>,
    pub drafted_by_name: String,
    pub note: Option<String>,
    pub lines: Vec<BudgetLineView>,
    /// By category: the budget against what is committed and spent.
    pub categories: Vec<BudgetCategoryFigures>,
    #[schema(value_type = crate::web::api::contract::Money)]
    pub total: String,
    pub questions: Vec<BudgetQuestionView>,
    /// Every submission, latest first.
    pub revisions: Vec<BudgetRevisionView>,
    #[schema(format = DateTime)]
    pub approved_at: Option<String>,
    #[schema(format = DateTime)]
    pub closed_at: Option<String>,
    pub version: i64,
    /// The caller may change the lines and submit (the drafter's side).
    pub may_edit: bool,
    /// The caller may ask a question (a reviewer, not the drafter, before approval).
    pub may_ask: bool,
    /// The caller may answer the open questions (the drafter).
    pub may_answer: bool,
    /// The caller may close the year (approved budgets; the KA director or the finance manager).
    pub may_close: bool,
}

/// Spending that counts against a budget: committed (waiting) and spent (signed or approved).
pub const COMMITTED: &[&str] = &["submitted", "in_approval"];
pub const SPENT: &[&str] = &["signed", "approved"];

/// Per category of a budget: (committed, spent) in fen.
pub(crate) async fn used_of(conn: &mut sqlx::AnyConnection, budget_id: i64) -> Result<HashMap<String, (i64, i64)>> {
    let rows = sqlx::query(
        "SELECT category, state, CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS n FROM spending \
         WHERE budget_id = $1 GROUP BY category, state",
    )
    .bind(budget_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut out: HashMap<String, (i64, i64)> = HashMap::new();
    for r in rows {
        let (cat, state, n): (String, String, i64) = (r.try_get("category")?, r.try_get("state")?, r.try_get("n")?);
        let e = out.entry(cat).or_default();
        if COMMITTED.contains(&state.as_str()) {
            e.0 += n;
        } else if SPENT.contains(&state.as_str()) {
            e.1 += n;
        }
    }
    Ok(out)
}

/// A budget's lines in fen: (category, month, amount).
pub(crate) async fn lines_of(conn: &mut sqlx::AnyConnection, budget_id: i64) -> Result<Vec<(String, i64, i64)>> {
    sqlx::query("SELECT category, month, amount FROM budget_lines WHERE budget_id = $1 ORDER BY category, month")
        .bind(budget_id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("category")?, r.try_get("month")?, r.try_get("amount")?)))
        .collect()
}

pub(crate) async fn load_in(conn: &mut sqlx::AnyConnection, caller: &Caller, id: i64) -> Result<BudgetView> {
    let r = sqlx::query(
        "SELECT b.*, u.display_name AS drafted_by_name FROM budgets b JOIN users u ON u.id = b.drafted_by WHERE b.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(Error::NotFound)?;
    let cc = cost_centre_in(conn, caller, r.try_get("org_unit_id")?).await?;
    let cats = categories_of(conn).await?.categories;
    let lines = lines_of(conn, id).await?;
    let used = used_of(conn, id).await?;
    let mut per: BTreeMap<String, i64> = BTreeMap::new();
    for (c, _, a) in &lines {
        *per.entry(c.clone()).or_default() += a;
    }
    for c in used.keys() {
        per.entry(c.clone()).or_default();
    }
    let order = |c: &str| cats.iter().position(|x| x.code == c).unwrap_or(usize::MAX);
    let mut keys: Vec<&String> = per.keys().collect();
    keys.sort_by_key(|k| (order(k), (*k).clone()));
    let categories = keys
        .into_iter()
        .map(|c| {
            let b = per[c];
            let (committed, spent) = used.get(c).copied().unwrap_or_default();
            BudgetCategoryFigures {
                category: c.clone(),
                category_name: category_name(&cats, c),
                budget: format_fen(b),
                committed: format_fen(committed),
                spent: format_fen(spent),
                remaining: format_fen(b - committed - spent),
            }
        })
        .collect();
    let total: i64 = lines.iter().map(|l| l.2).sum();
    let mut line_views: Vec<BudgetLineView> = lines
        .iter()
        .map(|(c, m, a)| BudgetLineView {
            category: c.clone(),
            category_name: category_name(&cats, c),
            month: *m,
            amount: format_fen(*a),
        })
        .collect();
    line_views.sort_by_key(|l| (order(&l.category), l.month));
    let questions = sqlx::query(
        "SELECT q.*, a.display_name AS asked_by_name, w.display_name AS answered_by_name FROM budget_questions q \
         JOIN users a ON a.id = q.asked_by LEFT JOIN users w ON w.id = q.answered_by WHERE q.budget_id = $1 ORDER BY q.id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|q| {
        Ok(BudgetQuestionView {
            id: q.try_get("id")?,
            revision: q.try_get("revision")?,
            question: q.try_get("question")?,
            asked_by_name: q.try_get("asked_by_name")?,
            asked_at: q.try_get("asked_at")?,
            answer: q.try_get("answer")?,
            answered_by_name: q.try_get("answered_by_name")?,
            answered_at: q.try_get("answered_at")?,
        })
    })
    .collect::<Result<Vec<_>>>()?;
    let revisions = sqlx::query(
        "SELECT v.*, u.display_name AS submitted_by_name FROM budget_revisions v JOIN users u ON u.id = v.submitted_by \
         WHERE v.budget_id = $1 ORDER BY v.revision DESC",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|v| {
        let lines: Vec<BudgetLineView> = serde_json::from_str(&v.try_get::<String, _>("lines")?).unwrap_or_default();
        Ok(BudgetRevisionView {
            revision: v.try_get("revision")?,
            total: format_fen(v.try_get("total")?),
            lines,
            approval_id: v.try_get("approval_id")?,
            submitted_by_name: v.try_get("submitted_by_name")?,
            submitted_at: v.try_get("submitted_at")?,
        })
    })
    .collect::<Result<Vec<_>>>()?;
    let state: String = r.try_get("state")?;
    let drafted_by: i64 = r.try_get("drafted_by")?;
    let editable = matches!(state.as_str(), "draft" | "returned" | "rejected");
    let mine = drafted_by == caller.user_id;
    Ok(BudgetView {
        id,
        cost_centre_id: cc.id,
        cost_centre_name: cc.name.clone(),
        cost_centre_kind: cc.kind.clone(),
        year: r.try_get("year")?,
        revision: r.try_get("revision")?,
        approval_id: r.try_get("approval_id")?,
        drafted_by_name: r.try_get("drafted_by_name")?,
        note: r.try_get("note")?,
        lines: line_views,
        categories,
        total: format_fen(total),
        may_edit: editable && may_draft(caller, &cc.path),
        may_ask: reviews(caller.role) && !mine && matches!(state.as_str(), "draft" | "in_review" | "returned"),
        may_answer: mine && questions.iter().any(|q| q.answer.is_none()),
        may_close: state == "approved" && matches!(caller.role, Role::KaDirector | Role::FinanceManager),
        questions,
        revisions,
        approved_at: r.try_get("approved_at")?,
        closed_at: r.try_get("closed_at")?,
        version: r.try_get("version")?,
        state,
    })
}

pub async fn get(db: &Db, caller: &Caller, id: i64) -> Result<BudgetView> {
    let mut conn = db.pool.acquire().await?;
    load_in(&mut conn, caller, id).await
}

/// The lines checked against the company's categories: (category, month, fen), each bad one
/// named by its index.
fn check_lines(cats: &[BudgetCategory], lines: &[BudgetLineIn], e: &mut Errors) -> Vec<(String, i64, i64)> {
    let mut out: Vec<(String, i64, i64)> = vec![];
    if lines.len() > 400 {
        e.add("lines", "too_many_lines");
    }
    for (i, l) in lines.iter().enumerate() {
        let mut ok = true;
        if !cats.iter().any(|c| c.code == l.category) {
            e.add(&format!("lines[{i}].category"), "invalid_choice");
            ok = false;
        }
        if !(0..=12).contains(&l.month) {
            e.add(&format!("lines[{i}].month"), "month_range");
            ok = false;
        }
        let amount = e.take(&format!("lines[{i}].amount"), parse_fen(&l.amount));
        if ok && lines[..i].iter().any(|m| m.category == l.category && m.month == l.month) {
            e.add(&format!("lines[{i}].month"), "duplicate_line");
            ok = false;
        }
        if let (true, Some(a)) = (ok, amount) {
            out.push((l.category.clone(), l.month, a));
        }
    }
    out
}

async fn write_lines(tx: &mut WriteTx, id: i64, lines: &[(String, i64, i64)]) -> Result<()> {
    sqlx::query("DELETE FROM budget_lines WHERE budget_id = $1").bind(id).execute(tx.conn()).await?;
    for (c, m, a) in lines {
        sqlx::query("INSERT INTO budget_lines (budget_id, category, month, amount) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(c.clone())
            .bind(*m)
            .bind(*a)
            .execute(tx.conn())
            .await?;
    }
    Ok(())
}

fn lines_json(lines: &[(String, i64, i64)]) -> serde_json::Value {
    json!(lines
        .iter()
        .map(|(c, m, a)| json!({"category": c, "month": m, "amount": format_fen(*a)}))
        .collect::<Vec<_>>())
}

/// Drafts a cost centre's budget of a year (one per cost centre and year: a second is 409).
pub async fn create(db: &Db, ctx: &Ctx, inp: &BudgetIn) -> Result<BudgetView> {
    let caller = &ctx.caller;
    let mut tx = db.begin().await?;
    let cc = cost_centre_in(tx.conn(), caller, inp.cost_centre_id).await.map_err(|e| match e {
        Error::NotFound => Error::invalid("cost_centre_id", "unknown_cost_centre"),
        e => e,
    })?;
    if !may_draft(caller, &cc.path) {
        return Err(Error::Forbidden);
    }
    let cats = categories_of(tx.conn()).await?.categories;
    let mut e = Errors::default();
    if !(2000..=2100).contains(&inp.year) {
        e.add("year", "year_range");
    }
    let note = e.take("note", text::optional(inp.note.as_deref(), 2000));
    let lines = check_lines(&cats, &inp.lines, &mut e);
    e.finish()?;
    let taken = sqlx::query("SELECT id FROM budgets WHERE org_unit_id = $1 AND year = $2")
        .bind(cc.id)
        .bind(inp.year)
        .fetch_optional(tx.conn())
        .await?;
    if taken.is_some() {
        return Err(Error::Conflict("budget_exists"));
    }
    let at = ts(crate::app::clock::now());
    let id: i64 = sqlx::query(
        "INSERT INTO budgets (org_unit_id, year, state, revision, drafted_by, note, version, created_at, updated_by, updated_at) \
         VALUES ($1, $2, 'draft', 1, $3, $4, 1, $5, $6, $5) RETURNING id",
    )
    .bind(cc.id)
    .bind(inp.year)
    .bind(caller.user_id)
    .bind(note.flatten())
    .bind(at)
    .bind(caller.username.as_str())
    .fetch_one(tx.conn())
    .await?
    .try_get("id")?;
    write_lines(&mut tx, id, &lines).await?;
    audit::record(
        &mut tx,
        ctx,
        KIND,
        &id.to_string(),
        "create",
        None,
        Some(&json!({"cost_centre_id": cc.id, "year": inp.year, "lines": lines_json(&lines)})),
    )
    .await?;
    let v = load_in(tx.conn(), caller, id).await?;
    tx.commit().await?;
    Ok(v)
}

/// Locks the budget, checks the caller sees it and that the version shown is current.
async fn lock_in(tx: &mut WriteTx, caller: &Caller, id: i64, version: Option<i64>) -> Result<BudgetView> {
    let lock = tx.lock_clause(RowLock::Update);
    sqlx::query(&format!("SELECT id FROM budgets WHERE id = $1{lock}")).bind(id).fetch_optional(tx.conn()).await?;
    let v = load_in(tx.conn(), caller, id).await?;
    if version.is_some_and(|n| n != v.version) {
        return Err(Error::StaleVersion { current: v.version });
    }
    Ok(v)
}

/// Replaces a draft's (or a returned budget's) lines.
pub async fn update(db: &Db, ctx: &Ctx, id: i64, inp: &BudgetLinesIn) -> Result<BudgetView> {
    let caller = &ctx.caller;
    let mut tx = db.begin().await?;
    let v = lock_in(&mut tx, caller, id, Some(inp.version)).await?;
    if !v.may_edit {
        return Err(if matches!(v.state.as_str(), "draft" | "returned" | "rejected") {
            Error::Forbidden
        } else {
            Error::Conflict("budget_not_editable")
        });
    }
    let cats = categories_of(tx.conn()).await?.categories;
    let mut e = Errors::default();
    let note = e.take("note", text::optional(inp.note.as_deref(), 2000));
    let lines = check_lines(&cats, &inp.lines, &mut e);
    e.finish()?;
    write_lines(&mut tx, id, &lines).await?;
    sqlx::query("UPDATE budgets SET note = $1, version = version + 1, updated_by = $2, updated_at = $3 WHERE id = $4")
        .bind(note.flatten())
        .bind(caller.username.as_str())
        .bind(ts(crate::app::clock::now()))
        .bind(id)
        .execute(tx.conn())
        .await?;
    let before: Vec<_> =
        v.lines.iter().map(|l| json!({"category": l.category, "month": l.month, "amount": l.amount})).collect();
    audit::record(
        &mut tx,
        ctx,
        KIND,
        &id.to_string(),
        "update",
        Some(&json!({"lines": before})),
        Some(&json!({"lines": lines_json(&lines)})),
    )
    .await?;
    let out = load_in(tx.conn(), caller, id).await?;
    tx.commit().await?;
    Ok(out)
}

/// A reviewer's question in the 质询 round (before approval; never on one's own draft).
pub async fn ask(db: &Db, ctx: &Ctx, id: i64, inp: &BudgetQuestionIn) -> Result<BudgetView> {
    let caller = &ctx.caller;
    let mut tx = db.begin().await?;
    let v = lock_in(&mut tx, caller, id, None).await?;
    if !v.may_ask {
        return Err(if reviews(caller.role) && !matches!(v.state.as_str(), "draft" | "in_review" | "returned") {
            Error::Conflict("budget_not_in_review")
        } else {
            Error::Forbidden
        });
    }
    let q = text::required(inp.question.as_deref(), 2000).map_err(|c| Error::invalid("question", c))?;
    let at = ts(crate::app::clock::now());
    let qid: i64 = sqlx::query(
        "INSERT INTO budget_questions (budget_id, revision, question, asked_by, asked_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(id)
    .bind(v.revision)
    .bind(q.clone())
    .bind(caller.user_id)
    .bind(at.clone())
    .fetch_one(tx.conn())
    .await?
    .try_get("id")?;
    sqlx::query("UPDATE budgets SET version = version + 1, updated_by = $1, updated_at = $2 WHERE id = $3")
        .bind(caller.username.as_str())
        .bind(at)
        .bind(id)
        .execute(tx.conn())
        .await?;
    audit::record(
        &mut tx,
        ctx,
        KIND,
        &id.to_string(),
        "question",
        None,
        Some(&json!({"question_id": qid, "question": q})),
    )
    .await?;
    let out = load_in(tx.conn(), caller, id).await?;
    tx.commit().await?;
    Ok(out)
}

/// The drafter answers a question (once).
pub async fn answer(db: &Db, ctx: &Ctx, id: i64, question_id: i64, inp: &BudgetAnswerIn) -> Result<BudgetView> {
    let caller = &ctx.caller;
    let mut tx = db.begin().await?;
    let v = lock_in(&mut tx, caller, id, None).await?;
    let Some(q) = v.questions.iter().find(|q| q.id == question_id) else { return Err(Error::NotFound) };
    let drafted_by: i64 = sqlx::query("SELECT drafted_by FROM budgets WHERE id = $1")
        .bind(id)
        .fetch_one(tx.conn())
        .await?
        .try_get("drafted_by")?;
    if drafted_by != caller.user_id {
        return Err(Error::Forbidden);
    }
    if q.answer.is_some() {
        return Err(Error::Conflict("question_answered"));
    }
    let a = text::required(inp.answer.as_deref(), 2000).map_err(|c| Error::invalid("answer", c))?;
    let at = ts(crate::app::clock::now());
    sqlx::query("UPDATE budget_questions SET answer = $1, answered_by = $2, answered_at = $3 WHERE id = $4")
        .bind(a.clone())
        .bind(caller.user_id)
        .bind(at.clone())
        .bind(question_id)
        .execute(tx.conn())
        .await?;
    sqlx::query("UPDATE budgets SET version = version + 1, updated_by = $1, updated_at = $2 WHERE id = $3")
        .bind(caller.username.as_str())
        .bind(at)
        .bind(id)
        .execute(tx.conn())
        .await?;
    audit::record(
        &mut tx,
        ctx,
        KIND,
        &id.to_string(),
        "answer",
        None,
        Some(&json!({"question_id": question_id, "answer": a})),
    )
    .await?;
    let out = load_in(tx.conn(), caller, id).await?;
    tx.commit().await?;
    Ok(out)
}

/// Submits the budget to the sales department manager (`budget_plan`): its lines are kept as a
/// revision (one more after a return or a rejection). At least one line.
pub async fn submit(db: &Db, ctx: &Ctx, id: i64, inp: &BudgetVersionIn) -> Result<BudgetView> {
    let caller = &ctx.caller;
    let now = crate::app::clock::now();
    let mut tx = db.begin().await?;
    let v = lock_in(&mut tx, caller, id, Some(inp.version)).await?;
    if !v.may_edit {
        return Err(if matches!(v.state.as_str(), "draft" | "returned" | "rejected") {
            Error::Forbidden
        } else {
            Error::Conflict("budget_not_editable")
        });
    }
    if v.lines.is_empty() {
        return Err(Error::invalid("lines", "required"));
    }
    let revision = if v.state == "draft" { v.revision } else { v.revision + 1 };
    let cc = cost_centre_in(tx.conn(), caller, v.cost_centre_id).await?;
    let (region_id, branch_id) = placing(&cc);
    let subject = approvals::Subject {
        kind: KIND,
        id,
        label: format!("{} · {} · v{}", cc.name, v.year, revision),
        region_id,
        branch_id,
        owner_id: Some(caller.user_id),
        figure: None,
        class: None,
    };
    let total = parse_fen(&v.total).unwrap_or(0);
    let payload = json!({"year": v.year, "total": v.total, "revision": revision});
    let aid = approvals::start(&mut tx, ctx, Flow::BudgetPlan, &subject, &json!({"revision": revision}), &payload, now)
        .await?;
    let lines = serde_json::to_string(&v.lines).map_err(|e| anyhow::anyhow!("{e}"))?;
    sqlx::query(
        "INSERT INTO budget_revisions (budget_id, revision, lines, total, approval_id, submitted_by, submitted_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(revision)
    .bind(lines)
    .bind(total)
    .bind(aid)
    .bind(caller.user_id)
    .bind(ts(now))
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "UPDATE budgets SET state = 'in_review', revision = $1, approval_id = $2, version = version + 1, \
         updated_by = $3, updated_at = $4 WHERE id = $5",
    )
    .bind(revision)
    .bind(aid)
    .bind(caller.username.as_str())
    .bind(ts(now))
    .bind(id)
    .execute(tx.conn())
    .await?;
    audit::record(
        &mut tx,
        ctx,
        KIND,
        &id.to_string(),
        "submit",
        Some(&json!({"state": v.state})),
        Some(&json!({"state": "in_review", "revision": revision, "total": v.total, "approval_id": aid})),
    )
    .await?;
    let out = load_in(tx.conn(), caller, id).await?;
    tx.commit().await?;
    Ok(out)
}

/// Closes an approved budget at the year's end: no spending is recorded on it after.
pub async fn close(db: &Db, ctx: &Ctx, id: i64, inp: &BudgetVersionIn) -> Result<BudgetView> {
    let caller = &ctx.caller;
    let mut tx = db.begin().await?;
    let v = lock_in(&mut tx, caller, id, Some(inp.version)).await?;
    if !matches!(caller.role, Role::KaDirector | Role::FinanceManager) {
        return Err(Error::Forbidden);
    }
    if v.state != "approved" {
        return Err(Error::Conflict("budget_not_approved"));
    }
    let at = ts(crate::app::clock::now());
    sqlx::query(
        "UPDATE budgets SET state = 'closed', closed_at = $1, version = version + 1, updated_by = $2, updated_at = $1 WHERE id = $3",
    )
    .bind(at)
    .bind(caller.username.as_str())
    .bind(id)
    .execute(tx.conn())
    .await?;
    audit::record(
        &mut tx,
        ctx,
        KIND,
        &id.to_string(),
        "close",
        Some(&json!({"state": "approved"})),
        Some(&json!({"state": "closed"})),
    )
    .await?;
    let out = load_in(tx.conn(), caller, id).await?;
    tx.commit().await?;
    Ok(out)
}

/// The budget a `budget_plan` request is about (404 when the caller does not see it).
pub async fn for_approval(db: &Db, caller: &Caller, approval_id: i64) -> Result<BudgetView> {
    let mut conn = db.pool.acquire().await?;
    let id = approvals::subject_of(&mut conn, approval_id, KIND).await?;
    load_in(&mut conn, caller, id).await
}

/// The request closed: approved → approved; returned → returned (to revise); rejected →
/// rejected (may be revised and submitted again); withdrawn or cancelled → draft.
fn on_closed<'a>(tx: &'a mut WriteTx, ctx: &'a Ctx, c: Closed<'a>) -> HookFuture<'a> {
    Box::pin(async move {
        let state = match c.state {
            ApprovalState::Approved => "approved",
            ApprovalState::Returned => "returned",
            ApprovalState::Rejected => "rejected",
            _ => "draft",
        };
        let at = ts(crate::app::clock::now());
        let n = sqlx::query(
            "UPDATE budgets SET state = $1, approved_at = CASE WHEN $1 = 'approved' THEN $2 ELSE approved_at END, \
             version = version + 1, updated_at = $2 WHERE id = $3 AND approval_id = $4 AND state = 'in_review'",
        )
        .bind(state)
        .bind(at)
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

inventory::submit! { OutcomeHook { flow: Flow::BudgetPlan, run: on_closed } }

/// Whoever sees the cost centre sees its budget's requests.
fn sees_budget<'a>(conn: &'a mut sqlx::AnyConnection, caller: &'a Caller, id: i64) -> ScopeFuture<'a> {
    Box::pin(async move { approvals::seen(load_in(conn, caller, id).await) })
}

inventory::submit! { SubjectScope { kind: KIND, sees: sees_budget } }

// ---------------------------------------------------------------- budget against actual

/// One month's (or the year's) figures.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct BudgetFigures {
    /// 1–12; 0 for the year.
    pub month: i64,
    #[schema(value_type = crate::web::api::contract::Money)]
    pub budget: String,
    /// Submitted exceptions and spending not signed yet.
    #[schema(value_type = crate::web::api::contract::Money)]
    pub committed: String,
    /// Signed or approved spending.
    #[schema(value_type = crate::web::api::contract::Money)]
    pub spent: String,
    /// Budget − committed − spent (negative when overspent).
    #[schema(value_type = String, pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub remaining: String,
}

/// A cost centre's year by month.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CentreActual {
    pub cost_centre_id: i64,
    pub cost_centre_name: String,
    pub budget_id: Option<i64>,
    /// The budget's state; null when it has none.
    pub state: Option<String>,
    /// Months 1–12.
    pub months: Vec<BudgetFigures>,
    pub year: BudgetFigures,
}

/// Budget against actual by cost centre and month.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BudgetActual {
    pub year: i64,
    pub centres: Vec<CentreActual>,
    pub total: BudgetFigures,
}

#[derive(Default, Clone, Copy)]
struct Acc {
    budget: i64,
    committed: i64,
    spent: i64,
}

impl Acc {
    fn add(&mut self, o: Acc) {
        self.budget += o.budget;
        self.committed += o.committed;
        self.spent += o.spent;
    }
    fn figures(self, month: i64) -> BudgetFigures {
        BudgetFigures {
            month,
            budget: format_fen(self.budget),
            committed: format_fen(self.committed),
            spent: format_fen(self.spent),
            remaining: format_fen(self.budget - self.committed - self.spent),
        }
    }
}

/// A year line's share of each month: evenly, the fen left over in December.
pub fn spread(amount: i64) -> [i64; 12] {
    let each = amount / 12;
    let mut out = [each; 12];
    out[11] += amount - each * 12;
    out
}

/// Budget against actual of a year by cost centre (the caller's) and month: the approved
/// (or closed) budget — month lines in their month, year lines spread evenly —, committed,
/// spent and what remains. `cost_centre`: one only.
pub async fn actual(db: &Db, caller: &Caller, year: i64, cost_centre: Option<i64>) -> Result<BudgetActual> {
    let mut conn = db.pool.acquire().await?;
    let mut ccs = cost_centres_of(&mut conn, caller).await?;
    if let Some(c) = cost_centre {
        ccs.retain(|x| x.id == c);
        if ccs.is_empty() {
            return Err(Error::NotFound);
        }
    }
    let budgets = sqlx::query("SELECT id, org_unit_id, state FROM budgets WHERE year = $1")
        .bind(year)
        .fetch_all(&mut *conn)
        .await?;
    let mut of_cc: HashMap<i64, (i64, String)> = HashMap::new();
    for b in budgets {
        of_cc.insert(b.try_get("org_unit_id")?, (b.try_get("id")?, b.try_get("state")?));
    }
    let mut total = [Acc::default(); 12];
    let mut centres = vec![];
    for cc in ccs {
        let mut m = [Acc::default(); 12];
        let b = of_cc.get(&cc.id).cloned();
        if let Some((bid, state)) = &b {
            if matches!(state.as_str(), "approved" | "closed") {
                for (_, month, amount) in lines_of(&mut conn, *bid).await? {
                    if month == 0 {
                        for (i, a) in spread(amount).iter().enumerate() {
                            m[i].budget += a;
                        }
                    } else if (1..=12).contains(&month) {
                        m[(month - 1) as usize].budget += amount;
                    }
                }
            }
            let rows = sqlx::query("SELECT spent_on, amount, state FROM spending WHERE budget_id = $1")
                .bind(*bid)
                .fetch_all(&mut *conn)
                .await?;
            for r in rows {
                let (on, amount, state): (String, i64, String) =
                    (r.try_get("spent_on")?, r.try_get("amount")?, r.try_get("state")?);
                let Some(i) = NaiveDate::parse_from_str(&on, "%Y-%m-%d").ok().map(|d| d.month0() as usize) else {
                    continue;
                };
                if COMMITTED.contains(&state.as_str()) {
                    m[i].committed += amount;
                } else if SPENT.contains(&state.as_str()) {
                    m[i].spent += amount;
                }
            }
        }
        let mut year_acc = Acc::default();
        for (i, a) in m.iter().enumerate() {
            year_acc.add(*a);
            total[i].add(*a);
        }
        centres.push(CentreActual {
            cost_centre_id: cc.id,
            cost_centre_name: cc.name,
            budget_id: b.as_ref().map(|b| b.0),
            state: b.map(|b| b.1),
            months: m.iter().enumerate().map(|(i, a)| a.figures(i as i64 + 1)).collect(),
            year: year_acc.figures(0),
        });
    }
    let mut all = Acc::default();
    for a in total {
        all.add(a);
    }
    Ok(BudgetActual { year, centres, total: all.figures(0) })
}

#[cfg(test)]
mod tests {
    use super::spread;

    #[test]
    fn a_year_line_spreads_evenly_with_the_rest_in_december() {
        let s = spread(100_001);
        assert_eq!(s[0], 8333);
        assert_eq!(s[11], 100_001 - 8333 * 11);
        assert_eq!(s.iter().sum::<i64>(), 100_001);
    }
}
