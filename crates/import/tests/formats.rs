//! Registrations as administration systems export them: the Magister and
//! Somtoday example files in `examples/`, every separator and encoding,
//! periods expanded over the timetable, and the errors of bad rows.
#![expect(clippy::unwrap_used, reason = "test helpers: a panic is a failed test")]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use aanwezig_domain::{Calendar, Category, Policy, RegistrationRecord, WeekSchedule};
use aanwezig_import::{
    load_policy, parse_calendar, read_registrations_file, read_registrations_file_report,
    read_registrations_report, read_students_file, read_timetable_file, Format, ImportErrors,
    ImportSettings, ReadOptions, ReadReport,
};
use chrono::NaiveDate;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn cal() -> Calendar {
    let text = std::fs::read_to_string(root().join("data/calendars/2025-2026-noord.toml")).unwrap();
    parse_calendar(&text, "2025-2026-noord.toml").unwrap()
}

fn policy(name: &str) -> Policy {
    load_policy(&root().join(format!("data/policy/{name}.toml"))).unwrap()
}

fn known(id: &str) -> bool {
    id.starts_with("2401")
}

/// The timetable's week of each example student.
fn weeks(cal: &Calendar) -> HashMap<String, WeekSchedule> {
    let tt = read_timetable_file(&root().join("examples/rooster.csv"), cal).unwrap();
    read_students_file(&root().join("examples/students.csv"))
        .unwrap()
        .into_iter()
        .map(|r| (r.student.id.to_string(), tt.for_student(&r.student)))
        .collect()
}

/// A record without its code (the key and what it means).
type Lesson = (String, NaiveDate, u8, Category, u16, Option<String>);

fn lessons(records: &[RegistrationRecord]) -> BTreeSet<Lesson> {
    records
        .iter()
        .map(|r| {
            (
                r.student.to_string(),
                r.date,
                r.lesson,
                r.category,
                r.minutes_late,
                r.note.clone(),
            )
        })
        .collect()
}

fn magister_example() -> (Vec<RegistrationRecord>, ReadReport) {
    let settings = ImportSettings::of(Format::Magister);
    read_registrations_file_report(
        &root().join("examples/magister-absenties.csv"),
        &cal(),
        &policy("magister"),
        ReadOptions::with(&settings),
        known,
    )
    .unwrap()
}

#[test]
fn the_magister_example_holds_the_absences_of_the_full_grid_example() {
    let (records, report) = magister_example();
    let grid = read_registrations_file(
        &root().join("examples/registrations.csv"),
        &cal(),
        &policy("magister"),
        known,
    )
    .unwrap();
    let absences: Vec<RegistrationRecord> = grid
        .into_iter()
        .filter(|r| r.category != Category::Present)
        .collect();
    let expected = lessons(&absences);
    // The example spells one note with Windows-1252 characters.
    let mut got = lessons(&records);
    let decoded: Vec<Lesson> = got
        .iter()
        .filter(|l| l.5.as_deref().is_some_and(|n| n.contains("café ’t Hoekje")))
        .cloned()
        .collect();
    assert_eq!(decoded.len(), 1, "the Windows-1252 note is decoded");
    for l in decoded {
        got.remove(&l);
        let mut plain = l.clone();
        plain.5 = l.5.map(|n| n.replace(" (café ’t Hoekje)", ""));
        got.insert(plain);
    }
    assert_eq!(got, expected);

    // Zb is not in the policy: it is read as sick from its kind (3).
    let zb: Vec<_> = records
        .iter()
        .filter(|r| r.code.as_deref() == Some("Zb"))
        .collect();
    assert_eq!(zb.len(), 7);
    assert!(zb.iter().all(|r| r.category == Category::ReportedSick));
    assert_eq!(
        report.codes_to_add(),
        vec![("Zb".to_owned(), Category::ReportedSick)]
    );
    let notes = report.notes();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].starts_with("Code 'Zb' staat niet in het beleid"),
        "{notes:?}"
    );
    assert!(notes[0].contains("ziek gemeld (7 lessen)"), "{notes:?}");

    // The header as the school's system wrote it.
    let used: BTreeMap<&str, &str> = report
        .columns
        .iter()
        .map(|(c, n)| (*c, n.as_str()))
        .collect();
    assert_eq!(used["student_id"], "Stamnr");
    assert_eq!(used["date"], "Datum");
    assert_eq!(used["minutes_late"], "Minuten te laat");
    assert_eq!(used["kind"], "Verantwoordingtype");
    assert_eq!(report.other_columns, ["Naam", "Klas"]);
    assert_eq!(report.first, Some(ymd(2025, 9, 1)));
    assert_eq!(report.last, Some(ymd(2025, 9, 12)));
}

#[test]
fn the_canonical_format_refuses_columns_it_does_not_know() {
    let e = read_registrations_file(
        &root().join("examples/magister-absenties.csv"),
        &cal(),
        &policy("magister"),
        known,
    )
    .unwrap_err();
    let text = e.to_string();
    assert!(text.contains("kolom 'Naam' is onbekend"), "{text}");
    assert!(text.contains("kolom 'Klas' is onbekend"), "{text}");
}

