//! The Rijksoverheid open-data school-holiday JSON
//! (`opendata.rijksoverheid.nl/v1/sources/rijksoverheid/infotypes/schoolholidays`).
//!
//! One document per school year looks like
//!
//! ```json
//! { "content": [ { "title": "Schoolvakanties 2025-2026", "schoolyear": "2025-2026 ",
//!     "vacations": [ { "type": "Herfstvakantie ", "compulsorydates": "false",
//!       "regions": [ { "region": "noord",
//!                      "startdate": "2025-10-18T00:00:00.000Z",
//!                      "enddate": "2025-10-26T00:00:00.000Z" } ] } ] } ] }
//! ```
//!
//! The all-years endpoint returns a list of such documents. The reader is
//! tolerant: strings are trimmed (types come with stray spaces and
//! newlines), regions compared case-insensitively, a `heel Nederland` entry
//! applies to every region, unknown fields are ignored.
//!
//! `startdate` and `enddate` are instants in UTC. Each is converted to
//! Dutch local time (Europe/Amsterdam, summer or winter time as on that
//! day) and its local date taken: the first and the last holiday day,
//! inclusive. The real feed ends a holiday at 23:59 local time, so
//! `2026-10-18T21:59:00.000Z` (summer time) and `2027-01-03T22:59:00.000Z`
//! (winter time) are the 18th and the 3rd; `…T00:00:00.000Z` is 01:00 or
//! 02:00 local, that same day. A start at `…T22:00:00.000Z` in summer time
//! is local midnight of the next day; an end exactly at local midnight
//! closes the day before it. A plain date (`2026-10-10`) is taken as it is.

use aanwezig_domain::{FreeDay, FreeDayKind, SchoolYear};
use chrono::{DateTime, NaiveDate, NaiveTime};
use chrono_tz::Europe::Amsterdam;
use serde_json::Value;

use crate::calendar::REGIONS;
use crate::error::ImportError;
use crate::text::parse_date;

/// The holidays of one school year for one region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RijksoverheidYear {
    /// The school year, e.g. `2025-2026`.
    pub school_year: String,
    /// The region asked for.
    pub region: String,
    /// The holidays, kind `vakantie`, sorted by start.
    pub holidays: Vec<FreeDay>,
    /// Names of the holidays whose dates are advice only
    /// (`compulsorydates: "false"`): a school may choose other dates.
    pub advisory: Vec<String>,
}

const NATIONWIDE: &str = "heel nederland";

fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).map(str::trim)
}

/// The Dutch local date of a Rijksoverheid timestamp (an RFC 3339 instant,
/// or a plain date). An `end` at exactly local midnight closes the day
/// before it (the holiday runs up to that instant).
fn timestamp_date(s: &str, end: bool) -> Option<NaiveDate> {
    let s = s.trim();
    if s.len() == 10 {
        return parse_date(s.as_bytes());
    }
    let local = DateTime::parse_from_rfc3339(s)
        .ok()?
        .with_timezone(&Amsterdam)
        .naive_local();
    if end && local.time() == NaiveTime::MIN {
        local.date().pred_opt()
    } else {
        Some(local.date())
    }
}

