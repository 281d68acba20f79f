//! Quarterly satisfaction surveys (seed 002 §六): a campaign per quarter asks every key
//! account's purchasing, engineering, logistics and quality departments the company's
//! questionnaire (scales 1–5 or 0–10, a free comment). Answers are entered by staff, imported
//! from the outside provider's XLSX (all rows or none), or given by the customer's contact
//! through a one-time link (only its hash kept; expiring; used once; rate limited). A low score
//! or a problem stated in the comment raises an open point (`opl::raise_in`, source `survey`).
//! Scores by question, department, account, region and overall, and their trend over quarters.
use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

use crate::app::customers::accounts;
use crate::app::records::audit;
use crate::app::voice::opl::{self, OplNew};
use crate::app::{Caller, Ctx, Error, Result};
use crate::db::sql::Sql;
use crate::db::{parse_ts, ts, Db, WriteTx};
use crate::domain::error::{Errors, FieldError};

/// The settings key of the questionnaire.
pub const KEY: &str = "survey";
/// The departments a campaign asks.
pub const DEPARTMENTS: &[&str] = &["purchasing", "engineering", "logistics", "quality"];
/// Tries of the public page one client may make in an hour.
pub const LINK_TRIES_PER_HOUR: i64 = 30;

/// A question of the questionnaire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SurveyQuestion {
    /// Stable key (`a-z0-9_`).
    pub key: String,
    pub label_zh: String,
    pub label_en: String,
    /// `1-5` or `0-10`.
    pub scale: String,
}

impl SurveyQuestion {
    pub fn range(&self) -> (i64, i64) {
        if self.scale == "0-10" {
            (0, 10)
        } else {
            (1, 5)
        }
    }
    pub fn label(&self, locale: &str) -> &str {
        if locale.starts_with("en") {
            &self.label_en
        } else {
            &self.label_zh
        }
    }
}

/// The company's questionnaire and the survey's numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SurveySettings {
    pub questions: Vec<SurveyQuestion>,
    /// Days a one-time link stays valid.
    pub link_days: i64,
    /// A score at or below this on a 1–5 scale is low (raises an open point).
    pub low_1_5: i64,
    /// A score at or below this on a 0–10 scale is low.
    pub low_0_10: i64,
    /// Words that state a problem in a comment (raises an open point).
    pub problem_words: Vec<String>,
}

fn q(key: &str, zh: &str, en: &str, scale: &str) -> SurveyQuestion {
    SurveyQuestion { key: key.into(), label_zh: zh.into(), label_en: en.into(), scale: scale.into() }
}

impl Default for SurveySettings {
    /// The shipped questionnaire: the company's choice, editable (not the seed's).
    fn default() -> Self {
        SurveySettings {
            questions: vec![
                q("overall", "总体满意度", "Overall satisfaction", "0-10"),
                q("quality", "产品质量", "Product quality", "1-5"),
                q("delivery", "准时交付", "On-time delivery", "1-5"),
                q("responsiveness", "响应速度", "Responsiveness", "1-5"),
                q("technical", "技术支持", "Technical support", "1-5"),
                q("commercial", "商务条件与沟通", "Commercial terms and communication", "1-5"),
            ],
            link_days: 14,
            low_1_5: 2,
            low_0_10: 4,
            problem_words: ["问题", "投诉", "延误", "不满", "problem", "complaint", "late", "delay"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
        }
    }
}

impl SurveySettings {
    pub fn validate(&self) -> Result<()> {
        let mut e = Errors::default();
        if self.questions.is_empty() {
            e.add("questions", "required");
        }
        let mut seen = vec![];
        for (i, q) in self.questions.iter().enumerate() {
            if q.key.is_empty() || !q.key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
                e.add(&format!("questions.{i}.key"), "key_format");
            } else if seen.contains(&q.key) {
                e.add(&format!("questions.{i}.key"), "duplicate");
            }
            seen.push(q.key.clone());
            if q.label_zh.trim().is_empty() {
                e.add(&format!("questions.{i}.label_zh"), "required");
            }
            if q.label_en.trim().is_empty() {
                e.add(&format!("questions.{i}.label_en"), "required");
            }
            if q.scale != "1-5" && q.scale != "0-10" {
                e.add(&format!("questions.{i}.scale"), "invalid_choice");
            }
        }
        if !(1..=90).contains(&self.link_days) {
            e.add("link_days", "out_of_range");
        }
        if !(1..=4).contains(&self.low_1_5) {
            e.add("low_1_5", "out_of_range");
        }
        if !(0..=9).contains(&self.low_0_10) {
            e.add("low_0_10", "out_of_range");
        }
        if e.0.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(e.0))
        }
    }
    fn low(&self, q: &SurveyQuestion, score: i64) -> bool {
        score <= if q.scale == "0-10" { self.low_0_10 } else { self.low_1_5 }
    }
}

/// The questionnaire as set (the shipped default when none).
pub async fn settings_of(conn: &mut sqlx::AnyConnection) -> Result<(SurveySettings, i64)> {
    let r = sqlx::query("SELECT value, version FROM settings WHERE key = $1").bind(KEY).fetch_optional(conn).await?;
    match r {
        Some(r) => {
            let v: String = r.try_get("value")?;
            let s = serde_json::from_str(&v).map_err(anyhow::Error::from)?;
            Ok((s, r.try_get("version")?))
        }
        None => Ok((SurveySettings::default(), 0)),
    }
}

pub async fn settings(db: &Db) -> Result<(SurveySettings, i64)> {
    let mut conn = db.pool.acquire().await?;
    settings_of(&mut conn).await
}

/// Who sets the questionnaire and opens campaigns: the KA director and those above.
pub fn manages(caller: &Caller) -> bool {
    use crate::domain::role::Role::*;
    matches!(caller.role, Gm | MarketingDirector | SalesDeptManager | KaDirector | Marketing)
}

