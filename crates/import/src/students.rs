//! The students table (CSV or XLSX) to and from [`Student`]s.
//!
//! Columns: `student_id,name,class,mentor,date_of_birth[,left_on][,bsn]
//! [,onderwijsnummer]`, any order, header required. `left_on` is the date a
//! student left the school; the five-year retention of attendance data
//! counts from it. `bsn` and `onderwijsnummer` are checked with the
//! elfproef ([`aanwezig_domain::personal_number`]); an empty cell means
//! "none". Whether the file *has* those columns is part of what it says:
//! see [`StudentsFile::numbers`].
//!
//! Besides errors (the file is refused) a file can get warnings (it is
//! imported, but someone should look): a mentor who is no known user, a
//! date of birth that makes the student younger than 10 or older than 23.
//! [`read_students_checked`] returns them; the older readers ignore them.

use std::io::Write;
use std::path::Path;

use aanwezig_domain::{Bsn, NumbersGiven, Onderwijsnummer, Student, StudentId};
use chrono::{Datelike, NaiveDate};

use crate::error::{ErrorList, ImportErrors, ImportWarnings};
use crate::table::{is_workbook, open_csv, read_csv, FastMap, Row, Sink};
use crate::text::parse_date_nl;
use crate::workbook::read_workbook;

/// One row of the students table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StudentRow {
    pub student: Student,
    /// The date the student left the school, if they did.
    pub left_on: Option<NaiveDate>,
}

const COLUMNS: &[(&str, bool)] = &[
    ("student_id", true),
    ("name", true),
    ("class", true),
    ("mentor", true),
    ("date_of_birth", true),
    ("left_on", false),
    ("bsn", false),
    ("onderwijsnummer", false),
];

/// Below this age a secondary-school student is unusual enough to check.
pub const YOUNGEST: i32 = 10;

/// Above this age a student is unusual enough to check (leerplicht and the
/// RMC task end at 23).
pub const OLDEST: i32 = 23;

/// What a students file is checked against for warnings. Nothing here can
/// refuse a file. The default checks nothing.
#[derive(Clone, Copy, Default)]
pub struct StudentChecks<'a> {
    /// The reference date of the age check ("today": the crate reads no
    /// clock). For a student who left, the day they left counts instead,
    /// when that is earlier. `None` skips the check.
    pub today: Option<NaiveDate>,
    /// Whether a mentor (the cell as written) is a known user. `None` skips
    /// the check, for example when there are no users yet.
    pub known_mentor: Option<&'a dyn Fn(&str) -> bool>,
}

/// A students file that passed every check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StudentsFile {
    pub rows: Vec<StudentRow>,
    /// Which number columns the file has. A file without a `bsn` column
    /// says nothing about BSNs: importing it must keep the stored ones
    /// (and likewise for `onderwijsnummer`).
    pub numbers: NumbersGiven,
    /// What someone should look at; the rows are imported anyway.
    pub warnings: ImportWarnings,
}

/// Whole years from `birth` to `on` (negative when `on` comes first).
fn age_on(birth: NaiveDate, on: NaiveDate) -> i32 {
    let mut years = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        years -= 1;
    }
    years
}

const MAX_NAME: usize = 200;
const MAX_CLASS: usize = 32;

struct StudentSink<'a> {
    pos: [usize; 5],
    left_on: Option<usize>,
    bsn: Option<usize>,
    onderwijsnummer: Option<usize>,
    seen: FastMap<String, u64>,
    /// BSNs and onderwijsnummers met so far, with their lines.
    seen_bsn: FastMap<String, u64>,
    seen_own: FastMap<String, u64>,
    checks: StudentChecks<'a>,
    warnings: ErrorList,
    out: Vec<StudentRow>,
}

