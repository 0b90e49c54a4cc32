//! The registrations table (CSV or XLSX): one row per lesson of a student
//! on a date, checked against the calendar and the policy.
//!
//! Columns: `student_id,date,lesson,minutes,code,category,minutes_late,note`
//! in any order; `student_id`, `date` and `lesson` are required, and at
//! least one of `code` and `category`. Every bad row gets an error naming
//! its line and column; when there is any, nothing is imported.
//!
//! This reader sits on the import path of whole school years (millions of
//! rows), so the per-row work is kept small: fields are read as bytes from
//! one reused record, dates are checked by hand, student numbers and codes
//! are resolved once each and then looked up by their bytes, and the only
//! allocations are the strings the output record owns (its student number
//! and code). Duplicates are found in a dense per-student table of
//! `days × 16` line numbers (about 12 KB per student per school year).

use std::io::{Read, Write};
use std::path::Path;

use std::collections::BTreeMap;

use aanwezig_domain::{
    Calendar, Category, DayIdx, Policy, Registration, RegistrationRecord, StudentId, WeekSchedule,
};
use chrono::{Datelike, NaiveDate, Weekday};

use crate::error::{ErrorList, ImportErrors};
use crate::mapping::{field_of, parse_excused, Format, ImportSettings, Kind};
use crate::table::{either_column, is_workbook, open_csv, read_csv, FastMap, Row, Sink};
use crate::text::{parse_date_nl, parse_moment_nl, parse_uint, show, weekday_nl};
use crate::workbook::read_workbook;

/// The longest note (in characters) a registration may carry.
pub const MAX_NOTE_CHARS: usize = 500;

/// Lesson numbers run from 1 to 15 (the calendar's limit): 16 slots a day.
const LESSON_SLOTS: usize = 16;

/// The longest lesson, in minutes (the calendar's own limit).
const MAX_MINUTES: u32 = 600;

/// A file of one row per lesson (aanwezig's own, Magister's).
const LESSON_COLUMNS: &[(&str, bool)] = &[
    ("student_id", true),
    ("date", true),
    ("lesson", true),
    ("minutes", false),
    ("code", false),
    ("category", false),
    ("minutes_late", false),
    ("note", false),
    ("description", false),
    ("excused", false),
    ("kind", false),
];

/// The columns aanwezig writes (`write_registrations`): the first eight
/// of [`LESSON_COLUMNS`].
const COLUMNS: &[(&str, bool)] = LESSON_COLUMNS.split_at(8).0;

/// A file of one row per period (Somtoday's absence reports).
const PERIOD_COLUMNS: &[(&str, bool)] = &[
    ("student_id", true),
    ("begin", true),
    ("end", false),
    ("begin_lesson", false),
    ("end_lesson", false),
    ("code", false),
    ("category", false),
    ("minutes_late", false),
    ("note", false),
    ("description", false),
    ("excused", false),
    ("kind", false),
];

/// Positions of the columns in the file (`usize::MAX`: absent, reads
/// empty).
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
    excused: Option<usize>,
    kind: Option<usize>,
    begin: usize,
    end: Option<usize>,
    begin_lesson: Option<usize>,
    end_lesson: Option<usize>,
}

/// The rows' view of the calendar for one school day.
#[derive(Clone, Copy)]
struct DayInfo {
    date: NaiveDate,
    day: DayIdx,
}

/// The timetable's week of a student, by student number.
pub type WeekOf<'a> = dyn Fn(&str) -> Option<WeekSchedule> + 'a;

/// How a registrations file is read beyond its rows: the school's import
/// settings (format and column names), the timetable (to expand periods)
/// and where a period without an end stops.
#[derive(Clone, Copy)]
pub struct ReadOptions<'a> {
    pub settings: &'a ImportSettings,
    /// The timetable's week of a student (by number); `None` for a
    /// student, or no function at all, means the calendar's lesson
    /// schedule.
    pub week_of: Option<&'a WeekOf<'a>>,
    /// The last day of a period that has no end (a sick report still
    /// open): the caller's today, or the end of the import's period.
    pub open_until: Option<NaiveDate>,
}

static CANONICAL: ImportSettings = ImportSettings {
    format: Format::Canonical,
    columns: BTreeMap::new(),
    presence: None,
};

impl ReadOptions<'static> {
    /// aanwezig's own format, no saved column names, no timetable.
    pub fn canonical() -> ReadOptions<'static> {
        ReadOptions {
            settings: &CANONICAL,
            week_of: None,
            open_until: None,
        }
    }
}

impl<'a> ReadOptions<'a> {
    /// These settings, without a timetable.
    pub fn with(settings: &'a ImportSettings) -> ReadOptions<'a> {
        ReadOptions {
            settings,
            week_of: None,
            open_until: None,
        }
    }
}

/// What a read found besides the rows: for the preview and the summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadReport {
    /// Each column read, with the file's own name for it.
    pub columns: Vec<(&'static str, String)>,
    /// Header names that were passed over.
    pub other_columns: Vec<String>,
    /// The first and the last school day with a registration.
    pub first: Option<NaiveDate>,
    pub last: Option<NaiveDate>,
    /// Codes not in the policy whose category came from the file's kind
    /// and "geoorloofd" columns: per code, the rows per category.
    pub derived: BTreeMap<String, BTreeMap<Category, u64>>,
    /// Periods in the file (Somtoday), and how many of them ran through a
    /// holiday or another free weekday (those days are left out).
    pub periods: u64,
    pub periods_over_free_days: u64,
}

impl ReadReport {
    /// The derived codes that always gave one category: the school can
    /// add these to its policy as they are.
    pub fn codes_to_add(&self) -> Vec<(String, Category)> {
        self.derived
            .iter()
            .filter(|(_, cats)| cats.len() == 1)
            .filter_map(|(code, cats)| cats.keys().next().map(|c| (code.clone(), *c)))
            .collect()
    }

    /// What the school should know about this file, in Dutch.
    pub fn notes(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (code, cats) in &self.derived {
            let parts: Vec<String> = cats
                .iter()
                .map(|(c, n)| format!("{} ({n} {})", c.label_nl(), lessons_word(*n)))
                .collect();
            let advice = if cats.len() == 1 {
                "voeg de code toe aan het beleid om dat zo te houden"
            } else {
                "de code betekent in dit bestand niet steeds hetzelfde; leg de code vast in het beleid"
            };
            out.push(format!(
                "Code '{code}' staat niet in het beleid; afgeleid uit soort en geoorloofd: {}. {}.",
                parts.join(", "),
                uppercase_first(advice)
            ));
        }
        if self.periods_over_free_days > 0 {
            out.push(format!(
                "{} van de {} {} door een vakantie of vrije dag; alleen de schooldagen zijn meegeteld.",
                self.periods_over_free_days,
                self.periods,
                if self.periods_over_free_days == 1 { "perioden loopt" } else { "perioden lopen" }
            ));
        }
        out
    }
}

fn lessons_word(n: u64) -> &'static str {
    if n == 1 {
        "les"
    } else {
        "lessen"
    }
}