/// Saves the questionnaire (version-checked; `version` 0 when none was saved yet).
pub async fn save_settings(db: &Db, ctx: &Ctx, s: &SurveySettings, version: i64) -> Result<()> {
    if !manages(&ctx.caller) && !ctx.caller.role.is_admin() {
        return Err(Error::Forbidden);
    }
    s.validate()?;
    let mut tx = db.begin().await?;
    let (before, current) = settings_of(tx.conn()).await?;
    if current != version {
        return Err(Error::StaleVersion { current });
    }
    let v = serde_json::to_string(s).map_err(anyhow::Error::from)?;
    let at = ts(crate::app::clock::now());
    if current == 0 {
        sqlx::query("INSERT INTO settings (key, value, version, updated_at, updated_by) VALUES ($1, $2, 1, $3, $4)")
            .bind(KEY)
            .bind(v)
            .bind(at)
            .bind(ctx.caller.username.as_str())
            .execute(tx.conn())
            .await?;
    } else {
        sqlx::query(
            "UPDATE settings SET value = $1, version = version + 1, updated_at = $2, updated_by = $3 WHERE key = $4",
        )
        .bind(v)
        .bind(at)
        .bind(ctx.caller.username.as_str())
        .bind(KEY)
        .execute(tx.conn())
        .await?;
    }
    audit::record(&mut tx, ctx, "settings", KEY, "update", Some(&json!(before)), Some(&json!(s))).await?;
    tx.commit().await?;
    Ok(())
}

// ------------------------------------------------------------------------------ campaigns

/// A quarter's campaign.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Campaign {
    pub id: i64,
    /// `YYYY-Qn`.
    pub quarter: String,
    pub questions: Vec<SurveyQuestion>,
    pub departments: Vec<String>,
    /// `open` or `closed`.
    pub state: String,
    pub created_at: String,
    /// Responses received (in the caller's scope).
    pub responses: i64,
    /// Responses expected (key accounts in scope × departments).
    pub expected: i64,
}

pub fn valid_quarter(q: &str) -> bool {
    let b = q.as_bytes();
    q.len() == 7
        && q[..4].parse::<i32>().is_ok_and(|y| (2000..=2100).contains(&y))
        && &q[4..6] == "-Q"
        && (b'1'..=b'4').contains(&b[6])
}

/// The quarter a day falls in (`2026-Q4`).
pub fn quarter_of(d: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    format!("{}-Q{}", d.year(), d.month0() / 3 + 1)
}

fn campaign_of(r: &sqlx::any::AnyRow) -> Result<Campaign> {
    let qs: String = r.try_get("questions")?;
    let ds: String = r.try_get("departments")?;
    Ok(Campaign {
        id: r.try_get("id")?,
        quarter: r.try_get("quarter")?,
        questions: serde_json::from_str(&qs).map_err(anyhow::Error::from)?,
        departments: serde_json::from_str(&ds).map_err(anyhow::Error::from)?,
        state: r.try_get("state")?,
        created_at: r.try_get("created_at")?,
        responses: 0,
        expected: 0,
    })
}

const CAMPAIGN_COLS: &str = "SELECT id, quarter, questions, departments, state, created_at FROM survey_campaigns";

