//! A small SQL builder that numbers placeholders `$1, $2, …` (accepted by both backends), for
//! queries whose shape depends on filters and scope. Values are always bound, never spliced.
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::Any;

#[derive(Debug, Clone)]
pub enum Val {
    Int(Option<i64>),
    Text(Option<String>),
}

impl From<i64> for Val {
    fn from(v: i64) -> Self {
        Val::Int(Some(v))
    }
}
impl From<Option<i64>> for Val {
    fn from(v: Option<i64>) -> Self {
        Val::Int(v)
    }
}
impl From<&str> for Val {
    fn from(v: &str) -> Self {
        Val::Text(Some(v.to_string()))
    }
}
impl From<String> for Val {
    fn from(v: String) -> Self {
        Val::Text(Some(v))
    }
}
impl From<Option<String>> for Val {
    fn from(v: Option<String>) -> Self {
        Val::Text(v)
    }
}
impl From<Option<&str>> for Val {
    fn from(v: Option<&str>) -> Self {
        Val::Text(v.map(str::to_string))
    }
}

#[derive(Debug, Default, Clone)]
pub struct Sql {
    pub text: String,
    pub args: Vec<Val>,
}

impl Sql {
    pub fn new(text: &str) -> Sql {
        Sql { text: text.to_string(), args: vec![] }
    }
    pub fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }
    /// Appends a placeholder bound to `v`.
    pub fn bind(&mut self, v: impl Into<Val>) -> &mut Self {
        self.args.push(v.into());
        self.text.push_str(&format!("${}", self.args.len()));
        self
    }
    /// Appends `$n, $m, …` for each value (an empty list becomes `NULL`, which matches nothing).
    pub fn bind_list(&mut self, vs: &[i64]) -> &mut Self {
        if vs.is_empty() {
            self.text.push_str("NULL");
        }
        for (i, v) in vs.iter().enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.bind(*v);
        }
        self
    }
    /// Appends `$n, $m, …` for each text value (an empty list becomes `NULL`).
    pub fn bind_texts(&mut self, vs: &[String]) -> &mut Self {
        if vs.is_empty() {
            self.text.push_str("NULL");
        }
        for (i, v) in vs.iter().enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.bind(v.clone());
        }
        self
    }
    pub fn query(&self) -> Query<'_, Any, AnyArguments<'_>> {
        bind_all(&self.text, self.args.clone())
    }
}

/// A query of `text` with `args` bound in order, moved in (bulk statements bind tens of
/// thousands of values; [`Sql::query`] copies them).
pub fn bind_all(text: &str, args: Vec<Val>) -> Query<'_, Any, AnyArguments<'_>> {
    let mut q = sqlx::query(text);
    for a in args {
        q = match a {
            Val::Int(v) => q.bind(v),
            Val::Text(v) => q.bind(v),
        };
    }
    q
}

/// Reads a column that may be NULL, mapping decode errors to internal errors.
pub fn col<'r, T>(row: &'r AnyRow, name: &str) -> Result<T, sqlx::Error>
where
    T: sqlx::Decode<'r, Any> + sqlx::Type<Any>,
{
    use sqlx::Row;
    row.try_get(name)
}
