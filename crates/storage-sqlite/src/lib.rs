//! The SQLite backend: one database file, the default for a single school.
//!
//! # Connections
//!
//! Two pools on the same file: a *writer* pool of exactly one connection
//! and a *reader* pool of a few. SQLite allows one writer at a time; giving
//! writes their own single connection makes them queue in the pool instead
//! of failing with `SQLITE_BUSY`, while WAL lets readers (the web app's
//! pages, the engine's load) run next to a long import. Write transactions
//! start with `BEGIN IMMEDIATE` so they take the write lock up front.
//!
//! Every connection runs with `journal_mode=WAL`, `synchronous=NORMAL`
//! (durable at checkpoints, never corrupt; a power cut may lose the last
//! commits only), `foreign_keys=ON`, a busy timeout, `temp_store=MEMORY`
//! and a large page cache.
//!
//! # Bulk import
//!
//! sqlx costs tens of microseconds per statement on SQLite (each goes to the
//! connection's worker thread and back), which would cap a row-by-row import
//! far below the target of 500,000 rows/s. So records go in batches of
//! `BATCH` (2,000) rows per statement: one multi-row `INSERT ... VALUES` upsert
//! with every value bound as a parameter, and the next batch is bound while
//! SQLite works on the current one. Unchanged rows are filtered by the
//! upsert's `WHERE`; changed rows leave their old state in
//! `registration_history` through a trigger.
//!
//! Passing a batch as one JSON text parameter unpacked with `json_each` (a
//! common trick) was measured too: SQLite re-serialises every array element
//! to text and parses it again for each `->>`, which made it about half as
//! fast as bound parameters here (≈ 500k against ≈ 1M rows/s for the bare
//! upsert).

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use aanwezig_domain::{
    Bsn, Case, MeldingDraft, NumbersGiven, Onderwijsnummer, Policy, RegistrationRecord, SchoolYear,
    Student, StudentId,
};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use sqlx::sqlite::SqliteArguments;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Row, Sqlite, SqliteConnection};

use aanwezig_storage::codec::{
    category_number, date_text, decode_student_json, instant_text, narrow, parse_category,
    parse_date, parse_instant, parse_opt_date, parse_student_id, to_i64, to_u64, StudentKeys,
};
use aanwezig_storage::error::{Result, StoreError};
use aanwezig_storage::model::{
    AbsencesOnly, AuditEntry, AuditFilter, BundleSummary, DocumentKind, DocumentVersion,
    HistoryEntry, ImportBundle, ImportLogEntry, ImportSource, ImportSummary, LessonKey,
    LessonState, LessonWrite, MeldingFilter, Provenance, PurgeCounts, RecordBatches, Revision,
    SavedVersion, SessionRecord, StaleLesson, StoredRegistration, StoredStudent, UpsertCounts,
    User, WrittenLesson,
};
use aanwezig_storage::model::{Change, ChangeKind, DocumentWrite, VersionCheck};
use aanwezig_storage::store::{
    Accounts, AuditLog, Cases, Changes, Documents, Imports, Meldingen, Registrations, Retention,
    Store, StudentLessons, StudentRegistrations, Students,
};

use aanwezig_storage::documents::{bundle_documents, check_settings, document_json, note_version};
pub(crate) use aanwezig_storage::documents::{to_json, validate_calendar};

mod accounts;
mod backup;
mod dossier;
mod lock;
mod transfer;

use accounts::insert_audit;
use lock::{DatabaseLock, LockError};

/// The embedded migrations, run on every open and on a restored file.
pub(crate) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Records per upsert statement. Nine parameters each must stay under
/// SQLite's limit of 32,766 bound parameters (3,640 rows); measured on
/// 1,000,000 records, batches of 500 to 3,600 rows were within noise of one
/// another (1.1-1.4 M rows/s), so this sits in the middle.
const BATCH: usize = 2_000;

/// Page cache per connection, in KiB (SQLite's negative `cache_size`). The
/// writer gets a large one so that a big import's b-tree stays in memory.
const WRITER_CACHE_KIB: i64 = 256 * 1024;
const READER_CACHE_KIB: i64 = 64 * 1024;
const READERS: u32 = 4;

/// How long a write waits for the writer connection (a long import holds
/// it) and SQLite waits for a lock, before giving up.
const WRITE_WAIT: Duration = Duration::from_secs(120);
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// The upsert of `rows` registrations, nine bound parameters per row in
/// the column order below. A row that equals the stored one matches no
/// `WHERE` and writes nothing.
fn upsert_sql(rows: usize) -> String {
    let mut sql = String::with_capacity(200 + rows * 20 + 500);
    sql.push_str(
        "INSERT INTO registrations \
         (student_id, date, lesson, minutes, code, category, minutes_late, note, change_id) \
         VALUES ",
    );
    for i in 0..rows {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str("(?,?,?,?,?,?,?,?,?)");
    }
    sql.push_str(
        " ON CONFLICT (student_id, date, lesson) DO UPDATE SET \
             minutes = excluded.minutes, \
             code = excluded.code, \
             category = excluded.category, \
             minutes_late = excluded.minutes_late, \
             note = excluded.note, \
             change_id = excluded.change_id \
         WHERE registrations.minutes IS NOT excluded.minutes \
            OR registrations.code IS NOT excluded.code \
            OR registrations.category IS NOT excluded.category \
            OR registrations.minutes_late IS NOT excluded.minutes_late \
            OR registrations.note IS NOT excluded.note",
    );
    sql
}

type SqliteQuery<'q> = sqlx::query::Query<'q, Sqlite, SqliteArguments<'q>>;

/// Binds one batch to the upsert of [`upsert_sql`]`(records.len())`.
fn bind_batch<'q>(
    sql: &'q str,
    records: &'q [RegistrationRecord],
    keys: &mut StudentKeys<'q>,
    change_id: i64,
) -> Result<SqliteQuery<'q>> {
    let mut query = sqlx::query(sql);
    for r in records {
        query = query
            .bind(keys.get(&r.student)?)
            .bind(date_text(r.date)?)
            .bind(r.lesson)
            .bind(r.minutes)
            .bind(r.code.as_deref())
            .bind(category_number(r.category))
            .bind(r.minutes_late)
            .bind(r.note.as_deref())
            .bind(change_id);
    }
    Ok(query)
}

/// The columns of a call after the student's number.
const CALL_COLUMNS: &str = "c.absent_from, c.called_on, c.by_user, c.reached, c.how, \
                            c.school_can_do, c.expected_back, c.worries";

/// A call row: the student's number, then [`CALL_COLUMNS`].
fn call_from_row(row: &sqlx::sqlite::SqliteRow) -> Result<(StudentId, aanwezig_domain::Call)> {
    use sqlx::Row as _;
    let reached: String = row.try_get(4)?;
    let call = aanwezig_domain::Call {
        absent_from: parse_date(&row.try_get::<String, _>(1)?)?,
        on: parse_date(&row.try_get::<String, _>(2)?)?,
        by: row.try_get(3)?,
        reached: aanwezig_domain::Reached::parse(&reached)
            .ok_or_else(|| StoreError::Invalid(format!("gesprek: onbekend '{reached}'")))?,
        how: row.try_get(5)?,
        school_can_do: row.try_get(6)?,
        expected_back: parse_opt_date(row.try_get::<Option<String>, _>(7)?.as_deref())?,
        worries: row.try_get(8)?,
    };
    Ok((parse_student_id(&row.try_get::<String, _>(0)?)?, call))
}

/// The columns of an afstemming after its id and the student's number.
const AFSTEMMING_COLUMNS: &str = "a.rule, a.fired_on, a.melding_id, a.agreed_on, a.with_whom, \
                                  a.why, a.by_user, a.recorded_at";

/// An afstemming row: its id, the student's number, then
/// [`AFSTEMMING_COLUMNS`].
fn afstemming_from_row(
    row: &sqlx::sqlite::SqliteRow,
) -> Result<(i64, aanwezig_domain::duo_work::Afstemming)> {
    use sqlx::Row as _;
    let rule: String = row.try_get(2)?;
    let a = aanwezig_domain::duo_work::Afstemming {
        student: parse_student_id(&row.try_get::<String, _>(1)?)?,
        signal: aanwezig_domain::duo::SignalRef {
            rule: aanwezig_domain::RuleId::parse(&rule).ok_or_else(|| {
                StoreError::Invalid(format!("afstemming: onbekende regel '{rule}'"))
            })?,
            fired_on: parse_date(&row.try_get::<String, _>(3)?)?,
        },
        melding: row.try_get(4)?,
        on: parse_date(&row.try_get::<String, _>(5)?)?,
        with_whom: row.try_get(6)?,
        why: row.try_get(7)?,
        by: row.try_get(8)?,
        recorded_at: parse_instant(&row.try_get::<String, _>(9)?)?,
    };
    Ok((row.try_get(0)?, a))
}

