//! Agreements with their weekly checks.
//!
//! - `GET|POST /leerlingen/{id}/dossier/afspraken`: the agreements with
//!   their weekly checks; a new agreement.
//! - `POST /leerlingen/{id}/dossier/afspraken/{n}/controle`: a weekly check
//!   of agreement `n` (counted from 1).

use aanwezig_app::Permission;
use std::collections::HashSet;

use aanwezig_domain::case::{Agreement, AgreementParty, WeeklyCheck};
use aanwezig_domain::explain::date_nl;
use aanwezig_domain::{Case, Role, Student};
use aanwezig_storage::AuditAction;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::NaiveDate;

use super::contacts::open_case_for_change;
use super::records::{
    agreement_party, index_from, no_case, parse_date, still_open, value, who_choices, who_did,
    Choice, Pairs,
};
use crate::auth::CurrentUser;
use crate::dossier;
use crate::error::PageError;
use crate::layout::{section, ErrorLink, Layout};
use crate::mail::{self};
use crate::pages::students::mentor_names;
use crate::state::AppState;

pub(super) struct CheckView {
    pub(super) on: String,
    pub(super) kept: bool,
    pub(super) note: String,
}

pub(super) struct AgreementView {
    pub(super) index: usize,
    pub(super) number: usize,
    pub(super) who: String,
    pub(super) what: String,
    pub(super) by_when: String,
    pub(super) made_on: String,
    pub(super) contact: Option<usize>,
    pub(super) contact_number: usize,
    pub(super) checks: Vec<CheckView>,
    pub(super) sent: bool,
    /// The weekly check form's values and message.
    check_date: String,
    check_kept: String,
    check_note: String,
    check_error: Option<String>,
}

pub(super) fn agreement_views(case: &Case, today: NaiveDate) -> Vec<AgreementView> {
    let sent: HashSet<usize> = case
        .mailings
        .iter()
        .flat_map(|m| m.agreements.iter().copied())
        .collect();
    case.agreements
        .iter()
        .enumerate()
        .map(|(i, a)| AgreementView {
            index: i,
            number: i + 1,
            who: a.who.label_nl().to_owned(),
            what: a.what.clone(),
            by_when: a.by_when.map(date_nl).unwrap_or_default(),
            made_on: date_nl(a.made_on),
            contact: a.contact,
            contact_number: a.contact.map_or(0, |c| c + 1),
            checks: a
                .kept
                .iter()
                .map(|k| CheckView {
                    on: date_nl(k.on),
                    kept: k.kept,
                    note: k.note.clone(),
                })
                .collect(),
            sent: sent.contains(&i),
            check_date: today.to_string(),
            // No preselected outcome: the coordinator says what happened.
            check_kept: String::new(),
            check_note: String::new(),
            check_error: None,
        })
        .collect()
}

pub(super) struct Recipient {
    pub(super) address: String,
    label: String,
    pub(super) checked: bool,
}

pub(super) struct MailingView {
    pub(super) on: String,
    pub(super) by: String,
    pub(super) to: String,
    pub(super) agreements: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "agreements.html")]
pub(super) struct AgreementsPage {
    layout: Layout,
    id: String,
    name: String,
    open: bool,
    may_change: bool,
    pub(super) agreements: Vec<AgreementView>,
    new_who: Vec<Choice>,
    new_partner: String,
    new_what: String,
    new_by_when: String,
    new_error: Option<String>,
    pub(super) parents_text: String,
    pub(super) parents_error: Option<String>,
    pub(super) student_email: String,
    pub(super) student_error: Option<String>,
    pub(super) recipients: Vec<Recipient>,
    mail_configured: bool,
    pub(super) send_error: Option<String>,
    pub(super) notice: Option<String>,
    mailings: Vec<MailingView>,
}

