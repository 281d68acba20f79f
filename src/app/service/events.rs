//! Service events (issue 24 item 3): technical seminars, industry exchanges, appreciation
//! events, launch invitations and others, planned and recorded with date, time, place and the
//! customer's contacts invited and attending. The account's service team is told when one is
//! planned. Once held: the service evaluation form (大客户服务评估表) written by the service
//! staff and decided through the `service_evaluation` flow (the owner's KA manager reviews,
//! the KA director approves), and the return visit due a week after — answered by the next done
//! contact with the account, the owner reminded once when it falls due. Scope: the account's.
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

use crate::app::approvals::{self, Closed, HookFuture, OutcomeHook, ScopeFuture, Subject, SubjectScope};
use crate::app::customers::accounts;
use crate::app::records::{audit, notify};
use crate::app::service::{account_facts, opinions_in, team, today_of, Opinion};
use crate::app::{Caller, Ctx, Error, Result};
use crate::db::sql::Sql;
use crate::db::{parse_ts, ts, Db, WriteTx};
use crate::domain::approval::{Flow, State as ApprovalState};
use crate::domain::error::Errors;
use crate::domain::service::{self as sv, ServiceEventKind};
use crate::domain::text;

/// The approval subject's kind of an evaluation.
pub const EVALUATION_KIND: &str = "service_evaluation";

/// An event as planned or changed.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceEventIn {
    /// The account (planning only).
    #[serde(default)]
    pub account_id: Option<i64>,
    #[serde(default)]
    #[schema(value_type = Option<ServiceEventKind>)]
    pub kind: Option<String>,
    /// The event's title (at most 200 characters).
    #[serde(default)]
    pub title: Option<String>,
    /// When it starts: RFC 3339, or a local date-time (`2026-12-01T14:30`, Asia/Shanghai).
    #[serde(default)]
    pub starts_at: Option<String>,
    #[serde(default)]
    pub place: Option<String>,
    /// The account's contacts invited.
    #[serde(default)]
    pub invited: Vec<i64>,
    /// The account's contacts who attended.
    #[serde(default)]
    pub attended: Vec<i64>,
    #[serde(default)]
    pub notes: Option<String>,
    /// The version read (changing only).
    #[serde(default)]
    pub version: Option<i64>,
}

/// Recording an event as held: who attended, notes.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceEventHeld {
    /// The account's contacts who attended.
    #[serde(default)]
    pub attended: Vec<i64>,
    #[serde(default)]
    pub notes: Option<String>,
    pub version: i64,
}

/// The evaluation form as written.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceEvaluationIn {
    /// What was done (required).
    #[serde(default)]
    pub done: Option<String>,
    /// The customer's reaction.
    #[serde(default)]
    pub reaction: Option<String>,
    /// The problems raised, one line each (blank lines dropped).
    #[serde(default)]
    pub problems: Vec<String>,
    /// 1–5.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 5)]
    pub score: Option<i64>,
    #[serde(default)]
    pub suggestions: Option<String>,
    /// The evaluation's version read (0 when writing the first).
    #[serde(default)]
    pub version: i64,
    /// Submit for review at once.
    #[serde(default)]
    pub submit: bool,
}

/// A contact of the event.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventContact {
    pub id: i64,
    pub name: String,
    pub title: Option<String>,
}

/// The evaluation of a held event.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ServiceEvaluationView {
    pub id: i64,
    pub done: String,
    pub reaction: Option<String>,
    pub problems: Vec<String>,
    pub score: i64,
    pub suggestions: Option<String>,
    /// `draft`, `submitted`, `approved`, `returned`, `rejected`.
    pub state: String,
    pub approval_id: Option<i64>,
    pub written_by_name: String,
    #[schema(format = DateTime)]
    pub written_at: String,
    pub version: i64,
    pub opinions: Vec<Opinion>,
}

