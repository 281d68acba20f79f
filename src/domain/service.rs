//! Serving key accounts (大客户服务方案; seed 003 §二.2, issue 24 items 1–3): the functions of an
//! account's service team, the services a service and support request may ask, the kinds of
//! service events, and the rules of their forms and of the return visit due a week after an
//! event. Pure: the app layer (`app::service`) stores and scopes.
use chrono::NaiveDate;

use super::error::Errors;
use super::role::string_enum;
use super::text;

string_enum!(ServiceFunction {
    KaManager = "ka_manager",
    SalesSupport = "sales_support",
    MarketingSupport = "marketing_support",
    AfterSalesSupport = "after_sales_support",
    FinanceSupport = "finance_support",
    TrainingSupport = "training_support",
});

string_enum!(ServiceKind {
    CustomisedProducts = "customised_products",
    ExpeditedSupply = "expedited_supply",
    PointToPointDelivery = "point_to_point_delivery",
    AfterSalesQuality = "after_sales_quality",
    SpecialPaymentTerms = "special_payment_terms",
    Consulting = "consulting",
    Events = "events",
});

string_enum!(ServiceEventKind {
    TechnicalSeminar = "technical_seminar",
    IndustryExchange = "industry_exchange",
    AppreciationEvent = "appreciation_event",
    LaunchInvitation = "launch_invitation",
    Other = "other",
});

/// A long text of a form (content, needs, opinions): at most this many characters.
pub const TEXT_MAX: usize = 4000;
/// A line (a title, a place, a problem raised): at most this many characters.
pub const LINE_MAX: usize = 200;
/// At most this many members in a team, problems in an evaluation, contacts on an event.
pub const ROWS_MAX: usize = 50;
/// The return visit is due this many days after the event.
pub const RETURN_DAYS: i64 = 7;

/// The class of a service request's approval (`StepSpec::tiers` of `service_request`): special
/// payment terms also need the marketing director.
pub fn request_class(services: &[ServiceKind]) -> &'static str {
    if services.contains(&ServiceKind::SpecialPaymentTerms) {
        "special_terms"
    } else {
        "standard"
    }
}

/// A service request's form, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestForm {
    pub content: String,
    pub deeper_needs: Option<String>,
    pub needs_changes: Option<String>,
    pub organisation: Option<String>,
    pub services: Vec<ServiceKind>,
}

/// Checks a service request's fields: the content of the support required; at least one
/// service, each of the list, none twice. Every fault named at once.
pub fn check_request(
    content: Option<&str>,
    deeper_needs: Option<&str>,
    needs_changes: Option<&str>,
    organisation: Option<&str>,
    services: &[String],
) -> Result<RequestForm, Errors> {
    let mut e = Errors::default();
    let content = e.take("content", text::required(content, TEXT_MAX));
    let deeper_needs = e.take("deeper_needs", text::optional(deeper_needs, TEXT_MAX)).flatten();
    let needs_changes = e.take("needs_changes", text::optional(needs_changes, TEXT_MAX)).flatten();
    let organisation = e.take("organisation", text::optional(organisation, TEXT_MAX)).flatten();
    let mut picked = vec![];
    for s in services {
        match ServiceKind::parse(s) {
            Ok(k) if !picked.contains(&k) => picked.push(k),
            Ok(_) => {}
            Err(c) => e.add("services", c),
        }
    }
    if services.is_empty() {
        e.add("services", "required");
    }
    if !e.0.is_empty() {
        return Err(e);
    }
    picked.sort_by_key(|k| ServiceKind::ALL.iter().position(|x| x == k));
    Ok(RequestForm {
        content: content.unwrap_or_default(),
        deeper_needs,
        needs_changes,
        organisation,
        services: picked,
    })
}

/// A service evaluation form (大客户服务评估表), checked.
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluationForm {
    pub done: String,
    pub reaction: Option<String>,
    pub problems: Vec<String>,
    pub score: i64,
    pub suggestions: Option<String>,
}

