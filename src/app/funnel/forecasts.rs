//! The 4-week order forecast (001): every week each salesperson commits, for this week and the
//! three after, the orders they expect (commit) and could get (best case), prefilled from their
//! opportunities. Each submission is kept as it was; a manager's adjustments are kept apart.
//! Accuracy compares, per past week, what was committed for it with what was booked in it.
use serde::Serialize;
use sqlx::Row;

use crate::app::{records::audit, Caller, Ctx, Error, Result};
use crate::db::codes::Fen;
use crate::db::{now, Db};
use crate::domain::error::Errors;
use crate::domain::money::{format_fen, parse_fen};
use crate::domain::quota::{accuracy_pct, forecast_weeks, week_start};

/// One week of a forecast.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct WeekLine {
    /// The Monday of the week.
    #[schema(format = Date)]
    #[sqlx(rename = "target_week")]
    pub week: String,
    /// Orders expected in the week.
    #[schema(value_type = String, pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    #[sqlx(rename = "commit_amount", try_from = "Fen")]
    pub commit: String,
    /// Orders that could come in the week (≥ commit).
    #[schema(value_type = String, pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    #[sqlx(rename = "best_amount", try_from = "Fen")]
    pub best_case: String,
}

/// A forecast as it was submitted.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct Submission {
    pub id: i64,
    /// The week it was made in (its Monday).
    #[schema(format = Date)]
    pub week: String,
    #[schema(format = DateTime)]
    pub submitted_at: String,
    /// Username of who submitted it.
    pub submitted_by: String,
    #[sqlx(skip)]
    pub lines: Vec<WeekLine>,
}

/// A manager's adjustment of one week of someone's forecast.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct Adjustment {
    /// The Monday of the week adjusted.
    #[schema(format = Date)]
    #[sqlx(rename = "target_week")]
    pub week: String,
    #[schema(value_type = String, pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    #[sqlx(rename = "commit_amount", try_from = "Fen")]
    pub commit: String,
    #[schema(value_type = String, pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    #[sqlx(rename = "best_amount", try_from = "Fen")]
    pub best_case: String,
    pub reason: Option<String>,
    /// Username of the manager.
    pub adjusted_by: String,
    #[schema(format = DateTime)]
    pub adjusted_at: String,
}

/// How one past week's commit compared with what was booked in it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Accuracy {
    /// The Monday of the week.
    #[schema(format = Date)]
    pub week: String,
    /// What the last forecast made before or in that week committed for it.
    #[schema(value_type = Option<String>, pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub committed: Option<String>,
    #[schema(value_type = String, pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub booked: String,
    /// booked ÷ committed, in percent.
    pub accuracy_pct: Option<i64>,
}

/// One person's forecast: the prefill, the submissions, adjustments and accuracy.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PersonForecast {
    /// The person's username.
    pub owner: String,
    pub name: String,
    /// From the opportunities: commit = committed stage (90%), best case = developed and
    /// committed (75% and up), by expected order date.
    pub prefill: Vec<WeekLine>,
    /// The latest submission made this week, and the latest of the week before.
    pub submitted: Option<Submission>,
    pub previous: Option<Submission>,
    /// The manager's latest adjustment per week of the current four.
    pub adjustments: Vec<Adjustment>,
    /// The last eight weeks.
    pub accuracy: Vec<Accuracy>,
}

