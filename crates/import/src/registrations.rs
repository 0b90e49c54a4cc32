//! The registrations table (CSV or XLSX): one row per lesson of a student
//! on a date, checked against the calendar and the policy.
//!
//! Columns: `student_id,date,lesson,minutes,code,category,minutes_late,note`
//! in any order; `student_id`, `date` and `lesson` are required, and at
//! least one of `code` and `category`. Every bad row gets an error naming
//! its line and column; when there is any, nothing is imported.
//!
//! This reader sits on the import path of whole school years (millions of
//! rows), so the per-row work avoids allocation: fields are read as bytes
//! from one reused record, dates are checked by hand, and student numbers
//! and codes are resolved once each and then looked up by their bytes.

use std::collections::hash_map::Entry;
use std::io::{Read, Write};
use std::path::Path;

use aanwezig_domain::{Calendar, Category, DayIdx, Policy, RegistrationRecord, StudentId};
use chrono::{Datelike, NaiveDate, Weekday};

use crate::error::{ErrorList, ImportError, ImportErrors};
use crate::table::{read_csv, read_workbook, FxMap, Row, Sink};
use crate::text::{parse_date, parse_uint, show};

/// The longest note (in characters) a registration may carry.
pub const MAX_NOTE_CHARS: usize = 500;

/// The longest lesson, in minutes (the calendar's own limit).
const MAX_MINUTES: u32 = 600;

const COLUMNS: &[(&str, bool)] = &[
    ("student_id", true),
    ("date", true),
    ("lesson", true),
    ("minutes", false),
    ("code", false),
    ("category", false),
    ("minutes_late", false),
    ("note", false),
];

#[derive(Default)]
struct Cols {
    student_id: usize,
    date: usize,
    lesson: usize,
    minutes: Option<usize>,
    code: Option<usize>,
    category: Option<usize>,
    minutes_late: Option<usize>,
    note: Option<usize>,
}

/// The rows' view of the calendar for one school day.
#[derive(Clone, Copy)]
struct DayInfo {
    date: NaiveDate,
    day: DayIdx,
}

struct RegSink<'a, F> {
    cal: &'a Calendar,
    policy: &'a Policy,
    known: F,
    cols: Cols,
    /// Student number bytes → index into `ids`, or why it is refused.
    students: FxMap<Box<[u8]>, Result<u32, String>>,
    ids: Vec<StudentId>,
    /// Code bytes → the code and its category; `None` when unknown.
    codes: FxMap<Box<[u8]>, Option<(String, Category)>>,
    /// (student, day, lesson) packed → the line that registered it.
    seen: FxMap<u64, u64>,
    /// Rows often come sorted by date: remember the last good one.
    last_date: Option<([u8; 10], DayInfo)>,
    out: Vec<RegistrationRecord>,
}

fn weekday_nl(w: Weekday) -> &'static str {
    match w {
        Weekday::Mon => "maandag",
        Weekday::Tue => "dinsdag",
        Weekday::Wed => "woensdag",
        Weekday::Thu => "donderdag",
        Weekday::Fri => "vrijdag",
        Weekday::Sat => "zaterdag",
        Weekday::Sun => "zondag",
    }
}

