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

use aanwezig_domain::case::{Actor, ClosureReason, OpenReason};
use aanwezig_domain::duo::SignalRef as DuoSignalRef;
use aanwezig_domain::{
    AbsenceDay, Case, CaseStep, Category, FreeDay, FreeDayKind, LessonSlot, MeldingDraft,
    MeldingKind, MeldingStatus, Policy, RegistrationRecord, Reporter, Role, RuleId, SchoolLocation,
    SchoolYear, Student, StudentId,
};
use aanwezig_domain::{Bsn, NumbersGiven, Onderwijsnummer};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use futures::TryStreamExt;

use crate::model::{
    batches_of, AbsencesOnly, AuditAction, AuditEntry, AuditFilter, ChangeKind, DocumentKind,
    DocumentWrite, Expected, ImportBundle, ImportSource, LessonKey, LessonWrite, MeldingFilter,
    PurgeCounts, Revision, SessionRecord, StoredRegistration, StoredStudent, User, VersionCheck,
};
use crate::{LessonState, Store, StoreError, StudentLessons};

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
            bsn: None,
            onderwijsnummer: None,
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

/// A user with the given role: a mentor gets classes 2B and 3A. The hash
/// is a stand-in (the store does not look inside it).
pub fn user(username: &str, role: Role) -> User {
    User {
        username: username.to_owned(),
        display_name: format!("Naam van {username}"),
        role,
        classes: if role == Role::Mentor {
            vec!["2B".to_owned(), "3A".to_owned()]
        } else {
            Vec::new()
        },
        email: Some(format!("{username}@school.example")),
        active: true,
        password_hash: format!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA${username}"),
        created_at: at(0),
        // The store gives the id (`create_user` returns it).
        account_id: String::new(),
    }
}

/// A session of `username` with the token hash `id`, created and last
/// seen at `at(minutes)`.
pub fn session(id: &str, username: &str, minutes: i64) -> SessionRecord {
    SessionRecord {
        id_hash: format!("{id:0>64}"),
        username: username.to_owned(),
        csrf_token: format!("csrf-{id}"),
        created_at: at(minutes),
        last_seen_at: at(minutes),
    }
}

