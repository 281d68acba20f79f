//! Directory sign-in (LDAP / Active Directory; issue 26 item 1, docs/DOMAIN.md §8): KAM binds
//! with a service account, searches the user, then binds as the user with the password they
//! typed. The user's groups give the KAM role (the company's mapping, in order of precedence),
//! an attribute gives the org unit (its KAM code), and the user is created at the first sign-in
//! and brought up to date at every later one. A user the directory disables or removes is
//! deactivated in KAM: at their next sign-in and by the scheduled sync. Local accounts (the
//! administrator's) keep signing in with KAM's own password.
//!
//! Nothing here imports `auth`: `auth::login` asks this module.
use std::time::Duration;

use ldap3::{ldap_escape, Ldap, LdapConnAsync, LdapConnSettings, Scope, SearchEntry};
use serde::Serialize;
use serde_json::json;
use sqlx::Row;

use crate::app::records::{audit, settings};
use crate::app::{Ctx, Error, Result};
use crate::db::{now, Db, WriteTx};
use crate::domain::role::Role;

/// How KAM reaches and reads the company's directory (`KAM_LDAP_*`, `kam.toml`).
#[derive(Debug, Clone)]
pub struct Config {
    /// `ldap://host:389` or `ldaps://host:636`.
    pub url: String,
    /// Upgrade an `ldap://` connection with StartTLS.
    pub starttls: bool,
    /// The service account KAM searches with.
    pub bind_dn: String,
    pub bind_password: String,
    /// Where users are searched (subtree).
    pub base_dn: String,
    /// Finds one user; `{username}` is replaced by the escaped name typed at sign-in.
    pub user_filter: String,
    /// Where groups are searched; the base DN when empty.
    pub group_base: String,
    /// Finds the user's groups; `{dn}` and `{username}` are replaced (escaped).
    pub group_filter: String,
    /// Group (its `cn` or its whole DN, any case) → KAM role; the first group of the list the
    /// user is in decides.
    pub role_groups: Vec<(String, Role)>,
    /// The attribute holding the code of the user's KAM org unit.
    pub unit_attribute: String,
    /// The org unit of users whose attribute is missing or names no KAM unit; without it such
    /// a user cannot sign in.
    pub default_unit: Option<String>,
    pub name_attribute: String,
    pub mail_attribute: String,
    /// A user the directory answers for with this filter (searched at their entry) is
    /// disabled. Empty: the directory disables by removing the entry only.
    pub disabled_filter: String,
    /// The scheduled sync's period.
    pub sync_minutes: u64,
    /// Bound of every directory operation.
    pub timeout: Duration,
}

/// Active Directory's rule (the account's ACCOUNTDISABLE bit); OpenLDAP answers "undefined"
/// for the unknown attribute, so nobody matches there unless another filter is set.
pub const AD_DISABLED_FILTER: &str = "(userAccountControl:1.2.840.113556.1.4.803:=2)";

/// `group=role,group=role`: the mapping as the setting writes it. A group is its `cn` or its
/// whole DN; a DN holds commas itself, so a comma ends an entry only where the text before it
/// ends in `=` and a role code (`;` or a new line always ends one). Unknown roles are refused.
pub fn parse_role_groups(s: &str) -> std::result::Result<Vec<(String, Role)>, String> {
    let mut out = Vec::new();
    for entry in s.split([';', '\n']) {
        let mut pending = String::new();
        for piece in entry.split(',') {
            if !pending.is_empty() {
                pending.push(',');
            }
            pending.push_str(piece);
            let ends_in_role = pending.rsplit_once('=').is_some_and(|(_, r)| Role::parse(r).is_ok());
            if ends_in_role {
                out.push(one_mapping(&pending)?);
                pending.clear();
            }
        }
        if !pending.trim().is_empty() {
            return Err(match pending.rsplit_once('=') {
                Some((_, role)) => format!("{}: unknown role {}", pending.trim(), role.trim()),
                None => format!("{}: expected group=role", pending.trim()),
            });
        }
    }
    Ok(out)
}

