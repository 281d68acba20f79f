//! Visits and activities (docs/DOMAIN.md#5-visits; seeds 001 and 003): the kinds of contact, the visit
//! record's answers, what makes a visit effective (有效拜访), the targets it is counted against,
//! the follow-up due after a visit, and the user's local day and week the counts use.
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;

use super::role::string_enum;

string_enum!(Kind {
    Visit = "visit",
    Phone = "phone",
    Email = "email",
    Meeting = "meeting",
    ObCall = "ob_call",
    IbCall = "ib_call",
    Other = "other",
});

string_enum!(Status { Planned = "planned", Done = "done" });

string_enum!(Outcome {
    OpportunityFound = "opportunity_found",
    OpportunityAdvanced = "opportunity_advanced",
    ProblemSolved = "problem_solved",
    None = "none",
});

string_enum!(CustomerAttitude { Warm = "warm", Normal = "normal", Cold = "cold" });

impl Kind {
    /// Face to face with the customer: on site (上门) or in a meeting.
    pub fn face_to_face(self) -> bool {
        matches!(self, Kind::Visit | Kind::Meeting)
    }
    /// A call, counted against inside sales' daily call target.
    pub fn is_call(self) -> bool {
        matches!(self, Kind::Phone | Kind::ObCall | Kind::IbCall)
    }
}

/// Whether a done face-to-face visit to an account of this status asks for a follow-up contact
/// within the follow-up days (seed 003 §二.1 六.6: within a week after visiting a target
/// account): key accounts, and the target accounts under development, prospects and candidates.
pub fn asks_follow_up(account_status: &str) -> bool {
    matches!(account_status, "key_account" | "prospect" | "candidate")
}

/// What the effective-visit rule looks at in a record.
#[derive(Debug, Clone, Copy)]
pub struct Facts {
    pub kind: Kind,
    pub status: Status,
    pub outcome: Outcome,
    /// The record links the opportunity it found or advanced.
    pub has_opportunity: bool,
    /// The record says which problem it solved.
    pub names_problem: bool,
}

/// An effective visit (有效拜访, 001): done, face to face with the customer, and it found or
/// advanced an opportunity (linked) or solved a problem (named). Anything else is a contact,
/// not an effective visit.
pub fn is_effective(f: Facts) -> bool {
    f.status == Status::Done
        && f.kind.face_to_face()
        && match f.outcome {
            Outcome::OpportunityFound | Outcome::OpportunityAdvanced => f.has_opportunity,
            Outcome::ProblemSolved => f.names_problem,
            Outcome::None => false,
        }
}

/// Why a claimed outcome is not backed by the record (the field to name), if it is not.
pub fn outcome_gap(f: Facts) -> Option<(&'static str, &'static str)> {
    match f.outcome {
        Outcome::OpportunityFound | Outcome::OpportunityAdvanced if !f.has_opportunity => {
            Some(("opportunity_id", "outcome_needs_opportunity"))
        }
        Outcome::ProblemSolved if !f.names_problem => Some(("problems", "outcome_needs_problem")),
        _ => None,
    }
}

/// Why a record is not an effective visit, as codes (`not_done`, `not_face_to_face`,
/// `no_opportunity`, `no_problem`, `no_outcome`); empty when it is one.
pub fn why_not_effective(f: Facts) -> Vec<&'static str> {
    if is_effective(f) {
        return vec![];
    }
    let mut out = vec![];
    if f.status != Status::Done {
        out.push("not_done");
    }
    if !f.kind.face_to_face() {
        out.push("not_face_to_face");
    }
    match outcome_gap(f) {
        Some(("opportunity_id", _)) => out.push("no_opportunity"),
        Some(_) => out.push("no_problem"),
        None if f.outcome == Outcome::None => out.push("no_outcome"),
        None => {}
    }
    out
}

/// Targets for a salesperson, by sales type: outside sales (AE) count effective visits, inside
/// sales (SR) count calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Targets {
    pub weekly_effective: i64,
    pub daily_effective: i64,
    pub daily_calls: i64,
    /// Days after a visit to a key account by which a follow-up contact is due.
    pub follow_up_days: i64,
}

impl Default for Targets {
    /// 001: 12 effective visits a week and at least 3 a day; 003 §六.6: follow up within 7
    /// days. The call target is the company's to set; 40 a day until it does.
    fn default() -> Self {
        Targets { weekly_effective: 12, daily_effective: 3, daily_calls: 40, follow_up_days: 7 }
    }
}

/// The default time zone of users who have not chosen one.
pub const DEFAULT_TZ: &str = "Asia/Shanghai";

