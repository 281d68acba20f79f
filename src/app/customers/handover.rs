//! Hand-over (离职交接): everything one user holds moves to a successor in one audited step:
//! the accounts they own, serve as inside sales or KA manager for, their team places, and
//! their direct reports. Contacts follow their accounts.
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
    crate::app::customers::visibility::rebuild_all(tx.conn()).await?;
    let summary = HandOver {
        from: from.to_string(),
        to: to.to_string(),
        accounts: ids.len(),
        opportunities: opps.len(),
        team_places: team_places as usize,
        reports,
    };
    audit::record(tx, ctx, "user", from, "hand_over", None, Some(&json!(summary))).await?;
    Ok(summary)
}

pub async fn hand_over(db: &crate::db::Db, ctx: &Ctx, from: &str, to: &str) -> Result<HandOver> {
    let mut tx = db.begin().await?;
    let s = hand_over_in(&mut tx, ctx, from, to).await?;
    tx.commit().await?;
    Ok(s)
}