fn uppercase_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// The line that registered each (student, school day, lesson), 0 when
/// none did.
enum Seen {
    /// Per student (by index) a table of every school day and lesson
    /// number: for files of every lesson. Dense rather than a hash map
    /// because a map of a million random keys spends most of the reader's
    /// time on cache misses, while one student's rows usually sit together
    /// in the file and so hit the same few cache lines.
    Dense(Vec<Box<[u32]>>),
    /// By (student, day × 16 + lesson): for files of absences only, where
    /// a table of the whole year per student would be nearly empty.
    Sparse(FastMap<u64, u32>),
}

/// Where a streaming read hands its batches.
type BatchSink<'a> = dyn FnMut(Vec<RegistrationRecord>) + 'a;

/// One row's meaning, before it becomes one or more lessons.
struct Reason {
    code: Option<String>,
    /// The code is not in the policy; its category came from the row.
    derived: bool,
    category: Category,
    minutes_late: u16,
    note: Option<String>,
}

struct RegSink<'a, F> {
    cal: &'a Calendar,
    policy: &'a Policy,
    options: ReadOptions<'a>,
    known: F,
    cols: Cols,
    /// Student number bytes → index into `ids`, or why it is refused.
    students: FastMap<Box<[u8]>, Result<u32, String>>,
    ids: Vec<StudentId>,
    /// Per student (by index), the timetable's week (periods only).
    weeks: Vec<Option<WeekSchedule>>,
    /// Code bytes → the code and its category; `None` when not in the
    /// policy.
    codes: FastMap<Box<[u8]>, Option<(String, Category)>>,
    /// Which lessons were registered, and on which line.
    seen: Seen,
    /// Rows often come sorted by date: remember the last good one (its
    /// text, up to ten bytes, and their number).
    last_date: Option<(u8, [u8; 10], DayInfo)>,
    /// The first and last school day registered.
    span: Option<(DayIdx, DayIdx)>,
    report: ReadReport,
    out: Vec<RegistrationRecord>,
    /// When set, `out` is handed over here every `batch` records (and the
    /// rest at the end), so that the reader never holds more than a batch.
    flush: Option<(usize, &'a mut BatchSink<'a>)>,
    /// When set, rows go here in engine form instead (per student, by the
    /// index into `ids`, in file order): no allocation per row.
    compact: Option<Vec<Vec<Registration>>>,
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
                    if self.options.settings.format.is_periods() {
                        let week = self.options.week_of.and_then(|f| f(id.as_str()));
                        self.weeks.push(week);
                    }
                    self.ids.push(id);
                    if let Seen::Dense(tables) = &mut self.seen {
                        tables.push(vec![0; self.cal.len() * LESSON_SLOTS].into_boxed_slice());
                    }
                    Ok(idx)
                }
            },
        };
        let out = report(&resolved, errs);
        self.students.insert(b.into(), resolved);
        out
    }

    fn date(&mut self, b: &[u8], line: u64, errs: &mut ErrorList) -> Option<DayInfo> {
        if let Some((len, bytes, info)) = &self.last_date {
            if bytes[..usize::from(*len)] == *b {
                return Some(*info);
            }
        }
        let date = match parse_date_nl(b) {
            Ok(date) => date,
            Err(problem) => {
                errs.push(line, Some("date"), problem.message(b));
                return None;
            }
        };
        match self.cal.index(date) {
            Some(day) => {
                let info = DayInfo { date, day };
                if let (Ok(len), true) = (u8::try_from(b.len()), b.len() <= 10) {
                    let mut bytes = [0u8; 10];
                    bytes[..b.len()].copy_from_slice(b);
                    self.last_date = Some((len, bytes, info));
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
            return self.outside_calendar(date);
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

    fn outside_calendar(&self, date: NaiveDate) -> String {
        let spans: Vec<String> = self
            .cal
            .years()
            .iter()
            .map(|y| format!("{} tot en met {}", y.first_day, y.last_day))
            .collect();
        format!(
            "{date} ligt buiten de kalender (schooljaren: {})",
            spans.join(", ")
        )
    }

    /// The code's meaning in the policy, looked up once per distinct code:
    /// `None` when the policy does not have it.
    fn policy_code(&mut self, b: &[u8]) -> Option<(String, Category)> {
        if let Some(entry) = self.codes.get(b) {
            return entry.clone();
        }
        let resolved = std::str::from_utf8(b)
            .ok()
            .and_then(|s| self.policy.category_of(s).map(|c| (s.to_owned(), c)));
        self.codes.insert(b.into(), resolved.clone());
        resolved
    }

    /// The code's meaning: from the policy, or else derived from the
    /// row's kind and "geoorloofd" (and then counted in the report).
    fn code<R: Row>(
        &mut self,
        b: &[u8],
        row: &R,
        line: u64,
        errs: &mut ErrorList,
    ) -> Option<(String, Category, bool)> {
        if let Some((code, category)) = self.policy_code(b) {
            return Some((code, category, false));
        }
        let known = || {
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
            if known.is_empty() {
                "het beleid kent geen codes; gebruik de kolom category".to_owned()
            } else {
                format!("bekende codes: {}", known.join(", "))
            }
        };
        let Some(kind_col) = self.cols.kind else {
            errs.push(
                line,
                Some("code"),
                format!("code '{}' staat niet in het beleid ({})", show(b), known()),
            );
            return None;
        };
        let kind_b = row.field(kind_col).trim_ascii();
        let kind = std::str::from_utf8(kind_b).ok().and_then(Kind::parse);
        let excused_b = opt_field(row, self.cols.excused);
        let excused = match std::str::from_utf8(excused_b).map(parse_excused) {
            Ok(Some(e)) => e,
            _ => {
                errs.push(
                    line,
                    Some("excused"),
                    format!("'{}' is geen ja of nee", show(excused_b)),
                );
                return None;
            }
        };
        let Some(kind) = kind else {
            errs.push(
                line,
                Some("code"),
                format!(
                    "code '{}' staat niet in het beleid en soort '{}' is onbekend, dus de categorie is niet af te leiden \
                     (bekende soorten: 1 absent, 2 te laat, 3 ziek, 4 verwijderd, 6 vrijstelling, 7 en 8 vergeten; {})",
                    show(b),
                    show(kind_b),
                    known()
                ),
            );
            return None;
        };
        let code = String::from_utf8_lossy(b).into_owned();
        let category = kind.category(excused);
        Some((code, category, true))
    }

    /// Counts a derived code's lessons for the report.
    fn count_derived(&mut self, code: &str, category: Category, lessons: u64) {
        *self
            .report
            .derived
            .entry(code.to_owned())
            .or_default()
            .entry(category)
            .or_default() += lessons;
    }

    /// The row's code, category, minutes late and note, checked.
    fn reason<R: Row>(&mut self, line: u64, row: &R, errs: &mut ErrorList) -> Option<Reason> {
        let code_b = opt_field(row, self.cols.code);
        let cat_b = opt_field(row, self.cols.category);
        let (code, code_ok) = if code_b.is_empty() {
            (None, true)
        } else {
            match self.code(code_b, row, line, errs) {
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
            (Some((code, from_code, _)), Some(given)) if *from_code != given => {
                errs.push(
                    line,
                    Some("category"),
                    format!(
                        "code '{code}' betekent '{}' volgens het beleid, maar category zegt '{}' ({given})",
                        from_code.label_nl(),
                        given.label_nl()
                    ),
                );
                None
            }
            (Some((_, c, _)), _) => Some(*c),
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
                        "minutes_late (minuten te laat) mag alleen bij te laat komen (late_unexcused of late_excused), niet bij {cat} ({})",
                        cat.label_nl()
                    ),
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
                            format!("de notitie is {n} tekens lang; hoogstens {MAX_NOTE_CHARS}"),
                        );
                    } else if category == Some(Category::ReportedSick) {
                        // rules.md §5: the nature of an illness is never
                        // recorded, so a sick lesson carries no free text.
                        errs.push(
                            line,
                            Some("note"),
                            "een notitie bij een les die ziek gemeld is, is niet toegestaan: \
                             de aard van een ziekte wordt nooit vastgelegd (privacy)"
                                .into(),
                        );
                    } else {
                        note = Some(s.to_owned());
                    }
                }
            }
        }
        let derived = code.as_ref().is_some_and(|(_, _, d)| *d);
        Some(Reason {
            code: code.map(|(c, _, _)| c),
            derived,
            category: category?,
            minutes_late: minutes_late?,
            note,
        })
    }

    /// A lesson number field: `None` (with an error) when it is no number.
    fn lesson_number(
        &self,
        b: &[u8],
        line: u64,
        column: &'static str,
        errs: &mut ErrorList,
    ) -> Option<u8> {
        let n = parse_uint(b, u32::from(u8::MAX)).and_then(|n| u8::try_from(n).ok());
        if n.is_none() {
            errs.push(
                line,
                Some(column),
                format!("'{}' is geen lesuur (een geheel getal)", show(b)),
            );
        }
        n
    }

    /// Lesson `n` of day `d`'s schedule, or an error naming the schedule.
    fn slot(
        &self,
        d: DayInfo,
        n: u8,
        line: u64,
        column: &'static str,
        errs: &mut ErrorList,
    ) -> Option<u16> {
        if let Some(slot) = self.cal.lesson(d.day, n) {
            return Some(slot.minutes);
        }
        let year = self.cal.year_of_date(d.date);
        let (name, list) = year.map_or((String::new(), String::new()), |y| {
            let nums: Vec<String> = y.lessons.iter().map(|l| l.number.to_string()).collect();
            (y.name.clone(), nums.join(", "))
        });
        errs.push(
            line,
            Some(column),
            format!(
                "lesuur {n} staat niet in het lesrooster van schooljaar {name} (lesuren: {list})"
            ),
        );
        None
    }

    /// A row of one lesson (aanwezig's own format, Magister).
    fn lesson_row<R: Row>(&mut self, line: u64, row: &R, errs: &mut ErrorList) {
        let student = self.student(row.field(self.cols.student_id).trim_ascii(), line, errs);
        let day = self.date(row.field(self.cols.date).trim_ascii(), line, errs);

        let lesson_b = row.field(self.cols.lesson).trim_ascii();
        let lesson = self.lesson_number(lesson_b, line, "lesson", errs);
        // Without a valid date the schedule is unknown; the date already
        // has its error.
        let slot_minutes = match (lesson, day) {
            (Some(n), Some(d)) => self.slot(d, n, line, "lesson", errs),
            _ => None,
        };

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

        let reason = self.reason(line, row, errs);
        if let (Some(r), Some(m)) = (&reason, minutes) {
            if r.minutes_late > m {
                errs.push(
                    line,
                    Some("minutes_late"),
                    format!(
                        "minutes_late ({}) is meer dan de les duurt ({m} minuten)",
                        r.minutes_late
                    ),
                );
            }
        }
        // Only a lesson of the schedule gets past `slot_minutes`.
        let (Some(s), Some(d), Some(n), Some(_)) = (student, day, lesson, slot_minutes) else {
            return;
        };
        self.check_twice(s, d, n, line, errs);
        if let (Some(r), Some(minutes)) = (reason, minutes) {
            if let (true, Some(code)) = (r.derived, &r.code) {
                self.count_derived(code, r.category, 1);
            }
            self.emit(s, d, n, minutes, r, errs);
        }
    }

    /// Whether student `s` already has lesson `n` on day `d`: an error
    /// naming the earlier line.
    fn check_twice(&mut self, s: u32, d: DayInfo, n: u8, line: u64, errs: &mut ErrorList) {
        let at = usize::from(d.day) * LESSON_SLOTS + usize::from(n);
        let first = match &mut self.seen {
            Seen::Dense(tables) => tables.get_mut(s as usize).and_then(|v| v.get_mut(at)),
            Seen::Sparse(map) => Some(map.entry((u64::from(s) << 32) | at as u64).or_insert(0)),
        };
        if let Some(first) = first {
            if *first == 0 {
                *first = u32::try_from(line).unwrap_or(u32::MAX);
            } else {
                let earlier = *first;
                errs.push(
                    line,
                    Some("lesson"),
                    format!(
                        "leerling {} heeft op {} lesuur {n} al op regel {earlier} (dubbele registratie)",
                        self.ids[s as usize], d.date
                    ),
                );
            }
        }
    }

    /// Hands over one checked lesson, as long as no row had an error (all
    /// or nothing: once one did, output stops).
    fn emit(&mut self, s: u32, d: DayInfo, lesson: u8, minutes: u16, r: Reason, errs: &ErrorList) {
        if !errs.is_empty() {
            return;
        }
        self.span = Some(match self.span {
            None => (d.day, d.day),
            Some((a, b)) => (a.min(d.day), b.max(d.day)),
        });
        if let Some(compact) = &mut self.compact {
            let s = s as usize;
            if compact.len() <= s {
                compact.resize_with(s + 1, Vec::new);
            }
            compact[s].push(Registration {
                day: d.day,
                minutes,
                minutes_late: r.minutes_late,
                lesson,
                category: r.category,
            });
            return;
        }
        self.out.push(RegistrationRecord {
            student: self.ids[s as usize].clone(),
            date: d.date,
            lesson,
            minutes,
            code: r.code,
            category: r.category,
            minutes_late: r.minutes_late,
            note: r.note,
        });
        if let Some((batch, flush)) = &mut self.flush {
            if self.out.len() >= *batch {
                let full = std::mem::replace(&mut self.out, Vec::with_capacity(*batch));
                flush(full);
            }
        }
    }

    /// A begin or end field: the local date, or `None` with an error.
    fn moment(
        &self,
        b: &[u8],
        line: u64,
        column: &'static str,
        errs: &mut ErrorList,
    ) -> Option<(NaiveDate, bool)> {
        match parse_moment_nl(b) {
            Ok(m) => Some(m),
            Err(msg) => {
                errs.push(line, Some(column), msg);
                None
            }
        }
    }

    /// A row of one period (Somtoday): every lesson the student has on
    /// the school days from its begin to its end, from its first lesson
    /// on the first day to its last on the last.
    fn period_row<R: Row>(&mut self, line: u64, row: &R, errs: &mut ErrorList) {
        self.report.periods += 1;
        let student = self.student(row.field(self.cols.student_id).trim_ascii(), line, errs);
        let begin_b = row.field(self.cols.begin).trim_ascii();
        let begin = if begin_b.is_empty() {
            errs.push(
                line,
                Some("begin"),
                "het begin van de periode ontbreekt".into(),
            );
            None
        } else {
            self.moment(begin_b, line, "begin", errs).map(|(d, _)| d)
        };
        let end_b = opt_field(row, self.cols.end);
        let end = if end_b.is_empty() {
            match self.options.open_until {
                // An open period lasts until today (or the import's end),
                // within the calendar.
                Some(u) => {
                    let last = self.cal.years().iter().map(|y| y.last_day).max();
                    let u = last.map_or(u, |l| u.min(l));
                    Some(begin.map_or(u, |b| u.max(b)))
                }
                None => {
                    errs.push(
                        line,
                        Some("end"),
                        "het einde van de periode ontbreekt; vul bij \"Tot en met\" een datum in (in de opdrachtregel: --until)".into(),
                    );
                    None
                }
            }
        } else {
            self.moment(end_b, line, "end", errs).map(|(d, midnight)| {
                // An end at midnight closes the day before (unless the
                // period is no longer than that).
                match (midnight, begin) {
                    (true, Some(b)) if d > b => d.pred_opt().unwrap_or(d),
                    _ => d,
                }
            })
        };
        let lesson_field = |cols: Option<usize>, column: &'static str, errs: &mut ErrorList| {
            let b = opt_field(row, cols);
            if b.is_empty() {
                Ok(None)
            } else {
                self.lesson_number(b, line, column, errs)
                    .map(Some)
                    .ok_or(())
            }
        };
        let first_lesson = lesson_field(self.cols.begin_lesson, "begin_lesson", errs);
        let last_lesson = lesson_field(self.cols.end_lesson, "end_lesson", errs);
        let reason = self.reason(line, row, errs);

        let (Some(begin), Some(end), Ok(first_lesson), Ok(last_lesson)) =
            (begin, end, first_lesson, last_lesson)
        else {
            return;
        };
        if end < begin {
            errs.push(
                line,
                Some("end"),
                format!("het einde ({end}) ligt voor het begin ({begin})"),
            );
            return;
        }
        for (date, column) in [(begin, "begin"), (end, "end")] {
            if self.cal.year_of_date(date).is_none() {
                errs.push(line, Some(column), self.outside_calendar(date));
                return;
            }
        }
        if let (true, Some(a), Some(b)) = (begin == end, first_lesson, last_lesson) {
            if b < a {
                errs.push(
                    line,
                    Some("end_lesson"),
                    format!("het laatste lesuur ({b}) ligt voor het eerste ({a})"),
                );
                return;
            }
        }
        // The school days of the period, through the calendar (days without
        // school are skipped, so a crafted period of a century costs no
        // more than the calendar has days).
        let Some(from) = self.cal.on_or_after(begin) else {
            return;
        };
        let days: Vec<DayIdx> = (from..)
            .take_while(|&d| usize::from(d) < self.cal.len() && self.cal.date(d) <= end)
            .collect();
        if days.is_empty() {
            errs.push(
                line,
                Some("begin"),
                format!("de periode {begin} tot en met {end} heeft geen schooldag"),
            );
            return;
        }
        let free_weekdays = aanwezig_domain::calendar::dates(begin, end)
            .filter(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
            .count()
            > days.len();
        if free_weekdays {
            self.report.periods_over_free_days += 1;
        }
        let Some(s) = student else {
            return;
        };
        // The lessons: the first and last lesson must be in that day's
        // schedule.
        let first_day = DayInfo {
            date: self.cal.date(days[0]),
            day: days[0],
        };
        let last_day = DayInfo {
            date: self.cal.date(days[days.len() - 1]),
            day: days[days.len() - 1],
        };
        if let Some(n) = first_lesson {
            if begin == first_day.date
                && self
                    .slot(first_day, n, line, "begin_lesson", errs)
                    .is_none()
            {
                return;
            }
        }
        if let Some(n) = last_lesson {
            if end == last_day.date && self.slot(last_day, n, line, "end_lesson", errs).is_none() {
                return;
            }
        }
        let Some(reason) = reason else {
            return;
        };
        let week = self.weeks.get(s as usize).and_then(Option::as_ref).cloned();
        let mut lessons: Vec<(DayInfo, u8, u16)> = Vec::new();
        for &day in &days {
            let d = DayInfo {
                date: self.cal.date(day),
                day,
            };
            let set = aanwezig_domain::engine::day_lessons(self.cal, week.as_ref(), day);
            for n in set.numbers() {
                if (d.date == begin && first_lesson.is_some_and(|f| n < f))
                    || (d.date == end && last_lesson.is_some_and(|l| n > l))
                {
                    continue;
                }
                if let Some(slot) = self.cal.lesson(day, n) {
                    lessons.push((d, n, slot.minutes));
                }
            }
        }
        if reason.minutes_late > 0 && lessons.len() != 1 {
            errs.push(
                line,
                Some("minutes_late"),
                format!(
                    "minuten te laat kan alleen bij een periode van één les; deze periode heeft er {}",
                    lessons.len()
                ),
            );
            return;
        }
        if let (true, Some(code)) = (reason.derived, &reason.code) {
            self.count_derived(code, reason.category, lessons.len() as u64);
        }
        for (d, n, minutes) in lessons {
            self.check_twice(s, d, n, line, errs);
            if reason.minutes_late > minutes {
                errs.push(
                    line,
                    Some("minutes_late"),
                    format!(
                        "minutes_late ({}) is meer dan de les duurt ({minutes} minuten)",
                        reason.minutes_late
                    ),
                );
            }
            let r = Reason {
                code: reason.code.clone(),
                derived: reason.derived,
                category: reason.category,
                minutes_late: reason.minutes_late,
                note: reason.note.clone(),
            };
            self.emit(s, d, n, minutes, r, errs);
        }
    }
}

