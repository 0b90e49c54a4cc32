//! `aanwezig backup` and `aanwezig restore` end to end: the real binary, a
//! real database file, and a real `aanwezig serve` holding the database.

#![expect(clippy::unwrap_used, reason = "test helpers panic on broken fixtures")]

use aanwezig_storage::prelude::*;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};

use aanwezig_domain::{Student, StudentId};
use aanwezig_storage::{Store, StoredStudent};
use aanwezig_storage_sqlite::SqliteStore;
use assert_cmd::Command;
use chrono::NaiveDate;
use sqlx::Connection;
use tempfile::TempDir;

fn aanwezig(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("aanwezig").expect("binary is built");
    c.current_dir(dir)
        .env("AANWEZIG_DB", dir.join("test.db"))
        .env_remove("AANWEZIG_TODAY")
        .env_remove("AANWEZIG_BACKUP_DIR");
    c
}

/// Runs `aanwezig ARGS` in `dir`: (success, stdout, stderr).
fn run(dir: &Path, args: &[&str]) -> (bool, String, String) {
    let out = aanwezig(dir).args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn student(n: u32) -> StoredStudent {
    StoredStudent {
        student: Student {
            id: StudentId::parse(&format!("{}", 9000 + n)).unwrap(),
            name: format!("Leerling {n}"),
            class: "2B".to_owned(),
            mentor: "mentor_2b".to_owned(),
            date_of_birth: NaiveDate::from_ymd_opt(2012, 3, 14).unwrap(),
            bsn: None,
            onderwijsnummer: None,
        },
        left_on: None,
    }
}

async fn add_students(dir: &Path, from: u32, to: u32) {
    let store = SqliteStore::open(dir.join("test.db").to_str().unwrap(), true)
        .await
        .unwrap();
    let students: Vec<_> = (from..to).map(student).collect();
    store.upsert_students(&students).await.unwrap();
    store.close().await;
}

async fn student_count(dir: &Path) -> u64 {
    let store = SqliteStore::open(dir.join("test.db").to_str().unwrap(), false)
        .await
        .unwrap();
    let n = store.student_count().await.unwrap();
    store.close().await;
    n
}

#[tokio::test]
async fn backup_refuses_to_overwrite_and_restore_keeps_the_old_database() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();

    let (ok, _, err) = run(d, &["backup", "b.db"]);
    assert!(!ok);
    assert!(err.contains("bestaat niet"), "{err}");

    add_students(d, 0, 3).await;
    let (ok, out, err) = run(d, &["backup", "b.db"]);
    assert!(ok, "{err}");
    assert!(out.contains("Back-up gemaakt: b.db ("), "{out}");
    assert!(out.contains("3 leerlingen, 0 registraties"), "{out}");
    assert!(out.contains("aanwezig restore b.db"), "{out}");

    let (ok, _, err) = run(d, &["backup", "b.db"]);
    assert!(!ok);
    assert!(
        err.contains("b.db bestaat al") && err.contains("--force"),
        "{err}"
    );
    let (ok, _, err) = run(d, &["backup", "b.db", "--force"]);
    assert!(ok, "{err}");

    add_students(d, 3, 5).await;
    assert_eq!(student_count(d).await, 5);
    let (ok, out, err) = run(d, &["restore", "b.db"]);
    assert!(ok, "{err}");
    assert!(out.contains("Hersteld: "), "{out}");
    assert!(out.contains("3 leerlingen"), "{out}");
    assert!(out.contains("test.db.voor-herstel-"), "{out}");
    assert_eq!(student_count(d).await, 3);

    // The replaced database, with all five students, is kept.
    let aside = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("test.db.voor-herstel-")
        })
        .unwrap();
    let old = SqliteStore::open(aside.to_str().unwrap(), false)
        .await
        .unwrap();
    assert_eq!(old.student_count().await.unwrap(), 5);
    old.close().await;
}

