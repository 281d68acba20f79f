//! Candidates by rule (issue 22 item 7; seed 002 §一): the company's identification criteria
//! (`settings` key `candidate_criteria`, the defaults of [`Criteria::default`] until it saves its
//! own), the list of prospects and downgraded accounts in scope that meet them, for those who
//! decide screenings (the KA director, the sales department manager, the marketing director,
//! the general manager), and the proposal of one of them.
//!
//! A proposal makes the account a candidate and asks its owner to complete the screening
//! (`screenings::propose`): the screening's analyses and risk form are the salesperson's to
//! write (seed 003 §一.1), and its first step is the KA director's to decide, which nobody does
//! on their own request. The owner's submission then asks for the decision as any screening.
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::app::records::audit;
use crate::app::spreadsheets::export::Table;
use crate::app::{clamp_limit, encode_cursor, push_after, Caller, Ctx, Error, Page, Result};
use crate::db::sql::Sql;
use crate::db::{ts, Db};
use crate::domain::candidates::{Criteria, Facts};
use crate::domain::error::Errors;
use crate::domain::money::{format_fen, parse_fen};
use crate::domain::role::Role;
use crate::domain::text;

const KEY: &str = "candidate_criteria";

/// Who sees the candidate list and proposes from it: those who decide screenings.
pub fn may_propose(role: Role) -> bool {
    matches!(role, Role::KaDirector | Role::SalesDeptManager | Role::MarketingDirector | Role::Gm)
}

/// Who changes the criteria: the administrator and those who decide screenings.
pub fn may_edit(role: Role) -> bool {
    role.is_admin() || may_propose(role)
}

/// The identification criteria in force.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CriteriaView {
    /// Annual buying power at least this (yuan); null: not used.
    #[schema(value_type = Option<crate::web::api::contract::Money>)]
    pub min_buying_power: Option<String>,
    /// Trailing-12-month sales with us at least this (yuan; the 20/80 core); null: not used.
    #[schema(value_type = Option<crate::web::api::contract::Money>)]
    pub min_sales_12m: Option<String>,
    /// Industries of interest (empty: not used).
    #[schema(value_type = Vec<crate::domain::account::Industry>)]
    pub industries: Vec<String>,
    /// Strategic regions: org unit codes (empty: not used).
    pub regions: Vec<String>,
    /// Market influence (1–5, assessed on the development plan) at least this; null: not used.
    #[schema(minimum = 1, maximum = 5)]
    pub min_market_influence: Option<i64>,
    /// Loyalty (1–5, assessed on the development plan) at least this; null: not used.
    #[schema(minimum = 1, maximum = 5)]
    pub min_loyalty: Option<i64>,
    /// How many of the criteria used an account must meet.
    #[schema(minimum = 1, maximum = 6)]
    pub required: i64,
    /// The codes of the criteria used.
    pub used: Vec<String>,
    /// Whether these are the shipped defaults (the company's choice until it saves its own).
    pub is_default: bool,
    /// The setting's version (0: never saved); give it back to save.
    pub version: i64,
}

/// The criteria as given.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CriteriaIn {
    #[schema(value_type = Option<crate::web::api::contract::Money>)]
    pub min_buying_power: Option<String>,
    #[schema(value_type = Option<crate::web::api::contract::Money>)]
    pub min_sales_12m: Option<String>,
    #[serde(default)]
    #[schema(value_type = Vec<crate::domain::account::Industry>)]
    pub industries: Vec<String>,
    /// Org unit codes.
    #[serde(default)]
    pub regions: Vec<String>,
    pub min_market_influence: Option<i64>,
    pub min_loyalty: Option<i64>,
    pub required: i64,
    /// The version read.
    pub version: i64,
}

fn view_of(c: &Criteria, is_default: bool, version: i64) -> CriteriaView {
    CriteriaView {
        min_buying_power: c.min_buying_power.map(format_fen),
        min_sales_12m: c.min_sales_12m.map(format_fen),
        industries: c.industries.clone(),
        regions: c.regions.clone(),
        min_market_influence: c.min_market_influence,
        min_loyalty: c.min_loyalty,
        required: c.required,
        used: c.used().into_iter().map(str::to_string).collect(),
        is_default,
        version,
    }
}

