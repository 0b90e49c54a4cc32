//! Registreren: take the register of a class for one lesson, and correct a
//! single lesson of one student.
//!
//! Every change goes through [`Store::save_registrations`], which keeps the
//! replaced state in the history with who and when, and is then applied to
//! the live school so that the student's signals update in the same
//! request. A register is saved all or nothing: every row is checked
//! first, and the rows are written in one transaction.
//!
//! Every form carries, per lesson, the revision it was made from (hidden
//! fields `r{i}_versie` and `versie`). The store compares them inside its
//! write transaction, so two people saving the same register at once (on
//! one app server or two) cannot leave a mix: the second save is refused
//! as a whole, the page says which lessons changed (from what, to what, by
//! whom and when) and shows the register again with the state of now.
//!
//! [`Store::save_registrations`]: aanwezig_storage::Store::save_registrations

use aanwezig_app::Permission;
use std::collections::{HashMap, HashSet};

use aanwezig_domain::explain::{capitalize_nl, date_nl};
use aanwezig_domain::{Calendar, Category, LessonSlot, Policy, RegistrationRecord, StudentId};
use aanwezig_import::MAX_NOTE_CHARS;
use aanwezig_storage::{
    AuditAction, Expected, HistoryEntry, LessonKey, LessonWrite, StaleLesson, StoreError,
    StoredRegistration,
};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::error::PageError;
use crate::layout::{section, ErrorLink, Layout};
use crate::live::Live;
use crate::state::AppState;

// --- shared helpers -------------------------------------------------------

/// One choice in a code select: `value` is what the form sends back.
#[derive(Clone, Debug)]
pub struct CodeOption {
    pub value: String,
    pub label: String,
}

/// The form value for "present without a code".
const PRESENT: &str = "aanwezig";
/// Prefix of the form value for a state stored with a category but no code.
const CATEGORY_PREFIX: &str = "categorie:";

/// The school's codes under one heading of the code select.
#[derive(Clone, Debug)]
pub struct CodeGroup {
    pub label: &'static str,
    pub options: Vec<CodeOption>,
    /// Each code with what it means, for the explanation above the list.
    pub explained: Vec<(String, &'static str)>,
}

/// The headings of the code select, most used first (after "aanwezig",
/// which stands alone at the top): reported by the parents, late, absent
/// without a report, allowed by school, present (a school's own code for
/// present, or not an absence at all).
const CODE_GROUPS: [(&str, &[Category]); 5] = [
    (
        "Afgemeld door ouders",
        &[Category::ReportedSick, Category::ReportedOther],
    ),
    ("Te laat", &[Category::LateUnexcused, Category::LateExcused]),
    (
        "Afwezig zonder afmelding",
        &[Category::Unknown, Category::Unauthorized],
    ),
    ("Toestemming van school", &[Category::Authorized]),
    (
        "Aanwezig, geen verzuim",
        &[Category::Present, Category::NotAbsence],
    ),
];

/// How an option of the code list starts: the category's meaning, worded
/// so that only "aanwezig" starts with an "a". A closed list picks the
/// next option starting with the typed letter, so typing "a" on
/// "aanwezig" must find nothing else ("A — onbekend afwezig" did).
fn option_word(cat: Category) -> &'static str {
    match cat {
        Category::Present => "wel aanwezig",
        Category::ReportedOther => "ouders meldden af, andere reden",
        c => c.label_nl(),
    }
}

/// What a category means, in one line for the person registering.
fn category_explained(cat: Category) -> &'static str {
    match cat {
        Category::Present => "De leerling is er.",
        Category::ReportedSick => "De ouders hebben de leerling ziek gemeld.",
        Category::ReportedOther => {
            "De ouders hebben de leerling afgemeld om een andere reden, bijvoorbeeld een afspraak bij de tandarts."
        }
        Category::LateUnexcused => {
            "Te laat zonder geldige reden. Telt als verzuim: vul ook de minuten in."
        }
        Category::LateExcused => {
            "Te laat met een geldige reden, bijvoorbeeld een trein die uitviel. Telt niet als verzuim."
        }
        Category::Unknown => {
            "De leerling is er niet en niemand heeft hem of haar afgemeld. Kies dit als u niet weet waarom."
        }
        Category::Unauthorized => {
            "Afwezig zonder geldige reden, bijvoorbeeld spijbelen, of een afmelding die de school niet accepteert."
        }
        Category::Authorized => {
            "De school gaf toestemming: verlof, vrijstelling, schorsing of een activiteit van school."
        }
        Category::NotAbsence => {
            "De leerling was er, maar er was iets anders, bijvoorbeeld boeken of huiswerk vergeten. Telt niet als verzuim."
        }
    }
}

/// Every code of the school under its heading, most used heading first.
/// A label starts with the word, not the code ("ziek gemeld (Z)"), so
/// that typing in the closed list picks by meaning: "a" lands on
/// "aanwezig", never on a code that happens to be the letter A.
fn code_groups(policy: &Policy) -> Vec<CodeGroup> {
    CODE_GROUPS
        .iter()
        .filter_map(|(label, cats)| {
            let mut options = Vec::new();
            let mut explained = Vec::new();
            for cat in *cats {
                for (code, _) in policy.codes.iter().filter(|(_, c)| *c == cat) {
                    options.push(CodeOption {
                        value: code.clone(),
                        label: format!("{} ({code})", option_word(*cat)),
                    });
                    explained.push((code.clone(), category_explained(*cat)));
                }
            }
            (!options.is_empty()).then_some(CodeGroup {
                label,
                options,
                explained,
            })
        })
        .collect()
}

/// The form value of a stored state.
fn token_of(rec: &RegistrationRecord) -> String {
    match &rec.code {
        Some(c) => c.clone(),
        None if rec.category == Category::Present => PRESENT.into(),
        None => format!("{CATEGORY_PREFIX}{}", rec.category.as_str()),
    }
}

/// The extra option a row needs when its stored state has a category but
/// no code other than present (imported that way): it must stay choosable.
fn extra_option(rec: Option<&RegistrationRecord>, policy: &Policy) -> Option<CodeOption> {
    let rec = rec?;
    let token = token_of(rec);
    if token == PRESENT || policy.codes.contains_key(&token) {
        return None;
    }
    Some(CodeOption {
        label: state_label(&token, policy),
        value: token,
    })
}

