//! Mijn taken: every due and overdue task of the signed-in user, and the
//! same as an iCalendar feed at a per-user secret address.
//!
//! Where tasks come from ([`user_tasks`]):
//! - every open case the user is responsible for: [`Case::tasks`] (the
//!   call after a whole day of absence, from step 4 the weekly agreement
//!   check, the evaluation at most six weeks after an intervention starts,
//!   thuiswerkplan weeks with too few contacts of two hours). Responsible:
//!   the case's owner; a mentor for every case of the own classes; the
//!   coordinators for cases whose owner is no active user. External
//!   partners see the tasks of the cases they are brought into, read only.
//! - step 2 of the plan, for a mentor: a call for every student of the own
//!   classes with an open whole-day absence signal and no case contact
//!   since.
//! - DUO, for the coordinators: every DUO signal without a melding, and
//!   every melding still in concept.
//!
//! The feed (`/agenda/{token}.ics`) needs no session: the token is the
//! key. The store keeps only its hash. Calendar apps copy feeds to cloud
//! services, so the feed names a student by number and class only, never
//! by name, and says nothing about the absence itself.

use std::collections::{HashMap, HashSet};

use aanwezig_app::permission::{self, Permission, StudentFacts};
use aanwezig_domain::case::{OpenReason, PartnerIdentity, TaskKind};
use aanwezig_domain::explain::date_nl;
use aanwezig_domain::{Case, Role, RuleId, Student, StudentId};
use aanwezig_storage::{AuditAction, AuditEntry};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE, HOST};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Days, NaiveDate, Utc};
use icalendar::{Calendar, Class, Component, EventLike, Property};
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::error::PageError;
use crate::guard::ReadCase;
use crate::layout::{section, Layout};
use crate::live::Live;
use crate::state::AppState;

/// Whose tasks: a user with what their scope needs, with or without a
/// session (the feed has none).
#[derive(Clone, Copy, Debug)]
pub struct TaskOwner<'a> {
    pub username: &'a str,
    /// The account, for the partner check of a case.
    pub identity: PartnerIdentity<'a>,
    pub role: Role,
    /// A mentor's classes.
    pub classes: &'a [String],
    /// An external partner's students (`crate::auth::involved_students`).
    pub involved: &'a [StudentId],
}

impl<'a> TaskOwner<'a> {
    /// The signed-in user.
    pub fn of(user: &'a CurrentUser) -> TaskOwner<'a> {
        TaskOwner {
            username: &user.user.username,
            identity: user.identity(),
            role: user.role(),
            classes: &user.user.classes,
            involved: &user.involved,
        }
    }

    /// Whether the owner reads `student` ([`Permission::ReadStudent`]).
    /// `involved` holds a partner's students of both relations (brought in,
    /// and for the leerplichtambtenaar a sent melding); reading a student
    /// needs either, so both facts are the one list here.
    fn may_see(&self, student: &Student) -> bool {
        let listed = self.involved.contains(&student.id);
        let facts = StudentFacts::of(self.classes, student, listed, listed);
        permission::may_for(self.role, Permission::ReadStudent, facts)
    }
}

/// One task of "Mijn taken".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserTask {
    /// What kind, stable (part of the feed's UID): `bellen`, `afspraken`,
    /// `evaluatie`, `thuiswerkplan`, `duo`, `duo-concept`.
    pub kind: &'static str,
    /// Tells tasks of one kind, student and due date apart (an
    /// intervention's index, a week, a rule, a melding's number).
    pub index: String,
    /// What to do, in Dutch, for the page.
    pub what_nl: String,
    /// What to do, in Dutch, without any detail of the student's absence
    /// or the case: for the calendar feed.
    pub feed_nl: &'static str,
    pub due: NaiveDate,
    pub overdue: bool,
    pub student: StudentId,
    pub name: String,
    pub class: String,
    /// Where it is done.
    pub href: String,
    /// An external partner's view of the school's task.
    pub read_only: bool,
}

