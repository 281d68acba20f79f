//! Opportunities and the funnel (docs/DOMAIN.md#3-the-funnel). An opportunity is established (立项) on an
//! account with the opportunity evaluation form, enters the funnel at `identified`, and moves by
//! the rules of [`crate::domain::opportunity`]: forward only past met exit criteria (or with a
//! reason by a manager of the owner), back with a reason, won with the booked amount and date,
//! lost with a reason and the competitor who won. Every change of stage, amount or expected date
//! is kept in `opportunity_history`, so [`funnel`] can show the funnel as it stood on any date.
//!
//! Scope: an opportunity is visible to whoever sees its account, and to its owner and team.
use serde::Serialize;
use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::app::customers::derived::{self, Change};
use crate::app::customers::visibility::Probe;
use crate::app::records::input::Input;
use crate::app::{clamp_limit, customers::accounts, funnel::totals, records::audit, Caller, Ctx, Error, Page, Result};
use crate::db::sql::Sql;
use crate::db::{now, Db, WriteTx};
use crate::domain::error::Errors;
use crate::domain::money::{format_fen, parse_fen};
use crate::domain::opportunity::{self as opp, Move, Stage};
use crate::domain::role::Reach;
use crate::domain::{text, FieldError};

/// Fields of the form and of `PATCH`.
pub const EDIT_FIELDS: &[&str] = &[
    "name",
    "amount",
    "expected_close",
    "owner",
    "team",
    "products",
    "business_unit",
    "competitors",
    "source",
    "next_step",
    "next_step_due",
    "eval_need",
    "eval_budget",
    "eval_timeline",
    "eval_decision_makers",
    "eval_competition",
    "eval_advantages",
    "eval_strategy",
];
/// The evaluation form's questions that establishing an opportunity must answer.
pub const EVAL_REQUIRED: &[&str] = &["eval_need", "eval_budget", "eval_timeline", "eval_decision_makers"];
const SYSTEM_FIELDS: &[&str] = &["id", "account_id", "stage", "probability", "currency", "created_at", "updated_at"];

/// One exit criterion of a stage, and whether (and by whom) it was checked.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Check {
    /// The criterion's code (send it as `item` to check or uncheck it).
    pub item: &'static str,
    /// The stage this criterion is an exit criterion of.
    #[schema(value_type = crate::domain::opportunity::Stage)]
    pub stage: &'static str,
    pub checked: bool,
    /// Username of who checked it.
    pub checked_by: Option<String>,
    /// Who checked it, by name.
    pub checked_by_name: Option<String>,
    #[schema(format = DateTime)]
    pub checked_at: Option<String>,
}

/// An opportunity (商机): established on an account, moved through the funnel by its rules.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OpportunityView {
    pub id: i64,
    pub account_id: i64,
    pub account_name: String,
    pub name: String,
    /// The expected order amount (yuan, two decimals).
    #[schema(value_type = String, pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub amount: String,
    /// Always `CNY`.
    pub currency: String,
    /// The expected order date.
    #[schema(format = Date)]
    pub expected_close: String,
    pub stage: crate::domain::opportunity::Stage,
    /// The stage's win probability, in percent.
    #[schema(minimum = 0, maximum = 100)]
    pub probability: i64,
    /// amount × probability.
    #[schema(value_type = String, pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub weighted: String,
    /// The owner's username.
    pub owner: String,
    /// The owner's display name.
    pub owner_name: String,
    /// Usernames of the team members besides the owner.
    pub team: Vec<String>,
    /// The team members' names, in the order of `team`.
    pub team_names: Vec<String>,
    pub products: Option<String>,
    pub business_unit: Option<String>,
    pub competitors: Option<String>,
    pub source: Option<String>,
    pub next_step: Option<String>,
    #[schema(format = Date)]
    pub next_step_due: Option<String>,
    pub eval_need: Option<String>,
    pub eval_budget: Option<String>,
    pub eval_timeline: Option<String>,
    pub eval_decision_makers: Option<String>,
    pub eval_competition: Option<String>,
    pub eval_advantages: Option<String>,
    pub eval_strategy: Option<String>,
    /// Once won: the amount booked.
    #[schema(value_type = Option<String>, pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub booked_amount: Option<String>,
    /// Once won: the date it was booked.
    #[schema(format = Date)]
    pub booked_on: Option<String>,
    /// Once lost: why.
    pub lost_reason: Option<String>,
    /// Once lost: the competitor who won it.
    pub lost_to: Option<String>,
    /// When it was established (立项).
    #[schema(format = DateTime)]
    pub established_at: String,
    pub version: i64,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// The exit-criteria checklist of every open stage (on the single record only: absent
    /// from lists).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(required = false)]
    pub checklist: Vec<Check>,
}

impl OpportunityView {
    pub fn stage(&self) -> Stage {
        self.stage
    }
    fn amount_fen(&self) -> i64 {
        parse_fen(&self.amount).unwrap_or(0)
    }
}

const SELECT: &str = "SELECT o.*, a.name AS account_name, u.username AS owner_username, \
    u.display_name AS owner_display FROM opportunities o JOIN accounts a ON a.id = o.account_id \
    JOIN users u ON u.id = o.owner_id";

fn view(r: &AnyRow) -> Result<OpportunityView> {
    let amount: i64 = r.try_get("amount")?;
    let st: Stage = r.try_get("stage")?;
    Ok(OpportunityView {
        id: r.try_get("id")?,
        account_id: r.try_get("account_id")?,
        account_name: r.try_get("account_name")?,
        name: r.try_get("name")?,
        amount: format_fen(amount),
        currency: r.try_get("currency")?,
        expected_close: r.try_get("expected_close")?,
        probability: r.try_get("probability")?,
        weighted: format_fen(opp::weighted(amount, st)),
        stage: st,
        owner: r.try_get("owner_username")?,
        owner_name: r.try_get("owner_display")?,
        team: vec![],
        team_names: vec![],
        products: r.try_get("products")?,
        business_unit: r.try_get("business_unit")?,
        competitors: r.try_get("competitors")?,
        source: r.try_get("source")?,
        next_step: r.try_get("next_step")?,
        next_step_due: r.try_get("next_step_due")?,
        eval_need: r.try_get("eval_need")?,
        eval_budget: r.try_get("eval_budget")?,
        eval_timeline: r.try_get("eval_timeline")?,
        eval_decision_makers: r.try_get("eval_decision_makers")?,
        eval_competition: r.try_get("eval_competition")?,
        eval_advantages: r.try_get("eval_advantages")?,
        eval_strategy: r.try_get("eval_strategy")?,
        booked_amount: r.try_get::<Option<i64>, _>("booked_amount")?.map(format_fen),
        booked_on: r.try_get("booked_on")?,
        lost_reason: r.try_get("lost_reason")?,
        lost_to: r.try_get("lost_to")?,
        established_at: r.try_get("established_at")?,
        version: r.try_get("version")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        checklist: vec![],
    })
}

/// ` AND …`: what the caller may see — the account in scope, or their own or their team's.
/// Written as `o.id IN (…)`: the set is gathered through indexes (the caller's visibility rows,
/// their own, their team's) and the opportunities are then read by id, instead of testing every
/// opportunity against the rule.
fn push_scope(s: &mut Sql, caller: &Caller) {
    push_scope_as(s, caller, Probe::Set);
}

/// [`push_scope`], as a set for lists or probed per row for one opportunity.
pub(crate) fn push_scope_as(s: &mut Sql, caller: &Caller, probe: Probe) {
    s.push(" AND o.deleted_at IS NULL AND a.deleted_at IS NULL");
    push_reach(s, caller, probe);
}

