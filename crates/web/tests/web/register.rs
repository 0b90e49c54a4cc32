//! Registering a class's lesson and correcting one lesson.

use aanwezig_domain::{Category, RegistrationRecord, RuleId, StudentId};
use aanwezig_storage::{AuditAction, AuditFilter, Store};
use chrono::NaiveDate;
use reqwest::{Client, StatusCode};

use crate::common::{spawn_app, today, TestApp};

fn seg(s: &str) -> String {
    s.replace(' ', "%20")
}

fn date() -> NaiveDate {
    today()
}

/// The stored state of one lesson.
async fn stored(app: &TestApp, id: &str, lesson: u8) -> Option<RegistrationRecord> {
    app.store
        .student_registrations(&StudentId::parse(id).unwrap())
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.date == date() && r.lesson == lesson)
}

/// A student of `class` without an open `contact` or `unexplained` signal
/// on the last evaluated day (so that a new one can be seen to appear).
fn quiet_student(app: &TestApp, class: &str) -> String {
    let live = app.state.read().unwrap();
    let d = live.through.unwrap();
    live.school
        .students()
        .iter()
        .zip(&live.evaluations)
        .find(|(s, ev)| {
            s.class == class
                && !ev.signals.iter().any(|sig| {
                    matches!(sig.rule, RuleId::Contact | RuleId::Unexplained)
                        && (sig.is_open_on(d) || sig.fired_on == d)
                })
        })
        .map(|(s, _)| s.id.to_string())
        .expect("a student without an unexplained signal today")
}

async fn post_form(
    app: &TestApp,
    c: &Client,
    path: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    c.post(app.url(path)).form(form).send().await.unwrap()
}

#[tokio::test]
async fn mentor_registers_own_class_and_signals_update_at_once() {
    let app = spawn_app().await;
    let c = app.login("mentor").await;
    let (status, html) = app.get(&c, "/registreren").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&app.mentor_class), "own class offered");
    assert!(html.contains("08:30"), "lesson start times shown");

    // The plain GET form leads to the register.
    let r = c
        .get(app.url(&format!(
            "/registreren?klas={}&datum={}&lesuur=1",
            seg(&app.mentor_class),
            date()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let path = format!("/registreren/{}/{}/1", seg(&app.mentor_class), date());
    assert_eq!(r.headers()["location"], path.as_str());

    let target = quiet_student(&app, &app.mentor_class);
    let (status, html) = app.get(&c, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&target));
    assert!(html.contains("A — onbekend afwezig"), "codes labelled");

    let csrf = crate::common::csrf_in(&html).unwrap();
    let r = post_form(
        &app,
        &c,
        &path,
        &[
            ("csrf", &csrf),
            ("r0_id", &target),
            ("r0_code", "A"),
            ("r0_te_laat", ""),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&format!("{path}/opgeslagen")),
        "{location}"
    );

    // Stored, with the mentor as author of the change.
    let rec = stored(&app, &target, 1).await.unwrap();
    assert_eq!(rec.code.as_deref(), Some("A"));
    assert_eq!(rec.category, Category::Unknown);

    // The signals updated in the same request.
    {
        let live = app.state.read().unwrap();
        let d = live.through.unwrap();
        let i = live.position(&target).unwrap();
        let fired = live.evaluations[i]
            .signals
            .iter()
            .any(|s| matches!(s.rule, RuleId::Contact | RuleId::Unexplained) && s.is_open_on(d));
        assert!(fired, "{:?}", live.evaluations[i].signals);
    }

    let (status, html) = app.get(&c, &location).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("A — onbekend afwezig"), "{html}");
    assert!(html.contains(&format!("/leerlingen/{target}")));

    let log = app
        .store
        .audit_log(&AuditFilter {
            student: Some(StudentId::parse(&target).unwrap()),
            username: Some("mentor".into()),
            limit: 10,
        })
        .await
        .unwrap();
    assert!(
        log.iter().any(|e| e.action == AuditAction::Change),
        "{log:?}"
    );
}

