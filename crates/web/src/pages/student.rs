//! Leerling: one student's page. Step and track, attendance, a heat map of
//! the school year (SVG), every signal with its explanation and evidence,
//! the registrations of one teaching week at a time, and the history of
//! changed lessons.
//!
//! Everything but the history comes from the school in memory; the page
//! reads the database once, for the history of changed lessons (the
//! school's codes and notes of a lesson are on its correction page), and
//! writes one audit entry per view, both at the same time.

use aanwezig_app::Permission;
use std::collections::BTreeSet;

use aanwezig_domain::explain::{date_nl, SignalReport};
use aanwezig_domain::{Calendar, Category, DayIdx, Registration, Step, Student, StudentId};
use aanwezig_storage::{AuditAction, HistoryEntry};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use serde::Deserialize;

use super::students::{
    given, lessons_in_words, mentor_label, mentor_names, pct_nl, short_day_nl, step_class,
    year_start, Tally,
};
use crate::auth::CurrentUser;
use crate::error::PageError;
use crate::layout::{section, Layout};
use crate::live::Live;
use crate::state::AppState;

/// The heat map's classes, in the legend's order.
const HEAT: [(&str, &str); 6] = [
    ("present", "aanwezig"),
    ("late", "te laat"),
    ("reported", "afgemeld (ziek of andere reden)"),
    ("unknown", "onbekend of ongeoorloofd afwezig"),
    ("authorized", "geoorloofd afwezig (verlof, vrijstelling)"),
    ("none", "geen lessen geregistreerd"),
];

fn heat_class(c: Category) -> usize {
    match c {
        Category::Present | Category::NotAbsence => 0,
        Category::LateUnexcused | Category::LateExcused => 1,
        Category::ReportedSick | Category::ReportedOther => 2,
        Category::Unknown | Category::Unauthorized => 3,
        Category::Authorized => 4,
    }
}

/// Ties go to the more serious class.
const SEVERITY: [usize; 5] = [3, 2, 4, 1, 0];

/// A short Dutch label for a registration cell.
fn short_label(c: Category) -> &'static str {
    match c {
        Category::Present => "aanwezig",
        Category::LateUnexcused => "te laat",
        Category::LateExcused => "te laat met reden",
        Category::ReportedSick => "ziek gemeld",
        Category::ReportedOther => "afgemeld",
        Category::Authorized => "geoorloofd",
        Category::Unknown => "onbekend",
        Category::Unauthorized => "ongeoorloofd",
        Category::NotAbsence => "geen verzuim",
    }
}

/// Dutch local time of a UTC instant (Europe/Amsterdam, summer and
/// winter time from the IANA database): `14 nov 2025 10:00`.
pub(crate) fn local_time_nl(t: DateTime<Utc>) -> String {
    t.with_timezone(&chrono_tz::Europe::Amsterdam)
        .format_localized("%-d %b %Y %H:%M", chrono::Locale::nl_NL)
        .to_string()
}

#[derive(Debug, Default, Deserialize)]
struct StudentQuery {
    /// A date in the teaching week to show (`YYYY-MM-DD`).
    week: Option<String>,
    /// Set after a call was saved (`zorgen` when the caller is worried).
    gebeld: Option<String>,
    /// Set after a lesson was corrected: `YYYY-MM-DD~lesson`.
    gecorrigeerd: Option<String>,
}

/// The confirmation after a lesson's correction was saved, from the
/// `gecorrigeerd` query value; nothing for a value that is not one.
fn corrected_message(value: &str) -> Option<String> {
    let (date, lesson) = value.split_once('~')?;
    let date = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    let lesson: u8 = lesson.parse().ok()?;
    Some(format!(
        "De correctie is opgeslagen: {}, lesuur {lesson}. De signalen zijn bijgewerkt.",
        aanwezig_domain::explain::date_nl(date)
    ))
}

