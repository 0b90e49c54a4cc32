//! Instellingen (beheerder only): the school calendar, the attendance
//! policy and the mapping of the school's absence codes.
//!
//! Every change is checked the way the app will use it — a calendar by
//! building [`Calendar::new`], a policy by [`Policy::validate`] — and shown
//! back in Dutch next to its form (422) when it fails. A good change is
//! saved as a new version of its document (old versions stay), written to
//! the audit log, and the live school is reloaded so every signal follows
//! the new settings at once.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aanwezig_domain::explain::{counted_nl, date_nl};
use aanwezig_domain::{
    Calendar, Category, CategorySet, FreeDay, FreeDayKind, Hours, LateCounts, LessonSlot, Policy,
    SchoolYear,
};
use aanwezig_storage::DocumentWrite;
use aanwezig_storage::{AuditAction, DocumentKind};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{FromRequestParts, Multipart, Query, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::NaiveDate;
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::error::PageError;
use crate::layout::{section, Layout};
use crate::state::AppState;

/// The Magister and Somtoday presets shipped in the repository.
const PRESET_MAGISTER: &str = include_str!("../../../../data/policy/magister.toml");
const PRESET_SOMTODAY: &str = include_str!("../../../../data/policy/somtoday.toml");

/// Only the beheerder manages settings.
fn require_admin(user: &CurrentUser) -> Result<(), PageError> {
    user.require(user.role().is_admin())
}

/// The signed-in beheerder, as an extractor. It reads only the request's
/// head, so axum runs it before the body is parsed: anyone else gets 403
/// even for a malformed form, and learns nothing about what it expects.
pub struct Admin(pub CurrentUser);

impl FromRequestParts<AppState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        require_admin(&user).map_err(IntoResponse::into_response)?;
        Ok(Admin(user))
    }
}

/// One saved version of a settings document, for the history tables.
struct VersionView {
    version: u32,
    saved_by: String,
    saved_at: String,
}

async fn versions(state: &AppState, kind: DocumentKind) -> Result<Vec<VersionView>, PageError> {
    let mut list: Vec<VersionView> = state
        .store
        .document_versions(kind)
        .await?
        .into_iter()
        .map(|v| VersionView {
            version: v.version,
            saved_by: v.saved_by,
            saved_at: super::student::local_time_nl(v.saved_at),
        })
        .collect();
    list.reverse();
    Ok(list)
}

/// The fields of a multipart upload: name → (file name, bytes).
async fn multipart_fields(
    mut mp: Multipart,
) -> Result<HashMap<String, (Option<String>, Vec<u8>)>, PageError> {
    let mut out = HashMap::new();
    while let Some(field) = mp
        .next_field()
        .await
        .map_err(|e| PageError::BadRequest(format!("het formulier kon niet gelezen worden: {e}")))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        let file = field.file_name().map(str::to_owned);
        let bytes = field.bytes().await.map_err(|e| {
            PageError::BadRequest(format!("het bestand kon niet gelezen worden: {e}"))
        })?;
        out.insert(name, (file, bytes.to_vec()));
    }
    Ok(out)
}

/// The uploaded file of field `name` as UTF-8 text, with its file name.
fn uploaded_text(
    fields: &HashMap<String, (Option<String>, Vec<u8>)>,
    name: &str,
) -> Result<(String, String), String> {
    let Some((file, bytes)) = fields.get(name) else {
        return Err("Kies eerst een bestand.".into());
    };
    if bytes.is_empty() {
        return Err("Het gekozen bestand is leeg.".into());
    }
    let text = String::from_utf8(bytes.clone())
        .map_err(|_| "Het bestand is geen tekst in UTF-8.".to_owned())?;
    Ok((file.clone().unwrap_or_else(|| "bestand".into()), text))
}

fn field_text(fields: &HashMap<String, (Option<String>, Vec<u8>)>, name: &str) -> String {
    fields
        .get(name)
        .map(|(_, b)| String::from_utf8_lossy(b).trim().to_owned())
        .unwrap_or_default()
}

// --- overview ------------------------------------------------------------

#[derive(Template, WebTemplate)]
#[template(path = "settings.html")]
struct Overview {
    layout: Layout,
    calendar_years: Vec<String>,
    calendar_version: Option<u32>,
    policy_version: Option<u32>,
    school: String,
    codes: usize,
}

async fn overview(
    State(state): State<AppState>,
    Admin(user): Admin,
) -> Result<Overview, PageError> {
    require_admin(&user)?;
    let (calendar_years, school, codes) = {
        let live = state.read()?;
        (
            live.cal
                .as_ref()
                .map(|c| c.years().iter().map(|y| y.name.clone()).collect())
                .unwrap_or_default(),
            live.policy.school.clone(),
            live.policy.codes.len(),
        )
    };
    let calendar_version = versions(&state, DocumentKind::Calendar)
        .await?
        .first()
        .map(|v| v.version);
    let policy_version = versions(&state, DocumentKind::Policy)
        .await?
        .first()
        .map(|v| v.version);
    Ok(Overview {
        layout: Layout::new(&user, section::SETTINGS, "Instellingen"),
        calendar_years,
        calendar_version,
        policy_version,
        school,
        codes,
    })
}

// --- calendar --------------------------------------------------------------

struct FreeDayView {
    index: usize,
    name: String,
    kind: &'static str,
    first: String,
    last: String,
    unconfirmed: bool,
}

struct YearView {
    name: String,
    region: String,
    first_day: String,
    last_day: String,
    first_iso: String,
    last_iso: String,
    lessons: Vec<LessonSlot>,
    lessons_text: String,
    free_days: Vec<FreeDayView>,
    error: Option<String>,
}

/// What was typed into the add-a-free-day form, to show it again.
#[derive(Debug, Default, Deserialize)]
struct FreeDayForm {
    #[serde(default)]
    jaar: String,
    #[serde(default)]
    naam: String,
    #[serde(default)]
    soort: String,
    #[serde(default)]
    eerste: String,
    #[serde(default)]
    laatste: String,
}

#[derive(Default)]
struct CalErrors {
    free_day: Option<String>,
    remove: Option<String>,
    year: Option<(String, String)>,
    upload: Option<String>,
    rijks: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "settings_calendar.html")]
struct CalendarPage {
    layout: Layout,
    saved: bool,
    years: Vec<YearView>,
    versions: Vec<VersionView>,
    input: FreeDayForm,
    kinds: Vec<OptionView>,
    free_day_error: Option<String>,
    remove_error: Option<String>,
    upload_error: Option<String>,
    rijks_error: Option<String>,
    regions: Vec<OptionView>,
}

impl CalendarPage {
    /// The error summary at the top: each refusal linked to its form.
    fn summary(&self) -> Vec<crate::layout::ErrorLink> {
        use crate::layout::ErrorLink;
        let mut links: Vec<ErrorLink> = self
            .years
            .iter()
            .filter_map(|y| {
                y.error.as_ref().map(|e| {
                    ErrorLink::new(
                        Some(format!("eerste-{}", y.name)),
                        format!("Schooljaar {}: {e}", y.name),
                    )
                })
            })
            .collect();
        for (id, e) in [
            ("vd-naam", &self.free_day_error),
            ("kop-toevoegen", &self.remove_error),
            ("rijks-bestand", &self.rijks_error),
            ("kal-bestand", &self.upload_error),
        ] {
            if let Some(e) = e {
                links.push(ErrorLink::new(Some(id.to_owned()), e.clone()));
            }
        }
        links
    }
}