fn one_mapping(part: &str) -> std::result::Result<(String, Role), String> {
    let part = part.trim();
    let (group, role) = part.rsplit_once('=').ok_or_else(|| format!("{part}: expected group=role"))?;
    let role = Role::parse(role).map_err(|_| format!("{part}: unknown role {}", role.trim()))?;
    let group = group.trim();
    if group.is_empty() {
        return Err(format!("{part}: the group is empty"));
    }
    Ok((group.to_lowercase(), role))
}

/// A person as the directory describes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Person {
    pub dn: String,
    pub display_name: String,
    pub email: Option<String>,
    /// The mapped role; none when the user is in no mapped group.
    pub role: Option<Role>,
    /// The unit attribute's value, as the directory holds it.
    pub unit: Option<String>,
    /// Disabled by the directory (the disabled filter matched).
    pub disabled: bool,
    /// The groups found (their `cn`), for the status page and the audit.
    pub groups: Vec<String>,
}

/// What went wrong with the directory itself (not with the user).
fn unavailable(e: impl std::fmt::Display) -> Error {
    tracing::warn!(error = %e, "directory unavailable");
    Error::Conflict("directory_unavailable")
}

async fn connect(cfg: &Config) -> Result<Ldap> {
    let s = LdapConnSettings::new().set_conn_timeout(cfg.timeout).set_starttls(cfg.starttls);
    let (conn, ldap) = LdapConnAsync::with_settings(s, &cfg.url).await.map_err(unavailable)?;
    ldap3::drive!(conn);
    Ok(ldap)
}

/// A connection bound as the service account.
async fn service(cfg: &Config) -> Result<Ldap> {
    let mut ldap = connect(cfg).await?;
    let r = ldap.with_timeout(cfg.timeout).simple_bind(&cfg.bind_dn, &cfg.bind_password).await.map_err(unavailable)?;
    if r.rc != 0 {
        return Err(unavailable(format!("the service account's bind was refused (rc {}): {}", r.rc, r.text)));
    }
    Ok(ldap)
}

fn attr(e: &SearchEntry, name: &str) -> Option<String> {
    e.attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.first())
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn first_rdn_value(dn: &str) -> String {
    dn.split(',').next().and_then(|rdn| rdn.split_once('=')).map(|(_, v)| v.trim().to_string()).unwrap_or_default()
}

