//! Sharing agreements by e-mail, and the addresses they go to.
//!
//! - `POST /leerlingen/{id}/dossier/ouders`: the parents' e-mail addresses
//!   and the student's own.
//! - `POST /leerlingen/{id}/dossier/afspraken/versturen`: e-mail agreements
//!   to parents, the student and involved partners, one message per
//!   address.

use aanwezig_domain::case::{Agreement, Mailing};
use aanwezig_domain::explain::date_nl;
use aanwezig_storage::{AuditAction, DocumentKind};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;

use super::agreements::{
    agreements_refused, back_to_agreements, partner_addresses, sent_notice, AgreementsPage,
};
use super::contacts::open_case_for_change;
use super::records::{first_name, still_open, value, values, Pairs, MAX_PARENT_EMAILS};
use crate::auth::CurrentUser;
use crate::dossier;
use crate::error::PageError;
use crate::mail::{self, Outgoing};
use crate::state::AppState;

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

pub(super) async fn parents_save(
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

pub(super) async fn agreements_send(
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
