//! `/api/leerlingen…`: students, their registrations, and changing one lesson.

use aanwezig_app::Permission;
use aanwezig_domain::{Policy, Step};
use aanwezig_storage::{AuditAction, Expected, LessonKey, LessonWrite, StaleLesson, StoreError};
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::Json;
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::CurrentUser;
use crate::error::{ApiError, PageError};
use crate::state::AppState;

use super::read::{given, no_attendance, require_reader, student_in_scope, StepFilter, Today};
use super::views::{
    ConflictBody, ErrorBody, RegistrationChanged, RegistrationInput, RegistrationView, StaleChange,
    StudentDetail, StudentSummary,
};
use super::{bad_json, bad_query, TAG_STUDENTS};

/// Filters of the student list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StudentQuery {
    /// Only this class (case does not matter).
    klas: Option<String>,
    /// Only students at this step today: `1`–`4`, or with a track (`3a`, `4b`).
    stap: Option<String>,
    /// Part of the name or the student number (case does not matter).
    zoek: Option<String>,
    /// Only students of this mentor (user name; case does not matter).
    mentor: Option<String>,
}

/// Students in the signed-in user's scope, sorted by class and name.
#[utoipa::path(
    get,
    path = "/leerlingen",
    operation_id = "list_students",
    tag = TAG_STUDENTS,
    params(StudentQuery),
    security(("sessie" = [])),
    responses(
        (status = 200, description = "The students in scope", body = Vec<StudentSummary>),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The role reads no student data", body = ErrorBody),
        (status = 422, description = "A filter is not valid", body = ErrorBody),
    )
)]
async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    query: Result<Query<StudentQuery>, QueryRejection>,
) -> Result<Json<Vec<StudentSummary>>, ApiError> {
    require_reader(&user)?;
    let Query(q) = query.map_err(bad_query)?;
    let stap = given(&q.stap).map(StepFilter::parse).transpose()?;
    let klas = given(&q.klas);
    let zoek = given(&q.zoek).map(str::to_lowercase);
    let mentor = given(&q.mentor);
    let mut out = {
        let live = state.read()?;
        let today = Today::of(&live);
        let mut out = Vec::new();
        for (i, s) in live.school.students().iter().enumerate() {
            if !user.may_for(Permission::ReadStudent, s)
                || klas.is_some_and(|k| !k.eq_ignore_ascii_case(&s.class))
                || mentor.is_some_and(|m| !m.eq_ignore_ascii_case(&s.mentor))
                || zoek.as_deref().is_some_and(|z| {
                    !s.name.to_lowercase().contains(z) && !s.id.as_str().to_lowercase().contains(z)
                })
            {
                continue;
            }
            let step = today.as_ref().map_or(Step::NONE, |t| t.step(i));
            if stap.is_some_and(|f| !f.matches(step)) {
                continue;
            }
            let (attendance, open) = match &today {
                Some(t) => (
                    t.attendance(i),
                    live.evaluations[i].open_on(t.through).count(),
                ),
                None => (no_attendance(), 0),
            };
            out.push(StudentSummary {
                id: s.id.to_string(),
                name: s.name.clone(),
                class: s.class.clone(),
                mentor: s.mentor.clone(),
                step: step.to_string(),
                attendance,
                open_signals: u32::try_from(open).unwrap_or(u32::MAX),
            });
        }
        out
    };
    out.sort_by(|a, b| (&a.class, &a.name, &a.id).cmp(&(&b.class, &b.name, &b.id)));
    user.audit(&state, AuditAction::Read, None, "API: leerlingenlijst")
        .await?;
    Ok(Json(out))
}

/// One student with step, attendance and the signals open today.
#[utoipa::path(
    get,
    path = "/leerlingen/{id}",
    operation_id = "get_student",
    tag = TAG_STUDENTS,
    params(("id" = String, Path, description = "Student number")),
    security(("sessie" = [])),
    responses(
        (status = 200, description = "The student", body = StudentDetail),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The role reads no student data", body = ErrorBody),
        (status = 404, description = "No such student in scope", body = ErrorBody),
    )
)]
async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<StudentDetail>, ApiError> {
    require_reader(&user)?;
    let (sid, detail) = {
        let live = state.read()?;
        let i = student_in_scope(&live, &user, &id)?;
        let s = &live.school.students()[i];
        let today = Today::of(&live);
        // BSN and onderwijsnummer only for the coordinators.
        let numbers = user.sees_personal_numbers_of(s);
        let detail = StudentDetail {
            id: s.id.to_string(),
            name: s.name.clone(),
            class: s.class.clone(),
            mentor: s.mentor.clone(),
            bsn: numbers
                .then(|| s.bsn.as_ref().map(|b| b.as_str().to_owned()))
                .flatten(),
            onderwijsnummer: numbers
                .then(|| s.onderwijsnummer.as_ref().map(|o| o.as_str().to_owned()))
                .flatten(),
            step: today.as_ref().map_or(Step::NONE, |t| t.step(i)).to_string(),
            attendance: today
                .as_ref()
                .map_or_else(no_attendance, |t| t.attendance(i)),
            open_signals: today
                .as_ref()
                .map(|t| t.open_signals(i))
                .unwrap_or_default(),
        };
        (s.id.clone(), detail)
    };
    user.audit(&state, AuditAction::Read, Some(&sid), "API: leerling")
        .await?;
    Ok(Json(detail))
}

