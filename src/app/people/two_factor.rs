//! Two-factor sign-in (issue 26 item 2): a time-based one-time password (RFC 6238: HMAC-SHA1,
//! 6 digits, 30-second steps, one step of clock drift either way) after the password, for
//! local accounts. A user enrols by scanning a QR code and typing the code it shows, and gets
//! ten recovery codes, each good once. The company says which roles must use it
//! (`two_factor_roles`, empty by default: the seeds give no rule, so it is the company's
//! choice); a user of such a role who has not enrolled is sent to enrol at sign-in and can use
//! nothing else until done. API tokens are unaffected (a token is its own credential).
//!
//! A session's `second_factor` says where it is: `done` (usable), `code` (the code awaited) or
//! `enrol`. Only `done` sessions reach any page or the API ([`super::auth::session_caller`]).
use chrono::Utc;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

use super::auth::{load_caller, sha256};
use crate::app::{records::audit, App, Caller, Ctx, Error, Result};
use crate::db::{now, ts, Db, WriteTx};
use crate::domain::role::Role;

use super::auth::TWO_FACTOR_ROLES as KEY;
const STEP: u64 = 30;
const DIGITS: usize = 6;
/// Recovery codes made at enrolment (and when made anew).
pub const RECOVERY_CODES: usize = 10;
/// The issuer shown in the authenticator app.
const ISSUER: &str = "KAM";

pub use super::auth::Stage;

/// The roles that must use two-factor sign-in, with the setting's version.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TwoFactorSettings {
    /// Role codes (`director`, `ka_manager`, `finance`, …); empty: nobody is required to.
    pub roles: Vec<String>,
    /// Whether this is the shipped default (nobody required; the company's choice).
    pub is_default: bool,
    /// The setting's version (0: never saved); give it back to save.
    pub version: i64,
}

/// The roles as given.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TwoFactorSettingsIn {
    pub roles: Vec<String>,
    /// The version read.
    pub version: i64,
}

/// A user's own two-factor state.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TwoFactorStatus {
    /// A confirmed authenticator is enrolled.
    pub enabled: bool,
    /// The user's role must use it (the company's setting).
    pub required: bool,
    /// Unused recovery codes left.
    pub recovery_codes_left: i64,
    /// When it was turned on (UTC), if it is.
    pub enabled_at: Option<String>,
}

/// What an enrolment shows: the secret (for typing it in), the `otpauth://` address and the
/// QR code of it, drawn as SVG.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Enrolment {
    /// The shared secret, base32 (to type into an authenticator by hand).
    pub secret: String,
    /// The `otpauth://totp/…` address the QR code holds.
    #[serde(rename = "otpauth_url")]
    pub url: String,
    /// The QR code of the address, as an SVG document.
    pub qr_svg: String,
}

/// A code from the authenticator (or, where said, a recovery code).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeIn {
    /// The 6-digit code the authenticator shows now.
    pub otp: String,
}

/// Recovery codes, shown once: each signs in once instead of a code.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RecoveryCodes {
    pub recovery_codes: Vec<String>,
}

pub fn may_edit(role: Role) -> bool {
    role.is_admin()
}

pub async fn settings_in(conn: &mut sqlx::AnyConnection) -> Result<TwoFactorSettings> {
    let r = sqlx::query("SELECT value, version FROM settings WHERE key = $1").bind(KEY).fetch_optional(conn).await?;
    Ok(match r {
        None => TwoFactorSettings { roles: vec![], is_default: true, version: 0 },
        Some(r) => {
            let v: String = r.try_get("value")?;
            let roles: Vec<String> = serde_json::from_str(&v).unwrap_or_default();
            TwoFactorSettings { roles, is_default: false, version: r.try_get("version")? }
        }
    })
}

pub async fn settings(db: &Db) -> Result<TwoFactorSettings> {
    settings_in(&mut *db.pool.acquire().await?).await
}

