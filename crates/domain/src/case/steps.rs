//! The steps of the case (3a–6): opening reasons, step changes, closing and reopening.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{need_reason, standard_checklist, Actor, Case, CaseError, Decision, DecisionKind};
use crate::signal::{RuleId, Track};

/// A step of the case: the plan's steps 3a to 6. Steps 1 and 2 are the
/// school's registering and calling, before any case exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum CaseStep {
    #[serde(rename = "3a")]
    S3a,
    #[serde(rename = "3b")]
    S3b,
    #[serde(rename = "4a")]
    S4a,
    #[serde(rename = "4b")]
    S4b,
    #[serde(rename = "5a")]
    S5a,
    #[serde(rename = "5b")]
    S5b,
    #[serde(rename = "6")]
    S6,
}

impl CaseStep {
    /// Every step, in the plan's order.
    pub const ALL: [CaseStep; 7] = [
        CaseStep::S3a,
        CaseStep::S3b,
        CaseStep::S4a,
        CaseStep::S4b,
        CaseStep::S5a,
        CaseStep::S5b,
        CaseStep::S6,
    ];

    /// The plan's name: `3a` … `6`.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStep::S3a => "3a",
            CaseStep::S3b => "3b",
            CaseStep::S4a => "4a",
            CaseStep::S4b => "4b",
            CaseStep::S5a => "5a",
            CaseStep::S5b => "5b",
            CaseStep::S6 => "6",
        }
    }

    /// Parses [`CaseStep::as_str`].
    pub fn parse(s: &str) -> Option<CaseStep> {
        let s = s.trim().to_ascii_lowercase();
        CaseStep::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// 3, 4, 5 or 6.
    pub fn level(self) -> u8 {
        match self {
            CaseStep::S3a | CaseStep::S3b => 3,
            CaseStep::S4a | CaseStep::S4b => 4,
            CaseStep::S5a | CaseStep::S5b => 5,
            CaseStep::S6 => 6,
        }
    }

    /// The a- or b-track of steps 3 and 4. At step 5 the letter means the
    /// family's cooperation (a: yes, b: no), not the kind of absence, and
    /// step 6 has none; both give `None`.
    pub fn track(self) -> Option<Track> {
        match self {
            CaseStep::S3a | CaseStep::S4a => Some(Track::A),
            CaseStep::S3b | CaseStep::S4b => Some(Track::B),
            CaseStep::S5a | CaseStep::S5b | CaseStep::S6 => None,
        }
    }

    /// The step a signal of `rule` puts a case on; `None` for the call
    /// signal (step 2), where the school chooses 3a or 3b.
    pub fn for_rule(rule: RuleId) -> Option<CaseStep> {
        let s = rule.step();
        match (s.level, s.a, s.b) {
            (3, true, _) => Some(CaseStep::S3a),
            (3, _, true) => Some(CaseStep::S3b),
            (4, true, _) => Some(CaseStep::S4a),
            (4, _, true) => Some(CaseStep::S4b),
            _ => None,
        }
    }

    /// A short Dutch title of the step. Steps 3 and 4 carry the names of
    /// [`crate::Step::label_nl`], so a step reads the same on every page.
    pub fn label_nl(self) -> &'static str {
        match self {
            CaseStep::S3a | CaseStep::S3b | CaseStep::S4a | CaseStep::S4b => {
                crate::signal::Step::new(self.level(), self.track()).label_nl()
            }
            CaseStep::S5a => "Verzuim houdt aan, gezin werkt mee",
            CaseStep::S5b => "Verzuim houdt aan, gezin werkt niet mee",
            CaseStep::S6 => "Maatwerk",
        }
    }

    /// Who leads the step, in Dutch, after the seed's table.
    pub fn parties_nl(self) -> &'static str {
        match self {
            CaseStep::S3a | CaseStep::S3b => "school",
            CaseStep::S4a => "school, samen met de jeugdarts, leerplicht of allebei",
            CaseStep::S4b => "school, nauw samen met leerplicht en zo nodig de jeugdarts",
            CaseStep::S5a => "AOJ; de school controleert de afspraken",
            CaseStep::S5b | CaseStep::S6 => "AOJ",
        }
    }

    /// Whether the plan asks for a weekly agreement check at this step
    /// (rules.md §5: from step 4 on).
    pub fn has_weekly_check(self) -> bool {
        self.level() >= 4
    }
}

