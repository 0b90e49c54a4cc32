//! [`Transfer`] for PostgreSQL: the rows of every table as text in the form
//! SQLite keeps them (so a school can move either way), and a whole other
//! database copied in, in one transaction (`aanwezig migrate`).

use aanwezig_storage::error::{Result, StoreError};
use aanwezig_storage::transfer::{is_known_table, shared_columns, RawRow, Transfer, TABLES};
use async_trait::async_trait;
use futures::stream::{BoxStream, StreamExt};
use sqlx::{PgPool, Row};

use crate::error::Db;
use crate::PgStore;

/// Rows per `INSERT … SELECT FROM unnest(…)`.
const BATCH: usize = 5_000;

fn known(table: &str) -> Result<()> {
    if is_known_table(table) {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!("unknown table {table}")))
    }
}

/// `"name"`, for a name read from the schema.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A table's columns with their types, in the table's order.
async fn columns_of(pool: &PgPool, table: &str) -> Result<Vec<(String, String)>> {
    known(table)?;
    let rows = sqlx::query(
        "SELECT column_name::text, udt_name::text FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = $1
         ORDER BY ordinal_position",
    )
    .bind(table)
    .fetch_all(pool)
    .await
    .db()?;
    rows.iter()
        .map(|r| Ok((r.try_get(0).db()?, r.try_get(1).db()?)))
        .collect()
}

/// The value of `column` (of type `udt`) as the text SQLite keeps: 0/1 for
/// booleans, RFC 3339 UTC with nine fraction digits for instants.
fn as_text(column: &str, udt: &str) -> String {
    let c = quoted(column);
    match udt {
        "bool" => format!("CASE WHEN {c} THEN '1' WHEN NOT {c} THEN '0' END"),
        "timestamptz" => {
            format!("to_char({c} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"000Z\"')")
        }
        _ => format!("{c}::text"),
    }
}

/// `SELECT` of `columns` as text from `table`, in primary-key order.
async fn select_sql(pool: &PgPool, table: &str, columns: &[String]) -> Result<String> {
    let types = columns_of(pool, table).await?;
    let keys: Vec<String> = sqlx::query_scalar(
        "SELECT a.attname::text FROM pg_index i
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
         WHERE i.indrelid = to_regclass($1) AND i.indisprimary
         ORDER BY array_position(i.indkey, a.attnum)",
    )
    .bind(quoted(table))
    .fetch_all(pool)
    .await
    .db()?;
    let select = columns
        .iter()
        .map(|c| {
            let udt = types
                .iter()
                .find(|(name, _)| name == c)
                .map_or("text", |(_, t)| t.as_str());
            as_text(c, udt)
        })
        .collect::<Vec<_>>()
        .join(", ");
    let order = if keys.is_empty() {
        (1..=columns.len())
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    } else {
        keys.iter()
            .map(|k| quoted(k))
            .collect::<Vec<_>>()
            .join(", ")
    };
    Ok(format!(
        "SELECT {select} FROM {} ORDER BY {order}",
        quoted(table)
    ))
}

#[async_trait]
impl Transfer for PgStore {
    async fn table_columns(&self, table: &str) -> Result<Vec<String>> {
        Ok(columns_of(&self.pool, table)
            .await?
            .into_iter()
            .map(|(name, _)| name)
            .collect())
    }

    fn export_rows<'a>(
        &'a self,
        table: &'a str,
        columns: &'a [String],
    ) -> BoxStream<'a, Result<RawRow>> {
        let table = table.to_owned();
        let columns = columns.to_vec();
        let pool = self.pool.clone();
        // The query runs in a task of its own that owns its SQL text and
        // sends the rows through a bounded channel: memory stays small
        // however big the table.
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
                let row = row.db().and_then(|r| {
                    (0..columns.len())
                        .map(|i| r.try_get::<Option<String>, _>(i).db())
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
            .fetch_one(&self.pool)
            .await
            .db()?;
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
        let mut tx = self.pool.begin().await.db()?;
        let mut copied = Vec::new();
        for table in TABLES {
            let typed = columns_of(&self.pool, table).await?;
            let target: Vec<String> = typed.iter().map(|(c, _)| c.clone()).collect();
            let from = source.table_columns(table).await?;
            let columns = shared_columns(table, &from, &target)?;
            let identity: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM information_schema.columns
                 WHERE table_schema = current_schema() AND table_name = $1
                   AND is_identity = 'YES')",
            )
            .bind(table)
            .fetch_one(&self.pool)
            .await
            .db()?;
            // unnest($1::text[], $2::text[], …) cast to each column's type.
            let casts = columns
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let udt = typed
                        .iter()
                        .find(|(name, _)| name == c)
                        .map_or("text", |(_, t)| t.as_str());
                    format!("CAST(u.c{i} AS {udt})")
                })
                .collect::<Vec<_>>()
                .join(", ");
            let arrays = (0..columns.len())
                .map(|i| format!("${}::text[]", i + 1))
                .collect::<Vec<_>>()
                .join(", ");
            let names = (0..columns.len())
                .map(|i| format!("c{i}"))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "INSERT INTO {} ({}) {} SELECT {casts} FROM unnest({arrays}) AS u({names})",
                quoted(table),
                columns
                    .iter()
                    .map(|c| quoted(c))
                    .collect::<Vec<_>>()
                    .join(", "),
                if identity {
                    "OVERRIDING SYSTEM VALUE"
                } else {
                    ""
                },
            );
            let mut rows = source.export_rows(table, &columns);
            let mut batch: Vec<RawRow> = Vec::with_capacity(BATCH);
            let mut done = 0u64;
            loop {
                let next = rows.next().await.transpose()?;
                let end = next.is_none();
                if let Some(row) = next {
                    if row.len() != columns.len() {
                        return Err(StoreError::Invalid(format!(
                            "table {table}: a row has {} values for {} columns",
                            row.len(),
                            columns.len()
                        )));
                    }
                    batch.push(row);
                }
                if batch.len() == BATCH || (end && !batch.is_empty()) {
                    let mut query = sqlx::query(&sql);
                    for i in 0..columns.len() {
                        let column: Vec<Option<&str>> =
                            batch.iter().map(|r| r[i].as_deref()).collect();
                        query = query.bind(column);
                    }
                    query.execute(&mut *tx).await.db()?;
                    done += batch.len() as u64;
                    progress(table, done);
                    batch.clear();
                }
                if end {
                    break;
                }
            }
            copied.push(((*table).to_owned(), done));
        }
        // The id sequences continue after the copied ids.
        let sequences: Vec<(String, String)> = sqlx::query_as(
            "SELECT table_name::text, column_name::text FROM information_schema.columns
             WHERE table_schema = current_schema()
               AND (is_identity = 'YES' OR column_default LIKE 'nextval(%')",
        )
        .fetch_all(&mut *tx)
        .await
        .db()?;
        for (table, column) in sequences {
            let sql = format!(
                "SELECT setval(pg_get_serial_sequence($1, $2), COALESCE(max({c}), 0) + 1, false) FROM {t}",
                c = quoted(&column),
                t = quoted(&table)
            );
            sqlx::query(&sql)
                .bind(quoted(&table))
                .bind(&column)
                .execute(&mut *tx)
                .await
                .db()?;
        }
        tx.commit().await.db()?;
        self.wrote(None);
        Ok(copied)
    }
}
