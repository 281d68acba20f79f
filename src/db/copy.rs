//! Bulk loads through `COPY` on PostgreSQL (issue 26, item 6): the account and contact imports
//! and `kam dataset`.
//!
//! sqlx's `Any` driver, which every other statement goes through, cannot speak PostgreSQL's
//! copy protocol. A load therefore opens a [`Stage`]: a `PgConnection` of its own. Each batch
//! of rows gets a stage table of its own (`bulk_stage_l{load}_{n}`: UNLOGGED, no index, no
//! constraint, the batch's columns with the target's types from the catalogue), filled by one
//! `COPY … FROM STDIN` (CSV) on that connection. The load's own transaction (on the `Any` pool)
//! then moves the batch into the target table with one `INSERT … SELECT`. So the rows travel by
//! `COPY` — no statement carries them as thousands of bound values, and PostgreSQL parses each
//! value once, by its column's type, as it arrives — while landing them stays inside the one
//! transaction of the import: a refused or failed import commits nothing.
//!
//! A batch's table is dropped when the load ends (committed or not): the load's transaction
//! holds a lock on every table it read until then, so none can go earlier. A load is written in
//! `bulk_stage_loads` while it runs; the tables of a load a crashed process left are dropped by
//! the next load after a day (migration 0065).
//!
//! Limits: the database user makes tables (as it does when it migrates); and the load's
//! transaction holds a lock on each stage table it read, one per batch and table (the l3-60k
//! dataset: about 300), which PostgreSQL's shared lock table (`max_locks_per_transaction` × the
//! connections, 6,400 by default) must hold until the commit.
//!
//! [`crate::db::bulk::Inserter`] uses a stage when the transaction it writes in has one
//! ([`crate::db::WriteTx::stage_copies`]); callers of bulk writes need not know.
use std::collections::HashMap;
use std::fmt::Write as _;

use sqlx::{Connection, Row};

use super::bulk::{literal, Cell, Literal};
use super::sql::Val;

/// A load's connection for `COPY`, and the stage tables it made.
pub struct Stage {
    /// Taken by [`Stage::finish`] (or by the drop of a stage that was not finished).
    conn: Option<sqlx::PgConnection>,
    load_id: i64,
    /// Stage tables made so far (one per batch), dropped when the load ends.
    tables: Vec<String>,
    /// Column types (`format_type`) by table and column, read from the catalogue once per table.
    types: HashMap<String, HashMap<String, String>>,
    /// Rows staged so far (all tables).
    pub staged: u64,
}

impl Stage {
    /// Connects with `opts` (the primary's), takes a load id, and drops the stage tables of
    /// loads that began more than a day ago (a crashed process's).
    pub async fn open(opts: &sqlx::postgres::PgConnectOptions) -> Result<Stage, sqlx::Error> {
        let mut conn = sqlx::PgConnection::connect_with(opts).await?;
        let stale: Vec<i64> =
            sqlx::query("SELECT load_id FROM bulk_stage_loads WHERE started_at < now() - interval '1 day'")
                .fetch_all(&mut conn)
                .await?
                .iter()
                .map(|r| r.try_get("load_id"))
                .collect::<Result<_, _>>()?;
        for id in stale {
            let names: Vec<String> = sqlx::query(
                "SELECT relname::text AS name FROM pg_class WHERE relkind = 'r' AND relname LIKE $1 \
                 AND relnamespace = current_schema()::regnamespace",
            )
            .bind(format!("bulk\\_stage\\_l{id}\\_%"))
            .fetch_all(&mut conn)
            .await?
            .iter()
            .map(|r| r.try_get("name"))
            .collect::<Result<_, _>>()?;
            Self::drop_tables(&mut conn, &names).await?;
            sqlx::query("DELETE FROM bulk_stage_loads WHERE load_id = $1").bind(id).execute(&mut conn).await?;
        }
        let load_id: i64 = sqlx::query(
            "INSERT INTO bulk_stage_loads (load_id) VALUES (nextval('bulk_stage_load_id')) RETURNING load_id",
        )
        .fetch_one(&mut conn)
        .await?
        .try_get("load_id")?;
        Ok(Stage { conn: Some(conn), load_id, tables: vec![], types: HashMap::new(), staged: 0 })
    }

