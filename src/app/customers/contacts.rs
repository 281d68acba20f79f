//! Contacts: the buying committee of an account (客户采购组成员). A contact is in scope exactly
//! when its account is.
use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;
use sqlx::{FromRow, Row};

use crate::app::customers::accounts::{push_scope, push_scope_one};
use crate::app::records::input::Input;
use crate::app::{clamp_limit, records::audit, Caller, Ctx, Error, Page, Result};
use crate::db::sql::Sql;
use crate::db::{now, Db, WriteTx};
use crate::domain::account::{Attitude, DecisionRole, Gender};
use crate::domain::error::Errors;
use crate::domain::policy::{decide, Decision, Op};
use crate::domain::text;

pub const EDIT_FIELDS: &[&str] = &[
    "name",
    "gender",
    "birthday",
    "department",
    "title",
    "reports_to",
    "decision_role",
    "attitude",
    "relationship",
    "interests",
    "phone",
    "email",
    "last_contact_on",
];
const SYSTEM_FIELDS: &[&str] = &["id", "account_id", "erased_at", "created_at", "updated_at"];

/// A contact: one person of the account's buying committee (决策链).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, FromRow)]
pub struct ContactView {
    pub id: i64,
    pub account_id: i64,
    pub account_name: String,
    pub name: String,
    #[schema(value_type = Option<crate::domain::account::Gender>)]
    pub gender: Option<String>,
    #[schema(format = Date)]
    pub birthday: Option<String>,
    pub department: Option<String>,
    pub title: Option<String>,
    /// The contact (of the same account) this one reports to.
    pub reports_to: Option<i64>,
    #[schema(value_type = Option<crate::domain::account::DecisionRole>)]
    pub decision_role: Option<String>,
    #[schema(value_type = Option<crate::domain::account::Attitude>)]
    pub attitude: Option<String>,
    /// Strength of our relationship, 1 (none) to 5 (close).
    #[schema(minimum = 1, maximum = 5)]
    pub relationship: Option<i64>,
    pub interests: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    #[schema(format = Date)]
    pub last_contact_on: Option<String>,
    /// When the contact's personal data was erased at the person's request (个人信息保护法):
    /// every personal field is blank and `name` a neutral marker; pages show "erased contact".
    #[schema(format = DateTime)]
    pub erased_at: Option<String>,
    pub version: i64,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

const SELECT: &str = "SELECT c.*, a.name AS account_name FROM contacts c JOIN accounts a ON a.id = c.account_id";

#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub account_id: Option<i64>,
    pub q: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

fn base(caller: &Caller, f: &Filter, select: &str) -> Result<Sql> {
    let q = text::search(f.q.as_deref()).map_err(|c| Error::invalid("q", c))?;
    let mut s = Sql::new(select);
    s.push(" WHERE c.deleted_at IS NULL");
    // The contacts of one account (its page): the account is probed, not the caller's set.
    if f.account_id.is_some() {
        push_scope_one(&mut s, caller);
    } else {
        push_scope(&mut s, caller);
    }
    if let Some(a) = f.account_id {
        s.push(" AND c.account_id = ").bind(a);
    }
    if let Some(q) = q {
        s.push(" AND c.name_norm LIKE ").bind(text::like_pattern(q)).push(" ESCAPE '\\'");
    }
    Ok(s)
}

pub async fn list(db: &Db, caller: &Caller, f: &Filter) -> Result<Page<ContactView>> {
    let limit = clamp_limit(f.limit)?;
    let mut s = base(caller, f, SELECT)?;
    if let Some(c) = &f.cursor {
        let c: i64 = c.parse().map_err(|_| Error::invalid("cursor", "invalid_cursor"))?;
        s.push(" AND c.id > ").bind(c);
    }
    s.push(" ORDER BY c.id LIMIT ").bind(limit + 1);
    let mut items = s.query().try_map(|r| ContactView::from_row(&r)).fetch_all(db.reads()).await?;
    let more = items.len() as i64 > limit;
    items.truncate(limit as usize);
    let next_cursor = more.then(|| items.last().map(|c| c.id.to_string())).flatten();
    Ok(Page { items, next_cursor })
}

pub async fn count(db: &Db, caller: &Caller, f: &Filter) -> Result<i64> {
    let s = base(caller, f, "SELECT COUNT(*) AS n FROM contacts c JOIN accounts a ON a.id = c.account_id")?;
    Ok(s.query().fetch_one(&db.pool).await?.try_get("n")?)
}

pub async fn export(db: &Db, caller: &Caller, f: &Filter) -> Result<Vec<ContactView>> {
    let mut s = base(caller, f, SELECT)?;
    s.push(" ORDER BY c.account_id, c.id");
    Ok(s.query().try_map(|r| ContactView::from_row(&r)).fetch_all(&db.pool).await?)
}

/// All contacts of one account, for the account page and its org chart.
pub async fn of_account(
    db: &Db,
    caller: &Caller,
    account: impl Into<crate::app::customers::accounts::AccountRef>,
) -> Result<Vec<ContactView>> {
    let account_id = account.into().check(db, caller).await?;
    export(db, caller, &Filter { account_id: Some(account_id), ..Default::default() }).await
}

pub(crate) async fn fetch_scoped(conn: &mut sqlx::AnyConnection, caller: &Caller, id: i64) -> Result<ContactView> {
    let mut s = Sql::new(SELECT);
    s.push(" WHERE c.deleted_at IS NULL AND c.id = ").bind(id);
    push_scope_one(&mut s, caller);
    s.query().try_map(|r| ContactView::from_row(&r)).fetch_optional(conn).await?.ok_or(Error::NotFound)
}

pub async fn get(db: &Db, caller: &Caller, id: i64) -> Result<ContactView> {
    let mut conn = db.pool.acquire().await?;
    fetch_scoped(&mut conn, caller, id).await
}

pub async fn ensure_visible(db: &Db, caller: &Caller, id: i64) -> Result<()> {
    get(db, caller, id).await.map(|_| ())
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContactData {
    pub name: String,
    pub gender: Option<String>,
    pub birthday: Option<String>,
    pub department: Option<String>,
    pub title: Option<String>,
    pub reports_to: Option<i64>,
    pub decision_role: Option<String>,
    pub attitude: Option<String>,
    pub relationship: Option<i64>,
    pub interests: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub last_contact_on: Option<String>,
}

impl From<&ContactView> for ContactData {
    fn from(v: &ContactView) -> Self {
        ContactData {
            name: v.name.clone(),
            gender: v.gender.clone(),
            birthday: v.birthday.clone(),
            department: v.department.clone(),
            title: v.title.clone(),
            reports_to: v.reports_to,
            decision_role: v.decision_role.clone(),
            attitude: v.attitude.clone(),
            relationship: v.relationship,
            interests: v.interests.clone(),
            phone: v.phone.clone(),
            email: v.email.clone(),
            last_contact_on: v.last_contact_on.clone(),
        }
    }
}

fn parse_date(v: &str) -> Result<String, &'static str> {
    chrono::NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
        .map(|d| d.format("%Y-%m-%d").to_string())
        .map_err(|_| "date_format")
}

fn choice<T>(
    e: &mut Errors,
    inp: &Input,
    k: &str,
    parse: fn(&str) -> Result<T, &'static str>,
    code: fn(&T) -> &'static str,
    t: &mut Option<String>,
) {
    match inp.get(k) {
        None => {}
        Some(None) => *t = None,
        Some(Some(v)) => {
            if let Some(v) = e.take(k, parse(v)) {
                *t = Some(code(&v).to_string());
            }
        }
    }
}

async fn apply(
    conn: &mut sqlx::AnyConnection,
    account_id: i64,
    self_id: Option<i64>,
    d: &mut ContactData,
    inp: &Input,
) -> Result<()> {
    let mut e = Errors::default();
    if let Some(v) = inp.get("name") {
        if let Some(v) = e.take("name", text::required(v, 100)) {
            d.name = v;
        }
    }
    for (k, max, t) in [
        ("department", 100, &mut d.department),
        ("title", 100, &mut d.title),
        ("interests", 1000, &mut d.interests),
        ("phone", 50, &mut d.phone),
        ("email", 200, &mut d.email),
    ] {
        if let Some(v) = inp.get(k) {
            if let Some(v) = e.take(k, text::optional(v, max)) {
                *t = v;
            }
        }
    }
    if let Some(Some(m)) = &inp.get("email").map(|v| v.map(str::trim)) {
        if !m.is_empty() && (!m.contains('@') || m.starts_with('@') || m.ends_with('@')) {
            e.add("email", "email_format");
        }
    }
    choice(&mut e, inp, "gender", Gender::parse, |g| g.code(), &mut d.gender);
    choice(&mut e, inp, "decision_role", DecisionRole::parse, |g| g.code(), &mut d.decision_role);
    choice(&mut e, inp, "attitude", Attitude::parse, |g| g.code(), &mut d.attitude);
    for (k, t) in [("birthday", &mut d.birthday), ("last_contact_on", &mut d.last_contact_on)] {
        match inp.get(k) {
            None => {}
            Some(None) => *t = None,
            Some(Some(v)) => {
                if let Some(v) = e.take(k, parse_date(v)) {
                    *t = Some(v);
                }
            }
        }
    }
    match inp.get("relationship") {
        None => {}
        Some(None) => d.relationship = None,
        Some(Some(v)) => match v.trim().parse::<i64>() {
            Ok(n) if (1..=5).contains(&n) => d.relationship = Some(n),
            _ => e.add("relationship", "relationship_range"),
        },
    }
    match inp.get("reports_to") {
        None => {}
        Some(None) => d.reports_to = None,
        Some(Some(v)) => match v.trim().parse::<i64>() {
            Ok(boss) if Some(boss) == self_id => e.add("reports_to", "reports_to_self"),
            Ok(boss) => {
                // The manager must be a contact of the same account, and the chain must not loop.
                let mut cur = Some(boss);
                let mut ok = true;
                let mut steps = 0;
                while let Some(c) = cur {
                    let r =
                        sqlx::query("SELECT account_id, reports_to FROM contacts WHERE id = $1 AND deleted_at IS NULL")
                            .bind(c)
                            .fetch_optional(&mut *conn)
                            .await?;
                    let Some(r) = r else {
                        ok = false;
                        break;
                    };
                    if r.try_get::<i64, _>("account_id")? != account_id {
                        ok = false;
                        break;
                    }
                    cur = r.try_get("reports_to")?;
                    steps += 1;
                    if cur.is_some() && cur == self_id || steps > 100 {
                        e.add("reports_to", "reports_to_cycle");
                        break;
                    }
                }
                if ok {
                    d.reports_to = Some(boss);
                } else {
                    e.add("reports_to", "unknown_contact");
                }
            }
            Err(_) => e.add("reports_to", "expected_integer"),
        },
    }
    e.finish()
}

/// The stored columns of a contact but its account, creation and version (`name_norm` and
/// `updated_at` included), in the order every writer uses.
fn row_values(d: &ContactData, ts: &str) -> Vec<(&'static str, crate::db::sql::Val)> {
    vec![
        ("name", d.name.clone().into()),
        ("name_norm", text::normalize_name(&d.name).into()),
        ("gender", d.gender.clone().into()),
        ("birthday", d.birthday.clone().into()),
        ("department", d.department.clone().into()),
        ("title", d.title.clone().into()),
        ("reports_to", d.reports_to.into()),
        ("decision_role", d.decision_role.clone().into()),
        ("attitude", d.attitude.clone().into()),
        ("relationship", d.relationship.into()),
        ("interests", d.interests.clone().into()),
        ("phone", d.phone.clone().into()),
        ("email", d.email.clone().into()),
        ("last_contact_on", d.last_contact_on.clone().into()),
        ("updated_at", ts.to_string().into()),
    ]
}

async fn write(
    conn: &mut sqlx::AnyConnection,
    account_id: i64,
    id: Option<i64>,
    d: &ContactData,
    version: i64,
) -> Result<i64> {
    let ts = now();
    let cols = row_values(d, &ts);
    match id {
        None => {
            let mut s = Sql::new("INSERT INTO contacts (account_id, created_at, version");
            for (n, _) in &cols {
                s.push(", ").push(n);
            }
            s.push(") VALUES (").bind(account_id).push(", ").bind(ts).push(", 1");
            for (_, v) in cols {
                s.push(", ").bind(v);
            }
            s.push(") RETURNING id");
            Ok(s.query().fetch_one(&mut *conn).await?.try_get("id")?)
        }
        Some(id) => {
            let mut s = Sql::new("UPDATE contacts SET version = version + 1");
            for (n, v) in cols {
                s.push(", ").push(n).push(" = ").bind(v);
            }
            s.push(" WHERE id = ").bind(id).push(" AND version = ").bind(version);
            if s.query().execute(&mut *conn).await?.rows_affected() != 1 {
                return Err(Error::StaleVersion { current: version });
            }
            Ok(id)
        }
    }
}

pub(crate) async fn reload(conn: &mut sqlx::AnyConnection, id: i64) -> Result<ContactView> {
    let mut s = Sql::new(SELECT);
    s.push(" WHERE c.id = ").bind(id);
    Ok(s.query().try_map(|r| ContactView::from_row(&r)).fetch_one(conn).await?)
}

fn j(v: &ContactView) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// Inserts a validated contact inside the caller's transaction (used by loaders too).
pub async fn insert(tx: &mut WriteTx, ctx: &Ctx, account_id: i64, d: &ContactData) -> Result<i64> {
    crate::app::customers::accounts::hold_live(tx, account_id).await?;
    let id = write(tx.conn(), account_id, None, d, 0).await?;
    let after = reload(tx.conn(), id).await?;
    audit::record(tx, ctx, "contact", &id.to_string(), "create", None, Some(&j(&after))).await?;
    Ok(id)
}

fn check_edit(caller: &Caller) -> Result<()> {
    match decide(caller.role, true, Op::Update) {
        Decision::Allow => Ok(()),
        Decision::Forbid => Err(Error::Forbidden),
        Decision::Hidden => Err(Error::NotFound),
    }
}

fn known() -> Vec<&'static str> {
    EDIT_FIELDS.iter().chain(SYSTEM_FIELDS).copied().collect()
}