/// Columns of a registration after its key, in the order the decoders read.
const REG_COLUMNS: &str = "date, lesson, minutes, code, category, minutes_late, note";

/// Per student (in student-number order, via the unique index), the
/// registrations aggregated into one JSON array. One row per student instead
/// of one per lesson: sqlx's per-row cost would otherwise dominate loading
/// millions of lessons.
const ALL_BY_STUDENT: &str = "\
SELECT s.number,
       (SELECT json_group_array(json_array(r.date, r.lesson, r.minutes, r.code, r.category,
                                           r.minutes_late, r.note))
          FROM registrations r WHERE r.student_id = s.id) AS regs
FROM students s
WHERE EXISTS (SELECT 1 FROM registrations r WHERE r.student_id = s.id)
ORDER BY s.number";

/// Per student (in no particular order), the lessons as the engine needs
/// them in two aggregates that are cheap for SQLite to build and for us to
/// read: the dates, ten characters each without separator, and a JSON array
/// of one integer per lesson packing lesson, category, minutes late and
/// minutes (see [`unpack_lesson`]). About half the work of
/// [`ALL_BY_STUDENT`] on either side.
const LESSONS_BY_STUDENT: &str = "\
SELECT s.number, x.dates, x.packed
FROM (SELECT r.student_id,
             group_concat(r.date, '') AS dates,
             json_group_array(r.lesson + 256 * (r.category + 256 * (r.minutes_late + 65536 * r.minutes)))
               AS packed
        FROM registrations r
       WHERE r.student_id >= ?1 AND r.student_id <= ?2
       GROUP BY r.student_id) x
JOIN students s ON s.id = x.student_id";

/// Splits one integer of [`LESSONS_BY_STUDENT`]'s `packed` array.
fn unpack_lesson(v: u64, date: NaiveDate) -> Result<LessonState> {
    let bad = || StoreError::Invalid(format!("packed lesson out of range: {v}"));
    // Every field is written from a u8 or u16, so each fits its bits.
    let lesson = u8::try_from(v & 0xff).map_err(|_| bad())?;
    let category = parse_category(i64::try_from((v >> 8) & 0xff).map_err(|_| bad())?)?;
    let minutes_late = u16::try_from((v >> 16) & 0xffff).map_err(|_| bad())?;
    let minutes = u16::try_from(v >> 32).map_err(|_| bad())?;
    Ok(LessonState {
        date,
        lesson,
        minutes,
        category,
        minutes_late,
    })
}

/// Decodes one row of [`LESSONS_BY_STUDENT`].
fn student_lessons_from_row(row: &SqliteRow) -> Result<StudentLessons> {
    let id = parse_student_id(row.try_get(0)?)?;
    let dates: &str = row.try_get(1)?;
    let packed: &str = row.try_get(2)?;
    let inner = packed
        .strip_prefix('[')
        .and_then(|p| p.strip_suffix(']'))
        .ok_or_else(|| StoreError::Invalid(format!("lessons of {id}: not an array")))?;
    if !dates.len().is_multiple_of(10) {
        return Err(StoreError::Invalid(format!(
            "lessons of {id}: dates cut off"
        )));
    }
    let mut out = Vec::with_capacity(dates.len() / 10);
    let mut last: Option<(&str, NaiveDate)> = None;
    let mut values = inner.split(',');
    for i in (0..dates.len()).step_by(10) {
        let text = dates
            .get(i..i + 10)
            .ok_or_else(|| StoreError::Invalid(format!("lessons of {id}: bad dates")))?;
        let date = match last {
            Some((t, d)) if t == text => d,
            _ => {
                let d = parse_date(text)?;
                last = Some((text, d));
                d
            }
        };
        let v: u64 = values
            .next()
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| StoreError::Invalid(format!("lessons of {id}: bad packed value")))?;
        out.push(unpack_lesson(v, date)?);
    }
    if values.next().is_some() {
        return Err(StoreError::Invalid(format!(
            "lessons of {id}: counts differ"
        )));
    }
    // group_concat and json_group_array see the rows in one order, the
    // primary key's; make sure it is (date, lesson).
    if !out
        .windows(2)
        .all(|w| (w[0].date, w[0].lesson) < (w[1].date, w[1].lesson))
    {
        out.sort_by_key(|l| (l.date, l.lesson));
    }
    Ok((id, out))
}

const STUDENT_COLUMNS: &str =
    "number, name, class, mentor, date_of_birth, left_on, bsn, onderwijsnummer";

/// The SQLite implementation of [`Store`]. Clones share the same pools
/// (and [`Store::close`] closes them for every clone).
#[derive(Clone, Debug)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    /// Committed changes of stored data by this store (and its clones),
    /// for [`Store::write_count`]. Sign-in sessions and audit entries do
    /// not count: they change no page.
    writes: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// The shared lock on `<db>.lock` while any clone lives: a restore
    /// cannot replace the file under this store. `None` for an in-memory
    /// database, and only then.
    lock: Option<std::sync::Arc<DatabaseLock>>,
}

impl SqliteStore {
    /// Opens (and with `create_if_missing`, creates) the database at
    /// `path_or_url` — a file path or a `sqlite:` URL — and brings its
    /// schema up to date with the embedded migrations.
    ///
    /// The store holds a shared lock on `<file>.lock` beside the database
    /// for as long as it lives (see [`SqliteStore::restore`]); while a
    /// restore holds that lock, opening is refused with
    /// [`StoreError::Locked`].
    pub async fn open(path_or_url: &str, create_if_missing: bool) -> Result<SqliteStore> {
        if is_memory_url(path_or_url) {
            return SqliteStore::open_in_memory().await;
        }
        let base = if path_or_url.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(path_or_url)
                .map_err(|e| StoreError::Config(format!("{path_or_url}: {e}")))?
        } else {
            SqliteConnectOptions::new().filename(Path::new(path_or_url))
        };
        let base = base
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            .pragma("temp_store", "MEMORY");
        let file = base.get_filename().to_owned();
        // A missing file that may not be created fails below; no lock file
        // is left beside it.
        let lock = if create_if_missing || file.exists() {
            let lock = DatabaseLock::shared(&file).map_err(|e| match e {
                LockError::Busy(p) => StoreError::Locked(format!(
                    "{} is held by a restore of {}",
                    p.display(),
                    file.display()
                )),
                LockError::Io(p, e) => StoreError::Database(sqlx::Error::Io(std::io::Error::new(
                    e.kind(),
                    format!("lock file {}: {e}", p.display()),
                ))),
            })?;
            Some(std::sync::Arc::new(lock))
        } else {
            None
        };

        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(WRITE_WAIT)
            .connect_with(
                base.clone()
                    .create_if_missing(create_if_missing)
                    .pragma("cache_size", (-WRITER_CACHE_KIB).to_string()),
            )
            .await?;
        MIGRATOR.run(&writer).await?;
        // Readers connect lazily, after the schema exists.
        let reader = SqlitePoolOptions::new()
            .max_connections(READERS)
            .connect_lazy_with(
                base.create_if_missing(false)
                    .pragma("cache_size", (-READER_CACHE_KIB).to_string()),
            );
        Ok(SqliteStore {
            writes: std::sync::Arc::default(),
            writer,
            reader,
            lock,
        })
    }

    /// A private in-memory database, for tests and demos. It lives as long
    /// as the store: one connection serves reads and writes, and it is never
    /// recycled (that would drop the database).
    pub async fn open_in_memory() -> Result<SqliteStore> {
        let options = SqliteConnectOptions::from_str("sqlite::memory:")
            .map_err(|e| StoreError::Config(e.to_string()))?
            .foreign_keys(true)
            .pragma("temp_store", "MEMORY");
        let pool = SqlitePoolOptions::new()
            .min_connections(1)
            .max_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(WRITE_WAIT)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(SqliteStore {
            writes: std::sync::Arc::default(),
            writer: pool.clone(),
            reader: pool,
            lock: None,
        })
    }

    /// Notes a committed change of stored data ([`Store::write_count`]).
    pub(crate) fn wrote(&self) {
        self.writes
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    /// Starts a write transaction holding SQLite's write lock.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }
}

