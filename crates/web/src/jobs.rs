//! The server's background work: the idle-session purge every ten minutes
//! and, once a day, the retention purge (attendance and case data five
//! years after a student leaves; the use case is
//! [`aanwezig_app::retention`], shared with `aanwezig purge`); and,
//! when `aanwezig serve --backup-dir` asks for it, the daily backup
//! ([`daily_backup`], [`run_backups`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use aanwezig_app::retention::{self, PurgedStudent};
use aanwezig_app::AppError;
use aanwezig_storage::{Backup, BackupError, BackupInfo};
use chrono::{DateTime, NaiveDate, Utc};

use crate::clock::Clock;
use crate::AppState;

/// The name the daily purge writes in the audit log.
pub use aanwezig_app::retention::SYSTEM_USER;

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
        Err(e) => tracing::warn!(error = %e.detail(), "retention purge failed"),
    }
}

/// The retention purge, at most once per school date: returns the
/// students purged (none when it already ran today). When anything was
/// purged the live evaluation is reloaded, so that no page shows a purged
/// student.
pub async fn daily_purge(
    state: &AppState,
    last_purge_day: &mut Option<NaiveDate>,
) -> Result<Vec<PurgedStudent>, AppError> {
    let today = state.clock.today();
    if *last_purge_day == Some(today) {
        return Ok(Vec::new());
    }
    let purged = retention::purge(
        state.store.as_ref(),
        &retention::system(),
        today,
        retention::YEARS,
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

/// The daily backup: where to, how many to keep, and what to copy.
#[derive(Clone)]
pub struct BackupSchedule {
    /// The folder of the backups (created when missing).
    pub dir: PathBuf,
    /// How many daily backups to keep; older ones are removed.
    pub keep: usize,
    /// The database to copy.
    pub source: Arc<dyn Backup>,
}

/// The file name of the backup of `date`: `aanwezig-YYYY-MM-DD.db`.
pub fn backup_file_name(date: NaiveDate) -> String {
    format!("aanwezig-{}.db", date.format("%Y-%m-%d"))
}

/// The date in a name [`backup_file_name`] made, or `None` for any other
/// file (pruning never touches those).
fn backup_file_date(name: &str) -> Option<NaiveDate> {
    let date = name.strip_prefix("aanwezig-")?.strip_suffix(".db")?;
    (date.len() == 10)
        .then(|| NaiveDate::parse_from_str(date, "%Y-%m-%d").ok())
        .flatten()
}

/// The date a backup made at `now` is named after: the server's local date
/// (not the school date, which `--today` may hold still).
fn backup_date(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&chrono::Local).date_naive()
}

/// What one run of [`daily_backup`] did.
#[derive(Debug, Default)]
pub struct BackupRun {
    /// The backup written, or `None` when today's already existed (or the
    /// job already ran today).
    pub written: Option<BackupInfo>,
    /// Older backups removed to keep [`BackupSchedule::keep`].
    pub removed: Vec<PathBuf>,
}

/// Removes all but the newest `keep` daily backups in `dir`; other files are
/// left alone. Returns the removed paths, oldest first.
fn prune(dir: &Path, keep: usize) -> Result<Vec<PathBuf>, BackupError> {
    let entries = std::fs::read_dir(dir).map_err(|e| io_error(dir, e))?;
    let mut backups = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| io_error(dir, e))?;
        let name = entry.file_name();
        if let Some(date) = name.to_str().and_then(backup_file_date) {
            if entry.file_type().map_err(|e| io_error(dir, e))?.is_file() {
                backups.push((date, entry.path()));
            }
        }
    }
    backups.sort();
    let excess = backups.len().saturating_sub(keep);
    let mut removed = Vec::with_capacity(excess);
    for (_, path) in backups.into_iter().take(excess) {
        std::fs::remove_file(&path).map_err(|e| io_error(&path, e))?;
        removed.push(path);
    }
    Ok(removed)
}

fn io_error(path: &Path, source: std::io::Error) -> BackupError {
    BackupError::Io {
        path: path.to_owned(),
        source,
    }
}

