//! Weekoverzicht: the dashboard of bijlage 3 ("gebruik een dashboard voor
//! de wekelijkse monitoring"), for the roles that work with students, over
//! the students in their scope.
//!
//! Everything comes from the evaluations held in memory ([`Live`]): no
//! query per student. The page shows, for the teaching week of today, the
//! students to call, the DUO deadlines that run, this week's new signals by
//! step, all open signals by step, and the attendance rate per class
//! against the policy's line (an SVG bar chart with a table alternative).
//! Filters by class and mentor are a plain GET form.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use aanwezig_domain::explain::{date_nl, explain};
use aanwezig_domain::{DayIdx, Role, RuleId, Signal, Step};
use aanwezig_storage::AuditAction;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::Router;
use chrono::NaiveDate;
use serde::Deserialize;

use super::students::{
    class_and_mentor_choices, class_key, derived, given, lessons_in_words, mentor_label,
    mentor_names, pct_nl, sees_students, short_day_nl, step_class, Choice, Names, Tally,
};
use crate::auth::CurrentUser;
use crate::error::PageError;
use crate::layout::{section, Layout};
use crate::live::Live;
use crate::state::AppState;

const NOT_STARTED: &str =
    "Het schooljaar is nog niet begonnen: er zijn nog geen schooldagen om te tonen.";

/// The steps a signal can raise, most serious first, as the dashboard
/// groups them.
const STEP_ORDER: [&str; 5] = ["4b", "4a", "3b", "3a", "2"];

/// Students listed per step under "open signals"; the rest is a link.
const OPEN_LIST_CAP: usize = 60;

fn step_heading(key: &str) -> &'static str {
    match key {
        "4b" => "Stap 4b — ongeoorloofd verzuim: DUO-melding",
        "4a" => "Stap 4a — gemeld verzuim houdt aan",
        "3b" => "Stap 3b — ongeoorloofd of onbekend verzuim",
        "3a" => "Stap 3a — vaak of lang afgemeld",
        _ => "Stap 2 — hele dag afwezig",
    }
}

#[derive(Debug, Default, Deserialize)]
struct Filters {
    klas: Option<String>,
    mentor: Option<String>,
    /// A date in an earlier teaching week whose new signals to show.
    week: Option<String>,
    /// Set after a call was saved.
    gebeld: Option<String>,
}

/// A signal in a table.
struct SignalRow {
    id: String,
    name: String,
    class: String,
    title: &'static str,
    fired: String,
    hours: String,
    deadline: String,
    overdue: bool,
    explanation: String,
}

struct NewGroup {
    key: &'static str,
    heading: &'static str,
    badge: String,
    rows: Vec<SignalRow>,
}

struct StudentLink {
    id: String,
    name: String,
    class: String,
    rules: String,
}

struct OpenGroup {
    key: &'static str,
    heading: &'static str,
    badge: String,
    signals: usize,
    students: Vec<StudentLink>,
    more: usize,
}

struct CallRow {
    /// The first day absent, `JJJJ-MM-DD` (for the call form).
    since_iso: String,
    /// A call reached no one: this is the next try.
    tried: bool,
    id: String,
    name: String,
    class: String,
    mentor: String,
    since: String,
    days: u32,
    deadline: String,
    overdue: bool,
    due_today: bool,
    step: String,
    step_class: String,
    lessons: String,
}

struct DuoRow {
    id: String,
    name: String,
    class: String,
    title: String,
    fired: String,
    period: String,
    hours: String,
    deadline: String,
    overdue: bool,
}

struct Bar {
    class: String,
    y: String,
    text_y: String,
    width: String,
    text_x: String,
    pct: String,
    below: bool,
    students: usize,
    href: String,
}

struct Tick {
    x: String,
    label: &'static str,
}

struct Chart {
    width: u32,
    height: u32,
    left: u32,
    bar_height: u32,
    bars: Vec<Bar>,
    ticks: Vec<Tick>,
    target_x: String,
    target_label: String,
    line_top: u32,
    line_bottom: u32,
    desc: String,
}

