//! The caller's language and translated texts (locales/app.yml via rust-i18n).
use axum::http::HeaderMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }
    pub fn from_code(s: &str) -> Lang {
        if s.trim().to_ascii_lowercase().starts_with("en") {
            Lang::En
        } else {
            Lang::Zh
        }
    }
    /// An explicit `Accept-Language` wins for API clients; otherwise the user's choice.
    pub fn from_headers(h: &HeaderMap) -> Option<Lang> {
        h.get(axum::http::header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).map(Lang::from_code)
    }
    /// The title of a role (or `title_slot`) as the company set it, else the manual's (`role.*`).
    pub fn role_title(self, titles: &crate::domain::role::RoleTitles, slot: &str) -> String {
        titles.get(slot, self == Lang::En).map(str::to_string).unwrap_or_else(|| self.t(&format!("role.{slot}")))
    }
    pub fn t(self, key: &str) -> String {
        rust_i18n::t!(key, locale = self.code()).into_owned()
    }
    /// The message for an error or field code, falling back to the code itself.
    pub fn msg(self, prefix: &str, code: &str) -> String {
        let key = format!("{prefix}.{code}");
        let s = self.t(&key);
        if s.ends_with(&key) {
            code.replace('_', " ")
        } else {
            s
        }
    }
}

/// The manual's title of a role slot (`seeds/000`), in Chinese or English: what is shown where
/// the company set none.
pub fn default_title(slot: &str, en: bool) -> String {
    (if en { Lang::En } else { Lang::Zh }).t(&format!("role.{slot}"))
}