pub fn parse_tz(s: &str) -> Result<Tz, &'static str> {
    s.trim().parse::<Tz>().map_err(|_| "unknown_time_zone")
}

/// The user's local calendar day of an instant.
pub fn local_day(at: DateTime<Utc>, tz: Tz) -> NaiveDate {
    at.with_timezone(&tz).date_naive()
}

/// The Monday of the week a day lies in (weeks start on Monday).
pub fn monday(d: NaiveDate) -> NaiveDate {
    d - chrono::Duration::days(d.weekday().num_days_from_monday() as i64)
}

/// The UTC instants a local day starts and ends at (`[start, end)`), for range queries.
pub fn day_bounds(d: NaiveDate, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = |d: NaiveDate| {
        let naive = d.and_hms_opt(0, 0, 0).unwrap_or_default();
        // A day starting in a gap (a DST change at midnight) starts at the first valid instant.
        naive
            .and_local_timezone(tz)
            .earliest()
            .or_else(|| (naive + chrono::Duration::hours(1)).and_local_timezone(tz).earliest())
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| naive.and_utc())
    };
    (start(d), start(d + chrono::Duration::days(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(kind: Kind, outcome: Outcome, opp: bool, problem: bool) -> Facts {
        Facts { kind, status: Status::Done, outcome, has_opportunity: opp, names_problem: problem }
    }

    #[test]
    fn only_a_face_to_face_visit_that_found_advanced_or_solved_something_is_effective() {
        assert!(is_effective(facts(Kind::Visit, Outcome::OpportunityFound, true, false)));
        assert!(is_effective(facts(Kind::Meeting, Outcome::OpportunityAdvanced, true, false)));
        assert!(is_effective(facts(Kind::Visit, Outcome::ProblemSolved, false, true)));
        // Not face to face.
        assert!(!is_effective(facts(Kind::Phone, Outcome::OpportunityFound, true, false)));
        assert!(!is_effective(facts(Kind::ObCall, Outcome::ProblemSolved, false, true)));
        // Nothing came of it, or the record does not back the claim.
        assert!(!is_effective(facts(Kind::Visit, Outcome::None, true, true)));
        assert!(!is_effective(facts(Kind::Visit, Outcome::OpportunityFound, false, true)));
        assert!(!is_effective(facts(Kind::Visit, Outcome::ProblemSolved, true, false)));
        // Planned, not yet done.
        let mut f = facts(Kind::Visit, Outcome::OpportunityFound, true, false);
        f.status = Status::Planned;
        assert!(!is_effective(f));
        assert_eq!(
            outcome_gap(facts(Kind::Visit, Outcome::OpportunityFound, false, false)).map(|g| g.0),
            Some("opportunity_id")
        );
        assert_eq!(
            outcome_gap(facts(Kind::Visit, Outcome::ProblemSolved, false, false)).map(|g| g.0),
            Some("problems")
        );
        assert_eq!(outcome_gap(facts(Kind::Visit, Outcome::None, false, false)), None);
        assert!(why_not_effective(facts(Kind::Visit, Outcome::OpportunityFound, true, false)).is_empty());
        assert_eq!(
            why_not_effective(facts(Kind::Phone, Outcome::None, false, false)),
            ["not_face_to_face", "no_outcome"]
        );
        assert_eq!(why_not_effective(facts(Kind::Visit, Outcome::ProblemSolved, false, false)), ["no_problem"]);
    }

    #[test]
    fn the_local_day_and_week_follow_the_users_time_zone() {
        let sh = parse_tz("Asia/Shanghai").unwrap();
        let ny = parse_tz("America/New_York").unwrap();
        // Sunday 2026-11-22 17:30 UTC is Monday 01:30 in Shanghai: a new week there.
        let at = "2026-11-22T17:30:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(local_day(at, sh).to_string(), "2026-11-23");
        assert_eq!(monday(local_day(at, sh)).to_string(), "2026-11-23");
        assert_eq!(local_day(at, ny).to_string(), "2026-11-22");
        assert_eq!(monday(local_day(at, ny)).to_string(), "2026-11-16");
        let (s, e) = day_bounds(NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(), sh);
        assert_eq!(s.to_rfc3339(), "2026-11-22T16:00:00+00:00");
        assert_eq!(e.to_rfc3339(), "2026-11-23T16:00:00+00:00");
        // A day with a DST change is 23 hours long.
        let (s, e) = day_bounds(NaiveDate::from_ymd_opt(2026, 3, 8).unwrap(), ny);
        assert_eq!((e - s).num_hours(), 23);
        assert!(parse_tz("Mars/Olympus").is_err());
    }
}
