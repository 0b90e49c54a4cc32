//! Cases, DUO melding drafts and the retention purge on SQLite (schema:
//! `migrations/0003_cases_meldingen.sql`).
//!
//! Cases and drafts are stored as JSON of the domain types; the columns
//! beside the JSON (`is_open`, `status`, `deadline`, ...) are copies for
//! filtering, written from the same value in the same statement. Every
//! save also appends the saved version to `case_versions` /
//! `melding_versions` and a row to the change feed, in one transaction
//! with the current row; a checked save reads the stored version and
//! writes its audit entry in that transaction too.

use aanwezig_domain::{Case, MeldingDraft, MeldingStatus, StudentId};
use chrono::{DateTime, NaiveDate, Utc};
use serde::de::DeserializeOwned;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use crate::accounts::insert_audit;
use crate::{feed, student_from_row, student_key, to_json, SqliteStore, STUDENT_COLUMNS};
use aanwezig_storage::codec::{date_text, instant_text, narrow, parse_instant, parse_student_id};
use aanwezig_storage::error::{Result, StoreError};
use aanwezig_storage::model::{
    AuditEntry, ChangeKind, MeldingFilter, PurgeCounts, SavedVersion, StoredStudent, VersionCheck,
};

/// The id of the student's latest case: the one opened last.
const LATEST_CASE: &str = "SELECT c.id FROM cases c JOIN students s ON s.id = c.student_id
     WHERE s.number = ?1 ORDER BY c.opened_on DESC, c.id DESC LIMIT 1";

fn from_json<T: DeserializeOwned>(what: &str, json: &str) -> Result<T> {
    serde_json::from_str(json).map_err(|e| StoreError::Invalid(format!("{what}: {e}")))
}

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
fn version_from_row(row: &SqliteRow) -> Result<SavedVersion> {
    Ok(SavedVersion {
        version: narrow("version", row.try_get(0)?)?,
        saved_at: parse_instant(row.try_get(1)?)?,
        saved_by: row.try_get(2)?,
    })
}

impl SqliteStore {
    pub(super) async fn save_case_(&self, case: &Case, by: &str, at: DateTime<Utc>) -> Result<u32> {
        let mut tx = self.begin_write().await?;
        let version = save_case_tx(&mut tx, case, VersionCheck::Any, by, at).await?;
        tx.commit().await?;
        self.wrote();
        Ok(version)
    }

    pub(super) async fn save_case_checked_(
        &self,
        case: &Case,
        check: VersionCheck,
        by: &str,
        at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<u32> {
        let mut tx = self.begin_write().await?;
        let version = save_case_tx(&mut tx, case, check, by, at).await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        self.wrote();
        Ok(version)
    }

    pub(super) async fn case_with_version_(
        &self,
        student: &StudentId,
    ) -> Result<Option<(Case, u32)>> {
        let sql = format!("SELECT json, version FROM cases WHERE id = ({LATEST_CASE})");
        let row: Option<(String, i64)> = sqlx::query_as(&sql)
            .bind(student.as_str())
            .fetch_optional(&self.reader)
            .await?;
        row.map(|(json, v)| Ok((from_json("case", &json)?, narrow("case version", v)?)))
            .transpose()
    }

    pub(super) async fn students_involving_(
        &self,
        who: &aanwezig_domain::case::PartnerIdentity<'_>,
    ) -> Result<Vec<StudentId>> {
        // The index narrows to the cases that name the account (or, for
        // involvements from before account ids, the username); the
        // domain's own rule decides.
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT c.json FROM case_partners p JOIN cases c ON c.id = p.case_id
             WHERE c.is_open = 1
               AND (p.account = ?1 OR (p.account IS NULL AND p.username = ?2))",
        )
        .bind(who.account_id)
        .bind(who.username)
        .fetch_all(&self.reader)
        .await?;
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

    pub(super) async fn students_with_sent_meldingen_(&self) -> Result<Vec<StudentId>> {
        let concept = status_text(MeldingStatus::Concept)?;
        let withdrawn = status_text(MeldingStatus::Ingetrokken)?;
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT s.number FROM meldingen m JOIN students s ON s.id = m.student_id
             WHERE m.status NOT IN (?1, ?2) ORDER BY s.number",
        )
        .bind(concept)
        .bind(withdrawn)
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(|n| parse_student_id(n)).collect()
    }

