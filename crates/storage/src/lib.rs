//! Storage for aanwezig: students, lesson registrations with their full
//! history, the imports log, versioned settings documents, and the web
//! app's users, sessions and append-only audit log.
//!
//! The crate is one backend-neutral [`Store`] trait and its implementations:
//! [`SqliteStore`] now (one file, the default for a single school),
//! PostgreSQL later behind a cargo feature, for boards and larger
//! deployments. [`open`] picks the backend from a database URL at run time.
//! Every implementation passes the same conformance suite (`testsuite`,
//! behind the `testsuite` feature).
//!
//! Why sqlx: it is async (the axum web app shares its runtime), one crate
//! covers SQLite and PostgreSQL with the same query API, and it embeds each
//! backend's migrations in the binary and runs them on start-up. Its
//! per-statement cost on SQLite is high, which the bulk import avoids by
//! binding batches of 2,000 rows into one multi-row upsert (see [`sqlite`]).
//!
//! Backup and restore of the SQLite file are [`backup`]'s focused
//! [`Backup`] trait (`VACUUM INTO`), [`SqliteStore::restore`] and
//! [`SqliteStore::verify_backup`]; every file store holds a shared lock on
//! `<db>.lock` so that a restore never replaces a database in use
//! (docs/operations.md).
//!
//! The domain crate's types go in and come out; nothing here reads a clock.
//! The schema is documented in `README.md` and in the migrations under
//! `migrations/`.

pub mod accounts;
pub mod backup;
mod codec;
pub mod error;
pub mod model;
pub mod retention;
pub mod school;
pub mod sqlite;
pub mod store;
#[cfg(any(test, feature = "testsuite"))]
pub mod testsuite;

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
pub use sqlite::SqliteStore;
pub use store::{
    Accounts, AuditLog, Cases, Changes, Documents, Imports, Meldingen, Registrations, Retention,
    Store, StudentLessons, StudentRegistrations, Students,
};

/// The storage traits, for callers that call methods through `dyn Store`:
/// `use aanwezig_storage::prelude::*;`.
pub mod prelude {
    pub use crate::store::{
        Accounts as _, AuditLog as _, Cases as _, Changes as _, Documents as _, Imports as _,
        Meldingen as _, Registrations as _, Retention as _, Store, Students as _,
    };
}

/// Opens the store a database URL names: a `sqlite:` URL or a plain file
/// path opens a [`SqliteStore`] (created when `create_if_missing`);
/// `postgres:` URLs are refused with [`StoreError::Config`] until that
/// backend exists.
pub async fn open(url: &str, create_if_missing: bool) -> Result<Box<dyn Store>> {
    if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        return Err(StoreError::Config(
            "PostgreSQL is not supported by this build yet".to_owned(),
        ));
    }
    Ok(Box::new(SqliteStore::open(url, create_if_missing).await?))
}
