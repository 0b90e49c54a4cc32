//! The school calendar (rules.md §1): school days, teaching weeks, windows of
//! N teaching weeks, holiday boundary days and working days.
//!
//! A [`Calendar`] is built from one or more [`SchoolYear`]s and then answers
//! every calendar question in O(1) or O(log n). School days are numbered in
//! order with a [`DayIdx`]; the engine works on those numbers and only turns
//! them back into dates for people.

use std::collections::BTreeSet;

use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

/// The number of a school day in a [`Calendar`], counting from 0.
pub type DayIdx = u16;

const NOT_A_SCHOOL_DAY: u32 = u32::MAX;

/// The kind of a day without lessons.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FreeDayKind {
    /// A school holiday (herfst-, kerst-, voorjaars-, mei-, zomervakantie).
    /// Only these make holiday boundary days.
    Vakantie,
    /// A public holiday: not a school day and not a working day.
    Feestdag,
    /// A school's own free day (studiedag, margedag, vrije dag).
    #[serde(alias = "margedag", alias = "vrij")]
    Studiedag,
}

impl FreeDayKind {
    /// Dutch label.
    pub fn label_nl(self) -> &'static str {
        match self {
            FreeDayKind::Vakantie => "vakantie",
            FreeDayKind::Feestdag => "feestdag",
            FreeDayKind::Studiedag => "studiedag",
        }
    }
}

/// A holiday, public holiday or free day: a range of dates, both inclusive.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FreeDay {
    pub name: String,
    pub kind: FreeDayKind,
    pub first: NaiveDate,
    pub last: NaiveDate,
    /// True when the dates are not confirmed by an official source.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unconfirmed: bool,
}

/// One lesson hour (lesuur) of the timetable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LessonSlot {
    /// The lesson number (1 = first hour).
    pub number: u8,
    /// Its duration in minutes.
    pub minutes: u16,
    /// Optional start time, `HH:MM`, for display only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
}

/// One school year: its span, its free days and its lesson schedule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchoolYear {
    /// For example `2025-2026`.
    pub name: String,
    /// Holiday region (`noord`, `midden`, `zuid`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The first school day.
    pub first_day: NaiveDate,
    /// The last school day.
    pub last_day: NaiveDate,
    #[serde(default)]
    pub free_days: Vec<FreeDay>,
    pub lessons: Vec<LessonSlot>,
}

/// Why a set of school years is not a valid calendar.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("de kalender bevat geen schooljaar")]
    NoYears,
    #[error("schooljaar {year}: de eerste schooldag ({first}) ligt na de laatste ({last})")]
    YearBackwards {
        year: String,
        first: NaiveDate,
        last: NaiveDate,
    },
    #[error("schooljaar {year} overlapt met schooljaar {other}")]
    YearsOverlap { year: String, other: String },
    #[error("schooljaar {year}, vrije dag '{name}': de eerste dag ({first}) ligt na de laatste dag ({last})")]
    FreeDayBackwards {
        year: String,
        name: String,
        first: NaiveDate,
        last: NaiveDate,
    },
    #[error("schooljaar {year}: het lesrooster is leeg")]
    NoLessons { year: String },
    #[error("schooljaar {year}: lesuur {number} staat twee keer in het lesrooster")]
    DuplicateLesson { year: String, number: u8 },
    #[error(
        "schooljaar {year}: lesuur {number} moet tussen 1 en 15 liggen en 1 tot 600 minuten duren"
    )]
    BadLesson { year: String, number: u8 },
    #[error("schooljaar {year} heeft geen enkele schooldag")]
    NoSchoolDays { year: String },
    #[error("de kalender heeft meer dan {max} schooldagen", max = DayIdx::MAX)]
    TooManyDays,
}

/// A validated calendar of one or more school years.
#[derive(Clone, Debug)]
pub struct Calendar {
    years: Vec<SchoolYear>,
    origin: NaiveDate,
    /// For every date from `origin` to the last school day: its school-day
    /// index, or `NOT_A_SCHOOL_DAY`.
    slot: Vec<u32>,
    days: Vec<NaiveDate>,
    /// Teaching-week number of each school day (0 = first teaching week).
    week: Vec<u16>,
    /// Weekday of each school day, 0 = Monday.
    weekday: Vec<u8>,
    /// Index into `years` of each school day.
    year_of: Vec<u8>,
    /// Holiday boundary day flags (rules.md §1).
    boundary: Vec<bool>,
    /// Public holidays, for working-day deadlines.
    feestdagen: BTreeSet<NaiveDate>,
}

