//! Signals for people: dates instead of day numbers, lessons instead of
//! indices, and one plain Dutch sentence that says why a signal fired.
//!
//! [`SignalReport`] is also the documented JSON shape of `aanwezig evaluate
//! --format json` (docs/signals-json.md).

use chrono::{Locale, NaiveDate};
use serde::Serialize;

use crate::calendar::{Calendar, DayIdx};
use crate::category::Category;
use crate::hours::Hours;
use crate::policy::Policy;
use crate::registration::Registration;
use crate::signal::{RuleId, Signal, Step};

/// A span of dates, both inclusive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// The figures a signal counted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Counts {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub episodes: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub school_days: Option<u32>,
}

/// One lesson behind a signal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub date: NaiveDate,
    pub lesson: u8,
    pub minutes: u16,
    pub category: Category,
    #[serde(skip_serializing_if = "is_zero")]
    pub minutes_late: u16,
}

fn is_zero(v: &u16) -> bool {
    *v == 0
}

/// A signal as shown to people and written as JSON.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SignalReport {
    pub student: String,
    pub rule: RuleId,
    pub title: &'static str,
    pub step: Step,
    pub fired_on: NaiveDate,
    /// Whether the signal is still open on the day evaluated.
    pub open: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed_on: Option<NaiveDate>,
    pub window: Period,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hours: Option<Hours>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counts: Option<Counts>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub begin: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline: Option<NaiveDate>,
    pub evidence: Vec<Evidence>,
    pub explanation: String,
}

impl SignalReport {
    /// Builds the report of `s`, a signal of `student` evaluated up to `as_of`.
    pub fn new(
        s: &Signal,
        student: &str,
        cal: &Calendar,
        policy: &Policy,
        regs: &[Registration],
        as_of: DayIdx,
    ) -> SignalReport {
        let date = |d: DayIdx| cal.date(d);
        let counts = (s.episodes.is_some() || s.school_days.is_some()).then_some(Counts {
            episodes: s.episodes,
            school_days: s.school_days,
        });
        SignalReport {
            student: student.to_owned(),
            rule: s.rule,
            title: s.rule.title_nl(),
            step: s.rule.step(),
            fired_on: date(s.fired_on),
            open: s.is_open_on(as_of),
            closed_on: s.closed_on.filter(|c| *c <= as_of).map(date),
            window: Period {
                from: date(s.window.0),
                to: date(s.window.1),
            },
            hours: s.hours,
            counts,
            begin: s.begin.map(date),
            end: s.end.map(date),
            deadline: s.deadline,
            evidence: s
                .evidence
                .iter()
                .filter_map(|i| regs.get(*i as usize))
                .map(|r| Evidence {
                    date: date(r.day),
                    lesson: r.lesson,
                    minutes: r.minutes,
                    category: r.category,
                    minutes_late: r.minutes_late,
                })
                .collect(),
            explanation: explain(s, cal, policy, regs),
        }
    }
}

/// Dutch weekday names, Monday first, full and short (as chrono's
/// `nl_NL` locale writes them).
const WEEKDAYS_NL: [(&str, &str); 7] = [
    ("maandag", "ma"),
    ("dinsdag", "di"),
    ("woensdag", "wo"),
    ("donderdag", "do"),
    ("vrijdag", "vr"),
    ("zaterdag", "za"),
    ("zondag", "zo"),
];

/// Dutch month names, January first, full and short.
const MONTHS_NL: [(&str, &str); 12] = [
    ("januari", "jan"),
    ("februari", "feb"),
    ("maart", "mrt"),
    ("april", "apr"),
    ("mei", "mei"),
    ("juni", "jun"),
    ("juli", "jul"),
    ("augustus", "aug"),
    ("september", "sep"),
    ("oktober", "okt"),
    ("november", "nov"),
    ("december", "dec"),
];

/// A date in Dutch: `dinsdag 2 september 2025`. (Pages write hundreds of
/// dates; the name tables are much faster than a localized `strftime`,
/// and a test holds them to chrono's `nl_NL`.)
pub fn date_nl(d: NaiveDate) -> String {
    use chrono::Datelike;
    format!(
        "{} {} {} {}",
        WEEKDAYS_NL[d.weekday().num_days_from_monday() as usize].0,
        d.day(),
        MONTHS_NL[d.month0() as usize].0,
        d.year()
    )
}

