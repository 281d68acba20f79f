//! One form template for every edit page: fields, values, per-field errors, version; and one
//! answer to every posted form ([`redisplay_or_redirect`]).
use askama::Template;
use axum::http::Uri;
use axum::response::{IntoResponse, Redirect, Response};

use super::{fail_page, render, Layout};
use crate::app::records::once::{self, Once};
use crate::domain::DomainError;
use crate::web::api::{q, query_pairs};
use crate::web::auth::UiCtx;

/// The one-time token of a create form (`_once`), carried in the form page's own address so
/// that Back — which asks the server again, pages not being stored — shows the form with the
/// same token, and a second submit of it creates nothing. Without one: `Err`, a redirect to the
/// same address with a new token.
pub fn once_of(uri: &Uri) -> Result<String, Redirect> {
    let pairs = query_pairs(uri.query().map(str::to_string));
    if let Some(t) = once::token(q(&pairs, "_once")) {
        return Ok(t.to_string());
    }
    let mut kept: Vec<(String, String)> = pairs.into_iter().filter(|(k, _)| k != "_once").collect();
    kept.push(("_once".into(), crate::app::people::auth::random_token("")[..32].to_string()));
    let query = serde_urlencoded::to_string(&kept).unwrap_or_default();
    Err(Redirect::to(&format!("{}?{query}", uri.path())))
}

/// The token a create form posted (`_once`), if any.
pub fn posted_once(fields: &[(String, String)]) -> Option<&str> {
    once::token(fields.iter().find(|(k, _)| k == "_once").map(|(_, v)| v.as_str()))
}

/// Where a create form saved once per token goes: to the record it created with "saved", or,
/// when the same form was posted before, to the record created then with "already submitted".
pub fn once_done<T>(o: Once<T>, done: impl FnOnce(T) -> String) -> String {
    match o {
        Once::Created(v) => with_flash(&done(v), "saved"),
        Once::Already(target) => with_flash(&target, "once"),
    }
}

/// `url` with a message for the next page (`flash=code`, one of [`crate::web::ui::FLASHES`]),
/// before its `#fragment`.
pub fn with_flash(url: &str, code: &str) -> String {
    let (path, frag) = match url.split_once('#') {
        Some((p, f)) => (p, format!("#{f}")),
        None => (url, String::new()),
    };
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}flash={code}{frag}")
}

/// A form page that a refused post shows again.
pub trait Redisplay {
    /// Puts back what the user typed, so nothing entered is lost.
    fn refill(&mut self, typed: &[(String, String)]);
    /// The page with the refusal beside its fields and in the summary, under its status (422
    /// for invalid input, 409 for a stale version or a duplicate, …).
    fn with_error(self, err: &DomainError) -> Response;
}

/// The answer to a posted form, once the use case has answered `res`:
/// - success: a redirect (303) to `done(value)` (which may carry a word for the next page);
/// - a refusal `to_error_page` picks: the error page;
/// - any other: the form again, built by `again` (which loads what it needs; a failed load is
///   the error page), with what was `typed` put back and the refusal shown.
pub async fn redisplay_or_redirect<T, P: Redisplay>(
    ui: &UiCtx,
    res: Result<T, DomainError>,
    done: impl FnOnce(T) -> String,
    to_error_page: impl FnOnce(&DomainError) -> bool,
    typed: Option<&[(String, String)]>,
    again: impl AsyncFnOnce(&DomainError) -> Result<P, DomainError>,
) -> Response {
    let err = match res {
        Ok(v) => return Redirect::to(&done(v)).into_response(),
        Err(e) if to_error_page(&e) => return fail_page(ui, e),
        Err(e) => e,
    };
    match again(&err).await {
        Ok(mut page) => {
            if let Some(typed) = typed {
                page.refill(typed);
            }
            page.with_error(&err)
        }
        Err(e) => fail_page(ui, e),
    }
}