/// Whether a URL or path names an in-memory database.
fn is_memory_url(s: &str) -> bool {
    s == ":memory:" || s == "sqlite::memory:" || s == "sqlite://:memory:"
}

/// The internal key of every student, by number.
async fn student_keys(conn: &mut SqliteConnection) -> Result<HashMap<String, i64>> {
    let rows: Vec<(String, i64)> = sqlx::query_as("SELECT number, id FROM students")
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().collect())
}

/// The internal key of one student.
async fn student_key(conn: &mut SqliteConnection, id: &StudentId) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM students WHERE number = ?1")
            .bind(id.as_str())
            .fetch_optional(conn)
            .await?,
    )
}

/// The highest id in `registration_history`. Rows only get larger ids, so
/// the difference before and after a write counts the history rows it made
/// without scanning the table.
async fn history_high_water(conn: &mut SqliteConnection) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT coalesce(max(id), 0) FROM registration_history")
            .fetch_one(conn)
            .await?,
    )
}

/// Records a change set and returns its id.
async fn new_change(
    conn: &mut SqliteConnection,
    at: DateTime<Utc>,
    by: &str,
    import_id: Option<i64>,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO changes (at, by, import_id) VALUES (?1, ?2, ?3) RETURNING id",
    )
    .bind(instant_text(at))
    .bind(by)
    .bind(import_id)
    .fetch_one(conn)
    .await?)
}

/// Decodes a registration from `row`, reading [`REG_COLUMNS`] from `at`.
/// Adds one row to the change feed (`change_feed`, migration 0010) inside
/// the caller's write transaction: the row commits with the change or not
/// at all. `student: None` is a change of many students or of none.
pub(crate) async fn feed(
    conn: &mut SqliteConnection,
    kind: ChangeKind,
    student: Option<&StudentId>,
    at: Option<DateTime<Utc>>,
) -> Result<()> {
    sqlx::query("INSERT INTO change_feed (kind, student, at) VALUES (?1, ?2, ?3)")
        .bind(kind.as_str())
        .bind(student.map(StudentId::as_str))
        .bind(at.map(instant_text))
        .persistent(true)
        .execute(conn)
        .await?;
    Ok(())
}

/// The latest version of one kind of document (`None`: none saved).
async fn stored_document_version(
    conn: &mut SqliteConnection,
    kind: DocumentKind,
) -> Result<Option<u32>> {
    let v: Option<i64> = sqlx::query_scalar("SELECT max(version) FROM documents WHERE kind = ?1")
        .bind(kind.as_str())
        .fetch_one(conn)
        .await?;
    v.map(|v| narrow("document version", v)).transpose()
}

fn record_from_row(student: &StudentId, row: &SqliteRow, at: usize) -> Result<RegistrationRecord> {
    Ok(RegistrationRecord {
        student: student.clone(),
        date: parse_date(row.try_get(at)?)?,
        lesson: narrow("lesson", row.try_get(at + 1)?)?,
        minutes: narrow("minutes", row.try_get(at + 2)?)?,
        code: row.try_get(at + 3)?,
        category: parse_category(row.try_get(at + 4)?)?,
        minutes_late: narrow("minutes_late", row.try_get(at + 5)?)?,
        note: row.try_get(at + 6)?,
    })
}

/// Decodes a student from [`STUDENT_COLUMNS`].
fn student_from_row(row: &SqliteRow) -> Result<StoredStudent> {
    let id = parse_student_id(row.try_get(0)?)?;
    // The message names the student, never the number itself.
    let bad = |what: &str, e: aanwezig_domain::NumberError| {
        StoreError::Invalid(format!("student {id}: stored {what} is not valid: {e}"))
    };
    let bsn = row
        .try_get::<Option<&str>, _>(6)?
        .map(|s| Bsn::parse(s).map_err(|e| bad("BSN", e)))
        .transpose()?;
    let onderwijsnummer = row
        .try_get::<Option<&str>, _>(7)?
        .map(|s| Onderwijsnummer::parse(s).map_err(|e| bad("onderwijsnummer", e)))
        .transpose()?;
    Ok(StoredStudent {
        student: Student {
            name: row.try_get(1)?,
            class: row.try_get(2)?,
            mentor: row.try_get(3)?,
            date_of_birth: parse_date(row.try_get(4)?)?,
            bsn,
            onderwijsnummer,
            id,
        },
        left_on: parse_opt_date(row.try_get(5)?)?,
    })
}

/// Decodes a provenance from `at`, `by`, `import_id` columns starting at `i`.
fn provenance_from_row(row: &SqliteRow, i: usize) -> Result<Provenance> {
    Ok(Provenance {
        at: parse_instant(row.try_get(i)?)?,
        by: row.try_get(i + 1)?,
        import_id: row.try_get(i + 2)?,
    })
}

/// Decodes one row of [`ALL_BY_STUDENT`].
fn student_registrations_from_row(row: &SqliteRow) -> Result<StudentRegistrations> {
    let id = parse_student_id(row.try_get(0)?)?;
    let records = decode_student_json(&id, row.try_get(1)?)?;
    Ok((id, records))
}

/// `a - b` for counts that the database guarantees to be ordered; an
/// error instead of a wrap-around if that guarantee ever broke.
fn minus(a: u64, b: u64) -> Result<u64> {
    a.checked_sub(b)
        .ok_or_else(|| StoreError::Invalid(format!("inconsistent counts: {a} - {b}")))
}

/// Adds a version of a settings document inside `tx`.
async fn save_document_tx(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    kind: DocumentKind,
    json: String,
    by: &str,
    at: DateTime<Utc>,
) -> Result<u32> {
    let version: i64 = sqlx::query_scalar(
        "INSERT INTO documents (kind, version, json, saved_by, saved_at)
         SELECT ?1, coalesce(max(version), 0) + 1, ?2, ?3, ?4 FROM documents WHERE kind = ?1
         RETURNING version",
    )
    .bind(kind.as_str())
    .bind(json)
    .bind(by)
    .bind(instant_text(at))
    .fetch_one(&mut **tx)
    .await?;
    narrow("document version", version)
}

/// [`Store::upsert_students_from`] inside `tx`. A number that is not
/// `given` keeps its stored value on update (and is empty on insert).
async fn upsert_students_tx(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    students: &[StoredStudent],
    given: NumbersGiven,
) -> Result<UpsertCounts> {
    let mut rows = Vec::with_capacity(students.len());
    for s in students {
        let st = &s.student;
        rows.push((
            st.id.as_str(),
            st.name.as_str(),
            st.class.as_str(),
            st.mentor.as_str(),
            date_text(st.date_of_birth)?,
            s.left_on.map(date_text).transpose()?,
            st.bsn.as_ref().filter(|_| given.bsn).map(Bsn::as_str),
            st.onderwijsnummer
                .as_ref()
                .filter(|_| given.onderwijsnummer)
                .map(Onderwijsnummer::as_str),
        ));
    }
    let json = to_json(&rows)?;
    let count = "SELECT count(*) FROM students";
    let before: i64 = sqlx::query_scalar(count).fetch_one(&mut **tx).await?;
    let written = sqlx::query(
        "INSERT INTO students
             (number, name, class, mentor, date_of_birth, left_on, bsn, onderwijsnummer)
         SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5,
                value->>6, value->>7
         FROM json_each(?1) WHERE true
         ON CONFLICT (number) DO UPDATE SET
             name = excluded.name,
             class = excluded.class,
             mentor = excluded.mentor,
             date_of_birth = excluded.date_of_birth,
             left_on = excluded.left_on,
             bsn = CASE WHEN ?2 THEN excluded.bsn ELSE students.bsn END,
             onderwijsnummer = CASE WHEN ?3 THEN excluded.onderwijsnummer
                                    ELSE students.onderwijsnummer END
         WHERE students.name IS NOT excluded.name
            OR students.class IS NOT excluded.class
            OR students.mentor IS NOT excluded.mentor
            OR students.date_of_birth IS NOT excluded.date_of_birth
            OR students.left_on IS NOT excluded.left_on
            OR (?2 AND students.bsn IS NOT excluded.bsn)
            OR (?3 AND students.onderwijsnummer IS NOT excluded.onderwijsnummer)",
    )
    .bind(json)
    .bind(given.bsn)
    .bind(given.onderwijsnummer)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    let after: i64 = sqlx::query_scalar(count).fetch_one(&mut **tx).await?;
    let inserted = to_u64(after - before)?;
    Ok(UpsertCounts {
        inserted,
        updated: minus(written, inserted)?,
        unchanged: minus(students.len() as u64, written)?,
    })
}

