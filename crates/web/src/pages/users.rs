//! Gebruikers (beheerder only): the list of accounts, adding one, changing
//! role, name, classes, e-mail and whether it is active, setting a new
//! password, and removing an account. The page parses and checks the
//! forms and renders; the use cases (permission, store, sessions, audit)
//! are `aanwezig_app::users`, shared with `aanwezig user`.
//!
//! Passwords are generated here, never chosen by the beheerder, and shown
//! exactly once: the store keeps only the argon2id hash and the audit log
//! records that a password was set, never the password. Deactivating an
//! account or giving it a new password ends all its sessions.

use std::collections::{BTreeSet, HashMap};

use aanwezig_app::users as uc;
use aanwezig_app::AppError;
use aanwezig_domain::Role;
use aanwezig_storage::User;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::error::PageError;
use crate::guard::ManageUsers;
use crate::layout::{section, Layout};
use crate::state::AppState;

fn when(t: DateTime<Utc>) -> String {
    super::student::local_time_nl(t)
}

/// Capitalises the first letter of a message from `aanwezig_auth`.
fn sentence(m: &str) -> String {
    let mut c = m.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect::<String>() + ".",
        None => String::new(),
    }
}

struct RoleOption {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

fn role_options(selected: &str) -> Vec<RoleOption> {
    Role::ALL
        .into_iter()
        .map(|r| RoleOption {
            value: r.as_str(),
            label: r.label_nl(),
            selected: r.as_str() == selected,
        })
        .collect()
}

/// The classes of the school's students, sorted.
fn school_classes(state: &AppState) -> Result<Vec<String>, PageError> {
    let live = state.read()?;
    let set: BTreeSet<String> = live
        .school
        .students()
        .iter()
        .map(|s| s.class.clone())
        .collect();
    Ok(set.into_iter().collect())
}

// --- list ------------------------------------------------------------------

struct UserRow {
    username: String,
    name: String,
    role: &'static str,
    classes: String,
    email: String,
    active: bool,
    changed: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "users.html")]
struct UsersPage {
    layout: Layout,
    users: Vec<UserRow>,
    /// After a change or a removal: the confirmation.
    notice: Option<String>,
}

/// Set after a saved change (`opgeslagen`) or a removal (`verwijderd`),
/// with the account's username.
#[derive(Debug, Default, Deserialize)]
struct Done {
    opgeslagen: Option<String>,
    verwijderd: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    ManageUsers(user): ManageUsers,
    Query(done): Query<Done>,
) -> Result<UsersPage, PageError> {
    let actor = user.actor();
    let users = uc::list(&*state.store, &actor).await?;
    let latest = uc::latest_changes(&*state.store, &actor).await?;
    let users = users
        .into_iter()
        .map(|u| UserRow {
            changed: when(latest.get(&u.username).copied().unwrap_or(u.created_at)),
            name: u.display_name,
            role: u.role.label_nl(),
            classes: u.classes.join(", "),
            email: u.email.unwrap_or_default(),
            active: u.active,
            username: u.username,
        })
        .collect();
    let notice = match (done.opgeslagen, done.verwijderd) {
        (Some(n), _) => Some(format!("De wijzigingen van {n} zijn opgeslagen.")),
        (None, Some(n)) => Some(format!("Gebruiker {n} is verwijderd.")),
        (None, None) => None,
    };
    Ok(UsersPage {
        layout: Layout::new(&user, section::USERS, "Gebruikers"),
        users,
        notice,
    })
}

// --- the form ----------------------------------------------------------------

/// What the new-user and edit forms submit.
#[derive(Debug, Default, Deserialize)]
struct UserForm {
    #[serde(default)]
    gebruikersnaam: String,
    #[serde(default)]
    naam: String,
    #[serde(default)]
    rol: String,
    #[serde(default)]
    klassen: String,
    #[serde(default)]
    email: String,
    /// The "actief" checkbox (edit form only).
    actief: Option<String>,
}

/// A valid form, ready to store.
struct Checked {
    name: String,
    role: Role,
    classes: Vec<String>,
    email: Option<String>,
}

type FieldErrors = HashMap<&'static str, String>;