/// The period of a registrations query.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// First date, inclusive; from the first registration when left out.
    #[param(value_type = Option<NaiveDate>)]
    van: Option<String>,
    /// Last date, inclusive; up to the last registration when left out.
    #[param(value_type = Option<NaiveDate>)]
    tot: Option<String>,
}

fn parse_date(name: &str, v: &Option<String>) -> Result<Option<NaiveDate>, PageError> {
    given(v)
        .map(|s| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
                PageError::BadRequest(format!(
                    "{name}: '{s}' is geen datum; schrijf die als JJJJ-MM-DD."
                ))
            })
        })
        .transpose()
}

/// One student's registered lessons, oldest first.
#[utoipa::path(
    get,
    path = "/leerlingen/{id}/registraties",
    operation_id = "list_registrations",
    tag = TAG_STUDENTS,
    params(("id" = String, Path, description = "Student number"), PeriodQuery),
    security(("sessie" = [])),
    responses(
        (status = 200, description = "The registrations in the period", body = Vec<RegistrationView>),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The role reads no student data", body = ErrorBody),
        (status = 404, description = "No such student in scope", body = ErrorBody),
        (status = 422, description = "The period is not valid", body = ErrorBody),
    )
)]
async fn registrations(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    query: Result<Query<PeriodQuery>, QueryRejection>,
) -> Result<Json<Vec<RegistrationView>>, ApiError> {
    require_reader(&user)?;
    let sid = {
        let live = state.read()?;
        let i = student_in_scope(&live, &user, &id)?;
        live.school.students()[i].id.clone()
    };
    let Query(q) = query.map_err(bad_query)?;
    let van = parse_date("van", &q.van)?;
    let tot = parse_date("tot", &q.tot)?;
    if let (Some(v), Some(t)) = (van, tot) {
        if v > t {
            return Err(PageError::BadRequest(format!(
                "De periode loopt achteruit: van {v} ligt na tot {t}."
            ))
            .into());
        }
    }
    let states = state.store.student_registration_states(&sid).await?;
    let out: Vec<RegistrationView> = states
        .iter()
        .filter(|s| {
            van.is_none_or(|v| s.record.date >= v) && tot.is_none_or(|t| s.record.date <= t)
        })
        .map(RegistrationView::from)
        .collect();
    let period = match (van, tot) {
        (None, None) => "alles".to_owned(),
        (v, t) => format!(
            "{} t/m {}",
            v.map_or("begin".to_owned(), |d| d.to_string()),
            t.map_or("eind".to_owned(), |d| d.to_string())
        ),
    };
    user.audit(
        &state,
        AuditAction::Read,
        Some(&sid),
        format!("API: registraties ({period})"),
    )
    .await?;
    Ok(Json(out))
}

