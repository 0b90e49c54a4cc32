//! "Afgestemd met leerplicht: geen nieuwe melding" (issue 11, item 2; seed
//! 5b). For a *vervolg* only: a new DUO signal while a melding about the
//! same student is registered at DUO and still open there (see
//! [`aanwezig_domain::duo_work`]). Coordinators only.
//!
//! - `GET /meldingen/afstemming?leerling=…&regel=…&datum=…`: the form.
//! - `POST /meldingen/afstemming`: records it (date, with whom, why; no
//!   health details), audited; back to `/meldingen` with a confirmation.

use aanwezig_app::afstemming;
use aanwezig_domain::duo::SignalRef;
use aanwezig_domain::duo_work::SignalWork;
use aanwezig_domain::{RuleId, Student};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::Deserialize;

use super::meldingen::PageForm;
use crate::auth::CurrentUser;
use crate::dossier;
use crate::duo_work::{work_of, DuoRecords};
use crate::error::PageError;
use crate::guard::ManageMeldingen;
use crate::layout::{section, Layout};
use crate::state::AppState;
use aanwezig_domain::explain::date_nl;

#[derive(Debug, Default, Deserialize)]
struct AfstemmingForm {
    #[serde(default)]
    leerling: String,
    #[serde(default)]
    regel: String,
    #[serde(default)]
    datum: String,
    #[serde(default)]
    op: String,
    #[serde(default)]
    met_wie: String,
    #[serde(default)]
    waarom: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "melding_afstemming.html")]
struct AfstemmingPage {
    layout: Layout,
    student: String,
    name: String,
    class: String,
    rule: &'static str,
    fired: String,
    kind: &'static str,
    period: String,
    melding: i64,
    on: String,
    with_whom: String,
    why: String,
    errors: Vec<(String, String)>,
}

impl AfstemmingPage {
    /// The error summary's links: each message to its field (`f-…`).
    fn summary(&self) -> Vec<crate::layout::ErrorLink> {
        crate::layout::field_links(&self.errors)
    }

    fn error(&self, field: &str) -> Option<&str> {
        crate::layout::field_error(&self.errors, field)
    }
}

/// The student, the signal and its open vervolg duty, or why not.
async fn vervolg_duty(
    state: &AppState,
    user: &CurrentUser,
    form: &AfstemmingForm,
) -> Result<(Student, SignalWork, i64), PageError> {
    if form.leerling.trim().is_empty() {
        return Err(PageError::BadRequest(
            "Kies de leerling over wie u met leerplicht heeft afgestemd.".into(),
        ));
    }
    let student = dossier::student_in_scope(state, user, form.leerling.trim())?;
    let rule = RuleId::parse(form.regel.trim())
        .filter(|r| r.is_duo())
        .ok_or_else(|| PageError::BadRequest("Dit signaal is geen DUO-melding.".into()))?;
    let fired_on = NaiveDate::parse_from_str(form.datum.trim(), "%Y-%m-%d")
        .map_err(|_| PageError::BadRequest("De datum van het signaal klopt niet.".into()))?;
    let records = DuoRecords::of_student(state, &student.id).await?;
    let by = records.by_student();
    let today = state.clock.today();
    let live = state.read()?;
    let i = live
        .school
        .position(&student.id)
        .ok_or(PageError::NotFound)?;
    let work = work_of(&live, i, &by, today);
    let signal = SignalRef { rule, fired_on };
    let (duty, melding) = afstemming::vervolg(&student, signal, work.open_duty(signal))?;
    Ok((student, duty, melding))
}

fn page(
    user: &CurrentUser,
    student: &Student,
    duty: &SignalWork,
    melding: i64,
    form: &AfstemmingForm,
    today: NaiveDate,
    errors: Vec<(String, String)>,
) -> AfstemmingPage {
    let sig = duty.signal;
    AfstemmingPage {
        layout: Layout::new(
            user,
            section::MELDINGEN,
            format!("Afgestemd met leerplicht: {}", student.name),
        ),
        student: student.id.to_string(),
        name: student.name.clone(),
        class: student.class.clone(),
        rule: sig.rule.as_str(),
        fired: sig.fired_on.to_string(),
        kind: sig.kind().label_nl(),
        period: if sig.begin == sig.end {
            date_nl(sig.begin)
        } else {
            format!("{} tot en met {}", date_nl(sig.begin), date_nl(sig.end))
        },
        melding,
        on: if form.op.trim().is_empty() {
            today.to_string()
        } else {
            form.op.trim().to_owned()
        },
        with_whom: form.met_wie.clone(),
        why: form.waarom.clone(),
        errors,
    }
}

async fn show(
    State(state): State<AppState>,
    ManageMeldingen(user): ManageMeldingen,
    Query(form): Query<AfstemmingForm>,
) -> Result<AfstemmingPage, PageError> {
    let (student, duty, melding) = vervolg_duty(&state, &user, &form).await?;
    afstemming::open_form(&*state.store, &user.actor(), &student, state.clock.now()).await?;
    let today = state.clock.today();
    Ok(page(
        &user,
        &student,
        &duty,
        melding,
        &form,
        today,
        Vec::new(),
    ))
}

async fn save(
    State(state): State<AppState>,
    ManageMeldingen(user): ManageMeldingen,
    PageForm(form): PageForm<AfstemmingForm>,
) -> Result<Response, PageError> {
    let (student, duty, melding) = vervolg_duty(&state, &user, &form).await?;
    let today = state.clock.today();
    let input = afstemming::AfstemmingInput {
        on: form.op.clone(),
        with_whom: form.met_wie.clone(),
        why: form.waarom.clone(),
    };
    let (actor, now) = (user.actor(), state.clock.now());
    let a = match afstemming::afstemming_of(&input, &student, &duty, melding, &actor, today, now) {
        Ok(a) => a,
        Err(errors) => {
            let p = page(&user, &student, &duty, melding, &form, today, errors);
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response());
        }
    };
    afstemming::record(&*state.store, &actor, &student, &duty, &a, now).await?;
    Ok(Redirect::to(&format!("/meldingen?afgestemd=1#leerling-{}", student.id)).into_response())
}

/// This area's routes.
pub fn router() -> crate::routes::Routes {
    crate::routes::Routes::new()
        .get("/meldingen/afstemming", show)
        .post("/meldingen/afstemming", save)
}