/// A date in short Dutch: `di 2 sep`.
pub fn short_day_nl(d: NaiveDate) -> String {
    use chrono::Datelike;
    format!(
        "{} {} {}",
        WEEKDAYS_NL[d.weekday().num_days_from_monday() as usize].1,
        d.day(),
        MONTHS_NL[d.month0() as usize].1
    )
}

/// A count as Dutch writes it, with a dot between thousands:
/// `1.036.000`.
pub fn count_nl(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    out
}

/// A count with its noun in the right form: `1 les`, `3 lessen`,
/// `1.200 regels`.
pub fn counted_nl(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", count_nl(n), if n == 1 { one } else { many })
}

/// The text with its first letter in upper case, for a message that
/// starts with a date or a name: `Zaterdag 6 december 2025 valt …`.
pub fn capitalize_nl(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The Dutch name of a weekday: `maandag`.
pub fn weekday_nl(w: chrono::Weekday) -> &'static str {
    use chrono::Weekday;
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

/// A short date in Dutch: `2 sep`.
pub fn short_date_nl(d: NaiveDate) -> String {
    d.format_localized("%-d %b", Locale::nl_NL).to_string()
}

/// Items as a Dutch list: `a`, `a en b`, `a, b en c`.
pub fn list_nl(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} en {last}", init.join(", ")),
    }
}

/// What the lessons of a set of registrations were, in words:
/// `7 lessen ziek gemeld`, `3 lessen onbekend afwezig en 1 keer te laat`.
fn lesson_summary(regs: &[Registration], idx: &[u32]) -> String {
    let mut counts: Vec<(Category, u32)> = Vec::new();
    for r in idx.iter().filter_map(|i| regs.get(*i as usize)) {
        match counts.iter_mut().find(|(c, _)| *c == r.category) {
            Some((_, n)) => *n += 1,
            None => counts.push((r.category, 1)),
        }
    }
    let parts: Vec<String> = counts
        .iter()
        .map(|(c, n)| match c {
            Category::LateUnexcused | Category::LateExcused => {
                format!("{n} keer {}", c.label_nl())
            }
            _ if *n == 1 => format!("1 les {}", c.label_nl()),
            _ => format!("{n} lessen {}", c.label_nl()),
        })
        .collect();
    list_nl(&parts)
}