pub async fn create(db: &Db, ctx: &Ctx, account_id: i64, inp: &Input) -> Result<ContactView> {
    crate::app::customers::accounts::ensure_visible(db, &ctx.caller, account_id).await?;
    let mut tx = db.begin().await?;
    let id = create_in(&mut tx, ctx, account_id, inp).await?;
    let v = reload(tx.conn(), id).await?;
    tx.commit().await?;
    Ok(v)
}

/// Creates a contact on an account the caller has been shown to see, inside the caller's
/// transaction (the form and the API one at a time, imports row by row).
pub async fn create_in(tx: &mut WriteTx, ctx: &Ctx, account_id: i64, inp: &Input) -> Result<i64> {
    let d = prepare_new(tx.conn(), ctx, account_id, inp).await?;
    insert(tx, ctx, account_id, &d).await
}

/// Checks a new contact of the account (the form's and the API's rules) without writing it:
/// what [`create_in`] inserts, and what an import collects for [`insert_many`].
pub async fn prepare_new(
    conn: &mut sqlx::AnyConnection,
    ctx: &Ctx,
    account_id: i64,
    inp: &Input,
) -> Result<ContactData> {
    check_edit(&ctx.caller)?;
    inp.check_keys(EDIT_FIELDS, &known())?;
    inp.refuse_version()?;
    let mut d = ContactData::default();
    let missing = (!inp.has("name")).then(|| crate::domain::FieldError::new("name", "required"));
    match apply(conn, account_id, None, &mut d, inp).await {
        Ok(()) => {}
        Err(Error::Invalid(mut fs)) => {
            fs.extend(missing);
            return Err(Error::Invalid(fs));
        }
        Err(e) => return Err(e),
    }
    if let Some(m) = missing {
        return Err(Error::Invalid(vec![m]));
    }
    Ok(d)
}

