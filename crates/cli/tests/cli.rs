//! The `aanwezig` binary end to end: real files, a real SQLite database file
//! in a temporary folder, the real executable.

#![expect(clippy::unwrap_used, reason = "test helpers panic on broken fixtures")]

use aanwezig_storage::prelude::*;
use std::path::{Path, PathBuf};

use aanwezig_storage::Store;
use aanwezig_storage_sqlite::SqliteStore;
use assert_cmd::Command;
use tempfile::TempDir;

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(p)
}

fn aanwezig(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("aanwezig").expect("binary is built");
    c.current_dir(dir)
        .env("AANWEZIG_DB", dir.join("test.db"))
        .env_remove("AANWEZIG_TODAY");
    c
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// One student with rules.md §6 example 3: unknown absence in lessons 1–4
/// on Mon 8 – Thu 11 Sep 2025, present otherwise, 1–12 Sep.
fn example_3(dir: &Path) -> (PathBuf, PathBuf) {
    let students = dir.join("leerlingen.csv");
    std::fs::write(
        &students,
        "student_id,name,class,mentor,date_of_birth,left_on\n1001,Sanne de Vries,2B,mentor_2b,2012-03-14,\n",
    )
    .unwrap();
    let mut csv = String::from("student_id,date,lesson,minutes,code,category,minutes_late,note\n");
    for day in [1, 2, 3, 4, 5, 8, 9, 10, 11, 12] {
        for lesson in 1..=7 {
            let absent = (8..=11).contains(&day) && lesson <= 4;
            let (code, cat) = if absent { ("A", "") } else { ("", "present") };
            csv.push_str(&format!(
                "1001,2025-09-{day:02},{lesson},50,{code},{cat},,\n"
            ));
        }
    }
    let regs = dir.join("registraties.csv");
    std::fs::write(&regs, csv).unwrap();
    (students, regs)
}

fn import_args(students: &Path, regs: &Path) -> Vec<String> {
    vec![
        "import".into(),
        "--calendar".into(),
        repo("data/calendars/2025-2026-noord.toml")
            .display()
            .to_string(),
        "--policy".into(),
        repo("data/policy/magister.toml").display().to_string(),
        "--students".into(),
        students.display().to_string(),
        "--registrations".into(),
        regs.display().to_string(),
    ]
}

async fn store(dir: &Path) -> SqliteStore {
    SqliteStore::open(&dir.join("test.db").to_string_lossy(), false)
        .await
        .expect("database exists")
}

#[test]
fn shipped_examples_import_and_reimport_changes_nothing() {
    let dir = TempDir::new().unwrap();
    let args = import_args(
        &repo("examples/students.csv"),
        &repo("examples/registrations.csv"),
    );
    let out = aanwezig(dir.path()).args(&args).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("350 registraties, 350 nieuw, 0 gewijzigd"),
        "{}",
        stdout(&out)
    );

    let out = aanwezig(dir.path()).args(&args).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains(
            "350 registraties, 0 nieuw, 0 gewijzigd (oude stand bewaard), 350 ongewijzigd"
        ),
        "{text}"
    );
    assert!(text.contains("Kalender ongewijzigd"), "{text}");
}

#[tokio::test]
async fn a_parent_calls_unknown_becomes_sick_and_history_keeps_the_old_state() {
    let dir = TempDir::new().unwrap();
    let (students, regs) = example_3(dir.path());
    let out = aanwezig(dir.path())
        .args(import_args(&students, &regs))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));

    // The parents call: Monday 8 Sep was illness after all.
    let text = std::fs::read_to_string(&regs)
        .unwrap()
        .replace("1001,2025-09-08,1,50,A,,,", "1001,2025-09-08,1,50,Z,,,");
    std::fs::write(&regs, text).unwrap();
    let out = aanwezig(dir.path())
        .args(["import", "--registrations", &regs.display().to_string()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("70 registraties, 0 nieuw, 1 gewijzigd"),
        "{}",
        stdout(&out)
    );

    let store = store(dir.path()).await;
    let id = aanwezig_domain::StudentId::parse("1001").unwrap();
    let history = store.registration_history(&id).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].old.category, aanwezig_domain::Category::Unknown);
    let now = store.student_registrations(&id).await.unwrap();
    let monday = now
        .iter()
        .find(|r| r.date.to_string() == "2025-09-08" && r.lesson == 1)
        .unwrap();
    assert_eq!(monday.category, aanwezig_domain::Category::ReportedSick);
}

