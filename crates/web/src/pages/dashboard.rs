//! Weekoverzicht: the dashboard of bijlage 3 ("gebruik een dashboard voor
//! de wekelijkse monitoring"), for the roles that work with students, over
//! the students in their scope. Built for Monday morning: what must be
//! done today first, then what is new this week, then the picture.
//!
//! - *Vandaag*: the calls due (newest absence first, overdue after), the
//!   DUO duties with a deadline this week (or past it), the user's own
//!   overdue tasks.
//! - *Nieuw deze week*: a count per step and the new signals on one line
//!   each, the explanation on demand (`<details>`, no JavaScript).
//! - Step 3b ranked by unexplained hours in its window, with a "zonder
//!   dossier" filter; the students per step as counts with links to the
//!   Leerlingen list; the attendance per class against the policy's line.
//!
//! Every list shows at most [`LIST_CAP`] rows and then links to the whole
//! list, so that the page stays small for a school of thousands.
//! Everything comes from the evaluations held in memory ([`Live`]) and
//! from caches renewed when the school changes: no query per student.
//! Filters by class and mentor are a plain GET form.

use aanwezig_app::Permission;
use std::cmp::Reverse;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aanwezig_domain::explain::{date_nl, explain};
use aanwezig_domain::{DayIdx, RuleId, Step, Student};
use aanwezig_storage::AuditAction;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use chrono::{Datelike, Duration, NaiveDate};
use serde::Deserialize;

use super::students::{
    class_and_mentor_choices, class_key, derived, given, hours_nl, lessons_in_words, mentor_label,
    mentor_names, open_dossiers, pct_nl, short_day_nl, step_class, step_matches, Choice, Names,
    OpenDossiers, Tally,
};
use super::tasks::UserTask;
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

/// Rows a list shows; a longer list ends with a link to all of it.
const LIST_CAP: usize = 25;

/// The heading of step `key`: `Stap 3a — gemeld verzuim: gesprek`, with
/// the step's one name ([`super::students::step_key_label`]).
fn step_heading(key: &str) -> String {
    format!("Stap {}", super::students::step_key_label(key))
}

#[derive(Debug, Default, Deserialize)]
struct Filters {
    klas: Option<String>,
    mentor: Option<String>,
    /// A date in an earlier teaching week whose new signals to show.
    week: Option<String>,
    /// Set after a call was saved.
    gebeld: Option<String>,
    /// `alle`: the whole call list, not its first rows.
    bellen: Option<String>,
    /// A step (`4b` … `2`) or `alle`: the week's new signals in full.
    nieuw: Option<String>,
    /// `1`: the 3b list without the students who have an open dossier.
    zonder_dossier: Option<String>,
    /// `alle`: every class in the attendance chart.
    klassen: Option<String>,
}

/// `/?…#anchor`: the overview with the selection (class, mentor) kept and
/// `extra` added.
fn overview_href(
    klas: Option<&str>,
    mentor: Option<&str>,
    extra: &[(&str, &str)],
    anchor: &str,
) -> String {
    format!("/?{}#{anchor}", selection_query(klas, mentor, extra))
}

/// The query of a link that keeps the selection (klas, mentor) and adds
/// `extra`.
fn selection_query(klas: Option<&str>, mentor: Option<&str>, extra: &[(&str, &str)]) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in [("klas", klas), ("mentor", mentor)] {
        if let Some(v) = v {
            q.append_pair(k, v);
        }
    }
    for (k, v) in extra {
        q.append_pair(k, v);
    }
    q.finish()
}

/// `/leerlingen?…`: the student list with the selection kept.
fn students_href(klas: Option<&str>, mentor: Option<&str>, extra: &[(&str, &str)]) -> String {
    format!("/leerlingen?{}", selection_query(klas, mentor, extra))
}

/// A new signal, on one line; its explanation opens on demand.
struct SignalRow {
    id: String,
    name: String,
    class: String,
    key: &'static str,
    title: &'static str,
    fired: String,
    overdue: bool,
    explanation: String,
}