impl<F: Fn(&str) -> bool> RegSink<'_, F> {
    fn student(&mut self, b: &[u8], line: u64, errs: &mut ErrorList) -> Option<u32> {
        let report = |entry: &Result<u32, String>, errs: &mut ErrorList| match entry {
            Ok(i) => Some(*i),
            Err(m) => {
                errs.push(line, Some("student_id"), m.clone());
                None
            }
        };
        if let Some(entry) = self.students.get(b) {
            return report(entry, errs);
        }
        let resolved = match std::str::from_utf8(b) {
            Err(_) => Err("leerlingnummer is geen geldige UTF-8-tekst".to_owned()),
            Ok(s) => match StudentId::parse(s) {
                Err(e) => Err(e.to_string()),
                Ok(id) if !(self.known)(id.as_str()) => Err(format!(
                    "leerling {id} is onbekend (niet in de leerlingenlijst)"
                )),
                Ok(id) => {
                    let idx = u32::try_from(self.ids.len()).unwrap_or(u32::MAX);
                    self.ids.push(id);
                    Ok(idx)
                }
            },
        };
        let out = report(&resolved, errs);
        self.students.insert(b.into(), resolved);
        out
    }

    fn date(&mut self, b: &[u8], line: u64, errs: &mut ErrorList) -> Option<DayInfo> {
        if let Some((bytes, info)) = &self.last_date {
            if bytes[..] == *b {
                return Some(*info);
            }
        }
        let Some(date) = parse_date(b) else {
            errs.push(
                line,
                Some("date"),
                format!("'{}' is geen datum JJJJ-MM-DD", show(b)),
            );
            return None;
        };
        match self.cal.index(date) {
            Some(day) => {
                let info = DayInfo { date, day };
                if let Ok(bytes) = <[u8; 10]>::try_from(b) {
                    self.last_date = Some((bytes, info));
                }
                Some(info)
            }
            None => {
                errs.push(line, Some("date"), self.not_a_school_day(date));
                None
            }
        }
    }

    /// Why `date` is not a school day, for people.
    fn not_a_school_day(&self, date: NaiveDate) -> String {
        if self.cal.year_of_date(date).is_none() {
            let spans: Vec<String> = self
                .cal
                .years()
                .iter()
                .map(|y| format!("{} t/m {}", y.first_day, y.last_day))
                .collect();
            return format!(
                "{date} ligt buiten de kalender (schooljaren: {})",
                spans.join(", ")
            );
        }
        let mut why = Vec::new();
        if matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
            why.push(weekday_nl(date.weekday()).to_owned());
        }
        if let Some(f) = self.cal.free_day(date) {
            why.push(f.name.clone());
        }
        if why.is_empty() {
            format!("{date} is geen schooldag")
        } else {
            format!("{date} is geen schooldag ({})", why.join(", "))
        }
    }

    fn code(&mut self, b: &[u8], line: u64, errs: &mut ErrorList) -> Option<(String, Category)> {
        let found = match self.codes.get(b) {
            Some(entry) => entry.clone(),
            None => {
                let resolved = std::str::from_utf8(b)
                    .ok()
                    .and_then(|s| self.policy.category_of(s).map(|c| (s.to_owned(), c)));
                self.codes.insert(b.into(), resolved.clone());
                resolved
            }
        };
        if found.is_none() {
            let mut known: Vec<&str> = self
                .policy
                .codes
                .keys()
                .map(String::as_str)
                .take(30)
                .collect();
            if self.policy.codes.len() > 30 {
                known.push("…");
            }
            let list = if known.is_empty() {
                "het beleid kent geen codes; gebruik de kolom category".to_owned()
            } else {
                format!("bekende codes: {}", known.join(", "))
            };
            errs.push(
                line,
                Some("code"),
                format!("code '{}' staat niet in het beleid ({list})", show(b)),
            );
        }
        found
    }
}