    /// The types of `table`'s columns, by name (as `format_type` spells them).
    async fn types(&mut self, table: &str) -> Result<&HashMap<String, String>, sqlx::Error> {
        if !self.types.contains_key(table) {
            let rows = sqlx::query(
                "SELECT a.attname::text AS name, format_type(a.atttypid, a.atttypmod) AS ty FROM pg_attribute a \
                 WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped",
            )
            .bind(table)
            .fetch_all(self.conn())
            .await?;
            let mut m = HashMap::new();
            for r in rows {
                m.insert(r.try_get("name")?, r.try_get("ty")?);
            }
            self.types.insert(table.to_string(), m);
        }
        Ok(&self.types[table])
    }

    /// Makes the next batch's stage table with `columns` (name, type) after `seq`, and fills
    /// it with `csv` (lines of `seq` and the values); gives its name.
    async fn stage(&mut self, columns: &[(String, String)], csv: &[u8], rows: i64) -> Result<String, sqlx::Error> {
        let name = format!("bulk_stage_l{}_{}", self.load_id, self.tables.len() + 1);
        let defs: Vec<String> = columns.iter().map(|(c, t)| format!("\"{c}\" {t}")).collect();
        sqlx::query(&format!("CREATE UNLOGGED TABLE {name} (seq bigint, {})", defs.join(", ")))
            .execute(self.conn())
            .await?;
        self.tables.push(name.clone());
        let names: Vec<String> = columns.iter().map(|(c, _)| format!("\"{c}\"")).collect();
        let mut copy = self
            .conn()
            .copy_in_raw(&format!("COPY {name} (seq, {}) FROM STDIN WITH (FORMAT csv)", names.join(", ")))
            .await?;
        copy.send(csv).await?;
        copy.finish().await?;
        self.staged += rows as u64;
        Ok(name)
    }

    /// Drops this load's stage tables and closes the connection (after the load's transaction
    /// ended, committed or not).
    pub async fn finish(mut self) -> Result<(), sqlx::Error> {
        match self.conn.take() {
            Some(conn) => Self::clear(conn, self.load_id, std::mem::take(&mut self.tables)).await,
            None => Ok(()),
        }
    }

    async fn drop_tables(conn: &mut sqlx::PgConnection, names: &[String]) -> Result<(), sqlx::Error> {
        for chunk in names.chunks(200) {
            sqlx::query(&format!("DROP TABLE IF EXISTS {}", chunk.join(", "))).execute(&mut *conn).await?;
        }
        Ok(())
    }

    async fn clear(mut conn: sqlx::PgConnection, load_id: i64, tables: Vec<String>) -> Result<(), sqlx::Error> {
        Self::drop_tables(&mut conn, &tables).await?;
        sqlx::query("DELETE FROM bulk_stage_loads WHERE load_id = $1").bind(load_id).execute(&mut conn).await?;
        conn.close().await
    }

    fn conn(&mut self) -> &mut sqlx::PgConnection {
        self.conn.as_mut().expect("a stage is used only before it is finished")
    }
}

impl Drop for Stage {
    /// A stage dropped unfinished (its transaction dropped on an error) drops its tables on a
    /// task of its own.
    fn drop(&mut self) {
        if let (Some(conn), Ok(rt)) = (self.conn.take(), tokio::runtime::Handle::try_current()) {
            let (load_id, tables) = (self.load_id, std::mem::take(&mut self.tables));
            rt.spawn(async move {
                if let Err(e) = Self::clear(conn, load_id, tables).await {
                    tracing::warn!("dropping stage tables: {e}");
                }
            });
        }
    }
}

