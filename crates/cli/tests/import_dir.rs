//! The watched folder (`aanwezig serve --import-dir`): a real server on
//! port 0 with a real database file picks up files dropped in a real
//! folder; and the watcher driven poll by poll, to see exactly when a file
//! is (not) read.
//!
//! Nothing here is timed: the server tests wait for files to appear (with
//! a generous limit, so that a broken watcher fails instead of hanging),
//! and the poll-by-poll tests call the watcher themselves.

#![expect(clippy::unwrap_used, reason = "test helpers panic on broken fixtures")]

use aanwezig_storage::prelude::*;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aanwezig::commands::import::{import_into, Progress};
use aanwezig::commands::import_dir::{prepare, Watcher};
use aanwezig::ImportArgs;
use aanwezig_app::import_dir::{DropResult, ImportDirStatus};
use aanwezig_storage::{AuditAction, AuditFilter, DocumentKind, Store};
use aanwezig_storage_sqlite::SqliteStore;
use aanwezig_web::{AppState, Config, FixedClock};
use chrono::{NaiveDate, TimeZone, Utc};
use tempfile::TempDir;

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(p)
}

fn calendar() -> PathBuf {
    repo("data/calendars/2025-2026-noord.toml")
}

async fn open(db: &Path) -> SqliteStore {
    SqliteStore::open(db.to_str().unwrap(), true).await.unwrap()
}

/// A database with the calendar (and the students, when given), as
/// `aanwezig import` would leave it.
async fn school(db: &Path, students: bool) {
    let store = open(db).await;
    let args = ImportArgs {
        calendars: vec![calendar()],
        rijksoverheid: None,
        region: "noord".into(),
        policy: None,
        students: students.then(|| repo("examples/students.csv")),
        registrations: Vec::new(),
        timetable: None,
        format: None,
        presence: None,
        from: None,
        until: None,
        add_codes: false,
        by: "test".into(),
    };
    let now = Utc.with_ymd_and_hms(2025, 9, 1, 7, 0, 0).unwrap();
    import_into(&store, &args, now.date_naive(), now, Progress::Hidden)
        .await
        .map_err(|f| f.error)
        .unwrap();
    store.close().await;
}

/// The names in a folder, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut n: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    n.sort();
    n
}

/// `aanwezig serve` on port 0, killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Server {
    /// Starts the server on `db`, watching `inbox` every 50 ms, and waits
    /// until it listens.
    fn start(dir: &Path, inbox: &Path) -> Server {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("aanwezig"))
            .current_dir(dir)
            .env("AANWEZIG_DB", dir.join("test.db"))
            .env("AANWEZIG_TODAY", "2025-11-14")
            .env_remove("AANWEZIG_BACKUP_DIR")
            .env_remove("AANWEZIG_IMPORT_POLL_MS")
            .args(["serve", "--addr", "127.0.0.1:0", "--import-poll-ms", "50"])
            .arg("--import-dir")
            .arg(inbox)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let mut said = String::new();
        loop {
            let line = lines
                .next()
                .unwrap_or_else(|| panic!("the server stopped before it listened: {said}"))
                .unwrap();
            if line.contains("aanwezig draait op") {
                break;
            }
            said.push_str(&line);
            said.push('\n');
        }
        assert!(said.contains("Importmap: "), "{said}");
        std::thread::spawn(move || lines.for_each(drop));
        Server(child)
    }

    /// Waits until `found` gives something. The limit only turns a watcher
    /// that never acts into a failure; it is not what the test checks.
    fn wait_for<T>(&mut self, what: &str, mut found: impl FnMut() -> Option<T>) -> T {
        let give_up = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(t) = found() {
                return t;
            }
            assert!(self.0.try_wait().unwrap().is_none(), "the server stopped");
            assert!(Instant::now() < give_up, "still waiting for {what}");
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

/// The one file in `dir` whose name ends with `_<name>`.
fn moved(dir: &Path, name: &str) -> Option<PathBuf> {
    let suffix = format!("_{name}");
    let found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(&suffix))
        .collect();
    assert!(found.len() <= 1, "{found:?}");
    found.into_iter().next()
}