#[tokio::test]
async fn bad_rows_are_each_reported_and_nothing_is_imported() {
    let dir = TempDir::new().unwrap();
    let (students, regs) = example_3(dir.path());
    let mut text = std::fs::read_to_string(&regs).unwrap();
    text.push_str("1001,2025-10-20,1,50,A,,,\n"); // herfstvakantie
    text.push_str("1001,2025-09-15,1,50,QQ,,,\n"); // unknown code
    text.push_str("9999,2025-09-15,2,50,A,,,\n"); // unknown student
    std::fs::write(&regs, text).unwrap();
    let out = aanwezig(dir.path())
        .args(import_args(&students, &regs))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("regel 72, kolom date"), "{err}");
    assert!(err.contains("herfstvakantie"), "{err}");
    assert!(err.contains("regel 73, kolom code"), "{err}");
    assert!(err.contains("regel 74, kolom student_id"), "{err}");

    // Validation happens before any write: not even the students are stored.
    let store = store(dir.path()).await;
    assert_eq!(store.registration_count().await.unwrap(), 0);
    assert_eq!(store.student_count().await.unwrap(), 0);
}

/// Files are written batch by batch while they are read: a bad row after
/// more than a batch of good ones (already handed to the transaction) still
/// leaves nothing behind, in that file or in the one before it.
#[tokio::test]
async fn a_bad_row_after_the_first_batches_rolls_back_everything() {
    let dir = TempDir::new().unwrap();
    let students = dir.path().join("leerlingen.csv");
    let mut list = String::from("student_id,name,class,mentor,date_of_birth\n");
    for s in 0..20 {
        list.push_str(&format!("{},Leerling {s},1A,m,2012-01-01\n", 2000 + s));
    }
    std::fs::write(&students, list).unwrap();
    let cal =
        aanwezig_import::load_calendar(&[repo("data/calendars/2025-2026-noord.toml")]).unwrap();
    let mut csv = String::from("student_id,date,lesson,minutes,code,category\n");
    let mut rows = 0;
    'fill: for s in 0..20 {
        for d in cal.school_days() {
            for lesson in 1..=7 {
                csv.push_str(&format!("{},{d},{lesson},50,,present\n", 2000 + s));
                rows += 1;
                if rows > aanwezig_storage::BATCH_ROWS + 5_000 {
                    break 'fill;
                }
            }
        }
    }
    csv.push_str("2000,2025-09-01,1,50,QQ,\n");
    let good = dir.path().join("a.csv");
    std::fs::write(
        &good,
        "student_id,date,lesson,minutes,code,category\n2001,2025-09-01,1,50,,present\n",
    )
    .unwrap();
    let bad = dir.path().join("b.csv");
    std::fs::write(&bad, csv).unwrap();
    let mut args = import_args(&students, &good);
    args.extend(["--registrations".into(), bad.display().to_string()]);
    let out = aanwezig(dir.path()).args(&args).output().unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains(&format!("regel {}, kolom code", rows + 2)),
        "{err}"
    );

    let store = store(dir.path()).await;
    assert_eq!(store.registration_count().await.unwrap(), 0);
    assert_eq!(store.student_count().await.unwrap(), 0);
    assert!(store.imports().await.unwrap().is_empty());
    assert_eq!(store.calendar().await.unwrap(), None);
}

fn evaluate_json(dir: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "evaluate",
        "--as-of",
        "2025-09-12",
        "--scope",
        "all",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let out = aanwezig(dir).args(&args).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("valid JSON")
}

