//! The school's attendance policy: every threshold, window and category set
//! of rules.md, with rules.md's numbers as defaults, and the mapping of the
//! school's own absence codes to categories.
//!
//! A policy file only needs the keys a school changes; every other key takes
//! the default. Parsing the file is the import crate's job; this module
//! defines the values and checks them ([`Policy::validate`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::category::{Category, CategorySet};
use crate::hours::Hours;

/// How a `late_unexcused` registration counts towards unexplained hours.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LateCounts {
    /// `minutes_late / 60` hours (default).
    #[default]
    Minutes,
    /// The whole lesson, as if absent.
    Lesson,
    /// Not at all.
    None,
}

/// What an unregistered lesson is (rules.md §2, "Scheduled lessons").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    /// The registrations are complete, present lessons included; only
    /// registered lessons are scheduled (default).
    #[default]
    Registered,
    /// The registrations hold absences and late arrivals only, as Magister
    /// and Somtoday export them: every lesson of the day's lesson schedule
    /// is scheduled, and one without a registration is present.
    Implied,
}

/// A policy value that is out of range, named by its key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("beleid: sleutel '{key}': {reason}")]
pub struct PolicyError {
    /// The key, as written in the policy file (`duo_16h.hours`).
    pub key: String,
    /// Why the value is not accepted, in Dutch.
    pub reason: String,
}

fn err(key: &str, reason: impl Into<String>) -> PolicyError {
    PolicyError {
        key: key.to_owned(),
        reason: reason.into(),
    }
}

/// The whole policy. `Policy::default()` is exactly rules.md.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// The school's name, shown in reports.
    pub school: String,
    /// How late arrival counts towards unexplained hours.
    pub late_counts: LateCounts,
    /// Whether the registrations include present lessons.
    pub presence: Presence,
    /// Categories whose lessons make an afmelding episode (rules.md §3).
    pub afmelding_categories: CategorySet,
    /// Categories that count as unexplained absence (rules.md §2).
    pub unexplained_categories: CategorySet,
    /// The school's absence codes and the category each one means.
    pub codes: BTreeMap<String, Category>,
    pub contact: ContactRule,
    pub afmelding_count: AfmeldingCountRule,
    pub afmelding_long: AfmeldingLongRule,
    pub unexplained: UnexplainedRule,
    pub afmelding_persist: AfmeldingPersistRule,
    pub duo_16h: Duo16hRule,
    pub duo_lrv: DuoLrvRule,
    pub duo_holiday: DuoHolidayRule,
    pub step: StepPolicy,
    pub attendance: AttendancePolicy,
}

/// `contact` (step 2): whole-day absent, call by the next school day.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContactRule {
    pub enabled: bool,
    /// A day absent only in these categories raises no contact signal.
    pub excluded_categories: CategorySet,
    /// The call is due this many school days after the first day absent.
    pub deadline_school_days: u32,
}

/// `afmelding_count` (step 3a): at least `min_episodes` episodes started in
/// `window_weeks` teaching weeks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AfmeldingCountRule {
    pub enabled: bool,
    pub min_episodes: u32,
    pub window_weeks: u16,
}

/// `afmelding_long` (step 3a): an episode reaches its `day`-th school day.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AfmeldingLongRule {
    pub enabled: bool,
    pub day: u32,
}

/// `unexplained` (step 3b): more than `min_hours` unexplained hours in
/// `window_weeks` teaching weeks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UnexplainedRule {
    pub enabled: bool,
    pub min_hours: Hours,
    pub window_weeks: u16,
}

/// `afmelding_persist` (step 4a): after a 3a signal, the
/// `min_new_episodes`-th new episode starts, or a new one reaches its
/// `day`-th school day.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AfmeldingPersistRule {
    pub enabled: bool,
    pub min_new_episodes: u32,
    pub day: u32,
}

/// `duo_16h` (step 4b): the legal 16-hour rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Duo16hRule {
    pub enabled: bool,
    pub hours: Hours,
    pub window_weeks: u16,
    /// A next melding fires no sooner than this many calendar days later.
    pub min_days_between: u32,
    pub deadline_working_days: u32,
}

/// `duo_lrv` (step 4b): langdurig relatief verzuim.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DuoLrvRule {
    pub enabled: bool,
    pub window_weeks: u16,
    pub deadline_working_days: u32,
}

/// `duo_holiday` (step 4b): absence without a valid reason right before or
/// after a holiday (luxe verzuim).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DuoHolidayRule {
    pub enabled: bool,
    /// A lesson in one of these categories on a boundary day fires the rule.
    pub categories: CategorySet,
    pub deadline_working_days: u32,
}

/// How the step of a student is derived from recent signals.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StepPolicy {
    /// Signals count towards the step for this many teaching weeks…
    pub window_weeks: u16,
    /// …and 3a signals for this many.
    pub window_weeks_3a: u16,
}

