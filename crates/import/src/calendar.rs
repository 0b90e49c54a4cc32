//! Calendar files (TOML) to and from [`aanwezig_domain::Calendar`].
//!
//! A calendar file holds one or more `[[school_year]]` tables with their
//! lesson schedule and `[[school_year.free_days]]`. Dates may be written as
//! bare TOML dates (`2025-08-25`) or as strings (`"2025-08-25"`), because
//! spreadsheets and hand edits produce both. See `docs/formats.md`.

use std::fmt::Write as _;
use std::path::Path;

use aanwezig_domain::{Calendar, CalendarError, FreeDay, FreeDayKind, LessonSlot, SchoolYear};
use chrono::NaiveDate;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use crate::error::ImportError;
use crate::text::{find_key_line, parse_date};
use crate::toml_de::from_toml;

/// The holiday regions of the Netherlands (Rijksoverheid's division).
pub const REGIONS: [&str; 3] = ["noord", "midden", "zuid"];

/// A date written either as a TOML date or as a `YYYY-MM-DD` string.
#[derive(Clone, Copy, Debug)]
struct FileDate(NaiveDate);

impl<'de> Deserialize<'de> for FileDate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<FileDate, D::Error> {
        d.deserialize_any(FileDateVisitor)
    }
}

struct FileDateVisitor;

