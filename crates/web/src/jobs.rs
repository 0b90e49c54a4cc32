//! The server's background work: the idle-session purge every ten minutes
//! and, once a day, the retention purge (attendance and case data five
//! years after a student leaves; the rule is
//! [`aanwezig_storage::retention`], shared with `aanwezig purge`).

use aanwezig_storage::retention::{self, PurgedStudent};
use aanwezig_storage::StoreError;
use chrono::NaiveDate;

use crate::AppState;

/// The name the daily purge writes in the audit log.
pub const SYSTEM_USER: &str = "systeem";

/// Purges idle sessions, then runs the retention purge when the school
/// date (`state.clock.today()`) differs from `last_purge_day` — at the
/// first call and after each change of date. `last_purge_day` only moves
/// on success, so a failed purge is tried again at the next call.
pub async fn housekeeping(state: &AppState, last_purge_day: &mut Option<NaiveDate>) {
    let before = state.clock.now() - state.config.idle_timeout;
    if let Err(e) = state.store.delete_sessions_idle_since(before).await {
        tracing::warn!(error = %e, "purging idle sessions failed");
    }
    match daily_purge(state, last_purge_day).await {
        Ok(purged) if !purged.is_empty() => {
            tracing::info!(students = purged.len(), "retention purge removed students");
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "retention purge failed"),
    }
}

/// The retention purge, at most once per school date: returns the
/// students purged (none when it already ran today). When anything was
/// purged the live evaluation is reloaded, so that no page shows a purged
/// student.
pub async fn daily_purge(
    state: &AppState,
    last_purge_day: &mut Option<NaiveDate>,
) -> Result<Vec<PurgedStudent>, StoreError> {
    let today = state.clock.today();
    if *last_purge_day == Some(today) {
        return Ok(Vec::new());
    }
    let purged = retention::purge_expired(
        state.store.as_ref(),
        today,
        retention::YEARS,
        SYSTEM_USER,
        state.clock.now(),
    )
    .await?;
    *last_purge_day = Some(today);
    if !purged.is_empty() {
        if let Err(e) = state.reload().await {
            tracing::warn!(error = ?e, "reloading after the retention purge failed");
        }
    }
    Ok(purged)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use aanwezig_domain::{Student, StudentId};
    use aanwezig_storage::{AuditAction, AuditFilter, SqliteStore, Store, StoredStudent};
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::{Config, FixedClock};

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn student(n: u32, left_on: Option<NaiveDate>) -> StoredStudent {
        StoredStudent {
            student: Student {
                id: StudentId::parse(&format!("L{n:05}")).unwrap(),
                name: format!("Leerling {n}"),
                class: "2B".to_owned(),
                mentor: "mentor.a".to_owned(),
                date_of_birth: day(2010, 1, 1),
            },
            left_on,
        }
    }

    fn state_on(state: &AppState, today: NaiveDate) -> AppState {
        let mut s = state.clone();
        let now = Utc.from_utc_datetime(&today.and_hms_opt(3, 0, 0).unwrap());
        s.clock = Arc::new(FixedClock::new(now, today));
        s
    }

    async fn numbers(store: &dyn Store) -> Vec<String> {
        let all = store.students().await.unwrap();
        all.into_iter().map(|s| s.student.id.to_string()).collect()
    }

    #[tokio::test]
    async fn purges_once_per_date_and_again_on_the_next() {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory().await.unwrap());
        store
            .upsert_students(&[student(1, Some(day(2020, 6, 30))), student(2, None)])
            .await
            .unwrap();
        let today = day(2025, 11, 14);
        let clock = Arc::new(FixedClock::new(
            Utc.with_ymd_and_hms(2025, 11, 14, 9, 0, 0).unwrap(),
            today,
        ));
        let state = AppState::new(store.clone(), clock, Config::default())
            .await
            .unwrap();
        assert_eq!(state.read().unwrap().school.students().len(), 2);

        let mut last = None;
        let purged = daily_purge(&state, &mut last).await.unwrap();
        assert_eq!(purged.len(), 1);
        assert_eq!(last, Some(today));
        assert_eq!(numbers(store.as_ref()).await, ["L00002"]);
        // The live school no longer has the purged student.
        assert_eq!(state.read().unwrap().school.students().len(), 1);

        // Another student now due (left on 2020-11-13): not on the same
        // date, which already ran; on the next date, yes.
        store
            .upsert_students(&[student(3, Some(day(2020, 11, 13)))])
            .await
            .unwrap();
        assert!(daily_purge(&state, &mut last).await.unwrap().is_empty());
        assert_eq!(numbers(store.as_ref()).await, ["L00002", "L00003"]);
        let tomorrow = state_on(&state, day(2025, 11, 15));
        let purged = daily_purge(&tomorrow, &mut last).await.unwrap();
        assert_eq!(purged.len(), 1);
        assert_eq!(last, Some(day(2025, 11, 15)));
        assert_eq!(numbers(store.as_ref()).await, ["L00002"]);

        let log = store.audit_log(&AuditFilter::default()).await.unwrap();
        assert_eq!(log.len(), 2);
        assert!(log
            .iter()
            .all(|e| e.action == AuditAction::Purge && e.username == SYSTEM_USER));
    }
}
