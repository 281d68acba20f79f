//! The open-points list (OPL, seed 002 §六): every problem a survey, a suggestion or a service
//! evaluation raises becomes an item led by the account's KA manager, with a due date, a status
//! and its reviews. A review every two weeks records the progress, the status after it and sets
//! the next review (14 days on). The monthly progress report counts items opened and closed per
//! month and the open items' ages.
use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

use crate::app::customers::accounts;
use crate::app::records::{audit, notify};
use crate::app::{Caller, Ctx, Error, Result};
use crate::db::sql::Sql;
use crate::db::{ts, Db, RowLock, WriteTx};
use crate::domain::error::Errors;

/// Days between two reviews of an item.
pub const REVIEW_EVERY_DAYS: i64 = 14;

/// Where an item came from.
pub const SOURCES: &[&str] = &["survey", "suggestion", "service_evaluation", "manual"];
/// An item's statuses.
pub const STATUSES: &[&str] = &["open", "in_progress", "closed"];

/// A new item, as the record that raises it gives it.
#[derive(Debug, Clone)]
pub struct OplNew {
    pub account_id: i64,
    /// `survey`, `suggestion`, `service_evaluation` or `manual`.
    pub source: &'static str,
    /// The record that raised it (the survey response, the suggestion, the evaluation).
    pub source_id: Option<i64>,
    pub title: String,
    pub detail: Option<String>,
    /// `YYYY-MM-DD`.
    pub due_on: Option<String>,
}

fn day_of(now: chrono::DateTime<chrono::Utc>) -> NaiveDate {
    crate::domain::activity::local_day(now, chrono_tz::Asia::Shanghai)
}

fn valid_date(s: &str) -> bool {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

/// Who leads an account's open points: its KA manager; else its owner's manager; else its owner.
pub async fn lead_of(conn: &mut sqlx::AnyConnection, account_id: i64) -> Result<Option<i64>> {
    let r = sqlx::query(
        "SELECT a.ka_manager_id, a.owner_id, u.manager_id FROM accounts a LEFT JOIN users u ON u.id = a.owner_id \
         WHERE a.id = $1",
    )
    .bind(account_id)
    .fetch_optional(conn)
    .await?
    .ok_or(Error::NotFound)?;
    let ka: Option<i64> = r.try_get("ka_manager_id")?;
    let mgr: Option<i64> = r.try_get("manager_id")?;
    let owner: Option<i64> = r.try_get("owner_id")?;
    Ok(ka.or(mgr).or(owner))
}

fn check_new(new: &OplNew) -> Result<()> {
    let mut e = Errors::default();
    if !SOURCES.contains(&new.source) {
        e.add("source", "invalid_choice");
    }
    let title = new.title.trim();
    if title.is_empty() {
        e.add("title", "required");
    } else if title.chars().count() > 200 {
        e.add("title", "too_long");
    }
    if new.detail.as_deref().is_some_and(|d| d.chars().count() > 4000) {
        e.add("detail", "too_long");
    }
    if new.due_on.as_deref().is_some_and(|d| !valid_date(d)) {
        e.add("due_on", "date_format");
    }
    if e.0.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(e.0))
    }
}