/// The categories as a file may name them, each with its Dutch meaning:
/// `present (aanwezig), …, reported_sick (ziek gemeld), …`.
fn category_list() -> String {
    Category::ALL
        .iter()
        .map(|c| format!("{} ({})", c.as_str(), c.label_nl()))
        .collect::<Vec<_>>()
        .join(", ")
}

#[inline]
fn opt_field<R: Row>(row: &R, col: Option<usize>) -> &[u8] {
    col.map_or(&b""[..], |i| row.field(i).trim_ascii())
}

impl<F: Fn(&str) -> bool> Sink for RegSink<'_, F> {
    type Output = (Vec<RegistrationRecord>, ReadReport);

    fn columns(&self) -> &'static [(&'static str, bool)] {
        if self.options.settings.format.is_periods() {
            PERIOD_COLUMNS
        } else {
            LESSON_COLUMNS
        }
    }

    fn column_of(&self, name: &str) -> Option<usize> {
        let field = field_of(self.options.settings, name)?;
        self.columns().iter().position(|(c, _)| *c == field)
    }

    fn passes_over_other_columns(&self) -> bool {
        self.options.settings.format != Format::Canonical
    }

    fn header_names(&mut self, used: &[(&'static str, String)], other: &[String]) {
        self.report.columns = used.to_vec();
        self.report.other_columns = other.to_vec();
    }

    fn header(&mut self, p: &[Option<usize>], errs: &mut ErrorList) -> bool {
        let at = |name: &str| {
            self.columns()
                .iter()
                .position(|(c, _)| *c == name)
                .and_then(|i| p[i])
        };
        self.cols = Cols {
            student_id: at("student_id").unwrap_or(usize::MAX),
            date: at("date").unwrap_or(usize::MAX),
            lesson: at("lesson").unwrap_or(usize::MAX),
            minutes: at("minutes"),
            code: at("code"),
            category: at("category"),
            minutes_late: at("minutes_late"),
            note: at("note"),
            excused: at("excused"),
            kind: at("kind"),
            begin: at("begin").unwrap_or(usize::MAX),
            end: at("end"),
            begin_lesson: at("begin_lesson"),
            end_lesson: at("end_lesson"),
        };
        either_column(
            self.cols.code,
            self.cols.category,
            "de kopregel moet een kolom code of category hebben (of beide)",
            errs,
        )
    }

    fn row<R: Row>(&mut self, line: u64, row: &R, errs: &mut ErrorList) {
        if self.options.settings.format.is_periods() {
            self.period_row(line, row, errs);
        } else {
            self.lesson_row(line, row, errs);
        }
    }

    fn finish(mut self) -> Self::Output {
        if let Some((_, flush)) = &mut self.flush {
            if !self.out.is_empty() {
                flush(std::mem::take(&mut self.out));
            }
        }
        let report = self.take_report();
        (self.out, report)
    }
}

impl<F> RegSink<'_, F> {
    /// The report, with the span of the lessons read.
    fn take_report(&mut self) -> ReadReport {
        let mut report = std::mem::take(&mut self.report);
        if let Some((a, b)) = self.span {
            report.first = Some(self.cal.date(a));
            report.last = Some(self.cal.date(b));
        }
        report
    }
}