/// The tasks of `owner` as of `today`, sorted by due date (then class and
/// student).
pub async fn user_tasks(
    state: &AppState,
    owner: TaskOwner<'_>,
    today: NaiveDate,
) -> Result<Vec<UserTask>, PageError> {
    if !permission::may(owner.role, Permission::ReadCase) {
        return Ok(Vec::new());
    }
    let coordinator = permission::school_wide(owner.role, Permission::ReadCase);
    let cases = state.store.cases(true).await?;
    let active: HashSet<String> = if coordinator {
        state
            .store
            .users()
            .await?
            .into_iter()
            .filter(|u| u.active)
            .map(|u| u.username)
            .collect()
    } else {
        HashSet::new()
    };
    let duo = if coordinator {
        crate::duo_work::DuoRecords::load(state).await?
    } else {
        crate::duo_work::DuoRecords::default()
    };
    let live = state.read()?;
    Ok(compute(&live, owner, today, &cases, &active, &duo))
}

/// The student's number, name and class.
fn student_of<'a>(live: &'a Live, id: &StudentId) -> Option<&'a aanwezig_domain::Student> {
    live.position(id.as_str())
        .and_then(|i| live.school.students().get(i))
}

fn compute(
    live: &Live,
    owner: TaskOwner<'_>,
    today: NaiveDate,
    cases: &[Case],
    active: &HashSet<String>,
    duo: &crate::duo_work::DuoRecords,
) -> Vec<UserTask> {
    let Some(cal) = live.cal.as_ref() else {
        return Vec::new();
    };
    let role = owner.role;
    let coordinator = permission::school_wide(role, Permission::ReadCase);
    let mut out = Vec::new();

    // Tasks of the open cases the owner is responsible for.
    let open: Vec<&Case> = cases.iter().filter(|c| c.is_open()).collect();
    for case in &open {
        let Some(s) = student_of(live, &case.student) else {
            continue;
        };
        if !owner.may_see(s) {
            continue;
        }
        let external = role.is_external();
        let responsible = if external {
            case.involves(&owner.identity)
        } else {
            case.owner() == owner.username
                || role == Role::Mentor
                || (coordinator && !active.contains(case.owner()))
        };
        if !responsible {
            continue;
        }
        let id = s.id.as_str();
        let dossier = format!("{}/dossier", crate::paths::student_str(id));
        for t in case.tasks(cal, today) {
            let (kind, index, what_nl, feed_nl, href) = match &t.kind {
                TaskKind::Call { absent_on } => (
                    "bellen",
                    absent_on.format("%Y%m%d").to_string(),
                    format!(
                        "Bellen: hele dag afwezig sinds {} (leidraad A)",
                        date_nl(*absent_on)
                    ),
                    "Bellen (stap 2)",
                    if external {
                        dossier.clone()
                    } else {
                        format!("{dossier}/contact/nieuw?leidraad=A")
                    },
                ),
                TaskKind::WeeklyCheck { intervention } => (
                    "afspraken",
                    intervention.to_string(),
                    format!(
                        "Wekelijks nagaan of de afspraken zijn nagekomen ({})",
                        description(case, *intervention)
                    ),
                    "Afspraken nagaan (wekelijks)",
                    format!("{dossier}/afspraken"),
                ),
                TaskKind::AgreementCheck => (
                    "afspraken",
                    "dossier".to_owned(),
                    "Wekelijks nagaan of de afspraken zijn nagekomen".to_owned(),
                    "Afspraken nagaan (wekelijks)",
                    format!("{dossier}/afspraken"),
                ),
                TaskKind::Evaluation { intervention } => (
                    "evaluatie",
                    intervention.to_string(),
                    format!(
                        "Evaluatie van de interventie ({}), uiterlijk zes weken na de start of de vorige evaluatie",
                        description(case, *intervention)
                    ),
                    "Evaluatie interventie",
                    format!("{dossier}/interventie/{}", intervention + 1),
                ),
                TaskKind::ThuiswerkWeek {
                    intervention,
                    iso_year,
                    iso_week,
                    contacts,
                } => (
                    "thuiswerkplan",
                    format!("{intervention}-{iso_year}w{iso_week}"),
                    format!(
                        "Thuiswerkplan week {iso_week}: {contacts} van de minstens twee contacten van twee uur"
                    ),
                    "Thuiswerkplan: contacten van de week",
                    format!("{dossier}/interventie/{}", intervention + 1),
                ),
            };
            out.push(UserTask {
                kind,
                index,
                what_nl,
                feed_nl,
                due: t.due,
                overdue: today > t.due,
                student: s.id.clone(),
                name: s.name.clone(),
                class: s.class.clone(),
                href,
                read_only: external,
            });
        }
    }

    let students = live.school.students();
    let through = live.through;

    // Step 2: a mentor calls after a whole day of absence.
    if let (Role::Mentor, Some(d)) = (role, through) {
        let case_of: HashMap<&StudentId, &Case> = open.iter().map(|c| (&c.student, *c)).collect();
        for (i, s) in students.iter().enumerate() {
            if !owner.may_see(s) {
                continue;
            }
            let Some(eval) = live.evaluations.get(i) else {
                continue;
            };
            let case = case_of.get(&s.id);
            let through_on = cal.date(d);
            for sig in eval.open_on(d).filter(|x| x.rule == RuleId::Contact) {
                // The signal stays open while the whole-day absence goes
                // on: it is one absence from its first day to `through_on`.
                let absent_on = cal.date(sig.fired_on);
                if let Some(c) = case {
                    // Called since, or the case's own call task covers
                    // this absence.
                    if c.contacts.iter().any(|k| k.on >= absent_on)
                        || links_call(c, absent_on, through_on)
                    {
                        continue;
                    }
                }
                // A call recorded on its own (stap 2) handles the absence;
                // one that reached no one moves the task a school day.
                let due = match live.call_due(i, sig) {
                    aanwezig_domain::CallDue::Done(_) => continue,
                    aanwezig_domain::CallDue::Due { by, .. } => by,
                };
                let id = s.id.as_str();
                out.push(UserTask {
                    kind: "bellen",
                    index: absent_on.format("%Y%m%d").to_string(),
                    what_nl: format!(
                        "Bellen: hele dag afwezig sinds {} (stap 2, leidraad A)",
                        date_nl(absent_on)
                    ),
                    feed_nl: "Bellen (stap 2)",
                    due,
                    overdue: today > due,
                    student: s.id.clone(),
                    name: s.name.clone(),
                    class: s.class.clone(),
                    href: format!(
                        "{}/gebeld?sinds={absent_on}&terug=taken",
                        crate::paths::student_str(id)
                    ),
                    read_only: false,
                });
            }
        }
    }

    // DUO: one task per student, for all their DUO work (open duties and
    // concepts; crate::duo_work), due at the earliest deadline.
    if coordinator {
        let by = duo.by_student();
        for (s, w) in crate::duo_work::school_work(live, &by, today, |s| owner.may_see(s)) {
            if let Some(t) = duo_task(&s, &w) {
                out.push(t);
            }
        }
    }

    // One call per student and absence, whichever way it came in (the
    // case's task first: it leads to the case's contact form). An absence
    // is a run of whole days: the days a whole-day absence signal was
    // open.
    let mut calls = HashSet::new();
    out.retain(|t| {
        if t.kind != "bellen" {
            return true;
        }
        let Ok(on) = NaiveDate::parse_from_str(&t.index, "%Y%m%d") else {
            return true;
        };
        calls.insert((t.student.clone(), absence_start(live, cal, &t.student, on)))
    });

    out.sort_by(|a, b| {
        (a.due, &a.class, &a.name, a.kind, &a.index)
            .cmp(&(b.due, &b.class, &b.name, b.kind, &b.index))
    });
    out
}