/// Code and category of a form value, or why it is not accepted.
fn parse_token(token: &str, policy: &Policy) -> Result<(Option<String>, Category), String> {
    let token = token.trim();
    if token == PRESENT {
        return Ok((None, Category::Present));
    }
    if let Some(cat) = token.strip_prefix(CATEGORY_PREFIX) {
        return Category::parse(cat)
            .map(|c| (None, c))
            .ok_or_else(|| "onbekende categorie; kies een code uit de lijst".to_owned());
    }
    match policy.codes.get(token) {
        Some(cat) => Ok((Some(token.to_owned()), *cat)),
        None if token.is_empty() => Err("kies een code of 'aanwezig'".into()),
        None => Err(format!(
            "de code '{token}' staat niet in de codelijst van de school"
        )),
    }
}

/// A state token for people: "aanwezig", "Z — ziek gemeld", "niet geregistreerd".
fn state_label(token: &str, policy: &Policy) -> String {
    if token.is_empty() || token == "-" {
        return "niet geregistreerd".into();
    }
    if token == PRESENT {
        return "aanwezig".into();
    }
    if let Some(cat) = token.strip_prefix(CATEGORY_PREFIX) {
        return match Category::parse(cat) {
            Some(c) => format!("{} (zonder code)", c.label_nl()),
            None => token.to_owned(),
        };
    }
    match policy.codes.get(token) {
        Some(c) => format!("{token} — {}", c.label_nl()),
        None => token.to_owned(),
    }
}

fn record_label(rec: &RegistrationRecord, policy: &Policy) -> String {
    let mut s = state_label(&token_of(rec), policy);
    if rec.minutes_late > 0 {
        s.push_str(&format!(", {} minuten te laat", rec.minutes_late));
    }
    s
}

fn is_late(c: Category) -> bool {
    matches!(c, Category::LateUnexcused | Category::LateExcused)
}

/// Checks the minutes-late field of one row against its category.
fn parse_minutes_late(raw: &str, category: Category, minutes: u16) -> Result<u16, String> {
    let raw = raw.trim();
    if !is_late(category) {
        return match raw {
            "" | "0" => Ok(0),
            _ => Err("minuten te laat horen alleen bij een te-laatcode".into()),
        };
    }
    let n: u16 = raw
        .parse()
        .map_err(|_| "vul bij te laat het aantal minuten in (een heel getal)".to_owned())?;
    if n == 0 || n > minutes {
        return Err(format!(
            "minuten te laat moet tussen 1 en {minutes} liggen (de duur van het lesuur)"
        ));
    }
    Ok(n)
}

/// Why `date` is not a school day, or `None` when it is one.
pub fn not_a_school_day(cal: &Calendar, date: NaiveDate) -> Option<String> {
    if cal.is_school_day(date) {
        return None;
    }
    let d = capitalize_nl(&date_nl(date));
    Some(if matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
        format!("{d} valt in het weekend: dan zijn er geen lessen. Kies een schooldag.")
    } else if let Some(f) = cal.free_day(date) {
        format!(
            "{d} is geen schooldag: {} ({}). Kies een andere datum.",
            f.name,
            f.kind.label_nl()
        )
    } else if cal.year_of_date(date).is_none() {
        format!("{d} valt buiten de schooljaren van de kalender. Kies een andere datum.")
    } else {
        format!("{d} is geen schooldag. Kies een andere datum.")
    })
}

/// The lesson slot `lesson` on `date`, or why there is none.
fn slot_on(cal: &Calendar, date: NaiveDate, lesson: u8) -> Result<LessonSlot, String> {
    if let Some(why) = not_a_school_day(cal, date) {
        return Err(why);
    }
    let d = cal
        .index(date)
        .ok_or_else(|| format!("{} is geen schooldag", date_nl(date)))?;
    cal.lesson(d, lesson).cloned().ok_or_else(|| {
        format!(
            "lesuur {lesson} staat niet in het lesrooster van {}",
            date_nl(date)
        )
    })
}

fn parse_date(s: &str) -> Result<NaiveDate, PageError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
        PageError::BadRequest(format!(
            "'{s}' is geen datum; schrijf een datum als JJJJ-MM-DD"
        ))
    })
}

fn query_value(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The step of the student at `i` on the last evaluated school day.
fn step_of(live: &Live, i: usize) -> String {
    match (live.engine(), live.through, live.evaluations.get(i)) {
        (Some(engine), Some(d), Some(ev)) => ev.step_on(&engine, d).to_string(),
        _ => "1".into(),
    }
}

fn no_calendar() -> PageError {
    PageError::BadRequest(
        "Er is nog geen schoolkalender ingesteld. De beheerder zet die klaar onder Instellingen; daarna kunt u registreren."
            .into(),
    )
}

fn time_nl(t: DateTime<Utc>) -> String {
    super::student::local_time_nl(t)
}

/// What the writer of a stale lesson had seen, for people.
fn then_label(s: &StaleLesson, policy: &Policy) -> String {
    match (&s.then, s.expected) {
        (Some(r), _) => record_label(r, policy),
        (None, Expected::Absent) => "niet geregistreerd".into(),
        (None, _) => "een eerdere stand".into(),
    }
}

/// One sentence on a lesson that changed after the form (or the API
/// client) read it: which student (`who`) and lesson, what it was then,
/// what it is now, and who changed it when.
pub(crate) fn stale_sentence(s: &StaleLesson, who: &str, policy: &Policy) -> String {
    let now = s.now.as_ref().map_or_else(
        || "niet geregistreerd".to_owned(),
        |n| record_label(&n.record, policy),
    );
    let by = match &s.now {
        Some(n) if n.set.import_id.is_some() => format!(
            " (gewijzigd bij het inlezen van {} op {})",
            n.set.by,
            time_nl(n.set.at)
        ),
        Some(n) => format!(" (gewijzigd door {} op {})", n.set.by, time_nl(n.set.at)),
        None => String::new(),
    };
    format!(
        "{who}, {} lesuur {}: toen u de gegevens opende stond er ‘{}’, nu staat er ‘{now}’{by}.",
        date_nl(s.key.date),
        s.key.lesson,
        then_label(s, policy)
    )
}

/// A row or form without the revision it was made from: an old page, or a
/// form not made by this app.
const OUTDATED_FORM: &str = "Dit formulier mist de stand waarop het gemaakt is. \
    Open de pagina opnieuw en sla dan op.";

/// A lesson as people read it: "lesuur 3 (10:30, 50 minuten)".
fn slot_label(slot: &LessonSlot) -> String {
    match &slot.start {
        Some(start) => format!("lesuur {} ({start}, {} minuten)", slot.number, slot.minutes),
        None => format!("lesuur {} ({} minuten)", slot.number, slot.minutes),
    }
}

// --- GET /registreren -------------------------------------------------------

#[derive(Clone, Debug)]
struct LessonChoice {
    number: u8,
    label: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "register_choose.html")]
