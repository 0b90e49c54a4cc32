//! Leerlingen: the students in the user's scope, searchable by name or
//! number, filterable by class, step and mentor, sortable by links (no
//! JavaScript), 100 to a page. Also the small helpers the overview pages
//! share (attendance figures, step badges, mentor names).

use crate::guard::ListStudents;
use aanwezig_app::Permission;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use aanwezig_domain::engine::attendance;
use aanwezig_domain::{Calendar, Category, DayIdx, Hours, Registration, Step, Student, StudentId};
use aanwezig_storage::AuditAction;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::error::PageError;
use crate::layout::{section, Layout};
use crate::live::Live;
use crate::state::AppState;

/// Students shown on one page of the list.
const PAGE_SIZE: usize = 100;

// --- shared helpers ------------------------------------------------------

/// Attended and scheduled lessons, summed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Tally {
    pub attended: u32,
    pub scheduled: u32,
}

impl Tally {
    pub fn of(
        cal: &aanwezig_domain::Calendar,
        presence: aanwezig_domain::Presence,
        week: Option<&aanwezig_domain::WeekSchedule>,
        regs: &[aanwezig_domain::Registration],
        from: DayIdx,
        to: DayIdx,
    ) -> Tally {
        let (attended, scheduled) = attendance(cal, presence, week, regs, from, to);
        Tally {
            attended,
            scheduled,
        }
    }

    pub fn add(&mut self, other: Tally) {
        self.attended += other.attended;
        self.scheduled += other.scheduled;
    }

    /// The share attended, `None` without scheduled lessons.
    pub fn rate(self) -> Option<f64> {
        (self.scheduled > 0).then(|| f64::from(self.attended) / f64::from(self.scheduled))
    }
}

/// What the overview pages derive from every student, cached per
/// [`Live::generation`]: the attendance of the school year up to the last
/// evaluated day and the step on that day. Summing a school year of
/// registrations is the costly part of the dashboard; with this cache a
/// page view only filters and adds.
pub(super) struct Derived {
    generation: u64,
    /// The first school day of the school year.
    pub from: DayIdx,
    /// Per student, in school order.
    pub tallies: Vec<Tally>,
    pub steps: Vec<Step>,
    /// Unexplained minutes in the 3b rule's window up to the last
    /// evaluated day (rules.md §4: `window(d, 4)`), the figure the 3b
    /// list ranks by.
    pub unexplained: Vec<u32>,
    /// The whole school.
    pub school: Tally,
}

/// The cached [`Derived`] of `live`; `None` without a calendar or before
/// the first school day.
pub(super) fn derived(live: &Live) -> Option<Arc<Derived>> {
    static CACHE: Mutex<Option<Arc<Derived>>> = Mutex::new(None);
    let engine = live.engine()?;
    let d = live.through?;
    let compute = || {
        let from = year_start(engine.calendar(), d);
        let policy = engine.policy();
        let window = engine.window_start(d, policy.unexplained.window_weeks);
        let n = live.school.students().len();
        let mut school = Tally::default();
        let mut tallies = Vec::with_capacity(n);
        let mut steps = Vec::with_capacity(n);
        let mut unexplained = Vec::with_capacity(n);
        for i in 0..n {
            // Registrations are sorted by day.
            let regs = live.school.registrations(i);
            let start = regs.partition_point(|r| r.day < window);
            unexplained.push(
                regs[start..]
                    .iter()
                    .take_while(|r| r.day <= d)
                    .map(|r| policy.unexplained_minutes(r.category, r.minutes, r.minutes_late))
                    .sum(),
            );
            let t = Tally::of(
                engine.calendar(),
                engine.policy().presence,
                live.school.context(i).week.as_ref(),
                live.school.registrations(i),
                from,
                d,
            );
            school.add(t);
            tallies.push(t);
            steps.push(
                live.evaluations
                    .get(i)
                    .map_or(Step::NONE, |e| e.step_on(&engine, d)),
            );
        }
        Arc::new(Derived {
            generation: live.generation,
            from,
            tallies,
            steps,
            unexplained,
            school,
        })
    };
    // A poisoned cache only costs speed.
    let Ok(mut cache) = CACHE.lock() else {
        return Some(compute());
    };
    match cache.as_ref() {
        Some(c) if c.generation == live.generation => Some(Arc::clone(c)),
        _ => {
            let fresh = compute();
            *cache = Some(Arc::clone(&fresh));
            Some(fresh)
        }
    }
}

