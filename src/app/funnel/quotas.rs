//! Quotas per person and org unit per month, and what they are measured against: booked (the
//! won amount booked in the period), remaining, the weighted pipeline, and the V value — the
//! open pipeline expected in the rest of the period ÷ the remaining quota (docs/DOMAIN.md#4-quotas-v-value-and-forecasts).
//!
//! Who may set quotas: managers for the people below them, the roles that see everything for
//! anyone and for org units. The figures of a person are visible to that person and to those
//! who see them (their managers, the managers of their branch or region, HQ).
use std::collections::HashMap;

use serde::Serialize;
use sqlx::Row;

use crate::app::records::input::Input;
use crate::app::{records::audit, Caller, Ctx, Error, Result};
use crate::db::sql::Sql;
use crate::db::{now, Db};
use crate::domain::error::Errors;
use crate::domain::money::{format_fen, parse_fen};
use crate::domain::opportunity::{self as opp, Stage};
use crate::domain::quota::{v_value, Period, VValue};
use crate::domain::role::Reach;

/// Whether the caller may set the quota of `user_id`: whoever manages them, and the heads of
/// the KA system their own.
async fn may_set_for(conn: &mut sqlx::AnyConnection, caller: &Caller, user_id: i64) -> Result<bool> {
    let own_at_hq = caller.user_id == user_id && caller.reach() == Reach::All && caller.role.manages_accounts();
    Ok(own_at_hq || crate::app::people::team::manages_person(conn, caller, user_id).await?)
}

/// One month's quota of a person or an org unit.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuotaView {
    /// `YYYY-MM`.
    #[schema(pattern = r"^[0-9]{4}-[0-9]{2}$")]
    pub month: String,
    /// The person's username (a person's quota).
    pub owner: Option<String>,
    /// The org unit's code (an org unit's quota).
    pub org: Option<String>,
    #[schema(value_type = String, pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub amount: String,
    pub version: i64,
}

/// Sets one month's quota of a person (`owner`) or an org unit (`org`): `{month, owner|org,
/// amount}`. Setting 0 keeps a row with 0 (a month without quota is a row never set).
pub async fn set(db: &Db, ctx: &Ctx, inp: &Input) -> Result<QuotaView> {
    inp.check_keys(&["month", "owner", "org", "amount"], &["month", "owner", "org", "amount"])?;
    let mut tx = db.begin().await?;
    let v = set_in(&mut tx, ctx, inp).await?;
    tx.commit().await?;
    Ok(v)
}