/// Finds `username` with the service connection: `None` when the directory has no such user.
async fn find(ldap: &mut Ldap, cfg: &Config, username: &str) -> Result<Option<Person>> {
    let filter = cfg.user_filter.replace("{username}", &ldap_escape(username));
    let attrs =
        vec![cfg.name_attribute.as_str(), "cn", cfg.mail_attribute.as_str(), cfg.unit_attribute.as_str(), "memberOf"];
    let (entries, _) = ldap
        .with_timeout(cfg.timeout)
        .search(&cfg.base_dn, Scope::Subtree, &filter, attrs)
        .await
        .map_err(unavailable)?
        .success()
        .map_err(unavailable)?;
    // Two entries for one name: ambiguous, refused like an unknown name.
    if entries.len() != 1 {
        return Ok(None);
    }
    let Some(entry) = entries.into_iter().next() else { return Ok(None) };
    let e = SearchEntry::construct(entry);
    // Groups: AD's and OpenLDAP's `memberOf` where kept, and a search of group entries.
    let mut groups: Vec<(String, String)> = Vec::new();
    for (k, v) in &e.attrs {
        if k.eq_ignore_ascii_case("memberOf") {
            groups.extend(v.iter().map(|dn| (dn.to_lowercase(), first_rdn_value(dn).to_lowercase())));
        }
    }
    if !cfg.group_filter.trim().is_empty() {
        let gfilter =
            cfg.group_filter.replace("{dn}", &ldap_escape(&e.dn)).replace("{username}", &ldap_escape(username));
        let base = if cfg.group_base.trim().is_empty() { &cfg.base_dn } else { &cfg.group_base };
        let (found, _) = ldap
            .with_timeout(cfg.timeout)
            .search(base, Scope::Subtree, &gfilter, vec!["cn"])
            .await
            .map_err(unavailable)?
            .success()
            .map_err(unavailable)?;
        for g in found {
            let g = SearchEntry::construct(g);
            let cn = attr(&g, "cn").unwrap_or_else(|| first_rdn_value(&g.dn));
            groups.push((g.dn.to_lowercase(), cn.to_lowercase()));
        }
    }
    let role =
        cfg.role_groups.iter().find(|(key, _)| groups.iter().any(|(dn, cn)| dn == key || cn == key)).map(|(_, r)| *r);
    let disabled = if cfg.disabled_filter.trim().is_empty() {
        false
    } else {
        let (hit, _) = ldap
            .with_timeout(cfg.timeout)
            .search(&e.dn, Scope::Base, &cfg.disabled_filter, vec!["1.1"])
            .await
            .map_err(unavailable)?
            .success()
            .map_err(unavailable)?;
        !hit.is_empty()
    };
    let mut names: Vec<String> = groups.into_iter().map(|(_, cn)| cn).collect();
    names.sort();
    names.dedup();
    Ok(Some(Person {
        display_name: attr(&e, &cfg.name_attribute).or_else(|| attr(&e, "cn")).unwrap_or_else(|| username.to_string()),
        email: attr(&e, &cfg.mail_attribute),
        unit: attr(&e, &cfg.unit_attribute),
        role,
        disabled,
        groups: names,
        dn: e.dn,
    }))
}

/// Whether `password` is the directory password of the entry `dn` (a bind as the user on a
/// connection of its own). An empty password is refused before the directory is asked: LDAP
/// takes a bind with a name and no password as an anonymous one and answers success.
async fn password_ok(cfg: &Config, dn: &str, password: &str) -> Result<bool> {
    if password.is_empty() {
        return Ok(false);
    }
    let mut ldap = connect(cfg).await?;
    let r = ldap.with_timeout(cfg.timeout).simple_bind(dn, password).await.map_err(unavailable)?;
    let _ = ldap.unbind().await;
    match r.rc {
        0 => Ok(true),
        // invalidCredentials; inappropriateAuthentication; unwillingToPerform (AD: disabled).
        49 | 48 | 53 => Ok(false),
        rc => Err(unavailable(format!("the user's bind answered rc {rc}: {}", r.text))),
    }
}

/// A KAM user of the directory as the database holds them.
struct Kept {
    id: i64,
    source: String,
    active: bool,
    disabled_by_directory: bool,
    display_name: String,
    email: Option<String>,
    role: String,
    org_unit_id: i64,
}

async fn kept(conn: &mut sqlx::AnyConnection, username: &str) -> Result<Option<Kept>> {
    let r = sqlx::query(
        "SELECT id, source, active, directory_disabled_at, display_name, email, role, org_unit_id FROM users WHERE username = $1",
    )
    .bind(username)
    .fetch_optional(conn)
    .await?;
    r.map(|r| -> Result<Kept> {
        Ok(Kept {
            id: r.try_get("id")?,
            source: r.try_get("source")?,
            active: r.try_get::<i64, _>("active")? == 1,
            disabled_by_directory: r.try_get::<Option<String>, _>("directory_disabled_at")?.is_some(),
            display_name: r.try_get("display_name")?,
            email: r.try_get("email")?,
            role: r.try_get("role")?,
            org_unit_id: r.try_get("org_unit_id")?,
        })
    })
    .transpose()
}

