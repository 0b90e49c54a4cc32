//! Backup and restore on real SQLite files: a backup taken while another
//! task writes, restores refused for every reason they are refused for, and
//! a restore that keeps the database it replaces.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] fns; a failure is a test failure"
)]

use aanwezig_storage::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use aanwezig_domain::{Category, RegistrationRecord, Student, StudentId};
use aanwezig_storage::{Backup, BackupError, ImportSource, Store, StoreError, StoredStudent};
use aanwezig_storage_sqlite::SqliteStore;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use sqlx::{Connection, SqliteConnection};

/// Students in the class whose register the writer saves.
const CLASS: u32 = 30;

fn sid(n: u32) -> StudentId {
    StudentId::parse(&format!("{}", 7000 + n)).unwrap()
}

fn student(n: u32) -> StoredStudent {
    StoredStudent {
        student: Student {
            id: sid(n),
            name: format!("Leerling {n}"),
            class: "3C".to_owned(),
            mentor: "mentor_3c".to_owned(),
            date_of_birth: NaiveDate::from_ymd_opt(2011, 5, 1).unwrap(),
            bsn: None,
            onderwijsnummer: None,
        },
        left_on: None,
    }
}

fn at(min: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 11, 14, 8, 0, 0).unwrap() + chrono::Duration::minutes(min)
}

fn record(n: u32, date: NaiveDate, lesson: u8, note: Option<String>) -> RegistrationRecord {
    RegistrationRecord {
        student: sid(n),
        date,
        lesson,
        minutes: 50,
        code: note.as_ref().map(|_| "A".to_owned()),
        category: if note.is_some() {
            Category::Unknown
        } else {
            Category::Present
        },
        minutes_late: 0,
        note,
    }
}

/// Round `r` of the writer: the whole class's register for one lesson, all
/// marked with the round's note. Each round is a new (date, lesson).
fn round(r: u64) -> Vec<RegistrationRecord> {
    let date = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + chrono::Days::new(r / 9);
    let lesson = u8::try_from(r % 9).unwrap() + 1;
    (0..CLASS)
        .map(|n| record(n, date, lesson, Some(format!("ronde {r}"))))
        .collect()
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

async fn raw(path: &Path) -> SqliteConnection {
    SqliteConnection::connect(&format!("sqlite://{}", path_str(path)))
        .await
        .unwrap()
}

/// A store on `path` with the class and `lessons` bulk-imported lessons per
/// student (so that a backup has something to copy).
async fn school(path: &Path, lessons: u32) -> SqliteStore {
    let store = SqliteStore::open(path_str(path), true).await.unwrap();
    let students: Vec<_> = (0..CLASS).map(student).collect();
    store.upsert_students(&students).await.unwrap();
    let start = NaiveDate::from_ymd_opt(2025, 9, 1).unwrap();
    let records: Vec<_> = (0..CLASS)
        .flat_map(|n| {
            (0..lessons).map(move |i| {
                let date = start + chrono::Days::new(u64::from(i / 8));
                record(n, date, u8::try_from(i % 8).unwrap() + 1, None)
            })
        })
        .collect();
    let source = ImportSource {
        file_name: "registraties.csv".to_owned(),
        sha256: "cd".repeat(32),
        imported_by: "beheer".to_owned(),
        at: at(0),
    };
    store
        .import_registrations(&records, &source, &|_| {})
        .await
        .unwrap();
    store
}

async fn integrity(path: &Path) -> Vec<String> {
    let mut conn = raw(path).await;
    let rows = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    rows
}

/// The file names in `dir`, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backups_under_write_load_restore_every_acknowledged_save() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("school.db");
    let store = school(&db, 8 * 200).await;

    // The writer saves one class register per round, each a transaction of
    // CLASS lessons, and counts a round only once the store acknowledged it.
    let acked = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (store, acked, stop) = (store.clone(), acked.clone(), stop.clone());
        tokio::spawn(async move {
            let mut r = 0;
            while !stop.load(Ordering::SeqCst) {
                store
                    .set_registrations(&round(r), "mentor_3c", at(1))
                    .await
                    .unwrap();
                r += 1;
                acked.store(r, Ordering::SeqCst);
            }
        })
    };

    let mut checked = Vec::new();
    for b in 0..5u64 {
        // Let the writer get going (and go on) before each backup.
        let until = acked.load(Ordering::SeqCst) + 10;
        while acked.load(Ordering::SeqCst) < until {
            tokio::task::yield_now().await;
        }
        let before = acked.load(Ordering::SeqCst);
        let file = dir.path().join(format!("backup-{b}.db"));
        let info = store.backup_to(&file, false).await.unwrap();
        let after = acked.load(Ordering::SeqCst);
        checked.push((file, info, before, after));
    }
    stop.store(true, Ordering::SeqCst);
    writer.await.unwrap();
    let total = acked.load(Ordering::SeqCst);
    store.close().await;
    drop(store);

    for (i, (file, info, before, after)) in checked.iter().enumerate() {
        // A backup is one file: no -wal or -journal beside it.
        assert!(!PathBuf::from(format!("{}-wal", file.display())).exists());
        let restored = dir.path().join(format!("restored-{i}.db"));
        let report = SqliteStore::restore(&restored, file, at(60)).await.unwrap();
        assert_eq!(report.previous, None);
        assert_eq!(report.migrations_applied, 0);
        assert_eq!(report.backup.registrations, info.registrations);
        assert_eq!(integrity(&restored).await, ["ok"]);

        // Per round, all of its lessons or none; every round acknowledged
        // before the backup began is there, none after it returned.
        let mut conn = raw(&restored).await;
        let per_round: Vec<(String, i64)> = sqlx::query_as(
            "SELECT note, count(*) FROM registrations WHERE note IS NOT NULL GROUP BY note",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        conn.close().await.unwrap();
        let mut rounds: Vec<u64> = per_round
            .iter()
            .map(|(note, n)| {
                assert_eq!(*n, i64::from(CLASS), "{note} is half-written");
                note.trim_start_matches("ronde ").parse().unwrap()
            })
            .collect();
        rounds.sort_unstable();
        let held = rounds.len() as u64;
        assert_eq!(rounds, (0..held).collect::<Vec<_>>(), "a gap in the rounds");
        assert!(
            held >= *before,
            "backup {i}: {held} rounds, {before} acknowledged before it"
        );
        assert!(
            held <= *after,
            "backup {i}: {held} rounds, only {after} acknowledged after it"
        );
        eprintln!(
            "backup {i}: {} bytes, rounds acknowledged before {before}, held {held}, acknowledged when it returned {after}",
            info.bytes
        );
    }
    eprintln!("writer saved {total} rounds of {CLASS} lessons in all");
}

