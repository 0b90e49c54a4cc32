//! BSN and onderwijsnummer: who sees them (student page, JSON API, DUO
//! melding), registering a melding needs one, and the students import
//! reads them, warns, and keeps them when a file has no such column.

use aanwezig_domain::duo::NO_PERSONAL_NUMBER_NL;
use aanwezig_domain::{Bsn, MeldingStatus, Onderwijsnummer, StudentId};
use aanwezig_storage::StoredStudent;
use reqwest::StatusCode;

use crate::common::{sixteen_hours, spawn_app, store_melding, student, TestApp};
use crate::import::{import, upload};

/// Sets the student's numbers in the store and reloads the live school.
async fn set_numbers(app: &TestApp, id: &str, bsn: Option<&str>, own: Option<&str>) {
    let mut s = student(app, id);
    s.bsn = bsn.map(|b| Bsn::parse(b).unwrap());
    s.onderwijsnummer = own.map(|o| Onderwijsnummer::parse(o).unwrap());
    app.store
        .upsert_students(&[StoredStudent {
            student: s,
            left_on: None,
        }])
        .await
        .unwrap();
    app.state.reload().await.unwrap();
}

#[tokio::test]
async fn the_mentor_does_not_see_the_bsn_and_the_coordinator_does() {
    let app = spawn_app().await;
    let id = app.own_student.clone();
    // Made-up numbers that pass the elfproef.
    set_numbers(&app, &id, Some("123456782"), Some("101222331")).await;
    let page = format!("/leerlingen/{id}");
    let api = format!("/api/leerlingen/{id}");

    let mentor = app.login("mentor").await;
    let (status, html) = app.get(&mentor, &page).await;
    assert_eq!(status, StatusCode::OK, "the mentor sees their own student");
    assert!(!html.contains("123456782") && !html.contains("101222331"));
    assert!(!html.contains("<dt>BSN</dt>"), "not even the label");
    let (status, json) = app.get(&mentor, &api).await;
    assert_eq!(status, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["id"], id.as_str());
    assert!(
        v.get("bsn").is_none() && v.get("onderwijsnummer").is_none(),
        "{v}"
    );

    for coordinator in ["coordinator", "zorg"] {
        let c = app.login(coordinator).await;
        let (status, html) = app.get(&c, &page).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("<dt>BSN</dt>"), "{coordinator}");
        assert!(html.contains("123456782") && html.contains("101222331"));
        let (_, json) = app.get(&c, &api).await;
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["bsn"], "123456782", "{coordinator}");
        assert_eq!(v["onderwijsnummer"], "101222331");
    }

    // The audit log records the reads, never the number.
    let log = app
        .store
        .audit_log(&aanwezig_storage::AuditFilter {
            student: Some(StudentId::parse(&id).unwrap()),
            username: None,
            limit: 100,
        })
        .await
        .unwrap();
    assert!(log.len() >= 4, "{log:?}");
    assert!(log.iter().all(|e| !e.detail.contains("123456782")));

    // A student without numbers: the coordinator reads why that matters.
    set_numbers(&app, &id, None, None).await;
    let c = app.login("coordinator").await;
    let (_, html) = app.get(&c, &page).await;
    assert!(
        html.contains("Van deze leerling is geen BSN en geen onderwijsnummer bekend"),
        "{html}"
    );
    let (_, json) = app.get(&c, &api).await;
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(v.get("bsn").is_none(), "absent when unknown: {v}");
}

