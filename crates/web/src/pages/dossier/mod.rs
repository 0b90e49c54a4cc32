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
pub fn router() -> crate::routes::Routes {
    crate::routes::Routes::new()
        .get("/dossiers", list)
        .get("/leerlingen/{id}/dossier", page)
        .post("/leerlingen/{id}/dossier/openen", open)
        .post("/leerlingen/{id}/dossier/stap", move_step)
        .post("/leerlingen/{id}/dossier/checklist", checklist)
        .post("/leerlingen/{id}/dossier/partners", involve)
        .post("/leerlingen/{id}/dossier/dossierhouder", hand_over)
        .post("/leerlingen/{id}/dossier/partners/verwijderen", release)
        .post("/leerlingen/{id}/dossier/besluit", decide)
        .post("/leerlingen/{id}/dossier/interventie", start_intervention)
        .get("/leerlingen/{id}/dossier/interventie/{n}", intervention)
        .post(
            "/leerlingen/{id}/dossier/interventie/{n}/evaluatie",
            evaluate,
        )
        .post(
            "/leerlingen/{id}/dossier/interventie/{n}/beeindigen",
            end_intervention,
        )
        .post("/leerlingen/{id}/dossier/sluiten", close)
        .post("/leerlingen/{id}/dossier/heropenen", reopen)
        .post("/leerlingen/{id}/dossier/notitie", note)
        .get("/leerlingen/{id}/dossier/contact/nieuw", contact_new)
        .post("/leerlingen/{id}/dossier/contact/nieuw", contact_save)
        .get("/leerlingen/{id}/dossier/contact/{n}", contact_show)
        .get("/leerlingen/{id}/dossier/afspraken", agreements_show)
        .post("/leerlingen/{id}/dossier/afspraken", agreement_add)
        .post(
            "/leerlingen/{id}/dossier/afspraken/{n}/controle",
            agreement_check,
        )
        .post(
            "/leerlingen/{id}/dossier/afspraken/versturen",
            agreements_send,
        )
        .post("/leerlingen/{id}/dossier/ouders", parents_save)
        .get("/leerlingen/{id}/dossier/verslag", report)
}
