//! Text forms of dates, instants and registration batches, shared by the
//! backends.
//!
//! Dates are `YYYY-MM-DD` and instants RFC 3339 UTC with nanoseconds: both
//! sort as text in time order and read well in a database shell. The date
//! functions are hand-written because they run once per registration on
//! import and read, millions of times, where chrono's general formatter and
//! parser cost several times more.

use std::borrow::Cow;
use std::collections::HashMap;

use aanwezig_domain::{Category, RegistrationRecord, StudentId};
use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, Utc};
use serde::Deserialize;

use crate::error::{Result, StoreError};

/// Appends `date` as `YYYY-MM-DD`. Years outside 0..=9999 have no such form
/// and are refused.
pub fn push_date(out: &mut Vec<u8>, date: NaiveDate) -> Result<()> {
    let year = date.year();
    if !(0..=9999).contains(&year) {
        return Err(StoreError::Conflict(format!(
            "date {date} is outside the years 0000-9999"
        )));
    }
    let (y, m, d) = (year as u32, date.month(), date.day());
    out.extend_from_slice(&[
        b'0' + (y / 1000) as u8,
        b'0' + (y / 100 % 10) as u8,
        b'0' + (y / 10 % 10) as u8,
        b'0' + (y % 10) as u8,
        b'-',
        b'0' + (m / 10) as u8,
        b'0' + (m % 10) as u8,
        b'-',
        b'0' + (d / 10) as u8,
        b'0' + (d % 10) as u8,
    ]);
    Ok(())
}

/// `date` as `YYYY-MM-DD`.
pub fn date_text(date: NaiveDate) -> Result<String> {
    let mut out = Vec::with_capacity(10);
    push_date(&mut out, date)?;
    String::from_utf8(out).map_err(|e| StoreError::Invalid(e.to_string()))
}

/// Parses `YYYY-MM-DD` exactly.
pub fn parse_date(s: &str) -> Result<NaiveDate> {
    let b = s.as_bytes();
    let digit = |i: usize| -> Option<u32> {
        let c = *b.get(i)?;
        c.is_ascii_digit().then(|| u32::from(c - b'0'))
    };
    let parsed = (|| {
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let y = digit(0)? * 1000 + digit(1)? * 100 + digit(2)? * 10 + digit(3)?;
        let m = digit(5)? * 10 + digit(6)?;
        let d = digit(8)? * 10 + digit(9)?;
        NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, d)
    })();
    parsed.ok_or_else(|| StoreError::Invalid(format!("not a date: {s:?}")))
}

/// Parses an optional stored date.
pub fn parse_opt_date(s: Option<&str>) -> Result<Option<NaiveDate>> {
    s.map(parse_date).transpose()
}

/// `at` as fixed-width RFC 3339 UTC text with nanoseconds.
pub fn instant_text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// Parses text written by [`instant_text`] (any RFC 3339 is accepted).
pub fn parse_instant(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Invalid(format!("not an instant: {s:?}: {e}")))
}

/// Parses a stored student number.
pub fn parse_student_id(s: &str) -> Result<StudentId> {
    StudentId::parse(s).map_err(|e| StoreError::Invalid(format!("student number {s:?}: {e}")))
}

/// The stored number of a category: the domain's explicit `repr(u8)`
/// discriminant, mirrored by the `categories` table of the schema.
pub fn category_number(c: Category) -> u8 {
    c as u8
}

/// Parses a stored category number.
pub fn parse_category(n: i64) -> Result<Category> {
    u8::try_from(n)
        .ok()
        .and_then(Category::from_u8)
        .ok_or_else(|| StoreError::Invalid(format!("unknown category number {n}")))
}

/// Converts a stored integer to the domain's narrower type.
pub fn narrow<T: TryFrom<i64>>(what: &str, v: i64) -> Result<T> {
    T::try_from(v).map_err(|_| StoreError::Invalid(format!("{what} out of range: {v}")))
}

/// Converts a count to the database's integer type.
pub fn to_i64(v: u64) -> Result<i64> {
    i64::try_from(v).map_err(|_| StoreError::Conflict(format!("count too large: {v}")))
}

/// Converts a stored count back.
pub fn to_u64(v: i64) -> Result<u64> {
    narrow("count", v)
}

/// Maps student numbers to internal keys while encoding a batch. Consecutive
/// records are usually of the same student, so the last lookup is kept.
pub struct StudentKeys<'a> {
    keys: &'a HashMap<String, i64>,
    last: Option<(&'a str, i64)>,
}

impl<'a> StudentKeys<'a> {
    pub fn new(keys: &'a HashMap<String, i64>) -> Self {
        StudentKeys { keys, last: None }
    }

