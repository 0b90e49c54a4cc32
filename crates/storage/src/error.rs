//! The one error type of the storage layer.
//!
//! Callers (the CLI, the web app) branch on the variant, never on a message:
//! `NotFound` becomes 404, `Conflict` and `Stale` 409, `Invalid` a 500 that says the
//! stored data are damaged, `Database`/`Migration`/`Config` an operator
//! problem. Messages are for logs and are in English, like the rest of the
//! crate's internals; the UI words its own Dutch text from the variant.

/// Everything a [`Store`](crate::Store) operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thing asked for (a student, usually) does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// A constraint refused the write: an unknown student, a duplicate key,
    /// a value the schema does not accept. Nothing was written.
    #[error("conflict: {0}")]
    Conflict(String),
    /// A checked write ([`Store::save_registrations`](crate::Store::save_registrations))
    /// found lessons that changed after the writer read them: every one of
    /// them, with what the writer expected and what is stored now. Nothing
    /// was written.
    #[error("stale: {} lesson(s) changed since they were read", .0.len())]
    Stale(Vec<crate::model::StaleLesson>),
    /// A checked write of a versioned record (a case, a melding draft, a
    /// settings document) found another version stored than the writer
    /// read: someone saved in between. Nothing was written.
    #[error("stale version: expected {expected:?}, stored {stored:?}")]
    StaleVersion {
        /// What the writer expected.
        expected: crate::model::VersionCheck,
        /// The version stored now (`None`: the record does not exist).
        stored: Option<u32>,
    },
    /// Data read back (or about to be written) fail the domain's own
    /// validation: a bad student number, an unknown category, a calendar or
    /// policy document that no longer parses or validates.
    #[error("invalid stored data: {0}")]
    Invalid(String),
    /// The database URL or options cannot be used (unknown scheme, a backend
    /// that is not compiled in).
    #[error("configuration: {0}")]
    Config(String),
    /// A restore holds the database's lock file: the database is being
    /// replaced and cannot be opened until that is done.
    #[error("locked: {0}")]
    Locked(String),
    /// The embedded migrations could not be applied.
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// Any other failure of the database or the driver.
    #[error("database: {0}")]
    Database(#[source] sqlx::Error),
}

/// Shorthand used throughout the crate.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl From<sqlx::Error> for StoreError {
    /// Sorts driver errors into the variants callers branch on: constraint
    /// violations become [`StoreError::Conflict`], a missing row
    /// [`StoreError::NotFound`], decoding trouble [`StoreError::Invalid`].
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => StoreError::NotFound("row not found".to_owned()),
            sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
                StoreError::Invalid(e.to_string())
            }
            sqlx::Error::Database(db) if is_constraint(db.as_ref()) => {
                StoreError::Conflict(db.message().to_owned())
            }
            _ => StoreError::Database(e),
        }
    }
}

/// Whether a database error is a constraint violation of any kind.
///
/// sqlx only classifies unique, foreign-key, not-null and check violations;
/// SQLite has more (a STRICT table's datatype check, a trigger's `RAISE`),
/// all sharing the primary code `SQLITE_CONSTRAINT` (19) in the low byte of
/// the extended code. PostgreSQL reports class `23` SQLSTATEs.
fn is_constraint(db: &dyn sqlx::error::DatabaseError) -> bool {
    use sqlx::error::ErrorKind;
    if !matches!(db.kind(), ErrorKind::Other) {
        return true;
    }
    let Some(code) = db.code() else {
        return false;
    };
    if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        code.parse::<i64>().is_ok_and(|n| n & 0xff == 19)
    } else {
        // SQLSTATE class 23: integrity constraint violation.
        code.starts_with("23")
    }
}
