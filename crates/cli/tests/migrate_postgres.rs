//! `aanwezig migrate` between SQLite and a real PostgreSQL server (the one
//! `AANWEZIG_TEST_PG` names; `scripts/test.sh` makes sure one answers): a
//! demo school moves to PostgreSQL and back, with every row, and the engine
//! gives the same signals on all three databases.

#![expect(clippy::unwrap_used, reason = "test helpers panic on broken fixtures")]

use std::path::Path;

use aanwezig_storage::prelude::*;
use aanwezig_storage::transfer::TABLES;
use aanwezig_storage::{AuditEntry, AuditFilter, Transfer, User};
use aanwezig_storage_postgres::testing::TestDb;
use aanwezig_storage_postgres::PgStore;
use aanwezig_storage_sqlite::SqliteStore;
use assert_cmd::Command;
use chrono::{DateTime, Utc};
use tempfile::TempDir;

fn aanwezig(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("aanwezig").expect("binary is built");
    c.current_dir(dir)
        .env("AANWEZIG_DB", dir.join("school.db"))
        .env_remove("AANWEZIG_TODAY");
    c
}

/// PostgreSQL keeps instants to the microsecond, SQLite to the
/// nanosecond: the same instant, rounded.
fn same_instant(a: DateTime<Utc>, b: DateTime<Utc>) -> bool {
    (a - b).num_nanoseconds().unwrap().abs() < 1_000
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

fn run(dir: &Path, args: &[&str]) -> String {
    let out = aanwezig(dir).args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    text(&out.stdout)
}

#[tokio::test]
async fn a_school_moves_to_postgres_and_back() {
    let dir = TempDir::new().unwrap();
    run(
        dir.path(),
        &["--today", "2025-11-14", "demo", "--students", "60"],
    );
    // A few users and dossiers beside the demo's registrations: `serve
    // --demo` is not needed; the user command makes an account.
    let out = aanwezig(dir.path())
        .args([
            "user",
            "add",
            "coordinator",
            "--role",
            "verzuimcoordinator",
            "--name",
            "Coördinator",
            "--password-stdin",
        ])
        .write_stdin("een lang genoeg wachtwoord voor de test\n")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let pg = TestDb::create().await;
    let said = run(
        dir.path(),
        &["migrate", "--quiet", "--from", "school.db", "--to", &pg.url],
    );
    assert!(said.contains("Overgezet en gecontroleerd"), "{said}");

    let sqlite = SqliteStore::open(dir.path().join("school.db").to_str().unwrap(), false)
        .await
        .unwrap();
    let postgres = PgStore::connect(&pg.url).await.unwrap();
    for table in TABLES {
        assert_eq!(
            sqlite.count_rows(table).await.unwrap(),
            postgres.count_rows(table).await.unwrap(),
            "{table}"
        );
    }
    assert!(postgres.count_rows("registrations").await.unwrap() > 10_000);
    let (a, b) = (
        sqlite.users().await.unwrap(),
        postgres.users().await.unwrap(),
    );
    assert_eq!(a.len(), b.len());
    for (a, b) in a.iter().zip(&b) {
        assert!(same_instant(a.created_at, b.created_at));
        let a = User {
            created_at: b.created_at,
            ..a.clone()
        };
        assert_eq!(&a, b);
    }
    assert_eq!(
        sqlite.policy().await.unwrap(),
        postgres.policy().await.unwrap()
    );
    assert_eq!(
        sqlite.calendar().await.unwrap(),
        postgres.calendar().await.unwrap()
    );
    let (a, b) = (
        sqlite.audit_log(&AuditFilter::default()).await.unwrap(),
        postgres.audit_log(&AuditFilter::default()).await.unwrap(),
    );
    assert!(!a.is_empty());
    assert_eq!(a.len(), b.len());
    for (a, b) in a.iter().zip(&b) {
        assert!(same_instant(a.at, b.at));
        assert_eq!(
            AuditEntry {
                at: b.at,
                ..a.clone()
            },
            *b
        );
    }
    let (a, b) = (
        sqlite.imports().await.unwrap(),
        postgres.imports().await.unwrap(),
    );
    assert_eq!(a.len(), b.len());
    for (a, b) in a.iter().zip(&b) {
        assert_eq!(a.summary, b.summary);
        assert_eq!(a.source.file_name, b.source.file_name);
    }
    sqlite.close().await;
    // New rows get new ids after the copied ones.
    let mut newcomer = postgres.user("coordinator").await.unwrap().unwrap();
    newcomer.username = "tweede".to_owned();
    postgres.create_user(&newcomer).await.unwrap();
    postgres.close().await;

    let evaluate = |db: &str| {
        run(
            dir.path(),
            &[
                "--db",
                db,
                "--today",
                "2025-11-14",
                "evaluate",
                "--format",
                "json",
            ],
        )
    };
    let before = evaluate("school.db");
    assert_eq!(before, evaluate(&pg.url));

    // And back into a new SQLite file.
    let said = run(
        dir.path(),
        &["migrate", "--quiet", "--from", &pg.url, "--to", "terug.db"],
    );
    assert!(said.contains("Overgezet en gecontroleerd"), "{said}");
    assert_eq!(before, evaluate("terug.db"));
}
