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
    axe_check(c, "Weekoverzicht (coördinator)").await;
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
    axe_check(c, "Inloggen").await;
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
    axe_check(c, "Inloggen met foutmelding").await;
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
    axe_check(c, "Registreren, klas kiezen (mentor)").await;
    choose(c, Locator::Id("klas"), &app.mentor_class).await;
    choose(c, Locator::Id("lesuur"), "1").await;
    click(c, "form.register-choose button").await;
    c.wait()
        .for_element(Locator::Css("form.register-form"))
        .await
        .unwrap();
    axe_check(c, "Presentielijst (mentor)").await;

    // Typing in the closed list picks by meaning: "a" keeps "aanwezig"
    // (it used to jump to "A — onbekend afwezig"), "z" picks "ziek
    // gemeld", "a" again goes back to "aanwezig".
    let row = format!("//tr[th[contains(., '({student})')]]//select");
    let select = c.find(Locator::XPath(&row)).await.unwrap();
    c.execute(
        "arguments[0].focus();",
        vec![serde_json::to_value(&select).unwrap()],
    )
    .await
    .unwrap();
    for (key, expected) in [('a', "aanwezig"), ('z', "Z"), ('a', "aanwezig")] {
        // One key press on the focused, closed list, as a person types it.
        use fantoccini::actions::{InputSource, KeyAction, KeyActions};
        let press = KeyActions::new("toetsenbord".into())
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key });
        c.perform_actions(press).await.unwrap();
        let value = select.prop("value").await.unwrap().unwrap_or_default();
        assert_eq!(value, expected, "after typing {key}");
        // Type-ahead joins letters typed within a second into one search;
        // wait it out so that each letter is a search of its own.
        tokio::time::sleep(Duration::from_millis(1100)).await;
    }

    // Everyone is present by default; mark one student unknown absent (A).
    choose(c, Locator::XPath(&row), "A").await;
    click(c, "form.register-form button[type=submit]").await;
    c.wait().for_element(Locator::Css("main h1")).await.unwrap();
    assert!(
        !c.current_url().await.unwrap().path().ends_with("/1"),
        "left the register after saving"
    );
    axe_check(c, "Presentielijst opgeslagen (mentor)").await;

    // The student's page shows the new 3b signal of today at once.
    c.goto(&app.url(&format!("/leerlingen/{student}")))
        .await
        .unwrap();
    let signal =
        "//li[contains(@class,'signal')][.//h3[contains(., 'Onbekend verzuim (zonder geldige reden)')]]\
                  [.//p[contains(., 'Op vrijdag 14 november 2025')]]";
    let li = c.wait().for_element(Locator::XPath(signal)).await.unwrap();
    assert!(li.text().await.unwrap().contains("open"));
    axe_check(c, "Leerlingpagina (mentor)").await;

    // A correction of that lesson ("Correctie opslaan") is confirmed on
    // the student page it returns to.
    c.goto(&app.url(&format!(
        "/leerlingen/{student}/les?datum=2025-11-14&lesuur=1"
    )))
    .await
    .unwrap();
    c.wait()
        .for_element(Locator::Css("form.lesson-form"))
        .await
        .unwrap();
    axe_check(c, "Les corrigeren (mentor)").await;
    choose(c, Locator::Id("code"), "Z").await;
    click_away(
        c,
        Locator::XPath("//button[contains(., 'Correctie opslaan')]"),
    )
    .await;
    let notice = text_of(c, Locator::Css("main p.success")).await;
    assert!(
        notice.contains("De correctie is opgeslagen: vrijdag 14 november 2025, lesuur 1."),
        "{notice}"
    );
    axe_check(c, "Leerlingpagina na een correctie (mentor)").await;
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
        .unwrap();
    axe_check(c, "Leerlingpagina (coördinator)").await;
    c.wait()
        .for_element(Locator::LinkText("Dossier openen"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let radio = "//input[@name='bron' and starts-with(@value, 'signaal:unexplained:')]";
    c.wait().for_element(Locator::XPath(radio)).await.unwrap();
    axe_check(c, "Dossier openen (coördinator)").await;
    c.find(Locator::XPath(radio))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let dossier = format!("/leerlingen/{s}/dossier");
    submit(c, &format!("{dossier}/openen"), "Dossier openen").await;
    let h2 = text_of(c, Locator::Css("#dossier-kop")).await;
    assert!(h2.contains("3b"), "{h2}");
    axe_check(c, "Dossier 3b (coördinator)").await;

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
    axe_check(c, "Contactmoment vastleggen (coördinator)").await;
    fill(c, "c-c_school", "Eerste uur melden bij de mentor.").await;
    click_away(c, Locator::Css("form.contact-form button[type=submit]")).await;
    let saved = text_of(c, Locator::Css("main")).await;
    assert!(
        saved.contains("Eerste uur melden bij de mentor."),
        "{saved}"
    );
    axe_check(c, "Contactmoment opgeslagen (coördinator)").await;
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
    axe_check(c, "Dossier 4b (coördinator)").await;

    // The DUO signal waits under "Nog te melden"; make its draft.
    c.goto(&app.url("/meldingen")).await.unwrap();
    let make = format!(
        "//form[@action='/meldingen/nieuw'][input[@name='leerling' and @value='{s}']]//button"
    );
    c.wait().for_element(Locator::XPath(&make)).await.unwrap();
    axe_check(c, "DUO-meldingen (coördinator)").await;
    c.find(Locator::XPath(&make))
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
    axe_check(c, "Concept-melding (coördinator)").await;
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
    fill(c, "m-ouder-telefoon", "06 1234 5678").await;
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
    axe_check(c, "Melding opgeslagen (coördinator)").await;

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
    axe_check(c, "Melding geregistreerd (coördinator)").await;

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
    c.wait().for_element(Locator::XPath(radio)).await.unwrap();
    axe_check(c, "Dossier openen (mentor)").await;
    c.find(Locator::XPath(radio))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    submit(c, &format!("{dossier}/openen"), "Dossier openen").await;
    let h2 = text_of(c, Locator::Css("#dossier-kop")).await;
    assert!(h2.contains("3a"), "{h2}");
    axe_check(c, "Dossier 3a (mentor)").await;

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
    axe_check(c, "Contactmoment vastleggen (mentor)").await;
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
    let notice = text_of(c, Locator::Css("main p.success")).await;
    assert!(
        notice.contains("Het contactmoment is opgeslagen, met 1 afspraak."),
        "{notice}"
    );
    axe_check(c, "Contactmoment opgeslagen (mentor)").await;
    c.goto(&app.url(&format!("{dossier}/afspraken")))
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("form.agreement-check"))
        .await
        .unwrap();
    axe_check(c, "Afspraken (mentor)").await;
    c.goto(&app.url(&format!("{dossier}/verslag")))
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("article.report"))
        .await
        .unwrap();
    axe_check(c, "Dossierverslag (mentor)").await;
    c.goto(&app.url(&dossier)).await.unwrap();
    let summary = text_of(c, Locator::Css("#contact-kop + ul")).await;
    assert!(summary.contains("1 contactmoment"), "{summary}");
    assert!(summary.contains("1 afspraak"), "{summary}");

    sign_out(c).await;

    // The ondersteuningscoördinator records the referral the parents
    // consented to and brings the jeugdarts in.
    sign_in(&app, c, "zorg").await;
    c.goto(&app.url(&dossier)).await.unwrap();
    c.wait()
        .for_element(Locator::Id("besluit-soort"))
        .await
        .unwrap();
    axe_check(c, "Dossier 3a (ondersteuningscoördinator)").await;
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
    axe_check(
        c,
        "Dossier met jeugdarts betrokken (ondersteuningscoördinator)",
    )
    .await;
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
    axe_check(c, "Dossiers (jeugdarts)").await;
    c.goto(&app.url(&dossier)).await.unwrap();
    let page = text_of(c, Locator::Css("main")).await;
    assert!(page.contains("3a"));
    assert!(
        !page.contains("Vaste bedtijd"),
        "no conversation content for a partner"
    );
    axe_check(c, "Dossier (jeugdarts)").await;
    fill(
        c,
        "notitie-tekst",
        "Spreekuur gepland; vervolg over drie weken.",
    )
    .await;
    submit(c, &format!("{dossier}/notitie"), "Notitie opslaan").await;
    let notes = text_of(c, Locator::Css("main")).await;
    assert!(notes.contains("Spreekuur gepland; vervolg over drie weken."));
    axe_check(c, "Notitie opgeslagen (jeugdarts)").await;
    sign_out(c).await;

    // Nobody at school reads the note.
    sign_in(&app, c, "mentor").await;
    c.goto(&app.url(&dossier)).await.unwrap();
    let page = text_of(c, Locator::Css("main")).await;
    assert!(
        page.contains("Ouders maken een afspraak bij de jeugdarts") || page.contains("1 afspraak")
    );
    assert!(!page.contains("Spreekuur gepland"));
    axe_check(c, "Dossier na de jeugdarts (mentor)").await;
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
    axe_check(c, "Weekoverzicht (mentor)").await;
    let link = format!("a[href^=\"/leerlingen/{id}/gebeld\"]");
    click(c, &link).await;
    c.wait()
        .for_element(Locator::Css("fieldset#f-bereikt"))
        .await
        .unwrap();
    axe_check(c, "Gebeld (mentor)").await;
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
    axe_check(c, "Weekoverzicht na het gesprek (mentor)").await;
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
        .and_then(|s| s.split("DUO-meldingen te doen").next())
        .unwrap_or_default();
    assert!(!bellen.contains(&name), "{name} left Bel vandaag: {bellen}");
    c.clone().close().await.unwrap();
}