/// Opens the campaign of `quarter` with the questionnaire as set now and the four departments.
pub async fn open_campaign(db: &Db, ctx: &Ctx, quarter: &str) -> Result<i64> {
    if !manages(&ctx.caller) {
        return Err(Error::Forbidden);
    }
    let quarter = quarter.trim();
    if !valid_quarter(quarter) {
        return Err(Error::invalid("quarter", "quarter_format"));
    }
    let mut tx = db.begin().await?;
    let id = open_campaign_in(&mut tx, ctx, quarter).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn open_campaign_in(tx: &mut WriteTx, ctx: &Ctx, quarter: &str) -> Result<i64> {
    if let Some(r) = sqlx::query("SELECT id FROM survey_campaigns WHERE quarter = $1")
        .bind(quarter)
        .fetch_optional(tx.conn())
        .await?
    {
        return Err(Error::Duplicate { field: "quarter", existing_id: r.try_get("id")? });
    }
    let (s, _) = settings_of(tx.conn()).await?;
    let qs = serde_json::to_string(&s.questions).map_err(anyhow::Error::from)?;
    let ds = serde_json::to_string(DEPARTMENTS).map_err(anyhow::Error::from)?;
    let id: i64 = sqlx::query(
        "INSERT INTO survey_campaigns (quarter, questions, departments, state, created_by, created_at) \
         VALUES ($1, $2, $3, 'open', $4, $5) RETURNING id",
    )
    .bind(quarter)
    .bind(qs)
    .bind(ds)
    .bind(ctx.caller.username.as_str())
    .bind(ts(crate::app::clock::now()))
    .fetch_one(tx.conn())
    .await?
    .try_get("id")?;
    audit::record(tx, ctx, "survey_campaign", &id.to_string(), "create", None, Some(&json!({"quarter": quarter})))
        .await?;
    Ok(id)
}

/// The campaigns, newest first, with the responses the caller sees.
pub async fn campaigns(db: &Db, caller: &Caller) -> Result<Vec<Campaign>> {
    let mut conn = db.pool.acquire().await?;
    let rows = sqlx::query(&format!("{CAMPAIGN_COLS} ORDER BY quarter DESC")).fetch_all(&mut *conn).await?;
    let mut out = rows.iter().map(campaign_of).collect::<Result<Vec<_>>>()?;
    let mut s = Sql::new(
        "SELECT r.campaign_id, COUNT(*) AS n FROM survey_responses r JOIN accounts a ON a.id = r.account_id WHERE 1 = 1",
    );
    accounts::push_scope(&mut s, caller);
    s.push(" GROUP BY r.campaign_id");
    let mut n = HashMap::new();
    for r in s.query().fetch_all(&mut *conn).await? {
        n.insert(r.try_get::<i64, _>("campaign_id")?, r.try_get::<i64, _>("n")?);
    }
    let mut s = Sql::new("SELECT COUNT(*) AS n FROM accounts a WHERE a.status = 'key_account'");
    accounts::push_scope(&mut s, caller);
    let keys: i64 = s.query().fetch_one(&mut *conn).await?.try_get("n")?;
    for c in &mut out {
        c.responses = n.get(&c.id).copied().unwrap_or(0);
        c.expected = keys * c.departments.len() as i64;
    }
    Ok(out)
}

pub async fn campaign(db: &Db, id: i64) -> Result<Campaign> {
    let mut conn = db.pool.acquire().await?;
    campaign_in(&mut conn, id).await
}

async fn campaign_in(conn: &mut sqlx::AnyConnection, id: i64) -> Result<Campaign> {
    let r = sqlx::query(&format!("{CAMPAIGN_COLS} WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or(Error::NotFound)?;
    campaign_of(&r)
}

pub async fn campaign_by_quarter(db: &Db, quarter: &str) -> Result<Campaign> {
    let r = sqlx::query(&format!("{CAMPAIGN_COLS} WHERE quarter = $1"))
        .bind(quarter)
        .fetch_optional(&db.pool)
        .await?
        .ok_or(Error::NotFound)?;
    campaign_of(&r)
}

// ------------------------------------------------------------------------------ responses

/// One score.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ScoreInput {
    pub question: String,
    pub score: Option<i64>,
}

/// One department's answers.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ResponseInput {
    pub account_id: i64,
    /// `purchasing`, `engineering`, `logistics` or `quality` (asked by the campaign).
    pub department: String,
    #[serde(default)]
    pub respondent: Option<String>,
    pub scores: Vec<ScoreInput>,
    #[serde(default)]
    pub comment: Option<String>,
}

/// The field errors of a response against its campaign (field names `department`,
/// `scores.<question>`, `comment`, `respondent`).
pub fn check_response(c: &Campaign, r: &ResponseInput) -> Vec<FieldError> {
    let mut e = Errors::default();
    if !c.departments.iter().any(|d| d == &r.department) {
        e.add("department", "not_asked");
    }
    for s in &r.scores {
        if !c.questions.iter().any(|q| q.key == s.question) {
            e.add(&format!("scores.{}", s.question), "invalid_choice");
        }
    }
    for q in &c.questions {
        match r.scores.iter().find(|s| s.question == q.key).and_then(|s| s.score) {
            None => e.add(&format!("scores.{}", q.key), "required"),
            Some(v) => {
                let (lo, hi) = q.range();
                if v < lo || v > hi {
                    e.add(&format!("scores.{}", q.key), if hi == 10 { "score_0_10" } else { "score_1_5" });
                }
            }
        }
    }
    if r.comment.as_deref().is_some_and(|c| c.chars().count() > 4000) {
        e.add("comment", "too_long");
    }
    if r.respondent.as_deref().is_some_and(|c| c.chars().count() > 200) {
        e.add("respondent", "too_long");
    }
    e.0
}

/// Records a checked response inside `tx`, raising an open point when a score is low or the
/// comment states a problem. Returns the response's id.
async fn record_in(
    tx: &mut WriteTx,
    ctx: &Ctx,
    c: &Campaign,
    r: &ResponseInput,
    channel: &str,
    settings: &SurveySettings,
) -> Result<i64> {
    let st: Option<String> = sqlx::query("SELECT status FROM accounts WHERE id = $1 AND deleted_at IS NULL")
        .bind(r.account_id)
        .fetch_optional(tx.conn())
        .await?
        .map(|x| x.try_get("status"))
        .transpose()?;
    match st.as_deref() {
        None => return Err(Error::invalid("account_id", "not_found")),
        Some("key_account") => {}
        Some(_) => return Err(Error::invalid("account_id", "survey_needs_key_account")),
    }
    if let Some(x) =
        sqlx::query("SELECT id FROM survey_responses WHERE campaign_id = $1 AND account_id = $2 AND department = $3")
            .bind(c.id)
            .bind(r.account_id)
            .bind(r.department.as_str())
            .fetch_optional(tx.conn())
            .await?
    {
        return Err(Error::Duplicate { field: "department", existing_id: x.try_get("id")? });
    }
    let now = crate::app::clock::now();
    let comment = r.comment.as_deref().map(str::trim).filter(|c| !c.is_empty()).map(str::to_string);
    let respondent = r.respondent.as_deref().map(str::trim).filter(|c| !c.is_empty()).map(str::to_string);
    let id: i64 = sqlx::query(
        "INSERT INTO survey_responses (campaign_id, account_id, department, respondent, comment, channel, answered_at, \
         entered_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(c.id)
    .bind(r.account_id)
    .bind(r.department.as_str())
    .bind(respondent.clone())
    .bind(comment.clone())
    .bind(channel)
    .bind(ts(now))
    .bind(ctx.caller.username.as_str())
    .fetch_one(tx.conn())
    .await?
    .try_get("id")?;
    let mut low = vec![];
    for q in &c.questions {
        let v = r.scores.iter().find(|s| s.question == q.key).and_then(|s| s.score).unwrap_or(0);
        let (lo, hi) = q.range();
        let pct = (v - lo) * 10_000 / (hi - lo);
        sqlx::query(
            "INSERT INTO survey_scores (response_id, question, campaign_id, account_id, department, score, scale_max, pct) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id)
        .bind(q.key.as_str())
        .bind(c.id)
        .bind(r.account_id)
        .bind(r.department.as_str())
        .bind(v)
        .bind(hi)
        .bind(pct)
        .execute(tx.conn())
        .await?;
        if settings.low(q, v) {
            low.push(format!("{} {v}/{hi}", q.label(&ctx.caller.locale)));
        }
    }
    sqlx::query(
        "UPDATE survey_responses SET pct_sum = (SELECT COALESCE(SUM(s.pct), 0) FROM survey_scores s \
         WHERE s.response_id = $1), n_scores = (SELECT COUNT(*) FROM survey_scores s WHERE s.response_id = $1) \
         WHERE id = $1",
    )
    .bind(id)
    .execute(tx.conn())
    .await?;
    audit::record(
        tx,
        ctx,
        "survey_response",
        &id.to_string(),
        "create",
        None,
        Some(
            &json!({"campaign": c.quarter, "account_id": r.account_id, "department": r.department, "channel": channel,
            "scores": r.scores.iter().map(|s| json!({"question": s.question, "score": s.score})).collect::<Vec<_>>(),
            "comment": comment}),
        ),
    )
    .await?;
    let problem = comment.as_deref().is_some_and(|c| {
        let lc = c.to_lowercase();
        settings.problem_words.iter().any(|w| !w.is_empty() && lc.contains(&w.to_lowercase()))
    });
    if !low.is_empty() || problem {
        let loc = ctx.caller.locale.as_str();
        let dept = rust_i18n::t!(format!("survey.dept.{}", r.department), locale = loc).into_owned();
        let title = if low.is_empty() {
            rust_i18n::t!("survey.opl.problem_title", locale = loc, quarter = c.quarter, dept = dept).into_owned()
        } else {
            rust_i18n::t!("survey.opl.low_title", locale = loc, quarter = c.quarter, dept = dept, low = low.join(", "))
                .into_owned()
        };
        opl::raise_in(
            tx,
            ctx,
            &OplNew {
                account_id: r.account_id,
                source: "survey",
                source_id: Some(id),
                title: title.chars().take(200).collect(),
                detail: comment,
                due_on: None,
            },
        )
        .await?;
    }
    Ok(id)
}

/// Enters a department's answers by hand (staff who see the account and edit accounts).
pub async fn enter(db: &Db, ctx: &Ctx, campaign_id: i64, r: &ResponseInput) -> Result<i64> {
    let caller = &ctx.caller;
    let mut tx = db.begin().await?;
    accounts::ensure_visible_in(tx.conn(), caller, r.account_id).await?;
    if !(caller.role.edits_accounts() || manages(caller)) {
        return Err(Error::Forbidden);
    }
    let c = campaign_in(tx.conn(), campaign_id).await?;
    let errs = check_response(&c, r);
    if !errs.is_empty() {
        return Err(Error::Invalid(errs));
    }
    let (s, _) = settings_of(tx.conn()).await?;
    let id = record_in(&mut tx, ctx, &c, r, "staff", &s).await?;
    tx.commit().await?;
    Ok(id)
}

// ------------------------------------------------------------------------------ one-time links

/// A link just made: the token is shown once and never stored.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NewLink {
    pub id: i64,
    pub token: String,
    /// `/s/{token}`.
    pub path: String,
    pub expires_at: String,
}

fn hash(token: &str) -> String {
    crate::app::people::auth::sha256(token)
}

/// Makes a one-time link for one department of a key account the caller sees.
pub async fn make_link(
    db: &Db,
    ctx: &Ctx,
    campaign_id: i64,
    account_id: i64,
    department: &str,
    respondent: Option<&str>,
) -> Result<NewLink> {
    let caller = &ctx.caller;
    let mut tx = db.begin().await?;
    accounts::ensure_visible_in(tx.conn(), caller, account_id).await?;
    if !(caller.role.edits_accounts() || manages(caller)) {
        return Err(Error::Forbidden);
    }
    let c = campaign_in(tx.conn(), campaign_id).await?;
    if !c.departments.iter().any(|d| d == department) {
        return Err(Error::invalid("department", "not_asked"));
    }
    let st: String = sqlx::query("SELECT status FROM accounts WHERE id = $1")
        .bind(account_id)
        .fetch_one(tx.conn())
        .await?
        .try_get("status")?;
    if st != "key_account" {
        return Err(Error::invalid("account_id", "survey_needs_key_account"));
    }
    let (s, _) = settings_of(tx.conn()).await?;
    use base64::Engine;
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    let now = crate::app::clock::now();
    let expires = ts(now + Duration::days(s.link_days));
    let id: i64 = sqlx::query(
        "INSERT INTO survey_links (campaign_id, account_id, department, respondent, token_hash, expires_at, created_by, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(campaign_id)
    .bind(account_id)
    .bind(department)
    .bind(respondent.map(str::trim).filter(|r| !r.is_empty()))
    .bind(hash(&token))
    .bind(expires.clone())
    .bind(caller.username.as_str())
    .bind(ts(now))
    .fetch_one(tx.conn())
    .await?
    .try_get("id")?;
    audit::record(
        &mut tx,
        ctx,
        "survey_link",
        &id.to_string(),
        "create",
        None,
        Some(
            &json!({"campaign": c.quarter, "account_id": account_id, "department": department, "expires_at": expires}),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(NewLink { id, path: format!("/s/{token}"), token, expires_at: expires })
}

/// What a link opens on.
#[derive(Debug, Clone)]
pub enum LinkState {
    /// Valid: the questions to show (nothing else of the account).
    Open { link_id: i64, campaign: Campaign, department: String },
    /// Used already, expired, or no such link: the page answers 410 Gone.
    Gone,
}

async fn count_try(db: &Db, client: &str, now: DateTime<Utc>) -> Result<()> {
    let hour_ago = ts(now - Duration::hours(1));
    let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM survey_link_hits WHERE client = $1 AND at > $2")
        .bind(client)
        .bind(hour_ago.clone())
        .fetch_one(&db.pool)
        .await?
        .try_get("n")?;
    if n >= LINK_TRIES_PER_HOUR {
        return Err(Error::TooManyRequests { retry_after_secs: 3600 });
    }
    let mut tx = db.begin().await?;
    sqlx::query("INSERT INTO survey_link_hits (client, at) VALUES ($1, $2)")
        .bind(client.chars().take(64).collect::<String>())
        .bind(ts(now))
        .execute(tx.conn())
        .await?;
    sqlx::query("DELETE FROM survey_link_hits WHERE at < $1").bind(hour_ago).execute(tx.conn()).await?;
    tx.commit().await?;
    Ok(())
}

async fn state_in(conn: &mut sqlx::AnyConnection, token: &str, now: DateTime<Utc>) -> Result<LinkState> {
    let r =
        sqlx::query("SELECT id, campaign_id, department, expires_at, used_at FROM survey_links WHERE token_hash = $1")
            .bind(hash(token))
            .fetch_optional(&mut *conn)
            .await?;
    let Some(r) = r else { return Ok(LinkState::Gone) };
    let used: Option<String> = r.try_get("used_at")?;
    let exp: String = r.try_get("expires_at")?;
    if used.is_some() || parse_ts(&exp).is_none_or(|e| e <= now) {
        return Ok(LinkState::Gone);
    }
    let campaign = campaign_in(conn, r.try_get("campaign_id")?).await?;
    Ok(LinkState::Open { link_id: r.try_get("id")?, campaign, department: r.try_get("department")? })
}

/// Opens a link (the public page): counted against the client's tries.
pub async fn open_link(db: &Db, client: &str, token: &str) -> Result<LinkState> {
    let now = crate::app::clock::now();
    count_try(db, client, now).await?;
    let mut conn = db.pool.acquire().await?;
    state_in(&mut conn, token, now).await
}

/// The customer's answers through a link: the link's account and department; used once.
/// `Ok(None)`: the link is used, expired or unknown (410; nothing recorded).
pub async fn answer_link(
    db: &Db,
    client: &str,
    token: &str,
    scores: Vec<ScoreInput>,
    comment: Option<String>,
    respondent: Option<String>,
) -> Result<Option<i64>> {
    let now = crate::app::clock::now();
    count_try(db, client, now).await?;
    let mut tx = db.begin().await?;
    let LinkState::Open { link_id, campaign, department } = state_in(tx.conn(), token, now).await? else {
        return Ok(None);
    };
    // Claim the link first: a second answer racing this one finds it used.
    let claimed = sqlx::query("UPDATE survey_links SET used_at = $1 WHERE id = $2 AND used_at IS NULL")
        .bind(ts(now))
        .bind(link_id)
        .execute(tx.conn())
        .await?
        .rows_affected();
    if claimed != 1 {
        return Ok(None);
    }
    let l = sqlx::query("SELECT account_id, respondent FROM survey_links WHERE id = $1")
        .bind(link_id)
        .fetch_one(tx.conn())
        .await?;
    let input = ResponseInput {
        account_id: l.try_get("account_id")?,
        department,
        respondent: respondent.or(l.try_get("respondent")?),
        scores,
        comment,
    };
    let errs = check_response(&campaign, &input);
    if !errs.is_empty() {
        return Err(Error::Invalid(errs));
    }
    let ctx = link_ctx();
    let (s, _) = settings_of(tx.conn()).await?;
    let id = record_in(&mut tx, &ctx, &campaign, &input, "link", &s).await?;
    sqlx::query("UPDATE survey_links SET response_id = $1 WHERE id = $2")
        .bind(id)
        .bind(link_id)
        .execute(tx.conn())
        .await?;
    tx.commit().await?;
    Ok(Some(id))
}

/// Who acts for a customer answering through a link (the audit's actor).
fn link_ctx() -> Ctx {
    let mut c = Ctx::system();
    c.caller.username = "survey-link".into();
    c.caller.display_name = "survey-link".into();
    c.request_id = "survey-link".into();
    c
}

// ------------------------------------------------------------------------------ import

/// The outcome of an import: every row recorded, or none with each refused row's reasons (the
/// imports' one report).
pub use crate::app::spreadsheets::import::Report as SurveyImportReport;

fn read_rows(bytes: &[u8]) -> Result<Vec<Vec<String>>> {
    use calamine::{Data, Reader};
    let mut cur = std::io::Cursor::new(bytes);
    crate::app::spreadsheets::bounds::check_xlsx(&mut cur).map_err(|c| Error::invalid("file", c))?;
    let mut wb = calamine::Xlsx::new(cur).map_err(|_| Error::invalid("file", "xlsx_unreadable"))?;
    let sheet = wb.sheet_names().first().cloned().ok_or_else(|| Error::invalid("file", "xlsx_unreadable"))?;
    let range = wb.worksheet_range(&sheet).map_err(|_| Error::invalid("file", "xlsx_unreadable"))?;
    Ok(range
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    Data::Empty => String::new(),
                    Data::Float(f) if f.fract() == 0.0 => format!("{}", *f as i64),
                    other => other.to_string().trim().to_string(),
                })
                .collect()
        })
        .collect())
}

/// Imports the outside provider's workbook into a campaign: a header row (`account` — the
/// account's name or id —, `department`, `respondent`, one column per question key, `comment`),
/// then one row per department's answers. All rows or none.
pub async fn import(db: &Db, ctx: &Ctx, campaign_id: i64, bytes: &[u8]) -> Result<SurveyImportReport> {
    let caller = &ctx.caller;
    if !(manages(caller) || caller.role.edits_accounts()) {
        return Err(Error::Forbidden);
    }
    let rows = read_rows(bytes)?;
    let mut tx = db.begin().await?;
    let c = campaign_in(tx.conn(), campaign_id).await?;
    let (s, _) = settings_of(tx.conn()).await?;
    let Some(head) = rows.first() else { return Err(Error::invalid("file", "empty_file")) };
    let head: Vec<String> = head.iter().map(|h| h.trim().to_lowercase()).collect();
    let col = |name: &str| head.iter().position(|h| h == name);
    let (Some(ca), Some(cd)) = (col("account"), col("department")) else {
        return Err(Error::invalid("file", "missing_columns"));
    };
    let (cr, cc) = (col("respondent"), col("comment"));
    let mut report = SurveyImportReport::default();
    report.rows = rows.len().saturating_sub(1);
    let mut inputs = vec![];
    let mut seen = std::collections::HashSet::new();
    let cell = |r: &Vec<String>, i: Option<usize>| i.and_then(|i| r.get(i)).cloned().unwrap_or_default();
    for (n, r) in rows.iter().enumerate().skip(1) {
        let row_no = n + 1;
        let refuse = |report: &mut SurveyImportReport, column: &str, value: &str, code: &str| {
            report.errors.push(crate::app::spreadsheets::import::RowError {
                row: row_no,
                column: column.into(),
                value: value.chars().take(200).collect(),
                code: code.into(),
            })
        };
        let acc = cell(r, Some(ca));
        let account_id = match acc.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => {
                let mut sq = Sql::new("SELECT a.id FROM accounts a WHERE a.name = ");
                sq.bind(acc.as_str());
                accounts::push_scope(&mut sq, caller);
                sq.query().fetch_optional(tx.conn()).await?.map(|x| x.try_get::<i64, _>("id")).transpose()?
            }
        };
        let Some(account_id) = account_id else {
            refuse(&mut report, "account", &acc, "not_found");
            continue;
        };
        if accounts::ensure_visible_in(tx.conn(), caller, account_id).await.is_err() {
            refuse(&mut report, "account", &acc, "not_found");
            continue;
        }
        let mut scores = vec![];
        let mut bad_number = false;
        for q in &c.questions {
            let v = cell(r, col(&q.key));
            let score = if v.is_empty() {
                None
            } else {
                match v.parse::<i64>() {
                    Ok(x) => Some(x),
                    Err(_) => {
                        refuse(&mut report, &q.key, &v, "not_a_number");
                        bad_number = true;
                        None
                    }
                }
            };
            scores.push(ScoreInput { question: q.key.clone(), score });
        }
        let input = ResponseInput {
            account_id,
            department: cell(r, Some(cd)).to_lowercase(),
            respondent: Some(cell(r, cr)),
            scores,
            comment: Some(cell(r, cc)),
        };
        if !bad_number {
            for fe in check_response(&c, &input) {
                let column = fe.field.strip_prefix("scores.").unwrap_or(&fe.field).to_string();
                let value = cell(r, col(&column));
                refuse(&mut report, &column, &value, fe.code);
            }
        }
        if !seen.insert((account_id, input.department.clone())) {
            refuse(&mut report, "department", &input.department, "duplicate");
        }
        inputs.push((row_no, input));
    }
    if !report.errors.is_empty() {
        return Ok(report);
    }
    for (row_no, input) in &inputs {
        match record_in(&mut tx, ctx, &c, input, "import", &s).await {
            Ok(_) => report.created += 1,
            Err(Error::Duplicate { .. }) => report.errors.push(crate::app::spreadsheets::import::RowError {
                row: *row_no,
                column: "department".into(),
                value: input.department.clone(),
                code: "already_answered".into(),
            }),
            Err(Error::Invalid(fs)) => {
                for f in fs {
                    report.errors.push(crate::app::spreadsheets::import::RowError {
                        row: *row_no,
                        column: f.field,
                        value: String::new(),
                        code: f.code.into(),
                    })
                }
            }
            Err(e) => return Err(e),
        }
    }
    if !report.errors.is_empty() {
        report.created = 0;
        tx.rollback().await?;
        return Ok(report);
    }
    tx.commit().await?;
    report.committed = true;
    Ok(report)
}