/// Refusals for the error page rather than the form: the record is not there, or not the
/// caller's to change.
pub fn missing_or_forbidden(e: &DomainError) -> bool {
    matches!(e, DomainError::NotFound | DomainError::Forbidden)
}

/// Refusals for the error page rather than the form: not the caller's to do.
pub fn forbidden(e: &DomainError) -> bool {
    matches!(e, DomainError::Forbidden)
}

/// Refusals for the error page rather than the form: all but invalid input.
pub fn unless_invalid(e: &DomainError) -> bool {
    !matches!(e, DomainError::Invalid(_))
}

/// Every refusal is shown on the form.
pub fn never(_: &DomainError) -> bool {
    false
}

/// The fields of a posted form that hold an amount: accounts (buying power, sales, credit
/// limit), opportunities (amount, booked amount), quotas, forecasts (`commit`/`best_case`, also
/// per week as `commit_2026-12-07`) and the RAD thresholds.
fn is_amount(name: &str) -> bool {
    const AMOUNTS: &[&str] = &[
        "buying_power",
        "sales_12m",
        "sales_12m_entered",
        "credit_limit",
        "amount",
        "booked_amount",
        "commit",
        "best_case",
        "bp_1_above",
        "bp_2_from",
    ];
    AMOUNTS.contains(&name) || name.starts_with("commit_") || name.starts_with("best_case_")
}

/// Reads the amounts of a posted form as people type them (`1,280,000`, `128万`, `¥1.2亿`,
/// full-width digits; [`crate::domain::money::parse_amount`]) and puts them in the API's decimal
/// form (`1280000.00`), so the use case checks one format. What cannot be read is left as typed
/// and refused by the use case as before, naming the field.
pub fn read_amounts(fields: &mut [(String, String)]) {
    for (k, v) in fields.iter_mut() {
        if is_amount(k) && !v.trim().is_empty() {
            *v = crate::domain::money::normalize_amount(v);
        }
    }
}

pub struct Field {
    pub name: String,
    pub label: String,
    pub kind: &'static str,
    pub value: String,
    pub options: Vec<(String, String)>,
    pub error: Option<String>,
    pub required: bool,
    pub help: Option<String>,
    /// A select's options grouped (branches under their region): key, label, options.
    pub groups: Vec<OptGroup>,
    /// A person picker (`kind` "user"): which users `static/picker.js` offers (`active`,
    /// `owners`); without script the input's datalist (`options`: label, label) offers them.
    pub pool: &'static str,
    /// A grouped select whose groups follow another select of the form (branch → region): the
    /// other field's name; `static/picker.js` shows only the group of the value chosen there.
    pub follows: Option<&'static str>,
}

/// A group of a select's options (`<optgroup>`): the key a following select matches (the
/// region's code), its label (the region's name) and its options.
pub struct OptGroup {
    pub key: String,
    pub label: String,
    pub options: Vec<(String, String)>,
}

impl Field {
    pub fn new(l: &Layout, name: &str, kind: &'static str, value: Option<String>) -> Field {
        Field {
            name: name.to_string(),
            label: l.e("field", name),
            kind,
            value: value.unwrap_or_default(),
            options: vec![],
            error: None,
            required: false,
            help: None,
            groups: vec![],
            pool: "",
            follows: None,
        }
    }
    /// A person picker: a text input that takes a name, a username or the picker's label
    /// (`林涛 (lin.tao)`), suggesting `people` (username, display name) as labels.
    pub fn user_picker(mut self, pool: &'static str, people: impl IntoIterator<Item = (String, String)>) -> Field {
        self.kind = "user";
        self.pool = pool;
        self.options = people
            .into_iter()
            .map(|(u, n)| {
                let label = crate::app::people::directory::label(&n, &u);
                (label.clone(), label)
            })
            .collect();
        self
    }
    /// A select of options in groups; `follows` names the select whose value picks the group.
    pub fn grouped(mut self, groups: Vec<OptGroup>, follows: Option<&'static str>) -> Field {
        self.kind = "select";
        self.groups = groups;
        self.follows = follows;
        self
    }
    pub fn required(mut self) -> Field {
        self.required = true;
        self
    }
    pub fn help(mut self, h: String) -> Field {
        self.help = Some(h);
        self
    }
    /// A select over enumerated codes, labelled in the user's language.
    pub fn choices(mut self, l: &Layout, kind: &str, codes: &[&str]) -> Field {
        self.kind = "select";
        self.options = codes.iter().map(|c| (c.to_string(), l.e(kind, c))).collect();
        self
    }
    pub fn options(mut self, opts: Vec<(String, String)>) -> Field {
        self.kind = "select";
        self.options = opts;
        self
    }
}

