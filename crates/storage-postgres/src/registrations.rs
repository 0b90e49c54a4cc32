//! Students, registrations and imports on PostgreSQL.
//!
//! # Import
//!
//! Records go in batches (the caller's, or [`BATCH_ROWS`] of a slice):
//! each batch is encoded in Rust as `COPY` text, one line per record with
//! the student's internal key (an unknown student fails here, before
//! anything is sent), sent with `COPY import_stage FROM STDIN` into a
//! temporary table, and moved into `registrations` by one set-based
//! `INSERT ... SELECT ... ON CONFLICT DO UPDATE ... WHERE <a column
//! differs>`. The history trigger (migration 0002) writes the old state of
//! every updated row in the same statement.
//!
//! A key given twice in one batch cannot be upserted by one statement
//! (PostgreSQL refuses to change a row twice in a statement), and the
//! records must apply in order: the batch's records get a *round*, 1 for
//! the first occurrence of a key, 2 for its second, and so on, and the
//! upsert runs once per round. A batch whose keys strictly increase (an
//! export sorted by student, date and lesson) is checked in one pass and
//! needs one round.

use aanwezig_storage::documents::{bundle_documents, note_version};
use std::collections::{HashMap, HashSet};

use aanwezig_domain::{
    Bsn, Category, NumbersGiven, Onderwijsnummer, RegistrationRecord, Student, StudentId,
};
use aanwezig_storage::{
    AbsencesOnly, BundleSummary, ChangeKind, HistoryEntry, ImportBundle, ImportLogEntry,
    ImportSource, ImportSummary, Imports, LessonKey, LessonState, LessonWrite, Provenance,
    RecordBatches, Registrations, Revision, StaleLesson, StoreError, StoredRegistration,
    StoredStudent, StudentLessons, StudentRegistrations, Students, UpsertCounts, WrittenLesson,
    BATCH_ROWS,
};
use async_trait::async_trait;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use crate::documents::save_document_tx;
use crate::error::{minus, narrow, to_i64, to_u64, Db, Result};
use crate::{parse_student_id, record_change, record_changes, retrying, student_keys, PgStore};

pub(crate) const STUDENT_COLUMNS: &str =
    "number, name, class, mentor, date_of_birth, left_on, bsn, onderwijsnummer";

/// Decodes a student from [`STUDENT_COLUMNS`].
pub(crate) fn student_from_row(row: &PgRow) -> Result<StoredStudent> {
    let id = parse_student_id(row.try_get(0).db()?)?;
    // The message names the student, never the number itself.
    let bad = |what: &str, e: aanwezig_domain::NumberError| {
        StoreError::Invalid(format!("student {id}: stored {what} is not valid: {e}"))
    };
    let bsn = row
        .try_get::<Option<&str>, _>(6)
        .db()?
        .map(|s| Bsn::parse(s).map_err(|e| bad("BSN", e)))
        .transpose()?;
    let onderwijsnummer = row
        .try_get::<Option<&str>, _>(7)
        .db()?
        .map(|s| Onderwijsnummer::parse(s).map_err(|e| bad("onderwijsnummer", e)))
        .transpose()?;
    Ok(StoredStudent {
        student: Student {
            name: row.try_get(1).db()?,
            class: row.try_get(2).db()?,
            mentor: row.try_get(3).db()?,
            date_of_birth: row.try_get(4).db()?,
            bsn,
            onderwijsnummer,
            id,
        },
        left_on: row.try_get(5).db()?,
    })
}

/// Parses a stored category number.
fn parse_category(n: i64) -> Result<Category> {
    u8::try_from(n)
        .ok()
        .and_then(Category::from_u8)
        .ok_or_else(|| StoreError::Invalid(format!("unknown category number {n}")))
}

/// The stored number of a category: the domain's explicit discriminant.
fn category_number(c: Category) -> i16 {
    i16::from(c as u8)
}

/// A change set's id as a revision.
fn revision_of(change_id: i64) -> Result<Revision> {
    Revision::new(to_u64(change_id)?)
        .ok_or_else(|| StoreError::Invalid(format!("change id {change_id}")))
}

/// Columns of a registration after its key, in the order the decoders read.
const REG_COLUMNS: &str = "date, lesson, minutes, code, category, minutes_late, note";

/// Decodes a registration from `row`, reading [`REG_COLUMNS`] from `at`.
fn record_from_row(student: &StudentId, row: &PgRow, at: usize) -> Result<RegistrationRecord> {
    Ok(RegistrationRecord {
        student: student.clone(),
        date: row.try_get(at).db()?,
        lesson: narrow("lesson", row.try_get::<i16, _>(at + 1).db()?)?,
        minutes: narrow("minutes", row.try_get::<i32, _>(at + 2).db()?)?,
        code: row.try_get(at + 3).db()?,
        category: parse_category(row.try_get::<i16, _>(at + 4).db()?.into())?,
        minutes_late: narrow("minutes_late", row.try_get::<i32, _>(at + 5).db()?)?,
        note: row.try_get(at + 6).db()?,
    })
}

/// Decodes a provenance from `at`, `by`, `import_id` columns starting at `i`.
fn provenance_from_row(row: &PgRow, i: usize) -> Result<Provenance> {
    Ok(Provenance {
        at: row.try_get(i).db()?,
        by: row.try_get(i + 1).db()?,
        import_id: row.try_get(i + 2).db()?,
    })
}

/// The columns of a lesson's state: [`REG_COLUMNS`] of `registrations r`,
/// then its change id and the change set's `at`, `by`, `import_id`.
const STATE_COLUMNS: &str = "r.date, r.lesson, r.minutes, r.code, r.category, r.minutes_late, \
    r.note, r.change_id, c.at, c.by, c.import_id";