/// The org unit `person` belongs to: their attribute's code, else the default unit.
async fn unit_of(conn: &mut sqlx::AnyConnection, cfg: &Config, person: &Person) -> Result<Option<i64>> {
    for code in [person.unit.as_deref(), cfg.default_unit.as_deref()].into_iter().flatten() {
        let id = sqlx::query("SELECT id FROM org_units WHERE code = $1")
            .bind(code.trim())
            .fetch_optional(&mut *conn)
            .await?
            .map(|r| r.try_get::<i64, _>("id"))
            .transpose()?;
        if id.is_some() {
            return Ok(id);
        }
    }
    Ok(None)
}

/// Deactivates a directory user the directory disabled or removed: sessions end, tokens are
/// revoked, and the user is marked so that the directory may bring them back.
async fn deactivate(tx: &mut WriteTx, ctx: &Ctx, username: &str, user_id: i64, why: &str) -> Result<()> {
    let t = now();
    sqlx::query(
        "UPDATE users SET active = 0, directory_disabled_at = $1, version = version + 1, updated_at = $1 WHERE id = $2",
    )
    .bind(&t)
    .bind(user_id)
    .execute(tx.conn())
    .await?;
    sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(tx.conn()).await?;
    sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
        .bind(&t)
        .bind(user_id)
        .execute(tx.conn())
        .await?;
    audit::record(
        tx,
        ctx,
        "user",
        username,
        "directory_deactivate",
        Some(&json!({"active": true})),
        Some(&json!({"active": false, "reason": why})),
    )
    .await
}

/// Brings the KAM user up to date with `person` (creating them when new); answers the user's
/// id and whether anything changed, or the reason they cannot sign in.
async fn provision(tx: &mut WriteTx, ctx: &Ctx, cfg: &Config, username: &str, person: &Person) -> Result<(i64, bool)> {
    let role = person.role.ok_or(Error::Conflict("directory_no_role"))?;
    let unit = unit_of(tx.conn(), cfg, person).await?.ok_or(Error::Conflict("directory_no_unit"))?;
    let t = now();
    let email = person.email.as_deref().map(|e| e.chars().take(200).collect::<String>());
    let display: String = person.display_name.chars().take(100).collect();
    match kept(tx.conn(), username).await? {
        None => {
            let r = sqlx::query(
                "INSERT INTO users (username, display_name, role, org_unit_id, active, password_hash, email, source, \
                 directory_dn, created_at, updated_at) VALUES ($1, $2, $3, $4, 1, '!directory', $5, 'directory', $6, $7, $7) \
                 RETURNING id",
            )
            .bind(username)
            .bind(&display)
            .bind(role.code())
            .bind(unit)
            .bind(email.clone())
            .bind(&person.dn)
            .bind(&t)
            .fetch_one(tx.conn())
            .await?;
            let id: i64 = r.try_get("id")?;
            audit::record(
                tx,
                ctx,
                "user",
                username,
                "directory_create",
                None,
                Some(&json!({"display_name": display, "role": role.code(), "org_unit_id": unit, "email": email,
                    "dn": person.dn, "groups": person.groups})),
            )
            .await?;
            if role.reach() == crate::domain::role::Reach::OrgSubtree {
                crate::app::customers::visibility::rebuild_all(tx.conn()).await?;
            }
            Ok((id, true))
        }
        Some(k) if k.source != "directory" => Err(Error::Unauthenticated),
        // Deactivated by an administrator in KAM: the directory does not bring them back.
        Some(k) if !k.active && !k.disabled_by_directory => Err(Error::Unauthenticated),
        Some(k) => {
            let before = json!({"display_name": k.display_name, "role": k.role, "org_unit_id": k.org_unit_id,
                "email": k.email, "active": k.active});
            let after = json!({"display_name": display, "role": role.code(), "org_unit_id": unit, "email": email,
                "active": true});
            let changed = before != after;
            if changed {
                sqlx::query(
                    "UPDATE users SET display_name = $1, role = $2, org_unit_id = $3, email = $4, active = 1, \
                     directory_disabled_at = NULL, directory_dn = $5, version = version + 1, updated_at = $6 WHERE id = $7",
                )
                .bind(&display)
                .bind(role.code())
                .bind(unit)
                .bind(email.clone())
                .bind(&person.dn)
                .bind(&t)
                .bind(k.id)
                .execute(tx.conn())
                .await?;
                audit::record(tx, ctx, "user", username, "directory_update", Some(&before), Some(&after)).await?;
                if (k.role.as_str(), k.org_unit_id) != (role.code(), unit) {
                    crate::app::customers::visibility::rebuild_all(tx.conn()).await?;
                }
            }
            Ok((k.id, changed))
        }
    }
}

