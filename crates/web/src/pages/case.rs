//! The case dossier: `/dossiers` (the list) and `/leerlingen/{id}/dossier…` (one student's case: opening, steps, checklist, partners, decisions, interventions and evaluations, closing).
//!
//! Every change goes through [`crate::dossier::update`]: loaded in scope,
//! changed with the domain's method and saved (a new version, an audit
//! entry, the engine's view updated), one change at a time. A refused
//! change answers 422 with the dossier page and the domain's Dutch message
//! at the form that was sent, with what the user typed still in it.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use aanwezig_domain::case::{
    may_read_confidential, may_see_meldcode, Actor, AttendanceFigure, ClosureReason, Decision,
    DecisionKind, Evaluation as CaseEvaluation, Guide, InterventionKind, Involvement, ItemStatus,
    OpdcTrajectory, OpenReason, Party,
};
use aanwezig_domain::explain::{capitalize_nl, date_nl};
use aanwezig_domain::{
    illness_words, Case, CaseError, CaseStep, Role, RuleId, Scope, Student, StudentId,
};
use aanwezig_storage::{AuditAction, User};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::NaiveDate;
use serde::Deserialize;

use super::students::{pct_nl, Tally};
use crate::auth::CurrentUser;
use crate::dossier;
use crate::error::PageError;
use crate::layout::{section, Layout};
use crate::state::AppState;

// ---------------------------------------------------------------------------
// Form input

/// The fields of a posted form, in order (repeated names allowed, e.g. the
/// parties of a decision). Reading every form this way means a role that may
/// not make a change is refused before anything in the form is looked at.
#[derive(Clone, Debug, Default)]
struct Posted(Vec<(String, String)>);

