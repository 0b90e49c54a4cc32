//! `/instellingen/kalender`: the school years, their lessons and free days, from the form, a file or the Rijksoverheid's holidays.

use std::collections::BTreeSet;

use aanwezig_domain::explain::{counted_nl, date_nl};
use aanwezig_domain::{Calendar, FreeDay, FreeDayKind, LessonSlot, SchoolYear};
use aanwezig_storage::{DocumentKind, DocumentWrite};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::NaiveDate;
use serde::Deserialize;

use super::policy::OptionView;
use super::{field_text, multipart_fields, VersionView};
use super::{uploaded_text, versions};
use crate::auth::CurrentUser;
use crate::error::PageError;
use crate::guard::ManageSettings;
use crate::layout::{section, Layout};
use crate::state::AppState;

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
pub(super) struct FreeDayForm {
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
pub(super) struct CalendarPage {
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
pub(super) struct SavedQuery {
    pub(super) opgeslagen: Option<String>,
}

pub(super) async fn calendar(
    State(state): State<AppState>,
    ManageSettings(user): ManageSettings,
    Query(q): Query<SavedQuery>,
) -> Result<CalendarPage, PageError> {
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

pub(super) async fn add_free_day(
    State(state): State<AppState>,
    ManageSettings(user): ManageSettings,
    Form(form): Form<FreeDayForm>,
) -> Result<Response, PageError> {
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
pub(super) struct RemoveForm {
    jaar: String,
    index: usize,
    naam: String,
}

pub(super) async fn remove_free_day(
    State(state): State<AppState>,
    ManageSettings(user): ManageSettings,
    Form(form): Form<RemoveForm>,
) -> Result<Response, PageError> {
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
pub(super) struct YearForm {
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

pub(super) async fn edit_year(
    State(state): State<AppState>,
    ManageSettings(user): ManageSettings,
    Form(form): Form<YearForm>,
) -> Result<Response, PageError> {
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

pub(super) async fn upload_calendar(
    State(state): State<AppState>,
    ManageSettings(user): ManageSettings,
    mp: Multipart,
) -> Result<Response, PageError> {
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

pub(super) async fn import_rijksoverheid(
    State(state): State<AppState>,
    ManageSettings(user): ManageSettings,
    mp: Multipart,
) -> Result<Response, PageError> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
