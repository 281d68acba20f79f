//! The service team of a key account (issue 24 item 1): members by function (KA manager, sales,
//! marketing, after-sales, finance and training support) with their responsibilities. Whoever
//! sees the account reads it; whoever edits the account sets it (the whole list at once). The
//! team is told of the account's service events and reads the account's plans.
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

use crate::app::customers::accounts;
use crate::app::records::audit;
use crate::app::{Caller, Ctx, Error, Result};
use crate::db::{ts, Db};
use crate::domain::error::Errors;
use crate::domain::service::{ServiceFunction, ROWS_MAX, TEXT_MAX};
use crate::domain::text;

/// One member of an account's service team.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ServiceTeamMember {
    pub username: String,
    pub display_name: String,
    pub function: ServiceFunction,
    pub responsibilities: Option<String>,
}

/// One member as set.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceTeamMemberIn {
    /// An active user's username.
    pub username: String,
    /// `ka_manager`, `sales_support`, `marketing_support`, `after_sales_support`,
    /// `finance_support`, `training_support`.
    #[schema(value_type = ServiceFunction)]
    pub function: String,
    /// What they do for the account (at most 4000 characters).
    #[serde(default)]
    pub responsibilities: Option<String>,
}

/// The whole team as set.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceTeamIn {
    #[schema(max_items = 50)]
    pub members: Vec<ServiceTeamMemberIn>,
    /// The team's version read (0 when it was never set); another's save since: 409.
    #[schema(minimum = 0)]
    pub version: i64,
}

/// An account's service team with its version.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ServiceTeam {
    pub account_id: i64,
    pub members: Vec<ServiceTeamMember>,
    /// 0 when the team was never set.
    pub version: i64,
}

/// The team's version (0 when never set).
pub async fn version_in(conn: &mut sqlx::AnyConnection, account_id: i64) -> Result<i64> {
    Ok(sqlx::query("SELECT version FROM account_service_teams WHERE account_id = $1")
        .bind(account_id)
        .fetch_optional(conn)
        .await?
        .map(|r| r.try_get::<i64, _>("version"))
        .transpose()?
        .unwrap_or(0))
}

/// The team of an account the caller has been shown.
pub async fn team_in(conn: &mut sqlx::AnyConnection, account_id: i64) -> Result<Vec<ServiceTeamMember>> {
    let rows = sqlx::query(
        "SELECT u.username, COALESCE(u.display_name, u.username) AS display_name, t.function, t.responsibilities \
         FROM account_service_team t JOIN users u ON u.id = t.user_id WHERE t.account_id = $1 ORDER BY t.id",
    )
    .bind(account_id)
    .fetch_all(conn)
    .await?;
    let mut out = vec![];
    for r in rows {
        out.push(ServiceTeamMember {
            username: r.try_get("username")?,
            display_name: r.try_get("display_name")?,
            function: ServiceFunction::parse(&r.try_get::<String, _>("function")?)
                .unwrap_or(ServiceFunction::SalesSupport),
            responsibilities: r.try_get("responsibilities")?,
        });
    }
    Ok(out)
}

/// The account's team with its version (whoever sees the account).
pub async fn get(db: &Db, caller: &Caller, account_id: i64) -> Result<ServiceTeam> {
    let mut conn = db.pool.acquire().await?;
    accounts::ensure_visible_in(&mut conn, caller, account_id).await?;
    let members = team_in(&mut conn, account_id).await?;
    let version = version_in(&mut conn, account_id).await?;
    Ok(ServiceTeam { account_id, members, version })
}

/// The ids of the team's members (those told of the account's service events).
pub async fn member_ids_in(conn: &mut sqlx::AnyConnection, account_id: i64) -> Result<Vec<i64>> {
    let rows = sqlx::query("SELECT DISTINCT user_id FROM account_service_team WHERE account_id = $1")
        .bind(account_id)
        .fetch_all(conn)
        .await?;
    rows.iter().map(|r| Ok(r.try_get::<i64, _>("user_id")?)).collect()
}

/// Whether the user serves the account.
pub async fn is_member_in(conn: &mut sqlx::AnyConnection, account_id: i64, user_id: i64) -> Result<bool> {
    Ok(sqlx::query("SELECT id FROM account_service_team WHERE account_id = $1 AND user_id = $2 LIMIT 1")
        .bind(account_id)
        .bind(user_id)
        .fetch_optional(conn)
        .await?
        .is_some())
}

