//! KPI performance contracts (业绩合同) and team performance (issue 25 items 5–6; seed 000's
//! three samples, seed 002 §五; docs/DOMAIN.md §16.4–16.5): the role templates and the score
//! cap (`templates`), a contract per person and year issued by their manager and acknowledged by
//! both, its manager-entered actuals and veto (`contracts`), the actuals KAM computes and the
//! weighted scores by quarter and year for a person, a team and the department, promotion
//! flags (`score`), and the team's quarterly evaluation, coefficient and awards (`team`).
pub mod contracts;
pub mod score;
pub mod team;
pub mod templates;

use chrono::NaiveDate;
use sqlx::Row;

use crate::app::{Caller, Error, Result};
use crate::domain::role::Role;

/// A scoring period: a year, or one of its quarters (`2027`, `2027-Q1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub year: i32,
    pub quarter: Option<u32>,
}

impl Period {
    pub fn parse(s: &str) -> Option<Period> {
        let s = s.trim();
        let (y, q) = match s.split_once("-Q") {
            Some((y, q)) => (y, Some(q.parse::<u32>().ok().filter(|q| (1..=4).contains(q))?)),
            None => (s, None),
        };
        if y.len() != 4 {
            return None;
        }
        let year = y.parse::<i32>().ok().filter(|y| (2000..=2100).contains(y))?;
        Some(Period { year, quarter: q })
    }
    pub fn year(year: i32) -> Period {
        Period { year, quarter: None }
    }
    pub fn code(&self) -> String {
        match self.quarter {
            Some(q) => format!("{:04}-Q{q}", self.year),
            None => format!("{:04}", self.year),
        }
    }
    /// The first month (1–12) and the month after the last (2–13).
    fn months(&self) -> (u32, u32) {
        match self.quarter {
            Some(q) => (q * 3 - 2, q * 3 + 1),
            None => (1, 13),
        }
    }
    /// The first day and the day after the last.
    pub fn range(&self) -> (NaiveDate, NaiveDate) {
        let (a, b) = self.months();
        let from = NaiveDate::from_ymd_opt(self.year, a, 1).expect("month");
        let to = if b == 13 {
            NaiveDate::from_ymd_opt(self.year + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(self.year, b, 1)
        }
        .expect("month");
        (from, to)
    }
    /// `YYYY-MM` of its first month and of the month after its last.
    pub fn month_range(&self) -> (String, String) {
        let (a, b) = self.range();
        (a.format("%Y-%m").to_string(), b.format("%Y-%m").to_string())
    }
    /// The survey quarters (`2027-Q1`) it covers.
    pub fn quarters(&self) -> Vec<String> {
        match self.quarter {
            Some(_) => vec![self.code()],
            None => (1..=4).map(|q| format!("{:04}-Q{q}", self.year)).collect(),
        }
    }
    /// The same period a year before.
    pub fn last_year(&self) -> Period {
        Period { year: self.year - 1, quarter: self.quarter }
    }
}

/// A period from the request, or this year when absent; a bad one is 422 `period`.
pub fn period_of(s: Option<&str>, caller: &Caller) -> Result<Period> {
    use chrono::Datelike;
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(Period::year(caller.day().year())),
        Some(s) => Period::parse(s).ok_or_else(|| Error::invalid("period", "period_format")),
    }
}

/// A decimal with at most two places, possibly negative, as hundredths (money in fen, percent
/// in basis points, counts ×100).
pub fn parse_dec(s: &str) -> std::result::Result<i64, &'static str> {
    let t = s.trim().replace([',', '，'], "");
    let (neg, rest) = match t.strip_prefix('-') {
        Some(r) => (true, r.to_string()),
        None => (false, t.clone()),
    };
    let v = crate::domain::money::parse_fen(&rest).map_err(|_| "number_format")?;
    Ok(if neg { -v } else { v })
}

/// Hundredths as a decimal with two places (`"12.50"`, `"-3.00"`).
pub fn format_dec(v: i64) -> String {
    crate::domain::money::format_fen(v)
}

/// Sees every person's contract and scorecard.
pub fn sees_all(role: Role) -> bool {
    matches!(role, Role::Gm | Role::SalesDeptManager | Role::KaDirector)
}

/// Leads a team: sees the people of their part of the org tree and those reporting to them.
pub fn leads(role: Role) -> bool {
    matches!(role, Role::KaManager | Role::BranchManager)
}

/// Whether the caller may open the KPI pages at all (every salesperson sees their own).
pub fn may_see(caller: &Caller) -> bool {
    sees_all(caller.role) || leads(caller.role) || matches!(caller.role, Role::KaRep | Role::InsideSales)
}

/// A person as the KPI part reads them.
#[derive(Debug, Clone)]
pub struct Person {
    pub id: i64,
    pub display_name: String,
    pub role: Role,
    pub org_unit_id: i64,
    pub org_path: String,
    pub org_name: String,
    pub manager_id: Option<i64>,
    pub active: bool,
}