/// What a role without student data sees instead.
struct OtherRole {
    admin: bool,
    role: String,
}

struct Overview {
    week: String,
    /// The earlier week of "new signals" shown; empty for this week.
    new_week: String,
    prev_week: Option<String>,
    next_week: Option<String>,
    through: String,
    today_is_school_day: bool,
    klas: String,
    mentor: String,
    filtered: bool,
    classes: Vec<Choice>,
    mentors: Vec<Choice>,
    in_scope: usize,
    above_step_1: usize,
    calls_count: usize,
    duo_this_week: usize,
    selection_rate: String,
    school_rate: String,
    target: String,
    year_from: String,
    calls: Vec<CallRow>,
    duo: Vec<DuoRow>,
    new_groups: Vec<NewGroup>,
    new_total: usize,
    open_groups: Vec<OpenGroup>,
    chart: Option<Chart>,
}

/// The page's content, rendered on its own so that it can be cached.
#[derive(Template)]
#[template(path = "dashboard.html", block = "content")]
struct Content {
    notice: Option<String>,
    other: Option<OtherRole>,
    view: Option<Overview>,
}

/// The page: the frame around the (cached) content.
#[derive(Template, WebTemplate)]
#[template(
    source = "{% extends \"base.html\" %}{% block content %}<h1>Weekoverzicht</h1>
{% if called %}<p class=\"success\" role=\"status\">Het gesprek is opgeslagen; de leerling staat niet meer op de lijst Bel vandaag (of, als u niemand bereikte, bij de volgende schooldag).</p>{% endif %}
{% if let Some(t) = tasks %}<p class=\"tasks-summary\"><a href=\"/taken\">Mijn taken</a>: {% if t.overdue > 0 %}<strong class=\"overdue\">{{ t.overdue }} te laat</strong>, {% endif %}{{ t.today }} voor vandaag, {{ t.total }} in totaal.</p>{% endif %}
{{ body|safe }}{% endblock %}",
    ext = "html"
)]
struct Dashboard {
    layout: Layout,
    /// A call was just saved (`?gebeld=1`).
    called: bool,
    /// The signed-in user's own tasks (not cached: they are per user).
    tasks: Option<TaskCounts>,
    body: Arc<str>,
}

/// How many of the user's tasks are overdue, due today, and in all.
#[derive(Clone, Copy, Debug)]
struct TaskCounts {
    overdue: usize,
    today: usize,
    total: usize,
}

/// The counts per user, valid for one state of the school: the app's
/// change count, the live school's generation and the date. Computing a
/// coordinator's tasks reads every open case and melding; the overview is
/// opened far more often than anything changes.
type TaskKey = (u64, u64, NaiveDate);
type TaskCache = Option<(TaskKey, HashMap<String, Option<TaskCounts>>)>;
static TASK_CACHE: Mutex<TaskCache> = Mutex::new(None);

async fn task_counts(
    state: &AppState,
    user: &CurrentUser,
    today: NaiveDate,
) -> Result<Option<TaskCounts>, PageError> {
    // Read the key before the data, so that a change racing with this
    // computation leaves a stale key behind, never stale counts.
    let key = (state.changes(), state.read()?.generation, today);
    let cached = TASK_CACHE.lock().ok().and_then(|c| {
        c.as_ref()
            .filter(|(k, _)| *k == key)
            .and_then(|(_, m)| m.get(&user.user.username).copied())
    });
    if let Some(counts) = cached {
        return Ok(counts);
    }
    let mut tasks =
        super::tasks::user_tasks(state, super::tasks::TaskOwner::of(user), today).await?;
    // Only the user's own work: a partner reads along with the school's
    // tasks in the dossiers they are brought into, but those are not theirs.
    tasks.retain(|t| !t.read_only);
    let counts = (!tasks.is_empty()).then(|| TaskCounts {
        overdue: tasks.iter().filter(|t| t.overdue).count(),
        today: tasks.iter().filter(|t| t.due == today).count(),
        total: tasks.len(),
    });
    if let Ok(mut cache) = TASK_CACHE.lock() {
        let fresh = cache
            .as_ref()
            .is_none_or(|(k, m)| *k != key || m.len() >= BODIES);
        if fresh {
            *cache = Some((key, HashMap::new()));
        }
        if let Some((_, m)) = cache.as_mut() {
            m.insert(user.user.username.clone(), counts);
        }
    }
    Ok(counts)
}