/// A share as a Dutch percentage with one decimal: `93,4 %`; `–` for none.
pub(super) fn pct_nl(rate: Option<f64>) -> String {
    match rate {
        Some(r) => format!("{:.1} %", r * 100.0).replace('.', ","),
        None => "–".to_owned(),
    }
}

/// The CSS class of a step badge: `step-3a`, `step-3a3b`.
pub(super) fn step_class(step: Step) -> String {
    format!("step-{}", step.to_string().replace('/', ""))
}

/// Orders steps from the least to the most serious (4b above 4a at level 4).
pub(super) fn step_rank(step: Step) -> u8 {
    step.level * 4 + u8::from(step.b) * 2 + u8::from(step.a)
}

/// Whether `step` matches a filter value `1`, `2`, `3a`, `3b`, `4a`, `4b`.
pub(super) fn step_matches(step: Step, filter: &str) -> bool {
    let mut chars = filter.chars();
    let level = chars.next().and_then(|c| c.to_digit(10));
    let track = chars.next();
    match (level, track) {
        (Some(l), None) => u32::from(step.level) == l,
        (Some(l), Some('a')) => u32::from(step.level) == l && step.a,
        (Some(l), Some('b')) => u32::from(step.level) == l && step.b,
        _ => false,
    }
}

/// The step filter's values, most serious first.
pub(super) const STEP_KEYS: [&str; 6] = ["4b", "4a", "3b", "3a", "2", "1"];

/// The name of step `key` (`1`, `2`, `3a`, `3b`, `4a`, `4b`) from the one
/// domain function ([`Step::label_nl`]), starting in lower case to follow
/// the step's number: `3a — gemeld verzuim: gesprek`.
pub(super) fn step_key_label(key: &str) -> String {
    let mut chars = key.chars();
    let level = chars
        .next()
        .and_then(|c| c.to_digit(10))
        .and_then(|l| u8::try_from(l).ok())
        .unwrap_or(1);
    let track = chars.next();
    let step = Step {
        level,
        a: track == Some('a'),
        b: track == Some('b'),
    };
    let label = step.label_nl();
    let mut first = label.chars();
    let lower = match first.next() {
        Some(c) => c.to_lowercase().chain(first).collect(),
        None => String::new(),
    };
    format!("{key} — {lower}")
}

/// The first school day of the school year holding school day `d`.
pub(super) fn year_start(cal: &Calendar, d: DayIdx) -> DayIdx {
    cal.year_of_date(cal.date(d))
        .and_then(|y| cal.on_or_after(y.first_day))
        .filter(|s| *s <= d)
        .unwrap_or(0)
}

/// User names to display names, to show mentors by name.
pub(super) type Names = Arc<HashMap<String, String>>;

/// How long [`mentor_names`] reuses what it read.
const NAMES_FOR: chrono::Duration = chrono::Duration::seconds(60);

/// User names to display names. Read from the store at most once a
/// minute, and again whenever the school changed (a new generation, which
/// also tells apart the schools of several apps in one process): every
/// page view would otherwise read every account.
pub(super) async fn mentor_names(state: &AppState) -> Result<Names, PageError> {
    struct Cached {
        generation: u64,
        at: chrono::DateTime<chrono::Utc>,
        names: Names,
    }
    static CACHE: Mutex<Option<Cached>> = Mutex::new(None);
    let generation = state.read()?.generation;
    let now = state.clock.now();
    if let Ok(cache) = CACHE.lock() {
        if let Some(c) = cache.as_ref() {
            let age = now - c.at;
            if c.generation == generation && age >= chrono::Duration::zero() && age < NAMES_FOR {
                return Ok(Arc::clone(&c.names));
            }
        }
    }
    let names: Names = Arc::new(
        state
            .store
            .users()
            .await?
            .into_iter()
            .map(|u| (u.username, u.display_name))
            .collect(),
    );
    if let Ok(mut cache) = CACHE.lock() {
        *cache = Some(Cached {
            generation,
            at: now,
            names: Arc::clone(&names),
        });
    }
    Ok(names)
}

