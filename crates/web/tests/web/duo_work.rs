//! Issue 11, items 2 and 3: one DUO worklist per student. A vervolg signal
//! is handled by a vervolgmelding or by "afgestemd met leerplicht"; every
//! count of DUO work (Weekoverzicht, Mijn taken, /meldingen, the dossier)
//! agrees; moving a dossier past 4b or closing it with DUO work open asks
//! for a confirmation with a reason.

use aanwezig_domain::case::{Actor, Decision, DecisionKind, Party};
use aanwezig_domain::{MeldingStatus, Role, StudentId};
use aanwezig_storage::AuditFilter;
use reqwest::StatusCode;

use crate::common::{
    now, open_case, sixteen_hours, spawn_app, store_melding, student, today, ymd, TestApp,
};

/// The student of `sixteen_hours` with a registered melding (made by hand,
/// so not from the 12 November signal): that signal is a vervolg of it.
pub(crate) async fn vervolg_fixture(app: &TestApp) -> (String, i64) {
    let s = sixteen_hours(app).await;
    let n = store_melding(app, &student(app, &s), MeldingStatus::Geregistreerd).await;
    (s, n)
}

/// The text between `start` and the next `end` after it.
fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let i = html
        .find(start)
        .unwrap_or_else(|| panic!("{start} not in {html}"));
    let rest = &html[i..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
}

