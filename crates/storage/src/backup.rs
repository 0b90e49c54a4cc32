//! Backup and restore: the focused interface and its types.
//!
//! [`Backup`] is what the server's daily job and `aanwezig backup` need: a
//! consistent copy of the whole database while it runs and is written to.
//! `aanwezig-storage-sqlite`'s `SqliteStore` implements it with `VACUUM
//! INTO`; restoring a file is `SqliteStore::restore` and checking one
//! `SqliteStore::verify_backup`. The PostgreSQL backend leaves backups to
//! `pg_dump` and does not implement this trait.
//!
//! Messages are English, for logs; the CLI words its Dutch text from the
//! variant of [`BackupError`].

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::StoreError;

/// A store that can write a consistent copy of itself to a file.
#[async_trait]
pub trait Backup: Send + Sync {
    /// Writes a copy of the whole database as it was at one instant to
    /// `dest`, while other connections go on reading and writing. The file
    /// appears complete or not at all (written beside `dest` and renamed);
    /// it is checked (`integrity_check`, schema) before it is kept. An
    /// existing `dest` is [`BackupError::Exists`] unless `overwrite`.
    async fn backup_to(&self, dest: &Path, overwrite: bool) -> Result<BackupInfo, BackupError>;
}

/// What a backup file holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupInfo {
    /// The file.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// The newest migration applied to it (the schema version).
    pub schema_version: i64,
    pub students: u64,
    pub registrations: u64,
    pub users: u64,
    /// Dossiers (cases), open and closed.
    pub cases: u64,
    /// DUO meldingen.
    pub meldingen: u64,
    pub audit_entries: u64,
    /// When the newest registration change set was made, if any.
    pub last_change: Option<DateTime<Utc>>,
}

/// What a restore did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RestoreReport {
    /// The backup as checked before it was put in place (its schema version
    /// is the one before the pending migrations ran).
    pub backup: BackupInfo,
    /// Where the database that was replaced now is
    /// (`<db>.voor-herstel-<timestamp>`); `None` when there was none.
    pub previous: Option<PathBuf>,
    /// Migrations run on the restored database (newer than the backup).
    pub migrations_applied: usize,
}

/// Why a backup or restore did not happen. Nothing was changed in any case:
/// a half-written file is removed, the live database left as it was.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The target file already exists (and `overwrite` was not given).
    #[error("{0} already exists")]
    Exists(PathBuf),
    /// Something (a server, another command) has the database open, so it
    /// cannot be replaced now. The path is the lock file.
    #[error("the database is in use: {0} is locked")]
    InUse(PathBuf),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not an SQLite database, or `integrity_check` found damage.
    #[error("{path} is damaged or not an SQLite database: {detail}")]
    Damaged { path: PathBuf, detail: String },
    /// An SQLite database, but not one of aanwezig's.
    #[error("{path} is not an aanwezig database: {detail}")]
    NotAanwezig { path: PathBuf, detail: String },
    /// Made by a newer aanwezig: its schema is ahead of this program's.
    #[error("{path} has schema version {found}; this program knows up to {known}")]
    Newer {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    /// A migration recorded in the file differs from this program's own
    /// (another build, or an edited file).
    #[error("{path}: migration {version} differs from this program's")]
    Mismatch { path: PathBuf, version: i64 },
    /// The database could not be read or written for another reason.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl BackupError {
    /// The same error about `file` instead (the check runs on a temporary
    /// copy; the error should name the file the user gave).
    pub fn about(self, file: &Path) -> BackupError {
        let file = file.to_owned();
        match self {
            BackupError::Damaged { detail, .. } => BackupError::Damaged { path: file, detail },
            BackupError::NotAanwezig { detail, .. } => {
                BackupError::NotAanwezig { path: file, detail }
            }
            BackupError::Newer { found, known, .. } => BackupError::Newer {
                path: file,
                found,
                known,
            },
            BackupError::Mismatch { version, .. } => BackupError::Mismatch {
                path: file,
                version,
            },
            other => other,
        }
    }

    pub fn io(path: &Path, source: std::io::Error) -> BackupError {
        BackupError::Io {
            path: path.to_owned(),
            source,
        }
    }
}
