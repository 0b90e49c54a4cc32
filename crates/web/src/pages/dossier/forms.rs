//! Reading the dossier page's forms and applying the change one makes.
//!
//! A refused change answers 422 with the dossier page and the domain's
//! Dutch message at the form that was sent, with what the user typed still
//! in it.

use aanwezig_app::Permission;
use aanwezig_domain::case::{Actor, ClosureReason, InterventionKind, Party};
use aanwezig_domain::explain::{capitalize_nl, date_nl};
use aanwezig_domain::{Case, CaseError, StudentId};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::Deserialize;

use super::view::render;
use crate::auth::CurrentUser;
use crate::dossier;
use crate::error::PageError;
use crate::state::AppState;

/// The fields of a posted form, in order (repeated names allowed, e.g. the
/// parties of a decision). Reading every form this way means a role that may
/// not make a change is refused before anything in the form is looked at.
#[derive(Clone, Debug, Default)]
pub(super) struct Posted(pub(super) Vec<(String, String)>);

impl Posted {
    /// The case version the form was made from (`versie`), if it says.
    pub(super) fn version(&self) -> Option<u32> {
        dossier::posted_version(self.0.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    pub(super) fn get(&self, key: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map_or("", |(_, v)| v.as_str())
    }

    pub(super) fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// A refused change: which form, the Dutch message, and what was sent.
#[derive(Clone, Debug, Default)]
pub(super) struct Failure {
    pub(super) form: String,
    pub(super) message: String,
    pub(super) posted: Posted,
}

impl Failure {
    /// The message as a sentence: a capital first letter and a full
    /// stop, whatever form the domain or the page gave it.
    pub(super) fn into_sentence(mut self) -> Failure {
        let mut m = capitalize_nl(self.message.trim_end());
        if !m.ends_with(['.', '?', '!']) {
            m.push('.');
        }
        self.message = m;
        self
    }
}

/// A date field: empty means today; a date after today is refused.
pub(super) fn date_field(p: &Posted, key: &str, today: NaiveDate) -> Result<NaiveDate, String> {
    let v = p.get(key).trim();
    if v.is_empty() {
        return Ok(today);
    }
    let d = NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .map_err(|_| "vul een geldige datum in (JJJJ-MM-DD)".to_owned())?;
    if d > today {
        return Err(format!("de datum {} ligt na vandaag", date_nl(d)));
    }
    Ok(d)
}

pub(super) fn iso(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// The domain's Dutch message, with its dates written out in Dutch.
pub(super) fn case_err(e: CaseError) -> String {
    match e {
        CaseError::Backdated { on, earliest } => format!(
            "de datum {} ligt vóór {}, de laatste wijziging van het dossier",
            date_nl(on),
            date_nl(earliest)
        ),
        CaseError::BeforeStart { on, start } => format!(
            "de datum {} ligt vóór het begin op {}",
            date_nl(on),
            date_nl(start)
        ),
        e => e.to_string(),
    }
}

pub(super) const PARTIES: [(&str, Party); 10] = Party::CHOICES;

pub(super) const INTERVENTIONS: [(&str, InterventionKind); 4] = [
    ("afspraken", InterventionKind::Afspraken),
    ("thuiswerkplan", InterventionKind::Thuiswerkplan),
    ("hulpverlening", InterventionKind::Hulpverlening),
    ("anders", InterventionKind::Anders),
];

pub(super) const CLOSURES: [(&str, ClosureReason); 5] = [
    ("aanwezigheid_hersteld", ClosureReason::AanwezigheidHersteld),
    ("uitgeschreven", ClosureReason::Uitgeschreven),
    ("vrijstelling", ClosureReason::Vrijstelling),
    ("overgedragen", ClosureReason::Overgedragen),
    ("anders", ClosureReason::Anders),
];

/// A `<option>`.
pub(super) struct Choice {
    pub(super) value: String,
    pub(super) label: String,
}

pub(super) fn choices<'a>(it: impl IntoIterator<Item = (&'a str, String)>) -> Vec<Choice> {
    it.into_iter()
        .map(|(v, l)| Choice {
            value: v.to_owned(),
            label: l,
        })
        .collect()
}

pub(super) fn to_dossier(student: &StudentId, form: &str) -> Response {
    // Back to the section of the form that was sent.
    let anchor = match form {
        "interventie" => "interventies",
        "sluiten" | "heropenen" => "dossier",
        f => f,
    };
    // `opgeslagen` names the form, for the confirmation in its section.
    Redirect::to(&format!(
        "{}/dossier?opgeslagen={form}#{anchor}",
        crate::paths::student(student)
    ))
    .into_response()
}

/// The confirmation after a dossier form was saved, by the form's name
/// (`opgeslagen`), and the section (anchor) it stands in.
pub(super) fn saved_message(form: &str) -> Option<(&'static str, &'static str)> {
    Some(match form {
        "dossier" => ("dossier", "Het dossier is geopend."),
        "stap" => ("stap", "De stap is gewijzigd."),
        "checklist" => ("checklist", "De actie is bijgewerkt."),
        "partners" => ("partners", "De betrokken partners zijn bijgewerkt."),
        "besluit" => ("besluit", "Het besluit is vastgelegd."),
        "interventie" => ("interventies", "De interventie is vastgelegd."),
        "interventies" => ("interventies", "De interventie is bijgewerkt."),
        "sluiten" => ("dossier", "Het dossier is gesloten."),
        "heropenen" => ("dossier", "Het dossier is heropend."),
        "notities" => ("notities", "De notitie is opgeslagen."),
        _ => return None,
    })
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct SavedQuery {
    pub(super) opgeslagen: Option<String>,
}

/// Applies `f` to the stored case under [`dossier::update`] (which returns
/// the audit detail or a Dutch message) and redirects; a refusal leaves
/// the case as stored and re-renders the dossier page at `form` with 422.
pub(super) async fn apply(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    form: &str,
    posted: Posted,
    f: impl FnOnce(&mut Case, Actor, NaiveDate, &Posted) -> Result<String, String>,
) -> Result<Response, PageError> {
    apply_as(state, user, id, form, posted, Permission::ChangeCase, f).await
}

/// [`apply`] for a change only some of the roles that change cases may
/// make (`allowed`); the others get 403 before the form is looked at.
pub(super) async fn apply_as(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    form: &str,
    posted: Posted,
    needs: Permission,
    f: impl FnOnce(&mut Case, Actor, NaiveDate, &Posted) -> Result<String, String>,
) -> Result<Response, PageError> {
    let today = state.clock.today();
    let by = dossier::actor(user);
    let mut refused: Option<String> = None;
    let expected = posted.version();
    let result = dossier::update(state, user, id, expected, |student, case| {
        if !user.may_for(needs, student) {
            return Err(PageError::Forbidden);
        }
        let outcome = match case.as_mut() {
            None => Err("deze leerling heeft nog geen dossier. Open eerst een dossier".to_owned()),
            Some(c) => f(c, by, today, &posted),
        };
        match outcome {
            Ok(detail) => Ok((detail, student.id.clone())),
            Err(message) => {
                refused = Some(message);
                // Leaves the stored case as it was.
                Err(PageError::BadRequest(String::new()))
            }
        }
    })
    .await;
    match (result, refused) {
        (Ok(student), _) => Ok(to_dossier(&student, form)),
        (Err(_), Some(message)) => {
            render(
                state,
                user,
                id,
                Some(Failure {
                    form: form.to_owned(),
                    message,
                    posted,
                }),
            )
            .await
        }
        (Err(e), None) => Err(e),
    }
}