// ------------------------------------------------------------------------------ scores

/// An average: of scores on their scale (`avg`) and as percent of the scale (`pct`, 0–100).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Avg {
    pub key: String,
    /// What to show for `key` (a question's label, an account's or region's name).
    pub label: String,
    pub n: i64,
    pub pct: f64,
    /// The average score on the question's scale (by question only).
    pub avg: Option<f64>,
    pub scale: Option<String>,
}

/// A quarter's scores, as the caller sees them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Scores {
    pub quarter: String,
    pub overall: Option<f64>,
    pub responses: i64,
    pub by_question: Vec<Avg>,
    pub by_department: Vec<Avg>,
    pub by_account: Vec<Avg>,
    pub by_region: Vec<Avg>,
    pub low_items: i64,
}

fn pct_of(sum: i64, n: i64) -> f64 {
    if n == 0 {
        0.0
    } else {
        (sum as f64 / n as f64 / 100.0 * 10.0).round() / 10.0
    }
}

/// The scores of a campaign, optionally of one account.
pub async fn scores(
    db: &Db,
    caller: &Caller,
    campaign_id: i64,
    account_id: Option<i64>,
    locale: &str,
) -> Result<Scores> {
    let mut conn = db.pool.acquire().await?;
    let c = campaign_in(&mut conn, campaign_id).await?;
    let group = |by: &str| {
        let mut s = Sql::new(&format!(
            "SELECT {by} AS k, CAST(SUM(s.pct) AS BIGINT) AS p, CAST(SUM(s.score) AS BIGINT) AS t, COUNT(*) AS n \
             FROM survey_scores s JOIN accounts a ON a.id = s.account_id WHERE s.campaign_id = "
        ));
        s.bind(campaign_id);
        if let Some(a) = account_id {
            s.push(" AND s.account_id = ").bind(a);
        }
        accounts::push_scope(&mut s, caller);
        s.push(&format!(" GROUP BY {by}"));
        s
    };
    let mut by_question = vec![];
    let mut all = (0i64, 0i64);
    for r in group("s.question").query().fetch_all(&mut *conn).await? {
        let k: String = r.try_get("k")?;
        let (p, t, n): (i64, i64, i64) = (r.try_get("p")?, r.try_get("t")?, r.try_get("n")?);
        all.0 += p;
        all.1 += n;
        let q = c.questions.iter().find(|q| q.key == k);
        by_question.push(Avg {
            label: q.map(|q| q.label(locale).to_string()).unwrap_or(k.clone()),
            key: k,
            n,
            pct: pct_of(p, n),
            avg: Some(((t as f64 / n.max(1) as f64) * 10.0).round() / 10.0),
            scale: q.map(|q| q.scale.clone()),
        });
    }
    by_question.sort_by_key(|a| c.questions.iter().position(|q| q.key == a.key).unwrap_or(usize::MAX));
    let plain = |rows: Vec<sqlx::any::AnyRow>| -> Result<Vec<(String, i64, i64)>> {
        rows.iter()
            .map(|r| {
                let k: Option<String> = r
                    .try_get::<Option<String>, _>("k")
                    .or_else(|_| r.try_get::<Option<i64>, _>("k").map(|v| v.map(|v| v.to_string())))?;
                Ok((k.unwrap_or_default(), r.try_get("p")?, r.try_get("n")?))
            })
            .collect()
    };
    let mut by_department: Vec<Avg> = plain(group("s.department").query().fetch_all(&mut *conn).await?)?
        .into_iter()
        .map(|(k, p, n)| Avg {
            label: rust_i18n::t!(format!("survey.dept.{k}"), locale = locale).into_owned(),
            key: k,
            n,
            pct: pct_of(p, n),
            avg: None,
            scale: None,
        })
        .collect();
    by_department.sort_by_key(|a| DEPARTMENTS.iter().position(|d| *d == a.key).unwrap_or(usize::MAX));
    let names = |sql: &str, ids: Vec<i64>| {
        let mut s = Sql::new(sql);
        s.bind_list(&ids).push(")");
        s
    };
    let acc = plain(group("s.account_id").query().fetch_all(&mut *conn).await?)?;
    let mut an = HashMap::new();
    if !acc.is_empty() {
        let ids: Vec<i64> = acc.iter().filter_map(|x| x.0.parse().ok()).collect();
        for r in names("SELECT id, name FROM accounts WHERE id IN (", ids).query().fetch_all(&mut *conn).await? {
            an.insert(r.try_get::<i64, _>("id")?.to_string(), r.try_get::<String, _>("name")?);
        }
    }
    let mut by_account: Vec<Avg> = acc
        .into_iter()
        .map(|(k, p, n)| Avg {
            label: an.get(&k).cloned().unwrap_or_default(),
            key: k,
            n,
            pct: pct_of(p, n),
            avg: None,
            scale: None,
        })
        .collect();
    by_account
        .sort_by(|a, b| a.pct.partial_cmp(&b.pct).unwrap_or(std::cmp::Ordering::Equal).then(a.label.cmp(&b.label)));
    let reg = plain(group("a.region_id").query().fetch_all(&mut *conn).await?)?;
    let mut rn = HashMap::new();
    let ids: Vec<i64> = reg.iter().filter_map(|x| x.0.parse().ok()).collect();
    if !ids.is_empty() {
        for r in names("SELECT id, name FROM org_units WHERE id IN (", ids).query().fetch_all(&mut *conn).await? {
            rn.insert(r.try_get::<i64, _>("id")?.to_string(), r.try_get::<String, _>("name")?);
        }
    }
    let by_region = reg
        .into_iter()
        .map(|(k, p, n)| Avg {
            label: rn.get(&k).cloned().unwrap_or_else(|| "—".into()),
            key: k,
            n,
            pct: pct_of(p, n),
            avg: None,
            scale: None,
        })
        .collect();
    let mut s = Sql::new(
        "SELECT COUNT(*) AS n FROM survey_responses r JOIN accounts a ON a.id = r.account_id WHERE r.campaign_id = ",
    );
    s.bind(campaign_id);
    if let Some(a) = account_id {
        s.push(" AND r.account_id = ").bind(a);
    }
    accounts::push_scope(&mut s, caller);
    let responses: i64 = s.query().fetch_one(&mut *conn).await?.try_get("n")?;
    let mut s = Sql::new(
        "SELECT COUNT(*) AS n FROM opl_items i JOIN survey_responses r ON r.id = i.source_id \
         JOIN accounts a ON a.id = i.account_id WHERE i.source = 'survey' AND r.campaign_id = ",
    );
    s.bind(campaign_id);
    if let Some(a) = account_id {
        s.push(" AND i.account_id = ").bind(a);
    }
    accounts::push_scope(&mut s, caller);
    let low_items: i64 = s.query().fetch_one(&mut *conn).await?.try_get("n")?;
    Ok(Scores {
        quarter: c.quarter,
        overall: (all.1 > 0).then(|| pct_of(all.0, all.1)),
        responses,
        by_question,
        by_department,
        by_account,
        by_region,
        low_items,
    })
}