/// Issue 11: a new 16-hour signal while a registered melding about the same
/// student is open at DUO is a vervolg. The coordinator records "afgestemd
/// met leerplicht": the duty leaves the list, the trail keeps it (under the
/// student and on the melding).
#[tokio::test]
async fn a_vervolg_is_settled_with_leerplicht() {
    let app = spawn_app().await;
    let (s, n) = crate::duo_work::vervolg_fixture(&app).await;
    let b = browser().await;
    let c = &b.client;
    sign_in(&app, c, "coordinator").await;
    c.goto(&app.url("/meldingen")).await.unwrap();
    let group = format!("tbody#leerling-{s}");
    let before = text_of(c, Locator::Css(&group)).await;
    assert!(
        before.contains(&format!("terwijl melding nr. {n} bij DUO loopt")),
        "{before}"
    );
    click_away(
        c,
        Locator::XPath(&format!(
            "//tbody[@id='leerling-{s}']//a[contains(., 'Afgestemd met leerplicht')]"
        )),
    )
    .await;
    fill(c, "f-met_wie", "J. de Vries (leerplicht)").await;
    fill(
        c,
        "f-waarom",
        "De lopende melding dekt deze weken; leerplicht spreekt de ouders.",
    )
    .await;
    submit(c, "/meldingen/afstemming", "Afstemming vastleggen").await;
    assert_eq!(c.current_url().await.unwrap().path(), "/meldingen");
    let notice = text_of(c, Locator::Css("main p.success[role=status]")).await;
    assert!(
        notice.contains("afstemming met leerplicht is vastgelegd"),
        "{notice}"
    );
    let after = text_of(c, Locator::Css(&group)).await;
    assert!(!after.contains("bij DUO loopt"), "the duty left: {after}");
    assert!(
        c.find_all(Locator::XPath(&format!(
            "//form[@action='/meldingen/nieuw'][input[@name='leerling' and @value='{s}']]"
        )))
        .await
        .unwrap()
        .is_empty(),
        "no button to report it any more"
    );
    assert!(after.contains("Afgestemd met leerplicht"), "{after}");
    assert!(after.contains("J. de Vries (leerplicht)"), "{after}");
    c.goto(&app.url(&format!("/meldingen/{n}"))).await.unwrap();
    let facts = text_of(c, Locator::Css("dl.melding-facts")).await;
    assert!(facts.contains("leerplicht spreekt de ouders"), "{facts}");
    c.clone().close().await.unwrap();
}