/// Inserts checked contacts in bulk (imports): one multi-row statement per few thousand (by
/// `COPY` on PostgreSQL when the transaction stages copies), read back in one query, and an
/// audit row each as [`insert`] writes it. Each (account, name) is unique among `items`, and
/// the caller holds each account live ([`crate::app::customers::accounts::hold_live`]). Gives
/// the new ids in the order of `items`.
pub async fn insert_many(tx: &mut WriteTx, ctx: &Ctx, items: &[(i64, ContactData)]) -> Result<Vec<i64>> {
    use crate::db::bulk::Cell;
    if items.is_empty() {
        return Ok(vec![]);
    }
    let ts = now();
    let mut columns = vec!["account_id", "created_at", "version"];
    columns.extend(row_values(&items[0].1, &ts).iter().map(|(n, _)| *n));
    let ids = crate::db::bulk::insert_numbered(
        tx,
        "contacts",
        &columns,
        vec![ts.clone().into()],
        items.len(),
        |k| {
            let (account_id, d) = &items[k];
            let mut cells = vec![Cell::V((*account_id).into()), Cell::Shared(1), Cell::Lit("1")];
            cells.extend(row_values(d, &ts).into_iter().map(|(_, x)| Cell::V(x)));
            cells
        },
        "CAST(account_id AS TEXT) || ' ' || name_norm",
        |k| format!("{} {}", items[k].0, text::normalize_name(&items[k].1.name)),
    )
    .await?;
    let mut views: HashMap<i64, ContactView> = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(1_000) {
        let mut s = Sql::new(SELECT);
        s.push(" WHERE c.id IN (");
        for (i, id) in chunk.iter().enumerate() {
            if i > 0 {
                s.push(", ");
            }
            s.bind(*id);
        }
        s.push(")");
        for v in s.query().try_map(|r| ContactView::from_row(&r)).fetch_all(tx.conn()).await? {
            views.insert(v.id, v);
        }
    }
    let rows = ids
        .iter()
        .map(|id| {
            let v = views.get(id).ok_or(Error::NotFound)?;
            Ok((id.to_string(), j(v).to_string()))
        })
        .collect::<Result<Vec<_>>>()?;
    audit::record_many(tx, ctx, "contact", "create", rows).await?;
    Ok(ids)
}