/// One import of registrations under way inside a transaction: its entry
/// in the imports log, its change set, and what it wrote so far.
struct ImportWriter {
    import_id: i64,
    change_id: i64,
    history_before: i64,
    keys: HashMap<String, i64>,
    rows: u64,
    written: u64,
    /// For an import of absences only: every lesson written, packed by
    /// [`pack_lesson`], and the first and last date.
    seen: Option<SeenLessons>,
}

/// The lessons of an import of absences only, to find the stored ones it
/// no longer has.
#[derive(Default)]
struct SeenLessons {
    packed: Vec<u64>,
    span: Option<(NaiveDate, NaiveDate)>,
}

/// One lesson as a number: the student's key, the date (days since
/// 2000-01-01) and the lesson, 8 bytes instead of a string key.
fn pack_lesson(student: i64, date: NaiveDate, lesson: u8) -> u64 {
    let epoch = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default();
    let days = u64::try_from((date - epoch).num_days()).unwrap_or(0) & 0xffff;
    let student = u64::try_from(student).unwrap_or(0) & 0xffff_ffff;
    (student << 24) | (days << 8) | u64::from(lesson)
}

/// Within the period of an import of absences only, every stored lesson
/// that is not present and that the import did not have becomes present
/// (rules.md §2: an unregistered lesson is a present one). Returns the
/// period and how many lessons changed.
async fn retract_absences(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    mut seen: SeenLessons,
    wanted: AbsencesOnly,
    change: (DateTime<Utc>, &str, Option<i64>),
) -> Result<(Option<(NaiveDate, NaiveDate)>, u64)> {
    let from = wanted.from.or(seen.span.map(|s| s.0));
    let until = wanted.until.or(seen.span.map(|s| s.1));
    let (Some(from), Some(until)) = (from, until) else {
        return Ok((None, 0));
    };
    seen.packed.sort_unstable();
    seen.packed.dedup();
    // The stored absences of the period, per student as one list of
    // `date:lesson`: one row per student rather than one per lesson keeps
    // the transfer out of the way.
    let stored: Vec<(i64, String)> = sqlx::query_as(
        "SELECT student_id, group_concat(date || ':' || lesson)
         FROM registrations
         WHERE date >= ?1 AND date <= ?2 AND category <> ?3
         GROUP BY student_id",
    )
    .bind(date_text(from)?)
    .bind(date_text(until)?)
    .bind(category_number(aanwezig_domain::Category::Present))
    .fetch_all(&mut **tx)
    .await?;
    let bad = || StoreError::Invalid("registratie onleesbaar bij het terugzetten".into());
    let mut gone = Vec::new();
    for (student, list) in stored {
        for item in list.split(',') {
            let (date_s, lesson) = item.split_once(':').ok_or_else(bad)?;
            let date = parse_date(date_s)?;
            let lesson: u8 = lesson.parse().map_err(|_| bad())?;
            if seen
                .packed
                .binary_search(&pack_lesson(student, date, lesson))
                .is_err()
            {
                gone.push((student, date_s.to_owned(), i64::from(lesson)));
            }
        }
    }
    if gone.is_empty() {
        return Ok((Some((from, until)), 0));
    }
    let change_id = new_change(tx, change.0, change.1, change.2).await?;
    for chunk in gone.chunks(BATCH) {
        let rows = vec!["(?,?,?)"; chunk.len()].join(",");
        let sql = format!(
            "UPDATE registrations SET category = ?, code = NULL, minutes_late = 0, note = NULL,
                 change_id = ?
             WHERE (student_id, date, lesson) IN (VALUES {rows})"
        );
        let mut q = sqlx::query(&sql)
            .bind(category_number(aanwezig_domain::Category::Present))
            .bind(change_id);
        for (student, date, lesson) in chunk {
            q = q.bind(student).bind(date).bind(lesson);
        }
        q.execute(&mut **tx).await?;
    }
    Ok((Some((from, until)), gone.len() as u64))
}

impl ImportWriter {
    /// Logs the import (its counts follow in [`ImportWriter::finish`]) and
    /// opens its change set.
    async fn begin(
        tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
        source: &ImportSource,
    ) -> Result<ImportWriter> {
        let keys = student_keys(tx).await?;
        let import_id: i64 = sqlx::query_scalar(
            "INSERT INTO imports
                 (file_name, sha256, imported_by, imported_at, rows, inserted, updated, unchanged)
             VALUES (?1, ?2, ?3, ?4, 0, 0, 0, 0)
             RETURNING id",
        )
        .bind(&source.file_name)
        .bind(&source.sha256)
        .bind(&source.imported_by)
        .bind(instant_text(source.at))
        .fetch_one(&mut **tx)
        .await?;
        let change_id = new_change(tx, source.at, &source.imported_by, Some(import_id)).await?;
        let history_before = history_high_water(tx).await?;
        Ok(ImportWriter {
            import_id,
            change_id,
            history_before,
            keys,
            rows: 0,
            written: 0,
            seen: None,
        })
    }

    /// Writes `records` in statements of [`BATCH`] rows.
    async fn write(
        &mut self,
        tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
        records: &[RegistrationRecord],
        full_sql: &str,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<()> {
        let change_id = self.change_id;
        if let Some(seen) = &mut self.seen {
            let mut keys = StudentKeys::new(&self.keys);
            seen.packed.reserve(records.len());
            for r in records {
                seen.packed
                    .push(pack_lesson(keys.get(&r.student)?, r.date, r.lesson));
                seen.span = Some(match seen.span {
                    None => (r.date, r.date),
                    Some((a, b)) => (a.min(r.date), b.max(r.date)),
                });
            }
        }
        let mut keys = StudentKeys::new(&self.keys);
        let tail_sql = upsert_sql(records.len() % BATCH);
        let mut chunks = records.chunks(BATCH);
        let mut next_batch = || -> Result<Option<(usize, SqliteQuery<'_>)>> {
            let Some(chunk) = chunks.next() else {
                return Ok(None);
            };
            let full = chunk.len() == BATCH;
            let sql = if full { full_sql } else { &tail_sql };
            // Only the full-size statement is worth keeping prepared.
            let query = bind_batch(sql, chunk, &mut keys, change_id)?.persistent(full);
            Ok(Some((chunk.len(), query)))
        };
        let mut pending = next_batch()?;
        while let Some((n, query)) = pending {
            // SQLite runs on the connection's worker thread: bind the next
            // batch on this one meanwhile.
            let (result, next) = futures::join!(query.execute(&mut **tx), async { next_batch() });
            self.written += result?.rows_affected();
            pending = next?;
            self.rows += n as u64;
            progress(self.rows);
        }
        Ok(())
    }

    /// Counts what the import did and records it in the imports log.
    async fn finish(
        mut self,
        tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
        seen: Option<&mut SeenLessons>,
    ) -> Result<ImportSummary> {
        if let (Some(all), Some(mine)) = (seen, self.seen.take()) {
            all.packed.extend(mine.packed);
            all.span = match (all.span, mine.span) {
                (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
                (x, y) => x.or(y),
            };
        }
        let updated = to_u64(history_high_water(tx).await? - self.history_before)?;
        let summary = ImportSummary {
            import_id: self.import_id,
            rows: self.rows,
            inserted: minus(self.written, updated)?,
            updated,
            unchanged: minus(self.rows, self.written)?,
        };
        sqlx::query(
            "UPDATE imports SET rows = ?2, inserted = ?3, updated = ?4, unchanged = ?5
             WHERE id = ?1",
        )
        .bind(self.import_id)
        .bind(to_i64(summary.rows)?)
        .bind(to_i64(summary.inserted)?)
        .bind(to_i64(summary.updated)?)
        .bind(to_i64(summary.unchanged)?)
        .execute(&mut **tx)
        .await?;
        Ok(summary)
    }
}

/// [`Store::import_registrations`] inside `tx`.
async fn import_registrations_tx(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    records: &[RegistrationRecord],
    source: &ImportSource,
    progress: &(dyn Fn(u64) + Send + Sync),
) -> Result<ImportSummary> {
    let mut writer = ImportWriter::begin(tx, source).await?;
    writer
        .write(tx, records, &upsert_sql(BATCH), progress)
        .await?;
    writer.finish(tx, None).await
}

/// One file of a bundle inside `tx`, written batch by batch as it arrives.
async fn import_batches_tx(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    mut batches: RecordBatches<'_>,
    source: &ImportSource,
    seen: Option<&mut SeenLessons>,
    progress: &(dyn Fn(u64) + Send + Sync),
) -> Result<ImportSummary> {
    let mut writer = ImportWriter::begin(tx, source).await?;
    if seen.is_some() {
        writer.seen = Some(SeenLessons::default());
    }
    let full_sql = upsert_sql(BATCH);
    while let Some(batch) = batches.next().await {
        writer.write(tx, &batch?, &full_sql, progress).await?;
    }
    writer.finish(tx, seen).await
}

impl SqliteStore {
    async fn save_document(
        &self,
        kind: DocumentKind,
        json: String,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<u32> {
        let mut tx = self.begin_write().await?;
        let version = save_document_tx(&mut tx, kind, json, by, at).await?;
        feed(&mut tx, ChangeKind::Document, None, Some(at)).await?;
        tx.commit().await?;
        self.wrote();
        Ok(version)
    }

    async fn latest_document(&self, kind: DocumentKind) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT json FROM documents WHERE kind = ?1 ORDER BY version DESC LIMIT 1",
        )
        .bind(kind.as_str())
        .fetch_optional(&self.reader)
        .await?)
    }
}

