//! Matrix rows for contact moments, agreements, their e-mail and the printable report, and the mail settings: see `matrix.rs` for the columns and the rules.

use aanwezig_domain::case::{Agreement, AgreementParty, ContactKind, ContactMoment, Party};
use aanwezig_domain::{Role, StudentId};

use crate::common::TestApp;
use crate::matrix::{get, post, posts, Ctx, Row, A, F, L, N, O};

/// Extra fixtures and placeholders this area's rows need (runs after the
/// shared cases of `{own}` and `{other}` exist): `{own}`'s case gets
/// contact moment 1 and agreement 1 (numbers in addresses count from 1).
pub(crate) async fn prepare(app: &TestApp, ctx: &mut Ctx) {
    let id = StudentId::parse(&ctx.own).unwrap();
    let mut case = app.store.case(&id).await.unwrap().unwrap();
    let by = aanwezig_domain::case::Actor::new("mentor", Role::Mentor);
    let contact = case
        .add_contact(ContactMoment {
            on: crate::common::today(),
            kind: ContactKind::Telefoon,
            minutes: Some(10),
            participants: vec![Party::Ouders, Party::School],
            by,
            guide: None,
            answers: Vec::new(),
            note: String::new(),
        })
        .unwrap();
    case.add_agreement(Agreement {
        who: AgreementParty::Parents,
        what: "Bellen bij een ziekmelding".into(),
        made_on: crate::common::today(),
        by_when: None,
        contact: Some(contact),
        kept: Vec::new(),
    })
    .unwrap();
    app.store
        .save_case(&case, "mentor", crate::common::now())
        .await
        .unwrap();
}

const NOTHING: &[(&str, &str)] = &[];

#[rustfmt::skip]
pub(crate) fn rows() -> Vec<Row> {
    let mut rows = vec![
        // --- contact moments, agreements, report ----------------------------------  anon beheer coord zorg mentor lpa arts keten
        get("/leerlingen/{own}/dossier/contact/nieuw",                                  [L, F, O, O, O, N, F, F]),
        get("/leerlingen/{own}/dossier/contact/nieuw?leidraad=C",                       [L, F, O, O, O, N, F, F]),
        get("/leerlingen/{other}/dossier/contact/nieuw?leidraad=A",                     [L, F, O, O, N, N, N, N]),
        get("/leerlingen/{own}/dossier/contact/1",                                      [L, F, O, O, O, N, O, O]),
        get("/leerlingen/{own}/dossier/contact/0",                                      [L, F, N, N, N, N, N, N]),
        get("/leerlingen/{own}/dossier/contact/99",                                     [L, F, N, N, N, N, N, N]),
        get("/leerlingen/{own}/dossier/contact/een",                                    [L, F, N, N, N, N, N, N]),
        get("/leerlingen/{other}/dossier/contact/1",                                    [L, F, N, N, N, N, N, N]),
        get("/leerlingen/{own}/dossier/afspraken",                                      [L, F, O, O, O, N, O, O]),
        get("/leerlingen/{own}/dossier/afspraken?verstuurd=x",                          [L, F, N, N, N, N, N, N]),
        get("/leerlingen/{other}/dossier/afspraken",                                    [L, F, O, O, N, N, N, N]),
        get("/leerlingen/{own}/dossier/verslag",                                        [L, F, O, O, O, N, O, O]),
        get("/leerlingen/{other}/dossier/verslag",                                      [L, F, O, O, N, N, N, N]),
        get("/instellingen/email",                                                      [L, O, F, F, F, F, F, F]),
        // Empty forms: refused by role and scope first, then by validation.
        post("/leerlingen/{other}/dossier/contact/nieuw",      NOTHING, true,           [L, F, A, A, N, N, N, N]),
        post("/leerlingen/{other}/dossier/afspraken",          NOTHING, true,           [L, F, A, A, N, N, N, N]),
    ];
    rows.extend(posts("/leerlingen/{own}/dossier/contact/nieuw",        NOTHING,        [L, F, A, A, A, N, F, F]));
    rows.extend(posts("/leerlingen/{own}/dossier/afspraken",            NOTHING,        [L, F, A, A, A, N, F, F]));
    rows.extend(posts("/leerlingen/{own}/dossier/afspraken/1/controle", NOTHING,        [L, F, A, A, A, N, F, F]));
    rows.extend(posts("/leerlingen/{own}/dossier/afspraken/versturen",  NOTHING,        [L, F, A, A, A, N, F, F]));
    rows.extend(posts("/leerlingen/{own}/dossier/ouders",               NOTHING,        [L, F, A, A, A, N, F, F]));
    rows.extend(posts("/instellingen/email",                            NOTHING,        [L, A, F, F, F, F, F, F]));
    rows.extend(posts("/instellingen/email/test",                       NOTHING,        [L, A, F, F, F, F, F, F]));
    rows
}