/// Decodes a row of [`STATE_COLUMNS`].
fn state_from_row(student: &StudentId, row: &PgRow) -> Result<StoredRegistration> {
    Ok(StoredRegistration {
        record: record_from_row(student, row, 0)?,
        revision: revision_of(row.try_get(7).db()?)?,
        set: provenance_from_row(row, 8)?,
    })
}

/// Records a change set and returns its id.
async fn new_change_set(
    conn: &mut PgConnection,
    at: DateTime<Utc>,
    by: &str,
    import_id: Option<i64>,
) -> Result<i64> {
    sqlx::query_scalar("INSERT INTO changes (at, by, import_id) VALUES ($1, $2, $3) RETURNING id")
        .bind(at)
        .bind(by)
        .bind(import_id)
        .fetch_one(conn)
        .await
        .db()
}

/// Gives each item its round: 1 for the first occurrence of its key, 2 for
/// the second, ... Returns the rounds (empty when every item is round 1)
/// and the number of rounds.
fn rounds<K: std::hash::Hash + Eq + Copy + Ord>(keys: &[K]) -> (Vec<u32>, u32) {
    if keys.windows(2).all(|w| w[0] < w[1]) {
        return (Vec::new(), u32::from(!keys.is_empty()));
    }
    let mut seen: HashMap<K, u32> = HashMap::with_capacity(keys.len());
    let mut max = 0;
    let out = keys
        .iter()
        .map(|k| {
            let n = seen.entry(*k).or_insert(0);
            *n += 1;
            max = max.max(*n);
            *n
        })
        .collect();
    (out, max)
}

// --- students -------------------------------------------------------------

/// [`Students::upsert_students_from`] inside a transaction. A number that
/// is not `given` keeps its stored value on update (and is empty on
/// insert). A student given twice is written twice, in order, by rounds.
pub(crate) async fn upsert_students_tx(
    conn: &mut PgConnection,
    students: &[StoredStudent],
    given: NumbersGiven,
) -> Result<UpsertCounts> {
    let numbers: Vec<&str> = students.iter().map(|s| s.student.id.as_str()).collect();
    let (round_of, rounds_needed) = rounds(&numbers);
    let mut inserted = 0u64;
    let mut written = 0u64;
    for round in 1..=rounds_needed {
        let these: Vec<&StoredStudent> = students
            .iter()
            .enumerate()
            .filter(|(i, _)| round_of.get(*i).copied().unwrap_or(1) == round)
            .map(|(_, s)| s)
            .collect();
        let (ins, all): (i64, i64) = sqlx::query_as(
            "WITH up AS (
                 INSERT INTO students
                     (number, name, class, mentor, date_of_birth, left_on, bsn, onderwijsnummer)
                 SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],
                                      $5::date[], $6::date[], $7::text[], $8::text[])
                 ON CONFLICT (number) DO UPDATE SET
                     name = excluded.name,
                     class = excluded.class,
                     mentor = excluded.mentor,
                     date_of_birth = excluded.date_of_birth,
                     left_on = excluded.left_on,
                     bsn = CASE WHEN $9 THEN excluded.bsn ELSE students.bsn END,
                     onderwijsnummer = CASE WHEN $10 THEN excluded.onderwijsnummer
                                            ELSE students.onderwijsnummer END
                 WHERE (students.name, students.class, students.mentor, students.date_of_birth,
                        students.left_on)
                       IS DISTINCT FROM
                       (excluded.name, excluded.class, excluded.mentor, excluded.date_of_birth,
                        excluded.left_on)
                    OR ($9 AND students.bsn IS DISTINCT FROM excluded.bsn)
                    OR ($10 AND students.onderwijsnummer IS DISTINCT FROM excluded.onderwijsnummer)
                 RETURNING xmax = 0 AS inserted)
             SELECT count(*) FILTER (WHERE inserted), count(*) FROM up",
        )
        .bind(
            these
                .iter()
                .map(|s| s.student.id.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            these
                .iter()
                .map(|s| s.student.name.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            these
                .iter()
                .map(|s| s.student.class.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            these
                .iter()
                .map(|s| s.student.mentor.as_str())
                .collect::<Vec<_>>(),
        )
        .bind(
            these
                .iter()
                .map(|s| s.student.date_of_birth)
                .collect::<Vec<_>>(),
        )
        .bind(these.iter().map(|s| s.left_on).collect::<Vec<_>>())
        .bind(
            these
                .iter()
                .map(|s| {
                    s.student
                        .bsn
                        .as_ref()
                        .filter(|_| given.bsn)
                        .map(Bsn::as_str)
                })
                .collect::<Vec<_>>(),
        )
        .bind(
            these
                .iter()
                .map(|s| {
                    s.student
                        .onderwijsnummer
                        .as_ref()
                        .filter(|_| given.onderwijsnummer)
                        .map(Onderwijsnummer::as_str)
                })
                .collect::<Vec<_>>(),
        )
        .bind(given.bsn)
        .bind(given.onderwijsnummer)
        .fetch_one(&mut *conn)
        .await
        .db()?;
        inserted += to_u64(ins)?;
        written += to_u64(all)?;
    }
    Ok(UpsertCounts {
        inserted,
        updated: minus(written, inserted)?,
        unchanged: minus(students.len() as u64, written)?,
    })
}

#[async_trait]
impl Students for PgStore {
    async fn upsert_students_from(
        &self,
        students: &[StoredStudent],
        given: NumbersGiven,
    ) -> Result<UpsertCounts> {
        let mut tx = self.begin().await?;
        let counts = upsert_students_tx(&mut tx, students, given).await?;
        // Only what changed is a change; one student is named, more are
        // a change of many.
        let change = if counts.inserted + counts.updated > 0 {
            let only = match students {
                [one] => Some(one.student.id.as_str()),
                _ => None,
            };
            Some(record_change(&mut tx, ChangeKind::Students, only).await?)
        } else {
            None
        };
        tx.commit().await.db()?;
        self.wrote(change);
        Ok(counts)
    }

    async fn students(&self) -> Result<Vec<StoredStudent>> {
        let sql = format!("SELECT {STUDENT_COLUMNS} FROM students ORDER BY number");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await.db()?;
        rows.iter().map(student_from_row).collect()
    }

    async fn student(&self, id: &StudentId) -> Result<Option<StoredStudent>> {
        let sql = format!("SELECT {STUDENT_COLUMNS} FROM students WHERE number = $1");
        let row = sqlx::query(&sql)
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await
            .db()?;
        row.as_ref().map(student_from_row).transpose()
    }

    async fn student_count(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM students")
            .fetch_one(&self.pool)
            .await
            .db()?;
        to_u64(n)
    }
}

// --- import ---------------------------------------------------------------

/// The staging table of an import: one per transaction, dropped at commit.
const CREATE_STAGE: &str = "CREATE TEMP TABLE IF NOT EXISTS import_stage (
        round        integer NOT NULL,
        student_id   integer NOT NULL,
        date         date NOT NULL,
        lesson       smallint NOT NULL,
        minutes      integer NOT NULL,
        code         text,
        category     smallint NOT NULL,
        minutes_late integer NOT NULL,
        note         text
    ) ON COMMIT DROP";

