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
    /// A checked save found another version stored than the one the form
    /// was made from: someone else saved in the meantime. Nothing was
    /// saved; the page links to the current state (409).
    #[error("iemand anders heeft {} intussen opgeslagen", .0.what)]
    Stale(Box<Superseded>),
    #[error("interne fout: {0}")]
    Internal(String),
}

/// What a [`PageError::Stale`] is about: the thing someone else saved and
/// where its current version is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Superseded {
    /// What was saved meanwhile, as it reads in a sentence: "dit dossier",
    /// "deze melding", "deze instelling".
    pub what: &'static str,
    /// The page that shows the current version.
    pub href: String,
}

impl PageError {
    /// The refusal of a save because someone else saved `what` (shown at
    /// `href`) in the meantime.
    pub fn superseded(what: &'static str, href: impl Into<String>) -> PageError {
        PageError::Stale(Box::new(Superseded {
            what,
            href: href.into(),
        }))
    }

    /// `e` as a page error, where a stale version says what was saved
    /// meanwhile and where to see it ([`PageError::superseded`]).
    pub fn from_store(e: StoreError, what: &'static str, href: impl Into<String>) -> PageError {
        match e {
            StoreError::StaleVersion { .. } => PageError::superseded(what, href),
            other => other.into(),
        }
    }
}

/// The text of a [`PageError::Stale`] page and API answer.
fn superseded_message(s: &Superseded) -> String {
    format!(
        "Er is niets opgeslagen: iemand anders heeft {} intussen opgeslagen. \
         Bekijk de nieuwe versie en breng uw wijziging dan opnieuw aan.",
        s.what
    )
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(_) => PageError::NotFound,
            // The database's own words are for the log, never for a page.
            StoreError::Conflict(m) => {
                tracing::warn!(error = %m, "the database refused a write");
                PageError::Conflict(
                    "Dat kon niet worden opgeslagen: het past niet bij wat er al is vastgelegd. \
                     Open de pagina opnieuw en kijk wat er nu staat."
                        .into(),
                )
            }
            // Handlers that know what was saved say so, with a link
            // (`PageError::from_store`); this is the fallback.
            StoreError::StaleVersion { .. } => PageError::superseded("deze gegevens", "/"),
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
    /// A link to where the user can go on (text, address).
    next: Option<(&'a str, &'a str)>,
}

impl PageError {
    fn status(&self) -> StatusCode {
        match self {
            PageError::NotFound => StatusCode::NOT_FOUND,
            PageError::Forbidden => StatusCode::FORBIDDEN,
            PageError::BadRequest(_) => StatusCode::UNPROCESSABLE_ENTITY,
            PageError::Conflict(_) | PageError::Stale(_) => StatusCode::CONFLICT,
            PageError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.status();
        let stale_message;
        let mut next = None;
        let (title, message) = match &self {
            PageError::NotFound => (
                "Niet gevonden",
                "Deze pagina of leerling bestaat niet, of u heeft er geen toegang toe.",
            ),
            PageError::Forbidden => ("Geen toegang", "Uw rol geeft geen toegang tot deze pagina."),
            PageError::BadRequest(m) | PageError::Conflict(m) => ("Dat lukte niet", m.as_str()),
            PageError::Stale(s) => {
                stale_message = superseded_message(s);
                next = Some(("Bekijk de nieuwe versie", s.href.as_str()));
                ("Intussen gewijzigd", stale_message.as_str())
            }
            PageError::Internal(m) => {
                tracing::error!(error = %m, "internal error");
                ("Er ging iets mis", "Er ging iets mis aan onze kant. Probeer het opnieuw; blijft het misgaan, meld het dan bij de beheerder.")
            }
        };
        let page = ErrorPage {
            status: status.as_u16(),
            title,
            message,
            next,
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
                    PageError::Stale(_) => "stale_version",
                    PageError::Internal(m) => {
                        tracing::error!(error = %m, "internal error");
                        "internal"
                    }
                };
                let msg = match &p {
                    PageError::Internal(_) => "interne fout".to_owned(),
                    PageError::Stale(s) => superseded_message(s),
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

#[cfg(test)]
mod tests {
    use super::*;
    use aanwezig_storage::VersionCheck;

    async fn body(r: Response) -> (StatusCode, String) {
        let status = r.status();
        let bytes = axum::body::to_bytes(r.into_body(), usize::MAX)
            .await
            .expect("a body");
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    fn stale() -> StoreError {
        StoreError::StaleVersion {
            expected: VersionCheck::Version(3),
            stored: Some(4),
        }
    }

    #[tokio::test]
    async fn a_stale_version_is_a_dutch_409_with_a_link_to_the_new_version() {
        let e = PageError::from_store(stale(), "dit dossier", "/leerlingen/L1/dossier");
        let (status, html) = body(e.into_response()).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(html.contains("iemand anders heeft dit dossier intussen opgeslagen"));
        assert!(html.contains("<a href=\"/leerlingen/L1/dossier\">Bekijk de nieuwe versie</a>"));

        let (status, json) = body(ApiError::from(stale()).into_response()).await;
        assert_eq!(status, StatusCode::CONFLICT);
        let v: serde_json::Value = serde_json::from_str(&json).expect("JSON");
        assert_eq!(v["error"], "stale_version");
        assert!(v["message"]
            .as_str()
            .is_some_and(|m| m.contains("intussen")));
    }

    #[tokio::test]
    async fn no_database_message_reaches_a_page() {
        let secret = "UNIQUE constraint failed: cases.student_id";
        let conflict = StoreError::Conflict(secret.to_owned());
        let (status, html) = body(PageError::from(conflict).into_response()).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(!html.contains("UNIQUE"), "{html}");
        assert!(html.contains("Dat kon niet worden opgeslagen"), "{html}");
        let conflict = StoreError::Conflict(secret.to_owned());
        let (_, json) = body(ApiError::from(conflict).into_response()).await;
        assert!(!json.contains("UNIQUE"), "{json}");
        let db = StoreError::Invalid(secret.to_owned());
        let (status, html) = body(PageError::from(db).into_response()).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!html.contains("UNIQUE"), "{html}");
    }
}