/// One quarter of the trend.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TrendPoint {
    pub quarter: String,
    /// Overall, percent of scale (0–100).
    pub overall: Option<f64>,
    /// By department (`purchasing`, …), percent of scale.
    pub departments: BTreeMap<String, f64>,
    pub n: i64,
}

/// The trend over the last `quarters` campaigns (up to and including `until` when given), one
/// grouped read, as the caller sees the accounts.
pub async fn trend(db: &Db, caller: &Caller, quarters: usize, account_id: Option<i64>) -> Result<Vec<TrendPoint>> {
    let mut conn = db.pool.acquire().await?;
    let cs = sqlx::query("SELECT id, quarter FROM survey_campaigns ORDER BY quarter DESC LIMIT $1")
        .bind(quarters.clamp(1, 40) as i64)
        .fetch_all(&mut *conn)
        .await?;
    let mut ids = vec![];
    let mut qs = vec![];
    for r in &cs {
        ids.push(r.try_get::<i64, _>("id")?);
        qs.push(r.try_get::<String, _>("quarter")?);
    }
    if ids.is_empty() {
        return Ok(vec![]);
    }
    // One row per department's answers (each response keeps its scores' total and count).
    // Whoever sees every account reads the responses alone, less the deleted accounts (a short
    // list); the others through their accounts.
    const COLS: &str = "SELECT r.campaign_id AS c, r.department AS d, CAST(SUM(r.pct_sum) AS BIGINT) AS p, \
                        CAST(SUM(r.n_scores) AS BIGINT) AS n FROM survey_responses r";
    let mut s = if caller.reach() == crate::domain::role::Reach::All {
        let mut s = Sql::new(&format!(
            "{COLS} WHERE r.account_id NOT IN (SELECT id FROM accounts WHERE deleted_at IS NOT NULL) AND r.campaign_id IN ("
        ));
        s.bind_list(&ids).push(")");
        s
    } else {
        let mut s = Sql::new(&format!("{COLS} JOIN accounts a ON a.id = r.account_id WHERE r.campaign_id IN ("));
        s.bind_list(&ids).push(")");
        accounts::push_scope(&mut s, caller);
        s
    };
    if let Some(a) = account_id {
        s.push(" AND r.account_id = ").bind(a);
    }
    s.push(" GROUP BY r.campaign_id, r.department");
    let mut by: HashMap<i64, (i64, i64, BTreeMap<String, f64>)> = HashMap::new();
    for r in s.query().fetch_all(&mut *conn).await? {
        let (c, d, p, n): (i64, String, i64, i64) =
            (r.try_get("c")?, r.try_get("d")?, r.try_get("p")?, r.try_get("n")?);
        let e = by.entry(c).or_default();
        e.0 += p;
        e.1 += n;
        e.2.insert(d, pct_of(p, n));
    }
    let mut out: Vec<TrendPoint> = ids
        .iter()
        .zip(qs)
        .map(|(id, q)| {
            let e = by.remove(id).unwrap_or_default();
            TrendPoint { quarter: q, overall: (e.1 > 0).then(|| pct_of(e.0, e.1)), departments: e.2, n: e.1 }
        })
        .collect();
    out.reverse();
    Ok(out)
}