fn check_form(form: &UserForm, known_classes: &[String]) -> Result<Checked, FieldErrors> {
    let mut errors = FieldErrors::new();
    let name = form.naam.trim().to_owned();
    if name.is_empty() {
        errors.insert("naam", "Vul de naam in.".into());
    } else if name.chars().count() > 100 {
        errors.insert("naam", "De naam is te lang (hoogstens 100 tekens).".into());
    }
    let role = Role::parse(&form.rol);
    if role.is_none() {
        errors.insert("rol", "Kies een rol.".into());
    }
    let mut classes: Vec<String> = Vec::new();
    if role == Some(Role::Mentor) {
        for c in form
            .klassen
            .split([',', ';'])
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            let known = known_classes.iter().find(|k| k.eq_ignore_ascii_case(c));
            let c = known.cloned().unwrap_or_else(|| c.to_owned());
            if !classes.contains(&c) {
                classes.push(c);
            }
        }
        if classes.is_empty() {
            errors.insert(
                "klassen",
                "Een mentor heeft minstens één klas: vul de klassen in, gescheiden door komma's."
                    .into(),
            );
        } else if !known_classes.is_empty() {
            let unknown: Vec<&str> = classes
                .iter()
                .filter(|c| !known_classes.contains(c))
                .map(String::as_str)
                .collect();
            if !unknown.is_empty() {
                errors.insert(
                    "klassen",
                    format!(
                        "{}: {}.",
                        if unknown.len() == 1 {
                            "Deze klas bestaat niet op school"
                        } else {
                            "Deze klassen bestaan niet op school"
                        },
                        unknown.join(", ")
                    ),
                );
            }
        }
    }
    let email = form.email.trim();
    let email = if email.is_empty() {
        None
    } else if email.len() > 254
        || email.chars().any(char::is_whitespace)
        || !email
            .split_once('@')
            .is_some_and(|(a, b)| !a.is_empty() && b.contains('.'))
    {
        errors.insert("email", "Dit is geen geldig e-mailadres.".into());
        None
    } else {
        Some(email.to_owned())
    };
    match role {
        Some(role) if errors.is_empty() => Ok(Checked {
            name,
            role,
            classes,
            email,
        }),
        _ => Err(errors),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "users_form.html")]
struct UserFormPage {
    layout: Layout,
    /// `None` for a new user.
    existing: Option<String>,
    form: UserForm,
    active: bool,
    roles: Vec<RoleOption>,
    known_classes: String,
    errors: FieldErrors,
    created: String,
    /// The beheerder's own account (which they cannot remove here).
    myself: bool,
}

impl UserFormPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.get(field).map(String::as_str)
    }

    fn summary(&self) -> Vec<crate::layout::ErrorLink> {
        crate::layout::error_links(
            &[
                ("gebruikersnaam", "u-gebruikersnaam"),
                ("naam", "u-naam"),
                ("rol", "u-rol"),
                ("klassen", "u-klassen"),
                ("email", "u-email"),
                ("actief", "u-actief"),
                ("bevestigen", "u-bevestigen"),
            ],
            |f| self.error(f),
        )
    }
}

fn form_page(
    user: &CurrentUser,
    existing: Option<&User>,
    form: UserForm,
    active: bool,
    known_classes: &[String],
    errors: FieldErrors,
) -> UserFormPage {
    let title = match existing {
        Some(u) => format!("Gebruiker {}", u.username),
        None => "Nieuwe gebruiker".to_owned(),
    };
    UserFormPage {
        layout: Layout::new(user, section::USERS, title),
        existing: existing.map(|u| u.username.clone()),
        roles: role_options(&form.rol),
        form,
        active,
        known_classes: known_classes.join(", "),
        errors,
        created: existing.map(|u| when(u.created_at)).unwrap_or_default(),
        myself: existing.is_some_and(|u| u.username == user.user.username),
    }
}

fn invalid(page: UserFormPage) -> Response {
    (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "users_password.html")]
struct PasswordPage {
    layout: Layout,
    username: String,
    name: String,
    password: String,
    new_account: bool,
}

async fn hash(password: String) -> Result<String, PageError> {
    tokio::task::spawn_blocking(move || aanwezig_auth::hash_password(&password))
        .await
        .map_err(|e| PageError::Internal(e.to_string()))?
        .map_err(|e| PageError::Internal(e.to_string()))
}

// --- new -------------------------------------------------------------------

async fn new_form(
    State(state): State<AppState>,
    ManageUsers(user): ManageUsers,
) -> Result<UserFormPage, PageError> {
    let classes = school_classes(&state)?;
    let form = UserForm {
        rol: Role::Mentor.as_str().to_owned(),
        ..UserForm::default()
    };
    Ok(form_page(
        &user,
        None,
        form,
        true,
        &classes,
        FieldErrors::new(),
    ))
}

