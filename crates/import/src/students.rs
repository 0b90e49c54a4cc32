//! The students table (CSV or XLSX) to and from [`Student`]s.
//!
//! Columns: `student_id,name,class,mentor,date_of_birth[,left_on]`, any
//! order, header required. `left_on` is the date a student left the
//! school; the five-year retention of attendance data counts from it.

use std::io::Write;
use std::path::Path;

use aanwezig_domain::{Student, StudentId};
use chrono::NaiveDate;

use crate::error::{ErrorList, ImportErrors};
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
];

const MAX_NAME: usize = 200;
const MAX_CLASS: usize = 32;

struct StudentSink {
    pos: [usize; 5],
    left_on: Option<usize>,
    seen: FastMap<String, u64>,
    out: Vec<StudentRow>,
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

impl Sink for StudentSink {
    type Output = Vec<StudentRow>;

    fn columns(&self) -> &'static [(&'static str, bool)] {
        COLUMNS
    }

    fn header(&mut self, positions: &[Option<usize>], _errs: &mut ErrorList) -> bool {
        for (slot, p) in self.pos.iter_mut().zip(positions) {
            // Required columns are present: map_header checked them.
            *slot = p.unwrap_or(usize::MAX);
        }
        self.left_on = positions.get(5).copied().flatten();
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
                    format!("vertrekdatum {l} ligt niet na de geboortedatum {b}"),
                );
            }
        }

        // All or nothing: once any row failed, stop building output.
        if !errs.is_empty() {
            return;
        }
        if let (Some(id), Some(name), Some(class), Some(mentor), Some(dob), Some(left_on)) =
            (id, name, class, mentor, dob, left_on)
        {
            self.out.push(StudentRow {
                student: Student {
                    id,
                    name,
                    class,
                    mentor,
                    date_of_birth: dob,
                    bsn: None,
                    onderwijsnummer: None,
                },
                left_on,
            });
        }
    }

    fn finish(self) -> Vec<StudentRow> {
        self.out
    }
}

fn sink() -> StudentSink {
    StudentSink {
        pos: [usize::MAX; 5],
        left_on: None,
        seen: FastMap::default(),
        out: Vec::new(),
    }
}

/// Reads a students CSV (UTF-8, a BOM is allowed). Every bad row gets an
/// error; when there is any, nothing is returned.
pub fn read_students<R: std::io::Read>(r: R, file: &str) -> Result<Vec<StudentRow>, ImportErrors> {
    read_csv(r, file, sink())
}

/// Reads the first sheet of a workbook with the same columns as the CSV.
pub fn read_students_xlsx(path: &Path) -> Result<Vec<StudentRow>, ImportErrors> {
    read_workbook(path, sink())
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

/// Writes the canonical students CSV (with the `left_on` column).
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
        let cols: Vec<_> = e.errors.iter().map(|r| (r.line, r.column)).collect();
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
        assert!(m[1].contains("ontbreken in de kopregel: class"), "{m:?}");
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
                "s.csv, regel 7, kolom left_on: vertrekdatum 2011-01-01 ligt niet na de geboortedatum 2012-01-01",
                "s.csv, regel 9, kolom student_id: leerlingnummer 9 staat al op regel 8",
            ]
        );
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
        assert_eq!(e.errors[0].column, Some("name"));
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
