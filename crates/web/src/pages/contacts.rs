//! Contact moments with the conversation guides, agreements with their weekly checks, sharing agreements by e-mail, and the printable dossier report.

use axum::Router;

use crate::state::AppState;

/// This area's routes.
pub fn router() -> Router<AppState> {
    Router::new()
}
