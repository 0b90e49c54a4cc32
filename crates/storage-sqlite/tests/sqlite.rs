//! SQLite-specific behaviour on real files: reopening, migrations on an
//! existing file, URLs, and damaged data read back. The backend-neutral
//! behaviour is in the conformance suite (`src/testsuite.rs`).
#![expect(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] fns; a failure is a test failure"
)]

use aanwezig_storage::prelude::*;
use std::path::Path;

use aanwezig_domain::case::{Actor, Involvement, OpenReason};
use aanwezig_domain::{
    Case, CaseStep, Category, Policy, RegistrationRecord, Role, Student, StudentId,
};
use aanwezig_storage::{
    AuditAction, AuditEntry, AuditFilter, DocumentKind, ImportSource, SessionRecord, Store,
    StoreError, StoredStudent, User,
};
use aanwezig_storage_sqlite::SqliteStore;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use sqlx::{Connection, SqliteConnection};

fn sid(n: u32) -> StudentId {
    StudentId::parse(&format!("{}", 5000 + n)).unwrap()
}

fn date(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 9, d).unwrap()
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
        left_on: (n == 1).then(|| NaiveDate::from_ymd_opt(2026, 2, 1).unwrap()),
    }
}

fn lesson(n: u32, d: u32, l: u8, category: Category) -> RegistrationRecord {
    RegistrationRecord {
        student: sid(n),
        date: date(d),
        lesson: l,
        minutes: 50,
        code: (category != Category::Present).then(|| "X".to_owned()),
        category,
        minutes_late: 0,
        note: None,
    }
}

fn source(name: &str) -> ImportSource {
    ImportSource {
        file_name: name.to_owned(),
        sha256: "ab".repeat(32),
        imported_by: "coordinator".to_owned(),
        at: at(0),
    }
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A raw connection to the file, to look at or damage what the store wrote.
async fn raw(path: &Path) -> SqliteConnection {
    SqliteConnection::connect(&format!("sqlite://{}", path_str(path)))
        .await
        .unwrap()
}

#[tokio::test]
async fn data_survives_closing_and_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("school.db");
    let records: Vec<_> = (0..2)
        .flat_map(|n| (1..=7).map(move |l| lesson(n, 2, l, Category::Present)))
        .collect();

    let store = SqliteStore::open(path_str(&path), true).await.unwrap();
    store
        .upsert_students(&[student(0), student(1)])
        .await
        .unwrap();
    store
        .import_registrations(&records, &source("a.csv"), &|_| {})
        .await
        .unwrap();
    let changed = lesson(1, 2, 3, Category::ReportedSick);
    store
        .set_registration(&changed, "mentor", at(10))
        .await
        .unwrap();
    store
        .save_policy(&Policy::default(), "beheer", at(20))
        .await
        .unwrap();
    let before = (
        store.students().await.unwrap(),
        store.registrations_all().await.unwrap(),
        store.registration_history(&sid(1)).await.unwrap(),
        store.imports().await.unwrap(),
        store.document_versions(DocumentKind::Policy).await.unwrap(),
    );
    store.close().await;
    assert!(
        store.student_count().await.is_err(),
        "a closed store must not answer"
    );

    let store = SqliteStore::open(path_str(&path), false).await.unwrap();
    let after = (
        store.students().await.unwrap(),
        store.registrations_all().await.unwrap(),
        store.registration_history(&sid(1)).await.unwrap(),
        store.imports().await.unwrap(),
        store.document_versions(DocumentKind::Policy).await.unwrap(),
    );
    assert_eq!(after, before);
    assert_eq!(after.0[1].left_on, student(1).left_on);
    assert_eq!(after.2.len(), 1);
    assert_eq!(after.2[0].old.category, Category::Present);
    assert!(after.1[1].1.contains(&changed));
    assert_eq!(store.policy().await.unwrap(), Some(Policy::default()));
    store.close().await;
}

