//! Cases, DUO melding drafts, calls, afstemmingen and the retention purge
//! on PostgreSQL.
//!
//! Cases and drafts are `jsonb` of the domain types; the columns beside
//! the JSON (`is_open`, `status`, `deadline`, ...) are copies for
//! filtering, written from the same value in the same statement. Every
//! save also appends the saved version to `case_versions` /
//! `melding_versions`, in one transaction with the current row.

use aanwezig_domain::duo_work::Afstemming;
use aanwezig_domain::{Call, Case, MeldingDraft, MeldingStatus, StudentId};
use aanwezig_storage::{
    AuditEntry, Cases, ChangeKind, MeldingFilter, Meldingen, PurgeCounts, Retention, SavedVersion,
    StoreError, StoredStudent, VersionCheck,
};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use crate::accounts::audit_tx;
use crate::error::{Db, Result};
use crate::registrations::{student_from_row, STUDENT_COLUMNS};
use crate::{
    from_json, lock_student, parse_student_id, record_change, student_key, to_json, version_of,
    PgStore,
};

/// The id of the student's latest case: the one opened last.
const LATEST_CASE: &str = "SELECT c.id FROM cases c JOIN students s ON s.id = c.student_id
     WHERE s.number = $1 ORDER BY c.opened_on DESC, c.id DESC LIMIT 1";

/// A melding status as its serde name (`concept`, `in_behandeling`, ...).
fn status_text(status: MeldingStatus) -> Result<String> {
    match serde_json::to_value(status) {
        Ok(serde_json::Value::String(s)) => Ok(s),
        other => Err(StoreError::Invalid(format!(
            "melding status {status:?} serialises as {other:?}"
        ))),
    }
}

/// Decodes `version, saved_at, saved_by`.
fn version_from_row(row: &PgRow) -> Result<SavedVersion> {
    Ok(SavedVersion {
        version: version_of(row.try_get(0).db()?)?,
        saved_at: row.try_get(1).db()?,
        saved_by: row.try_get(2).db()?,
    })
}

/// The columns of a call after the student's number.
const CALL_COLUMNS: &str = "c.absent_from, c.called_on, c.by_user, c.reached, c.how, \
                            c.school_can_do, c.expected_back, c.worries";

/// A call row: the student's number, then [`CALL_COLUMNS`].
fn call_from_row(row: &PgRow) -> Result<(StudentId, Call)> {
    let reached: String = row.try_get(4).db()?;
    let call = Call {
        absent_from: row.try_get(1).db()?,
        on: row.try_get(2).db()?,
        by: row.try_get(3).db()?,
        reached: aanwezig_domain::Reached::parse(&reached)
            .ok_or_else(|| StoreError::Invalid(format!("call: unknown reached {reached:?}")))?,
        how: row.try_get(5).db()?,
        school_can_do: row.try_get(6).db()?,
        expected_back: row.try_get(7).db()?,
        worries: row.try_get(8).db()?,
    };
    Ok((parse_student_id(row.try_get(0).db()?)?, call))
}

/// The columns of an afstemming after its id and the student's number.
const AFSTEMMING_COLUMNS: &str = "a.rule, a.fired_on, a.melding_id, a.agreed_on, a.with_whom, \
                                  a.why, a.by_user, a.recorded_at";

/// An afstemming row: its id, the student's number, then
/// [`AFSTEMMING_COLUMNS`].
fn afstemming_from_row(row: &PgRow) -> Result<(i64, Afstemming)> {
    let rule: String = row.try_get(2).db()?;
    let a = Afstemming {
        student: parse_student_id(row.try_get(1).db()?)?,
        signal: aanwezig_domain::duo::SignalRef {
            rule: aanwezig_domain::RuleId::parse(&rule)
                .ok_or_else(|| StoreError::Invalid(format!("afstemming: unknown rule {rule:?}")))?,
            fired_on: row.try_get(3).db()?,
        },
        melding: row.try_get(4).db()?,
        on: row.try_get(5).db()?,
        with_whom: row.try_get(6).db()?,
        why: row.try_get(7).db()?,
        by: row.try_get(8).db()?,
        recorded_at: row.try_get(9).db()?,
    };
    Ok((row.try_get(0).db()?, a))
}

