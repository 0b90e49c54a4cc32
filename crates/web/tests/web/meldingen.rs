//! Integration tests of the DUO meldingen pages and the school settings.
//!
//! The fixture: one demo student whose registrations from 1 September on are
//! rewritten to "present", then absent without a reason (code A) on Monday
//! 10 and Tuesday 11 November (7 lessons each) and lessons 1–2 of
//! Wednesday 12 November, with lesson 5 that Wednesday reported sick (Z):
//! 16 lesuren, so `duo_16h` fires on 12 November, begin 10 November,
//! deadline 5 working days later, Wednesday 19 November.

use aanwezig_domain::case::{
    Actor, Agreement, AgreementParty, ContactKind, ContactMoment, Decision, DecisionKind, Guide,
    InterventionKind, OpdcTrajectory, Party,
};
use aanwezig_domain::{Category, MeldingStatus, RegistrationRecord, Role, StudentId};
use aanwezig_storage::{AuditAction, AuditFilter, MeldingFilter};
use chrono::NaiveDate;
use reqwest::StatusCode;

use crate::common::{
    location, now, open_case, pick_student, rewrite, sixteen_hours, spawn_app, today, ymd, TestApp,
};

/// A conversation with student and parents (guide C) on 12 November in
/// the student's new case.
async fn case_with_contact(app: &TestApp, student: &str) {
    open_case(app, student, "3b", &[]).await;
    let id = StudentId::parse(student).unwrap();
    let mut case = app.store.case(&id).await.unwrap().unwrap();
    case.add_contact(ContactMoment {
        on: ymd(2025, 11, 12),
        kind: ContactKind::GesprekOpSchool,
        minutes: None,
        participants: vec![Party::Leerling, Party::Ouders, Party::School],
        by: Actor::new("mentor", Role::Mentor),
        guide: Some(Guide::C),
        answers: Vec::new(),
        note: String::new(),
    })
    .unwrap();
    app.store.save_case(&case, "mentor", now()).await.unwrap();
}

