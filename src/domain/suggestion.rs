//! Customer suggestions (大客户建议处理流程; seed 003 §一.3, docs/DOMAIN.md M10): the rules of
//! recording one and of its report, reply and the customer's feedback. No I/O.
use chrono::NaiveDate;

use super::error::Errors;
use super::text;
use super::DomainError;

/// How the suggestion reached us.
pub const CHANNELS: &[&str] = &["in_person", "phone", "web", "email"];
/// What it is about.
pub const CATEGORIES: &[&str] = &["product", "service", "delivery", "quality", "price", "other"];
/// Where a suggestion stands.
pub const STATES: &[&str] = &["received", "in_review", "returned", "approved", "rejected", "done", "replied"];

fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

/// A suggestion as recorded, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    pub channel: String,
    pub category: String,
    pub received_on: String,
    pub content: String,
    pub thanks: Option<String>,
    pub reply_due: String,
}

/// Checks a suggestion being recorded on `today`: a known channel and category, the content,
/// the day it was received (not in the future) and the promised reply date (not before it was
/// received). Each problem names its field.
#[allow(clippy::too_many_arguments)]
pub fn receive(
    channel: Option<&str>,
    category: Option<&str>,
    received_on: Option<&str>,
    content: Option<&str>,
    thanks: Option<&str>,
    reply_due: Option<&str>,
    today: NaiveDate,
) -> Result<Received, DomainError> {
    let mut e = Errors::default();
    let pick = |e: &mut Errors, field: &str, v: Option<&str>, from: &[&str]| -> String {
        match v.map(str::trim).filter(|v| !v.is_empty()) {
            None => {
                e.add(field, "required");
                String::new()
            }
            Some(v) if !from.contains(&v) => {
                e.add(field, "invalid_choice");
                String::new()
            }
            Some(v) => v.to_string(),
        }
    };
    let channel = pick(&mut e, "channel", channel, CHANNELS);
    let category = pick(&mut e, "category", category, CATEGORIES);
    let content = e.take("content", text::required(content, 4000)).unwrap_or_default();
    let thanks = e.take("thanks", text::optional(thanks, 2000)).flatten();
    let received = match received_on.map(str::trim).filter(|s| !s.is_empty()) {
        None => Some(today),
        Some(s) => match date(s) {
            None => {
                e.add("received_on", "date_format");
                None
            }
            Some(d) if d > today => {
                e.add("received_on", "date_in_future");
                None
            }
            Some(d) => Some(d),
        },
    };
    let due = match reply_due.map(str::trim).filter(|s| !s.is_empty()) {
        None => {
            e.add("reply_due", "required");
            None
        }
        Some(s) => match date(s) {
            None => {
                e.add("reply_due", "date_format");
                None
            }
            Some(d) => {
                if received.is_some_and(|r| d < r) {
                    e.add("reply_due", "before_received");
                }
                Some(d)
            }
        },
    };
    e.finish()?;
    Ok(Received {
        channel,
        category,
        received_on: received.unwrap_or(today).to_string(),
        content,
        thanks,
        reply_due: due.unwrap_or(today).to_string(),
    })
}

/// The customer's feedback score (建议反馈表): 1 (not satisfied) to 5 (very satisfied).
pub fn feedback_score(s: Option<&str>) -> Result<Option<i64>, &'static str> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => match s.parse::<i64>() {
            Ok(n) if (1..=5).contains(&n) => Ok(Some(n)),
            Ok(_) => Err("score_range"),
            Err(_) => Err("expected_integer"),
        },
    }
}

/// Whether the reply is late on `today`: promised by `reply_due`, not given.
pub fn reply_overdue(state: &str, reply_due: &str, today: NaiveDate) -> bool {
    state != "replied" && date(reply_due).is_some_and(|d| today > d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_reply_date_before_the_suggestion_was_received_is_refused_by_field() {
        let today = d("2026-12-04");
        let ok = receive(
            Some("phone"),
            Some("delivery"),
            Some("2026-12-01"),
            Some("交货期太长"),
            None,
            Some("2026-12-20"),
            today,
        )
        .expect("a good suggestion");
        assert_eq!((ok.received_on.as_str(), ok.reply_due.as_str()), ("2026-12-01", "2026-12-20"));
        let bad =
            receive(Some("fax"), Some("delivery"), Some("2026-12-03"), Some(" "), None, Some("2026-12-02"), today);
        let DomainError::Invalid(fs) = bad.expect_err("refused") else { panic!("422") };
        let fields: Vec<(&str, &str)> = fs.iter().map(|f| (f.field.as_str(), f.code)).collect();
        assert_eq!(fields, [("channel", "invalid_choice"), ("content", "required"), ("reply_due", "before_received")]);
        assert!(reply_overdue("approved", "2026-12-03", today));
        assert!(!reply_overdue("replied", "2026-12-03", today));
        assert!(!reply_overdue("approved", "2026-12-04", today));
        assert_eq!(feedback_score(Some("6")), Err("score_range"));
    }
}
