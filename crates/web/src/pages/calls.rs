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

use aanwezig_app::calls;
use aanwezig_domain::case::Guide;
use aanwezig_domain::explain::date_nl;
use aanwezig_domain::{Reached, RuleId, Student};
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
use crate::guard::ReadStudent;
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
/// of the student fired ([`calls::absence_run`]).
fn student_and_run(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    sinds: Option<&str>,
) -> Result<(Student, NaiveDate), PageError> {
    let live = state.read()?;
    let i = live.position(id).ok_or(PageError::NotFound)?;
    let student = live.school.students()[i].clone();
    calls::check(&user.actor(), &student)?;
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
    let since = calls::absence_run(&student, &runs, sinds)?;
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
    ReadStudent(user): ReadStudent,
    Path(id): Path<String>,
    Query(q): Query<Which>,
) -> Result<CallPage, PageError> {
    let (student, since) = student_and_run(&state, &user, &id, q.sinds.as_deref())?;
    calls::open_form(&*state.store, &user.actor(), &student, state.clock.now()).await?;
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

impl CallForm {
    fn input(&self) -> calls::CallInput {
        calls::CallInput {
            reached: self.bereikt.clone(),
            date: self.datum.clone(),
            how: self.hoe.clone(),
            school_can_do: self.school.clone(),
            expected_back: self.terug_op.clone(),
            worries: self.zorgen.is_some(),
        }
    }
}

async fn save(
    State(state): State<AppState>,
    ReadStudent(user): ReadStudent,
    Path(id): Path<String>,
    Form(form): Form<CallForm>,
) -> Result<Response, PageError> {
    let (student, since) = student_and_run(&state, &user, &id, Some(form.sinds.as_str()))?;
    let back = Back::parse(Some(form.terug.as_str()));
    let today = state.clock.today();
    let call = match calls::call_of(&form.input(), since, &user.user.username, today) {
        Ok(c) => c,
        Err(errors) => {
            let page = page(&state, &user, &student, since, back, Some(&form), errors)?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    calls::record(
        &*state.store,
        &user.actor(),
        &student,
        &call,
        state.clock.now(),
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
