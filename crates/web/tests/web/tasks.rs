//! Mijn taken and its iCalendar feed: the tasks each role gets from cases,
//! step 2 and DUO signals, and the secret feed address.

use aanwezig_domain::case::{
    Actor, Agreement, AgreementParty, ContactKind, ContactMoment, OpenReason, Party, WeeklyCheck,
};
use aanwezig_domain::{Case, CaseStep, MeldingDraft, MeldingStatus, Role, RuleId, StudentId};
use aanwezig_storage::{AuditFilter, User};
use chrono::NaiveDate;
use reqwest::{Client, StatusCode};

use crate::common::{
    now, open_case, open_case_on, spawn_app, start_intervention, today, ymd, TestApp, NO_FIELDS,
    PASSWORD,
};

fn sid(id: &str) -> StudentId {
    StudentId::parse(id).unwrap()
}

pub(crate) fn name_of(app: &TestApp, id: &str) -> String {
    let live = app.state.read().unwrap();
    let i = live.position(id).unwrap();
    live.school.students()[i].name.clone()
}

fn class_of(app: &TestApp, id: &str) -> String {
    let live = app.state.read().unwrap();
    let i = live.position(id).unwrap();
    live.school.students()[i].class.clone()
}

/// The part of a page from heading `id` to the next section.
fn section<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("<h2 id=\"{id}\""))
        .unwrap_or_else(|| panic!("no section {id}"));
    let rest = &html[start..];
    let end = rest.find("</section>").unwrap_or(rest.len());
    &rest[..end]
}

/// The table row of a page that mentions both `a` and `b`.
pub(crate) fn row_with<'a>(html: &'a str, a: &str, b: &str) -> Option<&'a str> {
    html.split("<tr")
        .map(|r| r.split("</tr>").next().unwrap_or(r))
        .find(|r| r.contains(a) && r.contains(b))
}

/// A second mentor, of `class`.
async fn add_mentor(app: &TestApp, username: &str, class: &str) {
    let hash = aanwezig_auth::hash_password(PASSWORD).unwrap();
    app.store
        .create_user(&User {
            username: username.into(),
            display_name: format!("Test {username}"),
            role: Role::Mentor,
            classes: vec![class.to_owned()],
            email: None,
            active: true,
            password_hash: hash,
            created_at: now(),
            account_id: String::new(),
        })
        .await
        .unwrap();
}

/// Opens a case for `id` on `step` (owner: the coordinator) with an
/// intervention that started on `started`.
async fn case_with_intervention(
    app: &TestApp,
    id: &str,
    step: &str,
    partners: &[&str],
    started: NaiveDate,
) {
    open_case_on(app, id, step, partners, started).await;
    start_intervention(app, id, "afspraken over op tijd komen", started).await;
}

/// A student of `class` without a `contact` or DUO signal yet and without
/// registrations on the last three school days.
pub(crate) fn quiet_student(app: &TestApp, class: &str) -> String {
    let live = app.state.read().unwrap();
    live.school
        .students()
        .iter()
        .zip(&live.evaluations)
        .find(|(s, ev)| {
            s.class == class
                && !ev
                    .signals
                    .iter()
                    .any(|sig| sig.rule == RuleId::Contact || sig.rule.is_duo())
        })
        .map(|(s, _)| s.id.to_string())
        .expect("a student without a contact or DUO signal")
}

