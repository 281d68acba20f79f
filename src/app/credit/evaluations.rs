//! The credit evaluation (客户信用评估; seed 003 §三.3): the scoring form (信用等级评分表) marked
//! item by item on the company's scale, the customer basic information sheet (客户基本情况表),
//! notes, and the required documents attached (business licence, the legal representative's ID,
//! the financial statements of the last year-end and quarter-end). Each evaluation is kept with
//! its score, day and evaluator; the latest sets the account's `credit_score` (audited). It does
//! not set the grade or the limit: those change only through an approved credit change.
//!
//! Credit information: only callers who see credit (`Caller::sees_credit`) read or write an
//! evaluation, for accounts in their scope; for anyone else there is none (404).
use crate::app::records::files::Storage;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::app::customers::accounts::{self, AccountRef};
use crate::app::records::attachments::{self, Attachment, FileHolder, FileIn};
use crate::app::records::audit;
use crate::app::{Caller, Ctx, Error, Result};
use crate::db::{now, Db, WriteTx};
use crate::domain::credit::{self as cr};
use crate::domain::error::Errors;
use crate::domain::money::{format_fen, parse_fen};
use crate::domain::text;

/// The subject kind of an evaluation's files and audit rows.
pub const FILES_KIND: &str = "credit_evaluation";

/// The customer basic information sheet (客户基本情况表).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BasicInfo {
    /// 法定代表人.
    #[schema(max_length = 100)]
    pub legal_representative: Option<String>,
    /// 注册资本, yuan.
    #[schema(value_type = Option<crate::web::api::contract::Money>)]
    pub registered_capital: Option<String>,
    /// 成立日期.
    #[schema(format = Date)]
    pub founded_on: Option<String>,
    /// 员工人数.
    #[schema(minimum = 0, maximum = 10000000)]
    pub employees: Option<i64>,
    /// 主营业务.
    #[schema(max_length = 500)]
    pub main_business: Option<String>,
    /// 开户银行.
    #[schema(max_length = 100)]
    pub bank_name: Option<String>,
    /// 银行账号.
    #[schema(max_length = 40)]
    pub bank_account: Option<String>,
    /// 上年营业收入, yuan.
    #[schema(value_type = Option<crate::web::api::contract::Money>)]
    pub revenue_last_year: Option<String>,
    /// 上年末总资产, yuan.
    #[schema(value_type = Option<crate::web::api::contract::Money>)]
    pub total_assets: Option<String>,
    /// 联系电话.
    #[schema(max_length = 40)]
    pub phone: Option<String>,
}

/// An evaluation as given.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluationIn {
    /// Each item of the form (`history`, `owner`, … see the credit settings) with its mark on
    /// the scale (0 to `scale_max`). Every item is required.
    #[schema(value_type = std::collections::BTreeMap<String, i64>)]
    pub items: BTreeMap<String, i64>,
    #[serde(default)]
    pub info: BasicInfo,
    #[schema(max_length = 2000)]
    pub notes: Option<String>,
}

/// One item of a kept evaluation.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ItemMark {
    pub item: String,
    pub category: String,
    pub mark: i64,
    /// The item's weight when the evaluation was made.
    pub weight: i64,
}

/// An evaluation as kept.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EvaluationView {
    pub id: i64,
    pub account_id: i64,
    /// The score on 0–100.
    pub score: i64,
    /// The scale the items were marked on (0 to this).
    pub scale_max: i64,
    pub items: Vec<ItemMark>,
    pub info: BasicInfo,
    pub notes: Option<String>,
    /// The evaluator (username) and their name.
    pub evaluated_by: String,
    pub evaluated_by_name: String,
    /// The day of the evaluation (the evaluator's day).
    #[schema(format = Date)]
    pub evaluated_on: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// The attached documents, each with its kind as `note` (`business_licence`,
    /// `legal_rep_id`, `statements_year_end`, `statements_quarter_end`, `other`).
    pub documents: Vec<Attachment>,
    /// The required documents not attached yet.
    pub missing_documents: Vec<String>,
    /// The credit limit the limit table now gives this score, yuan.
    #[schema(value_type = crate::web::api::contract::Money)]
    pub limit_for_score: String,
}