/// The student's step and attendance figures through the last registered
/// day (student page and dossier verslag); `None` without a calendar or
/// before the school year.
pub(crate) fn attendance_figures(live: &Live, i: usize) -> Option<Figures> {
    let (Some(cal), Some(engine), Some(d)) = (live.cal.as_ref(), live.engine(), live.through)
    else {
        return None;
    };
    let policy = &live.policy;
    let regs = live.school.registrations(i);
    let timetable = live.school.context(i).week.as_ref();
    let eval = live.evaluations.get(i)?;
    let step = eval.step_on(&engine, d);
    let from = year_start(cal, d);
    let recent_weeks = policy.unexplained.window_weeks;
    let recent_from = engine.window_start(d, recent_weeks);
    let year_rate = Tally::of(cal, policy.presence, timetable, regs, from, d).rate();
    let recent_rate = Tally::of(cal, policy.presence, timetable, regs, recent_from, d).rate();
    let target = policy.attendance.target;
    let duo_from = engine.window_start(d, policy.duo_16h.window_weeks);
    let unexplained_minutes: u32 = regs
        .iter()
        .filter(|r| r.day >= duo_from && r.day <= d)
        .map(|r| policy.unexplained_minutes(r.category, r.minutes, r.minutes_late))
        .sum();
    let mut tracks = Vec::new();
    if step.a {
        tracks.push("a-spoor: gemeld verzuim (afmeldingen door ouders)");
    }
    if step.b {
        tracks.push("b-spoor: onbekend verzuim (zonder geldige reden)");
    }
    Some(Figures {
        step: step.to_string(),
        step_class: step_class(step),
        step_name: step.label_nl(),
        step_text: step_text(step).to_owned(),
        tracks,
        rate_year: pct_nl(year_rate),
        rate_recent: pct_nl(recent_rate),
        below_year: year_rate.is_some_and(|r| r < target),
        below_recent: recent_rate.is_some_and(|r| r < target),
        recent_weeks,
        unexplained: aanwezig_domain::Hours::from_minutes(unexplained_minutes).to_string(),
        duo_hours: policy.duo_16h.hours.to_string(),
        duo_weeks: policy.duo_16h.window_weeks,
        target: pct_nl(Some(target)),
        through: date_nl(cal.date(d)),
        open_signals: eval.open_on(d).count(),
    })
}

/// One call, for the student page.
struct CallLine {
    on: String,
    since: String,
    by: String,
    reached: &'static str,
    how: String,
    school: String,
    back: String,
}

/// An absence run whose call is due.
struct CallDueLine {
    since_iso: String,
    since: String,
    by: String,
    tried: bool,
}

struct Cell {
    x: u32,
    y: u32,
    class: &'static str,
    mixed: bool,
    title: String,
}

struct MonthLabel {
    x: u32,
    label: String,
}

struct LegendItem {
    class: &'static str,
    label: &'static str,
    days: u32,
}