async fn set_in(tx: &mut crate::db::WriteTx, ctx: &Ctx, inp: &Input) -> Result<QuotaView> {
    let caller = &ctx.caller;
    let mut e = Errors::default();
    let month = match inp.get("month").flatten() {
        None => {
            e.add("month", "required");
            None
        }
        Some(m) => match Period::parse(m) {
            Ok(p) if p.months().len() == 1 => Some(p.code),
            _ => {
                e.add("month", "month_format");
                None
            }
        },
    };
    let amount = match inp.get("amount").flatten() {
        None => {
            e.add("amount", "required");
            None
        }
        Some(_) if inp.was_number("amount") => {
            e.add("amount", "money_must_be_string");
            None
        }
        Some(v) => e.take("amount", parse_fen(v)),
    };
    let owner = inp.get("owner").flatten().map(str::trim).filter(|v| !v.is_empty());
    let org = inp.get("org").flatten().map(str::trim).filter(|v| !v.is_empty());
    let mut target: Option<(&str, i64)> = None;
    match (owner, org) {
        (Some(_), Some(_)) => e.add("org", "owner_or_org"),
        (None, None) => e.add("owner", "required"),
        (Some(u), None) => match crate::app::customers::accounts::active_user_id(tx.conn(), u).await? {
            Some(id) => target = Some(("user_id", id)),
            None => e.add("owner", "unknown_user"),
        },
        (None, Some(c)) => {
            match sqlx::query("SELECT id FROM org_units WHERE code = $1").bind(c).fetch_optional(tx.conn()).await? {
                Some(r) => target = Some(("org_unit_id", r.try_get("id")?)),
                None => e.add("org", "unknown_org_unit"),
            }
        }
    }
    e.finish()?;
    let (Some(month), Some(amount), Some((col, tid))) = (month, amount, target) else {
        return Err(Error::invalid("month", "required"));
    };
    // A year with an approved sales plan takes its quotas from the plan only.
    let year: i32 = month.get(..4).and_then(|y| y.parse().ok()).unwrap_or(0);
    if crate::app::salesplan::plan::approved_in(tx.conn(), year).await? {
        return Err(Error::invalid("month", "plan_locked"));
    }
    let allowed = match col {
        "user_id" => may_set_for(tx.conn(), caller, tid).await?,
        _ => caller.reach() == Reach::All && caller.role.manages_accounts(),
    };
    if !allowed {
        return Err(Error::Forbidden);
    }
    let existing = sqlx::query(&format!("SELECT id, amount, version FROM quotas WHERE {col} = $1 AND month = $2"))
        .bind(tid)
        .bind(month.clone())
        .fetch_optional(tx.conn())
        .await?;
    let ts = now();
    let (id, before, version) = match existing {
        Some(r) if r.try_get::<i64, _>("amount")? == amount => {
            // The same amount again: nothing changes (no new version, no audit row).
            let view = QuotaView {
                month,
                owner: owner.map(str::to_string),
                org: org.map(str::to_string),
                amount: format_fen(amount),
                version: r.try_get("version")?,
            };
            return Ok(view);
        }
        Some(r) => {
            let id: i64 = r.try_get("id")?;
            let before: i64 = r.try_get("amount")?;
            sqlx::query("UPDATE quotas SET amount = $1, version = version + 1, updated_at = $2 WHERE id = $3")
                .bind(amount)
                .bind(ts)
                .bind(id)
                .execute(tx.conn())
                .await?;
            (id, Some(before), r.try_get::<i64, _>("version")? + 1)
        }
        None => {
            let id: i64 = sqlx::query(&format!(
                "INSERT INTO quotas (month, {col}, amount, version, created_at, updated_at) VALUES ($1, $2, $3, 1, $4, $4) RETURNING id"
            ))
            .bind(month.clone())
            .bind(tid)
            .bind(amount)
            .bind(ts)
            .fetch_one(tx.conn())
            .await?
            .try_get("id")?;
            (id, None, 1)
        }
    };
    let view = QuotaView {
        month,
        owner: owner.map(str::to_string),
        org: org.map(str::to_string),
        amount: format_fen(amount),
        version,
    };
    let after = serde_json::to_value(&view).unwrap_or_default();
    let before = before.map(|b| serde_json::json!({ "amount": format_fen(b) }));
    audit::record(
        tx,
        ctx,
        "quota",
        &id.to_string(),
        if before.is_some() { "update" } else { "create" },
        before.as_ref(),
        Some(&after),
    )
    .await?;
    Ok(view)
}

/// Quotas from a spreadsheet (CSV or XLSX, as imports read them, at most 50,000 rows): columns
/// 月份/month, 用户名/owner or 组织/org, 指标/amount. All or nothing; errors by row, listed up to
/// `max_errors` refused rows.
pub async fn import(
    db: &Db,
    ctx: &Ctx,
    src: crate::app::spreadsheets::import::Source,
    max_errors: usize,
) -> Result<crate::app::spreadsheets::import::Report> {
    let rows = crate::app::spreadsheets::import::read_all(src, 50_000, "quota_too_many_rows").await?;
    let mut report = crate::app::spreadsheets::import::Report::default();
    let Some((_, header)) = rows.first() else {
        return Err(Error::invalid("file", "file_empty"));
    };
    let col = |names: &[&str]| header.iter().position(|h| names.contains(&h.trim().to_lowercase().as_str()));
    let (Some(m), Some(a)) = (col(&["月份", "month", "期间", "period"]), col(&["指标", "amount", "quota", "销售指标"]))
    else {
        return Err(Error::invalid("file", "quota_columns_missing"));
    };
    let (o, g) = (col(&["用户名", "owner", "username", "销售"]), col(&["组织", "org", "组织代码"]));
    let mut tx = db.begin().await?;
    for (line, cells) in rows.iter().skip(1) {
        if report.errors_truncated {
            break;
        }
        let cell =
            |i: Option<usize>| i.and_then(|i| cells.get(i)).map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        let mut pairs: Vec<(&str, Option<String>)> = vec![("month", cell(Some(m))), ("amount", cell(Some(a)))];
        if let Some(v) = cell(o) {
            pairs.push(("owner", Some(v)));
        }
        if let Some(v) = cell(g) {
            pairs.push(("org", Some(v)));
        }
        if pairs.iter().all(|(_, v)| v.is_none()) {
            continue;
        }
        report.rows += 1;
        let refs: Vec<(&str, Option<&str>)> = pairs.iter().map(|(k, v)| (*k, v.as_deref())).collect();
        match set_in(&mut tx, ctx, &Input::from_pairs(&refs)).await {
            Ok(_) => report.created += 1,
            Err(Error::Invalid(fs)) => {
                for f in fs {
                    let value =
                        pairs.iter().find(|(k, _)| *k == f.field).and_then(|(_, v)| v.clone()).unwrap_or_default();
                    let value = crate::app::spreadsheets::import::shown(&value);
                    let e = crate::app::spreadsheets::import::RowError {
                        row: *line,
                        column: f.field,
                        value,
                        code: f.code.into(),
                    };
                    report.refuse(e, max_errors);
                }
            }
            Err(Error::Forbidden) => report.refuse(
                crate::app::spreadsheets::import::RowError {
                    row: *line,
                    column: "owner".into(),
                    value: crate::app::spreadsheets::import::shown(&cell(o).or(cell(g)).unwrap_or_default()),
                    code: "forbidden".into(),
                },
                max_errors,
            ),
            Err(e) => return Err(e),
        }
    }
    if !report.refused() {
        tx.commit().await?;
        report.committed = true;
    } else {
        tx.rollback().await?;
        report.created = 0;
    }
    Ok(report)
}