/// Saves a new version of a case inside a transaction (the student's key
/// already looked up); returns the version.
async fn save_case_tx(
    conn: &mut PgConnection,
    student_id: i32,
    case: &Case,
    by: &str,
    at: DateTime<Utc>,
) -> Result<u32> {
    let json = to_json(case)?;
    // A second open case of the student violates the partial unique
    // index `cases_one_open_per_student`: a Conflict.
    let (case_id, version): (i64, i32) = sqlx::query_as(
        "INSERT INTO cases (student_id, opened_on, is_open, version, json, saved_by, saved_at)
         VALUES ($1, $2, $3, 1, $4::jsonb, $5, $6)
         ON CONFLICT (student_id, opened_on) DO UPDATE SET
             is_open = excluded.is_open, version = cases.version + 1, json = excluded.json,
             saved_by = excluded.saved_by, saved_at = excluded.saved_at
         RETURNING id, version",
    )
    .bind(student_id)
    .bind(case.opened_on)
    .bind(case.is_open())
    .bind(&json)
    .bind(by)
    .bind(at)
    .fetch_one(&mut *conn)
    .await
    .db()?;
    sqlx::query(
        "INSERT INTO case_versions (case_id, version, json, saved_by, saved_at)
         VALUES ($1, $2, $3::jsonb, $4, $5)",
    )
    .bind(case_id)
    .bind(version)
    .bind(&json)
    .bind(by)
    .bind(at)
    .execute(&mut *conn)
    .await
    .db()?;
    version_of(version)
}

/// Saves a melding draft inside a transaction: a new one (`id: None`) or a
/// new version of draft `id`. Returns its id and version.
async fn save_melding_tx(
    conn: &mut PgConnection,
    student_id: i32,
    id: Option<i64>,
    draft: &MeldingDraft,
    by: &str,
    at: DateTime<Utc>,
) -> Result<(i64, u32)> {
    let json = to_json(draft)?;
    let signal = draft.source.as_ref().map(to_json).transpose()?;
    let status = status_text(draft.status)?;
    // A second draft for the same signal of the student violates
    // UNIQUE (student_id, signal): a Conflict.
    let (id, version): (i64, i32) = match id {
        None => sqlx::query_as(
            "INSERT INTO meldingen (student_id, signal, status, deadline, registered_on,
                 version, json, saved_by, saved_at)
             VALUES ($1, $2::jsonb, $3, $4, $5, 1, $6::jsonb, $7, $8)
             RETURNING id, version",
        )
        .bind(student_id)
        .bind(&signal)
        .bind(&status)
        .bind(draft.deadline)
        .bind(draft.registered_on)
        .bind(&json)
        .bind(by)
        .bind(at)
        .fetch_one(&mut *conn)
        .await
        .db()?,
        Some(id) => sqlx::query_as(
            "UPDATE meldingen SET student_id = $2, signal = $3::jsonb, status = $4,
                 deadline = $5, registered_on = $6, version = version + 1, json = $7::jsonb,
                 saved_by = $8, saved_at = $9
             WHERE id = $1
             RETURNING id, version",
        )
        .bind(id)
        .bind(student_id)
        .bind(&signal)
        .bind(&status)
        .bind(draft.deadline)
        .bind(draft.registered_on)
        .bind(&json)
        .bind(by)
        .bind(at)
        .fetch_optional(&mut *conn)
        .await
        .db()?
        .ok_or_else(|| StoreError::NotFound(format!("melding {id}")))?,
    };
    sqlx::query(
        "INSERT INTO melding_versions (melding_id, version, json, saved_by, saved_at)
         VALUES ($1, $2, $3::jsonb, $4, $5)",
    )
    .bind(id)
    .bind(version)
    .bind(&json)
    .bind(by)
    .bind(at)
    .execute(&mut *conn)
    .await
    .db()?;
    Ok((id, version_of(version)?))
}

