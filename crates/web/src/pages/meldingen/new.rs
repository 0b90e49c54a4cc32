//! A new draft: `GET /meldingen/nieuw` (the form for a period by hand) and `POST /meldingen/nieuw` (from a signal, a vervolg or by hand).

use std::collections::HashMap;

use aanwezig_domain::explain::date_nl;
use aanwezig_domain::{DuoError, MeldingDraft, MeldingKind, RuleId, Student, StudentId};
use aanwezig_storage::{AuditAction, MeldingFilter};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::Deserialize;

use super::access::PageForm;
use super::actions::{case_actions, fill};
use super::draft::duo_error_nl;
use super::format::{kind_key, parse_date, KINDS};
use crate::auth::CurrentUser;
use crate::dossier;
use crate::error::PageError;
use crate::guard::ManageMeldingen;
use crate::layout::{section, Layout};
use crate::pages::settings::school::school_settings;
use crate::state::AppState;

/// What both ways of making a draft submit: `regel` and `datum` for a
/// signal, `soort`, `begin` and `eind` for a melding by hand.
#[derive(Debug, Default, Deserialize)]
pub(super) struct NewForm {
    #[serde(default)]
    leerling: String,
    regel: Option<String>,
    datum: Option<String>,
    #[serde(default)]
    soort: String,
    #[serde(default)]
    begin: String,
    #[serde(default)]
    eind: String,
    /// A vervolgmelding: the earlier melding it follows.
    vervolg: Option<String>,
}

struct KindOption {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "melding_new.html")]
pub(super) struct NewPage {
    layout: Layout,
    student: String,
    name: String,
    class: String,
    kinds: Vec<KindOption>,
    begin: String,
    eind: String,
    errors: HashMap<&'static str, String>,
}

impl NewPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.get(field).map(String::as_str)
    }
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct NewQuery {
    #[serde(default)]
    leerling: String,
}

fn new_page(
    user: &CurrentUser,
    student: &Student,
    soort: &str,
    begin: String,
    eind: String,
    errors: HashMap<&'static str, String>,
) -> NewPage {
    NewPage {
        layout: Layout::new(
            user,
            section::MELDINGEN,
            format!("Nieuwe DUO-melding voor {}", student.name),
        ),
        student: student.id.to_string(),
        name: student.name.clone(),
        class: student.class.clone(),
        kinds: KINDS
            .into_iter()
            .map(|k| KindOption {
                value: kind_key(k),
                label: k.label_nl(),
                selected: kind_key(k) == soort,
            })
            .collect(),
        begin,
        eind,
        errors,
    }
}

pub(super) async fn new_form(
    State(state): State<AppState>,
    ManageMeldingen(user): ManageMeldingen,
    Query(q): Query<NewQuery>,
) -> Result<NewPage, PageError> {
    let student = dossier::student_in_scope(&state, &user, &q.leerling)?;
    user.audit(
        &state,
        AuditAction::Read,
        Some(&student.id),
        "formulier nieuwe DUO-melding",
    )
    .await?;
    let today = state.clock.today().to_string();
    Ok(new_page(
        &user,
        &student,
        kind_key(MeldingKind::Overig),
        today.clone(),
        today,
        HashMap::new(),
    ))
}

/// Stores a new draft and audits it; the id of the draft.
async fn store_new(
    state: &AppState,
    user: &CurrentUser,
    draft: &MeldingDraft,
) -> Result<i64, PageError> {
    let id = state
        .store
        .save_melding(None, draft, &user.user.username, state.clock.now())
        .await?;
    user.audit(
        state,
        AuditAction::Change,
        Some(&draft.student),
        format!(
            "DUO-melding {id} ({}) als concept gemaakt",
            draft.kind.label_nl()
        ),
    )
    .await?;
    Ok(id)
}

/// The draft already made for this signal of the student, if any.
async fn draft_for_signal(
    state: &AppState,
    student: &StudentId,
    rule: RuleId,
    fired_on: NaiveDate,
) -> Result<Option<i64>, PageError> {
    let filter = MeldingFilter {
        student: Some(student.clone()),
        ..MeldingFilter::default()
    };
    Ok(state
        .store
        .meldingen(&filter)
        .await?
        .into_iter()
        .find(|(_, d)| {
            d.source
                .is_some_and(|s| s.rule == rule && s.fired_on == fired_on)
        })
        .map(|(id, _)| id))
}

pub(super) async fn create(
    State(state): State<AppState>,
    ManageMeldingen(user): ManageMeldingen,
    PageForm(form): PageForm<NewForm>,
) -> Result<Response, PageError> {
    if form.leerling.trim().is_empty() {
        return Err(PageError::BadRequest(
            "Kies de leerling voor wie de melding is.".into(),
        ));
    }
    let student = dossier::student_in_scope(&state, &user, form.leerling.trim())?;
    match (&form.regel, &form.datum) {
        (Some(regel), Some(datum)) => {
            let follows = match form.vervolg.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(v) => Some(earlier_melding(&state, &student.id, v).await?),
            };
            from_signal(&state, &user, &student, regel, datum, follows).await
        }
        _ => by_hand(&state, &user, &student, form).await,
    }
}

