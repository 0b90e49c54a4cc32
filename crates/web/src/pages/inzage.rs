//! AVG-inzage: everything the school holds on one student, for a subject
//! access request. Two forms of the same content:
//! `/leerlingen/{id}/inzage` a printable page and
//! `/leerlingen/{id}/inzage.json` a JSON download.
//!
//! The content: the student record (with the date the student left, if
//! any), every registration as stored, the full history of changed
//! registrations (old state, who, when), the signals with their
//! explanations, and the audit log entries about this student (who read,
//! changed or exported the data, and when), every case dossier (as the
//! exporter's role may see it: the jeugdarts's confidential notes fall
//! under the doctor's professional secrecy and are asked of the GGD, and
//! the meldcode part only reaches the ondersteuningscoördinator) and every
//! DUO melding with its versions' statuses.
//!
//! Only the coordinators may export; every export is audited (Export, with
//! the student), before the audit entries are read, so the export shows
//! itself.

use crate::guard::ExportStudent;
use aanwezig_app::Permission;
use aanwezig_domain::explain::{date_nl, SignalReport};
use aanwezig_domain::{RegistrationRecord, StudentId};
use aanwezig_storage::{AuditAction, AuditEntry, AuditFilter, HistoryEntry, StoredStudent};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::student::local_time_nl;
use super::students::{mentor_label, mentor_names};
use crate::auth::CurrentUser;
use crate::error::PageError;
use crate::layout::{section, Layout};
use crate::state::AppState;

/// Every audit entry about one student: far more than a school year of
/// daily reads.
const AUDIT_LIMIT: u32 = 1_000_000;

/// The student as exported.
#[derive(Debug, Serialize)]
struct StudentPart {
    id: String,
    name: String,
    class: String,
    /// The mentor as stored (a user name or a name).
    mentor: String,
    /// The mentor's display name, when the mentor is a user.
    mentor_name: String,
    date_of_birth: NaiveDate,
    left_on: Option<NaiveDate>,
    /// Held only for the DUO melding; left out when unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    bsn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    onderwijsnummer: Option<String>,
}

/// A registration as exported: the stored record plus its category in
/// Dutch.
#[derive(Debug, Serialize)]
struct RegistrationPart {
    date: NaiveDate,
    lesson: u8,
    minutes: u16,
    code: Option<String>,
    category: aanwezig_domain::Category,
    category_nl: &'static str,
    minutes_late: u16,
    note: Option<String>,
}

impl From<&RegistrationRecord> for RegistrationPart {
    fn from(r: &RegistrationRecord) -> Self {
        RegistrationPart {
            date: r.date,
            lesson: r.lesson,
            minutes: r.minutes,
            code: r.code.clone(),
            category: r.category,
            category_nl: r.category.label_nl(),
            minutes_late: r.minutes_late,
            note: r.note.clone(),
        }
    }
}

/// The JSON download.
#[derive(Debug, Serialize)]
struct Inzage {
    /// What this document is, in Dutch.
    about: &'static str,
    generated_at: DateTime<Utc>,
    generated_by: String,
    student: StudentPart,
    registrations: Vec<RegistrationPart>,
    /// Earlier states of registrations that were changed, oldest first.
    history: Vec<HistoryEntry>,
    signals: Vec<SignalReport>,
    /// Why there are no signals, when they could not be computed.
    #[serde(skip_serializing_if = "Option::is_none")]
    signals_note: Option<&'static str>,
    /// Every case dossier, oldest first, redacted for the exporter's role.
    cases: Vec<aanwezig_domain::Case>,
    /// Every DUO melding (draft or sent), oldest first.
    meldingen: Vec<MeldingPart>,
    /// What the export leaves out, and why.
    withheld: &'static str,
    /// Who read, changed or exported this student's data, newest first.
    audit_log: Vec<AuditEntry>,
}

/// A DUO melding with its number.
#[derive(Debug, Serialize)]
struct MeldingPart {
    id: i64,
    melding: aanwezig_domain::MeldingDraft,
}

const WITHHELD: &str = "Vertrouwelijke notities van de jeugdarts vallen onder diens beroepsgeheim en staan hier niet in: inzage daarin vraagt u bij de GGD. Gegevens over de meldcode huiselijk geweld en kindermishandeling staan alleen in een inzage die de ondersteuningscoördinator opstelt.";

const ABOUT: &str =
    "AVG-inzage: alle gegevens die de school in aanwezig over deze leerling bewaart.";
const NO_SIGNALS: &str = "Er zijn geen signalen berekend: er is geen schoolkalender ingelezen, of de leerling staat niet (meer) in het actuele schooljaar.";

