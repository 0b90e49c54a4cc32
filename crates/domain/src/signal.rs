//! Signals (rules.md §4) and the step of a student.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::calendar::DayIdx;
use crate::hours::Hours;

/// The rules of rules.md §4; the identifiers match rules.md one to one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleId {
    Contact,
    AfmeldingCount,
    AfmeldingLong,
    Unexplained,
    AfmeldingPersist,
    #[serde(rename = "duo_16h")]
    Duo16h,
    DuoLrv,
    DuoHoliday,
}

impl RuleId {
    /// Every rule, in rules.md order.
    pub const ALL: [RuleId; 8] = [
        RuleId::Contact,
        RuleId::AfmeldingCount,
        RuleId::AfmeldingLong,
        RuleId::Unexplained,
        RuleId::AfmeldingPersist,
        RuleId::Duo16h,
        RuleId::DuoLrv,
        RuleId::DuoHoliday,
    ];

    /// The rule id of rules.md.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleId::Contact => "contact",
            RuleId::AfmeldingCount => "afmelding_count",
            RuleId::AfmeldingLong => "afmelding_long",
            RuleId::Unexplained => "unexplained",
            RuleId::AfmeldingPersist => "afmelding_persist",
            RuleId::Duo16h => "duo_16h",
            RuleId::DuoLrv => "duo_lrv",
            RuleId::DuoHoliday => "duo_holiday",
        }
    }

    /// Parses a rules.md id.
    pub fn parse(s: &str) -> Option<RuleId> {
        RuleId::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The step this rule signals.
    pub fn step(self) -> Step {
        match self {
            RuleId::Contact => Step::new(2, None),
            RuleId::AfmeldingCount | RuleId::AfmeldingLong => Step::new(3, Some(Track::A)),
            RuleId::Unexplained => Step::new(3, Some(Track::B)),
            RuleId::AfmeldingPersist => Step::new(4, Some(Track::A)),
            RuleId::Duo16h | RuleId::DuoLrv | RuleId::DuoHoliday => Step::new(4, Some(Track::B)),
        }
    }

    /// Whether this rule's signal is a DUO melding (carries begin and end).
    pub fn is_duo(self) -> bool {
        matches!(self, RuleId::Duo16h | RuleId::DuoLrv | RuleId::DuoHoliday)
    }

    /// A short Dutch title.
    pub fn title_nl(self) -> &'static str {
        match self {
            RuleId::Contact => "Hele dag afwezig: bellen",
            RuleId::AfmeldingCount => "Vaak afgemeld",
            RuleId::AfmeldingLong => "Lang afgemeld",
            RuleId::Unexplained => "Onbekend verzuim (zonder geldige reden)",
            RuleId::AfmeldingPersist => "Afmeldingen houden aan",
            RuleId::Duo16h => "DUO-melding: 16 uur of meer in 4 lesweken",
            RuleId::DuoLrv => "DUO-melding: langdurig relatief verzuim",
            RuleId::DuoHoliday => "DUO-melding: verzuim rond een vakantie",
        }
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The a-track (reported absence) or b-track (unexplained absence).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Track {
    A,
    B,
}

/// A step of the stappenplan with its track(s): `1`, `2`, `3a`, `3b`,
/// `3a/3b`, `4a`, `4b`, `4a/4b`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Step {
    /// 1 to 4 (steps 5 and 6 are case decisions, not signals).
    pub level: u8,
    pub a: bool,
    pub b: bool,
}

impl Step {
    /// Step 1: registering, nothing signalled.
    pub const NONE: Step = Step {
        level: 1,
        a: false,
        b: false,
    };

    /// A step with at most one track.
    pub fn new(level: u8, track: Option<Track>) -> Step {
        Step {
            level,
            a: track == Some(Track::A),
            b: track == Some(Track::B),
        }
    }