#[test]
fn evaluate_from_files_gives_the_worked_example() {
    let dir = TempDir::new().unwrap();
    let (students, regs) = example_3(dir.path());
    let cal = repo("data/calendars/2025-2026-noord.toml");
    let json = evaluate_json(
        dir.path(),
        &[
            "--calendar",
            cal.to_str().unwrap(),
            "--students",
            students.to_str().unwrap(),
            "--registrations",
            regs.to_str().unwrap(),
        ],
    );
    assert!(
        !dir.path().join("test.db").exists(),
        "files alone: no database"
    );
    let duo = json["signals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["rule"] == "duo_16h")
        .expect("a duo_16h signal");
    assert_eq!(duo["begin"], "2025-09-08");
    assert_eq!(duo["end"], "2025-09-11");
    assert_eq!(duo["hours"], 16.0);
    assert_eq!(duo["deadline"], "2025-09-18");
    assert_eq!(duo["step"], "4b");
    assert_eq!(duo["evidence"].as_array().unwrap().len(), 16);
    insta::assert_json_snapshot!("example_3", json);
}

/// rules.md §2 from the command line: the absences alone, with
/// `presence = "implied"` and a timetable of lessons 1–4, give the signals
/// of the full grid of those four lessons; without the timetable (seven
/// scheduled lessons a day) the four absent lessons are no whole day.
#[test]
fn absences_with_implied_presence_and_a_timetable_equal_the_full_grid() {
    let dir = TempDir::new().unwrap();
    let (students, _) = example_3(dir.path());
    let mut full = String::from("student_id,date,lesson,minutes,code,category\n");
    // The absences as Dutch Excel saves them: `;` and D-M-JJJJ dates.
    let mut absences = String::from("student_id;date;lesson;minutes;code;category\n");
    for day in [1, 2, 3, 4, 5, 8, 9, 10, 11, 12] {
        for lesson in 1..=4 {
            if (8..=11).contains(&day) {
                full.push_str(&format!("1001,2025-09-{day:02},{lesson},50,A,\n"));
                absences.push_str(&format!("1001;{day}-9-2025;{lesson};50;A;\n"));
            } else {
                full.push_str(&format!("1001,2025-09-{day:02},{lesson},50,,present\n"));
            }
        }
    }
    let full_path = dir.path().join("volledig.csv");
    let abs_path = dir.path().join("afwezig.csv");
    std::fs::write(&full_path, full).unwrap();
    std::fs::write(&abs_path, absences).unwrap();
    let timetable = dir.path().join("rooster.csv");
    std::fs::write(
        &timetable,
        "class;weekday;lessons\n2B;ma;1-4\n2B;di;1-4\n2B;wo;1-4\n2B;do;1-4\n2B;vr;1-4\n",
    )
    .unwrap();
    let magister = std::fs::read_to_string(repo("data/policy/magister.toml")).unwrap();
    let implied = dir.path().join("beleid.toml");
    std::fs::write(&implied, format!("presence = \"implied\"\n{magister}")).unwrap();
    let cal = repo("data/calendars/2025-2026-noord.toml");
    let run = |regs: &Path, policy: &Path, timetable: Option<&Path>| {
        let mut args = vec![
            "--calendar".to_owned(),
            cal.display().to_string(),
            "--policy".into(),
            policy.display().to_string(),
            "--students".into(),
            students.display().to_string(),
            "--registrations".into(),
            regs.display().to_string(),
        ];
        if let Some(t) = timetable {
            args.extend(["--timetable".into(), t.display().to_string()]);
        }
        let json = evaluate_json(
            dir.path(),
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        let mut signals = json["signals"].as_array().unwrap().clone();
        for s in &mut signals {
            s.as_object_mut().unwrap().remove("explanation");
        }
        signals
    };
    let from_grid = run(&full_path, &repo("data/policy/magister.toml"), None);
    let from_absences = run(&abs_path, &implied, Some(&timetable));
    assert!(
        from_grid.iter().any(|s| s["rule"] == "contact"),
        "{from_grid:?}"
    );
    assert_eq!(from_absences, from_grid);
    let without_timetable = run(&abs_path, &implied, None);
    assert!(!without_timetable.iter().any(|s| s["rule"] == "contact"));

    // The same through the database: the timetable is imported with the
    // rest, and `evaluate --db` gives the files' signals.
    let mut args = import_args(&students, &abs_path);
    args[4] = implied.display().to_string();
    args.extend(["--timetable".into(), timetable.display().to_string()]);
    let out = aanwezig(dir.path()).args(&args).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("Rooster opgeslagen (versie 1): 5 regels."),
        "{}",
        stdout(&out)
    );
    let json = evaluate_json(dir.path(), &[]);
    let mut from_db = json["signals"].as_array().unwrap().clone();
    for s in &mut from_db {
        s.as_object_mut().unwrap().remove("explanation");
    }
    assert_eq!(from_db, from_grid);
}

#[test]
fn evaluate_from_the_database_equals_evaluate_from_files() {
    let dir = TempDir::new().unwrap();
    let (students, regs) = example_3(dir.path());
    let cal = repo("data/calendars/2025-2026-noord.toml");
    let policy = repo("data/policy/magister.toml");
    let from_files = evaluate_json(
        dir.path(),
        &[
            "--calendar",
            cal.to_str().unwrap(),
            "--policy",
            policy.to_str().unwrap(),
            "--students",
            students.to_str().unwrap(),
            "--registrations",
            regs.to_str().unwrap(),
        ],
    );
    let out = aanwezig(dir.path())
        .args(import_args(&students, &regs))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let from_db = evaluate_json(dir.path(), &[]);
    assert_eq!(from_db, from_files);
}

#[test]
fn evaluate_table_is_dutch() {
    let dir = TempDir::new().unwrap();
    let (students, regs) = example_3(dir.path());
    let out = aanwezig(dir.path())
        .args(import_args(&students, &regs))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = aanwezig(dir.path())
        .args(["evaluate", "--as-of", "2025-09-13"])
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(text.contains("Nieuwe signalen in de lesweek van maandag 8 september 2025 tot en met vrijdag 12 september 2025"), "{text}");
    assert!(
        text.contains("peildatum zaterdag 13 september 2025 is geen schooldag"),
        "{text}"
    );
    assert!(
        text.contains("DUO-melding: 16 uur of meer in 4 lesweken"),
        "{text}"
    );
    assert!(
        text.contains("Stap van de leerlingen op vrijdag 12 september 2025: stap 4b: 1."),
        "{text}"
    );
}

#[test]
fn evaluate_without_a_database_says_what_to_do() {
    let dir = TempDir::new().unwrap();
    let out = aanwezig(dir.path()).args(["evaluate"]).output().unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("aanwezig demo"), "{}", stderr(&out));
    assert!(
        !dir.path().join("test.db").exists(),
        "a failed evaluate creates no database"
    );
}

