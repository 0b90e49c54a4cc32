//! `/instellingen/beleid`: the attendance policy as a form, as a file to download and to upload.

use std::collections::BTreeMap;

use aanwezig_domain::{Category, CategorySet, LateCounts, Policy};
use aanwezig_storage::{AuditAction, DocumentKind, DocumentWrite};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Multipart, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;

use super::calendar::SavedQuery;
use super::multipart_fields;
use super::policy_fields::{set_value, value_of, FieldDef, Kind, Val, GROUPS};
use super::{uploaded_text, versions, VersionView};
use crate::auth::CurrentUser;
use crate::error::PageError;
use crate::guard::ManageSettings;
use crate::layout::{section, Layout};
use crate::state::AppState;

pub(super) struct OptionView {
    pub(super) value: &'static str,
    pub(super) label: &'static str,
    pub(super) checked: bool,
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
pub(super) struct PolicyPage {
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

pub(super) async fn policy(
    State(state): State<AppState>,
    ManageSettings(user): ManageSettings,
    Query(q): Query<SavedQuery>,
) -> Result<PolicyPage, PageError> {
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
pub(super) async fn store_policy(
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

pub(super) async fn save_policy_form(
    State(state): State<AppState>,
    ManageSettings(user): ManageSettings,
    Form(raw): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
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

pub(super) async fn download_policy(
    State(state): State<AppState>,
    ManageSettings(user): ManageSettings,
) -> Result<Response, PageError> {
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

pub(super) async fn upload_policy(
    State(state): State<AppState>,
    ManageSettings(user): ManageSettings,
    mp: Multipart,
) -> Result<Response, PageError> {
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