pub async fn update(db: &Db, ctx: &Ctx, id: i64, inp: &Input) -> Result<ContactView> {
    let version = inp.version.ok_or_else(|| Error::invalid("version", "required"))?;
    let mut tx = db.begin().await?;
    let after = update_in(&mut tx, ctx, id, inp, Some(version)).await?;
    tx.commit().await?;
    Ok(after)
}

/// Changes a contact inside the caller's transaction; `version`, when given, must be current.
pub async fn update_in(tx: &mut WriteTx, ctx: &Ctx, id: i64, inp: &Input, version: Option<i64>) -> Result<ContactView> {
    let caller = &ctx.caller;
    let before = fetch_scoped(tx.conn(), caller, id).await?;
    check_edit(caller)?;
    inp.check_keys(EDIT_FIELDS, &known())?;
    if before.erased_at.is_some() {
        // Erased at the person's request: nothing of theirs is recorded again.
        return Err(Error::Conflict("contact_erased"));
    }
    let version = version.unwrap_or(before.version);
    if version != before.version {
        return Err(Error::StaleVersion { current: before.version });
    }
    let mut d = ContactData::from(&before);
    apply(tx.conn(), before.account_id, Some(id), &mut d, inp).await?;
    if d == ContactData::from(&before) {
        // Nothing to change: no new version, no audit row.
        return Ok(before);
    }
    write(tx.conn(), before.account_id, Some(id), &d, version).await?;
    let after = reload(tx.conn(), id).await?;
    audit::record(tx, ctx, "contact", &id.to_string(), "update", Some(&j(&before)), Some(&j(&after))).await?;
    Ok(after)
}