/// Rendered contents by user scope and filters, for one generation of the
/// school (and one reading of the mentors' names). Many people open the
/// same overview between two changes; a change starts afresh.
struct BodyCache {
    generation: u64,
    /// Held, so that its address cannot be reused by a newer reading.
    names: Names,
    bodies: HashMap<String, Arc<str>>,
}

/// Contents kept per generation; more distinct views than this start afresh.
const BODIES: usize = 256;

static BODY_CACHE: Mutex<Option<BodyCache>> = Mutex::new(None);

fn render(content: &Content) -> Result<Arc<str>, PageError> {
    content
        .render()
        .map(Arc::from)
        .map_err(|e| PageError::Internal(e.to_string()))
}

async fn dashboard(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(f): Query<Filters>,
) -> Result<Dashboard, PageError> {
    let layout = Layout::new(&user, section::OVERVIEW, "Weekoverzicht");
    if !sees_students(user.role()) {
        let body = render(&Content {
            notice: None,
            other: Some(OtherRole {
                admin: user.role() == Role::Beheerder,
                role: user.role().label_nl().to_owned(),
            }),
            view: None,
        })?;
        let tasks = task_counts(&state, &user, state.clock.today()).await?;
        return Ok(Dashboard {
            layout,
            called: false,
            tasks,
            body,
        });
    }
    let names = mentor_names(&state).await?;
    let today = state.clock.today();
    // The DUO work also depends on the meldingen and afstemmingen in the
    // store: the key carries the change count.
    let duo_records = crate::duo_work::DuoRecords::load(&state).await?;
    let changes = state.changes();
    // Everything the content depends on besides the school and the names.
    // (External partners, once they see students, add their `involved`.)
    let key = {
        let mut classes = user.user.classes.clone();
        classes.sort();
        format!(
            "{}|{}|{}|{}|{}",
            user.role().as_str(),
            classes.join(","),
            given(&f.klas).unwrap_or_default().to_lowercase(),
            given(&f.mentor).unwrap_or_default(),
            today
        ) + "|"
            + given(&f.week).unwrap_or_default()
            + &format!("|{changes}")
    };
    let body = {
        let live = state.read()?;
        let cached = BODY_CACHE.lock().ok().and_then(|c| {
            c.as_ref()
                .filter(|c| c.generation == live.generation && Arc::ptr_eq(&c.names, &names))
                .and_then(|c| c.bodies.get(&key).cloned())
        });
        match cached {
            Some(body) => body,
            None => {
                let content = match overview(&live, &user, &names, &f, today, &duo_records) {
                    Ok(view) => Content {
                        notice: None,
                        other: None,
                        view: Some(view),
                    },
                    Err(notice) => Content {
                        notice: Some(notice),
                        other: None,
                        view: None,
                    },
                };
                let body = render(&content)?;
                if let Ok(mut cache) = BODY_CACHE.lock() {
                    let fresh = cache.as_ref().is_none_or(|c| {
                        c.generation != live.generation
                            || !Arc::ptr_eq(&c.names, &names)
                            || c.bodies.len() >= BODIES
                    });
                    if fresh {
                        *cache = Some(BodyCache {
                            generation: live.generation,
                            names: Arc::clone(&names),
                            bodies: HashMap::new(),
                        });
                    }
                    if let Some(c) = cache.as_mut() {
                        c.bodies.insert(key, Arc::clone(&body));
                    }
                }
                body
            }
        }
    };
    let (tasks, ()) = tokio::try_join!(
        task_counts(&state, &user, today),
        user.audit(&state, AuditAction::Read, None, "weekoverzicht"),
    )?;
    Ok(Dashboard {
        layout,
        called: f.gebeld.is_some(),
        tasks,
        body,
    })
}