impl Calendar {
    /// Builds and validates a calendar. Years may come in any order.
    pub fn new(mut years: Vec<SchoolYear>) -> Result<Calendar, CalendarError> {
        if years.is_empty() {
            return Err(CalendarError::NoYears);
        }
        if years.len() > usize::from(u8::MAX) {
            return Err(CalendarError::TooManyDays);
        }
        years.sort_by_key(|y| y.first_day);
        for y in &years {
            validate_year(y)?;
        }
        for pair in years.windows(2) {
            if pair[1].first_day <= pair[0].last_day {
                return Err(CalendarError::YearsOverlap {
                    year: pair[1].name.clone(),
                    other: pair[0].name.clone(),
                });
            }
        }

        let feestdagen: BTreeSet<NaiveDate> = years
            .iter()
            .flat_map(|y| &y.free_days)
            .filter(|f| f.kind == FreeDayKind::Feestdag)
            .flat_map(|f| dates(f.first, f.last))
            .collect();

        let origin = years[0].first_day;
        let end = years[years.len() - 1].last_day;
        let span = usize::try_from((end - origin).num_days() + 1).unwrap_or(0);
        let mut slot = vec![NOT_A_SCHOOL_DAY; span];
        let mut days = Vec::new();
        let mut year_of = Vec::new();
        for (yi, y) in years.iter().enumerate() {
            let free: BTreeSet<NaiveDate> = y
                .free_days
                .iter()
                .flat_map(|f| dates(f.first, f.last))
                .collect();
            let before = days.len();
            for d in dates(y.first_day, y.last_day) {
                let weekend = matches!(d.weekday(), Weekday::Sat | Weekday::Sun);
                if !weekend && !free.contains(&d) && !feestdagen.contains(&d) {
                    let idx = u32::try_from(days.len()).map_err(|_| CalendarError::TooManyDays)?;
                    if idx >= u32::from(DayIdx::MAX) {
                        return Err(CalendarError::TooManyDays);
                    }
                    slot[offset(origin, d)] = idx;
                    days.push(d);
                    #[expect(
                        clippy::cast_possible_truncation,
                        reason = "checked above: at most 255 years"
                    )]
                    year_of.push(yi as u8);
                }
            }
            if days.len() == before {
                return Err(CalendarError::NoSchoolDays {
                    year: y.name.clone(),
                });
            }
        }

        let mut week = Vec::with_capacity(days.len());
        let mut weekday = Vec::with_capacity(days.len());
        let mut current: Option<(NaiveDate, u16)> = None;
        for d in &days {
            let monday = *d - Days::new(u64::from(d.weekday().num_days_from_monday()));
            let w = match current {
                Some((m, w)) if m == monday => w,
                Some((_, w)) => w + 1,
                None => 0,
            };
            current = Some((monday, w));
            week.push(w);
            #[expect(clippy::cast_possible_truncation, reason = "weekday is 0..7")]
            weekday.push(d.weekday().num_days_from_monday() as u8);
        }

        let mut cal = Calendar {
            years,
            origin,
            slot,
            days,
            week,
            weekday,
            year_of,
            boundary: Vec::new(),
            feestdagen,
        };
        cal.boundary = cal.compute_boundaries();
        Ok(cal)
    }

    fn compute_boundaries(&self) -> Vec<bool> {
        let mut boundary = vec![false; self.days.len()];
        for (yi, y) in self.years.iter().enumerate() {
            // A school year is framed by the zomervakantie: its first and last
            // school day border a holiday too.
            let mut in_year = (0..self.days.len()).filter(|&i| usize::from(self.year_of[i]) == yi);
            if let Some(first) = in_year.next() {
                boundary[first] = true;
            }
            if let Some(last) = (0..self.days.len())
                .rev()
                .find(|&i| usize::from(self.year_of[i]) == yi)
            {
                boundary[last] = true;
            }
            for f in y
                .free_days
                .iter()
                .filter(|f| f.kind == FreeDayKind::Vakantie)
            {
                let before = self.days.partition_point(|d| *d < f.first);
                if before > 0 {
                    boundary[before - 1] = true;
                }
                let after = self.days.partition_point(|d| *d <= f.last);
                if after < self.days.len() {
                    boundary[after] = true;
                }
            }
        }
        boundary
    }

    /// The school years, sorted by start.
    pub fn years(&self) -> &[SchoolYear] {
        &self.years
    }

    /// The number of school days.
    pub fn len(&self) -> usize {
        self.days.len()
    }

    /// Whether the calendar has no school days (never true for a built one).
    pub fn is_empty(&self) -> bool {
        self.days.is_empty()
    }

    /// All school days, in order.
    pub fn school_days(&self) -> &[NaiveDate] {
        &self.days
    }

    /// The date of a school day.
    pub fn date(&self, d: DayIdx) -> NaiveDate {
        self.days[usize::from(d)]
    }

    /// The school-day index of a date, or `None` when it is not a school day.
    pub fn index(&self, date: NaiveDate) -> Option<DayIdx> {
        if date < self.origin {
            return None;
        }
        let off = offset(self.origin, date);
        match self.slot.get(off) {
            Some(&i) if i != NOT_A_SCHOOL_DAY => DayIdx::try_from(i).ok(),
            _ => None,
        }
    }

    /// Whether `date` is a school day.
    pub fn is_school_day(&self, date: NaiveDate) -> bool {
        self.index(date).is_some()
    }

    /// The last school day on or before `date`.
    pub fn on_or_before(&self, date: NaiveDate) -> Option<DayIdx> {
        let n = self.days.partition_point(|d| *d <= date);
        n.checked_sub(1).and_then(|i| DayIdx::try_from(i).ok())
    }

    /// The first school day on or after `date`.
    pub fn on_or_after(&self, date: NaiveDate) -> Option<DayIdx> {
        let n = self.days.partition_point(|d| *d < date);
        if n < self.days.len() {
            DayIdx::try_from(n).ok()
        } else {
            None
        }
    }

    /// The free day (holiday, public holiday, studiedag) covering `date`.
    pub fn free_day(&self, date: NaiveDate) -> Option<&FreeDay> {
        self.years
            .iter()
            .flat_map(|y| &y.free_days)
            .find(|f| f.first <= date && date <= f.last)
    }

    /// The `vakantie` a boundary day borders, and whether `d` lies before
    /// it (`true`) or after it (`false`). A school year's first and last
    /// day border the zomervakantie even when the file does not list it.
    pub fn bordering_holiday(&self, d: DayIdx) -> Option<(String, bool)> {
        if !self.is_boundary_day(d) {
            return None;
        }
        let date = self.date(d);
        let di = usize::from(d);
        let vak = |x: NaiveDate| {
            self.free_day(x)
                .filter(|f| f.kind == FreeDayKind::Vakantie)
                .map(|f| f.name.clone())
        };
        // The next school day is further than a weekend away: a holiday follows.
        let next = self.days.get(di + 1).copied();
        if next.is_none_or(|n| (n - date).num_days() > 3) {
            let name = date.iter_days().skip(1).take(14).find_map(vak);
            if name.is_some() || next.is_none() || self.year_of[di + 1] != self.year_of[di] {
                return Some((name.unwrap_or_else(|| "zomervakantie".to_owned()), true));
            }
        }
        let name = (1..=14)
            .filter_map(|k| date.checked_sub_days(Days::new(k)))
            .find_map(vak);
        Some((name.unwrap_or_else(|| "zomervakantie".to_owned()), false))
    }

    /// The school year a date falls in (between its first and last day).
    pub fn year_of_date(&self, date: NaiveDate) -> Option<&SchoolYear> {
        self.years
            .iter()
            .find(|y| y.first_day <= date && date <= y.last_day)
    }

    /// The lesson slot `number` on school day `d`.
    pub fn lesson(&self, d: DayIdx, number: u8) -> Option<&LessonSlot> {
        let y = &self.years[usize::from(self.year_of[usize::from(d)])];
        y.lessons.iter().find(|l| l.number == number)
    }

    /// The lesson schedule of the school year that holds `d`.
    pub fn lessons_of(&self, d: DayIdx) -> &[LessonSlot] {
        &self.years[usize::from(self.year_of[usize::from(d)])].lessons
    }

    /// Teaching-week number of a school day (0 = the first teaching week).
    pub fn week(&self, d: DayIdx) -> u16 {
        self.week[usize::from(d)]
    }

    /// The school days of the teaching week holding `d`.
    pub fn week_days(&self, d: DayIdx) -> std::ops::RangeInclusive<DayIdx> {
        let w = self.week(d);
        let first = self.week.partition_point(|x| *x < w);
        let last = self.week.partition_point(|x| *x <= w) - 1;
        to_idx(first)..=to_idx(last)
    }

    /// Whether `d` is a holiday boundary day: the last school day before, or
    /// the first after, a `vakantie` (a school year's first and last day
    /// included).
    pub fn is_boundary_day(&self, d: DayIdx) -> bool {
        self.boundary[usize::from(d)]
    }

    /// The first school day of `window(d, n)`: the day after the same
    /// weekday `n` teaching weeks back (rules.md §1).
    pub fn window_start(&self, d: DayIdx, n: u16) -> DayIdx {
        let di = usize::from(d);
        let target = (
            i32::from(self.week[di]) - i32::from(n),
            i32::from(self.weekday[di]),
        );
        let key = |i: usize| (i32::from(self.week[i]), i32::from(self.weekday[i]));
        let (mut lo, mut hi) = (0usize, di + 1);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if key(mid) <= target {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let start = lo;
        to_idx(start)
    }

    /// `window_start` for every school day at once, for the engine.
    pub fn window_starts(&self, n: u16) -> Vec<DayIdx> {
        let mut out = Vec::with_capacity(self.days.len());
        let mut start = 0usize;
        for di in 0..self.days.len() {
            let target = (
                i32::from(self.week[di]) - i32::from(n),
                i32::from(self.weekday[di]),
            );
            // Window starts only move forward as d moves forward.
            while start < di
                && (i32::from(self.week[start]), i32::from(self.weekday[start])) <= target
            {
                start += 1;
            }
            out.push(to_idx(start));
        }
        out
    }

    /// Whether `window(d, n)` lies wholly inside the calendar: it does not
    /// reach back before the first teaching week. A window that ends on a
    /// Friday of week n−1 starts on the weekend before week 0 and is whole.
    pub fn window_complete(&self, d: DayIdx, n: u16) -> bool {
        let di = usize::from(d);
        let w = self.week[di];
        w >= n || (w + 1 == n && self.weekday[di] == 4)
    }

    /// Whether `date` is a working day (werkdag): Monday–Friday and not a
    /// public holiday. School holidays are working days.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && !self.feestdagen.contains(&date)
    }

    /// The date `n` working days after `date` (a legal deadline).
    pub fn add_working_days(&self, date: NaiveDate, n: u32) -> NaiveDate {
        let mut d = date;
        let mut left = n;
        while left > 0 {
            d = d.succ_opt().unwrap_or(d);
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        d
    }

    /// The date `n` school days after school day `d`; past the end of the
    /// calendar, working days stand in for school days.
    pub fn add_school_days(&self, d: DayIdx, n: u32) -> NaiveDate {
        let target = usize::from(d) + usize::try_from(n).unwrap_or(usize::MAX - usize::from(d));
        match self.days.get(target) {
            Some(date) => *date,
            None => {
                let last = self.days.len() - 1;
                let beyond = u32::try_from(target - last).unwrap_or(u32::MAX);
                self.add_working_days(self.days[last], beyond)
            }
        }
    }
}