/// Issue 11: moving a dossier past 4b while the DUO melding is still open
/// asks for a confirmation with a reason; the reason stays in the steps.
#[tokio::test]
async fn past_4b_with_an_open_duo_duty_asks_for_confirmation() {
    let app = spawn_app().await;
    let s = crate::common::sixteen_hours(&app).await;
    crate::duo_work::case_at_4b(&app, &s).await;
    let b = browser().await;
    let c = &b.client;
    sign_in(&app, c, "coordinator").await;
    let dossier = format!("/leerlingen/{s}/dossier");
    c.goto(&app.url(&dossier)).await.unwrap();
    let wat_nu = text_of(c, Locator::Css("section#taken")).await;
    assert!(wat_nu.contains("De DUO-melding doen"), "{wat_nu}");

    // Without the confirmation: refused, the step stays 4b.
    choose(c, Locator::Id("stap-naar"), "5b").await;
    fill(c, "stap-waarom", "Ouders werken niet mee").await;
    submit(c, &format!("{dossier}/stap"), "Stap wijzigen").await;
    let err = text_of(c, Locator::Css("section#stap p.error")).await;
    assert!(err.contains("staat nog 1 DUO-melding open"), "{err}");
    let h2 = text_of(c, Locator::Css("#dossier-kop")).await;
    assert!(h2.contains("4b"), "{h2}");

    // Confirmed, with a reason: moved, and the reason is in the steps.
    choose(c, Locator::Id("stap-naar"), "5b").await;
    fill(c, "stap-waarom", "Ouders werken niet mee").await;
    let box_ = c.find(Locator::Id("stap-duo-bevestigd")).await.unwrap();
    if !box_.is_selected().await.unwrap() {
        box_.click().await.unwrap();
    }
    fill(
        c,
        "stap-duo-reden",
        "Leerplicht is al betrokken; de melding volgt vandaag",
    )
    .await;
    submit(c, &format!("{dossier}/stap"), "Stap wijzigen").await;
    let h2 = text_of(c, Locator::Css("#dossier-kop")).await;
    assert!(h2.contains("5b"), "{h2}");
    let steps = text_of(c, Locator::Css("section#stap")).await;
    assert!(
        steps.contains("Toch verder met 1 open DUO-melding: Leerplicht is al betrokken"),
        "{steps}"
    );
    c.clone().close().await.unwrap();
}

