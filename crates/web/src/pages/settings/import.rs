//! Instellingen → Import: how the school's registrations exports are read,
//! saved once so that every import reads them the same way (the Importeren
//! page, the watched folder, `aanwezig import`).
//!
//! The system the export comes from (aanwezig's own format, Magister,
//! Somtoday), whether it holds absences only, and the header name of any
//! column no built-in name covers. Stored as a JSON document
//! ([`DocumentKind::Import`], every version kept). Beheerder and
//! verzuimcoördinator (those who import); every change is audited.

use std::collections::HashMap;

use aanwezig_domain::Presence;
use aanwezig_import::mapping::FIELDS;
use aanwezig_import::{Format, ImportSettings};
use aanwezig_storage::DocumentKind;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::error::PageError;
use crate::guard::EditImportSettings;
use crate::layout::{section, Layout};
use crate::pages::import::import_settings;
use crate::state::AppState;

/// The longest header name a school may save.
const MAX_NAME: usize = 100;

/// One column on the page: aanwezig's name, what it holds, the names it
/// already recognises, and the school's own name for it.
struct ColumnRow {
    name: &'static str,
    label: &'static str,
    known: String,
    value: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "settings_import.html")]
struct ImportSettingsPage {
    layout: Layout,
    formats: Vec<(&'static str, &'static str)>,
    format: &'static str,
    presence: &'static str,
    columns: Vec<ColumnRow>,
    error: Option<String>,
    saved: bool,
}

fn presence_value(p: Option<Presence>) -> &'static str {
    match p {
        None => "auto",
        Some(Presence::Implied) => "implied",
        Some(Presence::Registered) => "registered",
    }
}

/// The choice of [`presence_value`] in words, for the logboek.
fn presence_nl(p: Option<Presence>) -> &'static str {
    match p {
        None => "volgens het systeem",
        Some(Presence::Implied) => "alleen afwezigheid en te laat komen",
        Some(Presence::Registered) => "alle lessen",
    }
}

fn page(
    user: &CurrentUser,
    settings: &ImportSettings,
    values: Option<&HashMap<String, String>>,
    error: Option<String>,
    saved: bool,
) -> ImportSettingsPage {
    ImportSettingsPage {
        layout: Layout::new(user, section::SETTINGS, "Import"),
        formats: Format::ALL
            .iter()
            .map(|f| (f.as_str(), f.label_nl()))
            .collect(),
        format: settings.format.as_str(),
        presence: presence_value(settings.presence),
        columns: FIELDS
            .iter()
            .map(|f| ColumnRow {
                name: f.name,
                label: f.label_nl,
                known: std::iter::once(f.name)
                    .chain(f.aliases.iter().copied())
                    .collect::<Vec<_>>()
                    .join(", "),
                value: match values {
                    Some(v) => v.get(&format!("kolom_{}", f.name)).cloned(),
                    None => settings.columns.get(f.name).cloned(),
                }
                .unwrap_or_default(),
            })
            .collect(),
        error,
        saved,
    }
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct Shown {
    opgeslagen: Option<String>,
}

async fn show(
    State(state): State<AppState>,
    EditImportSettings(user): EditImportSettings,
    Query(q): Query<Shown>,
) -> Result<ImportSettingsPage, PageError> {
    let settings = import_settings(&state).await?;
    Ok(page(&user, &settings, None, None, q.opgeslagen.is_some()))
}

/// The settings a submitted form means, or why not.
fn from_form(form: &HashMap<String, String>) -> Result<ImportSettings, String> {
    let format = form
        .get("formaat")
        .and_then(|f| Format::parse(f))
        .ok_or("Kies uit welk systeem de exports komen.")?;
    let presence = match form.get("aanwezigheid").map(|p| p.trim()) {
        None | Some("auto") => None,
        Some("implied") => Some(Presence::Implied),
        Some("registered") => Some(Presence::Registered),
        Some(other) => return Err(format!("Onbekende keuze '{other}' voor aanwezigheid.")),
    };
    let mut settings = ImportSettings {
        format,
        presence,
        ..ImportSettings::default()
    };
    for f in FIELDS {
        let Some(v) = form.get(&format!("kolom_{}", f.name)) else {
            continue;
        };
        let v = v.trim();
        if v.is_empty() {
            continue;
        }
        if v.chars().count() > MAX_NAME || v.chars().any(char::is_control) {
            return Err(format!(
                "De kolomnaam bij '{}' is te lang of bevat vreemde tekens.",
                f.label_nl
            ));
        }
        settings.columns.insert(f.name.to_owned(), v.to_owned());
    }
    settings.validate().map_err(|e| {
        let mut c = e.chars();
        c.next()
            .map(|f| f.to_uppercase().chain(c).collect::<String>() + ".")
            .unwrap_or_default()
    })?;
    Ok(settings)
}

async fn save(
    State(state): State<AppState>,
    EditImportSettings(user): EditImportSettings,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let settings = match from_form(&form) {
        Ok(s) => s,
        Err(e) => {
            let shown = import_settings(&state).await?;
            return Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                page(&user, &shown, Some(&form), Some(e), false),
            )
                .into_response());
        }
    };
    let json = serde_json::to_string(&settings).map_err(|e| PageError::Internal(e.to_string()))?;
    let names: Vec<String> = settings
        .columns
        .iter()
        .map(|(c, n)| {
            let label = FIELDS
                .iter()
                .find(|f| f.name == c.as_str())
                .map_or(c.as_str(), |f| f.label_nl);
            format!("{label}: '{n}'")
        })
        .collect();
    // Checked against the version stored now and audited in the same
    // transaction.
    state
        .save_setting(
            &user,
            aanwezig_storage::DocumentWrite::Settings(DocumentKind::Import, &json),
            None,
            |version| {
                format!(
                    "importinstellingen versie {version}: {}, aanwezigheid: {}{}",
                    settings.format.label_nl(),
                    presence_nl(settings.presence),
                    if names.is_empty() {
                        String::new()
                    } else {
                        format!(", kolommen {}", names.join(", "))
                    }
                )
            },
            "/instellingen/import",
        )
        .await?;
    Ok(Redirect::to("/instellingen/import?opgeslagen=1").into_response())
}

/// `/instellingen/import`.
pub fn router() -> crate::routes::Routes {
    crate::routes::Routes::new()
        .get("/instellingen/import", show)
        .post("/instellingen/import", save)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_form_gives_settings_or_says_why_not() {
        let s = from_form(&form(&[
            ("formaat", "magister"),
            ("aanwezigheid", "auto"),
            ("kolom_student_id", " Lln nr "),
            ("kolom_date", ""),
        ]))
        .unwrap();
        assert_eq!(s.format, Format::Magister);
        assert_eq!(s.presence, None);
        assert_eq!(s.columns.len(), 1);
        assert_eq!(s.columns["student_id"], "Lln nr");
        assert!(from_form(&form(&[])).unwrap_err().contains("Kies"));
        let twice = from_form(&form(&[
            ("formaat", "canonical"),
            ("kolom_date", "Dag"),
            ("kolom_lesson", "dag"),
        ]))
        .unwrap_err();
        assert!(twice.starts_with("De kolomnaam 'dag' staat bij"), "{twice}");
        let implied = from_form(&form(&[
            ("formaat", "canonical"),
            ("aanwezigheid", "implied"),
        ]))
        .unwrap();
        assert_eq!(implied.presence, Some(Presence::Implied));
    }
}