/// Raises an item inside the caller's transaction (the caller's command checked its own right):
/// led by the account's KA manager, first reviewed 14 days on; an audit row; the lead told.
pub async fn raise_in(tx: &mut WriteTx, ctx: &Ctx, new: &OplNew) -> Result<i64> {
    check_new(new)?;
    let now = crate::app::clock::now();
    let owner = lead_of(tx.conn(), new.account_id).await?;
    let next = (day_of(now) + Duration::days(REVIEW_EVERY_DAYS)).to_string();
    let at = ts(now);
    let title = new.title.trim().to_string();
    let detail = new.detail.as_deref().map(str::trim).filter(|d| !d.is_empty()).map(str::to_string);
    let id: i64 = sqlx::query(
        "INSERT INTO opl_items (account_id, source, source_id, title, detail, owner_id, due_on, status, next_review_on, \
         version, created_by, created_at, updated_by, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, 1, $9, $10, $9, $10) RETURNING id",
    )
    .bind(new.account_id)
    .bind(new.source)
    .bind(new.source_id)
    .bind(title.clone())
    .bind(detail.clone())
    .bind(owner)
    .bind(new.due_on.clone())
    .bind(next.clone())
    .bind(ctx.caller.username.as_str())
    .bind(at)
    .fetch_one(tx.conn())
    .await?
    .try_get("id")?;
    audit::record(
        tx,
        ctx,
        "opl_item",
        &id.to_string(),
        "create",
        None,
        Some(&json!({"account_id": new.account_id, "source": new.source, "source_id": new.source_id, "title": title,
            "detail": detail, "owner_id": owner, "due_on": new.due_on, "status": "open", "next_review_on": next})),
    )
    .await?;
    if let Some(o) = owner {
        let acc: String = sqlx::query("SELECT name FROM accounts WHERE id = $1")
            .bind(new.account_id)
            .fetch_one(tx.conn())
            .await?
            .try_get("name")?;
        notify::send(tx, &[o], "opl_raised", None, |loc| {
            (
                rust_i18n::t!("opl.notify.raised_title", locale = loc, account = acc).into_owned(),
                rust_i18n::t!("opl.notify.raised_body", locale = loc, account = acc, title = title, next = next)
                    .into_owned(),
            )
        })
        .await?;
    }
    Ok(id)
}

/// What a person enters to raise an item by hand.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct OplInput {
    pub account_id: i64,
    pub title: String,
    #[serde(default)]
    pub detail: Option<String>,
    #[serde(default)]
    #[schema(format = Date)]
    pub due_on: Option<String>,
}