/// Saves the roles that must use two-factor sign-in (the administrator), over the version read.
/// An unknown role: 422 naming `roles`. Users of a newly required role enrol at their next
/// sign-in; their current sessions go on.
pub async fn save_settings(db: &Db, ctx: &Ctx, inp: &TwoFactorSettingsIn) -> Result<TwoFactorSettings> {
    if !may_edit(ctx.caller.role) {
        return Err(Error::Forbidden);
    }
    let mut roles = Vec::new();
    for r in &inp.roles {
        let role = Role::parse(r.trim()).map_err(|_| Error::invalid("roles", "invalid_choice"))?;
        if !roles.contains(&role.code().to_string()) {
            roles.push(role.code().to_string());
        }
    }
    roles.sort();
    let value = serde_json::to_string(&roles).map_err(anyhow::Error::from)?;
    let mut tx = db.begin().await?;
    let before = settings_in(tx.conn()).await?;
    if crate::app::records::settings::write(&mut tx, KEY, &value, inp.version, &ctx.caller.username).await? {
        audit::record(
            &mut tx,
            ctx,
            "settings",
            KEY,
            "update",
            Some(&json!({"roles": before.roles})),
            Some(&json!({"roles": roles})),
        )
        .await?;
    }
    let after = settings_in(tx.conn()).await?;
    tx.commit().await?;
    Ok(after)
}

pub async fn status(db: &Db, caller: &Caller) -> Result<TwoFactorStatus> {
    let mut conn = db.pool.acquire().await?;
    let r = sqlx::query(
        "SELECT totp_secret, totp_enabled_at, \
         (SELECT COUNT(*) FROM recovery_codes rc WHERE rc.user_id = u.id AND rc.used_at IS NULL) AS left_codes \
         FROM users u WHERE u.id = $1",
    )
    .bind(caller.user_id)
    .fetch_one(&mut *conn)
    .await?;
    let secret: Option<String> = r.try_get("totp_secret")?;
    let required = settings_in(&mut conn).await?.roles.iter().any(|x| x == caller.role.code());
    Ok(TwoFactorStatus {
        enabled: secret.is_some(),
        required,
        recovery_codes_left: r.try_get("left_codes")?,
        enabled_at: r.try_get("totp_enabled_at")?,
    })
}

fn secret_bytes(base32: &str) -> Result<Vec<u8>> {
    totp_rs::Secret::Encoded(base32.to_string())
        .to_bytes()
        .map_err(|e| Error::Internal(anyhow::anyhow!("a stored two-factor secret is not base32: {e:?}")))
}

fn totp(secret: &[u8]) -> Result<totp_rs::TOTP> {
    totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, DIGITS, 1, STEP, secret.to_vec())
        .map_err(|e| Error::Internal(anyhow::anyhow!("two-factor secret: {e:?}")))
}

/// The code an authenticator shows for `secret` (base32) at `unix` seconds (tests, and the
/// enrolment page's check).
pub fn code_at(secret: &str, unix: u64) -> Result<String> {
    Ok(totp(&secret_bytes(secret)?)?.generate(unix))
}

fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The 30-second step `code` is right for, within one step of now, and later than `after`
/// (a code is used once); `None` when it is not.
fn matching_step(secret: &str, code: &str, after: i64) -> Result<Option<i64>> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS || !code.chars().all(|c| c.is_ascii_digit()) {
        return Ok(None);
    }
    let t = totp(&secret_bytes(secret)?)?;
    let now_step = Utc::now().timestamp().max(0) as u64 / STEP;
    for step in [now_step.saturating_sub(1), now_step, now_step + 1] {
        if (step as i64) > after && same(&t.generate(step * STEP), &code) {
            return Ok(Some(step as i64));
        }
    }
    Ok(None)
}

fn new_secret() -> String {
    let mut b = [0u8; 20];
    rand::thread_rng().fill_bytes(&mut b);
    match totp_rs::Secret::Raw(b.to_vec()).to_encoded() {
        totp_rs::Secret::Encoded(s) => s,
        totp_rs::Secret::Raw(_) => unreachable!("to_encoded gives the encoded form"),
    }
}

