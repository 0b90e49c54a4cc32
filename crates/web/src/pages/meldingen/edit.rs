//! `POST /meldingen/{n}`: saving the draft's form (always stored: it is work in progress).

use aanwezig_domain::duo::LeerplichtAction;
use aanwezig_domain::{MeldingDraft, MeldingStatus, Reporter, SchoolLocation};
use aanwezig_storage::AuditAction;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::access::{readable_versioned, Nr, PageForm};
use super::actions::case_actions;
use super::draft::{draft_page, errors_of};
use crate::auth::CurrentUser;
use crate::error::PageError;
use crate::guard::ManageMeldingen;
use crate::state::AppState;

/// Melding `n` for a change by a coordinator, with its stored version; a
/// sent melding is read only. `expected` is the version the form was made
/// from (its `versie` field), when it says: another stored version is
/// refused before anything is looked at.
pub(super) async fn for_change(
    state: &AppState,
    user: &CurrentUser,
    n: &str,
    expected: Option<u32>,
) -> Result<(i64, MeldingDraft, u32), PageError> {
    let (id, draft, version) = readable_versioned(state, user, n).await?;
    if expected.is_some_and(|e| e != version) {
        return Err(superseded(id));
    }
    Ok((id, draft, version))
}

/// The refusal of a change of melding `id` someone saved in the meantime.
fn superseded(id: i64) -> PageError {
    PageError::superseded("deze melding", format!("/meldingen/{id}"))
}

/// The version a form was made from (`versie`), if it says.
fn posted_version(pairs: &Pairs) -> Option<u32> {
    field(pairs, "versie").and_then(|v| v.trim().parse().ok())
}

/// Saves a changed draft checked against `version` (the one it was read
/// at) with its audit entry (`detail`), in one transaction.
pub(super) async fn save_checked(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    draft: &MeldingDraft,
    version: u32,
    detail: String,
) -> Result<u32, PageError> {
    let entry = aanwezig_storage::AuditEntry {
        at: state.clock.now(),
        username: user.user.username.clone(),
        action: AuditAction::Change,
        student: Some(draft.student.clone()),
        detail,
    };
    let (_, saved) = state
        .store
        .save_melding_checked(
            Some(id),
            draft,
            aanwezig_storage::VersionCheck::Version(version),
            &user.user.username,
            state.clock.now(),
            &entry,
        )
        .await
        .map_err(|e| match e {
            aanwezig_storage::StoreError::StaleVersion { .. } => superseded(id),
            other => other.into(),
        })?;
    Ok(saved)
}

/// The submitted form as pairs: the lesson grid repeats its keys.
type Pairs = Vec<(String, String)>;

pub(super) fn field<'a>(pairs: &'a Pairs, name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

pub(super) fn text(pairs: &Pairs, name: &str) -> String {
    field(pairs, name).unwrap_or_default().trim().to_owned()
}

/// Applies the form to the draft. The lesson grid (`les_{date}`, only when
/// the form carried it: `rooster`) replaces each day's lessons; a day left
/// without lessons is dropped; "whole day" and "all lessons missed" follow
/// the registrations as they are now.
fn apply_form(draft: &mut MeldingDraft, pairs: &Pairs, state: &AppState) -> Result<(), PageError> {
    draft.suspected_reason = text(pairs, "reden");
    let explanation = text(pairs, "toelichting");
    draft.explanation = (!explanation.is_empty()).then_some(explanation);
    draft.leerplicht_action = match field(pairs, "leerplicht") {
        Some("ja") | Some("nee") => Some(LeerplichtAction {
            wanted: field(pairs, "leerplicht") == Some("ja"),
            reason: text(pairs, "leerplicht_reden"),
        }),
        _ => None,
    };
    draft.actions_taken = field(pairs, "acties")
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    draft.reporter = Reporter {
        name: text(pairs, "melder_naam"),
        function: text(pairs, "melder_functie"),
        phone: text(pairs, "melder_telefoon"),
        email: text(pairs, "melder_email"),
    };
    draft.school = SchoolLocation {
        brin: text(pairs, "brin").to_uppercase(),
        vestiging: text(pairs, "vestiging"),
    };
    // Only when the form has them: a form from before these fields keeps
    // what the draft holds.
    if field(pairs, "ouder_telefoon").is_some() {
        draft.contact_phone = text(pairs, "ouder_telefoon");
    }
    if field(pairs, "adres").is_some() {
        let address = text(pairs, "adres");
        draft.address = (!address.is_empty()).then_some(address);
    }
    if field(pairs, "locatie").is_some() {
        draft.location_name = text(pairs, "locatie");
    }
    if field(pairs, "rooster").is_none() {
        return Ok(());
    }
    for day in &mut draft.days {
        let key = format!("les_{}", day.date);
        let mut lessons: Vec<u8> = pairs
            .iter()
            .filter(|(k, _)| *k == key)
            .filter_map(|(_, v)| v.trim().parse().ok())
            .collect();
        lessons.sort_unstable();
        lessons.dedup();
        day.lessons = lessons;
    }
    draft.days.retain(|d| !d.lessons.is_empty());
    let live = state.read()?;
    if let (Some(cal), Some(i)) = (live.cal.as_ref(), live.school.position(&draft.student)) {
        let regs = live.school.registrations(i);
        for day in &mut draft.days {
            let scheduled = cal
                .index(day.date)
                .map_or(0, |d| regs.iter().filter(|r| r.day == d).count());
            day.whole_day = scheduled > 0 && day.lessons.len() >= scheduled;
        }
        let school_days = match (cal.on_or_after(draft.begin), cal.on_or_before(draft.end)) {
            (Some(a), Some(b)) if a <= b => (a..=b).count(),
            _ => 0,
        };
        draft.all_lessons_missed =
            draft.days.len() == school_days && draft.days.iter().all(|d| d.whole_day);
    }
    Ok(())
}

pub(super) async fn save(
    State(state): State<AppState>,
    ManageMeldingen(user): ManageMeldingen,
    Nr(n): Nr,
    PageForm(pairs): PageForm<Pairs>,
) -> Result<Response, PageError> {
    let (id, mut draft, version) = for_change(&state, &user, &n, posted_version(&pairs)).await?;
    if draft.status != MeldingStatus::Concept {
        // Registered in the meantime (another tab, a colleague): show the
        // melding as it now stands, read only, with what happened.
        let message = format!(
            "Deze melding heeft de status '{}' en kan niet meer worden gewijzigd. Uw wijzigingen zijn niet opgeslagen.",
            draft.status.label_nl()
        );
        let page = draft_page(
            &state,
            &user,
            id,
            &draft,
            Vec::new(),
            Some(message),
            false,
            true,
        )
        .await?;
        return Ok((StatusCode::CONFLICT, page).into_response());
    }
    apply_form(&mut draft, &pairs, &state)?;
    let from_case = field(&pairs, "actie") == Some("dossier");
    if from_case {
        draft.actions_taken = case_actions(&state, &draft.student).await?;
    }
    let detail = if from_case {
        format!("DUO-melding {id} opgeslagen, acties opnieuw uit het dossier")
    } else {
        format!("DUO-melding {id} opgeslagen")
    };
    save_checked(&state, &user, id, &draft, version, detail).await?;
    let errors = errors_of(&draft, &state)?;
    if errors.is_empty() {
        return Ok(Redirect::to(&format!("/meldingen/{id}?opgeslagen=1")).into_response());
    }
    let message = "Opgeslagen als concept. De melding is nog niet klaar om te melden: bekijk de punten bij de velden.".to_owned();
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
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}
