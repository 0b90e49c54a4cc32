//! A whole school in memory: students, their registrations in engine form,
//! and evaluation of all of them at once (in parallel) or of one after a
//! change.
//!
//! Rayon is the only concurrency here: a CPU thread pool, no I/O.

use std::collections::HashMap;

use rayon::prelude::*;

use crate::calendar::{Calendar, DayIdx};
use crate::engine::{Engine, Evaluation, Scratch, StudentContext};
use crate::registration::{Registration, RegistrationRecord};
use crate::student::{Student, StudentId};

/// Why a record does not fit the school.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchoolError {
    #[error("onbekende leerling {0}")]
    UnknownStudent(String),
    #[error("{date} is geen schooldag in de kalender (leerling {student}, lesuur {lesson})")]
    NotASchoolDay {
        student: String,
        date: chrono::NaiveDate,
        lesson: u8,
    },
}

/// Students and their registrations, indexed for the engine.
#[derive(Clone, Debug, Default)]
pub struct School {
    students: Vec<Student>,
    index: HashMap<StudentId, usize>,
    /// Per student, sorted by `(day, lesson)`.
    regs: Vec<Vec<Registration>>,
    contexts: Vec<StudentContext>,
}

impl School {
    /// A school with these students and no registrations yet.
    pub fn new(students: Vec<Student>) -> School {
        let index = students
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), i))
            .collect();
        let n = students.len();
        School {
            students,
            index,
            regs: vec![Vec::new(); n],
            contexts: vec![StudentContext::default(); n],
        }
    }

    /// A school from students and their registrations in engine form (one
    /// vector per student, same order). Each vector is sorted here.
    pub fn with_registrations(students: Vec<Student>, mut regs: Vec<Vec<Registration>>) -> School {
        let mut school = School::new(students);
        regs.resize(school.students.len(), Vec::new());
        for r in &mut regs {
            r.sort_unstable_by_key(Registration::key);
        }
        school.regs = regs;
        school
    }

    /// Adds stored records; a later record for the same lesson replaces an
    /// earlier one.
    pub fn add_records<'r>(
        &mut self,
        cal: &Calendar,
        records: impl IntoIterator<Item = &'r RegistrationRecord>,
    ) -> Result<(), SchoolError> {
        for rec in records {
            let i = self
                .position(&rec.student)
                .ok_or_else(|| SchoolError::UnknownStudent(rec.student.to_string()))?;
            let reg = rec
                .to_registration(cal)
                .ok_or_else(|| SchoolError::NotASchoolDay {
                    student: rec.student.to_string(),
                    date: rec.date,
                    lesson: rec.lesson,
                })?;
            self.regs[i].push(reg);
        }
        for r in &mut self.regs {
            r.sort_by_key(Registration::key);
            // Keep the last of equal keys (stable sort keeps input order).
            r.reverse();
            r.dedup_by_key(|x| x.key());
            r.reverse();
        }
        Ok(())
    }

    /// The students, in their fixed order.
    pub fn students(&self) -> &[Student] {
        &self.students
    }

    /// The position of a student.
    pub fn position(&self, id: &StudentId) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// The registrations of the student at `i`, sorted.
    pub fn registrations(&self, i: usize) -> &[Registration] {
        &self.regs[i]
    }

    /// The total number of registrations.
    pub fn registration_count(&self) -> usize {
        self.regs.iter().map(Vec::len).sum()
    }

    /// The case facts of the student at `i`.
    pub fn context(&self, i: usize) -> &StudentContext {
        &self.contexts[i]
    }

    /// Sets the case facts of the student at `i`.
    pub fn set_context(&mut self, i: usize, ctx: StudentContext) {
        self.contexts[i] = ctx;
    }

    /// Inserts or replaces one lesson of the student at `i`; returns the
    /// lesson it replaced.
    pub fn upsert_lesson(&mut self, i: usize, reg: Registration) -> Option<Registration> {
        let v = &mut self.regs[i];
        match v.binary_search_by_key(&reg.key(), Registration::key) {
            Ok(pos) => Some(std::mem::replace(&mut v[pos], reg)),
            Err(pos) => {
                v.insert(pos, reg);
                None
            }
        }
    }

    /// Evaluates one student.
    pub fn evaluate_one(&self, engine: &Engine<'_>, i: usize, until: Option<DayIdx>) -> Evaluation {
        engine.evaluate(&self.regs[i], &self.contexts[i], until)
    }

    /// Evaluates every student, in parallel; results in student order.
    pub fn evaluate_all(&self, engine: &Engine<'_>, until: Option<DayIdx>) -> Vec<Evaluation> {
        self.regs
            .par_iter()
            .zip(self.contexts.par_iter())
            .map_init(Scratch::default, |scratch, (regs, ctx)| {
                engine.evaluate_with(scratch, regs, ctx, until)
            })
            .collect()
    }
}