fn push_reach(s: &mut Sql, caller: &Caller, probe: Probe) {
    match caller.reach() {
        Reach::All => {}
        Reach::Nothing => {
            s.push(" AND 1 = 0");
        }
        Reach::Own | Reach::Reports | Reach::OrgSubtree => {
            let u = caller.user_id;
            match probe {
                Probe::Set => {
                    s.push(" AND o.id IN (SELECT x.id FROM opportunities x WHERE ");
                    crate::app::customers::visibility::push_sees(s, u, "x.account_id", probe);
                    s.push(" UNION SELECT x.id FROM opportunities x WHERE x.owner_id = ").bind(u);
                    s.push(" UNION SELECT opportunity_id FROM opportunity_team WHERE user_id = ").bind(u).push(")");
                }
                // One opportunity: the same three ways in, each probed for this row.
                Probe::Row => {
                    s.push(" AND (");
                    crate::app::customers::visibility::push_sees(s, u, "o.account_id", probe);
                    s.push(" OR o.owner_id = ").bind(u);
                    s.push(" OR EXISTS (SELECT 1 FROM opportunity_team WHERE opportunity_id = o.id AND user_id = ")
                        .bind(u)
                        .push("))");
                }
            }
        }
    }
}

/// The scope without joining accounts (aggregates): live opportunities of live accounts.
pub(crate) fn push_scope_bare(s: &mut Sql, caller: &Caller) {
    s.push(" AND o.deleted_at IS NULL AND o.account_id NOT IN (SELECT id FROM accounts WHERE deleted_at IS NOT NULL)");
    push_reach(s, caller, Probe::Set);
}

#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub account_id: Option<i64>,
    pub stage: Option<String>,
    pub owner: Option<String>,
    /// Only open stages (identified … committed).
    pub open: bool,
    pub q: Option<String>,
    /// An org unit's code: the opportunities of its accounts (a region's, a branch's; HQ and
    /// other units: all), as the funnel's `org`.
    pub org: Option<String>,
    /// Only those that ever reached this stage or a later one (the funnel's conversion).
    pub reached: Option<String>,
    /// Only those that entered their current stage more than this many days ago (stage age).
    pub stage_days_over: Option<i64>,
    /// `expected_close` (default), `amount`, `name`, `updated`.
    pub sort: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

fn base(caller: &Caller, f: &Filter, select: &str) -> Result<Sql> {
    let mut s = Sql::new(select);
    s.push(" WHERE 1 = 1");
    push_scope(&mut s, caller);
    push_filter(s, f)
}

/// The filter's conditions (after the scope's).
fn push_filter(mut s: Sql, f: &Filter) -> Result<Sql> {
    let mut e = Errors::default();
    if let Some(a) = f.account_id {
        s.push(" AND o.account_id = ").bind(a);
    }
    if let Some(st) = f.stage.as_deref().filter(|v| !v.is_empty()) {
        if let Some(st) = e.take("stage", Stage::parse(st)) {
            s.push(" AND o.stage = ").bind(st.code());
        }
    }
    if f.open {
        s.push(" AND o.stage NOT IN ('won', 'lost')");
    }
    if let Some(o) = f.owner.as_deref().filter(|v| !v.is_empty()) {
        s.push(" AND u.username = ").bind(o.trim());
    }
    if let Some(org) = f.org.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        push_org_code(&mut s, org);
    }
    if let Some(r) = f.reached.as_deref().filter(|v| !v.is_empty()) {
        if let Some(r) = e.take("reached", Stage::parse(r)) {
            push_reached(&mut s, r);
        }
    }
    if let Some(d) = f.stage_days_over {
        if d < 0 {
            e.add("stage_days_over", "out_of_range");
        } else {
            push_stage_days_over(&mut s, d);
        }
    }
    if let Some(q) = e.take("q", text::search(f.q.as_deref())).flatten() {
        let p = format!("%{}%", q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        s.push(" AND (o.name LIKE ").bind(p.clone()).push(" ESCAPE '\\' OR a.name LIKE ").bind(p).push(" ESCAPE '\\')");
    }
    e.finish()?;
    Ok(s)
}

/// The org filter by code, in SQL (a list has no round trip to resolve it first): a region's or
/// a branch's accounts; any other unit (HQ) keeps all; an unknown code keeps none.
fn push_org_code(s: &mut Sql, code: &str) {
    s.push(" AND (EXISTS (SELECT 1 FROM org_units WHERE code = ").bind(code);
    s.push(" AND kind NOT IN ('region', 'branch'))");
    s.push(" OR o.account_id IN (SELECT x.id FROM accounts x JOIN org_units u ON u.code = ").bind(code);
    s.push(" WHERE (u.kind = 'region' AND x.region_id = u.id) OR (u.kind = 'branch' AND x.branch_id = u.id)))");
}

/// The stages at or after `stage` in the funnel (won after committed; lost: only lost).
pub(crate) fn at_or_after(stage: Stage) -> Vec<Stage> {
    match stage.rank() {
        None => vec![Stage::Lost],
        Some(r) => Stage::ALL.iter().copied().filter(|s| s.rank().is_some_and(|x| x >= r)).collect(),
    }
}

/// Those whose history holds a row at `stage` or a later one.
fn push_reached(s: &mut Sql, stage: Stage) {
    let codes = at_or_after(stage).iter().map(|s| format!("'{}'", s.code())).collect::<Vec<_>>().join(", ");
    s.push(&format!(" AND o.id IN (SELECT h.opportunity_id FROM opportunity_history h WHERE h.stage IN ({codes}))"));
}

/// When an opportunity entered its current stage: its last history row that moved it there
/// (or established it), in SQL over `o`.
pub(crate) const ENTERED_STAGE: &str = "(SELECT MAX(h.at) FROM opportunity_history h WHERE h.opportunity_id = o.id \
     AND h.stage = o.stage AND (h.from_stage IS NULL OR h.from_stage <> h.stage))";

/// Those in their current stage for more than `days` whole days.
fn push_stage_days_over(s: &mut Sql, days: i64) {
    let cutoff = crate::db::ts(chrono::Utc::now() - chrono::Duration::days(days.min(100_000) + 1));
    s.push(&format!(" AND COALESCE({ENTERED_STAGE}, o.created_at) <= ")).bind(cutoff);
}

/// Sort keys: column, and whether it is text (the cursor carries the last row's key and id).
fn sort_key(sort: Option<&str>) -> Result<(&'static str, bool, bool)> {
    Ok(match sort.unwrap_or("expected_close") {
        "expected_close" => ("o.expected_close", true, false),
        "amount" => ("o.amount", false, true),
        "name" => ("o.name", true, false),
        "updated" => ("o.updated_at", true, true),
        _ => return Err(Error::invalid("sort", "invalid_choice")),
    })
}

