//! The registrations CSV reader on arbitrary bytes, against the shipped
//! 2025-2026 calendar and the Magister policy (so valid-looking rows reach
//! every check). Student numbers ending in 9 are "unknown". A first byte
//! 0x01 or 0x02 reads the rest as a Magister or Somtoday export (periods,
//! expanded over a timetable of lessons 1-4 for students ending in 4);
//! anything else is aanwezig's own format.
#![no_main]

use std::sync::LazyLock;

use aanwezig_domain::{Calendar, Group, LessonSet, Policy, Timetable, TimetableRow, WeekSchedule};
use aanwezig_import::{Format, ImportSettings, ReadOptions};
use libfuzzer_sys::fuzz_target;

static CAL: LazyLock<Calendar> = LazyLock::new(|| {
    aanwezig_import::parse_calendar(
        include_str!("../../../../data/calendars/2025-2026-noord.toml"),
        "2025-2026-noord.toml",
    )
    .expect("the shipped calendar parses")
});

static POLICY: LazyLock<Policy> = LazyLock::new(|| {
    aanwezig_import::parse_policy(
        include_str!("../../../../data/policy/magister.toml"),
        "magister.toml",
    )
    .expect("the shipped policy parses")
});

static WEEK: LazyLock<WeekSchedule> = LazyLock::new(|| {
    let student = aanwezig_domain::Student {
        id: aanwezig_domain::StudentId::parse("1004").expect("a valid number"),
        name: "Fuzz".into(),
        class: "1A".into(),
        mentor: "m".into(),
        date_of_birth: chrono::NaiveDate::from_ymd_opt(2012, 1, 1).expect("a date"),
        bsn: None,
        onderwijsnummer: None,
    };
    let lessons = LessonSet::of(1..=4).expect("lessons");
    Timetable {
        rows: vec![TimetableRow {
            group: Group::Class("1A".into()),
            weekday: chrono::Weekday::Wed,
            lessons,
            from: None,
            until: None,
        }],
    }
    .for_student(&student)
});

fuzz_target!(|data: &[u8]| {
    let known = |id: &str| !id.ends_with('9');
    let (format, body) = match data.split_first() {
        Some((1, rest)) => (Format::Magister, rest),
        Some((2, rest)) => (Format::Somtoday, rest),
        _ => (Format::Canonical, data),
    };
    let settings = ImportSettings::of(format);
    let week_of = |id: &str| id.ends_with('4').then(|| WEEK.clone());
    let options = ReadOptions {
        settings: &settings,
        week_of: Some(&week_of),
        open_until: chrono::NaiveDate::from_ymd_opt(2025, 12, 1),
    };
    match aanwezig_import::read_registrations_report(body, "fuzz.csv", &CAL, &POLICY, options, known)
    {
        Ok((records, report)) => {
            let _ = report.notes();
            let mut out = Vec::new();
            aanwezig_import::write_registrations(&mut out, &records).expect("writing to a Vec");
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