/// The context the directory's own changes are audited under (the user themself at sign-in;
/// the system for the sync).
fn directory_ctx(request_id: &str) -> Ctx {
    let mut ctx = Ctx::system();
    ctx.caller.username = "directory".into();
    ctx.caller.display_name = "directory".into();
    ctx.request_id = request_id.to_string();
    ctx
}

/// Signs `username` in against the directory: answers the KAM user's id. A wrong password, an
/// unknown or ambiguous name and a disabled user are `Unauthenticated` (the caller counts the
/// failure); a user in no mapped group or with no known org unit is told so
/// (`directory_no_role`, `directory_no_unit`); an unreachable directory is
/// `directory_unavailable`. A disabled or removed user is deactivated in KAM on the way.
pub async fn sign_in(db: &Db, cfg: &Config, username: &str, password: &str, request_id: &str) -> Result<i64> {
    let mut ldap = service(cfg).await?;
    let found = find(&mut ldap, cfg, username).await;
    let _ = ldap.unbind().await;
    let ctx = directory_ctx(request_id);
    let person = match found? {
        Some(p) if !p.disabled => p,
        gone => {
            let why = if gone.is_some() { "disabled" } else { "not_found" };
            let mut tx = db.begin().await?;
            match kept(tx.conn(), username).await? {
                Some(k) if k.source == "directory" && k.active => {
                    deactivate(&mut tx, &ctx, username, k.id, why).await?;
                    tx.commit().await?;
                }
                _ => tx.rollback().await?,
            }
            return Err(Error::Unauthenticated);
        }
    };
    if !password_ok(cfg, &person.dn, password).await? {
        return Err(Error::Unauthenticated);
    }
    let mut tx = db.begin().await?;
    let mut ctx = ctx;
    ctx.caller.username = username.to_string();
    let (id, _) = provision(&mut tx, &ctx, cfg, username, &person).await?;
    tx.commit().await?;
    Ok(id)
}

/// What a sync did.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct SyncReport {
    /// When it ran (UTC).
    pub at: String,
    /// Directory users looked up.
    pub checked: u64,
    /// Brought up to date (name, email, role or org unit changed).
    pub updated: u64,
    /// Deactivated: disabled or removed in the directory, or in no mapped group any more.
    pub deactivated: u64,
    /// Users left as they were because of their data (no known org unit).
    pub skipped: Vec<String>,
}

const LAST_SYNC: &str = "directory_last_sync";