pub async fn list(db: &Db, caller: &Caller, f: &Filter) -> Result<Page<OpportunityView>> {
    let limit = clamp_limit(f.limit)?;
    let (mut col, is_text, desc) = sort_key(f.sort.as_deref())?;
    let mut id_col = "o.id";
    let owner = f.owner.as_deref().map(str::trim).filter(|o| !o.is_empty());
    let mut s = if let Some(owner) = owner {
        // One person's opportunities: read in the list's order from the owner's index
        // (`opportunities_owner_updated`, `opportunities_owner_close`), each row's scope
        // probed, so the first page costs about its own rows whatever the caller sees.
        let mut s = Sql::new(SELECT);
        s.push(" WHERE o.owner_id = (SELECT id FROM users WHERE username = ").bind(owner.to_string()).push(")");
        push_scope_as(&mut s, caller, Probe::Row);
        push_filter(s, f)?
    } else if col == "o.expected_close" && crate::app::customers::visibility::has_opportunity_rows(caller.role) {
        // A rep's list in its default order: the same rule, read from the rep's rows of
        // `opportunity_visibility` in their order (`ov` repeats the date), so the first page is
        // the first rows of one index range, whatever the number of opportunities the rep sees.
        (col, id_col) = ("ov.expected_close", "ov.opportunity_id");
        let by_rows = SELECT.replacen(
            "FROM opportunities o",
            "FROM opportunity_visibility ov JOIN opportunities o ON o.id = ov.opportunity_id",
            1,
        );
        let mut s = Sql::new(&by_rows);
        s.push(" WHERE ov.user_id = ").bind(caller.user_id);
        s.push(" AND o.deleted_at IS NULL AND a.deleted_at IS NULL");
        push_filter(s, f)?
    } else {
        base(caller, f, SELECT)?
    };
    if let Some(c) = &f.cursor {
        let bad = || Error::invalid("cursor", "invalid_cursor");
        let (k, id) = c.rsplit_once('~').ok_or_else(bad)?;
        let id: i64 = id.parse().map_err(|_| bad())?;
        let op = if desc { "<" } else { ">" };
        s.push(&format!(" AND ({col} {op} "));
        if is_text {
            s.bind(k.to_string());
        } else {
            s.bind(k.parse::<i64>().map_err(|_| bad())?);
        }
        s.push(&format!(" OR ({col} = "));
        if is_text {
            s.bind(k.to_string());
        } else {
            s.bind(k.parse::<i64>().map_err(|_| bad())?);
        }
        s.push(&format!(" AND {id_col} {op} ")).bind(id).push("))");
    }
    let dir = if desc { "DESC" } else { "ASC" };
    s.push(&format!(" ORDER BY {col} {dir}, {id_col} {dir} LIMIT ")).bind(limit + 1);
    let rows = s.query().fetch_all(db.reads()).await?;
    let mut items = vec![];
    let mut last_key = None;
    for r in rows.iter().take(limit as usize) {
        items.push(view(r)?);
        last_key = Some(match col.trim_start_matches("ov.").trim_start_matches("o.") {
            "amount" => r.try_get::<i64, _>("amount")?.to_string(),
            "name" => r.try_get::<String, _>("name")?,
            "updated_at" => r.try_get::<String, _>("updated_at")?,
            _ => r.try_get::<String, _>("expected_close")?,
        });
    }
    let next_cursor = match (rows.len() as i64 > limit, items.last(), last_key) {
        (true, Some(v), Some(k)) => Some(format!("{k}~{}", v.id)),
        _ => None,
    };
    Ok(Page { items, next_cursor })
}

/// A column of the board (kanban): the first cards of a stage in the filter's order, and how
/// many opportunities the stage holds and what they count for (the funnel's amount rule).
#[derive(Debug, Clone, Serialize)]
pub struct BoardColumn {
    pub stage: &'static str,
    pub cards: Vec<OpportunityView>,
    pub count: i64,
    pub amount: i64,
}

/// The board: for each of `stages`, its first `per_column` cards and its totals, in two
/// statements (the cards ranked per stage, and the totals grouped by stage) instead of two per
/// column.
pub async fn board(
    db: &Db,
    caller: &Caller,
    f: &Filter,
    stages: &[Stage],
    per_column: i64,
) -> Result<Vec<BoardColumn>> {
    let (col, _, desc) = sort_key(f.sort.as_deref())?;
    if let Some(st) = f.stage.as_deref().filter(|v| !v.is_empty()) {
        Stage::parse(st).map_err(|c| Error::invalid("stage", c))?;
    }
    let f = Filter { stage: None, cursor: None, ..f.clone() };
    // Stage codes are this program's fixed text, never input.
    let codes = stages.iter().map(|s| format!("'{}'", s.code())).collect::<Vec<_>>().join(", ");
    let dir = if desc { "DESC" } else { "ASC" };
    let select = format!(
        "SELECT o.*, a.name AS account_name, u.username AS owner_username, u.display_name AS owner_display, \
         ROW_NUMBER() OVER (PARTITION BY o.stage ORDER BY {col} {dir}, o.id {dir}) AS rank_in_stage \
         FROM opportunities o JOIN accounts a ON a.id = o.account_id JOIN users u ON u.id = o.owner_id"
    );
    let mut cards = base(caller, &f, &select)?;
    cards.push(&format!(" AND o.stage IN ({codes})"));
    let mut s = Sql::new("SELECT * FROM (");
    s.text.push_str(&cards.text);
    s.args = cards.args;
    s.push(") r WHERE rank_in_stage <= ").bind(per_column).push(" ORDER BY rank_in_stage");
    let totals_select = format!(
        "SELECT o.stage AS stage, COUNT(*) AS n, {COUNTED_AMOUNT} AS amount FROM opportunities o \
         JOIN accounts a ON a.id = o.account_id JOIN users u ON u.id = o.owner_id"
    );
    let mut t = base(caller, &f, &totals_select)?;
    t.push(&format!(" AND o.stage IN ({codes}) GROUP BY o.stage"));
    let (rows, sums) = tokio::try_join!(s.query().fetch_all(db.reads()), t.query().fetch_all(db.reads()))?;
    let mut out: Vec<BoardColumn> =
        stages.iter().map(|st| BoardColumn { stage: st.code(), cards: vec![], count: 0, amount: 0 }).collect();
    for r in &rows {
        let v = view(r)?;
        if let Some(c) = out.iter_mut().find(|c| c.stage == v.stage.code()) {
            c.cards.push(v);
        }
    }
    for r in &sums {
        let stage: String = r.try_get("stage")?;
        if let Some(c) = out.iter_mut().find(|c| c.stage == stage) {
            c.count = r.try_get("n")?;
            c.amount = r.try_get("amount")?;
        }
    }
    Ok(out)
}

/// The opportunities of one account the caller sees (the account page): every one of them is
/// in the caller's scope through the account, so no other rule is consulted.
pub async fn of_account(
    db: &Db,
    caller: &Caller,
    account: impl Into<accounts::AccountRef>,
) -> Result<Vec<OpportunityView>> {
    let account_id = account.into().check(db, caller).await?;
    let mut s = Sql::new(SELECT);
    s.push(" WHERE o.account_id = ").bind(account_id);
    s.push(" AND o.deleted_at IS NULL ORDER BY o.expected_close, o.id LIMIT 200");
    s.query().fetch_all(db.reads()).await?.iter().map(view).collect()
}

/// What an opportunity counts for in totals: the booked amount once won, else its amount.
/// (The sum of `totals::COUNTED`.)
const COUNTED_AMOUNT: &str =
    "CAST(COALESCE(SUM(CASE WHEN o.stage = 'won' THEN COALESCE(o.booked_amount, o.amount) ELSE o.amount END), 0) AS BIGINT)";

pub async fn count(db: &Db, caller: &Caller, f: &Filter) -> Result<i64> {
    Ok(totals(db, caller, f).await?.0)
}

/// How many opportunities match the filter in the caller's scope, and their amount (in fen).
pub async fn totals(db: &Db, caller: &Caller, f: &Filter) -> Result<(i64, i64)> {
    let select = format!(
        "SELECT COUNT(*) AS n, {COUNTED_AMOUNT} AS amount FROM opportunities o JOIN accounts a ON a.id = o.account_id \
         JOIN users u ON u.id = o.owner_id"
    );
    let r = base(caller, f, &select)?.query().fetch_one(db.reads()).await?;
    Ok((r.try_get("n")?, r.try_get("amount")?))
}