const KINDS: [(&str, &str); 3] = [
    ("vakantie", "vakantie"),
    ("feestdag", "feestdag"),
    ("studiedag", "studiedag of andere vrije dag"),
];

fn lessons_text(lessons: &[LessonSlot]) -> String {
    lessons
        .iter()
        .map(|l| match &l.start {
            Some(s) => format!("{} {} {}", l.number, l.minutes, s),
            None => format!("{} {}", l.number, l.minutes),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn year_view(y: &SchoolYear, errors: &CalErrors) -> YearView {
    YearView {
        name: y.name.clone(),
        region: y.region.clone().unwrap_or_default(),
        first_day: date_nl(y.first_day),
        last_day: date_nl(y.last_day),
        first_iso: y.first_day.to_string(),
        last_iso: y.last_day.to_string(),
        lessons: y.lessons.clone(),
        lessons_text: lessons_text(&y.lessons),
        free_days: y
            .free_days
            .iter()
            .enumerate()
            .map(|(index, f)| FreeDayView {
                index,
                name: f.name.clone(),
                kind: f.kind.label_nl(),
                first: date_nl(f.first),
                last: date_nl(f.last),
                unconfirmed: f.unconfirmed,
            })
            .collect(),
        error: errors
            .year
            .as_ref()
            .filter(|(name, _)| *name == y.name)
            .map(|(_, m)| m.clone()),
    }
}

async fn calendar_page(
    state: &AppState,
    user: &CurrentUser,
    saved: bool,
    input: FreeDayForm,
    errors: CalErrors,
) -> Result<CalendarPage, PageError> {
    let years: Vec<YearView> = {
        let live = state.read()?;
        live.cal
            .as_ref()
            .map(|c| c.years().iter().map(|y| year_view(y, &errors)).collect())
            .unwrap_or_default()
    };
    let region = years.first().map(|y| y.region.clone()).unwrap_or_default();
    Ok(CalendarPage {
        layout: Layout::new(user, section::SETTINGS, "Kalender"),
        saved,
        years,
        versions: versions(state, DocumentKind::Calendar).await?,
        kinds: KINDS
            .iter()
            .map(|(value, label)| OptionView {
                value,
                label,
                checked: input.soort == *value || (input.soort.is_empty() && *value == "studiedag"),
            })
            .collect(),
        input,
        regions: {
            ["noord", "midden", "zuid"]
                .into_iter()
                .map(|r| OptionView {
                    value: r,
                    label: r,
                    checked: r == region,
                })
                .collect()
        },
        free_day_error: errors.free_day,
        remove_error: errors.remove,
        upload_error: errors.upload,
        rijks_error: errors.rijks,
    })
}

async fn calendar_error(
    state: &AppState,
    user: &CurrentUser,
    input: FreeDayForm,
    errors: CalErrors,
) -> Result<Response, PageError> {
    let page = calendar_page(state, user, false, input, errors).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

#[derive(Debug, Deserialize)]
struct SavedQuery {
    opgeslagen: Option<String>,
}

async fn calendar(
    State(state): State<AppState>,
    Admin(user): Admin,
    Query(q): Query<SavedQuery>,
) -> Result<CalendarPage, PageError> {
    require_admin(&user)?;
    calendar_page(
        &state,
        &user,
        q.opgeslagen.is_some(),
        FreeDayForm::default(),
        CalErrors::default(),
    )
    .await
}

/// The stored school years (the live calendar's, which are the stored ones).
fn current_years(state: &AppState) -> Result<Option<Vec<SchoolYear>>, PageError> {
    Ok(state.read()?.cal.as_ref().map(|c| c.years().to_vec()))
}

/// Checks new school years as a calendar, and that every day that already
/// has registrations stays a school day: those registrations would
/// otherwise no longer fit the calendar, and the school could not be loaded.
async fn check_calendar(state: &AppState, years: &[SchoolYear]) -> Result<(), String> {
    let cal = Calendar::new(years.to_vec()).map_err(|e| format!("De kalender klopt niet: {e}."))?;
    let in_memory: Option<BTreeSet<NaiveDate>> = {
        let live = state.read().map_err(|e| e.to_string())?;
        live.cal.as_ref().map(|old| {
            let mut days = BTreeSet::new();
            for i in 0..live.school.students().len() {
                days.extend(live.school.registrations(i).iter().map(|r| r.day));
            }
            days.into_iter().map(|d| old.date(d)).collect()
        })
    };
    // Without a calendar nothing is held in memory: ask the store (a fresh
    // install normally has no registrations yet, so this is cheap).
    let registered = match in_memory {
        Some(days) => days,
        None => {
            let fail = |e: aanwezig_storage::StoreError| e.to_string();
            if state.store.registration_count().await.map_err(fail)? == 0 {
                return Ok(());
            }
            state
                .store
                .registrations_all()
                .await
                .map_err(fail)?
                .iter()
                .flat_map(|(_, records)| records.iter().map(|r| r.date))
                .collect()
        }
    };
    let lost: Vec<NaiveDate> = registered
        .into_iter()
        .filter(|d| !cal.is_school_day(*d))
        .collect();
    if let Some(first) = lost.first() {
        return Err(format!(
            "Op {} dag(en) die dan geen schooldag meer zijn, zijn al lessen geregistreerd (de eerste: {}). \
             Een dag met registraties kan geen vrije dag worden en niet buiten het schooljaar vallen; corrigeer eerst de registraties.",
            lost.len(),
            date_nl(*first)
        ));
    }
    Ok(())
}

/// Saves the years as a new calendar version, audited in the same
/// transaction, and reloads. The years were made from the live school's
/// calendar: the save is refused when another version is stored now.
async fn save_calendar(
    state: &AppState,
    user: &CurrentUser,
    years: &[SchoolYear],
    detail: String,
) -> Result<Response, PageError> {
    let loaded = state.read()?.documents.calendar.unwrap_or(0);
    state
        .save_setting(
            user,
            DocumentWrite::Calendar(years),
            Some(loaded),
            |version| format!("kalender versie {version}: {detail}"),
            "/instellingen/kalender",
        )
        .await?;
    state.reload().await?;
    Ok(Redirect::to("/instellingen/kalender?opgeslagen=1").into_response())
}

fn parse_date_field(raw: &str, what: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map_err(|_| format!("Vul bij '{what}' een datum in als JJJJ-MM-DD."))
}

fn free_day_from(form: &FreeDayForm) -> Result<FreeDay, String> {
    let name = form.naam.trim();
    if name.is_empty() {
        return Err("Geef de vrije dag een naam.".into());
    }
    if name.chars().count() > 100 {
        return Err("De naam is te lang (hoogstens 100 tekens).".into());
    }
    let kind = match form.soort.as_str() {
        "vakantie" => FreeDayKind::Vakantie,
        "feestdag" => FreeDayKind::Feestdag,
        "studiedag" => FreeDayKind::Studiedag,
        _ => return Err("Kies een soort: vakantie, feestdag of studiedag.".into()),
    };
    let first = parse_date_field(&form.eerste, "eerste dag")?;
    let last = parse_date_field(&form.laatste, "laatste dag")?;
    if last < first {
        return Err(format!(
            "De laatste dag ({}) ligt vóór de eerste dag ({}).",
            date_nl(last),
            date_nl(first)
        ));
    }
    Ok(FreeDay {
        name: name.to_owned(),
        kind,
        first,
        last,
        unconfirmed: false,
    })
}

async fn add_free_day(
    State(state): State<AppState>,
    Admin(user): Admin,
    Form(form): Form<FreeDayForm>,
) -> Result<Response, PageError> {
    require_admin(&user)?;
    let Some(mut years) = current_years(&state)? else {
        return Err(PageError::BadRequest(
            "Er is nog geen kalender; lees eerst een kalenderbestand in.".into(),
        ));
    };
    let day = match free_day_from(&form) {
        Ok(d) => d,
        Err(m) => {
            let errors = CalErrors {
                free_day: Some(m),
                ..CalErrors::default()
            };
            return calendar_error(&state, &user, form, errors).await;
        }
    };
    let Some(year) = years.iter_mut().find(|y| y.name == form.jaar) else {
        let errors = CalErrors {
            free_day: Some("Kies een schooljaar uit de lijst.".into()),
            ..CalErrors::default()
        };
        return calendar_error(&state, &user, form, errors).await;
    };
    let detail = format!(
        "vrije dag '{}' ({}, {} tot en met {}) toegevoegd aan {}",
        day.name,
        day.kind.label_nl(),
        day.first,
        day.last,
        year.name
    );
    year.free_days.push(day);
    year.free_days.sort_by_key(|f| f.first);
    if let Err(m) = check_calendar(&state, &years).await {
        let errors = CalErrors {
            free_day: Some(m),
            ..CalErrors::default()
        };
        return calendar_error(&state, &user, form, errors).await;
    }
    save_calendar(&state, &user, &years, detail).await
}

#[derive(Debug, Deserialize)]
struct RemoveForm {
    jaar: String,
    index: usize,
    naam: String,
}

async fn remove_free_day(
    State(state): State<AppState>,
    Admin(user): Admin,
    Form(form): Form<RemoveForm>,
) -> Result<Response, PageError> {
    require_admin(&user)?;
    let Some(mut years) = current_years(&state)? else {
        return Err(PageError::NotFound);
    };
    let fail = |m: &str| CalErrors {
        remove: Some(m.to_owned()),
        ..CalErrors::default()
    };
    let Some(year) = years.iter_mut().find(|y| y.name == form.jaar) else {
        let e = fail("Dat schooljaar bestaat niet (meer).");
        return calendar_error(&state, &user, FreeDayForm::default(), e).await;
    };
    // The name guards against removing another day when the list changed
    // since the page was loaded.
    if year.free_days.get(form.index).map(|f| f.name.as_str()) != Some(form.naam.as_str()) {
        let e = fail("Die vrije dag is intussen gewijzigd; bekijk de lijst opnieuw.");
        return calendar_error(&state, &user, FreeDayForm::default(), e).await;
    }
    let removed = year.free_days.remove(form.index);
    let detail = format!(
        "vrije dag '{}' ({} tot en met {}) verwijderd uit {}",
        removed.name, removed.first, removed.last, year.name
    );
    if let Err(m) = check_calendar(&state, &years).await {
        return calendar_error(&state, &user, FreeDayForm::default(), fail(&m)).await;
    }
    save_calendar(&state, &user, &years, detail).await
}

#[derive(Debug, Deserialize)]
struct YearForm {
    jaar: String,
    eerste_dag: String,
    laatste_dag: String,
    lesrooster: String,
}

fn parse_lessons(text: &str) -> Result<Vec<LessonSlot>, String> {
    let mut lessons = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        if parts.is_empty() {
            continue;
        }
        let bad = || {
            format!(
                "Regel {} van het lesrooster ('{}'): schrijf lesuur, minuten en eventueel de begintijd, bijvoorbeeld '1 50 08:30'.",
                i + 1,
                line.trim()
            )
        };
        if parts.len() > 3 {
            return Err(bad());
        }
        let number: u8 = parts[0].parse().map_err(|_| bad())?;
        let minutes: u16 = parts[1..]
            .first()
            .ok_or_else(bad)?
            .parse()
            .map_err(|_| bad())?;
        let start = match parts.get(2) {
            Some(s) => {
                let ok = s.len() == 5 && chrono::NaiveTime::parse_from_str(s, "%H:%M").is_ok();
                if !ok {
                    return Err(format!(
                        "Regel {} van het lesrooster: '{s}' is geen begintijd UU:MM.",
                        i + 1
                    ));
                }
                Some((*s).to_owned())
            }
            None => None,
        };
        lessons.push(LessonSlot {
            number,
            minutes,
            start,
        });
    }
    if lessons.is_empty() {
        return Err("Het lesrooster is leeg: geef minstens één lesuur.".into());
    }
    lessons.sort_by_key(|l| l.number);
    Ok(lessons)
}

async fn edit_year(
    State(state): State<AppState>,
    Admin(user): Admin,
    Form(form): Form<YearForm>,
) -> Result<Response, PageError> {
    require_admin(&user)?;
    let Some(mut years) = current_years(&state)? else {
        return Err(PageError::NotFound);
    };
    let Some(year) = years.iter_mut().find(|y| y.name == form.jaar) else {
        return Err(PageError::NotFound);
    };
    let parsed = (|| {
        let first = parse_date_field(&form.eerste_dag, "eerste schooldag")?;
        let last = parse_date_field(&form.laatste_dag, "laatste schooldag")?;
        if last < first {
            return Err(format!(
                "De laatste schooldag ({}) ligt vóór de eerste ({}).",
                date_nl(last),
                date_nl(first)
            ));
        }
        Ok((first, last, parse_lessons(&form.lesrooster)?))
    })();
    let fail = |m: String| CalErrors {
        year: Some((form.jaar.clone(), m)),
        ..CalErrors::default()
    };
    let (first, last, lessons) = match parsed {
        Ok(v) => v,
        Err(m) => return calendar_error(&state, &user, FreeDayForm::default(), fail(m)).await,
    };
    year.first_day = first;
    year.last_day = last;
    year.lessons = lessons;
    let detail = format!(
        "schooljaar {}: {} tot en met {}, {}",
        year.name,
        first,
        last,
        counted_nl(year.lessons.len() as u64, "lesuur", "lesuren")
    );
    if let Err(m) = check_calendar(&state, &years).await {
        return calendar_error(&state, &user, FreeDayForm::default(), fail(m)).await;
    }
    save_calendar(&state, &user, &years, detail).await
}

async fn upload_calendar(
    State(state): State<AppState>,
    Admin(user): Admin,
    mp: Multipart,
) -> Result<Response, PageError> {
    require_admin(&user)?;
    let fields = multipart_fields(mp).await?;
    let fail = |m: String| CalErrors {
        upload: Some(m),
        ..CalErrors::default()
    };
    let (file, text) = match uploaded_text(&fields, "bestand") {
        Ok(v) => v,
        Err(m) => return calendar_error(&state, &user, FreeDayForm::default(), fail(m)).await,
    };
    let years = match aanwezig_import::parse_school_years(&text, &file) {
        Ok(y) => y,
        Err(e) => {
            return calendar_error(&state, &user, FreeDayForm::default(), fail(e.to_string()))
                .await;
        }
    };
    if let Err(m) = check_calendar(&state, &years).await {
        return calendar_error(&state, &user, FreeDayForm::default(), fail(m)).await;
    }
    let names: Vec<&str> = years.iter().map(|y| y.name.as_str()).collect();
    let detail = format!("kalenderbestand {file} ingelezen ({})", names.join(", "));
    save_calendar(&state, &user, &years, detail).await
}

async fn import_rijksoverheid(
    State(state): State<AppState>,
    Admin(user): Admin,
    mp: Multipart,
) -> Result<Response, PageError> {
    require_admin(&user)?;
    let fields = multipart_fields(mp).await?;
    let fail = |m: String| CalErrors {
        rijks: Some(m),
        ..CalErrors::default()
    };
    let Some(mut years) = current_years(&state)? else {
        let m = "Er is nog geen kalender: lees eerst een kalenderbestand in; daarna kunnen de vakanties worden bijgewerkt.".to_owned();
        return calendar_error(&state, &user, FreeDayForm::default(), fail(m)).await;
    };
    let region = field_text(&fields, "regio");
    let (file, text) = match uploaded_text(&fields, "bestand") {
        Ok(v) => v,
        Err(m) => return calendar_error(&state, &user, FreeDayForm::default(), fail(m)).await,
    };
    let found = match aanwezig_import::parse_rijksoverheid_all(&text, &file, &region) {
        Ok(f) => f,
        Err(e) => {
            return calendar_error(&state, &user, FreeDayForm::default(), fail(e.to_string()))
                .await;
        }
    };
    let mut merged = Vec::new();
    for ry in found {
        if let Some(year) = years.iter_mut().find(|y| y.name == ry.school_year) {
            let count = ry.holidays.len();
            aanwezig_import::merge_holidays(year, ry.holidays);
            if year.region.is_none() {
                year.region = Some(ry.region.clone());
            }
            merged.push(format!("{} ({count} vakanties)", ry.school_year));
        }
    }
    if merged.is_empty() {
        let known: Vec<String> = years.iter().map(|y| y.name.clone()).collect();
        let m = format!(
            "Het bestand bevat geen schooljaar dat in de kalender staat (in de kalender: {}).",
            known.join(", ")
        );
        return calendar_error(&state, &user, FreeDayForm::default(), fail(m)).await;
    }
    if let Err(m) = check_calendar(&state, &years).await {
        return calendar_error(&state, &user, FreeDayForm::default(), fail(m)).await;
    }
    let detail = format!(
        "schoolvakanties regio {region} uit {file}: {}",
        merged.join(", ")
    );
    save_calendar(&state, &user, &years, detail).await
}

// --- policy ----------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bool,
    Number,
    Hours,
    Percent,
    Text,
    LateCounts,
    Categories,
}

struct FieldDef {
    key: &'static str,
    label: &'static str,
    help: &'static str,
    kind: Kind,
}

struct GroupDef {
    title: &'static str,
    intro: &'static str,
    fields: &'static [FieldDef],
}

const fn f(key: &'static str, label: &'static str, help: &'static str, kind: Kind) -> FieldDef {
    FieldDef {
        key,
        label,
        help,
        kind,
    }
}

const ON: &str = "Zet uit om deze regel niet te laten signaleren.";

const GROUPS: &[GroupDef] = &[
    GroupDef {
        title: "Algemeen",
        intro: "Wat voor alle regels geldt.",
        fields: &[
            f(
                "school",
                "Naam van de school",
                "Staat boven overzichten en meldingen.",
                Kind::Text,
            ),
            f(
                "late_counts",
                "Hoe telt te laat komen zonder geldige reden?",
                "Voor de ongeoorloofde uren van stap 3b en de 16-urenregel: de minuten te laat, het hele lesuur, of helemaal niet.",
                Kind::LateCounts,
            ),
            f(
                "afmelding_categories",
                "Categorieën die een afmelding zijn",
                "Lessen in deze categorieën vormen een afmeldingsperiode (stap 3a en 4a).",
                Kind::Categories,
            ),
            f(
                "unexplained_categories",
                "Categorieën die ongeoorloofd verzuim zijn",
                "Deze lessen tellen als uren ongeoorloofd verzuim (stap 3b en 4b). Een categorie kan niet tegelijk een afmelding zijn.",
                Kind::Categories,
            ),
        ],
    },
    GroupDef {
        title: "Stap 2: bellen na een hele dag afwezigheid",
        intro: "Een leerling is een hele dag afwezig: de school belt uit belangstelling.",
        fields: &[
            f("contact.enabled", "Regel aan", ON, Kind::Bool),
            f(
                "contact.excluded_categories",
                "Geen signaal bij alleen deze categorieën",
                "Een dag die alleen hierom afwezig is (bijvoorbeeld verlof van school) vraagt geen telefoontje.",
                Kind::Categories,
            ),
            f(
                "contact.deadline_school_days",
                "Bellen binnen (schooldagen)",
                "Hoeveel schooldagen na de eerste afwezige dag het telefoontje gedaan moet zijn.",
                Kind::Number,
            ),
        ],
    },
    GroupDef {
        title: "Stap 3a: vaak afgemeld",
        intro: "Gemeld verzuim dat zich herhaalt: tijd voor een gesprek.",
        fields: &[
            f("afmelding_count.enabled", "Regel aan", ON, Kind::Bool),
            f(
                "afmelding_count.min_episodes",
                "Aantal afmeldingen",
                "Zoveel afmeldingsperioden die begonnen binnen de periode hieronder geven een signaal.",
                Kind::Number,
            ),
            f(
                "afmelding_count.window_weeks",
                "Binnen (lesweken)",
                "De periode waarin geteld wordt; vakantieweken tellen niet mee.",
                Kind::Number,
            ),
        ],
    },
    GroupDef {
        title: "Stap 3a: lang afgemeld",
        intro: "Eén afmelding die lang duurt.",
        fields: &[
            f("afmelding_long.enabled", "Regel aan", ON, Kind::Bool),
            f(
                "afmelding_long.day",
                "Signaal op schooldag",
                "Het signaal komt op deze schooldag van een aaneengesloten afmelding.",
                Kind::Number,
            ),
        ],
    },
    GroupDef {
        title: "Stap 3b: onbekend verzuim (zonder geldige reden)",
        intro: "Onbekend afwezig of te laat zonder geldige reden, onder de wettelijke grens.",
        fields: &[
            f("unexplained.enabled", "Regel aan", ON, Kind::Bool),
            f(
                "unexplained.min_hours",
                "Meer dan (uren)",
                "Signaal zodra het aantal ongeoorloofde uren hierboven komt; 0 betekent: elk ongeoorloofd uur of elke keer te laat telt.",
                Kind::Hours,
            ),
            f(
                "unexplained.window_weeks",
                "Binnen (lesweken)",
                "De periode waarin de uren worden opgeteld.",
                Kind::Number,
            ),
        ],
    },
    GroupDef {
        title: "Stap 4a: afmeldingen houden aan",
        intro: "Na een 3a-signaal gaat het afmelden door.",
        fields: &[
            f("afmelding_persist.enabled", "Regel aan", ON, Kind::Bool),
            f(
                "afmelding_persist.min_new_episodes",
                "Nieuwe afmeldingen",
                "Na het 3a-signaal geeft de zoveelste nieuwe afmeldingsperiode dit signaal: bij 2 is dat de tweede.",
                Kind::Number,
            ),
            f(
                "afmelding_persist.day",
                "Of een nieuwe afmelding duurt tot schooldag",
                "Een nieuwe afmelding die deze schooldag bereikt, geeft het signaal ook.",
                Kind::Number,
            ),
        ],
    },
    GroupDef {
        title: "Stap 4b: de 16-urenregel (DUO-melding)",
        intro: "De wettelijke grens voor een melding bij DUO. Verander dit alleen als de wet verandert.",
        fields: &[
            f("duo_16h.enabled", "Regel aan", ON, Kind::Bool),
            f(
                "duo_16h.hours",
                "Uren ongeoorloofd verzuim",
                "Bij zoveel ongeoorloofde uren binnen de periode hieronder moet de school melden.",
                Kind::Hours,
            ),
            f(
                "duo_16h.window_weeks",
                "Binnen (lesweken)",
                "De periode waarin de uren worden opgeteld.",
                Kind::Number,
            ),
            f(
                "duo_16h.min_days_between",
                "Minimaal tussen twee meldingen (kalenderdagen)",
                "Een volgende melding komt niet eerder dan zoveel dagen na de vorige.",
                Kind::Number,
            ),
            f(
                "duo_16h.deadline_working_days",
                "Melden binnen (werkdagen)",
                "De termijn voor de melding bij DUO.",
                Kind::Number,
            ),
        ],
    },
    GroupDef {
        title: "Stap 4b: langdurig relatief verzuim",
        intro: "Weken achter elkaar de hele dag ongeoorloofd afwezig.",
        fields: &[
            f("duo_lrv.enabled", "Regel aan", ON, Kind::Bool),
            f(
                "duo_lrv.window_weeks",
                "Aantal lesweken",
                "Is een leerling zo lang (of langer) elke schooldag ongeoorloofd afwezig, dan komt er een signaal voor een DUO-melding.",
                Kind::Number,
            ),
            f(
                "duo_lrv.deadline_working_days",
                "Melden binnen (werkdagen)",
                "De termijn voor de melding bij DUO.",
                Kind::Number,
            ),
        ],
    },
    GroupDef {
        title: "Stap 4b: afwezig rond een vakantie",
        intro: "Zonder geldige reden afwezig op de laatste schooldag vóór of de eerste na een vakantie.",
        fields: &[
            f("duo_holiday.enabled", "Regel aan", ON, Kind::Bool),
            f(
                "duo_holiday.categories",
                "Categorieën die meetellen",
                "Een les in een van deze categorieën op zo'n dag geeft het signaal.",
                Kind::Categories,
            ),
            f(
                "duo_holiday.deadline_working_days",
                "Melden binnen (werkdagen)",
                "De termijn voor de melding bij DUO.",
                Kind::Number,
            ),
        ],
    },
    GroupDef {
        title: "Stap van een leerling en de streeflijn",
        intro: "Hoe lang een signaal de stap van een leerling bepaalt, en de lijn in de grafieken.",
        fields: &[
            f(
                "step.window_weeks",
                "Signalen tellen mee (lesweken)",
                "Zo lang bepaalt een signaal de stap van de leerling.",
                Kind::Number,
            ),
            f(
                "step.window_weeks_3a",
                "Signalen van stap 3a tellen mee (lesweken)",
                "Voor de 3a-signalen, die over een langere periode kijken.",
                Kind::Number,
            ),
            f(
                "attendance.target",
                "Streeflijn aanwezigheid (%)",
                "De lijn in de aanwezigheidsgrafieken; vaak gebruikt: 90 %.",
                Kind::Percent,
            ),
        ],
    },
];

/// A policy value in a form-friendly shape.
enum Val {
    Bool(bool),
    Text(String),
    Cats(CategorySet),
    Late(LateCounts),
}

fn hours_text(h: Hours) -> String {
    h.to_string()
}

fn value_of(p: &Policy, key: &str) -> Val {
    let n = |v: u32| Val::Text(v.to_string());
    let w = |v: u16| Val::Text(v.to_string());
    match key {
        "school" => Val::Text(p.school.clone()),
        "late_counts" => Val::Late(p.late_counts),
        "afmelding_categories" => Val::Cats(p.afmelding_categories),
        "unexplained_categories" => Val::Cats(p.unexplained_categories),
        "contact.enabled" => Val::Bool(p.contact.enabled),
        "contact.excluded_categories" => Val::Cats(p.contact.excluded_categories),
        "contact.deadline_school_days" => n(p.contact.deadline_school_days),
        "afmelding_count.enabled" => Val::Bool(p.afmelding_count.enabled),
        "afmelding_count.min_episodes" => n(p.afmelding_count.min_episodes),
        "afmelding_count.window_weeks" => w(p.afmelding_count.window_weeks),
        "afmelding_long.enabled" => Val::Bool(p.afmelding_long.enabled),
        "afmelding_long.day" => n(p.afmelding_long.day),
        "unexplained.enabled" => Val::Bool(p.unexplained.enabled),
        "unexplained.min_hours" => Val::Text(hours_text(p.unexplained.min_hours)),
        "unexplained.window_weeks" => w(p.unexplained.window_weeks),
        "afmelding_persist.enabled" => Val::Bool(p.afmelding_persist.enabled),
        "afmelding_persist.min_new_episodes" => n(p.afmelding_persist.min_new_episodes),
        "afmelding_persist.day" => n(p.afmelding_persist.day),
        "duo_16h.enabled" => Val::Bool(p.duo_16h.enabled),
        "duo_16h.hours" => Val::Text(hours_text(p.duo_16h.hours)),
        "duo_16h.window_weeks" => w(p.duo_16h.window_weeks),
        "duo_16h.min_days_between" => n(p.duo_16h.min_days_between),
        "duo_16h.deadline_working_days" => n(p.duo_16h.deadline_working_days),
        "duo_lrv.enabled" => Val::Bool(p.duo_lrv.enabled),
        "duo_lrv.window_weeks" => w(p.duo_lrv.window_weeks),
        "duo_lrv.deadline_working_days" => n(p.duo_lrv.deadline_working_days),
        "duo_holiday.enabled" => Val::Bool(p.duo_holiday.enabled),
        "duo_holiday.categories" => Val::Cats(p.duo_holiday.categories),
        "duo_holiday.deadline_working_days" => n(p.duo_holiday.deadline_working_days),
        "step.window_weeks" => w(p.step.window_weeks),
        "step.window_weeks_3a" => w(p.step.window_weeks_3a),
        "attendance.target" => Val::Text(percent_text(p.attendance.target)),
        _ => Val::Text(String::new()),
    }
}

fn percent_text(fraction: f64) -> String {
    let pct = (fraction * 1000.0).round() / 10.0;
    if pct.fract() == 0.0 {
        format!("{pct:.0}")
    } else {
        format!("{pct:.1}").replace('.', ",")
    }
}

fn whole<T: std::str::FromStr>(raw: &str) -> Result<T, String> {
    raw.trim()
        .parse()
        .map_err(|_| format!("'{}' is geen geheel getal (0 of meer)", raw.trim()))
}

fn decimal(raw: &str) -> Result<f64, String> {
    raw.trim()
        .replace(',', ".")
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| format!("'{}' is geen getal", raw.trim()))
}

fn cats(values: &[&str]) -> Result<CategorySet, String> {
    let list: Option<Vec<Category>> = values.iter().map(|v| Category::parse(v)).collect();
    list.map(|l| CategorySet::of(&l))
        .ok_or_else(|| "onbekende categorie".to_owned())
}

/// Sets one key from the submitted values (several for a category set).
fn set_value(p: &mut Policy, key: &str, values: &[&str]) -> Result<(), String> {
    let one = values.first().copied().unwrap_or("");
    let on = !values.is_empty();
    match key {
        "school" => {
            if one.trim().chars().count() > 200 {
                return Err("de naam is te lang (hoogstens 200 tekens)".into());
            }
            p.school = one.trim().to_owned();
        }
        "late_counts" => {
            p.late_counts = match one {
                "minutes" => LateCounts::Minutes,
                "lesson" => LateCounts::Lesson,
                "none" => LateCounts::None,
                _ => return Err("kies een van de mogelijkheden".into()),
            }
        }
        "afmelding_categories" => p.afmelding_categories = cats(values)?,
        "unexplained_categories" => p.unexplained_categories = cats(values)?,
        "contact.enabled" => p.contact.enabled = on,
        "contact.excluded_categories" => p.contact.excluded_categories = cats(values)?,
        "contact.deadline_school_days" => p.contact.deadline_school_days = whole(one)?,
        "afmelding_count.enabled" => p.afmelding_count.enabled = on,
        "afmelding_count.min_episodes" => p.afmelding_count.min_episodes = whole(one)?,
        "afmelding_count.window_weeks" => p.afmelding_count.window_weeks = whole(one)?,
        "afmelding_long.enabled" => p.afmelding_long.enabled = on,
        "afmelding_long.day" => p.afmelding_long.day = whole(one)?,
        "unexplained.enabled" => p.unexplained.enabled = on,
        "unexplained.min_hours" => {
            p.unexplained.min_hours =
                Hours::from_f64(decimal(one)?).ok_or("het aantal uren kan niet negatief zijn")?
        }
        "unexplained.window_weeks" => p.unexplained.window_weeks = whole(one)?,
        "afmelding_persist.enabled" => p.afmelding_persist.enabled = on,
        "afmelding_persist.min_new_episodes" => p.afmelding_persist.min_new_episodes = whole(one)?,
        "afmelding_persist.day" => p.afmelding_persist.day = whole(one)?,
        "duo_16h.enabled" => p.duo_16h.enabled = on,
        "duo_16h.hours" => {
            p.duo_16h.hours =
                Hours::from_f64(decimal(one)?).ok_or("het aantal uren kan niet negatief zijn")?
        }
        "duo_16h.window_weeks" => p.duo_16h.window_weeks = whole(one)?,
        "duo_16h.min_days_between" => p.duo_16h.min_days_between = whole(one)?,
        "duo_16h.deadline_working_days" => p.duo_16h.deadline_working_days = whole(one)?,
        "duo_lrv.enabled" => p.duo_lrv.enabled = on,
        "duo_lrv.window_weeks" => p.duo_lrv.window_weeks = whole(one)?,
        "duo_lrv.deadline_working_days" => p.duo_lrv.deadline_working_days = whole(one)?,
        "duo_holiday.enabled" => p.duo_holiday.enabled = on,
        "duo_holiday.categories" => p.duo_holiday.categories = cats(values)?,
        "duo_holiday.deadline_working_days" => p.duo_holiday.deadline_working_days = whole(one)?,
        "step.window_weeks" => p.step.window_weeks = whole(one)?,
        "step.window_weeks_3a" => p.step.window_weeks_3a = whole(one)?,
        "attendance.target" => {
            let pct = decimal(one)?;
            if !(pct > 0.0 && pct <= 100.0) {
                return Err("geef een percentage groter dan 0 en hoogstens 100".into());
            }
            p.attendance.target = pct / 100.0;
        }
        _ => {}
    }
    Ok(())
}

struct OptionView {
    value: &'static str,
    label: &'static str,
    checked: bool,
}

struct FieldView {
    key: &'static str,
    id: String,
    label: &'static str,
    help: &'static str,
    kind: &'static str,
    value: String,
    checked: bool,
    options: Vec<OptionView>,
    default_text: String,
    error: Option<String>,
}

struct GroupView {
    title: &'static str,
    intro: &'static str,
    fields: Vec<FieldView>,
}

fn late_label(l: LateCounts) -> &'static str {
    match l {
        LateCounts::Minutes => "de minuten te laat",
        LateCounts::Lesson => "het hele lesuur",
        LateCounts::None => "telt niet mee",
    }
}

