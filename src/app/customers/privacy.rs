//! A contact's personal information (个人信息保护法; issue 26, DOMAIN.md §8): everything KAM
//! holds about one contact person, exported for them ([`export`]), and erased at their request
//! ([`erase`]).
//!
//! An export is scoped like every read of the contact (out of scope: 404) and, unlike other
//! reads, leaves an audit row (who exported whose data, when, how much — not the data).
//!
//! An erasure keeps the contact's row, so the records that name it (activities, quotes,
//! suggestions, service events) stay and show "erased contact"; every personal field is blanked,
//! the name set to [`ERASED_NAME`] and `erased_at` set, in one transaction. The copies of the
//! person's data elsewhere go too: the contact's name, title and phone copied onto quote versions,
//! the attitude noted for them at activities, and their values in earlier audit rows (the
//! contact's own history and any record's row naming them by `contact_id`), and their name where
//! users wrote it in the free text of the account's activities, suggestions and service events
//! (and those records' audit rows; [`FREE_TEXT`]). The erasure's own
//! audit row holds no erased value. KAM keeps no documents or photos of a contact (documents
//! belong to accounts, photos to visits), so there are no files to remove. Irreversible, so a
//! manager's act (`Op::Erase`), over the version the manager read.
use serde::Serialize;
use serde_json::{json, Value};
use sqlx::Row;

use crate::app::customers::contacts::{self, ContactView};
use crate::app::records::audit;
use crate::app::{Ctx, Error, Result};
use crate::db::{now, Db, WriteTx};
use crate::domain::policy::{decide, Decision, Op};

/// The name an erased contact keeps: a neutral marker (pages show "erased contact" in the
/// reader's language wherever `erased_at` is set).
pub const ERASED_NAME: &str = "—";

/// The contact's fields that are personal data, blanked by an erasure (`name` becomes
/// [`ERASED_NAME`]): every field a user may edit (`contacts::EDIT_FIELDS`), and the name's
/// normalised form kept for duplicate checks.
fn personal_fields() -> impl Iterator<Item = &'static str> {
    contacts::EDIT_FIELDS.iter().copied().chain(["name_norm"])
}

/// Fields of other records that copy a contact's data, where the record names the contact by
/// `contact_id` (a quote version's contact, an activity's contacts met).
const COPIED_FIELDS: &[&str] = &["name", "contact_name", "contact_title", "phone", "attitude"];

/// The free text of the contact's account's records, where users write about the people they
/// met ("与王志远面谈…"): an erasure replaces the contact's name there with [`ERASED_NAME`] —
/// in the records and in their audit rows. (table, audit entity, columns); fixed text.
const FREE_TEXT: &[(&str, &str, &[&str])] = &[
    ("activities", "activity", crate::app::visits::activities::FREE_TEXT),
    ("suggestions", "suggestion", &["content", "thanks", "cause", "feasibility", "execution", "reply", "feedback"]),
    ("service_events", "service_event", &["title", "place", "notes"]),
];

/// Names shorter than this are not searched for in free text: one character (a surname alone)
/// would match inside other words and other people's names.
const MIN_NAME_CHARS: usize = 2;

/// Another contact, by id and name.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PersonRef {
    pub id: i64,
    pub name: String,
}

/// An activity the contact took part in, with the attitude noted for them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ActivityMention {
    pub id: i64,
    pub kind: String,
    pub status: String,
    #[schema(format = DateTime)]
    pub planned_at: Option<String>,
    #[schema(format = DateTime)]
    pub occurred_at: Option<String>,
    pub place: Option<String>,
    pub participants: Option<String>,
    pub summary: Option<String>,
    pub customer_views: Option<String>,
    /// The attitude noted for the contact at this activity.
    pub attitude: Option<String>,
    /// Who recorded it (name).
    pub owner_name: String,
}

/// A quote version naming the contact, with what it copied of them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuoteMention {
    pub quote_id: i64,
    pub number: String,
    pub version_no: i64,
    #[schema(format = Date)]
    pub quote_date: String,
    pub contact_name: Option<String>,
    pub contact_title: Option<String>,
    pub phone: Option<String>,
}

/// A customer suggestion the contact made.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SuggestionMention {
    pub id: i64,
    #[schema(format = Date)]
    pub received_on: String,
    pub channel: String,
    pub category: String,
    pub content: String,
    pub state: String,
    pub reply: Option<String>,
}

/// A service event the contact was invited to or attended.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventMention {
    pub id: i64,
    pub kind: String,
    pub title: String,
    #[schema(format = DateTime)]
    pub starts_at: String,
    pub state: String,
    pub invited: bool,
    pub attended: bool,
}

