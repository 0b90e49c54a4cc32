//! Contact moments with the conversation guides.
//!
//! - `GET|POST /leerlingen/{id}/dossier/contact/nieuw?leidraad=A|B|C`: record
//!   a contact moment, with the guide's questions and up to three
//!   agreements made in it.
//! - `GET /leerlingen/{id}/dossier/contact/{n}`: one contact moment
//!   (counted from 1).

use std::collections::HashMap;

use aanwezig_domain::case::{Agreement, Answer, CaseError, ContactMoment, Guide, Party};
use aanwezig_domain::explain::{counted_nl, date_nl};
use aanwezig_domain::{Case, Student};
use aanwezig_storage::AuditAction;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::NaiveDate;

use super::agreements::{agreement_fields, agreement_views, AgreementView};
use super::records::{
    guide_value, index_from, no_open_case, parse_date, parse_guide, parties, still_open, too_long,
    value, values, who_choices, who_did, Choice, Pairs, AGREEMENT_ROWS, KINDS,
};
use crate::auth::CurrentUser;
use crate::dossier;
use crate::error::PageError;
use crate::layout::{section, ErrorLink, Layout};
use crate::pages::students::mentor_names;
use crate::state::AppState;

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
pub(super) async fn open_case_for_change(
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

pub(super) async fn contact_new(
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

pub(super) async fn contact_save(
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

pub(super) struct QaView {
    pub(super) question: String,
    pub(super) answer: String,
}

pub(super) struct ContactView {
    pub(super) number: usize,
    pub(super) on: String,
    pub(super) kind: &'static str,
    pub(super) minutes: String,
    pub(super) participants: String,
    pub(super) by: String,
    pub(super) guide: Option<&'static str>,
    pub(super) answers: Vec<QaView>,
    pub(super) note: String,
    /// False: the conversation is not shared with this role.
    pub(super) shared: bool,
}

pub(super) fn contact_view(
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

pub(super) async fn contact_show(
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