/// The lessons an import of absences only has seen, to find the stored
/// ones it no longer has.
const CREATE_SEEN: &str = "CREATE TEMP TABLE IF NOT EXISTS import_seen (
        student_id integer NOT NULL,
        date       date NOT NULL,
        lesson     smallint NOT NULL
    ) ON COMMIT DROP";

/// Moves one round of the staged batch into `registrations`; answers how
/// many rows were inserted and how many written (inserted or updated).
const UPSERT_ROUND: &str = "WITH up AS (
        INSERT INTO registrations
            (student_id, date, lesson, minutes, code, category, minutes_late, note, change_id)
        SELECT student_id, date, lesson, minutes, code, category, minutes_late, note, $1
        FROM import_stage WHERE round = $2
        ON CONFLICT (student_id, date, lesson) DO UPDATE SET
            minutes = excluded.minutes,
            code = excluded.code,
            category = excluded.category,
            minutes_late = excluded.minutes_late,
            note = excluded.note,
            change_id = excluded.change_id
        WHERE (registrations.minutes, registrations.code, registrations.category,
               registrations.minutes_late, registrations.note)
              IS DISTINCT FROM
              (excluded.minutes, excluded.code, excluded.category,
               excluded.minutes_late, excluded.note)
        RETURNING xmax = 0 AS inserted)
    SELECT count(*) FILTER (WHERE inserted), count(*) FROM up";

/// Appends `date` as `YYYY-MM-DD`; years outside 0..=9999 are refused.
fn push_date(out: &mut Vec<u8>, date: NaiveDate) -> Result<()> {
    let year = date.year();
    if !(0..=9999).contains(&year) {
        return Err(StoreError::Conflict(format!(
            "date {date} is outside the years 0000-9999"
        )));
    }
    let (y, m, d) = (year as u32, date.month(), date.day());
    out.extend_from_slice(&[
        b'0' + (y / 1000) as u8,
        b'0' + (y / 100 % 10) as u8,
        b'0' + (y / 10 % 10) as u8,
        b'0' + (y % 10) as u8,
        b'-',
        b'0' + (m / 10) as u8,
        b'0' + (m % 10) as u8,
        b'-',
        b'0' + (d / 10) as u8,
        b'0' + (d % 10) as u8,
    ]);
    Ok(())
}

/// Appends an optional text as a COPY text field (`\N` for NULL).
fn push_text(out: &mut Vec<u8>, text: Option<&str>) {
    let Some(text) = text else {
        out.extend_from_slice(b"\\N");
        return;
    };
    for &b in text.as_bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(b),
        }
    }
}

fn push_int(out: &mut Vec<u8>, buf: &mut itoa::Buffer, n: impl itoa::Integer) {
    out.extend_from_slice(buf.format(n).as_bytes());
}

/// One lesson as a number for comparing keys: the student's key, the day
/// and the lesson.
fn lesson_key(student: i32, date: NaiveDate, lesson: u8) -> u64 {
    let student = u64::from(student.unsigned_abs());
    let day = u64::from(date.num_days_from_ce().unsigned_abs()) & 0xff_ffff;
    (student << 32) | (day << 8) | u64::from(lesson)
}

/// One import of registrations under way inside a transaction.
struct ImportWriter {
    import_id: i64,
    change_id: i64,
    keys: HashMap<String, i32>,
    rows: u64,
    inserted: u64,
    written: u64,
    /// Whether the lessons seen go to `import_seen` (an import of absences
    /// only), and their first and last date.
    seen: Option<Option<(NaiveDate, NaiveDate)>>,
    buf: Vec<u8>,
}

