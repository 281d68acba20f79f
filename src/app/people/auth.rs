//! Sign-in, sessions and API tokens. Sessions and tokens live in the database (only their
//! SHA-256 is stored), so several `kam serve` processes on one PostgreSQL act as one system.
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{Duration, Utc};
use rand::RngCore;
use serde::Serialize;
use serde_json::json;
use sqlx::Row;

use crate::app::{records::audit, App, Caller, Ctx, Error, Result};
use crate::db::{now, parse_ts, ts, Db, WriteTx};
use crate::domain::money::MoneyUnit;
use crate::domain::role::Role;

pub fn hash_password(p: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(p.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Internal(anyhow::anyhow!("hashing password: {e}")))
}

pub(crate) fn verify_password(p: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(p.as_bytes(), &h).is_ok())
}

/// A random secret, URL-safe.
pub fn random_token(prefix: &str) -> String {
    let mut b = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    format!("{prefix}{}", hex::encode(b))
}

pub fn sha256(s: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(s.as_bytes()))
}

/// The caller's columns, for statements that find the user and join `users u` and `org_units o`.
const CALLER_COLUMNS: &str =
    "u.id AS caller_id, u.username, u.display_name, u.role, u.org_unit_id, u.locale, u.time_zone, u.money_unit, \
     u.active, u.wrote_at, o.path, o.kind AS org_kind, (SELECT st.value FROM settings st WHERE st.key = 'role_titles') AS role_titles";

/// Loads the caller for a user id, with what scope needs (org path, reports).
pub async fn load_caller(db: &Db, user_id: i64) -> Result<Option<Caller>> {
    let r = sqlx::query(&format!(
        "SELECT {CALLER_COLUMNS} FROM users u JOIN org_units o ON o.id = u.org_unit_id WHERE u.id = $1"
    ))
    .bind(user_id)
    .fetch_optional(&db.pool)
    .await?;
    r.map(|r| caller_of(&r)).transpose().map(Option::flatten)
}

/// [`load_caller`] inside a transaction (a hook acting for the requester of a request).
pub async fn load_caller_in(conn: &mut sqlx::AnyConnection, user_id: i64) -> Result<Option<Caller>> {
    let r = sqlx::query(&format!(
        "SELECT {CALLER_COLUMNS} FROM users u JOIN org_units o ON o.id = u.org_unit_id WHERE u.id = $1"
    ))
    .bind(user_id)
    .fetch_optional(conn)
    .await?;
    r.map(|r| caller_of(&r)).transpose().map(Option::flatten)
}

/// The caller in a row holding [`CALLER_COLUMNS`]; `None` when the user is inactive.
fn caller_of(r: &sqlx::any::AnyRow) -> Result<Option<Caller>> {
    if r.try_get::<i64, _>("active")? != 1 {
        return Ok(None);
    }
    let role = Role::parse(&r.try_get::<String, _>("role")?).map_err(|e| anyhow::anyhow!("stored role: {e}"))?;
    Ok(Some(Caller {
        user_id: r.try_get("caller_id")?,
        username: r.try_get("username")?,
        display_name: r.try_get("display_name")?,
        role,
        org_unit_id: r.try_get("org_unit_id")?,
        org_path: r.try_get("path")?,
        locale: r.try_get("locale")?,
        time_zone: r.try_get("time_zone")?,
        money_unit: MoneyUnit::from_code(&r.try_get::<String, _>("money_unit")?).unwrap_or_default(),
        org_kind: crate::domain::role::OrgKind::parse(&r.try_get::<String, _>("org_kind")?).ok(),
        role_titles: crate::domain::role::RoleTitles::from_json(
            r.try_get::<Option<String>, _>("role_titles")?.as_deref(),
        ),
    }))
}

/// The setting naming the roles that must use two-factor sign-in (`two_factor`'s).
pub const TWO_FACTOR_ROLES: &str = "two_factor_roles";

/// Whether the company requires two-factor sign-in of `role`.
pub async fn two_factor_required(conn: &mut sqlx::AnyConnection, role: Role) -> Result<bool> {
    let r =
        sqlx::query("SELECT value FROM settings WHERE key = $1").bind(TWO_FACTOR_ROLES).fetch_optional(conn).await?;
    let roles: Vec<String> = match r {
        Some(r) => serde_json::from_str(&r.try_get::<String, _>("value")?).unwrap_or_default(),
        None => vec![],
    };
    Ok(roles.iter().any(|r| r == role.code()))
}

/// Where a session stands with the second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Done,
    Code,
    Enrol,
}