/// Registers every lesson of `days` as absent without a report (code A),
/// through the API as the coordinator.
pub(crate) async fn absent_whole_days(app: &TestApp, id: &str, days: &[NaiveDate]) {
    let c = app.login("coordinator").await;
    let csrf = app.csrf(&c).await;
    for day in days {
        // Each change names the revision it was made from (0: not registered).
        let regs: serde_json::Value = c
            .get(app.url(&format!(
                "/api/leerlingen/{id}/registraties?van={day}&tot={day}"
            )))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for lesson in 1..=7 {
            let revision = regs
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["lesson"] == lesson)
                .map_or(0, |r| r["revision"].as_u64().unwrap());
            let r = c
                .put(app.url(&format!("/api/leerlingen/{id}/registraties/{day}/{lesson}")))
                .header("x-csrf-token", &csrf)
                .json(&serde_json::json!({"code": "A", "revision": revision}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{day} lesuur {lesson}");
        }
    }
}

#[tokio::test]
async fn overdue_evaluation_for_owner_and_class_mentor_only() {
    let app = spawn_app().await;
    let own = app.own_student.clone();
    let name = name_of(&app, &own);
    let other_class = class_of(&app, &app.other_student);
    add_mentor(&app, "mentor2", &other_class).await;
    // Started on Monday 29 September: six weeks later is Monday 10
    // November, before today (Friday 14 November).
    case_with_intervention(&app, &own, "3b", &[], ymd(2025, 9, 29)).await;

    for user in ["coordinator", "mentor"] {
        let c = app.login(user).await;
        let (status, html) = app.get(&c, "/taken").await;
        assert_eq!(status, StatusCode::OK, "{user}");
        let late = section(&html, "te-laat");
        let row = row_with(late, "Evaluatie van de interventie", &name)
            .unwrap_or_else(|| panic!("{user}: no overdue evaluation in {late}"));
        assert!(row.contains("maandag 10 november 2025"), "{user}: {row}");
        assert!(row.contains("verstreken"), "{user}: {row}");
        assert!(
            row.contains(&format!("/leerlingen/{own}/dossier/interventie/1\"")),
            "{user}: {row}"
        );
        // At step 3b there is no weekly agreement check.
        assert!(!html.contains("Wekelijks nagaan"), "{user}");
    }
    // Another class's mentor, and the other coordinator (the owner is an
    // active user), do not get it.
    for user in ["mentor2", "zorg"] {
        let c = app.login(user).await;
        let (status, html) = app.get(&c, "/taken").await;
        assert_eq!(status, StatusCode::OK, "{user}");
        assert!(!html.contains("Evaluatie van de interventie"), "{user}");
        assert!(!html.contains(&name), "{user} sees {name}");
    }

    // Once the owner is no active user, the coordinators take it over.
    let mut case = app.store.case(&sid(&own)).await.unwrap().unwrap();
    case.owner = Some("vertrokken".into());
    app.store
        .save_case(&case, "coordinator", now())
        .await
        .unwrap();
    let c = app.login("zorg").await;
    let (_, html) = app.get(&c, "/taken").await;
    assert!(
        row_with(
            section(&html, "te-laat"),
            "Evaluatie van de interventie",
            &name
        )
        .is_some(),
        "zorg takes over a case without an active owner"
    );

    // Evaluated: the next one is six weeks on, no longer overdue.
    case.evaluate(
        0,
        aanwezig_domain::case::Evaluation {
            on: today(),
            by: Actor::new("coordinator", Role::Verzuimcoordinator),
            note: "gaat beter".into(),
            before: None,
            since: None,
        },
    )
    .unwrap();
    app.store
        .save_case(&case, "coordinator", now())
        .await
        .unwrap();
    let c = app.login("mentor").await;
    let (_, html) = app.get(&c, "/taken").await;
    assert!(!section(&html, "te-laat").contains("Evaluatie van de interventie"));
    let later = section(&html, "later");
    let row = row_with(later, "Evaluatie van de interventie", &name).expect("next evaluation");
    assert!(row.contains("vrijdag 19 december 2025"), "{row}");
}

#[tokio::test]
async fn weekly_agreement_check_from_step_4() {
    let app = spawn_app().await;
    let own = app.own_student.clone();
    let name = name_of(&app, &own);
    // Started Monday 3 November: the check was due Monday 10 November.
    case_with_intervention(&app, &own, "4b", &["jeugdarts"], ymd(2025, 11, 3)).await;

    let c = app.login("mentor").await;
    let (_, html) = app.get(&c, "/taken").await;
    let row = row_with(section(&html, "te-laat"), "Wekelijks nagaan", &name)
        .expect("an overdue weekly check");
    assert!(row.contains("maandag 10 november 2025"), "{row}");
    assert!(
        row.contains(&format!("/leerlingen/{own}/dossier/afspraken")),
        "{row}"
    );
    assert!(row.contains("Naar de taak"), "{row}");

    // The jeugdarts, brought in, sees it read only; the ketenpartner, not
    // brought in, does not.
    let c = app.login("jeugdarts").await;
    let (status, html) = app.get(&c, "/taken").await;
    assert_eq!(status, StatusCode::OK);
    let row = row_with(&html, "Wekelijks nagaan", &name).expect("jeugdarts sees the check");
    assert!(row.contains(">Bekijken<"), "{row}");
    assert!(!row.contains("Naar de taak"), "{row}");
    let c = app.login("keten").await;
    let (status, html) = app.get(&c, "/taken").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains(&name), "keten is not on the case");
    assert!(!html.contains("Wekelijks nagaan"));
}

