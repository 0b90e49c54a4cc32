//! `GET /leerlingen/{id}/dossier/verslag`: the printable report (audited
//! as an export).

use aanwezig_app::Permission;
use std::collections::HashMap;

use aanwezig_domain::case::Party;
use aanwezig_domain::explain::date_nl;
use aanwezig_domain::{Case, Role};
use aanwezig_storage::AuditAction;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;

use super::agreements::{agreement_views, AgreementView, MailingView};
use super::contacts::{contact_view, ContactView};
use super::records::who_did;
use crate::auth::CurrentUser;
use crate::dossier;
use crate::error::PageError;
use crate::layout::{section, Layout};
use crate::pages::students::{mentor_label, mentor_names};
use crate::state::AppState;

struct Line {
    on: String,
    what: String,
    by: String,
    note: String,
}

struct InterventionView {
    what: String,
    description: String,
    from: String,
    until: String,
    evaluations: Vec<Line>,
}

struct ReportCase {
    opened: String,
    reason: String,
    step: String,
    closed: Option<String>,
    history: Vec<Line>,
    checklist: Vec<Line>,
    partners: Vec<String>,
    contacts: Vec<ContactView>,
    agreements: Vec<AgreementView>,
    decisions: Vec<Line>,
    interventions: Vec<InterventionView>,
    mailings: Vec<MailingView>,
}

#[derive(Template, WebTemplate)]
#[template(path = "report.html")]
struct ReportPage {
    layout: Layout,
    id: String,
    name: String,
    class: String,
    mentor: String,
    printed_on: String,
    printed_by: String,
    external: bool,
    case: Option<ReportCase>,
    /// Step and attendance figures through the last registered day.
    figures: Option<crate::pages::student::Figures>,
    /// Whether the reader's role sees DUO meldingen (as in the dossier).
    shows_meldingen: bool,
    meldingen: Vec<ReportMelding>,
}

/// A DUO melding of the student, for the verslag.
struct ReportMelding {
    n: i64,
    kind: &'static str,
    period: String,
    status: &'static str,
    duo_number: String,
}