/// Checks the role and the scope, writes the Export entry and gathers
/// everything.
async fn gather(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    form: &str,
) -> Result<Inzage, PageError> {
    let sid = StudentId::parse(id).map_err(|_| PageError::NotFound)?;
    let StoredStudent { student, left_on } = state
        .store
        .student(&sid)
        .await?
        .ok_or(PageError::NotFound)?;
    user.require_for(Permission::ExportStudent, &student)?;
    let numbers = user.sees_personal_numbers_of(&student);
    user.audit(
        state,
        AuditAction::Export,
        Some(&sid),
        format!("AVG-inzage ({form})"),
    )
    .await?;
    let filter = AuditFilter {
        student: Some(sid.clone()),
        username: None,
        limit: AUDIT_LIMIT,
    };
    let melding_filter = aanwezig_storage::MeldingFilter {
        student: Some(sid.clone()),
        ..Default::default()
    };
    let (registrations, history, audit_log, names, cases, meldingen) = tokio::join!(
        state.store.student_registrations(&sid),
        state.store.registration_history(&sid),
        state.store.audit_log(&filter),
        mentor_names(state),
        state.store.student_cases(&sid),
        state.store.meldingen(&melding_filter),
    );
    let (registrations, history, audit_log, names) = (registrations?, history?, audit_log?, names?);
    let cases: Vec<aanwezig_domain::Case> =
        cases?.iter().map(|c| c.redacted_for(user.role())).collect();
    let meldingen: Vec<MeldingPart> = meldingen?
        .into_iter()
        .map(|(id, melding)| MeldingPart { id, melding })
        .collect();
    let signals: Option<Vec<SignalReport>> = {
        let live = state.read()?;
        match (live.cal.as_ref(), live.through, live.school.position(&sid)) {
            (Some(cal), Some(d), Some(i)) => Some(
                live.evaluations
                    .get(i)
                    .map(|e| {
                        e.signals
                            .iter()
                            .map(|s| {
                                SignalReport::new(
                                    s,
                                    sid.as_str(),
                                    cal,
                                    &live.policy,
                                    live.school.registrations(i),
                                    d,
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            ),
            _ => None,
        }
    };
    Ok(Inzage {
        about: ABOUT,
        generated_at: state.clock.now(),
        generated_by: user.user.username.clone(),
        student: StudentPart {
            id: sid.to_string(),
            name: student.name.clone(),
            class: student.class.clone(),
            mentor_name: mentor_label(&names, &student.mentor),
            date_of_birth: student.date_of_birth,
            left_on,
            // The exporters (the coordinators) may see the numbers; the
            // check is repeated so that a change of `may_export` cannot
            // widen who reads them.
            bsn: numbers
                .then(|| student.bsn.as_ref().map(|b| b.as_str().to_owned()))
                .flatten(),
            onderwijsnummer: numbers
                .then(|| {
                    student
                        .onderwijsnummer
                        .as_ref()
                        .map(|o| o.as_str().to_owned())
                })
                .flatten(),
            mentor: student.mentor,
        },
        registrations: registrations.iter().map(RegistrationPart::from).collect(),
        history,
        signals_note: signals.is_none().then_some(NO_SIGNALS),
        signals: signals.unwrap_or_default(),
        cases,
        meldingen,
        withheld: WITHHELD,
        audit_log,
    })
}

/// A safe file name part: letters, digits, `-`, `_` and `.`.
fn file_part(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

async fn json(
    State(state): State<AppState>,
    ExportStudent(user): ExportStudent,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let inzage = gather(&state, &user, &id, "JSON").await?;
    let body =
        serde_json::to_string_pretty(&inzage).map_err(|e| PageError::Internal(e.to_string()))?;
    let disposition = format!(
        "attachment; filename=\"inzage-{}.json\"",
        file_part(&inzage.student.id)
    );
    Ok((
        [
            (CONTENT_TYPE, "application/json; charset=utf-8".to_owned()),
            (CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

struct RegRow {
    date: String,
    lesson: u8,
    minutes: u16,
    code: String,
    category: &'static str,
    late: String,
    note: String,
}

struct HistoryRow {
    lesson: String,
    old: String,
    set: String,
    replaced: String,
}

struct SignalRow {
    title: &'static str,
    step: String,
    fired: String,
    state: String,
    explanation: String,
}

struct CaseSection {
    title: String,
    lines: Vec<(String, String, String)>,
}

struct MeldingRow {
    id: i64,
    kind: &'static str,
    period: String,
    status: &'static str,
    days: String,
    reason: String,
}

struct AuditRow {
    at: String,
    when: String,
    username: String,
    action: &'static str,
    detail: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "inzage.html")]
struct InzagePage {
    layout: Layout,
    id: String,
    name: String,
    class: String,
    mentor: String,
    birth: String,
    left_on: String,
    /// Only what is held: empty when unknown (and the row is left out).
    bsn: String,
    onderwijsnummer: String,
    generated: String,
    generated_by: String,
    registrations: Vec<RegRow>,
    history: Vec<HistoryRow>,
    signals: Vec<SignalRow>,
    signals_note: Option<&'static str>,
    cases: Vec<CaseSection>,
    meldingen: Vec<MeldingRow>,
    withheld: &'static str,
    audit: Vec<AuditRow>,
}

/// A date with weekday and year: `vr 14 nov 2025`. An inzage spans
/// school years, so unlike the student page it always names the year.
fn day_nl(d: NaiveDate) -> String {
    d.format_localized("%a %-d %b %Y", chrono::Locale::nl_NL)
        .to_string()
}

fn long_date(d: NaiveDate) -> String {
    d.format_localized("%-d %B %Y", chrono::Locale::nl_NL)
        .to_string()
}

fn state_of(r: &RegistrationRecord) -> String {
    let mut s = match &r.code {
        Some(c) => format!("{c} ({})", r.category.label_nl()),
        None => r.category.label_nl().to_owned(),
    };
    if r.minutes_late > 0 {
        s.push_str(&format!(", {} minuten te laat", r.minutes_late));
    }
    if let Some(n) = r.note.as_deref().filter(|n| !n.is_empty()) {
        s.push_str(&format!("; notitie: {n}"));
    }
    s
}

fn provenance(p: &aanwezig_storage::Provenance) -> String {
    match p.import_id {
        Some(n) => format!(
            "{} door {} (bestand ingelezen, nr. {n})",
            local_time_nl(p.at),
            p.by
        ),
        None => format!("{} door {}", local_time_nl(p.at), p.by),
    }
}

async fn page(
    State(state): State<AppState>,
    ExportStudent(user): ExportStudent,
    Path(id): Path<String>,
) -> Result<InzagePage, PageError> {
    let x = gather(&state, &user, &id, "pagina").await?;
    Ok(InzagePage {
        layout: Layout::new(
            &user,
            section::STUDENTS,
            format!("AVG-inzage {}", x.student.name),
        ),
        id: x.student.id,
        name: x.student.name,
        class: x.student.class,
        mentor: x.student.mentor_name,
        birth: long_date(x.student.date_of_birth),
        left_on: x.student.left_on.map(long_date).unwrap_or_default(),
        bsn: x.student.bsn.unwrap_or_default(),
        onderwijsnummer: x.student.onderwijsnummer.unwrap_or_default(),
        generated: local_time_nl(x.generated_at),
        generated_by: user.user.display_name.clone(),
        registrations: x
            .registrations
            .iter()
            .map(|r| RegRow {
                date: day_nl(r.date),
                lesson: r.lesson,
                minutes: r.minutes,
                code: r.code.clone().unwrap_or_default(),
                category: r.category_nl,
                late: if r.minutes_late > 0 {
                    format!("{} min", r.minutes_late)
                } else {
                    String::new()
                },
                note: r.note.clone().unwrap_or_default(),
            })
            .collect(),
        history: x
            .history
            .iter()
            .map(|h| HistoryRow {
                lesson: format!("{}, lesuur {}", day_nl(h.old.date), h.old.lesson),
                old: state_of(&h.old),
                set: provenance(&h.set),
                replaced: provenance(&h.replaced),
            })
            .collect(),
        signals: x
            .signals
            .iter()
            .rev()
            .map(|s| SignalRow {
                title: s.title,
                step: s.step.to_string(),
                fired: date_nl(s.fired_on),
                state: if s.open {
                    "open".to_owned()
                } else {
                    match s.closed_on {
                        Some(c) => format!("gesloten op {}", date_nl(c)),
                        None => "gesloten".to_owned(),
                    }
                },
                explanation: s.explanation.clone(),
            })
            .collect(),
        signals_note: x.signals_note,
        cases: x
            .cases
            .iter()
            .map(|c| CaseSection {
                title: format!(
                    "Dossier geopend op {}{}",
                    long_date(c.opened_on),
                    match &c.closed {
                        Some(cl) => format!(", gesloten op {}", long_date(cl.on)),
                        None => format!(", open, stap {}", c.step),
                    }
                ),
                lines: c
                    .trail_nl()
                    .into_iter()
                    .map(|e| (day_nl(e.on), e.by, e.what_nl))
                    .collect(),
            })
            .collect(),
        meldingen: x
            .meldingen
            .iter()
            .map(|m| MeldingRow {
                id: m.id,
                kind: m.melding.kind.label_nl(),
                period: format!(
                    "{} tot en met {}",
                    long_date(m.melding.begin),
                    long_date(m.melding.end)
                ),
                status: m.melding.status.label_nl(),
                days: m
                    .melding
                    .days
                    .iter()
                    .map(|d| {
                        let lessons: Vec<String> = d.lessons.iter().map(u8::to_string).collect();
                        format!("{}: lesuur {}", day_nl(d.date), lessons.join(", "))
                    })
                    .collect::<Vec<_>>()
                    .join("; "),
                reason: m.melding.suspected_reason.clone(),
            })
            .collect(),
        withheld: x.withheld,
        audit: x
            .audit_log
            .iter()
            .map(|e| AuditRow {
                at: e.at.to_rfc3339(),
                when: local_time_nl(e.at),
                username: e.username.clone(),
                action: e.action.label_nl(),
                detail: e.detail.clone(),
            })
            .collect(),
    })
}

/// `/leerlingen/{id}/inzage` and `/leerlingen/{id}/inzage.json`.
pub fn router() -> crate::routes::Routes {
    crate::routes::Routes::new()
        .get("/leerlingen/{id}/inzage", page)
        .get("/leerlingen/{id}/inzage.json", json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_keep_only_safe_characters() {
        assert_eq!(file_part("12345"), "12345");
        assert_eq!(file_part("a\"b;c/d"), "a_b_c_d");
    }
}