// ---------------------------------------------------------------------------
// Accessibility: axe-core, from npm, run inside the page.

/// Where `scripts/test.sh` installs axe-core: `target/axe` in the workspace.
fn axe_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/axe")
}

/// The version `scripts/test.sh` installs; keep the two equal.
const AXE_VERSION: &str = "4.14.1";

/// The source of `axe.min.js`, installed with npm into `target/axe` when
/// missing (`scripts/test.sh` does the same before the tests). Without
/// npm the test fails: axe-core is part of the browser tests.
fn axe_source() -> &'static str {
    static SOURCE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SOURCE.get_or_init(|| {
        let dir = axe_dir();
        let file = dir.join("node_modules/axe-core/axe.min.js");
        let installed = std::fs::read_to_string(dir.join("node_modules/axe-core/package.json"))
            .is_ok_and(|p| p.contains(&format!("\"version\": \"{AXE_VERSION}\"")));
        if !file.exists() || !installed {
            std::fs::create_dir_all(&dir).unwrap();
            let status = Command::new("npm")
                .args(["install", "--silent", "--no-audit", "--no-fund", "--prefix"])
                .arg(&dir)
                .arg(format!("axe-core@{AXE_VERSION}"))
                .status();
            assert!(
                matches!(status, Ok(s) if s.success()),
                "axe-core ontbreekt en npm kon het niet installeren ({status:?}): \
                 scripts/test.sh installeert het in target/axe"
            );
        }
        std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("{} niet te lezen: {e}", file.display()))
    })
}

