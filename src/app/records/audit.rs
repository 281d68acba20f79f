//! The audit trail: one append-only row per change, written inside the change's transaction.
use serde::Serialize;
use serde_json::Value;
use sqlx::FromRow;

use crate::app::{Ctx, Error, Page, Result};
use crate::db::codes::JsonText;
use crate::db::sql::Sql;
use crate::db::{now, Db, WriteTx};

/// Fields that carry credit information; removed from history shown to callers below
/// supervisor level.
pub const CREDIT_FIELDS: &[&str] = &[
    "credit_grade",
    "credit_limit",
    "credit_score",
    "credit_evaluation",
    "credit_figures",
    "credit_moved",
    "proposed_grade",
    "proposed_limit",
    "from_grade",
    "to_grade",
    "from_limit",
    "to_limit",
];

/// Records whose whole history is credit information (an evaluation and its documents), and
/// actions on other records that are (an evaluation setting an account's score): left out of
/// the history shown to callers below supervisor level, so not even the act shows.
pub const CREDIT_ENTITIES: &[&str] = &["credit_evaluation"];
pub const CREDIT_ACTIONS: &[&str] = &["credit_evaluation"];

/// Fields that carry a product's confidential prices; removed from history shown to callers
/// who may not see them (`Role::sees_floor_price`).
pub const FLOOR_PRICE_FIELDS: &[&str] = &["floor_price", "standard_cost"];

pub async fn record(
    tx: &mut WriteTx,
    ctx: &Ctx,
    entity: &str,
    entity_id: &str,
    action: &str,
    before: Option<&Value>,
    after: Option<&Value>,
) -> Result<()> {
    let actor_id = (ctx.caller.user_id != 0).then_some(ctx.caller.user_id);
    let mut s = Sql::new(
        "INSERT INTO audit_log (at, actor_id, actor, entity, entity_id, action, before_json, after_json, request_id) VALUES (",
    );
    s.bind(now()).push(", ").bind(actor_id).push(", ").bind(ctx.caller.username.as_str());
    s.push(", ").bind(entity).push(", ").bind(entity_id).push(", ").bind(action);
    s.push(", ").bind(before.map(|v| v.to_string())).push(", ").bind(after.map(|v| v.to_string()));
    s.push(", ").bind(ctx.request_id.as_str()).push(")");
    s.query().execute(tx.conn()).await?;
    Ok(())
}

/// One row per entity, for bulk writes (imports): `(entity_id, after as JSON text)` of each.
pub async fn record_many(
    tx: &mut WriteTx,
    ctx: &Ctx,
    entity: &str,
    action: &str,
    rows: Vec<(String, String)>,
) -> Result<()> {
    use crate::db::bulk::{v, Cell, Inserter};
    let actor_id = (ctx.caller.user_id != 0).then_some(ctx.caller.user_id);
    let mut ins = Inserter::new(
        tx.backend(),
        "INSERT INTO audit_log (at, actor_id, actor, entity, action, request_id, entity_id, after_json) VALUES ",
        vec![
            now().into(),
            actor_id.into(),
            ctx.caller.username.as_str().into(),
            entity.into(),
            action.into(),
            ctx.request_id.as_str().into(),
        ],
        2,
    );
    for (id, after) in rows {
        let cells = vec![
            Cell::Shared(1),
            Cell::Shared(2),
            Cell::Shared(3),
            Cell::Shared(4),
            Cell::Shared(5),
            Cell::Shared(6),
            v(id),
            v(after),
        ];
        ins.row(tx, cells).await?;
    }
    ins.flush(tx).await?;
    Ok(())
}

/// One change in the audit trail.
#[derive(Debug, Serialize, utoipa::ToSchema, FromRow)]
pub struct AuditEntry {
    pub id: i64,
    #[schema(format = DateTime)]
    pub at: String,
    /// Username of who acted (or `system`).
    pub who: String,
    /// Who acted, by name (the username when the actor is no user, e.g. `system`).
    pub who_name: String,
    /// The kind of record: `account`, `contact`, `user`, `org_unit`, `approval`, …
    pub entity: String,
    /// The record's id, username or code.
    pub entity_id: String,
    /// The record's name where the id is a username (a user, a sign-in): the person's name.
    pub entity_name: Option<String>,
    /// The action: `create`, `update`, `delete`, …
    pub what: String,
    /// The changed fields before.
    #[schema(value_type = Option<Object>)]
    #[sqlx(rename = "before_json", try_from = "JsonText<Value>")]
    pub before: Option<Value>,
    /// The changed fields after.
    #[schema(value_type = Option<Object>)]
    #[sqlx(rename = "after_json", try_from = "JsonText<Value>")]
    pub after: Option<Value>,
    /// The id of the HTTP request that made the change.
    pub request_id: Option<String>,
    /// Field names whose value changed (for the history tab).
    #[sqlx(skip)]
    pub changed: Vec<String>,
}

/// History without credit: the credit fields wherever they sit (a record's fields, a part of a
/// merge's summary) and their names wherever a list names fields (a merge's `filled`), so
/// neither a value nor the fact that one was there reaches a caller below supervisor level.
fn strip_credit(v: Option<Value>) -> Option<Value> {
    strip_fields(v, CREDIT_FIELDS)
}