async fn set_school(app: &TestApp) {
    let beheer = app.login("beheer").await;
    // A bad BRIN is refused, with the typed values kept.
    let r = app
        .post_form(
            &beheer,
            "/instellingen/school",
            &[
                ("naam", "Het Noorderlicht"),
                ("brin", "1AB2"),
                ("vestiging", "00"),
                ("telefoon", ""),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Een BRIN-nummer is 2 cijfers en 2 letters"),
        "{html}"
    );
    assert!(html.contains("value=\"Het Noorderlicht\""));
    assert!(html.contains("value=\"1AB2\""));
    app.post_ok(
        &beheer,
        "/instellingen/school",
        &[
            ("naam", "Het Noorderlicht"),
            ("brin", "12ab"),
            ("vestiging", "00"),
            ("telefoon", "050 123 4567"),
        ],
    )
    .await;
    let (_, html) = app.get(&beheer, "/instellingen/school?opgeslagen=1").await;
    assert!(html.contains("value=\"12AB\""), "stored in capitals");
    let log = app
        .store
        .audit_log(&AuditFilter {
            student: None,
            username: Some("beheer".into()),
            limit: 50,
        })
        .await
        .unwrap();
    assert!(log
        .iter()
        .any(|e| e.action == AuditAction::Settings && e.detail.contains("BRIN 12AB")));
}

/// The form of a draft as the page would send it, with `days` the lesson
/// grid.
fn draft_form<'a>(
    reason: &'a str,
    brin: &'a str,
    days: &'a [(&'a str, Vec<String>)],
) -> Vec<(String, String)> {
    let mut f: Vec<(String, String)> = [
        ("rooster", "1"),
        ("reden", reason),
        ("toelichting", "Na het gesprek geen verbetering."),
        ("leerplicht", "ja"),
        ("leerplicht_reden", "Ouders komen afspraken niet na."),
        ("acties", "12 nov 2025: gesprek op school\nouders gebeld"),
        ("melder_naam", "Test coordinator"),
        ("melder_functie", "verzuimcoördinator"),
        ("melder_telefoon", "050 123 4567"),
        ("melder_email", ""),
        ("brin", brin),
        ("vestiging", "00"),
        ("ouder_telefoon", "06 1234 5678"),
        ("adres", ""),
        ("locatie", "Het Noorderlicht"),
        ("actie", "opslaan"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    for (date, lessons) in days {
        for l in lessons {
            f.push((format!("les_{date}"), l.clone()));
        }
    }
    f
}

/// A form of owned pairs as the `&str` pairs `post_form` takes.
fn pairs(form: &[(String, String)]) -> Vec<(&str, &str)> {
    form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// Tries to register melding `n` (page `at`) on 14 November and asserts
/// it is refused (422) with `why` on the page and stays a concept.
async fn registering_refused(app: &TestApp, c: &reqwest::Client, at: &str, n: i64, why: &str) {
    let r = app
        .post_form(
            c,
            &format!("{at}/status"),
            &[("naar", "geregistreerd"), ("datum", "2025-11-14")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains(why), "{why}: {html}");
    assert_eq!(
        app.store.melding(n).await.unwrap().unwrap().status,
        MeldingStatus::Concept
    );
}

fn lessons(ls: &[u8]) -> Vec<String> {
    ls.iter().map(u8::to_string).collect()
}

#[tokio::test]
async fn a_16_hour_signal_becomes_a_checked_registered_melding() {
    let app = spawn_app().await;
    set_school(&app).await;
    let s = sixteen_hours(&app).await;
    case_with_contact(&app, &s).await;
    let c = app.login("coordinator").await;

    // Nog te melden, with the deadline and the working days left.
    let (status, html) = app.get(&c, "/meldingen").await;
    assert_eq!(status, StatusCode::OK);
    let row_start = html
        .find(&format!("<a href=\"/leerlingen/{s}\">"))
        .unwrap_or_else(|| panic!("{s} under nog te melden:\n{html}"));
    let row = &html[row_start..row_start + html[row_start..].find("</tr>").unwrap()];
    assert!(row.contains("16 uur of meer in 4 lesweken"), "{row}");
    assert!(
        row.contains("maandag 10 november 2025 tot en met woensdag 12 november 2025"),
        "{row}"
    );
    assert!(row.contains("woensdag 19 november 2025"), "{row}");
    assert!(row.contains("nog 3 werkdagen"), "{row}");
    assert!(
        row.contains("value=\"duo_16h\"") && row.contains("value=\"2025-11-12\""),
        "{row}"
    );

    // Concept maken, twice: one draft.
    let form = [
        ("leerling", s.as_str()),
        ("regel", "duo_16h"),
        ("datum", "2025-11-12"),
    ];
    let at = app.post_ok(&c, "/meldingen/nieuw", &form).await;
    assert!(at.starts_with("/meldingen/"), "{at}");
    let r = app.post_form(&c, "/meldingen/nieuw", &form).await;
    assert_eq!(
        location(&r),
        at,
        "the second Concept maken goes to the same draft"
    );
    let n: i64 = at
        .trim_start_matches("/meldingen/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let sid = StudentId::parse(&s).unwrap();
    let all = app
        .store
        .meldingen(&MeldingFilter {
            student: Some(sid.clone()),
            ..MeldingFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(all.len(), 1);

    // The lessons per day, without the sick lesson; the case's contact;
    // reporter and school filled in.
    let d = app.store.melding(n).await.unwrap().unwrap();
    let days: Vec<(NaiveDate, bool, Vec<u8>)> = d
        .days
        .iter()
        .map(|x| (x.date, x.whole_day, x.lessons.clone()))
        .collect();
    assert_eq!(
        days,
        [
            (ymd(2025, 11, 10), true, vec![1, 2, 3, 4, 5, 6, 7]),
            (ymd(2025, 11, 11), true, vec![1, 2, 3, 4, 5, 6, 7]),
            (ymd(2025, 11, 12), false, vec![1, 2]),
        ]
    );
    assert_eq!(d.deadline, ymd(2025, 11, 19));
    assert!(
        d.actions_taken
            .iter()
            .any(|a| a == "12 nov 2025: gesprek op school met leerling en ouders (leidraad C)"),
        "{:?}",
        d.actions_taken
    );
    assert_eq!(d.reporter.name, "Test coordinator");
    assert_eq!(d.reporter.function, "verzuimcoördinator");
    assert_eq!(d.reporter.phone, "050 123 4567");
    assert_eq!(
        (d.school.brin.as_str(), d.school.vestiging.as_str()),
        ("12AB", "00")
    );

    let (status, html) = app.get(&c, &at).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("name=\"les_2025-11-12\" value=\"2\" aria-label=\"woensdag 12 november 2025, lesuur 2\" checked"), "{html}");
    assert!(!html.contains("name=\"les_2025-11-12\" value=\"5\" aria-label=\"woensdag 12 november 2025, lesuur 5\" checked"));
    assert!(html.contains("(leidraad C)"));
    assert!(
        html.contains("Vul de vermoedelijke reden van het verzuim in"),
        "a new draft says what is missing"
    );

    // Made: no longer to report, now a concept to finish, and the signal
    // is covered by it.
    let (_, html) = app.get(&c, "/meldingen").await;
    assert!(!html.contains("value=\"duo_16h\""), "no Concept maken left");
    assert!(html.contains(&format!("<a href=\"/meldingen/{n}\">nr. {n}</a>")));
    assert!(
        html.contains("Concept: afmaken en invoeren in het Verzuimloket"),
        "{html}"
    );
    assert!(
        html.contains(&format!("gedekt door melding nr. {n}")),
        "{html}"
    );

    let grid = [
        ("2025-11-10", lessons(&[1, 2, 3, 4, 5, 6, 7])),
        ("2025-11-11", lessons(&[1, 2, 3, 4, 5, 6, 7])),
        ("2025-11-12", lessons(&[1, 2])),
    ];
    // Invalid: saved anyway, errors next to their fields.
    let r = app
        .post_form(&c, &at, &pairs(&draft_form("", "1234", &grid)))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Vul de vermoedelijke reden van het verzuim in"),
        "{html}"
    );
    assert!(html.contains("Een BRIN-nummer is 2 cijfers en 2 hoofdletters"));
    assert!(
        html.contains("Ouders komen afspraken niet na."),
        "what was typed stays"
    );
    let d = app.store.melding(n).await.unwrap().unwrap();
    assert_eq!(d.school.brin, "1234", "an invalid draft is saved too");
    assert_eq!(
        d.explanation.as_deref(),
        Some("Na het gesprek geen verbetering.")
    );
    let long = "x".repeat(201);
    let r = app
        .post_form(&c, &at, &pairs(&draft_form(&long, "12AB", &grid)))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("De vermoedelijke reden is 201 tekens"),
        "{html}"
    );
    assert!(
        html.contains("nu 201 van 200"),
        "the counter, without script"
    );

    // Registering is refused while invalid.
    let status_form = [("naar", "geregistreerd"), ("datum", "2025-11-14")];
    registering_refused(&app, &c, &at, n, "Niet gemeld").await;

    // A sick lesson cannot be put on the melding.
    let with_sick = [
        grid[0].clone(),
        grid[1].clone(),
        ("2025-11-12", lessons(&[1, 2, 5])),
    ];
    let r = app
        .post_form(
            &c,
            &at,
            &pairs(&draft_form("Spijbelt met vrienden", "12AB", &with_sick)),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("ziekte wordt nooit aan DUO gemeld"));
    let r = app
        .post_form(&c, &format!("{at}/status"), &status_form)
        .await;
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "not with the sick lesson"
    );

    // Valid.
    let to = app
        .post_ok(
            &c,
            &at,
            &pairs(&draft_form("Spijbelt met vrienden", "12AB", &grid)),
        )
        .await;
    assert_eq!(to, format!("{at}?opgeslagen=1"));

    let d = app.store.melding(n).await.unwrap().unwrap();
    assert_eq!(
        d.actions_taken,
        ["12 nov 2025: gesprek op school", "ouders gebeld"]
    );
    // "Opnieuw uit dossier" replaces the typed actions with the case's.
    let mut again = draft_form("Spijbelt met vrienden", "12AB", &grid);
    again.retain(|(k, _)| k != "actie");
    again.push(("actie".into(), "dossier".into()));
    app.post_ok(&c, &at, &pairs(&again)).await;
    let d = app.store.melding(n).await.unwrap().unwrap();
    assert_eq!(
        d.actions_taken,
        ["12 nov 2025: gesprek op school met leerling en ouders (leidraad C)"]
    );

    // A lesson reported sick after the draft was made blocks registering.
    let lesson = format!("/leerlingen/{s}/les?datum=2025-11-11&lesuur=3");
    let (_, form) = app.get(&c, &lesson).await;
    let version = crate::register::field(&form, "versie").unwrap();
    let r = app
        .post_form(
            &c,
            &lesson,
            &[
                ("code", "Z"),
                ("te_laat", ""),
                ("notitie", ""),
                ("versie", &version),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "reported sick");
    registering_refused(
        &app,
        &c,
        &at,
        n,
        "Lesuur 3 op dinsdag 11 november 2025 is ziek gemeld",
    )
    .await;

    // Without that lesson it registers.
    let fixed = [
        grid[0].clone(),
        ("2025-11-11", lessons(&[1, 2, 4, 5, 6, 7])),
        grid[2].clone(),
    ];
    app.post_ok(
        &c,
        &at,
        &pairs(&draft_form("Spijbelt met vrienden", "12AB", &fixed)),
    )
    .await;
    let to = app.post_ok(&c, &format!("{at}/status"), &status_form).await;
    let (_, confirmed) = app.get(&c, &to).await;
    assert!(
        confirmed.contains("De nieuwe status is opgeslagen."),
        "a confirmation after the save: {confirmed}"
    );
    let d = app.store.melding(n).await.unwrap().unwrap();
    assert_eq!(d.status, MeldingStatus::Geregistreerd);
    assert_eq!(d.registered_on, Some(today()));
    assert!(!d.days[1].whole_day, "lesson 3 is no longer on it");

    // Registered: read only.
    let (_, html) = app.get(&c, &at).await;
    assert!(!html.contains("name=\"reden\""));
    assert!(
        html.contains("gemeld op vrijdag 14 november 2025, op tijd"),
        "{html}"
    );
    let r = app
        .post_form(&c, &at, &pairs(&draft_form("anders", "12AB", &grid)))
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("kan niet meer worden gewijzigd. Uw wijzigingen zijn niet opgeslagen."),
        "the melding page with a notice: {html}"
    );
    assert!(html.contains("Spijbelt met vrienden") && !html.contains("name=\"reden\""));
    assert_eq!(
        app.store
            .melding(n)
            .await
            .unwrap()
            .unwrap()
            .suspected_reason,
        "Spijbelt met vrienden"
    );
    // Later statuses.
    let r = app
        .post_form(
            &c,
            &format!("{at}/status"),
            &[("naar", "afgesloten"), ("datum", "2025-11-14")],
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "not straight to afgesloten"
    );
    app.post_ok(
        &c,
        &format!("{at}/status"),
        &[("naar", "in_behandeling"), ("datum", "2025-11-14")],
    )
    .await;

    // Print and export, audited.
    let (status, html) = app.get(&c, &format!("{at}/afdruk")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("DUO-melding — "));
    assert!(html.contains("Spijbelt met vrienden"));
    let r = c
        .get(app.url(&format!("{at}/export.txt")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let disposition = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.starts_with("attachment; filename=\"duo-melding-"),
        "{disposition}"
    );
    let text = r.text().await.unwrap();
    assert!(
        text.contains("Soort verzuim: 16 uur of meer in 4 lesweken"),
        "{text}"
    );
    assert!(text.contains("Vermoedelijke reden: Spijbelt met vrienden"));
    assert!(text.contains("Locatie: BRIN 12AB, vestiging 00"));
    assert!(text.contains("Status: in behandeling"));
    let log = app
        .store
        .audit_log(&AuditFilter {
            student: Some(sid.clone()),
            username: Some("coordinator".into()),
            limit: 200,
        })
        .await
        .unwrap();
    let count = |a: AuditAction| log.iter().filter(|e| e.action == a).count();
    assert_eq!(count(AuditAction::Export), 2, "print and export");
    assert!(count(AuditAction::Read) >= 2);
    assert!(count(AuditAction::Change) >= 5);

    // Leerplicht now reads the student and the melding, not changes it.
    let lpa = app.login("leerplicht").await;
    let (_, html) = app.get(&lpa, "/meldingen").await;
    assert!(
        html.contains(&format!("<a href=\"/meldingen/{n}\">nr. {n}</a>")),
        "{html}"
    );
    let (status, html) = app.get(&lpa, &at).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("name=\"reden\""));
    let (status, _) = app.get(&lpa, &format!("/leerlingen/{s}")).await;
    assert_eq!(status, StatusCode::OK);
    let r = app
        .post_form(
            &lpa,
            &format!("{at}/status"),
            &[("naar", "afgesloten"), ("datum", "2025-11-14")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn concepts_stay_in_school_and_overdue_ones_are_flagged() {
    let app = spawn_app().await;
    let s = pick_student(&app, &[]);
    // One unexplained lesson in September, long past its deadline.
    rewrite(&app, &s, &[]).await;
    let id = StudentId::parse(&s).unwrap();
    let sept = app
        .store
        .student_registrations(&id)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.date == ymd(2025, 9, 29) && r.lesson == 1)
        .unwrap();
    let one = RegistrationRecord {
        code: Some("A".into()),
        category: Category::Unknown,
        ..sept
    };
    app.store
        .set_registration(&one, "test", now())
        .await
        .unwrap();
    app.state.reload().await.unwrap();

    let c = app.login("coordinator").await;
    let (status, html) = app.get(&c, &format!("/meldingen/nieuw?leerling={s}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("luxe verzuim") && html.contains("overig verzuim"));
    // Bad input keeps what was typed.
    let r = app
        .post_form(
            &c,
            "/meldingen/nieuw",
            &[
                ("leerling", &s),
                ("soort", "overig"),
                ("begin", "2025-09-30"),
                ("eind", "2025-09-29"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("De einddatum ligt voor de begindatum."),
        "{html}"
    );
    assert!(html.contains("value=\"2025-09-30\""));
    let r = app
        .post_form(
            &c,
            "/meldingen/nieuw",
            &[
                ("leerling", &s),
                ("soort", "overig"),
                ("begin", "2025-09-30"),
                ("eind", "2025-09-30"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("er is niets te melden"));
    let at = app
        .post_ok(
            &c,
            "/meldingen/nieuw",
            &[
                ("leerling", &s),
                ("soort", "overig"),
                ("begin", "2025-09-29"),
                ("eind", "2025-09-29"),
            ],
        )
        .await;
    let n: i64 = at
        .trim_start_matches("/meldingen/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let d = app.store.melding(n).await.unwrap().unwrap();
    assert_eq!(d.days.len(), 1);
    assert_eq!(d.days[0].lessons, [1]);
    assert!(d.source.is_none());
    assert!(d.is_overdue(today()));

    let (_, html) = app.get(&c, "/meldingen").await;
    let row_start = html.find(&format!("<a href=\"/meldingen/{n}\">")).unwrap();
    let row_open = html[..row_start].rfind("<tr").unwrap();
    assert!(
        html[row_open..].starts_with("<tr class=\"overdue\""),
        "{}",
        &html[row_open..row_start]
    );
    let row = &html[row_start..row_start + html[row_start..].find("</tr>").unwrap()];
    assert!(row.contains("werkdagen te laat"), "{row}");
    assert!(html.contains("te laat: de termijn van 5 werkdagen is verstreken"));
    let (_, page) = app.get(&c, &at).await;
    assert!(page.contains("werkdagen te laat"));

    // A concept is the school's: leerplicht sees neither it nor the student.
    let lpa = app.login("leerplicht").await;
    let (status, _) = app.get(&lpa, &at).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.get(&lpa, &format!("{at}/export.txt")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, html) = app.get(&lpa, "/meldingen").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains(&format!("/meldingen/{n}\"")));
    let (status, _) = app.get(&lpa, &format!("/leerlingen/{s}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The mentor, the jeugdarts and the beheerder have no business here.
    for user in ["mentor", "jeugdarts", "beheer"] {
        let u = app.login(user).await;
        for path in ["/meldingen".to_owned(), at.clone()] {
            let (status, _) = app.get(&u, &path).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{user} {path}");
        }
    }
}

/// Only the school's own actions go to DUO and leerplicht: no health, no
/// safety, no answers or notes of conversations.
#[tokio::test]
async fn the_draft_takes_no_health_or_safety_from_the_case() {
    let app = spawn_app().await;
    let s = sixteen_hours(&app).await;
    open_case(&app, &s, "3b", &[]).await;
    let id = StudentId::parse(&s).unwrap();
    let mut case = app.store.case(&id).await.unwrap().unwrap();
    let by = Actor::new("coordinator", Role::Verzuimcoordinator);
    case.add_contact(ContactMoment {
        on: ymd(2025, 11, 11),
        kind: ContactKind::Telefoon,
        minutes: None,
        participants: vec![
            Party::Ouders,
            Party::Jeugdarts,
            Party::Other("huisarts".into()),
        ],
        by: by.clone(),
        guide: None,
        answers: Vec::new(),
        note: "moeder vertelt over de astma".into(),
    })
    .unwrap();
    let decide = |kind: DecisionKind| Decision {
        on: ymd(2025, 11, 12),
        by: by.clone(),
        kind,
        parties: vec![Party::Ouders],
        note: "geheime notitie".into(),
    };
    for kind in [
        DecisionKind::Jeugdarts { consent: true },
        DecisionKind::VoWij { consent: false },
        DecisionKind::Meldcode,
        DecisionKind::IndigoCheck { needed: true },
        DecisionKind::Vrijstelling,
        DecisionKind::PreventiefSpreekuur,
        DecisionKind::Ect,
        DecisionKind::Cooperation { cooperates: false },
        DecisionKind::Opdc {
            trajectory: OpdcTrajectory::Ttvo,
        },
        DecisionKind::OtherMaatwerk,
    ] {
        case.decide(decide(kind)).unwrap();
    }
    case.start_intervention(
        InterventionKind::Afspraken,
        "elke ochtend melden bij de mentor",
        ymd(2025, 11, 13),
        by.clone(),
    )
    .unwrap();
    // Care by a partner and what was agreed with a partner stay in school.
    case.start_intervention(
        InterventionKind::Hulpverlening,
        "gesprekken bij het wijkteam",
        ymd(2025, 11, 13),
        by.clone(),
    )
    .unwrap();
    for (who, what) in [
        (
            AgreementParty::Parents,
            "ouders bellen bij afwezigheid voor 8 uur",
        ),
        (
            AgreementParty::Partner("VO WIJ".into()),
            "wijkteam plant een huisbezoek",
        ),
    ] {
        case.add_agreement(Agreement {
            who,
            what: what.into(),
            made_on: ymd(2025, 11, 13),
            by_when: None,
            contact: None,
            kept: Vec::new(),
        })
        .unwrap();
    }
    app.store
        .save_case(&case, "coordinator", now())
        .await
        .unwrap();

    let c = app.login("coordinator").await;
    let to = app
        .post_ok(
            &c,
            "/meldingen/nieuw",
            &[
                ("leerling", &s),
                ("regel", "duo_16h"),
                ("datum", "2025-11-12"),
            ],
        )
        .await;
    let n: i64 = to
        .trim_start_matches("/meldingen/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let d = app.store.melding(n).await.unwrap().unwrap();
    let opdc = DecisionKind::Opdc {
        trajectory: OpdcTrajectory::Ttvo,
    }
    .label_nl();
    assert_eq!(
        d.actions_taken,
        [
            "11 nov 2025: telefoongesprek met ouders".to_owned(),
            "12 nov 2025: aanmelding preventief spreekuur leerplicht".to_owned(),
            "12 nov 2025: ECT denkt mee over maatwerk".to_owned(),
            "12 nov 2025: gezin werkt mee aan hulpverlening: nee".to_owned(),
            format!("12 nov 2025: {opdc}"),
            "12 nov 2025: ander maatwerk".to_owned(),
            "13 nov 2025: interventie gestart: afspraken (elke ochtend melden bij de mentor)"
                .to_owned(),
            "13 nov 2025: afspraak met ouders: ouders bellen bij afwezigheid voor 8 uur".to_owned(),
        ]
    );
    let all = d.actions_taken.join("\n").to_lowercase();
    for never in [
        "jeugdarts",
        "vo wij",
        "meldcode",
        "indigo",
        "vrijstelling",
        "astma",
        "huisarts",
        "geheime",
        "hulpverlening (",
        "wijkteam",
        "huisbezoek",
    ] {
        assert!(!all.contains(never), "{never} in {all}");
    }
}

/// Words pointing to illness in the reason or explanation: a warning next
/// to the field, the draft saved anyway, registering refused.
#[tokio::test]
async fn illness_words_are_saved_but_never_registered() {
    let app = spawn_app().await;
    let s = sixteen_hours(&app).await;
    let c = app.login("coordinator").await;
    let r = app
        .post_form(
            &c,
            "/meldingen/nieuw",
            &[
                ("leerling", &s),
                ("regel", "duo_16h"),
                ("datum", "2025-11-12"),
            ],
        )
        .await;
    let at = location(&r);
    let n: i64 = at
        .trim_start_matches("/meldingen/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let grid = [
        ("2025-11-10", lessons(&[1, 2, 3, 4, 5, 6, 7])),
        ("2025-11-11", lessons(&[1, 2, 3, 4, 5, 6, 7])),
        ("2025-11-12", lessons(&[1, 2])),
    ];
    let mut form = draft_form("Was volgens moeder bij de Huisarts", "12AB", &grid);
    for (k, v) in &mut form {
        if k == "toelichting" {
            *v = "Had griep en koorts.".into();
        }
    }
    let r = app.post_form(&c, &at, &pairs(&form)).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("De vermoedelijke reden noemt &#39;huisarts&#39;: dat wijst op ziekte.")
            || html.contains(
                "De vermoedelijke reden noemt &#x27;huisarts&#x27;: dat wijst op ziekte."
            ),
        "{html}"
    );
    assert!(
        html.contains("griep&#") && html.contains("koorts&#"),
        "{html}"
    );
    assert!(
        html.contains("Had griep en koorts."),
        "what was typed stays"
    );
    let d = app.store.melding(n).await.unwrap().unwrap();
    assert_eq!(
        d.suspected_reason, "Was volgens moeder bij de Huisarts",
        "saved as a draft"
    );

    // (This student has no dossier: registering is confirmed.)
    let status_form = [
        ("naar", "geregistreerd"),
        ("datum", "2025-11-14"),
        ("bevestigd", "ja"),
    ];
    registering_refused(&app, &c, &at, n, "noemt ziekte").await;

    // Words that merely contain an illness word are fine ("startsein").
    let form = draft_form("Kwam niet na het startsein van de les", "12AB", &grid);
    app.post_ok(&c, &at, &pairs(&form)).await;
    app.post_ok(&c, &format!("{at}/status"), &status_form).await;
    assert_eq!(
        app.store.melding(n).await.unwrap().unwrap().status,
        MeldingStatus::Geregistreerd
    );

    // Leerplicht reads it while it stands, not once it is withdrawn.
    let lpa = app.login("leerplicht").await;
    let (status, _) = app.get(&lpa, &at).await;
    assert_eq!(status, StatusCode::OK);
    app.post_ok(
        &c,
        &format!("{at}/status"),
        &[("naar", "ingetrokken"), ("datum", "2025-11-14")],
    )
    .await;
    for path in [
        at.clone(),
        format!("{at}/afdruk"),
        format!("{at}/export.txt"),
    ] {
        let (status, _) = app.get(&lpa, &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let (status, html) = app.get(&lpa, "/meldingen").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains(&format!("/meldingen/{n}\"")), "{html}");
    // The coordinator still has it.
    let (status, _) = app.get(&c, &at).await;
    assert_eq!(status, StatusCode::OK);
}

/// An action naming illness (here the demo's own agreement with the
/// parents, taken from the case) gets an error next to the actions and
/// blocks registering; rephrased, the melding is registered.
#[tokio::test]
async fn illness_words_in_the_actions_block_registering() {
    let app = spawn_app().await;
    set_school(&app).await;
    let s = sixteen_hours(&app).await;
    case_with_contact(&app, &s).await;
    let id = StudentId::parse(&s).unwrap();
    let mut case = app.store.case(&id).await.unwrap().unwrap();
    case.add_agreement(Agreement {
        who: AgreementParty::Parents,
        what: "Ouders maken een afspraak bij de jeugdarts als de ziekmeldingen doorgaan.".into(),
        made_on: ymd(2025, 11, 13),
        by_when: None,
        contact: None,
        kept: Vec::new(),
    })
    .unwrap();
    app.store.save_case(&case, "mentor", now()).await.unwrap();

    let c = app.login("coordinator").await;
    let at = app
        .post_ok(
            &c,
            "/meldingen/nieuw",
            &[
                ("leerling", &s),
                ("regel", "duo_16h"),
                ("datum", "2025-11-12"),
            ],
        )
        .await;
    let n: i64 = at
        .trim_start_matches("/meldingen/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let d = app.store.melding(n).await.unwrap().unwrap();
    assert_eq!(d.actions_taken.len(), 2, "{:?}", d.actions_taken);
    assert!(d.actions_taken[1].contains("jeugdarts als de ziekmeldingen"));

    // The page shows the problem next to the actions.
    let (status, html) = app.get(&c, &at).await;
    assert_eq!(status, StatusCode::OK);
    let actions = &html[html.find("id=\"m-acties\"").unwrap()..];
    let actions = &actions[..actions.find("</section>").unwrap()];
    assert!(
        actions.contains("Regel 2 van de acties noemt")
            && actions.contains("jeugdarts&#")
            && actions.contains("ziekmeldingen&#"),
        "{actions}"
    );
    assert!(!actions.contains("Regel 1 van de acties"), "{actions}");

    // A reason and explanation without illness do not make it pass.
    let grid = [
        ("2025-11-10", lessons(&[1, 2, 3, 4, 5, 6, 7])),
        ("2025-11-11", lessons(&[1, 2, 3, 4, 5, 6, 7])),
        ("2025-11-12", lessons(&[1, 2])),
    ];
    let mut form = draft_form("Wil niet naar school", "12AB", &grid);
    let typed = format!("{}\nDe schoolarts is ingelicht", d.actions_taken.join("\n"));
    for (k, v) in &mut form {
        if k == "acties" {
            v.clone_from(&typed);
        }
    }
    let r = app.post_form(&c, &at, &pairs(&form)).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("Regel 3 van de acties noemt"), "{html}");
    assert!(
        html.contains("De schoolarts is ingelicht"),
        "what was typed stays"
    );
    registering_refused(&app, &c, &at, n, "een actie noemt ziekte").await;

    // Rephrased: registered.
    let form = draft_form("Wil niet naar school", "12AB", &grid);
    app.post_ok(&c, &at, &pairs(&form)).await;
    app.post_ok(
        &c,
        &format!("{at}/status"),
        &[("naar", "geregistreerd"), ("datum", "2025-11-14")],
    )
    .await;
    assert_eq!(
        app.store.melding(n).await.unwrap().unwrap().status,
        MeldingStatus::Geregistreerd
    );
}

/// A melding number that is no number is the Dutch 404 page.
#[tokio::test]
async fn bad_melding_numbers_are_the_dutch_404_page() {
    let app = spawn_app().await;
    let c = app.login("coordinator").await;
    for path in [
        "/meldingen/abc",
        "/meldingen/1.5",
        "/meldingen/99999999999999999999",
        "/meldingen/%FF",
        "/meldingen/abc/afdruk",
        "/meldingen/abc/export.txt",
    ] {
        let r = c.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        let html_type = r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html");
        assert!(html_type, "{path}");
        assert!(r.text().await.unwrap().contains("Niet gevonden"), "{path}");
    }
    for path in ["/meldingen/abc", "/meldingen/%FF/status"] {
        let r = app.post_form(&c, path, &[("naar", "geregistreerd")]).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(r.text().await.unwrap().contains("Niet gevonden"), "{path}");
    }
}