impl Posted {
    /// The case version the form was made from (`versie`), if it says.
    fn version(&self) -> Option<u32> {
        dossier::posted_version(self.0.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }

    fn get(&self, key: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map_or("", |(_, v)| v.as_str())
    }

    fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// A refused change: which form, the Dutch message, and what was sent.
#[derive(Clone, Debug, Default)]
struct Failure {
    form: String,
    message: String,
    posted: Posted,
}

impl Failure {
    /// The message as a sentence: a capital first letter and a full
    /// stop, whatever form the domain or the page gave it.
    fn into_sentence(mut self) -> Failure {
        let mut m = capitalize_nl(self.message.trim_end());
        if !m.ends_with(['.', '?', '!']) {
            m.push('.');
        }
        self.message = m;
        self
    }
}

/// A date field: empty means today; a date after today is refused.
fn date_field(p: &Posted, key: &str, today: NaiveDate) -> Result<NaiveDate, String> {
    let v = p.get(key).trim();
    if v.is_empty() {
        return Ok(today);
    }
    let d = NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .map_err(|_| "vul een geldige datum in (JJJJ-MM-DD)".to_owned())?;
    if d > today {
        return Err(format!("de datum {} ligt na vandaag", date_nl(d)));
    }
    Ok(d)
}

fn iso(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// The domain's Dutch message, with its dates written out in Dutch.
fn case_err(e: CaseError) -> String {
    match e {
        CaseError::Backdated { on, earliest } => format!(
            "de datum {} ligt vóór {}, de laatste wijziging van het dossier",
            date_nl(on),
            date_nl(earliest)
        ),
        CaseError::BeforeStart { on, start } => format!(
            "de datum {} ligt vóór het begin op {}",
            date_nl(on),
            date_nl(start)
        ),
        e => e.to_string(),
    }
}

// ---------------------------------------------------------------------------
// Choices offered in the forms

/// Decision kinds as form values, with their Dutch labels.
fn decision_choices(role: Role) -> Vec<(&'static str, &'static str)> {
    let mut v = vec![
        (
            "jeugdarts_ja",
            "Verwijzing jeugdarts, ouders geven toestemming",
        ),
        (
            "jeugdarts_nee",
            "Jeugdarts voorgesteld, ouders geven geen toestemming",
        ),
        (
            "preventief_spreekuur",
            "Aanmelding preventief spreekuur leerplicht",
        ),
        ("vowij_ja", "Inzet VO WIJ, ouders geven toestemming"),
        ("vowij_nee", "Inzet VO WIJ, ouders geven geen toestemming"),
    ];
    if may_see_meldcode(role) {
        v.push((
            "meldcode",
            "Meldcode huiselijk geweld en kindermishandeling volgen",
        ));
    }
    v.extend([
        ("ect", "ECT vragen mee te denken over maatwerk"),
        ("indigo_ja", "Melding in de Indigo-verzuimmodule nodig"),
        (
            "indigo_nee",
            "Geen melding in de Indigo-verzuimmodule nodig",
        ),
        (
            "meewerken_ja",
            "Leerling en ouders werken mee aan hulpverlening (naar 5a)",
        ),
        (
            "meewerken_nee",
            "Leerling en ouders werken niet mee aan hulpverlening (naar 5b)",
        ),
        ("opdc_ttvo", "Maatwerk: OPDC-traject TTVO"),
        ("opdc_doorstart", "Maatwerk: OPDC-traject Doorstart"),
        ("opdc_rebound8", "Maatwerk: OPDC-traject Rebound, 8 weken"),
        ("opdc_rebound13", "Maatwerk: OPDC-traject Rebound, 13 weken"),
        ("vrijstelling", "Maatwerk: vrijstelling via leerplicht"),
        ("maatwerk", "Ander maatwerk (omschrijf in de notitie)"),
    ]);
    v
}

fn decision_kind(value: &str, role: Role) -> Option<DecisionKind> {
    Some(match value {
        "jeugdarts_ja" => DecisionKind::Jeugdarts { consent: true },
        "jeugdarts_nee" => DecisionKind::Jeugdarts { consent: false },
        "preventief_spreekuur" => DecisionKind::PreventiefSpreekuur,
        "vowij_ja" => DecisionKind::VoWij { consent: true },
        "vowij_nee" => DecisionKind::VoWij { consent: false },
        "meldcode" if may_see_meldcode(role) => DecisionKind::Meldcode,
        "ect" => DecisionKind::Ect,
        "indigo_ja" => DecisionKind::IndigoCheck { needed: true },
        "indigo_nee" => DecisionKind::IndigoCheck { needed: false },
        "meewerken_ja" => DecisionKind::Cooperation { cooperates: true },
        "meewerken_nee" => DecisionKind::Cooperation { cooperates: false },
        "opdc_ttvo" => DecisionKind::Opdc {
            trajectory: OpdcTrajectory::Ttvo,
        },
        "opdc_doorstart" => DecisionKind::Opdc {
            trajectory: OpdcTrajectory::Doorstart,
        },
        "opdc_rebound8" => DecisionKind::Opdc {
            trajectory: OpdcTrajectory::Rebound8,
        },
        "opdc_rebound13" => DecisionKind::Opdc {
            trajectory: OpdcTrajectory::Rebound13,
        },
        "vrijstelling" => DecisionKind::Vrijstelling,
        "maatwerk" => DecisionKind::OtherMaatwerk,
        _ => return None,
    })
}

const PARTIES: [(&str, Party); 10] = Party::CHOICES;

const INTERVENTIONS: [(&str, InterventionKind); 4] = [
    ("afspraken", InterventionKind::Afspraken),
    ("thuiswerkplan", InterventionKind::Thuiswerkplan),
    ("hulpverlening", InterventionKind::Hulpverlening),
    ("anders", InterventionKind::Anders),
];

const CLOSURES: [(&str, ClosureReason); 5] = [
    ("aanwezigheid_hersteld", ClosureReason::AanwezigheidHersteld),
    ("uitgeschreven", ClosureReason::Uitgeschreven),
    ("vrijstelling", ClosureReason::Vrijstelling),
    ("overgedragen", ClosureReason::Overgedragen),
    ("anders", ClosureReason::Anders),
];

/// A `<option>`.
struct Choice {
    value: String,
    label: String,
}

fn choices<'a>(it: impl IntoIterator<Item = (&'a str, String)>) -> Vec<Choice> {
    it.into_iter()
        .map(|(v, l)| Choice {
            value: v.to_owned(),
            label: l,
        })
        .collect()
}

// ---------------------------------------------------------------------------
// The dossier page

struct HistoryRow {
    date: String,
    from: String,
    to: String,
    by: String,
    why: String,
}

struct ItemView {
    step: String,
    key: String,
    label: String,
    party: String,
    open: bool,
    status: &'static str,
    status_value: &'static str,
    detail: String,
}

struct StepGroup {
    step: String,
    label: &'static str,
    items: Vec<ItemView>,
}

/// The checklist's open actions, current step first: "Wat nu" lists them
/// beside the dated tasks, so that it never says "niets open" while an
/// action of the plan still waits.
fn open_actions(groups: &[StepGroup]) -> Vec<&ItemView> {
    groups
        .iter()
        .flat_map(|g| g.items.iter().filter(|i| i.open))
        .collect()
}

struct PartnerView {
    user: String,
    /// The account id the release form sends back (empty for an
    /// involvement recorded before accounts had one).
    account: String,
    name: String,
    role: &'static str,
    since: String,
    until: String,
    active: bool,
}

struct DecisionView {
    date: String,
    label: String,
    parties: String,
    note: String,
    by: String,
}

struct InterventionView {
    n: usize,
    kind: &'static str,
    description: String,
    started: String,
    ended: String,
    evaluations: usize,
    due: String,
    due_overdue: bool,
}

struct TaskView {
    label: String,
    due: String,
    overdue: bool,
}

struct NoteView {
    date: String,
    by: String,
    text: String,
}

struct MeldingView {
    n: i64,
    kind: &'static str,
    status: &'static str,
    period: String,
}

struct ContactSummary {
    count: usize,
    latest: String,
}

struct CaseView {
    step: String,
    step_class: String,
    step_label: &'static str,
    track: &'static str,
    parties: &'static str,
    opened_on: String,
    opened_by: String,
    reason: String,
    reason_note: String,
    owner: String,
    closed: Option<String>,
    reopenings: Vec<String>,
    history: Vec<HistoryRow>,
    checklist: Vec<StepGroup>,
    partners: Vec<PartnerView>,
    decisions: Vec<DecisionView>,
    vowij_refused: bool,
    interventions: Vec<InterventionView>,
    tasks: Vec<TaskView>,
    contacts: ContactSummary,
    contact_list: Vec<ContactView>,
    agreements: ContactSummary,
    confidential: Option<Vec<NoteView>>,
    step_choices: Vec<Choice>,
    /// Open signals of the student that point past the case's step.
    later_signals: Vec<LaterSignal>,
}

struct ContactView {
    /// 1-based, as in `/contact/{n}`.
    n: usize,
    date: String,
    kind: &'static str,
    guide: &'static str,
    participants: String,
}

struct LaterSignal {
    title: &'static str,
    date: String,
    step: String,
}

struct SignalChoice {
    value: String,
    label: String,
    /// The step the case would open on; empty for the call signal.
    step: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "case.html")]