#[tokio::test]
async fn migrations_run_on_an_existing_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("school.db");
    let store = SqliteStore::open(path_str(&path), true).await.unwrap();
    store.upsert_students(&[student(0)]).await.unwrap();
    store.close().await;

    // Opening again checks and (re)applies migrations without error and
    // without recording them twice.
    for _ in 0..2 {
        let store = SqliteStore::open(path_str(&path), false).await.unwrap();
        assert_eq!(store.student_count().await.unwrap(), 1);
        store.close().await;
    }
    let mut conn = raw(&path).await;
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        applied,
        sqlx::migrate!("./migrations").iter().count() as i64
    );
    assert_eq!(applied, 11);
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(mode, "wal", "the store must leave the file in WAL mode");
    conn.close().await.unwrap();
}

#[tokio::test]
async fn a_missing_file_is_not_created_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent.db");
    let err = SqliteStore::open(path_str(&path), false).await;
    assert!(matches!(err, Err(StoreError::Database(_))), "{err:?}");
    assert!(!path.exists());
}

#[tokio::test]
async fn sqlite_urls_and_memory_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("url.db");
    let url = format!("sqlite://{}", path_str(&path));
    let store = SqliteStore::open(&url, true).await.unwrap();
    store.upsert_students(&[student(3)]).await.unwrap();
    store.close().await;
    assert!(path.exists());

    let memory = SqliteStore::open("sqlite::memory:", true).await.unwrap();
    assert_eq!(memory.student_count().await.unwrap(), 0);
    memory.close().await;
}

#[tokio::test]
async fn damaged_data_reads_back_as_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("school.db");
    let store = SqliteStore::open(path_str(&path), true).await.unwrap();
    store.upsert_students(&[student(0)]).await.unwrap();
    store
        .import_registrations(
            &[lesson(0, 1, 1, Category::Unknown)],
            &source("a.csv"),
            &|_| {},
        )
        .await
        .unwrap();
    store
        .save_policy(&Policy::default(), "beheer", at(0))
        .await
        .unwrap();
    store.close().await;

    // Someone edits the file by hand: a student number with a space, an
    // impossible date, a policy key that does not exist.
    let mut conn = raw(&path).await;
    sqlx::query("UPDATE students SET number = 'a b'")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("UPDATE registrations SET date = '2025-02-30'")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("UPDATE documents SET json = '{\"no_such_key\": 1}'")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();

    let store = SqliteStore::open(path_str(&path), false).await.unwrap();
    assert!(matches!(
        store.students().await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(
        store.registrations_all().await,
        Err(StoreError::Invalid(_))
    ));
    assert!(matches!(store.policy().await, Err(StoreError::Invalid(_))));
    store.close().await;
}

#[tokio::test]
async fn student_numbers_are_checked_in_the_schema_and_on_reading() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("school.db");
    let store = SqliteStore::open(path_str(&path), true).await.unwrap();
    store.upsert_students(&[student(0)]).await.unwrap();
    store.close().await;

    let mut conn = raw(&path).await;
    for bad in ["12345678", "12345678a", "1234567890"] {
        let refused = sqlx::query("UPDATE students SET bsn = ?1")
            .bind(bad)
            .execute(&mut conn)
            .await;
        let err = StoreError::from(refused.unwrap_err());
        assert!(matches!(err, StoreError::Conflict(_)), "{bad}: {err:?}");
        let refused = sqlx::query("UPDATE students SET onderwijsnummer = ?1")
            .bind(bad)
            .execute(&mut conn)
            .await;
        assert!(refused.is_err(), "{bad}");
    }
    // Nine digits pass the schema; the elfproef is checked on reading.
    sqlx::query("UPDATE students SET bsn = '123456783'")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let store = SqliteStore::open(path_str(&path), false).await.unwrap();
    match store.students().await {
        Err(StoreError::Invalid(m)) => {
            assert!(m.contains("BSN") && m.contains(&sid(0).to_string()), "{m}");
            assert!(
                !m.contains("123456783"),
                "the message repeats the number: {m}"
            );
        }
        other => panic!("a bad BSN was read back: {other:?}"),
    }
    store.close().await;
}

