//! Browser tests: real headless Chromium, driven through chromedriver
//! (Debian's `chromium` and `chromium-driver`; `scripts/test.sh` installs
//! them when missing), against the real app on port 0.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use aanwezig_storage::Store;
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
        "//li[contains(@class,'signal')][.//h3[contains(., 'Onbekend verzuim (zonder geldige reden)')]]\
                  [.//p[contains(., 'Op vrijdag 14 november 2025')]]";
    let li = c.wait().for_element(Locator::XPath(signal)).await.unwrap();
    assert!(li.text().await.unwrap().contains("open"));
    c.clone().close().await.unwrap();
}

/// Waits for an element and returns its text.
async fn text_of(c: &Client, locator: Locator<'_>) -> String {
    c.wait()
        .for_element(locator)
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Replaces the value of the input or textarea with `id`.
async fn fill(c: &Client, id: &str, text: &str) {
    let e = c.find(Locator::Id(id)).await.unwrap();
    e.clear().await.unwrap();
    e.send_keys(text).await.unwrap();
}

/// Clicks `css` and waits until the browser has left the page (its old
/// document is gone), so that what follows reads the next page.
async fn click_away(c: &Client, locator: Locator<'_>) {
    let old = c.find(Locator::Css("html")).await.unwrap();
    c.find(locator).await.unwrap().click().await.unwrap();
    for _ in 0..200 {
        if old.tag_name().await.is_err() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the page did not change after the click");
}

/// Clicks the submit button of the form posting to `action` and waits for
/// the answer page.
async fn submit(c: &Client, action: &str, button_text: &str) {
    let xpath = format!("//form[@action='{action}']//button[contains(., '{button_text}')]");
    click_away(c, Locator::XPath(&xpath)).await;
}

/// Signs out through the menu's button.
async fn sign_out(c: &Client) {
    click(c, "form.signout button").await;
    c.wait()
        .for_element(Locator::Id("gebruikersnaam"))
        .await
        .unwrap();
}

/// Step 3b to 4b to a registered DUO melding, as the verzuimcoördinator:
/// open the dossier from the 3b signal on the student page, move it to 4b
/// after 16 hours, make the melding's draft from the DUO signal, complete
/// it, register it, and find it in the dossier.
#[tokio::test]
async fn from_3b_to_4b_to_a_registered_duo_melding() {
    let app = spawn_app().await;
    let s = crate::common::sixteen_hours(&app).await;
    app.store
        .save_settings(
            aanwezig_storage::DocumentKind::School,
            r#"{"name":"Het Noorderlicht","brin":"12AB","vestiging":"00","phone":"050 123 4567"}"#,
            "test",
            crate::common::now(),
        )
        .await
        .unwrap();
    let b = browser().await;
    let c = &b.client;
    sign_in(&app, c, "coordinator").await;

    // The student page offers a dossier on the open 3b signal.
    c.goto(&app.url(&format!("/leerlingen/{s}"))).await.unwrap();
    c.wait()
        .for_element(Locator::LinkText("Dossier openen"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let radio = "//input[@name='bron' and starts-with(@value, 'signaal:unexplained:')]";
    c.wait()
        .for_element(Locator::XPath(radio))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let dossier = format!("/leerlingen/{s}/dossier");
    submit(c, &format!("{dossier}/openen"), "Dossier openen").await;
    let h2 = text_of(c, Locator::Css("#dossier-kop")).await;
    assert!(h2.contains("3b"), "{h2}");

    // The 3b conversation with student and parents (guide C).
    c.find(Locator::XPath(
        "//a[contains(@href, '/dossier/contact/nieuw?leidraad=C')]",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    c.wait()
        .for_element(Locator::Css("form.contact-form"))
        .await
        .unwrap();
    fill(c, "c-c_school", "Eerste uur melden bij de mentor.").await;
    click_away(c, Locator::Css("form.contact-form button[type=submit]")).await;
    let saved = text_of(c, Locator::Css("main")).await;
    assert!(
        saved.contains("Eerste uur melden bij de mentor."),
        "{saved}"
    );
    c.goto(&app.url(&dossier)).await.unwrap();

    // 16 unexplained hours: the school moves the case to 4b, with a reason.
    choose(c, Locator::Id("stap-naar"), "4b").await;
    fill(
        c,
        "stap-waarom",
        "16 uur ongeoorloofd verzuim in vier lesweken",
    )
    .await;
    submit(c, &format!("{dossier}/stap"), "Stap wijzigen").await;
    let h2 = text_of(c, Locator::Css("#dossier-kop")).await;
    assert!(h2.contains("4b"), "{h2}");
    let history = text_of(c, Locator::Css("section#stap")).await;
    assert!(
        history.contains("16 uur ongeoorloofd verzuim in vier lesweken"),
        "{history}"
    );

    // The DUO signal waits under "Nog te melden"; make its draft.
    c.goto(&app.url("/meldingen")).await.unwrap();
    let make = format!(
        "//form[@action='/meldingen/nieuw'][input[@name='leerling' and @value='{s}']]//button"
    );
    c.wait()
        .for_element(Locator::XPath(&make))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("form.melding-form"))
        .await
        .unwrap();
    let draft = c.current_url().await.unwrap().path().to_owned();
    assert!(draft.starts_with("/meldingen/"), "{draft}");
    // The actions come from the dossier, not retyped.
    let actions = c
        .find(Locator::Id("m-acties"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(actions.contains("leidraad C"), "{actions}");

    fill(
        c,
        "m-reden",
        "Komt 's ochtends niet; thuis lukt vertrekken niet.",
    )
    .await;
    fill(c, "m-email", "verzuim@noorderlicht.example").await;
    fill(c, "m-telefoon", "050 123 4567").await;
    submit(c, &draft, "Opslaan").await;
    c.wait()
        .for_element(Locator::Css("form.melding-form"))
        .await
        .unwrap();
    assert!(
        c.find_all(Locator::Css("main .error-summary"))
            .await
            .unwrap()
            .is_empty(),
        "the completed draft is valid: {}",
        text_of(c, Locator::Css("main")).await
    );

    // Register it: the melding is now read-only and geregistreerd.
    choose(c, Locator::Id("s-naar"), "geregistreerd").await;
    submit(c, &format!("{draft}/status"), "Vastleggen als gemeld").await;
    let status = text_of(
        c,
        Locator::XPath("//dl[contains(@class,'melding-facts')]//div[dt='Status']/dd"),
    )
    .await;
    assert_eq!(status, "geregistreerd");
    assert!(
        c.find_all(Locator::Css("form.melding-form"))
            .await
            .unwrap()
            .is_empty(),
        "a registered melding is read-only"
    );

    // The dossier lists the melding with its status.
    c.goto(&app.url(&dossier)).await.unwrap();
    let duo = text_of(c, Locator::Css("#meldingen")).await;
    assert!(duo.contains("geregistreerd"), "{duo}");
    c.clone().close().await.unwrap();
}

/// Step 3a to the jeugdarts: the mentor opens the dossier on a sick-report
/// signal, holds the conversation with guide C and records an agreement;
/// the ondersteuningscoördinator records the referral to the jeugdarts the
/// parents consented to and brings the jeugdarts in; the jeugdarts finds
/// the dossier, sees no conversation content, and writes a confidential
/// note no one else reads.
#[tokio::test]
async fn from_3a_to_the_jeugdarts() {
    let app = spawn_app().await;
    // A student of the mentor's class, reported sick four separate times
    // within twelve teaching weeks (afmelding_count, step 3a).
    let s = {
        let live = app.state.read().unwrap();
        live.school
            .students()
            .iter()
            .find(|st| st.class == app.mentor_class && st.id.as_str() != app.own_student)
            .unwrap()
            .id
            .to_string()
    };
    let sick: &[u8] = &[1, 2, 3, 4, 5, 6, 7];
    let days: Vec<(chrono::NaiveDate, &[u8], &str)> = [(10, 6), (10, 14), (11, 4), (11, 11)]
        .into_iter()
        .map(|(m, d)| (crate::common::ymd(2025, m, d), sick, "Z"))
        .collect();
    crate::common::rewrite(&app, &s, &days).await;

    let b = browser().await;
    let c = &b.client;
    sign_in(&app, c, "mentor").await;
    let dossier = format!("/leerlingen/{s}/dossier");
    c.goto(&app.url(&dossier)).await.unwrap();
    let radio = "//input[@name='bron' and starts-with(@value, 'signaal:afmelding_')]";
    c.wait()
        .for_element(Locator::XPath(radio))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    submit(c, &format!("{dossier}/openen"), "Dossier openen").await;
    let h2 = text_of(c, Locator::Css("#dossier-kop")).await;
    assert!(h2.contains("3a"), "{h2}");

    // The conversation with student and parents, guide C.
    c.find(Locator::XPath(
        "//a[contains(@href, '/dossier/contact/nieuw?leidraad=C')]",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    let hint = text_of(c, Locator::Css("form.contact-form")).await;
    assert!(hint.contains("aard van de ziekte"), "guide C warns: {hint}");
    fill(
        c,
        "c-c_gezin",
        "Vaste bedtijd; ouders bellen de mentor bij twijfel.",
    )
    .await;
    fill(c, "a1-wat", "Ouders maken een afspraak bij de jeugdarts.").await;
    choose(c, Locator::Id("a1-wie"), "ouders").await;
    click_away(c, Locator::Css("form.contact-form button[type=submit]")).await;
    // Saved: the contact moment's own page shows the answer.
    let saved = text_of(c, Locator::Css("main")).await;
    assert!(saved.contains("Vaste bedtijd"), "{saved}");
    c.goto(&app.url(&dossier)).await.unwrap();
    let summary = text_of(c, Locator::Css("#contact-kop + ul")).await;
    assert!(summary.contains("1 contactmoment"), "{summary}");
    assert!(summary.contains("1 afspraak"), "{summary}");

    sign_out(c).await;

    // The ondersteuningscoördinator records the referral the parents
    // consented to and brings the jeugdarts in.
    sign_in(&app, c, "zorg").await;
    c.goto(&app.url(&dossier)).await.unwrap();
    choose(c, Locator::Id("besluit-soort"), "jeugdarts_ja").await;
    submit(c, &format!("{dossier}/besluit"), "Vastleggen").await;
    // Recorded: a row in the decisions table (not only the form's options).
    let decisions = text_of(c, Locator::Css("#besluit table.dossier-table tbody")).await;
    assert!(
        decisions.contains("verwijzing jeugdarts (toestemming ouders: ja)"),
        "{decisions}"
    );
    choose(
        c,
        Locator::Css("form[action$='/dossier/partners'] select[name=gebruiker]"),
        "jeugdarts",
    )
    .await;
    submit(c, &format!("{dossier}/partners"), "Betrekken").await;
    // Brought in: listed with the date, and no error at the form.
    let partners = text_of(c, Locator::Css("section#partners")).await;
    assert!(
        partners.contains("Test jeugdarts (jeugdarts), sinds"),
        "{partners}"
    );
    assert!(
        c.find_all(Locator::Css("section#partners p.error"))
            .await
            .unwrap()
            .is_empty(),
        "{partners}"
    );
    sign_out(c).await;

    // The jeugdarts finds the dossier among their own.
    sign_in(&app, c, "jeugdarts").await;
    c.goto(&app.url("/dossiers")).await.unwrap();
    c.wait()
        .for_element(Locator::XPath(&format!(
            "//a[contains(@href, '/leerlingen/{s}')]"
        )))
        .await
        .unwrap();
    c.goto(&app.url(&dossier)).await.unwrap();
    let page = text_of(c, Locator::Css("main")).await;
    assert!(page.contains("3a"));
    assert!(
        !page.contains("Vaste bedtijd"),
        "no conversation content for a partner"
    );
    fill(
        c,
        "notitie-tekst",
        "Spreekuur gepland; vervolg over drie weken.",
    )
    .await;
    submit(c, &format!("{dossier}/notitie"), "Notitie opslaan").await;
    let notes = text_of(c, Locator::Css("main")).await;
    assert!(notes.contains("Spreekuur gepland; vervolg over drie weken."));
    sign_out(c).await;

    // Nobody at school reads the note.
    sign_in(&app, c, "mentor").await;
    c.goto(&app.url(&dossier)).await.unwrap();
    let page = text_of(c, Locator::Css("main")).await;
    assert!(
        page.contains("Ouders maken een afspraak bij de jeugdarts") || page.contains("1 afspraak")
    );
    assert!(!page.contains("Spreekuur gepland"));
    c.clone().close().await.unwrap();
}

/// Stap 2 in the browser: a mentor finds the student on Bel vandaag, fills
/// in "Gebeld" and the row is gone.
#[tokio::test]
async fn a_mentor_records_a_call_from_bel_vandaag_and_the_row_is_gone() {
    let app = spawn_app().await;
    let id = crate::tasks::quiet_student(&app, &app.mentor_class);
    let name = crate::tasks::name_of(&app, &id);
    crate::tasks::absent_whole_days(&app, &id, &[crate::common::today()]).await;
    let b = browser().await;
    let c = &b.client;
    sign_in(&app, c, "mentor").await;
    let calls = c
        .find(Locator::Css("table.calls"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(calls.contains(&name), "{calls}");
    let link = format!("a[href^=\"/leerlingen/{id}/gebeld\"]");
    click(c, &link).await;
    c.wait()
        .for_element(Locator::Css("fieldset#f-bereikt"))
        .await
        .unwrap();
    // The label sits beside its button: clicking it chooses the answer.
    click(c, "label[for=bereikt-ouder]").await;
    type_into(c, "f-hoe", "Gaat al beter").await;
    type_into(c, "f-school", "Huiswerk via de mail").await;
    click(c, "form.stacked button[type=submit]").await;
    let notice = c
        .wait()
        .for_element(Locator::Css("p.success"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(notice.contains("Het gesprek is opgeslagen"), "{notice}");
    assert_eq!(c.current_url().await.unwrap().path(), "/");
    let body = c
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let bellen = body
        .split("Bel vandaag")
        .nth(1)
        .and_then(|s| s.split("DUO-meldingen met een lopende termijn").next())
        .unwrap_or_default();
    assert!(!bellen.contains(&name), "{name} left Bel vandaag: {bellen}");
    c.clone().close().await.unwrap();
}
