//! The school as the web app holds it in memory: calendar, policy, every
//! student's registrations in engine form, and every student's evaluation
//! up to today.
//!
//! Evaluating all 2,000 students of a demo school takes a few milliseconds,
//! one student a few microseconds, so a change made in a request is
//! re-evaluated inside that request ("signals update at once").

use aanwezig_domain::{
    Calendar, DayIdx, Engine, Evaluation, Policy, RegistrationRecord, School, StudentId,
};
use aanwezig_storage::prelude::*;
use aanwezig_storage::DocumentKind;
use chrono::NaiveDate;

use crate::error::PageError;

/// The loaded school. `cal` is `None` on a fresh install until the
/// beheerder imports a calendar.
pub struct Live {
    pub cal: Option<Calendar>,
    pub policy: Policy,
    pub school: School,
    /// Evaluations in student order, up to `through`.
    pub evaluations: Vec<Evaluation>,
    /// The last school day on or before `today` (rules ran up to it).
    pub through: Option<DayIdx>,
    pub today: NaiveDate,
    /// The calls about each student's absences (stap 2), oldest first.
    pub calls: std::collections::HashMap<aanwezig_domain::StudentId, Vec<aanwezig_domain::Call>>,
    /// Changes with every change of the school or its evaluations (and is
    /// unique across reloads), so that pages may cache what they derive
    /// from it. Code that changes the fields above must call
    /// [`Live::touch`].
    pub generation: u64,
    /// The versions of the documents the school was loaded from (read
    /// before them, so never newer than what was loaded).
    pub documents: EngineDocuments,
}

/// The versions of the stored documents the engine reads: a change of any
/// of them (by this app or another server) reloads the school, and a save
/// of the calendar or policy is checked against the version loaded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EngineDocuments {
    pub calendar: Option<u32>,
    pub policy: Option<u32>,
    pub timetable: Option<u32>,
}

impl EngineDocuments {
    /// The versions stored now.
    pub async fn stored(store: &dyn Store) -> Result<EngineDocuments, PageError> {
        Ok(EngineDocuments {
            calendar: store.document_version(DocumentKind::Calendar).await?,
            policy: store.document_version(DocumentKind::Policy).await?,
            timetable: store.document_version(DocumentKind::Timetable).await?,
        })
    }
}

impl Live {
    /// Loads everything from the store and evaluates as of `today`.
    pub async fn load(store: &dyn Store, today: NaiveDate) -> Result<Live, PageError> {
        let documents = EngineDocuments::stored(store).await?;
        let loaded = aanwezig_storage::load_school(store).await?;
        let first = loaded
            .calendar
            .as_ref()
            .and_then(|c| c.years().iter().map(|y| y.first_day).min())
            .unwrap_or(today);
        let mut calls: std::collections::HashMap<_, Vec<_>> = std::collections::HashMap::new();
        for (student, call) in store.calls_since(first).await? {
            calls.entry(student).or_default().push(call);
        }
        let mut live = Live {
            cal: loaded.calendar,
            policy: loaded.policy.unwrap_or_default(),
            school: loaded.school,
            evaluations: Vec::new(),
            through: None,
            today,
            calls,
            generation: 0,
            documents,
        };
        live.evaluate_all();
        Ok(live)
    }

    /// A call just stored: kept with the student's calls.
    pub fn add_call(&mut self, student: aanwezig_domain::StudentId, call: aanwezig_domain::Call) {
        self.calls.entry(student).or_default().push(call);
        self.touch();
    }

    /// What the plan asks about the call for the absence run of `signal`
    /// (a `contact` signal of student `i`): done, or due by a day.
    pub fn call_due(&self, i: usize, signal: &aanwezig_domain::Signal) -> aanwezig_domain::CallDue {
        let Some(cal) = self.cal.as_ref() else {
            return aanwezig_domain::CallDue::Due {
                by: self.today,
                tried: false,
            };
        };
        let absent_from = cal.date(signal.fired_on);
        let deadline = signal.deadline.unwrap_or(absent_from);
        let calls = self
            .school
            .students()
            .get(i)
            .and_then(|s| self.calls.get(&s.id))
            .map_or(&[][..], Vec::as_slice);
        aanwezig_domain::call_due(cal, absent_from, deadline, calls)
    }