/// Every radio button sits in a fieldset with a legend, is no wider than
/// 24 px, and the text of its label starts at most 24 px to its right, on
/// the same line.
async fn radios_beside_labels(c: &Client, what: &str) {
    let bad = c
        .execute(
            r"const bad = [];
              for (const r of document.querySelectorAll('input[type=radio]')) {
                const name = r.name + '=' + r.value;
                const fs = r.closest('fieldset');
                if (!fs || !fs.querySelector(':scope > legend')) { bad.push(name + ': geen fieldset met legend'); continue; }
                const label = r.labels && r.labels[0];
                if (!label) { bad.push(name + ': geen label'); continue; }
                const walker = document.createTreeWalker(label, NodeFilter.SHOW_TEXT,
                  { acceptNode: n => n.textContent.trim() ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_SKIP });
                const text = walker.nextNode();
                if (!text) { bad.push(name + ': label zonder tekst'); continue; }
                const range = document.createRange();
                range.selectNodeContents(text);
                const t = range.getClientRects()[0];
                const b = r.getBoundingClientRect();
                const gap = t.left - b.right;
                const dy = Math.abs((t.top + t.bottom) / 2 - (b.top + b.bottom) / 2);
                // A radio stretched wide is drawn in the middle of its box,
                // far from the text: the box itself must stay small.
                if (b.width > 24) { bad.push(name + ': ' + Math.round(b.width) + ' px breed'); continue; }
                if (gap < -1 || gap > 24 || dy > 12) {
                  bad.push(name + ': tekst ' + Math.round(gap) + ' px rechts, ' + Math.round(dy) + ' px verschoven');
                }
              }
              return bad;",
            vec![],
        )
        .await
        .unwrap();
    let bad: Vec<String> = serde_json::from_value(bad).unwrap();
    assert!(
        bad.is_empty(),
        "keuzerondjes niet naast hun tekst op {what}:\n{}",
        bad.join("\n")
    );
}

/// One axe finding, as read back from the browser.
#[derive(serde::Deserialize)]
struct AxeRule {
    id: String,
    impact: Option<String>,
    help: String,
    nodes: Vec<AxeNode>,
}

#[derive(serde::Deserialize)]
struct AxeNode {
    target: Vec<serde_json::Value>,
    #[serde(default)]
    summary: String,
}

#[derive(serde::Deserialize)]
struct AxeResults {
    violations: Vec<AxeRule>,
    incomplete: Vec<AxeRule>,
}

fn describe(rules: &[AxeRule]) -> String {
    let mut out = String::new();
    for r in rules {
        out.push_str(&format!(
            "- {} ({}): {}\n",
            r.id,
            r.impact.as_deref().unwrap_or("-"),
            r.help
        ));
        for n in &r.nodes {
            let target: Vec<String> = n.target.iter().map(ToString::to_string).collect();
            out.push_str(&format!("    {}\n", target.join(" > ")));
            for line in n.summary.lines() {
                out.push_str(&format!("      {line}\n"));
            }
        }
    }
    out
}