/// An optional number column: `Some(None)` for an empty cell or no column,
/// `Some(Some(n))` for a good number, `None` after an error. A number
/// repeated in the file is an error naming the earlier line; the messages
/// never repeat the number itself.
#[expect(
    clippy::too_many_arguments,
    reason = "one helper for two columns, each input distinct"
)]
fn number_field<T>(
    row_field: Option<&[u8]>,
    line: u64,
    col: &'static str,
    what: &str,
    parse: impl Fn(&str) -> Result<T, aanwezig_domain::NumberError>,
    text: impl Fn(&T) -> &str,
    seen: &mut FastMap<String, u64>,
    errs: &mut ErrorList,
) -> Option<Option<T>> {
    let Some(b) = row_field.filter(|b| !b.trim_ascii().is_empty()) else {
        return Some(None);
    };
    let s = text_field(b, line, col, errs)?;
    match parse(s) {
        Ok(n) => {
            if let Some(first) = seen.get(text(&n)) {
                errs.push(
                    line,
                    Some(col),
                    format!("dit {what} staat ook op regel {first}; elke leerling heeft een eigen nummer"),
                );
                return None;
            }
            seen.insert(text(&n).to_owned(), line);
            Some(Some(n))
        }
        Err(e) => {
            errs.push(line, Some(col), e.to_string());
            None
        }
    }
}

impl StudentSink<'_> {
    /// Warnings about a good row.
    fn warn(&mut self, line: u64, student: &Student, left_on: Option<NaiveDate>) {
        let mentor = student.mentor.as_str();
        if let Some(known) = self.checks.known_mentor {
            if !mentor.is_empty() && !known(mentor) {
                self.warnings.push(
                    line,
                    Some("mentor"),
                    format!("mentor '{mentor}' is geen gebruiker van aanwezig; zo ziet geen mentor deze leerling"),
                );
            }
        }
        if let Some(today) = self.checks.today {
            let on = left_on.map_or(today, |l| l.min(today));
            let age = age_on(student.date_of_birth, on);
            if age < YOUNGEST {
                self.warnings.push(
                    line,
                    Some("date_of_birth"),
                    format!("volgens de geboortedatum is de leerling jonger dan {YOUNGEST} jaar; klopt die?"),
                );
            } else if age > OLDEST {
                self.warnings.push(
                    line,
                    Some("date_of_birth"),
                    format!("volgens de geboortedatum is de leerling ouder dan {OLDEST} jaar; klopt die?"),
                );
            }
        }
    }
}

fn text_field<'a>(
    b: &'a [u8],
    line: u64,
    col: &'static str,
    errs: &mut ErrorList,
) -> Option<&'a str> {
    match std::str::from_utf8(b.trim_ascii()) {
        // A line break or other control character inside a name or class
        // would travel into pages, feeds and exports: refuse it here.
        Ok(s) if s.chars().any(char::is_control) => {
            errs.push(
                line,
                Some(col),
                "bevat een stuurteken (zoals een regeleinde of tab); haal het weg".into(),
            );
            None
        }
        Ok(s) => Some(s),
        Err(_) => {
            errs.push(
                line,
                Some(col),
                "geen geldige UTF-8-tekst; sla het bestand op als 'CSV UTF-8'".into(),
            );
            None
        }
    }
}

fn date_field(b: &[u8], line: u64, col: &'static str, errs: &mut ErrorList) -> Option<NaiveDate> {
    let b = b.trim_ascii();
    match parse_date_nl(b) {
        Ok(d) => Some(d),
        Err(problem) => {
            errs.push(line, Some(col), problem.message(b));
            None
        }
    }
}

