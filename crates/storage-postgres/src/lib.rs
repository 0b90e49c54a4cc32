//! The PostgreSQL backend of aanwezig's [`Store`]: for boards and larger
//! deployments, and for several app servers on one database.
//!
//! [`PgStore::connect`] opens a pool on a `postgres://` URL and brings the
//! schema up to date with the embedded migrations (`migrations/*.sql`,
//! `sqlx::migrate!`, which holds an advisory lock while it runs, so two
//! servers starting together do not race).
//!
//! # How it differs from SQLite, and why
//!
//! - **Types.** Dates are `date`, instants `timestamptz` (microseconds:
//!   sub-microsecond digits of an `at` are not kept), JSON the app reads
//!   back is `jsonb`, settings documents `json` (kept exactly as saved).
//! - **Locks instead of one writer.** SQLite runs every write alone
//!   (`BEGIN IMMEDIATE`); here writes run side by side and take the locks
//!   their checks need: a checked save of registrations locks its students'
//!   rows and the lessons' rows (`FOR UPDATE`) before it compares
//!   revisions, so the check holds against writers in other processes; a
//!   checked save of a case or melding draft locks its row (or its
//!   student's, for a new one); settings documents lock their table
//!   against other writers (versions are numbered without gaps). A deadlock
//!   or serialization failure that PostgreSQL resolves by aborting a
//!   checked save is retried a few times.
//! - **Triggers in PL/pgSQL** keep the history of registrations (one
//!   statement-level trigger over the transition tables, so a bulk upsert
//!   writes its history rows in one statement), the audit log append-only
//!   (except the purge's unlinking), calls and afstemmingen as recorded,
//!   and account ids fixed.
//! - **Imports by `COPY`.** Each batch of records is encoded as COPY text
//!   in Rust (student numbers resolved to internal keys on the way, so an
//!   unknown student fails before anything is sent), copied into a
//!   temporary table and moved into `registrations` by one set-based
//!   upsert that writes only rows that differ.
//! - **The change feed** is a `change_feed` table written in each change's
//!   transaction plus `pg_notify`; every store LISTENs on one background
//!   connection ([`feed`]) and `wait_for_change` wakes on it.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aanwezig_domain::StudentId;
use aanwezig_storage::{Change, ChangeKind, Store, StoreError};
use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::PgConnection;

pub(crate) use aanwezig_storage::documents::{from_json, to_json, validate_calendar};

mod accounts;
mod documents;
mod dossier;
mod error;
mod feed;
mod registrations;
#[cfg(feature = "testing")]
pub mod testing;
mod transfer;

use error::Result;
use error::{narrow, Db};

/// The embedded migrations, run on every connect.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Connections per store: the web app's requests, the parallel readers
/// of `lessons_stream`, and the change feed's listener.
const CONNECTIONS: u32 = 12;

/// How long a request waits for a free connection.
const ACQUIRE_WAIT: Duration = Duration::from_secs(60);

/// How often a checked save runs again after PostgreSQL aborted it to
/// resolve a deadlock.
const ATTEMPTS: usize = 3;

/// The PostgreSQL implementation of [`Store`]. Clones share the pool and
/// the change feed's listener (and [`Store::close`] closes them for every
/// clone).
#[derive(Clone, Debug)]
pub struct PgStore {
    pool: PgPool,
    /// Committed changes of stored data by this store (and its clones),
    /// for [`Store::write_count`].
    writes: Arc<AtomicU64>,
    feed: Arc<feed::Feed>,
}

impl PgStore {
    /// Connects to the database a `postgres://` (or `postgresql://`) URL
    /// names and brings its schema up to date. The database must exist.
    pub async fn connect(url: &str) -> Result<PgStore> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Config(format!("PostgreSQL URL: {e}")))?
            .application_name("aanwezig");
        let pool = PgPoolOptions::new()
            .max_connections(CONNECTIONS)
            .acquire_timeout(ACQUIRE_WAIT)
            .connect_with(options)
            .await
            .db()?;
        MIGRATOR.run(&pool).await?;
        let feed = feed::Feed::start(&pool).await?;
        Ok(PgStore {
            pool,
            writes: Arc::default(),
            feed,
        })
    }

    /// The connection pool, for tools and tests that need raw SQL.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Notes a committed change of stored data: [`Store::write_count`],
    /// and the change feed's number (`None` when the write recorded none).
    fn wrote(&self, change: Option<i64>) {
        self.writes.fetch_add(1, Ordering::AcqRel);
        if let Some(n) = change {
            self.feed.bump(n);
        }
    }

    /// Starts a write transaction.
    async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>> {
        self.pool.begin().await.db()
    }
}

