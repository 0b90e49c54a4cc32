//! Integration tests of the contacts pages: contact moments with the
//! guides, agreements and weekly checks, the parents' addresses, sending
//! agreements over a real SMTP server (aiosmtpd), the mail settings and
//! the printable report.

use aanwezig_domain::StudentId;
use aanwezig_storage::{AuditAction, AuditFilter, DocumentKind};
use reqwest::{Client, StatusCode};

use crate::common::{case_of, open_case, spawn_app, TestApp};
use crate::smtp::SmtpServer;

const ANSWER: &str = "Ze slaapt slecht en komt daardoor vaak te laat";
const AGREEMENT: &str = "Lisa zet elke avond twee wekkers";
const STUDENT_MAIL: &str = "leerling@leerling.example.nl";

/// Records a guide C contact with one answer, a note and one agreement.
async fn record_contact(app: &TestApp, c: &Client, student: &str) -> (StatusCode, String, String) {
    app.submit(
        c,
        &format!("/leerlingen/{student}/dossier/contact/nieuw?leidraad=C"),
        &[
            ("leidraad", "C"),
            ("datum", "2025-11-13"),
            ("soort", "gesprek_op_school"),
            ("minuten", "45"),
            ("deelnemer", "leerling"),
            ("deelnemer", "ouders"),
            ("deelnemer", "school"),
            ("antwoord_c_reden", ANSWER),
            ("antwoord_c_school", ""),
            ("notitie", "Moeder werkt in ploegendienst"),
            ("afspraak1_wie", "leerling"),
            ("afspraak1_wat", AGREEMENT),
            ("afspraak1_tot", "2025-11-28"),
            ("afspraak2_wie", "school"),
            ("afspraak2_wat", ""),
        ],
    )
    .await
}

async fn mail_settings(app: &TestApp, port: u16) {
    let beheer = app.login("beheer").await;
    let port = port.to_string();
    let location = app
        .post_ok(
            &beheer,
            "/instellingen/email",
            &[
                ("host", "127.0.0.1"),
                ("poort", &port),
                ("beveiliging", "none"),
                ("gebruikersnaam", ""),
                ("wachtwoord", ""),
                ("afzender", "verzuim@school.example.nl"),
                ("afzender_naam", "Verzuim Testschool"),
                ("antwoordadres", ""),
            ],
        )
        .await;
    assert_eq!(location, "/instellingen/email?opgeslagen=1");
}

async fn set_email(app: &TestApp, username: &str, email: &str) {
    let mut u = app.store.user(username).await.unwrap().unwrap();
    u.email = Some(email.to_owned());
    app.store.update_user(&u).await.unwrap();
}