/// The daily backup, at most once per date: writes today's backup unless
/// it exists (so a restart does not make a second one), then prunes to
/// [`BackupSchedule::keep`]. `last_day` only moves on success, so a failed
/// run is tried again at the next call.
pub async fn daily_backup(
    schedule: &BackupSchedule,
    now: DateTime<Utc>,
    last_day: &mut Option<NaiveDate>,
) -> Result<BackupRun, BackupError> {
    let day = backup_date(now);
    if *last_day == Some(day) {
        return Ok(BackupRun::default());
    }
    std::fs::create_dir_all(&schedule.dir).map_err(|e| io_error(&schedule.dir, e))?;
    let path = schedule.dir.join(backup_file_name(day));
    let written = if path.exists() {
        None
    } else {
        Some(schedule.source.backup_to(&path, false).await?)
    };
    let removed = prune(&schedule.dir, schedule.keep.max(1))?;
    *last_day = Some(day);
    Ok(BackupRun { written, removed })
}

/// Runs [`daily_backup`] at start and then every ten minutes (it acts once
/// per date), logging what it did and every failure; it never ends and
/// never takes the server down.
pub async fn run_backups(schedule: BackupSchedule, clock: Arc<dyn Clock>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
    let mut last_day = None;
    loop {
        // The first tick completes at once: the backup runs at start.
        tick.tick().await;
        match daily_backup(&schedule, clock.now(), &mut last_day).await {
            Ok(run) => {
                if let Some(info) = &run.written {
                    tracing::info!(
                        file = %info.path.display(),
                        bytes = info.bytes,
                        students = info.students,
                        registrations = info.registrations,
                        "daily backup written"
                    );
                }
                for path in &run.removed {
                    tracing::info!(file = %path.display(), "old daily backup removed");
                }
            }
            Err(e) => tracing::error!(
                error = %e,
                dir = %schedule.dir.display(),
                "daily backup failed; trying again in ten minutes"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use aanwezig_domain::{Student, StudentId};
    use aanwezig_storage::{AuditAction, AuditFilter, Store, StoredStudent};
    use aanwezig_storage_sqlite::SqliteStore;
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
                bsn: None,
                onderwijsnummer: None,
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

#[cfg(test)]
mod backup_tests {
    use std::sync::Arc;

    use aanwezig_domain::{Student, StudentId};
    use aanwezig_storage::{Store, StoredStudent};
    use aanwezig_storage_sqlite::SqliteStore;
    use chrono::{Duration, TimeZone, Utc};

    use super::*;
    use crate::FixedClock;
    use aanwezig_storage::prelude::*;

    async fn store_in(dir: &Path) -> SqliteStore {
        let store = SqliteStore::open(dir.join("school.db").to_str().unwrap(), true)
            .await
            .unwrap();
        store
            .upsert_students(&[StoredStudent {
                student: Student {
                    id: StudentId::parse("8001").unwrap(),
                    name: "Leerling".to_owned(),
                    class: "1A".to_owned(),
                    mentor: "mentor_1a".to_owned(),
                    date_of_birth: NaiveDate::from_ymd_opt(2013, 1, 1).unwrap(),
                    bsn: None,
                    onderwijsnummer: None,
                },
                left_on: None,
            }])
            .await
            .unwrap();
        store
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut n: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        n.sort();
        n
    }

    #[test]
    fn only_its_own_names_count_as_backups() {
        let d = NaiveDate::from_ymd_opt(2025, 11, 14).unwrap();
        assert_eq!(backup_file_name(d), "aanwezig-2025-11-14.db");
        assert_eq!(backup_file_date("aanwezig-2025-11-14.db"), Some(d));
        for other in [
            "aanwezig.db",
            "aanwezig-latest.db",
            "aanwezig-2025-11-14.db.lock",
            ".aanwezig-2025-11-14.db.backup-x.tmp",
            "aanwezig-2025-1-14.db",
            "aanwezig-2025-02-30.db",
        ] {
            assert_eq!(backup_file_date(other), None, "{other}");
        }
    }

    #[tokio::test]
    async fn writes_once_a_day_skips_an_existing_one_and_keeps_the_newest() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Arc::new(store_in(tmp.path()).await);
        let dir = tmp.path().join("backups");
        let schedule = BackupSchedule {
            dir: dir.clone(),
            keep: 3,
            source: store.clone(),
        };
        let clock = FixedClock::new(
            Utc.with_ymd_and_hms(2025, 11, 14, 12, 0, 0).unwrap(),
            NaiveDate::from_ymd_opt(2025, 11, 14).unwrap(),
        );
        let mut last = None;

        // At start: the folder is made and today's backup written.
        let run = daily_backup(&schedule, clock.now(), &mut last)
            .await
            .unwrap();
        let today = dir.join("aanwezig-2025-11-14.db");
        assert_eq!(run.written.as_ref().map(|i| &i.path), Some(&today));
        assert_eq!(run.written.unwrap().students, 1);
        assert!(run.removed.is_empty());
        assert_eq!(
            SqliteStore::verify_backup(&today).await.unwrap().students,
            1
        );

        // Later the same day: nothing. After a restart the same day: today's
        // exists, so it is kept as it was.
        clock.advance(Duration::hours(3));
        let run = daily_backup(&schedule, clock.now(), &mut last)
            .await
            .unwrap();
        assert!(run.written.is_none() && run.removed.is_empty());
        let bytes = std::fs::read(&today).unwrap();
        let mut after_restart = None;
        let run = daily_backup(&schedule, clock.now(), &mut after_restart)
            .await
            .unwrap();
        assert!(run.written.is_none());
        assert_eq!(std::fs::read(&today).unwrap(), bytes);

        // Older backups and other files in the folder.
        for day in 1..=5 {
            std::fs::write(dir.join(format!("aanwezig-2025-11-0{day}.db")), b"oud").unwrap();
        }
        std::fs::write(dir.join("notities.txt"), b"niet weggooien").unwrap();
        std::fs::write(dir.join("aanwezig-handmatig.db"), b"ook niet").unwrap();

        // The next day: a new backup, and only the newest 3 are kept.
        clock.advance(Duration::hours(24));
        let run = daily_backup(&schedule, clock.now(), &mut last)
            .await
            .unwrap();
        assert_eq!(
            run.written.map(|i| i.path),
            Some(dir.join("aanwezig-2025-11-15.db"))
        );
        let removed: Vec<String> = run
            .removed
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            removed,
            [
                "aanwezig-2025-11-01.db",
                "aanwezig-2025-11-02.db",
                "aanwezig-2025-11-03.db",
                "aanwezig-2025-11-04.db"
            ]
        );
        assert_eq!(
            names(&dir),
            [
                "aanwezig-2025-11-05.db",
                "aanwezig-2025-11-14.db",
                "aanwezig-2025-11-15.db",
                "aanwezig-handmatig.db",
                "notities.txt"
            ]
        );
        assert_eq!(last, Some(NaiveDate::from_ymd_opt(2025, 11, 15).unwrap()));
        store.close().await;
    }

    #[tokio::test]
    async fn a_failure_is_returned_and_tried_again_not_a_crash() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Arc::new(store_in(tmp.path()).await);
        // The backup folder's place is taken by a file.
        let dir = tmp.path().join("backups");
        std::fs::write(&dir, b"geen map").unwrap();
        let schedule = BackupSchedule {
            dir: dir.clone(),
            keep: 7,
            source: store.clone(),
        };
        let now = Utc.with_ymd_and_hms(2025, 11, 14, 12, 0, 0).unwrap();
        let mut last = None;
        let err = daily_backup(&schedule, now, &mut last).await.unwrap_err();
        assert!(matches!(err, BackupError::Io { .. }), "{err:?}");
        assert_eq!(last, None, "a failed run is tried again");

        // Once the folder can be made, the next call writes the backup.
        std::fs::remove_file(&dir).unwrap();
        let run = daily_backup(&schedule, now, &mut last).await.unwrap();
        assert!(run.written.is_some());
        store.close().await;
    }
}
