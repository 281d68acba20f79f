use serde::Serialize;

/// One invalid input field: `field` is the API field name, `code` a stable snake_case reason
/// that the presenters translate into the caller's language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &'static str) -> Self {
        Self { field: field.into(), code }
    }
}

/// Errors every use case can answer with. The web layer maps each to one HTTP status and the
/// `{"error": {"code", "message", "details"}}` body.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    #[error("not signed in")]
    Unauthenticated,
    #[error("not allowed")]
    Forbidden,
    #[error("CSRF token missing or wrong")]
    Csrf,
    #[error("not found")]
    NotFound,
    #[error("stale version")]
    StaleVersion { current: i64 },
    #[error("duplicate")]
    Duplicate { field: &'static str, existing_id: i64 },
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("request body too large")]
    PayloadTooLarge,
    /// A body sent as something other than the type the operation reads (JSON without
    /// `Content-Type: application/json`).
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: i64 },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for DomainError {
    fn from(e: sqlx::Error) -> Self {
        DomainError::Internal(e.into())
    }
}

impl DomainError {
    pub fn invalid(field: impl Into<String>, code: &'static str) -> Self {
        DomainError::Invalid(vec![FieldError::new(field, code)])
    }
}

/// Collects field errors while parsing one input, so a form shows every problem at once.
#[derive(Default, Debug)]
pub struct Errors(pub Vec<FieldError>);

impl Errors {
    pub fn add(&mut self, field: &str, code: &'static str) {
        self.0.push(FieldError::new(field, code));
    }
    /// Keeps the parsed value, or records the field error and gives `None`.
    pub fn take<T>(&mut self, field: &str, r: Result<T, &'static str>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(code) => {
                self.add(field, code);
                None
            }
        }
    }
    pub fn finish(self) -> Result<(), DomainError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(DomainError::Invalid(self.0))
        }
    }
}
