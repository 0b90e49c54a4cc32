//! Contact moments with the conversation guides, agreements with their weekly checks, sharing agreements by e-mail, and the printable dossier report.
//!
//! Routes (all under one student's dossier):
//! - `GET|POST /leerlingen/{id}/dossier/contact/nieuw?leidraad=A|B|C`: record
//!   a contact moment, with the guide's questions and up to three
//!   agreements made in it.
//! - `GET /leerlingen/{id}/dossier/contact/{n}`: one contact moment
//!   (counted from 1).
//! - `GET|POST /leerlingen/{id}/dossier/afspraken`: the agreements with
//!   their weekly checks; a new agreement.
//! - `POST /leerlingen/{id}/dossier/afspraken/{n}/controle`: a weekly check
//!   of agreement `n` (counted from 1).
//! - `POST /leerlingen/{id}/dossier/ouders`: the parents' e-mail addresses
//!   and the student's own.
//! - `POST /leerlingen/{id}/dossier/afspraken/versturen`: e-mail agreements
//!   to parents, the student and involved partners, one message per
//!   address.
//! - `GET /leerlingen/{id}/dossier/verslag`: the printable report (audited
//!   as an export).
//!
//! Reading goes through [`dossier::load`] (scope, audit, redaction for the
//! role); a form is first checked against the case as read (so that a
//! refusal can show the form again with what was typed), then the change is
//! made through [`dossier::update`], which applies it to the stored case
//! under the app's case lock. Forms and queries arrive as name/value pairs
//! (checkboxes repeat their names; a bad query never gets axum's English
//! rejection).

use std::collections::{HashMap, HashSet};

use aanwezig_domain::case::{
    Agreement, AgreementParty, Answer, CaseError, ContactKind, ContactMoment, Guide, Mailing,
    Party, WeeklyCheck,
};
use aanwezig_domain::explain::{counted_nl, date_nl};
use aanwezig_domain::{Case, Role, Student};
use aanwezig_storage::{AuditAction, DocumentKind};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::NaiveDate;

use super::students::{mentor_label, mentor_names};
use crate::auth::CurrentUser;
use crate::dossier;
use crate::error::PageError;
use crate::layout::{section, ErrorLink, Layout};
use crate::mail::{self, Outgoing};
use crate::state::AppState;

/// A submitted form as name/value pairs, in order.
type Pairs = Vec<(String, String)>;

/// How many agreements the contact form offers.
const AGREEMENT_ROWS: usize = 3;
/// The longest free text we keep in one field.
const MAX_TEXT: usize = 5000;
/// The most parents' addresses on one case.
const MAX_PARENT_EMAILS: usize = 10;

fn value<'a>(pairs: &'a Pairs, name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

fn values<'a>(pairs: &'a Pairs, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    pairs
        .iter()
        .filter(move |(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

/// A number from an address, counted from 1, as an index counted from 0;
/// anything else is `NotFound` (the Dutch 404 page).
fn index_from(n: &str) -> Result<usize, PageError> {
    match n.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n - 1),
        _ => Err(PageError::NotFound),
    }
}

/// The stored case inside [`dossier::update`], if it is still open.
fn still_open(case: &mut Option<Case>) -> Result<&mut Case, PageError> {
    match case.as_mut() {
        Some(c) if c.is_open() => Ok(c),
        _ => Err(PageError::Conflict(
            "Het dossier is intussen gesloten; er is niets opgeslagen.".into(),
        )),
    }
}

fn too_long(s: &str) -> bool {
    s.chars().count() > MAX_TEXT
}

/// Who did something, by display name where the user is known.
fn who_did(names: &HashMap<String, String>, a: &aanwezig_domain::case::Actor) -> String {
    format!("{} ({})", mentor_label(names, &a.user), a.role.label_nl())
}

fn first_name(student: &Student) -> &str {
    student
        .name
        .split_whitespace()
        .next()
        .unwrap_or("de leerling")
}

// --- no open case ------------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "contact_nocase.html")]
struct NoCasePage {
    layout: Layout,
    id: String,
    name: String,
    message: String,
}

/// The page for a change that needs an open case when there is none.
fn no_open_case(user: &CurrentUser, student: &Student, case: Option<&Case>) -> Response {
    let message = match case {
        None => "Er is nog geen dossier voor deze leerling. Open eerst een dossier; daarna kunt u contactmomenten en afspraken vastleggen.",
        Some(_) => "Het dossier van deze leerling is gesloten. Heropen het dossier eerst; daarna kunt u contactmomenten en afspraken vastleggen.",
    };
    let page = NoCasePage {
        layout: Layout::new(user, section::DOSSIERS, "Geen open dossier"),
        id: student.id.as_str().to_owned(),
        name: student.name.clone(),
        message: message.to_owned(),
    };
    (StatusCode::CONFLICT, page).into_response()
}

/// The page shown when a student has no case at all (reading pages).
fn no_case(user: &CurrentUser, student: &Student) -> Response {
    NoCasePage {
        layout: Layout::new(user, section::DOSSIERS, "Geen dossier"),
        id: student.id.as_str().to_owned(),
        name: student.name.clone(),
        message: "Er is geen dossier voor deze leerling.".to_owned(),
    }
    .into_response()
}

