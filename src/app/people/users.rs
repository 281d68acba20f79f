//! Users, their roles, org unit and manager chain.
use serde::Serialize;
use serde_json::json;
use sqlx::Row;

use crate::app::records::input::Input;
use crate::app::{people::auth, records::audit, Ctx, Error, Result};
use crate::db::codes::Flag;
use crate::db::{is_unique_violation, now, Db, WriteTx};
use crate::domain::error::Errors;
use crate::domain::role::{Role, SalesType};
use crate::domain::text;

/// A user of the directory.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct UserView {
    #[serde(skip)]
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// The org unit's code.
    pub org_unit: String,
    #[serde(skip)]
    pub org_unit_name: String,
    /// The manager's username.
    pub manager: Option<String>,
    /// Salespeople only: account executive (`ae`) or sales representative (`sr`).
    pub sales_type: Option<SalesType>,
    #[sqlx(try_from = "Flag")]
    pub active: bool,
    /// The user's language: `zh` or `en`.
    pub locale: String,
    /// IANA name; days and weeks of activity counts are this user's (Asia/Shanghai by default).
    pub time_zone: String,
    /// The unit of amounts on this user's pages: `yuan` (元) or `wan` (万元); the API answers in 元.
    #[schema(pattern = "^(yuan|wan)$")]
    pub money_unit: String,
    /// How the user signs in: `local` (KAM's password) or `directory` (LDAP / Active
    /// Directory, which also gives the role, org unit, name and email at each sign-in).
    #[schema(pattern = "^(local|directory)$")]
    pub source: String,
    pub version: i64,
}

const SELECT: &str =
    "SELECT u.id, u.username, u.display_name, u.role, u.sales_type, u.active, u.locale, u.time_zone, u.money_unit, u.source, u.version, \
    o.code AS org_unit, o.name AS org_unit_name, m.username AS manager \
    FROM users u JOIN org_units o ON o.id = u.org_unit_id LEFT JOIN users m ON m.id = u.manager_id";

/// Every user, in pinyin order of their names (林涛 under L; `domain::pinyin::sort_key`). The
/// directory (names, roles, org) is not business data; every signed-in user may read it to
/// assign owners and see who did what.
pub async fn list(db: &Db) -> Result<Vec<UserView>> {
    let mut all: Vec<UserView> = sqlx::query_as(&format!("{SELECT} ORDER BY u.username")).fetch_all(&db.pool).await?;
    all.sort_by_cached_key(|u| crate::domain::pinyin::sort_key(&u.display_name));
    Ok(all)
}

pub async fn get(db: &Db, username: &str) -> Result<UserView> {
    sqlx::query_as(&format!("{SELECT} WHERE u.username = $1"))
        .bind(username)
        .fetch_optional(&db.pool)
        .await?
        .ok_or(Error::NotFound)
}

fn valid_username(s: &str) -> Result<String, &'static str> {
    let s = s.trim();
    if s.is_empty() {
        return Err("required");
    }
    if s.len() > 64 || !s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')) {
        return Err("username_format");
    }
    Ok(s.to_string())
}

pub fn check_password(p: &str) -> Result<(), &'static str> {
    if p.chars().count() < 8 {
        Err("password_too_short")
    } else if p.len() > 256 {
        Err("too_long")
    } else {
        Ok(())
    }
}

pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub role: Role,
    pub org: &'a str,
    pub manager: Option<&'a str>,
    pub sales_type: Option<SalesType>,
    pub password: &'a str,
}

async fn org_id(tx: &mut WriteTx, code: &str) -> Result<i64> {
    sqlx::query("SELECT id FROM org_units WHERE code = $1")
        .bind(code.trim())
        .fetch_optional(tx.conn())
        .await?
        .map(|r| r.try_get::<i64, _>("id"))
        .transpose()?
        .ok_or_else(|| Error::invalid("org_unit", "unknown_org_unit"))
}

async fn user_id(tx: &mut WriteTx, field: &str, username: &str) -> Result<i64> {
    sqlx::query("SELECT id FROM users WHERE username = $1")
        .bind(username.trim())
        .fetch_optional(tx.conn())
        .await?
        .map(|r| r.try_get::<i64, _>("id"))
        .transpose()?
        .ok_or_else(|| Error::invalid(field, "unknown_user"))
}

