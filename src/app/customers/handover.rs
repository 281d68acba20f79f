//! Hand-over (离职交接): everything one user holds moves to a successor in one audited step:
//! the accounts they own, serve as inside sales or KA manager for, their team places, and
//! their direct reports. Contacts follow their accounts. Their open work moves with them
//! (issue 25 item 8): planned visits not yet done, open visit follow-ups (the visit stays
//! theirs, the follow-up becomes the successor's), pending requests they applied for (the
//! request's applicant and subject owner, and the subject's applicant while it is open),
//! this week's forecast and the adjustments of weeks to come, the account-plan objectives and
//! actions they own in plans of this year and later, open OPL items and service-team places.
//! Return visits due after service events follow the accounts' owner and are counted.
use serde::Serialize;
use serde_json::json;
use sqlx::Row;

use crate::app::{records::audit, Ctx, Error, Result};
use crate::db::{now, WriteTx};

/// What moved from one user to their successor.
#[derive(Debug, Clone, Serialize, Default, utoipa::ToSchema)]
pub struct HandOver {
    /// Username of who handed over.
    pub from: String,
    /// Username of the successor.
    pub to: String,
    /// Accounts owned, served as inside sales or as KA manager.
    pub accounts: usize,
    /// Open opportunities (not won or lost) now owned by the successor.
    pub opportunities: usize,
    /// Places on account teams.
    pub team_places: usize,
    /// Direct reports now reporting to the successor.
    pub reports: usize,
    /// Planned visits and activities not yet done.
    pub planned_activities: usize,
    /// Visit follow-ups still open (the successor now answers them).
    pub follow_ups: usize,
    /// Return visits still due after service events on the accounts handed over.
    pub return_visits: usize,
    /// Pending requests (approvals) they applied for, and open service, executive and spending
    /// requests of theirs.
    pub requests: usize,
    /// This week's forecast and the manager's adjustments of weeks to come.
    pub forecasts: usize,
    /// Account-plan objectives and actions they own (plans of this year and later).
    pub plan_actions: usize,
    /// Open OPL items they lead.
    pub opl_items: usize,
    /// Places on accounts' service teams.
    pub service_places: usize,
}

async fn user_id(tx: &mut WriteTx, field: &str, username: &str, must_be_active: bool) -> Result<i64> {
    let r = sqlx::query("SELECT id, active FROM users WHERE username = $1")
        .bind(username.trim())
        .fetch_optional(tx.conn())
        .await?
        .ok_or_else(|| Error::invalid(field, "unknown_user"))?;
    if must_be_active && r.try_get::<i64, _>("active")? != 1 {
        return Err(Error::invalid(field, "unknown_user"));
    }
    Ok(r.try_get("id")?)
}

/// How many live accounts a user holds as owner, inside owner, KA manager or team member.
pub async fn holdings(conn: &mut sqlx::AnyConnection, user_id: i64) -> Result<i64> {
    let r = sqlx::query(
        "SELECT COUNT(DISTINCT aa.account_id) AS n FROM account_access aa JOIN accounts a ON a.id = aa.account_id \
         WHERE aa.user_id = $1 AND a.deleted_at IS NULL",
    )
    .bind(user_id)
    .fetch_one(conn)
    .await?;
    Ok(r.try_get("n")?)
}

