//! Signing in and out, sessions, and the signed-in user as an extractor.
//!
//! A session is a random token in an `HttpOnly`, `SameSite=Strict` cookie;
//! the database keeps only its SHA-256, the user and the session's CSRF
//! token. Sessions end on sign-out, after the configured idle time (to the
//! second: every request moves the last-seen time) and at the latest after
//! the absolute session lifetime.
//!
//! Sign-in attempts are limited per (account, address) with growing delays
//! and per address with a budget ([`limiter`]); the address is the
//! client's ([`crate::security::client_ip`]).

mod limiter;

use std::net::SocketAddr;

pub use limiter::{LimiterStats, LoginLimiter};

use aanwezig_app::permission::{self, Permission, StudentFacts};
use aanwezig_app::Actor;
use aanwezig_domain::case::PartnerIdentity;
use aanwezig_domain::{Role, Student, StudentId};
use aanwezig_storage::{AuditAction, AuditEntry, SessionRecord, User};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{ConnectInfo, FromRequestParts, OriginalUri, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use chrono::Duration;
use serde::Deserialize;

use crate::error::{ApiError, PageError};
use crate::layout::Layout;
use crate::state::AppState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "aanwezig_sessie";

/// Password checks running at once. Each argon2 check takes 19 MiB, so
/// this bounds the memory sign-ins can take however many arrive; the rest
/// wait (asynchronously) for a turn.
const CONCURRENT_PASSWORD_CHECKS: usize = 4;

/// The password checks' turns (see [`CONCURRENT_PASSWORD_CHECKS`]).
static PASSWORD_CHECKS: tokio::sync::Semaphore =
    tokio::sync::Semaphore::const_new(CONCURRENT_PASSWORD_CHECKS);

/// Longest user name written in the audit log for a failed sign-in.
const AUDIT_NAME_CHARS: usize = 64;

/// The signed-in user of a request.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub user: User,
    /// The session's CSRF token, for forms.
    pub csrf: String,
    /// For an external partner: the students whose data they may see (see
    /// [`involved_students`]); empty for every other role.
    pub involved: Vec<StudentId>,
    /// Of those, the students whose open case the partner is brought into
    /// (sorted).
    brought_in: Vec<StudentId>,
    /// For the leerplichtambtenaar: the students with a sent DUO melding
    /// (sorted); empty for every other role.
    sent_melding: Vec<StudentId>,
    session_hash: String,
}

impl CurrentUser {
    /// The user's role.
    pub fn role(&self) -> Role {
        self.user.role
    }

