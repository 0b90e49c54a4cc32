//! A realistic synthetic school for demos, tests and benchmarks.
//!
//! [`generate`] builds a school of any size on a [`Calendar`]: students with
//! Dutch-sounding names in classes of about 27 in leerjaar 1–6, one mentor
//! per class, and a registration for *every* scheduled lesson of every
//! school day up to [`DemoConfig::until`], presence included (as the
//! stappenplan advises: "naast het registreren van de afwezigheid ook
//! aangeven of leerlingen aanwezig waren").
//!
//! Each student follows one absence [`Pattern`] (mostly present, frequently
//! sick, long illness, skipper, chronic late-comer, absent around holidays,
//! long-term unexplained, leave only), dealt in fixed proportions per block
//! of 200 students so that every rule of rules.md §4 fires somewhere. The
//! absences carry the Magister codes of the shipped preset
//! ([`MagisterCode`]), so [`DemoSchool::records`] and the CSV writers look
//! like a real export.
//!
//! Generation is deterministic for a seed and parallel: every student has
//! its own ChaCha stream (key from the seed, stream number = the student's
//! position), so the result does not depend on the number of threads.
//! Memory is the registrations themselves (8 bytes a lesson, each student's
//! `Vec` allocated at its exact size) plus a few bytes per student.
//!
//! The crate reads no clock: `until` is a parameter.

mod codes;
mod csv_out;
mod layout;
mod pattern;
mod roster;

use std::io::Write;

use aanwezig_domain::{Calendar, Registration, RegistrationRecord, Student};
use chrono::NaiveDate;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

pub use codes::MagisterCode;
pub use csv_out::{REGISTRATIONS_HEADER, STUDENTS_HEADER};
pub use pattern::Pattern;
pub use roster::{Mentor, BLOCK_SIZE, CLASS_SIZE, FIRST_STUDENT_ID};

use layout::{Shape, Template};
use pattern::{CodeMark, Planner};

/// What school to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoConfig {
    /// Number of students.
    pub students: usize,
    /// Seed: the same seed (and calendar) gives the same school.
    pub seed: u64,
    /// Generate lessons up to and including this date; `None` = the whole
    /// calendar. The data for an earlier date is an exact prefix of the data
    /// for a later one.
    pub until: Option<NaiveDate>,
}

impl Default for DemoConfig {
    fn default() -> Self {
        DemoConfig {
            students: 2_000,
            seed: 2025,
            until: None,
        }
    }
}