/// Runs axe-core on the page the browser shows and fails on any violation,
/// listing them readably. The items axe cannot decide ("incomplete",
/// mostly contrast over backgrounds it cannot compute) are printed and
/// kept in `target/axe/incomplete.txt`; docs/accessibility.md records the
/// hand check of each.
///
/// It also checks every radio button on the page: inside a fieldset with a
/// legend, and its label's text right beside it (issue 11: the contact
/// kind's buttons sat a page width away from their words).
pub async fn axe_check(c: &Client, what: &str) {
    radios_beside_labels(c, what).await;
    c.execute(axe_source(), vec![]).await.unwrap();
    let script = r"
        const done = arguments[arguments.length - 1];
        axe.run(document, { resultTypes: ['violations', 'incomplete'] })
          .then(r => done({
            violations: r.violations.map(pick),
            incomplete: r.incomplete.map(pick),
          }))
          .catch(e => done({ error: String(e) }));
        function pick(rule) {
          return {
            id: rule.id, impact: rule.impact, help: rule.help,
            nodes: rule.nodes.map(n => ({ target: n.target, summary: n.failureSummary || '' })),
          };
        }";
    let value = c.execute_async(script, vec![]).await.unwrap();
    if let Some(e) = value.get("error") {
        panic!("axe-core on {what}: {e}");
    }
    let results: AxeResults = serde_json::from_value(value).unwrap();
    let url = c.current_url().await.unwrap();
    if !results.incomplete.is_empty() {
        let text = format!(
            "== {what} ({})\n{}",
            url.path(),
            describe(&results.incomplete)
        );
        eprintln!("axe-core, nog met de hand te controleren:\n{text}");
        use std::io::Write as _;
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(axe_dir().join("incomplete.txt"))
        {
            let _ = f.write_all(text.as_bytes());
        }
    }
    assert!(
        results.violations.is_empty(),
        "axe-core vindt {} overtreding(en) op {what} ({}):\n{}",
        results.violations.len(),
        url.path(),
        describe(&results.violations)
    );
}

/// The harness itself: axe-core does fail a page with a violation (an
/// image without alternative text), so that "0 violations" means something.
#[tokio::test]
async fn axe_check_fails_on_a_page_with_a_violation() {
    let app = spawn_app().await;
    let b = browser().await;
    let c = b.client.clone();
    c.goto(&app.url("/inloggen")).await.unwrap();
    c.execute(
        "document.querySelector('main').appendChild(document.createElement('img'));",
        vec![],
    )
    .await
    .unwrap();
    let checked =
        tokio::spawn(async move { axe_check(&c, "Inloggen met een plaatje").await }).await;
    assert!(checked.is_err(), "axe-core missed the image without alt");
    b.client.clone().close().await.unwrap();
}

/// The links of the main menu on the page the browser shows.
async fn menu_links(c: &Client) -> Vec<String> {
    let mut hrefs = Vec::new();
    for a in c.find_all(Locator::Css("header.top nav a")).await.unwrap() {
        hrefs.push(a.attr("href").await.unwrap().unwrap_or_default());
    }
    hrefs
}

/// Whether the page scrolls sideways at the window's width.
async fn scrolls_sideways(c: &Client) -> Option<String> {
    // The widest culprits: elements sticking out on the right whose own
    // children do not, named by tag and class.
    let v = c
        .execute(
            r"const w = window.innerWidth;
              const out = e => e.getBoundingClientRect().right > w + 0.5;
              const culprits = [...document.querySelectorAll('body *')]
                .filter(e => out(e) && ![...e.children].some(out))
                .filter(e => {
                  for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
                    if (getComputedStyle(p).overflowX !== 'visible') return false;
                  }
                  return true;
                })
                .slice(0, 5)
                .map(e => e.tagName.toLowerCase() + (e.className && typeof e.className === 'string'
                  ? '.' + e.className.trim().split(/\s+/).join('.') : ''));
              return [document.documentElement.scrollWidth, w, culprits.join(', ')];",
            vec![],
        )
        .await
        .unwrap();
    let (scroll, inner) = (v[0].as_i64().unwrap(), v[1].as_i64().unwrap());
    (scroll > inner).then(|| {
        format!(
            "{scroll} px breed bij een venster van {inner} px ({})",
            v[2].as_str().unwrap_or_default()
        )
    })
}