impl PgStore {
    /// Commits `tx` with one change of `kind` about `student`.
    async fn commit_about(
        &self,
        mut tx: sqlx::Transaction<'static, sqlx::Postgres>,
        kind: ChangeKind,
        student: &StudentId,
    ) -> Result<()> {
        let change = record_change(&mut tx, kind, Some(student.as_str())).await?;
        tx.commit().await.db()?;
        self.wrote(Some(change));
        Ok(())
    }
}

#[async_trait]
impl Cases for PgStore {
    async fn save_case(&self, case: &Case, by: &str, at: DateTime<Utc>) -> Result<u32> {
        let mut tx = self.begin().await?;
        let Some(student_id) = student_key(&mut tx, &case.student).await? else {
            return Err(StoreError::Conflict(format!(
                "case of unknown student {}",
                case.student
            )));
        };
        let version = save_case_tx(&mut tx, student_id, case, by, at).await?;
        self.commit_about(tx, ChangeKind::Case, &case.student)
            .await?;
        Ok(version)
    }

    async fn case(&self, student: &StudentId) -> Result<Option<Case>> {
        let sql = format!("SELECT json::text FROM cases WHERE id = ({LATEST_CASE})");
        let json: Option<String> = sqlx::query_scalar(&sql)
            .bind(student.as_str())
            .fetch_optional(&self.pool)
            .await
            .db()?;
        json.map(|j| from_json("case", &j)).transpose()
    }

