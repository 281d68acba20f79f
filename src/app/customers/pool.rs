//! The regional customer resource pool (大区客户资源库): accounts without an owner are open to
//! the salespeople of their region, who claim them (one winner) and may release them again.
use sqlx::Row;

use crate::app::customers::accounts::{self, AccountView};
use crate::app::{clamp_limit, records::audit, Caller, Ctx, Error, Page, Result};
use crate::db::sql::Sql;
use crate::db::{now, Db};
use crate::domain::role::Role;

fn is_salesperson(c: &Caller) -> bool {
    matches!(c.role, Role::KaRep | Role::InsideSales)
}

/// The region of the caller's org unit (itself, or the parent of a branch).
async fn region_of(conn: &mut sqlx::AnyConnection, caller: &Caller) -> Result<Option<i64>> {
    let r = sqlx::query("SELECT id, kind, parent_id FROM org_units WHERE id = $1")
        .bind(caller.org_unit_id)
        .fetch_optional(conn)
        .await?;
    Ok(match r {
        Some(r) => match r.try_get::<String, _>("kind")?.as_str() {
            "region" => Some(r.try_get("id")?),
            "branch" => r.try_get("parent_id")?,
            _ => None,
        },
        None => None,
    })
}

const POOL: &str = "a.owner_id IS NULL AND a.inside_owner_id IS NULL AND a.deleted_at IS NULL";

/// The pool of the caller's region, by name. Only salespeople have a pool; others get 403.
pub async fn list(
    db: &Db,
    caller: &Caller,
    q: Option<&str>,
    cursor: Option<&str>,
    limit: Option<i64>,
) -> Result<Page<AccountView>> {
    if !is_salesperson(caller) {
        return Err(Error::Forbidden);
    }
    let limit = clamp_limit(limit)?;
    let q = crate::domain::text::search(q).map_err(|c| Error::invalid("q", c))?;
    let mut conn = db.pool.acquire().await?;
    let Some(region) = region_of(&mut conn, caller).await? else {
        return Ok(Page { items: vec![], next_cursor: None });
    };
    let mut s = Sql::new(&accounts::select());
    s.push(" WHERE ").push(POOL).push(" AND a.region_id = ").bind(region);
    if let Some(q) = q {
        s.push(" AND (a.name_norm LIKE ").bind(crate::domain::text::like_pattern(q)).push(" ESCAPE '\\'");
        if crate::domain::pinyin::may_be_pinyin(q) {
            let py = format!("%{}%", crate::domain::pinyin::query_key(q));
            s.push(" OR a.name_pinyin LIKE ").bind(py.clone()).push(" OR a.name_initials LIKE ").bind(py);
        }
        s.push(")");
    }
    if let Some(c) = cursor {
        let (name, id) = c.rsplit_once('|').ok_or_else(|| Error::invalid("cursor", "invalid_cursor"))?;
        let id: i64 = id.parse().map_err(|_| Error::invalid("cursor", "invalid_cursor"))?;
        s.push(" AND (a.name_sort > ")
            .bind(name)
            .push(" OR (a.name_sort = ")
            .bind(name)
            .push(" AND a.id > ")
            .bind(id)
            .push("))");
    }
    s.push(" ORDER BY a.name_sort, a.id LIMIT ").bind(limit + 1);
    let rows = s.query().fetch_all(&mut *conn).await?;
    let items: Vec<AccountView> = rows
        .iter()
        .take(limit as usize)
        .map(|r| Ok(accounts::view_from_row(r)?.for_caller(caller)))
        .collect::<Result<_>>()?;
    let next_cursor = (rows.len() as i64 > limit)
        .then(|| items.last().map(|a| format!("{}|{}", crate::domain::pinyin::stored_sort_key(&a.name), a.id)))
        .flatten();
    Ok(Page { items, next_cursor })
}

