//! Matrix rows for contact moments, agreements, their e-mail and the printable report, and the mail settings: see `matrix.rs` for the columns and the rules.

use aanwezig_domain::case::{Agreement, AgreementParty, ContactKind, ContactMoment, Party};
use aanwezig_domain::{Role, StudentId};

use crate::common::TestApp;
use aanwezig_app::Permission as P;

use crate::matrix::{can, get, post, posts, Ctx, Row, Target, A, CHANGE_CASE, N, O, READ_CASE};

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
    use Target::{Other, Own, School};
    let mut rows = vec![
        get("/leerlingen/{own}/dossier/contact/nieuw",                  can(Own, CHANGE_CASE, O)),
        get("/leerlingen/{own}/dossier/contact/nieuw?leidraad=C",       can(Own, CHANGE_CASE, O)),
        get("/leerlingen/{other}/dossier/contact/nieuw?leidraad=A",     can(Other, CHANGE_CASE, O)),
        get("/leerlingen/{own}/dossier/contact/1",                      can(Own, READ_CASE, O)),
        // No contact moment 0, 99 or "een"; {other}'s case has none.
        get("/leerlingen/{own}/dossier/contact/0",                      can(Own, READ_CASE, N)),
        get("/leerlingen/{own}/dossier/contact/99",                     can(Own, READ_CASE, N)),
        get("/leerlingen/{own}/dossier/contact/een",                    can(Own, READ_CASE, N)),
        get("/leerlingen/{other}/dossier/contact/1",                    can(Other, READ_CASE, N)),
        get("/leerlingen/{own}/dossier/afspraken",                      can(Own, READ_CASE, O)),
        // A "sent" notice for a sending that did not happen: 404.
        get("/leerlingen/{own}/dossier/afspraken?verstuurd=x",          can(Own, READ_CASE, N)),
        get("/leerlingen/{other}/dossier/afspraken",                    can(Other, READ_CASE, O)),
        get("/leerlingen/{own}/dossier/verslag",                        can(Own, READ_CASE, O)),
        get("/leerlingen/{other}/dossier/verslag",                      can(Other, READ_CASE, O)),
        get("/instellingen/email",                                      can(School, &[P::ManageSettings], O)),
        // Empty forms: refused by role and scope first, then by validation.
        post("/leerlingen/{other}/dossier/contact/nieuw",      NOTHING, true, can(Other, CHANGE_CASE, A)),
        post("/leerlingen/{other}/dossier/afspraken",          NOTHING, true, can(Other, CHANGE_CASE, A)),
    ];
    rows.extend(posts("/leerlingen/{own}/dossier/contact/nieuw",        NOTHING, can(Own, CHANGE_CASE, A)));
    rows.extend(posts("/leerlingen/{own}/dossier/afspraken",            NOTHING, can(Own, CHANGE_CASE, A)));
    rows.extend(posts("/leerlingen/{own}/dossier/afspraken/1/controle", NOTHING, can(Own, CHANGE_CASE, A)));
    rows.extend(posts("/leerlingen/{own}/dossier/afspraken/versturen",  NOTHING, can(Own, CHANGE_CASE, A)));
    rows.extend(posts("/leerlingen/{own}/dossier/ouders",               NOTHING, can(Own, CHANGE_CASE, A)));
    rows.extend(posts("/instellingen/email",                            NOTHING, can(School, &[P::ManageSettings], A)));
    rows.extend(posts("/instellingen/email/test",                       NOTHING, can(School, &[P::ManageSettings], A)));
    rows
}