#[tokio::test]
async fn backup_refuses_to_overwrite_unless_told_to_and_says_what_it_holds() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("school.db");
    let store = school(&db, 16).await;
    let file = dir.path().join("backup.db");
    std::fs::write(&file, b"something else").unwrap();

    let err = store.backup_to(&file, false).await.unwrap_err();
    assert!(
        matches!(&err, BackupError::Exists(p) if p == &file),
        "{err:?}"
    );
    assert_eq!(std::fs::read(&file).unwrap(), b"something else");

    let info = store.backup_to(&file, true).await.unwrap();
    assert_eq!(info.path, file);
    assert_eq!(info.students, u64::from(CLASS));
    assert_eq!(info.registrations, u64::from(CLASS) * 16);
    assert_eq!(info.users, 0);
    assert_eq!(info.last_change, Some(at(0)));
    assert_eq!(info.bytes, std::fs::metadata(&file).unwrap().len());
    assert_eq!(SqliteStore::verify_backup(&file).await.unwrap(), info);
    // A backup holds personal data: only its owner may read it.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    // Only the database, its lock file and the backup: no temporary files.
    assert_eq!(
        listing(dir.path()),
        [
            "backup.db",
            "school.db",
            "school.db-shm",
            "school.db-wal",
            "school.db.lock"
        ]
    );
    store.close().await;
}

#[tokio::test]
async fn an_in_memory_store_is_refused_not_copied_empty() {
    // VACUUM INTO from an in-memory database writes its copy in memory too:
    // without the check, the "backup" would be an empty file.
    let store = SqliteStore::open_in_memory().await.unwrap();
    store.upsert_students(&[student(1)]).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("memory.db");
    let err = store.backup_to(&file, false).await.unwrap_err();
    assert!(
        matches!(err, BackupError::Store(StoreError::Config(_))),
        "{err:?}"
    );
    assert!(listing(dir.path()).is_empty());
}

#[tokio::test]
async fn restore_is_refused_while_a_store_has_the_database_open() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("school.db");
    let store = school(&db, 8).await;
    let file = dir.path().join("backup.db");
    store.backup_to(&file, false).await.unwrap();
    store.upsert_students(&[student(99)]).await.unwrap();

    // The store holds the same lock a running server holds.
    let err = SqliteStore::restore(&db, &file, at(5)).await.unwrap_err();
    assert!(
        matches!(&err, BackupError::InUse(p) if p == &dir.path().join("school.db.lock")),
        "{err:?}"
    );
    assert_eq!(store.student_count().await.unwrap(), u64::from(CLASS) + 1);
    store.close().await;
    drop(store);
    assert!(!listing(dir.path()).iter().any(|n| n.contains("herstel")));

    let report = SqliteStore::restore(&db, &file, at(5)).await.unwrap();
    assert!(report.previous.is_some());
    let store = SqliteStore::open(path_str(&db), false).await.unwrap();
    assert_eq!(store.student_count().await.unwrap(), u64::from(CLASS));
    store.close().await;
}

