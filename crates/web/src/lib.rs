//! The aanwezig web app (axum): server-rendered Dutch pages that work
//! without JavaScript, and a JSON API behind the same sign-in.
//!
//! Each area is a module with `fn router() -> routes::Routes` (a router
//! that also lists its paths and methods, [`routes()`]); [`app`] merges
//! them and adds the security layers. Who may do what is
//! `aanwezig_app::permission`: handlers take a typed guard ([`guard`]) that
//! answers 403 for a role without the permission, or the signed-in user as
//! [`auth::CurrentUser`] and ask it `may_for` the student of the request.

use std::net::SocketAddr;

use axum::http::header;
use axum::response::IntoResponse;
use axum::{middleware, Router};

pub mod api;
pub mod auth;
pub mod clock;
pub mod dossier;
pub mod duo_work;
pub mod error;
pub mod follow;
pub mod guard;
pub mod jobs;
pub mod layout;
pub mod live;
pub mod mail;
pub mod pages;
pub mod paths;
pub mod routes;
pub mod security;
pub mod state;

/// The watched import folder's status, which `AppState` holds (the model
/// lives in the application layer, `aanwezig_app::import_dir`).
pub use aanwezig_app::import_dir;
pub use clock::{Clock, FixedClock, SystemClock};
pub use state::{AppState, Config, PublicUrl, TrustedProxy};

const APP_CSS: &str = include_str!("../static/app.css");

async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        APP_CSS,
    )
}

/// The page routes (everything but the API), as a router and a list.
fn page_routes() -> routes::Routes {
    routes::Routes::new()
        .merge(auth::router())
        .merge(pages::router())
        .get("/static/app.css", css)
}

/// Every route the app serves, as path and method: the pages' from the
/// same [`routes::Routes`] the router is built from, the API's from its
/// OpenAPI document (utoipa-axum builds document and router from the same
/// handlers). Paths are axum's (`/leerlingen/{id}`).
pub fn routes() -> Vec<(String, axum::http::Method)> {
    let mut out: Vec<(String, axum::http::Method)> = page_routes()
        .list()
        .iter()
        .map(|(p, m)| ((*p).to_owned(), m.clone()))
        .collect();
    out.extend(api::routes());
    out.sort_by(|a, b| (&a.0, a.1.as_str()).cmp(&(&b.0, b.1.as_str())));
    out
}

/// The whole app as a router.
pub fn app(state: AppState) -> Router {
    let router = page_routes()
        .into_router()
        .nest("/api", api::router())
        // Any other path: the Dutch "not found" page, like a missing student.
        .fallback(|| async { error::PageError::NotFound })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security::csrf_guard,
        ));
    security::headers(router).with_state(state)
}

/// Serves the app on `listener` until the process ends. A background task
/// purges idle sessions every ten minutes and, at start and then whenever
/// the school date changes, runs the retention purge ([`jobs`]).
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    if let Ok(addr) = listener.local_addr() {
        state.set_listen_addr(addr);
    }
    let housekeeping = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
        let mut last_purge_day = None;
        loop {
            // The first tick completes at once: the purge runs at start.
            tick.tick().await;
            jobs::housekeeping(&housekeeping, &mut last_purge_day).await;
        }
    });
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
}