/// This week's new signals of one step.
struct NewCount {
    key: &'static str,
    heading: String,
    count: usize,
    /// This step's new signals in full.
    href: String,
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

/// A student on the ranked 3b list.
struct RankRow {
    id: String,
    name: String,
    class: String,
    hours: String,
    dossier: bool,
}

/// Students on one step now.
struct StepCount {
    key: &'static str,
    heading: String,
    students: usize,
    /// The Leerlingen list filtered on this step.
    href: String,
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

/// The part of the overview that is the same for everyone with the same
/// scope and selection: computed once per state of the school.
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
    selection_rate: String,
    school_rate: String,
    target: String,
    year_from: String,
    /// Bel vandaag: the rows shown, how many in all and how many overdue.
    calls: Vec<CallRow>,
    calls_total: usize,
    calls_overdue: usize,
    /// The whole list, when only its first rows are shown.
    calls_all: Option<String>,
    /// The first rows again, when the whole list is shown.
    calls_fewer: Option<String>,
    /// The week's new signals: per step, and the rows shown.
    new_counts: Vec<NewCount>,
    new_total: usize,
    new_rows: Vec<SignalRow>,
    /// What the rows are: empty for the first rows of all steps, else
    /// "stap 3b" or "alle".
    new_shown: String,
    new_all: Option<String>,
    new_fewer: Option<String>,
    /// Step 3b, most unexplained hours first.
    b3_rows: Vec<RankRow>,
    b3_total: usize,
    b3_without_dossier: usize,
    b3_only_without: bool,
    b3_toggle: String,
    b3_all: String,
    b3_more: bool,
    window_weeks: u16,
    /// Students per step, and how many at 4b.
    steps: Vec<StepCount>,
    chart: Option<Chart>,
    classes_total: usize,
    /// Every class in the chart, when it shows only the lowest.
    classes_all: Option<String>,
    classes_fewer: Option<String>,
}

/// The part that is the user's own: the DUO duties in view and the
/// user's overdue tasks.
struct Mine {
    duo: Vec<DuoRow>,
    /// Duties with a deadline up to Sunday (overdue ones included).
    duo_week: usize,
    duo_overdue: usize,
    /// All open duties in view, and their students.
    duo_all: usize,
    duo_students: usize,
    /// Students at step 4b now, and how many of them have a duty open.
    at_4b: usize,
    at_4b_with_duty: usize,
    tasks: Vec<TaskRow>,
    tasks_total: usize,
}

struct DuoRow {
    id: String,
    name: String,
    class: String,
    what: String,
    deadline: String,
    overdue: bool,
    href: String,
}

struct TaskRow {
    name: String,
    class: String,
    what: String,
    due: String,
    href: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "dashboard.html")]
struct Dashboard {
    layout: Layout,
    /// A call was just saved (`?gebeld=1`).
    called: bool,
    /// The signed-in user's own tasks.
    tasks: Option<TaskCounts>,
    notice: Option<String>,
    other: Option<OtherRole>,
    view: Option<Arc<Overview>>,
    mine: Option<Mine>,
}

/// How many of the user's tasks are overdue, due today, and in all.
#[derive(Clone, Copy, Debug)]
struct TaskCounts {
    overdue: usize,
    today: usize,
    total: usize,
}

/// One student's DUO work: the one DUO task Mijn taken shows for them, and
/// how many pieces of work it stands for (open duties and concepts).
struct DuoDuty {
    task: UserTask,
    count: usize,
}

/// The school's DUO work, per student, from the one DUO work function
/// (crate::duo_work, as /meldingen, Mijn taken and the dossier count it).
/// Every user's overview picks the students in their view.
async fn duo_duties(state: &AppState, today: NaiveDate) -> Result<Arc<Vec<DuoDuty>>, PageError> {
    // Kept per state of the school (super::cache), looked up before the
    // data is read.
    static DUTIES: super::cache::Cache<Vec<DuoDuty>> = super::cache::Cache::new();
    let (kept, stamp) = DUTIES.lookup(state, "")?;
    if let Some(duties) = kept {
        return Ok(duties);
    }
    let records = crate::duo_work::DuoRecords::load(state).await?;
    let duties: Vec<DuoDuty> = {
        let live = state.read()?;
        let by = records.by_student();
        crate::duo_work::school_work(&live, &by, today, |_| true)
            .into_iter()
            .filter_map(|(s, w)| {
                super::tasks::duo_task(&s, &w).map(|task| DuoDuty {
                    task,
                    count: w.count(),
                })
            })
            .collect()
    };
    let duties = Arc::new(duties);
    DUTIES.keep(stamp, "", &duties);
    Ok(duties)
}