    /// The name of the step, the same on every page: `Gemeld verzuim:
    /// gesprek` for 3a. Steps 5 and 6 are case steps
    /// ([`crate::CaseStep::label_nl`]).
    pub fn label_nl(self) -> &'static str {
        match (self.level, self.a, self.b) {
            (1, _, _) => "Signaleren en registreren",
            (2, _, _) => "Hele dag afwezig: bellen",
            (3, true, true) => "Gemeld en onbekend verzuim: gesprek",
            (3, true, false) => "Gemeld verzuim: gesprek",
            (3, _, _) => "Onbekend verzuim: gesprek",
            (_, true, true) => "Gemeld en onbekend verzuim houden aan",
            (_, true, false) => "Gemeld verzuim houdt aan",
            _ => "Onbekend verzuim houdt aan: DUO-melding",
        }
    }

    /// The higher of two steps; at equal levels the tracks are joined.
    pub fn max(self, other: Step) -> Step {
        match self.level.cmp(&other.level) {
            std::cmp::Ordering::Less => other,
            std::cmp::Ordering::Greater => self,
            std::cmp::Ordering::Equal => Step {
                level: self.level,
                a: self.a || other.a,
                b: self.b || other.b,
            },
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.a, self.b) {
            (true, true) => write!(f, "{l}a/{l}b", l = self.level),
            (true, false) => write!(f, "{}a", self.level),
            (false, true) => write!(f, "{}b", self.level),
            (false, false) => write!(f, "{}", self.level),
        }
    }
}

impl Serialize for Step {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A signal: a rule's condition became true on `fired_on` (rules.md §4).
///
/// Days are school-day indices of the calendar the engine ran on; evidence
/// holds indices into the student's registration slice. The report layer
/// ([`crate::explain`]) turns both into dates and lessons.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signal {
    pub rule: RuleId,
    pub fired_on: DayIdx,
    /// The first school day the condition no longer held; `None` while open.
    pub closed_on: Option<DayIdx>,
    /// The school days the rule looked at (both inclusive).
    pub window: (DayIdx, DayIdx),
    /// Unexplained hours, for the hour rules.
    pub hours: Option<Hours>,
    /// Afmelding episodes counted (`afmelding_count`, `afmelding_persist`).
    pub episodes: Option<u32>,
    /// Consecutive school days counted (`afmelding_long`, `duo_lrv`, and
    /// `afmelding_persist` when a new episode grew long).
    pub school_days: Option<u32>,
    /// For DUO signals: the first and last day of the absence reported.
    pub begin: Option<DayIdx>,
    pub end: Option<DayIdx>,
    /// The date by which the plan asks for action.
    pub deadline: Option<NaiveDate>,
    /// Indices of the registrations that made the signal.
    pub evidence: Vec<u32>,
}

impl Signal {
    /// Whether the signal is still open on school day `d`.
    pub fn is_open_on(&self, d: DayIdx) -> bool {
        self.fired_on <= d && self.closed_on.is_none_or(|c| c > d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_display_like_the_plan() {
        assert_eq!(Step::NONE.to_string(), "1");
        assert_eq!(RuleId::Contact.step().to_string(), "2");
        assert_eq!(
            RuleId::Unexplained
                .step()
                .max(RuleId::AfmeldingLong.step())
                .to_string(),
            "3a/3b"
        );
        assert_eq!(
            RuleId::Duo16h
                .step()
                .max(RuleId::AfmeldingLong.step())
                .to_string(),
            "4b"
        );
    }

    #[test]
    fn step_names_match_the_case_steps() {
        use crate::CaseStep;
        assert_eq!(Step::NONE.label_nl(), "Signaleren en registreren");
        assert_eq!(
            RuleId::Contact.step().label_nl(),
            "Hele dag afwezig: bellen"
        );
        for r in RuleId::ALL {
            if let Some(c) = CaseStep::for_rule(r) {
                assert_eq!(r.step().label_nl(), c.label_nl(), "{r}");
            }
        }
    }

    #[test]
    fn rule_ids_round_trip() {
        for r in RuleId::ALL {
            assert_eq!(RuleId::parse(r.as_str()), Some(r));
        }
    }
}