impl ImportWriter {
    /// Logs the import (its counts follow in [`ImportWriter::finish`]) and
    /// opens its change set and staging table.
    async fn begin(
        conn: &mut PgConnection,
        source: &ImportSource,
        absences_only: bool,
    ) -> Result<ImportWriter> {
        let keys = student_keys(conn).await?;
        let import_id: i64 = sqlx::query_scalar(
            "INSERT INTO imports
                 (file_name, sha256, imported_by, imported_at, rows, inserted, updated, unchanged)
             VALUES ($1, $2, $3, $4, 0, 0, 0, 0)
             RETURNING id",
        )
        .bind(&source.file_name)
        .bind(&source.sha256)
        .bind(&source.imported_by)
        .bind(source.at)
        .fetch_one(&mut *conn)
        .await
        .db()?;
        let change_id =
            new_change_set(conn, source.at, &source.imported_by, Some(import_id)).await?;
        sqlx::query(CREATE_STAGE).execute(&mut *conn).await.db()?;
        if absences_only {
            sqlx::query(CREATE_SEEN).execute(&mut *conn).await.db()?;
        }
        Ok(ImportWriter {
            import_id,
            change_id,
            keys,
            rows: 0,
            inserted: 0,
            written: 0,
            seen: absences_only.then_some(None),
            buf: Vec::new(),
        })
    }

    /// Writes one batch: COPY into the staging table, then one upsert per
    /// round.
    async fn write(
        &mut self,
        conn: &mut PgConnection,
        records: &[RegistrationRecord],
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        // Resolve the students first: an unknown one fails before anything
        // is sent.
        let mut ids = Vec::with_capacity(records.len());
        let mut last: Option<(&str, i32)> = None;
        for r in records {
            let s = r.student.as_str();
            let id = match last {
                Some((n, id)) if n == s => id,
                _ => {
                    let id = *self.keys.get(s).ok_or_else(|| {
                        StoreError::Conflict(format!("registration for unknown student {s}"))
                    })?;
                    last = Some((s, id));
                    id
                }
            };
            ids.push(id);
        }
        let keys: Vec<u64> = records
            .iter()
            .zip(&ids)
            .map(|(r, id)| lesson_key(*id, r.date, r.lesson))
            .collect();
        let (round_of, rounds_needed) = rounds(&keys);
        drop(keys);

        let buf = &mut self.buf;
        buf.clear();
        buf.reserve(records.len() * 48);
        let mut num = itoa::Buffer::new();
        for (i, (r, id)) in records.iter().zip(&ids).enumerate() {
            push_int(buf, &mut num, round_of.get(i).copied().unwrap_or(1));
            buf.push(b'\t');
            push_int(buf, &mut num, *id);
            buf.push(b'\t');
            push_date(buf, r.date)?;
            buf.push(b'\t');
            push_int(buf, &mut num, r.lesson);
            buf.push(b'\t');
            push_int(buf, &mut num, r.minutes);
            buf.push(b'\t');
            push_text(buf, r.code.as_deref());
            buf.push(b'\t');
            push_int(buf, &mut num, category_number(r.category));
            buf.push(b'\t');
            push_int(buf, &mut num, r.minutes_late);
            buf.push(b'\t');
            push_text(buf, r.note.as_deref());
            buf.push(b'\n');
        }
        if let Some(span) = &mut self.seen {
            for r in records {
                *span = Some(match *span {
                    None => (r.date, r.date),
                    Some((a, b)) => (a.min(r.date), b.max(r.date)),
                });
            }
        }

        sqlx::query("TRUNCATE import_stage")
            .execute(&mut *conn)
            .await
            .db()?;
        let mut copy = conn
            .copy_in_raw(
                "COPY import_stage (round, student_id, date, lesson, minutes, code, category, \
                 minutes_late, note) FROM STDIN",
            )
            .await
            .db()?;
        let sent = async {
            copy.send(buf.as_slice()).await?;
            copy.finish().await
        };
        let copied = match sent.await {
            Ok(n) => n,
            Err(e) => return Err(crate::error::pg_error(e)),
        };
        if copied != records.len() as u64 {
            return Err(StoreError::Invalid(format!(
                "COPY took {copied} of {} records",
                records.len()
            )));
        }
        if self.seen.is_some() {
            sqlx::query(
                "INSERT INTO import_seen SELECT student_id, date, lesson FROM import_stage",
            )
            .execute(&mut *conn)
            .await
            .db()?;
        }
        for round in 1..=rounds_needed {
            let (ins, all): (i64, i64) = sqlx::query_as(UPSERT_ROUND)
                .bind(self.change_id)
                .bind(i32::try_from(round).unwrap_or(i32::MAX))
                .fetch_one(&mut *conn)
                .await
                .db()?;
            self.inserted += to_u64(ins)?;
            self.written += to_u64(all)?;
        }
        self.rows += records.len() as u64;
        progress(self.rows);
        Ok(())
    }

    /// Counts what the import did and records it in the imports log.
    /// Returns the summary and, for an import of absences only, the dates
    /// it had.
    async fn finish(
        self,
        conn: &mut PgConnection,
    ) -> Result<(ImportSummary, Option<(NaiveDate, NaiveDate)>)> {
        let summary = ImportSummary {
            import_id: self.import_id,
            rows: self.rows,
            inserted: self.inserted,
            updated: minus(self.written, self.inserted)?,
            unchanged: minus(self.rows, self.written)?,
        };
        sqlx::query(
            "UPDATE imports SET rows = $2, inserted = $3, updated = $4, unchanged = $5
             WHERE id = $1",
        )
        .bind(self.import_id)
        .bind(to_i64(summary.rows)?)
        .bind(to_i64(summary.inserted)?)
        .bind(to_i64(summary.updated)?)
        .bind(to_i64(summary.unchanged)?)
        .execute(&mut *conn)
        .await
        .db()?;
        Ok((summary, self.seen.flatten()))
    }
}