/// Whether the caller may set the team of accounts they see.
pub fn may_edit(caller: &Caller) -> bool {
    caller.role.edits_accounts()
}

/// Sets the account's whole team. A member who is not an active user (`members[i].username`
/// unknown_user), a function not of the list (`members[i].function`), the same person twice
/// in one function (`members[i].username` duplicate): 422, nothing saved. Saved by another
/// since `inp.version` was read: 409 with the current version, nothing saved.
pub async fn put(db: &Db, ctx: &Ctx, account_id: i64, inp: &ServiceTeamIn) -> Result<ServiceTeam> {
    let caller = &ctx.caller;
    let mut tx = db.begin().await?;
    accounts::ensure_visible_in(tx.conn(), caller, account_id).await?;
    if !may_edit(caller) {
        return Err(Error::Forbidden);
    }
    let current = version_in(tx.conn(), account_id).await?;
    if inp.version != current {
        return Err(Error::StaleVersion { current });
    }
    let mut e = Errors::default();
    if inp.members.len() > ROWS_MAX {
        e.add("members", "too_many_rows");
    }
    let mut rows: Vec<(i64, ServiceFunction, Option<String>)> = vec![];
    for (i, m) in inp.members.iter().enumerate() {
        let function = e.take(&format!("members[{i}].function"), ServiceFunction::parse(&m.function));
        let resp = e
            .take(&format!("members[{i}].responsibilities"), text::optional(m.responsibilities.as_deref(), TEXT_MAX))
            .flatten();
        let user = sqlx::query("SELECT id FROM users WHERE username = $1 AND active = 1")
            .bind(m.username.trim())
            .fetch_optional(tx.conn())
            .await?;
        let Some(user) = user else {
            e.add(&format!("members[{i}].username"), "unknown_user");
            continue;
        };
        let uid: i64 = user.try_get("id")?;
        if let Some(f) = function {
            if rows.iter().any(|(u, g, _)| *u == uid && *g == f) {
                e.add(&format!("members[{i}].username"), "duplicate_member");
                continue;
            }
            rows.push((uid, f, resp));
        }
    }
    e.finish()?;
    let before = team_in(tx.conn(), account_id).await?;
    sqlx::query("DELETE FROM account_service_team WHERE account_id = $1").bind(account_id).execute(tx.conn()).await?;
    let now = ts(crate::app::clock::now());
    for (uid, f, resp) in &rows {
        sqlx::query(
            "INSERT INTO account_service_team (account_id, user_id, function, responsibilities, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(account_id)
        .bind(*uid)
        .bind(f.code())
        .bind(resp.clone())
        .bind(caller.username.as_str())
        .bind(now.as_str())
        .execute(tx.conn())
        .await?;
    }
    let after = team_in(tx.conn(), account_id).await?;
    let version = current + 1;
    if current == 0 {
        sqlx::query(
            "INSERT INTO account_service_teams (account_id, version, updated_by, updated_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(account_id)
        .bind(version)
        .bind(caller.username.as_str())
        .bind(now.as_str())
        .execute(tx.conn())
        .await?;
    } else {
        // Guarded by the version read: a concurrent save that got here first leaves no row.
        let done = sqlx::query(
            "UPDATE account_service_teams SET version = $1, updated_by = $2, updated_at = $3 \
             WHERE account_id = $4 AND version = $5",
        )
        .bind(version)
        .bind(caller.username.as_str())
        .bind(now.as_str())
        .bind(account_id)
        .bind(current)
        .execute(tx.conn())
        .await?;
        if done.rows_affected() != 1 {
            return Err(Error::StaleVersion { current: version_in(tx.conn(), account_id).await? });
        }
    }
    let show = |t: &[ServiceTeamMember]| -> Vec<String> {
        t.iter().map(|m| format!("{}:{}", m.function, m.username)).collect()
    };
    audit::record(
        &mut tx,
        ctx,
        "service_team",
        &account_id.to_string(),
        "update",
        Some(&json!({"members": show(&before)})),
        Some(&json!({"members": show(&after), "version": version})),
    )
    .await?;
    tx.commit().await?;
    Ok(ServiceTeam { account_id, members: after, version })
}
