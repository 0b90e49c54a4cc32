//! Partner access follows the account, not the username: a beheerder
//! removes a ketenpartner brought into a dossier, later gives the same
//! username to someone else, and the newcomer sees nothing of it.

use aanwezig_storage::{AuditAction, AuditFilter};
use reqwest::{Client, StatusCode};

use crate::common::{case_of, open_case, spawn_app, student, today, TestApp};
use crate::settings::{admin_csrf, post_form};

fn dossier(id: &str) -> String {
    format!("/leerlingen/{id}/dossier")
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The beheerder makes ketenpartner `username` on the Gebruikers page;
/// returns the password shown once.
async fn make_partner(app: &TestApp, beheer: &Client, username: &str, name: &str) -> String {
    let csrf = admin_csrf(app, beheer).await;
    let (status, html, _) = post_form(
        app,
        beheer,
        "/gebruikers/nieuw",
        &pairs(&[
            ("csrf", &csrf),
            ("gebruikersnaam", username),
            ("naam", name),
            ("rol", "ketenpartner"),
            ("klassen", ""),
            ("email", ""),
        ]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let i = html.find("id=\"wachtwoord\"><code>").unwrap() + "id=\"wachtwoord\"><code>".len();
    html[i..i + html[i..].find("</code>").unwrap()].to_owned()
}

/// A client signed in as `username` with `password`.
async fn sign_in(app: &TestApp, username: &str, password: &str) -> Client {
    let c = app.client();
    let r = c
        .post(app.url("/inloggen"))
        .form(&[
            ("gebruikersnaam", username),
            ("wachtwoord", password),
            ("terug", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "sign-in of {username}");
    c
}

/// The "Betrokken partners" list of a dossier page.
fn partners_list(html: &str) -> &str {
    let start = html
        .find("id=\"partners-kop\"")
        .expect("the partners section");
    let rest = &html[start..];
    &rest[..rest.find("</section>").unwrap_or(rest.len())]
}

#[tokio::test]
async fn a_reused_username_inherits_no_dossier() {
    let app = spawn_app().await;
    let id = app.own_student.clone();
    let name = student(&app, &id).name;
    let beheer = app.login("beheer").await;
    let coordinator = app.login("coordinator").await;

    // The first kp_old, brought into the student's case on the dossier page.
    let old_password = make_partner(&app, &beheer, "kp_old", "Karel Oud").await;
    let old_account = app.store.user("kp_old").await.unwrap().unwrap();
    open_case(&app, &id, "3b", &[]).await;
    // A care partner only after the parents' consent to VO WIJ.
    app.post_ok(
        &coordinator,
        &format!("{}/besluit", dossier(&id)),
        &[("soort", "vowij_ja"), ("partij", "ouders")],
    )
    .await;
    let location = app
        .post_ok(
            &coordinator,
            &format!("{}/partners", dossier(&id)),
            &[("gebruiker", "kp_old")],
        )
        .await;
    assert!(location.contains("/dossier"), "{location}");
    let case = case_of(&app, &id).await;
    assert_eq!(case.involved.len(), 1);
    assert_eq!(
        case.involved[0].account.as_deref(),
        Some(old_account.account_id.as_str()),
        "the case records the account id"
    );
    let old = sign_in(&app, "kp_old", &old_password).await;
    let (status, html) = app.get(&old, &dossier(&id)).await;
    assert_eq!(status, StatusCode::OK, "{html}");
    let (status, _) = app.get(&old, &format!("/leerlingen/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    let (_, list) = app.get(&old, "/dossiers").await;
    assert!(list.contains(&dossier(&id)), "{list}");

    // The beheerder removes kp_old: first without ticking the box.
    let (status, html) = app.get(&beheer, "/gebruikers/kp_old").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("/gebruikers/kp_old/verwijderen"), "{html}");
    let csrf = admin_csrf(&app, &beheer).await;
    let (status, html, _) = post_form(
        &app,
        &beheer,
        "/gebruikers/kp_old/verwijderen",
        &pairs(&[("csrf", &csrf)]),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("Vink aan"), "{html}");
    assert!(app.store.user("kp_old").await.unwrap().is_some());
    let (status, _, location) = post_form(
        &app,
        &beheer,
        "/gebruikers/kp_old/verwijderen",
        &pairs(&[("csrf", &csrf), ("bevestigen", "ja")]),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/gebruikers?verwijderd=kp_old"));
    let (_, list) = app.get(&beheer, "/gebruikers?verwijderd=kp_old").await;
    assert!(
        list.contains("<p class=\"success\" role=\"status\">Gebruiker kp_old is verwijderd.</p>"),
        "{list}"
    );
    assert!(app.store.user("kp_old").await.unwrap().is_none());
    let (status, _) = app.get(&old, &dossier(&id)).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the old sessions are gone");

    // The involvement ended today, like a release, in the case's trail.
    let case = case_of(&app, &id).await;
    assert_eq!(case.involved[0].until, Some(today()));
    assert!(
        case.trail_nl()
            .iter()
            .any(|t| t.on == today() && t.what_nl == "kp_old niet meer betrokken"),
        "{:?}",
        case.trail_nl()
    );
    let (_, inzage) = app
        .get(&coordinator, &format!("/leerlingen/{id}/inzage"))
        .await;
    assert!(inzage.contains("kp_old niet meer betrokken"), "{inzage}");
    let audit = app
        .store
        .audit_log(&AuditFilter {
            limit: 50,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert!(
        audit.iter().any(|e| e.username == "beheer"
            && e.action == AuditAction::Change
            && e.student.as_ref().map(|s| s.as_str()) == Some(id.as_str())
            && e.detail.contains("kp_old niet meer betrokken")),
        "{audit:?}"
    );
    assert!(
        audit.iter().any(|e| e.username == "beheer"
            && e.action == AuditAction::UserAdmin
            && e.detail.starts_with("gebruiker kp_old: verwijderd")
            && e.detail.contains("1 dossier")),
        "{audit:?}"
    );

    // Someone else gets the name kp_old.
    let new_password = make_partner(&app, &beheer, "kp_old", "Nina Nieuw").await;
    let new_account = app.store.user("kp_old").await.unwrap().unwrap();
    assert_ne!(new_account.account_id, old_account.account_id);
    let newcomer = sign_in(&app, "kp_old", &new_password).await;
    let (status, _) = app.get(&newcomer, &dossier(&id)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the dossier is refused");
    let (status, _) = app.get(&newcomer, &format!("/leerlingen/{id}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "and so is the student");
    let (status, _) = app
        .get(&newcomer, &format!("{}/verslag", dossier(&id)))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "and the report");
    for page in ["/", "/dossiers", "/taken"] {
        let (status, html) = app.get(&newcomer, page).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(!html.contains(&id), "{page} shows no student: {html}");
        assert!(!html.contains(&name), "{page} shows no student: {html}");
    }

    // The coordinator sees the old involvement under its own name, and may
    // bring the new kp_old in as a partner of its own.
    let (_, html) = app.get(&coordinator, &dossier(&id)).await;
    let partners = partners_list(&html);
    assert!(!partners[..partners.find("<form").unwrap_or(partners.len())].contains("Nina Nieuw"));
    assert!(
        partners.contains("<option value=\"kp_old\">Nina Nieuw (ketenpartner)</option>"),
        "{partners}"
    );
    app.post_ok(
        &coordinator,
        &format!("{}/partners", dossier(&id)),
        &[("gebruiker", "kp_old")],
    )
    .await;
    let (status, _) = app.get(&newcomer, &dossier(&id)).await;
    assert_eq!(status, StatusCode::OK, "brought in herself, she sees it");
    let case = case_of(&app, &id).await;
    assert_eq!(case.involved.len(), 2);
    assert_eq!(
        case.involved[1].account.as_deref(),
        Some(new_account.account_id.as_str())
    );
}

/// A beheerder cannot remove their own account, and an unknown account is
/// 404.
#[tokio::test]
async fn removing_oneself_or_nobody_is_refused() {
    let app = spawn_app().await;
    let beheer = app.login("beheer").await;
    let csrf = admin_csrf(&app, &beheer).await;
    let (status, html, _) = post_form(
        &app,
        &beheer,
        "/gebruikers/beheer/verwijderen",
        &pairs(&[("csrf", &csrf), ("bevestigen", "ja")]),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("eigen account niet verwijderen"), "{html}");
    assert!(app.store.user("beheer").await.unwrap().is_some());
    let (_, html) = app.get(&beheer, "/gebruikers/beheer").await;
    assert!(!html.contains("/gebruikers/beheer/verwijderen"), "no form");
    let (status, _, _) = post_form(
        &app,
        &beheer,
        "/gebruikers/niemand/verwijderen",
        &pairs(&[("csrf", &csrf), ("bevestigen", "ja")]),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// Even when an involvement of a removed account was never ended (the
/// account deleted the way versions before this one did, straight from
/// the users table), a new account with the same name gets nothing: an
/// involvement with an account id matches only that id, and one stored
/// before accounts had ids only an account that existed on its `since`.
#[tokio::test]
async fn a_dangling_involvement_gives_a_new_account_nothing() {
    use aanwezig_domain::case::Involvement;
    use aanwezig_domain::Role;
    let app = spawn_app().await;
    let beheer = app.login("beheer").await;
    let with_id = app.own_student.clone();
    let legacy = app.other_student.clone();

    let old_password = make_partner(&app, &beheer, "kp_old", "Karel Oud").await;
    let old_account = app.store.user("kp_old").await.unwrap().unwrap();
    open_case(&app, &with_id, "3b", &[]).await;
    let mut case = case_of(&app, &with_id).await;
    crate::common::involve(&mut case, &old_account, today());
    app.store
        .save_case(&case, "coordinator", crate::common::now())
        .await
        .unwrap();
    // A case stored before accounts had ids: the involvement names only
    // the username, since a day before the new account will be created.
    let since = crate::common::ymd(2025, 11, 10);
    crate::common::open_case_on(&app, &legacy, "3b", &[], since).await;
    let mut case = case_of(&app, &legacy).await;
    case.involved.push(Involvement {
        user: "kp_old".into(),
        account: None,
        role: Role::Ketenpartner,
        since,
        by: aanwezig_domain::case::Actor::new("coordinator", Role::Verzuimcoordinator),
        until: None,
    });
    app.store
        .save_case(&case, "coordinator", crate::common::now())
        .await
        .unwrap();
    let old = sign_in(&app, "kp_old", &old_password).await;
    let (status, _) = app.get(&old, &dossier(&with_id)).await;
    assert_eq!(status, StatusCode::OK, "the old account sees its case");

    // Removed without ending anything; the name given to someone else.
    app.store.delete_user("kp_old").await.unwrap();
    let new_password = make_partner(&app, &beheer, "kp_old", "Nina Nieuw").await;
    let newcomer = sign_in(&app, "kp_old", &new_password).await;
    for id in [&with_id, &legacy] {
        assert!(case_of(&app, id).await.involved[0].is_active(), "dangling");
        let name = student(&app, id).name;
        let (status, _) = app.get(&newcomer, &dossier(id)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{id}");
        let (status, _) = app.get(&newcomer, &format!("/leerlingen/{id}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{id}");
        for page in ["/", "/dossiers", "/taken"] {
            let (_, html) = app.get(&newcomer, page).await;
            assert!(!html.contains(&name), "{page} shows {id}: {html}");
        }
    }
}