struct HeatMap {
    width: u32,
    height: u32,
    cells: Vec<Cell>,
    months: Vec<MonthLabel>,
    rows: Vec<(u32, &'static str)>,
    legend: Vec<LegendItem>,
    mixed_days: u32,
    desc: String,
    year: String,
}

struct EvidenceRow {
    date: String,
    lesson: u8,
    minutes: u16,
    category: &'static str,
    late: String,
}

struct SignalView {
    title: &'static str,
    step: String,
    step_class: String,
    fired: String,
    window: String,
    figures: Vec<String>,
    deadline: String,
    deadline_passed: bool,
    open: bool,
    closed: String,
    /// The day the signal closed (`None` while open): a partner sees only
    /// the signals still open on the day they came in, or later ones.
    closed_on: Option<NaiveDate>,
    explanation: String,
    evidence: Vec<EvidenceRow>,
}

struct LessonCell {
    present: bool,
    label: &'static str,
    class: &'static str,
    late: String,
    href: String,
    context: String,
}

struct DayRow {
    date: String,
    cells: Vec<LessonCell>,
}

struct WeekOption {
    value: String,
    label: String,
    selected: bool,
}

struct HistoryRow {
    when: String,
    by: String,
    lesson: String,
    old: String,
    new: String,
}

pub(crate) struct Figures {
    pub step: String,
    pub step_class: String,
    /// The step's name, the same on every page.
    pub step_name: &'static str,
    pub step_text: String,
    pub tracks: Vec<&'static str>,
    pub rate_year: String,
    pub rate_recent: String,
    pub below_year: bool,
    pub below_recent: bool,
    pub recent_weeks: u16,
    pub unexplained: String,
    pub duo_hours: String,
    /// The teaching weeks the DUO 16-hour rule looks back.
    pub duo_weeks: u16,
    pub target: String,
    pub through: String,
    pub open_signals: usize,
}

#[derive(Template, WebTemplate)]
#[template(path = "student.html")]
struct StudentPage {
    layout: Layout,
    id: String,
    name: String,
    class: String,
    mentor: String,
    birth: String,
    /// BSN and onderwijsnummer, for the roles that may see them
    /// (`None` for everyone else; `Some("")` when the student has none).
    bsn: Option<String>,
    onderwijsnummer: Option<String>,
    notice: Option<String>,
    figures: Option<Figures>,
    heat: Option<HeatMap>,
    signals: Vec<SignalView>,
    may_register: bool,
    may_export: bool,
    week_label: String,
    lessons: Vec<u8>,
    days: Vec<DayRow>,
    weeks: Vec<WeekOption>,
    prev_week: Option<String>,
    next_week: Option<String>,
    history: Vec<HistoryRow>,
    /// The case dossier: the step of the open case, if any.
    dossier_step: Option<String>,
    /// A case exists but is closed.
    dossier_closed: bool,
    /// The user may open a case (school roles).
    may_open_case: bool,
    /// Calls about this student's absences (stap 2), newest first.
    calls: Vec<CallLine>,
    /// Absence runs whose call is due, when the user may record one.
    calls_due: Vec<CallDueLine>,
    /// After a call was saved: the confirmation (and, when worried, the
    /// offer to open a dossier).
    called: Option<&'static str>,
    /// After a lesson was corrected: the confirmation.
    corrected: Option<String>,
    /// An external partner's page: step, attendance rate and the signals'
    /// titles and dates only; no lessons, categories, evidence, history or
    /// heat map.
    reduced: bool,
    /// The reduced page links to the dossier (the partner is brought in).
    dossier_link: bool,
}

async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<StudentQuery>,
) -> Result<StudentPage, PageError> {
    user.require_may(Permission::ReadStudent)?;
    let student: Student = {
        let live = state.read()?;
        let i = live.position(&id).ok_or(PageError::NotFound)?;
        let s = &live.school.students()[i];
        user.require_for(Permission::ReadStudent, s)?;
        s.clone()
    };
    let sid: &StudentId = &student.id;
    if user.role().is_external() {
        return reduced_page(&state, &user, student).await;
    }
    // The registrations themselves come from memory; the store adds only
    // their history.
    // The case only for its step: from the marks kept per state of the
    // school (super::cache).
    let (history, names, audit, marks) = tokio::join!(
        state.store.registration_history(sid),
        mentor_names(&state),
        user.audit(&state, AuditAction::Read, Some(sid), "leerlingpagina"),
        super::cache::case_marks(&state),
    );
    audit?;
    let history = history?;
    let case = marks?.get(sid).copied();
    let mentor = mentor_label(&*names?, &student.mentor);
    let may_register = user.may_for(Permission::Register, &student);
    let today = state.clock.today();
    let live = state.read()?;
    let mut page = build(
        &live,
        &user,
        &student,
        mentor,
        &history,
        may_register,
        given(&q.week),
        today,
    );
    page.dossier_step = case.filter(|c| c.open).map(|c| c.step.to_string());
    page.dossier_closed = case.is_some_and(|c| !c.open);
    page.may_open_case = user.may_for(Permission::ChangeCase, &student);
    calls_of(&live, &student, &mut page);
    page.called = match q.gebeld.as_deref() {
        Some("zorgen") => Some("Het gesprek is opgeslagen. U maakt zich zorgen: open een dossier om de volgende stappen te zetten."),
        Some(_) => Some("Het gesprek is opgeslagen."),
        None => None,
    };
    page.corrected = q.gecorrigeerd.as_deref().and_then(corrected_message);
    Ok(page)
}

