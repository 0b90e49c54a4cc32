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