/// Registers or corrects one lesson, then answers with the stored lesson
/// and the student's signals as they are after the change.
///
/// The change is checked against the state it was made from: send the
/// lesson's `revision` as read (GET `…/registraties`; `0` or left out for a
/// lesson not registered yet). A registered lesson is not changed without
/// it (428 `revision_required`): "last write wins" would silently undo a
/// colleague's correction. When the lesson has changed since it was read,
/// nothing is written and the answer is 409 `stale` with the lesson as it
/// was, as it is now, and who changed it when; read it again and redo the
/// change. The check happens in the database's write transaction, so it
/// also holds with several app servers.
#[utoipa::path(
    put,
    path = "/leerlingen/{id}/registraties/{datum}/{lesuur}",
    operation_id = "put_registration",
    tag = TAG_STUDENTS,
    params(
        ("id" = String, Path, description = "Student number"),
        ("datum" = String, Path, description = "Date of the lesson (YYYY-MM-DD): a school day"),
        ("lesuur" = u8, Path, description = "Lesson number of the schedule"),
    ),
    request_body = RegistrationInput,
    security(("sessie" = [], "csrf" = [])),
    responses(
        (status = 200, description = "Stored; with the signals after the change", body = RegistrationChanged),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The role may not register, or the CSRF token is missing", body = ErrorBody),
        (status = 404, description = "No such student in scope", body = ErrorBody),
        (status = 409, description = "The lesson changed since it was read (`stale`: nothing written, `changes` says what changed), or there is no school calendar yet (`conflict`)", body = ConflictBody),
        (status = 422, description = "The change is not valid (the message says why, in Dutch)", body = ErrorBody),
        (status = 428, description = "The lesson is registered and the request has no `revision` (`revision_required`): nothing written", body = ErrorBody),
    )
)]
async fn put_registration(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, datum, lesuur)): Path<(String, String, String)>,
    body: Result<Json<RegistrationInput>, JsonRejection>,
) -> Result<Json<RegistrationChanged>, ApiError> {
    user.require(user.may(Permission::Register))?;
    let (record, revision, policy) = {
        let live = state.read()?;
        let i = student_in_scope(&live, &user, &id)?;
        let Json(input) = body.map_err(bad_json)?;
        let revision = input.revision;
        let cal = live.cal.as_ref().ok_or_else(|| {
            PageError::Conflict(
                "Er is nog geen schoolkalender; de beheerder moet die eerst invoeren.".into(),
            )
        })?;
        let record = super::validate::record(
            cal,
            &live.policy,
            &live.school.students()[i].id,
            &datum,
            &lesuur,
            live.school.registrations(i),
            input,
        )?;
        (record, revision, live.policy.clone())
    };
    let expected = match revision {
        Some(n) => Expected::from_token(n),
        None => {
            let current = state
                .store
                .registration_states(&[LessonKey::of(&record)])
                .await?
                .pop()
                .flatten();
            match current {
                // Still checked in the write: someone may register it first.
                None => Expected::Absent,
                Some(c) => {
                    return Err(ApiError::RevisionRequired(format!(
                        "Les {} lesuur {} van leerling {} is al geregistreerd. Stuur de revisie mee \
                         die u las (veld revision, nu {}), zodat een wijziging van iemand anders niet \
                         ongemerkt wordt overschreven. Er is niets opgeslagen.",
                        record.date,
                        record.lesson,
                        record.student,
                        c.revision
                    )))
                }
            }
        }
    };
    let write = LessonWrite {
        record: record.clone(),
        expected,
    };
    let written = match state
        .store
        .save_registrations(&[write], &user.user.username, state.clock.now())
        .await
    {
        Ok(mut written) => written
            .pop()
            .ok_or_else(|| PageError::Internal("save_registrations gave no result".into()))?,
        Err(StoreError::Stale(stale)) => return Err(stale_error(&stale, &policy)),
        Err(e) => return Err(e.into()),
    };
    let previous = written.previous.clone();
    if written.changed(&record) {
        state.write()?.apply(&record)?;
    }
    let was = previous
        .as_ref()
        .map_or("niet geregistreerd", |p| p.record.category.label_nl());
    user.audit(
        &state,
        AuditAction::Change,
        Some(&record.student),
        format!(
            "API: {} lesuur {}: {} (was {was})",
            record.date,
            record.lesson,
            record.category.label_nl()
        ),
    )
    .await?;
    let changed = {
        let live = state.read()?;
        let i = live
            .school
            .position(&record.student)
            .ok_or(PageError::NotFound)?;
        let today = Today::of(&live);
        RegistrationChanged {
            registration: RegistrationView::new(&record, written.revision.get()),
            previous: previous.as_ref().map(RegistrationView::from),
            step: today.as_ref().map_or(Step::NONE, |t| t.step(i)).to_string(),
            signals: today.as_ref().map(|t| t.signals(i)).unwrap_or_default(),
        }
    };
    Ok(Json(changed))
}

/// The 409 `stale` answer: every lesson that changed, in Dutch and as data.
fn stale_error(stale: &[StaleLesson], policy: &Policy) -> ApiError {
    let sentences: Vec<String> = stale
        .iter()
        .map(|s| {
            crate::pages::register::stale_sentence(
                s,
                &format!("Leerling {}", s.key.student),
                policy,
            )
        })
        .collect();
    ApiError::Stale {
        message: format!(
            "Er is niets opgeslagen: de les is gewijzigd sinds u hem las. {} \
             Lees de les opnieuw en breng uw wijziging dan nog eens aan.",
            sentences.join(" ")
        ),
        changes: stale.iter().map(StaleChange::from).collect(),
    }
}

/// The student routes.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(show))
        .routes(routes!(registrations))
        .routes(routes!(put_registration))
}