pub(crate) async fn fetch_scoped(conn: &mut sqlx::AnyConnection, caller: &Caller, id: i64) -> Result<OpportunityView> {
    load(conn, Some(caller), id).await
}

/// Reads back a record just written (no scope: the writer was shown to see it).
async fn reload(conn: &mut sqlx::AnyConnection, id: i64) -> Result<OpportunityView> {
    load(conn, None, id).await
}

async fn load(conn: &mut sqlx::AnyConnection, caller: Option<&Caller>, id: i64) -> Result<OpportunityView> {
    let mut s = Sql::new(SELECT);
    s.push(" WHERE o.id = ").bind(id);
    if let Some(caller) = caller {
        push_scope_as(&mut s, caller, Probe::Row);
    }
    let r = s.query().fetch_optional(&mut *conn).await?.ok_or(Error::NotFound)?;
    let mut v = view(&r)?;
    let team = sqlx::query(
        "SELECT u.username, u.display_name FROM opportunity_team t JOIN users u ON u.id = t.user_id \
         WHERE t.opportunity_id = $1 ORDER BY u.username",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    for r in &team {
        v.team.push(r.try_get("username")?);
        v.team_names.push(r.try_get("display_name")?);
    }
    let checks = sqlx::query(
        "SELECT c.item, c.checked_by, COALESCE(u.display_name, c.checked_by) AS checked_by_name, c.checked_at \
         FROM opportunity_checks c LEFT JOIN users u ON u.username = c.checked_by WHERE c.opportunity_id = $1",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    for (stage, items) in opp::CRITERIA {
        for item in items {
            let done = checks.iter().find(|r| r.try_get::<String, _>("item").is_ok_and(|i| i == *item));
            v.checklist.push(Check {
                item,
                stage: stage.code(),
                checked: done.is_some(),
                checked_by: done.map(|r| r.try_get("checked_by")).transpose()?,
                checked_by_name: done.map(|r| r.try_get("checked_by_name")).transpose()?,
                checked_at: done.map(|r| r.try_get("checked_at")).transpose()?,
            });
        }
    }
    Ok(v)
}

pub async fn get(db: &Db, caller: &Caller, id: i64) -> Result<OpportunityView> {
    let mut conn = db.pool.acquire().await?;
    fetch_scoped(&mut conn, caller, id).await
}

/// The record as the audit trail keeps it (without the checklist, which has rows of its own).
fn j(v: &OpportunityView) -> Value {
    let mut v = serde_json::to_value(v).unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        o.remove("checklist");
    }
    v
}

/// Whether the caller may change the opportunity: its owner, its team, or a manager in scope.
fn may_edit(caller: &Caller, o: &OpportunityView) -> bool {
    caller.username == o.owner || o.team.contains(&caller.username) || caller.role.manages_accounts()
}

/// The validated, stored state of an opportunity's editable fields.
#[derive(Debug, Clone, Default, PartialEq)]
struct Data {
    name: String,
    amount: i64,
    expected_close: String,
    owner_id: i64,
    team: Vec<i64>,
    texts: Vec<(&'static str, Option<String>)>,
}

impl Data {
    /// The same state with the team as a set, without its owner (as it is stored).
    fn normalized(&self) -> Data {
        let mut d = self.clone();
        let owner = d.owner_id;
        d.team.retain(|u| *u != owner);
        d.team.sort_unstable();
        d.team.dedup();
        d
    }
}

const TEXTS: &[(&str, usize)] = &[
    ("products", 500),
    ("business_unit", 100),
    ("competitors", 500),
    ("source", 100),
    ("next_step", 500),
    ("next_step_due", 10),
    ("eval_need", 2000),
    ("eval_budget", 2000),
    ("eval_timeline", 2000),
    ("eval_decision_makers", 2000),
    ("eval_competition", 2000),
    ("eval_advantages", 2000),
    ("eval_strategy", 2000),
];

fn parse_date(v: &str) -> Result<String, &'static str> {
    chrono::NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
        .map(|d| d.format("%Y-%m-%d").to_string())
        .map_err(|_| "date_format")
}

/// Checks and takes the given fields into `d`; `current_owner` is None when establishing.
async fn apply(
    conn: &mut sqlx::AnyConnection,
    caller: &Caller,
    current_owner: Option<i64>,
    d: &mut Data,
    inp: &Input,
) -> Result<()> {
    let mut e = Errors::default();
    if let Some(v) = inp.get("name") {
        if let Some(v) = e.take("name", text::required(v, 200)) {
            d.name = v;
        }
    }
    if let Some(v) = inp.get("amount") {
        if inp.was_number("amount") {
            e.add("amount", "money_must_be_string");
        } else if let Some(v) = e.take("amount", v.ok_or("required").and_then(parse_fen)) {
            d.amount = v;
        }
    }
    if let Some(v) = inp.get("expected_close") {
        if let Some(v) = e.take("expected_close", v.ok_or("required").and_then(parse_date)) {
            d.expected_close = v;
        }
    }
    if let Some(v) = inp.get("owner") {
        // Who may own it: its owner stays; whoever establishes it may own it; only a manager
        // gives it to someone else.
        match v.map(str::trim).filter(|v| !v.is_empty()) {
            None => e.add("owner", "required"),
            Some(u) => match accounts::active_user_id(conn, u).await? {
                None => e.add("owner", "unknown_user"),
                Some(id) if Some(id) == current_owner => {}
                Some(id) if current_owner.is_none() && id == caller.user_id => d.owner_id = id,
                Some(_) if !caller.role.manages_accounts() => e.add("owner", "forbidden_field"),
                Some(id) => d.owner_id = id,
            },
        }
    }
    if let Some(v) = inp.get("team") {
        let mut team = vec![];
        let mut bad = false;
        for u in v.unwrap_or("").split([',', '，', ' ', '\n']).map(str::trim).filter(|u| !u.is_empty()) {
            match accounts::active_user_id(conn, u).await? {
                Some(id) if !team.contains(&id) => team.push(id),
                Some(_) => {}
                None => bad = true,
            }
        }
        if bad {
            e.add("team", "unknown_user");
        } else {
            d.team = team;
        }
    }
    for &(k, max) in TEXTS {
        if let Some(v) = inp.get(k) {
            let r = if k == "next_step_due" {
                v.map(|v| v.trim()).filter(|v| !v.is_empty()).map(parse_date).transpose()
            } else {
                text::optional(v, max)
            };
            if let Some(v) = e.take(k, r) {
                match d.texts.iter_mut().find(|(n, _)| *n == k) {
                    Some(slot) => slot.1 = v,
                    None => d.texts.push((k, v)),
                }
            }
        }
    }
    e.finish()
}

fn text_of(d: &Data, k: &str) -> Option<String> {
    d.texts.iter().find(|(n, _)| *n == k).and_then(|(_, v)| v.clone())
}

async fn write_team(conn: &mut sqlx::AnyConnection, id: i64, team: &[i64], owner: i64) -> Result<()> {
    sqlx::query("DELETE FROM opportunity_team WHERE opportunity_id = $1").bind(id).execute(&mut *conn).await?;
    for u in team.iter().filter(|u| **u != owner) {
        sqlx::query("INSERT INTO opportunity_team (opportunity_id, user_id) VALUES ($1, $2)")
            .bind(id)
            .bind(*u)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn history_row(
    conn: &mut sqlx::AnyConnection,
    id: i64,
    actor: &str,
    from: Option<Stage>,
    stage: Stage,
    amount: i64,
    expected_close: &str,
    reason: Option<&str>,
    overridden: bool,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO opportunity_history (opportunity_id, at, actor, from_stage, stage, amount, expected_close, reason, override) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(id)
    .bind(now())
    .bind(actor)
    .bind(from.map(|s| s.code()))
    .bind(stage.code())
    .bind(amount)
    .bind(expected_close)
    .bind(reason)
    .bind(i64::from(overridden))
    .execute(conn)
    .await?;
    Ok(())
}

/// Establishes an opportunity (立项) on an account the caller sees: the evaluation form's core
/// questions answered, the amount and expected order date given; it enters the funnel at
/// `identified`, owned by the caller unless a manager names another owner.
pub async fn establish(db: &Db, ctx: &Ctx, account_id: i64, inp: &Input) -> Result<OpportunityView> {
    let mut tx = db.begin().await?;
    let after = establish_in(&mut tx, ctx, account_id, inp).await?;
    tx.commit().await?;
    Ok(after)
}

/// Establishes an opportunity inside the caller's transaction (the UI's form, saved once per
/// token).
pub async fn establish_in(tx: &mut WriteTx, ctx: &Ctx, account_id: i64, inp: &Input) -> Result<OpportunityView> {
    let caller = &ctx.caller;
    accounts::ensure_visible_in(tx.conn(), caller, account_id).await?;
    if !caller.role.edits_accounts() {
        return Err(Error::Forbidden);
    }
    let known: Vec<&str> = EDIT_FIELDS.iter().chain(SYSTEM_FIELDS).copied().collect();
    inp.check_keys(EDIT_FIELDS, &known)?;
    inp.refuse_version()?;
    let mut d = Data { owner_id: caller.user_id, ..Default::default() };
    let mut missing: Vec<FieldError> = ["name", "amount", "expected_close"]
        .iter()
        .chain(EVAL_REQUIRED)
        .filter(|k| inp.get(k).flatten().is_none_or(|v| v.trim().is_empty()))
        .map(|k| FieldError::new(*k, "required"))
        .collect();
    match apply(tx.conn(), caller, None, &mut d, inp).await {
        Ok(()) => {}
        Err(Error::Invalid(fs)) => {
            missing.retain(|m| !fs.iter().any(|f| f.field == m.field));
            let mut all = fs;
            all.extend(missing);
            all.sort_by(|a, b| a.field.cmp(&b.field));
            return Err(Error::Invalid(all));
        }
        Err(e) => return Err(e),
    }
    if !missing.is_empty() {
        return Err(Error::Invalid(missing));
    }
    // The account's lock first (see `derived`), then it must be live.
    derived::lock(tx, account_id).await?;
    accounts::hold_live(tx, account_id).await?;
    let ts = now();
    let st = Stage::Identified;
    let mut s = Sql::new(
        "INSERT INTO opportunities (account_id, name, amount, currency, expected_close, stage, probability, owner_id, ",
    );
    s.push(&TEXTS.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", "));
    s.push(", established_at, version, created_at, updated_at) VALUES (");
    s.bind(account_id).push(", ").bind(d.name.clone()).push(", ").bind(d.amount).push(", 'CNY', ");
    s.bind(d.expected_close.clone()).push(", ").bind(st.code()).push(", ").bind(st.probability());
    s.push(", ").bind(d.owner_id);
    for (k, _) in TEXTS {
        s.push(", ").bind(text_of(&d, k));
    }
    s.push(", ").bind(ts.clone()).push(", 1, ").bind(ts.clone()).push(", ").bind(ts).push(") RETURNING id");
    let id: i64 = s.query().fetch_one(tx.conn()).await?.try_get("id")?;
    write_team(tx.conn(), id, &d.team, d.owner_id).await?;
    history_row(tx.conn(), id, &caller.username, None, st, d.amount, &d.expected_close, None, false).await?;
    derived::refresh(tx, account_id, &ctx.caller.username, Change::OpportunityCreated { id }).await?;
    let after = reload(tx.conn(), id).await?;
    audit::record(tx, ctx, "opportunity", &id.to_string(), "create", None, Some(&j(&after))).await?;
    Ok(after)
}

/// Changes the fields of the form (`version` required). A changed amount or expected date is
/// kept in the history, for the funnel on past dates.
pub async fn update(db: &Db, ctx: &Ctx, id: i64, inp: &Input) -> Result<OpportunityView> {
    let mut tx = db.begin().await?;
    let after = update_in(&mut tx, ctx, id, inp).await?;
    tx.commit().await?;
    Ok(after)
}

/// [`update`] inside the caller's transaction (a quote accepted with "the amount follows the
/// quote" changes its opportunity's amount in its own transaction).
pub async fn update_in(tx: &mut WriteTx, ctx: &Ctx, id: i64, inp: &Input) -> Result<OpportunityView> {
    let caller = &ctx.caller;
    let version = inp.version.ok_or_else(|| Error::invalid("version", "required"))?;
    let known: Vec<&str> = EDIT_FIELDS.iter().chain(SYSTEM_FIELDS).copied().collect();
    let before = fetch_scoped(tx.conn(), caller, id).await?;
    if !may_edit(caller, &before) {
        return Err(Error::Forbidden);
    }
    inp.check_keys(EDIT_FIELDS, &known)?;
    if version != before.version {
        return Err(Error::StaleVersion { current: before.version });
    }
    let mut d = Data {
        name: before.name.clone(),
        amount: before.amount_fen(),
        expected_close: before.expected_close.clone(),
        owner_id: sqlx::query("SELECT owner_id FROM opportunities WHERE id = $1")
            .bind(id)
            .fetch_one(tx.conn())
            .await?
            .try_get("owner_id")?,
        team: vec![],
        texts: vec![],
    };
    for u in &before.team {
        if let Some(uid) = accounts::active_user_id(tx.conn(), u).await? {
            d.team.push(uid);
        }
    }
    let cols: Vec<&str> = TEXTS.iter().map(|(k, _)| *k).collect();
    let r = sqlx::query(&format!("SELECT {} FROM opportunities WHERE id = $1", cols.join(", ")))
        .bind(id)
        .fetch_one(tx.conn())
        .await?;
    for k in cols {
        d.texts.push((k, r.try_get(k)?));
    }
    let stored = d.clone();
    let current_owner = Some(d.owner_id);
    apply(tx.conn(), caller, current_owner, &mut d, inp).await?;
    if d.normalized() == stored.normalized() {
        // Nothing to change: no new version, no history or audit row.
        return Ok(before);
    }
    derived::lock(tx, before.account_id).await?;
    let mut s = Sql::new("UPDATE opportunities SET name = ");
    s.bind(d.name.clone())
        .push(", amount = ")
        .bind(d.amount)
        .push(", expected_close = ")
        .bind(d.expected_close.clone());
    s.push(", owner_id = ").bind(d.owner_id);
    for (k, v) in &d.texts {
        s.push(&format!(", {k} = ")).bind(v.clone());
    }
    s.push(", version = version + 1, updated_at = ").bind(now());
    s.push(" WHERE id = ").bind(id).push(" AND version = ").bind(version);
    if s.query().execute(tx.conn()).await?.rows_affected() != 1 {
        return Err(Error::StaleVersion { current: before.version });
    }
    if inp.has("team") || inp.has("owner") {
        write_team(tx.conn(), id, &d.team, d.owner_id).await?;
    }
    let holders = inp.has("team") || inp.has("owner") || d.expected_close != before.expected_close;
    if d.amount != before.amount_fen() || d.expected_close != before.expected_close {
        let st = before.stage();
        history_row(tx.conn(), id, &caller.username, Some(st), st, d.amount, &d.expected_close, None, false).await?;
    }
    let figures = d.amount != before.amount_fen();
    derived::refresh(tx, before.account_id, &ctx.caller.username, Change::Opportunity { id, holders, figures }).await?;
    let after = reload(tx.conn(), id).await?;
    audit::record(tx, ctx, "opportunity", &id.to_string(), "update", Some(&j(&before)), Some(&j(&after))).await?;
    Ok(after)
}

/// A won opportunity's booked amount follows its signed orders (issue 21): the sum given, or —
/// when no signed order is left (`None`) — the amount booked when it was won. The won date
/// stays the booking date. Inside the transaction that signs or cancels the order; a change
/// writes a history row (won → won with the new amount), refreshes the account's derived
/// figures and is audited. Nothing happens to an opportunity that is not won.
pub(crate) async fn book_orders_in(tx: &mut WriteTx, ctx: &Ctx, id: i64, signed_sum: Option<i64>) -> Result<()> {
    let r = sqlx::query(
        "SELECT account_id, stage, amount, booked_amount, expected_close FROM opportunities WHERE id = $1 AND deleted_at IS NULL",
    )
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    let Some(r) = r else { return Ok(()) };
    if r.try_get::<String, _>("stage")? != Stage::Won.code() {
        return Ok(());
    }
    let account_id: i64 = r.try_get("account_id")?;
    let old: Option<i64> = r.try_get("booked_amount")?;
    let amount = match signed_sum {
        Some(s) => s,
        None => {
            // The amount of the move that won it (not a later won → won row).
            let w = sqlx::query(
                "SELECT amount FROM opportunity_history WHERE opportunity_id = $1 AND stage = 'won' \
                 AND (from_stage IS NULL OR from_stage <> 'won') ORDER BY at DESC, id DESC LIMIT 1",
            )
            .bind(id)
            .fetch_optional(tx.conn())
            .await?;
            match w {
                Some(w) => w.try_get("amount")?,
                None => old.unwrap_or(r.try_get("amount")?),
            }
        }
    };
    if old == Some(amount) {
        return Ok(());
    }
    derived::lock(tx, account_id).await?;
    let before = reload(tx.conn(), id).await?;
    sqlx::query("UPDATE opportunities SET booked_amount = $1, version = version + 1, updated_at = $2 WHERE id = $3")
        .bind(amount)
        .bind(now())
        .bind(id)
        .execute(tx.conn())
        .await?;
    let expected: String = r.try_get("expected_close")?;
    history_row(tx.conn(), id, &ctx.caller.username, Some(Stage::Won), Stage::Won, amount, &expected, None, false)
        .await?;
    let change = Change::Opportunity { id, holders: false, figures: true };
    derived::refresh(tx, account_id, &ctx.caller.username, change).await?;
    let after = reload(tx.conn(), id).await?;
    audit::record(tx, ctx, "opportunity", &id.to_string(), "booked_from_orders", Some(&j(&before)), Some(&j(&after)))
        .await?;
    Ok(())
}

/// Checks or unchecks one exit criterion (`version` required: the checklist is part of the
/// record a move is decided on).
pub async fn set_check(
    db: &Db,
    ctx: &Ctx,
    id: i64,
    item: &str,
    checked: bool,
    version: i64,
) -> Result<OpportunityView> {
    let mut tx = db.begin().await?;
    let after = set_check_in(&mut tx, ctx, id, item, checked, Some(version)).await?;
    tx.commit().await?;
    Ok(after)
}

/// [`set_check`] inside the caller's transaction; `version` None: whatever the record's
/// version (a quote the customer accepted ticks `quote_approved` of its opportunity).
pub(crate) async fn set_check_in(
    tx: &mut WriteTx,
    ctx: &Ctx,
    id: i64,
    item: &str,
    checked: bool,
    version: Option<i64>,
) -> Result<OpportunityView> {
    let caller = &ctx.caller;
    if !opp::is_criterion(item) {
        return Err(Error::invalid("item", "invalid_choice"));
    }
    let before = fetch_scoped(tx.conn(), caller, id).await?;
    if !may_edit(caller, &before) {
        return Err(Error::Forbidden);
    }
    if version.is_some_and(|v| v != before.version) {
        return Err(Error::StaleVersion { current: before.version });
    }
    let was = before.checklist.iter().any(|c| c.item == item && c.checked);
    if was != checked {
        if checked {
            sqlx::query(
                "INSERT INTO opportunity_checks (opportunity_id, item, checked_by, checked_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(item)
            .bind(caller.username.as_str())
            .bind(now())
            .execute(tx.conn())
            .await?;
        } else {
            sqlx::query("DELETE FROM opportunity_checks WHERE opportunity_id = $1 AND item = $2")
                .bind(id)
                .bind(item)
                .execute(tx.conn())
                .await?;
        }
        sqlx::query("UPDATE opportunities SET version = version + 1, updated_at = $1 WHERE id = $2")
            .bind(now())
            .bind(id)
            .execute(tx.conn())
            .await?;
        audit::record(
            tx,
            ctx,
            "opportunity",
            &id.to_string(),
            if checked { "check" } else { "uncheck" },
            None,
            Some(&serde_json::json!({ "item": item })),
        )
        .await?;
    }
    reload(tx.conn(), id).await
}

/// A request to move an opportunity to another stage.
#[derive(Debug, Default, Clone)]
pub struct StageMove {
    pub stage: String,
    pub version: Option<i64>,
    /// Why, for a move back or out of won/lost.
    pub reason: Option<String>,
    /// A manager's reason for moving forward past unmet exit criteria.
    pub override_reason: Option<String>,
    pub booked_amount: Option<String>,
    pub booked_on: Option<String>,
    pub lost_reason: Option<String>,
    pub lost_to: Option<String>,
}

fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Moves an opportunity by the funnel's rules (see the module doc).
pub async fn move_stage(db: &Db, ctx: &Ctx, id: i64, m: &StageMove) -> Result<OpportunityView> {
    let mut tx = db.begin().await?;
    let after = move_stage_in(&mut tx, ctx, id, m).await?;
    tx.commit().await?;
    Ok(after)
}

/// [`move_stage`] inside the caller's transaction (a bid lost closes its opportunity with it).
pub(crate) async fn move_stage_in(tx: &mut WriteTx, ctx: &Ctx, id: i64, m: &StageMove) -> Result<OpportunityView> {
    let caller = &ctx.caller;
    let version = m.version.ok_or_else(|| Error::invalid("version", "required"))?;
    let to = Stage::parse(&m.stage).map_err(|c| Error::invalid("stage", c))?;
    let before = fetch_scoped(tx.conn(), caller, id).await?;
    if !may_edit(caller, &before) {
        return Err(Error::Forbidden);
    }
    if version != before.version {
        return Err(Error::StaleVersion { current: before.version });
    }
    let from = before.stage();
    let kind = opp::classify(from, to).map_err(|c| Error::invalid("stage", c))?;
    let mut e = Errors::default();
    let mut reason: Option<String> = None;
    let mut overridden = false;
    let (mut booked_amount, mut booked_on) = (None, None);
    let (mut lost_reason, mut lost_to) = (None, None);
    if matches!(kind, Move::Forward | Move::Win) {
        let checked: Vec<String> = before.checklist.iter().filter(|c| c.checked).map(|c| c.item.to_string()).collect();
        let unmet = opp::unmet(from, to, &checked);
        if !unmet.is_empty() {
            match nonempty(&m.override_reason) {
                None => {
                    e.add("stage", "exit_criteria_unmet");
                    for u in &unmet {
                        e.add(u, "exit_criterion_unmet");
                    }
                }
                Some(r) => {
                    let owner_id: i64 = sqlx::query("SELECT owner_id FROM opportunities WHERE id = $1")
                        .bind(id)
                        .fetch_one(tx.conn())
                        .await?
                        .try_get("owner_id")?;
                    if !crate::app::people::team::manages_person(tx.conn(), caller, owner_id).await? {
                        e.add("override_reason", "override_needs_manager");
                    } else {
                        if let Some(r) = e.take("override_reason", text::required(Some(r), 1000)) {
                            reason = Some(r);
                        }
                        overridden = true;
                    }
                }
            }
        }
    }
    match kind {
        Move::Back | Move::Reopen => match nonempty(&m.reason) {
            None => e.add("reason", "required"),
            Some(r) => {
                reason = e.take("reason", text::required(Some(r), 1000));
            }
        },
        Move::Win => {
            match nonempty(&m.booked_amount) {
                None => e.add("booked_amount", "required"),
                Some(v) => booked_amount = e.take("booked_amount", parse_fen(v)),
            }
            match nonempty(&m.booked_on) {
                None => e.add("booked_on", "required"),
                Some(v) => {
                    if let Some(d) = e.take("booked_on", parse_date(v)) {
                        // Today is the caller's day: in China the next day starts at 16:00 UTC.
                        if d.as_str() > caller.today().as_str() {
                            e.add("booked_on", "date_in_future");
                        } else if d.as_str() < &before.established_at[..10] {
                            e.add("booked_on", "date_before_established");
                        } else {
                            booked_on = Some(d);
                        }
                    }
                }
            }
        }
        Move::Lose => {
            match nonempty(&m.lost_reason) {
                None => e.add("lost_reason", "required"),
                Some(v) => lost_reason = e.take("lost_reason", text::required(Some(v), 1000)),
            }
            match nonempty(&m.lost_to) {
                None => e.add("lost_to", "required"),
                Some(v) => lost_to = e.take("lost_to", text::required(Some(v), 200)),
            }
            reason.clone_from(&lost_reason);
        }
        Move::Forward => {}
    }
    e.finish()?;
    derived::lock(tx, before.account_id).await?;
    let amount = booked_amount.unwrap_or(before.amount_fen());
    let mut s = Sql::new("UPDATE opportunities SET stage = ");
    s.bind(to.code()).push(", probability = ").bind(to.probability());
    match kind {
        Move::Win => {
            s.push(", booked_amount = ").bind(booked_amount).push(", booked_on = ").bind(booked_on.clone());
            s.push(", lost_reason = NULL, lost_to = NULL");
        }
        Move::Lose => {
            s.push(", lost_reason = ").bind(lost_reason).push(", lost_to = ").bind(lost_to);
            s.push(", booked_amount = NULL, booked_on = NULL");
        }
        Move::Reopen => {
            s.push(", booked_amount = NULL, booked_on = NULL, lost_reason = NULL, lost_to = NULL");
        }
        _ => {}
    }
    s.push(", version = version + 1, updated_at = ").bind(now());
    s.push(" WHERE id = ").bind(id).push(" AND version = ").bind(version);
    if s.query().execute(tx.conn()).await?.rows_affected() != 1 {
        return Err(Error::StaleVersion { current: before.version });
    }
    let hist_amount = if kind == Move::Win { amount } else { before.amount_fen() };
    history_row(
        tx.conn(),
        id,
        &caller.username,
        Some(from),
        to,
        hist_amount,
        &before.expected_close,
        reason.as_deref(),
        overridden,
    )
    .await?;
    let change = Change::Opportunity { id, holders: false, figures: true };
    derived::refresh(tx, before.account_id, &ctx.caller.username, change).await?;
    let after = reload(tx.conn(), id).await?;
    let action = if overridden { "stage_override" } else { "stage" };
    audit::record(tx, ctx, "opportunity", &id.to_string(), action, Some(&j(&before)), Some(&j(&after))).await?;
    Ok(after)
}

/// One change of an opportunity's stage, amount or expected date.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, sqlx::FromRow)]
#[schema(as = OpportunityChange)]
pub struct HistoryRow {
    #[schema(format = DateTime)]
    pub at: String,
    /// Username of who made the change.
    pub actor: String,
    /// Who made the change, by name.
    pub actor_name: String,
    /// The stage before (null when established).
    #[schema(value_type = Option<crate::domain::opportunity::Stage>)]
    pub from_stage: Option<String>,
    pub stage: crate::domain::opportunity::Stage,
    /// The amount after the change (the booked amount once won).
    #[schema(value_type = String, pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    #[sqlx(try_from = "crate::db::codes::Fen")]
    pub amount: String,
    #[schema(format = Date)]
    pub expected_close: String,
    /// Why (a move back, a loss, an override of unmet exit criteria).
    pub reason: Option<String>,
    /// Moved forward by a manager past unmet exit criteria.
    #[serde(rename = "override")]
    #[sqlx(rename = "override", try_from = "crate::db::codes::Flag")]
    pub overridden: bool,
}

pub async fn history(db: &Db, caller: &Caller, id: i64) -> Result<Vec<HistoryRow>> {
    get(db, caller, id).await?;
    Ok(sqlx::query_as(
        "SELECT h.*, COALESCE(u.display_name, h.actor) AS actor_name FROM opportunity_history h \
         LEFT JOIN users u ON u.username = h.actor WHERE h.opportunity_id = $1 ORDER BY h.at, h.id",
    )
    .bind(id)
    .fetch_all(&db.pool)
    .await?)
}

/// One stage of the funnel.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FunnelStage {
    #[schema(value_type = crate::domain::opportunity::Stage)]
    pub stage: &'static str,
    /// The stage's win probability, in percent.
    pub probability: i64,
    pub count: i64,
    /// What the stage's opportunities count for (the booked amount once won).
    #[schema(value_type = String, pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub amount: String,
    /// amount × probability.
    #[schema(value_type = String, pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub weighted: String,
}

/// The funnel by stage (every stage, in funnel order).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Funnel {
    /// The date the funnel stands at (end of that day, UTC); None: now.
    #[schema(format = Date)]
    pub as_of: Option<String>,
    pub stages: Vec<FunnelStage>,
    /// Σ amount × probability over the open stages.
    #[schema(value_type = String, pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub weighted_pipeline: String,
    /// Conversion between stages, from the history (the report only: `reports::funnel_report`).
    pub conversion: Vec<Conversion>,
    /// How long open opportunities have been in their current stage (now only: empty with
    /// `as_of`).
    pub stage_age: Vec<StageAge>,
}

/// Conversion from one stage to the next: of the opportunities that reached `from` (or any
/// later stage), the share that reached `to` (or later), from the history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Conversion {
    pub from: Stage,
    pub to: Stage,
    /// Opportunities that reached `from` or a later stage.
    pub reached: i64,
    /// Of those, the ones that reached `to` or a later stage.
    pub advanced: i64,
    /// advanced / reached in percent, one decimal (null when none reached `from`).
    #[schema(pattern = r"^[0-9]+\.[0-9]$")]
    pub rate: Option<String>,
}

