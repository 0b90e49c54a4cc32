//! Opening a case, moving between steps, the checklists, closing and reopening.

use aanwezig_domain::case::{ItemStatus, OpenReason};
use aanwezig_domain::{Case, CaseError, CaseStep, RuleId, Student};
use axum::extract::{Path, State};
use axum::response::Response;
use axum::Form;
use chrono::NaiveDate;

use super::forms::{apply, case_err, date_field, iso, to_dossier, Failure, Posted, CLOSURES};
use super::signals::{duo_confirmation, open_duo_work, open_signals};
use super::view::render;
use crate::auth::CurrentUser;
use crate::dossier;
use crate::error::PageError;
use crate::state::AppState;

/// `POST /leerlingen/{id}/dossier/openen`: from a current signal or by hand.
pub(super) async fn open(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let posted = Posted(fields);
    let today = state.clock.today();
    let mut refused: Option<String> = None;
    let expected = posted.version();
    let result = dossier::update(
        &state,
        &user,
        &id,
        expected,
        |student, case| match open_case(&state, &user, student, case.as_ref(), &posted, today) {
            Ok((new, detail)) => {
                *case = Some(new);
                Ok((detail, student.id.clone()))
            }
            Err(message) => {
                refused = Some(message);
                Err(PageError::BadRequest(String::new()))
            }
        },
    )
    .await;
    match (result, refused) {
        (Ok(student), _) => Ok(to_dossier(&student, "dossier")),
        (Err(_), Some(message)) => {
            render(
                &state,
                &user,
                &id,
                Some(Failure {
                    form: "openen".to_owned(),
                    message,
                    posted,
                }),
            )
            .await
        }
        (Err(e), None) => Err(e),
    }
}

fn open_case(
    state: &AppState,
    user: &CurrentUser,
    student: &Student,
    existing: Option<&Case>,
    p: &Posted,
    today: NaiveDate,
) -> Result<(Case, String), String> {
    match existing {
        Some(c) if c.is_open() => return Err("deze leerling heeft al een open dossier".into()),
        // A case is known by its student and opening date: a new one on
        // the day the closed one was opened would overwrite it.
        Some(c) if c.opened_on >= today => {
            return Err(
                "het gesloten dossier is vandaag geopend. Heropen dat dossier; een nieuw dossier openen kan niet op dezelfde dag".into(),
            )
        }
        Some(_) => {}
        None => {}
    }
    let bron = p.get("bron");
    let chosen_step = CaseStep::parse(p.get("stap"));
    let (reason, step) = if let Some(rest) = bron.strip_prefix("signaal:") {
        let (rule, on) = rest
            .split_once(':')
            .and_then(|(r, d)| {
                Some((
                    RuleId::parse(r)?,
                    NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()?,
                ))
            })
            .ok_or_else(|| "kies een signaal".to_owned())?;
        let current = open_signals(state, &student.id).map_err(|e| e.to_string())?;
        if !current
            .iter()
            .any(|s| s.value == format!("signaal:{rule}:{}", iso(on)))
        {
            return Err("dit signaal staat niet (meer) open; kies een ander signaal".into());
        }
        let step = match CaseStep::for_rule(rule) {
            Some(s) => s,
            None => match chosen_step {
                Some(s @ (CaseStep::S3a | CaseStep::S3b)) => s,
                _ => {
                    return Err(
                        format!(
                        "kies bij het signaal \"{}\" of het dossier start op stap 3a (gemeld verzuim) of 3b (onbekend verzuim)",
                        RuleId::Contact.title_nl()
                    ),
                    )
                }
            },
        };
        (OpenReason::Signal { rule, on }, step)
    } else if bron == "zorgen" {
        let step = chosen_step.ok_or_else(|| "kies de stap waarop het dossier start".to_owned())?;
        let note = p.get("reden").trim();
        if note.is_empty() {
            return Err("beschrijf de zorgen: waarom opent u het dossier?".into());
        }
        (
            OpenReason::Zorgen {
                note: note.to_owned(),
            },
            step,
        )
    } else {
        return Err("kies een signaal of 'zorgen over de aanwezigheid'".into());
    };
    let case = Case::open(
        student.id.clone(),
        today,
        dossier::actor(user),
        reason,
        step,
    )
    .map_err(case_err)?;
    Ok((case, format!("dossier geopend op stap {step}")))
}