async fn create(
    State(state): State<AppState>,
    ManageUsers(user): ManageUsers,
    Form(mut form): Form<UserForm>,
) -> Result<Response, PageError> {
    let classes = school_classes(&state)?;
    form.gebruikersnaam = form.gebruikersnaam.trim().to_lowercase();
    let username = form.gebruikersnaam.clone();
    let checked = check_form(&form, &classes);
    let mut errors = match &checked {
        Ok(_) => FieldErrors::new(),
        Err(e) => e.clone(),
    };
    let actor = user.actor();
    if let Err(m) = aanwezig_auth::check_username(&username) {
        errors.insert("gebruikersnaam", sentence(&m));
    } else if uc::exists(&*state.store, &actor, &username).await? {
        errors.insert("gebruikersnaam", uc::taken(&username));
    }
    let checked = match checked {
        Ok(c) if errors.is_empty() => c,
        _ => {
            return Ok(invalid(form_page(
                &user, None, form, true, &classes, errors,
            )));
        }
    };
    let password = aanwezig_auth::generate_password();
    let new_user = uc::NewUser {
        username: username.clone(),
        display_name: checked.name.clone(),
        role: checked.role,
        classes: checked.classes,
        email: checked.email,
        password_hash: hash(password.clone()).await?,
    };
    match uc::add(&*state.store, &actor, new_user, state.clock.now()).await {
        Ok(_) => {}
        Err(AppError::Conflict(m)) => {
            let mut errors = FieldErrors::new();
            errors.insert("gebruikersnaam", m);
            return Ok(invalid(form_page(
                &user, None, form, true, &classes, errors,
            )));
        }
        Err(e) => return Err(e.into()),
    }
    Ok(PasswordPage {
        layout: Layout::new(&user, section::USERS, "Gebruiker aangemaakt"),
        username,
        name: checked.name,
        password,
        new_account: true,
    }
    .into_response())
}

// --- edit ------------------------------------------------------------------

async fn find(state: &AppState, user: &CurrentUser, naam: &str) -> Result<User, PageError> {
    Ok(uc::find(&*state.store, &user.actor(), naam).await?)
}

async fn edit_form(
    State(state): State<AppState>,
    ManageUsers(user): ManageUsers,
    Path(naam): Path<String>,
) -> Result<UserFormPage, PageError> {
    let existing = find(&state, &user, &naam).await?;
    edit_page(&state, &user, &existing, FieldErrors::new())
}

/// The edit form of `existing` as stored, with `errors`.
fn edit_page(
    state: &AppState,
    user: &CurrentUser,
    existing: &User,
    errors: FieldErrors,
) -> Result<UserFormPage, PageError> {
    let classes = school_classes(state)?;
    let form = UserForm {
        gebruikersnaam: existing.username.clone(),
        naam: existing.display_name.clone(),
        rol: existing.role.as_str().to_owned(),
        klassen: existing.classes.join(", "),
        email: existing.email.clone().unwrap_or_default(),
        actief: None,
    };
    Ok(form_page(
        user,
        Some(existing),
        form,
        existing.active,
        &classes,
        errors,
    ))
}

async fn update(
    State(state): State<AppState>,
    ManageUsers(user): ManageUsers,
    Path(naam): Path<String>,
    Form(mut form): Form<UserForm>,
) -> Result<Response, PageError> {
    let existing = find(&state, &user, &naam).await?;
    let classes = school_classes(&state)?;
    form.gebruikersnaam = existing.username.clone();
    let active = form.actief.is_some();
    let checked = check_form(&form, &classes);
    let mut errors = match &checked {
        Ok(_) => FieldErrors::new(),
        Err(e) => e.clone(),
    };
    let myself = existing.username == user.user.username;
    if myself && !active {
        errors.insert("actief", uc::NOT_YOURSELF_INACTIVE.into());
    }
    if myself && Role::parse(&form.rol) != Some(Role::Beheerder) {
        errors.insert("rol", uc::NOT_YOURSELF_ROLE.into());
    }
    let checked = match checked {
        Ok(c) if errors.is_empty() => c,
        _ => {
            return Ok(invalid(form_page(
                &user,
                Some(&existing),
                form,
                active,
                &classes,
                errors,
            )));
        }
    };
    let updated = User {
        display_name: checked.name,
        role: checked.role,
        classes: checked.classes,
        email: checked.email,
        active,
        ..existing.clone()
    };
    uc::change(
        &*state.store,
        &user.actor(),
        &existing,
        &updated,
        state.clock.now(),
    )
    .await?;
    Ok(Redirect::to(&format!(
        "/gebruikers?opgeslagen={}",
        crate::paths::segment(&updated.username)
    ))
    .into_response())
}

