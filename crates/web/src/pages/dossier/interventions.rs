//! Interventions: starting and ending one, its page and its evaluations.

use aanwezig_app::Permission;
use aanwezig_domain::case::{AttendanceFigure, Evaluation as CaseEvaluation};
use aanwezig_domain::explain::date_nl;
use aanwezig_domain::{CaseError, StudentId};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::NaiveDate;

use super::forms::{apply, case_err, date_field, iso, Failure, Posted, SavedQuery, INTERVENTIONS};
use super::view::{actor_label, user_names};
use crate::auth::CurrentUser;
use crate::dossier;
use crate::error::PageError;
use crate::layout::{section, Layout};
use crate::pages::students::{pct_nl, Tally};
use crate::state::AppState;

/// `POST …/interventie`: starts one.
pub(super) async fn start_intervention(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    apply(
        &state,
        &user,
        &id,
        "interventie",
        Posted(fields),
        |case, by, today, p| {
            let kind = INTERVENTIONS
                .iter()
                .find(|(k, _)| *k == p.get("soort"))
                .map(|(_, k)| *k)
                .ok_or("kies de soort interventie")?;
            let on = date_field(p, "datum", today)?;
            let description = p.get("omschrijving");
            if description.trim().is_empty() {
                return Err("omschrijf de interventie".into());
            }
            case.start_intervention(kind, description, on, by)
                .map_err(case_err)?;
            Ok(format!(
                "dossier: interventie '{}' gestart",
                kind.label_nl()
            ))
        },
    )
    .await
}

/// `POST …/interventie/{n}/beeindigen`.
pub(super) async fn end_intervention(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, n)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    apply(
        &state,
        &user,
        &id,
        "interventies",
        Posted(fields),
        |case, _by, today, p| {
            let on = date_field(p, "datum", today)?;
            let k = n
                .parse::<usize>()
                .ok()
                .and_then(|n| n.checked_sub(1))
                .ok_or(format!("er is geen interventie nummer {n}"))?;
            case.end_intervention(k, on).map_err(|e| match e {
                CaseError::UnknownIntervention(_) => format!("er is geen interventie nummer {n}"),
                e => case_err(e),
            })?;
            Ok(format!("dossier: interventie {n} beëindigd"))
        },
    )
    .await
}

struct EvaluationView {
    date: String,
    by: String,
    note: String,
    /// The attendance as it was at the evaluation (empty for evaluations
    /// recorded before the figures were kept).
    before: String,
    since: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "case_intervention.html")]
struct InterventionPage {
    layout: Layout,
    id: String,
    name: String,
    n: usize,
    kind: &'static str,
    description: String,
    step: String,
    started: String,
    started_by: String,
    ended: String,
    due: String,
    due_overdue: bool,
    before: String,
    since: String,
    evaluations: Vec<EvaluationView>,
    may_change: bool,
    today: String,
    error: Option<String>,
    typed_date: String,
    typed_note: String,
    /// After an evaluation was saved: the confirmation.
    saved: bool,
}

/// Attendance over the school days of `from..=to` (up to the last
/// evaluated day), in tenths of a percent.
fn period_figure(
    cal: &aanwezig_domain::Calendar,
    presence: aanwezig_domain::Presence,
    week: Option<&aanwezig_domain::WeekSchedule>,
    regs: &[aanwezig_domain::Registration],
    through: Option<aanwezig_domain::DayIdx>,
    (from, to): (NaiveDate, NaiveDate),
) -> AttendanceFigure {
    let days = match (cal.on_or_after(from), cal.on_or_before(to), through) {
        (Some(a), Some(b), Some(t)) if a <= b.min(t) => Some((a, b.min(t))),
        _ => None,
    };
    let permille = days
        .and_then(|(a, b)| Tally::of(cal, presence, week, regs, a, b).rate())
        .and_then(|r| u16::try_from((r * 1000.0).round() as i64).ok());
    AttendanceFigure { from, to, permille }
}

/// A figure as "82,0 % (… – …)".
fn figure_nl(f: &AttendanceFigure) -> String {
    let span = format!("{} – {}", date_nl(f.from), date_nl(f.to));
    match f.permille {
        Some(p) => format!("{} ({span})", pct_nl(Some(f64::from(p) / 1000.0))),
        None => format!("geen geregistreerde lessen ({span})"),
    }
}

/// The attendance before and since intervention `k` for an evaluation on
/// `on`, from the live school; `None` without a calendar or registrations.
fn comparison(
    state: &AppState,
    student: &StudentId,
    i: &aanwezig_domain::case::Intervention,
    on: NaiveDate,
) -> Result<Option<(AttendanceFigure, AttendanceFigure)>, PageError> {
    let (before, since) = i.comparison_periods(on);
    let live = state.read()?;
    Ok(match (live.cal.as_ref(), live.school.position(student)) {
        (Some(cal), Some(k)) => {
            let regs = live.school.registrations(k);
            let week = live.school.context(k).week.as_ref();
            Some((
                period_figure(cal, live.policy.presence, week, regs, live.through, before),
                period_figure(cal, live.policy.presence, week, regs, live.through, since),
            ))
        }
        _ => None,
    })
}

/// The 1-based intervention number of a path, or `NotFound` (the HTML
/// 404 page) for anything that is not a positive number.
fn intervention_index(n: &str) -> Result<(usize, usize), PageError> {
    let n: usize = n.parse().map_err(|_| PageError::NotFound)?;
    let k = n.checked_sub(1).ok_or(PageError::NotFound)?;
    Ok((n, k))
}