fn validate_year(y: &SchoolYear) -> Result<(), CalendarError> {
    if y.first_day > y.last_day {
        return Err(CalendarError::YearBackwards {
            year: y.name.clone(),
            first: y.first_day,
            last: y.last_day,
        });
    }
    for f in &y.free_days {
        if f.first > f.last {
            return Err(CalendarError::FreeDayBackwards {
                year: y.name.clone(),
                name: f.name.clone(),
                first: f.first,
                last: f.last,
            });
        }
    }
    if y.lessons.is_empty() {
        return Err(CalendarError::NoLessons {
            year: y.name.clone(),
        });
    }
    let mut seen = BTreeSet::new();
    for l in &y.lessons {
        if !(1..=15).contains(&l.number) || l.minutes == 0 || l.minutes > 600 {
            return Err(CalendarError::BadLesson {
                year: y.name.clone(),
                number: l.number,
            });
        }
        if !seen.insert(l.number) {
            return Err(CalendarError::DuplicateLesson {
                year: y.name.clone(),
                number: l.number,
            });
        }
    }
    Ok(())
}

fn offset(origin: NaiveDate, d: NaiveDate) -> usize {
    usize::try_from((d - origin).num_days()).unwrap_or(usize::MAX)
}

fn to_idx(i: usize) -> DayIdx {
    DayIdx::try_from(i).unwrap_or(DayIdx::MAX)
}

