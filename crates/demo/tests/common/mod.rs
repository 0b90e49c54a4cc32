//! Shared test helpers: calendars built from `SchoolYear`s, and a plain,
//! slow reading of the rules of rules.md §4 to check that the demo data
//! exercises them. This is a test oracle, not the engine: it follows the
//! rule text literally, one student at a time.

#![allow(dead_code)]

use aanwezig_domain::{
    Calendar, Category, DayIdx, FreeDay, FreeDayKind, LessonSlot, Policy, Registration, SchoolYear,
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

#[derive(Clone, Copy, Default)]
struct Day {
    whole_absent_not_only_authorized: bool,
    whole_unexplained: bool,
    afmelding: bool,
    unknown_or_unauthorized: bool,
    unexplained_minutes: u32,
}

/// The rules of rules.md §4 with the default policy, over one student's
/// registrations (all scheduled lessons, sorted).
pub fn fired(cal: &Calendar, regs: &[Registration]) -> Fired {
    let policy = Policy::default();
    let n = regs.last().map_or(0, |r| usize::from(r.day) + 1);
    let mut days = vec![Day::default(); n];
    let mut i = 0;
    while i < regs.len() {
        let d = usize::from(regs[i].day);
        let mut j = i;
        while j < regs.len() && usize::from(regs[j].day) == d {
            j += 1;
        }
        let lessons = &regs[i..j];
        let all_absent = lessons.iter().all(|r| r.category.is_absence());
        days[d] = Day {
            whole_absent_not_only_authorized: all_absent
                && lessons.iter().any(|r| r.category != Category::Authorized),
            whole_unexplained: lessons
                .iter()
                .all(|r| matches!(r.category, Category::Unknown | Category::Unauthorized)),
            afmelding: lessons
                .iter()
                .any(|r| matches!(r.category, Category::ReportedSick | Category::ReportedOther)),
            unknown_or_unauthorized: lessons
                .iter()
                .any(|r| matches!(r.category, Category::Unknown | Category::Unauthorized)),
            unexplained_minutes: lessons
                .iter()
                .map(|r| policy.unexplained_minutes(r.category, r.minutes, r.minutes_late))
                .sum(),
        };
        i = j;
    }

    let idx = |d: usize| DayIdx::try_from(d).expect("day index");
    let mut f = Fired::default();
    let mut episode_starts: Vec<usize> = Vec::new();
    let mut run = 0u32; // length of the current episode so far
    let mut run_start = 0usize;
    let mut prev_count = false;
    let mut prev_unexplained = false;
    let mut prev_lrv = false;
    let mut latest_3a: Option<usize> = None;
    let mut reset: Option<usize> = None;
    let mut last_16h: Option<usize> = None;
    for d in 0..n {
        let day = days[d];
        // contact
        if day.whole_absent_not_only_authorized
            && !(d > 0 && days[d - 1].whole_absent_not_only_authorized)
        {
            f.contact += 1;
        }
        // episodes
        if day.afmelding {
            if run == 0 {
                run_start = d;
                episode_starts.push(d);
            }
            run += 1;
        } else {
            run = 0;
        }
        let mut fired_3a = false;
        // afmelding_count: rising edge of ">= 4 starts in window(d, 12)"
        let w12 = usize::from(cal.window_start(idx(d), 12));
        let count = episode_starts.iter().filter(|&&s| s >= w12).count() >= 4;
        if count && !prev_count {
            f.afmelding_count += 1;
            fired_3a = true;
        }
        prev_count = count;
        // afmelding_long
        if run == 7 {
            f.afmelding_long += 1;
            fired_3a = true;
        }
        // afmelding_persist, counting from the day after the latest 3a
        // signal before d.
        if let Some(l) = latest_3a {
            let new: Vec<usize> = episode_starts.iter().copied().filter(|&s| s > l).collect();
            let second_new_starts_today = new.len() == 2 && new[1] == d;
            let new_reaches_7th = run == 7 && run_start > l;
            if second_new_starts_today || new_reaches_7th {
                f.afmelding_persist += 1;
            }
        }
        if fired_3a {
            latest_3a = Some(d);
        }
        // unexplained (min_hours 0)
        let w4 = usize::from(cal.window_start(idx(d), 4));
        let sum: u32 = days[w4..=d].iter().map(|x| x.unexplained_minutes).sum();
        let unexplained = sum > 0;
        if unexplained && !prev_unexplained {
            f.unexplained += 1;
        }
        prev_unexplained = unexplained;
        // duo_16h
        let from = reset.map_or(w4, |r| w4.max(r + 1));
        let sum16: u32 = days[from..=d].iter().map(|x| x.unexplained_minutes).sum();
        let spaced = last_16h.is_none_or(|p| (cal.date(idx(d)) - cal.date(idx(p))).num_days() >= 7);
        if sum16 >= 16 * 60 && spaced {
            f.duo_16h += 1;
            reset = Some(d);
            last_16h = Some(d);
        }
        // duo_lrv
        let lrv = d > 0 && {
            let prev = d - 1;
            let ws = usize::from(cal.window_start(idx(prev), 4));
            cal.window_complete(idx(prev), 4) && days[ws..=d].iter().all(|x| x.whole_unexplained)
        };
        if lrv && !prev_lrv {
            f.duo_lrv += 1;
        }
        prev_lrv = lrv;
        // duo_holiday
        if cal.is_boundary_day(idx(d)) && day.unknown_or_unauthorized {
            f.duo_holiday += 1;
        }
    }
    f
}