/// The trend as an SVG line chart (server-drawn; overall and one line per department).
pub fn trend_svg(points: &[TrendPoint], dept_labels: &[(String, String)]) -> String {
    let (w, h, pad) = (640.0, 240.0, 36.0);
    let n = points.len().max(2) as f64 - 1.0;
    let x = |i: usize| pad + (w - 2.0 * pad) * i as f64 / n;
    let y = |v: f64| h - pad - (h - 2.0 * pad) * v / 100.0;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" class=\"survey-trend\" role=\"img\">"
    );
    for v in [0.0, 25.0, 50.0, 75.0, 100.0] {
        out.push_str(&format!(
            "<line x1=\"{pad}\" x2=\"{}\" y1=\"{y}\" y2=\"{y}\" class=\"grid\"/><text x=\"4\" y=\"{}\" class=\"axis\">{v}</text>",
            w - pad,
            y(v) + 4.0,
            y = y(v)
        ));
    }
    for (i, p) in points.iter().enumerate() {
        out.push_str(&format!("<text x=\"{}\" y=\"{}\" class=\"axis\">{}</text>", x(i) - 22.0, h - 10.0, p.quarter));
    }
    let line = |vals: Vec<Option<f64>>, class: &str| {
        let pts: Vec<String> =
            vals.iter().enumerate().filter_map(|(i, v)| v.map(|v| format!("{:.1},{:.1}", x(i), y(v)))).collect();
        format!("<polyline points=\"{}\" class=\"{class}\" fill=\"none\"/>", pts.join(" "))
    };
    for (k, (d, _)) in dept_labels.iter().enumerate() {
        out.push_str(&line(points.iter().map(|p| p.departments.get(d).copied()).collect(), &format!("dept dept{k}")));
    }
    out.push_str(&line(points.iter().map(|p| p.overall).collect(), "overall"));
    for (k, (_, label)) in dept_labels.iter().enumerate() {
        let esc = label.replace('&', "&amp;").replace('<', "&lt;");
        out.push_str(&format!("<text x=\"{}\" y=\"14\" class=\"legend dept{k}\">{esc}</text>", pad + 110.0 * k as f64));
    }
    out.push_str("</svg>");
    out
}