/// Overviews by user scope and selection, for one state of the school
/// (and one reading of the mentors' names). Many people open the same
/// overview between two changes; a change starts afresh.
struct ViewCache {
    key: (u64, u64),
    /// Held, so that their addresses cannot be reused by newer readings.
    names: Names,
    open: OpenDossiers,
    views: HashMap<String, Arc<Overview>>,
}

/// Views kept per state; more distinct views than this start afresh.
const VIEWS: usize = 256;

static VIEW_CACHE: Mutex<Option<ViewCache>> = Mutex::new(None);

async fn dashboard(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(f): Query<Filters>,
) -> Result<Dashboard, PageError> {
    let layout = Layout::new(&user, section::OVERVIEW, "Weekoverzicht");
    let today = state.clock.today();
    // Only the user's own work: a partner reads along with the school's
    // tasks in the dossiers they are brought into, but those are not theirs.
    let all = super::cache::tasks(&state, &user).await?;
    let own: Vec<&UserTask> = all.iter().filter(|t| !t.read_only).collect();
    let tasks = (!own.is_empty()).then(|| TaskCounts {
        overdue: own.iter().filter(|t| t.overdue).count(),
        today: own.iter().filter(|t| t.due == today).count(),
        total: own.len(),
    });
    if !user.may(Permission::ListStudents) {
        return Ok(Dashboard {
            layout,
            called: false,
            tasks,
            notice: None,
            other: Some(OtherRole {
                admin: user.may(Permission::ManageSettings),
                role: user.role().label_nl().to_owned(),
            }),
            view: None,
            mine: None,
        });
    }
    let names = mentor_names(&state).await?;
    let open = open_dossiers(&state).await?;
    let duties = duo_duties(&state, today).await?;
    // Everything the view depends on besides the school, the names and
    // the dossiers. (External partners, once they see students, add their
    // `involved`.)
    let key = {
        let mut classes = user.user.classes.clone();
        classes.sort();
        [
            user.role().as_str().to_owned(),
            classes.join(","),
            given(&f.klas).unwrap_or_default().to_lowercase(),
            given(&f.mentor).unwrap_or_default().to_owned(),
            today.to_string(),
            given(&f.week).unwrap_or_default().to_owned(),
            given(&f.bellen).unwrap_or_default().to_owned(),
            given(&f.nieuw).unwrap_or_default().to_owned(),
            given(&f.zonder_dossier).unwrap_or_default().to_owned(),
            given(&f.klassen).unwrap_or_default().to_owned(),
        ]
        .join("|")
    };
    let (view, mine) = {
        let live = state.read()?;
        let state_key = (state.changes(), live.generation);
        let cached = VIEW_CACHE.lock().ok().and_then(|c| {
            c.as_ref()
                .filter(|c| {
                    c.key == state_key
                        && Arc::ptr_eq(&c.names, &names)
                        && Arc::ptr_eq(&c.open, &open)
                })
                .and_then(|c| c.views.get(&key).cloned())
        });
        let view = match cached {
            Some(view) => Ok(view),
            None => match overview(&live, &user, &names, &open, &f, today) {
                Ok(view) => {
                    let view = Arc::new(view);
                    if let Ok(mut cache) = VIEW_CACHE.lock() {
                        let fresh = cache.as_ref().is_none_or(|c| {
                            c.key != state_key
                                || !Arc::ptr_eq(&c.names, &names)
                                || !Arc::ptr_eq(&c.open, &open)
                                || c.views.len() >= VIEWS
                        });
                        if fresh {
                            *cache = Some(ViewCache {
                                key: state_key,
                                names: Arc::clone(&names),
                                open: Arc::clone(&open),
                                views: HashMap::new(),
                            });
                        }
                        if let Some(c) = cache.as_mut() {
                            c.views.insert(key, Arc::clone(&view));
                        }
                    }
                    Ok(view)
                }
                Err(notice) => Err(notice),
            },
        };
        let mine = view
            .is_ok()
            .then(|| mine(&live, &user, &f, &duties, &own, today));
        (view, mine)
    };
    user.audit(&state, AuditAction::Read, None, "weekoverzicht")
        .await?;
    let (notice, view) = match view {
        Ok(v) => (None, Some(v)),
        Err(n) => (Some(n), None),
    };
    Ok(Dashboard {
        layout,
        called: f.gebeld.is_some(),
        tasks,
        notice,
        other: None,
        view,
        mine,
    })
}

