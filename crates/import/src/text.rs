//! Small parsing helpers shared by the readers: dates, numbers, line
//! numbers from byte offsets, and Dutch wording for serde's messages.

use chrono::NaiveDate;

/// Parses exactly `YYYY-MM-DD`. Hand-written because the registration
/// reader calls it once per row and chrono's format parser is several times
/// slower than checking ten bytes.
#[inline]
pub(crate) fn parse_date(b: &[u8]) -> Option<NaiveDate> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let d = |i: usize| -> Option<u32> {
        let c = b[i];
        c.is_ascii_digit().then(|| u32::from(c - b'0'))
    };
    let y = d(0)? * 1000 + d(1)? * 100 + d(2)? * 10 + d(3)?;
    let m = d(5)? * 10 + d(6)?;
    let day = d(8)? * 10 + d(9)?;
    NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, day)
}

/// Parses a date as Dutch files write it: `JJJJ-MM-DD`, or day, month and
/// year with `-` or `/` (`8-9-2025`, `08-09-2025`, `8/9/2025`), as Dutch
/// Excel saves dates. The error says whether the text is no date at all
/// or a date that does not exist (`30-2-1999`).
pub(crate) fn parse_date_nl(b: &[u8]) -> Result<NaiveDate, DateProblem> {
    if let Some(d) = parse_date(b) {
        return Ok(d);
    }
    let digits = |p: &[u8], min: usize, max: usize| -> Option<u32> {
        (p.len() >= min && p.len() <= max && p.iter().all(u8::is_ascii_digit))
            .then(|| p.iter().fold(0u32, |v, c| v * 10 + u32::from(c - b'0')))
    };
    let iso = b.len() == 10 && b[4] == b'-' && b[7] == b'-';
    let (y, m, d) = if iso {
        (
            digits(&b[..4], 4, 4),
            digits(&b[5..7], 2, 2),
            digits(&b[8..], 2, 2),
        )
    } else {
        let sep = if b.contains(&b'/') { b'/' } else { b'-' };
        let mut parts = b.split(|c| *c == sep);
        let (Some(d), Some(m), Some(y), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(DateProblem::NoDate);
        };
        (digits(y, 4, 4), digits(m, 1, 2), digits(d, 1, 2))
    };
    let (Some(y), Some(m), Some(d)) = (y, m, d) else {
        return Err(DateProblem::NoDate);
    };
    i32::try_from(y)
        .ok()
        .and_then(|y| NaiveDate::from_ymd_opt(y, m, d))
        .ok_or(DateProblem::DoesNotExist)
}

/// Why [`parse_date_nl`] refused a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DateProblem {
    /// Not written as a date at all.
    NoDate,
    /// Written as a date, but there is no such day (`30-2-1999`).
    DoesNotExist,
}

impl DateProblem {
    /// The Dutch message for field text `b`.
    pub(crate) fn message(self, b: &[u8]) -> String {
        match self {
            DateProblem::NoDate => format!(
                "'{}' is geen datum; schrijf JJJJ-MM-DD of D-M-JJJJ",
                show(b)
            ),
            DateProblem::DoesNotExist => format!("{} bestaat niet", show(b)),
        }
    }
}

pub(crate) use aanwezig_domain::explain::weekday_nl;

/// Parses a non-negative decimal integer of at most `max`.
#[inline]
pub(crate) fn parse_uint(b: &[u8], max: u32) -> Option<u32> {
    if b.is_empty() || b.len() > 9 {
        return None;
    }
    let mut v: u32 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    (v <= max).then_some(v)
}

/// Shows a field's bytes in a message, shortened and lossily decoded.
pub(crate) fn show(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(b);
    if s.chars().count() > 40 {
        let mut t: String = s.chars().take(40).collect();
        t.push('…');
        t
    } else {
        s.into_owned()
    }
}

/// The 1-based line of byte offset `at` in `text`.
pub(crate) fn line_of(text: &str, at: usize) -> usize {
    let at = at.min(text.len());
    text.as_bytes()[..at]
        .iter()
        .filter(|&&c| c == b'\n')
        .count()
        + 1
}