#[tokio::test]
async fn restore_refuses_foreign_newer_and_damaged_files_in_dutch() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    add_students(d, 0, 2).await;
    let (ok, _, err) = run(d, &["backup", "good.db"]);
    assert!(ok, "{err}");

    let foreign = d.join("foreign.db");
    let mut conn =
        sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=rwc", foreign.display()))
            .await
            .unwrap();
    sqlx::query("CREATE TABLE recipes (name TEXT)")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();

    std::fs::copy(d.join("good.db"), d.join("newer.db")).unwrap();
    let mut conn =
        sqlx::SqliteConnection::connect(&format!("sqlite://{}", d.join("newer.db").display()))
            .await
            .unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (9001, 'later', 1, x'00', 0)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();

    std::fs::write(d.join("tekst.db"), "leerling;klas\n".repeat(500)).unwrap();

    for (file, says) in [
        ("foreign.db", "foreign.db is geen database van aanwezig"),
        (
            "newer.db",
            "nieuwere versie van aanwezig (schemaversie 9001",
        ),
        ("tekst.db", "tekst.db is beschadigd of geen SQLite-database"),
        ("ontbreekt.db", "ontbreekt.db bestaat niet"),
    ] {
        let (ok, _, err) = run(d, &["restore", file]);
        assert!(!ok, "{file}");
        assert!(err.contains("herstel geweigerd: "), "{file}: {err}");
        assert!(err.contains(says), "{file}: {err}");
        assert!(
            err.contains("de database is niet veranderd"),
            "{file}: {err}"
        );
        assert_eq!(student_count(d).await, 2);
    }
}

/// Starts `aanwezig serve` on port 0 and waits until it listens.
fn serve(dir: &Path, extra: &[&str]) -> Child {
    let bin = assert_cmd::cargo::cargo_bin("aanwezig");
    let mut child = std::process::Command::new(bin)
        .current_dir(dir)
        .env("AANWEZIG_DB", dir.join("test.db"))
        .env_remove("AANWEZIG_TODAY")
        .env_remove("AANWEZIG_BACKUP_DIR")
        .args(["serve", "--addr", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    loop {
        let line = lines
            .next()
            .expect("the server stopped before it listened")
            .unwrap();
        if line.contains("aanwezig draait op") {
            break;
        }
    }
    // Keep reading (and dropping) its output so it never blocks on a pipe.
    std::thread::spawn(move || lines.for_each(drop));
    child
}

#[tokio::test]
async fn restore_is_refused_while_the_server_runs_and_works_after_kill_9() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    add_students(d, 0, 4).await;
    let mut server = serve(d, &["--backup-dir", "backups", "--backup-keep", "2"]);

    // A backup while the server has the database open works.
    let (ok, out, err) = run(d, &["backup", "b.db"]);
    assert!(ok, "{err}");
    assert!(out.contains("4 leerlingen"), "{out}");

    // The server's own daily backup, written at start (wait for the file;
    // nothing here is timed).
    let daily = loop {
        let found = std::fs::read_dir(d.join("backups"))
            .ok()
            .and_then(|entries| {
                entries.map(|e| e.unwrap().path()).find(|p| {
                    let name = p.file_name().unwrap().to_string_lossy().into_owned();
                    name.starts_with("aanwezig-") && name.ends_with(".db")
                })
            });
        if let Some(p) = found {
            break p;
        }
        assert!(server.try_wait().unwrap().is_none(), "the server stopped");
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(
        SqliteStore::verify_backup(&daily).await.unwrap().students,
        4
    );

    let (ok, _, err) = run(d, &["restore", "b.db"]);
    assert!(!ok);
    assert!(err.contains("is in gebruik"), "{err}");
    assert!(err.contains("aanwezig serve"), "{err}");
    assert!(err.contains("test.db.lock"), "{err}");
    assert!(!std::fs::read_dir(d).unwrap().any(|e| e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .contains("herstel")));

    // kill -9: the kernel drops the server's lock with the process.
    server.kill().unwrap();
    server.wait().unwrap();
    let (ok, out, err) = run(d, &["restore", "b.db"]);
    assert!(ok, "{err}");
    assert!(out.contains("voor-herstel-"), "{out}");
    assert_eq!(student_count(d).await, 4);
}
