//! What the dossier page offers from outside the case: the student's signals by step and the open DUO work.

use aanwezig_domain::explain::date_nl;
use aanwezig_domain::{illness_words, CaseStep, RuleId, StudentId};
use chrono::NaiveDate;

use super::forms::{iso, Posted};
use super::view::{LaterSignal, SignalChoice};
use crate::error::PageError;
use crate::state::AppState;

/// A signal of the student that points to a step.
pub(super) struct StepSignal {
    pub(super) step: CaseStep,
    pub(super) fired: NaiveDate,
    pub(super) open: bool,
    pub(super) view: LaterSignal,
}

/// From the live evaluation of the student: the signals that point to a
/// step, and the dates of every call signal.
pub(super) fn student_signals(
    live: &crate::live::Live,
    student: &StudentId,
) -> (Vec<StepSignal>, Vec<NaiveDate>) {
    let (Some(cal), Some(d), Some(i)) = (
        live.cal.as_ref(),
        live.through,
        live.school.position(student),
    ) else {
        return (Vec::new(), Vec::new());
    };
    let Some(eval) = live.evaluations.get(i) else {
        return (Vec::new(), Vec::new());
    };
    let open = eval
        .signals
        .iter()
        .filter(|s| s.fired_on <= d)
        .filter_map(|s| {
            Some(StepSignal {
                step: CaseStep::for_rule(s.rule)?,
                fired: cal.date(s.fired_on),
                open: s.is_open_on(d),
                view: LaterSignal {
                    title: s.rule.title_nl(),
                    date: date_nl(cal.date(s.fired_on)),
                    step: String::new(),
                },
            })
        })
        .collect();
    let calls = eval
        .signals
        .iter()
        .filter(|s| s.rule == RuleId::Contact)
        .map(|s| cal.date(s.fired_on))
        .collect();
    (open, calls)
}

/// The student's open signals, as choices to open a case from.
pub(super) fn open_signals(
    state: &AppState,
    student: &StudentId,
) -> Result<Vec<SignalChoice>, PageError> {
    let live = state.read()?;
    let (Some(cal), Some(d), Some(i)) = (
        live.cal.as_ref(),
        live.through,
        live.school.position(student),
    ) else {
        return Ok(Vec::new());
    };
    let Some(eval) = live.evaluations.get(i) else {
        return Ok(Vec::new());
    };
    Ok(eval
        .open_on(d)
        .map(|s| {
            let on = cal.date(s.fired_on);
            SignalChoice {
                value: format!("signaal:{}:{}", s.rule, iso(on)),
                label: format!("{} (sinds {})", s.rule.title_nl(), date_nl(on)),
                step: CaseStep::for_rule(s.rule)
                    .map(|c| c.to_string())
                    .unwrap_or_default(),
            }
        })
        .collect())
}

/// One open piece of DUO work, as "Wat nu" shows it.
pub(super) struct DuoDutyView {
    pub(super) what: String,
    pub(super) due: String,
    pub(super) overdue: bool,
}

/// The open DUO work of a student (crate::duo_work, as every other page
/// counts it), earliest deadline (so overdue) first.
pub(super) async fn duo_duties(
    state: &AppState,
    student: &StudentId,
) -> Result<Vec<DuoDutyView>, PageError> {
    use aanwezig_domain::duo_work::Todo;
    let records = crate::duo_work::DuoRecords::of_student(state, student).await?;
    let by = records.by_student();
    let today = state.clock.today();
    let live = state.read()?;
    let Some(i) = live.school.position(student) else {
        return Ok(Vec::new());
    };
    let work = crate::duo_work::work_of(&live, i, &by, today);
    Ok(work
        .todo
        .iter()
        .map(|t| DuoDutyView {
            what: match t {
                Todo::Duty {
                    signal,
                    vervolg_of: Some(n),
                } => format!(
                    "Nieuw DUO-signaal ({}, {}) terwijl melding nr. {n} loopt: vervolgmelding maken of afstemmen met leerplicht",
                    signal.kind().label_nl(),
                    date_nl(signal.fired_on)
                ),
                Todo::Duty { signal, .. } => format!(
                    "De DUO-melding doen: {} (signaal van {})",
                    signal.kind().label_nl(),
                    date_nl(signal.fired_on)
                ),
                Todo::Concept { melding, kind, .. } => format!(
                    "DUO-melding nr. {melding} ({}) afmaken en registreren",
                    kind.label_nl()
                ),
            },
            due: date_nl(t.deadline()),
            overdue: t.deadline() < today,
        })
        .collect())
}

/// The number of open pieces of DUO work of the student with number `id`.
pub(super) async fn open_duo_work(state: &AppState, id: &str) -> Result<usize, PageError> {
    match StudentId::parse(id) {
        Ok(student) => Ok(duo_duties(state, &student).await?.len()),
        Err(_) => Ok(0),
    }
}

/// Moving past 4b or closing while DUO work is open asks for an explicit
/// confirmation (`duo_bevestigd`) with a reason (`duo_reden`); the text to
/// record, or why not.
pub(super) fn duo_confirmation(p: &Posted, open: usize) -> Result<Option<String>, String> {
    if open == 0 {
        return Ok(None);
    }
    let what = if open == 1 {
        "staat nog 1 DUO-melding open".to_owned()
    } else {
        format!("staan nog {open} DUO-meldingen open")
    };
    if p.get("duo_bevestigd") != "ja" {
        return Err(format!(
            "Voor deze leerling {what} (wettelijke plicht, stap 4b). Doe eerst de melding, of vink aan dat u toch verdergaat en zeg waarom."
        ));
    }
    let reason = p.get("duo_reden").trim();
    if reason.is_empty() {
        return Err("Zeg waarom u verdergaat terwijl de DUO-melding nog open staat.".to_owned());
    }
    if !illness_words(reason).is_empty() {
        return Err(
            "Schrijf bij de reden geen gezondheidsgegevens: alleen waarom u verdergaat.".to_owned(),
        );
    }
    let open_nl = if open == 1 {
        "1 open DUO-melding".to_owned()
    } else {
        format!("{open} open DUO-meldingen")
    };
    Ok(Some(format!("Toch verder met {open_nl}: {reason}")))
}
