//! Scope checks and views over the live school, shared by the handlers.
//!
//! Everything here runs under the live read guard and returns owned view
//! values, so a handler can drop the guard before it awaits.

use aanwezig_app::Permission;
use aanwezig_domain::engine::attendance;
use aanwezig_domain::explain::SignalReport;
use aanwezig_domain::{Calendar, DayIdx, Engine, Signal, Step};

use crate::auth::CurrentUser;
use crate::error::PageError;
use crate::live::Live;

use super::views::{Attendance, SignalView};

/// Roles that read student data at all: the coordinators (every student)
/// and mentors (their classes). The beheerder reads none, and external
/// partners get their students with the case dossier, not yet.
pub(super) fn require_reader(user: &CurrentUser) -> Result<(), PageError> {
    user.require_may(Permission::ListStudents)
}

/// The position of student `id` when the user may see them; otherwise
/// `NotFound`, so that a student outside the scope does not leak.
pub(super) fn student_in_scope(
    live: &Live,
    user: &CurrentUser,
    id: &str,
) -> Result<usize, PageError> {
    live.position(id)
        .filter(|i| user.may_for(Permission::ReadStudent, &live.school.students()[*i]))
        .ok_or(PageError::NotFound)
}

/// The school as of today: the calendar, an engine and the day the rules
/// ran up to. `None` before a calendar exists or before the first school day.
pub(super) struct Today<'a> {
    pub live: &'a Live,
    pub cal: &'a Calendar,
    pub engine: Engine<'a>,
    pub through: DayIdx,
    /// The first school day of the school year holding `through`.
    pub year_start: DayIdx,
}

impl<'a> Today<'a> {
    pub fn of(live: &'a Live) -> Option<Today<'a>> {
        let cal = live.cal.as_ref()?;
        let through = live.through?;
        let year_start = cal
            .year_of_date(cal.date(through))
            .and_then(|y| cal.on_or_after(y.first_day))
            .unwrap_or(0);
        Some(Today {
            live,
            cal,
            engine: Engine::new(cal, &live.policy),
            through,
            year_start,
        })
    }

    /// The step of student `i` today.
    pub fn step(&self, i: usize) -> Step {
        self.live.evaluations[i].step_on(&self.engine, self.through)
    }

    /// Attendance of student `i` over the school year so far.
    pub fn attendance(&self, i: usize) -> Attendance {
        let (attended, scheduled) = attendance(
            self.cal,
            self.live.policy.presence,
            self.live.school.context(i).week.as_ref(),
            self.live.school.registrations(i),
            self.year_start,
            self.through,
        );
        Attendance {
            from: Some(self.cal.date(self.year_start)),
            to: Some(self.cal.date(self.through)),
            attended,
            scheduled,
            rate: (scheduled > 0)
                .then(|| (f64::from(attended) / f64::from(scheduled) * 1000.0).round() / 1000.0),
        }
    }

    /// The report of signal `s` of student `i`.
    pub fn report(&self, i: usize, s: &Signal) -> SignalView {
        SignalReport::new(
            s,
            self.live.school.students()[i].id.as_str(),
            self.cal,
            &self.live.policy,
            self.live.school.registrations(i),
            self.through,
        )
        .into()
    }

    /// Every signal of student `i`, oldest first.
    pub fn signals(&self, i: usize) -> Vec<SignalView> {
        self.live.evaluations[i]
            .signals
            .iter()
            .map(|s| self.report(i, s))
            .collect()
    }

    /// The signals of student `i` open today.
    pub fn open_signals(&self, i: usize) -> Vec<SignalView> {
        self.live.evaluations[i]
            .open_on(self.through)
            .map(|s| self.report(i, s))
            .collect()
    }
}

/// Attendance when there is nothing to count yet.
pub(super) fn no_attendance() -> Attendance {
    Attendance {
        from: None,
        to: None,
        attended: 0,
        scheduled: 0,
        rate: None,
    }
}

/// A `stap` filter: `1` to `4`, optionally with a track (`3a`, `4b`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct StepFilter {
    level: u8,
    track: Option<char>,
}

impl StepFilter {
    /// Parses a filter value; a Dutch message when it is not one.
    pub fn parse(s: &str) -> Result<StepFilter, PageError> {
        let s = s.trim().to_lowercase();
        let mut chars = s.chars();
        let level = chars.next().and_then(|c| c.to_digit(10));
        let track = chars.next();
        match (level, track, chars.next()) {
            (Some(l @ 1..=4), None | Some('a' | 'b'), None) => Ok(StepFilter {
                level: u8::try_from(l).unwrap_or(1),
                track,
            }),
            _ => Err(PageError::BadRequest(format!(
                "'{s}' is geen stap; kies 1, 2, 3, 3a, 3b, 4, 4a of 4b."
            ))),
        }
    }

    /// Whether `step` is this step (and track, when one is given).
    pub fn matches(self, step: Step) -> bool {
        step.level == self.level
            && match self.track {
                None => true,
                Some('a') => step.a,
                Some(_) => step.b,
            }
    }
}

/// An optional query value: `None` when absent or blank.
pub(super) fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use aanwezig_domain::{RuleId, Track};

    use super::*;

    #[test]
    fn step_filters() {
        let f = StepFilter::parse("3a").unwrap();
        assert!(f.matches(Step::new(3, Some(Track::A))));
        assert!(!f.matches(Step::new(3, Some(Track::B))));
        let both = RuleId::Unexplained.step().max(RuleId::AfmeldingLong.step());
        assert!(f.matches(both), "3a/3b is also 3a");
        assert!(StepFilter::parse("3").unwrap().matches(both));
        assert!(StepFilter::parse("1").unwrap().matches(Step::NONE));
        assert!(!StepFilter::parse("4B").unwrap().matches(both));
        for bad in ["", "5", "3c", "3ab", "x"] {
            assert!(StepFilter::parse(bad).is_err(), "{bad}");
        }
    }
}