/// Moves everything `from` holds to `to` inside the caller's transaction (administrators only).
pub async fn hand_over_in(tx: &mut WriteTx, ctx: &Ctx, from: &str, to: &str) -> Result<HandOver> {
    ctx.require_admin()?;
    let from_id = user_id(tx, "from", from, false).await?;
    let to_id = user_id(tx, "successor", to, true).await?;
    if from_id == to_id {
        return Err(Error::invalid("successor", "successor_same"));
    }
    let ids: Vec<i64> = sqlx::query(
        "SELECT id FROM accounts WHERE deleted_at IS NULL AND (owner_id = $1 OR inside_owner_id = $1 OR ka_manager_id = $1) ORDER BY id",
    )
    .bind(from_id)
    .fetch_all(tx.conn())
    .await?
    .iter()
    .map(|r| r.try_get::<i64, _>("id"))
    .collect::<Result<_, _>>()?;
    let ts = now();
    for id in &ids {
        let before = sqlx::query("SELECT owner_id, inside_owner_id, ka_manager_id FROM accounts WHERE id = $1")
            .bind(*id)
            .fetch_one(tx.conn())
            .await?;
        let mut changed = serde_json::Map::new();
        for col in ["owner_id", "inside_owner_id", "ka_manager_id"] {
            if before.try_get::<Option<i64>, _>(col)? == Some(from_id) {
                changed.insert(col.trim_end_matches("_id").to_string(), json!(null));
            }
        }
        sqlx::query(
            "UPDATE accounts SET owner_id = CASE WHEN owner_id = $1 THEN $2 ELSE owner_id END, \
             inside_owner_id = CASE WHEN inside_owner_id = $1 THEN $2 ELSE inside_owner_id END, \
             ka_manager_id = CASE WHEN ka_manager_id = $1 THEN $2 ELSE ka_manager_id END, \
             version = version + 1, updated_at = $3 WHERE id = $4",
        )
        .bind(from_id)
        .bind(to_id)
        .bind(ts.clone())
        .bind(*id)
        .execute(tx.conn())
        .await?;
        let b: serde_json::Map<_, _> = changed.keys().map(|k| (k.clone(), json!(from))).collect();
        let a: serde_json::Map<_, _> = changed.keys().map(|k| (k.clone(), json!(to))).collect();
        audit::record(tx, ctx, "account", &id.to_string(), "hand_over", Some(&b.into()), Some(&a.into())).await?;
    }
    // Ownership rows follow; a team place the successor already has is not doubled.
    sqlx::query("UPDATE account_access SET user_id = $2 WHERE user_id = $1 AND via <> 'team'")
        .bind(from_id)
        .bind(to_id)
        .execute(tx.conn())
        .await?;
    let team_places: i64 = sqlx::query("SELECT COUNT(*) AS n FROM account_access WHERE user_id = $1 AND via = 'team'")
        .bind(from_id)
        .fetch_one(tx.conn())
        .await?
        .try_get("n")?;
    sqlx::query(
        "DELETE FROM account_access WHERE user_id = $1 AND via = 'team' AND account_id IN \
         (SELECT account_id FROM account_access WHERE user_id = $2 AND via = 'team')",
    )
    .bind(from_id)
    .bind(to_id)
    .execute(tx.conn())
    .await?;
    sqlx::query("UPDATE account_access SET user_id = $2 WHERE user_id = $1 AND via = 'team'")
        .bind(from_id)
        .bind(to_id)
        .execute(tx.conn())
        .await?;
    // Open opportunities follow their owner; closed ones keep who won or lost them. Team places
    // on opportunities move as on accounts.
    let opps: Vec<i64> = sqlx::query(
        "SELECT id FROM opportunities WHERE owner_id = $1 AND deleted_at IS NULL AND stage NOT IN ('won', 'lost') ORDER BY id",
    )
    .bind(from_id)
    .fetch_all(tx.conn())
    .await?
    .iter()
    .map(|r| r.try_get::<i64, _>("id"))
    .collect::<Result<_, _>>()?;
    for id in &opps {
        sqlx::query("UPDATE opportunities SET owner_id = $1, version = version + 1, updated_at = $2 WHERE id = $3")
            .bind(to_id)
            .bind(ts.clone())
            .bind(*id)
            .execute(tx.conn())
            .await?;
        audit::record(
            tx,
            ctx,
            "opportunity",
            &id.to_string(),
            "hand_over",
            Some(&json!({ "owner": from })),
            Some(&json!({ "owner": to })),
        )
        .await?;
    }
    sqlx::query(
        "DELETE FROM opportunity_team WHERE user_id = $1 AND opportunity_id IN \
         (SELECT opportunity_id FROM opportunity_team WHERE user_id = $2 UNION SELECT id FROM opportunities WHERE owner_id = $2)",
    )
    .bind(from_id)
    .bind(to_id)
    .execute(tx.conn())
    .await?;
    sqlx::query("UPDATE opportunity_team SET user_id = $2 WHERE user_id = $1")
        .bind(from_id)
        .bind(to_id)
        .execute(tx.conn())
        .await?;
    let reports =
        sqlx::query("UPDATE users SET manager_id = $2, version = version + 1, updated_at = $3 WHERE manager_id = $1")
            .bind(from_id)
            .bind(to_id)
            .bind(ts)
            .execute(tx.conn())
            .await?
            .rows_affected() as usize;
    let work = open_work(tx, from, to, from_id, to_id, &ids).await?;
    crate::app::customers::visibility::rebuild_all(tx.conn()).await?;
    let summary = HandOver {
        from: from.to_string(),
        to: to.to_string(),
        accounts: ids.len(),
        opportunities: opps.len(),
        team_places: team_places as usize,
        reports,
        ..work
    };
    audit::record(tx, ctx, "user", from, "hand_over", None, Some(&json!(summary))).await?;
    Ok(summary)
}