#[tokio::test]
async fn a_store_cannot_open_the_database_while_a_restore_replaces_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("school.db");
    let store = school(&db, 8).await;
    let file = dir.path().join("backup.db");
    store.backup_to(&file, false).await.unwrap();
    store.close().await;
    drop(store);

    // Hold the restore's exclusive lock through a restore that is still
    // checking a (large) file is not reproducible; hold it directly.
    let lock = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(dir.path().join("school.db.lock"))
        .unwrap();
    fs4::FileExt::try_lock(&lock).unwrap();
    let err = SqliteStore::open(path_str(&db), false).await.unwrap_err();
    assert!(matches!(err, StoreError::Locked(_)), "{err:?}");
    fs4::FileExt::unlock(&lock).unwrap();
    SqliteStore::open(path_str(&db), false)
        .await
        .unwrap()
        .close()
        .await;
}

/// Damages a copy of a good backup in one of several ways.
async fn bad_files(dir: &Path, good: &Path) -> Vec<(&'static str, PathBuf)> {
    let mut out = Vec::new();
    let mut put = |name: &'static str, bytes: Vec<u8>| {
        let p = dir.join(format!("{name}.db"));
        std::fs::write(&p, bytes).unwrap();
        out.push((name, p));
    };
    let bytes = std::fs::read(good).unwrap();
    put(
        "garbage",
        b"dit is geen database, maar een boodschappenlijst\n".repeat(200),
    );
    let mut corrupt = bytes.clone();
    // Page 2 onwards (4 KiB pages): the b-trees of the tables.
    for b in &mut corrupt[4096..4096 * 4] {
        *b = 0xa5;
    }
    put("corrupt", corrupt);
    put("truncated", bytes[..bytes.len() / 2].to_vec());
    put("empty", Vec::new());

    let foreign = dir.join("foreign.db");
    let mut conn = SqliteConnection::connect(&format!("sqlite://{}?mode=rwc", foreign.display()))
        .await
        .unwrap();
    sqlx::query("CREATE TABLE recipes (name TEXT)")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    out.push(("foreign", foreign));

    for (name, sql) in [
        (
            "newer",
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
             VALUES (9001, 'from the future', 1, x'00', 0)",
        ),
        (
            "mismatch",
            "UPDATE _sqlx_migrations SET checksum = x'00' WHERE version = 2",
        ),
        (
            "unfinished",
            "UPDATE _sqlx_migrations SET success = 0 WHERE version = 2",
        ),
    ] {
        let p = dir.join(format!("{name}.db"));
        std::fs::copy(good, &p).unwrap();
        let mut conn = raw(&p).await;
        sqlx::query(sql).execute(&mut conn).await.unwrap();
        conn.close().await.unwrap();
        out.push((name, p));
    }
    out
}

#[tokio::test]
async fn restore_refuses_damaged_foreign_and_newer_files_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("school.db");
    let store = school(&db, 8 * 40).await;
    let good = dir.path().join("good.db");
    store.backup_to(&good, false).await.unwrap();
    store.close().await;
    drop(store);
    let bad_dir = tempfile::tempdir().unwrap();
    let bad = bad_files(bad_dir.path(), &good).await;
    let db_bytes = std::fs::read(&db).unwrap();
    let files_before = listing(dir.path());

    for (name, file) in &bad {
        let original = std::fs::read(file).unwrap();
        for err in [
            SqliteStore::verify_backup(file).await.unwrap_err(),
            SqliteStore::restore(&db, file, at(5)).await.unwrap_err(),
        ] {
            let expected = match *name {
                "garbage" | "corrupt" | "truncated" | "unfinished" => {
                    matches!(err, BackupError::Damaged { .. })
                }
                "empty" | "foreign" => matches!(err, BackupError::NotAanwezig { .. }),
                "newer" => {
                    matches!(err, BackupError::Newer { found: 9001, known, .. } if known == migrations() as i64)
                }
                "mismatch" => matches!(err, BackupError::Mismatch { version: 2, .. }),
                _ => false,
            };
            assert!(expected, "{name}: {err:?}");
            // The error names the file given, not the temporary copy.
            let named = match &err {
                BackupError::Damaged { path, .. }
                | BackupError::NotAanwezig { path, .. }
                | BackupError::Newer { path, .. }
                | BackupError::Mismatch { path, .. } => path,
                other => panic!("{name}: {other:?}"),
            };
            assert_eq!(named, file, "{name}");
        }
        // The backup file is read, never changed, and nothing is left
        // beside it or beside the database.
        assert_eq!(&std::fs::read(file).unwrap(), &original, "{name} changed");
        assert_eq!(listing(dir.path()), files_before, "{name}");
        assert_eq!(std::fs::read(&db).unwrap(), db_bytes, "{name}");
    }
    assert_eq!(
        listing(bad_dir.path()),
        [
            "corrupt.db",
            "empty.db",
            "foreign.db",
            "garbage.db",
            "mismatch.db",
            "newer.db",
            "truncated.db",
            "unfinished.db"
        ]
    );

    let missing = dir.path().join("missing.db");
    let err = SqliteStore::restore(&db, &missing, at(5))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, BackupError::Io { path, .. } if path == &missing),
        "{err:?}"
    );
    // The good backup still restores.
    SqliteStore::restore(&db, &good, at(5)).await.unwrap();
    assert_eq!(integrity(&db).await, ["ok"]);
}