/// The school-year documents in the JSON: a single object with `content`,
/// a list of such objects, or a bare list of `content` entries.
fn year_entries(root: &Value) -> Vec<&Value> {
    let docs: Vec<&Value> = match root {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    docs.into_iter()
        .flat_map(|d| match d.get("content") {
            Some(Value::Array(c)) => c.iter().collect::<Vec<_>>(),
            Some(other) => vec![other],
            None if d.get("vacations").is_some() => vec![d],
            None => Vec::new(),
        })
        .collect()
}

fn bad(file: &str, message: String) -> ImportError {
    ImportError::Invalid {
        file: file.to_owned(),
        line: None,
        key: "content".into(),
        reason: message,
    }
}

/// Every school year in the JSON, with the holidays of `region`.
pub fn parse_rijksoverheid_all(
    json: &str,
    file: &str,
    region: &str,
) -> Result<Vec<RijksoverheidYear>, ImportError> {
    let region = region.trim().to_lowercase();
    if !REGIONS.contains(&region.as_str()) {
        return Err(ImportError::Invalid {
            file: file.to_owned(),
            line: None,
            key: "region".into(),
            reason: format!("regio '{region}' bestaat niet; kies noord, midden of zuid"),
        });
    }
    let root: Value = serde_json::from_str(json).map_err(|e| ImportError::Syntax {
        file: file.to_owned(),
        line: Some(e.line()),
        key: None,
        message: format!("ongeldige JSON: {e}"),
    })?;
    let entries = year_entries(&root);
    if entries.is_empty() {
        return Err(bad(
            file,
            "geen schooljaar gevonden (verwacht: content[].vacations[])".into(),
        ));
    }
    let mut years = Vec::new();
    for (i, entry) in entries.into_iter().enumerate() {
        let name = str_field(entry, "schoolyear")
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad(file, format!("content[{i}] heeft geen schoolyear")))?
            .to_owned();
        let vacations = entry
            .get("vacations")
            .and_then(Value::as_array)
            .ok_or_else(|| bad(file, format!("schooljaar {name} heeft geen vacations")))?;
        let mut holidays = Vec::new();
        let mut advisory = Vec::new();
        for (j, vac) in vacations.iter().enumerate() {
            let kind = str_field(vac, "type")
                .filter(|s| !s.is_empty())
                .ok_or_else(|| {
                    bad(
                        file,
                        format!("schooljaar {name}, vakantie {j} heeft geen type"),
                    )
                })?;
            // "Herfstvakantie" is a common noun in running Dutch text.
            let hname = kind.to_lowercase();
            let regions = vac.get("regions").and_then(Value::as_array);
            let pick = |want: &str| {
                regions.and_then(|rs| {
                    rs.iter()
                        .find(|r| str_field(r, "region").is_some_and(|x| x.to_lowercase() == want))
                })
            };
            // A region's own dates win over the nationwide entry.
            let Some(entry) = pick(&region).or_else(|| pick(NATIONWIDE)) else {
                continue;
            };
            let date = |key: &str| {
                str_field(entry, key)
                    .and_then(|t| timestamp_date(t, key == "enddate"))
                    .ok_or_else(|| {
                        bad(
                            file,
                            format!(
                                "schooljaar {name}, {hname}: {key} '{}' is geen datum",
                                str_field(entry, key).unwrap_or("")
                            ),
                        )
                    })
            };
            let (first, last) = (date("startdate")?, date("enddate")?);
            if last < first {
                return Err(bad(
                    file,
                    format!(
                        "schooljaar {name}, {hname}: enddate {last} ligt voor startdate {first}"
                    ),
                ));
            }
            let compulsory = match vac.get("compulsorydates") {
                Some(Value::Bool(b)) => *b,
                Some(Value::String(s)) => s.trim().eq_ignore_ascii_case("true"),
                _ => true,
            };
            if !compulsory {
                advisory.push(hname.clone());
            }
            holidays.push(FreeDay {
                name: hname,
                kind: FreeDayKind::Vakantie,
                first,
                last,
                unconfirmed: false,
            });
        }
        holidays.sort_by_key(|h| h.first);
        years.push(RijksoverheidYear {
            school_year: name,
            region: region.clone(),
            holidays,
            advisory,
        });
    }
    Ok(years)
}

/// The holidays of `region` from a Rijksoverheid school-holiday JSON that
/// holds one school year.
pub fn parse_rijksoverheid(
    json: &str,
    file: &str,
    region: &str,
) -> Result<RijksoverheidYear, ImportError> {
    let mut years = parse_rijksoverheid_all(json, file, region)?;
    if years.len() != 1 {
        let names: Vec<&str> = years.iter().map(|y| y.school_year.as_str()).collect();
        return Err(bad(
            file,
            format!(
                "het bestand bevat {} schooljaren ({}); lees het in via Instellingen › Kalender, of geef één schooljaar op",
                names.len(),
                names.join(", ")
            ),
        ));
    }
    Ok(years.remove(0))
}

