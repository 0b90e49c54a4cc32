//! The checked, audited writes and the change feed's rows on PostgreSQL,
//! and the checks holding between two stores on one database (two app
//! servers). The shared suite will hold the backend-neutral part of these
//! once the SQLite backend implements them too.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] fns; a failure is a test failure"
)]

use aanwezig_storage::prelude::*;
use aanwezig_storage::testsuite::{
    add_students, at, audit_entry, case_of, day, draft_of, lesson, school_year, sid,
};
use aanwezig_storage::{
    AuditAction, AuditFilter, ChangeKind, DocumentKind, DocumentWrite, Expected, LessonKey,
    LessonWrite, StoreError, VersionCheck,
};
use aanwezig_storage_postgres::PgStore;

use aanwezig_storage_postgres::testing::TestDb;

async fn store_on(db: &TestDb) -> PgStore {
    PgStore::connect(&db.url).await.unwrap()
}

fn audits(entries: &[aanwezig_storage::AuditEntry]) -> Vec<String> {
    entries.iter().map(|e| e.detail.clone()).collect()
}

#[tokio::test]
async fn documents_are_saved_checked_and_audited() {
    let db = TestDb::create().await;
    let store = store_on(&db).await;
    assert_eq!(
        store.document_version(DocumentKind::Mail).await.unwrap(),
        None
    );
    let audit = audit_entry(1, "beheer", AuditAction::Settings, None);
    let v1 = store
        .save_document_checked(
            DocumentWrite::Settings(DocumentKind::Mail, r#"{"host":"a"}"#),
            VersionCheck::New,
            "beheer",
            at(1),
            &audit,
        )
        .await
        .unwrap();
    assert_eq!(v1, 1);
    // A second writer who also saw "none yet" is stale; nothing is written,
    // not even its audit entry.
    let mut late = audit.clone();
    late.detail = "te laat".to_owned();
    let err = store
        .save_document_checked(
            DocumentWrite::Settings(DocumentKind::Mail, r#"{"host":"b"}"#),
            VersionCheck::New,
            "beheer2",
            at(2),
            &late,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::StaleVersion {
                expected: VersionCheck::New,
                stored: Some(1)
            }
        ),
        "{err:?}"
    );
    let v2 = store
        .save_document_checked(
            DocumentWrite::Calendar(&[school_year()]),
            VersionCheck::Any,
            "beheer",
            at(3),
            &audit,
        )
        .await
        .unwrap();
    assert_eq!(v2, 1, "kinds are numbered separately");
    assert_eq!(
        store.settings(DocumentKind::Mail).await.unwrap().as_deref(),
        Some(r#"{"host":"a"}"#)
    );
    let log = store.audit_log(&AuditFilter::default()).await.unwrap();
    assert_eq!(log.len(), 2);
    assert!(!audits(&log).contains(&"te laat".to_owned()));
    // Invalid JSON is refused before any check.
    let err = store
        .save_document_checked(
            DocumentWrite::Settings(DocumentKind::Mail, "{nope"),
            VersionCheck::Version(1),
            "beheer",
            at(4),
            &audit,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
    store.close().await;
}

#[tokio::test]
async fn cases_and_drafts_are_saved_checked_and_audited() {
    let db = TestDb::create().await;
    let store = store_on(&db).await;
    add_students(&store, 2).await.unwrap();
    let audit = audit_entry(1, "vc", AuditAction::Change, Some(1));
    let case = case_of(1, day(2025, 9, 10));
    assert_eq!(store.case_with_version(&sid(1)).await.unwrap(), None);
    assert_eq!(
        store
            .save_case_checked(&case, VersionCheck::New, "vc", at(1), &audit)
            .await
            .unwrap(),
        1
    );
    let (read, v) = store.case_with_version(&sid(1)).await.unwrap().unwrap();
    assert_eq!((read, v), (case.clone(), 1));
    assert_eq!(
        store
            .save_case_checked(&case, VersionCheck::Version(1), "vc", at(2), &audit)
            .await
            .unwrap(),
        2
    );
    let err = store
        .save_case_checked(&case, VersionCheck::Version(1), "vc2", at(3), &audit)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::StaleVersion {
                expected: VersionCheck::Version(1),
                stored: Some(2)
            }
        ),
        "{err:?}"
    );
    let err = store
        .save_case_checked(
            &case_of(7, day(2025, 9, 10)),
            VersionCheck::New,
            "vc",
            at(3),
            &audit,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    assert_eq!(store.case_versions(&sid(1)).await.unwrap().len(), 2);

    let draft = draft_of(1, Some(day(2025, 9, 26)), day(2025, 10, 3));
    let (id, v) = store
        .save_melding_checked(None, &draft, VersionCheck::New, "vc", at(4), &audit)
        .await
        .unwrap();
    assert_eq!(v, 1);
    assert_eq!(
        store.melding_with_version(id).await.unwrap(),
        Some((draft.clone(), 1))
    );
    let (_, v) = store
        .save_melding_checked(
            Some(id),
            &draft,
            VersionCheck::Version(1),
            "vc",
            at(5),
            &audit,
        )
        .await
        .unwrap();
    assert_eq!(v, 2);
    let err = store
        .save_melding_checked(
            Some(id),
            &draft,
            VersionCheck::Version(1),
            "vc",
            at(6),
            &audit,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::StaleVersion {
                stored: Some(2),
                ..
            }
        ),
        "{err:?}"
    );
    let err = store
        .save_melding_checked(None, &draft, VersionCheck::Version(3), "vc", at(6), &audit)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::StaleVersion { stored: None, .. }),
        "{err:?}"
    );
    // Four saves went through, four audit entries with them.
    let log = store
        .audit_log(&AuditFilter {
            limit: 100,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(log.len(), 4);
    store.close().await;
}

/// Every data write records its change, with the student when it is about
/// one; sessions and audit entries record none; numbers only grow.
#[tokio::test]
async fn writes_record_their_changes() {
    let db = TestDb::create().await;
    let store = store_on(&db).await;
    assert_eq!(store.last_change().await.unwrap(), 0);
    add_students(&store, 2).await.unwrap();
    store
        .set_registration(&lesson(1, day(2025, 9, 2), 1), "mentor", at(1))
        .await
        .unwrap();
    store
        .import_registrations(
            &[lesson(0, day(2025, 9, 2), 1)],
            &aanwezig_storage::testsuite::source("a.csv", 2),
            &|_| {},
        )
        .await
        .unwrap();
    store
        .audit(&audit_entry(3, "vc", AuditAction::Read, Some(1)))
        .await
        .unwrap();
    store
        .save_case(&case_of(1, day(2025, 9, 10)), "vc", at(4))
        .await
        .unwrap();
    store.purge_student(&sid(0)).await.unwrap();
    let changes = store.changes_since(0, 100).await.unwrap();
    let seen: Vec<(ChangeKind, Option<String>)> = changes
        .iter()
        .map(|c| (c.kind, c.student.as_ref().map(|s| s.to_string())))
        .collect();
    assert_eq!(
        seen,
        vec![
            (ChangeKind::Students, None),
            (ChangeKind::Registrations, Some(sid(1).to_string())),
            (ChangeKind::Registrations, None),
            (ChangeKind::Case, Some(sid(1).to_string())),
            (ChangeKind::Purge, Some(sid(0).to_string())),
        ]
    );
    assert!(changes.windows(2).all(|w| w[0].number < w[1].number));
    assert_eq!(
        store.last_change().await.unwrap(),
        changes.last().unwrap().number
    );
    assert_eq!(
        store
            .changes_since(changes[2].number, 1)
            .await
            .unwrap()
            .len(),
        1
    );
    store.close().await;
}

/// Two stores (two app servers) save the same lesson from the same read
/// at the same time: exactly one wins, the other is told it is stale.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checked_save_holds_across_stores() {
    let db = TestDb::create().await;
    let a = store_on(&db).await;
    let b = store_on(&db).await;
    add_students(&a, 1).await.unwrap();
    for round in 0..10u8 {
        let record = lesson(0, day(2025, 9, 2), round + 1);
        let key = LessonKey::of(&record);
        // Both start from "not registered".
        let write = |r: &aanwezig_domain::RegistrationRecord, cat| {
            let mut r = r.clone();
            r.category = cat;
            r.code = Some("A".to_owned());
            LessonWrite {
                record: r,
                expected: Expected::Absent,
            }
        };
        let wa = write(&record, aanwezig_domain::Category::Unknown);
        let wb = write(&record, aanwezig_domain::Category::Authorized);
        let (ra, rb) = tokio::join!(
            a.save_registrations(std::slice::from_ref(&wa), "a", at(1)),
            b.save_registrations(std::slice::from_ref(&wb), "b", at(1)),
        );
        let wins = [ra.is_ok(), rb.is_ok()];
        assert_eq!(wins.iter().filter(|w| **w).count(), 1, "round {round}");
        for r in [ra, rb] {
            if let Err(e) = r {
                assert!(matches!(e, StoreError::Stale(_)), "{e:?}");
            }
        }
        let now = a.registration_states(&[key]).await.unwrap();
        let winner = if wins[0] { &wa } else { &wb };
        assert_eq!(now[0].as_ref().map(|s| &s.record), Some(&winner.record));
    }
    a.close().await;
    b.close().await;
}
