//! The demo school as the canonical CSV files of docs/formats.md.
//!
//! The students file goes through the `csv` crate (names may one day need
//! quoting). The registrations file is millions of rows of short, known
//! fields, so it is written by hand into one reused line buffer: dates are
//! formatted once per school day and numbers with a small digit writer,
//! which keeps 2.7 million rows well under a second.

use std::io::Write;

use aanwezig_domain::{Bsn, Calendar, Onderwijsnummer};

use crate::{DemoError, DemoSchool};

/// Header of the students file.
pub const STUDENTS_HEADER: [&str; 8] = [
    "student_id",
    "name",
    "class",
    "mentor",
    "date_of_birth",
    "left_on",
    "bsn",
    "onderwijsnummer",
];

/// Header of the registrations file.
pub const REGISTRATIONS_HEADER: [&str; 8] = [
    "student_id",
    "date",
    "lesson",
    "minutes",
    "code",
    "category",
    "minutes_late",
    "note",
];

pub(crate) fn write_students<W: Write>(school: &DemoSchool, w: W) -> Result<(), DemoError> {
    let mut out = csv::Writer::from_writer(w);
    out.write_record(STUDENTS_HEADER)?;
    for s in &school.students {
        let dob = s.date_of_birth.format("%Y-%m-%d").to_string();
        out.write_record([
            s.id.as_str(),
            &s.name,
            &s.class,
            &s.mentor,
            &dob,
            "",
            s.bsn.as_ref().map_or("", Bsn::as_str),
            s.onderwijsnummer
                .as_ref()
                .map_or("", Onderwijsnummer::as_str),
        ])?;
    }
    out.flush()?;
    Ok(())
}

pub(crate) fn write_registrations<W: Write>(
    school: &DemoSchool,
    cal: &Calendar,
    w: W,
    mut progress: impl FnMut(u64),
) -> Result<(), DemoError> {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, w);
    out.write_all(REGISTRATIONS_HEADER.join(",").as_bytes())?;
    out.write_all(b"\n")?;

    let dates: Vec<String> = cal
        .school_days()
        .iter()
        .map(|d| d.format("%Y-%m-%d").to_string())
        .collect();
    let mut line = Vec::with_capacity(96);
    let mut rows: u64 = 0;
    for (i, regs) in school.registrations.iter().enumerate() {
        let Some(student) = school.students.get(i) else {
            break;
        };
        let mut id = Vec::with_capacity(student.id.as_str().len() + 2);
        push_field(&mut id, student.id.as_str());
        for r in regs {
            line.clear();
            line.extend_from_slice(&id);
            line.push(b',');
            if let Some(date) = dates.get(usize::from(r.day)) {
                line.extend_from_slice(date.as_bytes());
            }
            line.push(b',');
            push_u16(&mut line, u16::from(r.lesson));
            line.push(b',');
            push_u16(&mut line, r.minutes);
            line.push(b',');
            match school.code(i, r) {
                Some(code) => {
                    // An absence row names its code and leaves the category
                    // to the school's mapping.
                    line.extend_from_slice(code.as_str().as_bytes());
                    line.push(b',');
                }
                None => {
                    // A present row has no code: the category is explicit.
                    line.extend_from_slice(b",");
                    line.extend_from_slice(r.category.as_str().as_bytes());
                }
            }
            line.push(b',');
            push_u16(&mut line, r.minutes_late);
            line.extend_from_slice(b",\n");
            out.write_all(&line)?;
        }
        rows += regs.len() as u64;
        progress(rows);
    }
    out.flush()?;
    Ok(())
}

/// Appends a CSV field, quoted only when it has to be.
fn push_field(buf: &mut Vec<u8>, s: &str) {
    if s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        buf.push(b'"');
        for b in s.bytes() {
            if b == b'"' {
                buf.push(b'"');
            }
            buf.push(b);
        }
        buf.push(b'"');
    } else {
        buf.extend_from_slice(s.as_bytes());
    }
}

/// Appends a number in decimal without going through `fmt`.
fn push_u16(buf: &mut Vec<u8>, mut v: u16) {
    let mut digits = [0u8; 5];
    let mut i = digits.len();
    loop {
        i -= 1;
        // `v % 10` is a single digit, so the narrowing is exact.
        digits[i] = b'0' + u8::try_from(v % 10).unwrap_or(0);
        v /= 10;
        if v == 0 {
            break;
        }
    }
    buf.extend_from_slice(&digits[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_fields_are_written_plainly() {
        let mut b = Vec::new();
        for v in [0, 7, 50, 65535] {
            push_u16(&mut b, v);
            b.push(b' ');
        }
        assert_eq!(b, b"0 7 50 65535 ");
        let mut f = Vec::new();
        push_field(&mut f, "a,\"b\"");
        assert_eq!(f, b"\"a,\"\"b\"\"\"");
    }
}