/// How long the open opportunities of a stage have been in it (whole days since they entered
/// it).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StageAge {
    pub stage: Stage,
    /// Open opportunities in the stage.
    pub count: i64,
    /// Average days in the stage, one decimal (null when the stage is empty).
    #[schema(pattern = r"^[0-9]+\.[0-9]$")]
    pub average_days: Option<String>,
    /// Median days in the stage, one decimal (null when the stage is empty).
    #[schema(pattern = r"^[0-9]+\.[0-9]$")]
    pub median_days: Option<String>,
    /// How many have been in it more than `older_than_days` days.
    pub older: i64,
    /// The threshold of `older` (30).
    pub older_than_days: i64,
}

#[derive(Debug, Default, Clone)]
pub struct FunnelQuery {
    pub as_of: Option<String>,
    pub owner: Option<String>,
    /// An org unit's code: the opportunities of its accounts (a region's, a branch's; HQ: all).
    pub org: Option<String>,
}

/// The accounts an org filter keeps (the funnel's and the classification reports' `?org=`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum OrgFilter {
    All,
    Region(i64),
    Branch(i64),
}

pub(crate) async fn org_filter(db: &Db, code: Option<&str>) -> Result<OrgFilter> {
    let Some(code) = code.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(OrgFilter::All);
    };
    let r = sqlx::query("SELECT id, kind FROM org_units WHERE code = $1")
        .bind(code)
        .fetch_optional(&db.pool)
        .await?
        .ok_or_else(|| Error::invalid("org", "unknown_org_unit"))?;
    let id: i64 = r.try_get("id")?;
    Ok(match r.try_get::<String, _>("kind")?.as_str() {
        "region" => OrgFilter::Region(id),
        "branch" => OrgFilter::Branch(id),
        _ => OrgFilter::All,
    })
}