struct DossierPage {
    layout: Layout,
    /// The version of the case shown: every form carries it back, so a
    /// change is refused when someone saved the dossier in the meantime.
    versie: Option<u32>,
    /// The open DUO work (the legal duty), earliest deadline first; for
    /// the school's own roles.
    duo_duties: Vec<DuoDutyView>,
    id: String,
    name: String,
    class: String,
    today: String,
    may_change: bool,
    /// Records referrals and decisions, brings partners in (coordinators).
    may_decide: bool,
    may_make_melding: bool,
    shows_meldingen: bool,
    meldcode_role: bool,
    case: Option<CaseView>,
    signals: Vec<SignalChoice>,
    open_steps: Vec<Choice>,
    partner_choices: Vec<Choice>,
    /// School users who may lead the case (for the handover form).
    lead_choices: Vec<Choice>,
    decision_choices: Vec<Choice>,
    party_choices: Vec<Choice>,
    intervention_choices: Vec<Choice>,
    closure_choices: Vec<Choice>,
    guides: Vec<Choice>,
    meldingen: Vec<MeldingView>,
    failure: Option<Failure>,
    /// After a saved form: its section's anchor and the confirmation.
    saved: Option<(&'static str, &'static str)>,
}

impl DossierPage {
    /// The confirmation to show in the section with anchor `section`.
    fn saved_in(&self, section: &str) -> Option<&'static str> {
        self.saved.filter(|(s, _)| *s == section).map(|(_, m)| m)
    }

    /// The message for form `form`, if that form was refused.
    fn error(&self, form: &str) -> Option<&str> {
        self.failure
            .as_ref()
            .filter(|f| f.form == form)
            .map(|f| f.message.as_str())
    }

    /// What the user typed in `field` of `form` when it was refused.
    fn typed(&self, form: &str, field: &str) -> &str {
        self.failure
            .as_ref()
            .filter(|f| f.form == form)
            .map_or("", |f| f.posted.get(field))
    }

    /// Whether `value` was chosen in `field` of the refused `form`.
    fn chose(&self, form: &str, field: &str, value: &str) -> bool {
        self.failure
            .as_ref()
            .filter(|f| f.form == form)
            .is_some_and(|f| f.posted.all(field).contains(&value))
    }

    /// Whether the refused form was the checklist form of item `key` of `step`.
    fn item_failed(&self, step: &str, key: &str) -> bool {
        self.typed("checklist", "stap") == step && self.typed("checklist", "sleutel") == key
    }

    /// What was typed in `field` of the refused checklist form of one item,
    /// or `default`.
    fn item_typed<'a>(&'a self, step: &str, key: &str, field: &str, default: &'a str) -> &'a str {
        if self.item_failed(step, key) {
            self.typed("checklist", field)
        } else {
            default
        }
    }

    /// A date field's value: what was typed, or today.
    fn date_or_today(&self, form: &str) -> String {
        let t = self.typed(form, "datum");
        if t.is_empty() {
            self.today.clone()
        } else {
            t.to_owned()
        }
    }
}

async fn user_names(state: &AppState) -> Result<HashMap<String, (String, Role, bool)>, PageError> {
    Ok(users_and_names(state).await?.1)
}

/// Every user, and [`user_names`] made from them (one read of the store).
async fn users_and_names(
    state: &AppState,
) -> Result<(Arc<Vec<User>>, HashMap<String, (String, Role, bool)>), PageError> {
    let users = super::cache::users(state).await?;
    let names = users
        .iter()
        .map(|u| {
            (
                u.username.clone(),
                (u.display_name.clone(), u.role, u.active),
            )
        })
        .collect();
    Ok((users, names))
}

/// A partner's name as shown: the display name of the account the
/// involvement is of, or the username it recorded when that account is
/// gone (a later account with the same name is someone else).
fn partner_name(users: &[User], i: &Involvement) -> String {
    dossier::account_of(users, i).map_or_else(|| i.user.clone(), |u| u.display_name.clone())
}

fn name_of(names: &HashMap<String, (String, Role, bool)>, user: &str) -> String {
    names
        .get(user)
        .map_or_else(|| user.to_owned(), |(n, _, _)| n.clone())
}

fn actor_label(names: &HashMap<String, (String, Role, bool)>, a: &Actor) -> String {
    format!("{} ({})", name_of(names, &a.user), a.role.label_nl())
}

fn item_detail(s: &ItemStatus, names: &HashMap<String, (String, Role, bool)>) -> String {
    match s {
        ItemStatus::Open => String::new(),
        ItemStatus::Done { on, by, note } | ItemStatus::NotApplicable { on, by, note } => {
            let mut t = format!("{} door {}", date_nl(*on), actor_label(names, by));
            if !note.is_empty() {
                t.push_str(": ");
                t.push_str(note);
            }
            t
        }
    }
}

fn item_value(s: &ItemStatus) -> &'static str {
    match s {
        ItemStatus::Open => "open",
        ItemStatus::Done { .. } => "gedaan",
        ItemStatus::NotApplicable { .. } => "nvt",
    }
}