/// The Magister example's text, decoded.
fn magister_text() -> String {
    let bytes = std::fs::read(root().join("examples/magister-absenties.csv")).unwrap();
    encoding_rs::WINDOWS_1252.decode(&bytes).0.into_owned()
}

fn read_magister_bytes(bytes: &[u8]) -> Result<Vec<RegistrationRecord>, ImportErrors> {
    let settings = ImportSettings::of(Format::Magister);
    read_registrations_report(
        bytes,
        "export.csv",
        &cal(),
        &policy("magister"),
        ReadOptions::with(&settings),
        known,
    )
    .map(|(r, _)| r)
}

#[test]
fn every_separator_and_encoding_reads_the_same() {
    let (want, _) = magister_example();
    let text = magister_text();
    for sep in [";", ",", "\t"] {
        // Fields with the separator in them are quoted, as Excel does.
        let body: String = text
            .lines()
            .map(|line| {
                line.split(';')
                    .map(|f| {
                        if sep != ";" && f.contains(sep) {
                            format!("\"{f}\"")
                        } else {
                            f.to_owned()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(sep)
            })
            .collect::<Vec<_>>()
            .join("\r\n");
        let utf8 = body.clone().into_bytes();
        let mut bom = b"\xef\xbb\xbf".to_vec();
        bom.extend_from_slice(&utf8);
        let (cp1252, _, unmappable) = encoding_rs::WINDOWS_1252.encode(&body);
        assert!(!unmappable);
        for (name, bytes) in [
            ("UTF-8", utf8),
            ("UTF-8 met BOM", bom),
            ("Windows-1252", cp1252.into_owned()),
        ] {
            let got = read_magister_bytes(&bytes).unwrap_or_else(|e| panic!("{sep:?} {name}: {e}"));
            assert_eq!(got, want, "separator {sep:?}, {name}");
        }
    }
}

#[test]
fn errors_name_the_columns_as_the_file_does_and_repeat_once() {
    let mut text = magister_text();
    text.push_str("240101;x;2A;31-9-2025;1;A;Absent;Nee;1;;\r\n");
    for lesson in 1..=3 {
        text.push_str(&format!("240101;x;2A;1-10-2025;{lesson};QQ;?;Nee;;;\r\n"));
    }
    let e = read_magister_bytes(text.as_bytes()).unwrap_err();
    let lines: Vec<String> = e
        .errors
        .iter()
        .map(|r| r.in_file(&e.file).to_string())
        .collect();
    assert_eq!(
        lines[0], "export.csv, regel 46, kolom Datum: 31-9-2025 bestaat niet",
        "{lines:#?}"
    );
    assert!(
        lines[1].starts_with(
            "export.csv, regel 47, kolom Code: code 'QQ' staat niet in het beleid en soort '' is onbekend"
        ),
        "{lines:#?}"
    );
    assert!(
        lines[1].ends_with("(3 regels, eerste op regel 47)"),
        "{lines:#?}"
    );
    assert_eq!(lines.len(), 2, "{lines:#?}");
}

fn somtoday(
    weeks: &HashMap<String, WeekSchedule>,
) -> Result<(Vec<RegistrationRecord>, ReadReport), ImportErrors> {
    somtoday_file(
        &root().join("examples/somtoday-absentiemeldingen.csv"),
        weeks,
    )
}

fn somtoday_file(
    path: &Path,
    weeks: &HashMap<String, WeekSchedule>,
) -> Result<(Vec<RegistrationRecord>, ReadReport), ImportErrors> {
    let settings = ImportSettings::of(Format::Somtoday);
    let week_of = |id: &str| weeks.get(id).cloned();
    let options = ReadOptions {
        settings: &settings,
        week_of: Some(&week_of),
        open_until: Some(ymd(2025, 9, 19)),
    };
    read_registrations_file_report(path, &cal(), &policy("somtoday"), options, known)
}

#[test]
fn somtoday_periods_become_the_lessons_of_the_timetable() {
    let cal = cal();
    let (records, report) = somtoday(&weeks(&cal)).unwrap();
    let per: BTreeMap<(String, NaiveDate), Vec<u8>> =
        records.iter().fold(BTreeMap::new(), |mut m, r| {
            m.entry((r.student.to_string(), r.date))
                .or_insert_with(Vec::new)
                .push(r.lesson);
            m
        });
    let day = |id: &str, d: NaiveDate| per.get(&(id.to_owned(), d)).cloned().unwrap_or_default();
    // One lesson late.
    assert_eq!(day("240104", ymd(2025, 9, 1)), [1]);
    let late = records
        .iter()
        .find(|r| r.student.as_str() == "240104")
        .unwrap();
    assert_eq!(late.category, Category::LateUnexcused);
    // A whole day ending at midnight is that one day: class 2A has 7
    // lessons on Tuesday.
    assert_eq!(day("240102", ymd(2025, 9, 2)), [1, 2, 3, 4, 5, 6, 7]);
    assert!(day("240102", ymd(2025, 9, 3)).is_empty());
    // From lesson 1 on Monday to lesson 4 on Thursday, class 2B.
    assert_eq!(day("240103", ymd(2025, 9, 8)), [1, 2, 3, 4, 5, 6]);
    assert_eq!(day("240103", ymd(2025, 9, 9)), [1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(day("240103", ymd(2025, 9, 10)), [1, 2, 3, 4]);
    assert_eq!(day("240103", ymd(2025, 9, 11)), [1, 2, 3, 4]);
    // Wednesday in 2A: five lessons; the note is kept (not a sick lesson).
    assert_eq!(day("240101", ymd(2025, 9, 10)), [1, 2, 3, 4, 5]);
    // Given in UTC: 22:00Z on the 14th is midnight on the 15th here.
    assert_eq!(day("240103", ymd(2025, 9, 15)), [1, 2, 3, 4, 5, 6]);
    assert!(day("240103", ymd(2025, 9, 14)).is_empty());
    // Student 240105's own Wednesday: lessons 1-4, of which 3 and 4.
    assert_eq!(day("240105", ymd(2025, 9, 17)), [3, 4]);
    // Through the herfstvakantie: only the school days around it.
    let autumn: Vec<NaiveDate> = per
        .keys()
        .filter(|(id, d)| id == "240105" && *d > ymd(2025, 10, 1))
        .map(|(_, d)| *d)
        .collect();
    assert_eq!(
        autumn,
        [
            ymd(2025, 10, 16),
            ymd(2025, 10, 17),
            ymd(2025, 10, 27),
            ymd(2025, 10, 28)
        ]
    );
    assert_eq!(records.len(), 1 + 7 + 21 + 5 + 6 + 2 + 28);
    assert_eq!(report.periods, 7);
    assert_eq!(report.periods_over_free_days, 1);
    assert_eq!(
        report.codes_to_add(),
        vec![("MB".to_owned(), Category::ReportedOther)]
    );
    assert!(report
        .notes()
        .iter()
        .any(|n| n == "1 van de 7 perioden loopt door een vakantie of vrije dag; alleen de schooldagen zijn meegeteld."));
}

#[test]
fn without_a_timetable_periods_take_the_lesson_schedule() {
    let (records, _) = somtoday(&HashMap::new()).unwrap();
    let wednesday: Vec<u8> = records
        .iter()
        .filter(|r| r.student.as_str() == "240101" && r.date == ymd(2025, 9, 10))
        .map(|r| r.lesson)
        .collect();
    assert_eq!(wednesday, [1, 2, 3, 4, 5, 6, 7]);
}

#[test]
fn bad_periods_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("som.csv");
    let head = "leerlingnummer;beginDatumTijd;eindDatumTijd;beginLesuur;eindLesuur;afkorting\n";
    let rows = [
        // 2: end before begin
        "240101;2025-09-10T08:30:00+02:00;2025-09-09T10:00:00+02:00;;;ZK",
        // 3: a lesson outside the schedule
        "240101;2025-09-11T08:30:00+02:00;2025-09-11T10:00:00+02:00;9;;ZK",
        // 4: a weekend only
        "240101;2025-09-13T00:00:00+02:00;2025-09-14T23:59:00+02:00;;;ZK",
        // 5: a date that does not exist
        "240101;31-9-2025;;;;ZK",
        // 6: an open period (ends on open_until) is fine
        "240102;2025-09-18T08:30:00+02:00;;;;ZK",
        // 7: the last lesson before the first on one day
        "240101;2025-09-12T08:30:00+02:00;2025-09-12T12:00:00+02:00;4;2;ZK",
        // 8: overlaps row 6
        "240102;2025-09-19;2025-09-19;2;2;TL",
    ];
    std::fs::write(&path, format!("{head}{}\n", rows.join("\n"))).unwrap();
    let e = somtoday_file(&path, &HashMap::new()).unwrap_err();
    let lines: Vec<String> = e
        .errors
        .iter()
        .map(|r| r.in_file("som.csv").to_string())
        .collect();
    let expect = [
        "som.csv, regel 2, kolom eindDatumTijd: het einde (2025-09-09) ligt voor het begin (2025-09-10)",
        "som.csv, regel 3, kolom beginLesuur: lesuur 9 staat niet in het lesrooster van schooljaar 2025-2026 (lesuren: 1, 2, 3, 4, 5, 6, 7)",
        "som.csv, regel 4, kolom beginDatumTijd: de periode 2025-09-13 tot en met 2025-09-14 heeft geen schooldag",
        "som.csv, regel 5, kolom beginDatumTijd: 31-9-2025 bestaat niet",
        "som.csv, regel 7, kolom eindLesuur: het laatste lesuur (2) ligt voor het eerste (4)",
        "som.csv, regel 8, kolom lesson: leerling 240102 heeft op 2025-09-19 lesuur 2 al op regel 6 (dubbele registratie)",
    ];
    assert_eq!(lines, expect);
}
