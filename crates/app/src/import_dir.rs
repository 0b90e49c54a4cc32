//! The watched import folder (`aanwezig serve --import-dir DIR`): which
//! folder, what kind of file a name means, the last outcomes (which the
//! web's Importeren page shows), and what the watcher needs of the running
//! app ([`ImportHost`]).
//!
//! The watching itself (polling, importing, moving files) runs in the
//! command line's `serve`, which owns the import code; it records every
//! file it handled here. Nothing here is persisted: after a restart the
//! imports log and the audit log still have every import, and `verwerkt/`
//! and `fout/` every file.

use std::collections::VecDeque;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

use aanwezig_storage::Store;
use chrono::{DateTime, NaiveDate, Utc};

/// What the watcher needs of the running app: its store and clock, and a
/// way to make it read the store again after an import. The web's
/// `AppState` is one.
pub trait ImportHost: Send + Sync {
    /// The store imports are written to.
    fn store(&self) -> &dyn Store;
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
    /// The school's current date.
    fn today(&self) -> NaiveDate;
    /// Reads the store again after an import; the error is for the log.
    fn reload(&self) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + '_>>;
}

/// Who the watched folder imports as: in the imports log and the audit log,
/// and shown as "Vastgelegd door de importmap". The space keeps it apart
/// from every username (`aanwezig_auth::check_username`).
pub const IMPORTED_BY: &str = "de importmap";

/// The folder successful files are moved to, inside the watched folder.
pub const PROCESSED_DIR: &str = "verwerkt";

/// The folder failed files are moved to, with their `.fouten.txt`.
pub const FAILED_DIR: &str = "fout";

/// How many outcomes are kept.
pub const MAX_OUTCOMES: usize = 20;

/// What a dropped file holds, by its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropKind {
    /// Registrations (the default), read with the saved import settings.
    Registrations,
    /// Students: a name starting with `leerlingen`.
    Students,
    /// The timetable: a name starting with `rooster`.
    Timetable,
}

impl DropKind {
    /// The kind a file name means: `leerlingen…` students, `rooster…` the
    /// timetable, anything else registrations (case does not matter).
    pub fn of_file_name(name: &str) -> DropKind {
        let lower = name.to_lowercase();
        if lower.starts_with("leerlingen") {
            DropKind::Students
        } else if lower.starts_with("rooster") {
            DropKind::Timetable
        } else {
            DropKind::Registrations
        }
    }

    /// The Dutch name, as the web import writes it in the audit log.
    pub fn label(self) -> &'static str {
        match self {
            DropKind::Registrations => "registraties",
            DropKind::Students => "leerlingen",
            DropKind::Timetable => "rooster",
        }
    }
}

/// Rows read and what happened to them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DropCounts {
    pub rows: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
}

/// How the import of one file ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DropResult {
    /// Imported. `counts` is unknown for a timetable (a new version holds
    /// all its rows); `summary` is the Dutch summary `aanwezig import`
    /// prints, line by line.
    Imported {
        counts: Option<DropCounts>,
        summary: Vec<String>,
    },
    /// Nothing was saved. `errors`: the first problems in Dutch (file,
    /// line, column, why); `total`: how many problems there were in all.
    Failed { errors: Vec<String>, total: usize },
}

/// One file the watched folder handled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DropOutcome {
    /// The name as it was dropped.
    pub file_name: String,
    pub kind: DropKind,
    /// When it was handled.
    pub at: DateTime<Utc>,
    pub result: DropResult,
    /// Where the file went, relative to the watched folder
    /// (`verwerkt/2026-12-07T101500_registraties.csv`); `None` when it
    /// could not be moved and is still in the folder.
    pub moved_to: Option<String>,
    /// A problem beside the import itself, in Dutch (the file could not
    /// be moved, the error file could not be written).
    pub problem: Option<String>,
}

impl DropOutcome {
    /// Whether the file was imported.
    pub fn is_ok(&self) -> bool {
        matches!(self.result, DropResult::Imported { .. })
    }
}