/// Within the period of an import of absences only, every stored lesson
/// that is not present and that the import did not have becomes present
/// (rules.md §2: an unregistered lesson is a present one). Returns the
/// period and how many lessons changed.
async fn retract_absences(
    conn: &mut PgConnection,
    span: Option<(NaiveDate, NaiveDate)>,
    wanted: AbsencesOnly,
    change: (DateTime<Utc>, &str, Option<i64>),
) -> Result<(Option<(NaiveDate, NaiveDate)>, u64)> {
    let from = wanted.from.or(span.map(|s| s.0));
    let until = wanted.until.or(span.map(|s| s.1));
    let (Some(from), Some(until)) = (from, until) else {
        return Ok((None, 0));
    };
    sqlx::query(CREATE_SEEN).execute(&mut *conn).await.db()?;
    const GONE: &str = "r.date BETWEEN $1 AND $2 AND r.category <> $3
        AND NOT EXISTS (SELECT 1 FROM import_seen s
                        WHERE s.student_id = r.student_id AND s.date = r.date
                          AND s.lesson = r.lesson)";
    let present = category_number(Category::Present);
    let gone: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM registrations r WHERE {GONE}"
    ))
    .bind(from)
    .bind(until)
    .bind(present)
    .fetch_one(&mut *conn)
    .await
    .db()?;
    if gone == 0 {
        return Ok((Some((from, until)), 0));
    }
    let change_id = new_change_set(conn, change.0, change.1, change.2).await?;
    let done = sqlx::query(&format!(
        "UPDATE registrations r SET category = $3, code = NULL, minutes_late = 0, note = NULL,
             change_id = $4
         WHERE {GONE}"
    ))
    .bind(from)
    .bind(until)
    .bind(present)
    .bind(change_id)
    .execute(&mut *conn)
    .await
    .db()?;
    Ok((Some((from, until)), done.rows_affected()))
}

/// [`Registrations::import_registrations`] inside a transaction.
async fn import_registrations_tx(
    conn: &mut PgConnection,
    records: &[RegistrationRecord],
    source: &ImportSource,
    progress: &(dyn Fn(u64) + Send + Sync),
) -> Result<ImportSummary> {
    let mut writer = ImportWriter::begin(conn, source, false).await?;
    for chunk in records.chunks(BATCH_ROWS) {
        writer.write(conn, chunk, progress).await?;
    }
    Ok(writer.finish(conn).await?.0)
}

/// One file of a bundle inside a transaction, written batch by batch as it
/// arrives.
async fn import_batches_tx(
    conn: &mut PgConnection,
    mut batches: RecordBatches<'_>,
    source: &ImportSource,
    absences_only: bool,
    progress: &(dyn Fn(u64) + Send + Sync),
) -> Result<(ImportSummary, Option<(NaiveDate, NaiveDate)>)> {
    let mut writer = ImportWriter::begin(conn, source, absences_only).await?;
    while let Some(batch) = batches.next().await {
        writer.write(conn, &batch?, progress).await?;
    }
    writer.finish(conn).await
}

// --- reading --------------------------------------------------------------

/// Per student (by number), the registrations as parallel arrays in
/// `(date, lesson)` order: one row per student instead of one per lesson.
const ALL_BY_STUDENT: &str = "\
SELECT s.number, x.dates, x.lessons, x.minutes, x.codes, x.categories, x.lates, x.notes
FROM students s
CROSS JOIN LATERAL (
    SELECT array_agg(o.date) AS dates, array_agg(o.lesson) AS lessons,
           array_agg(o.minutes) AS minutes, array_agg(o.code) AS codes,
           array_agg(o.category) AS categories, array_agg(o.minutes_late) AS lates,
           array_agg(o.note) AS notes
    FROM (SELECT * FROM registrations r WHERE r.student_id = s.id
          ORDER BY r.date, r.lesson) o
) x
WHERE x.dates IS NOT NULL
ORDER BY s.number";

/// Decodes one row of [`ALL_BY_STUDENT`].
fn student_registrations_from_row(row: &PgRow) -> Result<StudentRegistrations> {
    let id = parse_student_id(row.try_get(0).db()?)?;
    let dates: Vec<NaiveDate> = row.try_get(1).db()?;
    let lessons: Vec<i16> = row.try_get(2).db()?;
    let minutes: Vec<i32> = row.try_get(3).db()?;
    let codes: Vec<Option<String>> = row.try_get(4).db()?;
    let categories: Vec<i16> = row.try_get(5).db()?;
    let lates: Vec<i32> = row.try_get(6).db()?;
    let notes: Vec<Option<String>> = row.try_get(7).db()?;
    let n = dates.len();
    if [
        lessons.len(),
        minutes.len(),
        codes.len(),
        categories.len(),
        lates.len(),
        notes.len(),
    ]
    .iter()
    .any(|&l| l != n)
    {
        return Err(StoreError::Invalid(format!(
            "registrations of {id}: counts differ"
        )));
    }
    let mut out = Vec::with_capacity(n);
    for (i, (code, note)) in codes.into_iter().zip(notes).enumerate() {
        out.push(RegistrationRecord {
            student: id.clone(),
            date: dates[i],
            lesson: narrow("lesson", lessons[i])?,
            minutes: narrow("minutes", minutes[i])?,
            code,
            category: parse_category(categories[i].into())?,
            minutes_late: narrow("minutes_late", lates[i])?,
            note,
        });
    }
    if !out.is_sorted_by_key(|r| (r.date, r.lesson)) {
        out.sort_by_key(|r| (r.date, r.lesson));
    }
    Ok((id, out))
}