/// Raises an item by hand (source `manual`) on an account the caller sees.
pub async fn raise(db: &Db, ctx: &Ctx, input: &OplInput) -> Result<i64> {
    let mut tx = db.begin().await?;
    accounts::ensure_visible_in(tx.conn(), &ctx.caller, input.account_id).await?;
    if ctx.caller.role.is_admin() {
        return Err(Error::Forbidden);
    }
    let id = raise_in(
        &mut tx,
        ctx,
        &OplNew {
            account_id: input.account_id,
            source: "manual",
            source_id: None,
            title: input.title.clone(),
            detail: input.detail.clone(),
            due_on: input.due_on.clone().filter(|d| !d.trim().is_empty()),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// An item as lists and its page show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OplItem {
    pub id: i64,
    pub account_id: i64,
    pub account_name: String,
    pub source: String,
    pub source_id: Option<i64>,
    pub title: String,
    pub detail: Option<String>,
    /// Username of the lead (the account's KA manager).
    pub owner: Option<String>,
    pub owner_name: Option<String>,
    #[schema(format = Date)]
    pub due_on: Option<String>,
    /// `open`, `in_progress`, `closed`.
    pub status: String,
    #[schema(format = Date)]
    pub next_review_on: Option<String>,
    pub closed_at: Option<String>,
    pub created_at: String,
    pub version: i64,
    /// Its review is due (today or earlier) and it is not closed.
    pub review_due: bool,
    /// Its due date passed and it is not closed.
    pub overdue: bool,
}

const ITEM_COLS: &str = "SELECT i.id, i.account_id, a.name AS account_name, i.source, i.source_id, i.title, i.detail, \
     u.username AS owner, COALESCE(u.display_name, u.username) AS owner_name, i.due_on, i.status, i.next_review_on, \
     i.closed_at, i.created_at, i.version FROM opl_items i JOIN accounts a ON a.id = i.account_id \
     LEFT JOIN users u ON u.id = i.owner_id";

fn item_of(r: &sqlx::any::AnyRow, today: &str) -> Result<OplItem> {
    let status: String = r.try_get("status")?;
    let next: Option<String> = r.try_get("next_review_on")?;
    let due: Option<String> = r.try_get("due_on")?;
    let open = status != "closed";
    Ok(OplItem {
        id: r.try_get("id")?,
        account_id: r.try_get("account_id")?,
        account_name: r.try_get("account_name")?,
        source: r.try_get("source")?,
        source_id: r.try_get("source_id")?,
        title: r.try_get("title")?,
        detail: r.try_get("detail")?,
        owner: r.try_get("owner")?,
        owner_name: r.try_get("owner_name")?,
        review_due: open && next.as_deref().is_some_and(|n| n <= today),
        overdue: open && due.as_deref().is_some_and(|d| d < today),
        due_on: due,
        status,
        next_review_on: next,
        closed_at: r.try_get("closed_at")?,
        created_at: r.try_get("created_at")?,
        version: r.try_get("version")?,
    })
}

/// The list's filters.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams, utoipa::ToSchema)]
pub struct OplFilter {
    pub account_id: Option<i64>,
    /// Username of the lead.
    pub owner: Option<String>,
    /// `open`, `in_progress`, `closed`, or `active` (not closed).
    pub status: Option<String>,
    pub source: Option<String>,
    /// Only items whose review is due (today or earlier).
    pub review_due: Option<bool>,
    /// `next_review_on` (default), `due_on`, `created_at`, `account`.
    pub sort: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// A page of items and the count of all that match.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OplPage {
    pub items: Vec<OplItem>,
    pub total: i64,
}

fn push_filter(s: &mut Sql, f: &OplFilter, caller: &Caller, today: &str) -> Result<()> {
    accounts::push_scope(s, caller);
    if let Some(a) = f.account_id {
        s.push(" AND i.account_id = ").bind(a);
    }
    if let Some(o) = f.owner.as_deref().filter(|o| !o.is_empty()) {
        s.push(" AND u.username = ").bind(o);
    }
    match f.status.as_deref().filter(|x| !x.is_empty()) {
        None => {}
        Some("active") => {
            s.push(" AND i.status <> 'closed'");
        }
        Some(st) if STATUSES.contains(&st) => {
            s.push(" AND i.status = ").bind(st);
        }
        Some(_) => return Err(Error::invalid("status", "invalid_choice")),
    }
    match f.source.as_deref().filter(|x| !x.is_empty()) {
        None => {}
        Some(src) if SOURCES.contains(&src) => {
            s.push(" AND i.source = ").bind(src);
        }
        Some(_) => return Err(Error::invalid("source", "invalid_choice")),
    }
    if f.review_due == Some(true) {
        s.push(" AND i.status <> 'closed' AND i.next_review_on <= ").bind(today);
    }
    Ok(())
}

/// The items the caller sees (as their accounts), filtered, sorted and paged.
pub async fn list(db: &Db, caller: &Caller, f: &OplFilter) -> Result<OplPage> {
    let today = caller.today();
    let limit = crate::app::clamp_limit(f.limit)?;
    let offset = f.offset.unwrap_or(0);
    if offset < 0 {
        return Err(Error::invalid("offset", "out_of_range"));
    }
    let order = match f.sort.as_deref().filter(|x| !x.is_empty()) {
        None | Some("next_review_on") => " ORDER BY i.next_review_on, i.id",
        Some("due_on") => " ORDER BY i.due_on, i.id",
        Some("created_at") => " ORDER BY i.created_at DESC, i.id DESC",
        Some("account") => " ORDER BY a.name, i.id",
        Some(_) => return Err(Error::invalid("sort", "invalid_choice")),
    };
    let mut conn = db.pool.acquire().await?;
    let mut c = Sql::new(
        "SELECT COUNT(*) AS n FROM opl_items i JOIN accounts a ON a.id = i.account_id \
         LEFT JOIN users u ON u.id = i.owner_id WHERE 1 = 1",
    );
    push_filter(&mut c, f, caller, &today)?;
    let total: i64 = c.query().fetch_one(&mut *conn).await?.try_get("n")?;
    let mut s = Sql::new(&format!("{ITEM_COLS} WHERE 1 = 1"));
    push_filter(&mut s, f, caller, &today)?;
    s.push(order).push(" LIMIT ").bind(limit).push(" OFFSET ").bind(offset);
    let rows = s.query().fetch_all(&mut *conn).await?;
    let items = rows.iter().map(|r| item_of(r, &today)).collect::<Result<Vec<_>>>()?;
    Ok(OplPage { items, total })
}

/// One review of an item.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OplReview {
    pub id: i64,
    #[schema(format = Date)]
    pub reviewed_on: String,
    pub progress: String,
    pub status_after: String,
    #[schema(format = Date)]
    pub next_review_on: Option<String>,
    pub reviewed_by: String,
    pub reviewed_by_name: String,
}

/// An item with its reviews and what the caller may do.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OplView {
    pub item: OplItem,
    pub reviews: Vec<OplReview>,
    /// The caller may review it (its lead, or a manager of accounts who sees it).
    pub may_review: bool,
}

