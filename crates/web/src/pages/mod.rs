//! The server-rendered pages, one module per area.

use axum::Router;

use crate::state::AppState;

pub mod dashboard;

/// Every page route.
pub fn router() -> Router<AppState> {
    Router::new().merge(dashboard::router())
}