/// Per student (in no particular order) within a range of internal keys,
/// the lessons as the engine needs them: the dates, and one integer per
/// lesson packing lesson, category, minutes late and minutes (see
/// [`unpack_lesson`]). Both arrays are in `(date, lesson)` order.
const LESSONS_BY_STUDENT: &str = "\
SELECT s.number, x.dates, x.packed
FROM (SELECT r.student_id,
             array_agg(r.date ORDER BY r.date, r.lesson) AS dates,
             array_agg(r.lesson::int8 | (r.category::int8 << 8) | (r.minutes_late::int8 << 16)
                       | (r.minutes::int8 << 32) ORDER BY r.date, r.lesson) AS packed
        FROM registrations r
       WHERE r.student_id BETWEEN $1 AND $2
       GROUP BY r.student_id) x
JOIN students s ON s.id = x.student_id";

/// Splits one integer of [`LESSONS_BY_STUDENT`]'s `packed` array.
fn unpack_lesson(v: i64, date: NaiveDate) -> Result<LessonState> {
    let bad = || StoreError::Invalid(format!("packed lesson out of range: {v}"));
    let v = u64::try_from(v).map_err(|_| bad())?;
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
fn student_lessons_from_row(row: &PgRow) -> Result<StudentLessons> {
    let id = parse_student_id(row.try_get(0).db()?)?;
    let dates: Vec<NaiveDate> = row.try_get(1).db()?;
    let packed: Vec<i64> = row.try_get(2).db()?;
    if dates.len() != packed.len() {
        return Err(StoreError::Invalid(format!(
            "lessons of {id}: counts differ"
        )));
    }
    let mut out = Vec::with_capacity(dates.len());
    for (date, v) in dates.into_iter().zip(packed) {
        out.push(unpack_lesson(v, date)?);
    }
    if !out
        .windows(2)
        .all(|w| (w[0].date, w[0].lesson) < (w[1].date, w[1].lesson))
    {
        out.sort_by_key(|l| (l.date, l.lesson));
    }
    Ok((id, out))
}

/// How many connections read `lessons_stream` side by side.
const LOAD_PARTS: i32 = 4;

// --- checked writes -------------------------------------------------------

/// The state a lesson had at revision `change_id`, from its history.
async fn state_at(
    conn: &mut PgConnection,
    student_id: i32,
    key: &LessonKey,
    change_id: i64,
) -> Result<Option<RegistrationRecord>> {
    // One change set can write a key twice (an import naming it twice): the
    // last history row of that change is the state it ended with.
    let sql = format!(
        "SELECT {REG_COLUMNS} FROM registration_history
         WHERE student_id = $1 AND date = $2 AND lesson = $3 AND change_id = $4
         ORDER BY id DESC LIMIT 1"
    );
    sqlx::query(&sql)
        .bind(student_id)
        .bind(key.date)
        .bind(i16::from(key.lesson))
        .bind(change_id)
        .fetch_optional(conn)
        .await
        .db()?
        .map(|row| record_from_row(&key.student, &row, 0))
        .transpose()
}

/// Checks one write against the stored state `current` (see
/// [`Registrations::save_registrations`]): the stale lesson, or `None`
/// when the write may go ahead.
async fn check(
    conn: &mut PgConnection,
    student_id: i32,
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

/// Writes one lesson as change set `change_id` (the trigger keeps the old
/// state when this updates).
async fn write_one(
    conn: &mut PgConnection,
    student_id: i32,
    record: &RegistrationRecord,
    change_id: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO registrations
             (student_id, date, lesson, minutes, code, category, minutes_late, note, change_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (student_id, date, lesson) DO UPDATE SET
             minutes = excluded.minutes,
             code = excluded.code,
             category = excluded.category,
             minutes_late = excluded.minutes_late,
             note = excluded.note,
             change_id = excluded.change_id",
    )
    .bind(student_id)
    .bind(record.date)
    .bind(i16::from(record.lesson))
    .bind(i32::from(record.minutes))
    .bind(&record.code)
    .bind(category_number(record.category))
    .bind(i32::from(record.minutes_late))
    .bind(&record.note)
    .bind(change_id)
    .execute(conn)
    .await
    .db()?;
    Ok(())
}

impl PgStore {
    /// One attempt at [`Registrations::save_registrations`].
    async fn save_registrations_once(
        &self,
        writes: &[LessonWrite],
        changed_by: &str,
        at: DateTime<Utc>,
    ) -> Result<Vec<WrittenLesson>> {
        let mut tx = self.begin().await?;
        // Lock the students' rows first, in key order (no deadlock between
        // two saves): no other checked save of these students, and no new
        // lesson of theirs from an import (its foreign-key check waits),
        // can come between the check below and the write.
        let numbers: Vec<&str> = {
            let mut n: Vec<&str> = writes.iter().map(|w| w.record.student.as_str()).collect();
            n.sort_unstable();
            n.dedup();
            n
        };
        let students: HashMap<String, i32> = sqlx::query_as::<_, (String, i32)>(
            "SELECT number, id FROM students WHERE number = ANY($1) ORDER BY id FOR UPDATE",
        )
        .bind(&numbers)
        .fetch_all(&mut *tx)
        .await
        .db()?
        .into_iter()
        .collect();
        // Each lesson's state is read with its row locked (`FOR UPDATE`),
        // so imports cannot change it before this transaction ends.
        let mut change_id = None;
        let mut written = Vec::with_capacity(writes.len());
        let mut stale = Vec::new();
        let mut checked = HashSet::new();
        let mut changed_students: Vec<&str> = Vec::new();
        let mut current: HashMap<LessonKey, Option<StoredRegistration>> = HashMap::new();
        for write in writes {
            let record = &write.record;
            let key = LessonKey::of(record);
            let student_id = *students.get(record.student.as_str()).ok_or_else(|| {
                StoreError::Conflict(format!(
                    "registration for unknown student {}",
                    record.student
                ))
            })?;
            let previous = match current.get(&key) {
                Some(state) => state.clone(),
                None => {
                    let state = current_state(&mut tx, student_id, &key).await?;
                    current.insert(key.clone(), state.clone());
                    state
                }
            };
            if checked.insert(key.clone()) {
                if let Some(s) =
                    check(&mut tx, student_id, write, previous.as_ref(), key.clone()).await?
                {
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
                            let id = new_change_set(&mut tx, at, changed_by, None).await?;
                            change_id = Some(id);
                            id
                        }
                    };
                    write_one(&mut tx, student_id, record, id).await?;
                    if !changed_students.contains(&record.student.as_str()) {
                        changed_students.push(record.student.as_str());
                    }
                    let revision = revision_of(id)?;
                    current.insert(
                        key,
                        Some(StoredRegistration {
                            record: record.clone(),
                            revision,
                            set: Provenance {
                                at,
                                by: changed_by.to_owned(),
                                import_id: None,
                            },
                        }),
                    );
                    revision
                }
            };
            written.push(WrittenLesson { previous, revision });
        }
        if !stale.is_empty() {
            tx.rollback().await.db()?;
            return Err(StoreError::Stale(stale));
        }
        let change = if changed_students.is_empty() {
            None
        } else {
            Some(record_changes(&mut tx, ChangeKind::Registrations, changed_students).await?)
        };
        tx.commit().await.db()?;
        self.wrote(change);
        Ok(written)
    }
}