/// One plain Dutch sentence (or two) that says why `s` fired and what the
/// plan asks now.
pub fn explain(s: &Signal, cal: &Calendar, policy: &Policy, regs: &[Registration]) -> String {
    let day = date_nl(cal.date(s.fired_on));
    let deadline = s.deadline.map(date_nl).unwrap_or_default();
    let from = date_nl(cal.date(s.window.0));
    let hours = s.hours.unwrap_or(Hours::ZERO);
    match s.rule {
        RuleId::Contact => format!(
            "Op {day} de hele dag afwezig ({}), de schooldag ervoor nog niet. \
             Bel leerling of ouders uit belangstelling, uiterlijk {deadline} (stap 2).",
            lesson_summary(regs, &s.evidence)
        ),
        RuleId::AfmeldingCount => {
            let starts: Vec<String> = {
                let mut days: Vec<DayIdx> = s.evidence.iter().filter_map(|i| regs.get(*i as usize)).map(|r| r.day).collect();
                days.dedup();
                days.into_iter().map(|d| short_date_nl(cal.date(d))).collect()
            };
            format!(
                "{} afmeldingen begonnen binnen {} lesweken (van {from} tot en met {day}): op {}. \
                 Dat is de grens van de richtlijn ({} keer). Plan een gesprek met leerling en ouders en \
                 weeg af of de jeugdarts nodig is (stap 3a).",
                s.episodes.unwrap_or(0),
                policy.afmelding_count.window_weeks,
                list_nl(&starts),
                policy.afmelding_count.min_episodes
            )
        }
        RuleId::AfmeldingLong => format!(
            "Sinds {from} elke schooldag afgemeld; {day} is de {}e schooldag op rij. \
             Plan een gesprek met leerling en ouders en weeg af of de jeugdarts nodig is (stap 3a).",
            s.school_days.unwrap_or(0)
        ),
        RuleId::Unexplained => format!(
            "{hours} uur zonder geldige reden afwezig of te laat in de {} lesweken van {from} tot en met {day} ({}). \
             Voer een gesprek met leerling en ouders en weeg het preventief spreekuur leerplicht af (stap 3b).",
            policy.unexplained.window_weeks,
            lesson_summary(regs, &s.evidence)
        ),
        RuleId::AfmeldingPersist => {
            let since = date_nl(cal.date(s.window.0));
            match (s.episodes, s.school_days) {
                (Some(n), _) => format!(
                    "Na het 3a-signaal of -gesprek begon op {day} al de {n}e nieuwe afmelding (geteld vanaf {since}). \
                     Het gemelde verzuim houdt aan: overleg intern en met de jeugdarts, leerplicht of allebei (stap 4a)."
                ),
                (None, days) => format!(
                    "Na het 3a-signaal of -gesprek is een nieuwe afmelding op {day} al {} schooldagen oud. \
                     Het gemelde verzuim houdt aan: overleg intern en met de jeugdarts, leerplicht of allebei (stap 4a).",
                    days.unwrap_or(0)
                ),
            }
        }
        RuleId::Duo16h => format!(
            "{hours} uur zonder geldige reden afwezig van {} tot en met {}, binnen {} lesweken. \
             De wet vraagt een DUO-melding (16 uur), uiterlijk {deadline} (stap 4b).",
            s.begin.map(|d| date_nl(cal.date(d))).unwrap_or_default(),
            s.end.map(|d| date_nl(cal.date(d))).unwrap_or_default(),
            policy.duo_16h.window_weeks
        ),
        RuleId::DuoLrv => format!(
            "Sinds {} elke schooldag de hele dag zonder geldige reden afwezig ({} schooldagen), \
             meer dan {} lesweken. Doe een DUO-melding langdurig relatief verzuim, uiterlijk {deadline} (stap 4b).",
            s.begin.map(|d| date_nl(cal.date(d))).unwrap_or_default(),
            s.school_days.unwrap_or(0),
            policy.duo_lrv.window_weeks
        ),
        RuleId::DuoHoliday => {
            let (holiday, before) = cal.bordering_holiday(s.fired_on).unwrap_or_else(|| ("vakantie".to_owned(), true));
            let side = if before { "de laatste schooldag voor" } else { "de eerste schooldag na" };
            format!(
                "Zonder geldige reden afwezig op {day}, {side} de {}: {}. \
                 Dat vraagt een DUO-melding (verzuim rond een vakantie), uiterlijk {deadline} (stap 4b).",
                holiday.trim().to_lowercase(),
                lesson_summary(regs, &s.evidence)
            )
        }
    }
}

#[cfg(test)]
mod count_tests {
    use super::count_nl;

    #[test]
    fn counts_get_dutch_thousands_separators() {
        assert_eq!(count_nl(0), "0");
        assert_eq!(count_nl(999), "999");
        assert_eq!(count_nl(1000), "1.000");
        assert_eq!(count_nl(1_036_000), "1.036.000");
        assert_eq!(count_nl(12_345_678), "12.345.678");
    }
}

#[cfg(test)]
mod date_tests {
    use chrono::{Locale, NaiveDate};

    use super::{date_nl, short_day_nl};

    #[test]
    fn dutch_dates_read_as_chronos_nl_locale() {
        let mut d = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        for _ in 0..800 {
            assert_eq!(
                date_nl(d),
                d.format_localized("%A %-d %B %Y", Locale::nl_NL)
                    .to_string()
            );
            assert_eq!(
                short_day_nl(d),
                d.format_localized("%a %-d %b", Locale::nl_NL).to_string()
            );
            d = d.succ_opt().unwrap();
        }
        assert_eq!(
            date_nl(NaiveDate::from_ymd_opt(2025, 9, 2).unwrap()),
            "dinsdag 2 september 2025"
        );
    }
}

#[cfg(test)]
mod list_tests {
    use super::list_nl;

    #[test]
    fn items_read_as_a_dutch_list() {
        assert_eq!(list_nl(&[]), "");
        assert_eq!(list_nl(&["a".into()]), "a");
        assert_eq!(list_nl(&["a".into(), "b".into()]), "a en b");
        assert_eq!(list_nl(&["a".into(), "b".into(), "c".into()]), "a, b en c");
    }
}