/// A service event, whole.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ServiceEventView {
    pub id: i64,
    pub account_id: i64,
    pub account_name: String,
    pub kind: ServiceEventKind,
    pub title: String,
    #[schema(format = DateTime)]
    pub starts_at: String,
    pub place: Option<String>,
    pub invited: Vec<EventContact>,
    pub attended: Vec<EventContact>,
    pub notes: Option<String>,
    /// `planned`, `held`, `cancelled`.
    pub state: String,
    #[schema(format = DateTime)]
    pub held_at: Option<String>,
    /// Held: the day the return visit is due.
    #[schema(format = Date)]
    pub return_due_on: Option<String>,
    /// Held: `due`, `answered` or `overdue`.
    pub return_state: Option<String>,
    /// The activity that answered the return visit.
    pub return_activity_id: Option<i64>,
    pub version: i64,
    pub evaluation: Option<ServiceEvaluationView>,
    /// Whether the caller may change it (plan, record as held, cancel).
    pub may_edit: bool,
    /// Whether the caller may write its evaluation now (held; service staff).
    pub may_evaluate: bool,
}

/// Which events to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub account_id: Option<i64>,
    pub state: Option<String>,
    pub kind: Option<String>,
    /// `due`, `answered` or `overdue`.
    pub return_state: Option<String>,
}

/// The first done contact with the account after the event (the return visit's answer).
const ANSWER: &str = "(SELECT l.id FROM activities l WHERE l.account_id = e.account_id AND l.status = 'done' \
     AND l.deleted_at IS NULL AND l.occurred_at > e.starts_at ORDER BY l.occurred_at, l.id LIMIT 1)";

fn columns() -> String {
    format!(
        "e.id, e.account_id, a.name AS account_name, e.kind, e.title, e.starts_at, e.place, e.invited, e.attended, \
         e.notes, e.state, e.held_at, e.return_due_on, e.version, {ANSWER} AS answered_by"
    )
}

const FROM: &str = "FROM service_events e JOIN accounts a ON a.id = e.account_id";

fn ids(s: &str) -> Vec<i64> {
    serde_json::from_str(s).unwrap_or_default()
}

async fn contacts_of(conn: &mut sqlx::AnyConnection, list: &[i64]) -> Result<Vec<EventContact>> {
    let mut out = vec![];
    for id in list {
        if let Some(r) = sqlx::query("SELECT id, name, title FROM contacts WHERE id = $1")
            .bind(*id)
            .fetch_optional(&mut *conn)
            .await?
        {
            out.push(EventContact { id: r.try_get("id")?, name: r.try_get("name")?, title: r.try_get("title")? });
        }
    }
    Ok(out)
}

async fn view_of(
    conn: &mut sqlx::AnyConnection,
    caller: &Caller,
    r: &sqlx::any::AnyRow,
    today: &str,
    whole: bool,
) -> Result<ServiceEventView> {
    let state: String = r.try_get("state")?;
    let due: Option<String> = r.try_get("return_due_on")?;
    let answered: Option<i64> = r.try_get("answered_by")?;
    let account_id: i64 = r.try_get("account_id")?;
    let (invited, attended) = if whole {
        (
            contacts_of(conn, &ids(&r.try_get::<String, _>("invited")?)).await?,
            contacts_of(conn, &ids(&r.try_get::<String, _>("attended")?)).await?,
        )
    } else {
        (vec![], vec![])
    };
    let id: i64 = r.try_get("id")?;
    let evaluation = if whole { evaluation_in(conn, id).await? } else { None };
    let serves = team::is_member_in(conn, account_id, caller.user_id).await?;
    let may_edit = caller.role.edits_accounts() || serves;
    Ok(ServiceEventView {
        id,
        account_id,
        account_name: r.try_get("account_name")?,
        kind: ServiceEventKind::parse(&r.try_get::<String, _>("kind")?).unwrap_or(ServiceEventKind::Other),
        title: r.try_get("title")?,
        starts_at: r.try_get("starts_at")?,
        place: r.try_get("place")?,
        invited,
        attended,
        notes: r.try_get("notes")?,
        return_state: due
            .as_deref()
            .filter(|_| state == "held")
            .map(|d| sv::return_state(d, answered.is_some(), today).to_string()),
        return_activity_id: answered.filter(|_| state == "held"),
        may_evaluate: state == "held"
            && may_edit
            && evaluation.as_ref().is_none_or(|e| matches!(e.state.as_str(), "draft" | "returned")),
        state,
        held_at: r.try_get("held_at")?,
        return_due_on: due,
        version: r.try_get("version")?,
        evaluation,
        may_edit,
    })
}

