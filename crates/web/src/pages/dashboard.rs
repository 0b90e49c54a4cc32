//! Weekoverzicht: the dashboard.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::routing::get;
use axum::Router;

use crate::auth::CurrentUser;
use crate::error::PageError;
use crate::layout::{section, Layout};
use crate::state::AppState;

#[derive(Template, WebTemplate)]
#[template(path = "dashboard.html")]
struct Dashboard {
    layout: Layout,
    students: usize,
}

async fn dashboard(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Dashboard, PageError> {
    let live = state.read()?;
    let students = live
        .school
        .students()
        .iter()
        .filter(|s| user.scope().may_see(s))
        .count();
    Ok(Dashboard {
        layout: Layout::new(&user, section::OVERVIEW, "Weekoverzicht"),
        students,
    })
}

/// `/`.
pub fn router() -> Router<AppState> {
    Router::new().route("/", get(dashboard))
}
