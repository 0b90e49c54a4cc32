//! The timetable (rooster) as a table (CSV or XLSX): which lessons a class,
//! or one student, has on each weekday (rules.md §2; docs/formats.md).
//!
//! Columns: `class` or `student_id` (one of the two per row), `weekday`
//! (`ma`…`vr`, `maandag`…`vrijdag` or 1–5), `lessons` (`1-7`, `1,2,4`,
//! `1-3,6`), and optional `from` and `until` dates. Every lesson must be
//! one of the calendar's lesson schedule; two rows for the same class or
//! student and weekday may not share a date. Every bad row gets a Dutch
//! error with its line and column; when there is any, nothing is read.

use std::path::Path;

use aanwezig_domain::{Calendar, Group, LessonSet, StudentId, Timetable, TimetableRow};
use chrono::{NaiveDate, Weekday};

use crate::error::{ErrorList, ImportErrors};
use crate::table::{either_column, is_workbook, open_csv, read_csv, Row, Sink};
use crate::text::{parse_date_nl, show, weekday_nl};
use crate::workbook::read_workbook;

const COLUMNS: &[(&str, bool)] = &[
    ("class", false),
    ("student_id", false),
    ("weekday", true),
    ("lessons", true),
    ("from", false),
    ("until", false),
];

struct TimetableSink {
    pos: [Option<usize>; 6],
    /// Lesson numbers of any school year's lesson schedule.
    known: LessonSet,
    rows: Vec<(u64, TimetableRow)>,
}

fn text<R: Row>(row: &R, p: Option<usize>) -> &[u8] {
    p.map_or(&b""[..], |i| row.field(i).trim_ascii())
}

fn weekday(b: &[u8]) -> Option<Weekday> {
    let s = std::str::from_utf8(b).ok()?.to_lowercase();
    Some(match s.as_str() {
        "1" | "ma" | "maandag" => Weekday::Mon,
        "2" | "di" | "dinsdag" => Weekday::Tue,
        "3" | "wo" | "woensdag" => Weekday::Wed,
        "4" | "do" | "donderdag" => Weekday::Thu,
        "5" | "vr" | "vrijdag" => Weekday::Fri,
        _ => return None,
    })
}

/// `1-7`, `1,2,4`, `1-3,6`: the lesson numbers, each 1–15.
fn lessons(b: &[u8]) -> Option<Vec<u8>> {
    let s = std::str::from_utf8(b).ok()?;
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim) {
        let (a, z) = match part.split_once('-') {
            Some((a, z)) => (a.trim().parse::<u8>().ok()?, z.trim().parse::<u8>().ok()?),
            None => {
                let n = part.parse::<u8>().ok()?;
                (n, n)
            }
        };
        if a == 0 || z > 15 || a > z {
            return None;
        }
        out.extend(a..=z);
    }
    (!out.is_empty()).then_some(out)
}

impl TimetableSink {
    fn date<R: Row>(
        &self,
        row: &R,
        p: Option<usize>,
        line: u64,
        col: &'static str,
        errs: &mut ErrorList,
    ) -> Result<Option<NaiveDate>, ()> {
        let b = text(row, p);
        if b.is_empty() {
            return Ok(None);
        }
        parse_date_nl(b).map(Some).map_err(|problem| {
            errs.push(line, Some(col), problem.message(b));
        })
    }
}

impl Sink for TimetableSink {
    type Output = Timetable;