async fn evaluation_in(conn: &mut sqlx::AnyConnection, event_id: i64) -> Result<Option<ServiceEvaluationView>> {
    let r = sqlx::query(
        "SELECT v.id, v.done, v.reaction, v.problems, v.score, v.suggestions, v.state, v.approval_id, v.written_at, \
         v.version, COALESCE(u.display_name, v.written_by) AS who FROM service_evaluations v \
         LEFT JOIN users u ON u.username = v.written_by WHERE v.event_id = $1",
    )
    .bind(event_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(r) = r else { return Ok(None) };
    let approval_id: Option<i64> = r.try_get("approval_id")?;
    Ok(Some(ServiceEvaluationView {
        id: r.try_get("id")?,
        done: r.try_get("done")?,
        reaction: r.try_get("reaction")?,
        problems: serde_json::from_str(&r.try_get::<String, _>("problems")?).unwrap_or_default(),
        score: r.try_get("score")?,
        suggestions: r.try_get("suggestions")?,
        state: r.try_get("state")?,
        approval_id,
        written_by_name: r.try_get("who")?,
        written_at: r.try_get("written_at")?,
        version: r.try_get("version")?,
        opinions: opinions_in(conn, approval_id).await?,
    }))
}

/// One event, whole (scope: its account's).
pub async fn get_in(conn: &mut sqlx::AnyConnection, caller: &Caller, id: i64) -> Result<ServiceEventView> {
    let r = sqlx::query(&format!("SELECT {} {FROM} WHERE e.id = $1", columns()))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(Error::NotFound)?;
    let account_id: i64 = r.try_get("account_id")?;
    match accounts::ensure_visible_in(conn, caller, account_id).await {
        // The account's service staff see its events (and write their evaluations).
        Err(Error::NotFound) if team::is_member_in(conn, account_id, caller.user_id).await? => {}
        other => other?,
    }
    view_of(conn, caller, &r, &today_of(crate::app::clock::now()), true).await
}

pub async fn get(db: &Db, caller: &Caller, id: i64) -> Result<ServiceEventView> {
    let mut conn = db.pool.acquire().await?;
    get_in(&mut conn, caller, id).await
}

/// The events of accounts the caller sees, latest first (at most 200).
pub async fn list(db: &Db, caller: &Caller, f: &Filter) -> Result<Vec<ServiceEventView>> {
    let today = today_of(crate::app::clock::now());
    let mut s = Sql::new(&format!("SELECT {} {FROM} WHERE 1 = 1", columns()));
    if let Some(a) = f.account_id {
        s.push(" AND e.account_id = ").bind(a);
    }
    if let Some(st) = f.state.as_deref().filter(|s| !s.is_empty()) {
        if !["planned", "held", "cancelled"].contains(&st) {
            return Err(Error::invalid("state", "invalid_choice"));
        }
        s.push(" AND e.state = ").bind(st.to_string());
    }
    if let Some(k) = f.kind.as_deref().filter(|s| !s.is_empty()) {
        let k = ServiceEventKind::parse(k).map_err(|c| Error::invalid("kind", c))?;
        s.push(" AND e.kind = ").bind(k.code().to_string());
    }
    let rs = f.return_state.as_deref().filter(|s| !s.is_empty());
    match rs {
        None => {}
        Some("answered") => {
            s.push(&format!(" AND e.state = 'held' AND {ANSWER} IS NOT NULL"));
        }
        Some("due") => {
            s.push(&format!(" AND e.state = 'held' AND {ANSWER} IS NULL AND e.return_due_on >= ")).bind(today.clone());
        }
        Some("overdue") => {
            s.push(&format!(" AND e.state = 'held' AND {ANSWER} IS NULL AND e.return_due_on < ")).bind(today.clone());
        }
        Some(_) => return Err(Error::invalid("return_state", "invalid_choice")),
    }
    accounts::push_scope(&mut s, caller);
    s.push(" ORDER BY e.starts_at DESC, e.id DESC LIMIT 200");
    let rows = s.query().fetch_all(&db.pool).await?;
    let mut conn = db.pool.acquire().await?;
    let mut out = vec![];
    for r in &rows {
        out.push(view_of(&mut conn, caller, r, &today, false).await?);
    }
    Ok(out)
}

/// An instant given as RFC 3339, or as a local date-time in the company's zone.
fn parse_instant(v: &str) -> std::result::Result<DateTime<Utc>, &'static str> {
    let v = v.trim();
    if let Some(t) = parse_ts(v) {
        return Ok(t);
    }
    for f in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(v, f) {
            return n
                .and_local_timezone(chrono_tz::Asia::Shanghai)
                .earliest()
                .map(|t| t.with_timezone(&Utc))
                .ok_or("time_format");
        }
    }
    Err("time_format")
}