/// The criteria in force, whether they are the defaults, and the setting's version.
pub async fn load_in(conn: &mut sqlx::AnyConnection) -> Result<(Criteria, bool, i64)> {
    let r = sqlx::query("SELECT value, version FROM settings WHERE key = $1").bind(KEY).fetch_optional(conn).await?;
    Ok(match r {
        None => (Criteria::default(), true, 0),
        Some(r) => {
            let v: String = r.try_get("value")?;
            let version: i64 = r.try_get("version")?;
            match serde_json::from_str::<Criteria>(&v) {
                Ok(c) => (c, false, version),
                Err(_) => (Criteria::default(), true, version),
            }
        }
    })
}

pub async fn load(db: &Db) -> Result<CriteriaView> {
    let mut conn = db.pool.acquire().await?;
    let (c, d, v) = load_in(&mut conn).await?;
    Ok(view_of(&c, d, v))
}

/// Saves the criteria over the version read (409 when stale); bad ones are 422 naming the
/// field, nothing saved.
pub async fn save(db: &Db, ctx: &Ctx, inp: &CriteriaIn) -> Result<CriteriaView> {
    if !may_edit(ctx.caller.role) {
        return Err(Error::Forbidden);
    }
    let mut e = Errors::default();
    let money = |e: &mut Errors, field: &str, v: &Option<String>| match v.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(s) => e.take(field, parse_fen(s)),
    };
    let c = Criteria {
        min_buying_power: money(&mut e, "min_buying_power", &inp.min_buying_power),
        min_sales_12m: money(&mut e, "min_sales_12m", &inp.min_sales_12m),
        industries: inp.industries.iter().map(|s| s.trim().to_string()).collect(),
        regions: inp.regions.iter().map(|s| s.trim().to_string()).collect(),
        min_market_influence: inp.min_market_influence,
        min_loyalty: inp.min_loyalty,
        required: inp.required,
    };
    c.check(&mut e);
    let mut tx = db.begin().await?;
    for (i, code) in c.regions.iter().enumerate() {
        let found = sqlx::query("SELECT kind FROM org_units WHERE code = $1")
            .bind(code.as_str())
            .fetch_optional(tx.conn())
            .await?;
        if found.is_none() {
            e.add(&format!("regions[{i}]"), "unknown_org_unit");
        }
    }
    e.finish()?;
    let value = serde_json::to_string(&c).map_err(anyhow::Error::from)?;
    let (before, _, current) = load_in(tx.conn()).await?;
    if inp.version != current {
        return Err(Error::StaleVersion { current });
    }
    if crate::app::records::settings::write(&mut tx, KEY, &value, inp.version, &ctx.caller.username).await? {
        audit::record(
            &mut tx,
            ctx,
            "settings",
            KEY,
            "update",
            Some(&serde_json::to_value(&before).map_err(anyhow::Error::from)?),
            Some(&serde_json::to_value(&c).map_err(anyhow::Error::from)?),
        )
        .await?;
    }
    let (after, d, v) = load_in(tx.conn()).await?;
    tx.commit().await?;
    Ok(view_of(&after, d, v))
}

/// One account the criteria propose.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CandidateRow {
    pub account_id: i64,
    pub name: String,
    /// `prospect` or `downgraded`.
    pub status: crate::domain::account::Status,
    #[schema(value_type = crate::domain::account::Industry)]
    pub industry: String,
    /// The region's and the branch's org unit codes and names.
    pub region: Option<String>,
    pub region_name: Option<String>,
    pub branch: Option<String>,
    pub branch_name: Option<String>,
    /// The owner's username and name.
    pub owner: Option<String>,
    pub owner_name: Option<String>,
    #[schema(value_type = Option<crate::web::api::contract::Money>)]
    pub buying_power: Option<String>,
    #[schema(value_type = Option<crate::web::api::contract::Money>)]
    pub sales_12m: Option<String>,
    /// As assessed on the development plan (1–5).
    pub market_influence: Option<i64>,
    pub loyalty: Option<i64>,
    /// The codes of the criteria met (`buying_power`, `sales_12m`, `industry`, `region`,
    /// `market_influence`, `loyalty`).
    pub criteria_met: Vec<String>,
}

/// Which candidates, in what order.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub industry: Option<String>,
    /// An org unit code: accounts whose region or branch it is.
    pub org: Option<String>,
    pub status: Option<String>,
    /// `-buying_power` (default), `-sales_12m`, `name`.
    pub sort: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