#[tokio::test]
async fn a_vervolg_is_settled_with_leerplicht_and_stays_in_the_trail() {
    let app = spawn_app().await;
    let (s, n) = vervolg_fixture(&app).await;
    let c = app.login("coordinator").await;
    let (_, html) = app.get(&c, "/meldingen").await;
    let group = between(&html, &format!("id=\"leerling-{s}\""), "</tbody>");
    assert!(
        group.contains(&format!("terwijl melding nr. {n} bij DUO loopt")),
        "{group}"
    );
    assert!(group.contains("name=\"vervolg\""), "{group}");
    let form_path = format!("/meldingen/afstemming?leerling={s}&regel=duo_16h&datum=2025-11-12");
    assert!(group.contains(&form_path.replace('&', "&amp;")), "{group}");

    // The form names the melding; a health detail and no name are refused
    // with the fields named at the top.
    let (status, page) = app.get(&c, &form_path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(&format!("nr. {n}")), "{page}");
    let fields = |who: &'static str, why: &'static str| {
        vec![
            ("leerling", s.clone()),
            ("regel", "duo_16h".to_owned()),
            ("datum", "2025-11-12".to_owned()),
            ("op", "2025-11-13".to_owned()),
            ("met_wie", who.to_owned()),
            ("waarom", why.to_owned()),
        ]
    };
    let bad = fields("", "Hij heeft griep");
    let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, _, page) = app.submit(&c, "/meldingen/afstemming", &bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("href=\"#f-met_wie\""), "{page}");
    assert!(page.contains("href=\"#f-waarom\""), "{page}");
    assert!(page.contains("gezondheidsgegevens"), "{page}");
    assert!(app.store.afstemmingen(None).await.unwrap().is_empty());

    let good = fields(
        "J. de Vries (leerplicht)",
        "Melding loopt nog; leerplicht neemt deze weken mee in het gesprek.",
    );
    let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let at = app.post_ok(&c, "/meldingen/afstemming", &good).await;
    assert!(at.starts_with("/meldingen?afgestemd=1"), "{at}");
    let stored = app.store.afstemmingen(None).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].1.melding, Some(n));
    assert_eq!(stored[0].1.on, ymd(2025, 11, 13));
    assert_eq!(stored[0].1.by, "coordinator");

    // The duty left the list; the trail keeps it, under the student and on
    // the melding; the audit too. A second time is refused.
    let (_, html) = app.get(&c, "/meldingen?afgestemd=1").await;
    assert!(html.contains("De afstemming met leerplicht is vastgelegd"));
    let group = between(&html, &format!("id=\"leerling-{s}\""), "</tbody>");
    assert!(!group.contains("name=\"regel\""), "no duty left: {group}");
    assert!(group.contains("Afgestemd met leerplicht"), "{group}");
    assert!(group.contains("J. de Vries (leerplicht)"), "{group}");
    let (_, melding) = app.get(&c, &format!("/meldingen/{n}")).await;
    assert!(
        melding.contains("leerplicht neemt deze weken mee"),
        "{melding}"
    );
    let log = app
        .store
        .audit_log(&AuditFilter {
            student: Some(StudentId::parse(&s).unwrap()),
            username: Some("coordinator".into()),
            limit: 50,
        })
        .await
        .unwrap();
    assert!(
        log.iter()
            .any(|e| e.detail.contains("afgestemd met leerplicht")),
        "{log:?}"
    );
    let (status, _, _) = app.submit(&c, "/meldingen/afstemming", &good).await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn without_a_melding_at_duo_there_is_nothing_to_settle() {
    let app = spawn_app().await;
    let s = sixteen_hours(&app).await;
    let c = app.login("coordinator").await;
    let (status, _) = app
        .get(
            &c,
            &format!("/meldingen/afstemming?leerling={s}&regel=duo_16h&datum=2025-11-12"),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (_, html) = app.get(&c, "/meldingen").await;
    let group = between(&html, &format!("id=\"leerling-{s}\""), "</tbody>");
    assert!(group.contains("Nog te melden"), "{group}");
    assert!(!group.contains("Afgestemd met leerplicht"), "{group}");
}

#[tokio::test]
async fn a_vervolgmelding_is_linked_to_the_earlier_melding() {
    let app = spawn_app().await;
    let (s, n) = vervolg_fixture(&app).await;
    let c = app.login("coordinator").await;
    let at = app
        .post_ok(
            &c,
            "/meldingen/nieuw",
            &[
                ("leerling", s.as_str()),
                ("regel", "duo_16h"),
                ("datum", "2025-11-12"),
                ("vervolg", &n.to_string()),
            ],
        )
        .await;
    let m: i64 = at
        .trim_start_matches("/meldingen/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let draft = app.store.melding(m).await.unwrap().unwrap();
    assert_eq!(draft.follows, Some(n));
    assert_eq!(
        (draft.begin, draft.end),
        (ymd(2025, 11, 10), ymd(2025, 11, 12))
    );
    let (_, page) = app.get(&c, &at).await;
    assert!(page.contains(&format!("melding nr. {n}</a>")), "{page}");
    let (_, earlier) = app.get(&c, &format!("/meldingen/{n}")).await;
    assert!(
        earlier.contains(&format!("<a href=\"/meldingen/{m}\">nr. {m}</a>")),
        "{earlier}"
    );
    let (_, export) = app.get(&c, &format!("{at}/export.txt")).await;
    assert!(
        export.contains(&format!("Vervolg op melding: nr. {n}")),
        "{export}"
    );
    // A melding that is not open at DUO cannot be followed.
    let other = sixteen_hours_other(&app, &s).await;
    let concept = store_melding(&app, &student(&app, &other), MeldingStatus::Concept).await;
    let r = app
        .post_form(
            &c,
            "/meldingen/nieuw",
            &[
                ("leerling", s.as_str()),
                ("regel", "duo_16h"),
                ("datum", "2025-11-12"),
                ("vervolg", &concept.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

/// Another student than `not`, for a melding of someone else.
async fn sixteen_hours_other(app: &TestApp, not: &str) -> String {
    crate::common::pick_student(app, &[not])
}

/// The number in `<strong>N</strong>` after `marker`.
fn figure_after(html: &str, marker: &str) -> usize {
    let part = between(html, marker, "</strong>");
    part.rsplit('>').next().unwrap().trim().parse().unwrap()
}

#[tokio::test]
async fn every_count_of_duo_work_agrees() {
    let app = spawn_app().await;
    // Demo data, plus a vervolg, a concept and a settled signal.
    let (s, _) = vervolg_fixture(&app).await;
    let c = app.login("coordinator").await;

    // The domain's count over the live school, as the pages compute it.
    let records = aanwezig_web::duo_work::DuoRecords::load(&app.state)
        .await
        .unwrap();
    let (expected, students, per_student) = {
        let by = records.by_student();
        let live = app.state.read().unwrap();
        let work = aanwezig_web::duo_work::school_work(&live, &by, today(), |_| true);
        let per: Vec<(String, usize)> = work
            .iter()
            .filter(|(_, w)| w.count() > 0)
            .map(|(st, w)| (st.id.to_string(), w.count()))
            .collect();
        (per.iter().map(|(_, n)| n).sum::<usize>(), per.len(), per)
    };
    assert!(expected >= 1, "the fixture has DUO work");
    assert!(per_student.iter().any(|(id, _)| *id == s));

    // /meldingen.
    let (_, list) = app.get(&c, "/meldingen").await;
    assert_eq!(figure_after(&list, "Nog te doen:"), expected, "list");
    assert_eq!(
        list.matches("class=\"duo-summary\">").count()
            - list.matches("class=\"duo-summary\">niets te doen").count(),
        students,
        "students with work in the list"
    );

    // Mijn taken: one task per student, the counts add up.
    let (_, tasks) = app.get(&c, "/taken").await;
    let rows: Vec<&str> = tasks
        .split("<tr")
        .filter(|r| r.contains("DUO-werk:"))
        .collect();
    assert_eq!(rows.len(), students, "one DUO task per student");
    let total: usize = rows
        .iter()
        .map(|r| {
            let after = &r[r.find("DUO-werk: ").unwrap() + "DUO-werk: ".len()..];
            after.split(' ').next().unwrap().parse::<usize>().unwrap()
        })
        .sum();
    assert_eq!(total, expected, "Mijn taken");

    // The Weekoverzicht: its "Vandaag" part names the total and the
    // students (the week's rows are a part of it).
    let (_, overview) = app.get(&c, "/").await;
    let total_text = overview
        .split("In totaal ")
        .nth(1)
        .expect("the Weekoverzicht names the DUO work in total");
    let figure_here: usize = total_text.split(' ').next().unwrap().parse().unwrap();
    assert_eq!(figure_here, expected, "Weekoverzicht");
    let for_students = total_text.split(" te doen voor ").nth(1).unwrap();
    let students_here: usize = for_students.split(' ').next().unwrap().parse().unwrap();
    assert_eq!(students_here, students, "Weekoverzicht: students with work");

    // The dossier of each student with work.
    for (id, n) in &per_student {
        let (status, page) = app.get(&c, &format!("/leerlingen/{id}/dossier")).await;
        assert_eq!(status, StatusCode::OK);
        let duties = if page.contains("class=\"duo-duties\"") {
            between(&page, "class=\"duo-duties\"", "</ul>")
                .matches("<li")
                .count()
        } else {
            0
        };
        assert_eq!(duties, *n, "dossier of {id}");
    }
}

/// A case at 4b for `s` with the family's (non-)cooperation decided, so
/// that 5b is a step the case may take.
pub(crate) async fn case_at_4b(app: &TestApp, s: &str) {
    open_case(app, s, "4b", &[]).await;
    let id = StudentId::parse(s).unwrap();
    let mut case = app.store.case(&id).await.unwrap().unwrap();
    case.decide(Decision {
        on: today(),
        by: Actor::new("coordinator", Role::Verzuimcoordinator),
        kind: DecisionKind::Cooperation { cooperates: false },
        parties: vec![Party::Ouders],
        note: String::new(),
    })
    .unwrap();
    app.store
        .save_case(&case, "coordinator", now())
        .await
        .unwrap();
}

#[tokio::test]
async fn past_4b_with_the_melding_open_asks_for_a_confirmation() {
    let app = spawn_app().await;
    let s = sixteen_hours(&app).await;
    case_at_4b(&app, &s).await;
    let c = app.login("coordinator").await;
    let dossier = format!("/leerlingen/{s}/dossier");
    let (_, page) = app.get(&c, &dossier).await;
    let wat_nu = between(&page, "id=\"wat-nu\"", "</section>");
    assert!(wat_nu.contains("De DUO-melding doen"), "{wat_nu}");
    assert!(page.contains("name=\"duo_bevestigd\""));
    let (_, list) = app.get(&c, "/dossiers").await;
    assert!(list.contains("1 te doen"), "{list}");

    let step = |confirm: &'static str, reason: &'static str| {
        vec![
            ("naar", "5b"),
            ("datum", "2025-11-14"),
            ("waarom", "Ouders werken niet mee"),
            ("duo_bevestigd", confirm),
            ("duo_reden", reason),
        ]
    };
    let path = format!("{dossier}/stap");
    let (status, _, page) = app.submit(&c, &path, &step("", "")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("staat nog 1 DUO-melding open"), "{page}");
    let (status, _, page) = app.submit(&c, &path, &step("ja", " ")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("Zeg waarom"), "{page}");
    let id = StudentId::parse(&s).unwrap();
    assert_eq!(
        app.store.case(&id).await.unwrap().unwrap().step.as_str(),
        "4b"
    );

    app.post_ok(
        &c,
        &path,
        &step(
            "ja",
            "Leerplicht is al betrokken via het gesprek van vandaag",
        ),
    )
    .await;
    let case = app.store.case(&id).await.unwrap().unwrap();
    assert_eq!(case.step.as_str(), "5b");
    let why = &case.history.last().unwrap().why;
    assert!(why.contains("Toch verder met 1 open DUO-melding:"), "{why}");
    assert!(why.contains("Leerplicht is al betrokken"), "{why}");
    let log = app
        .store
        .audit_log(&AuditFilter {
            student: Some(id.clone()),
            username: Some("coordinator".into()),
            limit: 50,
        })
        .await
        .unwrap();
    assert!(
        log.iter().any(|e| e.detail.contains("Toch verder")),
        "{log:?}"
    );

    // Closing asks the same.
    let close = |confirm: &'static str| {
        vec![
            ("reden", "aanwezigheid_hersteld"),
            ("datum", "2025-11-14"),
            ("notitie", ""),
            ("duo_bevestigd", confirm),
            ("duo_reden", "Melding volgt via de vervolgmelding"),
        ]
    };
    let path = format!("{dossier}/sluiten");
    let (status, _, _) = app.submit(&c, &path, &close("")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(app.store.case(&id).await.unwrap().unwrap().is_open());

    app.post_ok(&c, &path, &close("ja")).await;
    let case = app.store.case(&id).await.unwrap().unwrap();
    let note = &case.closed.as_ref().unwrap().note;
    assert!(
        note.contains("Melding volgt via de vervolgmelding"),
        "{note}"
    );
}

#[tokio::test]
async fn no_confirmation_when_the_duty_is_done() {
    let app = spawn_app().await;
    let s = sixteen_hours(&app).await;
    case_at_4b(&app, &s).await;
    let c = app.login("coordinator").await;
    // The melding made from the signal and registered.
    let at = app
        .post_ok(
            &c,
            "/meldingen/nieuw",
            &[
                ("leerling", s.as_str()),
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
    let mut d = app.store.melding(n).await.unwrap().unwrap();
    d.status = MeldingStatus::Geregistreerd;
    d.registered_on = Some(today());
    app.store
        .save_melding(Some(n), &d, "coordinator", now())
        .await
        .unwrap();
    let dossier = format!("/leerlingen/{s}/dossier");
    let (_, page) = app.get(&c, &dossier).await;
    assert!(!page.contains("name=\"duo_bevestigd\""), "nothing open");
    app.post_ok(
        &c,
        &format!("{dossier}/stap"),
        &[
            ("naar", "5b"),
            ("datum", "2025-11-14"),
            ("waarom", "Ouders werken niet mee"),
        ],
    )
    .await;
}