/// The one DUO task of a student with DUO work: the count, the earliest
/// deadline and what comes first.
pub(crate) fn duo_task(
    s: &aanwezig_domain::Student,
    w: &aanwezig_domain::duo_work::StudentDuoWork,
) -> Option<UserTask> {
    use aanwezig_domain::duo_work::Todo;
    let first = w.todo.first()?;
    let due = first.deadline();
    let first_nl = match first {
        Todo::Duty {
            vervolg_of: Some(n),
            ..
        } => format!(
            "eerst: nieuw signaal {} terwijl melding nr. {n} loopt (vervolgmelding of afstemmen met leerplicht)",
            first.kind().label_nl()
        ),
        Todo::Duty { .. } => format!("eerst: melden, {}", first.kind().label_nl()),
        Todo::Concept { melding, .. } => {
            format!("eerst: concept nr. {melding} afmaken en invoeren in het Verzuimloket")
        }
    };
    let count = w.count();
    let overdue = w.overdue();
    let what_nl = format!(
        "DUO-werk: {} ({}{})",
        if count == 1 {
            "1 melding te doen".to_owned()
        } else {
            format!("{count} meldingen te doen")
        },
        if overdue > 0 {
            format!("{overdue} te laat; ")
        } else {
            String::new()
        },
        first_nl
    );
    Some(UserTask {
        kind: "duo",
        index: s.id.to_string(),
        what_nl,
        feed_nl: "DUO-meldingen",
        due,
        overdue: w.overdue() > 0,
        student: s.id.clone(),
        name: s.name.clone(),
        class: s.class.clone(),
        href: format!("/meldingen#leerling-{}", s.id),
        read_only: false,
    })
}

