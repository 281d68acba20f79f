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

/// Parses an amount as people type it in a form or a spreadsheet: `1,280,000`, `1,280,000.50`,
/// `128万`, `128.5万`, `1.2亿`, full-width digits (`１２８万`), a `￥`/`¥` prefix, an `元` suffix
/// and spaces anywhere — exactly, from the decimal digits (no float). Thousands separators must
/// group by three; without 万/亿 at most two decimals, with them as many as land on a whole fen.
/// What [`parse_fen`] refuses for other reasons (negative, too large) stays refused.
pub fn parse_amount(s: &str) -> Result<i64, &'static str> {
    let mut t = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            c if c.is_whitespace() => {}
            '０'..='９' => t.push(char::from(b'0' + (c as u32 - '０' as u32) as u8)),
            '．' | '。' => t.push('.'),
            '，' => t.push(','),
            c => t.push(c),
        }
    }
    let t = t.strip_prefix('￥').or_else(|| t.strip_prefix('¥')).unwrap_or(&t);
    let t = t.strip_suffix('元').unwrap_or(t);
    let (t, scale) = if let Some(n) = t.strip_suffix('亿') {
        (n, 8)
    } else if let Some(n) = t.strip_suffix('万') {
        (n, 4)
    } else {
        (t, 0)
    };
    if t.is_empty() {
        return Err("money_format");
    }
    let (int, frac) = match t.split_once('.') {
        Some((i, f)) => (i, f),
        None => (t, ""),
    };
    let int = ungroup(int).ok_or("money_format")?;
    if int.is_empty() || !int.bytes().all(|c| c.is_ascii_digit()) || !frac.bytes().all(|c| c.is_ascii_digit()) {
        return Err("money_format");
    }
    if t.ends_with('.') {
        return Err("money_format");
    }
    // Decimals beyond the fen (two, plus the 万/亿 shift) must be zeros.
    let keep = 2 + scale;
    let (frac_kept, frac_rest) = frac.split_at(frac.len().min(keep));
    if !frac_rest.bytes().all(|c| c == b'0') {
        return Err("money_format");
    }
    let int = int.trim_start_matches('0');
    // 10^15 yuan is the limit of `parse_fen`; checking the digit count first keeps i128 safe.
    if int.len() + scale > 16 {
        return Err("money_too_large");
    }
    let digits = format!("{int}{frac_kept:0<keep$}");
    let fen: i128 = if digits.is_empty() { 0 } else { digits.parse().map_err(|_| "money_format")? };
    if fen >= 100_000_000_000_000_000 {
        return Err("money_too_large");
    }
    Ok(fen as i64)
}

/// Digits with thousands separators (`1,280,000`) as plain digits; `None` if the groups are not
/// of three (`1,28` is refused rather than guessed).
fn ungroup(int: &str) -> Option<String> {
    if !int.contains(',') {
        return Some(int.to_string());
    }
    let mut groups = int.split(',');
    let first = groups.next()?;
    if first.is_empty() || first.len() > 3 {
        return None;
    }
    let mut out = first.to_string();
    for g in groups {
        if g.len() != 3 {
            return None;
        }
        out.push_str(g);
    }
    Some(out)
}

/// An amount as typed ([`parse_amount`]) in the API's decimal form (`"1280000.00"`); what it
/// cannot read comes back unchanged, so the strict check refuses it with its usual error.
pub fn normalize_amount(s: &str) -> String {
    match parse_amount(s) {
        Ok(fen) => format_fen(fen),
        Err(_) => s.to_string(),
    }
}

/// How amounts are shown on pages: in 元 (`1,280,000.00`) or in 万元 (`128.00`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MoneyUnit {
    #[default]
    Yuan,
    Wan,
}

impl MoneyUnit {
    pub fn code(self) -> &'static str {
        match self {
            MoneyUnit::Yuan => "yuan",
            MoneyUnit::Wan => "wan",
        }
    }
    pub fn from_code(s: &str) -> Option<MoneyUnit> {
        match s {
            "yuan" => Some(MoneyUnit::Yuan),
            "wan" => Some(MoneyUnit::Wan),
            _ => None,
        }
    }
    /// The amount in this unit, thousands grouped: 元 with two decimals, 万元 rounded half up to
    /// two decimals (1,234,567.89 元 → "123.46").
    pub fn display(self, fen: i64) -> String {
        match self {
            MoneyUnit::Yuan => display_fen(fen),
            MoneyUnit::Wan => display_fen(div_round(fen, 10_000)),
        }
    }
}