    fn columns(&self) -> &'static [(&'static str, bool)] {
        COLUMNS
    }

    fn header(&mut self, positions: &[Option<usize>], errs: &mut ErrorList) -> bool {
        for (slot, p) in self.pos.iter_mut().zip(positions) {
            *slot = *p;
        }
        either_column(
            self.pos[0],
            self.pos[1],
            "het rooster heeft een kolom class of student_id nodig (of allebei)",
            errs,
        )
    }

    fn row<R: Row>(&mut self, line: u64, row: &R, errs: &mut ErrorList) {
        let [p_class, p_student, p_day, p_lessons, p_from, p_until] = self.pos;
        let class = text(row, p_class);
        let student = text(row, p_student);
        let group = match (class.is_empty(), student.is_empty()) {
            (false, true) => match std::str::from_utf8(class) {
                Ok(c) if !c.chars().any(char::is_control) => Some(Group::Class(c.to_owned())),
                _ => {
                    errs.push(
                        line,
                        Some("class"),
                        format!("'{}' is geen klas", show(class)),
                    );
                    None
                }
            },
            (true, false) => match std::str::from_utf8(student).map(StudentId::parse) {
                Ok(Ok(id)) => Some(Group::Student(id)),
                _ => {
                    errs.push(
                        line,
                        Some("student_id"),
                        format!("'{}' is geen leerlingnummer", show(student)),
                    );
                    None
                }
            },
            (true, true) => {
                errs.push(
                    line,
                    Some("class"),
                    "geef een klas of een leerlingnummer".into(),
                );
                None
            }
            (false, false) => {
                errs.push(
                    line,
                    Some("class"),
                    "geef een klas of een leerlingnummer, niet allebei".into(),
                );
                None
            }
        };
        let day_b = text(row, p_day);
        let day = weekday(day_b);
        if day.is_none() {
            errs.push(
                line,
                Some("weekday"),
                format!(
                    "'{}' is geen lesdag (ma, di, wo, do, vr of 1 tot 5)",
                    show(day_b)
                ),
            );
        }
        let lessons_b = text(row, p_lessons);
        let set = match lessons(lessons_b) {
            None => {
                errs.push(
                    line,
                    Some("lessons"),
                    format!(
                        "'{}' zijn geen lesuren (schrijf bijvoorbeeld 1-7 of 1,2,4)",
                        show(lessons_b)
                    ),
                );
                None
            }
            Some(ns) => {
                let unknown: Vec<String> = ns
                    .iter()
                    .filter(|n| !self.known.contains(**n))
                    .map(u8::to_string)
                    .collect();
                if unknown.is_empty() {
                    LessonSet::of(ns)
                } else {
                    errs.push(
                        line,
                        Some("lessons"),
                        format!(
                            "lesuur {} staat niet in het lesrooster van de kalender (lesuren: {})",
                            unknown.join(", "),
                            self.known
                                .numbers()
                                .map(|n| n.to_string())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    );
                    None
                }
            }
        };
        let from = self.date(row, p_from, line, "from", errs);
        let until = self.date(row, p_until, line, "until", errs);
        if let (Ok(Some(f)), Ok(Some(u))) = (from, until) {
            if u < f {
                errs.push(line, Some("until"), format!("until {u} ligt voor from {f}"));
                return;
            }
        }
        let (Some(group), Some(weekday), Some(lessons), Ok(from), Ok(until)) =
            (group, day, set, from, until)
        else {
            return;
        };
        let new = TimetableRow {
            group,
            weekday,
            lessons,
            from,
            until,
        };
        if let Some((first, _)) = self
            .rows
            .iter()
            .find(|(_, r)| r.group == new.group && r.weekday == new.weekday && r.overlaps(&new))
        {
            let who = match &new.group {
                Group::Class(c) => format!("klas {c}"),
                Group::Student(s) => format!("leerling {s}"),
            };
            errs.push(
                line,
                Some("from"),
                format!(
                    "{who} heeft op {} al lessen op regel {first} voor (een deel van) dezelfde data",
                    weekday_nl(new.weekday)
                ),
            );
            return;
        }
        self.rows.push((line, new));
    }

    fn finish(self) -> Timetable {
        Timetable {
            rows: self.rows.into_iter().map(|(_, r)| r).collect(),
        }
    }
}

fn sink(cal: &Calendar) -> TimetableSink {
    // The calendar allows lesson numbers 1 to 15 only.
    let known = LessonSet::of(
        cal.years()
            .iter()
            .flat_map(|y| y.lessons.iter().map(|l| l.number)),
    )
    .unwrap_or_default();
    TimetableSink {
        pos: [None; 6],
        known,
        rows: Vec::new(),
    }
}