/// Adds a user inside an open transaction (CLI, admin page, API, demo loader).
pub async fn insert(tx: &mut WriteTx, ctx: &Ctx, u: &NewUser<'_>) -> Result<i64> {
    let username = valid_username(u.username).map_err(|c| Error::invalid("username", c))?;
    check_password(u.password).map_err(|c| Error::invalid("password", c))?;
    let display = text::optional(Some(u.display_name), 100).map_err(|c| Error::invalid("display_name", c))?;
    let org = org_id(tx, u.org).await?;
    let manager = match u.manager {
        Some(m) => Some(user_id(tx, "manager", m).await?),
        None => None,
    };
    let hash = auth::hash_password(u.password)?;
    let ts = now();
    let r = sqlx::query(
        "INSERT INTO users (username, display_name, role, org_unit_id, manager_id, sales_type, active, password_hash, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8, $8) RETURNING id",
    )
    .bind(username.clone())
    .bind(display.unwrap_or_else(|| username.clone()))
    .bind(u.role.code())
    .bind(org)
    .bind(manager)
    .bind(u.sales_type.map(|s| s.code().to_string()))
    .bind(hash)
    .bind(ts)
    .fetch_one(tx.conn())
    .await
    .map_err(|e| if is_unique_violation(&e) { Error::Duplicate { field: "username", existing_id: 0 } } else { e.into() })?;
    let id: i64 = r.try_get("id")?;
    let after = json!({"username": username, "display_name": u.display_name, "role": u.role.code(), "org_unit": u.org,
        "manager": u.manager, "sales_type": u.sales_type.map(|s| s.code()), "active": true});
    audit::record(tx, ctx, "user", &username, "create", None, Some(&after)).await?;
    if u.role.reach() == crate::domain::role::Reach::OrgSubtree {
        crate::app::customers::visibility::rebuild_all(tx.conn()).await?;
    }
    Ok(id)
}

pub async fn create(db: &Db, ctx: &Ctx, inp: &Input) -> Result<UserView> {
    ctx.require_admin()?;
    inp.check_keys(
        &["username", "display_name", "role", "org_unit", "manager", "sales_type", "password"],
        &["active", "id"],
    )?;
    let mut e = Errors::default();
    let g = |k: &str| inp.get(k).flatten();
    let username = e.take("username", valid_username(g("username").unwrap_or("")));
    let role = e.take("role", g("role").ok_or("required").and_then(Role::parse));
    let sales_type = match g("sales_type") {
        Some(s) => e.take("sales_type", SalesType::parse(s)),
        None => None,
    };
    if g("org_unit").is_none() {
        e.add("org_unit", "required");
    }
    let password = g("password").unwrap_or("");
    e.take("password", check_password(password));
    e.take("display_name", text::optional(g("display_name"), 100));
    e.finish()?;
    let username = username.unwrap_or_default();
    let mut tx = db.begin().await?;
    insert(
        &mut tx,
        ctx,
        &NewUser {
            username: &username,
            display_name: g("display_name").unwrap_or(&username),
            role: role.unwrap_or(Role::KaRep),
            org: g("org_unit").unwrap_or(""),
            manager: g("manager"),
            sales_type,
            password,
        },
    )
    .await?;
    tx.commit().await?;
    get(db, &username).await
}

