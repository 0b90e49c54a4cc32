//! The JSON API under `/api`, behind the same sign-in and scopes as the
//! pages, described by an OpenAPI 3.1 document generated from the handlers
//! (utoipa) and served at `/api/openapi.json`.
//!
//! Signing in is the same as for the pages (`POST /inloggen` sets the
//! session cookie). `GET /api/sessie` gives the session's CSRF token, which
//! every state-changing call sends back in the `X-CSRF-Token` header.
//! Scopes: coordinators see every student, a mentor only their classes (a
//! student outside them answers 404), the beheerder and external partners
//! no student data (403).
//!
//! ```text
//! curl -c jar -d gebruikersnaam=coordinator -d wachtwoord=… http://127.0.0.1:8080/inloggen
//! curl -b jar http://127.0.0.1:8080/api/sessie                  # → csrf_token
//! curl -b jar 'http://127.0.0.1:8080/api/signalen?scope=week&stap=4b'
//! curl -b jar 'http://127.0.0.1:8080/api/leerlingen/1001/registraties?van=2025-11-14&tot=2025-11-14'
//!                                                               # → revision per lesson
//! curl -b jar -X PUT -H 'X-CSRF-Token: …' -H 'Content-Type: application/json' \
//!      -d '{"code": "Z", "revision": 4711}' http://127.0.0.1:8080/api/leerlingen/1001/registraties/2025-11-14/3
//! ```
//!
//! A change names the `revision` of the lesson it was made from; one made
//! from a state that changed meanwhile is refused with 409 `stale` and the
//! lessons that changed, and a change of a registered lesson without a
//! revision with 428 `revision_required`. Nothing is written in either case.
//!
//! Every read of a student's data and every change is written to the audit
//! log; a list writes one entry without a student.

use std::sync::{Arc, OnceLock};

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{CurrentUser, SESSION_COOKIE};
use crate::error::{ApiError, PageError};
use crate::state::AppState;

mod read;
mod signals;
mod students;
mod validate;
pub mod views;

use views::{ErrorBody, Session};

const TAG_SESSION: &str = "sessie";
const TAG_STUDENTS: &str = "leerlingen";
const TAG_SIGNALS: &str = "signalen";

/// The security schemes: the session cookie, and the CSRF header for
/// state-changing calls.
struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut OpenApiDoc) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "sessie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                SESSION_COOKIE,
                "The session cookie set by POST /inloggen.",
            ))),
        );
        components.add_security_scheme(
            "csrf",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-CSRF-Token",
                "The session's CSRF token (csrf_token of GET /api/sessie); required on every PUT, POST and DELETE.",
            ))),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "aanwezig API",
        description = "Students, registrations and signals of the stappenplan bij verminderde \
                       aanwezigheid, behind the same sign-in and the same scopes as the pages. \
                       Sign in with POST /inloggen (form fields gebruikersnaam, wachtwoord), \
                       which sets the session cookie; send the session's CSRF token \
                       (GET /api/sessie) in the X-CSRF-Token header with every change. \
                       Error messages are in Dutch, for people; the `error` code is stable.",
        license(name = "EUPL-1.2", identifier = "EUPL-1.2"),
    ),
    modifiers(&Security),
    // Schemas used only by query parameters are not collected on their own.
    components(schemas(signals::SignalScope)),
    tags(
        (name = "sessie", description = "The signed-in user"),
        (name = "leerlingen", description = "Students and their registrations"),
        (name = "signalen", description = "Signals of the step plan, with their explanation"),
        (name = "documentatie", description = "This document"),
    )
)]
struct ApiDoc;

/// The signed-in user, their scope and the session's CSRF token.
#[utoipa::path(
    get,
    path = "/sessie",
    operation_id = "get_session",
    tag = TAG_SESSION,
    security(("sessie" = [])),
    responses(
        (status = 200, description = "The signed-in user", body = Session),
        (status = 401, description = "Not signed in", body = ErrorBody),
    )
)]
async fn session(user: CurrentUser) -> Json<Session> {
    Json(Session {
        username: user.user.username.clone(),
        display_name: user.user.display_name.clone(),
        role: user.role(),
        classes: user.user.classes.clone(),
        csrf_token: user.csrf.clone(),
    })
}

/// This document (OpenAPI 3.1), without sign-in.
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "get_openapi",
    tag = "documentatie",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json"))
)]
async fn openapi_json() -> Response {
    Json(document().as_ref()).into_response()
}

fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(session))
        .routes(routes!(openapi_json))
        .merge(students::routes())
        .merge(signals::routes())
}

/// The OpenAPI document of every `/api` route, with full paths
/// (`/api/leerlingen`), built once.
pub fn document() -> Arc<OpenApiDoc> {
    static DOC: OnceLock<Arc<OpenApiDoc>> = OnceLock::new();
    DOC.get_or_init(|| {
        let (_, inner) = api_routes().split_for_parts();
        let mut paths = inner.clone();
        paths.components = None;
        let mut doc = inner;
        doc.paths = Default::default();
        Arc::new(doc.nest("/api", paths))
    })
    .clone()
}

/// A malformed query string, in Dutch.
fn bad_query(e: QueryRejection) -> ApiError {
    PageError::BadRequest(format!("De zoekvraag klopt niet: {}", e.body_text())).into()
}

/// A malformed JSON body, in Dutch.
fn bad_json(e: JsonRejection) -> ApiError {
    PageError::BadRequest(format!(
        "De inhoud is geen geldige JSON van de verwachte vorm: {}",
        e.body_text()
    ))
    .into()
}

/// The API's routes as path (with `/api`) and method, from the OpenAPI
/// document built with the router.
pub fn routes() -> Vec<(String, axum::http::Method)> {
    let (_, doc) = api_routes().split_for_parts();
    let mut out = Vec::new();
    for (path, item) in &doc.paths.paths {
        for (method, op) in [
            (axum::http::Method::GET, &item.get),
            (axum::http::Method::POST, &item.post),
            (axum::http::Method::PUT, &item.put),
            (axum::http::Method::DELETE, &item.delete),
            (axum::http::Method::PATCH, &item.patch),
        ] {
            if op.is_some() {
                out.push((format!("/api{path}"), method));
            }
        }
    }
    out
}

/// `/api/…` (nested under `/api` by the app).
pub fn router() -> Router<AppState> {
    let (router, _) = api_routes().split_for_parts();
    // An unknown API path answers in JSON too, not with an empty body.
    router.fallback(|| async { ApiError::from(PageError::NotFound) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_has_full_paths() {
        let doc = document();
        let paths: Vec<&String> = doc.paths.paths.keys().collect();
        assert!(paths.iter().all(|p| p.starts_with("/api/")), "{paths:?}");
        assert!(paths.contains(&&"/api/leerlingen/{id}/registraties/{datum}/{lesuur}".to_owned()));
    }

    fn refs<'a>(v: &'a serde_json::Value, out: &mut Vec<&'a str>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, v) in m {
                    match (k.as_str(), v.as_str()) {
                        ("$ref", Some(r)) => out.push(r),
                        _ => refs(v, out),
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    #[test]
    fn every_schema_reference_resolves() {
        let doc = serde_json::to_value(document().as_ref()).unwrap();
        let mut found = Vec::new();
        refs(&doc, &mut found);
        assert!(found.len() > 10);
        for r in found {
            let name = r.strip_prefix("#/components/schemas/").unwrap_or(r);
            assert!(
                doc["components"]["schemas"][name].is_object(),
                "{r} is not in components.schemas"
            );
        }
    }
}