const SELECT: &str = "SELECT a.id, a.name, a.status, a.industry, a.buying_power, a.sales_12m, r.code AS region, \
     r.name AS region_name, b.code AS branch, b.name AS branch_name, u.username AS owner, u.display_name AS owner_name, \
     p.market_influence, p.loyalty FROM accounts a LEFT JOIN org_units r ON r.id = a.region_id \
     LEFT JOIN org_units b ON b.id = a.branch_id LEFT JOIN users u ON u.id = a.owner_id \
     LEFT JOIN development_plans p ON p.account_id = a.id WHERE a.status IN ('prospect', 'downgraded')";

fn row_of(r: &AnyRow, c: &Criteria) -> Result<CandidateRow> {
    let region: Option<String> = r.try_get("region")?;
    let branch: Option<String> = r.try_get("branch")?;
    let industry: String = r.try_get("industry")?;
    let buying_power: Option<i64> = r.try_get("buying_power")?;
    let sales_12m: Option<i64> = r.try_get("sales_12m")?;
    let market_influence: Option<i64> = r.try_get("market_influence")?;
    let loyalty: Option<i64> = r.try_get("loyalty")?;
    let in_region = [&region, &branch].iter().any(|u| u.as_ref().is_some_and(|u| c.regions.contains(u)));
    let facts = Facts { buying_power, sales_12m, industry: &industry, in_region, market_influence, loyalty };
    let criteria_met = c.met(&facts).into_iter().map(str::to_string).collect();
    let status: String = r.try_get("status")?;
    Ok(CandidateRow {
        account_id: r.try_get("id")?,
        name: r.try_get("name")?,
        status: crate::domain::account::Status::parse(&status).unwrap_or(crate::domain::account::Status::Prospect),
        industry,
        region,
        region_name: r.try_get("region_name")?,
        branch,
        branch_name: r.try_get("branch_name")?,
        owner: r.try_get("owner")?,
        owner_name: r.try_get("owner_name")?,
        buying_power: buying_power.map(format_fen),
        sales_12m: sales_12m.map(format_fen),
        market_influence,
        loyalty,
        criteria_met,
    })
}

/// ` AND (the number of criteria met) >= required`, the same criteria as [`Criteria::met`].
async fn push_criteria(s: &mut Sql, conn: &mut sqlx::AnyConnection, c: &Criteria) -> Result<()> {
    s.push(" AND (0");
    if let Some(v) = c.min_buying_power {
        s.push(" + CASE WHEN a.buying_power >= ").bind(v).push(" THEN 1 ELSE 0 END");
    }
    if let Some(v) = c.min_sales_12m {
        s.push(" + CASE WHEN a.sales_12m >= ").bind(v).push(" THEN 1 ELSE 0 END");
    }
    if !c.industries.is_empty() {
        s.push(" + CASE WHEN a.industry IN (").bind_texts(&c.industries).push(") THEN 1 ELSE 0 END");
    }
    if !c.regions.is_empty() {
        let mut q = Sql::new("SELECT id FROM org_units WHERE code IN (");
        q.bind_texts(&c.regions).push(")");
        let ids: Vec<i64> =
            q.query().fetch_all(&mut *conn).await?.iter().map(|r| r.try_get("id")).collect::<Result<_, _>>()?;
        if !ids.is_empty() {
            s.push(" + CASE WHEN a.region_id IN (").bind_list(&ids).push(") OR a.branch_id IN (");
            s.bind_list(&ids).push(") THEN 1 ELSE 0 END");
        }
    }
    if let Some(v) = c.min_market_influence {
        s.push(" + CASE WHEN p.market_influence >= ").bind(v).push(" THEN 1 ELSE 0 END");
    }
    if let Some(v) = c.min_loyalty {
        s.push(" + CASE WHEN p.loyalty >= ").bind(v).push(" THEN 1 ELSE 0 END");
    }
    s.push(") >= ").bind(c.required);
    Ok(())
}

fn sort_of(f: &Filter) -> Result<(&'static str, bool, bool)> {
    // (key column, is text, descending)
    Ok(match f.sort.as_deref().unwrap_or("-buying_power") {
        "-buying_power" => ("COALESCE(a.buying_power, -1)", false, true),
        "-sales_12m" => ("COALESCE(a.sales_12m, -1)", false, true),
        "name" => ("a.name", true, false),
        _ => return Err(Error::invalid("sort", "invalid_choice")),
    })
}