/// The student's calls (newest first) and the absence runs whose call is
/// due (stap 2), for a user who may record calls.
fn calls_of(live: &Live, student: &Student, page: &mut StudentPage) {
    let calls = live.calls.get(&student.id).map_or(&[][..], Vec::as_slice);
    page.calls = calls
        .iter()
        .rev()
        .map(|c| CallLine {
            on: date_nl(c.on),
            since: date_nl(c.absent_from),
            by: c.by.clone(),
            reached: c.reached.label_nl(),
            how: c.how.clone(),
            school: c.school_can_do.clone(),
            back: c.expected_back.map(date_nl).unwrap_or_default(),
        })
        .collect();
    let (Some(cal), Some(d), Some(i)) = (
        live.cal.as_ref(),
        live.through,
        live.position(student.id.as_str()),
    ) else {
        return;
    };
    let Some(eval) = live.evaluations.get(i) else {
        return;
    };
    page.calls_due = eval
        .open_on(d)
        .filter(|s| s.rule == aanwezig_domain::RuleId::Contact)
        .filter_map(|s| match live.call_due(i, s) {
            aanwezig_domain::CallDue::Done(_) => None,
            aanwezig_domain::CallDue::Due { by, tried } => Some(CallDueLine {
                since_iso: cal.date(s.fired_on).to_string(),
                since: date_nl(cal.date(s.fired_on)),
                by: date_nl(by),
                tried,
            }),
        })
        .collect();
}

/// The page an external partner (leerplichtambtenaar, jeugdarts,
/// ketenpartner) sees of a student in scope: who the student is, the
/// current step, the attendance rate of the school year and the signals'
/// titles and dates, with a link to the dossier while brought into its
/// open case. Nothing about single lessons or their categories.
async fn reduced_page(
    state: &AppState,
    user: &CurrentUser,
    student: Student,
) -> Result<StudentPage, PageError> {
    let sid = &student.id;
    let (names, audit, case) = tokio::join!(
        mentor_names(state),
        user.audit(
            state,
            AuditAction::Read,
            Some(sid),
            "leerlingpagina (partner)"
        ),
        state.store.case(sid),
    );
    audit?;
    let case = case?;
    let mentor = mentor_label(&*names?, &student.mentor);
    let today = state.clock.today();
    let live = state.read()?;
    let mut page = build(&live, user, &student, mentor, &[], false, None, today);
    page.reduced = true;
    page.may_export = false;
    page.heat = None;
    page.days.clear();
    page.weeks.clear();
    page.lessons.clear();
    page.prev_week = None;
    page.next_week = None;
    page.history.clear();
    // Only the period the partner takes part in: the signals still open
    // on the day they came in, and later ones.
    let since = case
        .as_ref()
        .and_then(|c| crate::dossier::partner_since(user, c));
    page.signals.retain(|s| match (since, s.closed_on) {
        (Some(from), Some(closed)) => closed > from,
        // Not brought in (leerplicht for a sent melding): what the
        // school shares with leerplicht is the melding; signals only
        // while open.
        (None, Some(_)) => false,
        (_, None) => true,
    });
    for s in &mut page.signals {
        s.evidence.clear();
        s.explanation.clear();
        s.figures.clear();
    }
    if let Some(f) = page.figures.as_mut() {
        f.tracks.clear();
    }
    let open = case.as_ref().filter(|c| c.is_open());
    page.dossier_step = open.map(|c| c.step.to_string());
    page.dossier_link = open.is_some_and(|c| c.involves(&user.identity()));
    Ok(page)
}