struct ChoosePage {
    layout: Layout,
    no_calendar: bool,
    classes: Vec<String>,
    klas: String,
    datum: String,
    lesuur: u8,
    lessons: Vec<LessonChoice>,
    notice: Option<String>,
    /// The error summary: each message linked to its field.
    errors: Vec<ErrorLink>,
}

#[derive(Debug, Default, Deserialize)]
struct ChooseQuery {
    klas: Option<String>,
    datum: Option<String>,
    lesuur: Option<String>,
}

/// The classes with at least one student the user may see, sorted.
fn classes_in_scope(live: &Live, user: &CurrentUser) -> Vec<String> {
    let mut set: Vec<String> = live
        .school
        .students()
        .iter()
        .filter(|s| user.may_for(Permission::Register, s))
        .map(|s| s.class.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    set.sort_by_key(|c| natural_key(c));
    set
}

/// Sorts "2A" before "10A".
fn natural_key(s: &str) -> (u32, String) {
    let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
    (digits.parse().unwrap_or(u32::MAX), s.to_lowercase())
}

async fn choose(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ChooseQuery>,
) -> Result<Response, PageError> {
    user.require(user.may(Permission::Register))?;
    let today = state.clock.today();
    let layout = Layout::new(&user, section::REGISTER, "Registreren");
    let live = state.read()?;
    let Some(cal) = &live.cal else {
        return Ok(ChoosePage {
            layout,
            no_calendar: true,
            classes: Vec::new(),
            klas: String::new(),
            datum: today.to_string(),
            lesuur: 1,
            lessons: Vec::new(),
            notice: None,
            errors: Vec::new(),
        }
        .into_response());
    };
    let classes = classes_in_scope(&live, &user);
    let mut errors = Vec::new();
    let at = |field: &str, message: String| ErrorLink::new(Some(field.to_owned()), message);
    // The form always sends all three; a link may carry only a date.
    let submitted = q.klas.is_some() && q.lesuur.is_some();
    let date = match q.datum.as_deref().filter(|d| !d.trim().is_empty()) {
        Some(d) => match parse_date(d) {
            Ok(d) => d,
            Err(e) => {
                errors.push(at("datum", e.to_string()));
                today
            }
        },
        None => today,
    };
    let klas = q
        .klas
        .as_deref()
        .map(str::trim)
        .and_then(|k| classes.iter().find(|c| c.eq_ignore_ascii_case(k)).cloned());
    if submitted && klas.is_none() {
        errors.push(at("klas", "Kies een klas uit de lijst.".into()));
    }
    let year = cal.year_of_date(date).or_else(|| {
        cal.on_or_before(date)
            .or_else(|| cal.on_or_after(date))
            .and_then(|d| cal.year_of_date(cal.date(d)))
    });
    let lessons: Vec<LessonChoice> = year
        .map(|y| {
            let mut l: Vec<_> = y
                .lessons
                .iter()
                .map(|s| LessonChoice {
                    number: s.number,
                    label: slot_label(s),
                })
                .collect();
            l.sort_by_key(|c| c.number);
            l
        })
        .unwrap_or_default();
    let lesuur = match q.lesuur.as_deref().map(str::trim) {
        Some(l) => match l.parse::<u8>() {
            Ok(n) => Some(n),
            Err(_) => {
                errors.push(at("lesuur", format!("'{l}' is geen lesuur.")));
                None
            }
        },
        None => None,
    };
    let day_problem = not_a_school_day(cal, date);
    if submitted && errors.is_empty() {
        if let Some(why) = &day_problem {
            errors.push(at("datum", why.clone()));
        } else if let (Some(k), Some(n)) = (&klas, lesuur) {
            match slot_on(cal, date, n) {
                Ok(_) => {
                    return Ok(Redirect::to(&format!(
                        "/registreren/{}/{date}/{n}",
                        crate::paths::segment(k)
                    ))
                    .into_response())
                }
                Err(e) => errors.push(at("lesuur", e)),
            }
        } else if lesuur.is_none() {
            errors.push(at("lesuur", "Kies een lesuur.".into()));
        }
    }
    let notice = if !submitted {
        day_problem.map(|why| {
            if date == today {
                format!("Vandaag is geen schooldag. {why}")
            } else {
                why
            }
        })
    } else {
        None
    };
    let page = ChoosePage {
        layout,
        no_calendar: false,
        klas: klas.unwrap_or_default(),
        classes,
        datum: date.to_string(),
        lesuur: lesuur.unwrap_or(1),
        lessons,
        notice,
        errors,
    };
    let status = if page.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, page).into_response())
}

// --- the register of one class and lesson -----------------------------------

#[derive(Clone, Debug)]
struct RegisterRow {
    index: usize,
    id: String,
    name: String,
    /// The stored state as people read it.
    stored: String,
    selected: String,
    extra: Option<CodeOption>,
    minutes_late: String,
    /// The revision the row was made from (0: not registered), sent back
    /// with the form.
    version: u64,
    error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "register.html")]
struct RegisterPage {
    layout: Layout,
    klas: String,
    klas_path: String,
    datum: String,
    date_label: String,
    lesson_label: String,
    lesuur: u8,
    minutes: u16,
    registered_before: bool,
    groups: Vec<CodeGroup>,
    rows: Vec<RegisterRow>,
    errors: Vec<String>,
}

/// A class's students the user may see, with their position in the school.
struct ClassMember {
    pos: usize,
    id: StudentId,
    name: String,
}

/// Everything a register needs from the live school, copied out of the lock.
struct RegisterContext {
    klas: String,
    date: NaiveDate,
    slot: LessonSlot,
    policy: Policy,
    members: Vec<ClassMember>,
}

