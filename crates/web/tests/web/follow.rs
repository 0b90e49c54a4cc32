//! Several app servers on one database: each follows the store's change
//! feed, and a save made from a version someone else has replaced is
//! refused (409) instead of overwriting their change. Sessions are in the
//! database, so any server serves a signed-in user; the sign-in limiter
//! counts per server. With `AANWEZIG_TEST_BACKEND=postgres` the two apps
//! are two `PgStore`s on one PostgreSQL database.

use std::time::Duration;

use aanwezig_domain::{RuleId, StudentId};
use aanwezig_storage::{AuditAction, AuditFilter, DocumentKind};
use reqwest::{Client, StatusCode};

use crate::common::{open_case, spawn_app, spawn_beside, today, TestApp};
use crate::register::field;

/// How long a change may take to reach the other app in these tests. The
/// follower polls every 100 ms; the deadline only catches one that never
/// arrives.
const DEADLINE: Duration = Duration::from_secs(1);

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

/// The number of open signals in the student page's list of signals.
fn signal_count(html: &str) -> usize {
    assert!(html.contains("id=\"signalen\""), "the signals section");
    html.matches("<li class=\"signal open\">").count()
}

/// Polls `path` on `app` until `done` holds for its body, or the deadline
/// passes; the last body.
async fn poll(app: &TestApp, c: &Client, path: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = tokio::time::Instant::now() + DEADLINE;
    loop {
        let (status, html) = app.get(c, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        if done(&html) || tokio::time::Instant::now() >= deadline {
            return html;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_lesson_registered_through_one_app_shows_its_signal_in_the_other() {
    let a = spawn_app().await;
    let b = spawn_beside(&a).await;
    let target = quiet_student(&a, &a.mentor_class);
    let student_page = format!("/leerlingen/{target}");
    let coordinator_b = b.login("coordinator").await;
    let (_, before) = b.get(&coordinator_b, &student_page).await;
    let before = signal_count(&before);

    // The mentor registers the student absent through app A.
    let mentor = a.login("mentor").await;
    let path = format!(
        "/registreren/{}/{}/1",
        a.mentor_class.replace(' ', "%20"),
        today()
    );
    let (_, html) = a.get(&mentor, &path).await;
    let (_, _, revision) = crate::register::form_rows(&html)
        .into_iter()
        .find(|(_, s, _)| *s == target)
        .unwrap();
    // The register's rows are read from r0 on: the target as the only one.
    let location = a
        .post_ok(
            &mentor,
            &path,
            &[
                ("r0_id", target.as_str()),
                ("r0_code", "A"),
                ("r0_te_laat", ""),
                ("r0_versie", revision.as_str()),
            ],
        )
        .await;
    assert!(location.contains("/opgeslagen"), "{location}");

    // App B shows the new signal without a restart or a reload.
    let html = poll(&b, &coordinator_b, &student_page, |html| {
        signal_count(html) > before
    })
    .await;
    assert!(
        signal_count(&html) > before,
        "app B still shows {before} open signals"
    );
    let live = b.state.read().unwrap();
    let d = live.through.unwrap();
    let i = live.position(&target).unwrap();
    assert!(live.evaluations[i]
        .signals
        .iter()
        .any(|s| matches!(s.rule, RuleId::Contact | RuleId::Unexplained) && s.is_open_on(d)));
}

/// The `versie` a page's forms carry.
fn form_version(html: &str) -> String {
    field(html, "versie").unwrap_or_else(|| panic!("a versie field in {html}"))
}

#[tokio::test]
async fn two_saves_of_one_dossier_from_one_version_keep_the_first() {
    let a = spawn_app().await;
    let b = spawn_beside(&a).await;
    let id = a.own_student.clone();
    open_case(&a, &id, "3a", &[]).await;
    let dossier = format!("/leerlingen/{id}/dossier");
    let step = format!("{dossier}/stap");
    let in_a = a.login("coordinator").await;
    let in_b = b.login("zorg").await;
    let (_, page_a) = a.get(&in_a, &dossier).await;
    let (_, page_b) = b.get(&in_b, &dossier).await;
    let version = form_version(&page_a);
    assert_eq!(form_version(&page_b), version, "both read one version");

    a.post_ok(
        &in_a,
        &step,
        &[
            ("naar", "3b"),
            ("waarom", "eerste wijziging"),
            ("versie", &version),
        ],
    )
    .await;
    let (status, _, html) = b
        .submit(
            &in_b,
            &step,
            &[
                ("naar", "3b"),
                ("waarom", "tweede wijziging"),
                ("versie", &version),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{html}");
    assert!(
        html.contains("iemand anders heeft dit dossier intussen opgeslagen"),
        "{html}"
    );
    assert!(html.contains("Bekijk de nieuwe versie"), "{html}");
    assert!(html.contains(&format!("href=\"{dossier}\"")), "{html}");

    // The first change is stored, the second is not, and only the first
    // is in the audit log.
    let student = StudentId::parse(&id).unwrap();
    let (case, stored) = a.store.case_with_version(&student).await.unwrap().unwrap();
    assert_eq!(stored, version.parse::<u32>().unwrap() + 1);
    let why: Vec<&str> = case.history.iter().map(|h| h.why.as_str()).collect();
    assert!(why.contains(&"eerste wijziging"), "{why:?}");
    assert!(!why.contains(&"tweede wijziging"), "{why:?}");
    let changes = a
        .store
        .audit_log(&AuditFilter {
            student: Some(student),
            username: None,
            limit: 100,
        })
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == AuditAction::Change)
        .count();
    assert_eq!(changes, 1);

    // With the new version (from the link), B's change goes through.
    let (_, page_b) = b.get(&in_b, &dossier).await;
    let newer = form_version(&page_b);
    assert_ne!(newer, version);
    b.post_ok(
        &in_b,
        &step,
        &[
            ("naar", "4a"),
            ("waarom", "tweede wijziging"),
            ("versie", &newer),
        ],
    )
    .await;
}

#[tokio::test]
async fn a_stale_settings_save_is_refused() {
    let a = spawn_app().await;
    let b = spawn_beside(&a).await;
    let in_a = a.login("beheer").await;
    let in_b = b.login("beheer").await;
    let (_, page_a) = a.get(&in_a, "/instellingen/school").await;
    let (_, page_b) = b.get(&in_b, "/instellingen/school").await;
    let version = form_version(&page_a);
    assert_eq!(form_version(&page_b), version);
    let fields = |name: &'static str| {
        [
            ("naam", name),
            ("brin", "12AB"),
            ("vestiging", "00"),
            ("telefoon", ""),
        ]
    };
    let mut first = fields("Eerste College").to_vec();
    first.push(("versie", &version));
    a.post_ok(&in_a, "/instellingen/school", &first).await;
    let mut second = fields("Tweede College").to_vec();
    second.push(("versie", &version));
    let (status, _, html) = b.submit(&in_b, "/instellingen/school", &second).await;
    assert_eq!(status, StatusCode::CONFLICT, "{html}");
    assert!(
        html.contains("iemand anders heeft deze instelling intussen opgeslagen"),
        "{html}"
    );
    assert!(html.contains("href=\"/instellingen/school\""), "{html}");
    let stored = a
        .store
        .settings(DocumentKind::School)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.contains("Eerste College"), "{stored}");
    assert_eq!(
        a.store
            .document_version(DocumentKind::School)
            .await
            .unwrap(),
        Some(1)
    );
}

/// Sessions are kept in the database: signed in through app A, the same
/// cookie is a session in app B, and signing out through B ends it in A.
#[tokio::test]
async fn a_session_made_on_one_app_works_on_the_other() {
    let a = spawn_app().await;
    let b = spawn_beside(&a).await;
    // Cookies are per host, not per port: the client sends A's session
    // cookie to B as a browser would to two servers behind one name.
    let c = a.login("coordinator").await;
    let (status, html) = b.get(&c, "/").await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert!(html.contains("Test coordinator"), "{html}");

    // A change through B with the session's CSRF token (read from B).
    let id = a.own_student.clone();
    open_case(&a, &id, "3a", &[]).await;
    let dossier = format!("/leerlingen/{id}/dossier");
    let (_, page) = b.get(&c, &dossier).await;
    b.post_ok(
        &c,
        &format!("{dossier}/stap"),
        &[
            ("naar", "3b"),
            ("waarom", "via de andere server"),
            ("versie", &form_version(&page)),
        ],
    )
    .await;

    // Signed out through B, the session is gone in A too.
    let r = b
        .post_form(&c, "/uitloggen", crate::common::NO_FIELDS)
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(a.get(&c, "/").await.0, StatusCode::SEE_OTHER, "signed out");
    assert_eq!(b.get(&c, "/").await.0, StatusCode::SEE_OTHER, "signed out");
}

/// A failed sign-in to `app` as `user` from the test client's address.
async fn failed_sign_in(app: &TestApp, c: &Client, user: &str) -> StatusCode {
    c.post(app.url("/inloggen"))
        .form(&[
            ("gebruikersnaam", user),
            ("wachtwoord", "geraden wachtwoord"),
        ])
        .send()
        .await
        .unwrap()
        .status()
}

/// The sign-in limiter counts in each server's memory
/// (`auth::limiter`, docs/operations.md "Several app servers"): on each
/// server the free attempts run out and the next attempt waits, whatever
/// the other server counted.
#[tokio::test]
async fn the_sign_in_limiter_holds_on_each_server() {
    let a = spawn_app().await;
    let b = spawn_beside(&a).await;
    let c = a.client();
    for app in [&a, &b] {
        // `auth::limiter::FREE_ATTEMPTS`
        for i in 0..5 {
            assert_eq!(
                failed_sign_in(app, &c, "mentor").await,
                StatusCode::UNAUTHORIZED,
                "free attempt {i} on {}",
                app.addr
            );
        }
        assert_eq!(
            failed_sign_in(app, &c, "mentor").await,
            StatusCode::TOO_MANY_REQUESTS,
            "after the free attempts on {}",
            app.addr
        );
    }
}
