//! The stappenplan bij verminderde aanwezigheid as pure code.
//!
//! This crate holds the domain of aanwezig: the school calendar
//! ([`calendar`]), absence categories ([`category`]), the school's policy
//! ([`policy`]), lesson registrations ([`registration`]), the rules of
//! `rules.md` §3–§4 ([`engine`]), the signals they raise ([`signal`]) and
//! the case dossier that follows a student through steps 3–6 ([`case`]).
//!
//! It does no I/O, reads no clock and knows no database: "today" is always a
//! parameter, and every input arrives as a value. Storage, import, web and
//! CLI crates are built around it.

pub mod access;
pub mod calendar;
pub mod call;
pub mod case;
pub mod category;
pub mod duo;
pub mod duo_work;
pub mod engine;
pub mod explain;
pub mod hours;
pub mod personal_number;
pub mod policy;
pub mod registration;
pub mod school;
pub mod school_settings;
pub mod signal;
pub mod student;
pub mod timetable;

pub use access::{Role, Scope};
pub use calendar::{Calendar, CalendarError, DayIdx, FreeDay, FreeDayKind, LessonSlot, SchoolYear};
pub use call::{call_due, illness_words, Call, CallDue, Reached};
pub use case::{Case, CaseError, CaseStep, Task, TaskKind};
pub use category::{Category, CategorySet};
pub use duo::{
    AbsenceDay, DuoError, DuoFieldError, MeldingDraft, MeldingKind, MeldingStatus, NumberShown,
    Reporter, SchoolLocation,
};
pub use engine::{Engine, Evaluation, StudentContext};
pub use hours::Hours;
pub use personal_number::{Bsn, NumberError, NumbersGiven, Onderwijsnummer, PersonalNumber};
pub use policy::{LateCounts, Policy, PolicyError, Presence};
pub use registration::{Registration, RegistrationRecord};
pub use school::{School, SchoolBuilder, SchoolError};
pub use signal::{RuleId, Signal, Step, Track};
pub use student::{Student, StudentId, StudentIdError};
pub use timetable::{Group, LessonSet, Timetable, TimetableRow, WeekSchedule};