fn hours_text(s: &Signal) -> String {
    s.hours
        .map_or_else(|| "–".to_owned(), |h| format!("{h} uur"))
}

/// The DUO work of the students `keep` admits, one row per student with
/// work to do (crate::duo_work, as Mijn taken and /meldingen count it),
/// earliest deadline first; and the number of pieces of work in them.
fn duo_work_rows(
    live: &Live,
    records: &crate::duo_work::DuoRecords,
    today: NaiveDate,
    keep: impl Fn(&aanwezig_domain::Student) -> bool,
) -> (usize, Vec<(NaiveDate, DuoRow)>) {
    let by = records.by_student();
    let mut total = 0;
    let mut rows = Vec::new();
    for (s, w) in crate::duo_work::school_work(live, &by, today, keep) {
        let Some(first) = w.todo.first() else {
            continue;
        };
        total += w.count();
        let (fired, period) = match first {
            aanwezig_domain::duo_work::Todo::Duty { signal, .. } => (
                short_day_nl(signal.fired_on),
                format!(
                    "{} – {}",
                    short_day_nl(signal.begin),
                    short_day_nl(signal.end)
                ),
            ),
            aanwezig_domain::duo_work::Todo::Concept { melding, .. } => {
                (format!("concept nr. {melding}"), String::new())
            }
        };
        let deadline = first.deadline();
        rows.push((
            deadline,
            DuoRow {
                id: s.id.to_string(),
                name: s.name.clone(),
                class: s.class.clone(),
                title: format!(
                    "{} te doen{}, eerst: {}",
                    w.count(),
                    match w.overdue() {
                        0 => String::new(),
                        n => format!(" ({n} te laat)"),
                    },
                    first.kind().label_nl()
                ),
                fired,
                period,
                hours: "–".to_owned(),
                deadline: short_day_nl(deadline),
                overdue: deadline < today,
            },
        ));
    }
    (total, rows)
}

