//! The shared conformance suite against a real PostgreSQL server, one new
//! database per test, and what only PostgreSQL can show: the triggers
//! holding for raw SQL, the change feed across stores, migrations run
//! again.
//!
//! The server is `AANWEZIG_TEST_PG` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); the user must be
//! allowed to create databases. `scripts/test.sh` starts one when none
//! answers.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] fns; a failure is a test failure"
)]

use std::time::{Duration, Instant};

use aanwezig_domain::{Category, RegistrationRecord, Student, StudentId};
use aanwezig_storage::prelude::*;
use aanwezig_storage::{AuditAction, AuditEntry, ImportSource, Store, StoreError, StoredStudent};
use aanwezig_storage_postgres::{PgStore, MIGRATOR};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use sqlx::{Connection, PgConnection};

use aanwezig_storage_postgres::testing::{url_of, TestDb};

async fn fresh() -> (TestDb, Box<dyn Store>) {
    let db = TestDb::create().await;
    let store = PgStore::connect(&db.url).await.unwrap();
    (db, Box::new(store))
}

aanwezig_storage::conformance_tests!(fresh);

// --- PostgreSQL only ------------------------------------------------------

fn sid(n: u32) -> StudentId {
    StudentId::parse(&format!("{}", 5000 + n)).unwrap()
}

fn at(min: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 9, 1, 7, 0, 0).unwrap() + chrono::Duration::minutes(min)
}

fn student(n: u32) -> StoredStudent {
    StoredStudent {
        student: Student {
            id: sid(n),
            name: format!("Leerling {n}"),
            class: "1A".to_owned(),
            mentor: "mentor".to_owned(),
            date_of_birth: NaiveDate::from_ymd_opt(2013, 3, 1).unwrap(),
            bsn: None,
            onderwijsnummer: None,
        },
        left_on: None,
    }
}

fn lesson(n: u32, l: u8, category: Category) -> RegistrationRecord {
    RegistrationRecord {
        student: sid(n),
        date: NaiveDate::from_ymd_opt(2025, 9, 2).unwrap(),
        lesson: l,
        minutes: 50,
        code: (category != Category::Present).then(|| "X".to_owned()),
        category,
        minutes_late: 0,
        note: None,
    }
}

fn source(file: &str) -> ImportSource {
    ImportSource {
        file_name: file.to_owned(),
        sha256: "0".repeat(64),
        imported_by: "coordinator".to_owned(),
        at: at(0),
    }
}

/// Raw SQL cannot change or delete audit entries, nor empty the table;
/// only the purge's unlinking passes, and only exactly that.
#[tokio::test]
async fn raw_sql_on_the_audit_log_is_refused() {
    let (db, store) = fresh().await;
    store
        .audit(&AuditEntry {
            at: at(1),
            username: "vc".to_owned(),
            action: AuditAction::Read,
            student: Some(sid(1)),
            detail: "ingezien".to_owned(),
        })
        .await
        .unwrap();
    let mut conn = PgConnection::connect(&db.url).await.unwrap();
    for sql in [
        "UPDATE audit_log SET detail = 'anders'",
        "UPDATE audit_log SET username = 'iemand', student = NULL, \
         detail = 'verwijderd na de bewaartermijn'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ] {
        let err = sqlx::query(sql).execute(&mut conn).await.unwrap_err();
        let err = aanwezig_storage::StoreError::from(err);
        assert!(
            matches!(&err, StoreError::Conflict(m) if m.contains("append-only")),
            "{sql}: {err:?}"
        );
    }
    let unlinked = sqlx::query(
        "UPDATE audit_log SET student = NULL, detail = 'verwijderd na de bewaartermijn'",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    assert_eq!(unlinked.rows_affected(), 1);
    conn.close().await.unwrap();
    store.close().await;
}

/// The history trigger holds for raw SQL too, and a raw update that
/// changes a key is refused.
#[tokio::test]
async fn a_raw_update_leaves_history() {
    let (db, store) = fresh().await;
    store.upsert_students(&[student(0)]).await.unwrap();
    let summary = store
        .import_registrations(
            &[
                lesson(0, 1, Category::Present),
                lesson(0, 2, Category::Present),
            ],
            &source("a.csv"),
            &|_| {},
        )
        .await
        .unwrap();
    let mut conn = PgConnection::connect(&db.url).await.unwrap();
    let change: i64 =
        sqlx::query_scalar("INSERT INTO changes (at, by) VALUES (now(), 'psql') RETURNING id")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    let done = sqlx::query(
        "UPDATE registrations SET category = 6, code = 'A', change_id = $1 WHERE lesson = 2",
    )
    .bind(change)
    .execute(&mut conn)
    .await
    .unwrap();
    assert_eq!(done.rows_affected(), 1);
    let history = store.registration_history(&sid(0)).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].old, lesson(0, 2, Category::Present));
    assert_eq!(history[0].set.import_id, Some(summary.import_id));
    assert_eq!(history[0].replaced.by, "psql");

    let err = sqlx::query("UPDATE registrations SET lesson = 9 WHERE lesson = 1")
        .execute(&mut conn)
        .await
        .unwrap_err();
    assert!(matches!(StoreError::from(err), StoreError::Conflict(_)));
    // Constraints hold for raw SQL: no note on a sick lesson.
    let err = sqlx::query("UPDATE registrations SET category = 3, note = 'griep'")
        .execute(&mut conn)
        .await
        .unwrap_err();
    assert!(matches!(StoreError::from(err), StoreError::Conflict(_)));
    // The references, checked per statement, hold for raw SQL too.
    for sql in [
        "INSERT INTO registrations SELECT student_id + 1000, date, lesson, minutes, code, \
         category, minutes_late, note, change_id FROM registrations",
        "INSERT INTO registrations SELECT student_id, date + 1, lesson, minutes, code, \
         category, minutes_late, note, change_id + 1000 FROM registrations",
        "UPDATE registrations SET change_id = change_id + 1000",
        "DELETE FROM students",
        "DELETE FROM changes",
    ] {
        let err = sqlx::query(sql).execute(&mut conn).await.unwrap_err();
        assert!(
            matches!(StoreError::from(err), StoreError::Conflict(_)),
            "{sql}"
        );
    }
    conn.close().await.unwrap();
    store.close().await;
}

