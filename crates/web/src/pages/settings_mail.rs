//! Instellingen → E-mail: the SMTP server and sender the app mails agreements with.

use axum::Router;

use crate::state::AppState;

/// This area's routes.
pub fn router() -> Router<AppState> {
    Router::new()
}