#[tokio::test]
async fn agreement_check_at_step_4_without_an_intervention() {
    let app = spawn_app().await;
    let own = app.own_student.clone();
    let name = name_of(&app, &own);
    // Opened on step 4b on Monday 3 November with an agreement and no
    // intervention: the weekly check was due Monday 10 November.
    let by = Actor::new("coordinator", Role::Verzuimcoordinator);
    let mut case = Case::open(
        sid(&own),
        ymd(2025, 11, 3),
        by,
        OpenReason::Zorgen {
            note: "zorgen over de aanwezigheid".into(),
        },
        CaseStep::S4b,
    )
    .unwrap();
    case.add_agreement(Agreement {
        who: AgreementParty::Student,
        what: "elke ochtend om half negen melden bij de balie".into(),
        made_on: ymd(2025, 11, 3),
        by_when: None,
        contact: None,
        kept: Vec::new(),
    })
    .unwrap();
    app.store
        .save_case(&case, "coordinator", now())
        .await
        .unwrap();

    let c = app.login("mentor").await;
    let (_, html) = app.get(&c, "/taken").await;
    let row = row_with(section(&html, "te-laat"), "Wekelijks nagaan", &name)
        .unwrap_or_else(|| panic!("no overdue agreement check in {html}"));
    assert!(row.contains("maandag 10 november 2025"), "{row}");
    assert!(
        row.contains(&format!("/leerlingen/{own}/dossier/afspraken")),
        "{row}"
    );
    assert!(
        !row.contains("half negen"),
        "the page names no agreement: {row}"
    );
    assert_eq!(
        html.matches("Wekelijks nagaan").count(),
        1,
        "one check for the case"
    );

    // The feed: the general label, no name, no agreement.
    let url = create_feed(&app, &c).await;
    let (status, _, ics) = fetch(&url).await;
    assert_eq!(status, StatusCode::OK);
    let unfolded = ics.replace("\r\n ", "");
    assert!(
        unfolded.contains(&format!("UID:afspraken-{own}-20251110-dossier@aanwezig")),
        "{unfolded}"
    );
    assert!(
        unfolded.contains("SUMMARY:Afspraken nagaan (wekelijks) – leerling"),
        "{unfolded}"
    );
    assert!(!unfolded.contains(&name), "the feed names no student");
    assert!(!unfolded.contains("half negen"), "no agreement text");
    assert!(!unfolded.contains("balie"), "no agreement text");

    // Checked today: the next check is a week on, no longer overdue.
    case.check_agreement(
        0,
        WeeklyCheck {
            on: today(),
            kept: true,
            note: String::new(),
        },
    )
    .unwrap();
    app.store
        .save_case(&case, "coordinator", now())
        .await
        .unwrap();
    let (_, html) = app.get(&c, "/taken").await;
    assert!(!section(&html, "te-laat").contains("Wekelijks nagaan"));
    let row = row_with(section(&html, "later"), "Wekelijks nagaan", &name).expect("next check");
    assert!(row.contains("vrijdag 21 november 2025"), "{row}");

    // An intervention starts: its own weekly check takes over, still one.
    start_intervention(&app, &own, "afspraken over op tijd komen", today()).await;
    let (_, html) = app.get(&c, "/taken").await;
    assert_eq!(html.matches("Wekelijks nagaan").count(), 1, "{html}");
    let row = row_with(&html, "Wekelijks nagaan", &name).expect("the intervention's check");
    assert!(row.contains("op tijd komen"), "{row}");

    // At step 3 there is no weekly check at all.
    let mut early = Case::open(
        sid(&app.other_student),
        ymd(2025, 11, 3),
        Actor::new("coordinator", Role::Verzuimcoordinator),
        OpenReason::Zorgen {
            note: "zorgen".into(),
        },
        CaseStep::S3b,
    )
    .unwrap();
    early
        .add_agreement(Agreement {
            who: AgreementParty::Parents,
            what: "ziekmelden voor half negen".into(),
            made_on: ymd(2025, 11, 3),
            by_when: None,
            contact: None,
            kept: Vec::new(),
        })
        .unwrap();
    app.store
        .save_case(&early, "coordinator", now())
        .await
        .unwrap();
    let z = app.login("coordinator").await;
    let (_, html) = app.get(&z, "/taken").await;
    let other = name_of(&app, &app.other_student);
    assert!(
        row_with(&html, "Wekelijks nagaan", &other).is_none(),
        "not at 3b"
    );
}