fn sink<'a, F: Fn(&str) -> bool>(
    cal: &'a Calendar,
    policy: &'a Policy,
    options: ReadOptions<'a>,
    known: F,
) -> RegSink<'a, F> {
    RegSink {
        cal,
        policy,
        options,
        known,
        cols: Cols::default(),
        students: FastMap::default(),
        ids: Vec::new(),
        weeks: Vec::new(),
        codes: FastMap::default(),
        // Exports of absences hold a few rows per student: a map costs less
        // there than a table of every lesson of the year per student.
        seen: if options.settings.format != Format::Canonical
            || policy.presence == aanwezig_domain::Presence::Implied
        {
            Seen::Sparse(FastMap::default())
        } else {
            Seen::Dense(Vec::new())
        },
        last_date: None,
        span: None,
        report: ReadReport::default(),
        out: Vec::new(),
        flush: None,
        compact: None,
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
    read_registrations_report(
        r,
        file,
        cal,
        policy,
        ReadOptions::canonical(),
        is_known_student,
    )
    .map(|(records, _)| records)
}

/// [`read_registrations`] in any format, with what the read found
/// besides the rows.
pub fn read_registrations_report<R: Read>(
    r: R,
    file: &str,
    cal: &Calendar,
    policy: &Policy,
    options: ReadOptions<'_>,
    is_known_student: impl Fn(&str) -> bool,
) -> Result<(Vec<RegistrationRecord>, ReadReport), ImportErrors> {
    read_csv(r, file, sink(cal, policy, options, is_known_student))
}