#[tokio::test]
async fn a_melding_without_bsn_or_onderwijsnummer_cannot_be_registered() {
    let app = spawn_app().await;
    let s = sixteen_hours(&app).await;
    set_numbers(&app, &s, None, None).await;
    let n = store_melding(&app, &student(&app, &s), MeldingStatus::Concept).await;
    let at = format!("/meldingen/{n}");
    let c = app.login("coordinator").await;

    // The draft says plainly what is missing.
    let (status, html) = app.get(&c, &at).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(
            "geen BSN of onderwijsnummer bekend; een DUO-melding heeft een van beide nodig"
        ),
        "{html}"
    );
    assert!(
        html.contains(NO_PERSONAL_NUMBER_NL),
        "in the list of what is missing"
    );

    // Registering is refused with the reason, and nothing changes.
    let r = app
        .post_form(
            &c,
            &format!("{at}/status"),
            &[("naar", "geregistreerd"), ("datum", "2025-11-14")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("Niet gemeld"), "{html}");
    assert!(html.contains(NO_PERSONAL_NUMBER_NL), "{html}");
    assert_eq!(
        app.store.melding(n).await.unwrap().unwrap().status,
        MeldingStatus::Concept
    );
    let (_, text) = app.get(&c, &format!("{at}/export.txt")).await;
    assert!(
        text.contains("Persoonsgebonden nummer: geen BSN of onderwijsnummer bekend"),
        "{text}"
    );

    // With an onderwijsnummer it goes through, and the printed form and the
    // text show it to the coordinator.
    set_numbers(&app, &s, None, Some("101222331")).await;
    let (_, html) = app.get(&c, &format!("{at}/afdruk")).await;
    assert!(html.contains("onderwijsnummer 101222331"), "{html}");
    let (_, text) = app.get(&c, &format!("{at}/export.txt")).await;
    assert!(
        text.contains("Persoonsgebonden nummer: onderwijsnummer 101222331"),
        "{text}"
    );
    // A complete melding of a student without a dossier: registered only
    // when the coordinator confirms, and the confirmation is recorded.
    let r = app
        .post_form(
            &c,
            &format!("{at}/status"),
            &[("naar", "geregistreerd"), ("datum", "2025-11-14")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Nog niet gemeld: er is geen open dossier voor deze leerling"),
        "{html}"
    );
    assert!(html.contains("name=\"bevestigd\""), "{html}");
    let r = app
        .post_form(
            &c,
            &format!("{at}/status"),
            &[
                ("naar", "geregistreerd"),
                ("datum", "2025-11-14"),
                ("bevestigd", "ja"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let audit = app
        .store
        .audit_log(&aanwezig_storage::AuditFilter::default())
        .await
        .unwrap();
    assert!(
        audit.iter().any(|e| e
            .detail
            .contains("bevestigd hoewel er is geen open dossier")),
        "the confirmation is recorded"
    );

    // The meldingsnummer DUO returned: refused when malformed, then kept
    // and shown.
    let r = app
        .post_form(&c, &format!("{at}/nummer"), &[("meldingsnummer", "12 34")])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let to = app
        .post_ok(
            &c,
            &format!("{at}/nummer"),
            &[("meldingsnummer", "VZ-000123")],
        )
        .await;
    let (_, confirmed) = app.get(&c, &to).await;
    assert!(
        confirmed.contains("Het meldingsnummer van DUO is opgeslagen."),
        "a confirmation after the save: {confirmed}"
    );
    let (_, page) = app.get(&c, &at).await;
    assert!(page.contains("VZ-000123"), "{page}");
    let (_, list) = app.get(&c, "/meldingen").await;
    assert!(list.contains("DUO VZ-000123"), "in the list: {list}");
    let (_, print) = app.get(&c, &format!("{at}/afdruk")).await;
    assert!(
        print.contains("Meldingsnummer van DUO</dt><dd>VZ-000123"),
        "{print}"
    );
    // The verzuimdagen and -uren the law asks for, on the page and the print.
    assert!(
        print.contains("<dt>Verzuimdagen en -uren</dt><dd>"),
        "{print}"
    );
    assert!(page.contains("<dt>Verzuim</dt><dd>"), "{page}");
    assert!(
        page.contains(" uur</dd>") && page.contains("lesu"),
        "{page}"
    );
    assert_eq!(
        app.store.melding(n).await.unwrap().unwrap().status,
        MeldingStatus::Geregistreerd
    );

    // Leerplicht reads the registered melding, without the number.
    crate::common::open_case(&app, &s, "4b", &["leerplicht"]).await;
    let lp = app.login("leerplicht").await;
    let (status, html) = app.get(&lp, &format!("{at}/afdruk")).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(!html.contains("101222331"), "{html}");
    assert!(html.contains("alleen zichtbaar voor de coördinatoren"));
}

/// The stored student `id`'s numbers.
async fn stored_numbers(app: &TestApp, id: &str) -> (Option<String>, Option<String>) {
    let s = app
        .store
        .student(&StudentId::parse(id).unwrap())
        .await
        .unwrap()
        .unwrap()
        .student;
    (s.bsn.map(String::from), s.onderwijsnummer.map(String::from))
}

#[tokio::test]
async fn the_students_preview_lists_warnings_and_a_file_without_bsn_keeps_them() {
    let app = spawn_app().await;
    let c = app.login("beheer").await;

    // A bad BSN is an error naming line and column; nothing is imported.
    let bad = "student_id,name,class,mentor,date_of_birth,bsn\n\
               990001,Een,1Z,mentor,2012-01-01,123456783\n";
    let r = upload(&app, &c, "leerlingen", "leerlingen.csv", bad).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(
        html.contains(
            "<td class=\"num\">2</td>\n        <td>bsn</td>\n        <td>het BSN klopt niet: het voldoet niet aan de elfproef"
        ),
        "line 2, column bsn: {html}"
    );

    // Warnings, grouped; the numbers counted, never shown.
    let body = "student_id,name,class,mentor,date_of_birth,bsn\n\
                990001,Een,1Z,onbekend,2020-01-01,123456782\n\
                990002,Twee,1Z,onbekend,1990-01-01,\n\
                990003,Drie,1Z,mentor,2012-01-01,111222333\n";
    let r = upload(&app, &c, "leerlingen", "leerlingen.csv", body).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let job = r.headers()["location"].to_str().unwrap().to_owned();
    let (_, html) = app.get(&c, &job).await;
    assert!(html.contains("Waarschuwingen"), "{html}");
    assert!(
        html.contains(
            "regel 2, kolom mentor: mentor &#x27;onbekend&#x27; is geen gebruiker van aanwezig; zo ziet geen mentor deze leerling (2 regels, eerste op regel 2)"
        ) || html.contains(
            "regel 2, kolom mentor: mentor &#39;onbekend&#39; is geen gebruiker van aanwezig; zo ziet geen mentor deze leerling (2 regels, eerste op regel 2)"
        ),
        "{html}"
    );
    assert!(html.contains(
        "regel 2, kolom date_of_birth: volgens de geboortedatum is de leerling jonger dan 10 jaar"
    ));
    assert!(html.contains(
        "regel 3, kolom date_of_birth: volgens de geboortedatum is de leerling ouder dan 23 jaar"
    ));
    assert!(!html.contains("123456782") && !html.contains("111222333"));
    let met_bsn = html
        .find("Met een BSN")
        .expect("a figure of students with a BSN");
    assert!(
        html[met_bsn..].starts_with("Met een BSN</th><td class=\"num\">2</td>"),
        "{}",
        &html[met_bsn..met_bsn + 60]
    );
    assert!(html.contains("Het bestand heeft geen kolom onderwijsnummer"));

    let done = import(&app, &c, "leerlingen", "leerlingen.csv", body).await;
    assert!(done.contains("De import is klaar"), "{done}");
    assert_eq!(
        stored_numbers(&app, "990001").await,
        (Some("123456782".into()), None)
    );

    // A later file without the bsn column keeps the stored BSNs.
    let without = "student_id,name,class,mentor,date_of_birth\n\
                   990001,Een,2Z,mentor,2012-01-01\n";
    let r = upload(&app, &c, "leerlingen", "zonder.csv", without).await;
    let job = r.headers()["location"].to_str().unwrap().to_owned();
    let (_, html) = app.get(&c, &job).await;
    assert!(
        html.contains(
            "Het bestand heeft geen kolom bsn: de BSN&#x27;s die al bekend zijn, blijven staan."
        ) || html.contains(
            "Het bestand heeft geen kolom bsn: de BSN&#39;s die al bekend zijn, blijven staan."
        ),
        "{html}"
    );
    import(&app, &c, "leerlingen", "zonder.csv", without).await;
    assert_eq!(
        stored_numbers(&app, "990001").await,
        (Some("123456782".into()), None),
        "a file without the column wipes nothing"
    );
    // An empty cell in the column clears it.
    let empty = "student_id,name,class,mentor,date_of_birth,bsn\n\
                 990001,Een,2Z,mentor,2012-01-01,\n";
    import(&app, &c, "leerlingen", "leeg.csv", empty).await;
    assert_eq!(stored_numbers(&app, "990001").await, (None, None));
    assert_eq!(
        stored_numbers(&app, "990003").await,
        (Some("111222333".into()), None),
        "a student not in the file keeps everything"
    );
}