fn val_text(v: &Val) -> String {
    match v {
        Val::Bool(true) => "aan".into(),
        Val::Bool(false) => "uit".into(),
        Val::Text(t) if t.is_empty() => "leeg".into(),
        Val::Text(t) => t.clone(),
        Val::Late(l) => late_label(*l).into(),
        Val::Cats(c) if c.is_empty() => "geen".into(),
        Val::Cats(c) => c
            .iter()
            .map(Category::label_nl)
            .collect::<Vec<_>>()
            .join(", "),
    }
}

fn field_view(def: &FieldDef, value: Val, errors: &BTreeMap<String, String>) -> FieldView {
    let default_text = val_text(&value_of(&Policy::default(), def.key));
    let kind = match def.kind {
        Kind::Bool => "bool",
        Kind::Number => "number",
        Kind::Hours | Kind::Percent => "decimal",
        Kind::Text => "text",
        Kind::LateCounts => "select",
        Kind::Categories => "categories",
    };
    let (text, checked, options) = match value {
        Val::Bool(b) => (String::new(), b, Vec::new()),
        Val::Text(t) => (t, false, Vec::new()),
        Val::Late(l) => (
            String::new(),
            false,
            [LateCounts::Minutes, LateCounts::Lesson, LateCounts::None]
                .into_iter()
                .map(|o| OptionView {
                    value: match o {
                        LateCounts::Minutes => "minutes",
                        LateCounts::Lesson => "lesson",
                        LateCounts::None => "none",
                    },
                    label: late_label(o),
                    checked: o == l,
                })
                .collect(),
        ),
        Val::Cats(set) => (
            String::new(),
            false,
            Category::ALL
                .into_iter()
                .map(|c| OptionView {
                    value: c.as_str(),
                    label: c.label_nl(),
                    checked: set.contains(c),
                })
                .collect(),
        ),
    };
    FieldView {
        key: def.key,
        id: field_id(def.key),
        label: def.label,
        help: def.help,
        kind,
        value: text,
        checked,
        options,
        default_text,
        error: errors.get(def.key).cloned(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "settings_policy.html")]
struct PolicyPage {
    layout: Layout,
    saved: bool,
    groups: Vec<GroupView>,
    errors: Vec<ErrorView>,
    upload_error: Option<String>,
    versions: Vec<VersionView>,
}

struct ErrorView {
    /// The field's Dutch name, with its group ("Stap 3b — Uren").
    label: String,
    id: String,
    message: String,
}

/// The Dutch name of a policy key as the form shows it, with the group it
/// stands in; the key itself for one the form has no field for.
fn key_label(key: &str) -> String {
    GROUPS
        .iter()
        .find_map(|g| {
            g.fields
                .iter()
                .find(|def| def.key == key)
                .map(|def| format!("{}: {}", g.title, def.label))
        })
        .unwrap_or_else(|| key.to_owned())
}

fn field_id(key: &str) -> String {
    format!("f-{}", key.replace(['.', '_'], "-"))
}

/// The form for `policy`, or for what was submitted (`raw`) when it failed.
async fn policy_page(
    state: &AppState,
    user: &CurrentUser,
    saved: bool,
    raw: Option<&[(String, String)]>,
    errors: BTreeMap<String, String>,
    upload_error: Option<String>,
) -> Result<PolicyPage, PageError> {
    let policy = state.read()?.policy.clone();
    let groups = GROUPS
        .iter()
        .map(|g| GroupView {
            title: g.title,
            intro: g.intro,
            fields: g
                .fields
                .iter()
                .map(|def| {
                    let value = match raw {
                        Some(raw) => raw_value(def, raw),
                        None => value_of(&policy, def.key),
                    };
                    field_view(def, value, &errors)
                })
                .collect(),
        })
        .collect();
    Ok(PolicyPage {
        layout: Layout::new(user, section::SETTINGS, "Beleid"),
        saved,
        groups,
        errors: errors
            .into_iter()
            .map(|(key, message)| ErrorView {
                id: field_id(&key),
                label: key_label(&key),
                message,
            })
            .collect(),
        upload_error,
        versions: versions(state, DocumentKind::Policy).await?,
    })
}

/// What the user typed for a field, to show the form again unchanged.
fn raw_value(def: &FieldDef, raw: &[(String, String)]) -> Val {
    let values: Vec<&str> = raw
        .iter()
        .filter(|(k, _)| k == def.key)
        .map(|(_, v)| v.as_str())
        .collect();
    match def.kind {
        Kind::Bool => Val::Bool(!values.is_empty()),
        Kind::Categories => Val::Cats(CategorySet::of(
            &values
                .iter()
                .filter_map(|v| Category::parse(v))
                .collect::<Vec<_>>(),
        )),
        Kind::LateCounts => Val::Late(match values.first().copied() {
            Some("lesson") => LateCounts::Lesson,
            Some("none") => LateCounts::None,
            _ => LateCounts::Minutes,
        }),
        _ => Val::Text(values.first().map(|v| (*v).to_owned()).unwrap_or_default()),
    }
}

async fn policy(
    State(state): State<AppState>,
    Admin(user): Admin,
    Query(q): Query<SavedQuery>,
) -> Result<PolicyPage, PageError> {
    require_admin(&user)?;
    policy_page(
        &state,
        &user,
        q.opgeslagen.is_some(),
        None,
        BTreeMap::new(),
        None,
    )
    .await
}

/// Saves a new policy version, audited in the same transaction, and
/// reloads. The policy was made from the live school's: the save is
/// refused when another version is stored now.
async fn store_policy(
    state: &AppState,
    user: &CurrentUser,
    policy: &Policy,
    detail: String,
    back: &str,
) -> Result<Response, PageError> {
    let loaded = state.read()?.documents.policy.unwrap_or(0);
    state
        .save_setting(
            user,
            DocumentWrite::Policy(policy),
            Some(loaded),
            |version| format!("beleid versie {version}: {detail}"),
            "/instellingen/beleid",
        )
        .await?;
    state.reload().await?;
    Ok(Redirect::to(back).into_response())
}

/// Which keys differ between two policies, for the audit log.
fn changed_keys(old: &Policy, new: &Policy) -> Vec<String> {
    GROUPS
        .iter()
        .flat_map(|g| g.fields.iter())
        .filter(|def| val_text(&value_of(old, def.key)) != val_text(&value_of(new, def.key)))
        .map(|def| format!("{} = {}", def.key, val_text(&value_of(new, def.key))))
        .collect()
}

async fn save_policy_form(
    State(state): State<AppState>,
    Admin(user): Admin,
    Form(raw): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    require_admin(&user)?;
    let old = state.read()?.policy.clone();
    let mut new = old.clone();
    let mut errors = BTreeMap::new();
    for def in GROUPS.iter().flat_map(|g| g.fields.iter()) {
        let values: Vec<&str> = raw
            .iter()
            .filter(|(k, _)| k == def.key)
            .map(|(_, v)| v.as_str())
            .collect();
        if let Err(m) = set_value(&mut new, def.key, &values) {
            errors.insert(def.key.to_owned(), m);
        }
    }
    if errors.is_empty() {
        if let Err(e) = new.validate() {
            errors.insert(e.key, e.reason);
        }
    }
    if !errors.is_empty() {
        let page = policy_page(&state, &user, false, Some(&raw), errors, None).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    let changes = changed_keys(&old, &new);
    let detail = if changes.is_empty() {
        "ongewijzigd opgeslagen".to_owned()
    } else {
        changes.join("; ")
    };
    store_policy(
        &state,
        &user,
        &new,
        detail,
        "/instellingen/beleid?opgeslagen=1",
    )
    .await
}

async fn download_policy(
    State(state): State<AppState>,
    Admin(user): Admin,
) -> Result<Response, PageError> {
    require_admin(&user)?;
    let toml = aanwezig_import::policy_to_toml(&state.read()?.policy);
    user.audit(
        &state,
        AuditAction::Export,
        None,
        "beleid gedownload als TOML",
    )
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/toml; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"beleid.toml\"",
            ),
        ],
        toml,
    )
        .into_response())
}