    async fn student_cases(&self, student: &StudentId) -> Result<Vec<Case>> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT c.json::text FROM cases c JOIN students s ON s.id = c.student_id
             WHERE s.number = $1 ORDER BY c.opened_on, c.id",
        )
        .bind(student.as_str())
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter().map(|j| from_json("case", j)).collect()
    }

    async fn cases(&self, open_only: bool) -> Result<Vec<Case>> {
        let sql = if open_only {
            "SELECT c.json::text FROM cases c JOIN students s ON s.id = c.student_id
             WHERE c.is_open ORDER BY s.number"
        } else {
            "SELECT x.json FROM (
                 SELECT DISTINCT ON (c.student_id) s.number, c.json::text AS json
                 FROM cases c JOIN students s ON s.id = c.student_id
                 ORDER BY c.student_id, c.opened_on DESC, c.id DESC) x
             ORDER BY x.number"
        };
        let rows: Vec<String> = sqlx::query_scalar(sql).fetch_all(&self.pool).await.db()?;
        rows.iter().map(|j| from_json("case", j)).collect()
    }

    async fn case_versions(&self, student: &StudentId) -> Result<Vec<SavedVersion>> {
        let sql = format!(
            "SELECT version, saved_at, saved_by FROM case_versions
             WHERE case_id = ({LATEST_CASE}) ORDER BY version"
        );
        let rows = sqlx::query(&sql)
            .bind(student.as_str())
            .fetch_all(&self.pool)
            .await
            .db()?;
        rows.iter().map(version_from_row).collect()
    }

    async fn add_call(&self, student: &StudentId, call: &Call) -> Result<i64> {
        let mut tx = self.begin().await?;
        let key = student_key(&mut tx, student)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("student {student}")))?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO calls (student_id, absent_from, called_on, by_user, reached, how,
                                school_can_do, expected_back, worries)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             RETURNING id",
        )
        .bind(key)
        .bind(call.absent_from)
        .bind(call.on)
        .bind(&call.by)
        .bind(call.reached.as_str())
        .bind(&call.how)
        .bind(&call.school_can_do)
        .bind(call.expected_back)
        .bind(call.worries)
        .fetch_one(&mut *tx)
        .await
        .db()?;
        self.commit_about(tx, ChangeKind::Call, student).await?;
        Ok(id)
    }

    async fn student_calls(&self, student: &StudentId) -> Result<Vec<Call>> {
        let rows = sqlx::query(&format!(
            "SELECT s.number, {CALL_COLUMNS} FROM calls c JOIN students s ON s.id = c.student_id
             WHERE s.number = $1 ORDER BY c.called_on, c.id"
        ))
        .bind(student.as_str())
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter()
            .map(|r| call_from_row(r).map(|(_, c)| c))
            .collect()
    }

    async fn calls_since(&self, from: NaiveDate) -> Result<Vec<(StudentId, Call)>> {
        let rows = sqlx::query(&format!(
            "SELECT s.number, {CALL_COLUMNS} FROM calls c JOIN students s ON s.id = c.student_id
             WHERE c.absent_from >= $1 ORDER BY c.called_on, c.id"
        ))
        .bind(from)
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter().map(call_from_row).collect()
    }

    async fn case_with_version(&self, student: &StudentId) -> Result<Option<(Case, u32)>> {
        let sql = format!("SELECT json::text, version FROM cases WHERE id = ({LATEST_CASE})");
        let row: Option<(String, i32)> = sqlx::query_as(&sql)
            .bind(student.as_str())
            .fetch_optional(&self.pool)
            .await
            .db()?;
        row.map(|(json, v)| Ok((from_json("case", &json)?, version_of(v)?)))
            .transpose()
    }

    async fn save_case_checked(
        &self,
        case: &Case,
        check: VersionCheck,
        by: &str,
        at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<u32> {
        crate::retrying(|| async {
            let mut tx = self.begin().await?;
            // The student's row lock makes checked saves of the student's
            // cases take turns, also when the case row does not exist yet.
            let Some(student_id) = lock_student(&mut tx, &case.student).await? else {
                return Err(StoreError::Conflict(format!(
                    "case of unknown student {}",
                    case.student
                )));
            };
            let stored: Option<i32> = sqlx::query_scalar(
                "SELECT version FROM cases WHERE student_id = $1 AND opened_on = $2 FOR UPDATE",
            )
            .bind(student_id)
            .bind(case.opened_on)
            .fetch_optional(&mut *tx)
            .await
            .db()?;
            let stored = stored.map(version_of).transpose()?;
            if !check.allows(stored) {
                return Err(StoreError::StaleVersion {
                    expected: check,
                    stored,
                });
            }
            let version = save_case_tx(&mut tx, student_id, case, by, at).await?;
            audit_tx(&mut tx, audit).await?;
            self.commit_about(tx, ChangeKind::Case, &case.student)
                .await?;
            Ok(version)
        })
        .await
    }
    async fn students_involving(
        &self,
        who: &aanwezig_domain::case::PartnerIdentity<'_>,
    ) -> Result<Vec<StudentId>> {
        // The index narrows to the open cases that name the account (or,
        // for involvements from before account ids, the username); the
        // domain's own rule decides.
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT c.json::text FROM cases c
             WHERE c.is_open
               AND c.id IN (SELECT p.case_id FROM case_partners p
                            WHERE p.account = $1 OR (p.account IS NULL AND p.username = $2))",
        )
        .bind(who.account_id)
        .bind(who.username)
        .fetch_all(&self.pool)
        .await
        .db()?;
        let mut out = Vec::new();
        for json in &rows {
            let case: Case = from_json("case", json)?;
            if case.involves(who) {
                out.push(case.student);
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }
}

#[async_trait]
impl Meldingen for PgStore {
    async fn save_melding(
        &self,
        id: Option<i64>,
        draft: &MeldingDraft,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<i64> {
        let mut tx = self.begin().await?;
        let Some(student_id) = student_key(&mut tx, &draft.student).await? else {
            return Err(StoreError::Conflict(format!(
                "melding of unknown student {}",
                draft.student
            )));
        };
        let (id, _) = save_melding_tx(&mut tx, student_id, id, draft, by, at).await?;
        self.commit_about(tx, ChangeKind::Melding, &draft.student)
            .await?;
        Ok(id)
    }

    async fn melding(&self, id: i64) -> Result<Option<MeldingDraft>> {
        let json: Option<String> =
            sqlx::query_scalar("SELECT json::text FROM meldingen WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .db()?;
        json.map(|j| from_json("melding", &j)).transpose()
    }

    async fn meldingen(&self, filter: &MeldingFilter) -> Result<Vec<(i64, MeldingDraft)>> {
        // A small table (a handful of drafts per school year): one text
        // with optional conditions instead of one per combination.
        let rows = sqlx::query(
            "SELECT m.id, m.json::text FROM meldingen m JOIN students s ON s.id = m.student_id
             WHERE ($1::text IS NULL OR s.number = $1)
               AND ($2::text IS NULL OR m.status = $2)
               AND ($3::date IS NULL OR (m.registered_on IS NULL AND m.deadline < $3))
             ORDER BY m.id",
        )
        .bind(filter.student.as_ref().map(|s| s.as_str()))
        .bind(filter.status.map(status_text).transpose()?)
        .bind(filter.overdue_on)
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter()
            .map(|row| {
                let json: &str = row.try_get(1).db()?;
                Ok((row.try_get(0).db()?, from_json("melding", json)?))
            })
            .collect()
    }

    async fn melding_versions(&self, id: i64) -> Result<Vec<SavedVersion>> {
        let rows = sqlx::query(
            "SELECT version, saved_at, saved_by FROM melding_versions
             WHERE melding_id = $1 ORDER BY version",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter().map(version_from_row).collect()
    }

    async fn add_afstemming(&self, a: &Afstemming) -> Result<i64> {
        let mut tx = self.begin().await?;
        let key = student_key(&mut tx, &a.student)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("student {}", a.student)))?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO duo_afstemmingen (student_id, rule, fired_on, melding_id, agreed_on,
                                           with_whom, why, by_user, recorded_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             RETURNING id",
        )
        .bind(key)
        .bind(a.signal.rule.as_str())
        .bind(a.signal.fired_on)
        .bind(a.melding)
        .bind(a.on)
        .bind(&a.with_whom)
        .bind(&a.why)
        .bind(&a.by)
        .bind(a.recorded_at)
        .fetch_one(&mut *tx)
        .await
        .db()?;
        self.commit_about(tx, ChangeKind::Afstemming, &a.student)
            .await?;
        Ok(id)
    }

    async fn afstemmingen(&self, student: Option<&StudentId>) -> Result<Vec<(i64, Afstemming)>> {
        let rows = sqlx::query(&format!(
            "SELECT a.id, s.number, {AFSTEMMING_COLUMNS}
               FROM duo_afstemmingen a JOIN students s ON s.id = a.student_id
              WHERE $1::text IS NULL OR s.number = $1
              ORDER BY a.id"
        ))
        .bind(student.map(StudentId::as_str))
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter().map(afstemming_from_row).collect()
    }

    async fn melding_with_version(&self, id: i64) -> Result<Option<(MeldingDraft, u32)>> {
        let row: Option<(String, i32)> =
            sqlx::query_as("SELECT json::text, version FROM meldingen WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .db()?;
        row.map(|(json, v)| Ok((from_json("melding", &json)?, version_of(v)?)))
            .transpose()
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
        crate::retrying(|| async {
            let mut tx = self.begin().await?;
            let Some(student_id) = lock_student(&mut tx, &draft.student).await? else {
                return Err(StoreError::Conflict(format!(
                    "melding of unknown student {}",
                    draft.student
                )));
            };
            let stored = match id {
                None => None,
                Some(id) => {
                    let v: Option<i32> = sqlx::query_scalar(
                        "SELECT version FROM meldingen WHERE id = $1 FOR UPDATE",
                    )
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await
                    .db()?;
                    match v {
                        Some(v) => Some(version_of(v)?),
                        // Not stale, but gone: as `save_melding` says.
                        None if check == VersionCheck::Any => {
                            return Err(StoreError::NotFound(format!("melding {id}")))
                        }
                        None => None,
                    }
                }
            };
            if !check.allows(stored) {
                return Err(StoreError::StaleVersion {
                    expected: check,
                    stored,
                });
            }
            let saved = save_melding_tx(&mut tx, student_id, id, draft, by, at).await?;
            audit_tx(&mut tx, audit).await?;
            self.commit_about(tx, ChangeKind::Melding, &draft.student)
                .await?;
            Ok(saved)
        })
        .await
    }

    async fn students_with_sent_meldingen(&self) -> Result<Vec<StudentId>> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT s.number FROM meldingen m JOIN students s ON s.id = m.student_id
             WHERE m.status NOT IN ($1, $2) ORDER BY s.number",
        )
        .bind(status_text(MeldingStatus::Concept)?)
        .bind(status_text(MeldingStatus::Ingetrokken)?)
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter().map(|n| parse_student_id(n)).collect()
    }
}

#[async_trait]
impl Retention for PgStore {
    async fn students_left_before(&self, date: NaiveDate) -> Result<Vec<StoredStudent>> {
        let sql = format!(
            "SELECT {STUDENT_COLUMNS} FROM students
             WHERE left_on IS NOT NULL AND left_on < $1 ORDER BY number"
        );
        let rows = sqlx::query(&sql)
            .bind(date)
            .fetch_all(&self.pool)
            .await
            .db()?;
        rows.iter().map(student_from_row).collect()
    }

    async fn purge_student(&self, student: &StudentId) -> Result<PurgeCounts> {
        let mut tx = self.begin().await?;
        // The student's row locked first: the purge waits for writers of
        // this student, and they for it.
        let key: Option<i32> =
            sqlx::query_scalar("SELECT id FROM students WHERE number = $1 FOR UPDATE")
                .bind(student.as_str())
                .fetch_optional(&mut *tx)
                .await
                .db()?;
        let Some(key) = key else {
            return Err(StoreError::NotFound(format!("student {student}")));
        };
        // Children before parents, so that the foreign keys hold at every
        // statement. Dropping `tx` on an error rolls all of it back.
        let mut counts = PurgeCounts::default();
        let steps: [(&str, &mut u64); 9] = [
            ("DELETE FROM calls WHERE student_id = $1", &mut counts.calls),
            (
                "DELETE FROM duo_afstemmingen WHERE student_id = $1",
                &mut counts.afstemmingen,
            ),
            (
                "DELETE FROM case_versions
                 WHERE case_id IN (SELECT id FROM cases WHERE student_id = $1)",
                &mut counts.case_versions,
            ),
            ("DELETE FROM cases WHERE student_id = $1", &mut counts.cases),
            (
                "DELETE FROM melding_versions
                 WHERE melding_id IN (SELECT id FROM meldingen WHERE student_id = $1)",
                &mut counts.melding_versions,
            ),
            (
                "DELETE FROM meldingen WHERE student_id = $1",
                &mut counts.meldingen,
            ),
            (
                "DELETE FROM registration_history WHERE student_id = $1",
                &mut counts.history,
            ),
            (
                "DELETE FROM registrations WHERE student_id = $1",
                &mut counts.registrations,
            ),
            ("DELETE FROM students WHERE id = $1", &mut 0),
        ];
        for (sql, count) in steps {
            let done = sqlx::query(sql).bind(key).execute(&mut *tx).await.db()?;
            *count = done.rows_affected();
        }
        // The audit log keeps who did what when, unlinked from the student
        // (the one update its trigger allows).
        let done = sqlx::query(
            "UPDATE audit_log SET student = NULL, detail = 'verwijderd na de bewaartermijn'
             WHERE student = $1",
        )
        .bind(student.as_str())
        .execute(&mut *tx)
        .await
        .db()?;
        counts.audit_unlinked = done.rows_affected();
        // Earlier rows of the change feed no longer name the student; the
        // purge's own row does, so that every server drops the student.
        sqlx::query("UPDATE change_feed SET student = NULL WHERE student = $1")
            .bind(student.as_str())
            .execute(&mut *tx)
            .await
            .db()?;
        self.commit_about(tx, ChangeKind::Purge, student).await?;
        Ok(counts)
    }
}