impl Sink for StudentSink<'_> {
    type Output = (Vec<StudentRow>, NumbersGiven, ErrorList);

    fn columns(&self) -> &'static [(&'static str, bool)] {
        COLUMNS
    }

    fn header(&mut self, positions: &[Option<usize>], _errs: &mut ErrorList) -> bool {
        for (slot, p) in self.pos.iter_mut().zip(positions) {
            // Required columns are present: map_header checked them.
            *slot = p.unwrap_or(usize::MAX);
        }
        self.left_on = positions.get(5).copied().flatten();
        self.bsn = positions.get(6).copied().flatten();
        self.onderwijsnummer = positions.get(7).copied().flatten();
        true
    }

    fn row<R: Row>(&mut self, line: u64, row: &R, errs: &mut ErrorList) {
        let [p_id, p_name, p_class, p_mentor, p_dob] = self.pos;

        let id = text_field(row.field(p_id), line, "student_id", errs).and_then(|s| {
            match StudentId::parse(s) {
                Ok(id) => Some(id),
                Err(e) => {
                    errs.push(line, Some("student_id"), format!("{e}"));
                    None
                }
            }
        });
        if let Some(id) = &id {
            if let Some(first) = self.seen.get(id.as_str()) {
                errs.push(
                    line,
                    Some("student_id"),
                    format!("leerlingnummer {id} staat al op regel {first}"),
                );
            } else {
                self.seen.insert(id.as_str().to_owned(), line);
            }
        }

        let mut required_text = |p: usize, col: &'static str, what: &str, max: usize| {
            let s = text_field(row.field(p), line, col, errs)?;
            if s.is_empty() {
                errs.push(line, Some(col), format!("{what} is leeg"));
                return None;
            }
            if s.chars().count() > max {
                errs.push(
                    line,
                    Some(col),
                    format!("{what} is langer dan {max} tekens"),
                );
                return None;
            }
            Some(s.to_owned())
        };
        let name = required_text(p_name, "name", "de naam", MAX_NAME);
        let class = required_text(p_class, "class", "de klas", MAX_CLASS);

        // A student may be waiting for a mentor: empty is allowed.
        let mentor = text_field(row.field(p_mentor), line, "mentor", errs).and_then(|s| {
            if s.chars().count() > MAX_NAME {
                errs.push(
                    line,
                    Some("mentor"),
                    format!("de mentor is langer dan {MAX_NAME} tekens"),
                );
                None
            } else {
                Some(s.to_owned())
            }
        });

        let dob = date_field(row.field(p_dob), line, "date_of_birth", errs);
        let left_on = match self.left_on {
            Some(p) if !row.field(p).trim_ascii().is_empty() => {
                date_field(row.field(p), line, "left_on", errs).map(Some)
            }
            _ => Some(None),
        };
        if let (Some(b), Some(Some(l))) = (dob, left_on) {
            if l <= b {
                errs.push(
                    line,
                    Some("left_on"),
                    format!("de datum van uitschrijven ({l}) ligt niet na de geboortedatum ({b})"),
                );
            }
        }

        let bsn = number_field(
            self.bsn.map(|p| row.field(p)),
            line,
            "bsn",
            "BSN",
            Bsn::parse,
            Bsn::as_str,
            &mut self.seen_bsn,
            errs,
        );
        let onderwijsnummer = number_field(
            self.onderwijsnummer.map(|p| row.field(p)),
            line,
            "onderwijsnummer",
            "onderwijsnummer",
            Onderwijsnummer::parse,
            Onderwijsnummer::as_str,
            &mut self.seen_own,
            errs,
        );

        // All or nothing: once any row failed, stop building output.
        if !errs.is_empty() {
            return;
        }
        if let (
            Some(id),
            Some(name),
            Some(class),
            Some(mentor),
            Some(dob),
            Some(left_on),
            Some(bsn),
            Some(onderwijsnummer),
        ) = (id, name, class, mentor, dob, left_on, bsn, onderwijsnummer)
        {
            let student = Student {
                id,
                name,
                class,
                mentor,
                date_of_birth: dob,
                bsn,
                onderwijsnummer,
            };
            self.warn(line, &student, left_on);
            self.out.push(StudentRow { student, left_on });
        }
    }

    fn finish(self) -> Self::Output {
        let numbers = NumbersGiven {
            bsn: self.bsn.is_some(),
            onderwijsnummer: self.onderwijsnummer.is_some(),
        };
        (self.out, numbers, self.warnings)
    }
}