/// Writes `bytes` as `name.part`, then renames it to `name`: how an
/// export should arrive.
fn drop_file(dir: &Path, name: &str, bytes: &[u8]) {
    let part = dir.join(format!("{name}.part"));
    std::fs::write(&part, bytes).unwrap();
    std::fs::rename(part, dir.join(name)).unwrap();
}

#[tokio::test]
async fn the_watched_folder_imports_good_files_and_rejects_bad_ones_whole() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    school(&d.join("test.db"), false).await;
    let inbox = d.join("import");
    std::fs::create_dir(&inbox).unwrap();
    // Left alone: a hidden file, a file still arriving, a folder.
    std::fs::write(inbox.join(".verborgen.csv"), b"x").unwrap();
    std::fs::write(inbox.join("onderweg.csv.part"), b"student_id,da").unwrap();
    std::fs::create_dir(inbox.join("archief")).unwrap();

    let mut server = Server::start(d, &inbox);
    let processed = inbox.join("verwerkt");
    let failed = inbox.join("fout");
    assert!(processed.is_dir() && failed.is_dir());

    // Students first (by their name), then the registrations.
    drop_file(
        &inbox,
        "leerlingen.csv",
        &std::fs::read(repo("examples/students.csv")).unwrap(),
    );
    server.wait_for("leerlingen in verwerkt/", || {
        moved(&processed, "leerlingen.csv")
    });
    let registrations = std::fs::read(repo("examples/registrations.csv")).unwrap();
    drop_file(&inbox, "registraties.csv", &registrations);
    let done = server.wait_for("registraties in verwerkt/", || {
        moved(&processed, "registraties.csv")
    });
    assert_eq!(std::fs::read(&done).unwrap(), registrations);
    // `2025-…T……_registraties.csv`: a local time stamp before the name.
    let stamp = done.file_name().unwrap().to_string_lossy().into_owned();
    assert_eq!(stamp.find('_'), Some(17), "{stamp}");
    assert_eq!(&stamp[10..11], "T", "{stamp}");

    let store = open(&d.join("test.db")).await;
    assert_eq!(store.student_count().await.unwrap(), 5);
    assert_eq!(store.registration_count().await.unwrap(), 350);
    let log = store.imports().await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].source.file_name, "registraties.csv");
    assert_eq!(log[0].source.imported_by, "de importmap");
    assert_eq!(log[0].summary.inserted, 350);

    // A bad date on line 3: the whole file is refused.
    let mut bad = String::from_utf8(registrations.clone()).unwrap();
    bad = bad.replacen("240101,2025-09-01,2,", "240101,2025-09-31,2,", 1);
    drop_file(&inbox, "kapot.csv", bad.as_bytes());
    let refused = server.wait_for("kapot.csv in fout/", || moved(&failed, "kapot.csv"));
    let report_name = format!("{}.fouten.txt", refused.display());
    let report = server.wait_for("the .fouten.txt", || {
        std::fs::read_to_string(&report_name).ok()
    });
    assert!(report.contains("kapot.csv is niet ingelezen"), "{report}");
    assert!(report.contains("er is niets opgeslagen"), "{report}");
    assert!(report.contains("regel 3, kolom date"), "{report}");
    assert!(report.contains("2025-09-31"), "{report}");
    assert_eq!(std::fs::read(&refused).unwrap(), bad.as_bytes());
    assert_eq!(store.registration_count().await.unwrap(), 350);
    assert_eq!(store.imports().await.unwrap().len(), 1);

    // Every file handled is in the audit log, by "de importmap".
    let audit: Vec<String> = store
        .audit_log(&AuditFilter::default())
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == AuditAction::Import && e.username == "de importmap")
        .map(|e| e.detail)
        .collect();
    assert_eq!(audit.len(), 3, "{audit:?}");
    assert!(
        audit.iter().any(|d| d.starts_with(
            "registraties.csv (registraties): 350 regels, 350 nieuw, 0 gewijzigd, 0 ongewijzigd"
        )),
        "{audit:?}"
    );
    assert!(
        audit
            .iter()
            .any(|d| d.starts_with("leerlingen.csv (leerlingen): 5 regels, 5 nieuw")),
        "{audit:?}"
    );
    assert!(
        audit
            .iter()
            .any(|d| d.starts_with("kapot.csv (registraties): mislukt")
                && d.contains("(importmap, verplaatst naar fout/")),
        "{audit:?}"
    );
    store.close().await;

    // What was not an export is where it was.
    assert_eq!(
        names(&inbox),
        [
            ".verborgen.csv",
            "archief",
            "fout",
            "onderweg.csv.part",
            "verwerkt"
        ]
    );
    assert_eq!(names(&processed).len(), 2);
    assert_eq!(names(&failed).len(), 2);
}