#[expect(
    clippy::too_many_arguments,
    reason = "one call site, all inputs distinct"
)]
fn build(
    live: &Live,
    user: &CurrentUser,
    student: &Student,
    mentor: String,
    history: &[HistoryEntry],
    may_register: bool,
    week: Option<&str>,
    today: NaiveDate,
) -> StudentPage {
    let id = student.id.to_string();
    let mut page = StudentPage {
        layout: Layout::new(user, section::STUDENTS, student.name.clone()),
        id: id.clone(),
        name: student.name.clone(),
        class: student.class.clone(),
        mentor,
        birth: student
            .date_of_birth
            .format_localized("%-d %B %Y", chrono::Locale::nl_NL)
            .to_string(),
        bsn: None,
        onderwijsnummer: None,
        notice: None,
        figures: None,
        heat: None,
        signals: Vec::new(),
        may_register,
        may_export: user.may_for(Permission::ExportStudent, student),
        week_label: String::new(),
        lessons: Vec::new(),
        days: Vec::new(),
        weeks: Vec::new(),
        prev_week: None,
        next_week: None,
        history: Vec::new(),
        dossier_step: None,
        dossier_closed: false,
        may_open_case: false,
        calls: Vec::new(),
        calls_due: Vec::new(),
        called: None,
        corrected: None,
        reduced: false,
        dossier_link: false,
    };
    if user.sees_personal_numbers_of(student) {
        page.bsn = Some(
            student
                .bsn
                .as_ref()
                .map_or("", aanwezig_domain::Bsn::as_str)
                .to_owned(),
        );
        page.onderwijsnummer = Some(
            student
                .onderwijsnummer
                .as_ref()
                .map_or("", aanwezig_domain::Onderwijsnummer::as_str)
                .to_owned(),
        );
    }
    let (Some(cal), Some(_), Some(d), Some(i)) = (
        live.cal.as_ref(),
        live.engine(),
        live.through,
        live.school.position(&student.id),
    ) else {
        page.notice = Some(if live.cal.is_none() {
            "Er is nog geen schoolkalender ingelezen; zonder kalender zijn er geen signalen en geen overzicht per dag.".to_owned()
        } else {
            "Het schooljaar is nog niet begonnen.".to_owned()
        });
        return page;
    };
    let policy = &live.policy;
    let regs = live.school.registrations(i);
    let timetable = live.school.context(i).week.as_ref();
    page.history = history_rows(history, |date, lesson| {
        let day = cal.index(date)?;
        regs.binary_search_by_key(&(day, lesson), Registration::key)
            .ok()
            .map(|k| regs[k].category)
    });
    let eval = live.evaluations.get(i).cloned().unwrap_or_default();
    let from = year_start(cal, d);
    page.figures = attendance_figures(live, i);

    page.heat = Some(heat_map(cal, policy.presence, timetable, regs, d));

    // Signals, newest first.
    page.signals = eval
        .signals
        .iter()
        .rev()
        .map(|s| {
            let r = SignalReport::new(s, &id, cal, policy, regs, d);
            let mut figures = Vec::new();
            if let Some(h) = r.hours {
                figures.push(format!("{h} uur"));
            }
            if let Some(c) = &r.counts {
                if let Some(n) = c.episodes {
                    figures.push(if n == 1 {
                        "1 afmelding".to_owned()
                    } else {
                        format!("{n} afmeldingen")
                    });
                }
                if let Some(n) = c.school_days {
                    figures.push(if n == 1 {
                        "1 schooldag".to_owned()
                    } else {
                        format!("{n} schooldagen")
                    });
                }
            }
            if let (Some(b), Some(e)) = (r.begin, r.end) {
                figures.push(if b == e {
                    format!("verzuim op {}", short_day_nl(b))
                } else {
                    format!("verzuim {} – {}", short_day_nl(b), short_day_nl(e))
                });
            }
            SignalView {
                title: r.title,
                step: r.step.to_string(),
                step_class: step_class(r.step),
                fired: date_nl(r.fired_on),
                window: if r.window.from == r.window.to {
                    short_day_nl(r.window.from)
                } else {
                    format!(
                        "{} – {}",
                        short_day_nl(r.window.from),
                        short_day_nl(r.window.to)
                    )
                },
                figures,
                deadline: r.deadline.map(date_nl).unwrap_or_default(),
                deadline_passed: r.deadline.is_some_and(|x| x < today),
                open: r.open,
                closed: r.closed_on.map(short_day_nl).unwrap_or_default(),
                closed_on: r.closed_on,
                explanation: r.explanation,
                evidence: r
                    .evidence
                    .iter()
                    .map(|e| EvidenceRow {
                        date: short_day_nl(e.date),
                        lesson: e.lesson,
                        minutes: e.minutes,
                        category: e.category.label_nl(),
                        late: if e.minutes_late > 0 {
                            format!("{} min", e.minutes_late)
                        } else {
                            String::new()
                        },
                    })
                    .collect(),
            }
        })
        .collect();

    // The registrations of one teaching week.
    let shown = week
        .and_then(|w| NaiveDate::parse_from_str(w, "%Y-%m-%d").ok())
        .and_then(|date| cal.on_or_after(date))
        .filter(|x| *x <= d)
        .unwrap_or(d);
    let days = cal.week_days(shown);
    let (first, last) = (*days.start(), (*days.end()).min(d));
    page.week_label = format!(
        "{} tot en met {}",
        date_nl(cal.date(first)),
        date_nl(cal.date(last))
    );
    let week_href = |x: DayIdx| format!("?week={}#registraties", cal.date(x).format("%Y-%m-%d"));
    if first > from {
        page.prev_week = Some(week_href(*cal.week_days(first - 1).start()));
    }
    if last < d {
        page.next_week = Some(week_href(last + 1));
    }
    let mut seen = BTreeSet::new();
    for x in from..=d {
        if seen.insert(cal.week(x)) {
            page.weeks.push(WeekOption {
                value: cal.date(x).format("%Y-%m-%d").to_string(),
                label: format!("week van {}", short_day_nl(cal.date(x))),
                selected: cal.week(x) == cal.week(first),
            });
        }
    }
    page.weeks.reverse();
    let lo = regs.partition_point(|r| r.day < first);
    let hi = regs.partition_point(|r| r.day <= last);
    let in_week = &regs[lo..hi];
    let mut lessons: BTreeSet<u8> = in_week.iter().map(|r| r.lesson).collect();
    if let Some(y) = cal.year_of_date(cal.date(first)) {
        lessons.extend(y.lessons.iter().map(|l| l.number));
    }
    page.lessons = lessons.iter().copied().collect();
    for x in first..=last {
        let date = cal.date(x);
        let cells = page
            .lessons
            .iter()
            .map(|n| {
                let context = format!("lesuur {n} op {}", short_day_nl(date));
                let href = format!(
                    "{}/les?datum={}&lesuur={n}",
                    crate::paths::student_str(&id),
                    date.format("%Y-%m-%d")
                );
                match in_week.binary_search_by_key(&(x, *n), Registration::key) {
                    Ok(k) => LessonCell {
                        present: true,
                        label: short_label(in_week[k].category),
                        class: HEAT[heat_class(in_week[k].category)].0,
                        late: if in_week[k].minutes_late > 0 {
                            format!("{} min", in_week[k].minutes_late)
                        } else {
                            String::new()
                        },
                        href,
                        context,
                    },
                    Err(_) => LessonCell {
                        present: false,
                        label: "",
                        class: "none",
                        late: String::new(),
                        href,
                        context,
                    },
                }
            })
            .collect();
        page.days.push(DayRow {
            date: short_day_nl(date),
            cells,
        });
    }
    page
}