#[tokio::test]
async fn the_schema_holds_the_line_without_the_store() {
    // Constraints live in the database, not only in Rust: a raw insert for
    // an unknown student or with a sick note is refused too.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("school.db");
    let store = SqliteStore::open(path_str(&path), true).await.unwrap();
    store.upsert_students(&[student(0)]).await.unwrap();
    store
        .set_registration(&lesson(0, 1, 1, Category::Present), "x", at(0))
        .await
        .unwrap();
    store.close().await;

    let mut conn = raw(&path).await;
    sqlx::query("PRAGMA foreign_keys = ON")
        .execute(&mut conn)
        .await
        .unwrap();
    let insert = "INSERT INTO registrations
        (student_id, date, lesson, minutes, code, category, minutes_late, note, change_id)
        VALUES (?1, '2025-09-02', 1, 50, NULL, ?2, 0, ?3, 1)";
    let unknown_student = sqlx::query(insert)
        .bind(999)
        .bind(0)
        .bind(None::<String>)
        .execute(&mut conn)
        .await;
    let sick_note = sqlx::query(insert)
        .bind(1)
        .bind(3)
        .bind("griep")
        .execute(&mut conn)
        .await;
    let bad_category = sqlx::query(insert)
        .bind(1)
        .bind(9)
        .bind(None::<String>)
        .execute(&mut conn)
        .await;
    for result in [unknown_student, sick_note, bad_category] {
        let err = StoreError::from(result.unwrap_err());
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    }
    let named: Vec<(String, String)> =
        sqlx::query_as("SELECT student, category FROM registrations_named")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert_eq!(named, vec![(sid(0).to_string(), "present".to_owned())]);
    conn.close().await.unwrap();
}

