//! The company as its documents name it (settings key `company`): name, address, phone, fax,
//! website and logo, printed on the quote (商务报价单) and the documents to come. Read by every
//! signed-in user's documents; written by the administrator over the version read.
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;

use crate::app::{records::audit, Ctx, Error, Result};
use crate::db::Db;
use crate::domain::error::Errors;
use crate::domain::text;

const KEY: &str = "company";
/// The largest logo kept (bytes of the image).
pub const MAX_LOGO: usize = 200 * 1024;

/// The company's profile.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Company {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub fax: Option<String>,
    #[serde(default)]
    pub website: Option<String>,
    /// The logo as a `data:image/…;base64,…` URL (PNG, JPEG, GIF or WebP, at most 200 KB).
    #[serde(default)]
    pub logo: Option<String>,
}

/// The profile and its version (0: never saved).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CompanyView {
    #[serde(flatten)]
    pub company: Company,
    pub version: i64,
}

pub async fn get(db: &Db) -> Result<CompanyView> {
    let r =
        sqlx::query("SELECT value, version FROM settings WHERE key = $1").bind(KEY).fetch_optional(&db.pool).await?;
    Ok(match r {
        Some(r) => CompanyView {
            company: serde_json::from_str(&r.try_get::<String, _>("value")?).unwrap_or_default(),
            version: r.try_get("version")?,
        },
        None => CompanyView { company: Company::default(), version: 0 },
    })
}

/// The image type of a logo from its first bytes, or None when it is no image we print.
fn image_type(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [0x89, b'P', b'N', b'G', ..] => Some("image/png"),
        [0xFF, 0xD8, 0xFF, ..] => Some("image/jpeg"),
        [b'G', b'I', b'F', b'8', ..] => Some("image/gif"),
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Some("image/webp"),
        _ => None,
    }
}

/// A logo file as the data URL kept in the profile.
pub fn logo_of(bytes: &[u8]) -> Result<String> {
    if bytes.len() > MAX_LOGO {
        return Err(Error::invalid("logo", "logo_too_large"));
    }
    let ty = image_type(bytes).ok_or_else(|| Error::invalid("logo", "logo_not_image"))?;
    Ok(format!("data:{ty};base64,{}", base64::engine::general_purpose::STANDARD.encode(bytes)))
}

/// Saves the profile (the administrator) over `version`. `logo`: None keeps the one stored,
/// Some("") removes it, a data URL replaces it (checked as an image).
pub async fn set(db: &Db, ctx: &Ctx, c: &Company, version: i64) -> Result<CompanyView> {
    ctx.require_admin()?;
    let mut e = Errors::default();
    let name = e.take("name", text::required(Some(&c.name), 100));
    let mut opt = |f: &str, v: &Option<String>, max: usize| e.take(f, text::optional(v.as_deref(), max)).flatten();
    let address = opt("address", &c.address, 200);
    let phone = opt("phone", &c.phone, 50);
    let fax = opt("fax", &c.fax, 50);
    let website = opt("website", &c.website, 200);
    let before = get(db).await?;
    let logo = match c.logo.as_deref() {
        None => before.company.logo.clone(),
        Some("") => None,
        Some(url) => {
            let bytes = url
                .split_once(";base64,")
                .filter(|(head, _)| head.starts_with("data:image/"))
                .and_then(|(_, b)| base64::engine::general_purpose::STANDARD.decode(b).ok());
            match bytes {
                Some(b) => e.take(
                    "logo",
                    logo_of(&b).map_err(|_| if b.len() > MAX_LOGO { "logo_too_large" } else { "logo_not_image" }),
                ),
                None => {
                    e.add("logo", "logo_not_image");
                    None
                }
            }
        }
    };
    e.finish()?;
    let company = Company { name: name.unwrap_or_default(), address, phone, fax, website, logo };
    let mut tx = db.begin().await?;
    let value = serde_json::to_string(&company).map_err(anyhow::Error::from)?;
    if crate::app::records::settings::write(&mut tx, KEY, &value, version, &ctx.caller.username).await? {
        // The logo itself is not copied into the trail: whether it changed is.
        let short = |c: &Company| json!({"name": c.name, "address": c.address, "phone": c.phone, "fax": c.fax, "website": c.website, "logo": c.logo.as_ref().map(|l| l.len())});
        audit::record(&mut tx, ctx, "settings", KEY, "update", Some(&short(&before.company)), Some(&short(&company)))
            .await?;
    }
    tx.commit().await?;
    get(db).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_logo_must_be_an_image_of_at_most_200_kb() {
        let png = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0];
        assert!(logo_of(&png).unwrap().starts_with("data:image/png;base64,"));
        assert!(logo_of(b"%PDF-1.7").is_err());
        let mut big = png.to_vec();
        big.resize(MAX_LOGO + 1, 0);
        assert!(logo_of(&big).is_err());
    }
}