async fn exec(tx: &mut WriteTx, sql: &str, from_id: i64, to_id: i64) -> Result<usize> {
    Ok(sqlx::query(sql).bind(from_id).bind(to_id).execute(tx.conn()).await?.rows_affected() as usize)
}

async fn count(tx: &mut WriteTx, sql: &str, from_id: i64) -> Result<usize> {
    let n: i64 = sqlx::query(sql).bind(from_id).fetch_one(tx.conn()).await?.try_get("n")?;
    Ok(n as usize)
}

/// Re-points `owner` keys equal to `from` in a plan body's objectives and actions; how many.
fn repoint_plan(body: &mut serde_json::Value, from: &str, to: &str) -> usize {
    let mut n = 0;
    let mut items: Vec<&mut serde_json::Value> = vec![];
    let (objectives, actions) = match body.as_object_mut() {
        Some(o) => {
            let mut obj = None;
            let mut act = None;
            for (k, v) in o.iter_mut() {
                match k.as_str() {
                    "objectives" => obj = Some(v),
                    "actions" => act = v.get_mut("actions"),
                    _ => {}
                }
            }
            (obj, act)
        }
        None => (None, None),
    };
    for l in [objectives, actions].into_iter().flatten() {
        if let Some(a) = l.as_array_mut() {
            items.extend(a.iter_mut());
        }
    }
    for it in items {
        if it.get("owner").and_then(|o| o.as_str()) == Some(from) {
            it["owner"] = json!(to);
            n += 1;
        }
    }
    n
}