/// An audit entry.
pub fn audit_entry(
    minutes: i64,
    username: &str,
    action: AuditAction,
    student: Option<u32>,
) -> AuditEntry {
    AuditEntry {
        at: at(minutes),
        username: username.to_owned(),
        action,
        student: student.map(sid),
        detail: format!("{action} door {username} op minuut {minutes}"),
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

/// BSN and onderwijsnummer are stored and read back. A write that does not
/// give them (a students file without those columns) keeps the stored ones,
/// also inside an import bundle; a write that gives them sets them, and
/// `None` there clears one.
pub async fn student_numbers_round_trip_and_survive_files_without_them(store: &dyn Store) -> Check {
    // Numbers that pass the elfproef, made for tests.
    let bsn = |s: &str| Bsn::parse(s).map_err(|e| StoreError::Invalid(e.to_string()));
    let own = |s: &str| Onderwijsnummer::parse(s).map_err(|e| StoreError::Invalid(e.to_string()));
    let mut full: Vec<_> = (0..3).map(student).collect();
    full[0].student.bsn = Some(bsn("123456782")?);
    full[1].student.onderwijsnummer = Some(own("101222331")?);
    full[2].student.bsn = Some(bsn("111222333")?);
    full[2].student.onderwijsnummer = Some(own("101222331")?);
    store.upsert_students(&full).await?;
    assert_eq!(store.students().await?, full);

    // A file without the columns: numbers stay, other changes land, and a
    // student whose only difference is the missing number is unchanged.
    let mut bare: Vec<_> = (0..3).map(student).collect();
    bare[0].student.class = "4C".to_owned();
    let counts = store
        .upsert_students_from(&bare, NumbersGiven::NONE)
        .await?;
    assert_eq!(
        (counts.inserted, counts.updated, counts.unchanged),
        (0, 1, 2)
    );
    let mut expected = full.clone();
    expected[0].student.class = "4C".to_owned();
    assert_eq!(store.students().await?, expected);

    // A file with a bsn column but no onderwijsnummer column: the empty
    // BSN cells clear, the onderwijsnummers stay.
    let only_bsn = NumbersGiven {
        bsn: true,
        onderwijsnummer: false,
    };
    let counts = store.upsert_students_from(&bare, only_bsn).await?;
    assert_eq!(
        (counts.inserted, counts.updated, counts.unchanged),
        (0, 2, 1)
    );
    for s in &mut expected {
        s.student.bsn = None;
    }
    assert_eq!(store.students().await?, expected);

    // A new student from a file without the columns has no numbers, even
    // when the caller's value carries one.
    let mut newcomer = student(3);
    newcomer.student.bsn = Some(bsn("123456782")?);
    store
        .upsert_students_from(std::slice::from_ref(&newcomer), NumbersGiven::NONE)
        .await?;
    assert_eq!(
        store.student(&sid(3)).await?.and_then(|s| s.student.bsn),
        None
    );

    // The same rule inside an import bundle.
    let given = vec![{
        let mut s = student(1);
        s.student.onderwijsnummer = None;
        s.student.bsn = Some(bsn("111222333")?);
        s
    }];
    let progress = |_: usize, _: u64| {};
    let bundle = |numbers| ImportBundle {
        calendar: None,
        policy: None,
        timetable: None,
        students: &given,
        student_numbers: numbers,
        registrations: Vec::new(),
        absences_only: None,
        by: "beheer",
        at: at(0),
    };
    store.import_bundle(bundle(only_bsn), &progress).await?;
    let one = store.student(&sid(1)).await?.map(|s| s.student);
    assert_eq!(
        one.as_ref().and_then(|s| s.bsn.as_ref()).map(Bsn::as_str),
        Some("111222333")
    );
    assert_eq!(
        one.as_ref()
            .and_then(|s| s.onderwijsnummer.as_ref())
            .map(Onderwijsnummer::as_str),
        Some("101222331"),
        "not given, so kept"
    );
    store
        .import_bundle(bundle(NumbersGiven::ALL), &progress)
        .await?;
    let one = store.student(&sid(1)).await?.map(|s| s.student);
    assert_eq!(one.and_then(|s| s.onderwijsnummer), None, "given empty");
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

/// `lessons_stream` gives the same lessons as `registrations_stream`, less
/// codes and notes, each student's sorted, also after changes that make the
/// stored order differ from the import order; students without any are
/// left out.
pub async fn lessons_stream_matches_the_registrations(store: &dyn Store) -> Check {
    add_students(store, 4).await?;
    let mut records = generate(3, 5, 7);
    records[3].category = Category::LateUnexcused;
    records[3].minutes = 600;
    records[3].minutes_late = 599;
    records[4].minutes = 600;
    records[4].category = Category::NotAbsence;
    records[5].note = Some("a, \"b\" [c]".to_owned());
    records[6].code = Some("Z,".to_owned());
    records[6].category = Category::ReportedSick;
    let mut shuffled = records.clone();
    shuffled.reverse();
    store
        .import_registrations(&shuffled, &source("a.csv", 0), &no_progress)
        .await?;
    // A later change to the first lesson of student 1.
    let mut changed = records[35].clone();
    changed.category = Category::Unauthorized;
    store
        .import_registrations(
            std::slice::from_ref(&changed),
            &source("b.csv", 1),
            &no_progress,
        )
        .await?;

    let mut lessons: Vec<StudentLessons> = store.lessons_stream().try_collect().await?;
    lessons.sort_by(|a, b| a.0.cmp(&b.0));
    let expected: Vec<StudentLessons> = store
        .registrations_all()
        .await?
        .iter()
        .map(|(id, recs)| (id.clone(), recs.iter().map(LessonState::from).collect()))
        .collect();
    assert_eq!(lessons, expected);
    assert_eq!(lessons.len(), 3, "student 3 has no lessons");
    assert_eq!(lessons[1].1[0].category, Category::Unauthorized);
    assert!(lessons.iter().all(|(_, l)| l
        .windows(2)
        .all(|w| (w[0].date, w[0].lesson) < (w[1].date, w[1].lesson))));
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

/// A register (several lessons) is saved in one transaction: one bad
/// record (an unknown student) and nothing of the batch is written; a good
/// batch shares one change set and keeps history for what it replaced.
pub async fn register_batch_is_all_or_nothing(store: &dyn Store) -> Check {
    add_students(store, 2).await?;
    let first = lesson(0, day(2025, 9, 2), 1);
    store.set_registration(&first, "mentor.a", at(1)).await?;
    let mut changed = first.clone();
    changed.category = Category::Unknown;
    changed.code = Some("A".to_owned());
    let stranger = lesson(7, day(2025, 9, 2), 1);
    let batch = [changed.clone(), lesson(1, day(2025, 9, 2), 1), stranger];
    assert!(matches!(
        store.set_registrations(&batch, "mentor.a", at(2)).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.student_registrations(&sid(0)).await?,
        vec![first.clone()]
    );
    assert_eq!(store.student_registrations(&sid(1)).await?, vec![]);
    assert!(store.registration_history(&sid(0)).await?.is_empty());

    let previous = store
        .set_registrations(&batch[..2], "mentor.a", at(3))
        .await?;
    assert_eq!(previous, vec![Some(first.clone()), None]);
    let history = store.registration_history(&sid(0)).await?;
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].old, first);
    assert_eq!(history[0].replaced.at, at(3));
    Ok(())
}

/// A write checked against the state it was read from.
pub fn checked(record: &RegistrationRecord, expected: Expected) -> LessonWrite {
    LessonWrite {
        record: record.clone(),
        expected,
    }
}

/// `record` with code A (unknown absence).
pub fn absent(record: &RegistrationRecord) -> RegistrationRecord {
    let mut r = record.clone();
    r.category = Category::Unknown;
    r.code = Some("A".to_owned());
    r
}

/// `record` reported sick (code Z).
pub fn sick(record: &RegistrationRecord) -> RegistrationRecord {
    let mut r = record.clone();
    r.category = Category::ReportedSick;
    r.code = Some("Z".to_owned());
    r
}

/// The revision a read gives for one lesson (which must be registered).
async fn revision(store: &dyn Store, record: &RegistrationRecord) -> Result<Revision, StoreError> {
    let states = store.registration_states(&[LessonKey::of(record)]).await?;
    match states.into_iter().next().flatten() {
        Some(s) => Ok(s.revision),
        None => Err(StoreError::NotFound(format!("{:?}", LessonKey::of(record)))),
    }
}

/// Reads give every lesson's revision and who set it; a write that changes
/// a lesson gives it a new revision, an identical one keeps it.
pub async fn lesson_states_carry_revisions(store: &dyn Store) -> Check {
    add_students(store, 2).await?;
    let d = day(2025, 9, 2);
    let imported = lesson(0, d, 1);
    let summary = store
        .import_registrations(
            std::slice::from_ref(&imported),
            &source("a.csv", 0),
            &no_progress,
        )
        .await?;
    let keys = [
        LessonKey::of(&imported),
        LessonKey::of(&lesson(0, d, 2)),
        LessonKey::of(&lesson(9, d, 1)),
    ];
    let states = store.registration_states(&keys).await?;
    assert_eq!(states.len(), 3);
    let first = states[0]
        .clone()
        .expect("the imported lesson is registered");
    assert_eq!(first.record, imported);
    assert_eq!(first.set.import_id, Some(summary.import_id));
    assert_eq!(first.set.by, "coordinator");
    assert_eq!(states[1], None, "a lesson not registered");
    assert_eq!(states[2], None, "a student not stored");
    assert_eq!(
        StoredRegistration::token(Some(&first)),
        first.revision.get()
    );
    assert_eq!(StoredRegistration::token(None), 0);

    let changed = absent(&imported);
    let written = store
        .save_registrations(
            &[
                checked(&changed, Expected::Revision(first.revision)),
                checked(&lesson(1, d, 1), Expected::Absent),
            ],
            "mentor.a",
            at(5),
        )
        .await?;
    assert_eq!(written.len(), 2);
    assert_eq!(written[0].previous.as_ref(), Some(&first));
    assert!(written[0].changed(&changed));
    assert!(written[0].revision > first.revision);
    assert_eq!(written[1].previous, None);
    assert_eq!(
        written[0].revision, written[1].revision,
        "one change set, one revision"
    );
    let now = store.student_registration_states(&sid(0)).await?;
    assert_eq!(now.len(), 1);
    assert_eq!(now[0].record, changed);
    assert_eq!(now[0].revision, written[0].revision);
    assert_eq!((now[0].set.by.as_str(), now[0].set.at), ("mentor.a", at(5)));
    assert_eq!(now[0].set.import_id, None);

    // Saving the same state again changes nothing, revision included.
    let again = store
        .save_registrations(
            &[checked(&changed, Expected::Revision(now[0].revision))],
            "mentor.b",
            at(6),
        )
        .await?;
    assert!(!again[0].changed(&changed));
    assert_eq!(again[0].revision, now[0].revision);
    assert_eq!(revision(store, &changed).await?, now[0].revision);
    assert!(matches!(
        store.student_registration_states(&sid(9)).await,
        Err(StoreError::NotFound(_))
    ));
    Ok(())
}

/// Two writers read the same lesson; the first saves. The second's save,
/// made from the older state, is refused with every stale lesson (what the
/// writer saw, what is stored now, who changed it when), and nothing of
/// its batch is written — not even its fresh lessons.
pub async fn a_stale_write_is_refused_and_writes_nothing(store: &dyn Store) -> Check {
    add_students(store, 3).await?;
    let d = day(2025, 9, 3);
    let class: Vec<RegistrationRecord> = (0..3).map(|n| lesson(n, d, 2)).collect();
    store.set_registrations(&class, "mentor.a", at(1)).await?;
    let seen = store
        .registration_states(&class.iter().map(LessonKey::of).collect::<Vec<_>>())
        .await?;
    let seen: Vec<Revision> = seen.iter().flatten().map(|s| s.revision).collect();
    assert_eq!(seen.len(), 3);

    // The first writer marks everyone absent.
    let first: Vec<LessonWrite> = class
        .iter()
        .zip(&seen)
        .map(|(r, rev)| checked(&absent(r), Expected::Revision(*rev)))
        .collect();
    store.save_registrations(&first, "docent.a", at(2)).await?;
    let after_first = store.registrations_all().await?;

    // The second, from the same older state, marks everyone sick.
    let second: Vec<LessonWrite> = class
        .iter()
        .zip(&seen)
        .map(|(r, rev)| checked(&sick(r), Expected::Revision(*rev)))
        .collect();
    let err = store.save_registrations(&second, "docent.b", at(3)).await;
    let Err(StoreError::Stale(stale)) = err else {
        panic!("a stale save must be refused: {err:?}");
    };
    let keys: Vec<LessonKey> = stale.iter().map(|s| s.key.clone()).collect();
    assert_eq!(keys, class.iter().map(LessonKey::of).collect::<Vec<_>>());
    for (s, (r, rev)) in stale.iter().zip(class.iter().zip(&seen)) {
        assert_eq!(s.expected, Expected::Revision(*rev));
        assert_eq!(s.then.as_ref(), Some(r), "the state the writer saw");
        let now = s.now.as_ref().expect("the lesson is registered");
        assert_eq!(now.record, absent(r));
        assert_eq!((now.set.by.as_str(), now.set.at), ("docent.a", at(2)));
    }
    assert_eq!(
        store.registrations_all().await?,
        after_first,
        "exactly the first writer's save, no mix"
    );

    // Only one lesson is stale: its fresh neighbours are not written either.
    let mut mixed = second.clone();
    for (w, r) in mixed.iter_mut().zip(&class).skip(1) {
        w.record = sick(r);
        w.expected = Expected::Revision(revision(store, r).await?);
    }
    let fourth = lesson(2, d, 3);
    mixed.push(checked(&fourth, Expected::Absent));
    let err = store.save_registrations(&mixed, "docent.b", at(4)).await;
    let Err(StoreError::Stale(stale)) = err else {
        panic!("one stale lesson refuses the batch: {err:?}");
    };
    assert_eq!(stale.len(), 1);
    assert_eq!(stale[0].key, LessonKey::of(&class[0]));
    assert_eq!(store.registrations_all().await?, after_first);
    assert_eq!(
        store.registration_states(&[LessonKey::of(&fourth)]).await?,
        vec![None]
    );

    // Redone from the current state, the save goes through.
    mixed[0].expected = Expected::Revision(revision(store, &class[0]).await?);
    store.save_registrations(&mixed, "docent.b", at(5)).await?;
    let now = store.student_registrations(&sid(0)).await?;
    assert_eq!(now, vec![sick(&class[0])]);
    Ok(())
}

/// The finer points of the check: a lesson that already holds the record
/// is not stale; "not registered" is checked too; a revision the lesson
/// never had is stale with no earlier state; `Any` checks nothing; a key
/// given twice is checked once.
pub async fn checked_write_edge_cases(store: &dyn Store) -> Check {
    add_students(store, 1).await?;
    let d = day(2025, 9, 4);
    let original = lesson(0, d, 1);
    let first = store
        .save_registrations(&[checked(&original, Expected::Absent)], "a", at(1))
        .await?;
    let r1 = first[0].revision;

    // Someone else registered it meanwhile: "not registered" is stale.
    let err = store
        .save_registrations(&[checked(&absent(&original), Expected::Absent)], "b", at(2))
        .await;
    let Err(StoreError::Stale(stale)) = err else {
        panic!("expected absent, found registered: {err:?}");
    };
    assert_eq!(stale[0].expected, Expected::Absent);
    assert_eq!(stale[0].then, None);
    assert_eq!(stale[0].now.as_ref().map(|n| &n.record), Some(&original));

    // Already holding the record is not stale (nothing would be lost).
    let same = store
        .save_registrations(&[checked(&original, Expected::Absent)], "b", at(3))
        .await?;
    assert_eq!(same[0].revision, r1);

    // A revision this lesson never had.
    let bogus = Revision::new(r1.get() + 1000).unwrap_or(r1);
    let err = store
        .save_registrations(
            &[checked(&absent(&original), Expected::Revision(bogus))],
            "b",
            at(4),
        )
        .await;
    let Err(StoreError::Stale(stale)) = err else {
        panic!("an unknown revision is stale: {err:?}");
    };
    assert_eq!(stale[0].then, None);

    // A key twice in one batch: checked against the state before the call.
    let twice = store
        .save_registrations(
            &[
                checked(&absent(&original), Expected::Revision(r1)),
                checked(&sick(&original), Expected::Revision(r1)),
            ],
            "b",
            at(5),
        )
        .await?;
    assert_eq!(twice.len(), 2);
    assert_eq!(
        store.student_registrations(&sid(0)).await?,
        vec![sick(&original)]
    );

    // Any: last write wins, whatever the revision.
    store
        .save_registrations(&[checked(&original, Expected::Any)], "c", at(6))
        .await?;
    assert_eq!(
        store.student_registrations(&sid(0)).await?,
        vec![original.clone()]
    );
    assert_eq!(Expected::from_token(0), Expected::Absent);
    assert_eq!(Expected::from_token(r1.get()), Expected::Revision(r1));
    assert_eq!(Expected::Revision(r1).token(), Some(r1.get()));
    assert_eq!(Expected::Any.token(), None);
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

/// A timetable comes with an import: every version kept, the latest read
/// back as saved, and a failing import leaves the old one.
pub async fn timetable_is_saved_with_an_import_and_versioned(store: &dyn Store) -> Check {
    use aanwezig_domain::{Group, LessonSet, Timetable, TimetableRow};
    assert_eq!(store.timetable().await?, None);
    let row = |lessons: u16| TimetableRow {
        group: Group::Class("1A".into()),
        weekday: chrono::Weekday::Mon,
        lessons: LessonSet(lessons << 1),
        from: Some(day(2025, 9, 1)),
        until: None,
    };
    let first = Timetable {
        rows: vec![row(0b111)],
    };
    let progress = |_: usize, _: u64| {};
    fn bundle(t: &Timetable) -> ImportBundle<'_> {
        ImportBundle {
            calendar: None,
            policy: None,
            timetable: Some(t),
            students: &[],
            student_numbers: NumbersGiven::ALL,
            registrations: Vec::new(),
            absences_only: None,
            by: "beheer",
            at: at(0),
        }
    }
    let done = store.import_bundle(bundle(&first), &progress).await?;
    assert_eq!(done.timetable_version, Some(1));
    let second = Timetable {
        rows: vec![row(0b1), row(0b11)],
    };
    let stranger = [lesson(42, day(2025, 9, 1), 1)];
    let mut failing = bundle(&second);
    failing.registrations = vec![(batches_of(&stranger), source("x.csv", 0))];
    assert!(store.import_bundle(failing, &progress).await.is_err());
    assert_eq!(store.timetable().await?, Some(first));
    store.import_bundle(bundle(&second), &progress).await?;
    assert_eq!(store.timetable().await?, Some(second));
    assert_eq!(
        store
            .document_versions(DocumentKind::Timetable)
            .await?
            .len(),
        2
    );
    assert!(store
        .save_settings(DocumentKind::Timetable, "{}", "x", at(0))
        .await
        .is_err());
    Ok(())
}

/// A re-import of absences only covers a period: a stored absence inside
/// it that the new file does not have any more becomes present (its old
/// state kept in the history); absences outside the period, and present
/// lessons, are left alone.
pub async fn an_absence_only_reimport_retracts_what_it_no_longer_has(store: &dyn Store) -> Check {
    add_students(store, 2).await?;
    let absent = |n: u32, date: NaiveDate, l: u8| RegistrationRecord {
        code: Some("A".to_owned()),
        category: Category::Unknown,
        ..lesson(n, date, l)
    };
    let (mon, tue, wed) = (day(2025, 9, 1), day(2025, 9, 2), day(2025, 9, 3));
    let first = vec![
        absent(0, mon, 1),
        absent(0, mon, 2),
        absent(0, tue, 3),
        absent(1, tue, 1),
        absent(1, wed, 4),
        lesson(1, tue, 2),
    ];
    let progress = |_: usize, _: u64| {};
    fn bundle(
        records: &[RegistrationRecord],
        wanted: AbsencesOnly,
        minutes: i64,
    ) -> ImportBundle<'_> {
        ImportBundle {
            calendar: None,
            policy: None,
            timetable: None,
            students: &[],
            student_numbers: NumbersGiven::NONE,
            registrations: vec![(batches_of(records), source("export.csv", minutes))],
            absences_only: Some(wanted),
            by: "coordinator",
            at: at(minutes),
        }
    }
    let done = store
        .import_bundle(bundle(&first, AbsencesOnly::default(), 0), &progress)
        .await?;
    assert_eq!(done.covered, Some((mon, wed)));
    assert_eq!(done.retracted, 0);

    // The next export, for Monday and Tuesday only: student 0's second
    // lesson on Monday and student 1's Tuesday were corrected in the
    // administration system.
    let second = vec![absent(0, mon, 1), absent(0, tue, 3)];
    let done = store
        .import_bundle(
            bundle(
                &second,
                AbsencesOnly {
                    from: None,
                    until: Some(tue),
                },
                10,
            ),
            &progress,
        )
        .await?;
    assert_eq!(done.covered, Some((mon, tue)));
    assert_eq!(
        done.retracted, 2,
        "lesson 2 on Monday, student 1 on Tuesday"
    );
    let of = |regs: &[RegistrationRecord], date: NaiveDate, l: u8| {
        regs.iter()
            .find(|r| r.date == date && r.lesson == l)
            .map(|r| (r.category, r.code.clone()))
    };
    let zero = store.student_registrations(&sid(0)).await?;
    assert_eq!(
        of(&zero, mon, 1),
        Some((Category::Unknown, Some("A".into())))
    );
    assert_eq!(of(&zero, mon, 2), Some((Category::Present, None)));
    assert_eq!(
        of(&zero, tue, 3),
        Some((Category::Unknown, Some("A".into())))
    );
    let one = store.student_registrations(&sid(1)).await?;
    assert_eq!(of(&one, tue, 1), Some((Category::Present, None)));
    assert_eq!(of(&one, tue, 2), Some((Category::Present, None)));
    assert_eq!(
        of(&one, wed, 4),
        Some((Category::Unknown, Some("A".into()))),
        "Wednesday lies outside the period"
    );
    let history = store.registration_history(&sid(0)).await?;
    assert!(
        history
            .iter()
            .any(|h| h.old.date == mon && h.old.lesson == 2 && h.old.category == Category::Unknown),
        "the absence is kept in the history: {history:?}"
    );
    Ok(())
}

/// Calls (stap 2) are kept per student, oldest first, found by the
/// absence they are about, refused for an unknown student, never changed,
/// and purged with the student.
pub async fn calls_are_kept_per_student(store: &dyn Store) -> Check {
    use aanwezig_domain::{Call, Reached};
    add_students(store, 2).await?;
    let call = |absent_from: NaiveDate, on: NaiveDate, reached: Reached| Call {
        absent_from,
        on,
        by: "mentor.a".into(),
        reached,
        how: if reached == Reached::Nobody {
            String::new()
        } else {
            "Gaat beter, komt maandag".into()
        },
        school_can_do: "Huiswerk mailen".into(),
        expected_back: (reached != Reached::Nobody).then(|| day(2025, 9, 15)),
        worries: reached == Reached::Parent,
    };
    let missed = call(day(2025, 9, 8), day(2025, 9, 9), Reached::Nobody);
    let reached = call(day(2025, 9, 8), day(2025, 9, 10), Reached::Parent);
    let older = call(day(2025, 9, 1), day(2025, 9, 2), Reached::Student);
    store.add_call(&sid(0), &reached).await?;
    store.add_call(&sid(0), &missed).await?;
    store.add_call(&sid(1), &older).await?;
    assert_eq!(
        store.student_calls(&sid(0)).await?,
        vec![missed.clone(), reached.clone()],
        "oldest first"
    );
    let since = store.calls_since(day(2025, 9, 8)).await?;
    assert_eq!(
        since,
        vec![(sid(0), missed), (sid(0), reached)],
        "only absences from 8 September"
    );
    assert!(matches!(
        store.add_call(&sid(42), &older).await,
        Err(StoreError::NotFound(_))
    ));
    let counts = store.purge_student(&sid(0)).await?;
    assert_eq!(counts.calls, 2);
    assert!(store.calls_since(day(2025, 9, 1)).await?.len() == 1);
    Ok(())
}

/// The write count grows with every committed change of stored data, and
/// not with reading, auditing or a refused write: what pages cache from
/// the store is good while it stands still.
pub async fn the_write_count_follows_committed_changes(store: &dyn Store) -> Check {
    let start = store.write_count();
    add_students(store, 2).await?;
    let after_students = store.write_count();
    assert!(after_students > start, "saving students is a change");
    store.students().await?;
    store
        .audit(&audit_entry(1, "vc", AuditAction::Read, Some(0)))
        .await?;
    assert_eq!(
        store.write_count(),
        after_students,
        "reading and auditing change no stored data"
    );
    let mut students = store.students().await?;
    students[0].student.name = "Anders".into();
    store.upsert_students(&students[..1]).await?;
    assert!(
        store.write_count() > after_students,
        "a second save counts too"
    );
    Ok(())
}

/// "Afgestemd met leerplicht" is kept once per DUO signal, read per
/// student or for all, refused for an unknown student and a second time
/// for the same signal, and purged with the student.
pub async fn afstemmingen_are_kept_per_signal(store: &dyn Store) -> Check {
    use aanwezig_domain::duo::SignalRef;
    use aanwezig_domain::duo_work::Afstemming;
    add_students(store, 2).await?;
    let a = |n: u32, fired_on: NaiveDate| Afstemming {
        student: sid(n),
        signal: SignalRef {
            rule: aanwezig_domain::RuleId::Duo16h,
            fired_on,
        },
        melding: Some(4),
        on: day(2025, 11, 12),
        with_whom: "J. de Vries (leerplicht)".into(),
        why: "De lopende melding dekt deze weken".into(),
        by: "vc".into(),
        recorded_at: at(3),
    };
    let first = a(0, day(2025, 11, 3));
    let second = a(0, day(2025, 11, 10));
    let other = Afstemming {
        melding: None,
        ..a(1, day(2025, 11, 3))
    };
    let id1 = store.add_afstemming(&first).await?;
    store.add_afstemming(&other).await?;
    let id3 = store.add_afstemming(&second).await?;
    assert_eq!(
        store.afstemmingen(Some(&sid(0))).await?,
        vec![(id1, first.clone()), (id3, second.clone())]
    );
    assert_eq!(store.afstemmingen(None).await?.len(), 3);
    assert!(matches!(
        store.add_afstemming(&first).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.add_afstemming(&a(42, day(2025, 11, 3))).await,
        Err(StoreError::NotFound(_))
    ));
    let counts = store.purge_student(&sid(0)).await?;
    assert_eq!(counts.afstemmingen, 2);
    assert_eq!(store.afstemmingen(None).await?, vec![(2, other)]);
    Ok(())
}

/// One import command is one transaction: a stranger in the last file of
/// registrations leaves calendar, policy, students, registrations and the
/// imports log as they were; without it, everything lands at once.
pub async fn import_bundle_is_all_or_nothing(store: &dyn Store) -> Check {
    add_students(store, 2).await?;
    let year = school_year();
    let policy = Policy {
        school: "Test College".to_owned(),
        ..Policy::default()
    };
    let students = vec![student(2), student(3)];
    let first = generate(4, 2, 7);
    let mut second = generate(2, 3, 7);
    second.push(lesson(42, day(2025, 9, 1), 1));
    let progress = |_: usize, _: u64| {};
    let bad = ImportBundle {
        calendar: Some(std::slice::from_ref(&year)),
        policy: Some(&policy),
        timetable: None,
        students: &students,
        student_numbers: NumbersGiven::ALL,
        registrations: vec![
            (batches_of(&first), source("a.csv", 0)),
            (batches_of(&second), source("b.csv", 0)),
        ],
        absences_only: None,
        by: "beheer",
        at: at(0),
    };
    let err = store.import_bundle(bad, &progress).await;
    assert!(matches!(err, Err(StoreError::Conflict(_))), "{err:?}");
    assert_eq!(store.calendar().await?, None);
    assert_eq!(store.policy().await?, None);
    assert_eq!(store.student_count().await?, 2);
    assert_eq!(store.registration_count().await?, 0);
    assert!(store.imports().await?.is_empty());

    let second = &second[..second.len() - 1];
    let good = ImportBundle {
        calendar: Some(std::slice::from_ref(&year)),
        policy: Some(&policy),
        timetable: None,
        students: &students,
        student_numbers: NumbersGiven::ALL,
        registrations: vec![
            (batches_of(&first), source("a.csv", 0)),
            (batches_of(second), source("b.csv", 0)),
        ],
        absences_only: None,
        by: "beheer",
        at: at(0),
    };
    let done = store.import_bundle(good, &progress).await?;
    assert_eq!(done.calendar_version, Some(1));
    assert_eq!(done.policy_version, Some(1));
    assert_eq!(done.timetable_version, None);
    assert_eq!(done.students.map(|c| c.inserted), Some(2));
    assert_eq!(done.registrations.len(), 2);
    assert_eq!(done.registrations[0].inserted, first.len() as u64);
    assert_eq!(store.calendar().await?, Some(vec![year]));
    assert_eq!(store.policy().await?, Some(policy));
    assert_eq!(store.student_count().await?, 4);
    assert_eq!(store.imports().await?.len(), 2);
    assert_eq!(
        store.registration_count().await?,
        first.len() as u64 + second.iter().filter(|r| !first.contains(r)).count() as u64
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

/// Users of every role round trip exactly, come back sorted by username
/// whatever the order they were made in, and are counted.
pub async fn users_round_trip(store: &dyn Store) -> Check {
    assert_eq!(store.user_count().await?, 0);
    assert!(store.users().await?.is_empty());
    // Every role, so that a role the schema does not know fails here.
    let mut made = Vec::new();
    for (i, role) in Role::ALL.into_iter().enumerate().rev() {
        let mut u = user(&format!("u{i}.{}", role.as_str()), role);
        u.created_at = at(i64::try_from(i).unwrap_or_default());
        if i % 2 == 0 {
            u.email = None;
            u.active = false;
        }
        u.account_id = store.create_user(&u).await?;
        made.push(u);
    }
    made.sort_by(|a, b| a.username.cmp(&b.username));
    assert_eq!(store.users().await?, made);
    assert_eq!(store.user_count().await?, Role::ALL.len() as u64);
    let mentor = made.iter().find(|u| u.role == Role::Mentor);
    let mentor = mentor.ok_or_else(|| StoreError::NotFound("mentor".to_owned()))?;
    assert_eq!(store.user(&mentor.username).await?.as_ref(), Some(mentor));
    assert_eq!(mentor.classes, ["2B", "3A"]);
    assert_eq!(store.user("nobody").await?, None);
    Ok(())
}

/// A username can be taken once; the second create is a conflict and
/// leaves the first user as it was.
pub async fn duplicate_user_is_conflict(store: &dyn Store) -> Check {
    let mut first = user("jan", Role::Mentor);
    first.account_id = store.create_user(&first).await?;
    let mut second = user("jan", Role::Beheerder);
    second.display_name = "Andere Jan".to_owned();
    let err = store.create_user(&second).await;
    assert!(matches!(err, Err(StoreError::Conflict(_))), "{err:?}");
    assert_eq!(store.users().await?, vec![first]);
    Ok(())
}

/// An update replaces every field, the hash and the classes too; updating
/// or deleting a user that does not exist is `NotFound` and creates
/// nothing.
pub async fn update_and_delete_users(store: &dyn Store) -> Check {
    let jan = store.create_user(&user("jan", Role::Mentor)).await?;
    store.create_user(&user("piet", Role::Beheerder)).await?;
    let changed = User {
        username: "jan".to_owned(),
        display_name: "Jan de Vries".to_owned(),
        role: Role::Mentor,
        classes: vec!["4C".to_owned()],
        email: None,
        active: false,
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$bmlldXc$nieuw".to_owned(),
        created_at: at(5),
        account_id: jan,
    };
    store.update_user(&changed).await?;
    assert_eq!(store.user("jan").await?, Some(changed.clone()));
    let mut coordinator = changed.clone();
    coordinator.role = Role::Verzuimcoordinator;
    coordinator.classes.clear();
    store.update_user(&coordinator).await?;
    assert_eq!(store.user("jan").await?, Some(coordinator));

    let stranger = user("klaas", Role::Jeugdarts);
    assert!(matches!(
        store.update_user(&stranger).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.delete_user("klaas").await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.user("klaas").await?, None);

    store.delete_user("piet").await?;
    assert_eq!(store.user("piet").await?, None);
    assert_eq!(store.user_count().await?, 1);
    assert!(matches!(
        store.delete_user("piet").await,
        Err(StoreError::NotFound(_))
    ));
    Ok(())
}

/// Only a mentor has classes: the store refuses classes on any other role,
/// on create and on update.
pub async fn only_mentors_have_classes(store: &dyn Store) -> Check {
    let mut bad = user("anna", Role::Verzuimcoordinator);
    bad.classes = vec!["2B".to_owned()];
    assert!(matches!(
        store.create_user(&bad).await,
        Err(StoreError::Conflict(_))
    ));
    let mut mentor = user("anna", Role::Mentor);
    mentor.account_id = store.create_user(&mentor).await?;
    mentor.role = Role::Ketenpartner;
    assert!(matches!(
        store.update_user(&mentor).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.user("anna").await?.map(|u| u.role),
        Some(Role::Mentor)
    );
    Ok(())
}

/// The store gives every account a fresh id: not empty, different for
/// every account, kept by every update, and never given again, also not
/// when an account is removed and one with the same username is created.
/// An update names the account by username and id: a `User` of a removed
/// account does not change the new account with its name.
pub async fn account_ids_are_fresh_and_never_reused(store: &dyn Store) -> Check {
    let mut jan = user("jan", Role::Ketenpartner);
    jan.account_id = "chosen-by-the-caller".to_owned();
    let first = store.create_user(&jan).await?;
    assert!(!first.is_empty());
    assert_ne!(first, "chosen-by-the-caller", "the store picks the id");
    let piet = store.create_user(&user("piet", Role::Mentor)).await?;
    assert_ne!(first, piet);
    let stored = store.user("jan").await?;
    assert_eq!(
        stored.as_ref().map(|u| u.account_id.as_str()),
        Some(first.as_str())
    );

    let mut old = stored.ok_or_else(|| StoreError::NotFound("jan".to_owned()))?;
    old.display_name = "Jan Oud".to_owned();
    store.update_user(&old).await?;
    assert_eq!(
        store.user("jan").await?.map(|u| u.account_id),
        Some(first.clone()),
        "an update keeps the id"
    );

    let mut seen = vec![first.clone(), piet];
    for round in 0..3 {
        store.delete_user("jan").await?;
        let mut again = user("jan", Role::Ketenpartner);
        again.created_at = at(10 + round);
        let id = store.create_user(&again).await?;
        assert!(!seen.contains(&id), "round {round}: {id} was given before");
        assert_eq!(
            store.user("jan").await?.map(|u| u.account_id),
            Some(id.clone())
        );
        seen.push(id);
    }
    // The removed account's record cannot change the new `jan`.
    assert!(matches!(
        store.update_user(&old).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(
        store.user("jan").await?.map(|u| u.display_name),
        Some("Naam van jan".to_owned())
    );
    Ok(())
}

/// Removing an account ([`crate::accounts::remove_user`]) ends every
/// current involvement of that account, in open and closed cases, each as a
/// new case version with an audit entry, and leaves other partners and an
/// involvement of an earlier account with the same name alone; an unknown
/// user is `NotFound` and changes nothing.
pub async fn removing_an_account_ends_its_involvements(store: &dyn Store) -> Check {
    use aanwezig_domain::case::Involvement;
    store
        .upsert_students(&[student(1), student(2), student(3)])
        .await?;
    let coordinator = || Actor::new("coordinator", Role::Verzuimcoordinator);
    let mut kp = user("kp", Role::Ketenpartner);
    kp.account_id = store.create_user(&kp).await?;
    let mut lpa = user("lpa", Role::Leerplichtambtenaar);
    lpa.account_id = store.create_user(&lpa).await?;
    let on = day(2025, 10, 6);

    // Student 1: an earlier, closed case and a later open one, both with kp.
    let mut closed = case_of(1, day(2025, 9, 1));
    care_consent(&mut closed, day(2025, 9, 2))?;
    closed
        .involve(
            &kp.identity(),
            Role::Ketenpartner,
            day(2025, 9, 2),
            coordinator(),
        )
        .map_err(case_error)?;
    closed
        .close(
            day(2025, 9, 20),
            coordinator(),
            ClosureReason::AanwezigheidHersteld,
            "",
        )
        .map_err(case_error)?;
    store.save_case(&closed, "coordinator", at(0)).await?;
    let mut open = case_of(1, on);
    care_consent(&mut open, on)?;
    open.involve(&kp.identity(), Role::Ketenpartner, on, coordinator())
        .map_err(case_error)?;
    open.involve(
        &lpa.identity(),
        Role::Leerplichtambtenaar,
        on,
        coordinator(),
    )
    .map_err(case_error)?;
    store.save_case(&open, "coordinator", at(1)).await?;
    // Student 2: only lpa.
    let mut other = case_of(2, on);
    other
        .involve(
            &lpa.identity(),
            Role::Leerplichtambtenaar,
            on,
            coordinator(),
        )
        .map_err(case_error)?;
    store.save_case(&other, "coordinator", at(2)).await?;
    // Student 3: an involvement stored before accounts had ids, of an
    // earlier `kp` (long before this account was created, `at(0)`).
    let mut legacy = case_of(3, day(2025, 8, 25));
    legacy.involved.push(Involvement {
        user: "kp".to_owned(),
        account: None,
        role: Role::Ketenpartner,
        since: day(2025, 8, 25),
        by: coordinator(),
        until: None,
    });
    store.save_case(&legacy, "coordinator", at(3)).await?;

    // The index of partners: kp in student 1's open case only (not the
    // closed one, not the legacy involvement of an earlier `kp`), lpa in 1
    // and 2.
    assert_eq!(
        store.students_involving(&kp.identity()).await?,
        vec![sid(1)]
    );
    assert_eq!(
        store.students_involving(&lpa.identity()).await?,
        vec![sid(1), sid(2)]
    );

    assert!(matches!(
        crate::accounts::remove_user(store, "niemand", "beheer", day(2025, 11, 14), at(60)).await,
        Err(StoreError::NotFound(_))
    ));
    let today = day(2025, 11, 14);
    let removed = crate::accounts::remove_user(store, "kp", "beheer", today, at(60)).await?;
    assert_eq!(removed.user.account_id, kp.account_id);
    assert_eq!(removed.released, vec![sid(1)]);
    assert_eq!(store.user("kp").await?, None);

    let cases = store.student_cases(&sid(1)).await?;
    assert_eq!(cases.len(), 2);
    for c in &cases {
        let i = c.involved.iter().find(|i| i.user == "kp");
        assert_eq!(i.and_then(|i| i.until), Some(today), "{}", c.opened_on);
        assert!(!c.involves(&kp.identity()));
    }
    assert!(cases[1].involves(&lpa.identity()), "other partners stay");
    assert!(cases[1]
        .trail_nl()
        .iter()
        .any(|t| t.on == today && t.what_nl == "kp niet meer betrokken"));
    // A new version of each, saved by the remover.
    let versions = store.case_versions(&sid(1)).await?;
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[1].saved_by, "beheer");
    assert_eq!(versions[1].saved_at, at(60));
    assert_eq!(store.case(&sid(2)).await?, Some(other));
    assert_eq!(
        store.case(&sid(3)).await?,
        Some(legacy),
        "not this account's"
    );

    let audit = store
        .audit_log(&AuditFilter {
            student: Some(sid(1)),
            ..AuditFilter::default()
        })
        .await?;
    assert_eq!(audit.len(), 2, "{audit:?}");
    assert!(audit.iter().all(|e| e.username == "beheer"
        && e.action == AuditAction::Change
        && e.detail == "dossier: kp niet meer betrokken (account verwijderd)"));

    // A new `kp` gets a new id and none of it.
    let mut newcomer = user("kp", Role::Ketenpartner);
    newcomer.created_at = at(70);
    newcomer.account_id = store.create_user(&newcomer).await?;
    assert_ne!(newcomer.account_id, kp.account_id);
    assert_eq!(store.students_involving(&kp.identity()).await?, vec![]);
    assert_eq!(
        store.students_involving(&newcomer.identity()).await?,
        vec![]
    );
    assert_eq!(
        store.students_involving(&lpa.identity()).await?,
        vec![sid(1), sid(2)]
    );
    for n in 1..=3 {
        let case = store.case(&sid(n)).await?;
        assert!(
            !case.is_some_and(|c| c.involves(&newcomer.identity())),
            "student {n}"
        );
    }
    Ok(())
}

/// Sessions round trip; touching moves `last_seen_at` forward only; an
/// unknown user or a taken id is a conflict; ending a session twice is
/// fine.
pub async fn sessions_round_trip(store: &dyn Store) -> Check {
    store.create_user(&user("jan", Role::Mentor)).await?;
    let s = session("a1", "jan", 0);
    store.create_session(&s).await?;
    assert_eq!(store.session(&s.id_hash).await?, Some(s.clone()));
    assert_eq!(store.session(&session("b2", "jan", 0).id_hash).await?, None);
    // The session with its account at once, as the two reads give them.
    assert_eq!(
        store.session_with_user(&s.id_hash).await?,
        Some((s.clone(), store.user("jan").await?))
    );
    assert!(store.session_with_user(&s.id_hash).await?.is_some_and(
        |(_, u)| u.is_some_and(|u| u.role == Role::Mentor && !u.account_id.is_empty())
    ));
    assert_eq!(
        store
            .session_with_user(&session("b2", "jan", 0).id_hash)
            .await?,
        None
    );

    store.touch_session(&s.id_hash, at(30)).await?;
    let touched = store.session(&s.id_hash).await?;
    assert_eq!(touched.as_ref().map(|t| t.last_seen_at), Some(at(30)));
    assert_eq!(touched.as_ref().map(|t| t.created_at), Some(at(0)));
    // A request that finished late does not move it back.
    store.touch_session(&s.id_hash, at(10)).await?;
    let touched = store.session(&s.id_hash).await?;
    assert_eq!(touched.map(|t| t.last_seen_at), Some(at(30)));
    // Touching a session that was ended meanwhile is not an error.
    store
        .touch_session(&session("zz", "jan", 0).id_hash, at(40))
        .await?;

    assert!(matches!(
        store.create_session(&session("c3", "nobody", 0)).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.create_session(&s).await,
        Err(StoreError::Conflict(_))
    ));

    store.delete_session(&s.id_hash).await?;
    assert_eq!(store.session(&s.id_hash).await?, None);
    store.delete_session(&s.id_hash).await?;
    Ok(())
}

/// Deleting a user ends their sessions and no one else's; ending all of a
/// user's sessions counts them.
pub async fn deleting_a_user_ends_their_sessions(store: &dyn Store) -> Check {
    store.create_user(&user("jan", Role::Mentor)).await?;
    store.create_user(&user("piet", Role::Beheerder)).await?;
    for (id, who) in [("j1", "jan"), ("j2", "jan"), ("p1", "piet"), ("p2", "piet")] {
        store.create_session(&session(id, who, 0)).await?;
    }
    store
        .audit(&audit_entry(1, "jan", AuditAction::SignIn, None))
        .await?;

    store.delete_user("jan").await?;
    for id in ["j1", "j2"] {
        assert_eq!(store.session(&session(id, "", 0).id_hash).await?, None);
    }
    for id in ["p1", "p2"] {
        assert!(store.session(&session(id, "", 0).id_hash).await?.is_some());
    }
    // The audit trail outlives the account.
    let by_jan = AuditFilter {
        username: Some("jan".to_owned()),
        ..AuditFilter::default()
    };
    assert_eq!(store.audit_log(&by_jan).await?.len(), 1);

    assert_eq!(store.delete_user_sessions("piet").await?, 2);
    assert_eq!(store.delete_user_sessions("piet").await?, 0);
    assert_eq!(store.session(&session("p1", "", 0).id_hash).await?, None);
    assert!(store.user("piet").await?.is_some());
    Ok(())
}

/// The idle purge removes exactly the sessions last seen before the
/// cut-off, judged by `last_seen_at`, not `created_at`.
pub async fn idle_sessions_are_purged(store: &dyn Store) -> Check {
    store.create_user(&user("jan", Role::Mentor)).await?;
    // Created at 0, 10 and 20 minutes; the first is still in use at 50.
    for (id, minutes) in [("old", 0), ("edge", 10), ("new", 20)] {
        store.create_session(&session(id, "jan", minutes)).await?;
    }
    store
        .touch_session(&session("old", "", 0).id_hash, at(50))
        .await?;
    let mut idle = session("idle", "jan", 5);
    idle.created_at = at(0);
    store.create_session(&idle).await?;

    // "Before 10 minutes": `edge`, seen at exactly 10, stays.
    assert_eq!(store.delete_sessions_idle_since(at(10)).await?, 1);
    assert_eq!(store.session(&idle.id_hash).await?, None);
    for id in ["old", "edge", "new"] {
        assert!(
            store.session(&session(id, "", 0).id_hash).await?.is_some(),
            "{id}"
        );
    }
    assert_eq!(store.delete_sessions_idle_since(at(10)).await?, 0);
    assert_eq!(store.delete_sessions_idle_since(at(21)).await?, 2);
    assert!(store
        .session(&session("old", "", 0).id_hash)
        .await?
        .is_some());
    Ok(())
}

/// The audit log gives entries back exactly, newest first by time (not by
/// the order written), filtered by student and by user, limited.
pub async fn audit_log_newest_first_filtered_limited(store: &dyn Store) -> Check {
    assert!(store.audit_log(&AuditFilter::default()).await?.is_empty());
    // Every action once, written out of time order, a few with students.
    let mut written = Vec::new();
    for (i, action) in AuditAction::ALL.into_iter().enumerate() {
        let i = i64::try_from(i).unwrap_or_default();
        let minutes = (i * 7) % 11; // distinct minutes below 20 for up to 11 actions
        let who = if i % 2 == 0 { "jan" } else { "piet" };
        let student = (i % 3 != 0).then_some(u32::try_from(i % 3).unwrap_or_default());
        let e = audit_entry(minutes, who, action, student);
        store.audit(&e).await?;
        written.push(e);
    }
    // Two entries at the same instant: the later written comes first.
    let tie_a = audit_entry(20, "jan", AuditAction::Read, Some(1));
    let mut tie_b = tie_a.clone();
    tie_b.detail = "tweede".to_owned();
    store.audit(&tie_a).await?;
    store.audit(&tie_b).await?;

    let mut newest_first = written.clone();
    newest_first.sort_by_key(|e| std::cmp::Reverse(e.at));
    newest_first.insert(0, tie_a.clone());
    newest_first.insert(0, tie_b.clone());

    let all = store
        .audit_log(&AuditFilter {
            limit: 1000,
            ..AuditFilter::default()
        })
        .await?;
    assert_eq!(all, newest_first);

    let limited = store
        .audit_log(&AuditFilter {
            limit: 3,
            ..AuditFilter::default()
        })
        .await?;
    assert_eq!(limited, newest_first[..3]);
    let none = store
        .audit_log(&AuditFilter {
            limit: 0,
            ..AuditFilter::default()
        })
        .await?;
    assert!(none.is_empty());

    let about_1: Vec<_> = newest_first
        .iter()
        .filter(|e| e.student == Some(sid(1)))
        .cloned()
        .collect();
    assert!(about_1.len() >= 3);
    let got = store
        .audit_log(&AuditFilter {
            student: Some(sid(1)),
            ..AuditFilter::default()
        })
        .await?;
    assert_eq!(got, about_1);

    let by_piet: Vec<_> = newest_first
        .iter()
        .filter(|e| e.username == "piet")
        .cloned()
        .collect();
    let got = store
        .audit_log(&AuditFilter {
            username: Some("piet".to_owned()),
            ..AuditFilter::default()
        })
        .await?;
    assert_eq!(got, by_piet);

    let both: Vec<_> = newest_first
        .iter()
        .filter(|e| e.username == "jan" && e.student == Some(sid(2)))
        .cloned()
        .collect();
    assert!(!both.is_empty());
    let got = store
        .audit_log(&AuditFilter {
            student: Some(sid(2)),
            username: Some("jan".to_owned()),
            limit: 1000,
        })
        .await?;
    assert_eq!(got, both);
    let got = store
        .audit_log(&AuditFilter {
            student: Some(sid(1)),
            limit: 1,
            ..AuditFilter::default()
        })
        .await?;
    assert_eq!(got, vec![tie_b]);
    assert!(store
        .audit_log(&AuditFilter {
            student: Some(sid(99)),
            ..AuditFilter::default()
        })
        .await?
        .is_empty());
    Ok(())
}

// --- case dossier, melding drafts, retention -----------------------------

/// A case of student `n` opened by hand on `on` at step 3a.
/// Records the parents' consent to VO WIJ, which a ketenpartner needs.
pub fn care_consent(case: &mut Case, on: NaiveDate) -> Check {
    use aanwezig_domain::case::{Decision, DecisionKind, Party};
    case.decide(Decision {
        on,
        by: Actor::new("coordinator", Role::Verzuimcoordinator),
        kind: DecisionKind::VoWij { consent: true },
        parties: vec![Party::Ouders],
        note: String::new(),
    })
    .map_err(case_error)?;
    Ok(())
}

pub fn case_of(n: u32, on: NaiveDate) -> Case {
    match Case::open(
        sid(n),
        on,
        Actor::new("coordinator", Role::Verzuimcoordinator),
        OpenReason::Zorgen {
            note: "zorgen over verzuim".to_owned(),
        },
        CaseStep::S3a,
    ) {
        Ok(case) => case,
        Err(e) => unreachable!("a hand-opened case at 3a is valid: {e}"),
    }
}

/// A concept 16-uur melding draft of student `n` with deadline `deadline`,
/// made from the signal of `source` (a day), or by hand.
pub fn draft_of(n: u32, source: Option<NaiveDate>, deadline: NaiveDate) -> MeldingDraft {
    MeldingDraft {
        kind: MeldingKind::ZestienUur,
        student: sid(n),
        student_name: format!("Leerling {n}"),
        date_of_birth: day(2012, 1, 1),
        begin: day(2025, 9, 1),
        end: day(2025, 9, 26),
        days: vec![AbsenceDay {
            date: day(2025, 9, 2),
            whole_day: false,
            lessons: vec![1, 2],
        }],
        late_arrivals: Vec::new(),
        all_lessons_missed: false,
        suspected_reason: "onbekend".to_owned(),
        explanation: None,
        leerplicht_action: None,
        actions_taken: vec!["gesprek met ouders".to_owned()],
        reporter: Reporter::default(),
        school: SchoolLocation::default(),
        status: MeldingStatus::Concept,
        deadline,
        created_on: day(2025, 9, 26),
        registered_on: None,
        history: Vec::new(),
        source: source.map(|fired_on| DuoSignalRef {
            rule: RuleId::Duo16h,
            fired_on,
        }),
        duo_number: None,
        contact_phone: "06 1234 5678".into(),
        address: None,
        location_name: "Locatie Noord".into(),
        follows: None,
    }
}

fn case_error(e: aanwezig_domain::CaseError) -> StoreError {
    StoreError::Invalid(format!("test case: {e}"))
}

/// Cases round-trip, every save is a version with who and when, a closed
/// case is reopened in the same row, a second open case is a Conflict and
/// a later case of the same student becomes the latest.
pub async fn cases_keep_versions(store: &dyn Store) -> Check {
    store.upsert_students(&[student(1), student(2)]).await?;
    let coordinator = || Actor::new("coordinator", Role::Verzuimcoordinator);
    let mut first = case_of(1, day(2025, 9, 1));
    assert_eq!(store.save_case(&first, "coordinator", at(0)).await?, 1);
    assert_eq!(store.case(&sid(1)).await?, Some(first.clone()));
    assert_eq!(store.cases(true).await?, vec![first.clone()]);

    first
        .close(
            day(2025, 10, 1),
            coordinator(),
            ClosureReason::AanwezigheidHersteld,
            "",
        )
        .map_err(case_error)?;
    assert_eq!(store.save_case(&first, "mentor.a", at(10)).await?, 2);
    assert_eq!(store.case(&sid(1)).await?, Some(first.clone()));
    assert!(store.cases(true).await?.is_empty());
    assert_eq!(store.cases(false).await?, vec![first.clone()]);

    first
        .reopen(day(2025, 10, 10), coordinator(), "weer verzuim")
        .map_err(case_error)?;
    assert_eq!(store.save_case(&first, "coordinator", at(20)).await?, 3);
    assert_eq!(store.cases(true).await?, vec![first.clone()]);

    // One open case per student.
    let second = case_of(1, day(2025, 11, 3));
    assert!(matches!(
        store.save_case(&second, "coordinator", at(30)).await,
        Err(StoreError::Conflict(_))
    ));
    // An unknown student has no case.
    assert!(matches!(
        store
            .save_case(&case_of(9, day(2025, 9, 1)), "x", at(30))
            .await,
        Err(StoreError::Conflict(_))
    ));

    let versions = store.case_versions(&sid(1)).await?;
    let summary: Vec<(u32, DateTime<Utc>, &str)> = versions
        .iter()
        .map(|v| (v.version, v.saved_at, v.saved_by.as_str()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (1, at(0), "coordinator"),
            (2, at(10), "mentor.a"),
            (3, at(20), "coordinator")
        ]
    );

    // Years later: the first case closed, a new one opened. It is the
    // student's latest; the first keeps its rows.
    first
        .close(
            day(2025, 12, 1),
            coordinator(),
            ClosureReason::AanwezigheidHersteld,
            "",
        )
        .map_err(case_error)?;
    assert_eq!(store.save_case(&first, "coordinator", at(40)).await?, 4);
    assert_eq!(store.save_case(&second, "coordinator", at(50)).await?, 1);
    assert_eq!(store.case(&sid(1)).await?, Some(second.clone()));
    assert_eq!(store.case_versions(&sid(1)).await?.len(), 1);
    assert_eq!(store.cases(false).await?, vec![second.clone()]);
    assert_eq!(store.cases(true).await?, vec![second.clone()]);
    // Every case of the student, oldest first (the AVG inzage needs all).
    assert_eq!(store.student_cases(&sid(1)).await?, vec![first, second]);
    assert!(store.student_cases(&sid(2)).await?.is_empty());

    assert_eq!(store.case(&sid(2)).await?, None);
    assert!(store.case_versions(&sid(2)).await?.is_empty());
    Ok(())
}

/// Drafts round-trip and keep versions; one draft per signal of a
/// student; the filters select by student, status and overdue.
pub async fn melding_drafts_round_trip(store: &dyn Store) -> Check {
    store.upsert_students(&[student(1), student(2)]).await?;
    let signal = day(2025, 9, 26);
    let a = draft_of(1, Some(signal), day(2025, 10, 3));
    let id_a = store.save_melding(None, &a, "coordinator", at(0)).await?;
    assert_eq!(store.melding(id_a).await?, Some(a.clone()));

    // The same signal again: Conflict. Another signal, the same signal of
    // another student, and drafts by hand are fine.
    assert!(matches!(
        store.save_melding(None, &a, "coordinator", at(1)).await,
        Err(StoreError::Conflict(_))
    ));
    let b = draft_of(1, Some(day(2025, 11, 7)), day(2025, 11, 14));
    let id_b = store.save_melding(None, &b, "coordinator", at(2)).await?;
    let c = draft_of(2, Some(signal), day(2025, 10, 3));
    let id_c = store.save_melding(None, &c, "coordinator", at(3)).await?;
    let hand = draft_of(2, None, day(2025, 12, 5));
    let id_h1 = store
        .save_melding(None, &hand, "coordinator", at(4))
        .await?;
    let id_h2 = store
        .save_melding(None, &hand, "coordinator", at(5))
        .await?;
    assert_eq!(
        [id_a, id_b, id_c, id_h1, id_h2]
            .iter()
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        5
    );

    // Concepts went nowhere yet: no student has a sent melding.
    assert_eq!(store.students_with_sent_meldingen().await?, vec![]);

    // Update: a new version of the same draft.
    let mut registered = a.clone();
    registered.status = MeldingStatus::Geregistreerd;
    registered.registered_on = Some(day(2025, 10, 2));
    assert_eq!(
        store
            .save_melding(Some(id_a), &registered, "mentor.a", at(10))
            .await?,
        id_a
    );
    assert_eq!(store.melding(id_a).await?, Some(registered.clone()));
    assert_eq!(store.students_with_sent_meldingen().await?, vec![sid(1)]);
    let versions = store.melding_versions(id_a).await?;
    assert_eq!(
        versions
            .iter()
            .map(|v| (v.version, v.saved_at, v.saved_by.as_str()))
            .collect::<Vec<_>>(),
        vec![(1, at(0), "coordinator"), (2, at(10), "mentor.a")]
    );
    assert!(matches!(
        store.save_melding(Some(999_999), &a, "x", at(11)).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.melding(999_999).await?, None);

    let ids =
        |list: Vec<(i64, MeldingDraft)>| list.into_iter().map(|(id, _)| id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.meldingen(&MeldingFilter::default()).await?),
        vec![id_a, id_b, id_c, id_h1, id_h2]
    );
    let of_1 = MeldingFilter {
        student: Some(sid(1)),
        ..MeldingFilter::default()
    };
    assert_eq!(ids(store.meldingen(&of_1).await?), vec![id_a, id_b]);
    let concept = MeldingFilter {
        status: Some(MeldingStatus::Concept),
        ..MeldingFilter::default()
    };
    assert_eq!(
        ids(store.meldingen(&concept).await?),
        vec![id_b, id_c, id_h1, id_h2]
    );
    // On 2025-10-04 c is overdue (deadline 10-03); a is registered; the
    // deadline day itself is still in time.
    let overdue = |on| MeldingFilter {
        overdue_on: Some(on),
        ..MeldingFilter::default()
    };
    assert_eq!(
        ids(store.meldingen(&overdue(day(2025, 10, 4))).await?),
        vec![id_c]
    );
    assert!(ids(store.meldingen(&overdue(day(2025, 10, 3))).await?).is_empty());
    for (_, d) in store.meldingen(&overdue(day(2025, 11, 20))).await? {
        assert!(d.is_overdue(day(2025, 11, 20)));
    }
    Ok(())
}

/// Students who left before a date, and only those.
pub async fn students_left_before_a_date(store: &dyn Store) -> Check {
    let mut early = student(1);
    early.left_on = Some(day(2020, 1, 1));
    let mut on_the_day = student(2);
    on_the_day.left_on = Some(day(2021, 6, 30));
    store
        .upsert_students(&[early.clone(), on_the_day.clone(), student(3)])
        .await?;
    assert_eq!(
        store.students_left_before(day(2021, 6, 30)).await?,
        vec![early.clone()]
    );
    assert_eq!(
        store.students_left_before(day(2021, 7, 1)).await?,
        vec![early, on_the_day]
    );
    Ok(())
}

/// Gives student `n` two registrations (one corrected, so with history),
/// a case and a melding draft; returns the draft's id.
async fn give_data(store: &dyn Store, n: u32) -> Result<i64, StoreError> {
    let first = lesson(n, day(2025, 9, 1), 1);
    store.set_registration(&first, "mentor.a", at(0)).await?;
    store
        .set_registration(&lesson(n, day(2025, 9, 1), 2), "mentor.a", at(0))
        .await?;
    let mut changed = first;
    changed.category = Category::Unauthorized;
    store.set_registration(&changed, "mentor.a", at(1)).await?;
    let mut case = case_of(n, day(2025, 9, 2));
    store.save_case(&case, "coordinator", at(2)).await?;
    case.close(
        day(2025, 9, 3),
        Actor::new("coordinator", Role::Verzuimcoordinator),
        ClosureReason::Uitgeschreven,
        "",
    )
    .map_err(case_error)?;
    store.save_case(&case, "coordinator", at(3)).await?;
    let draft = draft_of(n, Some(day(2025, 9, 26)), day(2025, 10, 3));
    let id = store
        .save_melding(None, &draft, "coordinator", at(4))
        .await?;
    store
        .save_melding(Some(id), &draft, "coordinator", at(5))
        .await?;
    Ok(id)
}

/// Purging removes exactly one student's data, in every table, and leaves
/// the others and the audit log intact; an unknown student is NotFound.
pub async fn purge_removes_exactly_one_student(store: &dyn Store) -> Check {
    store.upsert_students(&[student(1), student(2)]).await?;
    let gone = give_data(store, 1).await?;
    let kept = give_data(store, 2).await?;
    let entry = AuditEntry {
        at: at(6),
        username: "mentor.a".to_owned(),
        action: AuditAction::Read,
        student: Some(sid(1)),
        detail: "leerlingpagina".to_owned(),
    };
    store.audit(&entry).await?;
    let kept_regs = store.student_registrations(&sid(2)).await?;
    let kept_history = store.registration_history(&sid(2)).await?;
    let kept_case = store.case(&sid(2)).await?;
    let kept_draft = store.melding(kept).await?;

    let counts = store.purge_student(&sid(1)).await?;
    assert_eq!(
        counts,
        PurgeCounts {
            registrations: 2,
            history: 1,
            cases: 1,
            case_versions: 2,
            meldingen: 1,
            melding_versions: 2,
            calls: 0,
            afstemmingen: 0,
            audit_unlinked: 1,
        }
    );
    assert_eq!(store.student(&sid(1)).await?, None);
    assert!(matches!(
        store.student_registrations(&sid(1)).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.case(&sid(1)).await?, None);
    assert!(store.case_versions(&sid(1)).await?.is_empty());
    assert_eq!(store.melding(gone).await?, None);
    assert!(store.melding_versions(gone).await?.is_empty());
    assert_eq!(store.registration_count().await?, 2);

    // The other student is untouched.
    assert!(store.student(&sid(2)).await?.is_some());
    assert_eq!(store.student_registrations(&sid(2)).await?, kept_regs);
    assert_eq!(store.registration_history(&sid(2)).await?, kept_history);
    assert_eq!(kept_history.len(), 1);
    assert_eq!(store.case(&sid(2)).await?, kept_case);
    assert!(kept_case.is_some());
    assert_eq!(store.melding(kept).await?, kept_draft);
    assert_eq!(store.melding_versions(kept).await?.len(), 2);
    assert_eq!(store.cases(false).await?.len(), 1);
    assert_eq!(store.meldingen(&MeldingFilter::default()).await?.len(), 1);

    // The audit log keeps the entry, unlinked from the student.
    let log = store
        .audit_log(&AuditFilter {
            student: Some(sid(1)),
            ..AuditFilter::default()
        })
        .await?;
    assert!(log.is_empty(), "{log:?}");
    let all = store.audit_log(&AuditFilter::default()).await?;
    let unlinked = all
        .iter()
        .find(|e| e.at == entry.at && e.username == entry.username)
        .cloned();
    assert_eq!(
        unlinked,
        Some(AuditEntry {
            student: None,
            detail: "verwijderd na de bewaartermijn".to_owned(),
            ..entry
        })
    );

    // The student number can be used again, from scratch.
    assert!(matches!(
        store.purge_student(&sid(1)).await,
        Err(StoreError::NotFound(_))
    ));
    store.upsert_students(&[student(1)]).await?;
    assert!(store.student_registrations(&sid(1)).await?.is_empty());
    Ok(())
}

/// The shared retention rule: students who left more than five years
/// before today are purged and audited; the rest stay.
pub async fn retention_purges_only_the_expired(store: &dyn Store) -> Check {
    let left = |n, on| {
        let mut s = student(n);
        s.left_on = on;
        s
    };
    let today = day(2026, 11, 28);
    store
        .upsert_students(&[
            left(1, Some(day(2020, 6, 30))),  // six years ago: purged
            left(2, Some(day(2021, 11, 28))), // exactly five: kept
            left(3, Some(day(2021, 11, 27))), // five years and a day: purged
            left(4, Some(day(2022, 7, 1))),   // four years ago: kept
            left(5, None),                    // enrolled: kept
        ])
        .await?;
    for n in 1..=5 {
        give_data(store, n).await?;
    }
    let due: Vec<StudentId> = crate::retention::expired(store, today, 5)
        .await?
        .into_iter()
        .map(|s| s.student.id)
        .collect();
    assert_eq!(due, vec![sid(1), sid(3)]);

    let purged = crate::retention::purge_expired(store, today, 5, "systeem", at(100)).await?;
    let ids: Vec<StudentId> = purged
        .iter()
        .map(|p| p.student.student.id.clone())
        .collect();
    assert_eq!(ids, vec![sid(1), sid(3)]);
    assert!(purged.iter().all(|p| p.counts.registrations == 2));
    let remaining: Vec<StudentId> = store
        .students()
        .await?
        .into_iter()
        .map(|s| s.student.id)
        .collect();
    assert_eq!(remaining, vec![sid(2), sid(4), sid(5)]);
    assert_eq!(store.registration_count().await?, 6);

    let log = store
        .audit_log(&AuditFilter {
            username: Some("systeem".to_owned()),
            ..AuditFilter::default()
        })
        .await?;
    let mut audited: Vec<(AuditAction, Option<StudentId>)> =
        log.into_iter().map(|e| (e.action, e.student)).collect();
    audited.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(
        audited,
        vec![
            (AuditAction::Purge, Some(sid(1))),
            (AuditAction::Purge, Some(sid(3)))
        ]
    );

    // A second run finds nothing.
    assert!(
        crate::retention::purge_expired(store, today, 5, "systeem", at(101))
            .await?
            .is_empty()
    );
    Ok(())
}

/// Runs `$check` for each listed check name against a fresh store from
/// `$fresh`, one `#[tokio::test]` each. `$fresh` is an async function
/// returning `(guard, Box<dyn Store>)`; the guard (a temp dir, say) lives
/// until the test ends.
/// Loading the school gives the engine each student's 3a conversations
/// from their case (rules.md §4, `afmelding_persist`).
pub async fn loading_the_school_reads_the_case_facts(store: &dyn Store) -> Check {
    use aanwezig_domain::case::{keys, ItemStatus};
    store.upsert_students(&[student(1), student(2)]).await?;
    let mut case = case_of(1, day(2025, 9, 8));
    case.set_item(
        CaseStep::S3a,
        keys::GESPREK,
        ItemStatus::Done {
            on: day(2025, 9, 10),
            by: Actor::new("mentor", Role::Mentor),
            note: String::new(),
        },
    )
    .map_err(case_error)?;
    store.save_case(&case, "mentor", at(0)).await?;
    let loaded = crate::load_school(store).await?;
    let i = loaded.school.position(&sid(1)).unwrap_or(usize::MAX);
    assert_eq!(
        loaded.school.context(i).conversations_3a,
        vec![day(2025, 9, 10)]
    );
    let j = loaded.school.position(&sid(2)).unwrap_or(usize::MAX);
    assert!(loaded.school.context(j).conversations_3a.is_empty());
    Ok(())
}

/// School and mail settings keep every version; calendar and policy are
/// refused on this path; bad JSON is refused.
pub async fn settings_documents_keep_versions(store: &dyn Store) -> Check {
    assert_eq!(store.settings(DocumentKind::Mail).await?, None);
    let v1 = store
        .save_settings(DocumentKind::Mail, r#"{"host":"a"}"#, "beheer", at(0))
        .await?;
    let v2 = store
        .save_settings(DocumentKind::Mail, r#"{"host":"b"}"#, "beheer", at(1))
        .await?;
    assert_eq!((v1, v2), (1, 2));
    assert_eq!(
        store.settings(DocumentKind::Mail).await?.as_deref(),
        Some(r#"{"host":"b"}"#)
    );
    assert_eq!(store.settings(DocumentKind::School).await?, None);
    assert_eq!(store.document_versions(DocumentKind::Mail).await?.len(), 2);
    for kind in [DocumentKind::Calendar, DocumentKind::Policy] {
        assert!(matches!(
            store.save_settings(kind, "{}", "beheer", at(2)).await,
            Err(StoreError::Invalid(_))
        ));
    }
    assert!(matches!(
        store
            .save_settings(DocumentKind::School, "{nope", "beheer", at(2))
            .await,
        Err(StoreError::Invalid(_))
    ));
    Ok(())
}

/// A feed token finds its user; a new one replaces the old; deleting the
/// user or the token ends it.
pub async fn feed_tokens_replace_and_end(store: &dyn Store) -> Check {
    assert!(matches!(
        store.set_feed_token("niemand", "h0", at(0)).await,
        Err(StoreError::NotFound(_))
    ));
    store.create_user(&user("mentor", Role::Mentor)).await?;
    store
        .create_user(&user("vc", Role::Verzuimcoordinator))
        .await?;
    store.set_feed_token("mentor", "h1", at(0)).await?;
    assert_eq!(
        store.feed_token_user("h1").await?.as_deref(),
        Some("mentor")
    );
    store.set_feed_token("mentor", "h2", at(1)).await?;
    assert_eq!(store.feed_token_user("h1").await?, None);
    assert_eq!(
        store.feed_token_user("h2").await?.as_deref(),
        Some("mentor")
    );
    store.set_feed_token("vc", "h3", at(1)).await?;
    store.delete_feed_token("vc").await?;
    assert_eq!(store.feed_token_user("h3").await?, None);
    store.delete_user("mentor").await?;
    assert_eq!(store.feed_token_user("h2").await?, None);
    Ok(())
}

// --- Checked, audited writes and the change feed ---------------------------

/// An audit entry of a change about student `n` with `detail`.
fn change_entry(minutes: i64, n: Option<u32>, detail: &str) -> AuditEntry {
    AuditEntry {
        at: at(minutes),
        username: "coordinator".to_owned(),
        action: AuditAction::Change,
        student: n.map(sid),
        detail: detail.to_owned(),
    }
}

/// The details of every audit entry, oldest first.
async fn audit_details(store: &dyn Store) -> Result<Vec<String>, StoreError> {
    let mut entries = store
        .audit_log(&AuditFilter {
            limit: 10_000,
            ..AuditFilter::default()
        })
        .await?;
    entries.reverse();
    Ok(entries.into_iter().map(|e| e.detail).collect())
}

/// Whether `result` is the refusal of a stale version with what was
/// expected and what is stored.
fn is_stale<T: std::fmt::Debug>(
    result: &Result<T, StoreError>,
    expected: VersionCheck,
    stored: Option<u32>,
) -> bool {
    match result {
        Err(StoreError::StaleVersion {
            expected: e,
            stored: s,
        }) => *e == expected && *s == stored,
        other => {
            eprintln!("expected StaleVersion({expected:?}, {stored:?}), got {other:?}");
            false
        }
    }
}

/// A checked case save writes the version and its audit entry together;
/// one from another version than stored (also `New` on an existing case,
/// or a version of a case that does not exist) is refused with
/// `StaleVersion` and writes nothing: no version, no audit entry, no
/// change in the feed.
pub async fn stale_case_writes_are_refused_and_write_nothing(store: &dyn Store) -> Check {
    add_students(store, 2).await?;
    let opened = case_of(1, day(2025, 9, 1));
    assert_eq!(store.case_with_version(&sid(1)).await?, None);
    let v1 = store
        .save_case_checked(
            &opened,
            VersionCheck::New,
            "coordinator",
            at(0),
            &change_entry(0, Some(1), "geopend"),
        )
        .await?;
    assert_eq!(v1, 1);
    assert_eq!(
        store.case_with_version(&sid(1)).await?,
        Some((opened.clone(), 1))
    );
    assert_eq!(audit_details(store).await?, vec!["geopend"]);

    let mut closed = opened.clone();
    closed
        .close(
            day(2025, 9, 10),
            Actor::new("coordinator", Role::Verzuimcoordinator),
            ClosureReason::AanwezigheidHersteld,
            "",
        )
        .map_err(case_error)?;
    assert_eq!(
        store
            .save_case_checked(
                &closed,
                VersionCheck::Version(1),
                "mentor.a",
                at(1),
                &change_entry(1, Some(1), "gesloten"),
            )
            .await?,
        2
    );
    let feed_before = store.last_change().await?;

    // A second writer who read version 1, and `New` on the existing case.
    let refused = store
        .save_case_checked(
            &opened,
            VersionCheck::Version(1),
            "coordinator",
            at(2),
            &change_entry(2, Some(1), "van een oude versie"),
        )
        .await;
    assert!(is_stale(&refused, VersionCheck::Version(1), Some(2)));
    let refused = store
        .save_case_checked(
            &opened,
            VersionCheck::New,
            "coordinator",
            at(3),
            &change_entry(3, Some(1), "nog eens nieuw"),
        )
        .await;
    assert!(is_stale(&refused, VersionCheck::New, Some(2)));
    // A version of a case that is not stored.
    let refused = store
        .save_case_checked(
            &case_of(0, day(2025, 9, 1)),
            VersionCheck::Version(1),
            "coordinator",
            at(4),
            &change_entry(4, Some(0), "bestaat niet"),
        )
        .await;
    assert!(is_stale(&refused, VersionCheck::Version(1), None));
    // An unknown student: a Conflict, and nothing either.
    assert!(matches!(
        store
            .save_case_checked(
                &case_of(42, day(2025, 9, 1)),
                VersionCheck::New,
                "coordinator",
                at(5),
                &change_entry(5, Some(42), "onbekend"),
            )
            .await,
        Err(StoreError::Conflict(_))
    ));

    assert_eq!(
        store.case_with_version(&sid(1)).await?,
        Some((closed.clone(), 2))
    );
    assert_eq!(store.case_versions(&sid(1)).await?.len(), 2);
    assert_eq!(store.case(&sid(0)).await?, None);
    assert_eq!(audit_details(store).await?, vec!["geopend", "gesloten"]);
    assert_eq!(
        store.last_change().await?,
        feed_before,
        "a refused write makes no change"
    );

    // The unchecked save and `Any` still write (last write wins).
    assert_eq!(
        store
            .save_case_checked(
                &closed,
                VersionCheck::Any,
                "coordinator",
                at(6),
                &change_entry(6, Some(1), "zonder controle"),
            )
            .await?,
        3
    );
    assert_eq!(store.save_case(&closed, "coordinator", at(7)).await?, 4);
    assert_eq!(
        store.case_with_version(&sid(1)).await?.map(|(_, v)| v),
        Some(4)
    );
    Ok(())
}

/// The same for melding drafts: a new draft takes `New` (or `Any`), a
/// version of a draft is checked, and a refused save writes nothing.
pub async fn stale_melding_writes_are_refused_and_write_nothing(store: &dyn Store) -> Check {
    add_students(store, 2).await?;
    let draft = draft_of(1, Some(day(2025, 9, 26)), day(2025, 10, 3));
    // A version of a draft that does not exist yet.
    let refused = store
        .save_melding_checked(
            None,
            &draft,
            VersionCheck::Version(1),
            "coordinator",
            at(0),
            &change_entry(0, Some(1), "nooit"),
        )
        .await;
    assert!(is_stale(&refused, VersionCheck::Version(1), None));
    let (id, v1) = store
        .save_melding_checked(
            None,
            &draft,
            VersionCheck::New,
            "coordinator",
            at(1),
            &change_entry(1, Some(1), "concept"),
        )
        .await?;
    assert_eq!(v1, 1);
    assert_eq!(
        store.melding_with_version(id).await?,
        Some((draft.clone(), 1))
    );
    let mut sent = draft.clone();
    sent.status = MeldingStatus::InBehandeling;
    assert_eq!(
        store
            .save_melding_checked(
                Some(id),
                &sent,
                VersionCheck::Version(1),
                "coordinator",
                at(2),
                &change_entry(2, Some(1), "verstuurd"),
            )
            .await?,
        (id, 2)
    );
    let feed_before = store.last_change().await?;
    let refused = store
        .save_melding_checked(
            Some(id),
            &draft,
            VersionCheck::Version(1),
            "mentor.a",
            at(3),
            &change_entry(3, Some(1), "van een oude versie"),
        )
        .await;
    assert!(is_stale(&refused, VersionCheck::Version(1), Some(2)));
    let refused = store
        .save_melding_checked(
            Some(id),
            &draft,
            VersionCheck::New,
            "mentor.a",
            at(4),
            &change_entry(4, Some(1), "nog eens nieuw"),
        )
        .await;
    assert!(is_stale(&refused, VersionCheck::New, Some(2)));
    assert_eq!(store.melding_with_version(id).await?, Some((sent, 2)));
    assert_eq!(store.melding_versions(id).await?.len(), 2);
    assert_eq!(store.melding_with_version(id + 1000).await?, None);
    assert_eq!(audit_details(store).await?, vec!["concept", "verstuurd"]);
    assert_eq!(store.last_change().await?, feed_before);
    // A second draft for the same signal stays a Conflict, without audit.
    assert!(matches!(
        store
            .save_melding_checked(
                None,
                &draft,
                VersionCheck::New,
                "coordinator",
                at(5),
                &change_entry(5, Some(1), "dubbel"),
            )
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(audit_details(store).await?.len(), 2);
    Ok(())
}

/// The same for settings documents, of every kind the checked save takes;
/// an invalid document is refused before any check, and writes nothing.
pub async fn stale_document_writes_are_refused_and_write_nothing(store: &dyn Store) -> Check {
    let year = school_year();
    let policy = Policy::default();
    let school = r#"{"naam":"Test College"}"#;
    let writes = [
        DocumentWrite::Calendar(std::slice::from_ref(&year)),
        DocumentWrite::Policy(&policy),
        DocumentWrite::Settings(DocumentKind::School, school),
        DocumentWrite::Settings(DocumentKind::Mail, r#"{"host":"smtp"}"#),
        DocumentWrite::Settings(DocumentKind::Import, r#"{"format":"magister"}"#),
    ];
    let mut expected_audit = Vec::new();
    for (i, doc) in writes.iter().enumerate() {
        let kind = doc.kind();
        let m = i as i64 * 10;
        assert_eq!(store.document_version(kind).await?, None, "{kind:?}");
        let refused = store
            .save_document_checked(
                *doc,
                VersionCheck::Version(1),
                "beheerder",
                at(m),
                &change_entry(m, None, "nooit"),
            )
            .await;
        assert!(
            is_stale(&refused, VersionCheck::Version(1), None),
            "{kind:?}"
        );
        let first = format!("{} eerste", kind.as_str());
        assert_eq!(
            store
                .save_document_checked(
                    *doc,
                    VersionCheck::New,
                    "beheerder",
                    at(m + 1),
                    &change_entry(m + 1, None, &first),
                )
                .await?,
            1
        );
        expected_audit.push(first);
        let second = format!("{} tweede", kind.as_str());
        assert_eq!(
            store
                .save_document_checked(
                    *doc,
                    VersionCheck::Version(1),
                    "beheerder",
                    at(m + 2),
                    &change_entry(m + 2, None, &second),
                )
                .await?,
            2
        );
        expected_audit.push(second);
        let feed_before = store.last_change().await?;
        for check in [VersionCheck::Version(1), VersionCheck::New] {
            let refused = store
                .save_document_checked(
                    *doc,
                    check,
                    "beheerder",
                    at(m + 3),
                    &change_entry(m + 3, None, "van een oude versie"),
                )
                .await;
            assert!(is_stale(&refused, check, Some(2)), "{kind:?}");
        }
        assert_eq!(store.document_version(kind).await?, Some(2), "{kind:?}");
        assert_eq!(store.document_versions(kind).await?.len(), 2, "{kind:?}");
        assert_eq!(store.last_change().await?, feed_before, "{kind:?}");
    }
    assert_eq!(
        store.settings(DocumentKind::School).await?.as_deref(),
        Some(school)
    );
    assert_eq!(audit_details(store).await?, expected_audit);

    // Invalid documents: refused whatever the version, nothing written.
    let mut bad = school_year();
    bad.last_day = day(2025, 1, 1);
    let invalid = [
        DocumentWrite::Calendar(std::slice::from_ref(&bad)),
        DocumentWrite::Settings(DocumentKind::Mail, "geen json"),
        DocumentWrite::Settings(DocumentKind::Calendar, "[]"),
        DocumentWrite::Settings(DocumentKind::Timetable, "{}"),
    ];
    for doc in invalid {
        let kind = doc.kind();
        assert!(
            matches!(
                store
                    .save_document_checked(
                        doc,
                        VersionCheck::Any,
                        "beheerder",
                        at(100),
                        &change_entry(100, None, "ongeldig"),
                    )
                    .await,
                Err(StoreError::Invalid(_))
            ),
            "{kind:?}"
        );
    }
    assert_eq!(audit_details(store).await?, expected_audit);
    assert_eq!(store.document_version(DocumentKind::Timetable).await?, None);
    Ok(())
}

/// Takes the changes after `after` and returns them as (kind, student).
async fn changes_after(
    store: &dyn Store,
    after: &mut i64,
) -> Result<Vec<(ChangeKind, Option<StudentId>)>, StoreError> {
    let changes = store.changes_since(*after, 1000).await?;
    for c in &changes {
        assert!(c.number > *after, "numbers only grow: {changes:?}");
        *after = c.number;
    }
    assert_eq!(store.last_change().await?, *after);
    Ok(changes.into_iter().map(|c| (c.kind, c.student)).collect())
}

/// Every kind of write is in the change feed, with the student it is about
/// (none for an import or a change of many); numbers only grow; sessions,
/// audit entries, reads and refused writes make no change.
pub async fn every_write_is_in_the_change_feed(store: &dyn Store) -> Check {
    use ChangeKind as K;
    assert_eq!(store.last_change().await?, 0);
    assert!(store.changes_since(0, 10).await?.is_empty());
    let mut seen = 0;

    add_students(store, 3).await?;
    assert_eq!(
        changes_after(store, &mut seen).await?,
        vec![(K::Students, None)]
    );
    let mut one = student(1);
    one.student.name = "Anders".into();
    store.upsert_students(std::slice::from_ref(&one)).await?;
    assert_eq!(
        changes_after(store, &mut seen).await?,
        vec![(K::Students, Some(sid(1)))]
    );
    // Saving what is stored changes nothing.
    store.upsert_students(&[one]).await?;
    assert_eq!(changes_after(store, &mut seen).await?, vec![]);

    store
        .import_registrations(&generate(2, 1, 2), &source("a.csv", 0), &no_progress)
        .await?;
    assert_eq!(
        changes_after(store, &mut seen).await?,
        vec![(K::Registrations, None)]
    );
    let mut late = lesson(1, day(2025, 9, 1), 1);
    late.category = Category::LateUnexcused;
    late.minutes_late = 5;
    let mut absent = lesson(2, day(2025, 9, 1), 1);
    absent.category = Category::Unknown;
    store
        .set_registrations(&[late.clone(), absent, late.clone()], "mentor.a", at(1))
        .await?;
    assert_eq!(
        changes_after(store, &mut seen).await?,
        vec![
            (K::Registrations, Some(sid(1))),
            (K::Registrations, Some(sid(2)))
        ]
    );
    // An identical record changes nothing.
    store.set_registration(&late, "mentor.a", at(2)).await?;
    assert_eq!(changes_after(store, &mut seen).await?, vec![]);
    // A stale register writes nothing.
    let stale = store
        .save_registrations(
            &[LessonWrite {
                record: lesson(1, day(2025, 9, 1), 1),
                expected: Expected::Absent,
            }],
            "mentor.a",
            at(3),
        )
        .await;
    assert!(matches!(stale, Err(StoreError::Stale(_))));
    assert_eq!(changes_after(store, &mut seen).await?, vec![]);

    let year = school_year();
    let bundle = ImportBundle {
        calendar: Some(std::slice::from_ref(&year)),
        policy: None,
        timetable: None,
        students: &[],
        student_numbers: NumbersGiven::ALL,
        registrations: Vec::new(),
        absences_only: None,
        by: "beheerder",
        at: at(4),
    };
    store.import_bundle(bundle, &|_, _| {}).await?;
    let after_bundle = changes_after(store, &mut seen).await?;
    assert_eq!(after_bundle.len(), 1, "{after_bundle:?}");
    assert_eq!(after_bundle[0].1, None);

    store
        .save_calendar(std::slice::from_ref(&school_year()), "beheerder", at(5))
        .await?;
    store
        .save_policy(&Policy::default(), "beheerder", at(5))
        .await?;
    store
        .save_settings(DocumentKind::Mail, "{}", "beheerder", at(5))
        .await?;
    store
        .save_document_checked(
            DocumentWrite::Settings(DocumentKind::School, "{}"),
            VersionCheck::Any,
            "beheerder",
            at(5),
            &change_entry(5, None, "school"),
        )
        .await?;
    assert_eq!(
        changes_after(store, &mut seen).await?,
        vec![(K::Document, None); 4]
    );

    store
        .save_case(&case_of(1, day(2025, 9, 1)), "coordinator", at(6))
        .await?;
    let case2 = case_of(2, day(2025, 9, 1));
    store
        .save_case_checked(
            &case2,
            VersionCheck::New,
            "coordinator",
            at(6),
            &change_entry(6, Some(2), "geopend"),
        )
        .await?;
    let id = store
        .save_melding(
            None,
            &draft_of(1, None, day(2025, 10, 3)),
            "coordinator",
            at(7),
        )
        .await?;
    store
        .save_melding_checked(
            Some(id),
            &draft_of(1, None, day(2025, 10, 4)),
            VersionCheck::Version(1),
            "coordinator",
            at(7),
            &change_entry(7, Some(1), "melding"),
        )
        .await?;
    assert_eq!(
        changes_after(store, &mut seen).await?,
        vec![
            (K::Case, Some(sid(1))),
            (K::Case, Some(sid(2))),
            (K::Melding, Some(sid(1))),
            (K::Melding, Some(sid(1))),
        ]
    );

    let call = aanwezig_domain::Call {
        absent_from: day(2025, 9, 1),
        on: day(2025, 9, 1),
        by: "mentor.a".into(),
        reached: aanwezig_domain::Reached::Parent,
        how: "ouder gesproken".into(),
        school_can_do: String::new(),
        expected_back: None,
        worries: false,
    };
    store.add_call(&sid(0), &call).await?;
    store
        .add_afstemming(&aanwezig_domain::duo_work::Afstemming {
            student: sid(2),
            signal: DuoSignalRef {
                rule: RuleId::Duo16h,
                fired_on: day(2025, 11, 3),
            },
            melding: None,
            on: day(2025, 11, 12),
            with_whom: "leerplicht".into(),
            why: "afgestemd".into(),
            by: "vc".into(),
            recorded_at: at(8),
        })
        .await?;
    assert_eq!(
        changes_after(store, &mut seen).await?,
        vec![(K::Call, Some(sid(0))), (K::Afstemming, Some(sid(2)))]
    );

    let mut vc = user("vc", Role::Verzuimcoordinator);
    vc.account_id = store.create_user(&vc).await?;
    vc.display_name = "Nieuwe naam".into();
    store.update_user(&vc).await?;
    store.set_feed_token("vc", "hash", at(9)).await?;
    store.delete_feed_token("vc").await?;
    assert_eq!(
        changes_after(store, &mut seen).await?,
        vec![(K::Accounts, None); 4]
    );

    // Sessions, audit entries and reads make no change.
    let session = SessionRecord {
        id_hash: "s1".into(),
        username: "vc".into(),
        csrf_token: "c".into(),
        created_at: at(10),
        last_seen_at: at(10),
    };
    store.create_session(&session).await?;
    store.touch_session("s1", at(11)).await?;
    store.delete_session("s1").await?;
    store.delete_sessions_idle_since(at(12)).await?;
    store
        .audit(&audit_entry(12, "vc", AuditAction::Read, Some(1)))
        .await?;
    store.students().await?;
    store.case(&sid(1)).await?;
    assert_eq!(changes_after(store, &mut seen).await?, vec![]);

    store.delete_user("vc").await?;
    store.purge_student(&sid(0)).await?;
    assert_eq!(
        changes_after(store, &mut seen).await?,
        vec![(K::Accounts, None), (K::Purge, Some(sid(0)))]
    );

    // `limit` pages through the feed, oldest first.
    let all = store.changes_since(0, 1000).await?;
    let first_two = store.changes_since(0, 2).await?;
    assert_eq!(first_two, all[..2].to_vec());
    let rest = store.changes_since(first_two[1].number, 1000).await?;
    assert_eq!(rest, all[2..].to_vec());
    assert!(all.windows(2).all(|w| w[0].number < w[1].number));
    Ok(())
}

/// `wait_for_change` returns at once when a change after `after` is
/// committed, wakes up when one is committed while it waits, and returns
/// after its timeout when none comes. Deadlines only catch a wait that
/// never wakes; nothing asserts how fast.
pub async fn waiting_for_a_change_wakes_up(store: &dyn Store) -> Check {
    use std::time::Duration;
    const LONG: Duration = Duration::from_secs(600);
    const DEADLINE: Duration = Duration::from_secs(20);
    let before = store.last_change().await?;
    add_students(store, 1).await?;
    let done = tokio::time::timeout(DEADLINE, store.wait_for_change(before, LONG)).await;
    assert!(matches!(done, Ok(Ok(()))), "a committed change: at once");

    let now = store.last_change().await?;
    assert!(now > before);
    // Nothing comes: the timeout ends the wait.
    let done = tokio::time::timeout(
        DEADLINE,
        store.wait_for_change(now, Duration::from_millis(150)),
    )
    .await;
    assert!(matches!(done, Ok(Ok(()))), "the timeout ends the wait");
    assert_eq!(store.last_change().await?, now);

    // A change while waiting wakes the waiter.
    let waiter = tokio::time::timeout(DEADLINE, store.wait_for_change(now, LONG));
    let writer = async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        store.upsert_students(&[student(7)]).await
    };
    let (done, written) = futures::join!(waiter, writer);
    written?;
    assert!(matches!(done, Ok(Ok(()))), "woken by the change");
    assert!(store.last_change().await? > now);
    Ok(())
}

#[macro_export]
macro_rules! conformance_tests {
    ($fresh:path) => {
        $crate::conformance_tests!(@each $fresh;
            students_round_trip,
            student_numbers_round_trip_and_survive_files_without_them,
            registrations_round_trip,
            lessons_stream_matches_the_registrations,
            reads_of_unknown_and_empty_students,
            reimport_changes_nothing,
            changed_lesson_keeps_history,
            unknown_student_rolls_back,
            import_bundle_is_all_or_nothing,
            an_absence_only_reimport_retracts_what_it_no_longer_has,
            calls_are_kept_per_student,
            afstemmingen_are_kept_per_signal,
            the_write_count_follows_committed_changes,
            timetable_is_saved_with_an_import_and_versioned,
            duplicate_key_in_one_import_last_wins,
            single_edit_keeps_history,
            single_edit_constraints,
            register_batch_is_all_or_nothing,
            lesson_states_carry_revisions,
            a_stale_write_is_refused_and_writes_nothing,
            checked_write_edge_cases,
            documents_keep_versions,
            invalid_documents_are_refused,
            users_round_trip,
            duplicate_user_is_conflict,
            update_and_delete_users,
            only_mentors_have_classes,
            account_ids_are_fresh_and_never_reused,
            removing_an_account_ends_its_involvements,
            sessions_round_trip,
            deleting_a_user_ends_their_sessions,
            idle_sessions_are_purged,
            audit_log_newest_first_filtered_limited,
            cases_keep_versions,
            melding_drafts_round_trip,
            students_left_before_a_date,
            purge_removes_exactly_one_student,
            retention_purges_only_the_expired,
            settings_documents_keep_versions,
            feed_tokens_replace_and_end,
            loading_the_school_reads_the_case_facts,
            stale_case_writes_are_refused_and_write_nothing,
            stale_melding_writes_are_refused_and_write_nothing,
            stale_document_writes_are_refused_and_write_nothing,
            every_write_is_in_the_change_feed,
            waiting_for_a_change_wakes_up,
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
