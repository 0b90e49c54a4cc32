//! The case dossier: `/dossiers` (the list) and `/leerlingen/{id}/dossier…` (one student's case: opening, steps, checklist, partners, decisions, interventions and evaluations, closing).

use axum::Router;

use crate::state::AppState;

/// This area's routes.
pub fn router() -> Router<AppState> {
    Router::new()
}