/// Reads the first sheet of a workbook with the same columns and checks as
/// [`read_registrations`].
pub fn read_registrations_xlsx(
    path: &Path,
    cal: &Calendar,
    policy: &Policy,
    is_known_student: impl Fn(&str) -> bool,
) -> Result<Vec<RegistrationRecord>, ImportErrors> {
    read_workbook(
        path,
        sink(cal, policy, ReadOptions::canonical(), is_known_student),
    )
    .map(|(records, _)| records)
}

/// Reads a registrations file from disk: a workbook when the extension
/// says so (`.xlsx`, `.xlsm`, `.xlsb`, `.xls`, `.ods`), CSV otherwise.
pub fn read_registrations_file(
    path: &Path,
    cal: &Calendar,
    policy: &Policy,
    is_known_student: impl Fn(&str) -> bool,
) -> Result<Vec<RegistrationRecord>, ImportErrors> {
    read_registrations_file_report(
        path,
        cal,
        policy,
        ReadOptions::canonical(),
        is_known_student,
    )
    .map(|(records, _)| records)
}

/// [`read_registrations_file`] in any format, with what the read found
/// besides the rows.
pub fn read_registrations_file_report(
    path: &Path,
    cal: &Calendar,
    policy: &Policy,
    options: ReadOptions<'_>,
    is_known_student: impl Fn(&str) -> bool,
) -> Result<(Vec<RegistrationRecord>, ReadReport), ImportErrors> {
    let sink = sink(cal, policy, options, is_known_student);
    if is_workbook(path) {
        read_workbook(path, sink)
    } else {
        let file = path.display().to_string();
        read_csv(open_csv(path)?, &file, sink)
    }
}

/// Reads a registrations file (CSV or workbook, as
/// [`read_registrations_file_report`]) with the same checks, handing the
/// records to `on_batch` in batches of `batch` records while it reads
/// instead of returning them: memory stays bounded by one batch whatever
/// the file's size. Returns the number of records and the report.
///
/// Batches are handed over only as long as no row was wrong; when one is,
/// reading goes on to the end to report every problem, and the error lists
/// them all. A caller that writes batches as they come must therefore
/// undo what it wrote when this returns an error (a transaction).
pub fn stream_registrations_file(
    path: &Path,
    cal: &Calendar,
    policy: &Policy,
    options: ReadOptions<'_>,
    is_known_student: impl Fn(&str) -> bool,
    batch: usize,
    on_batch: &mut dyn FnMut(Vec<RegistrationRecord>),
) -> Result<(u64, ReadReport), ImportErrors> {
    let mut produced = 0u64;
    let mut counted = |records: Vec<RegistrationRecord>| {
        produced += records.len() as u64;
        on_batch(records);
    };
    let mut sink = sink(cal, policy, options, is_known_student);
    sink.flush = Some((batch.max(1), &mut counted));
    let (_, report) = if is_workbook(path) {
        read_workbook(path, sink)?
    } else {
        let file = path.display().to_string();
        read_csv(open_csv(path)?, &file, sink)?
    };
    Ok((produced, report))
}

