//! Mijn taken: every due and overdue task of the signed-in user, and the same as an iCalendar feed at a per-user secret address.

use axum::Router;

use crate::state::AppState;

/// This area's routes.
pub fn router() -> Router<AppState> {
    Router::new()
}
