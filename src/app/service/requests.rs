//! Service and support requests (大客户服务与支持申请表; issue 24 item 2): the content of the
//! support, the customer's deeper needs, changes in needs, organisation and people, the
//! services asked, applicant and date. Submitting starts a `service_request` request: the
//! owner's KA manager reviews, the KA director approves, and the marketing director too when
//! special payment terms are asked (the request's class `special_terms`). Each decider's
//! opinion is the step's comment. Scope: the account's.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

use crate::app::approvals::{self, Closed, HookFuture, OutcomeHook, ScopeFuture, Subject, SubjectScope};
use crate::app::customers::accounts;
use crate::app::records::{audit, notify};
use crate::app::service::{account_facts, opinions_in, today_of, Opinion};
use crate::app::{Caller, Ctx, Error, Result};
use crate::db::sql::Sql;
use crate::db::{ts, Db, WriteTx};
use crate::domain::approval::{Flow, State as ApprovalState};
use crate::domain::service::{self as sv, ServiceKind};

/// The approval subject's kind.
pub const KIND: &str = "service_request";

/// A request's form as written (create or save).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceRequestIn {
    /// The account (creating only; a key account the caller sees).
    #[serde(default)]
    pub account_id: Option<i64>,
    /// The content of the support required (required; at most 4000 characters).
    #[serde(default)]
    pub content: Option<String>,
    /// The customer's deeper needs.
    #[serde(default)]
    pub deeper_needs: Option<String>,
    /// Changes in the customer's needs.
    #[serde(default)]
    pub needs_changes: Option<String>,
    /// Organisation and people (the customer's and ours).
    #[serde(default)]
    pub organisation: Option<String>,
    /// The services asked, at least one.
    #[serde(default)]
    #[schema(value_type = Vec<ServiceKind>)]
    pub services: Vec<String>,
    /// The version read (saving only; 409 when saved since).
    #[serde(default)]
    pub version: Option<i64>,
    /// Submit for approval at once.
    #[serde(default)]
    pub submit: bool,
}

/// A service and support request, whole.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ServiceRequestView {
    pub id: i64,
    pub account_id: i64,
    pub account_name: String,
    pub applicant: String,
    pub applicant_name: String,
    #[schema(format = Date)]
    pub applied_on: String,
    pub content: String,
    pub deeper_needs: Option<String>,
    pub needs_changes: Option<String>,
    pub organisation: Option<String>,
    pub services: Vec<ServiceKind>,
    /// Special payment terms asked (the marketing director decides too).
    pub special_terms: bool,
    /// `draft`, `submitted`, `approved`, `returned`, `rejected`.
    pub state: String,
    /// Its latest `service_request` request.
    pub approval_id: Option<i64>,
    #[schema(format = DateTime)]
    pub submitted_at: Option<String>,
    pub version: i64,
    /// The deciders' opinions, step by step.
    pub opinions: Vec<Opinion>,
    /// Whether the caller may change and submit it now.
    pub may_edit: bool,
}

/// Which requests to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub account_id: Option<i64>,
    pub state: Option<String>,
}

const STATES: [&str; 5] = ["draft", "submitted", "approved", "returned", "rejected"];

const COLUMNS: &str = "r.id, r.account_id, a.name AS account_name, u.username AS applicant, \
     COALESCE(u.display_name, u.username) AS applicant_name, r.applied_on, r.content, r.deeper_needs, r.needs_changes, \
     r.organisation, r.services, r.state, r.approval_id, r.submitted_at, r.version";

const FROM: &str =
    "FROM service_requests r JOIN accounts a ON a.id = r.account_id JOIN users u ON u.id = r.applicant_id";

