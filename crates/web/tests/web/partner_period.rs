//! Issue 11, item 6: a partner sees only the period they take part in —
//! the contacts, agreements and signals from the day they were brought
//! into the case, not what came before.

use aanwezig_domain::case::{Actor, Agreement, AgreementParty, ContactKind, ContactMoment, Party};
use aanwezig_domain::Role;
use reqwest::StatusCode;

use crate::common::*;

fn coordinator() -> Actor {
    Actor::new("coordinator", Role::Verzuimcoordinator)
}

fn talk(on: chrono::NaiveDate) -> ContactMoment {
    ContactMoment {
        on,
        kind: ContactKind::GesprekOpSchool,
        minutes: None,
        participants: vec![Party::Leerling, Party::Ouders],
        by: coordinator(),
        guide: None,
        answers: Vec::new(),
        note: String::new(),
    }
}

fn agree(on: chrono::NaiveDate, what: &str, contact: usize) -> Agreement {
    Agreement {
        who: AgreementParty::Student,
        what: what.into(),
        made_on: on,
        by_when: None,
        contact: Some(contact),
        kept: Vec::new(),
    }
}

#[tokio::test]
async fn a_partner_sees_the_agreements_and_signals_of_their_own_period() {
    let app = spawn_app().await;
    let s = pick_student(&app, &[]);
    // One unexplained lesson in September (its 3b signal closed long
    // before November) and one on 12 November (open today).
    rewrite(
        &app,
        &s,
        &[
            (ymd(2025, 9, 15), &[1], "A"),
            (ymd(2025, 11, 12), &[1], "A"),
        ],
    )
    .await;
    open_case_on(&app, &s, "3b", &[], ymd(2025, 9, 16)).await;
    let mut case = case_of(&app, &s).await;
    let first = case.add_contact(talk(ymd(2025, 9, 17))).unwrap();
    case.add_agreement(agree(
        ymd(2025, 9, 17),
        "Septemberafspraak: om 8.15 uur melden",
        first,
    ))
    .unwrap();
    involve(&mut case, &account(&app, "keten").await, ymd(2025, 11, 3));
    let second = case.add_contact(talk(ymd(2025, 11, 13))).unwrap();
    case.add_agreement(agree(
        ymd(2025, 11, 13),
        "Novemberafspraak: huiswerkklas",
        second,
    ))
    .unwrap();
    app.store
        .save_case(&case, "coordinator", now())
        .await
        .unwrap();

    let agreements = format!("/leerlingen/{s}/dossier/afspraken");
    let coord = app.login("coordinator").await;
    let (status, school) = app.get(&coord, &agreements).await;
    assert_eq!(status, StatusCode::OK);
    assert!(school.contains("Septemberafspraak"), "{school}");
    assert!(school.contains("Novemberafspraak"));

    let keten = app.login("keten").await;
    let (status, partner) = app.get(&keten, &agreements).await;
    assert_eq!(status, StatusCode::OK);
    assert!(partner.contains("Novemberafspraak"), "{partner}");
    assert!(
        !partner.contains("Septemberafspraak"),
        "an agreement from before the partner came in is not theirs to read"
    );

    // The contact moments: one for the partner, numbered from their period.
    let (status, _) = app
        .get(&keten, &format!("/leerlingen/{s}/dossier/contact/1"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .get(&keten, &format!("/leerlingen/{s}/dossier/contact/2"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .get(&coord, &format!("/leerlingen/{s}/dossier/contact/2"))
        .await;
    assert_eq!(status, StatusCode::OK);

    // The student page: the September signal only for the school.
    let (_, school) = app.get(&coord, &format!("/leerlingen/{s}")).await;
    let (_, partner) = app.get(&keten, &format!("/leerlingen/{s}")).await;
    assert!(
        school.contains("15 september"),
        "the fixture's September signal"
    );
    assert!(partner.contains("12 november"), "{partner}");
    assert!(
        !partner.contains("15 september"),
        "a signal closed before the partner came in is not theirs to read"
    );
}