/// The students with an open dossier.
pub(super) type OpenDossiers = Arc<HashSet<StudentId>>;

/// The students with an open dossier, read from the store once per state
/// of the school: the app's change count (every saved dossier counts) and
/// the live school's generation (which also tells apart the schools of
/// several apps in one process).
pub(super) async fn open_dossiers(state: &AppState) -> Result<OpenDossiers, PageError> {
    static CACHE: Mutex<Option<((u64, u64), OpenDossiers)>> = Mutex::new(None);
    // Read the key before the data, so that a change racing with the read
    // leaves a stale key behind, never a stale set.
    let key = (state.changes(), state.read()?.generation);
    if let Some(set) = CACHE.lock().ok().and_then(|c| {
        c.as_ref()
            .filter(|(k, _)| *k == key)
            .map(|(_, s)| Arc::clone(s))
    }) {
        return Ok(set);
    }
    let set: OpenDossiers = Arc::new(
        state
            .store
            .cases(true)
            .await?
            .into_iter()
            .filter(aanwezig_domain::Case::is_open)
            .map(|c| c.student)
            .collect(),
    );
    if let Ok(mut cache) = CACHE.lock() {
        *cache = Some((key, Arc::clone(&set)));
    }
    Ok(set)
}

/// Unexplained minutes as hours in Dutch notation: `12 uur`, `1,5 uur`.
pub(super) fn hours_nl(minutes: u32) -> String {
    format!("{} uur", Hours::from_minutes(minutes))
}

/// A student's mentor as people know them: the account's display name
/// when the mentor field holds a user name, else the field as it is.
pub(super) fn mentor_label(names: &HashMap<String, String>, mentor: &str) -> String {
    names
        .get(mentor)
        .cloned()
        .unwrap_or_else(|| mentor.to_owned())
}

/// The lessons of a day in words: `5 lessen aanwezig en 2 lessen onbekend afwezig`.
pub(super) fn lessons_in_words<'a>(regs: impl IntoIterator<Item = &'a Registration>) -> String {
    let mut counts = [0u32; 9];
    for r in regs {
        counts[r.category as usize] += 1;
    }
    let parts: Vec<String> = Category::ALL
        .iter()
        .zip(counts)
        .filter(|(_, n)| *n > 0)
        .map(|(c, n)| match (c, n) {
            (Category::LateUnexcused | Category::LateExcused, n) => {
                format!("{n} keer {}", c.label_nl())
            }
            (_, 1) => format!("1 les {}", c.label_nl()),
            (_, n) => format!("{n} lessen {}", c.label_nl()),
        })
        .collect();
    match parts.as_slice() {
        [] => "geen lessen geregistreerd".to_owned(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} en {last}", init.join(", ")),
    }
}

/// A date short, with its weekday: `vr 14 nov`.
pub(super) fn short_day_nl(date: chrono::NaiveDate) -> String {
    aanwezig_domain::explain::short_day_nl(date)
}

