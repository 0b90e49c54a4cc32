//! The retention rule, in one place for the CLI (`aanwezig purge`) and the
//! web server's daily job: attendance and case data are kept five years
//! after a student leaves, then removed (product.md, domain-facts.md).
//!
//! "More than N years ago" is measured in calendar months
//! (`checked_sub_months(12 * N)`), so a student who left on 29 February is
//! purged from the day after 28 February N years later. A student who left
//! exactly N years ago today is kept one more day.
//!
//! The audit log stays, append-only, but the purged student's entries are
//! unlinked from them (student number removed, detail replaced; the one
//! update the log's trigger allows, migration 0005), so who did what when
//! remains without saying about whom. Each purge then adds an entry
//! ([`AuditAction::Purge`]) naming the student number and what was
//! removed.

use chrono::{DateTime, Months, NaiveDate, Utc};
use serde::Serialize;

use crate::error::{Result, StoreError};
use crate::model::{AuditAction, AuditEntry, PurgeCounts, StoredStudent};
use crate::Store;

/// The legal retention after leaving (VO): five years.
pub const YEARS: u32 = 5;

/// The first `left_on` that is still kept on `today`: students who left
/// before it are due for purging.
pub fn cutoff(today: NaiveDate, years: u32) -> Result<NaiveDate> {
    years
        .checked_mul(12)
        .and_then(|months| today.checked_sub_months(Months::new(months)))
        .ok_or_else(|| StoreError::Config(format!("{years} years before {today}")))
}

/// The students whose data are due for purging on `today`, sorted by
/// student number: `left_on` more than `years` years before `today`.
pub async fn expired(
    store: &dyn Store,
    today: NaiveDate,
    years: u32,
) -> Result<Vec<StoredStudent>> {
    store.students_left_before(cutoff(today, years)?).await
}

/// One purged student: who, when they had left, and what was removed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PurgedStudent {
    pub student: StoredStudent,
    pub counts: PurgeCounts,
}

/// Purges every student [`expired`] on `today`, one transaction each, and
/// writes one audit entry per student (by `by`, at `at`). Stops at the
/// first error; the students purged before it stay purged (and audited).
/// A student purged meanwhile by another run (`NotFound`) is skipped.
pub async fn purge_expired(
    store: &dyn Store,
    today: NaiveDate,
    years: u32,
    by: &str,
    at: DateTime<Utc>,
) -> Result<Vec<PurgedStudent>> {
    let mut purged = Vec::new();
    for student in expired(store, today, years).await? {
        let id = student.student.id.clone();
        let counts = match store.purge_student(&id).await {
            Ok(counts) => counts,
            Err(StoreError::NotFound(_)) => continue,
            Err(e) => return Err(e),
        };
        let left = student
            .left_on
            .map_or_else(|| "?".to_owned(), |d| d.to_string());
        store
            .audit(&AuditEntry {
                at,
                username: by.to_owned(),
                action: AuditAction::Purge,
                student: Some(id),
                detail: format!(
                    "bewaartermijn {years} jaar verstreken (uitgeschreven {left}): \
                     {} registraties, {} historie, {} dossiers ({} versies), \
                     {} meldingen ({} versies) verwijderd; {} auditregels losgekoppeld van de leerling",
                    counts.registrations,
                    counts.history,
                    counts.cases,
                    counts.case_versions,
                    counts.meldingen,
                    counts.melding_versions,
                    counts.audit_unlinked
                ),
            })
            .await?;
        purged.push(PurgedStudent { student, counts });
    }
    Ok(purged)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn cutoff_is_calendar_years_back() {
        assert_eq!(cutoff(day(2026, 11, 28), 5).unwrap(), day(2021, 11, 28));
        // Leap day: 29 February 2024 minus one year clamps to 28 February.
        assert_eq!(cutoff(day(2024, 2, 29), 1).unwrap(), day(2023, 2, 28));
        assert_eq!(cutoff(day(2025, 2, 28), 5).unwrap(), day(2020, 2, 28));
        assert_eq!(cutoff(day(2025, 3, 1), 5).unwrap(), day(2020, 3, 1));
        assert!(cutoff(day(2025, 3, 1), u32::MAX).is_err());
    }
}
