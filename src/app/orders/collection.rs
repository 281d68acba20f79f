//! Collection (催款, DOMAIN.md M7; issue 21): each person's worklist of overdue receivables,
//! the largest amount × days past due first, each at its dunning level (1 day: a reminder to
//! the owner; 15: the owner calls; 30: the KA manager calls; 60: finance's formal letter; 90:
//! new orders held), and the log of every contact (催款记录) with the customer's promise to pay.
//! A promise whose day has passed without the promised amount paid is broken, and each broken
//! promise raises the receivable one level.
//!
//! Who: the owner and those above them see and log a worklist; finance sees everyone's.
use std::collections::HashMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

use crate::app::customers::accounts;
use crate::app::orders::receivables::{self as rcv, ReceivableView};
use crate::app::records::audit;
use crate::app::{Caller, Ctx, Error, Result};
use crate::db::sql::Sql;
use crate::db::{now, Db, RowLock};
use crate::domain::error::Errors;
use crate::domain::money::{format_fen, parse_fen};
use crate::domain::receivable::{self as rc, Channel, DunAction};
use crate::domain::role::{Reach, Role};
use crate::domain::text;

/// A contact about an overdue receivable as given.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectionContactIn {
    /// The day (default today).
    #[serde(default)]
    #[schema(format = Date)]
    pub contacted_on: Option<String>,
    /// `phone` (default), `visit`, `letter`, `email`, `message`.
    #[serde(default)]
    pub channel: Option<Channel>,
    /// What was said (required).
    #[serde(default)]
    #[schema(value_type = String)]
    pub note: Option<String>,
    /// The amount the customer promised, in yuan (at most what is owed); with `promised_on`.
    #[serde(default)]
    #[schema(pattern = r"^\d{1,15}(\.\d{1,2})?$")]
    pub promised_amount: Option<String>,
    /// The day the customer promised to pay by (not before the contact).
    #[serde(default)]
    #[schema(format = Date)]
    pub promised_on: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CollectionContact {
    pub id: i64,
    pub receivable_id: i64,
    #[schema(format = Date)]
    pub contacted_on: String,
    pub channel: Channel,
    pub note: String,
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub promised_amount: Option<String>,
    #[schema(format = Date)]
    pub promised_on: Option<String>,
    /// The level the receivable stood at (its action's code).
    pub level: Option<String>,
    /// Null while the promised day has not passed (or nothing was promised); then whether the
    /// promised amount came in by that day.
    pub kept: Option<bool>,
    pub created_by: String,
    pub created_by_name: String,
}

/// One line of a worklist.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WorkItem {
    pub receivable: ReceivableView,
    /// The dunning level's action (`remind`, `owner_calls`, `manager_calls`, `finance_letter`,
    /// `hold`).
    pub level: Option<String>,
    pub broken_promises: i64,
    /// The latest contact.
    pub last_contact: Option<CollectionContact>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Worklist {
    /// Whose list (null: everyone's in the caller's scope).
    pub owner: Option<String>,
    pub items: Vec<WorkItem>,
}

fn day(s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s.get(..10).unwrap_or(s), "%Y-%m-%d")
        .map_err(|e| anyhow::anyhow!("a stored day {s}: {e}").into())
}

/// The contacts of these receivables, oldest first, each judged on `today`.
pub(crate) async fn contacts_of(
    conn: &mut sqlx::AnyConnection,
    ids: &[i64],
    today: NaiveDate,
) -> Result<Vec<CollectionContact>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
    let rows = sqlx::query(&format!(
        "SELECT c.*, COALESCE(u.display_name, c.created_by) AS by_name, \
         (SELECT CAST(COALESCE(SUM(l.amount), 0) AS BIGINT) FROM allocations l JOIN payments p ON p.id = l.payment_id \
          WHERE l.receivable_id = c.receivable_id AND c.promised_on IS NOT NULL AND p.received_on <= c.promised_on) AS paid_by \
         FROM collection_contacts c LEFT JOIN users u ON u.username = c.created_by \
         WHERE c.receivable_id IN ({list}) ORDER BY c.contacted_on, c.id"
    ))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let promised: Option<i64> = r.try_get("promised_amount")?;
            let on: Option<String> = r.try_get("promised_on")?;
            let kept = match on.as_deref() {
                Some(d) if day(d)? < today => {
                    let paid_by: i64 = r.try_get("paid_by")?;
                    let before: i64 = r.try_get("paid_at_contact")?;
                    Some(paid_by - before >= promised.unwrap_or(1))
                }
                _ => None,
            };
            Ok(CollectionContact {
                id: r.try_get("id")?,
                receivable_id: r.try_get("receivable_id")?,
                contacted_on: r.try_get("contacted_on")?,
                channel: r.try_get("channel")?,
                note: r.try_get("note")?,
                promised_amount: promised.map(format_fen),
                promised_on: on,
                level: r.try_get("level")?,
                kept,
                created_by: r.try_get("created_by")?,
                created_by_name: r.try_get("by_name")?,
            })
        })
        .collect()
}

