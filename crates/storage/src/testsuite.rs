//! The conformance suite every [`Store`] implementation must pass.
//!
//! Each check is a `pub async fn(&dyn Store) -> Result<(), StoreError>`
//! that expects an empty store and panics (through `assert!`) when the
//! store misbehaves. [`conformance_tests!`](crate::conformance_tests)
//! turns the whole list into one `#[tokio::test]` per check for a backend:
//!
//! ```text
//! async fn fresh() -> (Guard, Box<dyn Store>) { /* an empty store */ }
//! aanwezig_storage::conformance_tests!(fresh);
//! ```
//!
//! Backend-specific behaviour (files, reopening, pragmas) is tested next to
//! the backend, not here.

use aanwezig_domain::{
    Category, FreeDay, FreeDayKind, LessonSlot, Policy, RegistrationRecord, SchoolYear, Student,
    StudentId,
};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use futures::TryStreamExt;

use crate::model::{DocumentKind, ImportSource, StoredStudent};
use crate::{Store, StoreError};

type Check = Result<(), StoreError>;

/// A student number that is valid by construction in these tests.
pub fn sid(n: u32) -> StudentId {
    match StudentId::parse(&format!("L{n:05}")) {
        Ok(id) => id,
        Err(e) => unreachable!("generated student numbers are valid: {e}"),
    }
}

/// A calendar date, valid by construction in these tests.
pub fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

/// A fixed instant: `2025-09-01 08:00:00 UTC` plus `minutes`.
pub fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 9, 1, 8, 0, 0)
        .single()
        .unwrap_or_default()
        + chrono::Duration::minutes(minutes)
}

/// A stored student with number `sid(n)`.
pub fn student(n: u32) -> StoredStudent {
    StoredStudent {
        student: Student {
            id: sid(n),
            name: format!("Leerling {n}"),
            class: "2B".to_owned(),
            mentor: "mentor.a".to_owned(),
            date_of_birth: day(2012, 1, 1 + n % 28),
        },
        left_on: None,
    }
}

/// A present lesson of 50 minutes.
pub fn lesson(n: u32, date: NaiveDate, lesson: u8) -> RegistrationRecord {
    RegistrationRecord {
        student: sid(n),
        date,
        lesson,
        minutes: 50,
        code: None,
        category: Category::Present,
        minutes_late: 0,
        note: None,
    }
}

/// `students` students with `days` school days of `lessons` lessons each
/// from 1 Sep 2025 (weekdays only), every fifth lesson `unknown`.
pub fn generate(students: u32, days: u32, lessons: u8) -> Vec<RegistrationRecord> {
    let mut dates = Vec::new();
    let mut d = day(2025, 9, 1);
    while dates.len() < days as usize {
        if chrono::Datelike::weekday(&d).number_from_monday() <= 5 {
            dates.push(d);
        }
        d = d.succ_opt().unwrap_or(d);
    }
    let mut out = Vec::new();
    for n in 0..students {
        for (i, date) in dates.iter().enumerate() {
            for l in 1..=lessons {
                let mut r = lesson(n, *date, l);
                if (i + usize::from(l)) % 5 == 0 {
                    r.category = Category::Unknown;
                    r.code = Some("O".to_owned());
                }
                out.push(r);
            }
        }
    }
    out
}

/// An import source with the given file name.
pub fn source(file: &str, minutes: i64) -> ImportSource {
    ImportSource {
        file_name: file.to_owned(),
        sha256: format!("{:064x}", file.len()),
        imported_by: "coordinator".to_owned(),
        at: at(minutes),
    }
}

/// Every student in `0..n`.
pub async fn add_students(store: &dyn Store, n: u32) -> Check {
    let students: Vec<_> = (0..n).map(student).collect();
    store.upsert_students(&students).await?;
    Ok(())
}

fn no_progress(_: u64) {}

/// A school year 2025-2026 with the herfstvakantie and seven lessons.
pub fn school_year() -> SchoolYear {
    SchoolYear {
        name: "2025-2026".to_owned(),
        region: Some("noord".to_owned()),
        first_day: day(2025, 8, 25),
        last_day: day(2026, 7, 17),
        free_days: vec![FreeDay {
            name: "herfstvakantie".to_owned(),
            kind: FreeDayKind::Vakantie,
            first: day(2025, 10, 18),
            last: day(2025, 10, 26),
            unconfirmed: false,
        }],
        lessons: (1..=7)
            .map(|number| LessonSlot {
                number,
                minutes: 50,
                start: None,
            })
            .collect(),
    }
}

// --- the checks -----------------------------------------------------------