fn register_context(
    state: &AppState,
    user: &CurrentUser,
    klas: &str,
    datum: &str,
    lesuur: &str,
) -> Result<RegisterContext, PageError> {
    user.require(user.may(Permission::Register))?;
    let date = parse_date(datum)?;
    let lesson: u8 = lesuur
        .parse()
        .map_err(|_| PageError::BadRequest(format!("'{lesuur}' is geen lesuur")))?;
    let live = state.read()?;
    let cal = live.cal.as_ref().ok_or_else(no_calendar)?;
    let mut members: Vec<ClassMember> = live
        .school
        .students()
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            s.class.eq_ignore_ascii_case(klas) && user.may_for(Permission::Register, s)
        })
        .map(|(pos, s)| ClassMember {
            pos,
            id: s.id.clone(),
            name: s.name.clone(),
        })
        .collect();
    // A class the user may not see answers like a class that does not
    // exist: its existence is not given away.
    if members.is_empty() {
        return Err(PageError::NotFound);
    }
    members.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
    let klas = live.school.students()[members[0].pos].class.clone();
    let slot = slot_on(cal, date, lesson).map_err(PageError::BadRequest)?;
    Ok(RegisterContext {
        klas,
        date,
        slot,
        policy: live.policy.clone(),
        members,
    })
}

/// The stored state of each member for the lesson, with its revision (by
/// position in `members`).
async fn stored_states(
    state: &AppState,
    ctx: &RegisterContext,
) -> Result<Vec<Option<StoredRegistration>>, PageError> {
    let keys: Vec<LessonKey> = ctx
        .members
        .iter()
        .map(|m| LessonKey {
            student: m.id.clone(),
            date: ctx.date,
            lesson: ctx.slot.number,
        })
        .collect();
    Ok(state.store.registration_states(&keys).await?)
}

fn register_page(
    user: &CurrentUser,
    ctx: &RegisterContext,
    rows: Vec<RegisterRow>,
    registered_before: bool,
    errors: Vec<String>,
) -> RegisterPage {
    RegisterPage {
        layout: Layout::new(
            user,
            section::REGISTER,
            format!("Registreren {} · lesuur {}", ctx.klas, ctx.slot.number),
        ),
        klas_path: crate::paths::segment(&ctx.klas),
        klas: ctx.klas.clone(),
        datum: ctx.date.to_string(),
        date_label: date_nl(ctx.date),
        lesson_label: slot_label(&ctx.slot),
        lesuur: ctx.slot.number,
        minutes: ctx.slot.minutes,
        registered_before,
        groups: code_groups(&ctx.policy),
        rows,
        errors,
    }
}

async fn register_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((klas, datum, lesuur)): Path<(String, String, String)>,
) -> Result<Response, PageError> {
    let ctx = register_context(&state, &user, &klas, &datum, &lesuur)?;
    let stored = stored_states(&state, &ctx).await?;
    user.audit(
        &state,
        AuditAction::Read,
        None,
        format!(
            "register klas {} op {} lesuur {}",
            ctx.klas, ctx.date, ctx.slot.number
        ),
    )
    .await?;
    let registered_before = stored.iter().any(Option::is_some);
    let rows = ctx
        .members
        .iter()
        .zip(&stored)
        .enumerate()
        .map(|(index, (m, rec))| default_row(index, m, rec.as_ref(), &ctx.policy))
        .collect();
    Ok(register_page(&user, &ctx, rows, registered_before, Vec::new()).into_response())
}

/// A row showing the stored state (present when the lesson is new).
fn default_row(
    index: usize,
    m: &ClassMember,
    stored: Option<&StoredRegistration>,
    policy: &Policy,
) -> RegisterRow {
    let rec = stored.map(|s| &s.record);
    RegisterRow {
        index,
        id: m.id.to_string(),
        name: m.name.clone(),
        stored: rec.map_or_else(|| "niet geregistreerd".into(), |r| record_label(r, policy)),
        selected: rec.map_or_else(|| PRESENT.into(), token_of),
        extra: extra_option(rec, policy),
        minutes_late: rec
            .filter(|r| r.minutes_late > 0)
            .map(|r| r.minutes_late.to_string())
            .unwrap_or_default(),
        version: StoredRegistration::token(stored),
        error: None,
    }
}

/// One change of a saved register, as the confirmation shows it.
struct Change {
    id: StudentId,
    step_before: String,
    step_after: String,
}

