//! A registered lesson as the engine sees it: compact, by school-day index.

use serde::{Deserialize, Serialize};

use crate::calendar::DayIdx;
use crate::category::Category;

/// One lesson of one student on one school day (rules.md §2).
///
/// Eight bytes, so that a full school year of 100,000 students (≈ 133
/// million lessons) fits in about a gigabyte. The student is implied by the
/// slice the registration sits in; slices are sorted by `(day, lesson)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Registration {
    /// The school day.
    pub day: DayIdx,
    /// Duration of the lesson in minutes.
    pub minutes: u16,
    /// Minutes late, for `late_*` categories (0 otherwise).
    pub minutes_late: u16,
    /// The lesson number (lesuur).
    pub lesson: u8,
    /// What the registration means.
    pub category: Category,
}

impl Registration {
    /// Sort key within a student's registrations.
    pub fn key(&self) -> (DayIdx, u8) {
        (self.day, self.lesson)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_eight_bytes() {
        assert_eq!(std::mem::size_of::<Registration>(), 8);
    }
}

/// A registration as it is imported and stored: with its date, the school's
/// code and an optional note. [`Registration`] is its compact engine form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrationRecord {
    pub student: crate::student::StudentId,
    pub date: chrono::NaiveDate,
    pub lesson: u8,
    /// Duration of the lesson in minutes.
    pub minutes: u16,
    /// The school's code as registered (`Z`, `L`, …); `None` when the file
    /// gave a category directly (for example for `present`).
    pub code: Option<String>,
    pub category: Category,
    pub minutes_late: u16,
    /// A short remark. Never on a `reported_sick` lesson: the nature of an
    /// illness is not recorded.
    pub note: Option<String>,
}

impl RegistrationRecord {
    /// The engine form, given the calendar; `None` when the date is not a
    /// school day of that calendar.
    pub fn to_registration(&self, cal: &crate::calendar::Calendar) -> Option<Registration> {
        Some(Registration {
            day: cal.index(self.date)?,
            minutes: self.minutes,
            minutes_late: self.minutes_late,
            lesson: self.lesson,
            category: self.category,
        })
    }
}
