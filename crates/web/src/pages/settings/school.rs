//! Instellingen → School: the school's name, BRIN and vestiging (for DUO
//! meldingen) and the telephone number a melding names for its reporter.
//!
//! Stored as a JSON document ([`DocumentKind::School`], every version kept;
//! the document type is the domain's [`SchoolSettings`]); DUO melding
//! drafts take BRIN, vestiging and phone from the latest one.
//! Beheerder only; every change is audited as Settings.

use std::collections::HashMap;

use aanwezig_domain::duo::{is_brin, is_phone, is_vestiging};
use aanwezig_domain::school_settings::SchoolSettings;
use aanwezig_storage::{DocumentKind, DocumentWrite};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use crate::error::PageError;
use crate::guard::ManageSettings;
use crate::layout::{section, Layout};
use crate::state::AppState;

/// The latest school settings; empty ones when none were saved yet.
pub async fn school_settings(state: &AppState) -> Result<SchoolSettings, PageError> {
    match state.store.settings(DocumentKind::School).await? {
        None => Ok(SchoolSettings::default()),
        Some(json) => serde_json::from_str(&json)
            .map_err(|e| PageError::Internal(format!("schoolgegevens onleesbaar: {e}"))),
    }
}

/// What the form submits.
#[derive(Debug, Default, Deserialize)]
struct SchoolForm {
    /// The version the form was made from (`0`: none was stored).
    #[serde(default)]
    versie: String,
    #[serde(default)]
    naam: String,
    #[serde(default)]
    brin: String,
    #[serde(default)]
    vestiging: String,
    #[serde(default)]
    telefoon: String,
}

type FieldErrors = HashMap<&'static str, String>;

fn check(form: &SchoolForm) -> Result<SchoolSettings, FieldErrors> {
    let mut errors = FieldErrors::new();
    let name = form.naam.trim().to_owned();
    if name.is_empty() {
        errors.insert("naam", "Vul de naam van de school in.".into());
    } else if name.chars().count() > 200 {
        errors.insert("naam", "De naam is te lang (hoogstens 200 tekens).".into());
    }
    let brin = form.brin.trim().to_uppercase();
    if !is_brin(&brin) {
        errors.insert(
            "brin",
            "Een BRIN-nummer is 2 cijfers en 2 letters, bijvoorbeeld 12AB.".into(),
        );
    }
    let vestiging = form.vestiging.trim().to_owned();
    if !is_vestiging(&vestiging) {
        errors.insert(
            "vestiging",
            "Een vestigingsnummer is 2 cijfers, bijvoorbeeld 00.".into(),
        );
    }
    let phone = form.telefoon.trim().to_owned();
    if !phone.is_empty() && !is_phone(&phone) {
        errors.insert(
            "telefoon",
            "Dit is geen geldig telefoonnummer (minstens 10 cijfers).".into(),
        );
    }
    if errors.is_empty() {
        Ok(SchoolSettings {
            name,
            brin,
            vestiging,
            phone,
        })
    } else {
        Err(errors)
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "settings_school.html")]
struct SchoolPage {
    layout: Layout,
    /// The version shown, which the form carries back.
    versie: u32,
    naam: String,
    brin: String,
    vestiging: String,
    telefoon: String,
    errors: FieldErrors,
    saved: bool,
}

impl SchoolPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.get(field).map(String::as_str)
    }

    fn summary(&self) -> Vec<crate::layout::ErrorLink> {
        crate::layout::error_links(
            &[
                ("naam", "s-naam"),
                ("brin", "s-brin"),
                ("vestiging", "s-vestiging"),
                ("telefoon", "s-telefoon"),
            ],
            |f| self.error(f),
        )
    }
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct Shown {
    opgeslagen: Option<String>,
}

async fn show(
    State(state): State<AppState>,
    ManageSettings(user): ManageSettings,
    Query(q): Query<Shown>,
) -> Result<SchoolPage, PageError> {
    // The version first: what is shown is never older than it.
    let versie = state
        .store
        .document_version(DocumentKind::School)
        .await?
        .unwrap_or(0);
    let s = school_settings(&state).await?;
    Ok(SchoolPage {
        versie,
        layout: Layout::new(&user, section::SETTINGS, "Schoolgegevens"),
        naam: s.name,
        brin: s.brin,
        vestiging: s.vestiging,
        telefoon: s.phone,
        errors: FieldErrors::new(),
        saved: q.opgeslagen.is_some(),
    })
}

async fn save(
    State(state): State<AppState>,
    ManageSettings(user): ManageSettings,
    Form(form): Form<SchoolForm>,
) -> Result<Response, PageError> {
    match check(&form) {
        Err(errors) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            SchoolPage {
                versie: form.versie.trim().parse().unwrap_or(0),
                layout: Layout::new(&user, section::SETTINGS, "Schoolgegevens"),
                naam: form.naam,
                brin: form.brin,
                vestiging: form.vestiging,
                telefoon: form.telefoon,
                errors,
                saved: false,
            },
        )
            .into_response()),
        Ok(settings) => {
            let json =
                serde_json::to_string(&settings).map_err(|e| PageError::Internal(e.to_string()))?;
            state
                .save_setting(
                    &user,
                    DocumentWrite::Settings(DocumentKind::School, &json),
                    form.versie.trim().parse().ok(),
                    |version| {
                        format!(
                            "schoolgegevens versie {version}: {}, BRIN {}, vestiging {}",
                            settings.name, settings.brin, settings.vestiging
                        )
                    },
                    "/instellingen/school",
                )
                .await?;
            Ok(Redirect::to("/instellingen/school?opgeslagen=1").into_response())
        }
    }
}

/// `/instellingen/school`.
pub fn router() -> crate::routes::Routes {
    crate::routes::Routes::new()
        .get("/instellingen/school", show)
        .post("/instellingen/school", save)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brin_and_vestiging_formats() {
        assert!(is_brin("12AB"));
        for bad in ["", "12ab", "1AB", "AB12", "12ABC"] {
            assert!(!is_brin(bad), "{bad}");
        }
        let form = SchoolForm {
            naam: "Het Lyceum".into(),
            brin: " 12ab ".into(),
            vestiging: "00".into(),
            telefoon: String::new(),
            ..SchoolForm::default()
        };
        let ok = check(&form).expect("valid");
        assert_eq!(ok.brin, "12AB", "lower case is accepted and stored upper");
        let bad = SchoolForm {
            naam: String::new(),
            brin: "1234".into(),
            vestiging: "0".into(),
            telefoon: "123".into(),
            ..SchoolForm::default()
        };
        let errs = check(&bad).expect_err("invalid");
        let mut keys: Vec<&str> = errs.keys().copied().collect();
        keys.sort_unstable();
        assert_eq!(keys, ["brin", "naam", "telefoon", "vestiging"]);
    }
}