    pub(super) async fn case_(&self, student: &StudentId) -> Result<Option<Case>> {
        let sql = format!("SELECT json FROM cases WHERE id = ({LATEST_CASE})");
        let json: Option<String> = sqlx::query_scalar(&sql)
            .bind(student.as_str())
            .fetch_optional(&self.reader)
            .await?;
        json.map(|j| from_json("case", &j)).transpose()
    }

    pub(super) async fn student_cases_(&self, student: &StudentId) -> Result<Vec<Case>> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT c.json FROM cases c JOIN students s ON s.id = c.student_id
             WHERE s.number = ?1 ORDER BY c.opened_on, c.id",
        )
        .bind(student.as_str())
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(|j| from_json("case", j)).collect()
    }

    pub(super) async fn cases_(&self, open_only: bool) -> Result<Vec<Case>> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT c.json FROM cases c JOIN students s ON s.id = c.student_id
             WHERE CASE WHEN ?1 THEN c.is_open = 1
                   ELSE c.id = (SELECT c2.id FROM cases c2 WHERE c2.student_id = c.student_id
                                ORDER BY c2.opened_on DESC, c2.id DESC LIMIT 1) END
             ORDER BY s.number",
        )
        .bind(open_only)
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(|j| from_json("case", j)).collect()
    }

    pub(super) async fn case_versions_(&self, student: &StudentId) -> Result<Vec<SavedVersion>> {
        let sql = format!(
            "SELECT version, saved_at, saved_by FROM case_versions
             WHERE case_id = ({LATEST_CASE}) ORDER BY version"
        );
        let rows = sqlx::query(&sql)
            .bind(student.as_str())
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(version_from_row).collect()
    }

    pub(super) async fn save_melding_(
        &self,
        id: Option<i64>,
        draft: &MeldingDraft,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let (id, _) = save_melding_tx(&mut tx, id, draft, VersionCheck::Any, by, at).await?;
        tx.commit().await?;
        self.wrote();
        Ok(id)
    }

    pub(super) async fn save_melding_checked_(
        &self,
        id: Option<i64>,
        draft: &MeldingDraft,
        check: VersionCheck,
        by: &str,
        at: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> Result<(i64, u32)> {
        let mut tx = self.begin_write().await?;
        let saved = save_melding_tx(&mut tx, id, draft, check, by, at).await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        self.wrote();
        Ok(saved)
    }

    pub(super) async fn melding_with_version_(
        &self,
        id: i64,
    ) -> Result<Option<(MeldingDraft, u32)>> {
        let row: Option<(String, i64)> =
            sqlx::query_as("SELECT json, version FROM meldingen WHERE id = ?1")
                .bind(id)
                .fetch_optional(&self.reader)
                .await?;
        row.map(|(json, v)| Ok((from_json("melding", &json)?, narrow("melding version", v)?)))
            .transpose()
    }

    pub(super) async fn melding_(&self, id: i64) -> Result<Option<MeldingDraft>> {
        let json: Option<String> = sqlx::query_scalar("SELECT json FROM meldingen WHERE id = ?1")
            .bind(id)
            .fetch_optional(&self.reader)
            .await?;
        json.map(|j| from_json("melding", &j)).transpose()
    }

    pub(super) async fn meldingen_(
        &self,
        filter: &MeldingFilter,
    ) -> Result<Vec<(i64, MeldingDraft)>> {
        // A small table (a handful of drafts per school year): one text
        // with optional conditions instead of one per combination.
        let rows = sqlx::query(
            "SELECT m.id, m.json FROM meldingen m JOIN students s ON s.id = m.student_id
             WHERE (?1 IS NULL OR s.number = ?1)
               AND (?2 IS NULL OR m.status = ?2)
               AND (?3 IS NULL OR (m.registered_on IS NULL AND m.deadline < ?3))
             ORDER BY m.id",
        )
        .bind(filter.student.as_ref().map(|s| s.as_str()))
        .bind(filter.status.map(status_text).transpose()?)
        .bind(filter.overdue_on.map(date_text).transpose()?)
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|row| {
                let json: &str = row.try_get(1)?;
                Ok((row.try_get(0)?, from_json("melding", json)?))
            })
            .collect()
    }

    pub(super) async fn melding_versions_(&self, id: i64) -> Result<Vec<SavedVersion>> {
        let rows = sqlx::query(
            "SELECT version, saved_at, saved_by FROM melding_versions
             WHERE melding_id = ?1 ORDER BY version",
        )
        .bind(id)
        .fetch_all(&self.reader)
        .await?;
        rows.iter().map(version_from_row).collect()
    }

    pub(super) async fn students_left_before_(
        &self,
        date: NaiveDate,
    ) -> Result<Vec<StoredStudent>> {
        let sql = format!(
            "SELECT {STUDENT_COLUMNS} FROM students
             WHERE left_on IS NOT NULL AND left_on < ?1 ORDER BY number"
        );
        let rows = sqlx::query(&sql)
            .bind(date_text(date)?)
            .fetch_all(&self.reader)
            .await?;
        rows.iter().map(student_from_row).collect()
    }

    pub(super) async fn purge_student_(&self, student: &StudentId) -> Result<PurgeCounts> {
        let mut tx = self.begin_write().await?;
        let Some(key) = student_key(&mut tx, student).await? else {
            return Err(StoreError::NotFound(format!("student {student}")));
        };
        // Children before parents, so that the foreign keys hold at every
        // statement. Dropping `tx` on an error rolls all of it back.
        let mut counts = PurgeCounts::default();
        let steps: [(&str, &mut u64); 9] = [
            ("DELETE FROM calls WHERE student_id = ?1", &mut counts.calls),
            (
                "DELETE FROM duo_afstemmingen WHERE student_id = ?1",
                &mut counts.afstemmingen,
            ),
            (
                "DELETE FROM case_versions
                 WHERE case_id IN (SELECT id FROM cases WHERE student_id = ?1)",
                &mut counts.case_versions,
            ),
            ("DELETE FROM cases WHERE student_id = ?1", &mut counts.cases),
            (
                "DELETE FROM melding_versions
                 WHERE melding_id IN (SELECT id FROM meldingen WHERE student_id = ?1)",
                &mut counts.melding_versions,
            ),
            (
                "DELETE FROM meldingen WHERE student_id = ?1",
                &mut counts.meldingen,
            ),
            (
                "DELETE FROM registration_history WHERE student_id = ?1",
                &mut counts.history,
            ),
            (
                "DELETE FROM registrations WHERE student_id = ?1",
                &mut counts.registrations,
            ),
            ("DELETE FROM students WHERE id = ?1", &mut 0),
        ];
        for (sql, count) in steps {
            let done = sqlx::query(sql).bind(key).execute(&mut *tx).await?;
            *count = done.rows_affected();
        }
        // The audit log keeps who did what when, unlinked from the student
        // (the one update its trigger allows, migration 0005).
        let done = sqlx::query(
            "UPDATE audit_log SET student = NULL, detail = 'verwijderd na de bewaartermijn'
             WHERE student = ?1",
        )
        .bind(student.as_str())
        .execute(&mut *tx)
        .await?;
        counts.audit_unlinked = done.rows_affected();
        feed(&mut tx, ChangeKind::Purge, Some(student), None).await?;
        tx.commit().await?;
        self.wrote();
        Ok(counts)
    }
}

