//! Money is integer fen inside and a decimal string with at most two decimals outside.

/// Parses `"1200000"`, `"1200000.5"` or `"1200000.50"` into fen. Negative amounts, floats in
/// exponent form, separators and more than two decimals are refused.
pub fn parse_fen(s: &str) -> Result<i64, &'static str> {
    let s = s.trim();
    if s.is_empty() {
        return Err("money_format");
    }
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if int.is_empty() || !int.bytes().all(|c| c.is_ascii_digit()) {
        return Err("money_format");
    }
    if frac.len() > 2 || !frac.bytes().all(|c| c.is_ascii_digit()) || (s.ends_with('.')) {
        return Err("money_format");
    }
    let int: i64 = int.parse().map_err(|_| "money_too_large")?;
    let mut f: i64 = if frac.is_empty() { 0 } else { frac.parse().map_err(|_| "money_format")? };
    if frac.len() == 1 {
        f *= 10;
    }
    // 10^15 yuan is far beyond any order; it keeps sums of many amounts inside i64.
    if int >= 1_000_000_000_000_000 {
        return Err("money_too_large");
    }
    Ok(int * 100 + f)
}

pub fn format_fen(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let a = fen.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

/// Basis points (1/100 of a percent) shown as a percentage with two decimals: 1250 → "12.50".
pub fn format_bp(bp: i64) -> String {
    format_fen(bp)
}

/// A percentage like "12.5" or "-3.25" into basis points.
pub fn parse_bp(s: &str) -> Result<i64, &'static str> {
    let t = s.trim();
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t),
    };
    let v = parse_fen(body).map_err(|_| "percent_format")?;
    if v > 1_000_000 {
        return Err("percent_range");
    }
    Ok(if neg { -v } else { v })
}

/// Groups thousands for display: 1234567 fen → "12,345.67".
pub fn display_fen(fen: i64) -> String {
    let s = format_fen(fen);
    let (int, frac) = s.split_once('.').unwrap_or((&s, "00"));
    let (sign, digits) = int.strip_prefix('-').map(|d| ("-", d)).unwrap_or(("", int));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}{out}.{frac}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats() {
        assert_eq!(parse_fen("1200000.00"), Ok(120_000_000));
        assert_eq!(parse_fen("1.5"), Ok(150));
        assert_eq!(parse_fen("7"), Ok(700));
        assert_eq!(format_fen(120_000_000), "1200000.00");
        assert_eq!(display_fen(123_456_789), "1,234,567.89");
        assert_eq!(parse_bp("-3.25"), Ok(-325));
    }

    #[test]
    fn refuses_floats_and_junk() {
        for bad in ["", "1e6", "-1", "1.234", "1,000", "abc", "1.", ".5", "99999999999999999999"] {
            assert!(parse_fen(bad).is_err(), "{bad}");
        }
    }
}