/// One line of the V-value report: a person, a team (a manager and everyone below), or an org
/// unit (everyone in it).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Figures {
    /// `person`, `team`, `region` or `total`.
    #[schema(value_type = String, pattern = "^(person|team|region|total)$")]
    pub kind: &'static str,
    /// The person's or team manager's username, the region's code; empty for the total.
    pub key: String,
    pub name: String,
    /// The quota of the period; null when none was set.
    #[schema(value_type = Option<String>, pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub quota: Option<String>,
    /// Won with a booking date in the period.
    #[schema(value_type = String, pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub booked: String,
    /// quota − booked (never below 0); null without a quota.
    #[schema(value_type = Option<String>, pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub remaining: Option<String>,
    /// Open pipeline expected from today to the end of the period.
    #[schema(value_type = String, pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub pipeline: String,
    #[schema(value_type = String, pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub weighted_pipeline: String,
    /// "1.50" (pipeline ÷ remaining), "quota_met", or null without a quota.
    #[schema(pattern = r"^([0-9]+\.[0-9]{2}|quota_met)$")]
    pub v_value: Option<String>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Sums {
    quota: Option<i64>,
    booked: i64,
    pipeline: i64,
    weighted: i64,
}

impl Sums {
    fn add(&mut self, o: &Sums) {
        self.quota = match (self.quota, o.quota) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
        };
        self.booked += o.booked;
        self.pipeline += o.pipeline;
        self.weighted += o.weighted;
    }
    fn figures(&self, kind: &'static str, key: String, name: String) -> Figures {
        let v = match v_value(self.quota, self.booked, self.pipeline) {
            VValue::NoQuota => None,
            VValue::QuotaMet => Some("quota_met".to_string()),
            VValue::Ratio(bp) => {
                let h = crate::domain::quota::round_div(bp as i128, 100) as i64;
                Some(format!("{}.{:02}", h / 100, h % 100))
            }
        };
        Figures {
            kind,
            key,
            name,
            quota: self.quota.map(format_fen),
            booked: format_fen(self.booked),
            remaining: self.quota.map(|q| format_fen((q - self.booked).max(0))),
            pipeline: format_fen(self.pipeline),
            weighted_pipeline: format_fen(self.weighted),
            v_value: v,
        }
    }
}

/// The V-value report: figures per person, team and region, and the total.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VReport {
    /// The period: `YYYY-MM`, `YYYY-Qn` or `YYYY`.
    pub period: String,
    pub people: Vec<Figures>,
    pub teams: Vec<Figures>,
    pub regions: Vec<Figures>,
    pub total: Figures,
}