/// The quarterly report as a workbook. `labels`: title, question, department, account, region,
/// responses, score %, average.
/// The workbook to fill for an import of `c`: the header row on the first sheet, and on the
/// second what each column means (the departments' codes with their names, each question's
/// key with its wording and scale). `labels`: the second sheet's title, its two headings, and
/// each department's name in campaign order.
pub fn import_template(c: &Campaign, locale: &str, labels: &[String]) -> Result<Vec<u8>> {
    template_book(c, locale, labels).map_err(|e| Error::Internal(anyhow::Error::from(e)))
}

fn template_book(c: &Campaign, locale: &str, l: &[String]) -> std::result::Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use crate::app::spreadsheets::export::neutralise;
    use rust_xlsxwriter::{Format, Workbook};
    let lab = |i: usize| l.get(i).cloned().unwrap_or_default();
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let ws = wb.add_worksheet();
    ws.set_name(&c.quarter)?;
    let mut head = vec!["account".to_string(), "department".into(), "respondent".into()];
    head.extend(c.questions.iter().map(|q| q.key.clone()));
    head.push("comment".into());
    for (i, h) in head.iter().enumerate() {
        ws.write_string_with_format(0, i as u16, h, &bold)?;
    }
    let ws = wb.add_worksheet();
    ws.set_name(lab(0))?;
    ws.write_string_with_format(0, 0, lab(1), &bold)?;
    ws.write_string_with_format(0, 1, lab(2), &bold)?;
    let mut row = 1u32;
    for (i, d) in c.departments.iter().enumerate() {
        ws.write_string(row, 0, d)?;
        ws.write_string(row, 1, lab(3 + i))?;
        row += 1;
    }
    row += 1;
    for q in &c.questions {
        ws.write_string(row, 0, &q.key)?;
        ws.write_string(row, 1, format!("{} ({})", neutralise(q.label(locale)), q.scale))?;
        row += 1;
    }
    wb.save_to_buffer()
}