/// Looks every active directory user up with the service account: the disabled, the removed
/// and those in no mapped group are deactivated; the others are brought up to date. The
/// directory unreachable changes nothing (an error). One transaction per user.
pub async fn sync(db: &Db, cfg: &Config, ctx: &Ctx) -> Result<SyncReport> {
    let users: Vec<String> =
        sqlx::query("SELECT username FROM users WHERE source = 'directory' AND active = 1 ORDER BY username")
            .fetch_all(&db.pool)
            .await?
            .iter()
            .map(|r| r.try_get("username"))
            .collect::<std::result::Result<_, _>>()?;
    let mut ldap = service(cfg).await?;
    let mut report = SyncReport { at: now(), ..Default::default() };
    for username in users {
        let person = find(&mut ldap, cfg, &username).await?;
        report.checked += 1;
        let mut tx = db.begin().await?;
        let Some(k) = kept(tx.conn(), &username).await? else {
            tx.rollback().await?;
            continue;
        };
        match person {
            Some(p) if !p.disabled && p.role.is_some() => match provision(&mut tx, ctx, cfg, &username, &p).await {
                Ok((_, changed)) => {
                    report.updated += changed as u64;
                    tx.commit().await?;
                }
                Err(Error::Conflict("directory_no_unit")) => {
                    tx.rollback().await?;
                    report.skipped.push(username);
                }
                Err(e) => return Err(e),
            },
            other => {
                let why = match other {
                    None => "not_found",
                    Some(p) if p.disabled => "disabled",
                    Some(_) => "no_role",
                };
                deactivate(&mut tx, ctx, &username, k.id, why).await?;
                tx.commit().await?;
                report.deactivated += 1;
            }
        }
    }
    let _ = ldap.unbind().await;
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO settings (key, value, version, updated_at, updated_by) VALUES ($1, $2, 1, $3, 'directory') \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, version = settings.version + 1, updated_at = excluded.updated_at",
    )
    .bind(LAST_SYNC)
    .bind(serde_json::to_string(&report).unwrap_or_default())
    .bind(now())
    .execute(tx.conn())
    .await?;
    audit::record(&mut tx, ctx, "directory", "sync", "sync", None, Some(&json!(report))).await?;
    tx.commit().await?;
    Ok(report)
}

/// The last sync's report, if any has run.
pub async fn last_sync(db: &Db) -> Result<Option<SyncReport>> {
    let v = sqlx::query("SELECT value FROM settings WHERE key = $1").bind(LAST_SYNC).fetch_optional(&db.pool).await?;
    Ok(v.and_then(|r| r.try_get::<String, _>("value").ok()).and_then(|v| serde_json::from_str(&v).ok()))
}

/// The scheduler's part: a sync once per period, by one server of several (a claim in
/// `settings`, given back when the sync fails).
pub async fn scheduled(db: &Db, cfg: &Config, now: chrono::DateTime<chrono::Utc>) -> Result<Option<SyncReport>> {
    let period = (now.timestamp() / (cfg.sync_minutes.max(1) as i64 * 60)).to_string();
    let mut tx = db.begin().await?;
    let Some(last) = settings::claim_day(&mut tx, "directory_sync_period", &period).await? else {
        return Ok(None);
    };
    tx.commit().await?;
    let done = sync(db, cfg, &directory_ctx("scheduler")).await;
    if done.is_err() {
        // An unreachable directory: the next scheduler pass tries again.
        settings::release_day(db, "directory_sync_period", &last, &period).await;
    }
    done.map(Some)
}

/// A group and the role it gives.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RoleGroup {
    pub group: String,
    pub role: Role,
}

/// The directory sign-in as the administrator sees it: the settings (never the service
/// account's password), whether the directory answers now, the last sync and the users it
/// brought in.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DirectoryStatus {
    /// Directory sign-in is on (KAM_LDAP_URL set).
    pub configured: bool,
    pub url: Option<String>,
    pub base_dn: Option<String>,
    pub bind_dn: Option<String>,
    pub user_filter: Option<String>,
    pub group_filter: Option<String>,
    /// In order of precedence.
    pub role_groups: Vec<RoleGroup>,
    pub unit_attribute: Option<String>,
    pub default_unit: Option<String>,
    pub disabled_filter: Option<String>,
    pub sync_minutes: Option<u64>,
    /// The service account binds and the base DN answers (asked now).
    pub reachable: Option<bool>,
    pub error: Option<String>,
    pub last_sync: Option<SyncReport>,
    /// Users who sign in through the directory: active, and deactivated.
    pub users_active: i64,
    pub users_inactive: i64,
}