    pub fn get(&mut self, id: &'a StudentId) -> Result<i64> {
        let s = id.as_str();
        if let Some((last, key)) = self.last {
            if last == s {
                return Ok(key);
            }
        }
        let key = *self
            .keys
            .get(s)
            .ok_or_else(|| StoreError::Conflict(format!("registration for unknown student {s}")))?;
        self.last = Some((s, key));
        Ok(key)
    }
}

/// One registration as `json_array(date, lesson, minutes, code, category,
/// minutes_late, note)`, borrowing from the JSON text where it can.
#[derive(Deserialize)]
struct RawRecord<'a>(
    #[serde(borrow)] Cow<'a, str>,
    u8,
    u16,
    #[serde(borrow)] Option<Cow<'a, str>>,
    i64,
    u16,
    #[serde(borrow)] Option<Cow<'a, str>>,
);

/// Decodes one student's registrations from the JSON array the read query
/// aggregates, and makes sure they are sorted by `(date, lesson)`.
pub fn decode_student_json(student: &StudentId, json: &str) -> Result<Vec<RegistrationRecord>> {
    let raw: Vec<RawRecord<'_>> = serde_json::from_str(json)
        .map_err(|e| StoreError::Invalid(format!("registrations of {student}: {e}")))?;
    let mut out = Vec::with_capacity(raw.len());
    for RawRecord(date, lesson, minutes, code, category, minutes_late, note) in raw {
        out.push(RegistrationRecord {
            student: student.clone(),
            date: parse_date(&date)?,
            lesson,
            minutes,
            code: code.map(Cow::into_owned),
            category: parse_category(category)?,
            minutes_late,
            note: note.map(Cow::into_owned),
        });
    }
    // The query scans the primary key, so this is sorted already; the check
    // is linear and keeps the promise independent of the query plan.
    if !out.is_sorted_by_key(|r| (r.date, r.lesson)) {
        out.sort_by_key(|r| (r.date, r.lesson));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_bad_text_is_invalid() {
        for (y, m, d) in [(2025, 9, 1), (1999, 12, 31), (2, 1, 1), (9999, 2, 28)] {
            let date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            let text = date_text(date).unwrap();
            assert_eq!(text, date.format("%Y-%m-%d").to_string());
            assert_eq!(parse_date(&text).unwrap(), date);
        }
        for bad in ["2025-02-30", "2025-9-01", "2025/09/01", "20250901xx", ""] {
            assert!(
                matches!(parse_date(bad), Err(StoreError::Invalid(_))),
                "{bad}"
            );
        }
        let far = NaiveDate::from_ymd_opt(10000, 1, 1).unwrap();
        assert!(date_text(far).is_err());
    }

    #[test]
    fn instants_keep_nanoseconds() {
        let at = DateTime::parse_from_rfc3339("2025-09-01T08:00:00.123456789Z")
            .unwrap()
            .with_timezone(&Utc);
        let text = instant_text(at);
        assert_eq!(text, "2025-09-01T08:00:00.123456789Z");
        assert_eq!(parse_instant(&text).unwrap(), at);
    }

    #[test]
    fn student_keys_refuse_unknown_students() {
        let keys: HashMap<String, i64> = [("1001".to_owned(), 7)].into();
        let known = StudentId::parse("1001").unwrap();
        let stranger = StudentId::parse("999").unwrap();
        let mut lookup = StudentKeys::new(&keys);
        assert_eq!(lookup.get(&known).unwrap(), 7);
        assert_eq!(lookup.get(&known).unwrap(), 7);
        assert!(matches!(lookup.get(&stranger), Err(StoreError::Conflict(m)) if m.contains("999")));
    }

    #[test]
    fn category_numbers_round_trip() {
        for c in Category::ALL {
            assert_eq!(parse_category(i64::from(category_number(c))).unwrap(), c);
        }
        assert!(matches!(parse_category(9), Err(StoreError::Invalid(_))));
        assert!(matches!(parse_category(-1), Err(StoreError::Invalid(_))));
    }

    #[test]
    fn student_json_decodes_and_sorts() {
        let id = StudentId::parse("1").unwrap();
        let json = r#"[["2025-09-02",1,50,null,0,0,null],
                       ["2025-09-01",2,100,"L",1,5,"bus \"te laat\""]]"#;
        let recs = decode_student_json(&id, json).unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].date, NaiveDate::from_ymd_opt(2025, 9, 1).unwrap());
        assert_eq!(recs[0].note.as_deref(), Some("bus \"te laat\""));
        assert_eq!(recs[0].category, Category::LateUnexcused);
        assert_eq!(recs[1].lesson, 1);
        let bad = r#"[["2025-09-02",1,50,null,12,0,null]]"#;
        assert!(matches!(
            decode_student_json(&id, bad),
            Err(StoreError::Invalid(_))
        ));
    }
}