impl<'de> Visitor<'de> for FileDateVisitor {
    type Value = FileDate;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a date YYYY-MM-DD")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<FileDate, E> {
        parse_date(v.trim().as_bytes())
            .map(FileDate)
            .ok_or_else(|| E::custom(format!("datum '{v}' is geen geldige datum JJJJ-MM-DD")))
    }

    // The TOML deserializer hands native dates over as a one-entry map.
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<FileDate, A::Error> {
        let dt = toml::value::Datetime::deserialize(de::value::MapAccessDeserializer::new(map))?;
        match (dt.date, dt.time, dt.offset) {
            (Some(d), None, None) => {
                NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
                    .map(FileDate)
                    .ok_or_else(|| de::Error::custom(format!("datum {dt} bestaat niet")))
            }
            _ => Err(de::Error::custom(format!(
                "datum {dt} moet een datum zonder tijd zijn (JJJJ-MM-DD)"
            ))),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarFile {
    #[serde(default)]
    school_year: Vec<YearFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct YearFile {
    name: String,
    #[serde(default)]
    region: Option<String>,
    first_day: FileDate,
    last_day: FileDate,
    #[serde(default)]
    free_days: Vec<FreeDayFile>,
    lessons: Vec<LessonSlot>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FreeDayFile {
    name: String,
    kind: FreeDayKind,
    first: FileDate,
    last: FileDate,
    #[serde(default)]
    unconfirmed: bool,
}

/// Parses a calendar file into its school years, checked as a calendar of
/// their own (so every error names this file).
pub fn parse_school_years(text: &str, file: &str) -> Result<Vec<SchoolYear>, ImportError> {
    let parsed: CalendarFile = from_toml(text, file)?;
    let mut years = Vec::with_capacity(parsed.school_year.len());
    for (i, y) in parsed.school_year.into_iter().enumerate() {
        let invalid = |key: String, reason: String| ImportError::Invalid {
            file: file.to_owned(),
            line: find_year_key_line(text, i, key.rsplit('.').next().unwrap_or("")),
            key,
            reason,
        };
        let region = match y.region {
            None => None,
            Some(r) => {
                let norm = r.trim().to_lowercase();
                if !REGIONS.contains(&norm.as_str()) {
                    return Err(invalid(
                        format!("school_year[{i}].region"),
                        format!("regio '{r}' bestaat niet; kies noord, midden of zuid"),
                    ));
                }
                Some(norm)
            }
        };
        for (j, l) in y.lessons.iter().enumerate() {
            if let Some(start) = &l.start {
                if !is_hh_mm(start) {
                    return Err(invalid(
                        format!("school_year[{i}].lessons[{j}].start"),
                        format!("begintijd '{start}' is geen tijd UU:MM"),
                    ));
                }
            }
        }
        if years.iter().any(|o: &SchoolYear| o.name == y.name) {
            return Err(invalid(
                format!("school_year[{i}].name"),
                format!("schooljaar '{}' staat twee keer in het bestand", y.name),
            ));
        }
        years.push(SchoolYear {
            name: y.name,
            region,
            first_day: y.first_day.0,
            last_day: y.last_day.0,
            free_days: y
                .free_days
                .into_iter()
                .map(|f| FreeDay {
                    name: f.name,
                    kind: f.kind,
                    first: f.first.0,
                    last: f.last.0,
                    unconfirmed: f.unconfirmed,
                })
                .collect(),
            lessons: y.lessons,
        });
    }
    // Build once to run the domain's checks with this file's positions.
    Calendar::new(years.clone()).map_err(|e| calendar_error(text, file, &years, e))?;
    Ok(years)
}

/// Parses a calendar file (TOML) into a validated [`Calendar`].
///
/// Errors name the file, the line where known, and the key
/// (`school_year[0].free_days[3].first`).
pub fn parse_calendar(text: &str, file: &str) -> Result<Calendar, ImportError> {
    let years = parse_school_years(text, file)?;
    Calendar::new(years.clone()).map_err(|e| calendar_error(text, file, &years, e))
}

/// Reads one or more calendar files (for example one per school year) into
/// one calendar.
pub fn load_calendar<P: AsRef<Path>>(paths: &[P]) -> Result<Calendar, ImportError> {
    let mut all = Vec::new();
    let mut names = Vec::new();
    for p in paths {
        let p = p.as_ref();
        let file = p.display().to_string();
        let text = std::fs::read_to_string(p).map_err(|source| ImportError::Io {
            file: file.clone(),
            source,
        })?;
        all.extend(parse_school_years(&text, &file)?);
        names.push(file);
    }
    let files = names.join(" + ");
    Calendar::new(all).map_err(|source| ImportError::Calendar {
        file: files,
        line: None,
        key: "school_year".into(),
        source,
    })
}

fn is_hh_mm(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 5
        && b[2] == b':'
        && b[..2].iter().chain(&b[3..]).all(u8::is_ascii_digit)
        && (u32::from(b[0] - b'0') * 10 + u32::from(b[1] - b'0')) < 24
        && (u32::from(b[3] - b'0') * 10 + u32::from(b[4] - b'0')) < 60
}

/// The line of `key` inside the `i`-th `[[school_year]]` table.
fn find_year_key_line(text: &str, i: usize, key: &str) -> Option<usize> {
    let mut seen = 0usize;
    let mut in_year = false;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.starts_with("[[school_year]]") {
            in_year = seen == i;
            seen += 1;
            if in_year && key.is_empty() {
                return Some(n + 1);
            }
            continue;
        }
        if in_year {
            if line.starts_with("[[school_year.") || line.starts_with("[school_year.") {
                // Sub-tables of the same year: keep looking for `key` only
                // among the year's own keys.
                continue;
            }
            if let Some((lhs, _)) = line.split_once('=') {
                if lhs.trim() == key {
                    return Some(n + 1);
                }
            }
        }
    }
    None
}

/// The line of the free day named `name` in the `i`-th year.
fn find_free_day_line(text: &str, name: &str) -> Option<usize> {
    let quoted = toml::Value::String(name.to_owned()).to_string();
    text.lines().enumerate().find_map(|(n, raw)| {
        let (lhs, rhs) = raw.split_once('=')?;
        (lhs.trim() == "name" && rhs.trim().starts_with(&quoted)).then_some(n + 1)
    })
}

/// Turns a domain calendar error into one that names the key and line.
fn calendar_error(text: &str, file: &str, years: &[SchoolYear], e: CalendarError) -> ImportError {
    let idx = |name: &str| years.iter().position(|y| y.name == name).unwrap_or(0);
    let (key, line) = match &e {
        CalendarError::NoYears => ("school_year".to_owned(), None),
        CalendarError::YearBackwards { year, .. } => {
            let i = idx(year);
            (
                format!("school_year[{i}].first_day"),
                find_year_key_line(text, i, "first_day"),
            )
        }
        CalendarError::YearsOverlap { year, .. } => {
            let i = idx(year);
            (
                format!("school_year[{i}].first_day"),
                find_year_key_line(text, i, "first_day"),
            )
        }
        CalendarError::FreeDayBackwards { year, name, .. } => {
            let i = idx(year);
            let j = years[i]
                .free_days
                .iter()
                .position(|f| &f.name == name)
                .unwrap_or(0);
            (
                format!("school_year[{i}].free_days[{j}].first"),
                find_free_day_line(text, name),
            )
        }
        CalendarError::NoLessons { year }
        | CalendarError::DuplicateLesson { year, .. }
        | CalendarError::BadLesson { year, .. } => {
            let i = idx(year);
            (
                format!("school_year[{i}].lessons"),
                find_year_key_line(text, i, "lessons"),
            )
        }
        CalendarError::NoSchoolDays { year } => {
            let i = idx(year);
            (format!("school_year[{i}]"), find_year_key_line(text, i, ""))
        }
        CalendarError::TooManyDays => ("school_year".to_owned(), None),
    };
    ImportError::Calendar {
        file: file.to_owned(),
        line: line.or_else(|| find_key_line(text, "school_year")),
        key,
        source: e,
    }
}

fn quote(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// Writes school years in the calendar file format; [`parse_school_years`]
/// reads the result back to the same years.
pub fn calendar_to_toml(years: &[SchoolYear]) -> String {
    let mut out = String::new();
    for (n, y) in years.iter().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        // Writing to a String cannot fail.
        let _ = writeln!(out, "[[school_year]]");
        let _ = writeln!(out, "name = {}", quote(&y.name));
        if let Some(r) = &y.region {
            let _ = writeln!(out, "region = {}", quote(r));
        }
        let _ = writeln!(out, "first_day = {}", y.first_day);
        let _ = writeln!(out, "last_day = {}", y.last_day);
        out.push_str("lessons = [\n");
        for l in &y.lessons {
            let _ = write!(out, "  {{ number = {}, minutes = {}", l.number, l.minutes);
            if let Some(s) = &l.start {
                let _ = write!(out, ", start = {}", quote(s));
            }
            out.push_str(" },\n");
        }
        out.push_str("]\n");
        for f in &y.free_days {
            let _ = writeln!(out, "\n[[school_year.free_days]]");
            let _ = writeln!(out, "name = {}", quote(&f.name));
            let _ = writeln!(out, "kind = {}", quote(f.kind.label_nl()));
            let _ = writeln!(out, "first = {}", f.first);
            let _ = writeln!(out, "last = {}", f.last);
            if f.unconfirmed {
                out.push_str("unconfirmed = true\n");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = r#"
# comment
[[school_year]]
name = "2025-2026"
region = "noord"
first_day = 2025-08-25
last_day = "2026-07-03"
lessons = [ { number = 1, minutes = 50, start = "08:30" }, { number = 2, minutes = 50 } ]

[[school_year.free_days]]
name = "herfstvakantie"
kind = "vakantie"
first = 2025-10-18
last = 2025-10-26

[[school_year.free_days]]
name = "studiedag"
kind = "margedag"
first = "2025-11-24"
last = "2025-11-24"
unconfirmed = true
"#;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn bare_and_quoted_dates_and_aliases_parse() {
        let years = parse_school_years(SMALL, "k.toml").unwrap();
        assert_eq!(years.len(), 1);
        let y = &years[0];
        assert_eq!(y.last_day, ymd(2026, 7, 3));
        assert_eq!(y.free_days[1].kind, FreeDayKind::Studiedag);
        assert!(y.free_days[1].unconfirmed);
        assert_eq!(y.lessons[0].start.as_deref(), Some("08:30"));
        let cal = parse_calendar(SMALL, "k.toml").unwrap();
        assert!(!cal.is_school_day(ymd(2025, 11, 24)));
    }

    #[test]
    fn round_trips_through_toml() {
        let years = parse_school_years(SMALL, "k.toml").unwrap();
        let text = calendar_to_toml(&years);
        assert_eq!(parse_school_years(&text, "k2.toml").unwrap(), years);
    }

    #[test]
    fn syntax_errors_name_file_and_line() {
        let bad = SMALL.replace("first = 2025-10-18", "first = 2025-10-18 oops");
        let e = parse_calendar(&bad, "k.toml").unwrap_err();
        match &e {
            ImportError::Syntax { file, line, .. } => {
                assert_eq!(file, "k.toml");
                assert_eq!(*line, Some(13));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(e.to_string().starts_with("k.toml, regel 13"), "{e}");
    }

    #[test]
    fn bad_dates_name_their_key() {
        let bad = SMALL.replace("last_day = \"2026-07-03\"", "last_day = \"2026-13-03\"");
        let e = parse_calendar(&bad, "k.toml").unwrap_err();
        match &e {
            ImportError::Syntax { line, key, .. } => {
                assert_eq!(key.as_deref(), Some("school_year[0].last_day"));
                assert_eq!(*line, Some(7));
            }
            other => panic!("unexpected {other:?}"),
        }
        let with_time = SMALL.replace("first_day = 2025-08-25", "first_day = 2025-08-25T08:00:00");
        let e = parse_calendar(&with_time, "k.toml").unwrap_err();
        assert!(e.to_string().contains("zonder tijd"), "{e}");
    }

    #[test]
    fn unknown_keys_and_kinds_are_named() {
        let bad = SMALL.replace("region = \"noord\"", "regio = \"noord\"");
        let e = parse_calendar(&bad, "k.toml").unwrap_err();
        let text = e.to_string();
        assert!(text.contains("onbekende sleutel 'regio'"), "{text}");
        assert!(text.contains("school_year[0]"), "{text}");

        let bad = SMALL.replace("kind = \"vakantie\"", "kind = \"feest\"");
        let e = parse_calendar(&bad, "k.toml").unwrap_err();
        let text = e.to_string();
        assert!(text.contains("school_year[0].free_days[0].kind"), "{text}");
        assert!(text.contains("onbekende waarde 'feest'"), "{text}");
    }

    #[test]
    fn domain_errors_name_key_and_line() {
        let bad = SMALL.replace("last = 2025-10-26", "last = 2025-10-16");
        let e = parse_calendar(&bad, "k.toml").unwrap_err();
        match &e {
            ImportError::Calendar {
                key, line, source, ..
            } => {
                assert_eq!(key, "school_year[0].free_days[0].first");
                assert_eq!(*line, Some(11));
                assert!(matches!(source, CalendarError::FreeDayBackwards { .. }));
            }
            other => panic!("unexpected {other:?}"),
        }
        let bad = SMALL.replace("first_day = 2025-08-25", "first_day = 2026-08-25");
        let e = parse_calendar(&bad, "k.toml").unwrap_err();
        assert!(
            matches!(&e, ImportError::Calendar { key, line: Some(6), .. } if key == "school_year[0].first_day"),
            "{e:?}"
        );
    }

    #[test]
    fn regions_and_start_times_are_checked() {
        let bad = SMALL.replace("region = \"noord\"", "region = \"oost\"");
        let e = parse_calendar(&bad, "k.toml").unwrap_err();
        assert!(
            matches!(&e, ImportError::Invalid { key, line: Some(5), .. } if key == "school_year[0].region"),
            "{e:?}"
        );
        let bad = SMALL.replace("start = \"08:30\"", "start = \"8.30\"");
        let e = parse_calendar(&bad, "k.toml").unwrap_err();
        assert!(e.to_string().contains("lessons[0].start"), "{e}");
    }

    #[test]
    fn empty_file_has_no_years() {
        let e = parse_calendar("# nothing\n", "k.toml").unwrap_err();
        assert!(matches!(
            e,
            ImportError::Calendar {
                source: CalendarError::NoYears,
                ..
            }
        ));
    }
}