#[tokio::test]
async fn a_magister_export_is_read_with_the_saved_settings() {
    let tmp = TempDir::new().unwrap();
    let d = tmp.path();
    school(&d.join("test.db"), true).await;
    let store = open(&d.join("test.db")).await;
    let at = Utc.with_ymd_and_hms(2025, 9, 1, 8, 0, 0).unwrap();
    store
        .save_settings(
            DocumentKind::Import,
            r#"{"format":"magister"}"#,
            "beheer",
            at,
        )
        .await
        .unwrap();
    store.close().await;
    let inbox = d.join("import");
    std::fs::create_dir(&inbox).unwrap();
    let mut server = Server::start(d, &inbox);

    drop_file(
        &inbox,
        "absenties.csv",
        &std::fs::read(repo("examples/magister-absenties.csv")).unwrap(),
    );
    server.wait_for("absenties in verwerkt/", || {
        moved(&inbox.join("verwerkt"), "absenties.csv")
    });
    let store = open(&d.join("test.db")).await;
    let log = store.imports().await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].summary.rows, 44);
    assert_eq!(
        store.policy().await.unwrap().unwrap().presence,
        aanwezig_domain::Presence::Implied
    );
    store.close().await;
    assert!(names(&inbox.join("fout")).is_empty());
}

#[test]
fn serve_refuses_a_missing_import_folder_in_dutch() {
    let tmp = TempDir::new().unwrap();
    let out = assert_cmd::Command::cargo_bin("aanwezig")
        .unwrap()
        .current_dir(tmp.path())
        .env("AANWEZIG_DB", tmp.path().join("test.db"))
        .env_remove("AANWEZIG_IMPORT_DIR")
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--import-dir",
            "bestaat-niet",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("de importmap bestaat-niet bestaat niet; maak die eerst aan"),
        "{err}"
    );
    assert!(!tmp.path().join("bestaat-niet").exists());

    std::fs::write(tmp.path().join("een-bestand"), b"").unwrap();
    let err = prepare(&tmp.path().join("een-bestand")).unwrap_err();
    assert!(format!("{err:#}").contains("is geen map"), "{err:#}");
}

/// An app on a real database file, with the watched folder `inbox`.
async fn app(d: &Path) -> (AppState, Watcher, Arc<ImportDirStatus>, PathBuf) {
    school(&d.join("test.db"), true).await;
    let inbox = d.join("import");
    std::fs::create_dir(&inbox).unwrap();
    prepare(&inbox).unwrap();
    let store: Arc<dyn Store> = Arc::new(open(&d.join("test.db")).await);
    let clock = Arc::new(FixedClock::new(
        Utc.with_ymd_and_hms(2025, 11, 14, 9, 15, 0).unwrap(),
        NaiveDate::from_ymd_opt(2025, 11, 14).unwrap(),
    ));
    let mut state = AppState::new(store, clock, Config::default())
        .await
        .unwrap();
    let status = Arc::new(ImportDirStatus::new(&inbox, Duration::from_secs(10)));
    state.import_dir = Some(status.clone());
    (state, Watcher::new(status.clone()), status, inbox)
}