pub fn scores_xlsx(s: &Scores, trend: &[TrendPoint], labels: &[String]) -> Result<Vec<u8>> {
    scores_book(s, trend, labels).map_err(|e| Error::Internal(anyhow::Error::from(e)))
}

fn scores_book(
    s: &Scores,
    trend: &[TrendPoint],
    l: &[String],
) -> std::result::Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use crate::app::spreadsheets::export::neutralise;
    use rust_xlsxwriter::{Format, Workbook};
    let lab = |i: usize| l.get(i).cloned().unwrap_or_default();
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(&s.quarter)?;
    let bold = Format::new().set_bold();
    ws.write_string_with_format(0, 0, format!("{} · {}", lab(0), s.quarter), &bold)?;
    ws.write_number(0, 3, s.overall.unwrap_or(0.0))?;
    let mut row = 2u32;
    for (title, list) in
        [(lab(1), &s.by_question), (lab(2), &s.by_department), (lab(3), &s.by_account), (lab(4), &s.by_region)]
    {
        ws.write_string_with_format(row, 0, title, &bold)?;
        ws.write_string_with_format(row, 1, lab(5), &bold)?;
        ws.write_string_with_format(row, 2, lab(6), &bold)?;
        ws.write_string_with_format(row, 3, lab(7), &bold)?;
        row += 1;
        for a in list {
            ws.write_string(row, 0, neutralise(&a.label))?;
            ws.write_number(row, 1, a.n as f64)?;
            ws.write_number(row, 2, a.pct)?;
            if let Some(v) = a.avg {
                ws.write_number(row, 3, v)?;
            }
            row += 1;
        }
        row += 1;
    }
    for p in trend {
        ws.write_string(row, 0, &p.quarter)?;
        ws.write_number(row, 2, p.overall.unwrap_or(0.0))?;
        row += 1;
    }
    ws.set_column_width(0, 32)?;
    wb.save_to_buffer()
}