#[tokio::test]
async fn one_call_per_absence_from_signal_and_case() {
    let app = spawn_app().await;
    let id = quiet_student(&app, &app.mentor_class);
    let name = name_of(&app, &id);
    // Absent all of Thursday and Friday: one absence, its signal fired on
    // Thursday and is still open.
    absent_whole_days(&app, &id, &[ymd(2025, 11, 13), today()]).await;
    let c = app.login("mentor").await;
    let (_, html) = app.get(&c, "/taken").await;
    assert_eq!(call_rows(&html, &name), 1, "{html}");

    // A case that links the absence on its second day has its own call
    // task: still one call, the case's, to its contact form.
    let mut case = Case::open(
        sid(&id),
        today(),
        Actor::new("mentor", Role::Mentor),
        OpenReason::Zorgen {
            note: "zorgen over de aanwezigheid".into(),
        },
        CaseStep::S3b,
    )
    .unwrap();
    case.link_signal(RuleId::Contact, today()).unwrap();
    app.store.save_case(&case, "mentor", now()).await.unwrap();
    let (_, html) = app.get(&c, "/taken").await;
    assert_eq!(call_rows(&html, &name), 1, "{html}");
    let row = row_with(&html, "Bellen", &name).unwrap();
    assert!(
        row.contains(&format!(
            "/leerlingen/{id}/dossier/contact/nieuw?leidraad=A"
        )),
        "the case's own call task leads to the case: {row}"
    );

    // Linked on the day the signal fired as well: still one.
    case.link_signal(RuleId::Contact, ymd(2025, 11, 13))
        .unwrap();
    app.store.save_case(&case, "mentor", now()).await.unwrap();
    let (_, html) = app.get(&c, "/taken").await;
    assert_eq!(call_rows(&html, &name), 1, "{html}");
    // And in the feed.
    let url = create_feed(&app, &c).await;
    let (_, _, ics) = fetch(&url).await;
    let calls = ics
        .split("BEGIN:VEVENT")
        .filter(|e| e.contains("Bellen (stap 2)") && e.contains(&format!("leerling {id}")))
        .count();
    assert_eq!(calls, 1, "{ics}");
}

/// The call rows of a student on a page.
fn call_rows(html: &str, name: &str) -> usize {
    html.split("<tr")
        .filter(|r| r.contains("Bellen") && r.contains(name))
        .count()
}

#[tokio::test]
async fn mentor_calls_after_a_whole_day_absent() {
    let app = spawn_app().await;
    let id = quiet_student(&app, &app.mentor_class);
    let name = name_of(&app, &id);
    absent_whole_days(&app, &id, &[today()]).await;

    let c = app.login("mentor").await;
    let (_, html) = app.get(&c, "/taken").await;
    // Absent on Friday: call on the next school day, Monday 17 November.
    let row = row_with(&html, "Bellen: hele dag afwezig sinds", &name)
        .unwrap_or_else(|| panic!("no call task for {name} in {html}"));
    assert!(row.contains("vrijdag 14 november 2025"), "{row}");
    assert!(row.contains("maandag 17 november 2025"), "{row}");
    assert!(
        row.contains(&format!(
            "href=\"/leerlingen/{id}/gebeld?sinds=2025-11-14&#38;terug=taken\""
        )),
        "the task opens the call form, no dossier needed: {row}"
    );
    assert!(section(&html, "deze-week").contains(&name));

    // Step 2 is the mentor's: the coordinator gets no call.
    let coord = app.login("coordinator").await;
    let (_, html) = app.get(&coord, "/taken").await;
    assert!(row_with(&html, "Bellen: hele dag afwezig sinds", &name).is_none());

    // A contact moment in the case since the absence: done.
    open_case(&app, &id, "3b", &[]).await;
    let (_, html) = app.get(&c, "/taken").await;
    let row = row_with(&html, "Bellen: hele dag afwezig sinds", &name).expect("still due");
    assert!(
        row.contains(&format!("/leerlingen/{id}/gebeld?sinds=2025-11-14")),
        "with a case too, the call is recorded on its own: {row}"
    );
    let mut case = app.store.case(&sid(&id)).await.unwrap().unwrap();
    case.add_contact(ContactMoment {
        on: today(),
        kind: ContactKind::Telefoon,
        minutes: None,
        participants: vec![Party::Ouders],
        by: Actor::new("mentor", Role::Mentor),
        guide: None,
        answers: Vec::new(),
        note: String::new(),
    })
    .unwrap();
    app.store.save_case(&case, "mentor", now()).await.unwrap();
    let (_, html) = app.get(&c, "/taken").await;
    assert!(
        row_with(&html, "Bellen: hele dag afwezig sinds", &name).is_none(),
        "called: no task"
    );
}

