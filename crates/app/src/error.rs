//! The one error type of the use cases: what went wrong in Dutch for the
//! person, and what a log needs.

use aanwezig_storage::StoreError;

/// Why a use case did not happen. The `Display` text is Dutch and may be
/// shown; [`AppError::detail`] is for logs only.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The acting user's role does not hold the permission.
    #[error("geen toegang")]
    Forbidden,
    /// The thing asked for does not exist, or is out of the user's reach.
    #[error("niet gevonden")]
    NotFound,
    /// The input cannot be used: the Dutch message says why.
    #[error("{0}")]
    Invalid(String),
    /// The change conflicts with what is stored: the Dutch message says why.
    #[error("{0}")]
    Conflict(String),
    /// The store failed.
    #[error("er ging iets mis bij het opslaan of lezen van de gegevens")]
    Store(#[source] StoreError),
    /// Something else failed; `message` is Dutch, `detail` for the log.
    #[error("{message}")]
    Internal { message: String, detail: String },
}

impl AppError {
    /// What a log should record: the internal cause where there is one.
    pub fn detail(&self) -> String {
        match self {
            AppError::Store(e) => e.to_string(),
            AppError::Internal { detail, .. } => detail.clone(),
            other => other.to_string(),
        }
    }

    /// An [`AppError::Invalid`] with this Dutch message.
    pub fn invalid(message: impl Into<String>) -> Self {
        AppError::Invalid(message.into())
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(_) => AppError::NotFound,
            StoreError::Conflict(m) => AppError::Conflict(m),
            other => AppError::Store(other),
        }
    }
}