impl AgreementsPage {
    /// The error summary at the top: each refusal linked to its form.
    fn summary(&self) -> Vec<ErrorLink> {
        let mut links: Vec<ErrorLink> = self
            .agreements
            .iter()
            .filter_map(|a| {
                a.check_error.as_ref().map(|e| {
                    ErrorLink::new(
                        Some(format!("k{}-datum", a.index)),
                        format!("Controle van afspraak {}: {e}", a.number),
                    )
                })
            })
            .collect();
        let mut add = |id: &str, e: &Option<String>| {
            if let Some(e) = e {
                links.push(ErrorLink::new(Some(id.to_owned()), e.clone()));
            }
        };
        add("n-wat", &self.new_error);
        add("o-adressen", &self.parents_error);
        add("o-leerling", &self.student_error);
        add("versturen", &self.send_error);
        links
    }
}

/// A partner user's address for mail, if the partner's account still
/// exists, is active and has one.
pub(super) struct PartnerAddress {
    pub(super) address: String,
    pub(super) name: String,
    role: Role,
}

pub(super) async fn partner_addresses(
    state: &AppState,
    case: &Case,
) -> Result<Vec<PartnerAddress>, PageError> {
    let mut out = Vec::new();
    for inv in case.involved.iter().filter(|i| i.is_active()) {
        // The account the involvement is of, not whoever has the name now.
        let account = state
            .store
            .user(&inv.user)
            .await?
            .filter(|u| inv.is_of(&u.identity()));
        if let Some(u) = account {
            if let Some(e) = u.email.filter(|e| u.active && mail::valid_address(e)) {
                out.push(PartnerAddress {
                    address: e,
                    name: u.display_name,
                    role: u.role,
                });
            }
        }
    }
    Ok(out)
}

