//! The server-rendered pages, one module per area.

use axum::Router;

use crate::state::AppState;

pub mod dashboard;
pub mod import;
pub mod register;

/// Every page route.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(dashboard::router())
        .merge(import::router())
        .merge(register::router())
}
