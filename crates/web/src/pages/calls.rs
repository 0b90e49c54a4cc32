//! Gebeld: the call after a whole day of absence (stap 2, guide A),
//! recorded without a dossier, from *Bel vandaag*, Mijn taken or the
//! student page.
//!
//! `GET /leerlingen/{id}/gebeld?sinds=JJJJ-MM-DD` shows the form for the
//! absence run that began that day; `POST` stores the call (audited),
//! keeps it with the student's calls and goes back where the caller came
//! from with a confirmation. A call that reached someone handles the call
//! task of that run; one that reached no one keeps it, for the next school
//! day. When the caller is worried, the confirmation offers to open a
//! dossier. Mentors call for their own class; the coordinators for every
//! student; partners and the beheerder not at all.

use aanwezig_app::Permission;
use aanwezig_domain::case::Guide;
use aanwezig_domain::explain::date_nl;
use aanwezig_domain::{Call, Reached, RuleId, Student};
use aanwezig_storage::AuditAction;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::NaiveDate;
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::error::PageError;
use crate::layout::{section, Layout};
use crate::state::AppState;

/// Where to go after saving: a page the caller came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Back {
    Overview,
    Tasks,
    Student,
}

impl Back {
    fn parse(s: Option<&str>) -> Back {
        match s {
            Some("overzicht") => Back::Overview,
            Some("taken") => Back::Tasks,
            _ => Back::Student,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Back::Overview => "overzicht",
            Back::Tasks => "taken",
            Back::Student => "leerling",
        }
    }