impl fmt::Display for CaseStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A signal of the engine, by rule and the date it fired.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SignalRef {
    pub rule: RuleId,
    pub on: NaiveDate,
}

/// Why a case was opened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OpenReason {
    /// A signal of the engine fired on `on`.
    Signal { rule: RuleId, on: NaiveDate },
    /// By hand: the seed allows a conversation whenever there are worries,
    /// even when no guideline is met.
    Zorgen { note: String },
}

impl OpenReason {
    /// Dutch description.
    pub fn label_nl(&self) -> String {
        match self {
            OpenReason::Signal { rule, on } => format!(
                "signaal '{}' op {}",
                rule.title_nl(),
                crate::explain::date_nl(*on)
            ),
            OpenReason::Zorgen { .. } => "zorgen over de aanwezigheid".to_owned(),
        }
    }
}

/// One step change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepChange {
    pub from: CaseStep,
    pub to: CaseStep,
    pub at_date: NaiveDate,
    pub by: Actor,
    pub why: String,
}

/// Why a case was closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClosureReason {
    /// Attendance is back to normal.
    AanwezigheidHersteld,
    /// The student left the school.
    Uitgeschreven,
    /// Exempted from compulsory education.
    Vrijstelling,
    /// Followed up elsewhere (for example a maatwerktraject at the OPDC).
    Overgedragen,
    Anders,
}

impl ClosureReason {
    /// Dutch label.
    pub fn label_nl(self) -> &'static str {
        match self {
            ClosureReason::AanwezigheidHersteld => "aanwezigheid hersteld",
            ClosureReason::Uitgeschreven => "leerling uitgeschreven",
            ClosureReason::Vrijstelling => "vrijstelling",
            ClosureReason::Overgedragen => "overgedragen aan een andere partij",
            ClosureReason::Anders => "andere reden",
        }
    }
}

/// The closing of a case.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closure {
    pub on: NaiveDate,
    pub by: Actor,
    pub reason: ClosureReason,
    #[serde(default)]
    pub note: String,
}

/// A closed case opened again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reopening {
    /// The closing that was undone.
    pub closure: Closure,
    pub on: NaiveDate,
    pub by: Actor,
    pub why: String,
}

impl Case {
    /// The latest decision of a kind matching `f` on or before `on`.
    pub(super) fn latest_decision(
        &self,
        on: NaiveDate,
        f: impl Fn(&DecisionKind) -> bool,
    ) -> Option<&Decision> {
        self.decisions
            .iter()
            .filter(|d| d.on <= on && f(&d.kind))
            .max_by_key(|d| d.on)
    }