fn step_text(step: Step) -> &'static str {
    match step.level {
        4 => "het verzuim houdt aan of vraagt een DUO-melding: overleg intern en met jeugdarts of leerplicht",
        3 => "gesprek met leerling en ouders; weeg jeugdarts of preventief spreekuur leerplicht af",
        2 => "hele dag afwezig: bel leerling of ouders uit belangstelling",
        _ => "geen signaal in de afgelopen lesweken: gewoon blijven registreren",
    }
}

/// One cell per school day of the school year up to the last evaluated day
/// (weeks as columns, Monday to Friday as rows), coloured by the class that
/// dominates the day. With implied presence a scheduled lesson without a
/// registration counts as present (rules.md §2).
fn heat_map(
    cal: &Calendar,
    presence: aanwezig_domain::Presence,
    week: Option<&aanwezig_domain::WeekSchedule>,
    regs: &[Registration],
    d: DayIdx,
) -> HeatMap {
    const CELL: u32 = 12;
    const STEP: u32 = 14;
    const LEFT: u32 = 26;
    const TOP: u32 = 18;
    let date_d = cal.date(d);
    let year = cal.year_of_date(date_d);
    let from = year_start(cal, d);
    let to = year
        .and_then(|y| cal.on_or_before(y.last_day))
        .unwrap_or(d)
        .max(d);
    let first_date = cal.date(from);
    let monday0 =
        first_date - Duration::days(i64::from(first_date.weekday().num_days_from_monday()));
    let mut cells = Vec::new();
    let mut months: Vec<MonthLabel> = Vec::new();
    let mut counts = [0u32; 6];
    let mut mixed_days = 0;
    let mut last_month = 0;
    let mut max_col = 0;
    let mut j = regs.partition_point(|r| r.day < from);
    for x in from..=to {
        let date = cal.date(x);
        let col = u32::try_from((date - monday0).num_days() / 7).unwrap_or(0);
        let row = date.weekday().num_days_from_monday();
        max_col = max_col.max(col);
        if date.month() != last_month {
            last_month = date.month();
            let label = date
                .format_localized("%b", chrono::Locale::nl_NL)
                .to_string();
            // A new month starting mid-week labels the next column, so
            // labels never overlap.
            let mx = LEFT + (col + u32::from(row > 0 && !months.is_empty())) * STEP;
            // Too close to the previous label (a year that starts in the
            // last week of August): the later month wins.
            if months.last().is_some_and(|m| mx < m.x + 2 * STEP) {
                months.pop();
            }
            months.push(MonthLabel { x: mx, label });
        }
        let start = j;
        while j < regs.len() && regs[j].day == x {
            j += 1;
        }
        let day_regs = &regs[start..j];
        // Scheduled lessons without a registration, present when implied.
        let implied_present = match presence {
            aanwezig_domain::Presence::Registered => 0,
            aanwezig_domain::Presence::Implied => {
                let schedule = aanwezig_domain::engine::day_lessons(cal, week, x);
                let registered = day_regs
                    .iter()
                    .filter(|r| schedule.contains(r.lesson))
                    .count();
                u32::try_from(schedule.len() - registered.min(schedule.len())).unwrap_or(0)
            }
        };
        let (class, mixed, title) = if x > d {
            ("future", false, format!("{}: nog niet", date_nl(date)))
        } else if day_regs.is_empty() && implied_present > 0 {
            counts[0] += 1;
            (
                HEAT[0].0,
                false,
                format!(
                    "{}: aanwezig (geen afwezigheid geregistreerd)",
                    date_nl(date)
                ),
            )
        } else if day_regs.is_empty() {
            counts[5] += 1;
            (
                "none",
                false,
                format!("{}: geen lessen geregistreerd", date_nl(date)),
            )
        } else {
            let mut n = [0u32; 5];
            n[0] = implied_present;
            for r in day_regs {
                n[heat_class(r.category)] += 1;
            }
            let best = SEVERITY
                .iter()
                .copied()
                .max_by_key(|k| (n[*k], 4 - SEVERITY.iter().position(|s| s == k).unwrap_or(4)))
                .unwrap_or(0);
            counts[best] += 1;
            let mixed = (1..5).any(|k| k != best && n[k] > 0);
            mixed_days += u32::from(mixed);
            let rest = if implied_present == 1 {
                ", de andere les aanwezig".to_owned()
            } else if implied_present > 1 {
                format!(", de {implied_present} andere lessen aanwezig")
            } else {
                String::new()
            };
            (
                HEAT[best].0,
                mixed,
                format!("{}: {}{rest}", date_nl(date), lessons_in_words(day_regs)),
            )
        };
        cells.push(Cell {
            x: LEFT + col * STEP,
            y: TOP + row * STEP,
            class,
            mixed,
            title,
        });
    }
    let legend = HEAT
        .iter()
        .enumerate()
        .map(|(k, (class, label))| LegendItem {
            class,
            label,
            days: counts[k],
        })
        .collect::<Vec<_>>();
    let parts: Vec<String> = legend
        .iter()
        .filter(|l| l.days > 0)
        .map(|l| format!("{} {}", l.days, l.label))
        .collect();
    let year_name = year.map(|y| y.name.clone()).unwrap_or_default();
    HeatMap {
        width: LEFT + (max_col + 1) * STEP + 16,
        height: TOP + 5 * STEP + 2,
        cells,
        months,
        rows: [
            (Weekday::Mon, "ma"),
            (Weekday::Tue, "di"),
            (Weekday::Wed, "wo"),
            (Weekday::Thu, "do"),
            (Weekday::Fri, "vr"),
        ]
        .into_iter()
        .map(|(w, l)| (TOP + w.num_days_from_monday() * STEP + CELL - 2, l))
        .collect(),
        legend,
        mixed_days,
        desc: format!(
            "Schooldagen van schooljaar {year_name} tot en met {}, per dag gekleurd naar wat die dag het meest voorkwam: {}.",
            date_nl(date_d),
            parts.join(", ")
        ),
        year: year_name,
    }
}

