//! Errors of the web layer: one type for pages (a Dutch HTML page) and one
//! for the JSON API. Neither leaks internals: database errors are logged and
//! shown as a plain "something went wrong".

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;

use aanwezig_storage::StoreError;

/// An error answered with an HTML page.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("niet gevonden")]
    NotFound,
    #[error("geen toegang")]
    Forbidden,
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Conflict(String),
    #[error("interne fout: {0}")]
    Internal(String),
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(_) => PageError::NotFound,
            StoreError::Conflict(m) => PageError::Conflict(m),
            // Handlers that write registrations answer a stale save
            // themselves, with what changed; this is the fallback.
            StoreError::Stale(_) => PageError::Conflict(
                "Er is niets opgeslagen: iemand anders heeft deze gegevens intussen gewijzigd. \
                 Open de pagina opnieuw en breng uw wijziging dan nog eens aan."
                    .into(),
            ),
            other => PageError::Internal(other.to_string()),
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    title: &'a str,
    message: &'a str,
}

impl PageError {
    fn status(&self) -> StatusCode {
        match self {
            PageError::NotFound => StatusCode::NOT_FOUND,
            PageError::Forbidden => StatusCode::FORBIDDEN,
            PageError::BadRequest(_) => StatusCode::UNPROCESSABLE_ENTITY,
            PageError::Conflict(_) => StatusCode::CONFLICT,
            PageError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.status();
        let (title, message) = match &self {
            PageError::NotFound => (
                "Niet gevonden",
                "Deze pagina of leerling bestaat niet, of u heeft er geen toegang toe.",
            ),
            PageError::Forbidden => ("Geen toegang", "Uw rol geeft geen toegang tot deze pagina."),
            PageError::BadRequest(m) | PageError::Conflict(m) => ("Dat lukte niet", m.as_str()),
            PageError::Internal(m) => {
                tracing::error!(error = %m, "internal error");
                ("Er ging iets mis", "Er ging iets mis aan onze kant. Probeer het opnieuw; blijft het misgaan, meld het dan bij de beheerder.")
            }
        };
        let page = ErrorPage {
            status: status.as_u16(),
            title,
            message,
        };
        match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => (status, message.to_owned()).into_response(),
        }
    }
}

/// An error of the JSON API: `{"error": "...", "message": "..."}`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("niet ingelogd")]
    Unauthorized,
    /// A change made from a state that is no longer stored (409 `stale`),
    /// with every lesson that changed.
    #[error("{message}")]
    Stale {
        message: String,
        changes: Vec<crate::api::views::StaleChange>,
    },
    /// A change of a registered lesson that does not say which state it
    /// was made from (428 `revision_required`).
    #[error("{0}")]
    RevisionRequired(String),
    #[error(transparent)]
    Page(#[from] PageError),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Page(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message) = match self {
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "niet ingelogd".to_owned(),
            ),
            ApiError::Stale { message, changes } => {
                let body = crate::api::views::ConflictBody {
                    error: "stale".to_owned(),
                    message,
                    changes,
                };
                return (StatusCode::CONFLICT, Json(body)).into_response();
            }
            ApiError::RevisionRequired(m) => {
                (StatusCode::PRECONDITION_REQUIRED, "revision_required", m)
            }
            ApiError::Page(p) => {
                let code = match &p {
                    PageError::NotFound => "not_found",
                    PageError::Forbidden => "forbidden",
                    PageError::BadRequest(_) => "invalid",
                    PageError::Conflict(_) => "conflict",
                    PageError::Internal(m) => {
                        tracing::error!(error = %m, "internal error");
                        "internal"
                    }
                };
                let msg = match &p {
                    PageError::Internal(_) => "interne fout".to_owned(),
                    other => other.to_string(),
                };
                (p.status(), code, msg)
            }
        };
        (
            status,
            Json(serde_json::json!({ "error": code, "message": message })),
        )
            .into_response()
    }
}
