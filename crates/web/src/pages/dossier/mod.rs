//! The case dossier, one module per part of the step plan.
//!
//! `/dossiers` lists the cases (`list`); under `/leerlingen/{id}/dossier`
//! one student's case: the page itself (`view`, with the signals and DUO
//! work it offers in `signals`), opening and moving between steps with
//! the checklists (`steps`), external partners and the jeugdarts's
//! confidential notes (`partners`), referrals and decisions
//! (`decisions`), interventions and their evaluations
//! (`interventions`), contact moments with the conversation guides
//! (`contacts`), agreements with their weekly checks (`agreements`),
//! sharing agreements by e-mail (`mailings`) and the printable report
//! (`report`).
//!
//! Every change goes through [`crate::dossier::update`]: loaded in scope,
//! changed with the domain's method and saved (a new version, an audit
//! entry, the engine's view updated), one change at a time.

mod agreements;
mod contacts;
mod decisions;
mod forms;
mod interventions;
mod list;
mod mailings;
mod partners;
mod records;
mod report;
mod signals;
mod steps;
mod view;

use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;
use agreements::{agreement_add, agreement_check, agreements_show};
use contacts::{contact_new, contact_save, contact_show};
use decisions::decide;
use interventions::{end_intervention, evaluate, intervention, start_intervention};
use list::list;
use mailings::{agreements_send, parents_save};
use partners::{hand_over, involve, note, release};
use report::report;
use steps::{checklist, close, move_step, open, reopen};
use view::page;

/// This area's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/dossiers", get(list))
        .route("/leerlingen/{id}/dossier", get(page))
        .route("/leerlingen/{id}/dossier/openen", post(open))
        .route("/leerlingen/{id}/dossier/stap", post(move_step))
        .route("/leerlingen/{id}/dossier/checklist", post(checklist))
        .route("/leerlingen/{id}/dossier/partners", post(involve))
        .route("/leerlingen/{id}/dossier/dossierhouder", post(hand_over))
        .route(
            "/leerlingen/{id}/dossier/partners/verwijderen",
            post(release),
        )
        .route("/leerlingen/{id}/dossier/besluit", post(decide))
        .route(
            "/leerlingen/{id}/dossier/interventie",
            post(start_intervention),
        )
        .route(
            "/leerlingen/{id}/dossier/interventie/{n}",
            get(intervention),
        )
        .route(
            "/leerlingen/{id}/dossier/interventie/{n}/evaluatie",
            post(evaluate),
        )
        .route(
            "/leerlingen/{id}/dossier/interventie/{n}/beeindigen",
            post(end_intervention),
        )
        .route("/leerlingen/{id}/dossier/sluiten", post(close))
        .route("/leerlingen/{id}/dossier/heropenen", post(reopen))
        .route("/leerlingen/{id}/dossier/notitie", post(note))
        .route(
            "/leerlingen/{id}/dossier/contact/nieuw",
            get(contact_new).post(contact_save),
        )
        .route("/leerlingen/{id}/dossier/contact/{n}", get(contact_show))
        .route(
            "/leerlingen/{id}/dossier/afspraken",
            get(agreements_show).post(agreement_add),
        )
        .route(
            "/leerlingen/{id}/dossier/afspraken/{n}/controle",
            post(agreement_check),
        )
        .route(
            "/leerlingen/{id}/dossier/afspraken/versturen",
            post(agreements_send),
        )
        .route("/leerlingen/{id}/dossier/ouders", post(parents_save))
        .route("/leerlingen/{id}/dossier/verslag", get(report))
}
