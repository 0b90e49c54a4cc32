//! Uploading, previewing and importing students and registrations.

use aanwezig_storage::{AuditAction, AuditFilter, Store};
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