/// Every page of the main menu, for every role, plus the student page and
/// the presentielijst where the role has them: 0 axe-core violations at
/// desktop width, and no sideways scrolling of the page at 360 px (a wide
/// table scrolls inside its own box).
#[tokio::test]
async fn every_menu_page_for_every_role_is_accessible_and_fits_360_px() {
    let app = spawn_app().await;
    let b = browser().await;
    let c = &b.client;
    let register = format!(
        "/registreren/{}/{}/1",
        app.mentor_class.replace(' ', "%20"),
        crate::common::today()
    );
    let student = format!("/leerlingen/{}", app.own_student);
    let mut narrow_failures = Vec::new();
    for user in [
        "coordinator",
        "mentor",
        "zorg",
        "leerplicht",
        "jeugdarts",
        "keten",
        "beheer",
    ] {
        c.set_window_size(1280, 1000).await.unwrap();
        sign_in(&app, c, user).await;
        let mut pages = menu_links(c).await;
        if pages.iter().any(|p| p == "/registreren") {
            pages.push(register.clone());
        }
        if pages.iter().any(|p| p == "/leerlingen") {
            pages.push(student.clone());
        }
        if pages.iter().any(|p| p == "/instellingen") {
            for sub in ["kalender", "beleid", "codes", "import", "school", "email"] {
                pages.push(format!("/instellingen/{sub}"));
            }
        }
        if pages.iter().any(|p| p == "/gebruikers") {
            pages.push("/gebruikers/nieuw".into());
            pages.push("/gebruikers/mentor".into());
        }
        for page in &pages {
            c.goto(&app.url(page)).await.unwrap();
            c.wait().for_element(Locator::Css("main h1")).await.unwrap();
            axe_check(c, &format!("{page} ({user})")).await;
        }
        c.set_window_size(360, 800).await.unwrap();
        for page in &pages {
            c.goto(&app.url(page)).await.unwrap();
            c.wait().for_element(Locator::Css("main h1")).await.unwrap();
            if let Some(wide) = scrolls_sideways(c).await {
                narrow_failures.push(format!("{page} ({user}): {wide}"));
            }
        }
        c.set_window_size(1280, 1000).await.unwrap();
        sign_out(c).await;
    }
    assert!(
        narrow_failures.is_empty(),
        "schuift opzij bij 360 px:\n{}",
        narrow_failures.join("\n")
    );
    c.clone().close().await.unwrap();
}

/// A Chrome DevTools command through chromedriver's own endpoint.
#[derive(Debug)]
struct Cdp(serde_json::Value);

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        (axum::http::Method::POST, Some(self.0.to_string()))
    }
}

/// The student page as printed (print media emulated in Chromium): the
/// heat map and its legend are shown, and every swatch of the legend is
/// printed with its colour and an outline (a background left out of the
/// print would leave the legend without its colours).
#[tokio::test]
async fn the_printed_heat_map_keeps_its_legend() {
    let app = spawn_app().await;
    let b = browser().await;
    let c = &b.client;
    sign_in(&app, c, "mentor").await;
    c.goto(&app.url(&format!("/leerlingen/{}", app.own_student)))
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("svg.heatmap"))
        .await
        .unwrap();
    c.issue_cmd(Cdp(serde_json::json!({
        "cmd": "Emulation.setEmulatedMedia",
        "params": { "media": "print" }
    })))
    .await
    .unwrap();
    let v = c
        .execute(
            r"const shown = e => e && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden';
              const swatches = [...document.querySelectorAll('.heatmap-figure .legend .swatch')];
              return {
                print: matchMedia('print').matches,
                map: shown(document.querySelector('svg.heatmap')),
                legend: shown(document.querySelector('.heatmap-figure .legend')),
                swatches: swatches.length,
                unprinted: swatches.filter(s => {
                  const st = getComputedStyle(s);
                  return !shown(s) || st.printColorAdjust !== 'exact' || st.borderTopStyle === 'none';
                }).map(s => s.className),
              };",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(v["print"], true, "print media emulated: {v}");
    assert_eq!(v["map"], true, "{v}");
    assert_eq!(v["legend"], true, "{v}");
    assert!(v["swatches"].as_u64().unwrap() >= 3, "{v}");
    assert_eq!(v["unprinted"], serde_json::json!([]), "{v}");
    c.clone().close().await.unwrap();
}