/// `Some(trimmed)` for a non-empty query value.
pub(super) fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// One choice of a filter `<select>`.
#[derive(Clone, Debug)]
pub(super) struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// Class and mentor choices for the students a user may see.
pub(super) fn class_and_mentor_choices<'a>(
    students: impl Iterator<Item = &'a aanwezig_domain::Student>,
    names: &HashMap<String, String>,
    klas: Option<&str>,
    mentor: Option<&str>,
) -> (Vec<Choice>, Vec<Choice>) {
    let mut class_set: BTreeSet<&str> = BTreeSet::new();
    let mut mentor_set: BTreeSet<&str> = BTreeSet::new();
    for s in students {
        class_set.insert(&s.class);
        mentor_set.insert(&s.mentor);
    }
    let mut classes: Vec<&str> = class_set.into_iter().collect();
    classes.sort_by_cached_key(|c| class_key(c));
    let mentors = mentor_set;
    let class_choices = classes
        .into_iter()
        .map(|c| Choice {
            selected: klas.is_some_and(|k| k.eq_ignore_ascii_case(c)),
            label: c.to_owned(),
            value: c.to_owned(),
        })
        .collect();
    let mut mentor_choices: Vec<Choice> = mentors
        .into_iter()
        .filter(|m| !m.is_empty())
        .map(|m| Choice {
            selected: mentor == Some(m),
            label: mentor_label(names, m),
            value: m.to_owned(),
        })
        .collect();
    mentor_choices.sort_by_cached_key(|c| c.label.to_lowercase());
    (class_choices, mentor_choices)
}

/// Sorts classes as people read them: `2B` before `10A`.
pub(super) fn class_key(class: &str) -> (u32, String) {
    let digits: String = class.chars().take_while(char::is_ascii_digit).collect();
    (
        digits.parse().unwrap_or(u32::MAX),
        class.to_ascii_uppercase(),
    )
}

// --- the list --------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    zoek: Option<String>,
    klas: Option<String>,
    stap: Option<String>,
    mentor: Option<String>,
    sorteer: Option<String>,
    pagina: Option<String>,
    /// `1`: only students without an open dossier.
    zonder_dossier: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sort {
    Name,
    Class,
    Step,
    Attendance,
    /// Most unexplained hours in the 3b window first.
    Hours,
}

impl Sort {
    fn parse(s: Option<&str>) -> Sort {
        match s {
            Some("naam") => Sort::Name,
            Some("stap") => Sort::Step,
            Some("aanwezigheid") => Sort::Attendance,
            Some("uren") => Sort::Hours,
            _ => Sort::Class,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Sort::Name => "naam",
            Sort::Class => "klas",
            Sort::Step => "stap",
            Sort::Attendance => "aanwezigheid",
            Sort::Hours => "uren",
        }
    }
}

struct Row {
    id: String,
    name: String,
    class: String,
    mentor: String,
    rate_text: String,
    below: bool,
    step_text: String,
    step_class: String,
    hours: String,
}

/// A sortable column header.
struct SortLink {
    label: &'static str,
    href: String,
    /// `ascending`/`descending` for the current sort, else empty.
    aria: &'static str,
    numeric: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "students.html")]
struct StudentsPage {
    layout: Layout,
    /// Why there is nothing to show (no calendar yet).
    notice: Option<String>,
    zoek: String,
    classes: Vec<Choice>,
    mentors: Vec<Choice>,
    steps: Vec<Choice>,
    sort_value: &'static str,
    /// The "zonder dossier" filter is on.
    without_dossier: bool,
    /// Weeks of the 3b window, for the hours column's heading.
    window_weeks: u16,
    headers: Vec<SortLink>,
    rows: Vec<Row>,
    total: usize,
    in_scope: usize,
    first: usize,
    last: usize,
    page: usize,
    pages: usize,
    prev: Option<String>,
    next: Option<String>,
    target: String,
    year_from: String,
}

/// The list's query string for a sort and page, keeping the filters.
fn list_href(q: &ListQuery, sort: Sort, page: usize) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in [
        ("zoek", &q.zoek),
        ("klas", &q.klas),
        ("stap", &q.stap),
        ("mentor", &q.mentor),
    ] {
        if let Some(v) = given(v) {
            s.append_pair(k, v);
        }
    }
    if given(&q.zonder_dossier).is_some() {
        s.append_pair("zonder_dossier", "1");
    }
    s.append_pair("sorteer", sort.as_str());
    if page > 1 {
        s.append_pair("pagina", &page.to_string());
    }
    format!("/leerlingen?{}", s.finish())
}