pub(crate) async fn person_of(conn: &mut sqlx::AnyConnection, id: i64) -> Result<Option<Person>> {
    let r = sqlx::query(
        "SELECT u.id, u.display_name, u.role, u.org_unit_id, u.manager_id, u.active, o.path, o.name AS org_name \
         FROM users u JOIN org_units o ON o.id = u.org_unit_id WHERE u.id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(r) = r else { return Ok(None) };
    Ok(Some(Person {
        id: r.try_get("id")?,
        display_name: r.try_get("display_name")?,
        role: Role::parse(&r.try_get::<String, _>("role")?).map_err(|_| anyhow::anyhow!("stored role"))?,
        org_unit_id: r.try_get("org_unit_id")?,
        org_path: r.try_get("path")?,
        org_name: r.try_get("org_name")?,
        manager_id: r.try_get("manager_id")?,
        active: r.try_get::<i64, _>("active")? != 0,
    }))
}

/// Whether the caller sees this person's contract and scorecard.
pub fn sees_person(caller: &Caller, p: &Person) -> bool {
    caller.user_id == p.id
        || sees_all(caller.role)
        || (leads(caller.role) && (p.manager_id == Some(caller.user_id) || p.org_path.starts_with(&caller.org_path)))
}

/// Whether the caller may issue (and keep: targets, actuals, veto, close) this person's
/// contract: their manager, the KA director or the sales department manager — never their own.
pub fn may_issue(caller: &Caller, p: &Person) -> bool {
    caller.user_id != p.id
        && (p.manager_id == Some(caller.user_id)
            || matches!(caller.role, Role::KaDirector | Role::SalesDeptManager)
            || (leads(caller.role) && p.org_path.starts_with(&caller.org_path)))
}

/// The person the caller sees (404 otherwise).
pub(crate) async fn person_in(conn: &mut sqlx::AnyConnection, caller: &Caller, id: i64) -> Result<Person> {
    match person_of(conn, id).await? {
        Some(p) if sees_person(caller, &p) => Ok(p),
        _ => Err(Error::NotFound),
    }
}

/// An org unit (a team).
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[schema(as = KpiTeam)]
pub struct Team {
    pub id: i64,
    pub code: String,
    pub name: String,
    /// `hq`, `region` or `branch`.
    pub kind: String,
    #[serde(skip)]
    pub path: String,
}

/// Whether the caller sees a team's scorecard and performance.
pub fn sees_team(caller: &Caller, path: &str) -> bool {
    sees_all(caller.role) || (leads(caller.role) && path.starts_with(&caller.org_path))
}

/// Whether the caller records a team's evaluation: the KA director, or its manager.
pub fn may_evaluate(caller: &Caller, path: &str) -> bool {
    caller.role == Role::KaDirector || (leads(caller.role) && path.starts_with(&caller.org_path))
}

pub(crate) async fn teams(conn: &mut sqlx::AnyConnection) -> Result<Vec<Team>> {
    sqlx::query("SELECT id, code, name, kind, path FROM org_units ORDER BY path")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(Team {
                id: r.try_get("id")?,
                code: r.try_get("code")?,
                name: r.try_get("name")?,
                kind: r.try_get("kind")?,
                path: r.try_get("path")?,
            })
        })
        .collect()
}

/// The teams the caller sees.
pub async fn visible_teams(db: &crate::db::Db, caller: &Caller) -> Result<Vec<Team>> {
    let mut conn = db.pool.acquire().await?;
    Ok(teams(&mut conn).await?.into_iter().filter(|t| sees_team(caller, &t.path)).collect())
}

/// A team the caller sees (404 otherwise).
pub(crate) async fn team_in(conn: &mut sqlx::AnyConnection, caller: &Caller, id: i64) -> Result<Team> {
    teams(conn).await?.into_iter().find(|t| t.id == id && sees_team(caller, &t.path)).ok_or(Error::NotFound)
}

/// A contract as stored (what scoring reads).
#[derive(Debug, Clone)]
pub struct ContractRow {
    pub id: i64,
    pub user_id: i64,
    pub holder_name: String,
    pub role: String,
    pub org_unit_id: i64,
    pub team_name: String,
    pub team_path: String,
    pub year: i64,
    pub issuer_id: i64,
    pub indicators: Vec<templates::Indicator>,
    pub veto: templates::Veto,
    pub bonus_base: i64,
    pub state: String,
    pub veto_hit: bool,
    pub final_score_bp: Option<i64>,
}

pub(crate) const ROW_SQL: &str = "SELECT c.id, c.user_id, u.display_name AS holder_name, c.role, c.org_unit_id, \
     o.name AS team_name, o.path AS team_path, c.year, c.issuer_id, c.indicators, c.veto, c.bonus_base, c.state, \
     c.veto_hit, c.final_score_bp FROM kpi_contracts c JOIN users u ON u.id = c.user_id \
     JOIN org_units o ON o.id = c.org_unit_id";

pub(crate) fn row_of(r: &sqlx::any::AnyRow) -> Result<ContractRow> {
    Ok(ContractRow {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        holder_name: r.try_get("holder_name")?,
        role: r.try_get("role")?,
        org_unit_id: r.try_get("org_unit_id")?,
        team_name: r.try_get("team_name")?,
        team_path: r.try_get("team_path")?,
        year: r.try_get("year")?,
        issuer_id: r.try_get("issuer_id")?,
        indicators: serde_json::from_str(&r.try_get::<String, _>("indicators")?)
            .map_err(|e| anyhow::anyhow!("stored indicators: {e}"))?,
        veto: serde_json::from_str(&r.try_get::<String, _>("veto")?)
            .map_err(|e| anyhow::anyhow!("stored veto: {e}"))?,
        bonus_base: r.try_get("bonus_base")?,
        state: r.try_get("state")?,
        veto_hit: r.try_get::<i64, _>("veto_hit")? != 0,
        final_score_bp: r.try_get("final_score_bp")?,
    })
}