/// The V-value report for a period (`YYYY-MM`, `YYYY-Qn`, `YYYY`; default this month) over the
/// people the caller may see, optionally one of them (`owner`).
pub async fn v_report(db: &Db, caller: &Caller, period: Option<&str>, owner: Option<&str>) -> Result<VReport> {
    let today = chrono::Utc::now().date_naive();
    let p = match period.map(str::trim).filter(|v| !v.is_empty()) {
        None => Period::month_of(today),
        Some(v) => Period::parse(v).map_err(|c| Error::invalid("period", c))?,
    };
    let mut conn = db.pool.acquire().await?;
    let mut ps = crate::app::people::team::people(&mut conn, caller, None).await?;
    if let Some(o) = owner.map(str::trim).filter(|v| !v.is_empty()) {
        ps.retain(|p| p.username == o);
        if ps.is_empty() {
            return Err(Error::NotFound);
        }
    }
    let months = p.months();
    // Few people (one salesperson, a team): their rows only, on the owner's indexes; many: every
    // row in the period, in one pass. The figures are the same.
    let only: Option<Vec<i64>> = (ps.len() <= 200).then(|| ps.iter().map(|p| p.id).collect());
    let of_people = |s: &mut Sql, col: &str| {
        if let Some(ids) = &only {
            s.push(&format!(" AND {col} IN (")).bind_list(ids).push(")");
        }
    };
    let mut sums: HashMap<i64, Sums> = HashMap::new();
    let mut q = Sql::new("SELECT user_id, month, amount FROM quotas WHERE user_id IS NOT NULL AND month >= ");
    q.bind(months.first().cloned().unwrap_or_default()).push(" AND month <= ");
    q.bind(months.last().cloned().unwrap_or_default());
    of_people(&mut q, "user_id");
    for q in q.query().fetch_all(&mut *conn).await? {
        let s = sums.entry(q.try_get("user_id")?).or_default();
        s.quota = Some(s.quota.unwrap_or(0) + q.try_get::<i64, _>("amount")?);
    }
    let (start, end) = (p.start.format("%Y-%m-%d").to_string(), p.end.format("%Y-%m-%d").to_string());
    let mut q = Sql::new(
        "SELECT owner_id, CAST(COALESCE(SUM(booked_amount), 0) AS BIGINT) AS booked FROM opportunities \
         WHERE stage = 'won' AND deleted_at IS NULL AND booked_on >= ",
    );
    q.bind(start.clone()).push(" AND booked_on < ").bind(end.clone());
    of_people(&mut q, "owner_id");
    q.push(" GROUP BY owner_id");
    for r in q.query().fetch_all(&mut *conn).await? {
        sums.entry(r.try_get("owner_id")?).or_default().booked = r.try_get("booked")?;
    }
    // The rest of the period: from today (or its start, if it lies ahead) to its end.
    let from = std::cmp::max(p.start, today).format("%Y-%m-%d").to_string();
    let mut q = Sql::new(
        "SELECT owner_id, stage, CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS amount FROM opportunities \
         WHERE stage NOT IN ('won', 'lost') AND deleted_at IS NULL AND expected_close >= ",
    );
    q.bind(from).push(" AND expected_close < ").bind(end);
    of_people(&mut q, "owner_id");
    q.push(" GROUP BY owner_id, stage");
    for r in q.query().fetch_all(&mut *conn).await? {
        let amount: i64 = r.try_get("amount")?;
        let st = Stage::parse(&r.try_get::<String, _>("stage")?).unwrap_or(Stage::Identified);
        let s = sums.entry(r.try_get("owner_id")?).or_default();
        s.pipeline += amount;
        s.weighted += opp::weighted(amount, st);
    }
    let of = |id: i64| sums.get(&id).copied().unwrap_or_default();
    let people_rows: Vec<Figures> =
        ps.iter().map(|p| of(p.id).figures("person", p.username.clone(), p.display_name.clone())).collect();
    // Teams: each manager among them with everyone below (in the report).
    let mut teams = vec![];
    for m in ps.iter().filter(|m| ps.iter().any(|p| p.manager_id == Some(m.id))) {
        let mut t = of(m.id);
        let mut stack = vec![m.id];
        while let Some(x) = stack.pop() {
            for p in ps.iter().filter(|p| p.manager_id == Some(x)) {
                t.add(&of(p.id));
                stack.push(p.id);
            }
        }
        teams.push(t.figures("team", m.username.clone(), m.display_name.clone()));
    }
    // Regions: everyone whose org unit lies in the region; the region's own quota when one is
    // set for the period, else the sum of its people's.
    let mut org_quota: HashMap<i64, i64> = HashMap::new();
    for q in sqlx::query(
        "SELECT org_unit_id, amount FROM quotas WHERE org_unit_id IS NOT NULL AND month >= $1 AND month <= $2",
    )
    .bind(months.first().cloned().unwrap_or_default())
    .bind(months.last().cloned().unwrap_or_default())
    .fetch_all(&mut *conn)
    .await?
    {
        *org_quota.entry(q.try_get("org_unit_id")?).or_default() += q.try_get::<i64, _>("amount")?;
    }
    let mut regions = vec![];
    for r in sqlx::query("SELECT id, code, name, path FROM org_units WHERE kind = 'region' ORDER BY code")
        .fetch_all(&mut *conn)
        .await?
    {
        let path: String = r.try_get("path")?;
        let members: Vec<&crate::app::people::team::Person> =
            ps.iter().filter(|p| p.org_path.starts_with(&path)).collect();
        if members.is_empty() {
            continue;
        }
        let mut t = Sums::default();
        for m in members {
            t.add(&of(m.id));
        }
        if let Some(q) = org_quota.get(&r.try_get::<i64, _>("id")?) {
            t.quota = Some(*q);
        }
        regions.push(t.figures("region", r.try_get("code")?, r.try_get("name")?));
    }
    let mut total = Sums::default();
    for p in &ps {
        total.add(&of(p.id));
    }
    Ok(VReport {
        period: p.code,
        people: people_rows,
        teams,
        regions,
        total: total.figures("total", String::new(), String::new()),
    })
}