/// Checks that every id is a contact of the account (`field[i]` not_of_account).
async fn check_contacts(
    conn: &mut sqlx::AnyConnection,
    e: &mut Errors,
    field: &str,
    account_id: i64,
    list: &[i64],
) -> Result<Vec<i64>> {
    if list.len() > sv::ROWS_MAX {
        e.add(field, "too_many_rows");
    }
    let mut out = vec![];
    for (i, c) in list.iter().enumerate() {
        let found = sqlx::query("SELECT id FROM contacts WHERE id = $1 AND account_id = $2 AND deleted_at IS NULL")
            .bind(*c)
            .bind(account_id)
            .fetch_optional(&mut *conn)
            .await?;
        if found.is_none() {
            e.add(&format!("{field}[{i}]"), "contact_not_of_account");
        } else if !out.contains(c) {
            out.push(*c);
        }
    }
    Ok(out)
}

struct Checked {
    kind: ServiceEventKind,
    title: String,
    starts_at: DateTime<Utc>,
    place: Option<String>,
    invited: Vec<i64>,
    attended: Vec<i64>,
    notes: Option<String>,
}

async fn check_event(conn: &mut sqlx::AnyConnection, account_id: i64, inp: &ServiceEventIn) -> Result<Checked> {
    let mut e = Errors::default();
    let kind = match inp.kind.as_deref() {
        None => {
            e.add("kind", "required");
            None
        }
        Some(k) => e.take("kind", ServiceEventKind::parse(k)),
    };
    let title = e.take("title", text::required(inp.title.as_deref(), sv::LINE_MAX));
    let starts_at = match inp.starts_at.as_deref().filter(|s| !s.trim().is_empty()) {
        None => {
            e.add("starts_at", "required");
            None
        }
        Some(v) => e.take("starts_at", parse_instant(v)),
    };
    let place = e.take("place", text::optional(inp.place.as_deref(), sv::LINE_MAX)).flatten();
    let notes = e.take("notes", text::optional(inp.notes.as_deref(), sv::TEXT_MAX)).flatten();
    let invited = check_contacts(conn, &mut e, "invited", account_id, &inp.invited).await?;
    let attended = check_contacts(conn, &mut e, "attended", account_id, &inp.attended).await?;
    e.finish()?;
    Ok(Checked {
        kind: kind.unwrap_or(ServiceEventKind::Other),
        title: title.unwrap_or_default(),
        starts_at: starts_at.unwrap_or_default(),
        place,
        invited,
        attended,
        notes,
    })
}