/// Changes role, org unit, manager, sales type or display name.
pub async fn update(db: &Db, ctx: &Ctx, username: &str, inp: &Input) -> Result<UserView> {
    ctx.require_admin()?;
    inp.check_keys(
        &["display_name", "role", "org_unit", "manager", "sales_type", "time_zone"],
        &["username", "active", "password", "id"],
    )?;
    let before = get(db, username).await?;
    let version = inp.version.ok_or_else(|| Error::invalid("version", "required"))?;
    if version != before.version {
        return Err(Error::StaleVersion { current: before.version });
    }
    let mut e = Errors::default();
    let mut display = before.display_name.clone();
    let mut role = before.role;
    let mut sales_type = before.sales_type;
    if let Some(v) = inp.get("display_name") {
        if let Some(v) = e.take("display_name", text::required(v, 100)) {
            display = v;
        }
    }
    if let Some(v) = inp.get("role") {
        if let Some(r) = e.take("role", v.ok_or("required").and_then(Role::parse)) {
            role = r;
        }
    }
    let mut time_zone = before.time_zone.clone();
    if let Some(v) = inp.get("time_zone") {
        if let Some(tz) = e.take("time_zone", v.ok_or("required").and_then(crate::domain::activity::parse_tz)) {
            time_zone = tz.name().to_string();
        }
    }
    if let Some(v) = inp.get("sales_type") {
        sales_type = match v {
            None => None,
            Some(s) => e.take("sales_type", SalesType::parse(s)),
        };
    }
    e.finish()?;
    let mut tx = db.begin().await?;
    let org = match inp.get("org_unit").flatten() {
        Some(c) => Some(org_id(&mut tx, c).await?),
        None => None,
    };
    let manager = match inp.get("manager") {
        None => None,
        Some(None) => Some(None),
        Some(Some(m)) => {
            let mid = user_id(&mut tx, "manager", m).await?;
            if mid == before.id {
                return Err(Error::invalid("manager", "manager_self"));
            }
            Some(Some(mid))
        }
    };
    let (org_now, manager_now): (i64, Option<i64>) = {
        let r = sqlx::query("SELECT org_unit_id, manager_id FROM users WHERE id = $1")
            .bind(before.id)
            .fetch_one(tx.conn())
            .await?;
        (r.try_get("org_unit_id")?, r.try_get("manager_id")?)
    };
    if (&display, role, sales_type, &time_zone)
        == (&before.display_name, before.role, before.sales_type, &before.time_zone)
        && org.is_none_or(|o| o == org_now)
        && manager.is_none_or(|m| m == manager_now)
    {
        // Nothing to change: no new version, no audit row.
        return Ok(before);
    }
    let mut s = crate::db::sql::Sql::new("UPDATE users SET version = version + 1, updated_at = ");
    s.bind(now()).push(", display_name = ").bind(display).push(", role = ").bind(role);
    s.push(", sales_type = ").bind(sales_type).push(", time_zone = ").bind(time_zone);
    if let Some(o) = org {
        s.push(", org_unit_id = ").bind(o);
    }
    if let Some(m) = manager {
        s.push(", manager_id = ").bind(m);
    }
    s.push(" WHERE id = ").bind(before.id).push(" AND version = ").bind(version);
    if s.query().execute(tx.conn()).await?.rows_affected() != 1 {
        return Err(Error::StaleVersion { current: before.version });
    }
    let after = get_in(&mut tx, username).await?;
    // Role, org unit and manager decide who sees what.
    if (&after.role, &after.org_unit, &after.manager) != (&before.role, &before.org_unit, &before.manager) {
        crate::app::customers::visibility::rebuild_all(tx.conn()).await?;
    }
    audit::record(&mut tx, ctx, "user", username, "update", Some(&json!(before)), Some(&json!(after))).await?;
    tx.commit().await?;
    Ok(after)
}

async fn get_in(tx: &mut WriteTx, username: &str) -> Result<UserView> {
    Ok(sqlx::query_as(&format!("{SELECT} WHERE u.username = $1")).bind(username).fetch_one(tx.conn()).await?)
}

/// Deactivating ends the user's sessions and revokes their tokens in the same transaction. A
/// user who still holds accounts needs a successor, who takes everything over first.
pub async fn set_active(db: &Db, ctx: &Ctx, username: &str, active: bool) -> Result<UserView> {
    set_active_with(db, ctx, username, active, None).await
}

pub async fn set_active_with(
    db: &Db,
    ctx: &Ctx,
    username: &str,
    active: bool,
    successor: Option<&str>,
) -> Result<UserView> {
    ctx.require_admin()?;
    let before = get(db, username).await?;
    if before.id == ctx.caller.user_id && !active {
        return Err(Error::Conflict("cannot_deactivate_self"));
    }
    let mut tx = db.begin().await?;
    if !active {
        match successor.map(str::trim).filter(|s| !s.is_empty()) {
            Some(to) => {
                crate::app::customers::handover::hand_over_in(&mut tx, ctx, username, to).await?;
            }
            None if crate::app::customers::handover::holdings(tx.conn(), before.id).await? > 0 => {
                return Err(Error::invalid("successor", "successor_required"));
            }
            None => {}
        }
    }
    sqlx::query("UPDATE users SET active = $1, version = version + 1, updated_at = $2 WHERE id = $3")
        .bind(active as i64)
        .bind(now())
        .bind(before.id)
        .execute(tx.conn())
        .await?;
    if !active {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(before.id).execute(tx.conn()).await?;
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
            .bind(now())
            .bind(before.id)
            .execute(tx.conn())
            .await?;
    }
    let action = if active { "activate" } else { "deactivate" };
    audit::record(
        &mut tx,
        ctx,
        "user",
        username,
        action,
        Some(&json!({"active": before.active})),
        Some(&json!({"active": active})),
    )
    .await?;
    let after = get_in(&mut tx, username).await?;
    tx.commit().await?;
    Ok(after)
}

