//! PostgreSQL errors as [`StoreError`]s.
//!
//! Callers branch on the variant: a refused write (a duplicate key, an
//! unknown student, a value the schema does not take, a trigger that keeps
//! a table append-only) is [`StoreError::Conflict`]. Its message is a short
//! English text for logs, naming the constraint or the trigger's reason,
//! never the SQL statement or the values that were refused (they may be a
//! student's data).

use aanwezig_storage::StoreError;
use sqlx::postgres::PgDatabaseError;

/// Shorthand used throughout the crate.
pub(crate) type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Sorts a driver error into the variants callers branch on.
pub(crate) fn pg_error(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::RowNotFound => StoreError::NotFound("row not found".to_owned()),
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => {
            StoreError::Invalid(e.to_string())
        }
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            let constraint = db.constraint().unwrap_or("?").to_owned();
            let column = db
                .try_downcast_ref::<PgDatabaseError>()
                .and_then(PgDatabaseError::column)
                .unwrap_or("?")
                .to_owned();
            match code.as_str() {
                "23505" => StoreError::Conflict(format!("duplicate key ({constraint})")),
                "23503" => StoreError::Conflict(format!("unknown reference ({constraint})")),
                "23514" => StoreError::Conflict(format!("value refused ({constraint})")),
                "23502" => StoreError::Conflict(format!("missing value ({column})")),
                "23P01" => StoreError::Conflict(format!("overlapping rows ({constraint})")),
                // Our own triggers: their message is a fixed English text.
                "23000" => StoreError::Conflict(db.message().to_owned()),
                c if c.starts_with("23") => StoreError::Conflict(format!("constraint {c}")),
                // Data exceptions: a value out of range, text that is not
                // JSON, a date the database cannot hold.
                c if c.starts_with("22") => {
                    StoreError::Conflict(format!("value refused by the database ({c})"))
                }
                _ => StoreError::Database(e),
            }
        }
        _ => StoreError::Database(e),
    }
}

/// Whether an error is worth running the transaction again for: a
/// deadlock or a serialization failure, which PostgreSQL resolves by
/// aborting one of the transactions involved.
pub(crate) fn is_transient(e: &StoreError) -> bool {
    match e {
        StoreError::Database(sqlx::Error::Database(db)) => {
            matches!(db.code().as_deref(), Some("40001" | "40P01"))
        }
        _ => false,
    }
}

/// `.db()` on a driver result: its error through [`pg_error`].
pub(crate) trait Db<T> {
    fn db(self) -> Result<T>;
}

impl<T> Db<T> for std::result::Result<T, sqlx::Error> {
    fn db(self) -> Result<T> {
        self.map_err(pg_error)
    }
}

/// Converts a stored integer to the domain's narrower type.
pub(crate) fn narrow<T: TryFrom<i64>>(what: &str, v: impl Into<i64>) -> Result<T> {
    let v = v.into();
    T::try_from(v).map_err(|_| StoreError::Invalid(format!("{what} out of range: {v}")))
}

/// Converts a count to the database's integer type.
pub(crate) fn to_i64(v: u64) -> Result<i64> {
    i64::try_from(v).map_err(|_| StoreError::Conflict(format!("count too large: {v}")))
}

/// Converts a stored count back.
pub(crate) fn to_u64(v: i64) -> Result<u64> {
    narrow("count", v)
}

/// `a - b` for counts the database guarantees to be ordered; an error
/// instead of a wrap-around if that guarantee ever broke.
pub(crate) fn minus(a: u64, b: u64) -> Result<u64> {
    a.checked_sub(b)
        .ok_or_else(|| StoreError::Invalid(format!("inconsistent counts: {a} - {b}")))
}
