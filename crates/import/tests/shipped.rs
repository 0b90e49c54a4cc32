//! The files the product ships (data/, examples/) read cleanly and say what
//! rules.md and domain-facts.md say; XLSX gives the same result as CSV;
//! and a throughput check for the registration reader (ignored by default:
//! run it in release mode with `-- --ignored --nocapture`).
#![expect(clippy::unwrap_used, reason = "test helpers: a panic is a failed test")]

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use aanwezig_domain::{Calendar, Category, FreeDayKind, Policy, RegistrationRecord};
use aanwezig_import::{
    load_calendar, load_policy, merge_holidays, parse_calendar, parse_rijksoverheid,
    parse_school_years, policy_to_toml, read_registrations, read_registrations_file,
    read_registrations_xlsx, read_students, read_students_file, read_students_xlsx,
    write_registrations,
};
use chrono::{Datelike, Days, NaiveDate, Weekday};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn cal_2025() -> Calendar {
    parse_calendar(
        &read("data/calendars/2025-2026-noord.toml"),
        "2025-2026-noord.toml",
    )
    .unwrap()
}

fn magister() -> Policy {
    load_policy(&root().join("data/policy/magister.toml")).unwrap()
}

/// Easter Sunday (Anonymous Gregorian algorithm, Meeus/Jones/Butcher).
fn easter(y: i32) -> NaiveDate {
    let a = y % 19;
    let b = y / 100;
    let c = y % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    ymd(
        y,
        u32::try_from(month).unwrap(),
        u32::try_from(day).unwrap(),
    )
}

#[test]
fn easter_is_computed_right() {
    assert_eq!(easter(2026), ymd(2026, 4, 5));
    assert_eq!(easter(2027), ymd(2027, 3, 28));
    assert_eq!(easter(2025), ymd(2025, 4, 20));
}

#[test]
fn both_calendars_parse_and_combine() {
    let cal = load_calendar(&[
        root().join("data/calendars/2025-2026-noord.toml"),
        root().join("data/calendars/2026-2027-noord.toml"),
    ])
    .unwrap();
    assert_eq!(cal.years().len(), 2);
    // The first day after the zomervakantie 2026 borders a holiday.
    let first = cal.index(ymd(2026, 8, 17)).unwrap();
    assert!(cal.is_boundary_day(first));
    // Teaching weeks run on across the summer.
    let last = cal.index(ymd(2026, 7, 3)).unwrap();
    assert_eq!(cal.week(first), cal.week(last) + 1);
}

#[test]
fn the_2025_2026_calendar_holds_the_facts_of_rules_md() {
    let cal = cal_2025();
    assert_eq!(cal.school_days()[0], ymd(2025, 8, 25));
    assert_eq!(*cal.school_days().last().unwrap(), ymd(2026, 7, 3));
    // §6 example 4: Fri 17 Oct is the last school day before the
    // herfstvakantie; Fri 21 Nov, before the studiedag, is not a boundary.
    let oct17 = cal.index(ymd(2025, 10, 17)).unwrap();
    assert!(cal.is_boundary_day(oct17));
    assert!(cal.is_boundary_day(cal.index(ymd(2025, 10, 27)).unwrap()));
    assert!(!cal.is_school_day(ymd(2025, 11, 24)), "studiedag");
    assert!(!cal.is_boundary_day(cal.index(ymd(2025, 11, 21)).unwrap()));
    for d in [
        ymd(2025, 10, 20),
        ymd(2025, 12, 22),
        ymd(2026, 2, 23),
        ymd(2026, 4, 20),
    ] {
        assert!(!cal.is_school_day(d), "{d} is in a holiday");
    }
    // §6 example 4 and 3: deadlines of 5 working days.
    assert_eq!(
        cal.add_working_days(ymd(2025, 10, 17), 5),
        ymd(2025, 10, 24)
    );
    assert_eq!(cal.add_working_days(ymd(2025, 9, 11), 5), ymd(2025, 9, 18));
    // Public holidays inside a holiday still stop a legal deadline.
    assert!(!cal.is_working_day(ymd(2025, 12, 25)));
    assert!(!cal.is_working_day(ymd(2026, 4, 27)), "Koningsdag");
    assert!(
        cal.is_working_day(ymd(2025, 12, 29)),
        "a holiday is a working day"
    );
    // §6 example 2: from Mon 3 Nov the 7th school day is Tue 11 Nov.
    let nov3 = cal.index(ymd(2025, 11, 3)).unwrap();
    assert_eq!(cal.date(nov3 + 6), ymd(2025, 11, 11));
    // Seven lessons of 50 minutes.
    for n in 1..=7 {
        assert_eq!(cal.lesson(oct17, n).map(|l| l.minutes), Some(50));
    }
    assert!(cal.lesson(oct17, 8).is_none());
}