impl Stage {
    pub fn code(self) -> &'static str {
        match self {
            Stage::Done => "done",
            Stage::Code => "code",
            Stage::Enrol => "enrol",
        }
    }
    pub fn parse(s: &str) -> Stage {
        match s {
            "code" => Stage::Code,
            "enrol" => Stage::Enrol,
            _ => Stage::Done,
        }
    }
}

/// The stage a new session starts in for a user who gave the right password.
pub async fn stage_at_sign_in(conn: &mut sqlx::AnyConnection, user_id: i64, role: Role) -> Result<Stage> {
    let enabled: Option<String> = sqlx::query("SELECT totp_secret FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_one(&mut *conn)
        .await?
        .try_get("totp_secret")?;
    if enabled.is_some() {
        return Ok(Stage::Code);
    }
    let required = two_factor_required(conn, role).await?;
    Ok(if required { Stage::Enrol } else { Stage::Done })
}

pub struct NewSession {
    /// The cookie value (shown to the browser only).
    pub id: String,
    pub csrf: String,
    pub caller: Caller,
    /// `done`: usable now; `code` or `enrol`: the second factor comes first.
    pub stage: Stage,
}

/// 429 when `username` failed to sign in too often in the last hour (passwords and one-time
/// codes alike), until the oldest of those failures is an hour old.
pub async fn check_throttle(app: &App, username: &str) -> Result<()> {
    let hour_ago = ts(Utc::now() - Duration::hours(1));
    let failures =
        sqlx::query("SELECT COUNT(*) AS n, MIN(at) AS first FROM login_failures WHERE username = $1 AND at > $2")
            .bind(username)
            .bind(hour_ago)
            .fetch_one(&app.db.pool)
            .await?;
    let n: i64 = failures.try_get("n")?;
    if n >= app.settings.max_failed_logins_per_hour {
        let first: Option<String> = failures.try_get("first")?;
        let retry = first
            .and_then(|f| parse_ts(&f))
            .map(|f| (f + Duration::hours(1) - Utc::now()).num_seconds().max(1))
            .unwrap_or(3600);
        return Err(Error::TooManyRequests { retry_after_secs: retry });
    }
    Ok(())
}

/// Counts a failed sign-in (a wrong password or one-time code) against `username`.
pub async fn record_failure(db: &Db, username: &str) -> Result<()> {
    let hour_ago = ts(Utc::now() - Duration::hours(1));
    let mut tx = db.begin().await?;
    sqlx::query("INSERT INTO login_failures (username, at) VALUES ($1, $2)")
        .bind(username.chars().take(64).collect::<String>())
        .bind(now())
        .execute(tx.conn())
        .await?;
    sqlx::query("DELETE FROM login_failures WHERE at < $1").bind(hour_ago).execute(tx.conn()).await?;
    tx.commit().await?;
    Ok(())
}

/// Signs in. Throttled per account: after too many failures in the last hour the account answers
/// 429 until the oldest of them is an hour old; other accounts are unaffected. A new session id
/// is minted at every sign-in; the previous one (if any) ends.
pub async fn login(
    app: &App,
    username: &str,
    password: &str,
    old_session: Option<&str>,
    request_id: &str,
) -> Result<NewSession> {
    let db = &app.db;
    let username = username.trim();
    check_throttle(app, username).await?;
    let row = sqlx::query("SELECT id, password_hash, active, source FROM users WHERE username = $1")
        .bind(username)
        .fetch_optional(&db.pool)
        .await?;
    // The directory checks the password of its users, and of names KAM does not know yet
    // (created at their first sign-in); local accounts keep KAM's own password.
    let directory = app.settings.directory.as_deref().filter(|_| match &row {
        Some(r) => r.try_get::<String, _>("source").is_ok_and(|s| s == "directory"),
        None => true,
    });
    let user_id = if let Some(cfg) = directory {
        match super::ldap::sign_in(db, cfg, username, password, request_id).await {
            Ok(id) => id,
            Err(Error::Unauthenticated) => {
                record_failure(db, username).await?;
                return Err(Error::Unauthenticated);
            }
            Err(e) => return Err(e),
        }
    } else {
        let ok_user = match &row {
            Some(r) => {
                let hash: String = r.try_get("password_hash")?;
                let active: i64 = r.try_get("active")?;
                verify_password(password, &hash) && active == 1
            }
            None => {
                // Spend the same time on unknown names so they cannot be told apart.
                let _ = hash_password(password);
                false
            }
        };
        if !ok_user {
            record_failure(db, username).await?;
            return Err(Error::Unauthenticated);
        }
        row.as_ref().map(|r| r.try_get("id")).transpose()?.unwrap_or(0)
    };
    let caller = load_caller(db, user_id).await?.ok_or(Error::Unauthenticated)?;
    let id = random_token("");
    let csrf = random_token("");
    let now_t = Utc::now();
    let mut tx = db.begin().await?;
    if let Some(old) = old_session {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(sha256(old)).execute(tx.conn()).await?;
    }
    let stage = stage_at_sign_in(tx.conn(), user_id, caller.role).await?;
    sqlx::query(
        "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, expires_at, second_factor) \
         VALUES ($1, $2, $3, $4, $4, $5, $6)",
    )
    .bind(sha256(&id))
    .bind(user_id)
    .bind(csrf.clone())
    .bind(ts(now_t))
    .bind(ts(now_t + Duration::seconds(app.settings.session_absolute_secs)))
    .bind(stage.code())
    .execute(tx.conn())
    .await?;
    let ctx = Ctx { caller: caller.clone(), request_id: request_id.to_string() };
    audit::record(
        &mut tx,
        &ctx,
        "session",
        &caller.username,
        "sign_in",
        None,
        Some(&json!({"second_factor": stage.code()})),
    )
    .await?;
    tx.commit().await?;
    Ok(NewSession { id, csrf, caller, stage })
}

/// The caller behind a session cookie, with its CSRF token; `None` when the session is unknown,
/// idle too long, past its absolute limit, or its user is inactive.
pub async fn session_caller(app: &App, session_id: &str) -> Result<Option<(Caller, String)>> {
    let db = &app.db;
    let h = sha256(session_id);
    // One statement finds the session and its user: it runs before every request.
    let r = sqlx::query(&format!(
        "SELECT s.csrf_token, s.last_seen_at, s.expires_at, {CALLER_COLUMNS} FROM sessions s \
         JOIN users u ON u.id = s.user_id JOIN org_units o ON o.id = u.org_unit_id \
         WHERE s.id_hash = $1 AND s.second_factor = 'done'"
    ))
    .bind(h.clone())
    .fetch_optional(&db.pool)
    .await?;
    let Some(r) = r else { return Ok(None) };
    let now_t = Utc::now();
    let last = parse_ts(&r.try_get::<String, _>("last_seen_at")?).unwrap_or(now_t);
    let exp = parse_ts(&r.try_get::<String, _>("expires_at")?).unwrap_or(now_t);
    if now_t >= exp || (now_t - last).num_seconds() >= app.settings.session_idle_secs {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(h).execute(&db.pool).await?;
        return Ok(None);
    }
    // Touch at most once a minute: idle time is measured to the minute, writes stay rare.
    if (now_t - last).num_seconds() >= 60 {
        // Best effort: a full disk must not stop anyone from reading (nor from being told why
        // their save failed); the next request touches it again.
        let touched = sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
            .bind(ts(now_t))
            .bind(h)
            .execute(&db.pool)
            .await;
        untouched(touched.map(|_| ()))?;
    }
    let csrf: String = r.try_get("csrf_token")?;
    let c = caller_of(&r)?;
    saw(app, &r, c.as_ref());
    Ok(c.map(|c| (c, csrf)))
}

pub async fn logout(app: &App, session_id: &str) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(sha256(session_id)).execute(&app.db.pool).await?;
    Ok(())
}

