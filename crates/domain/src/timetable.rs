//! A school's timetable (rooster): which lessons a class, or one student,
//! has on each weekday, optionally for a range of dates (rules.md §2,
//! "Scheduled lessons"). With implied presence the lessons a student's
//! timetable gives for a day are that day's scheduled lessons; without an
//! entry for the day, every lesson of the school year's lesson schedule is.

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use crate::student::{Student, StudentId};

/// Lesson numbers 1–15 as bits (bit n = lesson n).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LessonSet(pub u16);

impl LessonSet {
    /// The set of these lesson numbers; `None` when one is not 1–15.
    pub fn of(lessons: impl IntoIterator<Item = u8>) -> Option<LessonSet> {
        let mut bits = 0u16;
        for n in lessons {
            if !(1..=15).contains(&n) {
                return None;
            }
            bits |= 1 << n;
        }
        Some(LessonSet(bits))
    }

    pub fn contains(self, n: u8) -> bool {
        n < 16 && self.0 & (1 << n) != 0
    }

    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The lesson numbers, ascending.
    pub fn numbers(self) -> impl Iterator<Item = u8> {
        (1..=15u8).filter(move |n| self.contains(*n))
    }
}

/// Whom a timetable row is for.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    /// Every student of the class.
    Class(String),
    /// One student; their rows replace their class's rows for that weekday.
    Student(StudentId),
}

/// One row: the lessons of a class or student on one weekday, from and
/// until a date (both inclusive, both optional).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimetableRow {
    pub group: Group,
    pub weekday: Weekday,
    pub lessons: LessonSet,
    pub from: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
}

impl TimetableRow {
    /// Whether two rows for the same group and weekday share a date.
    pub fn overlaps(&self, other: &TimetableRow) -> bool {
        let starts_before_other_ends = match (self.from, other.until) {
            (Some(f), Some(u)) => f <= u,
            _ => true,
        };
        let other_starts_before_this_ends = match (other.from, self.until) {
            (Some(f), Some(u)) => f <= u,
            _ => true,
        };
        starts_before_other_ends && other_starts_before_this_ends
    }
}

/// The whole timetable.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Timetable {
    pub rows: Vec<TimetableRow>,
}

impl Timetable {
    /// The week of one student: per weekday their own rows, or else their
    /// class's rows.
    pub fn for_student(&self, student: &Student) -> WeekSchedule {
        let mut week = WeekSchedule::default();
        for (k, day) in week.days.iter_mut().enumerate() {
            let weekday = WEEKDAYS[k];
            let own: Vec<&TimetableRow> = self
                .rows
                .iter()
                .filter(|r| r.weekday == weekday && r.group == Group::Student(student.id.clone()))
                .collect();
            let rows = if own.is_empty() {
                self.rows
                    .iter()
                    .filter(|r| {
                        r.weekday == weekday
                            && matches!(&r.group, Group::Class(c) if c == &student.class)
                    })
                    .collect()
            } else {
                own
            };
            *day = rows
                .into_iter()
                .map(|r| Span {
                    from: r.from,
                    until: r.until,
                    lessons: r.lessons,
                })
                .collect();
        }
        week
    }
}

const WEEKDAYS: [Weekday; 5] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
];

/// One student's timetable, resolved: per weekday (Monday to Friday) the
/// lessons with the dates they apply.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WeekSchedule {
    days: [Vec<Span>; 5],
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Span {
    from: Option<NaiveDate>,
    until: Option<NaiveDate>,
    lessons: LessonSet,
}

impl WeekSchedule {
    /// The lessons the timetable gives for `date`; `None` when it gives
    /// none (no row for that weekday and date, or a weekend day).
    pub fn lessons_on(&self, date: NaiveDate) -> Option<LessonSet> {
        let k = date.weekday().num_days_from_monday() as usize;
        self.days
            .get(k)?
            .iter()
            .find(|s| s.from.is_none_or(|f| f <= date) && s.until.is_none_or(|u| date <= u))
            .map(|s| s.lessons)
    }