/// What a salesperson's day starts with: their figures this month, open opportunities whose
/// next step is due, and deals whose expected date has passed.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Daily {
    /// The caller's figures this month: a manager's team's (`kind` `team`), a salesperson's own
    /// (empty ones when neither).
    pub figures: Figures,
    pub next_steps_due: Vec<crate::app::funnel::opportunities::OpportunityView>,
    pub overdue_deals: Vec<crate::app::funnel::opportunities::OpportunityView>,
    /// Effective visits and calls today and this week against the targets.
    pub visits: crate::app::visits::activities::Progress,
    /// Visits waiting for their follow-up contact, due and overdue.
    pub follow_ups: Vec<crate::app::visits::activities::FollowUp>,
}

pub async fn daily(db: &Db, caller: &Caller) -> Result<Daily> {
    let figures = own_figures(db, caller).await?;
    let today = chrono::Utc::now().date_naive().format("%Y-%m-%d").to_string();
    let f = crate::app::funnel::opportunities::Filter {
        owner: Some(caller.username.clone()),
        open: true,
        limit: Some(500),
        ..Default::default()
    };
    let mine = crate::app::funnel::opportunities::list(db, caller, &f).await?.items;
    let next_steps_due =
        mine.iter().filter(|o| o.next_step_due.as_deref().is_some_and(|d| d <= today.as_str())).cloned().collect();
    let overdue_deals = mine.into_iter().filter(|o| o.expected_close.as_str() < today.as_str()).collect();
    let visits = crate::app::visits::activities::progress(db, caller).await?;
    let follow_ups = crate::app::visits::activities::follow_ups(db, caller, None).await?;
    Ok(Daily { figures, next_steps_due, overdue_deals, visits, follow_ups })
}

/// The caller's figures this month: a manager's are their team's (they and everyone below them,
/// as the V-value report adds them up); a salesperson's their own; empty ones for anyone else.
pub async fn own_figures(db: &Db, caller: &Caller) -> Result<Figures> {
    let manages = sqlx::query("SELECT 1 AS one FROM users WHERE manager_id = $1 AND active = 1 LIMIT 1")
        .bind(caller.user_id)
        .fetch_optional(&db.pool)
        .await?
        .is_some();
    let r = v_report(db, caller, None, (!manages).then_some(caller.username.as_str())).await;
    Ok(match r {
        Ok(mut r) => match r.teams.iter().position(|t| t.key == caller.username) {
            Some(i) => r.teams.remove(i),
            None => match r.people.iter().position(|p| p.key == caller.username) {
                Some(i) => r.people.remove(i),
                None => Sums::default().figures("person", caller.username.clone(), caller.display_name.clone()),
            },
        },
        // Not a salesperson: empty figures of their own.
        Err(Error::NotFound) => Sums::default().figures("person", caller.username.clone(), caller.display_name.clone()),
        Err(e) => return Err(e),
    })
}