fn sink(checks: StudentChecks<'_>) -> StudentSink<'_> {
    StudentSink {
        pos: [usize::MAX; 5],
        left_on: None,
        bsn: None,
        onderwijsnummer: None,
        seen: FastMap::default(),
        seen_bsn: FastMap::default(),
        seen_own: FastMap::default(),
        checks,
        warnings: ErrorList::default(),
        out: Vec::new(),
    }
}

fn to_file(
    file: &str,
    (rows, numbers, warnings): (Vec<StudentRow>, NumbersGiven, ErrorList),
) -> StudentsFile {
    StudentsFile {
        rows,
        numbers,
        warnings: warnings.into_warnings(file),
    }
}

/// Reads a students CSV like [`read_students`], and also says which number
/// columns it has and what to warn about (see [`StudentChecks`]).
pub fn read_students_checked<R: std::io::Read>(
    r: R,
    file: &str,
    checks: StudentChecks<'_>,
) -> Result<StudentsFile, ImportErrors> {
    read_csv(r, file, sink(checks)).map(|out| to_file(file, out))
}

/// [`read_students_checked`] for the first sheet of a workbook.
pub fn read_students_xlsx_checked(
    path: &Path,
    checks: StudentChecks<'_>,
) -> Result<StudentsFile, ImportErrors> {
    read_workbook(path, sink(checks)).map(|out| to_file(&path.display().to_string(), out))
}

/// [`read_students_checked`] for a file on disk, a workbook or a CSV (see
/// [`read_students_file`]).
pub fn read_students_file_checked(
    path: &Path,
    checks: StudentChecks<'_>,
) -> Result<StudentsFile, ImportErrors> {
    if is_workbook(path) {
        read_students_xlsx_checked(path, checks)
    } else {
        read_students_checked(open_csv(path)?, &path.display().to_string(), checks)
    }
}

/// Reads a students CSV (UTF-8, a BOM is allowed). Every bad row gets an
/// error; when there is any, nothing is returned.
pub fn read_students<R: std::io::Read>(r: R, file: &str) -> Result<Vec<StudentRow>, ImportErrors> {
    read_students_checked(r, file, StudentChecks::default()).map(|f| f.rows)
}

/// Reads the first sheet of a workbook with the same columns as the CSV.
pub fn read_students_xlsx(path: &Path) -> Result<Vec<StudentRow>, ImportErrors> {
    read_students_xlsx_checked(path, StudentChecks::default()).map(|f| f.rows)
}

/// Reads a students file from disk: a workbook when the extension says so
/// (`.xlsx`, `.xlsm`, `.xlsb`, `.xls`, `.ods`), CSV otherwise.
pub fn read_students_file(path: &Path) -> Result<Vec<StudentRow>, ImportErrors> {
    if is_workbook(path) {
        read_students_xlsx(path)
    } else {
        read_students(open_csv(path)?, &path.display().to_string())
    }
}

/// Writes the canonical students CSV (with the `left_on`, `bsn` and
/// `onderwijsnummer` columns; empty where a student has none).
pub fn write_students<W: Write>(w: W, rows: &[StudentRow]) -> std::io::Result<()> {
    let mut wtr = csv::Writer::from_writer(w);
    wtr.write_record(COLUMNS.iter().map(|(c, _)| *c))
        .map_err(std::io::Error::from)?;
    for r in rows {
        let s = &r.student;
        let dob = s.date_of_birth.format("%Y-%m-%d").to_string();
        let left = r
            .left_on
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        wtr.write_record([
            s.id.as_str(),
            s.name.as_str(),
            s.class.as_str(),
            s.mentor.as_str(),
            dob.as_str(),
            left.as_str(),
            s.bsn.as_ref().map_or("", Bsn::as_str),
            s.onderwijsnummer
                .as_ref()
                .map_or("", Onderwijsnummer::as_str),
        ])
        .map_err(std::io::Error::from)?;
    }
    wtr.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_in_names_and_classes_are_refused() {
        let text = "student_id,name,class,mentor,date_of_birth\n\
                    1,\"Sam\r\nBEGIN:VEVENT\",1A,m,2012-01-01\n\
                    2,Noor,\"2\tB\",m,2012-01-01\n\
                    3,Ok,3C,m\u{7},2012-01-01\n";
        let e = read_students(text.as_bytes(), "l.csv").unwrap_err();
        let cols: Vec<_> = e
            .errors
            .iter()
            .map(|r| (r.line, r.column.as_deref()))
            .collect();
        assert_eq!(
            cols,
            [
                (Some(2), Some("name")),
                (Some(4), Some("class")),
                (Some(5), Some("mentor"))
            ]
        );
        assert!(e.errors[0].message.contains("stuurteken"));
    }

    const GOOD: &str = "\u{feff}name,student_id,class,mentor,date_of_birth,left_on\n\
        Sanne de Vries,1001,2B,jansen,2012-03-14,\n\
        \"Bakker, Noah\",1002,2B,,2011-11-02,2025-12-19\n";

    fn messages(e: &ImportErrors) -> Vec<String> {
        e.errors
            .iter()
            .map(|r| r.in_file(&e.file).to_string())
            .collect()
    }

    #[test]
    fn reads_columns_in_any_order_with_bom() {
        let rows = read_students(GOOD.as_bytes(), "s.csv").unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].student.id.as_str(), "1001");
        assert_eq!(rows[1].student.name, "Bakker, Noah");
        assert_eq!(rows[1].student.mentor, "");
        assert_eq!(rows[1].left_on, NaiveDate::from_ymd_opt(2025, 12, 19));
        assert_eq!(rows[0].left_on, None);
    }

    #[test]
    fn left_on_is_optional_as_a_column() {
        let text = "student_id,name,class,mentor,date_of_birth\n1,A,1A,m,2012-01-01\n";
        assert_eq!(read_students(text.as_bytes(), "s.csv").unwrap().len(), 1);
    }

    #[test]
    fn round_trips_through_csv() {
        let rows = read_students(GOOD.as_bytes(), "s.csv").unwrap();
        let mut buf = Vec::new();
        write_students(&mut buf, &rows).unwrap();
        assert_eq!(read_students(&buf[..], "s.csv").unwrap(), rows);
    }

    #[test]
    fn header_problems_are_reported() {
        let e = read_students(
            "student_id,name,klas,mentor,date_of_birth\n".as_bytes(),
            "s.csv",
        )
        .unwrap_err();
        let m = messages(&e);
        assert!(m[0].contains("kolom 'klas' is onbekend"), "{m:?}");
        assert!(
            m[1].contains("verplichte kolom ontbreekt in de kopregel: class"),
            "{m:?}"
        );
        let e = read_students("".as_bytes(), "s.csv").unwrap_err();
        assert!(e.to_string().contains("leeg"), "{e}");
    }

    #[test]
    fn every_bad_row_is_reported() {
        let text = "student_id,name,class,mentor,date_of_birth,left_on\n\
            ,A,1A,m,2012-01-01,\n\
            12 3,A,1A,m,2012-01-01,\n\
            5,,1A,m,2012-01-01,\n\
            6,B,,m,2012-01-01,\n\
            7,C,1A,m,30-02-2012,\n\
            8,D,1A,m,2012-01-01,2011-01-01\n\
            9,E,1A,m,2012-01-01,\n\
            9,F,1A,m,2012-01-01,\n";
        let e = read_students(text.as_bytes(), "s.csv").unwrap_err();
        let m = messages(&e);
        assert_eq!(
            m,
            [
                "s.csv, regel 2, kolom student_id: leerlingnummer is leeg",
                "s.csv, regel 3, kolom student_id: leerlingnummer bevat spaties of stuurtekens",
                "s.csv, regel 4, kolom name: de naam is leeg",
                "s.csv, regel 5, kolom class: de klas is leeg",
                "s.csv, regel 6, kolom date_of_birth: 30-02-2012 bestaat niet",
                "s.csv, regel 7, kolom left_on: de datum van uitschrijven (2011-01-01) ligt niet na de geboortedatum (2012-01-01)",
                "s.csv, regel 9, kolom student_id: leerlingnummer 9 staat al op regel 8",
            ]
        );
    }

    /// Valid numbers made for tests (not real people's): BSNs and
    /// onderwijsnummers that pass the elfproef.
    const BSN_A: &str = "123456782";
    const BSN_B: &str = "111222333";
    const OWN_A: &str = "101222331";

    fn checks_on(today: NaiveDate, known: &dyn Fn(&str) -> bool) -> StudentChecks<'_> {
        StudentChecks {
            today: Some(today),
            known_mentor: Some(known),
        }
    }

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn numbers_are_read_and_empty_cells_are_none() {
        let text = format!(
            "student_id,name,class,mentor,date_of_birth,bsn,onderwijsnummer\n\
             1,A,1A,m,2012-01-01,{BSN_A},\n\
             2,B,1A,m,2012-01-01,,{OWN_A}\n\
             3,C,1A,m,2012-01-01,12345672,\n\
             4,D,1A,m,2012-01-01,,\n"
        );
        let f = read_students_checked(text.as_bytes(), "s.csv", StudentChecks::default()).unwrap();
        assert_eq!(f.numbers, NumbersGiven::ALL);
        let numbers: Vec<(Option<&str>, Option<&str>)> = f
            .rows
            .iter()
            .map(|r| {
                (
                    r.student.bsn.as_ref().map(Bsn::as_str),
                    r.student
                        .onderwijsnummer
                        .as_ref()
                        .map(Onderwijsnummer::as_str),
                )
            })
            .collect();
        assert_eq!(
            numbers,
            [
                (Some(BSN_A), None),
                (None, Some(OWN_A)),
                // Eight digits: a spreadsheet dropped the leading zero.
                (Some("012345672"), None),
                (None, None)
            ]
        );
        assert!(f.warnings.is_empty());
        // Round trip through the canonical CSV, numbers included.
        let mut buf = Vec::new();
        write_students(&mut buf, &f.rows).unwrap();
        assert_eq!(read_students(&buf[..], "s.csv").unwrap(), f.rows);
    }

    #[test]
    fn a_file_without_number_columns_says_so() {
        let text = "student_id,name,class,mentor,date_of_birth,bsn\n1,A,1A,m,2012-01-01,\n";
        let f = read_students_checked(text.as_bytes(), "s.csv", StudentChecks::default()).unwrap();
        assert_eq!(
            f.numbers,
            NumbersGiven {
                bsn: true,
                onderwijsnummer: false
            }
        );
        let f = read_students_checked(GOOD.as_bytes(), "s.csv", StudentChecks::default()).unwrap();
        assert_eq!(f.numbers, NumbersGiven::NONE);
    }

    #[test]
    fn bad_numbers_are_named_by_line_and_column() {
        let text = format!(
            "student_id,name,class,mentor,date_of_birth,bsn,onderwijsnummer\n\
             1,A,1A,m,2012-01-01,123456783,\n\
             2,B,1A,m,2012-01-01,1234567,\n\
             3,C,1A,m,2012-01-01,{BSN_A},\n\
             4,D,1A,m,2012-01-01,{BSN_B},{BSN_B}\n\
             5,E,1A,m,2012-01-01,1234.56.782,\n\
             6,F,1A,m,2012-01-01,12x456782,\n\
             7,G,1A,m,2012-01-01,000000000,\n\
             8,H,1A,m,2012-01-01,,{OWN_A}\n\
             9,I,1A,m,2012-01-01,,{OWN_A}\n"
        );
        let e =
            read_students_checked(text.as_bytes(), "s.csv", StudentChecks::default()).unwrap_err();
        assert_eq!(
            messages(&e),
            [
                "s.csv, regel 2, kolom bsn: het BSN klopt niet: het voldoet niet aan de elfproef (een cijfer verkeerd of twee cijfers omgewisseld?)",
                "s.csv, regel 3, kolom bsn: een BSN heeft 9 cijfers, dit zijn er 7",
                // A BSN is no onderwijsnummer: its elfproef remainder is 0, not 5.
                "s.csv, regel 5, kolom onderwijsnummer: het onderwijsnummer klopt niet: het voldoet niet aan de elfproef (een cijfer verkeerd of twee cijfers omgewisseld?)",
                "s.csv, regel 6, kolom bsn: dit BSN staat ook op regel 4; elke leerling heeft een eigen nummer",
                "s.csv, regel 7, kolom bsn: het BSN bevat andere tekens dan cijfers (spaties, punten en streepjes mogen)",
                "s.csv, regel 8, kolom bsn: een BSN kan niet uit alleen nullen bestaan",
                "s.csv, regel 10, kolom onderwijsnummer: dit onderwijsnummer staat ook op regel 9; elke leerling heeft een eigen nummer",
            ]
        );
        // No message repeats a number.
        for m in messages(&e) {
            assert!(
                !m.contains(BSN_A) && !m.contains(BSN_B) && !m.contains(OWN_A),
                "{m}"
            );
        }
    }

    #[test]
    fn warnings_for_unknown_mentors_and_odd_ages_are_grouped() {
        let text = "student_id,name,class,mentor,date_of_birth,left_on\n\
            1,A,1A,jansen,2012-01-01,\n\
            2,B,1A,pietersen,2012-01-01,\n\
            3,C,1A,pietersen,2012-01-01,\n\
            4,D,1A,,2012-01-01,\n\
            5,E,1A,jansen,2016-06-01,\n\
            6,F,1A,jansen,2001-06-01,\n\
            7,G,1A,JANSEN,2001-06-02,\n\
            8,H,1A,jansen,2001-06-01,2020-07-01\n\
            9,I,1A,jansen,2026-06-01,\n";
        let known = |m: &str| m.eq_ignore_ascii_case("jansen");
        let f = read_students_checked(text.as_bytes(), "s.csv", checks_on(ymd(2025, 9, 1), &known))
            .unwrap();
        assert_eq!(f.rows.len(), 9, "warnings do not stop the import");
        assert_eq!(
            f.warnings.lines(),
            [
                "s.csv, regel 3, kolom mentor: mentor 'pietersen' is geen gebruiker van aanwezig; zo ziet geen mentor deze leerling (2 regels, eerste op regel 3)",
                "s.csv, regel 6, kolom date_of_birth: volgens de geboortedatum is de leerling jonger dan 10 jaar; klopt die? (2 regels, eerste op regel 6)",
                "s.csv, regel 7, kolom date_of_birth: volgens de geboortedatum is de leerling ouder dan 23 jaar; klopt die? (2 regels, eerste op regel 7)",
            ]
        );
        // Too young: born 2016 (9 on 1 September 2025) and born in the
        // future. Too old: lines 7 and 8 (24). Line 9 was born the same day
        // as line 7 but left in 2020, aged 19: its age counts on that day.
        assert_eq!(f.warnings.total(), 6);
        // Without checks there are no warnings.
        let f = read_students_checked(text.as_bytes(), "s.csv", StudentChecks::default()).unwrap();
        assert!(f.warnings.is_empty());
    }

    #[test]
    fn ages_count_whole_years() {
        let born = ymd(2012, 3, 14);
        assert_eq!(age_on(born, ymd(2022, 3, 13)), 9);
        assert_eq!(age_on(born, ymd(2022, 3, 14)), 10);
        assert_eq!(age_on(born, ymd(2011, 1, 1)), -2);
        assert_eq!(age_on(ymd(2012, 2, 29), ymd(2013, 2, 28)), 0);
        assert_eq!(age_on(ymd(2012, 2, 29), ymd(2013, 3, 1)), 1);
    }

    #[test]
    fn ragged_rows_are_errors() {
        let text = "student_id,name,class,mentor,date_of_birth\n1,A,1A\n2,B,1A,m,2012-01-01,x\n";
        let e = read_students(text.as_bytes(), "s.csv").unwrap_err();
        let m = messages(&e);
        assert!(m[0].contains("regel 2: de regel heeft 3 velden"), "{m:?}");
        assert!(
            m[1].contains("regel 3: de regel heeft meer velden"),
            "{m:?}"
        );
    }

    #[test]
    fn invalid_utf8_is_named() {
        // The file is UTF-8 (its first non-ASCII character says so), so a
        // byte that is not UTF-8 later on is an error in its field.
        let text = b"student_id,name,class,mentor,date_of_birth\n1,Zo\xC3\xAB,1A,m,2012-01-01\n2,J\xF6rg,1A,m,2012-01-01\n";
        let e = read_students(&text[..], "s.csv").unwrap_err();
        assert!(e.errors[0].message.contains("UTF-8"), "{e}");
        assert_eq!(e.errors[0].column.as_deref(), Some("name"));
        assert_eq!(e.errors[0].line, Some(3));
    }

    #[test]
    fn dutch_excel_files_are_read() {
        // Excel's plain "CSV (puntkomma)": `;`, Windows-1252, D-M-JJJJ.
        let ansi = b"student_id;name;class;mentor;date_of_birth\r\n1;J\xF6rg de Vri\xEBs;1A;m;8-9-2012\r\n";
        let rows = read_students(&ansi[..], "s.csv").unwrap();
        assert_eq!(rows[0].student.name, "Jörg de Vriës");
        assert_eq!(
            rows[0].student.date_of_birth,
            chrono::NaiveDate::from_ymd_opt(2012, 9, 8).unwrap()
        );
        // "Unicode-tekst": UTF-16 LE with a BOM, tab-separated.
        let text =
            "student_id\tname\tclass\tmentor\tdate_of_birth\r\n2\tZoë\t2B\tm\t08-09-2012\r\n";
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let rows = read_students(&utf16[..], "s.txt").unwrap();
        assert_eq!(
            (
                rows[0].student.name.as_str(),
                rows[0].student.class.as_str()
            ),
            ("Zoë", "2B")
        );
    }
}
