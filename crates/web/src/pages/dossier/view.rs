//! The dossier page: `GET /leerlingen/{id}/dossier`, everything a role may read of one case.

use aanwezig_app::Permission;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use aanwezig_domain::case::{Actor, DecisionKind, Guide, Involvement, ItemStatus, OpenReason};
use aanwezig_domain::explain::date_nl;
use aanwezig_domain::{Case, CaseStep, Role, RuleId};
use aanwezig_storage::User;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::NaiveDate;

use super::decisions::decision_choices;
use super::forms::{
    choices, iso, saved_message, Choice, Failure, SavedQuery, CLOSURES, INTERVENTIONS, PARTIES,
};
use super::partners::leaders;
use super::signals::{duo_duties, open_signals, student_signals, DuoDutyView};
use crate::auth::CurrentUser;
use crate::dossier;
use crate::error::PageError;
use crate::layout::{section, Layout};
use crate::state::AppState;

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
    pub(super) kind: &'static str,
    pub(super) guide: &'static str,
    pub(super) participants: String,
}

pub(super) struct LaterSignal {
    pub(super) title: &'static str,
    pub(super) date: String,
    pub(super) step: String,
}

pub(super) struct SignalChoice {
    pub(super) value: String,
    pub(super) label: String,
    /// The step the case would open on; empty for the call signal.
    pub(super) step: String,
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

pub(super) async fn user_names(
    state: &AppState,
) -> Result<HashMap<String, (String, Role, bool)>, PageError> {
    Ok(users_and_names(state).await?.1)
}

/// Every user, and [`user_names`] made from them (one read of the store).
pub(super) async fn users_and_names(
    state: &AppState,
) -> Result<(Arc<Vec<User>>, HashMap<String, (String, Role, bool)>), PageError> {
    let users = crate::pages::cache::users(state).await?;
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
pub(super) fn partner_name(users: &[User], i: &Involvement) -> String {
    dossier::account_of(users, i).map_or_else(|| i.user.clone(), |u| u.display_name.clone())
}

pub(super) fn name_of(names: &HashMap<String, (String, Role, bool)>, user: &str) -> String {
    names
        .get(user)
        .map_or_else(|| user.to_owned(), |(n, _, _)| n.clone())
}

pub(super) fn actor_label(names: &HashMap<String, (String, Role, bool)>, a: &Actor) -> String {
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
    let confidential = (user.may(Permission::ConfidentialNotes) && case.involves(&user.identity()))
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

/// Renders the dossier page (with the read audited), optionally with a
/// refused form's message.
pub(super) async fn render(
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
    let shows_meldingen = user.may(Permission::ReadMeldingen);
    let meldingen = crate::pages::meldingen::of_student_for(state, role, &student.id)
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
    let may_change = user.may_for(Permission::ChangeCase, &student);
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
        let leaders = if user.may(Permission::ManagePartners) {
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
        may_decide: user.may_for(Permission::ManagePartners, &student),
        may_make_melding: user.may_for(Permission::ManageMeldingen, &student),
        shows_meldingen,
        meldcode_role: user.may(Permission::SeeMeldcode),
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
pub(super) async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<SavedQuery>,
) -> Result<Response, PageError> {
    let saved = q.opgeslagen.as_deref().and_then(saved_message);
    render_saved(&state, &user, &id, None, saved).await
}
