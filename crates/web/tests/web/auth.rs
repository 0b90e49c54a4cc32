//! Sign-in, sign-out, sessions, CSRF, rate limiting and security headers.

use aanwezig_storage::{AuditAction, AuditFilter, Store};
use reqwest::StatusCode;

use crate::common::{spawn_app, PASSWORD};

#[tokio::test]
async fn pages_need_a_sign_in() {
    let app = spawn_app().await;
    let r = app.client().get(app.url("/")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/inloggen?terug=%2F");
}

#[tokio::test]
async fn sign_in_and_out() {
    let app = spawn_app().await;
    let c = app.client();
    let r = c
        .post(app.url("/inloggen"))
        .form(&[
            ("gebruikersnaam", "coordinator"),
            ("wachtwoord", "fout wachtwoord!!"),
            ("terug", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Gebruikersnaam of wachtwoord klopt niet"));

    let c = app.login("coordinator").await;
    let (status, html) = app.get(&c, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Weekoverzicht"));
    assert!(html.contains("Test coordinator"));

    // Signing out needs the session's CSRF token.
    let r = c
        .post(app.url("/uitloggen"))
        .form(&[("csrf", "verkeerd")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let csrf = app.csrf(&c).await;
    let r = c
        .post(app.url("/uitloggen"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r = c.get(app.url("/")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "signed out");

    let log = app
        .store
        .audit_log(&AuditFilter {
            student: None,
            username: Some("coordinator".into()),
            limit: 10,
        })
        .await
        .unwrap();
    let actions: Vec<AuditAction> = log.iter().map(|e| e.action).collect();
    assert!(actions.contains(&AuditAction::SignIn), "{actions:?}");
    assert!(actions.contains(&AuditAction::SignOut), "{actions:?}");
}

#[tokio::test]
async fn idle_sessions_expire() {
    let app = spawn_app().await;
    let c = app.login("coordinator").await;
    app.clock.advance(chrono::Duration::minutes(20));
    assert_eq!(
        app.get(&c, "/").await.0,
        StatusCode::OK,
        "20 minutes idle is fine"
    );
    app.clock.advance(chrono::Duration::minutes(31));
    assert_eq!(
        app.get(&c, "/").await.0,
        StatusCode::SEE_OTHER,
        "31 minutes idle signs out"
    );
}

#[tokio::test]
async fn repeated_failures_block_sign_in() {
    let app = spawn_app().await;
    let c = app.client();
    for _ in 0..5 {
        let r = c
            .post(app.url("/inloggen"))
            .form(&[
                ("gebruikersnaam", "mentor"),
                ("wachtwoord", "geraden wachtwoord"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = c
        .post(app.url("/inloggen"))
        .form(&[("gebruikersnaam", "mentor"), ("wachtwoord", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    app.clock.advance(chrono::Duration::minutes(16));
    app.login("mentor").await;
}

#[tokio::test]
async fn cross_site_posts_are_refused() {
    let app = spawn_app().await;
    let c = app.login("coordinator").await;
    let csrf = app.csrf(&c).await;
    let r = c
        .post(app.url("/uitloggen"))
        .header("origin", "https://evil.example")
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = c
        .post(app.url("/uitloggen"))
        .header("sec-fetch-site", "cross-site")
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The sign-in form itself is protected by the origin check.
    let r = app
        .client()
        .post(app.url("/inloggen"))
        .header("origin", "https://evil.example")
        .form(&[("gebruikersnaam", "coordinator"), ("wachtwoord", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn security_headers_are_set() {
    let app = spawn_app().await;
    let r = app.client().get(app.url("/inloggen")).send().await.unwrap();
    let h = r.headers();
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert_eq!(h["x-frame-options"], "DENY");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["cache-control"], "no-store");
    let cookie_test = app.client();
    let r = cookie_test
        .post(app.url("/inloggen"))
        .form(&[("gebruikersnaam", "coordinator"), ("wachtwoord", PASSWORD)])
        .send()
        .await
        .unwrap();
    let set_cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Strict"), "{set_cookie}");
}