fn view_of(r: &sqlx::any::AnyRow) -> Result<ServiceRequestView> {
    let services: Vec<String> = serde_json::from_str(&r.try_get::<String, _>("services")?).unwrap_or_default();
    let services: Vec<ServiceKind> = services.iter().filter_map(|s| ServiceKind::parse(s).ok()).collect();
    Ok(ServiceRequestView {
        id: r.try_get("id")?,
        account_id: r.try_get("account_id")?,
        account_name: r.try_get("account_name")?,
        applicant: r.try_get("applicant")?,
        applicant_name: r.try_get("applicant_name")?,
        applied_on: r.try_get("applied_on")?,
        content: r.try_get("content")?,
        deeper_needs: r.try_get("deeper_needs")?,
        needs_changes: r.try_get("needs_changes")?,
        organisation: r.try_get("organisation")?,
        special_terms: services.contains(&ServiceKind::SpecialPaymentTerms),
        services,
        state: r.try_get("state")?,
        approval_id: r.try_get("approval_id")?,
        submitted_at: r.try_get("submitted_at")?,
        version: r.try_get("version")?,
        opinions: vec![],
        may_edit: false,
    })
}

fn may_edit(caller: &Caller, v: &ServiceRequestView) -> bool {
    matches!(v.state.as_str(), "draft" | "returned") && caller.role.edits_accounts()
}

