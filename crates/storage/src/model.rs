//! The values the [`Store`](crate::Store) takes and gives back, besides the
//! domain's own types.

use aanwezig_domain::{RegistrationRecord, Student};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// A student as stored: the domain's [`Student`] plus the date the student
/// left the school, if any. Leaving does not delete anything: registrations
/// must be kept for five years after a student leaves (product.md, AVG).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredStudent {
    pub student: Student,
    pub left_on: Option<NaiveDate>,
}

/// What an upsert did, row by row. `inserted + updated + unchanged` is the
/// number of rows given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpsertCounts {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
}

/// Where an import of registrations came from; logged in the imports table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSource {
    /// The file's name as the user gave it (no directories needed).
    pub file_name: String,
    /// Hex SHA-256 of the file's bytes, to recognise the same file again.
    pub sha256: String,
    /// The user who ran the import.
    pub imported_by: String,
    /// When the import ran (the caller's clock: the crate reads none).
    pub at: DateTime<Utc>,
}

/// The outcome of one import of registrations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSummary {
    /// The id of the import in the imports log.
    pub import_id: i64,
    /// Rows given.
    pub rows: u64,
    /// Rows whose key (student, date, lesson) was new.
    pub inserted: u64,
    /// Rows that replaced a different stored state (each left one history
    /// entry).
    pub updated: u64,
    /// Rows identical to what was stored: nothing written for them.
    pub unchanged: u64,
}

/// One line of the imports log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportLogEntry {
    pub summary: ImportSummary,
    pub source: ImportSource,
}

/// Who made a change, and when. A change is either an import (then
/// `import_id` is set and `by` is the importing user) or a single edit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    pub at: DateTime<Utc>,
    pub by: String,
    pub import_id: Option<i64>,
}

/// A state a registration had before it was changed (rules.md §2: "every
/// change of a registration is kept in its history").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// The registration as it was.
    pub old: RegistrationRecord,
    /// The change that had given it that state.
    pub set: Provenance,
    /// The change that replaced that state.
    pub replaced: Provenance,
}

/// The kinds of settings document kept with every version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// The school years (`Vec<SchoolYear>`).
    Calendar,
    /// The school's [`Policy`](aanwezig_domain::Policy).
    Policy,
}

impl DocumentKind {
    /// The name stored in the `documents.kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Calendar => "calendar",
            DocumentKind::Policy => "policy",
        }
    }
}

/// One saved version of a settings document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentVersion {
    pub kind: DocumentKind,
    /// 1 for the first version of a kind, then counting up without gaps.
    pub version: u32,
    /// The document as JSON, exactly as saved.
    pub json: String,
    pub saved_by: String,
    pub saved_at: DateTime<Utc>,
}
