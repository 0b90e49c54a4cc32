//! Storage for aanwezig: students, lesson registrations with their full
//! history, the imports log, versioned settings documents, and the web
//! app's users, sessions and append-only audit log.
//!
//! The crate is the backend-neutral interface: focused traits per concern
//! ([`Students`], [`Registrations`], [`Imports`], [`Documents`],
//! [`Accounts`], [`AuditLog`], [`Cases`], [`Meldingen`], [`Retention`],
//! [`Changes`]) and [`Store`], all of them together. Each backend is a crate
//! of its own: `aanwezig-storage-sqlite` (one file, the default for a single
//! school) and `aanwezig-storage-postgres` (boards and larger deployments,
//! several app servers). Every backend passes the same conformance suite
//! (`testsuite`, behind the `testsuite` feature).
//!
//! Why sqlx: it is async (the axum web app shares its runtime), one crate
//! covers SQLite and PostgreSQL with the same query API, and it embeds each
//! backend's migrations in the binary and runs them on start-up.
//!
//! Backups are [`backup`]'s focused [`Backup`] trait, implemented by the
//! backends that can copy themselves (SQLite's `VACUUM INTO`).
//!
//! The domain crate's types go in and come out; nothing here reads a clock.
//! The schema is documented in `README.md` and in each backend's
//! migrations.

pub mod accounts;
pub mod backup;
pub mod codec;
pub mod documents;
pub mod error;
pub mod model;
pub mod retention;
pub mod school;
pub mod store;
#[cfg(feature = "testsuite")]
pub mod testsuite;
pub mod transfer;

pub use accounts::{remove_user, RemovedUser};
pub use backup::{Backup, BackupError, BackupInfo, RestoreReport};
pub use error::{Result, StoreError};
pub use model::{
    batches_of, AbsencesOnly, AuditAction, AuditEntry, AuditFilter, BundleSummary, Change,
    ChangeKind, DocumentKind, DocumentVersion, DocumentWrite, Expected, HistoryEntry, ImportBundle,
    ImportLogEntry, ImportSource, ImportSummary, LessonKey, LessonState, LessonWrite,
    MeldingFilter, Provenance, PurgeCounts, RecordBatches, Revision, SavedVersion, SessionRecord,
    StaleLesson, StoredRegistration, StoredStudent, UpsertCounts, User, VersionCheck,
    WrittenLesson, BATCH_ROWS,
};
pub use school::{load_school, LoadedSchool};
pub use store::{
    Accounts, AuditLog, Cases, Changes, Documents, Imports, Meldingen, Registrations, Retention,
    Store, StudentLessons, StudentRegistrations, Students,
};
pub use transfer::Transfer;

/// The storage traits, for callers that call methods through `dyn Store`:
/// `use aanwezig_storage::prelude::*;`.
pub mod prelude {
    pub use crate::store::{
        Accounts as _, AuditLog as _, Cases as _, Changes as _, Documents as _, Imports as _,
        Meldingen as _, Registrations as _, Retention as _, Store, Students as _,
    };
}