    /// Marks the school as changed (a new [`Live::generation`]).
    pub fn touch(&mut self) {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        self.generation = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Re-evaluates every student as of `self.today`.
    pub fn evaluate_all(&mut self) {
        self.touch();
        let Some(cal) = &self.cal else {
            self.evaluations = vec![Evaluation::default(); self.school.students().len()];
            self.through = None;
            return;
        };
        self.through = cal.on_or_before(self.today);
        let engine = Engine::new(cal, &self.policy);
        self.evaluations = match self.through {
            Some(d) => self.school.evaluate_all(&engine, Some(d)),
            None => vec![Evaluation::default(); self.school.students().len()],
        };
    }

    /// Moves to a new day when the date has changed.
    pub fn set_today(&mut self, today: NaiveDate) {
        if today != self.today {
            self.today = today;
            self.evaluate_all();
        }
    }

    /// Applies one stored change and re-evaluates that student.
    pub fn apply(&mut self, record: &RegistrationRecord) -> Result<(), PageError> {
        let cal = self
            .cal
            .as_ref()
            .ok_or_else(|| PageError::BadRequest("er is nog geen kalender".into()))?;
        let i = self
            .school
            .position(&record.student)
            .ok_or(PageError::NotFound)?;
        let reg = record
            .to_registration(cal)
            .ok_or_else(|| PageError::BadRequest(format!("{} is geen schooldag", record.date)))?;
        self.school.upsert_lesson(i, reg);
        if let Some(d) = self.through {
            let engine = Engine::new(cal, &self.policy);
            self.evaluations[i] = self.school.evaluate_one(&engine, i, Some(d));
        }
        self.touch();
        Ok(())
    }

    /// Gives the engine a student's case facts (the 3a conversations) and
    /// re-evaluates that student when they changed.
    pub fn set_case_context(&mut self, case: &aanwezig_domain::Case) {
        let Some(i) = self.school.position(&case.student) else {
            return;
        };
        let ctx = case.engine_context();
        if self.school.context(i).conversations_3a == ctx.conversations_3a {
            return;
        }
        self.school.set_context(i, ctx);
        if let (Some(cal), Some(d)) = (&self.cal, self.through) {
            let engine = Engine::new(cal, &self.policy);
            self.evaluations[i] = self.school.evaluate_one(&engine, i, Some(d));
        }
        self.touch();
    }

    /// Replaces one student's registrations with `records` (as stored now)
    /// and re-evaluates them: what the change feed asks after another
    /// server (or this one) changed their lessons. Applying the same state
    /// twice changes nothing. `false` when the student or a lesson's day
    /// is not in the loaded school: the caller reloads it all.
    pub fn set_student_registrations(
        &mut self,
        student: &StudentId,
        records: &[RegistrationRecord],
    ) -> bool {
        let Some(i) = self.school.position(student) else {
            return false;
        };
        let Some(cal) = self.cal.as_ref() else {
            return records.is_empty();
        };
        let mut regs = Vec::with_capacity(records.len());
        for r in records {
            match r.to_registration(cal) {
                Some(reg) => regs.push(reg),
                None => return false,
            }
        }
        if self.school.registrations(i) == regs.as_slice() {
            return true;
        }
        self.school.set_registrations(i, regs);
        if let Some(d) = self.through {
            let engine = Engine::new(cal, &self.policy);
            self.evaluations[i] = self.school.evaluate_one(&engine, i, Some(d));
        }
        self.touch();
        true
    }

    /// Replaces one student's calls with `calls` (as stored now, oldest
    /// first): idempotent, like [`Live::set_student_registrations`].
    pub fn set_student_calls(&mut self, student: &StudentId, calls: Vec<aanwezig_domain::Call>) {
        let first = self
            .cal
            .as_ref()
            .and_then(|c| c.years().iter().map(|y| y.first_day).min())
            .unwrap_or(self.today);
        let calls: Vec<_> = calls
            .into_iter()
            .filter(|c| c.absent_from >= first)
            .collect();
        let old = self.calls.get(student).map_or(&[][..], Vec::as_slice);
        if old == calls.as_slice() {
            return;
        }
        if calls.is_empty() {
            self.calls.remove(student);
        } else {
            self.calls.insert(student.clone(), calls);
        }
        self.touch();
    }

    /// The position of a student by number.
    pub fn position(&self, id: &str) -> Option<usize> {
        StudentId::parse(id)
            .ok()
            .and_then(|id| self.school.position(&id))
    }

    /// An engine for the loaded calendar and policy.
    pub fn engine(&self) -> Option<Engine<'_>> {
        self.cal.as_ref().map(|c| Engine::new(c, &self.policy))
    }
}
