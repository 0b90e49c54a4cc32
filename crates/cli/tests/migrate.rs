//! `aanwezig migrate` end to end: a demo school in one SQLite file, moved
//! to another database with the real binary; everything arrives (history
//! and audit included) and the engine gives the same signals there.
//! The PostgreSQL direction runs where a server answers
//! (`AANWEZIG_TEST_PG`), see `tests/migrate_postgres.rs`.

#![expect(clippy::unwrap_used, reason = "test helpers panic on broken fixtures")]

use std::path::Path;

use aanwezig_domain::{Category, RegistrationRecord, StudentId};
use aanwezig_storage::prelude::*;
use aanwezig_storage::transfer::TABLES;
use aanwezig_storage::{AuditAction, AuditEntry, AuditFilter, Transfer};
use aanwezig_storage_sqlite::SqliteStore;
use assert_cmd::Command;
use chrono::{TimeZone, Utc};
use tempfile::TempDir;

fn aanwezig(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("aanwezig").expect("binary is built");
    c.current_dir(dir)
        .env("AANWEZIG_DB", dir.join("school.db"))
        .env_remove("AANWEZIG_TODAY");
    c
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

/// A demo school with a corrected lesson (history) and an audit entry.
async fn school(dir: &Path) -> StudentId {
    let out = aanwezig(dir)
        .args(["--today", "2025-11-14", "demo", "--students", "60"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let store = SqliteStore::open(dir.join("school.db").to_str().unwrap(), false)
        .await
        .unwrap();
    let student = store.students().await.unwrap()[0].student.id.clone();
    let first = store.student_registrations(&student).await.unwrap()[0].clone();
    let corrected = RegistrationRecord {
        category: Category::ReportedOther,
        code: Some("AN".to_owned()),
        ..first
    };
    let at = Utc.with_ymd_and_hms(2025, 11, 14, 9, 0, 0).unwrap();
    store
        .set_registration(&corrected, "coordinator", at)
        .await
        .unwrap();
    store
        .audit(&AuditEntry {
            at,
            username: "coordinator".to_owned(),
            action: AuditAction::Change,
            student: Some(student.clone()),
            detail: "registratie gecorrigeerd".to_owned(),
        })
        .await
        .unwrap();
    store.close().await;
    student
}

#[tokio::test]
async fn a_school_moves_to_a_new_database_whole() {
    let dir = TempDir::new().unwrap();
    let student = school(dir.path()).await;
    let out = aanwezig(dir.path())
        .args([
            "migrate",
            "--quiet",
            "--from",
            "school.db",
            "--to",
            "sqlite:nieuw.db",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(said.contains("Overgezet en gecontroleerd"), "{said}");

    let old = SqliteStore::open(dir.path().join("school.db").to_str().unwrap(), false)
        .await
        .unwrap();
    let new = SqliteStore::open(dir.path().join("nieuw.db").to_str().unwrap(), false)
        .await
        .unwrap();
    for table in TABLES {
        assert_eq!(
            old.count_rows(table).await.unwrap(),
            new.count_rows(table).await.unwrap(),
            "{table}"
        );
    }
    assert!(new.count_rows("registrations").await.unwrap() > 10_000);
    assert_eq!(
        old.registration_history(&student).await.unwrap(),
        new.registration_history(&student).await.unwrap()
    );
    assert_eq!(new.registration_history(&student).await.unwrap().len(), 1);
    let filter = AuditFilter {
        student: Some(student.clone()),
        ..AuditFilter::default()
    };
    assert_eq!(
        old.audit_log(&filter).await.unwrap(),
        new.audit_log(&filter).await.unwrap()
    );
    assert_eq!(old.users().await.unwrap(), new.users().await.unwrap());
    assert_eq!(old.policy().await.unwrap(), new.policy().await.unwrap());
    old.close().await;
    new.close().await;

    // The engine sees the same school in both.
    let evaluate = |db: &str| {
        let out = aanwezig(dir.path())
            .args([
                "--db",
                db,
                "--today",
                "2025-11-14",
                "evaluate",
                "--format",
                "json",
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    assert_eq!(evaluate("school.db"), evaluate("nieuw.db"));
}

#[tokio::test]
async fn a_database_with_data_is_never_a_target() {
    let dir = TempDir::new().unwrap();
    school(dir.path()).await;
    std::fs::copy(dir.path().join("school.db"), dir.path().join("vol.db")).unwrap();
    let before = std::fs::read(dir.path().join("vol.db")).unwrap().len();
    let out = aanwezig(dir.path())
        .args([
            "migrate",
            "--quiet",
            "--from",
            "school.db",
            "--to",
            "vol.db",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = text(&out.stderr);
    assert!(said.contains("is niet leeg"), "{said}");
    assert_eq!(
        before,
        std::fs::read(dir.path().join("vol.db")).unwrap().len()
    );

    let out = aanwezig(dir.path())
        .args(["migrate", "--from", "weg.db", "--to", "nieuw.db"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("bestaat niet"),
        "{}",
        text(&out.stderr)
    );
    assert!(!dir.path().join("nieuw.db").exists());
}