/// Builds the view of a (redacted) case.
fn case_view(
    case: &Case,
    user: &CurrentUser,
    users: &[User],
    names: &HashMap<String, (String, Role, bool)>,
    cal: Option<&aanwezig_domain::Calendar>,
    today: NaiveDate,
) -> CaseView {
    let history = case
        .history
        .iter()
        .rev()
        .map(|h| HistoryRow {
            date: date_nl(h.at_date),
            from: h.from.to_string(),
            to: h.to.to_string(),
            by: actor_label(names, &h.by),
            why: h.why.clone(),
        })
        .collect();
    let mut steps: Vec<CaseStep> = Vec::new();
    for i in &case.checklist {
        if !steps.contains(&i.step) {
            steps.push(i.step);
        }
    }
    // The current step's list first, then the earlier ones.
    steps.sort_by_key(|s| (*s != case.step, std::cmp::Reverse(*s)));
    let checklist = steps
        .into_iter()
        .map(|s| StepGroup {
            step: s.to_string(),
            label: s.label_nl(),
            items: case
                .checklist_of(s)
                .map(|i| ItemView {
                    step: s.to_string(),
                    key: i.key.clone(),
                    label: i.label_nl.clone(),
                    party: i.party.label_nl().to_owned(),
                    open: i.status.is_open(),
                    status: i.status.label_nl(),
                    status_value: item_value(&i.status),
                    detail: item_detail(&i.status, names),
                })
                .collect(),
        })
        .collect();
    let partners = case
        .involved
        .iter()
        .map(|i| PartnerView {
            user: i.user.clone(),
            account: i.account.clone().unwrap_or_default(),
            name: partner_name(users, i),
            role: i.role.label_nl(),
            since: date_nl(i.since),
            until: i.until.map(date_nl).unwrap_or_default(),
            active: i.is_active(),
        })
        .collect();
    let decisions = case
        .decisions
        .iter()
        .rev()
        .map(|d| DecisionView {
            date: date_nl(d.on),
            label: d.kind.label_nl(),
            parties: d
                .parties
                .iter()
                .map(|p| p.label_nl().to_owned())
                .collect::<Vec<_>>()
                .join(", "),
            note: d.note.clone(),
            by: actor_label(names, &d.by),
        })
        .collect();
    let vowij_refused = case
        .decisions
        .iter()
        .any(|d| d.kind == DecisionKind::VoWij { consent: false });
    let interventions = case
        .interventions
        .iter()
        .enumerate()
        .map(|(k, i)| {
            let due = cal.map(|c| i.evaluation_due(c));
            InterventionView {
                n: k + 1,
                kind: i.kind.label_nl(),
                description: i.description.clone(),
                started: date_nl(i.started_on),
                ended: i.ended_on.map(date_nl).unwrap_or_default(),
                evaluations: i.evaluations.len(),
                due: if i.ended_on.is_none() {
                    due.map(date_nl).unwrap_or_default()
                } else {
                    String::new()
                },
                due_overdue: i.ended_on.is_none() && due.is_some_and(|d| d < today),
            }
        })
        .collect();
    let tasks = cal
        .map(|c| case.tasks(c, today))
        .unwrap_or_default()
        .into_iter()
        .map(|t| TaskView {
            label: t.label_nl,
            due: date_nl(t.due),
            overdue: t.overdue,
        })
        .collect();
    let contacts = ContactSummary {
        count: case.contacts.len(),
        latest: case
            .contacts
            .iter()
            .max_by_key(|c| c.on)
            .map(|c| format!("{} ({})", date_nl(c.on), c.kind.label_nl()))
            .unwrap_or_default(),
    };
    let contact_list = case
        .contacts
        .iter()
        .enumerate()
        .map(|(k, c)| ContactView {
            n: k + 1,
            date: date_nl(c.on),
            kind: c.kind.label_nl(),
            guide: c.guide.map(|g| g.label_nl()).unwrap_or_default(),
            participants: c
                .participants
                .iter()
                .map(|p| p.label_nl().to_owned())
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect();
    let agreements = ContactSummary {
        count: case.agreements.len(),
        latest: case
            .agreements
            .iter()
            .max_by_key(|a| a.made_on)
            .map(|a| format!("{}: {}", date_nl(a.made_on), a.what))
            .unwrap_or_default(),
    };
    let confidential = (may_read_confidential(user.role()) && case.involves(&user.identity()))
        .then(|| {
            case.confidential
                .iter()
                .rev()
                .map(|n| NoteView {
                    date: date_nl(n.on),
                    by: actor_label(names, &n.by),
                    text: n.text.clone(),
                })
                .collect()
        });
    let (reason, reason_note) = match &case.reason {
        OpenReason::Signal { rule, on } => (
            format!("signaal '{}' van {}", rule.title_nl(), date_nl(*on)),
            String::new(),
        ),
        OpenReason::Zorgen { note } => ("zorgen over de aanwezigheid".to_owned(), note.clone()),
    };
    CaseView {
        step: case.step.to_string(),
        step_class: format!("step-{}", case.step),
        step_label: case.step.label_nl(),
        track: match case.step.track() {
            Some(aanwezig_domain::Track::A) => "a-spoor: gemeld verzuim",
            Some(aanwezig_domain::Track::B) => "b-spoor: onbekend verzuim (zonder geldige reden)",
            None => "",
        },
        parties: case.step.parties_nl(),
        opened_on: date_nl(case.opened_on),
        opened_by: actor_label(names, &case.opened_by),
        reason,
        reason_note,
        owner: name_of(names, case.owner()),
        closed: case.closed.as_ref().map(|c| {
            let mut t = format!(
                "Gesloten op {} door {}: {}",
                date_nl(c.on),
                actor_label(names, &c.by),
                c.reason.label_nl()
            );
            if !c.note.is_empty() {
                t.push_str(&format!(" ({})", c.note));
            }
            t
        }),
        reopenings: case
            .reopenings
            .iter()
            .map(|r| {
                format!(
                    "Heropend op {} door {} (gesloten sinds {}): {}",
                    date_nl(r.on),
                    actor_label(names, &r.by),
                    date_nl(r.closure.on),
                    r.why
                )
            })
            .collect(),
        history,
        checklist,
        partners,
        decisions,
        vowij_refused,
        interventions,
        tasks,
        contacts,
        contact_list,
        agreements,
        confidential,
        later_signals: Vec::new(),
        step_choices: CaseStep::ALL
            .into_iter()
            .filter(|s| *s != case.step)
            .map(|s| Choice {
                value: s.to_string(),
                label: format!("{s}: {}", s.label_nl()),
            })
            .collect(),
    }
}

/// A signal of the student that points to a step.
struct StepSignal {
    step: CaseStep,
    fired: NaiveDate,
    open: bool,
    view: LaterSignal,
}

/// From the live evaluation of the student: the signals that point to a
/// step, and the dates of every call signal.
fn student_signals(
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
fn open_signals(state: &AppState, student: &StudentId) -> Result<Vec<SignalChoice>, PageError> {
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

/// Renders the dossier page (with the read audited), optionally with a
/// refused form's message.
/// One open piece of DUO work, as "Wat nu" shows it.
struct DuoDutyView {
    what: String,
    due: String,
    overdue: bool,
}

/// The open DUO work of a student (crate::duo_work, as every other page
/// counts it), earliest deadline (so overdue) first.
async fn duo_duties(state: &AppState, student: &StudentId) -> Result<Vec<DuoDutyView>, PageError> {
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
async fn open_duo_work(state: &AppState, id: &str) -> Result<usize, PageError> {
    match StudentId::parse(id) {
        Ok(student) => Ok(duo_duties(state, &student).await?.len()),
        Err(_) => Ok(0),
    }
}

/// Moving past 4b or closing while DUO work is open asks for an explicit
/// confirmation (`duo_bevestigd`) with a reason (`duo_reden`); the text to
/// record, or why not.
fn duo_confirmation(p: &Posted, open: usize) -> Result<Option<String>, String> {
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

async fn render(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    failure: Option<Failure>,
) -> Result<Response, PageError> {
    render_saved(state, user, id, failure, None).await
}

/// [`render`], with the confirmation of a saved form in its section.
async fn render_saved(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    failure: Option<Failure>,
    saved: Option<(&'static str, &'static str)>,
) -> Result<Response, PageError> {
    let (student, case) = dossier::load_versioned(state, user, id, "dossier").await?;
    let versie = case.as_ref().map(|(_, v)| *v);
    let case = case.map(|(c, _)| c);
    let duo_duties = if user.role().is_external() {
        Vec::new()
    } else {
        duo_duties(state, &student.id).await?
    };
    let (users, names) = users_and_names(state).await?;
    let role = user.role();
    // The DUO meldingen are the coordinators' and leerplicht's (their menu).
    let shows_meldingen = role.sees_all_students() || role == Role::Leerplichtambtenaar;
    let meldingen = super::meldingen::of_student_for(state, role, &student.id)
        .await?
        .into_iter()
        .map(|(n, m)| MeldingView {
            n,
            kind: m.kind.label_nl(),
            status: m.status.label_nl(),
            period: format!("{} – {}", date_nl(m.begin), date_nl(m.end)),
        })
        .collect();
    let today = state.clock.today();
    let may_change = dossier::may_change_cases(role);
    let signals = if may_change && case.as_ref().is_none_or(|c| !c.is_open()) {
        open_signals(state, &student.id)?
    } else {
        Vec::new()
    };
    let view = {
        let live = state.read()?;
        let (mut later, contacts) = student_signals(&live, &student.id);
        case.as_ref().map(|c| {
            // The calls for whole-day absence since the case opened count
            // in "Wat nu" (linked here for the view, not saved).
            let mut c = c.clone();
            if c.is_open() {
                let opened = c.opened_on;
                for on in contacts.into_iter().filter(|d| *d >= opened) {
                    let _ = c.link_signal(RuleId::Contact, on);
                }
            }
            let mut v = case_view(&c, user, &users, &names, live.cal.as_ref(), today);
            if c.is_open() {
                // Open now, or fired since the case reached its step (a DUO
                // signal closes when its four weeks move on, while the
                // melding is still due).
                let since = c.history.last().map_or(c.opened_on, |h| h.at_date);
                // A partner: nothing from before they came in.
                let partner = dossier::partner_since(user, &c);
                later.retain(|s| {
                    s.step.level() > c.step.level()
                        && (s.open || s.fired >= since)
                        && partner.is_none_or(|from| s.open || s.fired >= from)
                });
                v.later_signals = later
                    .into_iter()
                    .map(|s| LaterSignal {
                        step: s.step.to_string(),
                        ..s.view
                    })
                    .collect();
            }
            v
        })
    };
    let partner_choices = {
        let mut v: Vec<(String, String)> = users
            .iter()
            .filter(|u| {
                u.active
                    && u.role.is_external()
                    && !case.as_ref().is_some_and(|c| c.involves(&u.identity()))
            })
            .map(|u| {
                (
                    u.username.clone(),
                    format!("{} ({})", u.display_name, u.role.label_nl()),
                )
            })
            .collect();
        v.sort_by(|a, b| a.1.cmp(&b.1));
        v.into_iter()
            .map(|(value, label)| Choice { value, label })
            .collect()
    };
    let lead_choices = {
        let owner = case.as_ref().map(|c| c.owner().to_owned());
        let leaders = if may_manage_partners(role) {
            leaders(state, &student).await?
        } else {
            HashSet::new()
        };
        let mut v: Vec<(String, String)> = names
            .iter()
            .filter(|(u, _)| leaders.contains(u.as_str()) && owner.as_deref() != Some(u.as_str()))
            .map(|(u, (n, r, _))| (u.clone(), format!("{n} ({})", r.label_nl())))
            .collect();
        v.sort_by(|a, b| a.1.cmp(&b.1));
        v.into_iter()
            .map(|(value, label)| Choice { value, label })
            .collect()
    };
    let status = if failure.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = DossierPage {
        versie,
        layout: Layout::new(user, section::DOSSIERS, format!("Dossier {}", student.name)),
        duo_duties,
        id: student.id.to_string(),
        name: student.name.clone(),
        class: student.class.clone(),
        today: iso(today),
        may_change,
        may_decide: may_manage_partners(role),
        may_make_melding: role.sees_all_students(),
        shows_meldingen,
        meldcode_role: may_see_meldcode(role),
        case: view,
        signals,
        open_steps: choices(
            [CaseStep::S3a, CaseStep::S3b, CaseStep::S4a, CaseStep::S4b]
                .map(|s| (s.as_str(), format!("{s}: {}", s.label_nl()))),
        ),
        partner_choices,
        lead_choices,
        decision_choices: choices(
            decision_choices(role)
                .into_iter()
                .map(|(v, l)| (v, l.to_owned())),
        ),
        party_choices: choices(PARTIES.iter().map(|(v, p)| (*v, p.label_nl().to_owned()))),
        intervention_choices: choices(
            INTERVENTIONS
                .iter()
                .map(|(v, k)| (*v, k.label_nl().to_owned())),
        ),
        closure_choices: choices(CLOSURES.iter().map(|(v, c)| (*v, c.label_nl().to_owned()))),
        guides: Guide::ALL
            .into_iter()
            .map(|g| Choice {
                value: format!("{g:?}"),
                label: g.label_nl().to_owned(),
            })
            .collect(),
        meldingen,
        failure: failure.map(Failure::into_sentence),
        saved,
    };
    Ok((status, page).into_response())
}

/// `GET /leerlingen/{id}/dossier`.
async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<SavedQuery>,
) -> Result<Response, PageError> {
    let saved = q.opgeslagen.as_deref().and_then(saved_message);
    render_saved(&state, &user, &id, None, saved).await
}

// ---------------------------------------------------------------------------
// Changes

fn to_dossier(student: &StudentId, form: &str) -> Response {
    // Back to the section of the form that was sent.
    let anchor = match form {
        "interventie" => "interventies",
        "sluiten" | "heropenen" => "dossier",
        f => f,
    };
    // `opgeslagen` names the form, for the confirmation in its section.
    Redirect::to(&format!(
        "{}/dossier?opgeslagen={form}#{anchor}",
        crate::paths::student(student)
    ))
    .into_response()
}

/// The confirmation after a dossier form was saved, by the form's name
/// (`opgeslagen`), and the section (anchor) it stands in.
fn saved_message(form: &str) -> Option<(&'static str, &'static str)> {
    Some(match form {
        "dossier" => ("dossier", "Het dossier is geopend."),
        "stap" => ("stap", "De stap is gewijzigd."),
        "checklist" => ("checklist", "De actie is bijgewerkt."),
        "partners" => ("partners", "De betrokken partners zijn bijgewerkt."),
        "besluit" => ("besluit", "Het besluit is vastgelegd."),
        "interventie" => ("interventies", "De interventie is vastgelegd."),
        "interventies" => ("interventies", "De interventie is bijgewerkt."),
        "sluiten" => ("dossier", "Het dossier is gesloten."),
        "heropenen" => ("dossier", "Het dossier is heropend."),
        "notities" => ("notities", "De notitie is opgeslagen."),
        _ => return None,
    })
}

#[derive(Debug, Default, Deserialize)]
struct SavedQuery {
    opgeslagen: Option<String>,
}

/// Applies `f` to the stored case under [`dossier::update`] (which returns
/// the audit detail or a Dutch message) and redirects; a refusal leaves
/// the case as stored and re-renders the dossier page at `form` with 422.
async fn apply(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    form: &str,
    posted: Posted,
    f: impl FnOnce(&mut Case, Actor, NaiveDate, &Posted) -> Result<String, String>,
) -> Result<Response, PageError> {
    apply_as(state, user, id, form, posted, |_| true, f).await
}

/// [`apply`] for a change only some of the roles that change cases may
/// make (`allowed`); the others get 403 before the form is looked at.
async fn apply_as(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    form: &str,
    posted: Posted,
    allowed: impl Fn(Role) -> bool,
    f: impl FnOnce(&mut Case, Actor, NaiveDate, &Posted) -> Result<String, String>,
) -> Result<Response, PageError> {
    let today = state.clock.today();
    let by = dossier::actor(user);
    let role = user.role();
    let mut refused: Option<String> = None;
    let expected = posted.version();
    let result = dossier::update(state, user, id, expected, |student, case| {
        if !allowed(role) {
            return Err(PageError::Forbidden);
        }
        let outcome = match case.as_mut() {
            None => Err("deze leerling heeft nog geen dossier. Open eerst een dossier".to_owned()),
            Some(c) => f(c, by, today, &posted),
        };
        match outcome {
            Ok(detail) => Ok((detail, student.id.clone())),
            Err(message) => {
                refused = Some(message);
                // Leaves the stored case as it was.
                Err(PageError::BadRequest(String::new()))
            }
        }
    })
    .await;
    match (result, refused) {
        (Ok(student), _) => Ok(to_dossier(&student, form)),
        (Err(_), Some(message)) => {
            render(
                state,
                user,
                id,
                Some(Failure {
                    form: form.to_owned(),
                    message,
                    posted,
                }),
            )
            .await
        }
        (Err(e), None) => Err(e),
    }
}

/// `POST /leerlingen/{id}/dossier/openen`: from a current signal or by hand.
async fn open(
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
async fn move_step(
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
async fn checklist(
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

/// Whether `role` records referrals and decisions and brings partners in
/// or releases them: the coordinators; the mentor reads these sections.
fn may_manage_partners(role: Role) -> bool {
    role.sees_all_students()
}

/// `POST …/partners`: brings an external partner in, by their account.
async fn involve(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let posted = Posted(fields);
    // Read before the change, like the other forms' user lists; the
    // account id read here is what the case records.
    let partner = state.store.user(posted.get("gebruiker")).await?;
    apply_as(
        &state,
        &user,
        &id,
        "partners",
        posted,
        may_manage_partners,
        |case, by, today, _| {
            let partner = partner.as_ref().ok_or("kies een partner uit de lijst")?;
            let name = &partner.display_name;
            if !partner.active {
                return Err(format!(
                    "{name} kan niet meer inloggen; kies een actieve gebruiker"
                ));
            }
            case.involve(&partner.identity(), partner.role, today, by)
                .map_err(case_err)?;
            Ok(format!(
                "dossier: {name} ({}) betrokken",
                partner.role.label_nl()
            ))
        },
    )
    .await
}

/// Whether a user (`role`, mentoring `classes`) may lead `student`'s case:
/// a school role that changes cases and sees the student (the two
/// coordinators, or a mentor of the student's class, compared like
/// `Scope::may_see`).
fn may_lead(role: Role, classes: &[String], student: &Student) -> bool {
    dossier::may_change_cases(role)
        && Scope {
            role,
            classes,
            involved: &[],
        }
        .may_see(student)
}

/// The active users who may lead `student`'s case ([`may_lead`]).
async fn leaders(state: &AppState, student: &Student) -> Result<HashSet<String>, PageError> {
    // Every account, kept while nothing changes (super::cache).
    Ok(super::cache::users(state)
        .await?
        .iter()
        .filter(|u| u.active && may_lead(u.role, &u.classes, student))
        .map(|u| u.username.clone())
        .collect())
}

/// `POST …/dossierhouder`: hands the case over (coordinators).
async fn hand_over(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let student = dossier::student_in_scope(&state, &user, &id)?;
    let (names, leaders) = tokio::try_join!(user_names(&state), leaders(&state, &student))?;
    apply_as(
        &state,
        &user,
        &id,
        "dossier",
        Posted(fields),
        may_manage_partners,
        |case, by, today, p| {
            let who = p.get("gebruiker");
            let (name, role, active) = names
                .get(who)
                .cloned()
                .ok_or("kies een dossierhouder uit de lijst")?;
            if !active {
                return Err(format!(
                    "{name} kan niet meer inloggen; kies een actieve gebruiker"
                ));
            }
            // A partner gets the domain's refusal below.
            if dossier::may_change_cases(role) && !leaders.contains(who) {
                return Err(format!(
                    "{name} kan dit dossier niet leiden: alleen een coördinator of een mentor van klas {} kan dossierhouder zijn",
                    student.class
                ));
            }
            case.hand_over(who, role, today, by).map_err(case_err)?;
            Ok(format!("dossier: dossierhouder nu {name}"))
        },
    )
    .await
}

/// `POST …/partners/verwijderen`: ends a partner's involvement (fields
/// `gebruiker` and, for an involvement with an account id, `account`).
async fn release(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    apply_as(
        &state,
        &user,
        &id,
        "partners",
        Posted(fields),
        may_manage_partners,
        |case, _by, today, p| {
            let who = p.get("gebruiker");
            // The form names the involvement's account when it has one;
            // without, every current involvement under the username ends.
            let account = Some(p.get("account")).filter(|a| !a.is_empty());
            case.release(who, account, today).map_err(case_err)?;
            Ok(format!("dossier: {who} niet meer betrokken"))
        },
    )
    .await
}

/// `POST …/besluit`.
async fn decide(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let role = user.role();
    apply_as(
        &state,
        &user,
        &id,
        "besluit",
        Posted(fields),
        may_manage_partners,
        |case, by, today, p| {
            let kind = decision_kind(p.get("soort"), role).ok_or("kies wat er is besloten")?;
            let on = date_field(p, "datum", today)?;
            let parties = p
                .all("partij")
                .into_iter()
                .filter_map(|v| {
                    PARTIES
                        .iter()
                        .find(|(k, _)| *k == v)
                        .map(|(_, p)| p.clone())
                })
                .collect();
            let note = p.get("notitie").trim().to_owned();
            if kind == DecisionKind::OtherMaatwerk && note.is_empty() {
                return Err("omschrijf in de notitie welk maatwerk is afgesproken".into());
            }
            // The audit log is read by the beheerder: one text for every
            // decision, so it never tells a meldcode or a consent outcome.
            let detail = "dossier: verwijzing of besluit vastgelegd".to_owned();
            case.decide(Decision {
                on,
                by,
                kind,
                parties,
                note,
            })
            .map_err(case_err)?;
            Ok(detail)
        },
    )
    .await
}

/// `POST …/interventie`: starts one.
async fn start_intervention(
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
async fn end_intervention(
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

/// `POST …/sluiten`.
async fn close(
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
async fn reopen(
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

/// `POST …/notitie`: the jeugdarts's confidential note
/// ([`dossier::add_confidential_note`]; not through `update`, which is for
/// the school's roles).
async fn note(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let posted = Posted(fields);
    match dossier::add_confidential_note(&state, &user, &id, posted.get("tekst")).await? {
        Ok(()) => {
            let student = dossier::student_in_scope(&state, &user, &id)?;
            Ok(to_dossier(&student.id, "notities"))
        }
        Err(e) => {
            render(
                &state,
                &user,
                &id,
                Some(Failure {
                    form: "notitie".into(),
                    message: case_err(e),
                    posted,
                }),
            )
            .await
        }
    }
}

// ---------------------------------------------------------------------------
// One intervention and its evaluation

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
        may_change: dossier::may_change_cases(user.role()) && case.is_open(),
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
async fn intervention(
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
async fn evaluate(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, n)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    dossier::student_in_scope(&state, &user, &id)?;
    user.require(dossier::may_change_cases(user.role()))?;
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

// ---------------------------------------------------------------------------
// The list

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    status: Option<String>,
}

struct ListRow {
    id: String,
    name: String,
    class: String,
    step: String,
    step_class: String,
    step_label: &'static str,
    opened_on: String,
    owner: String,
    partners: String,
    closed: String,
    next_task: String,
    next_due: String,
    overdue: bool,
    /// The open DUO work ("2 te doen, waarvan 1 te laat"), empty when none.
    duo: String,
    duo_due: String,
    duo_overdue: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "dossiers.html")]
struct ListPage {
    layout: Layout,
    status: String,
    rows: Vec<ListRow>,
}

/// `GET /dossiers`.
async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> Result<ListPage, PageError> {
    user.require(dossier::may_read_cases(user.role()))?;
    let status = match q.status.as_deref() {
        Some("gesloten") => "gesloten",
        Some("alle") => "alle",
        _ => "open",
    };
    let (cases, users_names, audit) = tokio::join!(
        state.store.cases(status == "open"),
        users_and_names(&state),
        user.audit(&state, AuditAction::Read, None, "dossierlijst"),
    );
    audit?;
    let (cases, (users, names)) = (cases?, users_names?);
    let today = state.clock.today();
    let external = user.role().is_external();
    let duo_records = if external {
        crate::duo_work::DuoRecords::default()
    } else {
        crate::duo_work::DuoRecords::load(&state).await?
    };
    let duo_by = duo_records.by_student();
    let live = state.read()?;
    let mut rows = Vec::new();
    for case in cases {
        if status == "gesloten" && case.is_open() {
            continue;
        }
        let Some(i) = live.school.position(&case.student) else {
            continue;
        };
        let student = &live.school.students()[i];
        // A partner sees only the open cases they are brought into (not
        // every student in their scope, e.g. one of a sent DUO melding),
        // and each as redacted for their role.
        if !user.scope().may_see(student) || !dossier::partner_may_read(&user, Some(&case)) {
            continue;
        }
        let case = dossier::seen_by(&user, &case);
        let next = live
            .cal
            .as_ref()
            .and_then(|c| case.tasks(c, today).into_iter().next());
        // The legal duty, as every page counts it (crate::duo_work).
        let duo = if !external && case.is_open() {
            crate::duo_work::work_of(&live, i, &duo_by, today)
        } else {
            aanwezig_domain::duo_work::StudentDuoWork::default()
        };
        rows.push(ListRow {
            duo: match (duo.count(), duo.overdue()) {
                (0, _) => String::new(),
                (n, 0) => format!("{n} te doen"),
                (n, o) => format!("{n} te doen, waarvan {o} te laat"),
            },
            duo_due: duo.earliest().map(date_nl).unwrap_or_default(),
            duo_overdue: duo.overdue() > 0,
            id: student.id.to_string(),
            name: student.name.clone(),
            class: student.class.clone(),
            step: case.step.to_string(),
            step_class: format!("step-{}", case.step),
            step_label: case.step.label_nl(),
            opened_on: date_nl(case.opened_on),
            owner: name_of(&names, case.owner()),
            partners: case
                .involved
                .iter()
                .filter(|p| p.is_active())
                .map(|p| format!("{} ({})", partner_name(&users, p), p.role.label_nl()))
                .collect::<Vec<_>>()
                .join(", "),
            closed: case
                .closed
                .as_ref()
                .map(|c| date_nl(c.on))
                .unwrap_or_default(),
            next_task: next
                .as_ref()
                .map(|t| t.label_nl.clone())
                .unwrap_or_default(),
            next_due: next.as_ref().map(|t| date_nl(t.due)).unwrap_or_default(),
            overdue: next.as_ref().is_some_and(|t| t.overdue),
        });
    }
    // Dossiers with an overdue DUO melding first.
    rows.sort_by(|a, b| {
        (!a.duo_overdue, &a.class, &a.name).cmp(&(!b.duo_overdue, &b.class, &b.name))
    });
    Ok(ListPage {
        layout: Layout::new(&user, section::DOSSIERS, "Dossiers"),
        status: status.to_owned(),
        rows,
    })
}

/// This area's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/dossiers", get(list))
        .route("/leerlingen/{id}/dossier", get(page))
        .route("/leerlingen/{id}/dossier/openen", post(open))
        .route("/leerlingen/{id}/dossier/stap", post(move_step))
        .route("/leerlingen/{id}/dossier/checklist", post(checklist))
        .route("/leerlingen/{id}/dossier/partners", post(involve))
        .route("/leerlingen/{id}/dossier/dossierhouder", post(hand_over))
        .route(
            "/leerlingen/{id}/dossier/partners/verwijderen",
            post(release),
        )
        .route("/leerlingen/{id}/dossier/besluit", post(decide))
        .route(
            "/leerlingen/{id}/dossier/interventie",
            post(start_intervention),
        )
        .route(
            "/leerlingen/{id}/dossier/interventie/{n}",
            get(intervention),
        )
        .route(
            "/leerlingen/{id}/dossier/interventie/{n}/evaluatie",
            post(evaluate),
        )
        .route(
            "/leerlingen/{id}/dossier/interventie/{n}/beeindigen",
            post(end_intervention),
        )
        .route("/leerlingen/{id}/dossier/sluiten", post(close))
        .route("/leerlingen/{id}/dossier/heropenen", post(reopen))
        .route("/leerlingen/{id}/dossier/notitie", post(note))
}