/// Claims a pooled account: the first claim wins, a second gets 409; a salesperson holds at
/// most `limit` claimed accounts at once.
pub async fn claim(db: &Db, ctx: &Ctx, id: i64, limit: i64) -> Result<AccountView> {
    let caller = &ctx.caller;
    if !is_salesperson(caller) {
        return Err(Error::Forbidden);
    }
    let mut tx = db.begin().await?;
    // Serialises one person's claims, so two at once cannot pass the limit together.
    sqlx::query("UPDATE users SET version = version WHERE id = $1").bind(caller.user_id).execute(tx.conn()).await?;
    let region = region_of(tx.conn(), caller).await?;
    let r = sqlx::query("SELECT region_id, owner_id, inside_owner_id, deleted_at FROM accounts WHERE id = $1")
        .bind(id)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(Error::NotFound)?;
    let in_region = region.is_some() && r.try_get::<Option<i64>, _>("region_id")? == region;
    if !in_region || r.try_get::<Option<String>, _>("deleted_at")?.is_some() {
        return Err(Error::NotFound);
    }
    let held: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM accounts WHERE claimed_at IS NOT NULL AND deleted_at IS NULL AND (owner_id = $1 OR inside_owner_id = $1)",
    )
    .bind(caller.user_id)
    .fetch_one(tx.conn())
    .await?
    .try_get("n")?;
    if held >= limit {
        return Err(Error::Conflict("claim_limit"));
    }
    let col = if caller.role == Role::InsideSales { "inside_owner_id" } else { "owner_id" };
    let won = sqlx::query(&format!(
        "UPDATE accounts SET {col} = $1, claimed_at = $2, version = version + 1, updated_at = $2 \
         WHERE id = $3 AND owner_id IS NULL AND inside_owner_id IS NULL AND deleted_at IS NULL"
    ))
    .bind(caller.user_id)
    .bind(now())
    .bind(id)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if won != 1 {
        return Err(Error::Conflict("already_claimed"));
    }
    accounts::after_owner_change(&mut tx, id).await?;
    let field = col.trim_end_matches("_id");
    audit::record(
        &mut tx,
        ctx,
        "account",
        &id.to_string(),
        "claim",
        Some(&serde_json::json!({ field: null })),
        Some(&serde_json::json!({ field: caller.username })),
    )
    .await?;
    tx.commit().await?;
    accounts::get(db, caller, id).await
}

/// Whether the caller may give this account back to the pool: they hold it, and it came from
/// the pool.
pub fn may_release(caller: &Caller, a: &AccountView) -> bool {
    let me = Some(caller.username.as_str());
    a.claimed_at.is_some() && (a.owner.as_deref() == me || a.inside_owner.as_deref() == me)
}

/// Gives a claimed account back to the pool.
pub async fn release(db: &Db, ctx: &Ctx, id: i64) -> Result<()> {
    let caller = &ctx.caller;
    let a = accounts::get(db, caller, id).await?;
    let me = Some(caller.username.as_str());
    if a.owner.as_deref() != me && a.inside_owner.as_deref() != me {
        return Err(Error::NotFound);
    }
    if !may_release(caller, &a) {
        return Err(Error::Conflict("not_claimed"));
    }
    let mut tx = db.begin().await?;
    // The same conditions again inside the transaction: a hand-over or edit may have come between.
    let n = sqlx::query(
        "UPDATE accounts SET owner_id = NULL, inside_owner_id = NULL, claimed_at = NULL, version = version + 1, \
         updated_at = $1 WHERE id = $2 AND claimed_at IS NOT NULL AND (owner_id = $3 OR inside_owner_id = $3)",
    )
    .bind(now())
    .bind(id)
    .bind(caller.user_id)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if n != 1 {
        return Err(Error::StaleVersion { current: a.version });
    }
    accounts::after_owner_change(&mut tx, id).await?;
    audit::record(
        &mut tx,
        ctx,
        "account",
        &id.to_string(),
        "release",
        Some(&serde_json::json!({"owner": caller.username})),
        Some(&serde_json::json!({"owner": null})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
