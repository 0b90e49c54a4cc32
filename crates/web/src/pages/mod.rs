//! The server-rendered pages, one module per area.

pub mod afstemming;
pub mod audit;
pub mod cache;
pub mod calls;
pub mod dashboard;
pub mod dossier;
pub mod import;
pub mod inzage;
pub mod meldingen;
pub mod reference;
pub mod register;
pub mod settings;
pub mod student;
pub mod students;
pub mod tasks;
pub mod users;

/// Every page route.
pub fn router() -> crate::routes::Routes {
    crate::routes::Routes::new()
        .merge(audit::router())
        .merge(dossier::router())
        .merge(meldingen::router())
        .merge(afstemming::router())
        .merge(calls::router())
        .merge(tasks::router())
        .merge(dashboard::router())
        .merge(import::router())
        .merge(inzage::router())
        .merge(register::router())
        .merge(student::router())
        .merge(students::router())
        .merge(reference::router())
        .merge(settings::router())
        .merge(users::router())
}
