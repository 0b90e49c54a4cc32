//! Students as the engine needs them.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::personal_number::{Bsn, Onderwijsnummer, PersonalNumber};

/// A school's own student number (leerlingnummer). Non-empty, at most 32
/// characters, no whitespace or control characters, and not `.` or `..`
/// (a number must be usable as one segment of a web address, and those two
/// mean "this folder" and "the folder above" there, encoded or not).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StudentId(String);

/// Why a string is not a [`StudentId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StudentIdError {
    #[error("leerlingnummer is leeg")]
    Empty,
    #[error("leerlingnummer is langer dan 32 tekens")]
    TooLong,
    #[error("leerlingnummer bevat spaties of stuurtekens")]
    BadCharacter,
    #[error("leerlingnummer mag niet alleen uit punten bestaan ('.' of '..')")]
    DotSegment,
}

impl StudentId {
    /// Validates and wraps a student number.
    pub fn parse(s: &str) -> Result<StudentId, StudentIdError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(StudentIdError::Empty);
        }
        if s.chars().count() > 32 {
            return Err(StudentIdError::TooLong);
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(StudentIdError::BadCharacter);
        }
        if s == "." || s == ".." {
            return Err(StudentIdError::DotSegment);
        }
        Ok(StudentId(s.to_owned()))
    }

    /// The number as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for StudentId {
    type Error = StudentIdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        StudentId::parse(&s)
    }
}

impl From<StudentId> for String {
    fn from(id: StudentId) -> String {
        id.0
    }
}

impl fmt::Display for StudentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A student: only what the stappenplan needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Student {
    pub id: StudentId,
    pub name: String,
    /// Class (klas), e.g. `2B`.
    pub class: String,
    /// The mentor's user name or name.
    pub mentor: String,
    pub date_of_birth: NaiveDate,
    /// The burgerservicenummer, when the school's administration gave it.
    /// Needed only for a DUO melding; shown only to the coordinators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bsn: Option<Bsn>,
    /// DUO's onderwijsnummer, for a student without a BSN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub onderwijsnummer: Option<Onderwijsnummer>,
}

impl Student {
    /// The number a DUO melding identifies this student by: the BSN, else
    /// the onderwijsnummer; `None` when neither is known.
    pub fn personal_number(&self) -> Option<PersonalNumber<'_>> {
        PersonalNumber::of(self.bsn.as_ref(), self.onderwijsnummer.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn student_ids_are_validated() {
        assert_eq!(StudentId::parse(" 123 ").map(|s| s.0), Ok("123".to_owned()));
        assert_eq!(StudentId::parse(""), Err(StudentIdError::Empty));
        assert_eq!(StudentId::parse("12 3"), Err(StudentIdError::BadCharacter));
        assert_eq!(
            StudentId::parse(&"x".repeat(33)),
            Err(StudentIdError::TooLong)
        );
        assert_eq!(StudentId::parse(".."), Err(StudentIdError::DotSegment));
        assert_eq!(StudentId::parse(" . "), Err(StudentIdError::DotSegment));
        assert!(StudentId::parse("...").is_ok());
        assert!(StudentId::parse("1.2").is_ok());
    }
}
