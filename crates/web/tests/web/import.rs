//! Uploading, previewing and importing students and registrations.

use aanwezig_storage::{AuditAction, AuditFilter};
use reqwest::multipart::{Form, Part};
use reqwest::{Client, StatusCode};

use crate::common::{csrf_in, spawn_app, TestApp};

pub(crate) async fn upload(
    app: &TestApp,
    c: &Client,
    kind: &str,
    name: &str,
    body: &str,
) -> reqwest::Response {
    let (status, html) = app.get(c, "/importeren").await;
    assert_eq!(status, StatusCode::OK);
    let csrf = csrf_in(&html).unwrap();
    let form = Form::new().text("soort", kind.to_owned()).part(
        "bestand",
        Part::bytes(body.as_bytes().to_vec())
            .file_name(name.to_owned())
            .mime_str("text/csv")
            .unwrap(),
    );
    c.post(app.url(&format!("/importeren?csrf={csrf}")))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// Uploads, confirms and waits for the result page; returns its HTML.
pub(crate) async fn import(
    app: &TestApp,
    c: &Client,
    kind: &str,
    name: &str,
    body: &str,
) -> String {
    let r = upload(app, c, kind, name, body).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let job = r.headers()["location"].to_str().unwrap().to_owned();
    let (status, html) = app.get(c, &job).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Importeren bevestigen"), "{html}");
    let csrf = csrf_in(&html).unwrap();
    let r = c
        .post(app.url(&format!("{job}/bevestigen")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    for _ in 0..600 {
        let (status, html) = app.get(c, &job).await;
        assert_eq!(status, StatusCode::OK);
        if html.contains("Import klaar") || html.contains("Import mislukt") {
            return html;
        }
        assert!(html.contains("<progress"), "progress shown while running");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the import did not finish");
}

fn figure(html: &str, id: &str) -> u64 {
    let key = format!("id=\"{id}\">");
    let i = html
        .find(&key)
        .unwrap_or_else(|| panic!("no {id} in {html}"))
        + key.len();
    html[i..i + html[i..].find('<').unwrap()].parse().unwrap()
}

#[tokio::test]
async fn only_beheerder_and_verzuimcoordinator_import() {
    let app = spawn_app().await;
    for (user, status) in [
        ("mentor", StatusCode::FORBIDDEN),
        ("zorg", StatusCode::FORBIDDEN),
        ("beheer", StatusCode::OK),
        ("coordinator", StatusCode::OK),
    ] {
        let c = app.login(user).await;
        assert_eq!(app.get(&c, "/importeren").await.0, status, "{user}");
    }
    // A mentor cannot post an upload either.
    let c = app.login("mentor").await;
    let (_, html) = app.get(&c, "/registreren").await;
    let csrf = csrf_in(&html).unwrap();
    let form = Form::new().text("soort", "leerlingen").part(
        "bestand",
        Part::bytes(b"student_id,name,class,mentor,date_of_birth\n".to_vec()).file_name("l.csv"),
    );
    let r = c
        .post(app.url(&format!("/importeren?csrf={csrf}")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_preview_lists_every_bad_row_and_writes_nothing() {
    let app = spawn_app().await;
    let c = app.login("coordinator").await;
    let count = app.store.registration_count().await.unwrap();
    let imports = app.store.imports().await.unwrap().len();
    let own = &app.own_student;
    let body = format!(
        "student_id,date,lesson,code\n\
         {own},2025-11-17,1,A\n\
         999999,2025-11-17,1,A\n\
         {own},2025-11-15,1,A\n\
         {own},2025-11-17,2,QQ\n"
    );
    let r = upload(&app, &c, "registraties", "fout.csv", &body).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("niets opgeslagen"), "{html}");
    for line in [3, 4, 5] {
        assert!(
            html.contains(&format!("<td class=\"num\">{line}</td>")),
            "line {line} listed: {html}"
        );
    }
    assert!(
        !html.contains("<td class=\"num\">2</td>"),
        "the good row has no error"
    );
    assert!(html.contains("fout.csv"));
    assert_eq!(app.store.registration_count().await.unwrap(), count);
    assert_eq!(app.store.imports().await.unwrap().len(), imports);
}

#[tokio::test]
async fn a_valid_import_completes_and_a_second_run_changes_nothing() {
    let app = spawn_app().await;
    let c = app.login("coordinator").await;
    let count = app.store.registration_count().await.unwrap();
    let own = &app.own_student;
    let other = &app.other_student;
    let body = format!(
        "student_id,date,lesson,minutes,code,category,minutes_late,note\n\
         {own},2025-11-17,1,,,present,,\n\
         {own},2025-11-17,2,,L,,10,\n\
         {own},2025-11-17,3,,A,,,\n\
         {other},2025-11-17,1,,O,,,tandarts\n"
    );
    let html = import(&app, &c, "registraties", "week47.csv", &body).await;
    assert!(html.contains("Import klaar"), "{html}");
    assert_eq!(figure(&html, "nieuw"), 4);
    assert_eq!(figure(&html, "gewijzigd"), 0);
    assert_eq!(figure(&html, "ongewijzigd"), 0);
    assert_eq!(app.store.registration_count().await.unwrap(), count + 4);
    let log = app.store.imports().await.unwrap();
    let last = log.last().unwrap();
    assert_eq!(last.source.file_name, "week47.csv");
    assert_eq!(last.source.imported_by, "coordinator");
    assert_eq!(last.summary.inserted, 4);

    // The same file again: every row unchanged.
    let html = import(&app, &c, "registraties", "week47.csv", &body).await;
    assert_eq!(figure(&html, "nieuw"), 0);
    assert_eq!(figure(&html, "gewijzigd"), 0);
    assert_eq!(figure(&html, "ongewijzigd"), 4);
    assert_eq!(app.store.registration_count().await.unwrap(), count + 4);

    let audit = app
        .store
        .audit_log(&AuditFilter {
            student: None,
            username: Some("coordinator".into()),
            limit: 20,
        })
        .await
        .unwrap();
    assert_eq!(
        audit
            .iter()
            .filter(|e| e.action == AuditAction::Import)
            .count(),
        2
    );
}

#[tokio::test]
async fn students_are_imported_and_the_school_reloads() {
    let app = spawn_app().await;
    let c = app.login("beheer").await;
    let before = app.state.read().unwrap().school.students().len();
    let body = "student_id,name,class,mentor,date_of_birth\n\
                990001,Nieuwe Leerling,1Z,mentor,2013-05-01\n";
    let html = import(&app, &c, "leerlingen", "nieuw.csv", body).await;
    assert_eq!(figure(&html, "nieuw"), 1);
    assert_eq!(
        app.state.read().unwrap().school.students().len(),
        before + 1
    );

    // Someone else cannot see this user's import.
    let job = {
        let r = upload(&app, &c, "leerlingen", "nieuw.csv", body).await;
        r.headers()["location"].to_str().unwrap().to_owned()
    };
    let other = app.login("coordinator").await;
    assert_eq!(app.get(&other, &job).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_xlsx_upload_is_read_like_csv() {
    let app = spawn_app().await;
    let c = app.login("coordinator").await;
    let rows = [
        ["student_id", "date", "lesson", "code"],
        [app.own_student.as_str(), "2025-11-18", "1", "Z"],
        [app.own_student.as_str(), "2025-11-18", "2", "Z"],
    ];
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (col, v) in row.iter().enumerate() {
            ws.write_string(u32::try_from(r).unwrap(), u16::try_from(col).unwrap(), *v)
                .unwrap();
        }
    }
    let bytes = wb.save_to_buffer().unwrap();
    let (_, html) = app.get(&c, "/importeren").await;
    let csrf = csrf_in(&html).unwrap();
    let form = Form::new()
        .text("soort", "registraties")
        .part("bestand", Part::bytes(bytes).file_name("week47.xlsx"));
    let r = c
        .post(app.url(&format!("/importeren?csrf={csrf}")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = app.get(&c, r.headers()["location"].to_str().unwrap()).await;
    assert!(html.contains("week47.xlsx"), "{html}");
    assert!(html.contains("Importeren bevestigen (2 regels)"), "{html}");
}

/// A valid one-row registrations file for the test school.
fn one_row(app: &TestApp, lesson: u8) -> String {
    format!(
        "student_id,date,lesson,code\n{},2025-11-17,{lesson},A\n",
        app.own_student
    )
}

async fn uploaded_job(app: &TestApp, c: &Client, body: &str) -> String {
    let r = upload(app, c, "registraties", "week47.csv", body).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    r.headers()["location"].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_new_upload_replaces_the_users_waiting_preview_and_previews_expire() {
    let app = spawn_app().await;
    let c = app.login("coordinator").await;
    let first = uploaded_job(&app, &c, &one_row(&app, 1)).await;
    let second = uploaded_job(&app, &c, &one_row(&app, 2)).await;
    assert_eq!(app.get(&c, &first).await.0, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&c, &second).await.0, StatusCode::OK);
    assert_eq!(app.state.imports.lock().unwrap().len(), 1);

    // Another user's preview is theirs alone and stays.
    let b = app.login("beheer").await;
    let theirs = uploaded_job(&app, &b, &one_row(&app, 3)).await;
    assert_eq!(app.get(&c, &second).await.0, StatusCode::OK);
    assert_eq!(app.get(&c, &theirs).await.0, StatusCode::NOT_FOUND);

    // Half an hour later both previews are gone, and confirming one
    // imports nothing.
    app.clock.advance(chrono::Duration::minutes(31));
    let c = app.login("coordinator").await;
    assert_eq!(app.get(&c, &second).await.0, StatusCode::NOT_FOUND);
    let count = app.store.registration_count().await.unwrap();
    let (status, _, _) = app.submit(&c, &format!("{second}/bevestigen"), &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(app.store.registration_count().await.unwrap(), count);
    assert!(app.state.imports.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_preview_confirmed_after_the_school_changed_is_checked_again() {
    let app = spawn_app().await;
    let c = app.login("coordinator").await;
    let own = app.own_student.clone();
    let job = uploaded_job(&app, &c, &one_row(&app, 1)).await;
    // The student leaves the school's list meanwhile: the file no longer
    // fits, and nothing is written.
    let id = aanwezig_domain::StudentId::parse(&own).unwrap();
    app.store.purge_student(&id).await.unwrap();
    app.state.reload().await.unwrap();
    let count = app.store.registration_count().await.unwrap();
    let (status, _, _) = app.submit(&c, &format!("{job}/bevestigen"), &[]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let mut html = String::new();
    for _ in 0..600 {
        html = app.get(&c, &job).await.1;
        if html.contains("Import klaar") || html.contains("Import mislukt") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(html.contains("Import mislukt"), "{html}");
    assert!(html.contains("past niet meer"), "{html}");
    assert_eq!(app.store.registration_count().await.unwrap(), count);
}

/// Uploads `bytes` with extra form fields (format, period).
async fn upload_with(
    app: &TestApp,
    c: &Client,
    kind: &str,
    name: &str,
    bytes: Vec<u8>,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let (status, html) = app.get(c, "/importeren").await;
    assert_eq!(status, StatusCode::OK);
    let csrf = csrf_in(&html).unwrap();
    let mut form = Form::new().text("soort", kind.to_owned());
    for (k, v) in fields {
        form = form.text((*k).to_owned(), (*v).to_owned());
    }
    let form = form.part(
        "bestand",
        Part::bytes(bytes)
            .file_name(name.to_owned())
            .mime_str("text/csv")
            .unwrap(),
    );
    c.post(app.url(&format!("/importeren?csrf={csrf}")))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// Confirms a waiting preview (with the given form fields) and waits for
/// the result page.
async fn confirm_and_wait(app: &TestApp, c: &Client, job: &str, fields: &[(&str, &str)]) -> String {
    let (_, html) = app.get(c, job).await;
    let csrf = csrf_in(&html).unwrap();
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    let r = c
        .post(app.url(&format!("{job}/bevestigen")))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    for _ in 0..600 {
        let (_, html) = app.get(c, job).await;
        if html.contains("Import klaar") || html.contains("Import mislukt") {
            return html;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the import did not finish");
}

/// A Magister export as Dutch Excel saves it: `;`, Windows-1252, D-M-JJJJ,
/// columns named the Magister way, a code the policy does not have.
fn magister_export(own: &str, other: &str, with_last: bool) -> Vec<u8> {
    let mut text = String::from(
        "Stamnr;Naam;Datum;Lesuur;Code;Omschrijving;Geoorloofd;Verantwoordingtype;Opmerking\r\n",
    );
    text.push_str(&format!(
        "{own};Sanne Öztürk;17-11-2025;1;A;Absent;Nee;1;\r\n"
    ));
    text.push_str(&format!(
        "{own};Sanne Öztürk;17-11-2025;2;Zb;Ziek, bericht;Ja;3;\r\n"
    ));
    if with_last {
        text.push_str(&format!(
            "{other};Daan;18-11-2025;3;T;Te laat;Ja;2;bus te laat (café)\r\n"
        ));
    }
    encoding_rs::WINDOWS_1252.encode(&text).0.into_owned()
}

#[tokio::test]
async fn a_magister_export_is_previewed_imported_and_reimported() {
    let app = spawn_app().await;
    let c = app.login("coordinator").await;
    let (own, other) = (app.own_student.clone(), app.other_student.clone());
    let period = [
        ("formaat", "magister"),
        ("van", "2025-11-17"),
        ("tot", "2025-11-18"),
    ];
    let r = upload_with(
        &app,
        &c,
        "registraties",
        "absenties.csv",
        magister_export(&own, &other, true),
        &period,
    )
    .await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    let job = r.headers()["location"].to_str().unwrap().to_owned();
    let (_, html) = app.get(&c, &job).await;
    for want in [
        "Zo leest de app de kolommen",
        "<td>Stamnr</td><td>leerlingnummer</td>",
        "Niet gebruikt: Naam.",
        "Code &#39;Zb&#39; staat niet in het beleid",
        "name=\"codes_toevoegen\"",
        "Zb = ziek gemeld",
        "uit van een export met alleen afwezigheid: een les zonder registratie",
        "Lessen die weer aanwezig worden",
        "maandag 17 november 2025 tot en met dinsdag 18 november 2025",
    ] {
        assert!(html.contains(want), "{want} in {html}");
    }
    let html = confirm_and_wait(&app, &c, &job, &[("codes_toevoegen", "ja")]).await;
    assert!(html.contains("Import klaar"), "{html}");
    assert!(html.contains("Het beleid is bijgewerkt"), "{html}");
    let policy = app.store.policy().await.unwrap().unwrap();
    assert_eq!(policy.presence, aanwezig_domain::Presence::Implied);
    assert_eq!(
        policy.codes.get("Zb"),
        Some(&aanwezig_domain::Category::ReportedSick)
    );
    let late = app
        .store
        .student_registrations(&aanwezig_domain::StudentId::parse(&other).unwrap())
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.date.to_string() == "2025-11-18" && r.lesson == 3)
        .unwrap();
    assert_eq!(late.category, aanwezig_domain::Category::LateExcused);
    assert_eq!(late.note.as_deref(), Some("bus te laat (café)"));

    // The next day's export no longer has the late arrival: it is present.
    let r = upload_with(
        &app,
        &c,
        "registraties",
        "absenties-2.csv",
        magister_export(&own, &other, false),
        &period,
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let job = r.headers()["location"].to_str().unwrap().to_owned();
    let (_, html) = app.get(&c, &job).await;
    assert!(
        html.contains("Lessen die weer aanwezig worden (staan niet meer in de export)</th><td class=\"num\">1</td>"),
        "{html}"
    );
    assert!(!html.contains("codes_toevoegen"), "Zb is in the policy now");
    let html = confirm_and_wait(&app, &c, &job, &[]).await;
    assert_eq!(figure(&html, "aanwezig"), 1, "{html}");
    let after = app
        .store
        .student_registrations(&aanwezig_domain::StudentId::parse(&other).unwrap())
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.date.to_string() == "2025-11-18" && r.lesson == 3)
        .unwrap();
    assert_eq!(after.category, aanwezig_domain::Category::Present);
}

#[tokio::test]
async fn a_timetable_is_previewed_and_saved_as_a_new_version() {
    let app = spawn_app().await;
    let c = app.login("coordinator").await;
    let class = app.mentor_class.clone();
    let body = format!("klas;weekday;lessons\n{class};ma;1-6\n{class};wo;1-4\n");
    let body = body.replace("klas;", "class;");
    let r = upload_with(&app, &c, "rooster", "rooster.csv", body.into_bytes(), &[]).await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    let job = r.headers()["location"].to_str().unwrap().to_owned();
    let (_, html) = app.get(&c, &job).await;
    assert!(
        html.contains(&format!(
            "<td>klas {class}</td><td>woensdag</td><td>1, 2, 3, 4</td>"
        )),
        "{html}"
    );
    assert!(
        html.contains("Deze klassen staan niet in het rooster"),
        "{html}"
    );
    let html = confirm_and_wait(&app, &c, &job, &[]).await;
    assert!(
        html.contains("Het rooster is opgeslagen (versie 1)."),
        "{html}"
    );
    let t = app.store.timetable().await.unwrap().unwrap();
    assert_eq!(t.rows.len(), 2);

    // A lesson outside the lesson schedule is refused with its line.
    let r = upload_with(
        &app,
        &c,
        "rooster",
        "rooster.csv",
        format!("class;weekday;lessons\n{class};di;1-9\n").into_bytes(),
        &[],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("<td class=\"num\">2</td>"), "{html}");
}

#[tokio::test]
async fn import_settings_are_saved_and_used() {
    let app = spawn_app().await;
    let c = app.login("coordinator").await;
    let (_, html) = app.get(&c, "/instellingen/import").await;
    let csrf = csrf_in(&html).unwrap();
    let r = c
        .post(app.url("/instellingen/import"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("formaat", "magister"),
            ("aanwezigheid", "auto"),
            ("kolom_student_id", "Leerling nr"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, html) = app.get(&c, "/instellingen/import?opgeslagen=1").await;
    assert!(html.contains("value=\"Leerling nr\""), "{html}");
    // The upload form now proposes Magister, and a file with the school's
    // own column name reads.
    let (_, html) = app.get(&c, "/importeren").await;
    assert!(
        html.contains("<option value=\"magister\" selected>"),
        "{html}"
    );
    let own = &app.own_student;
    let body = format!("Leerling nr;Datum;Lesuur;Code\n{own};17-11-2025;1;A\n");
    let r = upload_with(&app, &c, "registraties", "x.csv", body.into_bytes(), &[]).await;
    assert_eq!(
        r.status(),
        StatusCode::SEE_OTHER,
        "{}",
        r.text().await.unwrap()
    );
    let job = r.headers()["location"].to_str().unwrap().to_owned();
    let (_, html) = app.get(&c, &job).await;
    assert!(
        html.contains("<td>Leerling nr</td><td>leerlingnummer</td>"),
        "{html}"
    );

    // Two columns with one name are refused.
    let r = c
        .post(app.url("/instellingen/import"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("formaat", "canonical"),
            ("kolom_date", "Dag"),
            ("kolom_lesson", "DAG"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("De kolomnaam"));
    let audit = app.store.audit_log(&AuditFilter::default()).await.unwrap();
    assert!(audit.iter().any(|e| e.action == AuditAction::Settings
        && e.detail
            .contains("importinstellingen versie 1: Magister (afwezigheid per les)")));
}

/// The Importeren page shows what the watched import folder did: each
/// file with its outcome, and for a refused one its errors.
#[tokio::test]
async fn the_watched_folder_is_shown_on_the_importeren_page() {
    use aanwezig_web::import_dir::{
        DropCounts, DropKind, DropOutcome, DropResult, ImportDirStatus,
    };
    let status = std::sync::Arc::new(ImportDirStatus::new(
        "/srv/aanwezig/import",
        std::time::Duration::from_secs(10),
    ));
    let at = crate::common::now();
    status.record(DropOutcome {
        file_name: "absenties.csv".into(),
        kind: DropKind::Registrations,
        at,
        result: DropResult::Imported {
            counts: Some(DropCounts {
                rows: 12,
                inserted: 12,
                updated: 0,
                unchanged: 0,
            }),
            summary: vec!["absenties.csv: 12 registraties, 12 nieuw".into()],
        },
        moved_to: Some("verwerkt/2025-11-14T090000_absenties.csv".into()),
        problem: None,
    });
    status.record(DropOutcome {
        file_name: "kapot.csv".into(),
        kind: DropKind::Registrations,
        at,
        result: DropResult::Failed {
            errors: vec!["kapot.csv, regel 3, kolom Datum: 31-9-2025 bestaat niet".into()],
            total: 4,
        },
        moved_to: Some("fout/2025-11-14T090000_kapot.csv".into()),
        problem: None,
    });
    let app = crate::common::spawn_app_full(Default::default(), Some(status)).await;
    let c = app.login("coordinator").await;
    let (status, html) = app.get(&c, "/importeren").await;
    assert_eq!(status, StatusCode::OK);
    for want in [
        "<code>/srv/aanwezig/import</code>",
        "<td>absenties.csv</td>",
        "absenties.csv: 12 registraties, 12 nieuw",
        "verwerkt/2025-11-14T090000_absenties.csv",
        "niet ingelezen, niets opgeslagen",
        "kapot.csv, regel 3, kolom Datum: 31-9-2025 bestaat niet",
        "en nog 3 fouten",
    ] {
        assert!(html.contains(want), "{want} in {html}");
    }
    // Without a folder the section is not there.
    let plain = crate::common::spawn_app().await;
    let c = plain.login("coordinator").await;
    let (_, html) = plain.get(&c, "/importeren").await;
    assert!(!html.contains("id=\"importmap\""));
}