async fn query(
    db: &Db,
    caller: &Caller,
    f: &Filter,
    limit: i64,
) -> Result<(Vec<CandidateRow>, Vec<serde_json::Value>)> {
    if !may_propose(caller.role) {
        return Err(Error::Forbidden);
    }
    let (key, is_text, desc) = sort_of(f)?;
    let mut conn = db.pool.acquire().await?;
    let (c, _, _) = load_in(&mut conn).await?;
    let mut s = Sql::new(&SELECT.replace("SELECT a.id,", &format!("SELECT {key} AS sort_key, a.id,")));
    crate::app::customers::accounts::push_scope(&mut s, caller);
    push_criteria(&mut s, &mut conn, &c).await?;
    if let Some(i) = f.industry.as_deref().filter(|s| !s.is_empty()) {
        crate::domain::account::Industry::parse(i).map_err(|c| Error::invalid("industry", c))?;
        s.push(" AND a.industry = ").bind(i);
    }
    if let Some(st) = f.status.as_deref().filter(|s| !s.is_empty()) {
        if !matches!(st, "prospect" | "downgraded") {
            return Err(Error::invalid("status", "invalid_choice"));
        }
        s.push(" AND a.status = ").bind(st);
    }
    if let Some(o) = f.org.as_deref().filter(|s| !s.is_empty()) {
        // A code is at most 100 characters (as the API documents): a longer one is refused.
        if o.chars().count() > 100 {
            return Err(Error::invalid("org", "too_long"));
        }
        s.push(" AND (r.code = ").bind(o).push(" OR b.code = ").bind(o).push(")");
    }
    if let Some(cur) = &f.cursor {
        push_after(&mut s, cur, key, "a.id", is_text, desc)?;
    }
    let dir = if desc { "DESC" } else { "ASC" };
    s.push(&format!(" ORDER BY {key} {dir}, a.id {dir} LIMIT ")).bind(limit);
    let rows = s.query().fetch_all(&mut *conn).await?;
    let mut items = vec![];
    let mut keys = vec![];
    for r in &rows {
        items.push(row_of(r, &c)?);
        keys.push(if is_text {
            json!(r.try_get::<String, _>("sort_key")?)
        } else {
            json!(r.try_get::<i64, _>("sort_key")?)
        });
    }
    Ok((items, keys))
}

/// The candidates in scope the criteria propose, a page at a time. Only for those who decide
/// screenings (403 for others).
pub async fn list(db: &Db, caller: &Caller, f: &Filter) -> Result<Page<CandidateRow>> {
    let limit = clamp_limit(f.limit)?;
    let (mut items, keys) = query(db, caller, f, limit + 1).await?;
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        let last = items.last().map(|v| v.account_id).unwrap_or_default();
        Some(encode_cursor(keys[limit as usize - 1].clone(), last))
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

/// Every candidate the filter finds (at most 50,000), for the export.
pub async fn export_rows(db: &Db, caller: &Caller, f: &Filter) -> Result<Vec<CandidateRow>> {
    let f = Filter { cursor: None, ..f.clone() };
    Ok(query(db, caller, &f, 50_000).await?.0)
}

/// The export's columns (keys as headers, amounts in yuan).
pub fn table(rows: &[CandidateRow]) -> Table {
    Table {
        keys: vec![
            "account_id",
            "name",
            "status",
            "industry",
            "region",
            "branch",
            "owner",
            "buying_power",
            "sales_12m",
            "market_influence",
            "loyalty",
            "criteria_met",
        ],
        rows: rows
            .iter()
            .map(|r| {
                let o = |v: &Option<String>| v.clone().unwrap_or_default();
                let n = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
                vec![
                    r.account_id.to_string(),
                    r.name.clone(),
                    r.status.code().to_string(),
                    r.industry.clone(),
                    o(&r.region_name),
                    o(&r.branch_name),
                    o(&r.owner_name),
                    o(&r.buying_power),
                    o(&r.sales_12m),
                    n(r.market_influence),
                    n(r.loyalty),
                    r.criteria_met.join(" "),
                ]
            })
            .collect(),
    }
}

/// A proposal as given.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposeIn {
    /// Why, for the owner (at most 1000 characters).
    pub note: Option<String>,
}