#[test]
fn feestdagen_follow_easter_and_the_law() {
    for (file, year) in [
        ("data/calendars/2025-2026-noord.toml", 2026),
        ("data/calendars/2026-2027-noord.toml", 2027),
    ] {
        let years = parse_school_years(&read(file), file).unwrap();
        let free = &years[0].free_days;
        let on = |name: &str| {
            let f = free
                .iter()
                .find(|f| f.name.starts_with(name))
                .unwrap_or_else(|| panic!("{file}: no {name}"));
            assert_eq!(f.first, f.last, "{file}: {name} is one day");
            (f.first, f.kind)
        };
        let e = easter(year);
        let plus = |n: u64| e.checked_add_days(Days::new(n)).unwrap();
        assert_eq!(on("Paasmaandag"), (plus(1), FreeDayKind::Feestdag));
        assert_eq!(on("Hemelvaartsdag"), (plus(39), FreeDayKind::Feestdag));
        assert_eq!(on("Pinkstermaandag"), (plus(50), FreeDayKind::Feestdag));
        assert_eq!(
            on("Goede Vrijdag"),
            (
                e.checked_sub_days(Days::new(2)).unwrap(),
                FreeDayKind::Studiedag
            )
        );
        assert_eq!(
            on("vrijdag na Hemelvaart"),
            (plus(40), FreeDayKind::Studiedag)
        );
        assert_eq!(on("Koningsdag"), (ymd(year, 4, 27), FreeDayKind::Feestdag));
        assert_eq!(
            on("Bevrijdingsdag"),
            (ymd(year, 5, 5), FreeDayKind::Feestdag)
        );
        assert_eq!(
            on("Nieuwjaarsdag"),
            (ymd(year, 1, 1), FreeDayKind::Feestdag)
        );
        assert_eq!(
            on("Eerste Kerstdag"),
            (ymd(year - 1, 12, 25), FreeDayKind::Feestdag)
        );
        assert_eq!(
            on("Tweede Kerstdag"),
            (ymd(year - 1, 12, 26), FreeDayKind::Feestdag)
        );
        // Every holiday starts on a Saturday and ends on a Sunday.
        for f in free.iter().filter(|f| f.kind == FreeDayKind::Vakantie) {
            assert_eq!(f.first.weekday(), Weekday::Sat, "{file}: {}", f.name);
            assert_eq!(f.last.weekday(), Weekday::Sun, "{file}: {}", f.name);
        }
        assert_eq!(years[0].first_day.weekday(), Weekday::Mon);
        assert_eq!(years[0].last_day.weekday(), Weekday::Fri);
    }
}

#[test]
fn uncertain_dates_are_marked() {
    let y25 = parse_school_years(&read("data/calendars/2025-2026-noord.toml"), "a").unwrap();
    let unconfirmed: Vec<&str> = y25[0]
        .free_days
        .iter()
        .filter(|f| f.unconfirmed)
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(unconfirmed, ["zomervakantie"]);
    let y26 = parse_school_years(&read("data/calendars/2026-2027-noord.toml"), "b").unwrap();
    assert!(y26[0]
        .free_days
        .iter()
        .filter(|f| f.kind == FreeDayKind::Vakantie)
        .all(|f| f.unconfirmed));
}

/// Every key path of a TOML document (`duo_16h.hours`, `codes`).
fn keys(v: &toml::Value, prefix: &str, out: &mut BTreeSet<String>) {
    if let toml::Value::Table(t) = v {
        for (k, v) in t {
            let path = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            if prefix.is_empty() || !prefix.starts_with("codes") {
                out.insert(path.clone());
            }
            if k != "codes" {
                keys(v, &path, out);
            }
        }
    }
}