/// Each account's live contacts by normalized name (the first, where two share one), for
/// many accounts at once (imports); every account of `ids` has an entry.
pub async fn names_on_accounts(
    conn: &mut sqlx::AnyConnection,
    ids: &[i64],
) -> Result<HashMap<i64, HashMap<String, i64>>> {
    let mut out: HashMap<i64, HashMap<String, i64>> = ids.iter().map(|id| (*id, HashMap::new())).collect();
    for chunk in ids.chunks(1_000) {
        let mut s =
            Sql::new("SELECT id, account_id, name_norm FROM contacts WHERE deleted_at IS NULL AND account_id IN (");
        s.bind_list(chunk).push(") ORDER BY id");
        for r in s.query().fetch_all(&mut *conn).await? {
            let account: i64 = r.try_get("account_id")?;
            out.entry(account).or_default().entry(r.try_get("name_norm")?).or_insert(r.try_get("id")?);
        }
    }
    Ok(out)
}

/// A live contact of the account with this name (after normalization), if any.
pub async fn find_on_account(conn: &mut sqlx::AnyConnection, account_id: i64, name: &str) -> Result<Option<i64>> {
    let r = sqlx::query(
        "SELECT id FROM contacts WHERE account_id = $1 AND name_norm = $2 AND deleted_at IS NULL ORDER BY id LIMIT 1",
    )
    .bind(account_id)
    .bind(text::normalize_name(name))
    .fetch_optional(conn)
    .await?;
    Ok(match r {
        Some(r) => Some(r.try_get("id")?),
        None => None,
    })
}