async fn register_save(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((klas, datum, lesuur)): Path<(String, String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let ctx = register_context(&state, &user, &klas, &datum, &lesuur)?;
    let form: HashMap<String, String> = pairs.into_iter().collect();
    let stored = stored_states(&state, &ctx).await?;
    let by_id: HashMap<&str, usize> = ctx
        .members
        .iter()
        .enumerate()
        .map(|(i, m)| (m.id.as_str(), i))
        .collect();

    // 1. Check every row; nothing is written while any row is wrong.
    let mut rows = Vec::new();
    let mut writes: Vec<Option<LessonWrite>> = vec![None; ctx.members.len()];
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    // The class member of each row in `rows`, to show them in class order.
    let mut order = Vec::new();
    for index in 0.. {
        let Some(id) = form.get(&format!("r{index}_id")) else {
            break;
        };
        let token = form
            .get(&format!("r{index}_code"))
            .cloned()
            .unwrap_or_default();
        let late_raw = form
            .get(&format!("r{index}_te_laat"))
            .cloned()
            .unwrap_or_default();
        let version = form
            .get(&format!("r{index}_versie"))
            .and_then(|v| v.trim().parse::<u64>().ok());
        let Some(&mi) = by_id.get(id.trim()) else {
            errors.push(format!(
                "Leerling {id} hoort niet bij klas {} of valt buiten uw leerlingen.",
                ctx.klas
            ));
            continue;
        };
        if !seen.insert(mi) {
            errors.push(format!("Leerling {id} staat twee keer in het formulier."));
            continue;
        }
        let m = &ctx.members[mi];
        let prev = stored[mi].as_ref().map(|s| &s.record);
        let minutes = prev.map_or(ctx.slot.minutes, |r| r.minutes);
        let mut error = None;
        match parse_token(&token, &ctx.policy) {
            Err(e) => error = Some(e),
            Ok((code, category)) => {
                match (parse_minutes_late(&late_raw, category, minutes), version) {
                    (Err(e), _) => error = Some(e),
                    (Ok(_), None) => error = Some(OUTDATED_FORM.into()),
                    (Ok(minutes_late), Some(version)) => {
                        // A note stays with its lesson, except on a sick report:
                        // the nature of an illness is never kept.
                        let note = prev
                            .and_then(|r| r.note.clone())
                            .filter(|_| category != Category::ReportedSick);
                        writes[mi] = Some(LessonWrite {
                            record: RegistrationRecord {
                                student: m.id.clone(),
                                date: ctx.date,
                                lesson: ctx.slot.number,
                                minutes,
                                code,
                                category,
                                minutes_late,
                                note,
                            },
                            // Every row is checked against the state the form
                            // showed, also a row the user left as it was: saving
                            // it unchanged would undo someone else's change.
                            expected: Expected::from_token(version),
                        });
                    }
                }
            }
        }
        rows.push(RegisterRow {
            index,
            id: m.id.to_string(),
            name: m.name.clone(),
            stored: prev.map_or_else(
                || "niet geregistreerd".into(),
                |r| record_label(r, &ctx.policy),
            ),
            extra: extra_option(prev, &ctx.policy),
            selected: token,
            minutes_late: late_raw,
            version: version.unwrap_or_else(|| StoredRegistration::token(stored[mi].as_ref())),
            error,
        });
        order.push(mi);
    }
    let row_errors = rows.iter().filter(|r| r.error.is_some()).count();
    if row_errors > 0 || !errors.is_empty() {
        if row_errors > 0 {
            errors.insert(
                0,
                format!(
                    "{row_errors} {} niet goed ingevuld. Er is niets opgeslagen; verbeter de gemarkeerde regels en sla opnieuw op.",
                    if row_errors == 1 { "regel is" } else { "regels zijn" }
                ),
            );
        } else {
            errors.push("Er is niets opgeslagen.".into());
        }
        // Show the whole class again: rows the form did not send keep
        // their stored state.
        let mut next = rows.iter().map(|r| r.index + 1).max().unwrap_or(0);
        let mut by_member: Vec<Option<RegisterRow>> = vec![None; ctx.members.len()];
        for (row, mi) in rows.into_iter().zip(order) {
            by_member[mi] = Some(row);
        }
        let rows = by_member
            .into_iter()
            .enumerate()
            .map(|(mi, row)| {
                row.unwrap_or_else(|| {
                    next += 1;
                    default_row(next - 1, &ctx.members[mi], stored[mi].as_ref(), &ctx.policy)
                })
            })
            .collect();
        let registered_before = stored.iter().any(Option::is_some);
        let page = register_page(&user, &ctx, rows, registered_before, errors);
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }

    // 2. Write in one transaction that first checks every row against the
    // state the form was made from (all or nothing), then re-evaluate each
    // changed student at once.
    let now = state.clock.now();
    let (members, batch): (Vec<usize>, Vec<LessonWrite>) = writes
        .into_iter()
        .enumerate()
        .filter_map(|(mi, w)| w.map(|w| (mi, w)))
        .unzip();
    let steps_before: Vec<_> = {
        let live = state.read()?;
        members
            .iter()
            .map(|mi| step_of(&live, ctx.members[*mi].pos))
            .collect()
    };
    let written = match state
        .store
        .save_registrations(&batch, &user.user.username, now)
        .await
    {
        Ok(written) => written,
        Err(StoreError::Stale(stale)) => {
            return stale_register(&state, &user, &ctx, rows, order, &stale).await
        }
        Err(e) => return Err(e.into()),
    };
    // What changed: (member, record, the state it replaced, step before).
    let changed: Vec<(
        usize,
        &RegistrationRecord,
        Option<&RegistrationRecord>,
        String,
    )> = members
        .iter()
        .zip(&batch)
        .zip(&written)
        .zip(steps_before)
        .filter(|(((_, w), done), _)| done.changed(&w.record))
        .map(|(((mi, w), done), step)| {
            (
                *mi,
                &w.record,
                done.previous.as_ref().map(|p| &p.record),
                step,
            )
        })
        .collect();
    let steps_after: Vec<_> = {
        let mut live = state.write()?;
        for (_, rec, _, _) in &changed {
            live.apply(rec)?;
        }
        changed
            .iter()
            .map(|(mi, _, _, _)| step_of(&live, ctx.members[*mi].pos))
            .collect()
    };
    let mut changes = Vec::new();
    let mut new_present = 0usize;
    for ((mi, rec, prev, step_before), step_after) in changed.into_iter().zip(steps_after) {
        let m = &ctx.members[mi];
        let what = format!(
            "lesuur {} op {}: {} → {}",
            rec.lesson,
            rec.date,
            prev.map_or_else(
                || "niet geregistreerd".to_owned(),
                |r| record_label(r, &ctx.policy)
            ),
            record_label(rec, &ctx.policy)
        );
        user.audit(&state, AuditAction::Change, Some(&m.id), what)
            .await?;
        if prev.is_none() && rec.category == Category::Present {
            new_present += 1;
        } else {
            changes.push(Change {
                id: m.id.clone(),
                step_before,
                step_after,
            });
        }
    }
    let mut url = format!(
        "/registreren/{}/{}/{}/opgeslagen?t={}&aanwezig={new_present}",
        crate::paths::segment(&ctx.klas),
        ctx.date,
        ctx.slot.number,
        now.timestamp_millis()
    );
    // Only numbers and steps go into the address (it ends up in the
    // browser's history); the states themselves are read from the store.
    for c in &changes {
        url.push_str("&w=");
        url.push_str(&query_value(&format!(
            "{}~{}~{}",
            c.id, c.step_before, c.step_after
        )));
    }
    Ok(Redirect::to(&url).into_response())
}

/// The answer to a register saved from a state that changed meanwhile:
/// nothing was written. The register again, as stored now: the lessons
/// that changed show their new state and are marked, the other rows keep
/// what the user chose, and the message says what changed.
async fn stale_register(
    state: &AppState,
    user: &CurrentUser,
    ctx: &RegisterContext,
    sent: Vec<RegisterRow>,
    order: Vec<usize>,
    stale: &[StaleLesson],
) -> Result<Response, PageError> {
    let fresh = stored_states(state, ctx).await?;
    let mut by_member: Vec<Option<RegisterRow>> = vec![None; ctx.members.len()];
    for (row, mi) in sent.into_iter().zip(order) {
        by_member[mi] = Some(row);
    }
    let is_stale = |m: &ClassMember| stale.iter().any(|s| s.key.student == m.id);
    let mut errors = vec![format!(
        "Er is niets opgeslagen: {} sinds u het register opende. Hieronder staat de lijst zoals die nu is vastgelegd: \
         bij de gemarkeerde {} staat de nieuwe stand, bij de anderen staan uw keuzes nog. \
         Controleer de lijst en sla opnieuw op.",
        if stale.len() == 1 {
            "één les is door iemand anders gewijzigd".to_owned()
        } else {
            format!("{} lessen zijn door iemand anders gewijzigd", stale.len())
        },
        if stale.len() == 1 { "leerling" } else { "leerlingen" },
    )];
    for s in stale {
        let who = ctx
            .members
            .iter()
            .find(|m| m.id == s.key.student)
            .map_or_else(
                || format!("Leerling {}", s.key.student),
                |m| format!("{} ({})", m.name, m.id),
            );
        errors.push(stale_sentence(s, &who, &ctx.policy));
    }
    let rows = ctx
        .members
        .iter()
        .zip(fresh.iter())
        .zip(by_member)
        .enumerate()
        .map(|(index, ((m, current), sent))| {
            let mut row = default_row(index, m, current.as_ref(), &ctx.policy);
            match sent {
                _ if is_stale(m) => {
                    row.error = Some(
                        "Intussen gewijzigd door iemand anders (zie boven); hier staat de stand van nu."
                            .into(),
                    );
                }
                Some(sent) => {
                    row.selected = sent.selected;
                    row.minutes_late = sent.minutes_late;
                }
                None => {}
            }
            row
        })
        .collect();
    user.audit(
        state,
        AuditAction::Read,
        None,
        format!(
            "register klas {} op {} lesuur {} (opslaan geweigerd: intussen gewijzigd)",
            ctx.klas, ctx.date, ctx.slot.number
        ),
    )
    .await?;
    let registered_before = fresh.iter().any(Option::is_some);
    let page = register_page(user, ctx, rows, registered_before, errors);
    Ok((StatusCode::CONFLICT, page).into_response())
}

// --- confirmation ------------------------------------------------------------

struct SavedRow {
    id: String,
    name: String,
    before: String,
    after: String,
    step_before: String,
    step_after: String,
    step_changed: bool,
}

impl SavedRow {
    /// The CSS class of a step badge: `step-3a3b` for "3a/3b".
    fn step_class(step: &str) -> String {
        format!("step-{}", step.replace('/', ""))
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "register_saved.html")]
struct SavedPage {
    layout: Layout,
    klas: String,
    klas_path: String,
    datum: String,
    date_label: String,
    lesuur: u8,
    new_present: usize,
    rows: Vec<SavedRow>,
    step_changes: usize,
}

async fn register_saved(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((klas, datum, lesuur)): Path<(String, String, String)>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let ctx = register_context(&state, &user, &klas, &datum, &lesuur)?;
    let mut new_present = 0;
    let mut saved_at = None;
    let mut wanted = Vec::new();
    for (k, v) in &pairs {
        match k.as_str() {
            "aanwezig" => new_present = v.parse().unwrap_or(0),
            "t" => {
                saved_at = v
                    .parse()
                    .ok()
                    .and_then(DateTime::<Utc>::from_timestamp_millis)
            }
            "w" => {
                let parts: Vec<&str> = v.split('~').collect();
                if let [id, sb, sa] = parts[..] {
                    // Only students of this class the user may see.
                    if let Some(m) = ctx.members.iter().find(|m| m.id.as_str() == id) {
                        wanted.push((m, sb.to_owned(), sa.to_owned()));
                    }
                }
            }
            _ => {}
        }
    }
    let key = (ctx.date, ctx.slot.number);
    let mut rows = Vec::new();
    for (m, step_before, step_after) in wanted {
        let after = state
            .store
            .student_registrations(&m.id)
            .await?
            .into_iter()
            .find(|r| (r.date, r.lesson) == key);
        // The state this save replaced: the history entry this user's save
        // left for this lesson (none for a lesson registered for the first time).
        let before = state
            .store
            .registration_history(&m.id)
            .await?
            .into_iter()
            .rfind(|h| {
                (h.old.date, h.old.lesson) == key
                    && h.replaced.by == user.user.username
                    && saved_at.is_some_and(|t| (h.replaced.at - t).num_seconds().abs() < 2)
            });
        rows.push(SavedRow {
            id: m.id.to_string(),
            name: m.name.clone(),
            before: before.map_or_else(
                || "niet geregistreerd".into(),
                |h| record_label(&h.old, &ctx.policy),
            ),
            after: after.map_or_else(
                || "niet geregistreerd".into(),
                |r| record_label(&r, &ctx.policy),
            ),
            step_changed: step_before != step_after,
            step_before,
            step_after,
        });
    }
    user.audit(
        &state,
        AuditAction::Read,
        None,
        format!(
            "bevestiging register klas {} op {} lesuur {}",
            ctx.klas, ctx.date, ctx.slot.number
        ),
    )
    .await?;
    let step_changes = rows.iter().filter(|r| r.step_changed).count();
    Ok(SavedPage {
        layout: Layout::new(&user, section::REGISTER, "Registratie opgeslagen"),
        klas_path: crate::paths::segment(&ctx.klas),
        klas: ctx.klas,
        datum: ctx.date.to_string(),
        date_label: date_nl(ctx.date),
        lesuur: ctx.slot.number,
        new_present,
        rows,
        step_changes,
    }
    .into_response())
}

// --- correcting one lesson --------------------------------------------------

#[derive(Debug, Deserialize)]
struct LessonQuery {
    datum: String,
    lesuur: String,
}

struct HistoryRow {
    state: String,
    note: String,
    set_by: String,
    set_at: String,
    replaced_by: String,
    replaced_at: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "lesson.html")]