/// `POST …/stap`.
pub(super) async fn move_step(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let open_duo = open_duo_work(&state, &id).await?;
    apply(
        &state,
        &user,
        &id,
        "stap",
        Posted(fields),
        |case, by, today, p| {
            let to = CaseStep::parse(p.get("naar")).ok_or("kies de nieuwe stap")?;
            let on = date_field(p, "datum", today)?;
            let from = case.step;
            // Past 4b (to 5a, 5b or 6) with the DUO melding still open:
            // only on an explicit confirmation, recorded with the step.
            let confirmed = if to.level() > 4 {
                case.check_move(to, on).map_err(case_err)?;
                duo_confirmation(p, open_duo)?
            } else {
                None
            };
            let why = match &confirmed {
                Some(c) => format!("{} ({c})", p.get("waarom").trim()),
                None => p.get("waarom").to_owned(),
            };
            case.move_to(to, on, by, &why).map_err(case_err)?;
            Ok(match confirmed {
                Some(c) => format!("dossier: stap {from} → {to}; {c}"),
                None => format!("dossier: stap {from} → {to}"),
            })
        },
    )
    .await
}

/// `POST …/checklist`.
pub(super) async fn checklist(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    apply(
        &state,
        &user,
        &id,
        "checklist",
        Posted(fields),
        |case, by, today, p| {
            let step = CaseStep::parse(p.get("stap")).ok_or("onbekende stap")?;
            let key = p.get("sleutel");
            let on = date_field(p, "datum", today)?;
            let note = p.get("notitie").trim().to_owned();
            let status = match p.get("status") {
                "gedaan" => ItemStatus::Done { on, by, note },
                "nvt" => ItemStatus::NotApplicable { on, by, note },
                "open" => ItemStatus::Open,
                _ => return Err("kies gedaan, niet van toepassing of open".into()),
            };
            let label = status.label_nl();
            let item = case
                .checklist_of(step)
                .find(|i| i.key == key)
                .map(|i| i.label_nl.clone())
                .unwrap_or_default();
            case.set_item(step, key, status).map_err(case_err)?;
            Ok(format!("dossier: actie '{item}' (stap {step}): {label}"))
        },
    )
    .await
}

/// `POST …/sluiten`.
pub(super) async fn close(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let open_duo = open_duo_work(&state, &id).await?;
    apply(
        &state,
        &user,
        &id,
        "sluiten",
        Posted(fields),
        |case, by, today, p| {
            let reason = CLOSURES
                .iter()
                .find(|(k, _)| *k == p.get("reden"))
                .map(|(_, r)| *r)
                .ok_or("kies waarom het dossier sluit")?;
            let on = date_field(p, "datum", today)?;
            let confirmed = duo_confirmation(p, open_duo)?;
            let note = match &confirmed {
                Some(c) if p.get("notitie").trim().is_empty() => c.clone(),
                Some(c) => format!("{} ({c})", p.get("notitie").trim()),
                None => p.get("notitie").to_owned(),
            };
            case.close(on, by, reason, &note).map_err(|e| match e {
                CaseError::MissingReason => "licht de andere reden toe in de notitie".to_owned(),
                e => case_err(e),
            })?;
            Ok(match confirmed {
                Some(c) => format!("dossier gesloten: {}; {c}", reason.label_nl()),
                None => format!("dossier gesloten: {}", reason.label_nl()),
            })
        },
    )
    .await
}

/// `POST …/heropenen`.
pub(super) async fn reopen(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    apply(
        &state,
        &user,
        &id,
        "heropenen",
        Posted(fields),
        |case, by, today, p| {
            let on = date_field(p, "datum", today)?;
            case.reopen(on, by, p.get("waarom")).map_err(case_err)?;
            Ok(format!("dossier heropend op stap {}", case.step))
        },
    )
    .await
}