/// Whether the caller may read and write evaluations at all.
fn may(caller: &Caller) -> Result<()> {
    if caller.sees_credit() {
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}

/// Checks the basic information sheet, naming each bad field `info.<field>`.
fn check_info(i: &BasicInfo, e: &mut Errors) -> BasicInfo {
    let txt = |e: &mut Errors, f: &str, v: &Option<String>, max: usize| {
        e.take(&format!("info.{f}"), text::optional(v.as_deref(), max)).flatten()
    };
    let money =
        |e: &mut Errors, f: &str, v: &Option<String>| match v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            None => None,
            Some(v) => e.take(&format!("info.{f}"), parse_fen(v)).map(format_fen),
        };
    let founded_on = match i.founded_on.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => None,
        Some(d) => match chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d") {
            Ok(d) => Some(d.format("%Y-%m-%d").to_string()),
            Err(_) => {
                e.add("info.founded_on", "date_format");
                None
            }
        },
    };
    if i.employees.is_some_and(|n| !(0..=10_000_000).contains(&n)) {
        e.add("info.employees", "out_of_range");
    }
    BasicInfo {
        legal_representative: txt(e, "legal_representative", &i.legal_representative, 100),
        registered_capital: money(e, "registered_capital", &i.registered_capital),
        founded_on,
        employees: i.employees,
        main_business: txt(e, "main_business", &i.main_business, 500),
        bank_name: txt(e, "bank_name", &i.bank_name, 100),
        bank_account: txt(e, "bank_account", &i.bank_account, 40),
        revenue_last_year: money(e, "revenue_last_year", &i.revenue_last_year),
        total_assets: money(e, "total_assets", &i.total_assets),
        phone: txt(e, "phone", &i.phone, 40),
    }
}

/// Records an evaluation of an account: every item marked on the scale (a mark outside it, a
/// missing or unknown item: 422 naming `items.<item>`), the sheet and notes checked; the score
/// kept with the day and the evaluator, and set on the account (`credit_score`, audited).
pub async fn create(db: &Db, ctx: &Ctx, account_id: i64, inp: &EvaluationIn) -> Result<EvaluationView> {
    let mut tx = db.begin().await?;
    let v = create_in(&mut tx, ctx, account_id, inp).await?;
    tx.commit().await?;
    Ok(v)
}