struct LessonPage {
    layout: Layout,
    id: String,
    name: String,
    class: String,
    datum: String,
    date_label: String,
    lesson_label: String,
    lesuur: u8,
    minutes: u16,
    current: String,
    /// Who set the current state and when, when a change (not the
    /// first registration) did.
    current_by: String,
    current_note: String,
    groups: Vec<CodeGroup>,
    extra: Option<CodeOption>,
    selected: String,
    minutes_late: String,
    note: String,
    /// The revision the form is made from (0: not registered).
    version: u64,
    history: Vec<HistoryRow>,
    errors: Vec<String>,
}

struct LessonContext {
    id: StudentId,
    name: String,
    class: String,
    date: NaiveDate,
    slot: LessonSlot,
    policy: Policy,
}

fn lesson_context(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    q: &LessonQuery,
) -> Result<LessonContext, PageError> {
    user.require(user.may(Permission::Register))?;
    let live = state.read()?;
    let student = live
        .position(id)
        .map(|i| &live.school.students()[i])
        .filter(|s| user.may_for(Permission::Register, s))
        .ok_or(PageError::NotFound)?;
    let cal = live.cal.as_ref().ok_or_else(no_calendar)?;
    let date = parse_date(&q.datum)?;
    let lesson: u8 = q
        .lesuur
        .trim()
        .parse()
        .map_err(|_| PageError::BadRequest(format!("'{}' is geen lesuur", q.lesuur)))?;
    let slot = slot_on(cal, date, lesson).map_err(PageError::BadRequest)?;
    Ok(LessonContext {
        id: student.id.clone(),
        name: student.name.clone(),
        class: student.class.clone(),
        date,
        slot,
        policy: live.policy.clone(),
    })
}