/// An intervention's description, as the case holds it.
fn description(case: &Case, index: usize) -> String {
    case.interventions
        .get(index)
        .map(|i| i.description.clone())
        .unwrap_or_default()
}

/// The first day of the run of whole-day absence that `on` belongs to (by
/// the engine's whole-day absence signals); `on` itself outside any.
fn absence_start(
    live: &Live,
    cal: &aanwezig_domain::Calendar,
    id: &StudentId,
    on: NaiveDate,
) -> NaiveDate {
    let Some(eval) = live
        .position(id.as_str())
        .and_then(|i| live.evaluations.get(i))
    else {
        return on;
    };
    eval.signals
        .iter()
        .filter(|s| s.rule == RuleId::Contact)
        .map(|s| (cal.date(s.fired_on), s.closed_on.map(|c| cal.date(c))))
        .find(|(from, until)| *from <= on && until.is_none_or(|u| on < u))
        .map_or(on, |(from, _)| from)
}

/// Whether the case links a whole-day absence signal of a day in
/// `from..=to` (one run of absence), and so has its own call task for it.
fn links_call(case: &Case, from: NaiveDate, to: NaiveDate) -> bool {
    let within = |on: NaiveDate| from <= on && on <= to;
    case.signals
        .iter()
        .any(|s| s.rule == RuleId::Contact && within(s.on))
        || matches!(case.reason, OpenReason::Signal { rule: RuleId::Contact, on } if within(on))
}

// ---------------------------------------------------------------------------
// The page

/// A task as the page shows it.
struct TaskLine {
    what: String,
    due: String,
    overdue: bool,
    id: String,
    name: String,
    class: String,
    href: String,
    read_only: bool,
}

/// A section of the page: Te laat, Vandaag, Deze week, Later.
struct Group {
    key: &'static str,
    title: &'static str,
    /// Which days, in words; empty when the title says it.
    span: String,
    empty: &'static str,
    tasks: Vec<TaskLine>,
}

#[derive(Template, WebTemplate)]
#[template(path = "tasks.html")]
struct TasksPage {
    layout: Layout,
    today: String,
    total: usize,
    groups: Vec<Group>,
    external: bool,
    coordinator: bool,
    mentor: bool,
    no_calendar: bool,
    revoked: bool,
    called: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "tasks_feed.html")]
struct FeedPage {
    layout: Layout,
    url: String,
    /// `url` is only the path: aanwezig does not know its own address.
    relative: bool,
}

/// Sorts the tasks into the page's sections.
fn groups(tasks: Vec<UserTask>, today: NaiveDate) -> Vec<Group> {
    // "Deze week": the coming seven days, so that on a Friday the next
    // school days are in it too.
    let week_end = today.checked_add_days(Days::new(6)).unwrap_or(today);
    let mut out = vec![
        Group {
            key: "te-laat",
            title: "Te laat",
            span: String::new(),
            empty: "Niets te laat.",
            tasks: Vec::new(),
        },
        Group {
            key: "vandaag",
            title: "Vandaag",
            span: String::new(),
            empty: "Niets voor vandaag.",
            tasks: Vec::new(),
        },
        Group {
            key: "deze-week",
            title: "Deze week",
            span: format!("tot en met {}", date_nl(week_end)),
            empty: "Verder niets in de komende zeven dagen.",
            tasks: Vec::new(),
        },
        Group {
            key: "later",
            title: "Later",
            span: String::new(),
            empty: "Nog niets gepland.",
            tasks: Vec::new(),
        },
    ];
    for t in tasks {
        let i = if t.due < today {
            0
        } else if t.due == today {
            1
        } else if t.due <= week_end {
            2
        } else {
            3
        };
        out[i].tasks.push(TaskLine {
            what: t.what_nl,
            due: date_nl(t.due),
            overdue: t.due < today,
            id: t.student.to_string(),
            name: t.name,
            class: t.class,
            href: t.href,
            read_only: t.read_only,
        });
    }
    out
}