    /// Whether the timetable gives this student no lessons at all.
    pub fn is_empty(&self) -> bool {
        self.days.iter().all(Vec::is_empty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn student(id: &str, class: &str) -> Student {
        Student {
            id: StudentId::parse(id).unwrap(),
            name: "x".into(),
            class: class.into(),
            mentor: "m".into(),
            date_of_birth: ymd(2012, 1, 1),
            bsn: None,
            onderwijsnummer: None,
        }
    }

    fn row(
        group: Group,
        weekday: Weekday,
        lessons: &[u8],
        from: Option<NaiveDate>,
    ) -> TimetableRow {
        TimetableRow {
            group,
            weekday,
            lessons: LessonSet::of(lessons.iter().copied()).unwrap(),
            from,
            until: None,
        }
    }

    #[test]
    fn a_students_rows_replace_the_class_rows_for_that_weekday() {
        let tt = Timetable {
            rows: vec![
                row(
                    Group::Class("1A".into()),
                    Weekday::Mon,
                    &[1, 2, 3, 4, 5, 6],
                    None,
                ),
                row(Group::Class("1A".into()), Weekday::Tue, &[1, 2, 3], None),
                row(
                    Group::Student(StudentId::parse("7").unwrap()),
                    Weekday::Mon,
                    &[1, 2],
                    None,
                ),
            ],
        };
        let monday = ymd(2025, 9, 1);
        let tuesday = ymd(2025, 9, 2);
        let a = tt.for_student(&student("6", "1A"));
        let b = tt.for_student(&student("7", "1A"));
        let c = tt.for_student(&student("8", "2B"));
        assert_eq!(a.lessons_on(monday).map(LessonSet::len), Some(6));
        assert_eq!(
            b.lessons_on(monday)
                .map(|s| s.numbers().collect::<Vec<_>>()),
            Some(vec![1, 2])
        );
        assert_eq!(
            b.lessons_on(tuesday).map(LessonSet::len),
            Some(3),
            "the class's Tuesday"
        );
        assert_eq!(a.lessons_on(ymd(2025, 9, 3)), None, "no Wednesday row");
        assert!(c.is_empty());
        assert_eq!(a.lessons_on(ymd(2025, 9, 6)), None, "Saturday");
    }

    #[test]
    fn rows_apply_within_their_dates_and_overlaps_are_found() {
        let mut early = row(Group::Class("1A".into()), Weekday::Mon, &[1, 2], None);
        early.until = Some(ymd(2025, 12, 31));
        let late = row(
            Group::Class("1A".into()),
            Weekday::Mon,
            &[3],
            Some(ymd(2026, 1, 1)),
        );
        assert!(!early.overlaps(&late) && !late.overlaps(&early));
        let clash = row(
            Group::Class("1A".into()),
            Weekday::Mon,
            &[4],
            Some(ymd(2025, 12, 1)),
        );
        assert!(early.overlaps(&clash) && clash.overlaps(&early));
        let tt = Timetable {
            rows: vec![early, late],
        };
        let w = tt.for_student(&student("6", "1A"));
        assert_eq!(w.lessons_on(ymd(2025, 12, 29)).map(LessonSet::len), Some(2));
        assert_eq!(
            w.lessons_on(ymd(2026, 1, 5))
                .map(|s| s.numbers().collect::<Vec<_>>()),
            Some(vec![3])
        );
    }

    #[test]
    fn lesson_sets_hold_1_to_15() {
        assert_eq!(LessonSet::of([0]), None);
        assert_eq!(LessonSet::of([16]), None);
        let s = LessonSet::of([1, 15, 3]).unwrap();
        assert_eq!(s.numbers().collect::<Vec<_>>(), [1, 3, 15]);
        assert!(s.contains(15) && !s.contains(2) && !s.contains(200));
    }
}