fn otpauth_url(secret: &str, username: &str, company: &str) -> String {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    let issuer = if company.trim().is_empty() { ISSUER.to_string() } else { format!("{ISSUER} {}", company.trim()) };
    let label = format!("{issuer}:{username}");
    format!(
        "otpauth://totp/{}?secret={secret}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP}",
        utf8_percent_encode(&label, NON_ALPHANUMERIC),
        utf8_percent_encode(&issuer, NON_ALPHANUMERIC)
    )
}

fn qr_svg(url: &str) -> Result<String> {
    let code = qrcode::QrCode::new(url.as_bytes()).map_err(|e| Error::Internal(anyhow::anyhow!("QR code: {e}")))?;
    Ok(code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(200, 200).quiet_zone(true).build())
}

/// Starts (or shows again) an enrolment: a new secret waiting for its first code, unless one
/// is waiting already. Nothing changes for the sign-in until [`confirm`]. Two-factor on
/// already: 409 `two_factor_enabled` (turn it off first, or ask for new recovery codes).
pub async fn begin(db: &Db, caller: &Caller) -> Result<Enrolment> {
    let mut tx = db.begin().await?;
    let r = sqlx::query("SELECT totp_pending, totp_secret FROM users WHERE id = $1")
        .bind(caller.user_id)
        .fetch_one(tx.conn())
        .await?;
    if r.try_get::<Option<String>, _>("totp_secret")?.is_some() {
        return Err(Error::Conflict("two_factor_enabled"));
    }
    let pending: Option<String> = r.try_get("totp_pending")?;
    let secret = match pending {
        Some(s) => s,
        None => {
            let s = new_secret();
            sqlx::query("UPDATE users SET totp_pending = $1 WHERE id = $2")
                .bind(s.clone())
                .bind(caller.user_id)
                .execute(tx.conn())
                .await?;
            s
        }
    };
    tx.commit().await?;
    let company = crate::app::records::company::get(db).await.map(|c| c.company.name).unwrap_or_default();
    let url = otpauth_url(&secret, &caller.username, &company);
    Ok(Enrolment { qr_svg: qr_svg(&url)?, url, secret })
}

fn new_recovery_codes() -> Vec<String> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut b = [0u8; 5];
            rand::thread_rng().fill_bytes(&mut b);
            let h = hex::encode(b);
            format!("{}-{}", &h[..5], &h[5..])
        })
        .collect()
}

fn normal_recovery(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_lowercase()
}

async fn replace_recovery_codes(tx: &mut WriteTx, user_id: i64) -> Result<Vec<String>> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute(tx.conn()).await?;
    let codes = new_recovery_codes();
    for c in &codes {
        sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
            .bind(user_id)
            .bind(sha256(&normal_recovery(c)))
            .execute(tx.conn())
            .await?;
    }
    Ok(codes)
}

/// Confirms an enrolment with the first code the authenticator shows: two-factor is on from
/// now, and the answer is the recovery codes (shown once; only their hashes are kept). A
/// session waiting to enrol (`session_id`) becomes usable. A wrong code: 422 naming `otp`.
pub async fn confirm(db: &Db, ctx: &Ctx, code: &str, session_id: Option<&str>) -> Result<Vec<String>> {
    let mut tx = db.begin().await?;
    let pending: Option<String> = sqlx::query("SELECT totp_pending FROM users WHERE id = $1")
        .bind(ctx.caller.user_id)
        .fetch_one(tx.conn())
        .await?
        .try_get("totp_pending")?;
    let Some(secret) = pending else { return Err(Error::invalid("otp", "two_factor_not_started")) };
    let Some(step) = matching_step(&secret, code, 0)? else {
        return Err(Error::invalid("otp", "two_factor_code_wrong"));
    };
    sqlx::query(
        "UPDATE users SET totp_secret = $1, totp_pending = NULL, totp_enabled_at = $2, totp_last_step = $3 WHERE id = $4",
    )
    .bind(secret)
    .bind(now())
    .bind(step)
    .bind(ctx.caller.user_id)
    .execute(tx.conn())
    .await?;
    let codes = replace_recovery_codes(&mut tx, ctx.caller.user_id).await?;
    if let Some(sid) = session_id {
        sqlx::query("UPDATE sessions SET second_factor = 'done' WHERE id_hash = $1 AND user_id = $2")
            .bind(sha256(sid))
            .bind(ctx.caller.user_id)
            .execute(tx.conn())
            .await?;
    }
    audit::record(&mut tx, ctx, "user", &ctx.caller.username, "two_factor_on", None, None).await?;
    tx.commit().await?;
    Ok(codes)
}

