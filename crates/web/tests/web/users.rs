//! Gebruikers: accounts made, changed and switched off by the beheerder.

use aanwezig_domain::Role;
use aanwezig_storage::{AuditAction, AuditFilter};
use reqwest::StatusCode;

use crate::common::{spawn_app, TestApp, PASSWORD};
use crate::settings::{admin_csrf, form_fields, post_form, set};

/// The password shown once on a confirmation page.
fn shown_password(html: &str) -> String {
    let i = html.find("id=\"wachtwoord\"><code>").unwrap() + "id=\"wachtwoord\"><code>".len();
    html[i..i + html[i..].find("</code>").unwrap()].to_owned()
}

async fn sign_in(app: &TestApp, username: &str, password: &str) -> StatusCode {
    app.client()
        .post(app.url("/inloggen"))
        .form(&[
            ("gebruikersnaam", username),
            ("wachtwoord", password),
            ("terug", "/"),
        ])
        .send()
        .await
        .unwrap()
        .status()
}

fn fields(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[tokio::test]
async fn a_new_user_gets_a_password_shown_once() {
    let app = spawn_app().await;
    let c = app.login("beheer").await;
    let (status, html) = app.get(&c, "/gebruikers").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Test coordinator"));
    assert!(html.contains(&app.mentor_class));

    let csrf = admin_csrf(&app, &c).await;
    let (status, html, _) = post_form(
        &app,
        &c,
        "/gebruikers/nieuw",
        &fields(&[
            ("csrf", &csrf),
            ("gebruikersnaam", "J.de.Vries"),
            ("naam", "Jan de Vries"),
            ("rol", "mentor"),
            ("klassen", &app.mentor_class),
            ("email", "j.devries@school.nl"),
        ]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("maar één keer"));
    let password = shown_password(&html);
    assert_eq!(password.len(), 24, "{password}");

    let user = app.store.user("j.de.vries").await.unwrap().unwrap();
    assert_eq!(user.role, Role::Mentor);
    assert_eq!(user.classes, vec![app.mentor_class.clone()]);
    assert_ne!(user.password_hash, password);

    assert_eq!(
        sign_in(&app, "j.de.vries", &password).await,
        StatusCode::SEE_OTHER
    );
    let (_, html) = app.get(&c, "/gebruikers/j.de.vries").await;
    assert!(
        !html.contains(&password),
        "the password is never shown again"
    );
    let (_, html) = app.get(&c, "/gebruikers").await;
    assert!(html.contains("Jan de Vries"));

    let log = app
        .store
        .audit_log(&AuditFilter {
            student: None,
            username: Some("beheer".into()),
            limit: 20,
        })
        .await
        .unwrap();
    let entry = log
        .iter()
        .find(|e| e.action == AuditAction::UserAdmin)
        .unwrap();
    assert!(entry.detail.contains("j.de.vries"), "{}", entry.detail);
    assert!(log.iter().all(|e| !e.detail.contains(&password)));
}

#[tokio::test]
async fn new_users_are_checked() {
    let app = spawn_app().await;
    let c = app.login("beheer").await;
    let csrf = admin_csrf(&app, &c).await;
    let cases = [
        ("x", "Naam", "beheerder", "", "2 tot 64 tekens"),
        ("coordinator", "Naam", "beheerder", "", "bestaat al"),
        ("nieuw", "Naam", "mentor", "", "minstens één klas"),
        (
            "nieuw",
            "Naam",
            "mentor",
            "9z",
            "Deze klas bestaat niet op school: 9z.",
        ),
        ("nieuw", "", "beheerder", "", "Vul de naam in"),
        ("nieuw", "Naam", "baas", "", "Kies een rol"),
    ];
    for (username, name, role, classes, expected) in cases {
        let (status, html, _) = post_form(
            &app,
            &c,
            "/gebruikers/nieuw",
            &fields(&[
                ("csrf", &csrf),
                ("gebruikersnaam", username),
                ("naam", name),
                ("rol", role),
                ("klassen", classes),
                ("email", ""),
            ]),
        )
        .await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{username} {role}"
        );
        assert!(html.contains(expected), "{expected}: {html}");
    }
    assert!(app.store.user("nieuw").await.unwrap().is_none());
}

#[tokio::test]
async fn deactivation_ends_the_sessions() {
    let app = spawn_app().await;
    let m = app.login("mentor").await;
    assert_eq!(app.get(&m, "/stappenplan").await.0, StatusCode::OK);

    let c = app.login("beheer").await;
    let (status, html) = app.get(&c, "/gebruikers/mentor").await;
    assert_eq!(status, StatusCode::OK);
    let mut form = form_fields(&html, "/gebruikers/mentor");
    assert!(form.iter().any(|(k, v)| k == "actief" && v == "ja"));
    form.retain(|(k, _)| k != "actief");
    let (status, _, location) = post_form(&app, &c, "/gebruikers/mentor", &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/gebruikers?opgeslagen=mentor"));
    let (_, list) = app.get(&c, "/gebruikers?opgeslagen=mentor").await;
    assert!(
        list.contains("De wijzigingen van mentor zijn opgeslagen."),
        "{list}"
    );

    assert!(!app.store.user("mentor").await.unwrap().unwrap().active);
    assert_eq!(
        app.get(&m, "/stappenplan").await.0,
        StatusCode::SEE_OTHER,
        "the mentor is signed out"
    );
    assert_eq!(app.store.delete_user_sessions("mentor").await.unwrap(), 0);
    assert_eq!(
        sign_in(&app, "mentor", PASSWORD).await,
        StatusCode::UNAUTHORIZED
    );

    // And back on.
    set(&mut form, "actief", "ja");
    let (status, _, _) = post_form(&app, &c, "/gebruikers/mentor", &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        sign_in(&app, "mentor", PASSWORD).await,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn role_and_classes_change() {
    let app = spawn_app().await;
    let c = app.login("beheer").await;
    let (_, html) = app.get(&c, "/gebruikers/coordinator").await;
    let mut form = form_fields(&html, "/gebruikers/coordinator");
    set(&mut form, "rol", "mentor");
    set(&mut form, "klassen", "");
    let (status, html, _) = post_form(&app, &c, "/gebruikers/coordinator", &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("minstens één klas"));
    set(&mut form, "klassen", &app.mentor_class.to_uppercase());
    let (status, _, _) = post_form(&app, &c, "/gebruikers/coordinator", &form).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let u = app.store.user("coordinator").await.unwrap().unwrap();
    assert_eq!(u.role, Role::Mentor);
    assert_eq!(
        u.classes,
        vec![app.mentor_class.clone()],
        "the school's spelling"
    );
}

#[tokio::test]
async fn a_beheerder_cannot_lock_themself_out() {
    let app = spawn_app().await;
    let c = app.login("beheer").await;
    let (_, html) = app.get(&c, "/gebruikers/beheer").await;
    let mut form = form_fields(&html, "/gebruikers/beheer");
    set(&mut form, "rol", "verzuimcoordinator");
    let (status, html, _) = post_form(&app, &c, "/gebruikers/beheer", &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("geen andere rol"), "{html}");
    set(&mut form, "rol", "beheerder");
    form.retain(|(k, _)| k != "actief");
    let (status, html, _) = post_form(&app, &c, "/gebruikers/beheer", &form).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("eigen account niet uitzetten"), "{html}");
    let me = app.store.user("beheer").await.unwrap().unwrap();
    assert!(me.active);
    assert_eq!(me.role, Role::Beheerder);
}

#[tokio::test]
async fn a_password_reset_is_shown_once_and_signs_out() {
    let app = spawn_app().await;
    let m = app.login("mentor").await;
    let c = app.login("beheer").await;
    let csrf = admin_csrf(&app, &c).await;
    let (status, html, _) = post_form(
        &app,
        &c,
        "/gebruikers/mentor/wachtwoord",
        &fields(&[("csrf", &csrf)]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let password = shown_password(&html);
    assert_eq!(app.get(&m, "/stappenplan").await.0, StatusCode::SEE_OTHER);
    assert_eq!(
        sign_in(&app, "mentor", PASSWORD).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        sign_in(&app, "mentor", &password).await,
        StatusCode::SEE_OTHER
    );
    // Not for oneself.
    let (status, _, _) = post_form(
        &app,
        &c,
        "/gebruikers/beheer/wachtwoord",
        &fields(&[("csrf", &csrf)]),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.get(&c, "/gebruikers/onbekend").await.0,
        StatusCode::NOT_FOUND
    );
}
