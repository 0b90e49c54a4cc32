//! What every page's frame needs: title, menu for the user's role, the
//! signed-in user and the CSRF token for forms.

use aanwezig_app::permission::{self, Permission};
use aanwezig_domain::Role;

use crate::auth::CurrentUser;

/// A menu entry.
#[derive(Clone, Debug)]
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub active: bool,
}

/// The signed-in user as the frame shows it.
#[derive(Clone, Debug)]
pub struct NavUser {
    pub name: String,
    pub role: String,
}

/// The frame of a page (`templates/base.html`).
#[derive(Clone, Debug)]
pub struct Layout {
    pub title: String,
    pub user: Option<NavUser>,
    pub csrf: String,
    pub nav: Vec<NavItem>,
}

/// Menu sections; a page names its own to mark it active.
pub mod section {
    pub const OVERVIEW: &str = "/";
    pub const STUDENTS: &str = "/leerlingen";
    pub const REGISTER: &str = "/registreren";
    pub const IMPORT: &str = "/importeren";
    pub const SETTINGS: &str = "/instellingen";
    pub const USERS: &str = "/gebruikers";
    pub const PLAN: &str = "/stappenplan";
    pub const GLOSSARY: &str = "/begrippen";
    pub const AUDIT: &str = "/auditlog";
    pub const TASKS: &str = "/taken";
    pub const DOSSIERS: &str = "/dossiers";
    pub const MELDINGEN: &str = "/meldingen";
}

fn menu(role: Role) -> Vec<(&'static str, &'static str)> {
    use section::*;
    let may = |p: Permission| permission::may(role, p);
    let mut items = Vec::new();
    if may(Permission::ListStudents) {
        items.push((OVERVIEW, "Weekoverzicht"));
        items.push((STUDENTS, "Leerlingen"));
    }
    if may(Permission::ReadCase) {
        items.push((TASKS, "Mijn taken"));
        items.push((DOSSIERS, "Dossiers"));
    }
    if may(Permission::ReadMeldingen) {
        items.push((MELDINGEN, "DUO-meldingen"));
    }
    if may(Permission::Register) {
        items.push((REGISTER, "Registreren"));
    }
    if may(Permission::Import) {
        items.push((IMPORT, "Importeren"));
    }
    if may(Permission::ManageSettings) {
        items.push((SETTINGS, "Instellingen"));
    }
    if may(Permission::ManageUsers) {
        items.push((USERS, "Gebruikers"));
    }
    if may(Permission::ReadAuditLog) {
        items.push((AUDIT, "Logboek"));
    }
    items.push((PLAN, "Stappenplan"));
    items.push((GLOSSARY, "Begrippen"));
    items
}

impl Layout {
    /// The frame for a signed-in user on the page of menu `section`.
    pub fn new(user: &CurrentUser, section: &str, title: impl Into<String>) -> Layout {
        Layout {
            title: title.into(),
            user: Some(NavUser {
                name: user.user.display_name.clone(),
                role: user.role().label_nl().to_owned(),
            }),
            csrf: user.csrf.clone(),
            nav: menu(user.role())
                .into_iter()
                .map(|(href, label)| NavItem {
                    href,
                    label,
                    active: href == section,
                })
                .collect(),
        }
    }

    /// The frame of a page seen before signing in.
    pub fn anonymous(title: impl Into<String>) -> Layout {
        Layout {
            title: title.into(),
            user: None,
            csrf: String::new(),
            nav: Vec::new(),
        }
    }
}

/// One line of a form's error summary (`templates/error_summary.html`,
/// the GOV.UK pattern): the message, linked to the field it is about.
#[derive(Clone, Debug)]
pub struct ErrorLink {
    /// The `id` of the field to jump to; `None` for a message about the
    /// whole form.
    pub target: Option<String>,
    pub message: String,
}

impl ErrorLink {
    pub fn new(target: Option<String>, message: impl Into<String>) -> ErrorLink {
        ErrorLink {
            target,
            message: message.into(),
        }
    }
}

/// The message of `field` among a form's `(field, message)` errors.
pub fn field_error<'a, F: AsRef<str>>(errors: &'a [(F, String)], field: &str) -> Option<&'a str> {
    errors
        .iter()
        .find(|(f, _)| f.as_ref() == field)
        .map(|(_, m)| m.as_str())
}

/// The error summary of a form whose fields have the id `f-<field>`: each
/// message linked to its field, in the form's order.
pub fn field_links<F: AsRef<str>>(errors: &[(F, String)]) -> Vec<ErrorLink> {
    errors
        .iter()
        .map(|(f, m)| ErrorLink::new(Some(format!("f-{}", f.as_ref())), m.clone()))
        .collect()
}

/// The error summary of a form whose messages are looked up by field
/// name: `fields` lists (field name, element id) in the form's order.
pub fn error_links<'a>(
    fields: &[(&str, &str)],
    error: impl Fn(&str) -> Option<&'a str>,
) -> Vec<ErrorLink> {
    fields
        .iter()
        .filter_map(|(field, id)| error(field).map(|m| ErrorLink::new(Some((*id).to_owned()), m)))
        .collect()
}