/// Moves the leaver's open work (see the module's text) inside the hand-over's transaction.
async fn open_work(
    tx: &mut WriteTx,
    from: &str,
    to: &str,
    from_id: i64,
    to_id: i64,
    accounts: &[i64],
) -> Result<HandOver> {
    let now_at = crate::app::clock::now();
    let ts = crate::db::ts(now_at);
    // Planned visits not yet done (future or overdue: open either way).
    let planned_activities = exec(
        tx,
        "UPDATE activities SET owner_id = $2, version = version + 1 WHERE owner_id = $1 AND status = 'planned' AND deleted_at IS NULL",
        from_id,
        to_id,
    )
    .await?;
    // Open follow-ups: the visit stays the leaver's record; its follow-up is the successor's.
    let follow_ups = exec(
        tx,
        "UPDATE activities SET follow_up_owner_id = $2, follow_up_reminded_at = NULL WHERE COALESCE(follow_up_owner_id, owner_id) = $1 AND follow_up_due IS NOT NULL AND followed_up_by IS NULL AND deleted_at IS NULL",
        from_id,
        to_id,
    )
    .await?;
    // Return visits due after held events: the accounts' owner is reminded (moved above).
    let mut return_visits = 0;
    if !accounts.is_empty() {
        let list = accounts.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",");
        let n: i64 = sqlx::query(&format!(
            "SELECT COUNT(*) AS n FROM service_events e WHERE e.account_id IN ({list}) AND e.state = 'held' AND e.return_due_on IS NOT NULL AND NOT EXISTS (SELECT 1 FROM activities v WHERE v.account_id = e.account_id AND v.status = 'done' AND v.deleted_at IS NULL AND v.occurred_at > e.starts_at)"
        ))
        .fetch_one(tx.conn())
        .await?
        .try_get("n")?;
        return_visits = n as usize;
    }
    // Pending requests they applied for: the applicant and the subject's owner.
    let mut requests = exec(
        tx,
        "UPDATE approvals SET requested_by = $2, subject_owner_id = CASE WHEN subject_owner_id = $1 THEN $2 ELSE subject_owner_id END, version = version + 1 WHERE requested_by = $1 AND state = 'pending'",
        from_id,
        to_id,
    )
    .await?;
    exec(
        tx,
        "UPDATE approvals SET subject_owner_id = $2, version = version + 1 WHERE subject_owner_id = $1 AND state = 'pending'",
        from_id,
        to_id,
    )
    .await?;
    requests += exec(
        tx,
        "UPDATE service_requests SET applicant_id = $2, version = version + 1 WHERE applicant_id = $1 AND state IN ('draft', 'submitted', 'returned')",
        from_id,
        to_id,
    )
    .await?;
    requests += exec(
        tx,
        "UPDATE exec_requests SET requested_by = $2, version = version + 1 WHERE requested_by = $1 AND state IN ('in_approval', 'returned')",
        from_id,
        to_id,
    )
    .await?;
    requests += exec(
        tx,
        "UPDATE spending SET recorded_by = $2, version = version + 1 WHERE recorded_by = $1 AND state IN ('submitted', 'in_approval', 'returned')",
        from_id,
        to_id,
    )
    .await?;
    // Forecasts: this week's, unless the successor made their own; adjustments of weeks to come
    // where the successor has none.
    let monday = crate::domain::quota::week_start(now_at.with_timezone(&chrono_tz::Asia::Shanghai).date_naive())
        .format("%Y-%m-%d")
        .to_string();
    let mut forecasts = sqlx::query(
        "UPDATE forecasts SET user_id = $2 WHERE user_id = $1 AND week >= $3 AND NOT EXISTS (SELECT 1 FROM forecasts f WHERE f.user_id = $2 AND f.week = forecasts.week)",
    )
    .bind(from_id)
    .bind(to_id)
    .bind(monday.clone())
    .execute(tx.conn())
    .await?
    .rows_affected() as usize;
    forecasts += sqlx::query(
        "UPDATE forecast_adjustments SET user_id = $2 WHERE user_id = $1 AND target_week >= $3 AND NOT EXISTS (SELECT 1 FROM forecast_adjustments f WHERE f.user_id = $2 AND f.target_week = forecast_adjustments.target_week)",
    )
    .bind(from_id)
    .bind(to_id)
    .bind(monday)
    .execute(tx.conn())
    .await?
    .rows_affected() as usize;
    // Account plans of this year and later: the plan's owner, and the objectives and actions
    // the leaver owns (a new kept version of the plan when any moved).
    let year = chrono::Datelike::year(&now_at.with_timezone(&chrono_tz::Asia::Shanghai).date_naive()) as i64;
    sqlx::query("UPDATE account_plans SET owner_id = $2 WHERE owner_id = $1 AND year >= $3")
        .bind(from_id)
        .bind(to_id)
        .bind(year)
        .execute(tx.conn())
        .await?;
    let mut plan_actions = 0;
    let plans = sqlx::query("SELECT id, body, version FROM account_plans WHERE year >= $1 ORDER BY id")
        .bind(year)
        .fetch_all(tx.conn())
        .await?;
    for p in plans {
        let body: String = p.try_get("body")?;
        if !body.contains(&format!("\"{from}\"")) {
            continue;
        }
        let Ok(mut v) = serde_json::from_str::<serde_json::Value>(&body) else { continue };
        let n = repoint_plan(&mut v, from, to);
        if n == 0 {
            continue;
        }
        plan_actions += n;
        let (id, version): (i64, i64) = (p.try_get("id")?, p.try_get("version")?);
        let body = v.to_string();
        sqlx::query(
            "UPDATE account_plans SET body = $1, version = version + 1, updated_by = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(body.clone())
        .bind(to)
        .bind(ts.clone())
        .bind(id)
        .execute(tx.conn())
        .await?;
        sqlx::query(
            "INSERT INTO account_plan_versions (plan_id, version, body, saved_by, saved_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(version + 1)
        .bind(body)
        .bind(to)
        .bind(ts.clone())
        .execute(tx.conn())
        .await?;
    }
    // Open OPL items they lead.
    let opl_items = exec(
        tx,
        "UPDATE opl_items SET owner_id = $2, version = version + 1 WHERE owner_id = $1 AND status <> 'closed'",
        from_id,
        to_id,
    )
    .await?;
    // Service-team places (one the successor already has in the same function is not doubled).
    let service_places =
        count(tx, "SELECT COUNT(*) AS n FROM account_service_team WHERE user_id = $1", from_id).await?;
    exec(
        tx,
        "DELETE FROM account_service_team WHERE user_id = $1 AND EXISTS (SELECT 1 FROM account_service_team t WHERE t.user_id = $2 AND t.account_id = account_service_team.account_id AND t.function = account_service_team.function)",
        from_id,
        to_id,
    )
    .await?;
    exec(tx, "UPDATE account_service_team SET user_id = $2 WHERE user_id = $1", from_id, to_id).await?;
    Ok(HandOver {
        planned_activities,
        follow_ups,
        return_visits,
        requests,
        forecasts,
        plan_actions,
        opl_items,
        service_places,
        ..HandOver::default()
    })
}

pub async fn hand_over(db: &crate::db::Db, ctx: &Ctx, from: &str, to: &str) -> Result<HandOver> {
    let mut tx = db.begin().await?;
    let s = hand_over_in(&mut tx, ctx, from, to).await?;
    tx.commit().await?;
    Ok(s)
}