/// History without `fields`, wherever they sit (see [`strip_credit`]).
fn strip_fields(v: Option<Value>, fields: &[&str]) -> Option<Value> {
    fn strip(v: &mut Value, fields: &[&str]) {
        match v {
            Value::Object(o) => {
                for f in fields {
                    o.remove(*f);
                }
                o.values_mut().for_each(|v| strip(v, fields));
            }
            Value::Array(a) => {
                a.retain(|x| !x.as_str().is_some_and(|s| fields.contains(&s)));
                a.iter_mut().for_each(|v| strip(v, fields));
            }
            _ => {}
        }
    }
    v.map(|mut v| {
        strip(&mut v, fields);
        v
    })
}

#[derive(Debug, Default)]
pub struct AuditFilter {
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    /// Only the acts of this user (username; `system` for the system's own).
    pub actor: Option<String>,
    /// From this day, in the caller's time zone (inclusive).
    pub from: Option<chrono::NaiveDate>,
    /// To this day, in the caller's time zone (inclusive).
    pub to: Option<chrono::NaiveDate>,
    pub cursor: Option<i64>,
    pub limit: i64,
}

/// The audit trail as the caller may see it, once `history::list` has decided whether the
/// caller may read the named record's history (`named`): administrators and the general
/// manager see all; others see the history of records in their scope (they must name one)
/// and their own acts.
pub async fn read(db: &Db, ctx: &Ctx, f: &AuditFilter, named: bool) -> Result<Page<AuditEntry>> {
    let mut s = Sql::new(
        "SELECT audit_log.id AS id, at, actor AS who, COALESCE(u.display_name, actor) AS who_name, entity, entity_id, \
         eu.display_name AS entity_name, action AS what, before_json, after_json, request_id \
         FROM audit_log LEFT JOIN users u ON u.id = audit_log.actor_id \
         LEFT JOIN users eu ON audit_log.entity IN ('user', 'session', 'delegation') AND eu.username = audit_log.entity_id \
         WHERE 1=1",
    );
    if let Some(e) = &f.entity {
        s.push(" AND entity = ").bind(e.as_str());
    }
    if let Some(i) = &f.entity_id {
        s.push(" AND entity_id = ").bind(i.as_str());
    }
    if let Some(a) = f.actor.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        s.push(" AND actor = ").bind(a.to_string());
    }
    if f.from.is_some() || f.to.is_some() {
        let tz = crate::domain::activity::parse_tz(&ctx.caller.time_zone).unwrap_or(chrono_tz::Asia::Shanghai);
        if let (Some(a), Some(b)) = (f.from, f.to) {
            if a > b {
                return Err(Error::invalid("to", "before_from"));
            }
        }
        if let Some(d) = f.from {
            s.push(" AND at >= ").bind(crate::db::ts(crate::domain::activity::day_bounds(d, tz).0));
        }
        if let Some(d) = f.to {
            s.push(" AND at < ").bind(crate::db::ts(crate::domain::activity::day_bounds(d, tz).1));
        }
    }
    if !ctx.caller.role.sees_all_audit() && !named {
        if f.entity_id.is_some() {
            return Err(Error::NotFound);
        }
        s.push(" AND actor_id = ").bind(ctx.caller.user_id);
    }
    if !ctx.caller.sees_credit() {
        for e in CREDIT_ENTITIES {
            s.push(" AND entity <> ").bind(*e);
        }
        for a in CREDIT_ACTIONS {
            s.push(" AND action <> ").bind(*a);
        }
    }
    if let Some(c) = f.cursor {
        s.push(" AND audit_log.id < ").bind(c);
    }
    s.push(" ORDER BY audit_log.id DESC LIMIT ").bind(f.limit + 1);
    let rows = s.query().try_map(|r| AuditEntry::from_row(&r)).fetch_all(&db.pool).await?;
    let more = rows.len() as i64 > f.limit;
    let sees_credit = ctx.caller.sees_credit();
    let sees_floor_price = ctx.caller.role.sees_floor_price();
    let mut items = Vec::with_capacity(rows.len());
    for mut e in rows.into_iter().take(f.limit as usize) {
        if !sees_credit {
            e.before = strip_credit(e.before);
            e.after = strip_credit(e.after);
        }
        if !sees_floor_price {
            e.before = strip_fields(e.before, FLOOR_PRICE_FIELDS);
            e.after = strip_fields(e.after, FLOOR_PRICE_FIELDS);
        }
        e.changed = changed_fields(e.before.as_ref(), e.after.as_ref());
        items.push(e);
    }
    let next_cursor = more.then(|| items.last().map(|e| e.id.to_string())).flatten();
    Ok(Page { items, next_cursor })
}

fn changed_fields(before: Option<&Value>, after: Option<&Value>) -> Vec<String> {
    let empty = serde_json::Map::new();
    let b = before.and_then(Value::as_object).unwrap_or(&empty);
    let a = after.and_then(Value::as_object).unwrap_or(&empty);
    let mut keys: Vec<String> = b.keys().chain(a.keys()).cloned().collect();
    keys.sort();
    keys.dedup();
    keys.retain(|k| b.get(k) != a.get(k) && k != "version" && k != "updated_at");
    keys
}