async fn reset_password(
    State(state): State<AppState>,
    ManageUsers(user): ManageUsers,
    Path(naam): Path<String>,
) -> Result<Response, PageError> {
    let existing = find(&state, &user, &naam).await?;
    let actor = user.actor();
    // The own account is refused before a password is made and hashed.
    if existing.username == user.user.username {
        return Err(PageError::BadRequest(uc::NOT_YOURSELF_PASSWORD.into()));
    }
    let password = aanwezig_auth::generate_password();
    let password_hash = hash(password.clone()).await?;
    uc::set_password(
        &*state.store,
        &actor,
        &existing,
        password_hash,
        state.clock.now(),
    )
    .await?;
    let updated = existing;
    Ok(PasswordPage {
        layout: Layout::new(&user, section::USERS, "Nieuw wachtwoord"),
        username: updated.username,
        name: updated.display_name,
        password,
        new_account: false,
    }
    .into_response())
}

// --- remove ------------------------------------------------------------------

/// What the removal form submits: the confirmation checkbox.
#[derive(Debug, Default, Deserialize)]
struct RemoveForm {
    bevestigen: Option<String>,
}

/// `POST /gebruikers/{naam}/verwijderen`: removes the account for good,
/// with the one removal use case `aanwezig_app::users::remove` (shared
/// with `aanwezig user remove`): its involvements in case dossiers end today and are written
/// in each dossier's trail, then the account and its sessions go. The
/// audit log keeps its entries. A later account with the same username is
/// a new account with a new id and inherits nothing.
async fn remove(
    State(state): State<AppState>,
    ManageUsers(user): ManageUsers,
    Path(naam): Path<String>,
    Form(form): Form<RemoveForm>,
) -> Result<Response, PageError> {
    let existing = find(&state, &user, &naam).await?;
    if existing.username == user.user.username {
        return Err(PageError::BadRequest(uc::NOT_YOURSELF_REMOVE.into()));
    }
    if form.bevestigen.is_none() {
        let mut errors = FieldErrors::new();
        errors.insert(
            "bevestigen",
            "Vink aan dat u dit account wilt verwijderen.".into(),
        );
        return Ok(invalid(edit_page(&state, &user, &existing, errors)?));
    }
    uc::remove(
        &*state.store,
        &user.actor(),
        &existing,
        state.clock.today(),
        state.clock.now(),
    )
    .await
    .map_err(|e| match e {
        AppError::Store(e) => PageError::from_store(e, "een dossier", "/gebruikers"),
        other => other.into(),
    })?;
    Ok(Redirect::to(&format!(
        "/gebruikers?verwijderd={}",
        crate::paths::segment(&existing.username)
    ))
    .into_response())
}

/// `/gebruikers`, `/gebruikers/nieuw`, `/gebruikers/{naam}`.
pub fn router() -> crate::routes::Routes {
    crate::routes::Routes::new()
        .get("/gebruikers", list)
        .get("/gebruikers/nieuw", new_form)
        .post("/gebruikers/nieuw", create)
        .get("/gebruikers/{naam}", edit_form)
        .post("/gebruikers/{naam}", update)
        .post("/gebruikers/{naam}/wachtwoord", reset_password)
        .post("/gebruikers/{naam}/verwijderen", remove)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(role: &str, classes: &str, email: &str) -> UserForm {
        UserForm {
            gebruikersnaam: "x".into(),
            naam: "X".into(),
            rol: role.into(),
            klassen: classes.into(),
            email: email.into(),
            actief: None,
        }
    }

    #[test]
    fn a_mentor_needs_a_known_class() {
        let known = vec!["1a".to_owned(), "2b".to_owned()];
        assert!(check_form(&form("mentor", "", ""), &known)
            .err()
            .is_some_and(|e| e.contains_key("klassen")));
        assert!(check_form(&form("mentor", "3c", ""), &known)
            .err()
            .is_some_and(|e| e.contains_key("klassen")));
        let ok = check_form(&form("mentor", "1A, 2b,1a", ""), &known).ok();
        assert_eq!(ok.map(|c| c.classes), Some(vec!["1a".into(), "2b".into()]));
        let coord = check_form(&form("verzuimcoordinator", "1a", ""), &known).ok();
        assert_eq!(
            coord.map(|c| c.classes),
            Some(vec![]),
            "only mentors keep classes"
        );
    }

    #[test]
    fn email_is_checked() {
        assert!(check_form(&form("beheerder", "", "geen adres"), &[]).is_err());
        assert!(check_form(&form("beheerder", "", "a@school.nl"), &[]).is_ok());
    }
}
