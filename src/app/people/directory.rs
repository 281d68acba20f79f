//! Finding people and org units by what a user types (docs/DOMAIN.md, "Pickers"): the pickers'
//! search, and the one rule that turns a typed person into a user. A field that names a user
//! takes a username (`lin.tao`), the user's display name when one active user has it (林涛),
//! or the picker's text `林涛 (lin.tao)`; an unknown or ambiguous name is a field error.
//! Nothing here imports another use case, so every part may use it.
use serde::Serialize;
use sqlx::Row;

use crate::app::{Caller, Error, Result};
use crate::db::Db;
use crate::domain::pinyin;
use crate::domain::role::Role;

/// A user a picker offers.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PickedUser {
    /// What a form posts.
    pub username: String,
    /// What the user sees (林涛).
    pub display_name: String,
    pub role: Role,
    /// The name of the user's org unit (华东大区).
    pub org_unit_name: String,
    /// What the picker shows and a field accepts: `林涛 (lin.tao)`.
    pub label: String,
}

/// The text a picker shows for a user, which a field also accepts.
pub fn label(display_name: &str, username: &str) -> String {
    format!("{display_name} ({username})")
}

/// Which users a picker offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pool {
    /// Every active user.
    #[default]
    Active,
    /// Active users who may hold accounts (owner, inside owner, KA manager of an account).
    Owners,
}

/// Active users whose username, display name, or display name in pinyin (full or initials)
/// contains `q` (case-insensitive; all of them without `q`), in pinyin order of their names, at
/// most `limit`. Only active users: an inactive one cannot be given anything. The directory is
/// not business data; every signed-in user may search it (`caller` is for the record).
pub async fn search_users(
    db: &Db,
    _caller: &Caller,
    q: Option<&str>,
    pool: Pool,
    limit: usize,
) -> Result<Vec<PickedUser>> {
    let rows = sqlx::query(
        "SELECT u.username, u.display_name, u.role, o.name AS org_name FROM users u \
         JOIN org_units o ON o.id = u.org_unit_id WHERE u.active = 1",
    )
    .fetch_all(&db.pool)
    .await?;
    let q = crate::domain::text::search(q).map_err(|c| Error::invalid("q", c))?.map(str::to_lowercase);
    let key = q.as_deref().filter(|q| pinyin::may_be_pinyin(q)).map(pinyin::query_key).filter(|k| !k.is_empty());
    let mut out: Vec<(String, PickedUser)> = vec![];
    for r in &rows {
        let role: Role = r.try_get("role")?;
        if pool == Pool::Owners && !role.may_own_accounts() {
            continue;
        }
        let username: String = r.try_get("username")?;
        let display_name: String = r.try_get("display_name")?;
        if let Some(q) = &q {
            let hit = username.to_lowercase().contains(q.as_str())
                || display_name.to_lowercase().contains(q.as_str())
                || label(&display_name, &username).to_lowercase() == *q
                || key.as_ref().is_some_and(|k| {
                    pinyin::full(&display_name).contains(k.as_str())
                        || pinyin::initials(&display_name).starts_with(k.as_str())
                });
            if !hit {
                continue;
            }
        }
        out.push((
            pinyin::sort_key(&display_name),
            PickedUser {
                label: label(&display_name, &username),
                username,
                display_name,
                role,
                org_unit_name: r.try_get("org_name")?,
            },
        ));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.username.cmp(&b.1.username)));
    Ok(out.into_iter().take(limit).map(|(_, u)| u).collect())
}

/// Who a typed person is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    One(i64),
    None,
    /// More than one active user has that display name.
    Many,
}

/// The active user a field's text names: a username, the picker's `name (username)`, or a
/// display name that exactly one active user has.
pub async fn find_user(conn: &mut sqlx::AnyConnection, typed: &str) -> Result<Found> {
    let t = typed.trim();
    if t.is_empty() {
        return Ok(Found::None);
    }
    let by_username = |u: String| sqlx::query("SELECT id FROM users WHERE username = $1 AND active = 1").bind(u);
    if let Some(r) = by_username(t.to_string()).fetch_optional(&mut *conn).await? {
        return Ok(Found::One(r.try_get("id")?));
    }
    // The picker's text: `林涛 (lin.tao)` (also with full-width brackets).
    let inner = t
        .strip_suffix(')')
        .or_else(|| t.strip_suffix('）'))
        .and_then(|s| s.rsplit_once('(').or_else(|| s.rsplit_once('（')))
        .map(|(_, u)| u.trim());
    if let Some(u) = inner.filter(|u| !u.is_empty()) {
        if let Some(r) = by_username(u.to_string()).fetch_optional(&mut *conn).await? {
            return Ok(Found::One(r.try_get("id")?));
        }
    }
    let rows = sqlx::query("SELECT id FROM users WHERE display_name = $1 AND active = 1 ORDER BY id LIMIT 2")
        .bind(t)
        .fetch_all(&mut *conn)
        .await?;
    Ok(match rows.as_slice() {
        [one] => Found::One(one.try_get("id")?),
        [] => Found::None,
        _ => Found::Many,
    })
}

/// [`find_user`] for a field: its error (`unknown_user`, `ambiguous_user`) names the field.
pub async fn user_for(conn: &mut sqlx::AnyConnection, field: &str, typed: &str) -> Result<i64> {
    match find_user(conn, typed).await? {
        Found::One(id) => Ok(id),
        Found::None => Err(Error::invalid(field, "unknown_user")),
        Found::Many => Err(Error::invalid(field, "ambiguous_user")),
    }
}

/// The username a field's text names (a filter keeps usernames in its address), or the text
/// as it was when it names nobody (the filter then finds nothing, as before).
pub async fn username_of(db: &Db, typed: &str) -> Result<String> {
    let mut conn = db.pool.acquire().await?;
    if let Found::One(id) = find_user(&mut conn, typed).await? {
        let r = sqlx::query("SELECT username FROM users WHERE id = $1").bind(id).fetch_one(&mut *conn).await?;
        return Ok(r.try_get("username")?);
    }
    Ok(typed.trim().to_string())
}
