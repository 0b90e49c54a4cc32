//! Signing in and out, sessions, and the signed-in user as an extractor.
//!
//! A session is a random token in an `HttpOnly`, `SameSite=Strict` cookie;
//! the database keeps only its SHA-256, the user and the session's CSRF
//! token. Sessions end on sign-out or after the configured idle time.
//! Failed sign-ins are limited per user name and per address.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;

use aanwezig_domain::{Role, Scope, StudentId};
use aanwezig_storage::{AuditAction, AuditEntry, SessionRecord, User};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{ConnectInfo, FromRequestParts, OriginalUri, Query, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

use crate::error::{ApiError, PageError};
use crate::layout::Layout;
use crate::state::AppState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "aanwezig_sessie";

/// Failed sign-ins allowed per user name within [`LIMIT_WINDOW`].
const PER_USER: usize = 5;
/// Failed sign-ins allowed per client address within [`LIMIT_WINDOW`].
const PER_ADDRESS: usize = 20;
const LIMIT_WINDOW: Duration = Duration::minutes(15);

/// The signed-in user of a request.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub user: User,
    /// The session's CSRF token, for forms.
    pub csrf: String,
    /// For an external partner: the students whose data they may see (see
    /// [`involved_students`]); empty for every other role.
    pub involved: Vec<StudentId>,
    session_hash: String,
}

impl CurrentUser {
    /// The user's role.
    pub fn role(&self) -> Role {
        self.user.role
    }

    /// The user's scope, for `may_see` checks.
    pub fn scope(&self) -> Scope<'_> {
        Scope {
            role: self.user.role,
            classes: &self.user.classes,
            involved: &self.involved,
        }
    }

    /// `Forbidden` unless `allowed`.
    pub fn require(&self, allowed: bool) -> Result<(), PageError> {
        if allowed {
            Ok(())
        } else {
            Err(PageError::Forbidden)
        }
    }

    /// Writes an audit entry for this user.
    pub async fn audit(
        &self,
        state: &AppState,
        action: AuditAction,
        student: Option<&StudentId>,
        detail: impl Into<String>,
    ) -> Result<(), PageError> {
        state
            .store
            .audit(&AuditEntry {
                at: state.clock.now(),
                username: self.user.username.clone(),
                action,
                student: student.cloned(),
                detail: detail.into(),
            })
            .await?;
        Ok(())
    }
}

/// Finds the session of a request, if it has a live one.
async fn authenticate(parts: &Parts, state: &AppState) -> Result<Option<CurrentUser>, PageError> {
    let jar = CookieJar::from_headers(&parts.headers);
    let Some(token) = jar.get(SESSION_COOKIE) else {
        return Ok(None);
    };
    let hash = aanwezig_auth::token_hash(token.value());
    let Some(session) = state.store.session(&hash).await? else {
        return Ok(None);
    };
    let now = state.clock.now();
    if now - session.last_seen_at > state.config.idle_timeout {
        state.store.delete_session(&hash).await?;
        return Ok(None);
    }
    let Some(user) = state.store.user(&session.username).await? else {
        return Ok(None);
    };
    if !user.active {
        return Ok(None);
    }
    // Touching on every request would turn every page view into a write;
    // a minute's precision is plenty for an idle timeout of minutes.
    if now - session.last_seen_at > Duration::seconds(60) {
        state.store.touch_session(&hash, now).await?;
    }
    let involved = if user.role.is_external() {
        involved_students(state, &user.username, user.role).await?
    } else {
        Vec::new()
    };
    Ok(Some(CurrentUser {
        user,
        csrf: session.csrf_token,
        involved,
        session_hash: hash,
    }))
}