/// The rows of one bulk insert on their way through a [`Stage`]: CSV lines (`seq`, then the
/// values but the shared ones), then the `INSERT … SELECT` that lands them.
pub struct CopyRows {
    table: String,
    columns: Vec<String>,
    /// The batch as `COPY` reads it.
    csv: String,
    rows: i64,
    /// Which columns take a shared value (its 1-based index), from the first row.
    shared_at: Option<Vec<Option<usize>>>,
}

impl CopyRows {
    /// `head`: `INSERT INTO table (columns…) VALUES ` (fixed text of the calling module).
    pub fn new(head: &str) -> CopyRows {
        let (table, names) = super::bulk::insert_head(head).unwrap_or_else(|| panic!("not an INSERT head: {head}"));
        CopyRows {
            table: table.to_string(),
            columns: names.into_iter().map(str::to_string).collect(),
            csv: String::new(),
            rows: 0,
            shared_at: None,
        }
    }

    /// Adds a row: its place in the batch, then its values but the shared ones, as CSV fields
    /// (an unquoted empty field is NULL, a quoted one a text).
    pub fn push(&mut self, cells: Vec<Cell>) {
        if self.shared_at.is_none() {
            self.shared_at =
                Some(cells.iter().map(|c| if let Cell::Shared(n) = c { Some(*n) } else { None }).collect());
        }
        self.rows += 1;
        let _ = write!(self.csv, "{}", self.rows);
        for c in cells {
            match c {
                Cell::Shared(_) => continue,
                Cell::V(Val::Int(Some(n))) => {
                    let _ = write!(self.csv, ",{n}");
                }
                Cell::V(Val::Text(Some(t))) => {
                    self.csv.push(',');
                    csv_text(&mut self.csv, &t);
                }
                Cell::V(_) => self.csv.push(','),
                Cell::Lit(l) => {
                    self.csv.push(',');
                    match literal(l) {
                        Literal::Null => {}
                        Literal::Text(t) => csv_text(&mut self.csv, &t),
                        Literal::Number(n) => self.csv.push_str(n),
                    }
                }
            }
        }
        self.csv.push('\n');
    }

    /// Stages the collected rows through `stage` and lands them in the table inside `conn`'s
    /// transaction, with `tail` (say `RETURNING id, key`) after the statement; gives what the
    /// tail returns.
    pub async fn land(
        &mut self,
        stage: &mut Stage,
        conn: &mut sqlx::AnyConnection,
        shared: &[Val],
        tail: &str,
    ) -> Result<Vec<sqlx::any::AnyRow>, sqlx::Error> {
        if self.rows == 0 {
            return Ok(vec![]);
        }
        let csv = std::mem::take(&mut self.csv);
        let n = std::mem::take(&mut self.rows);
        let shared_at = self.shared_at.clone().unwrap_or_default();
        let types = stage.types(&self.table).await?;
        let mut staged = vec![];
        let mut select = vec![];
        for (i, col) in self.columns.iter().enumerate() {
            match shared_at.get(i).copied().flatten() {
                Some(k) => select.push(format!("${k}")),
                None => {
                    let ty = types.get(col).cloned().unwrap_or_else(|| "text".into());
                    select.push(format!("s.\"{col}\""));
                    staged.push((col.clone(), ty));
                }
            }
        }
        let name = stage.stage(&staged, csv.as_bytes(), n).await?;
        let sql = format!(
            "INSERT INTO {} ({}) SELECT {} FROM {name} s ORDER BY s.seq{}{}",
            self.table,
            self.columns.join(", "),
            select.join(", "),
            if tail.is_empty() { "" } else { " " },
            tail
        );
        // Each batch names its own table: not worth keeping as a prepared statement.
        let q = super::sql::bind_all(&sql, shared.to_vec()).persistent(false);
        if tail.is_empty() {
            q.execute(conn).await?;
            Ok(vec![])
        } else {
            q.fetch_all(conn).await
        }
    }
}

/// A text as a quoted CSV field (a quote doubled).
fn csv_text(out: &mut String, t: &str) {
    out.push('"');
    for ch in t.chars() {
        if ch == '"' {
            out.push('"');
        }
        out.push(ch);
    }
    out.push('"');
}