/// The 1-based line where `key` (a dotted path such as
/// `duo_16h.window_weeks`) is set in a TOML document, found by a simple
/// scan of table headers and `key =` lines. Good enough to point a person
/// at the right line; `None` when the key is not written in the file (it
/// took its default).
pub(crate) fn find_key_line(text: &str, key: &str) -> Option<usize> {
    let (table, leaf) = match key.rsplit_once('.') {
        Some((t, l)) => (t, l),
        None => ("", key),
    };
    let mut current = String::new();
    let mut table_line = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.starts_with('[') {
            current = line
                .trim_start_matches('[')
                .split(']')
                .next()
                .unwrap_or("")
                .trim()
                .to_owned();
            if current == key {
                // The key is a whole table, e.g. `[codes]`.
                return Some(i + 1);
            }
            if current == table {
                table_line = Some(i + 1);
            }
            continue;
        }
        let Some((lhs, _)) = line.split_once('=') else {
            continue;
        };
        let lhs = lhs.trim().trim_matches('"');
        let full = if current.is_empty() {
            lhs.to_owned()
        } else {
            format!("{current}.{lhs}")
        };
        if full == key || (current == table && lhs == leaf) {
            return Some(i + 1);
        }
    }
    table_line
}

/// Dutch wording for the messages serde and the TOML parser produce.
pub(crate) fn dutch(message: &str) -> String {
    let m = message.trim();
    let first_tick = |s: &str| -> Option<String> {
        let start = s.find('`')? + 1;
        let len = s[start..].find('`')?;
        Some(s[start..start + len].to_owned())
    };
    let expected = |s: &str| -> String {
        s.split_once("expected ")
            .map(|(_, e)| e.replace('`', "").replace(" or ", " of "))
            .unwrap_or_default()
    };
    if m.starts_with("unknown field") {
        if let Some(k) = first_tick(m) {
            return format!(
                "onbekende sleutel '{k}' (toegestaan: {})",
                expected(m).replace("one of ", "")
            );
        }
    }
    if m.starts_with("unknown variant") {
        if let Some(k) = first_tick(m) {
            return format!(
                "onbekende waarde '{k}' (toegestaan: {})",
                expected(m).replace("one of ", "")
            );
        }
    }
    if m.starts_with("missing field") {
        if let Some(k) = first_tick(m) {
            return format!("verplichte sleutel '{k}' ontbreekt");
        }
    }
    if let Some(rest) = m.strip_prefix("invalid type: ") {
        return format!(
            "verkeerd type: {}",
            rest.replace(", expected ", ", verwacht: ")
        );
    }
    if let Some(rest) = m.strip_prefix("invalid value: ") {
        return format!("ongeldige waarde: {rest}");
    }
    if m.starts_with("duplicate key") {
        return format!("sleutel staat twee keer in het bestand ({m})");
    }
    m.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dutch_dates_are_read_and_impossible_ones_named() {
        let ok = |s: &str| parse_date_nl(s.as_bytes());
        let d = NaiveDate::from_ymd_opt(2025, 9, 8).unwrap();
        for s in [
            "2025-09-08",
            "8-9-2025",
            "08-09-2025",
            "8/9/2025",
            "08/09/2025",
        ] {
            assert_eq!(ok(s), Ok(d), "{s}");
        }
        for s in ["30-2-1999", "1999-02-30", "31/4/2025", "0-1-2025"] {
            assert_eq!(ok(s), Err(DateProblem::DoesNotExist), "{s}");
        }
        for s in [
            "",
            "8-9-25",
            "8.9.2025",
            "2025/09/08/1",
            "8-9",
            "a-b-cccc",
            "123-1-2025",
        ] {
            assert_eq!(ok(s), Err(DateProblem::NoDate), "{s}");
        }
        assert_eq!(
            DateProblem::DoesNotExist.message(b"30-2-1999"),
            "30-2-1999 bestaat niet"
        );
    }

    #[test]
    fn dates_are_checked_byte_by_byte() {
        assert_eq!(
            parse_date(b"2025-10-17"),
            NaiveDate::from_ymd_opt(2025, 10, 17)
        );
        assert_eq!(parse_date(b"2025-02-30"), None);
        assert_eq!(parse_date(b"2025-1-17"), None);
        assert_eq!(parse_date(b"17-10-2025"), None);
        assert_eq!(parse_date(b"2025/10/17"), None);
        assert_eq!(parse_date(b"2025-10-1x"), None);
    }

    #[test]
    fn uints_are_bounded() {
        assert_eq!(parse_uint(b"50", 600), Some(50));
        assert_eq!(parse_uint(b"601", 600), None);
        assert_eq!(parse_uint(b"-1", 600), None);
        assert_eq!(parse_uint(b"", 600), None);
        assert_eq!(parse_uint(b"1.5", 600), None);
    }

    #[test]
    fn key_lines_are_found_in_tables_and_dotted_keys() {
        let text = "school = \"x\"\n[duo_16h]\nhours = 16\nwindow_weeks = 4\n\n[codes]\nZ = \"reported_sick\"\n";
        assert_eq!(find_key_line(text, "school"), Some(1));
        assert_eq!(find_key_line(text, "duo_16h.window_weeks"), Some(4));
        assert_eq!(find_key_line(text, "codes.Z"), Some(7));
        assert_eq!(find_key_line(text, "codes"), Some(6));
        // Not written: falls back to the table, or nothing.
        assert_eq!(find_key_line(text, "duo_16h.enabled"), Some(2));
        assert_eq!(find_key_line(text, "duo_lrv.window_weeks"), None);
        assert_eq!(
            find_key_line("duo_16h.hours = 3\n", "duo_16h.hours"),
            Some(1)
        );
    }

    #[test]
    fn serde_messages_become_dutch() {
        assert_eq!(
            dutch("unknown field `foo`, expected `enabled` or `day`"),
            "onbekende sleutel 'foo' (toegestaan: enabled of day)"
        );
        assert!(
            dutch("unknown variant `ziek`, expected one of `present`, `unknown`")
                .starts_with("onbekende waarde 'ziek'")
        );
        assert_eq!(
            dutch("missing field `name`"),
            "verplichte sleutel 'name' ontbreekt"
        );
    }
}