#[derive(Debug, Default, Deserialize)]
struct PageQuery {
    ingetrokken: Option<String>,
    /// Set after a call was saved.
    gebeld: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    ReadCase(user): ReadCase,
    Query(q): Query<PageQuery>,
) -> Result<TasksPage, PageError> {
    let today = state.clock.today();
    // Computed once per state of the school (super::cache).
    let tasks = Vec::clone(&*super::cache::tasks(&state, &user).await?);
    user.audit(&state, AuditAction::Read, None, "mijn taken")
        .await?;
    let no_calendar = state.read()?.cal.is_none();
    Ok(TasksPage {
        layout: Layout::new(&user, section::TASKS, "Mijn taken"),
        today: date_nl(today),
        total: tasks.len(),
        groups: groups(tasks, today),
        external: user.role().is_external(),
        coordinator: permission::school_wide(user.role(), Permission::ReadCase),
        mentor: user.role() == Role::Mentor,
        no_calendar,
        revoked: q.ingetrokken.is_some(),
        called: q.gebeld.is_some(),
    })
}

/// `scheme://host[:port]` for addresses people copy elsewhere (the feed,
/// and the links inside it), or `None` when aanwezig does not know it.
///
/// The configured public URL (`--public-url`) when there is one. Without
/// it the request's `Host` is used only when it is the address the server
/// listens on (an IP address and port; loopback when it listens on all
/// addresses), never an arbitrary name a request sends; the scheme is
/// https when the app runs behind TLS (secure cookies).
fn base_url(state: &AppState, headers: &HeaderMap) -> Option<String> {
    if let Some(public) = &state.config.public_url {
        return Some(public.base());
    }
    let listen = state.listen_addr()?;
    let host = headers.get(HOST)?.to_str().ok()?;
    if host.contains(['/', '\\', '@', '?', '#']) {
        return None;
    }
    let url = url::Url::parse(&format!("{}://{host}/", state.config.scheme())).ok()?;
    let ip = match url.host()? {
        url::Host::Ipv4(a) => std::net::IpAddr::V4(a),
        url::Host::Ipv6(a) => std::net::IpAddr::V6(a),
        url::Host::Domain(_) => return None,
    };
    let port = url.port_or_known_default()?;
    let ours = port == listen.port()
        && (ip == listen.ip() || (listen.ip().is_unspecified() && ip.is_loopback()));
    ours.then(|| url.origin().ascii_serialization())
}

/// Creates or renews the user's feed address and shows it once.
async fn create_feed(
    State(state): State<AppState>,
    ReadCase(user): ReadCase,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let token = aanwezig_auth::new_token();
    state
        .store
        .set_feed_token(
            &user.user.username,
            &aanwezig_auth::token_hash(&token),
            state.clock.now(),
        )
        .await?;
    user.audit(
        &state,
        AuditAction::UserAdmin,
        None,
        "agenda-adres voor Mijn taken gemaakt (een eerder adres werkt niet meer)",
    )
    .await?;
    let base = base_url(&state, &headers);
    let page = FeedPage {
        layout: Layout::new(&user, section::TASKS, "Uw agenda-adres"),
        url: format!("{}/agenda/{token}.ics", base.as_deref().unwrap_or_default()),
        relative: base.is_none(),
    };
    // Shown once: not kept in the browser's cache or history.
    Ok(([(CACHE_CONTROL, "no-store")], page).into_response())
}

/// Removes the user's feed address.
async fn revoke_feed(
    State(state): State<AppState>,
    ReadCase(user): ReadCase,
) -> Result<Redirect, PageError> {
    state.store.delete_feed_token(&user.user.username).await?;
    user.audit(
        &state,
        AuditAction::UserAdmin,
        None,
        "agenda-adres voor Mijn taken ingetrokken",
    )
    .await?;
    Ok(Redirect::to("/taken?ingetrokken=1#agenda"))
}