    fn href(self, student: &str) -> String {
        match self {
            Back::Overview => "/?gebeld=1#bellen".to_owned(),
            Back::Tasks => "/taken?gebeld=1".to_owned(),
            Back::Student => format!("{}?gebeld=1#gesprekken", crate::paths::student_str(student)),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct Which {
    sinds: Option<String>,
    terug: Option<String>,
}

/// The form's fields as sent.
#[derive(Debug, Default, Deserialize)]
struct CallForm {
    #[serde(default)]
    sinds: String,
    #[serde(default)]
    terug: String,
    #[serde(default)]
    bereikt: String,
    #[serde(default)]
    datum: String,
    #[serde(default)]
    hoe: String,
    #[serde(default)]
    school: String,
    #[serde(default)]
    terug_op: String,
    #[serde(default)]
    zorgen: Option<String>,
}

struct Choice {
    value: &'static str,
    label: &'static str,
    checked: bool,
}

struct Earlier {
    on: String,
    by: String,
    reached: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "call.html")]
struct CallPage {
    layout: Layout,
    id: String,
    name: String,
    since: String,
    since_iso: String,
    back: &'static str,
    choices: Vec<Choice>,
    date: String,
    how: String,
    school: String,
    expected: String,
    worries: bool,
    questions: Vec<(&'static str, Option<&'static str>)>,
    earlier: Vec<Earlier>,
    /// Field id and message, in the form's order (the summary links them).
    errors: Vec<(&'static str, String)>,
}

impl CallPage {
    /// The error summary's links: each message to its field (`f-…`).
    fn summary(&self) -> Vec<crate::layout::ErrorLink> {
        crate::layout::field_links(&self.errors)
    }

    fn error(&self, field: &str) -> Option<&str> {
        crate::layout::field_error(&self.errors, field)
    }
}

/// The student at `id` when `user` may call about them, and the first day
/// of the absence run: `sinds`, which must be the day a `contact` signal
/// of the student fired.
fn student_and_run(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    sinds: Option<&str>,
) -> Result<(Student, NaiveDate), PageError> {
    // A student out of reach answers like no student; one in reach that
    // this role may not call about is refused.
    user.require_may(Permission::ReadStudent)?;
    let live = state.read()?;
    let i = live.position(id).ok_or(PageError::NotFound)?;
    let student = live.school.students()[i].clone();
    user.require_for(Permission::ReadStudent, &student)?;
    user.require(user.may_for(Permission::RecordCall, &student))?;
    let cal = live.cal.as_ref().ok_or(PageError::NotFound)?;
    let runs: Vec<NaiveDate> = live
        .evaluations
        .get(i)
        .map(|e| {
            e.signals
                .iter()
                .filter(|s| s.rule == RuleId::Contact)
                .map(|s| cal.date(s.fired_on))
                .collect()
        })
        .unwrap_or_default();
    let since = match sinds.and_then(|s| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()) {
        Some(d) => d,
        // Without a date: the latest absence run.
        None => *runs.last().ok_or_else(|| {
            PageError::BadRequest(format!(
                "{} is nu niet de hele dag afwezig: er is geen gesprek te noteren.",
                student.name
            ))
        })?,
    };
    if !runs.contains(&since) {
        return Err(PageError::BadRequest(format!(
            "{} was op {} niet voor het eerst de hele dag afwezig.",
            student.name,
            date_nl(since)
        )));
    }
    Ok((student, since))
}

fn page(
    state: &AppState,
    user: &CurrentUser,
    student: &Student,
    since: NaiveDate,
    back: Back,
    form: Option<&CallForm>,
    errors: Vec<(&'static str, String)>,
) -> Result<CallPage, PageError> {
    let live = state.read()?;
    let earlier = live
        .calls
        .get(&student.id)
        .map(|calls| {
            calls
                .iter()
                .filter(|c| c.absent_from == since)
                .map(|c| Earlier {
                    on: date_nl(c.on),
                    by: c.by.clone(),
                    reached: c.reached.label_nl(),
                })
                .collect()
        })
        .unwrap_or_default();
    let picked = form.map(|f| f.bereikt.as_str()).unwrap_or_default();
    Ok(CallPage {
        layout: Layout::new(user, section::STUDENTS, "Gebeld"),
        id: student.id.to_string(),
        name: student.name.clone(),
        since: date_nl(since),
        since_iso: since.to_string(),
        back: back.as_str(),
        // No preselected answer: the caller says whom they reached.
        choices: Reached::ALL
            .iter()
            .map(|r| Choice {
                value: r.as_str(),
                label: r.label_nl(),
                checked: r.as_str() == picked,
            })
            .collect(),
        date: form.map_or_else(|| state.clock.today().to_string(), |f| f.datum.clone()),
        how: form.map(|f| f.hoe.clone()).unwrap_or_default(),
        school: form.map(|f| f.school.clone()).unwrap_or_default(),
        expected: form.map(|f| f.terug_op.clone()).unwrap_or_default(),
        worries: form.is_some_and(|f| f.zorgen.is_some()),
        questions: Guide::A
            .questions()
            .iter()
            .map(|q| (q.text_nl, q.hint_nl))
            .collect(),
        earlier,
        errors,
    })
}

async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<Which>,
) -> Result<CallPage, PageError> {
    let (student, since) = student_and_run(&state, &user, &id, q.sinds.as_deref())?;
    user.audit(
        &state,
        AuditAction::Read,
        Some(&student.id),
        "gesprek stap 2 (formulier)",
    )
    .await?;
    page(
        &state,
        &user,
        &student,
        since,
        Back::parse(q.terug.as_deref()),
        None,
        Vec::new(),
    )
}

/// The call a form means, or the errors of its fields.
fn call_of(
    form: &CallForm,
    since: NaiveDate,
    by: &str,
    today: NaiveDate,
) -> Result<Call, Vec<(&'static str, String)>> {
    let mut errors = Vec::new();
    let reached = Reached::parse(&form.bereikt);
    if reached.is_none() {
        errors.push((
            "bereikt",
            "Kies wie u heeft gesproken, of dat u niemand bereikte.".to_owned(),
        ));
    }
    let date = |s: &str| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok();
    let on = date(&form.datum);
    match on {
        None => errors.push(("datum", "Vul de datum van het gesprek in.".to_owned())),
        Some(d) if d > today => errors.push((
            "datum",
            "De datum van het gesprek ligt in de toekomst.".to_owned(),
        )),
        _ => {}
    }
    let expected_back = if form.terug_op.trim().is_empty() {
        None
    } else {
        match date(&form.terug_op) {
            Some(d) => Some(d),
            None => {
                errors.push((
                    "terug",
                    "De verwachte terugkeer is geen geldige datum.".to_owned(),
                ));
                None
            }
        }
    };
    let (Some(reached), Some(on), true) = (reached, on, errors.is_empty()) else {
        return Err(errors);
    };
    let call = Call {
        absent_from: since,
        on,
        by: by.to_owned(),
        reached,
        how: form.hoe.trim().to_owned(),
        school_can_do: form.school.trim().to_owned(),
        expected_back,
        worries: form.zorgen.is_some(),
    };
    let problems = call.validate();
    if problems.is_empty() {
        Ok(call)
    } else {
        Err(problems.into_iter().map(|e| (e.field, e.message)).collect())
    }
}

async fn save(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(form): Form<CallForm>,
) -> Result<Response, PageError> {
    let (student, since) = student_and_run(&state, &user, &id, Some(form.sinds.as_str()))?;
    let back = Back::parse(Some(form.terug.as_str()));
    let call = match call_of(&form, since, &user.user.username, state.clock.today()) {
        Ok(c) => c,
        Err(errors) => {
            let page = page(&state, &user, &student, since, back, Some(&form), errors)?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    state.store.add_call(&student.id, &call).await?;
    user.audit(
        &state,
        AuditAction::Change,
        Some(&student.id),
        format!(
            "gesprek stap 2 over de afwezigheid sinds {}: {}",
            call.absent_from,
            call.reached.label_nl()
        ),
    )
    .await?;
    let worries = call.worries;
    state.write()?.add_call(student.id.clone(), call);
    let to = if worries {
        format!(
            "{}?gebeld=zorgen#gesprekken",
            crate::paths::student_str(student.id.as_str())
        )
    } else {
        back.href(student.id.as_str())
    };
    Ok(Redirect::to(&to).into_response())
}

/// `/leerlingen/{id}/gebeld`.
pub fn router() -> crate::routes::Routes {
    crate::routes::Routes::new()
        .get("/leerlingen/{id}/gebeld", show)
        .post("/leerlingen/{id}/gebeld", save)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    #[test]
    fn a_form_gives_a_call_or_its_errors_in_order() {
        let since = ymd(2025, 11, 10);
        let today = ymd(2025, 11, 14);
        let errors = call_of(&CallForm::default(), since, "m", today).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, ["bereikt", "datum"], "nothing is preselected");
        let form = CallForm {
            bereikt: "ouder".into(),
            datum: "2025-11-11".into(),
            hoe: "Gaat beter".into(),
            terug_op: "2025-11-17".into(),
            zorgen: Some("ja".into()),
            ..CallForm::default()
        };
        let call = call_of(&form, since, "m", today).unwrap();
        assert_eq!(call.reached, Reached::Parent);
        assert_eq!(call.expected_back, Some(ymd(2025, 11, 17)));
        assert!(call.worries);
        let future = CallForm {
            datum: "2025-11-15".into(),
            ..form
        };
        assert_eq!(
            call_of(&future, since, "m", today).unwrap_err()[0].0,
            "datum"
        );
    }
}
