//! One form template for every edit page: fields, values, per-field errors, version.
use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;

use super::{render, Layout};
use crate::domain::DomainError;

pub struct Field {
    pub name: String,
    pub label: String,
    pub kind: &'static str,
    pub value: String,
    pub options: Vec<(String, String)>,
    pub error: Option<String>,
    pub required: bool,
    pub help: Option<String>,
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
        }
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
}

impl FormPage {
    /// Puts back what the user typed, so nothing entered is lost when the form comes back.
    pub fn refill(&mut self, submitted: &[(String, String)]) {
        for f in &mut self.fields {
            if let Some((_, v)) = submitted.iter().find(|(k, _)| *k == f.name) {
                f.value = v.clone();
            }
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
        *res.status_mut() = if status.is_server_error() { StatusCode::INTERNAL_SERVER_ERROR } else { status };
        res
    }
}