/// Reads a registrations file (CSV or workbook) with the same checks as
/// [`read_registrations_file_report`], straight into the engine's compact
/// form: per student (in the order they first appear) their lessons in
/// file order, eight bytes each, without codes and notes and without any
/// allocation per row. For evaluating files without a database.
pub fn read_registrations_compact(
    path: &Path,
    cal: &Calendar,
    policy: &Policy,
    options: ReadOptions<'_>,
    is_known_student: impl Fn(&str) -> bool,
) -> Result<Vec<(StudentId, Vec<Registration>)>, ImportErrors> {
    let mut inner = sink(cal, policy, options, is_known_student);
    inner.compact = Some(Vec::new());
    let sink = CompactSink(inner);
    if is_workbook(path) {
        read_workbook(path, sink)
    } else {
        let file = path.display().to_string();
        read_csv(open_csv(path)?, &file, sink)
    }
}

/// A [`RegSink`] in compact mode, giving its per-student lessons.
struct CompactSink<'a, F>(RegSink<'a, F>);

impl<F: Fn(&str) -> bool> Sink for CompactSink<'_, F> {
    type Output = Vec<(StudentId, Vec<Registration>)>;

    fn columns(&self) -> &'static [(&'static str, bool)] {
        self.0.columns()
    }

    fn column_of(&self, name: &str) -> Option<usize> {
        self.0.column_of(name)
    }

    fn passes_over_other_columns(&self) -> bool {
        self.0.passes_over_other_columns()
    }

    fn header(&mut self, p: &[Option<usize>], errs: &mut ErrorList) -> bool {
        self.0.header(p, errs)
    }

    fn row<R: Row>(&mut self, line: u64, row: &R, errs: &mut ErrorList) {
        self.0.row(line, row, errs);
    }

    fn finish(self) -> Self::Output {
        let mut lessons = self.0.compact.unwrap_or_default();
        lessons.resize_with(self.0.ids.len(), Vec::new);
        self.0.ids.into_iter().zip(lessons).collect()
    }
}

/// Formats `v` into `buf` and returns the digits.
fn digits(mut v: u32, buf: &mut [u8; 10]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        // v % 10 < 10
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
    for (i, v) in [
        (0, y / 1000 % 10),
        (1, y / 100 % 10),
        (2, y / 10 % 10),
        (3, y % 10),
    ] {
        let v = v as u8;
        out[i] = b'0' + v;
    }
    for (i, v) in [(5, d.month()), (8, d.day())] {
        let (hi, lo) = ((v / 10) as u8, (v % 10) as u8);
        out[i] = b'0' + hi;
        out[i + 1] = b'0' + lo;
    }
    out
}

