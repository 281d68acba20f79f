//! Multi-row `INSERT … VALUES (…), (…)` statements of bounded size, for bulk loads (the
//! benchmark dataset) and imports: one statement per few hundred rows instead of one per row.
//!
//! Placeholders: PostgreSQL gets `$1, $2, …`, with the shared values bound once as the first
//! ones. SQLite gets anonymous `?` and every value bound in place: SQLite looks a named
//! parameter (`$n`) up by a linear scan of the statement's parameter list, and sqlx asks for
//! every parameter's name when binding, so a statement with thousands of `$n` costs time
//! quadratic in their number (measured: ~0.2 s per 12,000-value statement, 70 s for l3-60k).
use sqlx::any::AnyRow;

use super::sql::{Sql, Val};
use crate::db::Backend;

pub enum Cell {
    /// A value, bound as a placeholder.
    V(Val),
    /// A value every row shares (1-based index into the inserter's `shared`).
    Shared(usize),
    /// Fixed SQL text of the calling module (never input).
    Lit(&'static str),
}

pub fn v(x: impl Into<Val>) -> Cell {
    Cell::V(x.into())
}

/// Collects rows and runs a statement each time `max_rows` are collected (SQLite allows 32,766
/// bound values per statement, PostgreSQL 65,535; statements stay near 12,000).
pub struct Inserter {
    head: String,
    tail: String,
    backend: Backend,
    shared: Vec<Val>,
    sql: Sql,
    rows: usize,
    max_rows: usize,
    pub total: usize,
}

impl Inserter {
    pub fn new(backend: Backend, head: &str, shared: Vec<Val>, bound_per_row: usize) -> Inserter {
        let max_rows = (12_000 / bound_per_row.max(1)).clamp(1, 1_000);
        let mut i = Inserter {
            head: head.to_string(),
            tail: String::new(),
            backend,
            shared,
            sql: Sql::default(),
            rows: 0,
            max_rows,
            total: 0,
        };
        i.sql = i.start();
        i
    }

    /// Text after the rows, such as `RETURNING id` (whose rows [`Inserter::flush_returning`]
    /// gives back; with a tail, call that before the batch is full, see [`Inserter::max_rows`]).
    pub fn with_tail(mut self, tail: &str) -> Inserter {
        self.tail = tail.to_string();
        self
    }

    /// How many rows one statement takes.
    pub fn max_rows(&self) -> usize {
        self.max_rows
    }

    fn start(&self) -> Sql {
        let mut s = Sql::new(&self.head);
        if self.backend == Backend::Postgres {
            s.args.extend(self.shared.iter().cloned());
        }
        s
    }

    fn bind(&mut self, v: Val) {
        match self.backend {
            Backend::Postgres => {
                self.sql.bind(v);
            }
            Backend::Sqlite => {
                self.sql.args.push(v);
                self.sql.text.push('?');
            }
        }
    }

    /// Adds a row; runs the statement when it is full (its returned rows, if any, are dropped).
    pub async fn row(&mut self, conn: &mut sqlx::AnyConnection, cells: Vec<Cell>) -> Result<(), sqlx::Error> {
        self.push_row(cells);
        if self.rows >= self.max_rows {
            self.flush(conn).await?;
        }
        Ok(())
    }

    /// Adds a row without running anything.
    pub fn push_row(&mut self, cells: Vec<Cell>) {
        if self.rows > 0 {
            self.sql.push(", ");
        }
        self.sql.push("(");
        for (i, c) in cells.into_iter().enumerate() {
            if i > 0 {
                self.sql.push(", ");
            }
            match c {
                Cell::V(v) => self.bind(v),
                Cell::Shared(n) => match self.backend {
                    Backend::Postgres => {
                        self.sql.text.push_str(&format!("${n}"));
                    }
                    Backend::Sqlite => self.bind(self.shared[n - 1].clone()),
                },
                Cell::Lit(l) => {
                    self.sql.push(l);
                }
            };
        }
        self.sql.push(")");
        self.rows += 1;
        self.total += 1;
    }

    pub async fn flush(&mut self, conn: &mut sqlx::AnyConnection) -> Result<(), sqlx::Error> {
        self.flush_returning(conn).await.map(|_| ())
    }

    /// Runs the collected rows, giving back what the tail returns.
    pub async fn flush_returning(&mut self, conn: &mut sqlx::AnyConnection) -> Result<Vec<AnyRow>, sqlx::Error> {
        if self.rows == 0 {
            return Ok(vec![]);
        }
        let fresh = self.start();
        let mut s = std::mem::replace(&mut self.sql, fresh);
        self.rows = 0;
        if self.tail.is_empty() {
            s.query().execute(conn).await?;
            Ok(vec![])
        } else {
            s.push(" ").push(&self.tail.clone());
            s.query().fetch_all(conn).await
        }
    }
}