#[test]
fn default_policy_file_is_exactly_the_default_and_complete() {
    let text = read("data/policy/default.toml");
    let p = aanwezig_import::parse_policy(&text, "default.toml").unwrap();
    assert_eq!(p, Policy::default());
    let (mut in_file, mut all) = (BTreeSet::new(), BTreeSet::new());
    keys(&toml::from_str(&text).unwrap(), "", &mut in_file);
    keys(
        &toml::from_str(&policy_to_toml(&Policy::default())).unwrap(),
        "",
        &mut all,
    );
    all.insert("codes".into()); // an empty map is not written
    assert_eq!(in_file, all, "default.toml must list every key");
}

#[test]
fn magister_preset_is_the_default_plus_its_codes() {
    let p = magister();
    use Category::*;
    let expected: BTreeMap<String, Category> = [
        ("A", Unknown),
        ("AA", Unknown),
        ("S", Unauthorized),
        ("Z", ReportedSick),
        ("ZH", ReportedSick),
        ("M", ReportedOther),
        ("O", ReportedOther),
        ("L", LateUnexcused),
        ("T", LateExcused),
        ("U", NotAbsence),
        ("GE", Authorized),
        ("GI", Authorized),
        ("V", Authorized),
        ("VR", Authorized),
        ("BV", NotAbsence),
        ("HV", NotAbsence),
    ]
    .into_iter()
    .map(|(c, k)| (c.to_owned(), k))
    .collect();
    assert_eq!(
        p,
        Policy {
            codes: expected,
            ..Policy::default()
        }
    );
}

#[test]
fn somtoday_preset_is_the_default_plus_its_codes() {
    let p = load_policy(&root().join("data/policy/somtoday.toml")).unwrap();
    assert!(p.codes.len() >= 10);
    // Every absence category a school registers has a code.
    let used: HashSet<Category> = p.codes.values().copied().collect();
    for c in Category::ALL
        .into_iter()
        .filter(|c| *c != Category::Present)
    {
        assert!(used.contains(&c), "somtoday.toml has no code for {c}");
    }
    assert_eq!(
        Policy {
            codes: Default::default(),
            ..p
        },
        Policy::default()
    );
}

#[test]
fn the_rijksoverheid_fixture_merges_into_the_calendar() {
    let file = "data/rijksoverheid/schoolvakanties-2025-2026.json";
    let y = parse_rijksoverheid(&read(file), file, "noord").unwrap();
    assert_eq!(y.school_year, "2025-2026");
    let got: Vec<(&str, NaiveDate, NaiveDate)> = y
        .holidays
        .iter()
        .map(|h| (h.name.as_str(), h.first, h.last))
        .collect();
    assert_eq!(
        got,
        [
            ("herfstvakantie", ymd(2025, 10, 18), ymd(2025, 10, 26)),
            ("kerstvakantie", ymd(2025, 12, 20), ymd(2026, 1, 4)),
            ("voorjaarsvakantie", ymd(2026, 2, 21), ymd(2026, 3, 1)),
            ("meivakantie", ymd(2026, 4, 25), ymd(2026, 5, 3)),
            ("zomervakantie", ymd(2026, 7, 4), ymd(2026, 8, 16)),
        ]
    );
    assert_eq!(y.advisory, ["herfstvakantie", "voorjaarsvakantie"]);
    let zuid = parse_rijksoverheid(&read(file), file, "zuid").unwrap();
    assert_eq!(zuid.holidays[0].first, ymd(2025, 10, 11));

    let mut years = parse_school_years(&read("data/calendars/2025-2026-noord.toml"), "k").unwrap();
    let before = years[0].free_days.len();
    merge_holidays(&mut years[0], y.holidays);
    assert_eq!(years[0].free_days.len(), before);
    let cal = Calendar::new(years).unwrap();
    // The national meivakantie is one week: 20 April becomes a school day.
    assert!(cal.is_school_day(ymd(2026, 4, 20)));
    assert!(!cal.is_school_day(ymd(2026, 4, 28)));
    assert!(!cal.is_working_day(ymd(2026, 4, 27)), "Koningsdag stays");
}