/// New recovery codes for a user with two-factor on, after a current code; the old ones end.
pub async fn renew_recovery_codes(db: &Db, ctx: &Ctx, code: &str) -> Result<Vec<String>> {
    let mut tx = db.begin().await?;
    check_code_in(&mut tx, ctx.caller.user_id, code, false).await?;
    let codes = replace_recovery_codes(&mut tx, ctx.caller.user_id).await?;
    audit::record(&mut tx, ctx, "user", &ctx.caller.username, "recovery_codes_renewed", None, None).await?;
    tx.commit().await?;
    Ok(codes)
}

/// Turns two-factor off after a current code; refused (422 `two_factor_required`) when the
/// user's role must use it.
pub async fn disable(db: &Db, ctx: &Ctx, code: &str) -> Result<()> {
    let mut tx = db.begin().await?;
    if settings_in(tx.conn()).await?.roles.iter().any(|r| r == ctx.caller.role.code()) {
        return Err(Error::invalid("otp", "two_factor_required"));
    }
    check_code_in(&mut tx, ctx.caller.user_id, code, false).await?;
    clear_in(&mut tx, ctx.caller.user_id).await?;
    audit::record(&mut tx, ctx, "user", &ctx.caller.username, "two_factor_off", None, None).await?;
    tx.commit().await?;
    Ok(())
}

async fn clear_in(tx: &mut WriteTx, user_id: i64) -> Result<()> {
    sqlx::query(
        "UPDATE users SET totp_secret = NULL, totp_pending = NULL, totp_enabled_at = NULL, totp_last_step = 0 WHERE id = $1",
    )
    .bind(user_id)
    .execute(tx.conn())
    .await?;
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute(tx.conn()).await?;
    Ok(())
}

/// The administrator clears a user's two-factor (a lost phone): they sign in with the password
/// alone, or enrol again when their role requires it. Their sessions end.
pub async fn reset(db: &Db, ctx: &Ctx, username: &str) -> Result<()> {
    if !ctx.caller.role.is_admin() {
        return Err(Error::Forbidden);
    }
    let mut tx = db.begin().await?;
    let id: i64 = sqlx::query("SELECT id FROM users WHERE username = $1")
        .bind(username)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(Error::NotFound)?
        .try_get("id")?;
    clear_in(&mut tx, id).await?;
    super::auth::end_sessions(&mut tx, id, None).await?;
    audit::record(&mut tx, ctx, "user", username, "two_factor_reset", None, None).await?;
    tx.commit().await?;
    Ok(())
}