/// The stored state of one lesson of the student with internal key
/// `student_id`, its row locked until the transaction ends.
async fn current_state(
    conn: &mut PgConnection,
    student_id: i32,
    key: &LessonKey,
) -> Result<Option<StoredRegistration>> {
    let sql = format!(
        "SELECT {STATE_COLUMNS} FROM registrations r JOIN changes c ON c.id = r.change_id
         WHERE r.student_id = $1 AND r.date = $2 AND r.lesson = $3
         FOR UPDATE OF r"
    );
    sqlx::query(&sql)
        .bind(student_id)
        .bind(key.date)
        .bind(i16::from(key.lesson))
        .fetch_optional(conn)
        .await
        .db()?
        .map(|row| state_from_row(&key.student, &row))
        .transpose()
}

#[async_trait]
impl Registrations for PgStore {
    async fn import_registrations(
        &self,
        records: &[RegistrationRecord],
        source: &ImportSource,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> Result<ImportSummary> {
        // Everything runs in this one transaction: any `?` drops it
        // uncommitted, and sqlx rolls it back.
        let mut tx = self.begin().await?;
        let summary = import_registrations_tx(&mut tx, records, source, progress).await?;
        let change = record_change(&mut tx, ChangeKind::Registrations, None).await?;
        tx.commit().await.db()?;
        self.wrote(Some(change));
        Ok(summary)
    }

    async fn registrations_all(&self) -> Result<Vec<StudentRegistrations>> {
        self.registrations_stream().try_collect().await
    }

    fn registrations_stream(&self) -> BoxStream<'_, Result<StudentRegistrations>> {
        sqlx::query(ALL_BY_STUDENT)
            .fetch(&self.pool)
            .map(|row| student_registrations_from_row(&row.db()?))
            .boxed()
    }