#[tokio::test]
async fn a_version_1_file_is_upgraded_and_keeps_its_data() {
    // A file made by the first release: only migration 0001 applied.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("school.db");
    let all = sqlx::migrate!("./migrations");
    let first = sqlx::migrate::Migrator {
        migrations: std::borrow::Cow::Owned(all.iter().take(1).cloned().collect()),
        ..sqlx::migrate::Migrator::DEFAULT
    };
    let mut conn = SqliteConnection::connect(&format!("sqlite://{}?mode=rwc", path_str(&path)))
        .await
        .unwrap();
    first.run_direct(&mut conn).await.unwrap();
    sqlx::query(
        "INSERT INTO students (number, name, class, mentor, date_of_birth)
         VALUES ('5000', 'Leerling 0', '1A', 'mentor', '2013-03-01')",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let has_users: i64 =
        sqlx::query_scalar("SELECT count(*) FROM sqlite_master WHERE name = 'users'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(has_users, 0, "the old file must not have the new tables");
    conn.close().await.unwrap();

    let store = SqliteStore::open(path_str(&path), false).await.unwrap();
    assert_eq!(
        store.student(&sid(0)).await.unwrap().unwrap().student.name,
        "Leerling 0"
    );
    assert_eq!(store.user_count().await.unwrap(), 0);
    store
        .audit(&AuditEntry {
            at: at(0),
            username: "beheerder".to_owned(),
            action: AuditAction::UserAdmin,
            student: None,
            detail: "na de upgrade".to_owned(),
        })
        .await
        .unwrap();
    store.close().await;
}

fn audit_entry(min: i64) -> AuditEntry {
    AuditEntry {
        at: at(min),
        username: "mentor".to_owned(),
        action: AuditAction::Read,
        student: Some(sid(0)),
        detail: "dossier bekeken".to_owned(),
    }
}

#[tokio::test]
async fn the_audit_log_is_append_only_even_for_raw_sql() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("school.db");
    let store = SqliteStore::open(path_str(&path), true).await.unwrap();
    store.audit(&audit_entry(0)).await.unwrap();
    store.audit(&audit_entry(1)).await.unwrap();
    store.close().await;

    let mut conn = raw(&path).await;
    let attempts = [
        "UPDATE audit_log SET detail = 'niets gezien'",
        "UPDATE audit_log SET username = 'iemand anders' WHERE id = 1",
        // Unlinking is for the retention purge only, exactly as it does it:
        // not with another text, not while changing anything else.
        "UPDATE audit_log SET student = NULL, detail = 'weg'",
        "UPDATE audit_log SET student = NULL, detail = 'verwijderd na de bewaartermijn', username = 'x'",
        "UPDATE audit_log SET student = 'L00002' WHERE id = 1",
        "DELETE FROM audit_log WHERE id = 1",
        "DELETE FROM audit_log",
    ];
    for sql in attempts {
        let err = sqlx::query(sql).execute(&mut conn).await.unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
        // A trigger's RAISE is a constraint error: the store reports it as
        // a conflict like any other refused write.
        assert!(
            matches!(StoreError::from(err), StoreError::Conflict(_)),
            "{sql}"
        );
    }
    // Appending still works.
    sqlx::query(
        "INSERT INTO audit_log (at, username, action, student, detail)
         VALUES ('2025-09-01T09:00:00.000000000Z', 'x', 'read', NULL, 'raw')",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();

    let store = SqliteStore::open(path_str(&path), false).await.unwrap();
    let log = store
        .audit_log(&AuditFilter {
            student: Some(sid(0)),
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(log, vec![audit_entry(1), audit_entry(0)]);
    assert_eq!(
        store
            .audit_log(&AuditFilter::default())
            .await
            .unwrap()
            .len(),
        3
    );
    store.close().await;
}

#[tokio::test]
async fn users_and_sessions_survive_reopening_and_the_schema_checks_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("school.db");
    let store = SqliteStore::open(path_str(&path), true).await.unwrap();
    let user = User {
        username: "jan".to_owned(),
        display_name: "Jan de Vries".to_owned(),
        role: Role::Mentor,
        classes: vec!["2B".to_owned(), "3A".to_owned()],
        email: Some("jan@school.example".to_owned()),
        active: true,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
        created_at: at(0),
        account_id: String::new(),
    };
    let session = SessionRecord {
        id_hash: "ab".repeat(32),
        username: "jan".to_owned(),
        csrf_token: "csrf".to_owned(),
        created_at: at(1),
        last_seen_at: at(2),
    };
    let mut user = user;
    user.account_id = store.create_user(&user).await.unwrap();
    store.create_session(&session).await.unwrap();
    store.close().await;

    let store = SqliteStore::open(path_str(&path), false).await.unwrap();
    assert_eq!(store.user("jan").await.unwrap(), Some(user));
    assert_eq!(
        store.session(&session.id_hash).await.unwrap(),
        Some(session)
    );
    store.close().await;

    // The schema refuses what the Rust types cannot express.
    let mut conn = raw(&path).await;
    sqlx::query("PRAGMA foreign_keys = ON")
        .execute(&mut conn)
        .await
        .unwrap();
    let bad = [
        "UPDATE users SET role = 'directeur'",
        "UPDATE users SET classes = 'not json'",
        "UPDATE users SET classes = '{}'",
        "UPDATE users SET active = 2",
        "UPDATE users SET email = ''",
        "UPDATE sessions SET username = 'nobody'",
        "INSERT INTO users (username, display_name, role, active, password_hash, created_at)
         VALUES ('', 'x', 'beheerder', 1, 'h', 't')",
        // Migration 0006: every account has an id, its own, for good.
        "INSERT INTO users (username, display_name, role, active, password_hash, created_at)
         VALUES ('piet', 'x', 'beheerder', 1, 'h', 't')",
        "INSERT INTO users (username, display_name, role, active, password_hash, created_at,
             account_id)
         VALUES ('piet', 'x', 'beheerder', 1, 'h', 't', '')",
        "UPDATE users SET account_id = 'other'",
        "UPDATE users SET account_id = NULL",
    ];
    for sql in bad {
        let err = StoreError::from(sqlx::query(sql).execute(&mut conn).await.unwrap_err());
        assert!(matches!(err, StoreError::Conflict(_)), "{sql}: {err:?}");
    }
    conn.close().await.unwrap();
}

/// Migration 0006 on a file of schema version 5: the accounts that existed
/// get an id each (32 hex digits, all different), and a case stored then,
/// whose involvement names only the partner's username, still loads.
#[tokio::test]
async fn a_version_5_file_gets_account_ids_and_keeps_its_cases() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("school.db");
    let all = sqlx::migrate!("./migrations");
    let five = sqlx::migrate::Migrator {
        migrations: std::borrow::Cow::Owned(all.iter().take(5).cloned().collect()),
        ..sqlx::migrate::Migrator::DEFAULT
    };
    let mut conn = SqliteConnection::connect(&format!("sqlite://{}?mode=rwc", path_str(&path)))
        .await
        .unwrap();
    five.run_direct(&mut conn).await.unwrap();
    for name in ["kp", "lpa", "beheer"] {
        sqlx::query(
            "INSERT INTO users (username, display_name, role, active, password_hash, created_at)
             VALUES (?1, ?1, 'ketenpartner', 1, 'h', '2025-09-01T07:00:00.000000000Z')",
        )
        .bind(name)
        .execute(&mut conn)
        .await
        .unwrap();
    }
    sqlx::query(
        "INSERT INTO students (number, name, class, mentor, date_of_birth)
         VALUES ('5000', 'Leerling 0', '1A', 'mentor', '2013-03-01')",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    // A case as the version before wrote it: `involved` without `account`
    // (an involvement without one serialises exactly like that).
    let by = Actor::new("vc", Role::Verzuimcoordinator);
    let mut old = Case::open(
        sid(0),
        date(29),
        by.clone(),
        OpenReason::Zorgen {
            note: "zorgen".to_owned(),
        },
        CaseStep::S3b,
    )
    .unwrap();
    old.involved.push(Involvement {
        user: "kp".to_owned(),
        account: None,
        role: Role::Ketenpartner,
        since: date(29),
        by,
        until: None,
    });
    let json = serde_json::to_string(&old).unwrap();
    assert!(
        json.contains(r#""involved":[{"user":"kp","role":"ketenpartner""#),
        "{json}"
    );
    assert!(!json.contains("account"), "{json}");
    sqlx::query(
        "INSERT INTO cases (student_id, opened_on, is_open, version, json, saved_by, saved_at)
         VALUES (1, '2025-09-29', 1, 1, ?1, 'vc', '2025-09-29T07:00:00.000000000Z')",
    )
    .bind(json)
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();

    let store = SqliteStore::open(path_str(&path), false).await.unwrap();
    let users = store.users().await.unwrap();
    let mut ids: Vec<&str> = users.iter().map(|u| u.account_id.as_str()).collect();
    assert!(
        ids.iter()
            .all(|id| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())),
        "{ids:?}"
    );
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 3, "every account its own id");

    let case = store.case(&sid(0)).await;
    let case = case.unwrap().unwrap();
    assert_eq!(case, old);
    let kp = users.iter().find(|u| u.username == "kp").unwrap();
    assert!(
        case.involves(&kp.identity()),
        "the account that existed when it was brought in keeps its access"
    );
    // Removed and created again under the same name: the newcomer is not it.
    store.delete_user("kp").await.unwrap();
    let mut again = kp.clone();
    again.created_at = Utc.with_ymd_and_hms(2025, 11, 14, 9, 0, 0).unwrap();
    again.account_id = store.create_user(&again).await.unwrap();
    assert_ne!(again.account_id, kp.account_id);
    assert!(!case.involves(&again.identity()));
    store.close().await;
}

fn opened_case(n: u32) -> Case {
    Case::open(
        sid(n),
        date(1),
        Actor::new("coordinator", Role::Verzuimcoordinator),
        OpenReason::Zorgen {
            note: "zorgen".to_owned(),
        },
        CaseStep::S3a,
    )
    .unwrap()
}

fn change_entry(min: i64, detail: &str) -> AuditEntry {
    AuditEntry {
        at: at(min),
        username: "coordinator".to_owned(),
        action: AuditAction::Change,
        student: Some(sid(0)),
        detail: detail.to_owned(),
    }
}

/// Two stores on one file, as two app servers (or processes) on one
/// database: a change by one wakes the other's `wait_for_change` and is in
/// its `changes_since`, and a checked write from a version the other has
/// replaced meanwhile is refused.
#[tokio::test]
async fn two_stores_on_one_file_follow_each_other_and_check_versions() {
    use aanwezig_storage::{ChangeKind, VersionCheck};
    use std::time::Duration;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("school.db");
    let a = SqliteStore::open(path_str(&path), true).await.unwrap();
    let b = SqliteStore::open(path_str(&path), false).await.unwrap();
    let before = b.last_change().await.unwrap();

    let follower = b.clone();
    let waiter = tokio::spawn(async move {
        tokio::time::timeout(
            Duration::from_secs(20),
            follower.wait_for_change(before, Duration::from_secs(600)),
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    a.upsert_students(&[student(0)]).await.unwrap();
    let woke = waiter.await.unwrap();
    assert!(matches!(woke, Ok(Ok(()))), "B wakes for A's change");
    let seen = b.changes_since(before, 10).await.unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].kind, ChangeKind::Students);
    assert_eq!(seen[0].student, Some(sid(0)));

    // Both read version 1 of the case; A saves first, B's save is stale.
    a.save_case_checked(
        &opened_case(0),
        VersionCheck::New,
        "coordinator",
        at(1),
        &change_entry(1, "geopend"),
    )
    .await
    .unwrap();
    let (case_a, v_a) = a.case_with_version(&sid(0)).await.unwrap().unwrap();
    let (case_b, v_b) = b.case_with_version(&sid(0)).await.unwrap().unwrap();
    assert_eq!((v_a, v_b), (1, 1));
    a.save_case_checked(
        &case_a,
        VersionCheck::Version(v_a),
        "a",
        at(2),
        &change_entry(2, "door A"),
    )
    .await
    .unwrap();
    let refused = b
        .save_case_checked(
            &case_b,
            VersionCheck::Version(v_b),
            "b",
            at(3),
            &change_entry(3, "door B"),
        )
        .await;
    assert!(
        matches!(
            refused,
            Err(StoreError::StaleVersion {
                expected: VersionCheck::Version(1),
                stored: Some(2)
            })
        ),
        "{refused:?}"
    );
    assert_eq!(
        b.last_change().await.unwrap(),
        a.last_change().await.unwrap()
    );
    a.close().await;
    b.close().await;
}

/// A checked write whose audit entry the database refuses (here: a
/// trigger added for the test) writes nothing: no version, no change in the
/// feed, no audit entry.
#[tokio::test]
async fn a_refused_audit_entry_leaves_no_change() {
    use aanwezig_storage::{DocumentWrite, VersionCheck};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("school.db");
    let store = SqliteStore::open(path_str(&path), true).await.unwrap();
    store.upsert_students(&[student(0)]).await.unwrap();
    let mut conn = raw(&path).await;
    sqlx::query(
        "CREATE TRIGGER test_refuse_audit BEFORE INSERT ON audit_log
         WHEN NEW.detail = 'weiger' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    let last = store.last_change().await.unwrap();
    let refused = change_entry(1, "weiger");

    let case = store
        .save_case_checked(&opened_case(0), VersionCheck::New, "c", at(1), &refused)
        .await;
    assert!(matches!(case, Err(StoreError::Conflict(_))), "{case:?}");
    assert_eq!(store.case_with_version(&sid(0)).await.unwrap(), None);

    let draft = aanwezig_storage::testsuite::draft_of(0, None, date(30));
    let draft = aanwezig_domain::MeldingDraft {
        student: sid(0),
        ..draft
    };
    let melding = store
        .save_melding_checked(None, &draft, VersionCheck::New, "c", at(1), &refused)
        .await;
    assert!(
        matches!(melding, Err(StoreError::Conflict(_))),
        "{melding:?}"
    );
    assert!(store
        .meldingen(&Default::default())
        .await
        .unwrap()
        .is_empty());

    let doc = store
        .save_document_checked(
            DocumentWrite::Settings(DocumentKind::School, "{}"),
            VersionCheck::New,
            "c",
            at(1),
            &refused,
        )
        .await;
    assert!(matches!(doc, Err(StoreError::Conflict(_))), "{doc:?}");
    assert_eq!(
        store.document_version(DocumentKind::School).await.unwrap(),
        None
    );

    assert_eq!(store.last_change().await.unwrap(), last);
    assert!(store
        .audit_log(&AuditFilter::default())
        .await
        .unwrap()
        .is_empty());
    // With an entry the database takes, the same write goes through.
    store
        .save_case_checked(
            &opened_case(0),
            VersionCheck::New,
            "c",
            at(2),
            &change_entry(2, "geopend"),
        )
        .await
        .unwrap();
    assert!(store.last_change().await.unwrap() > last);
    store.close().await;
}