/// Writes the canonical registrations CSV. Both `code` (when the record
/// has one) and `category` are written, `minutes` always, `minutes_late`
/// only when above zero.
pub fn write_registrations<W: Write>(w: W, records: &[RegistrationRecord]) -> std::io::Result<()> {
    let mut wtr = csv::WriterBuilder::new()
        .buffer_capacity(1 << 16)
        .from_writer(w);
    wtr.write_record(COLUMNS.iter().map(|(c, _)| *c))
        .map_err(std::io::Error::from)?;
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
        .map_err(std::io::Error::from)?;
    }
    wtr.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{parse_calendar, parse_policy};

    const HEADER: &str = "student_id,date,lesson,minutes,code,category,minutes_late,note\n";

    fn cal() -> Calendar {
        parse_calendar(
            include_str!("../../../data/calendars/2025-2026-noord.toml"),
            "2025-2026-noord.toml",
        )
        .unwrap()
    }

    fn policy() -> Policy {
        parse_policy(
            include_str!("../../../data/policy/magister.toml"),
            "magister.toml",
        )
        .unwrap()
    }

    fn known(id: &str) -> bool {
        id.starts_with('1')
    }

    fn read(body: &str) -> Result<Vec<RegistrationRecord>, ImportErrors> {
        let text = format!("{HEADER}{body}");
        read_registrations(
            text.as_bytes(),
            "registraties.csv",
            &cal(),
            &policy(),
            known,
        )
    }

    /// The messages of a file with errors, each with file, line and column.
    fn errors(body: &str) -> Vec<String> {
        let e = read(body).expect_err("the file has errors");
        e.errors
            .iter()
            .map(|r| r.in_file(&e.file).to_string())
            .collect()
    }

    fn one_error(body: &str) -> String {
        let errs = errors(body);
        assert_eq!(errs.len(), 1, "{errs:#?}");
        errs.into_iter().next().unwrap()
    }

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn good_rows_are_read_with_defaults() {
        let recs = read(
            "1001,2025-09-01,1,,,present,,\n\
             1001,2025-09-01,2,,L,,10,\n\
             1001,2025-09-01,3,100,Z,reported_sick,,\n\
             1002,2025-09-01,1,,A,,,\"later gebeld, geen gehoor\"\n\
             1002,2025-09-01,2,,T,late_excused,5,\n",
        )
        .unwrap();
        assert_eq!(recs.len(), 5);
        assert_eq!(recs[0].category, Category::Present);
        assert_eq!(recs[0].code, None);
        assert_eq!(
            recs[0].minutes, 50,
            "empty minutes take the lesson's duration"
        );
        assert_eq!(recs[0].date, ymd(2025, 9, 1));
        assert_eq!(
            (
                recs[1].code.as_deref(),
                recs[1].category,
                recs[1].minutes_late
            ),
            (Some("L"), Category::LateUnexcused, 10)
        );
        assert_eq!(recs[2].minutes, 100);
        assert_eq!(recs[3].category, Category::Unknown);
        assert_eq!(recs[3].note.as_deref(), Some("later gebeld, geen gehoor"));
        assert_eq!(recs[4].student.as_str(), "1002");
    }

    #[test]
    fn columns_may_come_in_any_order_and_be_left_out() {
        let text = "category,lesson,date,student_id\npresent,1,2025-09-01,1001\n";
        let recs = read_registrations(text.as_bytes(), "r.csv", &cal(), &policy(), known).unwrap();
        assert_eq!(recs[0].minutes, 50);
        assert_eq!(recs[0].minutes_late, 0);
    }

    #[test]
    fn a_free_day_is_named() {
        assert_eq!(
            one_error("1001,2025-10-20,1,,Z,,,\n"),
            "registraties.csv, regel 2, kolom date: 2025-10-20 is geen schooldag (herfstvakantie)"
        );
        assert_eq!(
            one_error("1001,2025-11-24,1,,Z,,,\n"),
            "registraties.csv, regel 2, kolom date: 2025-11-24 is geen schooldag (studiedag)"
        );
        // Koningsdag falls in the meivakantie; the holiday is named.
        assert!(one_error("1001,2026-04-27,1,,Z,,,\n").ends_with("(meivakantie)"));
    }

    #[test]
    fn a_weekend_is_named() {
        assert_eq!(
            one_error("1001,2025-09-06,1,,Z,,,\n"),
            "registraties.csv, regel 2, kolom date: 2025-09-06 is geen schooldag (zaterdag)"
        );
        assert!(one_error("1001,2025-10-19,1,,Z,,,\n")
            .ends_with("2025-10-19 is geen schooldag (zondag, herfstvakantie)"));
    }

    #[test]
    fn a_date_outside_the_calendar_is_named() {
        assert_eq!(
            one_error("1001,2024-09-02,1,,Z,,,\n"),
            "registraties.csv, regel 2, kolom date: 2024-09-02 ligt buiten de kalender \
             (schooljaren: 2025-08-25 tot en met 2026-07-03)"
        );
    }

    #[test]
    fn malformed_values_are_named() {
        assert_eq!(
            one_error("1001,1-9-25,1,,Z,,,\n"),
            "registraties.csv, regel 2, kolom date: '1-9-25' is geen datum; schrijf JJJJ-MM-DD of D-M-JJJJ"
        );
        assert_eq!(
            one_error("1001,31-9-2025,1,,Z,,,\n"),
            "registraties.csv, regel 2, kolom date: 31-9-2025 bestaat niet"
        );
        // Dutch Excel's dates are read.
        assert_eq!(
            read("1001,1-9-2025,1,,Z,,,\n").unwrap()[0].date,
            ymd(2025, 9, 1)
        );
        assert_eq!(
            one_error("1001,2025-09-01,een,,Z,,,\n"),
            "registraties.csv, regel 2, kolom lesson: 'een' is geen lesuur (een geheel getal)"
        );
        assert_eq!(
            one_error("1001,2025-09-01,1,0,Z,,,\n"),
            "registraties.csv, regel 2, kolom minutes: '0' is geen lesduur in minuten (1 tot 600)"
        );
        assert_eq!(
            one_error("1001,2025-09-01,1,,L,,tien,\n"),
            "registraties.csv, regel 2, kolom minutes_late: 'tien' is geen aantal minuten"
        );
    }

    #[test]
    fn a_lesson_outside_the_schedule_is_named() {
        assert_eq!(
            one_error("1001,2025-09-01,8,,Z,,,\n"),
            "registraties.csv, regel 2, kolom lesson: lesuur 8 staat niet in het lesrooster \
             van schooljaar 2025-2026 (lesuren: 1, 2, 3, 4, 5, 6, 7)"
        );
    }

    /// The three ways to read a file give the same lessons: all at once,
    /// in batches, and straight into engine form; and all refuse a bad file.
    #[test]
    fn streamed_and_compact_reads_agree_with_the_plain_read() {
        let body = "1002,2025-09-02,2,50,Z,,,\n\
                    1001,2025-09-01,1,50,,present,,\n\
                    1002,2025-09-01,1,50,L,,7,bus\n\
                    1001,2025-09-01,2,50,A,,,\n\
                    1001,2025-09-02,1,50,,present,,\n";
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.csv");
        std::fs::write(&path, format!("{HEADER}{body}")).unwrap();
        let (cal, policy) = (cal(), policy());
        let plain = read(body).unwrap();

        let mut batches = Vec::new();
        let n = stream_registrations_file(
            &path,
            &cal,
            &policy,
            ReadOptions::canonical(),
            known,
            2,
            &mut |b| {
                batches.push(b);
            },
        )
        .unwrap();
        assert_eq!(n.0, 5);
        assert_eq!(n.1.first, Some(ymd(2025, 9, 1)));
        assert_eq!(n.1.last, Some(ymd(2025, 9, 2)));
        assert_eq!(batches.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 1]);
        assert_eq!(batches.concat(), plain);

        let compact =
            read_registrations_compact(&path, &cal, &policy, ReadOptions::canonical(), known)
                .unwrap();
        let ids: Vec<&str> = compact.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, ["1002", "1001"], "in order of first appearance");
        for (id, lessons) in &compact {
            let expected: Vec<Registration> = plain
                .iter()
                .filter(|r| &r.student == id)
                .map(|r| r.to_registration(&cal).unwrap())
                .collect();
            assert_eq!(lessons, &expected, "student {id}");
        }

        std::fs::write(&path, format!("{HEADER}{body}1001,2025-09-03,1,50,QQ,,,\n")).unwrap();
        let mut handed = 0;
        let e = stream_registrations_file(
            &path,
            &cal,
            &policy,
            ReadOptions::canonical(),
            known,
            2,
            &mut |b| {
                handed += b.len();
            },
        )
        .unwrap_err();
        assert_eq!(e.errors[0].line, Some(7));
        assert_eq!(
            handed, 4,
            "the full batches before the bad row, not the rest"
        );
        assert!(
            read_registrations_compact(&path, &cal, &policy, ReadOptions::canonical(), known)
                .is_err()
        );
    }

    #[test]
    fn students_must_be_valid_and_known() {
        assert_eq!(
            one_error("2001,2025-09-01,1,,Z,,,\n"),
            "registraties.csv, regel 2, kolom student_id: leerling 2001 is onbekend (niet in de leerlingenlijst)"
        );
        assert_eq!(
            one_error(",2025-09-01,1,,Z,,,\n"),
            "registraties.csv, regel 2, kolom student_id: leerlingnummer is leeg"
        );
        // The answer is cached, and the rows are counted on one error.
        assert_eq!(
            errors("2001,2025-09-01,1,,Z,,,\n2001,2025-09-01,2,,Z,,,\n"),
            [
                "registraties.csv, regel 2, kolom student_id: leerling 2001 is onbekend \
              (niet in de leerlingenlijst) (2 regels, eerste op regel 2)"
            ]
        );
    }

    #[test]
    fn codes_and_categories_must_be_known_and_agree() {
        let e = one_error("1001,2025-09-01,1,,X,,,\n");
        assert!(
            e.starts_with("registraties.csv, regel 2, kolom code: code 'X' staat niet in het beleid (bekende codes: A, AA, BV"),
            "{e}"
        );
        let e = one_error("1001,2025-09-01,1,,,ziek,,\n");
        assert!(
            e.starts_with("registraties.csv, regel 2, kolom category: categorie 'ziek' bestaat niet (kies uit: present (aanwezig), late_unexcused (te laat zonder geldige reden),"),
            "{e}"
        );
        assert_eq!(
            one_error("1001,2025-09-01,1,,Z,unknown,,\n"),
            "registraties.csv, regel 2, kolom category: code 'Z' betekent 'ziek gemeld' volgens \
             het beleid, maar category zegt 'onbekend afwezig' (unknown)"
        );
        assert_eq!(
            one_error("1001,2025-09-01,1,,,,,\n"),
            "registraties.csv, regel 2, kolom code: geef een code of een category (minstens één van beide)"
        );
    }

    #[test]
    fn duplicates_name_the_earlier_line() {
        let errs = errors(
            "1001,2025-09-01,1,,,present,,\n\
             1001,2025-09-01,2,,,present,,\n\
             1001,2025-09-01,1,,A,,,\n",
        );
        assert_eq!(
            errs,
            [
                "registraties.csv, regel 4, kolom lesson: leerling 1001 heeft op 2025-09-01 \
              lesuur 1 al op regel 2 (dubbele registratie)"
            ]
        );
    }

    #[test]
    fn minutes_late_only_on_late_and_within_the_lesson() {
        assert_eq!(
            one_error("1001,2025-09-01,1,,A,,10,\n"),
            "registraties.csv, regel 2, kolom minutes_late: minutes_late (minuten te laat) mag alleen \
             bij te laat komen (late_unexcused of late_excused), niet bij unknown (onbekend afwezig)"
        );
        assert_eq!(
            one_error("1001,2025-09-01,1,,L,,51,\n"),
            "registraties.csv, regel 2, kolom minutes_late: minutes_late (51) is meer dan de les \
             duurt (50 minuten)"
        );
        assert!(read("1001,2025-09-01,1,,L,,50,\n").is_ok());
    }

    #[test]
    fn notes_are_limited_and_refused_on_sick_lessons() {
        let long = "x".repeat(MAX_NOTE_CHARS + 1);
        assert_eq!(
            one_error(&format!("1001,2025-09-01,1,,A,,,{long}\n")),
            "registraties.csv, regel 2, kolom note: de notitie is 501 tekens lang; hoogstens 500"
        );
        // Multi-byte characters count as one: 500 of them are allowed.
        assert!(read(&format!("1001,2025-09-01,1,,A,,,{}\n", "é".repeat(500))).is_ok());
        let e = one_error("1001,2025-09-01,1,,Z,,,griep\n");
        assert_eq!(
            e,
            "registraties.csv, regel 2, kolom note: een notitie bij een les die ziek gemeld is, \
             is niet toegestaan: de aard van een ziekte wordt nooit vastgelegd (privacy)"
        );
        // Also when the category is given directly.
        assert!(one_error("1001,2025-09-01,1,,,reported_sick,,koorts\n").contains("privacy"));
    }

    #[test]
    fn every_bad_row_is_reported_and_nothing_imported() {
        let errs = errors(
            "1001,2025-09-01,1,,,present,,\n\
             1001,2025-10-20,1,,Q,,,\n\
             1001,2025-09-01,2,,,present,,\n\
             9,2025-09-01,1,,Z,,5,\n",
        );
        assert_eq!(errs.len(), 4, "{errs:#?}");
        assert!(errs[0].contains("regel 3, kolom date"));
        assert!(errs[1].contains("regel 3, kolom code"));
        assert!(errs[2].contains("regel 5, kolom student_id"));
        assert!(errs[3].contains("regel 5, kolom minutes_late"));
    }

    #[test]
    fn header_problems_stop_the_import() {
        let e = read_registrations(
            "student_id,date,lesson,minutes\n".as_bytes(),
            "r.csv",
            &cal(),
            &policy(),
            known,
        )
        .unwrap_err();
        assert_eq!(
            e.errors[0].in_file("r.csv").to_string(),
            "r.csv, regel 1: de kopregel moet een kolom code of category hebben (of beide)"
        );
        let e = read_registrations(
            "student_id,dag,lesson,code\n".as_bytes(),
            "r.csv",
            &cal(),
            &policy(),
            known,
        )
        .unwrap_err();
        let text = e.to_string();
        assert!(text.contains("kolom 'dag' is onbekend"), "{text}");
        assert!(
            text.contains("verplichte kolom ontbreekt in de kopregel: date"),
            "{text}"
        );
    }

    #[test]
    fn line_numbers_follow_the_file_with_crlf_and_quoted_newlines() {
        let text = "\u{feff}student_id,date,lesson,code,note\r\n\
                    1001,2025-09-01,1,A,\"twee\r\nregels\"\r\n\
                    1001,2025-09-01,2,Q,\r\n";
        let e = read_registrations(text.as_bytes(), "r.csv", &cal(), &policy(), known).unwrap_err();
        assert_eq!(e.errors[0].line, Some(4));
        assert_eq!(e.errors[0].column.as_deref(), Some("code"));
        // The line break inside the quoted note is kept, the CR at the end
        // of the record is not.
        let ok = text.replace(",Q,", ",A,");
        let recs = read_registrations(ok.as_bytes(), "r.csv", &cal(), &policy(), known).unwrap();
        assert_eq!(recs[0].note.as_deref(), Some("twee\r\nregels"));
        assert_eq!(recs[1].note, None);
        assert_eq!(recs[1].code.as_deref(), Some("A"));
    }

    #[test]
    fn errors_are_capped_but_counted() {
        // 1500 different unknown students: 1500 different errors.
        let body: String = (0..1500)
            .map(|i| format!("{},2025-09-01,1,,A,,,\n", 2000 + i))
            .collect();
        let e = read(&body).unwrap_err();
        assert_eq!(e.errors.len(), crate::error::MAX_STORED_ERRORS);
        assert_eq!(e.total(), 1500);
        // 1500 - 50 shown, with the Dutch thousands dot.
        assert!(e.to_string().ends_with("en nog 1.450 fouten"), "{e}");
    }

    #[test]
    fn a_repeated_problem_is_reported_once_with_its_rows() {
        let body: String = (0..1500)
            .map(|i| format!("1001,2025-09-{:02},1,,Q,,,\n", 1 + i % 5))
            .collect();
        let e = read(&body).unwrap_err();
        // One unknown code in 1500 rows, and 1495 duplicates of 5 lessons.
        assert_eq!(e.total(), 1500 + 1495);
        assert_eq!(e.errors.len(), 6);
        assert_eq!(
            e.errors[0].in_file(&e.file).to_string(),
            "registraties.csv, regel 2, kolom code: code 'Q' staat niet in het beleid \
             (bekende codes: A, AA, BV, GE, GI, HV, L, M, O, S, T, U, V, VR, Z, ZH) (1500 regels, eerste op regel 2)"
        );
        assert_eq!(e.errors[1].count, 299);
    }

    #[test]
    fn written_registrations_read_back() {
        let recs = read(
            "1001,2025-09-01,1,,,present,,\n\
             1001,2025-09-01,2,,L,,10,\"met \"\"aanhalingstekens\"\", en komma\"\n\
             1002,2025-09-02,3,100,Z,,,\n",
        )
        .unwrap();
        let mut buf = Vec::new();
        write_registrations(&mut buf, &recs).unwrap();
        let text = String::from_utf8(buf.clone()).unwrap();
        assert!(text.starts_with(HEADER), "{text}");
        assert!(
            text.contains("1001,2025-09-01,2,50,L,late_unexcused,10,"),
            "{text}"
        );
        let back = read_registrations(&buf[..], "r.csv", &cal(), &policy(), known).unwrap();
        assert_eq!(back, recs);
    }

    #[test]
    fn number_and_date_formatting() {
        let mut b = [0u8; 10];
        assert_eq!(digits(0, &mut b), b"0");
        assert_eq!(digits(4_294_967_295, &mut b), b"4294967295");
        assert_eq!(&date_bytes(ymd(2025, 9, 1)), b"2025-09-01");
        assert_eq!(&date_bytes(ymd(987, 12, 31)), b"0987-12-31");
    }
}