/// The changes of lessons, newest first: who, when, old → new. The
/// newest state of a lesson is its current category (`current`).
fn history_rows(
    history: &[HistoryEntry],
    current: impl Fn(NaiveDate, u8) -> Option<Category>,
) -> Vec<HistoryRow> {
    let state = |r: &aanwezig_domain::RegistrationRecord| match &r.code {
        Some(c) => format!("{c} ({})", r.category.label_nl()),
        None => r.category.label_nl().to_owned(),
    };
    let mut rows: Vec<(DateTime<Utc>, HistoryRow)> = history
        .iter()
        .enumerate()
        .map(|(k, h)| {
            let key = (h.old.date, h.old.lesson);
            let new = match history.get(k + 1) {
                Some(next) if (next.old.date, next.old.lesson) == key => state(&next.old),
                _ => current(h.old.date, h.old.lesson).map_or_else(
                    || "niet meer geregistreerd".to_owned(),
                    |c| c.label_nl().to_owned(),
                ),
            };
            let by = match h.replaced.import_id {
                Some(n) => format!("{} (bestand ingelezen, nr. {n})", h.replaced.by),
                None => h.replaced.by.clone(),
            };
            (
                h.replaced.at,
                HistoryRow {
                    when: local_time_nl(h.replaced.at),
                    by,
                    lesson: format!("{}, lesuur {}", short_day_nl(h.old.date), h.old.lesson),
                    old: state(&h.old),
                    new,
                },
            )
        })
        .collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.0));
    rows.into_iter().map(|(_, r)| r).collect()
}

