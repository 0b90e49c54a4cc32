//! Precomputed facts about the calendar that every student shares.
//!
//! [`Shape`] describes the whole calendar (lessons per day, weekdays,
//! teaching weeks, holiday boundary days) and is what the planner draws
//! patterns on, so that a student's plan never depends on `until`.
//! [`Template`] is the materialised part: one "present" registration for
//! every scheduled lesson up to `until`. Each student starts as a copy of
//! the template (a single memcpy into an exactly sized allocation) and the
//! planned events are written over it.

use aanwezig_domain::{Calendar, Category, DayIdx, Registration};
use chrono::{Datelike, NaiveDate};

/// The calendar as the planner sees it: indexed by school day.
pub(crate) struct Shape {
    /// Number of lessons on each school day (from that year's timetable).
    pub lessons: Vec<u8>,
    /// Weekday of each school day, 0 = Monday.
    pub weekday: Vec<u8>,
    /// First school day of each teaching week, plus a final sentinel equal
    /// to the number of days: week `w` is `week_start[w]..week_start[w+1]`.
    pub week_start: Vec<usize>,
    /// The holiday boundary days, in order.
    pub boundary: Vec<usize>,
    /// For each boundary day (same order): true when a break follows it
    /// (the last day before a holiday), false when one precedes it.
    pub before_break: Vec<bool>,
}

impl Shape {
    pub fn new(cal: &Calendar) -> Shape {
        let n = cal.len();
        let mut lessons = Vec::with_capacity(n);
        let mut weekday = Vec::with_capacity(n);
        let mut week_start = Vec::new();
        let mut boundary = Vec::new();
        let mut before_break = Vec::new();
        let mut last_week = None;
        let mut timetables = Timetables::new(cal);
        for (i, date) in cal.school_days().iter().enumerate() {
            let d = day_idx(i);
            lessons.push(u8::try_from(timetables.next(*date).len()).unwrap_or(u8::MAX));
            weekday.push(u8::try_from(date.weekday().num_days_from_monday()).unwrap_or(0));
            let w = cal.week(d);
            if last_week != Some(w) {
                week_start.push(i);
                last_week = Some(w);
            }
            if cal.is_boundary_day(d) {
                boundary.push(i);
                // More than a weekend until the next school day (or none at
                // all): a holiday follows this day.
                let next = cal.school_days().get(i + 1);
                before_break.push(next.is_none_or(|nd| (*nd - *date).num_days() > 3));
            }
        }
        week_start.push(n);
        Shape {
            lessons,
            weekday,
            week_start,
            boundary,
            before_break,
        }
    }

    /// Number of school days in the calendar.
    pub fn days(&self) -> usize {
        self.lessons.len()
    }

    /// Number of teaching weeks.
    pub fn weeks(&self) -> usize {
        self.week_start.len() - 1
    }

    /// The school days of teaching weeks `from..to` (clamped).
    pub fn week_days(&self, from: usize, to: usize) -> std::ops::Range<usize> {
        let w = self.weeks();
        self.week_start[from.min(w)]..self.week_start[to.min(w)]
    }
}

/// The timetable of each school year, as `(lesson number, minutes)` sorted by
/// number, and a cursor that finds the year of each school day in order.
/// The timetable only changes between school years, so it is looked up once
/// per year rather than once per day.
pub(crate) struct Timetables {
    years: Vec<(NaiveDate, Vec<(u8, u16)>)>,
    at: usize,
}

impl Timetables {
    pub fn new(cal: &Calendar) -> Timetables {
        let years = cal
            .years()
            .iter()
            .map(|y| {
                let mut slots: Vec<(u8, u16)> =
                    y.lessons.iter().map(|l| (l.number, l.minutes)).collect();
                slots.sort_unstable();
                (y.last_day, slots)
            })
            .collect();
        Timetables { years, at: 0 }
    }

    /// The timetable of `date`; dates must come in ascending order.
    pub fn next(&mut self, date: NaiveDate) -> &[(u8, u16)] {
        while self.at + 1 < self.years.len() && date > self.years[self.at].0 {
            self.at += 1;
        }
        self.years.get(self.at).map_or(&[], |y| y.1.as_slice())
    }
}

pub(crate) fn day_idx(i: usize) -> DayIdx {
    // A calendar never holds more than DayIdx::MAX school days.
    DayIdx::try_from(i).unwrap_or(DayIdx::MAX)
}

/// Every scheduled lesson up to `until`, all `present`.
pub(crate) struct Template {
    pub regs: Vec<Registration>,
    /// `regs[day_start[d]..day_start[d + 1]]` are the lessons of day `d`.
    pub day_start: Vec<usize>,
}

impl Template {
    /// The template for the first `days` school days of `cal`.
    pub fn new(cal: &Calendar, days: usize) -> Template {
        let mut day_start = Vec::with_capacity(days + 1);
        let mut regs = Vec::new();
        let mut timetables = Timetables::new(cal);
        for (i, date) in cal.school_days().iter().take(days).enumerate() {
            let slots = timetables.next(*date);
            day_start.push(regs.len());
            if i == 0 {
                // A sensible guess for the total; `shrink_to_fit` below makes
                // the clone per student exact anyway.
                regs.reserve(days * slots.len());
            }
            for &(number, minutes) in slots {
                regs.push(Registration {
                    day: day_idx(i),
                    minutes,
                    minutes_late: 0,
                    lesson: number,
                    category: Category::Present,
                });
            }
        }
        day_start.push(regs.len());
        regs.shrink_to_fit();
        Template { regs, day_start }
    }

    /// Number of materialised school days.
    pub fn days(&self) -> usize {
        self.day_start.len() - 1
    }
}