    /// The account as the case dossier's partner checks know it.
    pub fn identity(&self) -> PartnerIdentity<'_> {
        self.user.identity()
    }

    /// What this user is to `student`, for [`aanwezig_app::permission`].
    pub fn facts(&self, student: &Student) -> StudentFacts {
        let brought_in = self.brought_in.binary_search(&student.id).is_ok();
        let sent_melding = self.sent_melding.binary_search(&student.id).is_ok();
        StudentFacts::of(&self.user.classes, student, brought_in, sent_melding)
    }

    /// Whether this user holds `permission` for some student or
    /// school-wide ([`permission::may`]).
    pub fn may(&self, permission: Permission) -> bool {
        permission::may(self.user.role, permission)
    }

    /// Whether this user holds `permission` for `student`
    /// ([`permission::may_for`]).
    pub fn may_for(&self, permission: Permission, student: &Student) -> bool {
        permission::may_for(self.user.role, permission, self.facts(student))
    }

    /// Whether this user may see `student`'s BSN and onderwijsnummer: a
    /// student they read, and a role that sees the numbers.
    pub fn sees_personal_numbers_of(&self, student: &Student) -> bool {
        self.may_for(Permission::ReadStudent, student)
            && self.may_for(Permission::SeePersonalNumbers, student)
    }

    /// `Forbidden` unless this user holds `permission` at all.
    pub fn require_may(&self, permission: Permission) -> Result<(), PageError> {
        self.require(self.may(permission))
    }

    /// `NotFound` unless this user holds `permission` for `student`: a
    /// student outside a user's reach looks like no student at all.
    pub fn require_for(&self, permission: Permission, student: &Student) -> Result<(), PageError> {
        if self.may_for(permission, student) {
            Ok(())
        } else {
            Err(PageError::NotFound)
        }
    }

    /// The acting user as the application layer knows it.
    pub fn actor(&self) -> Actor {
        Actor {
            username: self.user.username.clone(),
            account_id: self.user.account_id.clone(),
            role: self.user.role,
            classes: self.user.classes.clone(),
            brought_in: self.brought_in.clone(),
            sent_melding: self.sent_melding.clone(),
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
    // The session and its account in one read.
    let Some((session, user)) = state.store.session_with_user(&hash).await? else {
        return Ok(None);
    };
    let now = state.clock.now();
    if session_over(&session, &state.config, now) {
        state.store.delete_session(&hash).await?;
        return Ok(None);
    }
    let Some(user) = user else {
        return Ok(None);
    };
    if !user.active {
        return Ok(None);
    }
    // Every request moves last-seen, so the idle limit holds to the second.
    // That is one UPDATE by primary key per request; page views already
    // write an audit row each, so it does not change what a request costs
    // in kind. Requests within the same second share one write.
    if now - session.last_seen_at >= Duration::seconds(1) {
        state.store.touch_session(&hash, now).await?;
    }
    let partner = if user.role.is_external() {
        partner_students(state, &user).await?
    } else {
        PartnerStudents::default()
    };
    Ok(Some(CurrentUser {
        user,
        csrf: session.csrf_token,
        involved: partner.involved,
        brought_in: partner.brought_in,
        sent_melding: partner.sent_melding,
        session_hash: hash,
    }))
}

/// Whether a session has ended by time: idle for [`Config::idle_timeout`]
/// since its last request, or older than [`Config::session_lifetime`].
///
/// [`Config::idle_timeout`]: crate::Config::idle_timeout
/// [`Config::session_lifetime`]: crate::Config::session_lifetime
fn session_over(
    session: &SessionRecord,
    config: &crate::Config,
    now: chrono::DateTime<chrono::Utc>,
) -> bool {
    now - session.last_seen_at >= config.idle_timeout
        || now - session.created_at >= config.session_lifetime
}

/// The students an external partner may see (product.md): those whose open
/// case the partner's account is currently brought into
/// ([`Case::involves`]: by account id, not by username, so a new account
/// with a reused name sees nothing of the old one's), and for the
/// leerplichtambtenaar also every student with a DUO melding that was sent
/// (any status after concept). Sorted, each once.
///
/// [`Case::involves`]: aanwezig_domain::Case::involves
pub async fn involved_students(state: &AppState, user: &User) -> Result<Vec<StudentId>, PageError> {
    Ok(partner_students(state, user).await?.involved)
}

/// A partner's students, by how they came to see them (each sorted).
#[derive(Default)]
struct PartnerStudents {
    /// Both kinds: [`involved_students`].
    involved: Vec<StudentId>,
    brought_in: Vec<StudentId>,
    sent_melding: Vec<StudentId>,
}

async fn partner_students(state: &AppState, user: &User) -> Result<PartnerStudents, PageError> {
    // Two indexed queries: the cases this account is brought into, and
    // for the leerplichtambtenaar the students with a sent melding.
    let mut brought_in = state.store.students_involving(&user.identity()).await?;
    brought_in.sort();
    brought_in.dedup();
    let mut sent_melding = if user.role == Role::Leerplichtambtenaar {
        state.store.students_with_sent_meldingen().await?
    } else {
        Vec::new()
    };
    sent_melding.sort();
    sent_melding.dedup();
    let mut involved = [brought_in.as_slice(), sent_melding.as_slice()].concat();
    involved.sort();
    involved.dedup();
    Ok(PartnerStudents {
        involved,
        brought_in,
        sent_melding,
    })
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

/// Only paths of this site: never redirect to another one after signing in.
fn safe_return(terug: Option<&str>) -> String {
    terug.and_then(local_path).unwrap_or_else(|| "/".to_owned())
}

/// `t` as a path (and query) on this site, or `None`. Browsers drop tabs
/// and newlines from addresses and read `\` as `/`, so those are refused
/// outright, also percent-encoded; what is left must, parsed as a URL
/// against this site, stay on this site. The path returned is the parsed
/// one, not the text as given.
fn local_path(t: &str) -> Option<String> {
    if !t.starts_with('/') {
        return None;
    }
    let decoded = percent_encoding::percent_decode_str(t).decode_utf8_lossy();
    for s in [t, decoded.as_ref()] {
        if s.starts_with("//")
            || s.chars()
                .any(|c| c.is_control() || c == '\\' || (c.is_whitespace() && c != ' '))
        {
            return None;
        }
    }
    if t.contains(' ') {
        return None;
    }
    let base = url::Url::parse("http://aanwezig.invalid/").ok()?;
    let url = base.join(t).ok()?;
    if url.origin() != base.origin() {
        return None;
    }
    let mut out = url.path().to_owned();
    if let Some(q) = url.query() {
        out.push('?');
        out.push_str(q);
    }
    Some(out)
}

/// What a sign-in form's user name field is as an account: the lower-cased
/// name when it is one an account can have ([`aanwezig_auth::check_username`]),
/// else `None` (then it is a failed sign-in without looking anything up).
/// The length is checked first, so a megabyte of text is never lower-cased.
fn account_name(typed: &str) -> Option<String> {
    if typed.len() > 4 * limiter::MAX_NAME_BYTES {
        return None;
    }
    let name = typed.to_lowercase();
    aanwezig_auth::check_username(&name).ok()?;
    Some(name)
}

/// The user name as the audit log and the page show it after a failed
/// sign-in: printable characters only, at most [`AUDIT_NAME_CHARS`] of
/// them, with "…" when cut.
fn shown_name(typed: &str) -> String {
    let mut out: String = typed
        .chars()
        .filter(|c| !c.is_control())
        .take(AUDIT_NAME_CHARS + 1)
        .collect();
    if out.chars().count() > AUDIT_NAME_CHARS {
        out = out.chars().take(AUDIT_NAME_CHARS).collect();
        out.push('…');
    }
    out
}

/// "probeer het over N seconden opnieuw", for a wait.
fn wait_message(wait: Duration) -> (i64, String) {
    let secs = (wait.num_milliseconds() + 999).div_euclid(1000).max(1);
    let unit = if secs == 1 { "seconde" } else { "seconden" };
    (
        secs,
        format!("Te veel pogingen. Probeer het over {secs} {unit} opnieuw."),
    )
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
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    let now = state.clock.now();
    let ip = crate::security::client_ip(&state.config, peer.ip(), &headers);
    let typed = form.gebruikersnaam.trim();
    let account = account_name(typed);
    let shown = account.clone().unwrap_or_else(|| shown_name(typed));
    let terug = safe_return(form.terug.as_deref());
    let page = |error: String, status: StatusCode| {
        let p = LoginPage {
            layout: Layout::anonymous("Inloggen"),
            terug: terug.clone(),
            username: shown.clone(),
            error: Some(error),
        };
        (status, p).into_response()
    };
    // The wait is answered, not slept: a sleeping request would hold a
    // connection (and its form) per guess, for as long as the delay.
    if let Err(wait) = state.limiter.attempt(account.as_deref(), ip, now) {
        let (secs, message) = wait_message(wait);
        let mut response = page(message, StatusCode::TOO_MANY_REQUESTS);
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        return Ok(response);
    }
    let user = match &account {
        Some(name) => state.store.user(name).await?,
        None => None,
    };
    let ok = match &account {
        // Argon2 is deliberately slow: keep it off the async workers, a few
        // at a time. An unknown user is checked against a dummy hash so both
        // take equally long; a name no account can have needs no check.
        Some(_) => {
            let hash = user.as_ref().map(|u| u.password_hash.clone());
            let password = form.wachtwoord;
            let _turn = PASSWORD_CHECKS
                .acquire()
                .await
                .map_err(|_| PageError::Internal("wachtwoordcontrole gestopt".into()))?;
            tokio::task::spawn_blocking(move || {
                aanwezig_auth::verify_password_or_dummy(&password, hash.as_deref())
            })
            .await
            .unwrap_or(false)
        }
        None => false,
    };
    let user = match user {
        Some(u) if ok && u.active => u,
        _ => {
            state
                .store
                .audit(&AuditEntry {
                    at: now,
                    username: shown.clone(),
                    action: AuditAction::SignInFailed,
                    student: None,
                    detail: format!("vanaf {ip}"),
                })
                .await?;
            return Ok(page(
                "Gebruikersnaam of wachtwoord klopt niet.".into(),
                StatusCode::UNAUTHORIZED,
            ));
        }
    };
    state.limiter.success(&user.username, ip);
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
            detail: format!("vanaf {ip}"),
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
pub fn router() -> crate::routes::Routes {
    crate::routes::Routes::new()
        .get("/inloggen", login_form)
        .post("/inloggen", login)
        .post("/uitloggen", logout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_return_paths() {
        assert_eq!(safe_return(Some("/leerlingen")), "/leerlingen");
        assert_eq!(
            safe_return(Some("/leerlingen?q=jan%20de&p=2")),
            "/leerlingen?q=jan%20de&p=2"
        );
        assert_eq!(safe_return(Some("/leerlingen/../taken")), "/taken");
        assert_eq!(safe_return(None), "/");
        for nasty in [
            "//evil.example",
            "/\t/evil.example",
            "/\\evil.example",
            "/\\/evil.example",
            "\\\\evil.example",
            "https://evil.example",
            "http://evil.example/",
            "/%09/evil.example",
            "/%5C/evil.example",
            "/%5cevil.example",
            "/%2F/evil.example",
            "/%0d%0aSet-Cookie:x=1",
            "/\r\n/evil.example",
            "/ /evil.example",
            "/\u{a0}/evil.example",
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            " /leerlingen",
            "data:text/html,x",
            "evil.example",
            "",
            "///evil.example",
            "/\u{0}",
        ] {
            assert_eq!(safe_return(Some(nasty)), "/", "{nasty:?}");
        }
    }

    #[test]
    fn account_names_are_user_names_or_nothing() {
        assert_eq!(account_name("Mentor"), Some("mentor".into()));
        assert_eq!(account_name(&"a".repeat(64)), Some("a".repeat(64)));
        assert_eq!(account_name(&"a".repeat(65)), None);
        assert_eq!(account_name(&"a".repeat(1 << 20)), None);
        assert_eq!(account_name("jan de vries"), None);
        // The Kelvin sign lower-cases to a plain k: still no valid name.
        assert_eq!(account_name("\u{212A}"), None);
    }

    #[test]
    fn failed_names_are_cut_and_printable() {
        assert_eq!(shown_name("jan"), "jan");
        let cut = shown_name(&"x".repeat(1 << 20));
        assert_eq!(cut.chars().count(), AUDIT_NAME_CHARS + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(shown_name("a\u{1b}[31mb\r\nc\u{0}"), "a[31mbc");
    }

    #[test]
    fn waits_are_whole_seconds_in_dutch() {
        assert_eq!(
            wait_message(Duration::milliseconds(300)),
            (
                1,
                "Te veel pogingen. Probeer het over 1 seconde opnieuw.".into()
            )
        );
        assert_eq!(
            wait_message(Duration::seconds(20)).1,
            "Te veel pogingen. Probeer het over 20 seconden opnieuw."
        );
    }

    #[test]
    fn sessions_end_idle_or_old() {
        let t = chrono::DateTime::<chrono::Utc>::from_timestamp(1_700_000_000, 0).unwrap();
        let config = crate::Config::default();
        let s = SessionRecord {
            id_hash: "h".into(),
            username: "u".into(),
            csrf_token: "c".into(),
            created_at: t,
            last_seen_at: t + Duration::hours(11),
        };
        let idle_end = s.last_seen_at + config.idle_timeout;
        assert!(!session_over(&s, &config, idle_end - Duration::seconds(1)));
        assert!(session_over(&s, &config, idle_end));
        let active = SessionRecord {
            last_seen_at: t + Duration::hours(12) - Duration::seconds(1),
            ..s
        };
        assert!(!session_over(
            &active,
            &config,
            t + Duration::hours(12) - Duration::milliseconds(1)
        ));
        assert!(session_over(&active, &config, t + Duration::hours(12)));
    }
}