// --- choices -------------------------------------------------------------------

/// The participants the contact form offers, with their form values.
fn parties() -> Vec<(&'static str, Party)> {
    Party::CHOICES.to_vec()
}

const KINDS: [(&str, ContactKind); 3] = [
    ("telefoon", ContactKind::Telefoon),
    ("gesprek_op_school", ContactKind::GesprekOpSchool),
    ("online", ContactKind::Online),
];

const WHO: [(&str, &str); 4] = [
    ("leerling", "leerling"),
    ("ouders", "ouders"),
    ("school", "school"),
    ("partner", "partner (naam hieronder)"),
];

/// A checkbox, radio button or option.
struct Choice {
    value: String,
    label: String,
    checked: bool,
}

fn who_choices(selected: &str) -> Vec<Choice> {
    WHO.iter()
        .map(|(v, l)| Choice {
            value: (*v).to_owned(),
            label: (*l).to_owned(),
            checked: *v == selected,
        })
        .collect()
}

fn guide_value(g: Option<Guide>) -> &'static str {
    match g {
        None => "",
        Some(Guide::A) => "A",
        Some(Guide::B) => "B",
        Some(Guide::C) => "C",
    }
}

fn parse_guide(s: &str) -> Result<Option<Guide>, PageError> {
    match s.trim() {
        "" => Ok(None),
        "A" | "a" => Ok(Some(Guide::A)),
        "B" | "b" => Ok(Some(Guide::B)),
        "C" | "c" => Ok(Some(Guide::C)),
        _ => Err(PageError::BadRequest(
            "Deze gespreksleidraad bestaat niet: kies A, B of C, of geen leidraad.".into(),
        )),
    }
}

/// An agreement's party from the form's `wie` and partner name.
fn agreement_party(who: &str, partner: &str) -> Result<AgreementParty, String> {
    match who {
        "leerling" => Ok(AgreementParty::Student),
        "ouders" => Ok(AgreementParty::Parents),
        "school" => Ok(AgreementParty::School),
        "partner" => {
            let p = partner.trim();
            if p.is_empty() {
                Err("Vul de naam van de partner in.".into())
            } else if p.chars().count() > 100 {
                Err("De naam van de partner is te lang (hoogstens 100 tekens).".into())
            } else {
                Ok(AgreementParty::Partner(p.to_owned()))
            }
        }
        _ => Err("Kies voor wie de afspraak is.".into()),
    }
}

// --- the contact form ------------------------------------------------------------

struct QuestionView {
    key: &'static str,
    text: &'static str,
    hint: Option<&'static str>,
    /// The hint warns about asking after an illness.
    warn: bool,
    value: String,
}

struct AgreementRow {
    n: usize,
    who: Vec<Choice>,
    partner: String,
    what: String,
    by_when: String,
    error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "contact_form.html")]
struct ContactFormPage {
    layout: Layout,
    id: String,
    name: String,
    guide: &'static str,
    guide_label: Option<&'static str>,
    /// The "don't ask about the illness" warning above the questions.
    warn_illness: bool,
    guides: Vec<(&'static str, &'static str)>,
    date: String,
    kinds: Vec<Choice>,
    minutes: String,
    participants: Vec<Choice>,
    other: String,
    questions: Vec<QuestionView>,
    note: String,
    agreements: Vec<AgreementRow>,
    errors: Vec<(String, String)>,
}

impl ContactFormPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    /// The error summary above the form: each message linked to its field.
    fn summary(&self) -> Vec<ErrorLink> {
        self.errors
            .iter()
            .map(|(field, message)| {
                let (target, message) = match field.as_str() {
                    "datum" => (Some("c-datum".to_owned()), message.clone()),
                    "soort" => (Some("c-soort".to_owned()), message.clone()),
                    "minuten" => (Some("c-minuten".to_owned()), message.clone()),
                    "deelnemer" => (Some("c-deelnemer".to_owned()), message.clone()),
                    "notitie" => (Some("c-notitie".to_owned()), message.clone()),
                    f => {
                        if let Some(key) = f.strip_prefix("antwoord_") {
                            let question = self
                                .questions
                                .iter()
                                .find(|q| q.key == key)
                                .map_or(key, |q| q.text);
                            (Some(format!("c-{key}")), format!("{question} {message}"))
                        } else if let Some(n) = f.strip_prefix("afspraak") {
                            (
                                Some(format!("a{n}-wat")),
                                format!("Afspraak {n}: {message}"),
                            )
                        } else {
                            (None, message.clone())
                        }
                    }
                };
                ErrorLink::new(target, message)
            })
            .collect()
    }
}

/// Whether the form warns not to ask after (or write down) the nature of
/// an illness above the guide's questions: with every guide. The note
/// field carries the warning always.
fn illness_warning(guide: Option<Guide>) -> bool {
    guide.is_some()
}

fn warns(hint: Option<&str>) -> bool {
    hint.is_some_and(|h| h.to_lowercase().contains("aard van de ziekte"))
}

