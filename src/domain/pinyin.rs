//! Pinyin keys of Chinese names, for search and sorting (docs/DOMAIN.md, "Search").
//!
//! `full` is the name spelt in toneless pinyin, lower case, without spaces or punctuation
//! (天成信息 → `tianchengxinxi`); `initials` takes the first letter of each character's syllable
//! (→ `tcxx`). Latin letters and digits are kept as they are (lower case) in both, so
//! `ABC科技` is `abckeji` and `abckj`; ü is spelt v (绿 → `lv`), as pinyin keyboards take it. A character with several readings takes its most common
//! one (the `pinyin` crate's first). `sort_key` orders names the way a Chinese reader expects
//! (by pinyin, then by the name itself so equal spellings keep a stable order).
use pinyin::ToPinyin;

fn spell(name: &str, initial_only: bool) -> String {
    let mut out = String::with_capacity(name.len() * 2);
    for c in name.chars() {
        if let Some(p) = c.to_pinyin() {
            if initial_only {
                out.push_str(p.first_letter());
            } else {
                // ü is typed v (绿 lv), as on every pinyin keyboard.
                out.extend(p.plain().chars().map(|c| if c == 'ü' { 'v' } else { c }));
            }
            continue;
        }
        // Full-width Latin letters and digits count as their ASCII forms.
        let c = match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        };
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// The name in toneless pinyin, lower case, no spaces: 天成信息 → `tianchengxinxi`.
pub fn full(name: &str) -> String {
    spell(name, false)
}

/// The first letters of the name's syllables: 天成信息 → `tcxx`.
pub fn initials(name: &str) -> String {
    spell(name, true)
}

/// The key a list of names is sorted by: the pinyin with a separator before the name itself.
pub fn sort_key(name: &str) -> String {
    let mut k = spell(name, false);
    k.push('\u{0}');
    k.push_str(name);
    k
}

/// The sort key a database column holds (`accounts.name_sort`, `account_visibility.name`): as
/// [`sort_key`], with U+0001 as the separator (PostgreSQL text cannot hold U+0000). The pinyin
/// is only `a`–`z` and `0`–`9`, so the separator sorts below any longer spelling.
pub fn stored_sort_key(name: &str) -> String {
    let mut k = spell(name, false);
    k.push('\u{1}');
    k.push_str(name);
    k
}

/// Whether a search text could be pinyin (only Latin letters, digits and spaces), so a search
/// asks the pinyin columns only then.
pub fn may_be_pinyin(q: &str) -> bool {
    let q = q.trim();
    !q.is_empty() && q.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '\'')
}

/// The search text as the pinyin columns hold it: lower case, no spaces or apostrophes.
pub fn query_key(q: &str) -> String {
    q.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spells_names() {
        assert_eq!(full("天成信息"), "tianchengxinxi");
        assert_eq!(initials("天成信息"), "tcxx");
        assert_eq!(full("ABC科技（北京）"), "abckejibeijing");
        assert_eq!(initials("ABC科技"), "abckj");
        assert_eq!(full("林涛"), "lintao");
        assert_eq!(full("绿女"), "lvnv");
        assert_eq!(query_key("Tian Cheng"), "tiancheng");
        assert!(may_be_pinyin("TianCheng"));
        assert!(!may_be_pinyin("天成"));
    }

    #[test]
    fn sorts_by_pinyin() {
        let mut names = vec!["张伟", "阿里", "林涛", "北京"];
        names.sort_by_key(|n| sort_key(n));
        assert_eq!(names, vec!["阿里", "北京", "林涛", "张伟"]);
    }
}