/// Every date from `first` to `last`, both inclusive.
pub fn dates(first: NaiveDate, last: NaiveDate) -> impl Iterator<Item = NaiveDate> {
    first.iter_days().take_while(move |d| *d <= last)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
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

    /// The school year of rules.md §6: 2025–2026, region noord, with the
    /// holidays the worked examples name.
    pub(crate) fn example_calendar() -> Calendar {
        Calendar::new(vec![SchoolYear {
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
                    "eerste kerstdag",
                    FreeDayKind::Feestdag,
                    ymd(2025, 12, 25),
                    ymd(2025, 12, 26),
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
            lessons: (1..=7)
                .map(|n| LessonSlot {
                    number: n,
                    minutes: 50,
                    start: None,
                })
                .collect(),
        }])
        .expect("example calendar is valid")
    }

    #[test]
    fn school_days_skip_weekends_holidays_and_free_days() {
        let c = example_calendar();
        assert!(c.is_school_day(ymd(2025, 8, 25)));
        assert!(!c.is_school_day(ymd(2025, 8, 30)), "saturday");
        assert!(!c.is_school_day(ymd(2025, 10, 20)), "herfstvakantie");
        assert!(!c.is_school_day(ymd(2025, 11, 24)), "studiedag");
        assert!(c.is_school_day(ymd(2025, 11, 21)));
    }

    #[test]
    fn holiday_weeks_are_not_teaching_weeks() {
        let c = example_calendar();
        let fri = c.index(ymd(2025, 10, 17)).expect("school day");
        let mon = c.index(ymd(2025, 10, 27)).expect("school day");
        assert_eq!(c.week(mon), c.week(fri) + 1);
    }

    #[test]
    fn window_without_holidays_is_n_times_five_days() {
        let c = example_calendar();
        let d = c.index(ymd(2025, 10, 1)).expect("school day");
        let start = c.window_start(d, 4);
        assert_eq!(c.date(start), ymd(2025, 9, 4));
        assert_eq!(d - start + 1, 20);
        assert_eq!(c.window_starts(4)[usize::from(d)], start);
    }

    #[test]
    fn window_stretches_over_a_holiday_week() {
        let c = example_calendar();
        let d = c.index(ymd(2025, 10, 29)).expect("school day");
        // Four teaching weeks back from Wed 29 Oct skip the herfstvakantie.
        assert_eq!(c.date(c.window_start(d, 4)), ymd(2025, 9, 25));
    }

    #[test]
    fn window_completeness() {
        let c = example_calendar();
        let fri_week4 = c.index(ymd(2025, 9, 19)).expect("school day");
        assert!(c.window_complete(fri_week4, 4));
        let thu_week4 = c.index(ymd(2025, 9, 18)).expect("school day");
        assert!(!c.window_complete(thu_week4, 4));
    }

    #[test]
    fn boundary_days_border_holidays_only() {
        let c = example_calendar();
        let idx = |y, m, d| c.index(ymd(y, m, d)).expect("school day");
        assert!(c.is_boundary_day(idx(2025, 10, 17)));
        assert!(c.is_boundary_day(idx(2025, 10, 27)));
        assert!(!c.is_boundary_day(idx(2025, 11, 21)), "before a studiedag");
        assert!(c.is_boundary_day(idx(2025, 12, 19)));
        assert!(c.is_boundary_day(idx(2026, 1, 5)));
        assert!(
            c.is_boundary_day(idx(2025, 8, 25)),
            "first day after the zomervakantie"
        );
    }

    #[test]
    fn working_days_count_school_holidays_but_not_feestdagen() {
        let c = example_calendar();
        assert_eq!(c.add_working_days(ymd(2025, 10, 17), 5), ymd(2025, 10, 24));
        assert_eq!(c.add_working_days(ymd(2025, 12, 19), 5), ymd(2025, 12, 30));
    }
}
