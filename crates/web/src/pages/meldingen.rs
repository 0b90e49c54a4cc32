//! DUO meldingen: drafts from signals and the case, validation, print and export for the Verzuimloket, status, deadlines.

use axum::Router;

use crate::state::AppState;

/// This area's routes.
pub fn router() -> Router<AppState> {
    Router::new()
}