/// One recorded change of the contact (its audit trail).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChangeEntry {
    #[schema(format = DateTime)]
    pub at: String,
    /// Username of who acted (or `system`).
    pub who: String,
    pub what: String,
    #[schema(value_type = Option<Object>)]
    pub before: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub after: Option<Value>,
}

/// Everything KAM holds about one contact person, for them (个人信息查阅、复制).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PersonalData {
    /// When this export was made (UTC).
    #[schema(format = DateTime)]
    pub exported_at: String,
    /// Who made it (username).
    pub exported_by: String,
    /// The contact's own fields (with its account's id and name).
    pub contact: ContactView,
    /// The contact they report to.
    pub reports_to: Option<PersonRef>,
    /// The contacts reporting to them.
    pub direct_reports: Vec<PersonRef>,
    /// Activities (visits, calls, meetings) they took part in.
    pub activities: Vec<ActivityMention>,
    /// Quote versions addressed to them.
    pub quotes: Vec<QuoteMention>,
    /// Suggestions they made.
    pub suggestions: Vec<SuggestionMention>,
    /// Service events they were invited to or attended.
    pub service_events: Vec<EventMention>,
    /// The recorded changes of their data (the audit trail).
    pub changes: Vec<ChangeEntry>,
}

fn opt_json(t: Option<String>) -> Option<Value> {
    t.and_then(|t| serde_json::from_str(&t).ok())
}

async fn person(conn: &mut sqlx::AnyConnection, id: i64) -> Result<Option<PersonRef>> {
    let r = sqlx::query("SELECT id, name FROM contacts WHERE id = $1 AND deleted_at IS NULL")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(match r {
        Some(r) => Some(PersonRef { id: r.try_get("id")?, name: r.try_get("name")? }),
        None => None,
    })
}