pub async fn token_caller(app: &App, token: &str) -> Result<Option<Caller>> {
    // One statement finds the token and its user: it runs before every API request.
    let r = sqlx::query(&format!(
        "SELECT t.id, t.last_used_at, {CALLER_COLUMNS} FROM api_tokens t \
         JOIN users u ON u.id = t.user_id JOIN org_units o ON o.id = u.org_unit_id \
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL"
    ))
    .bind(sha256(token))
    .fetch_optional(&app.db.pool)
    .await?;
    let Some(r) = r else { return Ok(None) };
    let last: Option<String> = r.try_get("last_used_at")?;
    if last.and_then(|l| parse_ts(&l)).is_none_or(|l| (Utc::now() - l).num_seconds() >= 60) {
        let id: i64 = r.try_get("id")?;
        let touched = sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(now())
            .bind(id)
            .execute(&app.db.pool)
            .await;
        untouched(touched.map(|_| ()))?;
    }
    let c = caller_of(&r)?;
    saw(app, &r, c.as_ref());
    Ok(c)
}

/// Tells the read routing who this request's user is and when they last wrote (read replicas:
/// their reads stay on the primary for a while after their own write).
fn saw(app: &App, r: &sqlx::any::AnyRow, c: Option<&Caller>) {
    if let (Some(replica), Some(c)) = (app.db.replica(), c) {
        let wrote: Option<String> = r.try_get("wrote_at").ok().flatten();
        crate::db::replica::saw_user(
            c.user_id,
            wrote.as_deref(),
            crate::db::replica::own_writes_window(replica.max_lag()),
        );
    }
}