/// Students are inserted, updated and left alone, and read back as given.
pub async fn students_round_trip(store: &dyn Store) -> Check {
    let mut list: Vec<_> = (0..3).map(student).collect();
    let counts = store.upsert_students(&list).await?;
    assert_eq!(
        (counts.inserted, counts.updated, counts.unchanged),
        (3, 0, 0)
    );

    list[1].student.class = "3A".to_owned();
    list[2].left_on = Some(day(2026, 1, 31));
    list.push(student(3));
    let counts = store.upsert_students(&list).await?;
    assert_eq!(
        (counts.inserted, counts.updated, counts.unchanged),
        (1, 2, 1)
    );

    assert_eq!(store.student_count().await?, 4);
    assert_eq!(store.students().await?, list);
    assert_eq!(store.student(&sid(2)).await?, Some(list[2].clone()));
    assert_eq!(store.student(&sid(99)).await?, None);
    Ok(())
}

/// An import stores every record exactly, and reads give them back grouped
/// by student and sorted by (date, lesson), whatever the input order.
pub async fn registrations_round_trip(store: &dyn Store) -> Check {
    add_students(store, 3).await?;
    let mut records = generate(3, 4, 7);
    records[5].code = Some("L".to_owned());
    records[5].category = Category::LateUnexcused;
    records[5].minutes_late = 12;
    records[6].note = Some("bus \"te laat\", zie mail".to_owned());
    records[7].category = Category::ReportedSick;
    records[7].minutes = 100;
    let mut shuffled = records.clone();
    shuffled.reverse();

    let progress_calls = std::sync::atomic::AtomicU64::new(0);
    let summary = store
        .import_registrations(&shuffled, &source("week1.csv", 0), &|done| {
            progress_calls.store(done, std::sync::atomic::Ordering::Relaxed);
        })
        .await?;
    assert_eq!(summary.rows, records.len() as u64);
    assert_eq!(
        (summary.inserted, summary.updated, summary.unchanged),
        (records.len() as u64, 0, 0)
    );
    assert_eq!(
        progress_calls.load(std::sync::atomic::Ordering::Relaxed),
        records.len() as u64
    );
    assert_eq!(store.registration_count().await?, records.len() as u64);

    let all = store.registrations_all().await?;
    let ids: Vec<_> = all.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(ids, vec![sid(0), sid(1), sid(2)]);
    let flat: Vec<_> = all.into_iter().flat_map(|(_, r)| r).collect();
    assert_eq!(
        flat, records,
        "generate() is already in (student, date, lesson) order"
    );

    let streamed: Vec<_> = store.registrations_stream().try_collect().await?;
    assert_eq!(streamed.len(), 3);
    assert_eq!(store.student_registrations(&sid(1)).await?, streamed[1].1);
    Ok(())
}

/// Students without registrations are left out of `registrations_all`, and
/// an unknown student is `NotFound` for per-student reads.
pub async fn reads_of_unknown_and_empty_students(store: &dyn Store) -> Check {
    add_students(store, 2).await?;
    let records = generate(1, 1, 2);
    store
        .import_registrations(&records, &source("a.csv", 0), &no_progress)
        .await?;
    let all = store.registrations_all().await?;
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].0, sid(0));
    assert!(store.student_registrations(&sid(1)).await?.is_empty());
    assert!(store.registration_history(&sid(1)).await?.is_empty());
    assert!(matches!(
        store.student_registrations(&sid(7)).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.registration_history(&sid(7)).await,
        Err(StoreError::NotFound(_))
    ));
    Ok(())
}

/// Importing the same data again changes nothing and writes no history,
/// but is logged.
pub async fn reimport_changes_nothing(store: &dyn Store) -> Check {
    add_students(store, 4).await?;
    let records = generate(4, 5, 7);
    let n = records.len() as u64;
    store
        .import_registrations(&records, &source("a.csv", 0), &no_progress)
        .await?;
    let again = store
        .import_registrations(&records, &source("a.csv", 60), &no_progress)
        .await?;
    assert_eq!((again.inserted, again.updated, again.unchanged), (0, 0, n));
    for i in 0..4 {
        assert!(store.registration_history(&sid(i)).await?.is_empty());
    }
    assert_eq!(store.registration_count().await?, n);
    let log = store.imports().await?;
    assert_eq!(log.len(), 2);
    assert_eq!(log[1].summary, again);
    assert_eq!(log[1].source, source("a.csv", 60));
    assert_ne!(log[0].summary.import_id, log[1].summary.import_id);
    Ok(())
}