/// Builds the overview, or says why there is none yet.
fn overview(
    live: &Live,
    user: &CurrentUser,
    names: &HashMap<String, String>,
    f: &Filters,
    today: NaiveDate,
    duo_records: &crate::duo_work::DuoRecords,
) -> Result<Overview, String> {
    let (Some(cal), Some(derived)) = (live.cal.as_ref(), derived(live)) else {
        if live.cal.is_some() {
            return Err(NOT_STARTED.to_owned());
        }
        return Err("Er is nog geen schoolkalender ingelezen. De beheerder zet die klaar onder Instellingen; daarna toont het weekoverzicht de signalen en de aanwezigheid.".to_owned());
    };
    let Some(d) = live.through else {
        return Err(NOT_STARTED.to_owned());
    };
    let policy = &live.policy;
    let scope = user.scope();
    let klas = given(&f.klas);
    let mentor = given(&f.mentor);
    let students = live.school.students();
    let (classes, mentors) = class_and_mentor_choices(
        students.iter().filter(|s| scope.may_see(s)),
        names,
        klas,
        mentor,
    );

    let week = cal.week_days(d);
    let week_first = *week.start();
    // The week of "new signals": this one, or an earlier one by query.
    let shown = given(&f.week)
        .and_then(|w| NaiveDate::parse_from_str(w, "%Y-%m-%d").ok())
        .and_then(|date| cal.on_or_after(date))
        .filter(|x| *x <= d)
        .unwrap_or(d);
    let new_days = cal.week_days(shown);
    let (new_first, new_last) = (*new_days.start(), (*new_days.end()).min(d));
    let week_href = |x: DayIdx| {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [("klas", klas), ("mentor", mentor)] {
            if let Some(v) = v {
                q.append_pair(k, v);
            }
        }
        if x < week_first {
            q.append_pair("week", &cal.date(x).format("%Y-%m-%d").to_string());
        }
        format!("/?{}#nieuw", q.finish())
    };
    let prev_week = (new_first > 0).then(|| week_href(*cal.week_days(new_first - 1).start()));
    let next_week = (new_last < d).then(|| week_href(new_last + 1));
    let from = derived.from;
    let target = policy.attendance.target;

    let mut in_scope = 0;
    let mut above_step_1 = 0;
    let mut calls = Vec::new();
    let mut new_by_step: BTreeMap<&'static str, Vec<(u16, SignalRow)>> = BTreeMap::new();
    let mut open_by_step: BTreeMap<&'static str, (usize, Vec<StudentLink>)> = BTreeMap::new();
    let mut per_class: HashMap<&str, (Tally, usize)> = HashMap::new();
    let mut selection = Tally::default();

    for (i, s) in students.iter().enumerate() {
        let regs = live.school.registrations(i);
        let tally = derived.tallies[i];
        if !scope.may_see(s)
            || klas.is_some_and(|k| !k.eq_ignore_ascii_case(&s.class))
            || mentor.is_some_and(|m| m != s.mentor)
        {
            continue;
        }
        in_scope += 1;
        selection.add(tally);
        let entry = per_class
            .entry(s.class.as_str())
            .or_insert((Tally::default(), 0));
        entry.0.add(tally);
        entry.1 += 1;

        let Some(eval) = live.evaluations.get(i) else {
            continue;
        };
        let step = derived.steps[i];
        if step != Step::NONE {
            above_step_1 += 1;
        }
        let id = s.id.to_string();

        // This week's new signals.
        for sig in eval.fired_between(new_first, new_last) {
            let key = step_key(sig.rule);
            new_by_step.entry(key).or_default().push((
                sig.fired_on,
                SignalRow {
                    id: id.clone(),
                    name: s.name.clone(),
                    class: s.class.clone(),
                    title: sig.rule.title_nl(),
                    fired: short_day_nl(cal.date(sig.fired_on)),
                    hours: hours_text(sig),
                    deadline: sig.deadline.map(short_day_nl).unwrap_or_default(),
                    overdue: sig.deadline.is_some_and(|x| x < today) && sig.is_open_on(d),
                    explanation: explain(sig, cal, policy, regs),
                },
            ));
        }

        // Open signals, one line per student and step.
        let mut open_rules: BTreeMap<&'static str, Vec<&'static str>> = BTreeMap::new();
        for sig in eval.open_on(d) {
            open_rules
                .entry(step_key(sig.rule))
                .or_default()
                .push(sig.rule.title_nl());
            if sig.rule == RuleId::Contact {
                // A call that reached someone handles the absence; one
                // that reached no one moves it to the next school day.
                let (deadline, tried) = match live.call_due(i, sig) {
                    aanwezig_domain::CallDue::Done(_) => continue,
                    aanwezig_domain::CallDue::Due { by, tried } => (by, tried),
                };
                calls.push((
                    deadline,
                    sig.fired_on,
                    CallRow {
                        since_iso: cal.date(sig.fired_on).to_string(),
                        tried,
                        id: id.clone(),
                        name: s.name.clone(),
                        class: s.class.clone(),
                        mentor: mentor_label(names, &s.mentor),
                        since: short_day_nl(cal.date(sig.fired_on)),
                        days: u32::from(d - sig.fired_on) + 1,
                        deadline: short_day_nl(deadline),
                        overdue: deadline < today,
                        due_today: deadline == today,
                        step: step.to_string(),
                        step_class: step_class(step),
                        lessons: lessons_in_words(
                            sig.evidence.iter().filter_map(|k| regs.get(*k as usize)),
                        ),
                    },
                ));
            }
        }
        // The student under their one step (rules.md §4, as the
        // Leerlingen filter counts it), with the signals open today.
        let open_titles: Vec<&str> = open_rules.values().flatten().copied().collect();
        for key in STEP_ORDER {
            if !super::students::step_matches(step, key) {
                continue;
            }
            let e = open_by_step.entry(key).or_default();
            e.0 += open_titles.len();
            e.1.push(StudentLink {
                id: id.clone(),
                name: s.name.clone(),
                class: s.class.clone(),
                rules: if open_titles.is_empty() {
                    "geen signaal meer open".to_owned()
                } else {
                    open_titles.join(", ")
                },
            });
        }
    }

    let (duo_this_week, mut duo) = duo_work_rows(live, duo_records, today, |s| {
        scope.may_see(s)
            && klas.is_none_or(|k| k.eq_ignore_ascii_case(&s.class))
            && mentor.is_none_or(|m| m == s.mentor)
    });

    calls.sort_by(|a, b| {
        (a.0, a.1)
            .cmp(&(b.0, b.1))
            .then_with(|| a.2.name.cmp(&b.2.name))
    });
    duo.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.name.cmp(&b.1.name)));

    let mut new_total = 0;
    let new_groups = STEP_ORDER
        .iter()
        .filter_map(|key| {
            let mut rows = new_by_step.remove(key)?;
            rows.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.name.cmp(&b.1.name)));
            new_total += rows.len();
            Some(NewGroup {
                key,
                heading: step_heading(key),
                badge: format!("step-{key}"),
                rows: rows.into_iter().map(|(_, r)| r).collect(),
            })
        })
        .collect();
    let open_groups = STEP_ORDER
        .iter()
        .map(|key| {
            let (signals, mut list) = open_by_step.remove(key).unwrap_or_default();
            list.sort_by(|a, b| {
                class_key(&a.class)
                    .cmp(&class_key(&b.class))
                    .then_with(|| a.name.cmp(&b.name))
            });
            let more = list.len().saturating_sub(OPEN_LIST_CAP);
            list.truncate(OPEN_LIST_CAP);
            OpenGroup {
                key,
                heading: step_heading(key),
                badge: format!("step-{key}"),
                signals,
                students: list,
                more,
            }
        })
        .collect();

    let mut per_class: Vec<(&str, (Tally, usize))> = per_class.into_iter().collect();
    per_class.sort_by_cached_key(|(c, _)| class_key(c));
    let chart = chart(&per_class, target, klas, mentor, derived.school.rate());
    Ok(Overview {
        week: format!(
            "{} tot en met {}",
            date_nl(cal.date(week_first)),
            date_nl(cal.date(*week.end()))
        ),
        new_week: if new_first == week_first {
            String::new()
        } else {
            format!(
                "{} tot en met {}",
                date_nl(cal.date(new_first)),
                date_nl(cal.date(new_last))
            )
        },
        prev_week,
        next_week,
        through: date_nl(cal.date(d)),
        today_is_school_day: cal.date(d) == today,
        klas: klas.unwrap_or_default().to_owned(),
        mentor: mentor.map(|m| mentor_label(names, m)).unwrap_or_default(),
        filtered: klas.is_some() || mentor.is_some(),
        classes,
        mentors,
        in_scope,
        above_step_1,
        calls_count: calls.len(),
        duo_this_week,
        selection_rate: pct_nl(selection.rate()),
        school_rate: pct_nl(derived.school.rate()),
        target: pct_nl(Some(target)),
        year_from: date_nl(cal.date(from)),
        calls: calls.into_iter().map(|(_, _, r)| r).collect(),
        duo: duo.into_iter().map(|(_, r)| r).collect(),
        new_groups,
        new_total,
        open_groups,
        chart,
    })
}

