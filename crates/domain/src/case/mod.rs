//! The case dossier (rules.md §5): one student followed through steps 3–6
//! of the stappenplan, as a pure state machine.
//!
//! A [`Case`] is a plain value meant to be stored as one JSON document and
//! rendered as a page: its step and the history of every step change (who,
//! when, why), a checklist per step with the seed's parties and actions,
//! contact moments with the conversation guides of bijlage 1 (A, B, C) as
//! forms, agreements with their weekly checks, referrals and decisions
//! (jeugdarts, leerplicht, VO WIJ, ECT, OPDC, vrijstelling, 5a/5b
//! cooperation, maatwerk), interventions with their evaluations, and its
//! closing. [`Case::tasks`] derives what the plan says is due on a given day
//! from the school [`Calendar`].
//!
//! Like the rest of the crate it does no I/O and reads no clock: every
//! change carries its date, and "today" is a parameter.
//!
//! **The nature of an illness is never recorded** ("vraag niet naar de aard
//! van de ziekte"): no type in this module has a field for a diagnosis,
//! symptom or medical detail, and none may be added. Free-text notes are for
//! what was agreed and done; the guide's hint says so where it matters.
//!
//! One module per part of the case: `steps` (the steps, opening, moving,
//! closing), `checklist`, `people` (who acts and who takes part),
//! `contacts` (contact moments and the guides), `agreements`,
//! `decisions`, `interventions`, `melding` (what of a case goes into
//! a DUO melding), `partners` (external partners,
//! confidential notes, mailings), `tasks`, `redaction` (what a role may
//! read), `trail` and `error`; the [`Case`] itself lives here.

mod agreements;
mod checklist;
mod contacts;
mod decisions;
mod error;
mod interventions;
mod melding;
mod partners;
mod people;
mod redaction;
mod steps;
mod tasks;
#[cfg(test)]
mod tests;
mod trail;

pub use agreements::{Agreement, AgreementParty, WeeklyCheck};
pub use checklist::{keys, standard_checklist, ChecklistItem, ItemStatus};
pub use contacts::{Answer, ContactKind, ContactMoment, Guide, GuideQuestion};
pub use decisions::{may_see_meldcode, Decision, DecisionKind, OpdcTrajectory};
pub use error::CaseError;
pub use interventions::{
    due_within, next_school_day, AttendanceFigure, Evaluation, Intervention, InterventionKind,
};
pub use melding::actions_from_case;
pub use partners::{
    may_read_confidential, ConfidentialNote, Handover, Involvement, Mailing, PartnerIdentity,
};
pub use people::{Actor, Party};
pub use steps::{CaseStep, Closure, ClosureReason, OpenReason, Reopening, SignalRef, StepChange};
pub use tasks::{Task, TaskKind};
pub use trail::TrailEntry;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use crate::student::StudentId;

/// Days between weekly agreement checks ("school checkt 1 x per week").
pub const CHECK_INTERVAL_DAYS: u64 = 7;
/// At most this many days between an intervention's start (or its last
/// evaluation) and its evaluation ("evaluatie na maximaal 6 weken").
pub const EVALUATION_DAYS: u64 = 42;
/// A thuiswerkplan asks at least this many contacts a week ...
pub const THUISWERK_CONTACTS_PER_WEEK: usize = 2;
/// ... each of at least this many minutes ("minimaal 2x 2 uur contact").
pub const THUISWERK_MINUTES: u16 = 120;

/// A case dossier of one student.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    pub student: StudentId,
    pub opened_on: NaiveDate,
    pub opened_by: Actor,
    pub reason: OpenReason,
    /// The step the case opened on.
    pub first_step: CaseStep,
    /// The current step.
    pub step: CaseStep,
    #[serde(default)]
    pub history: Vec<StepChange>,
    #[serde(default)]
    pub checklist: Vec<ChecklistItem>,
    /// Signals linked to the case after it opened (the opening signal is in
    /// `reason`).
    #[serde(default)]
    pub signals: Vec<SignalRef>,
    #[serde(default)]
    pub contacts: Vec<ContactMoment>,
    #[serde(default)]
    pub agreements: Vec<Agreement>,
    #[serde(default)]
    pub decisions: Vec<Decision>,
    #[serde(default)]
    pub interventions: Vec<Intervention>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<Closure>,
    #[serde(default)]
    pub reopenings: Vec<Reopening>,
    /// The user who leads the case (dossierhouder); `None`: the opener.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// External partners brought in, current and past.
    #[serde(default)]
    pub involved: Vec<Involvement>,
    /// E-mail addresses of the parents or carers, to share agreements with.
    #[serde(default)]
    pub parent_emails: Vec<String>,
    /// The student's own e-mail address, to share agreements with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub student_email: Option<String>,
    /// The jeugdarts's confidential notes ([`may_read_confidential`]).
    #[serde(default)]
    pub confidential: Vec<ConfidentialNote>,
    /// Every time agreements were sent by e-mail.
    #[serde(default)]
    pub mailings: Vec<Mailing>,
    /// Every change of the dossierhouder.
    #[serde(default)]
    pub handovers: Vec<Handover>,
}