/// A moment as Somtoday writes one, read as the day it falls on in the
/// Netherlands: an ISO date-time with an offset (`2025-09-08T08:30:00+02:00`,
/// `…Z`), a local date-time without one (`2025-09-08 08:30`,
/// `8-9-2025 08:30`), or a date alone (any form [`parse_date_nl`] reads).
/// Returns the local date and whether the moment is exactly midnight there
/// (an end at midnight closes the day before).
pub(crate) fn parse_moment_nl(b: &[u8]) -> Result<(NaiveDate, bool), String> {
    use chrono::{DateTime, NaiveDateTime, NaiveTime};
    use chrono_tz::Europe::Amsterdam;
    let Ok(s) = std::str::from_utf8(b) else {
        return Err(format!("'{}' is geen datum of tijdstip", show(b)));
    };
    let s = s.trim();
    match parse_date_nl(s.as_bytes()) {
        Ok(d) => return Ok((d, false)),
        Err(DateProblem::DoesNotExist) => return Err(format!("{} bestaat niet", show(b))),
        Err(DateProblem::NoDate) => {}
    }
    let local = if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        Some(t.with_timezone(&Amsterdam).naive_local())
    } else {
        const LOCAL: [&str; 6] = [
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%d %H:%M:%S%.f",
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%d %H:%M",
            "%d-%m-%Y %H:%M:%S",
            "%d-%m-%Y %H:%M",
        ];
        LOCAL
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
    };
    match local {
        Some(t) => Ok((t.date(), t.time() == NaiveTime::MIN)),
        None => Err(match s.get(..10).map(|d| parse_date_nl(d.as_bytes())) {
            Some(Err(DateProblem::DoesNotExist)) => {
                format!("{} bestaat niet", show(b))
            }
            _ => format!(
                "'{}' is geen datum of tijdstip; schrijf bijvoorbeeld 2025-09-08T08:30:00+02:00 of 8-9-2025",
                show(b)
            ),
        }),
    }
}

#[cfg(test)]
mod moment_tests {
    use super::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn moments_are_read_as_dutch_local_days() {
        let p = |s: &str| parse_moment_nl(s.as_bytes());
        assert_eq!(p("2025-09-08T08:30:00+02:00"), Ok((ymd(2025, 9, 8), false)));
        // 23:30 UTC on 7 September is half past one on the 8th in summer.
        assert_eq!(p("2025-09-07T23:30:00Z"), Ok((ymd(2025, 9, 8), false)));
        assert_eq!(p("2025-09-07T22:00:00.000Z"), Ok((ymd(2025, 9, 8), true)));
        // Winter time: one hour ahead of UTC.
        assert_eq!(p("2025-12-01T23:00:00Z"), Ok((ymd(2025, 12, 2), true)));
        assert_eq!(p("2025-09-08 08:30"), Ok((ymd(2025, 9, 8), false)));
        assert_eq!(p("8-9-2025 00:00"), Ok((ymd(2025, 9, 8), true)));
        assert_eq!(p("8-9-2025"), Ok((ymd(2025, 9, 8), false)));
        assert_eq!(p("30-2-2025").unwrap_err(), "30-2-2025 bestaat niet");
        assert!(p("gisteren")
            .unwrap_err()
            .contains("geen datum of tijdstip"));
    }
}