pub(crate) fn push_org(s: &mut Sql, org: OrgFilter) {
    match org {
        OrgFilter::All => {}
        OrgFilter::Region(id) => {
            s.push(" AND o.account_id IN (SELECT id FROM accounts WHERE region_id = ").bind(id).push(")");
        }
        OrgFilter::Branch(id) => {
            s.push(" AND o.account_id IN (SELECT id FROM accounts WHERE branch_id = ").bind(id).push(")");
        }
    }
}

/// `(stage, count, counted amount)` rows of the funnel now, from the totals kept per account
/// and per region (`totals`): HQ adds up the region rows; a scoped caller the rows of the
/// accounts they see, plus their own and their team's opportunities on accounts they do not.
async fn funnel_from_totals(db: &Db, caller: &Caller, org: OrgFilter, by_region: bool) -> Result<Vec<AnyRow>> {
    // With `by_region`, rows per (region, stage); `region_id` 0: accounts without a region.
    let (key, group) = if by_region { ("region_id, ", "region_id, ") } else { ("", "") };
    let mut s;
    match caller.reach() {
        Reach::All => {
            s = Sql::new(&format!(
                "SELECT {key}stage, CAST(SUM(n) AS BIGINT) AS n, CAST(SUM(amount) AS BIGINT) AS amount \
                 FROM opportunity_region_totals"
            ));
            if let OrgFilter::Region(id) = org {
                s.push(" WHERE region_id = ").bind(id);
            }
            s.push(&format!(" GROUP BY {group}stage"));
        }
        Reach::Nothing => return Ok(vec![]),
        Reach::Own | Reach::Reports | Reach::OrgSubtree => {
            let u = caller.user_id;
            s = Sql::new(&format!(
                "SELECT {key}stage, CAST(SUM(n) AS BIGINT) AS n, CAST(SUM(amount) AS BIGINT) AS amount FROM (\
                 SELECT t.region_id AS region_id, t.stage AS stage, t.n AS n, t.amount AS amount \
                 FROM opportunity_totals t WHERE t.account_id IN "
            ));
            crate::app::customers::visibility::push_visible(&mut s, u);
            if let OrgFilter::Region(id) = org {
                s.push(" AND t.region_id = ").bind(id);
            }
            // Driven from the caller's own and team opportunities (few), by id.
            s.push(" UNION ALL SELECT COALESCE(a.region_id, 0), o.stage, 1, ").push(totals::COUNTED);
            s.push(" FROM (SELECT x.id FROM opportunities x WHERE x.owner_id = ").bind(u);
            s.push(" UNION SELECT opportunity_id FROM opportunity_team WHERE user_id = ").bind(u);
            s.push(") mine JOIN opportunities o ON o.id = mine.id JOIN accounts a ON a.id = o.account_id");
            s.push(" WHERE o.deleted_at IS NULL AND a.deleted_at IS NULL");
            s.push(" AND NOT EXISTS (SELECT 1 FROM account_visibility v WHERE v.user_id = ").bind(u);
            s.push(" AND v.account_id = o.account_id)");
            push_org(&mut s, org);
            s.push(&format!(") f GROUP BY {group}stage"));
        }
    }
    Ok(s.query().fetch_all(&db.pool).await?)
}