fn category_list() -> String {
    Category::ALL
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[inline]
fn opt_field<R: Row>(row: &R, col: Option<usize>) -> &[u8] {
    col.map_or(&b""[..], |i| row.field(i).trim_ascii())
}

impl<F: Fn(&str) -> bool> Sink for RegSink<'_, F> {
    type Output = Vec<RegistrationRecord>;

    fn columns(&self) -> &'static [(&'static str, bool)] {
        COLUMNS
    }

    fn header(&mut self, p: &[Option<usize>], errs: &mut ErrorList) -> bool {
        self.cols = Cols {
            student_id: p[0].unwrap_or(usize::MAX),
            date: p[1].unwrap_or(usize::MAX),
            lesson: p[2].unwrap_or(usize::MAX),
            minutes: p[3],
            code: p[4],
            category: p[5],
            minutes_late: p[6],
            note: p[7],
        };
        if self.cols.code.is_none() && self.cols.category.is_none() {
            errs.push(
                1,
                None,
                "de kopregel moet een kolom code of category hebben (of beide)".into(),
            );
            return false;
        }
        true
    }

    fn row<R: Row>(&mut self, line: u64, row: &R, errs: &mut ErrorList) {
        let student = self.student(row.field(self.cols.student_id).trim_ascii(), line, errs);
        let day = self.date(row.field(self.cols.date).trim_ascii(), line, errs);

        let lesson_b = row.field(self.cols.lesson).trim_ascii();
        let lesson = parse_uint(lesson_b, u32::from(u8::MAX)).and_then(|n| u8::try_from(n).ok());
        let mut slot_minutes = None;
        match (lesson, day) {
            (None, _) => errs.push(
                line,
                Some("lesson"),
                format!("'{}' is geen lesuur (een geheel getal)", show(lesson_b)),
            ),
            (Some(n), Some(d)) => match self.cal.lesson(d.day, n) {
                Some(slot) => slot_minutes = Some(slot.minutes),
                None => {
                    let year = self.cal.year_of_date(d.date);
                    let (name, list) = year.map_or((String::new(), String::new()), |y| {
                        let nums: Vec<String> =
                            y.lessons.iter().map(|l| l.number.to_string()).collect();
                        (y.name.clone(), nums.join(", "))
                    });
                    errs.push(
                        line,
                        Some("lesson"),
                        format!(
                            "lesuur {n} staat niet in het lesrooster van schooljaar {name} (lesuren: {list})"
                        ),
                    );
                }
            },
            // Without a valid date the schedule is unknown; the date
            // already has its error.
            (Some(_), None) => {}
        }

        let minutes_b = opt_field(row, self.cols.minutes);
        let minutes = if minutes_b.is_empty() {
            slot_minutes
        } else {
            match parse_uint(minutes_b, MAX_MINUTES) {
                Some(m) if m > 0 => u16::try_from(m).ok(),
                _ => {
                    errs.push(
                        line,
                        Some("minutes"),
                        format!(
                            "'{}' is geen lesduur in minuten (1 tot {MAX_MINUTES})",
                            show(minutes_b)
                        ),
                    );
                    None
                }
            }
        };

        let code_b = opt_field(row, self.cols.code);
        let cat_b = opt_field(row, self.cols.category);
        let (code, code_ok) = if code_b.is_empty() {
            (None, true)
        } else {
            match self.code(code_b, line, errs) {
                Some(c) => (Some(c), true),
                None => (None, false),
            }
        };
        let given_cat = if cat_b.is_empty() {
            None
        } else {
            let c = std::str::from_utf8(cat_b).ok().and_then(Category::parse);
            if c.is_none() {
                errs.push(
                    line,
                    Some("category"),
                    format!(
                        "categorie '{}' bestaat niet (kies uit: {})",
                        show(cat_b),
                        category_list()
                    ),
                );
            }
            c
        };
        let category = match (&code, given_cat) {
            (Some((code, from_code)), Some(given)) if *from_code != given => {
                errs.push(
                    line,
                    Some("category"),
                    format!(
                        "code '{code}' betekent {from_code} volgens het beleid, maar category zegt {given}"
                    ),
                );
                None
            }
            (Some((_, c)), _) => Some(*c),
            (None, Some(c)) => Some(c),
            (None, None) => {
                if code_ok && cat_b.is_empty() {
                    errs.push(
                        line,
                        Some("code"),
                        "geef een code of een category (minstens één van beide)".into(),
                    );
                }
                None
            }
        };

        let late_b = opt_field(row, self.cols.minutes_late);
        let minutes_late = if late_b.is_empty() {
            Some(0u16)
        } else {
            match parse_uint(late_b, MAX_MINUTES).and_then(|m| u16::try_from(m).ok()) {
                Some(m) => Some(m),
                None => {
                    errs.push(
                        line,
                        Some("minutes_late"),
                        format!("'{}' is geen aantal minuten", show(late_b)),
                    );
                    None
                }
            }
        };
        if let (Some(ml), Some(cat)) = (minutes_late, category) {
            if ml > 0 && !matches!(cat, Category::LateUnexcused | Category::LateExcused) {
                errs.push(
                    line,
                    Some("minutes_late"),
                    format!(
                        "minutes_late mag alleen bij te laat (late_unexcused of late_excused), niet bij {cat}"
                    ),
                );
            }
        }
        if let (Some(ml), Some(m)) = (minutes_late, minutes) {
            if ml > m {
                errs.push(
                    line,
                    Some("minutes_late"),
                    format!("minutes_late ({ml}) is meer dan de les duurt ({m} minuten)"),
                );
            }
        }

        let note_b = opt_field(row, self.cols.note);
        let mut note = None;
        if !note_b.is_empty() {
            match std::str::from_utf8(note_b) {
                Err(_) => errs.push(
                    line,
                    Some("note"),
                    "de notitie is geen geldige UTF-8-tekst".into(),
                ),
                Ok(s) => {
                    let n = s.chars().count();
                    if n > MAX_NOTE_CHARS {
                        errs.push(
                            line,
                            Some("note"),
                            format!("de notitie is {n} tekens lang; maximaal {MAX_NOTE_CHARS}"),
                        );
                    } else if category == Some(Category::ReportedSick) {
                        // rules.md §5: the nature of an illness is never
                        // recorded, so a sick lesson carries no free text.
                        errs.push(
                            line,
                            Some("note"),
                            "een notitie bij een ziekmelding (reported_sick) is niet toegestaan: \
                             de aard van een ziekte wordt nooit vastgelegd (privacy)"
                                .into(),
                        );
                    } else {
                        note = Some(s);
                    }
                }
            }
        }

        if let (Some(s), Some(d), Some(n)) = (student, day, lesson) {
            let key = (u64::from(s) << 24) | (u64::from(d.day) << 8) | u64::from(n);
            match self.seen.entry(key) {
                Entry::Occupied(first) => errs.push(
                    line,
                    Some("lesson"),
                    format!(
                        "leerling {} heeft op {} lesuur {n} al op regel {} (dubbele registratie)",
                        self.ids[s as usize],
                        d.date,
                        first.get()
                    ),
                ),
                Entry::Vacant(v) => {
                    v.insert(line);
                }
            }
        }

        // All or nothing: once any row failed, stop building output.
        if !errs.is_empty() {
            return;
        }
        if let (Some(s), Some(d), Some(lesson), Some(minutes), Some(category), Some(ml)) =
            (student, day, lesson, minutes, category, minutes_late)
        {
            self.out.push(RegistrationRecord {
                student: self.ids[s as usize].clone(),
                date: d.date,
                lesson,
                minutes,
                code: code.map(|(c, _)| c),
                category,
                minutes_late: ml,
                note: note.map(str::to_owned),
            });
        }
    }

    fn finish(self) -> Vec<RegistrationRecord> {
        self.out
    }
}

