//! Sign-in, sign-out, sessions, CSRF, rate limiting and security headers.

use aanwezig_storage::{AuditAction, AuditFilter};
use aanwezig_web::Config;
use reqwest::{Client, StatusCode};

use crate::common::{location, spawn_app, spawn_app_with, TestApp, PASSWORD};

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

/// A sign-in POST with `user` and `password`, optionally as if forwarded
/// for `client` (`X-Forwarded-For`).
async fn sign_in(
    app: &TestApp,
    c: &Client,
    user: &str,
    password: &str,
    client: Option<&str>,
) -> reqwest::Response {
    let mut req = c
        .post(app.url("/inloggen"))
        .form(&[("gebruikersnaam", user), ("wachtwoord", password)]);
    if let Some(ip) = client {
        req = req.header("x-forwarded-for", ip);
    }
    req.send().await.unwrap()
}

/// The test client connects from 127.0.0.1: trust it as a proxy.
fn behind_proxy() -> Config {
    Config {
        trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
        ..Config::default()
    }
}

#[tokio::test]
async fn repeated_failures_slow_down_with_growing_delays() {
    let app = spawn_app().await;
    let c = app.client();
    for _ in 0..5 {
        let r = sign_in(&app, &c, "mentor", "geraden wachtwoord", None).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = sign_in(&app, &c, "mentor", PASSWORD, None).await;
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    assert_eq!(r.headers()["retry-after"], "1");
    let html = r.text().await.unwrap();
    assert!(
        html.contains("Te veel pogingen. Probeer het over 1 seconde opnieuw."),
        "{html}"
    );
    // The wait is a second, not fifteen minutes; the next one is longer.
    app.clock.advance(chrono::Duration::seconds(1));
    let r = sign_in(&app, &c, "mentor", "geraden wachtwoord", None).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = sign_in(&app, &c, "mentor", PASSWORD, None).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["retry-after"], "2");
    app.clock.advance(chrono::Duration::seconds(2));
    app.login("mentor").await;
}