/// Replaces the year's `vakantie` entries with `holidays`; public holidays
/// and the school's own free days stay. The result is sorted by date.
pub fn merge_holidays(year: &mut SchoolYear, holidays: Vec<FreeDay>) {
    year.free_days.retain(|f| f.kind != FreeDayKind::Vakantie);
    year.free_days.extend(
        holidays
            .into_iter()
            .filter(|h| h.kind == FreeDayKind::Vakantie),
    );
    year.free_days.sort_by_key(|f| f.first);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    const DOC: &str = r#"{
      "id": "x", "type": "schoolholidays",
      "content": [ { "title": "Schoolvakanties 2025-2026 ", "schoolyear": "2025-2026 ",
        "vacations": [
          { "type": "Herfstvakantie ", "compulsorydates": "false",
            "regions": [
              { "region": "noord", "startdate": "2025-10-18T00:00:00.000Z", "enddate": "2025-10-26T00:00:00.000Z" },
              { "region": "zuid ", "startdate": "2025-10-11T00:00:00.000Z", "enddate": "2025-10-19T00:00:00.000Z" } ] },
          { "type": " Kerstvakantie", "compulsorydates": "true",
            "regions": [ { "region": "heel Nederland", "startdate": "2025-12-19T23:00:00.000Z", "enddate": "2026-01-04T00:00:00.000Z" } ] },
          { "type": "Zomervakantie", "compulsorydates": "true",
            "regions": [
              { "region": "heel Nederland", "startdate": "2026-07-01T00:00:00.000Z", "enddate": "2026-08-01T00:00:00.000Z" },
              { "region": "Noord", "startdate": "2026-07-04T00:00:00.000Z", "enddate": "2026-08-16T00:00:00.000Z" } ] }
        ] } ] }"#;

    /// Name, first and last day of each holiday.
    fn spans(y: &RijksoverheidYear) -> Vec<(&str, NaiveDate, NaiveDate)> {
        y.holidays
            .iter()
            .map(|h| (h.name.as_str(), h.first, h.last))
            .collect()
    }

    #[test]
    fn picks_the_region_then_heel_nederland() {
        let y = parse_rijksoverheid(DOC, "r.json", "noord").unwrap();
        assert_eq!(y.school_year, "2025-2026");
        assert_eq!(
            spans(&y),
            [
                ("herfstvakantie", ymd(2025, 10, 18), ymd(2025, 10, 26)),
                // 23:00Z on the 19th is midnight of the 20th in Dutch time.
                ("kerstvakantie", ymd(2025, 12, 20), ymd(2026, 1, 4)),
                ("zomervakantie", ymd(2026, 7, 4), ymd(2026, 8, 16)),
            ]
        );
        assert_eq!(y.advisory, ["herfstvakantie"]);
        let z = parse_rijksoverheid(DOC, "r.json", "midden").unwrap();
        assert_eq!(z.holidays.len(), 2, "midden has no herfst entry here");
    }

    /// The feed as Rijksoverheid really publishes it: ends at 23:59 local
    /// time written in UTC, types with stray whitespace and newlines.
    const REAL_2026: &str = r#"{ "content": [ { "schoolyear": "2026-2027 ",
        "vacations": [
          { "type": "\n Herfstvakantie \n", "compulsorydates": "false",
            "regions": [ { "region": "noord", "startdate": "2026-10-10T00:00:00.000Z",
                           "enddate": "2026-10-18T21:59:00.000Z" } ] },
          { "type": "Kerstvakantie\n", "compulsorydates": "true",
            "regions": [ { "region": "heel Nederland", "startdate": "2026-12-18T23:00:00.000Z",
                           "enddate": "2027-01-03T22:59:00.000Z" } ] },
          { "type": "Meivakantie", "compulsorydates": "true",
            "regions": [ { "region": "heel Nederland", "startdate": "2027-04-23T22:00:00.000Z",
                           "enddate": "2027-05-02T22:00:00.000Z" } ] }
        ] } ] }"#;

    #[test]
    fn instants_are_read_as_dutch_local_days() {
        let y = parse_rijksoverheid(REAL_2026, "r.json", "noord").unwrap();
        assert_eq!(
            spans(&y),
            [
                // 21:59Z in summer time is 23:59 on Sunday 18 October.
                ("herfstvakantie", ymd(2026, 10, 10), ymd(2026, 10, 18)),
                // 23:00Z in winter time is midnight of the 19th; 22:59Z is
                // 23:59 on the 3rd.
                ("kerstvakantie", ymd(2026, 12, 19), ymd(2027, 1, 3)),
                // 22:00Z in summer time is local midnight: a start on the
                // next day, an end closing the day before it.
                ("meivakantie", ymd(2027, 4, 24), ymd(2027, 5, 2)),
            ]
        );
        assert_eq!(timestamp_date("2026-10-18", true), Some(ymd(2026, 10, 18)));
        assert_eq!(
            timestamp_date(" 2027-01-03T22:59:00+00:00 ", true),
            Some(ymd(2027, 1, 3))
        );
        // The old shape: midnight UTC is 01:00 or 02:00 local, that day.
        assert_eq!(
            timestamp_date("2025-10-26T00:00:00.000Z", true),
            Some(ymd(2025, 10, 26))
        );
        assert_eq!(
            timestamp_date("2026-10-18T21:59:00", true),
            None,
            "no offset: not an instant"
        );
    }

    /// The shipped fixture has the real feed's shape, and its holidays end on
    /// the Sunday they should (the Monday after stays a school day).
    #[test]
    fn the_shipped_fixture_ends_holidays_on_sunday() {
        let json = include_str!("../../../data/rijksoverheid/schoolvakanties-2025-2026.json");
        assert!(json.contains("T22:59:00.000Z") && json.contains("T21:59:00.000Z"));
        let y = parse_rijksoverheid(json, "f.json", "noord").unwrap();
        for h in &y.holidays {
            assert_eq!(
                chrono::Datelike::weekday(&h.last),
                chrono::Weekday::Sun,
                "{} ends {}",
                h.name,
                h.last
            );
        }
        let herfst = &y.holidays[0];
        assert_eq!(
            (herfst.first, herfst.last),
            (ymd(2025, 10, 18), ymd(2025, 10, 26))
        );
    }

    #[test]
    fn lists_of_documents_and_bad_input_are_handled() {
        let list = format!("[{DOC}, {}]", DOC.replace("2025-2026 ", "2026-2027"));
        let all = parse_rijksoverheid_all(&list, "r.json", "zuid").unwrap();
        assert_eq!(all.len(), 2);
        assert!(parse_rijksoverheid(&list, "r.json", "zuid")
            .unwrap_err()
            .to_string()
            .contains("2 schooljaren"));
        let e = parse_rijksoverheid(DOC, "r.json", "oost").unwrap_err();
        assert!(e.to_string().contains("regio 'oost'"), "{e}");
        let e = parse_rijksoverheid("{ \"content\": [ }", "r.json", "noord").unwrap_err();
        assert!(
            matches!(e, ImportError::Syntax { line: Some(1), .. }),
            "{e:?}"
        );
        let e = parse_rijksoverheid("{}", "r.json", "noord").unwrap_err();
        assert!(e.to_string().contains("geen schooljaar"), "{e}");
        let broken = DOC.replace("2025-10-26T00:00:00.000Z", "26 oktober");
        let e = parse_rijksoverheid(&broken, "r.json", "noord").unwrap_err();
        assert!(e.to_string().contains("enddate '26 oktober'"), "{e}");
    }

    #[test]
    fn merge_replaces_only_vakanties() {
        let mut year = SchoolYear {
            name: "2025-2026".into(),
            region: Some("noord".into()),
            first_day: ymd(2025, 8, 25),
            last_day: ymd(2026, 7, 3),
            free_days: vec![
                FreeDay {
                    name: "oude herfstvakantie".into(),
                    kind: FreeDayKind::Vakantie,
                    first: ymd(2025, 10, 11),
                    last: ymd(2025, 10, 19),
                    unconfirmed: true,
                },
                FreeDay {
                    name: "studiedag".into(),
                    kind: FreeDayKind::Studiedag,
                    first: ymd(2025, 11, 24),
                    last: ymd(2025, 11, 24),
                    unconfirmed: false,
                },
            ],
            lessons: Vec::new(),
        };
        let y = parse_rijksoverheid(DOC, "r.json", "noord").unwrap();
        merge_holidays(&mut year, y.holidays);
        let names: Vec<_> = year.free_days.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "herfstvakantie",
                "studiedag",
                "kerstvakantie",
                "zomervakantie"
            ]
        );
    }
}