pub async fn status(db: &Db, cfg: Option<&Config>, ctx: &Ctx) -> Result<DirectoryStatus> {
    ctx.require_admin()?;
    let counts = sqlx::query(
        "SELECT COALESCE(SUM(CASE WHEN active = 1 THEN 1 ELSE 0 END), 0) AS a, \
         COALESCE(SUM(CASE WHEN active = 1 THEN 0 ELSE 1 END), 0) AS i FROM users WHERE source = 'directory'",
    )
    .fetch_one(&db.pool)
    .await?;
    let probe = match cfg {
        Some(c) => Some(probe(c).await),
        None => None,
    };
    Ok(DirectoryStatus {
        configured: cfg.is_some(),
        url: cfg.map(|c| c.url.clone()),
        base_dn: cfg.map(|c| c.base_dn.clone()),
        bind_dn: cfg.map(|c| c.bind_dn.clone()),
        user_filter: cfg.map(|c| c.user_filter.clone()),
        group_filter: cfg.map(|c| c.group_filter.clone()),
        role_groups: cfg
            .map(|c| c.role_groups.iter().map(|(g, r)| RoleGroup { group: g.clone(), role: *r }).collect())
            .unwrap_or_default(),
        unit_attribute: cfg.map(|c| c.unit_attribute.clone()),
        default_unit: cfg.and_then(|c| c.default_unit.clone()),
        disabled_filter: cfg.map(|c| c.disabled_filter.clone()),
        sync_minutes: cfg.map(|c| c.sync_minutes),
        reachable: probe.as_ref().map(|p| p.reachable),
        error: probe.and_then(|p| p.error),
        last_sync: last_sync(db).await?,
        users_active: counts.try_get("a")?,
        users_inactive: counts.try_get("i")?,
    })
}

/// The administrator's "sync now" (the page, the API, `kam directory sync`).
pub async fn sync_now(db: &Db, cfg: Option<&Config>, ctx: &Ctx) -> Result<SyncReport> {
    ctx.require_admin()?;
    let cfg = cfg.ok_or(Error::Conflict("directory_not_configured"))?;
    sync(db, cfg, ctx).await
}

/// What the settings page and `kam doctor` say about the directory: the service account binds
/// and the base answers (how many users the filter finds with `*`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Probe {
    pub reachable: bool,
    /// The error, when not reachable.
    pub error: Option<String>,
}

pub async fn probe(cfg: &Config) -> Probe {
    let r: std::result::Result<(), String> = async {
        let s = LdapConnSettings::new().set_conn_timeout(cfg.timeout).set_starttls(cfg.starttls);
        let (conn, mut ldap) = LdapConnAsync::with_settings(s, &cfg.url).await.map_err(|e| e.to_string())?;
        ldap3::drive!(conn);
        let b = ldap
            .with_timeout(cfg.timeout)
            .simple_bind(&cfg.bind_dn, &cfg.bind_password)
            .await
            .map_err(|e| e.to_string())?;
        if b.rc != 0 {
            return Err(format!("the service account's bind was refused (rc {}): {}", b.rc, b.text));
        }
        ldap.with_timeout(cfg.timeout)
            .search(&cfg.base_dn, Scope::Base, "(objectClass=*)", vec!["1.1"])
            .await
            .map_err(|e| e.to_string())?
            .success()
            .map_err(|e| format!("the base DN {}: {e}", cfg.base_dn))?;
        let _ = ldap.unbind().await;
        Ok(())
    }
    .await;
    Probe { reachable: r.is_ok(), error: r.err() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_role_mapping_reads_names_and_dns_in_order() {
        let m = parse_role_groups("kam-managers=ka_manager, cn=Reps,ou=groups,dc=example,dc=com=ka_rep").unwrap();
        assert_eq!(
            m,
            vec![("kam-managers".into(), Role::KaManager), ("cn=reps,ou=groups,dc=example,dc=com".into(), Role::KaRep)]
        );
        assert!(parse_role_groups("kam-managers=boss").unwrap_err().contains("unknown role boss"));
        assert!(parse_role_groups("nothing").is_err());
        assert!(parse_role_groups("=ka_rep").unwrap_err().contains("the group is empty"));
        assert_eq!(
            parse_role_groups("a=gm; b=admin\n").unwrap(),
            vec![("a".into(), Role::Gm), ("b".into(), Role::Admin)]
        );
    }
}