    /// Whether a move from the current step to `to` on `on` is allowed.
    ///
    /// - Between 3a, 3b, 4a and 4b every move is allowed: up, down and
    ///   between tracks (signals decide, and the school may step down).
    /// - 5a and 5b come only after step 4 (or from the other 5, or down
    ///   from 6), and need a recorded [`DecisionKind::Cooperation`] on or
    ///   before `on` whose latest value matches: yes for 5a, no for 5b.
    /// - 6 comes only from 5a or 5b and needs a recorded maatwerk decision.
    /// - Moving down from 5 or 6 to 3 or 4 is allowed.
    pub fn check_move(&self, to: CaseStep, on: NaiveDate) -> Result<(), CaseError> {
        self.ensure_open()?;
        if to == self.step {
            return Err(CaseError::SameStep(to));
        }
        self.not_backdated(on)?;
        match to {
            CaseStep::S3a | CaseStep::S3b | CaseStep::S4a | CaseStep::S4b => Ok(()),
            CaseStep::S5a | CaseStep::S5b => {
                if self.step.level() < 4 {
                    return Err(CaseError::Step5NeedsStep4 {
                        from: self.step,
                        to,
                    });
                }
                let latest = self
                    .latest_decision(on, |k| matches!(k, DecisionKind::Cooperation { .. }))
                    .ok_or(CaseError::CooperationNotRecorded(to))?;
                let cooperates =
                    matches!(latest.kind, DecisionKind::Cooperation { cooperates: true });
                if cooperates == (to == CaseStep::S5a) {
                    Ok(())
                } else {
                    Err(CaseError::CooperationMismatch { to, cooperates })
                }
            }
            CaseStep::S6 => {
                if self.step.level() != 5 {
                    return Err(CaseError::MaatwerkNeedsStep5(self.step));
                }
                if self
                    .latest_decision(on, DecisionKind::is_maatwerk)
                    .is_none()
                {
                    return Err(CaseError::MaatwerkNotDecided);
                }
                Ok(())
            }
        }
    }

    /// Moves the case to `to`, recording who, when and why, and adds the
    /// new step's checklist unless the case was on that step before.
    pub fn move_to(
        &mut self,
        to: CaseStep,
        on: NaiveDate,
        by: Actor,
        why: &str,
    ) -> Result<(), CaseError> {
        self.check_move(to, on)?;
        let why = need_reason(why)?;
        self.history.push(StepChange {
            from: self.step,
            to,
            at_date: on,
            by,
            why,
        });
        self.step = to;
        if !self.checklist.iter().any(|i| i.step == to) {
            self.checklist.extend(standard_checklist(to));
        }
        Ok(())
    }

    /// Closes the case. Running interventions end on the closing date.
    pub fn close(
        &mut self,
        on: NaiveDate,
        by: Actor,
        reason: ClosureReason,
        note: &str,
    ) -> Result<(), CaseError> {
        self.ensure_open()?;
        self.not_backdated(on)?;
        if reason == ClosureReason::Anders {
            need_reason(note)?;
        }
        for i in &mut self.interventions {
            if i.ended_on.is_none() {
                i.ended_on = Some(on.max(i.started_on));
            }
        }
        self.closed = Some(Closure {
            on,
            by,
            reason,
            note: note.trim().to_owned(),
        });
        Ok(())
    }

    /// Reopens a closed case on the step it was closed on. The closing is
    /// kept in [`Case::reopenings`]; a different step is a `move_to` after.
    pub fn reopen(&mut self, on: NaiveDate, by: Actor, why: &str) -> Result<(), CaseError> {
        let closure = self.closed.clone().ok_or(CaseError::NotClosed)?;
        self.not_backdated(on)?;
        let why = need_reason(why)?;
        self.closed = None;
        self.reopenings.push(Reopening {
            closure,
            on,
            by,
            why,
        });
        Ok(())
    }

    /// The step the case was on at `date` (`None` before it opened or while
    /// it was closed).
    pub fn step_on(&self, date: NaiveDate) -> Option<CaseStep> {
        if date < self.opened_on {
            return None;
        }
        let was_closed = self
            .reopenings
            .iter()
            .any(|r| r.closure.on <= date && date < r.on)
            || self.closed.as_ref().is_some_and(|c| c.on <= date);
        if was_closed {
            return None;
        }
        Some(
            self.history
                .iter()
                .rev()
                .find(|c| c.at_date <= date)
                .map_or(self.first_step, |c| c.to),
        )
    }

    /// Links a later signal to the case (a call signal makes a call task).
    pub fn link_signal(&mut self, rule: RuleId, on: NaiveDate) -> Result<(), CaseError> {
        self.ensure_open()?;
        let r = SignalRef { rule, on };
        if !self.signals.contains(&r) {
            self.signals.push(r);
        }
        Ok(())
    }
}
