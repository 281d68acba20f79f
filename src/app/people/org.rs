//! Org units: headquarters → regions → branches.
use serde::Serialize;
use serde_json::json;
use sqlx::Row;

use crate::app::records::input::Input;
use crate::app::{records::audit, Ctx, Error, Result};
use crate::db::{is_unique_violation, now, Db, WriteTx};
use crate::domain::error::Errors;
use crate::domain::role::OrgKind;
use crate::domain::text;

/// An org unit: headquarters, a region or a branch.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, sqlx::FromRow)]
pub struct OrgUnit {
    #[serde(skip)]
    pub id: i64,
    pub code: String,
    pub name: String,
    #[schema(value_type = OrgKind)]
    pub kind: String,
    /// The parent unit's code (null for headquarters).
    pub parent: Option<String>,
    pub version: i64,
    /// Ids from headquarters down to this unit: `/1/5/`.
    #[serde(skip)]
    pub path: String,
    #[serde(skip)]
    #[sqlx(skip)]
    pub depth: usize,
}

/// The whole tree in display order (parents before children). Org units are not business data:
/// every signed-in user may read them.
pub async fn list(db: &Db) -> Result<Vec<OrgUnit>> {
    let mut units: Vec<OrgUnit> = sqlx::query_as(
        "SELECT o.id, o.code, o.name, o.kind, o.path, o.version, p.code AS parent \
         FROM org_units o LEFT JOIN org_units p ON p.id = o.parent_id ORDER BY o.path",
    )
    .fetch_all(&db.pool)
    .await?;
    for u in &mut units {
        u.depth = u.path.matches('/').count().saturating_sub(2);
    }
    Ok(units)
}

pub async fn get(db: &Db, code: &str) -> Result<OrgUnit> {
    list(db).await?.into_iter().find(|o| o.code == code).ok_or(Error::NotFound)
}

fn valid_code(s: &str) -> Result<String, &'static str> {
    let s = s.trim();
    if s.is_empty() {
        return Err("required");
    }
    if s.len() > 32 || !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err("code_format");
    }
    Ok(s.to_string())
}

/// Creates an org unit inside an open transaction (also used by the demo loader).
pub async fn insert(
    tx: &mut WriteTx,
    ctx: &Ctx,
    code: &str,
    name: &str,
    kind: OrgKind,
    parent: Option<&str>,
) -> Result<i64> {
    let (parent_id, parent_path, parent_kind) = match parent {
        Some(p) => {
            let r = sqlx::query("SELECT id, path, kind FROM org_units WHERE code = $1")
                .bind(p)
                .fetch_optional(tx.conn())
                .await?
                .ok_or_else(|| Error::invalid("parent", "unknown_org_unit"))?;
            (Some(r.try_get::<i64, _>("id")?), r.try_get::<String, _>("path")?, Some(r.try_get::<String, _>("kind")?))
        }
        None => (None, "/".to_string(), None),
    };
    let expected_parent = match kind {
        OrgKind::Hq => None,
        OrgKind::Region => Some("hq"),
        OrgKind::Branch => Some("region"),
    };
    if parent_kind.as_deref() != expected_parent {
        return Err(Error::invalid("parent", "parent_kind"));
    }
    let ts = now();
    let r = sqlx::query(
        "INSERT INTO org_units (code, name, kind, parent_id, path, created_at, updated_at) VALUES ($1, $2, $3, $4, '', $5, $5) RETURNING id",
    )
    .bind(code)
    .bind(name)
    .bind(kind.code())
    .bind(parent_id)
    .bind(ts)
    .fetch_one(tx.conn())
    .await
    .map_err(|e| if is_unique_violation(&e) { Error::Duplicate { field: "code", existing_id: 0 } } else { e.into() })?;
    let id: i64 = r.try_get("id")?;
    sqlx::query("UPDATE org_units SET path = $1 WHERE id = $2")
        .bind(format!("{parent_path}{id}/"))
        .bind(id)
        .execute(tx.conn())
        .await?;
    let after = json!({"code": code, "name": name, "kind": kind.code(), "parent": parent});
    audit::record(tx, ctx, "org_unit", code, "create", None, Some(&after)).await?;
    Ok(id)
}

pub async fn create(db: &Db, ctx: &Ctx, inp: &Input) -> Result<OrgUnit> {
    ctx.require_admin()?;
    inp.check_keys(&["code", "name", "kind", "parent"], &[])?;
    let mut e = Errors::default();
    let code = e.take("code", valid_code(inp.get("code").flatten().unwrap_or("")));
    let name = e.take("name", text::required(inp.get("name").flatten(), 100));
    let kind = e.take("kind", inp.get("kind").flatten().ok_or("required").and_then(OrgKind::parse));
    e.finish()?;
    let (code, name, kind) = (code.unwrap_or_default(), name.unwrap_or_default(), kind.unwrap_or(OrgKind::Branch));
    let mut tx = db.begin().await?;
    insert(&mut tx, ctx, &code, &name, kind, inp.get("parent").flatten().map(str::trim)).await?;
    tx.commit().await?;
    get(db, &code).await
}

/// Renames an org unit (its code and place in the tree are fixed once users hang on it).
pub async fn update(db: &Db, ctx: &Ctx, code: &str, inp: &Input) -> Result<OrgUnit> {
    ctx.require_admin()?;
    inp.check_keys(&["name"], &["code", "kind", "parent"])?;
    let before = get(db, code).await?;
    let version = inp.version.ok_or_else(|| Error::invalid("version", "required"))?;
    let name = text::required(inp.get("name").flatten(), 100).map_err(|c| Error::invalid("name", c))?;
    if version != before.version {
        return Err(Error::StaleVersion { current: before.version });
    }
    if name == before.name {
        // Nothing to change: no new version, no audit row.
        return Ok(before);
    }
    let mut tx = db.begin().await?;
    let n = sqlx::query(
        "UPDATE org_units SET name = $1, version = version + 1, updated_at = $2 WHERE code = $3 AND version = $4",
    )
    .bind(name.clone())
    .bind(now())
    .bind(code)
    .bind(version)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if n != 1 {
        return Err(Error::StaleVersion { current: before.version });
    }
    audit::record(
        &mut tx,
        ctx,
        "org_unit",
        code,
        "update",
        Some(&json!({"name": before.name})),
        Some(&json!({"name": name})),
    )
    .await?;
    tx.commit().await?;
    get(db, code).await
}
