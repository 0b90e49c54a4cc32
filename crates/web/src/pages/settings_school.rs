//! Instellingen → School: the school's name, BRIN and vestiging (for DUO meldingen).

use axum::Router;

use crate::state::AppState;

/// This area's routes.
pub fn router() -> Router<AppState> {
    Router::new()
}