/// `a / b` rounded half away from zero (b > 0).
pub fn div_round(a: i64, b: i64) -> i64 {
    let (q, r) = (a / b, a % b);
    if r.abs() * 2 >= b {
        q + a.signum()
    } else {
        q
    }
}

/// A figure for a board or a chart, as a Chinese report writes it: ¥128万, ¥1.2亿, ¥8,500
/// (one decimal at most, rounded; whole 元 below 1万).
pub fn compact_fen(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let yuan = div_round(fen.abs(), 100);
    let body = if yuan >= 100_000_000 {
        format!("{}亿", one_decimal(div_round(yuan, 10_000_000)))
    } else if yuan >= 10_000 {
        let tenths = div_round(yuan, 1_000);
        if tenths >= 100_000 {
            format!("{}亿", one_decimal(div_round(yuan, 10_000_000)))
        } else {
            format!("{}万", one_decimal(tenths))
        }
    } else {
        let s = display_fen(yuan * 100);
        s.trim_end_matches(".00").to_string()
    };
    format!("{sign}¥{body}")
}

/// Tenths as "12.3", or "12" when the tenth is zero.
fn one_decimal(tenths: i64) -> String {
    if tenths % 10 == 0 {
        format!("{}", tenths / 10)
    } else {
        format!("{}.{}", tenths / 10, tenths % 10)
    }
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

    #[test]
    fn reads_amounts_as_a_chinese_report_writes_them() {
        let ok = [
            ("1,280,000", 128_000_000),
            ("1,280,000.50", 128_000_050),
            ("128万", 128_000_000),
            ("128.5万", 128_500_000),
            ("1.2亿", 12_000_000_000),
            ("１２８万", 128_000_000),
            ("￥1,280,000", 128_000_000),
            ("¥ 128 万", 128_000_000),
            (" ￥１，２８０，０００．５０ ", 128_000_050),
            ("128万元", 128_000_000),
            ("1280000元", 128_000_000),
            ("0.0001万", 100),
            ("1.23456789亿", 12_345_678_900),
            ("1.50", 150),
            ("1.500", 150),
            ("1280000.00", 128_000_000),
        ];
        for (s, fen) in ok {
            assert_eq!(parse_amount(s), Ok(fen), "{s}");
        }
        assert_eq!(normalize_amount("1.2亿"), "120000000.00");
        assert_eq!(normalize_amount("128万"), "1280000.00");
        assert_eq!(normalize_amount("12万8"), "12万8", "what it cannot read stays as typed");
    }

    #[test]
    fn refuses_what_it_cannot_read_exactly() {
        for bad in [
            "",
            "万",
            "¥",
            "1,28",
            "12,3456",
            ",123",
            "1.234",
            "0.0000001万",
            "1e6",
            "-128万",
            "abc",
            "1.",
            "128万万",
            "1.2.3",
            "12万8",
            "$100",
        ] {
            assert_eq!(parse_amount(bad), Err("money_format"), "{bad}");
        }
        assert_eq!(parse_amount("9999999亿"), Ok(99_999_990_000_000_000));
        assert_eq!(parse_amount("100000000亿"), Err("money_too_large"));
        assert_eq!(parse_amount("1000000000000000"), Err("money_too_large"));
    }

    #[test]
    fn shows_units_and_compact_figures() {
        assert_eq!(MoneyUnit::Yuan.display(128_000_050), "1,280,000.50");
        assert_eq!(MoneyUnit::Wan.display(128_000_050), "128.00");
        assert_eq!(MoneyUnit::Wan.display(123_456_789), "123.46");
        assert_eq!(compact_fen(128_000_000), "¥128万");
        assert_eq!(compact_fen(128_500_000), "¥128.5万");
        assert_eq!(compact_fen(12_000_000_000), "¥1.2亿");
        assert_eq!(compact_fen(850_000), "¥8,500");
        assert_eq!(compact_fen(9_999_950_000), "¥1亿");
        assert_eq!(compact_fen(9_999_900_000), "¥9999.9万");
        assert_eq!(compact_fen(0), "¥0");
        assert_eq!(div_round(5, 10), 1);
        assert_eq!(div_round(-5, 10), -1);
        assert_eq!(div_round(4, 10), 0);
    }
}