/// Checks an evaluation: what was done (required), the customer's reaction, the problems raised
/// (blank lines dropped, each at most a line), the score 1–5, suggestions.
pub fn check_evaluation(
    done: Option<&str>,
    reaction: Option<&str>,
    problems: &[String],
    score: Option<i64>,
    suggestions: Option<&str>,
) -> Result<EvaluationForm, Errors> {
    let mut e = Errors::default();
    let done = e.take("done", text::required(done, TEXT_MAX));
    let reaction = e.take("reaction", text::optional(reaction, TEXT_MAX)).flatten();
    let suggestions = e.take("suggestions", text::optional(suggestions, TEXT_MAX)).flatten();
    let mut lines = vec![];
    for (i, p) in problems.iter().enumerate() {
        if let Some(l) = e.take(&format!("problems[{i}]"), text::optional(Some(p), LINE_MAX)).flatten() {
            lines.push(l);
        }
    }
    if lines.len() > ROWS_MAX {
        e.add("problems", "too_many_rows");
    }
    let score = match score {
        None => {
            e.add("score", "required");
            0
        }
        Some(s) if !(1..=5).contains(&s) => {
            e.add("score", "score_range");
            0
        }
        Some(s) => s,
    };
    if !e.0.is_empty() {
        return Err(e);
    }
    Ok(EvaluationForm { done: done.unwrap_or_default(), reaction, problems: lines, score, suggestions })
}

/// The day the return visit of an event held on `held_on` is due: a week later.
pub fn return_due(held_on: NaiveDate) -> NaiveDate {
    held_on + chrono::Duration::days(RETURN_DAYS)
}

/// The return visit's state: `answered` once a later contact with the account is recorded,
/// else `overdue` past its day, else `due`.
pub fn return_state(due_on: &str, answered: bool, today: &str) -> &'static str {
    if answered {
        "answered"
    } else if today > due_on {
        "overdue"
    } else {
        "due"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_payment_terms_class_the_request_for_the_marketing_director() {
        assert_eq!(request_class(&[ServiceKind::Consulting]), "standard");
        assert_eq!(request_class(&[ServiceKind::Consulting, ServiceKind::SpecialPaymentTerms]), "special_terms");
    }

    #[test]
    fn a_request_names_every_fault_and_keeps_the_services_in_order() {
        let e = check_request(Some(" "), None, None, None, &["free_lunch".into()]).unwrap_err();
        let f: Vec<_> = e.0.iter().map(|f| (f.field.as_str(), f.code)).collect();
        assert_eq!(f, [("content", "required"), ("services", "invalid_choice")]);
        let e = check_request(Some("x"), None, None, None, &[]).unwrap_err();
        assert_eq!(e.0[0].field, "services");
        let ok = check_request(Some("x"), None, None, None, &["events".into(), "consulting".into(), "events".into()])
            .expect("sound");
        assert_eq!(ok.services, [ServiceKind::Consulting, ServiceKind::Events]);
    }

    #[test]
    fn an_evaluation_scores_one_to_five_and_drops_blank_problems() {
        let e = check_evaluation(Some("交流会"), None, &[], Some(6), None).unwrap_err();
        assert_eq!((e.0[0].field.as_str(), e.0[0].code), ("score", "score_range"));
        let ok = check_evaluation(Some("交流会"), None, &["交期".into(), " ".into()], Some(4), None).expect("sound");
        assert_eq!(ok.problems, ["交期"]);
    }

    #[test]
    fn the_return_visit_falls_due_a_week_after_and_is_overdue_after_that() {
        let d = NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
        assert_eq!(return_due(d).to_string(), "2026-12-08");
        assert_eq!(return_state("2026-12-08", false, "2026-12-08"), "due");
        assert_eq!(return_state("2026-12-08", false, "2026-12-09"), "overdue");
        assert_eq!(return_state("2026-12-08", true, "2026-12-09"), "answered");
    }
}
