//! 统一社会信用代码 (unified social credit code), GB 32100-2015.
use std::fmt;

const CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CreditCode(String);

fn value_of(c: u8) -> Option<u32> {
    CHARSET.iter().position(|&x| x == c).map(|p| p as u32)
}

/// The check character for the first 17 characters, or `None` when one is not in the charset.
pub fn check_char(first17: &[u8]) -> Option<char> {
    let mut sum = 0u32;
    for (i, &c) in first17.iter().enumerate().take(17) {
        sum += value_of(c)? * WEIGHTS[i];
    }
    let v = (31 - sum % 31) % 31;
    Some(CHARSET[v as usize] as char)
}

impl CreditCode {
    /// Parses user input: surrounding spaces are dropped and letters upper-cased; anything else
    /// must be exactly 18 characters of the GB 32100 charset with a matching check character.
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        let s = input.trim().to_ascii_uppercase();
        let b = s.as_bytes();
        if b.len() != 18 || !s.is_ascii() {
            return Err("credit_code_length");
        }
        if b.iter().any(|&c| value_of(c).is_none()) {
            return Err("credit_code_charset");
        }
        match check_char(&b[..17]) {
            Some(c) if c as u8 == b[17] => Ok(CreditCode(s)),
            _ => Err("credit_code_check"),
        }
    }

    /// Builds a valid code from 17 leading characters (used by the demo and dataset generators).
    pub fn complete(first17: &str) -> Option<Self> {
        let c = check_char(first17.as_bytes())?;
        (first17.len() == 17).then(|| CreditCode(format!("{first17}{c}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_published_codes() {
        // The worked example of GB 32100-2015 usage guides.
        assert!(CreditCode::parse("91350100M000100Y43").is_ok());
    }

    #[test]
    fn rejects_wrong_check_char_length_and_charset() {
        assert_eq!(CreditCode::parse("91350100M000100Y44"), Err("credit_code_check"));
        assert_eq!(CreditCode::parse("91350100M000100Y4"), Err("credit_code_length"));
        assert_eq!(CreditCode::parse("91350100M000100YI3"), Err("credit_code_charset"));
    }

    #[test]
    fn completes_and_normalises() {
        let c = CreditCode::complete("91310000MA1FL1234").unwrap();
        assert!(CreditCode::parse(&c.as_str().to_lowercase()).is_ok());
    }
}