fn report_case(
    names: &HashMap<String, String>,
    users: &[aanwezig_storage::User],
    case: &Case,
    role: Role,
    today: NaiveDate,
) -> ReportCase {
    let shared = !role.is_external();
    let mut history: Vec<(NaiveDate, Line)> = case
        .history
        .iter()
        .map(|h| {
            (
                h.at_date,
                Line {
                    on: date_nl(h.at_date),
                    what: format!("van stap {} naar stap {}", h.from, h.to),
                    by: who_did(names, &h.by),
                    note: h.why.clone(),
                },
            )
        })
        .collect();
    for r in &case.reopenings {
        history.push((
            r.closure.on,
            Line {
                on: date_nl(r.closure.on),
                what: format!("gesloten: {}", r.closure.reason.label_nl()),
                by: who_did(names, &r.closure.by),
                note: r.closure.note.clone(),
            },
        ));
        history.push((
            r.on,
            Line {
                on: date_nl(r.on),
                what: "heropend".into(),
                by: who_did(names, &r.by),
                note: r.why.clone(),
            },
        ));
    }
    if let Some(c) = &case.closed {
        history.push((
            c.on,
            Line {
                on: date_nl(c.on),
                what: format!("gesloten: {}", c.reason.label_nl()),
                by: who_did(names, &c.by),
                note: c.note.clone(),
            },
        ));
    }
    history.sort_by_key(|(d, _)| *d);
    let checklist = case
        .checklist
        .iter()
        .map(|i| {
            use aanwezig_domain::case::ItemStatus;
            let (on, by, note) = match &i.status {
                ItemStatus::Open => (String::new(), String::new(), String::new()),
                ItemStatus::Done { on, by, note } | ItemStatus::NotApplicable { on, by, note } => {
                    (date_nl(*on), who_did(names, by), note.clone())
                }
            };
            Line {
                on,
                what: format!(
                    "stap {}: {} ({}) — {}",
                    i.step,
                    i.label_nl,
                    i.party.label_nl(),
                    i.status.label_nl()
                ),
                by,
                note,
            }
        })
        .collect();
    ReportCase {
        opened: format!(
            "{} door {}",
            date_nl(case.opened_on),
            who_did(names, &case.opened_by)
        ),
        reason: case.reason.label_nl(),
        step: format!("{} — {}", case.step, case.step.label_nl()),
        closed: case
            .closed
            .as_ref()
            .map(|c| format!("{} ({})", date_nl(c.on), c.reason.label_nl())),
        history: history.into_iter().map(|(_, l)| l).collect(),
        checklist,
        partners: case
            .involved
            .iter()
            .map(|i| {
                format!(
                    "{} ({}), sinds {}{}",
                    // By account: the username may be someone else's now.
                    crate::dossier::account_of(users, i)
                        .map_or_else(|| i.user.clone(), |u| u.display_name.clone()),
                    i.role.label_nl(),
                    date_nl(i.since),
                    i.until
                        .map(|u| format!(" tot {}", date_nl(u)))
                        .unwrap_or_default()
                )
            })
            .collect(),
        contacts: case
            .contacts
            .iter()
            .enumerate()
            .map(|(i, c)| contact_view(names, i, c, shared))
            .collect(),
        agreements: agreement_views(case, today),
        decisions: case
            .decisions
            .iter()
            .map(|d| Line {
                on: date_nl(d.on),
                what: if d.parties.is_empty() {
                    d.kind.label_nl()
                } else {
                    format!(
                        "{} (met {})",
                        d.kind.label_nl(),
                        d.parties
                            .iter()
                            .map(Party::label_nl)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                },
                by: who_did(names, &d.by),
                note: d.note.clone(),
            })
            .collect(),
        interventions: case
            .interventions
            .iter()
            .map(|i| InterventionView {
                what: format!("{} (stap {})", i.kind.label_nl(), i.step),
                description: i.description.clone(),
                from: date_nl(i.started_on),
                until: i.ended_on.map(date_nl).unwrap_or_default(),
                evaluations: i
                    .evaluations
                    .iter()
                    .map(|e| Line {
                        on: date_nl(e.on),
                        what: String::new(),
                        by: who_did(names, &e.by),
                        note: e.note.clone(),
                    })
                    .collect(),
            })
            .collect(),
        mailings: case
            .mailings
            .iter()
            .map(|m| MailingView {
                on: date_nl(m.on),
                by: who_did(names, &m.by),
                to: if shared {
                    m.to.join(", ")
                } else {
                    "niet gedeeld".to_owned()
                },
                agreements: m
                    .agreements
                    .iter()
                    .map(|i| (i + 1).to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
            .collect(),
    }
}

pub(super) async fn report(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let student = dossier::student_in_scope(&state, &user, &id)?;
    let case = state.store.case(&student.id).await?;
    // As for the dossier itself: an external partner only while brought
    // into the open case.
    if !dossier::may_read_case(&user, &student, case.as_ref()) {
        return Err(PageError::NotFound);
    }
    user.audit(
        &state,
        AuditAction::Export,
        Some(&student.id),
        "dossier: verslag",
    )
    .await?;
    let case = case.map(|c| dossier::seen_by(&user, &c));
    let (names, users) = tokio::try_join!(mentor_names(&state), async {
        Ok(state.store.users().await?)
    })?;
    let today = state.clock.today();
    let figures = {
        let live = state.read()?;
        live.school
            .position(&student.id)
            .and_then(|i| crate::pages::student::attendance_figures(&live, i))
    };
    // The DUO meldingen as the dossier shows them: to the coordinators and
    // leerplicht; never a concept or a withdrawn one to a partner.
    let role = user.role();
    let shows_meldingen = user.may(Permission::ReadMeldingen);
    let meldingen = crate::pages::meldingen::of_student_for(&state, role, &student.id)
        .await?
        .into_iter()
        .map(|(n, m)| ReportMelding {
            n,
            kind: m.kind.label_nl(),
            period: format!("{} – {}", date_nl(m.begin), date_nl(m.end)),
            status: m.status.label_nl(),
            duo_number: m.duo_number.clone().unwrap_or_default(),
        })
        .collect();
    Ok(ReportPage {
        layout: Layout::new(
            &user,
            section::DOSSIERS,
            format!("Dossierverslag {}", student.name),
        ),
        id: student.id.as_str().to_owned(),
        name: student.name.clone(),
        class: student.class.clone(),
        mentor: mentor_label(&names, &student.mentor),
        printed_on: date_nl(today),
        printed_by: format!("{} ({})", user.user.display_name, user.role().label_nl()),
        external: user.role().is_external(),
        case: case
            .as_ref()
            .map(|c| report_case(&names, &users, c, user.role(), today)),
        figures,
        shows_meldingen,
        meldingen,
    }
    .into_response())
}