async fn intervention_page(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    n: usize,
    failure: Option<Failure>,
    saved: bool,
) -> Result<Response, PageError> {
    let (student, case) = dossier::load(state, user, id, "dossier: interventie").await?;
    let case = case.ok_or(PageError::NotFound)?;
    let i = n
        .checked_sub(1)
        .and_then(|k| case.interventions.get(k))
        .ok_or(PageError::NotFound)?;
    let names = user_names(state).await?;
    let today = state.clock.today();
    let on = i.ended_on.map_or(today, |e| e.min(today));
    let (before, since) = match comparison(state, &student.id, i, on)? {
        Some((b, s)) => (figure_nl(&b), figure_nl(&s)),
        None => (String::new(), String::new()),
    };
    let due = {
        let live = state.read()?;
        live.cal.as_ref().map(|cal| i.evaluation_due(cal))
    };
    let typed = |k: &str| {
        failure
            .as_ref()
            .map(|f| f.posted.get(k).to_owned())
            .unwrap_or_default()
    };
    let typed_date = {
        let t = typed("datum");
        if t.is_empty() {
            iso(today)
        } else {
            t
        }
    };
    let page = InterventionPage {
        layout: Layout::new(
            user,
            section::DOSSIERS,
            format!("Interventie {n}: {}", student.name),
        ),
        id: student.id.to_string(),
        name: student.name.clone(),
        n,
        kind: i.kind.label_nl(),
        description: i.description.clone(),
        step: i.step.to_string(),
        started: date_nl(i.started_on),
        started_by: actor_label(&names, &i.started_by),
        ended: i.ended_on.map(date_nl).unwrap_or_default(),
        due: if i.ended_on.is_none() {
            due.map(date_nl).unwrap_or_default()
        } else {
            String::new()
        },
        due_overdue: i.ended_on.is_none() && due.is_some_and(|d| d < today),
        before,
        since,
        evaluations: i
            .evaluations
            .iter()
            .rev()
            .map(|e| EvaluationView {
                date: date_nl(e.on),
                by: actor_label(&names, &e.by),
                note: e.note.clone(),
                before: e.before.as_ref().map(figure_nl).unwrap_or_default(),
                since: e.since.as_ref().map(figure_nl).unwrap_or_default(),
            })
            .collect(),
        may_change: user.may_for(Permission::ChangeCase, &student) && case.is_open(),
        today: iso(today),
        typed_note: typed("notitie"),
        typed_date,
        error: failure.map(|f| f.into_sentence().message),
        saved,
    };
    let status = if page.error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((status, page).into_response())
}

/// `GET …/interventie/{n}`.
pub(super) async fn intervention(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, n)): Path<(String, String)>,
    Query(q): Query<SavedQuery>,
) -> Result<Response, PageError> {
    // Who may not read the student is refused as for any other number.
    dossier::student_in_scope(&state, &user, &id)?;
    let (n, _) = intervention_index(&n)?;
    let saved = q.opgeslagen.is_some();
    intervention_page(&state, &user, &id, n, None, saved).await
}

/// `POST …/interventie/{n}/evaluatie`: recorded with the attendance before
/// and since the start as it is at that moment.
pub(super) async fn evaluate(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, n)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let student = dossier::student_in_scope(&state, &user, &id)?;
    user.require(user.may_for(Permission::ChangeCase, &student))?;
    let (n, k) = intervention_index(&n)?;
    let posted = Posted(fields);
    let today = state.clock.today();
    let by = dossier::actor(&user);
    let mut refused: Option<String> = None;
    let expected = posted.version();
    let result = dossier::update(&state, &user, &id, expected, |student, case| {
        let case = case.as_mut().ok_or(PageError::NotFound)?;
        if k >= case.interventions.len() {
            return Err(PageError::NotFound);
        }
        let attempt = || -> Result<(), String> {
            let on = date_field(&posted, "datum", today)?;
            let note = posted.get("notitie").trim().to_owned();
            if note.is_empty() {
                return Err("schrijf op wat de evaluatie opleverde".to_owned());
            }
            let figures = match case.interventions.get(k) {
                Some(i) => comparison(&state, &student.id, i, on).map_err(|e| e.to_string())?,
                None => None,
            };
            case.evaluate(
                k,
                CaseEvaluation {
                    on,
                    by,
                    note,
                    before: figures.map(|f| f.0),
                    since: figures.map(|f| f.1),
                },
            )
            .map_err(case_err)
        };
        let outcome = attempt();
        match outcome {
            Ok(()) => Ok((
                format!("dossier: interventie {n} geëvalueerd"),
                student.id.clone(),
            )),
            Err(message) => {
                refused = Some(message);
                Err(PageError::BadRequest(String::new()))
            }
        }
    })
    .await;
    match (result, refused) {
        (Ok(student), _) => Ok(Redirect::to(&format!(
            "{}/dossier/interventie/{n}?opgeslagen=evaluatie#evaluaties",
            crate::paths::student(&student)
        ))
        .into_response()),
        (Err(_), Some(message)) => {
            intervention_page(
                &state,
                &user,
                &id,
                n,
                Some(Failure {
                    form: "evaluatie".into(),
                    message,
                    posted,
                }),
                false,
            )
            .await
        }
        (Err(e), None) => Err(e),
    }
}