#[tokio::test]
async fn coordinator_has_one_duo_task_per_student_until_the_meldingen_are_registered() {
    let app = spawn_app().await;
    let id = quiet_student(&app, &app.mentor_class);
    let name = name_of(&app, &id);
    // Three whole school days without a report: more than 16 hours.
    absent_whole_days(&app, &id, &[ymd(2025, 11, 12), ymd(2025, 11, 13), today()]).await;
    let (signal, earliest) = {
        let live = app.state.read().unwrap();
        let i = live.position(&id).unwrap();
        let duo: Vec<_> = live.evaluations[i]
            .signals
            .iter()
            .filter(|s| s.rule.is_duo())
            .cloned()
            .collect();
        let earliest = duo.iter().filter_map(|s| s.deadline).min().unwrap();
        (duo[0].clone(), earliest)
    };
    let deadline_nl = aanwezig_domain::explain::date_nl(earliest);
    let signals = live_duo_signals(&app, &id);
    assert!(signals >= 1);
    let te_doen = |n: usize| {
        if n == 1 {
            "1 melding te doen".to_owned()
        } else {
            format!("{n} meldingen te doen")
        }
    };

    for user in ["coordinator", "zorg"] {
        let c = app.login(user).await;
        let (_, html) = app.get(&c, "/taken").await;
        assert_eq!(
            duo_rows(&html, &name),
            1,
            "{user}: one DUO task per student"
        );
        let row = row_with(&html, "DUO-werk", &name)
            .unwrap_or_else(|| panic!("{user}: no DUO task for {name}"));
        assert!(row.contains(&deadline_nl), "{user}: {row}");
        assert!(row.contains(&te_doen(signals)), "{user}: {row}");
        assert!(
            row.contains(&format!("href=\"/meldingen#leerling-{id}\"")),
            "{user}: {row}"
        );
    }
    let mentor = app.login("mentor").await;
    let (_, html) = app.get(&mentor, "/taken").await;
    assert!(!html.contains("DUO-werk"), "the mentor does no DUO melding");

    // A concept melding: it takes the signal's place in the count; still
    // one task.
    let mut draft = {
        let live = app.state.read().unwrap();
        let i = live.position(&id).unwrap();
        MeldingDraft::from_signal(
            &signal,
            live.school.registrations(i),
            live.cal.as_ref().unwrap(),
            &live.policy,
            &live.school.students()[i],
            today(),
        )
        .unwrap()
    };
    let n = app
        .store
        .save_melding(None, &draft, "coordinator", now())
        .await
        .unwrap();
    let c = app.login("coordinator").await;
    let (_, html) = app.get(&c, "/taken").await;
    assert_eq!(duo_rows(&html, &name), 1);
    let row = row_with(&html, "DUO-werk", &name).unwrap();
    assert!(row.contains(&te_doen(signals)), "{row}");

    // Registered: one piece of work less.
    draft.status = MeldingStatus::Geregistreerd;
    draft.registered_on = Some(today());
    app.store
        .save_melding(Some(n), &draft, "coordinator", now())
        .await
        .unwrap();
    let (_, html) = app.get(&c, "/taken").await;
    if signals == 1 {
        assert_eq!(duo_rows(&html, &name), 0, "nothing left to do");
    } else {
        let row = row_with(&html, "DUO-werk", &name).unwrap();
        assert!(row.contains(&te_doen(signals - 1)), "{row}");
        assert!(!row.contains(&format!("concept nr. {n}")), "{row}");
    }
}