/// Whether a student is in the user's view: in scope and in the selection.
fn in_view(user: &CurrentUser, s: &Student, klas: Option<&str>, mentor: Option<&str>) -> bool {
    user.may_for(Permission::ReadStudent, s)
        && klas.is_none_or(|k| k.eq_ignore_ascii_case(&s.class))
        && mentor.is_none_or(|m| m == s.mentor)
}

/// The user's part of "Vandaag": the DUO duties in view and the user's
/// own overdue tasks, in view.
fn mine(
    live: &Live,
    user: &CurrentUser,
    f: &Filters,
    duties: &[DuoDuty],
    own: &[&UserTask],
    today: NaiveDate,
) -> Mine {
    let klas = given(&f.klas);
    let mentor = given(&f.mentor);
    let students = live.school.students();
    let student = |id: &aanwezig_domain::StudentId| {
        live.position(id.as_str())
            .and_then(|i| students.get(i).map(|s| (i, s)))
            .filter(|(_, s)| in_view(user, s, klas, mentor))
    };
    let sunday = today + Duration::days(i64::from(6 - today.weekday().num_days_from_monday()));
    let steps = derived(live).map(|d| d.steps.clone()).unwrap_or_default();
    let at_4b = |i: usize| steps.get(i).is_some_and(|s| step_matches(*s, "4b"));

    let in_view_duties: Vec<(usize, &DuoDuty)> = duties
        .iter()
        .filter_map(|t| student(&t.task.student).map(|(i, _)| (i, t)))
        .collect();
    let mut with_duty: Vec<usize> = in_view_duties.iter().map(|(i, _)| *i).collect();
    with_duty.sort_unstable();
    with_duty.dedup();
    let week = duo_due_this_week(in_view_duties.iter().map(|(_, t)| &t.task), sunday);
    let four_b = students
        .iter()
        .enumerate()
        .filter(|(i, s)| in_view(user, s, klas, mentor) && at_4b(*i))
        .count();

    let overdue: Vec<&UserTask> = own
        .iter()
        .copied()
        .filter(|t| t.overdue && t.kind != "bellen" && !t.kind.starts_with("duo"))
        .filter(|t| student(&t.student).is_some())
        .collect();
    Mine {
        duo_week: week.len(),
        duo_overdue: week.iter().filter(|t| t.overdue).count(),
        duo: week
            .iter()
            .take(LIST_CAP)
            .map(|t| DuoRow {
                id: t.student.to_string(),
                name: t.name.clone(),
                class: t.class.clone(),
                // The heading says what it is.
                what: t.what_nl.trim_start_matches("DUO-werk: ").to_owned(),
                deadline: short_day_nl(t.due),
                overdue: t.overdue,
                href: t.href.clone(),
            })
            .collect(),
        duo_all: in_view_duties.iter().map(|(_, t)| t.count).sum(),
        duo_students: with_duty.len(),
        at_4b: four_b,
        at_4b_with_duty: with_duty.iter().filter(|i| at_4b(**i)).count(),
        tasks_total: overdue.len(),
        tasks: overdue
            .iter()
            .take(LIST_CAP)
            .map(|t| TaskRow {
                name: t.name.clone(),
                class: t.class.clone(),
                what: t.what_nl.clone(),
                due: short_day_nl(t.due),
                href: t.href.clone(),
            })
            .collect(),
    }
}