/// A changed lesson updates the stored row and leaves exactly one history
/// entry with the old category, set by the first import and replaced by the
/// second.
pub async fn changed_lesson_keeps_history(store: &dyn Store) -> Check {
    add_students(store, 2).await?;
    let mut records = generate(2, 3, 7);
    let i = records
        .iter()
        .position(|r| r.category == Category::Unknown && r.student == sid(1))
        .unwrap_or_default();
    let first = store
        .import_registrations(&records, &source("a.csv", 0), &no_progress)
        .await?;

    let old = records[i].clone();
    records[i].category = Category::ReportedSick;
    records[i].code = Some("Z".to_owned());
    let second = store
        .import_registrations(&records, &source("b.csv", 90), &no_progress)
        .await?;
    assert_eq!(
        (second.inserted, second.updated, second.unchanged),
        (0, 1, records.len() as u64 - 1)
    );

    let history = store.registration_history(&sid(1)).await?;
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].old, old);
    assert_eq!(history[0].old.category, Category::Unknown);
    assert_eq!(history[0].set.import_id, Some(first.import_id));
    assert_eq!(history[0].set.at, at(0));
    assert_eq!(history[0].replaced.import_id, Some(second.import_id));
    assert_eq!(history[0].replaced.at, at(90));
    assert_eq!(history[0].replaced.by, "coordinator");
    assert!(store.registration_history(&sid(0)).await?.is_empty());

    let now = store.student_registrations(&sid(1)).await?;
    assert!(now.contains(&records[i]));
    assert!(!now.contains(&old));
    Ok(())
}

/// A batch with one unknown student fails as a conflict and leaves the
/// database exactly as it was: registrations, history and imports log.
pub async fn unknown_student_rolls_back(store: &dyn Store) -> Check {
    add_students(store, 2).await?;
    let records = generate(2, 2, 7);
    store
        .import_registrations(&records, &source("a.csv", 0), &no_progress)
        .await?;
    let before = (
        store.registrations_all().await?,
        store.imports().await?,
        store.registration_history(&sid(0)).await?,
    );

    // A changed row first (it would update and write history), new rows,
    // then a stranger at the very end, after more than one batch's worth.
    let mut bad = records.clone();
    bad[0].category = Category::Unauthorized;
    bad.extend(generate(2, 2000, 7).into_iter().skip(records.len()));
    bad.push(lesson(42, day(2025, 9, 1), 1));
    let err = store
        .import_registrations(&bad, &source("bad.csv", 5), &no_progress)
        .await;
    assert!(matches!(err, Err(StoreError::Conflict(_))), "{err:?}");

    let after = (
        store.registrations_all().await?,
        store.imports().await?,
        store.registration_history(&sid(0)).await?,
    );
    assert_eq!(after, before);
    assert_eq!(store.registration_count().await?, records.len() as u64);
    Ok(())
}

/// A key given twice in one import ends with its last record, and the first
/// one is in the history.
pub async fn duplicate_key_in_one_import_last_wins(store: &dyn Store) -> Check {
    add_students(store, 1).await?;
    let a = lesson(0, day(2025, 9, 1), 1);
    let mut b = a.clone();
    b.category = Category::Unknown;
    let summary = store
        .import_registrations(&[a.clone(), b.clone()], &source("a.csv", 0), &no_progress)
        .await?;
    assert_eq!(
        (summary.inserted, summary.updated, summary.unchanged),
        (1, 1, 0)
    );
    assert_eq!(store.student_registrations(&sid(0)).await?, vec![b]);
    let history = store.registration_history(&sid(0)).await?;
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].old, a);
    Ok(())
}

/// Single edits return the previous state, keep history like imports do,
/// and change nothing when identical.
pub async fn single_edit_keeps_history(store: &dyn Store) -> Check {
    add_students(store, 1).await?;
    let original = lesson(0, day(2025, 9, 2), 3);
    let imported = store
        .import_registrations(
            std::slice::from_ref(&original),
            &source("a.csv", 0),
            &no_progress,
        )
        .await?;

    let mut changed = original.clone();
    changed.category = Category::ReportedOther;
    changed.code = Some("A".to_owned());
    changed.note = Some("tandarts".to_owned());
    let previous = store.set_registration(&changed, "mentor.a", at(30)).await?;
    assert_eq!(previous, Some(original.clone()));
    let same = store.set_registration(&changed, "mentor.a", at(31)).await?;
    assert_eq!(same, Some(changed.clone()));

    let fresh = lesson(0, day(2025, 9, 2), 4);
    assert_eq!(
        store.set_registration(&fresh, "mentor.a", at(32)).await?,
        None
    );

    assert_eq!(
        store.student_registrations(&sid(0)).await?,
        vec![changed, fresh]
    );
    let history = store.registration_history(&sid(0)).await?;
    assert_eq!(history.len(), 1, "the identical edit must not add history");
    assert_eq!(history[0].old, original);
    assert_eq!(history[0].set.import_id, Some(imported.import_id));
    assert_eq!(history[0].replaced.by, "mentor.a");
    assert_eq!(history[0].replaced.at, at(30));
    assert_eq!(history[0].replaced.import_id, None);
    Ok(())
}

