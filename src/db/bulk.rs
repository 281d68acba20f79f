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

/// Rows per batch when they go by `COPY` (each batch is one `COPY` and one `INSERT … SELECT`).
const COPY_ROWS: usize = 10_000;

pub fn v(x: impl Into<Val>) -> Cell {
    Cell::V(x.into())
}

/// A [`Cell::Lit`] read as a value, for loads that send values rather than SQL text (`COPY`,
/// arrays): `NULL`, a quoted text (`''` for a quote), or a number as written.
pub enum Literal<'a> {
    Null,
    Text(String),
    Number(&'a str),
}

pub fn literal(l: &str) -> Literal<'_> {
    if l == "NULL" {
        return Literal::Null;
    }
    match l.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')) {
        Some(t) => Literal::Text(t.replace("''", "'")),
        None => Literal::Number(l),
    }
}

/// The table and columns of an inserter's head, `INSERT INTO table (a, b, …) VALUES ` (fixed
/// text of the calling module).
pub fn insert_head(head: &str) -> Option<(&str, Vec<&str>)> {
    let (table, rest) = head.strip_prefix("INSERT INTO ")?.split_once(" (")?;
    let names = rest.split_once(')')?.0;
    Some((table.trim(), names.split(',').map(str::trim).collect()))
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
    /// SQLite's form with shared values bound once (see `sqlite_select`).
    subquery: bool,
    /// PostgreSQL with a [`crate::db::copy::Stage`] on the transaction: the rows go by `COPY`.
    copy: Option<super::copy::CopyRows>,
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
            subquery: false,
            copy: None,
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
        if self.copy.is_some() {
            COPY_ROWS
        } else {
            self.max_rows
        }
    }

    /// Sends the rows by `COPY` when `tx` has a stage (PostgreSQL; decided before the first
    /// row).
    fn choose(&mut self, tx: &crate::db::WriteTx) {
        if self.total == 0 && self.copy.is_none() && tx.copies() {
            self.copy = Some(super::copy::CopyRows::new(&self.head));
        }
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
    pub async fn row(&mut self, tx: &mut crate::db::WriteTx, cells: Vec<Cell>) -> Result<(), sqlx::Error> {
        self.choose(tx);
        self.push_row(cells);
        if self.rows >= self.max_rows() {
            self.flush(tx).await?;
        }
        Ok(())
    }

    /// SQLite, with shared values: the statement is `INSERT INTO t (…) SELECT ?, column1, … FROM
    /// (VALUES (…), (…))`, so each shared value is bound once per statement instead of once per
    /// row (audit rows share six of their eight). Gives the `SELECT` list for a row's cells.
    fn sqlite_select(&mut self, cells: &[Cell]) -> Option<String> {
        if self.backend != Backend::Sqlite || self.shared.is_empty() {
            return None;
        }
        let head = self.head.trim_end().strip_suffix("VALUES")?;
        let mut text = format!("{head}SELECT ");
        let mut shared = vec![];
        let mut col = 0;
        for (i, c) in cells.iter().enumerate() {
            if i > 0 {
                text.push_str(", ");
            }
            match c {
                Cell::Shared(n) => {
                    text.push('?');
                    shared.push(self.shared[n - 1].clone());
                }
                Cell::V(_) | Cell::Lit(_) => {
                    col += 1;
                    text.push_str(&format!("column{col}"));
                }
            }
        }
        text.push_str(" FROM (VALUES ");
        self.sql = Sql { text, args: shared };
        Some(String::new())
    }

    /// Adds a row without running anything.
    pub fn push_row(&mut self, cells: Vec<Cell>) {
        if let Some(c) = self.copy.as_mut() {
            c.push(cells);
            self.rows += 1;
            self.total += 1;
            return;
        }
        if self.rows == 0 && self.backend == Backend::Sqlite && !self.shared.is_empty() {
            self.subquery = self.sqlite_select(&cells).is_some();
        }
        if self.rows > 0 {
            self.sql.push(", ");
        }
        self.sql.push("(");
        let subquery = self.subquery;
        for (i, c) in cells.into_iter().filter(|c| !(subquery && matches!(c, Cell::Shared(_)))).enumerate() {
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

    pub async fn flush(&mut self, tx: &mut crate::db::WriteTx) -> Result<(), sqlx::Error> {
        self.flush_returning(tx).await.map(|_| ())
    }

    /// Runs the collected rows, giving back what the tail returns.
    pub async fn flush_returning(&mut self, tx: &mut crate::db::WriteTx) -> Result<Vec<AnyRow>, sqlx::Error> {
        if self.rows == 0 {
            return Ok(vec![]);
        }
        if let Some(c) = self.copy.as_mut() {
            self.rows = 0;
            let (stage, conn) = tx.stage_and_conn();
            let stage = stage.ok_or_else(|| sqlx::Error::Protocol("COPY rows without a stage".into()))?;
            return c.land(stage, conn, &self.shared, &self.tail).await;
        }
        let conn = tx.conn();
        let fresh = self.start();
        let mut s = std::mem::replace(&mut self.sql, fresh);
        self.rows = 0;
        if self.subquery {
            s.push(")");
        }
        if !self.tail.is_empty() {
            s.push(" ").push(&self.tail.clone());
        }
        let Sql { text, args } = s;
        let q = super::sql::bind_all(&text, args);
        if self.tail.is_empty() {
            q.execute(conn).await?;
            Ok(vec![])
        } else {
            q.fetch_all(conn).await
        }
    }
}

/// Inserts `n` new rows into `table` and gives back their ids in order. `columns` names every
/// column but `id`; `row(k)` gives row k's cells for them (shared values as [`Cell::Shared`]
/// into `shared`), and `key(k)` row k's value of `key_column` (a text expression over the
/// columns, fixed text of the caller), unique among the n rows.
///
/// SQLite: the ids are given here, following the highest one. The transaction holds the
/// database's one write lock from its first write on; should another process have written
/// since this read, SQLite refuses the insert (a stale snapshot) instead of letting ids
/// collide. Without `RETURNING`, a row per record need not travel back from SQLite's thread
/// (measured: a third of a second for 60,000 accounts). PostgreSQL: `RETURNING id, key`,
/// whose rows come back in no promised order; the key says which is which.
#[allow(clippy::too_many_arguments)]
pub async fn insert_numbered(
    tx: &mut crate::db::WriteTx,
    table: &'static str,
    columns: &[&str],
    shared: Vec<Val>,
    n: usize,
    mut row: impl FnMut(usize) -> Vec<Cell>,
    key_column: &'static str,
    key: impl Fn(usize) -> String,
) -> Result<Vec<i64>, sqlx::Error> {
    use sqlx::Row;
    let backend = tx.backend();
    if n == 0 {
        return Ok(vec![]);
    }
    if backend == Backend::Sqlite {
        let top: i64 = sqlx::query(&format!("SELECT COALESCE(MAX(id), 0) AS n FROM {table}"))
            .fetch_one(tx.conn())
            .await?
            .try_get("n")?;
        let ids: Vec<i64> = (1..=n as i64).map(|k| top + k).collect();
        let mut ins = Inserter::new(
            backend,
            &format!("INSERT INTO {table} (id, {}) VALUES ", columns.join(", ")),
            shared,
            columns.len() + 1,
        );
        for (k, id) in ids.iter().enumerate() {
            let mut cells = vec![v(*id)];
            cells.extend(row(k));
            ins.row(tx, cells).await?;
        }
        ins.flush(tx).await?;
        return Ok(ids);
    }
    let mut ins =
        Inserter::new(backend, &format!("INSERT INTO {table} ({}) VALUES ", columns.join(", ")), shared, columns.len())
            .with_tail(&format!("RETURNING id, {key_column} AS bulk_key"));
    ins.choose(tx);
    let mut by_key: std::collections::HashMap<String, i64> = std::collections::HashMap::with_capacity(n);
    let mut k = 0;
    while k < n {
        let end = (k + ins.max_rows()).min(n);
        for j in k..end {
            ins.push_row(row(j));
        }
        for r in ins.flush_returning(tx).await? {
            by_key.insert(r.try_get("bulk_key")?, r.try_get("id")?);
        }
        k = end;
    }
    (0..n)
        .map(|k| {
            by_key
                .get(&key(k))
                .copied()
                .ok_or_else(|| sqlx::Error::Protocol(format!("a row inserted into {table} came back without its id")))
        })
        .collect()
}

/// Secondary indexes set aside while a large load runs (SQLite) and built again, once, before
/// its transaction commits. Keeping an index current row by row costs a B-tree search per row
/// in an index that grows as it goes; building it afterwards is one sort. A table's indexes are
/// set aside only once the load has added at least [`DeferredIndexes::MIN_ROWS`] rows and at
/// least a quarter of what the table held before, so a small import into a large table keeps
/// them (the rebuild reads the whole table). Unique indexes stay: they enforce a rule. The drop
/// and the rebuild are part of the transaction: a rollback gives the indexes back as they were.
/// On SQLite other connections keep reading through them meanwhile (WAL snapshots); PostgreSQL
/// sets them aside only for a first load ([`DeferredIndexes::worth_it`]): dropping an index
/// there locks the table against readers until the load commits.
pub struct DeferredIndexes {
    tables: Vec<Deferred>,
}

struct Deferred {
    table: &'static str,
    indexes: &'static [&'static str],
    /// Highest rowid before the load: rows added are read off the rowid.
    start: i64,
    /// `CREATE INDEX` statements of the indexes set aside.
    set_aside: Option<Vec<String>>,
}

impl DeferredIndexes {
    pub const MIN_ROWS: i64 = 5_000;

    /// `tables`: each table with the indexes to set aside, fixed names of the calling module
    /// (never input). Most worth it for indexes whose keys arrive in no order (names), but on a
    /// large load even those whose keys arrive in order (a handful of owners, regions, classes)
    /// cost more kept current than built again (the account import: 3.7 → 2.9 s for 60,000).
    pub async fn new(
        tx: &mut crate::db::WriteTx,
        tables: &[(&'static str, &'static [&'static str])],
    ) -> crate::app::Result<DeferredIndexes> {
        let mut out = DeferredIndexes { tables: vec![] };
        for &(table, indexes) in tables {
            let start = Self::size(tx, table).await?;
            out.tables.push(Deferred { table, indexes, start, set_aside: None });
        }
        Ok(out)
    }

    /// SQLite: the highest rowid (rows added are read off it); PostgreSQL: the row count.
    async fn size(tx: &mut crate::db::WriteTx, table: &str) -> crate::app::Result<i64> {
        use sqlx::Row;
        let q = match tx.backend() {
            Backend::Sqlite => format!("SELECT COALESCE(MAX(rowid), 0) AS n FROM {table}"),
            Backend::Postgres => format!("SELECT COUNT(*) AS n FROM {table}"),
        };
        Ok(sqlx::query(&q).fetch_one(tx.conn()).await?.try_get("n")?)
    }

    /// Whether a table that held `start` rows and has `added` more sets its indexes aside.
    /// SQLite: a load of at least a quarter of the table (readers keep their snapshots).
    /// PostgreSQL: a first load only, into a table that held fewer than [`Self::MIN_ROWS`]
    /// rows: dropping an index takes the table's exclusive lock, so readers of that table wait
    /// for the load to commit — acceptable when a company loads its accounts, not for an import
    /// into a table in daily use.
    fn worth_it(backend: Backend, start: i64, added: i64) -> bool {
        added >= Self::MIN_ROWS
            && match backend {
                Backend::Sqlite => added * 4 >= start,
                Backend::Postgres => start < Self::MIN_ROWS,
            }
    }

    /// After each batch: sets aside the indexes of the tables that have grown enough.
    pub async fn check(&mut self, tx: &mut crate::db::WriteTx) -> crate::app::Result<()> {
        use sqlx::Row;
        let backend = tx.backend();
        for t in self.tables.iter_mut().filter(|t| t.set_aside.is_none()) {
            let added = Self::size(tx, t.table).await? - t.start;
            if !Self::worth_it(backend, t.start, added) {
                continue;
            }
            let definition = match backend {
                Backend::Sqlite => {
                    "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = $1 AND tbl_name = $2 \
                     AND sql NOT LIKE 'CREATE UNIQUE%'"
                }
                Backend::Postgres => {
                    "SELECT indexdef AS sql FROM pg_indexes WHERE schemaname = current_schema() AND indexname = $1 \
                     AND tablename = $2 AND indexdef NOT LIKE 'CREATE UNIQUE%'"
                }
            };
            let mut set_aside = vec![];
            for &name in t.indexes {
                let sql: Option<String> = sqlx::query(definition)
                    .bind(name)
                    .bind(t.table)
                    .fetch_optional(tx.conn())
                    .await?
                    .map(|r| r.try_get("sql"))
                    .transpose()?;
                if let Some(sql) = sql {
                    sqlx::query(&format!("DROP INDEX {name}")).execute(tx.conn()).await?;
                    set_aside.push(sql);
                }
            }
            t.set_aside = Some(set_aside);
        }
        Ok(())
    }

    /// Builds the indexes set aside again (before the commit; a rollback needs nothing).
    pub async fn restore(&mut self, tx: &mut crate::db::WriteTx) -> crate::app::Result<()> {
        if tx.backend() == Backend::Postgres && self.active() {
            // Each rebuild sorts the table's keys: in memory rather than in temporary files.
            sqlx::query("SET LOCAL maintenance_work_mem = '256MB'").execute(tx.conn()).await?;
        }
        for t in &mut self.tables {
            let Some(set_aside) = t.set_aside.take() else { continue };
            for sql in set_aside {
                sqlx::query(&sql).execute(tx.conn()).await?;
            }
            tx.analyze(t.table).await?;
        }
        Ok(())
    }

    /// Whether any index is set aside now.
    pub fn active(&self) -> bool {
        self.tables.iter().any(|t| t.set_aside.is_some())
    }
}