#[async_trait]
impl Students for SqliteStore {
    async fn upsert_students_from(
        &self,
        students: &[StoredStudent],
        given: NumbersGiven,
    ) -> Result<UpsertCounts> {
        let mut tx = self.begin_write().await?;
        let counts = upsert_students_tx(&mut tx, students, given).await?;
        if counts.inserted + counts.updated > 0 {
            // One student: name them; more: one change of many.
            let one = match students {
                [s] => Some(&s.student.id),
                _ => None,
            };
            feed(&mut tx, ChangeKind::Students, one, None).await?;
        }
        tx.commit().await?;
        self.wrote();
        Ok(counts)
    }

    async fn students(&self) -> Result<Vec<StoredStudent>> {
        let sql = format!("SELECT {STUDENT_COLUMNS} FROM students ORDER BY number");
        let rows = sqlx::query(&sql).fetch_all(&self.reader).await?;
        rows.iter().map(student_from_row).collect()
    }

    async fn student(&self, id: &StudentId) -> Result<Option<StoredStudent>> {
        let sql = format!("SELECT {STUDENT_COLUMNS} FROM students WHERE number = ?1");
        let row = sqlx::query(&sql)
            .bind(id.as_str())
            .fetch_optional(&self.reader)
            .await?;
        row.as_ref().map(student_from_row).transpose()
    }

    async fn student_count(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM students")
            .fetch_one(&self.reader)
            .await?;
        to_u64(n)
    }
}

#[async_trait]
impl Registrations for SqliteStore {
    async fn import_registrations(
        &self,
        records: &[RegistrationRecord],
        source: &ImportSource,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<ImportSummary> {
        // Everything runs in this one transaction: any `?` drops it
        // uncommitted, and sqlx rolls it back.
        let mut tx = self.begin_write().await?;
        let summary = import_registrations_tx(&mut tx, records, source, progress).await?;
        feed(&mut tx, ChangeKind::Registrations, None, Some(source.at)).await?;
        tx.commit().await?;
        self.wrote();
        Ok(summary)
    }

    async fn registrations_all(&self) -> Result<Vec<StudentRegistrations>> {
        self.registrations_stream().try_collect().await
    }

    fn registrations_stream(&self) -> BoxStream<'_, Result<StudentRegistrations>> {
        sqlx::query(ALL_BY_STUDENT)
            .fetch(&self.reader)
            .map(|row| student_registrations_from_row(&row?))
            .boxed()
    }

    fn lessons_stream(&self) -> BoxStream<'_, Result<StudentLessons>> {
        // Building the aggregates is most of the work and SQLite does it on
        // one thread per connection: split the students into ranges of
        // their internal id and read the ranges on parallel connections.
        let reader = &self.reader;
        futures::stream::once(async move {
            type Ranges<'s> = BoxStream<'s, Result<StudentLessons>>;
            let (lo, hi): (Option<i64>, Option<i64>) =
                sqlx::query_as("SELECT min(id), max(id) FROM students")
                    .fetch_one(reader)
                    .await?;
            let (Some(lo), Some(hi)) = (lo, hi) else {
                return Ok::<Ranges<'_>, StoreError>(futures::stream::empty().boxed());
            };
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            let parts = i64::try_from(cores.min(READERS as usize))
                .unwrap_or(1)
                .max(1);
            let width = (hi - lo) / parts + 1;
            let ranges =
                (0..parts).map(move |k| (lo + k * width, (lo + (k + 1) * width - 1).min(hi)));
            let streams = ranges.map(|(a, b)| {
                sqlx::query(LESSONS_BY_STUDENT)
                    .bind(a)
                    .bind(b)
                    .fetch(reader)
                    .map(|row| student_lessons_from_row(&row?))
                    .boxed()
            });
            Ok::<Ranges<'_>, StoreError>(futures::stream::select_all(streams).boxed())
        })
        .try_flatten()
        .boxed()
    }

    async fn student_registrations(&self, id: &StudentId) -> Result<Vec<RegistrationRecord>> {
        let mut conn = self.reader.acquire().await?;
        let key = student_key(&mut conn, id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("student {id}")))?;
        let sql = format!(
            "SELECT {REG_COLUMNS} FROM registrations WHERE student_id = ?1 ORDER BY date, lesson"
        );
        let rows = sqlx::query(&sql).bind(key).fetch_all(&mut *conn).await?;
        rows.iter().map(|row| record_from_row(id, row, 0)).collect()
    }

    async fn registration_history(&self, id: &StudentId) -> Result<Vec<HistoryEntry>> {
        let mut conn = self.reader.acquire().await?;
        let key = student_key(&mut conn, id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("student {id}")))?;
        let rows = sqlx::query(
            "SELECT h.date, h.lesson, h.minutes, h.code, h.category, h.minutes_late, h.note,
                    s.at, s.by, s.import_id, r.at, r.by, r.import_id
             FROM registration_history h
             JOIN changes s ON s.id = h.change_id
             JOIN changes r ON r.id = h.replaced_by
             WHERE h.student_id = ?1
             ORDER BY h.date, h.lesson, h.id",
        )
        .bind(key)
        .fetch_all(&mut *conn)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(HistoryEntry {
                    old: record_from_row(id, row, 0)?,
                    set: provenance_from_row(row, 7)?,
                    replaced: provenance_from_row(row, 10)?,
                })
            })
            .collect()
    }

    async fn registration_count(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM registrations")
            .fetch_one(&self.reader)
            .await?;
        to_u64(n)
    }

    async fn registration_states(
        &self,
        keys: &[LessonKey],
    ) -> Result<Vec<Option<StoredRegistration>>> {
        let mut conn = self.reader.acquire().await?;
        let mut student_ids: HashMap<&StudentId, Option<i64>> = HashMap::new();
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            let id = match student_ids.get(&key.student) {
                Some(id) => *id,
                None => {
                    let id = student_key(&mut conn, &key.student).await?;
                    student_ids.insert(&key.student, id);
                    id
                }
            };
            out.push(match id {
                Some(id) => current_state(&mut conn, id, key).await?,
                None => None,
            });
        }
        Ok(out)
    }

    async fn student_registration_states(&self, id: &StudentId) -> Result<Vec<StoredRegistration>> {
        let mut conn = self.reader.acquire().await?;
        let key = student_key(&mut conn, id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("student {id}")))?;
        let sql = format!(
            "SELECT {STATE_COLUMNS} FROM registrations r JOIN changes c ON c.id = r.change_id
             WHERE r.student_id = ?1 ORDER BY r.date, r.lesson"
        );
        let rows = sqlx::query(&sql).bind(key).fetch_all(&mut *conn).await?;
        rows.iter().map(|row| state_from_row(id, row)).collect()
    }

    async fn save_registrations(
        &self,
        writes: &[LessonWrite],
        changed_by: &str,
        at: DateTime<Utc>,
    ) -> Result<Vec<WrittenLesson>> {
        // BEGIN IMMEDIATE takes SQLite's write lock before the first read, so
        // no other writer (in this process or another) can change a lesson
        // between its check below and its write.
        let mut tx = self.begin_write().await?;
        // One change set for the whole batch, made only when something changes.
        let mut change_id = None;
        let mut written = Vec::with_capacity(writes.len());
        let mut stale = Vec::new();
        let mut checked = HashSet::new();
        // The students whose lessons changed, in the order first written:
        // one change-feed row each.
        let mut touched: Vec<&StudentId> = Vec::new();
        let mut touched_set: HashSet<&StudentId> = HashSet::new();
        for write in writes {
            let record = &write.record;
            let key = LessonKey::of(record);
            let student_id = student_key(&mut tx, &record.student)
                .await?
                .ok_or_else(|| {
                    StoreError::Conflict(format!(
                        "registration for unknown student {}",
                        record.student
                    ))
                })?;
            let previous = current_state(&mut tx, student_id, &key).await?;
            if checked.insert(key.clone()) {
                if let Some(s) = check(&mut tx, student_id, write, previous.as_ref(), key).await? {
                    stale.push(s);
                }
            }
            if !stale.is_empty() {
                // Nothing will be written; keep checking to list every stale lesson.
                continue;
            }
            let revision = match &previous {
                // Nothing to change, so no change set and no history.
                Some(p) if p.record == *record => p.revision,
                _ => {
                    let id = match change_id {
                        Some(id) => id,
                        None => {
                            let id = new_change(&mut tx, at, changed_by, None).await?;
                            change_id = Some(id);
                            id
                        }
                    };
                    write_one(&mut tx, student_id, record, id).await?;
                    if touched_set.insert(&record.student) {
                        touched.push(&record.student);
                    }
                    revision_of(id)?
                }
            };
            written.push(WrittenLesson { previous, revision });
        }
        if !stale.is_empty() {
            tx.rollback().await?;
            return Err(StoreError::Stale(stale));
        }
        for student in touched {
            feed(&mut tx, ChangeKind::Registrations, Some(student), Some(at)).await?;
        }
        tx.commit().await?;
        self.wrote();
        Ok(written)
    }
}