/// A new password as a form or the API gives it.
#[derive(Debug, Default, Clone, Copy)]
pub struct NewPassword<'a> {
    pub password: &'a str,
    /// The user's own change: required, must be their password now.
    pub current_password: Option<&'a str>,
    /// When given (the profile form), must equal `password`.
    pub password_confirm: Option<&'a str>,
}

/// Sets a new password and ends the user's sessions. One's own password (the profile, the API
/// on oneself) needs the current one (`current_password`: `required` / `wrong_password`) and
/// keeps the session making the change (`keep_session`, its raw id) while every other one
/// ends; an administrator's reset of someone else's needs no current password and ends all of
/// that user's sessions. Answers how many sessions ended.
pub async fn set_password(
    db: &Db,
    ctx: &Ctx,
    username: &str,
    p: NewPassword<'_>,
    keep_session: Option<&str>,
) -> Result<u64> {
    let target = get(db, username).await?;
    let own = target.id == ctx.caller.user_id;
    if !own {
        ctx.require_admin()?;
    }
    if target.source == "directory" {
        return Err(Error::Conflict("password_in_directory"));
    }
    let mut e = Errors::default();
    if own {
        match p.current_password.filter(|c| !c.is_empty()) {
            None => e.add("current_password", "required"),
            Some(c) => {
                let hash: String = sqlx::query("SELECT password_hash FROM users WHERE id = $1")
                    .bind(target.id)
                    .fetch_one(&db.pool)
                    .await?
                    .try_get("password_hash")?;
                if !auth::verify_password(c, &hash) {
                    e.add("current_password", "wrong_password");
                }
            }
        }
    }
    e.take("password", check_password(p.password));
    if p.password_confirm.is_some_and(|c| c != p.password) {
        e.add("password_confirm", "password_mismatch");
    }
    e.finish()?;
    let hash = auth::hash_password(p.password)?;
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
        .bind(hash)
        .bind(now())
        .bind(target.id)
        .execute(tx.conn())
        .await?;
    let ended = auth::end_sessions(&mut tx, target.id, if own { keep_session } else { None }).await?;
    audit::record(&mut tx, ctx, "user", username, "password", None, Some(&json!({"sessions_ended": ended}))).await?;
    tx.commit().await?;
    Ok(ended)
}

/// The caller's own time zone (IANA name, e.g. Asia/Shanghai): their days and weeks.
pub async fn set_time_zone(db: &Db, ctx: &Ctx, time_zone: &str) -> Result<()> {
    let tz = crate::domain::activity::parse_tz(time_zone).map_err(|c| Error::invalid("time_zone", c))?;
    set_own_preference(db, ctx, "time_zone", tz.name()).await
}

/// The caller's unit for amounts on pages: `yuan` or `wan` (万元).
pub async fn set_money_unit(db: &Db, ctx: &Ctx, unit: &str) -> Result<()> {
    let unit = crate::domain::money::MoneyUnit::from_code(unit)
        .ok_or_else(|| Error::invalid("money_unit", "invalid_choice"))?;
    set_own_preference(db, ctx, "money_unit", unit.code()).await
}

/// Stores one checked preference of the caller's own (`column` is this module's fixed text,
/// never input), with its audit row, in one transaction.
async fn set_own_preference(db: &Db, ctx: &Ctx, column: &'static str, value: &str) -> Result<()> {
    let mut tx = db.begin().await?;
    let n =
        sqlx::query(&format!("UPDATE users SET {column} = $1 WHERE id = $2 AND ({column} IS NULL OR {column} <> $1)"))
            .bind(value)
            .bind(ctx.caller.user_id)
            .execute(tx.conn())
            .await?
            .rows_affected();
    if n == 0 {
        // The value it has already: nothing changes, no audit row.
        return Ok(());
    }
    audit::record(&mut tx, ctx, "user", &ctx.caller.username, column, None, Some(&json!({ column: value }))).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn set_locale(db: &Db, ctx: &Ctx, locale: &str) -> Result<()> {
    if !matches!(locale, "zh-CN" | "en") {
        return Err(Error::invalid("locale", "invalid_choice"));
    }
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE users SET locale = $1 WHERE id = $2")
        .bind(locale)
        .bind(ctx.caller.user_id)
        .execute(tx.conn())
        .await?;
    audit::record(&mut tx, ctx, "user", &ctx.caller.username, "locale", None, Some(&json!({"locale": locale}))).await?;
    tx.commit().await?;
    Ok(())
}