#[tokio::test]
async fn a_file_still_being_written_is_not_read_until_it_is_stable() {
    let tmp = TempDir::new().unwrap();
    let (state, mut watcher, status, inbox) = app(tmp.path()).await;
    let full = std::fs::read(repo("examples/registrations.csv")).unwrap();
    let path = inbox.join("registraties.csv");
    // The writer stops in the middle of a line, twice.
    let (first, rest) = full.split_at(full.len() / 3);
    let (second, third) = rest.split_at(rest.len() / 2);
    std::fs::write(&path, first).unwrap();

    assert_eq!(watcher.poll(&state).await, 0, "first seen");
    assert_eq!(status.waiting(), ["registraties.csv"]);
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    f.write_all(second).unwrap();
    assert_eq!(watcher.poll(&state).await, 0, "it grew");
    f.write_all(third).unwrap();
    f.sync_all().unwrap();
    assert_eq!(watcher.poll(&state).await, 0, "it grew again");
    assert_eq!(state.store.registration_count().await.unwrap(), 0);
    assert!(state.store.imports().await.unwrap().is_empty());
    assert!(path.exists());
    assert_eq!(state.read().unwrap().school.registration_count(), 0);

    assert_eq!(
        watcher.poll(&state).await,
        1,
        "unchanged since the last poll"
    );
    assert!(!path.exists());
    assert!(status.waiting().is_empty());
    assert_eq!(state.store.registration_count().await.unwrap(), 350);
    let processed = inbox.join("verwerkt");
    let stamp = Utc
        .with_ymd_and_hms(2025, 11, 14, 9, 15, 0)
        .unwrap()
        .with_timezone(&chrono::Local)
        .format("%Y-%m-%dT%H%M%S");
    let name = format!("{stamp}_registraties.csv");
    assert_eq!(names(&processed), std::slice::from_ref(&name));
    assert_eq!(std::fs::read(processed.join(&name)).unwrap(), full);

    let outcomes = status.outcomes();
    assert_eq!(outcomes.len(), 1);
    assert_eq!(
        outcomes[0].moved_to.as_deref(),
        Some(&*format!("verwerkt/{name}"))
    );
    match &outcomes[0].result {
        DropResult::Imported { counts, summary } => {
            assert_eq!(counts.unwrap().inserted, 350);
            assert!(
                summary
                    .iter()
                    .any(|l| l.starts_with("registraties.csv: 350 registraties, 350 nieuw")),
                "{summary:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    // The live school was reloaded: the pages see the registrations.
    assert_eq!(state.read().unwrap().school.registration_count(), 350);

    // The same name again the next day does not overwrite yesterday's.
    std::fs::write(&path, &full).unwrap();
    watcher.poll(&state).await;
    assert_eq!(watcher.poll(&state).await, 1);
    let kept = names(&processed);
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert!(
        kept.contains(&format!("{stamp}-2_registraties.csv")),
        "{kept:?}"
    );
}

#[tokio::test]
async fn a_file_that_cannot_be_moved_stays_and_is_not_imported_twice() {
    let tmp = TempDir::new().unwrap();
    let (state, mut watcher, status, inbox) = app(tmp.path()).await;
    // verwerkt/ is broken: a file where the folder should be.
    let processed = inbox.join("verwerkt");
    std::fs::remove_dir(&processed).unwrap();
    std::fs::write(&processed, b"").unwrap();
    let path = inbox.join("registraties.csv");
    std::fs::copy(repo("examples/registrations.csv"), &path).unwrap();

    assert_eq!(watcher.poll(&state).await, 0);
    assert_eq!(watcher.poll(&state).await, 1);
    assert!(path.exists(), "never lose a file");
    assert_eq!(state.store.imports().await.unwrap().len(), 1);
    let outcome = &status.outcomes()[0];
    assert!(outcome.is_ok());
    assert_eq!(outcome.moved_to, None);
    let problem = outcome.problem.as_deref().unwrap();
    assert!(
        problem.contains("blijft in de importmap staan en wordt niet opnieuw ingelezen"),
        "{problem}"
    );

    for _ in 0..3 {
        assert_eq!(watcher.poll(&state).await, 0);
    }
    assert_eq!(
        state.store.imports().await.unwrap().len(),
        1,
        "imported once"
    );
    assert!(path.exists());

    // Once the folder is repaired, the file is moved without a new import.
    std::fs::remove_file(&processed).unwrap();
    std::fs::create_dir(&processed).unwrap();
    assert_eq!(watcher.poll(&state).await, 0);
    assert!(!path.exists());
    assert_eq!(names(&processed).len(), 1);
    assert_eq!(state.store.imports().await.unwrap().len(), 1);
    assert_eq!(status.outcomes().len(), 1);
}