fn need_reason(why: &str) -> Result<String, CaseError> {
    let why = why.trim();
    if why.is_empty() {
        Err(CaseError::MissingReason)
    } else {
        Ok(why.to_owned())
    }
}

impl Case {
    /// Opens a case on `step` (3a, 3b, 4a or 4b) with that step's checklist.
    pub fn open(
        student: StudentId,
        opened_on: NaiveDate,
        opened_by: Actor,
        reason: OpenReason,
        step: CaseStep,
    ) -> Result<Case, CaseError> {
        if step.level() > 4 {
            return Err(CaseError::OpensAtDecisionStep(step));
        }
        if let OpenReason::Zorgen { note } = &reason {
            need_reason(note)?;
        }
        Ok(Case {
            student,
            opened_on,
            opened_by,
            reason,
            first_step: step,
            step,
            history: Vec::new(),
            checklist: standard_checklist(step),
            signals: Vec::new(),
            contacts: Vec::new(),
            agreements: Vec::new(),
            decisions: Vec::new(),
            interventions: Vec::new(),
            closed: None,
            reopenings: Vec::new(),
            owner: None,
            involved: Vec::new(),
            parent_emails: Vec::new(),
            student_email: None,
            confidential: Vec::new(),
            mailings: Vec::new(),
            handovers: Vec::new(),
        })
    }

    /// What the engine needs from the case: the dates of the 3a
    /// conversations (rules.md §4, `afmelding_persist`): the 3a checklist's
    /// conversation marked done, and every contact moment held while the
    /// case was at 3a with student and parents (guide C, or both taking
    /// part).
    pub fn engine_context(&self) -> crate::engine::StudentContext {
        let mut dates: Vec<NaiveDate> = self
            .checklist
            .iter()
            .filter(|i| i.step == CaseStep::S3a && i.key == keys::GESPREK)
            .filter_map(|i| match &i.status {
                ItemStatus::Done { on, .. } => Some(*on),
                _ => None,
            })
            .chain(
                self.contacts
                    .iter()
                    .filter(|c| self.step_on(c.on) == Some(CaseStep::S3a))
                    .filter(|c| {
                        c.guide == Some(Guide::C)
                            || (c.participants.contains(&Party::Leerling)
                                && c.participants.contains(&Party::Ouders))
                    })
                    .map(|c| c.on),
            )
            .collect();
        dates.sort_unstable();
        dates.dedup();
        crate::engine::StudentContext {
            conversations_3a: dates,
            ..Default::default()
        }
    }

    /// Whether the case is open.
    pub fn is_open(&self) -> bool {
        self.closed.is_none()
    }

    fn ensure_open(&self) -> Result<(), CaseError> {
        if self.closed.is_some() {
            Err(CaseError::Closed)
        } else {
            Ok(())
        }
    }

    /// The date of the latest change of step or state: opening, step
    /// changes, closing, reopening. Those may not be backdated before it.
    pub fn last_change_on(&self) -> NaiveDate {
        let mut last = self.opened_on;
        if let Some(c) = self.history.last() {
            last = last.max(c.at_date);
        }
        if let Some(r) = self.reopenings.last() {
            last = last.max(r.on);
        }
        if let Some(c) = &self.closed {
            last = last.max(c.on);
        }
        last
    }

    fn not_backdated(&self, on: NaiveDate) -> Result<(), CaseError> {
        let earliest = self.last_change_on();
        if on < earliest {
            Err(CaseError::Backdated { on, earliest })
        } else {
            Ok(())
        }
    }
}
/// The Monday of a date's ISO week.
pub fn monday_of(date: NaiveDate) -> NaiveDate {
    NaiveDate::from_isoywd_opt(date.iso_week().year(), date.iso_week().week(), Weekday::Mon)
        .unwrap_or(date)
}

/// Keeps the items for which `keep` holds and returns, for every old index,
/// its new index (`None` for an item left out).
fn keep_from<T>(items: &mut Vec<T>, keep: impl Fn(&T) -> bool) -> Vec<Option<usize>> {
    let mut map = Vec::with_capacity(items.len());
    let mut next = 0;
    for item in items.iter() {
        if keep(item) {
            map.push(Some(next));
            next += 1;
        } else {
            map.push(None);
        }
    }
    let mut i = 0;
    items.retain(|_| {
        let kept = map[i].is_some();
        i += 1;
        kept
    });
    map
}