#[tokio::test]
async fn wrong_passwords_elsewhere_do_not_lock_the_real_user_out() {
    let app = spawn_app_with(behind_proxy()).await;
    let c = app.client();
    let attacker = "198.51.100.7";
    let mut delayed = 0;
    for _ in 0..20 {
        let r = sign_in(&app, &c, "mentor", "geraden wachtwoord", Some(attacker)).await;
        match r.status() {
            StatusCode::UNAUTHORIZED => {}
            StatusCode::TOO_MANY_REQUESTS => delayed += 1,
            other => panic!("{other}"),
        }
    }
    assert!(delayed > 0, "the attacker's address is slowed down");
    // The real user, from their own address, signs in at once.
    let r = sign_in(&app, &app.client(), "mentor", PASSWORD, Some("192.0.2.10")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // So does everyone else behind the attacker's address.
    let r = sign_in(&app, &app.client(), "zorg", PASSWORD, Some(attacker)).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // The audit log names the client, not the proxy.
    let log = app
        .store
        .audit_log(&AuditFilter {
            student: None,
            username: Some("mentor".into()),
            limit: 100,
        })
        .await
        .unwrap();
    assert!(log
        .iter()
        .any(|e| e.action == AuditAction::SignInFailed && e.detail == format!("vanaf {attacker}")));
    assert!(log
        .iter()
        .any(|e| e.action == AuditAction::SignIn && e.detail == "vanaf 192.0.2.10"));
}

#[tokio::test]
async fn an_address_has_a_budget_and_forwarded_for_needs_a_trusted_proxy() {
    // Not behind a trusted proxy: X-Forwarded-For is ignored, so made-up
    // addresses do not escape the address's budget. Names no account can
    // have count as failures too (without checking a password).
    let app = spawn_app().await;
    let c = app.client();
    for i in 0..30 {
        let forged = format!("203.0.113.{i}");
        let r = sign_in(&app, &c, &format!("geen naam {i}"), "x", Some(&forged)).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{i}");
    }
    let r = sign_in(&app, &c, "coordinator", PASSWORD, Some("203.0.113.200")).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["retry-after"], "20");
    app.clock.advance(chrono::Duration::seconds(20));
    app.login("coordinator").await;

    // Behind a trusted proxy the budget is the client's: one client
    // spending it leaves another alone; the rightmost untrusted hop
    // counts, so a client cannot pick its own address by prepending.
    let app = spawn_app_with(behind_proxy()).await;
    for i in 0..30 {
        let chain = format!("10.9.9.{i}, 198.51.100.1");
        let r = sign_in(&app, &c, &format!("geen naam {i}"), "x", Some(&chain)).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{i}");
    }
    let r = sign_in(&app, &c, "coordinator", PASSWORD, Some("198.51.100.1")).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let r = sign_in(&app, &c, "coordinator", PASSWORD, Some("198.51.100.2")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn huge_and_odd_names_are_failed_sign_ins_cut_in_the_audit_log() {
    let app = spawn_app().await;
    let c = app.client();
    let huge = "a".repeat(1 << 20);
    for name in [huge.as_str(), "jan\u{1b}[31m\r\nnep-regel", "MENTOR"] {
        let r = sign_in(&app, &c, name, "geraden wachtwoord", None).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let html = r.text().await.unwrap();
        assert!(html.len() < 100_000, "the page does not echo the name");
    }
    // Only the real user name is counted as an account.
    assert_eq!(app.state.limiter.stats().pairs, 1);
    assert_eq!(app.state.limiter.stats().addresses, 1);
    let log = app
        .store
        .audit_log(&AuditFilter {
            student: None,
            username: None,
            limit: 100,
        })
        .await
        .unwrap();
    let failed: Vec<&str> = log
        .iter()
        .filter(|e| e.action == AuditAction::SignInFailed)
        .map(|e| e.username.as_str())
        .collect();
    assert_eq!(failed.len(), 3, "{failed:?}");
    assert!(
        failed.contains(&format!("{}…", "a".repeat(64)).as_str()),
        "{failed:?}"
    );
    assert!(failed.contains(&"jan[31mnep-regel"), "{failed:?}");
    assert!(failed.contains(&"mentor"), "{failed:?}");
}

#[tokio::test]
async fn the_return_address_stays_on_this_site() {
    let app = spawn_app().await;
    for (terug, expected) in [
        ("/leerlingen?q=2a", "/leerlingen?q=2a"),
        ("/\t/evil.example", "/"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("/%09/evil.example", "/"),
        ("https://evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ] {
        let r = app
            .client()
            .post(app.url("/inloggen"))
            .form(&[
                ("gebruikersnaam", "coordinator"),
                ("wachtwoord", PASSWORD),
                ("terug", terug),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{terug:?}");
        assert_eq!(location(&r), expected, "{terug:?}");
    }
    let (_, html) = app
        .get(&app.client(), "/inloggen?terug=%2F%09%2Fevil.example")
        .await;
    assert!(html.contains(r#"name="terug" value="/""#), "{html}");
}

#[tokio::test]
async fn the_idle_limit_holds_to_the_second() {
    let app = spawn_app().await;
    let c = app.login("coordinator").await;
    // A request 59 seconds in: the idle time counts from there.
    app.clock.advance(chrono::Duration::seconds(59));
    assert_eq!(app.get(&c, "/").await.0, StatusCode::OK);
    app.clock
        .advance(chrono::Duration::minutes(30) - chrono::Duration::seconds(1));
    assert_eq!(
        app.get(&c, "/").await.0,
        StatusCode::OK,
        "29:59 after the last request"
    );
    app.clock.advance(chrono::Duration::minutes(30));
    assert_eq!(
        app.get(&c, "/").await.0,
        StatusCode::SEE_OTHER,
        "30:00 after the last request"
    );
}

#[tokio::test]
async fn sessions_end_after_their_lifetime_whatever_the_activity() {
    let app = spawn_app().await;
    let c = app.login("coordinator").await;
    // A request every 20 minutes for 11 hours 40 minutes.
    for i in 1..36 {
        app.clock.advance(chrono::Duration::minutes(20));
        assert_eq!(app.get(&c, "/").await.0, StatusCode::OK, "{i}");
    }
    app.clock.advance(chrono::Duration::minutes(20));
    assert_eq!(
        app.get(&c, "/").await.0,
        StatusCode::SEE_OTHER,
        "12 hours after signing in"
    );
    // A shorter configured lifetime.
    let app = spawn_app_with(Config {
        session_lifetime: chrono::Duration::hours(1),
        ..Config::default()
    })
    .await;
    let c = app.login("coordinator").await;
    for minutes in [20, 20, 19] {
        app.clock.advance(chrono::Duration::minutes(minutes));
        assert_eq!(app.get(&c, "/").await.0, StatusCode::OK);
    }
    app.clock.advance(chrono::Duration::minutes(1));
    assert_eq!(app.get(&c, "/").await.0, StatusCode::SEE_OTHER);
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

/// A signed-in POST to `/uitloggen` with the session's token and `origin`.
async fn sign_out_from(app: &TestApp, origin: &str) -> StatusCode {
    let c = app.login("coordinator").await;
    let csrf = app.csrf(&c).await;
    c.post(app.url("/uitloggen"))
        .header("origin", origin)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn the_origin_check_compares_scheme_host_and_port() {
    let app = spawn_app().await;
    let addr = app.addr;
    assert_eq!(
        sign_out_from(&app, &format!("http://{addr}")).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        sign_out_from(&app, &format!("https://{addr}")).await,
        StatusCode::FORBIDDEN
    );
    let other_port = format!("http://{}:{}", addr.ip(), addr.port().wrapping_add(1));
    assert_eq!(
        sign_out_from(&app, &other_port).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(sign_out_from(&app, "null").await, StatusCode::FORBIDDEN);

    // With a public URL, that is the one origin.
    let app = spawn_app_with(Config {
        public_url: Some("https://aanwezig.school.example".parse().unwrap()),
        ..Config::default()
    })
    .await;
    assert_eq!(
        sign_out_from(&app, "https://aanwezig.school.example").await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        sign_out_from(&app, "http://aanwezig.school.example").await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        sign_out_from(&app, &format!("http://{}", app.addr)).await,
        StatusCode::FORBIDDEN
    );
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