#[derive(Template)]
#[template(path = "form.html")]
pub struct FormPage {
    pub l: Layout,
    pub heading: String,
    pub action: String,
    pub fields: Vec<Field>,
    pub version: Option<i64>,
    pub submit: String,
    pub cancel: String,
    pub errors: Vec<String>,
    /// A link to the record this one would duplicate.
    pub duplicate_of: Option<i64>,
    /// A create form's one-time token ([`once_of`]); none on edit forms.
    pub once: Option<String>,
}

impl FormPage {
    /// Puts back what the user typed, so nothing entered is lost when the form comes back.
    pub fn refill(&mut self, submitted: &[(String, String)]) {
        // A refused create form keeps its token: the corrected post saves once.
        if let Some(t) = posted_once(submitted) {
            self.once = Some(t.to_string());
        }
        for f in &mut self.fields {
            if let Some((_, v)) = submitted.iter().find(|(k, _)| *k == f.name) {
                f.value = v.clone();
            }
        }
    }

    /// Unless the refusal was a stale version (then the form carries the current one, so saving
    /// again is a deliberate overwrite), the form keeps the version that was posted.
    pub fn keep_posted_version(&mut self, err: &DomainError, typed: &[(String, String)]) {
        if !matches!(err, DomainError::StaleVersion { .. }) {
            self.version = typed.iter().find(|(k, _)| k == "version").and_then(|(_, v)| v.parse().ok());
        }
    }

    /// Shows an error: field errors beside their fields and in the summary, others in the summary.
    pub fn with_error(mut self, err: &DomainError) -> Response {
        let lang = self.l.lang;
        let (status, code) = super::status_and_code(err);
        match err {
            DomainError::Invalid(fs) => {
                for fe in fs {
                    let msg = lang.msg("invalid", fe.code);
                    match self.fields.iter_mut().find(|f| f.name == fe.field) {
                        Some(f) => {
                            self.errors.push(format!("{}: {msg}", f.label));
                            f.error = Some(msg);
                        }
                        None => self.errors.push(format!("{}: {msg}", self.l.e("field", &fe.field))),
                    }
                }
            }
            DomainError::Duplicate { field, existing_id } => {
                if *field == "name" {
                    self.duplicate_of = Some(*existing_id);
                    let mut f = Field::new(&self.l, "allow_duplicate_name", "checkbox", Some("1".into()));
                    f.label = self.l.t("form.allow_duplicate");
                    self.fields.push(f);
                }
                let msg = format!("{} (#{existing_id})", lang.msg("err", "duplicate"));
                if let Some(f) = self.fields.iter_mut().find(|f| f.name == *field) {
                    f.error = Some(msg.clone());
                }
                self.errors.push(msg);
            }
            DomainError::StaleVersion { .. } => self.errors.push(lang.msg("err", "stale_version")),
            _ => self.errors.push(lang.msg("err", code)),
        }
        let mut res = render(&self);
        // The form again with what was typed; the status says why (a full disk 507, the
        // database unreachable 503 with when to retry).
        *res.status_mut() = status;
        crate::web::error::add_retry_after(&mut res);
        res
    }
}

impl Redisplay for FormPage {
    fn refill(&mut self, typed: &[(String, String)]) {
        FormPage::refill(self, typed)
    }
    fn with_error(self, err: &DomainError) -> Response {
        FormPage::with_error(self, err)
    }
}
