//! Auditlog: the audit log for the beheerder, newest first, filtered by
//! student number and by user name (a GET form), with "meer tonen" raising
//! the number of entries up to [`MAX_LIMIT`].
//!
//! The beheerder reads no student data: the log shows a student's number
//! as plain text, never a link to the student's page, and for an entry
//! about a student only what kind of thing was done ("dossier",
//! "registraties", …: [`topic_nl`]), never the entry's own text, which can
//! hold the student's categories ("ziek gemeld → onbekend"). The full text
//! is in the student's AVG inzage, for the coordinators. Viewing the log is
//! itself written to the log.

use aanwezig_domain::StudentId;
use aanwezig_storage::{AuditAction, AuditFilter};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::student::local_time_nl;
use crate::error::PageError;
use crate::guard::ReadAuditLog;
use crate::layout::{section, Layout};
use crate::state::AppState;

/// Entries shown when no number is asked for.
pub const DEFAULT_LIMIT: u32 = 100;
/// The most entries one page shows.
pub const MAX_LIMIT: u32 = 2_000;

#[derive(Debug, Default, Deserialize)]
struct AuditQuery {
    /// Student number.
    leerling: Option<String>,
    /// User name.
    gebruiker: Option<String>,
    /// Number of entries.
    aantal: Option<String>,
}

struct Row {
    at: String,
    when: String,
    username: String,
    action: &'static str,
    student: String,
    detail: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "audit.html")]
struct AuditPage {
    layout: Layout,
    leerling: String,
    gebruiker: String,
    error: Option<String>,
    rows: Vec<Row>,
    limit: u32,
    more: Option<String>,
    /// As many entries as the limit: there may be older ones.
    full: bool,
    filtered: bool,
}

/// The `aantal` parameter: a positive number, at most [`MAX_LIMIT`];
/// anything else gives the default.
fn limit_of(v: Option<&str>) -> u32 {
    v.and_then(|s| s.trim().parse::<u32>().ok())
        .filter(|n| *n > 0)
        .map_or(DEFAULT_LIMIT, |n| n.min(MAX_LIMIT))
}

fn query_string(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        if !v.is_empty() {
            s.append_pair(k, v);
        }
    }
    s.finish()
}

async fn page(
    State(state): State<AppState>,
    ReadAuditLog(user): ReadAuditLog,
    Query(q): Query<AuditQuery>,
) -> Result<(StatusCode, AuditPage), PageError> {
    user.audit(&state, AuditAction::Read, None, "logboek")
        .await?;
    let leerling = q.leerling.as_deref().unwrap_or("").trim().to_owned();
    let gebruiker = q.gebruiker.as_deref().unwrap_or("").trim().to_owned();
    let limit = limit_of(q.aantal.as_deref());
    let mut page = AuditPage {
        layout: Layout::new(&user, section::AUDIT, "Logboek"),
        leerling: leerling.clone(),
        gebruiker: gebruiker.clone(),
        error: None,
        rows: Vec::new(),
        limit,
        more: None,
        full: false,
        filtered: !leerling.is_empty() || !gebruiker.is_empty(),
    };
    let student = if leerling.is_empty() {
        None
    } else {
        match StudentId::parse(&leerling) {
            Ok(id) => Some(id),
            Err(_) => {
                page.error = Some(format!(
                    "‘{leerling}’ is geen geldig leerlingnummer. Vul het nummer in zoals het in de leerlingenadministratie staat."
                ));
                return Ok((StatusCode::UNPROCESSABLE_ENTITY, page));
            }
        }
    };
    let entries = state
        .store
        .audit_log(&AuditFilter {
            student,
            username: (!gebruiker.is_empty()).then(|| gebruiker.clone()),
            limit,
        })
        .await?;
    page.full = entries.len() == limit as usize;
    if page.full && limit < MAX_LIMIT {
        let next = (limit * 2).min(MAX_LIMIT).to_string();
        page.more = Some(format!(
            "/auditlog?{}",
            query_string(&[
                ("leerling", &leerling),
                ("gebruiker", &gebruiker),
                ("aantal", &next),
            ])
        ));
    }
    page.rows = entries
        .into_iter()
        .map(|e| Row {
            at: e.at.to_rfc3339(),
            when: local_time_nl(e.at),
            username: e.username,
            action: e.action.label_nl(),
            detail: if e.student.is_some() {
                topic_nl(&e.detail).to_owned()
            } else {
                e.detail
            },
            student: e.student.map(|s| s.to_string()).unwrap_or_default(),
        })
        .collect();
    Ok((StatusCode::OK, page))
}

/// What kind of thing an entry about a student concerns, from the start of
/// its text: a fixed word, never any of the text itself. Unknown texts are
/// "leerlinggegevens".
fn topic_nl(detail: &str) -> &'static str {
    const TOPICS: [(&str, &str); 11] = [
        ("DUO-melding", "DUO-melding"),
        ("formulier nieuwe DUO-melding", "DUO-melding"),
        ("dossier", "dossier"),
        ("afspraken", "dossier: afspraken"),
        ("AVG-inzage", "AVG-inzage"),
        ("API: registraties", "registraties"),
        ("API: signalen", "signalen"),
        ("lesuur", "registraties"),
        ("les ", "registraties"),
        ("leerlingpagina", "leerlingpagina"),
        ("leerling", "leerlingpagina"),
    ];
    TOPICS
        .iter()
        .find(|(prefix, _)| detail.starts_with(prefix))
        .map_or("leerlinggegevens", |(_, topic)| topic)
}

/// `/auditlog`.
pub fn router() -> crate::routes::Routes {
    crate::routes::Routes::new().get("/auditlog", page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_positive_and_capped() {
        assert_eq!(limit_of(None), DEFAULT_LIMIT);
        assert_eq!(limit_of(Some("abc")), DEFAULT_LIMIT);
        assert_eq!(limit_of(Some("0")), DEFAULT_LIMIT);
        assert_eq!(limit_of(Some(" 250 ")), 250);
        assert_eq!(limit_of(Some("999999")), MAX_LIMIT);
    }

    #[test]
    fn topics_name_the_kind_of_thing_never_the_categories() {
        assert_eq!(
            topic_nl("lesuur 3 op 2025-09-08: ziek gemeld → onbekend"),
            "registraties"
        );
        assert_eq!(
            topic_nl("les 2025-09-08 lesuur 3 gecorrigeerd: ziek → onbekend"),
            "registraties"
        );
        assert_eq!(topic_nl("dossier: stap 4b (ziek)"), "dossier");
        assert_eq!(
            topic_nl("DUO-melding 3: status geregistreerd"),
            "DUO-melding"
        );
        assert_eq!(topic_nl("iets nieuws: ziek"), "leerlinggegevens");
    }
}
