//! Text rules shared by every input: trimmed, length-limited (never silently cut).

/// Trims and checks the length in characters. Empty becomes `None`.
pub fn optional(s: Option<&str>, max: usize) -> Result<Option<String>, &'static str> {
    match s.map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) if t.chars().count() > max => Err("too_long"),
        Some(t) if t.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') => Err("control_chars"),
        Some(t) => Ok(Some(t.to_string())),
    }
}

pub fn required(s: Option<&str>, max: usize) -> Result<String, &'static str> {
    optional(s, max)?.ok_or("required")
}

/// Name key for duplicate detection and search: full-width forms folded, spaces and common
/// punctuation dropped, ASCII lower-cased, so "北京 华信（集团）" and "北京华信(集团)" match.
pub fn normalize_name(s: &str) -> String {
    s.chars()
        .filter_map(|c| {
            let c = match c {
                '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
                '\u{3000}' => ' ',
                _ => c,
            };
            if c.is_whitespace() || matches!(c, '(' | ')' | '.' | ',' | '-' | '·' | '、') {
                None
            } else {
                Some(c.to_ascii_lowercase())
            }
        })
        .collect()
}

/// Legal-form suffixes that name the same company (longest first).
const SUFFIXES: &[&str] = &["股份有限公司", "有限责任公司", "有限公司", "公司"];

/// The normalized names under which the same company may already be stored: the name with
/// each of the common legal-form suffixes (有限公司 / 有限责任公司 / 股份有限公司 / 公司) and none.
pub fn name_variants(s: &str) -> Vec<String> {
    let n = normalize_name(s);
    let base = SUFFIXES.iter().find_map(|suf| n.strip_suffix(suf)).unwrap_or(&n).to_string();
    let mut v: Vec<String> = SUFFIXES.iter().map(|suf| format!("{base}{suf}")).collect();
    v.push(base);
    v.sort();
    v.dedup();
    v
}

/// The longest search text a list takes (`?q=`), in characters.
pub const SEARCH_MAX_CHARS: usize = 200;

/// A list's search text (`?q=`): longer than [`SEARCH_MAX_CHARS`] as sent is `too_long` (every
/// list, so none runs a pattern of unbounded length); then trimmed, and empty is none.
pub fn search(q: Option<&str>) -> Result<Option<&str>, &'static str> {
    match q {
        Some(q) if q.chars().count() > SEARCH_MAX_CHARS => Err("too_long"),
        q => Ok(q.map(str::trim).filter(|q| !q.is_empty())),
    }
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern of names containing `q`
/// (normalised as names are).
pub fn like_pattern(q: &str) -> String {
    like_containing(&normalize_name(q))
}

/// A `LIKE … ESCAPE '\'` pattern of texts containing `s` exactly as written.
pub fn like_containing(s: &str) -> String {
    let mut p = String::from("%");
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_full_width_and_spaces() {
        assert_eq!(normalize_name("北京 华信（集团）"), normalize_name("北京华信(集团)"));
        assert_eq!(like_pattern("a_b"), "%a\\_b%");
    }

    #[test]
    fn suffix_variants_name_the_same_company() {
        let a = name_variants("北京华信精密制造有限责任公司");
        for other in ["北京华信精密制造有限公司", "北京 华信精密制造股份有限公司", "北京华信精密制造（有限公司）"]
        {
            assert!(a.contains(&normalize_name(other)), "{other}");
        }
        assert!(!a.contains(&normalize_name("北京华信精密仪器有限公司")));
    }

    #[test]
    fn length_is_counted_in_characters_and_never_cut() {
        assert_eq!(optional(Some("  中国  "), 2), Ok(Some("中国".into())));
        assert_eq!(optional(Some("中国人"), 2), Err("too_long"));
        assert_eq!(search(Some(&"长".repeat(200))).map(|q| q.map(|q| q.chars().count())), Ok(Some(200)));
        assert_eq!(search(Some(&"长".repeat(201))), Err("too_long"));
        assert_eq!(search(Some("  北京 ")), Ok(Some("北京")));
        assert_eq!(search(Some("   ")), Ok(None));
        assert_eq!(required(Some("   "), 2), Err("required"));
    }
}