pub async fn delete(db: &Db, ctx: &Ctx, id: i64, version: Option<i64>) -> Result<()> {
    let caller = &ctx.caller;
    let mut tx = db.begin().await?;
    let before = fetch_scoped(tx.conn(), caller, id).await?;
    match decide(caller.role, true, Op::Delete) {
        Decision::Allow => {}
        Decision::Forbid => return Err(Error::Forbidden),
        Decision::Hidden => return Err(Error::NotFound),
    }
    if version.is_some_and(|v| v != before.version) {
        return Err(Error::StaleVersion { current: before.version });
    }
    sqlx::query("UPDATE contacts SET deleted_at = $1, version = version + 1 WHERE id = $2")
        .bind(now())
        .bind(id)
        .execute(tx.conn())
        .await?;
    // Those who reported to the deleted contact now report to no one; each is a change of its own.
    let reports: Vec<i64> = sqlx::query("SELECT id FROM contacts WHERE reports_to = $1 AND deleted_at IS NULL")
        .bind(id)
        .fetch_all(tx.conn())
        .await?
        .iter()
        .map(|r| r.try_get::<i64, _>("id"))
        .collect::<Result<_, _>>()?;
    for r in reports {
        sqlx::query("UPDATE contacts SET reports_to = NULL, version = version + 1, updated_at = $1 WHERE id = $2")
            .bind(now())
            .bind(r)
            .execute(tx.conn())
            .await?;
        audit::record(
            &mut tx,
            ctx,
            "contact",
            &r.to_string(),
            "update",
            Some(&serde_json::json!({"reports_to": id})),
            Some(&serde_json::json!({"reports_to": null})),
        )
        .await?;
    }
    audit::record(&mut tx, ctx, "contact", &id.to_string(), "delete", Some(&j(&before)), None).await?;
    tx.commit().await?;
    Ok(())
}

/// A change of attitude or relationship strength of one contact, from the audit trail.
#[derive(Debug, Clone, Serialize)]
pub struct RelationshipChange {
    pub contact_id: i64,
    pub at: String,
    pub who: String,
    pub field: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// How the buying committee's attitudes and relationships changed since `since` (a date).
pub async fn relationship_changes(
    db: &Db,
    caller: &Caller,
    account_id: i64,
    since: &str,
) -> Result<Vec<RelationshipChange>> {
    let since = parse_date(since).map_err(|c| Error::invalid("since", c))?;
    let ids: Vec<String> = of_account(db, caller, account_id).await?.iter().map(|c| c.id.to_string()).collect();
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let mut s = Sql::new(
        "SELECT entity_id, at, actor, before_json, after_json FROM audit_log \
         WHERE entity = 'contact' AND action = 'update' AND at >= ",
    );
    s.bind(format!("{since}T00:00:00Z")).push(" AND entity_id IN (");
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            s.push(", ");
        }
        s.bind(id.as_str());
    }
    s.push(") ORDER BY id");
    let show = |v: Option<&Value>| {
        v.filter(|v| !v.is_null()).map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))
    };
    let mut out = vec![];
    for r in s.query().fetch_all(&db.pool).await? {
        let parse = |c: &str| -> Result<Value> {
            let t: Option<String> = r.try_get(c)?;
            Ok(t.and_then(|t| serde_json::from_str(&t).ok()).unwrap_or(Value::Null))
        };
        let (b, a) = (parse("before_json")?, parse("after_json")?);
        for field in ["attitude", "relationship"] {
            if b.get(field) != a.get(field) {
                out.push(RelationshipChange {
                    contact_id: r.try_get::<String, _>("entity_id")?.parse().unwrap_or(0),
                    at: r.try_get("at")?,
                    who: r.try_get("actor")?,
                    field: field.to_string(),
                    before: show(b.get(field)),
                    after: show(a.get(field)),
                });
            }
        }
    }
    Ok(out)
}
