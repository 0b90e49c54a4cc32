//! Matrix rows for DUO meldingen and the school settings (BRIN, vestiging): see `matrix.rs` for the columns and the rules.
//!
//! `prepare` stores two meldingen of a third student (neither `{own}` nor
//! `{other}`, so that the leerplichtambtenaar's scope in the other rows does
//! not change): `{melding}` registered (leerplicht reads it) and
//! `{concept}` a concept (leerplicht does not).

use aanwezig_domain::duo::{AbsenceDay, StatusChange};
use aanwezig_domain::{MeldingDraft, MeldingKind, MeldingStatus, Reporter, SchoolLocation};
use chrono::NaiveDate;

use crate::common::{store_melding, today, TestApp};
use aanwezig_app::Permission as P;

use crate::matrix::{can, get, posts, Ctx, Row, Target, Want, A, O};

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// A melding of `student` with the given status, straight for the store.
pub(crate) fn melding(student: &aanwezig_domain::Student, status: MeldingStatus) -> MeldingDraft {
    let registered = (status != MeldingStatus::Concept).then_some(today());
    MeldingDraft {
        kind: MeldingKind::Overig,
        student: student.id.clone(),
        student_name: student.name.clone(),
        date_of_birth: student.date_of_birth,
        begin: ymd(2025, 11, 10),
        end: ymd(2025, 11, 10),
        days: vec![AbsenceDay {
            date: ymd(2025, 11, 10),
            whole_day: false,
            lessons: vec![1, 2],
        }],
        late_arrivals: Vec::new(),
        all_lessons_missed: false,
        suspected_reason: "spijbelt".into(),
        explanation: None,
        leerplicht_action: None,
        actions_taken: vec!["10 nov 2025: telefoongesprek met ouders".into()],
        reporter: Reporter {
            name: "Test coordinator".into(),
            function: "verzuimcoördinator".into(),
            phone: "050 123 4567".into(),
            email: String::new(),
        },
        school: SchoolLocation {
            brin: "12AB".into(),
            vestiging: "00".into(),
        },
        status,
        deadline: ymd(2025, 11, 17),
        created_on: today(),
        registered_on: registered,
        history: registered
            .map(|on| {
                vec![StatusChange {
                    status: MeldingStatus::Geregistreerd,
                    on,
                }]
            })
            .unwrap_or_default(),
        source: None,
        duo_number: None,
        contact_phone: "06 1234 5678".into(),
        address: None,
        location_name: "Locatie Noord".into(),
        follows: None,
    }
}

/// Extra fixtures and placeholders this area's rows need (runs after the
/// shared cases of `{own}` and `{other}` exist).
pub(crate) async fn prepare(app: &TestApp, ctx: &mut Ctx) {
    let third = {
        let live = app.state.read().unwrap();
        live.school
            .students()
            .iter()
            .find(|s| s.id.as_str() != ctx.own && s.id.as_str() != ctx.other)
            .unwrap()
            .clone()
    };
    for (key, status) in [
        ("{melding}", MeldingStatus::Geregistreerd),
        ("{concept}", MeldingStatus::Concept),
    ] {
        let id = store_melding(app, &third, status).await;
        ctx.extra.push((key.to_owned(), id.to_string()));
    }
}

#[rustfmt::skip]
pub(crate) fn rows() -> Vec<Row> {
    use Target::{Missing, Other, Own, SentMelding, School};
    const NOTHING: &[(&str, &str)] = &[];
    const CONFLICT: Want = Want::Is(409);
    const READS: &[P] = &[P::ReadMeldingen];
    const MAKES: &[P] = &[P::ManageMeldingen];
    // {melding} was sent: leerplicht reads it. {concept} was not: for
    // leerplicht it is a melding of no student of theirs (404).
    let (sent, concept) = (SentMelding, Other);
    let mut rows = vec![
        get("/meldingen",                                       can(School, READS, O)),
        get("/meldingen/nieuw?leerling={own}",                  can(Own, MAKES, O)),
        get("/meldingen/nieuw?leerling=999999",                 can(Missing, MAKES, O)),
        get("/meldingen/{melding}",                             can(sent, READS, O)),
        get("/meldingen/{concept}",                             can(concept, READS, O)),
        get("/meldingen/999999",                                can(Missing, READS, O)),
        get("/meldingen/{melding}/afdruk",                      can(sent, READS, O)),
        get("/meldingen/{concept}/afdruk",                      can(concept, READS, O)),
        get("/meldingen/{melding}/export.txt",                  can(sent, READS, O)),
        get("/meldingen/{concept}/export.txt",                  can(concept, READS, O)),
        get("/instellingen/school",                             can(School, &[P::ManageSettings], O)),
        // No open vervolg duty for that signal: 409 for the coordinators.
        get("/meldingen/afstemming?leerling={own}&regel=duo_16h&datum=2025-11-03", can(Own, MAKES, CONFLICT)),
        get("/meldingen/afstemming?leerling=999999&regel=duo_16h&datum=2025-11-03", can(Missing, MAKES, O)),
    ];
    // An empty form changes nothing: no student (422), an invalid draft is
    // saved as it was (422), no status (422), a registered melding is read
    // only (409). Others are refused before the form is read.
    rows.extend(posts("/meldingen/nieuw",                   NOTHING, can(School, MAKES, A)));
    rows.extend(posts("/meldingen/{concept}",               NOTHING, can(School, MAKES, A)));
    rows.extend(posts("/meldingen/{melding}",               NOTHING, can(School, MAKES, CONFLICT)));
    rows.extend(posts("/meldingen/{concept}/status",        NOTHING, can(School, MAKES, A)));
    rows.extend(posts("/meldingen/{melding}/nummer",        NOTHING, can(School, MAKES, A)));
    rows.extend(posts("/meldingen/afstemming",              NOTHING, can(School, MAKES, A)));
    rows.extend(posts("/instellingen/school",               NOTHING, can(School, &[P::ManageSettings], A)));
    rows
}
