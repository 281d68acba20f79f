//! Grades and limits as the figures give them (seed 003 §三.1–2): the grade of the transaction
//! amount's band (trailing-12-month sales, `accounts.sales_12m`) worsened by the fulfilment
//! record, and the limit the limit table gives a score. These are what the figures *give*: the
//! stored grade and limit (`accounts.credit_grade`, `credit_limit`) change only through an
//! approved credit change, for which a computed grade that differs is a trigger.
use serde::Serialize;
use sqlx::Row;

use crate::app::customers::accounts::Seen;
use crate::app::{Caller, Error, Result};
use crate::db::Db;
use crate::domain::account::CreditGrade;
use crate::domain::credit::{self as cr, Measures};
use crate::domain::money::{format_bp, format_fen};

/// The grade the figures give an account, with the reason in words (the amount, its band, the
/// fulfilment record and the steps it took off), or `None` when the account has no transaction
/// amount to grade (`sales_12m` empty) or does not exist. `fulfilment`: (installments due,
/// fulfilled) of the trailing twelve months, when known (none due: no effect).
pub async fn computed_grade(
    conn: &mut sqlx::AnyConnection,
    account_id: i64,
    fulfilment: Option<(i64, i64)>,
) -> Result<Option<(CreditGrade, String)>> {
    Ok(computed(conn, account_id, fulfilment).await?.map(|c| {
        let reason = reason_zh(&c);
        (c.grade, reason)
    }))
}

/// The limit (fen) the company's limit table gives a score.
pub async fn limit_for_score(conn: &mut sqlx::AnyConnection, score: i64) -> Result<i64> {
    let rules = super::settings::rules_in(conn).await?;
    Ok(cr::limit_for(score, &rules))
}

/// How the figures grade an account.
#[derive(Debug, Clone, Serialize)]
pub struct Computed {
    pub grade: CreditGrade,
    /// The grade of the amount's band alone.
    pub by_amount: CreditGrade,
    /// The steps the fulfilment record took off.
    pub down: i64,
    /// The transaction amount (trailing 12 months), yuan.
    pub amount: String,
    /// (due, fulfilled), when known.
    pub fulfilment: Option<(i64, i64)>,
}

/// See [`computed_grade`].
pub async fn computed(
    conn: &mut sqlx::AnyConnection,
    account_id: i64,
    fulfilment: Option<(i64, i64)>,
) -> Result<Option<Computed>> {
    let r = sqlx::query("SELECT sales_12m FROM accounts WHERE id = $1 AND deleted_at IS NULL")
        .bind(account_id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(amount) = r.map(|r| r.try_get::<Option<i64>, _>("sales_12m")).transpose()?.flatten() else {
        return Ok(None);
    };
    let rules = super::settings::rules_in(conn).await?;
    let g = cr::graded(amount, fulfilment, &rules);
    Ok(Some(Computed { grade: g.grade, by_amount: g.by_amount, down: g.down, amount: format_fen(amount), fulfilment }))
}

/// The fulfilment rate as a percentage with two decimals, rounded down ("74.99"), or none.
pub fn rate(f: Option<(i64, i64)>) -> Option<String> {
    match f {
        Some((due, fulfilled)) if due > 0 => Some(format_bp(fulfilled * 10_000 / due)),
        _ => None,
    }
}

/// The reason in the company's language (it is kept as a note with a credit trigger).
fn reason_zh(c: &Computed) -> String {
    let name = |g: CreditGrade| match g {
        CreditGrade::Green => "绿名单",
        CreditGrade::Yellow => "黄名单",
        CreditGrade::Red => "红名单",
        CreditGrade::Black => "黑名单",
    };
    let mut s = format!("近12个月交易额 {} 元，按交易额为{}", c.amount, name(c.by_amount));
    match (c.fulfilment, rate(c.fulfilment)) {
        (Some((due, fulfilled)), Some(r)) => {
            s.push_str(&format!("；履约 {fulfilled}/{due} 期（{r}%）"));
            if c.down > 0 {
                s.push_str(&format!("，降 {} 级为{}", c.down, name(c.grade)));
            }
        }
        _ => s.push_str("；无到期分期，履约记录不影响等级"),
    }
    s
}

/// An account's credit as the account page shows it to those who see credit.
#[derive(Debug, Clone)]
pub struct Panel {
    pub grade: Option<CreditGrade>,
    pub limit: Option<String>,
    pub score: Option<i64>,
    /// The stored grade's measures.
    pub measures: Option<Measures>,
    /// The measures' largest discount (%), "15.00".
    pub max_discount: String,
    pub latest: Option<super::evaluations::EvaluationView>,
    /// What the figures now give: the grade and the limit of the stored score.
    pub computed: Option<Computed>,
    pub limit_for_score: Option<String>,
    /// The computed grade's amount, yuan.
    pub computed_amount: Option<String>,
    pub is_default: bool,
}

/// The account page's credit section (the caller sees credit and has read the account).
pub async fn panel(db: &Db, caller: &Caller, seen: Seen, fulfilment: Option<(i64, i64)>) -> Result<Panel> {
    if !caller.sees_credit() {
        return Err(Error::NotFound);
    }
    let mut conn = db.pool.acquire().await?;
    let r = sqlx::query("SELECT credit_grade, credit_limit, credit_score FROM accounts WHERE id = $1")
        .bind(seen.id())
        .fetch_one(&mut *conn)
        .await?;
    let grade: Option<String> = r.try_get("credit_grade")?;
    let grade = grade.and_then(|g| CreditGrade::parse(&g).ok());
    let limit: Option<i64> = r.try_get("credit_limit")?;
    let score: Option<i64> = r.try_get("credit_score")?;
    let settings = super::settings::load_in(&mut conn).await?;
    let latest = super::evaluations::latest_in(&mut conn, seen.id()).await?;
    let computed = computed(&mut conn, seen.id(), fulfilment).await?;
    let measures = grade.map(|g| cr::measures_of(g, &settings.rules));
    Ok(Panel {
        max_discount: measures.as_ref().map(|m| format_bp(m.max_discount_bp)).unwrap_or_default(),
        measures,
        computed_amount: computed.as_ref().map(|c| c.amount.clone()),
        grade,
        limit: limit.map(format_fen),
        score,
        latest,
        computed,
        limit_for_score: score.map(|s| format_fen(cr::limit_for(s, &settings.rules))),
        is_default: settings.is_default,
    })
}

/// Whether the account's stored grade carries measures that restrict its terms — all a caller
/// below supervisor level is told ("these terms need approval"), never the grade itself.
pub async fn terms_need_approval(db: &Db, seen: Seen) -> Result<bool> {
    let mut conn = db.pool.acquire().await?;
    let g: Option<String> = sqlx::query("SELECT credit_grade FROM accounts WHERE id = $1")
        .bind(seen.id())
        .fetch_one(&mut *conn)
        .await?
        .try_get("credit_grade")?;
    let Some(g) = g.and_then(|g| CreditGrade::parse(&g).ok()) else { return Ok(false) };
    let rules = super::settings::rules_in(&mut conn).await?;
    Ok(cr::measures_of(g, &rules).restricts())
}