/// The group key of a rule's step: `4b`, `3a`, `2`.
fn step_key(rule: RuleId) -> &'static str {
    match rule {
        RuleId::Contact => "2",
        RuleId::AfmeldingCount | RuleId::AfmeldingLong => "3a",
        RuleId::Unexplained => "3b",
        RuleId::AfmeldingPersist => "4a",
        RuleId::Duo16h | RuleId::DuoLrv | RuleId::DuoHoliday => "4b",
    }
}

/// Horizontal bars, one per class, on a 0–100 % scale with a dashed line at
/// the policy's target. All geometry is computed here; the template only
/// places the elements.
fn chart(
    per_class: &[(&str, (Tally, usize))],
    target: f64,
    klas: Option<&str>,
    mentor: Option<&str>,
    school: Option<f64>,
) -> Option<Chart> {
    const SCALE: f64 = 480.0;
    const ROW: u32 = 22;
    const BAR: u32 = 14;
    const TOP: u32 = 34;
    if per_class.is_empty() {
        return None;
    }
    // Room for the longest class name (about 7 units a character).
    let longest = per_class
        .iter()
        .map(|(c, _)| c.chars().count())
        .max()
        .unwrap_or(0);
    let left = u32::try_from(longest * 7 + 14)
        .unwrap_or(u32::MAX)
        .clamp(56, 200);
    let x = |p: f64| f64::from(left) + p.clamp(0.0, 1.0) * SCALE;
    let mut below = 0;
    let mut y = TOP;
    let mut bars = Vec::new();
    for (class, (tally, students)) in per_class {
        let rate = tally.rate();
        let r = rate.unwrap_or(0.0);
        let is_below = rate.is_some_and(|r| r < target);
        below += usize::from(is_below);
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("klas", class);
        if let Some(m) = mentor {
            q.append_pair("mentor", m);
        }
        q.append_pair("sorteer", "aanwezigheid");
        bars.push(Bar {
            class: (*class).to_owned(),
            y: y.to_string(),
            text_y: (y + BAR - 3).to_string(),
            width: format!("{:.1}", x(r) - f64::from(left)),
            text_x: format!("{:.1}", x(r) + 4.0),
            pct: pct_nl(rate),
            below: is_below,
            students: *students,
            href: format!("/leerlingen?{}", q.finish()),
        });
        y += ROW;
    }
    let height = y + 8;
    let ticks = [
        (0.0, "0 %"),
        (0.25, "25 %"),
        (0.5, "50 %"),
        (0.75, "75 %"),
        (1.0, "100 %"),
    ]
    .into_iter()
    .map(|(p, label)| Tick {
        x: format!("{:.1}", x(p)),
        label,
    })
    .collect();
    let n = per_class.len();
    let mut desc = format!(
        "Aanwezigheid dit schooljaar van {n} klas{}; {below} daarvan onder de lijn van {}.",
        if n == 1 { "" } else { "sen" },
        pct_nl(Some(target))
    );
    if klas.is_none() && mentor.is_none() {
        desc.push_str(&format!(" De hele school: {}.", pct_nl(school)));
    }
    Some(Chart {
        width: left + 480 + 64,
        height,
        left,
        bar_height: BAR,
        bars,
        ticks,
        target_x: format!("{:.1}", x(target)),
        target_label: format!("{} (doel)", pct_nl(Some(target))),
        line_top: TOP - 8,
        line_bottom: height - 4,
        desc,
    })
}

/// `/`.
pub fn router() -> Router<AppState> {
    Router::new().route("/", get(dashboard))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_has_a_group_matching_its_step() {
        for r in RuleId::ALL {
            assert_eq!(step_key(r), r.step().to_string());
            assert!(STEP_ORDER.contains(&step_key(r)));
        }
    }

    #[test]
    fn chart_draws_the_target_line_and_marks_classes_below_it() {
        let t = |attended| Tally {
            attended,
            scheduled: 100,
        };
        let m = vec![("1A", (t(95), 27)), ("1B", (t(80), 26))];
        let c = chart(&m, 0.9, None, None, Some(0.875)).unwrap();
        assert_eq!(c.bars.len(), 2);
        assert!(!c.bars[0].below);
        assert!(c.bars[1].below);
        assert_eq!(c.target_x, "488.0");
        assert!(c.desc.contains("1 daarvan onder"));
    }
}