async fn lesson_state(
    state: &AppState,
    ctx: &LessonContext,
) -> Result<(Option<StoredRegistration>, Vec<HistoryEntry>), PageError> {
    let key = (ctx.date, ctx.slot.number);
    let current = state
        .store
        .registration_states(&[LessonKey {
            student: ctx.id.clone(),
            date: ctx.date,
            lesson: ctx.slot.number,
        }])
        .await?
        .pop()
        .flatten();
    let history = state
        .store
        .registration_history(&ctx.id)
        .await?
        .into_iter()
        .filter(|h| (h.old.date, h.old.lesson) == key)
        .collect();
    Ok((current, history))
}

#[expect(
    clippy::too_many_arguments,
    reason = "one page, filled from a form or the store"
)]
fn lesson_page(
    user: &CurrentUser,
    ctx: &LessonContext,
    current: Option<&RegistrationRecord>,
    history: &[HistoryEntry],
    selected: String,
    minutes_late: String,
    note: String,
    version: u64,
    errors: Vec<String>,
) -> LessonPage {
    let current_by = history
        .last()
        .map(|h| format!("{}, {}", h.replaced.by, time_nl(h.replaced.at)))
        .unwrap_or_default();
    let history = history
        .iter()
        .rev()
        .map(|h| HistoryRow {
            state: record_label(&h.old, &ctx.policy),
            note: h.old.note.clone().unwrap_or_default(),
            set_by: h.set.by.clone(),
            set_at: time_nl(h.set.at),
            replaced_by: h.replaced.by.clone(),
            replaced_at: time_nl(h.replaced.at),
        })
        .collect();
    LessonPage {
        layout: Layout::new(
            user,
            section::STUDENTS,
            format!("Les corrigeren · {}", ctx.name),
        ),
        id: ctx.id.to_string(),
        name: ctx.name.clone(),
        class: ctx.class.clone(),
        datum: ctx.date.to_string(),
        date_label: date_nl(ctx.date),
        lesson_label: slot_label(&ctx.slot),
        lesuur: ctx.slot.number,
        minutes: current.map_or(ctx.slot.minutes, |r| r.minutes),
        current: current.map_or_else(
            || "niet geregistreerd".into(),
            |r| record_label(r, &ctx.policy),
        ),
        current_by,
        current_note: current.and_then(|r| r.note.clone()).unwrap_or_default(),
        groups: code_groups(&ctx.policy),
        extra: extra_option(current, &ctx.policy),
        selected,
        minutes_late,
        note,
        version,
        history,
        errors,
    }
}

/// The correction form filled with the stored state `current`.
fn lesson_page_of_state(
    user: &CurrentUser,
    ctx: &LessonContext,
    current: Option<&StoredRegistration>,
    history: &[HistoryEntry],
    errors: Vec<String>,
) -> LessonPage {
    let rec = current.map(|s| &s.record);
    let selected = rec.map_or_else(|| PRESENT.into(), token_of);
    let minutes_late = rec
        .filter(|r| r.minutes_late > 0)
        .map(|r| r.minutes_late.to_string())
        .unwrap_or_default();
    let note = rec.and_then(|r| r.note.clone()).unwrap_or_default();
    lesson_page(
        user,
        ctx,
        rec,
        history,
        selected,
        minutes_late,
        note,
        StoredRegistration::token(current),
        errors,
    )
}

async fn lesson_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<LessonQuery>,
) -> Result<Response, PageError> {
    let ctx = lesson_context(&state, &user, &id, &q)?;
    let (current, history) = lesson_state(&state, &ctx).await?;
    user.audit(
        &state,
        AuditAction::Read,
        Some(&ctx.id),
        format!(
            "les {} lesuur {} met geschiedenis",
            ctx.date, ctx.slot.number
        ),
    )
    .await?;
    Ok(lesson_page_of_state(&user, &ctx, current.as_ref(), &history, Vec::new()).into_response())
}

#[derive(Debug, Deserialize)]
struct LessonForm {
    code: String,
    #[serde(default)]
    te_laat: String,
    #[serde(default)]
    notitie: String,
    /// The revision the form was made from (0: not registered).
    #[serde(default)]
    versie: String,
}

/// Why a note on a sick report is refused, for the form.
const SICK_NOTE_REFUSED: &str = "Bij een ziekmelding kan geen notitie worden opgeslagen: \
    de aard van een ziekte leggen we nooit vast, ook niet in een opmerking. \
    Maak het notitieveld leeg en sla opnieuw op.";