/// Records a change in the feed (and notifies on commit); the last
/// statement of a write transaction (see `record_change` in migration
/// 0002). Returns its number.
async fn record_change(
    conn: &mut PgConnection,
    kind: ChangeKind,
    student: Option<&str>,
) -> Result<i64> {
    sqlx::query_scalar("SELECT record_change($1, $2)")
        .bind(kind.as_str())
        .bind(student)
        .fetch_one(conn)
        .await
        .db()
}

/// Records one change per student (or one without a student when
/// `students` is empty); returns the highest number.
async fn record_changes<'a>(
    conn: &mut PgConnection,
    kind: ChangeKind,
    students: impl IntoIterator<Item = &'a str>,
) -> Result<i64> {
    let students: Vec<&str> = students.into_iter().collect();
    if students.is_empty() {
        return record_change(conn, kind, None).await;
    }
    let mut last = 0;
    for s in students {
        last = record_change(conn, kind, Some(s)).await?;
    }
    Ok(last)
}

/// The internal key of every student, by number.
async fn student_keys(conn: &mut PgConnection) -> Result<HashMap<String, i32>> {
    let rows: Vec<(String, i32)> = sqlx::query_as("SELECT number, id FROM students")
        .fetch_all(conn)
        .await
        .db()?;
    Ok(rows.into_iter().collect())
}

/// The internal key of one student.
async fn student_key(conn: &mut PgConnection, id: &StudentId) -> Result<Option<i32>> {
    sqlx::query_scalar("SELECT id FROM students WHERE number = $1")
        .bind(id.as_str())
        .fetch_optional(conn)
        .await
        .db()
}

/// The internal key of one student, with its row locked against other
/// checked writers until the transaction ends (`FOR NO KEY UPDATE`: it
/// does not block rows that merely refer to the student).
async fn lock_student(conn: &mut PgConnection, id: &StudentId) -> Result<Option<i32>> {
    sqlx::query_scalar("SELECT id FROM students WHERE number = $1 FOR NO KEY UPDATE")
        .bind(id.as_str())
        .fetch_optional(conn)
        .await
        .db()
}

/// Parses a stored student number.
fn parse_student_id(s: &str) -> Result<StudentId> {
    StudentId::parse(s).map_err(|e| StoreError::Invalid(format!("student number {s:?}: {e}")))
}

/// A version number as stored.
fn version_of(v: i32) -> Result<u32> {
    narrow("version", v)
}

/// Runs a checked write again when PostgreSQL aborted it to resolve a
/// deadlock or a serialization failure.
async fn retrying<T, F, Fut>(mut attempt: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut tries = 0;
    loop {
        tries += 1;
        match attempt().await {
            Err(e) if tries < ATTEMPTS && error::is_transient(&e) => {
                tracing::debug!(error = %e, "aborted by PostgreSQL; trying again");
            }
            done => return done,
        }
    }
}

#[async_trait]
impl aanwezig_storage::Changes for PgStore {
    async fn last_change(&self) -> Result<i64> {
        feed::last_change(&self.pool).await
    }

    async fn changes_since(&self, after: i64, limit: u32) -> Result<Vec<Change>> {
        let rows: Vec<(i64, String, Option<String>)> = sqlx::query_as(
            "SELECT number, kind, student FROM change_feed WHERE number > $1
             ORDER BY number LIMIT $2",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.into_iter()
            .map(|(number, kind, student)| {
                Ok(Change {
                    number,
                    kind: ChangeKind::parse(&kind)
                        .ok_or_else(|| StoreError::Invalid(format!("change kind {kind:?}")))?,
                    student: student.as_deref().map(parse_student_id).transpose()?,
                })
            })
            .collect()
    }

    async fn wait_for_change(&self, after: i64, timeout: Duration) -> Result<()> {
        self.feed.wait(&self.pool, after, timeout).await
    }
}

#[async_trait]
impl Store for PgStore {
    fn write_count(&self) -> u64 {
        self.writes.load(Ordering::Acquire)
    }

    async fn close(&self) {
        self.feed.stop().await;
        self.pool.close().await;
    }
}
