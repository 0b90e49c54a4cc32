//! What the contact-moment, agreement, mailing and report pages share.
//!
//! Reading goes through [`dossier::load`] (scope, audit, redaction for the
//! role); a form is first checked against the case as read (so that a
//! refusal can show the form again with what was typed), then the change is
//! made through [`dossier::update`], which applies it to the stored case
//! under the app's case lock. Forms and queries arrive as name/value pairs
//! (checkboxes repeat their names; a bad query never gets axum's English
//! rejection).

use std::collections::HashMap;

use aanwezig_domain::case::{AgreementParty, ContactKind, Guide, Party};
use aanwezig_domain::{Case, Student};
use askama::Template;
use askama_web::WebTemplate;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;

use crate::auth::CurrentUser;
use crate::error::PageError;
use crate::layout::{section, Layout};
use crate::pages::students::mentor_label;

/// A submitted form as name/value pairs, in order.
pub(super) type Pairs = Vec<(String, String)>;

/// How many agreements the contact form offers.
pub(super) const AGREEMENT_ROWS: usize = 3;
/// The longest free text we keep in one field.
const MAX_TEXT: usize = 5000;
/// The most parents' addresses on one case.
pub(super) const MAX_PARENT_EMAILS: usize = 10;

pub(super) fn value<'a>(pairs: &'a Pairs, name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

pub(super) fn values<'a>(pairs: &'a Pairs, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    pairs
        .iter()
        .filter(move |(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

pub(super) fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

/// A number from an address, counted from 1, as an index counted from 0;
/// anything else is `NotFound` (the Dutch 404 page).
pub(super) fn index_from(n: &str) -> Result<usize, PageError> {
    match n.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n - 1),
        _ => Err(PageError::NotFound),
    }
}

/// The stored case inside [`dossier::update`], if it is still open.
pub(super) fn still_open(case: &mut Option<Case>) -> Result<&mut Case, PageError> {
    match case.as_mut() {
        Some(c) if c.is_open() => Ok(c),
        _ => Err(PageError::Conflict(
            "Het dossier is intussen gesloten; er is niets opgeslagen.".into(),
        )),
    }
}

pub(super) fn too_long(s: &str) -> bool {
    s.chars().count() > MAX_TEXT
}

/// Who did something, by display name where the user is known.
pub(super) fn who_did(names: &HashMap<String, String>, a: &aanwezig_domain::case::Actor) -> String {
    format!("{} ({})", mentor_label(names, &a.user), a.role.label_nl())
}

pub(super) fn first_name(student: &Student) -> &str {
    student
        .name
        .split_whitespace()
        .next()
        .unwrap_or("de leerling")
}

#[derive(Template, WebTemplate)]
#[template(path = "contact_nocase.html")]
struct NoCasePage {
    layout: Layout,
    id: String,
    name: String,
    message: String,
}

/// The page for a change that needs an open case when there is none.
pub(super) fn no_open_case(user: &CurrentUser, student: &Student, case: Option<&Case>) -> Response {
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
pub(super) fn no_case(user: &CurrentUser, student: &Student) -> Response {
    NoCasePage {
        layout: Layout::new(user, section::DOSSIERS, "Geen dossier"),
        id: student.id.as_str().to_owned(),
        name: student.name.clone(),
        message: "Er is geen dossier voor deze leerling.".to_owned(),
    }
    .into_response()
}

/// The participants the contact form offers, with their form values.
pub(super) fn parties() -> Vec<(&'static str, Party)> {
    Party::CHOICES.to_vec()
}

pub(super) const KINDS: [(&str, ContactKind); 3] = [
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
pub(super) struct Choice {
    pub(super) value: String,
    pub(super) label: String,
    pub(super) checked: bool,
}

pub(super) fn who_choices(selected: &str) -> Vec<Choice> {
    WHO.iter()
        .map(|(v, l)| Choice {
            value: (*v).to_owned(),
            label: (*l).to_owned(),
            checked: *v == selected,
        })
        .collect()
}

pub(super) fn guide_value(g: Option<Guide>) -> &'static str {
    match g {
        None => "",
        Some(Guide::A) => "A",
        Some(Guide::B) => "B",
        Some(Guide::C) => "C",
    }
}

pub(super) fn parse_guide(s: &str) -> Result<Option<Guide>, PageError> {
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
pub(super) fn agreement_party(who: &str, partner: &str) -> Result<AgreementParty, String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_addresses_count_from_one() {
        assert_eq!(index_from("1").ok(), Some(0));
        assert_eq!(index_from("12").ok(), Some(11));
        for bad in ["0", "-1", "abc", "", "1.5", "99999999999999999999999"] {
            assert!(matches!(index_from(bad), Err(PageError::NotFound)), "{bad}");
        }
    }
}