async fn upload_policy(
    State(state): State<AppState>,
    Admin(user): Admin,
    mp: Multipart,
) -> Result<Response, PageError> {
    require_admin(&user)?;
    let fields = multipart_fields(mp).await?;
    let result = uploaded_text(&fields, "bestand").and_then(|(file, text)| {
        aanwezig_import::parse_policy(&text, &file)
            .map(|p| (file, p))
            .map_err(|e| e.to_string())
    });
    match result {
        Ok((file, policy)) => {
            store_policy(
                &state,
                &user,
                &policy,
                format!("beleidsbestand {file} ingelezen"),
                "/instellingen/beleid?opgeslagen=1",
            )
            .await
        }
        Err(m) => {
            let page = policy_page(&state, &user, false, None, BTreeMap::new(), Some(m)).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

// --- codes -------------------------------------------------------------------

struct CodeView {
    code: String,
    category: Category,
    label: &'static str,
    error: Option<String>,
}

impl CodeView {
    fn is(&self, c: &Category) -> bool {
        self.category == *c
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "settings_codes.html")]
struct CodesPage {
    layout: Layout,
    saved: bool,
    codes: Vec<CodeView>,
    categories: [Category; 9],
    new_code: String,
    new_category: String,
    error: Option<String>,
}

impl CodesPage {
    /// Whether a form of the page was refused (for the error summary).
    fn refused(&self) -> bool {
        self.error.is_some() || self.codes.iter().any(|r| r.error.is_some())
    }
}

async fn codes_page(
    state: &AppState,
    user: &CurrentUser,
    saved: bool,
    new: (String, String),
    error: Option<String>,
    row_error: Option<(String, String)>,
) -> Result<CodesPage, PageError> {
    let codes = state
        .read()?
        .policy
        .codes
        .iter()
        .map(|(code, c)| CodeView {
            code: code.clone(),
            category: *c,
            label: c.label_nl(),
            error: row_error
                .as_ref()
                .filter(|(rc, _)| rc == code)
                .map(|(_, m)| m.clone()),
        })
        .collect();
    Ok(CodesPage {
        layout: Layout::new(user, section::SETTINGS, "Absentiecodes"),
        saved,
        codes,
        categories: Category::ALL,
        new_code: new.0,
        new_category: new.1,
        error,
    })
}

async fn codes(
    State(state): State<AppState>,
    Admin(user): Admin,
    Query(q): Query<SavedQuery>,
) -> Result<CodesPage, PageError> {
    require_admin(&user)?;
    codes_page(
        &state,
        &user,
        q.opgeslagen.is_some(),
        (String::new(), String::new()),
        None,
        None,
    )
    .await
}

#[derive(Debug, Deserialize)]
struct CodeForm {
    code: String,
    #[serde(default)]
    categorie: String,
}

const CODES_SAVED: &str = "/instellingen/codes?opgeslagen=1";

async fn codes_error(
    state: &AppState,
    user: &CurrentUser,
    new: (String, String),
    error: Option<String>,
    row_error: Option<(String, String)>,
) -> Result<Response, PageError> {
    let page = codes_page(state, user, false, new, error, row_error).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

/// The policy with `change` applied to its codes, validated.
fn with_codes(
    state: &AppState,
    change: impl FnOnce(&mut BTreeMap<String, Category>) -> Result<String, String>,
) -> Result<Result<(Policy, String), String>, PageError> {
    let mut policy = state.read()?.policy.clone();
    let detail = match change(&mut policy.codes) {
        Ok(d) => d,
        Err(m) => return Ok(Err(m)),
    };
    if let Err(e) = policy.validate() {
        return Ok(Err(e.reason));
    }
    Ok(Ok((policy, detail)))
}

async fn add_code(
    State(state): State<AppState>,
    Admin(user): Admin,
    Form(form): Form<CodeForm>,
) -> Result<Response, PageError> {
    require_admin(&user)?;
    let code = form.code.trim().to_owned();
    let category = Category::parse(&form.categorie);
    let result = with_codes(&state, |codes| {
        if code.is_empty() {
            return Err("Vul een code in.".into());
        }
        if code.chars().count() > 16 || code.chars().any(char::is_whitespace) {
            return Err("Een code is 1 tot 16 tekens, zonder spaties.".into());
        }
        let c = category.ok_or("Kies een categorie voor de code.")?;
        if let Some(existing) = codes.get(&code) {
            return Err(format!(
                "Code {code} bestaat al (categorie: {}); wijzig hem in de tabel.",
                existing.label_nl()
            ));
        }
        codes.insert(code.clone(), c);
        Ok(format!("code {code} toegevoegd als {}", c.as_str()))
    })?;
    match result {
        Ok((policy, detail)) => store_policy(&state, &user, &policy, detail, CODES_SAVED).await,
        Err(m) => codes_error(&state, &user, (code, form.categorie), Some(m), None).await,
    }
}

async fn change_code(
    State(state): State<AppState>,
    Admin(user): Admin,
    Form(form): Form<CodeForm>,
) -> Result<Response, PageError> {
    require_admin(&user)?;
    let code = form.code.clone();
    let result = with_codes(&state, |codes| {
        let c = Category::parse(&form.categorie).ok_or("Kies een categorie.")?;
        let slot = codes
            .get_mut(&code)
            .ok_or("Deze code bestaat niet (meer).")?;
        *slot = c;
        Ok(format!("code {code} gewijzigd in {}", c.as_str()))
    })?;
    match result {
        Ok((policy, detail)) => store_policy(&state, &user, &policy, detail, CODES_SAVED).await,
        Err(m) => {
            codes_error(
                &state,
                &user,
                (String::new(), String::new()),
                None,
                Some((code, m)),
            )
            .await
        }
    }
}

async fn remove_code(
    State(state): State<AppState>,
    Admin(user): Admin,
    Form(form): Form<CodeForm>,
) -> Result<Response, PageError> {
    require_admin(&user)?;
    let code = form.code.clone();
    let result = with_codes(&state, |codes| {
        codes
            .remove(&code)
            .ok_or("Deze code bestaat niet (meer).")?;
        Ok(format!("code {code} verwijderd"))
    })?;
    match result {
        Ok((policy, detail)) => store_policy(&state, &user, &policy, detail, CODES_SAVED).await,
        Err(m) => {
            codes_error(
                &state,
                &user,
                (String::new(), String::new()),
                None,
                Some((code, m)),
            )
            .await
        }
    }
}

#[derive(Debug, Deserialize)]
struct PresetForm {
    naam: String,
}

async fn load_preset(
    State(state): State<AppState>,
    Admin(user): Admin,
    Form(form): Form<PresetForm>,
) -> Result<Response, PageError> {
    require_admin(&user)?;
    let (text, file) = match form.naam.as_str() {
        "magister" => (PRESET_MAGISTER, "magister.toml"),
        "somtoday" => (PRESET_SOMTODAY, "somtoday.toml"),
        _ => return Err(PageError::NotFound),
    };
    let preset = aanwezig_import::parse_policy(text, file)
        .map_err(|e| PageError::Internal(e.to_string()))?;
    let result = with_codes(&state, |codes| {
        *codes = preset.codes;
        Ok(format!(
            "codes vervangen door de voorbeeldlijst {} ({} codes)",
            form.naam,
            codes.len()
        ))
    })?;
    match result {
        Ok((policy, detail)) => store_policy(&state, &user, &policy, detail, CODES_SAVED).await,
        Err(m) => codes_error(&state, &user, (String::new(), String::new()), Some(m), None).await,
    }
}

/// `/instellingen` and its subpages.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/instellingen", get(overview))
        .route("/instellingen/kalender", get(calendar))
        .route("/instellingen/kalender/vrije-dag", post(add_free_day))
        .route(
            "/instellingen/kalender/vrije-dag/verwijderen",
            post(remove_free_day),
        )
        .route("/instellingen/kalender/schooljaar", post(edit_year))
        .route("/instellingen/kalender/bestand", post(upload_calendar))
        .route(
            "/instellingen/kalender/rijksoverheid",
            post(import_rijksoverheid),
        )
        .route("/instellingen/beleid", get(policy).post(save_policy_form))
        .route("/instellingen/beleid/beleid.toml", get(download_policy))
        .route("/instellingen/beleid/bestand", post(upload_policy))
        .route("/instellingen/codes", get(codes).post(add_code))
        .route("/instellingen/codes/wijzigen", post(change_code))
        .route("/instellingen/codes/verwijderen", post(remove_code))
        .route("/instellingen/codes/voorinstelling", post(load_preset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_policy_field_reads_and_writes_its_key() {
        let mut p = Policy::default();
        for def in GROUPS.iter().flat_map(|g| g.fields.iter()) {
            let v = value_of(&p, def.key);
            let owned: Vec<String> = match &v {
                Val::Bool(true) => vec!["ja".into()],
                Val::Bool(false) => vec![],
                Val::Text(t) => vec![t.clone()],
                Val::Late(_) => vec!["minutes".into()],
                Val::Cats(c) => c.iter().map(|c| c.as_str().to_owned()).collect(),
            };
            let refs: Vec<&str> = owned.iter().map(String::as_str).collect();
            set_value(&mut p, def.key, &refs).unwrap_or_else(|e| panic!("{}: {e}", def.key));
        }
        assert_eq!(p, Policy::default(), "a round trip changes nothing");
    }

    #[test]
    fn lesson_schedules_parse() {
        let l = parse_lessons("2 50\n1 100 08:30\n\n").unwrap_or_default();
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].number, 1);
        assert_eq!(l[0].start.as_deref(), Some("08:30"));
        assert!(parse_lessons("1 vijftig").is_err());
        assert!(parse_lessons("1 50 8u").is_err());
        assert!(parse_lessons("").is_err());
    }
}
