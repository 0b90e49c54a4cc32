//! Checking one lesson change the way the import checks a row: the date is
//! a school day, the lesson is in that year's schedule, the
//! code is one of the policy's, late minutes only for late arrival, and no
//! note on a sick lesson (the nature of an illness is never recorded).

use aanwezig_domain::explain::date_nl;
use aanwezig_domain::{Calendar, Category, Policy, Registration, RegistrationRecord, StudentId};
use aanwezig_import::MAX_NOTE_CHARS;
use chrono::NaiveDate;

use crate::error::PageError;

use super::views::RegistrationInput;

/// The lesson `lesuur` of `datum` for `student` as `input` asks, or every
/// problem in one Dutch message. `existing` are the student's registrations
/// (sorted); a lesson already registered keeps its duration, a new one gets
/// the schedule's.
pub(super) fn record(
    cal: &Calendar,
    policy: &Policy,
    student: &StudentId,
    datum: &str,
    lesuur: &str,
    existing: &[Registration],
    input: RegistrationInput,
) -> Result<RegistrationRecord, PageError> {
    let mut errors: Vec<String> = Vec::new();

    let date = NaiveDate::parse_from_str(datum.trim(), "%Y-%m-%d").ok();
    if date.is_none() {
        errors.push(format!(
            "'{datum}' is geen datum; schrijf die als JJJJ-MM-DD."
        ));
    }
    // A later school day is allowed, as on the register pages and in an
    // import: leave granted in advance is registered ahead. The rules only
    // look at it once the day has come.
    let day = date.and_then(|d| {
        let day = cal.index(d);
        if day.is_none() {
            errors.push(format!(
                "{} is geen schooldag volgens de schoolkalender.",
                date_nl(d)
            ));
        }
        day
    });

    let lesson: Option<u8> = lesuur.trim().parse().ok();
    if lesson.is_none() {
        errors.push(format!(
            "'{lesuur}' is geen lesuur; geef het nummer van een les uit het lesrooster."
        ));
    }
    let minutes = match (day, lesson) {
        (Some(d), Some(n)) => match cal.lesson(d, n) {
            Some(slot) => Some(
                existing
                    .binary_search_by_key(&(d, n), Registration::key)
                    .map_or(slot.minutes, |i| existing[i].minutes),
            ),
            None => {
                let (year, list) = cal
                    .year_of_date(cal.date(d))
                    .map(|y| {
                        let nums: Vec<String> =
                            y.lessons.iter().map(|l| l.number.to_string()).collect();
                        (y.name.clone(), nums.join(", "))
                    })
                    .unwrap_or_default();
                errors.push(format!(
                    "Lesuur {n} staat niet in het lesrooster van schooljaar {year} (lesuren: {list})."
                ));
                None
            }
        },
        _ => None,
    };

    let code = input
        .code
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    let from_code = match code {
        None => None,
        Some(c) => match policy.category_of(c) {
            Some(cat) => Some(cat),
            None => {
                let known: Vec<&str> = policy.codes.keys().map(String::as_str).collect();
                errors.push(if known.is_empty() {
                    format!("Code '{c}' bestaat niet: het beleid kent geen codes. Geef een categorie op.")
                } else {
                    format!(
                        "Code '{c}' staat niet in het beleid van de school (bekende codes: {}).",
                        known.join(", ")
                    )
                });
                None
            }
        },
    };
    let category = match (from_code, input.category) {
        (Some(a), Some(b)) if a != b => {
            errors.push(format!(
                "Code '{}' betekent '{}', maar als categorie staat er '{}'. Geef er één op, of twee die overeenkomen.",
                code.unwrap_or_default(),
                a.label_nl(),
                b.label_nl()
            ));
            None
        }
        (Some(c), _) | (None, Some(c)) => Some(c),
        (None, None) => {
            if code.is_none() {
                errors.push("Geef een code of een categorie op.".into());
            }
            None
        }
    };

    let minutes_late = input.minutes_late.unwrap_or(0);
    if let Some(c) = category {
        let late = matches!(c, Category::LateUnexcused | Category::LateExcused);
        if minutes_late > 0 && !late {
            errors.push(format!(
                "Minuten te laat horen alleen bij te laat komen, niet bij '{}'.",
                c.label_nl()
            ));
        }
    }
    if let Some(m) = minutes {
        if minutes_late > m {
            errors.push(format!(
                "{minutes_late} minuten te laat is langer dan de les duurt ({m} minuten)."
            ));
        }
    }

    let note = input
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    if let Some(n) = note {
        let len = n.chars().count();
        if len > MAX_NOTE_CHARS {
            errors.push(format!(
                "De notitie is {len} tekens lang; er passen er {MAX_NOTE_CHARS}."
            ));
        } else if category == Some(Category::ReportedSick) {
            errors.push(
                "Bij een ziekmelding hoort geen notitie: wat een leerling mankeert, leggen we nooit vast. \
                 Laat de notitie leeg."
                    .into(),
            );
        }
    }

    match (date, lesson, minutes, category) {
        (Some(date), Some(lesson), Some(minutes), Some(category)) if errors.is_empty() => {
            Ok(RegistrationRecord {
                student: student.clone(),
                date,
                lesson,
                minutes,
                code: code.map(str::to_owned),
                category,
                minutes_late,
                note: note.map(str::to_owned),
            })
        }
        _ => Err(PageError::BadRequest(errors.join(" "))),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn fixtures() -> (Calendar, Policy) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let years = aanwezig_import::parse_school_years(
            &std::fs::read_to_string(root.join("data/calendars/2025-2026-noord.toml")).unwrap(),
            "kalender",
        )
        .unwrap();
        let policy = aanwezig_import::parse_policy(
            &std::fs::read_to_string(root.join("data/policy/magister.toml")).unwrap(),
            "beleid",
        )
        .unwrap();
        (Calendar::new(years).unwrap(), policy)
    }

    fn check(
        datum: &str,
        lesuur: &str,
        input: RegistrationInput,
    ) -> Result<RegistrationRecord, String> {
        let (cal, policy) = fixtures();
        let id = StudentId::parse("1001").unwrap();
        record(&cal, &policy, &id, datum, lesuur, &[], input).map_err(|e| e.to_string())
    }

    fn code(c: &str) -> RegistrationInput {
        RegistrationInput {
            code: Some(c.into()),
            ..RegistrationInput::default()
        }
    }

    #[test]
    fn a_known_code_on_a_school_day() {
        let r = check("2025-11-13", "3", code("A")).unwrap();
        assert_eq!(r.category, Category::Unknown);
        assert_eq!(r.code.as_deref(), Some("A"));
        assert_eq!(r.minutes, 50);
    }

    #[test]
    fn refuses_what_the_import_refuses() {
        let e = check("2025-11-15", "3", code("A")).unwrap_err();
        assert!(
            e.contains("zaterdag 15 november 2025 is geen schooldag"),
            "{e}"
        );
        assert!(check("2025-11-17", "3", code("V")).is_ok(), "leave ahead");
        let e = check("2025-10-20", "3", code("A")).unwrap_err();
        assert!(e.contains("geen schooldag"), "{e}");
        let e = check("14-11-2025", "3", code("A")).unwrap_err();
        assert!(e.contains("geen datum"), "{e}");
        let e = check("2025-11-13", "12", code("A")).unwrap_err();
        assert!(e.contains("niet in het lesrooster"), "{e}");
        let e = check("2025-11-13", "3", code("QQ")).unwrap_err();
        assert!(e.contains("bekende codes"), "{e}");
        let e = check("2025-11-13", "3", RegistrationInput::default()).unwrap_err();
        assert!(e.contains("code of een categorie"), "{e}");
        let e = check(
            "2025-11-13",
            "3",
            RegistrationInput {
                code: Some("Z".into()),
                category: Some(Category::Unknown),
                ..RegistrationInput::default()
            },
        )
        .unwrap_err();
        assert!(e.contains("betekent"), "{e}");
        let e = check(
            "2025-11-13",
            "3",
            RegistrationInput {
                minutes_late: Some(10),
                ..code("A")
            },
        )
        .unwrap_err();
        assert!(e.contains("alleen bij te laat"), "{e}");
        let e = check(
            "2025-11-13",
            "3",
            RegistrationInput {
                note: Some("griep".into()),
                ..code("Z")
            },
        )
        .unwrap_err();
        assert!(e.contains("ziekmelding"), "{e}");
    }

    #[test]
    fn late_with_minutes_and_a_note() {
        let r = check(
            "2025-11-13",
            "1",
            RegistrationInput {
                minutes_late: Some(10),
                note: Some(" bus te laat ".into()),
                ..code("L")
            },
        )
        .unwrap();
        assert_eq!(r.category, Category::LateUnexcused);
        assert_eq!(r.minutes_late, 10);
        assert_eq!(r.note.as_deref(), Some("bus te laat"));
        let e = check(
            "2025-11-13",
            "1",
            RegistrationInput {
                minutes_late: Some(51),
                ..code("L")
            },
        )
        .unwrap_err();
        assert!(e.contains("langer dan de les"), "{e}");
    }
}
