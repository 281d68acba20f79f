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
    /// The disk (or the database server's) is full: nothing was written; it works again once
    /// space is freed, without a restart.
    #[error("storage full: {0}")]
    StorageFull(String),
    /// The database cannot be reached (stopped, restarting, connection lost, no connection
    /// within the pool's wait): nothing was written; retry in a few seconds.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// An infrastructure failure a caller can be told about honestly (docs/ARCHITECTURE.md,
/// "Faults"), as opposed to a defect (`internal`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    StorageFull,
    Unavailable,
}

/// Seconds a client should wait before retrying when the database is unavailable.
pub const RETRY_AFTER_SECS: i64 = 5;

/// What a database error means, when it is a fault rather than a defect: SQLite's
/// `SQLITE_FULL` (13) or an I/O error of a full disk, PostgreSQL's `disk_full` (53100) and
/// `out_of_memory`-class insufficient resources (53xxx); lost or refused connections,
/// PostgreSQL's connection exceptions (08xxx) and shutdowns (57P01–57P03), and no pooled
/// connection within the wait.
pub fn fault_of_sqlx(e: &sqlx::Error) -> Option<Fault> {
    match e {
        sqlx::Error::Database(d) => {
            let code = d.code().map(|c| c.to_string()).unwrap_or_default();
            let msg = d.message().to_ascii_lowercase();
            if code == "13" || code.starts_with("531") || msg.contains("disk is full") || msg.contains("no space left")
            {
                Some(Fault::StorageFull)
            } else if code.starts_with("08") || matches!(code.as_str(), "57P01" | "57P02" | "57P03") {
                Some(Fault::Unavailable)
            } else {
                None
            }
        }
        sqlx::Error::Io(io) => Some(fault_of_io(io).unwrap_or(Fault::Unavailable)),
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed | sqlx::Error::Tls(_) => {
            Some(Fault::Unavailable)
        }
        _ => None,
    }
}

/// A file write's failure as a fault: no space left on the device (or over quota).
pub fn fault_of_io(e: &std::io::Error) -> Option<Fault> {
    // ENOSPC 28, EDQUOT 122 (Linux).
    (e.kind() == std::io::ErrorKind::StorageFull || matches!(e.raw_os_error(), Some(28) | Some(122)))
        .then_some(Fault::StorageFull)
}

impl From<sqlx::Error> for DomainError {
    fn from(e: sqlx::Error) -> Self {
        match fault_of_sqlx(&e) {
            Some(Fault::StorageFull) => DomainError::StorageFull(e.to_string()),
            Some(Fault::Unavailable) => DomainError::Unavailable(e.to_string()),
            None => DomainError::Internal(e.into()),
        }
    }
}

impl DomainError {
    /// The fault behind this error, if it is one: the variants themselves, or a database or
    /// file error somewhere in an internal error's chain (a use case that added context).
    pub fn fault(&self) -> Option<Fault> {
        match self {
            DomainError::StorageFull(_) => Some(Fault::StorageFull),
            DomainError::Unavailable(_) => Some(Fault::Unavailable),
            DomainError::Internal(e) => e.chain().find_map(|c| {
                c.downcast_ref::<sqlx::Error>()
                    .and_then(fault_of_sqlx)
                    .or_else(|| c.downcast_ref::<std::io::Error>().and_then(fault_of_io))
            }),
            _ => None,
        }
    }

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