/// The attendance-rate line shown on dashboards.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttendancePolicy {
    /// The line drawn on charts, as a fraction (0.90 = 90 %).
    pub target: f64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            school: String::new(),
            late_counts: LateCounts::Minutes,
            presence: Presence::Registered,
            afmelding_categories: CategorySet::of(&[
                Category::ReportedSick,
                Category::ReportedOther,
            ]),
            unexplained_categories: CategorySet::of(&[
                Category::Unknown,
                Category::Unauthorized,
                Category::LateUnexcused,
            ]),
            codes: BTreeMap::new(),
            contact: ContactRule::default(),
            afmelding_count: AfmeldingCountRule::default(),
            afmelding_long: AfmeldingLongRule::default(),
            unexplained: UnexplainedRule::default(),
            afmelding_persist: AfmeldingPersistRule::default(),
            duo_16h: Duo16hRule::default(),
            duo_lrv: DuoLrvRule::default(),
            duo_holiday: DuoHolidayRule::default(),
            step: StepPolicy::default(),
            attendance: AttendancePolicy::default(),
        }
    }
}

impl Default for ContactRule {
    fn default() -> Self {
        ContactRule {
            enabled: true,
            excluded_categories: CategorySet::of(&[Category::Authorized]),
            deadline_school_days: 1,
        }
    }
}

impl Default for AfmeldingCountRule {
    fn default() -> Self {
        AfmeldingCountRule {
            enabled: true,
            min_episodes: 4,
            window_weeks: 12,
        }
    }
}

impl Default for AfmeldingLongRule {
    fn default() -> Self {
        AfmeldingLongRule {
            enabled: true,
            day: 7,
        }
    }
}

impl Default for UnexplainedRule {
    fn default() -> Self {
        UnexplainedRule {
            enabled: true,
            min_hours: Hours::ZERO,
            window_weeks: 4,
        }
    }
}

impl Default for AfmeldingPersistRule {
    fn default() -> Self {
        AfmeldingPersistRule {
            enabled: true,
            min_new_episodes: 2,
            day: 7,
        }
    }
}

impl Default for Duo16hRule {
    fn default() -> Self {
        Duo16hRule {
            enabled: true,
            hours: Hours::from_hours(16),
            window_weeks: 4,
            min_days_between: 7,
            deadline_working_days: 5,
        }
    }
}

impl Default for DuoLrvRule {
    fn default() -> Self {
        DuoLrvRule {
            enabled: true,
            window_weeks: 4,
            deadline_working_days: 5,
        }
    }
}

impl Default for DuoHolidayRule {
    fn default() -> Self {
        DuoHolidayRule {
            enabled: true,
            categories: CategorySet::of(&[Category::Unknown, Category::Unauthorized]),
            deadline_working_days: 5,
        }
    }
}

impl Default for StepPolicy {
    fn default() -> Self {
        StepPolicy {
            window_weeks: 4,
            window_weeks_3a: 12,
        }
    }
}

impl Default for AttendancePolicy {
    fn default() -> Self {
        AttendancePolicy { target: 0.90 }
    }
}

const MAX_WEEKS: u16 = 60;

fn weeks(key: &str, v: u16) -> Result<(), PolicyError> {
    if v == 0 || v > MAX_WEEKS {
        return Err(err(
            key,
            format!("moet tussen 1 en {MAX_WEEKS} lesweken liggen, niet {v}"),
        ));
    }
    Ok(())
}

fn at_least_one(key: &str, v: u32, max: u32) -> Result<(), PolicyError> {
    if v == 0 || v > max {
        return Err(err(key, format!("moet tussen 1 en {max} liggen, niet {v}")));
    }
    Ok(())
}

fn no_present(key: &str, set: CategorySet) -> Result<(), PolicyError> {
    if let Some(c) = set
        .iter()
        .find(|c| matches!(c, Category::Present | Category::NotAbsence))
    {
        return Err(err(
            key,
            format!("'{}' is geen verzuim en kan hier niet staan", c.label_nl()),
        ));
    }
    Ok(())
}