/// The agreements page for `case` (redacted for the viewer).
async fn agreements_page(
    state: &AppState,
    user: &CurrentUser,
    student: &Student,
    case: &Case,
) -> Result<AgreementsPage, PageError> {
    let may_change = user.may_for(Permission::ChangeCase, student);
    let names = mentor_names(state).await?;
    let names = &*names;
    let agreements = agreement_views(case, state.clock.today());
    let mut recipients: Vec<Recipient> = case
        .parent_emails
        .iter()
        .map(|e| Recipient {
            address: e.clone(),
            label: format!("{e} (ouders)"),
            checked: true,
        })
        .collect();
    if let Some(e) = &case.student_email {
        recipients.push(Recipient {
            address: e.clone(),
            label: format!("{e} (leerling)"),
            checked: true,
        });
    }
    let mut mail_configured = false;
    if may_change {
        for p in partner_addresses(state, case).await? {
            recipients.push(Recipient {
                label: format!("{} ({}, {})", p.address, p.name, p.role.label_nl()),
                address: p.address,
                checked: true,
            });
        }
        mail_configured = mail::load(state).await?.is_some_and(|s| s.is_configured());
    }
    let mailings = case
        .mailings
        .iter()
        .map(|m| MailingView {
            on: date_nl(m.on),
            by: who_did(names, &m.by),
            to: m.to.join(", "),
            agreements: m
                .agreements
                .iter()
                .map(|i| (i + 1).to_string())
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    Ok(AgreementsPage {
        layout: Layout::new(user, section::DOSSIERS, "Afspraken"),
        id: student.id.as_str().to_owned(),
        name: student.name.clone(),
        open: case.is_open(),
        may_change,
        agreements,
        new_who: who_choices("leerling"),
        new_partner: String::new(),
        new_what: String::new(),
        new_by_when: String::new(),
        new_error: None,
        parents_text: case.parent_emails.join("\n"),
        parents_error: None,
        student_email: case.student_email.clone().unwrap_or_default(),
        student_error: None,
        recipients,
        mail_configured,
        send_error: None,
        notice: None,
        mailings,
    })
}

pub(super) async fn agreements_show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<Pairs>,
) -> Result<Response, PageError> {
    let (student, case) = dossier::load(&state, &user, &id, "dossier: afspraken").await?;
    let sent = match q.iter().find(|(k, _)| k == "verstuurd") {
        Some((_, n)) => Some(n.trim().parse::<usize>().map_err(|_| PageError::NotFound)?),
        None => None,
    };
    let saved = q.iter().any(|(k, _)| k == "opgeslagen");
    let Some(case) = case else {
        return Ok(no_case(&user, &student));
    };
    let mut page = agreements_page(&state, &user, &student, &case).await?;
    page.notice = match (sent, saved) {
        (Some(n), _) => Some(sent_notice(n)),
        (None, true) => Some("Opgeslagen.".to_owned()),
        (None, false) => None,
    };
    Ok(page.into_response())
}

/// Re-renders the agreements page after a refused form; `fill` sets the
/// form's values and message.
pub(super) async fn agreements_refused(
    state: &AppState,
    user: &CurrentUser,
    student: &Student,
    case: &Case,
    status: StatusCode,
    fill: impl FnOnce(&mut AgreementsPage),
) -> Result<Response, PageError> {
    user.audit(
        state,
        AuditAction::Read,
        Some(&student.id),
        "dossier: afspraken",
    )
    .await?;
    let mut page = agreements_page(state, user, student, &dossier::seen_by(user, case)).await?;
    fill(&mut page);
    Ok((status, page).into_response())
}

pub(super) fn sent_notice(n: usize) -> String {
    if n == 1 {
        "De afspraken zijn naar 1 adres verstuurd.".to_owned()
    } else {
        format!("De afspraken zijn naar {n} adressen verstuurd.")
    }
}

pub(super) fn back_to_agreements(id: &str) -> Response {
    Redirect::to(&format!(
        "{}/dossier/afspraken?opgeslagen=1",
        crate::paths::student_str(id)
    ))
    .into_response()
}

/// Checks one agreement's fields as typed: who (and the partner's name),
/// what (required, at most 1000 characters) and by when (empty, or a date
/// not before `earliest`, with the message to give when it is). Returns the
/// party, the date and the problems in Dutch.
pub(super) fn agreement_fields(
    who: &str,
    partner: &str,
    what: &str,
    by_when: &str,
    earliest: Option<(NaiveDate, &str)>,
) -> (Option<AgreementParty>, Option<NaiveDate>, Vec<String>) {
    let mut problems = Vec::new();
    if what.is_empty() {
        problems.push("Omschrijf wat er is afgesproken.".to_owned());
    } else if what.chars().count() > 1000 {
        problems.push("De afspraak is te lang (hoogstens 1000 tekens).".to_owned());
    }
    let party = agreement_party(who, partner)
        .map_err(|e| problems.push(e))
        .ok();
    let by_when = match by_when {
        "" => None,
        s => match parse_date(s) {
            Some(d) if earliest.is_some_and(|(e, _)| d < e) => {
                if let Some((_, message)) = earliest {
                    problems.push(message.to_owned());
                }
                None
            }
            Some(d) => Some(d),
            None => {
                problems.push("Vul een geldige datum in, of laat hem leeg.".into());
                None
            }
        },
    };
    (party, by_when, problems)
}

pub(super) async fn agreement_add(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(pairs): Form<Pairs>,
) -> Result<Response, PageError> {
    let (student, case) = match open_case_for_change(&state, &user, &id).await? {
        Ok(x) => x,
        Err(page) => return Ok(page),
    };
    let today = state.clock.today();
    let who = value(&pairs, "wie");
    let partner = value(&pairs, "partner");
    let what = value(&pairs, "wat").trim();
    let by_when_text = value(&pairs, "tot").trim();
    let (party, by_when, problems) = agreement_fields(
        who,
        partner,
        what,
        by_when_text,
        Some((today, "De datum bij \"Uiterlijk\" ligt in het verleden.")),
    );
    let outcome = match party {
        Some(who) if problems.is_empty() => {
            let agreement = Agreement {
                who,
                what: what.to_owned(),
                made_on: today,
                by_when,
                contact: None,
                kept: Vec::new(),
            };
            // Tried on the case as read, so that a refusal keeps the form.
            case.clone()
                .add_agreement(agreement.clone())
                .map(|_| agreement)
                .map_err(|e| format!("Niet opgeslagen: {e}."))
        }
        _ => Err(problems.join(" ")),
    };
    match outcome {
        Ok(agreement) => {
            dossier::update(&state, &user, &id, None, |_, case| {
                let i = still_open(case)?
                    .add_agreement(agreement)
                    .map_err(|e| PageError::Conflict(format!("Niet opgeslagen: {e}.")))?;
                Ok((format!("dossier: afspraak {} vastgelegd", i + 1), ()))
            })
            .await?;
            Ok(back_to_agreements(&id))
        }
        Err(message) => {
            let (who, partner, what, by_when_text) = (
                who.to_owned(),
                partner.to_owned(),
                what.to_owned(),
                by_when_text.to_owned(),
            );
            agreements_refused(
                &state,
                &user,
                &student,
                &case,
                StatusCode::UNPROCESSABLE_ENTITY,
                |p| {
                    p.new_who = who_choices(&who);
                    p.new_partner = partner;
                    p.new_what = what;
                    p.new_by_when = by_when_text;
                    p.new_error = Some(message);
                },
            )
            .await
        }
    }
}

pub(super) async fn agreement_check(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, n)): Path<(String, String)>,
    Form(pairs): Form<Pairs>,
) -> Result<Response, PageError> {
    let (student, case) = match open_case_for_change(&state, &user, &id).await? {
        Ok(x) => x,
        Err(page) => return Ok(page),
    };
    let n = index_from(&n)?;
    if n >= case.agreements.len() {
        return Err(PageError::NotFound);
    }
    let today = state.clock.today();
    let date_text = value(&pairs, "datum").trim().to_owned();
    let kept_text = value(&pairs, "gehouden").to_owned();
    let note = value(&pairs, "notitie").trim().to_owned();
    let mut problems = Vec::new();
    let on = match parse_date(&date_text) {
        Some(d) if d > today => {
            problems.push("De datum ligt in de toekomst.".to_owned());
            None
        }
        Some(d) => Some(d),
        None => {
            problems.push("Vul een geldige datum in.".to_owned());
            None
        }
    };
    let kept = match kept_text.as_str() {
        "ja" => Some(true),
        "nee" => Some(false),
        _ => {
            problems.push("Kies of de afspraak is nagekomen.".to_owned());
            None
        }
    };
    if note.chars().count() > 1000 {
        problems.push("De notitie is te lang (hoogstens 1000 tekens).".to_owned());
    }
    let outcome = match (on, kept) {
        (Some(on), Some(kept)) if problems.is_empty() => {
            let check = WeeklyCheck {
                on,
                kept,
                note: note.clone(),
            };
            // Tried on the case as read, so that a refusal keeps the form.
            case.clone()
                .check_agreement(n, check.clone())
                .map(|()| check)
                .map_err(|e| format!("Niet opgeslagen: {e}."))
        }
        _ => Err(problems.join(" ")),
    };
    match outcome {
        Ok(check) => {
            let detail = format!(
                "dossier: wekelijkse controle van afspraak {}: {}",
                n + 1,
                if check.kept {
                    "nagekomen"
                } else {
                    "niet nagekomen"
                }
            );
            dossier::update(&state, &user, &id, None, |_, case| {
                still_open(case)?
                    .check_agreement(n, check)
                    .map_err(|e| PageError::Conflict(format!("Niet opgeslagen: {e}.")))?;
                Ok((detail, ()))
            })
            .await?;
            Ok(back_to_agreements(&id))
        }
        Err(message) => {
            agreements_refused(
                &state,
                &user,
                &student,
                &case,
                StatusCode::UNPROCESSABLE_ENTITY,
                |p| {
                    if let Some(a) = p.agreements.get_mut(n) {
                        a.check_date = date_text;
                        a.check_kept = kept_text;
                        a.check_note = note;
                        a.check_error = Some(message);
                    }
                },
            )
            .await
        }
    }
}