/// Reads a timetable CSV (any of the encodings and separators of
/// [`crate::read_registrations`]) against the calendar's lesson schedule.
pub fn read_timetable<R: std::io::Read>(
    r: R,
    file: &str,
    cal: &Calendar,
) -> Result<Timetable, ImportErrors> {
    read_csv(r, file, sink(cal))
}

/// Reads a timetable file from disk: a workbook when the extension says so,
/// CSV otherwise.
pub fn read_timetable_file(path: &Path, cal: &Calendar) -> Result<Timetable, ImportErrors> {
    if is_workbook(path) {
        read_workbook(path, sink(cal))
    } else {
        read_timetable(open_csv(path)?, &path.display().to_string(), cal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_calendar;

    fn cal() -> Calendar {
        parse_calendar(
            include_str!("../../../data/calendars/2025-2026-noord.toml"),
            "2025-2026-noord.toml",
        )
        .unwrap()
    }

    fn errors(text: &str) -> Vec<String> {
        let e = read_timetable(text.as_bytes(), "rooster.csv", &cal()).unwrap_err();
        e.errors
            .iter()
            .map(|r| r.in_file(&e.file).to_string())
            .collect()
    }

    #[test]
    fn classes_and_students_with_days_and_ranges_are_read() {
        let text = "class;student_id;weekday;lessons;from;until\n\
                    1A;;ma;1-7;;\n\
                    1A;;dinsdag;1-3,5;;31-12-2025\n\
                    1A;;2;1,2;1-1-2026;\n\
                    ;100001;ma;1,2;;\n";
        let tt = read_timetable(text.as_bytes(), "rooster.csv", &cal()).unwrap();
        assert_eq!(tt.rows.len(), 4);
        assert_eq!(
            tt.rows[1].lessons.numbers().collect::<Vec<_>>(),
            [1, 2, 3, 5]
        );
        assert_eq!(tt.rows[2].weekday, Weekday::Tue);
        assert_eq!(
            tt.rows[3].group,
            Group::Student(StudentId::parse("100001").unwrap())
        );
    }

    #[test]
    fn every_bad_row_is_named() {
        let e = errors(
            "class,student_id,weekday,lessons,from,until\n\
             1A,,za,1-7,,\n\
             1A,,ma,1-9,,\n\
             1A,,di,7-1,,\n\
             ,,wo,1,,\n\
             1A,5,do,1,,\n\
             1A,,vr,1,2026-01-10,2026-01-01\n\
             2B,,ma,1-3,2025-09-01,\n\
             2B,,ma,4-5,2025-12-01,2026-01-31\n",
        );
        assert_eq!(
            e,
            [
                "rooster.csv, regel 2, kolom weekday: 'za' is geen lesdag (ma, di, wo, do, vr of 1 tot 5)",
                "rooster.csv, regel 3, kolom lessons: lesuur 8, 9 staat niet in het lesrooster van de kalender (lesuren: 1, 2, 3, 4, 5, 6, 7)",
                "rooster.csv, regel 4, kolom lessons: '7-1' zijn geen lesuren (schrijf bijvoorbeeld 1-7 of 1,2,4)",
                "rooster.csv, regel 5, kolom class: geef een klas of een leerlingnummer",
                "rooster.csv, regel 6, kolom class: geef een klas of een leerlingnummer, niet allebei",
                "rooster.csv, regel 7, kolom until: until 2026-01-01 ligt voor from 2026-01-10",
                "rooster.csv, regel 9, kolom from: klas 2B heeft op maandag al lessen op regel 8 voor (een deel van) dezelfde data",
            ]
        );
    }

    #[test]
    fn a_header_without_class_or_student_is_refused() {
        let e = errors("weekday,lessons\nma,1-7\n");
        assert!(e[0].contains("class of student_id"), "{e:?}");
    }
}