/// As [`create`], inside the caller's transaction (a form saved once per token).
pub async fn create_in(tx: &mut WriteTx, ctx: &Ctx, account_id: i64, inp: &EvaluationIn) -> Result<EvaluationView> {
    let caller = &ctx.caller;
    may(caller)?;
    accounts::ensure_visible_in(tx.conn(), caller, account_id).await?;
    accounts::hold_live(tx, account_id).await?;
    let rules = super::settings::rules_in(tx.conn()).await?;
    let mut e = Errors::default();
    let marks: Vec<(String, i64)> = inp.items.iter().map(|(k, v)| (k.trim().to_string(), *v)).collect();
    let score = match cr::score(&marks, &rules) {
        Ok(s) => Some(s),
        Err(issues) => {
            for (f, c) in issues {
                e.add(&f, c);
            }
            None
        }
    };
    let info = check_info(&inp.info, &mut e);
    let notes = e.take("notes", text::optional(inp.notes.as_deref(), 2000)).flatten();
    e.finish()?;
    let score = score.unwrap_or(0);
    let items: Vec<ItemMark> = cr::ITEMS
        .iter()
        .map(|(item, cat)| ItemMark {
            item: item.to_string(),
            category: cat.to_string(),
            mark: marks.iter().find(|(x, _)| x == item).map(|(_, m)| *m).unwrap_or(0),
            weight: rules.weights.iter().find(|(x, _)| x == item).map(|(_, w)| *w).unwrap_or(0),
        })
        .collect();
    let items_json = serde_json::to_string(&items).map_err(anyhow::Error::from)?;
    let info_json = serde_json::to_string(&info).map_err(anyhow::Error::from)?;
    let day = caller.today();
    let at = now();
    let id: i64 = sqlx::query(
        "INSERT INTO credit_evaluations (account_id, score, scale_max, items_json, info_json, notes, evaluated_by, \
         evaluated_on, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(account_id)
    .bind(score)
    .bind(rules.scale_max)
    .bind(items_json)
    .bind(info_json)
    .bind(notes.clone())
    .bind(caller.user_id)
    .bind(day.clone())
    .bind(at.clone())
    .fetch_one(tx.conn())
    .await?
    .try_get("id")?;
    let before: Option<i64> = sqlx::query("SELECT credit_score FROM accounts WHERE id = $1")
        .bind(account_id)
        .fetch_one(tx.conn())
        .await?
        .try_get("credit_score")?;
    sqlx::query("UPDATE accounts SET credit_score = $1, version = version + 1, updated_at = $2 WHERE id = $3")
        .bind(score)
        .bind(at)
        .bind(account_id)
        .execute(tx.conn())
        .await?;
    audit::record(
        tx,
        ctx,
        "account",
        &account_id.to_string(),
        "credit_evaluation",
        Some(&json!({ "credit_score": before })),
        Some(&json!({ "credit_score": score, "credit_evaluation": id })),
    )
    .await?;
    audit::record(
        tx,
        ctx,
        FILES_KIND,
        &id.to_string(),
        "create",
        None,
        Some(&json!({
            "account_id": account_id,
            "credit_evaluation": {"score": score, "scale_max": rules.scale_max, "items": items, "info": info,
                "notes": notes, "evaluated_on": day}
        })),
    )
    .await?;
    one_in(tx.conn(), id).await
}

const SELECT: &str = "SELECT e.*, u.username AS evaluator, u.display_name AS evaluator_name FROM credit_evaluations e \
     JOIN users u ON u.id = e.evaluated_by";

fn view(r: &AnyRow, rules: &cr::Rules) -> Result<EvaluationView> {
    let items: Vec<ItemMark> = serde_json::from_str(&r.try_get::<String, _>("items_json")?).unwrap_or_default();
    let info: BasicInfo = serde_json::from_str(&r.try_get::<String, _>("info_json")?).unwrap_or_default();
    let score: i64 = r.try_get("score")?;
    Ok(EvaluationView {
        id: r.try_get("id")?,
        account_id: r.try_get("account_id")?,
        score,
        scale_max: r.try_get("scale_max")?,
        items,
        info,
        notes: r.try_get("notes")?,
        evaluated_by: r.try_get("evaluator")?,
        evaluated_by_name: r.try_get("evaluator_name")?,
        evaluated_on: r.try_get("evaluated_on")?,
        created_at: r.try_get("created_at")?,
        documents: vec![],
        missing_documents: vec![],
        limit_for_score: format_fen(cr::limit_for(score, rules)),
    })
}

/// The documents of an evaluation and the required ones missing.
async fn with_documents(conn: &mut sqlx::AnyConnection, mut v: EvaluationView) -> Result<EvaluationView> {
    v.documents = attachments::of(conn, FILES_KIND, v.id).await?;
    v.missing_documents = cr::REQUIRED_DOCUMENTS
        .iter()
        .filter(|d| !v.documents.iter().any(|a| a.note.as_deref() == Some(**d)))
        .map(|d| d.to_string())
        .collect();
    for a in &mut v.documents {
        a.removable = true;
    }
    Ok(v)
}

async fn one_in(conn: &mut sqlx::AnyConnection, id: i64) -> Result<EvaluationView> {
    let rules = super::settings::rules_in(conn).await?;
    let r = sqlx::query(&format!("{SELECT} WHERE e.id = $1")).bind(id).fetch_optional(&mut *conn).await?;
    let v = view(&r.ok_or(Error::NotFound)?, &rules)?;
    with_documents(conn, v).await
}

/// The account of an evaluation the caller may see (credit, and the account in scope), or 404.
async fn account_of(conn: &mut sqlx::AnyConnection, caller: &Caller, id: i64) -> Result<i64> {
    may(caller)?;
    let r = sqlx::query("SELECT account_id FROM credit_evaluations WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(Error::NotFound)?;
    let account_id: i64 = r.try_get("account_id")?;
    accounts::ensure_visible_in(conn, caller, account_id).await?;
    Ok(account_id)
}

/// One evaluation with its documents.
pub async fn get(db: &Db, caller: &Caller, id: i64) -> Result<EvaluationView> {
    let mut conn = db.pool.acquire().await?;
    account_of(&mut conn, caller, id).await?;
    one_in(&mut conn, id).await
}

/// An account's evaluations, newest first, each with its documents.
pub async fn of_account(db: &Db, caller: &Caller, account: impl Into<AccountRef>) -> Result<Vec<EvaluationView>> {
    may(caller)?;
    let account_id = account.into().check(db, caller).await?;
    let mut conn = db.pool.acquire().await?;
    let rules = super::settings::rules_in(&mut conn).await?;
    let rows = sqlx::query(&format!("{SELECT} WHERE e.account_id = $1 ORDER BY e.id DESC LIMIT 200"))
        .bind(account_id)
        .fetch_all(&mut *conn)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(with_documents(&mut conn, view(r, &rules)?).await?);
    }
    Ok(out)
}

/// The latest evaluation of an account (its day, score and evaluator), if any; the caller has
/// read the account in scope and sees credit.
pub async fn latest_in(conn: &mut sqlx::AnyConnection, account_id: i64) -> Result<Option<EvaluationView>> {
    let r = sqlx::query(&format!("{SELECT} WHERE e.account_id = $1 ORDER BY e.id DESC LIMIT 1"))
        .bind(account_id)
        .fetch_optional(&mut *conn)
        .await?;
    match r {
        None => Ok(None),
        Some(r) => {
            let rules = super::settings::rules_in(conn).await?;
            Ok(Some(with_documents(conn, view(&r, &rules)?).await?))
        }
    }
}

/// The kind of a document as its note gives it: one of the required ones or `other`.
fn document_kind(note: Option<&str>) -> Result<&'static str> {
    let n = note.map(str::trim).unwrap_or("");
    cr::REQUIRED_DOCUMENTS
        .iter()
        .chain(std::iter::once(&cr::OTHER_DOCUMENT))
        .find(|d| **d == n)
        .copied()
        .ok_or_else(|| Error::invalid("note", "invalid_choice"))
}