/// The DUO task rows of a student on a page.
fn duo_rows(html: &str, name: &str) -> usize {
    html.split("<tr")
        .filter(|r| r.contains("DUO-werk") && r.contains(name))
        .count()
}

fn live_duo_signals(app: &TestApp, id: &str) -> usize {
    let live = app.state.read().unwrap();
    let i = live.position(id).unwrap();
    live.evaluations[i]
        .signals
        .iter()
        .filter(|s| s.rule.is_duo())
        .count()
}

/// Creates the feed address of a signed-in client; returns the URL shown.
async fn create_feed(app: &TestApp, c: &Client) -> String {
    let r = app.post_form(c, "/taken/agenda", NO_FIELDS).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-store", "shown once");
    let html = r.text().await.unwrap();
    let start = html
        .find(&format!("http://{}/agenda/", app.addr))
        .unwrap_or_else(|| panic!("no feed URL in {html}"));
    let rest = &html[start..];
    rest[..rest.find('<').unwrap()].to_owned()
}

async fn fetch(url: &str) -> (StatusCode, String, String) {
    let r = reqwest::get(url).await.unwrap();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (r.status(), ct, r.text().await.unwrap())
}

#[tokio::test]
async fn feed_without_session_renew_revoke_and_inactive_user() {
    let app = spawn_app().await;
    let own = app.own_student.clone();
    let name = name_of(&app, &own);
    let class = class_of(&app, &own);
    case_with_intervention(&app, &own, "4b", &[], ymd(2025, 9, 29)).await;
    let c = app.login("mentor").await;
    let url = create_feed(&app, &c).await;
    assert!(url.ends_with(".ics"), "{url}");

    // Works without a session.
    let (status, ct, ics) = fetch(&url).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ct, "text/calendar; charset=utf-8");
    assert!(ics.starts_with("BEGIN:VCALENDAR\r\n"), "{ics}");
    assert!(ics.contains("BEGIN:VEVENT"));
    // The evaluation was due Monday 10 November.
    assert!(
        ics.contains(&format!("UID:evaluatie-{own}-20251110-0@aanwezig")),
        "{ics}"
    );
    assert!(ics.contains("DTSTART;VALUE=DATE:20251110"), "{ics}");
    assert!(ics.contains("DTEND;VALUE=DATE:20251111"), "{ics}");
    assert!(
        ics.contains(&format!("leerling {own}\\, klas {class}")),
        "{ics}"
    );
    assert!(
        ics.contains(&format!(
            "URL:http://{}/leerlingen/{own}/dossier/interventie/1\r\n",
            app.addr
        )),
        "{ics}"
    );
    // Privacy: no name, nothing of the case's content.
    let unfolded = ics.replace("\r\n ", "");
    assert!(!unfolded.contains(&name), "the feed names no student");
    assert!(!unfolded.contains("op tijd komen"), "no intervention text");
    assert!(
        ics.lines().all(|l| l.trim_end_matches('\r').len() <= 75),
        "lines are folded"
    );
    // The fetch is audited, without a student.
    let log = app
        .store
        .audit_log(&AuditFilter {
            student: None,
            username: Some("mentor".into()),
            limit: 1000,
        })
        .await
        .unwrap();
    assert!(log
        .iter()
        .any(|e| e.detail == "agenda-feed" && e.student.is_none()));

    // Renewed: the old address answers like an unknown one.
    let url2 = create_feed(&app, &c).await;
    assert_ne!(url, url2);
    let (old, _, old_body) = fetch(&url).await;
    assert_eq!(old, StatusCode::NOT_FOUND);
    let unknown = format!("http://{}/agenda/{}.ics", app.addr, "0".repeat(64));
    let (s, _, unknown_body) = fetch(&unknown).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(old_body, unknown_body);
    assert_eq!(fetch(&url2).await.0, StatusCode::OK);
    // Addresses that are no token at all answer the same Dutch page, also
    // when they do not decode to text.
    assert!(unknown_body.contains("Niet gevonden"), "{unknown_body}");
    for odd in [
        "%FF%FE.ics".to_owned(),
        "%C3%28.ics".to_owned(),
        "onbekend".to_owned(),
        format!("{}.ics", "A".repeat(64)),
        format!("{}.ics", "0".repeat(5000)),
        "..%2F..%2Fetc%2Fpasswd".to_owned(),
        "%00.ics".to_owned(),
    ] {
        let (s, _, body) = fetch(&format!("http://{}/agenda/{odd}", app.addr)).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{odd}");
        assert_eq!(body, unknown_body, "{odd}");
    }

    // Revoked.
    app.post_ok(&c, "/taken/agenda/intrekken", NO_FIELDS).await;
    assert_eq!(fetch(&url2).await.0, StatusCode::NOT_FOUND);

    // An inactive user's feed stops working.
    let z = app.login("zorg").await;
    let zurl = create_feed(&app, &z).await;
    assert_eq!(fetch(&zurl).await.0, StatusCode::OK);
    let mut user = app.store.user("zorg").await.unwrap().unwrap();
    user.active = false;
    app.store.update_user(&user).await.unwrap();
    assert_eq!(fetch(&zurl).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn beheerder_has_no_tasks() {
    let app = spawn_app().await;
    let c = app.login("beheer").await;
    let (status, _) = app.get(&c, "/taken").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let r = app.post_form(&c, "/taken/agenda", NO_FIELDS).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

/// POSTs `/taken/agenda` with a forged `Host`; returns the page.
async fn create_feed_as_host(app: &TestApp, c: &Client, host: &str) -> String {
    let csrf = app.csrf(c).await;
    let r = c
        .post(app.url("/taken/agenda"))
        .header("host", host)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.text().await.unwrap()
}

/// The feed path (`/agenda/….ics`) shown on a feed page.
fn feed_path(html: &str) -> String {
    let start = html.find("/agenda/").unwrap_or_else(|| panic!("{html}"));
    let rest = &html[start..];
    rest[..rest.find(".ics").unwrap() + 4].to_owned()
}

async fn fetch_as_host(app: &TestApp, path: &str, host: &str) -> String {
    let r = app
        .client()
        .get(app.url(path))
        .header("host", host)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.text().await.unwrap()
}

#[tokio::test]
async fn a_forged_host_never_reaches_the_feed_address() {
    let app = spawn_app().await;
    let own = app.own_student.clone();
    case_with_intervention(&app, &own, "4b", &[], ymd(2025, 9, 29)).await;
    let c = app.login("mentor").await;
    for host in [
        "evil.example",
        "evil.example:80",
        &format!("evil.example:{}", app.addr.port()),
    ] {
        let html = create_feed_as_host(&app, &c, host).await;
        assert!(!html.contains("evil.example"), "{html}");
        // Only the path, with a note how to complete it.
        assert!(html.contains("<code>/agenda/"), "{html}");
        assert!(html.contains("Dit adres is nog niet compleet"), "{html}");
        let ics = fetch_as_host(&app, &feed_path(&html), host).await;
        assert!(!ics.contains("evil"), "{ics}");
        assert!(ics.contains("BEGIN:VEVENT"), "{ics}");
        assert!(
            !ics.contains("\r\nURL:"),
            "no link without a known address: {ics}"
        );
    }
}

#[tokio::test]
async fn the_public_url_builds_the_feed_address() {
    let app = crate::common::spawn_app_with(aanwezig_web::Config {
        public_url: Some("https://aanwezig.school.example".parse().unwrap()),
        ..aanwezig_web::Config::default()
    })
    .await;
    let own = app.own_student.clone();
    case_with_intervention(&app, &own, "4b", &[], ymd(2025, 9, 29)).await;
    let c = app.login("mentor").await;
    let html = create_feed_as_host(&app, &c, "evil.example").await;
    assert!(!html.contains("evil.example"), "{html}");
    assert!(
        html.contains("<code>https://aanwezig.school.example/agenda/"),
        "{html}"
    );
    assert!(!html.contains("Dit adres is nog niet compleet"), "{html}");
    let ics = fetch_as_host(&app, &feed_path(&html), "evil.example").await;
    assert!(
        ics.contains(&format!(
            "URL:https://aanwezig.school.example/leerlingen/{own}/dossier/interventie/1\r\n"
        )),
        "{ics}"
    );
    assert!(!ics.contains("evil"), "{ics}");
}
