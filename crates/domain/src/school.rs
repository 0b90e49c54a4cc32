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
    ///
    /// Linear in the records given (plus sorting the touched students'
    /// lessons): only the students these records belong to are re-sorted,
    /// and a student whose lessons are still in order is not sorted at all,
    /// so a loader that adds one student at a time stays linear in the
    /// school's size.
    pub fn add_records<'r>(
        &mut self,
        cal: &Calendar,
        records: impl IntoIterator<Item = &'r RegistrationRecord>,
    ) -> Result<(), SchoolError> {
        // The students touched: pushed on every switch of student, made
        // unique once at the end.
        let mut touched: Vec<usize> = Vec::new();
        let mut last: Option<usize> = None;
        for rec in records {
            let i = match last {
                Some(i) if self.students[i].id == rec.student => i,
                _ => self
                    .position(&rec.student)
                    .ok_or_else(|| SchoolError::UnknownStudent(rec.student.to_string()))?,
            };
            if last != Some(i) {
                touched.push(i);
            }
            last = Some(i);
            let reg = rec
                .to_registration(cal)
                .ok_or_else(|| SchoolError::NotASchoolDay {
                    student: rec.student.to_string(),
                    date: rec.date,
                    lesson: rec.lesson,
                })?;
            self.regs[i].push(reg);
        }
        touched.sort_unstable();
        touched.dedup();
        for i in touched {
            normalise(&mut self.regs[i]);
        }
        Ok(())
    }

    /// Sets the registrations of the student at `i` (any order; for equal
    /// lessons the last one given counts), replacing what they had. Costs
    /// one pass when `regs` is already sorted, as a store gives them.
    pub fn set_registrations(&mut self, i: usize, mut regs: Vec<Registration>) {
        normalise(&mut regs);
        self.regs[i] = regs;
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

    /// Sets the case facts of the student at `i`; their timetable stays.
    pub fn set_context(&mut self, i: usize, ctx: StudentContext) {
        self.contexts[i].conversations_3a = ctx.conversations_3a;
    }

    /// Gives every student their week from `timetable` (students it gives
    /// no lessons keep the school year's lesson schedule).
    pub fn set_timetable(&mut self, timetable: &crate::timetable::Timetable) {
        for (s, ctx) in self.students.iter().zip(&mut self.contexts) {
            let week = timetable.for_student(s);
            ctx.week = (!week.is_empty()).then_some(week);
        }
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

/// Builds a school from lessons already in engine form that arrive student
/// by student, possibly a student more than once (several files): each
/// student is sorted once at the end, so the cost stays linear.
pub struct SchoolBuilder {
    school: School,
    touched: Vec<usize>,
}

impl SchoolBuilder {
    /// A builder for these students.
    pub fn new(students: Vec<Student>) -> Self {
        SchoolBuilder {
            school: School::new(students),
            touched: Vec::new(),
        }
    }

    /// Adds one student's lessons already in engine form (any order; a
    /// later one for the same lesson replaces an earlier one).
    pub fn add_lessons(
        &mut self,
        student: &StudentId,
        lessons: Vec<Registration>,
    ) -> Result<(), SchoolError> {
        let i = self
            .school
            .position(student)
            .ok_or_else(|| SchoolError::UnknownStudent(student.to_string()))?;
        let regs = &mut self.school.regs[i];
        if regs.is_empty() {
            *regs = lessons;
        } else {
            regs.extend(lessons);
        }
        self.touched.push(i);
        Ok(())
    }

    /// The school, every student's lessons sorted.
    pub fn finish(mut self) -> School {
        self.touched.sort_unstable();
        self.touched.dedup();
        for i in self.touched {
            normalise(&mut self.school.regs[i]);
        }
        self.school
    }
}

/// Sorts one student's lessons by `(day, lesson)` and keeps the last of
/// equal keys; one pass without sorting when they are strictly ordered.
fn normalise(r: &mut Vec<Registration>) {
    if r.windows(2).all(|w| w[0].key() < w[1].key()) {
        return;
    }
    r.sort_by_key(Registration::key);
    // Keep the last of equal keys (stable sort keeps input order).
    r.reverse();
    r.dedup_by_key(|x| x.key());
    r.reverse();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::tests::{example_calendar, ymd};
    use crate::category::Category;

    fn students(n: usize) -> Vec<Student> {
        (0..n)
            .map(|i| Student {
                id: StudentId::parse(&format!("{}", 100_000 + i)).unwrap(),
                name: format!("Leerling {i}"),
                class: "1A".into(),
                mentor: "m".into(),
                date_of_birth: ymd(2012, 1, 1),
                bsn: None,
                onderwijsnummer: None,
            })
            .collect()
    }

    fn record(s: &Student, day: u32, lesson: u8, category: Category) -> RegistrationRecord {
        RegistrationRecord {
            student: s.id.clone(),
            date: ymd(2025, 9, day),
            lesson,
            minutes: 50,
            code: None,
            category,
            minutes_late: 0,
            note: None,
        }
    }

    #[test]
    fn records_added_per_student_or_at_once_give_the_same_school() {
        let cal = example_calendar();
        let st = students(3);
        // Interleaved over students, out of order, one lesson given twice.
        let recs = vec![
            record(&st[1], 3, 2, Category::Present),
            record(&st[0], 2, 1, Category::Present),
            record(&st[1], 2, 1, Category::Present),
            record(&st[2], 2, 1, Category::Present),
            record(&st[1], 3, 2, Category::Unknown),
        ];
        let mut once = School::new(st.clone());
        once.add_records(&cal, &recs).unwrap();
        let mut each = School::new(st.clone());
        for s in &st {
            each.add_records(&cal, recs.iter().filter(|r| r.student == s.id))
                .unwrap();
        }
        for i in 0..3 {
            assert_eq!(once.registrations(i), each.registrations(i), "student {i}");
        }
        let r1 = once.registrations(1);
        assert_eq!(r1.len(), 2);
        assert!(r1[0].key() < r1[1].key());
        assert_eq!(r1[1].category, Category::Unknown, "the later record wins");
        // A second call adds to what is there and re-sorts only student 0.
        once.add_records(&cal, &[record(&st[0], 1, 3, Category::Present)])
            .unwrap();
        let days: Vec<_> = once
            .registrations(0)
            .iter()
            .map(|r| cal.date(r.day))
            .collect();
        assert_eq!(days, [ymd(2025, 9, 1), ymd(2025, 9, 2)]);
    }

    #[test]
    fn a_builder_gives_the_same_school_as_add_records() {
        let cal = example_calendar();
        let st = students(2);
        let recs = vec![
            record(&st[1], 3, 2, Category::Present),
            record(&st[0], 2, 1, Category::Present),
            record(&st[1], 2, 1, Category::Present),
            record(&st[1], 3, 2, Category::Unknown),
            record(&st[0], 1, 1, Category::Present),
        ];
        let mut once = School::new(st.clone());
        once.add_records(&cal, &recs).unwrap();
        let mut builder = SchoolBuilder::new(st.clone());
        // In pieces, as from two files; the later lesson wins.
        for batch in recs.chunks(2) {
            for s in &st {
                let lessons: Vec<Registration> = batch
                    .iter()
                    .filter(|r| r.student == s.id)
                    .map(|r| r.to_registration(&cal).unwrap())
                    .collect();
                builder.add_lessons(&s.id, lessons).unwrap();
            }
        }
        assert!(builder
            .add_lessons(&StudentId::parse("999").unwrap(), Vec::new())
            .is_err());
        let built = builder.finish();
        for i in 0..2 {
            assert_eq!(once.registrations(i), built.registrations(i), "student {i}");
        }
        assert_eq!(built.registrations(1)[1].category, Category::Unknown);
    }

    #[test]
    fn set_registrations_sorts_and_keeps_the_last_of_equal_lessons() {
        let cal = example_calendar();
        let st = students(1);
        let regs: Vec<Registration> = [
            record(&st[0], 3, 1, Category::Present),
            record(&st[0], 2, 4, Category::Present),
            record(&st[0], 3, 1, Category::LateUnexcused),
        ]
        .iter()
        .map(|r| r.to_registration(&cal).unwrap())
        .collect();
        let mut school = School::new(st);
        school.set_registrations(0, regs.clone());
        assert_eq!(school.registrations(0), [regs[1], regs[2]]);
        // Already in order: kept as given.
        school.set_registrations(0, vec![regs[1], regs[0]]);
        assert_eq!(school.registrations(0), [regs[1], regs[0]]);
    }
}