/// Marks that `user_id` has just written (read replicas only; `db/replica.rs`).
pub async fn mark_wrote(db: &Db, user_id: i64) -> Result<()> {
    sqlx::query("UPDATE users SET wrote_at = $1 WHERE id = $2").bind(now()).bind(user_id).execute(&db.pool).await?;
    Ok(())
}

/// A session's or token's last-use time could not be written: on a full disk that is logged
/// and the request goes on (reading needs no room); any other failure is the request's.
fn untouched(r: std::result::Result<(), sqlx::Error>) -> Result<()> {
    match r.map_err(Error::from) {
        Err(e) if e.fault() == Some(crate::domain::error::Fault::StorageFull) => {
            tracing::warn!("last use not recorded: {e}");
            Ok(())
        }
        other => other,
    }
}

/// An API token as its owner sees it (never its secret).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub last_used_at: Option<String>,
    /// Set once revoked; a revoked token no longer signs in.
    #[schema(format = DateTime)]
    pub revoked_at: Option<String>,
}

/// Creates an API token for `username` (themselves, or anyone for an administrator / the CLI).
/// The secret is returned once; only its hash is kept.
pub async fn create_token(db: &Db, ctx: &Ctx, username: &str, name: &str) -> Result<(i64, String)> {
    let r = sqlx::query("SELECT id, active FROM users WHERE username = $1")
        .bind(username)
        .fetch_optional(&db.pool)
        .await?
        .ok_or(Error::NotFound)?;
    let uid: i64 = r.try_get("id")?;
    if uid != ctx.caller.user_id {
        ctx.require_admin()?;
    }
    if r.try_get::<i64, _>("active")? != 1 {
        return Err(Error::Conflict("user_inactive"));
    }
    let name = crate::domain::text::optional(Some(name), 100)
        .map_err(|c| Error::invalid("name", c))?
        .unwrap_or_else(|| "api".into());
    let secret = random_token("kam_");
    let mut tx = db.begin().await?;
    let id: i64 = sqlx::query(
        "INSERT INTO api_tokens (user_id, token_hash, name, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(uid)
    .bind(sha256(&secret))
    .bind(name.clone())
    .bind(now())
    .fetch_one(tx.conn())
    .await?
    .try_get("id")?;
    audit::record(
        &mut tx,
        ctx,
        "api_token",
        &id.to_string(),
        "create",
        None,
        Some(&json!({"user": username, "name": name})),
    )
    .await?;
    tx.commit().await?;
    Ok((id, secret))
}

pub async fn list_tokens(db: &Db, caller: &Caller) -> Result<Vec<TokenInfo>> {
    let rows = sqlx::query(
        "SELECT id, name, created_at, last_used_at, revoked_at FROM api_tokens WHERE user_id = $1 ORDER BY id DESC",
    )
    .bind(caller.user_id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(TokenInfo {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                created_at: r.try_get("created_at")?,
                last_used_at: r.try_get("last_used_at")?,
                revoked_at: r.try_get("revoked_at")?,
            })
        })
        .collect()
}

pub async fn revoke_token(db: &Db, ctx: &Ctx, id: i64) -> Result<()> {
    let mut tx = db.begin().await?;
    let n = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL")
        .bind(now())
        .bind(id)
        .bind(ctx.caller.user_id)
        .execute(tx.conn())
        .await?
        .rows_affected();
    if n != 1 {
        return Err(Error::NotFound);
    }
    audit::record(&mut tx, ctx, "api_token", &id.to_string(), "revoke", None, None).await?;
    tx.commit().await?;
    Ok(())
}

/// Ends a user's sessions inside the caller's transaction, except `keep` (the raw id of the
/// session making the change, if it is one); answers how many ended.
pub async fn end_sessions(tx: &mut WriteTx, user_id: i64, keep: Option<&str>) -> Result<u64> {
    let keep = keep.map(sha256).unwrap_or_default();
    Ok(sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2")
        .bind(user_id)
        .bind(keep)
        .execute(tx.conn())
        .await?
        .rows_affected())
}