async fn lock(tx: &mut WriteTx, caller: &Caller, id: i64) -> Result<()> {
    account_of(tx.conn(), caller, id).await.map(|_| ())
}

/// The files of an evaluation: its documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Documents;

impl FileHolder for Documents {
    fn kind(self) -> &'static str {
        FILES_KIND
    }

    async fn seen(self, conn: &mut sqlx::AnyConnection, caller: &Caller, id: i64) -> Result<()> {
        account_of(conn, caller, id).await.map(|_| ())
    }

    async fn list(self, db: &Db, caller: &Caller, id: i64) -> Result<Vec<Attachment>> {
        Ok(get(db, caller, id).await?.documents)
    }

    /// Adds a document; its note names its kind (`business_licence`, `legal_rep_id`,
    /// `statements_year_end`, `statements_quarter_end` or `other`).
    async fn attach(self, db: &Db, ctx: &Ctx, store: &Storage, id: i64, f: &FileIn<'_>) -> Result<Attachment> {
        let kind = document_kind(f.note)?;
        let mut tx = db.begin().await?;
        lock(&mut tx, &ctx.caller, id).await?;
        let f = FileIn { file_name: f.file_name, note: Some(kind), bytes: f.bytes };
        let a = attachments::add_in(&mut tx, ctx, store, FILES_KIND, id, None, &f).await?;
        tx.commit().await?;
        Ok(Attachment { removable: true, ..a })
    }

    async fn detach(self, db: &Db, ctx: &Ctx, id: i64, file_id: i64) -> Result<()> {
        let mut tx = db.begin().await?;
        lock(&mut tx, &ctx.caller, id).await?;
        attachments::remove_in(&mut tx, ctx, FILES_KIND, id, file_id).await?;
        tx.commit().await?;
        Ok(())
    }
}