fn day(d: chrono::NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

async fn prefill(
    conn: &mut sqlx::AnyConnection,
    user_id: i64,
    weeks: &[chrono::NaiveDate; 4],
) -> Result<Vec<WeekLine>> {
    let mut out = vec![];
    for w in weeks {
        let end = *w + chrono::Duration::days(7);
        let r = sqlx::query(
            "SELECT CAST(COALESCE(SUM(CASE WHEN stage = 'committed' THEN amount ELSE 0 END), 0) AS BIGINT) AS c, \
             CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS b FROM opportunities \
             WHERE owner_id = $1 AND deleted_at IS NULL AND stage IN ('developed', 'committed') \
             AND expected_close >= $2 AND expected_close < $3",
        )
        .bind(user_id)
        .bind(day(*w))
        .bind(day(end))
        .fetch_one(&mut *conn)
        .await?;
        out.push(WeekLine {
            week: day(*w),
            commit: format_fen(r.try_get("c")?),
            best_case: format_fen(r.try_get("b")?),
        });
    }
    Ok(out)
}

async fn submission(conn: &mut sqlx::AnyConnection, user_id: i64, week: &str) -> Result<Option<Submission>> {
    let Some(mut sub) = sqlx::query_as::<_, Submission>(
        "SELECT id, week, submitted_at, submitted_by FROM forecasts WHERE user_id = $1 AND week = $2 ORDER BY id DESC LIMIT 1",
    )
    .bind(user_id)
    .bind(week)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    sub.lines = sqlx::query_as(
        "SELECT target_week, commit_amount, best_amount FROM forecast_lines WHERE forecast_id = $1 ORDER BY target_week",
    )
    .bind(sub.id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(Some(sub))
}

/// Submits the caller's forecast for this week: one line per week of the four it covers,
/// `(week, commit, best_case)`, money as decimal strings.
pub async fn submit(db: &Db, ctx: &Ctx, lines: &[(String, String, String)]) -> Result<Submission> {
    let caller = &ctx.caller;
    if !caller.role.edits_accounts() {
        return Err(Error::Forbidden);
    }
    let today = chrono::Utc::now().date_naive();
    let weeks: Vec<String> = forecast_weeks(today).iter().map(|w| day(*w)).collect();
    let mut e = Errors::default();
    let mut parsed = vec![];
    for w in &weeks {
        let field = |k: &str| format!("{k}_{w}");
        match lines.iter().find(|(lw, _, _)| lw == w) {
            None => e.add(&field("commit"), "required"),
            Some((_, c, b)) => {
                let c = e.take(&field("commit"), parse_fen(c));
                let b = e.take(&field("best_case"), parse_fen(b));
                if let (Some(c), Some(b)) = (c, b) {
                    if c > b {
                        e.add(&field("best_case"), "best_below_commit");
                    } else {
                        parsed.push((w.clone(), c, b));
                    }
                }
            }
        }
    }
    for (lw, _, _) in lines {
        if !weeks.contains(lw) {
            e.add(&format!("commit_{lw}"), "week_outside_forecast");
        }
    }
    e.finish()?;
    let mut tx = db.begin().await?;
    let ts = now();
    let id: i64 = sqlx::query(
        "INSERT INTO forecasts (user_id, week, submitted_at, submitted_by) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(caller.user_id)
    .bind(weeks[0].clone())
    .bind(ts)
    .bind(caller.username.as_str())
    .fetch_one(tx.conn())
    .await?
    .try_get("id")?;
    for (w, c, b) in &parsed {
        sqlx::query(
            "INSERT INTO forecast_lines (forecast_id, target_week, commit_amount, best_amount) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(w.clone())
        .bind(*c)
        .bind(*b)
        .execute(tx.conn())
        .await?;
    }
    let s = submission(tx.conn(), caller.user_id, &weeks[0]).await?.ok_or(Error::NotFound)?;
    audit::record(
        &mut tx,
        ctx,
        "forecast",
        &id.to_string(),
        "submit",
        None,
        Some(&serde_json::to_value(&s).unwrap_or_default()),
    )
    .await?;
    tx.commit().await?;
    Ok(s)
}

/// A manager's adjustment of one week of a salesperson's forecast, kept apart from theirs.
pub async fn adjust(
    db: &Db,
    ctx: &Ctx,
    owner: &str,
    week: &str,
    commit: &str,
    best_case: &str,
    reason: Option<&str>,
) -> Result<Adjustment> {
    let caller = &ctx.caller;
    let today = chrono::Utc::now().date_naive();
    let weeks: Vec<String> = forecast_weeks(today).iter().map(|w| day(*w)).collect();
    let mut e = Errors::default();
    if !weeks.iter().any(|w| w == week) {
        e.add("week", "week_outside_forecast");
    }
    let c = e.take("commit", parse_fen(commit));
    let b = e.take("best_case", parse_fen(best_case));
    if let (Some(c), Some(b)) = (c, b) {
        if c > b {
            e.add("best_case", "best_below_commit");
        }
    }
    let reason = e.take("reason", crate::domain::text::optional(reason, 1000)).flatten();
    let mut tx = db.begin().await?;
    let uid: Option<i64> =
        match sqlx::query("SELECT id FROM users WHERE username = $1").bind(owner).fetch_optional(tx.conn()).await? {
            Some(r) => Some(r.try_get("id")?),
            None => None,
        };
    let Some(uid) = uid else {
        return Err(Error::NotFound);
    };
    if !crate::app::people::team::manages_person(tx.conn(), caller, uid).await? {
        return Err(Error::Forbidden);
    }
    e.finish()?;
    let (c, b) = (c.unwrap_or(0), b.unwrap_or(0));
    let ts = now();
    let id: i64 = sqlx::query(
        "INSERT INTO forecast_adjustments (user_id, target_week, commit_amount, best_amount, reason, adjusted_by, adjusted_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(uid)
    .bind(week)
    .bind(c)
    .bind(b)
    .bind(reason.clone())
    .bind(caller.username.as_str())
    .bind(ts.clone())
    .fetch_one(tx.conn())
    .await?
    .try_get("id")?;
    let a = Adjustment {
        week: week.to_string(),
        commit: format_fen(c),
        best_case: format_fen(b),
        reason,
        adjusted_by: caller.username.clone(),
        adjusted_at: ts,
    };
    audit::record(
        &mut tx,
        ctx,
        "forecast_adjustment",
        &id.to_string(),
        "adjust",
        None,
        Some(&serde_json::to_value(&a).unwrap_or_default()),
    )
    .await?;
    tx.commit().await?;
    Ok(a)
}

/// The forecast of each person the caller may see (or one of them).
pub async fn report(db: &Db, caller: &Caller, owner: Option<&str>) -> Result<Vec<PersonForecast>> {
    let today = chrono::Utc::now().date_naive();
    let weeks = forecast_weeks(today);
    let this_week = day(weeks[0]);
    let last_week = day(week_start(today) - chrono::Duration::days(7));
    let mut conn = db.pool.acquire().await?;
    let mut people = crate::app::people::team::people_in_scope(&mut conn, caller).await?;
    if let Some(o) = owner.map(str::trim).filter(|v| !v.is_empty()) {
        people.retain(|p| p.0 == o);
        if people.is_empty() {
            return Err(Error::NotFound);
        }
    }
    let mut out = vec![];
    for (username, name, uid) in people {
        let mut adjustments = vec![];
        for w in &weeks {
            let a: Option<Adjustment> = sqlx::query_as(
                "SELECT target_week, commit_amount, best_amount, reason, adjusted_by, adjusted_at \
                 FROM forecast_adjustments WHERE user_id = $1 AND target_week = $2 ORDER BY id DESC LIMIT 1",
            )
            .bind(uid)
            .bind(day(*w))
            .fetch_optional(&mut *conn)
            .await?;
            adjustments.extend(a);
        }
        let mut accuracy = vec![];
        for k in (1..=8).rev() {
            let w = week_start(today) - chrono::Duration::days(7 * k);
            let (ws, we) = (day(w), day(w + chrono::Duration::days(7)));
            let committed: Option<i64> = sqlx::query(
                "SELECT l.commit_amount FROM forecast_lines l JOIN forecasts f ON f.id = l.forecast_id \
                 WHERE f.user_id = $1 AND l.target_week = $2 AND f.week <= $2 ORDER BY f.id DESC LIMIT 1",
            )
            .bind(uid)
            .bind(ws.clone())
            .fetch_optional(&mut *conn)
            .await?
            .map(|r| r.try_get("commit_amount"))
            .transpose()?;
            let booked: i64 = sqlx::query(
                "SELECT CAST(COALESCE(SUM(booked_amount), 0) AS BIGINT) AS b FROM opportunities \
                 WHERE owner_id = $1 AND stage = 'won' AND deleted_at IS NULL AND booked_on >= $2 AND booked_on < $3",
            )
            .bind(uid)
            .bind(ws.clone())
            .bind(we)
            .fetch_one(&mut *conn)
            .await?
            .try_get("b")?;
            accuracy.push(Accuracy {
                week: ws,
                committed: committed.map(format_fen),
                booked: format_fen(booked),
                accuracy_pct: committed.and_then(|c| accuracy_pct(c, booked)),
            });
        }
        out.push(PersonForecast {
            prefill: prefill(&mut conn, uid, &weeks).await?,
            submitted: submission(&mut conn, uid, &this_week).await?,
            previous: submission(&mut conn, uid, &last_week).await?,
            adjustments,
            accuracy,
            owner: username,
            name,
        });
    }
    Ok(out)
}
