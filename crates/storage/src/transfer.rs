//! Moving a whole database from one backend to another (`aanwezig migrate`):
//! every table, history and audit log included, row for row.
//!
//! Both backends keep the same tables with the same column names (their
//! types differ: SQLite keeps dates as text, PostgreSQL as `date`). Rows
//! travel as text: each value as the source backend writes it as text
//! (`NULL` stays `None`), and the target casts it to its column's type.
//! The target writes everything in one transaction, so a failed migration
//! leaves it empty; afterwards [`verify`] compares the row counts.

use async_trait::async_trait;
use futures::stream::BoxStream;

use crate::error::{Result, StoreError};

/// One row as text values, in the order of the columns asked for.
pub type RawRow = Vec<Option<String>>;

/// The tables that hold a school's data, in an order in which every row's
/// references are written before the row. Sign-in sessions are left out on
/// purpose: after a move everyone signs in again.
pub const TABLES: &[&str] = &[
    "students",
    "imports",
    "changes",
    "registrations",
    "registration_history",
    "documents",
    "users",
    "feed_tokens",
    "audit_log",
    "cases",
    "case_versions",
    "meldingen",
    "melding_versions",
    "calls",
    "duo_afstemmingen",
];

/// What a backend does for a migration: give its rows, and take another
/// backend's.
#[async_trait]
pub trait Transfer: Send + Sync {
    /// The columns of `table`, in the table's order.
    async fn table_columns(&self, table: &str) -> Result<Vec<String>>;

    /// Every row of `table`, the given columns as text, in primary-key
    /// order. Streams: the memory used does not grow with the table.
    fn export_rows<'a>(
        &'a self,
        table: &'a str,
        columns: &'a [String],
    ) -> BoxStream<'a, Result<RawRow>>;

    /// The number of rows of `table`.
    async fn count_rows(&self, table: &str) -> Result<u64>;

    /// Copies every table of [`TABLES`] from `source` into this database,
    /// which must hold no data yet ([`StoreError::Conflict`] otherwise), in
    /// one transaction: all or nothing. The columns copied are those this
    /// database's table has; a column the source lacks is an
    /// [`StoreError::Invalid`]. `progress` is called with the table and
    /// the rows copied of it so far. Returns the rows copied per table.
    async fn import_from(
        &self,
        source: &dyn Transfer,
        progress: &(dyn Fn(&str, u64) + Send + Sync),
    ) -> Result<Vec<(String, u64)>>;
}

/// The row counts of every table of [`TABLES`] in `source` and `target`,
/// and whether they agree: `Err` lists the tables that differ.
pub async fn verify(
    source: &dyn Transfer,
    target: &dyn Transfer,
) -> Result<std::result::Result<Vec<(String, u64)>, Vec<(String, u64, u64)>>> {
    let mut same = Vec::new();
    let mut differ = Vec::new();
    for table in TABLES {
        let a = source.count_rows(table).await?;
        let b = target.count_rows(table).await?;
        if a == b {
            same.push(((*table).to_owned(), a));
        } else {
            differ.push(((*table).to_owned(), a, b));
        }
    }
    Ok(if differ.is_empty() {
        Ok(same)
    } else {
        Err(differ)
    })
}

/// The columns to copy into `target_columns` from a source that has
/// `source_columns`: all of the target's, each of which the source must
/// have.
pub fn shared_columns(
    table: &str,
    source_columns: &[String],
    target_columns: &[String],
) -> Result<Vec<String>> {
    let missing: Vec<&String> = target_columns
        .iter()
        .filter(|c| !source_columns.contains(c))
        .collect();
    if missing.is_empty() {
        Ok(target_columns.to_vec())
    } else {
        Err(StoreError::Invalid(format!(
            "table {table}: the source has no column {}",
            missing
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )))
    }
}

/// Whether `name` is one of [`TABLES`] (a guard before a table name goes
/// into SQL text).
pub fn is_known_table(name: &str) -> bool {
    TABLES.contains(&name)
}