async fn list(
    State(state): State<AppState>,
    ListStudents(user): ListStudents,
    Query(q): Query<ListQuery>,
) -> Result<StudentsPage, PageError> {
    let names = mentor_names(&state).await?;
    let open = open_dossiers(&state).await?;
    let sort = Sort::parse(given(&q.sorteer));
    let page = {
        let live = state.read()?;
        build_list(&live, &user, &names, &open, &q, sort)
    };
    user.audit(&state, AuditAction::Read, None, "leerlingenlijst")
        .await?;
    Ok(page)
}

fn build_list(
    live: &crate::live::Live,
    user: &CurrentUser,
    names: &HashMap<String, String>,
    open: &HashSet<StudentId>,
    q: &ListQuery,
    sort: Sort,
) -> StudentsPage {
    let without_dossier = given(&q.zonder_dossier).is_some();
    let scope = |s: &Student| user.may_for(Permission::ListStudents, s);
    let zoek = given(&q.zoek).map(str::to_lowercase);
    let klas = given(&q.klas);
    let stap = given(&q.stap);
    let mentor = given(&q.mentor);
    let students = live.school.students();
    let (classes, mentors) =
        class_and_mentor_choices(students.iter().filter(|s| scope(s)), names, klas, mentor);
    let steps = STEP_KEYS
        .iter()
        .map(|v| Choice {
            value: (*v).to_owned(),
            label: step_key_label(v),
            selected: stap == Some(*v),
        })
        .collect();
    let target = live.policy.attendance.target;
    let mut page = StudentsPage {
        layout: Layout::new(user, section::STUDENTS, "Leerlingen"),
        notice: None,
        zoek: given(&q.zoek).unwrap_or_default().to_owned(),
        classes,
        mentors,
        steps,
        sort_value: sort.as_str(),
        without_dossier,
        window_weeks: live.policy.unexplained.window_weeks,
        headers: Vec::new(),
        rows: Vec::new(),
        total: 0,
        in_scope: 0,
        first: 0,
        last: 0,
        page: 1,
        pages: 1,
        prev: None,
        next: None,
        target: pct_nl(Some(target)),
        year_from: String::new(),
    };
    page.headers = [
        ("Naam", Sort::Name, false),
        ("Klas", Sort::Class, false),
        ("Aanwezigheid", Sort::Attendance, true),
        ("Stap", Sort::Step, false),
        ("Ongeoorloofd", Sort::Hours, true),
    ]
    .into_iter()
    .map(|(label, s, numeric)| SortLink {
        label,
        href: list_href(q, s, 1),
        aria: if s == sort {
            if matches!(s, Sort::Step | Sort::Hours) {
                "descending"
            } else {
                "ascending"
            }
        } else {
            ""
        },
        numeric,
    })
    .collect();
    let (Some(cal), Some(derived)) = (live.cal.as_ref(), derived(live)) else {
        page.notice = Some(if live.cal.is_none() {
            "Er is nog geen schoolkalender ingelezen. De beheerder zet die klaar onder Instellingen; daarna verschijnen hier de leerlingen met hun aanwezigheid en stap.".to_owned()
        } else {
            "Het schooljaar is nog niet begonnen: er zijn nog geen schooldagen om te tonen."
                .to_owned()
        });
        return page;
    };
    page.year_from = aanwezig_domain::explain::date_nl(cal.date(derived.from));
    // Pick and sort by light keys; build full rows for the shown page only.
    struct Pick<'a> {
        s: &'a aanwezig_domain::Student,
        step: Step,
        rate: Option<f64>,
        unexplained: u32,
        class: (u32, String),
        name: String,
    }
    let mut picks: Vec<Pick<'_>> = Vec::new();
    for (i, s) in students.iter().enumerate() {
        if !scope(s) {
            continue;
        }
        page.in_scope += 1;
        if klas.is_some_and(|k| !k.eq_ignore_ascii_case(&s.class)) {
            continue;
        }
        if mentor.is_some_and(|m| m != s.mentor) {
            continue;
        }
        let name = s.name.to_lowercase();
        if let Some(z) = &zoek {
            if !name.contains(z) && !s.id.as_str().to_lowercase().contains(z) {
                continue;
            }
        }
        let step = derived.steps[i];
        if stap.is_some_and(|f| !step_matches(step, f)) {
            continue;
        }
        if without_dossier && open.contains(&s.id) {
            continue;
        }
        picks.push(Pick {
            s,
            step,
            rate: derived.tallies[i].rate(),
            unexplained: derived.unexplained[i],
            class: class_key(&s.class),
            name,
        });
    }
    let by_name =
        |a: &Pick<'_>, b: &Pick<'_>| a.name.cmp(&b.name).then_with(|| a.s.id.cmp(&b.s.id));
    match sort {
        Sort::Name => picks.sort_by(by_name),
        Sort::Class => picks.sort_by(|a, b| a.class.cmp(&b.class).then_with(|| by_name(a, b))),
        Sort::Step => picks.sort_by(|a, b| {
            step_rank(b.step)
                .cmp(&step_rank(a.step))
                .then_with(|| by_name(a, b))
        }),
        Sort::Attendance => picks.sort_by(|a, b| {
            let ra = a.rate.unwrap_or(f64::INFINITY);
            let rb = b.rate.unwrap_or(f64::INFINITY);
            ra.total_cmp(&rb).then_with(|| by_name(a, b))
        }),
        Sort::Hours => picks.sort_by(|a, b| {
            b.unexplained
                .cmp(&a.unexplained)
                .then_with(|| by_name(a, b))
        }),
    }
    page.total = picks.len();
    page.pages = picks.len().div_ceil(PAGE_SIZE).max(1);
    page.page = given(&q.pagina)
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(1, page.pages);
    let skip = (page.page - 1) * PAGE_SIZE;
    page.rows = picks
        .into_iter()
        .skip(skip)
        .take(PAGE_SIZE)
        .map(|p| Row {
            id: p.s.id.to_string(),
            name: p.s.name.clone(),
            class: p.s.class.clone(),
            mentor: mentor_label(names, &p.s.mentor),
            rate_text: pct_nl(p.rate),
            below: p.rate.is_some_and(|r| r < target),
            step_text: p.step.to_string(),
            step_class: step_class(p.step),
            hours: hours_nl(p.unexplained),
        })
        .collect();
    page.first = if page.total == 0 { 0 } else { skip + 1 };
    page.last = skip + page.rows.len();
    if page.page > 1 {
        page.prev = Some(list_href(q, sort, page.page - 1));
    }
    if page.page < page.pages {
        page.next = Some(list_href(q, sort, page.page + 1));
    }
    page
}

/// `/leerlingen`.
pub fn router() -> crate::routes::Routes {
    crate::routes::Routes::new().get("/leerlingen", list)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aanwezig_domain::{RuleId, Track};

    #[test]
    fn step_filters_and_badges() {
        let s3ab = RuleId::Unexplained.step().max(RuleId::AfmeldingLong.step());
        assert!(step_matches(s3ab, "3a"));
        assert!(step_matches(s3ab, "3b"));
        assert!(step_matches(s3ab, "3"));
        assert!(!step_matches(s3ab, "x"));
        assert!(!step_matches(s3ab, "4b"));
        assert!(step_matches(Step::NONE, "1"));
        assert_eq!(step_class(s3ab), "step-3a3b");
        assert!(step_rank(Step::new(4, Some(Track::B))) > step_rank(Step::new(4, Some(Track::A))));
        assert!(step_rank(Step::new(2, None)) > step_rank(Step::NONE));
    }

    #[test]
    fn percentages_in_dutch() {
        assert_eq!(pct_nl(Some(0.9)), "90,0 %");
        assert_eq!(pct_nl(None), "–");
        assert!(class_key("2B") < class_key("10A"));
    }
}