/// Whose worklist the caller may read: their own; a person they manage; anyone's for roles
/// that see everything (finance, HQ). `None` asks for everyone's in scope.
async fn owner_of(conn: &mut sqlx::AnyConnection, caller: &Caller, owner: Option<&str>) -> Result<Option<i64>> {
    let Some(u) = owner.map(str::trim).filter(|u| !u.is_empty()) else {
        return Ok(if caller.reach() == Reach::All || caller.role.manages_accounts() {
            None
        } else {
            Some(caller.user_id)
        });
    };
    let id: i64 = sqlx::query("SELECT id FROM users WHERE username = $1")
        .bind(u.to_string())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| Error::invalid("owner", "unknown_user"))?
        .try_get("id")?;
    if id == caller.user_id
        || caller.reach() == Reach::All
        || crate::app::people::team::manages_person(conn, caller, id).await?
    {
        Ok(Some(id))
    } else {
        Err(Error::invalid("owner", "not_in_scope"))
    }
}

/// A worklist of overdue receivables on `today`: the largest amount × days past due first.
pub async fn worklist(db: &Db, caller: &Caller, owner: Option<&str>, today: NaiveDate) -> Result<Worklist> {
    let mut conn = db.pool.acquire().await?;
    let who = owner_of(&mut conn, caller, owner).await?;
    let mut s = Sql::new(rcv::REC_SELECT);
    s.push(" WHERE r.state = 'open' AND r.due_on < ").bind(today.format("%Y-%m-%d").to_string());
    match who {
        Some(id) => {
            s.push(" AND r.owner_id = ").bind(id);
            accounts::push_scope_one(&mut s, caller);
        }
        None => accounts::push_scope(&mut s, caller),
    }
    s.push(" LIMIT 5000");
    let rows = s.query().fetch_all(&mut *conn).await?;
    let recs = rows.iter().map(|r| rcv::rec_view(r, today)).collect::<Result<Vec<_>>>()?;
    let ids: Vec<i64> = recs.iter().map(|r| r.id).collect();
    let mut by_rec: HashMap<i64, Vec<CollectionContact>> = HashMap::new();
    for c in contacts_of(&mut conn, &ids, today).await? {
        by_rec.entry(c.receivable_id).or_default().push(c);
    }
    let levels = crate::app::orders::policy::load_in(&mut conn).await?.dun_levels();
    let mut items: Vec<(i128, WorkItem)> = recs
        .into_iter()
        .map(|r| {
            let contacts = by_rec.remove(&r.id).unwrap_or_default();
            let broken = contacts.iter().filter(|c| c.kept == Some(false)).count() as i64;
            let days = r.days_overdue.unwrap_or(0);
            let level = rc::level_of(days, broken, &levels).map(|i| levels[i].action.code().to_string());
            let weight = rc::collection_weight(parse_fen(&r.outstanding).unwrap_or(0), days);
            (
                weight,
                WorkItem { receivable: r, level, broken_promises: broken, last_contact: contacts.into_iter().last() },
            )
        })
        .collect();
    items.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.receivable.id.cmp(&b.1.receivable.id)));
    let owner = match who {
        Some(id) => Some(
            sqlx::query("SELECT username FROM users WHERE id = $1")
                .bind(id)
                .fetch_one(&mut *conn)
                .await?
                .try_get("username")?,
        ),
        None => None,
    };
    Ok(Worklist { owner, items: items.into_iter().map(|(_, i)| i).collect() })
}

