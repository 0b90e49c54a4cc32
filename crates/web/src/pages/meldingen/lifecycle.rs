//! `POST /meldingen/{n}/status` (registering, after validating against the registrations as they are now, and DUO's statuses after it) and `POST /meldingen/{n}/nummer`.

use aanwezig_domain::explain::date_nl;
use aanwezig_domain::{DuoError, MeldingDraft, MeldingStatus};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::access::{Nr, PageForm};
use super::draft::{draft_page, duo_error_nl, illness_errors, sentence};
use super::edit::for_change;
use super::format::{parse_date, status_key, STATUSES};
use crate::auth::CurrentUser;
use crate::error::PageError;
use crate::guard::ManageMeldingen;
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub(super) struct StatusForm {
    /// The version of the melding the form was made from.
    #[serde(default)]
    versie: String,
    #[serde(default)]
    naar: String,
    #[serde(default)]
    datum: String,
    /// The coordinator confirms registering although the student has no
    /// open dossier or the melding names no actions.
    #[serde(default)]
    bevestigd: Option<String>,
}

/// Why registering this melding asks for a confirmation first: no open
/// dossier for the student, no actions named (DUO and leerplicht read
/// what the school did). Empty when nothing is missing.
async fn register_warnings(
    state: &AppState,
    draft: &MeldingDraft,
) -> Result<Vec<String>, PageError> {
    let mut out = Vec::new();
    if !state
        .store
        .case(&draft.student)
        .await?
        .is_some_and(|c| c.is_open())
    {
        out.push("er is geen open dossier voor deze leerling".to_owned());
    }
    if draft.actions_taken.iter().all(|a| a.trim().is_empty()) {
        out.push("de melding noemt geen acties van school".to_owned());
    }
    Ok(out)
}

pub(super) async fn set_status(
    State(state): State<AppState>,
    ManageMeldingen(user): ManageMeldingen,
    Nr(n): Nr,
    PageForm(form): PageForm<StatusForm>,
) -> Result<Response, PageError> {
    let (id, mut draft, version) =
        for_change(&state, &user, &n, form.versie.trim().parse().ok()).await?;
    let today = state.clock.today();
    let refuse = |draft: &MeldingDraft, errors: Vec<(String, String)>, message: String| {
        let state = state.clone();
        let user = user.clone();
        let draft = draft.clone();
        async move {
            let page = draft_page(
                &state,
                &user,
                id,
                &draft,
                errors,
                Some(message),
                false,
                false,
            )
            .await?;
            Ok::<Response, PageError>((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    };
    let Some(to) = STATUSES.into_iter().find(|s| status_key(*s) == form.naar) else {
        return refuse(&draft, Vec::new(), "Kies een nieuwe status.".into()).await;
    };
    let Some(on) = parse_date(&form.datum) else {
        return refuse(&draft, Vec::new(), "Vul een geldige datum in.".into()).await;
    };
    if on > today {
        return refuse(
            &draft,
            Vec::new(),
            "De datum ligt in de toekomst: vul de dag in waarop het gebeurde.".into(),
        )
        .await;
    }
    if to == MeldingStatus::Geregistreerd {
        let errors = illness_errors(&draft);
        if !errors.is_empty() {
            return refuse(
                &draft,
                errors,
                "Niet gemeld: de reden, de toelichting of een actie noemt ziekte. Pas de tekst aan en sla de melding op.".into(),
            )
            .await;
        }
    }
    let before = draft.clone();
    let result = if to == MeldingStatus::Geregistreerd {
        let live = state.read()?;
        match (live.cal.as_ref(), live.school.position(&draft.student)) {
            (Some(cal), Some(i)) => draft.register(
                on,
                cal,
                live.school.registrations(i),
                live.school.students()[i].personal_number(),
            ),
            _ => Err(DuoError::NotValidated),
        }
    } else {
        draft.transition(to, on)
    };
    match result {
        Ok(()) => {}
        Err(DuoError::Invalid(errs)) => {
            let message = format!(
                "Niet gemeld: {}",
                duo_error_nl(&DuoError::Invalid(errs.clone()))
            );
            let errors = errs
                .into_iter()
                .map(|e| {
                    let field = if e.field.starts_with("late_arrivals") {
                        "late".to_owned()
                    } else {
                        e.field
                    };
                    (field, sentence(&e.message_nl))
                })
                .collect();
            return refuse(&draft, errors, message).await;
        }
        Err(DuoError::NotValidated) => {
            return refuse(
                &draft,
                Vec::new(),
                "De registraties van deze leerling zijn niet beschikbaar; de melding kan niet worden gecontroleerd.".into(),
            )
            .await;
        }
        Err(e) => return refuse(&draft, Vec::new(), duo_error_nl(&e)).await,
    }
    // A complete melding of a student without an open dossier, or without
    // any action named, is registered only when the coordinator confirms
    // it (and the confirmation is recorded).
    let mut confirmed_without = Vec::new();
    if to == MeldingStatus::Geregistreerd {
        let warnings = register_warnings(&state, &before).await?;
        if !warnings.is_empty() && form.bevestigd.is_none() {
            return refuse(
                &before,
                Vec::new(),
                format!(
                    "Nog niet gemeld: {}. Wilt u de melding toch zo vastleggen? Vink dan \"Toch vastleggen als gemeld\" aan. Dat komt in de geschiedenis van de melding.",
                    warnings.join(" en ")
                ),
            )
            .await;
        }
        confirmed_without = warnings;
    }
    let detail = format!(
        "DUO-melding {id}: status {} op {}{}",
        to.label_nl(),
        date_nl(on),
        if confirmed_without.is_empty() {
            String::new()
        } else {
            format!(" (bevestigd hoewel {})", confirmed_without.join(" en "))
        }
    );
    save_changed(&state, &user, id, &draft, version, detail, "status").await
}

/// Saves a changed melding (a new version, checked against `version`,
/// the one it was read at), audits it with `detail` in the same
/// transaction and shows it.
async fn save_changed(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    draft: &MeldingDraft,
    version: u32,
    detail: String,
    saved: &str,
) -> Result<Response, PageError> {
    super::edit::save_checked(state, user, id, draft, version, detail).await?;
    Ok(Redirect::to(&format!("/meldingen/{id}?opgeslagen={saved}")).into_response())
}

/// The meldingsnummer DUO returned.
#[derive(Debug, Default, Deserialize)]
pub(super) struct NumberForm {
    /// The version of the melding the form was made from.
    #[serde(default)]
    versie: String,
    #[serde(default)]
    meldingsnummer: String,
}

/// `POST /meldingen/{n}/nummer`: records the meldingsnummer DUO returned
/// for a registered melding (kept in its versions and audited).
pub(super) async fn set_number(
    State(state): State<AppState>,
    ManageMeldingen(user): ManageMeldingen,
    Nr(n): Nr,
    PageForm(form): PageForm<NumberForm>,
) -> Result<Response, PageError> {
    let (id, mut draft, version) =
        for_change(&state, &user, &n, form.versie.trim().parse().ok()).await?;
    if let Err(e) = draft.set_duo_number(&form.meldingsnummer) {
        let page = draft_page(
            &state,
            &user,
            id,
            &draft,
            vec![("duo_number".to_owned(), duo_error_nl(&e))],
            Some(format!("Niet opgeslagen: {}", sentence(&duo_error_nl(&e)))),
            false,
            false,
        )
        .await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let detail = format!(
        "DUO-melding {id}: meldingsnummer van DUO {}",
        draft.duo_number.as_deref().unwrap_or_default()
    );
    save_changed(&state, &user, id, &draft, version, detail, "nummer").await
}