fn may_review(caller: &Caller, owner: Option<&str>) -> bool {
    owner == Some(caller.username.as_str()) || caller.role.manages_accounts()
}

async fn load_in(conn: &mut sqlx::AnyConnection, caller: &Caller, id: i64) -> Result<OplItem> {
    let mut s = Sql::new(&format!("{ITEM_COLS} WHERE i.id = "));
    s.bind(id);
    accounts::push_scope_one(&mut s, caller);
    let r = s.query().fetch_optional(conn).await?.ok_or(Error::NotFound)?;
    item_of(&r, &caller.today())
}

/// An item the caller sees, with its reviews.
pub async fn get(db: &Db, caller: &Caller, id: i64) -> Result<OplView> {
    let mut conn = db.pool.acquire().await?;
    let item = load_in(&mut conn, caller, id).await?;
    let rows = sqlx::query(
        "SELECT r.id, r.reviewed_on, r.progress, r.status_after, r.next_review_on, r.reviewed_by, \
         COALESCE(u.display_name, r.reviewed_by) AS reviewed_by_name FROM opl_reviews r \
         LEFT JOIN users u ON u.username = r.reviewed_by WHERE r.item_id = $1 ORDER BY r.id DESC",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let reviews = rows
        .iter()
        .map(|r| {
            Ok(OplReview {
                id: r.try_get("id")?,
                reviewed_on: r.try_get("reviewed_on")?,
                progress: r.try_get("progress")?,
                status_after: r.try_get("status_after")?,
                next_review_on: r.try_get("next_review_on")?,
                reviewed_by: r.try_get("reviewed_by")?,
                reviewed_by_name: r.try_get("reviewed_by_name")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let may = may_review(caller, item.owner.as_deref()) && !caller.role.is_admin();
    Ok(OplView { item, reviews, may_review: may })
}

/// A review as entered.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct OplReviewInput {
    /// What was done since the last review (required; at most 2000 characters).
    pub progress: String,
    /// `open`, `in_progress` or `closed`.
    pub status: String,
    /// The item's due date, when the review moves it.
    #[serde(default)]
    #[schema(format = Date)]
    pub due_on: Option<String>,
    /// The version of the item the reviewer saw.
    pub version: i64,
}

/// Reviews an item: the progress, the status after it; the next review 14 days on (none once
/// closed). The lead or a manager of accounts who sees it; a stale version is a conflict.
pub async fn review(db: &Db, ctx: &Ctx, id: i64, input: &OplReviewInput) -> Result<OplView> {
    let caller = &ctx.caller;
    let mut tx = db.begin().await?;
    tx.lock_row("opl_items", id, RowLock::Update).await?;
    let item = load_in(tx.conn(), caller, id).await?;
    if !may_review(caller, item.owner.as_deref()) || caller.role.is_admin() {
        return Err(Error::Forbidden);
    }
    let mut e = Errors::default();
    let progress = input.progress.trim();
    if progress.is_empty() {
        e.add("progress", "required");
    } else if progress.chars().count() > 2000 {
        e.add("progress", "too_long");
    }
    if !STATUSES.contains(&input.status.as_str()) {
        e.add("status", "invalid_choice");
    }
    let due = input.due_on.as_deref().map(str::trim).filter(|d| !d.is_empty());
    if due.is_some_and(|d| !valid_date(d)) {
        e.add("due_on", "date_format");
    }
    if !e.0.is_empty() {
        return Err(Error::Invalid(e.0));
    }
    if input.version != item.version {
        return Err(Error::StaleVersion { current: item.version });
    }
    let now = crate::app::clock::now();
    let today = caller.today();
    let closed = input.status == "closed";
    let next = (!closed).then(|| (caller.day() + Duration::days(REVIEW_EVERY_DAYS)).to_string());
    let closed_at = if closed { item.closed_at.clone().or_else(|| Some(ts(now))) } else { None };
    let due_on = due.map(str::to_string).or(item.due_on.clone());
    sqlx::query(
        "INSERT INTO opl_reviews (item_id, reviewed_on, progress, status_after, next_review_on, reviewed_by, reviewed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(today.clone())
    .bind(progress)
    .bind(input.status.as_str())
    .bind(next.clone())
    .bind(caller.username.as_str())
    .bind(ts(now))
    .execute(tx.conn())
    .await?;
    sqlx::query(
        "UPDATE opl_items SET status = $1, next_review_on = $2, closed_at = $3, due_on = $4, version = version + 1, \
         updated_by = $5, updated_at = $6 WHERE id = $7",
    )
    .bind(input.status.as_str())
    .bind(next.clone())
    .bind(closed_at)
    .bind(due_on.clone())
    .bind(caller.username.as_str())
    .bind(ts(now))
    .bind(id)
    .execute(tx.conn())
    .await?;
    audit::record(
        &mut tx,
        ctx,
        "opl_item",
        &id.to_string(),
        "review",
        Some(&json!({"status": item.status, "next_review_on": item.next_review_on, "due_on": item.due_on})),
        Some(&json!({"status": input.status, "next_review_on": next, "due_on": due_on, "progress": progress})),
    )
    .await?;
    tx.commit().await?;
    get(db, caller, id).await
}

/// The items whose review is due for the caller as their lead (today or earlier, not closed),
/// oldest review first: the KA manager's two-weekly review list and their home's panel.
pub async fn reviews_due(db: &Db, caller: &Caller) -> Result<Vec<OplItem>> {
    let today = caller.today();
    let mut conn = db.pool.acquire().await?;
    let mut s = Sql::new(&format!("{ITEM_COLS} WHERE i.owner_id = "));
    s.bind(caller.user_id).push(" AND i.status <> 'closed' AND i.next_review_on <= ").bind(today.as_str());
    s.push(" AND a.deleted_at IS NULL ORDER BY i.next_review_on, i.id LIMIT 500");
    let rows = s.query().fetch_all(&mut *conn).await?;
    rows.iter().map(|r| item_of(r, &today)).collect()
}

/// One month of the progress report.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OplMonth {
    /// `YYYY-MM`.
    pub month: String,
    pub opened: i64,
    pub closed: i64,
    /// Items still open at the month's end.
    pub open_at_end: i64,
}

/// The open items by age.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OplAgeing {
    /// `0-14`, `15-30`, `31-60`, `61-90`, `90+` (days since raised).
    pub bucket: String,
    pub count: i64,
}

/// Open items by source.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OplCount {
    pub key: String,
    pub count: i64,
}

/// The monthly progress report to top management: the last twelve months opened and closed,
/// the open items' ageing, by source, and the month's items.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OplReport {
    /// `YYYY-MM` the report is of.
    pub month: String,
    pub months: Vec<OplMonth>,
    pub ageing: Vec<OplAgeing>,
    pub by_source: Vec<OplCount>,
    pub open_total: i64,
    pub review_overdue: i64,
    /// Items still open that were raised in or before the month, oldest first (at most 200).
    pub open_items: Vec<OplItem>,
    /// Whether fewer items are open now than twelve months before (improvement).
    pub improving: Option<bool>,
}

fn month_start(m: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d").map_err(|_| Error::invalid("month", "invalid_month"))
}

fn add_months(d: NaiveDate, n: i32) -> NaiveDate {
    use chrono::Datelike;
    let total = d.year() * 12 + d.month0() as i32 + n;
    NaiveDate::from_ymd_opt(total.div_euclid(12), total.rem_euclid(12) as u32 + 1, 1).unwrap_or(d)
}

/// The report of `month` (`YYYY-MM`, default the current month) over the items the caller sees.
pub async fn report(db: &Db, caller: &Caller, month: Option<&str>) -> Result<OplReport> {
    let today = caller.day();
    let m = match month.filter(|m| !m.is_empty()) {
        Some(m) => month_start(m)?,
        None => today.with_day0_first(),
    };
    let end = add_months(m, 1);
    let first = add_months(m, -11);
    let mut conn = db.pool.acquire().await?;
    // Opened and closed per month: one grouped read each.
    let mut opened = std::collections::HashMap::<String, i64>::new();
    let mut closed = std::collections::HashMap::<String, i64>::new();
    for (col, map) in [("i.created_at", &mut opened), ("i.closed_at", &mut closed)] {
        let mut s = Sql::new(&format!(
            "SELECT SUBSTR({col}, 1, 7) AS m, COUNT(*) AS n FROM opl_items i JOIN accounts a ON a.id = i.account_id WHERE {col} >= "
        ));
        s.bind(first.to_string()).push(&format!(" AND {col} < ")).bind(end.to_string());
        accounts::push_scope(&mut s, caller);
        s.push(&format!(" GROUP BY SUBSTR({col}, 1, 7)"));
        for r in s.query().fetch_all(&mut *conn).await? {
            map.insert(r.try_get("m")?, r.try_get("n")?);
        }
    }
    // Open at the start of the window.
    let mut s =
        Sql::new("SELECT COUNT(*) AS n FROM opl_items i JOIN accounts a ON a.id = i.account_id WHERE i.created_at < ");
    s.bind(first.to_string()).push(" AND (i.closed_at IS NULL OR i.closed_at >= ").bind(first.to_string()).push(")");
    accounts::push_scope(&mut s, caller);
    let mut running: i64 = s.query().fetch_one(&mut *conn).await?.try_get("n")?;
    let start_open = running;
    let mut months = vec![];
    for k in 0..12 {
        let d = add_months(first, k);
        let key = d.format("%Y-%m").to_string();
        let o = opened.get(&key).copied().unwrap_or(0);
        let c = closed.get(&key).copied().unwrap_or(0);
        running += o - c;
        months.push(OplMonth { month: key, opened: o, closed: c, open_at_end: running });
    }
    // Ageing of the items open now (as of the report's end or today, the earlier).
    let asof = if end <= today { end - Duration::days(1) } else { today };
    let mut s = Sql::new(
        "SELECT i.source, SUBSTR(i.created_at, 1, 10) AS d FROM opl_items i JOIN accounts a ON a.id = i.account_id \
         WHERE i.created_at < ",
    );
    s.bind(end.to_string()).push(" AND (i.closed_at IS NULL OR i.closed_at >= ").bind(end.to_string()).push(")");
    accounts::push_scope(&mut s, caller);
    let mut buckets = [0i64; 5];
    let mut by_source = std::collections::BTreeMap::<String, i64>::new();
    for r in s.query().fetch_all(&mut *conn).await? {
        let d: String = r.try_get("d")?;
        let src: String = r.try_get("source")?;
        let age = NaiveDate::parse_from_str(&d, "%Y-%m-%d").map(|d| (asof - d).num_days()).unwrap_or(0);
        let b = match age {
            ..=14 => 0,
            15..=30 => 1,
            31..=60 => 2,
            61..=90 => 3,
            _ => 4,
        };
        buckets[b] += 1;
        *by_source.entry(src).or_default() += 1;
    }
    let ageing = ["0-14", "15-30", "31-60", "61-90", "90+"]
        .iter()
        .zip(buckets)
        .map(|(b, count)| OplAgeing { bucket: b.to_string(), count })
        .collect();
    let open_total = buckets.iter().sum();
    let mut s = Sql::new(
        "SELECT COUNT(*) AS n FROM opl_items i JOIN accounts a ON a.id = i.account_id WHERE i.status <> 'closed' \
         AND i.next_review_on < ",
    );
    s.bind(today.to_string());
    accounts::push_scope(&mut s, caller);
    let review_overdue: i64 = s.query().fetch_one(&mut *conn).await?.try_get("n")?;
    let mut s = Sql::new(&format!("{ITEM_COLS} WHERE i.created_at < "));
    s.bind(end.to_string()).push(" AND (i.closed_at IS NULL OR i.closed_at >= ").bind(end.to_string()).push(")");
    accounts::push_scope(&mut s, caller);
    s.push(" ORDER BY i.created_at, i.id LIMIT 200");
    let t = today.to_string();
    let open_items =
        s.query().fetch_all(&mut *conn).await?.iter().map(|r| item_of(r, &t)).collect::<Result<Vec<_>>>()?;
    let improving = (start_open > 0 || running > 0).then_some(running < start_open);
    Ok(OplReport {
        month: m.format("%Y-%m").to_string(),
        months,
        ageing,
        by_source: by_source.into_iter().map(|(key, count)| OplCount { key, count }).collect(),
        open_total,
        review_overdue,
        open_items,
        improving,
    })
}

trait FirstDay {
    fn with_day0_first(self) -> NaiveDate;
}
impl FirstDay for NaiveDate {
    fn with_day0_first(self) -> NaiveDate {
        use chrono::Datelike;
        self.with_day(1).unwrap_or(self)
    }
}

/// The report as a workbook: the months, the ageing and the open items. `labels`: sheet title,
/// then the headers (month, opened, closed, open at end, age, count, account, title, lead,
/// status, raised, next review).
pub fn report_xlsx(r: &OplReport, labels: &[String]) -> Result<Vec<u8>> {
    book(r, labels).map_err(|e| Error::Internal(anyhow::Error::from(e)))
}

fn book(r: &OplReport, l: &[String]) -> std::result::Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use crate::app::spreadsheets::export::neutralise;
    use rust_xlsxwriter::{Format, Workbook};
    let lab = |i: usize| l.get(i).cloned().unwrap_or_default();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("OPL")?;
    let bold = Format::new().set_bold();
    ws.write_string_with_format(0, 0, format!("{} · {}", lab(0), r.month), &bold)?;
    for (c, h) in (1..=4).enumerate() {
        ws.write_string_with_format(2, c as u16, lab(h), &bold)?;
    }
    let mut row = 3u32;
    for m in &r.months {
        ws.write_string(row, 0, &m.month)?;
        ws.write_number(row, 1, m.opened as f64)?;
        ws.write_number(row, 2, m.closed as f64)?;
        ws.write_number(row, 3, m.open_at_end as f64)?;
        row += 1;
    }
    row += 1;
    ws.write_string_with_format(row, 0, lab(5), &bold)?;
    ws.write_string_with_format(row, 1, lab(6), &bold)?;
    row += 1;
    for a in &r.ageing {
        ws.write_string(row, 0, &a.bucket)?;
        ws.write_number(row, 1, a.count as f64)?;
        row += 1;
    }
    row += 1;
    for (c, h) in (7..=11).enumerate() {
        ws.write_string_with_format(row, c as u16, lab(h), &bold)?;
    }
    row += 1;
    for i in &r.open_items {
        ws.write_string(row, 0, neutralise(&i.account_name))?;
        ws.write_string(row, 1, neutralise(&i.title))?;
        ws.write_string(row, 2, neutralise(i.owner_name.as_deref().unwrap_or("")))?;
        ws.write_string(row, 3, &i.status)?;
        ws.write_string(row, 4, i.created_at.get(..10).unwrap_or(""))?;
        ws.write_string(row, 5, i.next_review_on.as_deref().unwrap_or(""))?;
        row += 1;
    }
    ws.set_column_width(0, 28)?;
    ws.set_column_width(1, 40)?;
    wb.save_to_buffer()
}