/// The melding a vervolgmelding follows: one of the same student that is
/// registered at DUO and still open there.
async fn earlier_melding(state: &AppState, student: &StudentId, n: &str) -> Result<i64, PageError> {
    let refused = || {
        PageError::BadRequest(
            "Een vervolgmelding volgt op een melding van dezelfde leerling die bij DUO loopt (geregistreerd of in behandeling).".into(),
        )
    };
    let id: i64 = n.parse().map_err(|_| refused())?;
    match state.store.melding(id).await? {
        Some(m) if &m.student == student && aanwezig_domain::duo_work::open_at_duo(m.status) => {
            Ok(id)
        }
        _ => Err(refused()),
    }
}

async fn from_signal(
    state: &AppState,
    user: &CurrentUser,
    student: &Student,
    regel: &str,
    datum: &str,
    follows: Option<i64>,
) -> Result<Response, PageError> {
    let rule = RuleId::parse(regel.trim())
        .filter(|r| r.is_duo())
        .ok_or_else(|| PageError::BadRequest("Dit signaal is geen DUO-melding.".into()))?;
    let fired_on = parse_date(datum)
        .ok_or_else(|| PageError::BadRequest("De datum van het signaal klopt niet.".into()))?;
    if let Some(id) = draft_for_signal(state, &student.id, rule, fired_on).await? {
        return Ok(Redirect::to(&format!("/meldingen/{id}")).into_response());
    }
    let today = state.clock.today();
    let mut draft = {
        let live = state.read()?;
        let cal = live.cal.as_ref().ok_or_else(|| {
            PageError::BadRequest("Er is nog geen schoolkalender ingelezen.".into())
        })?;
        let i = live
            .school
            .position(&student.id)
            .ok_or(PageError::NotFound)?;
        let signal = live
            .evaluations
            .get(i)
            .and_then(|ev| {
                ev.signals
                    .iter()
                    .find(|s| s.rule == rule && cal.date(s.fired_on) == fired_on)
            })
            .ok_or_else(|| {
                PageError::BadRequest(format!(
                    "Er is voor {} geen signaal '{}' van {}.",
                    student.name,
                    rule.title_nl(),
                    date_nl(fired_on)
                ))
            })?;
        MeldingDraft::from_signal_in(
            signal,
            live.school.registrations(i),
            live.school.context(i).week.as_ref(),
            cal,
            &live.policy,
            student,
            today,
        )
        .map_err(|e| PageError::BadRequest(duo_error_nl(&e)))?
    };
    draft.follows = follows;
    let school = school_settings(state).await?;
    let actions = case_actions(state, &student.id).await?;
    fill(&mut draft, user, &school, actions);
    let id = match store_new(state, user, &draft).await {
        Ok(id) => id,
        // Made at the same moment by someone else: go to theirs.
        Err(PageError::Conflict(_)) => draft_for_signal(state, &student.id, rule, fired_on)
            .await?
            .ok_or(PageError::NotFound)?,
        Err(e) => return Err(e),
    };
    Ok(Redirect::to(&format!("/meldingen/{id}")).into_response())
}

async fn by_hand(
    state: &AppState,
    user: &CurrentUser,
    student: &Student,
    form: NewForm,
) -> Result<Response, PageError> {
    let mut errors: HashMap<&'static str, String> = HashMap::new();
    let kind = KINDS.into_iter().find(|k| kind_key(*k) == form.soort);
    if kind.is_none() {
        errors.insert("soort", "Kies de soort verzuim.".into());
    }
    let begin = parse_date(&form.begin);
    if begin.is_none() {
        errors.insert("begin", "Vul een geldige begindatum in.".into());
    }
    let end = parse_date(&form.eind);
    if end.is_none() {
        errors.insert("eind", "Vul een geldige einddatum in.".into());
    }
    let today = state.clock.today();
    let made = match (kind, begin, end) {
        (Some(kind), Some(begin), Some(end)) if errors.is_empty() => {
            let live = state.read()?;
            let cal = live.cal.as_ref().ok_or_else(|| {
                PageError::BadRequest("Er is nog geen schoolkalender ingelezen.".into())
            })?;
            let i = live
                .school
                .position(&student.id)
                .ok_or(PageError::NotFound)?;
            match MeldingDraft::for_period_in(
                kind,
                student,
                begin,
                end,
                (
                    live.school.registrations(i),
                    live.school.context(i).week.as_ref(),
                ),
                cal,
                &live.policy,
                today,
            ) {
                Ok(d) => Some(d),
                Err(DuoError::Backwards { .. }) => {
                    errors.insert("eind", "De einddatum ligt voor de begindatum.".into());
                    None
                }
                Err(e) => {
                    errors.insert("periode", duo_error_nl(&e));
                    None
                }
            }
        }
        _ => None,
    };
    let Some(mut draft) = made else {
        let page = new_page(user, student, &form.soort, form.begin, form.eind, errors);
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    };
    let school = school_settings(state).await?;
    let actions = case_actions(state, &student.id).await?;
    fill(&mut draft, user, &school, actions);
    let id = store_new(state, user, &draft).await?;
    Ok(Redirect::to(&format!("/meldingen/{id}")).into_response())
}
