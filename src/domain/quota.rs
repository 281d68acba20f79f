//! Quotas (销售指标) and the V value (V值, 001): periods, remaining quota, and whether the
//! pipeline can cover it (docs/DOMAIN.md#4-quotas-v-value-and-forecasts).
use chrono::{Datelike, NaiveDate};

/// A month, a quarter or a year: `2026-11`, `2026-Q4`, `2026`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub code: String,
    /// First day.
    pub start: NaiveDate,
    /// The day after the last.
    pub end: NaiveDate,
}

fn month_start(y: i32, m: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, 1)
}

fn next_month(d: NaiveDate) -> Option<NaiveDate> {
    if d.month() == 12 {
        month_start(d.year() + 1, 1)
    } else {
        month_start(d.year(), d.month() + 1)
    }
}

impl Period {
    pub fn parse(s: &str) -> Result<Period, &'static str> {
        let s = s.trim();
        let bad = "period_format";
        let year = |y: &str| -> Result<i32, &'static str> {
            let y: i32 = y.parse().map_err(|_| bad)?;
            if (2000..=2100).contains(&y) {
                Ok(y)
            } else {
                Err(bad)
            }
        };
        let (start, end) = if let Some((y, q)) = s.split_once("-Q").or_else(|| s.split_once("-q")) {
            let y = year(y)?;
            let q: u32 = q.parse().map_err(|_| bad)?;
            if !(1..=4).contains(&q) {
                return Err(bad);
            }
            let start = month_start(y, (q - 1) * 3 + 1).ok_or(bad)?;
            let end = if q == 4 { month_start(y + 1, 1) } else { month_start(y, q * 3 + 1) }.ok_or(bad)?;
            (start, end)
        } else if let Some((y, m)) = s.split_once('-') {
            if m.len() != 2 {
                return Err(bad);
            }
            let m: u32 = m.parse().map_err(|_| bad)?;
            let start = month_start(year(y)?, m).ok_or(bad)?;
            (start, next_month(start).ok_or(bad)?)
        } else {
            let y = year(s)?;
            (month_start(y, 1).ok_or(bad)?, month_start(y + 1, 1).ok_or(bad)?)
        };
        let code = if s.contains('Q') || s.contains('q') { s.to_uppercase() } else { s.to_string() };
        Ok(Period { code, start, end })
    }

    /// The month of `d`.
    pub fn month_of(d: NaiveDate) -> Period {
        let start = month_start(d.year(), d.month()).unwrap_or(d);
        let end = next_month(start).unwrap_or(d);
        Period { code: start.format("%Y-%m").to_string(), start, end }
    }

    /// The months it covers, as `YYYY-MM`.
    pub fn months(&self) -> Vec<String> {
        let mut out = vec![];
        let mut d = self.start;
        while d < self.end {
            out.push(d.format("%Y-%m").to_string());
            match next_month(d) {
                Some(n) => d = n,
                None => break,
            }
        }
        out
    }
}

/// Whether the quota is covered, and how well the open pipeline covers what remains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VValue {
    /// No quota set for the period.
    NoQuota,
    /// Booked ≥ quota: nothing remains to cover.
    QuotaMet,
    /// Open pipeline expected in the rest of the period ÷ remaining quota, in basis points
    /// (10,000 = 1.00).
    Ratio(i64),
}

/// V value = open pipeline expected in the rest of the period ÷ (quota − booked).
pub fn v_value(quota: Option<i64>, booked: i64, pipeline_rest: i64) -> VValue {
    match quota {
        None | Some(0) => VValue::NoQuota,
        Some(q) if booked >= q => VValue::QuotaMet,
        Some(q) => VValue::Ratio(round_div(pipeline_rest as i128 * 10_000, (q - booked) as i128) as i64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn periods_parse_to_their_days() {
        let m = Period::parse("2026-11").expect("month");
        assert_eq!((m.start, m.end), (d("2026-11-01"), d("2026-12-01")));
        let q = Period::parse("2026-Q4").expect("quarter");
        assert_eq!((q.start, q.end), (d("2026-10-01"), d("2027-01-01")));
        assert_eq!(q.months(), vec!["2026-10", "2026-11", "2026-12"]);
        let y = Period::parse("2027").expect("year");
        assert_eq!(y.months().len(), 12);
        for bad in ["2026-13", "2026-Q5", "26", "2026-1", "", "2026-11-01", "abc"] {
            assert_eq!(Period::parse(bad), Err("period_format"), "{bad}");
        }
        assert_eq!(Period::month_of(d("2026-12-31")).code, "2026-12");
    }

    #[test]
    fn v_value_divides_what_remains_and_says_when_the_quota_is_met() {
        // Quota 1,000,000, booked 400,000: 600,000 remain; a pipeline of 900,000 covers 1.5×.
        assert_eq!(v_value(Some(100_000_000), 40_000_000, 90_000_000), VValue::Ratio(15_000));
        assert_eq!(v_value(Some(100_000_000), 100_000_000, 5), VValue::QuotaMet);
        assert_eq!(v_value(Some(100_000_000), 120_000_000, 0), VValue::QuotaMet);
        assert_eq!(v_value(None, 10, 10), VValue::NoQuota);
        assert_eq!(v_value(Some(100), 0, 0), VValue::Ratio(0));
    }
}

/// The Monday of the week `d` falls in (forecast weeks run Monday to Sunday).
pub fn week_start(d: NaiveDate) -> NaiveDate {
    d - chrono::Duration::days(d.weekday().num_days_from_monday() as i64)
}

/// The four weeks a forecast made in the week of `d` covers: that week and the three after.
pub fn forecast_weeks(d: NaiveDate) -> [NaiveDate; 4] {
    let w = week_start(d);
    [w, w + chrono::Duration::days(7), w + chrono::Duration::days(14), w + chrono::Duration::days(21)]
}

/// Forecast accuracy in whole percent (booked ÷ committed, rounded half up), None when nothing
/// was committed.
pub fn accuracy_pct(committed: i64, booked: i64) -> Option<i64> {
    (committed > 0).then(|| round_div(booked as i128 * 100, committed as i128) as i64)
}

/// `a ÷ b` rounded half away from zero (b > 0): percentages are rounded, never truncated.
pub fn round_div(a: i128, b: i128) -> i128 {
    let (q, r) = (a / b, a % b);
    if r.abs() * 2 >= b {
        q + a.signum()
    } else {
        q
    }
}

#[cfg(test)]
mod week_tests {
    use super::*;

    #[test]
    fn weeks_start_on_monday_and_a_forecast_covers_four() {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date");
        assert_eq!(week_start(d("2026-11-22")), d("2026-11-16"), "a Sunday belongs to the week before");
        assert_eq!(week_start(d("2026-11-23")), d("2026-11-23"));
        assert_eq!(forecast_weeks(d("2026-12-30"))[3], d("2027-01-18"));
        assert_eq!(accuracy_pct(200, 150), Some(75));
        assert_eq!(accuracy_pct(0, 150), None);
        assert_eq!(accuracy_pct(3, 2), Some(67), "66.67% rounds up");
        assert_eq!(accuracy_pct(3, 1), Some(33));
        assert_eq!(v_value(Some(300), 0, 200), VValue::Ratio(6_667));
    }
}
