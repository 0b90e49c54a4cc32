//! The page routes as a list as well as a router: each area's `router()`
//! adds its routes through [`Routes`], which records every path and method
//! it gives axum. [`crate::routes`] is that list for the whole app (the
//! API's from its OpenAPI document, which utoipa builds from the same
//! handlers), so that the route × role tests can fail on a route they do
//! not list.

use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{self, MethodRouter};
use axum::Router;

use crate::state::AppState;

/// A router and the list of what it serves.
#[derive(Default)]
pub struct Routes {
    router: Router<AppState>,
    list: Vec<(&'static str, Method)>,
}

impl Routes {
    pub fn new() -> Routes {
        Routes::default()
    }

    /// `GET path`.
    pub fn get<H, T>(self, path: &'static str, handler: H) -> Routes
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.route(path, &[Method::GET], routing::get(handler))
    }

    /// `POST path`.
    pub fn post<H, T>(self, path: &'static str, handler: H) -> Routes
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.route(path, &[Method::POST], routing::post(handler))
    }

    /// A method router built by hand (to add a layer): `methods` must be
    /// the methods it serves (the route tests send each).
    pub fn route(
        mut self,
        path: &'static str,
        methods: &[Method],
        method_router: MethodRouter<AppState>,
    ) -> Routes {
        // axum merges method routers given for the same path.
        self.router = self.router.route(path, method_router);
        self.list.extend(methods.iter().map(|m| (path, m.clone())));
        self
    }

    /// Another area's routes.
    pub fn merge(mut self, other: Routes) -> Routes {
        self.router = self.router.merge(other.router);
        self.list.extend(other.list);
        self
    }

    /// What these routes serve, as paths and methods.
    pub fn list(&self) -> &[(&'static str, Method)] {
        &self.list
    }

    /// The router.
    pub fn into_router(self) -> Router<AppState> {
        self.router
    }
}
