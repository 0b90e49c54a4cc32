//! Reading and writing aanwezig's files.
//!
//! Everything a school hands over arrives here first: calendar files
//! ([`calendar`]), the Rijksoverheid school-holiday JSON ([`rijksoverheid`]),
//! policy files ([`policy`]), and the student and registration tables as CSV
//! or XLSX ([`students`], [`registrations`]). Each reader checks every value
//! and answers in Dutch with the file, line, column or key of each problem;
//! the formats are described in `docs/formats.md`.
//!
//! Pure library code: no clock, no printing. The domain types come from
//! [`aanwezig_domain`].

pub mod calendar;
pub mod error;
pub mod mapping;
pub mod policy;
pub mod registrations;
pub mod rijksoverheid;
pub mod students;
mod table;
mod text;
pub mod timetable;
mod toml_de;
pub mod workbook;

pub use calendar::{calendar_to_toml, load_calendar, parse_calendar, parse_school_years};
pub use error::{ImportError, ImportErrors, ImportWarnings, RowError};
pub use mapping::{Format, ImportSettings};
pub use policy::{load_policy, parse_policy, policy_to_toml};
pub use registrations::{
    read_registrations, read_registrations_compact, read_registrations_file,
    read_registrations_file_report, read_registrations_report, read_registrations_xlsx,
    stream_registrations_file, write_registrations, ReadOptions, ReadReport, MAX_NOTE_CHARS,
};
pub use rijksoverheid::{
    merge_holidays, parse_rijksoverheid, parse_rijksoverheid_all, RijksoverheidYear,
};
pub use students::{
    read_students, read_students_checked, read_students_file, read_students_file_checked,
    read_students_xlsx, read_students_xlsx_checked, write_students, StudentChecks, StudentRow,
    StudentsFile,
};
pub use table::is_workbook;
pub use timetable::{read_timetable, read_timetable_file};
