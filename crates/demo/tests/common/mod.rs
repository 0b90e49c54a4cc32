//! Shared test helpers: calendars built from `SchoolYear`s, and the count of
//! signals per rule (from the domain engine) to check that the demo data
//! exercises every rule of rules.md §4.

#![allow(dead_code)]

use aanwezig_domain::{
    Calendar, Engine, FreeDay, FreeDayKind, LessonSlot, Policy, Registration, RuleId, SchoolYear,
    StudentContext,
};
use chrono::NaiveDate;

pub fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
}

fn free(name: &str, kind: FreeDayKind, first: NaiveDate, last: NaiveDate) -> FreeDay {
    FreeDay {
        name: name.into(),
        kind,
        first,
        last,
        unconfirmed: false,
    }
}

fn lessons(n: u8, minutes: u16) -> Vec<LessonSlot> {
    (1..=n)
        .map(|number| LessonSlot {
            number,
            minutes,
            start: None,
        })
        .collect()
}

/// 2025–2026, region noord, as in the brief: herfst, kerst, voorjaar and
/// mei vakantie, the studiedag of rules.md §6, seven lessons of 50 minutes.
pub fn year_2025_2026() -> SchoolYear {
    SchoolYear {
        name: "2025-2026".into(),
        region: Some("noord".into()),
        first_day: ymd(2025, 8, 25),
        last_day: ymd(2026, 7, 3),
        free_days: vec![
            free(
                "herfstvakantie",
                FreeDayKind::Vakantie,
                ymd(2025, 10, 18),
                ymd(2025, 10, 26),
            ),
            free(
                "studiedag",
                FreeDayKind::Studiedag,
                ymd(2025, 11, 24),
                ymd(2025, 11, 24),
            ),
            free(
                "kerstvakantie",
                FreeDayKind::Vakantie,
                ymd(2025, 12, 20),
                ymd(2026, 1, 4),
            ),
            free(
                "voorjaarsvakantie",
                FreeDayKind::Vakantie,
                ymd(2026, 2, 21),
                ymd(2026, 3, 1),
            ),
            free(
                "meivakantie",
                FreeDayKind::Vakantie,
                ymd(2026, 4, 18),
                ymd(2026, 5, 3),
            ),
        ],
        lessons: lessons(7, 50),
    }
}

pub fn calendar() -> Calendar {
    Calendar::new(vec![year_2025_2026()]).expect("valid calendar")
}

/// Two school years with different timetables: the second has four
/// lessons of 45 minutes and a 100-minute block as lesson 6 (no lesson 5).
pub fn two_year_calendar() -> Calendar {
    let mut slots = lessons(4, 45);
    slots.push(LessonSlot {
        number: 6,
        minutes: 100,
        start: Some("13:30".into()),
    });
    let second = SchoolYear {
        name: "2026-2027".into(),
        region: Some("noord".into()),
        first_day: ymd(2026, 8, 17),
        last_day: ymd(2026, 12, 18),
        free_days: vec![free(
            "herfstvakantie",
            FreeDayKind::Vakantie,
            ymd(2026, 10, 17),
            ymd(2026, 10, 25),
        )],
        lessons: slots,
    };
    Calendar::new(vec![second, year_2025_2026()]).expect("valid calendar")
}

/// How often each rule of rules.md §4 fires for one student.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fired {
    pub contact: u32,
    pub afmelding_count: u32,
    pub afmelding_long: u32,
    pub unexplained: u32,
    pub afmelding_persist: u32,
    pub duo_16h: u32,
    pub duo_lrv: u32,
    pub duo_holiday: u32,
}

impl Fired {
    pub fn total(&self) -> u32 {
        self.contact
            + self.afmelding_count
            + self.afmelding_long
            + self.unexplained
            + self.afmelding_persist
            + self.duo_16h
            + self.duo_lrv
            + self.duo_holiday
    }

    pub const NAMES: [&'static str; 8] = [
        "contact",
        "afmelding_count",
        "afmelding_long",
        "unexplained",
        "afmelding_persist",
        "duo_16h",
        "duo_lrv",
        "duo_holiday",
    ];

    pub fn counts(&self) -> [u32; 8] {
        [
            self.contact,
            self.afmelding_count,
            self.afmelding_long,
            self.unexplained,
            self.afmelding_persist,
            self.duo_16h,
            self.duo_lrv,
            self.duo_holiday,
        ]
    }
}

/// How often each rule fires for one student over the whole calendar,
/// with the default policy: the engine of `aanwezig-domain`.
pub fn fired(cal: &Calendar, regs: &[Registration]) -> Fired {
    let policy = Policy::default();
    let ev = Engine::new(cal, &policy).evaluate(regs, &StudentContext::default(), None);
    let mut f = Fired::default();
    for s in &ev.signals {
        let slot = match s.rule {
            RuleId::Contact => &mut f.contact,
            RuleId::AfmeldingCount => &mut f.afmelding_count,
            RuleId::AfmeldingLong => &mut f.afmelding_long,
            RuleId::Unexplained => &mut f.unexplained,
            RuleId::AfmeldingPersist => &mut f.afmelding_persist,
            RuleId::Duo16h => &mut f.duo_16h,
            RuleId::DuoLrv => &mut f.duo_lrv,
            RuleId::DuoHoliday => &mut f.duo_holiday,
        };
        *slot += 1;
    }
    f
}
