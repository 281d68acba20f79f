//! The customer's invoicing details (开票信息, issue 21): the name on the invoice, the tax
//! number, the address and phone, the bank and account number, kept on the account. Read as
//! the account is (scope); written by the sales roles that see the account, over the version
//! the writer read; every change audited.
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::app::customers::accounts;
use crate::app::records::audit;
use crate::app::{Caller, Ctx, Error, Result};
use crate::db::{now, Db};
use crate::domain::error::Errors;
use crate::domain::order as o;
use crate::domain::text;

/// An account's invoicing details.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InvoicingView {
    pub account_id: i64,
    /// The name the invoice is made out to (发票抬头).
    pub title: String,
    /// 纳税人识别号: an 18-character unified social credit code, or 15–20 letters and digits.
    pub tax_number: String,
    pub address: Option<String>,
    pub phone: Option<String>,
    /// 开户银行.
    pub bank: Option<String>,
    /// 银行账号.
    pub bank_account: Option<String>,
    /// The row version for concurrent edits (0: none recorded yet).
    pub version: i64,
    pub updated_by: Option<String>,
    #[schema(format = DateTime)]
    pub updated_at: Option<String>,
}

/// The invoicing details as given (`PUT`: the whole record).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoicingIn {
    /// The version read (0 or absent when the account has none yet).
    #[serde(default)]
    pub version: Option<i64>,
    #[schema(max_length = 200)]
    pub title: Option<String>,
    #[schema(example = "91350100M000100Y43")]
    pub tax_number: Option<String>,
    #[serde(default)]
    #[schema(max_length = 300)]
    pub address: Option<String>,
    #[serde(default)]
    #[schema(max_length = 50)]
    pub phone: Option<String>,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub bank: Option<String>,
    #[serde(default)]
    #[schema(example = "6222020012345678")]
    pub bank_account: Option<String>,
}

fn view(account_id: i64, r: Option<&AnyRow>) -> Result<InvoicingView> {
    Ok(match r {
        None => InvoicingView {
            account_id,
            title: String::new(),
            tax_number: String::new(),
            address: None,
            phone: None,
            bank: None,
            bank_account: None,
            version: 0,
            updated_by: None,
            updated_at: None,
        },
        Some(r) => InvoicingView {
            account_id,
            title: r.try_get("title")?,
            tax_number: r.try_get("tax_number")?,
            address: r.try_get("address")?,
            phone: r.try_get("phone")?,
            bank: r.try_get("bank")?,
            bank_account: r.try_get("bank_account")?,
            version: r.try_get("version")?,
            updated_by: Some(r.try_get("updated_by")?),
            updated_at: Some(r.try_get("updated_at")?),
        },
    })
}

async fn read(conn: &mut sqlx::AnyConnection, account_id: i64) -> Result<InvoicingView> {
    let r = sqlx::query("SELECT * FROM account_invoicing WHERE account_id = $1")
        .bind(account_id)
        .fetch_optional(&mut *conn)
        .await?;
    view(account_id, r.as_ref())
}

/// The account's invoicing details (empty, version 0, when none are recorded).
pub async fn get(db: &Db, caller: &Caller, account_id: i64) -> Result<InvoicingView> {
    let mut conn = db.pool.acquire().await?;
    accounts::ensure_visible_in(&mut conn, caller, account_id).await?;
    read(&mut conn, account_id).await
}

/// [`get`] for an account the caller was just shown (its page).
pub async fn of_seen(db: &Db, seen: accounts::Seen) -> Result<InvoicingView> {
    let mut conn = db.pool.acquire().await?;
    read(&mut conn, seen.id()).await
}

/// Checks the details; every refusal names its field.
fn prepare(inp: &InvoicingIn) -> Result<(String, String, [Option<String>; 4])> {
    let mut e = Errors::default();
    let title = e.take("title", text::required(inp.title.as_deref(), 200));
    let tax = match inp.tax_number.as_deref() {
        None => {
            e.add("tax_number", "required");
            None
        }
        Some(t) => e.take("tax_number", o::parse_tax_number(t)),
    };
    let address = e.take("address", text::optional(inp.address.as_deref(), 300)).flatten();
    let phone = e.take("phone", text::optional(inp.phone.as_deref(), 50)).flatten();
    let bank = e.take("bank", text::optional(inp.bank.as_deref(), 200)).flatten();
    let account = match inp.bank_account.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(a) => e.take("bank_account", o::parse_bank_account(a)),
    };
    if account.is_some() && bank.is_none() {
        e.add("bank", "required");
    }
    e.finish()?;
    Ok((title.unwrap_or_default(), tax.unwrap_or_default(), [address, phone, bank, account]))
}

/// Records the account's invoicing details over the version read.
pub async fn put(db: &Db, ctx: &Ctx, account_id: i64, inp: &InvoicingIn) -> Result<InvoicingView> {
    let caller = &ctx.caller;
    let mut tx = db.begin().await?;
    accounts::ensure_visible_in(tx.conn(), caller, account_id).await?;
    if !caller.role.edits_accounts() {
        return Err(Error::Forbidden);
    }
    let before = read(tx.conn(), account_id).await?;
    let given = inp.version.unwrap_or(0);
    if given != before.version {
        return Err(Error::StaleVersion { current: before.version });
    }
    let (title, tax, [address, phone, bank, bank_account]) = prepare(inp)?;
    let at = now();
    if before.version == 0 {
        sqlx::query(
            "INSERT INTO account_invoicing (account_id, title, tax_number, address, phone, bank, bank_account, version, \
             updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $9)",
        )
        .bind(account_id)
        .bind(title)
        .bind(tax)
        .bind(address)
        .bind(phone)
        .bind(bank)
        .bind(bank_account)
        .bind(caller.username.as_str())
        .bind(at)
        .execute(tx.conn())
        .await?;
    } else {
        let done = sqlx::query(
            "UPDATE account_invoicing SET title = $1, tax_number = $2, address = $3, phone = $4, bank = $5, \
             bank_account = $6, version = version + 1, updated_by = $7, updated_at = $8 WHERE account_id = $9 AND version = $10",
        )
        .bind(title)
        .bind(tax)
        .bind(address)
        .bind(phone)
        .bind(bank)
        .bind(bank_account)
        .bind(caller.username.as_str())
        .bind(at)
        .bind(account_id)
        .bind(before.version)
        .execute(tx.conn())
        .await?;
        if done.rows_affected() != 1 {
            return Err(Error::StaleVersion { current: before.version });
        }
    }
    let after = read(tx.conn(), account_id).await?;
    let j = |v: &InvoicingView| {
        json!({"invoice_title": v.title, "tax_number": v.tax_number, "address": v.address, "phone": v.phone,
               "bank": v.bank, "bank_account": v.bank_account, "version": v.version})
    };
    let before_json = (before.version > 0).then(|| j(&before));
    audit::record(
        &mut tx,
        ctx,
        "account",
        &account_id.to_string(),
        "invoicing",
        before_json.as_ref(),
        Some(&j(&after)),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}