#[async_trait]
impl Imports for SqliteStore {
    async fn import_bundle(
        &self,
        bundle: ImportBundle<'_>,
        progress: &(dyn Fn(usize, u64) + Send + Sync),
    ) -> Result<BundleSummary> {
        let documents = bundle_documents(&bundle)?;
        // One transaction for the whole command: a failure anywhere, also
        // in the last file of registrations, leaves everything as it was.
        let mut tx = self.begin_write().await?;
        let mut out = BundleSummary::default();
        for (kind, json) in documents {
            let version = save_document_tx(&mut tx, kind, json, bundle.by, bundle.at).await?;
            note_version(&mut out, kind, version);
        }
        if !bundle.students.is_empty() {
            out.students =
                Some(upsert_students_tx(&mut tx, bundle.students, bundle.student_numbers).await?);
        }
        let mut seen = bundle.absences_only.map(|_| SeenLessons::default());
        let mut last_source = None;
        for (i, (batches, source)) in bundle.registrations.into_iter().enumerate() {
            let each = |n: u64| progress(i, n);
            let summary =
                import_batches_tx(&mut tx, batches, &source, seen.as_mut(), &each).await?;
            last_source = Some((source.imported_by, summary.import_id));
            out.registrations.push(summary);
        }
        if let (Some(wanted), Some(seen), Some((by, import_id))) =
            (bundle.absences_only, seen, last_source)
        {
            let (covered, retracted) =
                retract_absences(&mut tx, seen, wanted, (bundle.at, &by, Some(import_id))).await?;
            out.covered = covered;
            out.retracted = retracted;
        }
        // One change of the whole school: followers reload it.
        let kind = if !out.registrations.is_empty() {
            ChangeKind::Registrations
        } else if out.students.is_some() {
            ChangeKind::Students
        } else {
            ChangeKind::Document
        };
        feed(&mut tx, kind, None, Some(bundle.at)).await?;
        tx.commit().await?;
        self.wrote();
        Ok(out)
    }

    async fn imports(&self) -> Result<Vec<ImportLogEntry>> {
        let rows = sqlx::query(
            "SELECT id, file_name, sha256, imported_by, imported_at, rows, inserted, updated,
                    unchanged
             FROM imports ORDER BY id",
        )
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ImportLogEntry {
                    summary: ImportSummary {
                        import_id: row.try_get(0)?,
                        rows: to_u64(row.try_get(5)?)?,
                        inserted: to_u64(row.try_get(6)?)?,
                        updated: to_u64(row.try_get(7)?)?,
                        unchanged: to_u64(row.try_get(8)?)?,
                    },
                    source: ImportSource {
                        file_name: row.try_get(1)?,
                        sha256: row.try_get(2)?,
                        imported_by: row.try_get(3)?,
                        at: parse_instant(row.try_get(4)?)?,
                    },
                })
            })
            .collect()
    }
}

#[async_trait]
impl Documents for SqliteStore {
    async fn document_version(&self, kind: DocumentKind) -> Result<Option<u32>> {
        let mut conn = self.reader.acquire().await?;
        stored_document_version(&mut conn, kind).await
    }

    async fn save_document_checked(
        &self,
        doc: DocumentWrite<'_>,
        check: VersionCheck,
        by: &str,
        at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<u32> {
        let kind = doc.kind();
        // Validated as by the unchecked methods, before the write lock.
        let json = document_json(doc)?;
        // The version is read under the write lock (BEGIN IMMEDIATE), so no
        // other writer, in this process or another, saves in between.
        let mut tx = self.begin_write().await?;
        let stored = stored_document_version(&mut tx, kind).await?;
        if !check.allows(stored) {
            tx.rollback().await?;
            return Err(StoreError::StaleVersion {
                expected: check,
                stored,
            });
        }
        let version = save_document_tx(&mut tx, kind, json, by, at).await?;
        insert_audit(&mut tx, audit).await?;
        feed(&mut tx, ChangeKind::Document, None, Some(at)).await?;
        tx.commit().await?;
        self.wrote();
        Ok(version)
    }

    async fn save_calendar(
        &self,
        years: &[SchoolYear],
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<u32> {
        validate_calendar(years)?;
        self.save_document(DocumentKind::Calendar, to_json(years)?, by, at)
            .await
    }

    async fn calendar(&self) -> Result<Option<Vec<SchoolYear>>> {
        let Some(json) = self.latest_document(DocumentKind::Calendar).await? else {
            return Ok(None);
        };
        let years: Vec<SchoolYear> = serde_json::from_str(&json)
            .map_err(|e| StoreError::Invalid(format!("stored calendar: {e}")))?;
        validate_calendar(&years)?;
        Ok(Some(years))
    }

    async fn save_policy(&self, policy: &Policy, by: &str, at: DateTime<Utc>) -> Result<u32> {
        policy
            .validate()
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        self.save_document(DocumentKind::Policy, to_json(policy)?, by, at)
            .await
    }

    async fn policy(&self) -> Result<Option<Policy>> {
        let Some(json) = self.latest_document(DocumentKind::Policy).await? else {
            return Ok(None);
        };
        let policy: Policy = serde_json::from_str(&json)
            .map_err(|e| StoreError::Invalid(format!("stored policy: {e}")))?;
        policy
            .validate()
            .map_err(|e| StoreError::Invalid(format!("stored policy: {e}")))?;
        Ok(Some(policy))
    }

    async fn save_settings(
        &self,
        kind: DocumentKind,
        json: &str,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<u32> {
        check_settings(kind, json)?;
        self.save_document(kind, json.to_owned(), by, at).await
    }

    async fn timetable(&self) -> Result<Option<aanwezig_domain::Timetable>> {
        match self.latest_document(DocumentKind::Timetable).await? {
            Some(json) => serde_json::from_str(&json)
                .map(Some)
                .map_err(|e| StoreError::Invalid(format!("opgeslagen rooster: {e}"))),
            None => Ok(None),
        }
    }

    async fn settings(&self, kind: DocumentKind) -> Result<Option<String>> {
        self.latest_document(kind).await
    }

    async fn document_versions(&self, kind: DocumentKind) -> Result<Vec<DocumentVersion>> {
        let rows = sqlx::query(
            "SELECT version, json, saved_by, saved_at FROM documents
             WHERE kind = ?1 ORDER BY version",
        )
        .bind(kind.as_str())
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(DocumentVersion {
                    kind,
                    version: narrow("document version", row.try_get(0)?)?,
                    json: row.try_get(1)?,
                    saved_by: row.try_get(2)?,
                    saved_at: parse_instant(row.try_get(3)?)?,
                })
            })
            .collect()
    }
}

#[async_trait]
impl Accounts for SqliteStore {
    async fn create_user(&self, user: &User) -> Result<String> {
        self.create_user_(user).await
    }