#[tokio::test]
async fn mentor_cannot_register_another_class() {
    let app = spawn_app().await;
    let other_class = {
        let live = app.state.read().unwrap();
        let i = live.position(&app.other_student).unwrap();
        live.school.students()[i].class.clone()
    };
    let c = app.login("mentor").await;
    let (_, choose) = app.get(&c, "/registreren").await;
    assert!(
        !choose.contains(&format!("<option value=\"{other_class}\"")),
        "another class is not offered"
    );
    let path = format!("/registreren/{}/{}/1", seg(&other_class), date());
    let (status, _) = app.get(&c, &path).await;
    assert!(
        status == StatusCode::NOT_FOUND || status == StatusCode::FORBIDDEN,
        "{status}"
    );
    let csrf = crate::common::csrf_in(&choose).unwrap();
    let before = stored(&app, &app.other_student, 1).await;
    let r = post_form(
        &app,
        &c,
        &path,
        &[
            ("csrf", &csrf),
            ("r0_id", &app.other_student),
            ("r0_code", "A"),
        ],
    )
    .await;
    assert!(r.status() == StatusCode::NOT_FOUND || r.status() == StatusCode::FORBIDDEN);
    assert_eq!(stored(&app, &app.other_student, 1).await, before);

    // Nor one lesson of another class's student.
    let lesson = format!(
        "/leerlingen/{}/les?datum={}&lesuur=1",
        app.other_student,
        date()
    );
    assert_eq!(app.get(&c, &lesson).await.0, StatusCode::NOT_FOUND);

    // The beheerder registers nothing.
    let b = app.login("beheer").await;
    assert_eq!(app.get(&b, "/registreren").await.0, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_invalid_row_saves_nothing() {
    let app = spawn_app().await;
    let c = app.login("coordinator").await;
    let class = app.mentor_class.clone();
    let (a, b, rest) = {
        let live = app.state.read().unwrap();
        let mut ids = live
            .school
            .students()
            .iter()
            .filter(|s| s.class == class)
            .map(|s| s.id.to_string());
        (
            ids.next().unwrap(),
            ids.next().unwrap(),
            ids.collect::<Vec<_>>(),
        )
    };
    let path = format!("/registreren/{}/{}/2", seg(&class), date());
    let (status, html) = app.get(&c, &path).await;
    assert_eq!(status, StatusCode::OK);
    let csrf = crate::common::csrf_in(&html).unwrap();
    let (before_a, before_b) = (stored(&app, &a, 2).await, stored(&app, &b, 2).await);
    let r = post_form(
        &app,
        &c,
        &path,
        &[
            ("csrf", &csrf),
            ("r0_id", &a),
            ("r0_code", "S"),
            ("r0_te_laat", ""),
            ("r1_id", &b),
            ("r1_code", "L"),
            ("r1_te_laat", "500"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("minuten te laat moet tussen 1 en 50"),
        "{html}"
    );
    assert!(html.contains("niets opgeslagen"));
    assert!(!rest.is_empty());
    for id in &rest {
        assert!(
            html.contains(&format!("value=\"{id}\"")),
            "row of {id} shown again"
        );
    }
    assert_eq!(
        stored(&app, &a, 2).await,
        before_a,
        "the valid row was not saved either"
    );
    assert_eq!(stored(&app, &b, 2).await, before_b);

    // Minutes late on a code that is not late is refused too.
    let r = post_form(
        &app,
        &c,
        &path,
        &[
            ("csrf", &csrf),
            ("r0_id", &a),
            ("r0_code", "A"),
            ("r0_te_laat", "5"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(stored(&app, &a, 2).await, before_a);
}

#[tokio::test]
async fn correcting_a_lesson_keeps_its_history() {
    let app = spawn_app().await;
    let c = app.login("coordinator").await;
    let id = app.own_student.clone();
    let path = format!("/leerlingen/{id}/les?datum={}&lesuur=3", date());
    let (status, html) = app.get(&c, &path).await;
    assert_eq!(status, StatusCode::OK);
    let csrf = crate::common::csrf_in(&html).unwrap();

    // First unknown (nobody called in), then sick after a parent called.
    for code in ["A", "Z"] {
        let r = post_form(
            &app,
            &c,
            &path,
            &[
                ("csrf", &csrf),
                ("code", code),
                ("te_laat", ""),
                ("notitie", ""),
            ],
        )
        .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{code}");
        assert_eq!(
            r.headers()["location"],
            format!("/leerlingen/{id}").as_str()
        );
    }
    let rec = stored(&app, &id, 3).await.unwrap();
    assert_eq!(rec.category, Category::ReportedSick);
    let history = app
        .store
        .registration_history(&StudentId::parse(&id).unwrap())
        .await
        .unwrap();
    let unknown = history
        .iter()
        .find(|h| h.old.date == date() && h.old.lesson == 3 && h.old.code.as_deref() == Some("A"))
        .expect("the unknown state is in the history");
    assert_eq!(unknown.old.category, Category::Unknown);
    assert_eq!(unknown.replaced.by, "coordinator");
    assert_eq!(unknown.set.by, "coordinator");

    let (_, html) = app.get(&c, &path).await;
    assert!(html.contains("A — onbekend afwezig"), "history shown");
    assert!(html.contains("Z — ziek gemeld"));
}

#[tokio::test]
async fn a_note_on_a_sick_report_is_refused() {
    let app = spawn_app().await;
    let c = app.login("mentor").await;
    let id = app.own_student.clone();
    let path = format!("/leerlingen/{id}/les?datum={}&lesuur=4", date());
    let (status, html) = app.get(&c, &path).await;
    assert_eq!(status, StatusCode::OK);
    let csrf = crate::common::csrf_in(&html).unwrap();
    let before = stored(&app, &id, 4).await;
    let r = post_form(
        &app,
        &c,
        &path,
        &[
            ("csrf", &csrf),
            ("code", "Z"),
            ("te_laat", ""),
            ("notitie", "heeft griep"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("aard van een ziekte"), "{html}");
    assert_eq!(stored(&app, &id, 4).await, before, "nothing stored");

    // A note on another code is fine.
    let r = post_form(
        &app,
        &c,
        &path,
        &[
            ("csrf", &csrf),
            ("code", "O"),
            ("te_laat", ""),
            ("notitie", "moeder belde om 8:05"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let rec = stored(&app, &id, 4).await.unwrap();
    assert_eq!(rec.note.as_deref(), Some("moeder belde om 8:05"));
}

#[tokio::test]
async fn a_register_needs_a_school_day_and_a_scheduled_lesson() {
    let app = spawn_app().await;
    let c = app.login("coordinator").await;
    let class = seg(&app.mentor_class);
    let (status, html) = app
        .get(&c, &format!("/registreren/{class}/2025-11-15/1"))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("weekend"), "{html}");
    let (status, html) = app
        .get(&c, &format!("/registreren/{class}/2025-11-14/9"))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("lesuur 9 staat niet in het lesrooster"),
        "{html}"
    );
    // The choice form says so too, and stays on the form.
    let (status, html) = app
        .get(
            &c,
            &format!("/registreren?klas={class}&datum=2025-10-21&lesuur=1"),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.to_lowercase().contains("vakantie"), "{html}");
    // Without a choice yet, a day without lessons is a notice, not an error.
    let (status, html) = app.get(&c, "/registreren?datum=2025-11-16").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("geen lessen"), "{html}");
}