fn sink<'a, F: Fn(&str) -> bool>(cal: &'a Calendar, policy: &'a Policy, known: F) -> RegSink<'a, F> {
    RegSink {
        cal,
        policy,
        known,
        cols: Cols::default(),
        students: FxMap::default(),
        ids: Vec::new(),
        codes: FxMap::default(),
        seen: FxMap::default(),
        last_date: None,
        out: Vec::new(),
    }
}

/// Reads a registrations CSV (UTF-8, a BOM is allowed) and checks every
/// row against the calendar, the policy's codes and the known students.
///
/// `is_known_student` is asked once per distinct student number. When any
/// row is wrong, nothing is returned and the error lists every problem.
pub fn read_registrations<R: Read>(
    r: R,
    file: &str,
    cal: &Calendar,
    policy: &Policy,
    is_known_student: impl Fn(&str) -> bool,
) -> Result<Vec<RegistrationRecord>, ImportErrors> {
    read_csv(r, file, sink(cal, policy, is_known_student))
}

/// Reads the first sheet of a workbook with the same columns and checks as
/// [`read_registrations`].
pub fn read_registrations_xlsx(
    path: &Path,
    cal: &Calendar,
    policy: &Policy,
    is_known_student: impl Fn(&str) -> bool,
) -> Result<Vec<RegistrationRecord>, ImportErrors> {
    read_workbook(path, sink(cal, policy, is_known_student))
}

/// Formats `v` into `buf` and returns the digits.
fn digits(mut v: u32, buf: &mut [u8; 10]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        // v % 10 < 10
        #[expect(clippy::cast_possible_truncation, reason = "a single digit")]
        let d = (v % 10) as u8;
        buf[i] = b'0' + d;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    &buf[i..]
}

fn date_bytes(d: NaiveDate) -> [u8; 10] {
    let mut out = *b"0000-00-00";
    let y = u32::try_from(d.year()).unwrap_or(0);
    for (i, v) in [(0, y / 1000 % 10), (1, y / 100 % 10), (2, y / 10 % 10), (3, y % 10)] {
        #[expect(clippy::cast_possible_truncation, reason = "a single digit")]
        let v = v as u8;
        out[i] = b'0' + v;
    }
    for (i, v) in [(5, d.month()), (8, d.day())] {
        #[expect(clippy::cast_possible_truncation, reason = "two digits")]
        let (hi, lo) = ((v / 10) as u8, (v % 10) as u8);
        out[i] = b'0' + hi;
        out[i + 1] = b'0' + lo;
    }
    out
}

/// Writes the canonical registrations CSV. Both `code` (when the record
/// has one) and `category` are written, `minutes` always, `minutes_late`
/// only when above zero.
pub fn write_registrations<W: Write>(
    w: W,
    records: &[RegistrationRecord],
) -> Result<(), ImportError> {
    let io = |e: csv::Error| ImportError::Io {
        file: "registraties".into(),
        source: e.into(),
    };
    let mut wtr = csv::WriterBuilder::new()
        .buffer_capacity(1 << 16)
        .from_writer(w);
    wtr.write_record(COLUMNS.iter().map(|(c, _)| *c))
        .map_err(io)?;
    let (mut b1, mut b2, mut b3) = ([0u8; 10], [0u8; 10], [0u8; 10]);
    for r in records {
        let late: &[u8] = if r.minutes_late > 0 {
            digits(u32::from(r.minutes_late), &mut b3)
        } else {
            b""
        };
        wtr.write_record([
            r.student.as_str().as_bytes(),
            &date_bytes(r.date),
            digits(u32::from(r.lesson), &mut b1),
            digits(u32::from(r.minutes), &mut b2),
            r.code.as_deref().unwrap_or("").as_bytes(),
            r.category.as_str().as_bytes(),
            late,
            r.note.as_deref().unwrap_or("").as_bytes(),
        ])
        .map_err(io)?;
    }
    wtr.flush().map_err(|source| ImportError::Io {
        file: "registraties".into(),
        source,
    })
}