#[test]
fn demo_writes_files_that_import_cleanly() {
    let dir = TempDir::new().unwrap();
    let out = aanwezig(dir.path())
        .args([
            "demo",
            "--students",
            "60",
            "--until",
            "2025-10-01",
            "--no-import",
            "--out",
            "school",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("60 leerlingen, schooljaar 2025-2026 tot en met 2025-10-01"),
        "{}",
        stdout(&out)
    );
    let school = dir.path().join("school");
    let out = aanwezig(dir.path())
        .args([
            "import",
            "--calendar",
            "school/calendar.toml",
            "--policy",
            "school/policy.toml",
        ])
        .args([
            "--students",
            "school/students.csv",
            "--registrations",
            "school/registrations.csv",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    // 60 students × 7 lessons × 28 school days (25 Aug – 1 Oct 2025).
    assert!(
        stdout(&out).contains("11760 registraties, 11760 nieuw"),
        "{}",
        stdout(&out)
    );
    assert!(school.join("registrations.csv").exists());
}

#[test]
fn demo_imports_and_shows_this_weeks_signals() {
    let dir = TempDir::new().unwrap();
    let out = aanwezig(dir.path())
        .args(["--today", "2025-11-14", "demo", "--students", "200"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("Nieuwe signalen in de lesweek van maandag 10 november 2025 tot en met vrijdag 14 november 2025"), "{text}");
    assert!(text.contains("van de 200 leerlingen"), "{text}");
}

#[test]
fn a_calendar_that_would_orphan_registrations_is_refused() {
    let dir = TempDir::new().unwrap();
    let (students, regs) = example_3(dir.path());
    let out = aanwezig(dir.path())
        .args(import_args(&students, &regs))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    // A studiedag on Monday 8 September 2025, a day with registrations.
    let cal = std::fs::read_to_string(repo("data/calendars/2025-2026-noord.toml")).unwrap()
        + "\n[[school_year.free_days]]\nname = \"studiedag\"\nkind = \"studiedag\"\nfirst = 2025-09-08\nlast = 2025-09-08\n";
    let path = dir.path().join("kalender.toml");
    std::fs::write(&path, cal).unwrap();
    let out = aanwezig(dir.path())
        .args(["import", "--calendar", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("2025-09-08 (leerling 1001)"),
        "{}",
        stderr(&out)
    );
    // Nothing was saved: evaluating still works on the old calendar.
    let out = aanwezig(dir.path())
        .args(["evaluate", "--as-of", "2025-09-12"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

/// The whole command is one transaction: when the last write fails (here a
/// trigger stands in for a full disk), calendar, policy and students are
/// not left behind either.
#[tokio::test]
async fn a_failing_last_write_leaves_nothing_behind() {
    let dir = TempDir::new().unwrap();
    let (students, regs) = example_3(dir.path());
    // A database with the schema and nothing else.
    let out = aanwezig(dir.path())
        .args(["user", "list"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    {
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        sqlx::query(
            "CREATE TRIGGER test_refuse BEFORE INSERT ON registrations
             WHEN NEW.lesson = 7 BEGIN SELECT RAISE(ABORT, 'schijf vol (test)'); END",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
    }
    let out = aanwezig(dir.path())
        .args(import_args(&students, &regs))
        .output()
        .unwrap();
    assert!(!out.status.success(), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("niets opgeslagen"),
        "{}",
        stderr(&out)
    );
    let store = store(dir.path()).await;
    assert_eq!(store.student_count().await.unwrap(), 0);
    assert_eq!(store.calendar().await.unwrap(), None);
    assert_eq!(store.policy().await.unwrap(), None);
    assert!(store.imports().await.unwrap().is_empty());
}

/// A crafted workbook is one Dutch error for the file, not a crash.
#[tokio::test]
async fn a_hostile_workbook_is_refused_with_a_clear_error() {
    let dir = TempDir::new().unwrap();
    let (_, regs) = example_3(dir.path());
    for (file, says) in [
        ("corner.xlsx", "cel XFD1048576"),
        ("sst-bomb.xlsx", "sharedStrings.xml"),
        ("repeat-bomb.ods", "cellen"),
    ] {
        let bomb = repo("crates/import/tests/fixtures/hostile").join(file);
        let out = aanwezig(dir.path())
            .args(import_args(&bomb, &regs))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{file}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(file) && err.contains(says), "{file}: {err}");
    }
    let store = store(dir.path()).await;
    assert_eq!(store.student_count().await.unwrap(), 0);
}

/// The signals of a JSON evaluation, without their explanations.
fn signals_of(json: &serde_json::Value) -> Vec<serde_json::Value> {
    let mut signals = json["signals"].as_array().unwrap().clone();
    for s in &mut signals {
        s.as_object_mut().unwrap().remove("explanation");
    }
    signals
}

/// The signals of the example students with `registrations` from files
/// alone (the shipped calendar, the built-in policy), plus `extra`.
fn example_signals(dir: &Path, registrations: &Path, extra: &[&str]) -> Vec<serde_json::Value> {
    let cal = repo("data/calendars/2025-2026-noord.toml");
    let students = repo("examples/students.csv");
    let mut args = vec![
        "--calendar",
        cal.to_str().unwrap(),
        "--students",
        students.to_str().unwrap(),
        "--registrations",
        registrations.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    signals_of(&evaluate_json(dir, &args))
}

/// A Magister export as Dutch Excel saves it (`examples/`), imported with
/// `--format magister`, gives the signals of the full grid it came from;
/// the policy learns that the files hold absences only; a re-import without
/// one absence makes that lesson present again.
#[test]
fn a_magister_export_imports_and_a_reimport_retracts_an_absence() {
    let dir = TempDir::new().unwrap();
    let cal = repo("data/calendars/2025-2026-noord.toml");
    let students = repo("examples/students.csv");
    let from_grid = example_signals(dir.path(), &repo("examples/registrations.csv"), &[]);
    assert!(!from_grid.is_empty());
    let magister = repo("examples/magister-absenties.csv");
    // Files mode reads it too.
    let from_files = example_signals(
        dir.path(),
        &magister,
        &["--registrations-format", "magister"],
    );
    assert_eq!(from_files, from_grid);

    let out = aanwezig(dir.path())
        .args(["import", "--calendar", cal.to_str().unwrap()])
        .args(["--students", students.to_str().unwrap()])
        .args(["--registrations", magister.to_str().unwrap()])
        .args(["--format", "magister", "--add-codes"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("Beleid: presence = \"implied\""), "{text}");
    assert!(text.contains("Stamnr → student_id"), "{text}");
    assert!(text.contains("Niet gebruikt: Naam, Klas"), "{text}");
    assert!(
        text.contains(
            "Codes toegevoegd aan het beleid (versie 2): Zb = ziek gemeld (reported_sick)."
        ),
        "{text}"
    );
    assert!(
        text.contains("de import beslaat 2025-09-01 tot en met 2025-09-12; 0 eerder"),
        "{text}"
    );
    assert_eq!(signals_of(&evaluate_json(dir.path(), &[])), from_grid);

    // The next export: Fleur's verlof on Friday 12 September was entered by
    // mistake and is gone.
    let bytes = std::fs::read(&magister).unwrap();
    let kept: Vec<&[u8]> = bytes
        .split(|b| *b == b'\n')
        .filter(|line| {
            !(line.starts_with(b"240105;") && line.windows(9).any(|w| w == b"12-9-2025"))
        })
        .collect();
    let again = dir.path().join("export-2.csv");
    std::fs::write(&again, kept.join(&b'\n')).unwrap();
    let out = aanwezig(dir.path())
        .args(["import", "--registrations", again.to_str().unwrap()])
        // The export's period: its last day has no absences any more.
        .args(["--format", "magister", "--until", "2025-09-12"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("de import beslaat 2025-09-01 tot en met 2025-09-12; 7 eerder"),
        "{text}"
    );
    assert!(
        !text.contains("Beleid:"),
        "the policy already says implied: {text}"
    );
    let dir2 = TempDir::new().unwrap();
    let grid = std::fs::read_to_string(repo("examples/registrations.csv")).unwrap();
    let corrected: String = grid
        .lines()
        .map(|l| {
            if l.starts_with("240105,2025-09-12,") {
                let f: Vec<&str> = l.split(',').collect();
                format!("{},{},{},,,present,,\n", f[0], f[1], f[2])
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    let corrected_path = dir2.path().join("grid.csv");
    std::fs::write(&corrected_path, corrected).unwrap();
    let want = example_signals(dir2.path(), &corrected_path, &[]);
    assert_eq!(signals_of(&evaluate_json(dir.path(), &[])), want);
}

/// A Somtoday export of periods, with the example timetable and the
/// Somtoday policy: every period becomes the lessons of the student's day.
#[test]
fn a_somtoday_export_imports_over_the_timetable() {
    let dir = TempDir::new().unwrap();
    let out = aanwezig(dir.path())
        .args(["import", "--calendar"])
        .arg(repo("data/calendars/2025-2026-noord.toml"))
        .arg("--policy")
        .arg(repo("data/policy/somtoday.toml"))
        .arg("--students")
        .arg(repo("examples/students.csv"))
        .arg("--timetable")
        .arg(repo("examples/rooster.csv"))
        .arg("--registrations")
        .arg(repo("examples/somtoday-absentiemeldingen.csv"))
        .args(["--format", "somtoday"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("somtoday-absentiemeldingen.csv: 70 registraties, 70 nieuw"),
        "{text}"
    );
    assert!(
        text.contains("1 van de 7 perioden loopt door een vakantie of vrije dag"),
        "{text}"
    );
    assert!(
        text.contains(
            "Niet in het beleid, wel afgeleid: MB = afgemeld om een andere reden (reported_other). Voeg ze toe met --add-codes"
        ),
        "{text}"
    );
}
/// `aanwezig import --students` with `--today 2025-11-14` and `file` as the
/// students file (and the calendar, which students need).
fn import_students(dir: &Path, file: &Path) -> std::process::Output {
    aanwezig(dir)
        .args([
            "--today",
            "2025-11-14",
            "import",
            "--calendar",
            &repo("data/calendars/2025-2026-noord.toml")
                .display()
                .to_string(),
            "--students",
            &file.display().to_string(),
        ])
        .output()
        .unwrap()
}

async fn stored_bsn(dir: &Path, id: &str) -> Option<String> {
    let store = store(dir).await;
    let s = store
        .student(&aanwezig_domain::StudentId::parse(id).unwrap())
        .await
        .unwrap()
        .unwrap();
    store.close().await;
    s.student.bsn.map(String::from)
}

#[tokio::test]
async fn student_warnings_are_printed_and_the_students_imported_anyway() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    // Made-up numbers that pass the elfproef.
    let file = d.join("leerlingen.csv");
    std::fs::write(
        &file,
        "student_id,name,class,mentor,date_of_birth,bsn\n\
         1001,Sanne de Vries,2B,mentor_2b,2012-03-14,123456782\n\
         1002,Noor Jansen,2B,mentor_2b,2019-03-14,\n\
         1003,Daan Bakker,2B,pietersen,2012-03-14,\n\
         1004,Finn Smit,2B,pietersen,2012-03-14,\n",
    )
    .unwrap();

    // No users yet: the mentors are not checked, and the output says so.
    let out = import_students(d, &file);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("Er zijn nog geen gebruikers: de mentoren in"),
        "{text}"
    );
    assert!(
        text.contains("1 waarschuwing in ") && text.contains("(het bestand wordt wel ingelezen)"),
        "{text}"
    );
    assert!(
        text.contains("regel 3, kolom date_of_birth: volgens de geboortedatum is de leerling jonger dan 10 jaar; klopt die?"),
        "{text}"
    );
    assert!(text.contains("Leerlingen: 4 nieuw"), "{text}");
    assert!(!text.contains("123456782"), "the number is never printed");
    assert_eq!(stored_bsn(d, "1001").await.as_deref(), Some("123456782"));

    // With a user mentor_2b, the unknown mentor is named once, with its rows.
    let out = aanwezig(d)
        .args([
            "user",
            "add",
            "mentor_2b",
            "--name",
            "M. Mentor",
            "--role",
            "mentor",
            "--class",
            "2B",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = import_students(d, &file);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("regel 4, kolom mentor: mentor 'pietersen' is geen gebruiker van aanwezig; zo ziet geen mentor deze leerling (2 regels, eerste op regel 4)"),
        "{text}"
    );
    assert!(!text.contains("'mentor_2b'"), "{text}");

    // A file without the bsn column keeps the stored BSN.
    let without = d.join("zonder-bsn.csv");
    std::fs::write(
        &without,
        "student_id,name,class,mentor,date_of_birth\n1001,Sanne de Vries,3B,mentor_2b,2012-03-14\n",
    )
    .unwrap();
    let out = import_students(d, &without);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("1 gewijzigd"), "{}", stdout(&out));
    assert_eq!(stored_bsn(d, "1001").await.as_deref(), Some("123456782"));

    // A bad BSN refuses the file, naming line and column.
    std::fs::write(
        &without,
        "student_id,name,class,mentor,date_of_birth,bsn\n1001,Sanne de Vries,3B,mentor_2b,2012-03-14,123456783\n",
    )
    .unwrap();
    let out = import_students(d, &without);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("regel 2, kolom bsn: het BSN klopt niet"),
        "{}",
        stderr(&out)
    );
}