/// Why writing the demo school failed.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("schrijven mislukt: {0}")]
    Io(#[from] std::io::Error),
    #[error("CSV schrijven mislukt: {0}")]
    Csv(#[from] csv::Error),
}

/// A generated school.
#[derive(Clone, Debug)]
pub struct DemoSchool {
    /// The students, ids ascending from [`FIRST_STUDENT_ID`].
    pub students: Vec<Student>,
    /// Per student (same order): every scheduled lesson, sorted by
    /// `(day, lesson)`.
    pub registrations: Vec<Vec<Registration>>,
    patterns: Vec<Pattern>,
    /// Per student: the registrations whose code is not the default of its
    /// category, sorted by `(day, lesson)`.
    codes: Vec<Vec<CodeMark>>,
    mentors: Vec<Mentor>,
}

/// Generates a school on `cal`.
pub fn generate(cal: &Calendar, cfg: &DemoConfig) -> DemoSchool {
    let shape = Shape::new(cal);
    let days = match cfg.until {
        None => cal.len(),
        Some(until) => cal.on_or_before(until).map_or(0, |d| usize::from(d) + 1),
    };
    let template = Template::new(cal, days);
    let roster = roster::roster(cal, cfg.students, cfg.seed);

    let (registrations, codes): (Vec<_>, Vec<_>) = roster
        .patterns
        .par_iter()
        .enumerate()
        .map_init(
            || Planner::new(&shape),
            |planner, (i, &pattern)| {
                let mut rng = student_rng(cfg.seed, i);
                planner.plan(pattern, &mut rng);
                planner.materialize(&template)
            },
        )
        .unzip();

    DemoSchool {
        students: roster.students,
        registrations,
        patterns: roster.patterns,
        codes,
        mentors: roster.mentors,
    }
}

/// The RNG of student `index`: one ChaCha key per seed and one stream per
/// student, so students can be generated in any order on any thread.
fn student_rng(seed: u64, index: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(index as u64);
    rng
}

impl DemoSchool {
    /// The pattern student `student` follows.
    pub fn pattern(&self, student: usize) -> Option<Pattern> {
        self.patterns.get(student).copied()
    }

    /// The patterns of all students, in student order.
    pub fn patterns(&self) -> &[Pattern] {
        &self.patterns
    }

    /// Total number of registrations (for a progress bar).
    pub fn total_registrations(&self) -> u64 {
        self.registrations.iter().map(|r| r.len() as u64).sum()
    }

    /// The Magister code of one of student `student`'s registrations;
    /// `None` for a present lesson (which has no code).
    pub fn code(&self, student: usize, reg: &Registration) -> Option<MagisterCode> {
        let marks = self.codes.get(student).map_or(&[][..], Vec::as_slice);
        marks
            .binary_search_by_key(&(reg.day, reg.lesson), |m| (m.day, m.lesson))
            .ok()
            .map(|i| marks[i].code)
            .filter(|c| c.category() == reg.category)
            .or_else(|| MagisterCode::default_for(reg.category))
    }

    /// Student `student`'s registrations in their stored form, with dates
    /// and Magister codes. Empty when there is no such student.
    pub fn records<'a>(
        &'a self,
        cal: &'a Calendar,
        student: usize,
    ) -> impl Iterator<Item = RegistrationRecord> + 'a {
        let id = self.students.get(student).map(|s| &s.id);
        let regs = self
            .registrations
            .get(student)
            .map_or(&[][..], Vec::as_slice);
        regs.iter().filter_map(move |r| {
            Some(RegistrationRecord {
                student: id?.clone(),
                date: cal.date(r.day),
                lesson: r.lesson,
                minutes: r.minutes,
                code: self.code(student, r).map(|c| c.as_str().to_owned()),
                category: r.category,
                minutes_late: r.minutes_late,
                note: None,
            })
        })
    }

    /// The mentors, as `(user name, classes)`, in class order; user names
    /// are `mentor_` and the class in lower case (`mentor_1a`).
    pub fn mentors(&self) -> Vec<(String, Vec<String>)> {
        self.mentors
            .iter()
            .map(|m| (m.username.clone(), m.classes.clone()))
            .collect()
    }

    /// The mentors with their display names.
    pub fn mentor_accounts(&self) -> &[Mentor] {
        &self.mentors
    }

    /// Writes `students.csv`:
    /// `student_id,name,class,mentor,date_of_birth,left_on`.
    pub fn write_students_csv<W: Write>(&self, w: W) -> Result<(), DemoError> {
        csv_out::write_students(self, w)
    }

    /// Writes `registrations.csv`:
    /// `student_id,date,lesson,minutes,code,category,minutes_late,note`.
    /// Present rows have an empty code and category `present`; absence rows
    /// have the code and an empty category. `progress` is called after each
    /// student with the number of rows written so far.
    pub fn write_registrations_csv<W: Write>(
        &self,
        cal: &Calendar,
        w: W,
        progress: impl FnMut(u64),
    ) -> Result<(), DemoError> {
        csv_out::write_registrations(self, cal, w, progress)
    }
}

/// The shipped calendar of 2025–2026, region noord
/// (`data/calendars/2025-2026-noord.toml`): the demo's default school year.
pub fn demo_calendar() -> Result<Calendar, aanwezig_import::ImportError> {
    aanwezig_import::parse_calendar(
        include_str!("../../../data/calendars/2025-2026-noord.toml"),
        "2025-2026-noord.toml",
    )
}