/// The refusal of a checked write: nothing is written (the caller drops
/// the transaction, which rolls it back).
fn stale(check: VersionCheck, stored: Option<u32>) -> StoreError {
    StoreError::StaleVersion {
        expected: check,
        stored,
    }
}

/// Saves a version of a case inside `tx` if the row (student, `opened_on`)
/// holds the version `check` expects, with its change-feed row. The
/// version is read under the write lock the transaction holds (BEGIN
/// IMMEDIATE), so no writer of any process saves in between.
async fn save_case_tx(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    case: &Case,
    check: VersionCheck,
    by: &str,
    at: DateTime<Utc>,
) -> Result<u32> {
    let json = to_json(case)?;
    let opened_on = date_text(case.opened_on)?;
    let Some(student_id) = student_key(tx, &case.student).await? else {
        return Err(StoreError::Conflict(format!(
            "case of unknown student {}",
            case.student
        )));
    };
    if check != VersionCheck::Any {
        let stored: Option<i64> = sqlx::query_scalar(
            "SELECT version FROM cases WHERE student_id = ?1 AND opened_on = ?2",
        )
        .bind(student_id)
        .bind(&opened_on)
        .fetch_optional(&mut **tx)
        .await?;
        let stored = stored.map(|v| narrow("case version", v)).transpose()?;
        if !check.allows(stored) {
            return Err(stale(check, stored));
        }
    }
    let at_text = instant_text(at);
    // A second open case of the student violates the partial unique
    // index `cases_one_open_per_student`: a Conflict.
    let (case_id, version): (i64, i64) = sqlx::query_as(
        "INSERT INTO cases (student_id, opened_on, is_open, version, json, saved_by, saved_at)
         VALUES (?1, ?2, ?3, 1, ?4, ?5, ?6)
         ON CONFLICT (student_id, opened_on) DO UPDATE SET
             is_open = excluded.is_open, version = cases.version + 1, json = excluded.json,
             saved_by = excluded.saved_by, saved_at = excluded.saved_at
         RETURNING id, version",
    )
    .bind(student_id)
    .bind(&opened_on)
    .bind(case.is_open())
    .bind(&json)
    .bind(by)
    .bind(&at_text)
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO case_versions (case_id, version, json, saved_by, saved_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .bind(case_id)
    .bind(version)
    .bind(&json)
    .bind(by)
    .bind(&at_text)
    .execute(&mut **tx)
    .await?;
    feed(tx, ChangeKind::Case, Some(&case.student), Some(at)).await?;
    narrow("case version", version)
}

/// Saves a melding draft (new with `id: None`) inside `tx` if it holds the
/// version `check` expects (a new draft has none), with its change-feed
/// row. Returns the draft's id and new version.
async fn save_melding_tx(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    id: Option<i64>,
    draft: &MeldingDraft,
    check: VersionCheck,
    by: &str,
    at: DateTime<Utc>,
) -> Result<(i64, u32)> {
    let json = to_json(draft)?;
    let signal = draft.source.as_ref().map(to_json).transpose()?;
    let status = status_text(draft.status)?;
    let deadline = date_text(draft.deadline)?;
    let registered_on = draft.registered_on.map(date_text).transpose()?;
    let at_text = instant_text(at);
    if check != VersionCheck::Any {
        let stored: Option<i64> = match id {
            None => None,
            Some(id) => {
                sqlx::query_scalar("SELECT version FROM meldingen WHERE id = ?1")
                    .bind(id)
                    .fetch_optional(&mut **tx)
                    .await?
            }
        };
        let stored = stored.map(|v| narrow("melding version", v)).transpose()?;
        if !check.allows(stored) {
            return Err(stale(check, stored));
        }
    }
    let Some(student_id) = student_key(tx, &draft.student).await? else {
        return Err(StoreError::Conflict(format!(
            "melding of unknown student {}",
            draft.student
        )));
    };
    // A second draft for the same signal of the student violates
    // UNIQUE (student_id, signal): a Conflict.
    let (id, version): (i64, i64) = match id {
        None => {
            sqlx::query_as(
                "INSERT INTO meldingen (student_id, signal, status, deadline, registered_on,
                     version, json, saved_by, saved_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, ?7, ?8)
                 RETURNING id, version",
            )
            .bind(student_id)
            .bind(&signal)
            .bind(&status)
            .bind(&deadline)
            .bind(&registered_on)
            .bind(&json)
            .bind(by)
            .bind(&at_text)
            .fetch_one(&mut **tx)
            .await?
        }
        Some(id) => sqlx::query_as(
            "UPDATE meldingen SET student_id = ?2, signal = ?3, status = ?4, deadline = ?5,
                 registered_on = ?6, version = version + 1, json = ?7, saved_by = ?8,
                 saved_at = ?9
             WHERE id = ?1
             RETURNING id, version",
        )
        .bind(id)
        .bind(student_id)
        .bind(&signal)
        .bind(&status)
        .bind(&deadline)
        .bind(&registered_on)
        .bind(&json)
        .bind(by)
        .bind(&at_text)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("melding {id}")))?,
    };
    sqlx::query(
        "INSERT INTO melding_versions (melding_id, version, json, saved_by, saved_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .bind(id)
    .bind(version)
    .bind(&json)
    .bind(by)
    .bind(&at_text)
    .execute(&mut **tx)
    .await?;
    feed(tx, ChangeKind::Melding, Some(&draft.student), Some(at)).await?;
    Ok((id, narrow("melding version", version)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_a_text() {
        let texts: Vec<String> = [
            MeldingStatus::Concept,
            MeldingStatus::InBehandeling,
            MeldingStatus::TerKennisgevingAangenomen,
        ]
        .into_iter()
        .map(|s| status_text(s).unwrap())
        .collect();
        assert_eq!(
            texts,
            ["concept", "in_behandeling", "ter_kennisgeving_aangenomen"]
        );
    }
}