/// The DUO duties due by `sunday`, overdue ones included, earliest
/// deadline first.
fn duo_due_this_week<'a>(
    duties: impl Iterator<Item = &'a UserTask>,
    sunday: NaiveDate,
) -> Vec<&'a UserTask> {
    let mut due: Vec<&UserTask> = duties.filter(|t| t.due <= sunday).collect();
    due.sort_by(|a, b| (a.due, &a.name).cmp(&(b.due, &b.name)));
    due
}

/// Builds the overview, or says why there is none yet.
fn overview(
    live: &Live,
    user: &CurrentUser,
    names: &HashMap<String, String>,
    open: &OpenDossiers,
    f: &Filters,
    today: NaiveDate,
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
    let scope = |s: &Student| user.may_for(Permission::ListStudents, s);
    let klas = given(&f.klas);
    let mentor = given(&f.mentor);
    let all_calls = given(&f.bellen).is_some();
    let new_shown = given(&f.nieuw)
        .filter(|n| *n == "alle" || STEP_ORDER.contains(n))
        .unwrap_or_default();
    let only_without = given(&f.zonder_dossier).is_some();
    let students = live.school.students();
    let (classes, mentors) =
        class_and_mentor_choices(students.iter().filter(|s| scope(s)), names, klas, mentor);

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
    let earlier_week =
        (new_first < week_first).then(|| cal.date(new_first).format("%Y-%m-%d").to_string());
    let week_href = |x: DayIdx| {
        let date = cal.date(x).format("%Y-%m-%d").to_string();
        let extra: Vec<(&str, &str)> = if x < week_first {
            vec![("week", date.as_str())]
        } else {
            vec![]
        };
        overview_href(klas, mentor, &extra, "nieuw")
    };
    let prev_week = (new_first > 0).then(|| week_href(*cal.week_days(new_first - 1).start()));
    let next_week = (new_last < d).then(|| week_href(new_last + 1));
    let new_href = |which: &str| {
        let mut extra = vec![("nieuw", which)];
        if let Some(w) = &earlier_week {
            extra.push(("week", w.as_str()));
        }
        overview_href(klas, mentor, &extra, "nieuw")
    };
    let from = derived.from;
    let target = policy.attendance.target;

    let mut in_scope = 0;
    let mut above_step_1 = 0;
    // (overdue, newest absence first, name)
    let mut calls: Vec<(bool, Reverse<DayIdx>, CallRow)> = Vec::new();
    // (step order, newest first, name)
    let mut new: Vec<(usize, Reverse<DayIdx>, SignalRow)> = Vec::new();
    let mut b3: Vec<(Reverse<u32>, RankRow)> = Vec::new();
    let mut b3_total = 0;
    let mut b3_without_dossier = 0;
    let mut step_counts: HashMap<&'static str, usize> = HashMap::new();
    let mut per_class: HashMap<&str, (Tally, usize)> = HashMap::new();
    let mut selection = Tally::default();

    for (i, s) in students.iter().enumerate() {
        if !in_view(user, s, klas, mentor) {
            continue;
        }
        let regs = live.school.registrations(i);
        let tally = derived.tallies[i];
        in_scope += 1;
        selection.add(tally);
        let entry = per_class
            .entry(s.class.as_str())
            .or_insert((Tally::default(), 0));
        entry.0.add(tally);
        entry.1 += 1;

        let step = derived.steps[i];
        if step != Step::NONE {
            above_step_1 += 1;
        }
        for key in STEP_ORDER.iter().chain(&["1"]) {
            if step_matches(step, key) {
                *step_counts.entry(key).or_default() += 1;
            }
        }
        let Some(eval) = live.evaluations.get(i) else {
            continue;
        };
        let id = s.id.to_string();

        // The week's new signals.
        for sig in eval.fired_between(new_first, new_last) {
            let key = step_key(sig.rule);
            let order = STEP_ORDER.iter().position(|k| *k == key).unwrap_or(0);
            new.push((
                order,
                Reverse(sig.fired_on),
                SignalRow {
                    id: id.clone(),
                    name: s.name.clone(),
                    class: s.class.clone(),
                    key,
                    title: sig.rule.title_nl(),
                    fired: short_day_nl(cal.date(sig.fired_on)),
                    overdue: sig.deadline.is_some_and(|x| x < today) && sig.is_open_on(d),
                    explanation: explain(sig, cal, policy, regs),
                },
            ));
        }

        // Bel vandaag: the open whole-day absences not yet called about.
        for sig in eval.open_on(d).filter(|x| x.rule == RuleId::Contact) {
            // A call that reached someone handles the absence; one that
            // reached no one moves it to the next school day.
            let (deadline, tried) = match live.call_due(i, sig) {
                aanwezig_domain::CallDue::Done(_) => continue,
                aanwezig_domain::CallDue::Due { by, tried } => (by, tried),
            };
            calls.push((
                deadline < today,
                Reverse(sig.fired_on),
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

        // Step 3b, ranked by the unexplained hours in its window.
        if step_matches(step, "3b") {
            let dossier = open.contains(&s.id);
            b3_total += 1;
            b3_without_dossier += usize::from(!dossier);
            if !(only_without && dossier) {
                b3.push((
                    Reverse(derived.unexplained[i]),
                    RankRow {
                        id: id.clone(),
                        name: s.name.clone(),
                        class: s.class.clone(),
                        hours: hours_nl(derived.unexplained[i]),
                        dossier,
                    },
                ));
            }
        }
    }

    calls.sort_by(|a, b| {
        (a.0, a.1)
            .cmp(&(b.0, b.1))
            .then_with(|| a.2.name.cmp(&b.2.name))
    });
    let calls_total = calls.len();
    let calls_overdue = calls.iter().filter(|c| c.0).count();
    let capped = !all_calls && calls_total > LIST_CAP;
    let calls: Vec<CallRow> = calls
        .into_iter()
        .take(if all_calls { usize::MAX } else { LIST_CAP })
        .map(|(_, _, r)| r)
        .collect();

    new.sort_by(|a, b| {
        (a.0, a.1)
            .cmp(&(b.0, b.1))
            .then_with(|| a.2.name.cmp(&b.2.name))
    });
    let new_total = new.len();
    let new_counts: Vec<NewCount> = STEP_ORDER
        .iter()
        .map(|key| NewCount {
            key,
            heading: step_heading(key),
            count: new.iter().filter(|r| r.2.key == *key).count(),
            href: new_href(key),
        })
        .collect();
    let new_rows: Vec<SignalRow> = match new_shown {
        "" => new.into_iter().take(LIST_CAP).map(|(_, _, r)| r).collect(),
        "alle" => new.into_iter().map(|(_, _, r)| r).collect(),
        key => new
            .into_iter()
            .filter(|r| r.2.key == key)
            .map(|(_, _, r)| r)
            .collect(),
    };

    b3.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.name.cmp(&b.1.name)));
    let b3_listed = b3.len();
    let b3_rows: Vec<RankRow> = b3.into_iter().take(LIST_CAP).map(|(_, r)| r).collect();
    let b3_all = {
        let mut extra = vec![("stap", "3b")];
        if only_without {
            extra.push(("zonder_dossier", "1"));
        }
        extra.push(("sorteer", "uren"));
        students_href(klas, mentor, &extra)
    };
    let b3_toggle = if only_without {
        overview_href(klas, mentor, &[], "stap-3b")
    } else {
        overview_href(klas, mentor, &[("zonder_dossier", "1")], "stap-3b")
    };

    let steps = STEP_ORDER
        .iter()
        .chain(&["1"])
        .map(|key| StepCount {
            key,
            heading: step_heading(key),
            students: step_counts.get(key).copied().unwrap_or(0),
            href: students_href(klas, mentor, &[("stap", key), ("sorteer", "stap")]),
        })
        .collect();

    let mut per_class: Vec<(&str, (Tally, usize))> = per_class.into_iter().collect();
    per_class.sort_by_cached_key(|(c, _)| class_key(c));
    // Many classes: the lowest attendance first, and only the first rows.
    let all_classes = given(&f.klassen).is_some();
    let classes_total = per_class.len();
    let shown_classes: Vec<(&str, (Tally, usize))> = if all_classes || classes_total <= LIST_CAP {
        per_class.clone()
    } else {
        let mut lowest = per_class.clone();
        lowest.sort_by(|a, b| {
            let ra = a.1 .0.rate().unwrap_or(f64::INFINITY);
            let rb = b.1 .0.rate().unwrap_or(f64::INFINITY);
            ra.total_cmp(&rb)
        });
        lowest.truncate(LIST_CAP);
        lowest
    };
    let chart = chart(
        &shown_classes,
        &per_class,
        target,
        klas,
        mentor,
        derived.school.rate(),
    );
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
        selection_rate: pct_nl(selection.rate()),
        school_rate: pct_nl(derived.school.rate()),
        target: pct_nl(Some(target)),
        year_from: date_nl(cal.date(from)),
        calls,
        calls_total,
        calls_overdue,
        calls_all: capped.then(|| overview_href(klas, mentor, &[("bellen", "alle")], "bellen")),
        calls_fewer: (all_calls && calls_total > LIST_CAP)
            .then(|| overview_href(klas, mentor, &[], "bellen")),
        new_counts,
        new_total,
        new_all: (new_shown.is_empty() && new_total > LIST_CAP).then(|| new_href("alle")),
        new_fewer: (!new_shown.is_empty()).then(|| {
            let extra: Vec<(&str, &str)> = earlier_week
                .as_deref()
                .map(|w| vec![("week", w)])
                .unwrap_or_default();
            overview_href(klas, mentor, &extra, "nieuw")
        }),
        new_shown: match new_shown {
            "" => String::new(),
            "alle" => "alle".to_owned(),
            key => format!("stap {key}"),
        },
        new_rows,
        b3_more: b3_listed > LIST_CAP,
        b3_rows,
        b3_total,
        b3_without_dossier,
        b3_only_without: only_without,
        b3_toggle,
        b3_all,
        window_weeks: policy.unexplained.window_weeks,
        steps,
        chart,
        classes_total,
        classes_all: (!all_classes && classes_total > LIST_CAP)
            .then(|| overview_href(klas, mentor, &[("klassen", "alle")], "aanwezigheid")),
        classes_fewer: (all_classes && classes_total > LIST_CAP)
            .then(|| overview_href(klas, mentor, &[], "aanwezigheid")),
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

/// Horizontal bars, one per class of `per_class`, on a 0–100 % scale with a
/// dashed line at the policy's target; its description counts `all` the
/// classes. All geometry is computed here; the template only places the
/// elements.
fn chart(
    per_class: &[(&str, (Tally, usize))],
    all: &[(&str, (Tally, usize))],
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
    let below = all
        .iter()
        .filter(|(_, (t, _))| t.rate().is_some_and(|r| r < target))
        .count();
    let mut y = TOP;
    let mut bars = Vec::new();
    for (class, (tally, students)) in per_class {
        let rate = tally.rate();
        let r = rate.unwrap_or(0.0);
        let is_below = rate.is_some_and(|r| r < target);
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
    let n = all.len();
    let mut desc = format!(
        "Aanwezigheid dit schooljaar van {n} klas{}; {below} daarvan onder de lijn van {}.",
        if n == 1 { "" } else { "sen" },
        pct_nl(Some(target))
    );
    if klas.is_none() && mentor.is_none() {
        desc.push_str(&format!(" De hele school: {}.", pct_nl(school)));
    }
    if per_class.len() < n {
        desc.push_str(&format!(
            " De grafiek toont de {} klassen met de laagste aanwezigheid.",
            per_class.len()
        ));
    }
    Some(Chart {
        width: left + 480 + 64,
        height,
        left,
        bar_height: BAR,
        bars,
        ticks,
        target_x: format!("{:.1}", x(target)),
        target_label: format!("{} (streeflijn)", pct_nl(Some(target))),
        line_top: TOP - 8,
        line_bottom: height - 4,
        desc,
    })
}

/// `/`.
pub fn router() -> crate::routes::Routes {
    crate::routes::Routes::new().get("/", dashboard)
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
        let c = chart(&m, &m, 0.9, None, None, Some(0.875)).unwrap();
        assert_eq!(c.bars.len(), 2);
        assert!(!c.bars[0].below);
        assert!(c.bars[1].below);
        assert_eq!(c.target_x, "488.0");
        assert!(c.desc.contains("1 daarvan onder"));
    }
}