/// The funnel now per region in the caller's scope: `(region_id, stage, count, counted amount)`,
/// region 0 for accounts without one.
pub async fn funnel_by_region(db: &Db, caller: &Caller) -> Result<Vec<(i64, String, i64, i64)>> {
    funnel_from_totals(db, caller, OrgFilter::All, true)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("region_id")?, r.try_get("stage")?, r.try_get("n")?, r.try_get("amount")?)))
        .collect()
}

/// The funnel by stage in the caller's scope: now, or as it stood at the end of `as_of`
/// (replayed from the history: each opportunity's last recorded state on or before that day).
pub async fn funnel(db: &Db, caller: &Caller, q: &FunnelQuery) -> Result<Funnel> {
    let as_of = match q.as_of.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => Some(parse_date(v).map_err(|c| Error::invalid("as_of", c))?),
    };
    let org = org_filter(db, q.org.as_deref()).await?;
    let owner = q.owner.as_deref().map(str::trim).filter(|v| !v.is_empty());
    let rows = if as_of.is_none() && owner.is_none() && matches!(org, OrgFilter::All | OrgFilter::Region(_)) {
        funnel_from_totals(db, caller, org, false).await?
    } else {
        let mut s = match &as_of {
            None => Sql::new(&format!(
                "SELECT o.stage AS stage, COUNT(*) AS n, {COUNTED_AMOUNT} AS amount FROM opportunities o WHERE 1 = 1"
            )),
            Some(d) => {
                let mut s = Sql::new(
                    "SELECT h.stage AS stage, COUNT(*) AS n, CAST(COALESCE(SUM(h.amount), 0) AS BIGINT) AS amount \
                     FROM opportunities o JOIN opportunity_history h ON h.opportunity_id = o.id \
                     WHERE h.id = (SELECT h2.id FROM opportunity_history h2 WHERE h2.opportunity_id = o.id AND h2.at <= ",
                );
                s.bind(format!("{d}T23:59:59.999999Z")).push(" ORDER BY h2.at DESC, h2.id DESC LIMIT 1)");
                s
            }
        };
        push_scope_bare(&mut s, caller);
        push_org(&mut s, org);
        if let Some(o) = owner {
            s.push(" AND o.owner_id = (SELECT id FROM users WHERE username = ").bind(o).push(")");
        }
        s.push(if as_of.is_some() { " GROUP BY h.stage" } else { " GROUP BY o.stage" });
        s.query().fetch_all(&db.pool).await?
    };
    let mut stages = vec![];
    let mut pipeline = 0i64;
    for st in Stage::ALL {
        let r = rows.iter().find(|r| r.try_get::<String, _>("stage").is_ok_and(|s| s == st.code()));
        let (n, amount) = match r {
            Some(r) => (r.try_get::<i64, _>("n")?, r.try_get::<i64, _>("amount")?),
            None => (0, 0),
        };
        // Weighted per stage from the stage's total: the same as Σ per opportunity up to
        // rounding of each fen, which the per-stage figure avoids.
        let w = opp::weighted(amount, *st);
        if st.is_open() {
            pipeline += w;
        }
        stages.push(FunnelStage {
            stage: st.code(),
            probability: st.probability(),
            count: n,
            amount: format_fen(amount),
            weighted: format_fen(w),
        });
    }
    Ok(Funnel { as_of, stages, weighted_pipeline: format_fen(pipeline), conversion: vec![], stage_age: vec![] })
}