/// The students an external partner may see (product.md): those whose open
/// case the partner is currently brought into ([`Case::involves`]), and for
/// the leerplichtambtenaar also every student with a DUO melding that was
/// sent (any status after concept). Sorted, each once.
///
/// [`Case::involves`]: aanwezig_domain::Case::involves
pub async fn involved_students(
    state: &AppState,
    username: &str,
    role: Role,
) -> Result<Vec<StudentId>, PageError> {
    let mut out: Vec<StudentId> = state
        .store
        .cases(true)
        .await?
        .into_iter()
        .filter(|c| c.involves(username))
        .map(|c| c.student)
        .collect();
    if role == Role::Leerplichtambtenaar {
        let sent = state
            .store
            .meldingen(&aanwezig_storage::MeldingFilter::default())
            .await?;
        out.extend(
            sent.into_iter()
                .filter(|(_, m)| {
                    !matches!(
                        m.status,
                        aanwezig_domain::MeldingStatus::Concept
                            | aanwezig_domain::MeldingStatus::Ingetrokken
                    )
                })
                .map(|(_, m)| m.student),
        );
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn original_path(parts: &Parts) -> String {
    parts
        .extensions
        .get::<OriginalUri>()
        .map(|u| {
            u.0.path_and_query()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default()
        })
        .unwrap_or_else(|| parts.uri.path().to_owned())
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let path = original_path(parts);
        let api = path.starts_with("/api/");
        match authenticate(parts, state).await {
            Ok(Some(user)) => Ok(user),
            Ok(None) if api => Err(ApiError::Unauthorized.into_response()),
            Ok(None) => {
                let back: String = form_urlencoded::byte_serialize(path.as_bytes()).collect();
                Err(Redirect::to(&format!("/inloggen?terug={back}")).into_response())
            }
            Err(e) if api => Err(ApiError::from(e).into_response()),
            Err(e) => Err(e.into_response()),
        }
    }
}

/// Counts failed sign-ins. governor and similar crates limit the rate of
/// all requests; here only failures count, and a success clears the user's
/// count, which is a few lines of its own.
#[derive(Debug, Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, Vec<DateTime<Utc>>>>,
}

impl LoginLimiter {
    fn keys(username: &str, addr: &SocketAddr) -> [(String, usize); 2] {
        [
            (
                format!("gebruiker:{}", username.trim().to_lowercase()),
                PER_USER,
            ),
            (format!("adres:{}", addr.ip()), PER_ADDRESS),
        ]
    }

    /// When blocked: the time until the oldest counted failure expires.
    pub fn blocked(
        &self,
        username: &str,
        addr: &SocketAddr,
        now: DateTime<Utc>,
    ) -> Option<Duration> {
        let mut map = self.failures.lock().ok()?;
        let mut wait = None;
        for (key, limit) in Self::keys(username, addr) {
            let list = map.entry(key).or_default();
            list.retain(|t| now - *t < LIMIT_WINDOW);
            if list.len() >= limit {
                let until = list[0] + LIMIT_WINDOW - now;
                wait = Some(wait.map_or(until, |w: Duration| w.max(until)));
            }
        }
        wait
    }

    /// Counts a failed sign-in.
    pub fn failure(&self, username: &str, addr: &SocketAddr, now: DateTime<Utc>) {
        if let Ok(mut map) = self.failures.lock() {
            for (key, _) in Self::keys(username, addr) {
                map.entry(key).or_default().push(now);
            }
        }
    }