/// `/leerlingen/{id}`.
pub fn router() -> crate::routes::Routes {
    crate::routes::Routes::new().get("/leerlingen/{id}", page)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// rules.md §2: with implied presence an unregistered scheduled lesson is
    /// present, so a day without registrations is a present day, and a day
    /// with two absences out of seven lessons is mostly present.
    #[test]
    fn the_heat_map_follows_implied_presence() {
        let cal = aanwezig_import::load_calendar(&[concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../data/calendars/2025-2026-noord.toml"
        )])
        .unwrap();
        let day1 = cal
            .index(chrono::NaiveDate::from_ymd_opt(2025, 8, 26).unwrap())
            .unwrap();
        let regs: Vec<Registration> = (1..=2)
            .map(|lesson| Registration {
                day: day1,
                minutes: 50,
                minutes_late: 0,
                lesson,
                category: Category::Unknown,
            })
            .collect();
        let through = day1 + 1;
        let classes = |p| {
            let map = heat_map(&cal, p, None, &regs, through);
            map.cells
                .iter()
                .take(3)
                .map(|c| c.class)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            classes(aanwezig_domain::Presence::Registered),
            ["none", "unknown", "none"]
        );
        assert_eq!(
            classes(aanwezig_domain::Presence::Implied),
            ["present", "present", "present"]
        );
        let map = heat_map(
            &cal,
            aanwezig_domain::Presence::Implied,
            None,
            &regs,
            through,
        );
        assert!(map.cells[1].mixed);
        assert!(
            map.cells[1].title.contains("de 5 andere lessen aanwezig"),
            "{}",
            map.cells[1].title
        );
    }

    #[test]
    fn dutch_local_time_follows_summer_time() {
        let winter = Utc.with_ymd_and_hms(2025, 11, 14, 9, 0, 0).unwrap();
        assert_eq!(local_time_nl(winter), "14 nov 2025 10:00");
        let summer = Utc.with_ymd_and_hms(2025, 9, 1, 9, 0, 0).unwrap();
        assert_eq!(local_time_nl(summer), "1 sep 2025 11:00");
    }

    #[test]
    fn lessons_in_words_counts_per_category() {
        let r = |c| Registration {
            day: 0,
            minutes: 50,
            minutes_late: 0,
            lesson: 1,
            category: c,
        };
        let regs = [
            r(Category::Present),
            r(Category::Present),
            r(Category::Unknown),
        ];
        assert_eq!(
            lessons_in_words(&regs[..]),
            "2 lessen aanwezig en 1 les onbekend afwezig"
        );
    }
}