/// The watched folder's state, shared between the watcher and the pages.
#[derive(Debug)]
pub struct ImportDirStatus {
    dir: PathBuf,
    interval: Duration,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Newest first.
    outcomes: VecDeque<DropOutcome>,
    /// Files seen in the folder, still being written (not yet stable).
    waiting: Vec<String>,
    /// Why the folder itself could not be read at the last poll.
    problem: Option<String>,
    last_poll: Option<DateTime<Utc>>,
}

impl ImportDirStatus {
    /// The status of `dir`, looked at every `interval`; nothing handled yet.
    pub fn new(dir: impl Into<PathBuf>, interval: Duration) -> ImportDirStatus {
        ImportDirStatus {
            dir: dir.into(),
            interval,
            inner: Mutex::default(),
        }
    }

    /// The watched folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// How often the folder is looked at.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Notes a handled file; only the newest [`MAX_OUTCOMES`] are kept.
    pub fn record(&self, outcome: DropOutcome) {
        let mut inner = self.lock();
        inner.outcomes.push_front(outcome);
        inner.outcomes.truncate(MAX_OUTCOMES);
    }

    /// The last handled files, newest first.
    pub fn outcomes(&self) -> Vec<DropOutcome> {
        self.lock().outcomes.iter().cloned().collect()
    }

    /// Notes the end of a poll: when, the files still being written, and
    /// a problem with the folder itself (or `None`).
    pub fn polled(&self, at: DateTime<Utc>, waiting: Vec<String>, problem: Option<String>) {
        let mut inner = self.lock();
        inner.last_poll = Some(at);
        inner.waiting = waiting;
        inner.problem = problem;
    }

    /// Files in the folder that are still being written.
    pub fn waiting(&self) -> Vec<String> {
        self.lock().waiting.clone()
    }

    /// Why the folder could not be read at the last poll, in Dutch.
    pub fn problem(&self) -> Option<String> {
        self.lock().problem.clone()
    }

    /// When the folder was last looked at.
    pub fn last_poll(&self) -> Option<DateTime<Utc>> {
        self.lock().last_poll
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves a list that is still
        // whole: keep using it.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn outcome(n: usize) -> DropOutcome {
        DropOutcome {
            file_name: format!("registraties-{n}.csv"),
            kind: DropKind::Registrations,
            at: Utc.with_ymd_and_hms(2026, 12, 7, 10, 15, 0).unwrap(),
            result: DropResult::Failed {
                errors: vec![format!("fout {n}")],
                total: 1,
            },
            moved_to: None,
            problem: None,
        }
    }

    #[test]
    fn a_name_says_what_a_file_holds() {
        for (name, kind) in [
            ("leerlingen.csv", DropKind::Students),
            ("Leerlingen 2026-12-07.xlsx", DropKind::Students),
            ("rooster.csv", DropKind::Timetable),
            ("ROOSTER-week49.csv", DropKind::Timetable),
            ("registraties.csv", DropKind::Registrations),
            ("absenties-leerlingen.csv", DropKind::Registrations),
            ("export.xlsx", DropKind::Registrations),
        ] {
            assert_eq!(DropKind::of_file_name(name), kind, "{name}");
        }
    }

    #[test]
    fn keeps_the_newest_outcomes_first() {
        let status = ImportDirStatus::new("/srv/import", Duration::from_secs(10));
        for n in 0..(MAX_OUTCOMES + 5) {
            status.record(outcome(n));
        }
        let kept = status.outcomes();
        assert_eq!(kept.len(), MAX_OUTCOMES);
        assert_eq!(
            kept[0].file_name,
            format!("registraties-{}.csv", MAX_OUTCOMES + 4)
        );
        assert_eq!(kept[MAX_OUTCOMES - 1].file_name, "registraties-5.csv");
        assert!(!kept[0].is_ok());
    }
}