/// One request (scope: its account's; out of scope is not found).
pub async fn get_in(conn: &mut sqlx::AnyConnection, caller: &Caller, id: i64) -> Result<ServiceRequestView> {
    let r = sqlx::query(&format!("SELECT {COLUMNS} {FROM} WHERE r.id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(Error::NotFound)?;
    let mut v = view_of(&r)?;
    accounts::ensure_visible_in(conn, caller, v.account_id).await?;
    v.opinions = opinions_in(conn, v.approval_id).await?;
    v.may_edit = may_edit(caller, &v);
    Ok(v)
}

pub async fn get(db: &Db, caller: &Caller, id: i64) -> Result<ServiceRequestView> {
    let mut conn = db.pool.acquire().await?;
    get_in(&mut conn, caller, id).await
}

/// The requests of accounts the caller sees, newest first (at most 200).
pub async fn list(db: &Db, caller: &Caller, f: &Filter) -> Result<Vec<ServiceRequestView>> {
    let mut s = Sql::new(&format!("SELECT {COLUMNS} {FROM} WHERE 1 = 1"));
    if let Some(a) = f.account_id {
        s.push(" AND r.account_id = ").bind(a);
    }
    if let Some(st) = f.state.as_deref().filter(|s| !s.is_empty()) {
        if !STATES.contains(&st) {
            return Err(Error::invalid("state", "invalid_choice"));
        }
        s.push(" AND r.state = ").bind(st.to_string());
    }
    accounts::push_scope(&mut s, caller);
    s.push(" ORDER BY r.id DESC LIMIT 200");
    let mut out = vec![];
    for r in s.query().fetch_all(&db.pool).await? {
        let mut v = view_of(&r)?;
        v.may_edit = may_edit(caller, &v);
        out.push(v);
    }
    Ok(out)
}

fn checked(inp: &ServiceRequestIn) -> Result<sv::RequestForm> {
    sv::check_request(
        inp.content.as_deref(),
        inp.deeper_needs.as_deref(),
        inp.needs_changes.as_deref(),
        inp.organisation.as_deref(),
        &inp.services,
    )
    .map_err(|e| Error::Invalid(e.0))
}

fn services_json(f: &sv::RequestForm) -> String {
    serde_json::to_string(&f.services.iter().map(|s| s.code()).collect::<Vec<_>>()).unwrap_or_else(|_| "[]".into())
}

/// Writes a new request as a draft of the caller (the applicant, today), submitted at once
/// when asked. The account must be one the caller sees (else 404) and a key account (422
/// `account_id`); any fault is 422 naming its field and nothing is saved.
pub async fn create(db: &Db, ctx: &Ctx, inp: &ServiceRequestIn, now: DateTime<Utc>) -> Result<ServiceRequestView> {
    let caller = &ctx.caller;
    let Some(account_id) = inp.account_id else { return Err(Error::invalid("account_id", "required")) };
    let mut tx = db.begin().await?;
    accounts::ensure_visible_in(tx.conn(), caller, account_id).await?;
    if !caller.role.edits_accounts() {
        return Err(Error::Forbidden);
    }
    let form = checked(inp)?;
    let status: String = sqlx::query("SELECT status FROM accounts WHERE id = $1")
        .bind(account_id)
        .fetch_one(tx.conn())
        .await?
        .try_get("status")?;
    if status != "key_account" {
        return Err(Error::invalid("account_id", "plan_needs_key_account"));
    }
    let at = ts(now);
    let id: i64 = sqlx::query(
        "INSERT INTO service_requests (account_id, applicant_id, applied_on, content, deeper_needs, needs_changes, \
         organisation, services, state, version, created_at, updated_by, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'draft', 1, $9, $10, $9) RETURNING id",
    )
    .bind(account_id)
    .bind(caller.user_id)
    .bind(today_of(now))
    .bind(form.content.clone())
    .bind(form.deeper_needs.clone())
    .bind(form.needs_changes.clone())
    .bind(form.organisation.clone())
    .bind(services_json(&form))
    .bind(at.as_str())
    .bind(caller.username.as_str())
    .fetch_one(tx.conn())
    .await?
    .try_get("id")?;
    audit::record(
        &mut tx,
        ctx,
        "service_request",
        &id.to_string(),
        "create",
        None,
        Some(&json!({"account_id": account_id, "content": form.content, "services": services_json(&form)})),
    )
    .await?;
    if inp.submit {
        submit_in(&mut tx, ctx, id, now).await?;
    }
    let v = get_in(tx.conn(), caller, id).await?;
    tx.commit().await?;
    Ok(v)
}

/// Saves a draft or returned request over the version read (409 when saved since), submitted
/// at once when asked.
pub async fn update(
    db: &Db,
    ctx: &Ctx,
    id: i64,
    inp: &ServiceRequestIn,
    now: DateTime<Utc>,
) -> Result<ServiceRequestView> {
    let caller = &ctx.caller;
    let mut tx = db.begin().await?;
    let cur = get_in(tx.conn(), caller, id).await?;
    if !caller.role.edits_accounts() {
        return Err(Error::Forbidden);
    }
    if !cur.may_edit {
        return Err(Error::Conflict("service_request_not_editable"));
    }
    let form = checked(inp)?;
    let Some(version) = inp.version else { return Err(Error::invalid("version", "required")) };
    let n = sqlx::query(
        "UPDATE service_requests SET content = $1, deeper_needs = $2, needs_changes = $3, organisation = $4, \
         services = $5, version = version + 1, updated_by = $6, updated_at = $7 WHERE id = $8 AND version = $9",
    )
    .bind(form.content.clone())
    .bind(form.deeper_needs.clone())
    .bind(form.needs_changes.clone())
    .bind(form.organisation.clone())
    .bind(services_json(&form))
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
        "service_request",
        &id.to_string(),
        "update",
        Some(&json!({"content": cur.content, "services": cur.services})),
        Some(&json!({"content": form.content, "services": services_json(&form)})),
    )
    .await?;
    if inp.submit {
        submit_in(&mut tx, ctx, id, now).await?;
    }
    let v = get_in(tx.conn(), caller, id).await?;
    tx.commit().await?;
    Ok(v)
}

async fn submit_in(tx: &mut WriteTx, ctx: &Ctx, id: i64, now: DateTime<Utc>) -> Result<i64> {
    let v = get_in(tx.conn(), &ctx.caller, id).await?;
    if !matches!(v.state.as_str(), "draft" | "returned") {
        return Err(Error::Conflict("service_request_not_editable"));
    }
    let (region_id, branch_id, owner_id, account_name) = account_facts(tx.conn(), v.account_id).await?;
    let class = sv::request_class(&v.services);
    let subject = Subject {
        kind: KIND,
        id,
        label: format!("{account_name} · 服务与支持申请 #{id}"),
        region_id,
        branch_id,
        owner_id,
        figure: None,
        class: Some(class.to_string()),
    };
    let decisive = json!({"services": v.services});
    let payload = json!({"account_id": v.account_id, "services": v.services});
    let aid = approvals::start(tx, ctx, Flow::ServiceRequest, &subject, &decisive, &payload, now).await?;
    sqlx::query(
        "UPDATE service_requests SET state = 'submitted', approval_id = $1, submitted_at = $2, version = version + 1 \
         WHERE id = $3",
    )
    .bind(aid)
    .bind(ts(now))
    .bind(id)
    .execute(tx.conn())
    .await?;
    audit::record(
        tx,
        ctx,
        "service_request",
        &id.to_string(),
        "submit",
        Some(&json!({"state": v.state})),
        Some(&json!({"state": "submitted", "approval_id": aid})),
    )
    .await?;
    Ok(aid)
}

/// Submits a draft (or returned) request: a `service_request` request is started.
pub async fn submit(db: &Db, ctx: &Ctx, id: i64, now: DateTime<Utc>) -> Result<ServiceRequestView> {
    let mut tx = db.begin().await?;
    let cur = get_in(tx.conn(), &ctx.caller, id).await?;
    if !ctx.caller.role.edits_accounts() {
        return Err(Error::Forbidden);
    }
    if !cur.may_edit {
        return Err(Error::Conflict("service_request_not_editable"));
    }
    submit_in(&mut tx, ctx, id, now).await?;
    let v = get_in(tx.conn(), &ctx.caller, id).await?;
    tx.commit().await?;
    Ok(v)
}

/// The request a `service_request` approval asks about (its page shows it whole).
pub async fn for_approval(db: &Db, caller: &Caller, approval_id: i64) -> Result<ServiceRequestView> {
    let mut conn = db.pool.acquire().await?;
    let r = sqlx::query("SELECT id FROM service_requests WHERE approval_id = $1")
        .bind(approval_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(Error::NotFound)?;
    get_in(&mut conn, caller, r.try_get("id")?).await
}

/// Closing the request's approval sets the request's state: approved (the service team is
/// told), returned, rejected; withdrawn or cancelled — a draft again.
fn on_closed<'a>(tx: &'a mut WriteTx, ctx: &'a Ctx, c: Closed<'a>) -> HookFuture<'a> {
    Box::pin(async move {
        let state = match c.state {
            ApprovalState::Approved => "approved",
            ApprovalState::Returned => "returned",
            ApprovalState::Rejected => "rejected",
            _ => "draft",
        };
        let n = sqlx::query(
            "UPDATE service_requests SET state = $1, version = version + 1, updated_at = $2 WHERE id = $3 AND approval_id = $4",
        )
        .bind(state)
        .bind(ts(crate::app::clock::now()))
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
            "service_request",
            &c.subject_id.to_string(),
            "decide",
            None,
            Some(&json!({"state": state, "approval_id": c.approval_id})),
        )
        .await?;
        if state == "approved" {
            let r = sqlx::query(
                "SELECT r.account_id, a.name FROM service_requests r JOIN accounts a ON a.id = r.account_id WHERE r.id = $1",
            )
            .bind(c.subject_id)
            .fetch_one(tx.conn())
            .await?;
            let (account_id, name): (i64, String) = (r.try_get("account_id")?, r.try_get("name")?);
            let team = crate::app::service::team::member_ids_in(tx.conn(), account_id).await?;
            let id = c.subject_id;
            notify::send(tx, &team, "service_request_approved", Some(c.approval_id), |loc| {
                (
                    rust_i18n::t!("service.notify.request_title", locale = loc, account = name).into_owned(),
                    rust_i18n::t!("service.notify.request_body", locale = loc, account = name, id = id).into_owned(),
                )
            })
            .await?;
        }
        Ok(())
    })
}

inventory::submit! { OutcomeHook { flow: Flow::ServiceRequest, run: on_closed } }

/// A service request's approval is seen by whoever sees its account.
fn sees_request<'a>(conn: &'a mut sqlx::AnyConnection, caller: &'a Caller, id: i64) -> ScopeFuture<'a> {
    Box::pin(async move { approvals::seen(get_in(conn, caller, id).await) })
}

inventory::submit! { SubjectScope { kind: KIND, sees: sees_request } }
