//! The JSON API under `/api`, behind the same sign-in and scopes as the
//! pages, described by an OpenAPI document.

use axum::Router;

use crate::state::AppState;

/// `/api/…`.
pub fn router() -> Router<AppState> {
    Router::new()
}
