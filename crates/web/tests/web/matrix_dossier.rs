//! Matrix rows for the case dossier pages (`/leerlingen/{id}/dossier…`, `/dossiers`): see `matrix.rs` for the columns and the rules.
//!
//! Every signed-in role but the beheerder has a dossier list (filtered to
//! what they may see). The dossier of `{own}` is read by the school's roles
//! and the partners brought in (jeugdarts, ketenpartner); the
//! leerplichtambtenaar, not brought in, gets 404 like for a missing
//! student. Only the school's roles change a case (referrals, decisions
//! and partners only the coordinators); partners are refused
//! (403) before the form is read, except the jeugdarts's own confidential
//! notes. The empty forms below change nothing: each is refused (422) by
//! the page, so the shared fixture stays as it is.

#![allow(unused_imports)]

use aanwezig_domain::case::{Actor, InterventionKind};
use aanwezig_domain::{MeldingStatus, Role, StudentId};
use aanwezig_storage::Store;

use crate::common::{now, start_intervention, store_melding, today, TestApp};
use crate::matrix::{get, post, posts, put, Ctx, Row, A, F, L, N, O, S, U};

/// Intervention 1 on `{own}`'s case, for the evaluation rows; `{lpa}`: a
/// student of another class than the mentor's with a registered DUO
/// melding (so the leerplichtambtenaar sees the student) and an open case
/// nobody external is brought into.
pub(crate) async fn prepare(app: &TestApp, ctx: &mut Ctx) {
    let third = {
        let live = app.state.read().unwrap();
        live.school
            .students()
            .iter()
            .rev()
            .find(|s| s.id.as_str() != ctx.own && s.id.as_str() != ctx.other && s.class != ctx.klas)
            .unwrap()
            .clone()
    };
    store_melding(app, &third, MeldingStatus::Geregistreerd).await;
    crate::common::open_case(app, third.id.as_str(), "4b", &[]).await;
    ctx.extra.push(("{lpa}".to_owned(), third.id.to_string()));

    start_intervention(app, &ctx.own, "elke ochtend melden", today()).await;
}

#[rustfmt::skip]
pub(crate) fn rows() -> Vec<Row> {
    const NOTHING: &[(&str, &str)] = &[];
    let mut rows = vec![
        // ------------------------------------------------------------------------------  anon beheer coord zorg mentor lpa arts keten
        get("/dossiers",                                                                [L, F, O, O, O, O, O, O]),
        get("/dossiers?status=alle",                                                    [L, F, O, O, O, O, O, O]),
        get("/leerlingen/{own}/dossier",                                                [L, F, O, O, O, N, O, O]),
        get("/leerlingen/{other}/dossier",                                              [L, F, O, O, N, N, N, N]),
        get("/leerlingen/onbekend-0/dossier",                                           [L, F, N, N, N, N, N, N]),
        get("/leerlingen/{own}/dossier/interventie/1",                                  [L, F, O, O, O, N, O, O]),
        get("/leerlingen/{own}/dossier/interventie/99",                                 [L, F, N, N, N, N, N, N]),
        get("/leerlingen/{own}/dossier/interventie/abc",                                [L, F, N, N, N, N, N, N]),
        // Leerplicht sees the student of a sent melding (the reduced page),
        // not the dossier they are not brought into.
        get("/leerlingen/{lpa}",                                                        [L, F, O, O, N, O, N, N]),
        get("/leerlingen/{lpa}/dossier",                                                [L, F, O, O, N, N, N, N]),
        get("/leerlingen/{other}/dossier/interventie/1",                                [L, F, N, N, N, N, N, N]),
    ];
    for path in [
        "/leerlingen/{own}/dossier/openen",
        "/leerlingen/{own}/dossier/stap",
        "/leerlingen/{own}/dossier/checklist",
        "/leerlingen/{own}/dossier/interventie",
        "/leerlingen/{own}/dossier/interventie/1/evaluatie",
        "/leerlingen/{own}/dossier/interventie/99/beeindigen",
        "/leerlingen/{own}/dossier/sluiten",
        "/leerlingen/{own}/dossier/heropenen",
    ] {
        rows.extend(posts(path,                                           NOTHING,        [L, F, A, A, A, N, F, F]));
    }
    // Referrals, decisions, partners and handing over: the coordinators only.
    for path in [
        "/leerlingen/{own}/dossier/partners",
        "/leerlingen/{own}/dossier/partners/verwijderen",
        "/leerlingen/{own}/dossier/besluit",
        "/leerlingen/{own}/dossier/dossierhouder",
    ] {
        rows.extend(posts(path,                                           NOTHING,        [L, F, A, A, F, N, F, F]));
    }
    rows.extend(posts("/leerlingen/{own}/dossier/interventie/abc/evaluatie", NOTHING,   [L, F, N, N, N, N, F, F]));
    rows.extend(posts("/leerlingen/{lpa}/dossier/besluit",              NOTHING,        [L, F, A, A, N, F, N, N]));
    rows.extend(posts("/leerlingen/{other}/dossier/stap",               NOTHING,        [L, F, A, A, N, N, N, N]));
    rows.extend(posts("/leerlingen/{other}/dossier/openen",             NOTHING,        [L, F, A, A, N, N, N, N]));
    rows.extend(posts("/leerlingen/{own}/dossier/notitie",              NOTHING,        [L, F, F, F, F, N, A, F]));
    rows.extend(posts("/leerlingen/{other}/dossier/notitie",            NOTHING,        [L, F, F, F, N, N, N, N]));
    rows
}