/// The migration files this build embeds, in order.
fn migration_files() -> Vec<PathBuf> {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut files: Vec<_> = std::fs::read_dir(&source)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    files
}

/// How many migrations this build has (numbered 1..=n).
fn migrations() -> usize {
    migration_files().len()
}

/// A database with only the first `n` migrations (an older aanwezig's).
async fn old_database(path: &Path, n: usize) {
    let subset = tempfile::tempdir().unwrap();
    let files = migration_files();
    for f in files.iter().take(n) {
        std::fs::copy(f, subset.path().join(f.file_name().unwrap())).unwrap();
    }
    let migrator = sqlx::migrate::Migrator::new(subset.path()).await.unwrap();
    let mut conn = SqliteConnection::connect(&format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .unwrap();
    migrator.run(&mut conn).await.unwrap();
    sqlx::query(
        "INSERT INTO students (number, name, class, mentor, date_of_birth)
         VALUES ('7500', 'Oude Leerling', '4A', 'mentor_4a', '2010-01-01')",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
}

#[tokio::test]
async fn restore_keeps_the_replaced_database_and_its_wal_and_migrates_an_older_backup() {
    let dir = tempfile::tempdir().unwrap();
    // The live database as a kill -9 leaves it: the last commits still in
    // its -wal (copied while the store was open and idle).
    let live = dir.path().join("live.db");
    let store = school(&live, 8).await;
    store.upsert_students(&[student(77)]).await.unwrap();
    let db = dir.path().join("school.db");
    std::fs::copy(&live, &db).unwrap();
    let wal = std::fs::read(dir.path().join("live.db-wal")).unwrap();
    assert!(!wal.is_empty(), "the test needs commits in the -wal");
    std::fs::write(dir.path().join("school.db-wal"), wal).unwrap();
    store.close().await;
    drop(store);

    #[cfg(unix)]
    let mode = {
        use std::os::unix::fs::PermissionsExt;
        let p = std::fs::Permissions::from_mode(0o640);
        std::fs::set_permissions(&db, p).unwrap();
        0o640
    };
    let backup = dir.path().join("old.db");
    old_database(&backup, 3).await;
    let report = SqliteStore::restore(&db, &backup, at(90)).await.unwrap();
    assert_eq!(report.backup.schema_version, 3);
    assert_eq!(report.backup.students, 1);
    assert_eq!(report.migrations_applied, migrations() - 3);
    let aside = report.previous.clone().unwrap();
    assert_eq!(
        aside,
        dir.path().join("school.db.voor-herstel-20251114T093000Z")
    );
    assert!(!dir.path().join("school.db-wal").exists());
    // The restored file keeps the replaced one's permissions.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let now = std::fs::metadata(&db).unwrap().permissions().mode() & 0o777;
        assert_eq!(now, mode);
    }

    // The restored database: the backup's data, migrated to this version.
    let store = SqliteStore::open(path_str(&db), false).await.unwrap();
    let numbers: Vec<String> = store
        .students()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.student.id.to_string())
        .collect();
    assert_eq!(numbers, ["7500"]);
    assert_eq!(
        SqliteStore::verify_backup(&backup)
            .await
            .unwrap()
            .schema_version,
        3
    );
    store.close().await;
    drop(store);

    // The replaced one, with the commits its -wal held.
    let old = SqliteStore::open(path_str(&aside), false).await.unwrap();
    assert_eq!(old.student_count().await.unwrap(), u64::from(CLASS) + 1);
    assert!(old.student(&sid(77)).await.unwrap().is_some());
    old.close().await;

    // A second restore in the same second keeps both earlier databases.
    drop(old);
    let again = SqliteStore::restore(&db, &backup, at(90)).await.unwrap();
    assert_eq!(
        again.previous.unwrap(),
        dir.path().join("school.db.voor-herstel-20251114T093000Z-2")
    );
    assert!(aside.exists());
}