    async fn users(&self) -> Result<Vec<User>> {
        self.users_().await
    }

    async fn user(&self, username: &str) -> Result<Option<User>> {
        self.user_(username).await
    }

    async fn update_user(&self, user: &User) -> Result<()> {
        self.update_user_(user).await
    }

    async fn delete_user(&self, username: &str) -> Result<()> {
        self.delete_user_(username).await
    }

    async fn user_count(&self) -> Result<u64> {
        self.user_count_().await
    }

    async fn create_session(&self, session: &SessionRecord) -> Result<()> {
        self.create_session_(session).await
    }

    async fn session(&self, id_hash: &str) -> Result<Option<SessionRecord>> {
        self.session_(id_hash).await
    }

    async fn session_with_user(
        &self,
        id_hash: &str,
    ) -> Result<Option<(SessionRecord, Option<User>)>> {
        self.session_with_user_(id_hash).await
    }

    async fn touch_session(&self, id_hash: &str, at: DateTime<Utc>) -> Result<()> {
        self.touch_session_(id_hash, at).await
    }

    async fn set_feed_token(
        &self,
        username: &str,
        token_hash: &str,
        at: DateTime<Utc>,
    ) -> Result<()> {
        self.set_feed_token_(username, token_hash, at).await
    }

    async fn feed_token_user(&self, token_hash: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT username FROM feed_tokens WHERE token_hash = ?1")
                .bind(token_hash)
                .fetch_optional(&self.reader)
                .await?,
        )
    }

    async fn delete_feed_token(&self, username: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM feed_tokens WHERE username = ?1")
            .bind(username)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() > 0 {
            feed(&mut tx, ChangeKind::Accounts, None, None).await?;
        }
        tx.commit().await?;
        if done.rows_affected() > 0 {
            self.wrote();
        }
        Ok(())
    }

    async fn delete_session(&self, id_hash: &str) -> Result<()> {
        self.delete_session_(id_hash).await
    }

    async fn delete_user_sessions(&self, username: &str) -> Result<u64> {
        self.delete_user_sessions_(username).await
    }

    async fn delete_sessions_idle_since(&self, before: DateTime<Utc>) -> Result<u64> {
        self.delete_sessions_idle_since_(before).await
    }
}

#[async_trait]
impl AuditLog for SqliteStore {
    async fn audit(&self, entry: &AuditEntry) -> Result<()> {
        self.audit_(entry).await
    }

    async fn audit_log(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
        self.audit_log_(filter).await
    }
}

#[async_trait]
impl Cases for SqliteStore {
    async fn students_involving(
        &self,
        who: &aanwezig_domain::case::PartnerIdentity<'_>,
    ) -> Result<Vec<StudentId>> {
        self.students_involving_(who).await
    }

    async fn case_with_version(&self, student: &StudentId) -> Result<Option<(Case, u32)>> {
        self.case_with_version_(student).await
    }

    async fn save_case_checked(
        &self,
        case: &Case,
        check: VersionCheck,
        by: &str,
        at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<u32> {
        self.save_case_checked_(case, check, by, at, audit).await
    }

    async fn save_case(&self, case: &Case, by: &str, at: DateTime<Utc>) -> Result<u32> {
        self.save_case_(case, by, at).await
    }

    async fn case(&self, student: &StudentId) -> Result<Option<Case>> {
        self.case_(student).await
    }

    async fn student_cases(&self, student: &StudentId) -> Result<Vec<Case>> {
        self.student_cases_(student).await
    }

    async fn cases(&self, open_only: bool) -> Result<Vec<Case>> {
        self.cases_(open_only).await
    }

    async fn case_versions(&self, student: &StudentId) -> Result<Vec<SavedVersion>> {
        self.case_versions_(student).await
    }

    async fn add_call(&self, student: &StudentId, call: &aanwezig_domain::Call) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let key = student_key(&mut tx, student)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("student {student}")))?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO calls (student_id, absent_from, called_on, by_user, reached, how,
                                school_can_do, expected_back, worries)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             RETURNING id",
        )
        .bind(key)
        .bind(date_text(call.absent_from)?)
        .bind(date_text(call.on)?)
        .bind(&call.by)
        .bind(call.reached.as_str())
        .bind(&call.how)
        .bind(&call.school_can_do)
        .bind(call.expected_back.map(date_text).transpose()?)
        .bind(call.worries)
        .fetch_one(&mut *tx)
        .await?;
        feed(&mut tx, ChangeKind::Call, Some(student), None).await?;
        tx.commit().await?;
        self.wrote();
        Ok(id)
    }

    async fn student_calls(&self, student: &StudentId) -> Result<Vec<aanwezig_domain::Call>> {
        let rows = sqlx::query(&format!(
            "SELECT s.number, {CALL_COLUMNS} FROM calls c JOIN students s ON s.id = c.student_id
             WHERE s.number = ?1 ORDER BY c.called_on, c.id"
        ))
        .bind(student.as_str())
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|r| call_from_row(r).map(|(_, c)| c))
            .collect()
    }

    async fn calls_since(
        &self,
        from: NaiveDate,
    ) -> Result<Vec<(StudentId, aanwezig_domain::Call)>> {
        let rows = sqlx::query(&format!(
            "SELECT s.number, {CALL_COLUMNS} FROM calls c JOIN students s ON s.id = c.student_id
             WHERE c.absent_from >= ?1 ORDER BY c.called_on, c.id"
        ))
        .bind(date_text(from)?)
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(call_from_row).collect()
    }
}

#[async_trait]
impl Meldingen for SqliteStore {
    async fn students_with_sent_meldingen(&self) -> Result<Vec<StudentId>> {
        self.students_with_sent_meldingen_().await
    }

    async fn melding_with_version(&self, id: i64) -> Result<Option<(MeldingDraft, u32)>> {
        self.melding_with_version_(id).await
    }

    async fn save_melding_checked(
        &self,
        id: Option<i64>,
        draft: &MeldingDraft,
        check: VersionCheck,
        by: &str,
        at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<(i64, u32)> {
        self.save_melding_checked_(id, draft, check, by, at, audit)
            .await
    }

    async fn save_melding(
        &self,
        id: Option<i64>,
        draft: &MeldingDraft,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<i64> {
        self.save_melding_(id, draft, by, at).await
    }

    async fn melding(&self, id: i64) -> Result<Option<MeldingDraft>> {
        self.melding_(id).await
    }

    async fn meldingen(&self, filter: &MeldingFilter) -> Result<Vec<(i64, MeldingDraft)>> {
        self.meldingen_(filter).await
    }

    async fn melding_versions(&self, id: i64) -> Result<Vec<SavedVersion>> {
        self.melding_versions_(id).await
    }

    async fn add_afstemming(&self, a: &aanwezig_domain::duo_work::Afstemming) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let key = student_key(&mut tx, &a.student)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("student {}", a.student)))?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO duo_afstemmingen (student_id, rule, fired_on, melding_id, agreed_on,
                                           with_whom, why, by_user, recorded_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             RETURNING id",
        )
        .bind(key)
        .bind(a.signal.rule.as_str())
        .bind(date_text(a.signal.fired_on)?)
        .bind(a.melding)
        .bind(date_text(a.on)?)
        .bind(&a.with_whom)
        .bind(&a.why)
        .bind(&a.by)
        .bind(instant_text(a.recorded_at))
        .fetch_one(&mut *tx)
        .await?;
        feed(
            &mut tx,
            ChangeKind::Afstemming,
            Some(&a.student),
            Some(a.recorded_at),
        )
        .await?;
        tx.commit().await?;
        self.wrote();
        Ok(id)
    }

    async fn afstemmingen(
        &self,
        student: Option<&StudentId>,
    ) -> Result<Vec<(i64, aanwezig_domain::duo_work::Afstemming)>> {
        let rows = sqlx::query(&format!(
            "SELECT a.id, s.number, {AFSTEMMING_COLUMNS}
               FROM duo_afstemmingen a JOIN students s ON s.id = a.student_id
              WHERE ?1 IS NULL OR s.number = ?1
              ORDER BY a.id"
        ))
        .bind(student.map(StudentId::as_str))
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(afstemming_from_row).collect()
    }
}