    /// Clears the user's failures after a good sign-in.
    pub fn success(&self, username: &str, addr: &SocketAddr) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(&Self::keys(username, addr)[0].0);
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    terug: String,
    username: String,
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
struct LoginQuery {
    terug: Option<String>,
}

/// Only local paths: never redirect to another site after signing in.
fn safe_return(terug: Option<&str>) -> String {
    match terug {
        Some(t) if t.starts_with('/') && !t.starts_with("//") && !t.starts_with("/\\") => {
            t.to_owned()
        }
        _ => "/".to_owned(),
    }
}

async fn login_form(Query(q): Query<LoginQuery>) -> LoginPage {
    LoginPage {
        layout: Layout::anonymous("Inloggen"),
        terug: safe_return(q.terug.as_deref()),
        username: String::new(),
        error: None,
    }
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    gebruikersnaam: String,
    wachtwoord: String,
    terug: Option<String>,
}

async fn login(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    let now = state.clock.now();
    let username = form.gebruikersnaam.trim().to_lowercase();
    let terug = safe_return(form.terug.as_deref());
    let page = |error: String, status: StatusCode| {
        let p = LoginPage {
            layout: Layout::anonymous("Inloggen"),
            terug: terug.clone(),
            username: username.clone(),
            error: Some(error),
        };
        (status, p).into_response()
    };
    if let Some(wait) = state.limiter.blocked(&username, &addr, now) {
        let minutes = (wait.num_seconds() + 59) / 60;
        return Ok(page(
            format!("Te veel mislukte pogingen. Probeer het over {minutes} minuten opnieuw."),
            StatusCode::TOO_MANY_REQUESTS,
        ));
    }
    let user = state.store.user(&username).await?;
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let password = form.wachtwoord;
    // Argon2 is deliberately slow: keep it off the async workers. An unknown
    // user is checked against a dummy hash so both take equally long.
    let ok = tokio::task::spawn_blocking(move || {
        aanwezig_auth::verify_password_or_dummy(&password, hash.as_deref())
    })
    .await
    .unwrap_or(false);
    let user = match user {
        Some(u) if ok && u.active => u,
        _ => {
            state.limiter.failure(&username, &addr, now);
            state
                .store
                .audit(&AuditEntry {
                    at: now,
                    username: username.clone(),
                    action: AuditAction::SignInFailed,
                    student: None,
                    detail: format!("vanaf {}", addr.ip()),
                })
                .await?;
            return Ok(page(
                "Gebruikersnaam of wachtwoord klopt niet.".into(),
                StatusCode::UNAUTHORIZED,
            ));
        }
    };
    state.limiter.success(&username, &addr);
    let token = aanwezig_auth::new_token();
    let session = SessionRecord {
        id_hash: aanwezig_auth::token_hash(&token),
        username: user.username.clone(),
        csrf_token: aanwezig_auth::new_token(),
        created_at: now,
        last_seen_at: now,
    };
    state.store.create_session(&session).await?;
    state
        .store
        .audit(&AuditEntry {
            at: now,
            username: user.username.clone(),
            action: AuditAction::SignIn,
            student: None,
            detail: format!("vanaf {}", addr.ip()),
        })
        .await?;
    let cookie = Cookie::build((SESSION_COOKIE, token))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.config.secure_cookies)
        .path("/")
        .build();
    Ok((jar.add(cookie), Redirect::to(&terug)).into_response())
}

async fn logout(
    State(state): State<AppState>,
    user: CurrentUser,
    jar: CookieJar,
) -> Result<Response, PageError> {
    state.store.delete_session(&user.session_hash).await?;
    user.audit(&state, AuditAction::SignOut, None, "").await?;
    let jar = jar.remove(Cookie::build(SESSION_COOKIE).path("/"));
    Ok((jar, Redirect::to("/inloggen")).into_response())
}

/// `/inloggen` and `/uitloggen`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/inloggen", get(login_form).post(login))
        .route("/uitloggen", post(logout))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_return_paths() {
        assert_eq!(safe_return(Some("/leerlingen")), "/leerlingen");
        assert_eq!(safe_return(Some("//evil.example")), "/");
        assert_eq!(safe_return(Some("https://evil.example")), "/");
        assert_eq!(safe_return(None), "/");
    }

    #[test]
    fn limiter_blocks_after_five_failures_per_user() {
        let l = LoginLimiter::default();
        let addr: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let t = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap();
        for _ in 0..PER_USER {
            assert!(l.blocked("a", &addr, t).is_none());
            l.failure("a", &addr, t);
        }
        assert!(l.blocked("a", &addr, t).is_some());
        assert!(
            l.blocked("b", &addr, t).is_none(),
            "another user is not blocked"
        );
        assert!(
            l.blocked("a", &addr, t + LIMIT_WINDOW).is_none(),
            "failures expire"
        );
    }
}