#[tokio::test]
async fn a_guide_c_contact_saves_answers_and_agreements() {
    let app = spawn_app().await;
    let own = app.own_student.clone();
    open_case(&app, &own, "3b", &[]).await;
    let mentor = app.login("mentor").await;

    let (status, form) = app
        .get(
            &mentor,
            &format!("/leerlingen/{own}/dossier/contact/nieuw?leidraad=C"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        form.contains("Vraag niet naar de aard van de ziekte"),
        "{form}"
    );
    assert!(form.contains("name=\"antwoord_c_reden\""));
    assert!(form.contains("type=\"date\""));

    let (status, location, body) = record_contact(&app, &mentor, &own).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert_eq!(
        location,
        format!("/leerlingen/{own}/dossier/contact/1?opgeslagen=1"),
        "contact moments count from 1"
    );
    let (_, shown) = app.get(&mentor, &location).await;
    assert!(
        shown.contains("<p class=\"success\" role=\"status\">Het contactmoment is opgeslagen"),
        "{shown}"
    );

    let case = case_of(&app, &own).await;
    assert_eq!(case.contacts.len(), 1);
    let c = &case.contacts[0];
    assert_eq!(c.minutes, Some(45));
    assert_eq!(c.participants.len(), 3);
    assert_eq!(c.answers.len(), 1, "empty answers are not stored");
    assert_eq!(c.answers[0].key, "c_reden");
    assert_eq!(case.agreements.len(), 1, "the empty second row is skipped");
    assert_eq!(case.agreements[0].what, AGREEMENT);
    assert_eq!(case.agreements[0].contact, Some(0));

    let (status, page) = app.get(&mentor, &location).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(ANSWER), "{page}");
    assert!(page.contains(AGREEMENT));
    assert!(page.contains("Contactmoment 1"));

    // Numbers that are not a contact: the Dutch 404 page, never axum's
    // plain-text rejection.
    for bad in ["0", "2", "abc", "-1", "99999999999999999999999"] {
        let (status, page) = app
            .get(&mentor, &format!("/leerlingen/{own}/dossier/contact/{bad}"))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{bad}");
        assert!(page.contains("Niet gevonden"), "{bad}: {page}");
    }

    let (status, page) = app
        .get(&mentor, &format!("/leerlingen/{own}/dossier/afspraken"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(AGREEMENT), "{page}");
    assert!(page.contains("contactmoment 1"));
    assert!(page.contains(&format!("href=\"/leerlingen/{own}/dossier/contact/1\"")));
    assert!(page.contains(&format!(
        "action=\"/leerlingen/{own}/dossier/afspraken/1/controle\""
    )));
    assert!(page.contains("vrijdag 28 november 2025"));

    // An external partner sees the contact, but not what was said.
    open_case_with_partner(&app, &own).await;
    let arts = app.login("jeugdarts").await;
    let (status, page) = app.get(&arts, &location).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(!page.contains(ANSWER));
    assert!(!page.contains("ploegendienst"));
    assert!(page.contains("niet gedeeld"));
}

/// Brings the jeugdarts into the student's stored case, from Monday
/// 10 November: before the contacts these tests record (a partner sees
/// only what happened since they came in).
async fn open_case_with_partner(app: &TestApp, student: &str) {
    let mut case = case_of(app, student).await;
    let arts = crate::common::account(app, "jeugdarts").await;
    crate::common::involve(&mut case, &arts, crate::common::ymd(2025, 11, 10));
    app.store
        .save_case(&case, "coordinator", crate::common::now())
        .await
        .unwrap();
}

#[tokio::test]
async fn an_unknown_question_or_a_bad_date_is_refused_and_the_input_kept() {
    let app = spawn_app().await;
    let own = app.own_student.clone();
    open_case(&app, &own, "3a", &[]).await;
    let mentor = app.login("mentor").await;
    let path = format!("/leerlingen/{own}/dossier/contact/nieuw?leidraad=B");
    let (status, _, body) = app
        .submit(
            &mentor,
            &path,
            &[
                ("leidraad", "B"),
                ("datum", "2025-11-13"),
                ("soort", "telefoon"),
                ("deelnemer", "leerling"),
                ("antwoord_b_hoe_gaat_het", "Goed, zegt ze"),
                ("antwoord_ziekte", "griep"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("hoort niet bij leidraad"), "{body}");
    assert!(body.contains("Goed, zegt ze"), "the typed answer stays");
    assert!(!body.contains("griep"));

    let (status, _, body) = app
        .submit(
            &mentor,
            &path,
            &[
                ("leidraad", "B"),
                ("datum", "2025-12-01"),
                ("soort", "telefoon"),
                ("antwoord_b_hulp", "Bijles wiskunde"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("in de toekomst"), "{body}");
    assert!(body.contains("Kies wie er aan het contact deelnamen"));
    assert!(body.contains("Bijles wiskunde"));
    assert!(case_of(&app, &own).await.contacts.is_empty());
}

#[tokio::test]
async fn without_an_open_case_the_form_points_to_the_dossier() {
    let app = spawn_app().await;
    let own = app.own_student.clone();
    let mentor = app.login("mentor").await;
    let (status, page) = app
        .get(&mentor, &format!("/leerlingen/{own}/dossier/contact/nieuw"))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(page.contains("nog geen dossier"), "{page}");
    assert!(page.contains(&format!("href=\"/leerlingen/{own}/dossier\"")));
}

#[tokio::test]
async fn agreements_get_weekly_checks() {
    let app = spawn_app().await;
    let own = app.own_student.clone();
    open_case(&app, &own, "3b", &[]).await;
    let mentor = app.login("mentor").await;
    let base = format!("/leerlingen/{own}/dossier/afspraken");

    let (status, _, body) = app
        .submit(
            &mentor,
            &base,
            &[
                ("wie", "partner"),
                ("partner", ""),
                ("wat", "Gesprek bij VO WIJ"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("naam van de partner"), "{body}");
    assert!(body.contains("Gesprek bij VO WIJ"));

    app.post_ok(
        &mentor,
        &base,
        &[
            ("wie", "ouders"),
            ("wat", "Ouders bellen bij ziekmelding voor 8 uur"),
            ("tot", ""),
        ],
    )
    .await;

    let check = format!("{base}/1/controle");
    let (status, _, body) = app
        .submit(&mentor, &check, &[("datum", "2025-11-14"), ("notitie", "")])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("Kies of de afspraak is nagekomen"), "{body}");

    app.post_ok(
        &mentor,
        &check,
        &[
            ("datum", "2025-11-14"),
            ("gehouden", "nee"),
            ("notitie", "Maandag niet gebeld"),
        ],
    )
    .await;
    let case = case_of(&app, &own).await;
    assert_eq!(case.agreements[0].kept.len(), 1);
    assert!(!case.agreements[0].kept[0].kept);

    let (_, page) = app.get(&mentor, &base).await;
    assert!(page.contains("Maandag niet gebeld"), "{page}");
    assert!(page.contains("vrijdag 14 november 2025"));

    for bad in ["0", "2", "x"] {
        let (status, _, body) = app
            .submit(
                &mentor,
                &format!("{base}/{bad}/controle"),
                &[("datum", "2025-11-14"), ("gehouden", "ja")],
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{bad}");
        assert!(body.contains("Niet gevonden"), "{bad}: {body}");
    }
    assert_eq!(case_of(&app, &own).await.agreements[0].kept.len(), 1);

    let (status, page) = app.get(&mentor, &format!("{base}?verstuurd=veel")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.contains("Niet gevonden"), "{page}");
}

#[tokio::test]
async fn every_guide_and_the_note_warn_not_to_ask_about_the_illness() {
    let app = spawn_app().await;
    let own = app.own_student.clone();
    open_case(&app, &own, "3a", &[]).await;
    let mentor = app.login("mentor").await;
    for guide in ["A", "B", "C"] {
        let (status, form) = app
            .get(
                &mentor,
                &format!("/leerlingen/{own}/dossier/contact/nieuw?leidraad={guide}"),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            form.contains("Vraag niet naar de aard van de ziekte"),
            "guide {guide}: {form}"
        );
    }
    let (_, form) = app
        .get(&mentor, &format!("/leerlingen/{own}/dossier/contact/nieuw"))
        .await;
    assert!(!form.contains("Vraag niet naar de aard van de ziekte"));
    assert!(
        form.contains("id=\"c-notitie-hulp\"") && form.contains("welke ziekte"),
        "the note field warns even without a guide: {form}"
    );
}

#[tokio::test]
async fn parents_addresses_are_validated_per_line() {
    let app = spawn_app().await;
    let own = app.own_student.clone();
    open_case(&app, &own, "3b", &[]).await;
    let coordinator = app.login("coordinator").await;
    let path = format!("/leerlingen/{own}/dossier/ouders");
    let (status, _, body) = app
        .submit(
            &coordinator,
            &path,
            &[("adressen", "moeder@example.nl\nvader at example.nl")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("regel 2"), "{body}");
    assert!(body.contains("vader at example.nl"), "the typed text stays");
    assert!(case_of(&app, &own).await.parent_emails.is_empty());

    app.post_ok(
        &coordinator,
        &path,
        &[("adressen", " moeder@example.nl \n\nvader@example.nl\n")],
    )
    .await;
    assert_eq!(
        case_of(&app, &own).await.parent_emails,
        vec![
            "moeder@example.nl".to_owned(),
            "vader@example.nl".to_owned()
        ]
    );

    // The student's own address is checked the same way; a refusal keeps
    // both fields as typed and stores nothing.
    let (status, _, body) = app
        .submit(
            &coordinator,
            &path,
            &[
                ("adressen", "moeder@example.nl"),
                ("leerling", "lisa at school"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body.contains("lisa at school&#39; is geen geldig e-mailadres"),
        "{body}"
    );
    assert!(body.contains("value=\"lisa at school\""));
    let case = case_of(&app, &own).await;
    assert_eq!(case.parent_emails.len(), 2, "nothing stored");
    assert_eq!(case.student_email, None);

    app.post_ok(
        &coordinator,
        &path,
        &[
            ("adressen", "moeder@example.nl"),
            ("leerling", " lisa@leerling.example.nl "),
        ],
    )
    .await;
    let case = case_of(&app, &own).await;
    assert_eq!(case.parent_emails, vec!["moeder@example.nl".to_owned()]);
    assert_eq!(
        case.student_email.as_deref(),
        Some("lisa@leerling.example.nl")
    );
    let (_, page) = app
        .get(
            &coordinator,
            &format!("/leerlingen/{own}/dossier/afspraken"),
        )
        .await;
    assert!(
        page.contains("value=\"lisa@leerling.example.nl\""),
        "{page}"
    );
}

#[tokio::test]
async fn agreements_are_mailed_one_message_per_recipient() {
    let smtp = SmtpServer::start();
    let app = spawn_app().await;
    let own = app.own_student.clone();
    open_case(&app, &own, "3b", &["jeugdarts"]).await;
    set_email(&app, "jeugdarts", "arts@ggd.example.nl").await;
    set_email(&app, "leerplicht", "lpa@gemeente.example.nl").await;
    set_email(&app, "mentor", "mentor@school.example.nl").await;
    mail_settings(&app, smtp.port).await;
    let mentor = app.login("mentor").await;
    let (status, _, body) = record_contact(&app, &mentor, &own).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    app.post_ok(
        &mentor,
        &format!("/leerlingen/{own}/dossier/ouders"),
        &[("adressen", "ouder@example.nl"), ("leerling", STUDENT_MAIL)],
    )
    .await;
    assert_eq!(
        case_of(&app, &own).await.student_email.as_deref(),
        Some(STUDENT_MAIL)
    );

    let base = format!("/leerlingen/{own}/dossier/afspraken");
    let (_, page) = app.get(&mentor, &base).await;
    assert!(page.contains("value=\"arts@ggd.example.nl\""), "{page}");
    assert!(page.contains("value=\"ouder@example.nl\""));
    assert!(page.contains(&format!("value=\"{STUDENT_MAIL}\"")));
    assert!(
        !page.contains("lpa@gemeente.example.nl"),
        "leerplicht is not involved"
    );

    // Leerplicht is not involved: the address is refused, nothing is sent.
    let send = format!("{base}/versturen");
    let (status, _, body) = app
        .submit(
            &mentor,
            &send,
            &[("afspraak", "0"), ("aan", "lpa@gemeente.example.nl")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("staat niet bij"), "{body}");

    let location = app
        .post_ok(
            &mentor,
            &send,
            &[
                ("afspraak", "0"),
                ("aan", "ouder@example.nl"),
                ("aan", "arts@ggd.example.nl"),
                ("aan", STUDENT_MAIL),
            ],
        )
        .await;
    assert!(location.contains("verstuurd=3"), "{location}");

    let messages = smtp.wait_for(3);
    assert_eq!(messages.len(), 3, "{messages:?}");
    let mut to: Vec<&str> = messages.iter().map(|m| m.rcpt()).collect();
    to.sort_unstable();
    assert_eq!(
        to,
        ["arts@ggd.example.nl", STUDENT_MAIL, "ouder@example.nl"]
    );
    let first = app
        .store
        .student(&StudentId::parse(&own).unwrap())
        .await
        .unwrap()
        .unwrap()
        .student
        .name
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    for m in &messages {
        assert!(
            m.header("To").contains(m.rcpt()),
            "one recipient per message: {m:?}"
        );
        assert!(
            m.header("Subject")
                .contains("Afspraken over de aanwezigheid van"),
            "{m:?}"
        );
        assert!(m.header("Subject").contains(&first));
        assert!(m.header("Reply-To").contains("mentor@school.example.nl"));
        assert!(
            m.header("Date").contains("14 Nov 2025"),
            "the school's clock: {m:?}"
        );
        assert!(m.body.contains(AGREEMENT), "{}", m.body);
        let text = m.text();
        for secret in [
            ANSWER,
            "ploegendienst",
            "ziek",
            "3b",
            "absent",
            "afwezig",
            "te laat",
        ] {
            assert!(
                !text.to_lowercase().contains(&secret.to_lowercase()),
                "{secret} in {text}"
            );
        }
    }
    assert!(messages
        .iter()
        .any(|m| m.body.starts_with("Beste ouders of verzorgers")));
    assert!(messages
        .iter()
        .any(|m| m.rcpt() == STUDENT_MAIL && m.body.starts_with(&format!("Beste {first},"))));

    let case = case_of(&app, &own).await;
    assert_eq!(case.mailings.len(), 1);
    assert_eq!(case.mailings[0].agreements, vec![0]);
    assert_eq!(case.mailings[0].to.len(), 3);

    // The beheerder reads the audit log: no parent's, student's or
    // partner's address in it.
    let log = app.store.audit_log(&AuditFilter::default()).await.unwrap();
    for e in &log {
        for address in ["ouder@example.nl", STUDENT_MAIL, "arts@ggd.example.nl"] {
            assert!(!e.detail.contains(address), "{address} in {e:?}");
        }
    }
    assert!(
        log.iter()
            .any(|e| e.action == AuditAction::Export && e.detail.contains("3 ontvangers")),
        "{log:?}"
    );
    let (_, page) = app.get(&mentor, &base).await;
    assert!(page.contains("Eerder verstuurd"));
    assert!(
        !page.contains("name=\"afspraak\" value=\"0\" checked"),
        "sent agreements are not chosen again by default"
    );
}

/// As the mentor: records a contact with an agreement, saves one parents'
/// address and sends them that agreement; the answer of the sending.
async fn mail_first_agreement_to_parents(app: &TestApp, own: &str) -> (StatusCode, String, String) {
    let mentor = app.login("mentor").await;
    record_contact(app, &mentor, own).await;
    app.submit(
        &mentor,
        &format!("/leerlingen/{own}/dossier/ouders"),
        &[("adressen", "ouder@example.nl")],
    )
    .await;
    app.submit(
        &mentor,
        &format!("/leerlingen/{own}/dossier/afspraken/versturen"),
        &[("afspraak", "0"), ("aan", "ouder@example.nl")],
    )
    .await
}

#[tokio::test]
async fn without_mail_settings_nothing_is_sent_or_recorded() {
    let app = spawn_app().await;
    let own = app.own_student.clone();
    open_case(&app, &own, "3b", &[]).await;
    let (status, _, body) = mail_first_agreement_to_parents(&app, &own).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body.contains("e-mail is nog niet ingesteld"), "{body}");
    assert!(case_of(&app, &own).await.mailings.is_empty());
}

#[tokio::test]
async fn a_refusing_server_is_reported_and_nothing_recorded() {
    let app = spawn_app().await;
    let own = app.own_student.clone();
    open_case(&app, &own, "3b", &[]).await;
    // Nothing listens on this port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    mail_settings(&app, port).await;
    let (status, _, body) = mail_first_agreement_to_parents(&app, &own).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert!(body.contains("niet verstuurd"), "{body}");
    assert!(case_of(&app, &own).await.mailings.is_empty());
}

#[tokio::test]
async fn mail_settings_are_the_beheerders_and_never_show_the_password() {
    let app = spawn_app().await;
    for user in ["coordinator", "mentor", "jeugdarts"] {
        let c = app.login(user).await;
        let (status, _) = app.get(&c, "/instellingen/email").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{user}");
    }
    let beheer = app.login("beheer").await;
    let (status, page) = app.get(&beheer, "/instellingen/email").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("nog niet ingesteld"));

    let fields = |password: &'static str, from: &'static str| {
        vec![
            ("host", "smtp.example.nl"),
            ("poort", "587"),
            ("beveiliging", "starttls"),
            ("gebruikersnaam", "verzuim"),
            ("wachtwoord", password),
            ("afzender", from),
            ("afzender_naam", "Verzuim"),
            ("antwoordadres", ""),
        ]
    };
    let (status, _, body) = app
        .submit(
            &beheer,
            "/instellingen/email",
            &fields("geheim-wachtwoord-42", "geen adres"),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("geldig e-mailadres"), "{body}");
    assert!(
        !body.contains("geheim-wachtwoord-42"),
        "a refused form does not echo the password"
    );
    assert!(body.contains("smtp.example.nl"), "the other values stay");

    app.post_ok(
        &beheer,
        "/instellingen/email",
        &fields("geheim-wachtwoord-42", "verzuim@example.nl"),
    )
    .await;
    let (_, page) = app.get(&beheer, "/instellingen/email").await;
    assert!(!page.contains("geheim-wachtwoord-42"), "{page}");
    assert!(page.contains("Er is een wachtwoord opgeslagen"));

    // A blank password keeps the stored one.
    app.post_ok(
        &beheer,
        "/instellingen/email",
        &fields("", "verzuim@example.nl"),
    )
    .await;
    let stored = app
        .store
        .settings(DocumentKind::Mail)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.contains("geheim-wachtwoord-42"), "{stored}");
    let log = app.store.audit_log(&AuditFilter::default()).await.unwrap();
    assert!(log
        .iter()
        .any(|e| e.action == AuditAction::Settings && e.detail.contains("e-mailinstellingen")));
    assert!(log
        .iter()
        .all(|e| !e.detail.contains("geheim-wachtwoord-42")));
}

#[tokio::test]
async fn a_test_message_arrives_or_the_error_is_shown() {
    let smtp = SmtpServer::start();
    let app = spawn_app().await;
    let beheer = app.login("beheer").await;
    let (status, _, body) = app
        .submit(
            &beheer,
            "/instellingen/email/test",
            &[("aan", "beheer@example.nl")],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "not configured yet");
    assert!(body.contains("nog geen mailserver"), "{body}");

    mail_settings(&app, smtp.port).await;
    let location = app
        .post_ok(
            &beheer,
            "/instellingen/email/test",
            &[("aan", "beheer@example.nl")],
        )
        .await;
    assert_eq!(location, "/instellingen/email?test=verzonden");
    let messages = smtp.wait_for(1);
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].rcpt(), "beheer@example.nl");
    assert!(messages[0]
        .header("Subject")
        .contains("Testbericht van aanwezig"));
    assert!(messages[0]
        .header("From")
        .contains("verzuim@school.example.nl"));

    // STARTTLS against a server without it: a clear error, not a crash.
    let beheer_port = smtp.port.to_string();
    app.post_ok(
        &beheer,
        "/instellingen/email",
        &[
            ("host", "127.0.0.1"),
            ("poort", &beheer_port),
            ("beveiliging", "starttls"),
            ("afzender", "verzuim@school.example.nl"),
        ],
    )
    .await;
    let (status, _, body) = app
        .submit(
            &beheer,
            "/instellingen/email/test",
            &[("aan", "beheer@example.nl")],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert!(body.contains("Het testbericht is niet verstuurd"), "{body}");
    assert!(body.contains("biedt geen STARTTLS aan"), "in Dutch: {body}");
    assert!(
        !body.contains("niet verstuurd. internal client error"),
        "lettre's text only in parentheses: {body}"
    );
    assert_eq!(smtp.messages().len(), 1);

    mail_settings(&app, smtp.port).await;
    drop(smtp);
    let (status, _, body) = app
        .submit(
            &beheer,
            "/instellingen/email/test",
            &[("aan", "beheer@example.nl")],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert!(body.contains("niet verstuurd"), "{body}");
    assert!(body.contains("is niet bereikbaar"), "in Dutch: {body}");
}

#[tokio::test]
async fn a_refused_address_is_named_and_only_the_delivered_ones_recorded() {
    let smtp = SmtpServer::start_refusing("fout@example.nl");
    let app = spawn_app().await;
    let own = app.own_student.clone();
    open_case(&app, &own, "3b", &[]).await;
    mail_settings(&app, smtp.port).await;
    let mentor = app.login("mentor").await;
    record_contact(&app, &mentor, &own).await;
    app.post_ok(
        &mentor,
        &format!("/leerlingen/{own}/dossier/ouders"),
        &[("adressen", "ouder@example.nl\nfout@example.nl")],
    )
    .await;
    let (status, _, body) = app
        .submit(
            &mentor,
            &format!("/leerlingen/{own}/dossier/afspraken/versturen"),
            &[
                ("afspraak", "0"),
                ("aan", "ouder@example.nl"),
                ("aan", "fout@example.nl"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("naar 1 adres verstuurd"), "{body}");
    assert!(
        body.contains("niet verstuurd naar fout@example.nl"),
        "{body}"
    );
    assert!(
        body.contains("weigerde het adres fout@example.nl"),
        "{body}"
    );
    assert!(
        body.contains("value=\"fout@example.nl\" checked"),
        "the refused address stays chosen to try again: {body}"
    );
    assert!(!body.contains("value=\"ouder@example.nl\" checked"));

    let messages = smtp.wait_for(1);
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].rcpt(), "ouder@example.nl");
    let case = case_of(&app, &own).await;
    assert_eq!(case.mailings.len(), 1);
    assert_eq!(case.mailings[0].to, vec!["ouder@example.nl".to_owned()]);
}

#[tokio::test]
async fn the_report_shows_contacts_and_agreements_as_the_role_may_see_them() {
    let app = spawn_app().await;
    let own = app.own_student.clone();
    // The partners come in before the contact of 13 November: they see
    // only what happened since.
    crate::common::open_case_on(
        &app,
        &own,
        "3b",
        &["jeugdarts"],
        crate::common::ymd(2025, 11, 10),
    )
    .await;
    let mentor = app.login("mentor").await;
    let (status, _, _) = record_contact(&app, &mentor, &own).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let path = format!("/leerlingen/{own}/dossier/verslag");

    let coordinator = app.login("coordinator").await;
    let (status, page) = app.get(&coordinator, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(ANSWER), "{page}");
    assert!(page.contains(AGREEMENT));
    assert!(page.contains("Contactmoment 1"));
    assert!(page.contains("jeugdarts"));
    assert!(
        !page.contains("<form method=\"post\" action=\"/leerlingen"),
        "no forms in the report"
    );

    let arts = app.login("jeugdarts").await;
    let (status, page) = app.get(&arts, &path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(AGREEMENT));
    assert!(!page.contains(ANSWER));
    assert!(!page.contains("ploegendienst"));
    assert!(page.contains("niet gedeeld"));

    let keten = app.login("keten").await;
    let (status, _) = app.get(&keten, &path).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not involved");

    let log = app
        .store
        .audit_log(&AuditFilter {
            student: Some(StudentId::parse(&own).unwrap()),
            username: Some("jeugdarts".into()),
            limit: 100,
        })
        .await
        .unwrap();
    assert!(log
        .iter()
        .any(|e| e.action == AuditAction::Export && e.detail.contains("verslag")));
}

/// A weekly agreement check starts with no outcome chosen: the
/// coordinator says whether the agreement was kept.
#[tokio::test]
async fn a_weekly_check_has_no_preselected_outcome() {
    let app = crate::common::spawn_app().await;
    let id = app.own_student.clone();
    crate::common::open_case(&app, &id, "4b", &[]).await;
    let c = app.login("coordinator").await;
    let base = format!("/leerlingen/{id}/dossier/afspraken");
    app.post_ok(
        &c,
        &base,
        &[
            ("wie", "ouders"),
            ("wat", "Ziekmelding voor 8 uur"),
            ("tot", ""),
        ],
    )
    .await;
    let (status, html) = app.get(&c, &base).await;
    assert_eq!(status, reqwest::StatusCode::OK);
    let at = html
        .find("name=\"gehouden\"")
        .unwrap_or_else(|| panic!("a weekly check form: {html}"));
    let fieldset = &html[at..at + html[at..].find("</fieldset>").unwrap()];
    assert!(!fieldset.contains("checked"), "{fieldset}");
}

/// The verslag carries the attendance figures and the DUO meldingen with
/// their status (issue 11): a 16-hour student with a concept melding.
#[tokio::test]
async fn the_report_shows_attendance_figures_and_melding_status() {
    let app = spawn_app().await;
    let s = crate::common::sixteen_hours(&app).await;
    open_case(&app, &s, "4b", &[]).await;
    let c = app.login("coordinator").await;
    let at = app
        .post_ok(
            &c,
            "/meldingen/nieuw",
            &[
                ("leerling", s.as_str()),
                ("regel", "duo_16h"),
                ("datum", "2025-11-12"),
            ],
        )
        .await;
    assert!(at.starts_with("/meldingen/"), "{at}");
    let (status, page) = app
        .get(&c, &format!("/leerlingen/{s}/dossier/verslag"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let figures = page
        .split("<h2 id=\"verslag-aanwezigheid\">")
        .nth(1)
        .and_then(|p| p.split("</section>").next())
        .unwrap_or_else(|| panic!("no attendance section:\n{page}"));
    assert!(figures.contains("Aanwezig dit schooljaar"), "{figures}");
    assert!(figures.contains('%'), "{figures}");
    assert!(
        figures.contains("uur in de laatste 4 lesweken (de grens voor een DUO-melding is 16 uur)"),
        "{figures}"
    );
    let duo = page
        .split("<h2 id=\"verslag-meldingen\">")
        .nth(1)
        .and_then(|p| p.split("</section>").next())
        .unwrap_or_else(|| panic!("no meldingen section:\n{page}"));
    assert!(duo.contains("concept"), "{duo}");
    assert!(duo.contains("nog niet ingevuld"), "{duo}");

    // The mentor's verslag has the figures but no DUO meldingen (not in
    // the mentor's menu either).
    let mentor = app.login("mentor").await;
    let own = app.own_student.clone();
    open_case(&app, &own, "3b", &[]).await;
    let (status, page) = app
        .get(&mentor, &format!("/leerlingen/{own}/dossier/verslag"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Aanwezig dit schooljaar"), "{page}");
    assert!(!page.contains("verslag-meldingen"), "{page}");
}

/// A refused contact form opens with an error summary (GOV.UK pattern)
/// above the form: every message links to its field, and the fields
/// linked to exist.
#[tokio::test]
async fn a_refused_contact_form_sums_up_its_errors_with_links_to_the_fields() {
    let app = spawn_app().await;
    let own = app.own_student.clone();
    open_case(&app, &own, "3b", &[]).await;
    let mentor = app.login("mentor").await;
    let (status, _, body) = app
        .submit(
            &mentor,
            &format!("/leerlingen/{own}/dossier/contact/nieuw?leidraad=C"),
            &[
                ("leidraad", "C"),
                ("datum", ""),
                ("minuten", "lang"),
                ("afspraak1_wie", "leerling"),
                ("afspraak1_tot", "2025-11-01"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let summary_at = body
        .find("<div class=\"error-summary\" role=\"alert\"")
        .unwrap_or_else(|| panic!("no error summary:\n{body}"));
    assert!(
        summary_at < body.find("class=\"stacked contact-form\"").unwrap(),
        "the summary stands above the form"
    );
    let summary = &body[summary_at..summary_at + body[summary_at..].find("</div>").unwrap()];
    for (target, text) in [
        ("c-datum", "Vul een geldige datum in."),
        ("c-soort", "Kies hoe het contact plaatsvond."),
        ("c-minuten", "Vul de duur in"),
        ("c-deelnemer", "Kies wie er aan het contact deelnamen."),
        ("a1-wat", "Afspraak 1:"),
    ] {
        assert!(
            summary.contains(&format!("<a href=\"#{target}\">{text}")),
            "{target}: {summary}"
        );
        assert!(
            body.contains(&format!("id=\"{target}\"")),
            "field {target} exists"
        );
    }
}