/// A change committed through one store wakes a waiter on another store
/// on the same database (another app server) within a second, and the
/// waiter reads it from the feed.
#[tokio::test]
async fn the_change_feed_wakes_another_store() {
    let (db, store) = fresh().await;
    let other = PgStore::connect(&db.url).await.unwrap();
    let before = other.last_change().await.unwrap();
    let waiter = tokio::spawn(async move {
        let start = Instant::now();
        other
            .wait_for_change(before, Duration::from_secs(10))
            .await
            .unwrap();
        let waited = start.elapsed();
        let changes = other.changes_since(before, 100).await.unwrap();
        other.close().await;
        (waited, changes)
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    store.upsert_students(&[student(3)]).await.unwrap();
    let (_, changes) = waiter.await.unwrap();
    let woke_after = started.elapsed();
    assert!(
        woke_after < Duration::from_secs(1),
        "woke {woke_after:?} after the change"
    );
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].kind, aanwezig_storage::ChangeKind::Students);
    assert_eq!(changes[0].student, Some(sid(3)));
    assert!(changes[0].number > before);

    // Nothing new: the wait ends at its timeout.
    let last = store.last_change().await.unwrap();
    let start = Instant::now();
    store
        .wait_for_change(last, Duration::from_millis(300))
        .await
        .unwrap();
    assert!(start.elapsed() >= Duration::from_millis(300));
    store.close().await;
}

/// When the listening connection is killed, waiters fall back to polling
/// and the listener comes back and catches up.
#[tokio::test]
async fn the_change_feed_survives_a_lost_listener() {
    let (db, store) = fresh().await;
    let other = PgStore::connect(&db.url).await.unwrap();
    let mut admin = PgConnection::connect(&db.url).await.unwrap();
    // Kill every listening connection of this database.
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND query ILIKE 'LISTEN%'",
    )
    .execute(&mut admin)
    .await
    .unwrap();
    let before = other.last_change().await.unwrap();
    store.upsert_students(&[student(4)]).await.unwrap();
    let start = Instant::now();
    other
        .wait_for_change(before, Duration::from_secs(5))
        .await
        .unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    assert!(other.last_change().await.unwrap() > before);
    // Later, it listens again: a change wakes it promptly.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before = other.last_change().await.unwrap();
    store.upsert_students(&[student(5)]).await.unwrap();
    let start = Instant::now();
    other
        .wait_for_change(before, Duration::from_secs(5))
        .await
        .unwrap();
    assert!(start.elapsed() < Duration::from_secs(1));
    admin.close().await.unwrap();
    other.close().await;
    store.close().await;
}

/// Running the migrations again on a migrated database changes nothing,
/// and a second store on it opens without trouble.
#[tokio::test]
async fn migrations_run_twice_are_a_no_op() {
    let (db, store) = fresh().await;
    store.upsert_students(&[student(1)]).await.unwrap();
    let mut conn = PgConnection::connect(&db.url).await.unwrap();
    async fn applied(conn: &mut PgConnection) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
            .fetch_one(conn)
            .await
    }
    let before = applied(&mut conn).await.unwrap();
    assert_eq!(before, MIGRATOR.iter().count() as i64);
    MIGRATOR.run(&mut conn).await.unwrap();
    assert_eq!(applied(&mut conn).await.unwrap(), before);
    let again = PgStore::connect(&db.url).await.unwrap();
    assert_eq!(again.student_count().await.unwrap(), 1);
    again.close().await;
    conn.close().await.unwrap();
    store.close().await;
}

/// A bad URL is a configuration error, not a panic or a database error.
#[tokio::test]
async fn a_bad_url_is_a_configuration_error() {
    let err = PgStore::connect("postgres://[nope").await.unwrap_err();
    assert!(matches!(err, StoreError::Config(_)), "{err:?}");
}

#[test]
fn urls_get_their_database_replaced() {
    assert_eq!(
        url_of("postgres://u@h:5432/postgres", "x"),
        "postgres://u@h:5432/x"
    );
    assert_eq!(url_of("postgres://u@h", "x"), "postgres://u@h/x");
    assert_eq!(
        url_of("postgres://u@h/db?sslmode=disable", "x"),
        "postgres://u@h/x?sslmode=disable"
    );
}
