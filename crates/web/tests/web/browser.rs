//! Browser tests: real headless Chromium, driven through chromedriver
//! (Debian's `chromium` and `chromium-driver`; `scripts/test.sh` installs
//! them when missing), against the real app on port 0.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};

use crate::common::{spawn_app, TestApp, PASSWORD};

/// A chromedriver process and a WebDriver session in headless Chromium.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub async fn browser() -> Browser {
    let chromedriver =
        std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromedriver).exists(),
        "{chromedriver} ontbreekt: installeer chromium en chromium-driver (scripts/test.sh doet dat)"
    );
    let port = free_port();
    let driver = Command::new(&chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until chromedriver listens.
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let profile = tempfile::TempDir::new().unwrap();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1280,1000",
                format!("--user-data-dir={}", profile.path().display()),
            ]
        }),
    );
    let client = ClientBuilder::native()
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .unwrap();
    Browser {
        client,
        driver,
        _profile: profile,
    }
}

async fn type_into(c: &Client, id: &str, text: &str) {
    c.find(Locator::Id(id))
        .await
        .unwrap()
        .send_keys(text)
        .await
        .unwrap();
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

async fn choose(c: &Client, locator: Locator<'_>, value: &str) {
    c.find(locator)
        .await
        .unwrap()
        .select_by_value(value)
        .await
        .unwrap();
}

/// Fills in and sends the sign-in form.
async fn submit_sign_in(c: &Client, username: &str, password: &str) {
    type_into(c, "gebruikersnaam", username).await;
    type_into(c, "wachtwoord", password).await;
    click(c, "section.login button[type=submit]").await;
}

/// Signs in through the real form.
pub async fn sign_in(app: &TestApp, c: &Client, username: &str) {
    c.goto(&app.url("/")).await.unwrap();
    submit_sign_in(c, username, PASSWORD).await;
    c.wait()
        .for_element(Locator::Css("header.top nav"))
        .await
        .unwrap();
}

#[tokio::test]
async fn sign_in_and_see_the_dashboard() {
    let app = spawn_app().await;
    let b = browser().await;
    let c = &b.client;
    sign_in(&app, c, "coordinator").await;
    assert_eq!(c.current_url().await.unwrap().path(), "/");
    let h1 = c
        .find(Locator::Css("main h1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(h1, "Weekoverzicht");
    // Signing out through the button ends the session.
    click(c, "form.signout button").await;
    c.wait()
        .for_element(Locator::Id("gebruikersnaam"))
        .await
        .unwrap();
    c.goto(&app.url("/")).await.unwrap();
    assert_eq!(c.current_url().await.unwrap().path(), "/inloggen");
    c.clone().close().await.unwrap();
}

#[tokio::test]
async fn a_wrong_password_is_refused_in_dutch() {
    let app = spawn_app().await;
    let b = browser().await;
    let c = &b.client;
    c.goto(&app.url("/inloggen")).await.unwrap();
    submit_sign_in(c, "mentor", "niet het wachtwoord").await;
    let alert = c
        .wait()
        .for_element(Locator::Css("p.error"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(alert.contains("klopt niet"), "{alert}");
    c.clone().close().await.unwrap();
}

/// A student of the mentor's class with no `unexplained` signal open today,
/// so that one unknown lesson today raises a new one.
fn calm_student(app: &TestApp) -> String {
    let live = app.state.read().unwrap();
    let d = live.through.unwrap();
    live.school
        .students()
        .iter()
        .zip(&live.evaluations)
        .find(|(s, ev)| {
            s.class == app.mentor_class
                && !ev
                    .open_on(d)
                    .any(|sig| sig.rule == aanwezig_domain::RuleId::Unexplained)
        })
        .map(|(s, _)| s.id.to_string())
        .expect("a student without an open 3b signal in the mentor's class")
}

#[tokio::test]
async fn a_mentor_marks_a_lesson_absent_and_sees_the_signal() {
    let app = spawn_app().await;
    let student = calm_student(&app);
    let b = browser().await;
    let c = &b.client;
    sign_in(&app, c, "mentor").await;

    // Choose the class, today and the first lesson through the form.
    c.find(Locator::LinkText("Registreren"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("form.register-choose"))
        .await
        .unwrap();
    choose(c, Locator::Id("klas"), &app.mentor_class).await;
    choose(c, Locator::Id("lesuur"), "1").await;
    click(c, "form.register-choose button").await;
    c.wait()
        .for_element(Locator::Css("form.register-form"))
        .await
        .unwrap();

    // Everyone is present by default; mark one student unknown absent (A).
    let row = format!("//tr[th[contains(., '({student})')]]//select");
    choose(c, Locator::XPath(&row), "A").await;
    click(c, "form.register-form button[type=submit]").await;
    c.wait().for_element(Locator::Css("main h1")).await.unwrap();
    assert!(
        !c.current_url().await.unwrap().path().ends_with("/1"),
        "left the register after saving"
    );

    // The student's page shows the new 3b signal of today at once.
    c.goto(&app.url(&format!("/leerlingen/{student}")))
        .await
        .unwrap();
    let signal =
        "//li[contains(@class,'signal')][.//h3[contains(., 'Ongeoorloofd of onbekend verzuim')]]\
                  [.//p[contains(., 'Op vrijdag 14 november 2025')]]";
    let li = c.wait().for_element(Locator::XPath(signal)).await.unwrap();
    assert!(li.text().await.unwrap().contains("open"));
    c.clone().close().await.unwrap();
}