#[async_trait]
impl Retention for SqliteStore {
    async fn students_left_before(&self, date: NaiveDate) -> Result<Vec<StoredStudent>> {
        self.students_left_before_(date).await
    }

    async fn purge_student(&self, student: &StudentId) -> Result<PurgeCounts> {
        self.purge_student_(student).await
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn write_count(&self) -> u64 {
        self.writes.load(std::sync::atomic::Ordering::Acquire)
    }

    async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}

/// The columns of a lesson's state: [`REG_COLUMNS`] of `registrations r`,
/// then its change id and the change's `at`, `by`, `import_id` from
/// `changes c`.
const STATE_COLUMNS: &str = "r.date, r.lesson, r.minutes, r.code, r.category, r.minutes_late, \
    r.note, r.change_id, c.at, c.by, c.import_id";

/// A change id as a revision.
fn revision_of(change_id: i64) -> Result<Revision> {
    Revision::new(to_u64(change_id)?)
        .ok_or_else(|| StoreError::Invalid(format!("change id {change_id}")))
}

/// Decodes a row of [`STATE_COLUMNS`].
fn state_from_row(student: &StudentId, row: &SqliteRow) -> Result<StoredRegistration> {
    Ok(StoredRegistration {
        record: record_from_row(student, row, 0)?,
        revision: revision_of(row.try_get(7)?)?,
        set: provenance_from_row(row, 8)?,
    })
}

/// The stored state of one lesson of the student with internal key
/// `student_id`.
async fn current_state(
    conn: &mut SqliteConnection,
    student_id: i64,
    key: &LessonKey,
) -> Result<Option<StoredRegistration>> {
    let sql = format!(
        "SELECT {STATE_COLUMNS} FROM registrations r JOIN changes c ON c.id = r.change_id
         WHERE r.student_id = ?1 AND r.date = ?2 AND r.lesson = ?3"
    );
    sqlx::query(&sql)
        .bind(student_id)
        .bind(date_text(key.date)?)
        .bind(key.lesson)
        .fetch_optional(conn)
        .await?
        .map(|row| state_from_row(&key.student, &row))
        .transpose()
}

/// Checks one write against the stored state `current` (see
/// [`Store::save_registrations`]): the stale lesson, or `None` when the
/// write may go ahead.
async fn check(
    conn: &mut SqliteConnection,
    student_id: i64,
    write: &LessonWrite,
    current: Option<&StoredRegistration>,
    key: LessonKey,
) -> Result<Option<StaleLesson>> {
    if write.expected.passes(current, &write.record) {
        return Ok(None);
    }
    let then = match write.expected.change_id() {
        Some(change_id) => state_at(conn, student_id, &key, change_id).await?,
        None => None,
    };
    Ok(Some(StaleLesson {
        key,
        expected: write.expected,
        then,
        now: current.cloned(),
    }))
}

/// The state a lesson had at revision `change_id`, from its history.
async fn state_at(
    conn: &mut SqliteConnection,
    student_id: i64,
    key: &LessonKey,
    change_id: i64,
) -> Result<Option<RegistrationRecord>> {
    // One change set can write a key twice (an import naming it twice): the
    // last history row of that change is the state it ended with.
    let sql = format!(
        "SELECT {REG_COLUMNS} FROM registration_history
         WHERE student_id = ?1 AND date = ?2 AND lesson = ?3 AND change_id = ?4
         ORDER BY id DESC LIMIT 1"
    );
    sqlx::query(&sql)
        .bind(student_id)
        .bind(date_text(key.date)?)
        .bind(key.lesson)
        .bind(change_id)
        .fetch_optional(conn)
        .await?
        .map(|row| record_from_row(&key.student, &row, 0))
        .transpose()
}

/// Writes one lesson as change `change_id` (the trigger keeps the old state
/// when this updates).
async fn write_one(
    conn: &mut SqliteConnection,
    student_id: i64,
    record: &RegistrationRecord,
    change_id: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO registrations
             (student_id, date, lesson, minutes, code, category, minutes_late, note, change_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (student_id, date, lesson) DO UPDATE SET
             minutes = excluded.minutes,
             code = excluded.code,
             category = excluded.category,
             minutes_late = excluded.minutes_late,
             note = excluded.note,
             change_id = excluded.change_id",
    )
    .bind(student_id)
    .bind(date_text(record.date)?)
    .bind(record.lesson)
    .bind(record.minutes)
    .bind(&record.code)
    .bind(category_number(record.category))
    .bind(record.minutes_late)
    .bind(&record.note)
    .bind(change_id)
    .execute(conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod conformance {
    //! The shared suite against a real SQLite file in a temp dir.
    use super::SqliteStore;
    use aanwezig_storage::Store;

    async fn fresh() -> (tempfile::TempDir, Box<dyn Store>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("aanwezig.db");
        let store = SqliteStore::open(path.to_str().unwrap(), true)
            .await
            .unwrap();
        (dir, Box::new(store))
    }

    aanwezig_storage::conformance_tests!(fresh);

    mod in_memory {
        use crate::SqliteStore;
        use aanwezig_storage::Store;

        async fn fresh() -> ((), Box<dyn Store>) {
            ((), Box::new(SqliteStore::open_in_memory().await.unwrap()))
        }

        aanwezig_storage::conformance_tests!(fresh);
    }
}

#[cfg(test)]
mod connection_settings {
    use super::SqliteStore;
    use aanwezig_storage::{Store, StoreError};

    #[tokio::test]
    async fn every_connection_has_the_documented_pragmas() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.db");
        let store = SqliteStore::open(path.to_str().unwrap(), true)
            .await
            .unwrap();
        for pool in [&store.writer, &store.reader] {
            let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
                .fetch_one(pool)
                .await
                .unwrap();
            let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
                .fetch_one(pool)
                .await
                .unwrap();
            let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
                .fetch_one(pool)
                .await
                .unwrap();
            let busy: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
                .fetch_one(pool)
                .await
                .unwrap();
            assert_eq!((fk, sync, mode.as_str()), (1, 1, "wal"));
            assert!(busy >= 1000, "busy timeout {busy} ms");
        }
        // With foreign keys on, the writer itself refuses a dangling row.
        let err = sqlx::query(
            "INSERT INTO changes (at, by, import_id) VALUES ('2025-01-01T00:00:00Z', 'x', 42)",
        )
        .execute(&store.writer)
        .await
        .map_err(StoreError::from);
        assert!(matches!(err, Err(StoreError::Conflict(_))), "{err:?}");
        store.close().await;
    }
}

/// How often [`Changes::wait_for_change`] looks at the feed. SQLite has no
/// notification across processes, so a follower polls one indexed `max()`.
const FEED_POLL: Duration = Duration::from_millis(100);

#[async_trait]
impl Changes for SqliteStore {
    async fn last_change(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT coalesce(max(number), 0) FROM change_feed")
                .persistent(true)
                .fetch_one(&self.reader)
                .await?,
        )
    }

    async fn changes_since(&self, after: i64, limit: u32) -> Result<Vec<Change>> {
        let rows: Vec<(i64, String, Option<String>)> = sqlx::query_as(
            "SELECT number, kind, student FROM change_feed
             WHERE number > ?1 ORDER BY number LIMIT ?2",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        rows.into_iter()
            .map(|(number, kind, student)| {
                Ok(Change {
                    number,
                    kind: ChangeKind::parse(&kind).ok_or_else(|| {
                        StoreError::Invalid(format!("change {number}: unknown kind {kind:?}"))
                    })?,
                    student: student.as_deref().map(parse_student_id).transpose()?,
                })
            })
            .collect()
    }

    async fn wait_for_change(&self, after: i64, timeout: Duration) -> Result<()> {
        let poll = async {
            loop {
                if self.last_change().await? > after {
                    return Ok(());
                }
                tokio::time::sleep(FEED_POLL).await;
            }
        };
        match tokio::time::timeout(timeout, poll).await {
            Ok(result) => result,
            Err(_elapsed) => Ok(()),
        }
    }
}