#[test]
fn the_examples_import_cleanly() {
    let students = read_students(read("examples/students.csv").as_bytes(), "students.csv")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(students.len(), 5);
    let ids: HashSet<String> = students
        .iter()
        .map(|s| s.student.id.as_str().to_owned())
        .collect();
    let regs = read_registrations(
        read("examples/registrations.csv").as_bytes(),
        "registrations.csv",
        &cal_2025(),
        &magister(),
        |id| ids.contains(id),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        regs.len(),
        5 * 7 * 10,
        "five students, seven lessons, two weeks"
    );
    let cats: HashSet<Category> = regs.iter().map(|r| r.category).collect();
    assert!(cats.contains(&Category::Present));
    assert!(cats.contains(&Category::ReportedSick));
    assert!(cats.contains(&Category::Unknown));
    assert!(regs
        .iter()
        .all(|r| r.note.is_none() || r.category != Category::ReportedSick));
}

/// Writes `rows` to the first sheet of a new workbook. Columns in
/// `numeric` hold numbers and columns in `dates` real Excel dates, as a
/// spreadsheet made by hand would; everything else is text.
fn write_sheet(path: &Path, rows: &[Vec<&str>], numeric: &[usize], dates: &[usize]) {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let date_format = rust_xlsxwriter::Format::new().set_num_format("dd-mm-yyyy");
    let ws = wb.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            let (r, c) = (u32::try_from(r).unwrap(), u16::try_from(c).unwrap());
            let col = usize::from(c);
            if v.is_empty() {
                continue;
            }
            if r > 0 && dates.contains(&col) {
                let d = NaiveDate::parse_from_str(v, "%Y-%m-%d").unwrap();
                let x = rust_xlsxwriter::ExcelDateTime::from_ymd(
                    u16::try_from(d.year()).unwrap(),
                    u8::try_from(d.month()).unwrap(),
                    u8::try_from(d.day()).unwrap(),
                )
                .unwrap();
                ws.write_date_with_format(r, c, &x, &date_format).unwrap();
            } else if r > 0 && numeric.contains(&col) {
                ws.write_number(r, c, v.parse::<f64>().unwrap()).unwrap();
            } else {
                ws.write_string(r, c, *v).unwrap();
            }
        }
    }
    wb.save(path).unwrap();
}

#[test]
fn xlsx_reads_like_csv() {
    let dir = tempfile::tempdir().unwrap();
    let students_csv = read("examples/students.csv");
    let rows: Vec<Vec<&str>> = students_csv
        .lines()
        .map(|l| l.split(',').collect())
        .collect();
    let spath = dir.path().join("leerlingen.xlsx");
    // Student numbers typed as numbers, birth dates as Excel dates.
    write_sheet(&spath, &rows, &[0], &[4, 5]);
    let from_xlsx = read_students_xlsx(&spath).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        from_xlsx,
        read_students(students_csv.as_bytes(), "s.csv").unwrap()
    );

    let regs_csv = read("examples/registrations.csv");
    let rows: Vec<Vec<&str>> = regs_csv.lines().map(|l| l.split(',').collect()).collect();
    let rpath = dir.path().join("registraties.xlsx");
    // Ids, lesson, minutes and minutes_late as numbers, dates as dates.
    write_sheet(&rpath, &rows, &[0, 2, 3, 6], &[1]);
    let ids: HashSet<String> = from_xlsx
        .iter()
        .map(|s| s.student.id.as_str().to_owned())
        .collect();
    let known = |id: &str| ids.contains(id);
    let from_xlsx = read_registrations_xlsx(&rpath, &cal_2025(), &magister(), known)
        .unwrap_or_else(|e| panic!("{e}"));
    let from_csv = read_registrations(
        regs_csv.as_bytes(),
        "r.csv",
        &cal_2025(),
        &magister(),
        known,
    )
    .unwrap();
    assert_eq!(from_xlsx, from_csv);

    // Errors carry the row number the spreadsheet shows.
    let mut bad = rows.clone();
    bad[5][1] = "2025-10-20";
    write_sheet(&rpath, &bad, &[0, 2, 3, 6], &[1]);
    let e = read_registrations_xlsx(&rpath, &cal_2025(), &magister(), known).unwrap_err();
    assert_eq!(e.errors.len(), 1, "{e}");
    assert_eq!(e.errors[0].line, Some(6));
    assert_eq!(
        e.errors[0].message,
        "2025-10-20 is geen schooldag (herfstvakantie)"
    );
    assert!(read_students_xlsx(&dir.path().join("missing.xlsx")).is_err());

    // The file readers choose by extension.
    assert_eq!(
        read_students_file(&spath).unwrap(),
        read_students_file(&root().join("examples/students.csv")).unwrap()
    );
    let from_file = read_registrations_file(
        &root().join("examples/registrations.csv"),
        &cal_2025(),
        &magister(),
        known,
    )
    .unwrap();
    assert_eq!(from_file.len(), 350);
    let e = read_students_file(&dir.path().join("missing.csv")).unwrap_err();
    assert!(e.to_string().contains("kan het bestand niet openen"), "{e}");
}

