//! Role titles (docs/DOMAIN.md#8): the company names each role, in Chinese and English; where it
//! sets none, the manual's (`seeds/000`) is shown. A branch manager placed on a region unit is
//! shown with the region manager's title. One setting, `role_titles`, versioned like the
//! classification settings; the administrator changes it. The codes never change.
use sqlx::Row;

use crate::app::{records::audit, Ctx, Error, Result};
use crate::db::Db;
use crate::domain::error::Errors;
use crate::domain::role::{title_slots, RoleTitles, Title, TITLE_MAX};

const KEY: &str = "role_titles";

/// The titles in force and their version (0: never saved).
pub async fn load(db: &Db) -> Result<(RoleTitles, i64)> {
    let r =
        sqlx::query("SELECT value, version FROM settings WHERE key = 'role_titles'").fetch_optional(&db.pool).await?;
    Ok(match r {
        Some(r) => (RoleTitles::from_json(Some(&r.try_get::<String, _>("value")?)), r.try_get("version")?),
        None => (RoleTitles::default(), 0),
    })
}

/// Saves the titles (`slot → (zh, en)`; an empty text or the default itself means the
/// default), with the version they were read at. `default(slot, en)` gives the manual's title.
/// An empty list restores every default.
pub async fn save(
    db: &Db,
    ctx: &Ctx,
    typed: &[(String, String, String)],
    default: impl Fn(&str, bool) -> String,
    version: i64,
) -> Result<RoleTitles> {
    if !ctx.caller.role.is_admin() {
        return Err(Error::Forbidden);
    }
    let slots = title_slots();
    let mut e = Errors::default();
    let mut titles = RoleTitles::default();
    for (slot, zh, en) in typed {
        if !slots.contains(&slot.as_str()) {
            e.add(&format!("zh.{slot}"), "unknown_role");
            continue;
        }
        let mut t = Title::default();
        for (lang_en, text, field) in [(false, zh, format!("zh.{slot}")), (true, en, format!("en.{slot}"))] {
            let text = text.trim();
            if text.chars().count() > TITLE_MAX {
                e.add(&field, "too_long");
            } else if text.chars().any(char::is_control) {
                e.add(&field, "control_chars");
            } else if !text.is_empty() && text != default(slot, lang_en) {
                *(if lang_en { &mut t.en } else { &mut t.zh }) = Some(text.to_string());
            }
        }
        if t != Title::default() {
            titles.0.insert(slot.clone(), t);
        }
    }
    e.finish()?;
    let value = serde_json::to_string(&titles).map_err(|e| anyhow::anyhow!(e))?;
    let mut tx = db.begin().await?;
    let before =
        sqlx::query("SELECT value, version FROM settings WHERE key = $1").bind(KEY).fetch_optional(tx.conn()).await?;
    let (before, current) = match before {
        Some(r) => (Some(r.try_get::<String, _>("value")?), r.try_get::<i64, _>("version")?),
        None => (None, 0),
    };
    if current != version {
        return Err(Error::StaleVersion { current });
    }
    if !crate::app::records::settings::write(&mut tx, KEY, &value, version, &ctx.caller.username).await? {
        return Ok(titles);
    }
    let before = RoleTitles::from_json(before.as_deref());
    let json = |t: &RoleTitles| serde_json::to_value(t).unwrap_or_default();
    audit::record(&mut tx, ctx, "settings", KEY, "update", Some(&json(&before)), Some(&json(&titles))).await?;
    tx.commit().await?;
    Ok(titles)
}