/// A receivable's contacts, oldest first (the receivable's account in scope).
pub async fn contacts(
    db: &Db,
    caller: &Caller,
    receivable_id: i64,
    today: NaiveDate,
) -> Result<Vec<CollectionContact>> {
    let mut conn = db.pool.acquire().await?;
    let account: i64 = sqlx::query("SELECT account_id FROM receivables WHERE id = $1")
        .bind(receivable_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(Error::NotFound)?
        .try_get("account_id")?;
    accounts::ensure_visible_in(&mut conn, caller, account).await?;
    contacts_of(&mut conn, &[receivable_id], today).await
}

/// Logs a contact about an open receivable (its owner, those above them, or finance), with the
/// customer's promise when there is one.
pub async fn log_contact(
    db: &Db,
    ctx: &Ctx,
    receivable_id: i64,
    inp: &CollectionContactIn,
    today: NaiveDate,
) -> Result<CollectionContact> {
    let mut e = Errors::default();
    let on = match inp.contacted_on.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => Some(today),
        Some(v) => match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
            Ok(d) if d > today => {
                e.add("contacted_on", "in_future");
                None
            }
            Ok(d) => Some(d),
            Err(_) => {
                e.add("contacted_on", "date_format");
                None
            }
        },
    };
    let note = e.take("note", text::required(inp.note.as_deref(), 2000));
    let promised_amount = match inp.promised_amount.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => match parse_fen(v) {
            Ok(0) => {
                e.add("promised_amount", "amount_not_positive");
                None
            }
            Ok(x) => Some(x),
            Err(c) => {
                e.add("promised_amount", c);
                None
            }
        },
    };
    let promised_on = match inp.promised_on.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
            Ok(d) if on.is_some_and(|o| d < o) => {
                e.add("promised_on", "before_contact");
                None
            }
            Ok(d) => Some(d),
            Err(_) => {
                e.add("promised_on", "date_format");
                None
            }
        },
    };
    if promised_amount.is_some() && promised_on.is_none() && !e.0.iter().any(|f| f.field == "promised_on") {
        e.add("promised_on", "required");
    }
    e.finish()?;
    let on = on.unwrap_or(today);
    let mut tx = db.begin().await?;
    let id = log_in(
        &mut tx,
        ctx,
        receivable_id,
        Logged {
            on,
            channel: inp.channel.unwrap_or(Channel::Phone),
            note: note.unwrap_or_default(),
            promised_amount,
            promised_on,
        },
        today,
    )
    .await?;
    let v = contacts_of(tx.conn(), &[receivable_id], today)
        .await?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or(Error::NotFound)?;
    tx.commit().await?;
    Ok(v)
}

/// A contact as checked.
pub(crate) struct Logged {
    pub on: NaiveDate,
    pub channel: Channel,
    pub note: String,
    pub promised_amount: Option<i64>,
    pub promised_on: Option<NaiveDate>,
}

/// Logs a checked contact inside the caller's transaction: the receivable open and in scope, the
/// caller its owner, above them, or finance. Gives the contact's id.
pub(crate) async fn log_in(
    tx: &mut crate::db::WriteTx,
    ctx: &Ctx,
    receivable_id: i64,
    l: Logged,
    today: NaiveDate,
) -> Result<i64> {
    let caller = &ctx.caller;
    let r = sqlx::query(
        "SELECT account_id, owner_id, state, amount, paid, written_off, due_on FROM receivables WHERE id = $1",
    )
    .bind(receivable_id)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(Error::NotFound)?;
    let (account, owner): (i64, i64) = (r.try_get("account_id")?, r.try_get("owner_id")?);
    accounts::ensure_visible_in(tx.conn(), caller, account).await?;
    let may = owner == caller.user_id
        || caller.role == Role::FinanceManager
        || crate::app::people::team::manages_person(tx.conn(), caller, owner).await?;
    if !may {
        return Err(Error::Forbidden);
    }
    let lock = tx.lock_clause(RowLock::Update);
    sqlx::query(&format!("SELECT id FROM receivables WHERE id = $1{lock}"))
        .bind(receivable_id)
        .fetch_one(tx.conn())
        .await?;
    if r.try_get::<String, _>("state")? != "open" {
        return Err(Error::Conflict("receivable_not_open"));
    }
    let (amount, paid, off): (i64, i64, i64) = (r.try_get("amount")?, r.try_get("paid")?, r.try_get("written_off")?);
    if l.promised_amount.is_some_and(|p| p > amount - paid - off) {
        return Err(Error::invalid("promised_amount", "beyond_outstanding"));
    }
    // The level it stood at: its days past due and the promises broken so far.
    let due = day(&r.try_get::<String, _>("due_on")?)?;
    let before = contacts_of(tx.conn(), &[receivable_id], today).await?;
    let broken = before.iter().filter(|c| c.kept == Some(false)).count() as i64;
    let levels = crate::app::orders::policy::load_in(tx.conn()).await?.dun_levels();
    let level: Option<DunAction> =
        rc::level_of(rc::days_overdue(due, today), broken, &levels).map(|i| levels[i].action);
    let id: i64 = sqlx::query(
        "INSERT INTO collection_contacts (receivable_id, account_id, contacted_on, channel, note, promised_amount, \
         promised_on, level, paid_at_contact, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         RETURNING id",
    )
    .bind(receivable_id)
    .bind(account)
    .bind(l.on.format("%Y-%m-%d").to_string())
    .bind(l.channel.code())
    .bind(l.note.as_str())
    .bind(l.promised_amount)
    .bind(l.promised_on.map(|d| d.format("%Y-%m-%d").to_string()))
    .bind(level.map(|l| l.code()))
    .bind(paid)
    .bind(caller.username.as_str())
    .bind(now())
    .fetch_one(tx.conn())
    .await?
    .try_get("id")?;
    let after = json!({"receivable_id": receivable_id, "contacted_on": l.on.to_string(), "note": l.note,
        "promised_amount": l.promised_amount.map(format_fen), "promised_on": l.promised_on.map(|d| d.to_string()),
        "level": level.map(|l| l.code())});
    audit::record(tx, ctx, "account", &account.to_string(), "collection_contact", None, Some(&after)).await?;
    Ok(id)
}

