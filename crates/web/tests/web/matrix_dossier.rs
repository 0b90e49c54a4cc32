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

use aanwezig_domain::MeldingStatus;

use crate::common::{start_intervention, store_melding, today, TestApp};
use aanwezig_app::Permission as P;

use crate::matrix::{
    can, get, posts, Ctx, Row, Target, A, CHANGE_CASE, N, O, PARTNERS, READ, READ_CASE,
};

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
    use Target::{Missing, Other, Own, SentMelding, School};
    const NOTHING: &[(&str, &str)] = &[];
    // The jeugdarts's own notes: the student, then the notes.
    const NOTE: &[P] = &[P::ReadStudent, P::ConfidentialNotes];
    let mut rows = vec![
        get("/dossiers",                                        can(School, &[P::ReadCase], O)),
        get("/dossiers?status=alle",                            can(School, &[P::ReadCase], O)),
        get("/leerlingen/{own}/dossier",                        can(Own, READ_CASE, O)),
        get("/leerlingen/{other}/dossier",                      can(Other, READ_CASE, O)),
        get("/leerlingen/onbekend-0/dossier",                   can(Missing, READ_CASE, O)),
        get("/leerlingen/{own}/dossier/interventie/1",          can(Own, READ_CASE, O)),
        // No intervention 99 or "abc": 404 past the checks.
        get("/leerlingen/{own}/dossier/interventie/99",         can(Own, READ_CASE, N)),
        get("/leerlingen/{own}/dossier/interventie/abc",        can(Own, READ_CASE, N)),
        // Leerplicht sees the student of a sent melding (the reduced page),
        // not the dossier they are not brought into.
        get("/leerlingen/{lpa}",                                can(SentMelding, READ, O)),
        get("/leerlingen/{lpa}/dossier",                        can(SentMelding, READ_CASE, O)),
        get("/leerlingen/{other}/dossier/interventie/1",        can(Other, READ_CASE, N)),
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
        rows.extend(posts(path, NOTHING, can(Own, CHANGE_CASE, A)));
    }
    // Referrals, decisions, partners and handing over: the coordinators only.
    for path in [
        "/leerlingen/{own}/dossier/partners",
        "/leerlingen/{own}/dossier/partners/verwijderen",
        "/leerlingen/{own}/dossier/besluit",
        "/leerlingen/{own}/dossier/dossierhouder",
    ] {
        rows.extend(posts(path, NOTHING, can(Own, PARTNERS, A)));
    }
    rows.extend(posts("/leerlingen/{own}/dossier/interventie/abc/evaluatie", NOTHING, can(Own, CHANGE_CASE, N)));
    rows.extend(posts("/leerlingen/{lpa}/dossier/besluit",              NOTHING, can(SentMelding, PARTNERS, A)));
    rows.extend(posts("/leerlingen/{other}/dossier/stap",               NOTHING, can(Other, CHANGE_CASE, A)));
    rows.extend(posts("/leerlingen/{other}/dossier/openen",             NOTHING, can(Other, CHANGE_CASE, A)));
    rows.extend(posts("/leerlingen/{own}/dossier/notitie",              NOTHING, can(Own, NOTE, A)));
    rows.extend(posts("/leerlingen/{other}/dossier/notitie",            NOTHING, can(Other, NOTE, A)));
    rows
}