fn json_ids(v: &[i64]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

/// Plans an event of an account the caller sees (those who edit accounts, or the account's
/// service team); the team is told. Any fault is 422 naming its field, nothing saved.
pub async fn create(db: &Db, ctx: &Ctx, inp: &ServiceEventIn, now: DateTime<Utc>) -> Result<ServiceEventView> {
    let caller = &ctx.caller;
    let Some(account_id) = inp.account_id else { return Err(Error::invalid("account_id", "required")) };
    let mut tx = db.begin().await?;
    accounts::ensure_visible_in(tx.conn(), caller, account_id).await?;
    if !caller.role.edits_accounts() && !team::is_member_in(tx.conn(), account_id, caller.user_id).await? {
        return Err(Error::Forbidden);
    }
    let c = check_event(tx.conn(), account_id, inp).await?;
    let at = ts(now);
    let id: i64 = sqlx::query(
        "INSERT INTO service_events (account_id, kind, title, starts_at, place, invited, attended, notes, state, version, \
         created_by, created_at, updated_by, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'planned', 1, $9, $10, $9, $10) RETURNING id",
    )
    .bind(account_id)
    .bind(c.kind.code())
    .bind(c.title.clone())
    .bind(ts(c.starts_at))
    .bind(c.place.clone())
    .bind(json_ids(&c.invited))
    .bind(json_ids(&c.attended))
    .bind(c.notes.clone())
    .bind(caller.username.as_str())
    .bind(at.as_str())
    .fetch_one(tx.conn())
    .await?
    .try_get("id")?;
    audit::record(
        &mut tx,
        ctx,
        "service_event",
        &id.to_string(),
        "create",
        None,
        Some(&json!({"account_id": account_id, "kind": c.kind, "title": c.title, "starts_at": ts(c.starts_at)})),
    )
    .await?;
    let (_, _, _, account_name) = account_facts(tx.conn(), account_id).await?;
    let to: Vec<i64> =
        team::member_ids_in(tx.conn(), account_id).await?.into_iter().filter(|u| *u != caller.user_id).collect();
    let (title, when) = (c.title.clone(), crate::domain::activity::local_day(c.starts_at, chrono_tz::Asia::Shanghai));
    notify::send(&mut tx, &to, "service_event_planned", None, |loc| {
        (
            rust_i18n::t!("service.notify.event_title", locale = loc, account = account_name, title = title)
                .into_owned(),
            rust_i18n::t!("service.notify.event_body", locale = loc, account = account_name, title = title, day = when)
                .into_owned(),
        )
    })
    .await?;
    let v = get_in(tx.conn(), caller, id).await?;
    tx.commit().await?;
    Ok(v)
}

async fn editable(tx: &mut WriteTx, caller: &Caller, id: i64) -> Result<ServiceEventView> {
    let cur = get_in(tx.conn(), caller, id).await?;
    if !cur.may_edit {
        return Err(Error::Forbidden);
    }
    Ok(cur)
}

/// Changes a planned or held event over the version read.
pub async fn update(db: &Db, ctx: &Ctx, id: i64, inp: &ServiceEventIn, now: DateTime<Utc>) -> Result<ServiceEventView> {
    let caller = &ctx.caller;
    let mut tx = db.begin().await?;
    let cur = editable(&mut tx, caller, id).await?;
    if cur.state == "cancelled" {
        return Err(Error::Conflict("service_event_cancelled"));
    }
    let c = check_event(tx.conn(), cur.account_id, inp).await?;
    let Some(version) = inp.version else { return Err(Error::invalid("version", "required")) };
    let return_due = (cur.state == "held").then(|| {
        sv::return_due(crate::domain::activity::local_day(c.starts_at, chrono_tz::Asia::Shanghai)).to_string()
    });
    let n = sqlx::query(
        "UPDATE service_events SET kind = $1, title = $2, starts_at = $3, place = $4, invited = $5, attended = $6, \
         notes = $7, return_due_on = COALESCE($8, return_due_on), version = version + 1, updated_by = $9, updated_at = $10 \
         WHERE id = $11 AND version = $12",
    )
    .bind(c.kind.code())
    .bind(c.title.clone())
    .bind(ts(c.starts_at))
    .bind(c.place.clone())
    .bind(json_ids(&c.invited))
    .bind(json_ids(&c.attended))
    .bind(c.notes.clone())
    .bind(return_due)
    .bind(caller.username.as_str())
    .bind(ts(now))
    .bind(id)
    .bind(version)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if n != 1 {
        return Err(Error::StaleVersion { current: cur.version });
    }
    audit::record(
        &mut tx,
        ctx,
        "service_event",
        &id.to_string(),
        "update",
        Some(&json!({"kind": cur.kind, "title": cur.title, "starts_at": cur.starts_at})),
        Some(&json!({"kind": c.kind, "title": c.title, "starts_at": ts(c.starts_at)})),
    )
    .await?;
    let v = get_in(tx.conn(), caller, id).await?;
    tx.commit().await?;
    Ok(v)
}

/// Records a planned event as held (it must have begun: 422 `starts_at` held_in_future): who
/// attended; the return visit falls due a week after the event's day.
pub async fn record_held(
    db: &Db,
    ctx: &Ctx,
    id: i64,
    inp: &ServiceEventHeld,
    now: DateTime<Utc>,
) -> Result<ServiceEventView> {
    let caller = &ctx.caller;
    let mut tx = db.begin().await?;
    let cur = editable(&mut tx, caller, id).await?;
    if cur.state != "planned" {
        return Err(Error::Conflict("service_event_not_planned"));
    }
    let mut e = Errors::default();
    let starts = parse_ts(&cur.starts_at).unwrap_or(now);
    if starts > now {
        e.add("starts_at", "held_in_future");
    }
    let attended = check_contacts(tx.conn(), &mut e, "attended", cur.account_id, &inp.attended).await?;
    let notes = e.take("notes", text::optional(inp.notes.as_deref(), sv::TEXT_MAX)).flatten();
    e.finish()?;
    let due = sv::return_due(crate::domain::activity::local_day(starts, chrono_tz::Asia::Shanghai)).to_string();
    let n = sqlx::query(
        "UPDATE service_events SET state = 'held', attended = $1, notes = COALESCE($2, notes), held_at = $3, \
         return_due_on = $4, version = version + 1, updated_by = $5, updated_at = $3 WHERE id = $6 AND version = $7 \
         AND state = 'planned'",
    )
    .bind(json_ids(&attended))
    .bind(notes)
    .bind(ts(now))
    .bind(due.as_str())
    .bind(caller.username.as_str())
    .bind(id)
    .bind(inp.version)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if n != 1 {
        return Err(Error::StaleVersion { current: cur.version });
    }
    audit::record(
        &mut tx,
        ctx,
        "service_event",
        &id.to_string(),
        "held",
        Some(&json!({"state": "planned"})),
        Some(&json!({"state": "held", "attended": attended, "return_due_on": due})),
    )
    .await?;
    let v = get_in(tx.conn(), caller, id).await?;
    tx.commit().await?;
    Ok(v)
}

/// Cancels a planned event.
pub async fn cancel(db: &Db, ctx: &Ctx, id: i64, version: i64, now: DateTime<Utc>) -> Result<ServiceEventView> {
    let caller = &ctx.caller;
    let mut tx = db.begin().await?;
    let cur = editable(&mut tx, caller, id).await?;
    if cur.state != "planned" {
        return Err(Error::Conflict("service_event_not_planned"));
    }
    let n = sqlx::query(
        "UPDATE service_events SET state = 'cancelled', version = version + 1, updated_by = $1, updated_at = $2 \
         WHERE id = $3 AND version = $4",
    )
    .bind(caller.username.as_str())
    .bind(ts(now))
    .bind(id)
    .bind(version)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if n != 1 {
        return Err(Error::StaleVersion { current: cur.version });
    }
    audit::record(&mut tx, ctx, "service_event", &id.to_string(), "cancel", None, Some(&json!({"state": "cancelled"})))
        .await?;
    let v = get_in(tx.conn(), caller, id).await?;
    tx.commit().await?;
    Ok(v)
}

/// Writes (or rewrites, while a draft or returned) the evaluation of a held event — the
/// account's service staff or those who edit accounts — submitted for review at once when
/// asked: a `service_evaluation` request, the owner's KA manager then the KA director.
pub async fn evaluate(
    db: &Db,
    ctx: &Ctx,
    event_id: i64,
    inp: &ServiceEvaluationIn,
    now: DateTime<Utc>,
) -> Result<ServiceEventView> {
    let caller = &ctx.caller;
    let mut tx = db.begin().await?;
    let cur = editable(&mut tx, caller, event_id).await?;
    if cur.state != "held" {
        return Err(Error::Conflict("service_event_not_held"));
    }
    if !cur.may_evaluate {
        return Err(Error::Conflict("evaluation_not_editable"));
    }
    let f = sv::check_evaluation(
        inp.done.as_deref(),
        inp.reaction.as_deref(),
        &inp.problems,
        inp.score,
        inp.suggestions.as_deref(),
    )
    .map_err(|e| Error::Invalid(e.0))?;
    let problems = serde_json::to_string(&f.problems).map_err(anyhow::Error::from)?;
    let at = ts(now);
    let eval_id: i64 = match &cur.evaluation {
        None => {
            if inp.version != 0 {
                return Err(Error::StaleVersion { current: 0 });
            }
            sqlx::query(
                "INSERT INTO service_evaluations (event_id, done, reaction, problems, score, suggestions, state, \
                 written_by, written_at, version) VALUES ($1, $2, $3, $4, $5, $6, 'draft', $7, $8, 1) RETURNING id",
            )
            .bind(event_id)
            .bind(f.done.clone())
            .bind(f.reaction.clone())
            .bind(problems.as_str())
            .bind(f.score)
            .bind(f.suggestions.clone())
            .bind(caller.username.as_str())
            .bind(at.as_str())
            .fetch_one(tx.conn())
            .await?
            .try_get("id")?
        }
        Some(ev) => {
            let n = sqlx::query(
                "UPDATE service_evaluations SET done = $1, reaction = $2, problems = $3, score = $4, suggestions = $5, \
                 written_by = $6, written_at = $7, version = version + 1 WHERE id = $8 AND version = $9",
            )
            .bind(f.done.clone())
            .bind(f.reaction.clone())
            .bind(problems.as_str())
            .bind(f.score)
            .bind(f.suggestions.clone())
            .bind(caller.username.as_str())
            .bind(at.as_str())
            .bind(ev.id)
            .bind(inp.version)
            .execute(tx.conn())
            .await?
            .rows_affected();
            if n != 1 {
                return Err(Error::StaleVersion { current: ev.version });
            }
            ev.id
        }
    };
    audit::record(
        &mut tx,
        ctx,
        "service_evaluation",
        &eval_id.to_string(),
        if cur.evaluation.is_none() { "create" } else { "update" },
        None,
        Some(&json!({"event_id": event_id, "score": f.score, "problems": f.problems})),
    )
    .await?;
    if inp.submit {
        let (region_id, branch_id, owner_id, account_name) = account_facts(tx.conn(), cur.account_id).await?;
        let subject = Subject {
            kind: EVALUATION_KIND,
            id: eval_id,
            label: format!("{account_name} · {} 服务评估", cur.title),
            region_id,
            branch_id,
            owner_id,
            figure: None,
            class: None,
        };
        let aid = approvals::start(
            &mut tx,
            ctx,
            Flow::ServiceEvaluation,
            &subject,
            &json!({"score": f.score}),
            &json!({"event_id": event_id}),
            now,
        )
        .await?;
        sqlx::query(
            "UPDATE service_evaluations SET state = 'submitted', approval_id = $1, version = version + 1 WHERE id = $2",
        )
        .bind(aid)
        .bind(eval_id)
        .execute(tx.conn())
        .await?;
        audit::record(
            &mut tx,
            ctx,
            "service_evaluation",
            &eval_id.to_string(),
            "submit",
            None,
            Some(&json!({"state": "submitted", "approval_id": aid})),
        )
        .await?;
    }
    let v = get_in(tx.conn(), caller, event_id).await?;
    tx.commit().await?;
    Ok(v)
}

/// The event whose evaluation a `service_evaluation` approval asks about.
pub async fn for_approval(db: &Db, caller: &Caller, approval_id: i64) -> Result<ServiceEventView> {
    let mut conn = db.pool.acquire().await?;
    let r = sqlx::query("SELECT event_id FROM service_evaluations WHERE approval_id = $1")
        .bind(approval_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(Error::NotFound)?;
    get_in(&mut conn, caller, r.try_get("event_id")?).await
}

fn on_evaluation_closed<'a>(tx: &'a mut WriteTx, ctx: &'a Ctx, c: Closed<'a>) -> HookFuture<'a> {
    Box::pin(async move {
        let state = match c.state {
            ApprovalState::Approved => "approved",
            ApprovalState::Returned => "returned",
            ApprovalState::Rejected => "rejected",
            _ => "draft",
        };
        let n = sqlx::query(
            "UPDATE service_evaluations SET state = $1, version = version + 1 WHERE id = $2 AND approval_id = $3",
        )
        .bind(state)
        .bind(c.subject_id)
        .bind(c.approval_id)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if n == 0 {
            return Ok(());
        }
        audit::record(
            tx,
            ctx,
            "service_evaluation",
            &c.subject_id.to_string(),
            "decide",
            None,
            Some(&json!({"state": state, "approval_id": c.approval_id})),
        )
        .await?;
        // Approved, every problem the evaluation raised becomes an open point of the account,
        // led by its KA manager (seed 002 §六: each problem on the OPL).
        if state == "approved" {
            let r = sqlx::query(
                "SELECT v.problems, e.account_id, e.title FROM service_evaluations v \
                 JOIN service_events e ON e.id = v.event_id WHERE v.id = $1",
            )
            .bind(c.subject_id)
            .fetch_one(tx.conn())
            .await?;
            let problems: Vec<String> = serde_json::from_str(&r.try_get::<String, _>("problems")?).unwrap_or_default();
            let (account_id, title): (i64, String) = (r.try_get("account_id")?, r.try_get("title")?);
            for p in problems.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
                let item = crate::app::voice::opl::OplNew {
                    account_id,
                    source: "service_evaluation",
                    source_id: Some(c.subject_id),
                    title: p.chars().take(200).collect(),
                    detail: Some(title.clone()),
                    due_on: None,
                };
                crate::app::voice::opl::raise_in(tx, ctx, &item).await?;
            }
        }
        Ok(())
    })
}