/// The form, empty (with defaults for the guide) or as submitted.
fn contact_form(
    user: &CurrentUser,
    student: &Student,
    guide: Option<Guide>,
    today: NaiveDate,
    submitted: Option<&Pairs>,
) -> ContactFormPage {
    let get = |name: &str| submitted.map(|p| value(p, name).to_owned());
    let default_parties: &[&str] = match guide {
        Some(Guide::A) => &["ouders", "school"],
        Some(Guide::B) => &["leerling", "school"],
        Some(Guide::C) => &["leerling", "ouders", "school"],
        None => &["school"],
    };
    let chosen: Vec<String> = match submitted {
        Some(p) => values(p, "deelnemer").map(str::to_owned).collect(),
        None => default_parties.iter().map(|s| (*s).to_owned()).collect(),
    };
    let kind = get("soort").unwrap_or_else(|| {
        if guide == Some(Guide::A) {
            "telefoon".into()
        } else {
            "gesprek_op_school".into()
        }
    });
    let questions = guide
        .map(|g| {
            g.questions()
                .iter()
                .map(|q| QuestionView {
                    key: q.key,
                    text: q.text_nl,
                    hint: q.hint_nl,
                    warn: warns(q.hint_nl),
                    value: get(&format!("antwoord_{}", q.key)).unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default();
    let agreements = (1..=AGREEMENT_ROWS)
        .map(|n| AgreementRow {
            n,
            who: who_choices(
                &get(&format!("afspraak{n}_wie")).unwrap_or_else(|| "leerling".into()),
            ),
            partner: get(&format!("afspraak{n}_partner")).unwrap_or_default(),
            what: get(&format!("afspraak{n}_wat")).unwrap_or_default(),
            by_when: get(&format!("afspraak{n}_tot")).unwrap_or_default(),
            error: None,
        })
        .collect();
    let title = match guide {
        Some(g) => format!("Contactmoment met leidraad {}", guide_value(Some(g))),
        None => "Contactmoment vastleggen".to_owned(),
    };
    ContactFormPage {
        layout: Layout::new(user, section::DOSSIERS, title),
        id: student.id.as_str().to_owned(),
        name: student.name.clone(),
        guide: guide_value(guide),
        guide_label: guide.map(Guide::label_nl),
        warn_illness: illness_warning(guide),
        guides: Guide::ALL
            .into_iter()
            .map(|g| (guide_value(Some(g)), g.label_nl()))
            .collect(),
        date: get("datum").unwrap_or_else(|| today.to_string()),
        kinds: KINDS
            .iter()
            .map(|(v, k)| Choice {
                value: (*v).to_owned(),
                label: k.label_nl().to_owned(),
                checked: *v == kind,
            })
            .collect(),
        minutes: get("minuten").unwrap_or_default(),
        participants: parties()
            .into_iter()
            .map(|(v, p)| Choice {
                value: v.to_owned(),
                label: p.label_nl().to_owned(),
                checked: chosen.iter().any(|c| c == v),
            })
            .collect(),
        other: get("anders").unwrap_or_default(),
        questions,
        note: get("notitie").unwrap_or_default(),
        agreements,
        errors: Vec::new(),
    }
}

/// Loads the case for a change and checks it is open; `Err(Response)` is
/// the page to answer with.
async fn open_case_for_change(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
) -> Result<Result<(Student, Case), Response>, PageError> {
    let (student, case) = dossier::load_for_change(state, user, id).await?;
    match case.map(|(c, _)| c) {
        Some(c) if c.is_open() => Ok(Ok((student, c))),
        other => Ok(Err(no_open_case(user, &student, other.as_ref()))),
    }
}

async fn contact_new(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<Pairs>,
) -> Result<Response, PageError> {
    let (student, _case) = match open_case_for_change(&state, &user, &id).await? {
        Ok(x) => x,
        Err(page) => return Ok(page),
    };
    let guide = parse_guide(value(&q, "leidraad"))?;
    user.audit(
        &state,
        AuditAction::Read,
        Some(&student.id),
        "dossier: formulier contactmoment",
    )
    .await?;
    let today = state.clock.today();
    Ok(contact_form(&user, &student, guide, today, None).into_response())
}

/// A checked contact form: the contact and its agreements.
#[derive(Clone)]
struct CheckedContact {
    contact: ContactMoment,
    agreements: Vec<Agreement>,
}

fn check_contact(
    pairs: &Pairs,
    guide: Option<Guide>,
    today: NaiveDate,
    user: &CurrentUser,
    page: &mut ContactFormPage,
) -> Option<CheckedContact> {
    let mut errors: Vec<(String, String)> = Vec::new();
    let mut err = |f: &str, m: &str| errors.push((f.to_owned(), m.to_owned()));
    let on = match parse_date(value(pairs, "datum")) {
        None => {
            err("datum", "Vul een geldige datum in.");
            None
        }
        Some(d) if d > today => {
            err(
                "datum",
                "De datum ligt in de toekomst: leg een contactmoment vast als het heeft plaatsgevonden.",
            );
            None
        }
        Some(d) => Some(d),
    };
    let kind = KINDS
        .iter()
        .find(|(v, _)| *v == value(pairs, "soort"))
        .map(|(_, k)| *k);
    if kind.is_none() {
        err("soort", "Kies hoe het contact plaatsvond.");
    }
    let minutes = match value(pairs, "minuten").trim() {
        "" => None,
        m => match m.parse::<u16>() {
            Ok(n) if (1..=720).contains(&n) => Some(n),
            _ => {
                err(
                    "minuten",
                    "Vul de duur in als heel aantal minuten (1 tot 720), of laat het leeg.",
                );
                None
            }
        },
    };
    let known = parties();
    let mut participants = Vec::new();
    for v in values(pairs, "deelnemer") {
        match known.iter().find(|(k, _)| *k == v) {
            Some((_, p)) if !participants.contains(p) => participants.push(p.clone()),
            Some(_) => {}
            None => err("deelnemer", "Kies deelnemers uit de lijst."),
        }
    }
    let other = value(pairs, "anders").trim();
    if other.chars().count() > 100 {
        err(
            "deelnemer",
            "De naam bij 'anders' is te lang (hoogstens 100 tekens).",
        );
    } else if !other.is_empty() {
        participants.push(Party::Other(other.to_owned()));
    }
    if participants.is_empty() {
        err("deelnemer", "Kies wie er aan het contact deelnamen.");
    }
    let mut answers = Vec::new();
    for (k, v) in pairs {
        let Some(key) = k.strip_prefix("antwoord_") else {
            continue;
        };
        match guide {
            None => err(
                "algemeen",
                "Antwoorden horen bij een gespreksleidraad: kies eerst leidraad A, B of C.",
            ),
            Some(g) if g.question(key).is_none() => err(
                "algemeen",
                &format!(
                    "Deze vraag hoort niet bij leidraad {}. Vul de antwoorden in bij de vragen van het formulier.",
                    guide_value(Some(g))
                ),
            ),
            Some(_) if too_long(v) => err(
                &format!("antwoord_{key}"),
                "Dit antwoord is te lang (hoogstens 5000 tekens).",
            ),
            Some(_) if !v.trim().is_empty() => answers.push(Answer {
                key: key.to_owned(),
                text: v.trim().to_owned(),
            }),
            Some(_) => {}
        }
    }
    let note = value(pairs, "notitie").trim();
    if too_long(note) {
        err("notitie", "De notitie is te lang (hoogstens 5000 tekens).");
    }
    let mut agreements = Vec::new();
    for row in &mut page.agreements {
        let n = row.n;
        let who = value(pairs, &format!("afspraak{n}_wie"));
        let partner = value(pairs, &format!("afspraak{n}_partner"));
        let what = value(pairs, &format!("afspraak{n}_wat")).trim();
        let by_when = value(pairs, &format!("afspraak{n}_tot")).trim();
        if what.is_empty() && by_when.is_empty() && partner.trim().is_empty() {
            continue;
        }
        let (party, by_when, problems) = agreement_fields(
            who,
            partner,
            what,
            by_when,
            on.map(|on| {
                (
                    on,
                    "De datum bij \"Uiterlijk\" ligt vóór de datum van het contact.",
                )
            }),
        );
        if !problems.is_empty() {
            row.error = Some(problems.join(" "));
            errors.push((format!("afspraak{n}"), problems.join(" ")));
            continue;
        }
        if let (Some(who), Some(on)) = (party, on) {
            agreements.push(Agreement {
                who,
                what: what.to_owned(),
                made_on: on,
                by_when,
                contact: None,
                kept: Vec::new(),
            });
        }
    }
    page.errors = errors;
    if !page.errors.is_empty() {
        return None;
    }
    Some(CheckedContact {
        contact: ContactMoment {
            on: on?,
            kind: kind?,
            minutes,
            participants,
            by: dossier::actor(user),
            guide,
            answers,
            note: note.to_owned(),
        },
        agreements,
    })
}

/// Adds a checked contact and its agreements to `case`: the contact's
/// index.
fn add_contact(case: &mut Case, checked: CheckedContact) -> Result<usize, CaseError> {
    let index = case.add_contact(checked.contact)?;
    for mut a in checked.agreements {
        a.contact = Some(index);
        case.add_agreement(a)?;
    }
    Ok(index)
}

async fn contact_save(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<Pairs>,
    Form(pairs): Form<Pairs>,
) -> Result<Response, PageError> {
    let (student, case) = match open_case_for_change(&state, &user, &id).await? {
        Ok(x) => x,
        Err(page) => return Ok(page),
    };
    // The guide travels in the form; the address's query is the fallback.
    let guide_field = pairs
        .iter()
        .find(|(k, _)| k == "leidraad")
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| value(&q, "leidraad"));
    let guide = parse_guide(guide_field)?;
    let today = state.clock.today();
    let mut page = contact_form(&user, &student, guide, today, Some(&pairs));
    let Some(checked) = check_contact(&pairs, guide, today, &user, &mut page) else {
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    // Tried on the case as read first, so that a refusal keeps the form.
    let mut trial = case;
    if let Err(e) = add_contact(&mut trial, checked.clone()) {
        page.errors
            .push(("algemeen".into(), format!("Niet opgeslagen: {e}.")));
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let count = checked.agreements.len();
    let guide_text = match guide {
        Some(g) => format!(" (leidraad {})", guide_value(Some(g))),
        None => String::new(),
    };
    let index = dossier::update(&state, &user, &id, None, |_, case| {
        let index = add_contact(still_open(case)?, checked)
            .map_err(|e| PageError::Conflict(format!("Niet opgeslagen: {e}.")))?;
        Ok((
            format!(
                "dossier: contactmoment {} vastgelegd{guide_text}, {}",
                index + 1,
                counted_nl(count as u64, "afspraak", "afspraken")
            ),
            index,
        ))
    })
    .await?;
    Ok(Redirect::to(&format!(
        "{}/dossier/contact/{}?opgeslagen=1",
        crate::paths::student_str(&id),
        index + 1
    ))
    .into_response())
}

// --- one contact moment ----------------------------------------------------------

struct QaView {
    question: String,
    answer: String,
}

struct ContactView {
    number: usize,
    on: String,
    kind: &'static str,
    minutes: String,
    participants: String,
    by: String,
    guide: Option<&'static str>,
    answers: Vec<QaView>,
    note: String,
    /// False: the conversation is not shared with this role.
    shared: bool,
}

fn contact_view(
    names: &HashMap<String, String>,
    index: usize,
    c: &ContactMoment,
    shared: bool,
) -> ContactView {
    let answers = match c.guide {
        Some(g) => g
            .questions()
            .iter()
            .map(|q| QaView {
                question: q.text_nl.to_owned(),
                answer: c
                    .answers
                    .iter()
                    .find(|a| a.key == q.key)
                    .map(|a| a.text.clone())
                    .unwrap_or_default(),
            })
            .collect(),
        None => Vec::new(),
    };
    ContactView {
        number: index + 1,
        on: date_nl(c.on),
        kind: c.kind.label_nl(),
        minutes: match c.minutes {
            Some(m) => format!("{m} minuten"),
            None => String::new(),
        },
        participants: c
            .participants
            .iter()
            .map(Party::label_nl)
            .collect::<Vec<_>>()
            .join(", "),
        by: who_did(names, &c.by),
        guide: c.guide.map(Guide::label_nl),
        answers,
        note: c.note.clone(),
        shared,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "contact.html")]
struct ContactPage {
    layout: Layout,
    id: String,
    name: String,
    contact: ContactView,
    agreements: Vec<AgreementView>,
    /// Just saved: the confirmation.
    saved: bool,
}

async fn contact_show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, n)): Path<(String, String)>,
    Query(q): Query<Pairs>,
) -> Result<Response, PageError> {
    let n = index_from(&n);
    let what = match &n {
        Ok(i) => format!("dossier: contactmoment {}", i + 1),
        Err(_) => "dossier: contactmoment (onbekend nummer)".to_owned(),
    };
    let (student, case) = dossier::load(&state, &user, &id, &what).await?;
    let n = n?;
    let case = case.ok_or(PageError::NotFound)?;
    let c = case.contacts.get(n).ok_or(PageError::NotFound)?;
    let shared = !user.role().is_external();
    let names = mentor_names(&state).await?;
    let agreements = agreement_views(&case, state.clock.today())
        .into_iter()
        .filter(|a| a.contact == Some(n))
        .collect();
    Ok(ContactPage {
        layout: Layout::new(&user, section::DOSSIERS, format!("Contactmoment {}", n + 1)),
        id: student.id.as_str().to_owned(),
        name: student.name.clone(),
        contact: contact_view(&names, n, c, shared),
        agreements,
        saved: !value(&q, "opgeslagen").is_empty(),
    }
    .into_response())
}

// --- agreements ------------------------------------------------------------------

struct CheckView {
    on: String,
    kept: bool,
    note: String,
}

struct AgreementView {
    index: usize,
    number: usize,
    who: String,
    what: String,
    by_when: String,
    made_on: String,
    contact: Option<usize>,
    contact_number: usize,
    checks: Vec<CheckView>,
    sent: bool,
    /// The weekly check form's values and message.
    check_date: String,
    check_kept: String,
    check_note: String,
    check_error: Option<String>,
}

fn agreement_views(case: &Case, today: NaiveDate) -> Vec<AgreementView> {
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

struct Recipient {
    address: String,
    label: String,
    checked: bool,
}

struct MailingView {
    on: String,
    by: String,
    to: String,
    agreements: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "agreements.html")]
struct AgreementsPage {
    layout: Layout,
    id: String,
    name: String,
    open: bool,
    may_change: bool,
    agreements: Vec<AgreementView>,
    new_who: Vec<Choice>,
    new_partner: String,
    new_what: String,
    new_by_when: String,
    new_error: Option<String>,
    parents_text: String,
    parents_error: Option<String>,
    student_email: String,
    student_error: Option<String>,
    recipients: Vec<Recipient>,
    mail_configured: bool,
    send_error: Option<String>,
    notice: Option<String>,
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
struct PartnerAddress {
    address: String,
    name: String,
    role: Role,
}

async fn partner_addresses(
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
    let may_change = dossier::may_change_cases(user.role());
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

async fn agreements_show(
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
async fn agreements_refused(
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

fn sent_notice(n: usize) -> String {
    if n == 1 {
        "De afspraken zijn naar 1 adres verstuurd.".to_owned()
    } else {
        format!("De afspraken zijn naar {n} adressen verstuurd.")
    }
}

fn back_to_agreements(id: &str) -> Response {
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
fn agreement_fields(
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

async fn agreement_add(
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

async fn agreement_check(
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

/// Checks the parents' addresses, one per line: the addresses, or the
/// message naming each bad line.
fn check_parent_emails(text: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    let mut bad = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if !mail::valid_address(line) {
            bad.push(format!("regel {}: '{line}'", i + 1));
        } else if !out.iter().any(|e| e.eq_ignore_ascii_case(line)) {
            out.push(line.to_owned());
        }
    }
    if !bad.is_empty() {
        return Err(format!(
            "Niet opgeslagen: dit is geen geldig e-mailadres ({}). Zet één adres per regel, zoals naam@voorbeeld.nl.",
            bad.join("; ")
        ));
    }
    if out.len() > MAX_PARENT_EMAILS {
        return Err(format!(
            "Niet opgeslagen: hoogstens {MAX_PARENT_EMAILS} adressen."
        ));
    }
    Ok(out)
}

/// Checks the student's own address: `None` when left empty.
fn check_student_email(text: &str) -> Result<Option<String>, String> {
    match text.trim() {
        "" => Ok(None),
        e if mail::valid_address(e) => Ok(Some(e.to_owned())),
        e => Err(format!(
            "Niet opgeslagen: '{e}' is geen geldig e-mailadres. Vul één adres in, zoals naam@voorbeeld.nl, of laat het leeg."
        )),
    }
}

async fn parents_save(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(pairs): Form<Pairs>,
) -> Result<Response, PageError> {
    let (student, case) = match open_case_for_change(&state, &user, &id).await? {
        Ok(x) => x,
        Err(page) => return Ok(page),
    };
    let text = value(&pairs, "adressen").to_owned();
    // A form without the student's field (an older page) keeps the stored
    // address.
    let own_field = pairs.iter().any(|(k, _)| k == "leerling");
    let own_text = value(&pairs, "leerling").to_owned();
    match (check_parent_emails(&text), check_student_email(&own_text)) {
        (Ok(list), Ok(own)) => {
            let n = list.len();
            dossier::update(&state, &user, &id, None, |_, case| {
                let case = still_open(case)?;
                case.parent_emails = list;
                if own_field {
                    case.student_email = own;
                }
                let own = if case.student_email.is_some() {
                    ", adres van de leerling ingevuld"
                } else {
                    ""
                };
                Ok((
                    format!("dossier: e-mailadressen gewijzigd ({n} van de ouders{own})"),
                    (),
                ))
            })
            .await?;
            Ok(back_to_agreements(&id))
        }
        (parents, own) => {
            agreements_refused(
                &state,
                &user,
                &student,
                &case,
                StatusCode::UNPROCESSABLE_ENTITY,
                |p| {
                    p.parents_text = text;
                    p.parents_error = parents.err();
                    p.student_email = own_text;
                    p.student_error = own.err();
                },
            )
            .await
        }
    }
}

/// The school's name for the mails: the policy's, else the school settings
/// document's, else the sender's name.
async fn school_name(state: &AppState, fallback: &str) -> Result<String, PageError> {
    let from_policy = state.read()?.policy.school.trim().to_owned();
    if !from_policy.is_empty() {
        return Ok(from_policy);
    }
    if let Some(json) = state.store.settings(DocumentKind::School).await? {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&json) {
            for key in ["name", "naam", "school"] {
                if let Some(s) = v.get(key).and_then(|s| s.as_str()) {
                    if !s.trim().is_empty() {
                        return Ok(s.trim().to_owned());
                    }
                }
            }
        }
    }
    Ok(if fallback.trim().is_empty() {
        "school".to_owned()
    } else {
        fallback.trim().to_owned()
    })
}

/// The text of the agreements e-mail. Only the agreements themselves, the
/// school and whom to contact: no absence figures, no step, no
/// conversation, nothing about health.
fn agreements_mail(
    greeting: &str,
    first_name: &str,
    agreements: &[(usize, &Agreement)],
    sender: &CurrentUser,
    school: &str,
) -> String {
    let mut body = format!(
        "{greeting},\n\nHierbij de afspraken die we met elkaar hebben gemaakt over de aanwezigheid van {first_name} op school.\n\n"
    );
    for (i, (_, a)) in agreements.iter().enumerate() {
        body.push_str(&format!("{}. {}\n", i + 1, a.what));
        body.push_str(&format!("   Wie: {}\n", a.who.label_nl()));
        if let Some(d) = a.by_when {
            body.push_str(&format!("   Uiterlijk: {}\n", date_nl(d)));
        }
        body.push_str(&format!("   Afgesproken op: {}\n\n", date_nl(a.made_on)));
    }
    body.push_str("We kijken elke week samen hoe het gaat met deze afspraken.\n\n");
    let contact = match sender.user.email.as_deref() {
        Some(e) if !e.trim().is_empty() => format!("{} ({})", sender.user.display_name, e.trim()),
        _ => sender.user.display_name.clone(),
    };
    body.push_str(&format!(
        "Klopt er iets niet, of heeft u een vraag? Neem dan contact op met {contact}, {} van {school}. U kunt ook op deze e-mail antwoorden.\n\nMet vriendelijke groet,\n\n{}\n{school}\n",
        sender.role().label_nl(),
        sender.user.display_name,
    ));
    body
}

/// One address the agreements go to, with the mail's greeting.
struct Addressee {
    address: String,
    greeting: String,
}

async fn agreements_send(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(pairs): Form<Pairs>,
) -> Result<Response, PageError> {
    let (student, case) = match open_case_for_change(&state, &user, &id).await? {
        Ok(x) => x,
        Err(page) => return Ok(page),
    };
    let first = first_name(&student).to_owned();
    let mut problems = Vec::new();
    let mut chosen: Vec<usize> = Vec::new();
    for v in values(&pairs, "afspraak") {
        match v.parse::<usize>() {
            Ok(i) if i < case.agreements.len() => {
                if !chosen.contains(&i) {
                    chosen.push(i);
                }
            }
            _ => problems.push("Kies afspraken uit de lijst.".to_owned()),
        }
    }
    chosen.sort_unstable();
    if chosen.is_empty() && problems.is_empty() {
        problems.push("Kies welke afspraken u wilt versturen.".to_owned());
    }
    let partners = partner_addresses(&state, &case).await?;
    let mut to: Vec<Addressee> = Vec::new();
    let mut unknown = false;
    for v in values(&pairs, "aan") {
        let greeting = if case.parent_emails.iter().any(|e| e == v) {
            Some("Beste ouders of verzorgers".to_owned())
        } else if case.student_email.as_deref() == Some(v) {
            Some(format!("Beste {first}"))
        } else {
            partners
                .iter()
                .find(|p| p.address == v)
                .map(|p| format!("Beste {}", p.name))
        };
        match greeting {
            Some(greeting) if !to.iter().any(|a| a.address == v) => to.push(Addressee {
                address: v.to_owned(),
                greeting,
            }),
            Some(_) => {}
            None => {
                unknown = true;
                problems.push(format!(
                    "{v} staat niet bij de ouders, de leerling of de betrokken partners van dit dossier."
                ));
            }
        }
    }
    if to.is_empty() && !unknown {
        problems.push("Kies naar wie de afspraken gaan.".to_owned());
    }
    let keep_choices = |p: &mut AgreementsPage, chosen: &[usize], to: &[&str]| {
        for a in &mut p.agreements {
            a.sent = !chosen.contains(&a.index);
        }
        for r in &mut p.recipients {
            r.checked = to.contains(&r.address.as_str());
        }
    };
    let to_all: Vec<String> = to.iter().map(|a| a.address.clone()).collect();
    if !problems.is_empty() {
        let message = problems.join(" ");
        return agreements_refused(
            &state,
            &user,
            &student,
            &case,
            StatusCode::UNPROCESSABLE_ENTITY,
            |p| {
                let to: Vec<&str> = to_all.iter().map(String::as_str).collect();
                keep_choices(p, &chosen, &to);
                p.send_error = Some(message);
            },
        )
        .await;
    }
    let settings = mail::load(&state).await?.filter(|s| s.is_configured());
    let Some(settings) = settings else {
        return agreements_refused(&state, &user, &student, &case, StatusCode::CONFLICT, |p| {
            let to: Vec<&str> = to_all.iter().map(String::as_str).collect();
            keep_choices(p, &chosen, &to);
            p.send_error = Some("De afspraken zijn niet verstuurd: e-mail is nog niet ingesteld. Vraag de beheerder de mailserver in te vullen (Instellingen › E-mail).".into());
        })
        .await;
    };

    // Send first (slow), then record what went out.
    let school = school_name(&state, &settings.from_name).await?;
    let selected: Vec<(usize, &Agreement)> =
        chosen.iter().map(|i| (*i, &case.agreements[*i])).collect();
    let messages: Vec<Outgoing> = to
        .iter()
        .map(|a| Outgoing {
            to: a.address.clone(),
            subject: format!("Afspraken over de aanwezigheid van {first}"),
            body: agreements_mail(&a.greeting, &first, &selected, &user, &school),
            reply_to: user.user.email.clone().filter(|e| mail::valid_address(e)),
            at: state.clock.now(),
        })
        .collect();
    let results = match mail::send(&settings, &messages).await {
        Ok(r) => r,
        Err(e) => vec![Err(e); messages.len()],
    };
    let mut delivered = Vec::new();
    let mut failed: Vec<String> = Vec::new();
    let mut reasons: Vec<String> = Vec::new();
    for (m, r) in messages.iter().zip(results) {
        match r {
            Ok(()) => delivered.push(m.to.clone()),
            Err(e) => {
                failed.push(m.to.clone());
                if !reasons.contains(&e.0) {
                    reasons.push(e.0);
                }
            }
        }
    }
    let failure = (!failed.is_empty()).then(|| {
        format!(
            "De afspraken zijn niet verstuurd naar {}. {}",
            failed.join(", "),
            reasons.join(" ")
        )
    });
    if delivered.is_empty() {
        return agreements_refused(
            &state,
            &user,
            &student,
            &case,
            StatusCode::BAD_GATEWAY,
            |p| {
                let to: Vec<&str> = to_all.iter().map(String::as_str).collect();
                keep_choices(p, &chosen, &to);
                p.send_error = failure;
            },
        )
        .await;
    }
    let n = delivered.len();
    let numbers = chosen
        .iter()
        .map(|i| (i + 1).to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let recipients = if n == 1 {
        "1 ontvanger".to_owned()
    } else {
        format!("{n} ontvangers")
    };
    let mailing = Mailing {
        on: state.clock.today(),
        by: dossier::actor(&user),
        to: delivered,
        agreements: chosen.clone(),
    };
    let detail = format!("dossier: afspraken {numbers} gedeeld per e-mail ({recipients})");
    let stored = dossier::update(&state, &user, &id, None, |_, case| {
        // Recorded even if the case was closed meanwhile: the mail went out.
        let case = case.as_mut().ok_or(PageError::NotFound)?;
        case.record_mailing(mailing).map_err(|e| {
            PageError::Conflict(format!(
                "De afspraken zijn verstuurd, maar konden niet in het dossier worden vastgelegd: {e}."
            ))
        })?;
        Ok((detail, case.clone()))
    })
    .await?;
    user.audit(
        &state,
        AuditAction::Export,
        Some(&student.id),
        format!("afspraken {numbers} gedeeld per e-mail ({recipients})"),
    )
    .await?;
    match failure {
        None => Ok(Redirect::to(&format!(
            "{}/dossier/afspraken?verstuurd={n}",
            crate::paths::student_str(&id)
        ))
        .into_response()),
        // Some went out, some did not: the page names the ones that did
        // not, still chosen, to try again.
        Some(message) => {
            agreements_refused(&state, &user, &student, &stored, StatusCode::OK, |p| {
                let to: Vec<&str> = failed.iter().map(String::as_str).collect();
                keep_choices(p, &chosen, &to);
                p.notice = Some(sent_notice(n));
                p.send_error = Some(message);
            })
            .await
        }
    }
}

// --- the report ------------------------------------------------------------------

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
    figures: Option<super::student::Figures>,
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

async fn report(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let student = dossier::student_in_scope(&state, &user, &id)?;
    let case = state.store.case(&student.id).await?;
    // As for the dossier itself: an external partner only while brought
    // into the open case.
    if !dossier::partner_may_read(&user, case.as_ref()) {
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
            .and_then(|i| super::student::attendance_figures(&live, i))
    };
    // The DUO meldingen as the dossier shows them: to the coordinators and
    // leerplicht; never a concept or a withdrawn one to a partner.
    let role = user.role();
    let shows_meldingen = role.sees_all_students() || role == Role::Leerplichtambtenaar;
    let meldingen = super::meldingen::of_student_for(&state, role, &student.id)
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

/// This area's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/leerlingen/{id}/dossier/contact/nieuw",
            get(contact_new).post(contact_save),
        )
        .route("/leerlingen/{id}/dossier/contact/{n}", get(contact_show))
        .route(
            "/leerlingen/{id}/dossier/afspraken",
            get(agreements_show).post(agreement_add),
        )
        .route(
            "/leerlingen/{id}/dossier/afspraken/{n}/controle",
            post(agreement_check),
        )
        .route(
            "/leerlingen/{id}/dossier/afspraken/versturen",
            post(agreements_send),
        )
        .route("/leerlingen/{id}/dossier/ouders", post(parents_save))
        .route("/leerlingen/{id}/dossier/verslag", get(report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_emails_name_the_bad_line() {
        assert_eq!(
            check_parent_emails("a@example.nl\n\n b@example.nl \nA@example.nl"),
            Ok(vec!["a@example.nl".to_owned(), "b@example.nl".to_owned()])
        );
        let e = check_parent_emails("a@example.nl\ngeen adres").unwrap_err();
        assert!(e.contains("regel 2: 'geen adres'"), "{e}");
    }

    #[test]
    fn every_guide_warns_about_the_illness() {
        assert!(Guide::C.questions().iter().any(|q| warns(q.hint_nl)));
        for g in Guide::ALL {
            assert!(illness_warning(Some(g)), "{g:?}");
        }
        assert!(
            !illness_warning(None),
            "without a guide only the note warns"
        );
    }

    #[test]
    fn numbers_in_addresses_count_from_one() {
        assert_eq!(index_from("1").ok(), Some(0));
        assert_eq!(index_from("12").ok(), Some(11));
        for bad in ["0", "-1", "abc", "", "1.5", "99999999999999999999999"] {
            assert!(matches!(index_from(bad), Err(PageError::NotFound)), "{bad}");
        }
    }

    #[test]
    fn the_students_address_is_one_valid_address_or_empty() {
        assert_eq!(check_student_email("  "), Ok(None));
        assert_eq!(
            check_student_email(" lisa@leerling.example.nl "),
            Ok(Some("lisa@leerling.example.nl".to_owned()))
        );
        assert!(check_student_email("lisa@a.nl, piet@b.nl").is_err());
        assert!(check_student_email("geen adres").is_err());
    }
}