/// A proposal made.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProposalView {
    pub id: i64,
    pub account_id: i64,
    /// The criteria the account met when proposed.
    pub criteria_met: Vec<String>,
    pub note: Option<String>,
    /// Username of who proposed it.
    pub proposed_by: String,
    #[schema(format = DateTime)]
    pub proposed_at: String,
    /// The account's status now (`candidate`).
    pub status: crate::domain::account::Status,
}

/// Proposes an account the criteria propose: it becomes a candidate, and its owner is asked to
/// complete the screening. The account must be in the list (in scope, a prospect or downgraded,
/// meeting the criteria: else 404 out of scope, 422 `status` / `criteria_not_met`) and have an
/// owner (422 `owner` `required`).
pub async fn propose(db: &Db, ctx: &Ctx, account_id: i64, inp: &ProposeIn) -> Result<ProposalView> {
    let caller = &ctx.caller;
    if !may_propose(caller.role) {
        return Err(Error::Forbidden);
    }
    let note = text::optional(inp.note.as_deref(), 1000).map_err(|c| Error::invalid("note", c))?;
    let mut tx = db.begin().await?;
    let (c, _, _) = load_in(tx.conn()).await?;
    let mut s = Sql::new(&SELECT.replace(" WHERE a.status IN ('prospect', 'downgraded')", " WHERE a.id = "));
    s.bind(account_id);
    crate::app::customers::accounts::push_scope_one(&mut s, caller);
    let r = s.query().fetch_optional(tx.conn()).await?.ok_or(Error::NotFound)?;
    let row = row_of(&r, &c)?;
    let owner_id: Option<i64> = sqlx::query("SELECT owner_id FROM accounts WHERE id = $1")
        .bind(account_id)
        .fetch_one(tx.conn())
        .await?
        .try_get("owner_id")?;
    let mut e = Errors::default();
    if !matches!(row.status.code(), "prospect" | "downgraded") {
        e.add("status", "not_a_prospect");
    } else if (row.criteria_met.len() as i64) < c.required {
        e.add("account_id", "criteria_not_met");
    }
    if owner_id.is_none() {
        e.add("owner", "required");
    }
    e.finish()?;
    let now = crate::app::clock::now();
    crate::app::classification::screenings::propose(&mut tx, ctx, account_id, row.status.code(), owner_id, &row.name)
        .await?;
    let met = json!(row.criteria_met).to_string();
    let id: i64 = sqlx::query(
        "INSERT INTO candidate_proposals (account_id, criteria, note, proposed_by, proposed_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(account_id)
    .bind(met)
    .bind(note.clone())
    .bind(caller.username.as_str())
    .bind(ts(now))
    .fetch_one(tx.conn())
    .await?
    .try_get("id")?;
    audit::record(
        &mut tx,
        ctx,
        "account",
        &account_id.to_string(),
        "propose_candidate",
        Some(&json!({"status": row.status.code()})),
        Some(&json!({"status": "candidate", "criteria_met": row.criteria_met, "note": note})),
    )
    .await?;
    tx.commit().await?;
    Ok(ProposalView {
        id,
        account_id,
        criteria_met: row.criteria_met,
        note,
        proposed_by: caller.username.clone(),
        proposed_at: ts(now),
        status: crate::domain::account::Status::Candidate,
    })
}

/// The latest proposal of an account, if any (for its page and the screening form).
pub async fn latest_proposal(db: &Db, account_id: i64) -> Result<Option<ProposalView>> {
    let r = sqlx::query(
        "SELECT p.id, p.criteria, p.note, p.proposed_by, p.proposed_at, a.status FROM candidate_proposals p \
         JOIN accounts a ON a.id = p.account_id WHERE p.account_id = $1 ORDER BY p.id DESC LIMIT 1",
    )
    .bind(account_id)
    .fetch_optional(&db.pool)
    .await?;
    let Some(r) = r else { return Ok(None) };
    let status: String = r.try_get("status")?;
    Ok(Some(ProposalView {
        id: r.try_get("id")?,
        account_id,
        criteria_met: serde_json::from_str(&r.try_get::<String, _>("criteria")?).unwrap_or_default(),
        note: r.try_get("note")?,
        proposed_by: r.try_get("proposed_by")?,
        proposed_at: r.try_get("proposed_at")?,
        status: crate::domain::account::Status::parse(&status).unwrap_or(crate::domain::account::Status::Candidate),
    }))
}