/// Gathers what KAM holds about the contact (already shown to be in the caller's scope).
async fn gather(conn: &mut sqlx::AnyConnection, c: ContactView, by: &str) -> Result<PersonalData> {
    let id = c.id;
    let reports_to = match c.reports_to {
        Some(b) => person(&mut *conn, b).await?,
        None => None,
    };
    let mut direct_reports = vec![];
    for r in sqlx::query("SELECT id, name FROM contacts WHERE reports_to = $1 AND deleted_at IS NULL ORDER BY id")
        .bind(id)
        .fetch_all(&mut *conn)
        .await?
    {
        direct_reports.push(PersonRef { id: r.try_get("id")?, name: r.try_get("name")? });
    }
    let mut activities = vec![];
    for r in sqlx::query(
        "SELECT v.id, v.kind, v.status, v.planned_at, v.occurred_at, v.place, v.participants, v.summary, \
         v.customer_views, x.attitude, u.display_name FROM activity_contacts x JOIN activities v ON v.id = x.activity_id \
         JOIN users u ON u.id = v.owner_id WHERE x.contact_id = $1 AND v.deleted_at IS NULL ORDER BY v.id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    {
        activities.push(ActivityMention {
            id: r.try_get("id")?,
            kind: r.try_get("kind")?,
            status: r.try_get("status")?,
            planned_at: r.try_get("planned_at")?,
            occurred_at: r.try_get("occurred_at")?,
            place: r.try_get("place")?,
            participants: r.try_get("participants")?,
            summary: r.try_get("summary")?,
            customer_views: r.try_get("customer_views")?,
            attitude: r.try_get("attitude")?,
            owner_name: r.try_get("display_name")?,
        });
    }
    let mut quotes = vec![];
    for r in sqlx::query(
        "SELECT q.id, q.number, x.version_no, x.quote_date, x.contact_name, x.contact_title, x.phone \
         FROM quote_versions x JOIN quotes q ON q.id = x.quote_id WHERE x.contact_id = $1 ORDER BY q.id, x.version_no",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    {
        quotes.push(QuoteMention {
            quote_id: r.try_get("id")?,
            number: r.try_get("number")?,
            version_no: r.try_get("version_no")?,
            quote_date: r.try_get("quote_date")?,
            contact_name: r.try_get("contact_name")?,
            contact_title: r.try_get("contact_title")?,
            phone: r.try_get("phone")?,
        });
    }
    let mut suggestions = vec![];
    for r in sqlx::query(
        "SELECT id, received_on, channel, category, content, state, reply FROM suggestions WHERE contact_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    {
        suggestions.push(SuggestionMention {
            id: r.try_get("id")?,
            received_on: r.try_get("received_on")?,
            channel: r.try_get("channel")?,
            category: r.try_get("category")?,
            content: r.try_get("content")?,
            state: r.try_get("state")?,
            reply: r.try_get("reply")?,
        });
    }
    let mut service_events = vec![];
    for r in sqlx::query(
        "SELECT id, kind, title, starts_at, state, invited, attended FROM service_events WHERE account_id = $1 ORDER BY id",
    )
    .bind(c.account_id)
    .fetch_all(&mut *conn)
    .await?
    {
        let has = |col: &str| -> Result<bool> {
            let ids: Vec<i64> = serde_json::from_str(&r.try_get::<String, _>(col)?).unwrap_or_default();
            Ok(ids.contains(&id))
        };
        let (invited, attended) = (has("invited")?, has("attended")?);
        if invited || attended {
            service_events.push(EventMention {
                id: r.try_get("id")?,
                kind: r.try_get("kind")?,
                title: r.try_get("title")?,
                starts_at: r.try_get("starts_at")?,
                state: r.try_get("state")?,
                invited,
                attended,
            });
        }
    }
    let mut changes = vec![];
    for r in sqlx::query(
        "SELECT at, actor, action, before_json, after_json FROM audit_log WHERE entity = 'contact' AND entity_id = $1 \
         ORDER BY id",
    )
    .bind(id.to_string())
    .fetch_all(&mut *conn)
    .await?
    {
        changes.push(ChangeEntry {
            at: r.try_get("at")?,
            who: r.try_get("actor")?,
            what: r.try_get("action")?,
            before: opt_json(r.try_get("before_json")?),
            after: opt_json(r.try_get("after_json")?),
        });
    }
    Ok(PersonalData {
        exported_at: now(),
        exported_by: by.to_string(),
        contact: c,
        reports_to,
        direct_reports,
        activities,
        quotes,
        suggestions,
        service_events,
        changes,
    })
}

/// Everything KAM holds about the contact, for the person (anyone who sees the contact; out of
/// scope: 404). Leaves an audit row `personal_data_export` with the counts, not the data.
pub async fn export(db: &Db, ctx: &Ctx, id: i64) -> Result<PersonalData> {
    let mut tx = db.begin().await?;
    let c = contacts::fetch_scoped(tx.conn(), &ctx.caller, id).await?;
    match decide(ctx.caller.role, true, Op::Export) {
        Decision::Allow => {}
        Decision::Forbid => return Err(Error::Forbidden),
        Decision::Hidden => return Err(Error::NotFound),
    }
    let data = gather(tx.conn(), c, &ctx.caller.username).await?;
    let counts = json!({
        "activities": data.activities.len(),
        "quotes": data.quotes.len(),
        "suggestions": data.suggestions.len(),
        "service_events": data.service_events.len(),
        "changes": data.changes.len(),
    });
    audit::record(&mut tx, ctx, "contact", &id.to_string(), "personal_data_export", None, Some(&counts)).await?;
    tx.commit().await?;
    Ok(data)
}

/// Whether the caller may erase contacts they see.
pub fn may_erase(ctx: &Ctx) -> bool {
    decide(ctx.caller.role, true, Op::Erase) == Decision::Allow
}

/// Blanks, in `v`, the contact's personal fields (`whole`: `v` is the contact's own record) and
/// wherever an object names the contact by `contact_id`, the data copied of them. Answers
/// whether anything changed.
/// With `name`, that name is also replaced by [`ERASED_NAME`] in every text of `v` (audit
/// rows of records whose free text mentioned the contact).
fn scrub(v: &mut Value, id: i64, whole: bool, name: Option<&str>) -> bool {
    let mut changed = false;
    match v {
        Value::String(t) => {
            if let Some(n) = name {
                if t.contains(n) {
                    *t = t.replace(n, ERASED_NAME);
                    changed = true;
                }
            }
        }
        Value::Object(o) => {
            let names_it = o.get("contact_id").and_then(Value::as_i64) == Some(id);
            if whole || names_it {
                let fields: Vec<&str> = if whole { personal_fields().collect() } else { COPIED_FIELDS.to_vec() };
                for f in fields {
                    if let Some(x) = o.get_mut(f) {
                        let blank = if f == "name" || f == "contact_name" { json!(ERASED_NAME) } else { Value::Null };
                        if !x.is_null() && *x != blank {
                            *x = blank;
                            changed = true;
                        }
                    }
                }
            }
            for x in o.values_mut() {
                changed |= scrub(x, id, false, name);
            }
        }
        Value::Array(a) => {
            for x in a.iter_mut() {
                changed |= scrub(x, id, false, name);
            }
        }
        _ => {}
    }
    changed
}

/// Replaces the contact's `name` with [`ERASED_NAME`] in the free text of the account's
/// records ([`FREE_TEXT`]) and in those records' audit rows. Answers (records, audit rows)
/// changed. A name shorter than [`MIN_NAME_CHARS`] is not searched.
async fn redact_mentions(tx: &mut WriteTx, account_id: i64, contact_id: i64, name: &str) -> Result<(u64, usize)> {
    let name = name.trim();
    if name.chars().count() < MIN_NAME_CHARS || name == ERASED_NAME {
        return Ok((0, 0));
    }
    let like = crate::domain::text::like_containing(name);
    let (mut records, mut audits) = (0u64, 0usize);
    for (table, entity, cols) in FREE_TEXT {
        let hit = cols.iter().map(|c| format!("{c} LIKE $2 ESCAPE '\\'")).collect::<Vec<_>>().join(" OR ");
        let ids: Vec<i64> =
            sqlx::query(&format!("SELECT id FROM {table} WHERE account_id = $1 AND ({hit}) ORDER BY id"))
                .bind(account_id)
                .bind(&like)
                .fetch_all(tx.conn())
                .await?
                .iter()
                .map(|r| r.try_get::<i64, _>("id"))
                .collect::<std::result::Result<_, _>>()?;
        if ids.is_empty() {
            continue;
        }
        let set = cols.iter().map(|c| format!("{c} = REPLACE({c}, $1, $2)")).collect::<Vec<_>>().join(", ");
        for chunk in ids.chunks(500) {
            let list = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
            records += sqlx::query(&format!("UPDATE {table} SET {set} WHERE id IN ({list})"))
                .bind(name)
                .bind(ERASED_NAME)
                .execute(tx.conn())
                .await?
                .rows_affected();
            let keys = chunk.iter().map(|i| format!("'{i}'")).collect::<Vec<_>>().join(", ");
            let rows = sqlx::query(&format!(
                "SELECT id, before_json, after_json FROM audit_log WHERE entity = $1 AND entity_id IN ({keys}) \
                 AND (before_json LIKE $2 ESCAPE '\\' OR after_json LIKE $2 ESCAPE '\\')"
            ))
            .bind(*entity)
            .bind(&like)
            .fetch_all(tx.conn())
            .await?;
            for r in rows {
                if rewrite_audit_row(tx, &r, contact_id, false, Some(name)).await? {
                    audits += 1;
                }
            }
        }
    }
    Ok((records, audits))
}

/// Blanks the contact's data in earlier audit rows: the contact's own and any naming it by
/// `contact_id`. Answers how many rows changed.
async fn scrub_audit(tx: &mut WriteTx, id: i64) -> Result<usize> {
    let key = format!("%\"contact_id\":{id}%");
    let rows = sqlx::query(
        "SELECT id, entity, entity_id, before_json, after_json FROM audit_log \
         WHERE (entity = 'contact' AND entity_id = $1) OR before_json LIKE $2 OR after_json LIKE $2",
    )
    .bind(id.to_string())
    .bind(key)
    .fetch_all(tx.conn())
    .await?;
    let mut n = 0;
    for r in rows {
        let whole =
            r.try_get::<String, _>("entity")? == "contact" && r.try_get::<String, _>("entity_id")? == id.to_string();
        if rewrite_audit_row(tx, &r, id, whole, None).await? {
            n += 1;
        }
    }
    Ok(n)
}

/// Scrubs one audit row (`id`, `before_json`, `after_json`) with [`scrub`] and writes it
/// back when anything changed; answers whether it did.
async fn rewrite_audit_row(
    tx: &mut WriteTx,
    r: &sqlx::any::AnyRow,
    contact_id: i64,
    whole: bool,
    name: Option<&str>,
) -> Result<bool> {
    let row_id: i64 = r.try_get("id")?;
    let mut changed = false;
    let mut parts: Vec<Option<String>> = vec![];
    for col in ["before_json", "after_json"] {
        let text: Option<String> = r.try_get(col)?;
        parts.push(match text.as_deref().map(serde_json::from_str::<Value>) {
            Some(Ok(mut v)) => {
                if scrub(&mut v, contact_id, whole, name) {
                    changed = true;
                }
                Some(v.to_string())
            }
            _ => text,
        });
    }
    if changed {
        sqlx::query("UPDATE audit_log SET before_json = $1, after_json = $2 WHERE id = $3")
            .bind(parts[0].clone())
            .bind(parts[1].clone())
            .bind(row_id)
            .execute(tx.conn())
            .await?;
    }
    Ok(changed)
}

/// Erases the contact's personal data at the person's request, over the version read (see the
/// module's note): a manager's act (else 403); out of scope 404; erased already 409
/// `contact_erased`; another change since it was read 409.
pub async fn erase(db: &Db, ctx: &Ctx, id: i64, version: i64) -> Result<ContactView> {
    let mut tx = db.begin().await?;
    let before = contacts::fetch_scoped(tx.conn(), &ctx.caller, id).await?;
    match decide(ctx.caller.role, true, Op::Erase) {
        Decision::Allow => {}
        Decision::Forbid => return Err(Error::Forbidden),
        Decision::Hidden => return Err(Error::NotFound),
    }
    if before.erased_at.is_some() {
        return Err(Error::Conflict("contact_erased"));
    }
    if version != before.version {
        return Err(Error::StaleVersion { current: before.version });
    }
    let at = now();
    let n = sqlx::query(&format!(
        "UPDATE contacts SET {blanked}, erased_at = $2, updated_at = $2, version = version + 1 \
             WHERE id = $3 AND version = $4 AND erased_at IS NULL",
        // Every personal field, from the one list: the name to the marker, its normalised
        // form to empty (it is NOT NULL), the rest to NULL.
        blanked = personal_fields()
            .map(|f| match f {
                "name" => "name = $1".to_string(),
                "name_norm" => "name_norm = ''".to_string(),
                other => format!("{other} = NULL"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    ))
    .bind(ERASED_NAME)
    .bind(at.clone())
    .bind(id)
    .bind(version)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if n != 1 {
        return Err(Error::StaleVersion { current: before.version });
    }
    // The copies: the attitude noted for them at activities, their name, title and phone on
    // quote versions.
    let met =
        sqlx::query("UPDATE activity_contacts SET attitude = NULL WHERE contact_id = $1 AND attitude IS NOT NULL")
            .bind(id)
            .execute(tx.conn())
            .await?
            .rows_affected();
    let quoted = sqlx::query(
        "UPDATE quote_versions SET contact_name = $1, contact_title = NULL, phone = NULL WHERE contact_id = $2",
    )
    .bind(ERASED_NAME)
    .bind(id)
    .execute(tx.conn())
    .await?
    .rows_affected();
    let scrubbed = scrub_audit(&mut tx, id).await?;
    // Mentions by name in the free text of the account's records (before the name is gone:
    // `before` holds it).
    let (mentions, mention_rows) = redact_mentions(&mut tx, before.account_id, id, &before.name).await?;
    // The erasure's own row: when, and how much was blanked elsewhere — never an erased value.
    audit::record(
        &mut tx,
        ctx,
        "contact",
        &id.to_string(),
        "erase",
        None,
        Some(&json!({
            "erased_at": at,
            "activities_met": met,
            "quote_versions": quoted,
            "audit_rows_blanked": scrubbed + mention_rows,
            "free_text_mentions": mentions,
        })),
    )
    .await?;
    let after = contacts::reload(tx.conn(), id).await?;
    tx.commit().await?;
    Ok(after)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_free_text_searched_is_text_users_fill_in() {
        for (_, _, cols) in FREE_TEXT {
            assert!(!cols.is_empty());
        }
        for c in crate::app::visits::activities::FREE_TEXT {
            assert!(crate::app::visits::activities::FIELDS.contains(c), "{c} is not a field of the visit record");
        }
    }

    #[test]
    fn scrub_blanks_the_contacts_own_fields_and_copies_naming_it() {
        let mut own = json!({"name": "王志远", "phone": "139", "account_id": 3, "version": 2});
        assert!(scrub(&mut own, 7, true, None));
        assert_eq!(own, json!({"name": ERASED_NAME, "phone": null, "account_id": 3, "version": 2}));
        let mut act = json!({"summary": "x", "contacts": [
            {"contact_id": 7, "name": "王志远", "attitude": "supporter"},
            {"contact_id": 8, "name": "李雷", "attitude": "neutral"}]});
        assert!(scrub(&mut act, 7, false, None));
        assert_eq!(act["contacts"][0], json!({"contact_id": 7, "name": ERASED_NAME, "attitude": null}));
        assert_eq!(act["contacts"][1]["name"], "李雷");
        let mut other = json!({"contact_id": 70, "name": "韩梅梅"});
        assert!(!scrub(&mut other, 7, false, None));
        // Free text naming them: the name goes, the words stay.
        let mut noted = json!({"summary": "与王志远面谈", "next_steps": ["王志远", "李雷"]});
        assert!(scrub(&mut noted, 7, false, Some("王志远")));
        assert_eq!(noted, json!({"summary": "与—面谈", "next_steps": ["—", "李雷"]}));
    }
}
