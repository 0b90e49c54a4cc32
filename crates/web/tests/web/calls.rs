//! Stap 2 without a dossier: a mentor records the call from Bel vandaag,
//! Mijn taken or the student page; a reached call takes the student off the
//! lists, a missed one moves the task to the next school day; the nature
//! of an illness is refused; nobody outside the class records one.

use reqwest::{Client, StatusCode};

use crate::common::{csrf_in, spawn_app, today, TestApp};
use crate::tasks::{absent_whole_days, name_of, quiet_student, row_with};

async fn post_call(
    app: &TestApp,
    c: &Client,
    id: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let (status, html) = app
        .get(
            c,
            &format!("/leerlingen/{id}/gebeld?sinds=2025-11-14&terug=overzicht"),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let csrf = csrf_in(&html).unwrap();
    let mut form = vec![
        ("csrf", csrf.as_str()),
        ("sinds", "2025-11-14"),
        ("terug", "overzicht"),
    ];
    form.extend_from_slice(fields);
    c.post(app.url(&format!("/leerlingen/{id}/gebeld")))
        .form(&form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_mentor_records_calls_and_the_lists_follow() {
    let app = spawn_app().await;
    let id = quiet_student(&app, &app.mentor_class);
    let name = name_of(&app, &id);
    absent_whole_days(&app, &id, &[today()]).await;
    let c = app.login("mentor").await;

    // Bel vandaag offers the form; nothing in it is chosen beforehand.
    let (_, html) = app.get(&c, "/").await;
    let row = row_with(&html, &name, "Gebeld").expect("on Bel vandaag");
    assert!(
        row.contains(&format!("/leerlingen/{id}/gebeld?sinds=2025-11-14")),
        "{row}"
    );
    let (_, form) = app
        .get(&c, &format!("/leerlingen/{id}/gebeld?sinds=2025-11-14"))
        .await;
    assert!(!form.contains(" checked"), "no preselected answer");
    assert!(form.contains("<legend>Wie heeft u gesproken?</legend>"));

    // An empty form: an error summary that links to the field.
    let r = post_call(&app, &c, &id, &[]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("class=\"error-summary\""), "{html}");
    assert!(
        html.contains("<a href=\"#f-bereikt\">Kies wie u heeft gesproken"),
        "{html}"
    );

    // The nature of an illness is refused.
    let r = post_call(
        &app,
        &c,
        &id,
        &[
            ("bereikt", "ouder"),
            ("datum", "2025-11-14"),
            ("hoe", "Thuis met buikgriep"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("buikgriep"));
    let sid = aanwezig_domain::StudentId::parse(&id).unwrap();
    assert!(app.store.student_calls(&sid).await.unwrap().is_empty());

    // Nobody reached: the call stays due, on the next school day.
    let r = post_call(
        &app,
        &c,
        &id,
        &[("bereikt", "niemand"), ("datum", "2025-11-14")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/?gebeld=1#bellen");
    let (_, html) = app.get(&c, "/?gebeld=1").await;
    assert!(html.contains("Het gesprek is opgeslagen"), "confirmation");
    let row = row_with(&html, &name, "Gebeld").expect("still on Bel vandaag");
    assert!(row.contains("niet bereikt, opnieuw"), "{row}");
    let (_, tasks) = app.get(&c, "/taken").await;
    assert!(row_with(&tasks, "Bellen", &name).is_some());

    // A parent reached: off Bel vandaag and Mijn taken, kept on the
    // student page.
    let r = post_call(
        &app,
        &c,
        &id,
        &[
            ("bereikt", "ouder"),
            ("datum", "2025-11-14"),
            ("hoe", "Gaat al beter"),
            ("school", "Huiswerk mailen"),
            ("terug_op", "2025-11-18"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = app.get(&c, "/").await;
    assert!(
        row_with(&html, &name, "Gebeld").is_none(),
        "off Bel vandaag"
    );
    let (_, tasks) = app.get(&c, "/taken").await;
    assert!(
        row_with(&tasks, "Bellen", &name).is_none(),
        "off Mijn taken"
    );
    let (_, page) = app.get(&c, &format!("/leerlingen/{id}")).await;
    assert!(page.contains("ouder of verzorger gesproken"), "{page}");
    assert!(page.contains("Gaat al beter"));
    assert!(page.contains("niet bereikt"));
    let audit = app
        .store
        .audit_log(&aanwezig_storage::AuditFilter::default())
        .await
        .unwrap();
    assert!(audit
        .iter()
        .any(|e| e.detail.contains("gesprek stap 2") && e.username == "mentor"));
}

#[tokio::test]
async fn worries_lead_to_a_dossier_and_strangers_record_nothing() {
    let app = spawn_app().await;
    let id = quiet_student(&app, &app.mentor_class);
    absent_whole_days(&app, &id, &[today()]).await;
    let c = app.login("coordinator").await;
    let r = post_call(
        &app,
        &c,
        &id,
        &[
            ("bereikt", "leerling"),
            ("datum", "2025-11-14"),
            ("zorgen", "ja"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(to, format!("/leerlingen/{id}?gebeld=zorgen#gesprekken"));
    let (_, page) = app.get(&c, &to).await;
    assert!(page.contains("U maakt zich zorgen"), "{page}");
    assert!(page.contains("#openen\">Dossier openen</a>"), "{page}");

    // No absence run on that day: refused.
    let (_, html) = app
        .get(&c, &format!("/leerlingen/{id}/gebeld?sinds=2025-11-14"))
        .await;
    let csrf = csrf_in(&html).unwrap();
    let r = c
        .post(app.url(&format!("/leerlingen/{id}/gebeld")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("sinds", "2025-11-12"),
            ("bereikt", "ouder"),
            ("datum", "2025-11-14"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("niet voor het eerst de hele dag afwezig"));

    // The jeugdarts records no calls.
    let arts = app.login("jeugdarts").await;
    let r = arts
        .get(app.url(&format!("/leerlingen/{id}/gebeld")))
        .send()
        .await
        .unwrap();
    assert!(matches!(
        r.status(),
        StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
    ));
}