/// The amount in Chinese capitals (人民币大写) by the rules of 《支付结算办法》 (附一 正确填写票据和
/// 结算凭证的基本规定), without the 「人民币」 prefix: 1,680.32 元 → 「壹仟陆佰捌拾元零叁角贰分」.
/// - 壹 is written before a leading 拾 (15 元 → 「壹拾伍元整」).
/// - A run of zeros between digits is one 零 (1,409.50 → 「壹仟肆佰零玖元伍角」); a run that ends at the
///   万 or 亿 position is absorbed by that unit (107,000.53 → 「壹拾万柒仟元零伍角叁分」, the first of
///   the two forms the rules allow).
/// - 元 is followed by 零 when its digit is 0 and 角 is not, or when 角 is 0 and 分 is not
///   (325.04 → 「叁佰贰拾伍元零肆分」).
/// - 「整」 follows 元 when there are no 角 and 分; nothing follows 角 or 分.
pub fn chinese_capitals(fen: i64) -> String {
    const DIGITS: [char; 10] = ['零', '壹', '贰', '叁', '肆', '伍', '陆', '柒', '捌', '玖'];
    const SMALL: [&str; 4] = ["", "拾", "佰", "仟"];
    const GROUPS: [&str; 4] = ["", "万", "亿", "万亿"];
    let mut out = String::new();
    if fen < 0 {
        out.push('负');
    }
    let a = fen.unsigned_abs();
    let (yuan, jiao, fen) = (a / 100, (a / 10 % 10) as usize, (a % 10) as usize);
    if yuan > 0 {
        // Groups of four digits, highest first.
        let mut groups = vec![];
        let mut y = yuan;
        while y > 0 {
            groups.push(y % 10_000);
            y /= 10_000;
        }
        let mut pending_zero = false;
        let mut started = false;
        for (gi, g) in groups.iter().enumerate().rev() {
            let digits = [g / 1000, g / 100 % 10, g / 10 % 10, g % 10];
            for (pos, d) in digits.iter().enumerate() {
                let d = *d as usize;
                if d == 0 {
                    if started {
                        pending_zero = true;
                    }
                    continue;
                }
                if pending_zero {
                    out.push('零');
                    pending_zero = false;
                }
                out.push(DIGITS[d]);
                out.push_str(SMALL[3 - pos]);
                started = true;
            }
            if *g != 0 {
                out.push_str(GROUPS[gi]);
                // A zero run ending at the group's unit is absorbed by it.
                pending_zero = false;
            }
        }
        out.push('元');
        if jiao == 0 && fen == 0 {
            out.push('整');
            return out;
        }
        if yuan % 10 == 0 || jiao == 0 {
            out.push('零');
        }
    } else if jiao == 0 && fen == 0 {
        out.push_str("零元整");
        return out;
    }
    if jiao != 0 {
        out.push(DIGITS[jiao]);
        out.push('角');
    }
    if fen != 0 {
        out.push(DIGITS[fen]);
        out.push('分');
    }
    out
}

#[cfg(test)]
mod capitals_tests {
    use super::chinese_capitals as c;

    #[test]
    fn the_examples_of_the_payment_settlement_rules() {
        // 《支付结算办法》附一, 第（六）条 examples (first form where two are allowed).
        assert_eq!(c(168_032), "壹仟陆佰捌拾元零叁角贰分");
        assert_eq!(c(10_700_053), "壹拾万柒仟元零伍角叁分");
        assert_eq!(c(140_950), "壹仟肆佰零玖元伍角");
        assert_eq!(c(600_714), "陆仟零柒元壹角肆分");
        assert_eq!(c(32_504), "叁佰贰拾伍元零肆分");
        assert_eq!(c(1_500), "壹拾伍元整");
        assert_eq!(c(0), "零元整");
        assert_eq!(c(50), "伍角");
        assert_eq!(c(7), "柒分");
        assert_eq!(c(100_000_000), "壹佰万元整");
        assert_eq!(c(10_070_000), "壹拾万零柒佰元整");
        assert_eq!(c(10_000_000_100), "壹亿零壹元整");
        assert_eq!(c(10_000_000_000), "壹亿元整");
        assert_eq!(c(128_000_000), "壹佰贰拾捌万元整");
        assert_eq!(c(123_456_789_012), "壹拾贰亿叁仟肆佰伍拾陆万柒仟捌佰玖拾元零壹角贰分");
        assert_eq!(c(100_001), "壹仟元零壹分");
        assert_eq!(c(-1_500), "负壹拾伍元整");
    }
}
