//! `/instellingen/codes`: the mapping of the school's absence codes to categories, and the Magister and Somtoday presets.

use std::collections::BTreeMap;

use aanwezig_domain::{Category, Policy};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Form;
use serde::Deserialize;

use super::calendar::SavedQuery;
use super::policy::store_policy;
use crate::auth::CurrentUser;
use crate::error::PageError;
use crate::guard::ManageSettings;
use crate::layout::{section, Layout};
use crate::state::AppState;

/// The Magister and Somtoday presets shipped in the repository.
const PRESET_MAGISTER: &str = include_str!("../../../../../data/policy/magister.toml");
const PRESET_SOMTODAY: &str = include_str!("../../../../../data/policy/somtoday.toml");

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
pub(super) struct CodesPage {
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

pub(super) async fn codes(
    State(state): State<AppState>,
    ManageSettings(user): ManageSettings,
    Query(q): Query<SavedQuery>,
) -> Result<CodesPage, PageError> {
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
pub(super) struct CodeForm {
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

pub(super) async fn add_code(
    State(state): State<AppState>,
    ManageSettings(user): ManageSettings,
    Form(form): Form<CodeForm>,
) -> Result<Response, PageError> {
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

pub(super) async fn change_code(
    State(state): State<AppState>,
    ManageSettings(user): ManageSettings,
    Form(form): Form<CodeForm>,
) -> Result<Response, PageError> {
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

pub(super) async fn remove_code(
    State(state): State<AppState>,
    ManageSettings(user): ManageSettings,
    Form(form): Form<CodeForm>,
) -> Result<Response, PageError> {
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
pub(super) struct PresetForm {
    naam: String,
}

pub(super) async fn load_preset(
    State(state): State<AppState>,
    ManageSettings(user): ManageSettings,
    Form(form): Form<PresetForm>,
) -> Result<Response, PageError> {
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