// ---------------------------------------------------------------------------
// The feed

/// The token of a feed path `{token}.ics`: 64 hex digits.
fn feed_token(file: &str) -> Option<&str> {
    let token = file.strip_suffix(".ics")?;
    (token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())).then_some(token)
}

/// The tasks as an iCalendar document: one all-day event per task.
///
/// Privacy: calendar apps copy feeds to cloud services. An event names the
/// student by number and class only and says what to do in general words
/// ([`UserTask::feed_nl`]); the details are behind the link, after signing
/// in.
///
/// Without a `base` (see [`base_url`]) the events have no URL.
fn ics(tasks: &[UserTask], base: Option<&str>, now: DateTime<Utc>) -> String {
    let mut cal = Calendar::empty();
    for (k, v) in [
        ("VERSION", "2.0"),
        ("PRODID", "-//aanwezig//Mijn taken//NL"),
        ("CALSCALE", "GREGORIAN"),
        ("METHOD", "PUBLISH"),
    ] {
        cal.append_property(Property::new(k, v));
    }
    cal.name("aanwezig: Mijn taken");
    for t in tasks {
        let class = if t.class.is_empty() {
            String::new()
        } else {
            format!(", klas {}", t.class)
        };
        let summary = ics_text(&format!("{} – leerling {}{class}", t.feed_nl, t.student));
        let end = t.due.succ_opt().unwrap_or(t.due);
        let mut event = icalendar::Event::new();
        event
            .uid(&format!(
                "{}-{}-{}-{}@aanwezig",
                t.kind,
                t.student,
                t.due.format("%Y%m%d"),
                t.index
            ))
            .timestamp(now)
            .starts(t.due)
            .ends(end)
            .summary(&summary)
            .description(&format!(
                "Uiterlijk {}. Meer informatie ziet u na inloggen in de app aanwezig.",
                date_nl(t.due)
            ))
            .class(Class::Private);
        if let Some(base) = base {
            event.url(&format!("{base}{}", t.href));
        }
        cal.push(event.done());
    }
    cal.done().to_string()
}