/// Generates `n` valid registration rows: students × school days × lessons.
fn generated_csv(cal: &Calendar, policy: &Policy, n: usize, by_date: bool) -> (Vec<u8>, usize) {
    let codes = ["A", "Z", "L", "T", "S", "O", "V", "BV"];
    let days = cal.school_days();
    let mut recs = Vec::with_capacity(n);
    let per_student = days.len() * 7;
    let students = n.div_ceil(per_student);
    'outer: for s in 0..students {
        for (di, d) in days.iter().enumerate() {
            for lesson in 1..=7u8 {
                if recs.len() == n {
                    break 'outer;
                }
                let k = s * 31 + di * 7 + usize::from(lesson);
                let (code, category) = if k % 10 == 0 {
                    let c = codes[k / 10 % codes.len()];
                    (Some(c.to_owned()), policy.category_of(c).unwrap())
                } else {
                    (None, Category::Present)
                };
                let minutes_late = if matches!(category, Category::LateUnexcused) {
                    7
                } else {
                    0
                };
                recs.push(RegistrationRecord {
                    student: aanwezig_domain::StudentId::parse(&format!("{}", 100_000 + s))
                        .unwrap(),
                    date: *d,
                    lesson,
                    minutes: 50,
                    code,
                    category,
                    minutes_late,
                    note: None,
                });
            }
        }
    }
    if by_date {
        recs.sort_by(|a, b| (a.date, &a.student, a.lesson).cmp(&(b.date, &b.student, b.lesson)));
    }
    let mut buf = Vec::new();
    write_registrations(&mut buf, &recs).unwrap();
    (buf, students)
}

#[test]
fn generated_files_read_back() {
    let cal = cal_2025();
    let (csv, _) = generated_csv(&cal, &magister(), 5_000, true);
    let recs = read_registrations(&csv[..], "gen.csv", &cal, &magister(), |_| true).unwrap();
    assert_eq!(recs.len(), 5_000);
}

#[test]
fn xlsx_numbers_typed_as_numbers_keep_their_leading_zero() {
    // A BSN typed into a number cell loses its leading zero (012345672
    // shows as 12345672); the reader puts it back. The onderwijsnummer
    // column is a number cell too.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leerlingen.xlsx");
    let rows = vec![
        vec![
            "student_id",
            "name",
            "class",
            "mentor",
            "date_of_birth",
            "bsn",
            "onderwijsnummer",
        ],
        vec!["1", "A", "1A", "m", "2012-01-01", "12345672", ""],
        vec!["2", "B", "1A", "m", "2012-01-01", "", "101222331"],
    ];
    write_sheet(&path, &rows, &[0, 5, 6], &[4]);
    let f = aanwezig_import::read_students_file_checked(&path, Default::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        f.rows[0]
            .student
            .bsn
            .as_ref()
            .map(aanwezig_domain::Bsn::as_str),
        Some("012345672")
    );
    assert_eq!(
        f.rows[1]
            .student
            .onderwijsnummer
            .as_ref()
            .map(aanwezig_domain::Onderwijsnummer::as_str),
        Some("101222331")
    );
    assert_eq!(f.numbers, aanwezig_domain::NumbersGiven::ALL);
}