    fn lessons_stream(&self) -> BoxStream<'_, Result<StudentLessons>> {
        // PostgreSQL aggregates on one core per connection: split the
        // students into ranges of their internal key and read the ranges on
        // parallel connections.
        let pool = &self.pool;
        futures::stream::once(async move {
            type Ranges<'s> = BoxStream<'s, Result<StudentLessons>>;
            let (lo, hi): (Option<i32>, Option<i32>) =
                sqlx::query_as("SELECT min(id), max(id) FROM students")
                    .fetch_one(pool)
                    .await
                    .db()?;
            let (Some(lo), Some(hi)) = (lo, hi) else {
                return Ok::<Ranges<'_>, StoreError>(futures::stream::empty().boxed());
            };
            let width = (hi - lo) / LOAD_PARTS + 1;
            let ranges = (0..LOAD_PARTS).map(move |k| {
                (
                    lo.saturating_add(k.saturating_mul(width)),
                    lo.saturating_add((k + 1).saturating_mul(width))
                        .saturating_sub(1)
                        .min(hi),
                )
            });
            let streams = ranges.map(|(a, b)| {
                sqlx::query(LESSONS_BY_STUDENT)
                    .bind(a)
                    .bind(b)
                    .fetch(pool)
                    .map(|row| student_lessons_from_row(&row.db()?))
                    .boxed()
            });
            Ok::<Ranges<'_>, StoreError>(futures::stream::select_all(streams).boxed())
        })
        .try_flatten()
        .boxed()
    }

    async fn student_registrations(&self, id: &StudentId) -> Result<Vec<RegistrationRecord>> {
        let mut conn = self.pool.acquire().await.db()?;
        let key = crate::student_key(&mut conn, id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("student {id}")))?;
        let sql = format!(
            "SELECT {REG_COLUMNS} FROM registrations WHERE student_id = $1 ORDER BY date, lesson"
        );
        let rows = sqlx::query(&sql)
            .bind(key)
            .fetch_all(&mut *conn)
            .await
            .db()?;
        rows.iter().map(|row| record_from_row(id, row, 0)).collect()
    }

    async fn registration_history(&self, id: &StudentId) -> Result<Vec<HistoryEntry>> {
        let mut conn = self.pool.acquire().await.db()?;
        let key = crate::student_key(&mut conn, id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("student {id}")))?;
        let rows = sqlx::query(
            "SELECT h.date, h.lesson, h.minutes, h.code, h.category, h.minutes_late, h.note,
                    s.at, s.by, s.import_id, r.at, r.by, r.import_id
             FROM registration_history h
             JOIN changes s ON s.id = h.change_id
             JOIN changes r ON r.id = h.replaced_by
             WHERE h.student_id = $1
             ORDER BY h.date, h.lesson, h.id",
        )
        .bind(key)
        .fetch_all(&mut *conn)
        .await
        .db()?;
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
            .fetch_one(&self.pool)
            .await
            .db()?;
        to_u64(n)
    }

    async fn registration_states(
        &self,
        keys: &[LessonKey],
    ) -> Result<Vec<Option<StoredRegistration>>> {
        let sql = format!(
            "SELECT {STATE_COLUMNS}
             FROM registrations r
             JOIN students s ON s.id = r.student_id
             JOIN changes c ON c.id = r.change_id
             WHERE s.number = $1 AND r.date = $2 AND r.lesson = $3"
        );
        let mut conn = self.pool.acquire().await.db()?;
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            let row = sqlx::query(&sql)
                .bind(key.student.as_str())
                .bind(key.date)
                .bind(i16::from(key.lesson))
                .fetch_optional(&mut *conn)
                .await
                .db()?;
            out.push(
                row.map(|row| state_from_row(&key.student, &row))
                    .transpose()?,
            );
        }
        Ok(out)
    }

    async fn student_registration_states(&self, id: &StudentId) -> Result<Vec<StoredRegistration>> {
        let mut conn = self.pool.acquire().await.db()?;
        let key = crate::student_key(&mut conn, id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("student {id}")))?;
        let sql = format!(
            "SELECT {STATE_COLUMNS} FROM registrations r JOIN changes c ON c.id = r.change_id
             WHERE r.student_id = $1 ORDER BY r.date, r.lesson"
        );
        let rows = sqlx::query(&sql)
            .bind(key)
            .fetch_all(&mut *conn)
            .await
            .db()?;
        rows.iter().map(|row| state_from_row(id, row)).collect()
    }

    async fn save_registrations(
        &self,
        writes: &[LessonWrite],
        changed_by: &str,
        at: DateTime<Utc>,
    ) -> Result<Vec<WrittenLesson>> {
        retrying(|| self.save_registrations_once(writes, changed_by, at)).await
    }
}

#[async_trait]
impl Imports for PgStore {
    async fn import_bundle(
        &self,
        bundle: ImportBundle<'_>,
        progress: &(dyn Fn(usize, u64) + Send + Sync),
    ) -> Result<BundleSummary> {
        let documents = bundle_documents(&bundle)?;
        // One transaction for the whole command: a failure anywhere, also
        // in the last file of registrations, leaves everything as it was.
        let mut tx = self.begin().await?;
        let mut out = BundleSummary::default();
        for (kind, json) in documents {
            let version = save_document_tx(&mut tx, kind, json, bundle.by, bundle.at).await?;
            note_version(&mut out, kind, version);
        }
        if !bundle.students.is_empty() {
            out.students =
                Some(upsert_students_tx(&mut tx, bundle.students, bundle.student_numbers).await?);
        }
        let absences_only = bundle.absences_only.is_some();
        let mut span: Option<(NaiveDate, NaiveDate)> = None;
        let mut last_source = None;
        for (i, (batches, source)) in bundle.registrations.into_iter().enumerate() {
            let each = |n: u64| progress(i, n);
            let (summary, seen) =
                import_batches_tx(&mut tx, batches, &source, absences_only, &each).await?;
            span = match (span, seen) {
                (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
                (x, y) => x.or(y),
            };
            last_source = Some((source.imported_by, summary.import_id));
            out.registrations.push(summary);
        }
        if let (Some(wanted), Some((by, import_id))) = (bundle.absences_only, last_source) {
            let (covered, retracted) =
                retract_absences(&mut tx, span, wanted, (bundle.at, &by, Some(import_id))).await?;
            out.covered = covered;
            out.retracted = retracted;
        }
        // One change of the whole school, without a student: followers
        // reload it (the kind says what the import held at most).
        let kind = if !out.registrations.is_empty() {
            ChangeKind::Registrations
        } else if out.students.is_some() {
            ChangeKind::Students
        } else {
            ChangeKind::Document
        };
        let change = record_change(&mut tx, kind, None).await?;
        tx.commit().await.db()?;
        self.wrote(Some(change));
        Ok(out)
    }

    async fn imports(&self) -> Result<Vec<ImportLogEntry>> {
        let rows = sqlx::query(
            "SELECT id, file_name, sha256, imported_by, imported_at, rows, inserted, updated,
                    unchanged
             FROM imports ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter()
            .map(|row| {
                Ok(ImportLogEntry {
                    summary: ImportSummary {
                        import_id: row.try_get(0).db()?,
                        rows: to_u64(row.try_get(5).db()?)?,
                        inserted: to_u64(row.try_get(6).db()?)?,
                        updated: to_u64(row.try_get(7).db()?)?,
                        unchanged: to_u64(row.try_get(8).db()?)?,
                    },
                    source: ImportSource {
                        file_name: row.try_get(1).db()?,
                        sha256: row.try_get(2).db()?,
                        imported_by: row.try_get(3).db()?,
                        at: row.try_get(4).db()?,
                    },
                })
            })
            .collect()
    }
}