/// A single edit for an unknown student is a conflict and writes nothing;
/// the schema refuses a note on a sick lesson.
pub async fn single_edit_constraints(store: &dyn Store) -> Check {
    add_students(store, 1).await?;
    let stranger = lesson(5, day(2025, 9, 2), 1);
    assert!(matches!(
        store.set_registration(&stranger, "x", at(0)).await,
        Err(StoreError::Conflict(_))
    ));
    let mut sick = lesson(0, day(2025, 9, 2), 1);
    sick.category = Category::ReportedSick;
    sick.note = Some("griep".to_owned());
    assert!(matches!(
        store.set_registration(&sick, "x", at(0)).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store
            .import_registrations(&[sick], &source("a.csv", 0), &no_progress)
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.registration_count().await?, 0);
    assert!(store.imports().await?.is_empty());
    Ok(())
}

/// Calendar and policy are saved as versions; reads give the latest, and
/// every version stays readable.
pub async fn documents_keep_versions(store: &dyn Store) -> Check {
    assert_eq!(store.calendar().await?, None);
    assert_eq!(store.policy().await?, None);

    let year = school_year();
    assert_eq!(
        store
            .save_calendar(std::slice::from_ref(&year), "beheer", at(0))
            .await?,
        1
    );
    let mut year2 = year.clone();
    year2.free_days.clear();
    assert_eq!(
        store
            .save_calendar(&[year2.clone()], "beheer2", at(1))
            .await?,
        2
    );
    assert_eq!(store.calendar().await?, Some(vec![year2.clone()]));

    let versions = store.document_versions(DocumentKind::Calendar).await?;
    assert_eq!(versions.len(), 2);
    let v1: Vec<SchoolYear> =
        serde_json::from_str(&versions[0].json).map_err(|e| StoreError::Invalid(e.to_string()))?;
    assert_eq!(v1, vec![year]);
    assert_eq!(
        (
            versions[0].version,
            versions[0].saved_by.as_str(),
            versions[0].saved_at
        ),
        (1, "beheer", at(0))
    );
    assert_eq!(versions[1].version, 2);

    let mut policy = Policy {
        school: "Test College".to_owned(),
        ..Policy::default()
    };
    assert_eq!(store.save_policy(&policy, "beheer", at(2)).await?, 1);
    policy.school = "Test Lyceum".to_owned();
    assert_eq!(store.save_policy(&policy, "beheer", at(3)).await?, 2);
    assert_eq!(store.policy().await?, Some(policy));
    assert_eq!(
        store.document_versions(DocumentKind::Policy).await?.len(),
        2
    );
    // Kinds are numbered separately.
    assert_eq!(
        store.document_versions(DocumentKind::Calendar).await?.len(),
        2
    );
    Ok(())
}

/// Invalid settings are refused before anything is written.
pub async fn invalid_documents_are_refused(store: &dyn Store) -> Check {
    let mut year = school_year();
    year.lessons.clear();
    assert!(matches!(
        store.save_calendar(&[year], "beheer", at(0)).await,
        Err(StoreError::Invalid(_))
    ));
    let policy = Policy {
        afmelding_categories: aanwezig_domain::CategorySet::EMPTY,
        ..Policy::default()
    };
    assert!(matches!(
        store.save_policy(&policy, "beheer", at(0)).await,
        Err(StoreError::Invalid(_))
    ));
    assert!(store
        .document_versions(DocumentKind::Calendar)
        .await?
        .is_empty());
    assert!(store
        .document_versions(DocumentKind::Policy)
        .await?
        .is_empty());
    Ok(())
}

/// Runs `$check` for each listed check name against a fresh store from
/// `$fresh`, one `#[tokio::test]` each. `$fresh` is an async function
/// returning `(guard, Box<dyn Store>)`; the guard (a temp dir, say) lives
/// until the test ends.
#[macro_export]
macro_rules! conformance_tests {
    ($fresh:path) => {
        $crate::conformance_tests!(@each $fresh;
            students_round_trip,
            registrations_round_trip,
            reads_of_unknown_and_empty_students,
            reimport_changes_nothing,
            changed_lesson_keeps_history,
            unknown_student_rolls_back,
            duplicate_key_in_one_import_last_wins,
            single_edit_keeps_history,
            single_edit_constraints,
            documents_keep_versions,
            invalid_documents_are_refused,
        );
    };
    (@each $fresh:path; $($check:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $check() {
                let (_guard, store) = $fresh().await;
                let result = $crate::testsuite::$check(&*store).await;
                store.close().await;
                if let Err(e) = result {
                    panic!("{}: {e}", stringify!($check));
                }
            }
        )*
    };
}