/// Text for an iCalendar value. RFC 5545 §3.3.11 allows no control
/// characters in TEXT except an escaped line break; the `icalendar` crate
/// escapes `\n`, `,`, `;` and `\\`, but passes a bare CR through, which a
/// client reads as the end of the line (a forged property). Every line
/// break becomes one `\n` (escaped on output) and other control characters
/// are dropped.
fn ics_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push('\n');
            }
            '\n' => out.push('\n'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

async fn feed(
    State(state): State<AppState>,
    file: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    // An unknown token, an inactive user, a role without tasks and an
    // address that is no token at all (not even UTF-8) answer alike.
    let Ok(Path(file)) = file else {
        return Err(PageError::NotFound);
    };
    let token = feed_token(&file).ok_or(PageError::NotFound)?;
    let username = state
        .store
        .feed_token_user(&aanwezig_auth::token_hash(token))
        .await?
        .ok_or(PageError::NotFound)?;
    let user = state
        .store
        .user(&username)
        .await?
        .filter(|u| u.active && permission::may(u.role, Permission::ReadCase))
        .ok_or(PageError::NotFound)?;
    let involved = if user.role.is_external() {
        crate::auth::involved_students(&state, &user).await?
    } else {
        Vec::new()
    };
    let owner = TaskOwner {
        username: &user.username,
        identity: user.identity(),
        role: user.role,
        classes: &user.classes,
        involved: &involved,
    };
    let tasks = user_tasks(&state, owner, state.clock.today()).await?;
    let now = state.clock.now();
    state
        .store
        .audit(&AuditEntry {
            at: now,
            username: user.username.clone(),
            action: AuditAction::Read,
            student: None,
            detail: "agenda-feed".into(),
        })
        .await?;
    let body = ics(&tasks, base_url(&state, &headers).as_deref(), now);
    Ok((
        [
            (CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (CONTENT_DISPOSITION, "inline; filename=\"mijn-taken.ics\""),
            (CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response())
}

/// This area's routes.
pub fn router() -> crate::routes::Routes {
    crate::routes::Routes::new()
        .get("/taken", page)
        .post("/taken/agenda", create_feed)
        .post("/taken/agenda/intrekken", revoke_feed)
        .get("/agenda/{token}", feed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn task(due: NaiveDate, today: NaiveDate) -> UserTask {
        UserTask {
            kind: "evaluatie",
            index: "0".into(),
            what_nl: "Evaluatie".into(),
            feed_nl: "Evaluatie interventie",
            due,
            overdue: today > due,
            student: StudentId::parse("100001").unwrap(),
            name: "Sem de Vries".into(),
            class: "2B".into(),
            href: "/leerlingen/100001/dossier/interventie/1".into(),
            read_only: false,
        }
    }

    #[test]
    fn feed_token_is_64_hex_digits_with_ics() {
        let t = "ab".repeat(32);
        assert_eq!(feed_token(&format!("{t}.ics")), Some(t.as_str()));
        assert_eq!(feed_token(&t), None);
        assert_eq!(feed_token(&format!("{t}x.ics")), None);
        assert_eq!(feed_token(&format!("{}.ics", "g".repeat(64))), None);
        assert_eq!(feed_token("onbekend.ics"), None);
    }

    #[test]
    fn sections_from_a_friday() {
        let friday = ymd(2025, 11, 14);
        let g = groups(
            vec![
                task(ymd(2025, 11, 13), friday),
                task(friday, friday),
                task(ymd(2025, 11, 17), friday),
                task(ymd(2025, 11, 20), friday),
                task(ymd(2025, 11, 21), friday),
            ],
            friday,
        );
        let counts: Vec<(&str, usize)> = g.iter().map(|g| (g.key, g.tasks.len())).collect();
        assert_eq!(
            counts,
            [
                ("te-laat", 1),
                ("vandaag", 1),
                ("deze-week", 2),
                ("later", 1)
            ]
        );
        assert!(g[0].tasks[0].overdue);
        assert!(!g[1].tasks[0].overdue);
    }

    #[test]
    fn the_feed_names_no_student_and_escapes_and_folds() {
        let today = ymd(2025, 11, 14);
        let mut t = task(ymd(2025, 11, 10), today);
        t.class = "2B; extra, lang".into();
        let now = DateTime::<Utc>::from_timestamp(1_763_110_800, 0).unwrap();
        let ics = ics(&[t], Some("https://school.example"), now);
        assert!(
            ics.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"),
            "{ics}"
        );
        assert!(ics.contains("UID:evaluatie-100001-20251110-0@aanwezig\r\n"));
        assert!(ics.contains("DTSTART;VALUE=DATE:20251110\r\n"));
        assert!(ics.contains("DTEND;VALUE=DATE:20251111\r\n"));
        let unfolded = ics.replace("\r\n ", "");
        assert!(unfolded.contains("klas 2B\\; extra\\, lang"), "{unfolded}");
        assert!(unfolded
            .contains("URL:https://school.example/leerlingen/100001/dossier/interventie/1\r\n"));
        assert!(!unfolded.contains("Sem"), "no name in the feed");
        assert!(ics.split("\r\n").all(|l| l.len() <= 75));
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
    }

    #[test]
    fn line_breaks_and_control_characters_cannot_forge_properties() {
        let today = ymd(2025, 11, 14);
        let mut t = task(ymd(2025, 11, 10), today);
        t.class = "2B\rATTENDEE:mailto:x@evil.example\r\nX-A:1\nX-B:2\u{7}".into();
        let now = DateTime::<Utc>::from_timestamp(1_763_110_800, 0).unwrap();
        let ics = ics(&[t], Some("https://school.example"), now);
        // Every line of the document ends in CRLF and no bare CR or LF is left.
        assert!(!ics.replace("\r\n", "").contains(['\r', '\n']), "{ics:?}");
        let unfolded = ics.replace("\r\n ", "");
        for forged in ["ATTENDEE", "X-A", "X-B"] {
            assert!(
                !unfolded.split("\r\n").any(|l| l.starts_with(forged)),
                "{forged} became a property: {unfolded}"
            );
        }
        assert!(
            unfolded.contains("klas 2B\\nATTENDEE:mailto:x@evil.example\\nX-A:1\\nX-B:2\r\n"),
            "{unfolded}"
        );
        assert!(!unfolded.contains('\u{7}'));
    }
}