async fn lesson_save(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<LessonQuery>,
    Form(form): Form<LessonForm>,
) -> Result<Response, PageError> {
    let ctx = lesson_context(&state, &user, &id, &q)?;
    let (stored, history) = lesson_state(&state, &ctx).await?;
    let current = stored.as_ref().map(|s| s.record.clone());
    let minutes = current.as_ref().map_or(ctx.slot.minutes, |r| r.minutes);
    let note = form.notitie.trim().to_owned();
    let mut errors = Vec::new();
    let version = form.versie.trim().parse::<u64>().ok();
    if version.is_none() {
        errors.push(OUTDATED_FORM.to_owned());
    }
    let mut record = None;
    match parse_token(&form.code, &ctx.policy) {
        Err(e) => errors.push(e),
        Ok((code, category)) => {
            let minutes_late = match parse_minutes_late(&form.te_laat, category, minutes) {
                Ok(m) => m,
                Err(e) => {
                    errors.push(e);
                    0
                }
            };
            if !note.is_empty() && category == Category::ReportedSick {
                errors.push(SICK_NOTE_REFUSED.into());
            }
            if note.chars().count() > MAX_NOTE_CHARS {
                errors.push(format!(
                    "De notitie is te lang: hoogstens {MAX_NOTE_CHARS} tekens."
                ));
            }
            record = Some(RegistrationRecord {
                student: ctx.id.clone(),
                date: ctx.date,
                lesson: ctx.slot.number,
                minutes,
                code,
                category,
                minutes_late,
                note: (!note.is_empty()).then(|| note.clone()),
            });
        }
    }
    let record = match record {
        Some(r) if errors.is_empty() => r,
        _ => {
            let page = lesson_page(
                &user,
                &ctx,
                current.as_ref(),
                &history,
                form.code.clone(),
                form.te_laat.clone(),
                form.notitie.clone(),
                version.unwrap_or_else(|| StoredRegistration::token(stored.as_ref())),
                errors,
            );
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    let expected = Expected::from_token(version.unwrap_or_default());
    if current.as_ref() != Some(&record) {
        let write = LessonWrite {
            record: record.clone(),
            expected,
        };
        match state
            .store
            .save_registrations(&[write], &user.user.username, state.clock.now())
            .await
        {
            Ok(_) => {}
            Err(StoreError::Stale(stale)) => {
                // Nothing written: the form again with the state of now.
                let (fresh, history) = lesson_state(&state, &ctx).await?;
                let who = format!("{} ({})", ctx.name, ctx.id);
                let mut errors: Vec<String> = stale
                    .iter()
                    .map(|s| stale_sentence(s, &who, &ctx.policy))
                    .collect();
                errors.push(format!(
                    "Uw keuze was ‘{}’. Het formulier toont nu de nieuwe stand: kies opnieuw en sla op.",
                    record_label(&record, &ctx.policy)
                ));
                let page = lesson_page_of_state(&user, &ctx, fresh.as_ref(), &history, errors);
                return Ok((StatusCode::CONFLICT, page).into_response());
            }
            Err(e) => return Err(e.into()),
        }
        state.write()?.apply(&record)?;
        let what = format!(
            "les {} lesuur {} gecorrigeerd: {} → {}",
            record.date,
            record.lesson,
            current.as_ref().map_or_else(
                || "niet geregistreerd".to_owned(),
                |r| record_label(r, &ctx.policy)
            ),
            record_label(&record, &ctx.policy)
        );
        user.audit(&state, AuditAction::Change, Some(&ctx.id), what)
            .await?;
    }
    // Back to the student's week of the lesson, with a confirmation.
    Ok(Redirect::to(&format!(
        "/leerlingen/{}?week={date}&gecorrigeerd={date}~{lesson}",
        crate::paths::segment(ctx.id.as_str()),
        date = ctx.date,
        lesson = ctx.slot.number,
    ))
    .into_response())
}

/// `/registreren…` and `/leerlingen/{id}/les`.
pub fn router() -> crate::routes::Routes {
    crate::routes::Routes::new()
        .get("/registreren", choose)
        .get("/registreren/{klas}/{datum}/{lesuur}", register_form)
        .post("/registreren/{klas}/{datum}/{lesuur}", register_save)
        .get(
            "/registreren/{klas}/{datum}/{lesuur}/opgeslagen",
            register_saved,
        )
        .get("/leerlingen/{id}/les", lesson_form)
        .post("/leerlingen/{id}/les", lesson_save)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_groups_start_with_the_word_and_only_aanwezig_with_an_a() {
        let mut policy = Policy::default();
        for (code, cat) in [
            ("A", Category::Unknown),
            ("Z", Category::ReportedSick),
            ("O", Category::ReportedOther),
            ("L", Category::LateUnexcused),
            ("P", Category::Present),
            ("BV", Category::NotAbsence),
            ("V", Category::Authorized),
        ] {
            policy.codes.insert(code.into(), cat);
        }
        let groups = code_groups(&policy);
        let labels: Vec<&str> = groups
            .iter()
            .flat_map(|g| g.options.iter().map(|o| o.label.as_str()))
            .collect();
        assert_eq!(
            groups.iter().map(|g| g.label).collect::<Vec<_>>(),
            [
                "Afgemeld door ouders",
                "Te laat",
                "Afwezig zonder afmelding",
                "Toestemming van school",
                "Aanwezig, geen verzuim"
            ]
        );
        assert_eq!(labels[0], "ziek gemeld (Z)", "most used first");
        assert!(labels.contains(&"onbekend afwezig (A)"));
        // Every code is in the list once; none but "aanwezig" (the first
        // option, outside the groups) starts with an "a".
        assert_eq!(labels.len(), policy.codes.len());
        for l in &labels {
            assert!(!l.to_lowercase().starts_with('a'), "{l}");
        }
        assert!(groups.iter().all(|g| g.explained.len() == g.options.len()));
    }

    #[test]
    fn tokens_round_trip() {
        let mut policy = Policy::default();
        policy.codes.insert("Z".into(), Category::ReportedSick);
        assert_eq!(
            parse_token("Z", &policy),
            Ok((Some("Z".into()), Category::ReportedSick))
        );
        assert_eq!(
            parse_token("aanwezig", &policy),
            Ok((None, Category::Present))
        );
        assert_eq!(
            parse_token("categorie:unknown", &policy),
            Ok((None, Category::Unknown))
        );
        assert!(parse_token("Q", &policy).is_err());
        assert_eq!(state_label("Z", &policy), "Z — ziek gemeld");
        assert_eq!(state_label("-", &policy), "niet geregistreerd");
    }

    #[test]
    fn minutes_late_only_for_late_codes() {
        assert_eq!(parse_minutes_late("", Category::Present, 50), Ok(0));
        assert!(parse_minutes_late("5", Category::Present, 50).is_err());
        assert_eq!(
            parse_minutes_late("12", Category::LateUnexcused, 50),
            Ok(12)
        );
        assert!(parse_minutes_late("51", Category::LateUnexcused, 50).is_err());
        assert!(parse_minutes_late("", Category::LateExcused, 50).is_err());
    }
}