impl Policy {
    /// Checks every value; the error names the first bad key and why.
    pub fn validate(&self) -> Result<(), PolicyError> {
        if self.afmelding_categories.is_empty() {
            return Err(err("afmelding_categories", "noem minstens één categorie"));
        }
        no_present("afmelding_categories", self.afmelding_categories)?;
        if self.unexplained_categories.is_empty() {
            return Err(err("unexplained_categories", "noem minstens één categorie"));
        }
        no_present("unexplained_categories", self.unexplained_categories)?;
        if let Some(c) = self
            .unexplained_categories
            .iter()
            .find(|c| self.afmelding_categories.contains(*c))
        {
            return Err(err(
                "unexplained_categories",
                format!(
                    "'{}' staat ook bij \"Categorieën die een afmelding zijn\"; een les is gemeld of niet gemeld, niet allebei",
                    c.label_nl()
                ),
            ));
        }
        for code in self.codes.keys() {
            let k = format!("codes.{code}");
            if code.trim().is_empty() || code.len() > 16 || code.chars().any(char::is_whitespace) {
                return Err(err(&k, "een code is 1 tot 16 tekens zonder spaties"));
            }
        }
        at_least_one(
            "contact.deadline_school_days",
            self.contact.deadline_school_days,
            20,
        )?;
        at_least_one(
            "afmelding_count.min_episodes",
            self.afmelding_count.min_episodes,
            100,
        )?;
        weeks(
            "afmelding_count.window_weeks",
            self.afmelding_count.window_weeks,
        )?;
        at_least_one("afmelding_long.day", self.afmelding_long.day, 200)?;
        weeks("unexplained.window_weeks", self.unexplained.window_weeks)?;
        at_least_one(
            "afmelding_persist.min_new_episodes",
            self.afmelding_persist.min_new_episodes,
            100,
        )?;
        at_least_one("afmelding_persist.day", self.afmelding_persist.day, 200)?;
        if self.duo_16h.hours == Hours::ZERO {
            return Err(err("duo_16h.hours", "moet meer dan 0 uur zijn"));
        }
        weeks("duo_16h.window_weeks", self.duo_16h.window_weeks)?;
        at_least_one(
            "duo_16h.deadline_working_days",
            self.duo_16h.deadline_working_days,
            60,
        )?;
        if self.duo_16h.min_days_between > 366 {
            return Err(err(
                "duo_16h.min_days_between",
                "moet tussen 0 en 366 dagen liggen",
            ));
        }
        weeks("duo_lrv.window_weeks", self.duo_lrv.window_weeks)?;
        at_least_one(
            "duo_lrv.deadline_working_days",
            self.duo_lrv.deadline_working_days,
            60,
        )?;
        if self.duo_holiday.categories.is_empty() {
            return Err(err("duo_holiday.categories", "noem minstens één categorie"));
        }
        no_present("duo_holiday.categories", self.duo_holiday.categories)?;
        at_least_one(
            "duo_holiday.deadline_working_days",
            self.duo_holiday.deadline_working_days,
            60,
        )?;
        weeks("step.window_weeks", self.step.window_weeks)?;
        weeks("step.window_weeks_3a", self.step.window_weeks_3a)?;
        if !(self.attendance.target > 0.0 && self.attendance.target <= 1.0) {
            return Err(err(
                "attendance.target",
                "moet een getal tussen 0 en 1 zijn, bijvoorbeeld 0.9 (= 90%)",
            ));
        }
        Ok(())
    }

    /// The category of a school code, if the policy maps it.
    pub fn category_of(&self, code: &str) -> Option<Category> {
        self.codes.get(code).copied()
    }

    /// The hours an unexplained lesson of `minutes` counts (rules.md §2).
    #[inline]
    pub fn lesson_hours(minutes: u16) -> u32 {
        if minutes <= 60 {
            60
        } else {
            u32::from(minutes)
        }
    }

    /// Unexplained hours (in minutes) a registration adds, per rules.md §2.
    #[inline]
    pub fn unexplained_minutes(&self, category: Category, minutes: u16, minutes_late: u16) -> u32 {
        if !self.unexplained_categories.contains(category) {
            return 0;
        }
        if category == Category::LateUnexcused {
            match self.late_counts {
                LateCounts::Minutes => u32::from(minutes_late.min(minutes)),
                LateCounts::Lesson => Policy::lesson_hours(minutes),
                LateCounts::None => 0,
            }
        } else {
            Policy::lesson_hours(minutes)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_rules_md() {
        let p = Policy::default();
        assert_eq!(p.afmelding_count.min_episodes, 4);
        assert_eq!(p.afmelding_count.window_weeks, 12);
        assert_eq!(p.afmelding_long.day, 7);
        assert_eq!(p.unexplained.min_hours, Hours::ZERO);
        assert_eq!(p.duo_16h.hours, Hours::from_hours(16));
        assert_eq!(p.duo_16h.min_days_between, 7);
        assert_eq!(p.duo_16h.deadline_working_days, 5);
        assert_eq!(p.afmelding_persist.min_new_episodes, 2);
        assert_eq!(p.validate(), Ok(()));
    }

    #[test]
    fn hours_follow_rules_md() {
        let p = Policy::default();
        assert_eq!(p.unexplained_minutes(Category::Unknown, 50, 0), 60);
        assert_eq!(p.unexplained_minutes(Category::Unknown, 100, 0), 100);
        assert_eq!(p.unexplained_minutes(Category::LateUnexcused, 50, 10), 10);
        assert_eq!(p.unexplained_minutes(Category::ReportedSick, 50, 0), 0);
        let lesson = Policy {
            late_counts: LateCounts::Lesson,
            ..Policy::default()
        };
        assert_eq!(
            lesson.unexplained_minutes(Category::LateUnexcused, 50, 10),
            60
        );
    }

    #[test]
    fn invalid_values_name_their_key() {
        let mut p = Policy::default();
        p.duo_16h.window_weeks = 0;
        assert_eq!(
            p.validate().map_err(|e| e.key),
            Err("duo_16h.window_weeks".to_owned())
        );
        let p = Policy {
            unexplained_categories: CategorySet::of(&[Category::ReportedSick]),
            ..Policy::default()
        };
        assert_eq!(
            p.validate().map_err(|e| e.key),
            Err("unexplained_categories".to_owned())
        );
    }
}