/// Checks a one-time code (or, with `recovery`, a recovery code, used up) for the user inside
/// `tx`; a wrong one is 422 naming `otp`.
async fn check_code_in(tx: &mut WriteTx, user_id: i64, code: &str, recovery: bool) -> Result<()> {
    let r = sqlx::query("SELECT totp_secret, totp_last_step FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_one(tx.conn())
        .await?;
    let secret: Option<String> = r.try_get("totp_secret")?;
    let Some(secret) = secret else { return Err(Error::invalid("otp", "two_factor_not_started")) };
    let last: i64 = r.try_get("totp_last_step")?;
    if let Some(step) = matching_step(&secret, code, last)? {
        sqlx::query("UPDATE users SET totp_last_step = $1 WHERE id = $2")
            .bind(step)
            .bind(user_id)
            .execute(tx.conn())
            .await?;
        return Ok(());
    }
    if recovery {
        let used = sqlx::query(
            "UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
        )
        .bind(now())
        .bind(user_id)
        .bind(sha256(&normal_recovery(code)))
        .execute(tx.conn())
        .await?
        .rows_affected();
        if used == 1 {
            return Ok(());
        }
    }
    Err(Error::invalid("otp", "two_factor_code_wrong"))
}

/// The user of a session waiting for its code or its enrolment, with the session's CSRF
/// token and stage; `None` for an unknown, expired or finished (`done`) session.
pub async fn pending(app: &App, session_id: &str) -> Result<Option<(Caller, String, Stage)>> {
    let r = sqlx::query(
        "SELECT user_id, csrf_token, second_factor, expires_at, last_seen_at FROM sessions WHERE id_hash = $1",
    )
    .bind(sha256(session_id))
    .fetch_optional(&app.db.pool)
    .await?;
    let Some(r) = r else { return Ok(None) };
    let stage = Stage::parse(&r.try_get::<String, _>("second_factor")?);
    let expires: String = r.try_get("expires_at")?;
    // A waiting session is never touched: it ends after the idle limit as any other would.
    let idle_since = ts(Utc::now() - chrono::Duration::seconds(app.settings.session_idle_secs));
    let last_seen: String = r.try_get("last_seen_at")?;
    if stage == Stage::Done || expires <= ts(Utc::now()) || last_seen <= idle_since {
        return Ok(None);
    }
    let caller = load_caller(&app.db, r.try_get("user_id")?).await?;
    Ok(caller.map(|c| (c, r.try_get("csrf_token").unwrap_or_default(), stage)))
}

/// The second step of signing in: the code from the authenticator (or a recovery code) for a
/// session waiting for it. Right, the session becomes usable; wrong, it counts as a failed
/// sign-in (the same hourly limit as passwords: 429 past it) and is 422 naming `otp`.
pub async fn verify(app: &App, session_id: &str, code: &str, request_id: &str) -> Result<()> {
    let Some((caller, _, stage)) = pending(app, session_id).await? else { return Err(Error::Unauthenticated) };
    if stage != Stage::Code {
        return Err(Error::Unauthenticated);
    }
    super::auth::check_throttle(app, &caller.username).await?;
    let mut tx = app.db.begin().await?;
    match check_code_in(&mut tx, caller.user_id, code, true).await {
        Ok(()) => {}
        Err(e) => {
            drop(tx);
            super::auth::record_failure(&app.db, &caller.username).await?;
            return Err(e);
        }
    }
    sqlx::query("UPDATE sessions SET second_factor = 'done' WHERE id_hash = $1")
        .bind(sha256(session_id))
        .execute(tx.conn())
        .await?;
    let ctx = Ctx { caller: caller.clone(), request_id: request_id.to_string() };
    audit::record(&mut tx, &ctx, "session", &caller.username, "sign_in_second_factor", None, None).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_6238_test_vector_gives_its_codes() {
        // RFC 6238 appendix B, SHA-1, secret "12345678901234567890", truncated to 6 digits.
        let secret = match totp_rs::Secret::Raw(b"12345678901234567890".to_vec()).to_encoded() {
            totp_rs::Secret::Encoded(s) => s,
            _ => unreachable!(),
        };
        assert_eq!(code_at(&secret, 59).expect("code"), "287082");
        assert_eq!(code_at(&secret, 1111111109).expect("code"), "081804");
        assert_eq!(code_at(&secret, 20000000000).expect("code"), "353130");
    }

    #[test]
    fn a_code_is_good_once_and_only_near_now() {
        let s = new_secret();
        let now = Utc::now().timestamp() as u64;
        let code = code_at(&s, now).expect("code");
        let step = matching_step(&s, &code, 0).expect("check").expect("matches");
        assert_eq!(matching_step(&s, &code, step).expect("check"), None, "not twice");
        let old = code_at(&s, now - 300).expect("code");
        if old != code {
            assert_eq!(matching_step(&s, &old, 0).expect("check"), None, "five minutes old");
        }
        assert_eq!(matching_step(&s, "12345", 0).expect("check"), None);
        assert!(otpauth_url(&s, "wang", "示例").starts_with("otpauth://totp/KAM%20"));
        assert!(qr_svg(&otpauth_url(&s, "wang", "")).expect("svg").contains("<svg"));
    }
}