inventory::submit! { OutcomeHook { flow: Flow::ServiceEvaluation, run: on_evaluation_closed } }

/// An evaluation's approval is seen by whoever sees the event's account.
fn sees_evaluation<'a>(conn: &'a mut sqlx::AnyConnection, caller: &'a Caller, id: i64) -> ScopeFuture<'a> {
    Box::pin(async move {
        let r = sqlx::query("SELECT event_id FROM service_evaluations WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
        let Some(r) = r else { return Ok(false) };
        approvals::seen(get_in(conn, caller, r.try_get("event_id")?).await)
    })
}

inventory::submit! { SubjectScope { kind: EVALUATION_KIND, sees: sees_evaluation } }

/// The scheduler's pass: each held event's return visit that fell due (or is overdue) without a
/// later contact with the account reminds the account's owner, once. Answers how many.
pub async fn remind_return_visits(db: &Db, now: DateTime<Utc>) -> Result<usize> {
    let today = today_of(now);
    let rows = sqlx::query(&format!(
        "SELECT e.id, e.title, e.return_due_on, a.owner_id, a.name FROM service_events e \
         JOIN accounts a ON a.id = e.account_id WHERE e.state = 'held' AND e.return_reminded_at IS NULL \
         AND e.return_due_on <= $1 AND a.deleted_at IS NULL AND {ANSWER} IS NULL ORDER BY e.id"
    ))
    .bind(today.as_str())
    .fetch_all(&db.pool)
    .await?;
    let mut told = 0;
    for r in rows {
        let id: i64 = r.try_get("id")?;
        let mut tx = db.begin().await?;
        let n = sqlx::query(
            "UPDATE service_events SET return_reminded_at = $1 WHERE id = $2 AND return_reminded_at IS NULL",
        )
        .bind(ts(now))
        .bind(id)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if n == 1 {
            if let Some(owner) = r.try_get::<Option<i64>, _>("owner_id")? {
                let (account, title, due): (String, String, String) =
                    (r.try_get("name")?, r.try_get("title")?, r.try_get("return_due_on")?);
                notify::send(&mut tx, &[owner], "service_return_visit", None, |loc| {
                    (
                        rust_i18n::t!("service.notify.return_title", locale = loc, account = account).into_owned(),
                        rust_i18n::t!("service.notify.return_body", locale = loc, title = title, due = due)
                            .into_owned(),
                    )
                })
                .await?;
                told += 1;
            }
        }
        tx.commit().await?;
    }
    Ok(told)
}
