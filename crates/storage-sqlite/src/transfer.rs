//! [`Transfer`] for SQLite: the rows of every table as text, and a whole
//! other database copied in, in one write transaction (`aanwezig migrate`).

use aanwezig_storage::error::{Result, StoreError};
use aanwezig_storage::transfer::{is_known_table, shared_columns, RawRow, Transfer, TABLES};
use async_trait::async_trait;
use futures::stream::{BoxStream, StreamExt};
use sqlx::Row;

use crate::SqliteStore;

/// At most this many bound values per `INSERT` (SQLite allows 32,766).
const MAX_VALUES: usize = 30_000;

fn known(table: &str) -> Result<()> {
    if is_known_table(table) {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!("unknown table {table}")))
    }
}

/// `"name"`, for a column name read from the schema.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `SELECT` of `columns` as text from `table`, in primary-key order.
async fn select_sql(pool: &sqlx::SqlitePool, table: &str, columns: &[String]) -> Result<String> {
    known(table)?;
    let keys: Vec<String> =
        sqlx::query_scalar("SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk")
            .bind(table)
            .fetch_all(pool)
            .await?;
    let order = if keys.is_empty() {
        "rowid".to_owned()
    } else {
        keys.iter()
            .map(|k| quoted(k))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let select = columns
        .iter()
        .map(|c| format!("CAST({} AS TEXT)", quoted(c)))
        .collect::<Vec<_>>()
        .join(", ");
    Ok(format!(
        "SELECT {select} FROM {} ORDER BY {order}",
        quoted(table)
    ))
}

#[async_trait]
impl Transfer for SqliteStore {
    async fn table_columns(&self, table: &str) -> Result<Vec<String>> {
        known(table)?;
        let rows = sqlx::query("SELECT name FROM pragma_table_info(?1) ORDER BY cid")
            .bind(table)
            .fetch_all(&self.reader)
            .await?;
        rows.iter()
            .map(|r| Ok(r.try_get::<String, _>(0)?))
            .collect()
    }

    fn export_rows<'a>(
        &'a self,
        table: &'a str,
        columns: &'a [String],
    ) -> BoxStream<'a, Result<RawRow>> {
        let table = table.to_owned();
        let columns = columns.to_vec();
        let pool = self.reader.clone();
        // The query runs in a task of its own that owns its SQL text and
        // sends the rows through a bounded channel: the reader waits for
        // the writer, so memory stays small however big the table.
        let (mut tx, rx) = futures::channel::mpsc::channel::<Result<RawRow>>(1024);
        tokio::spawn(async move {
            use futures::SinkExt;
            let sql = match select_sql(&pool, &table, &columns).await {
                Ok(sql) => sql,
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            };
            let mut rows = sqlx::query(&sql).fetch(&pool);
            while let Some(row) = rows.next().await {
                let row = row.map_err(StoreError::from).and_then(|r| {
                    (0..columns.len())
                        .map(|i| Ok(r.try_get::<Option<String>, _>(i)?))
                        .collect::<Result<RawRow>>()
                });
                let failed = row.is_err();
                if tx.send(row).await.is_err() || failed {
                    return;
                }
            }
        });
        rx.boxed()
    }

    async fn count_rows(&self, table: &str) -> Result<u64> {
        known(table)?;
        let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {}", quoted(table)))
            .fetch_one(&self.reader)
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn import_from(
        &self,
        source: &dyn Transfer,
        progress: &(dyn Fn(&str, u64) + Send + Sync),
    ) -> Result<Vec<(String, u64)>> {
        for table in TABLES {
            if self.count_rows(table).await? > 0 {
                return Err(StoreError::Conflict(format!(
                    "the target database is not empty: table {table} has rows"
                )));
            }
        }
        let mut tx = self.begin_write().await?;
        let mut copied = Vec::new();
        for table in TABLES {
            let target = self.table_columns(table).await?;
            let from = source.table_columns(table).await?;
            let columns = shared_columns(table, &from, &target)?;
            let per_batch = (MAX_VALUES / columns.len().max(1)).max(1);
            let mut rows = source.export_rows(table, &columns);
            let mut batch: Vec<RawRow> = Vec::with_capacity(per_batch);
            let mut done = 0u64;
            while let Some(row) = rows.next().await.transpose()? {
                batch.push(row);
                if batch.len() == per_batch {
                    insert(&mut tx, table, &columns, &batch).await?;
                    done += batch.len() as u64;
                    progress(table, done);
                    batch.clear();
                }
            }
            if !batch.is_empty() {
                insert(&mut tx, table, &columns, &batch).await?;
                done += batch.len() as u64;
                progress(table, done);
            }
            copied.push(((*table).to_owned(), done));
        }
        tx.commit().await?;
        self.wrote();
        Ok(copied)
    }
}

/// One multi-row `INSERT` of text values; SQLite's column types turn them
/// back into numbers where the column is one (STRICT tables coerce).
async fn insert(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    table: &str,
    columns: &[String],
    rows: &[RawRow],
) -> Result<()> {
    let names = columns
        .iter()
        .map(|c| quoted(c))
        .collect::<Vec<_>>()
        .join(", ");
    let one = format!("({})", vec!["?"; columns.len()].join(","));
    let values = vec![one.as_str(); rows.len()].join(",");
    let sql = format!("INSERT INTO {} ({names}) VALUES {values}", quoted(table));
    let mut query = sqlx::query(&sql);
    for row in rows {
        if row.len() != columns.len() {
            return Err(StoreError::Invalid(format!(
                "table {table}: a row has {} values for {} columns",
                row.len(),
                columns.len()
            )));
        }
        for value in row {
            query = query.bind(value.as_deref());
        }
    }
    query.execute(&mut **tx).await?;
    Ok(())
}