/// A dunning letter (催款函): the account's amounts past due on `today`, most overdue first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Letter {
    pub account_id: i64,
    pub account_name: String,
    /// The name the customer is invoiced under, when the account has invoicing details.
    pub invoice_name: Option<String>,
    pub items: Vec<ReceivableView>,
    #[schema(pattern = r"^-?[0-9]+\.[0-9]{2}$")]
    pub total: String,
    #[schema(format = Date)]
    pub today: String,
    /// The day the letter asks payment by (today + 7 days).
    #[schema(format = Date)]
    pub pay_by: String,
}

/// The letter of an account in scope.
pub async fn letter(db: &Db, caller: &Caller, account_id: i64, today: NaiveDate) -> Result<Letter> {
    let mut conn = db.pool.acquire().await?;
    accounts::ensure_visible_in(&mut conn, caller, account_id).await?;
    let rows = sqlx::query(&format!(
        "{} WHERE r.account_id = $1 AND r.state = 'open' AND r.due_on < $2 ORDER BY r.due_on, r.id",
        rcv::REC_SELECT
    ))
    .bind(account_id)
    .bind(today.format("%Y-%m-%d").to_string())
    .fetch_all(&mut *conn)
    .await?;
    let items = rows.iter().map(|r| rcv::rec_view(r, today)).collect::<Result<Vec<_>>>()?;
    let total: i64 = items.iter().map(|r| parse_fen(&r.outstanding).unwrap_or(0)).sum();
    let names = sqlx::query(
        "SELECT a.name, i.title AS invoice_name FROM accounts a LEFT JOIN account_invoicing i ON i.account_id = a.id WHERE a.id = $1",
    )
    .bind(account_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Letter {
        account_id,
        account_name: names.try_get("name")?,
        invoice_name: names.try_get::<Option<String>, _>("invoice_name")?.filter(|n| !n.trim().is_empty()),
        items,
        total: format_fen(total),
        today: today.format("%Y-%m-%d").to_string(),
        pay_by: (today + chrono::Duration::days(7)).format("%Y-%m-%d").to_string(),
    })
}

/// Logs the letter as sent: a contact by letter on each amount it lists, in one transaction.
/// Gives how many were logged.
pub async fn letter_sent(db: &Db, ctx: &Ctx, account_id: i64, note: &str, today: NaiveDate) -> Result<usize> {
    let l = letter(db, &ctx.caller, account_id, today).await?;
    if l.items.is_empty() {
        return Err(Error::Conflict("nothing_overdue"));
    }
    let mut tx = db.begin().await?;
    for r in &l.items {
        let logged =
            Logged { on: today, channel: Channel::Letter, note: note.into(), promised_amount: None, promised_on: None };
        log_in(&mut tx, ctx, r.id, logged, today).await?;
    }
    tx.commit().await?;
    Ok(l.items.len())
}
