//! `aanwezig purge` end to end: the real binary on a SQLite file in a
//! temporary folder, with a fixed `--today`, and the store opened
//! afterwards to check what is left.

#![expect(clippy::unwrap_used, reason = "test helpers panic on broken fixtures")]

use aanwezig_storage::prelude::*;
use std::path::Path;

use aanwezig_domain::case::{Actor, OpenReason};
use aanwezig_domain::Case;
use aanwezig_domain::{CaseStep, Category, RegistrationRecord, Role, Student, StudentId};
use aanwezig_storage::{AuditAction, AuditFilter, Store, StoredStudent};
use aanwezig_storage_sqlite::SqliteStore;
use assert_cmd::Command;
use chrono::{NaiveDate, TimeZone, Utc};
use tempfile::TempDir;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn sid(n: u32) -> StudentId {
    StudentId::parse(&format!("L{n:05}")).unwrap()
}

fn student(n: u32, left_on: Option<NaiveDate>) -> StoredStudent {
    StoredStudent {
        student: Student {
            id: sid(n),
            name: format!("Leerling {n}"),
            class: "4H".to_owned(),
            mentor: "mentor.a".to_owned(),
            date_of_birth: day(2004, 3, 1),
            bsn: None,
            onderwijsnummer: None,
        },
        left_on,
    }
}

async fn open_store(dir: &Path, create: bool) -> SqliteStore {
    SqliteStore::open(&dir.join("test.db").to_string_lossy(), create)
        .await
        .unwrap()
}

/// Three students with two lessons and a case each: one left six years
/// before 2026-11-28, one four years before, one still enrolled.
async fn school(dir: &Path) {
    let store = open_store(dir, true).await;
    store
        .upsert_students(&[
            student(1, Some(day(2020, 6, 30))),
            student(2, Some(day(2022, 7, 1))),
            student(3, None),
        ])
        .await
        .unwrap();
    let at = Utc.with_ymd_and_hms(2020, 3, 2, 9, 0, 0).unwrap();
    for n in 1..=3 {
        for lesson in 1..=2 {
            let record = RegistrationRecord {
                student: sid(n),
                date: day(2020, 3, 2),
                lesson,
                minutes: 50,
                code: None,
                category: Category::Unauthorized,
                minutes_late: 0,
                note: None,
            };
            store
                .set_registration(&record, "mentor.a", at)
                .await
                .unwrap();
        }
        let case = Case::open(
            sid(n),
            day(2020, 3, 3),
            Actor::new("coordinator", Role::Verzuimcoordinator),
            OpenReason::Zorgen {
                note: "zorgen".to_owned(),
            },
            CaseStep::S3a,
        )
        .unwrap();
        store.save_case(&case, "coordinator", at).await.unwrap();
    }
    store.close().await;
}

fn purge(dir: &Path, extra: &[&str]) -> String {
    let out = Command::cargo_bin("aanwezig")
        .unwrap()
        .current_dir(dir)
        .env("AANWEZIG_DB", dir.join("test.db"))
        .env("USER", "tester")
        .env_remove("AANWEZIG_TODAY")
        .args(["--today", "2026-11-28", "purge"])
        .args(extra)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "purge {extra:?} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

async fn student_numbers(store: &SqliteStore) -> Vec<StudentId> {
    store
        .students()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.student.id)
        .collect()
}

#[tokio::test]
async fn purge_removes_only_students_who_left_more_than_five_years_ago() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path();
    school(dir).await;

    // A dry run names the student due, and removes nothing.
    let shown = purge(dir, &["--dry-run"]);
    assert!(shown.contains("L00001"), "{shown}");
    assert!(shown.contains("2 registraties"), "{shown}");
    assert!(
        !shown.contains("L00002") && !shown.contains("L00003"),
        "{shown}"
    );
    let store = open_store(dir, false).await;
    assert_eq!(student_numbers(&store).await, vec![sid(1), sid(2), sid(3)]);
    assert_eq!(store.registration_count().await.unwrap(), 6);
    assert!(store.case(&sid(1)).await.unwrap().is_some());
    assert!(store
        .audit_log(&AuditFilter::default())
        .await
        .unwrap()
        .is_empty());
    store.close().await;

    // The real run.
    let done = purge(dir, &[]);
    assert!(done.contains("L00001"), "{done}");
    assert!(done.contains("1 leerling verwijderd"), "{done}");
    let store = open_store(dir, false).await;
    assert_eq!(student_numbers(&store).await, vec![sid(2), sid(3)]);
    assert_eq!(store.registration_count().await.unwrap(), 4);
    assert!(store.case(&sid(1)).await.unwrap().is_none());
    for kept in [2, 3] {
        assert_eq!(
            store.student_registrations(&sid(kept)).await.unwrap().len(),
            2
        );
        assert!(store.case(&sid(kept)).await.unwrap().is_some());
    }
    let log = store.audit_log(&AuditFilter::default()).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].action, AuditAction::Purge);
    assert_eq!(log[0].student, Some(sid(1)));
    assert_eq!(log[0].username, "tester");
    store.close().await;

    // Nothing is due any more.
    let again = purge(dir, &[]);
    assert!(again.contains("0 leerlingen verwijderd"), "{again}");
}
